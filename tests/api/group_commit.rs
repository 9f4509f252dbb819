//! Group commit: pieces of work queued together commit together, yet each keeps its own
//! outcome — a piece that fails leaves nothing behind and takes nothing of its neighbours.

use diesel::prelude::*;
use serde_json::json;
use zhiban::db::GroupCommit;
use zhiban::error::{ApiError, ErrorCode};
use zhiban::schema::outbox;

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_piece_rolls_back_alone_and_the_rest_commit() {
    let app = spawn_app().await;
    let c = app.committee("group", "60").await;
    let writes = GroupCommit::start(app.pool.clone(), 2);
    let committee = c.id;
    // Queued together so they share groups: every fifth piece writes, then fails.
    let pieces = (0..60).map(|n| {
        let writes = writes.clone();
        async move {
            writes
                .write(move |conn| {
                    zhiban::outbox::enqueue(
                        conn,
                        committee,
                        "test.group",
                        None,
                        &json!({ "n": n }),
                        chrono::Utc::now().naive_utc(),
                    )?;
                    if n % 5 == 0 { Err(ApiError::new(ErrorCode::ValidationFailed)) } else { Ok(n) }
                })
                .await
        }
    });
    let results = futures_util::future::join_all(pieces).await;
    for (n, result) in results.iter().enumerate() {
        match result {
            Ok(got) => assert!(n % 5 != 0 && *got == n),
            Err(e) => assert!(n % 5 == 0 && e.code == ErrorCode::ValidationFailed, "piece {n}: {:?}", e.code),
        }
    }
    let pool = app.pool.clone();
    let mut stored: Vec<i64> = tokio::task::spawn_blocking(move || {
        outbox::table
            .filter(outbox::kind.eq("test.group"))
            .select(outbox::payload)
            .load::<String>(&mut pool.get().unwrap())
            .unwrap()
            .iter()
            .map(|p| serde_json::from_str::<serde_json::Value>(p).unwrap()["n"].as_i64().unwrap())
            .collect()
    })
    .await
    .unwrap();
    stored.sort_unstable();
    let expected: Vec<i64> = (0..60).filter(|n| n % 5 != 0).collect();
    assert_eq!(stored, expected, "exactly the pieces that succeeded were written");
}
