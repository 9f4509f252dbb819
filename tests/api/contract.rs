//! The mobile contract (`mobile-contract/`): the error catalogue the app translates, and the example
//! exchanges the app is built against, replayed here over real HTTP against a fresh server. Every
//! response is also checked against the OpenAPI schema of its operation and status, so the
//! examples, the spec and the server cannot drift apart.
//!
//! To regenerate `error-codes.json` and the README's error table after changing `ErrorCode`:
//! `UPDATE_CONTRACT=1 cargo test --test api contract`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, DurationRound, SecondsFormat, Utc};
use diesel::prelude::*;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use serde::Deserialize;
use serde_json::{Value, json};
use zhiban::checkin::code::{display_code, step_of};
use zhiban::error::ErrorCode;
use zhiban::schema::{assignments, rosters, shift_templates, shifts, venues};

use crate::helpers::{PASSWORD, TEST_JWT_SECRET, TestApp, november_2026, spawn_app_at};

const CONTRACT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/mobile-contract");
const TABLE_START: &str = "<!-- error-codes:start (generated: UPDATE_CONTRACT=1 cargo test --test api contract) -->";
const TABLE_END: &str = "<!-- error-codes:end -->";
const REGENERATE: &str = "run `UPDATE_CONTRACT=1 cargo test --test api contract` and commit the result";

/// Placeholders allowed in `expect.body_subset` and `expect.headers`; never variable names.
const PLACEHOLDERS: &[&str] = &["any", "string", "number", "integer", "boolean", "rfc3339", "date", "array", "object"];
/// As the last element of an expected array: "and possibly more elements".
const REST: &str = "{{...}}";

/// Every example file, each replayed by its own test below.
macro_rules! examples {
    ($( $test:ident => $file:literal, )*) => {
        const EXAMPLES: &[&str] = &[$( $file, )*];
        $(
            #[tokio::test]
            async fn $test() {
                replay($file).await;
            }
        )*
    };
}

examples! {
    example_login => "login.json",
    example_login_throttled => "login-throttled.json",
    example_me => "me.json",
    example_refresh => "refresh.json",
    example_logout => "logout.json",
    example_token_expired => "token-expired.json",
    example_unauthenticated => "unauthenticated.json",
    example_venues_list => "venues-list.json",
    example_venue_get => "venue-get.json",
    example_calendar => "calendar.json",
    example_validation_error => "validation-error.json",
    example_coordinator_scope => "coordinator-scope.json",
    example_my_duties => "my-duties.json",
    example_swap => "swap.json",
    example_leave => "leave.json",
    example_calendar_feed => "calendar-feed.json",
    example_checkin => "checkin.json",
    example_checkin_offline => "checkin-offline.json",
    example_item_inbox => "item-inbox.json",
    example_item_record => "item-record.json",
    example_notices => "notices.json",
}

fn updating() -> bool {
    std::env::var("UPDATE_CONTRACT").is_ok_and(|v| v == "1")
}

fn contract_path(relative: &str) -> PathBuf {
    PathBuf::from(CONTRACT_DIR).join(relative)
}

/// Replaces a file in one step, so a test reading it meanwhile never sees half of it.
fn write_atomically(path: &Path, contents: &str) {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, contents).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Error catalogue

/// `error-codes.json` as the code defines it, one object per line in `ErrorCode::ALL` order.
fn error_codes_json() -> String {
    let mut out = String::from("[\n");
    for (i, code) in ErrorCode::ALL.iter().enumerate() {
        let comma = if i + 1 < ErrorCode::ALL.len() { "," } else { "" };
        writeln!(
            out,
            "  {{ \"code\": {}, \"status\": {}, \"message_zh\": {} }}{comma}",
            json!(code.as_str()),
            code.status().as_u16(),
            json!(code.message_zh())
        )
        .unwrap();
    }
    out.push_str("]\n");
    out
}

/// The README's error table, between its markers.
fn error_table() -> String {
    let mut out = format!("{TABLE_START}\n| code | HTTP | message_zh (show this) | meaning |\n|---|---|---|---|\n");
    for code in ErrorCode::ALL {
        writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            code.as_str(),
            code.status().as_u16(),
            code.message_zh(),
            code.title()
        )
        .unwrap();
    }
    out.push_str(TABLE_END);
    out
}

/// The committed catalogue: code → (status, message).
fn committed_codes() -> BTreeMap<String, (u16, String)> {
    let text = std::fs::read_to_string(contract_path("error-codes.json")).expect("mobile-contract/error-codes.json");
    let entries: Vec<Value> = serde_json::from_str(&text).expect("error-codes.json is a JSON array");
    entries
        .iter()
        .map(|e| {
            let code = e["code"].as_str().expect("code").to_owned();
            let status = e["status"].as_u64().expect("status") as u16;
            (code, (status, e["message_zh"].as_str().expect("message_zh").to_owned()))
        })
        .collect()
}

#[test]
fn error_codes_json_matches_the_code() {
    let path = contract_path("error-codes.json");
    let generated = error_codes_json();
    if updating() {
        write_atomically(&path, &generated);
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let committed: Value = serde_json::from_str(&committed).unwrap_or(Value::Null);
    let expected: Value = serde_json::from_str(&generated).unwrap();
    assert!(
        committed == expected,
        "mobile-contract/error-codes.json differs from zhiban::error::ErrorCode::ALL: {REGENERATE}"
    );
}

#[test]
fn readme_error_table_matches_the_code() {
    let path = contract_path("README.md");
    let readme = std::fs::read_to_string(&path).expect("mobile-contract/README.md");
    let (Some(start), Some(end)) = (readme.find(TABLE_START), readme.find(TABLE_END)) else {
        panic!("mobile-contract/README.md lacks the error table markers `{TABLE_START}` … `{TABLE_END}`");
    };
    let current = &readme[start..end + TABLE_END.len()];
    let generated = error_table();
    if updating() && current != generated {
        write_atomically(&path, &readme.replacen(current, &generated, 1));
        return;
    }
    assert!(current == generated, "the error table in mobile-contract/README.md is out of date: {REGENERATE}");
}

#[test]
fn every_example_file_is_replayed_and_listed() {
    let dir = contract_path("examples");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("mobile-contract/examples")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let replayed: BTreeSet<String> = EXAMPLES.iter().map(|s| (*s).to_owned()).collect();
    let orphans: Vec<_> = on_disk.difference(&replayed).collect();
    assert!(
        orphans.is_empty(),
        "files in mobile-contract/examples that no test replays: {orphans:?} (add them to `examples!`)"
    );
    let missing: Vec<_> = replayed.difference(&on_disk).collect();
    assert!(missing.is_empty(), "examples replayed but not on disk: {missing:?}");

    let readme = std::fs::read_to_string(contract_path("README.md")).unwrap();
    let codes = committed_codes();
    for file in EXAMPLES {
        assert!(
            readme.contains(&format!("](examples/{file})")),
            "mobile-contract/README.md does not link examples/{file}"
        );
        let example = load_example(file);
        for (i, step) in example.steps.iter().enumerate() {
            if let Some(code) = &step.expect.code {
                let (status, _) =
                    codes.get(code).unwrap_or_else(|| panic!("{file} step {}: unknown code {code}", i + 1));
                assert_eq!(*status, step.expect.status, "{file} step {}: {code} is a {status}", i + 1);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Example files

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Example {
    name: String,
    description: String,
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    /// Free text for the reader.
    #[serde(default)]
    note: Option<String>,
    request: Request,
    expect: Expect,
    /// Variable name → JSON pointer into the response body.
    #[serde(default)]
    save: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    method: String,
    path: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<Value>,
    #[serde(rename = "as")]
    actor: Actor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Actor {
    Member,
    Colleague,
    Coordinator,
    Admin,
    Anonymous,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    status: u16,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    body_subset: Option<Value>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// For a body that is not JSON (`text/calendar`): texts that must occur in it.
    #[serde(default)]
    text_contains: Vec<String>,
}

fn load_example(file: &str) -> Example {
    let path = contract_path("examples").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let example: Example = serde_json::from_str(&text).unwrap_or_else(|e| panic!("examples/{file}: {e}"));
    assert_eq!(format!("{}.json", example.name), file, "an example's name is its file name");
    assert!(!example.description.trim().is_empty(), "examples/{file} needs a description");
    assert!(!example.steps.is_empty(), "examples/{file} has no steps");
    example
}

// ---------------------------------------------------------------------------------------------
// Fixture

/// The committee every example runs against, and the variables it gives the examples.
struct Fixture {
    tokens: BTreeMap<&'static str, String>,
    vars: BTreeMap<String, Value>,
}

impl Fixture {
    fn token(&self, actor: Actor) -> Option<&str> {
        let key = match actor {
            Actor::Member => "member",
            Actor::Colleague => "colleague",
            Actor::Coordinator => "coordinator",
            Actor::Admin => "admin",
            Actor::Anonymous => return None,
        };
        Some(self.tokens[key].as_str())
    }
}

async fn create_venue(app: &TestApp, admin: &str, body: Value) -> i64 {
    let res = app.post("/api/v1/venues", admin, body).await;
    let status = res.status();
    let json: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "fixture venue: {json}");
    json["id"].as_i64().unwrap()
}

/// A correctly signed access token whose expiry is an hour ago.
fn expired_access_token(member_id: i64, committee_id: i64, now: DateTime<Utc>) -> String {
    let now = now.timestamp();
    let claims = json!({ "sub": member_id.to_string(), "cid": committee_id, "roles": ["member"], "iat": now - 4500, "exp": now - 3600 });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

async fn fixture(app: &TestApp) -> Fixture {
    let c = app.committee("contract", "55").await;
    let admin = app.token(&c.admin_phone).await;
    let kunyang = create_venue(
        app,
        &admin,
        json!({
            "kind": "township_studio", "name": "昆阳镇委员工作室", "township": "昆阳镇",
            "address": "平阳县昆阳镇便民服务中心二楼", "code": "kunyang",
            "location": { "latitude": 27.6617, "longitude": 120.5637, "radius_m": 200 }
        }),
    )
    .await;
    let aojiang = create_venue(
        app,
        &admin,
        json!({ "kind": "township_studio", "name": "鳌江镇委员工作室", "township": "鳌江镇", "code": "aojiang" }),
    )
    .await;
    let home =
        create_venue(app, &admin, json!({ "kind": "cppcc_home", "name": "平阳县政协之家", "code": "home" })).await;
    let (member_phone, coordinator_phone, colleague_phone) = (c.phone(1), c.phone(2), c.phone(3));
    let member = app
        .member(
            &admin,
            json!({ "name": "张委员", "phone": member_phone, "sector": "经济界", "home_venue_id": kunyang, "standing_committee": true }),
        )
        .await;
    let coordinator = app
        .member(
            &admin,
            json!({ "name": "李联络员", "phone": coordinator_phone, "roles": ["coordinator"], "coordinator_venue_ids": [kunyang] }),
        )
        .await;
    let calendar: Value = serde_json::from_str(zhiban::calendar::CHINA_2026_JSON).unwrap();
    let res = app.put("/api/v1/calendar/2026", &admin, calendar).await;
    assert_eq!(res.status(), 200, "fixture calendar upload: {}", res.text().await.unwrap());
    let member_token = app.token(&member_phone).await;

    // December's roster: the reception day at 昆阳镇, whose only pool member (张委员) is certain
    // to be on it. 王委员 joins the studio afterwards, so he is free that day.
    let template = fixture_post(
        app,
        &admin,
        "/api/v1/shift-templates",
        json!({ "venue_id": kunyang, "name": "委员接待日", "kind": "reception_day", "rrule": "FREQ=MONTHLY;BYMONTHDAY=25",
                "start_time": "09:00:00", "end_time": "11:30:00", "head_min": 1, "head_max": 2, "pool_venue_id": kunyang }),
        201,
    )
    .await;
    let generated = fixture_post(
        app,
        &admin,
        "/api/v1/rosters/generate",
        json!({ "period_from": "2026-12-01", "period_to": "2026-12-31" }),
        201,
    )
    .await;
    let roster_id = generated["roster_id"].as_i64().unwrap();
    fixture_post(app, &admin, &format!("/api/v1/rosters/{roster_id}/publish"), json!({}), 200).await;
    let res = app.get("/api/v1/me/duties?from=2026-12-01&to=2026-12-31", &member_token).await;
    let duties: Value = res.json().await.unwrap();
    let [duty] = duties.as_array().unwrap().as_slice() else {
        panic!("fixture: 张委员 has one duty in December: {duties}")
    };
    assert_eq!(duty["date"], "2026-12-25", "fixture: {duty}");
    let colleague = app
        .member(
            &admin,
            json!({ "name": "王委员", "phone": colleague_phone, "sector": "法律界", "home_venue_id": kunyang }),
        )
        .await;
    let (colleague_token, coordinator_token) = (app.token(&colleague_phone).await, app.token(&coordinator_phone).await);

    // Check-in: a duty of 张委员 at 昆阳镇 that started 10 minutes ago, the code on the studio's
    // screen now, and codes as the screen showed them 5 minutes and 73 hours ago.
    let now = app.clock.now().duration_trunc(Duration::seconds(1)).unwrap();
    let (checkin_assignment, checkin_shift) = duty_now(app, c.id, kunyang, member, now).await;
    // Last, as the screen's code is accepted for 30–60 seconds from here.
    let res = app.get(&format!("/api/v1/venues/{kunyang}/display-code"), &admin).await;
    assert_eq!(res.status(), 200, "fixture display code");
    let screen: Value = res.json().await.unwrap();
    let (venue_code, secret, version) = venue_secret(app, kunyang).await;
    let code_at = |t: DateTime<Utc>| display_code(secret.as_bytes(), &venue_code, version, step_of(t.timestamp()));
    let rfc3339 = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let (offline_at, stale_at) = (now - Duration::minutes(5), now - Duration::hours(73));

    let tokens = BTreeMap::from([
        ("member", member_token),
        ("colleague", colleague_token),
        ("coordinator", coordinator_token),
        ("admin", admin),
    ]);
    let vars = BTreeMap::from([
        ("password".to_owned(), json!(PASSWORD)),
        ("admin_phone".to_owned(), json!(c.admin_phone)),
        ("member_phone".to_owned(), json!(member_phone)),
        ("coordinator_phone".to_owned(), json!(coordinator_phone)),
        ("colleague_phone".to_owned(), json!(colleague_phone)),
        ("admin_id".to_owned(), json!(c.admin_id)),
        ("member_id".to_owned(), json!(member)),
        ("coordinator_id".to_owned(), json!(coordinator)),
        ("colleague_id".to_owned(), json!(colleague)),
        ("kunyang_id".to_owned(), json!(kunyang)),
        ("aojiang_id".to_owned(), json!(aojiang)),
        ("cppcc_home_id".to_owned(), json!(home)),
        ("expired_access_token".to_owned(), json!(expired_access_token(member, c.id, now))),
        ("template_id".to_owned(), template["id"].clone()),
        ("roster_id".to_owned(), json!(roster_id)),
        ("duty_assignment_id".to_owned(), duty["assignment_id"].clone()),
        ("duty_shift_id".to_owned(), duty["shift_id"].clone()),
        ("checkin_assignment_id".to_owned(), json!(checkin_assignment)),
        ("checkin_shift_id".to_owned(), json!(checkin_shift)),
        ("display_code".to_owned(), screen["payload"].clone()),
        ("now".to_owned(), json!(rfc3339(now))),
        ("offline_scanned_at".to_owned(), json!(rfc3339(offline_at))),
        ("offline_code".to_owned(), json!(code_at(offline_at))),
        ("stale_scanned_at".to_owned(), json!(rfc3339(stale_at))),
        ("stale_code".to_owned(), json!(code_at(stale_at))),
    ]);
    Fixture { tokens, vars }
}

async fn fixture_post(app: &TestApp, token: &str, path: &str, body: Value, status: u16) -> Value {
    let res = app.post(path, token, body).await;
    let got = res.status();
    let json: Value = res.json().await.unwrap();
    assert_eq!(got, status, "fixture POST {path}: {json}");
    json
}

/// A published one-shift roster at `venue` from 10 minutes before `now` to 170 minutes after,
/// with `member` as its lead; returns (assignment id, shift id). Written directly: generated
/// rosters start tomorrow at the earliest, and check-in needs a duty open now. Its template is
/// inactive, so no generation picks it up.
async fn duty_now(app: &TestApp, committee_id: i64, venue: i64, member: i64, now: DateTime<Utc>) -> (i64, i64) {
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        let created = now.naive_utc();
        let (starts, ends) = (now - Duration::minutes(10), now + Duration::minutes(170));
        let local = |t: DateTime<Utc>| t.with_timezone(&chrono_tz::Asia::Shanghai).naive_local();
        let template: i64 = diesel::insert_into(shift_templates::table)
            .values((
                shift_templates::committee_id.eq(committee_id),
                shift_templates::venue_id.eq(venue),
                shift_templates::name.eq("临时值班"),
                shift_templates::kind.eq("custom"),
                shift_templates::rrule.eq("FREQ=DAILY;COUNT=1"),
                shift_templates::start_time.eq(local(starts).time()),
                shift_templates::end_time.eq(local(ends).time()),
                shift_templates::head_min.eq(1),
                shift_templates::head_max.eq(2),
                shift_templates::head_target.eq(1),
                shift_templates::holiday_policy.eq("keep"),
                shift_templates::active.eq(false),
                shift_templates::created_at.eq(created),
                shift_templates::updated_at.eq(created),
            ))
            .returning(shift_templates::id)
            .get_result(&mut conn)
            .unwrap();
        let roster: i64 = diesel::insert_into(rosters::table)
            .values((
                rosters::committee_id.eq(committee_id),
                rosters::period_from.eq(local(starts).date()),
                rosters::period_to.eq(local(starts).date()),
                rosters::status.eq("published"),
                rosters::published_at.eq(created),
                rosters::created_at.eq(created),
                rosters::updated_at.eq(created),
            ))
            .returning(rosters::id)
            .get_result(&mut conn)
            .unwrap();
        let shift: i64 = diesel::insert_into(shifts::table)
            .values((
                shifts::committee_id.eq(committee_id),
                shifts::roster_id.eq(roster),
                shifts::template_id.eq(template),
                shifts::venue_id.eq(venue),
                shifts::local_date.eq(local(starts).date()),
                shifts::start_time.eq(local(starts).time()),
                shifts::end_time.eq(local(ends).time()),
                shifts::starts_at.eq(starts.naive_utc()),
                shifts::ends_at.eq(ends.naive_utc()),
                shifts::head_min.eq(1),
                shifts::head_max.eq(2),
            ))
            .returning(shifts::id)
            .get_result(&mut conn)
            .unwrap();
        let assignment: i64 = diesel::insert_into(assignments::table)
            .values((
                assignments::committee_id.eq(committee_id),
                assignments::shift_id.eq(shift),
                assignments::member_id.eq(member),
                assignments::role.eq("lead"),
                assignments::source.eq("manual"),
                assignments::reason.eq("临时安排"),
                assignments::created_at.eq(created),
            ))
            .returning(assignments::id)
            .get_result(&mut conn)
            .unwrap();
        (assignment, shift)
    })
    .await
    .unwrap()
}

/// The venue's code, check-in secret and secret version (the secret exists once the display
/// code has been asked for).
async fn venue_secret(app: &TestApp, venue: i64) -> (String, String, i32) {
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        let (code, secret, version): (String, Option<String>, i32) = venues::table
            .find(venue)
            .select((venues::code, venues::checkin_secret, venues::checkin_secret_version))
            .first(&mut pool.get().unwrap())
            .unwrap();
        (code, secret.expect("made by the display-code endpoint"), version)
    })
    .await
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Variables and matching

/// `{{name}}` → the variable's text, inside a longer string.
fn substitute_text(text: &str, vars: &BTreeMap<String, Value>, keep_placeholders: bool) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..].find("}}").map(|e| start + e).unwrap_or_else(|| panic!("unclosed `{{{{` in {text:?}"));
        let name = &rest[start + 2..end];
        out.push_str(&rest[..start]);
        match vars.get(name) {
            Some(Value::String(s)) => out.push_str(s),
            Some(other) => out.push_str(&other.to_string()),
            None if keep_placeholders && (PLACEHOLDERS.contains(&name) || name == "...") => {
                out.push_str(&rest[start..end + 2]);
            }
            None => panic!("unknown variable {{{{{name}}}}} in {text:?}"),
        }
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Replaces variables in a JSON value. A string that is exactly `{{name}}` takes the variable's
/// JSON value (so an id stays a number); placeholders are kept for matching.
fn substitute(value: &Value, vars: &BTreeMap<String, Value>, keep_placeholders: bool) -> Value {
    match value {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix("{{").and_then(|r| r.strip_suffix("}}"))
                && let Some(v) = vars.get(name)
            {
                return v.clone();
            }
            Value::String(substitute_text(s, vars, keep_placeholders))
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, vars, keep_placeholders)).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), substitute(v, vars, keep_placeholders))).collect())
        }
        other => other.clone(),
    }
}

fn is_rfc3339_utc(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with('Z')
}

fn is_local_date(s: &str) -> bool {
    s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// Whether `actual` fits a placeholder; `None` when `expected` is not one.
fn placeholder_fits(expected: &str, actual: &Value) -> Option<bool> {
    let name = expected.strip_prefix("{{")?.strip_suffix("}}")?;
    Some(match name {
        "any" => true,
        "string" => actual.is_string(),
        "number" => actual.is_number(),
        "integer" => actual.is_i64() || actual.is_u64(),
        "boolean" => actual.is_boolean(),
        "rfc3339" => actual.as_str().is_some_and(is_rfc3339_utc),
        "date" => actual.as_str().is_some_and(is_local_date),
        "array" => actual.is_array(),
        "object" => actual.is_object(),
        _ => return None,
    })
}

/// Checks that `expected` is contained in `actual`; the error names the JSON pointer.
fn contains(expected: &Value, actual: &Value, at: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::String(p), _) if placeholder_fits(p, actual).is_some() => {
            if placeholder_fits(p, actual) == Some(true) {
                Ok(())
            } else {
                Err(format!("at `{at}`: expected {p}, got {actual}"))
            }
        }
        (Value::Object(want), Value::Object(have)) => {
            for (key, value) in want {
                let here = format!("{at}/{key}");
                let Some(found) = have.get(key) else { return Err(format!("at `{here}`: missing")) };
                contains(value, found, &here)?;
            }
            Ok(())
        }
        (Value::Array(want), Value::Array(have)) => {
            let (want, open) = match want.split_last() {
                Some((Value::String(last), init)) if last == REST => (init, true),
                _ => (want.as_slice(), false),
            };
            if have.len() < want.len() || (!open && have.len() != want.len()) {
                return Err(format!("at `{at}`: expected {} elements, got {}", want.len(), have.len()));
            }
            want.iter().zip(have).enumerate().try_for_each(|(i, (w, h))| contains(w, h, &format!("{at}/{i}")))
        }
        _ if expected == actual => Ok(()),
        _ => Err(format!("at `{at}`: expected {expected}, got {actual}")),
    }
}

// ---------------------------------------------------------------------------------------------
// OpenAPI

/// The OpenAPI document, with every object schema closed (`unevaluatedProperties: false`) so a
/// field the server sends but the spec does not name fails validation too.
struct Spec {
    doc: Value,
    components: Value,
}

impl Spec {
    fn load() -> Self {
        let doc = serde_json::to_value(zhiban::openapi::document()).unwrap();
        let mut components = doc["components"].clone();
        // Schemas pulled into an `allOf` cannot close themselves: the composite closes instead.
        let mut composed = BTreeSet::new();
        for schema in components["schemas"].as_object().unwrap().values() {
            for part in schema["allOf"].as_array().into_iter().flatten() {
                if let Some(r) = part["$ref"].as_str() {
                    composed.insert(r.trim_start_matches("#/components/schemas/").to_owned());
                }
            }
        }
        for (name, schema) in components["schemas"].as_object_mut().unwrap() {
            if !composed.contains(name) {
                close_objects(schema);
            }
        }
        Self { doc, components }
    }

    /// The operation documented for a concrete path, e.g. `/api/v1/venues/7` → `/api/v1/venues/{id}`.
    fn operation(&self, method: &str, concrete: &str) -> (&str, &Value) {
        let concrete = concrete.split('?').next().unwrap();
        let segments: Vec<&str> = concrete.split('/').collect();
        let mut candidates: Vec<(usize, &str, &Value)> = self.doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .filter_map(|(template, item)| {
                let parts: Vec<&str> = template.split('/').collect();
                let fits = parts.len() == segments.len()
                    && parts.iter().zip(&segments).all(|(t, s)| t == s || (t.starts_with('{') && t.ends_with('}')));
                let op = item.get(method.to_ascii_lowercase())?;
                fits.then(|| (parts.iter().filter(|p| p.starts_with('{')).count(), template.as_str(), op))
            })
            .collect();
        candidates.sort_by_key(|(params, template, _)| (*params, *template));
        let Some((_, template, op)) = candidates.into_iter().next() else {
            panic!("{method} {concrete} is not documented in the OpenAPI document");
        };
        (template, op)
    }

    fn validate(&self, schema: &Value, instance: &Value) -> Result<(), String> {
        let mut root = schema.clone();
        if let Value::Object(map) = &mut root {
            map.insert("components".to_owned(), self.components.clone());
        }
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| format!("schema does not compile: {e}"))?;
        let errors: Vec<String> =
            validator.iter_errors(instance).map(|e| format!("`{}`: {e}", e.instance_path())).collect();
        if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) }
    }

    fn problem_schema() -> Value {
        json!({ "$ref": "#/components/schemas/Problem" })
    }
}

/// Adds `unevaluatedProperties: false` to every object schema below `schema` that lists
/// properties, and at the level of an `allOf`.
fn close_objects(schema: &mut Value) {
    if let Value::Object(map) = schema {
        if (map.contains_key("properties") || map.contains_key("allOf")) && !map.contains_key("additionalProperties") {
            map.insert("unevaluatedProperties".to_owned(), Value::Bool(false));
        }
        for (key, child) in map.iter_mut() {
            match key.as_str() {
                "properties" => child.as_object_mut().into_iter().flat_map(|m| m.values_mut()).for_each(close_objects),
                "items" | "additionalProperties" => close_objects(child),
                "oneOf" | "anyOf" => child.as_array_mut().into_iter().flatten().for_each(close_objects),
                _ => {}
            }
        }
    }
}

/// `application/json`, `application/problem+json` and the like.
fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}

fn media_type(headers: &HeaderMap) -> String {
    let raw = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    raw.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

/// The response agrees with the spec: its status is documented for the operation, its media type
/// is the documented one, and its body validates against the documented schema.
fn check_against_spec(
    spec: &Spec,
    method: &str,
    path: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    let (template, op) = spec.operation(method, path);
    let Some(response) = op["responses"].get(status.to_string()) else {
        return Err(format!("status {status} is not documented for {method} {template}"));
    };
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return if body.is_empty() {
            Ok(())
        } else {
            Err(format!("{method} {template} {status} is documented without a body, yet one was sent"))
        };
    };
    let media = media_type(headers);
    let Some(schema) = content.get(&media).and_then(|c| c.get("schema")) else {
        let documented: Vec<_> = content.keys().collect();
        return Err(format!("{method} {template} {status} sent `{media}`, documented {documented:?}"));
    };
    let json: Value = if is_json(&media) {
        serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?
    } else {
        Value::String(String::from_utf8(body.to_vec()).map_err(|e| format!("`{media}` body is not UTF-8: {e}"))?)
    };
    spec.validate(schema, &json).map_err(|e| format!("{method} {template} {status} body breaks its schema: {e}"))?;
    if media == "application/problem+json" {
        spec.validate(&Spec::problem_schema(), &json).map_err(|e| format!("not a Problem: {e}"))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Replay

async fn replay(file: &str) {
    let example = load_example(file);
    let spec = Spec::load();
    let codes = committed_codes();
    // The examples are written around December 2026's reception day: they replay at a
    // pinned instant before it, whatever the date the suite runs on.
    let app = spawn_app_at(november_2026()).await;
    let mut fixture = fixture(&app).await;

    for (i, step) in example.steps.iter().enumerate() {
        let label = format!(
            "examples/{file} step {}{}",
            i + 1,
            step.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
        );
        let vars = &fixture.vars;
        let request = &step.request;
        let method: Method = request.method.parse().unwrap_or_else(|_| panic!("{label}: method {}", request.method));
        let path = substitute_text(&request.path, vars, false);
        // A URL the server handed out (the calendar feed's) is used as it is.
        let path = path.strip_prefix(app.address.as_str()).map(str::to_owned).unwrap_or(path);
        assert!(
            path.starts_with("/api/v1/") || path.starts_with("/ical/"),
            "{label}: the app's paths start /api/v1/ (or are the feed URL the server gave): {path}"
        );

        let mut builder = app.client.request(method.clone(), app.url(&path));
        if let Some(token) = fixture.token(request.actor) {
            assert!(
                !request.headers.keys().any(|k| k.eq_ignore_ascii_case("authorization")),
                "{label}: an Authorization header goes with `\"as\": \"anonymous\"`"
            );
            builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), substitute_text(value, vars, false));
        }
        let body = request.body.as_ref().map(|b| substitute(b, vars, false));
        if let Some(body) = &body {
            builder = builder.json(body);
        }
        let res = builder.send().await.unwrap_or_else(|e| panic!("{label}: {e}"));
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if std::env::var_os("CONTRACT_TRACE").is_some() {
            eprintln!("--- {label}: {method} {path} → {status}\n{text}");
        }

        assert_eq!(status, step.expect.status, "{label}: {method} {path} answered {status}: {text}");
        let (method_str, expect) = (method.as_str(), &step.expect);
        if let Err(e) = check_against_spec(&spec, method_str, &path, status, &headers, &bytes) {
            panic!("{label}: spec and server disagree: {e}\nbody: {text}");
        }
        if status < 400
            && let (Some(body), Some(schema)) = (&body, request_body_schema(&spec, method_str, &path))
        {
            spec.validate(&schema, body)
                .unwrap_or_else(|e| panic!("{label}: the example's request breaks its schema: {e}"));
        }
        let json: Value = if bytes.is_empty() || !is_json(&media_type(&headers)) {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        for want in &expect.text_contains {
            let want = substitute_text(want, vars, false);
            assert!(text.contains(&want), "{label}: the body lacks {want:?}:\n{text}");
        }

        if status >= 400 {
            let code = expect.code.as_deref().unwrap_or_else(|| panic!("{label}: an error step names its `code`"));
            assert!(codes.contains_key(code), "{label}: `{code}` is not in error-codes.json");
            assert_eq!(media_type(&headers), "application/problem+json", "{label}");
            assert_eq!(json["code"], code, "{label}: {text}");
            assert_eq!(json["status"], status, "{label}");
            assert_eq!(json["type"], format!("urn:zhiban:problem:{code}"), "{label}");
        } else {
            assert!(expect.code.is_none(), "{label}: `code` is for error steps");
        }
        if let Some(subset) = &expect.body_subset {
            let subset = substitute(subset, vars, true);
            if let Err(e) = contains(&subset, &json, "") {
                panic!("{label}: body_subset not met {e}\nbody: {text}");
            }
        }
        for (name, want) in &expect.headers {
            let want = substitute_text(want, vars, true);
            let have = headers.get(name.as_str()).and_then(|v| v.to_str().ok());
            let Some(have) = have else { panic!("{label}: header {name} missing") };
            let have_json = have.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(have));
            let fits = placeholder_fits(&want, &have_json).unwrap_or(want == have);
            assert!(fits, "{label}: header {name} is {have:?}, expected {want}");
        }
        for (var, pointer) in &step.save {
            assert!(!PLACEHOLDERS.contains(&var.as_str()), "{label}: `{var}` is a placeholder name");
            let value =
                json.pointer(pointer).unwrap_or_else(|| panic!("{label}: nothing at {pointer} to save: {text}"));
            fixture.vars.insert(var.clone(), value.clone());
        }
    }
    if std::env::var_os("CONTRACT_TRACE").is_some() {
        for (kind, payload) in queued_notifications(&app).await {
            eprintln!("--- examples/{file} queued {kind}: {payload}");
        }
    }
}

/// Every notification in the outbox, oldest first: (kind, payload).
async fn queued_notifications(app: &TestApp) -> Vec<(String, String)> {
    use zhiban::schema::outbox;
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        outbox::table.order(outbox::id).select((outbox::kind, outbox::payload)).load(&mut pool.get().unwrap()).unwrap()
    })
    .await
    .unwrap()
}

fn request_body_schema(spec: &Spec, method: &str, path: &str) -> Option<Value> {
    let (_, op) = spec.operation(method, path);
    op.pointer("/requestBody/content/application~1json/schema").cloned()
}

/// The spec check must bite, or every replay above proves nothing.
#[test]
fn the_spec_check_refuses_what_the_spec_does_not_say() {
    let spec = Spec::load();
    let mut json_headers = HeaderMap::new();
    json_headers.insert(CONTENT_TYPE, "application/json".parse().unwrap());
    let mut problem_headers = HeaderMap::new();
    problem_headers.insert(CONTENT_TYPE, "application/problem+json".parse().unwrap());
    let venue = json!({
        "id": 7, "kind": "township_studio", "name": "昆阳镇委员工作室", "township": null, "code": "kunyang",
        "location": null, "active": true, "created_at": "2026-03-01T08:00:00Z", "updated_at": "2026-03-01T08:00:00Z"
    });
    let check = |method: &str, path: &str, status: u16, headers: &HeaderMap, body: &Value| {
        let bytes = if body.is_null() { Vec::new() } else { serde_json::to_vec(body).unwrap() };
        check_against_spec(&spec, method, path, status, headers, &bytes)
    };
    check("GET", "/api/v1/venues/7", 200, &json_headers, &venue).expect("a documented venue passes");

    let mut extra = venue.clone();
    extra["secret"] = json!("x");
    assert!(check("GET", "/api/v1/venues/7", 200, &json_headers, &extra).is_err(), "an undocumented field");
    let mut bad_time = venue.clone();
    bad_time["created_at"] = json!("yesterday");
    assert!(check("GET", "/api/v1/venues/7", 200, &json_headers, &bad_time).is_err(), "a malformed date-time");
    let page = json!({ "items": [extra], "next_cursor": null });
    assert!(check("GET", "/api/v1/venues", 200, &json_headers, &page).is_err(), "an undocumented nested field");
    assert!(check("GET", "/api/v1/venues/7", 200, &problem_headers, &venue).is_err(), "an undocumented media type");

    let problem =
        json!({ "type": "urn:zhiban:problem:not_found", "title": "Not found", "status": 404, "code": "not_found" });
    check("GET", "/api/v1/venues/7", 404, &problem_headers, &problem).expect("a documented problem passes");
    let unauthenticated = json!({ "type": "urn:zhiban:problem:unauthenticated", "title": "Sign-in required", "status": 401, "code": "unauthenticated" });
    assert!(check("GET", "/api/v1/venues/7", 418, &problem_headers, &problem).is_err(), "an undocumented status");
    let mut no_code = problem.clone();
    no_code.as_object_mut().unwrap().remove("code");
    assert!(check("GET", "/api/v1/venues/7", 404, &problem_headers, &no_code).is_err(), "a problem without code");
    let mut unknown_code = problem.clone();
    unknown_code["code"] = json!("no_such_code");
    assert!(check("GET", "/api/v1/venues/7", 404, &problem_headers, &unknown_code).is_err(), "an unknown code");
    check("GET", "/api/v1/me", 401, &problem_headers, &unauthenticated).expect("a documented 401");

    assert!(check("POST", "/api/v1/auth/logout", 204, &json_headers, &Value::Null).is_ok(), "an empty 204");
    assert!(check("POST", "/api/v1/auth/logout", 204, &json_headers, &json!({})).is_err(), "a body on a bodiless 204");

    let me = json!({
        "id": 1, "name": "张委员", "phone": "15500000001", "sector": "经济界", "home_venue_id": 7, "roving": false,
        "standing_committee": true, "active": true, "roles": ["member"], "coordinator_venue_ids": [], "can_sign_in": true,
        "created_at": "2026-03-01T08:00:00Z", "updated_at": "2026-03-01T08:00:00Z",
        "committee": { "id": 1, "code": "contract", "name": "contract政协", "timezone": "Asia/Shanghai" },
        "sms_enabled": true, "unread_notices": 0
    });
    check("GET", "/api/v1/me", 200, &json_headers, &me).expect("a documented Me passes");

    let mut calendar_headers = HeaderMap::new();
    calendar_headers.insert(CONTENT_TYPE, "text/calendar; charset=utf-8".parse().unwrap());
    let ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n";
    check_against_spec(&spec, "GET", "/ical/abc.ics", 200, &calendar_headers, ics).expect("a documented text body");
    assert!(check_against_spec(&spec, "GET", "/ical/abc.ics", 200, &json_headers, b"{}").is_err(), "JSON, not text");
    assert!(
        check_against_spec(&spec, "GET", "/ical/abc.ics", 200, &calendar_headers, &[0xff, 0xfe]).is_err(),
        "a text body that is not UTF-8"
    );
    let mut me_extra = me.clone();
    me_extra["password_hash"] = json!("x");
    assert!(check("GET", "/api/v1/me", 200, &json_headers, &me_extra).is_err(), "an undocumented field beside allOf");
}

#[test]
fn subset_matching_and_placeholders() {
    let actual = json!({ "a": 1, "b": ["x", "y", "z"], "t": "2026-09-25T01:00:00Z", "d": "2026-09-25", "n": null });
    assert!(
        contains(&json!({ "a": "{{integer}}", "t": "{{rfc3339}}", "d": "{{date}}", "n": null }), &actual, "").is_ok()
    );
    assert!(contains(&json!({ "b": ["x", "{{...}}"] }), &actual, "").is_ok());
    assert!(contains(&json!({ "b": ["x"] }), &actual, "").is_err(), "arrays are whole unless they end in {{...}}");
    assert!(contains(&json!({ "missing": "{{any}}" }), &actual, "").is_err());
    assert!(contains(&json!({ "d": "{{rfc3339}}" }), &actual, "").is_err());
    assert!(contains(&json!({ "t": "{{date}}" }), &actual, "").is_err());
    assert!(contains(&json!({ "a": "1" }), &actual, "").is_err(), "types matter");
    let vars = BTreeMap::from([("id".to_owned(), json!(7)), ("tok".to_owned(), json!("abc"))]);
    assert_eq!(
        substitute(&json!({ "id": "{{id}}", "p": "/v/{{id}}?t={{tok}}", "s": "{{string}}" }), &vars, true),
        json!({ "id": 7, "p": "/v/7?t=abc", "s": "{{string}}" })
    );
}
