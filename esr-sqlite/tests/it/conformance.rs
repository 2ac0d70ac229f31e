//! The storage conformance kit against the SQLite store: every contract, each on a new
//! database file in its own temporary directory.

use esr_core::{Result, Store, StoreTx};
use esr_sqlite::SqliteStore;

/// A store on a fresh file that lives (with its directory) as long as the store.
struct TempStore {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

impl Store for TempStore {
    fn transaction<R>(&self, f: impl FnMut(&mut dyn StoreTx) -> Result<R>) -> Result<R> {
        self.store.transaction(f)
    }
    fn read<R>(&self, f: impl FnMut(&dyn StoreTx) -> Result<R>) -> Result<R> {
        self.store.read(f)
    }
}

fn fresh() -> TempStore {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open(dir.path().join("esr.db")).expect("open");
    TempStore { store, _dir: dir }
}

esr_core::store_conformance_tests!(fresh());
