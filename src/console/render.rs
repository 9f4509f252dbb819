//! How console pages and their errors reach the browser: compiled askama templates (escaped
//! by construction) with a strict content security policy — no scripts at all, styles from
//! our own stylesheet only.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, get};
use askama::Template;

pub use super::error::ConsoleError;
use super::headers::with_headers;
use super::session::ConsoleUser;
use crate::error::ApiError;

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
