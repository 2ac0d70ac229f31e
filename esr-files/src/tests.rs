use super::*;
use arrow_array::{Date32Array, Int32Array, Int64Array};
use esr_core::compliance::{NO_EXPIRY, score_compliance_with_threads};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use std::collections::HashMap;
use std::sync::Arc;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn write_parquet(path: &Path, batch: &RecordBatch, row_group: usize) {
    let f = File::create(path).unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(row_group))
        .build();
    let mut w = ArrowWriter::try_new(f, batch.schema(), Some(props)).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

fn write_ipc(path: &Path, batch: &RecordBatch, chunk: usize) {
    let f = File::create(path).unwrap();
    let mut w = arrow_ipc::writer::FileWriter::try_new(f, &batch.schema()).unwrap();
    let mut at = 0;
    while at < batch.num_rows() {
        let n = chunk.min(batch.num_rows() - at);
        w.write(&batch.slice(at, n)).unwrap();
        at += n;
    }
    w.finish().unwrap();
}

/// A small workforce: (assignments, requirements, holdings) as columns.
#[allow(clippy::type_complexity)]
fn workforce(
    people: i64,
    base: i32,
) -> (
    [Vec<i64>; 3],
    [Vec<i64>; 2],
    (Vec<i64>, Vec<i32>, Vec<i32>, Vec<bool>),
) {
    let a = [
        (0..people + people / 7).map(|i| 1_000_000 + i).collect(),
        (0..people + people / 7).map(|i| i % people).collect(),
        (0..people + people / 7).map(|i| i * 13 % 9).collect(),
    ];
    let r: [Vec<i64>; 2] = [
        (0..9).flat_map(|p| (0..5).map(move |_| p)).collect(),
        (0..9)
            .flat_map(|p| (0..5).map(move |c| (p + c * 3) % 14))
            .collect(),
    ];
    let n = people * 9;
    let hp: Vec<i64> = (0..n).map(|i| i / 9).collect();
    let hc: Vec<i32> = (0..n).map(|i| (i * 7 % 15) as i32).collect();
    let he: Vec<i32> = (0..n)
        .map(|i| base + (i * 7919 % 700) as i32 - 300)
        .collect();
    let valid: Vec<bool> = (0..n).map(|i| i % 17 != 0).collect();
    (a, r, (hp, hc, he, valid))
}

#[test]
fn files_score_as_tables_do() {
    let dir = tempfile::tempdir().unwrap();
    let as_of = d(2026, 11, 22);
    let base = days_since_epoch(as_of).unwrap();
    let (a, r, (hp, hc, he, valid)) = workforce(5_000, base);
    let abatch = RecordBatch::try_from_iter([
        (
            "assignment_id",
            Arc::new(Int64Array::from(a[0].clone())) as _,
        ),
        ("person_id", Arc::new(Int64Array::from(a[1].clone())) as _),
        ("position_id", Arc::new(Int64Array::from(a[2].clone())) as _),
    ])
    .unwrap();
    let rbatch = RecordBatch::try_from_iter([
        (
            "competency_id",
            Arc::new(Int64Array::from(r[1].clone())) as _,
        ),
        ("position_id", Arc::new(Int64Array::from(r[0].clone())) as _),
    ])
    .unwrap();
    let expiry: Date32Array = he
        .iter()
        .zip(&valid)
        .map(|(e, v)| v.then_some(*e))
        .collect();
    let hbatch = RecordBatch::try_from_iter([
        ("expiry", Arc::new(expiry) as _),
        ("note", Arc::new(Int32Array::from(hc.clone())) as _),
        ("person_id", Arc::new(Int64Array::from(hp.clone())) as _),
        ("competency_id", Arc::new(Int32Array::from(hc.clone())) as _),
    ])
    .unwrap();
    let hc64: Vec<i64> = hc.iter().map(|&c| i64::from(c)).collect();
    let he_no_null: Vec<i32> = he
        .iter()
        .zip(&valid)
        .map(|(e, v)| if *v { *e } else { NO_EXPIRY })
        .collect();
    let want = score_compliance_with_threads(
        AssignmentColumns {
            assignment_id: &a[0],
            person_id: &a[1],
            position_id: &a[2],
        },
        RequirementColumns {
            position_id: &r[0],
            competency_id: &r[1],
        },
        HoldingColumns {
            person_id: &hp,
            competency_id: &hc64,
            expiry: &he_no_null,
            expiry_validity: None,
            level: None,
        },
        as_of,
        AmberWindow::ESR,
        NonZeroUsize::MIN,
    )
    .unwrap();
    assert!(want.green.iter().sum::<u32>() > 0 && want.red.iter().sum::<u32>() > 0);
    for parquet in [true, false] {
        let p = |n: &str| dir.path().join(format!("{n}.{parquet}"));
        for (name, batch) in [("a", &abatch), ("r", &rbatch), ("h", &hbatch)] {
            if parquet {
                write_parquet(&p(name), batch, 4_000);
            } else {
                write_ipc(&p(name), batch, 4_000);
            }
        }
        for threads in [1, 2, 3] {
            let got = score_files(
                &p("a"),
                &p("r"),
                &p("h"),
                as_of,
                AmberWindow::ESR,
                NonZeroUsize::new(threads).unwrap(),
            )
            .unwrap();
            assert_eq!(got.scores, want, "parquet {parquet}, threads {threads}");
            assert_eq!(
                got.assignments.iter().map(|b| b.num_rows()).sum::<usize>(),
                a[0].len()
            );
        }
        // Read whole with the filter: only the records on or after as_of (or never expiring).
        let src = Source::open(&p("h"), "holdings", &HOLDING_COLUMNS).unwrap();
        let kept: usize = src
            .read_all(
                2,
                Some(&NotBefore {
                    column: "expiry".into(),
                    day: base,
                }),
            )
            .unwrap()
            .iter()
            .map(RecordBatch::num_rows)
            .sum();
        let want_kept = he
            .iter()
            .zip(&valid)
            .filter(|(e, v)| !**v || **e >= base)
            .count();
        assert_eq!(kept, want_kept);
        assert_eq!(src.schema().field(0).name(), "person_id");
    }
}

#[test]
fn missing_columns_and_other_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.parquet");
    let batch =
        RecordBatch::try_from_iter([("person_id", Arc::new(Int64Array::from(vec![1i64])) as _)])
            .unwrap();
    write_parquet(&p, &batch, 10);
    let e = Source::open(&p, "holdings", &HOLDING_COLUMNS)
        .err()
        .unwrap();
    assert!(e.to_string().contains("no column competency_id"), "{e}");
    let q = dir.path().join("x.csv");
    std::fs::write(&q, "a,b\n1,2\n").unwrap();
    let e = format_of(&q).err().unwrap();
    assert!(e.to_string().contains("neither a Parquet file"), "{e}");
}

#[test]
fn optional_columns_are_read_when_the_file_has_them() {
    let dir = tempfile::tempdir().unwrap();
    let batch = RecordBatch::try_from_iter([
        (
            "essential",
            Arc::new(arrow_array::BooleanArray::from(vec![false])) as _,
        ),
        ("competency_id", Arc::new(Int64Array::from(vec![7i64])) as _),
        ("position_id", Arc::new(Int64Array::from(vec![3i64])) as _),
    ])
    .unwrap();
    for (name, write) in [
        ("r.parquet", write_parquet as fn(&Path, &RecordBatch, usize)),
        ("r.arrow", write_ipc),
    ] {
        let p = dir.path().join(name);
        write(&p, &batch, 10);
        // Asked-for columns first, then the optional ones the file has, in the order given.
        let src = Source::open_with(
            &p,
            "requirements",
            &REQUIREMENT_COLUMNS,
            &["min_level", "essential"],
        )
        .unwrap();
        let names: Vec<&str> = src
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(
            names,
            ["position_id", "competency_id", "essential"],
            "{name}"
        );
        let read = src.read_all(1, None).unwrap();
        assert!(!read[0].column(2).as_boolean().value(0));
        // A required column is still required.
        let e = Source::open_with(&p, "requirements", &["min_level"], &["essential"])
            .err()
            .unwrap();
        assert!(e.to_string().contains("no column min_level"), "{e}");
    }
}

/// An export's competence name for competency `c`.
fn comp_name(c: i64) -> String {
    format!("NHS|CSTF|Topic {c} - 1 Year|")
}

#[test]
fn a_competence_export_scores_as_its_table_does() {
    use esr_core::compliance::{CsvEncoding, ImportOptions, read_competence_table};
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let as_of = d(2026, 11, 22);
    let base = days_since_epoch(as_of).unwrap();
    // 20,000 staff: 180,000 records, about 10 MB, so many blocks on several threads.
    let (mut a, r, (mut hp, hc, he, valid)) = workforce(20_000, base);
    // Employee numbers are 6 to 12 digits.
    for p in a[1].iter_mut().chain(hp.iter_mut()) {
        *p += 20_000_000;
    }
    let abatch = RecordBatch::try_from_iter([
        (
            "assignment_id",
            Arc::new(Int64Array::from(a[0].clone())) as _,
        ),
        ("person_id", Arc::new(Int64Array::from(a[1].clone())) as _),
        ("position_id", Arc::new(Int64Array::from(a[2].clone())) as _),
    ])
    .unwrap();
    let names: Vec<String> = r[1].iter().map(|&c| comp_name(c)).collect();
    let rbatch = RecordBatch::try_from_iter([
        ("position_id", Arc::new(Int64Array::from(r[0].clone())) as _),
        (
            "competency_id",
            Arc::new(arrow_array::StringArray::from(names)) as _,
        ),
    ])
    .unwrap();
    write_parquet(&dir.path().join("a"), &abatch, 4_000);
    write_ipc(&dir.path().join("r"), &rbatch, 10);
    let csv = dir.path().join("export.csv");
    let mut w = std::io::BufWriter::new(File::create(&csv).unwrap());
    writeln!(w, "VPD,Competency Name,Employee Number,Expiry Date").unwrap();
    let epoch = d(1970, 1, 1);
    for i in 0..hp.len() {
        let expiry = if valid[i] {
            (epoch + esr_core::chrono::Duration::days(i64::from(he[i])))
                .format("%d-%b-%Y")
                .to_string()
        } else {
            String::new()
        };
        // A bad row now and then (skipped with skip_bad_rows, refusing the file without).
        if i % 50_000 == 7 {
            writeln!(w, "297,Fire Safety,{},{expiry}", hp[i]).unwrap();
        }
        writeln!(w, "297,{},{},{expiry}", comp_name(i64::from(hc[i])), hp[i]).unwrap();
    }
    drop(w);
    let vpd: esr_core::values::VpdCode = "297".parse().unwrap();
    let skip = ImportOptions {
        skip_bad_rows: true,
    };
    // What score_compliance gives over read_competence_table's rows, names matched exactly.
    let (t, problems) = read_competence_table(
        vpd,
        File::open(&csv).unwrap(),
        skip,
        CsvEncoding::default(),
        None,
    )
    .unwrap();
    assert_eq!(
        problems.total(),
        4,
        "{:?}",
        problems.listed().iter().skip(4).take(3).collect::<Vec<_>>()
    );
    let mut ids: HashMap<String, i64> = HashMap::new();
    let mut req_c = Vec::new();
    for &c in &r[1] {
        let next = ids.len() as i64;
        req_c.push(*ids.entry(comp_name(c)).or_insert(next));
    }
    let hcomp: Vec<i64> = t
        .competence
        .iter()
        .map(|n| *ids.get(n).unwrap_or(&-1))
        .collect();
    assert!(
        hcomp.contains(&-1),
        "some records of competences not required"
    );
    let hexp: Vec<i32> = t.expiry.iter().map(|e| e.unwrap_or(NO_EXPIRY)).collect();
    let want = score_compliance_with_threads(
        AssignmentColumns {
            assignment_id: &a[0],
            person_id: &a[1],
            position_id: &a[2],
        },
        RequirementColumns {
            position_id: &r[0],
            competency_id: &req_c,
        },
        HoldingColumns {
            person_id: &t.person_id,
            competency_id: &hcomp,
            expiry: &hexp,
            expiry_validity: None,
            level: None,
        },
        as_of,
        AmberWindow::ESR,
        NonZeroUsize::MIN,
    )
    .unwrap();
    assert!(want.green.iter().sum::<u32>() > 0 && want.red.iter().sum::<u32>() > 0);
    assert!(want.amber.iter().sum::<u32>() > 0);
    for threads in [1, 2, 3] {
        let got = score_competence_csv(
            &dir.path().join("a"),
            &dir.path().join("r"),
            &csv,
            (vpd, skip, CsvEncoding::default()),
            as_of,
            AmberWindow::ESR,
            NonZeroUsize::new(threads).unwrap(),
        )
        .unwrap();
        assert_eq!(got.scores, want, "threads {threads}");
        assert_eq!(got.skipped.total(), 4);
        assert_eq!(got.encoding, "utf-8");
    }
    // Without skip_bad_rows the bad rows refuse the export, as read_competence_table does.
    let e = score_competence_csv(
        &dir.path().join("a"),
        &dir.path().join("r"),
        &csv,
        (vpd, ImportOptions::default(), CsvEncoding::default()),
        as_of,
        AmberWindow::ESR,
        NonZeroUsize::new(2).unwrap(),
    )
    .err()
    .unwrap();
    assert!(matches!(e, Error::ImportRejected { .. }), "{e}");
    // Integer competency ids in the requirements cannot match the export's names.
    let e = score_competence_csv(
        &dir.path().join("a"),
        &dir.path().join("a"),
        &csv,
        (vpd, skip, CsvEncoding::default()),
        as_of,
        AmberWindow::ESR,
        NonZeroUsize::MIN,
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("competency_id"), "{e}");
}

#[test]
fn text_ids_are_a_typed_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let a = RecordBatch::try_from_iter([
        (
            "assignment_id",
            Arc::new(arrow_array::StringArray::from(vec!["A1"])) as _,
        ),
        ("person_id", Arc::new(Int64Array::from(vec![1])) as _),
        ("position_id", Arc::new(Int64Array::from(vec![1])) as _),
    ])
    .unwrap();
    let r = RecordBatch::try_from_iter([
        ("position_id", Arc::new(Int64Array::from(vec![1])) as _),
        ("competency_id", Arc::new(Int64Array::from(vec![1])) as _),
    ])
    .unwrap();
    let h = RecordBatch::try_from_iter([
        ("person_id", Arc::new(Int64Array::from(vec![1])) as _),
        ("competency_id", Arc::new(Int64Array::from(vec![1])) as _),
        ("expiry", Arc::new(Date32Array::from(vec![Some(1)])) as _),
    ])
    .unwrap();
    for (n, b) in [("a", &a), ("r", &r), ("h", &h)] {
        write_parquet(&dir.path().join(n), b, 10);
    }
    let p = |n: &str| dir.path().join(n);
    let got = score_files(
        &p("a"),
        &p("r"),
        &p("h"),
        d(2026, 1, 1),
        AmberWindow::ESR,
        NonZeroUsize::MIN,
    );
    assert!(matches!(got, Err(ScoreFilesError::NotStreamable(_))));
    let got = score_files(
        &p("a"),
        &p("r"),
        &p("missing"),
        d(2026, 1, 1),
        AmberWindow::ESR,
        NonZeroUsize::MIN,
    );
    assert!(matches!(got, Err(ScoreFilesError::Failed(_))));
}
