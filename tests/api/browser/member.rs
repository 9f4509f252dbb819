//! A member's reception day on a 360×740 phone with touch, end to end: signs in and sees
//! today's duty; reads the QR code off the venue's display page as a camera would (decoded
//! from a screenshot with rqrr), opens it, checks in and sees 已签到 on the phone and on the
//! display; takes and answers a resident's consultation in two paragraphs; records an opinion
//! heard in person; offers tomorrow's duty to a colleague, who accepts in a second session;
//! asks for leave. Every page fits the screen and its budget; each is kept as a screenshot.
//! The server's clock starts at 09:00 on the reception day (25 December 2026, Asia/Shanghai).

use serde_json::Value;

use super::{Browser, PHONE, run};
use crate::helpers::{PASSWORD, spawn_app_at};
use crate::items::submit_json;
use crate::member_pages::{PAGE_BUDGET_BYTES, reception, reception_morning};

/// The QR code read back from a screenshot of the display page, as a phone's camera would.
async fn qr_on_screen(b: &Browser, step: &str) -> String {
    let png = b.screenshot_of("#qr", step).await;
    let image = image::load_from_memory(&png).expect("screenshot is a PNG").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the screen");
    grids[0].decode().expect("the QR code on the screen reads").1
}

/// The page fits the phone, is within its budget (HTML and stylesheet), and is kept.
async fn check_page(b: &Browser, css_bytes: usize, step: &str) {
    b.assert_fits_viewport().await;
    let html = b.js("return new Blob([document.documentElement.outerHTML]).size;").await.as_u64().unwrap() as usize;
    assert!(html + css_bytes <= PAGE_BUDGET_BYTES, "{step}: {html} + {css_bytes} bytes");
    b.screenshot(step).await;
}

async fn sign_in(b: &Browser, base: &str, phone: &str) {
    b.goto(&format!("{base}/m/login")).await;
    b.fill("#phone", phone).await;
    b.fill("#password", PASSWORD).await;
    b.submit("登录").await;
    let path = b.path().await;
    assert!(!path.starts_with("/m/login"), "sign-in of {phone} stayed on {path}");
}

#[tokio::test]
async fn a_members_reception_day_on_the_phone() {
    run("member_reception_day", PHONE, async |b| {
        let app = spawn_app_at(reception_morning()).await;
        let k = reception(&app).await;
        let css = app.client.get(app.url("/m/static/m.css")).send().await.unwrap().text().await.unwrap().len();

        // 1. Sign in; today's duty is on the first page.
        b.goto(&app.url("/m")).await;
        b.wait_for_path("/m/login").await;
        check_page(b, css, "01-sign-in").await;
        sign_in(b, &app.address, &k.phones[0]).await;
        assert_eq!(b.path().await, "/m");
        let duty = b.text(&format!("#duty-{}", k.today[0])).await;
        assert!(duty.contains("昆阳镇委员工作室") && duty.contains("08:30–11:30") && duty.contains("组长"), "{duty}");
        assert!(duty.contains("陈委员"), "the teammate: {duty}");
        check_page(b, css, "02-today").await;

        // 2. The venue's display: its QR code, read off the screen, opens the check-in.
        b.goto(&k.display_url).await;
        b.screenshot("03-display").await;
        let scanned = qr_on_screen(b, "04-display-qr").await;
        assert!(scanned.starts_with(&format!("{}/m/c/ZB1.mp-kunyang.", app.address)), "{scanned}");
        b.goto(&scanned).await;
        assert_eq!(b.text("#scan-venue").await, "昆阳镇委员工作室");
        assert!(b.text("#scan-duty").await.contains("08:30–11:30"));
        check_page(b, css, "05-scan").await;
        b.submit("签到").await;
        assert_eq!(b.text("#scan-outcome").await, "已签到");
        check_page(b, css, "06-checked-in").await;
        b.goto(&k.display_url).await;
        assert!(b.page_text().await.contains("林委员 ✅ 已签到"), "the display shows it");
        b.screenshot("07-display-after").await;

        // 3. A resident's consultation arrives; the member takes it and answers in two paragraphs.
        let res = submit_json(
            &app,
            serde_json::json!({ "venue_code": k.venue_code, "kind": "consultation", "topic": "养老托育",
                                "body": "请问村里的老年食堂什么时候开？", "consent": true }),
        )
        .await;
        assert_eq!(res.status(), 201);
        let tracking = res.json::<Value>().await.unwrap()["tracking_code"].as_str().unwrap().to_owned();
        b.goto(&app.url("/m/inbox")).await;
        check_page(b, css, "08-inbox").await;
        b.follow("section.card h3 a").await;
        assert!(b.text("#item-body").await.contains("老年食堂"));
        check_page(b, css, "09-item").await;
        b.submit("接手此事项").await;
        b.fill("#reply-text", "老年食堂下月一日开始供餐。\n\n行动不便的老人可以电话预约送餐。").await;
        b.submit("发送答复").await;
        assert_eq!(b.text("#item-state").await, "已答复");
        check_page(b, css, "10-answered").await;
        let tracked: Value = app
            .client
            .get(app.url(&format!("/api/v1/public/items/{tracking}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let answers = tracked.to_string();
        assert!(answers.contains("老年食堂下月一日开始供餐。\\n\\n行动不便的老人可以电话预约送餐。"), "{answers}");

        // 4. An opinion heard in person, recorded against today's duty.
        b.goto(&app.url("/m/record")).await;
        check_page(b, css, "11-record").await;
        b.click("input[name=kind][value=opinion]").await;
        b.select("#topic", "交通出行").await;
        b.fill("#body", "村口的路灯坏了三盏，晚上老人出门不方便。").await;
        b.submit("保存记录").await;
        b.wait_for_path("/m/items/").await;
        assert!(b.text("#item-body").await.contains("路灯坏了三盏"));
        check_page(b, css, "12-recorded").await;

        // 5. Tomorrow's duty offered to 王委员, who accepts in a second session.
        b.goto(&app.url("/m/swaps")).await;
        check_page(b, css, "13-swaps").await;
        b.select(&format!("#to-{}", k.tomorrow), &k.wang.to_string()).await;
        b.submit("发出换班请求").await;
        assert!(b.page_text().await.contains("已发出换班请求"));
        b.screenshot("14-offered").await;
        let lin_cookies = b.client().get_all_cookies().await.unwrap();
        b.client().delete_all_cookies().await.unwrap();
        sign_in(b, &app.address, &k.phones[2]).await;
        assert!(b.text("#unread-count").await == "1", "王委员 is told");
        b.goto(&app.url("/m/notices")).await;
        check_page(b, css, "15-colleague-notices").await;
        b.goto(&app.url("/m/swaps")).await;
        b.submit("接受代班").await;
        assert!(b.page_text().await.contains("已接受换班，等待联络员审批"));
        b.screenshot("16-colleague-accepted").await;
        // Back to 林委员's own session.
        b.client().delete_all_cookies().await.unwrap();
        for cookie in lin_cookies {
            b.client().add_cookie(cookie).await.unwrap();
        }
        b.goto(&app.url("/m/swaps")).await;
        assert!(b.page_text().await.contains("同事已接受，等待联络员审批"), "林委员 sees it accepted");

        // 6. Leave over two days, with its state.
        b.goto(&app.url("/m/leave")).await;
        b.js("document.getElementById('date-from').value = '2026-12-28'; \
              document.getElementById('date-to').value = '2026-12-29'; return null;")
            .await;
        b.fill("#reason", "外出学习").await;
        b.submit("提交请假申请").await;
        assert!(b.text(".leave-status").await.contains("等待审批"));
        check_page(b, css, "17-leave").await;

        // The rest of the pages fit too.
        for (step, path) in [("18-notices", "/m/notices"), ("19-me", "/m/me"), ("20-calendar", "/m/calendar")] {
            b.goto(&app.url(path)).await;
            check_page(b, css, step).await;
        }
    })
    .await;
}
