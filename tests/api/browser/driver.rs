//! The WebDriver harness: Debian's chromium, headless, driven through its chromedriver with
//! fantoccini. One browser test at a time in the whole test process (the machine has two
//! cores); a test may open a second, independent browser session (`Browser::second_session`:
//! its own chromedriver, chromium and cookies) for a second person. Screenshots are kept as
//! test artefacts, and one is taken whenever a browser test fails.
//!
//! ```ignore
//! #[tokio::test]
//! async fn a_page_in_a_phone() {
//!     browser::run("a_page_in_a_phone", PHONE, async |b| {
//!         let app = spawn_app().await;
//!         b.goto(&app.url("/r/kunyang")).await;
//!         b.assert_fits_viewport().await;
//!         b.fill("#body", "路灯不亮").await;
//!         b.submit("提交").await; // clicks, waits for the next page
//!         assert!(b.path().await.starts_with("/r/t/"));
//!         b.screenshot("after").await;
//!     })
//!     .await;
//! }
//! ```
//!
//! Without chromedriver or chromium each test returns early with a line on stderr; with
//! `ZHIBAN_REQUIRE_BROWSER=1` (CI) that is a failure instead.

use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use serde_json::{Value, json};

/// How long an element may take to appear, or a page to reach a path, before a test fails.
pub const WAIT: Duration = Duration::from_secs(10);
/// A browser test that runs longer than this is stuck (a hung driver); it fails with a
/// screenshot instead of hanging the suite.
const TEST_LIMIT: Duration = Duration::from_secs(240);

/// The size of the page the test sees, in CSS pixels.
#[derive(Debug, Clone, Copy)]
pub struct Viewport {
    pub width: u32,
    pub height: u32,
    /// Emulates a phone (`goog:chromeOptions.mobileEmulation`): the page's
    /// `<meta name="viewport">` applies, touch events, a device pixel ratio of 2.
    pub mobile: bool,
    /// The browser's text size in percent of the default (16 px): chromium's own font-size
    /// preference, as a person with weak eyes sets it, so `rem`-sized text follows it.
    pub text_percent: u32,
}

/// A small Android phone, as most residents hold one.
pub const PHONE: Viewport = Viewport { width: 360, height: 740, mobile: true, text_percent: 100 };
/// That phone with its text at 200 %, as many older members set it.
pub const PHONE_LARGE_TEXT: Viewport = Viewport { text_percent: 200, ..PHONE };
/// A tablet on its side, as a venue's display stands.
pub const TABLET: Viewport = Viewport { width: 1280, height: 800, mobile: false, text_percent: 100 };
/// An office computer, for the console.
pub const DESKTOP: Viewport = Viewport { width: 1366, height: 900, mobile: false, text_percent: 100 };

/// One browser test at a time in this process: the tests run on two cores next to the servers.
static ONE_BROWSER: Mutex<()> = Mutex::new(());

/// Where the chromedriver and chromium binaries are.
#[derive(Clone)]
struct Tools {
    chromedriver: PathBuf,
    chromium: PathBuf,
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// `CHROMEDRIVER`, else `chromedriver` on the `PATH`, else Debian's `/usr/bin/chromedriver`;
/// the browser likewise from `CHROMIUM`, `chromium` on the `PATH` or `/usr/bin/chromium`.
fn find_tools() -> Result<Tools, String> {
    let from_env = |var: &str| std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from);
    let chromedriver = match from_env("CHROMEDRIVER") {
        Some(path) if is_executable(&path) => path,
        Some(path) => return Err(format!("CHROMEDRIVER={} is not an executable", path.display())),
        None => on_path(&["chromedriver"])
            .or_else(|| Some(PathBuf::from("/usr/bin/chromedriver")).filter(|p| is_executable(p)))
            .ok_or("chromedriver not found")?,
    };
    let chromium = match from_env("CHROMIUM") {
        Some(path) if is_executable(&path) => path,
        Some(path) => return Err(format!("CHROMIUM={} is not an executable", path.display())),
        None => on_path(&["chromium", "chromium-browser"])
            .or_else(|| Some(PathBuf::from("/usr/bin/chromium")).filter(|p| is_executable(p)))
            .ok_or("chromium not found")?,
    };
    Ok(Tools { chromedriver, chromium })
}

/// Writes straight to the process's stderr, which libtest does not capture.
fn say(line: &str) {
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}

/// Whether a missing browser fails the test (`ZHIBAN_REQUIRE_BROWSER=1`, set by CI).
fn browser_required() -> bool {
    std::env::var("ZHIBAN_REQUIRE_BROWSER").map(|v| !v.is_empty() && v != "0").unwrap_or(false)
}

/// `$ZHIBAN_BROWSER_ARTIFACTS`, else `target/browser-artifacts` in the crate.
pub fn artifacts_dir() -> PathBuf {
    match std::env::var_os("ZHIBAN_BROWSER_ARTIFACTS").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("browser-artifacts"),
    }
}

/// Runs `body` in a fresh headless chromium of the given size, named `test` for its
/// artefacts. Returns without running it (a line on stderr) when no browser is installed,
/// unless `ZHIBAN_REQUIRE_BROWSER=1`. If `body` panics, a screenshot and the page's HTML are
/// saved as `<test>-failure.png` / `.html` before the panic goes on.
pub async fn run(test: &str, viewport: Viewport, body: impl AsyncFnOnce(&Browser)) {
    let tools = match find_tools() {
        Ok(tools) => tools,
        Err(why) if browser_required() => {
            panic!("{why}: browser tests are required here (ZHIBAN_REQUIRE_BROWSER=1)")
        }
        Err(why) => {
            say(&format!("browser tests skipped: {why} (apt-get install chromium chromium-driver) [{test}]"));
            return;
        }
    };
    // Held across the whole test on purpose, awaits included: each test thread has its own
    // runtime, and the others wait their turn for the browser.
    let turn = ONE_BROWSER.lock().unwrap_or_else(PoisonError::into_inner);
    let browser = Browser::launch(test, viewport, &tools, Some(turn)).await;
    let outcome = std::panic::AssertUnwindSafe(tokio::time::timeout(TEST_LIMIT, body(&browser))).catch_unwind().await;
    match outcome {
        Ok(Ok(())) => browser.close().await,
        Ok(Err(_)) => {
            browser.keep_failure().await;
            browser.close().await;
            panic!("browser test {test} still running after {TEST_LIMIT:?}: stuck");
        }
        Err(panic) => {
            browser.keep_failure().await;
            browser.close().await;
            std::panic::resume_unwind(panic);
        }
    }
}

/// A chromedriver this test started, in a process group of its own; on drop its session
/// is ended (chromium quits) and the group is killed.
struct Chromedriver {
    child: Child,
    port: u16,
    session: Option<String>,
}

impl Chromedriver {
    async fn start(path: &Path, log: &Path) -> Self {
        let mut last_log = String::new();
        // A port found free may be taken before chromedriver binds it: try a few.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let log_file = std::fs::File::create(log).expect("chromedriver log file");
            let child = {
                use std::os::unix::process::CommandExt;
                Command::new(path)
                    .arg(format!("--port={port}"))
                    .stdin(Stdio::null())
                    .stdout(log_file.try_clone().unwrap())
                    .stderr(log_file)
                    .process_group(0)
                    .spawn()
                    .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()))
            };
            let mut driver = Chromedriver { child, port, session: None };
            if driver.ready().await {
                return driver;
            }
            last_log = std::fs::read_to_string(log).unwrap_or_default();
        }
        panic!("chromedriver did not start; its log ({}):\n{last_log}", log.display());
    }

    /// Waits for `GET /status` to say ready; false if the driver exited or never did.
    async fn ready(&mut self) -> bool {
        let url = format!("http://127.0.0.1:{}/status", self.port);
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return false;
            }
            if let Ok(res) = client.get(&url).send().await
                && let Ok(status) = res.json::<Value>().await
                && status["value"]["ready"] == true
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Ends a session left open (a test that panicked outside `run`'s care) with a plain
    /// blocking request, so chromium quits before its driver is killed.
    fn end_session_blocking(&mut self) {
        let Some(id) = self.session.take() else { return };
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else { return };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            self.port
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            let _ = stream.read_to_end(&mut Vec::new());
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        self.end_session_blocking();
        // The whole group: chromedriver and any chromium process it left behind.
        let group = format!("-{}", self.child.id());
        let killed = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        if !matches!(killed, Ok(status) if status.success()) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A headless chromium page for one test. Every helper panics with what it was doing on
/// failure, so tests read as a list of steps.
pub struct Browser {
    client: Client,
    test: String,
    viewport: Viewport,
    dir: PathBuf,
    tools: Tools,
    // Dropped in this order: the driver (ending the browser), then the turn (held by the
    // test's first session only).
    driver: Chromedriver,
    _turn: Option<MutexGuard<'static, ()>>,
}

impl Browser {
    /// `turn` (the first session's) is held for the whole test on purpose, awaits included;
    /// each test thread has its own runtime.
    async fn launch(test: &str, viewport: Viewport, tools: &Tools, turn: Option<MutexGuard<'static, ()>>) -> Self {
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("artefacts folder {}: {e}", dir.display()));
        // Artefacts of an earlier run of this test would mislead.
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.strip_prefix(test).is_some_and(|rest| rest.starts_with('-')) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        let mut driver = Chromedriver::start(&tools.chromedriver, &dir.join(format!("{test}-chromedriver.log"))).await;

        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-gpu".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-extensions".to_owned(),
            "--disable-background-networking".to_owned(),
            "--lang=zh-CN".to_owned(),
            format!("--window-size={},{}", viewport.width, viewport.height),
        ];
        if viewport.mobile {
            args.push("--hide-scrollbars".to_owned());
        }
        let mut chrome = json!({ "binary": tools.chromium, "args": args });
        if viewport.text_percent != 100 {
            // The profile's font-size preferences (chrome://settings/fonts): pages sized in
            // `rem` and `em` grow with them, as with a phone browser's text-size setting.
            let px = |base: u32| base * viewport.text_percent / 100;
            chrome["prefs"] = json!({
                "webkit": { "webprefs": { "default_font_size": px(16), "default_fixed_font_size": px(13) } },
            });
        }
        if viewport.mobile {
            chrome["mobileEmulation"] = json!({
                "deviceMetrics": {
                    "width": viewport.width, "height": viewport.height,
                    "pixelRatio": 2.0, "mobile": true, "touch": true,
                },
            });
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), chrome);
        let client = ClientBuilder::rustls()
            .expect("TLS roots for the WebDriver client")
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .unwrap_or_else(|e| {
                let log = std::fs::read_to_string(dir.join(format!("{test}-chromedriver.log"))).unwrap_or_default();
                panic!("no browser session from chromedriver: {e}\nits log:\n{log}")
            });
        driver.session = client.session_id().await.ok().flatten();
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(20)),
                Some(Duration::from_secs(30)),
                Some(Duration::ZERO),
            ))
            .await
            .expect("session timeouts");
        let browser =
            Browser { client, test: test.to_owned(), viewport, dir, tools: tools.clone(), driver, _turn: turn };
        if !viewport.mobile {
            browser.size_viewport().await;
        }
        browser
    }

    /// `--window-size` is the outer window: grows it by what the browser keeps for itself
    /// so the page gets exactly the viewport's size.
    async fn size_viewport(&self) {
        let sizes =
            self.js("return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];").await;
        let extra = |i: usize| u32::try_from(sizes[i].as_u64().unwrap_or(0)).unwrap_or(0);
        let (width, height) = (self.viewport.width + extra(0), self.viewport.height + extra(1));
        self.client
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|e| panic!("window size {width}×{height}: {e}"));
    }

    /// A second browser for another person in the same test (a colleague on their own
    /// phone): its own chromedriver and chromium, so its own cookies and storage; the same
    /// screen size. Its artefacts are named `<test>-<who>-<step>`. Close it with `close`
    /// (dropping it ends it too). Only the test's first session takes the one-test-at-a-time
    /// turn: a test holds it already.
    pub async fn second_session(&self, who: &str) -> Browser {
        Browser::launch(&format!("{}-{who}", self.test), self.viewport, &self.tools, None).await
    }

    /// Ends the session (chromium quits); the driver goes when the browser is dropped.
    pub async fn close(mut self) {
        if self.driver.session.is_some() {
            let _ = self.client.clone().close().await;
            self.driver.session = None;
        }
    }

    /// The screenshot and HTML of the page as the failure left it.
    async fn keep_failure(&self) {
        let mut kept = Vec::new();
        if let Ok(png) = self.client.screenshot().await {
            let path = self.artifact("failure.png");
            if std::fs::write(&path, png).is_ok() {
                kept.push(path);
            }
        }
        if let Ok(html) = self.client.source().await {
            let path = self.artifact("failure.html");
            let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            if std::fs::write(&path, format!("<!-- {url} -->\n{html}")).is_ok() {
                kept.push(path);
            }
        }
        for path in kept {
            say(&format!("browser test {} failed; kept {}", self.test, path.display()));
        }
    }

    fn artifact(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{}-{name}", self.test))
    }

    /// The fantoccini client, for whatever the helpers below do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The page's URL.
    pub async fn url(&self) -> reqwest::Url {
        self.client.current_url().await.expect("current URL")
    }

    /// The page's path with its query, e.g. `/r/t/ABCD-EFGH?new=1`.
    pub async fn path(&self) -> String {
        let url = self.url().await;
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits until the page's path starts with `prefix`; returns the path with its query.
    /// (After a click that navigates, `submit`, `follow` and `click_link` already wait for
    /// the new page; this checks where it is.)
    pub async fn wait_for_path(&self, prefix: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let path = self.path().await;
            if path.starts_with(prefix) {
                return path;
            }
            assert!(Instant::now() < deadline, "the page stayed at {path}, expected {prefix}…");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The first element matching the CSS selector, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        match self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no element {css} on {}: {e}", self.path().await),
        }
    }

    /// Every element matching the CSS selector now (none is fine).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap_or_else(|e| panic!("find {css}: {e}"))
    }

    /// Whether an element matches the CSS selector now.
    pub async fn exists(&self, css: &str) -> bool {
        !self.find_all(css).await.is_empty()
    }

    /// The rendered text of the first element matching `css` (as a user reads it).
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// All the text the page shows.
    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    /// Whether the first element matching `css` is visible: displayed, with an area, and
    /// inside the viewport horizontally.
    pub async fn is_visible(&self, css: &str) -> bool {
        let element = self.find(css).await;
        let shown = element.is_displayed().await.unwrap_or(false);
        let (x, _, w, h) = element.rectangle().await.unwrap_or_else(|e| panic!("rectangle of {css}: {e}"));
        shown && w > 0.0 && h > 0.0 && x >= 0.0 && x + w <= f64::from(self.viewport.width) + 0.5
    }

    /// Types `value` into the input or textarea matching `css`, replacing what was there.
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap_or_else(|e| panic!("clear {css}: {e}"));
        field.send_keys(value).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// The current value of a form field.
    pub async fn value(&self, css: &str) -> String {
        self.find(css).await.prop("value").await.unwrap_or_else(|e| panic!("value of {css}: {e}")).unwrap_or_default()
    }

    /// Picks the option with this value in the `<select>` matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.find(css).await.select_by_value(value).await.unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    /// Clicks the element matching `css` (a radio, a checkbox, a link, a button).
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks the button (or submit input) whose visible label is `label`, e.g. `提交`.
    /// Several with that label: the first.
    pub async fn click_button(&self, label: &str) {
        let xpath = format!(
            "//button[normalize-space(.)={l}] | //input[(@type='submit' or @type='button') and @value={l}]",
            l = xpath_literal(label)
        );
        let button = match self.client.wait().at_most(WAIT).for_element(Locator::XPath(&xpath)).await {
            Ok(button) => button,
            Err(e) => panic!("no button {label} on {}: {e}", self.path().await),
        };
        button.click().await.unwrap_or_else(|e| panic!("click button {label}: {e}"));
    }

    /// Clicks the link whose text is `text` and waits for the page it leads to.
    pub async fn click_link(&self, text: &str) {
        let link = match self.client.wait().at_most(WAIT).for_element(Locator::LinkText(text)).await {
            Ok(link) => link,
            Err(e) => panic!("no link {text} on {}: {e}", self.path().await),
        };
        self.navigating(async { link.click().await.unwrap_or_else(|e| panic!("click link {text}: {e}")) }).await;
    }

    /// Clicks the button labelled `label` and waits for the page the form's answer brings
    /// (even when it is the same address again, as after post/redirect/get).
    pub async fn submit(&self, label: &str) {
        self.navigating(self.click_button(label)).await;
    }

    /// Clicks the element matching `css` and waits for the page it leads to.
    pub async fn follow(&self, css: &str) {
        self.navigating(self.click(css)).await;
    }

    /// Does `action` (a click) and waits until the browser shows a new document, fully
    /// loaded: the old one is marked first, so a reload of the same address counts and a
    /// page still on its way out does not.
    pub async fn navigating(&self, action: impl Future<Output = ()>) {
        self.js("window.zhibanOldDocument = true; return null;").await;
        action.await;
        let deadline = Instant::now() + WAIT;
        loop {
            let state = self
                .client
                .execute("return window.zhibanOldDocument !== true && document.readyState === 'complete';", Vec::new())
                .await;
            // A script may fail while the next document is being committed: not yet.
            if matches!(state, Ok(Value::Bool(true))) {
                return;
            }
            assert!(Instant::now() < deadline, "no new page after the click (still {})", self.path().await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Signs in to the console at `base` (the app's address) through its form, as a person
    /// does; waits to leave the sign-in page and returns where it landed (path and query).
    pub async fn sign_in_to_console(&self, base: &str, phone: &str, password: &str) -> String {
        self.goto(&format!("{base}/console/login")).await;
        self.fill("#phone", phone).await;
        self.fill("#password", password).await;
        self.submit("登录").await;
        let path = self.path().await;
        if path.starts_with("/console/login") {
            let said = match self.find_all(".notice").await.first() {
                Some(notice) => notice.text().await.unwrap_or_default(),
                None => String::new(),
            };
            panic!("sign-in of {phone} stayed on {path}: {said}");
        }
        path
    }

    /// Runs a script in the page (`return …;` gives the value).
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, Vec::new()).await.unwrap_or_else(|e| panic!("script {script}: {e}"))
    }

    /// Checks the page is laid out at the viewport's size (`window.innerWidth`, `innerHeight`) and nothing
    /// makes it scroll sideways (`scrollWidth` within it); names what sticks out if so.
    pub async fn assert_fits_viewport(&self) {
        let layout = self
            .js(
                "const w = window.innerWidth;
                 const wide = [...document.querySelectorAll('body *')]
                   .filter(e => e.getBoundingClientRect().right > w + 0.5)
                   .slice(0, 5)
                   .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));
                 return { inner: w, innerHeight: window.innerHeight, scroll: document.documentElement.scrollWidth, wide };",
            )
            .await;
        let path = self.path().await;
        assert_eq!(layout["inner"], self.viewport.width, "page width of {path}: {layout}");
        assert_eq!(layout["innerHeight"], self.viewport.height, "page height of {path}: {layout}");
        assert!(
            layout["scroll"].as_u64().unwrap() <= u64::from(self.viewport.width),
            "{path} is wider than the {}-px screen: {layout}",
            self.viewport.width
        );
    }

    /// Saves a screenshot of the viewport as `<test>-<step>.png` in the artefacts folder.
    pub async fn screenshot(&self, step: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap_or_else(|e| panic!("screenshot {step}: {e}"));
        self.keep(step, &png)
    }

    /// Saves a screenshot of one element as `<test>-<step>.png`; returns the PNG too (to
    /// read a QR code from what the screen shows, say).
    pub async fn screenshot_of(&self, css: &str, step: &str) -> Vec<u8> {
        let element = self.find(css).await;
        let png = element.screenshot().await.unwrap_or_else(|e| panic!("screenshot of {css}: {e}"));
        self.keep(step, &png);
        png
    }

    fn keep(&self, step: &str, png: &[u8]) -> PathBuf {
        let path = self.artifact(&format!("{step}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("save {}: {e}", path.display()));
        path
    }

    /// The browser's cookies for the current page as a `Cookie` request header.
    pub async fn cookie_header(&self) -> String {
        let cookies = self.client.get_all_cookies().await.expect("cookies");
        cookies.iter().map(|c| format!("{}={}", c.name(), c.value())).collect::<Vec<_>>().join("; ")
    }

    /// Fetches what the link matching `css` points to, outside the browser but with the
    /// browser's cookies (its session), as a download: for files the browser would save.
    pub async fn download(&self, css: &str) -> Download {
        let href = self
            .find(css)
            .await
            .attr("href")
            .await
            .unwrap_or_else(|e| panic!("href of {css}: {e}"))
            .unwrap_or_else(|| panic!("{css} has no href"));
        let url = self.url().await.join(&href).unwrap_or_else(|e| panic!("link {href}: {e}"));
        self.fetch(url.as_str()).await
    }

    /// GETs `url` with the browser's cookies, outside the browser.
    pub async fn fetch(&self, url: &str) -> Download {
        let res = reqwest::Client::new()
            .get(url)
            .header(reqwest::header::COOKIE, self.cookie_header().await)
            .send()
            .await
            .unwrap_or_else(|e| panic!("download {url}: {e}"));
        let header = |name: reqwest::header::HeaderName| {
            res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
        };
        let (status, content_type, disposition) = (
            res.status().as_u16(),
            header(reqwest::header::CONTENT_TYPE),
            header(reqwest::header::CONTENT_DISPOSITION),
        );
        let bytes = res.bytes().await.unwrap_or_else(|e| panic!("download {url}: {e}")).to_vec();
        Download { status, content_type, disposition, bytes }
    }

    /// Waits until `check` holds (polling every 250 ms), for at most `limit`; panics with
    /// `what` otherwise. For what a page does by itself (reloading, say), not for timing.
    pub async fn wait_until<F, Fut>(&self, limit: Duration, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let deadline = Instant::now() + limit;
        while !check().await {
            assert!(Instant::now() < deadline, "waited {limit:?} for {what}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// A file fetched with the browser's session.
#[derive(Debug)]
pub struct Download {
    pub status: u16,
    pub content_type: String,
    /// The `Content-Disposition` header (`attachment; filename=…`), empty if none.
    pub disposition: String,
    pub bytes: Vec<u8>,
}

/// `s` as an XPath string literal (XPath 1.0 has no escapes: quotes are concatenated).
fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}
