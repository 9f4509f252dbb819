//! The member's notices (消息) and own preferences over the API, the contract a native app
//! would use: the same notices as the member pages, read state shared with them, newest
//! first by cursor, nobody else's notice reachable, and the SMS switch.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{problem, spawn_app_at};
use crate::member_pages::{Phone, reception, reception_morning};

#[tokio::test]
async fn a_members_notices_page_newest_first_are_read_once_and_are_nobody_elses() {
    let app = spawn_app_at(reception_morning()).await;
    let k = reception(&app).await;
    let lin = app.token(&k.phones[0]).await;
    let wang = app.token(&k.phones[2]).await;

    let me: Value = app.get("/api/v1/me", &wang).await.json().await.unwrap();
    assert_eq!((me["unread_notices"].as_i64(), me["sms_enabled"].as_bool()), (Some(0), Some(true)), "{me}");

    // 林委员 offers tomorrow's duty to 王委员, then withdraws it: two notices for 王委员.
    let res =
        app.post("/api/v1/swap-requests", &lin, json!({ "assignment_id": k.tomorrow, "to_member_id": k.wang })).await;
    assert_eq!(res.status(), 201);
    let swap = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(app.post(&format!("/api/v1/swap-requests/{swap}/cancel"), &lin, json!({})).await.status(), 200);

    let me: Value = app.get("/api/v1/me", &wang).await.json().await.unwrap();
    assert_eq!(me["unread_notices"], 2);
    let all: Value = app.get("/api/v1/me/notices", &wang).await.json().await.unwrap();
    let kinds: Vec<&str> = all["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["swap.cancelled", "swap.offered"], "newest first");
    assert_eq!(all["next_cursor"], Value::Null);
    assert_eq!(all["items"][1]["read_at"], Value::Null);

    // One at a time, by cursor: every notice once.
    let mut seen = Vec::new();
    let mut path = "/api/v1/me/notices?limit=1".to_owned();
    loop {
        let page: Value = app.get(&path, &wang).await.json().await.unwrap();
        seen.extend(page["items"].as_array().unwrap().iter().map(|n| n["id"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/me/notices?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    let ids: Vec<i64> = all["items"].as_array().unwrap().iter().map(|n| n["id"].as_i64().unwrap()).collect();
    assert_eq!(seen, ids);

    // Another member cannot read (or learn of) 王委员's notice.
    let offered = ids[1];
    problem(app.post(&format!("/api/v1/me/notices/{offered}/read"), &lin, json!({})).await, 404, "not_found").await;
    let lins: Value = app.get("/api/v1/me/notices", &lin).await.json().await.unwrap();
    assert!(lins["items"].as_array().unwrap().iter().all(|n| !ids.contains(&n["id"].as_i64().unwrap())));

    // Read once: the time stays the first; the member pages see it read too.
    let read: Value =
        app.post(&format!("/api/v1/me/notices/{offered}/read"), &wang, json!({})).await.json().await.unwrap();
    let first = read["read_at"].as_str().expect("read now").to_owned();
    app.clock.advance(chrono::Duration::minutes(5));
    let again: Value =
        app.post(&format!("/api/v1/me/notices/{offered}/read"), &wang, json!({})).await.json().await.unwrap();
    assert_eq!(again["read_at"].as_str(), Some(first.as_str()));
    let phone = Phone::sign_in(&app, &k.phones[2]).await;
    assert!(phone.page("/m/notices").await.contains(r#"<span id="unread">1</span>"#));
    let res = app.post("/api/v1/me/notices/read-all", &wang, json!({})).await;
    assert_eq!(res.status(), 204);
    let me: Value = app.get("/api/v1/me", &wang).await.json().await.unwrap();
    assert_eq!(me["unread_notices"], 0);
    let unread: BTreeSet<bool> = app.get("/api/v1/me/notices", &wang).await.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["read_at"].is_null())
        .collect();
    assert_eq!(unread, BTreeSet::from([false]));
}

#[tokio::test]
async fn a_member_turns_sms_off_and_on_through_the_api() {
    let app = spawn_app_at(reception_morning()).await;
    let k = reception(&app).await;
    let wang = app.token(&k.phones[2]).await;
    let me: Value = app.patch("/api/v1/me", &wang, json!({ "sms_enabled": false })).await.json().await.unwrap();
    assert_eq!(me["sms_enabled"], false);
    assert_eq!(app.get("/api/v1/me", &wang).await.json::<Value>().await.unwrap()["sms_enabled"], false);
    // The member pages show the same switch.
    let phone = Phone::sign_in(&app, &k.phones[2]).await;
    let page = phone.page("/m/notices").await;
    assert!(page.contains(r#"<strong id="sms-state">已关闭</strong>"#), "{page}");
    // Only the member's own preferences can be changed here.
    let res = app.patch("/api/v1/me", &wang, json!({ "roles": ["admin"] })).await;
    problem(res, 400, "bad_request").await;
    let me: Value = app.get("/api/v1/me", &wang).await.json().await.unwrap();
    assert_eq!(me["roles"], json!(["member"]));
    let me: Value = app.patch("/api/v1/me", &wang, json!({ "sms_enabled": true })).await.json().await.unwrap();
    assert_eq!(me["sms_enabled"], true);
}
