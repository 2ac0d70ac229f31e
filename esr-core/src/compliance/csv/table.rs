//! Reading a competence export into compact, Arrow-shaped columns, fast: the same rows, the
//! same bad rows and the same messages as the row-by-row rules ([`check_row`]), which every
//! row the quick path below cannot vouch for goes through.
//!
//! The quick path takes a row's fields in place (no allocation per row), reads `DD-Mon-YYYY`
//! dates directly, and parses each distinct competence name and level once (they repeat on
//! every row), keeping the row's key into the distinct values.

use super::*;
use crate::values::esr_date_parts;
use std::collections::HashMap;

/// A text column as one buffer and where each value ends in it (Arrow's layout).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextColumn {
    text: String,
    ends: Vec<usize>,
}

impl TextColumn {
    /// Values.
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// The values, one after another.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// Where each value ends in [`TextColumn::text`] (value `i` starts where `i - 1` ends).
    pub fn ends(&self) -> &[usize] {
        &self.ends
    }
    /// Value `i`.
    pub fn get(&self, i: usize) -> Option<&str> {
        let start = match i {
            0 => 0,
            _ => *self.ends.get(i - 1)?,
        };
        self.text.get(start..*self.ends.get(i)?)
    }
    /// The values in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or(""))
    }
    /// The buffer and the ends, to hand over without copying.
    pub fn into_parts(self) -> (String, Vec<usize>) {
        (self.text, self.ends)
    }
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len());
    }
}

/// A text column whose values repeat: each row's key into `values` (which are not
/// necessarily distinct: two spellings of one name give two equal values).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DictionaryColumn {
    /// Each row's value, as an index into [`DictionaryColumn::values`].
    pub keys: Vec<u32>,
    /// The values the keys point at.
    pub values: Vec<String>,
}

impl DictionaryColumn {
    /// Rows.
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
    /// Row `i`'s value.
    pub fn get(&self, i: usize) -> Option<&str> {
        let k = *self.keys.get(i)?;
        self.values
            .get(usize::try_from(k).ok()?)
            .map(String::as_str)
    }
    /// The rows' values in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.keys.iter().map(|&k| {
            usize::try_from(k)
                .ok()
                .and_then(|k| self.values.get(k))
                .map_or("", String::as_str)
        })
    }
}

/// An ESR competence export as compact columns, one entry per good row in file order: what
/// [`read_competence_table`] returns (the same rows as [`CompetenceExportColumns`], with the
/// text columns as one buffer or as keys into their values).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompetenceExportTable {
    /// The row's line in the file (the header is line 1).
    pub line: Vec<u64>,
    /// The employee number as written (`20000001`).
    pub employee_number: TextColumn,
    /// The employee number as an integer id, the `person_id` of the bulk scorer.
    pub person_id: Vec<i64>,
    /// The competence's full name in the pipe form (`NHS|CSTF|Fire Safety - 1 Year|`).
    pub competence: DictionaryColumn,
    /// The achieved date, days since 1970-01-01; `None` when the file has none.
    pub achieved: Vec<Option<i32>>,
    /// The expiry date, days since 1970-01-01; `None`: never expires.
    pub expiry: Vec<Option<i32>>,
    /// The competence level as ESR writes it (`1 - Assessed`).
    pub level: DictionaryColumn,
    /// The encoding the file was read in ([`DecodingReader::encoding_used`]).
    pub encoding: &'static str,
}

impl CompetenceExportTable {
    /// Rows.
    pub fn len(&self) -> usize {
        self.line.len()
    }
    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.line.is_empty()
    }
}

/// The most distinct texts of a column remembered with their parsed value; beyond it a text
/// not yet seen is parsed on every row (its value is still kept), so the memory the reader
/// holds besides the columns stays bounded whatever the file holds.
const MAX_REMEMBERED: usize = 4_096;

/// The distinct texts of a column, each parsed once: the text as written (trimmed) to its key
/// in the column's values, or to why it is not a value.
#[derive(Default)]
struct Interner {
    seen: HashMap<Box<str>, Option<u32>, foldhash::fast::RandomState>,
    /// Values given keys so far: a column may hand its values on (a block's new ones, to be
    /// merged) while the keys keep counting.
    count: usize,
}

impl Interner {
    /// The key of `raw`'s value in `column`, parsing it with `parse` the first time it is
    /// seen; `None` when `parse` refuses it (or the column holds `u32::MAX` values).
    fn key(
        &mut self,
        column: &mut DictionaryColumn,
        raw: &str,
        parse: impl FnOnce(&str) -> Option<String>,
    ) -> Option<u32> {
        if let Some(&k) = self.seen.get(raw) {
            return k;
        }
        let key = parse(raw).and_then(|v| {
            let k = u32::try_from(self.count).ok()?;
            column.values.push(v);
            self.count += 1;
            Some(k)
        });
        if self.seen.len() < MAX_REMEMBERED {
            self.seen.insert(raw.into(), key);
        }
        key
    }
}

/// A `DD-Mon-YYYY` date (or none) as days since 1970-01-01; `None` when the quick reading
/// cannot tell. Reads the fields as [`parse_esr_date_fast`](crate::values::parse_esr_date_fast)
/// does ([`esr_date_parts`]) and counts the days itself (it is done twice a row).
fn quick_date(s: &str) -> Option<Option<i32>> {
    if s.is_empty() {
        return Some(None);
    }
    let (year, month, day) = esr_date_parts(s)?;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let last = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day == 0 || day > last {
        return None;
    }
    Some(Some(days_from_civil(year, month, day)))
}

#[cfg(test)]
pub(super) fn quick_date_for_tests(s: &str) -> Option<Option<i32>> {
    quick_date(s)
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar with a year from 0 to
/// 9999 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: u32, month: u32, day: u32) -> i32 {
    // Years start in March, so the leap day is the last; shifted by 400 years to stay positive.
    let y = year + 400 - u32::from(month <= 2);
    let era = y / 400;
    let yoe = y % 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    // 719_468 days from 0000-03-01 to 1970-01-01, and the 146_097 of the 400 years added.
    (era * 146_097 + doe) as i32 - 719_468 - 146_097
}

/// The fewest bytes a row of an export is expected to take, for setting columns aside by the
/// file's size: a row of ESR's export is 100 bytes or more; one shorter than this only makes
/// the columns grow as they would without a size.
const MIN_ROW_BYTES: u64 = 32;

/// Records handed from the parsing thread to the one building the columns, in file order.
#[derive(Default)]
struct Batch {
    /// The records' field contents, one after another.
    bytes: Vec<u8>,
    /// Where each field ends in `bytes`.
    ends: Vec<usize>,
    items: Vec<Item>,
}

/// Records of about this many bytes, or this many records, go in one batch: small enough that
/// the few batches in flight hold well under a MiB, large enough that handing one over costs
/// next to nothing.
const BATCH_BYTES: usize = 64 * 1024;
const BATCH_RECORDS: usize = 1_024;

enum Item {
    /// A record: its line, and its fields' ends `ends[first..last]` (its first field starts
    /// at `start` in `bytes`).
    Record {
        line: u64,
        start: usize,
        first: usize,
        last: usize,
    },
    /// A bad record, as the parser found it.
    Problem(ImportProblem),
}

enum Msg {
    Batch(Batch),
    /// Reading stopped here (a read error, or a row over the limit without `skip_bad_rows`):
    /// the import is refused with this last problem.
    Stop(ImportProblem),
}

/// Parses records with `rdr` and hands them to `send` in batches, until the file ends, reading
/// stops, or `send` says to stop (returns `None`); otherwise `send` returns an empty batch to
/// fill next (one handed back, so their memory is reused rather than asked for afresh).
fn parse_records<R: std::io::Read>(
    rdr: &mut RecordReader<R>,
    skip_bad_rows: bool,
    mut send: impl FnMut(Msg) -> Option<Batch>,
) {
    let mut batch = Batch::default();
    loop {
        match rdr.next(!skip_bad_rows) {
            Err(e) => {
                let p = unreadable_problem(rdr.reading_line(), &e);
                if send(Msg::Batch(batch)).is_some() {
                    send(Msg::Stop(p));
                }
                return;
            }
            Ok(Record::End) => break,
            Ok(Record::TooLong { line }) => {
                if !skip_bad_rows {
                    if send(Msg::Batch(batch)).is_some() {
                        send(Msg::Stop(too_long(line, true)));
                    }
                    return;
                }
                batch.items.push(Item::Problem(too_long(line, false)));
            }
            Ok(Record::TooManyColumns { line }) => {
                batch.items.push(Item::Problem(too_wide(line)));
            }
            Ok(Record::Fields { line }) => {
                let ends = &rdr.ends[..rdr.nfields];
                let start = batch.bytes.len();
                let first = batch.ends.len();
                batch
                    .bytes
                    .extend_from_slice(&rdr.out[..ends.last().copied().unwrap_or(0)]);
                batch.ends.extend(ends.iter().map(|e| start + e));
                batch.items.push(Item::Record {
                    line,
                    start,
                    first,
                    last: batch.ends.len(),
                });
            }
        }
        if batch.bytes.len() >= BATCH_BYTES || batch.items.len() >= BATCH_RECORDS {
            match send(Msg::Batch(std::mem::take(&mut batch))) {
                Some(next) => batch = next,
                None => return,
            }
        }
    }
    send(Msg::Batch(batch));
}

/// Sets `fields` to the fields of a record without quotes (split at its commas).
fn split_commas<'a>(record: &'a str, fields: &mut Vec<&'a str>) {
    fields.clear();
    let mut from = 0;
    for (i, &b) in record.as_bytes().iter().enumerate() {
        if b == b',' {
            fields.push(record.get(from..i).unwrap_or_default());
            from = i + 1;
        }
    }
    fields.push(record.get(from..).unwrap_or_default());
}

/// Sets `fields` to a record's fields (ending at `ends` in `bytes`, the first starting at
/// `start`); false when the record is not UTF-8.
fn split_fields<'a>(
    bytes: &'a [u8],
    start: usize,
    ends: &[usize],
    fields: &mut Vec<&'a str>,
) -> bool {
    fields.clear();
    let Ok(all) = std::str::from_utf8(&bytes[start..ends.last().copied().unwrap_or(start)]) else {
        return false;
    };
    let mut from = 0;
    for &end in ends {
        match all.get(from..end - start) {
            Some(f) => fields.push(f),
            None => return false,
        }
        from = end - start;
    }
    true
}

/// The first field (from 0) of a record that is not UTF-8.
fn not_utf8_field(bytes: &[u8], start: usize, ends: &[usize]) -> usize {
    let mut from = start;
    for (i, &end) in ends.iter().enumerate() {
        if std::str::from_utf8(&bytes[from..end]).is_err() {
            return i;
        }
        from = end;
    }
    0
}

/// Sets `t`'s columns aside for the rows a file of `bytes` could hold, if the address space
/// can be had (nothing is reserved otherwise: the columns grow as they go).
fn reserve(t: &mut CompetenceExportTable, bytes: u64) {
    let rows = usize::try_from(bytes / MIN_ROW_BYTES).unwrap_or(usize::MAX);
    let _ = t.line.try_reserve_exact(rows).is_ok()
        && t.person_id.try_reserve_exact(rows).is_ok()
        && t.achieved.try_reserve_exact(rows).is_ok()
        && t.expiry.try_reserve_exact(rows).is_ok()
        && t.competence.keys.try_reserve_exact(rows).is_ok()
        && t.level.keys.try_reserve_exact(rows).is_ok()
        && t.employee_number.ends.try_reserve_exact(rows).is_ok()
        && t.employee_number
            .text
            .try_reserve_exact(rows.saturating_mul(8))
            .is_ok();
}

/// Builds the columns from the parsed records, in file order.
struct Builder {
    vpd: VpdCode,
    cols: ExportColumns,
    skip_bad_rows: bool,
    t: CompetenceExportTable,
    names: Interner,
    levels: Interner,
    default_level: String,
    problems: ImportProblems,
    /// Why the import stopped, once it has.
    stopped: Option<Error>,
}

impl Builder {
    fn new(vpd: VpdCode, cols: ExportColumns, skip_bad_rows: bool) -> Self {
        Self {
            vpd,
            cols,
            skip_bad_rows,
            t: CompetenceExportTable::default(),
            names: Interner::default(),
            levels: Interner::default(),
            default_level: CompetenceLevel::default().to_string(),
            problems: ImportProblems::new(),
            stopped: None,
        }
    }

    /// Sets the columns aside for the rows a file of `bytes` could hold, if the address space
    /// can be had (nothing is reserved otherwise: the columns grow as they go).
    fn reserve(&mut self, bytes: u64) {
        reserve(&mut self.t, bytes);
    }

    /// Takes one message; gives the batch back emptied, or `None` once the import has
    /// stopped.
    fn take(&mut self, msg: Msg) -> Option<Batch> {
        if self.stopped.is_some() {
            return None;
        }
        match msg {
            Msg::Batch(mut b) => {
                let mut fields = Vec::new();
                for item in &b.items {
                    match item {
                        Item::Problem(p) => self.problems.push(p.clone()),
                        &Item::Record {
                            line,
                            start,
                            first,
                            last,
                        } => {
                            let ends = &b.ends[first..last];
                            if !split_fields(&b.bytes, start, ends, &mut fields) {
                                self.problems
                                    .push(not_utf8(line, not_utf8_field(&b.bytes, start, ends)));
                                continue;
                            }
                            if let Err(e) = self.record(line, &fields) {
                                self.stopped = Some(e);
                                return None;
                            }
                        }
                    }
                }
                b.bytes.clear();
                b.ends.clear();
                b.items.clear();
                Some(b)
            }
            Msg::Stop(p) => {
                self.problems.push(p);
                self.stopped = Some(Error::ImportRejected {
                    problems: std::mem::take(&mut self.problems),
                });
                None
            }
        }
    }

    /// Reads a block of decoded text that starts at a record's start (on `line`, after a
    /// `\r` when `prev_cr`) and ends at one (or at the file's end), as a [`RecordReader`]
    /// would: lines without quotes or `\r` split at commas in place, the others through a
    /// [`RecordReader`] (which also reads their quoted line breaks). The rows go into this
    /// builder's columns and problems; returns the line after the block, or why reading
    /// stopped.
    fn read_block(&mut self, text: &[u8], mut line: u64, mut prev_cr: bool) -> Result<u64, Stop> {
        let whole = std::str::from_utf8(text).ok();
        let len = text.len();
        let mut rdr: Option<RecordReader<Trickle<'_>>> = None;
        let mut fields: Vec<&str> = Vec::new();
        let mut pos = 0;
        // The next `"` or `\r` at or after `pos`: lines before it are plain.
        let mut special = if whole.is_some() { 0 } else { len };
        let mut special_seen = whole.is_none();
        while pos < len {
            let b = text[pos];
            if b == b'\n' || b == b'\r' {
                super::count_line(b, &mut line, &mut prev_cr);
                pos += 1;
                continue;
            }
            let end = memchr::memchr(b'\n', &text[pos..]).map_or(len, |k| pos + k);
            if !special_seen || special < pos {
                special = memchr::memchr2(b'"', b'\r', &text[pos..]).map_or(len, |k| pos + k);
                special_seen = true;
            }
            let plain = whole
                .filter(|_| special >= end && end - pos <= MAX_CSV_RECORD_BYTES)
                .and_then(|w| w.get(pos..end));
            if let Some(record) = plain {
                // As count_line over the record's first byte, then over its `\n`.
                line += u64::from(prev_cr);
                prev_cr = false;
                let record_line = line;
                line += u64::from(end < len);
                pos = end + 1;
                split_commas(record, &mut fields);
                if fields.len() > MAX_CSV_COLUMNS {
                    self.problems.push(too_wide(record_line));
                } else {
                    self.record(record_line, &fields).map_err(Stop::Error)?;
                }
                continue;
            }
            let r = rdr
                .get_or_insert_with(|| RecordReader::resume(Trickle { text, pos }, line, prev_cr));
            r.src.pos = pos;
            r.seek(line, prev_cr);
            if !self.next_record(r)? {
                break;
            }
            pos = r.src.pos - r.unread();
            line = r.line;
            prev_cr = r.prev_cr;
        }
        Ok(line)
    }

    /// Reads the next record with `rdr` into the columns: false at the end of the file.
    fn next_record<R: std::io::Read>(&mut self, rdr: &mut RecordReader<R>) -> Result<bool, Stop> {
        match rdr.next(!self.skip_bad_rows) {
            Err(e) => Err(Stop::Problem(unreadable_problem(rdr.reading_line(), &e))),
            Ok(Record::End) => Ok(false),
            Ok(Record::TooLong { line }) => {
                if !self.skip_bad_rows {
                    return Err(Stop::Problem(too_long(line, true)));
                }
                self.problems.push(too_long(line, false));
                Ok(true)
            }
            Ok(Record::TooManyColumns { line }) => {
                self.problems.push(too_wide(line));
                Ok(true)
            }
            Ok(Record::Fields { line }) => {
                let ends = &rdr.ends[..rdr.nfields];
                let mut fields = Vec::with_capacity(ends.len());
                if split_fields(&rdr.out, 0, ends, &mut fields) {
                    self.record(line, &fields).map_err(Stop::Error)?;
                } else {
                    self.problems
                        .push(not_utf8(line, not_utf8_field(&rdr.out, 0, ends)));
                }
                Ok(true)
            }
        }
    }

    /// The rows read since the last segment was taken, and their problems.
    fn take_segment(&mut self) -> (CompetenceExportTable, ImportProblems) {
        (
            std::mem::take(&mut self.t),
            std::mem::take(&mut self.problems),
        )
    }

    fn finish(self) -> Result<(CompetenceExportTable, ImportProblems)> {
        if let Some(e) = self.stopped {
            return Err(e);
        }
        if !self.problems.is_empty() && !self.skip_bad_rows {
            return Err(Error::ImportRejected {
                problems: self.problems,
            });
        }
        Ok((self.t, self.problems))
    }

    /// One record's fields.
    fn record(&mut self, line: u64, fields: &[&str]) -> Result<()> {
        let t = &mut self.t;
        let (names, levels) = (&mut self.names, &mut self.levels);
        let (cols, vpd, default_level) = (&self.cols, self.vpd.as_str(), &self.default_level);
        // The quick path: a record whose fields all read as the rules would read them.
        let quick = (|| {
            if fields.iter().all(|f| f.trim().is_empty()) {
                return Some(None);
            }
            let field = |c: usize| -> &str { fields.get(c).map_or("", |f| f.trim()) };
            if let Some(c) = cols.vpd
                && field(c) != vpd
            {
                return None;
            }
            let employee = field(cols.employee);
            if !(6..=crate::values::limits::MAX_EMPLOYEE_NUMBER_CHARS).contains(&employee.len())
                || !employee.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let person = employee
                .bytes()
                .fold(0i64, |n, b| n * 10 + i64::from(b - b'0'));
            let expiry = quick_date(field(cols.expiry))?;
            let achieved = match cols.achieved {
                Some(c) => quick_date(field(c))?,
                None => None,
            };
            if let (Some(a), Some(e)) = (achieved, expiry)
                && e < a
            {
                return None;
            }
            let competence = names.key(&mut t.competence, field(cols.name), |s| {
                parse_competence_loose(s)
                    .ok()
                    .map(|n| n.as_str().to_owned())
            })?;
            let level = match cols.level.map(field) {
                None | Some("") => levels.key(&mut t.level, "", |_| Some(default_level.clone()))?,
                Some(s) => levels.key(&mut t.level, s, |s| {
                    s.parse::<CompetenceLevel>().ok().map(|l| l.to_string())
                })?,
            };
            Some(Some((
                employee, person, competence, achieved, expiry, level,
            )))
        })();
        match quick {
            Some(None) => Ok(()),
            Some(Some((employee, person, competence, achieved, expiry, level))) => {
                t.line.push(line);
                t.employee_number.push(employee);
                t.person_id.push(person);
                t.competence.keys.push(competence);
                t.achieved.push(achieved);
                t.expiry.push(expiry);
                t.level.keys.push(level);
                Ok(())
            }
            None => self.by_the_rules(line, fields),
        }
    }

    /// A record the quick path does not vouch for, read by the rules row by row: the messages
    /// for a bad row, and the good rows the quick path does not read (dates written
    /// otherwise, ...).
    fn by_the_rules(&mut self, line: u64, rec: &[&str]) -> Result<()> {
        let row = match check_row(self.vpd, &self.cols, line, rec) {
            Ok(Some(row)) => row,
            Ok(None) => return Ok(()),
            Err(reason) => {
                self.problems.push(ImportProblem { line, reason });
                return Ok(());
            }
        };
        let raw = |c: Option<usize>| c.and_then(|c| rec.get(c)).map_or("", |f| f.trim());
        // Dates beyond ±5.8 million years cannot be counted in `i32` days.
        let days = |d: Option<NaiveDate>| d.map(days_since_epoch).transpose();
        let (achieved, expiry) = match (days(row.achieved), days(row.expiry)) {
            (Ok(a), Ok(e)) => (a, e),
            (Err(e), _) | (_, Err(e)) => {
                self.problems.push(ImportProblem {
                    line,
                    reason: e.to_string(),
                });
                return Ok(());
            }
        };
        let Ok(person) = row.employee.as_str().parse::<i64>() else {
            self.problems.push(ImportProblem {
                line,
                reason: "Employee Number: it is not a whole number".to_owned(),
            });
            return Ok(());
        };
        let name = row.competence.as_str();
        let level = row.level.to_string();
        let t = &mut self.t;
        let keys = self
            .names
            .key(&mut t.competence, raw(Some(self.cols.name)), |_| {
                Some(name.to_owned())
            })
            .zip(
                self.levels
                    .key(&mut t.level, raw(self.cols.level), |_| Some(level)),
            );
        let Some((competence, level)) = keys else {
            return Err(Error::invalid(
                "competence export",
                "it has more distinct competence names or levels than can be counted; split the file",
            ));
        };
        t.line.push(line);
        t.employee_number.push(row.employee.as_str());
        t.person_id.push(person);
        t.competence.keys.push(competence);
        t.achieved.push(achieved);
        t.expiry.push(expiry);
        t.level.keys.push(level);
        Ok(())
    }
}

/// Why a block's reading stopped: a problem that refuses the import (after the problems so
/// far), or an error that does.
enum Stop {
    Problem(ImportProblem),
    Error(Error),
}

/// Hands a block on in small reads, so that a record read with a [`RecordReader`] from the
/// middle of a block copies little more than itself.
struct Trickle<'a> {
    text: &'a [u8],
    pos: usize,
}

/// The most a [`Trickle`] hands on at a time: a few records of an export.
const TRICKLE_BYTES: usize = 512;

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let rest = self.text.get(self.pos..).unwrap_or_default();
        let n = buf.len().min(rest.len()).min(TRICKLE_BYTES);
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

/// A reader that fails with the error the file's reading failed with, once it is reached.
struct Failed(Option<std::io::Error>);

impl std::io::Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// Decoded text handed to a worker at a time when a file is read in parallel.
const BLOCK_BYTES: usize = 1 << 20;

/// Files of this size or more (by their `size_hint`) are read in parallel.
const PARALLEL_FROM_BYTES: u64 = 4 * BLOCK_BYTES as u64;

/// Blocks per worker read ahead of the merging at most: enough that a thread the system
/// sets aside for a moment does not hold the others up.
const IN_FLIGHT_PER_WORKER: usize = 6;

/// The most threads reading blocks.
const MAX_WORKERS: usize = 8;

/// Where `text`, which starts at a record's start, can be cut so that what follows starts at
/// one too: just after its last `\n` outside a quoted field, reading quotes as csv_core does
/// (a `"` opens a quoted field only at a field's start, `""` inside one is a quote, and a
/// field ends at its closing quote's next comma or line end); `None` when there is none.
fn last_record_end(text: &[u8]) -> Option<usize> {
    let mut last = None;
    // Where the stretch outside quotes being read starts, and where to look on from.
    let (mut run, mut i) = (0, 0);
    while let Some(k) = memchr::memchr(b'"', &text[i..]) {
        let q = i + k;
        if q > 0 && !matches!(text[q - 1], b',' | b'\n' | b'\r') {
            // A quote inside an unquoted field (or after a closed one) is text.
            i = q + 1;
            continue;
        }
        if let Some(n) = memchr::memrchr(b'\n', &text[run..q]) {
            last = Some(run + n + 1);
        }
        // Inside the quoted field, to its closing quote (one not followed by another).
        let mut j = q + 1;
        let close = loop {
            let Some(k) = memchr::memchr(b'"', &text[j..]) else {
                return last;
            };
            let r = j + k;
            match text.get(r + 1) {
                Some(b'"') => j = r + 2,
                Some(_) => break r,
                None => return last,
            }
        };
        // The field goes on unquoted to its comma or line end, outside quotes.
        run = close + 1;
        i = close + 1;
    }
    if let Some(n) = memchr::memrchr(b'\n', &text[run..]) {
        last = Some(run + n + 1);
    }
    last
}

/// A block for a worker: text starting and ending at records' starts.
struct Job {
    /// The block's place in the file, from 0.
    seq: usize,
    text: Vec<u8>,
    line: u64,
    prev_cr: bool,
}

/// What a worker read of a block: its rows (keys into the worker's values; the values new in
/// this block in the columns' `values`), their problems, the line after the block or why the
/// reading stopped, and the block's buffer to fill again.
struct Segment {
    /// The block's place in the file, and the worker (builder) that read it.
    seq: usize,
    worker: usize,
    table: CompetenceExportTable,
    problems: ImportProblems,
    end: Result<u64, Stop>,
    text: Vec<u8>,
}

fn work(builder: &mut Builder, worker: usize, job: Job) -> Segment {
    let end = builder.read_block(&job.text, job.line, job.prev_cr);
    let (table, problems) = builder.take_segment();
    Segment {
        seq: job.seq,
        worker,
        table,
        problems,
        end,
        text: job.text,
    }
}

/// The segment of a block whose worker failed: it stops the reading.
fn lost(seq: usize, worker: usize) -> Segment {
    Segment {
        seq,
        worker,
        table: CompetenceExportTable::default(),
        problems: ImportProblems::new(),
        end: Err(Stop::Error(Error::invalid(
            "competence export",
            "a thread reading it failed; read it again",
        ))),
        text: Vec::new(),
    }
}

/// Where [`read_competence_blocks`] hands the rows: the rows merged since the last call, of
/// which only `person_id`, `competence` and `expiry` are filled (the other columns are left
/// empty rather than copied, as a streaming reader does not need them).
pub type BlockSink<'s> = dyn FnMut(&CompetenceExportTable) -> Result<()> + Send + 's;

/// The columns read so far, in file order, from the segments of several builders.
struct Merged<'s> {
    t: CompetenceExportTable,
    /// When set, each merged segment's rows are handed here and let go (the values stay, so
    /// keys keep their meaning): nothing per record is kept.
    sink: Option<&'s mut BlockSink<'s>>,
    problems: ImportProblems,
    /// Per builder, its keys to the merged columns' keys.
    names: Vec<Vec<u32>>,
    levels: Vec<Vec<u32>>,
    /// The merged columns' values and their keys: several builders meet the same name, and the
    /// merged column holds it once (in the order the file first uses it, as one reader would).
    name_keys: HashMap<String, u32>,
    level_keys: HashMap<String, u32>,
    /// The line the next segment starts on.
    line: u64,
}

impl Merged<'_> {
    /// Hands the rows merged so far to the sink, if any, and lets them go.
    fn drain(&mut self) -> Result<()> {
        let Some(sink) = self.sink.as_mut() else {
            return Ok(());
        };
        sink(&self.t)?;
        let t = &mut self.t;
        t.line.clear();
        t.employee_number.text.clear();
        t.employee_number.ends.clear();
        t.person_id.clear();
        t.competence.keys.clear();
        t.achieved.clear();
        t.expiry.clear();
        t.level.keys.clear();
        Ok(())
    }

    /// Appends the `values` `to` has not got yet, noting each one's key in `map`.
    fn values(
        to: &mut Vec<String>,
        keys: &mut HashMap<String, u32>,
        map: &mut Vec<u32>,
        values: Vec<String>,
    ) -> Result<()> {
        for v in values {
            if let Some(&k) = keys.get(&v) {
                map.push(k);
                continue;
            }
            let k = u32::try_from(to.len()).map_err(|_| {
                Error::invalid(
                    "competence export",
                    "it has more distinct competence names or levels than can be counted; split the file",
                )
            })?;
            map.push(k);
            keys.insert(v.clone(), k);
            to.push(v);
        }
        Ok(())
    }

    /// Appends builder `b`'s segment, whose lines are `offset` short of the file's.
    fn add(&mut self, b: usize, seg: Segment, offset: u64) -> Result<()> {
        let Segment {
            table: s,
            problems,
            end,
            ..
        } = seg;
        let t = &mut self.t;
        let (names, levels) = (&mut self.names[b], &mut self.levels[b]);
        Self::values(
            &mut t.competence.values,
            &mut self.name_keys,
            names,
            s.competence.values,
        )?;
        Self::values(
            &mut t.level.values,
            &mut self.level_keys,
            levels,
            s.level.values,
        )?;
        let remap = |map: &[u32], k: u32| map.get(k as usize).copied().unwrap_or_default();
        t.competence
            .keys
            .extend(s.competence.keys.iter().map(|&k| remap(names, k)));
        t.person_id.extend_from_slice(&s.person_id);
        t.expiry.extend_from_slice(&s.expiry);
        // A sink is handed the columns the scorer reads (BlockSink): the rest are not copied.
        if self.sink.is_none() {
            t.level
                .keys
                .extend(s.level.keys.iter().map(|&k| remap(levels, k)));
            t.line.extend(s.line.iter().map(|l| l + offset));
            let base = t.employee_number.text.len();
            t.employee_number.text.push_str(&s.employee_number.text);
            t.employee_number
                .ends
                .extend(s.employee_number.ends.iter().map(|e| e + base));
            t.achieved.extend_from_slice(&s.achieved);
        }
        for mut p in problems.listed {
            p.line += offset;
            self.problems.push(p);
        }
        self.problems.more = self.problems.more.saturating_add(problems.more);
        self.drain()?;
        match end {
            Ok(line) => {
                self.line = line + offset;
                Ok(())
            }
            Err(Stop::Problem(mut p)) => {
                p.line += offset;
                self.problems.push(p);
                Err(Error::ImportRejected {
                    problems: std::mem::take(&mut self.problems),
                })
            }
            Err(Stop::Error(e)) => Err(e),
        }
    }
}

/// Reads the records after the header in blocks of about [`BLOCK_BYTES`], cut at records'
/// starts ([`last_record_end`]): the calling thread reads and cuts, each block is read by one
/// of `workers` threads, and one more merges them in file order (so that setting the columns
/// down in memory is not on the reading thread's path). What is left after a block with no
/// record's end in it (a quoted field of over a block, or lines ended by `\r` alone), or once
/// reading fails, is read here record by record. `rest` is what the header's reader read past
/// the header; `line` and `prev_cr` where it starts.
#[allow(clippy::too_many_arguments)]
fn read_in_blocks<R: std::io::Read>(
    text: &mut DecodingReader<R>,
    rest: Vec<u8>,
    (line, prev_cr): (u64, bool),
    vpd: VpdCode,
    cols: ExportColumns,
    skip_bad_rows: bool,
    (block, workers): (usize, usize),
    merged: &mut Merged<'_>,
) -> Result<()> {
    merged.line = line;
    // One queue of blocks for all the workers: whichever is free takes the next.
    let (jobs, job_rx) = std::sync::mpsc::channel::<Job>();
    let job_rx = std::sync::Mutex::new(job_rx);
    let tail = std::thread::scope(|s| {
        // One queue of segments, which the merger puts back in file order.
        let (seg_tx, results) = std::sync::mpsc::channel::<Segment>();
        for worker in 0..workers {
            let (job_rx, seg_tx) = (&job_rx, seg_tx.clone());
            let mut builder = Builder::new(vpd, cols, skip_bad_rows);
            s.spawn(move || {
                loop {
                    // The lock is held only while waiting for a block, not while reading it.
                    let job = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok(job) = job else { break };
                    let seq = job.seq;
                    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        work(&mut builder, worker, job)
                    }));
                    match read {
                        Ok(seg) => {
                            if seg_tx.send(seg).is_err() {
                                break;
                            }
                        }
                        Err(panic) => {
                            // Stop the merging at this block (it would wait for it), then
                            // go on panicking: the scope passes the panic on.
                            let _ = seg_tx.send(lost(seq, worker));
                            std::panic::resume_unwind(panic);
                        }
                    }
                }
            });
        }
        drop(seg_tx);
        // Merged blocks' buffers come back to be filled again; the channel closes when the
        // merging stops (at the end, or at a stop).
        let (spare_tx, spare_rx) = std::sync::mpsc::channel::<Vec<u8>>();
        let merging = &mut *merged;
        let merger = s.spawn(move || merge_all(&results, merging, &spare_tx));
        // The jobs' senders are dropped on the way out, so the workers end.
        let tail = dispatch(
            text,
            rest,
            (line, prev_cr),
            (jobs, block, workers),
            &spare_rx,
        );
        let merged = merger
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        merged.map(|()| tail)
    })?;
    if let Some((buf, failed, sent)) = tail {
        let at = if sent == 0 {
            (line, prev_cr)
        } else {
            (merged.line, false)
        };
        let src = std::io::Cursor::new(buf);
        let mut builder = Builder::new(vpd, cols, skip_bad_rows);
        let end = match failed {
            Some(e) => read_rest(&mut builder, std::io::Read::chain(src, Failed(Some(e))), at),
            None => read_rest(&mut builder, std::io::Read::chain(src, &mut *text), at),
        };
        let (table, problems) = builder.take_segment();
        merged.names.push(Vec::new());
        merged.levels.push(Vec::new());
        let seg = Segment {
            seq: 0,
            worker: workers,
            table,
            problems,
            end,
            text: Vec::new(),
        };
        merged.add(workers, seg, 0)?;
    }
    Ok(())
}

/// Merges the workers' segments in file order until they end or one stops the reading,
/// handing each block's buffer back.
fn merge_all(
    results: &std::sync::mpsc::Receiver<Segment>,
    merged: &mut Merged<'_>,
    spare: &std::sync::mpsc::Sender<Vec<u8>>,
) -> Result<()> {
    // Segments that came before their turn, by their place in the file.
    let mut early = std::collections::BTreeMap::new();
    let mut next = 0;
    // The channel closes once every worker has ended, after its last segment.
    for seg in results {
        early.insert(seg.seq, seg);
        while let Some(mut seg) = early.remove(&next) {
            let text = std::mem::take(&mut seg.text);
            let offset = if next == 0 { 0 } else { merged.line - 1 };
            merged.add(seg.worker, seg, offset)?;
            let _ = spare.send(text);
            next += 1;
        }
    }
    Ok(())
}

/// [`read_in_blocks`]' reading and cutting, on the calling thread: hands blocks to the
/// workers, at most [`IN_FLIGHT_PER_WORKER`] each ahead of the merging. Returns what is left to read
/// record by record (the text from a block with no record's end, the read error if that is
/// why, and how many blocks were sent), or `None` at the end or once the merging stopped.
#[allow(clippy::type_complexity)]
fn dispatch<R: std::io::Read>(
    text: &mut DecodingReader<R>,
    mut buf: Vec<u8>,
    (line, prev_cr): (u64, bool),
    (jobs, block, workers): (std::sync::mpsc::Sender<Job>, usize, usize),
    merged: &std::sync::mpsc::Receiver<Vec<u8>>,
) -> Option<(Vec<u8>, Option<std::io::Error>, usize)> {
    let (mut sent, mut done) = (0usize, 0usize);
    let mut spare: Vec<Vec<u8>> = Vec::new();
    let mut eof = false;
    loop {
        let mut failed = None;
        while buf.len() < block && !eof {
            let want = block - buf.len();
            match text.read_into(&mut buf, want) {
                Ok(0) => eof = true,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let cut = match failed {
            None if eof => Some(buf.len()),
            None => last_record_end(&buf),
            Some(_) => None,
        };
        let Some(cut) = cut else {
            return Some((buf, failed, sent));
        };
        if cut == 0 && eof {
            return None;
        }
        // Buffers of merged blocks, without waiting unless too many are in flight.
        loop {
            let back = if sent - done >= IN_FLIGHT_PER_WORKER * workers {
                merged.recv().ok()
            } else {
                match merged.try_recv() {
                    Ok(b) => Some(b),
                    Err(std::sync::mpsc::TryRecvError::Empty) => break,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => None,
                }
            };
            let Some(b) = back else {
                // The merging stopped: the import is refused.
                return None;
            };
            spare.push(b);
            done += 1;
        }
        let mut next = spare.pop().unwrap_or_default();
        next.clear();
        next.extend_from_slice(&buf[cut..]);
        buf.truncate(cut);
        let (l, cr) = if sent == 0 {
            (line, prev_cr)
        } else {
            (1, false)
        };
        let job = Job {
            seq: sent,
            text: std::mem::replace(&mut buf, next),
            line: l,
            prev_cr: cr,
        };
        // A worker that is gone (it panicked) is reported when the scope ends.
        let _ = jobs.send(job);
        sent += 1;
        if eof {
            return None;
        }
    }
}

/// Reads the records of `src` (starting at a record's start: `line`, after a `\r` when
/// `prev_cr`) one by one into `builder`: the line after the last, or why reading stopped.
fn read_rest<R: std::io::Read>(
    builder: &mut Builder,
    src: R,
    (line, prev_cr): (u64, bool),
) -> Result<u64, Stop> {
    let mut rdr = RecordReader::resume(src, line, prev_cr);
    while builder.next_record(&mut rdr)? {}
    Ok(rdr.line)
}

/// Reads an ESR competence export as [`read_competence_export_with_encoding`] does (the same
/// rows, bad rows, limits, messages and encodings), into compact columns; the fast way for
/// analysts and bindings. Memory grows with the good rows' columns only (about 50 bytes a row
/// besides the employee numbers' text), plus a fixed amount for the reader.
///
/// Without a `size_hint`, or for a file under 4 MiB, or on one processor, the file is read as
/// it comes: parsed on the calling thread while another builds the columns where there are
/// two processors, holding well under a MiB besides the columns (one record of at most
/// [`MAX_CSV_RECORD_BYTES`] and a few batches of records in flight). A larger file is read in
/// blocks of 1 MiB cut at records' starts, each read by one of up to 8 threads and merged in
/// file order by another (reading ahead up to 6 blocks a thread, so a few tens of MiB besides
/// the columns); a record over the limits is then found within a block or so of where one
/// record at a time would find it. A `reader` need not be `Send` either way.
///
/// `size_hint` is the file's size in bytes when known: the columns are then set aside for as
/// many rows as it could hold (address space only; memory is used as rows arrive), so they
/// are not copied again and again as they grow, which for a file of a GB is much of the time.
pub fn read_competence_table<R: std::io::Read>(
    vpd: VpdCode,
    reader: R,
    options: ImportOptions,
    encoding: CsvEncoding,
    size_hint: Option<u64>,
) -> Result<(CompetenceExportTable, ImportProblems)> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let blocks = (threads > 1 && size_hint.is_some_and(|b| b >= PARALLEL_FROM_BYTES))
        .then_some((BLOCK_BYTES, threads.min(MAX_WORKERS)));
    read_table(vpd, reader, options, encoding, size_hint, blocks)
}

/// [`read_competence_table`], in `blocks` (bytes of a block, threads) when given.
pub(super) fn read_table<R: std::io::Read>(
    vpd: VpdCode,
    reader: R,
    options: ImportOptions,
    encoding: CsvEncoding,
    size_hint: Option<u64>,
    blocks: Option<(usize, usize)>,
) -> Result<(CompetenceExportTable, ImportProblems)> {
    let mut text = DecodingReader::new(reader, encoding);
    let mut rdr = RecordReader::new(&mut text);
    let cols = read_header(&mut rdr)?;
    let skip_bad_rows = options.skip_bad_rows;
    if let Some((block, workers)) = blocks {
        let (src, rest, line, prev_cr) = rdr.into_rest();
        let mut merged = Merged {
            t: CompetenceExportTable::default(),
            sink: None,
            problems: ImportProblems::new(),
            names: vec![Vec::new(); workers],
            levels: vec![Vec::new(); workers],
            name_keys: HashMap::new(),
            level_keys: HashMap::new(),
            line,
        };
        if let Some(bytes) = size_hint {
            reserve(&mut merged.t, bytes);
        }
        read_in_blocks(
            src,
            rest,
            (line, prev_cr),
            vpd,
            cols,
            skip_bad_rows,
            (block, workers),
            &mut merged,
        )?;
        if !merged.problems.is_empty() && !skip_bad_rows {
            return Err(Error::ImportRejected {
                problems: merged.problems,
            });
        }
        merged.t.encoding = text.encoding_used();
        return Ok((merged.t, merged.problems));
    }
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let mut builder = Builder::new(vpd, cols, skip_bad_rows);
    if let Some(bytes) = size_hint {
        builder.reserve(bytes);
    }
    let out = if threads > 1 {
        std::thread::scope(|s| {
            // A few batches in flight at most: memory stays bounded when building is slower.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(2);
            // Emptied batches come back, to be filled again.
            let (back_tx, back_rx) = std::sync::mpsc::channel::<Batch>();
            let worker = s.spawn(move || {
                for msg in rx {
                    match builder.take(msg) {
                        Some(empty) => {
                            let _ = back_tx.send(empty);
                        }
                        None => break,
                    }
                }
                builder.finish()
            });
            parse_records(&mut rdr, skip_bad_rows, |msg| {
                tx.send(msg).ok()?;
                Some(back_rx.try_recv().unwrap_or_default())
            });
            drop(tx);
            worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    } else {
        parse_records(&mut rdr, skip_bad_rows, |msg| builder.take(msg));
        builder.finish()
    };
    drop(rdr);
    let (mut t, problems) = out?;
    t.encoding = text.encoding_used();
    Ok((t, problems))
}

/// Reads an ESR competence export as [`read_competence_table`] does (the same rows, bad rows,
/// limits, messages and encodings), in blocks on `workers` threads, handing the good rows to
/// `sink` a block at a time in file order (the rows merged since the last call: their
/// `person_id`, `competence` and `expiry`, the other columns left empty; the competence values
/// are every value so far, so keys keep their meaning) instead of
/// keeping them: memory stays a few blocks whatever the file's size. Returns the bad rows
/// skipped (with `options.skip_bad_rows`) and the encoding read. With bad rows and without
/// `skip_bad_rows` the import is refused at the end, after the sink has seen the good rows.
pub fn read_competence_blocks<R: std::io::Read>(
    vpd: VpdCode,
    reader: R,
    options: ImportOptions,
    encoding: CsvEncoding,
    workers: usize,
    sink: &mut BlockSink<'_>,
) -> Result<(ImportProblems, &'static str)> {
    let mut text = DecodingReader::new(reader, encoding);
    let mut rdr = RecordReader::new(&mut text);
    let cols = read_header(&mut rdr)?;
    let skip_bad_rows = options.skip_bad_rows;
    let workers = workers.clamp(1, MAX_WORKERS);
    let (src, rest, line, prev_cr) = rdr.into_rest();
    let mut merged = Merged {
        t: CompetenceExportTable::default(),
        sink: Some(sink),
        problems: ImportProblems::new(),
        names: vec![Vec::new(); workers],
        levels: vec![Vec::new(); workers],
        name_keys: HashMap::new(),
        level_keys: HashMap::new(),
        line,
    };
    read_in_blocks(
        src,
        rest,
        (line, prev_cr),
        vpd,
        cols,
        skip_bad_rows,
        (BLOCK_BYTES, workers),
        &mut merged,
    )?;
    if !merged.problems.is_empty() && !skip_bad_rows {
        return Err(Error::ImportRejected {
            problems: merged.problems,
        });
    }
    Ok((merged.problems, text.encoding_used()))
}
