//! The audit chain keyed (HMAC-SHA-256 under an audit key) against unkeyed (SHA-256): building
//! one entry, an audited change (one transaction appending one entry), and verifying a whole
//! trail of 10,000 entries, on the in-memory store and on SQLite.
//!
//! `cargo bench -p esr-benches --bench audit`

#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use esr_core::audit::{AuditActor, AuditEntry, AuditEvent, AuditHead, AuditKey, AuditKeys};
use esr_core::chrono::{TimeZone, Utc};
use esr_core::org::TrustSettings;
use esr_core::{Actor, Esr, ManualClock, Store, VpdCode};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::hint::black_box;

const ENTRIES: u64 = 10_000;

fn key() -> AuditKey {
    AuditKey::new("bench", b"bench-audit-key-0123456789abcdef").unwrap()
}

fn service<S: Store>(store: S, keyed: bool) -> Esr<S, ManualClock> {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap());
    let esr = Esr::with_rng(store, clock, ChaCha20Rng::seed_from_u64(1));
    if keyed {
        esr.with_audit_keys(AuditKeys::new(key()))
    } else {
        esr
    }
}

fn vpd() -> VpdCode {
    "297".parse().unwrap()
}

/// A trust whose trail holds `ENTRIES` entries.
fn filled<S: Store>(esr: &Esr<S, ManualClock>) {
    esr.create_trust(vpd(), "Bench", TrustSettings::default())
        .unwrap();
    let system = Actor::system("bench").unwrap();
    for i in 1..ENTRIES {
        esr.set_automatic_internet_access(&system, vpd(), i % 2 == 0)
            .unwrap();
    }
}

fn entry(c: &mut Criterion) {
    let k = key();
    let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    let mut g = c.benchmark_group("audit/entry");
    for keyed in [false, true] {
        let name = if keyed { "keyed" } else { "unkeyed" };
        g.bench_function(name, |b| {
            b.iter(|| {
                AuditEntry::after_keyed(
                    black_box(AuditHead::EMPTY),
                    vpd(),
                    at,
                    AuditActor::System("bench".into()),
                    AuditEvent::SettingChanged {
                        setting: "Automatic Internet Access".into(),
                        value: "Yes".into(),
                    },
                    keyed.then_some(&k),
                )
            })
        });
    }
    g.finish();
}

fn append_and_verify<S: Store>(c: &mut Criterion, store_name: &str, make: impl Fn() -> S) {
    let system = Actor::system("bench").unwrap();
    for keyed in [false, true] {
        let name = if keyed { "keyed" } else { "unkeyed" };
        let esr = service(make(), keyed);
        filled(&esr);
        let mut g = c.benchmark_group(format!("audit/{store_name}"));
        // Verification first, while the trail holds exactly `ENTRIES` entries (the append
        // benchmark then grows it).
        let head = esr.verify_audit(vpd()).unwrap();
        assert_eq!(head.seq, ENTRIES);
        g.throughput(Throughput::Elements(head.seq));
        g.sample_size(10);
        g.bench_function(format!("verify 10k entries ({name})"), |b| {
            b.iter(|| esr.verify_audit(vpd()).unwrap())
        });
        g.throughput(Throughput::Elements(1));
        g.sample_size(100);
        let mut on = false;
        g.bench_function(format!("append (audited change, {name})"), |b| {
            b.iter(|| {
                on = !on;
                esr.set_automatic_internet_access(&system, vpd(), on)
                    .unwrap()
            })
        });
        g.finish();
    }
}

fn memory(c: &mut Criterion) {
    append_and_verify(c, "memory", esr_core::InMemoryStore::new);
}

fn sqlite(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let n = std::cell::Cell::new(0);
    append_and_verify(c, "sqlite", || {
        n.set(n.get() + 1);
        esr_sqlite::SqliteStore::open(dir.path().join(format!("{}.db", n.get()))).unwrap()
    });
}

criterion_group!(benches, entry, memory, sqlite);
criterion_main!(benches);
