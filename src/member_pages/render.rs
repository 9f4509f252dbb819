//! How member pages and their errors reach the phone: compiled askama templates (escaped by
//! construction), our own stylesheet only, no script but the one that asks for the location
//! on the scan page, and the Chinese message of every error code.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get};
use askama::Template;

pub use super::error::MemberError;
pub use super::headers::CSP;
pub use super::headers::CSP_WITH_SCRIPT;
use super::headers::with_headers;
use super::session::MemberUser;
use crate::error::ApiError;
use crate::html::see_other;

const STYLESHEET: &str = include_str!("../../templates/member_pages/m.css");
const LOCATE_SCRIPT: &str = include_str!("../../templates/member_pages/locate.js");

/// What every signed-in page shows around its content: who is signed in, the navigation,
/// and the CSRF token for the sign-out form.
pub struct Chrome {
    pub name: String,
    pub csrf: String,
    /// Which navigation entry is current: `today`, `inbox`, `requests`, `notices` or `me`.
    pub section: &'static str,
}

impl Chrome {
    pub fn new(user: &MemberUser, section: &'static str) -> Self {
        Self { name: user.name.clone(), csrf: user.csrf.clone(), section }
    }
}

/// A rendered page with the member pages' headers; the session cookie again if it slid.
pub fn page(req: &HttpRequest, user: &MemberUser, template: &impl Template) -> Result<HttpResponse, MemberError> {
    page_as(req, Some(user), StatusCode::OK, CSP, template)
}

/// A page with a status other than 200 (a form shown again with its error), or another policy.
pub fn page_as(
    req: &HttpRequest,
    user: Option<&MemberUser>,
    status: StatusCode,
    csp: &'static str,
    template: &impl Template,
) -> Result<HttpResponse, MemberError> {
    let body = template.render().map_err(ApiError::unexpected)?;
    let mut response = with_headers(status, csp).body(body);
    if let Some(cookie) = user.and_then(|u| u.renewed_cookie(req)) {
        response.add_cookie(&cookie).map_err(ApiError::unexpected)?;
    }
    Ok(response)
}

/// 303 to `location` after a form, with the session cookie again if it slid.
pub fn redirect(
    req: &HttpRequest,
    user: &MemberUser,
    location: impl Into<String>,
) -> Result<HttpResponse, MemberError> {
    let mut response = see_other(location);
    if let Some(cookie) = user.renewed_cookie(req) {
        response.add_cookie(&cookie).map_err(ApiError::unexpected)?;
    }
    Ok(response)
}

/// The Chinese message of an error a form can meet, to show on the form itself.
pub fn form_message(e: &ApiError) -> String {
    match (&e.detail, e.errors.first()) {
        (_, Some(field)) => format!("{}（{}）", e.code.message_zh(), field.message),
        _ => e.code.message_zh().to_owned(),
    }
}

#[get("/m/static/m.css")]
async fn stylesheet() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLESHEET)
}

#[get("/m/static/locate.js")]
async fn locate_script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", LOCATE_SCRIPT)
}

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type)))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .body(body)
}
