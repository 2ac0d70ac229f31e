//! Two stores (two connections, as two processes would have) on one database file: their
//! transactions serialise through SQLite's write lock (`BEGIN IMMEDIATE` and the busy timeout),
//! and of verifications of one code racing through both, exactly one is approved.

#![allow(clippy::unwrap_used)]

use esr_core::chrono::TimeDelta;
use esr_core::store::testkit::{Harness, MOBILE};
use esr_core::{Clock, Store, passcode::VerifyOutcome};
use esr_sqlite::SqliteStore;
use std::sync::Barrier;

#[test]
fn racing_verifications_through_two_connections_have_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let one = Harness::new(SqliteStore::open(&path).unwrap());
    let p = one.populate("297".parse().unwrap());
    let two = Harness::new(SqliteStore::open(&path).unwrap());
    let barrier = Barrier::new(4);
    for round in 0..10 {
        one.clock.advance(TimeDelta::seconds(7));
        two.clock.advance(one.clock.now() - two.clock.now());
        let c = one.esr.request_mobile_code(p.session, MOBILE).unwrap();
        let code = one.outbox.last_code_to(&MOBILE.parse().unwrap()).unwrap();
        let results: Vec<VerifyOutcome> = std::thread::scope(|s| {
            let handles: Vec<_> = [&one, &one, &two, &two]
                .into_iter()
                .map(|h| {
                    let (barrier, c, code) = (&barrier, &c, &code);
                    s.spawn(move || {
                        barrier.wait();
                        h.esr
                            .verify_passcode(p.session, &c.id, c.purpose, code)
                            .unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let approved = results.iter().filter(|o| o.is_approved()).count();
        let used = results
            .iter()
            .filter(|o| **o == VerifyOutcome::AlreadyUsed)
            .count();
        assert_eq!((approved, used), (1, 3), "round {round}: {results:?}");
    }
    one.esr.verify_audit(p.vpd).unwrap();
}

#[test]
fn no_update_is_lost_between_two_connections() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let one = Harness::new(SqliteStore::open(&path).unwrap());
    let p = one.populate("297".parse().unwrap());
    let two = SqliteStore::open(&path).unwrap();
    let u = &p.people[1].username;
    std::thread::scope(|s| {
        for store in [one.esr.store(), &two] {
            s.spawn(move || {
                for _ in 0..50 {
                    store
                        .transaction(|tx| {
                            let mut acc = tx.account(u)?.unwrap();
                            acc.passcode_failures += 1;
                            tx.put_account(&acc)
                        })
                        .unwrap();
                }
            });
        }
    });
    let acc = two.transaction(|tx| tx.account(u)).unwrap().unwrap();
    assert_eq!(acc.passcode_failures, 100);
}
