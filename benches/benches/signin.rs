//! Sign-in timing (issue 17): whether the time of an answer tells an attacker anything.
//!
//! - A wrong password for an active, a locked, a suspended and an unknown account, with the
//!   default (production) Argon2id cost: the answers must take the same time.
//! - An account-recovery request that matches an account and one that matches nothing, on the
//!   in-memory store and on SQLite: the answers must take the same time.
//!
//! First it prints the medians over `ESR_SIGNIN_TRIES` tries of each (1,000 by default, the
//! cases interleaved so that drift hits all alike) and each one's ratio to the first case, then
//! criterion measures the same calls.
//!
//! `cargo bench -p esr-benches --bench signin`
//! (`ESR_SIGNIN_TRIES=200 cargo bench -p esr-benches --bench signin -- --quick` for a short run)

#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use esr_core::chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use esr_core::org::TrustSettings;
use esr_core::passcode::{Outbox, PasscodeKey, PasscodeKeys, PasscodePolicy};
use esr_core::people::{NewPerson, Password, PersonName};
use esr_core::store::Store;
use esr_core::values::{Clock, ManualClock, VpdCode};
use esr_core::{Actor, Config, Esr, InMemoryStore};
use esr_sqlite::{SqliteConfig, SqliteStore, Synchronous};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";
const WRONG: &str = "not the password at all";

fn dob() -> NaiveDate {
    NaiveDate::from_ymd_opt(1985, 3, 14).unwrap()
}

struct World<S: Store> {
    esr: Esr<S, ManualClock>,
    clock: ManualClock,
    vpd: VpdCode,
    active: String,
    locked: String,
    suspended: String,
}

/// A trust with an active, a locked and a suspended account, on `store`, with the production
/// password cost and the given recovery answer time.
fn world<S: Store>(store: S, recovery_answer_time: Duration) -> World<S> {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 7, 30, 0).unwrap());
    let outbox = Arc::new(Outbox::new());
    let esr = Esr::with_rng(store, clock.clone(), ChaCha20Rng::seed_from_u64(17))
        .with_config(Config {
            // Many failures without locking the "active" account between its resets.
            max_failed_logins: 100,
            recovery_answer_time,
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
            PasscodeKey::new("bench", b"key-11-abcdefghijklmnopqrstuvwxy").unwrap(),
        ))
        .with_email_sender(outbox.clone())
        .with_sms_sender(outbox);
    let vpd: VpdCode = "297".parse().unwrap();
    let feed = Actor::system("bench set-up").unwrap();
    esr.create_trust(
        vpd,
        "Bench Trust",
        TrustSettings {
            automatic_internet_access: true,
            ..TrustSettings::default()
        },
    )
    .unwrap();
    esr.add_org_unit(&feed, vpd, "HQ".parse().unwrap(), "HQ", None)
        .unwrap();
    let mut names = Vec::new();
    for (i, (given, family)) in [("Ann", "Active"), ("Lou", "Locked"), ("Sue", "Suspended")]
        .into_iter()
        .enumerate()
    {
        let p = esr
            .add_person(
                &feed,
                vpd,
                NewPerson {
                    employee_number: format!("2970000{}", i + 1).parse().unwrap(),
                    name: PersonName::new(given, family).unwrap(),
                    date_of_birth: dob(),
                    recruitment_email: format!("{}@nhs.net", given.to_lowercase()).parse().unwrap(),
                },
            )
            .unwrap();
        esr.set_password(&feed, &p.username, &Password::new(PASSWORD))
            .unwrap();
        names.push(p.username);
    }
    for _ in 0..100 {
        let _ = esr.log_in_with_password(&names[1].to_string(), &Password::new(WRONG));
    }
    esr.suspend_account(&feed, &names[2], "investigation")
        .unwrap();
    World {
        esr,
        clock,
        vpd,
        active: names[0].to_string(),
        locked: names[1].to_string(),
        suspended: names[2].to_string(),
    }
}

fn tries() -> usize {
    std::env::var("ESR_SIGNIN_TRIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Times `cases` round-robin `n` times each and prints each median and its ratio to the
/// first's.
fn report(title: &str, n: usize, cases: &mut [(&str, &mut dyn FnMut())]) {
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(n); cases.len()];
    for _ in 0..n {
        for (i, (_, f)) in cases.iter_mut().enumerate() {
            let t = Instant::now();
            f();
            times[i].push(t.elapsed());
        }
    }
    let medians: Vec<Duration> = times.into_iter().map(median).collect();
    println!("\n{title} (median of {n} tries each)");
    for ((name, _), m) in cases.iter().zip(&medians) {
        println!(
            "  {name:<28} {:>10.3} ms   ratio {:.3}",
            m.as_secs_f64() * 1e3,
            m.as_secs_f64() / medians[0].as_secs_f64()
        );
    }
}

fn wrong_login<S: Store>(w: &World<S>, who: &str) {
    let r = w.esr.log_in_with_password(who, &Password::new(WRONG));
    assert!(
        matches!(r, Err(esr_core::Error::InvalidCredentials)),
        "{r:?}"
    );
}

/// Keeps the "active" account active: a right password clears its failures before they
/// reach the lockout (not timed).
fn reset_active<S: Store>(w: &World<S>) {
    let username = w.active.parse().unwrap();
    if w.esr.account(&username).unwrap().failed_logins >= 90 {
        w.esr
            .log_in_with_password(&w.active, &Password::new(PASSWORD))
            .unwrap();
    }
}

fn recovery<S: Store>(w: &World<S>, email: &str) {
    // A second on, so that the send limits and the flood window behave as in real use.
    w.clock.advance(TimeDelta::seconds(1));
    black_box(
        w.esr
            .request_username_reminder(w.vpd, email, dob())
            .unwrap(),
    );
}

fn signin(c: &mut Criterion) {
    let n = tries();
    let w = world(InMemoryStore::new(), Duration::from_millis(20));
    {
        let mut active = || {
            wrong_login(&w, &w.active);
            reset_active(&w);
        };
        let mut locked = || wrong_login(&w, &w.locked);
        let mut suspended = || wrong_login(&w, &w.suspended);
        let mut unknown = || wrong_login(&w, "297NOBODY01");
        report(
            "log-in with a wrong password, production Argon2id cost",
            n,
            &mut [
                ("active account", &mut active),
                ("locked account", &mut locked),
                ("suspended account", &mut suspended),
                ("unknown username", &mut unknown),
            ],
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open_with(
        dir.path().join("signin.db"),
        &SqliteConfig {
            synchronous: Synchronous::Normal,
            ..SqliteConfig::default()
        },
    )
    .unwrap();
    let ws = world(sqlite, Duration::from_millis(20));
    {
        let mut matched = || recovery(&w, "ann@nhs.net");
        let mut unmatched = || recovery(&w, "nobody@nhs.net");
        let mut matched_sql = || recovery(&ws, "ann@nhs.net");
        let mut unmatched_sql = || recovery(&ws, "nobody@nhs.net");
        report(
            "account recovery, 20 ms answer time (default 150 ms)",
            n,
            &mut [
                ("matched, in memory", &mut matched),
                ("unmatched, in memory", &mut unmatched),
                ("matched, SQLite", &mut matched_sql),
                ("unmatched, SQLite", &mut unmatched_sql),
            ],
        );
    }
    // Without the answer time, for comparison: what the floor hides.
    let bare = world(InMemoryStore::new(), Duration::ZERO);
    {
        let mut matched = || recovery(&bare, "ann@nhs.net");
        let mut unmatched = || recovery(&bare, "nobody@nhs.net");
        report(
            "account recovery without an answer time (what it hides)",
            n,
            &mut [
                ("matched, in memory", &mut matched),
                ("unmatched, in memory", &mut unmatched),
            ],
        );
    }
    let _ = w.clock.now();

    let mut g = c.benchmark_group("login_wrong_password");
    g.sample_size(10);
    g.bench_function("active", |b| {
        b.iter(|| {
            wrong_login(&w, &w.active);
            reset_active(&w);
        })
    });
    g.bench_function("locked", |b| b.iter(|| wrong_login(&w, &w.locked)));
    g.bench_function("unknown", |b| b.iter(|| wrong_login(&w, "297NOBODY01")));
    g.finish();

    let mut g = c.benchmark_group("recovery_request");
    g.sample_size(10);
    g.bench_function("matched_memory", |b| b.iter(|| recovery(&w, "ann@nhs.net")));
    g.bench_function("unmatched_memory", |b| {
        b.iter(|| recovery(&w, "nobody@nhs.net"))
    });
    g.bench_function("matched_sqlite", |b| {
        b.iter(|| recovery(&ws, "ann@nhs.net"))
    });
    g.bench_function("unmatched_sqlite", |b| {
        b.iter(|| recovery(&ws, "nobody@nhs.net"))
    });
    g.finish();
}

criterion_group!(benches, signin);
criterion_main!(benches);
