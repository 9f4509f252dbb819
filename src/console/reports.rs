//! The period report (季度统计、半年通报、年度排名): the venues' and members' numbers for a
//! month, quarter, half-year or year, drawn as server-rendered SVG bars, with CSV and XLSX
//! exports; and one member's 履职 record.

use actix_web::{HttpResponse, get, web};
use askama::Template;
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;

use super::render::{Chrome, ConsoleError, page};
use super::roster::attendance_chip;
use super::session::ConsoleUser;
use crate::auth::VenueScope;
use crate::checkin::attendance;
use crate::db::{self, DbConnection, DbPool};
use crate::error::ApiError;
use crate::stats::{self, ExportFormat, MemberStats, Period, PeriodKind, VenueStats, export};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(report_page).service(download_report).service(member_page);
}

#[derive(Deserialize)]
struct PeriodQuery {
    period: Option<String>,
}

/// The period asked for, else the one of `default` kind that contains today.
fn requested(raw: Option<&str>, today: NaiveDate, default: PeriodKind) -> Result<Period, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => Period::parse(raw).map_err(|e| ApiError::field("period", e.reason, e.message)),
        None => Ok(Period::containing(today, default)),
    }
}

/// One horizontal stacked bar of a chart, laid out in SVG user units.
pub struct Bar {
    pub label: String,
    pub y: u32,
    pub text_y: u32,
    pub value: String,
    pub segments: Vec<Segment>,
}

pub struct Segment {
    pub x: u32,
    pub width: u32,
    pub class: &'static str,
}

pub struct Chart {
    pub height: u32,
    pub bars: Vec<Bar>,
}

const BAR_LEFT: u32 = 170;
const BAR_WIDTH: u32 = 380;
const ROW: u32 = 26;

/// One bar to draw: its label, its parts (count, CSS class) and the figure printed after it.
struct BarData {
    label: String,
    parts: Vec<(u32, &'static str)>,
    value: String,
}

/// How bars are scaled.
#[derive(Clone, Copy, PartialEq)]
enum Scale {
    /// Every bar full width, its parts as shares of its own total (rates compare).
    Shares,
    /// Bars in proportion to the largest total (amounts compare).
    Amounts,
}

/// Bars laid out at `scale`; each part a segment of its class.
fn chart(rows: Vec<BarData>, scale: Scale) -> Chart {
    let total = |r: &BarData| r.parts.iter().map(|p| p.0).sum::<u32>();
    let largest = rows.iter().map(total).max().unwrap_or(0).max(1);
    let bars = rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let max = if scale == Scale::Shares { total(&row).max(1) } else { largest };
            let BarData { label, parts, value } = row;
            let y = i as u32 * ROW + 4;
            let mut x = BAR_LEFT;
            let segments = parts
                .into_iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, class)| {
                    let width = (n * BAR_WIDTH / max).max(1);
                    let segment = Segment { x, width, class };
                    x += width;
                    segment
                })
                .collect();
            Bar { label, y, text_y: y + 14, value, segments }
        })
        .collect::<Vec<_>>();
    Chart { height: bars.len() as u32 * ROW + 8, bars }
}

fn attendance_chart(venues: &[VenueStats]) -> Chart {
    chart(
        venues
            .iter()
            .map(|v| {
                let parts = vec![
                    (v.present, "present"),
                    (v.late, "late"),
                    (v.absent, "absent"),
                    (v.excused, "excused"),
                    (v.scheduled.saturating_sub(v.present + v.late + v.absent + v.excused), "upcoming"),
                ];
                BarData { label: v.name.clone(), parts, value: format!("{}/{}", v.present + v.late, v.scheduled) }
            })
            .collect(),
        Scale::Shares,
    )
}

fn items_chart(venues: &[VenueStats]) -> Chart {
    chart(
        venues
            .iter()
            .map(|v| {
                let overdue = v.overdue.min(v.items_received);
                let parts = vec![(v.items_received - overdue, "items"), (overdue, "absent")];
                BarData { label: v.name.clone(), parts, value: v.items_received.to_string() }
            })
            .collect(),
        Scale::Amounts,
    )
}

pub struct PeriodLink {
    pub period: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "console/report.html")]
struct ReportPage {
    chrome: Chrome,
    period: String,
    label: String,
    from: NaiveDate,
    to: NaiveDate,
    shortcuts: Vec<PeriodLink>,
    venues: Vec<VenueStats>,
    members: Vec<MemberStats>,
    attendance: Chart,
    items: Chart,
}

fn shortcuts(today: NaiveDate) -> Vec<PeriodLink> {
    let this_quarter = Period::containing(today, PeriodKind::Quarter);
    let previous_quarter =
        Period::containing(this_quarter.first_day().pred_opt().unwrap_or(today), PeriodKind::Quarter);
    let previous_year = Period::containing(
        Period::containing(today, PeriodKind::Year).first_day().pred_opt().unwrap_or(today),
        PeriodKind::Year,
    );
    [
        Period::containing(today, PeriodKind::Month),
        this_quarter,
        previous_quarter,
        Period::containing(today, PeriodKind::Half),
        Period::containing(today, PeriodKind::Year),
        previous_year,
    ]
    .into_iter()
    .map(|p| PeriodLink { period: p.to_string(), label: p.label_zh() })
    .collect()
}

#[get("/console/reports")]
async fn report_page(
    user: ConsoleUser,
    pool: web::Data<DbPool>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let (committee_id, scope) = (user.committee_id(), user.coordinator.scope.clone());
    let (raw, now) = (query.into_inner().period, user.now);
    let (period, today, venues, members) = db::run(&pool, move |conn| {
        let today = super::today(conn, committee_id, now)?;
        let period = requested(raw.as_deref(), today, PeriodKind::Quarter)?;
        let venues = stats::venue_stats(conn, committee_id, &scope, &period, now)?;
        let members = stats::member_stats(conn, committee_id, &scope, &period, now)?;
        Ok((period, today, venues, members))
    })
    .await?;
    page(&ReportPage {
        chrome: Chrome::new(&user, "reports"),
        period: period.to_string(),
        label: period.label_zh(),
        from: period.first_day(),
        to: period.last_day(),
        shortcuts: shortcuts(today),
        attendance: attendance_chart(&venues),
        items: items_chart(&venues),
        venues,
        members,
    })
}

/// `members.xlsx`, `members.csv`, `venues.xlsx` or `venues.csv` for `?period=`: the same
/// files as the API's `format=csv|xlsx`, for the caller's venues.
#[get("/console/reports/{file}")]
async fn download_report(
    user: ConsoleUser,
    pool: web::Data<DbPool>,
    file: web::Path<String>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let members = match file.split_once('.').map(|(table, _)| table) {
        Some("members") => true,
        Some("venues") => false,
        _ => return Err(ApiError::not_found().into()),
    };
    let format = match file.rsplit_once('.').map(|(_, ext)| ext) {
        Some("csv") => ExportFormat::Csv,
        Some("xlsx") => ExportFormat::Xlsx,
        _ => return Err(ApiError::not_found().into()),
    };
    let (committee_id, scope) = (user.committee_id(), user.coordinator.scope.clone());
    let (raw, now) = (query.into_inner().period, user.now);
    let (period, body) = db::run(&pool, move |conn| {
        let today = super::today(conn, committee_id, now)?;
        let period = requested(raw.as_deref(), today, PeriodKind::Quarter)?;
        let xlsx = format == ExportFormat::Xlsx;
        let body = if members {
            let rows = stats::member_stats(conn, committee_id, &scope, &period, now)?;
            if xlsx { export::members_xlsx(&period, &rows)? } else { export::members_csv(&period, &rows) }
        } else {
            let rows = stats::venue_stats(conn, committee_id, &scope, &period, now)?;
            if xlsx { export::venues_xlsx(&period, &rows)? } else { export::venues_csv(&period, &rows) }
        };
        Ok((period, body))
    })
    .await?;
    Ok(if members {
        stats::download("members", &export::members_title(&period), &period, format, body)
    } else {
        stats::download("venues", &export::venues_title(&period), &period, format, body)
    })
}

pub struct DutyLine {
    pub date: NaiveDate,
    pub venue: String,
    pub class: &'static str,
    pub label: &'static str,
}

pub struct ItemLine {
    pub id: i64,
    pub tracking_code: String,
    pub topic: String,
    pub state: &'static str,
    pub in_scope: bool,
}

#[derive(Template)]
#[template(path = "console/member.html")]
struct MemberPage {
    chrome: Chrome,
    member_id: i64,
    name: String,
    home_venue: Option<String>,
    period: String,
    label: String,
    shortcuts: Vec<PeriodLink>,
    stats: Option<MemberStats>,
    duties: Vec<DutyLine>,
    items: Vec<ItemLine>,
}

type MemberRecord = (String, Option<String>, Vec<DutyLine>, Vec<ItemLine>, Option<MemberStats>);

fn member_record(
    conn: &mut DbConnection,
    committee_id: i64,
    scope: &VenueScope,
    member_id: i64,
    period: &Period,
    now: chrono::NaiveDateTime,
) -> Result<MemberRecord, ApiError> {
    use crate::schema::{items, members, venues};
    let (name, home): (String, Option<i64>) = members::table
        .filter(members::committee_id.eq(committee_id).and(members::id.eq(member_id)))
        .select((members::name, members::home_venue_id))
        .first(conn)?;
    // A coordinator reads the records of their studios' members; the office reads everyone's.
    match (scope, home) {
        (VenueScope::All, _) => {}
        (_, Some(home)) => scope.check(home)?,
        (_, None) => return Err(crate::error::ErrorCode::OutOfScope.into()),
    }
    let names: std::collections::BTreeMap<i64, String> = venues::table
        .filter(venues::committee_id.eq(committee_id))
        .select((venues::id, venues::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let duties = attendance::compute(conn, committee_id, period.first_day(), period.last_day(), now)?
        .into_iter()
        .filter(|row| row.member_id == member_id && scope.includes(row.venue_id))
        .map(|row| {
            let (class, label) = attendance_chip(Some(row.status));
            DutyLine { date: row.date, venue: names.get(&row.venue_id).cloned().unwrap_or_default(), class, label }
        })
        .collect();
    let tz = crate::committee::timezone(conn, committee_id)?;
    let start = crate::committee::local_to_utc(tz, period.first_day(), chrono::NaiveTime::MIN);
    let end = crate::committee::local_to_utc(
        tz,
        period.last_day().succ_opt().unwrap_or(period.last_day()),
        chrono::NaiveTime::MIN,
    );
    let items: Vec<(i64, String, String, String, i64)> = items::table
        .filter(items::committee_id.eq(committee_id))
        .filter(items::recorded_by.eq(member_id))
        .filter(items::created_at.ge(start).and(items::created_at.lt(end)))
        .order(items::id)
        .select((items::id, items::tracking_code, items::topic, items::state, items::venue_id))
        .load(conn)?;
    let items = items
        .into_iter()
        .map(|(id, tracking_code, topic, state, venue_id)| ItemLine {
            id,
            tracking_code: crate::items::views::display_code(&tracking_code),
            topic,
            state: crate::domain::ItemState::parse(&state).map_or("", |s| s.label_zh()),
            in_scope: scope.includes(venue_id),
        })
        .collect();
    let stats =
        stats::member_stats(conn, committee_id, scope, period, now)?.into_iter().find(|m| m.member_id == member_id);
    Ok((name, home.and_then(|h| names.get(&h).cloned()), duties, items, stats))
}

#[get("/console/members/{id}")]
async fn member_page(
    user: ConsoleUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let (member_id, committee_id, scope) = (id.into_inner(), user.committee_id(), user.coordinator.scope.clone());
    let (raw, now) = (query.into_inner().period, user.now);
    let (period, today, (name, home_venue, duties, items, stats)) = db::run(&pool, move |conn| {
        let today = super::today(conn, committee_id, now)?;
        let period = requested(raw.as_deref(), today, PeriodKind::Year)?;
        Ok((period, today, member_record(conn, committee_id, &scope, member_id, &period, now)?))
    })
    .await?;
    page(&MemberPage {
        chrome: Chrome::new(&user, "reports"),
        member_id,
        name,
        home_venue,
        period: period.to_string(),
        label: period.label_zh(),
        shortcuts: shortcuts(today),
        stats,
        duties,
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, parts: &[(u32, &'static str)]) -> BarData {
        BarData { label: label.to_owned(), parts: parts.to_vec(), value: String::new() }
    }

    fn widths(chart: &Chart) -> Vec<Vec<u32>> {
        chart.bars.iter().map(|b| b.segments.iter().map(|s| s.width).collect()).collect()
    }

    #[test]
    fn shares_fill_each_bar_and_amounts_scale_to_the_largest() {
        let rows = || vec![bar("甲", &[(3, "present"), (1, "absent")]), bar("乙", &[(30, "present"), (10, "absent")])];
        // Rates: both studios attended three in four, so both bars look the same.
        assert_eq!(widths(&chart(rows(), Scale::Shares)), vec![vec![285, 95], vec![285, 95]]);
        // Amounts: the larger venue's bar is full width, the smaller a tenth of it.
        assert_eq!(widths(&chart(rows(), Scale::Amounts)), vec![vec![28, 9], vec![285, 95]]);
        // Segments follow each other; empty parts draw nothing; an empty chart is empty.
        let one = chart(vec![bar("丙", &[(1, "present"), (0, "late"), (1, "absent")])], Scale::Shares);
        let xs: Vec<u32> = one.bars[0].segments.iter().map(|s| s.x).collect();
        assert_eq!(xs, vec![BAR_LEFT, BAR_LEFT + BAR_WIDTH / 2]);
        assert!(chart(Vec::new(), Scale::Amounts).bars.is_empty());
    }
}
