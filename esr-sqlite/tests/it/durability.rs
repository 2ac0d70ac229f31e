//! Durability: a child process writes through the SQLite store, printing an acknowledgement
//! after each committed operation, and is killed with SIGKILL mid-stream. Reopened, the
//! database has every acknowledged operation and no half-applied one.
//!
//! The child is this test binary run again with `ESR_DURABILITY_DB` set (the ignored test
//! `durability::child_writes_until_killed`).

#![allow(clippy::unwrap_used)]

use esr_core::chrono::NaiveDate;
use esr_core::{
    Actor, Esr, Store, SystemClock, VpdCode, org::TrustSettings, people::NewPerson,
    people::PersonName,
};
use esr_sqlite::SqliteStore;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

const DB_VAR: &str = "ESR_DURABILITY_DB";

fn vpd() -> VpdCode {
    "297".parse().unwrap()
}

/// Adds people until killed; each `add_person` is one transaction writing a person, an account
/// and an audit entry. Prints `ack <employee number>` after each commit.
#[test]
#[ignore = "the child process of every_acknowledged_write_survives_sigkill"]
fn child_writes_until_killed() {
    let Ok(path) = std::env::var(DB_VAR) else {
        return;
    };
    let esr = Esr::new(SqliteStore::open(&path).unwrap(), SystemClock);
    esr.create_trust(vpd(), "Durable Trust", TrustSettings::default())
        .unwrap();
    let feed = Actor::system("durability child").unwrap();
    let mut out = std::io::stdout().lock();
    for n in 1.. {
        let employee = format!("{:08}", 10_000_000 + n);
        esr.add_person(
            &feed,
            vpd(),
            NewPerson {
                employee_number: employee.parse().unwrap(),
                name: PersonName::new("Dora", &format!("Durable{}", n % 50)).unwrap(),
                date_of_birth: NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
                recruitment_email: format!("dora{n}@nhs.net").parse().unwrap(),
            },
        )
        .unwrap();
        writeln!(out, "ack {employee}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn every_acknowledged_write_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("durable.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "durability::child_writes_until_killed",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DB_VAR, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut acked = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(e) = line.strip_prefix("ack ") {
            acked.push(e.to_owned());
            if acked.len() == 300 {
                // Mid-stream: the child is writing its next person.
                child.kill().unwrap(); // SIGKILL on Unix
                break;
            }
        }
    }
    child.wait().unwrap();
    assert_eq!(acked.len(), 300, "the child stopped before it was killed");

    let esr = Esr::new(SqliteStore::open(&path).unwrap(), SystemClock);
    let people = esr.people(vpd()).unwrap();
    // Every acknowledged person is there, and at most the one being written besides.
    for e in &acked {
        assert!(
            people.iter().any(|p| p.employee_number.as_str() == e),
            "acknowledged person {e} was lost"
        );
    }
    assert!(
        (acked.len()..=acked.len() + 1).contains(&people.len()),
        "{} people for {} acknowledgements",
        people.len(),
        acked.len()
    );
    // No half-applied operation: each person has their account and their audit entry, and the
    // audit chain is whole.
    let trail = esr.audit_trail(vpd(), 1, usize::MAX).unwrap();
    for p in &people {
        esr.store()
            .transaction(|tx| {
                assert!(
                    tx.account(&p.username)?.is_some(),
                    "{} has no account",
                    p.username
                );
                Ok(())
            })
            .unwrap();
        assert!(
            trail.iter().any(|a| matches!(&a.event,
                esr_core::audit::AuditEvent::PersonAdded { employee, .. } if employee == &p.employee_number)),
            "{} was added without its audit entry",
            p.employee_number
        );
    }
    // And no audit entry of a person who is not there.
    let added = trail
        .iter()
        .filter(|a| matches!(a.event, esr_core::audit::AuditEvent::PersonAdded { .. }))
        .count();
    assert_eq!(added, people.len());
    esr.verify_audit(vpd()).unwrap();
}
