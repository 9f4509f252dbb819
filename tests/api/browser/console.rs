//! The console in an office browser, as a township coordinator uses it: signs in through the
//! form, approves a swap, grades a resident's item, downloads the period's XLSX, signs out.
//! Checked by what the pages show and what the API then says is stored.

use std::io::Cursor;

use calamine::{Reader, Xlsx, open_workbook_from_rs};
use serde_json::Value;

use super::{DESKTOP, PHONE, run};
use crate::console::console_case;
use crate::helpers::{PASSWORD, november_2026, spawn_app_at};

#[tokio::test]
async fn a_coordinator_approves_grades_and_exports_in_the_console() {
    run("console_coordinator", DESKTOP, async |b| {
        let app = spawn_app_at(november_2026()).await;
        let case = console_case(&app).await;
        let admin = &case.k.admin;

        let landed = b.sign_in_to_console(&app.address, &case.coordinator_phone, PASSWORD).await;
        assert!(landed.starts_with("/console/roster"), "{landed}");
        assert!(b.text("header .who").await.contains("联络员甲"));
        b.assert_fits_viewport().await;
        b.screenshot("01-roster").await;

        // Approvals: the own studio's swap only, approved with its button.
        b.click_link("审批").await;
        b.wait_for_path("/console/requests").await;
        let (own, other) = (case.swaps[0], case.swaps[1]);
        assert!(b.is_visible(&format!("#swap-{own}")).await);
        assert!(!b.exists(&format!("#swap-{other}")).await, "another studio's swap is not shown");
        b.screenshot("02-requests").await;
        b.follow(&format!("#swap-{own} button.primary")).await;
        b.wait_for_path("/console/requests").await;
        assert!(!b.exists(&format!("#swap-{own}")).await, "an approved swap leaves the list");
        let swaps: Value = app.get("/api/v1/swap-requests", admin).await.json().await.unwrap();
        let swap = swaps["items"].as_array().unwrap().iter().find(|s| s["id"] == own).unwrap();
        assert_eq!(swap["status"], "approved", "{swap}");

        // The triage board: the studio's item, its text shown as text, graded by the matrix.
        b.click_link("事项").await;
        b.wait_for_path("/console/items").await;
        let (item_id, _) = &case.items[0];
        assert!(!b.exists(&format!("#item-{}", case.items[1].0)).await, "another studio's item is not shown");
        b.screenshot("03-items").await;
        b.follow(&format!("#item-{item_id}")).await;
        b.wait_for_path(&format!("/console/items/{item_id}")).await;
        assert_eq!(b.text(".body").await, "路灯坏了三盏<script>alert(1)</script>");
        assert_eq!(b.text("#item-tier").await, "待分级");
        b.select("#importance", "important").await;
        b.select("#difficulty", "hard").await;
        b.fill("#note", "请城管核实").await;
        b.submit("确定分级").await;
        b.wait_for_path(&format!("/console/items/{item_id}")).await;
        assert_eq!(b.text("#item-tier").await, "三级 · 督办");
        b.screenshot("04-item-graded").await;
        let item: Value = app.get(&format!("/api/v1/items/{item_id}"), admin).await.json().await.unwrap();
        assert_eq!((item["tier"].as_i64(), item["importance"].as_str()), (Some(3), Some("important")), "{item}");

        // The report and its XLSX, fetched with the browser's session.
        b.click_link("统计").await;
        b.wait_for_path("/console/reports").await;
        b.screenshot("05-report").await;
        let xlsx = b.download("#export-members-xlsx").await;
        assert_eq!(xlsx.status, 200);
        assert_eq!(xlsx.content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        assert!(xlsx.disposition.starts_with("attachment;") && xlsx.disposition.contains(".xlsx"), "{xlsx:?}");
        // The workbook lists the members the page lists.
        let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(xlsx.bytes)).expect("a readable workbook");
        let sheet = workbook.sheet_names().first().cloned().expect("a sheet");
        let cells: Vec<String> =
            workbook.worksheet_range(&sheet).unwrap().rows().flatten().map(|cell| cell.to_string()).collect();
        let mut listed = Vec::new();
        for row in b.find_all("#member-table tbody th").await {
            listed.push(row.text().await.unwrap());
        }
        assert!(!listed.is_empty(), "the report lists the studio's members");
        for name in &listed {
            assert!(cells.contains(name), "{name} is on the page but not in the XLSX: {cells:?}");
        }

        // Signing out ends the session: the console sends the browser back to the form.
        b.submit("退出").await;
        b.wait_for_path("/console/login").await;
        b.goto(&app.url("/console/items")).await;
        b.wait_for_path("/console/login").await;
    })
    .await;
}

/// The same console on a phone: every page fits the 360-px screen (wide tables scroll inside
/// their own box), and the coordinator can still grade an item there.
#[tokio::test]
async fn the_console_fits_a_phone() {
    run("console_phone", PHONE, async |b| {
        let app = spawn_app_at(november_2026()).await;
        let case = console_case(&app).await;
        b.sign_in_to_console(&app.address, &case.coordinator_phone, PASSWORD).await;
        let (item_id, _) = &case.items[0];
        for (step, path) in [
            ("01-roster", "/console/roster?month=2026-12".to_owned()),
            ("02-requests", "/console/requests".to_owned()),
            ("03-items", "/console/items".to_owned()),
            ("04-report", "/console/reports?period=2026-Q4".to_owned()),
            ("05-item", format!("/console/items/{item_id}")),
        ] {
            b.goto(&app.url(&path)).await;
            b.wait_for_path(path.split('?').next().unwrap()).await;
            b.assert_fits_viewport().await;
            b.screenshot(step).await;
        }
        // The last page is the item's: grade it from the phone.
        b.select("#importance", "normal").await;
        b.select("#difficulty", "easy").await;
        b.submit("确定分级").await;
        b.wait_for_path(&format!("/console/items/{item_id}")).await;
        assert_eq!(b.text("#item-tier").await, "一级 · 即办");
    })
    .await;
}

/// The office's 节假日 page on a phone: the banner asks for next year, the form fits the
/// screen, and a year typed as lines is saved and takes the banner away.
#[tokio::test]
async fn the_office_enters_a_holiday_calendar_on_a_phone() {
    run("console_calendar", PHONE, async |b| {
        let app = spawn_app_at(november_2026()).await;
        let c = app.committee("calb", "63").await;
        b.sign_in_to_console(&app.address, &c.admin_phone, PASSWORD).await;
        b.goto(&app.url("/console/calendar")).await;
        b.wait_for_path("/console/calendar").await;
        assert!(b.exists("#calendar-missing-2026").await, "no calendar at all: this year is asked for");
        b.assert_fits_viewport().await;
        b.screenshot("01-calendar").await;
        b.fill("#year", "2026").await;
        b.fill("#holidays", "2026-01-01 元旦\n2026-10-01 国庆节").await;
        b.fill("#adjusted", "2026-10-10").await;
        b.submit("保存该年安排").await;
        b.wait_for_path("/console/calendar").await;
        assert!(b.page_text().await.contains("2026 年节假日安排已保存"));
        assert!(!b.exists("#calendar-missing-2026").await, "the banner for 2026 is gone");
        b.screenshot("02-saved").await;
    })
    .await;
}
