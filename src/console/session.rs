//! Console sign-in: a random session token in an HttpOnly, SameSite=Strict cookie (Secure
//! behind TLS), stored only as its SHA-256 so a copy of the database signs nobody in. Each
//! session carries its own CSRF token, which every console form posts back.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::error::ConsoleError;
use crate::auth::tokens::{random_token, sha256_hex};
use crate::auth::{AuthUser, Coordinator, load_scope};
use crate::clock::Clock;
use crate::db::{self, DbConnection, DbPool};
use crate::domain::Roles;
use crate::error::{ApiError, ErrorCode};
use crate::schema::{console_sessions, members};

pub const SESSION_COOKIE: &str = "zhiban_console";
/// Holds the sign-in form's CSRF token before there is a session (double submit).
pub const SIGN_IN_COOKIE: &str = "zhiban_console_signin";
/// A working day at the console; then the coordinator signs in again.
pub const SESSION_HOURS: i64 = 12;

/// A coordinator or admin signed in to the console: the same standing the API's
/// `Coordinator` extractor gives, plus the session's CSRF token for the page's forms.
pub struct ConsoleUser {
    pub coordinator: Coordinator,
    pub name: String,
    pub csrf: String,
    /// The instant of this request, read once from the service clock.
    pub now: NaiveDateTime,
    /// For the office: the years whose holiday calendar is still to be entered (every page
    /// shows a banner until it is). Empty for coordinators.
    pub calendar_missing: Vec<i32>,
    session_id: i64,
}

impl ConsoleUser {
    pub fn committee_id(&self) -> i64 {
        self.coordinator.user.committee_id
    }

    pub fn member_id(&self) -> i64 {
        self.coordinator.user.member_id
    }

    pub fn is_admin(&self) -> bool {
        self.coordinator.user.roles.is_admin()
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, presented: &str) -> Result<(), ConsoleError> {
        // Comparing digests keeps the comparison's timing independent of the secret.
        if sha256_hex(presented) == sha256_hex(&self.csrf) {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::CsrfTokenInvalid).into())
        }
    }
}

struct SessionRow {
    id: i64,
    committee_id: i64,
    member_id: i64,
    csrf: String,
    name: String,
    roles: String,
}

fn find_session(conn: &mut DbConnection, token: &str, now: NaiveDateTime) -> Result<Option<SessionRow>, ApiError> {
    let row = console_sessions::table
        .inner_join(members::table)
        .filter(console_sessions::token_hash.eq(sha256_hex(token)))
        .filter(console_sessions::expires_at.gt(now))
        .filter(members::active.eq(true))
        .select((
            console_sessions::id,
            console_sessions::committee_id,
            console_sessions::member_id,
            console_sessions::csrf_token,
            members::name,
            members::roles,
        ))
        .first::<(i64, i64, i64, String, String, String)>(conn)
        .optional()?;
    Ok(row.map(|(id, committee_id, member_id, csrf, name, roles)| SessionRow {
        id,
        committee_id,
        member_id,
        csrf,
        name,
        roles,
    }))
}

impl FromRequest for ConsoleUser {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
        let pool = req.app_data::<web::Data<DbPool>>().cloned();
        let clock = Clock::of(req);
        Box::pin(async move {
            let now = clock?.now_naive();
            let token = token.ok_or(ConsoleError::SignIn)?;
            let pool = pool.ok_or_else(|| ApiError::unexpected(anyhow::anyhow!("pool missing")))?;
            let found = db::run(&pool, move |conn| {
                let Some(row) = find_session(conn, &token, now)? else { return Ok(None) };
                let roles = Roles::parse_list(&row.roles).map_err(|e| ApiError::unexpected(anyhow::anyhow!("{e}")))?;
                let user = AuthUser { member_id: row.member_id, committee_id: row.committee_id, roles };
                // Scope is read on every request, as for the API: a change takes effect at once.
                let scope = load_scope(conn, &user)?;
                let calendar_missing = if user.roles.is_admin() {
                    crate::calendar::attention::missing_now(conn, user.committee_id, now)?
                } else {
                    Vec::new()
                };
                Ok(Some((row, user, scope, calendar_missing)))
            })
            .await?;
            let (row, user, scope, calendar_missing) = found.ok_or(ConsoleError::SignIn)?;
            if !user.roles.can_coordinate() {
                return Err(ApiError::forbidden().into());
            }
            Ok(ConsoleUser {
                coordinator: Coordinator { user, scope },
                name: row.name,
                csrf: row.csrf,
                session_id: row.id,
                now,
                calendar_missing,
            })
        })
    }
}

/// Opens a session for a signed-in account; the token for the cookie.
pub fn open(
    conn: &mut DbConnection,
    committee_id: i64,
    member_id: i64,
    now: NaiveDateTime,
) -> Result<String, ApiError> {
    let token = random_token();
    // Expired sessions of anyone are swept here rather than by a job: sign-ins are rare.
    diesel::delete(console_sessions::table.filter(console_sessions::expires_at.le(now))).execute(conn)?;
    diesel::insert_into(console_sessions::table)
        .values((
            console_sessions::committee_id.eq(committee_id),
            console_sessions::member_id.eq(member_id),
            console_sessions::token_hash.eq(sha256_hex(&token)),
            console_sessions::csrf_token.eq(random_token()),
            console_sessions::created_at.eq(now),
            console_sessions::expires_at.eq(now + Duration::hours(SESSION_HOURS)),
        ))
        .execute(conn)?;
    Ok(token)
}

pub fn close(conn: &mut DbConnection, user: &ConsoleUser) -> Result<(), ApiError> {
    diesel::delete(console_sessions::table.find(user.session_id)).execute(conn)?;
    Ok(())
}

pub fn cookie<'a>(req: &HttpRequest, name: &'a str, value: String, max_age: CookieDuration) -> Cookie<'a> {
    crate::html::cookie(req, "/console", SameSite::Strict, name, value, max_age)
}

pub fn session_cookie(req: &HttpRequest, token: String) -> Cookie<'static> {
    cookie(req, SESSION_COOKIE, token, CookieDuration::hours(SESSION_HOURS))
}

/// Expires `name` in the browser.
pub fn removal(req: &HttpRequest, name: &'static str) -> Cookie<'static> {
    cookie(req, name, String::new(), CookieDuration::ZERO)
}
