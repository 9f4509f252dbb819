//! Resident submissions per second and latency on SQLite, next to `GET /health` in the same
//! run, then the tracking-page read of what was submitted. `cargo bench --bench items`
//! (release). The load runs in this process, sharing the machine's cores with the server;
//! every acknowledged submission is then counted in the database.

mod support;

use diesel::prelude::*;
use zhiban::schema::items;

const SUBMISSIONS: usize = 5000;
const CONCURRENCY: usize = 64;

#[tokio::main]
async fn main() {
    // All load comes from one address: lift the per-address limit so it measures the work.
    let server = support::start_with("items", &[("ZHIBAN_SUBMISSIONS_PER_ADDRESS", "1000000")]).await;
    let pool = server.pool.clone();
    tokio::task::spawn_blocking(move || fixture(&pool)).await.unwrap();

    let client = support::client();
    let base = server.base.clone();
    let (c, b) = (client.clone(), base.clone());
    drop(
        support::load("warm-up", 2000, CONCURRENCY, move |_| {
            let (c, b) = (c.clone(), b.clone());
            async move { c.get(format!("{b}/health")).send().await.is_ok_and(|r| r.status().is_success()) }
        })
        .await,
    );
    let (c, b) = (client.clone(), base.clone());
    let health = support::load("GET /health", 20_000, CONCURRENCY, move |_| {
        let (c, b) = (c.clone(), b.clone());
        async move { c.get(format!("{b}/health")).send().await.is_ok_and(|r| r.status().is_success()) }
    })
    .await;

    let codes = std::sync::Arc::new(std::sync::Mutex::new(Vec::with_capacity(SUBMISSIONS)));
    let (c, b, sink) = (client.clone(), base.clone(), codes.clone());
    let submit = support::load("POST /api/v1/public/items", SUBMISSIONS, CONCURRENCY, move |i| {
        let (c, b, sink) = (c.clone(), b.clone(), sink.clone());
        async move {
            let body = serde_json::json!({
                "venue_code": "bench-studio", "kind": if i % 2 == 0 { "opinion" } else { "consultation" },
                "topic": "交通出行", "body": format!("第{i}条：村口道路破损，雨天积水，希望尽快修复。"),
                "consent": true,
            });
            match c.post(format!("{b}/api/v1/public/items")).json(&body).send().await {
                Ok(r) if r.status().as_u16() == 201 => match r.json::<serde_json::Value>().await {
                    Ok(v) => {
                        sink.lock().unwrap().push(v["tracking_code"].as_str().unwrap_or_default().to_owned());
                        true
                    }
                    Err(_) => false,
                },
                _ => false,
            }
        }
    })
    .await;

    let codes = std::sync::Arc::new(codes.lock().unwrap().clone());
    let (c, b, list) = (client.clone(), base.clone(), codes.clone());
    let track = support::load("GET /api/v1/public/items/{c}", codes.len(), CONCURRENCY, move |i| {
        let (c, b, list) = (c.clone(), b.clone(), list.clone());
        async move {
            c.get(format!("{b}/api/v1/public/items/{}", list[i])).send().await.is_ok_and(|r| r.status().is_success())
        }
    })
    .await;

    println!("\nzhiban resident-item benchmark (SQLite, release, {CONCURRENCY} concurrent clients in-process)");
    health.print(None);
    submit.print(Some(&health));
    track.print(Some(&health));
    let pool = server.pool.clone();
    let stored: i64 =
        tokio::task::spawn_blocking(move || items::table.count().get_result(&mut pool.get().unwrap()).unwrap())
            .await
            .unwrap();
    let acknowledged = submit.requests - submit.errors;
    println!("acknowledged submissions {acknowledged}, rows in the database {stored}");
    assert_eq!(stored as usize, acknowledged, "every acknowledged submission is stored");
}

/// A committee with one township studio whose printed QR says `bench-studio`.
fn fixture(pool: &zhiban::db::DbPool) {
    use zhiban::domain::*;
    let mut conn = pool.get().unwrap();
    let created = zhiban::committee::create(
        &mut conn,
        zhiban::committee::NewCommittee {
            code: "bench",
            name: "基准政协",
            timezone: Timezone::parse("Asia/Shanghai").unwrap(),
            admin_name: PersonName::parse("管理员").unwrap(),
            admin_phone: Phone::parse("13900000000").unwrap(),
            admin_password: Password::parse("bench-password").unwrap(),
        },
    )
    .unwrap();
    zhiban::venues::queries::insert(
        &mut conn,
        created.committee_id,
        &zhiban::venues::queries::NewVenue {
            kind: "township_studio",
            name: "城关镇委员工作室".into(),
            township: Some("城关镇".into()),
            code: "bench-studio".into(),
            latitude: None,
            longitude: None,
            radius_m: None,
        },
        zhiban::db::now(),
    )
    .unwrap();
}
