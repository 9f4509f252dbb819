//! Secrets that travel in a path or query never reach the logs or the metrics.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use tracing_subscriber::fmt::format::FmtSpan;

use crate::helpers::spawn_app;

/// Everything the process logs, from every test in this binary (the server's workers run on
/// their own threads, so only a global subscriber sees their spans).
fn captured() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("info")
            .with_span_events(FmtSpan::CLOSE)
            .with_ansi(false)
            .with_writer(move || Capture(sink.clone()))
            .finish();
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
        if routes.iter().all(|r| text.contains(&format!("http.route={r}"))) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!text.contains(secret), "a secret from a path reached the log");
    for route in routes {
        assert!(text.contains(&format!("http.route={route}")), "the log names the route {route}");
    }
    assert!(metrics.contains("unmatched"), "unmatched paths are counted under one label");
    assert!(!metrics.contains(secret), "a secret from a path reached the metrics");
}
