//! The notification outbox: every notification is a row written in the same transaction as
//! the change that causes it, so a rolled-back change never notifies anyone. A worker
//! ([`worker`]) claims due rows in the database and delivers them, signed, to the committee's
//! webhook; [`reminders`] queues the duty reminders; the admin view lists and retries them.

mod handlers;
pub mod reminders;
pub mod worker;

pub use handlers::routes;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::schema::outbox;

/// Queues a notification. With a `dedupe_key`, a second enqueue of the same key is a no-op
/// (two instances scheduling the same reminder write it once).
pub fn enqueue<P: Serialize>(
    conn: &mut DbConnection,
    committee_id: i64,
    kind: &str,
    dedupe_key: Option<&str>,
    payload: &P,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    try_enqueue(conn, committee_id, kind, dedupe_key, payload, now).map(drop)
}

/// Like [`enqueue`]; tells whether a row was written (`false`: the dedupe key existed).
///
/// The insert runs in its own savepoint (or transaction, outside one): on PostgreSQL a
/// unique violation aborts the enclosing transaction, so without the savepoint a duplicate
/// key would poison the caller's transaction instead of being a no-op.
pub fn try_enqueue<P: Serialize>(
    conn: &mut DbConnection,
    committee_id: i64,
    kind: &str,
    dedupe_key: Option<&str>,
    payload: &P,
    now: NaiveDateTime,
) -> Result<bool, ApiError> {
    let payload = serde_json::to_string(payload).map_err(ApiError::unexpected)?;
    let inserted = db::may_conflict(conn, |conn| {
        diesel::insert_into(outbox::table)
            .values((
                outbox::committee_id.eq(committee_id),
                outbox::kind.eq(kind),
                outbox::dedupe_key.eq(dedupe_key),
                outbox::payload.eq(&payload),
                outbox::status.eq("pending"),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(now),
                outbox::created_at.eq(now),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
            if dedupe_key.is_some() =>
        {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}
