//! # esr-sqlite
//!
//! A [`Store`] for `esr-core` on an embedded SQLite database (bundled with the crate), passing
//! the core's storage conformance kit.
//!
//! - **Schema**: versioned migrations embedded in the crate and applied on open, in one
//!   transaction (`PRAGMA user_version` records the version). A database from a newer version
//!   is refused rather than misread.
//! - **Journal**: WAL; `synchronous` is `FULL` by default ([`SqliteConfig`]): a committed
//!   transaction survives the process being killed and a power loss (`NORMAL` is faster and
//!   may lose the last few commits to an operating-system crash or power loss).
//! - **Transactions**: each [`Store::transaction`] is one `BEGIN IMMEDIATE` transaction on the
//!   writer connection, committed when the closure returns `Ok` and rolled back when it
//!   returns `Err` or panics. The writer connection is behind a mutex: SQLite admits one
//!   writer at a time, so the process's writes wait in order there, and `busy_timeout` covers
//!   other processes on the same file. A write that cannot get the lock within
//!   [`SqliteConfig::busy_timeout`] fails with [`Error::Busy`], retryable, having changed
//!   nothing.
//! - **Reads**: each [`Store::read`] is a read transaction on one of a small pool of reader
//!   connections ([`SqliteConfig::readers`]), on one snapshot of committed state. With WAL a
//!   reader never waits for the writer (of this process or another) nor makes it wait.
//! - **Sessions**: kept under the SHA-256 of their id ([`esr_core::SessionKey`]); the id, the
//!   bearer secret, is never written to the file.
//! - **Permissions**: on Unix a new database file is created readable and writable by its
//!   owner only (0600), and SQLite gives its `-wal` and `-shm` files the same mode. An
//!   existing file keeps its mode.
//! - **Passcodes**: a challenge is consumed by one conditional
//!   `UPDATE … WHERE key = ? AND status = 'pending'`; if no row changes, the write fails with
//!   [`Error::Storage`] saying the challenge was already settled.
//! - **Secrets**: `Account::password_hash`, `Person::mobile` and `Challenge::destination`,
//!   which serde skips, are stored in their own column.
//! - **Outbox**: a queued text or e-mail is a row of the `outbox` table (key: the challenge id,
//!   its idempotency key), written in the challenge's transaction; its payload (the code or
//!   the link) is in the secret column until the message is settled, then erased. Pending
//!   messages are found by the `(status, due)` index.
//! - **Competence records**: the one record kind kept as plain columns (schema version 9), in
//!   one `WITHOUT ROWID` table keyed by trust, person, competence and achieved date, with no
//!   other index, written by multi-row `INSERT … ON CONFLICT` statements: a 400,000-row import
//!   writes a third of the pages the JSON documents with three indexes did, and holds the
//!   write lock about half as long (see `src/competence.rs`).
//! - **Opening** a database whose schema is current reads its version without taking the
//!   write lock, so that another process's steady writes cannot make the open fail as busy.
//! - **Retention**: `StoreTx::purge` (run by `Esr::purge`) `DELETE`s the finished challenges,
//!   sessions and outbox messages the core's rules allow; the audit table is never touched.
//!   SQLite keeps the freed pages in the file and reuses them for later writes, so with an
//!   hourly purge the file stops growing rather than shrinking. To give the space back to the
//!   file system, run `VACUUM` at a quiet time (it rewrites the file and holds the write lock
//!   while it does), or set `PRAGMA auto_vacuum = INCREMENTAL` once (followed by one `VACUUM`
//!   on an existing file) and run `PRAGMA incremental_vacuum` after a purge. The store does
//!   neither by itself.
//!
//! # Adding a record kind
//!
//! Each record kind is a JSON document table (`src/table.rs`): a unique `key`, the trust's
//! `vpd`, the indexed columns its queries filter on, the serde JSON `body`, and a `secret`
//! column for a field serde skips. To add one (say certifications):
//!
//! 1. Declare it: `const CERTIFICATIONS: Table = Table { name: "certifications",
//!    columns: &["employee"], indexes: &[&["vpd", "employee"]] };`
//! 2. Add a migration creating it at the end of `MIGRATIONS` (`Migration { tables:
//!    &[&CERTIFICATIONS], sql: "" }`): databases at an older version get it on open. Never edit a
//!    migration that has shipped.
//! 3. Implement the new `StoreTx` methods in `src/tx.rs` with `CERTIFICATIONS.put(conn, &key(&[vpd,
//!    employee, id]), vpd, vec![employee], &record, None)`, `.get(conn, &key)`, `.list(conn,
//!    "vpd = ?1 AND employee = ?2", "", params)` (then sort in Rust into the documented order)
//!    and `.delete(conn, &key)`.
//!
//! The conformance kit then checks it against the in-memory store.
//!
//! ```
//! use esr_core::{Esr, SystemClock, org::TrustSettings};
//! use esr_sqlite::SqliteStore;
//! # fn main() -> Result<(), esr_core::Error> {
//! # let dir = tempfile::tempdir().map_err(|e| esr_core::Error::Storage(e.to_string()))?;
//! # let path = dir.path().join("esr.db");
//! let esr = Esr::new(SqliteStore::open(&path)?, SystemClock);
//! esr.create_trust("297".parse()?, "Example NHS Foundation Trust", TrustSettings::default())?;
//! drop(esr);
//! // Reopened, the trust is there.
//! let esr = Esr::new(SqliteStore::open(&path)?, SystemClock);
//! assert_eq!(esr.trust("297".parse()?)?.name, "Example NHS Foundation Trust");
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod competence;
mod table;
mod tx;

use esr_core::{Error, Result, Store, StoreTx};
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// SQLite's `synchronous` setting: how often it waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// Never waits: fastest; an operating-system crash may corrupt the database.
    Off,
    /// Waits at checkpoints (with WAL): a commit survives the process being killed; a power
    /// loss may lose the last few commits but never corrupts the database.
    Normal,
    /// Waits at every commit: a commit survives a power loss. The default.
    #[default]
    Full,
    /// As `Full`, and also syncs the directory after a journal change.
    Extra,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Self::Off => "OFF",
            Self::Normal => "NORMAL",
            Self::Full => "FULL",
            Self::Extra => "EXTRA",
        }
    }
}

/// How a [`SqliteStore`] opens its database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteConfig {
    /// The `synchronous` setting (default [`Synchronous::Full`]).
    pub synchronous: Synchronous,
    /// How long a write waits for another process's write lock before failing with
    /// [`Error::Busy`] (default 5 seconds). Reads do not wait for writers.
    pub busy_timeout: Duration,
    /// How many reader connections the store keeps open for [`Store::read`] (default 4; at
    /// least 1). More concurrent reads open more connections for their duration.
    pub readers: usize,
}

impl Default for SqliteConfig {
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Full,
            busy_timeout: Duration::from_secs(5),
            readers: 4,
        }
    }
}

/// A store on a SQLite database file.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// Idle reader connections (`None` for an in-memory database, whose readers would see
    /// another database: reads then go through the writer).
    readers: Option<Mutex<Vec<Connection>>>,
    config: SqliteConfig,
    path: PathBuf,
    schema_version: u32,
}

impl SqliteStore {
    /// Opens (creating it if need be) the database at `path` with the default settings, and
    /// brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, &SqliteConfig::default())
    }

    /// Opens the database at `path` with `config`, and brings its schema up to date.
    pub fn open_with(path: impl AsRef<Path>, config: &SqliteConfig) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let shown = path.display().to_string();
        let fail = |what: &'static str| {
            let shown = shown.clone();
            move |e: rusqlite::Error| {
                Error::Storage(format!(
                    "could not {what} the SQLite database {shown}: {e}; check the path exists \
                     and is writable"
                ))
            }
        };
        let in_memory = path.as_os_str().is_empty() || path.as_os_str() == ":memory:";
        if !in_memory {
            create_private(&path).map_err(|e| {
                Error::Storage(format!(
                    "could not create the SQLite database {shown}: {e}; check the path exists \
                     and is writable"
                ))
            })?;
        }
        let mut conn = Connection::open(&path).map_err(fail("open"))?;
        conn.busy_timeout(config.busy_timeout)
            .map_err(fail("configure"))?;
        // Every statement the store runs stays prepared (there are about sixty).
        conn.set_prepared_statement_cache_capacity(128);
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(fail("set WAL mode on"))?;
        if !in_memory && !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Storage(format!(
                "the SQLite database {shown} cannot use write-ahead logging (journal mode \
                 {mode}); put it on a local file system"
            )));
        }
        conn.execute_batch(&format!(
            "PRAGMA synchronous = {};",
            config.synchronous.pragma()
        ))
        .map_err(fail("configure"))?;
        let schema_version = table::migrate(&mut conn).map_err(|e| busy_or(e, config))?;
        Ok(Self {
            conn: Mutex::new(conn),
            readers: (!in_memory).then(|| Mutex::new(Vec::new())),
            config: SqliteConfig {
                readers: config.readers.max(1),
                ..config.clone()
            },
            path,
            schema_version,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version the database is at (after the migrations this crate applied).
    pub fn schema_version(&self) -> u32 {
        self.schema_version
    }

    /// An idle reader connection, or a new one.
    fn reader(&self, pool: &Mutex<Vec<Connection>>) -> Result<Connection> {
        if let Some(c) = pool.lock().unwrap_or_else(PoisonError::into_inner).pop() {
            return Ok(c);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(storage("reader", "open a reader connection"))?;
        conn.busy_timeout(self.config.busy_timeout)
            .map_err(storage("reader", "configure a reader connection"))?;
        conn.set_prepared_statement_cache_capacity(128);
        // A reader never writes: SQLite refuses it if it tried.
        conn.execute_batch("PRAGMA query_only = ON;")
            .map_err(storage("reader", "configure a reader connection"))?;
        Ok(conn)
    }
}

/// Creates the file at `path` if it does not exist, readable and writable by its owner only.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop)
}

impl Store for SqliteStore {
    fn transaction<R>(&self, mut f: impl FnMut(&mut dyn StoreTx) -> Result<R>) -> Result<R> {
        // A panic inside an earlier transaction dropped its `rusqlite::Transaction`, which
        // rolled it back, so the connection behind a poisoned lock is consistent.
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| busy_or(storage("transaction", "begin")(e), &self.config))?;
        let out = f(&mut tx::Tx { conn: &tx }).map_err(|e| busy_or(e, &self.config))?;
        tx.commit()
            .map_err(|e| busy_or(storage("transaction", "commit")(e), &self.config))?;
        Ok(out)
    }

    fn read<R>(&self, mut f: impl FnMut(&dyn StoreTx) -> Result<R>) -> Result<R> {
        let Some(pool) = &self.readers else {
            return self.transaction(|tx| f(tx));
        };
        let mut conn = self.reader(pool)?;
        let out = {
            // DEFERRED: the snapshot is taken at the first read and kept to the end.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Deferred)
                .map_err(|e| busy_or(storage("read", "begin")(e), &self.config))?;
            let out = f(&tx::Tx { conn: &tx }).map_err(|e| busy_or(e, &self.config));
            // Only read: ending it either way releases the snapshot.
            tx.rollback().map_err(storage("read", "end")).and(out)
        };
        let mut idle = pool.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.config.readers {
            idle.push(conn);
        }
        out
    }
}

/// The marker [`storage`] puts on a busy or locked database's error, which the store turns
/// into [`Error::Busy`].
const BUSY_MARK: &str = "(database busy)";

/// Maps a SQLite error to [`Error::Storage`], saying what was being done; a busy or locked
/// database is marked so that the store returns [`Error::Busy`] instead.
pub(crate) fn storage(
    what: &'static str,
    doing: &'static str,
) -> impl Fn(rusqlite::Error) -> Error {
    move |e| {
        let busy = matches!(
            e.sqlite_error_code(),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
        );
        Error::Storage(format!(
            "SQLite could not {doing} ({what}): {e}{}",
            if busy { BUSY_MARK } else { "" }
        ))
    }
}

/// `e`, or [`Error::Busy`] if it is a busy or locked database's.
fn busy_or(e: Error, config: &SqliteConfig) -> Error {
    match e {
        Error::Storage(m) if m.ends_with(BUSY_MARK) => Error::Busy {
            waited_ms: u64::try_from(config.busy_timeout.as_millis()).unwrap_or(u64::MAX),
            retry_after_seconds: 1,
        },
        e => e,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use esr_core::{VpdCode, org::TrustSettings};

    fn trust(vpd: &str) -> esr_core::org::Trust {
        let now = esr_core::chrono::DateTime::UNIX_EPOCH;
        esr_core::org::Trust::new(
            vpd.parse().unwrap(),
            "Test Trust",
            TrustSettings::default(),
            now,
        )
        .unwrap()
    }

    #[test]
    fn opening_applies_the_migrations_once_and_keeps_the_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("esr.db");
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version(), table::MIGRATIONS.len() as u32);
        assert_eq!(store.path(), path);
        store.transaction(|tx| tx.put_trust(&trust("297"))).unwrap();
        drop(store);
        let store = SqliteStore::open(&path).unwrap();
        let v: VpdCode = "297".parse().unwrap();
        let back = store.transaction(|tx| tx.trust(v)).unwrap();
        assert_eq!(back, Some(trust("297")));
        let conn = store.conn.lock().unwrap();
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, table::MIGRATIONS.len() as u32);
    }

    #[test]
    fn a_version_1_database_is_upgraded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("esr.db");
        {
            // A database as version 1 left it: its tables, and a trust in them.
            let conn = rusqlite::Connection::open(&path).unwrap();
            let m = &table::MIGRATIONS[0];
            let mut sql: String = m.tables.iter().map(|t| t.ddl()).collect();
            sql.push_str(m.sql);
            sql.push_str("PRAGMA user_version = 1;");
            conn.execute_batch(&sql).unwrap();
        }
        {
            let store = SqliteStore::open(&path).unwrap();
            store.transaction(|tx| tx.put_trust(&trust("297"))).unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version(), table::MIGRATIONS.len() as u32);
        let v: VpdCode = "297".parse().unwrap();
        assert_eq!(
            store.transaction(|tx| tx.trust(v)).unwrap(),
            Some(trust("297"))
        );
        // Version 2's tables exist and answer.
        assert!(
            store
                .transaction(|tx| tx.certifications(v))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn version_8_competence_records_are_moved_to_columns_unchanged() {
        use esr_core::chrono::NaiveDate;
        use esr_core::compliance::{CSTF_TITLES, CompetenceLevel, CompetenceRecord, cstf};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("esr.db");
        let v: VpdCode = "297".parse().unwrap();
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let records = vec![
            CompetenceRecord {
                vpd: v,
                employee_number: "200000001".parse().unwrap(),
                competence: cstf(CSTF_TITLES[1]).unwrap(),
                achieved: date(2024, 2, 29),
                expiry: Some(date(2026, 2, 28)),
                level: CompetenceLevel::assessed(),
            },
            CompetenceRecord {
                vpd: v,
                employee_number: "200000002".parse().unwrap(),
                competence: cstf(CSTF_TITLES[4]).unwrap(),
                achieved: date(1999, 12, 31),
                expiry: None,
                level: "3 - Expert, with a \"quote\"".parse().unwrap(),
            },
        ];
        {
            // A database as version 8 left it, with competence records as JSON documents.
            let conn = rusqlite::Connection::open(&path).unwrap();
            let mut sql = String::new();
            for m in &table::MIGRATIONS[..8] {
                sql.extend(m.tables.iter().map(|t| t.ddl()));
                sql.push_str(m.sql);
            }
            sql.push_str("PRAGMA user_version = 8;");
            conn.execute_batch(&sql).unwrap();
            for (i, r) in records.iter().enumerate() {
                table::COMPETENCE_RECORDS_V1
                    .put(
                        &conn,
                        &format!("k{i}"),
                        v.as_str(),
                        vec![rusqlite::types::Value::Text(r.employee_number.to_string())],
                        r,
                        None,
                    )
                    .unwrap();
            }
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version(), 9);
        assert_eq!(store.read(|tx| tx.competence_records(v)).unwrap(), records);
        assert_eq!(
            store
                .read(|tx| tx.competence_records_of(v, &records[1].employee_number))
                .unwrap(),
            records[1..]
        );
    }

    #[test]
    fn a_database_from_a_newer_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("esr.db");
        drop(SqliteStore::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA user_version = 99;")
            .unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(
            matches!(&err, Error::Storage(m) if m.contains("version 99")),
            "{err}"
        );
    }

    #[test]
    fn wal_and_the_configured_synchronous_setting_are_in_force() {
        let dir = tempfile::tempdir().unwrap();
        for (sync, code) in [
            (Synchronous::Off, 0),
            (Synchronous::Normal, 1),
            (Synchronous::Full, 2),
            (Synchronous::Extra, 3),
        ] {
            let config = SqliteConfig {
                synchronous: sync,
                ..SqliteConfig::default()
            };
            let store =
                SqliteStore::open_with(dir.path().join(format!("{code}.db")), &config).unwrap();
            let conn = store.conn.lock().unwrap();
            let mode: String = conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap();
            let got: i64 = conn
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap();
            assert_eq!((mode.as_str(), got), ("wal", code));
        }
        assert_eq!(SqliteConfig::default().synchronous, Synchronous::Full);
    }

    #[test]
    fn a_path_that_cannot_be_opened_is_a_storage_error_naming_it() {
        let err = SqliteStore::open("/nonexistent-directory/esr.db").unwrap_err();
        assert!(
            matches!(&err, Error::Storage(m) if m.contains("/nonexistent-directory/esr.db")),
            "{err}"
        );
    }

    #[test]
    fn the_audit_table_refuses_updates_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("esr.db")).unwrap();
        let conn = store.conn.lock().unwrap();
        conn.execute(
            "INSERT INTO audit (vpd, seq, body) VALUES ('297', 1, '{}')",
            [],
        )
        .unwrap();
        for sql in [
            "UPDATE audit SET body = '[]'",
            "DELETE FROM audit WHERE seq = 1",
        ] {
            let err = conn.execute(sql, []).unwrap_err();
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_file_its_wal_and_its_shm_are_private_to_the_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("esr.db");
        let store = SqliteStore::open(&path).unwrap();
        store.transaction(|tx| tx.put_trust(&trust("297"))).unwrap();
        let v: VpdCode = "297".parse().unwrap();
        store.read(|tx| tx.trust(v)).unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let file = dir.path().join(format!("esr.db{suffix}"));
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", file.display());
        }
    }

    #[test]
    fn a_write_that_cannot_get_the_lock_in_time_is_busy_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("esr.db");
        let config = SqliteConfig {
            busy_timeout: Duration::from_millis(50),
            ..SqliteConfig::default()
        };
        let store = SqliteStore::open_with(&path, &config).unwrap();
        // Another "process": a connection of its own holding the write lock.
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE;").unwrap();
        let err = store
            .transaction(|tx| tx.put_trust(&trust("297")))
            .unwrap_err();
        assert_eq!(err.kind(), esr_core::ErrorKind::Busy, "{err}");
        assert_eq!(
            err.retry_after(),
            Some(esr_core::chrono::TimeDelta::seconds(1))
        );
        assert!(err.to_string().contains("retry"), "{err}");
        // Reads do not wait for the writer.
        let v: VpdCode = "297".parse().unwrap();
        assert_eq!(store.read(|tx| tx.trust(v)).unwrap(), None);
        other.execute_batch("COMMIT;").unwrap();
        store.transaction(|tx| tx.put_trust(&trust("297"))).unwrap();
        assert_eq!(store.read(|tx| tx.trust(v)).unwrap(), Some(trust("297")));
    }

    #[test]
    fn a_read_sees_the_snapshot_it_began_with_while_the_writer_commits() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("esr.db")).unwrap();
        let v: VpdCode = "297".parse().unwrap();
        store
            .read(|tx| {
                assert_eq!(tx.trust(v)?, None);
                // The writer commits while this read is open: it does not wait, and the read
                // keeps its snapshot.
                store.transaction(|w| w.put_trust(&trust("297")))?;
                assert_eq!(tx.trust(v)?, None);
                Ok(())
            })
            .unwrap();
        assert_eq!(store.read(|tx| tx.trust(v)).unwrap(), Some(trust("297")));
    }
}
