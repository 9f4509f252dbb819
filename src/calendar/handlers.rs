use actix_web::{get, put, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{YearArrangement, queries};
use crate::auth::{Admin, AuthUser};
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::error::{ApiError, ErrorCode, FieldError, Problem};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_calendar).service(put_calendar);
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    pub date: NaiveDate,
    /// e.g. 春节, 中秋节.
    pub name: String,
}

/// The shape of the State Council's arrangement as the project ships it
/// (`holidays-cn-2026.json`), so an admin can upload next year's file as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarUpload {
    /// Optional; when present it must equal the year in the path.
    pub year: Option<i32>,
    /// Where the arrangement comes from, e.g. the notice's title.
    pub source: Option<String>,
    /// Free text, ignored.
    pub note: Option<String>,
    pub holidays: Vec<Holiday>,
    /// Weekend dates that are working days (调休上班).
    pub adjusted_working_days: Vec<NaiveDate>,
}

impl CalendarUpload {
    pub fn into_arrangement(self, year: i32) -> Result<YearArrangement, ApiError> {
        let mut errors = Vec::new();
        if self.year.is_some_and(|y| y != year) {
            errors.push(FieldError::new("year", "mismatch", format!("the body says {:?}, the path {year}", self.year)));
        }
        let holidays = self.holidays.into_iter().map(|h| (h.date, h.name)).collect();
        match YearArrangement::new(year, holidays, self.adjusted_working_days) {
            Ok(a) if errors.is_empty() => Ok(a),
            Ok(_) => Err(ApiError::validation(errors)),
            Err(found) => {
                errors.extend(found.into_iter().map(|(f, e)| FieldError::new(f, e.reason, e.message)));
                Err(ApiError::validation(errors))
            }
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarYearDoc {
    pub year: i32,
    pub source: Option<String>,
    pub holidays: Vec<Holiday>,
    pub adjusted_working_days: Vec<NaiveDate>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<queries::StoredYear> for CalendarYearDoc {
    fn from(stored: queries::StoredYear) -> Self {
        Self {
            year: stored.arrangement.year,
            source: stored.source,
            holidays: stored.arrangement.holidays.into_iter().map(|(date, name)| Holiday { date, name }).collect(),
            adjusted_working_days: stored.arrangement.adjusted_working_days,
            updated_at: stored.updated_at.and_utc(),
        }
    }
}

pub(super) fn year_param(raw: i32) -> Result<i32, ApiError> {
    if (2000..=2100).contains(&raw) {
        Ok(raw)
    } else {
        Err(ApiError::field("year", "out_of_range", "must be 2000–2100"))
    }
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
    let stored = db::run(&pool, move |conn| queries::load(conn, user.committee_id, year))
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
