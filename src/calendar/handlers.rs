use actix_web::{get, put, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::store;
use super::views::{CalendarUpload, CalendarYearDoc, year_param};
use crate::auth::{Admin, AuthUser};
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::error::{ApiError, ErrorCode, Problem};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_calendar).service(put_calendar);
}

/// The working-day calendar of a year.
#[utoipa::path(
    tag = "calendar",
    params(("year" = i32, Path, description = "e.g. 2026")),
    responses(
        (status = 200, body = CalendarYearDoc),
        (status = 404, description = "`calendar_year_not_set`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/calendar/{year}")]
async fn get_calendar(
    user: AuthUser,
    pool: web::Data<DbPool>,
    year: web::Path<i32>,
) -> Result<web::Json<CalendarYearDoc>, ApiError> {
    let year = year_param(year.into_inner())?;
    let stored = db::run(&pool, move |conn| store::load(conn, user.committee_id, year))
        .await?
        .ok_or(ErrorCode::CalendarYearNotSet)?;
    Ok(web::Json(stored.into()))
}

/// Set a year's calendar as a whole (admin), e.g. from the State Council's notice.
#[utoipa::path(
    tag = "calendar",
    params(("year" = i32, Path)),
    request_body = CalendarUpload,
    responses(
        (status = 200, body = CalendarYearDoc),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/calendar/{year}")]
async fn put_calendar(
    clock: Clock,
    Admin(admin): Admin,
    pool: web::Data<DbPool>,
    year: web::Path<i32>,
    body: web::Json<CalendarUpload>,
) -> Result<web::Json<CalendarYearDoc>, ApiError> {
    let year = year_param(year.into_inner())?;
    let body = body.into_inner();
    let (committee_id, now) = (admin.committee_id, clock.now_naive());
    let stored = db::transaction(&pool, move |conn| {
        super::workflow::set_year(conn, committee_id, admin.member_id, year, body, now)
    })
    .await?;
    Ok(web::Json(stored.into()))
}
