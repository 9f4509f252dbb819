//! The background worker each instance runs (unless `ZHIBAN_WORKER=off`): every minute it
//! queues what time makes due — duty reminders, the office's calendar notice, escalations of
//! overdue items — and every few seconds it delivers the outbox. It composes the capabilities'
//! passes, so none of them needs to know of the others; each pass claims its work in the
//! database, so several instances never do one thing twice.

use tokio::sync::watch;

use crate::clock::Clock;
use crate::db::DbPool;
use crate::egress::Egress;
use crate::outbox::worker::{BATCH, POLL_INTERVAL, REMINDER_INTERVAL, RetryPolicy, blocking, http_client, run_once};

/// The background loop: every [`POLL_INTERVAL`], deliver everything due; every
/// [`REMINDER_INTERVAL`], queue reminders. Stops when `shutdown` turns true or its sender
/// is dropped.
pub async fn run_worker(
    clock: Clock,
    pool: DbPool,
    egress: Egress,
    worker_id: String,
    mut shutdown: watch::Receiver<bool>,
) {
    let client = match http_client(egress) {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error.cause_chain = ?e, "outbox worker cannot start: HTTP client setup failed");
            return;
        }
    };
    let policy = RetryPolicy::default();
    let mut next_reminders = tokio::time::Instant::now();
    tracing::info!(worker_id, "outbox worker started");
    loop {
        if tokio::time::Instant::now() >= next_reminders {
            next_reminders = tokio::time::Instant::now() + REMINDER_INTERVAL;
            let now = clock.now_naive();
            match blocking(&pool, move |conn| crate::roster::reminders::schedule_reminders(conn, now)).await {
                Ok(0) => {}
                Ok(queued) => tracing::info!(queued, "duty reminders queued"),
                Err(e) => tracing::warn!(error.cause_chain = ?e, "queuing reminders failed"),
            }
            match blocking(&pool, move |conn| crate::calendar::attention::notify_admins(conn, now)).await {
                Ok(0) => {}
                Ok(queued) => tracing::info!(queued, "admins told of a missing holiday calendar"),
                Err(e) => tracing::warn!(error.cause_chain = ?e, "checking the holiday calendars failed"),
            }
            match blocking(&pool, move |conn| crate::items::deadlines::run_pass(conn, now)).await {
                Ok(report) if report != Default::default() => tracing::info!(?report, "item deadlines escalated"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error.cause_chain = ?e, "escalating item deadlines failed"),
            }
        }
        loop {
            let claimed = run_once(&pool, &client, &worker_id, clock.now_naive(), &policy).await;
            let stopping = *shutdown.borrow();
            match claimed {
                Ok(n) if n as i64 == BATCH && !stopping => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error.cause_chain = ?e, "claiming notifications failed");
                    break;
                }
            }
        }
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
        }
    }
    tracing::info!(worker_id, "outbox worker stopped");
}
