//! The base URL of links the server hands out (QR codes, calendar feeds, tracking and referral
//! links): `ZHIBAN_PUBLIC_URL` when set, else the host this request reached. Handlers take it
//! as an argument (`base: BaseUrl`); `startup` registers the configured value. Forwarded
//! headers count only from `ZHIBAN_TRUSTED_PROXIES`.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

/// The configured public base URL (`ZHIBAN_PUBLIC_URL`), without a trailing slash.
pub struct PublicUrl(pub Option<String>);

/// The base URL for links in this request's answer.
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

impl BaseUrl {
    pub fn of(req: &HttpRequest) -> Self {
        let configured = req.app_data::<web::Data<PublicUrl>>().and_then(|u| u.0.clone());
        Self(configured.unwrap_or_else(|| {
            if crate::client_address::from_trusted_proxy(req) {
                let info = req.connection_info();
                return format!("{}://{}", info.scheme(), info.host());
            }
            // Anyone may send `X-Forwarded-Host`; the links printed on posters and answered
            // to residents follow only the address the request itself was sent to.
            let scheme = if req.app_config().secure() { "https" } else { "http" };
            let host = req
                .headers()
                .get(actix_web::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .or_else(|| req.uri().authority().map(|a| a.as_str()))
                .unwrap_or_else(|| req.app_config().host());
            format!("{scheme}://{host}")
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromRequest for BaseUrl {
    type Error = std::convert::Infallible;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}
