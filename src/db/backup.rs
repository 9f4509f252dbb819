//! Backup and restore of a SQLite deployment (`zhiban backup`, `zhiban restore`).
//!
//! The backup is SQLite's own `VACUUM INTO`: one read transaction, so the copy is consistent
//! while the server keeps writing (WAL readers do not block the writer), and compacted. Both
//! directions write to `FILE.partial`, check it, sync it and only then rename it into place, so
//! an interrupted run never leaves something that looks like a good copy. Neither ever
//! overwrites a file. PostgreSQL has its own tools (`pg_dump` / `pg_restore`, see the README).

use std::fs::File;
use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::DatabaseLocation;
use crate::schema::{committees, items, members};

/// What a checked copy holds.
#[derive(Debug)]
pub struct Summary {
    pub path: PathBuf,
    pub bytes: u64,
    pub migrations: i64,
    pub committees: i64,
    pub members: i64,
    pub items: i64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({} bytes, integrity ok): {} migration(s), {} committee(s), {} member(s), {} item(s)",
            self.path.display(),
            self.bytes,
            self.migrations,
            self.committees,
            self.members,
            self.items
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "zhiban backup and restore copy SQLite databases; for PostgreSQL use pg_dump and pg_restore \
         (README, \"Backup and restore\")"
    )]
    Postgres,
    #[error("an in-memory database cannot be backed up or restored")]
    Memory,
    #[error("{0} already exists; zhiban never overwrites a database or a backup: choose a new path")]
    Exists(PathBuf),
    #[error("{0} does not exist")]
    Missing(PathBuf),
    #[error("{path} is not a sound zhiban database: {reason}")]
    NotSound { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Database { path: PathBuf, source: diesel::result::Error },
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: diesel::ConnectionError },
}

/// Writes a consistent copy of the database `location` names to `dest`, then checks it.
pub fn backup(location: &DatabaseLocation, dest: &Path) -> Result<Summary, BackupError> {
    let source = sqlite_file(location)?;
    if !source.exists() {
        return Err(BackupError::Missing(source.to_owned()));
    }
    refuse_existing(dest)?;
    let partial = partial_path(dest);
    prepare(&partial)?;
    let mut conn = open(source)?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(partial.to_string_lossy())
        .execute(&mut conn)
        .map_err(|source| BackupError::Database { path: partial.clone(), source })?;
    drop(conn);
    finish(&partial, dest)?;
    summarize(dest)
}

/// Copies a backup into the new database `location` names, checks it and brings its schema
/// up to date (a backup from an older release gets the newer migrations).
pub fn restore(backup: &Path, location: &DatabaseLocation) -> Result<Summary, BackupError> {
    let target = sqlite_file(location)?;
    if !backup.exists() {
        return Err(BackupError::Missing(backup.to_owned()));
    }
    // A leftover -wal beside the target would be replayed into the restored file.
    for path in [target.to_owned(), sidecar(target, "-wal"), sidecar(target, "-shm")] {
        refuse_existing(&path)?;
    }
    check(backup)?;
    let partial = partial_path(target);
    prepare(&partial)?;
    std::fs::copy(backup, &partial).map_err(|source| BackupError::Io { path: partial.clone(), source })?;
    finish(&partial, target)?;
    let mut conn = super::open_sqlite(&target.to_string_lossy())
        .map_err(|source| BackupError::Open { path: target.to_owned(), source })?;
    super::run_migrations(&mut conn)
        .map_err(|e| BackupError::NotSound { path: target.to_owned(), reason: format!("migrating: {e}") })?;
    drop(conn);
    summarize(target)
}

fn sqlite_file(location: &DatabaseLocation) -> Result<&Path, BackupError> {
    match location {
        DatabaseLocation::SqliteFile(path) => Ok(path),
        DatabaseLocation::SqliteMemory => Err(BackupError::Memory),
        DatabaseLocation::Postgres(_) => Err(BackupError::Postgres),
    }
}

fn refuse_existing(path: &Path) -> Result<(), BackupError> {
    if path.exists() { Err(BackupError::Exists(path.to_owned())) } else { Ok(()) }
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn partial_path(path: &Path) -> PathBuf {
    sidecar(path, ".partial")
}

/// Makes the folder and clears the remains of an interrupted run.
fn prepare(partial: &Path) -> Result<(), BackupError> {
    let io = |source| BackupError::Io { path: partial.to_owned(), source };
    if let Some(dir) = partial.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    match std::fs::remove_file(partial) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(e)),
        _ => Ok(()),
    }
}

/// Checks the partial copy, syncs it and renames it into place.
fn finish(partial: &Path, dest: &Path) -> Result<(), BackupError> {
    check(partial)?;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| BackupError::Io { path, source }
    };
    File::open(partial).and_then(|f| f.sync_all()).map_err(io(partial))?;
    // A file appearing meanwhile is not overwritten: hard-link, then drop the partial name.
    std::fs::hard_link(partial, dest).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => BackupError::Exists(dest.to_owned()),
        _ => BackupError::Io { path: dest.to_owned(), source: e },
    })?;
    std::fs::remove_file(partial).map_err(io(partial))?;
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct IntegrityRow {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn open(path: &Path) -> Result<SqliteConnection, BackupError> {
    let mut conn = SqliteConnection::establish(&path.to_string_lossy())
        .map_err(|source| BackupError::Open { path: path.to_owned(), source })?;
    conn.batch_execute("PRAGMA busy_timeout = 10000;")
        .map_err(|source| BackupError::Database { path: path.to_owned(), source })?;
    Ok(conn)
}

/// SQLite's integrity check passes and the file carries zhiban's migrations.
fn check(path: &Path) -> Result<(), BackupError> {
    let not_sound = |reason: String| BackupError::NotSound { path: path.to_owned(), reason };
    let mut conn = open(path)?;
    let rows: Vec<IntegrityRow> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .map_err(|e| not_sound(format!("not a SQLite database ({e})")))?;
    let report: Vec<&str> = rows.iter().map(|r| r.integrity_check.as_str()).collect();
    if report != ["ok"] {
        return Err(not_sound(format!("integrity check: {}", report.join("; "))));
    }
    diesel::sql_query("SELECT count(*) AS n FROM __diesel_schema_migrations")
        .get_result::<Count>(&mut conn)
        .map_err(|_| not_sound("it has no zhiban migrations".into()))?;
    Ok(())
}

fn summarize(path: &Path) -> Result<Summary, BackupError> {
    let db = |source| BackupError::Database { path: path.to_owned(), source };
    let mut conn = open(path)?;
    let migrations =
        diesel::sql_query("SELECT count(*) AS n FROM __diesel_schema_migrations").get_result::<Count>(&mut conn);
    Ok(Summary {
        path: path.to_owned(),
        bytes: std::fs::metadata(path).map_err(|source| BackupError::Io { path: path.to_owned(), source })?.len(),
        migrations: migrations.map_err(db)?.n,
        committees: committees::table.count().get_result(&mut conn).map_err(db)?,
        members: members::table.count().get_result(&mut conn).map_err(db)?,
        items: items::table.count().get_result(&mut conn).map_err(db)?,
    })
}
