use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, problem, spawn_app};

async fn member_count(app: &TestApp, token: &str) -> usize {
    let page: Value = app.get("/api/v1/members?limit=200", token).await.json().await.unwrap();
    page["items"].as_array().unwrap().len()
}

async fn import(app: &TestApp, token: &str, csv: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/members/import"))
        .bearer_auth(token)
        .header("content-type", "text/csv; charset=utf-8")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn admin_registers_and_edits_members() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    let venue = app.venue(&admin, "a-one", "一号工作室").await;
    let res = app
        .post(
            "/api/v1/members",
            &admin,
            json!({ "name": "林建国", "phone": format!("+86 {}", c.phone(1)), "sector": "经济界",
                    "home_venue_id": venue, "standing_committee": true }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let m: Value = res.json().await.unwrap();
    assert_eq!(m["phone"], c.phone(1), "phones are stored normalised");
    assert_eq!(m["roles"], json!(["member"]));
    assert_eq!(m["can_sign_in"], false);
    assert_eq!(m["roving"], false);
    let id = m["id"].as_i64().unwrap();

    problem(
        app.post("/api/v1/members", &admin, json!({ "name": "重复", "phone": c.phone(1) })).await,
        409,
        "phone_taken",
    )
    .await;

    let res = app
        .patch(&format!("/api/v1/members/{id}"), &admin, json!({ "home_venue_id": null, "password": "a-new-password" }))
        .await;
    let m: Value = res.json().await.unwrap();
    assert_eq!(m["roving"], true);
    assert_eq!(m["can_sign_in"], true);
    assert_eq!(app.login(&c.phone(1), "a-new-password").await.status(), 200);

    let body = problem(
        app.post("/api/v1/members", &admin, json!({ "name": "", "phone": "12345", "password": "short", "roles": [] }))
            .await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["name", "phone", "roles", "password"]);
}

#[tokio::test]
async fn csv_import_is_all_or_nothing_and_names_the_bad_cell() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    app.venue(&admin, "a-one", "一号工作室").await;
    let before = member_count(&app, &admin).await;

    let bad = format!(
        "name,phone,sector,home_venue_code,standing_committee\n\
         林一,{},经济界,a-one,是\n\
         陈二,{},教育界,a-one,maybe\n\
         黄三,{},,nowhere,否\n",
        c.phone(1),
        c.phone(2),
        c.phone(3)
    );
    let body = problem(import(&app, &admin, &bad).await, 422, "import_failed").await;
    let cells: Vec<(i64, i64, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_i64().unwrap(), e["column"].as_i64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(cells, vec![(3, 5, "standing_committee"), (4, 4, "home_venue_code")]);
    assert_eq!(member_count(&app, &admin).await, before, "nothing imported");

    let good = format!(
        "\u{feff}name,phone,sector,home_venue_code,standing_committee,roles,password\n\
         林一,{},经济界,a-one,是,,{PASSWORD}\n\
         陈二,{},教育界,,否,member|coordinator,\n",
        c.phone(1),
        c.phone(2)
    );
    let res = import(&app, &admin, &good).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["imported"], 2);
    assert_eq!(member_count(&app, &admin).await, before + 2);
    assert_eq!(app.login(&c.phone(1), PASSWORD).await.status(), 200);

    // Re-importing the same phones fails as a whole, naming the lines.
    let body = problem(import(&app, &admin, &good).await, 422, "import_failed").await;
    assert_eq!(body["errors"][0]["line"], 2);
    assert_eq!(body["errors"][0]["reason"], "taken");
    assert_eq!(member_count(&app, &admin).await, before + 2);
}

#[tokio::test]
async fn import_refuses_other_content_types() {
    let app = spawn_app().await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    let res = app.post("/api/v1/members/import", &admin, json!({ "rows": [] })).await;
    problem(res, 415, "unsupported_media_type").await;
}
