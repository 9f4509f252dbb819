//! Leave (请假): a member asks for a range of days, a coordinator of the member's studio
//! approves or rejects, the member may withdraw while it is pending. Approval takes the member
//! off their duties in the range and proposes who could stand in. The state machine is
//! `domain::LeaveStatus`; these are its workflow and store, shared by the API, the console and
//! the member pages. Every function runs inside the caller's transaction.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::duties;
use super::swaps::{self, Slice};
use super::{changes, store};
use crate::auth::{AuthUser, VenueScope, load_scope};
use crate::db::DbConnection;
use crate::domain::{LeaveAction, LeaveStatus, MAX_LEAVE_DAYS, SwapStatus};
use crate::error::{ApiError, ErrorCode};
use crate::json::UtcInstant;
use crate::pagination::Page;
use crate::schema::{assignments, leave_requests, members, rosters, shifts, swap_requests};

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = leave_requests)]
pub struct LeaveView {
    pub id: i64,
    pub member_id: i64,
    pub date_from: NaiveDate,
    pub date_to: NaiveDate,
    pub reason: String,
    pub status: LeaveStatus,
    pub decided_by: Option<i64>,
    #[diesel(deserialize_as = chrono::NaiveDateTime)]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub created_at: UtcInstant,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLeave {
    pub date_from: NaiveDate,
    pub date_to: NaiveDate,
    #[serde(default)]
    pub reason: String,
}

/// The longest reason a leave request carries, in characters.
pub const MAX_REASON_CHARS: usize = 200;

#[derive(Debug, Serialize, ToSchema)]
pub struct FreedShift {
    pub shift_id: i64,
    pub venue_id: i64,
    pub date: NaiveDate,
    /// Colleagues who could take it without breaking a rule, best first.
    pub candidates: Vec<Substitute>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Substitute {
    pub member_id: i64,
    pub member_name: String,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeaveDecision {
    pub leave: LeaveView,
    /// Duties the approved leave took the member off, with proposed substitutes.
    pub freed_shifts: Vec<FreedShift>,
}

/// Who decides a member's leave: a coordinator of the member's home studio; any coordinator
/// for the roving pool (members without a home studio).
pub fn decided_within(scope: &VenueScope, home_venue_id: Option<i64>) -> bool {
    home_venue_id.is_none_or(|v| scope.includes(v))
}

/// One leave request of the committee; 404 for another committee's.
pub fn leave(conn: &mut DbConnection, committee_id: i64, id: i64) -> Result<LeaveView, ApiError> {
    Ok(leave_requests::table
        .filter(leave_requests::committee_id.eq(committee_id).and(leave_requests::id.eq(id)))
        .select(LeaveView::as_select())
        .first(conn)?)
}

/// The member asks for leave over `[date_from, date_to]` (at most [`MAX_LEAVE_DAYS`]) with a
/// reason, audited.
pub fn ask(
    conn: &mut DbConnection,
    user: &AuthUser,
    body: &CreateLeave,
    now: NaiveDateTime,
) -> Result<LeaveView, ApiError> {
    if body.date_to < body.date_from || (body.date_to - body.date_from).num_days() >= MAX_LEAVE_DAYS {
        return Err(ApiError::field(
            "date_to",
            "out_of_range",
            format!("must be on or after date_from, at most {MAX_LEAVE_DAYS} days of leave"),
        ));
    }
    if body.reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::field("reason", "too_long", format!("must be at most {MAX_REASON_CHARS} characters")));
    }
    let id: i64 = diesel::insert_into(leave_requests::table)
        .values((
            leave_requests::committee_id.eq(user.committee_id),
            leave_requests::member_id.eq(user.member_id),
            leave_requests::date_from.eq(body.date_from),
            leave_requests::date_to.eq(body.date_to),
            leave_requests::reason.eq(&body.reason),
            leave_requests::status.eq(LeaveStatus::Pending),
            leave_requests::created_at.eq(now),
            leave_requests::updated_at.eq(now),
        ))
        .returning(leave_requests::id)
        .get_result(conn)?;
    crate::audit::record(
        conn,
        user.committee_id,
        Some(user.member_id),
        "leave.requested",
        "leave_request",
        Some(id),
        "",
        now,
    )?;
    leave(conn, user.committee_id, id)
}

/// A coordinator's decision (`approve`, `reject`) or the member's `cancel`, with its audit
/// record; on approval, the duties it freed with their proposed substitutes.
pub fn act(
    conn: &mut DbConnection,
    user: &AuthUser,
    id: i64,
    action: LeaveAction,
    now: NaiveDateTime,
) -> Result<LeaveDecision, ApiError> {
    let request = leave(conn, user.committee_id, id)?;
    let me = user.member_id;
    if action.is_coordinators() {
        if !user.roles.can_coordinate() {
            return Err(ApiError::forbidden());
        }
        let home: Option<i64> = members::table.find(request.member_id).select(members::home_venue_id).first(conn)?;
        if !decided_within(&load_scope(conn, user)?, home) {
            return Err(ErrorCode::OutOfScope.into());
        }
        // Nobody decides their own leave: another coordinator or an admin does.
        if me == request.member_id {
            return Err(
                ApiError::forbidden().with_detail("your own leave is decided by another coordinator or an admin")
            );
        }
    } else if me != request.member_id {
        return Err(ApiError::forbidden());
    }
    let Some(next) = action.next_status(request.status) else {
        return Err(ApiError::new(ErrorCode::InvalidTransition).with_detail(format!(
            "cannot {} a request that is {}",
            action.as_str(),
            request.status.as_str()
        )));
    };
    let decided_by = action.is_coordinators().then_some(me);
    transition(conn, id, request.status, next, decided_by, now)?;
    let mut freed = Vec::new();
    if next == LeaveStatus::Approved {
        freed = free_duties(conn, user.committee_id, me, &request, now)?;
        end_open_swaps(conn, user.committee_id, &request, now)?;
    }
    if action.is_coordinators() {
        crate::outbox::enqueue(
            conn,
            user.committee_id,
            "leave.decided",
            None,
            &serde_json::json!({ "leave_request_id": id, "member_id": request.member_id, "status": next }),
            now,
        )?;
    }
    crate::audit::record(
        conn,
        user.committee_id,
        Some(me),
        &format!("leave.{}", action.as_str()),
        "leave_request",
        Some(id),
        "",
        now,
    )?;
    Ok(LeaveDecision { leave: leave(conn, user.committee_id, id)?, freed_shifts: freed })
}

/// The leave requests `user` may see: their own, and for a coordinator (with `coordinated`)
/// those they decide ([`decided_within`]). Filtered in the database so none is lost to a limit.
pub fn visible(
    conn: &mut DbConnection,
    user: &AuthUser,
    coordinated: bool,
    slice: Slice,
) -> Result<Page<LeaveView>, ApiError> {
    let scope = if coordinated && user.roles.can_coordinate() { Some(load_scope(conn, user)?) } else { None };
    let mut query = leave_requests::table
        .inner_join(members::table)
        .filter(leave_requests::committee_id.eq(user.committee_id))
        .select(LeaveView::as_select())
        .into_boxed();
    query = match scope {
        None => query.filter(leave_requests::member_id.eq(user.member_id)),
        Some(VenueScope::All) => query,
        Some(VenueScope::Venues(ids)) => query.filter(
            leave_requests::member_id
                .eq(user.member_id)
                .or(members::home_venue_id.is_null())
                .or(members::home_venue_id.eq_any(ids.into_iter().collect::<Vec<_>>())),
        ),
    };
    Ok(match slice {
        Slice::Page(page) => {
            let rows = query
                .filter(leave_requests::id.gt(page.after_id))
                .order(leave_requests::id.asc())
                .limit(page.limit + 1)
                .load(conn)?;
            Page::from_rows(rows, page, |l: &LeaveView| l.id)
        }
        Slice::Newest(limit) => {
            Page { items: query.order(leave_requests::id.desc()).limit(limit).load(conn)?, next_cursor: None }
        }
        Slice::One(id) => Page { items: query.filter(leave_requests::id.eq(id)).load(conn)?, next_cursor: None },
    })
}

/// Moves a request from `from` to `to` only if nobody moved it first.
fn transition(
    conn: &mut DbConnection,
    id: i64,
    from: LeaveStatus,
    to: LeaveStatus,
    by: Option<i64>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let updated =
        diesel::update(leave_requests::table.filter(leave_requests::id.eq(id).and(leave_requests::status.eq(from))))
            .set((leave_requests::status.eq(to), leave_requests::decided_by.eq(by), leave_requests::updated_at.eq(now)))
            .execute(conn)?;
    if updated != 1 {
        return Err(ApiError::new(ErrorCode::InvalidTransition)
            .with_detail(format!("the request is no longer {}", from.as_str())));
    }
    Ok(())
}

/// Approved leave ends the member's open swap requests on those days, as giver or as taker:
/// the duties were freed, or the member can no longer take them.
fn end_open_swaps(
    conn: &mut DbConnection,
    committee_id: i64,
    request: &LeaveView,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let open: Vec<i64> = swap_requests::table
        .inner_join(assignments::table.inner_join(shifts::table))
        .filter(swap_requests::committee_id.eq(committee_id))
        .filter(swap_requests::status.eq_any(SwapStatus::OPEN))
        .filter(
            swap_requests::from_member_id
                .eq(request.member_id)
                .or(swap_requests::accepted_by.eq(request.member_id))
                .or(swap_requests::to_member_id.eq(request.member_id)),
        )
        .filter(shifts::local_date.between(request.date_from, request.date_to))
        .select(swap_requests::id)
        .load(conn)?;
    for id in open {
        swaps::end(conn, committee_id, id, "approved leave", now)?;
    }
    Ok(())
}

/// Takes the member off every upcoming duty in the leave's range (a new version of each
/// roster concerned) and asks the generator who could stand in.
fn free_duties(
    conn: &mut DbConnection,
    committee_id: i64,
    actor: i64,
    request: &LeaveView,
    now: NaiveDateTime,
) -> Result<Vec<FreedShift>, ApiError> {
    let held: Vec<(i64, i64, i64)> = assignments::table
        .inner_join(shifts::table.inner_join(rosters::table))
        .filter(assignments::committee_id.eq(committee_id))
        .filter(assignments::member_id.eq(request.member_id))
        .filter(assignments::removed_at.is_null())
        .filter(rosters::status.ne(crate::domain::RosterStatus::Discarded))
        .filter(shifts::local_date.between(request.date_from, request.date_to))
        .filter(shifts::starts_at.gt(now))
        .order(shifts::starts_at)
        .select((assignments::id, shifts::id, rosters::id))
        .load(conn)?;
    let mut freed = Vec::new();
    // The generator's input depends on the roster's period only: loaded once per roster, not
    // once per freed duty (the planned shifts are read again, as each removal changes them).
    let mut inputs: std::collections::BTreeMap<i64, super::GenerationInput> = std::collections::BTreeMap::new();
    for (assignment_id, shift_id, roster_id) in held {
        let ctx = duties::shift_context(conn, committee_id, shift_id)?;
        let version =
            duties::next_version(conn, &ctx, Some(actor), "请假", &format!("leave request {}", request.id), now)?;
        changes::take_off(conn, &ctx, assignment_id, version, now)?;
        duties::notify_change(conn, committee_id, &ctx, request.member_id, "removed", now)?;
        let input = match inputs.entry(roster_id) {
            std::collections::btree_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::btree_map::Entry::Vacant(slot) => {
                let header = super::views::roster_header(conn, committee_id, roster_id)?;
                slot.insert(store::generation_input(conn, committee_id, header.period_from, header.period_to, None)?.0)
            }
        };
        let planned = store::planned_shifts(conn, roster_id)?;
        let template_id: i64 = shifts::table.find(shift_id).select(shifts::template_id).first(conn)?;
        let key = super::ShiftKey { template_id, date: ctx.date };
        let candidates = super::propose_substitutes(input, &planned, key, request.member_id, 5);
        let ids: Vec<i64> = candidates.iter().map(|c| c.member_id).collect();
        let names: std::collections::BTreeMap<i64, String> = members::table
            .filter(members::id.eq_any(&ids))
            .select((members::id, members::name))
            .load(conn)?
            .into_iter()
            .collect();
        freed.push(FreedShift {
            shift_id,
            venue_id: ctx.venue_id,
            date: ctx.date,
            candidates: candidates
                .into_iter()
                .map(|c| Substitute {
                    member_name: names.get(&c.member_id).cloned().unwrap_or_default(),
                    member_id: c.member_id,
                    reason: c.reason.label_zh(),
                })
                .collect(),
        });
    }
    Ok(freed)
}
