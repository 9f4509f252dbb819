//! The main flows at instants where date arithmetic breaks: late evening and just after
//! midnight in Asia/Shanghai (when the UTC date is the day before), New Year's night, 29
//! February, the working day before a holiday block and an adjusted working day (调休). Each
//! runs the real server with its clock pinned there: generate and publish, scan in, a
//! resident's item through triage to its deadline and escalation, and a duty reminder.
//!
//! Expected dates are worked out here from the official arrangement's JSON with a plain
//! day-by-day walk, not with the server's calendar code.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Asia::Shanghai;
use diesel::prelude::*;
use serde_json::{Value, json};
use zhiban::clock::Clock;
use zhiban::schema::outbox;

use crate::checkin::{duty, scan};
use crate::helpers::{TestApp, TestDatabase, spawn_app_with};
use crate::items::submit_json;

/// The official 2026 arrangement as the test reads it: (holidays, adjusted working days).
fn official_2026() -> (BTreeSet<NaiveDate>, BTreeSet<NaiveDate>) {
    let doc: Value = serde_json::from_str(zhiban::calendar::CHINA_2026_JSON).unwrap();
    let dates = |key: &str, field: Option<&str>| -> BTreeSet<NaiveDate> {
        doc[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| field.map_or(v, |f| &v[f]).as_str().unwrap().parse().unwrap())
            .collect()
    };
    (dates("holidays", Some("date")), dates("adjusted_working_days", None))
}

/// Whether `date` is worked: by the official arrangement in 2026, by weekends alone in a year
/// without one (which is what the server must do there, and say so).
fn is_working_day(date: NaiveDate) -> bool {
    let (holidays, adjusted) = official_2026();
    if adjusted.contains(&date) {
        return true;
    }
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !holidays.contains(&date)
}

/// The `n`-th working day after `from`.
fn working_days_after(from: NaiveDate, n: u32) -> NaiveDate {
    let mut day = from;
    let mut left = n;
    while left > 0 {
        day = day.succ_opt().unwrap();
        if is_working_day(day) {
            left -= 1;
        }
    }
    day
}

fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Shanghai).date_naive()
}

async fn outbox_of(app: &TestApp, kind: &'static str) -> Vec<(Option<String>, Value)> {
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        let rows: Vec<(Option<String>, String)> = outbox::table
            .filter(outbox::kind.eq(kind))
            .order(outbox::id)
            .select((outbox::dedupe_key, outbox::payload))
            .load(&mut pool.get().unwrap())
            .unwrap();
        rows.into_iter().map(|(k, p)| (k, serde_json::from_str(&p).unwrap())).collect()
    })
    .await
    .unwrap()
}

async fn blocking<T: Send + 'static>(
    app: &TestApp,
    f: impl FnOnce(&mut zhiban::db::DbConnection) -> T + Send + 'static,
) -> T {
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || f(&mut pool.get().unwrap())).await.unwrap()
}

async fn flows(label: &str, at: &str) {
    let at: DateTime<Utc> = at.parse().unwrap();
    let clock = Clock::fixed(at);
    let app = spawn_app_with(TestDatabase::create(), clock.clone()).await;
    let today = local_date(at);
    let c = app.committee("instants", "61").await;
    let admin = app.token(&c.admin_phone).await;
    let official: Value = serde_json::from_str(zhiban::calendar::CHINA_2026_JSON).unwrap();
    assert_eq!(app.put("/api/v1/calendar/2026", &admin, official).await.status(), 200);
    let studio = app.venue(&admin, "inst-s", "时刻工作室").await;
    let res =
        app.post("/api/v1/venues", &admin, json!({ "kind": "cppcc_home", "name": "政协之家", "code": "inst-h" })).await;
    let home = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let mut members = Vec::new();
    for n in 1..=4 {
        members.push(
            app.member(
                &admin,
                json!({ "name": format!("委员{n}"), "phone": c.phone(n), "home_venue_id": studio, "standing_committee": n == 1 }),
            )
            .await,
        );
    }
    app.member(
        &admin,
        json!({ "name": "联络员", "phone": c.phone(9), "roles": ["coordinator"], "coordinator_venue_ids": [studio] }),
    )
    .await;
    let res = app
        .post(
            "/api/v1/shift-templates",
            &admin,
            json!({ "venue_id": home, "name": "政协之家值班", "kind": "home_duty",
                    "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "start_time": "08:30:00", "end_time": "12:00:00",
                    "head_min": 1, "head_max": 1 }),
        )
        .await;
    assert_eq!(res.status(), 201, "{label}: template");

    // Generate and publish the next 40 local days.
    let (from, to) = (today + Duration::days(1), today + Duration::days(40));
    let generated: Value = app
        .post("/api/v1/rosters/generate", &admin, json!({ "period_from": from, "period_to": to }))
        .await
        .json()
        .await
        .unwrap();
    let roster_id = generated["roster_id"].as_i64().unwrap_or_else(|| panic!("{label}: generate: {generated}"));
    let missing: Vec<i32> = (from.year()..=to.year()).filter(|y| *y != 2026).collect();
    let warned: Vec<i64> = generated["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            assert_eq!(w["code"], "calendar_missing", "{label}: {w}");
            w["year"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(warned, missing.iter().map(|y| i64::from(*y)).collect::<Vec<_>>(), "{label}: warnings");
    assert_eq!(app.post(&format!("/api/v1/rosters/{roster_id}/publish"), &admin, json!({})).await.status(), 200);
    let roster: Value = app.get(&format!("/api/v1/rosters/{roster_id}"), &admin).await.json().await.unwrap();
    assert_eq!(roster["warnings"], generated["warnings"], "{label}: the roster keeps its warnings");
    let dates: BTreeSet<NaiveDate> =
        roster["shifts"].as_array().unwrap().iter().map(|s| s["date"].as_str().unwrap().parse().unwrap()).collect();
    let expected: BTreeSet<NaiveDate> =
        from.iter_days().take_while(|d| *d <= to).filter(|d| is_working_day(*d)).collect();
    assert_eq!(dates, expected, "{label}: home duty on exactly the working days from tomorrow (local)");

    // Reminders: the 7-day and 1-day steps, counted in local dates.
    blocking(&app, move |conn| zhiban::roster::reminders::schedule_reminders(conn, at.naive_utc()).unwrap()).await;
    let reminders = outbox_of(&app, "duty.reminder").await;
    let within_a_week = dates.iter().filter(|d| (**d - today).num_days() <= 7).count();
    assert_eq!(reminders.len(), within_a_week, "{label}: each duty within 7 days is reminded once");
    for (_, payload) in &reminders {
        let date: NaiveDate = payload["date"].as_str().unwrap().parse().unwrap();
        let until = (date - today).num_days();
        assert_eq!(payload["days_until"], until, "{label}: {payload}");
        let step = if until <= 1 { 1 } else { 7 };
        assert_eq!(payload["days_before"], step, "{label}: {payload}");
        assert!((0..=7).contains(&until), "{label}: {payload}");
    }

    // Scan-in: a duty that began 10 minutes ago, the display's code now.
    let member = members[0];
    let member_token = app.token(&c.phone(1)).await;
    let assignment = duty(&app, c.id, studio, member, -10, 25).await;
    let screen: Value = app.get(&format!("/api/v1/venues/{studio}/display-code"), &admin).await.json().await.unwrap();
    let answer = scan(&app, &member_token, screen["payload"].as_str().unwrap(), None).await;
    assert_eq!(answer["outcome"], "ok", "{label}: {answer}");
    assert_eq!(answer["late"], false, "{label}");
    assert_eq!(answer["duty"]["assignment_id"], assignment, "{label}");

    // A resident's opinion, graded tier 2 (10 working days), overdue the day after, escalated.
    let res = submit_json(
        &app,
        json!({ "venue_code": "inst-s", "kind": "opinion", "topic": "交通出行", "body": "村口公交太少。", "consent": true }),
    )
    .await;
    assert_eq!(res.status(), 201, "{label}: submit");
    let items: Value = app.get("/api/v1/items", &admin).await.json().await.unwrap();
    let id = items["items"][0]["id"].as_i64().unwrap();
    let triaged: Value = app
        .post(
            &format!("/api/v1/items/{id}/triage"),
            &admin,
            json!({ "importance": "normal", "difficulty": "moderate" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(triaged["tier"], 2, "{label}: {triaged}");
    let due = working_days_after(today, 10);
    assert_eq!(triaged["due_on"], json!(due), "{label}: 10 working days from the local today");
    let provisional = (today.year()..=due.year()).any(|y| y != 2026);
    assert_eq!(triaged["deadline_provisional"], provisional, "{label}");

    let after_due = Shanghai
        .from_local_datetime(&(due + Duration::days(1)).and_time(NaiveTime::from_hms_opt(0, 5, 0).unwrap()))
        .unwrap()
        .with_timezone(&Utc);
    // On its last day it is not yet overdue; five minutes into the next local day it is.
    let last_day = after_due - Duration::minutes(10);
    let report =
        blocking(&app, move |conn| zhiban::items::deadlines::run_pass(conn, last_day.naive_utc()).unwrap()).await;
    assert_eq!(report.escalated_to_coordinators, 0, "{label}: not overdue on its last day");
    clock.set(after_due);
    let report =
        blocking(&app, move |conn| zhiban::items::deadlines::run_pass(conn, after_due.naive_utc()).unwrap()).await;
    assert_eq!(report.escalated_to_coordinators, 1, "{label}: overdue the next local day");
    // Days later the morning's access token has long expired (by the same clock): sign in again.
    let admin = app.token(&c.admin_phone).await;
    let item: Value = app.get(&format!("/api/v1/items/{id}"), &admin).await.json().await.unwrap();
    assert_eq!(item["deadline_status"], "overdue", "{label}: {item}");
}

#[tokio::test]
async fn at_half_past_eleven_at_night() {
    flows("23:30 local", "2026-06-15T15:30:00Z").await;
}

#[tokio::test]
async fn just_after_midnight_when_the_utc_date_is_the_day_before() {
    flows("00:30 local", "2026-06-16T16:30:00Z").await;
}

#[tokio::test]
async fn on_new_years_night() {
    flows("00:10 local on 1 January", "2026-12-31T16:10:00Z").await;
}

#[tokio::test]
async fn on_the_29th_of_february() {
    flows("2028-02-29", "2028-02-29T02:00:00Z").await;
}

#[tokio::test]
async fn on_the_working_day_before_a_holiday_block() {
    flows("2026-09-30, before National Day", "2026-09-30T01:00:00Z").await;
}

#[tokio::test]
async fn on_an_adjusted_working_day() {
    flows("2026-10-10, a Saturday worked", "2026-10-10T01:00:00Z").await;
}
