//! A token of one committee never reads or changes another's rows: such ids answer 404.

use serde_json::{Value, json};

use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn committees_cannot_see_each_other() {
    let app = spawn_app().await;
    let a = app.committee("alpha", "38").await;
    let b = app.committee("beta", "39").await;
    let admin_a = app.token(&a.admin_phone).await;
    let admin_b = app.token(&b.admin_phone).await;
    let venue_a = app.venue(&admin_a, "a-one", "一号工作室").await;
    let member_a =
        app.member(&admin_a, json!({ "name": "委员甲", "phone": a.phone(1), "home_venue_id": venue_a })).await;
    app.venue(&admin_b, "b-one", "一号工作室").await; // same name, other committee: allowed

    problem(app.get(&format!("/api/v1/venues/{venue_a}"), &admin_b).await, 404, "not_found").await;
    problem(
        app.patch(&format!("/api/v1/venues/{venue_a}"), &admin_b, json!({ "name": "夺取" })).await,
        404,
        "not_found",
    )
    .await;
    problem(app.get(&format!("/api/v1/members/{member_a}"), &admin_b).await, 404, "not_found").await;
    problem(
        app.patch(&format!("/api/v1/members/{member_a}"), &admin_b, json!({ "active": false })).await,
        404,
        "not_found",
    )
    .await;

    // Referencing another committee's venue looks like referencing no venue at all.
    let res = app
        .post("/api/v1/members", &admin_b, json!({ "name": "委员乙", "phone": b.phone(1), "home_venue_id": venue_a }))
        .await;
    let body = problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "home_venue_id");
    assert_eq!(body["errors"][0]["reason"], "unknown_venue");

    let venues: Value = app.get("/api/v1/venues", &admin_b).await.json().await.unwrap();
    let codes: Vec<&str> = venues["items"].as_array().unwrap().iter().map(|v| v["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["b-one"]);
    let members: Value = app.get("/api/v1/members", &admin_b).await.json().await.unwrap();
    assert!(members["items"].as_array().unwrap().iter().all(|m| m["id"] != member_a));

    // Committee A's member is untouched by B's attempts.
    let still: Value = app.get(&format!("/api/v1/members/{member_a}"), &admin_a).await.json().await.unwrap();
    assert_eq!(still["active"], true);
    let venue: Value = app.get(&format!("/api/v1/venues/{venue_a}"), &admin_a).await.json().await.unwrap();
    assert_eq!(venue["name"], "一号工作室");
}
