//! The notification outbox: every notification is a row written in the same transaction as
//! the change that causes it, so a rolled-back change never notifies anyone. A worker
//! ([`worker`]) claims due rows in the database and delivers them, signed, to the committee's
//! webhook; [`channels`] adds a row per DingTalk/WeCom robot and SMS the notice is routed to;
//! `roster::reminders` queues the duty reminders; the admin view lists and retries them.

pub mod channels;
mod handlers;
pub mod notices;
pub mod worker;

pub use handlers::routes;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::schema::{member_notices, outbox};

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
    let value = serde_json::to_value(payload).map_err(ApiError::unexpected)?;
    let payload = value.to_string();
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
            .returning(outbox::id)
            .get_result::<i64>(conn)
    });
    match inserted {
        Ok(id) => {
            record_notices(conn, committee_id, id, kind, &value, now)?;
            channels::route(conn, committee_id, id, kind, dedupe_key, &value, now)?;
            Ok(true)
        }
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
            if dedupe_key.is_some() =>
        {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// The members a notification names: its `member_id`, or each of its `member_ids`.
pub fn recipients(payload: &serde_json::Value) -> Vec<i64> {
    let mut ids: Vec<i64> = payload["member_id"].as_i64().into_iter().collect();
    if let Some(list) = payload["member_ids"].as_array() {
        ids.extend(list.iter().filter_map(serde_json::Value::as_i64));
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Each named member's notice of the notification (the member pages' 消息), in the same
/// transaction: a member learns of every change there even where no webhook is configured.
fn record_notices(
    conn: &mut DbConnection,
    committee_id: i64,
    outbox_id: i64,
    kind: &str,
    payload: &serde_json::Value,
    now: chrono::NaiveDateTime,
) -> Result<(), ApiError> {
    for member_id in recipients(payload) {
        diesel::insert_into(member_notices::table)
            .values((
                member_notices::committee_id.eq(committee_id),
                member_notices::member_id.eq(member_id),
                member_notices::outbox_id.eq(outbox_id),
                member_notices::kind.eq(kind),
                member_notices::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}
