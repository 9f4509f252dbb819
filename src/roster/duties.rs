//! Duties (值班): the live assignments of published rosters, the shift a duty is on, who may
//! take a duty, and who is on duty at a venue at an instant. Everything that moves a member on
//! or off a shift goes through here, so the rules are written once.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::domain::{LeaveStatus, RosterStatus};
use crate::error::{ApiError, ErrorCode};
use crate::schema::{assignments, leave_requests, members, roster_changes, rosters, shifts};

/// A duty's window opens this long before its shift starts (check-in, the live inbox) and
/// closes at the shift's end.
pub const OPENS_BEFORE_MINUTES: i64 = 60;

pub fn opens_before() -> Duration {
    Duration::minutes(OPENS_BEFORE_MINUTES)
}

/// The filter "on a published roster" (drafts are not yet anyone's duty; discarded rosters no
/// longer are).
pub fn published() -> diesel::dsl::Eq<rosters::status, RosterStatus> {
    rosters::status.eq(RosterStatus::Published)
}

/// The filter "a live duty": a held assignment on a published roster. For queries joining
/// assignments with their shifts and rosters.
pub fn live()
-> diesel::dsl::And<diesel::dsl::IsNull<assignments::removed_at>, diesel::dsl::Eq<rosters::status, RosterStatus>> {
    assignments::removed_at.is_null().and(published())
}

/// The filter "the duty's window holds `at`": from [`OPENS_BEFORE_MINUTES`] before the start to
/// the end of the shift.
pub fn window_holds(
    at: NaiveDateTime,
) -> diesel::dsl::And<
    diesel::dsl::LtEq<shifts::starts_at, NaiveDateTime>,
    diesel::dsl::GtEq<shifts::ends_at, NaiveDateTime>,
> {
    shifts::starts_at.le(at + opens_before()).and(shifts::ends_at.ge(at))
}

/// Members whose live duty at `venue_id` has its window around `at`.
pub fn on_duty_members(conn: &mut DbConnection, venue_id: i64, at: NaiveDateTime) -> Result<Vec<i64>, ApiError> {
    Ok(assignments::table
        .inner_join(shifts::table.inner_join(rosters::table))
        .filter(shifts::venue_id.eq(venue_id))
        .filter(live())
        .filter(window_holds(at))
        .select(assignments::member_id)
        .distinct()
        .load(conn)?)
}

/// An assignment that is still a live duty: who holds it and on which shift.
pub struct HeldDuty {
    pub member_id: i64,
    pub shift_id: i64,
}

/// The live duty an assignment is; 404 for another committee's, 409 once it is no longer on
/// a published roster.
pub fn held_duty(conn: &mut DbConnection, committee_id: i64, assignment_id: i64) -> Result<HeldDuty, ApiError> {
    let row: Option<(i64, i64, RosterStatus, Option<NaiveDateTime>)> = assignments::table
        .inner_join(shifts::table.inner_join(rosters::table))
        .filter(assignments::committee_id.eq(committee_id).and(assignments::id.eq(assignment_id)))
        .select((assignments::member_id, shifts::id, rosters::status, assignments::removed_at))
        .first(conn)
        .optional()?;
    match row {
        Some((member_id, shift_id, RosterStatus::Published, None)) => Ok(HeldDuty { member_id, shift_id }),
        Some(_) => {
            Err(ApiError::new(ErrorCode::InvalidTransition).with_detail("the duty is no longer on a published roster"))
        }
        None => Err(ApiError::not_found()),
    }
}

/// The shift a change is about, with its roster's state.
pub struct ShiftContext {
    pub shift_id: i64,
    pub roster_id: i64,
    pub venue_id: i64,
    pub date: NaiveDate,
    pub starts_at: chrono::NaiveDateTime,
    pub ends_at: chrono::NaiveDateTime,
    pub head_max: i32,
    pub published: bool,
    pub version: i32,
}

pub fn shift_context(conn: &mut DbConnection, committee_id: i64, shift_id: i64) -> Result<ShiftContext, ApiError> {
    let (roster_id, venue_id, date, starts_at, ends_at, head_max, status, version) = shifts::table
        .inner_join(rosters::table)
        .filter(shifts::committee_id.eq(committee_id).and(shifts::id.eq(shift_id)))
        .select((
            shifts::roster_id,
            shifts::venue_id,
            shifts::local_date,
            shifts::starts_at,
            shifts::ends_at,
            shifts::head_max,
            rosters::status,
            rosters::version,
        ))
        .first::<(i64, i64, NaiveDate, NaiveDateTime, NaiveDateTime, i32, RosterStatus, i32)>(conn)?;
    if status == RosterStatus::Discarded {
        return Err(ApiError::new(ErrorCode::InvalidTransition).with_detail("the roster was discarded"));
    }
    Ok(ShiftContext {
        shift_id,
        roster_id,
        venue_id,
        date,
        starts_at,
        ends_at,
        head_max,
        published: status == RosterStatus::Published,
        version,
    })
}

pub(super) fn conflict(detail: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::AssignmentConflict).with_detail(detail)
}

/// The hard rules for putting `member_id` on the shift: an active duty member of the
/// committee, not already on it, not on approved leave that day, not on an overlapping shift,
/// and room in the head count — not counting `leaving`, the member the taker would relieve.
pub fn check_can_take(
    conn: &mut DbConnection,
    committee_id: i64,
    ctx: &ShiftContext,
    member_id: i64,
    leaving: Option<i64>,
) -> Result<(), ApiError> {
    let member: Option<(bool, String)> = members::table
        .filter(members::committee_id.eq(committee_id).and(members::id.eq(member_id)))
        .select((members::active, members::roles))
        .first(conn)
        .optional()?;
    let Some((active, roles)) = member else {
        return Err(ApiError::field("member_id", "unknown_member", format!("no member {member_id}")));
    };
    if !active || !roles.contains("member") {
        return Err(conflict("the member is not an active duty member"));
    }
    let on_shift = active_assignment(conn, ctx.shift_id, member_id)?;
    if on_shift.is_some() {
        return Err(conflict("the member is already on this shift"));
    }
    let on_leave: Option<i64> = leave_requests::table
        .filter(leave_requests::member_id.eq(member_id))
        .filter(leave_requests::status.eq(LeaveStatus::Approved))
        .filter(leave_requests::date_from.le(ctx.date).and(leave_requests::date_to.ge(ctx.date)))
        .select(leave_requests::id)
        .first(conn)
        .optional()?;
    if on_leave.is_some() {
        return Err(conflict("the member is on approved leave that day"));
    }
    let overlapping: Option<i64> = assignments::table
        .inner_join(shifts::table.inner_join(rosters::table))
        .filter(assignments::member_id.eq(member_id))
        .filter(assignments::removed_at.is_null())
        .filter(rosters::status.ne(RosterStatus::Discarded))
        .filter(shifts::id.ne(ctx.shift_id))
        .filter(shifts::starts_at.lt(ctx.ends_at).and(shifts::ends_at.gt(ctx.starts_at)))
        .select(shifts::id)
        .first(conn)
        .optional()?;
    if let Some(other) = overlapping {
        return Err(conflict(format!("the member is on shift {other} at the same time")));
    }
    let head: i64 = assignments::table
        .filter(assignments::shift_id.eq(ctx.shift_id).and(assignments::removed_at.is_null()))
        .filter(assignments::member_id.ne(leaving.unwrap_or(0)))
        .count()
        .get_result(conn)?;
    if head >= i64::from(ctx.head_max) {
        return Err(conflict(format!("the shift is full ({} members)", ctx.head_max)));
    }
    Ok(())
}

pub fn active_assignment(
    conn: &mut DbConnection,
    shift_id: i64,
    member_id: i64,
) -> Result<Option<(i64, String)>, ApiError> {
    Ok(assignments::table
        .filter(assignments::shift_id.eq(shift_id))
        .filter(assignments::member_id.eq(member_id))
        .filter(assignments::removed_at.is_null())
        .select((assignments::id, assignments::role))
        .first(conn)
        .optional()?)
}

/// Starts a new version of a published roster; returns the version number the change gets
/// (drafts stay at their version).
pub fn next_version(
    conn: &mut DbConnection,
    ctx: &ShiftContext,
    actor: Option<i64>,
    reason: &str,
    detail: &str,
    now: NaiveDateTime,
) -> Result<i32, ApiError> {
    if !ctx.published {
        diesel::update(rosters::table.find(ctx.roster_id)).set(rosters::updated_at.eq(now)).execute(conn)?;
        return Ok(ctx.version);
    }
    let version: i32 = diesel::update(rosters::table.find(ctx.roster_id))
        .set((rosters::version.eq(rosters::version + 1), rosters::updated_at.eq(now)))
        .returning(rosters::version)
        .get_result(conn)?;
    let committee_id: i64 = rosters::table.find(ctx.roster_id).select(rosters::committee_id).first(conn)?;
    insert_change(conn, committee_id, ctx.roster_id, version, actor, reason, detail, now)?;
    Ok(version)
}

/// Takes an assignment off: deleted from a draft, marked removed on a published roster. Its
/// open swap requests are the caller's to end (`changes::take_off`).
pub fn remove_assignment(
    conn: &mut DbConnection,
    ctx: &ShiftContext,
    assignment_id: i64,
    version: i32,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    if ctx.published {
        diesel::update(assignments::table.find(assignment_id))
            .set((assignments::removed_at.eq(now), assignments::removed_in_version.eq(version)))
            .execute(conn)?;
    } else {
        diesel::delete(assignments::table.find(assignment_id)).execute(conn)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub fn add_assignment(
    conn: &mut DbConnection,
    committee_id: i64,
    ctx: &ShiftContext,
    member_id: i64,
    role: &str,
    source: &str,
    reason: &str,
    version: i32,
    now: NaiveDateTime,
) -> Result<i64, ApiError> {
    Ok(diesel::insert_into(assignments::table)
        .values((
            assignments::committee_id.eq(committee_id),
            assignments::shift_id.eq(ctx.shift_id),
            assignments::member_id.eq(member_id),
            assignments::role.eq(role),
            assignments::source.eq(source),
            assignments::locked.eq(source == "manual"),
            assignments::reason.eq(reason),
            assignments::added_in_version.eq(version),
            assignments::created_at.eq(now),
        ))
        .returning(assignments::id)
        .get_result(conn)?)
}

/// Tells a member their duties changed (only for published rosters: drafts are not yet theirs).
pub fn notify_change(
    conn: &mut DbConnection,
    committee_id: i64,
    ctx: &ShiftContext,
    member_id: i64,
    what: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    if !ctx.published {
        return Ok(());
    }
    crate::outbox::enqueue(
        conn,
        committee_id,
        "roster.changed",
        None,
        &serde_json::json!({
            "member_id": member_id, "shift_id": ctx.shift_id, "roster_id": ctx.roster_id,
            "date": ctx.date, "change": what,
        }),
        now,
    )
}

// Each argument is one column of what is recorded; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub(super) fn insert_change(
    conn: &mut DbConnection,
    committee_id: i64,
    roster_id: i64,
    version: i32,
    actor: Option<i64>,
    reason: &str,
    detail: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    diesel::insert_into(roster_changes::table)
        .values((
            roster_changes::committee_id.eq(committee_id),
            roster_changes::roster_id.eq(roster_id),
            roster_changes::version.eq(version),
            roster_changes::actor_id.eq(actor),
            roster_changes::reason.eq(reason),
            roster_changes::detail.eq(detail),
            roster_changes::at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
