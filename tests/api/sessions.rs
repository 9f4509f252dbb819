//! Ending sessions (issue 17, findings 2 and 7). A new password, a deactivation or a change of
//! roles ends every session of the account: the app's (refresh and access tokens), the
//! console's and the member pages'. A sign-out, a deactivation or a demotion stops old access
//! tokens on every instance within 30 s, not when they expire 15 minutes later.

use chrono::Duration;
use reqwest::Method;
use serde_json::{Value, json};

use crate::console::Console;
use crate::helpers::{PASSWORD, TestApp, november_2026, problem, spawn_app_at};
use crate::items::office;
use crate::member_pages::Phone;

/// One account signed in everywhere: the app's token pair, a console, a phone's member pages.
struct Everywhere {
    access: String,
    refresh: String,
    console: Console,
    phone: Phone,
}

async fn sign_in_everywhere(app: &TestApp, phone: &str) -> Everywhere {
    let pair: Value = app.login(phone, PASSWORD).await.json().await.unwrap();
    Everywhere {
        access: pair["access_token"].as_str().unwrap().to_owned(),
        refresh: pair["refresh_token"].as_str().unwrap().to_owned(),
        console: Console::sign_in(app, phone).await,
        phone: Phone::sign_in(app, phone).await,
    }
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.request(Method::POST, "/api/v1/auth/refresh", None, Some(json!({ "refresh_token": token }))).await
}

async fn assert_still_on(app: &TestApp, s: &Everywhere) {
    assert_eq!(s.console.get("/console/requests").await.0, 200, "console session");
    assert_eq!(s.phone.get("/m").await.0, 200, "member-page session");
    assert_eq!(app.get("/api/v1/me", &s.access).await.status(), 200, "access token");
}

/// Every session is over: the console and the member pages ask to sign in, the refresh token
/// is dead and the access token answers `session_ended` (at once on the instance that made
/// the change).
async fn assert_all_ended(app: &TestApp, s: &Everywhere) {
    assert_eq!(s.console.get("/console/requests").await.0, 303, "the console session goes on");
    assert_eq!(s.phone.get("/m").await.0, 303, "the member-page session goes on");
    problem(refresh(app, &s.refresh).await, 401, "refresh_token_invalid").await;
    problem(app.get("/api/v1/me", &s.access).await, 401, "session_ended").await;
}

async fn id_of(app: &TestApp, token: &str) -> i64 {
    app.get("/api/v1/me", token).await.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_new_password_ends_every_session_of_the_account() {
    let app = spawn_app_at(november_2026()).await;
    let o = office(&app).await;
    let id = id_of(&app, &o.coordinator).await;
    let sessions = sign_in_everywhere(&app, &o.c.phone(1)).await;
    let colleague = sign_in_everywhere(&app, &o.c.phone(2)).await;
    assert_still_on(&app, &sessions).await;

    let res = app.patch(&format!("/api/v1/members/{id}"), &o.admin, json!({ "password": "a-new-password-17" })).await;
    assert_eq!(res.status(), 200);
    assert_all_ended(&app, &sessions).await;
    // Another account is untouched; the new password signs in.
    assert_still_on(&app, &colleague).await;
    assert_eq!(app.login(&o.c.phone(1), "a-new-password-17").await.status(), 200);
}

#[tokio::test]
async fn a_deactivation_or_other_roles_end_every_session_and_other_edits_none() {
    let app = spawn_app_at(november_2026()).await;
    let o = office(&app).await;
    let (first, second) = (id_of(&app, &o.coordinator).await, id_of(&app, &o.other_coordinator).await);
    let demoted = sign_in_everywhere(&app, &o.c.phone(1)).await;
    let deactivated = sign_in_everywhere(&app, &o.c.phone(2)).await;

    // A new name, or the roles the account already has, end nothing.
    let same = json!({ "name": "联络员甲甲", "roles": ["coordinator"] });
    assert_eq!(app.patch(&format!("/api/v1/members/{first}"), &o.admin, same).await.status(), 200);
    assert_still_on(&app, &demoted).await;

    let demote = json!({ "roles": ["member"] });
    assert_eq!(app.patch(&format!("/api/v1/members/{first}"), &o.admin, demote).await.status(), 200);
    assert_all_ended(&app, &demoted).await;

    let deactivate = json!({ "active": false });
    assert_eq!(app.patch(&format!("/api/v1/members/{second}"), &o.admin, deactivate).await.status(), 200);
    assert_all_ended(&app, &deactivated).await;
}

#[tokio::test]
async fn sign_out_deactivation_and_demotion_stop_old_tokens_on_another_instance_within_30_s() {
    let app = spawn_app_at(november_2026()).await;
    let o = office(&app).await;
    let other = app.another_instance().await;
    let member = app.member(&o.admin, json!({ "name": "委员丁", "phone": o.c.phone(5) })).await;
    let member_token = app.token(&o.c.phone(5)).await;
    let coordinator = id_of(&app, &o.coordinator).await;
    let pair: Value = app.login(&o.c.phone(2), PASSWORD).await.json().await.unwrap();
    let signed_out = pair["access_token"].as_str().unwrap().to_owned();
    let on_other = |path: &'static str, token: String| {
        let client = app.client.clone();
        let url = format!("{other}{path}");
        async move { client.get(url).bearer_auth(token).send().await.unwrap() }
    };
    // The other instance has seen all three sessions on (and remembers it for a while).
    assert_eq!(on_other("/api/v1/items", o.coordinator.clone()).await.status(), 200);
    assert_eq!(on_other("/api/v1/me", member_token.clone()).await.status(), 200);
    assert_eq!(on_other("/api/v1/me", signed_out.clone()).await.status(), 200);

    // On this instance: a demotion, a deactivation, a sign-out.
    let demote = json!({ "roles": ["member"] });
    assert_eq!(app.patch(&format!("/api/v1/members/{coordinator}"), &o.admin, demote).await.status(), 200);
    let deactivate = json!({ "active": false });
    assert_eq!(app.patch(&format!("/api/v1/members/{member}"), &o.admin, deactivate).await.status(), 200);
    let logout = json!({ "refresh_token": pair["refresh_token"] });
    assert_eq!(app.request(Method::POST, "/api/v1/auth/logout", None, Some(logout)).await.status(), 204);
    // Here at once.
    problem(app.get("/api/v1/me", &signed_out).await, 401, "session_ended").await;

    // 30 s later, long before the tokens expire, the other instance refuses them all: the
    // demoted coordinator no longer lists residents' items.
    app.clock.advance(Duration::seconds(30));
    problem(on_other("/api/v1/items", o.coordinator.clone()).await, 401, "session_ended").await;
    problem(on_other("/api/v1/me", member_token).await, 401, "session_ended").await;
    problem(on_other("/api/v1/me", signed_out).await, 401, "session_ended").await;
    // Nobody else is signed out.
    assert_eq!(on_other("/api/v1/items", o.admin.clone()).await.status(), 200);
    assert_eq!(on_other("/api/v1/me", o.other_coordinator.clone()).await.status(), 200);
}
