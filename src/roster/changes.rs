//! Changing rosters: generating drafts, publishing, and assignment changes that on a published roster become
//! new versions (who, when, why) without rewriting the past.

use chrono::NaiveDate;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::duties::{
    ShiftContext, active_assignment, add_assignment, check_can_take, insert_change, next_version, notify_change,
    remove_assignment, shift_context,
};
use super::store;
use crate::auth::{Coordinator, VenueScope};
use crate::db::DbConnection;
use crate::domain::RosterStatus;
use crate::error::{ApiError, ErrorCode};
use crate::schema::{assignments, rosters, shifts};

#[derive(Debug, Serialize, ToSchema)]
pub struct GeneratedSummary {
    pub roster_id: i64,
    pub shifts: usize,
    pub assignments: usize,
    pub shortfalls: Vec<super::views::ShortfallView>,
    /// E.g. `calendar_missing` for a year with no official calendar: weekends only were days off.
    pub warnings: Vec<super::views::RosterWarning>,
}

/// The longest period one roster covers.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// Generates a draft roster for `from..=to` for the venues given (each within the
/// coordinator's scope), else for every venue of the scope, and stores it with its
/// shortfalls. Shared by the API and the console; runs inside the caller's transaction.
pub fn generate_draft(
    conn: &mut DbConnection,
    c: &Coordinator,
    from: NaiveDate,
    to: NaiveDate,
    venue_ids: Option<Vec<i64>>,
    now: NaiveDateTime,
) -> Result<GeneratedSummary, ApiError> {
    if to < from || (to - from).num_days() >= MAX_PERIOD_DAYS {
        return Err(ApiError::field(
            "period_to",
            "out_of_range",
            format!("must be on or after period_from, within {MAX_PERIOD_DAYS} days"),
        ));
    }
    if venue_ids.as_ref().is_some_and(|ids| ids.len() > crate::venues::store::MAX_VENUE_REFS) {
        return Err(ApiError::field(
            "venue_ids",
            "too_many",
            format!("at most {} venues", crate::venues::store::MAX_VENUE_REFS),
        ));
    }
    let venue_ids: Option<Vec<i64>> = match (&c.scope, venue_ids) {
        (_, Some(mut ids)) => {
            ids.sort_unstable();
            ids.dedup();
            for id in &ids {
                c.scope.check(*id)?;
            }
            Some(ids)
        }
        (VenueScope::All, None) => None,
        (VenueScope::Venues(ids), None) => Some(ids.iter().copied().collect()),
    };
    let venue_ids = venue_ids.as_deref();
    let (committee_id, actor) = (c.user.committee_id, c.user.member_id);
    // A year the State Council has not yet published (or an admin not yet entered) counts
    // weekends only; the draft says so rather than refusing, and never invents holidays.
    let missing = crate::calendar::store::missing_years(conn, committee_id, from, to)?;
    ensure_no_published_overlap(conn, committee_id, from, to, venue_ids)?;
    let (input, templates) = store::generation_input(conn, committee_id, from, to, venue_ids)?;
    let generated = super::generate(&input);
    let roster_id = store::insert_draft(conn, committee_id, actor, from, to, &generated, &templates, &missing, now)?;
    crate::audit::record(conn, committee_id, Some(actor), "roster.generated", "roster", Some(roster_id), "", now)?;
    Ok(GeneratedSummary {
        roster_id,
        shifts: generated.shifts.len(),
        assignments: generated.shifts.iter().map(|s| s.assignments.len()).sum(),
        shortfalls: super::views::shortfall_views(&generated),
        warnings: missing.iter().copied().map(super::views::RosterWarning::calendar_missing).collect(),
    })
}

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
        .filter(rosters::status.eq(RosterStatus::Published))
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
    if header.status != RosterStatus::Draft {
        return Err(ApiError::new(ErrorCode::InvalidTransition)
            .with_detail(format!("the roster is {}", header.status.as_str())));
    }
    let venue_ids: Vec<i64> =
        shifts::table.filter(shifts::roster_id.eq(roster_id)).select(shifts::venue_id).distinct().load(conn)?;
    ensure_no_published_overlap(conn, committee_id, header.period_from, header.period_to, Some(&venue_ids))?;
    let updated =
        diesel::update(rosters::table.filter(rosters::id.eq(roster_id).and(rosters::status.eq(RosterStatus::Draft))))
            .set((
                rosters::status.eq(RosterStatus::Published),
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
            let (id, _) = current.ok_or_else(|| super::duties::conflict("the member is not on this shift"))?;
            let version = next_version(conn, &ctx, Some(actor), reason, &detail, now)?;
            take_off(conn, &ctx, id, version, now)?;
            notify_change(conn, committee_id, &ctx, change.member_id, "removed", now)?;
        }
        ChangeAction::Replace => {
            let (id, old_role) = current.ok_or_else(|| super::duties::conflict("the member is not on this shift"))?;
            let new_member = change
                .new_member_id
                .ok_or_else(|| ApiError::field("new_member_id", "required", "replace needs new_member_id"))?;
            let version = next_version(conn, &ctx, Some(actor), reason, &detail, now)?;
            take_off(conn, &ctx, id, version, now)?;
            check_can_take(conn, committee_id, &ctx, new_member, None)?;
            add_assignment(conn, committee_id, &ctx, new_member, &old_role, "manual", reason, version, now)?;
            notify_change(conn, committee_id, &ctx, change.member_id, "removed", now)?;
            notify_change(conn, committee_id, &ctx, new_member, "added", now)?;
        }
        ChangeAction::Lock | ChangeAction::Unlock => {
            let (id, _) = current.ok_or_else(|| super::duties::conflict("the member is not on this shift"))?;
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

/// Takes an assignment off (see [`remove_assignment`]); on a published roster the duty can no
/// longer change hands, so its open swap requests end with it.
pub fn take_off(
    conn: &mut DbConnection,
    ctx: &ShiftContext,
    assignment_id: i64,
    version: i32,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    remove_assignment(conn, ctx, assignment_id, version, now)?;
    if ctx.published {
        super::swaps::end_for_assignment(conn, assignment_id, now)?;
    }
    Ok(())
}
