//! Bulk compliance scoring straight from an analyst's files: Parquet and Arrow IPC.
//!
//! esr-core does no I/O; this crate reads the files with the arrow-rs `parquet` and
//! `arrow-ipc` crates and feeds esr-core's columnar scorer
//! ([`esr_core::compliance::score_compliance_parts`]):
//! - only the columns the scorer needs are decoded;
//! - row groups (Parquet) and record batches (Arrow IPC) are decoded on several threads;
//! - for scores, holdings that expired before the date scored are dropped while decoding (they
//!   count for nothing in the counts), and the holdings are streamed: each decoded batch is
//!   classified into the scorer's per-person bits and let go, so memory grows with the number of
//!   staff, not of records.
//!
//! The detail rows show the expiry of the record that counts, expired ones included, so
//! [`Source::read_all`] without a filter is what a caller scoring detail rows reads the holdings with.
//!
//! Usable without Python; the Python binding's `esr.score_files` is built on it.

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Int32Type, Int64Type};
use arrow_array::{Array, BooleanArray, RecordBatch};
use arrow_buffer::BooleanBuffer;
use arrow_schema::{ArrowError, DataType, SchemaRef};
use esr_core::Error;
use esr_core::chrono::NaiveDate;
use esr_core::compliance::{
    AmberWindow, AssignmentColumns, BulkScores, HoldingColumns, HoldingParts, RequirementColumns,
    Validity, days_since_epoch, score_compliance_parts,
};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowPredicateFn, ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
    RowFilter,
};
use std::fs::File;
use std::io::Read;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What this crate returns.
pub type Result<T> = std::result::Result<T, Error>;

/// Rows per decoded batch: large enough to amortise per-batch work, small enough to stay in
/// cache-friendly sizes while streaming.
const BATCH_ROWS: usize = 64 * 1024;

/// The file formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC file format (Feather v2, `.arrow`).
    ArrowIpc,
}

fn bad(path: &Path, what: impl std::fmt::Display) -> Error {
    let what = what.to_string();
    // Only snappy and zstd are built in (see Cargo.toml): say what to do about another codec.
    let hint = if what.contains("Disabled feature at compile time") {
        "; esr reads Parquet compressed with snappy (pyarrow's default), zstd (polars' default) or uncompressed: write it with compression='snappy' or 'zstd'"
    } else {
        ""
    };
    Error::BulkInput {
        reason: format!("cannot read {}: {what}{hint}", shown(path)),
    }
}

/// The first 200 characters of a path, for messages.
fn shown(path: &Path) -> String {
    let s = path.display().to_string();
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

/// The format of the file at `path`, from its first bytes (`PAR1`, `ARROW1`).
pub fn format_of(path: &Path) -> Result<Format> {
    let mut head = [0u8; 6];
    let mut f = File::open(path).map_err(|e| bad(path, e))?;
    let n = f.read(&mut head).map_err(|e| bad(path, e))?;
    match &head[..n] {
        [b'P', b'A', b'R', b'1', ..] => Ok(Format::Parquet),
        b"ARROW1" => Ok(Format::ArrowIpc),
        _ => Err(bad(
            path,
            "it is neither a Parquet file nor an Arrow IPC file (Feather v2); give one of those",
        )),
    }
}

/// Keep only rows of a date32 column on or after a day, or null (never expires).
#[derive(Debug, Clone)]
pub struct NotBefore {
    /// The column.
    pub column: String,
    /// Days since 1970-01-01.
    pub day: i32,
}

/// A file opened for reading some of its columns.
pub struct Source {
    path: PathBuf,
    kind: Kind,
    /// The schema of the columns read, in the order asked for.
    schema: SchemaRef,
}

enum Kind {
    Parquet {
        meta: ArrowReaderMetadata,
        /// The columns asked for, as root indices in the file.
        roots: Vec<usize>,
    },
    Ipc {
        /// The columns asked for, as indices in the file.
        indices: Vec<usize>,
        batches: usize,
    },
}

impl Source {
    /// Opens the file at `path` (Parquet or Arrow IPC) to read `columns` of it; `table` names it
    /// in messages (a missing column is refused with the columns the file has).
    pub fn open(path: &Path, table: &str, columns: &[&str]) -> Result<Self> {
        Self::open_with(path, table, columns, &[])
    }

    /// As [`Source::open`], also reading those of the `optional` columns the file has (after
    /// `columns`, in the order given): a table's rule columns that change its meaning when
    /// present, such as a requirement's `essential` flag.
    pub fn open_with(
        path: &Path,
        table: &str,
        columns: &[&str],
        optional: &[&str],
    ) -> Result<Self> {
        let (kind, full) = match format_of(path)? {
            Format::Parquet => {
                let f = File::open(path).map_err(|e| bad(path, e))?;
                let meta = ArrowReaderMetadata::load(&f, ArrowReaderOptions::new())
                    .map_err(|e| bad(path, e))?;
                let full = meta.schema().clone();
                (
                    Kind::Parquet {
                        meta,
                        roots: Vec::new(),
                    },
                    full,
                )
            }
            Format::ArrowIpc => {
                let f = File::open(path).map_err(|e| bad(path, e))?;
                let r = arrow_ipc::reader::FileReader::try_new_buffered(f, None)
                    .map_err(|e| bad(path, e))?;
                let full = r.schema();
                (
                    Kind::Ipc {
                        indices: Vec::new(),
                        batches: r.num_batches(),
                    },
                    full,
                )
            }
        };
        let mut idx = Vec::with_capacity(columns.len());
        for c in columns {
            let i = full.index_of(c).map_err(|_| {
                let has: Vec<&str> = full.fields().iter().map(|f| f.name().as_str()).collect();
                Error::BulkInput {
                    reason: format!(
                        "the {table} file {} has no column {c}; it needs {} (it has: {})",
                        shown(path),
                        columns.join(", "),
                        has.join(", ")
                    ),
                }
            })?;
            idx.push(i);
        }
        idx.extend(
            optional
                .iter()
                .filter(|c| !columns.contains(c))
                .filter_map(|c| full.index_of(c).ok()),
        );
        let schema = std::sync::Arc::new(full.project(&idx).map_err(|e| bad(path, e))?);
        let kind = match kind {
            Kind::Parquet { meta, .. } => Kind::Parquet { meta, roots: idx },
            Kind::Ipc { batches, .. } => Kind::Ipc {
                indices: idx,
                batches,
            },
        };
        Ok(Self {
            path: path.to_owned(),
            kind,
            schema,
        })
    }

    /// The schema of the columns read.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Rows in the file.
    pub fn rows(&self) -> usize {
        match &self.kind {
            Kind::Parquet { meta, .. } => {
                let n = meta.metadata().file_metadata().num_rows();
                usize::try_from(n).unwrap_or(0)
            }
            // Not known without reading each batch's header; only a hint.
            Kind::Ipc { .. } => usize::MAX,
        }
    }

    /// Units of parallel work: row groups or record batches.
    fn units(&self) -> usize {
        match &self.kind {
            Kind::Parquet { meta, .. } => meta.metadata().num_row_groups(),
            Kind::Ipc { batches, .. } => *batches,
        }
    }

    /// Decodes unit `u` (a row group or a record batch), calling `f` with each batch of the
    /// columns asked for (in the order asked for); rows failing `filter` are left out.
    fn read_unit(
        &self,
        u: usize,
        filter: Option<&NotBefore>,
        f: &mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Result<()> {
        let bad = |e: &dyn std::fmt::Display| bad(&self.path, e);
        match &self.kind {
            Kind::Parquet { meta, roots } => {
                let file = File::open(&self.path).map_err(|e| bad(&e))?;
                let descr = meta.metadata().file_metadata().schema_descr_ptr();
                let mut b = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone())
                    .with_row_groups(vec![u])
                    .with_batch_size(BATCH_ROWS)
                    .with_projection(ProjectionMask::roots(&descr, roots.iter().copied()));
                if let Some(nb) = filter {
                    let col = meta.schema().index_of(&nb.column).map_err(|e| bad(&e))?;
                    let day = nb.day;
                    let pred = ArrowPredicateFn::new(
                        ProjectionMask::roots(&descr, [col]),
                        move |batch: RecordBatch| keep_not_before(batch.column(0), day),
                    );
                    b = b.with_row_filter(RowFilter::new(vec![Box::new(pred)]));
                }
                let reader = b.build().map_err(|e| bad(&e))?;
                // The reader gives the columns in file order: put them in the order asked for.
                let order = order_of(roots);
                for batch in reader {
                    let batch = batch.map_err(|e| bad(&e))?;
                    let batch = batch.project(&order).map_err(|e| bad(&e))?;
                    f(batch)?;
                }
                Ok(())
            }
            Kind::Ipc { indices, .. } => {
                let file = File::open(&self.path).map_err(|e| bad(&e))?;
                let mut r =
                    arrow_ipc::reader::FileReader::try_new_buffered(file, Some(indices.clone()))
                        .map_err(|e| bad(&e))?;
                r.set_index(u).map_err(|e| bad(&e))?;
                let Some(batch) = r.next() else {
                    return Ok(());
                };
                let batch = batch.map_err(|e| bad(&e))?;
                let batch = match filter {
                    Some(nb) => {
                        let i = self.schema.index_of(&nb.column).map_err(|e| bad(&e))?;
                        let keep = keep_not_before(batch.column(i), nb.day).map_err(|e| bad(&e))?;
                        arrow_select_filter(&batch, &keep).map_err(|e| bad(&e))?
                    }
                    None => batch,
                };
                f(batch)
            }
        }
    }

    /// Decodes every unit on up to `threads` threads, calling `f(worker, batch)`; `worker` is
    /// below `threads` and used by one thread at a time.
    pub fn for_each_batch(
        &self,
        threads: usize,
        filter: Option<&NotBefore>,
        f: &(dyn Fn(usize, RecordBatch) -> Result<()> + Sync),
    ) -> Result<()> {
        let units = self.units();
        let workers = threads.clamp(1, units.max(1));
        let next = AtomicUsize::new(0);
        let error: Mutex<Option<Error>> = Mutex::new(None);
        let work = |w: usize| {
            loop {
                let u = next.fetch_add(1, Ordering::Relaxed);
                if u >= units {
                    return;
                }
                if let Err(e) = self.read_unit(u, filter, &mut |b| f(w, b)) {
                    let mut slot = error
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    slot.get_or_insert(e);
                    // Stop the others early.
                    next.store(units, Ordering::Relaxed);
                    return;
                }
            }
        };
        if workers == 1 {
            work(0);
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..workers)
                    .map(|w| {
                        let work = &work;
                        s.spawn(move || work(w))
                    })
                    .collect();
                for h in handles {
                    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
                }
            });
        }
        match error
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Every batch of the columns asked for, in file order, decoded on up to `threads` threads.
    pub fn read_all(&self, threads: usize, filter: Option<&NotBefore>) -> Result<Vec<RecordBatch>> {
        let units = self.units();
        let parts: Vec<Mutex<Vec<RecordBatch>>> =
            (0..units).map(|_| Mutex::new(Vec::new())).collect();
        let next = AtomicUsize::new(0);
        let error: Mutex<Option<Error>> = Mutex::new(None);
        let work = || {
            loop {
                let u = next.fetch_add(1, Ordering::Relaxed);
                if u >= units {
                    return;
                }
                let mut got = Vec::new();
                let r = self.read_unit(u, filter, &mut |b| {
                    got.push(b);
                    Ok(())
                });
                match r {
                    Ok(()) => {
                        if let Some(p) = parts.get(u) {
                            *p.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = got;
                        }
                    }
                    Err(e) => {
                        error
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .get_or_insert(e);
                        next.store(units, Ordering::Relaxed);
                        return;
                    }
                }
            }
        };
        let workers = threads.clamp(1, units.max(1));
        std::thread::scope(|s| {
            for _ in 1..workers {
                s.spawn(work);
            }
            work();
        });
        if let Some(e) = error
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            return Err(e);
        }
        Ok(parts
            .into_iter()
            .flat_map(|p| {
                p.into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            })
            .collect())
    }
}

/// Positions that put columns read in file order (`roots` ascending) back in the order asked.
fn order_of(roots: &[usize]) -> Vec<usize> {
    let mut sorted: Vec<usize> = roots.to_vec();
    sorted.sort_unstable();
    roots
        .iter()
        .map(|r| sorted.binary_search(r).unwrap_or(0))
        .collect()
}

/// Rows of a date32 column on or after `day`, or null.
fn keep_not_before(col: &dyn Array, day: i32) -> std::result::Result<BooleanArray, ArrowError> {
    let Some(d) = col.as_primitive_opt::<Date32Type>() else {
        return Err(ArrowError::InvalidArgumentError(format!(
            "the expiry column is {}, not date32",
            col.data_type()
        )));
    };
    let v = d.values();
    let keep = match d.nulls() {
        Some(n) => BooleanBuffer::collect_bool(v.len(), |i| n.is_null(i) || v[i] >= day),
        None => BooleanBuffer::collect_bool(v.len(), |i| v[i] >= day),
    };
    Ok(BooleanArray::new(keep, None))
}

fn arrow_select_filter(
    batch: &RecordBatch,
    keep: &BooleanArray,
) -> std::result::Result<RecordBatch, ArrowError> {
    arrow_select::filter::filter_record_batch(batch, keep)
}

/// The columns each table's file must have.
pub const ASSIGNMENT_COLUMNS: [&str; 3] = ["assignment_id", "person_id", "position_id"];
/// The requirements file's columns.
pub const REQUIREMENT_COLUMNS: [&str; 2] = ["position_id", "competency_id"];
/// The holdings file's columns.
pub const HOLDING_COLUMNS: [&str; 3] = ["person_id", "competency_id", "expiry"];

/// Whether the scorer can stream these holdings as they are: integer ids (int32 or int64) and
/// a date32 expiry. Other types (text ids, timestamps) are read whole and converted by the
/// caller.
pub fn streamable(schema: &SchemaRef) -> bool {
    let int = |dt: &DataType| matches!(dt, DataType::Int64 | DataType::Int32);
    schema.fields().len() == 3
        && int(schema.field(0).data_type())
        && int(schema.field(1).data_type())
        && schema.field(2).data_type() == &DataType::Date32
}

/// An integer id column's batch as `i64`: borrowed when it is int64, else widened.
fn ids(col: &dyn Array) -> Option<std::borrow::Cow<'_, [i64]>> {
    if let Some(a) = col.as_primitive_opt::<Int64Type>() {
        return Some(std::borrow::Cow::Borrowed(a.values()));
    }
    let a = col.as_primitive_opt::<Int32Type>()?;
    Some(std::borrow::Cow::Owned(
        a.values().iter().map(|&v| i64::from(v)).collect(),
    ))
}

/// Holdings streamed from a file into the scorer: each decoded batch classified and dropped.
struct StreamedHoldings<'a> {
    source: &'a Source,
    /// Drop records expired before the date scored while decoding.
    drop_expired: bool,
}

impl HoldingParts<i64> for StreamedHoldings<'_> {
    fn rows_hint(&self) -> Option<usize> {
        Some(self.source.rows())
    }

    fn each_part(
        &self,
        workers: usize,
        as_of_days: i32,
        f: &(dyn Fn(usize, HoldingColumns<'_, i64>) + Sync),
    ) -> esr_core::Result<()> {
        let filter = self.drop_expired.then(|| NotBefore {
            column: HOLDING_COLUMNS[2].to_owned(),
            day: as_of_days,
        });
        let bad_type = |what: &str| Error::BulkInput {
            reason: format!(
                "the holdings file {}'s column {what} changed type between batches",
                shown(&self.source.path)
            ),
        };
        self.source
            .for_each_batch(workers, filter.as_ref(), &|w, batch| {
                for (c, name) in HOLDING_COLUMNS.iter().enumerate().take(2) {
                    if batch.column(c).null_count() > 0 {
                        return Err(Error::BulkInput {
                            reason: format!(
                                "the holdings file {}'s column {name} has null values; every {name} must have a value: drop or fill those rows",
                                shown(&self.source.path),
                            ),
                        });
                    }
                }
                let p = ids(batch.column(0)).ok_or_else(|| bad_type("person_id"))?;
                let c = ids(batch.column(1)).ok_or_else(|| bad_type("competency_id"))?;
                let e = batch
                    .column(2)
                    .as_primitive_opt::<Date32Type>()
                    .ok_or_else(|| bad_type("expiry"))?;
                f(
                    w,
                    HoldingColumns {
                        person_id: &p,
                        competency_id: &c,
                        expiry: e.values(),
                        expiry_validity: e
                            .nulls()
                            .map(|n| Validity::new(n.inner().values(), n.inner().offset())),
                        level: None,
                    },
                );
                Ok(())
            })
    }
}

/// The assignments as read (their batches, for the caller to return the ids as given) and the
/// scores, one row per assignment in file order.
pub struct FileScores {
    /// The assignments file's batches (assignment_id, person_id, position_id).
    pub assignments: Vec<RecordBatch>,
    /// The assignments' schema.
    pub schema: SchemaRef,
    /// The scores.
    pub scores: BulkScores<i64>,
}

/// Why [`score_files`] did not score: the files cannot be streamed as they are (the caller
/// can read them whole and score the tables), or another failure.
#[derive(Debug)]
pub enum ScoreFilesError {
    /// An id column is not integers (text ids), or the holdings' expiry is not date32:
    /// `score_files` streams integer ids and a date32 expiry only. Read the tables whole
    /// ([`Source::read_all`]) and score them as `score_compliance` does.
    NotStreamable(Error),
    /// Any other failure: a file missing or unreadable, a column missing, nulls, bad dates.
    Failed(Error),
}

impl ScoreFilesError {
    /// The error, whichever kind.
    pub fn into_error(self) -> Error {
        match self {
            Self::NotStreamable(e) | Self::Failed(e) => e,
        }
    }
}

impl std::fmt::Display for ScoreFilesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotStreamable(e) | Self::Failed(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ScoreFilesError {}

impl From<Error> for ScoreFilesError {
    fn from(e: Error) -> Self {
        Self::Failed(e)
    }
}

impl From<ScoreFilesError> for Error {
    fn from(e: ScoreFilesError) -> Self {
        e.into_error()
    }
}

/// Integer id columns of every batch of a small table, as `i64` vectors.
fn int_columns(
    batches: &[RecordBatch],
    path: &Path,
    names: &[&str],
) -> std::result::Result<Vec<Vec<i64>>, ScoreFilesError> {
    let mut out = vec![Vec::new(); names.len()];
    for b in batches {
        for (k, o) in out.iter_mut().enumerate() {
            let col = b.column(k);
            if col.null_count() > 0 {
                return Err(ScoreFilesError::Failed(bad(
                    path,
                    format!(
                        "the column {} has null values; every id must have one",
                        names[k]
                    ),
                )));
            }
            let v = ids(col).ok_or_else(|| {
                ScoreFilesError::NotStreamable(bad(
                    path,
                    format!(
                        "the column {} is {}; esr_files scores integer ids (int32 or int64)",
                        names[k],
                        col.data_type()
                    ),
                ))
            })?;
            o.extend_from_slice(&v);
        }
    }
    Ok(out)
}

/// Scores every assignment from the three files, by exactly the rules and with exactly the
/// result of [`esr_core::compliance::score_compliance`], reading only the columns needed,
/// row groups on up to `threads` threads, the holdings streamed (memory grows with staff, not
/// records) and those expired before `as_of` dropped while decoding. Ids must be integers
/// (int32 or int64) and the expiry date32 ([`streamable`]): other files give
/// [`ScoreFilesError::NotStreamable`]; read them with [`Source::read_all`] and score the tables.
///
/// These are requirements by position only, every one essential, with no minimum level and no
/// equivalences. For the full rules read the tables with their rule columns
/// ([`Source::open_with`]) and score them with
/// [`esr_core::compliance::score_compliance_parts_with_rules`], as `esr.score_files` does when
/// a rule is in play.
pub fn score_files(
    assignments: &Path,
    requirements: &Path,
    holdings: &Path,
    as_of: NaiveDate,
    window: AmberWindow,
    threads: NonZeroUsize,
) -> std::result::Result<FileScores, ScoreFilesError> {
    let a = Source::open(assignments, "assignments", &ASSIGNMENT_COLUMNS)?;
    let r = Source::open(requirements, "requirements", &REQUIREMENT_COLUMNS)?;
    let h = Source::open(holdings, "holdings", &HOLDING_COLUMNS)?;
    if !streamable(h.schema()) {
        return Err(ScoreFilesError::NotStreamable(bad(
            holdings,
            format!(
                "its columns are {}; esr_files streams integer ids and a date32 expiry",
                h.schema()
            ),
        )));
    }
    let t = threads.get();
    let a_batches = a.read_all(t, None)?;
    let r_batches = r.read_all(t, None)?;
    let acols = int_columns(&a_batches, assignments, &ASSIGNMENT_COLUMNS)?;
    let rcols = int_columns(&r_batches, requirements, &REQUIREMENT_COLUMNS)?;
    let _ = days_since_epoch(as_of)?;
    let stream = StreamedHoldings {
        source: &h,
        drop_expired: true,
    };
    let scores = score_compliance_parts(
        &[AssignmentColumns {
            assignment_id: &acols[0],
            person_id: &acols[1],
            position_id: &acols[2],
        }],
        RequirementColumns {
            position_id: &rcols[0],
            competency_id: &rcols[1],
        },
        &stream,
        as_of,
        window,
        threads,
    )?;
    Ok(FileScores {
        assignments: a_batches,
        schema: a.schema().clone(),
        scores,
    })
}

mod csv;
pub use csv::*;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
