//! What every server-rendered page answers with (the resident's pages, the venue display, the
//! console): HTML that is never cached or sniffed as something else, under the page's own
//! content security policy; and the redirect after a form.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder};

/// A page response with the common headers set; the caller adds its own and the body.
pub fn page(status: StatusCode, csp: &'static str) -> HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")))
        .insert_header((header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp)))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")));
    builder
}

/// A session or form cookie of the pages under `path`: HttpOnly, Secure when the browser
/// reached us over TLS (directly or through a proxy that says so).
pub fn cookie<'a>(
    req: &actix_web::HttpRequest,
    path: &'static str,
    same_site: SameSite,
    name: &'a str,
    value: String,
    max_age: CookieDuration,
) -> Cookie<'a> {
    Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .same_site(same_site)
        .secure(req.connection_info().scheme() == "https")
        .max_age(max_age)
        .finish()
}

/// What a sign-in form says, in Chinese, when the credentials are refused; `None` for a
/// failure that is not the person's to fix (it is answered as an error page).
pub fn sign_in_refusal_zh(code: crate::error::ErrorCode) -> Option<&'static str> {
    use crate::error::ErrorCode;
    match code {
        ErrorCode::InvalidCredentials => Some("手机号或密码不正确"),
        ErrorCode::AccountInactive => Some("账号已停用，请联系政协办公室"),
        ErrorCode::LoginThrottled => Some("登录失败次数过多，请稍后再试"),
        _ => None,
    }
}

/// 303 to `location`: the answer to a posted form.
pub fn see_other(location: impl Into<String>) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.into())).finish()
}
