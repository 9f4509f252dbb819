use serde_json::{Value, json};

use crate::helpers::{november_2026, problem, spawn_app, spawn_app_at};

#[tokio::test]
async fn the_official_2026_arrangement_uploads_as_published() {
    let app = spawn_app_at(november_2026()).await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    problem(app.get("/api/v1/calendar/2026", &admin).await, 404, "calendar_year_not_set").await;

    let official: Value = serde_json::from_str(zhiban::calendar::CHINA_2026_JSON).unwrap();
    let res = app.put("/api/v1/calendar/2026", &admin, official.clone()).await;
    assert_eq!(res.status(), 200);

    let cal: Value = app.get("/api/v1/calendar/2026", &admin).await.json().await.unwrap();
    assert_eq!(cal["holidays"].as_array().unwrap().len(), official["holidays"].as_array().unwrap().len());
    assert!(cal["holidays"].as_array().unwrap().contains(&json!({ "date": "2026-09-25", "name": "中秋节" })));
    assert_eq!(cal["adjusted_working_days"], official["adjusted_working_days"]);

    // Replacing a year replaces it whole.
    let res = app
        .put(
            "/api/v1/calendar/2026",
            &admin,
            json!({ "holidays": [{ "date": "2026-10-01", "name": "国庆节" }], "adjusted_working_days": ["2026-10-10"] }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let cal: Value = app.get("/api/v1/calendar/2026", &admin).await.json().await.unwrap();
    assert_eq!(cal["holidays"].as_array().unwrap().len(), 1);
    assert_eq!(cal["adjusted_working_days"], json!(["2026-10-10"]));
}

#[tokio::test]
async fn inconsistent_calendars_are_refused_with_fields() {
    let app = spawn_app_at(november_2026()).await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    let res = app
        .put(
            "/api/v1/calendar/2026",
            &admin,
            json!({ "year": 2026,
                    "holidays": [{ "date": "2027-01-01", "name": "元旦" }, { "date": "2026-05-01", "name": "" }],
                    "adjusted_working_days": ["2026-05-06"] }),
        )
        .await;
    let body = problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["holidays[0].date", "holidays[1].name", "adjusted_working_days[0]"]);
    problem(app.get("/api/v1/calendar/2026", &admin).await, 404, "calendar_year_not_set").await;

    let res = app
        .put("/api/v1/calendar/2026", &admin, json!({ "year": 2027, "holidays": [], "adjusted_working_days": [] }))
        .await;
    problem(res, 422, "validation_failed").await;
    problem(app.get("/api/v1/calendar/1900", &admin).await, 422, "validation_failed").await;
}

#[tokio::test]
async fn committee_rules_are_validated() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    let committee: Value = app.get("/api/v1/committee", &admin).await.json().await.unwrap();
    assert_eq!(committee["settings"]["reception_day_of_month"], 25);
    assert_eq!(committee["settings"]["tier_deadline_working_days"], json!([1, 10, 20, 60]));

    let res = app.patch("/api/v1/committee", &admin, json!({ "settings": { "reception_day_of_month": 31 } })).await;
    let body = problem(res, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "settings.reception_day_of_month");
    let res = app.patch("/api/v1/committee", &admin, json!({ "timezone": "Mars/Base" })).await;
    problem(res, 422, "validation_failed").await;

    let res = app.patch("/api/v1/committee", &admin, json!({ "settings": { "swap_auto_approve": true } })).await;
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["settings"]["swap_auto_approve"], true);
    assert_eq!(updated["settings"]["reception_day_of_month"], 25);

    // A patch changes only the rules it names: the others keep their values, not defaults.
    let res = app.patch("/api/v1/committee", &admin, json!({ "settings": { "reception_day_of_month": 20 } })).await;
    assert_eq!(res.status(), 200);
    let res =
        app.patch("/api/v1/committee", &admin, json!({ "settings": { "ranking_weights": { "absent": -5 } } })).await;
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["settings"]["reception_day_of_month"], 20);
    assert_eq!(updated["settings"]["swap_auto_approve"], true);
    assert_eq!(updated["settings"]["ranking_weights"]["absent"], -5.0);
    assert_eq!(updated["settings"]["ranking_weights"]["present"], 2.0, "nested rules merge too");
    // `null` restores a rule's default; an unknown rule or a wrong type is refused, nothing stored.
    let res = app.patch("/api/v1/committee", &admin, json!({ "settings": { "swap_auto_approve": null } })).await;
    assert_eq!(res.json::<Value>().await.unwrap()["settings"]["swap_auto_approve"], false);
    for bad in [json!({ "no_such_rule": 1 }), json!({ "reception_day_of_month": "x" }), json!(5)] {
        let res = app.patch("/api/v1/committee", &admin, json!({ "settings": bad })).await;
        assert_eq!(problem(res, 422, "validation_failed").await["errors"][0]["field"], "settings");
    }
    let kept: Value = app.get("/api/v1/committee", &admin).await.json().await.unwrap();
    assert_eq!(kept["settings"]["reception_day_of_month"], 20);
}
