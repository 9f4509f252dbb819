//! Setting a year's working-day calendar: the one path the API and the console both take.

use chrono::NaiveDateTime;

use super::store;
use super::views::{CalendarUpload, year_param};
use crate::db::DbConnection;
use crate::error::ApiError;

/// Sets a year's arrangement as a whole, as `actor` (an admin): checked, stored, audited.
/// Shared by the API and the console; runs inside the caller's transaction.
pub fn set_year(
    conn: &mut DbConnection,
    committee_id: i64,
    actor: i64,
    year: i32,
    upload: CalendarUpload,
    now: NaiveDateTime,
) -> Result<store::StoredYear, ApiError> {
    let year = year_param(year)?;
    let source = upload.source.clone();
    let arrangement = upload.into_arrangement(year)?;
    store::replace(conn, committee_id, &arrangement, source.as_deref(), Some(actor), now)?;
    crate::audit::record(
        conn,
        committee_id,
        Some(actor),
        "calendar.replaced",
        "calendar_year",
        Some(year.into()),
        "",
        now,
    )?;
    store::load(conn, committee_id, year)?.ok_or_else(|| ApiError::unexpected(anyhow::anyhow!("calendar vanished")))
}
