//! The bulk compliance scorer on an NHS-scale workforce (1.4 million staff, about 1.6 million
//! assignments, about 20 million holdings), on one thread and on every core; throughput is in
//! holdings scored per second.
//!
//! `cargo bench -p esr-benches --bench compliance`

#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use esr_core::chrono::NaiveDate;
use esr_core::{compliance::AmberWindow, compliance::score_compliance_with_threads};
use esr_examples::{WorkforceSpec, generate_workforce};
use std::hint::black_box;
use std::num::NonZeroUsize;
use std::time::Instant;

fn bulk(c: &mut Criterion) {
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let started = Instant::now();
    let w = generate_workforce(&WorkforceSpec::nhs(2026, as_of), cores).unwrap();
    eprintln!(
        "generated {} assignments, {} requirements, {} holdings in {:.2?} on {cores} thread(s)",
        w.assignment_id.len(),
        w.requirement_position.len(),
        w.holding_person.len(),
        started.elapsed()
    );
    let mut g = c.benchmark_group("compliance/bulk_nhs");
    g.sample_size(10);
    g.throughput(Throughput::Elements(w.holding_person.len() as u64));
    let mut threads: Vec<usize> = vec![1];
    if cores > 1 {
        threads.push(cores);
    }
    for t in threads {
        let n = NonZeroUsize::new(t).unwrap();
        g.bench_function(format!("threads={t}"), |b| {
            b.iter(|| {
                score_compliance_with_threads(
                    black_box(w.assignments()),
                    black_box(w.requirements()),
                    black_box(w.holdings()),
                    as_of,
                    AmberWindow::ESR,
                    n,
                )
                .unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bulk);
criterion_main!(benches);
