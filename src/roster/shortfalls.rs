//! A roster's shortfalls as they are now: every shift with fewer members than its minimum,
//! counting only active members still on it. The generator's reasons (pool too small, leave
//! known then, overlaps, the monthly limit) stay where they still apply, and what happened
//! since is added: an approved leave, a removal or swap, a deactivation. So after a leave
//! takes a member off the 25th, the API and the console say the shift is short, instead of
//! what the generator saw a month ago.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use diesel::prelude::*;

use super::views::{RosterHeader, ShortfallReasonView, ShortfallView};
use crate::db::DbConnection;
use crate::domain::LeaveStatus;
use crate::error::ApiError;
use crate::schema::{assignments, leave_requests, members, shifts};

/// Reason codes added after generation (the generator's own are in `views::shortfall_views`).
pub const MEMBERS_ON_LEAVE: &str = "members_on_leave";
pub const MEMBER_REMOVED: &str = "member_removed";
pub const MEMBER_INACTIVE: &str = "member_inactive";

struct ShiftNeed {
    id: i64,
    template_id: i64,
    venue_id: i64,
    date: NaiveDate,
    head_min: i32,
}

/// The roster's shortfalls now, soonest first, optionally only at some venues.
pub fn current(
    conn: &mut DbConnection,
    header: &RosterHeader,
    venue_filter: Option<&[i64]>,
) -> Result<Vec<ShortfallView>, ApiError> {
    let mut query = shifts::table.filter(shifts::roster_id.eq(header.id)).into_boxed();
    if let Some(v) = venue_filter {
        query = query.filter(shifts::venue_id.eq_any(v.to_vec()));
    }
    let needs: Vec<ShiftNeed> = query
        .order((shifts::local_date, shifts::starts_at, shifts::venue_id))
        .select((shifts::id, shifts::template_id, shifts::venue_id, shifts::local_date, shifts::head_min))
        .load::<(i64, i64, i64, NaiveDate, i32)>(conn)?
        .into_iter()
        .map(|(id, template_id, venue_id, date, head_min)| ShiftNeed { id, template_id, venue_id, date, head_min })
        .collect();
    // Everyone ever placed on the roster's shifts: (shift, member, still on it, member active).
    let placed: Vec<(i64, i64, bool, bool)> = assignments::table
        .inner_join(shifts::table)
        .inner_join(members::table)
        .filter(shifts::roster_id.eq(header.id))
        .select((assignments::shift_id, assignments::member_id, assignments::removed_at.is_null(), members::active))
        .load(conn)?;
    let mut on_shift: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    let mut inactive: BTreeMap<i64, u32> = BTreeMap::new();
    for &(shift, member, live, active) in &placed {
        if live {
            on_shift.entry(shift).or_default().insert(member);
            if !active {
                *inactive.entry(shift).or_default() += 1;
            }
        }
    }
    // Taken off and not put back (a member swapped away and back counts as on the shift).
    let mut taken_off: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for &(shift, member, live, _) in &placed {
        if !live && !on_shift.get(&shift).is_some_and(|m| m.contains(&member)) {
            taken_off.entry(shift).or_default().insert(member);
        }
    }
    let absent: Vec<i64> = taken_off.values().flatten().copied().collect::<BTreeSet<_>>().into_iter().collect();
    let mut leave: BTreeMap<i64, Vec<(NaiveDate, NaiveDate)>> = BTreeMap::new();
    for chunk in absent.chunks(500) {
        let spans: Vec<(i64, NaiveDate, NaiveDate)> = leave_requests::table
            .filter(leave_requests::member_id.eq_any(chunk))
            .filter(leave_requests::status.eq(LeaveStatus::Approved))
            .filter(leave_requests::date_from.le(header.period_to))
            .filter(leave_requests::date_to.ge(header.period_from))
            .select((leave_requests::member_id, leave_requests::date_from, leave_requests::date_to))
            .load(conn)?;
        for (member, from, to) in spans {
            leave.entry(member).or_default().push((from, to));
        }
    }
    let generated: Vec<ShortfallView> = serde_json::from_str(&header.shortfalls).unwrap_or_default();
    let mut known: BTreeMap<(i64, i64, NaiveDate), Vec<ShortfallReasonView>> =
        generated.into_iter().map(|s| ((s.template_id, s.venue_id, s.date), s.reasons)).collect();

    let mut shortfalls = Vec::new();
    for need in needs {
        let active_on_shift =
            on_shift.get(&need.id).map_or(0, |m| m.len() as u32) - inactive.get(&need.id).unwrap_or(&0);
        let needed = need.head_min.max(0) as u32;
        if active_on_shift >= needed {
            continue;
        }
        let mut reasons = known.remove(&(need.template_id, need.venue_id, need.date)).unwrap_or_default();
        let (mut on_leave, mut removed) = (0, 0);
        for member in taken_off.get(&need.id).into_iter().flatten() {
            let away = leave.get(member).is_some_and(|s| s.iter().any(|(f, t)| (*f..=*t).contains(&need.date)));
            if away { on_leave += 1 } else { removed += 1 }
        }
        for (code, members) in [
            (MEMBERS_ON_LEAVE, on_leave),
            (MEMBER_REMOVED, removed),
            (MEMBER_INACTIVE, *inactive.get(&need.id).unwrap_or(&0)),
        ] {
            if members == 0 {
                continue;
            }
            match reasons.iter_mut().find(|r| r.code == code) {
                Some(r) => r.members += members,
                None => reasons.push(ShortfallReasonView { code: code.to_owned(), members }),
            }
        }
        shortfalls.push(ShortfallView {
            shift_id: Some(need.id),
            template_id: need.template_id,
            venue_id: need.venue_id,
            date: need.date,
            needed,
            got: active_on_shift,
            reasons,
        });
    }
    Ok(shortfalls)
}
