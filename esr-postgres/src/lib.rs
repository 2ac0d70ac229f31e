//! # esr-postgres
//!
//! A [`Store`] for `esr-core` on a PostgreSQL server, so that several application servers (each
//! its own `Esr`, in its own process) share one database and the service's contracts hold
//! between them. It passes the core's storage conformance kit.
//!
//! - **Schema**: versioned migrations embedded in the crate, applied on open in one
//!   transaction under an advisory lock (several servers may start at once); the version is
//!   kept in the `esr_schema` table. A database whose schema is newer than this crate knows is
//!   refused rather than misread.
//! - **Tables a DBA can read**: every key, state, time and foreign key a query filters on or
//!   that must be unique is a typed column (`TEXT` codes, `TIMESTAMPTZ` times, `DATE` dates)
//!   with an index for each lookup the store makes; the rest of a record is JSONB in `body`.
//!   Secrets (`Account::password_hash`, `Person::mobile`, `Challenge::destination`, an outbox
//!   payload) are in their own `secret` column, never in the JSON.
//! - **Audit trail**: append-only at the database level: a trigger refuses every `UPDATE`,
//!   `TRUNCATE`, and every `DELETE` but of the prefix below the trust's archive boundary that
//!   `remove_audit_before` records first.
//! - **Transactions**: each [`Store::transaction`] is one `SERIALIZABLE` transaction on a
//!   pooled connection ([`PgConfig::pool_size`]). When PostgreSQL refuses it for a conflict
//!   with another transaction (serialization failure `40001` or deadlock `40P01`), the store
//!   rolls back and runs the closure again, alone (a table lock taken before its snapshot:
//!   shared by first attempts, exclusive for a retry), up to [`PgConfig::max_retries`] times, then
//!   returns [`Error::Busy`] (retryable) having changed nothing. So single use of a code, the
//!   send limits, the two-user-administrator floor and unique usernames hold across processes.
//! - **Reads**: each [`Store::read`] is a `REPEATABLE READ READ ONLY` transaction: one snapshot
//!   of committed state, which never blocks writers nor is refused.
//! - **Sessions**: kept under the SHA-256 of their id; the id is never written.
//! - **TLS**: with the `tls` feature, connections go through the operating system's TLS
//!   library and trust store (OpenSSL on Linux), and the URL's `sslmode` (`require`, `prefer`)
//!   decides; without it, connect over a Unix socket or a private network.
//!
//! ```no_run
//! use esr_core::{Esr, SystemClock, org::TrustSettings};
//! use esr_postgres::{PgConfig, PostgresStore};
//! # fn main() -> Result<(), esr_core::Error> {
//! let store = PostgresStore::open(&PgConfig::new("postgresql://esr@localhost/esr"))?;
//! let esr = Esr::new(store, SystemClock);
//! esr.create_trust("297".parse()?, "Example NHS Foundation Trust", TrustSettings::default())?;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod competence;
mod table;
mod tx;

use esr_core::{Error, Result, Store, StoreTx};
use postgres::error::SqlState;
use postgres::{Client, IsolationLevel, Statement};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How a [`PostgresStore`] connects.
#[derive(Clone, PartialEq, Eq)]
pub struct PgConfig {
    /// The connection string: a URL (`postgresql://user@host:port/db`, with `?host=/run/…`
    /// for a Unix socket) or `key=value` pairs.
    pub url: String,
    /// The most connections the pool opens (default 8): at most this many transactions of
    /// this process run at once; more wait for a connection.
    pub pool_size: u32,
    /// How many times a transaction refused for a conflict is run again before
    /// [`Error::Busy`] (default 20). A run after the first runs alone.
    pub max_retries: u32,
    /// How long to wait for a connection from the pool (default 10 seconds).
    pub connect_timeout: Duration,
    /// A schema to keep the tables in (created if missing) instead of the connection's
    /// default (`public`): several independent stores in one database, as the tests use.
    pub schema: Option<String>,
}

impl std::fmt::Debug for PgConfig {
    // The URL may hold a password: it is not shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConfig")
            .field("url", &"<hidden>")
            .field("pool_size", &self.pool_size)
            .field("max_retries", &self.max_retries)
            .field("connect_timeout", &self.connect_timeout)
            .field("schema", &self.schema)
            .finish()
    }
}

impl PgConfig {
    /// The defaults, connecting to `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: 8,
            max_retries: 20,
            connect_timeout: Duration::from_secs(10),
            schema: None,
        }
    }
}

/// A pooled connection and its prepared statements.
pub(crate) struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
}

/// How connections are secured: the `tls` feature's connector (the system's TLS library and
/// trust store; the URL's `sslmode` decides whether TLS is used), or none.
#[cfg(feature = "tls")]
type Connector = postgres_native_tls::MakeTlsConnector;
#[cfg(not(feature = "tls"))]
type Connector = postgres::NoTls;

#[cfg(feature = "tls")]
fn connector() -> Result<Connector> {
    let tls = native_tls::TlsConnector::builder()
        .build()
        .map_err(|e| Error::Storage(format!("could not set up TLS for PostgreSQL: {e}")))?;
    Ok(postgres_native_tls::MakeTlsConnector::new(tls))
}
#[cfg(not(feature = "tls"))]
fn connector() -> Result<Connector> {
    Ok(postgres::NoTls)
}

/// Opens connections for the pool.
struct Manager {
    config: postgres::Config,
    connector: Connector,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> std::result::Result<PgConn, postgres::Error> {
        Ok(PgConn {
            // NoTls is Copy, the TLS connector only Clone.
            #[allow(clippy::clone_on_copy)]
            client: self.config.connect(self.connector.clone())?,
            statements: HashMap::new(),
        })
    }
    fn is_valid(&self, conn: &mut PgConn) -> std::result::Result<(), postgres::Error> {
        conn.client.simple_query("").map(drop)
    }
    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.client.is_closed()
    }
}

/// A store on a PostgreSQL database, shared by any number of processes.
pub struct PostgresStore {
    pool: r2d2::Pool<Manager>,
    config: PgConfig,
    schema_version: u32,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("config", &self.config)
            .field("schema_version", &self.schema_version)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects with `config` and brings the schema up to date.
    pub fn open(config: &PgConfig) -> Result<Self> {
        let mut pg: postgres::Config = config.url.parse().map_err(|e| {
            Error::Storage(format!(
                "the PostgreSQL connection string cannot be read ({e}); give a URL such as \
                 postgresql://user@host:5432/database"
            ))
        })?;
        if let Some(schema) = &config.schema {
            if !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(Error::Storage(format!(
                    "the schema name {schema:?} is not letters, digits and underscores"
                )));
            }
            pg.options(&format!("-c search_path={schema}"));
        }
        pg.application_name("esr");
        let pool = r2d2::Pool::builder()
            .max_size(config.pool_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(config.connect_timeout)
            .build_unchecked(Manager {
                config: pg,
                connector: connector()?,
            });
        let mut store = Self {
            pool,
            config: config.clone(),
            schema_version: 0,
        };
        store.schema_version = store.migrate()?;
        Ok(store)
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> u32 {
        self.schema_version
    }

    fn conn(&self) -> Result<r2d2::PooledConnection<Manager>> {
        self.pool.get().map_err(|e| {
            Error::Storage(format!(
                "could not connect to PostgreSQL: {e}; check the server is running and the \
                 connection string"
            ))
        })
    }

    /// Applies the migrations this database lacks, in one transaction.
    fn migrate(&self) -> Result<u32> {
        let latest = u32::try_from(table::MIGRATIONS.len()).unwrap_or(u32::MAX);
        let mut conn = self.conn()?;
        let fail =
            |doing: &'static str| move |e: postgres::Error| storage_error("schema", doing, &e);
        let mut tx = conn
            .client
            .transaction()
            .map_err(fail("begin a migration"))?;
        if let Some(schema) = &self.config.schema {
            tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .map_err(fail("create the schema"))?;
        }
        // Servers starting together migrate one at a time.
        tx.batch_execute(
            "SELECT pg_advisory_xact_lock(hashtext('esr-postgres migrate ' || current_schema()));
             CREATE TABLE IF NOT EXISTS esr_schema (version INTEGER NOT NULL);",
        )
        .map_err(fail("lock the schema"))?;
        let current: Option<i32> = tx
            .query_opt("SELECT version FROM esr_schema", &[])
            .map_err(fail("read the version"))?
            .map(|r| r.get(0));
        let current = current.map_or(0, |v| u32::try_from(v).unwrap_or(0));
        if current > latest {
            return Err(Error::Storage(format!(
                "the database's schema is version {current}, newer than this esr-postgres knows \
                 ({latest}); use a newer esr-postgres"
            )));
        }
        for (i, m) in table::MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.batch_execute(&table::migration_sql(m))
                .map_err(fail("apply a migration"))?;
            let v = i32::try_from(i + 1).unwrap_or(i32::MAX);
            tx.execute("DELETE FROM esr_schema", &[])
                .and_then(|_| tx.execute("INSERT INTO esr_schema (version) VALUES ($1)", &[&v]))
                .map_err(fail("record the version"))?;
        }
        tx.commit().map_err(fail("commit a migration"))?;
        Ok(latest)
    }

    /// Runs `f` in a transaction at `level`, again after a conflict, up to the retry limit.
    fn run<R>(
        &self,
        level: IsolationLevel,
        read_only: bool,
        mut f: impl FnMut(&mut tx::Tx<'_>) -> Result<R>,
    ) -> Result<R> {
        let start = Instant::now();
        for attempt in 0..=self.config.max_retries {
            if attempt > 0 {
                std::thread::sleep(backoff(attempt));
            }
            let mut conn = self.conn()?;
            let PgConn { client, statements } = &mut *conn;
            let t = client
                .build_transaction()
                .isolation_level(level)
                .read_only(read_only)
                .start()
                .map_err(|e| storage_error("transaction", "begin", &e))?;
            let mut t = t;
            if !read_only {
                // Taken before the snapshot. First attempts share the lock, so writers run in
                // parallel and SERIALIZABLE decides; a transaction run again after a conflict
                // takes it alone, waiting for the writers in flight and holding back new ones,
                // so that under contention (as on one trust's audit trail) it cannot lose again.
                let mode = if attempt == 0 {
                    "ROW EXCLUSIVE"
                } else {
                    "SHARE ROW EXCLUSIVE"
                };
                t.batch_execute(&format!("LOCK TABLE esr_schema IN {mode} MODE"))
                    .map_err(|e| storage_error("transaction", "take the write lock", &e))?;
            }
            let mut tx = tx::Tx::new(t, statements);
            let out = f(&mut tx);
            let conflict = tx.conflict.get();
            let t = tx.tx.into_inner();
            if conflict {
                drop(t.rollback());
                continue;
            }
            match out {
                Ok(v) => match t.commit() {
                    Ok(()) => return Ok(v),
                    Err(e) if is_conflict(&e) => continue,
                    Err(e) => return Err(storage_error("transaction", "commit", &e)),
                },
                Err(e) => {
                    drop(t.rollback());
                    return Err(e);
                }
            }
        }
        Err(Error::Busy {
            waited_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
            retry_after_seconds: 1,
        })
    }
}

impl Store for PostgresStore {
    fn transaction<R>(&self, mut f: impl FnMut(&mut dyn StoreTx) -> Result<R>) -> Result<R> {
        self.run(IsolationLevel::Serializable, false, |tx| f(tx))
    }

    fn read<R>(&self, mut f: impl FnMut(&dyn StoreTx) -> Result<R>) -> Result<R> {
        self.run(IsolationLevel::RepeatableRead, true, |tx| f(tx))
    }
}

/// How long to wait before running a transaction again: growing, with jitter so that the
/// processes that conflicted do not meet again.
fn backoff(attempt: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(attempt);
    let cap_us = 100u64 << attempt.min(7);
    Duration::from_micros(h.finish() % cap_us.max(1))
}

/// Whether PostgreSQL refused a statement for a conflict with another transaction, which
/// running the transaction again resolves.
pub(crate) fn is_conflict(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

/// A PostgreSQL error as [`Error::Storage`], saying what was being done.
pub(crate) fn storage_error(what: &str, doing: &str, e: &postgres::Error) -> Error {
    let detail = e.as_db_error().map_or_else(
        || e.to_string(),
        |d| format!("{} ({})", d.message(), d.code().code()),
    );
    Error::Storage(format!("PostgreSQL could not {doing} ({what}): {detail}"))
}
