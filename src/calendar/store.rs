use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::YearArrangement;
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::schema::{calendar_days, calendar_years};

pub const HOLIDAY: &str = "holiday";
pub const ADJUSTED_WORKING_DAY: &str = "adjusted_working_day";

pub struct StoredYear {
    pub arrangement: YearArrangement,
    pub source: Option<String>,
    pub updated_at: NaiveDateTime,
}

pub fn load(conn: &mut DbConnection, committee_id: i64, year: i32) -> Result<Option<StoredYear>, ApiError> {
    let header = calendar_years::table
        .filter(calendar_years::committee_id.eq(committee_id).and(calendar_years::year.eq(year)))
        .select((calendar_years::source, calendar_years::updated_at))
        .first::<(Option<String>, NaiveDateTime)>(conn)
        .optional()?;
    let Some((source, updated_at)) = header else { return Ok(None) };
    let (first, last) = year_bounds(year);
    let days: Vec<(NaiveDate, String, String)> = calendar_days::table
        .filter(calendar_days::committee_id.eq(committee_id))
        .filter(calendar_days::day.between(first, last))
        .select((calendar_days::day, calendar_days::kind, calendar_days::name))
        .order(calendar_days::day)
        .load(conn)?;
    let mut arrangement = YearArrangement { year, holidays: Vec::new(), adjusted_working_days: Vec::new() };
    for (day, kind, name) in days {
        if kind == HOLIDAY {
            arrangement.holidays.push((day, name));
        } else {
            arrangement.adjusted_working_days.push(day);
        }
    }
    Ok(Some(StoredYear { arrangement, source, updated_at }))
}

/// Replaces the year's arrangement as a whole (the State Council publishes whole years).
pub fn replace(
    conn: &mut DbConnection,
    committee_id: i64,
    arrangement: &YearArrangement,
    source: Option<&str>,
    actor_id: Option<i64>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let (first, last) = year_bounds(arrangement.year);
    diesel::delete(
        calendar_days::table
            .filter(calendar_days::committee_id.eq(committee_id))
            .filter(calendar_days::day.between(first, last)),
    )
    .execute(conn)?;
    diesel::delete(
        calendar_years::table
            .filter(calendar_years::committee_id.eq(committee_id).and(calendar_years::year.eq(arrangement.year))),
    )
    .execute(conn)?;
    diesel::insert_into(calendar_years::table)
        .values((
            calendar_years::committee_id.eq(committee_id),
            calendar_years::year.eq(arrangement.year),
            calendar_years::source.eq(source),
            calendar_years::updated_at.eq(now),
            calendar_years::updated_by.eq(actor_id),
        ))
        .execute(conn)?;
    let days = arrangement
        .holidays
        .iter()
        .map(|(d, n)| (*d, HOLIDAY, n.as_str()))
        .chain(arrangement.adjusted_working_days.iter().map(|d| (*d, ADJUSTED_WORKING_DAY, "调休上班")));
    for (day, kind, name) in days {
        diesel::insert_into(calendar_days::table)
            .values((
                calendar_days::committee_id.eq(committee_id),
                calendar_days::day.eq(day),
                calendar_days::kind.eq(kind),
                calendar_days::name.eq(name),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn year_bounds(year: i32) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(year, 1, 1).expect("valid year"),
        NaiveDate::from_ymd_opt(year, 12, 31).expect("valid year"),
    )
}

/// The committee's working-day calendar for dates in `[from, to]`, from every uploaded year
/// they touch. Years never uploaded count weekends only: callers that need certainty check
/// [`missing_years`] first.
pub fn working_days(
    conn: &mut DbConnection,
    committee_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<super::WorkingDayCalendar, ApiError> {
    let days: Vec<(NaiveDate, String)> = calendar_days::table
        .filter(calendar_days::committee_id.eq(committee_id))
        .filter(calendar_days::day.between(from, to))
        .select((calendar_days::day, calendar_days::kind))
        .load(conn)?;
    let (holidays, adjusted): (Vec<_>, Vec<_>) = days.into_iter().partition(|(_, kind)| kind == HOLIDAY);
    Ok(super::WorkingDayCalendar::new(holidays.into_iter().map(|d| d.0), adjusted.into_iter().map(|d| d.0)))
}

/// The years the committee has an arrangement for.
pub fn known_years(conn: &mut DbConnection, committee_id: i64) -> Result<super::KnownYears, ApiError> {
    let years: Vec<i32> = calendar_years::table
        .filter(calendar_years::committee_id.eq(committee_id))
        .select(calendar_years::year)
        .load(conn)?;
    Ok(super::KnownYears(years.into_iter().collect()))
}

/// Years in `[from, to]` with no uploaded arrangement.
pub fn missing_years(
    conn: &mut DbConnection,
    committee_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<i32>, ApiError> {
    use chrono::Datelike;
    let uploaded: Vec<i32> = calendar_years::table
        .filter(calendar_years::committee_id.eq(committee_id))
        .filter(calendar_years::year.between(from.year(), to.year()))
        .select(calendar_years::year)
        .load(conn)?;
    Ok((from.year()..=to.year()).filter(|y| !uploaded.contains(y)).collect())
}
