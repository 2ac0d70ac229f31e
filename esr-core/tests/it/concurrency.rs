//! Atomicity under threads: the service is shared across threads, and the rules that read and
//! then write (the two-administrator rule, lockout counting) hold when requests race.

use crate::common::*;
use esr_core::chrono::TimeDelta;
use esr_core::{access::*, audit::*, passcode::*, people::*, store::*, urp::*, values::*, *};
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

#[test]
fn of_racing_verifications_of_the_right_code_exactly_one_is_approved() {
    // Loose send limits (a code every 7 seconds for about 4 hours), so only the race is tested.
    let fx = Fixture::builder()
        .settings(settings(true, false, false))
        .passcodes(PasscodePolicy {
            max_sends: 100,
            send_window: TimeDelta::minutes(1),
            min_resend_interval: TimeDelta::zero(),
            ..PasscodePolicy::default()
        })
        .build();
    let v = fx.vpd();
    let p = fx.staff("Pat", "Poll", "Ward 5", None);
    // One HSCN session (12 hours long) confirms the number again each round with a fresh code.
    let h = fx.hscn(p.username());
    let barrier = Barrier::new(4);
    for round in 0..2_000 {
        fx.clock.advance(TimeDelta::seconds(7));
        let c = fx.esr.request_mobile_code(h, MOBILE).unwrap();
        let code = fx.code_sent_to(MOBILE);
        let results: Vec<VerifyOutcome> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let (esr, barrier, c, code) = (&fx.esr, &barrier, &c, &code);
                    s.spawn(move || {
                        barrier.wait();
                        esr.verify_passcode(h, &c.id, c.purpose, code).unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let approved: Vec<_> = results.iter().filter(|o| o.is_approved()).collect();
        assert_eq!(
            approved,
            vec![&VerifyOutcome::Approved(Approved::MobileRegistered {
                masked: "xxxxxxx374".into(),
                changed: round > 0,
            })],
            "round {round}: {results:?}"
        );
        assert_eq!(
            results
                .iter()
                .filter(|o| **o == VerifyOutcome::AlreadyUsed)
                .count(),
            3,
            "round {round}: {results:?}"
        );
    }
    // Every round registered the number once and checked the code four times.
    let audit = fx.audit(v);
    let registered = audit
        .iter()
        .filter(|e| matches!(e.event, AuditEvent::MobileRegistered { .. }))
        .count();
    let checked = audit
        .iter()
        .filter(|e| matches!(e.event, AuditEvent::PasscodeChecked { .. }))
        .count();
    assert_eq!((registered, checked), (2_000, 8_000));
    fx.esr.verify_audit(v).unwrap();
}
