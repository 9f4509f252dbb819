//! The headers every console page goes out with: a strict content security policy, no
//! framing, no referrer beyond the origin.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};

pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
                       base-uri 'none'; frame-ancestors 'none'";

pub(super) fn with_headers(status: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut builder = crate::html::page(status, CSP);
    builder
        .insert_header((header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")));
    builder
}
