//! The foundation's hot paths: parsing usernames, deciding access, opening the session
//! context, and verifying the audit trail.
//!
//! `cargo bench -p esr-benches --bench foundation`

#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use esr_core::chrono::{TimeZone, Utc};
use esr_core::{
    Esr, InMemoryStore, ManualClock, Username, access::AccessContext, access::Channel,
    access::SmartcardAuthentication, access::allowed_functions, access::decide, org::TrustSettings,
    urp::Function, urp::Urp,
};
use esr_examples::{TrustSpec, build_trust};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::collections::BTreeSet;
use std::hint::black_box;

fn parsing(c: &mut Criterion) {
    c.bench_function("username/parse", |b| {
        b.iter(|| black_box("297ECONROY01").parse::<Username>().unwrap())
    });
    c.bench_function("username/stem", |b| {
        b.iter(|| {
            esr_core::values::username::UsernameStem::from_names(
                black_box("Seán"),
                black_box("O'Brien-Ó Súilleabháin"),
            )
            .unwrap()
        })
    });
}

fn access(c: &mut Criterion) {
    let held = BTreeSet::from([
        Urp::EmployeeSelfService,
        Urp::ManagerSelfServicePayrollApprovalsRequired,
    ]);
    let settings = TrustSettings {
        automatic_internet_access: true,
        upgrade_access: esr_core::org::UpgradeAccess {
            manager: true,
            professional: false,
        },
        ..TrustSettings::default()
    };
    let ctx = AccessContext {
        held: &held,
        channel: Channel::Internet,
        upgraded: true,
        settings: &settings,
        internet_access: true,
    };
    c.bench_function("access/decide", |b| {
        b.iter(|| decide(black_box(Function::TeamCompliance), black_box(&ctx)))
    });
    c.bench_function("access/allowed_functions", |b| {
        b.iter(|| allowed_functions(black_box(&ctx)))
    });
}

fn service(c: &mut Criterion) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap());
    let esr = Esr::with_rng(InMemoryStore::new(), clock, ChaCha20Rng::seed_from_u64(1));
    let spec = TrustSpec {
        vpd: "297".parse().unwrap(),
        name: "Bench Trust".into(),
        ward_staff: 3_000,
        ward_size: 30,
        seed: 7,
    };
    let t = build_trust(&esr, &spec, TrustSettings::default()).unwrap();
    let card = SmartcardAuthentication::verified_by_caller("bench").unwrap();
    let session = esr
        .log_in_with_smartcard(&t.ward_managers[0].username, &card)
        .unwrap();
    c.bench_function("service/functions (3,000-staff trust)", |b| {
        b.iter(|| esr.functions(black_box(session.id)).unwrap())
    });
    c.bench_function("service/team (30 reports)", |b| {
        b.iter(|| esr.team(black_box(session.id)).unwrap())
    });
    let head = esr.verify_audit(t.vpd).unwrap();
    let mut g = c.benchmark_group("audit");
    g.throughput(criterion::Throughput::Elements(head.seq));
    g.sample_size(20);
    g.bench_function(format!("verify ({} entries)", head.seq), |b| {
        b.iter_batched(
            || (),
            |_| esr.verify_audit(t.vpd).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, parsing, access, service);
criterion_main!(benches);
