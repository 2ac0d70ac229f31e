//! Atomicity under threads: the service is shared across threads, and the rules that read and
//! then write (the two-administrator rule, lockout counting) hold when requests race.

mod common;

use common::*;
use esr_core::*;
use std::sync::Barrier;

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn the_service_is_send_and_sync() {
    assert_send_sync::<Esr<InMemoryStore, ManualClock>>();
    assert_send_sync::<Esr<InMemoryStore, SystemClock>>();
}

#[test]
fn racing_revocations_never_leave_fewer_than_two_user_administrators() {
    let hrms = Urp::LocalHrmsSystemsAndUserAdministration;
    for round in 0..40 {
        let fx = Fixture::builder().seed(round).build();
        let v = fx.vpd();
        // A third administrator, so that exactly one of two racing revocations may succeed.
        let c = fx.staff("Cara", "Cole", "Trust HQ", None);
        fx.grant(c.username(), hrms, GrantScope::WholeTrust);
        let a = fx.t().admin_a.clone();
        let b = fx.t().admin_b.clone();
        // Each revocation is made from the third administrator's session, racing the other.
        let sessions = [fx.hscn(c.username()), fx.hscn(c.username())];
        let barrier = Barrier::new(2);
        let results: Vec<Result<UrpGrant>> = std::thread::scope(|s| {
            let handles: Vec<_> = [a.username(), b.username()]
                .into_iter()
                .zip(sessions)
                .map(|(holder, session)| {
                    let (esr, barrier) = (&fx.esr, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        esr.revoke_urp(session, holder, hrms, "race")
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let ok = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "round {round}: {results:?}");
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(Error::TooFewUserAdministrators { remaining: 1 })))
        );
        let holders = [a.username(), b.username(), c.username()]
            .into_iter()
            .filter(|u| fx.esr.held_urps(u).unwrap().contains(&hrms))
            .count();
        assert_eq!(holders, 2, "round {round}");
        fx.esr.verify_audit(v).unwrap();
    }
}

#[test]
fn racing_wrong_passwords_count_every_failure_and_lock_once() {
    let fx = Fixture::builder().max_failed_logins(5).build();
    let v = fx.vpd();
    let p = fx.staff("Pat", "Poll", "Trust HQ", None);
    let barrier = Barrier::new(8);
    let results: Vec<Result<Session>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (esr, barrier, u) = (&fx.esr, &barrier, p.username().to_string());
                s.spawn(move || {
                    barrier.wait();
                    esr.log_in_with_password(&u, &Password::new("not the password"))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results.iter().all(Result::is_err));
    let acc = fx.esr.account(p.username()).unwrap();
    assert_eq!(acc.state, AccountState::Locked);
    let failures = fx
        .audit(v)
        .iter()
        .filter(|e| matches!(&e.event, AuditEvent::LoginFailed { username, .. } if username == p.username()))
        .count();
    let locks = fx
        .audit(v)
        .iter()
        .filter(|e| matches!(&e.event, AuditEvent::AccountStateChanged { username, to, .. } if username == p.username() && to == "locked"))
        .count();
    assert_eq!(locks, 1, "the account locks exactly once");
    // Attempts that arrive after the lock are refused and not counted: exactly five failures
    // are recorded, whatever the interleaving.
    assert_eq!(acc.failed_logins, 5);
    assert_eq!(failures, 5);
}
