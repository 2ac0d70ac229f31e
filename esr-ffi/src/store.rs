//! Where an [`crate::EsrService`] keeps its state: in memory (tests, previews) or in a SQLite
//! file through `esr-sqlite` (an app whose state must survive a relaunch).

use esr_core::store::{Store, StoreTx};
use esr_core::{InMemoryStore, Result};
use esr_sqlite::SqliteStore;

/// The store behind a service, chosen when it is made.
#[derive(Debug)]
pub(crate) enum AnyStore {
    /// Lost when the service is dropped.
    Memory(Box<InMemoryStore>),
    /// A SQLite database file.
    Sqlite(Box<SqliteStore>),
}

impl AnyStore {
    /// What the service's `Debug` shows: never more than the kind and the file.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Memory(_) => "in memory".to_owned(),
            Self::Sqlite(s) => format!("SQLite file {}", s.path().display()),
        }
    }
}

impl Store for AnyStore {
    fn transaction<R>(&self, f: impl FnMut(&mut dyn StoreTx) -> Result<R>) -> Result<R> {
        match self {
            Self::Memory(s) => s.transaction(f),
            Self::Sqlite(s) => s.transaction(f),
        }
    }
    fn read<R>(&self, f: impl FnMut(&dyn StoreTx) -> Result<R>) -> Result<R> {
        match self {
            Self::Memory(s) => s.read(f),
            Self::Sqlite(s) => s.read(f),
        }
    }
}
