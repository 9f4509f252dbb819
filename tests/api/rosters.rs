//! Rosters end to end: templates over HTTP, a year generated from them, the properties the
//! office relies on checked on the generated roster, publishing, versioned changes, duties.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestCommittee, november_2026, problem, spawn_app_at};

pub struct County {
    pub c: TestCommittee,
    pub admin: String,
    pub studios: Vec<i64>,
    pub home: i64,
    /// Members by home studio; roving members under key 0.
    pub members: BTreeMap<i64, Vec<i64>>,
}

/// Two studios of `per_studio` members each, `roving` roving members, the CPPCC Home, the
/// official 2026 calendar, and the reception day + home duty templates.
pub async fn county(app: &TestApp, per_studio: u32, roving: u32) -> County {
    let c = app.committee("county", "58").await;
    let admin = app.token(&c.admin_phone).await;
    let official: Value = serde_json::from_str(zhiban::calendar::CHINA_2026_JSON).unwrap();
    assert_eq!(app.put("/api/v1/calendar/2026", &admin, official).await.status(), 200);
    let studios = vec![app.venue(&admin, "s-one", "一号工作室").await, app.venue(&admin, "s-two", "二号工作室").await];
    let res =
        app.post("/api/v1/venues", &admin, json!({ "kind": "cppcc_home", "name": "政协之家", "code": "s-home" })).await;
    let home = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let sectors = ["经济界", "教育界", "医药卫生界", "民盟", "农业界"];
    let mut members: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut n = 1;
    for (home_venue, count) in studios.iter().map(|s| (*s, per_studio)).chain([(0, roving)]) {
        for i in 0..count {
            let body = json!({
                "name": format!("委员{n}"), "phone": c.phone(n), "sector": sectors[(n as usize) % sectors.len()],
                "home_venue_id": if home_venue == 0 { Value::Null } else { json!(home_venue) },
                "standing_committee": i % 4 == 0,
            });
            members.entry(home_venue).or_default().push(app.member(&admin, body).await);
            n += 1;
        }
    }
    for &studio in &studios {
        let res = app
            .post(
                "/api/v1/shift-templates",
                &admin,
                json!({ "venue_id": studio, "name": "委员接待日", "kind": "reception_day",
                        "rrule": "FREQ=MONTHLY;BYMONTHDAY=25", "start_time": "08:30:00", "end_time": "11:30:00",
                        "head_min": 2, "head_max": 3, "pool_venue_id": studio, "include_roving": true }),
            )
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }
    for (start, end) in [("08:30:00", "12:00:00"), ("14:00:00", "17:30:00")] {
        let res = app
            .post(
                "/api/v1/shift-templates",
                &admin,
                json!({ "venue_id": home, "name": "政协之家值班", "kind": "home_duty",
                        "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "start_time": start, "end_time": end,
                        "head_min": 1, "head_max": 2 }),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    County { c, admin, studios, home, members }
}

pub async fn generate(app: &TestApp, token: &str, from: &str, to: &str) -> Value {
    let res = app.post("/api/v1/rosters/generate", token, json!({ "period_from": from, "period_to": to })).await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

pub async fn roster(app: &TestApp, token: &str, id: i64) -> Value {
    app.get(&format!("/api/v1/rosters/{id}"), token).await.json().await.unwrap()
}

fn assigned(shift: &Value) -> Vec<i64> {
    shift["assignments"].as_array().unwrap().iter().map(|a| a["member_id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn a_generated_year_keeps_the_rules() {
    let app = spawn_app_at(november_2026()).await;
    let k = county(&app, 9, 3).await;
    let summary = generate(&app, &k.admin, "2026-01-01", "2026-12-31").await;
    assert_eq!(summary["shortfalls"], json!([]));
    let r = roster(&app, &k.admin, summary["roster_id"].as_i64().unwrap()).await;
    assert_eq!(r["status"], "draft");
    let shifts = r["shifts"].as_array().unwrap();

    // Every studio has 2–3 members on each of the twelve reception days, the 25th.
    for &studio in &k.studios {
        let days: Vec<&Value> = shifts.iter().filter(|s| s["venue_id"] == studio).collect();
        assert_eq!(days.len(), 12);
        for s in &days {
            assert!(s["date"].as_str().unwrap().ends_with("-25"), "{}", s["date"]);
            let n = assigned(s).len();
            assert!((2..=3).contains(&n), "{n} members on {}", s["date"]);
            assert_eq!(s["assignments"][0]["role"], "lead");
            assert!(!s["assignments"][0]["reason"].as_str().unwrap().is_empty());
        }
    }
    // 2026-09-25 is the Mid-Autumn holiday; the reception day keeps it (policy keep).
    assert!(shifts.iter().any(|s| s["venue_id"] == k.studios[0] && s["date"] == "2026-09-25"));

    // No member has two reception days in one month; nobody is on two shifts at once.
    let mut reception_months: BTreeSet<(i64, String)> = BTreeSet::new();
    let mut slots: BTreeSet<(i64, String, String)> = BTreeSet::new();
    for s in shifts {
        for m in assigned(s) {
            if k.studios.contains(&s["venue_id"].as_i64().unwrap()) {
                assert!(
                    reception_months.insert((m, s["date"].as_str().unwrap()[..7].to_owned())),
                    "member {m} twice in a month"
                );
            }
            assert!(slots.insert((
                m,
                s["date"].as_str().unwrap().to_owned(),
                s["start_time"].as_str().unwrap().to_owned()
            )));
        }
    }

    // Home duty: working days only — none in Golden Week, the adjusted Saturday 10-10 staffed.
    let home_days: BTreeSet<&str> =
        shifts.iter().filter(|s| s["venue_id"] == k.home).map(|s| s["date"].as_str().unwrap()).collect();
    assert!(!home_days.iter().any(|d| ("2026-10-01".."2026-10-08").contains(d)));
    assert!(home_days.contains("2026-10-10"));
    assert!(!home_days.contains("2026-09-25"));

    // Balance: within each studio group the reception duty counts differ by at most 1.
    for &studio in &k.studios {
        let mut counts: BTreeMap<i64, usize> = k.members[&studio].iter().map(|m| (*m, 0)).collect();
        for s in shifts.iter().filter(|s| s["venue_id"] == studio) {
            for m in assigned(s) {
                if let Some(c) = counts.get_mut(&m) {
                    *c += 1;
                }
            }
        }
        let (min, max) = (counts.values().min().unwrap(), counts.values().max().unwrap());
        assert!(max - min <= 1, "studio {studio}: counts {counts:?}");
    }
}

#[tokio::test]
async fn holiday_policies_move_the_reception_day() {
    let app = spawn_app_at(november_2026()).await;
    let k = county(&app, 4, 0).await;
    let res = app
        .post(
            "/api/v1/shift-templates",
            &k.admin,
            json!({ "venue_id": k.studios[0], "name": "节后接待", "kind": "custom", "rrule": "FREQ=MONTHLY;BYMONTHDAY=25",
                    "start_time": "14:00:00", "end_time": "16:00:00", "head_min": 1, "head_max": 1,
                    "pool_venue_id": k.studios[0], "holiday_policy": "next_working_day" }),
        )
        .await;
    let template = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let summary = generate(&app, &k.admin, "2026-09-01", "2026-09-30").await;
    let r = roster(&app, &k.admin, summary["roster_id"].as_i64().unwrap()).await;
    let dates: Vec<&str> = r["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["template_id"] == template)
        .map(|s| s["date"].as_str().unwrap())
        .collect();
    // 25 (Fri, holiday) → 26, 27 holiday weekend → Monday 28.
    assert_eq!(dates, vec!["2026-09-28"]);
}

#[tokio::test]
async fn a_year_without_its_calendar_counts_weekends_only_and_says_so() {
    let app = spawn_app_at(november_2026()).await;
    let k = county(&app, 3, 0).await;
    // 2027's arrangement is not published yet: the draft is made on weekends alone, warned.
    let summary = generate(&app, &k.admin, "2026-12-28", "2027-01-08").await;
    assert_eq!(
        summary["warnings"],
        json!([{ "code": "calendar_missing", "year": 2027,
        "message": "2027 年节假日安排尚未设置：本排班只按周末休息计算，法定节假日和调休未计入" }])
    );
    let r = roster(&app, &k.admin, summary["roster_id"].as_i64().unwrap()).await;
    assert_eq!(r["warnings"], summary["warnings"]);
    let home: BTreeSet<&str> = r["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["venue_id"] == k.home)
        .map(|s| s["date"].as_str().unwrap())
        .collect();
    // New Year's Day 2027 is a Friday: without the calendar nothing says it is a holiday.
    assert!(home.contains("2027-01-01"), "{home:?}");
    assert!(!home.contains("2027-01-02") && !home.contains("2027-01-03"), "weekends stay off: {home:?}");
    // Inside 2026 the official arrangement still applies, and no warning is due.
    let summary = generate(&app, &k.admin, "2026-12-01", "2026-12-27").await;
    assert_eq!(summary["warnings"], json!([]));
}

#[tokio::test]
async fn generation_needs_a_sane_period() {
    let app = spawn_app_at(november_2026()).await;
    let k = county(&app, 3, 0).await;
    let res = app
        .post("/api/v1/rosters/generate", &k.admin, json!({ "period_from": "2026-05-01", "period_to": "2026-04-01" }))
        .await;
    problem(res, 422, "validation_failed").await;
    let res = app
        .post(
            "/api/v1/shift-templates",
            &k.admin,
            json!({ "venue_id": k.studios[0], "name": "x", "kind": "custom", "rrule": "FREQ=SOMETIMES",
                    "start_time": "12:00:00", "end_time": "11:00:00", "head_min": 3, "head_max": 2 }),
        )
        .await;
    let body = problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["rrule", "end_time", "head_max", "head_target"]);
}

#[tokio::test]
async fn shortfalls_are_reported_not_hidden() {
    let app = spawn_app_at(november_2026()).await;
    let k = county(&app, 1, 0).await; // one member per studio, reception needs two
    let summary = generate(&app, &k.admin, "2026-03-01", "2026-03-31").await;
    // The two studios are short; (home duty that morning is short too: both members are away.)
    let shortfalls: Vec<&Value> = summary["shortfalls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| k.studios.contains(&s["venue_id"].as_i64().unwrap()))
        .collect();
    assert_eq!(shortfalls.len(), 2, "{summary}");
    assert_eq!(shortfalls[0]["needed"], 2);
    assert_eq!(shortfalls[0]["got"], 1);
    assert_eq!(shortfalls[0]["reasons"][0]["code"], "pool_too_small");
}

#[tokio::test]
async fn publishing_then_changing_makes_versions_and_notifies() {
    let app = spawn_app_at(november_2026()).await;
    let k = county(&app, 6, 0).await;
    let summary = generate(&app, &k.admin, "2026-12-01", "2026-12-31").await;
    let id = summary["roster_id"].as_i64().unwrap();

    // ETags: unchanged → 304.
    let first = app.get(&format!("/api/v1/rosters/{id}"), &k.admin).await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url(&format!("/api/v1/rosters/{id}")))
        .bearer_auth(&k.admin)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    let res = app.post(&format!("/api/v1/rosters/{id}/publish"), &k.admin, json!({})).await;
    assert_eq!(res.status(), 200);
    problem(app.post(&format!("/api/v1/rosters/{id}/publish"), &k.admin, json!({})).await, 409, "invalid_transition")
        .await;
    let res = app
        .post("/api/v1/rosters/generate", &k.admin, json!({ "period_from": "2026-12-15", "period_to": "2026-12-31" }))
        .await;
    problem(res, 409, "roster_period_overlaps").await;

    let r = roster(&app, &k.admin, id).await;
    let shift = r["shifts"].as_array().unwrap().iter().find(|s| s["venue_id"] == k.studios[0]).unwrap().clone();
    let shift_id = shift["id"].as_i64().unwrap();
    let out = assigned(&shift)[0];
    // Someone of the studio with no duty at all that day (home duty may overlap the morning).
    let busy: BTreeSet<i64> =
        r["shifts"].as_array().unwrap().iter().filter(|s| s["date"] == shift["date"]).flat_map(assigned).collect();
    let replacement = *k.members[&k.studios[0]].iter().find(|m| !busy.contains(m)).unwrap();
    let path = format!("/api/v1/shifts/{shift_id}/assignments");

    let res = app
        .patch(&path, &k.admin, json!({ "action": "replace", "member_id": out, "new_member_id": replacement }))
        .await;
    let body = problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "reason");

    let res = app
        .patch(
            &path,
            &k.admin,
            json!({ "action": "replace", "member_id": out, "new_member_id": replacement, "reason": "出差" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let changed: Value = res.json().await.unwrap();
    assert!(assigned(&changed).contains(&replacement) && !assigned(&changed).contains(&out));

    // The roster moved to version 2, with a new ETag; the past is kept, not rewritten.
    let after = app.get(&format!("/api/v1/rosters/{id}"), &k.admin).await;
    assert_ne!(after.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(after.json::<Value>().await.unwrap()["version"], 2);
    let pool = app.pool.clone();
    let (removed, changes, notices) = tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use zhiban::schema::{assignments, outbox, roster_changes};
        let mut conn = pool.get().unwrap();
        let removed: Vec<Option<i32>> = assignments::table
            .filter(assignments::shift_id.eq(shift_id).and(assignments::member_id.eq(out)))
            .select(assignments::removed_in_version)
            .load(&mut conn)
            .unwrap();
        let changes: Vec<(i32, String)> = roster_changes::table
            .filter(roster_changes::roster_id.eq(id))
            .order(roster_changes::version)
            .select((roster_changes::version, roster_changes::reason))
            .load(&mut conn)
            .unwrap();
        let notices: i64 =
            outbox::table.filter(outbox::kind.eq("roster.changed")).count().get_result(&mut conn).unwrap();
        (removed, changes, notices)
    })
    .await
    .unwrap();
    assert_eq!(removed, vec![Some(2)]);
    assert_eq!(changes, vec![(1, "published".to_owned()), (2, "出差".to_owned())]);
    assert_eq!(notices, 2, "the member taken off and the one put on");

    // Adding someone already on the shift breaks a rule.
    let res = app.patch(&path, &k.admin, json!({ "action": "add", "member_id": replacement, "reason": "x" })).await;
    problem(res, 409, "assignment_conflict").await;
}

#[tokio::test]
async fn members_see_their_published_duties_and_coordinators_their_venues() {
    let app = spawn_app_at(november_2026()).await;
    let k = county(&app, 4, 0).await;
    let coordinator_phone = k.c.phone(900);
    app.member(
        &k.admin,
        json!({ "name": "联络员", "phone": coordinator_phone, "roles": ["coordinator"], "coordinator_venue_ids": [k.studios[0]] }),
    )
    .await;
    let coordinator = app.token(&coordinator_phone).await;
    let summary = generate(&app, &k.admin, "2026-12-01", "2026-12-31").await;
    let id = summary["roster_id"].as_i64().unwrap();

    let member_id = k.members[&k.studios[0]][0];
    let member_phone = k.c.phone(1);
    let member = app.token(&member_phone).await;
    let window = "/api/v1/me/duties?from=2026-12-01&to=2026-12-31";
    let duties: Value = app.get(window, &member).await.json().await.unwrap();
    assert_eq!(duties, json!([]), "drafts are not the members' yet");

    app.post(&format!("/api/v1/rosters/{id}/publish"), &k.admin, json!({})).await;
    let duties: Value = app.get(window, &member).await.json().await.unwrap();
    let r = roster(&app, &k.admin, id).await;
    let expected: Vec<i64> = r["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| assigned(s).contains(&member_id))
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    let got: Vec<i64> = duties.as_array().unwrap().iter().map(|d| d["shift_id"].as_i64().unwrap()).collect();
    assert_eq!(got, expected);
    for d in duties.as_array().unwrap() {
        assert!(d["team"].as_array().unwrap().iter().any(|t| t["member_id"] == member_id));
    }

    // The coordinator of studio one sees only studio one's shifts, and cannot touch studio two's.
    let scoped = roster(&app, &coordinator, id).await;
    assert!(scoped["shifts"].as_array().unwrap().iter().all(|s| s["venue_id"] == k.studios[0]));
    let other = r["shifts"].as_array().unwrap().iter().find(|s| s["venue_id"] == k.studios[1]).unwrap();
    let res = app
        .patch(
            &format!("/api/v1/shifts/{}/assignments", other["id"]),
            &coordinator,
            json!({ "action": "remove", "member_id": assigned(other)[0], "reason": "x" }),
        )
        .await;
    problem(res, 403, "out_of_scope").await;
    problem(app.get(&format!("/api/v1/shifts?venue_id={}", k.studios[1]), &coordinator).await, 403, "out_of_scope")
        .await;
    let listed: Value =
        app.get(&format!("/api/v1/shifts?member_id={member_id}&limit=200"), &coordinator).await.json().await.unwrap();
    let in_scope = r["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["venue_id"] == k.studios[0] && assigned(s).contains(&member_id))
        .count();
    assert_eq!(listed["items"].as_array().unwrap().len(), in_scope);
    problem(app.get("/api/v1/shifts", &member).await, 403, "forbidden").await;
}

/// Issue 18: a published roster's shortfalls are those of now. After an approved leave and
/// a deactivation take two members off the 25th, `GET /rosters/{id}` and the console say the
/// reception day is short, and why.
#[tokio::test]
async fn a_published_rosters_shortfalls_follow_leave_and_deactivation() {
    let app = crate::helpers::spawn_app_at(crate::helpers::november_2026()).await;
    let (k, r) = crate::requests::published_december(&app, 3).await;
    let id = r["id"].as_i64().unwrap();
    let shift = r["shifts"].as_array().unwrap().iter().find(|s| s["venue_id"] == k.studios[0]).unwrap().clone();
    let shift_id = shift["id"].as_i64().unwrap();
    let team: Vec<i64> =
        shift["assignments"].as_array().unwrap().iter().map(|a| a["member_id"].as_i64().unwrap()).collect();
    assert!(team.len() >= 2, "{shift}");
    let short_of =
        |roster: &Value| roster["shortfalls"].as_array().unwrap().iter().find(|s| s["shift_id"] == shift_id).cloned();
    assert_eq!(short_of(&r), None, "full when published: {}", r["shortfalls"]);

    let on_leave = app.token(&crate::requests::phone_of(&k, team[0])).await;
    let date = shift["date"].as_str().unwrap();
    let res = app.post("/api/v1/leave-requests", &on_leave, json!({ "date_from": date, "date_to": date })).await;
    let leave_id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(
        app.post(&format!("/api/v1/leave-requests/{leave_id}/approve"), &k.admin, json!({})).await.status(),
        200
    );
    let res = app.patch(&format!("/api/v1/members/{}", team[1]), &k.admin, json!({ "active": false })).await;
    assert_eq!(res.status(), 200);

    let now = roster(&app, &k.admin, id).await;
    let short = short_of(&now).unwrap_or_else(|| panic!("the 25th is short now: {}", now["shortfalls"]));
    assert_eq!(short["needed"], 2);
    assert_eq!(short["got"], team.len() - 2);
    let reasons: BTreeMap<String, i64> = short["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["code"].as_str().unwrap().to_owned(), r["members"].as_i64().unwrap()))
        .collect();
    assert_eq!(reasons.get("members_on_leave"), Some(&1), "{short}");
    assert_eq!(reasons.get("member_inactive"), Some(&1), "{short}");

    let console = crate::console::Console::sign_in(&app, &k.c.admin_phone).await;
    let (status, page) = console.get("/console/roster?month=2026-12").await;
    assert_eq!(status, 200);
    assert!(!page.contains("各班次人数已满足"), "the console no longer says every shift is full");
    assert!(page.contains("委员请假") && page.contains("委员已停用"), "and says why");
}
