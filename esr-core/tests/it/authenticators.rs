//! Authenticator apps (TOTP): enrolment from HSCN, confirmation, upgrading with a code, the
//! replay guard, the shared failure limit, removal, key rotation, and a property test over
//! random sequences of codes, clock moves and races.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::authenticator::*;
use esr_core::chrono::TimeDelta;
use esr_core::{access::*, passcode::*, *};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::Barrier;

fn upgradable() -> (Fixture, Staff) {
    let fx = Fixture::builder()
        .settings(settings(true, true, false))
        .build();
    let m = fx.upgradable_manager("Maria", "Manning");
    (fx, m)
}

fn unix(fx: &Fixture) -> i64 {
    fx.clock.now().timestamp()
}

/// Enrols and confirms an authenticator for `m`; the app's view of it.
fn set_up(fx: &Fixture, m: &Staff) -> Totp {
    let hscn = fx.hscn(m.username());
    let e = fx.esr.enrol_authenticator(hscn).unwrap();
    let app = Totp::from_uri(e.uri().expose()).unwrap();
    let out = fx
        .esr
        .confirm_authenticator(hscn, &app.code_at(unix(fx)))
        .unwrap();
    assert_eq!(out, AuthenticatorOutcome::Activated);
    // The confirming step is used: move to the next one.
    fx.clock.advance(TimeDelta::seconds(30));
    app
}

/// A code of the same shape that is not `code`.
fn wrong(code: &str) -> String {
    let mut b = code.as_bytes().to_vec();
    let last = b.len() - 1;
    b[last] = if b[last] == b'9' { b'0' } else { b[last] + 1 };
    String::from_utf8(b).unwrap()
}

#[test]
fn enrolment_is_from_hscn_only_and_gives_a_uri_apps_read() {
    let (fx, m) = upgradable();
    let web = fx.internet(m.username()).unwrap();
    let err = fx.esr.enrol_authenticator(web.id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotPermitted, "{err}");
    let hscn = fx.hscn(m.username());
    let e = fx.esr.enrol_authenticator(hscn).unwrap();
    let uri = e.uri().expose().to_owned();
    assert!(
        uri.starts_with(&format!(
            "otpauth://totp/Trust%20297:{}?secret=",
            m.username()
        )),
        "{uri}"
    );
    assert!(uri.ends_with("&issuer=Trust%20297&algorithm=SHA1&digits=6&period=30"));
    assert_eq!(e.manual_key().len(), 32, "160 bits in base32");
    assert!(e.qr_svg().unwrap().contains("<svg"));
    assert!(e.qr_png(4).unwrap().starts_with(b"\x89PNG"));
    assert!(!format!("{e:?}").contains(e.manual_key()));
    // Not active yet: no upgrade with it.
    fx.give_no_mobile(&m);
    let web = fx.internet(m.username()).unwrap();
    let err = fx
        .esr
        .upgrade_with_authenticator(web.id, "123456")
        .unwrap_err();
    assert_eq!(
        err,
        Error::UpgradeNotAvailable(UpgradeBlocker::NoRegisteredMobile)
    );
    assert!(!fx.esr.second_factors(web.id).unwrap().authenticator);
    // The stored secret is sealed, and nothing audited carries it.
    let stored = fx
        .esr
        .store()
        .transaction(|tx| tx.authenticator(m.username()))
        .unwrap()
        .unwrap();
    assert!(!stored.is_active());
    let app = Totp::from_uri(&uri).unwrap();
    assert_ne!(stored.sealed.ciphertext[..20], app.secret().expose()[..]);
    for entry in fx.audit(fx.vpd()) {
        let text = format!("{entry:?} {:?}", entry.event.fields());
        assert!(!text.contains(e.manual_key()), "{text}");
    }
}

#[test]
fn a_manager_upgrades_with_an_authenticator_code_once() {
    let (fx, m) = upgradable();
    let app = set_up(&fx, &m);
    let s = fx.internet(m.username()).unwrap();
    let other = fx.internet(m.username()).unwrap();
    let f = fx.esr.second_factors(s.id).unwrap();
    assert_eq!(f.mobile.as_deref(), Some("xxxxxxx374"));
    assert!(f.authenticator);
    let code = app.code_at(unix(&fx));
    assert_eq!(
        fx.esr
            .upgrade_with_authenticator(s.id, &wrong(&code))
            .unwrap(),
        AuthenticatorOutcome::WrongCode
    );
    let out = fx.esr.upgrade_with_authenticator(s.id, &code).unwrap();
    let AuthenticatorOutcome::Upgraded(up) = out else {
        panic!("{out:?}")
    };
    assert_eq!(up.id, s.id);
    assert_eq!(up.upgrade.unwrap().method, "totp");
    assert!(!fx.esr.session(other.id).unwrap().is_upgraded());
    // The same code again, in another session: a replay.
    assert_eq!(
        fx.esr.upgrade_with_authenticator(other.id, &code).unwrap(),
        AuthenticatorOutcome::Replayed
    );
    // The previous step's code, though inside the window: older than the one accepted.
    let prev = app.code_at(unix(&fx) - 30);
    assert_eq!(
        fx.esr.upgrade_with_authenticator(other.id, &prev).unwrap(),
        AuthenticatorOutcome::Replayed
    );
    // A code from two steps ahead: outside the window.
    let ahead = app.code_at(unix(&fx) + 60);
    assert_eq!(
        fx.esr.upgrade_with_authenticator(other.id, &ahead).unwrap(),
        AuthenticatorOutcome::WrongCode
    );
    // The next step's code works.
    fx.clock.advance(TimeDelta::seconds(30));
    assert!(
        fx.esr
            .upgrade_with_authenticator(other.id, &app.code_at(unix(&fx)))
            .unwrap()
            .is_approved()
    );
    // A code in the wrong shape costs nothing.
    let acc = fx.esr.account(m.username()).unwrap();
    let third = fx.internet(m.username()).unwrap();
    let err = fx
        .esr
        .upgrade_with_authenticator(third.id, "12 34")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        fx.esr.account(m.username()).unwrap().passcode_failures,
        acc.passcode_failures
    );
    let kinds: Vec<String> = fx
        .audit(fx.vpd())
        .iter()
        .filter(|e| e.event.kind() == "authenticator_checked")
        .map(|e| e.event.fields()[2].1.clone())
        .collect();
    assert_eq!(
        kinds,
        [
            "activated",
            "wrong code",
            "upgraded",
            "replayed",
            "replayed",
            "wrong code",
            "upgraded"
        ]
    );
}

#[test]
fn an_authenticator_alone_is_a_second_factor_and_the_domain_rules_still_hold() {
    let fx = Fixture::builder()
        .settings(settings(true, false, false))
        .build();
    let m = fx.upgradable_manager("Maria", "Manning");
    let app = set_up(&fx, &m);
    fx.give_no_mobile(&m);
    // Upgrade Access for managers is off: refused as for texted codes.
    let s = fx.internet(m.username()).unwrap();
    let err = fx
        .esr
        .upgrade_with_authenticator(s.id, &app.code_at(unix(&fx)))
        .unwrap_err();
    assert_eq!(
        err,
        Error::UpgradeNotAvailable(UpgradeBlocker::UpgradeAccessDisabled)
    );
    fx.apply_settings(fx.vpd(), &settings(true, true, false));
    // No mobile, an app: the upgrade check passes; a texted code cannot be sent.
    fx.esr.check_upgrade(s.id).unwrap();
    assert_eq!(
        fx.esr.request_upgrade_code(s.id).unwrap_err(),
        Error::UpgradeNotAvailable(UpgradeBlocker::NoRegisteredMobile)
    );
    assert!(
        fx.esr
            .upgrade_with_authenticator(s.id, &app.code_at(unix(&fx)))
            .unwrap()
            .is_approved()
    );
    // Upgraded already.
    fx.clock.advance(TimeDelta::seconds(30));
    assert_eq!(
        fx.esr
            .upgrade_with_authenticator(s.id, &app.code_at(unix(&fx)))
            .unwrap_err(),
        Error::AlreadyUpgraded
    );
    // An HSCN session has nothing to upgrade.
    let hscn = fx.hscn(m.username());
    assert_eq!(
        fx.esr
            .upgrade_with_authenticator(hscn, &app.code_at(unix(&fx)))
            .unwrap_err(),
        Error::UpgradeNotAvailable(UpgradeBlocker::HscnSession)
    );
}

#[test]
fn wrong_authenticator_codes_count_towards_the_same_step_up_lock_as_texted_ones() {
    let (fx, m) = upgradable();
    let app = set_up(&fx, &m);
    let s = fx.internet(m.username()).unwrap();
    // Ten wrong texted codes (two challenges of five) ...
    for _ in 0..2 {
        fx.clock.advance(TimeDelta::seconds(30));
        let c = fx.esr.request_upgrade_code(s.id).unwrap();
        let code = fx.code_sent_to(MOBILE);
        for _ in 0..5 {
            fx.esr
                .verify_passcode(s.id, &c.id, Purpose::UpgradeSession, &wrong(&code))
                .unwrap();
        }
    }
    // ... and nine wrong app codes leave one before the lock.
    fx.clock.advance(TimeDelta::seconds(30));
    let code = app.code_at(unix(&fx));
    for _ in 0..9 {
        assert_eq!(
            fx.esr
                .upgrade_with_authenticator(s.id, &wrong(&code))
                .unwrap(),
            AuthenticatorOutcome::WrongCode
        );
    }
    assert_eq!(
        fx.esr
            .upgrade_with_authenticator(s.id, &wrong(&code))
            .unwrap(),
        AuthenticatorOutcome::Locked
    );
    // Locked: even the right code is refused, and the texted path is locked too.
    assert_eq!(
        fx.esr.upgrade_with_authenticator(s.id, &code).unwrap(),
        AuthenticatorOutcome::Locked
    );
    assert!(fx.esr.account(m.username()).unwrap().step_up_locked);
    // Cleared by an administrator: the right code works again.
    let admin = Actor::Session(fx.hscn(fx.t().admin_a.username()));
    fx.esr
        .clear_step_up_lock(&admin, m.username(), "verified by phone")
        .unwrap();
    assert!(
        fx.esr
            .upgrade_with_authenticator(s.id, &code)
            .unwrap()
            .is_approved()
    );
}

#[test]
fn re_enrolling_replaces_and_an_administrator_can_remove() {
    let (fx, m) = upgradable();
    let old = set_up(&fx, &m);
    let new = set_up(&fx, &m);
    assert_ne!(old.secret(), new.secret());
    let s = fx.internet(m.username()).unwrap();
    assert_eq!(
        fx.esr
            .upgrade_with_authenticator(s.id, &old.code_at(unix(&fx)))
            .unwrap(),
        AuthenticatorOutcome::WrongCode
    );
    // The person cannot remove it from the internet, nor can a colleague without Reset accounts.
    let err = fx
        .esr
        .remove_authenticator(&Actor::Session(s.id), m.username(), "lost phone")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotPermitted);
    let admin = Actor::Session(fx.hscn(fx.t().admin_a.username()));
    fx.esr
        .remove_authenticator(&admin, m.username(), "lost phone")
        .unwrap();
    assert_eq!(
        fx.esr
            .remove_authenticator(&admin, m.username(), "lost phone")
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        fx.esr
            .upgrade_with_authenticator(s.id, &new.code_at(unix(&fx)))
            .unwrap_err(),
        Error::UpgradeNotAvailable(UpgradeBlocker::NoAuthenticator)
    );
    let kinds: Vec<&str> = fx
        .audit(fx.vpd())
        .iter()
        .map(|e| e.event.kind())
        .filter(|k| k.starts_with("authenticator_") && *k != "authenticator_checked")
        .collect();
    assert_eq!(
        kinds,
        [
            "authenticator_enrolled",
            "authenticator_activated",
            "authenticator_enrolled",
            "authenticator_activated",
            "authenticator_removed"
        ]
    );
}

#[test]
fn rotating_the_key_reseals_on_the_next_right_code() {
    let (fx, m) = upgradable();
    let app = set_up(&fx, &m);
    let new_key =
        AuthenticatorKey::new("fixture-totp-2", b"another-totp-key-0123456789abcde").unwrap();
    fx.esr.set_authenticator_keys(
        AuthenticatorKeys::new(fixture_authenticator_key())
            .rotate(new_key.clone())
            .unwrap(),
    );
    let s = fx.internet(m.username()).unwrap();
    assert!(
        fx.esr
            .upgrade_with_authenticator(s.id, &app.code_at(unix(&fx)))
            .unwrap()
            .is_approved()
    );
    let stored = fx
        .esr
        .store()
        .transaction(|tx| tx.authenticator(m.username()))
        .unwrap()
        .unwrap();
    assert_eq!(stored.sealed.key_id.as_str(), "fixture-totp-2");
    // The old key can go now.
    fx.esr
        .set_authenticator_keys(AuthenticatorKeys::new(new_key));
    fx.clock.advance(TimeDelta::seconds(30));
    let s = fx.internet(m.username()).unwrap();
    assert!(
        fx.esr
            .upgrade_with_authenticator(s.id, &app.code_at(unix(&fx)))
            .unwrap()
            .is_approved()
    );
    // Without the key that sealed it, the secret cannot be opened.
    fx.esr
        .set_authenticator_keys(AuthenticatorKeys::new(fixture_authenticator_key()));
    fx.clock.advance(TimeDelta::seconds(30));
    let s = fx.internet(m.username()).unwrap();
    let err = fx
        .esr
        .upgrade_with_authenticator(s.id, &app.code_at(unix(&fx)))
        .unwrap_err();
    assert_eq!(err, Error::UnknownAuthenticatorKey("fixture-totp-2".into()));
}

#[test]
fn racing_upgrades_with_one_code_have_exactly_one_winner() {
    let (fx, m) = upgradable();
    let app = set_up(&fx, &m);
    let threads = 4;
    let barrier = Barrier::new(threads);
    for round in 0..10 {
        fx.clock.advance(TimeDelta::seconds(30));
        let sessions: Vec<SessionId> = (0..threads)
            .map(|_| fx.internet(m.username()).unwrap().id)
            .collect();
        let code = app.code_at(unix(&fx));
        let results: Vec<AuthenticatorOutcome> = std::thread::scope(|sc| {
            let handles: Vec<_> = sessions
                .iter()
                .map(|s| {
                    let (esr, barrier, code) = (&fx.esr, &barrier, &code);
                    sc.spawn(move || {
                        barrier.wait();
                        esr.upgrade_with_authenticator(*s, code).unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won = results.iter().filter(|o| o.is_approved()).count();
        let replayed = results
            .iter()
            .filter(|o| **o == AuthenticatorOutcome::Replayed)
            .count();
        assert_eq!(
            (won, replayed),
            (1, threads - 1),
            "round {round}: {results:?}"
        );
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// Move the clock on by this many seconds.
    Wait(i64),
    /// Type the code of the step this far from now, in a new session.
    Type(i64),
    /// Several sessions type the code of this step at once.
    Race(i64, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0i64..75).prop_map(Op::Wait),
        (-3i64..=3).prop_map(Op::Type),
        ((-2i64..=2), (2usize..=4)).prop_map(|(o, n)| Op::Race(o, n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Over random sequences of codes, clock moves and races: no time step is accepted twice,
    /// nothing outside the ±1 window is accepted, and a fresh code inside it always is.
    #[test]
    fn no_step_is_accepted_twice_and_nothing_outside_the_window(
        ops in proptest::collection::vec(op(), 1..14),
    ) {
        let (fx, m) = upgradable();
        let app = set_up(&fx, &m);
        let mut last: Option<u64> = fx
            .esr
            .store()
            .transaction(|tx| tx.authenticator(m.username()))
            .unwrap()
            .unwrap()
            .last_step;
        let mut accepted: BTreeSet<u64> = last.into_iter().collect();
        for op in ops {
            let now = unix(&fx);
            let now_step = app.step_at(now);
            let (offset, n) = match op {
                Op::Wait(s) => {
                    fx.clock.advance(TimeDelta::seconds(s));
                    continue;
                }
                Op::Type(o) => (o, 1),
                Op::Race(o, n) => (o, n),
            };
            let step = now_step.saturating_add_signed(offset);
            let code = app.code_at_step(step);
            let sessions: Vec<SessionId> =
                (0..n).map(|_| fx.internet(m.username()).unwrap().id).collect();
            let results: Vec<AuthenticatorOutcome> = std::thread::scope(|sc| {
                let handles: Vec<_> = sessions
                    .iter()
                    .map(|s| {
                        let (esr, code) = (&fx.esr, &code);
                        sc.spawn(move || esr.upgrade_with_authenticator(*s, code).unwrap())
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let won = results.iter().filter(|o| o.is_approved()).count();
            prop_assert!(won <= 1, "{results:?}");
            let fresh = last.is_none_or(|l| step > l);
            let in_window = offset.abs() <= 1;
            if won == 1 {
                prop_assert!(in_window, "accepted outside the window: offset {offset}");
                prop_assert!(accepted.insert(step), "step {step} accepted twice");
                last = Some(step);
            } else {
                prop_assert!(!(fresh && in_window), "a fresh code in the window was refused: {results:?}");
            }
        }
        let stored = fx
            .esr
            .store()
            .transaction(|tx| tx.authenticator(m.username()))
            .unwrap()
            .unwrap();
        prop_assert_eq!(stored.last_step, last);
    }
}
