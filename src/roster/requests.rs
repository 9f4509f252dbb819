//! Swaps (换班) and leave (请假): members ask, colleagues accept, coordinators decide. Every
//! state change is audited; a transition the state does not allow answers 409.

use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDate;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::changes::{self, ShiftContext};
use super::store;
use crate::auth::{AuthUser, load_scope};
use crate::clock::Clock;
use crate::db::{self, DbConnection, DbPool};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::json::UtcInstant;
use crate::schema::{assignments, leave_requests, members, rosters, shift_templates, shifts, swap_requests};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_swaps)
        .service(create_swap)
        .service(swap_action)
        .service(list_leave)
        .service(create_leave)
        .service(leave_action);
}

fn invalid(status: &str, action: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidTransition).with_detail(format!("cannot {action} a request that is {status}"))
}

// ----------------------------------------------------------------------------- swaps

#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct SwapView {
    pub id: i64,
    pub assignment_id: i64,
    pub from_member_id: i64,
    /// The colleague asked; absent when offered to the pool.
    pub to_member_id: Option<i64>,
    pub accepted_by: Option<i64>,
    /// `offered`, `accepted`, `approved`, `rejected` or `cancelled`.
    pub status: String,
    pub note: String,
    pub decided_by: Option<i64>,
    #[diesel(deserialize_as = chrono::NaiveDateTime)]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub created_at: UtcInstant,
    #[diesel(deserialize_as = chrono::NaiveDateTime)]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub updated_at: UtcInstant,
}

type SwapColumns = (
    swap_requests::id,
    swap_requests::assignment_id,
    swap_requests::from_member_id,
    swap_requests::to_member_id,
    swap_requests::accepted_by,
    swap_requests::status,
    swap_requests::note,
    swap_requests::decided_by,
    swap_requests::created_at,
    swap_requests::updated_at,
);
const SWAP_COLUMNS: SwapColumns = (
    swap_requests::id,
    swap_requests::assignment_id,
    swap_requests::from_member_id,
    swap_requests::to_member_id,
    swap_requests::accepted_by,
    swap_requests::status,
    swap_requests::note,
    swap_requests::decided_by,
    swap_requests::created_at,
    swap_requests::updated_at,
);

fn swap(conn: &mut DbConnection, committee_id: i64, id: i64) -> Result<SwapView, ApiError> {
    Ok(swap_requests::table
        .filter(swap_requests::committee_id.eq(committee_id).and(swap_requests::id.eq(id)))
        .select(SWAP_COLUMNS)
        .first(conn)?)
}

/// The shift of an active assignment of a published roster.
fn assignment_shift(
    conn: &mut DbConnection,
    committee_id: i64,
    assignment_id: i64,
) -> Result<(i64, i64, String), ApiError> {
    let row: Option<(i64, i64, String, Option<chrono::NaiveDateTime>)> = assignments::table
        .inner_join(shifts::table.inner_join(rosters::table))
        .filter(assignments::committee_id.eq(committee_id).and(assignments::id.eq(assignment_id)))
        .select((assignments::member_id, shifts::id, rosters::status, assignments::removed_at))
        .first(conn)
        .optional()?;
    match row {
        Some((member_id, shift_id, status, None)) if status == "published" => Ok((member_id, shift_id, status)),
        Some(_) => {
            Err(ApiError::new(ErrorCode::InvalidTransition).with_detail("the duty is no longer on a published roster"))
        }
        None => Err(ApiError::not_found()),
    }
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

/// Offer one of your duties to a named colleague or to the pool.
#[utoipa::path(
    tag = "rosters",
    request_body = CreateSwap,
    responses(
        (status = 201, body = SwapView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`: past duty, or already offered", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/swap-requests")]
async fn create_swap(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    body: web::Json<CreateSwap>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let view = db::transaction(&pool, move |conn| offer_swap(conn, &user, &body, clock.now_naive())).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Offers one of the member's own upcoming duties to a named colleague of its pool, or to the
/// pool (`to_member_id` absent), with its notification and audit record. Shared by the API
/// and the member pages; runs inside the caller's transaction.
pub fn offer_swap(
    conn: &mut DbConnection,
    user: &AuthUser,
    body: &CreateSwap,
    now: chrono::NaiveDateTime,
) -> Result<SwapView, ApiError> {
    if body.note.chars().count() > 200 {
        return Err(ApiError::field("note", "too_long", "must be at most 200 characters"));
    }
    let (owner, shift_id, _) = assignment_shift(conn, user.committee_id, body.assignment_id)?;
    if owner != user.member_id {
        return Err(ApiError::forbidden().with_detail("you can only offer your own duties"));
    }
    let ctx = changes::shift_context(conn, user.committee_id, shift_id)?;
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
        if !store::in_pool_of_shift(conn, shift_id, to)? {
            return Err(ApiError::field("to_member_id", "not_eligible", "the colleague is not in this duty's pool"));
        }
    }
    let open: Option<i64> = swap_requests::table
        .filter(swap_requests::assignment_id.eq(body.assignment_id))
        .filter(swap_requests::status.eq_any(["offered", "accepted"]))
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
            swap_requests::status.eq("offered"),
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
                             "member_id": body.to_member_id, "shift_id": shift_id, "date": ctx.date }),
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

/// Swap requests you are part of (members), or within your venues (coordinators); open
/// pool offers are listed for the members of the duty's pool.
#[utoipa::path(tag = "rosters", responses((status = 200, body = Vec<SwapView>)), security(("bearer" = [])))]
#[get("/swap-requests")]
async fn list_swaps(user: AuthUser, pool: web::Data<DbPool>) -> Result<web::Json<Vec<SwapView>>, ApiError> {
    let views = db::run(&pool, move |conn| visible_swaps(conn, &user, true)).await?;
    Ok(web::Json(views))
}

/// The swap requests the member is part of (offered, asked, accepted) and open pool offers of
/// a pool they are in, newest first (the latest 500). Another member's requests are not among
/// them. The member pages list these.
pub fn member_swaps(conn: &mut DbConnection, user: &AuthUser) -> Result<Vec<SwapView>, ApiError> {
    visible_swaps(conn, user, false)
}

/// [`member_swaps`], and with `coordinated` those within the venues a coordinator
/// coordinates (`GET /api/v1/swap-requests`).
fn visible_swaps(conn: &mut DbConnection, user: &AuthUser, coordinated: bool) -> Result<Vec<SwapView>, ApiError> {
    let scope = load_scope(conn, user)?;
    let home: Option<i64> = members::table.find(user.member_id).select(members::home_venue_id).first(conn)?;
    let rows: Vec<(SwapView, i64, Option<i64>, bool)> = swap_requests::table
        .inner_join(assignments::table.inner_join(shifts::table.inner_join(shift_templates::table)))
        .filter(swap_requests::committee_id.eq(user.committee_id))
        .order(swap_requests::id.desc())
        .limit(500)
        .select((SWAP_COLUMNS, shifts::venue_id, shift_templates::pool_venue_id, shift_templates::include_roving))
        .load(conn)?;
    let me = Some(user.member_id);
    Ok(rows
        .into_iter()
        .filter(|(s, venue, pool_venue, roving)| {
            s.from_member_id == user.member_id
                || s.to_member_id == me
                || s.accepted_by == me
                || (s.to_member_id.is_none() && s.status == "offered" && store::in_pool(*pool_venue, *roving, home))
                || (coordinated && user.roles.can_coordinate() && scope.includes(*venue))
        })
        .map(|(s, ..)| s)
        .collect())
}

/// `accept` (the colleague, or anyone for a pool offer), `approve` / `reject` (a coordinator
/// of the venue), `cancel` (either side, before approval).
#[utoipa::path(
    tag = "rosters",
    params(("id" = i64, Path), ("action" = String, Path, description = "accept, approve, reject or cancel")),
    responses(
        (status = 200, body = SwapView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition` or `assignment_conflict`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/swap-requests/{id}/{action}")]
async fn swap_action(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    path: web::Path<(i64, String)>,
) -> Result<web::Json<SwapView>, ApiError> {
    let (id, action) = path.into_inner();
    let view = db::transaction(&pool, move |conn| decide_swap(conn, &user, id, &action, clock.now_naive())).await?;
    Ok(web::Json(view))
}

/// A party's or a coordinator's action on a swap request (`accept`, `approve`, `reject`,
/// `cancel`), with its audit record; the request as it now stands. Shared by the API and the
/// console. Runs inside the caller's transaction.
pub fn decide_swap(
    conn: &mut DbConnection,
    user: &AuthUser,
    id: i64,
    action: &str,
    now: NaiveDateTime,
) -> Result<SwapView, ApiError> {
    let request = swap(conn, user.committee_id, id)?;
    let me = user.member_id;
    match action {
        "accept" => {
            if request.status != "offered" {
                return Err(invalid(&request.status, "accept"));
            }
            let allowed = request.to_member_id.map_or(me != request.from_member_id, |to| to == me);
            if !allowed {
                return Err(ApiError::forbidden().with_detail("the request is not addressed to you"));
            }
            let ctx = live_duty(conn, user.committee_id, request.assignment_id, now)?;
            // A pool offer is open to the duty's pool, as the generator draws it.
            if !store::in_pool_of_shift(conn, ctx.shift_id, me)? {
                return Err(
                    ApiError::new(ErrorCode::AssignmentConflict).with_detail("you are not in the pool of this duty")
                );
            }
            changes::check_can_take(conn, user.committee_id, &ctx, me, Some(request.from_member_id))?;
            transition(conn, id, "offered", "accepted", Some(me), None, now)?;
            notify(conn, user.committee_id, "swap.accepted", id, request.from_member_id, now)?;
            let auto: bool = crate::committee::load_settings(conn, user.committee_id)?.swap_auto_approve;
            if auto {
                approve(conn, user.committee_id, &ctx, id, None, now)?;
            }
        }
        "approve" | "reject" => {
            if !user.roles.can_coordinate() {
                return Err(ApiError::forbidden());
            }
            load_scope(conn, user)?.check(venue_of(conn, request.assignment_id)?)?;
            if action == "approve" {
                if request.status != "accepted" {
                    return Err(invalid(&request.status, "approve"));
                }
                let ctx = live_duty(conn, user.committee_id, request.assignment_id, now)?;
                approve(conn, user.committee_id, &ctx, id, Some(me), now)?;
            } else {
                if !matches!(request.status.as_str(), "offered" | "accepted") {
                    return Err(invalid(&request.status, "reject"));
                }
                transition(conn, id, &request.status, "rejected", None, Some(me), now)?;
                notify(conn, user.committee_id, "swap.rejected", id, request.from_member_id, now)?;
            }
        }
        "cancel" => {
            let party = me == request.from_member_id || request.accepted_by == Some(me);
            if !party {
                return Err(ApiError::forbidden().with_detail("only the two colleagues can cancel"));
            }
            if !matches!(request.status.as_str(), "offered" | "accepted") {
                return Err(invalid(&request.status, "cancel"));
            }
            cancel_swap(conn, user.committee_id, id, Some(me), now)?;
        }
        _ => return Err(ApiError::not_found()),
    }
    crate::audit::record(
        conn,
        user.committee_id,
        Some(me),
        &format!("swap.{action}"),
        "swap_request",
        Some(id),
        "",
        now,
    )?;
    swap(conn, user.committee_id, id)
}

/// The duty a request is about, while it can still change hands: on a published roster, still
/// held, and not yet started.
fn live_duty(
    conn: &mut DbConnection,
    committee_id: i64,
    assignment_id: i64,
    now: NaiveDateTime,
) -> Result<ShiftContext, ApiError> {
    let (_, shift_id, _) = assignment_shift(conn, committee_id, assignment_id)?;
    let ctx = changes::shift_context(conn, committee_id, shift_id)?;
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
    from: &str,
    to: &str,
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
        return Err(invalid(from, to));
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
    transition(conn, id, "accepted", "approved", None, by, now)?;
    let request = swap(conn, committee_id, id)?;
    let taker =
        request.accepted_by.ok_or_else(|| ApiError::unexpected(anyhow::anyhow!("accepted swap without taker")))?;
    let role: String = assignments::table.find(request.assignment_id).select(assignments::role).first(conn)?;
    let version = changes::next_version(conn, ctx, by, "换班", &format!("swap request {id}"), now)?;
    changes::remove_assignment(conn, ctx, request.assignment_id, version, now)?;
    changes::check_can_take(conn, committee_id, ctx, taker, None)?;
    changes::add_assignment(
        conn,
        committee_id,
        ctx,
        taker,
        &role,
        "swap",
        &format!("换班（申请 {id}）"),
        version,
        now,
    )?;
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

// ----------------------------------------------------------------------------- leave

#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct LeaveView {
    pub id: i64,
    pub member_id: i64,
    pub date_from: NaiveDate,
    pub date_to: NaiveDate,
    pub reason: String,
    /// `pending`, `approved`, `rejected` or `cancelled`.
    pub status: String,
    pub decided_by: Option<i64>,
    #[diesel(deserialize_as = chrono::NaiveDateTime)]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub created_at: UtcInstant,
}

type LeaveColumns = (
    leave_requests::id,
    leave_requests::member_id,
    leave_requests::date_from,
    leave_requests::date_to,
    leave_requests::reason,
    leave_requests::status,
    leave_requests::decided_by,
    leave_requests::created_at,
);
const LEAVE_COLUMNS: LeaveColumns = (
    leave_requests::id,
    leave_requests::member_id,
    leave_requests::date_from,
    leave_requests::date_to,
    leave_requests::reason,
    leave_requests::status,
    leave_requests::decided_by,
    leave_requests::created_at,
);

fn leave(conn: &mut DbConnection, committee_id: i64, id: i64) -> Result<LeaveView, ApiError> {
    Ok(leave_requests::table
        .filter(leave_requests::committee_id.eq(committee_id).and(leave_requests::id.eq(id)))
        .select(LEAVE_COLUMNS)
        .first(conn)?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLeave {
    pub date_from: NaiveDate,
    pub date_to: NaiveDate,
    #[serde(default)]
    pub reason: String,
}

/// Ask for leave over a date range (inclusive).
#[utoipa::path(
    tag = "rosters",
    request_body = CreateLeave,
    responses((status = 201, body = LeaveView), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/leave-requests")]
async fn create_leave(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    body: web::Json<CreateLeave>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let view = db::transaction(&pool, move |conn| ask_leave(conn, &user, &body, clock.now_naive())).await?;
    Ok(HttpResponse::Created().json(view))
}

/// The member asks for leave over `[date_from, date_to]` (at most 93 days) with a reason,
/// audited. Shared by the API and the member pages; runs inside the caller's transaction.
pub fn ask_leave(
    conn: &mut DbConnection,
    user: &AuthUser,
    body: &CreateLeave,
    now: chrono::NaiveDateTime,
) -> Result<LeaveView, ApiError> {
    if body.date_to < body.date_from || (body.date_to - body.date_from).num_days() > 92 {
        return Err(ApiError::field(
            "date_to",
            "out_of_range",
            "must be on or after date_from, at most 93 days of leave",
        ));
    }
    if body.reason.chars().count() > 200 {
        return Err(ApiError::field("reason", "too_long", "must be at most 200 characters"));
    }
    let id: i64 = diesel::insert_into(leave_requests::table)
        .values((
            leave_requests::committee_id.eq(user.committee_id),
            leave_requests::member_id.eq(user.member_id),
            leave_requests::date_from.eq(body.date_from),
            leave_requests::date_to.eq(body.date_to),
            leave_requests::reason.eq(&body.reason),
            leave_requests::status.eq("pending"),
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

/// Your leave requests (members), or those of members in your venues (coordinators).
#[utoipa::path(tag = "rosters", responses((status = 200, body = Vec<LeaveView>)), security(("bearer" = [])))]
#[get("/leave-requests")]
async fn list_leave(user: AuthUser, pool: web::Data<DbPool>) -> Result<web::Json<Vec<LeaveView>>, ApiError> {
    let views = db::run(&pool, move |conn| visible_leave(conn, &user, true)).await?;
    Ok(web::Json(views))
}

/// The member's own leave requests, newest first (the latest 500): the member pages list these.
pub fn member_leave(conn: &mut DbConnection, user: &AuthUser) -> Result<Vec<LeaveView>, ApiError> {
    visible_leave(conn, user, false)
}

/// [`member_leave`], and with `coordinated` those of the members of the venues a coordinator
/// coordinates (`GET /api/v1/leave-requests`).
fn visible_leave(conn: &mut DbConnection, user: &AuthUser, coordinated: bool) -> Result<Vec<LeaveView>, ApiError> {
    let scope = load_scope(conn, user)?;
    let rows: Vec<(LeaveView, Option<i64>)> = leave_requests::table
        .inner_join(members::table)
        .filter(leave_requests::committee_id.eq(user.committee_id))
        .order(leave_requests::id.desc())
        .limit(500)
        .select((LEAVE_COLUMNS, members::home_venue_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(l, home)| {
            l.member_id == user.member_id
                || (coordinated && user.roles.can_coordinate() && home.is_none_or(|v| scope.includes(v)))
        })
        .map(|(l, _)| l)
        .collect())
}

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

/// `approve` / `reject` (a coordinator of the member's venue), `cancel` (the member, while
/// pending). Approval takes the member off their duties in the range and proposes substitutes.
#[utoipa::path(
    tag = "rosters",
    params(("id" = i64, Path), ("action" = String, Path, description = "approve, reject or cancel")),
    responses(
        (status = 200, body = LeaveDecision),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/leave-requests/{id}/{action}")]
async fn leave_action(
    clock: Clock,
    c: AuthUser,
    pool: web::Data<DbPool>,
    path: web::Path<(i64, String)>,
) -> Result<web::Json<LeaveDecision>, ApiError> {
    let (id, action) = path.into_inner();
    let decision = db::transaction(&pool, move |conn| decide_leave(conn, &c, id, &action, clock.now_naive())).await?;
    Ok(web::Json(decision))
}

/// A coordinator's decision (`approve`, `reject`) or the member's `cancel` on a leave
/// request, with its audit record. Shared by the API and the console; runs inside the
/// caller's transaction.
pub fn decide_leave(
    conn: &mut DbConnection,
    c: &AuthUser,
    id: i64,
    action: &str,
    now: NaiveDateTime,
) -> Result<LeaveDecision, ApiError> {
    let request = leave(conn, c.committee_id, id)?;
    let me = c.member_id;
    let mut freed = Vec::new();
    match action {
        "approve" | "reject" => {
            if !c.roles.can_coordinate() {
                return Err(ApiError::forbidden());
            }
            let home: Option<i64> =
                members::table.find(request.member_id).select(members::home_venue_id).first(conn)?;
            if let Some(home) = home {
                load_scope(conn, c)?.check(home)?;
            }
            if request.status != "pending" {
                return Err(invalid(&request.status, action));
            }
            let to = if action == "approve" { "approved" } else { "rejected" };
            leave_transition(conn, id, "pending", to, Some(me), now)?;
            if action == "approve" {
                freed = free_duties(conn, c.committee_id, me, &request, now)?;
                cancel_open_swaps(conn, c.committee_id, &request, now)?;
            }
            crate::outbox::enqueue(
                conn,
                c.committee_id,
                "leave.decided",
                None,
                &serde_json::json!({ "leave_request_id": id, "member_id": request.member_id, "status": to }),
                now,
            )?;
        }
        "cancel" => {
            if me != request.member_id {
                return Err(ApiError::forbidden());
            }
            if request.status != "pending" {
                return Err(invalid(&request.status, "cancel"));
            }
            leave_transition(conn, id, "pending", "cancelled", None, now)?;
        }
        _ => return Err(ApiError::not_found()),
    }
    crate::audit::record(
        conn,
        c.committee_id,
        Some(me),
        &format!("leave.{action}"),
        "leave_request",
        Some(id),
        "",
        now,
    )?;
    Ok(LeaveDecision { leave: leave(conn, c.committee_id, id)?, freed_shifts: freed })
}

fn leave_transition(
    conn: &mut DbConnection,
    id: i64,
    from: &str,
    to: &str,
    by: Option<i64>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let updated =
        diesel::update(leave_requests::table.filter(leave_requests::id.eq(id).and(leave_requests::status.eq(from))))
            .set((leave_requests::status.eq(to), leave_requests::decided_by.eq(by), leave_requests::updated_at.eq(now)))
            .execute(conn)?;
    if updated != 1 {
        return Err(invalid(from, to));
    }
    Ok(())
}

/// Approved leave ends the member's open swap requests on those days, as giver or as taker:
/// the duties were freed, or the member can no longer take them.
fn cancel_open_swaps(
    conn: &mut DbConnection,
    committee_id: i64,
    request: &LeaveView,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let open: Vec<i64> = swap_requests::table
        .inner_join(assignments::table.inner_join(shifts::table))
        .filter(swap_requests::committee_id.eq(committee_id))
        .filter(swap_requests::status.eq_any(["offered", "accepted"]))
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
        end_swap(conn, committee_id, id, "approved leave", now)?;
    }
    Ok(())
}

/// Ends an open swap request (`offered` or `accepted`) and tells the colleagues in it: the
/// other one when a party withdraws (`actor`), both when the office's decision ends it.
fn cancel_swap(
    conn: &mut DbConnection,
    committee_id: i64,
    id: i64,
    actor: Option<i64>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let (status, from, to, accepted_by): (String, i64, Option<i64>, Option<i64>) = swap_requests::table
        .find(id)
        .select((
            swap_requests::status,
            swap_requests::from_member_id,
            swap_requests::to_member_id,
            swap_requests::accepted_by,
        ))
        .first(conn)?;
    transition(conn, id, &status, "cancelled", None, None, now)?;
    for member in [Some(from), accepted_by.or(to)].into_iter().flatten().filter(|m| Some(*m) != actor) {
        notify(conn, committee_id, "swap.cancelled", id, member, now)?;
    }
    Ok(())
}

/// A duty taken off a published roster can no longer change hands: its open swap requests
/// end with it.
pub(super) fn cancel_swaps_of_assignment(
    conn: &mut DbConnection,
    assignment_id: i64,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let open: Vec<(i64, i64)> = swap_requests::table
        .filter(swap_requests::assignment_id.eq(assignment_id))
        .filter(swap_requests::status.eq_any(["offered", "accepted"]))
        .select((swap_requests::id, swap_requests::committee_id))
        .load(conn)?;
    for (id, committee_id) in open {
        end_swap(conn, committee_id, id, "duty removed", now)?;
    }
    Ok(())
}

/// The office's decision ends an open swap request: cancelled, both colleagues told, audited
/// with `why` (a colleague's own withdrawal is audited with the action that made it).
fn end_swap(
    conn: &mut DbConnection,
    committee_id: i64,
    id: i64,
    why: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    cancel_swap(conn, committee_id, id, None, now)?;
    crate::audit::record(conn, committee_id, None, "swap.cancel", "swap_request", Some(id), why, now)
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
    let duties: Vec<(i64, i64, i64)> = assignments::table
        .inner_join(shifts::table.inner_join(rosters::table))
        .filter(assignments::committee_id.eq(committee_id))
        .filter(assignments::member_id.eq(request.member_id))
        .filter(assignments::removed_at.is_null())
        .filter(rosters::status.ne("discarded"))
        .filter(shifts::local_date.between(request.date_from, request.date_to))
        .filter(shifts::starts_at.gt(now))
        .order(shifts::starts_at)
        .select((assignments::id, shifts::id, rosters::id))
        .load(conn)?;
    let mut freed = Vec::new();
    for (assignment_id, shift_id, roster_id) in duties {
        let ctx = changes::shift_context(conn, committee_id, shift_id)?;
        let version =
            changes::next_version(conn, &ctx, Some(actor), "请假", &format!("leave request {}", request.id), now)?;
        changes::remove_assignment(conn, &ctx, assignment_id, version, now)?;
        changes::notify_change(conn, committee_id, &ctx, request.member_id, "removed", now)?;
        let header = super::views::roster_header(conn, committee_id, roster_id)?;
        let (input, _) = store::generation_input(conn, committee_id, header.period_from, header.period_to, None)?;
        let planned = store::planned_shifts(conn, roster_id)?;
        let template_id: i64 = shifts::table.find(shift_id).select(shifts::template_id).first(conn)?;
        let key = super::ShiftKey { template_id, date: ctx.date };
        let candidates = super::propose_substitutes(&input, &planned, key, request.member_id, 5);
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
                    reason: c.reason.zh(),
                })
                .collect(),
        });
    }
    Ok(freed)
}
