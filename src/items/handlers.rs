//! The staff side of items: the coordinators' queue and triage, members recording what they
//! heard at reception, and the live inbox of the members on duty.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::NaiveDateTime;
use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::store::{self, Actor, ItemRow};
use super::views::{EventView, ItemDetail, ItemView};
use super::workflow::{
    self, CommitteeRules, MAX_NOTE_CHARS, TriageChoice, coordinated_item, optional_text, text, triage_by_coordinator,
};
use crate::auth::{AuthUser, Coordinator, VenueScope, load_scope};
use crate::clock::Clock;
use crate::committee::local_date;
use crate::db::{self, DbConnection, DbPool};
use crate::domain::{Difficulty, Importance, ItemKind, ItemState, Resolution, Tier};
use crate::error::{ApiError, FieldChecks, Problem};
use crate::pagination::{Page, PageParams};
use crate::schema::items;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_items)
        .service(record_item)
        .service(get_item)
        .service(triage_item)
        .service(refer_item)
        .service(reply_item)
        .service(close_item)
        .service(reopen_item)
        .service(take_item)
        .service(follow_up_item)
        .service(my_inbox);
}

use super::reception::{self, Access, access};

fn today(rules: &CommitteeRules, now: NaiveDateTime) -> NaiveDate {
    local_date(rules.tz, now)
}

// ----------------------------------------------------------------------------- queue

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemFilter {
    pub venue_id: Option<i64>,
    /// 1–4.
    pub tier: Option<i32>,
    /// `received`, `triaged`, `referred`, `replied`, `closed` or `reopened`.
    pub state: Option<ItemState>,
    /// Only items past their deadline and still unanswered.
    pub overdue: Option<bool>,
    /// Only closed tier 3–4 items whose follow-up review (回头看) date has come.
    pub follow_up_due: Option<bool>,
    /// Received on or after this local date.
    pub from: Option<NaiveDate>,
    /// Received on or before this local date.
    pub to: Option<NaiveDate>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The coordinator's queue: items of the venues they coordinate (every venue for admins),
/// filtered, oldest first, by cursor.
#[utoipa::path(
    tag = "items",
    params(ItemFilter),
    responses((status = 200, body = Page<ItemView>)),
    security(("bearer" = []))
)]
#[get("/items")]
async fn list_items(
    clock: Clock,
    coordinator: Coordinator,
    pool: web::Data<DbPool>,
    query: web::Query<ItemFilter>,
) -> Result<web::Json<Page<ItemView>>, ApiError> {
    let filter = query.into_inner();
    let page = PageParams { limit: filter.limit, cursor: filter.cursor.clone() }.parse()?;
    if let Some(tier) = filter.tier {
        Tier::new(i64::from(tier)).map_err(|e| ApiError::field("tier", e.reason, e.message))?;
    }
    if let Some(venue_id) = filter.venue_id {
        coordinator.scope.check(venue_id)?;
    }
    let committee_id = coordinator.user.committee_id;
    let rows = db::run(&pool, move |conn| {
        let rules = CommitteeRules::load(conn, committee_id)?;
        let today = today(&rules, clock.now_naive());
        let mut query = items::table
            .filter(items::committee_id.eq(committee_id))
            .filter(items::id.gt(page.after_id))
            .order(items::id)
            .limit(page.limit + 1)
            .select(ItemRow::as_select())
            .into_boxed();
        if let VenueScope::Venues(ids) = &coordinator.scope {
            query = query.filter(items::venue_id.eq_any(ids.iter().copied().collect::<Vec<_>>()));
        }
        if let Some(venue_id) = filter.venue_id {
            query = query.filter(items::venue_id.eq(venue_id));
        }
        if let Some(tier) = filter.tier {
            query = query.filter(items::tier.eq(tier));
        }
        if let Some(state) = filter.state {
            query = query.filter(items::state.eq(state.as_str()));
        }
        if filter.overdue == Some(true) {
            let open: Vec<&str> = ItemState::ALL.iter().filter(|s| s.awaits_answer()).map(|s| s.as_str()).collect();
            query = query.filter(items::due_on.lt(today)).filter(items::state.eq_any(open));
        }
        if filter.follow_up_due == Some(true) {
            query = query
                .filter(items::follow_up_on.le(today))
                .filter(items::follow_up_done_at.is_null())
                .filter(items::state.eq(ItemState::Closed.as_str()));
        }
        // Local dates → UTC bounds of those days.
        if let Some(from) = filter.from {
            query = query.filter(items::created_at.ge(crate::committee::local_to_utc(
                rules.tz,
                from,
                chrono::NaiveTime::MIN,
            )));
        }
        if let Some(to) = filter.to {
            let end = to + Duration::days(1);
            query = query.filter(items::created_at.lt(crate::committee::local_to_utc(
                rules.tz,
                end,
                chrono::NaiveTime::MIN,
            )));
        }
        let rows: Vec<ItemRow> = query.load(conn)?;
        let calendar = crate::calendar::store::known_years(conn, committee_id)?;
        Ok(rows.into_iter().map(|r| ItemView::new(r, today, true, &calendar)).collect::<Vec<_>>())
    })
    .await?;
    Ok(web::Json(Page::from_rows(rows, page, |v| v.id)))
}

fn detail(conn: &mut DbConnection, item: ItemRow, full: bool, now: NaiveDateTime) -> Result<ItemDetail, ApiError> {
    let rules = CommitteeRules::load(conn, item.committee_id)?;
    let timeline = store::events(conn, item.id, false)?.into_iter().map(EventView::from).collect();
    let calendar = crate::calendar::store::known_years(conn, item.committee_id)?;
    Ok(ItemDetail { item: ItemView::new(item, today(&rules, now), full, &calendar), timeline })
}

/// One item with its timeline. Coordinators of its venue see the resident's contact; the
/// members who recorded, took or were on duty for it see the rest.
#[utoipa::path(
    tag = "items",
    params(("id" = i64, Path)),
    responses((status = 200, body = ItemDetail), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/items/{id}")]
async fn get_item(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<ItemDetail>, ApiError> {
    let id = id.into_inner();
    let view = db::run(&pool, move |conn| {
        let item = store::find(conn, user.committee_id, id)?;
        let full = matches!(access(conn, &user, &item)?, Access::Full);
        detail(conn, item, full, clock.now_naive())
    })
    .await?;
    Ok(web::Json(view))
}

// ----------------------------------------------------------------------------- recording

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordItem {
    /// The member's own duty during which the item was collected.
    pub assignment_id: i64,
    pub kind: ItemKind,
    pub topic: String,
    pub body: String,
    pub resident_name: Option<String>,
    pub resident_phone: Option<String>,
}

/// A member records an item collected in person at reception, linked to their duty.
#[utoipa::path(
    tag = "items",
    request_body = RecordItem,
    responses((status = 201, body = ItemDetail)),
    security(("bearer" = []))
)]
#[post("/items")]
async fn record_item(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    body: web::Json<RecordItem>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let item = reception::check_in_person(
        body.assignment_id,
        body.kind,
        &body.topic,
        &body.body,
        body.resident_name.as_deref(),
        body.resident_phone.as_deref(),
    )?;
    let view = db::transaction(&pool, move |conn| {
        let (row, full) = reception::record_in_person(conn, &user, &item, clock.now_naive())?;
        detail(conn, row, full, clock.now_naive())
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

// ----------------------------------------------------------------------------- triage and the rest

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageRequest {
    pub importance: Importance,
    pub difficulty: Difficulty,
    /// A tier other than the committee matrix gives; needs `reason`.
    pub tier: Option<i64>,
    pub reason: Option<String>,
    pub note: Option<String>,
}

/// Classifies the item into a tier (importance × difficulty by the committee matrix, or an
/// override with a reason) and sets its deadline in working days.
#[utoipa::path(
    tag = "items",
    params(("id" = i64, Path)),
    request_body = TriageRequest,
    responses((status = 200, body = ItemDetail), (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/items/{id}/triage")]
async fn triage_item(
    clock: Clock,
    coordinator: Coordinator,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: web::Json<TriageRequest>,
) -> Result<web::Json<ItemDetail>, ApiError> {
    let id = id.into_inner();
    let body = body.into_inner();
    let mut checks = FieldChecks::new();
    let tier = body.tier.and_then(|t| checks.check("tier", Tier::new(t)));
    let reason = optional_text(&mut checks, "reason", body.reason.as_deref(), 500);
    let note = optional_text(&mut checks, "note", body.note.as_deref(), MAX_NOTE_CHARS);
    checks.finish()?;
    let view = db::transaction(&pool, move |conn| {
        let choice = TriageChoice {
            importance: body.importance,
            difficulty: body.difficulty,
            tier,
            reason: reason.as_deref(),
            note: note.as_deref(),
        };
        let now = clock.now_naive();
        let item = triage_by_coordinator(conn, &coordinator, id, choice, now)?;
        detail(conn, item, true, now)
    })
    .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferRequest {
    pub handling_unit_id: i64,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Referred {
    pub item: ItemDetail,
    /// The handling unit's secret link: it reads the item and answers there, no account
    /// needed. Shown once; also queued as an `item.referred` notification.
    pub link: String,
}

/// Refers a triaged item to a handling unit (township government or county department).
#[utoipa::path(
    tag = "items",
    params(("id" = i64, Path)),
    request_body = ReferRequest,
    responses((status = 200, body = Referred), (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/items/{id}/refer")]
async fn refer_item(
    clock: Clock,
    req: HttpRequest,
    coordinator: Coordinator,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: web::Json<ReferRequest>,
) -> Result<web::Json<Referred>, ApiError> {
    let id = id.into_inner();
    let body = body.into_inner();
    let mut checks = FieldChecks::new();
    let note = optional_text(&mut checks, "note", body.note.as_deref(), MAX_NOTE_CHARS);
    checks.finish()?;
    let base = crate::public_url::BaseUrl::of(&req);
    let (item, token) = db::transaction(&pool, move |conn| {
        let item = coordinated_item(conn, &coordinator, id)?;
        let token = workflow::refer(
            conn,
            &item,
            coordinator.user.member_id,
            body.handling_unit_id,
            note.as_deref(),
            clock.now_naive(),
        )?;
        let row = store::find(conn, item.committee_id, id)?;
        Ok((detail(conn, row, true, clock.now_naive())?, token))
    })
    .await?;
    Ok(web::Json(Referred { item, link: format!("{base}/h/{token}") }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    /// The answer, shown to the resident.
    pub text: String,
}

/// Answers the item. Coordinators of its venue may; so may the member who took it from the
/// live inbox or recorded it, or a member on duty when it arrived while nobody has taken it.
#[utoipa::path(
    tag = "items",
    params(("id" = i64, Path)),
    request_body = ReplyRequest,
    responses((status = 200, body = ItemDetail), (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/items/{id}/reply")]
async fn reply_item(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: web::Json<ReplyRequest>,
) -> Result<web::Json<ItemDetail>, ApiError> {
    let id = id.into_inner();
    let reply = reception::check_reply_text(&body.text)?;
    let view = db::transaction(&pool, move |conn| {
        let (row, full) = reception::reply_as(conn, &user, id, &reply, clock.now_naive())?;
        detail(conn, row, full, clock.now_naive())
    })
    .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    pub resolution: Resolution,
    pub note: Option<String>,
}

/// Closes the item with a resolution (`resolved`, `answered`, `not_actionable`, `duplicate`,
/// `merged`). The last three need no answer first. Coordinators of the venue close; a member
/// closes only a consultation they answered, or a tier 1 item (即办) they took or recorded
/// (403 `close_needs_coordinator` otherwise).
#[utoipa::path(
    tag = "items",
    params(("id" = i64, Path)),
    request_body = CloseRequest,
    responses(
        (status = 200, body = ItemDetail),
        (status = 403, description = "`close_needs_coordinator` or `out_of_scope`", body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/items/{id}/close")]
async fn close_item(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: web::Json<CloseRequest>,
) -> Result<web::Json<ItemDetail>, ApiError> {
    let id = id.into_inner();
    let body = body.into_inner();
    let mut checks = FieldChecks::new();
    let note = optional_text(&mut checks, "note", body.note.as_deref(), MAX_NOTE_CHARS);
    checks.finish()?;
    let view = db::transaction(&pool, move |conn| {
        let (row, full) = reception::close_as(conn, &user, id, body.resolution, note.as_deref(), clock.now_naive())?;
        detail(conn, row, full, clock.now_naive())
    })
    .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    pub reason: String,
}

/// Reopens an answered or closed item (coordinator, with a reason). Its deadline runs again.
#[utoipa::path(
    tag = "items",
    params(("id" = i64, Path)),
    request_body = ReasonRequest,
    responses((status = 200, body = ItemDetail), (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/items/{id}/reopen")]
async fn reopen_item(
    clock: Clock,
    coordinator: Coordinator,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: web::Json<ReasonRequest>,
) -> Result<web::Json<ItemDetail>, ApiError> {
    let id = id.into_inner();
    let mut checks = FieldChecks::new();
    let reason = text(&mut checks, "reason", &body.reason, 500);
    checks.finish()?;
    let view = db::transaction(&pool, move |conn| {
        let item = coordinated_item(conn, &coordinator, id)?;
        let rules = CommitteeRules::load(conn, item.committee_id)?;
        let actor = Actor::Member(coordinator.user.member_id);
        workflow::reopen(conn, &item, actor, reason.as_deref(), &rules, clock.now_naive())?;
        let row = store::find(conn, item.committee_id, id)?;
        detail(conn, row, true, clock.now_naive())
    })
    .await?;
    Ok(web::Json(view))
}

/// A member on duty takes an item from the live inbox; colleagues then see it taken.
#[utoipa::path(
    tag = "items",
    params(("id" = i64, Path)),
    responses((status = 200, body = ItemDetail), (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/items/{id}/take")]
async fn take_item(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<ItemDetail>, ApiError> {
    let id = id.into_inner();
    let view = db::transaction(&pool, move |conn| {
        let (row, full) = reception::take_as(conn, &user, id, clock.now_naive())?;
        detail(conn, row, full, clock.now_naive())
    })
    .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpRequest {
    /// What the follow-up review found.
    pub note: String,
}

/// Records the follow-up review (回头看) of a closed tier 3–4 item once its date has come.
#[utoipa::path(
    tag = "items",
    params(("id" = i64, Path)),
    request_body = FollowUpRequest,
    responses((status = 200, body = ItemDetail), (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/items/{id}/follow-up")]
async fn follow_up_item(
    clock: Clock,
    coordinator: Coordinator,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: web::Json<FollowUpRequest>,
) -> Result<web::Json<ItemDetail>, ApiError> {
    let id = id.into_inner();
    let mut checks = FieldChecks::new();
    let note = text(&mut checks, "note", &body.note, MAX_NOTE_CHARS);
    checks.finish()?;
    let note = note.unwrap_or_default();
    let view = db::transaction(&pool, move |conn| {
        let item = coordinated_item(conn, &coordinator, id)?;
        workflow::follow_up(conn, &item, coordinator.user.member_id, &note, clock.now_naive())?;
        let row = store::find(conn, item.committee_id, id)?;
        detail(conn, row, true, clock.now_naive())
    })
    .await?;
    Ok(web::Json(view))
}

// ----------------------------------------------------------------------------- inbox

/// The member's live inbox: residents' items that arrived at a venue while the member was on
/// duty there (from an hour before the duty to its end), still unanswered, and not taken by a
/// colleague. Newest first.
#[utoipa::path(
    tag = "items",
    responses((status = 200, body = Vec<ItemView>)),
    security(("bearer" = []))
)]
#[get("/me/inbox")]
async fn my_inbox(clock: Clock, user: AuthUser, pool: web::Data<DbPool>) -> Result<web::Json<Vec<ItemView>>, ApiError> {
    let rows = db::run(&pool, move |conn| {
        let now = clock.now_naive();
        let found = reception::inbox(conn, &user, now)?;
        let rules = CommitteeRules::load(conn, user.committee_id)?;
        let today = today(&rules, now);
        let full = load_scope(conn, &user)?;
        let calendar = crate::calendar::store::known_years(conn, user.committee_id)?;
        Ok(found
            .into_iter()
            .map(|r| {
                let with_contact = full.includes(r.venue_id);
                ItemView::new(r, today, with_contact, &calendar)
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(web::Json(rows))
}
