//! Counting requests per key in fixed windows, in the database so a limit holds across
//! instances and restarts. One statement adds one and answers the new count (an upsert with
//! RETURNING, on both backends), so parallel requests are counted one after another: of 40
//! parallel attempts against a limit of 5, exactly 5 see a count within it. Callers count
//! *before* doing the guarded work and give the hit back ([`refund`]) when the work turned out
//! not to be a guess (a right password, a tracking code that exists).
//!
//! Keys are SHA-256 digests of a scope and the counted value (`lookup-address:10.0.0.7`):
//! no phone number or address is stored in clear.

use chrono::{Duration, NaiveDateTime};
use diesel::dsl::case_when;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode};
use crate::schema::throttle_counters;

/// A key to count: the digest of `scope:value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    pub fn new(scope: &str, value: &str) -> Self {
        use sha2::{Digest, Sha256};
        Self(hex::encode(Sha256::digest(format!("{scope}:{value}").as_bytes())))
    }
}

/// The count of a key's current window after a hit.
#[derive(Debug, Clone, Copy)]
pub struct Count {
    pub hits: i64,
    pub window_ends: NaiveDateTime,
}

impl Count {
    pub fn exceeds(&self, limit: i64) -> bool {
        self.hits > limit
    }

    /// The refusal `code` with a Retry-After of the seconds until the window ends.
    pub fn refusal(&self, code: ErrorCode, now: NaiveDateTime) -> ApiError {
        let mut err = ApiError::new(code);
        err.retry_after_secs = Some((self.window_ends - now).num_seconds().max(1) as u64);
        err
    }
}

/// Adds one to `key` in its window of `window` (a new window starts when the last one has
/// ended) and answers the count including this hit: one atomic statement.
pub fn hit(conn: &mut DbConnection, key: &Key, window: Duration, now: NaiveDateTime) -> Result<Count, ApiError> {
    use throttle_counters::dsl::{hits, key_hash, window_start};
    let open = window_start.gt(now - window);
    let upsert = diesel::insert_into(throttle_counters::table)
        .values((key_hash.eq(&key.0), window_start.eq(now), hits.eq(1)))
        .on_conflict(key_hash)
        .do_update()
        // Both right-hand sides read the row as it was before this statement.
        .set((
            hits.eq(case_when(open, hits + 1).otherwise(1)),
            window_start.eq(case_when(open, window_start).otherwise(now)),
        ))
        .returning((hits, window_start));
    // ON CONFLICT is backend syntax diesel's multi-backend connection does not carry: the same
    // statement runs on the concrete connection.
    let (count, started): (i32, NaiveDateTime) = match conn {
        DbConnection::Sqlite(c) => upsert.get_result(c)?,
        DbConnection::Postgresql(c) => upsert.get_result(c)?,
    };
    if count == 1 {
        // A window opened: the moment to forget windows that ended long ago (rare and cheap).
        diesel::delete(throttle_counters::table.filter(window_start.lt(now - Duration::days(1)))).execute(conn)?;
    }
    Ok(Count { hits: i64::from(count), window_ends: started + window })
}

/// Takes back one hit of `key` (it was not a guess after all).
pub fn refund(conn: &mut DbConnection, key: &Key) -> Result<(), ApiError> {
    use throttle_counters::dsl::{hits, key_hash};
    diesel::update(throttle_counters::table.filter(key_hash.eq(&key.0)).filter(hits.gt(0)))
        .set(hits.eq(hits - 1))
        .execute(conn)?;
    Ok(())
}

/// Forgets `key`'s window altogether.
pub fn clear(conn: &mut DbConnection, key: &Key) -> Result<(), ApiError> {
    diesel::delete(throttle_counters::table.filter(throttle_counters::key_hash.eq(&key.0))).execute(conn)?;
    Ok(())
}
