//! What a client sends that zhiban must not believe or store as it came (issue 17, finding
//! 13): forwarded headers from anyone but our proxies, invalid UTF-8 in a resident's form,
//! and a server started without its public URL.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::helpers::{TEST_JWT_SECRET, TestDatabase, spawn_app, spawn_app_configured};
use crate::items::{office, opinion};

async fn tracking_url(app: &crate::helpers::TestApp, venue_code: &str, forwarded_host: &str) -> String {
    let res = app
        .client
        .post(app.url("/api/v1/public/items"))
        .header("x-forwarded-host", forwarded_host)
        .header("x-forwarded-proto", "https")
        .json(&opinion(venue_code, "路灯不亮", None))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["tracking_url"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn forwarded_host_counts_only_from_a_trusted_proxy() {
    // From anyone: the link names the address the request was sent to, never the header's.
    let app = spawn_app().await;
    let o = office(&app).await;
    let url = tracking_url(&app, o.venue_code, "evil.example").await;
    assert!(url.starts_with(&format!("{}/r/t/", app.address)), "{url}");

    // From our reverse proxy (here: this host), its headers say how residents reached us.
    let app = spawn_app_configured(&[("ZHIBAN_TRUSTED_PROXIES", Some("127.0.0.1"))]).await;
    let o = office(&app).await;
    let url = tracking_url(&app, o.venue_code, "zhiban.pingyang.example").await;
    assert!(url.starts_with("https://zhiban.pingyang.example/r/t/"), "{url}");
}

#[tokio::test]
async fn a_resident_form_that_is_not_utf8_is_refused_not_mangled() {
    let app = spawn_app().await;
    let o = office(&app).await;
    let post = |body: &'static str| {
        reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap()
            .post(app.url(&format!("/r/{}", o.venue_code)))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    };
    // 其他 is valid; %FF%FE in the body is not UTF-8.
    let res = post("kind=opinion&topic=%E5%85%B6%E4%BB%96&body=%FF%FE%E8%B7%AF&consent=true").send().await.unwrap();
    assert_eq!(res.status(), 400);
    let queue: Value = app.get("/api/v1/items", &o.coordinator).await.json().await.unwrap();
    assert_eq!(queue["items"], json!([]), "nothing stored");
    // The same form, well encoded, is taken as before.
    let res = post("kind=opinion&topic=%E5%85%B6%E4%BB%96&body=%E8%B7%AF%E7%81%AF+%E4%B8%8D%E4%BA%AE&consent=true")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let queue: Value = app.get("/api/v1/items", &o.coordinator).await.json().await.unwrap();
    assert_eq!(queue["items"][0]["body"], "路灯 不亮");
}

/// The log lines `zhiban serve` writes up to the one saying it listens.
fn start_up_log(public_url: Option<&str>) -> Vec<String> {
    let db = TestDatabase::create();
    let mut command = Command::new(env!("CARGO_BIN_EXE_zhiban"));
    command
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("ZHIBAN_JWT_SECRET", TEST_JWT_SECRET)
        .env("ZHIBAN_BIND", "127.0.0.1:0")
        .env("ZHIBAN_WORKER", "off")
        .env("RUST_LOG", "info")
        .env_remove("ZHIBAN_PUBLIC_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(url) = public_url {
        command.env("ZHIBAN_PUBLIC_URL", url);
    }
    let mut child = command.spawn().expect("start zhiban");
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let listening = line.contains("zhiban listening");
        lines.push(line);
        if listening {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines
}

#[test]
fn serve_warns_when_printed_links_would_follow_the_request() {
    let unset = start_up_log(None);
    assert!(unset.iter().any(|l| l.contains("zhiban listening")), "{unset:?}");
    assert!(unset.iter().any(|l| l.contains("WARN") && l.contains("ZHIBAN_PUBLIC_URL is not set")), "{unset:?}");
    let set = start_up_log(Some("https://zhiban.example"));
    assert!(set.iter().any(|l| l.contains("zhiban listening")), "{set:?}");
    assert!(!set.iter().any(|l| l.contains("ZHIBAN_PUBLIC_URL")), "{set:?}");
}
