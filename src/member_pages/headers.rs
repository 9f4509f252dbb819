//! The headers every member page goes out with: a strict content security policy, no
//! framing, no referrer beyond the origin.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};

pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
                       base-uri 'none'; frame-ancestors 'none'";
/// The scan page also runs `/m/static/locate.js` (the phone's location for poster codes).
pub const CSP_WITH_SCRIPT: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                                   script-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub(super) fn with_headers(status: StatusCode, csp: &'static str) -> actix_web::HttpResponseBuilder {
    let mut builder = crate::html::page(status, csp);
    builder
        .insert_header((header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")));
    builder
}
