//! Handling units (承办单位): the committee-managed list of township governments and county
//! departments items are referred to. And the printable poster of each venue's resident QR.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Admin, Coordinator};
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::error::{ApiError, ErrorCode, FieldChecks, Problem, conflict_on_unique};
use crate::schema::handling_units;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_units).service(create_unit).service(update_unit).service(resident_poster);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    TownshipGovernment,
    CountyDepartment,
    Other,
}

impl UnitKind {
    fn as_str(self) -> &'static str {
        match self {
            UnitKind::TownshipGovernment => "township_government",
            UnitKind::CountyDepartment => "county_department",
            UnitKind::Other => "other",
        }
    }
}

#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct HandlingUnitView {
    pub id: i64,
    pub name: String,
    /// `township_government`, `county_department` or `other`.
    pub kind: String,
    /// Where the referral notice goes (a phone number or address for the committee's bridge).
    pub contact: Option<String>,
    pub active: bool,
}

type UnitColumns =
    (handling_units::id, handling_units::name, handling_units::kind, handling_units::contact, handling_units::active);
const UNIT_COLUMNS: UnitColumns =
    (handling_units::id, handling_units::name, handling_units::kind, handling_units::contact, handling_units::active);

/// The committee's handling units.
#[utoipa::path(tag = "items", responses((status = 200, body = Vec<HandlingUnitView>)), security(("bearer" = [])))]
#[get("/handling-units")]
async fn list_units(c: Coordinator, pool: web::Data<DbPool>) -> Result<web::Json<Vec<HandlingUnitView>>, ApiError> {
    let committee_id = c.user.committee_id;
    let units = db::run(&pool, move |conn| {
        Ok(handling_units::table
            .filter(handling_units::committee_id.eq(committee_id))
            .order(handling_units::id)
            .select(UNIT_COLUMNS)
            .load(conn)?)
    })
    .await?;
    Ok(web::Json(units))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    pub name: String,
    pub kind: UnitKind,
    pub contact: Option<String>,
}

fn checked_contact(checks: &mut FieldChecks, raw: Option<&str>) -> Option<String> {
    raw.filter(|s| !s.trim().is_empty()).and_then(|s| checks.check("contact", crate::domain::bounded_text(s, 100)))
}

/// Adds a handling unit (admin).
#[utoipa::path(
    tag = "items",
    request_body = NewUnit,
    responses((status = 201, body = HandlingUnitView), (status = 409, description = "`handling_unit_name_taken`", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/handling-units")]
async fn create_unit(
    clock: Clock,
    Admin(admin): Admin,
    pool: web::Data<DbPool>,
    body: web::Json<NewUnit>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut checks = FieldChecks::new();
    let name = checks.check("name", crate::domain::bounded_text(&body.name, 60));
    let contact = checked_contact(&mut checks, body.contact.as_deref());
    checks.finish()?;
    let name = name.unwrap_or_default();
    let view = db::transaction(&pool, move |conn| {
        let id: i64 = diesel::insert_into(handling_units::table)
            .values((
                handling_units::committee_id.eq(admin.committee_id),
                handling_units::name.eq(&name),
                handling_units::kind.eq(body.kind.as_str()),
                handling_units::contact.eq(&contact),
                handling_units::active.eq(true),
                handling_units::created_at.eq(clock.now_naive()),
            ))
            .returning(handling_units::id)
            .get_result(conn)
            .map_err(|e| conflict_on_unique(e, ErrorCode::HandlingUnitNameTaken))?;
        crate::audit::record(
            conn,
            admin.committee_id,
            Some(admin.member_id),
            "create",
            "handling_unit",
            Some(id),
            &name,
            clock.now_naive(),
        )?;
        Ok(handling_units::table.find(id).select(UNIT_COLUMNS).first::<HandlingUnitView>(conn)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::json::present")]
    #[schema(value_type = Option<String>)]
    pub contact: Option<Option<String>>,
    /// An inactive unit keeps its history but takes no new referrals.
    pub active: Option<bool>,
}

/// Renames a handling unit, changes its contact or retires it (admin).
#[utoipa::path(
    tag = "items",
    params(("id" = i64, Path)),
    request_body = UnitPatch,
    responses(
        (status = 200, body = HandlingUnitView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`handling_unit_name_taken`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/handling-units/{id}")]
async fn update_unit(
    clock: Clock,
    Admin(admin): Admin,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: web::Json<UnitPatch>,
) -> Result<web::Json<HandlingUnitView>, ApiError> {
    let id = id.into_inner();
    let body = body.into_inner();
    let mut checks = FieldChecks::new();
    let name = body.name.as_deref().and_then(|n| checks.check("name", crate::domain::bounded_text(n, 60)));
    let contact = body.contact.as_ref().map(|c| checked_contact(&mut checks, c.as_deref()));
    checks.finish()?;
    let view = db::transaction(&pool, move |conn| {
        let target = handling_units::table
            .filter(handling_units::committee_id.eq(admin.committee_id).and(handling_units::id.eq(id)));
        let current: HandlingUnitView = target.select(UNIT_COLUMNS).first(conn)?;
        diesel::update(handling_units::table.find(id))
            .set((
                handling_units::name.eq(name.unwrap_or(current.name)),
                handling_units::contact.eq(contact.unwrap_or(current.contact)),
                handling_units::active.eq(body.active.unwrap_or(current.active)),
            ))
            .execute(conn)
            .map_err(|e| conflict_on_unique(e, ErrorCode::HandlingUnitNameTaken))?;
        crate::audit::record(
            conn,
            admin.committee_id,
            Some(admin.member_id),
            "update",
            "handling_unit",
            Some(id),
            "",
            clock.now_naive(),
        )?;
        Ok(handling_units::table.find(id).select(UNIT_COLUMNS).first::<HandlingUnitView>(conn)?)
    })
    .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PosterQuery {
    /// `svg` (default), `png` or `html` (a printable A4 page).
    pub format: Option<String>,
}

/// The printable poster of a venue's resident QR: residents scan it with any phone camera to
/// reach `/r/{venue_code}` (admin).
#[utoipa::path(
    tag = "items",
    params(("id" = i64, Path, description = "Venue id"), PosterQuery),
    responses(
        (status = 200, description = "The code as `format` asks: SVG (default), PNG or a printable HTML page",
            content(
                (String = "image/svg+xml"),
                (Vec<u8> = "image/png"),
                (String = "text/html"),
            )),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: unknown `format`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/venues/{id}/resident-poster")]
async fn resident_poster(
    req: HttpRequest,
    Admin(admin): Admin,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    query: web::Query<PosterQuery>,
) -> Result<HttpResponse, ApiError> {
    let venue_id = id.into_inner();
    let venue = db::run(&pool, move |conn| crate::venues::store::find(conn, admin.committee_id, venue_id)).await?;
    let url = format!("{}/r/{}", crate::public_url::BaseUrl::of(&req), venue.code);
    match query.format.as_deref().unwrap_or("svg") {
        "svg" => Ok(HttpResponse::Ok().content_type("image/svg+xml").body(crate::qr::svg(&url, 600)?)),
        "png" => Ok(HttpResponse::Ok().content_type("image/png").body(crate::qr::png(&url, 600)?)),
        "html" => {
            let page = super::pages::PosterPage {
                venue_name: venue.name,
                url: url.clone(),
                qr_svg: crate::qr::svg(&url, 600)?,
            };
            super::pages::html(&page)
        }
        _ => Err(ApiError::field("format", "invalid", "svg, png or html")),
    }
}
