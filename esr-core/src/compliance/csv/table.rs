//! Reading a competence export into compact, Arrow-shaped columns, fast: the same rows, the
//! same bad rows and the same messages as the row-by-row rules ([`check_row`]), which every
//! row the quick path below cannot vouch for goes through.
//!
//! The quick path takes a row's fields in place (no allocation per row), reads `DD-Mon-YYYY`
//! dates directly, and parses each distinct competence name and level once (they repeat on
//! every row), keeping the row's key into the distinct values.

use super::*;
use crate::values::parse_esr_date_fast;
use chrono::Datelike;
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
            let k = u32::try_from(column.values.len()).ok()?;
            column.values.push(v);
            Some(k)
        });
        if self.seen.len() < MAX_REMEMBERED {
            self.seen.insert(raw.into(), key);
        }
        key
    }
}

/// A `DD-Mon-YYYY` date (or none) as days since 1970-01-01; `None` when the quick reading
/// cannot tell.
fn quick_date(s: &str) -> Option<Option<i32>> {
    if s.is_empty() {
        return Some(None);
    }
    // Days from 0001-01-01 (day 1) to 1970-01-01.
    const EPOCH_FROM_CE: i32 = 719_163;
    parse_esr_date_fast(s).map(|d| Some(d.num_days_from_ce() - EPOCH_FROM_CE))
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
        let rows = usize::try_from(bytes / MIN_ROW_BYTES).unwrap_or(usize::MAX);
        let t = &mut self.t;
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

    /// Takes one message; gives the batch back emptied, or `None` once the import has
    /// stopped.
    fn take(&mut self, msg: Msg) -> Option<Batch> {
        if self.stopped.is_some() {
            return None;
        }
        match msg {
            Msg::Batch(mut b) => {
                for item in &b.items {
                    match item {
                        Item::Problem(p) => self.problems.push(p.clone()),
                        &Item::Record {
                            line,
                            start,
                            first,
                            last,
                        } => {
                            if let Err(e) = self.record(line, &b.bytes, start, &b.ends[first..last])
                            {
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

    /// One record, whose fields end at `ends` in `bytes` (the first starting at `start`).
    fn record(&mut self, line: u64, bytes: &[u8], start: usize, ends: &[usize]) -> Result<()> {
        let nfields = ends.len();
        let whole = &bytes[start..ends.last().copied().unwrap_or(start)];
        let t = &mut self.t;
        let (names, levels) = (&mut self.names, &mut self.levels);
        let (cols, vpd, default_level) = (&self.cols, self.vpd.as_str(), &self.default_level);
        // The quick path: a record that is UTF-8 as a whole and whose fields all read as the
        // rules would read them.
        let quick = std::str::from_utf8(whole).ok().and_then(|all| {
            if all.trim().is_empty() {
                return Some(None);
            }
            let field = |c: usize| -> Option<&str> {
                if c >= nfields {
                    return Some("");
                }
                let from = if c == 0 { start } else { ends[c - 1] };
                all.get(from - start..ends[c] - start).map(str::trim)
            };
            if let Some(c) = cols.vpd
                && field(c)? != vpd
            {
                return None;
            }
            let employee = field(cols.employee)?;
            if !(6..=crate::values::limits::MAX_EMPLOYEE_NUMBER_CHARS).contains(&employee.len())
                || !employee.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let person = employee
                .bytes()
                .fold(0i64, |n, b| n * 10 + i64::from(b - b'0'));
            let expiry = quick_date(field(cols.expiry)?)?;
            let achieved = match cols.achieved {
                Some(c) => quick_date(field(c)?)?,
                None => None,
            };
            if let (Some(a), Some(e)) = (achieved, expiry)
                && e < a
            {
                return None;
            }
            let competence = names.key(&mut t.competence, field(cols.name)?, |s| {
                parse_competence_loose(s)
                    .ok()
                    .map(|n| n.as_str().to_owned())
            })?;
            let level = match cols.level.map(field) {
                Some(None) => return None,
                None | Some(Some("")) => {
                    levels.key(&mut t.level, "", |_| Some(default_level.clone()))?
                }
                Some(Some(s)) => levels.key(&mut t.level, s, |s| {
                    s.parse::<CompetenceLevel>().ok().map(|l| l.to_string())
                })?,
            };
            Some(Some((
                employee, person, competence, achieved, expiry, level,
            )))
        });
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
            None => self.by_the_rules(line, bytes, start, ends),
        }
    }

    /// A record the quick path does not vouch for, read by the rules row by row: the messages
    /// for a bad row, and the good rows the quick path does not read (dates written
    /// otherwise, ...).
    fn by_the_rules(
        &mut self,
        line: u64,
        bytes: &[u8],
        start: usize,
        ends: &[usize],
    ) -> Result<()> {
        let mut from = start;
        let mut rec = Vec::with_capacity(ends.len());
        for (i, &end) in ends.iter().enumerate() {
            match std::str::from_utf8(&bytes[from..end]) {
                Ok(f) => rec.push(f),
                Err(_) => {
                    self.problems.push(not_utf8(line, i));
                    return Ok(());
                }
            }
            from = end;
        }
        let row = match check_row(self.vpd, &self.cols, line, &rec) {
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

/// Reads an ESR competence export as [`read_competence_export_with_encoding`] does (the same
/// rows, bad rows, limits, messages and encodings), into compact columns; the fast way for
/// analysts and bindings. Memory grows with the good rows' columns only (about 50 bytes a row
/// besides the employee numbers' text), plus a fixed amount for the reader (well under a MiB:
/// one record of at most [`MAX_CSV_RECORD_BYTES`] and a few batches of records in flight).
///
/// Where the machine has more than one processor, the file is parsed on the calling thread
/// while another builds the columns (a `reader` need not be `Send`).
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
    let mut text = DecodingReader::new(reader, encoding);
    let mut rdr = RecordReader::new(&mut text);
    let cols = read_header(&mut rdr)?;
    let skip_bad_rows = options.skip_bad_rows;
    let mut builder = Builder::new(vpd, cols, skip_bad_rows);
    if let Some(bytes) = size_hint {
        builder.reserve(bytes);
    }
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
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
