//! The authorization matrix: every operation of the API document, called by every kind of
//! caller, with the outcome each must get. An operation missing from the table (or a row
//! for one that no longer exists) fails the test, so a new route cannot land unexamined.
//!
//! Outcomes: `U` 401, `F` 403, `N` 404 (ids and secrets of others do not leak), `A` let
//! through (any other answer below 500 — the call may still be refused for its content, as
//! `POST /items` refuses any duty but the caller's own with the same 422, whoever asks).
//! The member is on duty at the venue while the table runs, so the live inbox lets them
//! read, take and answer the venue's items — without the resident's contact.
//! Secrets in paths (tracking codes, referral links, calendar feeds, display devices) are the
//! credential of those routes: the anonymous caller guesses wrong, everyone else has the real
//! one.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::checkin::duty;
use crate::helpers::{TestApp, spawn_app};

/// Callers, in the order of each row's outcome string.
const ACTORS: [&str; 7] = [
    "anonymous",
    "resident",
    "member",
    "coordinator of another venue",
    "coordinator",
    "admin",
    "admin of another committee",
];

enum Body {
    None,
    Json(Value),
    Form(&'static [(&'static str, &'static str)]),
}

/// (method, path in the API document, path called with `{placeholders}`, body, outcomes).
fn matrix() -> Vec<(&'static str, &'static str, &'static str, Body, &'static str)> {
    use Body::{Form, Json, None as Empty};
    vec![
        // Reads first, then writes, then deletions: calls change state as the table runs.
        ("GET", "/health", "/health", Empty, "AAAAAAA"),
        ("GET", "/ready", "/ready", Empty, "AAAAAAA"),
        ("GET", "/metrics", "/metrics", Empty, "AAAAAAA"),
        ("GET", "/api-spec/openapi.json", "/api-spec/openapi.json", Empty, "AAAAAAA"),
        ("GET", "/api/v1/me", "/api/v1/me", Empty, "UUAAAAA"),
        ("GET", "/api/v1/committee", "/api/v1/committee", Empty, "UUAAAAA"),
        ("GET", "/api/v1/calendar/{year}", "/api/v1/calendar/2026", Empty, "UUAAAAN"),
        ("GET", "/api/v1/venues", "/api/v1/venues", Empty, "UUAAAAA"),
        ("GET", "/api/v1/venues/{id}", "/api/v1/venues/{venue}", Empty, "UUAAAAN"),
        ("GET", "/api/v1/venues/{id}/checkin-poster", "/api/v1/venues/{venue}/checkin-poster", Empty, "UUFFFAN"),
        ("GET", "/api/v1/venues/{id}/resident-poster", "/api/v1/venues/{venue}/resident-poster", Empty, "UUFFFAN"),
        ("GET", "/api/v1/venues/{id}/display-code", "/api/v1/venues/{venue}/display-code", Empty, "UUFFAAN"),
        ("GET", "/display/{venue_code}", "/display/authz-a?device={device_token}", Empty, "UAAAAAA"),
        ("GET", "/api/v1/members", "/api/v1/members", Empty, "UUFAAAA"),
        ("GET", "/api/v1/members/{id}", "/api/v1/members/{member}", Empty, "UUAFAAN"),
        ("GET", "/api/v1/me/duties", "/api/v1/me/duties", Empty, "UUAAAAA"),
        ("GET", "/api/v1/me/inbox", "/api/v1/me/inbox", Empty, "UUAAAAA"),
        ("PATCH", "/api/v1/me", "/api/v1/me", Json(json!({ "sms_enabled": true })), "UUAAAAA"),
        ("GET", "/api/v1/me/notices", "/api/v1/me/notices", Empty, "UUAAAAA"),
        ("POST", "/api/v1/me/notices/read-all", "/api/v1/me/notices/read-all", Empty, "UUAAAAA"),
        // Nobody's notice is anybody else's: an id that is not the caller's is not found.
        ("POST", "/api/v1/me/notices/{id}/read", "/api/v1/me/notices/999999999/read", Empty, "UUNNNNN"),
        ("GET", "/api/v1/shift-templates", "/api/v1/shift-templates", Empty, "UUFAAAA"),
        ("GET", "/api/v1/shifts", "/api/v1/shifts", Empty, "UUFAAAA"),
        ("GET", "/api/v1/rosters/{id}", "/api/v1/rosters/{roster}", Empty, "UUFAAAN"),
        ("GET", "/api/v1/swap-requests", "/api/v1/swap-requests", Empty, "UUAAAAA"),
        ("GET", "/api/v1/leave-requests", "/api/v1/leave-requests", Empty, "UUAAAAA"),
        ("GET", "/api/v1/checkins", "/api/v1/checkins", Empty, "UUFAAAA"),
        ("GET", "/api/v1/checkins/unconfirmed", "/api/v1/checkins/unconfirmed", Empty, "UUFAAAA"),
        ("GET", "/api/v1/attendance", "/api/v1/attendance?from=2026-11-01&to=2027-01-31", Empty, "UUFAAAA"),
        ("GET", "/api/v1/items", "/api/v1/items", Empty, "UUFAAAA"),
        ("GET", "/api/v1/items/{id}", "/api/v1/items/{item}", Empty, "UUAFAAN"),
        ("GET", "/api/v1/handling-units", "/api/v1/handling-units", Empty, "UUFAAAA"),
        ("GET", "/api/v1/outbox", "/api/v1/outbox", Empty, "UUFFFAA"),
        // Coordinators of another venue get their own venues' figures; admins of another
        // committee, their committee's.
        ("GET", "/api/v1/stats/members", "/api/v1/stats/members?period=2026-Q4", Empty, "UUFAAAA"),
        ("GET", "/api/v1/stats/venues", "/api/v1/stats/venues?period=2026-Q4&format=csv", Empty, "UUFAAAA"),
        ("GET", "/ical/{file}", "/ical/{ical_file}", Empty, "NAAAAAA"),
        ("GET", "/r/{venue_code}", "/r/authz-a", Empty, "AAAAAAA"),
        ("GET", "/r/t/{code}", "/r/t/{tracking}", Empty, "NAAAAAA"),
        ("GET", "/api/v1/public/items/{tracking_code}", "/api/v1/public/items/{tracking}", Empty, "NAAAAAA"),
        ("GET", "/api/v1/referrals/{token}", "/api/v1/referrals/{referral}", Empty, "NAAAAAA"),
        ("GET", "/h/{token}", "/h/{referral}", Empty, "NAAAAAA"),
        // Writes.
        ("POST", "/api/v1/auth/login", "/api/v1/auth/login", Json(json!({})), "AAAAAAA"),
        ("POST", "/api/v1/auth/refresh", "/api/v1/auth/refresh", Json(json!({ "refresh_token": "spent" })), "UUUUUUU"),
        ("POST", "/api/v1/auth/logout", "/api/v1/auth/logout", Json(json!({ "refresh_token": "spent" })), "AAAAAAA"),
        ("PATCH", "/api/v1/committee", "/api/v1/committee", Json(json!({})), "UUFFFAA"),
        ("PUT", "/api/v1/calendar/{year}", "/api/v1/calendar/2026", Json(json!({})), "UUFFFAA"),
        ("POST", "/api/v1/venues", "/api/v1/venues", Json(json!({})), "UUFFFAA"),
        ("PATCH", "/api/v1/venues/{id}", "/api/v1/venues/{venue}", Json(json!({})), "UUFFFAN"),
        (
            "POST",
            "/api/v1/venues/{id}/display-devices",
            "/api/v1/venues/{venue}/display-devices",
            Json(json!({ "name": "备用平板" })),
            "UUFFFAN",
        ),
        (
            "POST",
            "/api/v1/venues/{id}/rotate-secret",
            "/api/v1/venues/{venue}/rotate-secret",
            Json(json!({})),
            "UUFFFAN",
        ),
        ("POST", "/api/v1/members", "/api/v1/members", Json(json!({})), "UUFFFAA"),
        ("POST", "/api/v1/members/import", "/api/v1/members/import", Json(json!({})), "UUFFFAA"),
        ("PATCH", "/api/v1/members/{id}", "/api/v1/members/{member}", Json(json!({})), "UUFFFAN"),
        ("POST", "/api/v1/shift-templates", "/api/v1/shift-templates", Json(json!({})), "UUFFFAA"),
        ("POST", "/api/v1/rosters/generate", "/api/v1/rosters/generate", Json(json!({})), "UUFAAAA"),
        ("POST", "/api/v1/rosters/{id}/publish", "/api/v1/rosters/{roster}/publish", Json(json!({})), "UUFFAAN"),
        (
            "PATCH",
            "/api/v1/shifts/{id}/assignments",
            "/api/v1/shifts/{shift}/assignments",
            Json(json!({ "action": "lock", "member_id": "{member}", "reason": "核对" })),
            "UUFFAAN",
        ),
        ("POST", "/api/v1/swap-requests", "/api/v1/swap-requests", Json(json!({})), "UUAAAAA"),
        // The member offered {swap} to the pool: the member may not take their own offer.
        (
            "POST",
            "/api/v1/swap-requests/{id}/accept",
            "/api/v1/swap-requests/{swap}/accept",
            Json(json!({})),
            "UUFAAAN",
        ),
        (
            "POST",
            "/api/v1/swap-requests/{id}/approve",
            "/api/v1/swap-requests/{swap}/approve",
            Json(json!({})),
            "UUFFAAN",
        ),
        (
            "POST",
            "/api/v1/swap-requests/{id}/reject",
            "/api/v1/swap-requests/{swap}/reject",
            Json(json!({})),
            "UUFFAAN",
        ),
        // Only the two colleagues withdraw; by now the request is decided, so the member's
        // call reaches its 409.
        (
            "POST",
            "/api/v1/swap-requests/{id}/cancel",
            "/api/v1/swap-requests/{swap}/cancel",
            Json(json!({})),
            "UUAFFFN",
        ),
        ("POST", "/api/v1/leave-requests", "/api/v1/leave-requests", Json(json!({})), "UUAAAAA"),
        (
            "POST",
            "/api/v1/leave-requests/{id}/approve",
            "/api/v1/leave-requests/{leave}/approve",
            Json(json!({})),
            "UUFFAAN",
        ),
        (
            "POST",
            "/api/v1/leave-requests/{id}/reject",
            "/api/v1/leave-requests/{leave}/reject",
            Json(json!({})),
            "UUFFAAN",
        ),
        // Only the member who asked withdraws.
        (
            "POST",
            "/api/v1/leave-requests/{id}/cancel",
            "/api/v1/leave-requests/{leave}/cancel",
            Json(json!({})),
            "UUAFFFN",
        ),
        ("POST", "/api/v1/me/calendar-feed", "/api/v1/me/calendar-feed", Json(json!({})), "UUAAAAA"),
        ("POST", "/api/v1/checkins", "/api/v1/checkins", Json(json!({})), "UUAAAAA"),
        ("POST", "/api/v1/checkins/batch", "/api/v1/checkins/batch", Json(json!({})), "UUAAAAA"),
        (
            "POST",
            "/api/v1/checkins/manual",
            "/api/v1/checkins/manual",
            Json(json!({ "assignment_id": "{other_duty}", "reason": "联络员代签" })),
            "UUFFAAN",
        ),
        // {checkin} was recorded by hand: it needs no review, so those let through get 409.
        (
            "POST",
            "/api/v1/checkins/{id}/confirm",
            "/api/v1/checkins/{checkin}/confirm",
            Json(json!({ "note": "有接待记录" })),
            "UUFFAAN",
        ),
        (
            "POST",
            "/api/v1/checkins/{id}/refuse",
            "/api/v1/checkins/{checkin}/refuse",
            Json(json!({ "reason": "未到场" })),
            "UUFFAAN",
        ),
        ("POST", "/api/v1/checkins/{id}/checkout", "/api/v1/checkins/{checkin}/checkout", Json(json!({})), "UUANNNN"),
        (
            "POST",
            "/api/v1/items",
            "/api/v1/items",
            Json(json!({ "assignment_id": "{duty}", "kind": "consultation", "topic": "社保", "body": "咨询医保报销" })),
            "UUAAAAA",
        ),
        ("POST", "/api/v1/items/{id}/take", "/api/v1/items/{item}/take", Json(json!({})), "UUANFFN"),
        (
            "POST",
            "/api/v1/items/{id}/reply",
            "/api/v1/items/{item}/reply",
            Json(json!({ "text": "已转相关部门" })),
            "UUAFAAN",
        ),
        (
            "POST",
            "/api/v1/items/{id}/triage",
            "/api/v1/items/{item}/triage",
            Json(json!({ "importance": "normal", "difficulty": "easy" })),
            "UUFFAAN",
        ),
        (
            "POST",
            "/api/v1/items/{id}/refer",
            "/api/v1/items/{item}/refer",
            Json(json!({ "handling_unit_id": "{unit}" })),
            "UUFFAAN",
        ),
        (
            "POST",
            "/api/v1/items/{id}/close",
            "/api/v1/items/{item}/close",
            Json(json!({ "resolution": "resolved" })),
            "UUFFAAN",
        ),
        (
            "POST",
            "/api/v1/items/{id}/reopen",
            "/api/v1/items/{item}/reopen",
            Json(json!({ "reason": "未解决" })),
            "UUFFAAN",
        ),
        (
            "POST",
            "/api/v1/items/{id}/follow-up",
            "/api/v1/items/{item}/follow-up",
            Json(json!({ "note": "回头看" })),
            "UUFFAAN",
        ),
        ("POST", "/api/v1/handling-units", "/api/v1/handling-units", Json(json!({})), "UUFFFAA"),
        ("PATCH", "/api/v1/handling-units/{id}", "/api/v1/handling-units/{unit}", Json(json!({})), "UUFFFAN"),
        ("POST", "/api/v1/outbox/{id}/retry", "/api/v1/outbox/{outbox}/retry", Json(json!({})), "UUFFFAN"),
        (
            "POST",
            "/api/v1/public/items",
            "/api/v1/public/items",
            Json(
                json!({ "venue_code": "authz-a", "kind": "opinion", "topic": "环境", "body": "河道有垃圾", "consent": true }),
            ),
            "AAAAAAA",
        ),
        (
            "POST",
            "/api/v1/public/items/{tracking_code}/rating",
            "/api/v1/public/items/{tracking}/rating",
            Json(json!({ "satisfaction": "satisfied" })),
            "NAAAAAA",
        ),
        (
            "POST",
            "/api/v1/public/items/{tracking_code}/reopen",
            "/api/v1/public/items/{tracking}/reopen",
            Json(json!({ "reason": "没有回音" })),
            "NAAAAAA",
        ),
        (
            "POST",
            "/api/v1/referrals/{token}/reply",
            "/api/v1/referrals/{referral}/reply",
            Json(json!({ "text": "已处理" })),
            "NAAAAAA",
        ),
        ("POST", "/h/{token}", "/h/{referral}", Form(&[("text", "已安排清理")]), "NAAAAAA"),
        (
            "POST",
            "/r/{venue_code}",
            "/r/authz-a",
            Form(&[("kind", "opinion"), ("topic", "环境"), ("body", "路灯不亮"), ("consent", "true"), ("website", "")]),
            "AAAAAAA",
        ),
        ("POST", "/r/t/{code}/rate", "/r/t/{tracking}/rate", Form(&[("satisfaction", "satisfied")]), "NAAAAAA"),
        ("POST", "/r/t/{code}/reopen", "/r/t/{tracking}/reopen", Form(&[("reason", "没有回音")]), "NAAAAAA"),
        // Deletions last.
        ("DELETE", "/api/v1/me/calendar-feed", "/api/v1/me/calendar-feed", Empty, "UUAAAAA"),
        ("DELETE", "/api/v1/display-devices/{id}", "/api/v1/display-devices/{device}", Empty, "UUFFFAN"),
    ]
}

struct Fixture {
    vars: BTreeMap<&'static str, String>,
    /// Bearer tokens by actor (none for the anonymous caller and the resident).
    tokens: [Option<String>; 7],
}

/// Placeholders whose value is a secret: the anonymous caller gets a wrong one.
const SECRETS: [&str; 4] = ["tracking", "referral", "ical_file", "device_token"];

async fn fixture(app: &TestApp) -> Fixture {
    let c = app.committee("authz", "51").await;
    let admin = app.token(&c.admin_phone).await;
    let official: Value = serde_json::from_str(zhiban::calendar::CHINA_2026_JSON).unwrap();
    assert_eq!(app.put("/api/v1/calendar/2026", &admin, official).await.status(), 200);
    let venue = app.venue(&admin, "authz-a", "甲工作室").await;
    let other_venue = app.venue(&admin, "authz-b", "乙工作室").await;
    let coordinator = |n: u32, v: i64| json!({ "name": format!("联络员{n}"), "phone": c.phone(n), "roles": ["coordinator"], "coordinator_venue_ids": [v] });
    app.member(&admin, coordinator(1, venue)).await;
    app.member(&admin, coordinator(2, other_venue)).await;
    let member = app.member(&admin, json!({ "name": "甲委员", "phone": c.phone(3), "home_venue_id": venue })).await;
    let colleague = app.member(&admin, json!({ "name": "乙委员", "phone": c.phone(4), "home_venue_id": venue })).await;
    let member_token = app.token(&c.phone(3)).await;
    let other = app.committee("authz-other", "52").await;
    let other_admin = app.token(&other.admin_phone).await;

    // Duties: the member's under way, a colleague's under way, the member's next week.
    let duty_now = duty(app, c.id, venue, member, -30, 120).await;
    let other_duty = duty(app, c.id, venue, colleague, -30, 120).await;
    let later = duty(app, c.id, venue, member, 60 * 24 * 7, 60 * 24 * 7 + 120).await;
    let pool = app.pool.clone();
    let (shift, roster) = tokio::task::spawn_blocking(move || {
        use zhiban::schema::{assignments, shifts};
        assignments::table
            .inner_join(shifts::table)
            .filter(assignments::id.eq(duty_now))
            .select((shifts::id, shifts::roster_id))
            .first::<(i64, i64)>(&mut pool.get().unwrap())
            .unwrap()
    })
    .await
    .unwrap();
    let created = |res: reqwest::Response| async move {
        assert!(res.status().is_success(), "fixture: {}", res.status());
        res.json::<Value>().await.unwrap()
    };
    let checkin = created(
        app.post("/api/v1/checkins/manual", &admin, json!({ "assignment_id": duty_now, "reason": "补录" })).await,
    )
    .await["id"]
        .clone();
    let swap = created(app.post("/api/v1/swap-requests", &member_token, json!({ "assignment_id": later })).await).await
        ["id"]
        .clone();
    let leave = created(
        app.post(
            "/api/v1/leave-requests",
            &member_token,
            json!({ "date_from": "2027-03-01", "date_to": "2027-03-02" }),
        )
        .await,
    )
    .await["id"]
        .clone();
    let feed = created(app.post("/api/v1/me/calendar-feed", &member_token, json!({})).await).await;
    let ical_file = feed["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let device = created(
        app.post(&format!("/api/v1/venues/{venue}/display-devices"), &admin, json!({ "name": "大厅平板" })).await,
    )
    .await;
    let unit = created(
        app.post("/api/v1/handling-units", &admin, json!({ "name": "甲镇人民政府", "kind": "township_government" }))
            .await,
    )
    .await["id"]
        .clone();

    // A resident's item, triaged and referred: its tracking code and the unit's link.
    let submitted = app
        .client
        .post(app.url("/api/v1/public/items"))
        .json(&json!({ "venue_code": "authz-a", "kind": "opinion", "topic": "交通出行", "body": "路口缺红绿灯",
                       "phone": "13912345678", "consent": true }))
        .send()
        .await
        .unwrap();
    let tracking = created(submitted).await["tracking_code"].as_str().unwrap().to_owned();
    let items = created(app.get(&format!("/api/v1/items?venue_id={venue}"), &admin).await).await;
    let item = items["items"][0]["id"].clone();
    let triage = json!({ "importance": "important", "difficulty": "hard" });
    created(app.post(&format!("/api/v1/items/{item}/triage"), &admin, triage).await).await;
    let referred =
        created(app.post(&format!("/api/v1/items/{item}/refer"), &admin, json!({ "handling_unit_id": unit })).await)
            .await;
    let seen = app.get(&format!("/api/v1/items/{item}"), &member_token).await.text().await.unwrap();
    assert!(seen.contains("路口缺红绿灯") && !seen.contains("13912345678"), "members on duty never see the phone");
    let referral = referred["link"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let outbox = created(app.get("/api/v1/outbox", &admin).await).await["items"][0]["id"].clone();
    assert!(outbox.is_i64(), "fixture: a notification is waiting");

    let vars = BTreeMap::from([
        ("venue", venue.to_string()),
        ("member", member.to_string()),
        ("duty", duty_now.to_string()),
        ("other_duty", other_duty.to_string()),
        ("shift", shift.to_string()),
        ("roster", roster.to_string()),
        ("checkin", checkin.to_string()),
        ("swap", swap.to_string()),
        ("leave", leave.to_string()),
        ("unit", unit.to_string()),
        ("item", item.to_string()),
        ("outbox", outbox.to_string()),
        ("device", device["id"].to_string()),
        ("device_token", device["token"].as_str().unwrap().to_owned()),
        ("ical_file", ical_file),
        ("tracking", tracking),
        ("referral", referral),
    ]);
    let tokens = [
        None,
        None,
        Some(member_token),
        Some(app.token(&c.phone(2)).await),
        Some(app.token(&c.phone(1)).await),
        Some(admin),
        Some(other_admin),
    ];
    Fixture { vars, tokens }
}

fn fill(template: &str, vars: &BTreeMap<&'static str, String>, anonymous: bool) -> String {
    let mut out = template.to_owned();
    for (name, value) in vars {
        let value = if anonymous && SECRETS.contains(name) { "Guessed0Wrong9" } else { value.as_str() };
        out = out.replace(&format!("{{{name}}}"), value);
    }
    assert!(!out.contains('{'), "unfilled placeholder in {out}");
    out
}

/// Fills placeholders inside a JSON body; a value that is all digits becomes a number.
fn fill_json(body: &Value, vars: &BTreeMap<&'static str, String>) -> Value {
    match body {
        Value::String(s) if s.starts_with('{') => {
            let filled = fill(s, vars, false);
            filled.parse::<i64>().map(Value::from).unwrap_or(Value::String(filled))
        }
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), fill_json(v, vars))).collect()),
        other => other.clone(),
    }
}

fn outcome(status: u16) -> char {
    match status {
        401 => 'U',
        403 => 'F',
        404 => 'N',
        _ => 'A',
    }
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_matrix_says() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let table = matrix();

    // The table covers exactly the operations of the API document.
    let spec: Value = serde_json::from_str(&zhiban::openapi::document_json()).unwrap();
    let documented: BTreeSet<(String, String)> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |m| (m.to_uppercase(), path.clone())))
        .filter(|(m, _)| ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()))
        .collect();
    let tabled: BTreeSet<(String, String)> = table.iter().map(|r| (r.0.to_owned(), r.1.to_owned())).collect();
    assert_eq!(tabled.len(), table.len(), "one row per operation");
    let missing: Vec<_> = documented.difference(&tabled).collect();
    let stale: Vec<_> = tabled.difference(&documented).collect();
    assert!(missing.is_empty() && stale.is_empty(), "add to the matrix: {missing:?}; no such operation: {stale:?}");

    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut wrong = Vec::new();
    for (method, documented_path, path, body, expected) in &table {
        let mut got = String::new();
        for (actor, token) in f.tokens.iter().enumerate() {
            let url = app.url(&fill(path, &f.vars, actor == 0));
            let mut req = client.request(method.parse().unwrap(), url);
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            req = match body {
                Body::None => req,
                Body::Json(v) => req.json(&fill_json(v, &f.vars)),
                Body::Form(fields) => req.form(fields),
            };
            let status = req.send().await.unwrap().status().as_u16();
            assert!(status < 500, "{method} {documented_path} as {}: {status}", ACTORS[actor]);
            got.push(outcome(status));
        }
        if got != *expected {
            let who: Vec<String> = expected
                .chars()
                .zip(got.chars())
                .zip(ACTORS)
                .filter(|((e, g), _)| e != g)
                .map(|((e, g), a)| format!("{a}: expected {e}, got {g}"))
                .collect();
            wrong.push(format!("{method} {documented_path} {got} ({})", who.join("; ")));
        }
    }
    assert!(wrong.is_empty(), "{} operation(s) answer otherwise:\n{}", wrong.len(), wrong.join("\n"));
}

/// An account whose sessions were ended (issue 17): the demoted coordinator's and the
/// deactivated member's old access tokens open nothing that needs a token. Every operation of
/// the matrix that answers the anonymous caller 401 for want of a token (not of a secret in
/// the path, such as a display's device token) answers them 401 too.
#[tokio::test]
async fn ended_sessions_open_no_route_of_the_matrix() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let admin = f.tokens[5].clone().unwrap();
    let (member, coordinator) = (f.tokens[2].clone().unwrap(), f.tokens[4].clone().unwrap());
    let coordinator_id = app.get("/api/v1/me", &coordinator).await.json::<Value>().await.unwrap()["id"].clone();
    let demote = app.patch(&format!("/api/v1/members/{coordinator_id}"), &admin, json!({ "roles": ["member"] })).await;
    assert_eq!(demote.status(), 200);
    let member_path = format!("/api/v1/members/{}", f.vars["member"]);
    assert_eq!(app.patch(&member_path, &admin, json!({ "active": false })).await.status(), 200);

    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut wrong = Vec::new();
    let needs_a_token =
        |row: &&(_, _, &str, _, &str)| row.4.starts_with('U') && !SECRETS.iter().any(|s| row.2.contains(s));
    for (method, documented_path, path, body, expected) in matrix().iter().filter(needs_a_token) {
        for (who, token) in [("demoted coordinator", &coordinator), ("deactivated member", &member)] {
            let mut req = client.request(method.parse().unwrap(), app.url(&fill(path, &f.vars, false)));
            req = match body {
                Body::None => req,
                Body::Json(v) => req.json(&fill_json(v, &f.vars)),
                Body::Form(fields) => req.form(fields),
            };
            let status = req.bearer_auth(token).send().await.unwrap().status().as_u16();
            if status != 401 {
                wrong.push(format!("{method} {documented_path} as the {who}: {status} (row {expected})"));
            }
        }
    }
    assert!(wrong.is_empty(), "{} call(s) let an ended session through:\n{}", wrong.len(), wrong.join("\n"));
}

/// Issue 17, finding 10: one member's read follows the member list's rule. A coordinator
/// reads the members of their venues and the roving pool — not the office's account, not
/// another coordinator's (404, as the list does not show them), not a member of another venue
/// (403) — and sees others' coordinator venues only among their own.
#[tokio::test]
async fn a_member_is_read_as_the_member_list_shows_them() {
    let app = spawn_app().await;
    let c = app.committee("staff", "53").await;
    let admin = app.token(&c.admin_phone).await;
    let (a, b) = (app.venue(&admin, "staff-a", "甲工作室").await, app.venue(&admin, "staff-b", "乙工作室").await);
    let coordinator = |n: u32, venues: Vec<i64>| json!({ "name": format!("联络员{n}"), "phone": c.phone(n), "roles": ["coordinator"], "coordinator_venue_ids": venues });
    app.member(&admin, coordinator(1, vec![a])).await;
    let coordinator_b = app.member(&admin, coordinator(2, vec![b])).await;
    let member =
        |n: u32, home: Option<i64>| json!({ "name": format!("委员{n}"), "phone": c.phone(n), "home_venue_id": home });
    app.member(&admin, member(3, Some(a))).await;
    let home_a = app.member(&admin, member(4, Some(a))).await;
    let home_b = app.member(&admin, member(5, Some(b))).await;
    let roving = app.member(&admin, member(6, None)).await;
    // A member of studio A who also coordinates both studios.
    let both = app
        .member(
            &admin,
            json!({ "name": "委员兼联络员", "phone": c.phone(7), "home_venue_id": a, "roles": ["member", "coordinator"],
                    "coordinator_venue_ids": [a, b] }),
        )
        .await;
    let other = app.committee("staff-other", "54").await;
    let tokens = [
        app.token(&c.phone(3)).await,
        app.token(&c.phone(1)).await,
        admin.clone(),
        app.token(&other.admin_phone).await,
    ];
    // Callers: member of A, coordinator of A, admin, admin of another committee.
    let table = [
        ("the office's account", c.admin_id, "FNAN"),
        ("another venue's coordinator", coordinator_b, "FNAN"),
        ("a member of another venue", home_b, "FFAN"),
        ("a member of the venue", home_a, "FAAN"),
        ("a roving member", roving, "FAAN"),
        ("a member of the venue coordinating two", both, "FAAN"),
    ];
    let mut wrong = Vec::new();
    for (what, id, expected) in table {
        let mut got = String::new();
        for token in &tokens {
            got.push(outcome(app.get(&format!("/api/v1/members/{id}"), token).await.status().as_u16()));
        }
        if got != expected {
            wrong.push(format!("{what}: expected {expected}, got {got}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // The list shows the coordinator exactly the accounts they may read one by one.
    let listed: Value = app.get("/api/v1/members?limit=200", &tokens[1]).await.json().await.unwrap();
    let listed: BTreeSet<i64> = listed["items"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    let me = app.get("/api/v1/me", &tokens[1]).await.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let member_3 = app.get("/api/v1/me", &tokens[0]).await.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(listed, BTreeSet::from([member_3, home_a, roving, both]), "and not themself ({me}) as staff");
    // Of the member who coordinates two studios, the coordinator of A learns only A.
    let read = |token: String| {
        let app = &app;
        async move {
            let v: Value = app.get(&format!("/api/v1/members/{both}"), &token).await.json().await.unwrap();
            v["coordinator_venue_ids"].clone()
        }
    };
    assert_eq!(read(tokens[1].clone()).await, json!([a]));
    assert_eq!(read(admin.clone()).await, json!([a, b]));
    let in_list: Value = app.get(&format!("/api/v1/members?venue_id={a}"), &tokens[1]).await.json().await.unwrap();
    let entry = in_list["items"].as_array().unwrap().iter().find(|m| m["id"] == both).unwrap().clone();
    assert_eq!(entry["coordinator_venue_ids"], json!([a]));
}
