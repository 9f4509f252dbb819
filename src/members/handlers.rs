use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::import;
use super::store::{self, MemberQuery, NewMember};
use super::views::{MemberView, views};
use super::visibility;
use super::workflow::{self, MemberChanges};
use crate::auth::{Admin, AuthUser, Coordinator, SessionCheck, VenueScope, password};
use crate::clock::Clock;
use crate::db::{self, DbConnection, DbPool};
use crate::domain::{Password, PersonName, Phone, Role, Roles, Sector};
use crate::error::{ApiError, ErrorCode, FieldChecks, Problem};
use crate::pagination::{Page, PageParams};
use crate::schema::committees;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(me)
        .service(update_me)
        .service(list_members)
        .service(create_member)
        .service(import_members)
        .service(get_member)
        .service(update_member);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommitteeSummary {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// IANA zone local dates and times are in, e.g. Asia/Shanghai.
    pub timezone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    #[serde(flatten)]
    pub member: MemberView,
    pub committee: CommitteeSummary,
    /// The member's own choice: duty reminders and decisions also by SMS (on by default).
    pub sms_enabled: bool,
    /// How many of the member's notices (`GET /me/notices`) are unread.
    pub unread_notices: i64,
}

/// What the signed-in member may change about themselves.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    /// Duty reminders and decisions also by SMS.
    pub sms_enabled: Option<bool>,
}

fn load_me(conn: &mut DbConnection, user: &AuthUser) -> Result<Me, ApiError> {
    use diesel::prelude::*;
    let row = store::find(conn, user.committee_id, user.member_id)?;
    let member = views(conn, user.committee_id, vec![row])?.remove(0);
    let (id, code, name, timezone) = committees::table
        .find(user.committee_id)
        .select((committees::id, committees::code, committees::name, committees::timezone))
        .first::<(i64, String, String, String)>(conn)?;
    Ok(Me {
        member,
        committee: CommitteeSummary { id, code, name, timezone },
        sms_enabled: crate::outbox::notices::sms_enabled(conn, user.member_id)?,
        unread_notices: crate::outbox::notices::unread_count(conn, user.member_id)?,
    })
}

/// The signed-in account and its committee.
#[utoipa::path(
    tag = "members",
    responses(
        (status = 200, body = Me),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/me")]
async fn me(user: AuthUser, pool: web::Data<DbPool>) -> Result<web::Json<Me>, ApiError> {
    Ok(web::Json(db::run(&pool, move |conn| load_me(conn, &user)).await?))
}

/// Change the signed-in member's own preferences (the member pages' 消息 has the same switch).
#[utoipa::path(
    tag = "members",
    request_body = UpdateMe,
    responses(
        (status = 200, body = Me),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/me")]
async fn update_me(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    body: web::Json<UpdateMe>,
) -> Result<web::Json<Me>, ApiError> {
    let (body, now) = (body.into_inner(), clock.now_naive());
    let updated = db::transaction(&pool, move |conn| {
        if let Some(on) = body.sms_enabled {
            crate::outbox::notices::set_sms_enabled(conn, user.member_id, on, now)?;
        }
        load_me(conn, &user)
    })
    .await?;
    Ok(web::Json(updated))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberFilter {
    /// Members homed at this venue.
    pub venue_id: Option<i64>,
    /// Only the roving pool (true).
    pub roving: Option<bool>,
    pub sector: Option<String>,
    pub active: Option<bool>,
    pub role: Option<Role>,
}

/// Members within the caller's scope: a coordinator sees the members of the venues they
/// coordinate and the roving pool; an admin sees everyone.
#[utoipa::path(
    tag = "members",
    params(MemberFilter, PageParams),
    responses(
        (status = 200, body = Page<MemberView>),
        (status = 403, description = "`forbidden` (members) or `out_of_scope`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/members")]
async fn list_members(
    coordinator: Coordinator,
    pool: web::Data<DbPool>,
    filter: web::Query<MemberFilter>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<MemberView>>, ApiError> {
    let page = page.parse()?;
    let filter = filter.into_inner();
    if let Some(venue) = filter.venue_id {
        coordinator.scope.check(venue)?;
    }
    let query = MemberQuery {
        home_venue: match (filter.venue_id, filter.roving) {
            (Some(v), _) => Some(Some(v)),
            (None, Some(true)) => Some(None),
            _ => None,
        },
        within_venues: match &coordinator.scope {
            VenueScope::All => None,
            VenueScope::Venues(ids) => Some(ids.iter().copied().collect()),
        },
        sector: filter.sector,
        active: filter.active,
        role: filter.role.map(|r| r.as_str().to_owned()),
    };
    let committee_id = coordinator.user.committee_id;
    let items = db::run(&pool, move |conn| {
        let rows = store::list(conn, committee_id, &query, page.after_id, page.limit + 1)?;
        let views = views(conn, committee_id, rows)?;
        Ok(visibility::shown_to(views, coordinator.user.member_id, &coordinator.scope))
    })
    .await?;
    Ok(web::Json(Page::from_rows(items, page, |m: &MemberView| m.id)))
}

/// One member: yourself, anyone of the committee (admins), or (coordinators) an account the
/// member list shows you — members homed at your venues and the roving pool; staff accounts
/// answer 404, members of other venues 403 `out_of_scope`.
#[utoipa::path(
    tag = "members",
    params(("id" = i64, Path)),
    responses(
        (status = 200, body = MemberView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/members/{id}")]
async fn get_member(
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<MemberView>, ApiError> {
    let id = id.into_inner();
    let view = db::run(&pool, move |conn| {
        let row = store::find(conn, user.committee_id, id)?;
        // The list's rule: a coordinator reads what `GET /members` shows them, nothing more.
        let scope = crate::auth::load_scope(conn, &user)?;
        visibility::check_readable(conn, user.member_id, user.roles.can_coordinate(), &scope, &row)?;
        let views = views(conn, user.committee_id, vec![row])?;
        Ok(visibility::shown_to(views, user.member_id, &scope).remove(0))
    })
    .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMember {
    pub name: String,
    pub phone: String,
    pub sector: Option<String>,
    /// Absent: the roving pool.
    pub home_venue_id: Option<i64>,
    #[serde(default)]
    pub standing_committee: bool,
    /// Default `["member"]`.
    pub roles: Option<Vec<Role>>,
    /// Venues a coordinator manages.
    #[serde(default)]
    pub coordinator_venue_ids: Vec<i64>,
    /// Initial password (8–128 characters); without one the account cannot sign in yet.
    pub password: Option<String>,
}

/// Register a member or staff account (admin).
#[utoipa::path(
    tag = "members",
    request_body = CreateMember,
    responses(
        (status = 201, body = MemberView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`phone_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/members")]
async fn create_member(
    clock: Clock,
    Admin(admin): Admin,
    pool: web::Data<DbPool>,
    body: web::Json<CreateMember>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut checks = FieldChecks::new();
    let name = checks.check("name", PersonName::parse(&body.name));
    let phone = checks.check("phone", Phone::parse(&body.phone));
    let sector = body.sector.as_deref().and_then(|s| checks.check("sector", Sector::parse(s)));
    let roles = checks.check("roles", Roles::new(body.roles.unwrap_or_else(|| vec![Role::Member])));
    let password = body.password.as_deref().and_then(|p| checks.check("password", Password::parse(p)));
    checks.finish()?;
    let password_hash = password.as_ref().map(password::hash).transpose().map_err(ApiError::unexpected)?;
    let new = NewMember {
        name: name.expect("checked").into_inner(),
        phone: phone.expect("checked").as_str().to_owned(),
        sector: sector.map(Sector::into_inner),
        home_venue_id: body.home_venue_id,
        standing_committee: body.standing_committee,
        active: true,
        roles: roles.expect("checked").to_storage(),
        password_hash,
        coordinator_venue_ids: body.coordinator_venue_ids,
    };
    let committee_id = admin.committee_id;
    let view = db::transaction(&pool, move |conn| {
        check_venue_refs(conn, committee_id, new.home_venue_id, &new.coordinator_venue_ids)?;
        let id = store::insert(conn, committee_id, &new, clock.now_naive())?;
        crate::audit::record(
            conn,
            committee_id,
            Some(admin.member_id),
            "member.created",
            "member",
            Some(id),
            "",
            clock.now_naive(),
        )?;
        let row = store::find(conn, committee_id, id)?;
        Ok(views(conn, committee_id, vec![row])?.remove(0))
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Venue references must name venues of the caller's committee; others' ids look unknown.
fn check_venue_refs(
    conn: &mut DbConnection,
    committee_id: i64,
    home: Option<i64>,
    coordinated: &[i64],
) -> Result<(), ApiError> {
    // A committee has a few dozen venues: a longer list is a mistake, not a query to run.
    if coordinated.len() > crate::venues::store::MAX_VENUE_REFS {
        return Err(ApiError::field(
            "coordinator_venue_ids",
            "too_many",
            format!("at most {} venues", crate::venues::store::MAX_VENUE_REFS),
        ));
    }
    let mut wanted: Vec<i64> = coordinated.to_vec();
    wanted.extend(home);
    let found = crate::venues::store::existing_ids(conn, committee_id, &wanted)?;
    let mut checks = FieldChecks::new();
    if let Some(h) = home.filter(|h| !found.contains(h)) {
        checks.push("home_venue_id", "unknown_venue", format!("no venue {h}"));
    }
    for (i, v) in coordinated.iter().enumerate() {
        if !found.contains(v) {
            checks.push(&format!("coordinator_venue_ids[{i}]"), "unknown_venue", format!("no venue {v}"));
        }
    }
    checks.finish()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMember {
    pub name: Option<String>,
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "crate::json::present")]
    #[schema(value_type = Option<String>)]
    pub sector: Option<Option<String>>,
    /// `null` moves the member to the roving pool.
    #[serde(default, deserialize_with = "crate::json::present")]
    #[schema(value_type = Option<i64>)]
    pub home_venue_id: Option<Option<i64>>,
    pub standing_committee: Option<bool>,
    pub active: Option<bool>,
    pub roles: Option<Vec<Role>>,
    pub coordinator_venue_ids: Option<Vec<i64>>,
    /// Sets a new password. A new password, `active: false` or other `roles` end every
    /// session of the account (app, console, member pages): it signs in again.
    pub password: Option<String>,
}

/// Change a member (admin). Absent fields stay as they are.
#[utoipa::path(
    tag = "members",
    params(("id" = i64, Path)),
    request_body = UpdateMember,
    responses(
        (status = 200, body = MemberView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/members/{id}")]
async fn update_member(
    clock: Clock,
    Admin(admin): Admin,
    pool: web::Data<DbPool>,
    sessions: web::Data<SessionCheck>,
    id: web::Path<i64>,
    body: web::Json<UpdateMember>,
) -> Result<web::Json<MemberView>, ApiError> {
    let body = body.into_inner();
    let mut checks = FieldChecks::new();
    let name = body.name.as_deref().and_then(|n| checks.check("name", PersonName::parse(n)));
    let phone = body.phone.as_deref().and_then(|p| checks.check("phone", Phone::parse(p)));
    let sector = body.sector.map(|s| s.and_then(|s| checks.check("sector", Sector::parse(&s))));
    let roles = body.roles.and_then(|r| checks.check("roles", Roles::new(r)));
    let password = body.password.as_deref().and_then(|p| checks.check("password", Password::parse(p)));
    checks.finish()?;
    let password_hash = password.as_ref().map(password::hash).transpose().map_err(ApiError::unexpected)?;

    let (id, committee_id) = (id.into_inner(), admin.committee_id);
    let changes = MemberChanges {
        name: name.map(PersonName::into_inner),
        phone: phone.map(|p| p.as_str().to_owned()),
        sector: sector.map(|s| s.map(Sector::into_inner)),
        home_venue_id: body.home_venue_id,
        standing_committee: body.standing_committee,
        active: body.active,
        roles,
        coordinator_venue_ids: body.coordinator_venue_ids,
        password_hash,
    };
    let (view, ended) = db::transaction(&pool, move |conn| {
        let current = store::find(conn, committee_id, id)?;
        let home = changes.home_venue_id.flatten();
        check_venue_refs(conn, committee_id, home, changes.coordinator_venue_ids.as_deref().unwrap_or_default())?;
        let now = clock.now_naive();
        let ended = workflow::update(conn, &current, changes, now)?;
        crate::audit::record(conn, committee_id, Some(admin.member_id), "member.updated", "member", Some(id), "", now)?;
        let row = store::find(conn, committee_id, id)?;
        Ok((views(conn, committee_id, vec![row])?.remove(0), ended))
    })
    .await?;
    if ended {
        // Here at once; other instances within `auth::sessions::CHECK_TTL_SECS`.
        sessions.forget_member(id);
    }
    Ok(web::Json(view))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub imported: usize,
}

/// Import members from CSV (admin): all lines or none. Errors name line and column.
#[utoipa::path(
    tag = "members",
    request_body(content = String, content_type = "text/csv",
        description = "Header `name,phone,sector,home_venue_code,standing_committee,roles,password` (only name and phone required)"),
    responses(
        (status = 201, body = ImportReport),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`import_failed`: `errors` lists line, column, field and reason", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/members/import")]
async fn import_members(
    clock: Clock,
    Admin(admin): Admin,
    req: HttpRequest,
    pool: web::Data<DbPool>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with("text/csv") {
        return Err(ApiError::new(ErrorCode::UnsupportedMediaType).with_detail("send the file as text/csv"));
    }
    if body.len() > import::MAX_IMPORT_BYTES {
        return Err(ErrorCode::PayloadTooLarge.into());
    }
    let committee_id = admin.committee_id;
    let imported = db::run(&pool, move |conn| {
        let codes: HashMap<String, i64> = crate::venues::store::ids_by_code(conn, committee_id)?.into_iter().collect();
        let lines = import::parse(&body, &codes)?;
        let n = import::store(conn, committee_id, lines, &|_| {}, clock.now_naive())?;
        crate::audit::record(
            conn,
            committee_id,
            Some(admin.member_id),
            "member.imported",
            "member",
            None,
            &format!("{n} members"),
            clock.now_naive(),
        )?;
        Ok(n)
    })
    .await?;
    Ok(HttpResponse::Created().json(ImportReport { imported }))
}
