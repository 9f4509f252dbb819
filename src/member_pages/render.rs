//! How member pages and their errors reach the phone: compiled askama templates (escaped by
//! construction), our own stylesheet only, no script but the one that asks for the location
//! on the scan page, and the Chinese message of every error code.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, get};
use askama::Template;

use super::session::MemberUser;
use crate::error::{ApiError, ErrorCode};
use crate::html::see_other;

pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
                       base-uri 'none'; frame-ancestors 'none'";
/// The scan page also runs `/m/static/locate.js` (the phone's location for poster codes).
pub const CSP_WITH_SCRIPT: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                                   script-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

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

fn with_headers(status: StatusCode, csp: &'static str) -> actix_web::HttpResponseBuilder {
    let mut builder = crate::html::page(status, csp);
    builder
        .insert_header((header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")));
    builder
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
