//! The member pages at `/m`: server-rendered pages in Chinese for members (委员) on any phone
//! browser — WeChat's, DingTalk's, the one the camera opens a QR code in. Sign-in, today's
//! duty, scan-in from the venue's QR, the live inbox and recording at reception, swaps and
//! leave, notices, and the member's own record (履职).
//!
//! A thin adapter over the same capability functions the JSON API calls, with the same
//! standing: a member sees only their own duties, requests, items and notices (another
//! member's ids answer 404). Plain HTML forms; no script needed (the scan page's optional
//! script only asks for the phone's location, for printed poster codes). Not part of the API
//! document: the pages are a user interface, tested in `tests/api/member_pages.rs` and the
//! browser tests.

mod error;
mod headers;
mod notices;
mod reception;
mod render;
mod requests;
mod scan;
mod session;
mod stats;
mod today;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

pub use error::MemberError;
pub use session::{MemberUser, SESSION_COOKIE, SESSION_DAYS, SIGN_IN_COOKIE};

use crate::auth::tokens::{random_token, sha256_hex};
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::error::{ApiError, ErrorCode};
use crate::html::see_other;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(render::stylesheet)
        .service(render::locate_script)
        .service(sign_in_form)
        .service(sign_in)
        .service(sign_out)
        .configure(today::routes)
        .configure(scan::routes)
        .configure(reception::routes)
        .configure(requests::routes)
        .configure(notices::routes)
        .configure(stats::routes);
}

#[derive(Template)]
#[template(path = "member_pages/login.html")]
struct SignInPage {
    csrf: String,
    phone: String,
    next: String,
    message: Option<&'static str>,
}

/// The sign-in form, with a fresh token in a cookie and in the form (double submit): a
/// foreign page cannot sign a phone in to an account of its choosing.
fn sign_in_page(
    req: &HttpRequest,
    status: StatusCode,
    phone: String,
    next: String,
    message: Option<&'static str>,
) -> HttpResponse {
    let csrf = random_token();
    let page = SignInPage { csrf: csrf.clone(), phone, next, message };
    let mut response = match render::page_as(req, None, status, render::CSP, &page) {
        Ok(response) => response,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let cookie = session::cookie(req, SIGN_IN_COOKIE, csrf, actix_web::cookie::time::Duration::hours(1));
    if let Err(e) = response.add_cookie(&cookie) {
        return actix_web::ResponseError::error_response(&MemberError::Api(ApiError::unexpected(e)));
    }
    response
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[get("/m/login")]
async fn sign_in_form(req: HttpRequest, query: web::Query<NextQuery>) -> HttpResponse {
    let next = session::safe_next(query.next.as_deref());
    sign_in_page(&req, StatusCode::OK, String::new(), next, None)
}

#[derive(Deserialize)]
struct SignInForm {
    phone: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

/// Signs in with the API's own rules (`crate::auth::authenticate`: the same throttle per
/// phone and per address, the same answer for an unknown phone), then goes on to `next`.
#[post("/m/login")]
async fn sign_in(req: HttpRequest, pool: web::Data<DbPool>, clock: Clock, form: web::Form<SignInForm>) -> HttpResponse {
    let SignInForm { phone, password, csrf, next } = form.into_inner();
    let next = session::safe_next(next.as_deref());
    let expected = req.cookie(SIGN_IN_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    if expected.is_empty() || sha256_hex(&expected) != sha256_hex(&csrf) {
        return sign_in_page(&req, StatusCode::FORBIDDEN, phone, next, Some("页面已过期，请重新登录"));
    }
    let address = crate::client_address::client_address(&req);
    let typed = phone.clone();
    let now = clock.now_naive();
    let outcome = db::run(&pool, move |conn| {
        let account = crate::auth::authenticate(conn, &typed, &password, &address, now)?;
        if !account.active {
            return Err(ErrorCode::AccountInactive.into());
        }
        session::open(conn, account.committee_id, account.id, account.password_hash.as_deref(), now)
    })
    .await;
    match outcome {
        Ok(token) => {
            let mut response = see_other(next);
            let added = response
                .add_cookie(&session::session_cookie(&req, token))
                .and_then(|_| response.add_cookie(&session::removal(&req, SIGN_IN_COOKIE)));
            match added {
                Ok(()) => response,
                Err(e) => actix_web::ResponseError::error_response(&MemberError::Api(ApiError::unexpected(e))),
            }
        }
        Err(e) => {
            let Some(message) = crate::html::sign_in_refusal_zh(e.code) else {
                return actix_web::ResponseError::error_response(&MemberError::Api(e));
            };
            sign_in_page(&req, e.code.status(), phone, next, Some(message))
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    pub csrf: String,
}

/// Signs this phone out: the session row is deleted, the cookie expired.
#[post("/m/logout")]
async fn sign_out(
    req: HttpRequest,
    user: MemberUser,
    pool: web::Data<DbPool>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, MemberError> {
    user.check_csrf(&form.csrf)?;
    db::run(&pool, move |conn| session::close(conn, &user)).await?;
    let mut response = see_other("/m/login");
    response.add_cookie(&session::removal(&req, session::SESSION_COOKIE)).map_err(ApiError::unexpected)?;
    Ok(response)
}
