//! The bulk compliance scorer on an NHS-scale workforce (1.4 million staff, about 1.6 million
//! assignments, about 20 million holdings), on one thread and on every core; throughput is in
//! holdings scored per second.
//!
//! `files`: the same scoring on the Parquet files bindings/python/benches/parquet_files.py
//! writes (ESR_BENCH_FILES=target/bench-cache/workforce-1400000-2026): the core scoring the
//! decoded chunks in memory (what a warm `esr.score_compliance` on `pq.read_table` tables
//! does, to compare with it), and `esr_files::score_files` from the files.
//!
//! The `compliance/bulk_rules` group prices the service's full rules on the same workforce, side
//! by side on one thread: `position_only` is the three-table call; `full_rules` adds a
//! hierarchy of wards, directorates and the trust with requirements on units (inherited) and
//! jobs, desirable requirements, minimum levels with a level per holding, and equivalence
//! chains (a higher safeguarding level satisfying the lower ones).
//!
//! `cargo bench -p esr-benches --bench compliance`

#![allow(missing_docs, clippy::unwrap_used)]

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use esr_core::chrono::NaiveDate;
use esr_core::compliance::{
    AmberWindow, AssignmentColumns, BulkRules, EquivalenceColumns, HoldingColumns, OrgUnitColumns,
    RequirementColumns, RequirementOptions, TargetRequirementColumns, Validity,
    score_compliance_parts, score_compliance_with_rules, score_compliance_with_threads,
};
use esr_examples::{CSTF_BASE, ROLE_BASE, Workforce, WorkforceSpec, generate_workforce};
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
                level: None,
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

/// The columns the full rules read, derived from a generated workforce.
struct Extras {
    a_unit: Vec<i64>,
    a_job: Vec<i64>,
    r_essential: Vec<bool>,
    r_min: Vec<u8>,
    units: Vec<i64>,
    parents: Vec<i64>,
    u_target: Vec<i64>,
    u_comp: Vec<i64>,
    u_essential: Vec<bool>,
    u_min: Vec<u8>,
    j_target: Vec<i64>,
    j_comp: Vec<i64>,
    j_essential: Vec<bool>,
    j_min: Vec<u8>,
    eq_held: Vec<i64>,
    eq_satisfies: Vec<i64>,
    h_level: Vec<u8>,
}

const WARD: i64 = 1 << 40;
const DIRECTORATE: i64 = 2 << 40;
const TRUST: i64 = 3 << 40;

impl Extras {
    fn of(w: &Workforce) -> Self {
        // Twenty positions to a ward, fifty wards to a directorate, one trust above them.
        let ward = |pos: i64| WARD + pos / 20;
        let a_unit: Vec<i64> = w.assignment_position.iter().map(|p| ward(*p)).collect();
        let a_job: Vec<i64> = w.assignment_position.iter().map(|p| p % 7).collect();
        let mut wards: Vec<i64> = a_unit.clone();
        wards.sort_unstable();
        wards.dedup();
        let (mut units, mut parents) = (vec![TRUST], vec![TRUST]);
        let mut directorates = Vec::new();
        for u in &wards {
            let d = DIRECTORATE + (u - WARD) / 50;
            units.push(*u);
            parents.push(d);
            directorates.push(d);
        }
        directorates.dedup();
        for d in &directorates {
            units.push(*d);
            parents.push(TRUST);
        }
        // The trust requires Safeguarding Adults (CSTF 5) at level 1; each directorate one
        // role competence, desirable; job 0 one more, essential.
        let (mut u_target, mut u_comp, mut u_essential, mut u_min) =
            (vec![TRUST], vec![CSTF_BASE + 5], vec![true], vec![1]);
        for (k, d) in directorates.iter().enumerate() {
            u_target.push(*d);
            u_comp.push(ROLE_BASE + k as i64 % 30);
            u_essential.push(false);
            u_min.push(0);
        }
        let n = w.requirement_position.len();
        Self {
            a_unit,
            a_job,
            // One position requirement in seven is desirable, one in five needs level 1.
            r_essential: (0..n).map(|i| i % 7 != 3).collect(),
            r_min: (0..n).map(|i| u8::from(i % 5 == 0)).collect(),
            units,
            parents,
            u_target,
            u_comp,
            u_essential,
            u_min,
            j_target: vec![0, 3],
            j_comp: vec![ROLE_BASE + 1, ROLE_BASE + 2],
            j_essential: vec![true, true],
            j_min: vec![0, 1],
            // Safeguarding levels: 7 satisfies 6, 6 satisfies 5; two role chains.
            eq_held: vec![CSTF_BASE + 7, CSTF_BASE + 6, ROLE_BASE + 10, ROLE_BASE + 11],
            eq_satisfies: vec![CSTF_BASE + 6, CSTF_BASE + 5, ROLE_BASE + 11, ROLE_BASE + 12],
            // Nine holdings in ten assessed.
            h_level: (0..w.holding_person.len())
                .map(|i| u8::from(i % 10 != 0))
                .collect(),
        }
    }

    fn rules(&self) -> BulkRules<'_, i64> {
        BulkRules {
            assignment_org_unit: Some(&self.a_unit),
            assignment_job: Some(&self.a_job),
            position_requirements: RequirementOptions {
                essential: Some(&self.r_essential),
                min_level: Some(&self.r_min),
            },
            org_unit_requirements: Some(TargetRequirementColumns {
                target_id: &self.u_target,
                competency_id: &self.u_comp,
                essential: Some(&self.u_essential),
                min_level: Some(&self.u_min),
            }),
            job_requirements: Some(TargetRequirementColumns {
                target_id: &self.j_target,
                competency_id: &self.j_comp,
                essential: Some(&self.j_essential),
                min_level: Some(&self.j_min),
            }),
            org_units: Some(OrgUnitColumns {
                org_unit_id: &self.units,
                parent_id: &self.parents,
                parent_validity: None,
            }),
            equivalences: Some(EquivalenceColumns {
                competency_id: &self.eq_held,
                satisfies_competency_id: &self.eq_satisfies,
            }),
        }
    }
}

/// Position-only against the full rules, on one thread, on the same workforce.
fn rules(c: &mut Criterion) {
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let w = generate_workforce(&WorkforceSpec::nhs(2026, as_of), cores).unwrap();
    let extras = Extras::of(&w);
    let full = extras.rules();
    let none = BulkRules::default();
    let mut g = c.benchmark_group("compliance/bulk_rules");
    g.sample_size(10);
    g.throughput(Throughput::Elements(w.holding_person.len() as u64));
    let plain = w.holdings();
    let levelled = HoldingColumns {
        level: Some(&extras.h_level),
        ..w.holdings()
    };
    for (name, rules, holdings) in [
        ("position_only", &none, plain),
        ("full_rules", &full, levelled),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                score_compliance_with_rules(
                    black_box(w.assignments()),
                    black_box(w.requirements()),
                    black_box(holdings),
                    rules,
                    as_of,
                    AmberWindow::ESR,
                    NonZeroUsize::MIN,
                )
                .unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bulk, files, rules);
criterion_main!(benches);
