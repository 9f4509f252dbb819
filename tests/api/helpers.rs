//! Test harness: the real application on a real port, over a fresh database per test —
//! a SQLite file in a temporary folder, or (with `TEST_DATABASE_URL`) a new PostgreSQL
//! database — dropped when the test ends.

use std::net::TcpListener;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use zhiban::clock::Clock;
use zhiban::config::{SecretPolicy, Settings};
use zhiban::db::{self, DbPool};
use zhiban::startup::Application;

pub const TEST_JWT_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";
pub const PASSWORD: &str = "correct-horse-42";

/// A database that exists for one test only.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteDir(PathBuf),
    Postgres { admin_url: String, name: String },
}

fn unique_name() -> String {
    format!(
        "zhiban_test_{}",
        zhiban::auth::tokens::random_token().to_lowercase().replace(['-', '_'], "")[..16].to_owned()
    )
}

impl TestDatabase {
    pub fn create() -> Self {
        match std::env::var("TEST_DATABASE_URL").ok().filter(|s| !s.is_empty()) {
            Some(admin_url) => {
                let name = unique_name();
                let mut conn = admin_connection(&admin_url);
                diesel::connection::SimpleConnection::batch_execute(&mut conn, &format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                // The test server is local: without TLS unless the URL asks for it. With it, the
                // process sometimes died with SIGSEGV at exit (about 1 run in 15 of a few tests),
                // while server threads the tests leave running still held TLS connections.
                let mut url = replace_database(&admin_url, &name);
                if !url.contains("sslmode=") {
                    url.push_str(if url.contains('?') { "&sslmode=disable" } else { "?sslmode=disable" });
                }
                Self { url, cleanup: Cleanup::Postgres { admin_url, name } }
            }
            None => {
                let dir = std::env::temp_dir().join(unique_name());
                std::fs::create_dir_all(&dir).expect("temp dir");
                Self { url: format!("sqlite://{}", dir.join("zhiban.db").display()), cleanup: Cleanup::SqliteDir(dir) }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.cleanup, Cleanup::Postgres { .. })
    }
}

fn admin_connection(url: &str) -> diesel::PgConnection {
    use diesel::Connection;
    diesel::PgConnection::establish(url).unwrap_or_else(|e| panic!("TEST_DATABASE_URL unreachable: {e}"))
}

/// `postgres://u@h:5432/postgres?x` → same server, database `name`.
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map(|(b, q)| (b, Some(q))).unwrap_or((url, None));
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let server = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteDir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                let mut conn = admin_connection(admin_url);
                let _ = diesel::connection::SimpleConnection::batch_execute(
                    &mut conn,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                );
            }
        }
    }
}

pub struct TestApp {
    pub address: String,
    /// The server's clock: the system's, or pinned by `spawn_app_at`. Tests read "now" here.
    pub clock: Clock,
    pub client: reqwest::Client,
    pub pool: DbPool,
    // Declared last: dropped after the server's pool handles above.
    pub db: TestDatabase,
}

pub fn test_settings(database_url: &str) -> Settings {
    test_settings_with(database_url, &[])
}

/// The test settings with some variables set (`Some`) or unset (`None`) on top.
pub fn test_settings_with(database_url: &str, overrides: &[(&str, Option<&str>)]) -> Settings {
    let url = database_url.to_owned();
    let overrides: Vec<(String, Option<String>)> =
        overrides.iter().map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned))).collect();
    Settings::from_lookup(
        move |key| {
            if let Some((_, value)) = overrides.iter().find(|(k, _)| k == key) {
                return value.clone();
            }
            match key {
                "DATABASE_URL" => Some(url.clone()),
                "ZHIBAN_BIND" => Some("127.0.0.1:0".to_owned()),
                "ZHIBAN_JWT_SECRET" => Some(TEST_JWT_SECRET.to_owned()),
                "ZHIBAN_DB_POOL_SIZE" => Some("4".to_owned()),
                // Tests drive the outbox worker by hand (`zhiban::outbox::worker::run_once`).
                "ZHIBAN_WORKER" => Some("off".to_owned()),
                // The tests' webhook, robot and SMS receivers listen on this host.
                "ZHIBAN_WEBHOOK_ALLOW_PRIVATE" => Some("1".to_owned()),
                _ => None,
            }
        },
        SecretPolicy::Required,
    )
    .expect("test settings")
}

pub async fn spawn_app() -> TestApp {
    let db = TestDatabase::create();
    spawn_app_on(db).await
}

/// The app with its clock started at `at` (it runs on from there): a test that needs a
/// particular day — a December before its reception day, 23:30 local, 29 February — pins it
/// instead of depending on the day it runs.
pub async fn spawn_app_at(at: DateTime<Utc>) -> TestApp {
    spawn_app_with(TestDatabase::create(), Clock::starting_at(at)).await
}

/// 10:00 on Friday 20 November 2026 in Asia/Shanghai: a working day of the year whose official
/// calendar ships, before December's reception day. The instant of tests written around
/// "December 2026 is ahead".
pub fn november_2026() -> DateTime<Utc> {
    "2026-11-20T02:00:00Z".parse().unwrap()
}

pub async fn spawn_app_on(db: TestDatabase) -> TestApp {
    spawn_app_with(db, Clock::system()).await
}

pub async fn spawn_app_with(db: TestDatabase, clock: Clock) -> TestApp {
    let mut settings = test_settings(&db.url);
    settings.clock = clock;
    spawn_app_from(db, settings).await
}

/// An app whose settings differ from the tests' in `overrides` (see [`test_settings_with`]).
pub async fn spawn_app_configured(overrides: &[(&str, Option<&str>)]) -> TestApp {
    let db = TestDatabase::create();
    let settings = test_settings_with(&db.url, overrides);
    spawn_app_from(db, settings).await
}

async fn spawn_app_from(db: TestDatabase, settings: Settings) -> TestApp {
    let clock = settings.clock.clone();
    let location = settings.database.clone();
    let pool = tokio::task::spawn_blocking(move || {
        let pool = db::connect(&location, 4).expect("connect");
        db::run_migrations(&mut pool.get().expect("conn")).expect("migrate");
        pool
    })
    .await
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let app = Application::build_with(settings, pool.clone(), listener).expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp { address, clock, client: reqwest::Client::builder().build().unwrap(), pool, db }
}

/// A committee made for a test, with its admin's credentials.
#[derive(Debug, Clone)]
pub struct TestCommittee {
    pub id: i64,
    pub admin_id: i64,
    pub admin_phone: String,
    /// First two digits after `1` that this committee's test phones use.
    pub prefix: String,
}

impl TestCommittee {
    /// A phone number unique to this committee: `1{prefix}{n:08}`.
    pub fn phone(&self, n: u32) -> String {
        format!("1{}{n:08}", self.prefix)
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Opens a committee directly (as `zhiban create-committee` does); phones start `1{prefix}`.
    pub async fn committee(&self, code: &str, prefix: &str) -> TestCommittee {
        let pool = self.pool.clone();
        let (code_owned, prefix_owned) = (code.to_owned(), prefix.to_owned());
        let now = self.clock.now_naive();
        tokio::task::spawn_blocking(move || {
            use zhiban::domain::*;
            let admin_phone = format!("1{prefix_owned}00000000");
            let mut conn = pool.get().unwrap();
            let created = zhiban::committee::create(
                &mut conn,
                zhiban::committee::NewCommittee {
                    code: &code_owned,
                    name: &format!("{code_owned}政协"),
                    timezone: Timezone::parse("Asia/Shanghai").unwrap(),
                    admin_name: PersonName::parse("管理员").unwrap(),
                    admin_phone: Phone::parse(&admin_phone).unwrap(),
                    admin_password: Password::parse(PASSWORD).unwrap(),
                },
                now,
            )
            .unwrap();
            TestCommittee { id: created.committee_id, admin_id: created.admin_id, admin_phone, prefix: prefix_owned }
        })
        .await
        .unwrap()
    }

    pub async fn login(&self, phone: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "phone": phone, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// Signs in and returns the access token; panics unless sign-in succeeds.
    pub async fn token(&self, phone: &str) -> String {
        let res = self.login(phone, PASSWORD).await;
        assert_eq!(res.status(), 200, "login of {phone} failed");
        res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::PATCH, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::PUT, path, Some(token), Some(body)).await
    }

    /// Creates a venue as the admin; returns its id.
    pub async fn venue(&self, admin_token: &str, code: &str, name: &str) -> i64 {
        let res = self
            .post("/api/v1/venues", admin_token, json!({ "kind": "township_studio", "name": name, "code": code }))
            .await;
        assert_eq!(res.status(), 201, "create venue {code}");
        res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    /// Creates an account as the admin with the test password; returns its id.
    pub async fn member(&self, admin_token: &str, body: Value) -> i64 {
        let mut body = body;
        body["password"] = json!(PASSWORD);
        let res = self.post("/api/v1/members", admin_token, body).await;
        let status = res.status();
        let json: Value = res.json().await.unwrap();
        assert_eq!(status, 201, "create member: {json}");
        json["id"].as_i64().unwrap()
    }
}

/// Reads a problem+json response, checking its content type and status; returns the body.
pub async fn problem(res: Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status for expected {code}");
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(ct.starts_with("application/problem+json"), "content type {ct}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], code, "body {body}");
    assert_eq!(body["status"], status);
    body
}

impl TestApp {
    /// A second server on the same database, as a second instance behind a load balancer.
    pub async fn another_instance(&self) -> String {
        let mut settings = test_settings(&self.db.url);
        settings.clock = self.clock.clone();
        serve(settings).await
    }
}

/// Serves `settings` on a free port with a pool of its own (a second instance, a restored
/// copy, other secrets); returns its base URL.
pub async fn serve(settings: Settings) -> String {
    let location = settings.database.clone();
    let pool = tokio::task::spawn_blocking(move || db::connect(&location, 4).expect("connect")).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let app = Application::build_with(settings, pool, listener).expect("build instance");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}

/// The client the outbox worker delivers with, reaching the tests' receivers on this host.
pub fn delivery_client(timeout: std::time::Duration) -> zhiban::egress::Outbound {
    let loopback = zhiban::egress::Egress::parse("127.0.0.0/8").expect("a network");
    zhiban::egress::Outbound::new(loopback, timeout).expect("an HTTP client")
}
