//! Years whose official arrangement the office still has to enter. The project ships only
//! arrangements the State Council has published and never invents one; until an admin enters
//! a year, working days counted into it take weekends only. The current year is wanted at
//! once; next year's from 1 November, when the State Council usually publishes it.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::schema::{committees, members};

pub const KIND: &str = "calendar.missing";
/// From this month of a year, next year's arrangement is expected.
const NEXT_YEAR_FROM_MONTH: u32 = 11;

/// The years to ask for on local date `today`, given the years the committee has.
pub fn wanted_years(today: NaiveDate, known: &super::KnownYears) -> Vec<i32> {
    let mut years = vec![today.year()];
    if today.month() >= NEXT_YEAR_FROM_MONTH {
        years.push(today.year() + 1);
    }
    years.retain(|y| !known.0.contains(y));
    years
}

/// The years the committee's admins should enter now.
pub fn missing_now(conn: &mut DbConnection, committee_id: i64, now: NaiveDateTime) -> Result<Vec<i32>, ApiError> {
    let tz = crate::committee::timezone(conn, committee_id)?;
    let today = now.and_utc().with_timezone(&tz).date_naive();
    Ok(wanted_years(today, &super::store::known_years(conn, committee_id)?))
}

/// The notice to the committee's admins (`calendar.missing`).
#[derive(Debug, Serialize)]
pub struct CalendarMissingPayload {
    pub year: i32,
    pub message: String,
    /// The committee's active admins: who is to enter it.
    pub member_ids: Vec<i64>,
}

pub fn message_zh(year: i32) -> String {
    format!(
        "{year} 年节假日安排尚未设置。国务院公布后，请在控制台“节假日”页录入；在此之前，排班和办理时限只按周末计算，属暂定。"
    )
}

/// Queues one `calendar.missing` notice per committee and year that needs entering; the number
/// written (a dedupe key per committee and year keeps it to one, however many instances run).
pub fn notify_admins(conn: &mut DbConnection, now: NaiveDateTime) -> Result<usize, ApiError> {
    let ids: Vec<i64> = committees::table.select(committees::id).order(committees::id).load(conn)?;
    let mut queued = 0;
    for committee_id in ids {
        let missing = missing_now(conn, committee_id, now)?;
        if missing.is_empty() {
            continue;
        }
        let member_ids: Vec<i64> = members::table
            .filter(members::committee_id.eq(committee_id).and(members::active.eq(true)))
            .filter(members::roles.like("%admin%"))
            .order(members::id)
            .select(members::id)
            .load(conn)?;
        for year in missing {
            let key = format!("calendar-missing:{committee_id}:{year}");
            let payload = CalendarMissingPayload { year, message: message_zh(year), member_ids: member_ids.clone() };
            if crate::outbox::try_enqueue(conn, committee_id, KIND, Some(&key), &payload, now)? {
                queued += 1;
            }
        }
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::KnownYears;

    #[test]
    fn the_current_year_at_once_and_next_year_from_november() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let known = KnownYears([2026].into_iter().collect());
        assert_eq!(wanted_years(d(2026, 10, 31), &known), Vec::<i32>::new());
        assert_eq!(wanted_years(d(2026, 11, 1), &known), vec![2027]);
        assert_eq!(wanted_years(d(2027, 3, 10), &known), vec![2027]);
        assert_eq!(wanted_years(d(2027, 12, 31), &known), vec![2027, 2028]);
        assert_eq!(wanted_years(d(2028, 2, 29), &KnownYears::default()), vec![2028]);
    }
}
