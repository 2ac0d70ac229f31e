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
//!   library (OpenSSL on Linux), and the URL's `sslmode` (`require`, `prefer`) decides. The
//!   server's certificate is always verified, chain and host name, against the system's trust
//!   store and any [`PgConfig::root_certificates`] (a private or cloud CA); giving those makes
//!   TLS required, so a server that answers "no TLS" cannot talk the store down to plain text.
//!   Without the feature, connect over a Unix socket or a private network; `sslmode=require` is
//!   then refused at open.
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
    /// Certificates (PEM, one or more: a CA bundle as a cloud provider publishes it) trusted
    /// for the server's certificate besides the system's trust store (the `tls` feature).
    /// Giving any makes TLS required (`sslmode=prefer`, the default, becomes `require`);
    /// `sslmode=disable` with them is refused as a contradiction.
    pub root_certificates: Option<Vec<u8>>,
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
            .field(
                "root_certificates",
                &self.root_certificates.as_ref().map(Vec::len),
            )
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
            root_certificates: None,
        }
    }

    /// The same, also trusting the certificates in `pem` for the server (see
    /// [`PgConfig::root_certificates`]).
    pub fn with_root_certificates(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates = Some(pem.into());
        self
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

/// Settles `sslmode` against the configuration, before anything connects: root certificates
/// make TLS required (a server, or anyone between, answering "no TLS" to a store told which
/// CA to trust must not get plain text), and contradict `disable`.
fn settle_ssl_mode(pg: &mut postgres::Config, config: &PgConfig) -> Result<()> {
    use postgres::config::SslMode;
    if config.root_certificates.is_some() {
        match pg.get_ssl_mode() {
            SslMode::Disable => {
                return Err(Error::Storage(
                    "root certificates were given for PostgreSQL but the connection string \
                     says sslmode=disable; remove one or the other"
                        .into(),
                ));
            }
            SslMode::Prefer => {
                pg.ssl_mode(SslMode::Require);
            }
            _ => {}
        }
    }
    if cfg!(not(feature = "tls"))
        && (config.root_certificates.is_some() || pg.get_ssl_mode() == SslMode::Require)
    {
        return Err(Error::Storage(
            "TLS to PostgreSQL was asked for (sslmode=require or root certificates) but \
             esr-postgres was built without its `tls` feature; enable it"
                .into(),
        ));
    }
    Ok(())
}

#[cfg(feature = "tls")]
fn connector(config: &PgConfig) -> Result<Connector> {
    let mut builder = native_tls::TlsConnector::builder();
    if let Some(pem) = &config.root_certificates {
        let certs = native_tls::Certificate::stack_from_pem(pem)
            .ok()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                Error::Storage(
                    "the root certificates for PostgreSQL cannot be read; give one or more \
                     certificates in PEM (-----BEGIN CERTIFICATE-----)"
                        .into(),
                )
            })?;
        for cert in certs {
            builder.add_root_certificate(cert);
        }
    }
    let tls = builder
        .build()
        .map_err(|e| Error::Storage(format!("could not set up TLS for PostgreSQL: {e}")))?;
    Ok(postgres_native_tls::MakeTlsConnector::new(tls))
}
#[cfg(not(feature = "tls"))]
fn connector(_: &PgConfig) -> Result<Connector> {
    Ok(postgres::NoTls)
}

/// Why a connection could not be opened, with every cause: `postgres::Error` shows only its
/// own kind ("error performing TLS handshake"), and the pool keeps only this text of the last
/// failure, so the reason (a certificate for another host, a server without TLS) is written
/// out here or lost.
#[derive(Debug)]
struct ConnectError(String);

impl ConnectError {
    fn of(e: &postgres::Error) -> Self {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(cause) = source {
            let more = cause.to_string();
            // Some causes repeat their own cause's text; say each thing once.
            if !text.contains(&more) {
                text.push_str(": ");
                text.push_str(&more);
            }
            source = cause.source();
        }
        Self(text)
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

/// Opens connections for the pool.
struct Manager {
    config: postgres::Config,
    connector: Connector,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = ConnectError;

    fn connect(&self) -> std::result::Result<PgConn, ConnectError> {
        Ok(PgConn {
            // NoTls is Copy, the TLS connector only Clone.
            #[allow(clippy::clone_on_copy)]
            client: self
                .config
                .connect(self.connector.clone())
                .map_err(|e| ConnectError::of(&e))?,
            statements: HashMap::new(),
        })
    }
    fn is_valid(&self, conn: &mut PgConn) -> std::result::Result<(), ConnectError> {
        conn.client
            .simple_query("")
            .map(drop)
            .map_err(|e| ConnectError::of(&e))
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
        // A name the URL gives (one per application server, say) is kept for the DBA.
        if pg.get_application_name().is_none() {
            pg.application_name("esr");
        }
        settle_ssl_mode(&mut pg, config)?;
        let connector = connector(config)?;
        let pool = r2d2::Pool::builder()
            .max_size(config.pool_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(config.connect_timeout)
            .build_unchecked(Manager {
                config: pg,
                connector,
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
                "could not connect to PostgreSQL: {e}; check the server is running, the \
                 connection string and, over TLS, that the server's certificate is for the host \
                 the string names and signed by a CA the system or PgConfig::root_certificates \
                 trusts"
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A URL that names no server: these are refused before anything connects.
    const NOWHERE: &str = "postgresql://esr@127.0.0.1:1/esr";

    fn refusal(config: &PgConfig) -> String {
        match PostgresStore::open(config) {
            Ok(_) => panic!("opened a store with no server"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    #[cfg(not(feature = "tls"))]
    fn tls_asked_of_a_build_without_it_is_refused_at_open() {
        for config in [
            PgConfig::new(format!("{NOWHERE}?sslmode=require")),
            PgConfig::new(NOWHERE).with_root_certificates(b"-----BEGIN CERTIFICATE-----".to_vec()),
        ] {
            assert!(refusal(&config).contains("`tls` feature"), "{config:?}");
        }
    }

    #[test]
    fn root_certificates_contradicting_sslmode_disable_are_refused() {
        let config = PgConfig::new(format!("{NOWHERE}?sslmode=disable"))
            .with_root_certificates(b"-----BEGIN CERTIFICATE-----".to_vec());
        assert!(refusal(&config).contains("sslmode=disable"));
    }

    #[test]
    fn the_debug_form_shows_neither_the_url_nor_the_certificates() {
        let config =
            PgConfig::new("postgresql://esr:s3cret@db/esr").with_root_certificates(b"PEM".to_vec());
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("PEM"),
            "{shown}"
        );
    }
}
