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

/// The official OpenAPI 3.1 schema (spec.openapis.org/oas/3.1/schema/2022-10-07), vendored: a
/// generator or validator an integrator picks first reads the document against it.
const OAS_31_SCHEMA: &str = include_str!("../../api-spec/oas-3.1-schema-2022-10-07.json");

#[test]
fn the_document_validates_against_the_official_openapi_3_1_schema() {
    let schema: serde_json::Value = serde_json::from_str(OAS_31_SCHEMA).unwrap();
    let validator = jsonschema::options().with_draft(jsonschema::Draft::Draft202012).build(&schema).unwrap();
    let document: serde_json::Value = serde_json::from_str(&zhiban::openapi::document_json()).unwrap();
    let errors: Vec<String> =
        validator.iter_errors(&document).take(20).map(|e| format!("`{}`: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "the document breaks the OpenAPI 3.1 schema:\n{}", errors.join("\n"));
    // The check is real: a response without its required description is caught.
    let mut broken = document.clone();
    broken["paths"]["/health"]["get"]["responses"]["200"].as_object_mut().unwrap().remove("description");
    assert!(!validator.is_valid(&broken));
}

/// What a mainstream linter asks beyond the schema: every operation says whether it needs the
/// bearer token, has a summary and a unique id; every enumeration is a named schema referred to
/// where it appears; binary and HTML bodies are strings.
#[test]
fn the_document_is_described_and_typed_for_generators() {
    let doc: serde_json::Value = serde_json::from_str(&zhiban::openapi::document_json()).unwrap();
    assert_eq!(doc["servers"][0]["url"], "/", "a relative server");
    assert_eq!(doc["security"], serde_json::json!([{ "bearer": [] }]));
    assert!(doc["info"]["license"]["identifier"].is_string(), "an SPDX licence identifier");
    let mut ids = std::collections::BTreeSet::new();
    let mut problems = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let at = format!("{method} {path}");
            if !op["security"].is_array() {
                problems.push(format!("{at}: no `security` (public operations declare `[]`)"));
            }
            if op["summary"].as_str().is_none_or(str::is_empty) {
                problems.push(format!("{at}: no summary"));
            }
            if !ids.insert(op["operationId"].as_str().unwrap_or_default().to_owned()) {
                problems.push(format!("{at}: operationId {} is not unique", op["operationId"]));
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                for (media, content) in response["content"].as_object().into_iter().flatten() {
                    let schema = &content["schema"];
                    let binary = media.starts_with("image/") || media.contains("spreadsheetml");
                    if (binary || media.starts_with("text/")) && schema["type"] != "string" {
                        problems.push(format!("{at} {status} {media}: typed {schema}, not a string"));
                    }
                }
            }
        }
    }
    // Properties that hold one of a fixed set of values refer to their enumeration.
    let enumerated = [
        ("ItemView", "state"),
        ("ItemView", "kind"),
        ("ItemView", "deadline_status"),
        ("ItemView", "source"),
        ("SwapView", "status"),
        ("LeaveView", "status"),
        ("RosterView", "status"),
        ("Duty", "role"),
        ("AssignmentView", "role"),
        ("AssignmentView", "source"),
        ("CheckinView", "method"),
        ("CheckinView", "assurance"),
        ("ScanResult", "assurance"),
    ];
    for (schema, property) in enumerated {
        let p = &doc["components"]["schemas"][schema]["properties"][property];
        let referred =
            p["$ref"].is_string() || p["oneOf"].as_array().is_some_and(|o| o.iter().any(|s| s["$ref"].is_string()));
        if !referred {
            problems.push(format!("{schema}.{property} is {p}, not a reference to its enumeration"));
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
