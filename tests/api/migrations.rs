//! Migrations on the backend under test (SQLite, or PostgreSQL with TEST_DATABASE_URL).

use zhiban::db::{self, DatabaseLocation};

use crate::helpers::{TestDatabase, spawn_app_on};

#[tokio::test]
async fn migrations_apply_revert_and_reapply() {
    let test_db = TestDatabase::create();
    let location = DatabaseLocation::parse(&test_db.url).unwrap();
    tokio::task::spawn_blocking(move || {
        let pool = db::connect(&location, 1).unwrap();
        let mut conn = pool.get().unwrap();
        assert!(db::has_pending_migrations(&mut conn).unwrap());
        assert!(db::run_migrations(&mut conn).unwrap() >= 1);
        assert_eq!(db::run_migrations(&mut conn).unwrap(), 0, "second run applies nothing");
        assert!(!db::has_pending_migrations(&mut conn).unwrap());
        db::revert_all_migrations(&mut conn).unwrap();
        assert!(db::has_pending_migrations(&mut conn).unwrap());
        assert!(db::run_migrations(&mut conn).unwrap() >= 1);
    })
    .await
    .unwrap();
    // The app starts on the migrated database and reports ready.
    let app = spawn_app_on(test_db).await;
    let ready: serde_json::Value = app.client.get(app.url("/ready")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], if app.db.is_postgres() { "postgresql" } else { "sqlite" });
}

#[test]
fn the_backend_comes_from_the_url_and_errors_are_real() {
    // A keyword-form string is refused outright: no SQLite file named after it appears.
    let cwd_files = || std::fs::read_dir(".").unwrap().count();
    let before = cwd_files();
    assert!(DatabaseLocation::parse("host=127.0.0.1 password=secret").is_err());
    assert_eq!(before, cwd_files());

    // A PostgreSQL URL that cannot connect reports PostgreSQL's own error, password hidden.
    let bad = DatabaseLocation::parse("postgres://nobody:s3cret@127.0.0.1:1/none").unwrap();
    let err = db::connect(&bad, 1).expect_err("no server listens on port 1").to_string();
    assert!(err.contains("postgres://nobody:***@127.0.0.1:1/none"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    assert!(err.to_lowercase().contains("connect") || err.contains("refused"), "{err}");
}

#[test]
fn sqlite_is_configured_for_durability() {
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Text};
    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = Text)]
        journal_mode: String,
    }
    #[derive(QueryableByName)]
    struct Num {
        #[diesel(sql_type = BigInt)]
        v: i64,
    }
    let dir = std::env::temp_dir().join(format!("zhiban-pragmas-{}", std::process::id()));
    let location = DatabaseLocation::SqliteFile(dir.join("nested").join("z.db"));
    let pool = db::connect(&location, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let mode: Mode = diesel::sql_query("PRAGMA journal_mode").get_result(&mut *conn).unwrap();
    assert_eq!(mode.journal_mode, "wal");
    let fk: Num =
        diesel::sql_query("SELECT foreign_keys AS v FROM pragma_foreign_keys").get_result(&mut *conn).unwrap();
    assert_eq!(fk.v, 1);
    let sync: Num =
        diesel::sql_query("SELECT synchronous AS v FROM pragma_synchronous").get_result(&mut *conn).unwrap();
    assert_eq!(sync.v, 2, "FULL");
    let busy: Num = diesel::sql_query("SELECT timeout AS v FROM pragma_busy_timeout").get_result(&mut *conn).unwrap();
    assert!(busy.v >= 5000);
    drop(conn);
    drop(pool);
    std::fs::remove_dir_all(dir).unwrap();
}
