//! Residents' items end to end: the resident's page (real form posts), triage by the matrix
//! and by override, referral and the handling unit's link, answers, reopening, closing,
//! deadlines on the official calendar, escalation, the live inbox, limits and scope.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, Utc, Weekday};
use diesel::prelude::*;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use zhiban::schema::{items, outbox};

use crate::checkin::duty;
use crate::helpers::{TestApp, TestCommittee, november_2026, problem, spawn_app, spawn_app_at};

pub struct Office {
    pub c: TestCommittee,
    pub admin: String,
    pub venue: i64,
    pub venue_code: &'static str,
    pub other_venue: i64,
    pub coordinator: String,
    pub other_coordinator: String,
    pub unit: i64,
}

pub async fn office(app: &TestApp) -> Office {
    let c = app.committee("items", "56").await;
    let admin = app.token(&c.admin_phone).await;
    let official: Value = serde_json::from_str(zhiban::calendar::CHINA_2026_JSON).unwrap();
    assert_eq!(app.put("/api/v1/calendar/2026", &admin, official).await.status(), 200);
    let venue = app.venue(&admin, "kunyang", "昆阳镇委员工作室").await;
    let other_venue = app.venue(&admin, "aojiang", "鳌江镇委员工作室").await;
    app.member(
        &admin,
        json!({ "name": "联络员甲", "phone": c.phone(1), "roles": ["coordinator"], "coordinator_venue_ids": [venue] }),
    )
    .await;
    app.member(
        &admin,
        json!({ "name": "联络员乙", "phone": c.phone(2), "roles": ["coordinator"], "coordinator_venue_ids": [other_venue] }),
    )
    .await;
    let coordinator = app.token(&c.phone(1)).await;
    let other_coordinator = app.token(&c.phone(2)).await;
    let res = app
        .post(
            "/api/v1/handling-units",
            &admin,
            json!({ "name": "昆阳镇人民政府", "kind": "township_government", "contact": "0577-00000000" }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let unit = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    Office { c, admin, venue, venue_code: "kunyang", other_venue, coordinator, other_coordinator, unit }
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

/// Posts the resident's form; returns the tracking code from the redirect.
async fn submit_form(app: &TestApp, venue_code: &str, fields: &[(&str, &str)]) -> String {
    let res = no_redirects().post(app.url(&format!("/r/{venue_code}"))).form(fields).send().await.unwrap();
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let code = location.strip_prefix("/r/t/").and_then(|l| l.strip_suffix("?new=1")).unwrap();
    code.to_owned()
}

pub async fn submit_json(app: &TestApp, body: Value) -> reqwest::Response {
    app.client.post(app.url("/api/v1/public/items")).json(&body).send().await.unwrap()
}

pub fn opinion(venue_code: &str, body: &str, phone: Option<&str>) -> Value {
    json!({ "venue_code": venue_code, "kind": "opinion", "topic": "交通出行", "body": body,
            "name": phone.map(|_| "王大伯"), "phone": phone, "consent": true })
}

/// The coordinator's view of the item with that tracking code.
pub async fn item_by_code(app: &TestApp, token: &str, code: &str) -> Value {
    let page: Value = app.get("/api/v1/items?limit=200", token).await.json().await.unwrap();
    let wanted = code.replace('-', "");
    let id = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["tracking_code"].as_str().unwrap().replace('-', "") == wanted)
        .unwrap_or_else(|| panic!("item {code} not in the queue: {page}"))["id"]
        .as_i64()
        .unwrap();
    app.get(&format!("/api/v1/items/{id}"), token).await.json().await.unwrap()
}

async fn set_created_at(app: &TestApp, id: i64, at: chrono::NaiveDateTime) {
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        diesel::update(items::table.find(id)).set(items::created_at.eq(at)).execute(&mut conn).unwrap();
    })
    .await
    .unwrap();
}

async fn outbox_kinds(app: &TestApp) -> Vec<(String, String)> {
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        outbox::table.order(outbox::id).select((outbox::kind, outbox::payload)).load(&mut conn).unwrap()
    })
    .await
    .unwrap()
}

/// Working days after `start` on the official 2026 arrangement, counted here independently
/// of the server: weekdays not in the holiday list, plus the listed adjusted working days.
fn expected_due(start: NaiveDate, n: u32) -> NaiveDate {
    let official: Value = serde_json::from_str(zhiban::calendar::CHINA_2026_JSON).unwrap();
    let dates = |list: &str, date: fn(&Value) -> &Value| -> BTreeSet<NaiveDate> {
        official[list].as_array().unwrap().iter().map(|d| date(d).as_str().unwrap().parse().unwrap()).collect()
    };
    let (holidays, adjusted) = (dates("holidays", |d| &d["date"]), dates("adjusted_working_days", |d| d));
    let mut day = start;
    let mut left = n;
    while left > 0 {
        day = day.succ_opt().unwrap();
        let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
        if adjusted.contains(&day) || (!weekend && !holidays.contains(&day)) {
            left -= 1;
        }
    }
    day
}

#[tokio::test]
async fn an_opinion_goes_from_the_resident_page_through_referral_reopening_and_closing() {
    let app = spawn_app_at(november_2026()).await;
    let o = office(&app).await;

    // The printed QR leads to a light page in Chinese that fits a phone.
    let page = app.client.get(app.url(&format!("/r/{}", o.venue_code))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#));
    assert!(html.contains("昆阳镇委员工作室") && html.contains("社情民意") && !html.contains("<script"));

    // A resident posts the form and is sent to the tracking page.
    let code = submit_form(
        &app,
        o.venue_code,
        &[
            ("kind", "opinion"),
            ("topic", "交通出行"),
            ("body", "学校门口早高峰拥堵，希望增设护学岗。"),
            ("name", "李阿姨"),
            ("phone", "13900001111"),
            ("consent", "true"),
            ("website", ""),
        ],
    )
    .await;
    let tracking = app.client.get(app.url(&format!("/r/t/{code}?new=1"))).send().await.unwrap().text().await.unwrap();
    assert!(tracking.contains("提交成功") && tracking.contains("已收到"));
    assert!(!tracking.contains("13900001111") && !tracking.contains("李阿姨"), "no personal data on the page");

    // Another resident's item at the same venue.
    let res = submit_json(&app, opinion(o.venue_code, "路灯不亮", Some("13900002222"))).await;
    assert_eq!(res.status(), 201);
    let other_code = res.json::<Value>().await.unwrap()["tracking_code"].as_str().unwrap().to_owned();

    // The coordinator sees the contact; received on Thursday 2026-09-24, before the
    // Mid-Autumn and National Day holidays.
    let item = item_by_code(&app, &o.coordinator, &code).await;
    let id = item["id"].as_i64().unwrap();
    assert_eq!(item["resident"]["phone"], "13900001111");
    assert_eq!(item["state"], "received");
    let received = NaiveDate::from_ymd_opt(2026, 9, 24).unwrap();
    set_created_at(&app, id, received.and_hms_opt(2, 0, 0).unwrap()).await; // 10:00 in Shanghai

    // Triage: important × hard → tier 3, 20 working days over the holidays.
    let res = app
        .post(
            &format!("/api/v1/items/{id}/triage"),
            &o.coordinator,
            json!({ "importance": "important", "difficulty": "hard" }),
        )
        .await;
    let triaged: Value = res.json().await.unwrap();
    assert_eq!(triaged["tier"], 3, "{triaged}");
    let due = expected_due(received, 20);
    assert_eq!(triaged["due_on"], due.to_string());
    assert!(due > received + Duration::days(28), "the holidays push the deadline out: {due}");

    // Referral: the unit's link shows the item, never the resident's contact.
    let res = app
        .post(
            &format!("/api/v1/items/{id}/refer"),
            &o.coordinator,
            json!({ "handling_unit_id": o.unit, "note": "请核实" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let referred: Value = res.json().await.unwrap();
    assert_eq!(referred["item"]["state"], "referred");
    let link = referred["link"].as_str().unwrap().to_owned();
    let token = link.rsplit('/').next().unwrap().to_owned();
    let unit_json =
        app.client.get(app.url(&format!("/api/v1/referrals/{token}"))).send().await.unwrap().text().await.unwrap();
    assert!(unit_json.contains("护学岗") && !unit_json.contains("13900001111") && !unit_json.contains("李阿姨"));
    let unit_page = app.client.get(&link).send().await.unwrap().text().await.unwrap();
    assert!(unit_page.contains("昆阳镇人民政府") && !unit_page.contains("13900001111"));

    // The unit answers from its page.
    let res = no_redirects().post(&link).form(&[("text", "已协调交警在上学时段设护学岗。")]).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let view: Value =
        app.client.get(app.url(&format!("/api/v1/public/items/{code}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(view["state"], "replied");
    assert!(view["can_reopen"].as_bool().unwrap());

    // The resident is not satisfied and reopens from the tracking page, once.
    let res = no_redirects()
        .post(app.url(&format!("/r/t/{code}/reopen")))
        .form(&[("reason", "只设了一周就撤了")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(res.headers()["location"].to_str().unwrap().ends_with("msg=reopened"));
    let view: Value =
        app.client.get(app.url(&format!("/api/v1/public/items/{code}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(view["state"], "reopened");
    assert_eq!(view["satisfaction"], "unsatisfied");

    // The unit answers again through the same link; the coordinator closes.
    let res = app
        .client
        .post(app.url(&format!("/api/v1/referrals/{token}/reply")))
        .json(&json!({ "text": "护学岗已列入长效安排。" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let res = app
        .client
        .post(app.url(&format!("/api/v1/public/items/{code}/reopen")))
        .json(&json!({ "reason": "还是不行" }))
        .send()
        .await
        .unwrap();
    problem(res, 409, "reopen_limit_reached").await;
    let res = app
        .post(
            &format!("/api/v1/items/{id}/close"),
            &o.coordinator,
            json!({ "resolution": "resolved", "note": "长效护学岗" }),
        )
        .await;
    let closed: Value = res.json().await.unwrap();
    assert_eq!(closed["state"], "closed", "{closed}");
    assert!(closed["follow_up_on"].is_string(), "a tier 3 item gets its follow-up review date");

    // The timeline: who, when, from → to.
    let steps: Vec<(String, String, Value, Value)> = closed["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().into(),
                e["actor_kind"].as_str().unwrap().into(),
                e["from_state"].clone(),
                e["to_state"].clone(),
            )
        })
        .collect();
    let expected = [
        ("submit", "resident", Value::Null, json!("received")),
        ("triage", "member", json!("received"), json!("triaged")),
        ("refer", "member", json!("triaged"), json!("referred")),
        ("reply", "handling_unit", json!("referred"), json!("replied")),
        ("reopen", "resident", json!("replied"), json!("reopened")),
        ("reply", "handling_unit", json!("reopened"), json!("replied")),
        ("close", "member", json!("replied"), json!("closed")),
    ];
    assert_eq!(steps.len(), expected.len(), "{steps:?}");
    for (got, want) in steps.iter().zip(expected) {
        assert_eq!((got.0.as_str(), got.1.as_str(), &got.2, &got.3), (want.0, want.1, &want.2, &want.3));
    }

    // The resident's page shows both answers and nothing of the other resident.
    let tracking = app.client.get(app.url(&format!("/r/t/{code}"))).send().await.unwrap().text().await.unwrap();
    assert!(tracking.contains("已协调交警") && tracking.contains("长效安排") && tracking.contains("已办结"));
    let public_json =
        app.client.get(app.url(&format!("/api/v1/public/items/{code}"))).send().await.unwrap().text().await.unwrap();
    for secret in ["13900001111", "李阿姨", "13900002222", "路灯不亮", "王大伯", &other_code] {
        assert!(!tracking.contains(secret) && !public_json.contains(secret), "{secret} leaked");
    }

    // The unit was sent its link and the resident (who left a phone) each answer.
    let kinds: Vec<String> = outbox_kinds(&app).await.into_iter().map(|(k, _)| k).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "item.referred").count(), 1);
    assert_eq!(kinds.iter().filter(|k| *k == "item.replied").count(), 2);
}

#[tokio::test]
async fn the_matrix_gives_the_tier_and_an_override_needs_a_reason() {
    let app = spawn_app_at(november_2026()).await;
    let o = office(&app).await;
    // DESIGN.md §5, written out here rather than read from the server.
    let table = [
        ("normal", "easy", 1, 1),
        ("normal", "moderate", 2, 10),
        ("normal", "hard", 2, 10),
        ("important", "easy", 2, 10),
        ("important", "moderate", 3, 20),
        ("important", "hard", 3, 20),
        ("major", "easy", 4, 60),
        ("major", "moderate", 4, 60),
        ("major", "hard", 4, 60),
    ];
    let received = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    for (i, (importance, difficulty, tier, days)) in table.into_iter().enumerate() {
        let res = submit_json(&app, opinion(o.venue_code, &format!("第{i}件"), None)).await;
        let code = res.json::<Value>().await.unwrap()["tracking_code"].as_str().unwrap().to_owned();
        let id = item_by_code(&app, &o.coordinator, &code).await["id"].as_i64().unwrap();
        set_created_at(&app, id, received.and_hms_opt(3, 0, 0).unwrap()).await;
        let body: Value = app
            .post(
                &format!("/api/v1/items/{id}/triage"),
                &o.coordinator,
                json!({ "importance": importance, "difficulty": difficulty }),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(body["tier"], tier, "{importance}×{difficulty}");
        assert_eq!(body["due_on"], expected_due(received, days).to_string(), "{importance}×{difficulty}");
        assert_eq!(body["tier_override_reason"], Value::Null);
    }

    let res = submit_json(&app, opinion(o.venue_code, "需要调整分级", None)).await;
    let code = res.json::<Value>().await.unwrap()["tracking_code"].as_str().unwrap().to_owned();
    let id = item_by_code(&app, &o.coordinator, &code).await["id"].as_i64().unwrap();
    let path = format!("/api/v1/items/{id}/triage");
    let res = app.post(&path, &o.coordinator, json!({ "importance": "normal", "difficulty": "easy", "tier": 3 })).await;
    let body = problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "reason");
    let res = app
        .post(&path, &o.coordinator, json!({ "importance": "normal", "difficulty": "easy", "tier": 5, "reason": "x" }))
        .await;
    problem(res, 422, "validation_failed").await;
    let res = app
        .post(
            &path,
            &o.coordinator,
            json!({ "importance": "normal", "difficulty": "easy", "tier": 3, "reason": "涉及多个部门" }),
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["tier"], 3);
    assert_eq!(body["tier_override_reason"], "涉及多个部门");
    assert!(body["timeline"].as_array().unwrap().last().unwrap()["note"].as_str().unwrap().contains("涉及多个部门"));

    // A committee's own matrix.
    let res = app
        .patch(
            "/api/v1/committee",
            &o.admin,
            json!({ "settings": { "triage_matrix": [[2, 2, 2], [3, 3, 3], [4, 4, 4]] } }),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let res = submit_json(&app, opinion(o.venue_code, "新矩阵", None)).await;
    let code = res.json::<Value>().await.unwrap()["tracking_code"].as_str().unwrap().to_owned();
    let id = item_by_code(&app, &o.coordinator, &code).await["id"].as_i64().unwrap();
    let body: Value = app
        .post(
            &format!("/api/v1/items/{id}/triage"),
            &o.coordinator,
            json!({ "importance": "normal", "difficulty": "easy" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["tier"], 2);
}

#[tokio::test]
async fn invalid_transitions_answer_409() {
    let app = spawn_app().await;
    let o = office(&app).await;
    let res = submit_json(&app, opinion(o.venue_code, "状态测试", None)).await;
    let code = res.json::<Value>().await.unwrap()["tracking_code"].as_str().unwrap().to_owned();
    let id = item_by_code(&app, &o.coordinator, &code).await["id"].as_i64().unwrap();
    let post = |action: &str, body: Value| {
        let path = format!("/api/v1/items/{id}/{action}");
        let token = o.coordinator.clone();
        let app = &app;
        async move { app.post(&path, &token, body).await }
    };
    // received: no referral before a tier, no closing as resolved before an answer, no reopening.
    problem(post("refer", json!({ "handling_unit_id": o.unit })).await, 409, "invalid_transition").await;
    problem(post("close", json!({ "resolution": "resolved" })).await, 409, "invalid_transition").await;
    problem(post("reopen", json!({ "reason": "x" })).await, 409, "invalid_transition").await;
    problem(post("follow-up", json!({ "note": "x" })).await, 409, "invalid_transition").await;
    let rate = |body: Value| {
        let url = app.url(&format!("/api/v1/public/items/{code}/rating"));
        let client = app.client.clone();
        async move { client.post(url).json(&body).send().await.unwrap() }
    };
    problem(rate(json!({ "satisfaction": "satisfied" })).await, 409, "invalid_transition").await;
    let res =
        app.client.post(app.url(&format!("/api/v1/public/items/{code}/reopen"))).json(&json!({})).send().await.unwrap();
    problem(res, 409, "invalid_transition").await;

    // closed as a duplicate: no answer, no triage, no referral any more.
    assert_eq!(post("close", json!({ "resolution": "duplicate" })).await.status(), 200);
    problem(post("reply", json!({ "text": "x" })).await, 409, "invalid_transition").await;
    problem(post("triage", json!({ "importance": "normal", "difficulty": "easy" })).await, 409, "invalid_transition")
        .await;
    problem(post("refer", json!({ "handling_unit_id": o.unit })).await, 409, "invalid_transition").await;
    problem(post("close", json!({ "resolution": "answered" })).await, 409, "invalid_transition").await;
    // An unknown resolution is a bad request, not a transition.
    assert_eq!(post("close", json!({ "resolution": "forgotten" })).await.status(), 400);
}

#[tokio::test]
async fn submissions_are_limited_and_the_honeypot_turns_bots_away() {
    let app = spawn_app().await;
    let o = office(&app).await;

    // The honeypot: refused, nothing stored.
    let mut bot = opinion(o.venue_code, "广告", None);
    bot["website"] = json!("http://spam.example");
    problem(submit_json(&app, bot).await, 400, "submission_rejected").await;
    let res = no_redirects()
        .post(app.url(&format!("/r/{}", o.venue_code)))
        .form(&[("kind", "opinion"), ("topic", "其他"), ("body", "广告"), ("consent", "true"), ("website", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let queue: Value = app.get("/api/v1/items", &o.coordinator).await.json().await.unwrap();
    assert_eq!(queue["items"], json!([]));

    // Field errors come back together; the form page keeps what was typed.
    let res = submit_json(&app, json!({ "venue_code": o.venue_code, "kind": "gossip", "topic": "", "body": "", "phone": "123", "consent": false })).await;
    let body = problem(res, 422, "validation_failed").await;
    let fields: BTreeSet<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, BTreeSet::from(["kind", "topic", "body", "phone", "consent"]));
    assert!(!body.to_string().contains("\"123\""), "the typed phone is not echoed");
    let res = no_redirects()
        .post(app.url(&format!("/r/{}", o.venue_code)))
        .form(&[("kind", "opinion"), ("topic", "其他"), ("body", "我写了很多字"), ("phone", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("我写了很多字") && html.contains("请勾选同意后提交") && html.contains("请填写11位手机号"));
    let too_long = "长".repeat(2001);
    problem(submit_json(&app, opinion(o.venue_code, &too_long, None)).await, 422, "validation_failed").await;
    problem(submit_json(&app, opinion("no-such-venue", "x", None)).await, 404, "not_found").await;

    // Per phone: five a day.
    for i in 0..5 {
        assert_eq!(
            submit_json(&app, opinion(o.venue_code, &format!("第{i}条"), Some("13900003333"))).await.status(),
            201
        );
    }
    let res = submit_json(&app, opinion(o.venue_code, "第六条", Some("13900003333"))).await;
    assert!(res.headers().contains_key("retry-after"));
    problem(res, 429, "submission_throttled").await;

    // Per address: 30 in ten minutes (5 used above, the refused ones not counted).
    for i in 0..25 {
        assert_eq!(submit_json(&app, opinion(o.venue_code, &format!("地址{i}"), None)).await.status(), 201, "#{i}");
    }
    problem(submit_json(&app, opinion(o.venue_code, "超限", None)).await, 429, "submission_throttled").await;
    let res = no_redirects()
        .post(app.url(&format!("/r/{}", o.venue_code)))
        .form(&[("kind", "opinion"), ("topic", "其他"), ("body", "超限"), ("consent", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.text().await.unwrap().contains("提交过于频繁"));
}

async fn answered_item(app: &TestApp, o: &Office) -> (i64, String) {
    let res = submit_json(app, opinion(o.venue_code, "咨询医保报销", None)).await;
    let code = res.json::<Value>().await.unwrap()["tracking_code"].as_str().unwrap().to_owned();
    let id = item_by_code(app, &o.coordinator, &code).await["id"].as_i64().unwrap();
    let res = app
        .post(
            &format!("/api/v1/items/{id}/reply"),
            &o.coordinator,
            json!({ "text": "请携带社保卡到镇便民服务中心办理。" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    (id, code)
}

async fn set_answered_at(app: &TestApp, id: i64, at: chrono::NaiveDateTime) {
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        diesel::update(items::table.find(id)).set(items::answered_at.eq(at)).execute(&mut conn).unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_resident_may_reopen_once_within_15_days() {
    let app = spawn_app().await;
    let o = office(&app).await;
    let reopen = |code: String| {
        let client = app.client.clone();
        let url = app.url(&format!("/api/v1/public/items/{code}/reopen"));
        async move { client.post(url).json(&json!({ "reason": "没解决" })).send().await.unwrap() }
    };

    let (late, late_code) = answered_item(&app, &o).await;
    set_answered_at(&app, late, Utc::now().naive_utc() - Duration::days(16)).await;
    let view: Value = app
        .client
        .get(app.url(&format!("/api/v1/public/items/{late_code}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["can_reopen"], false);
    problem(reopen(late_code).await, 409, "reopen_window_closed").await;

    let (on_time, code) = answered_item(&app, &o).await;
    set_answered_at(&app, on_time, Utc::now().naive_utc() - Duration::days(14)).await;
    let res = reopen(code.clone()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["state"], "reopened");
    let res =
        app.post(&format!("/api/v1/items/{on_time}/reply"), &o.coordinator, json!({ "text": "已再次核实。" })).await;
    assert_eq!(res.status(), 200);
    problem(reopen(code.clone()).await, 409, "reopen_limit_reached").await;
    // The rating form of the page goes back to the page.
    let res = no_redirects()
        .post(app.url(&format!("/r/t/{code}/rate")))
        .form(&[("satisfaction", "partly_satisfied")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let view: Value =
        app.client.get(app.url(&format!("/api/v1/public/items/{code}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(view["satisfaction"], "partly_satisfied");
}

pub async fn set_due_on(app: &TestApp, id: i64, due: NaiveDate) {
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        diesel::update(items::table.find(id)).set(items::due_on.eq(due)).execute(&mut conn).unwrap();
    })
    .await
    .unwrap();
}

/// Runs the deadline pass from two workers at once (two pooled connections, two threads).
async fn two_workers(app: &TestApp, now: chrono::NaiveDateTime) -> usize {
    let mut handles = Vec::new();
    for _ in 0..2 {
        let pool = app.pool.clone();
        handles.push(tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().unwrap();
            let report = zhiban::items::deadlines::run_pass(&mut conn, now).unwrap();
            report.escalated_to_coordinators + report.escalated_to_admins
        }));
    }
    let mut total = 0;
    for h in handles {
        total += h.await.unwrap();
    }
    total
}

#[tokio::test]
async fn an_overdue_item_is_escalated_once_even_with_two_workers() {
    let app = spawn_app().await;
    let o = office(&app).await;
    let res = submit_json(&app, opinion(o.venue_code, "积水", None)).await;
    let code = res.json::<Value>().await.unwrap()["tracking_code"].as_str().unwrap().to_owned();
    let id = item_by_code(&app, &o.coordinator, &code).await["id"].as_i64().unwrap();
    let res = app
        .post(
            &format!("/api/v1/items/{id}/triage"),
            &o.coordinator,
            json!({ "importance": "normal", "difficulty": "hard" }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let now = Utc::now().naive_utc();
    assert_eq!(two_workers(&app, now).await, 0, "not overdue yet");
    let item: Value = app.get(&format!("/api/v1/items/{id}"), &o.coordinator).await.json().await.unwrap();
    assert_ne!(item["deadline_status"], "overdue");

    // One day late: the coordinators are told, exactly once.
    // The committee's today (Asia/Shanghai).
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    set_due_on(&app, id, today - Duration::days(1)).await;
    let mut escalated = 0;
    for _ in 0..3 {
        escalated += two_workers(&app, now).await;
    }
    assert_eq!(escalated, 1);
    let overdue: Vec<Value> = outbox_kinds(&app)
        .await
        .into_iter()
        .filter(|(k, _)| k == "item.overdue")
        .map(|(_, p)| serde_json::from_str(&p).unwrap())
        .collect();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0]["level"], 1);
    assert_eq!(overdue[0]["member_ids"].as_array().unwrap().len(), 1, "the venue's one coordinator");
    let queue: Value = app.get("/api/v1/items?overdue=true", &o.coordinator).await.json().await.unwrap();
    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    assert_eq!(queue["items"][0]["deadline_status"], "overdue");

    // Long past due: the admins, once.
    set_due_on(&app, id, today - Duration::days(30)).await;
    let mut escalated = 0;
    for _ in 0..3 {
        escalated += two_workers(&app, now).await;
    }
    assert_eq!(escalated, 1);
    let levels: Vec<i64> = outbox_kinds(&app)
        .await
        .into_iter()
        .filter(|(k, _)| k == "item.overdue")
        .map(|(_, p)| serde_json::from_str::<Value>(&p).unwrap()["level"].as_i64().unwrap())
        .collect();
    assert_eq!(levels, vec![1, 2]);
    let item: Value = app.get(&format!("/api/v1/items/{id}"), &o.coordinator).await.json().await.unwrap();
    assert_eq!(item["escalation_level"], 2);
    let escalations = item["timeline"].as_array().unwrap().iter().filter(|e| e["action"] == "escalate").count();
    assert_eq!(escalations, 2);
}

#[tokio::test]
async fn members_on_duty_answer_from_the_live_inbox() {
    let app = spawn_app().await;
    let o = office(&app).await;
    let on_duty =
        app.member(&o.admin, json!({ "name": "值班委员", "phone": o.c.phone(10), "home_venue_id": o.venue })).await;
    let colleague =
        app.member(&o.admin, json!({ "name": "同班委员", "phone": o.c.phone(11), "home_venue_id": o.venue })).await;
    // A third member of the studio, not on duty now.
    app.member(&o.admin, json!({ "name": "休息委员", "phone": o.c.phone(12), "home_venue_id": o.venue })).await;
    duty(&app, o.c.id, o.venue, on_duty, -30, 120).await;
    duty(&app, o.c.id, o.venue, colleague, -30, 120).await;
    let (t1, t2, t3) =
        (app.token(&o.c.phone(10)).await, app.token(&o.c.phone(11)).await, app.token(&o.c.phone(12)).await);

    let res = submit_json(
        &app,
        json!({ "venue_code": o.venue_code, "kind": "consultation", "topic": "医疗卫生", "body": "慢病门诊怎么申请？",
                "phone": "13900004444", "consent": true }),
    )
    .await;
    let code = res.json::<Value>().await.unwrap()["tracking_code"].as_str().unwrap().to_owned();
    let inbox: Value = app.get("/api/v1/me/inbox", &t1).await.json().await.unwrap();
    assert_eq!(inbox.as_array().unwrap().len(), 1, "{inbox}");
    assert!(inbox[0].get("resident").is_none(), "members on duty do not see the resident's contact");
    let id = inbox[0]["id"].as_i64().unwrap();
    assert_eq!(app.get("/api/v1/me/inbox", &t2).await.json::<Value>().await.unwrap().as_array().unwrap().len(), 1);
    assert_eq!(app.get("/api/v1/me/inbox", &t3).await.json::<Value>().await.unwrap(), json!([]));
    let notice: Vec<Value> = outbox_kinds(&app)
        .await
        .into_iter()
        .filter(|(k, _)| k == "item.inbox")
        .map(|(_, p)| serde_json::from_str(&p).unwrap())
        .collect();
    let told: BTreeSet<i64> = notice[0]["member_ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(told, BTreeSet::from([on_duty, colleague]));

    // One takes it; the colleague cannot, and no longer sees it.
    assert_eq!(app.post(&format!("/api/v1/items/{id}/take"), &t1, json!({})).await.status(), 200);
    problem(app.post(&format!("/api/v1/items/{id}/take"), &t2, json!({})).await, 409, "item_taken").await;
    problem(app.post(&format!("/api/v1/items/{id}/reply"), &t2, json!({ "text": "x" })).await, 409, "item_taken").await;
    assert_eq!(app.get("/api/v1/me/inbox", &t2).await.json::<Value>().await.unwrap(), json!([]));
    problem(app.post(&format!("/api/v1/items/{id}/take"), &t3, json!({})).await, 404, "not_found").await;
    problem(app.get(&format!("/api/v1/items/{id}"), &t3).await, 404, "not_found").await;

    // The answer reaches the resident's page and their phone; the member closes on the spot.
    let res =
        app.post(&format!("/api/v1/items/{id}/reply"), &t1, json!({ "text": "带病历到县医院医保窗口申请。" })).await;
    assert_eq!(res.status(), 200);
    let view: Value =
        app.client.get(app.url(&format!("/api/v1/public/items/{code}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(view["state"], "replied");
    assert!(
        view["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["text"] == "带病历到县医院医保窗口申请。" && e["by"] == "委员")
    );
    let replied: Vec<Value> = outbox_kinds(&app)
        .await
        .into_iter()
        .filter(|(k, _)| k == "item.replied")
        .map(|(_, p)| serde_json::from_str(&p).unwrap())
        .collect();
    assert_eq!(replied.len(), 1);
    assert_eq!(replied[0]["phone"], "13900004444");
    let res = app.post(&format!("/api/v1/items/{id}/close"), &t1, json!({ "resolution": "answered" })).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(app.get("/api/v1/me/inbox", &t1).await.json::<Value>().await.unwrap(), json!([]));
}

#[tokio::test]
async fn members_record_items_from_their_duty() {
    let app = spawn_app().await;
    let o = office(&app).await;
    let member =
        app.member(&o.admin, json!({ "name": "接待委员", "phone": o.c.phone(20), "home_venue_id": o.venue })).await;
    let other =
        app.member(&o.admin, json!({ "name": "别的委员", "phone": o.c.phone(21), "home_venue_id": o.venue })).await;
    let assignment = duty(&app, o.c.id, o.venue, member, -60, 60).await;
    let others = duty(&app, o.c.id, o.venue, other, -60, 60).await;
    let later = duty(&app, o.c.id, o.venue, member, 600, 700).await;
    let token = app.token(&o.c.phone(20)).await;
    let body = |assignment: i64| {
        json!({ "assignment_id": assignment, "kind": "opinion", "topic": "农业农村", "body": "村道需要硬化",
                "resident_name": "张大爷", "resident_phone": "13900005555" })
    };
    let res = app.post("/api/v1/items", &token, body(assignment)).await;
    assert_eq!(res.status(), 201);
    let item: Value = res.json().await.unwrap();
    assert_eq!((item["source"].as_str(), item["venue_id"].as_i64()), (Some("member"), Some(o.venue)));
    assert!(item.get("resident").is_none(), "the member does not read contacts back");
    assert_eq!(item["timeline"][0]["action"], "record");
    let full = item_by_code(&app, &o.coordinator, item["tracking_code"].as_str().unwrap()).await;
    assert_eq!(full["resident"]["name"], "张大爷");
    let res = app.post("/api/v1/items", &token, body(others)).await;
    assert_eq!(problem(res, 422, "validation_failed").await["errors"][0]["reason"], "not_your_duty");
    let res = app.post("/api/v1/items", &token, body(later)).await;
    assert_eq!(problem(res, 422, "validation_failed").await["errors"][0]["reason"], "not_started");
}

#[tokio::test]
async fn a_coordinator_sees_only_their_venues_items() {
    let app = spawn_app().await;
    let o = office(&app).await;
    assert_eq!(submit_json(&app, opinion(o.venue_code, "甲地的事", Some("13900006666"))).await.status(), 201);
    assert_eq!(submit_json(&app, opinion("aojiang", "乙地的事", Some("13900007777"))).await.status(), 201);

    let mine: Value = app.get("/api/v1/items", &o.coordinator).await.json().await.unwrap();
    let bodies: Vec<&str> = mine["items"].as_array().unwrap().iter().map(|i| i["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, vec!["甲地的事"]);
    let theirs: Value = app.get("/api/v1/items", &o.other_coordinator).await.json().await.unwrap();
    let other_id = theirs["items"][0]["id"].as_i64().unwrap();
    assert_eq!(theirs["items"][0]["venue_id"], o.other_venue);
    let mine_id = mine["items"][0]["id"].as_i64().unwrap();

    problem(app.get(&format!("/api/v1/items/{other_id}"), &o.coordinator).await, 403, "out_of_scope").await;
    problem(app.get(&format!("/api/v1/items?venue_id={}", o.other_venue), &o.coordinator).await, 403, "out_of_scope")
        .await;
    let res = app
        .post(
            &format!("/api/v1/items/{other_id}/triage"),
            &o.coordinator,
            json!({ "importance": "normal", "difficulty": "easy" }),
        )
        .await;
    problem(res, 403, "out_of_scope").await;
    // The admin sees both; another committee sees neither.
    let all: Value = app.get("/api/v1/items", &o.admin).await.json().await.unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let stranger = app.committee("elsewhere", "55").await;
    let stranger_admin = app.token(&stranger.admin_phone).await;
    problem(app.get(&format!("/api/v1/items/{mine_id}"), &stranger_admin).await, 404, "not_found").await;
    let theirs: Value = app.get("/api/v1/items", &stranger_admin).await.json().await.unwrap();
    assert_eq!(theirs["items"], json!([]));
    // Residents without an account reach nothing of the staff API.
    let res = app.client.get(app.url("/api/v1/items")).send().await.unwrap();
    problem(res, 401, "unauthenticated").await;
}

#[tokio::test]
async fn the_poster_leads_to_the_resident_page() {
    let app = spawn_app().await;
    let o = office(&app).await;
    let res = app.get(&format!("/api/v1/venues/{}/resident-poster?format=png", o.venue), &o.admin).await;
    assert_eq!(res.status(), 200);
    let png = res.bytes().await.unwrap();
    let image = image::load_from_memory(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, app.url(&format!("/r/{}", o.venue_code)));
    let page = app.get(&format!("/api/v1/venues/{}/resident-poster?format=html", o.venue), &o.admin).await;
    assert!(page.text().await.unwrap().contains("<svg"));
    problem(app.get(&format!("/api/v1/venues/{}/resident-poster", o.venue), &o.coordinator).await, 403, "forbidden")
        .await;
}

/// Found by fuzzing: a mistyped or mangled link must get the Chinese page, never a server
/// error (a control character once broke the redirect back to the page) and never JSON.
#[tokio::test]
async fn mangled_links_get_the_not_found_page() {
    let app = spawn_app().await;
    let mangled = "%3C%F2%88%AA%92%0F%22x";
    for (path, form) in [
        (format!("/h/{mangled}"), vec![("text", "")]),
        (format!("/r/t/{mangled}/reopen"), vec![("reason", "")]),
        (format!("/r/t/{mangled}/rate"), vec![("satisfaction", "satisfied")]),
    ] {
        let res = no_redirects().post(app.url(&path)).form(&form).send().await.unwrap();
        let status = res.status().as_u16();
        assert!(status == 303 || status == 404, "{path}: {status}");
        if status == 303 {
            let location = res.headers()["location"].to_str().unwrap().to_owned();
            let page = app.client.get(app.url(&location)).send().await.unwrap();
            assert_eq!(page.status(), 404, "{location}");
            assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        }
    }
    for path in ["/h/nosuchlink", "/r/t/ABCD-EFGH", "/r/nosuchstudio"] {
        let page = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(page.status(), 404, "{path}");
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
        assert!(page.text().await.unwrap().contains("没有找到"), "{path}");
    }
}

/// An instance that allows two submissions per address, behind `trusted` proxies.
async fn limited_instance(app: &TestApp, trusted: Option<&str>) -> String {
    let settings = crate::helpers::test_settings_with(
        &app.db.url,
        &[("ZHIBAN_SUBMISSIONS_PER_ADDRESS", Some("2")), ("ZHIBAN_TRUSTED_PROXIES", trusted)],
    );
    crate::helpers::serve(settings).await
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_resident_has_their_own_limit() {
    let app = spawn_app().await;
    let o = office(&app).await;
    let submit = |base: String, forwarded: &'static str, n: usize| {
        let request = app
            .client
            .post(format!("{base}/api/v1/public/items"))
            .header("x-forwarded-for", forwarded)
            .json(&opinion(o.venue_code, &format!("第{n}条意见"), None));
        async move { request.send().await.unwrap().status().as_u16() }
    };

    // The test client is the proxy (127.0.0.1): two residents, two limits.
    let proxied = limited_instance(&app, Some("127.0.0.1")).await;
    let first: Vec<u16> =
        [submit(proxied.clone(), "198.51.100.1", 1).await, submit(proxied.clone(), "198.51.100.1", 2).await].into();
    assert_eq!(first, [201, 201]);
    assert_eq!(submit(proxied.clone(), "198.51.100.1", 3).await, 429);
    assert_eq!(submit(proxied.clone(), "198.51.100.2", 4).await, 201, "another resident behind the proxy");

    // Without trusting it, the header is anybody's to write: changing it changes nothing.
    let direct = limited_instance(&app, None).await;
    assert_eq!(submit(direct.clone(), "203.0.113.1", 5).await, 201);
    assert_eq!(submit(direct.clone(), "203.0.113.2", 6).await, 201);
    assert_eq!(submit(direct, "203.0.113.3", 7).await, 429, "the third from 127.0.0.1, whatever it claims");
}

/// Issue 18: residents write paragraphs. A body, an answer and a note with line breaks (LF or
/// CRLF) are taken and kept as LF; other control characters are still refused; the
/// resident's form chooses no kind for them.
#[tokio::test]
async fn paragraphs_are_taken_wherever_people_write_and_the_form_chooses_no_kind() {
    let app = spawn_app().await;
    let o = office(&app).await;
    let page = app.client.get(app.url(&format!("/r/{}", o.venue_code))).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains(" checked>"), "no kind is preselected: {page}");
    assert!(page.contains("想了解政策") && page.contains("反映身边的问题"), "each kind is explained");

    let res = submit_json(&app, opinion(o.venue_code, "路口的灯坏了。\r\n\r\n晚上很危险。", None)).await;
    assert_eq!(res.status(), 201);
    let code = res.json::<Value>().await.unwrap()["tracking_code"].as_str().unwrap().to_owned();
    let item = item_by_code(&app, &o.coordinator, &code).await;
    assert_eq!(item["body"], "路口的灯坏了。\n\n晚上很危险。");
    let bell = submit_json(&app, opinion(o.venue_code, "响铃\u{7}", None)).await;
    let body = problem(bell, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["reason"], "invalid_characters");

    // The form keeps the paragraphs too.
    let code = submit_form(
        &app,
        o.venue_code,
        &[("kind", "consultation"), ("topic", "其他"), ("body", "第一段\r\n第二段"), ("consent", "true")],
    )
    .await;
    let item = item_by_code(&app, &o.coordinator, &code).await;
    assert_eq!(item["body"], "第一段\n第二段");
    let tracking = app.client.get(app.url(&format!("/r/t/{code}"))).send().await.unwrap().text().await.unwrap();
    assert!(tracking.contains(r#"<p class="text">第一段"#), "shown with its line breaks kept: {tracking}");
}

/// Issue 17, finding 3: a member on duty took a resident's opinion and closed it as not
/// actionable — no tier, no answer, and the resident's page said 已办结. Members close only a
/// consultation they answered or a tier 1 item they hold; anything else is a coordinator's.
#[tokio::test]
async fn a_member_closes_only_what_the_workflow_hands_them() {
    let app = spawn_app_at(november_2026()).await;
    let o = office(&app).await;
    let member =
        app.member(&o.admin, json!({ "name": "值班委员", "phone": o.c.phone(30), "home_venue_id": o.venue })).await;
    duty(&app, o.c.id, o.venue, member, -30, 120).await;
    let t = app.token(&o.c.phone(30)).await;
    let public = |code: String| {
        let app = &app;
        async move {
            let url = app.url(&format!("/api/v1/public/items/{code}"));
            app.client.get(url).send().await.unwrap().json::<Value>().await.unwrap()["state"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let arrive = |body: Value| {
        let (app, t) = (&app, t.clone());
        async move {
            let code = submit_json(app, body).await.json::<Value>().await.unwrap()["tracking_code"]
                .as_str()
                .unwrap()
                .to_owned();
            let inbox: Value = app.get("/api/v1/me/inbox", &t).await.json().await.unwrap();
            let id = inbox[0]["id"].as_i64().unwrap();
            assert_eq!(app.post(&format!("/api/v1/items/{id}/take"), &t, json!({})).await.status(), 200);
            (id, code)
        }
    };
    let close = |id: i64, resolution: &str| {
        let (app, t) = (&app, t.clone());
        let body = json!({ "resolution": resolution });
        async move { app.post(&format!("/api/v1/items/{id}/close"), &t, body).await }
    };

    // The opinion, taken, untriaged and unanswered: not the member's to close.
    let (opinion_id, opinion_code) = arrive(opinion(o.venue_code, "小区门口积水严重", None)).await;
    let refused = problem(close(opinion_id, "not_actionable").await, 403, "close_needs_coordinator").await;
    assert!(refused["title"].as_str().unwrap().contains("coordinator"), "{refused}");
    assert_eq!(public(opinion_code.clone()).await, "received", "the resident's page is not told 已办结");
    // Answered by the member, an opinion still needs a coordinator.
    assert_eq!(
        app.post(&format!("/api/v1/items/{opinion_id}/reply"), &t, json!({ "text": "已记录，转交处理。" }))
            .await
            .status(),
        200
    );
    problem(close(opinion_id, "resolved").await, 403, "close_needs_coordinator").await;
    let res = app
        .post(&format!("/api/v1/items/{opinion_id}/close"), &o.coordinator, json!({ "resolution": "resolved" }))
        .await;
    assert_eq!(res.status(), 200, "a coordinator closes it");

    // A consultation: not before the member answered it; then yes.
    let consultation = json!({ "venue_code": o.venue_code, "kind": "consultation", "topic": "社会保障",
                                "body": "灵活就业怎么交社保？", "consent": true });
    let (consult_id, consult_code) = arrive(consultation).await;
    problem(close(consult_id, "duplicate").await, 403, "close_needs_coordinator").await;
    assert_eq!(
        app.post(&format!("/api/v1/items/{consult_id}/reply"), &t, json!({ "text": "到县社保中心窗口办理。" }))
            .await
            .status(),
        200
    );
    assert_eq!(close(consult_id, "answered").await.status(), 200);
    assert_eq!(public(consult_code).await, "closed");

    // A tier 1 item (即办) the member holds: theirs to close.
    let (easy_id, _) = arrive(opinion(o.venue_code, "路灯不亮了", None)).await;
    let triage = json!({ "importance": "normal", "difficulty": "easy" });
    assert_eq!(app.post(&format!("/api/v1/items/{easy_id}/triage"), &o.coordinator, triage).await.status(), 200);
    assert_eq!(close(easy_id, "not_actionable").await.status(), 200);
    assert_eq!(public(opinion_code).await, "closed");
}
