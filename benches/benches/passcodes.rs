//! One-time passcodes on the in-memory store: the HMAC tag alone, and the service's issue and
//! verify (each a whole transaction: session and account checks, the challenge read and
//! written, the purpose carried out, and the audit entries chained).
//!
//! `cargo bench -p esr-benches --bench passcodes`

#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use esr_core::chrono::{TimeDelta, TimeZone, Utc};
use esr_core::{
    ChallengeId, Clock, Config, Esr, InMemoryStore, ManualClock, SessionId, Username,
    access::SmartcardAuthentication, org::TrustSettings, passcode::Binding, passcode::Outbox,
    passcode::PasscodeKey, passcode::PasscodeKeys, passcode::PasscodePolicy, passcode::Purpose,
    people::PasswordHashing,
};
use esr_examples::{TrustSpec, build_trust};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::cell::RefCell;
use std::hint::black_box;
use std::sync::Arc;

const NUMBER: &str = "07700 900374";

struct Bench {
    esr: Esr<InMemoryStore, ManualClock>,
    clock: ManualClock,
    outbox: Arc<Outbox>,
    user: Username,
    session: RefCell<SessionId>,
    logged_in_at: RefCell<esr_core::chrono::DateTime<Utc>>,
}

impl Bench {
    fn new() -> Self {
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 7, 30, 0).unwrap());
        let outbox = Arc::new(Outbox::new());
        let esr = Esr::with_rng(
            InMemoryStore::new(),
            clock.clone(),
            ChaCha20Rng::seed_from_u64(3),
        )
        .with_config(Config {
            password_hashing: PasswordHashing::insecure_fast_for_tests(),
            // The default limits (5 sends in 10 minutes): the clock moves 2 minutes and a
            // second before each code, so the loop stays within them, as a real user does.
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
        let card = SmartcardAuthentication::verified_by_caller("BENCH").unwrap();
        let session = esr.log_in_with_smartcard(&user, &card).unwrap().id;
        let now = clock.now();
        Self {
            esr,
            clock,
            outbox,
            user,
            session: RefCell::new(session),
            logged_in_at: RefCell::new(now),
        }
    }

    /// The HSCN session, renewed before it expires.
    fn session(&self) -> SessionId {
        if self.clock.now() - *self.logged_in_at.borrow() > TimeDelta::hours(11) {
            let card = SmartcardAuthentication::verified_by_caller("BENCH").unwrap();
            *self.session.borrow_mut() = self
                .esr
                .log_in_with_smartcard(&self.user, &card)
                .unwrap()
                .id;
            *self.logged_in_at.borrow_mut() = self.clock.now();
        }
        *self.session.borrow()
    }

    /// Issues a mobile-confirmation code; returns it with its challenge.
    fn issue(&self) -> (ChallengeId, Purpose, String) {
        self.clock.advance(TimeDelta::seconds(121));
        let c = self
            .esr
            .request_mobile_code(self.session(), NUMBER)
            .unwrap();
        let code = self.outbox.last_code_to(&NUMBER.parse().unwrap()).unwrap();
        (c.id, c.purpose, code)
    }

    /// Verifies a fresh right code (clearing the consecutive-failure count), then issues one.
    fn issue_after_a_success(&self) -> (ChallengeId, Purpose, String) {
        let (id, purpose, code) = self.issue();
        let out = self
            .esr
            .verify_passcode(self.session(), &id, purpose, &code)
            .unwrap();
        assert!(out.is_approved());
        self.issue()
    }
}

fn primitives(c: &mut Criterion) {
    let key = PasscodeKey::new("bench", b"key-11-abcdefghijklmnopqrstuvwxy").unwrap();
    let id = ChallengeId::from_bytes([7; 16]);
    let user: Username = "297JSMITH01".parse().unwrap();
    let session = "0123456789abcdef".parse().unwrap();
    let binding = Binding {
        challenge: &id,
        vpd: "297".parse().unwrap(),
        username: &user,
        session: Some(&session),
        purpose: Purpose::UpgradeSession,
    };
    let stored = key.tag(&binding, b"123456");
    c.bench_function("passcode/tag+compare", |b| {
        b.iter(|| {
            key.tag(black_box(&binding), black_box(b"123456"))
                .matches(&stored)
        })
    });
}

fn service(c: &mut Criterion) {
    let bench = Bench::new();
    c.bench_function("passcode/issue (service, in memory)", |b| {
        b.iter_batched(
            || bench.clock.advance(TimeDelta::seconds(121)),
            |()| {
                bench
                    .esr
                    .request_mobile_code(bench.session(), black_box(NUMBER))
                    .unwrap()
            },
            BatchSize::PerIteration,
        )
    });
    c.bench_function("passcode/verify right code (service, in memory)", |b| {
        b.iter_batched(
            || bench.issue(),
            |(id, purpose, code)| {
                let out = bench
                    .esr
                    .verify_passcode(bench.session(), &id, purpose, &code)
                    .unwrap();
                assert!(out.is_approved());
                out
            },
            BatchSize::PerIteration,
        )
    });
    c.bench_function("passcode/verify wrong code (service, in memory)", |b| {
        b.iter_batched(
            || bench.issue_after_a_success(),
            |(id, purpose, code)| {
                let wrong = if code == "000000" { "000001" } else { "000000" };
                let out = bench
                    .esr
                    .verify_passcode(bench.session(), &id, purpose, wrong)
                    .unwrap();
                assert!(!out.is_approved());
                out
            },
            BatchSize::PerIteration,
        )
    });
}

criterion_group!(benches, primitives, service);
criterion_main!(benches);
