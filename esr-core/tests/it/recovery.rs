//! Account recovery by e-mail: forgotten username, password reset and unlock links. Links work
//! once, within 4 hours, are stored only as tags, and the answer to a request never says
//! whether anything matched.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::chrono::{NaiveDate, TimeDelta};
use esr_core::{access::*, audit::*, passcode::*, people::*, store::*, *};

const LINK: &str = "https://esr.example/recover?t=";

/// Internet access for everyone holding ESS, so password log-ins reach the password check.
fn open_fixture() -> Fixture {
    Fixture::builder()
        .settings(settings(true, false, false))
        .build()
}

/// Every fixture person's date of birth.
fn dob() -> NaiveDate {
    NaiveDate::from_ymd_opt(1985, 3, 14).unwrap()
}

fn email_of(s: &Staff) -> String {
    s.person.recruitment_email.to_string()
}

fn emails(fx: &Fixture) -> usize {
    fx.outbox
        .sent()
        .iter()
        .filter(|m| matches!(m, Sent::Email(_)))
        .count()
}

/// Asks for a username reminder for `s` and returns the e-mail's token.
fn reminder(fx: &Fixture, s: &Staff) -> String {
    assert_eq!(
        fx.esr
            .request_username_reminder(fx.vpd(), &email_of(s), dob())
            .unwrap(),
        RecoveryRequested
    );
    last_token(fx, s)
}

fn last_token(fx: &Fixture, s: &Staff) -> String {
    fx.outbox
        .last_email_to(&s.person.recruitment_email)
        .unwrap()
        .expose_token()
        .expose()
        .to_owned()
}

fn log_in(fx: &Fixture, s: &Staff, password: &str) -> Result<Session> {
    fx.esr
        .log_in_with_password(&s.username().to_string(), &Password::new(password))
}

fn refused(p: LinkProblem) -> Error {
    Error::RecoveryLinkRefused(p)
}

/// The same token with another secret.
fn forged(token: &str) -> String {
    let (id, secret) = token.split_once('.').unwrap();
    let flipped: String = secret
        .chars()
        .map(|c| if c == '0' { '1' } else { '0' })
        .collect();
    format!("{id}.{flipped}")
}

const NEW: &str = "a brand new passphrase";

#[test]
fn a_username_reminder_emails_the_username_and_a_reset_link() {
    let fx = open_fixture();
    let v = fx.vpd();
    let p = fx.staff("Pat", "Poll", "Ward 5", None);
    let from = fx.audit(v).len();
    let answer = fx
        .esr
        .request_username_reminder(v, &email_of(&p), dob())
        .unwrap();
    assert_eq!(answer, RecoveryRequested);
    assert_eq!(
        answer.message(),
        "If these details match an ESR account, we have e-mailed the address on its record. \
         The link in that e-mail works once, within 4 hours."
    );
    let mail = fx
        .outbox
        .last_email_to(&p.person.recruitment_email)
        .unwrap();
    assert_eq!(emails(&fx), 1);
    assert_eq!(mail.kind, EmailKind::UsernameReminder);
    assert_eq!(&mail.username, p.username());
    assert_eq!(mail.vpd, v);
    assert_eq!(mail.to(), &p.person.recruitment_email);
    assert_eq!(mail.link_expires_at, start() + TimeDelta::hours(4));
    let token = mail.expose_token().expose().to_owned();
    let text = mail.text(LINK);
    assert!(
        text.contains(&format!("Your ESR username is {}.", p.username())),
        "{text}"
    );
    assert!(text.contains(&format!("{LINK}{token}")), "{text}");
    assert!(text.contains("13:00 UTC on 22 Nov 2026"), "{text}");
    // The e-mail address is matched regardless of case; the date must match exactly.
    fx.clock.advance(TimeDelta::seconds(30));
    fx.esr
        .request_username_reminder(v, &email_of(&p).to_uppercase(), dob())
        .unwrap();
    let events: Vec<AuditEvent> = fx.audit(v)[from..]
        .iter()
        .map(|e| e.event.clone())
        .collect();
    let issued = events
        .iter()
        .filter(|e| {
            matches!(e, AuditEvent::PasscodeIssued { purpose: Purpose::ResetPassword, masked, username, .. }
                if masked == "s…@nhs.net" && username == p.username())
        })
        .count();
    assert_eq!(
        emails(&fx),
        2,
        "the address is matched without regard to case"
    );
    assert_eq!(issued, 2);
    assert!(events.contains(&AuditEvent::RecoveryRequested {
        purpose: Purpose::ResetPassword,
        matched: 1
    }));
    // The link resets the password.
    let token = last_token(&fx, &p);
    assert_eq!(
        fx.esr
            .reset_password_with_link(&token, &Password::new(NEW))
            .unwrap(),
        p.username().clone()
    );
}

#[test]
fn the_answer_is_the_same_when_nothing_matches() {
    let fx = open_fixture();
    let v = fx.vpd();
    let p = fx.staff("Pat", "Poll", "Ward 5", None);
    let leaver = fx.staff("Lee", "Leaver", "Ward 5", None);
    fx.esr
        .end_account(&system(), leaver.username(), "left the trust")
        .unwrap();
    let other_day = NaiveDate::from_ymd_opt(1985, 3, 15).unwrap();
    let cases = [
        ("unknown@nhs.net".to_owned(), dob()),
        (email_of(&p), other_day),
        (email_of(&leaver), dob()),
    ];
    for (email, date) in &cases {
        for reset in [true, false] {
            let before = fx.snapshot(v);
            let answer = if reset {
                fx.esr.request_username_reminder(v, email, *date)
            } else {
                fx.esr.request_unlock_link(v, email, *date)
            };
            assert_eq!(answer, Ok(RecoveryRequested), "{email} {date}");
            assert_eq!(emails(&fx), 0);
            // Only one audit entry, saying nothing matched.
            let after = fx.snapshot(v);
            assert_eq!(after.audit.len(), before.audit.len() + 1);
            assert_eq!(
                after.audit.last().unwrap().event,
                AuditEvent::RecoveryRequested {
                    purpose: if reset {
                        Purpose::ResetPassword
                    } else {
                        Purpose::UnlockAccount
                    },
                    matched: 0
                }
            );
            assert_eq!(after.audit.last().unwrap().actor, AuditActor::Anonymous);
            let mut after = after;
            after.audit.truncate(before.audit.len());
            assert!(after == before);
            for u in [p.username(), leaver.username()] {
                assert_eq!(
                    fx.esr
                        .store()
                        .transaction(|tx| tx.challenges_of(u, start() - TimeDelta::days(1)))
                        .unwrap(),
                    vec![]
                );
            }
        }
    }
    // Another trust's code: the same answer, nothing sent.
    let fx2 = Fixture::builder().trust("297").trust("999").build();
    let q = fx2.staff("Quinn", "Quill", "Ward 5", None);
    assert_eq!(
        fx2.esr
            .request_username_reminder(vpd("999"), &email_of(&q), dob()),
        Ok(RecoveryRequested)
    );
    assert_eq!(emails(&fx2), 0);
}

#[test]
fn a_reset_link_sets_the_password_once() {
    let fx = open_fixture();
    let v = fx.vpd();
    let p = fx.staff("Pat", "Poll", "Ward 5", None);
    let token = reminder(&fx, &p);
    fx.clock.advance(TimeDelta::hours(1));
    let from = fx.audit(v).len();
    assert_eq!(
        fx.esr.reset_password_with_link(&token, &Password::new(NEW)),
        Ok(p.username().clone())
    );
    assert!(fx.audit(v)[from..].iter().any(|e| e.event
        == AuditEvent::PasswordSet {
            username: p.username().clone()
        }));
    let s = log_in(&fx, &p, NEW).unwrap();
    assert_eq!(s.channel, Channel::Internet);
    assert_eq!(log_in(&fx, &p, PASSWORD), Err(Error::InvalidCredentials));
    // Once only.
    assert_refused(&fx, v, &refused(LinkProblem::AlreadyUsed), || {
        fx.esr
            .reset_password_with_link(&token, &Password::new("yet another passphrase"))
    });
    log_in(&fx, &p, NEW).unwrap();
    // A reset link is not an unlock link, and junk is not a link.
    assert_refused(&fx, v, &refused(LinkProblem::NotRecognised), || {
        fx.esr.unlock_with_link(&token)
    });
    for junk in ["", "abc", &token[1..], &token.replace('.', "-")] {
        assert_eq!(
            fx.esr.reset_password_with_link(junk, &Password::new(NEW)),
            Err(refused(LinkProblem::NotRecognised))
        );
    }
}

#[test]
fn a_reset_link_clears_a_lock() {
    let fx = open_fixture();
    let v = fx.vpd();
    let p = fx.staff("Pat", "Poll", "Ward 5", None);
    for _ in 0..5 {
        assert!(log_in(&fx, &p, "not the password").is_err());
    }
    assert_eq!(
        fx.esr.account(p.username()).unwrap().state,
        AccountState::Locked
    );
    assert_eq!(
        log_in(&fx, &p, PASSWORD),
        Err(Error::AccountLocked(p.username().clone()))
    );
    // A locked account can recover.
    let token = reminder(&fx, &p);
    let from = fx.audit(v).len();
    fx.esr
        .reset_password_with_link(&token, &Password::new(NEW))
        .unwrap();
    let acc = fx.esr.account(p.username()).unwrap();
    assert_eq!((acc.state, acc.failed_logins), (AccountState::Active, 0));
    assert!(fx.audit(v)[from..].iter().any(|e| e.event
        == AuditEvent::AccountStateChanged {
            username: p.username().clone(),
            from: "locked".into(),
            to: "active".into(),
            reason: "reset-password link".into(),
        }));
    log_in(&fx, &p, NEW).unwrap();
}

#[test]
fn a_link_works_until_just_before_four_hours() {
    let fx = open_fixture();
    let v = fx.vpd();
    let p = fx.staff("Pat", "Poll", "Ward 5", None);
    // Expired at exactly four hours.
    let t1 = reminder(&fx, &p);
    fx.clock.advance(TimeDelta::hours(4));
    assert_refused(&fx, v, &refused(LinkProblem::Expired), || {
        fx.esr.reset_password_with_link(&t1, &Password::new(NEW))
    });
    log_in(&fx, &p, PASSWORD).unwrap();
    // Works a millisecond before.
    let t2 = reminder(&fx, &p);
    fx.clock
        .advance(TimeDelta::hours(4) - TimeDelta::milliseconds(1));
    assert_eq!(
        fx.esr.reset_password_with_link(&t2, &Password::new(NEW)),
        Ok(p.username().clone())
    );
    log_in(&fx, &p, NEW).unwrap();
    // The expired one stays expired.
    assert_eq!(
        fx.esr.reset_password_with_link(&t1, &Password::new(NEW)),
        Err(refused(LinkProblem::Expired))
    );
}

#[test]
fn a_wrong_secret_is_not_recognised_and_five_kill_the_link() {
    let fx = open_fixture();
    let v = fx.vpd();
    let p = fx.staff("Pat", "Poll", "Ward 5", None);
    let token = reminder(&fx, &p);
    let bad = forged(&token);
    assert_ne!(bad, token);
    for i in 1..=5 {
        let from = fx.audit(v).len();
        assert_eq!(
            fx.esr.reset_password_with_link(&bad, &Password::new(NEW)),
            Err(refused(LinkProblem::NotRecognised)),
            "try {i}"
        );
        let audit = fx.audit(v);
        assert_eq!(audit.len(), from + 1);
        assert!(matches!(
            &audit[from].event,
            AuditEvent::PasscodeChecked { outcome, username, .. }
                if outcome == "wrong token" && username == p.username()
        ));
    }
    // The right token no longer works either.
    assert_refused(&fx, v, &refused(LinkProblem::NotRecognised), || {
        fx.esr.reset_password_with_link(&token, &Password::new(NEW))
    });
    log_in(&fx, &p, PASSWORD).unwrap();
    // Four wrong ones leave a new link usable.
    fx.clock.advance(TimeDelta::seconds(30));
    let token = reminder(&fx, &p);
    let bad = forged(&token);
    for _ in 0..4 {
        assert!(
            fx.esr
                .reset_password_with_link(&bad, &Password::new(NEW))
                .is_err()
        );
    }
    assert_eq!(
        fx.esr.reset_password_with_link(&token, &Password::new(NEW)),
        Ok(p.username().clone())
    );
}

#[test]
fn a_newer_link_supersedes_the_older() {
    let fx = open_fixture();
    let v = fx.vpd();
    let p = fx.staff("Pat", "Poll", "Ward 5", None);
    let old = reminder(&fx, &p);
    // Within 30 seconds no new link is sent, and the answer is the same.
    fx.clock.advance(TimeDelta::seconds(10));
    assert_eq!(reminder(&fx, &p), old);
    assert_eq!(emails(&fx), 1);
    fx.clock.advance(TimeDelta::seconds(20));
    let new = reminder(&fx, &p);
    assert_ne!(new, old);
    assert_eq!(emails(&fx), 2);
    assert_refused(&fx, v, &refused(LinkProblem::Superseded), || {
        fx.esr.reset_password_with_link(&old, &Password::new(NEW))
    });
    fx.esr
        .reset_password_with_link(&new, &Password::new(NEW))
        .unwrap();
    // Using a reset link also retires a pending unlock link.
    fx.clock.advance(TimeDelta::seconds(30));
    fx.esr.request_unlock_link(v, &email_of(&p), dob()).unwrap();
    let unlock = last_token(&fx, &p);
    fx.clock.advance(TimeDelta::seconds(30));
    let reset = reminder(&fx, &p);
    fx.esr
        .reset_password_with_link(&reset, &Password::new("third passphrase"))
        .unwrap();
    assert_eq!(
        fx.esr.unlock_with_link(&unlock),
        Err(refused(LinkProblem::Superseded))
    );
}

#[test]
fn a_weak_password_does_not_use_up_the_link() {
    let fx = open_fixture();
    let v = fx.vpd();
    let p = fx.staff("Pat", "Poll", "Ward 5", None);
    let token = reminder(&fx, &p);
    for weak in ["short", "aaaaaaaaaaaa"] {
        let before = fx.snapshot(v);
        let got = fx
            .esr
            .reset_password_with_link(&token, &Password::new(weak));
        assert!(matches!(got, Err(Error::WeakPassword(_))), "{got:?}");
        assert!(fx.snapshot(v) == before);
    }
    assert_eq!(
        fx.esr.reset_password_with_link(&token, &Password::new(NEW)),
        Ok(p.username().clone())
    );
}

#[test]
fn a_suspended_account_cannot_use_its_link() {
    let fx = open_fixture();
    let v = fx.vpd();
    let p = fx.staff("Pat", "Poll", "Ward 5", None);
    let token = reminder(&fx, &p);
    fx.esr
        .suspend_account(&system(), p.username(), "investigation")
        .unwrap();
    assert_refused(
        &fx,
        v,
        &Error::AccountSuspended(p.username().clone()),
        || fx.esr.reset_password_with_link(&token, &Password::new(NEW)),
    );
    assert_refused(
        &fx,
        v,
        &Error::AccountSuspended(p.username().clone()),
        || fx.esr.reset_password_with_link(&token, &Password::new(NEW)),
    );
    // A suspended account is sent nothing.
    fx.clock.advance(TimeDelta::seconds(30));
    let sent = emails(&fx);
    assert_eq!(
        fx.esr.request_username_reminder(v, &email_of(&p), dob()),
        Ok(RecoveryRequested)
    );
    assert_eq!(emails(&fx), sent);
    // The link was not used up: once reinstated, it works.
    fx.esr
        .reinstate_account(&system(), p.username(), "cleared")
        .unwrap();
    fx.esr
        .reset_password_with_link(&token, &Password::new(NEW))
        .unwrap();
    log_in(&fx, &p, NEW).unwrap();
}

#[test]
fn an_unlock_link_unlocks_a_locked_account() {
    let fx = open_fixture();
    let v = fx.vpd();
    let p = fx.staff("Pat", "Poll", "Ward 5", None);
    for _ in 0..5 {
        assert!(log_in(&fx, &p, "not the password").is_err());
    }
    assert_eq!(
        log_in(&fx, &p, PASSWORD),
        Err(Error::AccountLocked(p.username().clone()))
    );
    fx.esr.request_unlock_link(v, &email_of(&p), dob()).unwrap();
    let mail = fx
        .outbox
        .last_email_to(&p.person.recruitment_email)
        .unwrap();
    assert_eq!(mail.kind, EmailKind::UnlockAccount);
    let token = mail.expose_token().expose().to_owned();
    let text = mail.text(LINK);
    assert!(
        text.contains(&format!("To unlock your ESR account {}", p.username()))
            && text.contains(&format!("{LINK}{token}")),
        "{text}"
    );
    // An unlock link does not reset a password.
    assert_refused(&fx, v, &refused(LinkProblem::NotRecognised), || {
        fx.esr.reset_password_with_link(&token, &Password::new(NEW))
    });
    assert_eq!(fx.esr.unlock_with_link(&token), Ok(p.username().clone()));
    let acc = fx.esr.account(p.username()).unwrap();
    assert_eq!((acc.state, acc.failed_logins), (AccountState::Active, 0));
    // The old password works again; the link works once.
    log_in(&fx, &p, PASSWORD).unwrap();
    assert_eq!(
        fx.esr.unlock_with_link(&token),
        Err(refused(LinkProblem::AlreadyUsed))
    );
}

#[test]
fn a_malformed_email_address_is_refused() {
    let fx = open_fixture();
    let v = fx.vpd();
    for bad in ["", "no-at-sign", "a@b", "a b@nhs.net", "@nhs.net", "x@.net"] {
        for reset in [true, false] {
            let before = fx.snapshot(v);
            let got = if reset {
                fx.esr.request_username_reminder(v, bad, dob())
            } else {
                fx.esr.request_unlock_link(v, bad, dob())
            };
            assert!(
                matches!(
                    got,
                    Err(Error::InvalidInput {
                        what: "e-mail address",
                        ..
                    })
                ),
                "{bad:?}: {got:?}"
            );
            assert!(fx.snapshot(v) == before);
        }
    }
    assert_eq!(emails(&fx), 0);
}

#[test]
fn tokens_and_addresses_are_never_shown() {
    let fx = open_fixture();
    let v = fx.vpd();
    let p = fx.staff("Pat", "Poll", "Ward 5", None);
    let email = email_of(&p);
    let mut tokens = vec![reminder(&fx, &p)];
    let mut errors = vec![
        fx.esr
            .reset_password_with_link(&forged(&tokens[0]), &Password::new(NEW))
            .unwrap_err(),
    ];
    fx.clock.advance(TimeDelta::seconds(30));
    fx.esr.request_unlock_link(v, &email, dob()).unwrap();
    tokens.push(last_token(&fx, &p));
    fx.esr.unlock_with_link(&tokens[1]).unwrap();
    errors.push(fx.esr.unlock_with_link(&tokens[1]).unwrap_err());
    errors.push(
        fx.esr
            .reset_password_with_link(&tokens[0], &Password::new(NEW))
            .unwrap_err(),
    );
    let mut secrets: Vec<String> = tokens.clone();
    for t in &tokens {
        secrets.push(t.split_once('.').unwrap().1.to_owned());
    }
    secrets.push(email.clone());
    secrets.push(email.split_once('@').unwrap().0.to_owned());
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
    }
    check("audit json", &serde_json::to_string(&entries).unwrap());
    for e in &errors {
        check("error", &format!("{e:?}"));
        check("error message", &e.to_string());
    }
    for m in fx.outbox.sent() {
        check("message", &format!("{m:?}"));
    }
    check("outbox", &format!("{:?}", fx.outbox));
    let challenges = fx
        .esr
        .store()
        .transaction(|tx| tx.challenges_of(p.username(), start()))
        .unwrap();
    assert_eq!(challenges.len(), 2);
    for c in &challenges {
        assert_eq!(c.digits, 0);
        assert!(c.purpose.is_link());
        assert_eq!(c.session, None);
        check("stored link", &format!("{c:?}"));
        check("stored link json", &serde_json::to_string(c).unwrap());
    }
    // What was stored is a tag, not the secret.
    assert!(
        challenges
            .iter()
            .all(|c| !secrets.contains(&hex_of(&c.tag.0)))
    );
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ----- floods and timing ----------------------------------------------------------------------

/// A service over the fixture's store settings, with a flood allowance of `max` and an answer
/// time of `answer`.
fn flood_service(max: u32, answer: std::time::Duration) -> (TestEsr, ManualClock) {
    let (esr, clock, _) = service_with_outbox(9, 5, PasscodePolicy::default());
    let esr = esr
        .with_config(Config {
            password_hashing: PasswordHashing::insecure_fast_for_tests(),
            max_unmatched_recovery_audits: max,
            recovery_answer_time: answer,
            ..Config::default()
        })
        .unwrap();
    let v = vpd("297");
    esr.create_trust(v, "Northfield", settings(true, false, false))
        .unwrap();
    (esr, clock)
}

#[test]
fn a_flood_of_unmatched_requests_cannot_grow_the_audit_trail_without_bound() {
    let (esr, clock) = flood_service(3, std::time::Duration::ZERO);
    let v = vpd("297");
    let trail = |esr: &TestEsr| esr.audit_trail(v, 1, usize::MAX).unwrap();
    let before = trail(&esr).len();
    for i in 0..50 {
        let r = esr.request_username_reminder(v, &format!("nobody{i}@nhs.net"), dob());
        assert_eq!(r, Ok(RecoveryRequested), "the answer never changes");
    }
    // Three audited one by one; the other 47 counted.
    assert_eq!(trail(&esr).len(), before + 3);
    // The next window's first request writes the count first.
    clock.advance(TimeDelta::minutes(10));
    esr.request_username_reminder(v, "late@nhs.net", dob())
        .unwrap();
    let t = trail(&esr);
    assert_eq!(t.len(), before + 5);
    assert!(matches!(
        t[t.len() - 2].event,
        AuditEvent::RecoveryRequestsAggregated { unmatched: 47, .. }
    ));
    assert_eq!(
        t[t.len() - 1].event,
        AuditEvent::RecoveryRequested {
            purpose: Purpose::ResetPassword,
            matched: 0
        }
    );
    esr.verify_audit(v).unwrap();
}

#[test]
fn a_recovery_request_takes_at_least_the_answer_time_matched_or_not() {
    let answer = std::time::Duration::from_millis(40);
    let (esr, _) = flood_service(100, answer);
    let v = vpd("297");
    for email in ["nobody@nhs.net", "someone.else@nhs.net"] {
        let t = std::time::Instant::now();
        esr.request_unlock_link(v, email, dob()).unwrap();
        assert!(t.elapsed() >= answer, "{:?}", t.elapsed());
    }
    let too_long = Config {
        recovery_answer_time: std::time::Duration::from_secs(11),
        ..Config::default()
    };
    let (fresh, _) = service(1, 5);
    assert!(matches!(
        fresh.with_config(too_long),
        Err(Error::InvalidInput {
            what: "recovery_answer_time",
            ..
        })
    ));
}
