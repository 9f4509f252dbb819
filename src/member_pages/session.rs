//! Member sign-in on the phone: a random session token in an HttpOnly cookie (`Path=/m`,
//! Secure behind TLS), stored only as its SHA-256 so any instance serves it and a copy of the
//! database signs nobody in. `SameSite=Lax`, not Strict: a member who scans the venue's QR
//! with the camera or WeChat arrives by a navigation another app started, and must arrive
//! signed in; a cross-site POST still carries no cookie, and every form carries the session's
//! CSRF token besides. The session lasts 30 days from its last use; a new password ends it.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::error::MemberError;
use crate::auth::AuthUser;
use crate::auth::tokens::{random_token, sha256_hex};
use crate::clock::Clock;
use crate::db::{self, DbConnection, DbPool};
use crate::domain::Roles;
use crate::error::{ApiError, ErrorCode};
use crate::schema::{committees, member_sessions, members};

pub const SESSION_COOKIE: &str = "zhiban_m";
/// Holds the sign-in form's CSRF token before there is a session (double submit).
pub const SIGN_IN_COOKIE: &str = "zhiban_m_signin";
/// A member stays signed in on a phone this long after last using it.
pub const SESSION_DAYS: i64 = 30;
/// A session's expiry is moved on at most this often (one write per member and interval,
/// not one per page).
const RENEW_AFTER_MINUTES: i64 = 10;

/// A signed-in member (any account: coordinators are members on duty too), with the
/// session's CSRF token for the page's forms.
pub struct MemberUser {
    pub user: AuthUser,
    pub name: String,
    pub csrf: String,
    /// The committee's time zone, read with the session: every page needs "today" there.
    pub timezone: chrono_tz::Tz,
    session_id: i64,
    /// The cookie's token, to send it again with a fresh lifetime when the session slid.
    token: String,
    renewed: bool,
}

impl MemberUser {
    pub fn committee_id(&self) -> i64 {
        self.user.committee_id
    }

    pub fn member_id(&self) -> i64 {
        self.user.member_id
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, presented: &str) -> Result<(), MemberError> {
        // Comparing digests keeps the comparison's timing independent of the secret.
        if sha256_hex(presented) == sha256_hex(&self.csrf) {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::CsrfTokenInvalid).into())
        }
    }

    /// The session cookie again, when the session's lifetime was just extended.
    pub fn renewed_cookie(&self, req: &HttpRequest) -> Option<Cookie<'static>> {
        self.renewed.then(|| session_cookie(req, self.token.clone()))
    }
}

/// A digest of the account's password hash: it changes when the password does.
pub fn credential_tag(password_hash: Option<&str>) -> String {
    sha256_hex(password_hash.unwrap_or_default())
}

struct Found {
    id: i64,
    committee_id: i64,
    member_id: i64,
    csrf: String,
    name: String,
    roles: String,
    timezone: chrono_tz::Tz,
    renewed: bool,
}

fn find_and_renew(conn: &mut DbConnection, token: &str, now: NaiveDateTime) -> Result<Option<Found>, ApiError> {
    type Row = (i64, i64, i64, String, String, NaiveDateTime, String, String, Option<String>, String);
    // One statement answers who this is and where their "today" is: the pages are read on
    // every tap, and each round trip to the database is most of a page's cost.
    let row: Option<Row> = member_sessions::table
        .inner_join(members::table.inner_join(committees::table))
        .filter(member_sessions::token_hash.eq(sha256_hex(token)))
        .filter(member_sessions::expires_at.gt(now))
        .filter(members::active.eq(true))
        .select((
            member_sessions::id,
            member_sessions::committee_id,
            member_sessions::member_id,
            member_sessions::csrf_token,
            member_sessions::credential_tag,
            member_sessions::last_seen_at,
            members::name,
            members::roles,
            members::password_hash,
            committees::timezone,
        ))
        .first(conn)
        .optional()?;
    let Some((id, committee_id, member_id, csrf, tag, last_seen, name, roles, password_hash, timezone)) = row else {
        return Ok(None);
    };
    if tag != credential_tag(password_hash.as_deref()) {
        // The password changed since this phone signed in: the session is over.
        diesel::delete(member_sessions::table.find(id)).execute(conn)?;
        return Ok(None);
    }
    let renewed = now - last_seen >= Duration::minutes(RENEW_AFTER_MINUTES);
    if renewed {
        diesel::update(member_sessions::table.find(id))
            .set((
                member_sessions::last_seen_at.eq(now),
                member_sessions::expires_at.eq(now + Duration::days(SESSION_DAYS)),
            ))
            .execute(conn)?;
    }
    let timezone = crate::committee::parse_timezone(committee_id, &timezone);
    Ok(Some(Found { id, committee_id, member_id, csrf, name, roles, timezone, renewed }))
}

/// Where to come back to after signing in: this page (a GET can be shown again as it was;
/// a form's page is its own address too).
fn here(req: &HttpRequest) -> String {
    match req.uri().query() {
        Some(q) if req.method() == actix_web::http::Method::GET => format!("{}?{q}", req.path()),
        _ => req.path().to_owned(),
    }
}

impl FromRequest for MemberUser {
    type Error = MemberError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, MemberError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
        let pool = req.app_data::<web::Data<DbPool>>().cloned();
        let clock = Clock::of(req);
        let next = here(req);
        Box::pin(async move {
            let clock = clock?;
            let sign_in = || MemberError::SignIn { next: next.clone() };
            let token = token.filter(|t| !t.is_empty()).ok_or_else(sign_in)?;
            let pool = pool.ok_or_else(|| ApiError::unexpected(anyhow::anyhow!("pool missing")))?;
            let now = clock.now_naive();
            let lookup = token.clone();
            let found = db::run(&pool, move |conn| find_and_renew(conn, &lookup, now)).await?;
            let found = found.ok_or_else(sign_in)?;
            let roles = Roles::parse_list(&found.roles).map_err(|e| ApiError::unexpected(anyhow::anyhow!("{e}")))?;
            Ok(MemberUser {
                user: AuthUser { member_id: found.member_id, committee_id: found.committee_id, roles },
                name: found.name,
                csrf: found.csrf,
                timezone: found.timezone,
                session_id: found.id,
                token,
                renewed: found.renewed,
            })
        })
    }
}

/// Opens a session for a signed-in account; the token for the cookie.
pub fn open(
    conn: &mut DbConnection,
    committee_id: i64,
    member_id: i64,
    password_hash: Option<&str>,
    now: NaiveDateTime,
) -> Result<String, ApiError> {
    let token = random_token();
    // Expired sessions of anyone are swept here rather than by a job: sign-ins are rare.
    diesel::delete(member_sessions::table.filter(member_sessions::expires_at.le(now))).execute(conn)?;
    diesel::insert_into(member_sessions::table)
        .values((
            member_sessions::committee_id.eq(committee_id),
            member_sessions::member_id.eq(member_id),
            member_sessions::token_hash.eq(sha256_hex(&token)),
            member_sessions::csrf_token.eq(random_token()),
            member_sessions::credential_tag.eq(credential_tag(password_hash)),
            member_sessions::created_at.eq(now),
            member_sessions::last_seen_at.eq(now),
            member_sessions::expires_at.eq(now + Duration::days(SESSION_DAYS)),
        ))
        .execute(conn)?;
    Ok(token)
}

pub fn close(conn: &mut DbConnection, user: &MemberUser) -> Result<(), ApiError> {
    diesel::delete(member_sessions::table.find(user.session_id)).execute(conn)?;
    Ok(())
}

pub fn cookie<'a>(req: &HttpRequest, name: &'a str, value: String, max_age: CookieDuration) -> Cookie<'a> {
    crate::html::cookie(req, "/m", SameSite::Lax, name, value, max_age)
}

pub fn session_cookie(req: &HttpRequest, token: String) -> Cookie<'static> {
    cookie(req, SESSION_COOKIE, token, CookieDuration::days(SESSION_DAYS))
}

/// Expires `name` in the browser.
pub fn removal(req: &HttpRequest, name: &'static str) -> Cookie<'static> {
    cookie(req, name, String::new(), CookieDuration::ZERO)
}

/// A local address of the member pages to go on to after signing in, or `/m`: never another
/// site (`//evil`, `/\evil`), never outside `/m`.
pub fn safe_next(raw: Option<&str>) -> String {
    match raw {
        Some(n)
            if (n == "/m" || n.starts_with("/m/") || n.starts_with("/m?"))
                && !n.contains("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_owned()
        }
        _ => "/m".to_owned(),
    }
}
