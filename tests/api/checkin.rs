//! QR check-in end to end: codes from the real display endpoint (and decoded from its PNG),
//! every outcome, nonce replay, offline batches, concurrency, attendance.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use zhiban::schema::{assignments, leave_requests, rosters, shifts, venues};

use crate::helpers::{TestApp, TestCommittee, problem, spawn_app};

struct Site {
    c: TestCommittee,
    admin: String,
    venue: i64,
    other_venue: i64,
    member: i64,
    member_token: String,
}

async fn site(app: &TestApp) -> Site {
    let c = app.committee("scan", "57").await;
    let admin = app.token(&c.admin_phone).await;
    let venue = app.venue(&admin, "scan-a", "甲工作室").await;
    let other_venue = app.venue(&admin, "scan-b", "乙工作室").await;
    let res = app
        .patch(
            &format!("/api/v1/venues/{venue}"),
            &admin,
            json!({ "location": { "latitude": 27.6617, "longitude": 120.5650, "radius_m": 200 } }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let member = app.member(&admin, json!({ "name": "扫码委员", "phone": c.phone(1), "home_venue_id": venue })).await;
    let member_token = app.token(&c.phone(1)).await;
    Site { c, admin, venue, other_venue, member, member_token }
}

/// A published one-shift roster at `venue` from `start` to `end` minutes from now, with
/// `member` on it; returns the assignment id. Written directly: these tests are about
/// check-in, not generation, and need shifts relative to the server's clock.
pub async fn duty(app: &TestApp, committee_id: i64, venue: i64, member: i64, start: i64, end: i64) -> i64 {
    let pool = app.pool.clone();
    let now = app.clock.now_naive();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        let (starts, ends) = (now + Duration::minutes(start), now + Duration::minutes(end));
        // Stored as real rosters store them: local date and times in the committee's zone.
        let local = |t: chrono::NaiveDateTime| t.and_utc().with_timezone(&chrono_tz::Asia::Shanghai).naive_local();
        let today = local(starts).date();
        let template: i64 = diesel::insert_into(zhiban::schema::shift_templates::table)
            .values((
                zhiban::schema::shift_templates::committee_id.eq(committee_id),
                zhiban::schema::shift_templates::venue_id.eq(venue),
                zhiban::schema::shift_templates::name.eq("测试班"),
                zhiban::schema::shift_templates::kind.eq("custom"),
                zhiban::schema::shift_templates::rrule.eq("FREQ=DAILY"),
                zhiban::schema::shift_templates::start_time.eq(chrono::NaiveTime::MIN),
                zhiban::schema::shift_templates::end_time.eq(chrono::NaiveTime::from_hms_opt(23, 0, 0).unwrap()),
                zhiban::schema::shift_templates::head_min.eq(1),
                zhiban::schema::shift_templates::head_max.eq(3),
                zhiban::schema::shift_templates::head_target.eq(1),
                zhiban::schema::shift_templates::holiday_policy.eq("keep"),
                zhiban::schema::shift_templates::created_at.eq(now),
                zhiban::schema::shift_templates::updated_at.eq(now),
            ))
            .returning(zhiban::schema::shift_templates::id)
            .get_result(&mut conn)
            .unwrap();
        let roster: i64 = diesel::insert_into(rosters::table)
            .values((
                rosters::committee_id.eq(committee_id),
                rosters::period_from.eq(today),
                rosters::period_to.eq(today),
                rosters::status.eq("published"),
                rosters::created_at.eq(now),
                rosters::updated_at.eq(now),
            ))
            .returning(rosters::id)
            .get_result(&mut conn)
            .unwrap();
        let shift: i64 = diesel::insert_into(shifts::table)
            .values((
                shifts::committee_id.eq(committee_id),
                shifts::roster_id.eq(roster),
                shifts::template_id.eq(template),
                shifts::venue_id.eq(venue),
                shifts::local_date.eq(today),
                shifts::start_time.eq(local(starts).time()),
                shifts::end_time.eq(local(ends).time()),
                shifts::starts_at.eq(starts),
                shifts::ends_at.eq(ends),
                shifts::head_min.eq(1),
                shifts::head_max.eq(3),
            ))
            .returning(shifts::id)
            .get_result(&mut conn)
            .unwrap();
        diesel::insert_into(assignments::table)
            .values((
                assignments::committee_id.eq(committee_id),
                assignments::shift_id.eq(shift),
                assignments::member_id.eq(member),
                assignments::role.eq("lead"),
                assignments::source.eq("manual"),
                assignments::reason.eq("测试"),
                assignments::created_at.eq(now),
            ))
            .returning(assignments::id)
            .get_result(&mut conn)
            .unwrap()
    })
    .await
    .unwrap()
}

async fn current_payload(app: &TestApp, admin: &str, venue: i64) -> String {
    let code: Value = app.get(&format!("/api/v1/venues/{venue}/display-code"), admin).await.json().await.unwrap();
    code["payload"].as_str().unwrap().to_owned()
}

pub async fn secret_of(app: &TestApp, venue: i64) -> (String, String, i32) {
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        let (code, secret, version): (String, Option<String>, i32) = venues::table
            .find(venue)
            .select((venues::code, venues::checkin_secret, venues::checkin_secret_version))
            .first(&mut conn)
            .unwrap();
        (code, secret.expect("secret made by the display endpoint"), version)
    })
    .await
    .unwrap()
}

fn nonce() -> String {
    zhiban::auth::tokens::random_token()[..24].to_owned()
}

pub async fn scan(app: &TestApp, token: &str, payload: &str, location: Option<(f64, f64)>) -> Value {
    scan_with(app, token, payload, &nonce(), location).await
}

async fn scan_with(app: &TestApp, token: &str, payload: &str, nonce: &str, location: Option<(f64, f64)>) -> Value {
    let location = location.map(|(la, lo)| json!({ "latitude": la, "longitude": lo }));
    let body =
        json!({ "payload": payload, "nonce": nonce, "scanned_at": app.clock.now().to_rfc3339(), "location": location });
    let res = app.post("/api/v1/checkins", token, body).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_code_read_back_from_the_png_checks_in_once() {
    let app = spawn_app().await;
    let s = site(&app).await;
    let assignment = duty(&app, s.c.id, s.venue, s.member, -10, 120).await;

    // The display's PNG, decoded by an independent QR decoder, is a payload the server accepts.
    let png =
        app.get(&format!("/api/v1/venues/{}/display-code?format=png", s.venue), &s.admin).await.bytes().await.unwrap();
    let image = image::load_from_memory(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, decoded) = grids[0].decode().unwrap();
    // The QR holds the member pages' address of the code; the API takes it as the payload.
    assert!(decoded.starts_with(&format!("{}/m/c/ZB1.scan-a.", app.address)), "{decoded}");

    let n = nonce();
    let first = scan_with(&app, &s.member_token, &decoded, &n, None).await;
    assert_eq!(first["outcome"], "ok", "{first}");
    assert_eq!(first["duty"]["assignment_id"], assignment);
    assert_eq!(first["late"], false);
    assert_eq!(first["assurance"], "high");
    // Same nonce: the same answer, not a second judgement.
    assert_eq!(scan_with(&app, &s.member_token, &decoded, &n, None).await, first);
    // A new scan of the same duty: already checked in, same check-in.
    let again = scan(&app, &s.member_token, &current_payload(&app, &s.admin, s.venue).await, None).await;
    assert_eq!(again["outcome"], "already_checked_in");
    assert_eq!(again["checkin_id"], first["checkin_id"]);
}

#[tokio::test]
async fn every_failure_has_its_outcome_and_is_stored() {
    let app = spawn_app().await;
    let s = site(&app).await;
    let payload = current_payload(&app, &s.admin, s.venue).await;

    // No duty at all.
    assert_eq!(scan(&app, &s.member_token, &payload, None).await["outcome"], "no_duty");
    // A duty later today, not yet open (opens 60 minutes before).
    duty(&app, s.c.id, s.venue, s.member, 180, 300).await;
    assert_eq!(scan(&app, &s.member_token, &payload, None).await["outcome"], "outside_window");
    // On duty elsewhere right now.
    duty(&app, s.c.id, s.other_venue, s.member, -5, 60).await;
    assert_eq!(scan(&app, &s.member_token, &payload, None).await["outcome"], "wrong_venue");
    // Garbage, a forged signature, another step's code.
    assert_eq!(scan(&app, &s.member_token, "hello", None).await["outcome"], "invalid_code");
    let forged = format!("{}x", &payload[..payload.len() - 1]);
    assert_eq!(scan(&app, &s.member_token, &forged, None).await["outcome"], "invalid_code");
    let (code, secret, version) = secret_of(&app, s.venue).await;
    let step = zhiban::checkin::code::step_of(Utc::now().timestamp());
    let old = zhiban::checkin::code::display_code(secret.as_bytes(), &code, version, step - 2);
    assert_eq!(scan(&app, &s.member_token, &old, None).await["outcome"], "expired_code");
    let previous = zhiban::checkin::code::display_code(secret.as_bytes(), &code, version, step - 1);
    assert_eq!(
        scan(&app, &s.member_token, &previous, None).await["outcome"],
        "wrong_venue",
        "previous step still valid"
    );

    // Rotating the secret revokes every earlier code.
    let res = app.post(&format!("/api/v1/venues/{}/rotate-secret", s.venue), &s.admin, json!({})).await;
    assert_eq!(res.json::<Value>().await.unwrap()["version"], version + 1);
    assert_eq!(scan(&app, &s.member_token, &payload, None).await["outcome"], "revoked");

    // A code of another committee's venue is just an invalid code.
    let other = app.committee("else", "56").await;
    let other_admin = app.token(&other.admin_phone).await;
    let foreign_venue = app.venue(&other_admin, "else-a", "外委工作室").await;
    let foreign = current_payload(&app, &other_admin, foreign_venue).await;
    assert_eq!(scan(&app, &s.member_token, &foreign, None).await["outcome"], "invalid_code");

    let pool = app.pool.clone();
    let stored: Vec<(String, String)> = tokio::task::spawn_blocking(move || {
        use zhiban::schema::checkin_attempts as a;
        a::table.order(a::id).select((a::outcome, a::raw_payload)).load(&mut pool.get().unwrap()).unwrap()
    })
    .await
    .unwrap();
    let outcomes: Vec<&str> = stored.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(
        outcomes,
        vec![
            "no_duty",
            "outside_window",
            "wrong_venue",
            "invalid_code",
            "invalid_code",
            "expired_code",
            "wrong_venue",
            "revoked",
            "invalid_code"
        ]
    );
    assert_eq!(stored[3].1, "hello", "the raw payload is kept");

    let bad = app
        .post(
            "/api/v1/checkins",
            &s.member_token,
            json!({ "payload": "x", "nonce": "short", "scanned_at": Utc::now() }),
        )
        .await;
    problem(bad, 422, "validation_failed").await;
}

#[tokio::test]
async fn poster_codes_need_the_phone_inside_the_radius() {
    let app = spawn_app().await;
    let s = site(&app).await;
    duty(&app, s.c.id, s.venue, s.member, 20, 120).await; // opens 60 minutes before: open now
    let poster = app
        .get(&format!("/api/v1/venues/{}/checkin-poster?format=png", s.venue), &s.admin)
        .await
        .bytes()
        .await
        .unwrap();
    let mut prepared = rqrr::PreparedImage::prepare(image::load_from_memory(&poster).unwrap().to_luma8());
    let (_, payload) = prepared.detect_grids()[0].decode().unwrap();
    assert!(payload.starts_with(&format!("{}/m/c/ZBP1.scan-a.", app.address)), "{payload}");

    assert_eq!(scan(&app, &s.member_token, &payload, None).await["outcome"], "outside_geofence");
    let far = scan(&app, &s.member_token, &payload, Some((27.6717, 120.5650))).await; // ~1.1 km
    assert_eq!(far["outcome"], "outside_geofence");
    let near = scan(&app, &s.member_token, &payload, Some((27.6620, 120.5652))).await;
    assert_eq!(near["outcome"], "ok", "{near}");
    assert_eq!(near["assurance"], "low");
}

#[tokio::test]
async fn offline_batches_are_judged_at_scan_time() {
    let app = spawn_app().await;
    let s = site(&app).await;
    let assignment = duty(&app, s.c.id, s.venue, s.member, -20, 120).await;
    current_payload(&app, &s.admin, s.venue).await; // creates the venue secret
    let (code, secret, version) = secret_of(&app, s.venue).await;
    let at = |minutes_ago: i64| Utc::now() - Duration::minutes(minutes_ago);
    let code_at = |t: chrono::DateTime<Utc>| {
        zhiban::checkin::code::display_code(
            secret.as_bytes(),
            &code,
            version,
            zhiban::checkin::code::step_of(t.timestamp()),
        )
    };
    let ten_ago = at(10);
    let dup = nonce();
    // The venue has a geofence: offline scans carry the phone's location.
    let here = json!({ "latitude": 27.6620, "longitude": 120.5652 });
    let scans = json!({ "scans": [
        { "payload": code_at(ten_ago), "nonce": dup, "scanned_at": ten_ago, "location": here },
        { "payload": code_at(ten_ago), "nonce": dup, "scanned_at": ten_ago, "location": here },
        { "payload": code_at(at(73 * 60)), "nonce": nonce(), "scanned_at": at(73 * 60), "location": here },
        { "payload": code_at(at(20)), "nonce": nonce(), "scanned_at": ten_ago, "location": here },
    ]});
    let res = app.post("/api/v1/checkins/batch", &s.member_token, scans).await;
    assert_eq!(res.status(), 200);
    let results: Vec<Value> = res.json().await.unwrap();
    assert_eq!(results[0]["outcome"], "ok");
    assert_eq!(results[0]["offline"], true);
    assert_eq!(results[0]["late_upload"], true);
    assert_eq!(results[0]["late"], false, "scanned 10 minutes after the start: on time");
    assert_eq!(results[0]["duty"]["assignment_id"], assignment);
    assert_eq!(results[0]["assurance"], "low", "an offline upload is not a live scan");
    assert_eq!(results[0]["review"], "pending");
    assert_eq!(results[1], results[0], "duplicate entry, same nonce, same answer");
    assert_eq!(results[2]["outcome"], "upload_too_old");
    assert_eq!(results[3]["outcome"], "expired_code", "a code from 20 minutes ago scanned 10 minutes ago");

    let res = app.post("/api/v1/checkins/batch", &s.member_token, json!({ "scans": [] })).await;
    problem(res, 422, "validation_failed").await;
}

#[tokio::test]
async fn concurrent_scans_leave_exactly_one_checkin() {
    let app = spawn_app().await;
    let s = site(&app).await;
    let second = app.another_instance().await;
    for _ in 0..5 {
        let assignment = duty(&app, s.c.id, s.venue, s.member, -5, 1).await;
        let payload = current_payload(&app, &s.admin, s.venue).await;
        let body = |n: String| json!({ "payload": payload, "nonce": n, "scanned_at": Utc::now() });
        let (a, b) = tokio::join!(
            app.client.post(app.url("/api/v1/checkins")).bearer_auth(&s.member_token).json(&body(nonce())).send(),
            app.client
                .post(format!("{second}/api/v1/checkins"))
                .bearer_auth(&s.member_token)
                .json(&body(nonce()))
                .send(),
        );
        let mut outcomes = vec![
            a.unwrap().json::<Value>().await.unwrap()["outcome"].as_str().unwrap().to_owned(),
            b.unwrap().json::<Value>().await.unwrap()["outcome"].as_str().unwrap().to_owned(),
        ];
        outcomes.sort();
        assert_eq!(outcomes, vec!["already_checked_in", "ok"]);
        let pool = app.pool.clone();
        let rows: i64 = tokio::task::spawn_blocking(move || {
            use zhiban::schema::checkins as c;
            c::table.filter(c::assignment_id.eq(assignment)).count().get_result(&mut pool.get().unwrap()).unwrap()
        })
        .await
        .unwrap();
        assert_eq!(rows, 1);
        // The next round's duty must not overlap this one's window.
        let pool = app.pool.clone();
        tokio::task::spawn_blocking(move || {
            diesel::update(assignments::table.find(assignment))
                .set(assignments::removed_at.eq(Utc::now().naive_utc()))
                .execute(&mut pool.get().unwrap())
                .unwrap();
        })
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn attendance_after_the_shift_and_manual_check_in() {
    let app = spawn_app().await;
    let s = site(&app).await;
    let admin = &s.admin;
    let on_time = duty(&app, s.c.id, s.venue, s.member, -180, -60).await;
    let m2 = app.member(admin, json!({ "name": "迟到委员", "phone": s.c.phone(2), "home_venue_id": s.venue })).await;
    let late = duty(&app, s.c.id, s.venue, m2, -180, -60).await;
    let m3 = app.member(admin, json!({ "name": "缺席委员", "phone": s.c.phone(3), "home_venue_id": s.venue })).await;
    let absent = duty(&app, s.c.id, s.venue, m3, -180, -60).await;
    let m4 = app.member(admin, json!({ "name": "请假委员", "phone": s.c.phone(4), "home_venue_id": s.venue })).await;
    let excused = duty(&app, s.c.id, s.venue, m4, -180, -60).await;
    let upcoming = duty(&app, s.c.id, s.venue, m3, 240, 300).await;
    let pool = app.pool.clone();
    let committee = s.c.id;
    tokio::task::spawn_blocking(move || {
        let now = Utc::now().naive_utc();
        diesel::insert_into(leave_requests::table)
            .values((
                leave_requests::committee_id.eq(committee),
                leave_requests::member_id.eq(m4),
                leave_requests::date_from.eq(Utc::now().date_naive() - Duration::days(1)),
                leave_requests::date_to.eq(Utc::now().date_naive() + Duration::days(1)),
                leave_requests::status.eq("approved"),
                leave_requests::created_at.eq(now),
                leave_requests::updated_at.eq(now),
            ))
            .execute(&mut pool.get().unwrap())
            .unwrap();
    })
    .await
    .unwrap();

    let start = Utc::now() - Duration::minutes(180);
    for (assignment, minutes_after_start) in [(on_time, 5), (late, 20)] {
        let res = app
            .post(
                "/api/v1/checkins/manual",
                admin,
                json!({ "assignment_id": assignment, "reason": "手机没电，联络员代签",
                        "checked_in_at": start + Duration::minutes(minutes_after_start) }),
            )
            .await;
        assert_eq!(res.status(), 201);
        let checkin: Value = res.json().await.unwrap();
        assert_eq!(checkin["method"], "manual");
        assert_eq!(checkin["manual_reason"], "手机没电，联络员代签");
    }
    let res =
        app.post("/api/v1/checkins/manual", admin, json!({ "assignment_id": on_time, "reason": "再来一次" })).await;
    problem(res, 409, "invalid_transition").await;
    let res = app.post("/api/v1/checkins/manual", admin, json!({ "assignment_id": absent, "reason": " " })).await;
    problem(res, 422, "validation_failed").await;

    let today = Utc::now().date_naive();
    let window = format!("/api/v1/attendance?from={}&to={}", today - Duration::days(1), today + Duration::days(1));
    let rows: Vec<Value> = app.get(&window, admin).await.json().await.unwrap();
    let status =
        |a: i64| rows.iter().find(|r| r["assignment_id"] == a).map(|r| r["status"].as_str().unwrap().to_owned());
    assert_eq!(status(on_time).as_deref(), Some("present"));
    assert_eq!(status(late).as_deref(), Some("late"));
    assert_eq!(status(absent).as_deref(), Some("absent"));
    assert_eq!(status(excused).as_deref(), Some("excused"));
    assert_eq!(status(upcoming).as_deref(), Some("upcoming"));

    let member = app.token(&s.c.phone(1)).await;
    problem(app.get(&window, &member).await, 403, "forbidden").await;
    // The day's live view, asked for the shift's own local date: the shift began three hours
    // ago, which around Shanghai midnight is the committee's yesterday.
    let shift_date = rows.iter().find(|r| r["assignment_id"] == on_time).unwrap()["date"].as_str().unwrap();
    let checkins: Vec<Value> =
        app.get(&format!("/api/v1/checkins?date={shift_date}"), admin).await.json().await.unwrap();
    let mine = checkins.iter().find(|c| c["assignment_id"] == on_time).unwrap();
    let id = mine["id"].as_i64().unwrap();
    let out: Value =
        app.post(&format!("/api/v1/checkins/{id}/checkout"), &member, json!({})).await.json().await.unwrap();
    assert!(out["duration_minutes"].as_i64().unwrap() >= 170);
    problem(app.post(&format!("/api/v1/checkins/{id}/checkout"), &member, json!({})).await, 409, "already_checked_out")
        .await;
}

#[tokio::test]
async fn the_display_page_serves_its_device_only() {
    let app = spawn_app().await;
    let s = site(&app).await;
    duty(&app, s.c.id, s.venue, s.member, -10, 60).await;
    let res =
        app.post(&format!("/api/v1/venues/{}/display-devices", s.venue), &s.admin, json!({ "name": "大厅平板" })).await;
    assert_eq!(res.status(), 201);
    let device: Value = res.json().await.unwrap();
    let token = device["token"].as_str().unwrap();
    let page = app.client.get(app.url(&format!("/display/scan-a?device={token}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let refresh: i64 = {
        let html = page.text().await.unwrap();
        assert!(html.contains("甲工作室") && html.contains("扫码委员") && html.contains("未签到"));
        assert!(html.contains("<svg"));
        let start = html.find("http-equiv=\"refresh\" content=\"").unwrap() + 30;
        html[start..].split('"').next().unwrap().parse().unwrap()
    };
    assert!((1..=30).contains(&refresh), "reloads before the code changes");
    // The device token opens its own venue's code, not another's; revoked, nothing.
    let own = app
        .client
        .get(app.url(&format!("/api/v1/venues/{}/display-code?device={token}", s.venue)))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    let other = app
        .client
        .get(app.url(&format!("/api/v1/venues/{}/display-code?device={token}", s.other_venue)))
        .send()
        .await
        .unwrap();
    problem(other, 401, "unauthenticated").await;
    let res = app
        .request(reqwest::Method::DELETE, &format!("/api/v1/display-devices/{}", device["id"]), Some(&s.admin), None)
        .await;
    assert_eq!(res.status(), 204);
    let gone = app.client.get(app.url(&format!("/display/scan-a?device={token}"))).send().await.unwrap();
    problem(gone, 401, "unauthenticated").await;
    problem(app.get(&format!("/api/v1/venues/{}/display-code", s.venue), &s.member_token).await, 403, "forbidden")
        .await;
}

/// Security round 2, finding 13: the check-in poster (a long-lived credential) and the display
/// (its device token in the URL) go out with the pages' protective headers, and API answers
/// carrying members' phones or residents' contacts are never cached.
#[tokio::test]
async fn credentials_and_personal_data_go_out_with_protective_headers() {
    let app = spawn_app().await;
    let s = site(&app).await;
    let header = |res: &reqwest::Response, name: &str| {
        res.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    };
    for format in ["html", "svg", "png"] {
        let res = app.get(&format!("/api/v1/venues/{}/checkin-poster?format={format}", s.venue), &s.admin).await;
        assert_eq!(res.status(), 200);
        assert_eq!(header(&res, "cache-control"), "no-store", "{format}");
        assert_eq!(header(&res, "x-content-type-options"), "nosniff", "{format}");
        if format == "html" {
            assert!(header(&res, "content-security-policy").contains("default-src 'none'"));
            assert_eq!(header(&res, "referrer-policy"), "no-referrer");
        }
    }
    let device: Value = app
        .post(&format!("/api/v1/venues/{}/display-devices", s.venue), &s.admin, json!({ "name": "大厅平板" }))
        .await
        .json()
        .await
        .unwrap();
    let token = device["token"].as_str().unwrap();
    let display = app.client.get(app.url(&format!("/display/scan-a?device={token}"))).send().await.unwrap();
    assert_eq!(display.status(), 200);
    assert_eq!(header(&display, "referrer-policy"), "no-referrer");
    for path in ["/api/v1/members", "/api/v1/items"] {
        let res = app.get(path, &s.admin).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(header(&res, "cache-control"), "no-store", "{path}");
    }
}
