//! Swaps, leave and the calendar feed over a published December roster.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{TestApp, november_2026, problem, spawn_app_at};
use crate::rosters::{County, county, generate, roster};

/// The county with December 2026 generated and published; returns the roster.
pub async fn published_december(app: &TestApp, per_studio: u32) -> (County, Value) {
    let k = county(app, per_studio, 0).await;
    let summary = generate(app, &k.admin, "2026-12-01", "2026-12-31").await;
    let id = summary["roster_id"].as_i64().unwrap();
    assert_eq!(app.post(&format!("/api/v1/rosters/{id}/publish"), &k.admin, json!({})).await.status(), 200);
    let r = roster(app, &k.admin, id).await;
    (k, r)
}

fn members_of(shift: &Value) -> Vec<i64> {
    shift["assignments"].as_array().unwrap().iter().map(|a| a["member_id"].as_i64().unwrap()).collect()
}

/// Member number (for the phone) of a member id: members were created in order 1, 2, 3…
pub fn phone_of(k: &County, member_id: i64) -> String {
    let index = k.members.values().flatten().position(|m| *m == member_id).unwrap();
    k.c.phone(index as u32 + 1)
}

pub struct SwapCase {
    pub shift_id: i64,
    pub assignment_id: i64,
    pub giver: i64,
    pub taker: i64,
}

/// A reception-day duty at studio one and a colleague free all that day.
pub fn swap_case(k: &County, r: &Value) -> SwapCase {
    swap_case_at(k, r, 0)
}

/// A reception-day duty at the studio `k.studios[studio]` and a colleague of that studio free
/// all that day.
pub fn swap_case_at(k: &County, r: &Value, studio: usize) -> SwapCase {
    let shifts = r["shifts"].as_array().unwrap();
    let shift = shifts.iter().find(|s| s["venue_id"] == k.studios[studio]).unwrap();
    let busy: BTreeSet<i64> = shifts.iter().filter(|s| s["date"] == shift["date"]).flat_map(members_of).collect();
    SwapCase {
        shift_id: shift["id"].as_i64().unwrap(),
        assignment_id: shift["assignments"][0]["id"].as_i64().unwrap(),
        giver: shift["assignments"][0]["member_id"].as_i64().unwrap(),
        taker: *k.members[&k.studios[studio]].iter().find(|m| !busy.contains(m)).unwrap(),
    }
}

#[tokio::test]
async fn a_swap_goes_through_every_state() {
    let app = spawn_app_at(november_2026()).await;
    let (k, r) = published_december(&app, 6).await;
    let case = swap_case(&k, &r);
    let giver = app.token(&phone_of(&k, case.giver)).await;
    let taker = app.token(&phone_of(&k, case.taker)).await;
    let bystander_id = *k.members[&k.studios[1]].first().unwrap();
    let bystander = app.token(&phone_of(&k, bystander_id)).await;

    // A named colleague must be someone else, of the committee, in the duty's pool.
    for (to, reason) in [(case.giver, "swap_to_self"), (999_999, "unknown_member"), (bystander_id, "not_eligible")] {
        let body = problem(
            app.post(
                "/api/v1/swap-requests",
                &giver,
                json!({ "assignment_id": case.assignment_id, "to_member_id": to }),
            )
            .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "to_member_id");
        assert_eq!(body["errors"][0]["reason"], reason);
    }

    // Only the holder can offer the duty.
    let offer = json!({ "assignment_id": case.assignment_id, "to_member_id": case.taker, "note": "家中有事" });
    problem(app.post("/api/v1/swap-requests", &taker, offer.clone()).await, 403, "forbidden").await;
    let res = app.post("/api/v1/swap-requests", &giver, offer.clone()).await;
    assert_eq!(res.status(), 201);
    let swap: Value = res.json().await.unwrap();
    assert_eq!(swap["status"], "offered");
    let id = swap["id"].as_i64().unwrap();
    problem(app.post("/api/v1/swap-requests", &giver, offer).await, 409, "invalid_transition").await;

    let act = |token: &str, action: &str| {
        let (app, token, path) = (&app, token.to_owned(), format!("/api/v1/swap-requests/{id}/{action}"));
        async move { app.post(&path, &token, json!({})).await }
    };
    problem(act(&k.admin, "approve").await, 409, "invalid_transition").await; // not accepted yet
    problem(act(&bystander, "accept").await, 403, "forbidden").await; // not addressed to them
    problem(act(&taker, "approve").await, 403, "forbidden").await; // members do not approve
    let accepted: Value = act(&taker, "accept").await.json().await.unwrap();
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["accepted_by"], case.taker);
    problem(act(&taker, "accept").await, 409, "invalid_transition").await;

    let approved: Value = act(&k.admin, "approve").await.json().await.unwrap();
    assert_eq!(approved["status"], "approved");
    problem(act(&k.admin, "approve").await, 409, "invalid_transition").await;
    problem(act(&giver, "cancel").await, 409, "invalid_transition").await;

    // The duty moved in a new version of the roster.
    let after = roster(&app, &k.admin, r["id"].as_i64().unwrap()).await;
    assert_eq!(after["version"], 2);
    let shift = after["shifts"].as_array().unwrap().iter().find(|s| s["id"] == case.shift_id).unwrap();
    assert!(members_of(shift).contains(&case.taker) && !members_of(shift).contains(&case.giver));
    let swapped = shift["assignments"].as_array().unwrap().iter().find(|a| a["member_id"] == case.taker).unwrap();
    assert_eq!(swapped["source"], "swap");
}

#[tokio::test]
async fn swaps_can_be_cancelled_rejected_or_auto_approved() {
    let app = spawn_app_at(november_2026()).await;
    let (k, r) = published_december(&app, 6).await;
    let case = swap_case(&k, &r);
    let giver = app.token(&phone_of(&k, case.giver)).await;
    let taker = app.token(&phone_of(&k, case.taker)).await;

    // A pool offer, cancelled by the giver; nobody can take it afterwards.
    let pool_offer = json!({ "assignment_id": case.assignment_id });
    let id = app.post("/api/v1/swap-requests", &giver, pool_offer.clone()).await.json::<Value>().await.unwrap()["id"]
        .clone();
    let open: Value = app.get("/api/v1/swap-requests", &taker).await.json().await.unwrap();
    assert!(open["items"].as_array().unwrap().iter().any(|s| s["id"] == id), "pool offers are visible to colleagues");
    let cancelled: Value =
        app.post(&format!("/api/v1/swap-requests/{id}/cancel"), &giver, json!({})).await.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    problem(
        app.post(&format!("/api/v1/swap-requests/{id}/accept"), &taker, json!({})).await,
        409,
        "invalid_transition",
    )
    .await;

    // A pool offer is open to the duty's pool only.
    let id = app.post("/api/v1/swap-requests", &giver, pool_offer.clone()).await.json::<Value>().await.unwrap()["id"]
        .clone();
    let outsider = app.token(&phone_of(&k, k.members[&k.studios[1]][0])).await;
    let seen: Value = app.get("/api/v1/swap-requests", &outsider).await.json().await.unwrap();
    assert!(seen["items"].as_array().unwrap().iter().all(|s| s["id"] != id), "another studio does not see the offer");
    problem(
        app.post(&format!("/api/v1/swap-requests/{id}/accept"), &outsider, json!({})).await,
        409,
        "assignment_conflict",
    )
    .await;
    app.post(&format!("/api/v1/swap-requests/{id}/cancel"), &giver, json!({})).await;

    // Another offer, rejected by the coordinator.
    let id = app.post("/api/v1/swap-requests", &giver, pool_offer.clone()).await.json::<Value>().await.unwrap()["id"]
        .clone();
    let rejected: Value =
        app.post(&format!("/api/v1/swap-requests/{id}/reject"), &k.admin, json!({})).await.json().await.unwrap();
    assert_eq!(rejected["status"], "rejected");

    // An offer to a named colleague, accepted, then withdrawn by that colleague: the giver is
    // told. (The giver's own withdrawals of pool offers above told nobody.)
    let named = json!({ "assignment_id": case.assignment_id, "to_member_id": case.taker });
    let id =
        app.post("/api/v1/swap-requests", &giver, named).await.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(app.post(&format!("/api/v1/swap-requests/{id}/accept"), &taker, json!({})).await.status(), 200);
    let withdrawn: Value =
        app.post(&format!("/api/v1/swap-requests/{id}/cancel"), &taker, json!({})).await.json().await.unwrap();
    assert_eq!(withdrawn["status"], "cancelled");
    assert_eq!(cancellations(&app).await, vec![(id, case.giver)]);

    // With auto-approve, acceptance applies the swap at once.
    let res = app.patch("/api/v1/committee", &k.admin, json!({ "settings": { "swap_auto_approve": true } })).await;
    assert_eq!(res.status(), 200);
    let id = app.post("/api/v1/swap-requests", &giver, pool_offer).await.json::<Value>().await.unwrap()["id"].clone();
    let done: Value =
        app.post(&format!("/api/v1/swap-requests/{id}/accept"), &taker, json!({})).await.json().await.unwrap();
    assert_eq!(done["status"], "approved");
    let duties: Value = app.get("/api/v1/me/duties?from=2026-12-01&to=2026-12-31", &taker).await.json().await.unwrap();
    assert!(duties.as_array().unwrap().iter().any(|d| d["shift_id"] == case.shift_id));
}

#[tokio::test]
async fn a_full_shift_can_still_be_swapped_and_a_dead_offer_withdrawn() {
    let app = spawn_app_at(november_2026()).await;
    let (k, r) = published_december(&app, 6).await;
    let case = swap_case(&k, &r);
    let giver = app.token(&phone_of(&k, case.giver)).await;
    let taker = app.token(&phone_of(&k, case.taker)).await;
    // The shift is at its maximum: the taker relieves the giver, so the head count holds.
    let (pool, shift_id) = (app.pool.clone(), case.shift_id);
    tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use zhiban::schema::{assignments, shifts};
        let mut conn = pool.get().unwrap();
        let head: i64 = assignments::table
            .filter(assignments::shift_id.eq(shift_id).and(assignments::removed_at.is_null()))
            .count()
            .get_result(&mut conn)
            .unwrap();
        diesel::update(shifts::table.find(shift_id)).set(shifts::head_max.eq(head as i32)).execute(&mut conn).unwrap();
    })
    .await
    .unwrap();
    let offer = json!({ "assignment_id": case.assignment_id, "to_member_id": case.taker });
    let id =
        app.post("/api/v1/swap-requests", &giver, offer.clone()).await.json::<Value>().await.unwrap()["id"].clone();
    let accepted: Value =
        app.post(&format!("/api/v1/swap-requests/{id}/accept"), &taker, json!({})).await.json().await.unwrap();
    assert_eq!(accepted["status"], "accepted", "{accepted}");
    let approved: Value =
        app.post(&format!("/api/v1/swap-requests/{id}/approve"), &k.admin, json!({})).await.json().await.unwrap();
    assert_eq!(approved["status"], "approved", "{approved}");

    // The taker offers the duty on; the coordinator then takes the taker off the shift. The
    // offer ends with the duty, and the taker is told.
    let duties: Value = app.get("/api/v1/me/duties?from=2026-12-01&to=2026-12-31", &taker).await.json().await.unwrap();
    let held = duties.as_array().unwrap().iter().find(|d| d["shift_id"] == case.shift_id).unwrap();
    let offer = json!({ "assignment_id": held["assignment_id"] });
    let id = app.post("/api/v1/swap-requests", &taker, offer).await.json::<Value>().await.unwrap()["id"].clone();
    let res = app
        .patch(
            &format!("/api/v1/shifts/{}/assignments", case.shift_id),
            &k.admin,
            json!({ "action": "remove", "member_id": case.taker, "reason": "临时调整" }),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    problem(
        app.post(&format!("/api/v1/swap-requests/{id}/accept"), &giver, json!({})).await,
        409,
        "invalid_transition",
    )
    .await;
    problem(
        app.post(&format!("/api/v1/swap-requests/{id}/cancel"), &taker, json!({})).await,
        409,
        "invalid_transition",
    )
    .await;
    let mine: Value = app.get("/api/v1/swap-requests", &taker).await.json().await.unwrap();
    let dead = mine["items"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap();
    assert_eq!(dead["status"], "cancelled", "{dead}");
    let told = cancellations(&app).await;
    assert_eq!(told, vec![(id.as_i64().unwrap(), case.taker)], "the offerer is told; a pool offer has no one else");
}

/// `(swap_request_id, member_id)` of every `swap.cancelled` notification queued, in order.
async fn cancellations(app: &TestApp) -> Vec<(i64, i64)> {
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use zhiban::schema::outbox;
        outbox::table
            .filter(outbox::kind.eq("swap.cancelled"))
            .order(outbox::id)
            .select(outbox::payload)
            .load::<String>(&mut pool.get().unwrap())
            .unwrap()
            .iter()
            .map(|p| {
                let v: Value = serde_json::from_str(p).unwrap();
                (v["swap_request_id"].as_i64().unwrap(), v["member_id"].as_i64().unwrap())
            })
            .collect()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn approved_leave_frees_duties_and_proposes_substitutes() {
    let app = spawn_app_at(november_2026()).await;
    let (k, r) = published_december(&app, 6).await;
    let case = swap_case(&k, &r);
    let member = app.token(&phone_of(&k, case.giver)).await;
    let window = "/api/v1/me/duties?from=2026-12-01&to=2026-12-31";
    let before: Value = app.get(window, &member).await.json().await.unwrap();
    let duty_shifts: BTreeSet<i64> =
        before.as_array().unwrap().iter().map(|d| d["shift_id"].as_i64().unwrap()).collect();
    assert!(!duty_shifts.is_empty());

    let res = app
        .post(
            "/api/v1/leave-requests",
            &member,
            json!({ "date_from": "2026-12-01", "date_to": "2026-12-31", "reason": "外出学习" }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    problem(app.post(&format!("/api/v1/leave-requests/{id}/approve"), &member, json!({})).await, 403, "forbidden")
        .await;

    // An offer still open when the leave is approved ends with it.
    let swap = app.post("/api/v1/swap-requests", &member, json!({ "assignment_id": case.assignment_id })).await;
    assert_eq!(swap.status(), 201);
    let swap_id = swap.json::<Value>().await.unwrap()["id"].clone();

    let res = app.post(&format!("/api/v1/leave-requests/{id}/approve"), &k.admin, json!({})).await;
    assert_eq!(res.status(), 200);
    let decision: Value = res.json().await.unwrap();
    let swaps: Value = app.get("/api/v1/swap-requests", &member).await.json().await.unwrap();
    let swap = swaps["items"].as_array().unwrap().iter().find(|s| s["id"] == swap_id).unwrap();
    assert_eq!(swap["status"], "cancelled");
    assert_eq!(decision["leave"]["status"], "approved");
    let freed: BTreeSet<i64> =
        decision["freed_shifts"].as_array().unwrap().iter().map(|f| f["shift_id"].as_i64().unwrap()).collect();
    assert_eq!(freed, duty_shifts);
    let reception =
        decision["freed_shifts"].as_array().unwrap().iter().find(|f| f["venue_id"] == k.studios[0]).unwrap();
    let candidates: Vec<i64> =
        reception["candidates"].as_array().unwrap().iter().map(|c| c["member_id"].as_i64().unwrap()).collect();
    assert!(!candidates.is_empty());
    assert!(!candidates.contains(&case.giver));
    assert!(candidates.iter().all(|c| k.members[&k.studios[0]].contains(c)), "substitutes come from the studio's pool");

    let after: Value = app.get(window, &member).await.json().await.unwrap();
    assert_eq!(after, json!([]));
    problem(
        app.post(&format!("/api/v1/leave-requests/{id}/approve"), &k.admin, json!({})).await,
        409,
        "invalid_transition",
    )
    .await;
    problem(
        app.post(&format!("/api/v1/leave-requests/{id}/cancel"), &member, json!({})).await,
        409,
        "invalid_transition",
    )
    .await;

    // A pending request can be withdrawn; a withdrawn one cannot be decided.
    let id = app
        .post("/api/v1/leave-requests", &member, json!({ "date_from": "2026-11-01", "date_to": "2026-11-02" }))
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(app.post(&format!("/api/v1/leave-requests/{id}/cancel"), &member, json!({})).await.status(), 200);
    problem(
        app.post(&format!("/api/v1/leave-requests/{id}/reject"), &k.admin, json!({})).await,
        409,
        "invalid_transition",
    )
    .await;
    let res = app
        .post("/api/v1/leave-requests", &member, json!({ "date_from": "2026-12-02", "date_to": "2026-12-01" }))
        .await;
    problem(res, 422, "validation_failed").await;
}

#[tokio::test]
async fn the_generator_never_schedules_approved_leave() {
    let app = spawn_app_at(november_2026()).await;
    let k = county(&app, 4, 0).await;
    let away = k.members[&k.studios[0]][0];
    let token = app.token(&phone_of(&k, away)).await;
    let id = app
        .post("/api/v1/leave-requests", &token, json!({ "date_from": "2026-06-01", "date_to": "2026-06-30" }))
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    app.post(&format!("/api/v1/leave-requests/{id}/approve"), &k.admin, json!({})).await;
    let summary = generate(&app, &k.admin, "2026-06-01", "2026-06-30").await;
    let r = roster(&app, &k.admin, summary["roster_id"].as_i64().unwrap()).await;
    assert!(r["shifts"].as_array().unwrap().iter().all(|s| !members_of(s).contains(&away)));
}

fn feed_path(url: &str) -> String {
    url.split_once("/ical/").map(|(_, rest)| format!("/ical/{rest}")).unwrap()
}

/// Each event's UID, start, and its alarms' UIDs.
async fn fetch_events(app: &TestApp, path: &str) -> Vec<(String, String, Vec<String>)> {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let text = res.text().await.unwrap();
    // An independent parser (the `ical` crate) reads what `icalendar` wrote.
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let calendar = parser.next().expect("one calendar").expect("valid iCalendar");
    assert!(parser.next().is_none());
    calendar
        .events
        .iter()
        .map(|e| {
            let prop = |name: &str| {
                e.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone()).unwrap_or_default()
            };
            let alarm_uids = e
                .alarms
                .iter()
                .map(|a| {
                    a.properties.iter().find(|p| p.name == "UID").and_then(|p| p.value.clone()).unwrap_or_default()
                })
                .collect();
            (prop("UID"), prop("DTSTART"), alarm_uids)
        })
        .collect()
}

#[tokio::test]
async fn the_calendar_feed_is_stable_secret_and_revocable() {
    let app = spawn_app_at(november_2026()).await;
    let (k, _) = published_december(&app, 6).await;
    let member_id = k.members[&k.studios[0]][0];
    let member = app.token(&phone_of(&k, member_id)).await;
    let duties: Value = app.get("/api/v1/me/duties?from=2026-12-01&to=2026-12-31", &member).await.json().await.unwrap();

    let res = app.post("/api/v1/me/calendar-feed", &member, json!({})).await;
    assert_eq!(res.status(), 201);
    let link: Value = res.json().await.unwrap();
    assert!(link["webcal_url"].as_str().unwrap().starts_with("webcal://"));
    let path = feed_path(link["url"].as_str().unwrap());

    let events = fetch_events(&app, &path).await;
    assert_eq!(events.len(), duties.as_array().unwrap().len());
    for (uid, start, alarms) in &events {
        assert!(uid.starts_with("assignment-") && uid.ends_with("@county.zhiban"), "{uid}");
        assert!(start.starts_with("202612") && start.ends_with('Z'), "{start}");
        assert_eq!(alarms.len(), 2, "7 days and 1 day before");
        assert!(
            alarms.iter().all(|a| a.starts_with(&format!("{}-alarm-", uid.split('@').next().unwrap()))),
            "{alarms:?}"
        );
    }
    assert_eq!(fetch_events(&app, &path).await, events, "re-fetching yields the same UIDs, alarms too");
    let body = |app: &TestApp, path: String| {
        let request = app.client.get(app.url(&path));
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let first = body(&app, path.clone()).await;
    // DTSTAMP has whole seconds: let one pass, so a stamp taken at fetch time would show.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(first, body(&app, path.clone()).await, "an unchanged feed reads the same");

    // A new link revokes the old one; revoking ends the new one.
    let again: Value = app.post("/api/v1/me/calendar-feed", &member, json!({})).await.json().await.unwrap();
    let new_path = feed_path(again["url"].as_str().unwrap());
    problem(app.client.get(app.url(&path)).send().await.unwrap(), 404, "not_found").await;
    assert_eq!(fetch_events(&app, &new_path).await, events);
    let res = app.request(reqwest::Method::DELETE, "/api/v1/me/calendar-feed", Some(&member), None).await;
    assert_eq!(res.status(), 204);
    problem(app.client.get(app.url(&new_path)).send().await.unwrap(), 404, "not_found").await;
}

/// Every page of a list, following `next_cursor` with `limit`.
async fn all_pages(app: &TestApp, path: &str, token: &str, limit: u32) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            None => format!("{path}?limit={limit}"),
            Some(c) => format!("{path}?limit={limit}&cursor={c}"),
        };
        let page: Value = app.get(&url, token).await.json().await.unwrap();
        pages.push(page["items"].as_array().unwrap().clone());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return pages,
        }
    }
}

#[tokio::test]
async fn swap_and_leave_lists_page_by_cursor_and_lose_nothing() {
    let app = spawn_app_at(november_2026()).await;
    let (k, r) = published_december(&app, 6).await;
    let first = swap_case_at(&k, &r, 0);
    let second = swap_case_at(&k, &r, 1);
    let mut swap_ids = Vec::new();
    for case in [&first, &second] {
        let giver = app.token(&phone_of(&k, case.giver)).await;
        let res = app.post("/api/v1/swap-requests", &giver, json!({ "assignment_id": case.assignment_id })).await;
        assert_eq!(res.status(), 201);
        swap_ids.push(res.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    let pages = all_pages(&app, "/api/v1/swap-requests", &k.admin, 1).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![1, 1], "one per page, and a last page");
    let listed: Vec<i64> = pages.iter().flatten().map(|s| s["id"].as_i64().unwrap()).collect();
    assert_eq!(listed, swap_ids, "by id, each once");

    // Leave: seven requests of one member; the office pages through all of them, three at a time.
    let member = app.token(&phone_of(&k, first.taker)).await;
    let mut leave_ids = Vec::new();
    for day in 1..=7 {
        let date = format!("2027-02-{:02}", day * 2);
        let res = app
            .post("/api/v1/leave-requests", &member, json!({ "date_from": date, "date_to": date, "reason": "外出" }))
            .await;
        assert_eq!(res.status(), 201);
        leave_ids.push(res.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    let pages = all_pages(&app, "/api/v1/leave-requests", &k.admin, 3).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 3, 1]);
    let listed: Vec<i64> = pages.iter().flatten().map(|l| l["id"].as_i64().unwrap()).collect();
    assert_eq!(listed, leave_ids);
    // A colleague sees none of them; a cursor the server did not issue is refused.
    let colleague = app.token(&phone_of(&k, second.taker)).await;
    let theirs: Value = app.get("/api/v1/leave-requests", &colleague).await.json().await.unwrap();
    assert_eq!(theirs["items"], json!([]));
    let body = problem(app.get("/api/v1/leave-requests?cursor=bm9wZQ", &k.admin).await, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "cursor");
    problem(app.get("/api/v1/swap-requests?limit=0", &k.admin).await, 422, "validation_failed").await;
}

/// The feed's PRODID, and each event's (UID, SEQUENCE, DTSTAMP, LAST-MODIFIED, LOCATION), read
/// by the independent `ical` parser.
async fn feed_revisions(app: &TestApp, path: &str) -> (String, Vec<[String; 5]>) {
    let text = app.client.get(app.url(path)).send().await.unwrap().text().await.unwrap();
    let calendar = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes())).next().unwrap().unwrap();
    let prodid = calendar.properties.iter().find(|p| p.name == "PRODID").and_then(|p| p.value.clone()).unwrap();
    let events = calendar
        .events
        .iter()
        .map(|e| {
            let prop = |name: &str| {
                e.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone()).unwrap_or_default()
            };
            [prop("UID"), prop("SEQUENCE"), prop("DTSTAMP"), prop("LAST-MODIFIED"), prop("LOCATION")]
        })
        .collect();
    (prodid, events)
}

#[tokio::test]
async fn a_renamed_venue_is_a_new_revision_of_its_duties_in_the_feed() {
    let app = spawn_app_at(november_2026()).await;
    let (k, r) = published_december(&app, 6).await;
    // A member on duty at the first studio.
    let member = app.token(&phone_of(&k, swap_case(&k, &r).giver)).await;
    let link: Value = app.post("/api/v1/me/calendar-feed", &member, json!({})).await.json().await.unwrap();
    let path = feed_path(link["url"].as_str().unwrap());
    let (prodid, before) = feed_revisions(&app, &path).await;
    assert!(prodid.contains("zhiban"), "{prodid}");
    assert!(!before.is_empty());
    for [uid, sequence, stamp, modified, _] in &before {
        assert!(sequence.parse::<i64>().is_ok_and(|s| s > 0), "{uid}: SEQUENCE {sequence}");
        assert!(!stamp.is_empty() && stamp == modified, "{uid}: DTSTAMP {stamp}, LAST-MODIFIED {modified}");
    }

    // Minutes later (the office's token still valid) the studio is renamed: the same events,
    // revised.
    app.clock.advance(chrono::Duration::minutes(5));
    let res = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/venues/{}", k.studios[0]),
            Some(&k.admin),
            Some(json!({ "name": "昆阳镇委员工作室（新址）" })),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (_, after) = feed_revisions(&app, &path).await;
    assert_eq!(after.len(), before.len());
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(old[0], new[0], "the same UID: apps update the event in place");
        if new[4].contains("新址") {
            assert!(new[1].parse::<i64>().unwrap() > old[1].parse::<i64>().unwrap(), "SEQUENCE grows: {old:?} {new:?}");
            assert!(new[2] > old[2] && new[3] > old[3], "DTSTAMP and LAST-MODIFIED move: {old:?} {new:?}");
        } else {
            assert_eq!(old, new, "duties elsewhere are unchanged");
        }
    }
    assert!(after.iter().any(|e| e[4].contains("新址")), "the member's duties at the studio show its new name");
}

/// Security round 2, finding 5: a member who also coordinates their studio decides neither
/// their own leave nor a swap they are part of; another coordinator or an admin does.
#[tokio::test]
async fn nobody_decides_their_own_leave_or_a_swap_they_are_part_of() {
    let app = spawn_app_at(november_2026()).await;
    let (k, r) = published_december(&app, 6).await;
    let case = swap_case(&k, &r);
    // The colleague taking the duty also coordinates the studio.
    let res = app
        .patch(
            &format!("/api/v1/members/{}", case.taker),
            &k.admin,
            json!({ "roles": ["member", "coordinator"], "coordinator_venue_ids": [k.studios[0]] }),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let giver = app.token(&phone_of(&k, case.giver)).await;
    let taker = app.token(&phone_of(&k, case.taker)).await;

    let offer = json!({ "assignment_id": case.assignment_id, "to_member_id": case.taker });
    let swap: Value = app.post("/api/v1/swap-requests", &giver, offer).await.json().await.unwrap();
    let id = swap["id"].as_i64().unwrap();
    let accepted = app.post(&format!("/api/v1/swap-requests/{id}/accept"), &taker, json!({})).await;
    assert_eq!(accepted.status(), 200);
    for action in ["approve", "reject"] {
        let body = problem(
            app.post(&format!("/api/v1/swap-requests/{id}/{action}"), &taker, json!({})).await,
            403,
            "forbidden",
        )
        .await;
        assert!(body["detail"].as_str().unwrap().contains("another coordinator"), "{body}");
    }
    let approved: Value =
        app.post(&format!("/api/v1/swap-requests/{id}/approve"), &k.admin, json!({})).await.json().await.unwrap();
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["decided_by"], app_admin_id(&app, &k).await);

    let leave: Value = app
        .post("/api/v1/leave-requests", &taker, json!({ "date_from": "2027-02-02", "date_to": "2027-02-03" }))
        .await
        .json()
        .await
        .unwrap();
    let leave_id = leave["id"].as_i64().unwrap();
    problem(app.post(&format!("/api/v1/leave-requests/{leave_id}/approve"), &taker, json!({})).await, 403, "forbidden")
        .await;
    let decided: Value = app
        .post(&format!("/api/v1/leave-requests/{leave_id}/approve"), &k.admin, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(decided["leave"]["status"], "approved");
}

async fn app_admin_id(app: &TestApp, k: &County) -> Value {
    app.get("/api/v1/me", &k.admin).await.json::<Value>().await.unwrap()["id"].clone()
}

/// Security round 2, finding 8: id lists are deduplicated and capped: a venue named twice, or
/// tens of thousands of ids, get a clear answer instead of a 500.
#[tokio::test]
async fn venue_id_lists_are_deduplicated_and_capped() {
    let app = spawn_app_at(november_2026()).await;
    let k = crate::rosters::county(&app, 2, 0).await;
    let studio = k.studios[0];
    let twice = json!({ "name": "联络员甲", "phone": k.c.phone(90), "roles": ["coordinator"],
                        "coordinator_venue_ids": [studio, studio] });
    let res = app.post("/api/v1/members", &k.admin, twice).await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["coordinator_venue_ids"], json!([studio]));

    let many: Vec<i64> = (1..=32_766).collect();
    let body = problem(
        app.post(
            "/api/v1/members",
            &k.admin,
            json!({ "name": "联络员乙", "phone": k.c.phone(91), "roles": ["coordinator"], "coordinator_venue_ids": many }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        (body["errors"][0]["field"].as_str(), body["errors"][0]["reason"].as_str()),
        (Some("coordinator_venue_ids"), Some("too_many"))
    );

    let venue_ids: Vec<i64> = (1..=40_000).collect();
    let generate = json!({ "period_from": "2027-01-01", "period_to": "2027-01-31", "venue_ids": venue_ids });
    let body = problem(app.post("/api/v1/rosters/generate", &k.admin, generate).await, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "venue_ids");
    // The same studio twice is one studio.
    let doubled = json!({ "period_from": "2027-01-01", "period_to": "2027-01-31", "venue_ids": [studio, studio] });
    assert_eq!(app.post("/api/v1/rosters/generate", &k.admin, doubled).await.status(), 201);
}
