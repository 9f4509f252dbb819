//! Sessions of an account and the one rule that ends them.
//!
//! A sign-in through the API starts a *session*: a refresh-token family. Its access tokens
//! carry the family as `sid`, and [`SessionCheck`] refuses an access token whose family was
//! revoked or whose account is inactive — read from the database at most every
//! [`CHECK_TTL_SECS`] per session and instance, so a sign-out, a deactivation or a demotion
//! stops the old access token on every instance within that time, not after its 15 minutes.
//!
//! [`end_all`] is the rule for a changed password, a deactivation or a change of roles: every
//! session of the account ends — refresh tokens (and with them their access tokens), console
//! sessions and member-page sessions. The account signs in again with what it now is.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::store;
use super::tokens::{REFRESH_TOKEN_TTL_DAYS, random_token, sha256_hex};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::schema::{console_sessions, member_sessions, members, refresh_tokens};

/// How long an instance trusts its last look at a session (the delay before a sign-out,
/// deactivation or role change reaches an access token on another instance).
pub const CHECK_TTL_SECS: i64 = 10;
/// More sessions than this in the cache and the stale ones are swept (about 10 MB); when all
/// are fresh, the cache starts over rather than sweeping on every insert.
const CACHE_SWEEP_AT: usize = 100_000;

/// A new API session: its family and its first refresh token.
pub struct NewSession {
    pub family: String,
    pub refresh_token: String,
    pub refresh_expires_at: NaiveDateTime,
}

/// Starts a session (a refresh-token family) for a signed-in account.
pub fn start(
    conn: &mut DbConnection,
    committee_id: i64,
    member_id: i64,
    now: NaiveDateTime,
) -> Result<NewSession, ApiError> {
    let (family, refresh_token) = (random_token(), random_token());
    let refresh_expires_at = now + Duration::days(REFRESH_TOKEN_TTL_DAYS);
    store::insert_refresh_token(
        conn,
        committee_id,
        member_id,
        &family,
        &sha256_hex(&refresh_token),
        now,
        refresh_expires_at,
    )?;
    Ok(NewSession { family, refresh_token, refresh_expires_at })
}

/// What changed about an account, as far as its sessions are concerned.
#[derive(Debug, Clone, Copy, Default)]
pub struct CredentialChange {
    pub password: bool,
    pub deactivated: bool,
    pub roles: bool,
}

impl CredentialChange {
    pub fn ends_sessions(self) -> bool {
        self.password || self.deactivated || self.roles
    }
}

/// Ends every session of the account when `change` calls for it: refresh tokens are revoked
/// (their access tokens stop within [`CHECK_TTL_SECS`]), console and member-page sessions are
/// deleted (they stop at the next request). Every path that changes a password, deactivates
/// or changes roles calls this, in the transaction of the change.
pub fn end_all(
    conn: &mut DbConnection,
    committee_id: i64,
    member_id: i64,
    change: CredentialChange,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    if !change.ends_sessions() {
        return Ok(());
    }
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::committee_id.eq(committee_id))
            .filter(refresh_tokens::member_id.eq(member_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    diesel::delete(
        console_sessions::table
            .filter(console_sessions::committee_id.eq(committee_id))
            .filter(console_sessions::member_id.eq(member_id)),
    )
    .execute(conn)?;
    diesel::delete(
        member_sessions::table
            .filter(member_sessions::committee_id.eq(committee_id))
            .filter(member_sessions::member_id.eq(member_id)),
    )
    .execute(conn)?;
    tracing::info!(member_id, ?change, "all sessions of the account ended");
    Ok(())
}

/// Whether the session `sid` of this account is still on: its family not revoked, the
/// account active. One indexed query.
pub fn is_live(conn: &mut DbConnection, committee_id: i64, member_id: i64, sid: &str) -> Result<bool, ApiError> {
    let found: Option<i64> = refresh_tokens::table
        .inner_join(members::table)
        .filter(refresh_tokens::family.eq(sid))
        .filter(refresh_tokens::committee_id.eq(committee_id))
        .filter(refresh_tokens::member_id.eq(member_id))
        .filter(refresh_tokens::revoked_at.is_null())
        .filter(members::active.eq(true))
        .select(refresh_tokens::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

struct Seen {
    member_id: i64,
    live: bool,
    at: NaiveDateTime,
}

/// This instance's recent looks at sessions (app data), so the check costs one query per
/// session every [`CHECK_TTL_SECS`], not one per request.
#[derive(Default)]
pub struct SessionCheck {
    seen: Mutex<HashMap<String, Seen>>,
}

impl SessionCheck {
    /// The verdict on `sid` if this instance looked within the TTL.
    pub fn recent(&self, sid: &str, now: NaiveDateTime) -> Option<bool> {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.get(sid).filter(|s| fresh(s.at, now)).map(|s| s.live)
    }

    pub fn remember(&self, sid: &str, member_id: i64, live: bool, now: NaiveDateTime) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= CACHE_SWEEP_AT {
            seen.retain(|_, s| fresh(s.at, now));
            if seen.len() >= CACHE_SWEEP_AT / 2 {
                seen.clear();
            }
        }
        seen.insert(sid.to_owned(), Seen { member_id, live, at: now });
    }

    /// Forgets one session (signed out here): the next request looks again.
    pub fn forget(&self, sid: &str) {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).remove(sid);
    }

    /// Forgets every session of an account (its sessions were just ended here).
    pub fn forget_member(&self, member_id: i64) {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, s| s.member_id != member_id);
    }
}

fn fresh(at: NaiveDateTime, now: NaiveDateTime) -> bool {
    at <= now && now - at < Duration::seconds(CHECK_TTL_SECS)
}
