//! Storage: one diesel connection type over SQLite and PostgreSQL, an r2d2 pool whose backend
//! is chosen from the URL scheme (never by trial, see DEPENDENCIES.md), and embedded migrations.

use std::path::{Path, PathBuf};
use std::time::Duration;

use actix_web::web;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::ApiError;

pub mod backup;
pub mod group_commit;
mod stored_text;

pub use group_commit::GroupCommit;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to whichever backend the deployment runs on.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type DbPool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// Where the data lives, parsed from `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    Postgres(String),
    SqliteFile(PathBuf),
    SqliteMemory,
}

#[derive(Debug, thiserror::Error)]
pub enum DatabaseUrlError {
    #[error(
        "DATABASE_URL must start with postgres://, postgresql:// or sqlite:// (got a value of another form; \
         keyword strings like `host=… password=…` are not accepted)"
    )]
    UnknownScheme,
    #[error("DATABASE_URL sqlite:// needs a file path, e.g. sqlite://./data/zhiban.db")]
    EmptySqlitePath,
}

impl DatabaseLocation {
    /// Parses a URL by its scheme alone. Nothing else decides the backend: a misspelt
    /// PostgreSQL URL must fail loudly rather than create a SQLite file named after it.
    pub fn parse(url: &str) -> Result<Self, DatabaseUrlError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            return match rest {
                "" => Err(DatabaseUrlError::EmptySqlitePath),
                ":memory:" => Ok(Self::SqliteMemory),
                path => Ok(Self::SqliteFile(PathBuf::from(path))),
            };
        }
        Err(DatabaseUrlError::UnknownScheme)
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgresql",
            Self::SqliteFile(_) | Self::SqliteMemory => "sqlite",
        }
    }

    /// The URL with any password replaced, for logs and messages.
    pub fn redacted(&self) -> String {
        match self {
            Self::Postgres(url) => redact_password(url),
            Self::SqliteFile(path) => format!("sqlite://{}", path.display()),
            Self::SqliteMemory => "sqlite://:memory:".into(),
        }
    }
}

fn redact_password(url: &str) -> String {
    // postgres://user:secret@host/db → postgres://user:***@host/db
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((userinfo, host)) = rest.split_once('@') else { return url.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// r2d2 manager that opens exactly the backend the URL names and reports its real error.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    location: DatabaseLocation,
}

impl ConnectionManager {
    pub fn new(location: DatabaseLocation) -> Self {
        Self { location }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::ConnectionError;

    fn connect(&self) -> Result<DbConnection, diesel::ConnectionError> {
        match &self.location {
            DatabaseLocation::Postgres(url) => diesel::PgConnection::establish(url).map(DbConnection::Postgresql),
            DatabaseLocation::SqliteFile(path) => open_sqlite(&path.to_string_lossy()),
            DatabaseLocation::SqliteMemory => open_sqlite(":memory:"),
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), diesel::ConnectionError> {
        conn.batch_execute("SELECT 1").map_err(diesel::ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

fn open_sqlite(path: &str) -> Result<DbConnection, diesel::ConnectionError> {
    let mut conn = diesel::SqliteConnection::establish(path)?;
    // WAL lets readers run beside the one writer; FULL sync makes an acknowledged commit
    // survive power loss; the busy timeout queues writers instead of failing them.
    conn.batch_execute(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 10000;",
    )
    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(DbConnection::Sqlite(conn))
}

/// Builds the pool, creating the SQLite file's folder if needed, and checks that a first
/// connection can be opened so a bad URL or password fails at start with its real cause.
pub fn connect(location: &DatabaseLocation, max_size: u32) -> anyhow::Result<DbPool> {
    if let DatabaseLocation::SqliteFile(path) = location {
        create_parent_dir(path)?;
    }
    // An in-memory SQLite database exists per connection: the pool must hold exactly one.
    let max_size = if *location == DatabaseLocation::SqliteMemory { 1 } else { max_size };
    let manager = ConnectionManager::new(location.clone());
    // Open one connection by hand first: r2d2 would only retry and time out, hiding why.
    r2d2::ManageConnection::connect(&manager)
        .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", location.redacted()))?;
    // A PostgreSQL connection is tested as it leaves the pool (a `SELECT 1`), so one the
    // server dropped — a failover, a restart — is replaced instead of failing the request. An
    // embedded SQLite connection cannot be dropped from under us, and the test would be one
    // more statement on every request.
    let test_on_check_out = matches!(location, DatabaseLocation::Postgres(_));
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(10))
        .test_on_check_out(test_on_check_out)
        .build(manager)?;
    Ok(pool)
}

fn create_parent_dir(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    Ok(())
}

type MigrationError = Box<dyn std::error::Error + Send + Sync>;

/// Applies every pending migration of the connection's backend; returns how many ran.
pub fn run_migrations(conn: &mut DbConnection) -> Result<usize, MigrationError> {
    let applied = match conn {
        DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS)?.len(),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS)?.len(),
    };
    Ok(applied)
}

/// Reverts every migration (their `down.sql`); for tests of the migrations themselves.
pub fn revert_all_migrations(conn: &mut DbConnection) -> Result<(), MigrationError> {
    match conn {
        DbConnection::Postgresql(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS).map(drop),
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(drop),
    }
}

pub fn has_pending_migrations(conn: &mut DbConnection) -> Result<bool, MigrationError> {
    match conn {
        DbConnection::Postgresql(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
    }
}

/// Runs blocking diesel work on actix's blocking thread pool with a pooled connection, so
/// no actix worker ever waits on the database.
pub async fn run<F, T>(pool: &web::Data<DbPool>, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    web::block(move || {
        let mut conn = pool.get().map_err(ApiError::unexpected)?;
        f(&mut conn)
    })
    .await
    .map_err(ApiError::unexpected)?
}

/// Like [`run`], inside one write transaction: an error rolls every write back.
pub async fn transaction<F, T>(pool: &web::Data<DbPool>, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    run(pool, move |conn| write_transaction(conn, f)).await
}

/// A transaction that will write. On SQLite it begins `IMMEDIATE`: a deferred transaction
/// that reads first and writes later fails at once with SQLITE_BUSY when another connection
/// wrote in between (the busy timeout cannot help it), while an immediate one queues for
/// the write lock. Nested `conn.transaction` calls inside become savepoints as usual.
pub fn write_transaction<F, T>(conn: &mut DbConnection, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConnection::Sqlite(sqlite) = conn else {
        return conn.transaction(f);
    };
    AnsiTransactionManager::begin_transaction_sql(&mut *sqlite, "BEGIN IMMEDIATE")?;
    let result = f(conn);
    let DbConnection::Sqlite(sqlite) = conn else { unreachable!("the backend does not change") };
    match result {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(&mut *sqlite)?;
            Ok(value)
        }
        Err(e) => {
            AnsiTransactionManager::rollback_transaction(&mut *sqlite)?;
            Err(e)
        }
    }
}

/// Runs one statement that may break a unique key (a concurrent request took it) so that the
/// failure leaves the surrounding transaction usable. PostgreSQL needs a savepoint for that;
/// SQLite aborts only the failing statement by itself, and skipping the savepoint there saves
/// two parsed statements per write on the check-in path.
pub fn may_conflict<T>(
    conn: &mut DbConnection,
    statement: impl FnOnce(&mut DbConnection) -> diesel::QueryResult<T>,
) -> diesel::QueryResult<T> {
    match conn {
        DbConnection::Sqlite(_) => statement(conn),
        DbConnection::Postgresql(_) => conn.transaction(statement),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_comes_from_the_scheme() {
        assert!(matches!(DatabaseLocation::parse("postgres://u:p@h/db"), Ok(DatabaseLocation::Postgres(_))));
        assert_eq!(
            DatabaseLocation::parse("sqlite://./data/x.db").unwrap(),
            DatabaseLocation::SqliteFile("./data/x.db".into())
        );
        assert_eq!(DatabaseLocation::parse("sqlite://:memory:").unwrap(), DatabaseLocation::SqliteMemory);
        assert!(DatabaseLocation::parse("host=localhost password=secret").is_err());
        assert!(DatabaseLocation::parse("mysql://x").is_err());
        assert!(DatabaseLocation::parse("sqlite://").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        let loc = DatabaseLocation::parse("postgres://zhiban:s3cret@db:5432/zhiban").unwrap();
        assert_eq!(loc.redacted(), "postgres://zhiban:***@db:5432/zhiban");
        assert!(!loc.redacted().contains("s3cret"));
    }
}
