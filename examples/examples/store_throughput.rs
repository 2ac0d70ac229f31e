//! Throughput and latency of the SQLite and PostgreSQL stores side by side: passcode issue +
//! verify and `record_competence`, at 1, 8 and 32 threads in one process and across 1, 2 and
//! 4 processes (one thread each), then a bulk import of 400,000 competence records.
//!
//! `cargo run --release -p esr-examples --example store_throughput -- --postgres URL
//! [--seconds S]` (the URL as in `scripts/postgres env`). Each process is this program run
//! again with `--child`; it prints its latencies, which the parent merges.

#![allow(clippy::unwrap_used)]

use esr_core::chrono::{NaiveDate, TimeZone, Utc};
use esr_core::compliance::{CompetenceLevel, CompetenceRecord, NewCompetenceRecord, RecordExpiry};
use esr_core::passcode::{Outbox, PasscodeKey, PasscodeKeys, PasscodePolicy};
use esr_core::people::{NewPerson, PasswordHashing, PersonName};
use esr_core::{Actor, Config, Error, Esr, ManualClock, Store, VpdCode, org::TrustSettings};
use esr_postgres::{PgConfig, PostgresStore};
use esr_sqlite::SqliteStore;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USERS: usize = 32;

/// Operations refused with `Error::Busy` (this process).
static BUSY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("store_throughput failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn fail(e: impl std::fmt::Display) -> Error {
    Error::Storage(e.to_string())
}

fn vpd() -> VpdCode {
    "297".parse().expect("a VPD code")
}

fn service<S: Store>(
    store: S,
    seed: u64,
    day: u64,
) -> (Esr<S, ManualClock>, Arc<Outbox>, ManualClock) {
    // Each run on its own day: the send limits count the codes of earlier runs.
    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap() + esr_core::chrono::Days::new(day),
    );
    let outbox = Arc::new(Outbox::new());
    let esr = Esr::with_rng(store, clock.clone(), ChaCha20Rng::seed_from_u64(seed))
        .with_config(Config {
            password_hashing: PasswordHashing::insecure_fast_for_tests(),
            passcodes: PasscodePolicy {
                max_sends: 100,
                send_window: esr_core::chrono::TimeDelta::minutes(1),
                min_resend_interval: esr_core::chrono::TimeDelta::zero(),
                ..PasscodePolicy::default()
            },
            ..Config::default()
        })
        .expect("a valid configuration")
        .with_passcode_keys(PasscodeKeys::new(
            PasscodeKey::new("bench-1", b"key-42-abcdefghijklmnopqrstuvwxy").expect("a key"),
        ))
        .with_sms_sender(outbox.clone());
    (esr, outbox, clock)
}

fn employee(i: usize) -> String {
    format!("3{i:07}")
}

fn number(i: usize) -> String {
    format!("07700 900{i:03}")
}

/// The trust and its users.
fn populate<S: Store>(store: S) -> Result<(), Error> {
    let (esr, _, _) = service(store, 1, 0);
    let system = Actor::system("bench")?;
    esr.create_trust(vpd(), "Bench Trust", TrustSettings::default())?;
    esr.add_org_unit(&system, vpd(), "HQ".parse()?, "HQ", None)?;
    for i in 0..USERS * 4 {
        let person = esr.add_person(
            &system,
            vpd(),
            NewPerson {
                employee_number: employee(i).parse()?,
                name: PersonName::new("Bea", &format!("Bench{}", (b'a' + (i % 26) as u8) as char))?,
                date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(),
                recruitment_email: format!("bench{i}@nhs.net").parse()?,
            },
        )?;
        esr.set_password(
            &system,
            &person.username,
            &esr_core::people::Password::new("correct horse battery staple"),
        )?;
        esr.add_assignment(
            &system,
            vpd(),
            esr_core::people::NewAssignment {
                number: employee(i).parse()?,
                employee_number: person.employee_number.clone(),
                title: "Staff Nurse".into(),
                position: format!("{}|Staff Nurse|HQ|", vpd()).parse()?,
                org_unit: "HQ".parse()?,
                supervisor: None,
            },
        )?;
    }
    Ok(())
}

/// One worker's loop for `seconds`: returns its latencies in microseconds.
fn work<S: Store>(
    esr: &Esr<S, ManualClock>,
    outbox: &Outbox,
    clock: &ManualClock,
    op: &str,
    user: usize,
    seconds: f64,
) -> Result<Vec<u64>, Error> {
    let system = Actor::system("bench")?;
    let emp = employee(user).parse()?;
    let username = esr.person(vpd(), &emp)?.username;
    let card =
        esr_core::access::SmartcardAuthentication::verified_by_caller(&format!("CARD-{username}"))?;
    let session = esr.log_in_with_smartcard(&username, &card)?.id;
    let to = number(user).parse()?;
    let mut lat = Vec::new();
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let mut day = 0i64;
    while Instant::now() < end {
        // A second of the service's time per operation keeps each user within the send limit.
        clock.advance(esr_core::chrono::TimeDelta::seconds(1));
        let t = Instant::now();
        let r = match op {
            "passcode" => (|| {
                let c = esr.request_mobile_code(session, &number(user))?;
                let code = outbox.last_code_to(&to).ok_or_else(|| fail("no code"))?;
                esr.verify_passcode(session, &c.id, c.purpose, &code)
                    .map(drop)
            })(),
            _ => {
                day += 1;
                esr.record_competence(
                    &system,
                    vpd(),
                    &emp,
                    NewCompetenceRecord {
                        competence: "NHS|CSTF|Fire Safety - 1 Year|".parse()?,
                        // A new date each time (an update to write), cycling within the past
                        // (at thousands of writes a second, days since 2000 run past today).
                        achieved: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()
                            + esr_core::chrono::Days::new((day % 9_000) as u64),
                        expiry: RecordExpiry::Never,
                        level: CompetenceLevel::default(),
                    },
                )
                .map(drop)
            }
        };
        match r {
            Ok(()) => {}
            // A refusal for a held lock is a figure too: counted, not fatal.
            Err(Error::Busy { .. }) => {
                BUSY.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                continue;
            }
            Err(e) => return Err(e),
        }
        lat.push(t.elapsed().as_micros() as u64);
    }
    Ok(lat)
}

enum Backend {
    Sqlite(std::path::PathBuf),
    Postgres(PgConfig),
}

impl Backend {
    fn arg(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("sqlite:{}", p.display()),
            Self::Postgres(c) => format!(
                "postgres:{}:{}",
                c.schema.clone().unwrap_or_default(),
                c.url
            ),
        }
    }
    fn parse(s: &str) -> Self {
        if let Some(p) = s.strip_prefix("sqlite:") {
            Self::Sqlite(p.into())
        } else {
            let rest = s.strip_prefix("postgres:").expect("a backend");
            let (schema, url) = rest.split_once(':').expect("schema:url");
            let mut c = PgConfig::new(url);
            c.schema = Some(schema.to_owned());
            c.pool_size = 40;
            Self::Postgres(c)
        }
    }
}

/// Runs `threads` workers in this process (users from `first`); their latencies.
fn in_process(
    backend: &Backend,
    op: &str,
    threads: usize,
    first: usize,
    seconds: f64,
    day: u64,
) -> Result<Vec<u64>, Error> {
    fn go<S: Store + 'static>(
        store: S,
        op: &str,
        threads: usize,
        first: usize,
        seconds: f64,
        day: u64,
    ) -> Result<Vec<u64>, Error> {
        // A seed of its own per run: sessions of earlier runs are in the database.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let (esr, outbox, clock) = service(store, seed ^ first as u64, day);
        std::thread::scope(|s| {
            let hs: Vec<_> = (0..threads)
                .map(|t| {
                    let (esr, outbox, clock) = (&esr, &outbox, &clock);
                    s.spawn(move || work(esr, outbox, clock, op, first + t, seconds))
                })
                .collect();
            let mut all = Vec::new();
            for h in hs {
                all.extend(h.join().map_err(|_| fail("a worker panicked"))??);
            }
            Ok(all)
        })
    }
    match backend {
        Backend::Sqlite(p) => go(SqliteStore::open(p)?, op, threads, first, seconds, day),
        Backend::Postgres(c) => go(PostgresStore::open(c)?, op, threads, first, seconds, day),
    }
}

fn across_processes(
    backend: &Backend,
    op: &str,
    processes: usize,
    seconds: f64,
    day: u64,
) -> Result<Vec<u64>, Error> {
    let exe = std::env::current_exe().map_err(fail)?;
    // All started before any is waited for, so that they run at the same time.
    let children: Vec<_> = (0..processes)
        .map(|p| {
            Command::new(&exe)
                .args([
                    "--child",
                    &backend.arg(),
                    op,
                    &(p * 8).to_string(),
                    &seconds.to_string(),
                    &day.to_string(),
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
        })
        .collect();
    let mut all = Vec::new();
    for c in children {
        let out = c.and_then(|c| c.wait_with_output()).map_err(fail)?;
        if !out.status.success() {
            return Err(fail(String::from_utf8_lossy(&out.stderr)));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        BUSY.fetch_add(
            text.split_whitespace()
                .filter_map(|w| w.strip_prefix('b')?.parse::<u64>().ok())
                .sum(),
            std::sync::atomic::Ordering::Relaxed,
        );
        all.extend(
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .filter_map(|w| w.parse::<u64>().ok()),
        );
    }
    Ok(all)
}

fn summary(lat: &mut [u64], seconds: f64) -> String {
    let busy = BUSY.swap(0, std::sync::atomic::Ordering::Relaxed);
    lat.sort_unstable();
    let q = |f: f64| {
        lat.get(((lat.len() as f64 - 1.0) * f) as usize)
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    format!(
        "{:>8.0} ops/s  p50 {:>7.2} ms  p99 {:>7.2} ms  busy {busy}",
        lat.len() as f64 / seconds,
        q(0.5),
        q(0.99)
    )
}

fn bulk(backend: &Backend) -> Result<Duration, Error> {
    let records: Vec<CompetenceRecord> = (0..400_000)
        .map(|i| CompetenceRecord {
            vpd: vpd(),
            employee_number: format!("4{:07}", i / 10).parse().unwrap(),
            competence: format!("297|LOCAL|Bulk {}|", i % 10).parse().unwrap(),
            achieved: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            expiry: None,
            level: CompetenceLevel::default(),
        })
        .collect();
    let t = Instant::now();
    match backend {
        Backend::Sqlite(p) => {
            SqliteStore::open(p)?.transaction(|tx| tx.put_competence_records(&records))?
        }
        Backend::Postgres(c) => {
            PostgresStore::open(c)?.transaction(|tx| tx.put_competence_records(&records))?
        }
    }
    Ok(t.elapsed())
}

fn run() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        let backend = Backend::parse(&args[1]);
        let first: usize = args[3].parse().map_err(fail)?;
        let seconds: f64 = args[4].parse().map_err(fail)?;
        let day: u64 = args[5].parse().map_err(fail)?;
        let lat = in_process(&backend, &args[2], 1, first, seconds, day)?;
        println!(
            "b{} {}",
            BUSY.load(std::sync::atomic::Ordering::Relaxed),
            lat.iter().map(u64::to_string).collect::<Vec<_>>().join(" ")
        );
        return Ok(());
    }
    let mut url = std::env::var("ESR_POSTGRES_URL").ok();
    let mut seconds = 2.0;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--postgres" => url = it.next().cloned(),
            "--seconds" => {
                seconds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| fail("--seconds N"))?
            }
            other => {
                return Err(fail(format!(
                    "unknown argument {other}; usage: store_throughput --postgres URL [--seconds S]"
                )));
            }
        }
    }
    let url = url.ok_or_else(|| fail("give --postgres URL (or set ESR_POSTGRES_URL)"))?;
    let dir = std::env::temp_dir().join(format!("esr-throughput-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(fail)?;
    let stamp = std::process::id();
    let mut pg = PgConfig::new(url);
    pg.schema = Some(format!("throughput_{stamp}"));
    pg.pool_size = 40;
    let backends = [
        ("SQLite", Backend::Sqlite(dir.join("bench.db"))),
        ("PostgreSQL", Backend::Postgres(pg)),
    ];
    for (_, b) in &backends {
        match b {
            Backend::Sqlite(p) => populate(SqliteStore::open(p)?)?,
            Backend::Postgres(c) => populate(PostgresStore::open(c)?)?,
        }
    }
    let mut day = 0;
    println!("| operation | where | store | throughput and latency |");
    println!("|---|---|---|---|");
    for op in ["passcode", "record_competence"] {
        let label = if op == "passcode" {
            "passcode issue+verify"
        } else {
            "record_competence"
        };
        for threads in [1, 8, 32] {
            for (name, b) in &backends {
                day += 1;
                let mut lat = in_process(b, op, threads, 0, seconds, day)?;
                println!(
                    "| {label} | 1 process, {threads} threads | {name} | {} |",
                    summary(&mut lat, seconds)
                );
            }
        }
        for processes in [1, 2, 4] {
            for (name, b) in &backends {
                day += 1;
                let mut lat = across_processes(b, op, processes, seconds, day)?;
                println!(
                    "| {label} | {processes} processes × 1 thread | {name} | {} |",
                    summary(&mut lat, seconds)
                );
            }
        }
    }
    for (name, b) in &backends {
        let t = bulk(b)?;
        println!(
            "| bulk import, 400,000 competence records (one transaction) | 1 process | {name} | {:.2} s ({:.0} rows/s) |",
            t.as_secs_f64(),
            400_000.0 / t.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
