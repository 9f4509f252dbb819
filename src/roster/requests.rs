//! The API of swap (换班) and leave (请假) requests: HTTP only. The rules are in
//! [`super::swaps`] and [`super::leave`]; each action has its own route, so the extractor
//! states who may call it (`Coordinator` for the decisions).

use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::leave::{self, CreateLeave, LeaveDecision, LeaveView};
use super::swaps::{self, Audience, CreateSwap, Slice, SwapView};
use crate::auth::{AuthUser, Coordinator};
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::domain::{LeaveAction, SwapAction};
use crate::error::{ApiError, Problem};
use crate::pagination::{Page, PageParams};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_swaps)
        .service(create_swap)
        .service(accept_swap)
        .service(approve_swap)
        .service(reject_swap)
        .service(cancel_swap)
        .service(list_leave)
        .service(create_leave)
        .service(approve_leave)
        .service(reject_leave)
        .service(cancel_leave);
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
    let view = db::transaction(&pool, move |conn| swaps::offer(conn, &user, &body, clock.now_naive())).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Swap requests you are part of, open pool offers of duties whose pool you are in, and for
/// coordinators those within their venues; by id, a page at a time.
#[utoipa::path(
    tag = "rosters",
    params(PageParams),
    responses((status = 200, body = Page<SwapView>), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/swap-requests")]
async fn list_swaps(
    user: AuthUser,
    pool: web::Data<DbPool>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<SwapView>>, ApiError> {
    let page = page.parse()?;
    let views =
        db::run(&pool, move |conn| swaps::visible(conn, &user, Audience::Coordinator, Slice::Page(page))).await?;
    Ok(web::Json(views))
}

async fn act_on_swap(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: i64,
    action: SwapAction,
) -> Result<web::Json<SwapView>, ApiError> {
    let view = db::transaction(&pool, move |conn| swaps::act(conn, &user, id, action, clock.now_naive())).await?;
    Ok(web::Json(view))
}

/// Accept an offer: the colleague asked, or for a pool offer anyone in the duty's pool but the
/// offerer.
#[utoipa::path(
    tag = "rosters",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = SwapView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition` or `assignment_conflict`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/swap-requests/{id}/accept")]
async fn accept_swap(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<SwapView>, ApiError> {
    act_on_swap(clock, user, pool, id.into_inner(), SwapAction::Accept).await
}

/// Approve an accepted swap (a coordinator of the duty's venue): the colleague takes the duty
/// in a new roster version.
#[utoipa::path(
    tag = "rosters",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = SwapView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition` or `assignment_conflict`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/swap-requests/{id}/approve")]
async fn approve_swap(
    clock: Clock,
    c: Coordinator,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<SwapView>, ApiError> {
    act_on_swap(clock, c.user, pool, id.into_inner(), SwapAction::Approve).await
}

/// Reject an open swap (a coordinator of the duty's venue).
#[utoipa::path(
    tag = "rosters",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = SwapView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/swap-requests/{id}/reject")]
async fn reject_swap(
    clock: Clock,
    c: Coordinator,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<SwapView>, ApiError> {
    act_on_swap(clock, c.user, pool, id.into_inner(), SwapAction::Reject).await
}

/// Withdraw an open swap (the offering member, or the colleague who accepted).
#[utoipa::path(
    tag = "rosters",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = SwapView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/swap-requests/{id}/cancel")]
async fn cancel_swap(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<SwapView>, ApiError> {
    act_on_swap(clock, user, pool, id.into_inner(), SwapAction::Cancel).await
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
    let view = db::transaction(&pool, move |conn| leave::ask(conn, &user, &body, clock.now_naive())).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Your leave requests, and for coordinators those of the members they decide for (their
/// studios' and the roving pool's); by id, a page at a time.
#[utoipa::path(
    tag = "rosters",
    params(PageParams),
    responses((status = 200, body = Page<LeaveView>), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/leave-requests")]
async fn list_leave(
    user: AuthUser,
    pool: web::Data<DbPool>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<LeaveView>>, ApiError> {
    let page = page.parse()?;
    let views = db::run(&pool, move |conn| leave::visible(conn, &user, true, Slice::Page(page))).await?;
    Ok(web::Json(views))
}

async fn act_on_leave(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: i64,
    action: LeaveAction,
) -> Result<web::Json<LeaveDecision>, ApiError> {
    let decision = db::transaction(&pool, move |conn| leave::act(conn, &user, id, action, clock.now_naive())).await?;
    Ok(web::Json(decision))
}

/// Approve pending leave (a coordinator of the member's studio): the member comes off their
/// duties in the range, with proposed substitutes for each.
#[utoipa::path(
    tag = "rosters",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = LeaveDecision),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/leave-requests/{id}/approve")]
async fn approve_leave(
    clock: Clock,
    c: Coordinator,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<LeaveDecision>, ApiError> {
    act_on_leave(clock, c.user, pool, id.into_inner(), LeaveAction::Approve).await
}

/// Reject pending leave (a coordinator of the member's studio).
#[utoipa::path(
    tag = "rosters",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = LeaveDecision),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/leave-requests/{id}/reject")]
async fn reject_leave(
    clock: Clock,
    c: Coordinator,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<LeaveDecision>, ApiError> {
    act_on_leave(clock, c.user, pool, id.into_inner(), LeaveAction::Reject).await
}

/// Withdraw your own pending leave.
#[utoipa::path(
    tag = "rosters",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = LeaveDecision),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/leave-requests/{id}/cancel")]
async fn cancel_leave(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<LeaveDecision>, ApiError> {
    act_on_leave(clock, user, pool, id.into_inner(), LeaveAction::Cancel).await
}
