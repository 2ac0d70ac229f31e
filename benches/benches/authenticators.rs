//! Authenticator apps (TOTP) on the in-memory store: the code check alone (three HMAC-SHA1
//! steps of the ±1 window, compared in constant time), and the service's upgrade with a code
//! (a whole transaction: session and upgrade checks, the secret opened, the replay guard
//! advanced, the session upgraded and the audit entries chained).
//!
//! `cargo bench -p esr-benches --bench authenticators`

#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use esr_core::authenticator::{AuthenticatorKey, AuthenticatorKeys, Totp, TotpParams, TotpSecret};
use esr_core::chrono::{TimeDelta, TimeZone, Utc};
use esr_core::{
    Actor, Clock, Config, Esr, InMemoryStore, ManualClock, access::SmartcardAuthentication,
    org::TrustSettings, org::UpgradeAccess, people::Password, people::PasswordHashing,
};
use esr_examples::{TrustSpec, build_trust};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::hint::black_box;

fn rules(c: &mut Criterion) {
    let app = Totp::new(
        TotpSecret::from_bytes(b"12345678901234567890").unwrap(),
        TotpParams::default(),
        "Bench",
        "297JSMITH01",
    )
    .unwrap();
    let now = 1_795_338_000;
    let right = app.code_at(now);
    let wrong = if right == "000000" {
        "000001"
    } else {
        "000000"
    };
    c.bench_function("totp/check right code (±1 step)", |b| {
        b.iter(|| app.check(black_box(&right), black_box(now), 1, None))
    });
    c.bench_function("totp/check wrong code (±1 step)", |b| {
        b.iter(|| app.check(black_box(wrong), black_box(now), 1, None))
    });
}

fn service(c: &mut Criterion) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 7, 30, 0).unwrap());
    let esr = Esr::with_rng(
        InMemoryStore::new(),
        clock.clone(),
        ChaCha20Rng::seed_from_u64(3),
    )
    .with_config(Config {
        password_hashing: PasswordHashing::insecure_fast_for_tests(),
        ..Config::default()
    })
    .unwrap()
    .with_authenticator_keys(AuthenticatorKeys::new(
        AuthenticatorKey::new("bench", b"totp-11-abcdefghijklmnopqrstuvwx").unwrap(),
    ));
    let spec = TrustSpec {
        vpd: "297".parse().unwrap(),
        name: "Bench Trust".into(),
        ward_staff: 60,
        ward_size: 30,
        seed: 1,
    };
    let settings = TrustSettings {
        automatic_internet_access: true,
        upgrade_access: UpgradeAccess {
            manager: true,
            professional: false,
        },
        ..TrustSettings::default()
    };
    let t = build_trust(&esr, &spec, settings).unwrap();
    let manager = t.ward_managers[0].username.clone();
    let pw = Password::new("Bench password, 2026!");
    esr.set_password(&Actor::system("bench").unwrap(), &manager, &pw)
        .unwrap();
    let card = SmartcardAuthentication::verified_by_caller("BENCH").unwrap();
    let hscn = esr.log_in_with_smartcard(&manager, &card).unwrap().id;
    let e = esr.enrol_authenticator(hscn).unwrap();
    let app = Totp::from_uri(e.uri().expose()).unwrap();
    let now = || clock.now().timestamp();
    assert!(
        esr.confirm_authenticator(hscn, &app.code_at(now()))
            .unwrap()
            .is_approved()
    );
    let username = manager.to_string();
    // Each iteration: a new internet session, the clock on two steps, its code. Two, not one:
    // when a code happens to equal the next step's too (one time in a million), the latest
    // matching step is the one taken (so that the typed code cannot be used again), and the
    // next step's code would then be refused as a replay, as it is for a person, who waits
    // for the next code. A run has hundreds of thousands of iterations.
    let next = || {
        clock.advance(TimeDelta::seconds(60));
        let s = esr.log_in_with_password(&username, &pw).unwrap().id;
        (s, app.code_at(now()))
    };
    c.bench_function("totp/upgrade with a right code (service, in memory)", |b| {
        b.iter_batched(
            next,
            |(s, code)| {
                let out = esr.upgrade_with_authenticator(s, &code).unwrap();
                assert!(out.is_approved(), "{}", out.as_str());
                out
            },
            BatchSize::PerIteration,
        )
    });
    c.bench_function("totp/replayed code refused (service, in memory)", |b| {
        b.iter_batched(
            || {
                let (s, code) = next();
                assert!(
                    esr.upgrade_with_authenticator(s, &code)
                        .unwrap()
                        .is_approved()
                );
                (esr.log_in_with_password(&username, &pw).unwrap().id, code)
            },
            |(s, code)| {
                let out = esr.upgrade_with_authenticator(s, &code).unwrap();
                assert!(!out.is_approved());
                out
            },
            BatchSize::PerIteration,
        )
    });
}

criterion_group!(benches, rules, service);
criterion_main!(benches);
