//! 节假日 (the office only): the working-day calendar of each year. The office enters a
//! year once the State Council publishes it — typed as lines, or as the same JSON that
//! `PUT /api/v1/calendar/{year}` takes — through the same function as the API.

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;

use super::render::{Chrome, ConsoleError, page};
use super::session::ConsoleUser;
use crate::calendar::{CalendarUpload, Holiday};
use crate::db::{self, DbPool};
use crate::error::{ApiError, FieldError};
use crate::html::see_other;
use crate::schema::calendar_years;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(calendar_page).service(set_calendar);
}

pub struct YearLine {
    pub year: i32,
    pub source: String,
    pub updated_at: String,
}

#[derive(Template)]
#[template(path = "console/calendar.html")]
struct CalendarPage {
    chrome: Chrome,
    years: Vec<YearLine>,
    /// The year the form proposes: the first one wanted, else next year.
    year: i32,
    holidays: String,
    adjusted: String,
    document: String,
    errors: Vec<String>,
    saved: Option<i32>,
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<i32>,
}

fn office(user: &ConsoleUser) -> Result<(), ConsoleError> {
    if user.is_admin() { Ok(()) } else { Err(ApiError::forbidden().into()) }
}

async fn years_of(pool: &web::Data<DbPool>, committee_id: i64) -> Result<Vec<YearLine>, ConsoleError> {
    let rows: Vec<(i32, Option<String>, chrono::NaiveDateTime)> = db::run(pool, move |conn| {
        Ok(calendar_years::table
            .filter(calendar_years::committee_id.eq(committee_id))
            .order(calendar_years::year.desc())
            .select((calendar_years::year, calendar_years::source, calendar_years::updated_at))
            .load(conn)?)
    })
    .await?;
    Ok(rows
        .into_iter()
        .map(|(year, source, at)| YearLine {
            year,
            source: source.unwrap_or_default(),
            updated_at: at.format("%Y-%m-%d").to_string(),
        })
        .collect())
}

#[get("/console/calendar")]
async fn calendar_page(
    user: ConsoleUser,
    pool: web::Data<DbPool>,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse, ConsoleError> {
    office(&user)?;
    let years = years_of(&pool, user.committee_id()).await?;
    let year = user.calendar_missing.first().copied().unwrap_or_else(|| {
        use chrono::Datelike;
        user.now.date().year() + 1
    });
    page(&CalendarPage {
        chrome: Chrome::new(&user, "calendar"),
        years,
        year,
        holidays: String::new(),
        adjusted: String::new(),
        document: String::new(),
        errors: Vec::new(),
        saved: query.saved,
    })
}

#[derive(Deserialize)]
struct CalendarForm {
    csrf: String,
    year: String,
    #[serde(default)]
    holidays: String,
    #[serde(default)]
    adjusted: String,
    /// The JSON document, pasted; when given it wins over the two lists.
    #[serde(default)]
    document: String,
}

/// `2027-01-01 元旦` per line (a date, then the holiday's name).
fn holiday_lines(text: &str, errors: &mut Vec<String>) -> Vec<Holiday> {
    let mut out = Vec::new();
    for (n, line) in text.lines().map(str::trim).enumerate().filter(|(_, l)| !l.is_empty()) {
        let (date, name) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        match NaiveDate::parse_from_str(date, "%Y-%m-%d") {
            Ok(date) if !name.trim().is_empty() => out.push(Holiday { date, name: name.trim().to_owned() }),
            Ok(_) => errors.push(format!("节假日第 {} 行：日期后请写节日名称，如“2027-01-01 元旦”", n + 1)),
            Err(_) => errors.push(format!("节假日第 {} 行：日期应写成 2027-01-01", n + 1)),
        }
    }
    out
}

fn date_lines(text: &str, errors: &mut Vec<String>) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    for (n, line) in text.lines().map(str::trim).enumerate().filter(|(_, l)| !l.is_empty()) {
        match NaiveDate::parse_from_str(line, "%Y-%m-%d") {
            Ok(date) => out.push(date),
            Err(_) => errors.push(format!("调休上班第 {} 行：日期应写成 2027-02-07", n + 1)),
        }
    }
    out
}

fn field_message(e: &FieldError) -> String {
    format!("{}：{}", e.field, e.message)
}

#[post("/console/calendar")]
async fn set_calendar(
    user: ConsoleUser,
    pool: web::Data<DbPool>,
    form: web::Form<CalendarForm>,
) -> Result<HttpResponse, ConsoleError> {
    office(&user)?;
    user.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let mut errors = Vec::new();
    let year: Option<i32> = form.year.trim().parse().ok();
    if year.is_none() {
        errors.push("年份应为四位数字，如 2027".to_owned());
    }
    let upload = if form.document.trim().is_empty() {
        let holidays = holiday_lines(&form.holidays, &mut errors);
        let adjusted = date_lines(&form.adjusted, &mut errors);
        CalendarUpload {
            year,
            source: Some("政协办公室在控制台录入".to_owned()),
            note: None,
            holidays,
            adjusted_working_days: adjusted,
        }
    } else {
        match serde_json::from_str::<CalendarUpload>(&form.document) {
            Ok(upload) => upload,
            Err(e) => {
                errors.push(format!(
                    "JSON 无法读取（第 {} 行第 {} 列）：格式应与 PUT /api/v1/calendar/{{year}} 相同",
                    e.line(),
                    e.column()
                ));
                CalendarUpload {
                    year,
                    source: None,
                    note: None,
                    holidays: Vec::new(),
                    adjusted_working_days: Vec::new(),
                }
            }
        }
    };
    if let (Some(year), true) = (year, errors.is_empty()) {
        let (committee_id, actor, now) = (user.committee_id(), user.member_id(), user.now);
        let saved =
            db::transaction(&pool, move |conn| crate::calendar::set_year(conn, committee_id, actor, year, upload, now))
                .await;
        match saved {
            Ok(_) => return Ok(see_other(format!("/console/calendar?saved={year}"))),
            Err(e) if !e.errors.is_empty() => errors.extend(e.errors.iter().map(field_message)),
            Err(e) if e.code.status().is_client_error() => {
                errors.push(e.detail.clone().unwrap_or_else(|| e.code.message_zh().to_owned()))
            }
            Err(e) => return Err(e.into()),
        }
    }
    let years = years_of(&pool, user.committee_id()).await?;
    let page_data = CalendarPage {
        chrome: Chrome::new(&user, "calendar"),
        years,
        year: year.unwrap_or_default(),
        holidays: form.holidays,
        adjusted: form.adjusted,
        document: form.document,
        errors,
        saved: None,
    };
    super::render::page_with(actix_web::http::StatusCode::UNPROCESSABLE_ENTITY, &page_data)
}
