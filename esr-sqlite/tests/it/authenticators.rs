//! Authenticator apps on a SQLite file: of upgrades racing with one code through two
//! connections (as two processes would have), exactly one wins, round after round; and the
//! sealed secret and the replay guard survive reopening the file.

#![allow(clippy::unwrap_used)]

use esr_core::authenticator::{AuthenticatorOutcome, Totp};
use esr_core::chrono::TimeDelta;
use esr_core::org::UpgradeAccess;
use esr_core::store::testkit::{Harness, PASSWORD, Population};
use esr_core::urp::{GrantRequest, Urp};
use esr_core::{Actor, Clock, SessionId, Store};
use esr_sqlite::SqliteStore;
use std::sync::Barrier;

/// Makes ALICE adams (people[2], reporting to Alice Adams) a manager who can upgrade, with a
/// confirmed authenticator app; the app.
fn manager_with_app(h: &Harness<SqliteStore>, p: &Population) -> Totp {
    let [a, b, c] = &p.people;
    let system = Actor::system("set-up").unwrap();
    h.esr
        .set_upgrade_access(
            &system,
            p.vpd,
            UpgradeAccess {
                manager: true,
                professional: false,
            },
        )
        .unwrap();
    h.esr
        .grant_urp(
            h.hscn(&b.username),
            GrantRequest::new(
                c.username.clone(),
                Urp::ManagerSelfServicePayrollApprovalsNotRequired,
                "ward manager",
            )
            .verified_by_line_manager(a.employee_number.clone()),
        )
        .unwrap();
    let e = h.esr.enrol_authenticator(p.session).unwrap();
    let app = Totp::from_uri(e.uri().expose()).unwrap();
    let now = h.clock.now().timestamp();
    let out = h
        .esr
        .confirm_authenticator(p.session, &app.code_at(now))
        .unwrap();
    assert_eq!(out, AuthenticatorOutcome::Activated);
    app
}

fn internet(h: &Harness<SqliteStore>, p: &Population) -> SessionId {
    h.esr
        .log_in_with_password(
            &p.people[2].username.to_string(),
            &esr_core::people::Password::new(PASSWORD),
        )
        .unwrap()
        .id
}

#[test]
fn racing_upgrades_with_one_code_through_two_connections_have_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let one = Harness::new(SqliteStore::open(&path).unwrap());
    let p = one.populate("297".parse().unwrap());
    let app = manager_with_app(&one, &p);
    let two = Harness::new(SqliteStore::open(&path).unwrap());
    let barrier = Barrier::new(4);
    for round in 0..8 {
        one.clock.advance(TimeDelta::seconds(30));
        two.clock.advance(one.clock.now() - two.clock.now());
        let code = app.code_at(one.clock.now().timestamp());
        let sessions: Vec<(SessionId, &Harness<SqliteStore>)> = [&one, &one, &two, &two]
            .into_iter()
            // Sessions are opened through one (the two harnesses draw the same random ids),
            // and used through both.
            .map(|h| (internet(&one, &p), h))
            .collect();
        let results: Vec<AuthenticatorOutcome> = std::thread::scope(|s| {
            let handles: Vec<_> = sessions
                .iter()
                .map(|(id, h)| {
                    let (barrier, code) = (&barrier, &code);
                    s.spawn(move || {
                        barrier.wait();
                        h.esr.upgrade_with_authenticator(*id, code).unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let won = results.iter().filter(|o| o.is_approved()).count();
        let replayed = results
            .iter()
            .filter(|o| **o == AuthenticatorOutcome::Replayed)
            .count();
        assert_eq!((won, replayed), (1, 3), "round {round}: {results:?}");
    }
    one.esr.verify_audit(p.vpd).unwrap();
    // Reopened: the secret still opens and the last step is still refused.
    let code = app.code_at(one.clock.now().timestamp());
    drop(two);
    let now = one.clock.now();
    drop(one);
    let again = Harness::new(SqliteStore::open(&path).unwrap());
    again.clock.advance(now - again.clock.now());
    // The reopened harness draws the ids already used: skip past them.
    let s = loop {
        if let Ok(s) = again.esr.log_in_with_password(
            &p.people[2].username.to_string(),
            &esr_core::people::Password::new(PASSWORD),
        ) {
            break s.id;
        }
    };
    assert_eq!(
        again.esr.upgrade_with_authenticator(s, &code).unwrap(),
        AuthenticatorOutcome::Replayed
    );
    again.clock.advance(TimeDelta::seconds(30));
    let code = app.code_at(again.clock.now().timestamp());
    assert!(
        again
            .esr
            .upgrade_with_authenticator(s, &code)
            .unwrap()
            .is_approved()
    );
    assert!(
        again
            .esr
            .store()
            .transaction(|tx| tx.authenticator(&p.people[2].username))
            .unwrap()
            .unwrap()
            .is_active()
    );
}
