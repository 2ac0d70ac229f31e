//! Passcode issue+verify on SQLite from 1, 8 and 32 threads of one process sharing one store
//! (`esr-sqlite` with its default settings: WAL, `synchronous = FULL`), each thread a user of its
//! own with its own HSCN session and mobile number. The time reported is per issue+verify pair
//! (three write transactions since issue 18: the challenge with its outbox row, the text marked
//! delivered by the relay after commit, the verification) across all threads: its inverse is
//! the store's throughput.
//!
//! A second group does the same with `synchronous = NORMAL`, the default before issue 18, so
//! that figures from before it compare like with like.
//!
//! `cargo bench -p esr-benches --bench storage_threads`

#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use esr_core::chrono::{DateTime, TimeDelta, TimeZone, Utc};
use esr_core::{
    Clock, Config, Esr, Username, access::SmartcardAuthentication, org::TrustSettings,
    passcode::Outbox, passcode::PasscodeKey, passcode::PasscodeKeys, passcode::PasscodePolicy,
    people::PasswordHashing,
};
use esr_examples::{TrustSpec, build_trust};
use esr_sqlite::{SqliteConfig, SqliteStore, Synchronous};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

thread_local! {
    /// Each thread's own time: its user's rate limits and session idle time see only its own
    /// steps, as if each user had the service to themselves.
    static OFFSET: Cell<i64> = const { Cell::new(0) };
}

/// A clock per thread, from a common start.
#[derive(Clone, Copy)]
struct ThreadClock;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 7, 30, 0).unwrap()
}

impl Clock for ThreadClock {
    fn now(&self) -> DateTime<Utc> {
        start() + TimeDelta::seconds(OFFSET.with(Cell::get))
    }
}

fn advance(seconds: i64) {
    OFFSET.with(|o| o.set(o.get() + seconds));
}

struct Shared {
    esr: Esr<SqliteStore, ThreadClock>,
    outbox: Arc<Outbox>,
    users: Vec<Username>,
    /// Each user's time, kept between the threads that act as them.
    offsets: Vec<AtomicI64>,
}

fn shared(dir: &tempfile::TempDir, synchronous: Synchronous) -> Shared {
    let outbox = Arc::new(Outbox::new());
    let store = SqliteStore::open_with(
        dir.path().join(format!("threads-{synchronous:?}.db")),
        &SqliteConfig {
            synchronous,
            ..SqliteConfig::default()
        },
    )
    .unwrap();
    let esr = Esr::with_rng(store, ThreadClock, ChaCha20Rng::seed_from_u64(3))
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
    let users = t
        .staff
        .iter()
        .take(32)
        .map(|m| m.username.clone())
        .collect();
    Shared {
        esr,
        outbox,
        users,
        offsets: (0..32).map(|_| AtomicI64::new(0)).collect(),
    }
}

/// `pairs` issue+verify pairs by the thread's user `n`; the time they took.
fn run(s: &Shared, n: usize, pairs: u64) -> Duration {
    OFFSET.with(|o| o.set(s.offsets[n].load(Ordering::SeqCst)));
    let number = format!("07700 900{:03}", 100 + n);
    let user = &s.users[n];
    let card = SmartcardAuthentication::verified_by_caller("BENCH").unwrap();
    let mut session = s.esr.log_in_with_smartcard(user, &card).unwrap();
    let began = Instant::now();
    for _ in 0..pairs {
        advance(121);
        if ThreadClock.now() - session.started_at > TimeDelta::hours(11) {
            session = s.esr.log_in_with_smartcard(user, &card).unwrap();
        }
        let c = s.esr.request_mobile_code(session.id, &number).unwrap();
        let code = s.outbox.last_code_to(&number.parse().unwrap()).unwrap();
        let out = s
            .esr
            .verify_passcode(session.id, &c.id, c.purpose, &code)
            .unwrap();
        assert!(out.is_approved());
    }
    let took = began.elapsed();
    s.offsets[n].store(OFFSET.with(Cell::get), Ordering::SeqCst);
    took
}

fn threads(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    // The default (FULL), and NORMAL: the default before issue 18, for comparison with it.
    for (group, synchronous) in [
        ("passcode_issue_verify_sqlite_threads", Synchronous::Full),
        (
            "passcode_issue_verify_sqlite_threads_sync_normal",
            Synchronous::Normal,
        ),
    ] {
        group_of(c, &dir, group, synchronous);
    }
}

fn group_of(c: &mut Criterion, dir: &tempfile::TempDir, group: &str, synchronous: Synchronous) {
    let s = shared(dir, synchronous);
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    for threads in [1usize, 8, 32] {
        g.bench_function(threads.to_string(), |b| {
            b.iter_custom(|iters| {
                let each = iters.div_ceil(threads as u64).max(1);
                let began = Instant::now();
                std::thread::scope(|scope| {
                    for n in 0..threads {
                        let s = &s;
                        scope.spawn(move || run(s, n, each));
                    }
                });
                // Per pair: the wall time over every pair all threads made.
                began
                    .elapsed()
                    .mul_f64(iters as f64 / (each * threads as u64) as f64)
            })
        });
        s.outbox.clear();
    }
    g.finish();
}

criterion_group!(benches, threads);
criterion_main!(benches);
