//! How console pages and their errors reach the browser: compiled askama templates (escaped
//! by construction) with a strict content security policy — no scripts at all, styles from
//! our own stylesheet only.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError, get};
use askama::Template;

use super::session::ConsoleUser;
use crate::error::{ApiError, ErrorCode};
use crate::html::see_other;

pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
                       base-uri 'none'; frame-ancestors 'none'";

const STYLESHEET: &str = include_str!("../../templates/console/console.css");

/// What every signed-in page shows around its content: who is signed in, the navigation,
/// and the CSRF token for the sign-out form.
pub struct Chrome {
    pub user_name: String,
    pub role_label: &'static str,
    pub csrf: String,
    /// Which navigation entry is current: `roster`, `requests`, `items`, `reports` or `calendar`.
    pub section: &'static str,
    /// The committee office (admins): it also keeps the holiday calendar.
    pub office: bool,
    /// (year, message) for each year whose holiday calendar the office must still enter.
    pub calendar_notices: Vec<(i32, String)>,
}

impl Chrome {
    pub fn new(user: &ConsoleUser, section: &'static str) -> Self {
        Self {
            user_name: user.name.clone(),
            role_label: if user.is_admin() { "政协办公室" } else { "联络员" },
            csrf: user.csrf.clone(),
            section,
            office: user.is_admin(),
            calendar_notices: user
                .calendar_missing
                .iter()
                .map(|y| (*y, crate::calendar::attention::message_zh(*y)))
                .collect(),
        }
    }
}

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

fn with_headers(status: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut builder = crate::html::page(status, CSP);
    builder
        .insert_header((header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")));
    builder
}

/// A rendered page with the console's headers.
pub fn page(template: &impl Template) -> Result<HttpResponse, ConsoleError> {
    let body = template.render().map_err(ApiError::unexpected)?;
    Ok(with_headers(StatusCode::OK).body(body))
}

/// A page answered with a status other than 200 (a sign-in form shown again, say).
pub fn page_with(status: StatusCode, template: &impl Template) -> Result<HttpResponse, ConsoleError> {
    let body = template.render().map_err(ApiError::unexpected)?;
    Ok(with_headers(status).body(body))
}

#[get("/console/static/console.css")]
async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(STYLESHEET)
}
