//! The same service operations on the in-memory store and on SQLite (`esr-sqlite`: WAL,
//! `synchronous = NORMAL`, a file in a temporary directory): a passcode issued and verified
//! (two transactions), and a competence record written (one transaction).
//!
//! `cargo bench -p esr-benches --bench storage`

#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use esr_core::chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use esr_core::{
    Actor, Config, EmployeeNumber, Esr, InMemoryStore, ManualClock, SessionId, Store, VpdCode,
    access::SmartcardAuthentication, compliance::CSTF_TITLES, compliance::CompetenceLevel,
    compliance::CompetenceName, compliance::NewCompetenceRecord, compliance::RecordExpiry,
    compliance::cstf, org::TrustSettings, passcode::Outbox, passcode::PasscodeKey,
    passcode::PasscodeKeys, passcode::PasscodePolicy, people::PasswordHashing,
};
use esr_examples::{TrustSpec, build_trust};
use esr_sqlite::{SqliteConfig, SqliteStore, Synchronous};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::cell::Cell;
use std::sync::Arc;

const NUMBER: &str = "07700 900374";

struct Bench<S: Store> {
    esr: Esr<S, ManualClock>,
    clock: ManualClock,
    outbox: Arc<Outbox>,
    vpd: VpdCode,
    staff: Vec<EmployeeNumber>,
    user: esr_core::Username,
    session: Cell<SessionId>,
    sessions_started: Cell<esr_core::chrono::DateTime<Utc>>,
    next: Cell<usize>,
}

impl<S: Store> Bench<S> {
    fn new(store: S) -> Self {
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 7, 30, 0).unwrap());
        let outbox = Arc::new(Outbox::new());
        let esr = Esr::with_rng(store, clock.clone(), ChaCha20Rng::seed_from_u64(3))
            .with_config(Config {
                password_hashing: PasswordHashing::insecure_fast_for_tests(),
                passcodes: PasscodePolicy::default(),
                session_lifetime: TimeDelta::hours(12),
                ..Config::default()
            })
            .unwrap()
            .with_passcode_keys(PasscodeKeys::new(
                PasscodeKey::new("bench", b"key-11-abcdefghijklmnopqrstuvwxy").unwrap(),
            ))
            .with_sms_sender(outbox.clone());
        let spec = TrustSpec {
            vpd: "297".parse().unwrap(),
            name: "Bench Trust".into(),
            ward_staff: 60,
            ward_size: 30,
            seed: 1,
        };
        let t = build_trust(&esr, &spec, TrustSettings::default()).unwrap();
        let user = t.staff[0].username.clone();
        let staff = t.staff.iter().map(|m| m.employee_number.clone()).collect();
        let card = SmartcardAuthentication::verified_by_caller("BENCH").unwrap();
        let session = esr.log_in_with_smartcard(&user, &card).unwrap().id;
        let now = esr_core::Clock::now(&clock);
        Self {
            esr,
            clock,
            outbox,
            vpd: t.vpd,
            staff,
            user,
            session: Cell::new(session),
            sessions_started: Cell::new(now),
            next: Cell::new(0),
        }
    }

    /// The HSCN session, renewed before it expires.
    fn session(&self) -> SessionId {
        let now = esr_core::Clock::now(&self.clock);
        if now - self.sessions_started.get() > TimeDelta::hours(11) {
            let card = SmartcardAuthentication::verified_by_caller("BENCH").unwrap();
            let s = self.esr.log_in_with_smartcard(&self.user, &card).unwrap();
            self.session.set(s.id);
            self.sessions_started.set(now);
        }
        self.session.get()
    }

    /// A mobile-confirmation code issued and the right code verified. The clock moves 2 minutes
    /// and a second first, within the default send limits.
    fn issue_and_verify(&self) {
        self.clock.advance(TimeDelta::seconds(121));
        let s = self.session();
        let c = self.esr.request_mobile_code(s, NUMBER).unwrap();
        let code = self.outbox.last_code_to(&NUMBER.parse().unwrap()).unwrap();
        let out = self
            .esr
            .verify_passcode(s, &c.id, c.purpose, &code)
            .unwrap();
        assert!(out.is_approved());
        self.outbox.clear();
    }

    /// One competence record for the next person, subject and day in turn.
    fn record(&self, actor: &Actor) {
        let n = self.next.get();
        self.next.set(n + 1);
        let person = &self.staff[n % self.staff.len()];
        let title = CSTF_TITLES[(n / self.staff.len()) % CSTF_TITLES.len()];
        let name: CompetenceName = cstf(title).unwrap();
        let day = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()
            + TimeDelta::days((n / (self.staff.len() * CSTF_TITLES.len()) % 2000) as i64);
        self.esr
            .record_competence(
                actor,
                self.vpd,
                person,
                NewCompetenceRecord {
                    competence: name,
                    achieved: day,
                    expiry: RecordExpiry::Refresher,
                    level: CompetenceLevel::default(),
                },
            )
            .unwrap();
    }
}

fn sqlite(dir: &tempfile::TempDir, name: &str) -> SqliteStore {
    let config = SqliteConfig {
        synchronous: Synchronous::Normal,
        ..SqliteConfig::default()
    };
    SqliteStore::open_with(dir.path().join(name), &config).unwrap()
}

fn storage(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let actor = Actor::system("learning feed").unwrap();

    let mut g = c.benchmark_group("passcode_issue_verify");
    let memory = Bench::new(InMemoryStore::new());
    g.bench_function("memory", |b| b.iter(|| memory.issue_and_verify()));
    let on_disk = Bench::new(sqlite(&dir, "passcodes.db"));
    g.bench_function("sqlite", |b| b.iter(|| on_disk.issue_and_verify()));
    g.finish();

    let mut g = c.benchmark_group("competence_record_write");
    let memory = Bench::new(InMemoryStore::new());
    g.bench_function("memory", |b| b.iter(|| memory.record(&actor)));
    let on_disk = Bench::new(sqlite(&dir, "records.db"));
    g.bench_function("sqlite", |b| b.iter(|| on_disk.record(&actor)));
    g.finish();
}

criterion_group!(benches, storage);
criterion_main!(benches);
