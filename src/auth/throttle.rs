//! Failed sign-ins are counted in the database, per account and per client address, so the
//! limit holds across instances and restarts.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::tokens::sha256_hex;
use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode};
use crate::schema::login_attempts;

const WINDOW_MINUTES: i64 = 15;
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;

/// The two keys a sign-in counts against; hashed so no phone or address is stored in clear.
pub struct ThrottleKeys {
    account: String,
    address: String,
}

impl ThrottleKeys {
    pub fn new(phone: &str, address: &str) -> Self {
        Self { account: sha256_hex(&format!("account:{phone}")), address: sha256_hex(&format!("address:{address}")) }
    }
}

/// Refuses with `login_throttled` (and a Retry-After) when either key has too many recent failures.
pub fn check(conn: &mut DbConnection, keys: &ThrottleKeys, now: NaiveDateTime) -> Result<(), ApiError> {
    let since = now - Duration::minutes(WINDOW_MINUTES);
    for (key, limit) in [(&keys.account, MAX_FAILURES_PER_ACCOUNT), (&keys.address, MAX_FAILURES_PER_ADDRESS)] {
        let recent: Vec<NaiveDateTime> = login_attempts::table
            .filter(login_attempts::key_hash.eq(key))
            .filter(login_attempts::succeeded.eq(false))
            .filter(login_attempts::attempted_at.gt(since))
            .select(login_attempts::attempted_at)
            .order(login_attempts::attempted_at.desc())
            .limit(limit)
            .load(conn)?;
        if recent.len() as i64 >= limit {
            // The oldest of the last `limit` failures leaves the window first.
            let oldest = recent.last().copied().unwrap_or(now);
            let retry = (oldest + Duration::minutes(WINDOW_MINUTES) - now).num_seconds().max(1);
            let mut err = ApiError::new(ErrorCode::LoginThrottled);
            err.retry_after_secs = Some(retry as u64);
            return Err(err);
        }
    }
    Ok(())
}

pub fn record_failure(conn: &mut DbConnection, keys: &ThrottleKeys, now: NaiveDateTime) -> Result<(), ApiError> {
    for key in [&keys.account, &keys.address] {
        diesel::insert_into(login_attempts::table)
            .values((
                login_attempts::key_hash.eq(key),
                login_attempts::succeeded.eq(false),
                login_attempts::attempted_at.eq(now),
            ))
            .execute(conn)?;
    }
    // Keep the table small: nothing older than a day matters.
    diesel::delete(login_attempts::table.filter(login_attempts::attempted_at.lt(now - Duration::days(1))))
        .execute(conn)?;
    Ok(())
}

/// A successful sign-in clears the account's failures (not the address's: one good password
/// must not reset a guessing run against other accounts from the same address).
pub fn record_success(conn: &mut DbConnection, keys: &ThrottleKeys) -> Result<(), ApiError> {
    diesel::delete(login_attempts::table.filter(login_attempts::key_hash.eq(&keys.account))).execute(conn)?;
    Ok(())
}
