//! The coordinator console over real HTTP: sign-in and its cookie, CSRF on every form, the
//! content security policy, output escaping, and a coordinator confined to their own studios.
//! `ConsoleCase` is also the scenario the browser tests drive.

use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, november_2026, spawn_app_at};
use crate::items::{opinion, submit_json};
use crate::requests::{phone_of, published_december, swap_case_at};
use crate::rosters::County;

/// December 2026 published for two studios and the CPPCC Home; a coordinator for each studio;
/// at each studio a swap both colleagues agreed on (awaiting approval) and a resident's item.
pub struct ConsoleCase {
    pub k: County,
    /// Phones of the coordinators of studio one and studio two.
    pub coordinator_phone: String,
    pub other_coordinator_phone: String,
    /// Per studio: the swap request awaiting approval and the resident's item (id, code).
    pub swaps: [i64; 2],
    pub items: [(i64, String); 2],
    pub studio_names: [&'static str; 2],
}

pub async fn console_case(app: &TestApp) -> ConsoleCase {
    let (k, r) = published_december(app, 6).await;
    let coordinator_phone = k.c.phone(90);
    let other_coordinator_phone = k.c.phone(91);
    for (phone, name, studio) in
        [(&coordinator_phone, "联络员甲", k.studios[0]), (&other_coordinator_phone, "联络员乙", k.studios[1])]
    {
        app.member(
            &k.admin,
            json!({ "name": name, "phone": phone, "roles": ["coordinator"], "coordinator_venue_ids": [studio] }),
        )
        .await;
    }
    let mut swaps = [0; 2];
    for (studio, swap) in swaps.iter_mut().enumerate() {
        let case = swap_case_at(&k, &r, studio);
        let giver = app.token(&phone_of(&k, case.giver)).await;
        let taker = app.token(&phone_of(&k, case.taker)).await;
        let res = app
            .post(
                "/api/v1/swap-requests",
                &giver,
                json!({ "assignment_id": case.assignment_id, "to_member_id": case.taker, "note": "家中有事" }),
            )
            .await;
        assert_eq!(res.status(), 201);
        *swap = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        assert_eq!(app.post(&format!("/api/v1/swap-requests/{swap}/accept"), &taker, json!({})).await.status(), 200);
    }
    let mut items: [(i64, String); 2] = Default::default();
    for (studio, (code, text)) in
        [("s-one", "路灯坏了三盏<script>alert(1)</script>"), ("s-two", "菜市场门口积水")].iter().enumerate()
    {
        let res = submit_json(app, opinion(code, text, Some("13700000001"))).await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let tracking = res.json::<Value>().await.unwrap()["tracking_code"].as_str().unwrap().to_owned();
        let listed: Value = app.get("/api/v1/items?limit=200", &k.admin).await.json().await.unwrap();
        let id = listed["items"].as_array().unwrap().iter().find(|i| i["tracking_code"] == tracking.as_str()).unwrap()
            ["id"]
            .as_i64()
            .unwrap();
        items[studio] = (id, tracking);
    }
    ConsoleCase {
        k,
        coordinator_phone,
        other_coordinator_phone,
        swaps,
        items,
        studio_names: ["一号工作室", "二号工作室"],
    }
}

/// A browser-like client of the console: follows no redirects, keeps the session cookie and
/// the page's CSRF token.
pub struct Console {
    client: reqwest::Client,
    base: String,
    pub cookie: String,
    pub csrf: String,
}

/// The value of the `csrf` hidden field in a page.
fn csrf_in(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).unwrap_or_else(|| panic!("no csrf field in {html}")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

fn cookie_value(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
        c.strip_prefix(&format!("{name}=")).map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
    })
}

impl Console {
    pub async fn sign_in(app: &TestApp, phone: &str) -> Console {
        Self::sign_in_with(app, phone, PASSWORD).await
    }

    pub async fn sign_in_with(app: &TestApp, phone: &str, password: &str) -> Console {
        let client = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
        let form = client.get(app.url("/console/login")).send().await.unwrap();
        let sign_in_cookie = cookie_value(&form, "zhiban_console_signin").expect("sign-in cookie");
        let csrf = csrf_in(&form.text().await.unwrap());
        let res = client
            .post(app.url("/console/login"))
            .header("cookie", format!("zhiban_console_signin={sign_in_cookie}"))
            .form(&[("phone", phone), ("password", password), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "sign-in of {phone}: {}", res.text().await.unwrap());
        let cookie = cookie_value(&res, "zhiban_console").expect("session cookie");
        let mut console = Console { client, base: app.address.clone(), cookie, csrf: String::new() };
        let (_, page) = console.get("/console/roster").await;
        console.csrf = csrf_in(&page);
        console
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let (status, _, body) = self.get_bytes(path).await;
        (status, String::from_utf8(body).expect("a UTF-8 page"))
    }

    pub async fn get_bytes(&self, path: &str) -> (u16, String, Vec<u8>) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("zhiban_console={}", self.cookie))
            .send()
            .await
            .unwrap();
        let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        (res.status().as_u16(), ct, res.bytes().await.unwrap().to_vec())
    }

    /// Posts a form with this session's CSRF token added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", &self.csrf));
        self.client
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("zhiban_console={}", self.cookie))
            .form(&form)
            .send()
            .await
            .unwrap()
    }
}

async fn swap_status(app: &TestApp, admin: &str, id: i64) -> String {
    let swaps: Value = app.get("/api/v1/swap-requests", admin).await.json().await.unwrap();
    swaps["items"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap()["status"].as_str().unwrap().to_owned()
}

async fn item(app: &TestApp, admin: &str, id: i64) -> Value {
    app.get(&format!("/api/v1/items/{id}"), admin).await.json().await.unwrap()
}

#[tokio::test]
async fn signing_in_gives_a_strict_session_cookie_and_pages_a_strict_policy() {
    let app = spawn_app_at(november_2026()).await;
    let case = console_case(&app).await;
    let client = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();

    // Without a session every page sends the browser to the sign-in form.
    for path in ["/console", "/console/roster", "/console/items", "/console/reports", "/console/reports/members.xlsx"] {
        let res = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 303, "{path}");
        let to = res.headers()["location"].to_str().unwrap();
        assert!(to == "/console/login" || to == "/console/roster", "{path} → {to}");
    }
    let form = client.get(app.url("/console/login")).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let csp = form.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("script-src"), "no script is allowed anywhere: {csp}");
    let sign_in_cookie = cookie_value(&form, "zhiban_console_signin").unwrap();
    let csrf = csrf_in(&form.text().await.unwrap());

    let attempt = |phone: String, password: &'static str, cookie: Option<String>, token: String| {
        let client = client.clone();
        let url = app.url("/console/login");
        async move {
            let mut req = client.post(url).form(&[("phone", phone.as_str()), ("password", password), ("csrf", &token)]);
            if let Some(cookie) = cookie {
                req = req.header("cookie", format!("zhiban_console_signin={cookie}"));
            }
            req.send().await.unwrap()
        }
    };
    // A form posted from elsewhere has no matching cookie: refused before the password is read.
    let res = attempt(case.coordinator_phone.clone(), PASSWORD, None, csrf.clone()).await;
    assert_eq!(res.status(), 403);
    assert!(cookie_value(&res, "zhiban_console").is_none());
    let res =
        attempt(case.coordinator_phone.clone(), "wrong-password-1", Some(sign_in_cookie.clone()), csrf.clone()).await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("手机号或密码不正确"));
    // Members use the app; the console is for coordinators and the office.
    let member = phone_of(&case.k, case.k.members[&case.k.studios[0]][0]);
    let res = attempt(member, PASSWORD, Some(sign_in_cookie.clone()), csrf.clone()).await;
    assert_eq!(res.status(), 403);
    assert!(cookie_value(&res, "zhiban_console").is_none());

    let res = attempt(case.coordinator_phone.clone(), PASSWORD, Some(sign_in_cookie.clone()), csrf.clone()).await;
    assert_eq!(res.status(), 303);
    let set_cookie: Vec<String> =
        res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let session = set_cookie.iter().find(|c| c.starts_with("zhiban_console=")).unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(session.contains(attribute), "{attribute} missing from {session}");
    }
    assert!(!session.contains("Secure"), "plain HTTP: the browser would drop a Secure cookie");
    // The session cookie is a random token; the database keeps only its hash.
    let token = cookie_value(&res, "zhiban_console").unwrap();
    let pool = app.pool.clone();
    let stored: Vec<String> = tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        zhiban::schema::console_sessions::table
            .select(zhiban::schema::console_sessions::token_hash)
            .load(&mut pool.get().unwrap())
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(stored, vec![zhiban::auth::tokens::sha256_hex(&token)]);

    // Behind a TLS-terminating proxy the cookie is Secure.
    let res = client
        .post(app.url("/console/login"))
        .header("cookie", format!("zhiban_console_signin={sign_in_cookie}"))
        .header("x-forwarded-proto", "https")
        .form(&[("phone", case.coordinator_phone.as_str()), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let secure = res.headers().get_all("set-cookie").iter().any(|v| {
        let v = v.to_str().unwrap();
        v.starts_with("zhiban_console=") && v.contains("Secure")
    });
    assert!(secure);

    // Signed in: the page, its policy, and signing out ends the session for good.
    let console = Console::sign_in(&app, &case.coordinator_phone).await;
    let res = client
        .get(app.url("/console/roster?month=2026-12"))
        .header("cookie", format!("zhiban_console={}", console.cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-security-policy"].to_str().unwrap(), csp);
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert!(res.text().await.unwrap().contains("2026-12 排班"));
    let css = client.get(app.url("/console/static/console.css")).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    assert_eq!(console.post("/console/logout", &[]).await.status(), 303);
    assert_eq!(console.get("/console/roster").await.0, 303);
}

#[tokio::test]
async fn a_form_without_the_sessions_csrf_token_changes_nothing() {
    let app = spawn_app_at(november_2026()).await;
    let case = console_case(&app).await;
    let mut console = Console::sign_in(&app, &case.coordinator_phone).await;
    let real = std::mem::replace(&mut console.csrf, "forged".to_owned());
    let (item_id, _) = &case.items[0];
    for (path, fields) in [
        (format!("/console/items/{item_id}/triage"), vec![("importance", "normal"), ("difficulty", "easy")]),
        (format!("/console/swaps/{}/approve", case.swaps[0]), vec![]),
        ("/console/logout".to_owned(), vec![]),
    ] {
        let res = console.post(&path, &fields).await;
        assert_eq!(res.status(), 403, "{path}");
        assert!(res.text().await.unwrap().contains("csrf_token_invalid"));
    }
    // A token of another session is no better.
    let other = Console::sign_in(&app, &case.coordinator_phone).await;
    assert_ne!(other.csrf, real);
    console.csrf = other.csrf.clone();
    let res = console.post(&format!("/console/swaps/{}/approve", case.swaps[0]), &[]).await;
    assert_eq!(res.status(), 403);
    assert_eq!(swap_status(&app, &case.k.admin, case.swaps[0]).await, "accepted");
    assert_eq!(item(&app, &case.k.admin, *item_id).await["state"], "received");
    assert_eq!(console.get("/console/roster").await.0, 200, "still signed in");
}

#[tokio::test]
async fn a_coordinator_sees_and_acts_on_their_own_studios_only() {
    let app = spawn_app_at(november_2026()).await;
    let case = console_case(&app).await;
    let console = Console::sign_in(&app, &case.coordinator_phone).await;
    let [mine, theirs] = case.studio_names;
    let [(my_item, my_code), (their_item, their_code)] = case.items.clone();

    let (status, roster) = console.get("/console/roster?month=2026-12").await;
    assert_eq!(status, 200);
    assert!(roster.contains(mine) && !roster.contains(theirs), "roster shows only studio one");
    let (_, requests) = console.get("/console/requests").await;
    assert!(requests.contains(&format!("swap-{}", case.swaps[0])));
    assert!(!requests.contains(&format!("swap-{}", case.swaps[1])));
    let (_, board) = console.get("/console/items").await;
    assert!(board.contains(&my_code) && !board.contains(&their_code));
    let (_, report) = console.get("/console/reports?period=2026-Q4").await;
    assert!(report.contains(mine) && !report.contains(theirs));
    let (_, _, csv) = console.get_bytes("/console/reports/venues.csv?period=2026-Q4").await;
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains(mine) && !csv.contains(theirs), "{csv}");

    // Another studio's pages and actions are refused, and nothing changes.
    assert_eq!(console.get(&format!("/console/items/{their_item}")).await.0, 403);
    let their_member = case.k.members[&case.k.studios[1]][0];
    assert_eq!(console.get(&format!("/console/members/{their_member}")).await.0, 403);
    let res = console
        .post(&format!("/console/items/{their_item}/triage"), &[("importance", "major"), ("difficulty", "hard")])
        .await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("out_of_scope"));
    assert_eq!(console.post(&format!("/console/swaps/{}/approve", case.swaps[1]), &[]).await.status(), 403);
    assert_eq!(swap_status(&app, &case.k.admin, case.swaps[1]).await, "accepted");
    assert_eq!(item(&app, &case.k.admin, their_item).await["state"], "received");

    // Their own: approved and triaged through the console, as the API sees it.
    let res = console.post(&format!("/console/swaps/{}/approve", case.swaps[0]), &[]).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert_eq!(swap_status(&app, &case.k.admin, case.swaps[0]).await, "approved");
    let res = console
        .post(
            &format!("/console/items/{my_item}/triage"),
            &[("importance", "important"), ("difficulty", "moderate"), ("tier", "")],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let triaged = item(&app, &case.k.admin, my_item).await;
    assert_eq!(triaged["state"], "triaged");
    assert!(triaged["tier"].as_i64().is_some());
    let my_member = case.k.members[&case.k.studios[0]][0];
    assert_eq!(console.get(&format!("/console/members/{my_member}?period=2026")).await.0, 200);

    // And the other way round.
    let other = Console::sign_in(&app, &case.other_coordinator_phone).await;
    let (_, board) = other.get("/console/items").await;
    assert!(board.contains(&their_code) && !board.contains(&my_code));
    assert_eq!(other.get(&format!("/console/items/{my_item}")).await.0, 403);

    // The office sees every studio.
    let office = Console::sign_in(&app, &case.k.c.admin_phone).await;
    let (_, roster) = office.get("/console/roster?month=2026-12").await;
    assert!(roster.contains(mine) && roster.contains(theirs) && roster.contains("政协之家"));
    let (_, board) = office.get("/console/items").await;
    assert!(board.contains(&their_code));
    assert_eq!(office.get(&format!("/console/items/{their_item}")).await.0, 200);
}

#[tokio::test]
async fn what_residents_wrote_is_shown_as_text_never_as_markup() {
    let app = spawn_app_at(november_2026()).await;
    let case = console_case(&app).await;
    let console = Console::sign_in(&app, &case.coordinator_phone).await;
    let (status, page) = console.get(&format!("/console/items/{}", case.items[0].0)).await;
    assert_eq!(status, 200);
    assert!(page.contains("路灯坏了三盏&#60;script&#62;") || page.contains("路灯坏了三盏&lt;script&gt;"), "{page}");
    assert!(!page.contains("<script>"));
    // Coordinators of the venue see the resident's contact.
    assert!(page.contains("13700000001"));
}

#[tokio::test]
async fn a_draft_is_generated_shows_its_shortfalls_and_is_published_from_the_console() {
    let app = spawn_app_at(november_2026()).await;
    let case = console_case(&app).await;
    let office = Console::sign_in(&app, &case.k.c.admin_phone).await;
    let (_, empty) = office.get("/console/roster?month=2026-11").await;
    assert!(empty.contains("生成本月排班草稿"));
    let res = office.post("/console/rosters/generate", &[("month", "2026-11")]).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let (_, draft) = office.get("/console/roster?month=2026-11").await;
    assert!(draft.contains("草稿") && draft.contains("发布排班"), "{draft}");
    let rosters: Value =
        app.get("/api/v1/shifts?from=2026-11-01&to=2026-11-30&limit=1", &case.k.admin).await.json().await.unwrap();
    let roster_id = rosters["items"][0]["roster_id"].as_i64().unwrap();
    let header: Value = app.get(&format!("/api/v1/rosters/{roster_id}"), &case.k.admin).await.json().await.unwrap();
    assert_eq!(header["status"], "draft");
    // Each shortfall of the draft is listed for the office to see before publishing.
    let shortfalls = header["shortfalls"].as_array().unwrap().len();
    assert_eq!(draft.matches("已排").count(), shortfalls);

    let res = office.post(&format!("/console/rosters/{roster_id}/publish"), &[("month", "2026-11")]).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let header: Value = app.get(&format!("/api/v1/rosters/{roster_id}"), &case.k.admin).await.json().await.unwrap();
    assert_eq!(header["status"], "published");
    // Publishing twice is refused as the API refuses it.
    let res = office.post(&format!("/console/rosters/{roster_id}/publish"), &[("month", "2026-11")]).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("invalid_transition"));
}

#[tokio::test]
async fn an_item_is_referred_answered_and_closed_from_the_console() {
    let app = spawn_app_at(november_2026()).await;
    let case = console_case(&app).await;
    let res = app
        .post(
            "/api/v1/handling-units",
            &case.k.admin,
            json!({ "name": "一号镇人民政府", "kind": "township_government", "contact": "0577-00000000" }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let unit = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let console = Console::sign_in(&app, &case.coordinator_phone).await;
    let [(mine, code), (theirs, _)] = case.items.clone();
    let path = |action: &str| format!("/console/items/{mine}/{action}");

    // Untriaged, it cannot be referred yet; it can be closed only as needing no answer.
    let (_, page) = console.get(&format!("/console/items/{mine}")).await;
    assert!(!page.contains(&path("refer")) && page.contains(&path("close")));
    assert!(page.contains("duplicate") && !page.contains(r#"value="resolved""#));
    let graded = console.post(&path("triage"), &[("importance", "important"), ("difficulty", "moderate")]).await;
    assert_eq!(graded.status(), 303);

    // Referred: the unit's link is shown on the answer page, never in a redirect.
    let res = console.post(&path("refer"), &[("handling_unit_id", &unit.to_string()), ("note", "请核实路灯")]).await;
    assert_eq!(res.status(), 200);
    let shown = res.text().await.unwrap();
    let link_start = shown.find("/h/").expect("the unit's link");
    assert!(shown.contains("一号镇人民政府"));
    assert_eq!(item(&app, &case.k.admin, mine).await["state"], "referred");
    let token = &shown[link_start + 3..link_start + 3 + shown[link_start + 3..].find('<').unwrap()];
    assert_eq!(app.client.get(app.url(&format!("/h/{token}"))).send().await.unwrap().status(), 200);

    // Answered, then closed; the resident's tracking page shows the answer.
    let empty = console.post(&path("reply"), &[("text", "   ")]).await;
    assert_eq!(empty.status(), 422);
    assert_eq!(console.post(&path("reply"), &[("text", "已安排维修，本周内修复")]).await.status(), 303);
    assert_eq!(item(&app, &case.k.admin, mine).await["state"], "replied");
    let tracking: Value =
        app.client.get(app.url(&format!("/api/v1/public/items/{code}"))).send().await.unwrap().json().await.unwrap();
    assert!(tracking.to_string().contains("已安排维修"), "{tracking}");
    assert_eq!(console.post(&path("close"), &[("resolution", "bogus")]).await.status(), 422);
    assert_eq!(console.post(&path("close"), &[("resolution", "resolved"), ("note", "")]).await.status(), 303);
    let closed = item(&app, &case.k.admin, mine).await;
    assert_eq!((closed["state"].as_str(), closed["resolution"].as_str()), (Some("closed"), Some("resolved")));
    assert!(!console.get("/console/items").await.1.contains(&code), "closed items leave the board");

    // Another studio's item: refused, unchanged.
    let res = console.post(&format!("/console/items/{theirs}/reply"), &[("text", "越权答复")]).await;
    assert_eq!(res.status(), 403);
    let res = console.post(&format!("/console/items/{theirs}/close"), &[("resolution", "duplicate")]).await;
    assert_eq!(res.status(), 403);
    assert_eq!(item(&app, &case.k.admin, theirs).await["state"], "received");
}

/// 节假日: the office enters a year as lines or as the API's JSON, through the same checks as
/// `PUT /api/v1/calendar/{year}`; a coordinator cannot; a bad line is named in Chinese and
/// nothing is stored; the banner goes once the year is in.
#[tokio::test]
async fn the_office_enters_next_years_calendar_in_the_console() {
    let app = spawn_app_at(november_2026()).await;
    let c = app.committee("cal", "62").await;
    let admin = app.token(&c.admin_phone).await;
    let official: Value = serde_json::from_str(zhiban::calendar::CHINA_2026_JSON).unwrap();
    assert_eq!(app.put("/api/v1/calendar/2026", &admin, official).await.status(), 200);
    let studio = app.venue(&admin, "cal-s", "节日工作室").await;
    app.member(
        &admin,
        json!({ "name": "联络员", "phone": c.phone(1), "roles": ["coordinator"], "coordinator_venue_ids": [studio] }),
    )
    .await;

    let office = Console::sign_in(&app, &c.admin_phone).await;
    // From 1 November, next year's arrangement is asked for on every page.
    let (status, page) = office.get("/console/calendar").await;
    assert_eq!(status, 200);
    assert!(page.contains("2027 年节假日安排尚未设置") && page.contains(r#"value="2027""#), "{page}");

    let coordinator = Console::sign_in(&app, &c.phone(1)).await;
    assert_eq!(coordinator.get("/console/calendar").await.0, 403);
    let res = coordinator.post("/console/calendar", &[("year", "2027"), ("holidays", "2027-01-01 元旦")]).await;
    assert_eq!(res.status(), 403);

    // A bad line: named, nothing stored.
    let res =
        office.post("/console/calendar", &[("year", "2027"), ("holidays", "2027-01-01 元旦\n2027-13-01 春节")]).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("节假日第 2 行"), "{body}");
    assert_eq!(app.get("/api/v1/calendar/2027", &admin).await.status(), 404);
    // An adjusted working day on a weekday is refused by the same rule as the API's.
    let res = office
        .post("/console/calendar", &[("year", "2027"), ("holidays", "2027-01-01 元旦"), ("adjusted", "2027-01-04")])
        .await;
    assert_eq!(res.status(), 422);

    let res = office
        .post(
            "/console/calendar",
            &[("year", "2027"), ("holidays", "2027-01-01 元旦\n2027-01-02 元旦\n2027-01-03 元旦"), ("adjusted", "")],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let stored: Value = app.get("/api/v1/calendar/2027", &admin).await.json().await.unwrap();
    assert_eq!(stored["holidays"].as_array().unwrap().len(), 3);
    let (_, page) = office.get("/console/roster").await;
    assert!(!page.contains("2027 年节假日安排尚未设置"), "the banner is gone once the year is in");

    // The same JSON the API takes, pasted.
    let doc =
        json!({ "year": 2028, "holidays": [{ "date": "2028-01-01", "name": "元旦" }], "adjusted_working_days": [] });
    let res = office.post("/console/calendar", &[("year", "2028"), ("document", &doc.to_string())]).await;
    assert_eq!(res.status(), 303);
    let stored: Value = app.get("/api/v1/calendar/2028", &admin).await.json().await.unwrap();
    assert_eq!(stored["holidays"][0]["name"], "元旦");
}
