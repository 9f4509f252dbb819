//! Statistics (履职档案) end to end: a scenario of two studios, five members and a past quarter
//! of duties (on time, late, missed, on leave, swapped) and items (collected, answered, late),
//! and the figures the API must give — written down from the scenario, not computed by the
//! server's code. Then the ranking under the committee's own weights, the CSV and XLSX
//! exports (the XLSX read back with calamine), coordinators' scope, and bad periods.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::{Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use diesel::prelude::*;
use serde_json::{Value, json};
use zhiban::schema::{assignments, item_events, items, leave_requests, swap_requests};

use crate::checkin::duty;
use crate::helpers::{TestApp, TestCommittee, november_2026, problem, spawn_app_at};
use crate::items::submit_json;

/// A Shanghai wall-clock time as the UTC instant the database stores.
fn local(date: &str, time: &str) -> NaiveDateTime {
    let naive = NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M").unwrap();
    Shanghai.from_local_datetime(&naive).unwrap().naive_utc()
}

/// A duty (published, one shift) at a local date from 09:00 to 11:30, through the check-in
/// tests' helper, which places shifts relative to the clock.
async fn duty_on(app: &TestApp, c: &TestCommittee, venue: i64, member: i64, date: &str) -> i64 {
    let start = local(date, "09:00");
    let minutes = (start - app.clock.now_naive()).num_minutes();
    duty(app, c.id, venue, member, minutes, minutes + 150).await
}

/// The coordinator records a check-in by hand at a local time on the duty's day.
async fn check_in(app: &TestApp, admin: &str, assignment: i64, date: &str, time: &str) {
    let at = local(date, time).and_utc();
    let res = app
        .post(
            "/api/v1/checkins/manual",
            admin,
            json!({ "assignment_id": assignment, "reason": "补录签到", "checked_in_at": at }),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}

/// A member records an item at their duty; returns its id.
async fn record(app: &TestApp, token: &str, assignment: i64, kind: &str) -> i64 {
    let res = app
        .post(
            "/api/v1/items",
            token,
            json!({ "assignment_id": assignment, "kind": kind, "topic": "民生", "body": "群众反映的问题" }),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn reply(app: &TestApp, token: &str, item: i64) {
    let res = app.post(&format!("/api/v1/items/{item}/reply"), token, json!({ "text": "已答复" })).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

/// A resident's consultation or opinion at a venue; returns its id.
async fn submitted(app: &TestApp, venue_code: &str, kind: &str) -> i64 {
    let res = submit_json(
        app,
        json!({ "venue_code": venue_code, "kind": kind, "topic": "政策咨询", "body": "请问怎么办理", "consent": true }),
    )
    .await;
    assert_eq!(res.status(), 201);
    let code = res.json::<Value>().await.unwrap()["tracking_code"].as_str().unwrap().replace('-', "");
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        items::table.filter(items::tracking_code.eq(code)).select(items::id).first(&mut pool.get().unwrap()).unwrap()
    })
    .await
    .unwrap()
}

/// Moves an item into the past: received at `created`, its answer (if any) at `replied`,
/// deadline `due_on`. The timeline moves with it.
async fn backdate(app: &TestApp, item: i64, created: NaiveDateTime, replied: Option<NaiveDateTime>, due: Option<&str>) {
    let pool = app.pool.clone();
    let due = due.map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap());
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        diesel::update(items::table.find(item))
            .set((
                items::created_at.eq(created),
                items::updated_at.eq(replied.unwrap_or(created)),
                items::first_reply_at.eq(replied),
                items::answered_at.eq(replied),
                items::due_on.eq(due),
            ))
            .execute(&mut conn)
            .unwrap();
        diesel::update(item_events::table.filter(item_events::item_id.eq(item)))
            .set(item_events::at.eq(created))
            .execute(&mut conn)
            .unwrap();
        if let Some(replied) = replied {
            diesel::update(
                item_events::table.filter(item_events::item_id.eq(item).and(item_events::action.eq("reply"))),
            )
            .set(item_events::at.eq(replied))
            .execute(&mut conn)
            .unwrap();
        }
    })
    .await
    .unwrap();
}

struct Scenario {
    c: TestCommittee,
    admin: String,
    coordinator_a: String,
    coordinator_b: String,
    venue_a: i64,
    venue_b: i64,
    /// The member with an upcoming duty, for the rule that it counts as scheduled only.
    chen: i64,
}

/// Two studios, 甲 and 乙; members 张一, 李二, 陈五 (of 甲), 王三 (of 乙), 赵四 (roving pool);
/// a coordinator of each studio. In 2026-Q3:
///
/// | duty | member | studio | date  | outcome |
/// |------|--------|--------|-------|---------|
/// | D1   | 张一   | 甲     | 07-25 | checked in 09:05: present |
/// | D2   | 张一   | 甲     | 08-25 | checked in 09:20: late |
/// | D3   | 张一   | 乙     | 09-25 | no check-in: absent |
/// | D4   | 李二   | 甲     | 07-25 | 09:00: present |
/// | D5   | 李二   | 甲     | 08-25 | approved leave 08-24..26: excused |
/// | D6   | 王三   | 乙     | 07-25 | 08:55: present |
/// | D7   | 王三   | 乙     | 08-25 | approved swap to 赵四: excused |
/// | D8   | 赵四   | 乙     | 08-25 | 09:30: late |
///
/// and D9, 张一 at 甲 on 2026-10-25 (Q4), missed. Items:
///
/// | item | kind         | at | received          | by / at            | answered          | due   |
/// |------|--------------|----|-------------------|--------------------|-------------------|-------|
/// | I1   | consultation | 甲 | 07-25 09:30       | 张一 at D1         | 张一 10:30 (1 h)  | 07-27 |
/// | I2   | opinion      | 甲 | 08-25 09:40       | 张一 at D2         | —                 | 09-08 (overdue) |
/// | I3   | consultation | 甲 | 07-25 10:00       | 李二 at D4         | 李二 07-28 10:00 (72 h) | 07-27 (late: overdue) |
/// | I4   | consultation | 乙 | 07-25 10:00       | a resident         | coordinator 乙 12:00 (2 h) | — |
/// | I5   | opinion      | 甲 | 09-10 15:00       | a resident         | —                 | — |
/// | I6   | opinion      | 甲 | 10-25 10:00 (Q4)  | 张一 at D9         | —                 | — |
/// | I7   | consultation | 乙 | 08-25 10:00       | 赵四 at D8         | 赵四 10:30 (0.5 h) | — |
async fn scenario(app: &TestApp) -> Scenario {
    let c = app.committee("stats", "61").await;
    let admin = app.token(&c.admin_phone).await;
    let venue_a = app.venue(&admin, "stats-a", "甲工作室").await;
    let venue_b = app.venue(&admin, "stats-b", "乙工作室").await;
    let zhang = app.member(&admin, json!({ "name": "张一", "phone": c.phone(1), "home_venue_id": venue_a })).await;
    let li = app.member(&admin, json!({ "name": "李二", "phone": c.phone(2), "home_venue_id": venue_a })).await;
    let wang = app.member(&admin, json!({ "name": "王三", "phone": c.phone(3), "home_venue_id": venue_b })).await;
    let zhao = app.member(&admin, json!({ "name": "赵四", "phone": c.phone(4) })).await;
    let chen = app.member(&admin, json!({ "name": "陈五", "phone": c.phone(5), "home_venue_id": venue_a })).await;
    app.member(
        &admin,
        json!({ "name": "联络员甲", "phone": c.phone(6), "roles": ["coordinator"], "coordinator_venue_ids": [venue_a] }),
    )
    .await;
    app.member(
        &admin,
        json!({ "name": "联络员乙", "phone": c.phone(7), "roles": ["coordinator"], "coordinator_venue_ids": [venue_b] }),
    )
    .await;
    let coordinator_a = app.token(&c.phone(6)).await;
    let coordinator_b = app.token(&c.phone(7)).await;
    let (zhang_t, li_t, zhao_t) =
        (app.token(&c.phone(1)).await, app.token(&c.phone(2)).await, app.token(&c.phone(4)).await);

    let d1 = duty_on(app, &c, venue_a, zhang, "2026-07-25").await;
    let d2 = duty_on(app, &c, venue_a, zhang, "2026-08-25").await;
    duty_on(app, &c, venue_b, zhang, "2026-09-25").await;
    let d4 = duty_on(app, &c, venue_a, li, "2026-07-25").await;
    duty_on(app, &c, venue_a, li, "2026-08-25").await;
    let d6 = duty_on(app, &c, venue_b, wang, "2026-07-25").await;
    let d7 = duty_on(app, &c, venue_b, wang, "2026-08-25").await;
    let d8 = duty_on(app, &c, venue_b, zhao, "2026-08-25").await;
    let d9 = duty_on(app, &c, venue_a, zhang, "2026-10-25").await;
    check_in(app, &admin, d1, "2026-07-25", "09:05").await;
    check_in(app, &admin, d2, "2026-08-25", "09:20").await;
    check_in(app, &admin, d4, "2026-07-25", "09:00").await;
    check_in(app, &admin, d6, "2026-07-25", "08:55").await;
    check_in(app, &admin, d8, "2026-08-25", "09:30").await;

    // Leave for 李二 over D5; D7 swapped from 王三 to 赵四 and approved (as the swap leaves it:
    // the old assignment taken off, the colleague on D8).
    let (pool, committee) = (app.pool.clone(), c.id);
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        let now = Utc::now().naive_utc();
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        diesel::insert_into(leave_requests::table)
            .values((
                leave_requests::committee_id.eq(committee),
                leave_requests::member_id.eq(li),
                leave_requests::date_from.eq(day("2026-08-24")),
                leave_requests::date_to.eq(day("2026-08-26")),
                leave_requests::reason.eq("出差"),
                leave_requests::status.eq("approved"),
                leave_requests::created_at.eq(now),
                leave_requests::updated_at.eq(now),
            ))
            .execute(&mut conn)
            .unwrap();
        diesel::insert_into(swap_requests::table)
            .values((
                swap_requests::committee_id.eq(committee),
                swap_requests::assignment_id.eq(d7),
                swap_requests::from_member_id.eq(wang),
                swap_requests::to_member_id.eq(Some(zhao)),
                swap_requests::accepted_by.eq(Some(zhao)),
                swap_requests::status.eq("approved"),
                swap_requests::note.eq("家中有事"),
                swap_requests::created_at.eq(now),
                swap_requests::updated_at.eq(now),
            ))
            .execute(&mut conn)
            .unwrap();
        diesel::update(assignments::table.find(d7))
            .set((assignments::removed_at.eq(Some(now)), assignments::removed_in_version.eq(Some(2))))
            .execute(&mut conn)
            .unwrap();
    })
    .await
    .unwrap();

    let i1 = record(app, &zhang_t, d1, "consultation").await;
    reply(app, &zhang_t, i1).await;
    backdate(app, i1, local("2026-07-25", "09:30"), Some(local("2026-07-25", "10:30")), Some("2026-07-27")).await;
    let i2 = record(app, &zhang_t, d2, "opinion").await;
    backdate(app, i2, local("2026-08-25", "09:40"), None, Some("2026-09-08")).await;
    let i3 = record(app, &li_t, d4, "consultation").await;
    reply(app, &li_t, i3).await;
    backdate(app, i3, local("2026-07-25", "10:00"), Some(local("2026-07-28", "10:00")), Some("2026-07-27")).await;
    let i4 = submitted(app, "stats-b", "consultation").await;
    reply(app, &coordinator_b, i4).await;
    backdate(app, i4, local("2026-07-25", "10:00"), Some(local("2026-07-25", "12:00")), None).await;
    let i5 = submitted(app, "stats-a", "opinion").await;
    backdate(app, i5, local("2026-09-10", "15:00"), None, None).await;
    let i6 = record(app, &zhang_t, d9, "opinion").await;
    backdate(app, i6, local("2026-10-25", "10:00"), None, None).await;
    let i7 = record(app, &zhao_t, d8, "consultation").await;
    reply(app, &zhao_t, i7).await;
    backdate(app, i7, local("2026-08-25", "10:00"), Some(local("2026-08-25", "10:30")), None).await;

    Scenario { c, admin, coordinator_a, coordinator_b, venue_a, venue_b, chen }
}

/// name → [scheduled, present, late, absent, excused, items, answered, overdue], avg hours.
type Expected = BTreeMap<&'static str, ([u64; 8], Option<f64>)>;

fn member_counts(row: &Value) -> ([u64; 8], Option<f64>) {
    let n = |k: &str| row[k].as_u64().unwrap_or_else(|| panic!("{k} in {row}"));
    (
        [
            n("scheduled"),
            n("present"),
            n("late"),
            n("absent"),
            n("excused"),
            n("items_collected"),
            n("consultations_answered"),
            n("overdue"),
        ],
        row["avg_reply_hours"].as_f64(),
    )
}

fn by_name(report: &Value) -> BTreeMap<String, Value> {
    report["rows"].as_array().unwrap().iter().map(|r| (r["name"].as_str().unwrap().to_owned(), r.clone())).collect()
}

fn assert_members(report: &Value, expected: &Expected) {
    let rows = by_name(report);
    let names: Vec<&str> = rows.keys().map(String::as_str).collect();
    let wanted: Vec<&str> = expected.keys().copied().collect();
    assert_eq!(
        names.iter().copied().collect::<std::collections::BTreeSet<_>>(),
        wanted.iter().copied().collect(),
        "members listed"
    );
    for (name, counts) in expected {
        assert_eq!(&member_counts(&rows[*name]), counts, "{name}");
    }
}

/// (name, score, rank) in the order served.
fn ranking(report: &Value) -> Vec<(String, f64, u64)> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap().to_owned(), r["score"].as_f64().unwrap(), r["rank"].as_u64().unwrap()))
        .collect()
}

async fn report(app: &TestApp, token: &str, path: &str) -> Value {
    let res = app.get(path, token).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_quarter_of_duties_and_items_adds_up() {
    let app = spawn_app_at(november_2026()).await;
    let s = scenario(&app).await;

    let q3 = report(&app, &s.admin, "/api/v1/stats/members?period=2026-Q3").await;
    assert_eq!(q3["period"], "2026-Q3");
    assert_eq!(q3["kind"], "quarter");
    assert_eq!((q3["from"].as_str(), q3["to"].as_str()), (Some("2026-07-01"), Some("2026-09-30")));
    assert_eq!(q3["label"], "2026年第三季度");
    assert_eq!(q3["weights"]["present"], 2.0);
    let expected: Expected = BTreeMap::from([
        ("张一", ([3, 1, 1, 1, 0, 2, 1, 1], Some(1.0))),
        ("李二", ([2, 1, 0, 0, 1, 1, 1, 1], Some(72.0))),
        ("王三", ([2, 1, 0, 0, 1, 0, 0, 0], None)),
        ("赵四", ([1, 0, 1, 0, 0, 1, 1, 0], Some(0.5))),
        ("陈五", ([0, 0, 0, 0, 0, 0, 0, 0], None)),
    ]);
    // The admin and the coordinators are not members (委员); 联络员乙's answer counts for 乙 only.
    assert_members(&q3, &expected);
    assert_eq!(by_name(&q3)["赵四"]["home_venue"], Value::Null);
    assert_eq!(by_name(&q3)["张一"]["home_venue"], "甲工作室");
    // Default weights: present +2, late +1, absent −2, excused 0, item +1, answer +1, overdue −1.
    // 张一 2+1−2+2+1−1 = 3, 李二 2+1+1−1 = 3, 赵四 1+1+1 = 3, 王三 2, 陈五 0; ties by name.
    assert_eq!(
        ranking(&q3),
        vec![
            ("张一".to_owned(), 3.0, 1),
            ("李二".to_owned(), 3.0, 1),
            ("赵四".to_owned(), 3.0, 1),
            ("王三".to_owned(), 2.0, 4),
            ("陈五".to_owned(), 0.0, 5),
        ]
    );

    let venues = report(&app, &s.admin, "/api/v1/stats/venues?period=2026-Q3").await;
    let rows = venues["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let counts = |r: &Value| {
        let n = |k: &str| r[k].as_u64().unwrap();
        (
            [
                n("scheduled"),
                n("present"),
                n("late"),
                n("absent"),
                n("excused"),
                n("items_received"),
                n("consultations_answered"),
                n("overdue"),
            ],
            r["avg_reply_hours"].as_f64(),
        )
    };
    assert_eq!(rows[0]["venue_id"], s.venue_a);
    assert_eq!(rows[0]["name"], "甲工作室");
    // 甲: D1 D2 D4 D5; I1 I2 I3 I5; answered I1 (1 h) and I3 (72 h); overdue I2 and I3.
    assert_eq!(counts(&rows[0]), ([4, 2, 1, 0, 1, 4, 2, 2], Some(36.5)));
    // 乙: D3 D6 D7 D8; I4 I7; answered I4 (2 h, by the coordinator) and I7 (0.5 h).
    assert_eq!(rows[1]["venue_id"], s.venue_b);
    assert_eq!(counts(&rows[1]), ([4, 1, 1, 1, 1, 2, 2, 0], Some(1.25)));

    // The year adds D9 (missed) and I6 for 张一.
    let year = report(&app, &s.admin, "/api/v1/stats/members?period=2026").await;
    assert_eq!(year["label"], "2026年度");
    assert_eq!(member_counts(&by_name(&year)["张一"]), ([4, 1, 1, 2, 0, 3, 1, 1], Some(1.0)));
    // A month with nothing: everyone at zero.
    let june = report(&app, &s.admin, "/api/v1/stats/members?period=2026-06").await;
    assert!(june["rows"].as_array().unwrap().iter().all(|r| r["scheduled"] == 0 && r["score"] == 0.0));
    let h2 = report(&app, &s.admin, "/api/v1/stats/venues?period=2026-H2").await;
    assert_eq!(h2["label"], "2026年下半年");
    assert_eq!(h2["rows"][0]["scheduled"], 5);

    // A duty that has not happened yet counts as scheduled, with no outcome.
    let upcoming = duty(&app, s.c.id, s.venue_a, s.chen, 180, 240).await;
    assert!(upcoming > 0);
    let start = (app.clock.now() + Duration::minutes(180)).with_timezone(&Shanghai);
    let month = start.format("%Y-%m").to_string();
    let now = report(&app, &s.admin, &format!("/api/v1/stats/members?period={month}")).await;
    assert_eq!(member_counts(&by_name(&now)["陈五"]), ([1, 0, 0, 0, 0, 0, 0, 0], None));
}

#[tokio::test]
async fn the_ranking_follows_the_committee_weights() {
    let app = spawn_app_at(november_2026()).await;
    let s = scenario(&app).await;
    let weights = json!({ "present": 1, "late": 0, "absent": -5, "excused": 0.5,
                          "items_collected": 2, "consultations_answered": 3, "overdue": -2 });
    let res = app.patch("/api/v1/committee", &s.admin, json!({ "settings": { "ranking_weights": weights } })).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // Out of range is refused with the field named.
    let res = app
        .patch("/api/v1/committee", &s.admin, json!({ "settings": { "ranking_weights": { "absent": -500 } } }))
        .await;
    let body = problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "settings.ranking_weights", "{body}");

    let q3 = report(&app, &s.admin, "/api/v1/stats/members?period=2026-Q3").await;
    assert_eq!(q3["weights"]["absent"], -5.0);
    // 张一 1+0−5+0+4+3−2 = 1; 李二 1+0.5+2+3−2 = 4.5; 王三 1+0.5 = 1.5; 赵四 0+2+3 = 5; 陈五 0.
    assert_eq!(
        ranking(&q3),
        vec![
            ("赵四".to_owned(), 5.0, 1),
            ("李二".to_owned(), 4.5, 2),
            ("王三".to_owned(), 1.5, 3),
            ("张一".to_owned(), 1.0, 4),
            ("陈五".to_owned(), 0.0, 5),
        ]
    );

    // The same ranking as CSV: BOM, Chinese headers, one line per member in rank order.
    let res = app.get("/api/v1/stats/members?period=2026-Q3&format=csv", &s.admin).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains("filename=\"zhiban-members-2026-Q3.csv\""), "{disposition}");
    assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "委员,所属工作室,应值班,出勤,迟到,缺勤,请假/调班,收集事项,答复咨询,平均答复时长(小时),超期事项,得分,排名"
    );
    assert_eq!(lines[1], "赵四,,1,0,1,0,0,1,1,0.5,0,5,1");
    assert_eq!(lines[2], "李二,甲工作室,2,1,0,0,1,1,1,72,1,4.5,2");
    assert_eq!(lines[4], "张一,甲工作室,3,1,1,1,0,2,1,1,1,1,4");
    assert_eq!(lines[5], "陈五,甲工作室,0,0,0,0,0,0,0,,0,0,5");
    assert_eq!(lines.len(), 6);

    // And as XLSX, read back with an independent reader.
    let res = app.get("/api/v1/stats/members?period=2026-Q3&format=xlsx", &s.admin).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("zhiban-members-2026-Q3.xlsx"));
    let rows = xlsx_rows(res.bytes().await.unwrap().to_vec(), "2026年第三季度");
    assert_eq!(rows[0][0], "2026年第三季度委员履职统计");
    assert_eq!(rows[1][0], "委员");
    assert_eq!(rows[1][9], "平均答复时长(小时)");
    assert_eq!(rows[1][12], "排名");
    assert_eq!(rows[2], ["赵四", "", "1", "0", "1", "0", "0", "1", "1", "0.5", "0", "5", "1"]);
    assert_eq!(rows[3], ["李二", "甲工作室", "2", "1", "0", "0", "1", "1", "1", "72", "1", "4.5", "2"]);
    assert_eq!(rows.len(), 7);

    let res = app.get("/api/v1/stats/venues?period=2026-Q3&format=xlsx", &s.admin).await;
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("zhiban-venues-2026-Q3.xlsx"));
    let rows = xlsx_rows(res.bytes().await.unwrap().to_vec(), "2026年第三季度");
    assert_eq!(rows[0][0], "2026年第三季度工作室履职统计");
    assert_eq!(rows[1][..3], ["工作室", "应值班", "出勤"]);
    assert_eq!(rows[2], ["甲工作室", "4", "2", "1", "0", "1", "4", "2", "36.5", "2"]);
    assert_eq!(rows[3], ["乙工作室", "4", "1", "1", "1", "1", "2", "2", "1.25", "0"]);
    let res = app.get("/api/v1/stats/venues?period=2026-Q3&format=csv", &s.admin).await;
    let bytes = res.bytes().await.unwrap();
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "工作室,应值班,出勤,迟到,缺勤,请假/调班,收到事项,答复咨询,平均答复时长(小时),超期事项"
    );
}

/// The sheet's cells as text (numbers without a trailing `.0`).
fn xlsx_rows(bytes: Vec<u8>, sheet: &str) -> Vec<Vec<String>> {
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("a readable workbook");
    assert_eq!(workbook.sheet_names(), vec![sheet.to_owned()]);
    let range = workbook.worksheet_range(sheet).unwrap();
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::String(s) => s.clone(),
                    Data::Float(f) => f.to_string(),
                    Data::Int(i) => i.to_string(),
                    Data::Empty => String::new(),
                    other => format!("{other:?}"),
                })
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn coordinators_see_their_venues_only() {
    let app = spawn_app_at(november_2026()).await;
    let s = scenario(&app).await;

    // 甲's coordinator: the members of 甲 and whoever did something at 甲 — counting 甲 only
    // (张一's missed duty at 乙 is not theirs to see).
    let a = report(&app, &s.coordinator_a, "/api/v1/stats/members?period=2026-Q3").await;
    let expected: Expected = BTreeMap::from([
        ("张一", ([2, 1, 1, 0, 0, 2, 1, 1], Some(1.0))),
        ("李二", ([2, 1, 0, 0, 1, 1, 1, 1], Some(72.0))),
        ("陈五", ([0, 0, 0, 0, 0, 0, 0, 0], None)),
    ]);
    assert_members(&a, &expected);
    // The admin narrowed to 甲 sees the same.
    let admin_a = report(&app, &s.admin, &format!("/api/v1/stats/members?period=2026-Q3&venue_id={}", s.venue_a)).await;
    assert_members(&admin_a, &expected);
    assert_eq!(admin_a["venue_id"], s.venue_a);

    // 乙's coordinator: 王三, and 张一 and 赵四 for their duties at 乙; not 李二 or 陈五.
    let b = report(&app, &s.coordinator_b, "/api/v1/stats/members?period=2026-Q3").await;
    let expected: Expected = BTreeMap::from([
        ("张一", ([1, 0, 0, 1, 0, 0, 0, 0], None)),
        ("王三", ([2, 1, 0, 0, 1, 0, 0, 0], None)),
        ("赵四", ([1, 0, 1, 0, 0, 1, 1, 0], Some(0.5))),
    ]);
    assert_members(&b, &expected);
    let venues = report(&app, &s.coordinator_b, "/api/v1/stats/venues?period=2026-Q3").await;
    let ids: Vec<i64> = venues["rows"].as_array().unwrap().iter().map(|r| r["venue_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![s.venue_b]);
    let csv = app.get("/api/v1/stats/members?period=2026-Q3&format=csv", &s.coordinator_b).await.text().await.unwrap();
    // 张一's home studio is shown with his row; 甲's own members are not.
    assert!(!csv.contains("李二") && !csv.contains("陈五"), "{csv}");

    // Asking for the other studio by id is refused; an unknown id is not found.
    for path in ["members", "venues"] {
        let url = format!("/api/v1/stats/{path}?period=2026-Q3&venue_id={}", s.venue_a);
        problem(app.get(&url, &s.coordinator_b).await, 403, "out_of_scope").await;
        let url = format!("/api/v1/stats/{path}?period=2026-Q3&venue_id=987654");
        problem(app.get(&url, &s.admin).await, 404, "not_found").await;
    }
    // Members are not let in at all.
    let member = app.token(&s.c.phone(1)).await;
    problem(app.get("/api/v1/stats/members?period=2026-Q3", &member).await, 403, "forbidden").await;
}

#[tokio::test]
async fn bad_periods_are_refused_with_the_field_named() {
    let app = spawn_app_at(november_2026()).await;
    let c = app.committee("stats-bad", "62").await;
    let admin = app.token(&c.admin_phone).await;
    for period in ["2026-13", "2026-Q5", "2026-H3", "26", "2026-11-01", "last%20year", "2026-Q"] {
        for path in ["members", "venues"] {
            let res = app.get(&format!("/api/v1/stats/{path}?period={period}"), &admin).await;
            let body = problem(res, 422, "validation_failed").await;
            assert_eq!(body["errors"][0]["field"], "period", "{body}");
            assert_eq!(body["errors"][0]["reason"], "invalid_period", "{body}");
        }
    }
    let body = problem(app.get("/api/v1/stats/members", &admin).await, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["reason"], "required");
    problem(app.get("/api/v1/stats/members?period=2026&format=pdf", &admin).await, 400, "bad_request").await;
    // An empty committee still answers, every format.
    for format in ["json", "csv", "xlsx"] {
        let res = app.get(&format!("/api/v1/stats/venues?period=2026-11&format={format}"), &admin).await;
        assert_eq!(res.status(), 200, "{format}");
    }
    let res = app.request(reqwest::Method::GET, "/api/v1/stats/venues?period=2026", None, None).await;
    problem(res, 401, "unauthenticated").await;
}
