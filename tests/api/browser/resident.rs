//! The resident's page behind a venue's printed QR, in a 360-px phone: it fits, the form is
//! filled in and sent like a person does it, a mistake is shown and corrected, and the
//! tracking page follows; the coordinator then finds exactly what was typed.

use super::{PHONE, run};
use crate::helpers::spawn_app;
use crate::items::{item_by_code, office};

const TEXT: &str = "村口公交站没有遮雨棚，老人下雨天等车很不方便，希望加装。";

#[tokio::test]
async fn a_resident_submits_from_a_phone_and_gets_a_tracking_page() {
    run("resident_submits_from_a_phone", PHONE, async |b| {
        let app = spawn_app().await;
        let o = office(&app).await;

        b.goto(&app.url(&format!("/r/{}", o.venue_code))).await;
        assert_eq!(b.text("h1").await, "昆阳镇委员工作室");
        b.assert_fits_viewport().await;
        assert!(b.is_visible("button[type=submit]").await, "the submit button is on the screen");
        b.screenshot("01-form").await;

        // A consultation about transport, with a name and phone; the consent box forgotten.
        b.click("input[name=kind][value=consultation]").await;
        b.select("#topic", "交通出行").await;
        b.fill("#body", TEXT).await;
        b.fill("#name", "李阿姨").await;
        b.fill("#phone", "13900001111").await;
        b.screenshot("02-filled").await;
        b.submit("提交").await;

        // The form comes back with the message, and nothing typed is lost.
        assert_eq!(b.text(".notice").await, "请检查标红的项目");
        assert_eq!(b.text(".error").await, "请勾选同意后提交");
        assert_eq!(b.value("#body").await, TEXT);
        assert_eq!(b.value("#phone").await, "13900001111");
        assert_eq!(b.value("#topic").await, "交通出行");
        assert!(b.exists("input[name=kind][value=consultation]:checked").await);
        b.assert_fits_viewport().await;
        b.screenshot("03-consent-missing").await;

        b.click("#consent").await;
        b.submit("提交").await;
        let path = b.wait_for_path("/r/t/").await;

        // The tracking page: the code of its address (printed `ABCD-EFGH` for reading), the
        // text as typed, nothing personal.
        let code = b.text(".code").await;
        assert!(path.starts_with(&format!("/r/t/{}?", code.replace('-', ""))), "{path} shows {code}");
        assert!(b.text(".ok").await.contains("提交成功"));
        let page = b.page_text().await;
        assert!(page.contains(TEXT) && page.contains("咨询") && page.contains("交通出行"), "{page}");
        assert!(!page.contains("13900001111") && !page.contains("李阿姨"), "no personal data on the page");
        b.assert_fits_viewport().await;
        b.screenshot("04-tracking").await;

        // Stored as typed, with the contact the coordinator needs.
        let item = item_by_code(&app, &o.coordinator, &code).await;
        assert_eq!(item["body"], TEXT, "{item}");
        assert_eq!(item["kind"], "consultation");
        assert_eq!(item["topic"], "交通出行");
        assert_eq!(item["resident"]["name"], "李阿姨");
        assert_eq!(item["resident"]["phone"], "13900001111");
        assert_eq!(item["state"], "received");
    })
    .await;
}
