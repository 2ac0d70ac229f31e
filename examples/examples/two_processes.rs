//! Two processes on one SQLite file (issue 18). Process B issues and verifies passcodes, first
//! alone and then beside process A (this program run again as a child), which imports a
//! competence export of ROWS rows (default 400,000; all or nothing) and reads the whole audit
//! trail in a loop. Prints B's pairs per second and p50/p99 latency alone and beside A, the
//! errors B saw, and A's longest hold of the write lock.
//!
//! `cargo run --release -p esr-examples --example two_processes [-- ROWS]`

use esr_examples::two_processes::{ClientReport, client, export, importer, setup};
use esr_sqlite::SqliteConfig;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = if args.get(1).map(String::as_str) == Some("importer") {
        run_importer(&args[2..])
    } else {
        run(args.get(1).and_then(|r| r.parse().ok()).unwrap_or(400_000))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("two_processes: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The child: `importer DB CSV ROUNDS`.
fn run_importer(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [db, csv, rounds] = args else {
        return Err("usage: two_processes importer DB CSV ROUNDS".into());
    };
    let csv = std::fs::read(csv)?;
    let r = importer(
        Path::new(db),
        &SqliteConfig::default(),
        &csv,
        rounds.parse()?,
        3,
        &|| false,
    )?;
    println!(
        "A: {} imports of {} records, {} whole-trail reads; longest write lock hold {:.3} s \
         (probe), longest write transaction call {:.3} s (with commit and checkpoint), longest \
         import end to end {:.3} s",
        r.imports,
        r.imported,
        r.audit_reads,
        r.longest_lock_held.as_secs_f64(),
        r.longest_write.as_secs_f64(),
        r.longest_import.as_secs_f64()
    );
    Ok(())
}

fn show(label: &str, r: &ClientReport) {
    println!(
        "B {label}: {} pairs in {:.1} s = {:.0} issue+verify pairs/s, p50 {:.2} ms, p99 {:.2} ms, \
         max {:.2} ms, {} errors{}",
        r.ops,
        r.elapsed.as_secs_f64(),
        r.ops_per_second(),
        r.quantile(0.5).as_secs_f64() * 1e3,
        r.quantile(0.99).as_secs_f64() * 1e3,
        r.latencies
            .last()
            .copied()
            .unwrap_or_default()
            .as_secs_f64()
            * 1e3,
        r.errors.len(),
        r.errors
            .first()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
}

fn run(rows: usize) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile_dir()?;
    let db = dir.join("esr.db");
    setup(&db)?;
    let csv_path = dir.join("export.csv");
    std::fs::write(&csv_path, export(&db, rows)?)?;
    let alone = client(
        &db,
        0,
        &SqliteConfig::default(),
        Duration::from_secs(10),
        &|| false,
    )?;
    show("alone", &alone);
    let mut child = Command::new(std::env::current_exe()?)
        .arg("importer")
        .arg(&db)
        .arg(&csv_path)
        .arg("3")
        .stdout(Stdio::piped())
        .spawn()?;
    let out = child.stdout.take().ok_or("no child stdout")?;
    let done = AtomicBool::new(false);
    let (beside, line) = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let lines: Vec<String> = BufReader::new(out).lines().map_while(Result::ok).collect();
            done.store(true, Ordering::SeqCst);
            lines.join("\n")
        });
        let beside = client(
            &db,
            1,
            &SqliteConfig::default(),
            Duration::from_secs(600),
            &|| done.load(Ordering::SeqCst),
        );
        (beside, reader.join().unwrap_or_default())
    });
    let status = child.wait()?;
    println!("{line}");
    show("beside A", &beside?);
    std::fs::remove_dir_all(&dir)?;
    if !status.success() {
        return Err(format!("the importer failed: {status}").into());
    }
    Ok(())
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("esr-two-processes-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
