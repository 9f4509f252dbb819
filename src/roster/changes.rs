//! Changing rosters: publishing, and assignment changes that on a published roster become
//! new versions (who, when, why) without rewriting the past.

use chrono::NaiveDate;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::VenueScope;
use crate::db::DbConnection;
use crate::error::{ApiError, ErrorCode};
use crate::schema::{assignments, leave_requests, members, roster_changes, rosters, shifts};

pub fn ensure_no_published_overlap(
    conn: &mut DbConnection,
    committee_id: i64,
    from: NaiveDate,
    to: NaiveDate,
    venue_ids: Option<&[i64]>,
) -> Result<(), ApiError> {
    let mut q = shifts::table
        .inner_join(rosters::table)
        .filter(shifts::committee_id.eq(committee_id))
        .filter(rosters::status.eq("published"))
        .filter(shifts::local_date.between(from, to))
        .into_boxed();
    if let Some(v) = venue_ids {
        q = q.filter(shifts::venue_id.eq_any(v.to_vec()));
    }
    let clash: Option<i64> = q.select(rosters::id).first(conn).optional()?;
    match clash {
        Some(id) => Err(ApiError::new(ErrorCode::RosterPeriodOverlaps)
            .with_detail(format!("published roster {id} covers part of the period; change it instead"))),
        None => Ok(()),
    }
}

pub fn publish(
    conn: &mut DbConnection,
    committee_id: i64,
    roster_id: i64,
    actor: i64,
    scope: Option<&[i64]>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let header = super::views::roster_header(conn, committee_id, roster_id)?;
    if let Some(scope) = scope {
        // A coordinator may publish only a roster whose every shift is theirs.
        let foreign: Option<i64> = shifts::table
            .filter(shifts::roster_id.eq(roster_id))
            .filter(shifts::venue_id.ne_all(scope.to_vec()))
            .select(shifts::id)
            .first(conn)
            .optional()?;
        if foreign.is_some() {
            return Err(ErrorCode::OutOfScope.into());
        }
    }
    if header.status != "draft" {
        return Err(ApiError::new(ErrorCode::InvalidTransition).with_detail(format!("the roster is {}", header.status)));
    }
    let venue_ids: Vec<i64> =
        shifts::table.filter(shifts::roster_id.eq(roster_id)).select(shifts::venue_id).distinct().load(conn)?;
    ensure_no_published_overlap(conn, committee_id, header.period_from, header.period_to, Some(&venue_ids))?;
    let updated = diesel::update(rosters::table.filter(rosters::id.eq(roster_id).and(rosters::status.eq("draft"))))
        .set((
            rosters::status.eq("published"),
            rosters::published_at.eq(now),
            rosters::published_by.eq(actor),
            rosters::updated_at.eq(now),
        ))
        .execute(conn)?;
    if updated != 1 {
        return Err(ErrorCode::InvalidTransition.into());
    }
    insert_change(conn, committee_id, roster_id, 1, Some(actor), "published", "", now)?;
    let members: Vec<i64> = assignments::table
        .inner_join(shifts::table)
        .filter(shifts::roster_id.eq(roster_id))
        .filter(assignments::removed_at.is_null())
        .select(assignments::member_id)
        .distinct()
        .load(conn)?;
    for member_id in members {
        crate::outbox::enqueue(
            conn,
            committee_id,
            "roster.published",
            Some(&format!("roster-published:{roster_id}:{member_id}")),
            &serde_json::json!({
                "member_id": member_id, "roster_id": roster_id,
                "period_from": header.period_from, "period_to": header.period_to,
            }),
            now,
        )?;
    }
    crate::audit::record(conn, committee_id, Some(actor), "roster.published", "roster", Some(roster_id), "", now)?;
    Ok(())
}

// Each argument is one column of what is recorded; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
fn insert_change(
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    Add,
    Remove,
    /// Replace `member_id` by `new_member_id`, keeping the role.
    Replace,
    Lock,
    Unlock,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentChange {
    pub action: ChangeAction,
    pub member_id: i64,
    /// For `replace`.
    pub new_member_id: Option<i64>,
    /// `lead` or `member` for `add` (default `member`).
    pub role: Option<String>,
    /// Why; required once the roster is published.
    pub reason: Option<String>,
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
        .first::<(i64, i64, NaiveDate, chrono::NaiveDateTime, chrono::NaiveDateTime, i32, String, i32)>(conn)?;
    if status == "discarded" {
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
        published: status == "published",
        version,
    })
}

fn conflict(detail: impl Into<String>) -> ApiError {
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
        .filter(leave_requests::status.eq("approved"))
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
        .filter(rosters::status.ne("discarded"))
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

/// Takes an assignment off: deleted from a draft, marked removed on a published roster.
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
        super::requests::cancel_swaps_of_assignment(conn, assignment_id, now)?;
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

pub fn apply(
    conn: &mut DbConnection,
    committee_id: i64,
    actor: i64,
    scope: &VenueScope,
    shift_id: i64,
    change: &AssignmentChange,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let ctx = shift_context(conn, committee_id, shift_id)?;
    scope.check(ctx.venue_id)?;
    let reason = change.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if ctx.published && reason.is_none() {
        return Err(ApiError::field("reason", "required", "changes to a published roster need a reason"));
    }
    let reason = reason.unwrap_or("调整草稿");
    let role = change.role.as_deref().unwrap_or("member");
    if !matches!(role, "lead" | "member") {
        return Err(ApiError::field("role", "invalid", "must be lead or member"));
    }
    let current = active_assignment(conn, shift_id, change.member_id)?;
    let detail = format!("{:?} member {} on shift {shift_id}", change.action, change.member_id);
    match change.action {
        ChangeAction::Add => {
            check_can_take(conn, committee_id, &ctx, change.member_id, None)?;
            let version = next_version(conn, &ctx, Some(actor), reason, &detail, now)?;
            add_assignment(conn, committee_id, &ctx, change.member_id, role, "manual", reason, version, now)?;
            notify_change(conn, committee_id, &ctx, change.member_id, "added", now)?;
        }
        ChangeAction::Remove => {
            let (id, _) = current.ok_or_else(|| conflict("the member is not on this shift"))?;
            let version = next_version(conn, &ctx, Some(actor), reason, &detail, now)?;
            remove_assignment(conn, &ctx, id, version, now)?;
            notify_change(conn, committee_id, &ctx, change.member_id, "removed", now)?;
        }
        ChangeAction::Replace => {
            let (id, old_role) = current.ok_or_else(|| conflict("the member is not on this shift"))?;
            let new_member = change
                .new_member_id
                .ok_or_else(|| ApiError::field("new_member_id", "required", "replace needs new_member_id"))?;
            let version = next_version(conn, &ctx, Some(actor), reason, &detail, now)?;
            remove_assignment(conn, &ctx, id, version, now)?;
            check_can_take(conn, committee_id, &ctx, new_member, None)?;
            add_assignment(conn, committee_id, &ctx, new_member, &old_role, "manual", reason, version, now)?;
            notify_change(conn, committee_id, &ctx, change.member_id, "removed", now)?;
            notify_change(conn, committee_id, &ctx, new_member, "added", now)?;
        }
        ChangeAction::Lock | ChangeAction::Unlock => {
            let (id, _) = current.ok_or_else(|| conflict("the member is not on this shift"))?;
            next_version(conn, &ctx, Some(actor), reason, &detail, now)?;
            diesel::update(assignments::table.find(id))
                .set(assignments::locked.eq(change.action == ChangeAction::Lock))
                .execute(conn)?;
        }
    }
    crate::audit::record(
        conn,
        committee_id,
        Some(actor),
        "roster.assignment_changed",
        "shift",
        Some(shift_id),
        &detail,
        now,
    )?;
    Ok(())
}
