//! A fresh store per test: a new schema in the database `ESR_POSTGRES_URL` names.

use esr_core::{Result, Store, StoreTx};
use esr_postgres::{PgConfig, PostgresStore};
use std::sync::atomic::{AtomicU32, Ordering};

/// The server's URL; a test fails (never skips) when it is not set.
pub(crate) fn url() -> String {
    std::env::var("ESR_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "ESR_POSTGRES_URL is not set: the esr-postgres tests need a PostgreSQL server. \
             Start a throwaway one with `scripts/postgres start` and \
             `eval \"$(scripts/postgres env)\"`, or point ESR_POSTGRES_URL at an existing \
             server (postgresql://user:password@host:5432/database) on which the user may \
             create schemas"
        )
    })
}

/// A schema name no other test (of this or another process) uses.
pub(crate) fn unique_schema(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "esr_{tag}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The configuration of a store in `schema`.
pub(crate) fn config(schema: &str) -> PgConfig {
    let mut c = PgConfig::new(url());
    c.schema = Some(schema.to_owned());
    c.pool_size = 4;
    c
}

/// A direct connection whose search path is `schema`.
pub(crate) fn client_in(schema: &str) -> postgres::Client {
    let mut c = postgres::Client::connect(&url(), postgres::NoTls).expect("connect");
    c.batch_execute(&format!("SET search_path = {schema}"))
        .expect("search path");
    c
}

/// A store in a schema of its own, dropped with the store.
pub(crate) struct TempStore {
    pub(crate) store: PostgresStore,
    schema: String,
}

impl Store for TempStore {
    fn transaction<R>(&self, f: impl FnMut(&mut dyn StoreTx) -> Result<R>) -> Result<R> {
        self.store.transaction(f)
    }
    fn read<R>(&self, f: impl FnMut(&dyn StoreTx) -> Result<R>) -> Result<R> {
        self.store.read(f)
    }
}

impl TempStore {
    /// The schema its tables are in.
    pub(crate) fn schema(&self) -> &str {
        &self.schema
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&url(), postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

/// A new, empty store.
pub(crate) fn fresh() -> TempStore {
    temp(&config(&unique_schema("t")))
}

/// A store opened with `config`, which names a schema of its own: dropped with the store.
pub(crate) fn temp(config: &PgConfig) -> TempStore {
    let schema = config.schema.clone().expect("a schema of the store's own");
    let store = PostgresStore::open(config).expect("open the PostgreSQL store");
    TempStore { store, schema }
}
