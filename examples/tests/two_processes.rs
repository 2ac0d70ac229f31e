//! Two processes on one SQLite file: a child process imports 400,000 competence rows (all or
//! nothing) and reads the whole audit trail in a loop, while this process issues and verifies
//! passcodes. This process sees no error: reads do not take the write lock, and the import
//! holds it briefly.
//!
//! The child is this test binary run again with `ESR_TWO_PROCESSES_DB` set (the ignored test
//! `importer_child`).

#![allow(clippy::unwrap_used)]

use esr_examples::two_processes::{client, export, importer, setup};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const DB_VAR: &str = "ESR_TWO_PROCESSES_DB";
const CSV_VAR: &str = "ESR_TWO_PROCESSES_CSV";

/// SQLite settings that wait up to a minute for the write lock (see below).
fn patient() -> esr_sqlite::SqliteConfig {
    esr_sqlite::SqliteConfig {
        busy_timeout: Duration::from_secs(60),
        ..esr_sqlite::SqliteConfig::default()
    }
}

#[test]
#[ignore = "the child process of a_writer_beside_an_importing_reader_sees_no_error"]
fn importer_child() {
    let (Ok(db), Ok(csv)) = (std::env::var(DB_VAR), std::env::var(CSV_VAR)) else {
        return;
    };
    let csv = std::fs::read(csv).unwrap();
    let r = importer(Path::new(&db), &patient(), &csv, 1, 3, &|| false).unwrap();
    println!(
        "done {} {} {} {}",
        r.imports,
        r.imported,
        r.audit_reads,
        r.longest_write.as_millis()
    );
}

#[test]
fn a_writer_beside_an_importing_reader_sees_no_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("esr.db");
    setup(&db).unwrap();
    let csv = dir.path().join("export.csv");
    std::fs::write(&csv, export(&db, 400_000).unwrap()).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "importer_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DB_VAR, &db)
        .env(CSV_VAR, &csv)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    // The write lock is held for the import's write (seconds on a build machine running many
    // compilers, and in a debug build), and a commit's fsync can wait behind the import's
    // checkpoint: both processes wait up to a minute for it rather than the default five
    // seconds, so that the test checks what it is for (B never fails, reads never block) and
    // not the machine's load. The example `two_processes` reports the hold and B's latencies
    // with the default settings.
    let config = patient();
    let done = AtomicBool::new(false);
    let (report, lines) = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let lines: Vec<String> = BufReader::new(out).lines().map_while(Result::ok).collect();
            done.store(true, Ordering::SeqCst);
            lines
        });
        let report = client(&db, 0, &config, Duration::from_secs(900), &|| {
            done.load(Ordering::SeqCst)
        });
        (report.unwrap(), reader.join().unwrap())
    });
    assert!(child.wait().unwrap().success(), "the importer failed");
    let summary = lines
        .iter()
        .find_map(|l| l.split("done ").nth(1))
        .unwrap_or_else(|| panic!("the importer did not finish: {lines:?}"));
    let figures: Vec<u64> = summary.split(' ').map(|f| f.parse().unwrap()).collect();
    assert_eq!(figures[..3], [1, 400_000, 4], "{summary}");
    assert!(report.ops > 0, "B made no progress beside A");
    assert!(
        report.errors.is_empty(),
        "B saw {} errors beside A, the first: {}",
        report.errors.len(),
        report.errors[0]
    );
}
