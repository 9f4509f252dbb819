//! `GET /api/v1/stats/members` and `GET /api/v1/stats/venues`: JSON, CSV or XLSX.

use std::collections::BTreeSet;

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::export::{self, download};
use super::period::Period;
use super::store;
use super::views::{ExportFormat, MembersReport, VenuesReport};
use crate::auth::{Coordinator, VenueScope};
use crate::clock::Clock;
use crate::db::{self, DbPool};
use crate::error::{ApiError, FieldChecks, Problem};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(members_report).service(venues_report);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// `2026-11` (a month), `2026-Q4` (a quarter), `2026-H2` (a half-year) or `2026` (a year),
    /// in the committee's local dates. Required; anything else is 422 `validation_failed`
    /// with `errors[0].reason` `invalid_period` (or `required`).
    #[param(required = true, pattern = r"^[1-9][0-9]{3}(-(0[1-9]|1[0-2]|Q[1-4]|H[12]))?$", example = "2026-Q4")]
    pub period: Option<String>,
    /// Only this venue (it must be one the caller coordinates: 403 `out_of_scope` otherwise).
    pub venue_id: Option<i64>,
    /// `json` (default), `csv` or `xlsx`; the files come as attachments.
    #[param(inline)]
    pub format: Option<ExportFormat>,
}

/// What a request asks for, checked: the period, and the scope narrowed to the venue filter.
struct Asked {
    period: Period,
    scope: VenueScope,
    venue_id: Option<i64>,
    format: ExportFormat,
}

fn check(c: &Coordinator, q: StatsQuery) -> Result<Asked, ApiError> {
    let mut checks = FieldChecks::new();
    let period = match q.period.as_deref() {
        Some(raw) => checks.check("period", Period::parse(raw)),
        None => {
            checks.push("period", "required", "a month 2026-11, a quarter 2026-Q4, a half-year 2026-H2 or a year 2026");
            None
        }
    };
    checks.finish()?;
    let period = period.expect("checked");
    let scope = match q.venue_id {
        Some(v) => {
            c.scope.check(v)?;
            VenueScope::Venues(BTreeSet::from([v]))
        }
        None => c.scope.clone(),
    };
    Ok(Asked { period, scope, venue_id: q.venue_id, format: q.format.unwrap_or_default() })
}

/// 404 unless the venue is the committee's.
fn venue_exists(conn: &mut db::DbConnection, committee_id: i64, venue_id: Option<i64>) -> Result<(), ApiError> {
    if let Some(v) = venue_id {
        crate::venues::store::find(conn, committee_id, v)?;
    }
    Ok(())
}

/// Each member's duties, items and answers over a period, with the committee's ranking
/// (履职档案与排名). Coordinators see the members and figures of the venues they coordinate;
/// admins, everyone. `format=csv|xlsx` downloads the same table with Chinese headers.
#[utoipa::path(
    tag = "stats",
    params(StatsQuery),
    responses(
        (status = 200, description = "The report; `csv` and `xlsx` come as attachments \
                                      (`zhiban-members-{period}.{csv|xlsx}`)",
            content(
                (MembersReport = "application/json"),
                (String = "text/csv"),
                (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        (status = 403, description = "`forbidden` (members) or `out_of_scope` (`venue_id` not coordinated)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such `venue_id` in the committee",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `period` missing or not a period",
            body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/stats/members")]
async fn members_report(
    clock: Clock,
    c: Coordinator,
    pool: web::Data<DbPool>,
    query: web::Query<StatsQuery>,
) -> Result<HttpResponse, ApiError> {
    let asked = check(&c, query.into_inner())?;
    let committee_id = c.user.committee_id;
    let now = clock.now();
    let Asked { period, scope, venue_id, format } = asked;
    let (rows, weights) = db::run(&pool, move |conn| {
        venue_exists(conn, committee_id, venue_id)?;
        let weights = crate::committee::load_settings(conn, committee_id)?.ranking_weights;
        let rows = store::member_stats_with(conn, committee_id, &scope, &period, now.naive_utc(), &weights)?;
        Ok((rows, weights))
    })
    .await?;
    let title = export::members_title(&period);
    Ok(match format {
        ExportFormat::Json => HttpResponse::Ok().json(MembersReport::new(&period, venue_id, now, weights, rows)),
        ExportFormat::Csv => download("members", &title, &period, format, export::members_csv(&period, &rows)),
        ExportFormat::Xlsx => download("members", &title, &period, format, export::members_xlsx(&period, &rows)?),
    })
}

/// Each venue's duties, items received and answers over a period (the venues the caller
/// coordinates; admins, all). `format=csv|xlsx` downloads the same table.
#[utoipa::path(
    tag = "stats",
    params(StatsQuery),
    responses(
        (status = 200, description = "The report; `csv` and `xlsx` come as attachments \
                                      (`zhiban-venues-{period}.{csv|xlsx}`)",
            content(
                (VenuesReport = "application/json"),
                (String = "text/csv"),
                (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        (status = 403, description = "`forbidden` (members) or `out_of_scope` (`venue_id` not coordinated)",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such `venue_id` in the committee",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `period` missing or not a period",
            body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/stats/venues")]
async fn venues_report(
    clock: Clock,
    c: Coordinator,
    pool: web::Data<DbPool>,
    query: web::Query<StatsQuery>,
) -> Result<HttpResponse, ApiError> {
    let asked = check(&c, query.into_inner())?;
    let committee_id = c.user.committee_id;
    let now = clock.now();
    let Asked { period, scope, venue_id, format } = asked;
    let rows = db::run(&pool, move |conn| {
        venue_exists(conn, committee_id, venue_id)?;
        store::venue_stats(conn, committee_id, &scope, &period, now.naive_utc())
    })
    .await?;
    let title = export::venues_title(&period);
    Ok(match format {
        ExportFormat::Json => HttpResponse::Ok().json(VenuesReport::new(&period, venue_id, now, rows)),
        ExportFormat::Csv => download("venues", &title, &period, format, export::venues_csv(&period, &rows)),
        ExportFormat::Xlsx => download("venues", &title, &period, format, export::venues_xlsx(&period, &rows)?),
    })
}
