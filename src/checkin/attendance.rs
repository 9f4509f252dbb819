//! Attendance of assignments: derived from the roster, check-ins and approved leave and swaps
//! on every read, so it can never disagree with them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbConnection;
use crate::domain::CheckinReview;
use crate::error::ApiError;
use crate::schema::{assignments, checkins, leave_requests, members, rosters, shifts, swap_requests};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceStatus {
    Present,
    Late,
    Absent,
    /// Off the duty through approved leave or an approved swap.
    Excused,
    /// The shift is under way and the member has checked in.
    CheckedIn,
    /// The shift is under way (or opening) and the member has not checked in yet.
    NotCheckedIn,
    Upcoming,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttendanceRow {
    pub assignment_id: i64,
    pub member_id: i64,
    pub member_name: String,
    pub shift_id: i64,
    pub venue_id: i64,
    pub date: NaiveDate,
    pub status: AttendanceStatus,
    /// The check-in the status rests on; a refused one does not count and is not named.
    pub checkin_id: Option<i64>,
    /// `present`, `late` or `checked_in` rests on a check-in uploaded offline that no
    /// coordinator has confirmed yet (`GET /api/v1/checkins/unconfirmed`).
    pub unconfirmed: bool,
}

type Row = (i64, i64, String, i64, i64, NaiveDate, NaiveDateTime, NaiveDateTime, Option<NaiveDateTime>);

pub fn compute(
    conn: &mut DbConnection,
    committee_id: i64,
    from: NaiveDate,
    to: NaiveDate,
    now: NaiveDateTime,
) -> Result<Vec<AttendanceRow>, ApiError> {
    let rows: Vec<Row> = assignments::table
        .inner_join(shifts::table.inner_join(rosters::table))
        .inner_join(members::table)
        .filter(assignments::committee_id.eq(committee_id))
        .filter(crate::roster::duties::published())
        .filter(shifts::local_date.between(from, to))
        .order((shifts::starts_at, shifts::id, assignments::id))
        .select((
            assignments::id,
            assignments::member_id,
            members::name,
            shifts::id,
            shifts::venue_id,
            shifts::local_date,
            shifts::starts_at,
            shifts::ends_at,
            assignments::removed_at,
        ))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    // assignment → (check-in, late, awaiting review); refused check-ins do not count.
    let mut checked: BTreeMap<i64, (i64, bool, bool)> = BTreeMap::new();
    let mut swapped: BTreeSet<i64> = BTreeSet::new();
    for chunk in ids.chunks(500) {
        let found: Vec<(i64, i64, bool, Option<CheckinReview>)> = checkins::table
            .filter(checkins::assignment_id.eq_any(chunk))
            .filter(super::scan::counts())
            .select((checkins::assignment_id, checkins::id, checkins::late, checkins::review))
            .load(conn)?;
        checked.extend(
            found.into_iter().map(|(a, id, late, review)| (a, (id, late, review == Some(CheckinReview::Pending)))),
        );
        let s: Vec<i64> = swap_requests::table
            .filter(swap_requests::assignment_id.eq_any(chunk))
            .filter(swap_requests::status.eq("approved"))
            .select(swap_requests::assignment_id)
            .load(conn)?;
        swapped.extend(s);
    }
    let leave: Vec<(i64, NaiveDate, NaiveDate)> = leave_requests::table
        .filter(leave_requests::committee_id.eq(committee_id))
        .filter(leave_requests::status.eq("approved"))
        .filter(leave_requests::date_to.ge(from).and(leave_requests::date_from.le(to)))
        .select((leave_requests::member_id, leave_requests::date_from, leave_requests::date_to))
        .load(conn)?;
    let on_leave =
        |member: i64, date: NaiveDate| leave.iter().any(|(m, f, t)| *m == member && (*f..=*t).contains(&date));
    let opens = crate::roster::duties::opens_before();
    let mut out = Vec::new();
    for (assignment_id, member_id, member_name, shift_id, venue_id, date, starts_at, ends_at, removed_at) in rows {
        let excused = swapped.contains(&assignment_id) || on_leave(member_id, date);
        let status = match (removed_at, checked.get(&assignment_id)) {
            // Taken off for leave or a swap: excused; otherwise it is simply no longer their duty.
            (Some(_), _) if excused => AttendanceStatus::Excused,
            (Some(_), _) => continue,
            (None, Some((_, late, _))) if now >= ends_at => {
                if *late {
                    AttendanceStatus::Late
                } else {
                    AttendanceStatus::Present
                }
            }
            (None, Some(_)) => AttendanceStatus::CheckedIn,
            (None, None) if excused => AttendanceStatus::Excused,
            (None, None) if now >= ends_at => AttendanceStatus::Absent,
            (None, None) if now >= starts_at - opens => AttendanceStatus::NotCheckedIn,
            (None, None) => AttendanceStatus::Upcoming,
        };
        let unconfirmed =
            matches!(status, AttendanceStatus::Present | AttendanceStatus::Late | AttendanceStatus::CheckedIn)
                && checked.get(&assignment_id).is_some_and(|c| c.2);
        out.push(AttendanceRow {
            assignment_id,
            member_id,
            member_name,
            shift_id,
            venue_id,
            date,
            status,
            checkin_id: checked.get(&assignment_id).map(|c| c.0),
            unconfirmed,
        });
    }
    Ok(out)
}
