use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TEST_JWT_SECRET, TestApp, november_2026, problem, spawn_app, spawn_app_at};

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.request(Method::POST, "/api/v1/auth/refresh", None, Some(json!({ "refresh_token": token }))).await
}

#[tokio::test]
async fn login_gives_tokens_that_open_me() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    let res = app.login(&c.admin_phone, PASSWORD).await;
    assert_eq!(res.status(), 200);
    let pair: Value = res.json().await.unwrap();
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    assert_eq!(pair["roles"], json!(["admin"]));
    let me: Value = app.get("/api/v1/me", pair["access_token"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(me["id"], c.admin_id);
    assert_eq!(me["committee"]["code"], "alpha");
    assert_eq!(me["committee"]["timezone"], "Asia/Shanghai");
}

#[tokio::test]
async fn wrong_password_and_unknown_phone_look_the_same() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    let wrong = problem(app.login(&c.admin_phone, "not-the-password").await, 401, "invalid_credentials").await;
    let unknown = problem(app.login(&c.phone(99), PASSWORD).await, 401, "invalid_credentials").await;
    assert_eq!(wrong, unknown);
    // Neither the phone nor the password is echoed.
    assert!(!wrong.to_string().contains(&c.admin_phone));
    assert!(!wrong.to_string().contains("not-the-password"));
}

#[tokio::test]
async fn repeated_failures_throttle_the_account_not_others() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    app.member(&admin, json!({ "name": "林一", "phone": c.phone(1) })).await;
    for _ in 0..5 {
        problem(app.login(&c.admin_phone, "wrong-password").await, 401, "invalid_credentials").await;
    }
    // Now even the right password is refused for a while, with a Retry-After.
    let res = app.login(&c.admin_phone, PASSWORD).await;
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "retry-after {retry}");
    problem(res, 429, "login_throttled").await;
    // Another account from the same address is below the per-address limit.
    assert_eq!(app.login(&c.phone(1), PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn many_accounts_from_one_address_trip_the_address_limit() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    // 20 failures spread over 5 phones: no account reaches its own limit of 5.
    for i in 0..20 {
        problem(app.login(&c.phone(100 + i % 5), "wrong-password").await, 401, "invalid_credentials").await;
    }
    problem(app.login(&c.admin_phone, PASSWORD).await, 429, "login_throttled").await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_ends_the_session() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    let first: Value = app.login(&c.admin_phone, PASSWORD).await.json().await.unwrap();
    let r1 = first["refresh_token"].as_str().unwrap();

    let res = refresh(&app, r1).await;
    assert_eq!(res.status(), 200);
    let second: Value = res.json().await.unwrap();
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2);
    assert_eq!(app.get("/api/v1/me", second["access_token"].as_str().unwrap()).await.status(), 200);

    // The spent token comes back: someone has a copy. The whole family is revoked…
    problem(refresh(&app, r1).await, 401, "refresh_token_reused").await;
    // …including the legitimate newest token.
    problem(refresh(&app, r2).await, 401, "refresh_token_invalid").await;
    // A separate sign-in is unaffected by the other session's revocation.
    let other: Value = app.login(&c.admin_phone, PASSWORD).await.json().await.unwrap();
    assert_eq!(refresh(&app, other["refresh_token"].as_str().unwrap()).await.status(), 200);
}

#[tokio::test]
async fn unknown_refresh_token_and_logout() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    problem(refresh(&app, "made-up-token").await, 401, "refresh_token_invalid").await;
    let pair: Value = app.login(&c.admin_phone, PASSWORD).await.json().await.unwrap();
    let token = pair["refresh_token"].as_str().unwrap();
    let res = app.request(Method::POST, "/api/v1/auth/logout", None, Some(json!({ "refresh_token": token }))).await;
    assert_eq!(res.status(), 204);
    problem(refresh(&app, token).await, 401, "refresh_token_invalid").await;
}

fn sign(claims: Value, secret: &str) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

#[tokio::test]
async fn expired_tampered_and_missing_tokens_are_401() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    let now = chrono::Utc::now().timestamp();
    let sid = session_of(&app.token(&c.admin_phone).await);
    let claims = |exp: i64| json!({ "sub": c.admin_id.to_string(), "cid": c.id, "roles": ["admin"], "sid": sid, "iat": now - 3600, "exp": exp });

    // Sanity: a well-formed token of a live session signed with the server's secret works…
    assert_eq!(app.get("/api/v1/me", &sign(claims(now + 600), TEST_JWT_SECRET)).await.status(), 200);
    // …and without a session it does not.
    let sessionless =
        json!({ "sub": c.admin_id.to_string(), "cid": c.id, "roles": ["admin"], "iat": now, "exp": now + 600 });
    problem(app.get("/api/v1/me", &sign(sessionless, TEST_JWT_SECRET)).await, 401, "token_invalid").await;
    let unknown = json!({ "sub": c.admin_id.to_string(), "cid": c.id, "roles": ["admin"], "sid": "made-up", "iat": now, "exp": now + 600 });
    problem(app.get("/api/v1/me", &sign(unknown, TEST_JWT_SECRET)).await, 401, "session_ended").await;

    problem(app.get("/api/v1/me", &sign(claims(now - 600), TEST_JWT_SECRET)).await, 401, "token_expired").await;
    problem(
        app.get("/api/v1/me", &sign(claims(now + 600), "another-secret-of-sufficient-length!!")).await,
        401,
        "token_invalid",
    )
    .await;

    // Flip the payload to claim another committee while keeping the signature.
    let good = app.token(&c.admin_phone).await;
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = base64_url(
        &json!({ "sub": c.admin_id.to_string(), "cid": c.id + 1, "roles": ["admin"], "iat": now, "exp": now + 600 }),
    );
    problem(app.get("/api/v1/me", &parts.join(".")).await, 401, "token_invalid").await;

    // `alg: none` is never accepted.
    let unsigned = format!("{}.{}.", base64_url(&json!({ "alg": "none", "typ": "JWT" })), parts[1]);
    problem(app.get("/api/v1/me", &unsigned).await, 401, "token_invalid").await;

    problem(app.request(Method::GET, "/api/v1/me", None, None).await, 401, "unauthenticated").await;
}

/// The session an access token belongs to (its `sid` claim).
fn session_of(access_token: &str) -> String {
    use base64::Engine;
    let payload = access_token.split('.').nth(1).unwrap();
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}

fn base64_url(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn roles_are_enforced() {
    let app = spawn_app_at(november_2026()).await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    let v1 = app.venue(&admin, "a-one", "一号工作室").await;
    let v2 = app.venue(&admin, "a-two", "二号工作室").await;
    app.member(&admin, json!({ "name": "委员甲", "phone": c.phone(1), "home_venue_id": v1 })).await;
    app.member(
        &admin,
        json!({ "name": "联络员乙", "phone": c.phone(2), "roles": ["coordinator"], "coordinator_venue_ids": [v1] }),
    )
    .await;
    let other = app.member(&admin, json!({ "name": "委员丙", "phone": c.phone(3), "home_venue_id": v2 })).await;
    let member = app.token(&c.phone(1)).await;
    let coordinator = app.token(&c.phone(2)).await;

    let new_venue = json!({ "kind": "township_studio", "name": "三号", "code": "a-three" });
    problem(app.post("/api/v1/venues", &member, new_venue.clone()).await, 403, "forbidden").await;
    problem(app.post("/api/v1/venues", &coordinator, new_venue).await, 403, "forbidden").await;
    problem(app.get("/api/v1/members", &member).await, 403, "forbidden").await;
    problem(app.get(&format!("/api/v1/members/{other}"), &member).await, 403, "forbidden").await;
    problem(
        app.put("/api/v1/calendar/2026", &coordinator, json!({ "holidays": [], "adjusted_working_days": [] })).await,
        403,
        "forbidden",
    )
    .await;

    // The coordinator reads within scope and is told when outside it.
    assert_eq!(app.get(&format!("/api/v1/members?venue_id={v1}"), &coordinator).await.status(), 200);
    problem(app.get(&format!("/api/v1/members?venue_id={v2}"), &coordinator).await, 403, "out_of_scope").await;
    problem(app.get(&format!("/api/v1/members/{other}"), &coordinator).await, 403, "out_of_scope").await;
    let listed: Value = app.get("/api/v1/members", &coordinator).await.json().await.unwrap();
    let ids: Vec<i64> = listed["items"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert!(!ids.contains(&other), "coordinator of v1 must not list v2's member");
    assert!(!ids.contains(&c.admin_id), "staff accounts are not in the roving pool");
}

#[tokio::test]
async fn deactivated_accounts_cannot_sign_in_or_refresh() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    let id = app.member(&admin, json!({ "name": "林一", "phone": c.phone(1) })).await;
    let pair: Value = app.login(&c.phone(1), PASSWORD).await.json().await.unwrap();
    let res = app.patch(&format!("/api/v1/members/{id}"), &admin, json!({ "active": false })).await;
    assert_eq!(res.status(), 200);
    problem(app.login(&c.phone(1), PASSWORD).await, 403, "account_inactive").await;
    problem(refresh(&app, pair["refresh_token"].as_str().unwrap()).await, 401, "refresh_token_invalid").await;
}

/// An instance on the same database with `ZHIBAN_JWT_SECRET=current` and, optionally,
/// `ZHIBAN_JWT_PREVIOUS_SECRET=previous`; returns its base URL.
async fn instance_with_secrets(app: &TestApp, current: &str, previous: Option<&str>) -> String {
    let settings = crate::helpers::test_settings_with(
        &app.db.url,
        &[("ZHIBAN_JWT_SECRET", Some(current)), ("ZHIBAN_JWT_PREVIOUS_SECRET", previous)],
    );
    crate::helpers::serve(settings).await
}

#[tokio::test]
async fn rotating_the_jwt_secret_keeps_everyone_signed_in() {
    let app = spawn_app().await;
    let c = app.committee("rotate", "39").await;
    let session: Value = app.login(&c.admin_phone, PASSWORD).await.json().await.unwrap();
    let old_access = session["access_token"].as_str().unwrap().to_owned();
    let new_secret = "rotated-secret-9876543210fedcba9876543210fedcba";
    let me = |base: String, token: String| {
        let client = app.client.clone();
        async move { client.get(format!("{base}/api/v1/me")).bearer_auth(token).send().await.unwrap() }
    };

    // During the rotation: the old access token still opens, a refresh signs with the new secret.
    let rotating = instance_with_secrets(&app, new_secret, Some(TEST_JWT_SECRET)).await;
    assert_eq!(me(rotating.clone(), old_access.clone()).await.status(), 200);
    let refreshed: Value = app
        .client
        .post(format!("{rotating}/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": session["refresh_token"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_access = refreshed["access_token"].as_str().expect("refresh tokens outlive the rotation").to_owned();
    assert_eq!(me(rotating.clone(), new_access.clone()).await.status(), 200);
    // The server still on the old secret does not take the new tokens: they are not forgeable
    // with the old secret, and vice versa once the previous one is dropped.
    problem(me(app.address.clone(), new_access.clone()).await, 401, "token_invalid").await;

    // After it: only the new secret's tokens open.
    let rotated = instance_with_secrets(&app, new_secret, None).await;
    assert_eq!(me(rotated.clone(), new_access).await.status(), 200);
    problem(me(rotated, old_access).await, 401, "token_invalid").await;
}

/// An instance on the same database behind a proxy at 127.0.0.1, so each request can come
/// from the address its `X-Forwarded-For` names; returns its base URL.
async fn behind_proxy(app: &TestApp) -> String {
    let mut settings =
        crate::helpers::test_settings_with(&app.db.url, &[("ZHIBAN_TRUSTED_PROXIES", Some("127.0.0.1"))]);
    settings.clock = app.clock.clone();
    crate::helpers::serve(settings).await
}

async fn login_from(app: &TestApp, base: &str, address: &str, phone: &str, password: &str) -> reqwest::Response {
    app.client
        .post(format!("{base}/api/v1/auth/login"))
        .header("x-forwarded-for", address)
        .json(&json!({ "phone": phone, "password": password }))
        .send()
        .await
        .unwrap()
}

/// (401s, 429s) of `n` parallel wrong passwords, the i-th for `phone(i)`.
async fn parallel_failures(app: &TestApp, n: u32, phone: impl Fn(u32) -> String) -> (usize, usize) {
    let attempts = (0..n).map(|i| {
        let (client, url, phone) = (app.client.clone(), app.url("/api/v1/auth/login"), phone(i));
        tokio::spawn(async move {
            let body = json!({ "phone": phone, "password": "wrong-password" });
            client.post(url).json(&body).send().await.unwrap().status().as_u16()
        })
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts).await.into_iter().map(Result::unwrap).collect();
    let count = |s: u16| statuses.iter().filter(|&&x| x == s).count();
    assert_eq!(count(401) + count(429), n as usize, "only 401 and 429: {statuses:?}");
    (count(401), count(429))
}

#[tokio::test]
async fn parallel_wrong_passwords_get_exactly_the_limit_of_evaluations() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    // 40 at once for one phone: 5 are evaluated, the others refused unseen.
    assert_eq!(parallel_failures(&app, 40, |_| c.admin_phone.clone()).await, (5, 35));
    // 40 at once over 40 phones of a fresh committee from one address: the address's 20,
    // less the 5 it already spent above.
    let d = app.committee("beta", "39").await;
    assert_eq!(parallel_failures(&app, 40, |i| d.phone(i)).await, (15, 25));
}

#[tokio::test]
async fn failures_elsewhere_cannot_lock_a_member_out() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    let proxy = behind_proxy(&app).await;
    let phone = &c.admin_phone;
    for i in 0..8 {
        let res = login_from(&app, &proxy, "203.0.113.9", phone, "wrong-password").await;
        assert_eq!(res.status(), if i < 5 { 401 } else { 429 }, "attempt {i} of the attacker");
    }
    // The attacker's address is locked out of this phone; the member at theirs is not.
    assert_eq!(login_from(&app, &proxy, "198.51.100.7", phone, PASSWORD).await.status(), 200);

    // A guessing run from many addresses: past 50 evaluated failures the phone is under
    // attack and each address gets 2 attempts instead of 5. Slowed, never locked: the member
    // still signs in from a fresh address.
    for n in 1..=10 {
        for _ in 0..5 {
            login_from(&app, &proxy, &format!("192.0.2.{n}"), phone, "wrong-password").await;
        }
    }
    let slowed = "192.0.2.200";
    for expected in [401, 401, 429] {
        assert_eq!(login_from(&app, &proxy, slowed, phone, "wrong-password").await.status(), expected);
    }
    assert_eq!(login_from(&app, &proxy, "198.51.100.8", phone, PASSWORD).await.status(), 200);
}
