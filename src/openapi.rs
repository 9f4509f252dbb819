//! The OpenAPI document, generated from the handlers' annotations as they are registered
//! (utoipa-actix-web), so the routes and the spec cannot disagree. `api-spec/openapi.json` is
//! this document, committed; a test fails when it drifts.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "zhiban",
        description = "值班 — duty rosters, QR check-in and residents' items for a county CPPCC committee. \
                       Errors are RFC 9457 problem+json with a stable `code`.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0")
    ),
    modifiers(&BearerAuth),
    // Schemas only referenced from query parameters are not collected by the handlers.
    components(schemas(crate::error::ErrorCode, crate::error::FieldError, crate::domain::ItemState)),
    tags(
        (name = "auth", description = "Sign-in and sessions"),
        (name = "members", description = "Members, coordinators and admins"),
        (name = "venues", description = "Township studios and the CPPCC Home"),
        (name = "calendar", description = "Working-day calendar"),
        (name = "committee", description = "The committee and its rules"),
        (name = "checkin", description = "QR check-in, check-out and attendance"),
        (name = "rosters", description = "Shift templates, rosters, shifts, duties, swaps and leave"),
        (name = "items", description = "Residents' items: queue, triage, referral, answers, the live inbox; handling units"),
        (name = "public", description = "No account: the resident's form and tracking, the handling unit's link"),
        (name = "outbox", description = "Notifications: their delivery to the webhook, robots and SMS, and each member's notices (消息)"),
        (name = "stats", description = "Statistics (履职档案): members' and venues' figures per period, the ranking, CSV and XLSX"),
        (name = "ops", description = "Health, readiness, metrics, this document"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// The whole document, built by registering the routes on a throwaway app.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::routes)
        .split_for_parts();
    let mut api = api;
    add_common_responses(&mut api);
    api
}

/// Failures any operation of its shape can answer, added where a handler did not list them,
/// so clients (and the contract test) find every status the server can send in the document:
/// 400 unreadable body or query, 401 and 403 on authenticated operations, 404 where the path
/// names something, 415 and 422 where a body or parameters are taken, 500 everywhere.
fn add_common_responses(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
            )
            .build()
    };
    let html = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content("text/html", ContentBuilder::new().schema(Some(utoipa::openapi::Object::new())).build())
            .build()
    };
    for (path, item) in api.paths.paths.iter_mut() {
        // Pages for people without the app answer a missing page in Chinese HTML.
        let page = path.starts_with("/r/") || path.starts_with("/h/");
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            let has_body = operation.request_body.is_some();
            let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let mut wanted = vec![("500", "`internal_error`")];
            if has_body || has_params {
                wanted.push(("400", "`bad_request`: the body or query could not be read"));
                wanted.push(("422", "`validation_failed`: field errors in `errors`"));
            }
            if has_body {
                wanted.push(("415", "`unsupported_media_type`"));
            }
            let in_path = operation
                .parameters
                .as_ref()
                .is_some_and(|ps| ps.iter().any(|p| matches!(p, utoipa::openapi::RefOr::T(p) if p.parameter_in == utoipa::openapi::path::ParameterIn::Path)));
            if in_path {
                wanted.push(("404", "`not_found`: nothing by that id or secret (in your committee)"));
            }
            if secured {
                wanted.push(("401", "`unauthenticated`, `token_expired` or `token_invalid`"));
                wanted.push(("403", "`forbidden` or `out_of_scope`"));
            }
            for (status, description) in wanted {
                let response =
                    if page && status == "404" { html("没有找到 (not found)") } else { problem(description) };
                operation.responses.responses.entry(status.to_owned()).or_insert_with(|| response.into());
            }
        }
    }
}

pub fn document_json() -> String {
    let mut doc = serde_json::to_value(document()).expect("the OpenAPI document serialises");
    finish_for_tools(&mut doc);
    let mut json = serde_json::to_string_pretty(&doc).expect("the OpenAPI document serialises");
    json.push('\n');
    json
}

/// What validators and client generators need beyond the annotations, applied to the whole
/// document in one place: a description on every response (OpenAPI 3.1 requires one), the
/// root's bearer auth with `security: []` on public operations, a relative server, and binary
/// and text bodies typed as strings (a PNG is bytes, not an array of integers).
fn finish_for_tools(doc: &mut serde_json::Value) {
    use serde_json::{Value, json};
    doc["servers"] = json!([{ "url": "/", "description": "this server" }]);
    doc["security"] = json!([{ "bearer": [] }]);
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for operation in item.values_mut() {
            if operation.get("security").is_none() {
                operation["security"] = json!([]);
            }
            let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) else { continue };
            for (status, response) in responses.iter_mut() {
                if response.get("description").and_then(Value::as_str).is_none_or(str::is_empty) {
                    response["description"] = json!(status_description(status));
                }
                let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else { continue };
                for (media, body) in content.iter_mut() {
                    let text = media.starts_with("text/") || media == "image/svg+xml";
                    let binary = media.starts_with("image/") && !text || media.contains("spreadsheetml");
                    if binary {
                        body["schema"] = json!({ "type": "string", "contentMediaType": media });
                    } else if text {
                        body["schema"] = json!({ "type": "string" });
                    }
                }
            }
        }
    }
}

/// The description of a response its handler did not describe: what the status means here.
fn status_description(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted",
        "204" => "No content",
        "303" => "Done: see the page in `Location`",
        "304" => "Not modified",
        "400" => "`bad_request`: the body or query could not be read",
        "401" => "`unauthenticated`, `token_expired` or `token_invalid`",
        "403" => "`forbidden` or `out_of_scope`",
        "404" => "`not_found`",
        "409" => "A conflict with the current state (`code` says which)",
        "413" => "`payload_too_large`",
        "415" => "`unsupported_media_type`",
        "422" => "`validation_failed`: field errors in `errors`",
        "429" => "Too many requests: retry after `Retry-After`",
        "500" => "`internal_error`",
        "503" => "Not ready",
        _ => "See `code` in the problem document",
    }
}
