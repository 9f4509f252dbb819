use actix_web::{HttpResponse, get, post, web};
use chrono::{Duration, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::attendance::{self, AttendanceRow};
use super::review::{self, UnconfirmedCheckin};
use super::scan::{self, LATE_AFTER_MINUTES, ScanRequest, ScanResult};
use super::views::{CheckinRow, CheckinView, checkin};
use crate::auth::{AuthUser, Coordinator, VenueScope};
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::domain::{Assurance, CheckinMethod, RosterStatus};
use crate::error::{ApiError, ErrorCode, FieldChecks, Problem};
use crate::pagination::{Page, PageParams};
use crate::schema::{assignments, checkins, members, rosters, shifts};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(check_in)
        .service(check_in_batch)
        .service(list_checkins)
        .service(list_unconfirmed)
        .service(confirm_checkin)
        .service(refuse_checkin)
        .service(manual_check_in)
        .service(check_out)
        .service(list_attendance);
}

pub const MAX_BATCH: usize = 100;

fn check_scan(checks: &mut FieldChecks, prefix: &str, s: &ScanRequest) {
    if !(8..=64).contains(&s.nonce.len()) || !s.nonce.bytes().all(|b| b.is_ascii_graphic()) {
        checks.push(&format!("{prefix}nonce"), "invalid_format", "8–64 printable ASCII characters");
    }
    if s.payload.len() > 512 {
        checks.push(&format!("{prefix}payload"), "too_long", "at most 512 characters");
    }
    if let Some(l) = s.location
        && (!(-90.0..=90.0).contains(&l.latitude) || !(-180.0..=180.0).contains(&l.longitude))
    {
        checks.push(&format!("{prefix}location"), "out_of_range", "latitude −90..90, longitude −180..180");
    }
}

/// Check in by the scanned venue code. The answer is one of the stable outcomes
/// (`ok`, `already_checked_in`, `invalid_code`, `expired_code`, `wrong_venue`, `no_duty`,
/// `outside_window`, `outside_geofence`, `revoked`) with the duty it matched; every scan is
/// stored, and repeating a nonce returns the first answer.
#[utoipa::path(
    tag = "checkin",
    request_body = ScanRequest,
    responses(
        (status = 200, description = "Judged; see `outcome`", body = ScanResult),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/checkins")]
async fn check_in(
    clock: Clock,
    user: AuthUser,
    writes: web::Data<db::GroupCommit>,
    body: web::Json<ScanRequest>,
) -> Result<web::Json<ScanResult>, ApiError> {
    let request = body.into_inner();
    let mut checks = FieldChecks::new();
    check_scan(&mut checks, "", &request);
    checks.finish()?;
    let received = clock.now();
    let result = writes
        .write(move |conn| scan::scan(conn, user.committee_id, user.member_id, &request, false, received))
        .await?;
    Ok(web::Json(result))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanBatch {
    /// Scans queued on the phone while it had no network, oldest first (at most 100).
    pub scans: Vec<ScanRequest>,
}

/// Upload scans queued offline. Each is judged at its scan time and answered on its own
/// (`offline`, and `late_upload` past 2 minutes; older than 72 h: `upload_too_old`). The scan
/// time is the phone's word, so an offline check-in proves less than a live scan: it needs the
/// phone's location inside the venue's geofence when the venue has one (`outside_geofence`
/// otherwise), is recorded at `low` assurance and waits for a coordinator's review
/// (`review: pending`; `GET /api/v1/checkins/unconfirmed`).
#[utoipa::path(
    tag = "checkin",
    request_body = ScanBatch,
    responses((status = 200, description = "One result per scan, in order", body = Vec<ScanResult>)),
    security(("bearer" = []))
)]
#[post("/checkins/batch")]
async fn check_in_batch(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    body: web::Json<ScanBatch>,
) -> Result<web::Json<Vec<ScanResult>>, ApiError> {
    let batch = body.into_inner();
    let mut checks = FieldChecks::new();
    if batch.scans.is_empty() || batch.scans.len() > MAX_BATCH {
        checks.push("scans", "out_of_range", format!("1–{MAX_BATCH} scans per upload"));
    }
    for (i, s) in batch.scans.iter().enumerate() {
        check_scan(&mut checks, &format!("scans[{i}]."), s);
    }
    checks.finish()?;
    let results = db::run(&pool, move |conn| {
        let now = clock.now();
        // Each scan commits on its own: one bad entry never loses the others.
        batch
            .scans
            .iter()
            .map(|s| {
                db::write_transaction(conn, |conn| scan::scan(conn, user.committee_id, user.member_id, s, true, now))
            })
            .collect::<Result<Vec<_>, ApiError>>()
    })
    .await?;
    Ok(web::Json(results))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckinFilter {
    pub venue_id: Option<i64>,
    /// Local date of the shifts (default: today in the committee's time zone).
    pub date: Option<NaiveDate>,
}

/// Check-ins of a day within the coordinator's venues — the live view of who is there.
#[utoipa::path(
    tag = "checkin",
    params(CheckinFilter),
    responses((status = 200, body = Vec<CheckinView>), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/checkins")]
async fn list_checkins(
    clock: Clock,
    c: Coordinator,
    pool: web::Data<DbPool>,
    filter: web::Query<CheckinFilter>,
) -> Result<web::Json<Vec<CheckinView>>, ApiError> {
    let f = filter.into_inner();
    if let Some(v) = f.venue_id {
        c.scope.check(v)?;
    }
    let committee_id = c.user.committee_id;
    let scope = c.scope.clone();
    let views = db::run(&pool, move |conn| {
        let tz = crate::committee::timezone(conn, committee_id)?;
        let date = f.date.unwrap_or_else(|| clock.now().with_timezone(&tz).date_naive());
        let mut q = checkins::table
            .inner_join(members::table)
            .inner_join(assignments::table.inner_join(shifts::table))
            .filter(checkins::committee_id.eq(committee_id))
            .filter(shifts::local_date.eq(date))
            .into_boxed();
        if let Some(v) = f.venue_id {
            q = q.filter(checkins::venue_id.eq(v));
        }
        if let VenueScope::Venues(ids) = &scope {
            q = q.filter(checkins::venue_id.eq_any(ids.iter().copied().collect::<Vec<_>>()));
        }
        let rows: Vec<CheckinRow> = q.order(checkins::checked_in_at).select(CheckinRow::as_select()).load(conn)?;
        Ok(rows.into_iter().map(CheckinView::from).collect::<Vec<_>>())
    })
    .await?;
    Ok(web::Json(views))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualCheckin {
    pub assignment_id: i64,
    /// Why the check-in is recorded by hand (audited).
    pub reason: String,
    /// When the member arrived (default: now).
    pub checked_in_at: Option<chrono::DateTime<Utc>>,
}

/// Record a check-in by hand (coordinator of the venue), with a reason.
#[utoipa::path(
    tag = "checkin",
    request_body = ManualCheckin,
    responses(
        (status = 201, body = CheckinView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`: already checked in", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/checkins/manual")]
async fn manual_check_in(
    clock: Clock,
    c: Coordinator,
    pool: web::Data<DbPool>,
    body: web::Json<ManualCheckin>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let reason = body.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(ApiError::field("reason", "required", "a reason of at most 200 characters is needed"));
    }
    let (committee_id, actor, now) = (c.user.committee_id, c.user.member_id, clock.now_naive());
    let view = db::transaction(&pool, move |conn| {
        let (member_id, shift_id, venue_id, starts_at, status): (i64, i64, i64, chrono::NaiveDateTime, RosterStatus) =
            assignments::table
                .inner_join(shifts::table.inner_join(rosters::table))
                .filter(assignments::committee_id.eq(committee_id).and(assignments::id.eq(body.assignment_id)))
                .filter(assignments::removed_at.is_null())
                .select((assignments::member_id, shifts::id, shifts::venue_id, shifts::starts_at, rosters::status))
                .first(conn)?;
        c.scope.check(venue_id)?;
        if status != RosterStatus::Published {
            return Err(ApiError::new(ErrorCode::InvalidTransition).with_detail("the roster is not published"));
        }
        let at = body.checked_in_at.map(|t| t.naive_utc()).unwrap_or(now);
        let inserted = diesel::insert_into(checkins::table)
            .values((
                checkins::committee_id.eq(committee_id),
                checkins::assignment_id.eq(body.assignment_id),
                checkins::member_id.eq(member_id),
                checkins::venue_id.eq(venue_id),
                checkins::shift_id.eq(shift_id),
                checkins::checked_in_at.eq(at),
                checkins::received_at.eq(clock.now_naive()),
                checkins::method.eq(CheckinMethod::Manual),
                checkins::assurance.eq(Assurance::Manual),
                checkins::late.eq(at > starts_at + Duration::minutes(LATE_AFTER_MINUTES)),
                checkins::manual_reason.eq(&reason),
                checkins::recorded_by.eq(actor),
            ))
            .returning(checkins::id)
            .get_result::<i64>(conn)
            .map_err(|e| crate::error::conflict_on_unique(e, ErrorCode::InvalidTransition))?;
        crate::audit::record(
            conn,
            committee_id,
            Some(actor),
            "checkin.manual",
            "checkin",
            Some(inserted),
            &reason,
            clock.now_naive(),
        )?;
        checkin(conn, committee_id, inserted)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Check out of your own duty; the check-in then carries the duration.
#[utoipa::path(
    tag = "checkin",
    params(("id" = i64, Path, description = "Check-in id")),
    responses(
        (status = 200, body = CheckinView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_checked_out`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/checkins/{id}/checkout")]
async fn check_out(
    clock: Clock,
    user: AuthUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
) -> Result<web::Json<CheckinView>, ApiError> {
    let id = id.into_inner();
    let view = db::transaction(&pool, move |conn| {
        let current = checkin(conn, user.committee_id, id)?;
        if current.member_id != user.member_id {
            return Err(ApiError::not_found());
        }
        let updated =
            diesel::update(checkins::table.filter(checkins::id.eq(id).and(checkins::checked_out_at.is_null())))
                .set(checkins::checked_out_at.eq(clock.now_naive().max(current.checked_in_at.naive_utc())))
                .execute(conn)?;
        if updated != 1 {
            return Err(ErrorCode::AlreadyCheckedOut.into());
        }
        checkin(conn, user.committee_id, id)
    })
    .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnconfirmedFilter {
    pub venue_id: Option<i64>,
}

/// Check-ins uploaded offline that wait for a coordinator's review, in the coordinator's
/// venues, oldest first. Each says how many members' offline uploads used its display code
/// step (`shared_code` when more than one: one photo of the screen passed around).
#[utoipa::path(
    tag = "checkin",
    params(UnconfirmedFilter, PageParams),
    responses(
        (status = 200, body = Page<UnconfirmedCheckin>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/checkins/unconfirmed")]
async fn list_unconfirmed(
    c: Coordinator,
    pool: web::Data<DbPool>,
    filter: web::Query<UnconfirmedFilter>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<UnconfirmedCheckin>>, ApiError> {
    let page = page.parse()?;
    let venue_id = filter.into_inner().venue_id;
    if let Some(v) = venue_id {
        c.scope.check(v)?;
    }
    let committee_id = c.user.committee_id;
    let rows = db::run(&pool, move |conn| review::unconfirmed(conn, committee_id, &c.scope, venue_id, page)).await?;
    Ok(web::Json(Page::from_rows(rows, page, |r: &UnconfirmedCheckin| r.checkin.id)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmCheckin {
    /// How the coordinator knows the member was there (optional, audited).
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseCheckin {
    /// Why the check-in does not count (required, audited).
    pub reason: String,
}

/// A review's note (optional) or a refusal's reason (`required`): one line of at most 200
/// characters; errors name the field (`required`, `too_long`, `invalid_characters`).
fn review_text(field: &str, raw: Option<&str>, required: bool) -> Result<Option<String>, ApiError> {
    let raw = raw.unwrap_or("");
    if !required && raw.trim().is_empty() {
        return Ok(None);
    }
    let mut checks = FieldChecks::new();
    let text = checks.check(field, crate::domain::bounded_text(raw, 200));
    checks.finish()?;
    Ok(text)
}

/// Confirm an offline check-in (coordinator of the venue; not your own): it then counts as
/// attended without the unconfirmed mark. 409 `invalid_transition` when it needs no review
/// or was already decided.
#[utoipa::path(
    tag = "checkin",
    params(("id" = i64, Path, description = "Check-in id")),
    request_body = ConfirmCheckin,
    responses(
        (status = 200, body = CheckinView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/checkins/{id}/confirm")]
async fn confirm_checkin(
    clock: Clock,
    c: Coordinator,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: web::Json<ConfirmCheckin>,
) -> Result<web::Json<CheckinView>, ApiError> {
    let note = review_text("note", body.note.as_deref(), false)?;
    let id = id.into_inner();
    let view =
        db::transaction(&pool, move |conn| review::decide(conn, &c, id, true, note.as_deref(), clock.now_naive()))
            .await?;
    Ok(web::Json(view))
}

/// Refuse an offline check-in (coordinator of the venue; not your own), with a reason: it no
/// longer counts, and once the duty is over it is `absent`. 409 `invalid_transition` when it
/// needs no review or was already decided.
#[utoipa::path(
    tag = "checkin",
    params(("id" = i64, Path, description = "Check-in id")),
    request_body = RefuseCheckin,
    responses(
        (status = 200, body = CheckinView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_transition`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/checkins/{id}/refuse")]
async fn refuse_checkin(
    clock: Clock,
    c: Coordinator,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    body: web::Json<RefuseCheckin>,
) -> Result<web::Json<CheckinView>, ApiError> {
    let reason = review_text("reason", Some(&body.reason), true)?;
    let id = id.into_inner();
    let view =
        db::transaction(&pool, move |conn| review::decide(conn, &c, id, false, reason.as_deref(), clock.now_naive()))
            .await?;
    Ok(web::Json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttendanceFilter {
    pub venue_id: Option<i64>,
    pub member_id: Option<i64>,
    /// First local date (inclusive).
    pub from: NaiveDate,
    /// Last local date (inclusive), at most 366 days after `from`.
    pub to: NaiveDate,
}

/// Each assignment's attendance: `present`, `late`, `absent` or `excused` once its shift has
/// ended; `checked_in`, `not_checked_in` or `upcoming` before. `unconfirmed` marks a status
/// resting on an offline check-in no coordinator has confirmed yet; a refused one does not
/// count.
#[utoipa::path(
    tag = "checkin",
    params(AttendanceFilter),
    responses((status = 200, body = Vec<AttendanceRow>), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/attendance")]
async fn list_attendance(
    clock: Clock,
    c: Coordinator,
    pool: web::Data<DbPool>,
    filter: web::Query<AttendanceFilter>,
) -> Result<web::Json<Vec<AttendanceRow>>, ApiError> {
    let f = filter.into_inner();
    if f.to < f.from || (f.to - f.from).num_days() > 366 {
        return Err(ApiError::field("to", "out_of_range", "on or after `from`, within 366 days"));
    }
    if let Some(v) = f.venue_id {
        c.scope.check(v)?;
    }
    let committee_id = c.user.committee_id;
    let scope = c.scope.clone();
    let rows = db::run(&pool, move |conn| {
        let rows = attendance::compute(conn, committee_id, f.from, f.to, clock.now_naive())?;
        Ok(rows
            .into_iter()
            .filter(|r| scope.includes(r.venue_id))
            .filter(|r| f.venue_id.is_none_or(|v| v == r.venue_id))
            .filter(|r| f.member_id.is_none_or(|m| m == r.member_id))
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(web::Json(rows))
}
