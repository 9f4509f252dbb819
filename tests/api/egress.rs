//! Deliveries reach only the public internet and the networks the operator lists in
//! `ZHIBAN_WEBHOOK_ALLOW_PRIVATE` (issue 17, finding 11): an admin cannot point the webhook
//! or a robot at zhiban's own loopback, the metadata service or the office network, neither
//! when saving it nor — for an address saved before, or a name whose DNS changed — when the
//! worker sends.

use std::time::Duration;

use diesel::prelude::*;
use serde_json::json;
use zhiban::egress::{Egress, Outbound};
use zhiban::outbox::worker::{self, RetryPolicy};
use zhiban::schema::{committees, outbox};

use crate::helpers::{problem, spawn_app_configured};
use crate::outbox::Receiver;

const SECRET: &str = "s3cret-webhook-key-0123";

#[tokio::test]
async fn deliveries_cannot_reach_internal_addresses_unless_the_operator_allows_them() {
    // The settings a real deployment starts with: no private network allowed.
    let app = spawn_app_configured(&[("ZHIBAN_WEBHOOK_ALLOW_PRIVATE", None)]).await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    let receiver = Receiver::start().await;
    let by_name = receiver.url.replace("127.0.0.1", "localhost");

    // Saving: a literal loopback address, a name that resolves to it, the metadata service,
    // IPv6 loopback and an IPv4 address written as IPv6.
    for url in [
        receiver.url.as_str(),
        by_name.as_str(),
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/hook",
        "http://[::ffff:127.0.0.1]:9/hook",
    ] {
        let res = app.patch("/api/v1/committee", &admin, json!({ "webhook_url": url, "webhook_secret": SECRET })).await;
        let body = problem(res, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "webhook_url", "{url}");
        assert_eq!(body["errors"][0]["reason"], "address_not_allowed", "{url}");
    }
    let robot = json!({ "dingtalk": {
        "webhook_url": "http://10.0.0.8/robot/send?access_token=tok", "secret": "SEC0123456789abcdef0123456789abcdef" } });
    let body = problem(app.patch("/api/v1/committee", &admin, robot).await, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "dingtalk.webhook_url");

    // Sending: addresses stored before this check existed are refused by the worker, by
    // literal and after resolving the name, and `last_error` says why, not what answered.
    let committee_id = c.id;
    let pool = app.pool.clone();
    let now = app.clock.now_naive();
    for url in [receiver.url.clone(), by_name.clone()] {
        let (stored_pool, stored_url) = (pool.clone(), url.clone());
        tokio::task::spawn_blocking(move || {
            let (pool, url) = (stored_pool, stored_url);
            let conn = &mut pool.get().unwrap();
            diesel::update(committees::table.find(committee_id))
                .set((committees::webhook_url.eq(&url), committees::webhook_secret.eq(SECRET)))
                .execute(conn)
                .unwrap();
            zhiban::outbox::enqueue(conn, committee_id, "test.ping", None, &json!({ "url": url }), now).unwrap();
        })
        .await
        .unwrap();
        let public_only = Outbound::new(Egress::default(), Duration::from_secs(5)).unwrap();
        assert_eq!(worker::run_once(&app.pool, &public_only, "w", now, &RetryPolicy::default()).await.unwrap(), 1);
        let pool = pool.clone();
        let last_error: Option<String> = tokio::task::spawn_blocking(move || {
            outbox::table.order(outbox::id.desc()).select(outbox::last_error).first(&mut pool.get().unwrap()).unwrap()
        })
        .await
        .unwrap();
        let last_error = last_error.unwrap_or_default();
        assert!(last_error.contains("address not allowed"), "{url}: {last_error}");
    }
    assert!(receiver.delivered_ids().is_empty(), "nothing reached the internal receiver");

    // The operator lists the network (a push bridge on the office LAN, here this host):
    // the same rows go out.
    let listed = Outbound::new(Egress::parse("127.0.0.0/8").unwrap(), Duration::from_secs(5)).unwrap();
    let later = now + chrono::Duration::hours(1);
    worker::run_once(&app.pool, &listed, "w", later, &RetryPolicy::default()).await.unwrap();
    assert_eq!(receiver.delivered_ids().len(), 2, "both rows delivered once allowed");
}
