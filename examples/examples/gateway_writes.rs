//! An unrelated writer's rate with and without texts going out through a slow SMS gateway
//! (issue 18: "a 50 ms gateway leaves unrelated writes at 90% or more of their rate without
//! it"). One SQLite store, one process: a writer thread records competences as fast as it can
//! while an issuer thread, in alternate phases, either sends nothing or issues and verifies
//! codes whose texts go through a gateway that takes GATEWAY_MS (default 50) per text, sent by
//! the default in-process relay after the commit. The phases alternate (quiet, texts, quiet,
//! …) so that both see the same machine; the medians of each are printed, and their ratio,
//! for `synchronous = NORMAL` and the default `FULL`.
//!
//! `cargo run --release -p esr-examples --example gateway_writes [-- GATEWAY_MS PHASES]`

use esr_core::chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use esr_core::{
    Actor, Config, EmployeeNumber, Esr, ManualClock, Result, Username, VpdCode,
    access::SmartcardAuthentication, compliance::CSTF_TITLES, compliance::CompetenceLevel,
    compliance::NewCompetenceRecord, compliance::RecordExpiry, compliance::cstf,
    org::TrustSettings, passcode::PasscodeKey, passcode::PasscodeKeys, passcode::PasscodePolicy,
    passcode::SmsMessage, passcode::SmsSender, people::PasswordHashing,
};
use esr_examples::{TrustSpec, build_trust};
use esr_sqlite::{SqliteConfig, SqliteStore, Synchronous};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A gateway that takes `delay` per text and keeps the last code.
struct Slow {
    delay: Duration,
    last: Mutex<Option<String>>,
}

impl SmsSender for Slow {
    fn send_sms(&self, m: &SmsMessage) -> std::result::Result<(), String> {
        std::thread::sleep(self.delay);
        let code: String = m
            .expose_text()
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(char::is_ascii_digit)
            .collect();
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(code);
        Ok(())
    }
}

struct World {
    esr: Esr<SqliteStore, ManualClock>,
    clock: ManualClock,
    gateway: Arc<Slow>,
    vpd: VpdCode,
    staff: Vec<EmployeeNumber>,
    issuer: Username,
    next: AtomicUsize,
}

fn world(path: &std::path::Path, sync: Synchronous, delay: Duration) -> Result<World> {
    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 7, 30, 0)
            .single()
            .unwrap_or_default(),
    );
    let gateway = Arc::new(Slow {
        delay,
        last: Mutex::new(None),
    });
    let store = SqliteStore::open_with(
        path,
        &SqliteConfig {
            synchronous: sync,
            ..SqliteConfig::default()
        },
    )?;
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
        })?
        .with_passcode_keys(PasscodeKeys::new(PasscodeKey::new(
            "gateway",
            b"key-12-abcdefghijklmnopqrstuvwxy",
        )?))
        .with_sms_sender(gateway.clone());
    let spec = TrustSpec {
        vpd: "297".parse()?,
        name: "Gateway Trust".into(),
        ward_staff: 60,
        ward_size: 30,
        seed: 1,
    };
    let t = build_trust(&esr, &spec, TrustSettings::default())?;
    Ok(World {
        esr,
        clock,
        gateway,
        vpd: t.vpd,
        staff: t.staff.iter().map(|m| m.employee_number.clone()).collect(),
        issuer: t.staff[0].username.clone(),
        next: AtomicUsize::new(0),
    })
}

impl World {
    /// The unrelated write: one competence record for the next person, subject and day.
    fn record(&self, actor: &Actor) -> Result<()> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let person = &self.staff[n % self.staff.len()];
        let title = CSTF_TITLES[(n / self.staff.len()) % CSTF_TITLES.len()];
        let day = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default()
            + TimeDelta::days((n / (self.staff.len() * CSTF_TITLES.len()) % 2000) as i64);
        self.esr
            .record_competence(
                actor,
                self.vpd,
                person,
                NewCompetenceRecord {
                    competence: cstf(title)?,
                    achieved: day,
                    expiry: RecordExpiry::Refresher,
                    level: CompetenceLevel::default(),
                },
            )
            .map(drop)
    }

    /// Issues and verifies codes while `sending`, until `stop`; counts them in `codes`.
    fn issue(&self, sending: &AtomicBool, stop: &AtomicBool, codes: &AtomicUsize) -> Result<()> {
        let card = SmartcardAuthentication::verified_by_caller("GATEWAY-ISSUER")?;
        let mut session = self.esr.log_in_with_smartcard(&self.issuer, &card)?.id;
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            if !sending.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
            n += 1;
            self.clock.advance(TimeDelta::seconds(1));
            if n.is_multiple_of(100) {
                session = self.esr.log_in_with_smartcard(&self.issuer, &card)?.id;
            }
            let c = self.esr.request_mobile_code(session, "07700 900374")?;
            let code = self
                .gateway
                .last
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
                .unwrap_or_default();
            self.esr.verify_passcode(session, &c.id, c.purpose, &code)?;
            codes.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// Runs the alternating phases on one store; prints the medians and the ratio.
fn run(path: &std::path::Path, sync: Synchronous, delay: Duration, phases: usize) -> Result<()> {
    let w = world(path, sync, delay)?;
    let actor = Actor::system("learning feed")?;
    let (sending, stop, codes) = (
        AtomicBool::new(false),
        AtomicBool::new(false),
        AtomicUsize::new(0),
    );
    let phase = Duration::from_secs(2);
    let (mut quiet, mut texts, mut code_rates) = (Vec::new(), Vec::new(), Vec::new());
    std::thread::scope(|s| -> Result<()> {
        let issuer = s.spawn(|| w.issue(&sending, &stop, &codes));
        // A warm-up phase of each kind, not counted.
        for i in 0..2 * (phases + 1) {
            let with_texts = i % 2 == 1;
            sending.store(with_texts, Ordering::Relaxed);
            let codes_before = codes.load(Ordering::Relaxed);
            let began = Instant::now();
            let mut writes = 0u32;
            while began.elapsed() < phase {
                w.record(&actor)?;
                writes += 1;
            }
            let secs = began.elapsed().as_secs_f64();
            if i >= 2 {
                let rate = f64::from(writes) / secs;
                if with_texts {
                    texts.push(rate);
                    code_rates.push((codes.load(Ordering::Relaxed) - codes_before) as f64 / secs);
                } else {
                    quiet.push(rate);
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        issuer
            .join()
            .unwrap_or_else(|_| Err(esr_core::Error::Storage("the issuer panicked".into())))
    })?;
    let (q, t) = (median(quiet.clone()), median(texts.clone()));
    println!(
        "synchronous {sync:?}, gateway {} ms: unrelated writes {q:.0}/s with no texts, \
         {t:.0}/s while codes go out ({:.1} codes/s) = {:.1}% (medians of {phases} \
         alternating {}-second phases; quiet {:?}, texts {:?})",
        delay.as_millis(),
        median(code_rates),
        100.0 * t / q.max(1e-9),
        phase.as_secs(),
        quiet.iter().map(|r| r.round()).collect::<Vec<_>>(),
        texts.iter().map(|r| r.round()).collect::<Vec<_>>(),
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let delay = Duration::from_millis(args.get(1).and_then(|a| a.parse().ok()).unwrap_or(50));
    let phases = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5);
    let dir = std::env::temp_dir().join(format!("esr-gateway-writes-{}", std::process::id()));
    let result = std::fs::create_dir_all(&dir)
        .map_err(|e| esr_core::Error::Storage(e.to_string()))
        .and_then(|()| {
            for sync in [Synchronous::Normal, Synchronous::Full] {
                run(&dir.join(format!("{sync:?}.db")), sync, delay, phases)?;
            }
            Ok(())
        });
    let _ = std::fs::remove_dir_all(&dir);
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gateway_writes: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
