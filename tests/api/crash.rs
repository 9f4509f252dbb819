//! Crash safety: the real binary, killed with SIGKILL at random moments while members check in
//! and residents submit, five times over, then restarted. Every request that was answered with
//! success is there exactly once, nothing half-written is visible, and SQLite's own integrity
//! check passes.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use rand::Rng;
use serde_json::{Value, json};
use zhiban::schema::{checkins, item_events, items};

use crate::checkin::duty;
use crate::helpers::{TEST_JWT_SECRET, TestApp, spawn_app};

const ROUNDS: usize = 5;
const CHECKINS_PER_ROUND: usize = 12;
const SUBMISSIONS_PER_ROUND: usize = 30;

/// `zhiban serve` on the test's database, on a free port; waits until it answers.
async fn start_server(app: &TestApp) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_zhiban"))
        .arg("serve")
        .env("DATABASE_URL", &app.db.url)
        .env("ZHIBAN_JWT_SECRET", TEST_JWT_SECRET)
        .env("ZHIBAN_BIND", format!("127.0.0.1:{port}"))
        .env("ZHIBAN_WORKER", "off")
        .env("ZHIBAN_SUBMISSIONS_PER_ADDRESS", "1000000")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start zhiban");
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if let Ok(res) = app.client.get(format!("{base}/ready")).send().await
            && res.status().is_success()
        {
            return (child, base);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("zhiban did not become ready");
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    let app = spawn_app().await;
    let c = app.committee("crash", "54").await;
    let admin = app.token(&c.admin_phone).await;
    let venue = app.venue(&admin, "crash-a", "甲工作室").await;
    let keys =
        zhiban::auth::JwtKeys::new(&zhiban::config::JwtSecret::new(TEST_JWT_SECRET), zhiban::clock::Clock::system());
    let mut scanners = Vec::new();
    for n in 1..=(ROUNDS * CHECKINS_PER_ROUND) as u32 {
        let member = app
            .member(&admin, json!({ "name": format!("委员{n}"), "phone": c.phone(n), "home_venue_id": venue }))
            .await;
        let assignment = duty(&app, c.id, venue, member, -5, 120).await;
        let (pool, cid, now) = (app.pool.clone(), c.id, app.clock.now_naive());
        let session = tokio::task::spawn_blocking(move || {
            zhiban::auth::sessions::start(&mut pool.get().unwrap(), cid, member, now).unwrap()
        })
        .await
        .unwrap();
        let token = keys.issue(member, c.id, vec![zhiban::domain::Role::Member], &session.family).unwrap().0;
        scanners.push((assignment, token));
    }
    let pool = app.pool.clone();
    let (code, secret, version) = tokio::task::spawn_blocking(move || {
        zhiban::checkin::display::venue_secret(&mut pool.get().unwrap(), venue).unwrap()
    })
    .await
    .unwrap();

    let acknowledged_checkins = Arc::new(Mutex::new(BTreeSet::new()));
    let acknowledged_items = Arc::new(Mutex::new(BTreeSet::new()));
    for round in 0..ROUNDS {
        let (mut server, base) = start_server(&app).await;
        let mut load = Vec::new();
        for (assignment, token) in scanners[round * CHECKINS_PER_ROUND..][..CHECKINS_PER_ROUND].iter().cloned() {
            let (client, base, done) = (app.client.clone(), base.clone(), acknowledged_checkins.clone());
            let payload = zhiban::checkin::code::display_code(
                secret.as_bytes(),
                &code,
                version,
                zhiban::checkin::code::step_of(chrono::Utc::now().timestamp()),
            );
            load.push(tokio::spawn(async move {
                let scan = json!({ "payload": payload, "nonce": zhiban::auth::tokens::random_token()[..24].to_owned(),
                                   "scanned_at": chrono::Utc::now() });
                let Ok(res) =
                    client.post(format!("{base}/api/v1/checkins")).bearer_auth(token).json(&scan).send().await
                else {
                    return;
                };
                if let Ok(body) = res.json::<Value>().await
                    && matches!(body["outcome"].as_str(), Some("ok" | "late"))
                {
                    assert_eq!(body["duty"]["assignment_id"], assignment, "{body}");
                    done.lock().unwrap().insert(assignment);
                }
            }));
        }
        for i in 0..SUBMISSIONS_PER_ROUND {
            let (client, base, done) = (app.client.clone(), base.clone(), acknowledged_items.clone());
            load.push(tokio::spawn(async move {
                let body = json!({ "venue_code": "crash-a", "kind": "opinion", "topic": "交通出行",
                                   "body": format!("第{round}轮第{i}条：路口需要红绿灯"), "consent": true });
                let Ok(res) = client.post(format!("{base}/api/v1/public/items")).json(&body).send().await else {
                    return;
                };
                if res.status().as_u16() == 201
                    && let Ok(item) = res.json::<Value>().await
                {
                    // Shown as `2E3R-KY2B`, stored as `2E3RKY2B`.
                    done.lock().unwrap().insert(item["tracking_code"].as_str().unwrap().replace('-', ""));
                }
            }));
        }
        // Somewhere in the middle of it all: after a random number of this round's requests
        // were answered (progress, not time, so a busy machine does not change the test).
        let answered_before = acknowledged_checkins.lock().unwrap().len() + acknowledged_items.lock().unwrap().len();
        let kill_after = rand::rng().random_range(1..=(CHECKINS_PER_ROUND + SUBMISSIONS_PER_ROUND) / 2);
        while !load.iter().all(|t| t.is_finished()) {
            let answered = acknowledged_checkins.lock().unwrap().len() + acknowledged_items.lock().unwrap().len()
                - answered_before;
            if answered >= kill_after {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        server.kill().expect("SIGKILL");
        server.wait().unwrap();
        for task in load {
            task.await.unwrap();
        }
    }

    // Restarted once more: it comes up on what the kills left, and what it says is there.
    let (mut server, base) = start_server(&app).await;
    assert_eq!(app.client.get(format!("{base}/ready")).send().await.unwrap().status(), 200);
    server.kill().unwrap();
    server.wait().unwrap();

    let (checkin_acks, item_acks) =
        (acknowledged_checkins.lock().unwrap().clone(), acknowledged_items.lock().unwrap().clone());
    assert!(checkin_acks.len() + item_acks.len() >= ROUNDS, "each round got answers before its kill");
    let (checkins_sent, items_sent) = (ROUNDS * CHECKINS_PER_ROUND, ROUNDS * SUBMISSIONS_PER_ROUND);
    eprintln!(
        "{ROUNDS} kills: {}/{checkins_sent} check-ins and {}/{items_sent} submissions acknowledged before them",
        checkin_acks.len(),
        item_acks.len()
    );
    let pool = app.pool.clone();
    let postgres = app.db.is_postgres();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        for assignment in &checkin_acks {
            let rows: i64 =
                checkins::table.filter(checkins::assignment_id.eq(assignment)).count().get_result(&mut conn).unwrap();
            assert_eq!(rows, 1, "acknowledged check-in of assignment {assignment}");
        }
        let stored: Vec<(i64, String)> =
            items::table.select((items::id, items::tracking_code)).load(&mut conn).unwrap();
        let codes: Vec<&String> = stored.iter().map(|(_, code)| code).collect();
        for code in &item_acks {
            assert_eq!(codes.iter().filter(|c| **c == code).count(), 1, "acknowledged item {code}");
        }
        // Nothing half-written: every stored item has its timeline from the start.
        for (id, code) in &stored {
            let events: i64 =
                item_events::table.filter(item_events::item_id.eq(id)).count().get_result(&mut conn).unwrap();
            assert!(events >= 1, "item {code} was stored without its first event");
        }
        if !postgres {
            #[derive(QueryableByName)]
            struct Check {
                #[diesel(sql_type = diesel::sql_types::Text)]
                integrity_check: String,
            }
            let report: Vec<Check> = diesel::sql_query("PRAGMA integrity_check").load(&mut conn).unwrap();
            let report: Vec<&str> = report.iter().map(|r| r.integrity_check.as_str()).collect();
            assert_eq!(report, ["ok"]);
        }
    })
    .await
    .unwrap();
}
