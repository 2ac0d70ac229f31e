//! The outbox: an unrelated writer's rate on SQLite (WAL, `synchronous = NORMAL`, one file)
//! while another thread issues codes through a slow SMS gateway. Before the outbox the gateway
//! ran inside the write transaction, so a 50 ms gateway held the write lock for 50 ms per code
//! and the writer waited; now the gateway runs after the commit.
//!
//! Three cases, each timing one competence record written by the measured thread:
//! `alone` (no issuer), `issuer_gateway_0ms` (an issuer thread with an instant gateway),
//! `issuer_gateway_50ms` (an issuer thread whose gateway sleeps 50 ms per text).
//!
//! The three cases run one after another on separate files, so their ratio mixes in the
//! machine's drift; for issue 18's figure (the writer's rate with and without texts going out,
//! in alternating phases on one store, at NORMAL and FULL) run the `gateway_writes` example.
//!
//! `cargo bench -p esr-benches --bench outbox`

#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use esr_core::chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use esr_core::{
    Actor, Config, EmployeeNumber, Esr, ManualClock, VpdCode, access::SmartcardAuthentication,
    compliance::CSTF_TITLES, compliance::CompetenceLevel, compliance::NewCompetenceRecord,
    compliance::RecordExpiry, compliance::cstf, org::TrustSettings, passcode::PasscodeKey,
    passcode::PasscodeKeys, passcode::PasscodePolicy, passcode::SmsMessage, passcode::SmsSender,
    people::PasswordHashing,
};
use esr_examples::{TrustSpec, build_trust};
use esr_sqlite::{SqliteConfig, SqliteStore, Synchronous};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A gateway that takes `delay` per text and keeps the last code.
struct Slow {
    delay: Duration,
    last: Mutex<Option<String>>,
}

impl SmsSender for Slow {
    fn send_sms(&self, m: &SmsMessage) -> Result<(), String> {
        std::thread::sleep(self.delay);
        let code: String = m
            .expose_text()
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(char::is_ascii_digit)
            .collect();
        *self.last.lock().unwrap() = Some(code);
        Ok(())
    }
}

struct World {
    esr: Esr<SqliteStore, ManualClock>,
    clock: ManualClock,
    gateway: Arc<Slow>,
    vpd: VpdCode,
    staff: Vec<EmployeeNumber>,
    issuer: esr_core::Username,
    next: AtomicUsize,
}

fn world(dir: &tempfile::TempDir, name: &str, delay: Duration) -> World {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 7, 30, 0).unwrap());
    let gateway = Arc::new(Slow {
        delay,
        last: Mutex::new(None),
    });
    let store = SqliteStore::open_with(
        dir.path().join(name),
        &SqliteConfig {
            synchronous: Synchronous::Normal,
            ..SqliteConfig::default()
        },
    )
    .unwrap();
    let esr = Esr::with_rng(store, clock.clone(), ChaCha20Rng::seed_from_u64(5))
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
            PasscodeKey::new("bench", b"key-12-abcdefghijklmnopqrstuvwxy").unwrap(),
        ))
        .with_sms_sender(gateway.clone());
    let spec = TrustSpec {
        vpd: "297".parse().unwrap(),
        name: "Bench Trust".into(),
        ward_staff: 60,
        ward_size: 30,
        seed: 1,
    };
    let t = build_trust(&esr, &spec, TrustSettings::default()).unwrap();
    World {
        esr,
        clock,
        gateway,
        vpd: t.vpd,
        staff: t.staff.iter().map(|m| m.employee_number.clone()).collect(),
        issuer: t.staff[0].username.clone(),
        next: AtomicUsize::new(0),
    }
}

impl World {
    /// One competence record for the next person, subject and day in turn.
    fn record(&self, actor: &Actor) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let person = &self.staff[n % self.staff.len()];
        let title = CSTF_TITLES[(n / self.staff.len()) % CSTF_TITLES.len()];
        let day = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()
            + TimeDelta::days((n / (self.staff.len() * CSTF_TITLES.len()) % 2000) as i64);
        self.esr
            .record_competence(
                actor,
                self.vpd,
                person,
                NewCompetenceRecord {
                    competence: cstf(title).unwrap(),
                    achieved: day,
                    expiry: RecordExpiry::Refresher,
                    level: CompetenceLevel::default(),
                },
            )
            .unwrap();
    }

    /// Issues and verifies codes until `stop`, a fresh HSCN session every 100 codes.
    fn issue_until(&self, stop: &AtomicBool) {
        let card = SmartcardAuthentication::verified_by_caller("BENCH-ISSUER").unwrap();
        let mut session = None;
        for n in 0u64.. {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            // Within the send limits (100 a minute here).
            self.clock.advance(TimeDelta::seconds(1));
            if n % 100 == 0 {
                session = Some(
                    self.esr
                        .log_in_with_smartcard(&self.issuer, &card)
                        .unwrap()
                        .id,
                );
            }
            let s = session.unwrap();
            let c = self.esr.request_mobile_code(s, "07700 900374").unwrap();
            let code = self.gateway.last.lock().unwrap().clone().unwrap();
            self.esr
                .verify_passcode(s, &c.id, c.purpose, &code)
                .unwrap();
        }
    }
}

fn outbox(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let actor = Actor::system("learning feed").unwrap();
    let mut g = c.benchmark_group("unrelated_write_sqlite");
    g.measurement_time(Duration::from_secs(8));

    let alone = world(&dir, "alone.db", Duration::ZERO);
    g.bench_function("alone", |b| b.iter(|| alone.record(&actor)));

    for (name, delay) in [
        ("issuer_gateway_0ms", Duration::ZERO),
        ("issuer_gateway_50ms", Duration::from_millis(50)),
    ] {
        let w = world(&dir, &format!("{name}.db"), delay);
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| w.issue_until(&stop));
            g.bench_function(name, |b| b.iter(|| w.record(&actor)));
            stop.store(true, Ordering::Relaxed);
        });
    }
    g.finish();
}

criterion_group!(benches, outbox);
criterion_main!(benches);
