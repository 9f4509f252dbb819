//! Secrets that travel in a path or query never reach the logs or the metrics.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;
use zhiban::config::LogFormat;

use crate::helpers::spawn_app;

/// Everything the process logs, from every test in this binary (the server's workers run on
/// their own threads, so only a global subscriber sees their spans).
fn captured() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        // The server's own subscriber, as `zhiban serve` installs it with ZHIBAN_LOG_FORMAT=json.
        let subscriber = zhiban::telemetry::subscriber(LogFormat::Json, move || Capture(sink.clone()));
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber in the tests");
        logs
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn paths_carrying_secrets_are_logged_by_route_only() {
    let logs = captured();
    let app = spawn_app().await;
    let secret = "Sekr1tTokenQ7xZ";
    let paths = [
        format!("/ical/{secret}.ics"),
        format!("/h/{secret}"),
        format!("/r/t/{secret}"),
        format!("/display/some-venue?device={secret}"),
        format!("/no/such/route/{secret}"),
    ];
    for path in &paths {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert!(res.status().is_client_error(), "{path} answers {}", res.status());
    }
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();

    // A span closes just after its response has gone; the log must show each (so this test can
    // fail) but never the secret.
    let routes = ["/ical/{file}", "/h/{token}", "/r/t/{code}", "/display/{venue_code}", "unmatched"];
    let mut text = String::new();
    for _ in 0..100 {
        text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
        if routes.iter().all(|r| text.contains(&format!(r#""http.route":"{r}""#))) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!text.contains(secret), "a secret from a path reached the log");
    for route in routes {
        assert!(text.contains(&format!(r#""http.route":"{route}""#)), "the log names the route {route}");
    }
    assert!(metrics.contains("unmatched"), "unmatched paths are counted under one label");
    assert!(!metrics.contains(secret), "a secret from a path reached the metrics");
}

#[tokio::test]
async fn every_request_is_logged_once_it_is_answered() {
    let logs = captured();
    let app = spawn_app().await;
    let res = app.client.get(app.url("/ready")).send().await.unwrap();
    assert_eq!(res.status(), 200);

    // The request span's close line: method, route, status and the time it took.
    let mut found = None;
    for _ in 0..100 {
        let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
        found = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["message"] == "close" && l["span"]["http.route"] == "/ready");
        if found.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let line = found.expect("a successful request has its line in the log");
    assert_eq!(line["span"]["http.method"], "GET");
    assert_eq!(line["span"]["http.status_code"], 200);
    assert!(line["time.busy"].is_string(), "{line}");
    assert!(line["span"]["request_id"].as_str().is_some_and(|id| !id.is_empty()), "a request id: {line}");
}
