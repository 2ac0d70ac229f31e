//! The schema's own guarantees: migrations once, a newer database refused, the audit table
//! append-only for anyone with SQL, and a conflict the retries cannot resolve reported as Busy.

use crate::common::{client_in, config, fresh};
use esr_core::store::testkit::Harness;
use esr_core::{Error, Store};
use esr_postgres::PostgresStore;
use std::sync::Barrier;

#[test]
fn migrations_apply_once_and_a_newer_database_is_refused() {
    let t = fresh();
    let v = t.store.schema_version();
    assert!(v >= 1);
    // Opening again changes nothing.
    let again = PostgresStore::open(&config(t.schema())).unwrap();
    assert_eq!(again.schema_version(), v);
    client_in(t.schema())
        .batch_execute("UPDATE esr_schema SET version = 999")
        .unwrap();
    let e = PostgresStore::open(&config(t.schema())).unwrap_err();
    assert!(e.to_string().contains("newer"), "{e}");
}

#[test]
fn the_audit_table_refuses_updates_and_deletes_from_anyone() {
    let h = Harness::new(fresh());
    let p = h.populate("297".parse().unwrap());
    let mut c = client_in(h.esr.store().schema());
    for sql in [
        "UPDATE audit SET hash = 'x'",
        "DELETE FROM audit",
        "TRUNCATE audit",
    ] {
        let e = c.batch_execute(sql).unwrap_err();
        assert!(
            e.to_string().contains("append-only") || format!("{e:?}").contains("append-only"),
            "{sql}: {e:?}"
        );
    }
    h.esr.verify_audit(p.vpd).unwrap();
}

#[test]
fn a_conflict_without_retries_left_is_busy_and_changes_nothing() {
    let h = Harness::new(fresh());
    let p = h.populate("297".parse().unwrap());
    let u = &p.people[1].username;
    let mut cfg = config(h.esr.store().schema());
    cfg.max_retries = 0;
    let (one, two) = (
        PostgresStore::open(&cfg).unwrap(),
        PostgresStore::open(&cfg).unwrap(),
    );
    let before = h
        .esr
        .store()
        .read(|tx| tx.account(u))
        .unwrap()
        .unwrap()
        .passcode_failures;
    let barrier = Barrier::new(2);
    let results: Vec<Result<(), Error>> = std::thread::scope(|s| {
        let hs: Vec<_> = [&one, &two]
            .into_iter()
            .map(|store| {
                let barrier = &barrier;
                s.spawn(move || {
                    store.transaction(|tx| {
                        let mut acc = tx.account(u)?.unwrap();
                        // Both have read before either writes: one of them must lose.
                        barrier.wait();
                        acc.passcode_failures += 1;
                        tx.put_account(&acc)
                    })
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let busy = results
        .iter()
        .filter(|r| matches!(r, Err(Error::Busy { .. })))
        .count();
    assert_eq!(
        (results.iter().filter(|r| r.is_ok()).count(), busy),
        (1, 1),
        "{results:?}"
    );
    let after = h
        .esr
        .store()
        .read(|tx| tx.account(u))
        .unwrap()
        .unwrap()
        .passcode_failures;
    assert_eq!(after, before + 1);
}
