//! A member turns SMS off on the member pages (消息 → 短信提醒), on a phone, and the next duty
//! reminder skips SMS while the studio's group still hears of the team (issue 21).

use super::{PHONE, run};
use crate::channels::{at, drain, rostered};
use crate::helpers::{PASSWORD, spawn_app_at};

#[tokio::test]
async fn a_member_turns_sms_off_and_the_next_reminder_skips_it() {
    run("member_sms_off", PHONE, async |b| {
        let now = at("2026-12-04 10:00");
        let app = spawn_app_at(now.and_utc()).await;
        let r = rostered(&app, now).await;

        b.goto(&app.url("/m/login")).await;
        b.fill("#phone", &r.phones[0]).await;
        b.fill("#password", PASSWORD).await;
        b.submit("登录").await;
        b.goto(&app.url("/m/notices")).await;
        assert_eq!(b.text("#sms-state").await, "已开启");
        b.submit("关闭短信提醒").await;
        b.wait_for_path("/m/notices").await;
        assert_eq!(b.text("#sms-state").await, "已关闭");
        b.assert_fits_viewport().await;
        b.screenshot("01-sms-off").await;

        let queued = crate::channels::with_conn(&app, move |conn| {
            zhiban::roster::reminders::schedule_reminders(conn, now).unwrap()
        })
        .await;
        assert_eq!(queued, 2);
        drain(&app, now).await;
        let sent: Vec<String> =
            r.sms.accepted().iter().map(|s| s["PhoneNumberSet"][0].as_str().unwrap().to_owned()).collect();
        assert_eq!(sent, vec![format!("+86{}", r.phones[1])], "only the colleague who kept SMS on");
        assert_eq!(r.ding.accepted().len(), 1, "the studio's group still gets the team");

        // And back on.
        b.submit("开启短信提醒").await;
        b.wait_for_path("/m/notices").await;
        assert_eq!(b.text("#sms-state").await, "已开启");
    })
    .await;
}
