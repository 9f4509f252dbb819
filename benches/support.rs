//! The load loop of the HTTP benchmarks: a fixed number of requests over a number of
//! concurrent workers, with per-request latencies, and the figures printed the same way.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct Figures {
    pub label: String,
    pub requests: usize,
    pub errors: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
}

impl Figures {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        sorted.get(((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1)).copied().unwrap_or_default()
    }

    pub fn print(&self, baseline: Option<&Figures>) {
        let ratio = baseline
            .map(|b| format!("  {:>5.1}% of /health", 100.0 * self.per_second() / b.per_second()))
            .unwrap_or_default();
        println!(
            "{:<28} {:>7} req  {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}{}",
            self.label,
            self.requests,
            self.per_second(),
            self.percentile(0.50).as_secs_f64() * 1e3,
            self.percentile(0.99).as_secs_f64() * 1e3,
            self.errors,
            ratio
        );
    }
}

/// Runs `requests` calls of `call(i)` over `concurrency` workers; `call` returns whether the
/// answer was a success.
pub async fn load<F, Fut>(label: &str, requests: usize, concurrency: usize, call: F) -> Figures
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let call = Arc::new(call);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (call, next) = (call.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    break;
                }
                let t = Instant::now();
                if !call(i).await {
                    errors += 1;
                }
                latencies.push(t.elapsed());
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::with_capacity(requests);
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    Figures { label: label.to_owned(), requests, errors, elapsed: started.elapsed(), latencies }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(256).build().unwrap()
}
