//! The demo county's rosters, laid around the day the demo starts: published from three months
//! before the current month (the past that `history` fills with check-ins and items) through the
//! twelve months after it, the printed member on the next reception day at their studio and on
//! an ad hoc duty at the CPPCC Home that is open for check-in at once, and a display device for
//! the Home and the member's studio so the printed display links work.

use chrono::{Datelike, Duration, DurationRound, Months, NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::ApiError;
use crate::schema::{assignments, members, rosters, shift_templates, shifts};

/// Months of published past before the current month: a quarter's report has something in it.
pub const HISTORY_MONTHS: u32 = 3;
/// Months published after the current one.
pub const AHEAD_MONTHS: u32 = 12;

/// The published period for a demo started on local date `today`.
pub fn period(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let month = today.with_day(1).expect("day 1 exists");
    let from = month - Months::new(HISTORY_MONTHS);
    let to = month + Months::new(AHEAD_MONTHS + 1) - Duration::days(1);
    (from, to)
}

/// Generates and publishes the period around `now`; the roster id and the years it spans that
/// have no official calendar (counted with weekends only).
pub fn publish_period(
    conn: &mut DbConnection,
    committee_id: i64,
    admin_id: i64,
    now: NaiveDateTime,
) -> Result<(i64, Vec<i32>), ApiError> {
    let tz = crate::committee::timezone(conn, committee_id)?;
    let (from, to) = period(crate::committee::local_date(tz, now));
    diesel::Connection::transaction(conn, |conn| {
        let missing = crate::calendar::store::missing_years(conn, committee_id, from, to)?;
        let (input, templates) = crate::roster::store::generation_input(conn, committee_id, from, to, None)?;
        let generated = crate::roster::generate(&input);
        let roster_id = crate::roster::store::insert_draft(
            conn,
            committee_id,
            admin_id,
            from,
            to,
            &generated,
            &templates,
            &missing,
            now,
        )?;
        crate::roster::changes::publish(conn, committee_id, roster_id, admin_id, None, now)?;
        Ok((roster_id, missing))
    })
}

/// Puts `member_id` on the next reception day of `studio` (if the generator did not) and on an
/// ad hoc duty at `home` that starts 30 minutes from `now`, so its check-in window is open at
/// once. Written into the published roster as a new version would be by a coordinator.
pub fn printed_member_duties(
    conn: &mut DbConnection,
    committee_id: i64,
    roster_id: i64,
    member_id: i64,
    studio: i64,
    home: i64,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let next_reception: Option<i64> = shifts::table
        .inner_join(shift_templates::table)
        .filter(shifts::roster_id.eq(roster_id))
        .filter(shifts::venue_id.eq(studio))
        .filter(shift_templates::kind.eq("reception_day"))
        .filter(shifts::starts_at.gt(now))
        .order(shifts::starts_at)
        .select(shifts::id)
        .first(conn)
        .optional()?;
    if let Some(shift_id) = next_reception {
        let on_it: bool = diesel::select(diesel::dsl::exists(
            assignments::table
                .filter(assignments::shift_id.eq(shift_id))
                .filter(assignments::member_id.eq(member_id))
                .filter(assignments::removed_at.is_null()),
        ))
        .get_result(conn)?;
        if !on_it {
            assign(conn, committee_id, shift_id, member_id, "member", "演示：示例委员参加本月接待日", now)?;
        }
    }

    let tz = crate::committee::timezone(conn, committee_id)?;
    let starts = now.duration_trunc(Duration::minutes(5)).map_err(ApiError::unexpected)? + Duration::minutes(30);
    let ends = starts + Duration::hours(3);
    let local = |t: NaiveDateTime| t.and_utc().with_timezone(&tz).naive_local();
    let template: i64 = diesel::insert_into(shift_templates::table)
        .values((
            shift_templates::committee_id.eq(committee_id),
            shift_templates::venue_id.eq(home),
            shift_templates::name.eq("临时值班"),
            shift_templates::kind.eq("custom"),
            shift_templates::rrule.eq("FREQ=DAILY;COUNT=1"),
            shift_templates::start_time.eq(local(starts).time()),
            shift_templates::end_time.eq(local(ends).time()),
            shift_templates::head_min.eq(1),
            shift_templates::head_max.eq(2),
            shift_templates::head_target.eq(1),
            shift_templates::include_roving.eq(false),
            shift_templates::holiday_policy.eq("keep"),
            shift_templates::one_per_member_per_month.eq(false),
            shift_templates::also_on_adjusted_working_days.eq(true),
            // A one-off: no generation picks it up again.
            shift_templates::active.eq(false),
            shift_templates::created_at.eq(now),
            shift_templates::updated_at.eq(now),
        ))
        .returning(shift_templates::id)
        .get_result(conn)?;
    // A shift that runs past local midnight ends at 23:59 of its day: shifts are one local date.
    let end_time = if local(ends).date() == local(starts).date() {
        local(ends).time()
    } else {
        NaiveTime::from_hms_opt(23, 59, 0).expect("valid")
    };
    let shift_id: i64 = diesel::insert_into(shifts::table)
        .values((
            shifts::committee_id.eq(committee_id),
            shifts::roster_id.eq(roster_id),
            shifts::template_id.eq(template),
            shifts::venue_id.eq(home),
            shifts::local_date.eq(local(starts).date()),
            shifts::start_time.eq(local(starts).time()),
            shifts::end_time.eq(end_time),
            shifts::starts_at.eq(starts),
            shifts::ends_at.eq(crate::committee::local_to_utc(tz, local(starts).date(), end_time)),
            shifts::head_min.eq(1),
            shifts::head_max.eq(2),
        ))
        .returning(shifts::id)
        .get_result(conn)?;
    assign(conn, committee_id, shift_id, member_id, "lead", "演示：临时值班，可立即扫码签到", now)?;
    Ok(())
}

fn assign(
    conn: &mut DbConnection,
    committee_id: i64,
    shift_id: i64,
    member_id: i64,
    role: &str,
    reason: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    diesel::insert_into(assignments::table)
        .values((
            assignments::committee_id.eq(committee_id),
            assignments::shift_id.eq(shift_id),
            assignments::member_id.eq(member_id),
            assignments::role.eq(role),
            assignments::source.eq("manual"),
            assignments::reason.eq(reason),
            assignments::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The id of the member with `phone` in the committee.
pub fn member_id(conn: &mut DbConnection, committee_id: i64, phone: &str) -> Result<i64, ApiError> {
    Ok(members::table
        .filter(members::committee_id.eq(committee_id).and(members::phone.eq(phone)))
        .select(members::id)
        .first(conn)?)
}

/// Whether the committee's roster already covers `date` (a demo database started again).
pub fn covers(conn: &mut DbConnection, committee_id: i64, date: NaiveDate) -> Result<bool, ApiError> {
    Ok(diesel::select(diesel::dsl::exists(
        rosters::table
            .filter(rosters::committee_id.eq(committee_id))
            .filter(crate::roster::duties::published())
            .filter(rosters::period_from.le(date).and(rosters::period_to.ge(date))),
    ))
    .get_result(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_period_runs_from_three_months_back_through_twelve_ahead() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(period(d(2026, 12, 1)), (d(2026, 9, 1), d(2027, 12, 31)));
        assert_eq!(period(d(2027, 3, 10)), (d(2026, 12, 1), d(2028, 3, 31)));
        assert_eq!(period(d(2028, 2, 29)), (d(2027, 11, 1), d(2029, 2, 28)));
        assert_eq!(period(d(2027, 1, 1)), (d(2026, 10, 1), d(2028, 1, 31)));
    }
}
