//! Guessing tracking codes (issue 17, finding 4): failed lookups are throttled per client
//! address on every route of the residents that takes a code — the JSON API, the tracking
//! page and their rating and reopening.

use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{TestApp, november_2026, problem, spawn_app_at};
use crate::items::{office, opinion, submit_json};

/// An instance on the same database behind a proxy at 127.0.0.1 (see `auth::behind_proxy`).
async fn behind_proxy(app: &TestApp) -> String {
    let mut settings =
        crate::helpers::test_settings_with(&app.db.url, &[("ZHIBAN_TRUSTED_PROXIES", Some("127.0.0.1"))]);
    settings.clock = app.clock.clone();
    crate::helpers::serve(settings).await
}

async fn get_from(base: &str, address: &str, path: &str) -> reqwest::Response {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    client.get(format!("{base}{path}")).header("x-forwarded-for", address).send().await.unwrap()
}

async fn post_from(app: &TestApp, base: &str, address: &str, path: &str, body: Value) -> reqwest::Response {
    app.client.post(format!("{base}{path}")).header("x-forwarded-for", address).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn guessing_tracking_codes_is_throttled_per_address_and_knowing_one_is_not() {
    let app = spawn_app_at(november_2026()).await;
    let o = office(&app).await;
    let res = submit_json(&app, opinion(o.venue_code, "村口路灯坏了", None)).await;
    assert_eq!(res.status(), 201);
    let code = res.json::<Value>().await.unwrap()["tracking_code"].as_str().unwrap().to_owned();
    let proxy = behind_proxy(&app).await;
    let (guesser, resident) = ("203.0.113.9", "198.51.100.7");

    // The resident follows their own item as often as they like.
    for _ in 0..30 {
        assert_eq!(get_from(&proxy, resident, &format!("/api/v1/public/items/{code}")).await.status(), 200);
    }
    // 20 unknown codes from one address are answered 404, on the API and the page alike…
    for i in 0..20 {
        let path = if i % 2 == 0 { format!("/api/v1/public/items/ZZZZ{i:04}") } else { format!("/r/t/ZZZZ{i:04}") };
        assert_eq!(get_from(&proxy, guesser, &path).await.status(), 404, "{path}");
    }
    // …then that address is refused, also for the code that exists, so a hit looks like a miss.
    let res = get_from(&proxy, guesser, &format!("/api/v1/public/items/{code}")).await;
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "retry-after {retry}");
    problem(res, 429, "lookup_throttled").await;
    let page = get_from(&proxy, guesser, &format!("/r/t/{code}")).await;
    assert_eq!(page.status(), 429);
    assert!(page.headers().contains_key("retry-after"));
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.text().await.unwrap().contains("查询失败次数过多，请稍后再试"));
    let rating = json!({ "satisfaction": "satisfied" });
    let path = format!("/api/v1/public/items/{code}/rating");
    problem(post_from(&app, &proxy, guesser, &path, rating).await, 429, "lookup_throttled").await;
    let path = format!("/api/v1/public/items/{code}/reopen");
    problem(post_from(&app, &proxy, guesser, &path, json!({})).await, 429, "lookup_throttled").await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for form in ["rate", "reopen"] {
        let res = client
            .post(format!("{proxy}/r/t/{code}/{form}"))
            .header("x-forwarded-for", guesser)
            .form(&[("satisfaction", "satisfied"), ("reason", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 429, "the {form} form");
    }

    // Another address is not affected; the guesser's window ends after 15 minutes.
    assert_eq!(get_from(&proxy, resident, &format!("/r/t/{code}")).await.status(), 200);
    app.clock.advance(Duration::minutes(15));
    assert_eq!(get_from(&proxy, guesser, &format!("/api/v1/public/items/{code}")).await.status(), 200);
}
