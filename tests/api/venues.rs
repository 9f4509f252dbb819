use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn admin_creates_reads_and_updates_venues() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    let res = app
        .post(
            "/api/v1/venues",
            &admin,
            json!({ "kind": "cppcc_home", "name": "政协之家", "code": "A-Home", "township": "昆阳镇",
                    "location": { "latitude": 27.66, "longitude": 120.57, "radius_m": 150 } }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let venue: Value = res.json().await.unwrap();
    assert_eq!(venue["code"], "a-home", "codes are normalised to lowercase");
    assert_eq!(venue["kind"], "cppcc_home");
    let id = venue["id"].as_i64().unwrap();

    let res =
        app.patch(&format!("/api/v1/venues/{id}"), &admin, json!({ "name": "县政协之家", "location": null })).await;
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["name"], "县政协之家");
    assert_eq!(updated["location"], Value::Null);
    assert_eq!(updated["township"], "昆阳镇", "absent fields stay");

    let listed: Value = app.get("/api/v1/venues?kind=cppcc_home", &admin).await.json().await.unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn invalid_venues_report_every_field() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    let res = app
        .post(
            "/api/v1/venues",
            &admin,
            json!({ "kind": "township_studio", "name": "  ", "code": "no spaces!",
                    "location": { "latitude": 95.0, "longitude": 120.0, "radius_m": 100 } }),
        )
        .await;
    let body = problem(res, 422, "validation_failed").await;
    let fields: Vec<(&str, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(fields, vec![("name", "required"), ("code", "invalid_format"), ("location.latitude", "out_of_range")]);

    let bad_kind = app.post("/api/v1/venues", &admin, json!({ "kind": "castle", "name": "x", "code": "xx" })).await;
    problem(bad_kind, 400, "bad_request").await;
    let unknown_field = app
        .post(
            "/api/v1/venues",
            &admin,
            json!({ "kind": "township_studio", "name": "x", "code": "xx", "colour": "red" }),
        )
        .await;
    let body = problem(unknown_field, 400, "bad_request").await;
    assert!(body["detail"].as_str().unwrap().contains("colour"));

    let res = app
        .client
        .post(app.url("/api/v1/venues"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    problem(res, 400, "bad_request").await;
}

#[tokio::test]
async fn duplicate_codes_and_names_conflict() {
    let app = spawn_app().await;
    let a = app.committee("alpha", "38").await;
    let b = app.committee("beta", "39").await;
    let admin_a = app.token(&a.admin_phone).await;
    let admin_b = app.token(&b.admin_phone).await;
    app.venue(&admin_a, "shared-code", "一号").await;
    let res = app
        .post("/api/v1/venues", &admin_a, json!({ "kind": "township_studio", "name": "一号", "code": "other" }))
        .await;
    problem(res, 409, "venue_name_taken").await;
    // Codes are in public URLs, so they are unique across committees.
    let res = app
        .post("/api/v1/venues", &admin_b, json!({ "kind": "township_studio", "name": "二号", "code": "shared-code" }))
        .await;
    problem(res, 409, "venue_code_taken").await;
}

#[tokio::test]
async fn pages_follow_the_cursor() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    for i in 0..5 {
        app.venue(&admin, &format!("v-{i}"), &format!("工作室{i}")).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/venues?limit=2".to_owned();
    loop {
        let page: Value = app.get(&path, &admin).await.json().await.unwrap();
        seen.extend(page["items"].as_array().unwrap().iter().map(|v| v["code"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/venues?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, vec!["v-0", "v-1", "v-2", "v-3", "v-4"]);
    let body = problem(app.get("/api/v1/venues?limit=0", &admin).await, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "limit");
    problem(app.get("/api/v1/venues?cursor=garbage", &admin).await, 422, "validation_failed").await;
}

#[tokio::test]
async fn framework_errors_are_problems_too() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    problem(app.get("/api/v1/no-such-thing", &admin).await, 404, "not_found").await;
    problem(app.get("/api/v1/venues/not-a-number", &admin).await, 404, "not_found").await;
    problem(app.request(Method::DELETE, "/api/v1/venues", Some(&admin), None).await, 404, "not_found").await;
    let huge = "x".repeat(300 * 1024);
    let res =
        app.post("/api/v1/venues", &admin, json!({ "kind": "township_studio", "name": huge, "code": "xx" })).await;
    problem(res, 413, "payload_too_large").await;
}

#[tokio::test]
async fn a_venue_keeps_its_street_address() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    let res = app
        .post(
            "/api/v1/venues",
            &admin,
            json!({ "kind": "township_studio", "name": "昆阳镇委员工作室", "code": "addr-kunyang",
                    "township": "昆阳镇", "address": "  平阳县昆阳镇解放街128号  " }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let venue: Value = res.json().await.unwrap();
    assert_eq!(venue["address"], "平阳县昆阳镇解放街128号", "trimmed");
    let id = venue["id"].as_i64().unwrap();
    let read: Value = app.get(&format!("/api/v1/venues/{id}"), &admin).await.json().await.unwrap();
    assert_eq!(read["address"], "平阳县昆阳镇解放街128号");
    // Without one it is null, not missing.
    let other = app.venue(&admin, "addr-none", "无地址工作室").await;
    let read: Value = app.get(&format!("/api/v1/venues/{other}"), &admin).await.json().await.unwrap();
    assert_eq!(read["address"], Value::Null);

    let path = format!("/api/v1/venues/{id}");
    let patch = |body: Value| app.patch(&path, &admin, body);
    let updated: Value = patch(json!({ "address": "平阳县昆阳镇城东街道政务中心三楼" })).await.json().await.unwrap();
    assert_eq!(updated["address"], "平阳县昆阳镇城东街道政务中心三楼");
    let updated: Value = patch(json!({ "name": "昆阳工作室" })).await.json().await.unwrap();
    assert_eq!(updated["address"], "平阳县昆阳镇城东街道政务中心三楼", "absent: kept");

    // Too long, several lines, blank: one clear field error each, nothing changed.
    for (address, reason) in [
        ("路".repeat(121), "too_long"),
        ("解放街\n128号".to_owned(), "invalid_characters"),
        ("  ".to_owned(), "required"),
    ] {
        let body = problem(patch(json!({ "address": address })).await, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "address", "{body}");
        assert_eq!(body["errors"][0]["reason"], reason, "{body}");
        let created = app
            .post(
                "/api/v1/venues",
                &admin,
                json!({ "kind": "township_studio", "name": "新工作室", "code": "addr-new", "address": address }),
            )
            .await;
        let body = problem(created, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "address", "{body}");
    }
    let too_long = problem(patch(json!({ "address": "路".repeat(121) })).await, 422, "validation_failed").await;
    assert!(too_long["errors"][0]["message"].as_str().unwrap().contains("120"), "{too_long}");
    let read: Value = app.get(&format!("/api/v1/venues/{id}"), &admin).await.json().await.unwrap();
    assert_eq!(read["address"], "平阳县昆阳镇城东街道政务中心三楼");

    // Exactly 120 characters is fine; null clears it.
    let updated: Value = patch(json!({ "address": "路".repeat(120) })).await.json().await.unwrap();
    assert_eq!(updated["address"].as_str().unwrap().chars().count(), 120);
    let updated: Value = patch(json!({ "address": null })).await.json().await.unwrap();
    assert_eq!(updated["address"], Value::Null);
}
