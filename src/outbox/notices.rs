//! Each member's notices: the outbox's notifications that name them (written with each
//! notification by [`super::try_enqueue`]), read or unread — the member pages' 消息.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::schema::{member_notices, members, outbox};

pub struct Notice {
    pub id: i64,
    pub kind: String,
    /// The notification's payload, as the webhook receives it.
    pub payload: serde_json::Value,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

type Row = (i64, String, String, NaiveDateTime, Option<NaiveDateTime>);

/// What a notice is read as: its own row and its notification's payload.
const COLUMNS: (
    member_notices::id,
    member_notices::kind,
    outbox::payload,
    member_notices::created_at,
    member_notices::read_at,
) = (member_notices::id, member_notices::kind, outbox::payload, member_notices::created_at, member_notices::read_at);

fn notice((id, kind, payload, created_at, read_at): Row) -> Notice {
    Notice { id, kind, payload: serde_json::from_str(&payload).unwrap_or_default(), created_at, read_at }
}

/// A page of the member's notices, newest first; the cursor continues to older ones.
pub fn page(
    conn: &mut DbConnection,
    member_id: i64,
    request: crate::pagination::PageRequest,
) -> Result<crate::pagination::Page<Notice>, ApiError> {
    let mut query =
        member_notices::table.inner_join(outbox::table).filter(member_notices::member_id.eq(member_id)).into_boxed();
    if request.after_id > 0 {
        query = query.filter(member_notices::id.lt(request.after_id));
    }
    let rows: Vec<Row> = query.order(member_notices::id.desc()).limit(request.limit + 1).select(COLUMNS).load(conn)?;
    Ok(crate::pagination::Page::from_rows(rows.into_iter().map(notice).collect(), request, |n| n.id))
}

/// The member's latest `limit` notices, newest first.
pub fn list(conn: &mut DbConnection, member_id: i64, limit: i64) -> Result<Vec<Notice>, ApiError> {
    let rows: Vec<Row> = member_notices::table
        .inner_join(outbox::table)
        .filter(member_notices::member_id.eq(member_id))
        .order(member_notices::id.desc())
        .limit(limit)
        .select(COLUMNS)
        .load(conn)?;
    Ok(rows.into_iter().map(notice).collect())
}

pub fn unread_count(conn: &mut DbConnection, member_id: i64) -> Result<i64, ApiError> {
    Ok(member_notices::table
        .filter(member_notices::member_id.eq(member_id).and(member_notices::read_at.is_null()))
        .count()
        .get_result(conn)?)
}

/// One of the member's notices; another member's is not found.
fn find(conn: &mut DbConnection, member_id: i64, id: i64) -> Result<Notice, ApiError> {
    let row: Row = member_notices::table
        .inner_join(outbox::table)
        .filter(member_notices::id.eq(id).and(member_notices::member_id.eq(member_id)))
        .select(COLUMNS)
        .first(conn)?;
    Ok(notice(row))
}

/// Marks one of the member's notices read (once: reading it again keeps the first time);
/// another member's is not found. The notice, read.
pub fn mark_read(conn: &mut DbConnection, member_id: i64, id: i64, now: NaiveDateTime) -> Result<Notice, ApiError> {
    let found = find(conn, member_id, id)?;
    if found.read_at.is_some() {
        return Ok(found);
    }
    diesel::update(member_notices::table.find(id).filter(member_notices::read_at.is_null()))
        .set(member_notices::read_at.eq(now))
        .execute(conn)?;
    // Read back: the time as stored (PostgreSQL keeps microseconds), as every later read says.
    find(conn, member_id, id)
}

pub fn mark_all_read(conn: &mut DbConnection, member_id: i64, now: NaiveDateTime) -> Result<(), ApiError> {
    diesel::update(
        member_notices::table.filter(member_notices::member_id.eq(member_id).and(member_notices::read_at.is_null())),
    )
    .set(member_notices::read_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Whether the member receives SMS (their own choice on the member pages; on by default).
pub fn sms_enabled(conn: &mut DbConnection, member_id: i64) -> Result<bool, ApiError> {
    Ok(members::table.find(member_id).select(members::sms_enabled).first(conn)?)
}

/// Turns the member's SMS on or off; notices already queued keep their channels.
pub fn set_sms_enabled(conn: &mut DbConnection, member_id: i64, on: bool, now: NaiveDateTime) -> Result<(), ApiError> {
    diesel::update(members::table.find(member_id))
        .set((members::sms_enabled.eq(on), members::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}
