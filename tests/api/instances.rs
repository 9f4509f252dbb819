//! Two instances of the server on one database, as a city running several behind a load
//! balancer would (on PostgreSQL in CI; on one SQLite file locally): concurrent scans,
//! concurrent approvals and two background workers must each take effect exactly once.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use zhiban::schema::{checkins, outbox};

use crate::helpers::{TestApp, november_2026, serve, spawn_app, spawn_app_at, test_settings_with};

/// Sends `body` to `base` + `path` with a bearer token; the status and the JSON answer.
async fn post(app: &TestApp, base: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
    let res = app.client.post(format!("{base}{path}")).bearer_auth(token).json(&body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scans_through_two_instances_leave_one_checkin_per_duty() {
    const MEMBERS: u32 = 12;
    let app = spawn_app().await;
    let second = app.another_instance().await;
    let c = app.committee("twin", "59").await;
    let admin = app.token(&c.admin_phone).await;
    let venue = app.venue(&admin, "twin-a", "双实例工作室").await;
    let mut members = Vec::new();
    for n in 1..=MEMBERS {
        let id = app
            .member(&admin, json!({ "name": format!("委员{n}"), "phone": c.phone(n), "home_venue_id": venue }))
            .await;
        let assignment = crate::checkin::duty(&app, c.id, venue, id, -5, 60).await;
        members.push((assignment, app.token(&c.phone(n)).await));
    }
    let code: Value = app.get(&format!("/api/v1/venues/{venue}/display-code"), &admin).await.json().await.unwrap();
    let payload = code["payload"].as_str().unwrap().to_owned();

    // Every member scans through both instances at once, each scan twice (a retried request
    // with the same nonce): 48 requests in flight together.
    let mut calls = Vec::new();
    for (i, (_, token)) in members.iter().enumerate() {
        for (j, base) in [app.address.clone(), second.clone()].into_iter().enumerate() {
            let body = json!({ "payload": payload, "nonce": format!("twin-{i:03}-{j}"), "scanned_at": Utc::now() });
            for _ in 0..2 {
                let (app, base, token, body) = (&app, base.clone(), token.clone(), body.clone());
                calls.push(async move { (i, post(app, &base, "/api/v1/checkins", &token, body).await) });
            }
        }
    }
    let answers = futures_util::future::join_all(calls).await;
    let mut outcomes: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (i, (status, body)) in answers {
        assert_eq!(status, 200, "{body}");
        outcomes.entry(i).or_default().push(body["outcome"].as_str().unwrap().to_owned());
    }
    for (i, mut got) in outcomes {
        got.sort();
        // A nonce's repeat answers what the nonce first got, so `ok` comes twice.
        assert!(
            got == ["already_checked_in", "already_checked_in", "ok", "ok"],
            "member {i}: one nonce won, its repeat agrees, the other nonce lost: {got:?}"
        );
    }
    let pool = app.pool.clone();
    let per_assignment: Vec<(i64, i64)> = tokio::task::spawn_blocking(move || {
        checkins::table
            .group_by(checkins::assignment_id)
            .select((checkins::assignment_id, diesel::dsl::count_star()))
            .order(checkins::assignment_id)
            .load(&mut pool.get().unwrap())
            .unwrap()
    })
    .await
    .unwrap();
    let mut expected: Vec<i64> = members.iter().map(|m| m.0).collect();
    expected.sort_unstable();
    assert_eq!(per_assignment.iter().map(|r| r.0).collect::<Vec<_>>(), expected);
    assert!(per_assignment.iter().all(|r| r.1 == 1), "one check-in row per duty: {per_assignment:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_swap_approved_through_two_instances_at_once_is_approved_once() {
    let app = spawn_app_at(november_2026()).await;
    let second = app.another_instance().await;
    let (k, r) = crate::requests::published_december(&app, 6).await;
    let case = crate::requests::swap_case(&k, &r);
    let giver = app.token(&crate::requests::phone_of(&k, case.giver)).await;
    let taker = app.token(&crate::requests::phone_of(&k, case.taker)).await;
    let offer = json!({ "assignment_id": case.assignment_id, "to_member_id": case.taker });
    let (status, swap) = post(&app, &app.address, "/api/v1/swap-requests", &giver, offer).await;
    assert_eq!(status, 201, "{swap}");
    let id = swap["id"].as_i64().unwrap();
    let path = format!("/api/v1/swap-requests/{id}/accept");
    assert_eq!(post(&app, &second, &path, &taker, json!({})).await.0, 200);

    // Four approvals race, two through each instance.
    let path = format!("/api/v1/swap-requests/{id}/approve");
    let approvals =
        [&app.address, &second, &app.address, &second].map(|base| post(&app, base, &path, &k.admin, json!({})));
    let answers = futures_util::future::join_all(approvals).await;
    let won: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();
    assert_eq!(won.len(), 1, "exactly one approval wins: {answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!((*status, body["code"].as_str()), (409, Some("invalid_transition")), "{body}");
    }

    // The duty moved once: one new version, the taker on it once, the giver off it.
    let after = crate::rosters::roster(&app, &k.admin, r["id"].as_i64().unwrap()).await;
    assert_eq!(after["version"], 2);
    let shift = after["shifts"].as_array().unwrap().iter().find(|s| s["id"] == case.shift_id).unwrap();
    let on: Vec<i64> =
        shift["assignments"].as_array().unwrap().iter().map(|a| a["member_id"].as_i64().unwrap()).collect();
    assert_eq!(on.iter().filter(|m| **m == case.taker).count(), 1, "{on:?}");
    assert!(!on.contains(&case.giver));
    let pool = app.pool.clone();
    let approved_notices: i64 = tokio::task::spawn_blocking(move || {
        outbox::table.filter(outbox::kind.eq("swap.approved")).count().get_result(&mut pool.get().unwrap()).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(approved_notices, 2, "the giver and the taker are each told once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_workers_deliver_each_notification_once_and_escalate_once() {
    let app = spawn_app().await;
    let o = crate::items::office(&app).await;
    let receiver = crate::outbox::Receiver::start().await;
    crate::outbox::configure_webhook(&app, &o.admin, &receiver.url).await;

    // An item a day overdue, and a backlog of notifications, before either worker starts.
    let res = crate::items::submit_json(&app, crate::items::opinion(o.venue_code, "路灯不亮", None)).await;
    let code = res.json::<Value>().await.unwrap()["tracking_code"].as_str().unwrap().to_owned();
    let id = crate::items::item_by_code(&app, &o.coordinator, &code).await["id"].as_i64().unwrap();
    let triage = json!({ "importance": "normal", "difficulty": "hard" });
    assert_eq!(app.post(&format!("/api/v1/items/{id}/triage"), &o.coordinator, triage).await.status(), 200);
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    crate::items::set_due_on(&app, id, today - Duration::days(1)).await;
    let pool = app.pool.clone();
    let committee = o.c.id;
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        for n in 0..60 {
            zhiban::outbox::enqueue(
                &mut conn,
                committee,
                "test.ping",
                None,
                &json!({ "n": n }),
                chrono::Utc::now().naive_utc(),
            )
            .unwrap();
        }
    })
    .await
    .unwrap();

    // Two instances with their background workers, started together.
    let settings = || test_settings_with(&app.db.url, &[("ZHIBAN_WORKER", Some("on"))]);
    let (_a, _b) = tokio::join!(serve(settings()), serve(settings()));

    // Wait (bounded) until nothing is left to deliver, then for one more poll of both workers.
    let pool = app.pool.clone();
    let pending = move || {
        let pool = pool.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().unwrap();
                let open: i64 =
                    outbox::table.filter(outbox::status.ne("delivered")).count().get_result(&mut conn).unwrap();
                let overdue: i64 =
                    outbox::table.filter(outbox::kind.eq("item.overdue")).count().get_result(&mut conn).unwrap();
                (open, overdue)
            })
            .await
            .unwrap()
        }
    };
    let mut settled = false;
    for _ in 0..600 {
        if matches!(pending().await, (0, n) if n > 0) {
            settled = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(settled, "the workers delivered everything: {:?}", pending().await);
    tokio::time::sleep(zhiban::outbox::worker::POLL_INTERVAL + std::time::Duration::from_secs(1)).await;

    let (open, overdue) = pending().await;
    assert_eq!((open, overdue), (0, 1), "one escalation, however many workers ran the deadline pass");
    let mut deliveries: BTreeMap<i64, usize> = BTreeMap::new();
    for id in receiver.delivered_ids() {
        *deliveries.entry(id).or_default() += 1;
    }
    let pool = app.pool.clone();
    let rows: Vec<i64> = tokio::task::spawn_blocking(move || {
        outbox::table.select(outbox::id).order(outbox::id).load(&mut pool.get().unwrap()).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(deliveries.keys().copied().collect::<Vec<_>>(), rows, "every notification arrived");
    assert!(deliveries.values().all(|n| *n == 1), "none arrived twice: {deliveries:?}");
}
