//! The member pages (`/m`) over real HTTP, at a pinned instant: the morning of the reception
//! day, 25 December 2026, 09:00 in Asia/Shanghai. Sign-in and its cookie, CSRF on every form,
//! each page, scan-in with the QR's URL, the inbox and recording, swaps, leave, notices, the
//! member's record — and who may see what: anonymous callers go to sign-in, another member's
//! ids answer 404, the coordinators' decisions are refused, signing out (or a new password)
//! ends the session. `Reception` is also the scenario the browser test drives.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use diesel::prelude::*;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use zhiban::schema::{assignments, rosters, shift_templates, shifts};

use crate::helpers::{PASSWORD, TestApp, TestCommittee, problem, spawn_app_at};
use crate::items::submit_json;

/// Largest page (HTML plus its stylesheet) the issue allows.
pub const PAGE_BUDGET_BYTES: usize = 30 * 1024;

/// 09:00 on Friday 25 December 2026 in Asia/Shanghai: the reception day, a working day.
pub fn reception_morning() -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai.with_ymd_and_hms(2026, 12, 25, 9, 0, 0).unwrap().with_timezone(&Utc)
}

/// A published one-shift roster at `venue` on the local `date` from `start` to `end` (in the
/// committee's zone, Asia/Shanghai), with `team` on it (the first as lead); returns the
/// assignment ids. Written directly: these tests are about the pages, not generation.
pub async fn duty_on(
    app: &TestApp,
    committee_id: i64,
    venue: i64,
    team: &[i64],
    date: NaiveDate,
    start: (u32, u32),
    end: (u32, u32),
) -> Vec<i64> {
    let pool = app.pool.clone();
    let team = team.to_vec();
    let now = app.clock.now_naive();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        let (start, end) =
            (NaiveTime::from_hms_opt(start.0, start.1, 0).unwrap(), NaiveTime::from_hms_opt(end.0, end.1, 0).unwrap());
        let utc = |t: NaiveTime| {
            chrono_tz::Asia::Shanghai.from_local_datetime(&date.and_time(t)).unwrap().with_timezone(&Utc).naive_utc()
        };
        let template: i64 = diesel::insert_into(shift_templates::table)
            .values((
                shift_templates::committee_id.eq(committee_id),
                shift_templates::venue_id.eq(venue),
                shift_templates::name.eq("委员接待日"),
                shift_templates::kind.eq("custom"),
                shift_templates::rrule.eq("FREQ=DAILY"),
                shift_templates::start_time.eq(start),
                shift_templates::end_time.eq(end),
                shift_templates::head_min.eq(1),
                shift_templates::head_max.eq(3),
                shift_templates::head_target.eq(2),
                shift_templates::holiday_policy.eq("keep"),
                shift_templates::created_at.eq(now),
                shift_templates::updated_at.eq(now),
            ))
            .returning(shift_templates::id)
            .get_result(&mut conn)
            .unwrap();
        let roster: i64 = diesel::insert_into(rosters::table)
            .values((
                rosters::committee_id.eq(committee_id),
                rosters::period_from.eq(date),
                rosters::period_to.eq(date),
                rosters::status.eq("published"),
                rosters::created_at.eq(now),
                rosters::updated_at.eq(now),
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
                shifts::local_date.eq(date),
                shifts::start_time.eq(start),
                shifts::end_time.eq(end),
                shifts::starts_at.eq(utc(start)),
                shifts::ends_at.eq(utc(end)),
                shifts::head_min.eq(1),
                shifts::head_max.eq(3),
            ))
            .returning(shifts::id)
            .get_result(&mut conn)
            .unwrap();
        team.iter()
            .enumerate()
            .map(|(i, member)| {
                diesel::insert_into(assignments::table)
                    .values((
                        assignments::committee_id.eq(committee_id),
                        assignments::shift_id.eq(shift),
                        assignments::member_id.eq(*member),
                        assignments::role.eq(if i == 0 { "lead" } else { "member" }),
                        assignments::source.eq("manual"),
                        assignments::reason.eq("测试"),
                        assignments::created_at.eq(now),
                    ))
                    .returning(assignments::id)
                    .get_result(&mut conn)
                    .unwrap()
            })
            .collect()
    })
    .await
    .unwrap()
}

/// Where 昆阳镇委员工作室 is, as its venue record says.
pub const KUNYANG_ADDRESS: &str = "平阳县昆阳镇解放街128号便民服务中心二楼";

/// The reception day at 昆阳镇委员工作室: 林委员 (lead) and 陈委员 on duty 08:30–11:30 today,
/// 林委员 again tomorrow (a duty to offer to 王委员, a colleague of the studio), 赵委员 on
/// duty at another studio, a coordinator of the studio, and a display device at it.
#[allow(dead_code, reason = "the scenario names everyone; each test uses some")]
pub struct Reception {
    pub c: TestCommittee,
    pub admin: String,
    pub venue: i64,
    pub venue_code: &'static str,
    pub other_venue: i64,
    /// 林委员, 陈委员, 王委员, 赵委员 (ids), and their phones.
    pub lin: i64,
    pub chen: i64,
    pub wang: i64,
    pub zhao: i64,
    pub phones: [String; 4],
    pub coordinator_phone: String,
    /// Today's assignments of 林 and 陈; tomorrow's of 林; today's of 赵 elsewhere.
    pub today: [i64; 2],
    pub tomorrow: i64,
    pub zhao_today: i64,
    pub device_token: String,
    pub display_url: String,
}

pub async fn reception(app: &TestApp) -> Reception {
    let c = app.committee("mpages", "61").await;
    let admin = app.token(&c.admin_phone).await;
    let res = app
        .post(
            "/api/v1/venues",
            &admin,
            json!({ "kind": "township_studio", "name": "昆阳镇委员工作室", "code": "mp-kunyang", "township": "昆阳镇",
                    "address": KUNYANG_ADDRESS }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let venue = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let other_venue = app.venue(&admin, "mp-aojiang", "鳌江镇委员工作室").await;
    let phones = [c.phone(1), c.phone(2), c.phone(3), c.phone(4)];
    let mut ids = Vec::new();
    for (i, name) in ["林委员", "陈委员", "王委员", "赵委员"].iter().enumerate() {
        let home = if i == 3 { other_venue } else { venue };
        ids.push(app.member(&admin, json!({ "name": name, "phone": phones[i], "home_venue_id": home })).await);
    }
    let coordinator_phone = c.phone(90);
    app.member(
        &admin,
        json!({ "name": "联络员", "phone": coordinator_phone, "roles": ["coordinator"], "coordinator_venue_ids": [venue] }),
    )
    .await;
    let today = NaiveDate::from_ymd_opt(2026, 12, 25).unwrap();
    let team = duty_on(app, c.id, venue, &[ids[0], ids[1]], today, (8, 30), (11, 30)).await;
    let tomorrow = duty_on(app, c.id, venue, &[ids[0]], today + Duration::days(1), (9, 0), (12, 0)).await[0];
    let zhao_today = duty_on(app, c.id, other_venue, &[ids[3]], today, (8, 30), (11, 30)).await[0];
    let res = app.post(&format!("/api/v1/venues/{venue}/display-devices"), &admin, json!({ "name": "大厅平板" })).await;
    assert_eq!(res.status(), 201);
    let device: Value = res.json().await.unwrap();
    Reception {
        c,
        admin,
        venue,
        venue_code: "mp-kunyang",
        other_venue,
        lin: ids[0],
        chen: ids[1],
        wang: ids[2],
        zhao: ids[3],
        phones,
        coordinator_phone,
        today: [team[0], team[1]],
        tomorrow,
        zhao_today,
        device_token: device["token"].as_str().unwrap().to_owned(),
        display_url: device["display_url"].as_str().unwrap().to_owned(),
    }
}

/// The current rotating code of the venue, as its display device fetches it: the bare
/// payload and the URL its QR code holds.
pub async fn display_code(app: &TestApp, k: &Reception) -> (String, String) {
    let res = app
        .client
        .get(app.url(&format!("/api/v1/venues/{}/display-code?device={}", k.venue, k.device_token)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let code: Value = res.json().await.unwrap();
    (code["payload"].as_str().unwrap().to_owned(), code["url"].as_str().unwrap().to_owned())
}

/// The value of the `csrf` hidden field in a page.
pub fn csrf_in(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).unwrap_or_else(|| panic!("no csrf field in {html}")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// The value of the hidden field `name` in a page.
fn hidden_in(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} field in {html}")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

fn set_cookie<'a>(res: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
}

fn cookie_value(res: &reqwest::Response, name: &str) -> Option<String> {
    set_cookie(res, name).map(|c| c[name.len() + 1..].split(';').next().unwrap_or_default().to_owned())
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// A phone's browser on the member pages: follows no redirects, keeps the session cookie
/// and the pages' CSRF token.
pub struct Phone {
    client: reqwest::Client,
    base: String,
    pub cookie: String,
    pub csrf: String,
}

impl Phone {
    pub fn anonymous(app: &TestApp) -> Phone {
        let client = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
        Phone { client, base: app.address.clone(), cookie: String::new(), csrf: String::new() }
    }

    /// Signs in through the form (going on to `next`); panics unless it succeeds.
    pub async fn sign_in(app: &TestApp, phone: &str) -> Phone {
        let mut p = Phone::anonymous(app);
        let res = p.sign_in_to(phone, PASSWORD, None).await;
        assert_eq!(res.status(), 303, "sign-in of {phone}: {}", res.text().await.unwrap());
        p
    }

    /// Posts the sign-in form as a person does (fetching it first); keeps the session cookie.
    pub async fn sign_in_to(&mut self, phone: &str, password: &str, next: Option<&str>) -> reqwest::Response {
        let form_path = match next {
            Some(n) => format!("/m/login?next={}", n.replace('?', "%3F").replace('=', "%3D")),
            None => "/m/login".to_owned(),
        };
        let form = self.client.get(format!("{}{form_path}", self.base)).send().await.unwrap();
        assert_eq!(form.status(), 200);
        let sign_in_cookie = cookie_value(&form, "zhiban_m_signin").expect("sign-in cookie");
        let html = form.text().await.unwrap();
        let (csrf, next) = (csrf_in(&html), hidden_in(&html, "next"));
        let res = self
            .client
            .post(format!("{}/m/login", self.base))
            .header("cookie", format!("zhiban_m_signin={sign_in_cookie}"))
            .form(&[("phone", phone), ("password", password), ("csrf", &csrf), ("next", &next)])
            .send()
            .await
            .unwrap();
        if let Some(cookie) = cookie_value(&res, "zhiban_m") {
            self.cookie = cookie;
            let (_, page) = self.get("/m").await;
            self.csrf = csrf_in(&page);
        }
        res
    }

    pub async fn get_response(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("zhiban_m={}", self.cookie))
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let res = self.get_response(path).await;
        (res.status().as_u16(), res.text().await.unwrap())
    }

    /// A page that must be there (200), checked against the size budget with its stylesheet.
    pub async fn page(&self, path: &str) -> String {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        let (_, css) = self.get("/m/static/m.css").await;
        assert!(body.len() + css.len() <= PAGE_BUDGET_BYTES, "{path}: {} + {} bytes", body.len(), css.len());
        body
    }

    /// Posts a form with this session's CSRF token added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", &self.csrf));
        self.post_raw(path, &form).await
    }

    /// Posts exactly these fields (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("zhiban_m={}", self.cookie))
            .form(fields)
            .send()
            .await
            .unwrap()
    }
}

async fn swaps(app: &TestApp, k: &Reception) -> Vec<Value> {
    app.get("/api/v1/swap-requests", &k.admin).await.json::<Value>().await.unwrap()["items"].as_array().unwrap().clone()
}

/// A resident's consultation at the studio, from its public form; returns the item's id.
async fn consultation(app: &TestApp, k: &Reception, body: &str) -> i64 {
    let res = submit_json(
        app,
        json!({ "venue_code": k.venue_code, "kind": "consultation", "topic": "养老托育", "body": body,
                "name": "王大伯", "phone": "13700000001", "consent": true }),
    )
    .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let code = res.json::<Value>().await.unwrap()["tracking_code"].as_str().unwrap().replace('-', "");
    let queue: Value = app.get("/api/v1/items?limit=200", &k.admin).await.json().await.unwrap();
    queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["tracking_code"].as_str().unwrap().replace('-', "") == code)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn signing_in_gives_a_lax_thirty_day_cookie_and_the_day_on_the_first_page() {
    let app = spawn_app_at(reception_morning()).await;
    let k = reception(&app).await;
    let mut phone = Phone::anonymous(&app);

    // Not signed in: every page goes to the sign-in form.
    let res = phone.get_response("/m").await;
    assert_eq!((res.status().as_u16(), location(&res)), (303, "/m/login".to_owned()));
    let form = phone.get_response("/m/login").await;
    let csp = form.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "{csp}");
    let html = form.text().await.unwrap();
    for field in [r#"name="phone""#, r#"name="password""#, r#"name="csrf""#, r#"<label for="phone">"#] {
        assert!(html.contains(field), "the sign-in form has {field}");
    }

    // A form posted from elsewhere has no matching cookie: refused before the password is read.
    let res = phone
        .client
        .post(app.url("/m/login"))
        .form(&[("phone", k.phones[0].as_str()), ("password", PASSWORD), ("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(cookie_value(&res, "zhiban_m").is_none());
    // A wrong password: the API's answer, in Chinese, on the form.
    let res = phone.sign_in_to(&k.phones[0], "wrong-password-1", None).await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("手机号或密码不正确"));

    let res = phone.sign_in_to(&k.phones[0], PASSWORD, None).await;
    assert_eq!((res.status().as_u16(), location(&res)), (303, "/m".to_owned()));
    let cookie = set_cookie(&res, "zhiban_m").unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/m", &format!("Max-Age={}", 30 * 24 * 3600)] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP in the test: {cookie}");

    // 首页: today's duty with the team and their check-in state, the calendar link.
    let today = phone.page("/m").await;
    assert!(today.contains("今天 12月25日 星期五"), "{today}");
    let duty = &today[today.find(&format!(r#"id="duty-{}""#, k.today[0])).expect("today's duty")..];
    let duty = &duty[..duty.find("</section>").unwrap()];
    for shown in ["昆阳镇委员工作室", "08:30–11:30", "组长", "昆阳镇", "林委员（组长）（我）", "陈委员", "未签到"]
    {
        assert!(duty.contains(shown), "{shown} in {duty}");
    }
    assert!(today.contains(&format!(r#"id="duty-{}""#, k.tomorrow)), "tomorrow's duty among the next");
    assert!(!today.contains("赵委员"), "only the member's own duties");
    assert!(today.contains(r#"href="/m/calendar""#) && today.contains("加入手机日历"));

    // 加入手机日历: the member's own feed, as the API makes it.
    let page = phone.page("/m/calendar").await;
    assert!(page.contains("生成订阅地址"));
    let res = phone.post("/m/calendar", &[]).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    let start = page.find(r#"href="webcal://"#).expect("a webcal link") + 6;
    let webcal = &page[start..start + page[start..].find('"').unwrap()];
    let feed = app.client.get(webcal.replacen("webcal://", "http://", 1)).send().await.unwrap();
    assert_eq!(feed.status(), 200);
    let ics = feed.text().await.unwrap();
    assert!(ics.contains("BEGIN:VCALENDAR") && ics.contains("昆阳镇委员工作室"), "{ics}");

    // A second phone is a second session; signing out ends only this one.
    let other = Phone::sign_in(&app, &k.phones[0]).await;
    let res = phone.post("/m/logout", &[]).await;
    assert_eq!((res.status().as_u16(), location(&res)), (303, "/m/login".to_owned()));
    assert!(set_cookie(&res, "zhiban_m").unwrap().contains("Max-Age=0"));
    let res = phone.get_response("/m").await;
    assert_eq!((res.status().as_u16(), location(&res)), (303, "/m/login".to_owned()), "the old cookie is dead");
    assert_eq!(other.get("/m").await.0, 200);

    // A new password ends every session of the account.
    let res =
        app.patch(&format!("/api/v1/members/{}", k.lin), &k.admin, json!({ "password": "a-new-password-7" })).await;
    assert_eq!(res.status(), 200);
    let res = other.get_response("/m").await;
    assert_eq!((res.status().as_u16(), location(&res)), (303, "/m/login".to_owned()));
}

#[tokio::test]
async fn the_session_lasts_thirty_days_from_its_last_use() {
    let app = spawn_app_at(reception_morning()).await;
    let k = reception(&app).await;
    let phone = Phone::sign_in(&app, &k.phones[0]).await;
    // Used on day 20: renewed (the cookie comes again with a fresh lifetime)…
    app.clock.advance(Duration::days(20));
    let res = phone.get_response("/m").await;
    assert_eq!(res.status(), 200);
    assert!(set_cookie(&res, "zhiban_m").is_some_and(|c| c.contains("Max-Age=2592000")), "renewed cookie");
    // …so day 45 is within 30 days of the last use; 31 days of silence end it.
    app.clock.advance(Duration::days(25));
    assert_eq!(phone.get("/m").await.0, 200);
    app.clock.advance(Duration::days(31));
    let res = phone.get_response("/m").await;
    assert_eq!((res.status().as_u16(), location(&res)), (303, "/m/login".to_owned()));
}

#[tokio::test]
async fn the_qr_url_opens_the_check_in_after_sign_in_and_checks_in_as_the_api_does() {
    let app = spawn_app_at(reception_morning()).await;
    let k = reception(&app).await;
    let (payload, url) = display_code(&app, &k).await;
    assert_eq!(url, format!("{}/m/c/{payload}", app.address), "the QR holds the member pages' address");
    let path = format!("/m/c/{payload}");

    // Opened from the camera, not signed in: sign in, then back to this check-in.
    let mut phone = Phone::anonymous(&app);
    let res = phone.get_response(&path).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("/m/login?next={path}"));
    let res = phone.sign_in_to(&k.phones[0], PASSWORD, Some(&path)).await;
    assert_eq!((res.status().as_u16(), location(&res)), (303, path.clone()));

    let page = phone.page(&path).await;
    assert!(page.contains(r#"id="scan-venue">昆阳镇委员工作室<"#), "{page}");
    assert!(page.contains("12月25日 星期五 08:30–11:30"), "the duty it matches: {page}");
    assert!(
        page.contains(r#"data-needs-location="no""#) && !page.contains("locate.js"),
        "no script for a display code"
    );
    let nonce = hidden_in(&page, "nonce");

    // Without the session's CSRF token the POST is refused and nothing is checked in.
    let res = phone.post_raw(&path, &[("csrf", "forged"), ("nonce", &nonce)]).await;
    assert_eq!(res.status(), 403);
    let res = phone.post(&path, &[("nonce", &nonce)]).await;
    assert_eq!(res.status(), 200);
    let done = res.text().await.unwrap();
    assert!(done.contains(r#"data-outcome="ok">已签到<"#) && done.contains("签到成功"), "{done}");
    // The same form again (a double tap, a reload) gets the first answer.
    let again = phone.post(&path, &[("nonce", &nonce)]).await.text().await.unwrap();
    assert!(again.contains(r#"data-outcome="ok""#), "{again}");
    // A new scan of the same duty: already checked in, with the API's message.
    let fresh = phone.page(&path).await;
    let again = phone.post(&path, &[("nonce", &hidden_in(&fresh, "nonce"))]).await.text().await.unwrap();
    assert!(
        again.contains(r#"data-outcome="already_checked_in""#) && again.contains("您已签到，无需重复签到"),
        "{again}"
    );

    // The first page and the display now show it.
    let today = phone.page("/m").await;
    assert!(today.contains("林委员（组长）（我） <span class=\"tag ok\">已签到</span>"), "{today}");
    let display = app.client.get(&k.display_url).send().await.unwrap().text().await.unwrap();
    assert!(display.contains("林委员 ✅ 已签到") && display.contains("陈委员 ⏳ 未签到"), "{display}");

    // 赵委员 is on duty at another studio: the API's outcome, in the API's words.
    let zhao = Phone::sign_in(&app, &k.phones[3]).await;
    let page = zhao.page(&path).await;
    let res = zhao.post(&path, &[("nonce", &hidden_in(&page, "nonce"))]).await.text().await.unwrap();
    assert!(res.contains(r#"data-outcome="wrong_venue""#) && res.contains("您今天的值班不在此场所"), "{res}");
    // Something else read as a QR code.
    let page = zhao.page("/m/c/not-a-code").await;
    assert!(page.contains("无法识别的二维码"), "{page}");
}

#[tokio::test]
async fn the_venue_address_shows_on_the_day_and_at_check_in() {
    let app = spawn_app_at(reception_morning()).await;
    let k = reception(&app).await;
    let phone = Phone::sign_in(&app, &k.phones[0]).await;
    let card = |page: &str, assignment: i64| {
        let start = page.find(&format!(r#"id="duty-{assignment}""#)).expect("the duty's card");
        let card = &page[start..];
        card[..card.find("</section>").unwrap()].to_owned()
    };

    // 首页: today's duty and the next one say where to go.
    let today = phone.page("/m").await;
    for assignment in [k.today[0], k.tomorrow] {
        let card = card(&today, assignment);
        assert!(card.contains(&format!(r#"<p class="muted address">地址：{KUNYANG_ADDRESS}</p>"#)), "{card}");
    }
    // The scan-in page: the venue and where it is.
    let (payload, _) = display_code(&app, &k).await;
    let scan = phone.page(&format!("/m/c/{payload}")).await;
    assert!(scan.contains(&format!(r#"id="scan-address">{KUNYANG_ADDRESS}<"#)), "{scan}");

    // Changed through the API: the pages follow, escaped as text.
    let res =
        app.patch(&format!("/api/v1/venues/{}", k.venue), &k.admin, json!({ "address": "解放街<128>号 & 二楼" })).await;
    assert_eq!(res.status(), 200);
    let today = phone.page("/m").await;
    assert!(card(&today, k.today[0]).contains("地址：解放街&#60;128&#62;号 &#38; 二楼"), "{today}");

    // No address entered: the township, as before; neither: no address line at all.
    let res = app.patch(&format!("/api/v1/venues/{}", k.venue), &k.admin, json!({ "address": null })).await;
    assert_eq!(res.status(), 200);
    assert!(card(&phone.page("/m").await, k.today[0]).contains("地址：昆阳镇</p>"));
    assert!(phone.page(&format!("/m/c/{payload}")).await.contains(r#"id="scan-address">昆阳镇<"#));
    let res = app.patch(&format!("/api/v1/venues/{}", k.venue), &k.admin, json!({ "township": null })).await;
    assert_eq!(res.status(), 200);
    assert!(!card(&phone.page("/m").await, k.today[0]).contains("地址："));
    assert!(!phone.page(&format!("/m/c/{payload}")).await.contains("scan-address"));
}

#[tokio::test]
async fn the_api_takes_the_qr_url_wherever_it_took_the_payload() {
    let app = spawn_app_at(reception_morning()).await;
    let k = reception(&app).await;
    let (payload, url) = display_code(&app, &k).await;
    let scanned_at = app.clock.now().to_rfc3339();
    let scan = |phone: String, text: String, nonce: &'static str| {
        let (app, at) = (&app, scanned_at.clone());
        async move {
            let token = app.token(&phone).await;
            let res = app
                .post("/api/v1/checkins", &token, json!({ "payload": text, "nonce": nonce, "scanned_at": at }))
                .await;
            assert_eq!(res.status(), 200);
            let mut answer: Value = res.json().await.unwrap();
            answer.as_object_mut().unwrap().remove("checkin_id");
            if let Some(duty) = answer["duty"].as_object_mut() {
                duty.remove("assignment_id");
            }
            answer
        }
    };
    // Two members of one team: one scans the bare payload, one the URL. The same answer.
    let bare = scan(k.phones[0].clone(), payload.clone(), "url-form-test-0001").await;
    let as_url = scan(k.phones[1].clone(), url.clone(), "url-form-test-0002").await;
    assert_eq!(bare["outcome"], "ok", "{bare}");
    assert_eq!(bare, as_url);
    // Refusals too: 赵委员's duty is elsewhere, however the code is written.
    let bare = scan(k.phones[3].clone(), payload.clone(), "url-form-test-0003").await;
    let as_url = scan(k.phones[3].clone(), url.clone(), "url-form-test-0004").await;
    assert_eq!((bare["outcome"].as_str(), &bare), (Some("wrong_venue"), &as_url));
    // The batch upload takes the URL form as well.
    let token = app.token(&k.phones[0]).await;
    let res = app
        .post(
            "/api/v1/checkins/batch",
            &token,
            json!({ "scans": [{ "payload": url, "nonce": "url-form-test-0005", "scanned_at": scanned_at }] }),
        )
        .await;
    let results: Value = res.json().await.unwrap();
    assert_eq!(results[0]["outcome"], "already_checked_in", "{results}");
    // A URL that is not a venue's code stays an invalid code.
    let other = scan(k.phones[0].clone(), format!("{}/m/c/ZB1.forged", app.address), "url-form-test-0006").await;
    assert_eq!(other["outcome"], "invalid_code");
}

#[tokio::test]
async fn a_member_on_duty_takes_and_answers_a_consultation_and_records_an_opinion() {
    let app = spawn_app_at(reception_morning()).await;
    let k = reception(&app).await;
    let item = consultation(&app, &k, "请问村里的老年食堂什么时候开？").await;
    let lin = Phone::sign_in(&app, &k.phones[0]).await;

    let inbox = lin.page("/m/inbox").await;
    assert!(inbox.contains(&format!(r#"id="inbox-{item}""#)) && inbox.contains("咨询 · 养老托育"), "{inbox}");
    let page = lin.page(&format!("/m/items/{item}")).await;
    assert!(page.contains("请问村里的老年食堂什么时候开？"));
    assert!(!page.contains("13700000001") && !page.contains("王大伯"), "no resident contact for members");
    assert!(page.contains("接手此事项") && page.contains(r#"<label for="reply-text">"#));

    let res = lin.post(&format!("/m/items/{item}/take"), &[]).await;
    assert_eq!((res.status().as_u16(), location(&res)), (303, format!("/m/items/{item}")));
    // 陈委员, on the same duty, sees it taken and may not answer it.
    let chen = Phone::sign_in(&app, &k.phones[1]).await;
    assert!(!chen.page("/m/inbox").await.contains(&format!(r#"id="inbox-{item}""#)));
    let res = chen.post(&format!("/m/items/{item}/reply"), &[("text", "我来答")]).await;
    assert_eq!(res.status(), 409, "item_taken");
    assert!(res.text().await.unwrap().contains("该事项已由其他值班委员接手"));

    let answer =
        "老年食堂下月一日开始供餐，每天中午11点到12点半。\r\n\r\n行动不便的老人可以打电话预约，志愿者送餐上门。";
    let res = lin.post(&format!("/m/items/{item}/reply"), &[("text", answer)]).await;
    assert_eq!(res.status(), 303);
    let page = lin.page(&format!("/m/items/{item}")).await;
    assert!(page.contains("已答复"), "{page}");
    let detail: Value = app.get(&format!("/api/v1/items/{item}"), &k.admin).await.json().await.unwrap();
    assert_eq!(detail["state"], "replied");
    let reply = detail["timeline"].as_array().unwrap().iter().find(|e| e["action"] == "reply").unwrap();
    assert_eq!(
        reply["note"],
        "老年食堂下月一日开始供餐，每天中午11点到12点半。\n\n行动不便的老人可以打电话预约，志愿者送餐上门。",
        "two paragraphs"
    );

    // Recording what a resident said in person, linked to today's duty.
    let form = lin.page("/m/record").await;
    assert!(form.contains(&format!(r#"<option value="{}""#, k.today[0])), "today's duty offered: {form}");
    let assignment = k.today[0].to_string();
    let fields = [
        ("assignment_id", assignment.as_str()),
        ("kind", "opinion"),
        ("topic", "交通出行"),
        ("body", "村口的路灯坏了三盏，晚上老人出门不方便。\r\n\r\n希望尽快修好。"),
        ("resident_name", "李阿姨"),
        ("resident_phone", "13700000002"),
    ];
    // A contact without the resident's consent is refused, the text kept on the form.
    let res = lin.post("/m/record", &fields).await;
    assert_eq!(res.status(), 422);
    let again = res.text().await.unwrap();
    assert!(again.contains("须经本人同意") && again.contains("村口的路灯坏了三盏"), "{again}");
    let mut with_consent = fields.to_vec();
    with_consent.push(("consent", "yes"));
    let res = lin.post("/m/record", &with_consent).await;
    assert_eq!(res.status(), 303);
    let recorded: i64 = location(&res).trim_start_matches("/m/items/").split('?').next().unwrap().parse().unwrap();
    let detail: Value = app.get(&format!("/api/v1/items/{recorded}"), &k.admin).await.json().await.unwrap();
    assert_eq!((detail["source"].as_str(), detail["kind"].as_str()), (Some("member"), Some("opinion")), "{detail}");
    assert_eq!(detail["assignment_id"], k.today[0]);
    assert_eq!(detail["resident"]["phone"], "13700000002");
    assert_eq!(detail["body"], "村口的路灯坏了三盏，晚上老人出门不方便。\n\n希望尽快修好。");
}

#[tokio::test]
async fn swaps_and_leave_from_the_phone_and_the_notices_they_bring() {
    let app = spawn_app_at(reception_morning()).await;
    let k = reception(&app).await;
    let lin = Phone::sign_in(&app, &k.phones[0]).await;
    let wang = Phone::sign_in(&app, &k.phones[2]).await;

    let page = lin.page("/m/swaps").await;
    let offer_form = &page[page.find(&format!(r#"id="duty-{}""#, k.tomorrow)).expect("tomorrow's duty")..];
    assert!(offer_form.contains(&format!(r#"<option value="{}">王委员</option>"#, k.wang)), "{offer_form}");
    assert!(!page.contains(&format!(r#"id="duty-{}""#, k.today[0])), "a duty under way cannot be offered");
    let tomorrow = k.tomorrow.to_string();
    let wang_id = k.wang.to_string();
    let res =
        lin.post("/m/swaps", &[("assignment_id", &tomorrow), ("to_member_id", &wang_id), ("note", "家中有事")]).await;
    assert_eq!((res.status().as_u16(), location(&res)), (303, "/m/swaps?done=offered".to_owned()));
    let swap = swaps(&app, &k).await.into_iter().find(|s| s["assignment_id"] == k.tomorrow).unwrap();
    let id = swap["id"].as_i64().unwrap();
    assert_eq!((swap["status"].as_str(), swap["to_member_id"].as_i64()), (Some("offered"), Some(k.wang)));

    // 王委员 is told, on the first page and among the notices, and accepts.
    assert!(wang.page("/m").await.contains(r#"<span id="unread-count">1</span>"#));
    let notices = wang.page("/m/notices").await;
    assert!(notices.contains("有同事希望与您换班（12月26日 星期六）"), "{notices}");
    let offers = wang.page("/m/swaps").await;
    assert!(offers.contains(&format!(r#"id="offer-{id}""#)) && offers.contains("接受代班"), "{offers}");
    let res = wang.post(&format!("/m/swaps/{id}/accept"), &[]).await;
    assert_eq!((res.status().as_u16(), location(&res)), (303, "/m/swaps?done=accept".to_owned()));
    let swap = swaps(&app, &k).await.into_iter().find(|s| s["id"] == id).unwrap();
    assert_eq!((swap["status"].as_str(), swap["accepted_by"].as_i64()), (Some("accepted"), Some(k.wang)));
    // Approving is the coordinators' (in the console), not a member's.
    let res = wang.post(&format!("/m/swaps/{id}/approve"), &[]).await;
    assert_eq!(res.status(), 403);

    // 林委员 learns it was accepted; reading the notice marks it read.
    let notices = lin.page("/m/notices").await;
    assert!(notices.contains("您的换班请求已被同事接受，等待联络员审批。"), "{notices}");
    assert!(notices.contains(r#"<span id="unread">1</span>"#), "{notices}");
    let start = notices.find(r#"id="notice-"#).unwrap() + 11;
    let notice: String = notices[start..].chars().take_while(char::is_ascii_digit).collect();
    let res = lin.post(&format!("/m/notices/{notice}/read"), &[]).await;
    assert_eq!((res.status().as_u16(), location(&res)), (303, "/m/swaps".to_owned()));
    assert!(lin.page("/m/notices").await.contains(r#"<span id="unread">0</span>"#));
    // The offer can still be withdrawn before approval.
    let res = lin.post(&format!("/m/swaps/{id}/cancel"), &[]).await;
    assert_eq!(res.status(), 303);
    let swap = swaps(&app, &k).await.into_iter().find(|s| s["id"] == id).unwrap();
    assert_eq!(swap["status"], "cancelled");

    // Leave over a range of dates, with its state; a pending request can be withdrawn.
    let page = lin.page("/m/leave").await;
    assert!(page.contains(r#"<label for="date-from">"#) && page.contains(r#"type="date""#));
    let res =
        lin.post("/m/leave", &[("date_from", "2026-12-28"), ("date_to", "2026-12-30"), ("reason", "外出学习")]).await;
    assert_eq!((res.status().as_u16(), location(&res)), (303, "/m/leave?done=leave".to_owned()));
    let page = lin.page("/m/leave?done=leave").await;
    assert!(
        page.contains("12月28日 星期一 至 12月30日 星期三") && page.contains("外出学习") && page.contains("等待审批")
    );
    let leave: Value = app.get("/api/v1/leave-requests", &k.admin).await.json().await.unwrap();
    let leave_id = leave["items"][0]["id"].as_i64().unwrap();
    assert_eq!(
        (leave["items"][0]["member_id"].as_i64(), leave["items"][0]["status"].as_str()),
        (Some(k.lin), Some("pending"))
    );
    // Dates backwards: the API's rule, shown on the form.
    let res = lin.post("/m/leave", &[("date_from", "2026-12-30"), ("date_to", "2026-12-28"), ("reason", "")]).await;
    assert_eq!(res.status(), 422);
    let res = lin.post(&format!("/m/leave/{leave_id}/approve"), &[]).await;
    assert_eq!(res.status(), 403, "approving leave is the coordinators'");
    let res = lin.post(&format!("/m/leave/{leave_id}/cancel"), &[]).await;
    assert_eq!(res.status(), 303);
    assert!(lin.page("/m/leave").await.contains("已撤回"));
}

#[tokio::test]
async fn my_record_shows_my_numbers_and_the_rank_only_when_published() {
    let app = spawn_app_at(reception_morning()).await;
    let k = reception(&app).await;
    let lin = Phone::sign_in(&app, &k.phones[0]).await;
    let page = lin.page("/m/me").await;
    assert!(page.contains(r#"id="period-label">2026年12月<"#), "{page}");
    assert!(page.contains(r#"<dd id="stat-scheduled">2</dd>"#), "today's and tomorrow's duty: {page}");
    assert!(!page.contains("my-rank"), "no rank unless the committee publishes it");
    let res =
        app.patch("/api/v1/committee", &k.admin, json!({ "settings": { "ranking_visible_to_members": true } })).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let page = lin.page("/m/me?period=2026-Q4").await;
    assert!(page.contains(r#"id="period-label">2026年第四季度<"#) && page.contains(r#"id="my-rank""#), "{page}");
    // The numbers are the API's.
    let report: Value = app.get("/api/v1/stats/members?period=2026-Q4", &k.admin).await.json().await.unwrap();
    let row = report["rows"].as_array().unwrap().iter().find(|r| r["member_id"] == k.lin).unwrap();
    assert!(page.contains(&format!(r#"<dd id="stat-scheduled">{}</dd>"#, row["scheduled"])), "{row}");
    assert!(page.contains(&format!("排名第 {} 位", row["rank"])), "{row}");
    let (status, _) = lin.get("/m/me?period=2026-13").await;
    assert_eq!(status, 422);
}

/// Who may open or post what: every page without a session goes to sign-in; another
/// member's items, requests and notices answer 404; every form needs the session's token.
#[tokio::test]
async fn page_authorization() {
    let app = spawn_app_at(reception_morning()).await;
    let k = reception(&app).await;
    let item = consultation(&app, &k, "路口红绿灯时间太短").await;
    let lin = Phone::sign_in(&app, &k.phones[0]).await;
    let zhao = Phone::sign_in(&app, &k.phones[3]).await;
    let wang = Phone::sign_in(&app, &k.phones[2]).await;
    // Things of 林委员's: a swap offered to 王委员, a leave request, a notice (王's offer).
    let tomorrow = k.tomorrow.to_string();
    assert_eq!(
        lin.post("/m/swaps", &[("assignment_id", &tomorrow), ("to_member_id", &k.wang.to_string())]).await.status(),
        303
    );
    let swap = swaps(&app, &k).await[0]["id"].as_i64().unwrap();
    assert_eq!(lin.post("/m/leave", &[("date_from", "2027-01-04"), ("date_to", "2027-01-04")]).await.status(), 303);
    let leave: Value = app.get("/api/v1/leave-requests", &k.admin).await.json().await.unwrap();
    let leave = leave["items"][0]["id"].as_i64().unwrap();
    let notices = wang.page("/m/notices").await;
    let start = notices.find(r#"id="notice-"#).unwrap() + 11;
    let notice: String = notices[start..].chars().take_while(char::is_ascii_digit).collect();
    let (payload, _) = display_code(&app, &k).await;

    let gets = [
        "/m".to_owned(),
        "/m/calendar".to_owned(),
        format!("/m/c/{payload}"),
        "/m/inbox".to_owned(),
        format!("/m/items/{item}"),
        "/m/record".to_owned(),
        "/m/swaps".to_owned(),
        "/m/leave".to_owned(),
        "/m/notices".to_owned(),
        "/m/me".to_owned(),
    ];
    let posts = [
        "/m/logout".to_owned(),
        "/m/calendar".to_owned(),
        format!("/m/c/{payload}"),
        format!("/m/items/{item}/take"),
        format!("/m/items/{item}/reply"),
        "/m/record".to_owned(),
        "/m/swaps".to_owned(),
        format!("/m/swaps/{swap}/accept"),
        format!("/m/swaps/{swap}/cancel"),
        "/m/leave".to_owned(),
        format!("/m/leave/{leave}/cancel"),
        format!("/m/notices/{notice}/read"),
        "/m/notices/read".to_owned(),
    ];
    // Anonymous: to the sign-in form, which brings the member back here.
    let anonymous = Phone::anonymous(&app);
    for path in &gets {
        let res = anonymous.get_response(path).await;
        assert_eq!(res.status(), 303, "GET {path}");
        assert!(location(&res).starts_with("/m/login"), "GET {path} → {}", location(&res));
    }
    for path in &posts {
        let res = anonymous.post_raw(path, &[("csrf", "x")]).await;
        assert_eq!(res.status(), 303, "POST {path}");
        assert!(location(&res).starts_with("/m/login"), "POST {path} → {}", location(&res));
    }
    // Signed in, without the session's CSRF token: refused, whatever the form.
    let forged = [
        ("csrf", "forged"),
        ("nonce", "forged-nonce-1"),
        ("text", "x"),
        ("assignment_id", "1"),
        ("date_from", "2027-01-04"),
        ("date_to", "2027-01-04"),
    ];
    for path in &posts {
        let res = zhao.post_raw(path, &forged).await;
        assert_eq!(res.status(), 403, "{path}");
        assert!(res.text().await.unwrap().contains("csrf_token_invalid"), "{path}");
    }
    // Another member's ids are not there: 赵委员 (another studio) and 王委员 (a colleague).
    assert_eq!(zhao.get(&format!("/m/items/{item}")).await.0, 404);
    for (who, path, fields) in [
        (&zhao, format!("/m/items/{item}/take"), vec![]),
        (&zhao, format!("/m/items/{item}/reply"), vec![("text", "我来答")]),
        (&zhao, format!("/m/swaps/{swap}/accept"), vec![]),
        (&zhao, format!("/m/swaps/{swap}/cancel"), vec![]),
        (&wang, format!("/m/leave/{leave}/cancel"), vec![]),
        (&lin, format!("/m/notices/{notice}/read"), vec![]),
        (&zhao, "/m/items/999999".to_owned(), vec![]),
    ] {
        let res =
            if path == "/m/items/999999" { who.get_response(&path).await } else { who.post(&path, &fields).await };
        assert_eq!(res.status(), 404, "{path}");
    }
    // Offering someone else's duty is refused as not there, too.
    let res = zhao.post("/m/swaps", &[("assignment_id", &tomorrow)]).await;
    assert_eq!(res.status(), 404);
    // The coordinators' decisions are not the member pages'.
    let res = wang.post(&format!("/m/swaps/{swap}/approve"), &[]).await;
    assert_eq!(res.status(), 403);
    let res = lin.post(&format!("/m/leave/{leave}/approve"), &[]).await;
    assert_eq!(res.status(), 403);
    // Nothing was changed by the refused calls.
    let swap_now = swaps(&app, &k).await.into_iter().find(|s| s["id"] == swap).unwrap();
    assert_eq!(swap_now["status"], "offered");
    let leave_now: Value = app.get("/api/v1/leave-requests", &k.admin).await.json().await.unwrap();
    assert_eq!(leave_now["items"][0]["status"], "pending");
    problem(app.get(&format!("/api/v1/items/{item}"), &app.token(&k.phones[3]).await).await, 404, "not_found").await;
}

/// Issue 17, finding 3 on the phone: the member closes a consultation they answered; an
/// opinion they only took is the coordinator's, and the page says so in Chinese.
#[tokio::test]
async fn a_member_closes_on_the_phone_only_what_the_workflow_hands_them() {
    let app = spawn_app_at(reception_morning()).await;
    let k = reception(&app).await;
    let lin = Phone::sign_in(&app, &k.phones[0]).await;
    let res = submit_json(
        &app,
        json!({ "venue_code": k.venue_code, "kind": "opinion", "topic": "环境保护", "body": "河边有人倒垃圾", "consent": true }),
    )
    .await;
    assert_eq!(res.status(), 201);
    let inbox: Value = app.get("/api/v1/me/inbox", &app.token(&k.phones[0]).await).await.json().await.unwrap();
    let opinion = inbox[0]["id"].as_i64().unwrap();
    assert_eq!(lin.post(&format!("/m/items/{opinion}/take"), &[]).await.status(), 303);
    let page = lin.page(&format!("/m/items/{opinion}")).await;
    assert!(!page.contains("办结此事项"), "no closing form for what is the coordinator's: {page}");
    let res = lin.post(&format!("/m/items/{opinion}/close"), &[("resolution", "not_actionable")]).await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains(zhiban::error::ErrorCode::CloseNeedsCoordinator.message_zh()));
    let detail: Value = app.get(&format!("/api/v1/items/{opinion}"), &k.admin).await.json().await.unwrap();
    assert_eq!(detail["state"], "received");

    let item = consultation(&app, &k, "医保卡丢了怎么补办？").await;
    assert_eq!(lin.post(&format!("/m/items/{item}/take"), &[]).await.status(), 303);
    assert_eq!(
        lin.post(&format!("/m/items/{item}/reply"), &[("text", "带身份证到镇便民服务中心补办。")]).await.status(),
        303
    );
    let page = lin.page(&format!("/m/items/{item}")).await;
    assert!(page.contains("办结此事项") && page.contains(r#"<label for="close-resolution">"#), "{page}");
    let res = lin.post(&format!("/m/items/{item}/close"), &[("resolution", "answered")]).await;
    assert_eq!(res.status(), 303);
    let detail: Value = app.get(&format!("/api/v1/items/{item}"), &k.admin).await.json().await.unwrap();
    assert_eq!(detail["state"], "closed");
}
