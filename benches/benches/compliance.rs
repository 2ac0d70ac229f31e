//! The bulk compliance scorer on an NHS-scale workforce (1.4 million staff, about 1.6 million
//! assignments, about 20 million holdings), on one thread and on every core; throughput is in
//! holdings scored per second.
//!
//! `files`: the same scoring on the Parquet files bindings/python/benches/parquet_files.py
//! writes (ESR_BENCH_FILES=target/bench-cache/workforce-1400000-2026): the core scoring the
//! decoded chunks in memory (what a warm `esr.score_compliance` on `pq.read_table` tables
//! does, to compare with it), and `esr_files::score_files` from the files.
//!
//! `cargo bench -p esr-benches --bench compliance`

#![allow(missing_docs, clippy::unwrap_used)]

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use esr_core::chrono::NaiveDate;
use esr_core::compliance::{
    AmberWindow, AssignmentColumns, HoldingColumns, RequirementColumns, Validity,
    score_compliance_parts, score_compliance_with_threads,
};
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

/// Integer ids of a column's batches as i64 chunks (int64 borrowed as they are).
fn i64_chunks(batches: &[RecordBatch], col: usize) -> Vec<Vec<i64>> {
    batches
        .iter()
        .map(|b| {
            let c = b.column(col);
            match c.as_primitive_opt::<Int64Type>() {
                Some(a) => a.values().to_vec(),
                None => c
                    .as_primitive::<Int32Type>()
                    .values()
                    .iter()
                    .map(|&v| i64::from(v))
                    .collect(),
            }
        })
        .collect()
}

fn files(c: &mut Criterion) {
    let Some(dir) = std::env::var_os("ESR_BENCH_FILES") else {
        eprintln!("files: set ESR_BENCH_FILES to a directory parquet_files.py wrote");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let cores = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
    let path = |t: &str| dir.join(format!("{t}.parquet"));
    let read = |t: &str, cols: &[&str]| {
        esr_files::Source::open(&path(t), t, cols)
            .unwrap()
            .read_all(cores.get(), None)
            .unwrap()
    };
    let a = read("assignments", &esr_files::ASSIGNMENT_COLUMNS);
    let r = read("requirements", &esr_files::REQUIREMENT_COLUMNS);
    let h = read("holdings", &esr_files::HOLDING_COLUMNS);
    let (aid, ap, apos) = (i64_chunks(&a, 0), i64_chunks(&a, 1), i64_chunks(&a, 2));
    let (rp, rc) = (i64_chunks(&r, 0), i64_chunks(&r, 1));
    let (rp, rc) = (rp.concat(), rc.concat());
    let (hp, hc) = (i64_chunks(&h, 0), i64_chunks(&h, 1));
    let assignments: Vec<AssignmentColumns<'_, i64>> = (0..a.len())
        .map(|k| AssignmentColumns {
            assignment_id: &aid[k],
            person_id: &ap[k],
            position_id: &apos[k],
        })
        .collect();
    let holdings: Vec<HoldingColumns<'_, i64>> = (0..h.len())
        .map(|k| {
            let e = h[k].column(2).as_primitive::<Date32Type>();
            HoldingColumns {
                person_id: &hp[k],
                competency_id: &hc[k],
                expiry: e.values(),
                expiry_validity: e
                    .nulls()
                    .map(|n| Validity::new(n.inner().values(), n.inner().offset())),
            }
        })
        .collect();
    let rows: usize = holdings.iter().map(|h| h.len()).sum();
    eprintln!(
        "files: {} holdings in {} chunks, {} assignments in {} chunks",
        rows,
        holdings.len(),
        ap.iter().map(Vec::len).sum::<usize>(),
        assignments.len()
    );
    let mut g = c.benchmark_group("compliance/bulk_files");
    g.sample_size(10);
    g.throughput(Throughput::Elements(rows as u64));
    let req = RequirementColumns {
        position_id: &rp,
        competency_id: &rc,
    };
    g.bench_function(format!("chunks_in_memory/threads={cores}"), |b| {
        b.iter(|| {
            score_compliance_parts(
                black_box(&assignments),
                req,
                black_box(&holdings[..]),
                as_of,
                AmberWindow::ESR,
                cores,
            )
            .unwrap()
        })
    });
    g.bench_function(format!("score_files/threads={cores}"), |b| {
        b.iter(|| {
            esr_files::score_files(
                &path("assignments"),
                &path("requirements"),
                &path("holdings"),
                as_of,
                AmberWindow::ESR,
                cores,
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bulk, files);
criterion_main!(benches);
