//! The coordinator console at `/console`: server-rendered pages in Chinese for township
//! coordinators and the committee office — the month's roster, approvals, the triage board,
//! a member's 履职 record and the period report with its exports.
//!
//! It is a user interface over the same rules as the API: every action calls the function the
//! API handler calls, with the same `Coordinator` standing and venue scope. Plain HTML forms,
//! no script. It is not part of the API document (`api-spec/`), which describes the machine
//! interface the app is built against.

mod calendar;
mod error;
mod headers;
mod items;
mod render;
mod reports;
mod requests;
mod roster;
mod session;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

pub use error::ConsoleError;
pub use session::{ConsoleUser, SESSION_COOKIE, SIGN_IN_COOKIE};

use crate::auth::tokens::{random_token, sha256_hex};
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::domain::Roles;
use crate::error::{ApiError, ErrorCode};
use crate::html::see_other;
use render::page_with;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(render::stylesheet)
        .service(home)
        .service(sign_in_form)
        .service(sign_in)
        .service(sign_out)
        .configure(roster::routes)
        .configure(calendar::routes)
        .configure(requests::routes)
        .configure(items::routes)
        .configure(reports::routes);
}

/// Today in the committee's time zone: the default month, quarter or year of a page.
fn today(
    conn: &mut crate::db::DbConnection,
    committee_id: i64,
    now: chrono::NaiveDateTime,
) -> Result<chrono::NaiveDate, ApiError> {
    let tz = crate::committee::timezone(conn, committee_id)?;
    Ok(crate::committee::local_date(tz, now))
}

#[get("/console")]
async fn home() -> HttpResponse {
    see_other("/console/roster")
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct SignInPage {
    csrf: String,
    phone: String,
    message: Option<&'static str>,
}

/// The sign-in form, with a fresh token in a cookie and in the form (double submit): a
/// foreign page cannot sign a browser in to an account of its choosing.
fn sign_in_page(req: &HttpRequest, status: StatusCode, phone: String, message: Option<&'static str>) -> HttpResponse {
    let csrf = random_token();
    let page = SignInPage { csrf: csrf.clone(), phone, message };
    let mut response = match page_with(status, &page) {
        Ok(response) => response,
        Err(e) => return actix_web::ResponseError::error_response(&e),
    };
    let cookie = session::cookie(req, SIGN_IN_COOKIE, csrf, actix_web::cookie::time::Duration::hours(1));
    if let Err(e) = response.add_cookie(&cookie) {
        return actix_web::ResponseError::error_response(&ConsoleError::Api(ApiError::unexpected(e)));
    }
    response
}

#[get("/console/login")]
async fn sign_in_form(req: HttpRequest) -> HttpResponse {
    sign_in_page(&req, StatusCode::OK, String::new(), None)
}

#[derive(Deserialize)]
struct SignInForm {
    phone: String,
    password: String,
    csrf: String,
}

#[post("/console/login")]
async fn sign_in(req: HttpRequest, pool: web::Data<DbPool>, clock: Clock, form: web::Form<SignInForm>) -> HttpResponse {
    let SignInForm { phone, password, csrf } = form.into_inner();
    let expected = req.cookie(SIGN_IN_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    if expected.is_empty() || sha256_hex(&expected) != sha256_hex(&csrf) {
        return sign_in_page(&req, StatusCode::FORBIDDEN, phone, Some("页面已过期，请重新登录"));
    }
    let address = crate::client_address::client_address(&req);
    let typed = phone.clone();
    let now = clock.now_naive();
    let outcome = db::run(&pool, move |conn| {
        let account = crate::auth::authenticate(conn, &typed, &password, &address, now)?;
        if !account.active {
            return Err(ErrorCode::AccountInactive.into());
        }
        let roles = Roles::parse_list(&account.roles).map_err(|e| ApiError::unexpected(anyhow::anyhow!("{e}")))?;
        if !roles.can_coordinate() {
            return Err(ApiError::forbidden());
        }
        session::open(conn, account.committee_id, account.id, now)
    })
    .await;
    match outcome {
        Ok(token) => {
            let mut response = see_other("/console/roster");
            let added = response
                .add_cookie(&session::session_cookie(&req, token))
                .and_then(|_| response.add_cookie(&session::removal(&req, SIGN_IN_COOKIE)));
            match added {
                Ok(()) => response,
                Err(e) => actix_web::ResponseError::error_response(&ConsoleError::Api(ApiError::unexpected(e))),
            }
        }
        Err(e) => {
            let message = match (e.code, crate::html::sign_in_refusal_zh(e.code)) {
                (_, Some(message)) => message,
                (ErrorCode::Forbidden, None) => "控制台仅供联络员和政协办公室使用，委员请在手机上打开 /m 委员值班页面",
                _ => return actix_web::ResponseError::error_response(&ConsoleError::Api(e)),
            };
            sign_in_page(&req, e.code.status(), phone, Some(message))
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

#[post("/console/logout")]
async fn sign_out(
    req: HttpRequest,
    user: ConsoleUser,
    pool: web::Data<DbPool>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    user.check_csrf(&form.csrf)?;
    db::run(&pool, move |conn| session::close(conn, &user)).await?;
    let mut response = see_other("/console/login");
    response.add_cookie(&session::removal(&req, SESSION_COOKIE)).map_err(ApiError::unexpected)?;
    Ok(response)
}
