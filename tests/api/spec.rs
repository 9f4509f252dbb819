//! The committed OpenAPI document is what the code generates. To accept a change:
//! `UPDATE_SPEC=1 cargo test --test api spec` (or `cargo run -- openapi > api-spec/openapi.json`).

use crate::helpers::spawn_app;

const SPEC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/api-spec/openapi.json");

#[test]
fn committed_spec_matches_the_code() {
    let generated = zhiban::openapi::document_json();
    if std::env::var("UPDATE_SPEC").is_ok_and(|v| v == "1") {
        std::fs::write(SPEC_PATH, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(SPEC_PATH).unwrap_or_default();
    assert!(
        committed == generated,
        "api-spec/openapi.json is out of date: run `UPDATE_SPEC=1 cargo test --test api spec` and commit it"
    );
}

#[test]
fn every_documented_path_is_versioned_or_operational() {
    let doc = zhiban::openapi::document();
    for path in doc.paths.paths.keys() {
        assert!(
            path.starts_with("/api/v1/")
                || path.starts_with("/ical/")
                || path.starts_with("/display/")
                // Pages for people without the app: residents (`/r/…`) and handling units (`/h/…`).
                || path.starts_with("/r/")
                || path.starts_with("/h/")
                || ["/health", "/ready", "/metrics", "/api-spec/openapi.json"].contains(&path.as_str()),
            "unexpected path {path}"
        );
    }
}

#[tokio::test]
async fn the_server_serves_its_spec() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/api-spec/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), zhiban::openapi::document_json());
}
