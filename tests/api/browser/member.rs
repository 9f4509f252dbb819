//! A member's reception day on a 360×740 phone with touch, end to end: signs in and sees
//! today's duty; reads the QR code off the venue's display page as a camera would (decoded
//! from a screenshot with rqrr), opens it, checks in and sees 已签到 on the phone and on the
//! display; takes and answers a resident's consultation in two paragraphs; records an opinion
//! heard in person; offers tomorrow's duty to a colleague, who accepts on their own phone (a
//! second browser session, with its own cookies); asks for leave. Every page fits the screen
//! and its budget, its tap targets are at least 44 px and its fields have labels; each is kept
//! as a screenshot. The same pages again with the browser's text at 200 %. The server's clock
//! starts at 09:00 on the reception day (25 December 2026, Asia/Shanghai).

use serde_json::Value;

use super::{Browser, PHONE, PHONE_LARGE_TEXT, run};
use crate::helpers::{PASSWORD, spawn_app_at};
use crate::items::submit_json;
use crate::member_pages::{KUNYANG_ADDRESS, PAGE_BUDGET_BYTES, reception, reception_morning};

/// The smallest tap target the issue allows, in CSS pixels.
const TAP_TARGET_PX: f64 = 44.0;

/// The QR code read back from a screenshot of the display page, as a phone's camera would.
async fn qr_on_screen(b: &Browser, step: &str) -> String {
    let png = b.screenshot_of("#qr", step).await;
    let image = image::load_from_memory(&png).expect("screenshot is a PNG").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the screen");
    grids[0].decode().expect("the QR code on the screen reads").1
}

/// Every control on the page a finger can reach is at least 44 × 44 px (a checkbox or radio
/// counts with its label, which takes the tap too). A link inside a sentence is exempt, as
/// WCAG 2.5.8 exempts inline targets: there is one, the console link for coordinators on the
/// sign-in page.
async fn assert_tap_targets(b: &Browser, step: &str) {
    let small = b
        .js(&format!(
            "const min = {TAP_TARGET_PX} - 0.5;
             const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' + (e.textContent || e.name || '').trim().slice(0, 12);
             return [...document.querySelectorAll('a[href], button, select, textarea, input:not([type=hidden])')]
               .filter(e => e.getClientRects().length > 0)
               .filter(e => !(e.tagName === 'A' && [...e.parentNode.childNodes]
                   .some(n => n.nodeType === 3 && n.textContent.trim() !== '')))
               .map(e => [e, e.matches('input[type=radio], input[type=checkbox]') && e.closest('label') ? e.closest('label') : e])
               .map(([e, t]) => [e, t.getBoundingClientRect()])
               .filter(([e, r]) => r.width < min || r.height < min)
               .map(([e, r]) => name(e) + ': ' + Math.round(r.width) + '×' + Math.round(r.height));"
        ))
        .await;
    assert_eq!(small, serde_json::json!([]), "{step}: tap targets under {TAP_TARGET_PX} px");
}

/// Every field a member fills in has a real `<label>` with words in it.
async fn assert_fields_labelled(b: &Browser, step: &str) {
    let unlabelled = b
        .js("return [...document.querySelectorAll('select, textarea, input:not([type=hidden])')]
               .filter(e => ![...(e.labels || [])].some(l => l.textContent.trim() !== ''))
               .map(e => e.tagName.toLowerCase() + '#' + e.id + ' ' + e.name);")
        .await;
    assert_eq!(unlabelled, serde_json::json!([]), "{step}: fields without a label");
}

/// The page fits the phone, is within its budget (HTML and stylesheet), its controls are
/// large enough and labelled, and it is kept.
async fn check_page(b: &Browser, css_bytes: usize, step: &str) {
    b.assert_fits_viewport().await;
    assert_tap_targets(b, step).await;
    assert_fields_labelled(b, step).await;
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
        assert!(duty.contains(&format!("地址：{KUNYANG_ADDRESS}")), "where to go: {duty}");
        check_page(b, css, "02-today").await;

        // 2. The venue's display: its QR code, read off the screen, opens the check-in.
        b.goto(&k.display_url).await;
        b.screenshot("03-display").await;
        let scanned = qr_on_screen(b, "04-display-qr").await;
        assert!(scanned.starts_with(&format!("{}/m/c/ZB1.mp-kunyang.", app.address)), "{scanned}");
        b.goto(&scanned).await;
        assert_eq!(b.text("#scan-venue").await, "昆阳镇委员工作室");
        assert_eq!(b.text("#scan-address").await, KUNYANG_ADDRESS);
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
        // 王委员, on his own phone: a second browser with its own cookies; 林委员's stays signed in.
        let wang = b.second_session("colleague").await;
        wang.goto(&app.url("/m")).await;
        wang.wait_for_path("/m/login").await;
        sign_in(&wang, &app.address, &k.phones[2]).await;
        assert_eq!(wang.text("#unread-count").await, "1", "王委员 is told");
        assert!(wang.text("header .who").await.contains("王委员"));
        assert_ne!(wang.cookie_header().await, b.cookie_header().await, "two phones, two sessions");
        wang.goto(&app.url("/m/notices")).await;
        check_page(&wang, css, "15-notices").await;
        wang.goto(&app.url("/m/swaps")).await;
        check_page(&wang, css, "16-offer").await;
        wang.submit("接受代班").await;
        assert!(wang.page_text().await.contains("已接受换班，等待联络员审批"));
        check_page(&wang, css, "17-accepted").await;
        wang.close().await;
        // Meanwhile 林委员's phone never signed out: the same session sees the answer.
        assert!(b.text("header .who").await.contains("林委员"));
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
        check_page(b, css, "18-leave").await;

        // The rest of the pages fit too.
        for (step, path) in [("19-notices", "/m/notices"), ("20-me", "/m/me"), ("21-calendar", "/m/calendar")] {
            b.goto(&app.url(path)).await;
            check_page(b, css, step).await;
        }
    })
    .await;
}

/// The member pages with the browser's text at 200 % on the 360-px phone (chromium's font-size
/// preference at 32 px, so the pages' `rem` sizes double): nothing scrolls sideways, tap targets
/// stay at least 44 px, fields keep their labels. Every page, each kept as a screenshot.
#[tokio::test]
async fn the_member_pages_at_200_percent_text_size() {
    run("member_large_text", PHONE_LARGE_TEXT, async |b| {
        let app = spawn_app_at(reception_morning()).await;
        let k = reception(&app).await;
        let css = app.client.get(app.url("/m/static/m.css")).send().await.unwrap().text().await.unwrap().len();
        let item = submit_json(
            &app,
            serde_json::json!({ "venue_code": k.venue_code, "kind": "consultation", "topic": "养老托育",
                                "body": "请问村里的老年食堂什么时候开？行动不便的老人能不能送餐上门？", "consent": true }),
        )
        .await;
        assert_eq!(item.status(), 201);

        b.goto(&app.url("/m/login")).await;
        let root = b.js("return getComputedStyle(document.documentElement).fontSize;").await;
        assert_eq!(root, "32px", "the browser's text is at 200 %");
        let check = async |step: &str| {
            b.assert_fits_viewport().await;
            let widths = b
                .js("return [document.documentElement.scrollWidth, document.documentElement.clientWidth];")
                .await;
            assert!(widths[0].as_u64() <= widths[1].as_u64(), "{step}: scrollWidth > clientWidth: {widths}");
            assert_tap_targets(b, step).await;
            assert_fields_labelled(b, step).await;
            b.screenshot(step).await;
        };
        check("01-sign-in").await;
        sign_in(b, &app.address, &k.phones[0]).await;
        assert!(b.text(&format!("#duty-{}", k.today[0])).await.contains(KUNYANG_ADDRESS));
        check("02-today").await;

        let res = app
            .client
            .get(app.url(&format!("/api/v1/venues/{}/display-code?device={}", k.venue, k.device_token)))
            .send()
            .await
            .unwrap();
        let scan_url = res.json::<Value>().await.unwrap()["url"].as_str().unwrap().to_owned();
        b.goto(&scan_url).await;
        assert_eq!(b.text("#scan-address").await, KUNYANG_ADDRESS);
        check("03-scan").await;
        b.submit("签到").await;
        assert_eq!(b.text("#scan-outcome").await, "已签到");
        check("04-checked-in").await;

        b.goto(&app.url("/m/inbox")).await;
        check("05-inbox").await;
        b.follow("section.card h3 a").await;
        check("06-item").await;
        for (step, path) in [
            ("07-record", "/m/record"),
            ("08-swaps", "/m/swaps"),
            ("09-leave", "/m/leave"),
            ("10-notices", "/m/notices"),
            ("11-me", "/m/me"),
            ("12-calendar", "/m/calendar"),
        ] {
            b.goto(&app.url(path)).await;
            check(step).await;
        }
        // Within the budget still: text size changes nothing that is sent.
        let html = b.js("return new Blob([document.documentElement.outerHTML]).size;").await.as_u64().unwrap() as usize;
        assert!(html + css <= PAGE_BUDGET_BYTES);
    })
    .await;
}
