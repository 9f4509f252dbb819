//! What the venue shows: the rotating check-in code for a display device (a tablet at the
//! studio), the self-refreshing `/display/{venue_code}` page, and the printed poster code.

use actix_web::{FromRequest, HttpRequest, HttpResponse, delete, get, post, web};
use askama::Template;
use chrono::NaiveDateTime;
use chrono::Utc;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::code::{STEP_SECONDS, display_code, poster_code, scan_url, step_of};
use crate::auth::tokens::{random_token, sha256_hex};
use crate::auth::{Admin, Coordinator};
use crate::clock::Clock;
use crate::db::{self, DbConnection, DbPool};
use crate::error::{ApiError, ErrorCode, Problem};
use crate::schema::{assignments, checkins, display_devices, members, rosters, shifts, venues};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_device)
        .service(revoke_device)
        .service(rotate_secret)
        .service(display_code_endpoint)
        .service(checkin_poster);
}

pub fn public_routes(cfg: &mut ServiceConfig) {
    cfg.service(display_page);
}

/// The venue's signing secret and its version, creating the secret on first use.
pub fn venue_secret(conn: &mut DbConnection, venue_id: i64) -> Result<(String, String, i32), ApiError> {
    let (code, secret, version): (String, Option<String>, i32) = venues::table
        .find(venue_id)
        .select((venues::code, venues::checkin_secret, venues::checkin_secret_version))
        .first(conn)?;
    if let Some(secret) = secret {
        return Ok((code, secret, version));
    }
    let fresh = random_token();
    // Only the first writer sets it; a concurrent first use reads the winner's.
    diesel::update(venues::table.filter(venues::id.eq(venue_id).and(venues::checkin_secret.is_null())))
        .set(venues::checkin_secret.eq(&fresh))
        .execute(conn)?;
    let secret: Option<String> = venues::table.find(venue_id).select(venues::checkin_secret).first(conn)?;
    Ok((code, secret.unwrap_or(fresh), version))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDevice {
    /// e.g. 大厅平板.
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceToken {
    pub id: i64,
    pub venue_id: i64,
    pub name: String,
    /// Shown once. The tablet opens `display_url`, which carries it.
    pub token: String,
    pub display_url: String,
}

/// Issue a display device token for a venue (admin).
#[utoipa::path(
    tag = "checkin",
    params(("id" = i64, Path, description = "Venue id")),
    request_body = CreateDevice,
    responses((status = 201, body = DeviceToken), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/venues/{id}/display-devices")]
async fn create_device(
    clock: Clock,
    Admin(admin): Admin,
    req: HttpRequest,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: web::Json<CreateDevice>,
) -> Result<HttpResponse, ApiError> {
    let venue_id = id.into_inner();
    let name = crate::domain::VenueName::parse(&body.name)
        .map_err(|e| ApiError::field("name", e.reason, e.message))?
        .into_inner();
    let committee_id = admin.committee_id;
    let now = clock.now_naive();
    let (device_id, token, code, name) = db::transaction(&pool, move |conn| {
        let venue = crate::venues::store::find(conn, committee_id, venue_id)?;
        let (id, token) = register_device(conn, committee_id, venue_id, &name, admin.member_id, now)?;
        Ok((id, token, venue.code, name))
    })
    .await?;
    let display_url = format!("{}/display/{code}?device={token}", crate::public_url::BaseUrl::of(&req));
    Ok(HttpResponse::Created().json(DeviceToken { id: device_id, venue_id, name, token, display_url }))
}

/// Registers a display device of `venue_id` (a venue of the committee); its id and the token
/// for its URL, which is stored only as a hash. Audited as `actor`'s.
pub fn register_device(
    conn: &mut DbConnection,
    committee_id: i64,
    venue_id: i64,
    name: &str,
    actor: i64,
    now: NaiveDateTime,
) -> Result<(i64, String), ApiError> {
    let token = random_token();
    let id: i64 = diesel::insert_into(display_devices::table)
        .values((
            display_devices::committee_id.eq(committee_id),
            display_devices::venue_id.eq(venue_id),
            display_devices::name.eq(name),
            display_devices::token_hash.eq(sha256_hex(&token)),
            display_devices::created_at.eq(now),
        ))
        .returning(display_devices::id)
        .get_result(conn)?;
    crate::audit::record(
        conn,
        committee_id,
        Some(actor),
        "display_device.created",
        "venue",
        Some(venue_id),
        name,
        now,
    )?;
    Ok((id, token))
}

/// Revoke a display device token (admin).
#[utoipa::path(tag = "checkin", params(("id" = i64, Path, description = "Device id")), responses((status = 204, description = "Revoked")), security(("bearer" = [])))]
#[delete("/display-devices/{id}")]
async fn revoke_device(
    clock: Clock,
    Admin(admin): Admin,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    db::run(&pool, move |conn| {
        let updated = diesel::update(
            display_devices::table
                .filter(display_devices::committee_id.eq(admin.committee_id).and(display_devices::id.eq(id))),
        )
        .set(display_devices::revoked_at.eq(clock.now_naive()))
        .execute(conn)?;
        if updated == 0 { Err(ApiError::not_found()) } else { Ok(()) }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecretRotated {
    /// Codes of older versions now answer `revoked`.
    pub version: i32,
}

/// Replace the venue's signing secret (admin): every code shown or printed before stops working.
#[utoipa::path(tag = "checkin", params(("id" = i64, Path, description = "Venue id")), responses((status = 200, body = SecretRotated)), security(("bearer" = [])))]
#[post("/venues/{id}/rotate-secret")]
async fn rotate_secret(
    clock: Clock,
    Admin(admin): Admin,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<SecretRotated>, ApiError> {
    let venue_id = id.into_inner();
    let version = db::transaction(&pool, move |conn| {
        crate::venues::store::find(conn, admin.committee_id, venue_id)?;
        let version: i32 = diesel::update(venues::table.find(venue_id))
            .set((
                venues::checkin_secret.eq(random_token()),
                venues::checkin_secret_version.eq(venues::checkin_secret_version + 1),
            ))
            .returning(venues::checkin_secret_version)
            .get_result(conn)?;
        crate::audit::record(
            conn,
            admin.committee_id,
            Some(admin.member_id),
            "venue.secret_rotated",
            "venue",
            Some(venue_id),
            "",
            clock.now_naive(),
        )?;
        Ok(version)
    })
    .await?;
    Ok(web::Json(SecretRotated { version }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CodeQuery {
    /// `json` (default), `svg` or `png`.
    pub format: Option<String>,
    /// A display device token (instead of a coordinator's bearer token).
    pub device: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DisplayCode {
    /// The signed code; `POST /api/v1/checkins` takes it as it is or as `url`.
    pub payload: String,
    /// What the QR code holds: `{public_url}/m/c/{payload}`, which a phone's camera or WeChat
    /// opens on the member pages.
    pub url: String,
    pub expires_at: chrono::DateTime<Utc>,
    /// Fetch a new code after this many seconds.
    pub refresh_in_seconds: i64,
    /// The QR code (of `url`) as an SVG document.
    pub svg: String,
}

/// The device token's venue, if the token is live.
fn device_venue(conn: &mut DbConnection, token: &str) -> Result<Option<(i64, i64)>, ApiError> {
    Ok(display_devices::table
        .filter(display_devices::token_hash.eq(sha256_hex(token)).and(display_devices::revoked_at.is_null()))
        .select((display_devices::committee_id, display_devices::venue_id))
        .first(conn)
        .optional()?)
}

struct CurrentCode {
    payload: String,
    expires_at: chrono::DateTime<Utc>,
    refresh_in: i64,
}

fn current_code(conn: &mut DbConnection, venue_id: i64, now: NaiveDateTime) -> Result<CurrentCode, ApiError> {
    let (code, secret, version) = venue_secret(conn, venue_id)?;
    let now = now.and_utc().timestamp();
    let step = step_of(now);
    // A code stays acceptable for the next step too; refresh at the step change so the
    // screen always shows the newest.
    let next_step_at = (step + 1) * STEP_SECONDS;
    Ok(CurrentCode {
        payload: display_code(secret.as_bytes(), &code, version, step),
        expires_at: chrono::DateTime::from_timestamp(next_step_at + STEP_SECONDS, 0).unwrap_or_default(),
        refresh_in: (next_step_at - now).max(1),
    })
}

/// The venue's current rotating code (for its display device, or a coordinator of the venue).
#[utoipa::path(
    tag = "checkin",
    params(("id" = i64, Path, description = "Venue id"), CodeQuery),
    responses(
        (status = 200, body = DisplayCode),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ())
)]
#[get("/venues/{id}/display-code")]
async fn display_code_endpoint(
    clock: Clock,
    req: HttpRequest,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    query: web::Query<CodeQuery>,
) -> Result<HttpResponse, ApiError> {
    let venue_id = id.into_inner();
    let query = query.into_inner();
    // A coordinator's JWT, or the device token of this very venue.
    let coordinator = match &query.device {
        Some(_) => None,
        None => Some(Coordinator::extract(&req).await?),
    };
    let code = db::run(&pool, move |conn| {
        match (&coordinator, &query.device) {
            (Some(c), _) => {
                crate::venues::store::find(conn, c.user.committee_id, venue_id)?;
                c.scope.check(venue_id)?;
            }
            (None, Some(token)) => match device_venue(conn, token)? {
                Some((_, v)) if v == venue_id => {}
                _ => return Err(ErrorCode::Unauthenticated.into()),
            },
            (None, None) => return Err(ErrorCode::Unauthenticated.into()),
        }
        current_code(conn, venue_id, clock.now_naive())
    })
    .await?;
    render_code(query.format.as_deref(), code, crate::public_url::BaseUrl::of(&req).as_str())
}

fn render_code(format: Option<&str>, code: CurrentCode, base: &str) -> Result<HttpResponse, ApiError> {
    let no_store = ("Cache-Control", "no-store");
    let url = scan_url(base, &code.payload);
    match format.unwrap_or("json") {
        "svg" => Ok(HttpResponse::Ok()
            .content_type("image/svg+xml")
            .insert_header(no_store)
            .body(crate::qr::svg(&url, 320)?)),
        "png" => {
            Ok(HttpResponse::Ok().content_type("image/png").insert_header(no_store).body(crate::qr::png(&url, 320)?))
        }
        "json" => Ok(HttpResponse::Ok().insert_header(no_store).json(DisplayCode {
            svg: crate::qr::svg(&url, 320)?,
            url,
            payload: code.payload,
            expires_at: code.expires_at,
            refresh_in_seconds: code.refresh_in,
        })),
        _ => Err(ApiError::field("format", "invalid", "json, svg or png")),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PosterQuery {
    /// `svg` (default), `png` or `html` (a printable page).
    pub format: Option<String>,
}

/// The long-lived printed check-in code for a venue without a screen (admin). Scans of it
/// count only with the phone's location inside the venue's radius.
#[utoipa::path(
    tag = "checkin",
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
#[get("/venues/{id}/checkin-poster")]
async fn checkin_poster(
    Admin(admin): Admin,
    req: HttpRequest,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    query: web::Query<PosterQuery>,
) -> Result<HttpResponse, ApiError> {
    let venue_id = id.into_inner();
    let (payload, name) = db::run(&pool, move |conn| {
        let venue = crate::venues::store::find(conn, admin.committee_id, venue_id)?;
        let (code, secret, version) = venue_secret(conn, venue_id)?;
        Ok((poster_code(secret.as_bytes(), &code, version), venue.name))
    })
    .await?;
    // The poster holds the member pages' address too, so any camera opens the check-in.
    let payload = scan_url(crate::public_url::BaseUrl::of(&req).as_str(), &payload);
    match query.format.as_deref().unwrap_or("svg") {
        "svg" => Ok(HttpResponse::Ok()
            .content_type("image/svg+xml")
            .insert_header(("Cache-Control", "no-store"))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(crate::qr::svg(&payload, 600)?)),
        "png" => Ok(HttpResponse::Ok()
            .content_type("image/png")
            .insert_header(("Cache-Control", "no-store"))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(crate::qr::png(&payload, 600)?)),
        "html" => {
            let page = PosterPage { venue: name, qr_svg: crate::qr::svg(&payload, 600)? };
            // The poster is a long-lived credential: never cached, sniffed or scripted.
            const POSTER_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
                                      base-uri 'none'; frame-ancestors 'none'";
            Ok(crate::html::page(actix_web::http::StatusCode::OK, POSTER_CSP)
                .insert_header(("Referrer-Policy", "no-referrer"))
                .body(page.render().map_err(ApiError::unexpected)?))
        }
        _ => Err(ApiError::field("format", "invalid", "svg, png or html")),
    }
}

/// The printable check-in poster (`format=html`).
#[derive(Template)]
#[template(path = "checkin/poster.html")]
struct PosterPage {
    venue: String,
    /// Generated by us from the venue's signed code: markup, not text.
    qr_svg: String,
}

pub struct OnDuty {
    pub name: String,
    pub checked_in: bool,
}

/// The venue's tablet page; askama escapes the names.
#[derive(Template)]
#[template(path = "checkin/display.html")]
struct DisplayPage {
    venue: String,
    /// What the QR code holds (the member pages' scan address), for tests and tooling.
    payload: String,
    /// Seconds until the code turns: the page reloads itself then.
    refresh: i64,
    qr_svg: String,
    people: Vec<OnDuty>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DisplayQuery {
    /// The display device token.
    pub device: String,
}

/// The page a venue's tablet shows full-screen: the rotating QR, the venue, who is on duty
/// now and who has checked in. It reloads itself when the code changes; no script needed.
#[utoipa::path(
    tag = "checkin",
    params(("venue_code" = String, Path), DisplayQuery),
    responses((status = 200, content_type = "text/html", body = String), (status = 401, body = Problem, content_type = "application/problem+json"))
)]
#[get("/display/{venue_code}")]
async fn display_page(
    clock: Clock,
    req: HttpRequest,
    pool: web::Data<DbPool>,
    code: web::Path<String>,
    query: web::Query<DisplayQuery>,
) -> Result<HttpResponse, ApiError> {
    let venue_code = code.into_inner();
    let token = query.into_inner().device;
    let base = crate::public_url::BaseUrl::of(&req);
    let page = db::run(&pool, move |conn| {
        let Some((committee_id, venue_id)) = device_venue(conn, &token)? else {
            return Err(ErrorCode::Unauthenticated.into());
        };
        let venue = crate::venues::store::find(conn, committee_id, venue_id)?;
        if venue.code != venue_code {
            return Err(ErrorCode::Unauthenticated.into());
        }
        let code = current_code(conn, venue_id, clock.now_naive())?;
        let now = clock.now_naive();
        // A check-in a coordinator refused no longer shows as there.
        let on_duty: Vec<(String, Option<i64>, Option<crate::domain::CheckinReview>)> = assignments::table
            .inner_join(shifts::table.inner_join(rosters::table))
            .inner_join(members::table)
            .left_join(checkins::table)
            .filter(shifts::venue_id.eq(venue_id))
            .filter(crate::roster::duties::live())
            .filter(crate::roster::duties::window_holds(now))
            .order(assignments::id)
            .select((members::name, checkins::id.nullable(), checkins::review.nullable()))
            .load(conn)?;
        let url = scan_url(base.as_str(), &code.payload);
        let page = DisplayPage {
            venue: venue.name.clone(),
            qr_svg: crate::qr::svg(&url, 480)?,
            payload: url,
            refresh: code.refresh_in,
            people: on_duty
                .into_iter()
                .map(|(name, checked, review)| OnDuty {
                    name,
                    checked_in: checked.is_some() && crate::domain::CheckinReview::counts(review),
                })
                .collect(),
        };
        page.render().map_err(ApiError::unexpected)
    })
    .await?;
    // No script, nothing from elsewhere; the page's own styles only.
    const CSP: &str =
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";
    // The device token sits in the display's URL: no page it links to may learn it.
    Ok(crate::html::page(actix_web::http::StatusCode::OK, CSP)
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(page))
}
