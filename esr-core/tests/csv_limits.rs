//! The competence CSV importer streams: memory while reading depends neither on the file's size
//! nor on any one line's length. Measured with a counting global allocator over files produced
//! lazily by a generated reader (never held whole).
//!
//! A test binary of its own, not a module of `tests/it`: the global allocator counts every
//! allocation of its process, so tests running beside it in one binary would distort what it
//! measures.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use esr_core::{compliance::*, values::*};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// [`System`], counting the bytes currently allocated and the most at any moment.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = CURRENT.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(n: usize) {
    CURRENT.fetch_sub(n, Ordering::Relaxed);
}

// SAFETY: every call is passed to `System` unchanged; only the counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` and `layout` come from our `alloc`, which is `System`'s.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; the caller's contract for `realloc` is passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            grew(new_size);
            shrank(layout.size());
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// One test at a time: the counters count every thread's allocations.
static SERIAL: Mutex<()> = Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f`, returning its result, the most the heap grew while it ran, and how much it had
/// grown when it returned (what `f`'s result holds). Call with [`alone`] held.
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    let kept = CURRENT.load(Ordering::Relaxed).saturating_sub(base);
    (out, peak, kept)
}

const MIB: usize = 1024 * 1024;

/// A file made as it is read: `head`, then `unit` repeated `times`, then `tail`. Counts the
/// bytes handed out.
struct Generated {
    parts: [(Vec<u8>, u64); 3],
    part: usize,
    offset: usize,
    left: u64,
    read: u64,
}

impl Generated {
    fn new(head: &str, unit: &str, times: u64, tail: &str) -> Self {
        let parts = [
            (head.as_bytes().to_vec(), 1),
            (unit.as_bytes().to_vec(), times),
            (tail.as_bytes().to_vec(), 1),
        ];
        let left = parts[0].1;
        Self {
            parts,
            part: 0,
            offset: 0,
            left,
            read: 0,
        }
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < buf.len() && self.part < 3 {
            let (bytes, _) = &self.parts[self.part];
            if self.left == 0 || bytes.is_empty() {
                self.part += 1;
                self.offset = 0;
                self.left = self.parts.get(self.part).map_or(0, |p| p.1);
                continue;
            }
            let take = (bytes.len() - self.offset).min(buf.len() - n);
            buf[n..n + take].copy_from_slice(&bytes[self.offset..self.offset + take]);
            n += take;
            self.offset += take;
            if self.offset == bytes.len() {
                self.offset = 0;
                self.left -= 1;
            }
        }
        self.read += n as u64;
        Ok(n)
    }
}

fn vpd() -> VpdCode {
    "297".parse().unwrap()
}

const HEAD: &str = "Employee Number,Competency Name,Expiry Date,Notes\n";
const GOOD: &str = "20000001,NHS|CSTF|Fire Safety - 1 Year|,30-Nov-2028,";

#[test]
fn a_line_of_hundreds_of_megabytes_is_refused_after_reading_about_the_limit() {
    let _alone = alone();
    // 512 MiB with no line break after the header.
    let mut file = Generated::new(HEAD, &"x".repeat(MIB), 512, "\n");
    let (result, peak, _) =
        measure(|| read_competence_export(vpd(), &mut file, ImportOptions::default()).map(drop));
    let msg = result.unwrap_err().to_string();
    assert!(
        msg.contains("line 2: the row is over 64 KiB (65536 bytes)"),
        "{msg}"
    );
    assert!(msg.contains("the rest of the file was not read"), "{msg}");
    assert!(
        file.read <= (MAX_CSV_RECORD_BYTES + 2 * 64 * 1024) as u64,
        "read {} bytes",
        file.read
    );
    assert!(peak < MIB, "the heap grew by {peak} bytes");
}

#[test]
fn an_over_long_row_skipped_is_read_through_in_bounded_memory() {
    let _alone = alone();
    // 8 MiB in one quoted field spanning many lines, between good rows.
    let head = format!("{HEAD}{GOOD}\n{GOOD}\"");
    let tail = format!("\"\n{GOOD}\n");
    let mut file = Generated::new(
        &head,
        &"y,\"\"\n".repeat(4096),
        8 * MIB as u64 / 20480,
        &tail,
    );
    let skip = ImportOptions {
        skip_bad_rows: true,
    };
    let (result, peak, _) = measure(|| read_competence_export(vpd(), &mut file, skip));
    let (cols, problems) = result.unwrap();
    assert_eq!(cols.line, [2, 4 + 4096 * (8 * MIB as u64 / 20480)]);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, 3);
    assert!(peak < MIB, "the heap grew by {peak} bytes");
}

#[test]
fn tens_of_megabytes_of_bad_rows_keep_memory_bounded() {
    let _alone = alone();
    // 10 MiB of rows with a bad employee number: 200,000-odd problems, 1,000 kept.
    let bad = "x1,NHS|CSTF|Fire Safety - 1 Year|,30-Nov-2028,notes\n";
    let times = (10 * MIB / bad.len()) as u64;
    let mut file = Generated::new(HEAD, bad, times, "");
    let skip = ImportOptions {
        skip_bad_rows: true,
    };
    let (result, peak, _) = measure(|| read_competence_export(vpd(), &mut file, skip));
    let (cols, problems) = result.unwrap();
    assert!(cols.is_empty());
    assert_eq!(problems.len(), MAX_IMPORT_PROBLEMS);
    assert_eq!(problems.total(), times);
    assert!(peak < 2 * MIB, "the heap grew by {peak} bytes");

    // Refused without skip_bad_rows: the error is as small, and says how many more.
    let mut file = Generated::new(HEAD, bad, times, "");
    let (result, peak, _) =
        measure(|| read_competence_export(vpd(), &mut file, ImportOptions::default()).map(drop));
    let msg = result.unwrap_err().to_string();
    assert!(
        msg.contains(&format!(
            "{times} bad row(s), the first at line 2: Employee Number"
        )),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(
            "1000 are listed, {} more were counted but not kept",
            times - 1000
        )),
        "{msg}"
    );
    assert!(peak < 2 * MIB, "the heap grew by {peak} bytes");
}

#[test]
fn many_good_rows_grow_memory_with_the_columns_only() {
    let _alone = alone();
    // 10,000 rows each with 1 KiB of ignored notes: a 10 MiB file whose columns are far
    // smaller.
    let row = format!("{GOOD}{}\n", "n".repeat(1024));
    let rows = 10_000u64;
    let mut file = Generated::new(HEAD, &row, rows, "");
    let (result, peak, kept) =
        measure(|| read_competence_export(vpd(), &mut file, ImportOptions::default()).unwrap());
    let (cols, problems) = result;
    assert_eq!(cols.len() as u64, rows);
    assert!(problems.is_empty());
    let size = file.read as usize;
    assert!(size > 10 * MIB);
    // The columns, with growth headroom, plus the reader's fixed buffers.
    assert!(
        peak <= 2 * kept + MIB,
        "peak {peak} bytes for {kept} bytes of columns"
    );
    assert!(
        kept < size / 4,
        "{kept} bytes of columns for a {size}-byte file"
    );
    drop(cols);
}

#[test]
fn the_service_import_streams_a_refused_file_in_bounded_memory() {
    let _alone = alone();
    let fx = Fixture::builder().trust("297").build();
    let before = fx.audit(fx.vpd()).len();
    let mut file = Generated::new(HEAD, &"z".repeat(MIB), 256, "\n");
    let (result, peak, _) = measure(|| {
        fx.esr
            .import_competences(&system(), fx.vpd(), &mut file, ImportOptions::default())
    });
    let msg = result.unwrap_err().to_string();
    assert!(msg.contains("line 2: the row is over 64 KiB"), "{msg}");
    assert!(file.read < 4 * MAX_CSV_RECORD_BYTES as u64);
    assert!(peak < MIB, "the heap grew by {peak} bytes");
    assert_eq!(fx.audit(fx.vpd()).len(), before);
}
