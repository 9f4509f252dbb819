//! A console request that did not produce its page: to sign-in, or an error page with the
//! stable code, under the console's headers.

use crate::error::{ApiError, ErrorCode};
use crate::html::see_other;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::headers::with_headers;

/// A console request that did not produce its page.
#[derive(Debug)]
pub enum ConsoleError {
    /// No valid session: to the sign-in page.
    SignIn,
    Api(ApiError),
}

impl From<ApiError> for ConsoleError {
    fn from(e: ApiError) -> Self {
        ConsoleError::Api(e)
    }
}

impl From<ErrorCode> for ConsoleError {
    fn from(code: ErrorCode) -> Self {
        ConsoleError::Api(code.into())
    }
}

impl std::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConsoleError::SignIn => f.write_str("sign-in required"),
            ConsoleError::Api(e) => e.fmt(f),
        }
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    status: u16,
    message: &'static str,
    detail: Option<String>,
    code: &'static str,
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn => StatusCode::SEE_OTHER,
            ConsoleError::Api(e) => e.code.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ConsoleError::SignIn => see_other("/console/login"),
            ConsoleError::Api(e) => {
                e.log_cause();
                let status = e.code.status();
                // Details of 500s stay in the log; the others are safe, written for the user.
                let detail = if status.is_server_error() {
                    None
                } else {
                    e.detail.clone().or_else(|| e.errors.first().map(|f| format!("{}：{}", f.field, f.message)))
                };
                let page =
                    ErrorPage { status: status.as_u16(), message: e.code.message_zh(), detail, code: e.code.as_str() };
                match page.render() {
                    Ok(body) => with_headers(status).body(body),
                    Err(_) => HttpResponse::build(status).finish(),
                }
            }
        }
    }
}
