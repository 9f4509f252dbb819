//! The venue's display page on a tablet: the venue, a QR code a phone can read off the
//! screen, who is on duty; and, as its documentation says, it reloads itself when the code
//! changes, showing the new code and who has checked in meanwhile.

use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};
use zhiban::checkin::code::ScannedCode;

use super::{Browser, TABLET, run};
use crate::checkin::duty;
use crate::helpers::spawn_app;

/// The QR code read back from a screenshot of what the page shows, as a phone's camera would.
async fn qr_on_screen(b: &Browser, step: &str) -> String {
    let png = b.screenshot_of("#qr", step).await;
    let image = image::load_from_memory(&png).expect("screenshot is a PNG").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the screen");
    grids[0].decode().expect("the QR code on the screen reads").1
}

fn step_of(payload: &str) -> i64 {
    match ScannedCode::parse(payload) {
        Some(ScannedCode::Display { step, .. }) => step,
        other => panic!("not a display code: {payload} ({other:?})"),
    }
}

#[tokio::test]
async fn the_display_page_shows_a_readable_code_and_reloads_itself_with_the_next() {
    run("display_page_on_a_tablet", TABLET, async |b| {
        let app = spawn_app().await;
        let c = app.committee("screen", "58").await;
        let admin = app.token(&c.admin_phone).await;
        let venue = app.venue(&admin, "screen-a", "萧江镇委员工作室").await;
        let member =
            app.member(&admin, json!({ "name": "值班委员", "phone": c.phone(1), "home_venue_id": venue })).await;
        let member_token = app.token(&c.phone(1)).await;
        duty(&app, c.id, venue, member, -10, 60).await;
        let res =
            app.post(&format!("/api/v1/venues/{venue}/display-devices"), &admin, json!({ "name": "大厅平板" })).await;
        assert_eq!(res.status(), 201);
        let device: Value = res.json().await.unwrap();

        // The tablet opens the link the admin was given.
        b.goto(device["display_url"].as_str().unwrap()).await;
        assert_eq!(b.text("h1").await, "萧江镇委员工作室");
        assert!(b.page_text().await.contains("委员请用手机扫码签到"));
        assert!(b.is_visible("#qr svg").await, "the QR code is on the screen");
        let (_, _, width, height) = b.find("#qr svg").await.rectangle().await.unwrap();
        assert!(width >= 200.0 && height >= 200.0, "a QR code big enough to scan: {width}×{height}");
        assert_eq!(b.text("ul li").await, "值班委员 ⏳ 未签到");
        b.assert_fits_viewport().await;
        // On a tablet on its side the duty list stands beside the code, not below the fold.
        let (_, y, _, h) = b.find("ul li").await.rectangle().await.unwrap();
        assert!(y + h <= f64::from(TABLET.height), "the duty list is on screen: it ends at {}", y + h);
        b.screenshot("01-display").await;

        // What a phone reads off the screen is the page's current code, and it checks in.
        let first = qr_on_screen(b, "02-qr").await;
        // The QR holds the member pages' address, so a phone's camera opens the check-in.
        assert!(first.starts_with(&format!("{}/m/c/ZB1.screen-a.", app.address)), "{first}");
        assert_eq!(b.find("#qr").await.attr("data-payload").await.unwrap().as_deref(), Some(first.as_str()));
        let scan = app
            .post(
                "/api/v1/checkins",
                &member_token,
                json!({ "payload": first, "nonce": "display-browser-test-01", "scanned_at": Utc::now().to_rfc3339() }),
            )
            .await;
        assert_eq!(scan.status(), 200);
        let scan: Value = scan.json().await.unwrap();
        assert_eq!(scan["outcome"], "ok", "{scan}");

        // The page reloads itself when the code changes (at most 30 s away): marked now, the
        // mark is gone after a real reload; nobody navigates.
        let refresh: u64 = b
            .find("meta[http-equiv=refresh]")
            .await
            .attr("content")
            .await
            .unwrap()
            .expect("a refresh delay")
            .parse()
            .expect("seconds");
        assert!((1..=30).contains(&refresh), "reloads before the code changes: {refresh}");
        b.js("window.zhibanNotReloaded = true; return null;").await;
        b.wait_until(Duration::from_secs(refresh + 30), "the page to reload itself with a new code", || async {
            let state = b
                .client()
                .execute(
                    "return window.zhibanNotReloaded === true ? null \
                     : (document.querySelector('#qr') || {dataset: {}}).dataset.payload || null;",
                    Vec::new(),
                )
                .await;
            matches!(state, Ok(Value::String(payload)) if payload != first)
        })
        .await;
        assert_eq!(b.path().await, format!("/display/screen-a?device={}", device["token"].as_str().unwrap()));

        // The next code, readable again, and the member shown as checked in.
        b.find("#qr svg").await;
        let second = qr_on_screen(b, "03-qr-after-reload").await;
        assert_eq!(b.find("#qr").await.attr("data-payload").await.unwrap().as_deref(), Some(second.as_str()));
        assert!(step_of(&second) > step_of(&first), "{first} then {second}");
        assert_eq!(b.text("ul li").await, "值班委员 ✅ 已签到");
        b.screenshot("04-after-reload").await;
    })
    .await;
}
