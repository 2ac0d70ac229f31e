//! Reads a 2 GiB ESR competence export with `esr_core::compliance::read_competence_export`, streamed from a
//! reader that makes the file as it is read (never on disk, never whole in memory), and prints
//! the rows, the time and the process's peak resident memory. The export has the columns of an
//! ESR competence report (name, assignment, position, organisation, VPD, competence, dates,
//! level, source, comments), one row in 50 of them bad (an impossible date), read with
//! `skip_bad_rows`; peak memory is the output columns plus a fixed amount for the reader.
//!
//! Run it with
//! `cargo run --release -p esr-examples --example competence_csv_2gb` (add `-- BYTES` for
//! another size).

use esr_core::{
    VpdCode, compliance::CSTF_TITLES, compliance::ImportOptions, compliance::read_competence_export,
};
use std::io::Read;
use std::process::ExitCode;
use std::time::Instant;

/// An ESR competence export made row by row as it is read.
struct Export {
    /// Bytes still to give (the file ends at the first row boundary past this).
    left: u64,
    row: Vec<u8>,
    at: usize,
    n: u64,
    rng: u64,
    given: u64,
}

const HEADER: &str = "Employee Number,Full Name,Assignment Number,Position Title,Organisation,\
VPD,Competency Name,Achieved Date,Expiry Date,Competence Level,Source,Comments\n";

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const NAMES: [&str; 8] = [
    "Conroy, Emma",
    "Adams, Alice",
    "Okafor, Chidi",
    "Nowak, Zofia",
    "Patel, Priya",
    "O'Brien, Sean",
    "Jones, Gareth",
    "Ali, Samira",
];
const POSITIONS: [&str; 4] = [
    "Staff Nurse",
    "Healthcare Assistant",
    "Ward Manager",
    "Physiotherapist",
];
const UNITS: [&str; 4] = [
    "297 Ward 5 Medicine",
    "297 Ward 6 Medicine",
    "297 Theatres Surgery",
    "297 Outpatients",
];

impl Export {
    fn new(bytes: u64) -> Self {
        Self {
            left: bytes,
            row: HEADER.as_bytes().to_vec(),
            at: 0,
            n: 0,
            rng: 0x2545_F491_4F6C_DD1D,
            given: 0,
        }
    }

    fn next(&mut self) -> u64 {
        // xorshift64*: varied, reproducible, cheap.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn make_row(&mut self) {
        use std::fmt::Write;
        let r = self.next();
        let pick = |k: u64, len: usize| ((r >> k) % len as u64) as usize;
        let employee = 20_000_000 + (r % 400_000);
        let year = 2020 + (r >> 20) % 6;
        let day = 1 + (r >> 24) % 28;
        let month = MONTHS[pick(30, 12)];
        let title = CSTF_TITLES[pick(36, CSTF_TITLES.len())];
        let years: u64 = if title.contains("3 Years") { 3 } else { 1 };
        let expiry_day = if (r >> 40).is_multiple_of(50) {
            31
        } else {
            day
        }; // 31-Feb: a bad row
        let expiry_month = if expiry_day == 31 { "Feb" } else { month };
        self.n += 1;
        self.row.clear();
        let mut s = String::with_capacity(320);
        let _ = writeln!(
            s,
            "{employee},\"{}\",{employee}-{},{},{},297,\"NHS|CSTF|{title}|\",{day:02}-{month}-{year},\
             {expiry_day:02}-{expiry_month}-{},1 - Assessed,OLM,\"Completed via e-learning, \
             certificate {} on file; reviewed by the ward's practice educator\"",
            NAMES[pick(44, NAMES.len())],
            1 + (r >> 48) % 3,
            POSITIONS[pick(50, POSITIONS.len())],
            UNITS[pick(54, UNITS.len())],
            year + years,
            self.n,
        );
        self.row.extend_from_slice(s.as_bytes());
        self.at = 0;
    }
}

impl Read for Export {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            if self.at == self.row.len() {
                if self.left == 0 {
                    break;
                }
                self.make_row();
            }
            let take = (self.row.len() - self.at).min(buf.len() - n);
            buf[n..n + take].copy_from_slice(&self.row[self.at..self.at + take]);
            self.at += take;
            n += take;
            self.left = self.left.saturating_sub(take as u64);
        }
        self.given += n as u64;
        Ok(n)
    }
}

/// A line of /proc/self/status, such as `VmHWM:  123456 kB`, in MiB.
fn status_mib(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> ExitCode {
    let bytes: u64 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 2 << 30,
        Some(Ok(b)) => b,
        Some(Err(e)) => {
            eprintln!("competence_csv_2gb: the size must be a number of bytes: {e}");
            return ExitCode::FAILURE;
        }
    };
    let vpd: VpdCode = match "297".parse() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("competence_csv_2gb: {e}");
            return ExitCode::FAILURE;
        }
    };
    let before = status_mib("VmHWM:").unwrap_or(0.0);
    let mut export = Export::new(bytes);
    let started = Instant::now();
    let options = ImportOptions {
        skip_bad_rows: true,
    };
    let (cols, skipped) = match read_competence_export(vpd, &mut export, options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("competence_csv_2gb: {e}");
            return ExitCode::FAILURE;
        }
    };
    let took = started.elapsed().as_secs_f64();
    let mib = export.given as f64 / (1024.0 * 1024.0);
    println!(
        "read {:.0} MiB ({} rows) in {took:.1} s: {:.0} MiB/s, {:.2} million rows/s",
        mib,
        export.n,
        mib / took,
        export.n as f64 / took / 1e6
    );
    println!(
        "good rows {} (as columns), bad rows {} ({} listed, {} counted), the first: {}",
        cols.len(),
        skipped.total(),
        skipped.len(),
        skipped.more(),
        skipped
            .first()
            .map_or_else(|| "none".to_owned(), ToString::to_string)
    );
    let heap: usize = cols
        .employee_number
        .iter()
        .map(String::capacity)
        .sum::<usize>()
        + cols.competence.iter().map(String::capacity).sum::<usize>()
        + cols.level.iter().map(String::capacity).sum::<usize>()
        + cols.line.capacity() * 8
        + cols.person_id.capacity() * 8
        + (cols.achieved.capacity() + cols.expiry.capacity()) * 8
        + (cols.employee_number.capacity() + cols.competence.capacity() + cols.level.capacity())
            * 24;
    println!(
        "peak resident memory {:.0} MiB (at start {before:.0} MiB); the output columns hold {:.0} MiB",
        status_mib("VmHWM:").unwrap_or(f64::NAN),
        heap as f64 / (1024.0 * 1024.0)
    );
    ExitCode::SUCCESS
}
