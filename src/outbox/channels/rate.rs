//! At most [`PER_MINUTE`] messages a minute to one robot, however many instances send.
//!
//! Each robot has [`PER_MINUTE`] slot rows. A send takes the slot used longest ago, and only
//! if that use is more than [`WINDOW`] old, by a conditional `UPDATE … WHERE used_at = <as
//! read>`: of two instances racing for one slot only one changes the row. So any window of
//! one minute holds at most [`PER_MINUTE`] sends; a message beyond that waits until a slot
//! frees, and is never dropped.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::{self, DbConnection};
use crate::schema::channel_send_slots;

/// DingTalk's documented limit (a robot over it is blocked for ten minutes); WeCom's is the same.
pub const PER_MINUTE: i32 = 20;
/// A minute, and a second more for the request's time on the wire.
pub const WINDOW: Duration = Duration::seconds(61);

/// Takes a slot for a send to `target` at `now`, or tells when the next one frees.
pub fn take(conn: &mut DbConnection, target: &str, now: NaiveDateTime) -> QueryResult<Result<(), NaiveDateTime>> {
    let have: i64 = channel_send_slots::table.filter(channel_send_slots::target.eq(target)).count().get_result(conn)?;
    if have < i64::from(PER_MINUTE) {
        let never = chrono::DateTime::UNIX_EPOCH.naive_utc();
        for slot in 0..PER_MINUTE {
            let inserted = db::may_conflict(conn, |conn| {
                diesel::insert_into(channel_send_slots::table)
                    .values((
                        channel_send_slots::target.eq(target),
                        channel_send_slots::slot.eq(slot),
                        channel_send_slots::used_at.eq(never),
                    ))
                    .execute(conn)
            });
            match inserted {
                Ok(_)
                | Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    for _ in 0..5 {
        let (slot, used_at): (i32, NaiveDateTime) = channel_send_slots::table
            .filter(channel_send_slots::target.eq(target))
            .order((channel_send_slots::used_at, channel_send_slots::slot))
            .select((channel_send_slots::slot, channel_send_slots::used_at))
            .first(conn)?;
        if used_at > now - WINDOW {
            return Ok(Err(used_at + WINDOW));
        }
        let won = diesel::update(
            channel_send_slots::table
                .filter(channel_send_slots::target.eq(target))
                .filter(channel_send_slots::slot.eq(slot))
                .filter(channel_send_slots::used_at.eq(used_at)),
        )
        .set(channel_send_slots::used_at.eq(now))
        .execute(conn)?;
        if won == 1 {
            return Ok(Ok(()));
        }
    }
    Ok(Err(now + Duration::seconds(1)))
}
