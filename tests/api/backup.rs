//! `zhiban backup` and `zhiban restore`, run as the real binary: a copy taken while the server
//! takes writes, restored into a fresh folder, serves what had been acknowledged.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

use crate::helpers::{TestApp, serve, spawn_app, test_settings};

/// A folder of its own, removed afterwards.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new() -> Self {
        let token = zhiban::auth::tokens::random_token().replace(['-', '_'], "");
        let dir = std::env::temp_dir().join(format!("zhiban-backup-{}", &token[..12]));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn zhiban(args: &[&str], database_url: &str) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_zhiban"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env_remove("ZHIBAN_JWT_SECRET")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run zhiban")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

async fn add_member(app: &TestApp, admin: &str, phone: &str, n: usize) -> bool {
    let res = app
        .post("/api/v1/members", admin, json!({ "name": format!("备份委员{n}"), "phone": phone, "sector": "经济界" }))
        .await;
    res.status() == 201
}

#[tokio::test]
async fn a_backup_taken_under_writes_restores_and_serves() {
    let app = spawn_app().await;
    if app.db.is_postgres() {
        // The PostgreSQL deployment uses pg_dump; the command says so rather than guess.
        let out = zhiban(&["backup", "/tmp/never-written.db"], &app.db.url);
        assert!(!out.status.success());
        assert!(text(&out).contains("pg_dump"), "{}", text(&out));
        assert!(!Path::new("/tmp/never-written.db").exists());
        return;
    }
    let c = app.committee("backup", "58").await;
    let admin = app.token(&c.admin_phone).await;
    for n in 1..=20 {
        assert!(add_member(&app, &admin, &c.phone(n as u32), n).await);
    }

    // Writes keep coming while the copy is taken.
    let writer = {
        let (address, admin, prefix) = (app.address.clone(), admin.clone(), c.prefix.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut acknowledged = 0;
            for n in 21..=120u32 {
                let res = client
                    .post(format!("{address}/api/v1/members"))
                    .bearer_auth(&admin)
                    .json(&json!({ "name": format!("备份委员{n}"), "phone": format!("1{prefix}{n:08}") }))
                    .send()
                    .await
                    .unwrap();
                acknowledged += usize::from(res.status() == 201);
            }
            acknowledged
        })
    };
    let dir = Scratch::new();
    let copy = dir.path().join("copies/zhiban-backup.db");
    let out = tokio::task::spawn_blocking({
        let (copy, url) = (copy.clone(), app.db.url.clone());
        move || zhiban(&["backup", copy.to_str().unwrap()], &url)
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("integrity ok"), "{}", text(&out));
    assert_eq!(writer.await.unwrap(), 100);
    assert!(!dir.path().join("copies/zhiban-backup.db.partial").exists());

    // Never over an existing file.
    let again = zhiban(&["backup", copy.to_str().unwrap()], &app.db.url);
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"), "{}", text(&again));

    // Restored into a fresh folder, served by a new server.
    let restored_url = format!("sqlite://{}", dir.path().join("fresh/zhiban.db").display());
    let out = zhiban(&["restore", copy.to_str().unwrap()], &restored_url);
    assert!(out.status.success(), "{}", text(&out));
    let out = zhiban(&["restore", copy.to_str().unwrap()], &restored_url);
    assert!(!out.status.success(), "a restore never replaces a database");
    assert!(text(&out).contains("already exists"), "{}", text(&out));

    let restored = serve(test_settings(&restored_url)).await;
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{restored}/api/v1/auth/login"))
        .json(&json!({ "phone": c.admin_phone, "password": crate::helpers::PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().expect("the admin signs in on the restored copy");
    let members: Value = client
        .get(format!("{restored}/api/v1/members?limit=200"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = members["items"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    // Everything acknowledged before the copy began is there; writes during it are a prefix.
    for n in 1..=20 {
        assert!(names.contains(&format!("备份委员{n}").as_str()), "member {n} was restored");
    }
    let during = (21..=120).filter(|n| names.contains(&format!("备份委员{n}").as_str())).count();
    assert!((21..21 + during).all(|n| names.contains(&format!("备份委员{n}").as_str())), "a consistent cut");
}

#[tokio::test]
async fn restore_refuses_what_is_not_a_sound_zhiban_database() {
    let dir = Scratch::new();
    let junk = dir.path().join("notes.db");
    std::fs::write(&junk, "这不是数据库".repeat(200)).unwrap();
    let target = format!("sqlite://{}", dir.path().join("fresh/zhiban.db").display());
    let out = zhiban(&["restore", junk.to_str().unwrap()], &target);
    assert!(!out.status.success());
    assert!(text(&out).contains("not a sound zhiban database"), "{}", text(&out));
    assert!(!dir.path().join("fresh/zhiban.db").exists(), "nothing is left behind");

    let out = zhiban(&["restore", dir.path().join("missing.db").to_str().unwrap()], &target);
    assert!(!out.status.success());
    assert!(text(&out).contains("does not exist"), "{}", text(&out));
}
