//! Group commit for the hot writes of the reception-day burst (check-ins, residents'
//! submissions). Each request's work is queued; a writer thread takes whatever is queued, up
//! to [`MAX_GROUP`], runs each piece in its own savepoint of one transaction and commits once.
//! The durable flush (SQLite's WAL fsync under `synchronous = FULL`, PostgreSQL's WAL flush)
//! is then paid once per group instead of once per request; the load harness showed the
//! server mostly waiting on that flush. A request is answered only after its group has
//! committed, so an acknowledged write is as durable as before.
//!
//! A piece that fails rolls back its own savepoint only. A piece that hits a database error
//! (a PostgreSQL deadlock with another instance's group) is run again alone after its group
//! commits; if the group itself fails (a lost connection), every piece is run again in a
//! transaction of its own. One bad neighbour never fails the others.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use diesel::Connection;
use tokio::sync::{mpsc, oneshot};

use super::{DbConnection, DbPool, write_transaction};
use crate::error::{ApiError, ErrorCode};

/// The most pieces of work one transaction takes.
pub const MAX_GROUP: usize = 128;
/// Pieces waiting for a writer before callers wait to enqueue (back-pressure, bounded memory).
const QUEUE: usize = 4096;

/// The queue of pending writes and its writer threads.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Box<dyn Job>>,
}

trait Job: Send {
    /// Runs the work inside the open transaction (in a savepoint of its own), keeping the result.
    fn run(&mut self, conn: &mut DbConnection);
    /// Whether the work failed for a reason of the database rather than of the request (on
    /// PostgreSQL: a deadlock with another instance's group): it deserves a run of its own.
    fn failed_unexpectedly(&self) -> bool;
    /// Answers the caller: the work's result if its transaction committed, else the failure.
    fn finish(self: Box<Self>, committed: Result<(), String>);
}

struct Pending<F, T> {
    work: F,
    result: Option<Result<T, ApiError>>,
    reply: oneshot::Sender<Result<T, ApiError>>,
}

impl<F, T> Job for Pending<F, T>
where
    F: Fn(&mut DbConnection) -> Result<T, ApiError> + Send,
    T: Send,
{
    fn run(&mut self, conn: &mut DbConnection) {
        let work = &self.work;
        self.result = Some(conn.transaction(|conn| work(conn)));
    }

    fn failed_unexpectedly(&self) -> bool {
        matches!(&self.result, Some(Err(e)) if e.code == ErrorCode::InternalError)
    }

    fn finish(self: Box<Self>, committed: Result<(), String>) {
        let answer = match (committed, self.result) {
            (Ok(()), Some(result)) => result,
            (Ok(()), None) => Err(ApiError::unexpected(anyhow::anyhow!("the write was never run"))),
            (Err(cause), _) => Err(ApiError::unexpected(anyhow::anyhow!("the write did not commit: {cause}"))),
        };
        // The caller may have gone (client disconnected): the write stands either way.
        let _ = self.reply.send(answer);
    }
}

impl GroupCommit {
    /// Starts `writers` threads over `pool`: one for SQLite (it has one writer anyway), a few
    /// for PostgreSQL, where groups from several writers commit in parallel.
    pub fn start(pool: DbPool, writers: usize) -> Self {
        let (queue, pending) = mpsc::channel::<Box<dyn Job>>(QUEUE);
        let pending = Arc::new(Mutex::new(pending));
        for n in 0..writers.max(1) {
            let (pool, pending) = (pool.clone(), pending.clone());
            std::thread::Builder::new()
                .name(format!("zhiban-writer-{n}"))
                .spawn(move || writer(pool, pending))
                .expect("spawn a writer thread");
        }
        Self { queue }
    }

    /// Runs `work` in the next group and answers once that group has committed. `work` may
    /// run twice (the second time alone, if its group failed as a whole), so it must only
    /// read what it is given and write through `conn`.
    pub async fn write<F, T>(&self, work: F) -> Result<T, ApiError>
    where
        F: Fn(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Box::new(Pending { work, result: None, reply }))
            .await
            .map_err(|_| ApiError::unexpected(anyhow::anyhow!("the writer threads have stopped")))?;
        answer.await.map_err(|_| ApiError::unexpected(anyhow::anyhow!("the write was dropped by its writer")))?
    }
}

/// One writer: waits for work, takes everything queued up to [`MAX_GROUP`], commits it as one
/// transaction. Ends when every [`GroupCommit`] handle is gone.
fn writer(pool: DbPool, pending: Arc<Mutex<mpsc::Receiver<Box<dyn Job>>>>) {
    loop {
        let mut group = Vec::with_capacity(MAX_GROUP);
        {
            let mut queue = pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            match queue.blocking_recv() {
                Some(first) => group.push(first),
                None => return,
            }
            while group.len() < MAX_GROUP {
                match queue.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
        }
        let mut conn = match pool.get() {
            Ok(conn) => conn,
            Err(e) => {
                tracing::error!(error.cause_chain = ?e, "no database connection for a group commit");
                for job in group {
                    job.finish(Err("no database connection".to_owned()));
                }
                continue;
            }
        };
        // A panic in one piece of work must not stop the writer for everyone after it.
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| commit_group(&mut conn, group)));
        if outcome.is_err() {
            tracing::error!("a write panicked; its group was answered with an error");
            // The transaction may still be open on this connection: end it before reuse.
            let _ = diesel::connection::SimpleConnection::batch_execute(&mut *conn, "ROLLBACK");
        }
    }
}

fn commit_group(conn: &mut DbConnection, mut group: Vec<Box<dyn Job>>) {
    let outcome = write_transaction(conn, |conn| {
        for job in group.iter_mut() {
            job.run(conn);
        }
        Ok(())
    });
    match outcome {
        Ok(()) => {
            // Pieces that hit a database error in company (their savepoint was rolled back,
            // the rest committed) get a transaction of their own; a piece alone already had one.
            let alone = group.len() == 1;
            let (retry, done): (Vec<_>, Vec<_>) =
                group.into_iter().partition(|job| !alone && job.failed_unexpectedly());
            done.into_iter().for_each(|job| job.finish(Ok(())));
            if !retry.is_empty() {
                tracing::warn!(pieces = retry.len(), "writes that failed in a group run again alone");
                retry.into_iter().for_each(|job| commit_alone(conn, job));
            }
        }
        Err(e) if group.len() > 1 => {
            tracing::warn!(error.cause_chain = ?e, pieces = group.len(), "a group commit failed; committing its pieces one by one");
            group.into_iter().for_each(|job| commit_alone(conn, job));
        }
        Err(e) => {
            let cause = e.to_string();
            tracing::error!(error.cause_chain = ?e, "a write did not commit");
            group.into_iter().for_each(|job| job.finish(Err(cause.clone())));
        }
    }
}

fn commit_alone(conn: &mut DbConnection, mut job: Box<dyn Job>) {
    let alone = write_transaction(conn, |conn| {
        job.run(conn);
        Ok(())
    });
    job.finish(alone.map_err(|e| e.to_string()));
}
