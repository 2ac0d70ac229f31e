//! People and accounts: username generation, password log-in and lockout, and the account
//! lifecycle (DOMAIN.md, "People, accounts, assignments"). Every refusal leaves the store as it
//! was.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::chrono::{NaiveDate, TimeDelta};
use esr_core::{access::*, audit::*, people::*, store::*, urp::*, values::*, *};
use rand_core::SeedableRng;
use std::collections::BTreeSet;

fn new_person(employee: &str, given: &str, family: &str) -> NewPerson {
    NewPerson {
        employee_number: emp(employee),
        name: PersonName::new(given, family).unwrap(),
        date_of_birth: NaiveDate::from_ymd_opt(1990, 1, 31).unwrap(),
        recruitment_email: format!("p{employee}@nhs.net").parse().unwrap(),
    }
}

/// Internet access for everyone holding ESS, so password log-ins reach the password check.
fn open_fixture() -> Fixture {
    let s = settings(true, false, false);
    Fixture::builder().settings(s).build()
}

fn wrong() -> Password {
    Password::new("not the right password")
}

/// The audit events after the first `from` entries.
fn events_since(fx: &Fixture, from: usize) -> Vec<AuditEvent> {
    fx.audit(fx.vpd())[from..]
        .iter()
        .map(|e| e.event.clone())
        .collect()
}

// ----- usernames -----------------------------------------------------------------------------

#[test]
fn usernames_are_vpd_initial_surname_and_sequence() {
    let fx = Fixture::builder().trust("297").trust("999").build();
    let (v297, v999) = (vpd("297"), vpd("999"));
    let add = |v, e: &str, g: &str, f: &str| {
        fx.esr
            .add_person(&system(), v, new_person(e, g, f))
            .unwrap()
            .username
            .to_string()
    };
    assert_eq!(add(v297, "10000001", "Jo", "Smith"), "297JSMITH01");
    assert_eq!(add(v297, "10000002", "Jo", "Smith"), "297JSMITH02");
    // Same stem, different given name: the sequence still counts up.
    assert_eq!(add(v297, "10000003", "Jane", "smith"), "297JSMITH03");
    assert_eq!(add(v297, "10000004", "Emma", "Conroy"), "297ECONROY01");
    assert_eq!(add(v297, "10000005", "Seán", "O'Brien"), "297SOBRIEN01");
    // Sequences are per trust.
    assert_eq!(add(v999, "10000001", "John", "Smith"), "999JSMITH01");

    // The new person's account: active, no password, ESS granted by the feed.
    let u = user("297JSMITH02");
    let acc = fx.esr.account(&u).unwrap();
    assert_eq!(acc.state, AccountState::Active);
    assert_eq!(acc.employee_number, emp("10000002"));
    assert_eq!(acc.failed_logins, 0);
    assert!(acc.password_hash.is_none());
    assert!(!acc.internet_access_approved);
    let grants = fx.esr.grants_of(&u).unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].urp, Urp::EmployeeSelfService);
    assert_eq!(grants[0].granted_by, Grantor::System("test".into()));
    assert_eq!(grants[0].approval, Approval::NotRequired);
    assert!(grants[0].is_active());
}

#[test]
fn an_ended_accounts_username_is_never_reused() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let first = fx
        .esr
        .add_person(&system(), v, new_person("10000001", "Jo", "Smith"))
        .unwrap();
    assert_eq!(first.username.to_string(), "297JSMITH01");
    fx.esr
        .end_account(&system(), &first.username, "leaver")
        .unwrap();
    let second = fx
        .esr
        .add_person(&system(), v, new_person("10000002", "Jo", "Smith"))
        .unwrap();
    assert_eq!(second.username.to_string(), "297JSMITH02");
    // The ended account is still there, with its history.
    assert_eq!(
        fx.esr.account(&first.username).unwrap().state,
        AccountState::Ended
    );
    assert_eq!(
        fx.esr.person(v, &emp("10000001")).unwrap().username,
        first.username
    );
}

#[test]
fn a_duplicate_employee_number_is_refused_and_changes_nothing() {
    let fx = Fixture::new();
    let v = fx.vpd();
    fx.esr
        .add_person(&system(), v, new_person("10000001", "Jo", "Smith"))
        .unwrap();
    assert_refused(
        &fx,
        v,
        &Error::DuplicateEmployeeNumber {
            vpd: v,
            employee: emp("10000001"),
        },
        || {
            fx.esr
                .add_person(&system(), v, new_person("10000001", "Kim", "Jones"))
        },
    );
    // The refused person's username was not consumed.
    assert_eq!(
        fx.esr.account(&user("297KJONES01")),
        Err(Error::UnknownAccount(user("297KJONES01")))
    );
    let kim = fx
        .esr
        .add_person(&system(), v, new_person("10000002", "Kim", "Jones"))
        .unwrap();
    assert_eq!(kim.username.to_string(), "297KJONES01");
}

#[test]
fn adding_people_needs_maintain_people() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let s = fx.hscn(jo.username());
    assert_refused(
        &fx,
        v,
        &Error::NotPermitted {
            function: Function::MaintainPeople,
            denial: Denial::NotGranted,
        },
        || {
            fx.esr.add_person(
                &Actor::Session(s),
                v,
                new_person("10000009", "Ann", "Other"),
            )
        },
    );
    let hr = fx.staff("Hana", "Reid", "Trust HQ", None);
    fx.grant(
        hr.username(),
        Urp::LocalHrAdministration,
        GrantScope::WholeTrust,
    );
    let hr_session = fx.hscn(hr.username());
    let ann = fx
        .esr
        .add_person(
            &Actor::Session(hr_session),
            v,
            new_person("10000009", "Ann", "Other"),
        )
        .unwrap();
    let grants = fx.esr.grants_of(&ann.username).unwrap();
    assert_eq!(grants[0].granted_by, Grantor::User(hr.username().clone()));
}

// ----- password log-in -----------------------------------------------------------------------

#[test]
fn password_log_in_opens_an_internet_session() {
    let fx = open_fixture();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    // The username is accepted as typed: lower case and surrounding spaces.
    let s = fx
        .esr
        .log_in_with_password(" 297jsmith01 ", &password())
        .unwrap();
    assert_eq!(&s.username, jo.username());
    assert_eq!(s.vpd, fx.vpd());
    assert_eq!(s.channel, Channel::Internet);
    assert_eq!(s.started_at, start());
    assert!(s.upgrade.is_none() && s.ended.is_none());
    assert_eq!(fx.esr.session(s.id).unwrap(), s);
    let last = fx.audit(fx.vpd()).pop().unwrap();
    assert_eq!(
        last.event,
        AuditEvent::LoggedIn {
            username: jo.username().clone(),
            session: s.id.audit_ref(),
            channel: "internet".into(),
            smartcard: None,
        }
    );
}

#[test]
fn a_wrong_password_and_an_unknown_username_give_the_same_error() {
    let fx = open_fixture();
    let v = fx.vpd();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    assert_eq!(
        fx.esr
            .log_in_with_password(&jo.username().to_string(), &wrong()),
        Err(Error::InvalidCredentials)
    );
    assert_eq!(fx.esr.account(jo.username()).unwrap().failed_logins, 1);

    // Unknown usernames, well-formed or not: the same error, and nothing stored.
    for name in ["297NOBODY01", "999JSMITH01", "not a username", ""] {
        let before = fx.snapshot(v);
        assert_eq!(
            fx.esr.log_in_with_password(name, &password()),
            Err(Error::InvalidCredentials),
            "{name:?}"
        );
        assert_eq!(fx.snapshot(v), before, "{name:?}");
    }
    // The messages are identical too.
    let a = fx
        .esr
        .log_in_with_password(&jo.username().to_string(), &wrong())
        .unwrap_err()
        .to_string();
    let b = fx
        .esr
        .log_in_with_password("297NOBODY01", &wrong())
        .unwrap_err()
        .to_string();
    assert_eq!(a, b);
}

#[test]
fn an_account_without_a_password_refuses_log_in_like_a_wrong_password() {
    let fx = open_fixture();
    let p = fx
        .esr
        .add_person(&system(), fx.vpd(), new_person("10000001", "Jo", "Smith"))
        .unwrap();
    assert_eq!(
        fx.esr
            .log_in_with_password(&p.username.to_string(), &password()),
        Err(Error::InvalidCredentials)
    );
}

#[test]
fn five_consecutive_failures_lock_the_account() {
    let fx = open_fixture();
    let v = fx.vpd();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let u = jo.username().clone();
    let from = fx.audit(v).len();
    for n in 1..=4 {
        assert_eq!(
            fx.esr.log_in_with_password(&u.to_string(), &wrong()),
            Err(Error::InvalidCredentials),
            "attempt {n}"
        );
        let acc = fx.esr.account(&u).unwrap();
        assert_eq!((acc.state, acc.failed_logins), (AccountState::Active, n));
    }
    // The locking guess answers as any wrong password does: "locked" is said only to
    // someone who gives the right password.
    assert_eq!(
        fx.esr.log_in_with_password(&u.to_string(), &wrong()),
        Err(Error::InvalidCredentials)
    );
    let acc = fx.esr.account(&u).unwrap();
    assert_eq!((acc.state, acc.failed_logins), (AccountState::Locked, 5));

    let mut expected: Vec<AuditEvent> = (1..=5)
        .map(|failures| AuditEvent::LoginFailed {
            username: u.clone(),
            failures,
        })
        .collect();
    expected.push(AuditEvent::AccountStateChanged {
        username: u.clone(),
        from: "active".into(),
        to: "locked".into(),
        reason: "5 consecutive failed log-ins".into(),
    });
    assert_eq!(events_since(&fx, from), expected);
    let trail = fx.audit(v);
    assert_eq!(trail[from].actor, AuditActor::Anonymous);
    assert_eq!(
        trail.last().unwrap().actor,
        AuditActor::System("log-in lockout".into())
    );

    // Locked: refused even with the right password, on every channel, and nothing changes;
    // a wrong password still answers as for anyone.
    assert_refused(&fx, v, &Error::AccountLocked(u.clone()), || fx.internet(&u));
    assert_eq!(
        fx.esr.log_in_with_password(&u.to_string(), &wrong()),
        Err(Error::InvalidCredentials)
    );
    let card = SmartcardAuthentication::verified_by_caller("CARD-1").unwrap();
    assert_refused(&fx, v, &Error::AccountLocked(u.clone()), || {
        fx.esr.log_in_with_smartcard(&u, &card)
    });
}

#[test]
fn the_lockout_threshold_is_configurable() {
    let s = settings(true, false, false);
    let fx = Fixture::builder().settings(s).max_failed_logins(3).build();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let u = jo.username().to_string();
    for _ in 0..2 {
        assert_eq!(
            fx.esr.log_in_with_password(&u, &wrong()),
            Err(Error::InvalidCredentials)
        );
    }
    assert_eq!(
        fx.esr.log_in_with_password(&u, &wrong()),
        Err(Error::InvalidCredentials)
    );
    assert_eq!(
        fx.esr.account(jo.username()).unwrap().state,
        AccountState::Locked
    );
}

#[test]
fn the_lockout_threshold_must_be_from_1_to_100() {
    for (n, ok) in [(0, false), (1, true), (100, true), (101, false)] {
        let r = Esr::with_rng(
            InMemoryStore::new(),
            ManualClock::new(start()),
            <rand_chacha::ChaCha20Rng as rand_chacha::rand_core::SeedableRng>::seed_from_u64(1),
        )
        .with_config(Config {
            max_failed_logins: n,
            password_hashing: PasswordHashing::insecure_fast_for_tests(),
            ..Config::default()
        });
        match r {
            Ok(_) => assert!(ok, "{n} accepted"),
            Err(e) => {
                assert!(!ok, "{n} refused: {e}");
                assert!(
                    matches!(
                        e,
                        Error::InvalidInput {
                            what: "max_failed_logins",
                            ..
                        }
                    ),
                    "{e:?}"
                );
            }
        }
    }
}

#[test]
fn a_success_resets_the_failure_counter() {
    let fx = open_fixture();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let u = jo.username().to_string();
    for _ in 0..4 {
        fx.esr.log_in_with_password(&u, &wrong()).unwrap_err();
    }
    fx.internet(jo.username()).unwrap();
    assert_eq!(fx.esr.account(jo.username()).unwrap().failed_logins, 0);
    for _ in 0..4 {
        assert_eq!(
            fx.esr.log_in_with_password(&u, &wrong()),
            Err(Error::InvalidCredentials)
        );
    }
    let acc = fx.esr.account(jo.username()).unwrap();
    assert_eq!((acc.state, acc.failed_logins), (AccountState::Active, 4));
}

#[test]
fn an_administrator_unlocks_a_locked_account() {
    let fx = open_fixture();
    let v = fx.vpd();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let kim = fx.staff("Kim", "Jones", "Ward 5", None);
    let u = jo.username().clone();
    for _ in 0..5 {
        fx.esr
            .log_in_with_password(&u.to_string(), &wrong())
            .unwrap_err();
    }
    // Not by a colleague without Reset accounts.
    let kim_s = fx.hscn(kim.username());
    assert_refused(
        &fx,
        v,
        &Error::NotPermitted {
            function: Function::ResetAccounts,
            denial: Denial::NotGranted,
        },
        || {
            fx.esr
                .unlock_account(&Actor::Session(kim_s), &u, "called the desk")
        },
    );
    // Not with an empty reason.
    let admin = Actor::Session(fx.t().session_a);
    assert!(matches!(
        fx.esr.unlock_account(&admin, &u, "   "),
        Err(Error::InvalidInput { what: "reason", .. })
    ));
    // A locked account is unlocked, not reinstated.
    assert_refused(
        &fx,
        v,
        &Error::InvalidTransition {
            from: AccountState::Locked,
            to: AccountState::Active,
            hint: "only a suspended account is reinstated; a locked one is unlocked",
        },
        || fx.esr.reinstate_account(&admin, &u, "called the desk"),
    );

    clock_tick(&fx);
    let acc = fx
        .esr
        .unlock_account(&admin, &u, "called the desk")
        .unwrap();
    assert_eq!((acc.state, acc.failed_logins), (AccountState::Active, 0));
    assert_eq!(acc.state_changed_at, fx.clock.now());
    assert_eq!(
        fx.audit(v).pop().unwrap().event,
        AuditEvent::AccountStateChanged {
            username: u.clone(),
            from: "locked".into(),
            to: "active".into(),
            reason: "called the desk".into(),
        }
    );
    fx.internet(&u).unwrap();

    // Unlocking an account that is not locked is refused.
    assert_refused(
        &fx,
        v,
        &Error::InvalidTransition {
            from: AccountState::Active,
            to: AccountState::Active,
            hint: "only a locked account is unlocked; a suspended one is reinstated",
        },
        || fx.esr.unlock_account(&admin, &u, "again"),
    );
}

fn clock_tick(fx: &Fixture) {
    fx.clock.advance(esr_core::chrono::TimeDelta::minutes(5));
}

// ----- suspend, reinstate, end ---------------------------------------------------------------

#[test]
fn suspension_ends_every_live_session_at_once() {
    let fx = open_fixture();
    let v = fx.vpd();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let u = jo.username().clone();
    let web1 = fx.internet(&u).unwrap().id;
    let web2 = fx.internet(&u).unwrap().id;
    let hscn = fx.hscn(&u);
    let logged_out = fx.internet(&u).unwrap().id;
    fx.esr.log_out(logged_out).unwrap();
    let other = fx.internet(fx.t().admin_b.username()).unwrap().id;

    let from = fx.audit(v).len();
    clock_tick(&fx);
    let admin = Actor::Session(fx.t().session_a);
    let acc = fx
        .esr
        .suspend_account(&admin, &u, "investigation INV-7")
        .unwrap();
    assert_eq!(acc.state, AccountState::Suspended);

    for s in [web1, web2, hscn, logged_out] {
        assert_eq!(fx.esr.session(s), Err(Error::SessionEnded(s)));
        assert_eq!(fx.esr.functions(s), Err(Error::SessionEnded(s)));
    }
    // Someone else's session is untouched.
    assert!(fx.esr.session(other).is_ok());
    // Each live session ended with the suspension as its reason.
    let ended: BTreeSet<esr_core::SessionKey> = fx
        .esr
        .store()
        .transaction(|tx| tx.sessions_of(&u))
        .unwrap()
        .into_iter()
        .filter(|s| {
            s.ended.as_ref().map(|e| (e.reason, e.at))
                == Some((SessionEndReason::AccountSuspended, fx.clock.now()))
        })
        .map(|s| s.key)
        .collect();
    assert_eq!(ended, BTreeSet::from([web1.key(), web2.key(), hscn.key()]));
    let events = events_since(&fx, from);
    assert_eq!(events.len(), 4);
    assert_eq!(
        events[0],
        AuditEvent::AccountStateChanged {
            username: u.clone(),
            from: "active".into(),
            to: "suspended".into(),
            reason: "investigation INV-7".into(),
        }
    );
    let audited: BTreeSet<_> = events[1..]
        .iter()
        .map(|e| match e {
            AuditEvent::SessionEnded { session, reason } if reason == "account suspended" => {
                *session
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        audited,
        ended.iter().map(esr_core::SessionKey::audit_ref).collect()
    );

    // No way back in while suspended. Only the right password learns why; a wrong one gets
    // the same answer as an unknown username, and counts no failure.
    assert_refused(&fx, v, &Error::AccountSuspended(u.clone()), || {
        fx.internet(&u)
    });
    assert_refused(&fx, v, &Error::InvalidCredentials, || {
        fx.esr.log_in_with_password(&u.to_string(), &wrong())
    });
    let card = SmartcardAuthentication::verified_by_caller("CARD-1").unwrap();
    assert_refused(&fx, v, &Error::AccountSuspended(u.clone()), || {
        fx.esr.log_in_with_smartcard(&u, &card)
    });
    // Suspending again is refused.
    assert_refused(
        &fx,
        v,
        &Error::InvalidTransition {
            from: AccountState::Suspended,
            to: AccountState::Suspended,
            hint: "it is in that state already",
        },
        || fx.esr.suspend_account(&admin, &u, "again"),
    );
}

#[test]
fn a_suspended_account_is_reinstated() {
    let fx = open_fixture();
    let v = fx.vpd();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let u = jo.username().clone();
    let old = fx.internet(&u).unwrap().id;
    let admin = Actor::Session(fx.t().session_a);
    fx.esr.suspend_account(&admin, &u, "investigation").unwrap();
    // Not "unlocked".
    assert_refused(
        &fx,
        v,
        &Error::InvalidTransition {
            from: AccountState::Suspended,
            to: AccountState::Active,
            hint: "only a locked account is unlocked; a suspended one is reinstated",
        },
        || fx.esr.unlock_account(&admin, &u, "cleared"),
    );
    let acc = fx.esr.reinstate_account(&admin, &u, "cleared").unwrap();
    assert_eq!(acc.state, AccountState::Active);
    // Grants survive a suspension; the old session stays ended.
    assert_eq!(
        fx.esr.held_urps(&u).unwrap(),
        BTreeSet::from([Urp::EmployeeSelfService])
    );
    assert_eq!(fx.esr.session(old), Err(Error::SessionEnded(old)));
    let new = fx.internet(&u).unwrap();
    assert!(fx.esr.session(new.id).unwrap().is_live());
}

#[test]
fn a_locked_account_can_be_suspended() {
    let fx = open_fixture();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let u = jo.username().clone();
    for _ in 0..5 {
        fx.esr
            .log_in_with_password(&u.to_string(), &wrong())
            .unwrap_err();
    }
    let acc = fx
        .esr
        .suspend_account(&system(), &u, "investigation")
        .unwrap();
    assert_eq!(acc.state, AccountState::Suspended);
}

#[test]
fn ending_an_account_is_final_and_revokes_its_grants() {
    let fx = open_fixture();
    let v = fx.vpd();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let u = jo.username().clone();
    fx.grant(&u, Urp::SupervisorSelfService, GrantScope::WholeTrust);
    let web = fx.internet(&u).unwrap().id;
    let admin = Actor::Session(fx.t().session_a);

    clock_tick(&fx);
    let from = fx.audit(v).len();
    let acc = fx.esr.end_account(&admin, &u, "leaver").unwrap();
    assert_eq!(acc.state, AccountState::Ended);
    assert_eq!(fx.esr.session(web), Err(Error::SessionEnded(web)));

    // Every grant is revoked, kept in the history, and audited.
    let grants = fx.esr.grants_of(&u).unwrap();
    assert_eq!(grants.len(), 2);
    for g in &grants {
        let r = g.revoked.as_ref().unwrap();
        assert_eq!(r.by, Grantor::User(fx.t().admin_a.username().clone()));
        assert_eq!(r.at, fx.clock.now());
        assert_eq!(r.reason, "account ended: leaver");
    }
    assert_eq!(fx.esr.held_urps(&u).unwrap(), BTreeSet::new());
    let revoked: BTreeSet<Urp> = events_since(&fx, from)
        .into_iter()
        .filter_map(|e| match e {
            AuditEvent::UrpRevoked {
                holder,
                urp,
                reason,
                ..
            } if holder == u && reason == "account ended: leaver" => Some(urp),
            _ => None,
        })
        .collect();
    assert_eq!(
        revoked,
        BTreeSet::from([Urp::EmployeeSelfService, Urp::SupervisorSelfService])
    );
    // The person's record is kept.
    assert_eq!(fx.esr.person(v, jo.employee()).unwrap(), jo.person);

    // Nothing brings it back.
    let transition = |to| Error::InvalidTransition {
        from: AccountState::Ended,
        to,
        hint: "an ended account never comes back; a returning employee gets a new account",
    };
    assert_refused(&fx, v, &transition(AccountState::Ended), || {
        fx.esr.end_account(&admin, &u, "again")
    });
    assert_refused(&fx, v, &transition(AccountState::Suspended), || {
        fx.esr.suspend_account(&admin, &u, "again")
    });
    assert_refused(&fx, v, &transition(AccountState::Active), || {
        fx.esr.reinstate_account(&admin, &u, "returner")
    });
    assert_refused(&fx, v, &Error::AccountEnded(u.clone()), || {
        fx.esr
            .set_password(&admin, &u, &Password::new("a new passphrase"))
    });
    assert_refused(&fx, v, &Error::AccountEnded(u.clone()), || fx.internet(&u));
    assert_refused(&fx, v, &Error::InvalidCredentials, || {
        fx.esr.log_in_with_password(&u.to_string(), &wrong())
    });
    let card = SmartcardAuthentication::verified_by_caller("CARD-1").unwrap();
    assert_refused(&fx, v, &Error::AccountEnded(u.clone()), || {
        fx.esr.log_in_with_smartcard(&u, &card)
    });
    assert_refused(&fx, v, &Error::AccountEnded(u.clone()), || {
        fx.esr.grant_urp(
            fx.t().session_a,
            GrantRequest {
                holder: u.clone(),
                urp: Urp::EmployeeSelfService,
                scope: GrantScope::WholeTrust,
                approval: Approval::NotRequired,
                reason: "returner".into(),
            },
        )
    });
}

// ----- passwords -----------------------------------------------------------------------------

#[test]
fn set_password_enforces_the_policy_and_changes_nothing_when_refused() {
    let fx = open_fixture();
    let v = fx.vpd();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let u = jo.username().clone();
    let refused = [
        ("seven c", "it must be at least 8 characters long"),
        ("ééééééé", "it must be at least 8 characters long"),
        ("", "it must be at least 8 characters long"),
        (
            "aaaaaaaaaaaa",
            "it repeats one character; choose a passphrase",
        ),
        ("éééééééé", "it repeats one character; choose a passphrase"),
    ];
    let too_long = "ab".repeat(64) + "c";
    for (pw, why) in refused
        .iter()
        .map(|(p, w)| (p.to_string(), *w))
        .chain([(too_long, "it must be at most 128 characters long")])
    {
        assert_refused(&fx, v, &Error::WeakPassword(why), || {
            fx.esr
                .set_password(&system(), &u, &Password::new(pw.clone()))
        });
    }
    // The old password still works.
    fx.internet(&u).unwrap();

    // Boundaries that pass: 8 characters (counted as characters, not bytes), and 128.
    for pw in ["eight ch", "éééééééè", &"ab".repeat(64)] {
        fx.esr
            .set_password(&system(), &u, &Password::new(pw))
            .unwrap();
        fx.esr
            .log_in_with_password(&u.to_string(), &Password::new(pw))
            .unwrap();
    }
    // The previous password no longer works.
    assert_eq!(fx.internet(&u), Err(Error::InvalidCredentials));
}

#[test]
fn only_an_argon2id_hash_is_stored() {
    let fx = Fixture::new();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let acc = fx.esr.account(jo.username()).unwrap();
    let phc = acc.password_hash.as_ref().unwrap().as_phc().to_owned();
    assert!(phc.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{phc}");
    assert!(!phc.contains(PASSWORD));
    assert_eq!(
        format!("{:?}", acc.password_hash.unwrap()),
        "PasswordHash(argon2id, <redacted>)"
    );
    // Two people with the same password get different salts.
    let kim = fx.staff("Kim", "Jones", "Ward 5", None);
    let other = fx
        .esr
        .account(kim.username())
        .unwrap()
        .password_hash
        .unwrap();
    assert_ne!(other.as_phc(), phc);
    let last = fx.audit(fx.vpd());
    assert!(last.iter().any(|e| e.event
        == AuditEvent::PasswordSet {
            username: jo.username().clone()
        }));
}

#[test]
fn setting_someone_elses_password_needs_reset_accounts_on_hscn() {
    let s = settings(true, false, false);
    let fx = Fixture::builder().settings(s).build();
    let v = fx.vpd();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let kim = fx.staff("Kim", "Jones", "Ward 5", None);
    let new = Password::new("a brand new passphrase");

    let jo_s = fx.hscn(jo.username());
    assert_refused(
        &fx,
        v,
        &Error::NotPermitted {
            function: Function::ResetAccounts,
            denial: Denial::NotGranted,
        },
        || {
            fx.esr
                .set_password(&Actor::Session(jo_s), kim.username(), &new)
        },
    );
    // A user administrator over the internet: smartcard required.
    let admin_web = fx.internet(fx.t().admin_a.username()).unwrap().id;
    assert_refused(
        &fx,
        v,
        &Error::NotPermitted {
            function: Function::ResetAccounts,
            denial: Denial::SmartcardRequired,
        },
        || {
            fx.esr
                .set_password(&Actor::Session(admin_web), kim.username(), &new)
        },
    );
    fx.esr
        .set_password(&Actor::Session(fx.t().session_a), kim.username(), &new)
        .unwrap();
    fx.esr
        .log_in_with_password(&kim.username().to_string(), &new)
        .unwrap();
}

#[test]
fn a_session_expires_at_its_lifetime_to_the_second() {
    let fx = Fixture::builder()
        .settings(settings(true, false, false))
        .build();
    let v = fx.vpd();
    let p = fx.staff("Sam", "Shift", "Trust HQ", None);
    let web = fx.internet(p.username()).unwrap();
    assert_eq!(web.expires_at, web.started_at + TimeDelta::hours(12));
    // Used every 29 minutes, so that the idle timeout never comes first.
    while fx.clock.now() + TimeDelta::minutes(29) < web.expires_at {
        fx.clock.advance(TimeDelta::minutes(29));
        assert!(fx.esr.functions(web.id).is_ok());
    }
    fx.clock.set(web.expires_at - TimeDelta::seconds(1));
    assert!(fx.esr.functions(web.id).is_ok(), "usable one second before");
    assert_eq!(fx.esr.live_sessions(p.username()).unwrap().len(), 1);
    fx.clock.advance(TimeDelta::seconds(1));
    assert_refused(&fx, v, &Error::SessionExpired(web.id), || {
        fx.esr.functions(web.id)
    });
    assert_refused(&fx, v, &Error::SessionExpired(web.id), || {
        fx.esr
            .upgrade_session(&StepUpProof::verified_by_caller(web.id, "sms-otp").unwrap())
    });
    assert!(fx.esr.live_sessions(p.username()).unwrap().is_empty());
    // A new log-in works as ever.
    assert!(fx.internet(p.username()).is_ok());
}

#[test]
fn the_session_lifetime_is_configurable_within_bounds() {
    for bad in [
        TimeDelta::seconds(59),
        TimeDelta::days(7) + TimeDelta::seconds(1),
    ] {
        let e = Esr::with_rng(
            InMemoryStore::new(),
            ManualClock::new(start()),
            rand_chacha::ChaCha20Rng::seed_from_u64(1),
        )
        .with_config(Config {
            session_lifetime: bad,
            ..Config::default()
        })
        .unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidInput {
                    what: "session_lifetime",
                    ..
                }
            ),
            "{e}"
        );
    }
}
