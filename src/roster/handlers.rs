use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::changes::{self, AssignmentChange, GeneratedSummary};

use super::views::{self, Duty, RosterView, SHIFT_COLUMNS, ShiftRow, ShiftView};
use crate::auth::{AuthUser, Coordinator};
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::error::{ApiError, Problem};
use crate::pagination::{Page, PageParams};
use crate::schema::{assignments, shifts, venues};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(generate_roster)
        .service(get_roster)
        .service(publish_roster)
        .service(list_shifts)
        .service(change_assignments)
        .service(my_duties);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateRoster {
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    /// Only these venues' templates (default: every venue in the caller's scope).
    pub venue_ids: Option<Vec<i64>>,
}

/// Generate a draft roster for a period from the shift templates (coordinator or admin).
/// Deterministic; shortfalls are reported, never hidden.
#[utoipa::path(
    tag = "rosters",
    request_body = GenerateRoster,
    responses(
        (status = 201, body = GeneratedSummary),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`roster_period_overlaps`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`, `calendar_missing`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/rosters/generate")]
async fn generate_roster(
    clock: Clock,
    c: Coordinator,
    pool: web::Data<DbPool>,
    body: web::Json<GenerateRoster>,
) -> Result<HttpResponse, ApiError> {
    let GenerateRoster { period_from: from, period_to: to, venue_ids } = body.into_inner();
    let now = clock.now_naive();
    let summary =
        db::transaction(&pool, move |conn| changes::generate_draft(conn, &c, from, to, venue_ids, now)).await?;
    Ok(HttpResponse::Created().json(summary))
}

/// A roster with its shifts, assignments and shortfalls (within the caller's scope).
/// Carries an ETag; `If-None-Match` answers 304 when nothing changed.
#[utoipa::path(
    tag = "rosters",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = RosterView, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/rosters/{id}")]
async fn get_roster(
    c: Coordinator,
    req: HttpRequest,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (id, committee_id) = (id.into_inner(), c.user.committee_id);
    let presented = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let filter = c.scope.ids();
    let outcome = db::run(&pool, move |conn| {
        let header = views::roster_header(conn, committee_id, id)?;
        let etag = header.etag();
        if presented.as_deref() == Some(etag.as_str()) {
            return Ok((etag, None));
        }
        Ok((etag, Some(views::roster_view(conn, header, filter.as_deref())?)))
    })
    .await?;
    match outcome {
        (etag, None) => Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish()),
        (etag, Some(view)) => Ok(HttpResponse::Ok().insert_header((header::ETAG, etag)).json(view)),
    }
}

/// Publish a draft roster: members see their duties and are notified.
#[utoipa::path(
    tag = "rosters",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = RosterView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition` (not a draft) or `roster_period_overlaps`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/rosters/{id}/publish")]
async fn publish_roster(
    clock: Clock,
    c: Coordinator,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<RosterView>, ApiError> {
    let (id, committee_id, actor) = (id.into_inner(), c.user.committee_id, c.user.member_id);
    let filter = c.scope.ids();
    let view = db::transaction(&pool, move |conn| {
        changes::publish(conn, committee_id, id, actor, filter.as_deref(), clock.now_naive())?;
        let header = views::roster_header(conn, committee_id, id)?;
        views::roster_view(conn, header, filter.as_deref())
    })
    .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShiftFilter {
    pub venue_id: Option<i64>,
    pub member_id: Option<i64>,
    pub roster_id: Option<i64>,
    /// First local date (inclusive).
    pub from: Option<NaiveDate>,
    /// Last local date (inclusive).
    pub to: Option<NaiveDate>,
}

/// Shifts with their teams, for coordinators within scope, ordered by id (cursor pages).
#[utoipa::path(
    tag = "rosters",
    params(ShiftFilter, PageParams),
    responses(
        (status = 200, body = Page<ShiftView>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/shifts")]
async fn list_shifts(
    c: Coordinator,
    pool: web::Data<DbPool>,
    filter: web::Query<ShiftFilter>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<ShiftView>>, ApiError> {
    let page = page.parse()?;
    let f = filter.into_inner();
    if let Some(v) = f.venue_id {
        c.scope.check(v)?;
    }
    let scope = c.scope.ids();
    let committee_id = c.user.committee_id;
    let items = db::run(&pool, move |conn| {
        let mut q = shifts::table
            .inner_join(venues::table)
            .filter(shifts::committee_id.eq(committee_id))
            .filter(shifts::id.gt(page.after_id))
            .into_boxed();
        if let Some(v) = f.venue_id {
            q = q.filter(shifts::venue_id.eq(v));
        }
        if let Some(ids) = scope {
            q = q.filter(shifts::venue_id.eq_any(ids));
        }
        if let Some(r) = f.roster_id {
            q = q.filter(shifts::roster_id.eq(r));
        }
        if let Some(from) = f.from {
            q = q.filter(shifts::local_date.ge(from));
        }
        if let Some(to) = f.to {
            q = q.filter(shifts::local_date.le(to));
        }
        if let Some(m) = f.member_id {
            let with_member = assignments::table
                .filter(assignments::member_id.eq(m).and(assignments::removed_at.is_null()))
                .select(assignments::shift_id);
            q = q.filter(shifts::id.eq_any(with_member));
        }
        let rows: Vec<ShiftRow> = q.order(shifts::id).limit(page.limit + 1).select(SHIFT_COLUMNS).load(conn)?;
        views::shift_views(conn, rows)
    })
    .await?;
    Ok(web::Json(Page::from_rows(items, page, |s: &ShiftView| s.id)))
}

/// Add, remove, replace, lock or unlock an assignment. On a published roster the change is a
/// new version with who, when and why; removed assignments are kept as history and the
/// members concerned are notified.
#[utoipa::path(
    tag = "rosters",
    params(("id" = i64, Path, description = "Shift id")),
    request_body = AssignmentChange,
    responses(
        (status = 200, body = ShiftView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`assignment_conflict`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/shifts/{id}/assignments")]
async fn change_assignments(
    clock: Clock,
    c: Coordinator,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: web::Json<AssignmentChange>,
) -> Result<web::Json<ShiftView>, ApiError> {
    let (shift_id, committee_id, actor) = (id.into_inner(), c.user.committee_id, c.user.member_id);
    let change = body.into_inner();
    let scope = c.scope.clone();
    let view = db::transaction(&pool, move |conn| {
        changes::apply(conn, committee_id, actor, &scope, shift_id, &change, clock.now_naive())?;
        let rows: Vec<ShiftRow> =
            shifts::table.inner_join(venues::table).filter(shifts::id.eq(shift_id)).select(SHIFT_COLUMNS).load(conn)?;
        Ok(views::shift_views(conn, rows)?.remove(0))
    })
    .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DutyWindow {
    /// First local date (default: today in the committee's time zone).
    pub from: Option<NaiveDate>,
    /// Last local date (default: 92 days after `from`).
    pub to: Option<NaiveDate>,
}

/// The signed-in member's published duties, soonest first.
#[utoipa::path(
    tag = "rosters",
    params(DutyWindow),
    responses((status = 200, body = Vec<Duty>), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/me/duties")]
async fn my_duties(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    window: web::Query<DutyWindow>,
) -> Result<web::Json<Vec<Duty>>, ApiError> {
    let DutyWindow { from, to } = window.into_inner();
    let duties = db::run(&pool, move |conn| {
        let tz = crate::committee::timezone(conn, user.committee_id)?;
        let from = from.unwrap_or_else(|| clock.now().with_timezone(&tz).date_naive());
        let to = to.unwrap_or(from + Duration::days(92));
        if to < from || (to - from).num_days() > changes::MAX_PERIOD_DAYS {
            return Err(ApiError::field("to", "out_of_range", "must be on or after `from`, within a year"));
        }
        views::member_duties(conn, user.committee_id, user.member_id, from, to)
    })
    .await?;
    Ok(web::Json(duties))
}
