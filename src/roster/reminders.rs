//! Duty reminders (DESIGN §3: 7 days and 1 day before a duty, configurable per committee).
//!
//! Each reminder is an outbox row with the dedupe key `reminder:{assignment_id}:{days}`, so
//! however many instances run this, and however often, a member gets each reminder once.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConnection;
use crate::domain::CommitteeSettings;
use crate::error::ApiError;
use crate::schema::{assignments, committees, members, rosters, shifts, venues};

pub const KIND: &str = "duty.reminder";

/// The `payload` of a `duty.reminder`. Names the member by id and name only: the push bridge
/// maps the id to a device; phone numbers stay in zhiban.
#[derive(Debug, Clone, Serialize)]
pub struct ReminderPayload {
    pub assignment_id: i64,
    pub shift_id: i64,
    pub member_id: i64,
    pub member_name: String,
    /// `lead` or `member`.
    pub role: String,
    pub venue_id: i64,
    pub venue_name: String,
    /// Local date of the duty, `YYYY-MM-DD`, in `timezone`.
    pub date: NaiveDate,
    /// Local times, `HH:MM`.
    pub start_time: String,
    pub end_time: String,
    /// The same window as instants (RFC 3339, UTC).
    pub starts_at: String,
    pub ends_at: String,
    pub timezone: String,
    /// Which reminder this is (one of the committee's `reminder_days_before`).
    pub days_before: u32,
    /// Days from today (local) to the duty; smaller than `days_before` when the duty was
    /// rostered late or the reminder was caught up after an outage.
    pub days_until: u32,
}

type DueRow =
    (i64, i64, i64, String, String, i64, String, NaiveDate, NaiveTime, NaiveTime, NaiveDateTime, NaiveDateTime);

/// Queues the reminders due at `now`; returns how many new rows were written.
///
/// For a committee with `reminder_days_before = [7, 1]`, a duty whose local date is 2–7 days
/// away gets the `7` reminder and one 0–1 days away (not yet started) gets the `1` reminder:
/// each reminder covers the window down to the next smaller one, so a roster published late,
/// or an outage over the exact day, still yields one reminder per step. Only active
/// assignments of published rosters, of active members, count.
pub fn schedule_reminders(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, ApiError> {
    let committees: Vec<(i64, String, String)> = committees::table
        .select((committees::id, committees::timezone, committees::settings))
        .order(committees::id)
        .load(conn)?;
    let mut queued = 0;
    for (committee_id, timezone, settings) in committees {
        let tz = crate::committee::parse_timezone(committee_id, &timezone);
        let settings: CommitteeSettings = serde_json::from_str(&settings).map_err(ApiError::unexpected)?;
        let today = now.and_utc().with_timezone(&tz).date_naive();
        let mut steps = settings.reminder_days_before.clone();
        steps.sort_unstable();
        steps.dedup();
        let mut after: Option<u32> = None;
        for days in steps {
            let from = match after {
                Some(smaller) => today + chrono::Days::new(u64::from(smaller) + 1),
                None => today,
            };
            let to = today + chrono::Days::new(u64::from(days));
            after = Some(days);
            let due: Vec<DueRow> = assignments::table
                .inner_join(shifts::table.inner_join(rosters::table).inner_join(venues::table))
                .inner_join(members::table)
                .filter(assignments::committee_id.eq(committee_id))
                .filter(crate::roster::duties::live())
                .filter(shifts::local_date.between(from, to))
                .filter(shifts::starts_at.gt(now))
                .filter(members::active.eq(true))
                .order(assignments::id)
                .select((
                    assignments::id,
                    shifts::id,
                    members::id,
                    members::name,
                    assignments::role,
                    venues::id,
                    venues::name,
                    shifts::local_date,
                    shifts::start_time,
                    shifts::end_time,
                    shifts::starts_at,
                    shifts::ends_at,
                ))
                .load(conn)?;
            for (
                assignment_id,
                shift_id,
                member_id,
                member_name,
                role,
                venue_id,
                venue_name,
                date,
                start,
                end,
                starts_at,
                ends_at,
            ) in due
            {
                let payload = ReminderPayload {
                    assignment_id,
                    shift_id,
                    member_id,
                    member_name,
                    role,
                    venue_id,
                    venue_name,
                    date,
                    start_time: start.format("%H:%M").to_string(),
                    end_time: end.format("%H:%M").to_string(),
                    starts_at: starts_at.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true),
                    ends_at: ends_at.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true),
                    timezone: tz.name().to_owned(),
                    days_before: days,
                    days_until: (date - today).num_days().max(0) as u32,
                };
                let key = format!("reminder:{assignment_id}:{days}");
                if crate::outbox::try_enqueue(conn, committee_id, KIND, Some(&key), &payload, now)? {
                    queued += 1;
                }
            }
        }
    }
    Ok(queued)
}
