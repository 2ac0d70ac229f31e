//! Two services over one SQLite file, and a restart: with the same configured passcode key,
//! each verifies the codes and links the other issued, and sessions and their last activity are
//! shared through the store (issue 17: a per-process key broke restarts).

#![allow(clippy::unwrap_used)]

use esr_core::access::SmartcardAuthentication;
use esr_core::chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use esr_core::org::TrustSettings;
use esr_core::passcode::{Outbox, PasscodeKey, PasscodeKeys};
use esr_core::people::{NewPerson, Password, PasswordHashing, PersonName};
use esr_core::values::{ManualClock, VpdCode};
use esr_core::{Actor, Config, Error, Esr};
use esr_sqlite::SqliteStore;
use std::path::Path;
use std::sync::Arc;

const NUMBER: &str = "07700 900374";

fn keys() -> PasscodeKeys {
    // As the trust's secret store would give every process.
    PasscodeKeys::new(
        PasscodeKey::new("trust-2026-11", b"0123456789abcdef0123456789abcdef").unwrap(),
    )
}

/// One process's service over the file at `path`.
fn instance(
    path: &Path,
    clock: &ManualClock,
    outbox: &Arc<Outbox>,
    _seed: u64,
) -> Esr<SqliteStore, ManualClock> {
    Esr::new(SqliteStore::open(path).unwrap(), clock.clone())
        .with_config(Config {
            password_hashing: PasswordHashing::insecure_fast_for_tests(),
            recovery_answer_time: std::time::Duration::ZERO,
            ..Config::default()
        })
        .unwrap()
        .with_passcode_keys(keys())
        .with_sms_sender(outbox.clone())
        .with_email_sender(outbox.clone())
}

#[test]
fn two_instances_and_a_restart_verify_each_others_codes_and_links() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trust.db");
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap());
    let outbox = Arc::new(Outbox::new());
    let a = instance(&path, &clock, &outbox, 1);
    let b = instance(&path, &clock, &outbox, 2);

    let vpd: VpdCode = "297".parse().unwrap();
    let feed = Actor::system("set-up").unwrap();
    a.create_trust(
        vpd,
        "Northfield",
        TrustSettings {
            automatic_internet_access: true,
            ..TrustSettings::default()
        },
    )
    .unwrap();
    a.add_org_unit(&feed, vpd, "HQ".parse().unwrap(), "HQ", None)
        .unwrap();
    let dob = NaiveDate::from_ymd_opt(1985, 3, 14).unwrap();
    let p = a
        .add_person(
            &feed,
            vpd,
            NewPerson {
                employee_number: "29700001".parse().unwrap(),
                name: PersonName::new("Emma", "Conroy").unwrap(),
                date_of_birth: dob,
                recruitment_email: "emma.conroy@nhs.net".parse().unwrap(),
            },
        )
        .unwrap();
    let u = p.username.clone();
    a.set_password(&feed, &u, &Password::new("correct horse battery staple"))
        .unwrap();

    // A code issued by one process verifies in the other.
    let card = SmartcardAuthentication::verified_by_caller("CARD-1").unwrap();
    let s = a.log_in_with_smartcard(&u, &card).unwrap();
    let c = a.request_mobile_code(s.id, NUMBER).unwrap();
    let code = outbox.last_code_to(&NUMBER.parse().unwrap()).unwrap();
    let out = b.verify_passcode(s.id, &c.id, c.purpose, &code).unwrap();
    assert!(out.is_approved(), "{out:?}");

    // A recovery link e-mailed by the second verifies in a process started afterwards.
    b.request_username_reminder(vpd, "emma.conroy@nhs.net", dob)
        .unwrap();
    let token = outbox
        .last_email_to(&p.recruitment_email)
        .unwrap()
        .expose_token()
        .expose()
        .to_owned();
    drop(a);
    let restarted = instance(&path, &clock, &outbox, 3);
    assert_eq!(
        restarted
            .reset_password_with_link(&token, &Password::new("a brand new passphrase"))
            .unwrap(),
        u
    );
    // The reset ended the session opened in the first process.
    assert_eq!(restarted.session(s.id), Err(Error::SessionEnded(s.id)));

    // Last activity is kept in the file: a session used through one process is timed out
    // through the other 30 minutes later, and not before.
    let web = b
        .log_in_with_password(&u.to_string(), &Password::new("a brand new passphrase"))
        .unwrap();
    clock.advance(TimeDelta::minutes(20));
    b.session(web.id).unwrap();
    clock.advance(TimeDelta::minutes(29));
    assert!(restarted.session(web.id).is_ok());
    clock.advance(TimeDelta::minutes(30));
    assert!(matches!(
        restarted.session(web.id),
        Err(Error::SessionIdle { .. })
    ));

    // A process without the key refuses plainly instead of answering "wrong code".
    let keyless = Esr::new(SqliteStore::open(&path).unwrap(), clock.clone())
        .with_email_sender(outbox.clone());
    assert_eq!(
        keyless.request_username_reminder(vpd, "emma.conroy@nhs.net", dob),
        Err(Error::NoPasscodeKey)
    );
}
