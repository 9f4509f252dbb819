//! Real browser end to end: Debian's headless chromium, driven through chromedriver
//! (WebDriver, with fantoccini), on the real server over a fresh database. The pages are
//! used as people use them — typed into, clicked, read — and checked by what they show and
//! what is stored. Screenshots go to `target/browser-artifacts/` (`ZHIBAN_BROWSER_ARTIFACTS`).
//! Without chromium and chromium-driver these tests say so on stderr and pass, unless
//! `ZHIBAN_REQUIRE_BROWSER=1` (CI).

mod console;
mod display;
pub mod driver;
mod member;
mod notice_sms;
mod resident;

pub use driver::{Browser, DESKTOP, PHONE, PHONE_LARGE_TEXT, TABLET, run};
