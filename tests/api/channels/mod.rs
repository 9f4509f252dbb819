//! Notices to DingTalk and WeCom group robots and Tencent Cloud SMS (issue 21). Each test runs
//! local receivers ([`receiver`]) that check every request as the provider would, and drives
//! the worker by hand at pinned instants.

mod receiver;

use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;
use serde_json::{Value, json};
use zhiban::outbox::worker::{self, RetryPolicy};
use zhiban::schema::{assignments, outbox, rosters, shift_templates, shifts};

pub(crate) use receiver::Receiver;
use receiver::{DING_SECRET, Mode, Provider, SECRET_ID, SECRET_KEY, WECOM_KEY};

use crate::helpers::{TestApp, problem, spawn_app_at};

pub(crate) async fn with_conn<T: Send + 'static>(
    app: &TestApp,
    f: impl FnOnce(&mut zhiban::db::DbConnection) -> T + Send + 'static,
) -> T {
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || f(&mut pool.get().unwrap())).await.unwrap()
}

pub(crate) fn at(local: &str) -> NaiveDateTime {
    // Asia/Shanghai is UTC+8 all year.
    NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap() - chrono::Duration::hours(8)
}

/// Runs the worker until nothing more is due at `now`, with a short HTTP timeout.
pub(crate) async fn drain(app: &TestApp, now: NaiveDateTime) {
    let client = crate::helpers::delivery_client(Duration::from_secs(1));
    let policy = RetryPolicy::default();
    for _ in 0..10 {
        if worker::run_once(&app.pool, &client, "test-worker", now, &policy).await.unwrap() == 0 {
            break;
        }
    }
}

/// `(channel, status, attempts, last_error)` of the channel rows.
async fn channel_rows(app: &TestApp) -> Vec<(String, String, i32, Option<String>)> {
    with_conn(app, |conn| {
        outbox::table
            .filter(outbox::channel.ne("webhook"))
            .order(outbox::id)
            .select((outbox::channel, outbox::status, outbox::attempts, outbox::last_error))
            .load(conn)
            .unwrap()
    })
    .await
}

fn sms_config(endpoint: &str) -> Value {
    json!({
        "provider": "tencent", "endpoint": endpoint, "sdk_app_id": "1400006666",
        "access_key_id": SECRET_ID, "access_key_secret": SECRET_KEY, "sign_name": "平阳县政协",
        "templates": {
            "duty.reminder": { "template_id": "2001", "params": ["member_name", "venue_name", "date", "start_time"] },
            "item.replied": { "template_id": "2002", "params": ["tracking_code"] },
        },
    })
}

async fn enqueue(app: &TestApp, committee_id: i64, kind: &'static str, payload: Value, now: NaiveDateTime) {
    with_conn(app, move |conn| zhiban::outbox::enqueue(conn, committee_id, kind, None, &payload, now).unwrap()).await
}

#[tokio::test]
async fn channel_settings_are_validated_and_their_secrets_never_shown() {
    let app = spawn_app_at(at("2026-12-04 10:00").and_utc()).await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    let res = app
        .patch(
            "/api/v1/committee",
            &admin,
            json!({
                "dingtalk": { "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=tok123", "secret": DING_SECRET },
                "wecom": { "webhook_url": format!("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}") },
                "sms": sms_config("https://sms.tencentcloudapi.com"),
            }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    for secret in [DING_SECRET, WECOM_KEY, SECRET_KEY, "tok123"] {
        assert!(!text.contains(secret), "{secret} is write-only: {text}");
    }
    let view: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(view["channels"]["dingtalk"]["webhook_url"], "https://oapi.dingtalk.com/robot/send?access_token=***");
    assert_eq!(view["channels"]["dingtalk"]["secret_set"], true);
    assert_eq!(view["channels"]["sms"]["sign_name"], "平阳县政协");
    assert_eq!(view["channels"]["sms"]["templates"]["item.replied"]["params"], json!(["tracking_code"]));

    // A new URL keeps the stored secret; a robot without one is refused; SMS carries only
    // zhiban's values (a resident's answer: the tracking code and nothing else).
    let res = app
        .patch(
            "/api/v1/committee",
            &admin,
            json!({ "dingtalk": { "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=new" } }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let mut bad = sms_config("https://sms.tencentcloudapi.com");
    bad["templates"]["item.replied"]["params"] = json!(["tracking_code", "phone"]);
    let body =
        problem(app.patch("/api/v1/committee", &admin, json!({ "sms": bad })).await, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "sms.templates");
    assert_eq!(body["errors"][0]["reason"], "unknown_variable");
    let res = app
        .patch("/api/v1/committee", &admin, json!({ "wecom": { "webhook_url": "https://qyapi.weixin.qq.com/x" } }))
        .await;
    assert_eq!(problem(res, 422, "validation_failed").await["errors"][0]["field"], "wecom.webhook_url");

    let view: Value =
        app.patch("/api/v1/committee", &admin, json!({ "dingtalk": null, "sms": null })).await.json().await.unwrap();
    assert_eq!(view["channels"]["dingtalk"], Value::Null);
    assert!(view["channels"]["sms"].is_null());
    assert!(view["channels"]["wecom"]["webhook_url"].as_str().unwrap().ends_with("key=***"));
}

/// A committee with a studio, two members on one published duty a week ahead, and the
/// studio's robots plus the committee's SMS pointed at local receivers.
pub(crate) struct Rostered {
    committee_id: i64,
    admin: String,
    pub(crate) phones: [String; 2],
    pub(crate) ding: Receiver,
    wecom: Receiver,
    pub(crate) sms: Receiver,
}

pub(crate) async fn rostered(app: &TestApp, now: NaiveDateTime) -> Rostered {
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    let venue = app.venue(&admin, "a-kunyang", "昆阳镇委员工作室").await;
    let m1 = app.member(&admin, json!({ "name": "林建国", "phone": c.phone(1) })).await;
    let m2 = app.member(&admin, json!({ "name": "陈晓燕", "phone": c.phone(2) })).await;
    let (ding, wecom, sms) = (
        Receiver::start(Provider::DingTalk, now).await,
        Receiver::start(Provider::Wecom, now).await,
        Receiver::start(Provider::Tencent, now).await,
    );
    let res = app.patch("/api/v1/committee", &admin, json!({ "sms": sms_config(&format!("{}/", sms.base)) })).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let res = app
        .patch(
            &format!("/api/v1/venues/{venue}"),
            &admin,
            json!({
                "dingtalk": { "webhook_url": format!("{}/robot/send?access_token=t1", ding.base), "secret": DING_SECRET },
                "wecom": { "webhook_url": format!("{}/cgi-bin/webhook/send?key={WECOM_KEY}", wecom.base) },
            }),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let cid = c.id;
    with_conn(app, move |conn| {
        let t = NaiveDateTime::parse_from_str("2026-11-01 00:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        let (nine, noon) = (NaiveTime::from_hms_opt(9, 0, 0).unwrap(), NaiveTime::from_hms_opt(12, 0, 0).unwrap());
        let template: i64 = diesel::insert_into(shift_templates::table)
            .values((
                shift_templates::committee_id.eq(cid),
                shift_templates::venue_id.eq(venue),
                shift_templates::name.eq("接待日"),
                shift_templates::kind.eq("reception_day"),
                shift_templates::rrule.eq("FREQ=MONTHLY;BYMONTHDAY=11"),
                shift_templates::start_time.eq(nine),
                shift_templates::end_time.eq(noon),
                shift_templates::head_min.eq(1),
                shift_templates::head_max.eq(3),
                shift_templates::head_target.eq(2),
                shift_templates::holiday_policy.eq("keep"),
                shift_templates::created_at.eq(t),
                shift_templates::updated_at.eq(t),
            ))
            .returning(shift_templates::id)
            .get_result(conn)
            .unwrap();
        let roster: i64 = diesel::insert_into(rosters::table)
            .values((
                rosters::committee_id.eq(cid),
                rosters::period_from.eq(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()),
                rosters::period_to.eq(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()),
                rosters::status.eq("published"),
                rosters::created_at.eq(t),
                rosters::updated_at.eq(t),
            ))
            .returning(rosters::id)
            .get_result(conn)
            .unwrap();
        let date = NaiveDate::from_ymd_opt(2026, 12, 11).unwrap();
        let shift: i64 = diesel::insert_into(shifts::table)
            .values((
                shifts::committee_id.eq(cid),
                shifts::roster_id.eq(roster),
                shifts::template_id.eq(template),
                shifts::venue_id.eq(venue),
                shifts::local_date.eq(date),
                shifts::start_time.eq(nine),
                shifts::end_time.eq(noon),
                shifts::starts_at.eq(date.and_hms_opt(1, 0, 0).unwrap()),
                shifts::ends_at.eq(date.and_hms_opt(4, 0, 0).unwrap()),
                shifts::head_min.eq(1),
                shifts::head_max.eq(3),
            ))
            .returning(shifts::id)
            .get_result(conn)
            .unwrap();
        for member in [m1, m2] {
            diesel::insert_into(assignments::table)
                .values((
                    assignments::committee_id.eq(cid),
                    assignments::shift_id.eq(shift),
                    assignments::member_id.eq(member),
                    assignments::role.eq("member"),
                    assignments::source.eq("generated"),
                    assignments::reason.eq("test"),
                    assignments::created_at.eq(t),
                ))
                .execute(conn)
                .unwrap();
        }
    })
    .await;
    Rostered { committee_id: c.id, admin, phones: [c.phone(1), c.phone(2)], ding, wecom, sms }
}

#[tokio::test]
async fn a_duty_reminder_goes_by_sms_to_each_member_and_once_to_the_studios_groups() {
    let now = at("2026-12-04 10:00");
    let app = spawn_app_at(now.and_utc()).await;
    let r = rostered(&app, now).await;
    let queued = with_conn(&app, move |conn| zhiban::roster::reminders::schedule_reminders(conn, now).unwrap()).await;
    assert_eq!(queued, 2, "one 7-day reminder per member");
    drain(&app, now).await;

    let sms = r.sms.accepted();
    let mut phones: Vec<String> = sms.iter().map(|b| b["PhoneNumberSet"][0].as_str().unwrap().to_owned()).collect();
    phones.sort();
    assert_eq!(phones, vec![format!("+86{}", r.phones[0]), format!("+86{}", r.phones[1])]);
    let lin = sms.iter().find(|b| b["PhoneNumberSet"][0] == format!("+86{}", r.phones[0])).unwrap();
    assert_eq!(lin["TemplateId"], "2001");
    assert_eq!(lin["SignName"], "平阳县政协");
    assert_eq!(lin["SmsSdkAppId"], "1400006666");
    assert_eq!(lin["TemplateParamSet"], json!(["林建国", "昆阳镇委员工作室", "12月11日", "09:00"]));

    // The studio's groups get the day's team once, @-mentioning both.
    let ding = r.ding.accepted();
    assert_eq!(ding.len(), 1, "{ding:?}");
    assert_eq!(ding[0]["msgtype"], "markdown");
    assert_eq!(ding[0]["at"]["atMobiles"], json!([r.phones[0], r.phones[1]]));
    let text = ding[0]["markdown"]["text"].as_str().unwrap();
    assert!(text.contains("林建国、陈晓燕") && text.contains(&format!("@{}", r.phones[1])), "{text}");
    let wecom = r.wecom.accepted();
    assert_eq!(wecom.len(), 1);
    assert_eq!(wecom[0]["text"]["mentioned_mobile_list"], json!([r.phones[0], r.phones[1]]));
    let rows = channel_rows(&app).await;
    assert_eq!(rows.len(), 4, "two SMS rows, one row per robot: {rows:?}");
    assert!(rows.iter().all(|r| r.1 == "delivered" && r.2 == 1), "{rows:?}");
}

#[tokio::test]
async fn quiet_hours_hold_sms_until_morning_but_not_an_item_arriving_on_duty() {
    let evening = at("2026-12-04 22:30");
    let app = spawn_app_at(evening.and_utc()).await;
    let r = rostered(&app, evening).await;
    enqueue(
        &app,
        r.committee_id,
        "item.replied",
        json!({ "tracking_code": "K7Q2M9", "phone": "13912345678", "tracking_path": "/r/t/K7Q2M9" }),
        evening,
    )
    .await;
    let venue = with_conn(&app, |conn| shifts::table.select(shifts::venue_id).first::<i64>(conn).unwrap()).await;
    enqueue(
        &app,
        r.committee_id,
        "item.inbox",
        json!({ "item_id": 7, "venue_id": venue, "kind": "consultation",
        "topic": "王大妈 13700001111 的低保问题", "member_ids": [] }),
        evening,
    )
    .await;
    drain(&app, evening).await;
    assert_eq!(r.sms.count(), 0, "SMS waits for 08:00");
    let ding = r.ding.accepted();
    assert_eq!(ding.len(), 1, "the item goes to the studio's group at once");
    let group = ding[0].to_string();
    assert!(
        !group.contains("13700001111") && !group.contains("低保") && !group.contains("王大妈"),
        "no resident data: {group}"
    );

    drain(&app, at("2026-12-05 07:59")).await;
    assert_eq!(r.sms.count(), 0);
    drain(&app, at("2026-12-05 08:00")).await;
    let sms = r.sms.accepted();
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0]["PhoneNumberSet"], json!(["+8613912345678"]));
    assert_eq!(sms[0]["TemplateParamSet"], json!(["K7Q2M9"]), "the tracking code only");
}

#[tokio::test]
async fn a_robot_gets_at_most_twenty_messages_a_minute_and_the_rest_wait() {
    let now = at("2026-12-04 10:00");
    let app = spawn_app_at(now.and_utc()).await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    let ding = Receiver::start(Provider::DingTalk, now).await;
    let res = app
        .patch(
            "/api/v1/committee",
            &admin,
            json!({ "dingtalk": {
            "webhook_url": format!("{}/robot/send?access_token=t", ding.base), "secret": DING_SECRET } }),
        )
        .await;
    assert_eq!(res.status(), 200);
    for i in 0..25 {
        enqueue(
            &app,
            c.id,
            "item.overdue",
            json!({ "item_id": i, "tracking_code": format!("T{i:05}"), "venue_id": null,
            "tier": 2, "due_on": "2026-12-03", "level": 1, "member_ids": [] }),
            now,
        )
        .await;
    }
    drain(&app, now).await;
    assert_eq!(ding.accepted().len(), 20);
    let rows = channel_rows(&app).await;
    assert_eq!(rows.iter().filter(|r| r.1 == "pending" && r.2 == 0).count(), 5, "queued, no attempt used: {rows:?}");
    drain(&app, now + chrono::Duration::seconds(30)).await;
    assert_eq!(ding.accepted().len(), 20, "still within the minute");
    drain(&app, now + chrono::Duration::seconds(61)).await;
    let got = ding.accepted();
    assert_eq!(got.len(), 25);
    let mut codes: Vec<String> = got.iter().map(|b| b["markdown"]["text"].as_str().unwrap().to_owned()).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 25, "each once");
    assert_eq!(ding.count(), 25, "nothing sent twice");
}

#[tokio::test]
async fn a_provider_failing_then_hanging_then_recovering_gets_every_notice_exactly_once() {
    let now = at("2026-12-04 10:00");
    let app = spawn_app_at(now.and_utc()).await;
    let r = rostered(&app, now).await;
    for (code, phone) in [("AAAA11", "13911110001"), ("BBBB22", "13911110002"), ("CCCC33", "13911110003")] {
        enqueue(
            &app,
            r.committee_id,
            "item.replied",
            json!({ "tracking_code": code, "phone": phone, "tracking_path": "/r/t/x" }),
            now,
        )
        .await;
    }
    r.sms.set(Mode::Fail500);
    drain(&app, now).await;
    let rows = channel_rows(&app).await;
    assert!(
        rows.iter().all(|r| r.1 == "pending" && r.2 == 1 && r.3.as_deref() == Some("HTTP 500 Internal Server Error")),
        "{rows:?}"
    );

    r.sms.set(Mode::Hang);
    let later = now + chrono::Duration::minutes(5);
    drain(&app, later).await;
    let rows = channel_rows(&app).await;
    assert!(rows.iter().all(|r| r.1 == "pending" && r.2 == 2 && r.3.as_deref() == Some("timed out")), "{rows:?}");

    r.sms.set(Mode::Ok);
    let recovered = now + chrono::Duration::minutes(15);
    drain(&app, recovered).await;
    drain(&app, recovered + chrono::Duration::hours(1)).await;
    let mut phones: Vec<String> =
        r.sms.accepted().iter().map(|b| b["PhoneNumberSet"][0].as_str().unwrap().to_owned()).collect();
    phones.sort();
    assert_eq!(phones, vec!["+8613911110001", "+8613911110002", "+8613911110003"], "each exactly once");
    let rows = channel_rows(&app).await;
    assert!(rows.iter().all(|r| r.1 == "delivered" && r.2 == 3), "{rows:?}");
}

#[tokio::test]
async fn a_member_with_sms_off_gets_no_sms() {
    let now = at("2026-12-04 10:00");
    let app = spawn_app_at(now.and_utc()).await;
    let r = rostered(&app, now).await;
    let phone = r.phones[0].clone();
    with_conn(&app, move |conn| {
        diesel::update(zhiban::schema::members::table.filter(zhiban::schema::members::phone.eq(phone)))
            .set(zhiban::schema::members::sms_enabled.eq(false))
            .execute(conn)
            .unwrap()
    })
    .await;
    with_conn(&app, move |conn| zhiban::roster::reminders::schedule_reminders(conn, now).unwrap()).await;
    drain(&app, now).await;
    let sms = r.sms.accepted();
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0]["PhoneNumberSet"], json!([format!("+86{}", r.phones[1])]));
    assert_eq!(r.ding.accepted().len(), 1, "the group still gets the team");
}

#[tokio::test]
async fn the_admin_sees_each_channel_of_a_notice_and_retries_one_dead_letter() {
    let now = at("2026-12-04 10:00");
    let app = spawn_app_at(now.and_utc()).await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    let ding = Receiver::start(Provider::DingTalk, now).await;
    // A wrong secret: DingTalk refuses the signature (errcode 310000), as it would.
    let res = app
        .patch("/api/v1/committee", &admin, json!({ "dingtalk": {
            "webhook_url": format!("{}/robot/send?access_token=t", ding.base), "secret": "SECnotthesecret0123456789" } }))
        .await;
    assert_eq!(res.status(), 200);
    enqueue(
        &app,
        c.id,
        "item.overdue",
        json!({ "item_id": 1, "tracking_code": "T00001", "venue_id": null,
        "tier": 3, "due_on": "2026-12-03", "level": 1, "member_ids": [] }),
        now,
    )
    .await;
    let client = crate::helpers::delivery_client(Duration::from_secs(10));
    let once = RetryPolicy { max_attempts: 1, ..RetryPolicy::default() };
    worker::run_once(&app.pool, &client, "test-worker", now, &once).await.unwrap();
    assert_eq!(ding.count(), 1);
    assert!(ding.accepted().is_empty(), "refused: bad signature");

    let notice: Value = app.get("/api/v1/outbox?channel=webhook", &admin).await.json().await.unwrap();
    let notice_id = notice["items"][0]["id"].as_i64().unwrap();
    assert_eq!(notice["items"][0]["held"], true, "no webhook configured: the notice itself waits");
    let channels: Value = app.get(&format!("/api/v1/outbox?notice_id={notice_id}"), &admin).await.json().await.unwrap();
    let row = &channels["items"][0];
    assert_eq!(channels["items"].as_array().unwrap().len(), 1);
    assert_eq!((row["channel"].as_str(), row["status"].as_str()), (Some("dingtalk"), Some("dead")));
    assert_eq!(row["notice_id"], notice_id);
    assert_eq!(row["last_error"], "errcode 310000: sign not match");
    assert!(!channels.to_string().contains("access_token=t"), "no robot token in the view");

    // The right secret, then the one channel retried: delivered once.
    let res = app
        .patch(
            "/api/v1/committee",
            &admin,
            json!({ "dingtalk": {
            "webhook_url": format!("{}/robot/send?access_token=t", ding.base), "secret": DING_SECRET } }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let id = row["id"].as_i64().unwrap();
    let retried: Value = app.post(&format!("/api/v1/outbox/{id}/retry"), &admin, json!({})).await.json().await.unwrap();
    assert_eq!(retried["status"], "pending");
    drain(&app, now + chrono::Duration::seconds(5)).await;
    assert_eq!(ding.accepted().len(), 1);
    let channels: Value = app.get(&format!("/api/v1/outbox?notice_id={notice_id}"), &admin).await.json().await.unwrap();
    assert_eq!(channels["items"][0]["status"], "delivered");
}

#[tokio::test]
async fn two_instances_together_still_send_a_robot_at_most_twenty_a_minute() {
    let now = at("2026-12-04 10:00");
    let app = spawn_app_at(now.and_utc()).await;
    let c = app.committee("alpha", "38").await;
    let admin = app.token(&c.admin_phone).await;
    let ding = Receiver::start(Provider::DingTalk, now).await;
    let res = app
        .patch(
            "/api/v1/committee",
            &admin,
            json!({ "dingtalk": {
            "webhook_url": format!("{}/robot/send?access_token=t", ding.base), "secret": DING_SECRET } }),
        )
        .await;
    assert_eq!(res.status(), 200);
    for i in 0..40 {
        enqueue(
            &app,
            c.id,
            "item.overdue",
            json!({ "item_id": i, "tracking_code": format!("T{i:05}"), "venue_id": null,
            "tier": 2, "due_on": "2026-12-03", "level": 1, "member_ids": [] }),
            now,
        )
        .await;
    }
    let run = |worker_id: &'static str| {
        let pool = app.pool.clone();
        async move {
            let client = crate::helpers::delivery_client(Duration::from_secs(10));
            for _ in 0..6 {
                worker::run_once(&pool, &client, worker_id, now, &RetryPolicy::default()).await.unwrap();
            }
        }
    };
    tokio::join!(run("instance-a"), run("instance-b"));
    assert_eq!(ding.count(), 20, "one minute, one robot, two instances: twenty");
    drain(&app, now + chrono::Duration::seconds(61)).await;
    assert_eq!(ding.count(), 40);
    assert_eq!(ding.accepted().len(), 40);
}

#[tokio::test]
async fn a_studio_without_its_own_robot_falls_back_to_the_committees_group() {
    let now = at("2026-12-04 10:00");
    let app = spawn_app_at(now.and_utc()).await;
    let r = rostered(&app, now).await;
    let venue = with_conn(&app, |conn| shifts::table.select(shifts::venue_id).first::<i64>(conn).unwrap()).await;
    // The studio's robots are removed; the committee's group has one.
    let res = app.patch(&format!("/api/v1/venues/{venue}"), &r.admin, json!({ "dingtalk": null, "wecom": null })).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let committee_robot = json!({ "dingtalk": {
        "webhook_url": format!("{}/robot/send?access_token=office", r.ding.base), "secret": DING_SECRET } });
    assert_eq!(app.patch("/api/v1/committee", &r.admin, committee_robot).await.status(), 200);

    enqueue(
        &app,
        r.committee_id,
        "item.inbox",
        json!({ "item_id": 7, "venue_id": venue, "kind": "consultation", "topic": "医保", "member_ids": [] }),
        now,
    )
    .await;
    drain(&app, now).await;
    let ding = r.ding.accepted();
    assert_eq!(ding.len(), 1, "the resident waiting at the studio reaches the committee's group: {ding:?}");
    assert_eq!(r.wecom.count(), 0);
}
