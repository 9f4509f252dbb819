//! The audit trail: who changed what, when. Written in the same transaction as the change.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::schema::audit_events;

// Each argument is one column of what is recorded; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn record(
    conn: &mut DbConnection,
    committee_id: i64,
    actor_id: Option<i64>,
    action: &str,
    subject_type: &str,
    subject_id: Option<i64>,
    detail: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::committee_id.eq(committee_id),
            audit_events::actor_id.eq(actor_id),
            audit_events::action.eq(action),
            audit_events::subject_type.eq(subject_type),
            audit_events::subject_id.eq(subject_id),
            audit_events::detail.eq(detail),
            audit_events::at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
