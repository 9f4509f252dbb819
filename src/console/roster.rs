//! The month's roster as a grid: township studios × reception days, and the CPPCC Home's duty
//! calendar, each member coloured by attendance; the rosters of the month with their
//! shortfalls, and the draft → publish flow.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use chrono::{Datelike, Months, NaiveDate};
use diesel::prelude::*;
use serde::Deserialize;

use super::render::{Chrome, ConsoleError, page};
use super::session::ConsoleUser;
use crate::auth::VenueScope;
use crate::checkin::attendance::{self, AttendanceStatus};
use crate::db::{self, DbConnection, DbPool};
use crate::domain::VenueKind;
use crate::error::ApiError;
use crate::html::see_other;
use crate::schema::{rosters, shifts, venues};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(month_page).service(generate).service(publish);
}

/// A calendar month, written `2026-12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month(NaiveDate);

impl Month {
    pub fn parse(raw: &str) -> Option<Self> {
        let (y, m) = raw.trim().split_once('-')?;
        let (y, m) = (y.parse::<i32>().ok()?, m.parse::<u32>().ok()?);
        ((2000..=2100).contains(&y)).then_some(())?;
        NaiveDate::from_ymd_opt(y, m, 1).map(Self)
    }

    pub fn of(date: NaiveDate) -> Self {
        Self(date.with_day(1).expect("day 1 exists"))
    }

    pub fn first(self) -> NaiveDate {
        self.0
    }

    pub fn last(self) -> NaiveDate {
        self.next().0.pred_opt().expect("not the first day of time")
    }

    pub fn next(self) -> Self {
        Self(self.0 + Months::new(1))
    }

    pub fn previous(self) -> Self {
        Self(self.0 - Months::new(1))
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.0.year(), self.0.month())
    }
}

/// One member on one duty, as a grid cell shows them.
pub struct Person {
    pub name: String,
    /// CSS class of the attendance colour.
    pub class: &'static str,
    pub label: &'static str,
}

/// The colour class and the word for an attendance status (`None`: on a draft roster).
pub fn attendance_chip(status: Option<AttendanceStatus>) -> (&'static str, &'static str) {
    match status {
        None => ("draft", "草稿"),
        Some(AttendanceStatus::Present) => ("present", "出勤"),
        Some(AttendanceStatus::Late) => ("late", "迟到"),
        Some(AttendanceStatus::Absent) => ("absent", "缺勤"),
        Some(AttendanceStatus::Excused) => ("excused", "请假/调班"),
        Some(AttendanceStatus::CheckedIn) => ("present", "已签到"),
        Some(AttendanceStatus::NotCheckedIn) => ("pending", "未签到"),
        Some(AttendanceStatus::Upcoming) => ("upcoming", "待值班"),
    }
}

fn person(name: String, status: Option<AttendanceStatus>) -> Person {
    let (class, label) = attendance_chip(status);
    Person { name, class, label }
}

pub struct StudioRow {
    pub name: String,
    /// One cell per reception day of the grid, in order.
    pub cells: Vec<Vec<Person>>,
}

pub struct DayCell {
    pub day: u32,
    pub people: Vec<Person>,
}

pub struct HomeCalendar {
    pub name: String,
    /// Monday-first weeks; `None` outside the month.
    pub weeks: Vec<Vec<Option<DayCell>>>,
}

pub struct RosterSummary {
    pub id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub status: String,
    pub status_label: &'static str,
    pub version: i32,
    pub shortfalls: Vec<ShortfallLine>,
    /// The roster's caveats in Chinese, e.g. a year counted without its holiday calendar.
    pub warnings: Vec<String>,
}

pub struct ShortfallLine {
    pub venue: String,
    pub date: NaiveDate,
    pub needed: u32,
    pub got: u32,
    pub reasons: String,
}

#[derive(Template)]
#[template(path = "console/roster.html")]
struct MonthPage {
    chrome: Chrome,
    month: String,
    previous: String,
    next: String,
    reception_days: Vec<NaiveDate>,
    studios: Vec<StudioRow>,
    homes: Vec<HomeCalendar>,
    rosters: Vec<RosterSummary>,
}

#[derive(Deserialize)]
struct MonthQuery {
    month: Option<String>,
}

fn reason_label(code: &str) -> &'static str {
    match code {
        "pool_too_small" => "可排委员不足",
        "members_on_leave" => "委员请假",
        "overlap" => "时间冲突",
        "monthly_limit" => "已达每月上限",
        crate::roster::shortfalls::MEMBER_REMOVED => "委员调出或调班",
        crate::roster::shortfalls::MEMBER_INACTIVE => "委员已停用",
        _ => "其他",
    }
}

struct ShiftCell {
    id: i64,
    roster_status: String,
    venue_id: i64,
    date: NaiveDate,
}

struct MonthData {
    venues: Vec<(i64, String, VenueKind)>,
    shifts: Vec<ShiftCell>,
    people: BTreeMap<i64, Vec<Person>>,
    rosters: Vec<RosterSummary>,
}

fn load_month(
    conn: &mut DbConnection,
    committee_id: i64,
    scope: &VenueScope,
    month: Month,
    now: chrono::NaiveDateTime,
) -> Result<MonthData, ApiError> {
    let in_scope = scope.ids();
    let mut venue_query = venues::table
        .filter(venues::committee_id.eq(committee_id))
        .filter(venues::active.eq(true))
        .order(venues::id)
        .select((venues::id, venues::name, venues::kind))
        .into_boxed();
    if let Some(ids) = &in_scope {
        venue_query = venue_query.filter(venues::id.eq_any(ids.clone()));
    }
    let venues: Vec<(i64, String, VenueKind)> = venue_query
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(id, name, kind)| (id, name, VenueKind::from_storage(&kind)))
        .collect();

    let mut shift_query = shifts::table
        .inner_join(rosters::table)
        .filter(shifts::committee_id.eq(committee_id))
        .filter(shifts::local_date.between(month.first(), month.last()))
        .filter(rosters::status.eq_any(["draft", "published"]))
        .order((shifts::local_date, shifts::start_time, shifts::id))
        .select((shifts::id, rosters::status, shifts::venue_id, shifts::local_date, shifts::roster_id))
        .into_boxed();
    if let Some(ids) = &in_scope {
        shift_query = shift_query.filter(shifts::venue_id.eq_any(ids.clone()));
    }
    let rows: Vec<(i64, String, i64, NaiveDate, i64)> = shift_query.load(conn)?;
    let roster_ids: BTreeSet<i64> = rows.iter().map(|r| r.4).collect();
    let shift_ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let assigned = crate::roster::views::assignments_of(conn, &shift_ids)?;
    let statuses: BTreeMap<i64, AttendanceStatus> =
        attendance::compute(conn, committee_id, month.first(), month.last(), now)?
            .into_iter()
            .map(|row| (row.assignment_id, row.status))
            .collect();
    let mut people = BTreeMap::new();
    for (shift_id, list) in assigned {
        let list = list.into_iter().map(|a| person(a.member_name, statuses.get(&a.id).copied())).collect();
        people.insert(shift_id, list);
    }
    let shifts = rows
        .into_iter()
        .map(|(id, roster_status, venue_id, date, _)| ShiftCell { id, roster_status, venue_id, date })
        .collect();

    let names: BTreeMap<i64, String> = venues.iter().map(|(id, name, _)| (*id, name.clone())).collect();
    let headers = roster_ids
        .into_iter()
        .map(|id| crate::roster::views::roster_header(conn, committee_id, id))
        .collect::<Result<Vec<_>, _>>()?;
    let rosters = headers
        .into_iter()
        .map(|header| {
            let shortfalls = crate::roster::shortfalls::current(conn, &header, None)?
                .into_iter()
                .filter(|s| scope.includes(s.venue_id))
                .map(|s| ShortfallLine {
                    venue: names.get(&s.venue_id).cloned().unwrap_or_else(|| format!("#{}", s.venue_id)),
                    date: s.date,
                    needed: s.needed,
                    got: s.got,
                    reasons: s
                        .reasons
                        .iter()
                        .map(|r| format!("{} {} 人", reason_label(&r.code), r.members))
                        .collect::<Vec<_>>()
                        .join("，"),
                })
                .collect();
            let status_label = header.status.label_zh();
            let warnings = crate::roster::views::RosterWarning::from_storage(&header.calendar_missing_years)
                .into_iter()
                .map(|w| w.message)
                .collect();
            Ok(RosterSummary {
                warnings,
                id: header.id,
                from: header.period_from,
                to: header.period_to,
                status: header.status.as_str().to_owned(),
                status_label,
                version: header.version,
                shortfalls,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(MonthData { venues, shifts, people, rosters })
}

fn build_page(user: &ConsoleUser, month: Month, mut data: MonthData) -> MonthPage {
    let studio_ids: BTreeSet<i64> =
        data.venues.iter().filter(|v| v.2 == VenueKind::TownshipStudio).map(|v| v.0).collect();
    let reception_days: Vec<NaiveDate> = data
        .shifts
        .iter()
        .filter(|s| studio_ids.contains(&s.venue_id))
        .map(|s| s.date)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut take = |venue_id: i64, date: NaiveDate| -> Vec<Person> {
        let mut out = Vec::new();
        for shift in data.shifts.iter().filter(|s| s.venue_id == venue_id && s.date == date) {
            let mut list = data.people.remove(&shift.id).unwrap_or_default();
            if shift.roster_status == "draft" {
                list.iter_mut().for_each(|p| (p.class, p.label) = attendance_chip(None));
            }
            out.extend(list);
        }
        out
    };
    let mut studios = Vec::new();
    let mut homes = Vec::new();
    for (id, name, kind) in &data.venues {
        match kind {
            VenueKind::TownshipStudio => {
                let cells = reception_days.iter().map(|d| take(*id, *d)).collect();
                studios.push(StudioRow { name: name.clone(), cells });
            }
            VenueKind::CppccHome => {
                let lead = month.first().weekday().num_days_from_monday() as usize;
                let mut days: Vec<Option<DayCell>> = (0..lead).map(|_| None).collect();
                let mut date = month.first();
                while date <= month.last() {
                    days.push(Some(DayCell { day: date.day(), people: take(*id, date) }));
                    date = date.succ_opt().expect("within the calendar");
                }
                while !days.len().is_multiple_of(7) {
                    days.push(None);
                }
                let mut weeks = Vec::new();
                let mut rest = days.into_iter().peekable();
                while rest.peek().is_some() {
                    weeks.push(rest.by_ref().take(7).collect());
                }
                homes.push(HomeCalendar { name: name.clone(), weeks });
            }
        }
    }
    MonthPage {
        chrome: Chrome::new(user, "roster"),
        month: month.to_string(),
        previous: month.previous().to_string(),
        next: month.next().to_string(),
        reception_days,
        studios,
        homes,
        rosters: data.rosters,
    }
}

fn requested_month(
    conn: &mut DbConnection,
    committee_id: i64,
    raw: Option<&str>,
    now: chrono::NaiveDateTime,
) -> Result<Month, ApiError> {
    match raw.filter(|s| !s.is_empty()) {
        Some(raw) => Month::parse(raw).ok_or_else(|| ApiError::field("month", "invalid", "月份格式应为 2026-12")),
        None => Ok(Month::of(super::today(conn, committee_id, now)?)),
    }
}

#[get("/console/roster")]
async fn month_page(
    user: ConsoleUser,
    pool: web::Data<DbPool>,
    query: web::Query<MonthQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let (committee_id, scope) = (user.committee_id(), user.coordinator.scope.clone());
    let (raw, now) = (query.into_inner().month, user.now);
    let (month, data) = db::run(&pool, move |conn| {
        let month = requested_month(conn, committee_id, raw.as_deref(), now)?;
        Ok((month, load_month(conn, committee_id, &scope, month, now)?))
    })
    .await?;
    page(&build_page(&user, month, data))
}

#[derive(Deserialize)]
struct GenerateForm {
    csrf: String,
    month: String,
}

/// Generates the month's draft for the coordinator's venues (all for the office).
#[post("/console/rosters/generate")]
async fn generate(
    user: ConsoleUser,
    pool: web::Data<DbPool>,
    form: web::Form<GenerateForm>,
) -> Result<HttpResponse, ConsoleError> {
    user.check_csrf(&form.csrf)?;
    let month = Month::parse(&form.month).ok_or_else(|| ApiError::field("month", "invalid", "月份格式应为 2026-12"))?;
    let (coordinator, now) = (user.coordinator.clone(), user.now);
    db::transaction(&pool, move |conn| {
        crate::roster::changes::generate_draft(conn, &coordinator, month.first(), month.last(), None, now)
    })
    .await?;
    Ok(see_other(format!("/console/roster?month={month}")))
}

#[derive(Deserialize)]
struct PublishForm {
    csrf: String,
    month: String,
}

#[post("/console/rosters/{id}/publish")]
async fn publish(
    user: ConsoleUser,
    pool: web::Data<DbPool>,
    id: web::Path<i64>,
    form: web::Form<PublishForm>,
) -> Result<HttpResponse, ConsoleError> {
    user.check_csrf(&form.csrf)?;
    let month = Month::parse(&form.month).map(|m| m.to_string()).unwrap_or_default();
    let (id, committee_id, actor, venues) =
        (id.into_inner(), user.committee_id(), user.member_id(), user.coordinator.scope.ids());
    db::transaction(&pool, move |conn| {
        crate::roster::changes::publish(conn, committee_id, id, actor, venues.as_deref(), user.now)
    })
    .await?;
    Ok(see_other(format!("/console/roster?month={month}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months() {
        let m = Month::parse("2026-12").unwrap();
        assert_eq!(m.first(), NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        assert_eq!(m.last(), NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
        assert_eq!(m.next().to_string(), "2027-01");
        assert_eq!(Month::parse("2026-02").unwrap().last().day(), 28);
        assert_eq!(m.previous().to_string(), "2026-11");
        for bad in ["2026-13", "2026", "x-1", "1999-01", ""] {
            assert!(Month::parse(bad).is_none(), "{bad}");
        }
    }
}
