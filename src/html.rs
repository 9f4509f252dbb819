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

/// Largest HTML form body (the resident's form: 2,000 characters of text and a few fields).
pub const FORM_LIMIT_BYTES: usize = 32 * 1024;

/// A posted urlencoded form whose every name and value decodes to valid UTF-8. actix's own
/// `web::Form` decodes lossily, so a stray `%FF` would be stored as U+FFFD in what a
/// resident wrote; this answers 400 `bad_request` instead, as the JSON API does for
/// invalid UTF-8. Size limits and the rest of decoding stay `web::Form`'s.
pub struct Form<T>(pub T);

impl<T> Form<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Form<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Whether every `name=value` of a urlencoded body decodes (`+` as space, `%XX` as a byte)
/// to UTF-8.
pub fn form_is_utf8(body: &[u8]) -> bool {
    body.split(|b| *b == b'&')
        .flat_map(|pair| pair.splitn(2, |b| *b == b'='))
        .all(|part| percent_encoding::percent_decode(part).decode_utf8().is_ok())
}

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for Form<T> {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &actix_web::HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        let limit = FORM_LIMIT_BYTES;
        let body = actix_web::web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await?;
            if body.len() <= limit && !form_is_utf8(&body) {
                return Err(crate::error::ApiError::new(crate::error::ErrorCode::BadRequest)
                    .with_detail("a form field is not valid UTF-8")
                    .into());
            }
            let mut replay = actix_web::dev::Payload::from(body);
            let form = actix_web::web::Form::<T>::from_request(&req, &mut replay).await?;
            Ok(Self(form.into_inner()))
        })
    }
}
