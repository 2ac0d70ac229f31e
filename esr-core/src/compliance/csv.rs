//! ESR competence files: reading a competence export (CSV) and writing a compliance matrix (CSV).
//!
//! Dates print and parse as ESR writes them: `30-Nov-2028` (month names in any case).
//!
//! # Reading untrusted files
//!
//! [`read_competence_export`] and [`crate::Esr::import_competences`] read any
//! [`std::io::Read`] in chunks of 64 KiB, parsing with `csv_core` as they go, so memory while
//! reading depends neither on the file's size nor on any line's length:
//!
//! | limit | value | over it |
//! |---|---|---|
//! | [`MAX_CSV_RECORD_BYTES`] | 64 KiB of field contents in one record | the row is bad ("line 7: the row is over 64 KiB …"); without `skip_bad_rows` reading stops there, with it the row is skipped to its end; a header over it refuses the file |
//! | [`MAX_CSV_COLUMNS`] | 1,024 columns in the header or a row | a bad row; a header over it refuses the file |
//! | [`MAX_IMPORT_PROBLEMS`] | the first 1,000 bad rows kept (in line order) | counted in [`ImportProblems::more`] and named in the refusal's message |
//!
//! Bytes are decoded as they are read ([`DecodingReader`], [`CsvEncoding`]): UTF-8 with or
//! without a byte order mark, and Windows-1252 (what Excel's "CSV (Comma delimited)" saves)
//! for bytes that are not UTF-8, so no row is refused for its encoding, least of all for a
//! column the reader ignores (Full Name); a read error refuses the whole import. Line
//! numbers are those of the line each record starts on: `\n`, `\r\n` and a lone `\r` end
//! lines (inside quoted fields too), blank lines count, and a UTF-8 byte order mark at the start
//! is dropped. The good rows themselves are kept ([`read_competence_export`] returns them as
//! columns; the service holds them until it writes them in one transaction).

use crate::compliance::days_since_epoch;
use crate::compliance::{AssignmentCompliance, ComplianceStatus, format_percent};
use crate::compliance::{CompetenceLevel, CompetenceName, CompetenceOwner};
use crate::compliance::{CsvEncoding, DecodingReader, READ_CHUNK_BYTES};
use crate::error::{Error, Result};
use crate::values::{EmployeeNumber, VpdCode, format_esr_date, parse_esr_date};
use chrono::NaiveDate;
use std::collections::BTreeSet;
use std::fmt;

/// One bad row of an import: its line in the file (the header is line 1) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ImportProblem {
    /// The line number in the file, from 1.
    pub line: u64,
    /// What is wrong with it and what to do.
    pub reason: String,
}

impl fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// How to import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ImportOptions {
    /// Import the good rows and report the bad ones, instead of refusing the whole file when
    /// any row is bad.
    pub skip_bad_rows: bool,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ImportSummary {
    /// Records written (new or replacing one with the same person, competence and achieved
    /// date).
    pub imported: usize,
    /// Rows that repeated an earlier row's person, competence and achieved date: the one with
    /// the latest expiry was kept.
    pub merged_duplicates: usize,
    /// The bad rows skipped (only with [`ImportOptions::skip_bad_rows`]): the first
    /// [`MAX_IMPORT_PROBLEMS`] with their lines and reasons, and a count of the rest.
    pub skipped: ImportProblems,
}

/// One good row of a competence export, before the service checks people and the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExportRow {
    pub(crate) line: u64,
    pub(crate) employee: EmployeeNumber,
    pub(crate) competence: CompetenceName,
    pub(crate) achieved: Option<NaiveDate>,
    pub(crate) expiry: Option<NaiveDate>,
    pub(crate) level: CompetenceLevel,
}

/// Reads a competence name in the pipe form (`NHS|CSTF|Fire Safety - 1 Year|`) or as ESR's
/// screens show it (`NHS(CSTF)Fire Safety - 1 Year`).
pub fn parse_competence_loose(s: &str) -> Result<CompetenceName> {
    let s = s.trim();
    if s.contains('|') {
        return s.parse();
    }
    if let Some((owner, rest)) = s.split_once('(')
        && let Some((framework, title)) = rest.split_once(')')
    {
        let owner = match owner.trim() {
            "NHS" => CompetenceOwner::National,
            o => CompetenceOwner::Local(o.parse()?),
        };
        return CompetenceName::new(owner, framework.trim(), title.trim());
    }
    s.parse()
}

/// The most bytes one record (one row, or the header) of a competence file may hold: its
/// fields' contents after unquoting, 64 KiB. A longer row is refused with its line (usually it
/// is a quote that is never closed, which runs on to the end of the file); without
/// [`ImportOptions::skip_bad_rows`] reading stops there, with it the row is skipped and reading
/// carries on at the next record. No more than this is ever held of one record, whatever the
/// file's size or its lines' lengths.
pub const MAX_CSV_RECORD_BYTES: usize = 64 * 1024;

/// The most columns the header or a row of a competence file may have: 1,024. A header with
/// more refuses the file; a row with more is a bad row.
pub const MAX_CSV_COLUMNS: usize = 1_024;

/// The most bad rows an import keeps, with their lines and reasons: the first 1,000 by line.
/// Any further bad rows are counted ([`ImportProblems::more`]) but not kept, so a refusal of a
/// huge file stays small.
pub const MAX_IMPORT_PROBLEMS: usize = 1_000;

/// The bad rows of an import: the first [`MAX_IMPORT_PROBLEMS`] (in line order, as the file is
/// read) with their lines and reasons, and a count of any more. Reads as a slice of the kept
/// problems (`problems.len()`, `problems[0]`, `problems.iter()`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "ImportProblemsFields"))]
pub struct ImportProblems {
    listed: Vec<ImportProblem>,
    more: u64,
}

/// The serialised form of [`ImportProblems`], checked on the way in: no more than
/// [`MAX_IMPORT_PROBLEMS`] listed.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct ImportProblemsFields {
    listed: Vec<ImportProblem>,
    more: u64,
}

#[cfg(feature = "serde")]
impl TryFrom<ImportProblemsFields> for ImportProblems {
    type Error = String;
    fn try_from(f: ImportProblemsFields) -> std::result::Result<Self, String> {
        if f.listed.len() > MAX_IMPORT_PROBLEMS {
            return Err(format!(
                "{} problems are listed; the most kept is {MAX_IMPORT_PROBLEMS}",
                f.listed.len()
            ));
        }
        Ok(Self {
            listed: f.listed,
            more: f.more,
        })
    }
}

impl ImportProblems {
    /// No problems.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a problem: kept while fewer than [`MAX_IMPORT_PROBLEMS`] are, counted otherwise.
    pub fn push(&mut self, problem: ImportProblem) {
        if self.listed.len() < MAX_IMPORT_PROBLEMS {
            self.listed.push(problem);
        } else {
            self.more = self.more.saturating_add(1);
        }
    }

    /// The problems kept, in line order.
    pub fn listed(&self) -> &[ImportProblem] {
        &self.listed
    }

    /// How many bad rows there were beyond those kept.
    pub fn more(&self) -> u64 {
        self.more
    }

    /// How many bad rows there were in all (kept and counted).
    pub fn total(&self) -> u64 {
        (self.listed.len() as u64).saturating_add(self.more)
    }

    /// Whether there were no bad rows at all.
    pub fn is_empty(&self) -> bool {
        self.listed.is_empty() && self.more == 0
    }

    /// Merges two lists each in line order into one in line order, keeping the first
    /// [`MAX_IMPORT_PROBLEMS`] by line and counting the rest.
    pub(crate) fn merge(self, other: Self) -> Self {
        let total = self.total().saturating_add(other.total());
        let mut listed =
            Vec::with_capacity((self.listed.len() + other.listed.len()).min(MAX_IMPORT_PROBLEMS));
        let (mut a, mut b) = (
            self.listed.into_iter().peekable(),
            other.listed.into_iter().peekable(),
        );
        while listed.len() < MAX_IMPORT_PROBLEMS {
            let take_a = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => x.line <= y.line,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            listed.extend(if take_a { a.next() } else { b.next() });
        }
        let more = total.saturating_sub(listed.len() as u64);
        Self { listed, more }
    }
}

impl From<Vec<ImportProblem>> for ImportProblems {
    /// Keeps the first [`MAX_IMPORT_PROBLEMS`] and counts the rest.
    fn from(problems: Vec<ImportProblem>) -> Self {
        let mut p = Self::new();
        for x in problems {
            p.push(x);
        }
        p
    }
}

impl std::ops::Deref for ImportProblems {
    type Target = [ImportProblem];
    fn deref(&self) -> &[ImportProblem] {
        &self.listed
    }
}

impl IntoIterator for ImportProblems {
    type Item = ImportProblem;
    type IntoIter = std::vec::IntoIter<ImportProblem>;
    fn into_iter(self) -> Self::IntoIter {
        self.listed.into_iter()
    }
}

impl<'a> IntoIterator for &'a ImportProblems {
    type Item = &'a ImportProblem;
    type IntoIter = std::slice::Iter<'a, ImportProblem>;
    fn into_iter(self) -> Self::IntoIter {
        self.listed.iter()
    }
}

impl fmt::Display for ImportProblems {
    /// `3 bad row(s), the first at line 7: …` (and how many were not listed).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bad row(s)", self.total())?;
        if let Some(first) = self.listed.first() {
            write!(f, ", the first at {first}")?;
        }
        if self.more > 0 {
            write!(
                f,
                " ({} are listed, {} more were counted but not kept)",
                self.listed.len(),
                self.more
            )?;
        }
        Ok(())
    }
}

/// One record of a competence file as read by [`RecordReader`].
enum Record {
    /// A record that fits the limits: its fields are in the reader's buffers.
    Fields {
        /// The line it starts on, from 1.
        line: u64,
    },
    /// A record over [`MAX_CSV_RECORD_BYTES`], skipped to its end unless reading stopped.
    TooLong {
        /// The line it starts on.
        line: u64,
    },
    /// A record with more than [`MAX_CSV_COLUMNS`] fields, skipped to its end.
    TooManyColumns {
        /// The line it starts on.
        line: u64,
    },
    /// The end of the file.
    End,
}

/// Reads CSV records one at a time with `csv_core`, holding at most one chunk of input and
/// one record (bounded by [`MAX_CSV_RECORD_BYTES`] and [`MAX_CSV_COLUMNS`]), and tracking the
/// line each record starts on itself: lines end at `\n`, `\r\n` or a lone `\r` (also inside
/// quoted fields), blank lines count, and a UTF-8 byte order mark at the start is dropped.
struct RecordReader<R> {
    core: csv_core::Reader,
    src: R,
    input: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    started: bool,
    /// Field contents of the current record; one byte longer than the limit, to tell "exactly
    /// at the limit" from "over".
    out: Vec<u8>,
    /// Field ends in `out`; one longer than the column limit.
    ends: Vec<usize>,
    /// Fields and bytes of the last record returned as [`Record::Fields`].
    nfields: usize,
    /// The line of the next byte to read, from 1.
    line: u64,
    prev_cr: bool,
    /// Whether the next byte that is not a line ending starts a record.
    at_start: bool,
    start_line: u64,
}

impl<R: std::io::Read> RecordReader<R> {
    fn new(src: R) -> Self {
        Self {
            core: csv_core::Reader::new(),
            src,
            input: vec![0; READ_CHUNK_BYTES],
            pos: 0,
            len: 0,
            eof: false,
            started: false,
            out: vec![0; MAX_CSV_RECORD_BYTES + 1],
            ends: vec![0; MAX_CSV_COLUMNS + 1],
            nfields: 0,
            line: 1,
            prev_cr: false,
            at_start: true,
            start_line: 1,
        }
    }

    /// A reader that continues a file at a record's start in `src`: the line there and
    /// whether the byte before was a `\r` (a byte order mark there is text, not dropped).
    fn resume(src: R, line: u64, prev_cr: bool) -> Self {
        let mut r = Self::new(src);
        r.started = true;
        // csv_core drops a byte order mark at its very start only: this one is past it.
        let _ = r.core.read_record(b"\n", &mut [0], &mut [0]);
        r.line = line;
        r.prev_cr = prev_cr;
        r
    }

    /// Goes on at a record's start in `src` (on `line`, after a `\r` when `prev_cr`), the
    /// bytes read before dropped.
    fn seek(&mut self, line: u64, prev_cr: bool) {
        self.pos = 0;
        self.len = 0;
        self.eof = false;
        self.at_start = true;
        self.line = line;
        self.prev_cr = prev_cr;
    }

    /// Bytes read from `src` but not yet parsed.
    fn unread(&self) -> usize {
        self.len - self.pos
    }

    /// Bytes read from `src` but not yet parsed, and where reading is: the line and whether
    /// the last byte parsed was a `\r`. Only between records (after [`Record::Fields`]).
    fn into_rest(self) -> (R, Vec<u8>, u64, bool) {
        let rest = self.input[self.pos..self.len].to_vec();
        (self.src, rest, self.line, self.prev_cr)
    }

    /// Refills the input buffer (which is empty); at the very start, drops a byte order mark.
    fn fill(&mut self) -> std::io::Result<()> {
        self.pos = 0;
        self.len = 0;
        let want = if self.started { 1 } else { 3 };
        while self.len < want && !self.eof {
            match self.src.read(&mut self.input[self.len..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.len += n.min(self.input.len() - self.len),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if !self.started {
            self.started = true;
            if self.input[..self.len].starts_with(b"\xEF\xBB\xBF") {
                self.pos = 3;
            }
        }
        Ok(())
    }

    /// The line reading is at: the current record's, or where the next one would start.
    fn reading_line(&self) -> u64 {
        if self.at_start {
            self.line + u64::from(self.prev_cr)
        } else {
            self.start_line
        }
    }

    /// Counts lines over bytes the parser consumed (all of one record, and the line endings
    /// before it), noting where the record starts.
    fn scan(&mut self, from: usize, to: usize) {
        let mut bytes = &self.input[from..to];
        let (mut line, mut prev_cr) = (self.line, self.prev_cr);
        // Line endings before the record, up to its first byte.
        while self.at_start {
            let Some((&b, rest)) = bytes.split_first() else {
                break;
            };
            count_line(b, &mut line, &mut prev_cr);
            if b != b'\n' && b != b'\r' {
                self.at_start = false;
                self.start_line = line;
            }
            bytes = rest;
        }
        // The record's bytes: usually no `\r`, so the `\n` are just counted (in one pass
        // that also looks for `\r`, which the compiler vectorises).
        let (newlines, cr) = bytes.iter().fold((0u64, false), |(n, cr), &b| {
            (n + u64::from(b == b'\n'), cr | (b == b'\r'))
        });
        if !prev_cr && !cr {
            line += newlines;
        } else {
            for &b in bytes {
                count_line(b, &mut line, &mut prev_cr);
            }
        }
        self.line = line;
        self.prev_cr = prev_cr;
    }

    /// The next record. With `stop_if_too_long`, a record over the limit is reported as soon
    /// as it is seen, without reading to its end.
    fn next(&mut self, stop_if_too_long: bool) -> std::io::Result<Record> {
        use csv_core::ReadRecordResult as R;
        let (mut nout, mut nend) = (0, 0);
        let (mut too_long, mut too_wide) = (false, false);
        loop {
            // An empty input tells the parser the file has ended: refill until there is some
            // (a byte order mark alone leaves none) or the file has ended.
            while self.pos == self.len && !self.eof {
                self.fill()?;
            }
            let (res, nin, o, e) = self.core.read_record(
                &self.input[self.pos..self.len],
                &mut self.out[nout..],
                &mut self.ends[nend..],
            );
            self.scan(self.pos, self.pos + nin);
            self.pos += nin;
            nout += o;
            nend += e;
            match res {
                R::InputEmpty => {}
                R::OutputFull => {
                    too_long = true;
                    nout = 0;
                    if stop_if_too_long {
                        return Ok(Record::TooLong {
                            line: self.start_line,
                        });
                    }
                }
                R::OutputEndsFull => {
                    too_wide = true;
                    nend = 0;
                }
                R::Record => {
                    self.at_start = true;
                    let line = self.start_line;
                    return Ok(if too_long || nout > MAX_CSV_RECORD_BYTES {
                        Record::TooLong { line }
                    } else if too_wide || nend > MAX_CSV_COLUMNS {
                        Record::TooManyColumns { line }
                    } else {
                        self.nfields = nend;
                        Record::Fields { line }
                    });
                }
                R::End => return Ok(Record::End),
            }
        }
    }

    /// The fields of the last [`Record::Fields`], each checked to be UTF-8: `Err(i)` names
    /// the first field (from 0) that is not.
    fn fields(&self) -> std::result::Result<Vec<&str>, usize> {
        let mut start = 0;
        (0..self.nfields)
            .map(|i| {
                let end = self.ends[i];
                let f = std::str::from_utf8(&self.out[start..end]).map_err(|_| i);
                start = end;
                f
            })
            .collect()
    }
}

fn header_index(headers: &[String], names: &[&str]) -> Option<usize> {
    headers.iter().position(|h| {
        let h = h.trim().trim_start_matches('\u{feff}');
        names.iter().any(|n| h.eq_ignore_ascii_case(n))
    })
}

/// The refusal of a whole file with one problem, keeping those found before it.
fn refuse(mut problems: ImportProblems, line: u64, reason: String) -> Error {
    problems.push(ImportProblem { line, reason });
    Error::ImportRejected { problems }
}

fn too_long(line: u64, stopped: bool) -> ImportProblem {
    ImportProblem {
        line,
        reason: format!(
            "the row is over {} KiB ({MAX_CSV_RECORD_BYTES} bytes), the most a row may hold; \
             look for a quote that is never closed, or shorten its fields{}",
            MAX_CSV_RECORD_BYTES / 1024,
            if stopped {
                "; the rest of the file was not read"
            } else {
                ""
            }
        ),
    }
}

fn too_wide(line: u64) -> ImportProblem {
    ImportProblem {
        line,
        reason: format!(
            "the row has more than {MAX_CSV_COLUMNS} columns, the most a row may have; \
             check its delimiters"
        ),
    }
}

fn unreadable(line: u64, e: &std::io::Error, mut problems: ImportProblems) -> Error {
    problems.push(unreadable_problem(line, e));
    Error::ImportRejected { problems }
}

/// The problem of a file that could not be read past `line`.
fn unreadable_problem(line: u64, e: &std::io::Error) -> ImportProblem {
    ImportProblem {
        line,
        reason: format!(
            "the file could not be read past this line ({e}); check the file or its source and try again"
        ),
    }
}

/// Moves the line count over one byte: `\n`, `\r\n` and a lone `\r` each end a line (a `\r`
/// is counted once the next byte shows it was not followed by `\n`).
fn count_line(b: u8, line: &mut u64, prev_cr: &mut bool) {
    match b {
        b'\n' => {
            *line += 1;
            *prev_cr = false;
        }
        b'\r' => {
            *line += u64::from(*prev_cr);
            *prev_cr = true;
        }
        _ => {
            *line += u64::from(*prev_cr);
            *prev_cr = false;
        }
    }
}

/// [`parse_export_rows`] over bytes, with `skip_bad_rows`, collecting the good rows.
#[cfg(test)]
pub(crate) fn parse_export(vpd: VpdCode, data: &[u8]) -> Result<(Vec<ExportRow>, ImportProblems)> {
    let mut rows = Vec::new();
    let problems = parse_export_rows(vpd, data, true, |row, _| rows.push(row))?;
    Ok((rows, problems))
}

/// Parses an ESR competence export from `reader` as it reads. Columns are found by header, in
/// any order and case: `Employee Number`, `Competency Name` (or `Competence Name`) and `Expiry
/// Date` are needed (an empty expiry means never expires); `VPD` (must be the importing
/// trust's), `Achieved Date` (or `Date Achieved`, `Date From`) and `Competence Level` (or
/// `Proficiency Level`, `Level`) are read when present; other columns are ignored. Hands each
/// good row to `each` (with the problem list, to which it may add) and returns the bad rows, in
/// line order. Memory does not depend on the file's size: one chunk
/// of input and one record (at most [`MAX_CSV_RECORD_BYTES`]) are held, and at most
/// [`MAX_IMPORT_PROBLEMS`] problems. A header that cannot be read, is over the limits or lacks
/// a needed column refuses the file; so does a row over [`MAX_CSV_RECORD_BYTES`] unless
/// `skip_bad_rows` (then it is skipped to its end), and a read error.
///
/// The bytes are decoded with [`CsvEncoding::AUTO`]: UTF-8 where they are, Windows-1252 where
/// they are not.
pub(crate) fn parse_export_rows<R: std::io::Read>(
    vpd: VpdCode,
    reader: R,
    skip_bad_rows: bool,
    each: impl FnMut(ExportRow, &mut ImportProblems),
) -> Result<ImportProblems> {
    let mut text = DecodingReader::new(reader, CsvEncoding::AUTO);
    parse_text_rows(vpd, &mut text, skip_bad_rows, each)
}

/// Where the columns the reader uses are in the header (from 0).
#[derive(Debug, Clone, Copy)]
struct ExportColumns {
    employee: usize,
    name: usize,
    expiry: usize,
    vpd: Option<usize>,
    achieved: Option<usize>,
    level: Option<usize>,
}

/// Reads the header and finds the columns; refuses the file when the header cannot be read,
/// is over the limits or lacks a needed column.
fn read_header<R: std::io::Read>(rdr: &mut RecordReader<R>) -> Result<ExportColumns> {
    let problems = ImportProblems::new();
    let headers: Vec<String> = match rdr.next(true) {
        Err(e) => return Err(unreadable(rdr.reading_line(), &e, problems)),
        Ok(Record::End) => Vec::new(),
        Ok(Record::TooLong { line }) => {
            return Err(refuse(
                problems,
                line,
                format!(
                    "the header is over {} KiB ({MAX_CSV_RECORD_BYTES} bytes); export the competences with ESR's header",
                    MAX_CSV_RECORD_BYTES / 1024
                ),
            ));
        }
        Ok(Record::TooManyColumns { line }) => {
            return Err(refuse(
                problems,
                line,
                format!(
                    "the header has more than {MAX_CSV_COLUMNS} columns; export the competences with ESR's header"
                ),
            ));
        }
        Ok(Record::Fields { line }) => match rdr.fields() {
            Ok(f) => f.into_iter().map(str::to_owned).collect(),
            Err(i) => {
                return Err(refuse(
                    problems,
                    line,
                    format!(
                        "the header cannot be read (column {} is not UTF-8); save the file as UTF-8 CSV",
                        i + 1
                    ),
                ));
            }
        },
    };
    let header_line = rdr.start_line;
    let need = |names: &[&str], label: &str| {
        header_index(&headers, names).ok_or_else(|| {
            refuse(
                ImportProblems::new(),
                header_line,
                format!("the header has no {label} column; export the competences with it"),
            )
        })
    };
    Ok(ExportColumns {
        employee: need(&["Employee Number"], "Employee Number")?,
        name: need(&["Competency Name", "Competence Name"], "Competency Name")?,
        expiry: need(&["Expiry Date"], "Expiry Date")?,
        vpd: header_index(&headers, &["VPD", "VPD Code"]),
        achieved: header_index(&headers, &["Achieved Date", "Date Achieved", "Date From"]),
        level: header_index(
            &headers,
            &["Competence Level", "Proficiency Level", "Level"],
        ),
    })
}

/// What the reader does with the next record: the line of a record whose fields are in the
/// reader's buffers, the end of the file, or nothing (a bad record, already counted in
/// `problems`). A record over the limits without `skip_bad_rows` and a read error stop the
/// reading with the problems so far.
fn next_record<R: std::io::Read>(
    rdr: &mut RecordReader<R>,
    skip_bad_rows: bool,
    problems: &mut ImportProblems,
) -> Result<Option<Option<u64>>> {
    match rdr.next(!skip_bad_rows) {
        Err(e) => Err(unreadable(rdr.reading_line(), &e, std::mem::take(problems))),
        Ok(Record::End) => Ok(None),
        Ok(Record::TooLong { line }) => {
            if skip_bad_rows {
                problems.push(too_long(line, false));
                return Ok(Some(None));
            }
            problems.push(too_long(line, true));
            Err(Error::ImportRejected {
                problems: std::mem::take(problems),
            })
        }
        Ok(Record::TooManyColumns { line }) => {
            problems.push(too_wide(line));
            Ok(Some(None))
        }
        Ok(Record::Fields { line }) => Ok(Some(Some(line))),
    }
}

/// Checks one row's fields (`rec`, already read as UTF-8) by the rules of the export: the good
/// row, `Ok(None)` for a blank row, or what is wrong with it.
fn check_row(
    vpd: VpdCode,
    cols: &ExportColumns,
    line: u64,
    rec: &[&str],
) -> std::result::Result<Option<ExportRow>, String> {
    if rec.iter().all(|f| f.trim().is_empty()) {
        return Ok(None);
    }
    let field = |c: usize| rec.get(c).map(|f| f.trim()).unwrap_or("");
    let mut why = Vec::new();
    if let Some(c) = cols.vpd {
        let v = field(c);
        if v != vpd.as_str() {
            why.push(format!(
                "VPD {} is not this trust's ({vpd}); import each trust's rows into that trust",
                crate::values::limits::shown(v)
            ));
        }
    }
    let employee = field(cols.employee)
        .parse::<EmployeeNumber>()
        .map_err(|e| why.push(format!("Employee Number: {e}")))
        .ok();
    let competence = parse_competence_loose(field(cols.name))
        .map_err(|e| why.push(format!("Competency Name: {e}")))
        .ok();
    let expiry = match field(cols.expiry) {
        "" => Some(None),
        s => parse_esr_date(s)
            .map(Some)
            .map_err(|e| why.push(format!("Expiry Date: {e}")))
            .ok(),
    };
    let achieved = match cols.achieved.map(field) {
        None | Some("") => Some(None),
        Some(s) => parse_esr_date(s)
            .map(Some)
            .map_err(|e| why.push(format!("Achieved Date: {e}")))
            .ok(),
    };
    let level = match cols.level.map(field) {
        None | Some("") => Some(CompetenceLevel::default()),
        Some(s) => s
            .parse::<CompetenceLevel>()
            .map_err(|e| why.push(format!("Competence Level: {e}")))
            .ok(),
    };
    if let (Some(Some(a)), Some(Some(e))) = (achieved, expiry)
        && e < a
    {
        why.push(format!(
            "the expiry {} is before the achieved date {}; check both dates",
            format_esr_date(e),
            format_esr_date(a)
        ));
    }
    match (employee, competence, expiry, achieved, level) {
        (Some(employee), Some(competence), Some(expiry), Some(achieved), Some(level))
            if why.is_empty() =>
        {
            Ok(Some(ExportRow {
                line,
                employee,
                competence,
                achieved,
                expiry,
                level,
            }))
        }
        _ => Err(why.join("; ")),
    }
}

/// The problem of a row whose column `i` (from 0) is not UTF-8.
fn not_utf8(line: u64, i: usize) -> ImportProblem {
    ImportProblem {
        line,
        reason: format!(
            "the row cannot be read as CSV (column {} is not UTF-8); fix its encoding",
            i + 1
        ),
    }
}

/// [`parse_export_rows`] over text already decoded to UTF-8.
fn parse_text_rows<R: std::io::Read>(
    vpd: VpdCode,
    reader: R,
    skip_bad_rows: bool,
    mut each: impl FnMut(ExportRow, &mut ImportProblems),
) -> Result<ImportProblems> {
    let mut rdr = RecordReader::new(reader);
    let cols = read_header(&mut rdr)?;
    let mut problems = ImportProblems::new();
    while let Some(record) = next_record(&mut rdr, skip_bad_rows, &mut problems)? {
        let Some(line) = record else { continue };
        let rec = match rdr.fields() {
            Ok(rec) => rec,
            Err(i) => {
                problems.push(not_utf8(line, i));
                continue;
            }
        };
        match check_row(vpd, &cols, line, &rec) {
            Ok(Some(row)) => each(row, &mut problems),
            Ok(None) => {}
            Err(reason) => problems.push(ImportProblem { line, reason }),
        }
    }
    Ok(problems)
}

/// An ESR competence export as columns (Arrow-shaped), one entry per good row in file order:
/// what [`read_competence_export`] returns for analysts and the bulk scorer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompetenceExportColumns {
    /// The row's line in the file (the header is line 1).
    pub line: Vec<u64>,
    /// The employee number as written (`20000001`).
    pub employee_number: Vec<String>,
    /// The employee number as an integer id (employee numbers are 6 to 12 digits), the
    /// `person_id` of the bulk scorer.
    pub person_id: Vec<i64>,
    /// The competence's full name in the pipe form (`NHS|CSTF|Fire Safety - 1 Year|`), whatever
    /// form the file used.
    pub competence: Vec<String>,
    /// The achieved date, days since 1970-01-01; `None` when the file has none.
    pub achieved: Vec<Option<i32>>,
    /// The expiry date, days since 1970-01-01; `None`: never expires.
    pub expiry: Vec<Option<i32>>,
    /// The competence level as ESR writes it (`1 - Assessed`).
    pub level: Vec<String>,
    /// The encoding the file was read in ([`DecodingReader::encoding_used`]): `utf-8`,
    /// `utf-8-sig`, `windows-1252`, or the one asked for.
    pub encoding: &'static str,
}

impl CompetenceExportColumns {
    /// Rows.
    pub fn len(&self) -> usize {
        self.line.len()
    }
    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.line.is_empty()
    }
}

impl From<CompetenceExportTable> for CompetenceExportColumns {
    /// Each text column is made and its compact form dropped in turn, so no more than one
    /// column is held twice.
    fn from(t: CompetenceExportTable) -> Self {
        let CompetenceExportTable {
            line,
            employee_number,
            person_id,
            competence,
            achieved,
            expiry,
            level,
            encoding,
        } = t;
        let text = |d: DictionaryColumn| d.iter().map(str::to_owned).collect();
        let employee_number = {
            let e = employee_number;
            e.iter().map(str::to_owned).collect()
        };
        Self {
            line,
            employee_number,
            person_id,
            competence: text(competence),
            achieved,
            expiry,
            level: text(level),
            encoding,
        }
    }
}

/// Reads an ESR competence export (the columns [`crate::Esr::import_competences`]
/// reads, found by header) from `reader` as it goes, into columns, without touching any
/// service. A row with a bad field refuses the whole file with [`Error::ImportRejected`] (the
/// bad rows with their lines, the first [`MAX_IMPORT_PROBLEMS`] listed and the rest counted);
/// with [`ImportOptions::skip_bad_rows`] the good rows are returned and the bad ones listed
/// beside them. Duplicates are kept: the bulk scorer takes the latest expiry itself.
///
/// Memory grows with the good rows' columns only: the file is read in chunks, one record of at
/// most [`MAX_CSV_RECORD_BYTES`] (with at most [`MAX_CSV_COLUMNS`] columns) is held at a time,
/// and a longer one is refused by its line (see [`MAX_CSV_RECORD_BYTES`]) after reading no
/// more than the limit of it unless `skip_bad_rows`. Line numbers are those of the line each
/// record starts on, counting blank lines and line breaks inside quoted fields.
///
/// The bytes are decoded with [`CsvEncoding::AUTO`] (UTF-8, with or without a byte order mark,
/// or Windows-1252 where they are not UTF-8); [`read_competence_export_with_encoding`] takes
/// another. The encoding read is in [`CompetenceExportColumns::encoding`].
/// [`read_competence_table`] reads the same rows into more compact columns (the text ones
/// as one buffer, or as keys into the distinct values), faster.
pub fn read_competence_export<R: std::io::Read>(
    vpd: VpdCode,
    reader: R,
    options: ImportOptions,
) -> Result<(CompetenceExportColumns, ImportProblems)> {
    read_competence_export_with_encoding(vpd, reader, options, CsvEncoding::AUTO)
}

/// [`read_competence_export`], decoding the bytes with `encoding`.
pub fn read_competence_export_with_encoding<R: std::io::Read>(
    vpd: VpdCode,
    reader: R,
    options: ImportOptions,
    encoding: CsvEncoding,
) -> Result<(CompetenceExportColumns, ImportProblems)> {
    read_competence_table(vpd, reader, options, encoding, None).map(|(t, p)| (t.into(), p))
}

fn status_cell(status: Option<ComplianceStatus>, expiry: Option<NaiveDate>) -> String {
    match (status, expiry) {
        (None, _) => String::new(),
        (Some(s), Some(e)) => format!("{s} {}", format_esr_date(e)),
        (Some(s), None) => s.to_string(),
    }
}

/// Writes a compliance matrix: one line per assignment (`Employee Number`, `Assignment`,
/// `Organisation Unit`, `As Of`, `Essential`, `Green`, `Amber`, `Red`, `Compliance Percentage`)
/// and one column per competence any of them needs or holds, whose cell is the row's status and
/// the expiry that counts (`Amber 12-Aug-2018`; `Red` alone when not held; empty when the
/// competence is neither needed nor held).
pub fn compliance_matrix_csv(rows: &[(EmployeeNumber, AssignmentCompliance)]) -> Result<String> {
    let competences: BTreeSet<&CompetenceName> = rows
        .iter()
        .flat_map(|(_, a)| a.rows.iter().map(|r| &r.competence))
        .collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let storage = |e: csv::Error| Error::Storage(format!("writing the compliance matrix: {e}"));
    let mut header = vec![
        "Employee Number".to_owned(),
        "Assignment".to_owned(),
        "Organisation Unit".to_owned(),
        "As Of".to_owned(),
        "Essential".to_owned(),
        "Green".to_owned(),
        "Amber".to_owned(),
        "Red".to_owned(),
        "Compliance Percentage".to_owned(),
    ];
    header.extend(competences.iter().map(|c| c.to_string()));
    w.write_record(&header).map_err(storage)?;
    for (employee, a) in rows {
        let mut line = vec![
            employee.to_string(),
            a.assignment.to_string(),
            a.org_unit.to_string(),
            format_esr_date(a.as_of),
            a.counts.essential.to_string(),
            a.counts.green.to_string(),
            a.counts.amber.to_string(),
            a.counts.red.to_string(),
            format_percent(a.percent()),
        ];
        for c in &competences {
            let cell = a
                .rows
                .iter()
                .find(|r| &&r.competence == c)
                .map(|r| status_cell(r.status, r.holding.expiry()))
                .unwrap_or_default();
            line.push(cell);
        }
        w.write_record(&line).map_err(storage)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Storage(format!("writing the compliance matrix: {e}")))?;
    String::from_utf8(bytes)
        .map_err(|e| Error::Storage(format!("the compliance matrix is not UTF-8: {e}")))
}

mod stream;
mod table;
pub use stream::*;
pub use table::*;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
