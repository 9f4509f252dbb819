//! A member page request that did not produce its page: to sign-in (and back), or an error
//! page with the stable code, under the pages' headers.

use crate::error::{ApiError, ErrorCode};
use crate::html::see_other;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::headers::{CSP, with_headers};

/// A member page request that did not produce its page.
#[derive(Debug)]
pub enum MemberError {
    /// No valid session: to the sign-in page, then back to `next`.
    SignIn {
        next: String,
    },
    Api(ApiError),
}

impl From<ApiError> for MemberError {
    fn from(e: ApiError) -> Self {
        MemberError::Api(e)
    }
}

impl From<ErrorCode> for MemberError {
    fn from(code: ErrorCode) -> Self {
        MemberError::Api(code.into())
    }
}

impl std::fmt::Display for MemberError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MemberError::SignIn { .. } => f.write_str("sign-in required"),
            MemberError::Api(e) => e.fmt(f),
        }
    }
}

#[derive(Template)]
#[template(path = "member_pages/error.html")]
struct ErrorPage {
    message: &'static str,
    detail: Option<String>,
    code: &'static str,
}

/// `next` as a query value (only `/m…` paths get here: letters, digits and a few marks).
fn encode_next(next: &str) -> String {
    let mut out = String::with_capacity(next.len());
    for b in next.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl ResponseError for MemberError {
    fn status_code(&self) -> StatusCode {
        match self {
            MemberError::SignIn { .. } => StatusCode::SEE_OTHER,
            MemberError::Api(e) => e.code.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            MemberError::SignIn { next } if next == "/m" => see_other("/m/login"),
            MemberError::SignIn { next } => see_other(format!("/m/login?next={}", encode_next(next))),
            MemberError::Api(e) => {
                e.log_cause();
                let status = e.code.status();
                // Details of 500s stay in the log; the others are written for the member.
                let detail = if status.is_server_error() {
                    None
                } else {
                    e.detail.clone().or_else(|| e.errors.first().map(|f| format!("{}：{}", f.field, f.message)))
                };
                let page = ErrorPage { message: e.code.message_zh(), detail, code: e.code.as_str() };
                match page.render() {
                    Ok(body) => with_headers(status, CSP).body(body),
                    Err(_) => HttpResponse::build(status).finish(),
                }
            }
        }
    }
}
