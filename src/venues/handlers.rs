use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::store::{self, NewVenue};
use super::views::{Location, VenueView};
use crate::auth::{Admin, AuthUser};
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::domain::{DingTalkInput, Geofence, VenueAddress, VenueCode, VenueKind, VenueName, WecomInput};
use crate::error::{ApiError, ErrorCode, FieldChecks, Problem, conflict_on_unique};
use crate::outbox::channels::store::{self as channels, ChannelsPatch};
use crate::pagination::{Page, PageParams};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_venues).service(create_venue).service(get_venue).service(update_venue);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VenueFilter {
    pub kind: Option<VenueKind>,
    pub active: Option<bool>,
}

/// Venues of the caller's committee.
#[utoipa::path(
    tag = "venues",
    params(VenueFilter, PageParams),
    responses(
        (status = 200, body = Page<VenueView>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/venues")]
async fn list_venues(
    user: AuthUser,
    pool: web::Data<DbPool>,
    filter: web::Query<VenueFilter>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<VenueView>>, ApiError> {
    let page = page.parse()?;
    let VenueFilter { kind, active } = filter.into_inner();
    let rows = db::run(&pool, move |conn| {
        store::list(conn, user.committee_id, kind.map(VenueKind::as_str), active, page.after_id, page.limit + 1)
    })
    .await?;
    let rows = rows.into_iter().map(VenueView::from).collect();
    Ok(web::Json(Page::from_rows(rows, page, |v: &VenueView| v.id)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVenue {
    pub kind: VenueKind,
    pub name: String,
    pub township: Option<String>,
    /// Street address, 1–120 characters on one line (e.g. `昆阳镇解放街 128 号`).
    pub address: Option<String>,
    pub code: String,
    pub location: Option<Location>,
}

/// Add a venue (admin).
#[utoipa::path(
    tag = "venues",
    request_body = CreateVenue,
    responses(
        (status = 201, body = VenueView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`venue_code_taken` or `venue_name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` with field errors", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/venues")]
async fn create_venue(
    clock: Clock,
    Admin(admin): Admin,
    pool: web::Data<DbPool>,
    body: web::Json<CreateVenue>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut checks = FieldChecks::new();
    let name = checks.check("name", VenueName::parse(&body.name));
    let code = checks.check("code", VenueCode::parse(&body.code));
    let township = body.township.as_deref().map(|t| checks.check("township", VenueName::parse(t)));
    let address = body.address.as_deref().map(|a| checks.check("address", VenueAddress::parse(a)));
    let fence = body.location.map(|l| check_location(&mut checks, l));
    checks.finish()?;
    let fence = fence.flatten();
    let new = NewVenue {
        kind: body.kind.as_str(),
        name: name.expect("checked").into_inner(),
        township: township.flatten().map(VenueName::into_inner),
        address: address.flatten().map(VenueAddress::into_inner),
        code: code.expect("checked").as_str().to_owned(),
        latitude: fence.map(|f| f.latitude),
        longitude: fence.map(|f| f.longitude),
        radius_m: fence.map(|f| f.radius_m),
    };
    let committee_id = admin.committee_id;
    let row = db::transaction(&pool, move |conn| {
        let id = store::insert(conn, committee_id, &new, clock.now_naive()).map_err(venue_conflict)?;
        store::find(conn, committee_id, id)
    })
    .await?;
    Ok(HttpResponse::Created().json(VenueView::from(row)))
}

fn check_location(checks: &mut FieldChecks, l: Location) -> Option<Geofence> {
    Geofence::parse(l.latitude, l.longitude, l.radius_m)
        .map_err(|(field, e)| checks.push(&format!("location.{field}"), e.reason, e.message))
        .ok()
}

fn venue_conflict(e: diesel::result::Error) -> ApiError {
    let is_code = matches!(&e, diesel::result::Error::DatabaseError(_, info) if info.message().contains("code"));
    conflict_on_unique(e, if is_code { ErrorCode::VenueCodeTaken } else { ErrorCode::VenueNameTaken })
}

/// One venue.
#[utoipa::path(
    tag = "venues",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = VenueView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/venues/{id}")]
async fn get_venue(
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<VenueView>, ApiError> {
    let id = id.into_inner();
    let (row, channels) = db::run(&pool, move |conn| {
        Ok((store::find(conn, user.committee_id, id)?, channels::view(conn, user.committee_id, Some(id))?))
    })
    .await?;
    Ok(web::Json(VenueView { channels: Some(channels), ..VenueView::from(row) }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateVenue {
    pub name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::json::present")]
    #[schema(value_type = Option<String>)]
    pub township: Option<Option<String>>,
    /// Street address, 1–120 characters on one line; `null` clears it.
    #[serde(default, deserialize_with = "crate::json::present")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    pub code: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::json::present")]
    #[schema(value_type = Option<Location>)]
    pub location: Option<Option<Location>>,
    pub active: Option<bool>,
    /// The studio group's DingTalk custom robot; `null` removes it.
    #[serde(default, deserialize_with = "crate::json::present")]
    #[schema(value_type = Option<DingTalkInput>)]
    pub dingtalk: Option<Option<DingTalkInput>>,
    /// The studio group's WeCom group robot; `null` removes it.
    #[serde(default, deserialize_with = "crate::json::present")]
    #[schema(value_type = Option<WecomInput>)]
    pub wecom: Option<Option<WecomInput>>,
}

/// Change a venue (admin). Absent fields stay as they are.
#[utoipa::path(
    tag = "venues",
    params(("id" = i64, Path)),
    request_body = UpdateVenue,
    responses(
        (status = 200, body = VenueView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/venues/{id}")]
async fn update_venue(
    clock: Clock,
    Admin(admin): Admin,
    pool: web::Data<DbPool>,
    egress: web::Data<crate::egress::Egress>,
    id: web::Path<i64>,
    body: web::Json<UpdateVenue>,
) -> Result<web::Json<VenueView>, ApiError> {
    use crate::schema::venues;
    use diesel::prelude::*;

    let body = body.into_inner();
    let mut checks = FieldChecks::new();
    let name = body.name.as_deref().and_then(|n| checks.check("name", VenueName::parse(n)));
    let code = body.code.as_deref().and_then(|c| checks.check("code", VenueCode::parse(c)));
    let township = body.township.map(|t| t.and_then(|t| checks.check("township", VenueName::parse(&t))));
    let address = body.address.map(|a| a.and_then(|a| checks.check("address", VenueAddress::parse(&a))));
    let location = body.location.map(|l| l.and_then(|l| check_location(&mut checks, l)));
    checks.finish()?;
    let patch = ChannelsPatch { dingtalk: body.dingtalk, wecom: body.wecom, sms: None };
    crate::egress::check_fields(&egress, &patch.addresses()).await?;

    let (id, committee_id) = (id.into_inner(), admin.committee_id);
    let (row, channels) = db::transaction(&pool, move |conn| {
        store::find(conn, committee_id, id)?;
        let target = venues::table.filter(venues::committee_id.eq(committee_id).and(venues::id.eq(id)));
        let now = clock.now_naive();
        diesel::update(target).set(venues::updated_at.eq(now)).execute(conn)?;
        if let Some(name) = name {
            diesel::update(target).set(venues::name.eq(name.into_inner())).execute(conn).map_err(venue_conflict)?;
        }
        if let Some(code) = code {
            diesel::update(target).set(venues::code.eq(code.as_str())).execute(conn).map_err(venue_conflict)?;
        }
        if let Some(township) = township {
            diesel::update(target).set(venues::township.eq(township.map(VenueName::into_inner))).execute(conn)?;
        }
        if let Some(address) = address {
            diesel::update(target).set(venues::address.eq(address.map(VenueAddress::into_inner))).execute(conn)?;
        }
        if let Some(fence) = location {
            diesel::update(target)
                .set((
                    venues::latitude.eq(fence.map(|f| f.latitude)),
                    venues::longitude.eq(fence.map(|f| f.longitude)),
                    venues::radius_m.eq(fence.map(|f| f.radius_m)),
                ))
                .execute(conn)?;
        }
        if let Some(active) = body.active {
            diesel::update(target).set(venues::active.eq(active)).execute(conn)?;
        }
        if !patch.is_empty() {
            let changed = channels::apply(conn, committee_id, Some(id), patch, now)?;
            // Which channels changed, never their secrets.
            let what = changed.join(",");
            crate::audit::record(
                conn,
                committee_id,
                Some(admin.member_id),
                "venue.channels_changed",
                "venue",
                Some(id),
                &what,
                now,
            )?;
        }
        Ok((store::find(conn, committee_id, id)?, channels::view(conn, committee_id, Some(id))?))
    })
    .await?;
    Ok(web::Json(VenueView { channels: Some(channels), ..VenueView::from(row) }))
}
