//! The outbox under SIGKILL: a child process issues and verifies codes on a SQLite file, with
//! an SMS gateway that appends each text (its idempotency key and code) to a file, and every
//! fourth code imports a competence export (all or nothing); it is killed at random moments
//! (after a random number of acknowledgements, then up to 15 ms more), 60 times over the same
//! database. After each kill the audit chain must verify, and the child restarts, first
//! relaying what the kill left queued. Then: every text sent is for a challenge that is stored
//! (no text for an unstored challenge), every message marked delivered was sent (at least
//! once), every acknowledged code, approval and import is kept (0 acknowledged writes lost),
//! every import is there whole or not at all, and no challenge is approved twice.
//!
//! The child is this test binary run again with `ESR_OUTBOX_CRASH_DB` set (the ignored test
//! `outbox_crash::child_issues_codes_until_killed`).

#![allow(clippy::unwrap_used)]

use esr_core::audit::{AuditEvent, AuditKey, AuditKeys};
use esr_core::chrono::NaiveDate;
use esr_core::chrono::{DateTime, TimeDelta, Utc};
use esr_core::compliance::{CSTF_TITLES, ImportOptions};
use esr_core::passcode::{ChallengeStatus, OutboxStatus, SmsMessage, SmsSender};
use esr_core::passcode::{PasscodeKey, PasscodeKeys, PasscodePolicy};
use esr_core::people::PasswordHashing;
use esr_core::store::testkit::{Harness, MOBILE};
use esr_core::{Actor, ChallengeId, Config, Esr, ManualClock, Store, VpdCode};
use esr_sqlite::SqliteStore;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

const DB_VAR: &str = "ESR_OUTBOX_CRASH_DB";
const SENT_VAR: &str = "ESR_OUTBOX_CRASH_SENT";

fn vpd() -> VpdCode {
    "297".parse().unwrap()
}

/// The audit keys the kit's harness chains the trail with (the child and the checks use them
/// too: a trail chained with a key does not verify without it).
fn audit_keys() -> AuditKeys {
    AuditKeys::new(AuditKey::new("kit-audit-1", b"audit-42-abcdefghijklmnopqrstuvw").unwrap())
}

/// Import `k` records every person's CSTF subjects achieved on the `IMPORT_DAYS` days from
/// `import_day(k, 0)`: dates no other import uses, so its records can be counted.
const IMPORT_DAYS: u32 = 20;

fn import_day(k: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + TimeDelta::days(i64::from(k * 40 + d))
}

/// The import a record came from, from its achieved date (`None`: one of the kit's records,
/// achieved in this century).
fn import_of(achieved: NaiveDate) -> Option<u32> {
    let days = (achieved - import_day(0, 0)).num_days();
    (achieved < import_day(200, 0)).then(|| u32::try_from(days / 40).unwrap())
}

/// The competence export of import `k`.
fn export(people: &[esr_core::EmployeeNumber], k: u32) -> String {
    let esr_date = |d: NaiveDate| d.format("%d-%b-%Y").to_string();
    let mut csv = String::from("Employee Number,Competency Name,Achieved Date,Expiry Date\n");
    for d in 0..IMPORT_DAYS {
        let achieved = import_day(k, d);
        for p in people {
            for t in CSTF_TITLES {
                csv.push_str(&format!(
                    "{p},\"NHS|CSTF|{t}|\",{},{}\n",
                    esr_date(achieved),
                    esr_date(achieved + TimeDelta::days(3 * 365))
                ));
            }
        }
    }
    csv
}

/// A gateway that appends `<key> <code>` to a file (one `write` per line, `O_APPEND`), and
/// remembers the last code for the child to type.
struct FileGateway {
    file: Mutex<std::fs::File>,
    last: Mutex<Option<(ChallengeId, String)>>,
}

impl SmsSender for FileGateway {
    fn send_sms(&self, m: &SmsMessage) -> Result<(), String> {
        let code: String = m
            .expose_text()
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(char::is_ascii_digit)
            .collect();
        let line = format!("{} {code}\n", m.idempotency_key());
        self.file
            .lock()
            .unwrap()
            .write_all(line.as_bytes())
            .map_err(|e| e.to_string())?;
        *self.last.lock().unwrap() = Some((m.idempotency_key(), code));
        Ok(())
    }
}

/// The latest instant any challenge in the file was issued at.
fn latest_issue(store: &SqliteStore, username: &esr_core::Username) -> Option<DateTime<Utc>> {
    store
        .transaction(|tx| tx.challenges_of(username, DateTime::<Utc>::MIN_UTC))
        .unwrap()
        .iter()
        .map(|c| c.issued_at)
        .max()
}

/// Issues a code and (every other time) verifies it, and every fourth time imports a competence
/// export, until killed. Prints `issued <id>` after each issue returns, `approved <id>` after
/// each approval commits and `imported <k> <records>` after each import commits.
#[test]
#[ignore = "the child process of outbox_survives_sigkill"]
fn child_issues_codes_until_killed() {
    let (Ok(path), Ok(sent)) = (std::env::var(DB_VAR), std::env::var(SENT_VAR)) else {
        return;
    };
    // Every run draws its ids from the operating system, as a real process does.
    let clock = ManualClock::new(esr_core::chrono::Utc::now());
    let h = Esr::new(SqliteStore::open(&path).unwrap(), clock.clone())
        .with_config(Config {
            password_hashing: PasswordHashing::insecure_fast_for_tests(),
            passcodes: PasscodePolicy {
                max_sends: 100,
                send_window: TimeDelta::minutes(1),
                min_resend_interval: TimeDelta::zero(),
                ..PasscodePolicy::default()
            },
            ..Config::default()
        })
        .unwrap()
        .with_passcode_keys(PasscodeKeys::new(
            PasscodeKey::new("kit-1", b"key-42-abcdefghijklmnopqrstuvwxy").unwrap(),
        ))
        .with_audit_keys(audit_keys());
    let user = h
        .people(vpd())
        .unwrap()
        .into_iter()
        .find(|p| p.mobile.is_some())
        .unwrap()
        .username;
    // Time goes on from the last run's last code.
    if let Some(t) = latest_issue(h.store(), &user) {
        clock.set(t + TimeDelta::minutes(2));
    }
    let gateway = Arc::new(FileGateway {
        file: Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&sent)
                .unwrap(),
        ),
        last: Mutex::new(None),
    });
    let esr = h.with_sms_sender(gateway.clone());
    // What the last kill left queued goes first.
    esr.deliver_pending(1000).unwrap();
    let mut out = std::io::stdout().lock();
    let card =
        esr_core::access::SmartcardAuthentication::verified_by_caller(&format!("CARD-{user}"))
            .unwrap();
    let mut session = esr.log_in_with_smartcard(&user, &card).unwrap().id;
    let feed = Actor::system("crash-test feed").unwrap();
    let people: Vec<_> = esr
        .people(vpd())
        .unwrap()
        .into_iter()
        .map(|p| p.employee_number)
        .collect();
    // The next import follows the last one committed.
    let mut next_import = esr
        .store()
        .read(|tx| tx.competence_records(vpd()))
        .unwrap()
        .iter()
        .filter_map(|r| import_of(r.achieved).map(|k| k + 1))
        .max()
        .unwrap_or(0);
    for n in 0u64.. {
        clock.advance(TimeDelta::seconds(7));
        if n % 50 == 49 {
            session = esr.log_in_with_smartcard(&user, &card).unwrap().id;
        }
        let c = esr.request_mobile_code(session, MOBILE).unwrap();
        writeln!(out, "issued {}", c.id).unwrap();
        out.flush().unwrap();
        if n % 2 == 1 {
            let (key, code) = gateway.last.lock().unwrap().clone().unwrap();
            assert_eq!(key, c.id);
            let r = esr
                .verify_passcode(session, &c.id, c.purpose, &code)
                .unwrap();
            assert!(r.is_approved(), "{r:?}");
            writeln!(out, "approved {}", c.id).unwrap();
            out.flush().unwrap();
        }
        if n % 4 == 2 {
            let csv = export(&people, next_import);
            let summary = esr
                .import_competences(&feed, vpd(), csv.as_bytes(), ImportOptions::default())
                .unwrap();
            writeln!(out, "imported {next_import} {}", summary.imported).unwrap();
            out.flush().unwrap();
            next_import += 1;
        }
    }
}

/// A small deterministic generator for the kill moments.
fn next(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *seed >> 33
}

/// What the child acknowledged (printed) before it was killed.
#[derive(Default)]
struct Acknowledged {
    issued: BTreeSet<String>,
    approved: BTreeSet<String>,
    /// Import number to records imported.
    imports: BTreeMap<u32, usize>,
}

fn run_child_and_kill(
    db: &Path,
    sent: &Path,
    after_lines: u64,
    delay_ms: u64,
    acked: &mut Acknowledged,
) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "outbox_crash::child_issues_codes_until_killed",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DB_VAR, db)
        .env(SENT_VAR, sent)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = 0;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let mut words = line.split(' ');
        match (words.next(), words.next(), words.next()) {
            (Some("issued"), Some(id), None) => drop(acked.issued.insert(id.to_owned())),
            (Some("approved"), Some(id), None) => drop(acked.approved.insert(id.to_owned())),
            (Some("imported"), Some(k), Some(n)) => {
                acked.imports.insert(k.parse().unwrap(), n.parse().unwrap());
            }
            _ => continue,
        }
        lines += 1;
        if lines >= after_lines {
            // Mid-stream: the child is committing, sending, marking or importing the next.
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
            child.kill().unwrap(); // SIGKILL on Unix
            break;
        }
    }
    child.wait().unwrap();
    assert!(
        lines >= after_lines,
        "the child stopped before it was killed"
    );
}

/// Slow (about 100 s for its 60 kills on the shared 2-core build machine; each kill starts a
/// child process), so it runs on request:
/// `cargo test -p esr-sqlite --test it outbox_crash -- --ignored --nocapture`.
#[test]
#[ignore = "slow (about 100 s): run with --ignored"]
fn outbox_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("outbox.db");
    let sent = dir.path().join("sent.txt");
    // The trust, populated by the kit's seeded service; its challenges were texted elsewhere.
    let before: BTreeSet<ChallengeId> = {
        let h = Harness::new(SqliteStore::open(&db).unwrap());
        let p = h.populate(vpd());
        h.in_tx(|tx| tx.challenges_of(&p.people[2].username, DateTime::<Utc>::MIN_UTC))
            .iter()
            .map(|c| c.id)
            .collect()
    };
    let mut seed = 0x5eed_u64;
    let mut acked = Acknowledged::default();
    let kills = 60;
    let started = std::time::Instant::now();
    for kill in 0..kills {
        let after = 1 + next(&mut seed) % 12;
        let delay = next(&mut seed) % 16;
        run_child_and_kill(&db, &sent, after, delay, &mut acked);
        // The chain verifies after each kill, as the restart finds it.
        let esr = Esr::new(SqliteStore::open(&db).unwrap(), esr_core::SystemClock)
            .with_audit_keys(audit_keys());
        if let Err(e) = esr.verify_audit(vpd()) {
            panic!("after kill {kill}, the audit chain does not verify: {e}");
        }
    }
    eprintln!("{kills} runs in {:?}", started.elapsed());

    let store = SqliteStore::open(&db).unwrap();
    let text = std::fs::read_to_string(&sent).unwrap();
    let mut texts: BTreeMap<ChallengeId, u32> = BTreeMap::new();
    for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
        let key: ChallengeId = line.split(' ').next().unwrap().parse().unwrap();
        *texts.entry(key).or_default() += 1;
    }
    assert!(texts.len() > kills, "{} texts", texts.len());
    store
        .transaction(|tx| {
            // No text for an unstored challenge.
            for key in texts.keys() {
                assert!(
                    tx.challenge(key)?.is_some(),
                    "a text went out for challenge {key}, which is not stored"
                );
            }
            // Every acknowledged code is stored.
            for id in &acked.issued {
                assert!(tx.challenge(&id.parse().unwrap())?.is_some(), "{id}");
            }
            // Every acknowledged approval is kept.
            for id in &acked.approved {
                let c = tx.challenge(&id.parse().unwrap())?.unwrap();
                assert_eq!(c.status, ChallengeStatus::Approved, "{id}");
            }
            // Every message marked delivered was sent.
            for m in tx.due_messages(DateTime::<Utc>::MAX_UTC, usize::MAX)? {
                assert_eq!(m.status, OutboxStatus::Pending);
            }
            Ok(())
        })
        .unwrap();
    let user = store
        .transaction(|tx| tx.people(vpd()))
        .unwrap()
        .into_iter()
        .find(|p| p.mobile.is_some())
        .unwrap()
        .username;
    let all = store
        .transaction(|tx| tx.challenges_of(&user, DateTime::<Utc>::MIN_UTC))
        .unwrap();
    let mut delivered = 0;
    for c in all.iter().filter(|c| !before.contains(&c.id)) {
        let m = store.transaction(|tx| tx.outbox_message(&c.id)).unwrap();
        if let Some(m) = m
            && m.status == OutboxStatus::Delivered
        {
            delivered += 1;
            assert!(
                texts.contains_key(&c.id),
                "message {} is marked delivered but was never sent",
                c.id
            );
        }
    }
    assert!(delivered > kills, "{delivered} delivered");
    // Every import is there whole or not at all, and every acknowledged one is there.
    let mut imports: BTreeMap<u32, usize> = BTreeMap::new();
    for r in store.read(|tx| tx.competence_records(vpd())).unwrap() {
        if let Some(k) = import_of(r.achieved) {
            *imports.entry(k).or_default() += 1;
        }
    }
    let whole = imports.values().next().copied().unwrap_or_default();
    assert!(imports.values().all(|n| *n == whole), "{imports:?}");
    for (k, n) in &acked.imports {
        assert_eq!(imports.get(k), Some(n), "acknowledged import {k} lost");
    }
    assert!(acked.imports.len() >= 10, "{} imports", acked.imports.len());
    // No challenge approved twice: one approval audited per approved challenge.
    let esr = esr_core::Esr::new(store, esr_core::SystemClock).with_audit_keys(audit_keys());
    let trail = esr.audit_trail(vpd(), 1, usize::MAX).unwrap();
    let mut approvals: BTreeMap<ChallengeId, u32> = BTreeMap::new();
    for e in &trail {
        if let AuditEvent::PasscodeChecked {
            challenge, outcome, ..
        } = &e.event
            && outcome == "approved"
        {
            *approvals.entry(*challenge).or_default() += 1;
        }
    }
    assert!(approvals.values().all(|n| *n == 1), "{approvals:?}");
    let approved = all
        .iter()
        .filter(|c| c.status == ChallengeStatus::Approved)
        .count();
    assert_eq!(approved, approvals.len());
    esr.verify_audit(vpd()).unwrap();
    eprintln!(
        "{kills} kills, the chain verified after each: {} challenges, {} texts ({} repeated), \
         {} delivered, {} approved ({} acknowledged), {} codes acknowledged and stored; \
         {} imports committed of {whole} records each ({} acknowledged), none partial",
        all.len(),
        texts.len(),
        texts.values().filter(|n| **n > 1).count(),
        delivered,
        approved,
        acked.approved.len(),
        acked.issued.len(),
        imports.len(),
        acked.imports.len()
    );
}

/// A gateway that takes SQLite's write lock on its own connection, with no wait: it gets it
/// only if no store transaction is open on the file.
struct LockChecking {
    db: std::path::PathBuf,
    calls: Mutex<u32>,
}

impl SmsSender for LockChecking {
    fn send_sms(&self, _: &SmsMessage) -> Result<(), String> {
        let conn = rusqlite_free_lock_check(&self.db);
        assert!(
            conn,
            "the gateway was called while a store transaction held the file"
        );
        *self.calls.lock().unwrap() += 1;
        Ok(())
    }
}

/// Whether a write transaction can start on `db` at once (another connection, no busy wait).
fn rusqlite_free_lock_check(db: &Path) -> bool {
    // esr-sqlite's own store, opened a second time, with no busy timeout: its transaction is
    // a `BEGIN IMMEDIATE`, which fails at once if a writer holds the file.
    let store = SqliteStore::open_with(
        db,
        &esr_sqlite::SqliteConfig {
            busy_timeout: std::time::Duration::ZERO,
            ..esr_sqlite::SqliteConfig::default()
        },
    )
    .unwrap();
    store.transaction(|_| Ok(())).is_ok()
}

#[test]
fn no_gateway_is_called_while_sqlite_holds_a_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("locks.db");
    let h = Harness::new(SqliteStore::open(&db).unwrap());
    let p = h.populate(vpd());
    let gateway = Arc::new(LockChecking {
        db: db.clone(),
        calls: Mutex::new(0),
    });
    let clock = h.clock.clone();
    let esr = h.esr.with_sms_sender(gateway.clone());
    for _ in 0..5 {
        clock.advance(TimeDelta::seconds(31));
        esr.request_mobile_code(p.session, MOBILE).unwrap();
    }
    clock.advance(TimeDelta::minutes(2));
    esr.deliver_pending(100).unwrap();
    assert_eq!(*gateway.calls.lock().unwrap(), 5);
}
