//! Swaps (换班): a member offers a duty to a named colleague or to the pool, a colleague
//! accepts, a coordinator approves (or the committee approves at once) or rejects, and either
//! colleague may withdraw while it is open. The state machine is `domain::SwapStatus`; these
//! are its workflow and store, shared by the API, the console and the member pages. Every
//! function runs inside the caller's transaction; every change is audited.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::duties::{self, ShiftContext};
use super::store;
use crate::auth::{AuthUser, VenueScope, load_scope};
use crate::db::DbConnection;
use crate::domain::{SwapAction, SwapStatus};
use crate::error::{ApiError, ErrorCode};
use crate::json::UtcInstant;
use crate::pagination::{Page, PageRequest};
use crate::schema::{assignments, members, shift_templates, shifts, swap_requests};

#[derive(Debug, Serialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = swap_requests)]
pub struct SwapView {
    pub id: i64,
    pub assignment_id: i64,
    pub from_member_id: i64,
    /// The colleague asked; absent when offered to the pool.
    pub to_member_id: Option<i64>,
    pub accepted_by: Option<i64>,
    pub status: SwapStatus,
    pub note: String,
    pub decided_by: Option<i64>,
    #[diesel(deserialize_as = chrono::NaiveDateTime)]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub created_at: UtcInstant,
    #[diesel(deserialize_as = chrono::NaiveDateTime)]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub updated_at: UtcInstant,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSwap {
    /// One of your own upcoming duties.
    pub assignment_id: i64,
    /// The colleague you ask; absent offers the duty to the pool.
    pub to_member_id: Option<i64>,
    #[serde(default)]
    pub note: String,
}

/// The longest note a swap offer carries, in characters.
pub const MAX_NOTE_CHARS: usize = 200;

fn invalid(status: SwapStatus, action: SwapAction) -> ApiError {
    ApiError::new(ErrorCode::InvalidTransition).with_detail(format!(
        "cannot {} a request that is {}",
        action.as_str(),
        status.as_str()
    ))
}

/// One swap request of the committee; 404 for another committee's.
pub fn swap(conn: &mut DbConnection, committee_id: i64, id: i64) -> Result<SwapView, ApiError> {
    Ok(swap_requests::table
        .filter(swap_requests::committee_id.eq(committee_id).and(swap_requests::id.eq(id)))
        .select(SwapView::as_select())
        .first(conn)?)
}

/// Offers one of the member's own upcoming duties to a named colleague of its pool, or to the
/// pool (`to_member_id` absent), with its notification and audit record.
pub fn offer(
    conn: &mut DbConnection,
    user: &AuthUser,
    body: &CreateSwap,
    now: NaiveDateTime,
) -> Result<SwapView, ApiError> {
    if body.note.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::field("note", "too_long", format!("must be at most {MAX_NOTE_CHARS} characters")));
    }
    let held = duties::held_duty(conn, user.committee_id, body.assignment_id)?;
    if held.member_id != user.member_id {
        return Err(ApiError::forbidden().with_detail("you can only offer your own duties"));
    }
    let ctx = duties::shift_context(conn, user.committee_id, held.shift_id)?;
    if ctx.starts_at <= now {
        return Err(ApiError::new(ErrorCode::InvalidTransition).with_detail("the duty has started"));
    }
    if let Some(to) = body.to_member_id {
        let known: Option<i64> = members::table
            .filter(members::committee_id.eq(user.committee_id).and(members::id.eq(to)))
            .select(members::id)
            .first(conn)
            .optional()?;
        if to == user.member_id {
            return Err(ApiError::field("to_member_id", "swap_to_self", "offer the duty to a colleague"));
        }
        if known.is_none() {
            return Err(ApiError::field("to_member_id", "unknown_member", "not a colleague of this committee"));
        }
        if !store::in_pool_of_shift(conn, held.shift_id, to)? {
            return Err(ApiError::field("to_member_id", "not_eligible", "the colleague is not in this duty's pool"));
        }
    }
    let open: Option<i64> = swap_requests::table
        .filter(swap_requests::assignment_id.eq(body.assignment_id))
        .filter(swap_requests::status.eq_any(SwapStatus::OPEN))
        .select(swap_requests::id)
        .first(conn)
        .optional()?;
    if let Some(open) = open {
        return Err(
            ApiError::new(ErrorCode::InvalidTransition).with_detail(format!("swap request {open} is already open"))
        );
    }
    let id: i64 = diesel::insert_into(swap_requests::table)
        .values((
            swap_requests::committee_id.eq(user.committee_id),
            swap_requests::assignment_id.eq(body.assignment_id),
            swap_requests::from_member_id.eq(user.member_id),
            swap_requests::to_member_id.eq(body.to_member_id),
            swap_requests::status.eq(SwapStatus::Offered),
            swap_requests::note.eq(&body.note),
            swap_requests::created_at.eq(now),
            swap_requests::updated_at.eq(now),
        ))
        .returning(swap_requests::id)
        .get_result(conn)?;
    crate::outbox::enqueue(
        conn,
        user.committee_id,
        "swap.offered",
        None,
        &serde_json::json!({ "swap_request_id": id, "from_member_id": user.member_id,
                             "member_id": body.to_member_id, "shift_id": held.shift_id, "date": ctx.date }),
        now,
    )?;
    crate::audit::record(
        conn,
        user.committee_id,
        Some(user.member_id),
        "swap.offered",
        "swap_request",
        Some(id),
        "",
        now,
    )?;
    swap(conn, user.committee_id, id)
}

/// An action on a swap request, by whoever the action is for: `accept` the colleague asked
/// (anyone in the pool but the offerer for a pool offer), `approve` / `reject` a coordinator
/// of the duty's venue, `cancel` either colleague. The request as it now stands.
pub fn act(
    conn: &mut DbConnection,
    user: &AuthUser,
    id: i64,
    action: SwapAction,
    now: NaiveDateTime,
) -> Result<SwapView, ApiError> {
    let request = swap(conn, user.committee_id, id)?;
    let me = user.member_id;
    if action.is_coordinators() {
        if !user.roles.can_coordinate() {
            return Err(ApiError::forbidden());
        }
        load_scope(conn, user)?.check(venue_of(conn, request.assignment_id)?)?;
        // Nobody decides a request they are part of: another coordinator or an admin does.
        if [Some(request.from_member_id), request.to_member_id, request.accepted_by].contains(&Some(me)) {
            return Err(ApiError::forbidden()
                .with_detail("a swap you are part of is decided by another coordinator or an admin"));
        }
    }
    if action == SwapAction::Cancel && me != request.from_member_id && request.accepted_by != Some(me) {
        return Err(ApiError::forbidden().with_detail("only the two colleagues can cancel"));
    }
    if action == SwapAction::Accept {
        let allowed = request.to_member_id.map_or(me != request.from_member_id, |to| to == me);
        if !allowed && request.status == SwapStatus::Offered {
            return Err(ApiError::forbidden().with_detail("the request is not addressed to you"));
        }
    }
    let Some(next) = action.next_status(request.status) else {
        return Err(invalid(request.status, action));
    };
    match action {
        SwapAction::Accept => {
            let ctx = live_duty(conn, user.committee_id, request.assignment_id, now)?;
            // A pool offer is open to the duty's pool, as the generator draws it.
            if !store::in_pool_of_shift(conn, ctx.shift_id, me)? {
                return Err(
                    ApiError::new(ErrorCode::AssignmentConflict).with_detail("you are not in the pool of this duty")
                );
            }
            duties::check_can_take(conn, user.committee_id, &ctx, me, Some(request.from_member_id))?;
            transition(conn, id, request.status, next, Some(me), None, now)?;
            notify(conn, user.committee_id, "swap.accepted", id, request.from_member_id, now)?;
            if crate::committee::load_settings(conn, user.committee_id)?.swap_auto_approve {
                approve(conn, user.committee_id, &ctx, id, None, now)?;
            }
        }
        SwapAction::Approve => {
            let ctx = live_duty(conn, user.committee_id, request.assignment_id, now)?;
            approve(conn, user.committee_id, &ctx, id, Some(me), now)?;
        }
        SwapAction::Reject => {
            transition(conn, id, request.status, next, None, Some(me), now)?;
            notify(conn, user.committee_id, "swap.rejected", id, request.from_member_id, now)?;
        }
        SwapAction::Cancel => cancel(conn, user.committee_id, id, Some(me), now)?,
    }
    crate::audit::record(
        conn,
        user.committee_id,
        Some(me),
        &format!("swap.{}", action.as_str()),
        "swap_request",
        Some(id),
        "",
        now,
    )?;
    swap(conn, user.committee_id, id)
}

/// Whose swap requests a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The requests the member is part of (offered, asked, accepted) and the open pool offers
    /// of a pool they are in; another member's requests are not among them.
    Member,
    /// As `Member`, and for a coordinator every request within the venues they coordinate.
    Coordinator,
}

/// Which slice of a list: a cursor page by id (the API), the newest first (the pages), or
/// the one request with this id if the caller may see it.
#[derive(Debug, Clone, Copy)]
pub enum Slice {
    Page(PageRequest),
    Newest(i64),
    One(i64),
}

/// The swap requests `user` may see, filtered in the database so none is lost to a limit.
pub fn visible(
    conn: &mut DbConnection,
    user: &AuthUser,
    audience: Audience,
    slice: Slice,
) -> Result<Page<SwapView>, ApiError> {
    let home: Option<i64> = members::table.find(user.member_id).select(members::home_venue_id).first(conn)?;
    // The venues whose every request the caller sees; none for a member.
    let scope = if audience == Audience::Coordinator && user.roles.can_coordinate() {
        load_scope(conn, user)?
    } else {
        VenueScope::Venues(Default::default())
    };
    let every_venue = scope == VenueScope::All;
    let coordinated: Vec<i64> = scope.ids().unwrap_or_default();
    let me = user.member_id;
    // The pool rule of `store::in_pool`, in SQL.
    let in_my_pool = shift_templates::pool_venue_id
        .is_null()
        .or(shift_templates::pool_venue_id.eq(home.unwrap_or(-1)))
        .or(shift_templates::include_roving.and(home.is_none().into_sql::<Bool>()));
    let query = swap_requests::table
        .inner_join(assignments::table.inner_join(shifts::table.inner_join(shift_templates::table)))
        .filter(swap_requests::committee_id.eq(user.committee_id))
        .filter(
            swap_requests::from_member_id
                .eq(me)
                .or(swap_requests::to_member_id.eq(me))
                .or(swap_requests::accepted_by.eq(me))
                .or(swap_requests::to_member_id
                    .is_null()
                    .and(swap_requests::status.eq(SwapStatus::Offered))
                    .and(in_my_pool))
                .or(every_venue.into_sql::<Bool>())
                .or(shifts::venue_id.eq_any(coordinated)),
        )
        .select(SwapView::as_select())
        .into_boxed();
    Ok(match slice {
        Slice::Page(page) => {
            let rows = query
                .filter(swap_requests::id.gt(page.after_id))
                .order(swap_requests::id.asc())
                .limit(page.limit + 1)
                .load(conn)?;
            Page::from_rows(rows, page, |s: &SwapView| s.id)
        }
        Slice::Newest(limit) => {
            let rows = query.order(swap_requests::id.desc()).limit(limit).load(conn)?;
            Page { items: rows, next_cursor: None }
        }
        Slice::One(id) => Page { items: query.filter(swap_requests::id.eq(id)).load(conn)?, next_cursor: None },
    })
}

/// The duty a request is about, while it can still change hands: on a published roster, still
/// held, and not yet started.
fn live_duty(
    conn: &mut DbConnection,
    committee_id: i64,
    assignment_id: i64,
    now: NaiveDateTime,
) -> Result<ShiftContext, ApiError> {
    let held = duties::held_duty(conn, committee_id, assignment_id)?;
    let ctx = duties::shift_context(conn, committee_id, held.shift_id)?;
    if ctx.starts_at <= now {
        return Err(ApiError::new(ErrorCode::InvalidTransition).with_detail("the duty has started"));
    }
    Ok(ctx)
}

/// The venue of a request's duty, whatever became of the duty since (for scope checks).
fn venue_of(conn: &mut DbConnection, assignment_id: i64) -> Result<i64, ApiError> {
    Ok(assignments::table
        .inner_join(shifts::table)
        .filter(assignments::id.eq(assignment_id))
        .select(shifts::venue_id)
        .first(conn)?)
}

/// Moves a request from `from` to `to` only if nobody moved it first (two coordinators
/// approving at once: one wins, the other gets 409).
fn transition(
    conn: &mut DbConnection,
    id: i64,
    from: SwapStatus,
    to: SwapStatus,
    accepted_by: Option<i64>,
    decided_by: Option<i64>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let target = swap_requests::table.filter(swap_requests::id.eq(id).and(swap_requests::status.eq(from)));
    let updated = match accepted_by {
        Some(a) => diesel::update(target)
            .set((swap_requests::status.eq(to), swap_requests::accepted_by.eq(a), swap_requests::updated_at.eq(now)))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                swap_requests::status.eq(to),
                swap_requests::decided_by.eq(decided_by),
                swap_requests::updated_at.eq(now),
            ))
            .execute(conn)?,
    };
    if updated != 1 {
        return Err(ApiError::new(ErrorCode::InvalidTransition)
            .with_detail(format!("the request is no longer {}", from.as_str())));
    }
    Ok(())
}

/// Approves and applies: the acceptor takes the duty in a new roster version.
fn approve(
    conn: &mut DbConnection,
    committee_id: i64,
    ctx: &ShiftContext,
    id: i64,
    by: Option<i64>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    transition(conn, id, SwapStatus::Accepted, SwapStatus::Approved, None, by, now)?;
    let request = swap(conn, committee_id, id)?;
    let taker =
        request.accepted_by.ok_or_else(|| ApiError::unexpected(anyhow::anyhow!("accepted swap without taker")))?;
    let role: String = assignments::table.find(request.assignment_id).select(assignments::role).first(conn)?;
    let version = duties::next_version(conn, ctx, by, "换班", &format!("swap request {id}"), now)?;
    duties::remove_assignment(conn, ctx, request.assignment_id, version, now)?;
    duties::check_can_take(conn, committee_id, ctx, taker, None)?;
    duties::add_assignment(conn, committee_id, ctx, taker, &role, "swap", &format!("换班（申请 {id}）"), version, now)?;
    notify(conn, committee_id, "swap.approved", id, request.from_member_id, now)?;
    notify(conn, committee_id, "swap.approved", id, taker, now)
}

fn notify(
    conn: &mut DbConnection,
    committee_id: i64,
    kind: &str,
    id: i64,
    member_id: i64,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    crate::outbox::enqueue(
        conn,
        committee_id,
        kind,
        None,
        &serde_json::json!({ "swap_request_id": id, "member_id": member_id }),
        now,
    )
}

/// Ends an open swap request and tells the colleagues in it: the other one when a party
/// withdraws (`actor`), both when the office's decision ends it.
fn cancel(
    conn: &mut DbConnection,
    committee_id: i64,
    id: i64,
    actor: Option<i64>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let (status, from, to, accepted_by): (SwapStatus, i64, Option<i64>, Option<i64>) = swap_requests::table
        .find(id)
        .select((
            swap_requests::status,
            swap_requests::from_member_id,
            swap_requests::to_member_id,
            swap_requests::accepted_by,
        ))
        .first(conn)?;
    transition(conn, id, status, SwapStatus::Cancelled, None, None, now)?;
    for member in [Some(from), accepted_by.or(to)].into_iter().flatten().filter(|m| Some(*m) != actor) {
        notify(conn, committee_id, "swap.cancelled", id, member, now)?;
    }
    Ok(())
}

/// The office's decision ends an open swap request: cancelled, both colleagues told, audited
/// with `why` (a colleague's own withdrawal is audited with the action that made it).
pub(super) fn end(
    conn: &mut DbConnection,
    committee_id: i64,
    id: i64,
    why: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    cancel(conn, committee_id, id, None, now)?;
    crate::audit::record(conn, committee_id, None, "swap.cancel", "swap_request", Some(id), why, now)
}

/// A duty taken off a published roster can no longer change hands: its open swap requests
/// end with it.
pub(super) fn end_for_assignment(
    conn: &mut DbConnection,
    assignment_id: i64,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let open: Vec<(i64, i64)> = swap_requests::table
        .filter(swap_requests::assignment_id.eq(assignment_id))
        .filter(swap_requests::status.eq_any(SwapStatus::OPEN))
        .select((swap_requests::id, swap_requests::committee_id))
        .load(conn)?;
    for (id, committee_id) in open {
        end(conn, committee_id, id, "duty removed", now)?;
    }
    Ok(())
}
