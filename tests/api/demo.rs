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
    let county =
        tokio::task::spawn_blocking(move || zhiban::demo::ensure(&mut pool.get().unwrap()).unwrap()).await.unwrap();
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
