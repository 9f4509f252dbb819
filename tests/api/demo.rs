//! The demo county the README's first command serves: its logins work and it has a past the
//! console and the statistics can show.

use diesel::prelude::*;
use serde_json::Value;

use crate::console::Console;
use crate::helpers::spawn_app;
use zhiban::schema::{checkins, items, leave_requests, swap_requests};

#[tokio::test]
async fn the_demo_county_has_a_past_to_show() {
    let app = spawn_app().await;
    let pool = app.pool.clone();
    let now = app.clock.now_naive();
    let county = tokio::task::spawn_blocking(move || zhiban::demo::ensure(&mut pool.get().unwrap(), now).unwrap())
        .await
        .unwrap();
    let pool = app.pool.clone();
    let (attended, states, swaps, leaves) = tokio::task::spawn_blocking(move || {
        let conn = &mut pool.get().unwrap();
        let attended: i64 = checkins::table.count().get_result(conn).unwrap();
        let states: Vec<String> = items::table.select(items::state).distinct().load(conn).unwrap();
        let swaps: Vec<String> = swap_requests::table.select(swap_requests::status).load(conn).unwrap();
        let leaves: Vec<String> = leave_requests::table.select(leave_requests::status).load(conn).unwrap();
        (attended, states, swaps, leaves)
    })
    .await
    .unwrap();
    assert!(attended > 100, "past duties are checked in: {attended}");
    for state in ["received", "triaged", "replied"] {
        assert!(states.iter().any(|s| s == state), "an item {state}: {states:?}");
    }
    assert_eq!(swaps, ["accepted"]);
    assert_eq!(leaves, ["pending"]);

    // The printed coordinator signs in to the console and finds work waiting.
    let console = Console::sign_in_with(&app, &county.coordinator_phone, zhiban::demo::PASSWORD).await;
    let (_, requests) = console.get("/console/requests").await;
    assert!(requests.contains("同意调班") && requests.contains("批准请假"));
    let (_, board) = console.get("/console/items").await;
    assert!(board.contains(&county.coordinator_venue));
    // The printed admin and member sign in to the API.
    for phone in [&county.admin_phone, &county.member_phone] {
        let res = app.login(phone, zhiban::demo::PASSWORD).await;
        assert_eq!(res.status(), 200);
        assert!(res.json::<Value>().await.unwrap()["access_token"].is_string());
    }
}

/// Started on 10 March 2027 (a year with no official calendar yet), the demo is built around
/// that day: the printed member's duties are ahead, one is open for check-in at once, the
/// printed display serves its code, and the office is told to enter 2027's calendar.
#[tokio::test]
async fn the_demo_is_laid_around_the_day_it_starts() {
    let at: chrono::DateTime<chrono::Utc> = "2027-03-10T02:00:00Z".parse().unwrap();
    let app =
        crate::helpers::spawn_app_with(crate::helpers::TestDatabase::create(), zhiban::clock::Clock::fixed(at)).await;
    let pool = app.pool.clone();
    let now = app.clock.now_naive();
    let county = tokio::task::spawn_blocking(move || zhiban::demo::ensure(&mut pool.get().unwrap(), now).unwrap())
        .await
        .unwrap();
    let today = at.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    assert_eq!(county.period.0, chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
    assert_eq!(county.period.1, chrono::NaiveDate::from_ymd_opt(2028, 3, 31).unwrap());
    assert_eq!(county.provisional_years, [2027, 2028]);

    let demo_token = |phone: String| {
        let app = &app;
        async move {
            let res = app.login(&phone, zhiban::demo::PASSWORD).await;
            assert_eq!(res.status(), 200, "the printed login {phone} works");
            res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
        }
    };
    let member = demo_token(county.member_phone.clone()).await;
    let window = format!("/api/v1/me/duties?from={today}&to={}", today + chrono::Duration::days(31));
    let duties: Value = app.get(&window, &member).await.json().await.unwrap();
    let duties = duties.as_array().unwrap();
    assert!(duties.len() >= 2, "the ad hoc duty and the next reception day: {duties:?}");
    assert!(duties.iter().any(|d| d["date"].as_str().unwrap().ends_with("-25")), "{duties:?}");

    // The printed CPPCC Home display works with its device token, and its code checks in now.
    let (home_name, home_path) = county.displays.iter().find(|(_, p)| p.contains("/display/py-home?")).unwrap();
    assert!(home_name.contains("政协之家"));
    let page = app.client.get(app.url(home_path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let admin = demo_token(county.admin_phone.clone()).await;
    let venues: Value = app.get("/api/v1/venues", &admin).await.json().await.unwrap();
    let home = venues["items"].as_array().unwrap().iter().find(|v| v["code"] == "py-home").unwrap()["id"].clone();
    let screen: Value = app.get(&format!("/api/v1/venues/{home}/display-code"), &admin).await.json().await.unwrap();
    let answer = crate::checkin::scan(&app, &member, screen["payload"].as_str().unwrap(), None).await;
    assert_eq!(answer["outcome"], "ok", "{answer}");

    // 2027 has no calendar: the office sees the banner and gets the notice once.
    let console = Console::sign_in_with(&app, &county.admin_phone, zhiban::demo::PASSWORD).await;
    let (_, roster_page) = console.get("/console/roster").await;
    assert!(roster_page.contains("2027 年节假日安排尚未设置"), "banner on the office's pages");
    let pool = app.pool.clone();
    let queued = tokio::task::spawn_blocking(move || {
        let conn = &mut pool.get().unwrap();
        let first = zhiban::calendar::attention::notify_admins(conn, now).unwrap();
        let again = zhiban::calendar::attention::notify_admins(conn, now).unwrap();
        (first, again)
    })
    .await
    .unwrap();
    assert_eq!(queued, (1, 0), "one notice for 2027, however often the worker looks");
}

/// Issue 17, finding 12: the demo signs tokens with a published secret, so it serves only a
/// database it created. On an empty database it makes the county (and a second start reuses
/// it); a database holding any other committee — even a real one coded `pingyang` — is refused.
#[tokio::test]
async fn the_demo_refuses_a_database_it_did_not_create() {
    let app = spawn_app().await;
    let ensure = |app: &crate::helpers::TestApp| {
        let (pool, now) = (app.pool.clone(), app.clock.now_naive());
        async move {
            tokio::task::spawn_blocking(move || {
                zhiban::demo::ensure(&mut pool.get().unwrap(), now).map(|c| c.committee_id)
            })
            .await
            .unwrap()
        }
    };
    let first = ensure(&app).await.expect("an empty database becomes the demo's");
    assert_eq!(ensure(&app).await.expect("the second start reuses it"), first);
    // Another committee added to the demo's database: its tokens could be forged.
    app.committee("other", "52").await;
    let refused = ensure(&app).await.expect_err("a database with another committee");
    assert!(refused.to_string().contains(zhiban::demo::NOT_A_DEMO_DATABASE), "{refused}");

    // A real committee that happens to be coded `pingyang`, created by create-committee, with
    // another beside it: the old check took it for the demo's.
    let real = spawn_app().await;
    real.committee(zhiban::demo::COMMITTEE_CODE, "39").await;
    assert!(ensure(&real).await.is_err(), "a pingyang the demo did not create");
    real.committee("wenzhou", "38").await;
    assert!(ensure(&real).await.is_err());

    // The binary says why and exits, serving nothing with the demo's secret.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zhiban"))
        .arg("demo")
        .env("DATABASE_URL", &real.db.url)
        .env_remove("ZHIBAN_JWT_SECRET")
        .env("ZHIBAN_BIND", "127.0.0.1:0")
        .env("ZHIBAN_WORKER", "off")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run zhiban demo");
    let out = wait_for_exit(out, std::time::Duration::from_secs(60)).await;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "refused: {text}");
    assert!(text.contains("was not created by `zhiban demo`"), "{text}");
}

/// Waits for the child to exit; kills it (and fails) when it is still running after `limit`.
async fn wait_for_exit(mut child: std::process::Child, limit: std::time::Duration) -> std::process::Output {
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("`zhiban demo` kept running on a database it did not create");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    child.wait_with_output().unwrap()
}
