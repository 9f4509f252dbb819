//! Delivery: claim due rows in the database, POST them signed to the committee's webhook (or,
//! for channel rows, to the robot or SMS provider: [`super::channels::send`]),
//! record the outcome. Safe with several instances (and several threads) on one database:
//! a row is delivered by whoever wins its conditional `UPDATE`, and only by them.
//!
//! Delivery is at least once: an instance that dies after the receiver answered but before
//! the row is marked delivered leaves a claim that lapses after [`LEASE`], and the row is
//! sent again. Receivers deduplicate on `X-Zhiban-Delivery`.

use std::time::Duration;

use chrono::{NaiveDateTime, SecondsFormat};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::{DbConnection, DbPool};
use crate::egress::{Egress, Outbound};
use crate::schema::{committees, notice_channels, outbox};

/// How long a claim holds a row: longer than a whole batch of deliveries at the HTTP timeout.
pub const LEASE: Duration = Duration::from_secs(300);
/// Per request, connection included.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Rows one worker claims at a time (delivered one after the other: 10 × 10 s < [`LEASE`]).
pub const BATCH: i64 = 10;
/// How often the background loop looks for due rows.
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// How often the background loop queues reminders.
pub const REMINDER_INTERVAL: Duration = Duration::from_secs(60);

/// When to try again and when to give up.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Failed attempts after which a row is dead-lettered (`status = dead`).
    pub max_attempts: i32,
    /// Delay after the first failure; it doubles with each further failure…
    pub base: Duration,
    /// …up to this.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    /// 30 s, 1, 2, 4 … min, then hourly: 12 attempts span about five hours, enough to ride
    /// out a bridge restart or an evening outage before an admin has to step in.
    fn default() -> Self {
        Self { max_attempts: 12, base: Duration::from_secs(30), cap: Duration::from_secs(3600) }
    }
}

impl RetryPolicy {
    /// Delay after the `attempts`-th failure: `base · 2^(attempts−1)`, capped, plus up to 10 %
    /// jitter derived from the row id (deterministic; spreads a burst of failures).
    pub fn backoff(&self, attempts: i32, id: i64) -> chrono::Duration {
        let doublings = (attempts.max(1) - 1).min(30) as u32;
        let delay = self.base.as_secs().saturating_mul(1u64 << doublings).min(self.cap.as_secs());
        let jitter = delay * (id.unsigned_abs().wrapping_mul(2_654_435_761) % 101) / 1000;
        chrono::Duration::seconds((delay + jitter) as i64)
    }
}

/// A claimed row, as the worker needs it.
#[derive(Debug, Clone, Queryable)]
pub struct OutboxRow {
    pub id: i64,
    pub committee_id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: i32,
    pub created_at: NaiveDateTime,
    /// `webhook`, or the channel of a row [`super::channels::route`] wrote.
    pub channel: String,
    /// The configured channel a channel row goes to (`notice_channels.target`).
    pub target: Option<String>,
}

/// Claims up to `batch` due rows for `worker_id` and returns them, ordered by id.
///
/// Due: pending, `next_attempt_at <= now`, not under another live claim, and its committee
/// has a webhook (rows of a committee without one wait, using no attempts, and go out as
/// soon as one is configured). Candidates are read first; each is then claimed by a
/// conditional `UPDATE … WHERE <still due>`, and only rows where that changed one row are
/// ours. On PostgreSQL the losing `UPDATE` re-checks the condition after the winner commits;
/// on SQLite writers are serialised. Either way no row is claimed twice.
pub fn claim_due(
    conn: &mut DbConnection,
    worker_id: &str,
    now: NaiveDateTime,
    batch: i64,
) -> QueryResult<Vec<OutboxRow>> {
    let lease_until = now + chrono::Duration::from_std(LEASE).expect("lease fits");
    let with_webhook = committees::table
        .filter(committees::webhook_url.is_not_null())
        .filter(committees::webhook_secret.is_not_null())
        .select(committees::id);
    let candidates: Vec<i64> = outbox::table
        .filter(outbox::status.eq("pending"))
        .filter(outbox::next_attempt_at.le(now))
        .filter(outbox::claimed_until.is_null().or(outbox::claimed_until.lt(now)))
        .filter(
            outbox::channel
                .eq("webhook")
                .and(outbox::committee_id.eq_any(with_webhook))
                .or(outbox::target.eq_any(notice_channels::table.select(notice_channels::target.nullable()))),
        )
        .order(outbox::id)
        .limit(batch)
        .select(outbox::id)
        .load(conn)?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for id in candidates {
        let won = diesel::update(
            outbox::table
                .filter(outbox::id.eq(id))
                .filter(outbox::status.eq("pending"))
                .filter(outbox::next_attempt_at.le(now))
                .filter(outbox::claimed_until.is_null().or(outbox::claimed_until.lt(now))),
        )
        .set((outbox::claimed_by.eq(worker_id), outbox::claimed_until.eq(lease_until)))
        .execute(conn)?;
        if won == 1 {
            claimed.push(id);
        }
    }
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    outbox::table
        .filter(outbox::id.eq_any(&claimed))
        .filter(outbox::claimed_by.eq(worker_id))
        .order(outbox::id)
        .select((
            outbox::id,
            outbox::committee_id,
            outbox::kind,
            outbox::payload,
            outbox::attempts,
            outbox::created_at,
            outbox::channel,
            outbox::target,
        ))
        .load(conn)
}

/// What became of one claimed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Failed; tried again later. Holds the number of attempts made so far.
    Retrying(i32),
    /// Failed for the last allowed time: dead-lettered.
    Dead,
    /// The committee's webhook (or the row's channel) was removed after the claim; released,
    /// no attempt used.
    Held,
    /// Not sent yet, no attempt used: quiet hours, or the robot's messages-a-minute limit.
    Deferred,
}

/// What deliveries send with, reaching only what `egress` permits.
pub fn http_client(egress: Egress) -> reqwest::Result<Outbound> {
    Outbound::new(egress, HTTP_TIMEOUT)
}

/// `sha256=` + hex HMAC-SHA256 with the committee's secret over `"{timestamp}.{body}"`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The body sent: `{ id, kind, committee_id, created_at, payload }`.
pub fn envelope(row: &OutboxRow) -> String {
    let payload: serde_json::Value =
        serde_json::from_str(&row.payload).unwrap_or_else(|_| serde_json::Value::String(row.payload.clone()));
    serde_json::json!({
        "id": row.id,
        "kind": row.kind,
        "committee_id": row.committee_id,
        "created_at": row.created_at.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true),
        "payload": payload,
    })
    .to_string()
}

/// Sends one claimed row and records the outcome. `now` schedules the retry; the signed
/// timestamp is the real time of sending.
pub async fn deliver(
    pool: &DbPool,
    client: &Outbound,
    worker_id: &str,
    row: OutboxRow,
    now: NaiveDateTime,
    policy: &RetryPolicy,
) -> anyhow::Result<Outcome> {
    if row.channel != "webhook" {
        return super::channels::send::deliver(pool, client, worker_id, row, now, policy).await;
    }
    let committee_id = row.committee_id;
    let target = blocking(pool, move |conn| {
        committees::table.find(committee_id).select((committees::webhook_url, committees::webhook_secret)).first::<(
            Option<String>,
            Option<String>,
        )>(
            conn
        )
    })
    .await?;
    let (Some(url), Some(secret)) = target else {
        let (id, worker) = (row.id, worker_id.to_owned());
        blocking(pool, move |conn| {
            diesel::update(outbox::table.filter(outbox::id.eq(id)).filter(outbox::claimed_by.eq(worker)))
                .set((outbox::claimed_by.eq(None::<String>), outbox::claimed_until.eq(None::<NaiveDateTime>)))
                .execute(conn)
        })
        .await?;
        return Ok(Outcome::Held);
    };
    let body = envelope(&row);
    let timestamp = now.and_utc().timestamp();
    let error = match client.post(&url) {
        Err(unsent) => Some(unsent),
        Ok(request) => {
            let sent = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header("X-Zhiban-Event", &row.kind)
                .header("X-Zhiban-Delivery", row.id.to_string())
                .header("X-Zhiban-Timestamp", timestamp.to_string())
                .header("X-Zhiban-Signature", signature(&secret, timestamp, &body))
                .body(body)
                .send()
                .await;
            match sent {
                Ok(res) if res.status().is_success() => None,
                Ok(res) => Some(format!("HTTP {}", res.status())),
                Err(e) => Some(describe(&e)),
            }
        }
    };
    let (worker, policy) = (worker_id.to_owned(), *policy);
    blocking(pool, move |conn| record(conn, &row, &worker, now, error, &policy)).await
}

/// A short reason without the URL (its query string may hold a token), any secret, or
/// anything the other end answered.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    if let Some(refused) = crate::egress::refusal(e) {
        return refused.to_string();
    }
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "redirect not followed"
    } else if e.is_builder() {
        "invalid webhook URL"
    } else {
        "request failed"
    };
    what.to_owned()
}

pub(crate) fn record(
    conn: &mut DbConnection,
    row: &OutboxRow,
    worker_id: &str,
    now: NaiveDateTime,
    error: Option<String>,
    policy: &RetryPolicy,
) -> QueryResult<Outcome> {
    let attempts = row.attempts + 1;
    let pending = outbox::table.filter(outbox::id.eq(row.id)).filter(outbox::status.eq("pending"));
    let release = (outbox::claimed_by.eq(None::<String>), outbox::claimed_until.eq(None::<NaiveDateTime>));
    let Some(error) = error else {
        // Delivered is delivered, even if our claim lapsed meanwhile.
        diesel::update(pending)
            .set((
                outbox::status.eq("delivered"),
                outbox::attempts.eq(attempts),
                outbox::delivered_at.eq(now),
                outbox::last_error.eq(None::<String>),
                release,
            ))
            .execute(conn)?;
        return Ok(Outcome::Delivered);
    };
    let error: String = error.chars().take(200).collect();
    // A failure is recorded only while the claim is still ours: a lapsed claim may have
    // been taken, and delivered, by another instance.
    let mine = pending.filter(outbox::claimed_by.eq(worker_id));
    if attempts >= policy.max_attempts {
        diesel::update(mine)
            .set((outbox::status.eq("dead"), outbox::attempts.eq(attempts), outbox::last_error.eq(error), release))
            .execute(conn)?;
        Ok(Outcome::Dead)
    } else {
        diesel::update(mine)
            .set((
                outbox::attempts.eq(attempts),
                outbox::last_error.eq(error),
                outbox::next_attempt_at.eq(now + policy.backoff(attempts, row.id)),
                release,
            ))
            .execute(conn)?;
        Ok(Outcome::Retrying(attempts))
    }
}

/// Claims one batch and delivers it; returns how many rows were claimed.
pub async fn run_once(
    pool: &DbPool,
    client: &Outbound,
    worker_id: &str,
    now: NaiveDateTime,
    policy: &RetryPolicy,
) -> anyhow::Result<usize> {
    let worker = worker_id.to_owned();
    let rows = blocking(pool, move |conn| claim_due(conn, &worker, now, BATCH)).await?;
    let claimed = rows.len();
    for row in rows {
        let (id, kind) = (row.id, row.kind.clone());
        match deliver(pool, client, worker_id, row, now, policy).await {
            Ok(Outcome::Delivered) => tracing::debug!(outbox.id = id, kind, "notification delivered"),
            Ok(Outcome::Dead) => tracing::warn!(outbox.id = id, kind, "notification dead-lettered"),
            Ok(outcome) => tracing::info!(outbox.id = id, kind, ?outcome, "notification not delivered yet"),
            Err(e) => {
                tracing::warn!(outbox.id = id, error.cause_chain = ?e, "delivery not recorded; retried when the claim lapses")
            }
        }
    }
    Ok(claimed)
}

/// An id naming this process in `claimed_by`: host, pid and a random suffix.
pub fn worker_id() -> String {
    let host = std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "zhiban".to_owned());
    let suffix: String = crate::auth::tokens::random_token().chars().take(8).collect();
    format!("{host}-{}-{suffix}", std::process::id())
}

/// Runs diesel work on tokio's blocking pool with a pooled connection.
pub(crate) async fn blocking<T, E>(
    pool: &DbPool,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
) -> anyhow::Result<T>
where
    T: Send + 'static,
    E: std::error::Error + Send + Sync + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<T> {
        let mut conn = pool.get()?;
        Ok(f(&mut conn)?)
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        let p = RetryPolicy { max_attempts: 8, base: Duration::from_secs(30), cap: Duration::from_secs(3600) };
        // id 0 has no jitter.
        let secs: Vec<i64> = (1..=9).map(|a| p.backoff(a, 0).num_seconds()).collect();
        assert_eq!(secs, vec![30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        for id in 1..50 {
            let d = p.backoff(3, id).num_seconds();
            assert!((120..=132).contains(&d), "jitter stays within 10 %: {d}");
            assert_eq!(d, p.backoff(3, id).num_seconds(), "deterministic");
        }
    }

    #[test]
    fn signatures_are_hmac_sha256_over_timestamp_and_body() {
        // Computed independently: python3 -c "import hmac,hashlib;
        // print(hmac.new(b'0123456789abcdef', b'1700000000.{}', hashlib.sha256).hexdigest())"
        let sig = signature("0123456789abcdef", 1_700_000_000, "{}");
        assert_eq!(sig, "sha256=e4f8e2ecae2295b2ddb2f0b5584c8275e226c0ebe9b3b819e70156bb67122e3e");
        assert_ne!(sig, signature("0123456789abcdeX", 1_700_000_000, "{}"));
        assert_ne!(sig, signature("0123456789abcdef", 1_700_000_001, "{}"));
    }
}
