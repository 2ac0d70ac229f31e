//! Sessions to NIST SP 800-63B AAL2: the 30-minute idle timeout beside the 12-hour lifetime,
//! sessions ended by password changes, resets, locks, suspensions and ends, and the user's own
//! view of their sessions. Also the sign-in answers that must not tell who exists, and the
//! passcode key a service must be given.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::access::{ACTIVITY_GRANULARITY, SessionEndReason, SmartcardAuthentication};
use esr_core::audit::AuditEvent;
use esr_core::chrono::{NaiveDate, TimeDelta};
use esr_core::passcode::Purpose;
use esr_core::people::{AccountState, Password};
use esr_core::values::Clock;
use esr_core::{Actor, Error};
use proptest::prelude::*;

fn open_fixture() -> Fixture {
    Fixture::builder()
        .settings(settings(true, false, false))
        .build()
}

fn min(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

fn ended_reasons(fx: &Fixture, from: usize) -> Vec<String> {
    fx.audit(fx.vpd())[from..]
        .iter()
        .filter_map(|e| match &e.event {
            AuditEvent::SessionEnded { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

// ----- the idle timeout and the lifetime --------------------------------------------------------

#[test]
fn an_internet_session_times_out_after_30_minutes_without_activity() {
    let fx = open_fixture();
    let v = fx.vpd();
    let p = fx.staff("Sam", "Shift", "Trust HQ", None);
    let web = fx.internet(p.username()).unwrap();
    assert_eq!(web.idle_timeout, min(30));
    // One second short of 30 minutes unused: still usable (and this use is recorded).
    fx.clock.advance(min(30) - TimeDelta::seconds(1));
    assert!(fx.esr.functions(web.id).is_ok());
    let used_at = fx.clock.now();
    assert_eq!(fx.esr.session(web.id).unwrap().last_active_at, used_at);
    // 30 minutes after that use, to the second: timed out, whatever is asked.
    fx.clock.set(used_at + min(30) - TimeDelta::milliseconds(1));
    assert!(fx.esr.session(web.id).is_ok());
    let at = fx.clock.now();
    fx.clock.set(at + min(30));
    let idle = Error::SessionIdle {
        session: web.id,
        minutes: 30,
    };
    assert_refused(&fx, v, &idle, || fx.esr.functions(web.id));
    assert_refused(&fx, v, &idle, || fx.esr.session(web.id));
    assert!(idle.to_string().contains("30 minutes without activity"));
    assert!(fx.esr.live_sessions(p.username()).unwrap().is_empty());
}

#[test]
fn activity_is_recorded_at_most_once_a_minute_and_never_late() {
    let fx = open_fixture();
    let p = fx.staff("Sam", "Shift", "Trust HQ", None);
    let web = fx.internet(p.username()).unwrap();
    let before = fx.audit(fx.vpd()).len();
    // Requests within the minute write nothing.
    fx.clock.advance(TimeDelta::seconds(59));
    fx.esr.functions(web.id).unwrap();
    assert_eq!(
        fx.esr.session(web.id).unwrap().last_active_at,
        web.started_at
    );
    // The next one, a minute on, is recorded; activity is never audited.
    fx.clock.advance(TimeDelta::seconds(1));
    fx.esr.functions(web.id).unwrap();
    let s = fx.esr.session(web.id).unwrap();
    assert_eq!(s.last_active_at, web.started_at + ACTIVITY_GRANULARITY);
    assert_eq!(fx.audit(fx.vpd()).len(), before);
    // A session times out at most a minute early, never late.
    assert!(s.idle_expires_at() <= fx.clock.now() + min(30));
    assert!(s.idle_expires_at() >= fx.clock.now() + min(29));
}

#[test]
fn the_12_hour_lifetime_is_never_extended_by_activity() {
    let fx = open_fixture();
    let v = fx.vpd();
    let p = fx.staff("Sam", "Shift", "Trust HQ", None);
    let web = fx.internet(p.username()).unwrap();
    // Used every 20 minutes for 12 hours: the idle timeout never comes, the lifetime does.
    while fx.clock.now() + min(20) < web.expires_at {
        fx.clock.advance(min(20));
        fx.esr.functions(web.id).unwrap();
    }
    assert_eq!(fx.esr.session(web.id).unwrap().expires_at, web.expires_at);
    fx.clock.set(web.expires_at - TimeDelta::seconds(1));
    assert!(fx.esr.functions(web.id).is_ok());
    // Its idle expiry never runs past the lifetime.
    assert_eq!(
        fx.esr.session(web.id).unwrap().idle_expires_at(),
        web.expires_at
    );
    fx.clock.set(web.expires_at);
    assert_refused(&fx, v, &Error::SessionExpired(web.id), || {
        fx.esr.functions(web.id)
    });
}

#[test]
fn the_timeouts_are_configurable_within_nists_bounds() {
    let (esr, _) = service(1, 5);
    for (field, bad) in [
        ("internet_idle_timeout", min(31)),
        ("internet_idle_timeout", TimeDelta::seconds(59)),
        ("hscn_idle_timeout", TimeDelta::hours(13)),
        ("session_lifetime", TimeDelta::hours(13)),
    ] {
        let mut c = Config::default();
        match field {
            "internet_idle_timeout" => c.internet_idle_timeout = bad,
            "hscn_idle_timeout" => c.hscn_idle_timeout = bad,
            _ => c.session_lifetime = bad,
        }
        let (fresh, _) = service(1, 5);
        let e = fresh.with_config(c).unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput { what, .. } if what == field),
            "{e:?}"
        );
    }
    drop(esr);
    // An HSCN session may be given longer, and is documented to be: here 2 hours.
    let (esr, clock) = service(2, 5);
    let esr = esr
        .with_config(Config {
            hscn_idle_timeout: TimeDelta::hours(2),
            password_hashing: esr_core::people::PasswordHashing::insecure_fast_for_tests(),
            ..Config::default()
        })
        .unwrap();
    let v = vpd("297");
    esr.create_trust(v, "Northfield", settings(true, false, false))
        .unwrap();
    esr.add_org_unit(&system(), v, unit("HQ"), "HQ", None)
        .unwrap();
    let p = esr
        .add_person(
            &system(),
            v,
            esr_core::people::NewPerson {
                employee_number: emp("29700001"),
                name: esr_core::people::PersonName::new("Emma", "Conroy").unwrap(),
                date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(),
                recruitment_email: "emma@nhs.net".parse().unwrap(),
            },
        )
        .unwrap();
    let card = SmartcardAuthentication::verified_by_caller("CARD-1").unwrap();
    let h = esr.log_in_with_smartcard(&p.username, &card).unwrap();
    assert_eq!(h.idle_timeout, TimeDelta::hours(2));
    clock.advance(min(90));
    assert!(esr.session(h.id).is_ok());
}

// ----- ending sessions --------------------------------------------------------------------------

#[test]
fn a_password_change_ends_every_other_session_of_the_account() {
    let fx = open_fixture();
    let p = fx.staff("Sam", "Shift", "Trust HQ", None);
    let u = p.username();
    let mine = fx.internet(u).unwrap();
    let attacker = fx.internet(u).unwrap();
    let desk = fx.hscn(u);
    let from = fx.audit(fx.vpd()).len();
    let new = Password::new("a brand new passphrase");
    // A wrong current password changes nothing (and counts as a failed log-in).
    assert_eq!(
        fx.esr
            .change_password(mine.id, &Password::new("not it at all"), &new),
        Err(Error::InvalidCredentials)
    );
    assert_eq!(fx.esr.account(u).unwrap().failed_logins, 1);
    fx.esr.change_password(mine.id, &password(), &new).unwrap();
    assert!(
        fx.esr.session(mine.id).is_ok(),
        "the changing session stays"
    );
    assert_eq!(
        fx.esr.session(attacker.id),
        Err(Error::SessionEnded(attacker.id))
    );
    assert_eq!(fx.esr.session(desk), Err(Error::SessionEnded(desk)));
    assert_eq!(
        ended_reasons(&fx, from),
        vec!["password changed".to_string(); 2]
    );
    assert!(
        fx.esr
            .log_in_with_password(&u.to_string(), &password())
            .is_err()
    );
    fx.esr.log_in_with_password(&u.to_string(), &new).unwrap();
}

#[test]
fn an_administrators_reset_a_lock_a_suspension_and_an_end_end_every_session() {
    let fx = open_fixture();
    let v = fx.vpd();
    let admin = Actor::Session(fx.t().session_a);
    let p = fx.staff("Sam", "Shift", "Trust HQ", None);
    let u = p.username();

    // An administrator's reset.
    let s1 = fx.internet(u).unwrap();
    let from = fx.audit(v).len();
    fx.esr
        .set_password(&admin, u, &Password::new("set by the service desk"))
        .unwrap();
    assert_eq!(fx.esr.session(s1.id), Err(Error::SessionEnded(s1.id)));
    assert_eq!(
        ended_reasons(&fx, from),
        vec!["password set by administrator"]
    );
    // The administrator's own session survives a reset of their own password.
    let admin_user = fx.t().admin_a.username().clone();
    fx.esr
        .set_password(&admin, &admin_user, &Password::new("the admin's new one"))
        .unwrap();
    assert!(fx.esr.session(fx.t().session_a).is_ok());
    fx.esr
        .set_password(&admin, u, &Password::new(PASSWORD))
        .unwrap();

    // A lock after five wrong passwords.
    let s2 = fx.internet(u).unwrap();
    let from = fx.audit(v).len();
    for _ in 0..5 {
        let _ = fx
            .esr
            .log_in_with_password(&u.to_string(), &Password::new("wrong guess"));
    }
    assert_eq!(fx.esr.account(u).unwrap().state, AccountState::Locked);
    assert_eq!(fx.esr.session(s2.id), Err(Error::SessionEnded(s2.id)));
    assert_eq!(ended_reasons(&fx, from), vec!["account locked"]);
    fx.esr.unlock_account(&admin, u, "called the desk").unwrap();

    // A suspension and an end.
    let s3 = fx.internet(u).unwrap();
    fx.esr.suspend_account(&admin, u, "investigation").unwrap();
    assert_eq!(fx.esr.session(s3.id), Err(Error::SessionEnded(s3.id)));
    fx.esr.reinstate_account(&admin, u, "cleared").unwrap();
    let s4 = fx.internet(u).unwrap();
    fx.esr.end_account(&admin, u, "leaver").unwrap();
    assert_eq!(fx.esr.session(s4.id), Err(Error::SessionEnded(s4.id)));
}

#[test]
fn a_reset_by_link_ends_every_session() {
    let fx = open_fixture();
    let p = fx.staff("Sam", "Shift", "Trust HQ", None);
    let u = p.username();
    let s = fx.internet(u).unwrap();
    fx.esr
        .request_username_reminder(
            fx.vpd(),
            p.person.recruitment_email.as_str(),
            p.person.date_of_birth,
        )
        .unwrap();
    let token = fx
        .outbox
        .last_email_to(&p.person.recruitment_email)
        .unwrap()
        .expose_token()
        .expose()
        .to_owned();
    let from = fx.audit(fx.vpd()).len();
    fx.esr
        .reset_password_with_link(&token, &Password::new("a brand new passphrase"))
        .unwrap();
    assert_eq!(fx.esr.session(s.id), Err(Error::SessionEnded(s.id)));
    assert_eq!(ended_reasons(&fx, from), vec!["password reset by link"]);
}

#[test]
fn people_see_and_end_their_own_sessions_and_administrators_theirs() {
    let fx = open_fixture();
    let v = fx.vpd();
    let p = fx.staff("Sam", "Shift", "Trust HQ", None);
    let other = fx.staff("Oli", "Other", "Trust HQ", None);
    let u = p.username();
    let a = fx.internet(u).unwrap();
    fx.clock.advance(min(2));
    let b = fx.internet(u).unwrap();
    let c = fx.hscn(u);
    let me = Actor::Session(a.id);

    let list = fx.esr.sessions_of(&me, u).unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0].reference, a.id.audit_ref());
    assert!(list[0].current && !list[1].current && !list[2].current);
    assert_eq!(list[1].started_at, b.started_at);
    assert!(!list[0].upgraded);
    // Never the bearer id, in any form a caller could present.
    let shown = format!("{list:?}");
    assert!(!shown.contains(&a.id.to_string()) && !shown.contains(&b.id.to_string()));

    // Someone else may not look, nor end them.
    let nosy = Actor::Session(fx.internet(other.username()).unwrap().id);
    assert!(matches!(
        fx.esr.sessions_of(&nosy, u),
        Err(Error::NotPermitted { .. })
    ));
    assert!(matches!(
        fx.esr.end_session(&nosy, u, a.id.audit_ref()),
        Err(Error::NotPermitted { .. })
    ));

    // The user ends one, then all but the current one.
    let from = fx.audit(v).len();
    fx.esr.end_session(&me, u, b.id.audit_ref()).unwrap();
    assert_eq!(fx.esr.session(b.id), Err(Error::SessionEnded(b.id)));
    assert_eq!(
        fx.esr.end_session(&me, u, b.id.audit_ref()),
        Err(Error::UnknownSessionRef(b.id.audit_ref()))
    );
    assert_eq!(
        fx.esr
            .end_all_sessions(&me, u, Some(a.id.audit_ref()))
            .unwrap(),
        1
    );
    assert!(fx.esr.session(a.id).is_ok());
    assert_eq!(fx.esr.session(c), Err(Error::SessionEnded(c)));
    assert_eq!(ended_reasons(&fx, from), vec!["ended by user"; 2]);

    // A user administrator sees them and ends the rest, audited as theirs.
    let admin = Actor::Session(fx.t().session_a);
    assert_eq!(fx.esr.sessions_of(&admin, u).unwrap().len(), 1);
    let from = fx.audit(v).len();
    assert_eq!(fx.esr.end_all_sessions(&admin, u, None).unwrap(), 1);
    assert_eq!(fx.esr.session(a.id), Err(Error::SessionEnded(a.id)));
    let trail = fx.audit(v);
    assert_eq!(ended_reasons(&fx, from), vec!["ended by administrator"]);
    assert!(matches!(
        &trail.last().unwrap().actor,
        esr_core::audit::AuditActor::User { username, .. } if username == fx.t().admin_a.username()
    ));
    assert_eq!(
        SessionEndReason::EndedByAdministrator.to_string(),
        "ended by administrator"
    );
}

// ----- the property ------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    LogIn,
    Use(usize),
    Advance(i64),
    ChangePassword(usize),
    AdminReset,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::LogIn),
        4 => any::<usize>().prop_map(Op::Use),
        3 => (0i64..=40 * 60).prop_map(Op::Advance),
        1 => (0i64..=5 * 3600).prop_map(Op::Advance),
        1 => any::<usize>().prop_map(Op::ChangePassword),
        1 => Just(Op::AdminReset),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Over random requests, clock moves and password events: no session is usable 30 minutes
    /// after its last recorded use nor 12 hours after log-in, and none survives a password
    /// change of its account (but the one that made it).
    #[test]
    fn no_session_outlives_its_limits_or_a_password_change(ops in prop::collection::vec(op(), 1..40)) {
        let fx = open_fixture();
        let p = fx.staff("Sam", "Shift", "Trust HQ", None);
        let u = p.username().clone();
        let admin = Actor::system("service desk").unwrap();
        let mut pw = PASSWORD.to_string();
        let mut n = 0u32;
        // (session, last use the model knows of, killed by a password event)
        let mut sessions: Vec<(esr_core::access::Session, esr_core::chrono::DateTime<esr_core::chrono::Utc>, bool)> = Vec::new();
        for op in ops {
            let now = fx.clock.now();
            match op {
                Op::LogIn => {
                    let s = fx.esr.log_in_with_password(&u.to_string(), &Password::new(pw.clone())).unwrap();
                    sessions.push((s, now, false));
                }
                Op::Use(i) if !sessions.is_empty() => {
                    let i = i % sessions.len();
                    let (s, last, killed) = &mut sessions[i];
                    // `last` is the recorded activity, as the store has it.
                    let past_limit = now >= s.expires_at || now - *last >= TimeDelta::minutes(30);
                    match fx.esr.session(s.id) {
                        Ok(used) => {
                            prop_assert!(!*killed, "a session survived a password change");
                            prop_assert!(!past_limit, "a session was usable past a limit");
                            prop_assert!(now < s.started_at + TimeDelta::hours(12));
                            *last = used.last_active_at;
                        }
                        Err(e) => prop_assert!(*killed || past_limit, "refused early: {e:?}"),
                    }
                }
                Op::Use(_) => {}
                Op::Advance(secs) => fx.clock.advance(TimeDelta::seconds(secs)),
                Op::ChangePassword(i) if !sessions.is_empty() => {
                    let i = i % sessions.len();
                    let id = sessions[i].0.id;
                    n += 1;
                    let new = format!("changed passphrase {n}");
                    if fx.esr.change_password(id, &Password::new(pw.clone()), &Password::new(new.clone())).is_ok() {
                        pw = new;
                        let stored = fx.esr.live_sessions(&u).unwrap();
                        for (j, (x, last, killed)) in sessions.iter_mut().enumerate() {
                            if j == i {
                                *last = stored.iter().find(|y| y.key == x.key).unwrap().last_active_at;
                            } else {
                                *killed = true;
                            }
                        }
                    }
                }
                Op::ChangePassword(_) => {}
                Op::AdminReset => {
                    n += 1;
                    let new = format!("reset passphrase {n}");
                    fx.esr.set_password(&admin, &u, &Password::new(new.clone())).unwrap();
                    pw = new;
                    for (_, _, killed) in &mut sessions { *killed = true; }
                }
            }
            // Whatever happened: nothing listed is past a limit or killed.
            let now = fx.clock.now();
            for s in fx.esr.live_sessions(&u).unwrap() {
                prop_assert!(now < s.expires_at && now < s.last_active_at + TimeDelta::minutes(30));
                let known = sessions.iter().find(|(x, _, _)| x.key == s.key).unwrap();
                prop_assert!(!known.2, "a killed session is listed as live");
            }
        }
    }
}

// ----- log-in answers and keys --------------------------------------------------------------------

#[test]
fn a_wrong_password_answers_alike_for_every_account_state_and_none() {
    let fx = open_fixture();
    let admin = Actor::Session(fx.t().session_a);
    let active = fx.staff("Ann", "Active", "Trust HQ", None);
    let locked = fx.staff("Lou", "Locked", "Trust HQ", None);
    let suspended = fx.staff("Sue", "Suspended", "Trust HQ", None);
    for _ in 0..5 {
        let _ = fx.esr.log_in_with_password(
            &locked.username().to_string(),
            &Password::new("wrong guess"),
        );
    }
    fx.esr
        .suspend_account(&admin, suspended.username(), "investigation")
        .unwrap();
    let wrong = Password::new("not the password");
    let names = [
        active.username().to_string(),
        locked.username().to_string(),
        suspended.username().to_string(),
        "297NOBODY01".to_string(),
        "not a username".to_string(),
    ];
    for name in &names {
        assert_eq!(
            fx.esr.log_in_with_password(name, &wrong),
            Err(Error::InvalidCredentials),
            "{name}"
        );
    }
    // Only the right password learns the state, with what to do next.
    let e = fx
        .esr
        .log_in_with_password(&locked.username().to_string(), &password())
        .unwrap_err();
    assert_eq!(e, Error::AccountLocked(locked.username().clone()));
    assert!(e.to_string().contains("Unlock Account"), "{e}");
    assert_eq!(
        fx.esr
            .log_in_with_password(&suspended.username().to_string(), &password()),
        Err(Error::AccountSuspended(suspended.username().clone()))
    );
}

#[test]
fn a_service_without_a_passcode_key_refuses_to_issue_and_says_how_to_configure_one() {
    let fx = open_fixture();
    let p = fx.staff("Sam", "Shift", "Trust HQ", None);
    let keyless = esr_core::Esr::with_rng(
        esr_core::store::InMemoryStore::new(),
        fx.clock.clone(),
        rand_chacha::ChaCha20Rng::seed_from_u64(3),
    )
    .with_email_sender(fx.outbox.clone())
    .with_sms_sender(fx.outbox.clone());
    let dob = NaiveDate::from_ymd_opt(1980, 1, 1).unwrap();
    assert_eq!(
        keyless.request_username_reminder(fx.vpd(), "anyone@nhs.net", dob),
        Err(Error::NoPasscodeKey)
    );
    assert_eq!(
        keyless.unlock_with_link(&format!("{}.{}", "0".repeat(32), "1".repeat(64))),
        Err(Error::NoPasscodeKey)
    );
    let e = Error::NoPasscodeKey.to_string();
    assert!(
        e.contains("with_passcode_keys") && e.contains("tests and demos"),
        "{e}"
    );
    // The explicit ephemeral key is there for tests and demos.
    let demo = keyless.with_ephemeral_passcode_key().unwrap();
    assert!(matches!(
        demo.request_username_reminder(fx.vpd(), "anyone@nhs.net", dob),
        Err(Error::UnknownTrust(_))
    ));
    let _ = (p, Purpose::UpgradeSession);
}

use esr_core::Config;
use rand_chacha::rand_core::SeedableRng;
