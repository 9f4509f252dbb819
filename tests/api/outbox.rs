//! Notifications: webhook settings, signed delivery by the outbox worker, retries and dead
//! letters, concurrent workers, and duty reminders. A real HTTP receiver runs in each test;
//! the worker is driven by hand (`ZHIBAN_WORKER=off` in the harness) with an explicit `now`.

use std::collections::{BTreeMap, HashMap};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;
use serde_json::{Value, json};
use zhiban::outbox::worker::{self, RetryPolicy};
use zhiban::schema::{assignments, outbox, rosters, shift_templates, shifts};

use crate::helpers::{TestApp, TestCommittee, november_2026, problem, spawn_app, spawn_app_at};

const SECRET: &str = "s3cret-webhook-key-0123";

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HashMap<String, String>,
    body: String,
    answered: u16,
}

/// A local webhook endpoint that records every request and answers 500 while `fail_next`
/// is above zero.
#[derive(Clone, Default)]
pub struct Receiver {
    requests: Arc<Mutex<Vec<Received>>>,
    fail_next: Arc<AtomicUsize>,
    pub url: String,
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}/hooks/zhiban", listener.local_addr().unwrap().port());
        let receiver = Receiver { url, ..Default::default() };
        let data = web::Data::new(receiver.clone());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(record)))
            .listen(listener)
            .unwrap()
            .workers(2)
            .disable_signals()
            .run();
        tokio::spawn(server);
        receiver
    }

    fn fail(&self, times: usize) {
        self.fail_next.store(times, Ordering::SeqCst);
    }

    fn all(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }

    /// Delivery ids answered with 2xx, in arrival order.
    pub fn delivered_ids(&self) -> Vec<i64> {
        self.all()
            .iter()
            .filter(|r| r.answered == 200)
            .map(|r| r.headers["x-zhiban-delivery"].parse().unwrap())
            .collect()
    }
}

async fn record(req: HttpRequest, body: web::Bytes, state: web::Data<Receiver>) -> HttpResponse {
    let fail = state.fail_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    let answered = if fail { 500 } else { 200 };
    let headers =
        req.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
    state.requests.lock().unwrap().push(Received {
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
        answered,
    });
    if fail { HttpResponse::InternalServerError().finish() } else { HttpResponse::Ok().finish() }
}

pub async fn configure_webhook(app: &TestApp, admin: &str, url: &str) {
    let res = app.patch("/api/v1/committee", admin, json!({ "webhook_url": url, "webhook_secret": SECRET })).await;
    assert_eq!(res.status(), 200, "configure webhook: {}", res.text().await.unwrap());
}

/// Runs diesel work on a pooled connection off the async runtime.
async fn with_conn<T: Send + 'static>(
    app: &TestApp,
    f: impl FnOnce(&mut zhiban::db::DbConnection) -> T + Send + 'static,
) -> T {
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || f(&mut pool.get().unwrap())).await.unwrap()
}

async fn enqueue_pings(app: &TestApp, committee_id: i64, n: usize) {
    with_conn(app, move |conn| {
        for i in 0..n {
            zhiban::outbox::enqueue(
                conn,
                committee_id,
                "test.ping",
                None,
                &json!({ "n": i }),
                chrono::Utc::now().naive_utc(),
            )
            .unwrap();
        }
    })
    .await
}

/// `(id, status, attempts, last_error)` of every outbox row, by id.
async fn rows(app: &TestApp) -> Vec<(i64, String, i32, Option<String>)> {
    with_conn(app, |conn| {
        outbox::table
            .order(outbox::id)
            .select((outbox::id, outbox::status, outbox::attempts, outbox::last_error))
            .load(conn)
            .unwrap()
    })
    .await
}

/// Makes every pending row due at `now` (instead of waiting out the backoff).
async fn force_due(app: &TestApp, now: NaiveDateTime) {
    with_conn(app, move |conn| {
        diesel::update(outbox::table.filter(outbox::status.eq("pending")))
            .set(outbox::next_attempt_at.eq(now - chrono::Duration::seconds(1)))
            .execute(conn)
            .unwrap()
    })
    .await;
}

async fn run_once(app: &TestApp, now: NaiveDateTime, policy: &RetryPolicy) -> usize {
    let client = crate::helpers::delivery_client(std::time::Duration::from_secs(10));
    worker::run_once(&app.pool, &client, "test-worker", now, policy).await.unwrap()
}

async fn admin_of(app: &TestApp) -> (TestCommittee, String) {
    let c = app.committee("alpha", "38").await;
    let token = app.token(&c.admin_phone).await;
    (c, token)
}

#[tokio::test]
async fn webhook_settings_are_validated_and_the_secret_is_never_shown() {
    let app = spawn_app().await;
    let (_, admin) = admin_of(&app).await;
    let view: Value = app.get("/api/v1/committee", &admin).await.json().await.unwrap();
    assert_eq!(view["webhook_url"], Value::Null);
    assert_eq!(view["webhook_configured"], false);

    let res = app
        .patch("/api/v1/committee", &admin, json!({ "webhook_url": "ftp://x.example/", "webhook_secret": "short" }))
        .await;
    let body = problem(res, 422, "validation_failed").await;
    let fields: Vec<(&str, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(fields, vec![("webhook_url", "invalid_scheme"), ("webhook_secret", "too_short")]);
    let res = app.patch("/api/v1/committee", &admin, json!({ "webhook_url": "https://user:pw@bridge.example/" })).await;
    problem(res, 422, "validation_failed").await;
    // A URL alone is refused: every delivery is signed.
    let res = app.patch("/api/v1/committee", &admin, json!({ "webhook_url": "https://bridge.example/zhiban" })).await;
    let body = problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "webhook_secret");

    let res = app
        .patch(
            "/api/v1/committee",
            &admin,
            json!({ "webhook_url": "https://bridge.example/zhiban", "webhook_secret": SECRET }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(!text.contains(SECRET), "the secret is write-only: {text}");
    let view: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(view["webhook_url"], "https://bridge.example/zhiban");
    assert_eq!(view["webhook_configured"], true);
    let text = app.get("/api/v1/committee", &admin).await.text().await.unwrap();
    assert!(!text.contains(SECRET));

    // Other changes leave the webhook alone; null removes it.
    let view: Value = app.patch("/api/v1/committee", &admin, json!({ "name": "甲县政协" })).await.json().await.unwrap();
    assert_eq!(view["webhook_configured"], true);
    let view: Value =
        app.patch("/api/v1/committee", &admin, json!({ "webhook_url": null })).await.json().await.unwrap();
    assert_eq!(view["webhook_url"], Value::Null);
    assert_eq!(view["webhook_configured"], false);
}

#[tokio::test]
async fn a_rolled_back_notification_is_never_delivered() {
    let app = spawn_app().await;
    let (c, admin) = admin_of(&app).await;
    let receiver = Receiver::start().await;
    configure_webhook(&app, &admin, &receiver.url).await;

    let committee_id = c.id;
    let rolled_back = with_conn(&app, move |conn| {
        conn.transaction::<(), zhiban::error::ApiError, _>(|conn| {
            zhiban::outbox::enqueue(
                conn,
                committee_id,
                "test.ping",
                None,
                &json!({ "doomed": true }),
                chrono::Utc::now().naive_utc(),
            )?;
            Err(zhiban::error::ApiError::not_found())
        })
    })
    .await;
    assert!(rolled_back.is_err());
    assert!(rows(&app).await.is_empty(), "the row went with its transaction");
    assert_eq!(run_once(&app, chrono::Utc::now().naive_utc(), &RetryPolicy::default()).await, 0);
    assert!(receiver.all().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_delivery_is_signed_with_the_committee_secret() {
    let app = spawn_app().await;
    let (c, admin) = admin_of(&app).await;
    let receiver = Receiver::start().await;
    configure_webhook(&app, &admin, &receiver.url).await;
    enqueue_pings(&app, c.id, 1).await;

    let now = chrono::Utc::now().naive_utc();
    assert_eq!(run_once(&app, now, &RetryPolicy::default()).await, 1);
    let got = receiver.all();
    assert_eq!(got.len(), 1);
    let req = &got[0];
    assert_eq!(req.headers["content-type"], "application/json");
    assert_eq!(req.headers["x-zhiban-event"], "test.ping");
    let id: i64 = req.headers["x-zhiban-delivery"].parse().unwrap();

    // The receiver's check: HMAC-SHA256(secret, "{timestamp}.{raw body}"), hex, constant-time compare.
    let timestamp = &req.headers["x-zhiban-timestamp"];
    let expected = {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(format!("{timestamp}.{}", req.body).as_bytes());
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    assert_eq!(req.headers["x-zhiban-signature"], expected);
    let body: Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(body["id"], id);
    assert_eq!(body["kind"], "test.ping");
    assert_eq!(body["committee_id"], c.id);
    assert_eq!(body["payload"], json!({ "n": 0 }));
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));

    assert_eq!(rows(&app).await, vec![(id, "delivered".to_owned(), 1, None)]);
    let page: Value = app.get("/api/v1/outbox?status=delivered", &admin).await.json().await.unwrap();
    assert_eq!(page["items"][0]["id"], id);
    assert_eq!(page["items"][0]["next_attempt_at"], Value::Null);
    assert_eq!(run_once(&app, now, &RetryPolicy::default()).await, 0, "a delivered row is not sent again");
    assert_eq!(receiver.all().len(), 1);
}

#[tokio::test]
async fn a_failing_webhook_is_retried_then_dead_lettered_and_can_be_requeued() {
    let app = spawn_app().await;
    let (c, admin) = admin_of(&app).await;
    let receiver = Receiver::start().await;
    configure_webhook(&app, &admin, &receiver.url).await;
    enqueue_pings(&app, c.id, 1).await;
    receiver.fail(usize::MAX);
    let policy = RetryPolicy { max_attempts: 3, ..RetryPolicy::default() };
    let now = chrono::Utc::now().naive_utc();

    assert_eq!(run_once(&app, now, &policy).await, 1);
    let (id, status, attempts, error) = rows(&app).await.remove(0);
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert_eq!(error.as_deref(), Some("HTTP 500 Internal Server Error"));
    assert_eq!(run_once(&app, now, &policy).await, 0, "not due again until the backoff has passed");
    let page: Value = app.get("/api/v1/outbox?status=pending", &admin).await.json().await.unwrap();
    let next: chrono::DateTime<chrono::Utc> = page["items"][0]["next_attempt_at"].as_str().unwrap().parse().unwrap();
    // (PostgreSQL keeps microseconds: allow the truncation.)
    let at_least = now + chrono::Duration::seconds(30) - chrono::Duration::milliseconds(1);
    assert!(next.naive_utc() >= at_least, "backs off at least 30 s");
    assert_eq!(page["items"][0]["held"], false);

    force_due(&app, now).await;
    assert_eq!(run_once(&app, now, &policy).await, 1);
    assert_eq!(rows(&app).await[0].2, 2);
    force_due(&app, now).await;
    assert_eq!(run_once(&app, now, &policy).await, 1);
    assert_eq!(rows(&app).await[0], (id, "dead".to_owned(), 3, Some("HTTP 500 Internal Server Error".to_owned())));
    force_due(&app, now).await;
    assert_eq!(run_once(&app, now, &policy).await, 0, "a dead letter is not retried by itself");
    assert_eq!(receiver.all().len(), 3);
    assert!(receiver.all().iter().all(|r| r.headers["x-zhiban-delivery"] == id.to_string()));

    let page: Value = app.get("/api/v1/outbox?status=dead", &admin).await.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["attempts"], 3);

    // Members cannot see or retry deliveries.
    let member_id = app.member(&admin, json!({ "name": "林建国", "phone": c.phone(1) })).await;
    assert!(member_id > 0);
    let member = app.token(&c.phone(1)).await;
    problem(app.get("/api/v1/outbox", &member).await, 403, "forbidden").await;
    problem(app.post(&format!("/api/v1/outbox/{id}/retry"), &member, json!({})).await, 403, "forbidden").await;

    // The admin requeues it once the bridge is fixed.
    receiver.fail(0);
    let res = app.post(&format!("/api/v1/outbox/{id}/retry"), &admin, json!({})).await;
    assert_eq!(res.status(), 200);
    let view: Value = res.json().await.unwrap();
    assert_eq!((view["status"].as_str(), view["attempts"].as_i64()), (Some("pending"), Some(0)));
    assert_eq!(run_once(&app, chrono::Utc::now().naive_utc(), &policy).await, 1);
    assert_eq!(rows(&app).await[0].1, "delivered");
    assert_eq!(receiver.delivered_ids(), vec![id]);
    let res = app.post(&format!("/api/v1/outbox/{id}/retry"), &admin, json!({})).await;
    problem(res, 409, "outbox_not_retryable").await;
    problem(app.post("/api/v1/outbox/999999/retry", &admin, json!({})).await, 404, "not_found").await;
}

#[tokio::test]
async fn notifications_wait_while_no_webhook_is_configured() {
    let app = spawn_app().await;
    let (c, admin) = admin_of(&app).await;
    let receiver = Receiver::start().await;
    enqueue_pings(&app, c.id, 2).await;
    let now = chrono::Utc::now().naive_utc();
    assert_eq!(run_once(&app, now, &RetryPolicy::default()).await, 0, "nothing to claim without a webhook");
    let page: Value = app.get("/api/v1/outbox?status=pending", &admin).await.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["held"], true);
    assert_eq!(page["items"][0]["attempts"], 0);

    configure_webhook(&app, &admin, &receiver.url).await;
    assert_eq!(run_once(&app, chrono::Utc::now().naive_utc(), &RetryPolicy::default()).await, 2);
    assert_eq!(receiver.delivered_ids().len(), 2);
    let page: Value = app.get("/api/v1/outbox?limit=1", &admin).await.json().await.unwrap();
    assert_eq!(page["items"][0]["status"], "delivered");
    assert!(page["next_cursor"].is_string(), "the list pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workers_deliver_each_notification_exactly_once() {
    let app = spawn_app().await;
    let (c, admin) = admin_of(&app).await;
    let receiver = Receiver::start().await;
    configure_webhook(&app, &admin, &receiver.url).await;
    enqueue_pings(&app, c.id, 50).await;
    let now = chrono::Utc::now().naive_utc();

    let mut workers = Vec::new();
    for w in 0..4 {
        let pool = app.pool.clone();
        workers.push(tokio::spawn(async move {
            let client = crate::helpers::delivery_client(std::time::Duration::from_secs(10));
            let name = format!("worker-{w}");
            let mut claimed = 0;
            // Keep going until a round finds nothing due (the others may hold the rest).
            loop {
                let n = worker::run_once(&pool, &client, &name, now, &RetryPolicy::default()).await.unwrap();
                if n == 0 {
                    break claimed;
                }
                claimed += n;
            }
        }));
    }
    let mut total = 0;
    for w in workers {
        total += w.await.unwrap();
    }
    assert_eq!(total, 50, "every row claimed once across workers");
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for id in receiver.delivered_ids() {
        *counts.entry(id).or_default() += 1;
    }
    assert_eq!(counts.len(), 50, "every notification arrived");
    assert!(counts.values().all(|n| *n == 1), "none arrived twice: {counts:?}");
    assert!(rows(&app).await.iter().all(|r| r.1 == "delivered" && r.2 == 1));
}

#[tokio::test]
async fn concurrent_claims_never_overlap() {
    let app = spawn_app().await;
    let (c, admin) = admin_of(&app).await;
    configure_webhook(&app, &admin, "http://127.0.0.1:9/unused").await;
    enqueue_pings(&app, c.id, 60).await;
    let now = chrono::Utc::now().naive_utc();
    // Four threads, each with its own connection, claim at the same moment.
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|w| {
            let (pool, barrier) = (app.pool.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                barrier.wait();
                let mut mine = Vec::new();
                loop {
                    let batch = worker::claim_due(&mut conn, &format!("w{w}"), now, 7).unwrap();
                    if batch.is_empty() {
                        break mine;
                    }
                    mine.extend(batch.into_iter().map(|r| r.id));
                }
            })
        })
        .collect();
    let mut all: Vec<i64> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    all.sort_unstable();
    let expected: Vec<i64> = rows(&app).await.into_iter().map(|r| r.0).collect();
    assert_eq!(all, expected, "each row claimed by exactly one worker");
}

/// A published roster with a duty 7 days ahead (and one tomorrow), a removed assignment and
/// a draft roster, written directly as the roster module would.
async fn rostered_committee(app: &TestApp) -> (TestCommittee, i64, i64) {
    let (c, admin) = admin_of(app).await;
    let venue = app.venue(&admin, "a-kunyang", "昆阳镇委员工作室").await;
    let m1 = app.member(&admin, json!({ "name": "林建国", "phone": c.phone(1) })).await;
    let m2 = app.member(&admin, json!({ "name": "陈晓燕", "phone": c.phone(2) })).await;
    let cid = c.id;
    let (a_week, a_tomorrow) = with_conn(app, move |conn| {
        let t = NaiveDateTime::parse_from_str("2026-11-01 00:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let noon = NaiveTime::from_hms_opt(12, 0, 0).unwrap();
        let template: i64 = diesel::insert_into(shift_templates::table)
            .values((
                shift_templates::committee_id.eq(cid),
                shift_templates::venue_id.eq(venue),
                shift_templates::name.eq("接待日"),
                shift_templates::kind.eq("reception_day"),
                shift_templates::rrule.eq("FREQ=MONTHLY;BYMONTHDAY=25"),
                shift_templates::start_time.eq(nine),
                shift_templates::end_time.eq(noon),
                shift_templates::head_min.eq(1),
                shift_templates::head_max.eq(3),
                shift_templates::head_target.eq(2),
                shift_templates::holiday_policy.eq("keep"),
                shift_templates::created_at.eq(t),
                shift_templates::updated_at.eq(t),
            ))
            .returning(shift_templates::id)
            .get_result(conn)
            .unwrap();
        let mut roster = |status: &str| -> i64 {
            diesel::insert_into(rosters::table)
                .values((
                    rosters::committee_id.eq(cid),
                    rosters::period_from.eq(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()),
                    rosters::period_to.eq(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()),
                    rosters::status.eq(status),
                    rosters::created_at.eq(t),
                    rosters::updated_at.eq(t),
                ))
                .returning(rosters::id)
                .get_result(conn)
                .unwrap()
        };
        let (published, draft) = (roster("published"), roster("draft"));
        let mut shift = |roster_id: i64, day: u32| -> i64 {
            let date = NaiveDate::from_ymd_opt(2026, 12, day).unwrap();
            // Asia/Shanghai is UTC+8.
            diesel::insert_into(shifts::table)
                .values((
                    shifts::committee_id.eq(cid),
                    shifts::roster_id.eq(roster_id),
                    shifts::template_id.eq(template),
                    shifts::venue_id.eq(venue),
                    shifts::local_date.eq(date),
                    shifts::start_time.eq(nine),
                    shifts::end_time.eq(noon),
                    shifts::starts_at.eq(date.and_hms_opt(1, 0, 0).unwrap()),
                    shifts::ends_at.eq(date.and_hms_opt(4, 0, 0).unwrap()),
                    shifts::head_min.eq(1),
                    shifts::head_max.eq(3),
                ))
                .returning(shifts::id)
                .get_result(conn)
                .unwrap()
        };
        let (week, tomorrow, draft_shift) = (shift(published, 8), shift(published, 2), shift(draft, 8));
        let mut assign = |shift_id: i64, member_id: i64, removed: bool| -> i64 {
            diesel::insert_into(assignments::table)
                .values((
                    assignments::committee_id.eq(cid),
                    assignments::shift_id.eq(shift_id),
                    assignments::member_id.eq(member_id),
                    assignments::role.eq("lead"),
                    assignments::source.eq("generated"),
                    assignments::reason.eq("test"),
                    assignments::removed_at.eq(removed.then_some(t)),
                    assignments::created_at.eq(t),
                ))
                .returning(assignments::id)
                .get_result(conn)
                .unwrap()
        };
        let a_week = assign(week, m1, false);
        assign(week, m2, true);
        let a_tomorrow = assign(tomorrow, m2, false);
        assign(draft_shift, m2, false);
        (a_week, a_tomorrow)
    })
    .await;
    (c, a_week, a_tomorrow)
}

#[tokio::test]
async fn reminders_are_queued_once_however_often_they_are_scheduled() {
    let app = spawn_app_at(november_2026()).await;
    let (c, a_week, a_tomorrow) = rostered_committee(&app).await;
    // 2026-12-01 10:00 in Asia/Shanghai.
    let now = NaiveDateTime::parse_from_str("2026-12-01 02:00:00", "%Y-%m-%d %H:%M:%S").unwrap();

    // Four schedulers at once (as four instances would), then once more.
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (pool, barrier) = (app.pool.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                barrier.wait();
                zhiban::roster::reminders::schedule_reminders(&mut conn, now).unwrap()
            })
        })
        .collect();
    let queued: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(queued, 2, "the 7-day reminder and the 1-day reminder, once each");
    let again = with_conn(&app, move |conn| zhiban::roster::reminders::schedule_reminders(conn, now).unwrap()).await;
    assert_eq!(again, 0);

    let stored: Vec<(Option<String>, String, String)> = with_conn(&app, |conn| {
        outbox::table.order(outbox::id).select((outbox::dedupe_key, outbox::kind, outbox::payload)).load(conn).unwrap()
    })
    .await;
    let keys: Vec<&str> = stored.iter().map(|s| s.0.as_deref().unwrap()).collect();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort_unstable();
    let mut expected = vec![format!("reminder:{a_week}:7"), format!("reminder:{a_tomorrow}:1")];
    expected.sort_unstable();
    assert_eq!(keys_sorted, expected);
    assert!(stored.iter().all(|s| s.1 == "duty.reminder"));
    let week: Value = serde_json::from_str(
        &stored.iter().find(|s| s.0.as_deref() == Some(&format!("reminder:{a_week}:7"))).unwrap().2,
    )
    .unwrap();
    assert_eq!(week["member_name"], "林建国");
    assert_eq!(week["venue_name"], "昆阳镇委员工作室");
    assert_eq!(week["date"], "2026-12-08");
    assert_eq!((week["start_time"].as_str(), week["end_time"].as_str()), (Some("09:00"), Some("12:00")));
    assert_eq!(week["starts_at"], "2026-12-08T01:00:00Z");
    assert_eq!((week["days_before"].as_u64(), week["days_until"].as_u64()), (Some(7), Some(7)));
    assert!(week.get("phone").is_none() && !week.to_string().contains(&c.phone(1)), "no phone numbers: {week}");

    // Six days later the week's duty is tomorrow: its 1-day reminder, nothing else.
    let later = now + chrono::Duration::days(6);
    let queued = with_conn(&app, move |conn| zhiban::roster::reminders::schedule_reminders(conn, later).unwrap()).await;
    assert_eq!(queued, 1);
    let newest = rows(&app).await.pop().unwrap().0;
    let key: Option<String> =
        with_conn(&app, move |conn| outbox::table.find(newest).select(outbox::dedupe_key).first(conn).unwrap()).await;
    assert_eq!(key, Some(format!("reminder:{a_week}:1")));
}

#[tokio::test]
async fn the_background_worker_delivers_when_enabled() {
    // As `zhiban serve` runs it: the worker started by `Application::build_with`.
    let db = crate::helpers::TestDatabase::create();
    let mut settings = crate::helpers::test_settings(&db.url);
    settings.worker_enabled = true;
    // June: the committee (which has no holiday calendar) is owed the current year's notice
    // only, not yet next year's.
    settings.clock = zhiban::clock::Clock::starting_at("2026-06-15T02:00:00Z".parse().unwrap());
    let receiver = Receiver::start().await;
    let (location, url) = (settings.database.clone(), receiver.url.clone());
    let pool = tokio::task::spawn_blocking(move || {
        use zhiban::domain::*;
        let pool = zhiban::db::connect(&location, 4).unwrap();
        let mut conn = pool.get().unwrap();
        zhiban::db::run_migrations(&mut conn).unwrap();
        let created = zhiban::committee::create(
            &mut conn,
            zhiban::committee::NewCommittee {
                code: "alpha",
                name: "甲县政协",
                timezone: Timezone::parse("Asia/Shanghai").unwrap(),
                admin_name: PersonName::parse("管理员").unwrap(),
                admin_phone: Phone::parse("13800000000").unwrap(),
                admin_password: Password::parse(crate::helpers::PASSWORD).unwrap(),
            },
            chrono::Utc::now().naive_utc(),
        )
        .unwrap();
        diesel::update(zhiban::schema::committees::table.find(created.committee_id))
            .set((
                zhiban::schema::committees::webhook_url.eq(url),
                zhiban::schema::committees::webhook_secret.eq(SECRET),
            ))
            .execute(&mut conn)
            .unwrap();
        zhiban::outbox::enqueue(
            &mut conn,
            created.committee_id,
            "test.ping",
            None,
            &json!({}),
            "2026-06-15T02:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap().naive_utc(),
        )
        .unwrap();
        drop(conn);
        pool
    })
    .await
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let app = zhiban::startup::Application::build_with(settings, pool, listener).unwrap();
    tokio::spawn(app.run_until_stopped());
    // The loop's first round runs at start; wait for it (bounded), asserting on the outcome only.
    for _ in 0..300 {
        if receiver.delivered_ids().len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut kinds: Vec<String> =
        receiver.all().iter().filter(|r| r.answered == 200).map(|r| r.headers["x-zhiban-event"].clone()).collect();
    kinds.sort();
    assert_eq!(kinds, ["calendar.missing", "test.ping"], "the background worker queued and delivered");
    drop(db);
}
