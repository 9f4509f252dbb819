//! Offline check-ins prove less than a live scan (issue 17, finding 1). The screen's code read
//! at T and sent on as a photo is refused live 150 s later (`expired_code`), but the offline
//! batch judges it at the scan time the phone claims. So an offline upload needs the phone
//! inside the venue's geofence, is recorded at low assurance, waits for a coordinator, is
//! flagged when one code step checks in several members, and attendance and statistics say
//! how many present marks rest on such unconfirmed scans.

use chrono::Duration;
use serde_json::{Value, json};
use zhiban::clock::Clock;

use crate::checkin::duty;
use crate::helpers::{TestDatabase, november_2026, problem, spawn_app_with};

const INSIDE: (f64, f64) = (27.6620, 120.5652);

fn offline(payload: &str, nonce: &str, at: chrono::DateTime<chrono::Utc>, location: Option<(f64, f64)>) -> Value {
    let location = location.map(|(la, lo)| json!({ "latitude": la, "longitude": lo }));
    json!({ "scans": [{ "payload": payload, "nonce": nonce, "scanned_at": at, "location": location }] })
}

#[tokio::test]
async fn a_forwarded_photo_of_the_screen_uploaded_offline_waits_for_the_coordinator() {
    let t0 = november_2026();
    let app = spawn_app_with(TestDatabase::create(), Clock::fixed(t0)).await;
    let c = app.committee("offl", "58").await;
    let admin = app.token(&c.admin_phone).await;
    let venue = app.venue(&admin, "offl-a", "甲工作室").await;
    let other_venue = app.venue(&admin, "offl-b", "乙工作室").await;
    let fence = json!({ "location": { "latitude": 27.6617, "longitude": 120.5650, "radius_m": 200 } });
    assert_eq!(app.patch(&format!("/api/v1/venues/{venue}"), &admin, fence).await.status(), 200);
    let coordinator = |n: u32, v: i64| json!({ "name": format!("联络员{n}"), "phone": c.phone(n), "roles": ["coordinator"], "coordinator_venue_ids": [v] });
    app.member(&admin, coordinator(1, venue)).await;
    app.member(&admin, coordinator(9, other_venue)).await;
    let a = app.member(&admin, json!({ "name": "甲委员", "phone": c.phone(2), "home_venue_id": venue })).await;
    let b = app.member(&admin, json!({ "name": "乙委员", "phone": c.phone(3), "home_venue_id": venue })).await;
    let (coord, other_coord) = (app.token(&c.phone(1)).await, app.token(&c.phone(9)).await);
    let (token_a, token_b) = (app.token(&c.phone(2)).await, app.token(&c.phone(3)).await);
    duty(&app, c.id, venue, a, -10, 60).await;
    duty(&app, c.id, venue, b, -10, 60).await;

    // The code the screen shows at T, photographed; 150 s later it is refused live.
    let shown: Value = app.get(&format!("/api/v1/venues/{venue}/display-code"), &admin).await.json().await.unwrap();
    let photo = shown["payload"].as_str().unwrap().to_owned();
    app.clock.advance(Duration::seconds(150));
    let live = json!({ "payload": photo, "nonce": "live-expired-0001", "scanned_at": app.clock.now(),
                       "location": { "latitude": INSIDE.0, "longitude": INSIDE.1 } });
    let res: Value = app.post("/api/v1/checkins", &token_a, live).await.json().await.unwrap();
    assert_eq!(res["outcome"], "expired_code", "{res}");

    // Offline, claiming T: the venue has a geofence, so the phone's location is needed.
    let res: Value = app
        .post("/api/v1/checkins/batch", &token_a, offline(&photo, "queued-a-0001", t0, None))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(res[0]["outcome"], "outside_geofence", "{res}");
    // With it, recorded — at low assurance, waiting for the coordinator.
    let res: Value = app
        .post("/api/v1/checkins/batch", &token_a, offline(&photo, "queued-a-0002", t0, Some(INSIDE)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(res[0]["outcome"], "ok", "{res}");
    assert_eq!(res[0]["assurance"], "low", "an offline upload is not a live scan: {res}");
    assert_eq!(res[0]["review"], "pending");
    assert_eq!(res[0]["message"], zhiban::checkin::scan::PENDING_REVIEW_MESSAGE);
    let checkin_a = res[0]["checkin_id"].as_i64().unwrap();
    // The same photo forwarded to a colleague.
    let res: Value = app
        .post("/api/v1/checkins/batch", &token_b, offline(&photo, "queued-b-0001", t0, Some(INSIDE)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((res[0]["outcome"].as_str(), res[0]["assurance"].as_str()), (Some("ok"), Some("low")), "{res}");
    let checkin_b = res[0]["checkin_id"].as_i64().unwrap();

    // The coordinator's list: both, flagged as one code step used by two members.
    let list: Value = app.get("/api/v1/checkins/unconfirmed", &coord).await.json().await.unwrap();
    let items = list["items"].as_array().unwrap();
    let ids: Vec<i64> = items.iter().map(|i| i["checkin"]["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [checkin_a, checkin_b], "{list}");
    assert!(items.iter().all(|i| i["shared_code"] == true && i["members_on_code"] == 2), "{list}");
    assert_eq!(items[0]["checkin"]["review"], "pending");
    // Another venue's coordinator sees none of them and decides none; members decide nothing.
    let theirs: Value = app.get("/api/v1/checkins/unconfirmed", &other_coord).await.json().await.unwrap();
    assert_eq!(theirs["items"], json!([]));
    problem(
        app.get(&format!("/api/v1/checkins/unconfirmed?venue_id={venue}"), &other_coord).await,
        403,
        "out_of_scope",
    )
    .await;
    let refuse = json!({ "reason": "同一张照片转发签到" });
    problem(
        app.post(&format!("/api/v1/checkins/{checkin_b}/refuse"), &other_coord, refuse.clone()).await,
        403,
        "out_of_scope",
    )
    .await;
    problem(app.post(&format!("/api/v1/checkins/{checkin_a}/confirm"), &token_a, json!({})).await, 403, "forbidden")
        .await;

    // After the duty: both present, resting on unconfirmed offline scans — attendance and the
    // statistics say so.
    app.clock.advance(Duration::hours(2));
    let coord = app.token(&c.phone(1)).await; // access tokens last 15 minutes
    let attendance = || {
        let (app, coord) = (&app, coord.clone());
        let url = format!("/api/v1/attendance?venue_id={venue}&from=2026-11-20&to=2026-11-20");
        async move {
            let rows: Value = app.get(&url, &coord).await.json().await.unwrap();
            rows.as_array()
                .unwrap_or_else(|| panic!("{rows}"))
                .iter()
                .map(|r| {
                    (
                        r["member_id"].as_i64().unwrap(),
                        r["status"].as_str().unwrap().to_owned(),
                        r["unconfirmed"] == true,
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(attendance().await, [(a, "present".to_owned(), true), (b, "present".to_owned(), true)]);
    let stats: Value =
        app.get(&format!("/api/v1/stats/venues?period=2026-11&venue_id={venue}"), &coord).await.json().await.unwrap();
    assert_eq!(
        (stats["rows"][0]["present"].as_u64(), stats["rows"][0]["unconfirmed_present"].as_u64()),
        (Some(2), Some(2))
    );

    // The coordinator refuses the forwarded one and confirms the other, each once; audited.
    problem(
        app.post(&format!("/api/v1/checkins/{checkin_b}/refuse"), &coord, json!({ "reason": " " })).await,
        422,
        "validation_failed",
    )
    .await;
    let refused: Value =
        app.post(&format!("/api/v1/checkins/{checkin_b}/refuse"), &coord, refuse.clone()).await.json().await.unwrap();
    assert_eq!(refused["review"], "refused", "{refused}");
    let confirmed: Value = app
        .post(&format!("/api/v1/checkins/{checkin_a}/confirm"), &coord, json!({ "note": "本人到场，有接待记录" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(confirmed["review"], "confirmed", "{confirmed}");
    problem(app.post(&format!("/api/v1/checkins/{checkin_a}/refuse"), &coord, refuse).await, 409, "invalid_transition")
        .await;
    let list: Value = app.get("/api/v1/checkins/unconfirmed", &coord).await.json().await.unwrap();
    assert_eq!(list["items"], json!([]));

    // A refused check-in no longer counts: the duty is absent.
    assert_eq!(attendance().await, [(a, "present".to_owned(), false), (b, "absent".to_owned(), false)]);
    let stats: Value =
        app.get(&format!("/api/v1/stats/members?period=2026-11&venue_id={venue}"), &coord).await.json().await.unwrap();
    let row = |id: i64| stats["rows"].as_array().unwrap().iter().find(|r| r["member_id"] == id).unwrap().clone();
    assert_eq!((row(a)["present"].as_u64(), row(a)["unconfirmed_present"].as_u64()), (Some(1), Some(0)));
    assert_eq!((row(b)["present"].as_u64(), row(b)["absent"].as_u64()), (Some(0), Some(1)));

    let pool = app.pool.clone();
    let audited: Vec<(String, Option<i64>)> = tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use zhiban::schema::audit_events as e;
        e::table
            .filter(e::action.like("checkin.%"))
            .order(e::id)
            .select((e::action, e::subject_id))
            .load(&mut pool.get().unwrap())
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        audited,
        [("checkin.refuse".to_owned(), Some(checkin_b)), ("checkin.confirm".to_owned(), Some(checkin_a))]
    );
}

/// A venue without a geofence takes an offline upload without a location, still at low
/// assurance and for review; a live scan stays high and needs none.
#[tokio::test]
async fn without_a_geofence_offline_uploads_still_wait_for_review() {
    let t0 = november_2026();
    let app = spawn_app_with(TestDatabase::create(), Clock::fixed(t0)).await;
    let c = app.committee("offn", "59").await;
    let admin = app.token(&c.admin_phone).await;
    let venue = app.venue(&admin, "offn-a", "丙工作室").await;
    let a = app.member(&admin, json!({ "name": "丙委员", "phone": c.phone(2), "home_venue_id": venue })).await;
    let b = app.member(&admin, json!({ "name": "丁委员", "phone": c.phone(3), "home_venue_id": venue })).await;
    let (token_a, token_b) = (app.token(&c.phone(2)).await, app.token(&c.phone(3)).await);
    duty(&app, c.id, venue, a, -10, 60).await;
    duty(&app, c.id, venue, b, -10, 60).await;
    let shown: Value = app.get(&format!("/api/v1/venues/{venue}/display-code"), &admin).await.json().await.unwrap();
    let payload = shown["payload"].as_str().unwrap().to_owned();
    let live = json!({ "payload": payload, "nonce": "live-fresh-0001", "scanned_at": app.clock.now() });
    let res: Value = app.post("/api/v1/checkins", &token_a, live).await.json().await.unwrap();
    assert_eq!((res["assurance"].as_str(), &res["review"]), (Some("high"), &Value::Null), "{res}");
    app.clock.advance(Duration::minutes(5));
    let res: Value = app
        .post("/api/v1/checkins/batch", &token_b, offline(&payload, "queued-n-0001", t0, None))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((res[0]["outcome"].as_str(), res[0]["assurance"].as_str()), (Some("ok"), Some("low")), "{res}");
    assert_eq!(res[0]["review"], "pending");
    let list: Value = app.get("/api/v1/checkins/unconfirmed", &admin).await.json().await.unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "the live scan needs no review: {list}");
    // One member's offline upload on that step (the live scan is not an offline upload).
    assert_eq!((items[0]["members_on_code"].as_i64(), items[0]["shared_code"].as_bool()), (Some(1), Some(false)));

    // Refused — and then the member really arrives and scans the screen live: that counts.
    let id = items[0]["checkin"]["id"].as_i64().unwrap();
    let refuse = json!({ "reason": "未见本人" });
    assert_eq!(app.post(&format!("/api/v1/checkins/{id}/refuse"), &admin, refuse).await.status(), 200);
    let shown: Value = app.get(&format!("/api/v1/venues/{venue}/display-code"), &admin).await.json().await.unwrap();
    let live = json!({ "payload": shown["payload"], "nonce": "live-after-refusal", "scanned_at": app.clock.now() });
    let res: Value = app.post("/api/v1/checkins", &token_b, live).await.json().await.unwrap();
    assert_eq!(
        (res["outcome"].as_str(), res["assurance"].as_str(), res["checkin_id"].as_i64()),
        (Some("ok"), Some("high"), Some(id)),
        "{res}"
    );
    // The row is the live check-in now (an offline upload after a refusal would not retake it).
    let rows: Value =
        app.get(&format!("/api/v1/checkins?venue_id={venue}&date=2026-11-20"), &admin).await.json().await.unwrap();
    let row = rows.as_array().unwrap().iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!((row["review"].clone(), row["offline"].clone()), (Value::Null, json!(false)), "{row}");
}
