//! One-time passcodes: issue, verify, expiry, resend, limits, purpose binding, key rotation.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use esr_core::{access::*, audit::*, passcode::*, people::*, store::*, urp::*, values::*, *};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use std::sync::Arc;

fn upgradable() -> (Fixture, Staff) {
    let fx = Fixture::builder()
        .settings(settings(true, true, false))
        .build();
    let m = fx.upgradable_manager("Maria", "Manning");
    (fx, m)
}

fn secs(s: i64) -> TimeDelta {
    TimeDelta::seconds(s)
}

/// The stored challenge, as a store adapter sees it.
fn stored(fx: &Fixture, id: &ChallengeId) -> Challenge {
    fx.esr
        .store()
        .transaction(|tx| tx.challenge(id))
        .unwrap()
        .unwrap()
}

/// A code of the same shape that is not `code`.
fn wrong(code: &str) -> String {
    let mut b = code.as_bytes().to_vec();
    let last = b.len() - 1;
    b[last] = if b[last] == b'9' { b'0' } else { b[last] + 1 };
    String::from_utf8(b).unwrap()
}

fn now(fx: &Fixture) -> DateTime<Utc> {
    fx.clock.now()
}

fn sms_count(fx: &Fixture) -> usize {
    fx.outbox
        .sent()
        .iter()
        .filter(|m| matches!(m, Sent::Sms(_)))
        .count()
}

fn upgrade_with(fx: &Fixture, s: SessionId, c: &PasscodeChallenge, code: &str) -> VerifyOutcome {
    fx.esr
        .verify_passcode(s, &c.id, Purpose::UpgradeSession, code)
        .unwrap()
}

/// Gets `n` wrong codes in a row on one fresh upgrade challenge of `s` (sent now).
/// Asks for a code and types `n` wrong ones, checking each answer: the guess that locks
/// step-up (the 20th in the window) answers Locked, the one that kills the challenge (its 5th)
/// TooManyAttempts, any other WrongCode.
fn burn_challenge(fx: &Fixture, s: SessionId, n: u32) -> PasscodeChallenge {
    let c = fx.esr.request_upgrade_code(s).unwrap();
    let code = fx.code_sent_to(MOBILE);
    let u = fx.esr.session(s).unwrap().username;
    for i in 1..=n {
        let before = fx.esr.account(&u).unwrap().passcode_failures;
        let expected = if before + 1 >= 20 {
            VerifyOutcome::Locked
        } else if i == 5 {
            VerifyOutcome::TooManyAttempts
        } else {
            VerifyOutcome::WrongCode {
                attempts_left: 5 - i,
            }
        };
        assert_eq!(
            upgrade_with(fx, s, &c, &wrong(&code)),
            expected,
            "guess {i}"
        );
    }
    c
}

#[test]
fn a_manager_upgrades_an_internet_session_with_a_texted_code() {
    let (fx, m) = upgradable();
    let s = fx.internet(m.username()).unwrap();
    let other = fx.internet(m.username()).unwrap();
    let c = fx.esr.request_upgrade_code(s.id).unwrap();
    assert_eq!(c.masked_destination, "xxxxxxx374");
    assert_eq!(
        c.message(),
        "We have sent a code to your mobile number ending: xxxxxxx374"
    );
    assert_eq!(c.expires_at - c.issued_at, TimeDelta::minutes(10));
    assert_eq!(c.status, ChallengeStatus::Pending);
    assert_eq!(c.attempts_left, 5);
    let sms = fx.outbox.last_sms_to(&MOBILE.parse().unwrap()).unwrap();
    assert!(
        sms.expose_text().contains("10 minutes"),
        "{}",
        sms.expose_text()
    );
    let code = fx.code_sent_to(MOBILE);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    assert_eq!(
        fx.esr
            .verify_passcode(s.id, &c.id, Purpose::UpgradeSession, wrong)
            .unwrap(),
        VerifyOutcome::WrongCode { attempts_left: 4 }
    );
    let out = fx
        .esr
        .verify_passcode(s.id, &c.id, Purpose::UpgradeSession, &code)
        .unwrap();
    let VerifyOutcome::Approved(Approved::SessionUpgraded(up)) = out else {
        panic!("{out:?}")
    };
    assert_eq!(up.id, s.id);
    assert!(fx.esr.session(s.id).unwrap().is_upgraded());
    assert!(!fx.esr.session(other.id).unwrap().is_upgraded());
    assert_eq!(
        fx.esr
            .verify_passcode(s.id, &c.id, Purpose::UpgradeSession, &code)
            .unwrap(),
        VerifyOutcome::AlreadyUsed
    );
}

#[test]
fn the_upgrade_flow_opens_manager_functions_in_that_session_only_and_is_audited() {
    let (fx, m) = upgradable();
    let v = fx.vpd();
    let s = fx.internet(m.username()).unwrap();
    let other = fx.internet(m.username()).unwrap();
    let before = fx.esr.functions(s.id).unwrap();
    let from = fx.audit(v).len();
    let c = fx.esr.request_upgrade_code(s.id).unwrap();
    assert_eq!(c.purpose, Purpose::UpgradeSession);
    assert_eq!(c.issued_at, start());
    assert_eq!(c.expires_at, start() + TimeDelta::minutes(10));
    let code = fx.code_sent_to(MOBILE);
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
    let sms = fx.outbox.last_sms_to(&MOBILE.parse().unwrap()).unwrap();
    assert_eq!(sms.to().expose_e164(), "+447700900374");
    assert_eq!(sms.vpd, v);
    assert!(upgrade_with(&fx, s.id, &c, &code).is_approved());
    let after = fx.esr.functions(s.id).unwrap();
    assert!(after.is_superset(&before) && after.len() > before.len());
    assert_eq!(fx.esr.functions(other.id).unwrap(), before);
    assert!(!fx.esr.session(other.id).unwrap().is_upgraded());
    // The code cannot be used for the other session either.
    assert_eq!(
        upgrade_with(&fx, other.id, &c, &code),
        VerifyOutcome::UnknownChallenge
    );
    let events: Vec<AuditEvent> = fx.audit(v)[from..]
        .iter()
        .map(|e| e.event.clone())
        .collect();
    assert_eq!(
        events,
        vec![
            AuditEvent::PasscodeIssued {
                username: m.username().clone(),
                challenge: c.id,
                purpose: Purpose::UpgradeSession,
                masked: "xxxxxxx374".into(),
                expires_at: c.expires_at,
            },
            AuditEvent::SessionUpgraded {
                session: s.id.audit_ref(),
                method: "sms-otp".into(),
            },
            AuditEvent::PasscodeChecked {
                username: m.username().clone(),
                challenge: c.id,
                purpose: Purpose::UpgradeSession,
                outcome: "approved".into(),
            },
            // Probing for a challenge from another session is audited too.
            AuditEvent::PasscodeChecked {
                username: m.username().clone(),
                challenge: c.id,
                purpose: Purpose::UpgradeSession,
                outcome: "unknown challenge".into(),
            },
        ]
    );
    fx.esr.verify_audit(v).unwrap();
}

#[test]
fn a_code_verifies_at_599_999_seconds_and_is_expired_at_the_600th() {
    let (fx, m) = upgradable();
    // One challenge answered a millisecond before its expiry.
    let s1 = fx.internet(m.username()).unwrap();
    let c1 = fx.esr.request_upgrade_code(s1.id).unwrap();
    let code1 = fx.code_sent_to(MOBILE);
    fx.clock.advance(secs(600) - TimeDelta::milliseconds(1));
    let st = fx.esr.passcode_status(s1.id, &c1.id).unwrap();
    assert_eq!(st.status, ChallengeStatus::Pending);
    assert_eq!(st.time_left(now(&fx)), TimeDelta::milliseconds(1));
    assert!(upgrade_with(&fx, s1.id, &c1, &code1).is_approved());
    assert_eq!(
        fx.esr.passcode_status(s1.id, &c1.id).unwrap().status,
        ChallengeStatus::Approved
    );

    // Another answered at exactly 600 seconds.
    let s2 = fx.internet(m.username()).unwrap();
    let c2 = fx.esr.request_upgrade_code(s2.id).unwrap();
    let code2 = fx.code_sent_to(MOBILE);
    assert_eq!(c2.issued_at, now(&fx));
    fx.clock.advance(secs(600));
    assert_eq!(now(&fx), c2.expires_at);
    let st = fx.esr.passcode_status(s2.id, &c2.id).unwrap();
    assert_eq!(st.status, ChallengeStatus::Expired);
    assert_eq!(st.time_left(now(&fx)), TimeDelta::zero());
    assert_eq!(
        upgrade_with(&fx, s2.id, &c2, &code2),
        VerifyOutcome::Expired
    );
    assert!(!fx.esr.session(s2.id).unwrap().is_upgraded());
    // A wrong code after expiry is expired too, and counts against nothing.
    assert_eq!(
        upgrade_with(&fx, s2.id, &c2, &wrong(&code2)),
        VerifyOutcome::Expired
    );
    assert_eq!(fx.esr.account(m.username()).unwrap().passcode_failures, 0);
    let st = fx.esr.passcode_status(s2.id, &c2.id).unwrap();
    assert_eq!((st.expires_at, st.attempts_left), (c2.expires_at, 5));
}

#[test]
fn a_resend_supersedes_the_old_code_with_its_own_ten_minutes() {
    let (fx, m) = upgradable();
    let v = fx.vpd();
    let s = fx.internet(m.username()).unwrap();
    let c1 = fx.esr.request_upgrade_code(s.id).unwrap();
    let code1 = fx.code_sent_to(MOBILE);
    fx.clock.advance(secs(45));
    let from = fx.audit(v).len();
    let c2 = fx.esr.resend_passcode(s.id, &c1.id).unwrap();
    let code2 = fx.code_sent_to(MOBILE);
    assert_ne!(c2.id, c1.id);
    assert_eq!(c2.purpose, Purpose::UpgradeSession);
    assert_eq!(c2.issued_at, start() + secs(45));
    assert_eq!(c2.expires_at, start() + secs(45) + TimeDelta::minutes(10));
    assert_eq!(c2.status, ChallengeStatus::Pending);
    let old = fx.esr.passcode_status(s.id, &c1.id).unwrap();
    assert_eq!(old.status, ChallengeStatus::Superseded);
    assert_eq!(old.expires_at, start() + TimeDelta::minutes(10));
    assert_eq!(old.issued_at, start());
    assert!(fx.audit(v)[from..].iter().any(|e| e.event
        == AuditEvent::PasscodeSuperseded {
            username: m.username().clone(),
            challenge: c1.id,
        }));
    // The old code, right or wrong, only says it was superseded (and costs nothing).
    assert_eq!(
        upgrade_with(&fx, s.id, &c1, &code1),
        VerifyOutcome::Superseded
    );
    assert_eq!(
        upgrade_with(&fx, s.id, &c1, &wrong(&code1)),
        VerifyOutcome::Superseded
    );
    assert_eq!(fx.esr.account(m.username()).unwrap().passcode_failures, 0);
    // The superseded challenge stays superseded after its expiry; nothing moved it.
    fx.clock.advance(TimeDelta::minutes(9));
    let old = fx.esr.passcode_status(s.id, &c1.id).unwrap();
    assert_eq!(
        (old.status, old.expires_at),
        (
            ChallengeStatus::Superseded,
            start() + TimeDelta::minutes(10)
        )
    );
    // The new code works until its own expiry, past the old one's.
    fx.clock.advance(secs(44));
    assert!(now(&fx) > c1.expires_at && now(&fx) < c2.expires_at);
    assert!(upgrade_with(&fx, s.id, &c2, &code2).is_approved());
    // A used code has nothing to resend.
    assert!(matches!(
        fx.esr.resend_passcode(s.id, &c2.id),
        Err(Error::InvalidInput {
            what: "challenge",
            ..
        })
    ));
}

#[test]
fn a_resend_within_30_seconds_is_refused_with_the_wait() {
    let (fx, m) = upgradable();
    let v = fx.vpd();
    let s = fx.internet(m.username()).unwrap();
    let c1 = fx.esr.request_upgrade_code(s.id).unwrap();
    fx.clock.advance(secs(10));
    let sent = sms_count(&fx);
    assert_refused(
        &fx,
        v,
        &Error::ResendTooSoon {
            retry_after_seconds: 20,
        },
        || fx.esr.resend_passcode(s.id, &c1.id),
    );
    assert_refused(
        &fx,
        v,
        &Error::ResendTooSoon {
            retry_after_seconds: 20,
        },
        || fx.esr.request_upgrade_code(s.id),
    );
    // Half a second left is rounded up to one.
    fx.clock.advance(secs(19) + TimeDelta::milliseconds(500));
    assert_refused(
        &fx,
        v,
        &Error::ResendTooSoon {
            retry_after_seconds: 1,
        },
        || fx.esr.resend_passcode(s.id, &c1.id),
    );
    assert_eq!(sms_count(&fx), sent);
    assert_eq!(
        fx.esr.passcode_status(s.id, &c1.id).unwrap().status,
        ChallengeStatus::Pending
    );
    fx.clock.advance(TimeDelta::milliseconds(500));
    let c2 = fx.esr.resend_passcode(s.id, &c1.id).unwrap();
    assert_eq!(c2.issued_at, start() + secs(30));
    assert_eq!(sms_count(&fx), sent + 1);
}

#[test]
fn five_sends_in_ten_minutes_per_user_then_refused_until_the_window_frees() {
    let (fx, m) = upgradable();
    let v = fx.vpd();
    let s = fx.internet(m.username()).unwrap();
    let mut c = fx.esr.request_upgrade_code(s.id).unwrap();
    for _ in 0..4 {
        fx.clock.advance(secs(30));
        c = fx.esr.resend_passcode(s.id, &c.id).unwrap();
    }
    fx.clock.advance(secs(30));
    assert_eq!(now(&fx), start() + secs(150));
    let refusal = Error::TooManySends {
        retry_after_seconds: 450,
    };
    assert_refused(&fx, v, &refusal, || fx.esr.resend_passcode(s.id, &c.id));
    assert_refused(&fx, v, &refusal, || fx.esr.request_upgrade_code(s.id));
    // Another session of the same user shares the user's budget.
    let s2 = fx.internet(m.username()).unwrap();
    assert_refused(&fx, v, &refusal, || fx.esr.request_upgrade_code(s2.id));
    fx.clock.advance(secs(449));
    assert_refused(
        &fx,
        v,
        &Error::TooManySends {
            retry_after_seconds: 1,
        },
        || fx.esr.request_upgrade_code(s.id),
    );
    assert_eq!(sms_count(&fx), 5);
    // When the first send leaves the window, as promised, one more may go.
    fx.clock.advance(secs(1));
    assert_eq!(now(&fx), start() + TimeDelta::minutes(10));
    let last = fx.esr.resend_passcode(s.id, &c.id).unwrap();
    let code = fx.code_sent_to(MOBILE);
    assert_eq!(sms_count(&fx), 6);
    assert!(upgrade_with(&fx, s.id, &last, &code).is_approved());
}

#[test]
fn five_sends_in_ten_minutes_per_number_across_users_sharing_it() {
    let (fx, m1) = upgradable();
    let v = fx.vpd();
    let m2 = fx.upgradable_manager("Nora", "Nunn");
    let s1 = fx.internet(m1.username()).unwrap();
    let s2 = fx.internet(m2.username()).unwrap();
    // m1 sends three, m2 two: five to the one number within 90 seconds.
    fx.esr.request_upgrade_code(s1.id).unwrap();
    fx.esr.request_upgrade_code(s2.id).unwrap();
    fx.clock.advance(secs(30));
    fx.esr.request_upgrade_code(s1.id).unwrap();
    fx.clock.advance(secs(30));
    fx.esr.request_upgrade_code(s1.id).unwrap();
    fx.esr.request_upgrade_code(s2.id).unwrap();
    fx.clock.advance(secs(60));
    // Neither user has sent five, but the number has had five.
    let refusal = Error::TooManySends {
        retry_after_seconds: 480,
    };
    assert_refused(&fx, v, &refusal, || fx.esr.request_upgrade_code(s1.id));
    assert_refused(&fx, v, &refusal, || fx.esr.request_upgrade_code(s2.id));
    // A user with another number is not affected.
    let m3 = fx.staff("Olga", "Owen", "Ward 5", None);
    fx.grant(
        m3.username(),
        Urp::ManagerSelfServicePayrollApprovalsNotRequired,
        GrantScope::WholeTrust,
    );
    fx.register_mobile_by_code(&m3, "07700 900999");
    let s3 = fx.internet(m3.username()).unwrap();
    fx.clock.advance(secs(30));
    fx.esr.request_upgrade_code(s3.id).unwrap();
    // The number's window frees ten minutes after its first send.
    fx.clock
        .set(start() + TimeDelta::minutes(10) - TimeDelta::milliseconds(1));
    assert!(matches!(
        fx.esr.request_upgrade_code(s2.id),
        Err(Error::TooManySends {
            retry_after_seconds: 1
        })
    ));
    fx.clock.set(start() + TimeDelta::minutes(10));
    let c = fx.esr.request_upgrade_code(s2.id).unwrap();
    assert!(upgrade_with(&fx, s2.id, &c, &fx.code_sent_to(MOBILE)).is_approved());
}

#[test]
fn five_wrong_guesses_kill_a_challenge() {
    let (fx, m) = upgradable();
    let s = fx.internet(m.username()).unwrap();
    let c = burn_challenge(&fx, s.id, 5);
    let code = fx.code_sent_to(MOBILE);
    let st = fx.esr.passcode_status(s.id, &c.id).unwrap();
    assert_eq!(
        (st.status, st.attempts_left),
        (ChallengeStatus::MaxAttemptsReached, 0)
    );
    assert_eq!(
        upgrade_with(&fx, s.id, &c, &code),
        VerifyOutcome::TooManyAttempts
    );
    assert_eq!(
        upgrade_with(&fx, s.id, &c, &wrong(&code)),
        VerifyOutcome::TooManyAttempts
    );
    assert!(!fx.esr.session(s.id).unwrap().is_upgraded());
    // Only the five wrong codes count against the account.
    assert_eq!(fx.esr.account(m.username()).unwrap().passcode_failures, 5);
    // Its expiry is where it was; a new code works.
    assert_eq!(
        fx.esr.passcode_status(s.id, &c.id).unwrap().expires_at,
        c.expires_at
    );
    fx.clock.advance(secs(30));
    let c2 = fx.esr.resend_passcode(s.id, &c.id).unwrap();
    assert_eq!(
        fx.esr.passcode_status(s.id, &c.id).unwrap().status,
        ChallengeStatus::MaxAttemptsReached
    );
    assert!(upgrade_with(&fx, s.id, &c2, &fx.code_sent_to(MOBILE)).is_approved());
    // A right code does not wipe the count.
    assert_eq!(fx.esr.account(m.username()).unwrap().passcode_failures, 5);
}

#[test]
fn twenty_consecutive_wrong_codes_lock_step_up_until_an_administrator_clears_it() {
    let (fx, m) = upgradable();
    let v = fx.vpd();
    let u = m.username();
    let s = fx.internet(u).unwrap();
    let mut last = None;
    for i in 0..4 {
        if i > 0 {
            fx.clock.advance(secs(30));
        }
        last = Some(burn_challenge(&fx, s.id, 5));
    }
    let last = last.unwrap();
    let code = fx.code_sent_to(MOBILE);
    let acc = fx.esr.account(u).unwrap();
    assert!(acc.step_up_locked);
    assert_eq!(acc.passcode_failures, 20);
    let locks: Vec<_> = fx
        .audit(v)
        .into_iter()
        .filter(|e| matches!(e.event, AuditEvent::StepUpLocked { .. }))
        .collect();
    assert_eq!(locks.len(), 1);
    assert_eq!(
        locks[0].event,
        AuditEvent::StepUpLocked {
            username: u.clone(),
            failures: 20
        }
    );
    // Every verification now says locked, even of the right code.
    assert_eq!(upgrade_with(&fx, s.id, &last, &code), VerifyOutcome::Locked);
    // No code can be sent, for upgrading or for the mobile number.
    fx.clock.advance(secs(30));
    let sent = sms_count(&fx);
    let locked = Error::StepUpLocked(u.clone());
    assert_refused(&fx, v, &locked, || fx.esr.check_upgrade(s.id));
    assert_refused(&fx, v, &locked, || fx.esr.request_upgrade_code(s.id));
    assert_refused(&fx, v, &locked, || fx.esr.resend_passcode(s.id, &last.id));
    let h = fx.hscn(u);
    assert_refused(&fx, v, &locked, || fx.esr.request_mobile_code(h, MOBILE));
    assert_eq!(sms_count(&fx), sent);
    // The user cannot clear it; a user administrator can.
    assert!(matches!(
        fx.esr
            .clear_step_up_lock(&Actor::Session(h), u, "lost phone found"),
        Err(Error::NotPermitted {
            function: Function::ResetAccounts,
            ..
        })
    ));
    let admin = Actor::Session(fx.hscn(fx.t().admin_a.username()));
    let acc = fx
        .esr
        .clear_step_up_lock(&admin, u, "identity checked by phone")
        .unwrap();
    assert!(!acc.step_up_locked);
    assert_eq!(fx.esr.check_upgrade(s.id), Ok(()));
    assert_eq!(acc.passcode_failures, 0);
    assert_eq!(
        fx.audit(v).last().unwrap().event,
        AuditEvent::StepUpUnlocked {
            username: u.clone(),
            reason: "identity checked by phone".into()
        }
    );
    assert!(matches!(
        fx.esr.clear_step_up_lock(&admin, u, "again"),
        Err(Error::InvalidInput {
            what: "step-up lock",
            ..
        })
    ));
    // The old, dead challenge stays dead; a new code works.
    assert_eq!(
        upgrade_with(&fx, s.id, &last, &code),
        VerifyOutcome::TooManyAttempts
    );
    fx.clock.advance(TimeDelta::minutes(10));
    let c = fx.esr.request_upgrade_code(s.id).unwrap();
    assert!(upgrade_with(&fx, s.id, &c, &fx.code_sent_to(MOBILE)).is_approved());
}

#[test]
fn a_right_code_does_not_reset_the_failure_count_which_rolls_over_24_hours() {
    let (fx, m) = upgradable();
    let u = m.username();
    let s = fx.internet(u).unwrap();
    for n in [5, 5, 5] {
        burn_challenge(&fx, s.id, n);
        fx.clock.advance(secs(30));
    }
    let c = burn_challenge(&fx, s.id, 4);
    assert_eq!(fx.esr.account(u).unwrap().passcode_failures, 19);
    assert!(upgrade_with(&fx, s.id, &c, &fx.code_sent_to(MOBILE)).is_approved());
    let acc = fx.esr.account(u).unwrap();
    assert_eq!((acc.passcode_failures, acc.step_up_locked), (19, false));
    // The approval bought no fresh guesses: the next wrong code is the 20th, and locks at
    // once, saying so.
    fx.clock.advance(TimeDelta::minutes(10));
    let s2 = fx.internet(u).unwrap();
    let c = fx.esr.request_upgrade_code(s2.id).unwrap();
    let code = fx.code_sent_to(MOBILE);
    assert_eq!(
        upgrade_with(&fx, s2.id, &c, &wrong(&code)),
        VerifyOutcome::Locked
    );
    assert!(fx.esr.account(u).unwrap().step_up_locked);
    assert_eq!(upgrade_with(&fx, s2.id, &c, &code), VerifyOutcome::Locked);
}

#[test]
fn wrong_codes_leave_the_count_as_they_leave_the_24_hour_window() {
    let (fx, m) = upgradable();
    let u = m.username();
    let s = fx.internet(u).unwrap();
    for n in [5, 5, 5] {
        burn_challenge(&fx, s.id, n);
        fx.clock.advance(secs(30));
    }
    burn_challenge(&fx, s.id, 4);
    assert_eq!(fx.esr.account(u).unwrap().passcode_failures, 19);
    // A day after the first of them, they have all left the window but the newest ones.
    let first = start();
    fx.clock
        .set(first + TimeDelta::hours(24) + TimeDelta::minutes(2));
    let s2 = fx.internet(u).unwrap();
    let c = fx.esr.request_upgrade_code(s2.id).unwrap();
    let code = fx.code_sent_to(MOBILE);
    assert_eq!(
        upgrade_with(&fx, s2.id, &c, &wrong(&code)),
        VerifyOutcome::WrongCode { attempts_left: 4 }
    );
    let acc = fx.esr.account(u).unwrap();
    assert!(!acc.step_up_locked);
    assert!(acc.passcode_failures < 19, "{}", acc.passcode_failures);
}

#[test]
fn a_code_verifies_only_for_its_purpose_session_user_and_trust() {
    let fx = Fixture::builder()
        .settings(settings(true, true, false))
        .trust("297")
        .trust("999")
        .build();
    let m = fx.upgradable_manager("Maria", "Manning");
    let s = fx.internet(m.username()).unwrap();
    let c = fx.esr.request_upgrade_code(s.id).unwrap();
    let code = fx.code_sent_to(MOBILE);
    let unknown = VerifyOutcome::UnknownChallenge;
    // Another purpose.
    for p in [
        Purpose::RegisterMobile,
        Purpose::ChangeMobile,
        Purpose::ResetPassword,
        Purpose::UnlockAccount,
    ] {
        assert_eq!(
            fx.esr.verify_passcode(s.id, &c.id, p, &code).unwrap(),
            unknown
        );
    }
    // Another session of the same user, internet or HSCN.
    let same_user = fx.internet(m.username()).unwrap();
    assert_eq!(upgrade_with(&fx, same_user.id, &c, &code), unknown);
    let hscn = fx.hscn(m.username());
    assert_eq!(upgrade_with(&fx, hscn, &c, &code), unknown);
    // Another user of the trust.
    let m2 = fx.upgradable_manager("Nora", "Nunn");
    let s2 = fx.internet(m2.username()).unwrap();
    assert_eq!(upgrade_with(&fx, s2.id, &c, &code), unknown);
    // Another trust.
    let v999 = vpd("999");
    let far = fx.staff_at(v999, "Maria", "Manning", "Ward 5", None);
    fx.grant(
        far.username(),
        Urp::ManagerSelfServicePayrollApprovalsNotRequired,
        GrantScope::WholeTrust,
    );
    fx.give_mobile(&far);
    let s3 = fx.internet(far.username()).unwrap();
    assert_eq!(upgrade_with(&fx, s3.id, &c, &code), unknown);
    // Other sessions cannot see it or resend it either.
    for other in [same_user.id, s2.id, s3.id] {
        assert_eq!(
            fx.esr.passcode_status(other, &c.id),
            Err(Error::UnknownChallenge(c.id))
        );
        assert_eq!(
            fx.esr.resend_passcode(other, &c.id),
            Err(Error::UnknownChallenge(c.id))
        );
    }
    // None of that cost an attempt, and nothing was upgraded but the right session at last.
    assert_eq!(
        fx.esr.passcode_status(s.id, &c.id).unwrap().attempts_left,
        5
    );
    for u in [m.username(), m2.username(), far.username()] {
        assert_eq!(fx.esr.account(u).unwrap().passcode_failures, 0);
    }
    assert!(upgrade_with(&fx, s.id, &c, &code).is_approved());
    for other in [same_user.id, s2.id, s3.id] {
        assert!(!fx.esr.session(other).unwrap().is_upgraded());
    }
    // An id that was never issued.
    let never = ChallengeId::from_bytes([7; 16]);
    assert_eq!(
        fx.esr
            .verify_passcode(s.id, &never, Purpose::UpgradeSession, &code)
            .unwrap(),
        unknown
    );
}

#[test]
fn a_mobile_number_is_registered_and_changed_only_from_hscn_with_a_code() {
    let fx = Fixture::builder()
        .settings(settings(true, false, false))
        .build();
    let v = fx.vpd();
    let p = fx.staff("Pat", "Poll", "Ward 5", None);
    let u = p.username();
    let person = || fx.esr.person(v, p.employee()).unwrap();
    assert_eq!(person().mobile, None);
    // Not over the internet.
    let net = fx.internet(u).unwrap();
    assert_refused(
        &fx,
        v,
        &Error::NotPermitted {
            function: Function::ManageInternetAccess,
            denial: Denial::SmartcardRequired,
        },
        || fx.esr.request_mobile_code(net.id, MOBILE),
    );
    assert_eq!(sms_count(&fx), 0);
    // Registering: the code goes to the new number, which counts only once confirmed.
    let h = fx.hscn(u);
    let c = fx.esr.request_mobile_code(h, "+44 (0)7700-900374").unwrap();
    assert_eq!(c.purpose, Purpose::RegisterMobile);
    assert_eq!(c.masked_destination, "xxxxxxx374");
    let sms = fx.outbox.last_sms_to(&MOBILE.parse().unwrap()).unwrap();
    assert_eq!(sms.to().expose_e164(), "+447700900374");
    assert_eq!(person().mobile, None);
    let code = fx.code_sent_to(MOBILE);
    // The code is for registering only.
    assert_eq!(
        fx.esr
            .verify_passcode(h, &c.id, Purpose::UpgradeSession, &code)
            .unwrap(),
        VerifyOutcome::UnknownChallenge
    );
    assert_eq!(
        fx.esr
            .verify_passcode(h, &c.id, Purpose::RegisterMobile, &code)
            .unwrap(),
        VerifyOutcome::Approved(Approved::MobileRegistered {
            masked: "xxxxxxx374".into(),
            changed: false
        })
    );
    assert_eq!(person().mobile, Some(MOBILE.parse().unwrap()));
    // Changing: the same, to the new number, with its own purpose.
    fx.clock.advance(secs(30));
    let c2 = fx.esr.request_mobile_code(h, "07700 900123").unwrap();
    assert_eq!(c2.purpose, Purpose::ChangeMobile);
    assert_eq!(c2.masked_destination, "xxxxxxx123");
    assert_eq!(person().mobile, Some(MOBILE.parse().unwrap()));
    let code2 = fx.code_sent_to("07700 900123");
    assert_eq!(
        fx.esr
            .verify_passcode(h, &c2.id, Purpose::RegisterMobile, &code2)
            .unwrap(),
        VerifyOutcome::UnknownChallenge
    );
    assert_eq!(
        fx.esr
            .verify_passcode(h, &c2.id, Purpose::ChangeMobile, &code2)
            .unwrap(),
        VerifyOutcome::Approved(Approved::MobileRegistered {
            masked: "xxxxxxx123".into(),
            changed: true
        })
    );
    assert_eq!(person().mobile, Some("07700900123".parse().unwrap()));
    let registered: Vec<AuditEvent> = fx
        .audit(v)
        .into_iter()
        .filter(|e| matches!(e.event, AuditEvent::MobileRegistered { .. }))
        .map(|e| e.event)
        .collect();
    assert_eq!(
        registered,
        vec![
            AuditEvent::MobileRegistered {
                username: u.clone(),
                masked: "xxxxxxx374".into(),
                changed: false
            },
            AuditEvent::MobileRegistered {
                username: u.clone(),
                masked: "xxxxxxx123".into(),
                changed: true
            },
        ]
    );
    // What is not a mobile number is refused before anything is sent.
    fx.clock.advance(secs(30));
    let sent = sms_count(&fx);
    for bad in [
        "0191 123 4567",
        "020 7946 0000",
        "0800 123 4567",
        "07700",
        "not a number",
        "",
        "07700 90037a",
    ] {
        let before = fx.snapshot(v);
        let got = fx.esr.request_mobile_code(h, bad);
        assert!(
            matches!(
                got,
                Err(Error::InvalidInput {
                    what: "mobile number",
                    ..
                })
            ),
            "{bad:?}: {got:?}"
        );
        assert!(fx.snapshot(v) == before, "{bad:?}");
    }
    assert_eq!(sms_count(&fx), sent);
}

#[test]
fn rotated_keys_keep_verifying_codes_already_sent() {
    let (fx, m) = upgradable();
    let v = fx.vpd();
    let s1 = fx.internet(m.username()).unwrap();
    let c1 = fx.esr.request_upgrade_code(s1.id).unwrap();
    let code1 = fx.code_sent_to(MOBILE);
    assert_eq!(stored(&fx, &c1.id).key_id.as_str(), "fixture-1");
    let k2 = || PasscodeKey::new("fixture-2", b"key-43-abcdefghijklmnopqrstuvwxy").unwrap();
    fx.esr
        .set_passcode_keys(PasscodeKeys::new(fixture_key()).rotate(k2()).unwrap());
    // The old code's expiry did not move, and it still verifies.
    fx.clock.advance(secs(30));
    assert_eq!(
        fx.esr.passcode_status(s1.id, &c1.id).unwrap().expires_at,
        c1.expires_at
    );
    assert!(upgrade_with(&fx, s1.id, &c1, &code1).is_approved());
    // New codes are made with the new key.
    let s2 = fx.internet(m.username()).unwrap();
    let c2 = fx.esr.request_upgrade_code(s2.id).unwrap();
    let code2 = fx.code_sent_to(MOBILE);
    assert_eq!(stored(&fx, &c2.id).key_id.as_str(), "fixture-2");
    // A ring without the key that made a code cannot judge it, and changes nothing.
    let k3 = PasscodeKey::new("fixture-3", b"key-44-abcdefghijklmnopqrstuvwxy").unwrap();
    fx.esr.set_passcode_keys(PasscodeKeys::new(k3.clone()));
    for guess in [code2.clone(), wrong(&code2)] {
        assert_refused(
            &fx,
            v,
            &Error::UnknownPasscodeKey("fixture-2".into()),
            || {
                fx.esr
                    .verify_passcode(s2.id, &c2.id, Purpose::UpgradeSession, &guess)
            },
        );
    }
    assert_eq!(stored(&fx, &c2.id).attempts, 0);
    assert_eq!(stored(&fx, &c2.id).status, ChallengeStatus::Pending);
    // With the key back as a retired one, the code verifies.
    fx.esr
        .set_passcode_keys(PasscodeKeys::new(k3).with_retired(k2()).unwrap());
    assert!(upgrade_with(&fx, s2.id, &c2, &code2).is_approved());
    // A key id cannot be reused in a ring.
    assert!(matches!(
        PasscodeKeys::new(fixture_key()).rotate(fixture_key()),
        Err(Error::InvalidInput { .. })
    ));
}

#[test]
fn codes_have_the_configured_number_of_digits() {
    let fx = Fixture::builder()
        .settings(settings(true, true, false))
        .passcodes(PasscodePolicy {
            digits: 8,
            ..PasscodePolicy::default()
        })
        .build();
    let v = fx.vpd();
    let m = fx.upgradable_manager("Maria", "Manning");
    let s = fx.internet(m.username()).unwrap();
    let c = fx.esr.request_upgrade_code(s.id).unwrap();
    let code = fx.code_sent_to(MOBILE);
    assert_eq!(code.len(), 8);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(stored(&fx, &c.id).digits, 8);
    // Six (or nine) digits are the wrong shape: refused, and no attempt is used.
    for typed in [&code[..6], "123456", &format!("{code}1"), "1234567a"] {
        let before = fx.snapshot(v);
        let got = fx
            .esr
            .verify_passcode(s.id, &c.id, Purpose::UpgradeSession, typed);
        assert!(
            matches!(
                got,
                Err(Error::InvalidInput {
                    what: "passcode",
                    ..
                })
            ),
            "{typed:?}: {got:?}"
        );
        assert!(fx.snapshot(v) == before);
    }
    assert_eq!(
        fx.esr.passcode_status(s.id, &c.id).unwrap().attempts_left,
        5
    );
    // The code as people type it, in groups.
    let spaced = format!("{} {}", &code[..4], &code[4..]);
    assert!(upgrade_with(&fx, s.id, &c, &spaced).is_approved());
}

#[test]
fn the_trusts_sms_template_needs_portal_administration_and_is_used() {
    let (fx, m) = upgradable();
    let v = fx.vpd();
    let template = "{trust}: your code is {code}. It works for {minutes} minutes.";
    // A user administrator is not a portal administrator.
    let admin = Actor::Session(fx.t().session_a);
    assert_refused(
        &fx,
        v,
        &Error::NotPermitted {
            function: Function::AdministerPortal,
            denial: Denial::NotGranted,
        },
        || fx.esr.set_sms_template(&admin, v, template),
    );
    let pa = fx.staff("Paula", "Portal", "Trust HQ", None);
    fx.grant(
        pa.username(),
        Urp::PortalAdministration,
        GrantScope::WholeTrust,
    );
    let pa_session = Actor::Session(fx.hscn(pa.username()));
    for bad in [
        "no code {minutes}",
        "{code} forever",
        "{code} {minutes} {name}",
    ] {
        assert!(matches!(
            fx.esr.set_sms_template(&pa_session, v, bad),
            Err(Error::InvalidInput {
                what: "SMS template",
                ..
            })
        ));
    }
    fx.esr.set_sms_template(&pa_session, v, template).unwrap();
    assert_eq!(
        fx.esr.trust(v).unwrap().settings.sms_template.as_str(),
        template
    );
    assert_eq!(
        fx.audit(v).last().unwrap().event,
        AuditEvent::SettingChanged {
            setting: "SMS template".into(),
            value: template.into()
        }
    );
    let s = fx.internet(m.username()).unwrap();
    fx.esr.request_upgrade_code(s.id).unwrap();
    let code = fx.code_sent_to(MOBILE);
    let sms = fx.outbox.last_sms_to(&MOBILE.parse().unwrap()).unwrap();
    assert_eq!(
        sms.expose_text(),
        format!("Trust 297: your code is {code}. It works for 10 minutes.")
    );
}

/// A gateway that refuses a text after the commit: the caller gets `Error::Delivery`, the new
/// challenge is withdrawn (it can never verify), the refusal is audited, and the failed sends
/// use none of the send budget. The code asked for was never texted, so the previous one,
/// superseded by the request, stays superseded: the user asks again.
#[test]
fn a_failed_delivery_withdraws_the_code_and_uses_no_budget() {
    let (fx, m) = upgradable();
    let v = fx.vpd();
    let s = fx.internet(m.username()).unwrap();
    let c1 = fx.esr.request_upgrade_code(s.id).unwrap();
    let code1 = fx.code_sent_to(MOBILE);
    fx.clock.advance(secs(30));
    fx.outbox.fail_with(Some("gateway down"));
    let refusal = Error::Delivery("gateway down".into());
    for _ in 0..5 {
        assert_eq!(fx.esr.resend_passcode(s.id, &c1.id), Err(refusal.clone()));
        assert_eq!(fx.esr.request_upgrade_code(s.id), Err(refusal.clone()));
    }
    let h = fx.hscn(m.username());
    let before = fx.audit(v).len();
    assert_eq!(
        fx.esr.request_mobile_code(h, "07700 900123"),
        Err(refusal.clone())
    );
    // Issued, then given up: both audited.
    let names: Vec<&str> = fx.audit(v)[before..]
        .iter()
        .map(|e| e.event.kind())
        .collect();
    assert_eq!(names, ["passcode_issued", "message_undelivered"]);
    assert_eq!(fx.outbox.sent().len(), 1);
    // The first code was superseded when a new one was asked for.
    assert_eq!(
        fx.esr.passcode_status(s.id, &c1.id).unwrap().status,
        ChallengeStatus::Superseded
    );
    // The failed sends used none of the budget: no wait, and four more go.
    fx.outbox.fail_with(None);
    let mut c = fx.esr.resend_passcode(s.id, &c1.id).unwrap();
    for _ in 0..3 {
        fx.clock.advance(secs(30));
        c = fx.esr.resend_passcode(s.id, &c.id).unwrap();
    }
    assert_eq!(fx.outbox.sent().len(), 5);
    fx.clock.advance(secs(30));
    assert!(matches!(
        fx.esr.resend_passcode(s.id, &c.id),
        Err(Error::TooManySends { .. })
    ));
    assert_eq!(
        upgrade_with(&fx, s.id, &c1, &code1),
        VerifyOutcome::Superseded
    );
    assert!(upgrade_with(&fx, s.id, &c, &fx.code_sent_to(MOBILE)).is_approved());
}

#[test]
fn without_a_sender_nothing_is_issued() {
    let clock = ManualClock::new(start());
    let esr = Esr::with_rng(InMemoryStore::new(), clock, ChaCha20Rng::seed_from_u64(3))
        .with_config(Config {
            password_hashing: PasswordHashing::insecure_fast_for_tests(),
            ..Config::default()
        })
        .unwrap()
        .with_passcode_keys(PasscodeKeys::new(fixture_key()));
    let v = vpd("297");
    esr.create_trust(v, "Trust 297", settings(true, true, false))
        .unwrap();
    esr.add_org_unit(&system(), v, unit("Trust HQ"), "Trust HQ", None)
        .unwrap();
    let person = esr
        .add_person(
            &system(),
            v,
            NewPerson {
                employee_number: emp("29700001"),
                name: PersonName::new("Sam", "Sole").unwrap(),
                date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(),
                recruitment_email: "sam.sole@nhs.net".parse().unwrap(),
            },
        )
        .unwrap();
    let card = SmartcardAuthentication::verified_by_caller("CARD-1").unwrap();
    let h = esr
        .log_in_with_smartcard(&person.username, &card)
        .unwrap()
        .id;
    let trail = esr.audit_trail(v, 1, usize::MAX).unwrap();
    assert_eq!(
        esr.request_mobile_code(h, MOBILE),
        Err(Error::NoSender("sms"))
    );
    assert_eq!(
        esr.request_username_reminder(
            v,
            "sam.sole@nhs.net",
            NaiveDate::from_ymd_opt(1985, 3, 14).unwrap()
        ),
        Err(Error::NoSender("email"))
    );
    assert_eq!(
        esr.request_unlock_link(
            v,
            "sam.sole@nhs.net",
            NaiveDate::from_ymd_opt(1985, 3, 14).unwrap()
        ),
        Err(Error::NoSender("email"))
    );
    assert_eq!(esr.audit_trail(v, 1, usize::MAX).unwrap(), trail);
    assert_eq!(
        esr.store()
            .transaction(|tx| tx.challenges_of(&person.username, start() - TimeDelta::days(1)))
            .unwrap(),
        vec![]
    );
    // With a sender, the same request goes through.
    let outbox = Arc::new(Outbox::new());
    let esr = esr.with_sms_sender(outbox.clone());
    let c = esr.request_mobile_code(h, MOBILE).unwrap();
    assert_eq!(c.purpose, Purpose::RegisterMobile);
    assert_eq!(outbox.sent().len(), 1);
}

#[test]
fn an_upgrade_is_refused_with_a_typed_error_and_nothing_sent() {
    let blocked = |fx: &Fixture, s: SessionId, expected: Error| {
        let sent = fx.outbox.sent().len();
        assert_refused(fx, fx.vpd(), &expected, || fx.esr.request_upgrade_code(s));
        assert_eq!(fx.outbox.sent().len(), sent);
    };
    // Upgrade Access not enabled for managers (only for professionals).
    let fx = Fixture::builder()
        .settings(settings(true, false, true))
        .build();
    let m = fx.upgradable_manager("Maria", "Manning");
    let s = fx.internet(m.username()).unwrap();
    blocked(
        &fx,
        s.id,
        Error::UpgradeNotAvailable(UpgradeBlocker::UpgradeAccessDisabled),
    );

    let fx = Fixture::builder()
        .settings(settings(true, true, false))
        .build();
    // No registered mobile number.
    let bare = fx.staff("Nick", "Nomobile", "Ward 5", None);
    fx.grant(
        bare.username(),
        Urp::ManagerSelfServicePayrollApprovalsNotRequired,
        GrantScope::WholeTrust,
    );
    let s = fx.internet(bare.username()).unwrap();
    blocked(
        &fx,
        s.id,
        Error::UpgradeNotAvailable(UpgradeBlocker::NoRegisteredMobile),
    );
    // Nothing an upgrade would open.
    let ess = fx.staff("Ed", "Essonly", "Ward 5", None);
    fx.give_mobile(&ess);
    let s = fx.internet(ess.username()).unwrap();
    blocked(
        &fx,
        s.id,
        Error::UpgradeNotAvailable(UpgradeBlocker::NothingToUpgrade),
    );
    // An HSCN session.
    let m = fx.upgradable_manager("Maria", "Manning");
    let h = fx.hscn(m.username());
    blocked(
        &fx,
        h,
        Error::UpgradeNotAvailable(UpgradeBlocker::HscnSession),
    );
    // Already upgraded.
    let s = fx.internet(m.username()).unwrap();
    let c = fx.esr.request_upgrade_code(s.id).unwrap();
    assert!(upgrade_with(&fx, s.id, &c, &fx.code_sent_to(MOBILE)).is_approved());
    fx.clock.advance(secs(30));
    blocked(&fx, s.id, Error::AlreadyUpgraded);
    assert_refused(&fx, fx.vpd(), &Error::AlreadyUpgraded, || {
        fx.esr
            .upgrade_session(&StepUpProof::verified_by_caller(s.id, "sms-otp").unwrap())
    });
}

#[test]
fn no_code_or_full_number_is_ever_shown() {
    let fx = Fixture::builder()
        .settings(settings(true, true, false))
        .build();
    let v = fx.vpd();
    // Not the fixture's number, which error messages use as their example.
    const NUMBER: &str = "07700 900456";
    let m = fx.staff("Maria", "Manning", "Ward 5", None);
    fx.grant(
        m.username(),
        Urp::ManagerSelfServicePayrollApprovalsNotRequired,
        GrantScope::WholeTrust,
    );
    let mut views: Vec<PasscodeChallenge> = Vec::new();
    let mut errors: Vec<Error> = Vec::new();
    let mut outcomes: Vec<VerifyOutcome> = Vec::new();
    let mut ids: Vec<ChallengeId> = Vec::new();
    // Register a number, change it, change it back.
    let h = fx.hscn(m.username());
    for number in ["+44 7700 900456", "07700 900123", NUMBER] {
        let c = fx.esr.request_mobile_code(h, number).unwrap();
        errors.push(fx.esr.request_mobile_code(h, number).unwrap_err());
        let code = fx.code_sent_to(number);
        outcomes.push(
            fx.esr
                .verify_passcode(h, &c.id, c.purpose, &wrong(&code))
                .unwrap(),
        );
        outcomes.push(fx.esr.verify_passcode(h, &c.id, c.purpose, &code).unwrap());
        views.push(fx.esr.passcode_status(h, &c.id).unwrap());
        ids.push(c.id);
        views.push(c);
        fx.clock.advance(secs(30));
    }
    errors.push(fx.esr.request_mobile_code(h, "0191 123 4567").unwrap_err());
    // Upgrade: a resend, a wrong code, the right one.
    let s = fx.internet(m.username()).unwrap();
    let c1 = fx.esr.request_upgrade_code(s.id).unwrap();
    errors.push(fx.esr.resend_passcode(s.id, &c1.id).unwrap_err());
    fx.clock.advance(secs(30));
    let c2 = fx.esr.resend_passcode(s.id, &c1.id).unwrap();
    let code2 = fx.code_sent_to(NUMBER);
    outcomes.push(upgrade_with(&fx, s.id, &c2, &wrong(&code2)));
    outcomes.push(upgrade_with(&fx, s.id, &c1, &code2));
    outcomes.push(upgrade_with(&fx, s.id, &c2, &code2));
    errors.push(
        fx.esr
            .verify_passcode(s.id, &c2.id, Purpose::UpgradeSession, "12345")
            .unwrap_err(),
    );
    errors.push(fx.esr.request_upgrade_code(s.id).unwrap_err());
    errors.push(fx.esr.resend_passcode(s.id, &c2.id).unwrap_err());
    fx.outbox.fail_with(Some("gateway down"));
    fx.clock.advance(secs(30));
    errors.push(fx.esr.request_mobile_code(h, "07700 900123").unwrap_err());
    fx.outbox.fail_with(None);
    for c in [&c1, &c2] {
        views.push(fx.esr.passcode_status(s.id, &c.id).unwrap());
        ids.push(c.id);
        views.push(c.clone());
    }

    let codes: Vec<String> = fx
        .outbox
        .sent()
        .iter()
        .filter_map(|m| match m {
            Sent::Sms(s) => Some(s.expose_text().to_owned()),
            Sent::Email(_) => None,
        })
        .map(|t| {
            t.split(|c: char| !c.is_ascii_digit())
                .find(|w| w.len() == 6)
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(codes.len(), 5);
    let mut secrets = codes.clone();
    for n in [
        "+447700900456",
        "7700900456",
        "900456",
        "+447700900123",
        "7700900123",
        "900123",
    ] {
        secrets.push(n.to_owned());
    }
    let check = |what: &str, text: &str| {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{what} shows {secret}: {text}"
            );
        }
    };
    let entries = fx.audit(v);
    for e in &entries {
        check("audit entry", &format!("{e:?}"));
        check("audit event", &e.event.to_string());
        check("audit actor", &e.actor.to_string());
    }
    check("audit json", &serde_json::to_string(&entries).unwrap());
    for c in &views {
        check("challenge view", &format!("{c:?}"));
        check("challenge view json", &serde_json::to_string(c).unwrap());
        check("challenge message", &c.message());
    }
    for e in &errors {
        check("error", &format!("{e:?}"));
        check("error message", &e.to_string());
    }
    check("outcomes", &format!("{outcomes:?}"));
    for id in &ids {
        let c = stored(&fx, id);
        check("stored challenge", &format!("{c:?}"));
        let json = serde_json::to_string(&c).unwrap();
        check("stored challenge json", &json);
        let back: Challenge = serde_json::from_str(&json).unwrap();
        assert_eq!(back.destination, None);
        assert_eq!(back.tag, c.tag);
    }
    check("outbox", &format!("{:?}", fx.outbox));
    check(
        "person",
        &format!("{:?}", fx.esr.person(v, m.employee()).unwrap()),
    );
    check(
        "person json",
        &serde_json::to_string(&fx.esr.person(v, m.employee()).unwrap()).unwrap(),
    );
    // The flow did what it said: every kind of event is there, masked.
    let kinds: Vec<&str> = entries.iter().map(|e| e.event.kind()).collect();
    for k in [
        "passcode_issued",
        "passcode_checked",
        "passcode_superseded",
        "mobile_registered",
        "session_upgraded",
    ] {
        assert!(kinds.contains(&k), "{k}");
    }
    assert!(fx.esr.session(s.id).unwrap().is_upgraded());
}
