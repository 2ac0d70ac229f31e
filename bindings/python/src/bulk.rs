//! Bulk compliance scoring over Arrow tables: `esr.score_compliance`, `esr.compliance_detail`
//! and the competence export importer `esr.read_competence_csv`.
//!
//! Tables come in and go out through the Arrow PyCapsule interface (`__arrow_c_stream__`,
//! `__arrow_c_array__`), which pyarrow, polars and pandas (2.2 and later) all speak. Integer id
//! columns are handed to the core's scorer without copying when a table arrives as one chunk of
//! the id type the scorer runs on; otherwise they are widened or concatenated once. Text id
//! columns are interned into dense ids (`esr_core::compliance::KeyInterner`, one per key shared by the
//! tables that join on it) with the interpreter released. Results are built from the core's
//! own vectors and handed to pyarrow as a C stream, then converted to the caller's library
//! (`frames.rs`).

use crate::csv_source::CsvSource;
use crate::errors::{BulkInputError, EsrError, InvalidInputError};
use crate::frames::{self, Library};
use arrow_array::cast::AsArray;
use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi};
use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Date64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, DictionaryArray, Float64Array, Int8Array,
    Int32Array, Int64Array, LargeStringArray, RecordBatch, RecordBatchIterator, StringArray,
    StructArray, UInt32Array, UInt64Array,
};
use arrow_buffer::{BooleanBuffer, NullBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use esr_core::chrono::NaiveDate;
use esr_core::{
    Error, VpdCode,
    compliance::{
        AmberWindow, AssignmentColumns, BulkId, BulkScores, ComplianceStatus, CsvEncoding,
        HeldNotRequired, HoldingColumns, ImportOptions, KeyInterner, NO_EXPIRY, Need,
        RequirementColumns, Validity,
    },
};
use pyo3::exceptions::PyUserWarning;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::num::NonZeroUsize;
use std::sync::Arc;

mod rules;

const STREAM: &CStr = c"arrow_array_stream";

fn bulk_err(msg: impl Into<String>) -> PyErr {
    BulkInputError::new_err(msg.into())
}

fn core_err(e: Error) -> PyErr {
    crate::errors::to_py(e)
}

/// One imported table: its record batches (chunks), all sharing `schema`.
struct Table {
    name: &'static str,
    needs: &'static str,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

fn import_table(
    obj: &Bound<'_, PyAny>,
    name: &'static str,
    needs: &'static str,
) -> PyResult<Table> {
    let arrow = |e: arrow_schema::ArrowError| {
        bulk_err(format!("the {name} table cannot be read as Arrow: {e}"))
    };
    if obj.hasattr("__arrow_c_stream__")? {
        let export = |e: PyErr| {
            bulk_err(format!(
                "the {name} table cannot be exported as Arrow: {e}; give columns of Arrow types (ids as integers or text, dates as dates)"
            ))
        };
        let not_capsule = |e: PyErr| {
            bulk_err(format!(
                "the {name} table's __arrow_c_stream__ did not give an Arrow stream capsule ({e}); give a pyarrow Table, a polars or a pandas DataFrame"
            ))
        };
        let capsule = obj.call_method0("__arrow_c_stream__").map_err(export)?;
        let capsule = capsule
            .cast::<PyCapsule>()
            .map_err(|e| not_capsule(e.into()))?;
        let ptr = capsule.pointer_checked(Some(STREAM)).map_err(not_capsule)?;
        // SAFETY: the capsule is named arrow_array_stream, so by the PyCapsule interface it
        // holds an ArrowArrayStream; from_raw moves it out and marks the original released,
        // which is how a consumer takes it over.
        let stream = unsafe { FFI_ArrowArrayStream::from_raw(ptr.as_ptr().cast()) };
        let reader = RecordBatchStreamReader::try_new(stream).map_err(arrow)?;
        let schema = arrow_array::RecordBatchReader::schema(&reader);
        let batches = reader.collect::<Result<Vec<_>, _>>().map_err(arrow)?;
        Ok(Table {
            name,
            needs,
            schema,
            batches,
        })
    } else if obj.hasattr("__arrow_c_array__")? {
        let pair = obj
            .call_method0("__arrow_c_array__")
            .map_err(|e| bulk_err(format!("the {name} table cannot be exported as Arrow: {e}")))?;
        let not_capsules = |e: PyErr| {
            bulk_err(format!(
                "the {name} table's __arrow_c_array__ did not give an Arrow schema and array capsule ({e}); give a pyarrow Table, a polars or a pandas DataFrame"
            ))
        };
        let (schema, array): (Bound<'_, PyCapsule>, Bound<'_, PyCapsule>) =
            pair.extract().map_err(not_capsules)?;
        let sp = schema
            .pointer_checked(Some(c"arrow_schema"))
            .map_err(not_capsules)?;
        let ap = array
            .pointer_checked(Some(c"arrow_array"))
            .map_err(not_capsules)?;
        // SAFETY: capsules so named hold an ArrowSchema and an ArrowArray; the array is moved
        // out (its original marked released) and the schema only borrowed, as the interface
        // requires.
        let data = unsafe {
            let array = FFI_ArrowArray::from_raw(ap.as_ptr().cast());
            from_ffi(array, &*sp.as_ptr().cast::<FFI_ArrowSchema>())
        }
        .map_err(arrow)?;
        if !matches!(data.data_type(), DataType::Struct(_)) {
            return Err(bulk_err(format!(
                "the {name} table is a single {} column, not a table; give a table with the columns {needs}",
                data.data_type()
            )));
        }
        let batch = RecordBatch::from(StructArray::from(data));
        Ok(Table {
            name,
            needs,
            schema: batch.schema(),
            batches: vec![batch],
        })
    } else {
        Err(bulk_err(format!(
            "the {name} table is a {}, which is not an Arrow table; give a pyarrow Table, a polars DataFrame or a pandas DataFrame (pandas 2.2 or later) with the columns {needs}",
            obj.get_type().name()?
        )))
    }
}

impl Table {
    /// The chunks of column `col`, refused with the table and column named when it is missing
    /// or has nulls.
    fn column(&self, col: &str) -> PyResult<Vec<&ArrayRef>> {
        let idx = self.schema.index_of(col).map_err(|_| {
            let has: Vec<&str> = self
                .schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            bulk_err(format!(
                "the {} table has no column {col}; it needs {} (it has: {})",
                self.name,
                self.needs,
                has.join(", ")
            ))
        })?;
        Ok(self.batches.iter().map(|b| b.column(idx)).collect())
    }

    fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    fn no_nulls(&self, col: &str, chunks: &[&ArrayRef]) -> PyResult<()> {
        let nulls: usize = chunks.iter().map(|c| c.null_count()).sum();
        if nulls == 0 {
            return Ok(());
        }
        let mut row = 0;
        for c in chunks {
            if let Some(i) = (0..c.len()).find(|&i| c.is_null(i)) {
                row += i;
                break;
            }
            row += c.len();
        }
        Err(bulk_err(format!(
            "the {} table's column {col} has {nulls} null value(s), the first at row {row}; every {col} must have a value: drop or fill those rows",
            self.name
        )))
    }
}

/// What an id column holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IdKind {
    Int(IntKind),
    Text,
}

/// The integer types an id column may have.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IntKind {
    /// Int8, Int16, Int32, UInt8, UInt16: fits an `i32`.
    Small,
    /// UInt32.
    U32,
    /// Int64, UInt64.
    Wide,
}

fn is_text(dt: &DataType) -> bool {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => {
            matches!(
                **v,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            )
        }
        _ => false,
    }
}

fn id_kind(t: &Table, col: &str) -> PyResult<IdKind> {
    let dt = t.schema.field_with_name(col).map(Field::data_type);
    let Ok(dt) = dt else {
        return Err(bulk_err(format!(
            "the {} table has no column {col}",
            t.name
        )));
    };
    let why = match dt {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16 => {
            return Ok(IdKind::Int(IntKind::Small));
        }
        DataType::UInt32 => return Ok(IdKind::Int(IntKind::U32)),
        DataType::Int64 | DataType::UInt64 => return Ok(IdKind::Int(IntKind::Wide)),
        d if is_text(d) => return Ok(IdKind::Text),
        DataType::Float16 | DataType::Float32 | DataType::Float64 => format!(
            "is {dt}, but ids must be integers (pandas makes an integer column with missing values float: drop those rows and use astype('int64'))"
        ),
        d => format!("is {d}, but ids must be integers or text"),
    };
    Err(bulk_err(format!(
        "the {} table's column {col} {why}",
        t.name
    )))
}

/// An id type the scorer runs on.
trait Id: BulkId + arrow_buffer::ArrowNativeType + TryFrom<i128> {
    type Arrow: ArrowPrimitiveType<Native = Self>;
}
impl Id for i32 {
    type Arrow = Int32Type;
}
impl Id for u32 {
    type Arrow = UInt32Type;
}
impl Id for i64 {
    type Arrow = Int64Type;
}

fn extend_as<T: ArrowPrimitiveType, I: Id>(
    out: &mut Vec<I>,
    a: &ArrayRef,
    what: &dyn Fn(usize) -> String,
) -> PyResult<()>
where
    T::Native: Into<i128>,
{
    let base = out.len();
    for (k, v) in a.as_primitive::<T>().values().iter().enumerate() {
        let v: i128 = (*v).into();
        let id = I::try_from(v).map_err(|_| {
            bulk_err(format!(
                "{} at row {} is {v}, too large for an id (at most {})",
                what(0),
                base + k,
                i64::MAX
            ))
        })?;
        out.push(id);
    }
    Ok(())
}

/// An integer id column as one slice of `I`: borrowed when it is one chunk of `I` already.
fn int_ids<'a, I: Id>(t: &Table, col: &str, chunks: &[&'a ArrayRef]) -> PyResult<Cow<'a, [I]>> {
    if let [one] = chunks {
        return int_chunk(t, col, one);
    }
    let mut out: Vec<I> = Vec::with_capacity(chunks.iter().map(|c| c.len()).sum());
    for c in chunks {
        out.extend_from_slice(&int_chunk::<I>(t, col, c)?);
    }
    Ok(Cow::Owned(out))
}

/// One chunk of an integer id column as a slice of `I`: borrowed when it holds `I` already,
/// else widened.
fn int_chunk<'a, I: Id>(t: &Table, col: &str, c: &'a ArrayRef) -> PyResult<Cow<'a, [I]>> {
    if c.data_type() == &I::Arrow::DATA_TYPE {
        return Ok(Cow::Borrowed(c.as_primitive::<I::Arrow>().values()));
    }
    let mut out: Vec<I> = Vec::with_capacity(c.len());
    let what = |_| format!("the {} table's column {col}", t.name);
    match c.data_type() {
        DataType::Int8 => extend_as::<Int8Type, I>(&mut out, c, &what)?,
        DataType::Int16 => extend_as::<Int16Type, I>(&mut out, c, &what)?,
        DataType::Int32 => extend_as::<Int32Type, I>(&mut out, c, &what)?,
        DataType::Int64 => extend_as::<Int64Type, I>(&mut out, c, &what)?,
        DataType::UInt8 => extend_as::<UInt8Type, I>(&mut out, c, &what)?,
        DataType::UInt16 => extend_as::<UInt16Type, I>(&mut out, c, &what)?,
        DataType::UInt32 => extend_as::<UInt32Type, I>(&mut out, c, &what)?,
        DataType::UInt64 => extend_as::<UInt64Type, I>(&mut out, c, &what)?,
        d => {
            return Err(bulk_err(format!(
                "the {} table's column {col} is {d}, but ids must be integers",
                t.name
            )));
        }
    }
    Ok(Cow::Owned(out))
}

/// An id column as the scorer reads it: integer chunks where they lie (each borrowed, or
/// widened alone), or one vector (text interned into ids) sliced along the table's chunks.
enum Col<'a, I: Clone> {
    Chunks(Vec<Cow<'a, [I]>>),
    Whole(Vec<I>),
}

impl<'a, I: Clone> Col<'a, I> {
    /// Chunk `b`, rows `at..at + len` of the table.
    fn chunk(&self, b: usize, at: usize, len: usize) -> &[I] {
        match self {
            Self::Chunks(c) => c.get(b).map_or(&[][..], |c| &c[..]),
            Self::Whole(v) => v.get(at..at + len).unwrap_or(&[]),
        }
    }

    /// The ids of rows `rows` (counted across chunks, in increasing order).
    fn gather(&self, rows: impl Iterator<Item = usize>) -> Vec<I> {
        match self {
            Self::Whole(v) => rows.filter_map(|r| v.get(r).cloned()).collect(),
            Self::Chunks(c) => {
                let (mut b, mut lo) = (0, 0);
                rows.filter_map(|r| {
                    while b < c.len() && r >= lo + c[b].len() {
                        lo += c[b].len();
                        b += 1;
                    }
                    c.get(b)?.get(r - lo).cloned()
                })
                .collect()
            }
        }
    }
}

/// Calls `f` with each string of a text column, row by row.
fn each_str<'a>(
    a: &'a ArrayRef,
    f: &mut dyn FnMut(&'a str) -> esr_core::Result<()>,
) -> esr_core::Result<()> {
    match a.data_type() {
        DataType::Utf8 => a
            .as_string::<i32>()
            .iter()
            .try_for_each(|s| f(s.unwrap_or(""))),
        DataType::LargeUtf8 => a
            .as_string::<i64>()
            .iter()
            .try_for_each(|s| f(s.unwrap_or(""))),
        DataType::Utf8View => a
            .as_string_view()
            .iter()
            .try_for_each(|s| f(s.unwrap_or(""))),
        _ => Ok(()),
    }
}

fn id_from_u32<I: Id>(n: u32) -> I {
    // The interner hands out fewer than i32::MAX ids, which every id type holds.
    I::from_usize(n as usize).unwrap_or_default()
}

/// The ids of a text column's strings, each new string given the next id (a dictionary's
/// values are interned once each).
fn intern_ids<'a, I: Id>(
    chunks: &[&'a ArrayRef],
    keys: &mut KeyInterner<'a>,
) -> esr_core::Result<Vec<I>> {
    let mut out = Vec::with_capacity(chunks.iter().map(|c| c.len()).sum());
    for a in chunks {
        if let DataType::Dictionary(..) = a.data_type() {
            let d = a.as_any_dictionary();
            let mut of_value = Vec::with_capacity(d.values().len());
            each_str(d.values(), &mut |s| {
                of_value.push(id_from_u32::<I>(keys.intern(s)?));
                Ok(())
            })?;
            let keys = d.normalized_keys();
            out.extend(
                keys.into_iter()
                    .map(|k| of_value.get(k).copied().unwrap_or_default()),
            );
        } else {
            // Exports come grouped by person: a run of one key is interned once.
            let mut last: Option<(&str, I)> = None;
            each_str(a, &mut |s| {
                let id = match last {
                    Some((l, id)) if l == s => id,
                    _ => {
                        let id = id_from_u32(keys.intern(s)?);
                        last = Some((s, id));
                        id
                    }
                };
                out.push(id);
                Ok(())
            })?;
        }
    }
    Ok(out)
}

/// What [`lookup_ids`] gives a string that has not been interned: no interned string has this
/// id (the interner stops below `i32::MAX`), and every id type holds it.
fn missing<I: Id>() -> I {
    id_from_u32(i32::MAX as u32)
}

/// Rows of a text column below which one thread looks its strings up.
const PARALLEL_LOOKUP_ROWS: usize = 1 << 16;

/// Looks up the strings of `a` into `out` (as long as `a`).
fn lookup_into<I: Id>(a: &ArrayRef, keys: &KeyInterner<'_>, out: &mut [I]) {
    let miss = missing::<I>();
    let mut row = 0;
    if let DataType::Dictionary(..) = a.data_type() {
        let d = a.as_any_dictionary();
        let mut of_value = Vec::with_capacity(d.values().len());
        let _ = each_str(d.values(), &mut |s| {
            of_value.push(keys.get(s).map_or(miss, id_from_u32));
            Ok(())
        });
        for (o, k) in out.iter_mut().zip(d.normalized_keys()) {
            *o = of_value.get(k).copied().unwrap_or(miss);
        }
        return;
    }
    // Exports come grouped by person: a run of one key is looked up once.
    let mut last: Option<(&str, I)> = None;
    let _ = each_str(a, &mut |s| {
        let id = match last {
            Some((l, id)) if l == s => id,
            _ => {
                let id = keys.get(s).map_or(miss, id_from_u32);
                last = Some((s, id));
                id
            }
        };
        if let Some(o) = out.get_mut(row) {
            *o = id;
        }
        row += 1;
        Ok(())
    });
}

/// The ids of a text column's strings already interned, [`missing`] for the others, looked up
/// on up to `threads` threads (the interner is only read), each filling its part in place.
fn lookup_ids<I: Id>(
    chunks: &[&ArrayRef],
    keys: &KeyInterner<'_>,
    threads: NonZeroUsize,
) -> Vec<I> {
    let mut out = vec![I::default(); chunks.iter().map(|c| c.len()).sum()];
    let mut rest = &mut out[..];
    for a in chunks {
        let n = a.len();
        let (mine, tail) = std::mem::take(&mut rest).split_at_mut(n);
        rest = tail;
        let parts = threads.get().min(n / PARALLEL_LOOKUP_ROWS).max(1);
        if parts == 1 || matches!(a.data_type(), DataType::Dictionary(..)) {
            lookup_into(a, keys, mine);
            continue;
        }
        let step = n.div_ceil(parts);
        std::thread::scope(|s| {
            for (k, part) in mine.chunks_mut(step).enumerate() {
                let piece = a.slice(k * step, part.len());
                s.spawn(move || lookup_into(&piece, keys, part));
            }
        });
    }
    out
}

/// Interns the strings of the rows [`lookup_ids`] found missing, in row order.
fn intern_missing<'a, I: Id>(
    chunks: &[&'a ArrayRef],
    keys: &mut KeyInterner<'a>,
    ids: &mut [I],
) -> esr_core::Result<()> {
    let miss = missing::<I>();
    let mut row = 0;
    for a in chunks {
        let mut fix = |s: &'a str| {
            if ids[row] == miss {
                ids[row] = id_from_u32(keys.intern(s)?);
            }
            row += 1;
            Ok(())
        };
        if let DataType::Dictionary(..) = a.data_type() {
            let d = a.as_any_dictionary();
            let mut values = Vec::with_capacity(d.values().len());
            each_str(d.values(), &mut |s| {
                values.push(s);
                Ok(())
            })?;
            for k in d.normalized_keys() {
                fix(values.get(k).copied().unwrap_or_default())?;
            }
        } else {
            each_str(a, &mut fix)?;
        }
    }
    Ok(())
}

/// The expiry column as days, and its validity (null: never expires).
struct Expiry<'a> {
    days: Cow<'a, [i32]>,
    validity: Option<Validity<'a>>,
}

fn expiry<'a>(t: &Table, chunks: &[&'a ArrayRef]) -> PyResult<Vec<Expiry<'a>>> {
    let col = "expiry";
    let dt = t
        .schema
        .field_with_name(col)
        .map(|f| f.data_type().clone())
        .unwrap_or(DataType::Null);
    let per_day: i64 = match &dt {
        DataType::Date32 => 1,
        DataType::Date64 => 86_400_000,
        DataType::Timestamp(unit, None) => match unit {
            TimeUnit::Second => 86_400,
            TimeUnit::Millisecond => 86_400_000,
            TimeUnit::Microsecond => 86_400_000_000,
            TimeUnit::Nanosecond => 86_400_000_000_000,
        },
        DataType::Timestamp(_, Some(tz)) => {
            return Err(bulk_err(format!(
                "the {} table's column expiry is a timestamp with time zone {tz}; give dates (polars: .dt.date(); pandas: .dt.date or tz_localize(None)), so the day an expiry falls on is the one you mean",
                t.name
            )));
        }
        d if is_text(d) => {
            return Err(bulk_err(format!(
                "the {} table's column expiry holds strings ({d}); give a date column (pyarrow: date32; polars: .str.to_date(); pandas: pd.to_datetime())",
                t.name
            )));
        }
        d => {
            return Err(bulk_err(format!(
                "the {} table's column expiry is {d}; give a date column (date32, date64 or a timestamp without time zone)",
                t.name
            )));
        }
    };
    chunks.iter().map(|c| expiry_chunk(t, c, per_day)).collect()
}

/// One chunk of the expiry column: borrowed with its validity when it is date32, else turned
/// into days.
fn expiry_chunk<'a>(t: &Table, c: &'a ArrayRef, per_day: i64) -> PyResult<Expiry<'a>> {
    if let DataType::Date32 = c.data_type() {
        let a = c.as_primitive::<Date32Type>();
        return Ok(Expiry {
            days: Cow::Borrowed(a.values()),
            validity: a
                .nulls()
                .map(|n| Validity::new(n.inner().values(), n.inner().offset())),
        });
    }
    let mut days = Vec::with_capacity(c.len());
    let push = |days: &mut Vec<i32>, v: Option<i64>| -> PyResult<()> {
        let d = match v {
            None => NO_EXPIRY,
            Some(v) => i32::try_from(v.div_euclid(per_day)).map_err(|_| {
                bulk_err(format!(
                    "the {} table's column expiry has a date too far from 1970 ({v})",
                    t.name
                ))
            })?,
        };
        days.push(d);
        Ok(())
    };
    macro_rules! each {
        ($ty:ty) => {
            for v in c.as_primitive::<$ty>().iter() {
                push(&mut days, v.map(i64::from))?;
            }
        };
    }
    match c.data_type() {
        DataType::Date64 => each!(Date64Type),
        DataType::Timestamp(TimeUnit::Second, _) => each!(TimestampSecondType),
        DataType::Timestamp(TimeUnit::Millisecond, _) => each!(TimestampMillisecondType),
        DataType::Timestamp(TimeUnit::Microsecond, _) => each!(TimestampMicrosecondType),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => each!(TimestampNanosecondType),
        _ => {}
    }
    Ok(Expiry {
        days: Cow::Owned(days),
        validity: None,
    })
}

/// `as_of` as a date: a datetime.date, or the date of a datetime.datetime (pandas.Timestamp
/// is one) or of a numpy.datetime64.
fn as_date(obj: &Bound<'_, PyAny>) -> PyResult<NaiveDate> {
    let py = obj.py();
    let dt = py.import("datetime")?;
    let type_name = || {
        obj.get_type()
            .name()
            .map_or_else(|_| "this".to_owned(), |n| n.to_string())
    };
    let mut date = obj.clone();
    if obj.is_instance(&dt.getattr("datetime")?)? {
        // pandas.NaT is a datetime whose date() raises.
        date = obj.call_method0("date").map_err(|_| {
            InvalidInputError::new_err(format!(
                "as_of is {} with no date (NaT?); give a date",
                type_name()
            ))
        })?;
    } else if obj.get_type().name()?.to_str()? == "datetime64"
        && obj.get_type().module()?.to_str()?.starts_with("numpy")
    {
        date = obj
            .call_method1("astype", ("datetime64[D]",))?
            .call_method0("item")?;
        if date.is_none() {
            return Err(InvalidInputError::new_err(
                "as_of is numpy.datetime64('NaT'); give a date",
            ));
        }
    }
    if !date.is_instance(&dt.getattr("date")?)? {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "argument 'as_of': as_of must be a datetime.date, datetime.datetime, pandas.Timestamp or numpy.datetime64, not {}",
            type_name()
        )));
    }
    let part = |n: &str| -> PyResult<u32> { date.getattr(n)?.extract() };
    let ymd = (|| {
        Ok::<_, PyErr>((
            date.getattr("year")?.extract::<i32>()?,
            part("month")?,
            part("day")?,
        ))
    })();
    // pandas.NaT passes for a datetime but has no year.
    let (year, month, day) = ymd.map_err(|_| {
        InvalidInputError::new_err(format!(
            "as_of is {} with no date (NaT?); give a date",
            type_name()
        ))
    })?;
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| InvalidInputError::new_err("as_of is not a valid date"))
}

/// `threads` as a count: None for every core.
fn thread_count(threads: Option<i64>) -> PyResult<NonZeroUsize> {
    match threads {
        None => Ok(std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)),
        Some(n) => usize::try_from(n)
            .ok()
            .and_then(NonZeroUsize::new)
            .ok_or_else(|| {
                InvalidInputError::new_err(format!(
                    "threads is {n}; give 1 or more, or None for every core"
                ))
            }),
    }
}

const ASSIGNMENTS_NEED: &str = "assignment_id, person_id and position_id";
const REQUIREMENTS_NEED: &str = "position_id and competency_id";
const HOLDINGS_NEED: &str = "person_id, competency_id and expiry";

/// The columns the scorer reads: (table: 0 assignments, 1 requirements, 2 holdings; column).
const COLS: [(usize, &str); 8] = [
    (0, "assignment_id"),
    (0, "person_id"),
    (0, "position_id"),
    (1, "position_id"),
    (1, "competency_id"),
    (2, "person_id"),
    (2, "competency_id"),
    (2, "expiry"),
];
/// The key each id column (the first seven of COLS) joins on: the columns of a key must hold
/// the same kind of id; the first of each interns its strings.
const KEYS: [&[usize]; 4] = [&[0], &[1, 5], &[2, 3], &[4, 6]];

/// The three tables, checked: every column present, no null ids, the kinds of each key's
/// columns alike.
struct Prepared<'a> {
    tables: [&'a Table; 3],
    chunks: Vec<Vec<&'a ArrayRef>>,
    /// Whether each key is text.
    text: [bool; 4],
    width: IntKind,
}

fn prepare<'a>(a: &'a Table, r: &'a Table, h: &'a Table) -> PyResult<Prepared<'a>> {
    let tables = [a, r, h];
    // Every column present and without null keys, before any type is judged.
    let mut chunks = Vec::with_capacity(COLS.len());
    for (t, c) in COLS {
        chunks.push(tables[t].column(c)?);
    }
    let mut kinds = Vec::new();
    for (k, (t, c)) in COLS.iter().enumerate().take(7) {
        kinds.push(id_kind(tables[*t], c)?);
        tables[*t].no_nulls(c, &chunks[k])?;
    }
    let mut text = [false; 4];
    for (g, cols) in KEYS.iter().enumerate() {
        let first = cols[0];
        text[g] = kinds[first] == IdKind::Text;
        for &c in &cols[1..] {
            if (kinds[c] == IdKind::Text) != text[g] {
                let name = |c: usize| {
                    let (t, col) = COLS[c];
                    let dt = tables[t]
                        .schema
                        .field_with_name(col)
                        .map(|f| f.data_type().to_string())
                        .unwrap_or_default();
                    let kind = if kinds[c] == IdKind::Text {
                        "text"
                    } else {
                        "integers"
                    };
                    (tables[t].name, col, kind, dt)
                };
                let (t1, c1, k1, d1) = name(first);
                let (t2, c2, k2, d2) = name(c);
                return Err(bulk_err(format!(
                    "the {t1} table's column {c1} holds {k1} ({d1}) but the {t2} table's column {c2} holds {k2} ({d2}); ids that join must be of one kind, as they are matched exactly: make both text (polars: pl.col('{c2}').cast(pl.String); pandas: df['{c2}'].astype(str)) or both integers"
                )));
            }
        }
    }
    let ints = || {
        kinds.iter().filter_map(|k| match k {
            IdKind::Int(i) => Some(*i),
            IdKind::Text => None,
        })
    };
    let width = if ints().all(|k| k == IntKind::Small) {
        IntKind::Small
    } else if ints().all(|k| k == IntKind::U32) {
        IntKind::U32
    } else {
        IntKind::Wide
    };
    Ok(Prepared {
        tables,
        chunks,
        text,
        width,
    })
}

/// The id columns as slices of `I` (integer columns borrowed where they can be, text ones
/// interned), each key's strings, and the expiry column.
struct Inputs<'a, I: Clone> {
    ids: Vec<Col<'a, I>>,
    names: Vec<Option<KeyInterner<'a>>>,
    /// The holdings' expiry, chunk by chunk.
    expiry: Vec<Expiry<'a>>,
    /// The rows of each chunk of the assignments and of the holdings.
    lens: [Vec<usize>; 2],
}

fn inputs<'a, I: Id>(
    py: Python<'_>,
    p: &Prepared<'a>,
    threads: NonZeroUsize,
    need_assignment_ids: bool,
) -> PyResult<Inputs<'a, I>> {
    let mut ids: Vec<Option<Col<'a, I>>> = (0..7).map(|_| None).collect();
    let mut names = Vec::with_capacity(KEYS.len());
    for (g, cols) in KEYS.iter().enumerate() {
        if !p.text[g] {
            for &c in cols.iter() {
                let (t, col) = COLS[c];
                let table = p.tables[t];
                ids[c] = Some(Col::Chunks(if t == 1 {
                    // Requirements are few: one slice.
                    vec![int_ids::<I>(table, col, &p.chunks[c])?]
                } else {
                    let chunks = p.chunks[c].iter();
                    chunks
                        .map(|a| int_chunk::<I>(table, col, a))
                        .collect::<PyResult<_>>()?
                }));
            }
            names.push(None);
            continue;
        }
        // Competencies held that nothing requires are interned too, for the Blue rows.
        let intern_all = g == 3;
        let chunks = &p.chunks;
        let (keys, cols_ids) = py
            .detach(|| -> esr_core::Result<_> {
                let mut keys = KeyInterner::new();
                let mut out = Vec::new();
                for (k, &c) in cols.iter().enumerate() {
                    let ids = if k == 0 {
                        // The score needs no assignment ids of its own: they come back as given.
                        if g == 0 && !need_assignment_ids {
                            vec![I::default(); chunks[c].iter().map(|a| a.len()).sum()]
                        } else {
                            intern_ids::<I>(&chunks[c], &mut keys)?
                        }
                    } else {
                        let mut ids = lookup_ids::<I>(&chunks[c], &keys, threads);
                        if intern_all {
                            intern_missing(&chunks[c], &mut keys, &mut ids)?;
                        } else {
                            let (miss, unknown) = (missing::<I>(), id_from_u32(keys.unknown()));
                            ids.iter_mut()
                                .filter(|i| **i == miss)
                                .for_each(|i| *i = unknown);
                        }
                        ids
                    };
                    out.push(ids);
                }
                Ok((keys, out))
            })
            .map_err(core_err)?;
        for (&c, v) in cols.iter().zip(cols_ids) {
            ids[c] = Some(Col::Whole(v));
        }
        names.push(Some(keys));
    }
    let lens = |t: &Table| t.batches.iter().map(RecordBatch::num_rows).collect();
    Ok(Inputs {
        ids: ids
            .into_iter()
            .map(|c| c.unwrap_or(Col::Whole(Vec::new())))
            .collect(),
        names,
        expiry: expiry(p.tables[2], &p.chunks[7])?,
        lens: [lens(p.tables[0]), lens(p.tables[2])],
    })
}

impl<I: Id> Inputs<'_, I> {
    /// The assignments and holdings chunk by chunk, as they lie, and the requirements.
    #[allow(clippy::type_complexity)]
    fn columns(
        &self,
    ) -> (
        Vec<AssignmentColumns<'_, I>>,
        RequirementColumns<'_, I>,
        Vec<HoldingColumns<'_, I>>,
    ) {
        let mut assignments = Vec::with_capacity(self.lens[0].len());
        let mut at = 0;
        for (b, &n) in self.lens[0].iter().enumerate() {
            assignments.push(AssignmentColumns {
                assignment_id: self.ids[0].chunk(b, at, n),
                person_id: self.ids[1].chunk(b, at, n),
                position_id: self.ids[2].chunk(b, at, n),
            });
            at += n;
        }
        let whole = |c: &Col<'_, I>| -> usize {
            match c {
                Col::Whole(v) => v.len(),
                Col::Chunks(c) => c.first().map_or(0, |c| c.len()),
            }
        };
        let requirements = RequirementColumns {
            position_id: self.ids[3].chunk(0, 0, whole(&self.ids[3])),
            competency_id: self.ids[4].chunk(0, 0, whole(&self.ids[4])),
        };
        let mut holdings = Vec::with_capacity(self.lens[1].len());
        let mut at = 0;
        for (b, &n) in self.lens[1].iter().enumerate() {
            let e = &self.expiry[b];
            holdings.push(HoldingColumns {
                person_id: self.ids[5].chunk(b, at, n),
                competency_id: self.ids[6].chunk(b, at, n),
                expiry: &e.days,
                expiry_validity: e.validity,
                level: None,
            });
            at += n;
        }
        (assignments, requirements, holdings)
    }

    /// Key `g`'s ids as a column: the strings for a text key, else int64.
    fn key_column(&self, g: usize, ids: impl Iterator<Item = I>) -> ArrayRef {
        match &self.names[g] {
            Some(k) => Arc::new(LargeStringArray::from_iter_values(
                ids.map(|i| k.key(i.as_usize() as u32).unwrap_or_default()),
            )),
            None => Arc::new(Int64Array::from_iter_values(ids.map(BulkId::to_i64))),
        }
    }
}

/// Gives each chunk of the holdings its rows of `levels` (a column across every chunk).
fn with_levels<'a, I>(holdings: &mut [HoldingColumns<'a, I>], levels: Option<&'a [u8]>) {
    let Some(levels) = levels else { return };
    let mut at = 0;
    for h in holdings {
        let n = h.person_id.len();
        h.level = levels.get(at..at + n);
        at += n;
    }
}

/// What the Python bulk functions share: the amber window and threads, parsed.
fn window_of(amber_months: i64) -> PyResult<AmberWindow> {
    u32::try_from(amber_months)
        .map_err(|_| {
            InvalidInputError::new_err(format!(
                "amber_months is {amber_months}; give 0 to 120 (ESR uses 3)"
            ))
        })
        .and_then(|m| AmberWindow::months(m).map_err(core_err))
}

/// Imports the three tables (collecting polars LazyFrames) and picks the library to answer in.
fn import_three<'py>(
    assignments: &Bound<'py, PyAny>,
    requirements: &Bound<'py, PyAny>,
    holdings: &Bound<'py, PyAny>,
    output: Option<&str>,
) -> PyResult<([Table; 3], Library)> {
    let lib = frames::output_library(output, &[assignments, requirements, holdings])?;
    let a = import_table(
        &frames::collected(assignments)?,
        "assignments",
        ASSIGNMENTS_NEED,
    )?;
    let r = import_table(
        &frames::collected(requirements)?,
        "requirements",
        REQUIREMENTS_NEED,
    )?;
    let h = import_table(&frames::collected(holdings)?, "holdings", HOLDINGS_NEED)?;
    Ok(([a, r, h], lib))
}

/// Scores every assignment as of `as_of`, with an Amber window of `amber_months`: one row per
/// row of the assignments table, in its order, with `assignment_id`, `person_id` (as given),
/// `required`, `green`, `amber`, `red` and `percent` (null where nothing is required).
///
/// Each table is any Arrow table (a pyarrow Table, a polars DataFrame or LazyFrame, a pandas
/// DataFrame) with the columns assignments: assignment_id, person_id, position_id;
/// requirements: position_id, competency_id (each row an essential requirement); holdings:
/// person_id, competency_id, expiry. Every id column is integers of any width or text (string,
/// large_string, string_view or dictionary: ESR's assignment and employee numbers as written,
/// matched exactly); the columns that join (person_id in assignments and holdings, position_id
/// in assignments and requirements, competency_id in requirements and holdings) must be of
/// one kind. expiry is a date (date32, date64 or a timestamp without time zone); a null expiry
/// never expires. The holding with the latest expiry counts. `as_of` is a datetime.date, or a
/// datetime.datetime, pandas.Timestamp or numpy.datetime64 (its date). The result is a polars
/// DataFrame when a table given is one (the first polars or pandas table decides), a pandas
/// DataFrame for pandas, else a pyarrow Table; `output` ("pyarrow", "pandas" or "polars")
/// chooses. `threads` caps the threads (None: every core). Raises BulkInputError naming the
/// table and column when a column is missing, of the wrong type, has null ids, holds dates as
/// strings, or joins ids of another kind.
///
/// The service's other rules, all optional: org_units (org_unit_id, parent_id; a null parent is
/// a root), org_unit_requirements (org_unit_id, competency_id; inherited by every unit below),
/// job_requirements (job, competency_id), equivalences (competency_id, satisfies_competency_id;
/// chains count), with the columns assignments.org_unit_id and .job, and, on any requirements
/// table, essential (bool; desirable rows are never counted) and min_level, and holdings.level
/// (ranks as integers or as ESR writes them, "1 - Assessed"; a holding below a requirement's
/// minimum does not satisfy it). required then counts the essential rows, as the service does.
///
/// Example: holdings = esr.read_competence_csv("export.csv", vpd="297");
/// scores = esr.score_compliance(assignments, requirements, holdings, datetime.date.today())
#[pyfunction]
#[pyo3(signature = (assignments, requirements, holdings, as_of, amber_months=3, *, org_units=None, org_unit_requirements=None, job_requirements=None, equivalences=None, output=None, threads=None))]
#[allow(clippy::too_many_arguments)]
fn score_compliance<'py>(
    py: Python<'py>,
    assignments: &Bound<'py, PyAny>,
    requirements: &Bound<'py, PyAny>,
    holdings: &Bound<'py, PyAny>,
    as_of: &Bound<'py, PyAny>,
    amber_months: i64,
    org_units: Option<&Bound<'py, PyAny>>,
    org_unit_requirements: Option<&Bound<'py, PyAny>>,
    job_requirements: Option<&Bound<'py, PyAny>>,
    equivalences: Option<&Bound<'py, PyAny>>,
    output: Option<&str>,
    threads: Option<i64>,
) -> PyResult<Bound<'py, PyAny>> {
    let as_of = as_date(as_of)?;
    let window = window_of(amber_months)?;
    let threads = thread_count(threads)?;
    let ([a, r, h], lib) = import_three(assignments, requirements, holdings, output)?;
    let extra = rules::Extra::import(
        org_units,
        org_unit_requirements,
        job_requirements,
        equivalences,
    )?;
    let p = prepare(&a, &r, &h)?;
    let extra = extra.any(p.tables).then_some(&extra);
    let batches = score_any(py, &p, extra, as_of, window, threads)?;
    frames::convert(to_pyarrow(py, batches)?, lib)
}

/// The scores of prepared tables, on the narrowest ids they allow. The full rules join ids
/// across more tables: they run on i64 ids.
fn score_any<'a>(
    py: Python<'_>,
    p: &Prepared<'a>,
    extra: Option<&'a rules::Extra>,
    as_of: NaiveDate,
    window: AmberWindow,
    threads: NonZeroUsize,
) -> PyResult<(SchemaRef, Vec<RecordBatch>)> {
    match (p.width, extra) {
        (_, Some(_)) | (IntKind::Wide, _) => score::<i64>(py, p, extra, as_of, window, threads),
        (IntKind::Small, None) => score::<i32>(py, p, None, as_of, window, threads),
        (IntKind::U32, None) => score::<u32>(py, p, None, as_of, window, threads),
    }
}

/// The detail rows of prepared tables, on the narrowest ids they allow (as [`score_any`]).
fn detail_any<'a>(
    py: Python<'_>,
    p: &Prepared<'a>,
    extra: Option<&'a rules::Extra>,
    as_of: NaiveDate,
    window: AmberWindow,
    blue: HeldNotRequired,
    threads: NonZeroUsize,
) -> PyResult<RecordBatch> {
    match (p.width, extra) {
        (_, Some(_)) | (IntKind::Wide, _) => {
            detail::<i64>(py, p, extra, as_of, window, blue, threads)
        }
        (IntKind::Small, None) => detail::<i32>(py, p, None, as_of, window, blue, threads),
        (IntKind::U32, None) => detail::<u32>(py, p, None, as_of, window, blue, threads),
    }
}

/// held_not_required=True asks for the Blue rows.
fn blue_rows(held_not_required: bool) -> HeldNotRequired {
    if held_not_required {
        HeldNotRequired::Blue
    } else {
        HeldNotRequired::Omit
    }
}

fn score<'a, I: Id>(
    py: Python<'_>,
    p: &Prepared<'a>,
    extra: Option<&'a rules::Extra>,
    as_of: NaiveDate,
    window: AmberWindow,
    threads: NonZeroUsize,
) -> PyResult<(SchemaRef, Vec<RecordBatch>)> {
    let mut inputs = inputs::<I>(py, p, threads, false)?;
    let cols = extra
        .map(|x| rules::columns::<I>(x, p, &mut inputs.names[3]))
        .transpose()?;
    let rules = cols.as_ref().map(|c| c.rules()).unwrap_or_default();
    let (a, r, mut h) = inputs.columns();
    with_levels(&mut h, cols.as_ref().and_then(|c| c.holding_levels()));
    let scores = py
        .detach(|| {
            esr_core::compliance::score_compliance_parts_with_rules(
                &a,
                r,
                &h[..],
                &rules,
                as_of,
                window,
                threads,
            )
        })
        .map_err(core_err)?;
    scores_into_batches(scores, p.tables[0])
}

/// The detail behind score_compliance, from the same tables by the same rules: one row per
/// assignment and competency its position requires, in the assignments table's order, with
/// assignment_id, person_id, competency_id (ids as given: text as large strings, integers as
/// int64), essential (true: every requirement is essential), status ("Green", "Amber" or
/// "Red"; a dictionary/categorical column), expiry (date32 of the holding that counts; null
/// when it never expires or is not held) and days_left (int32 from as_of to the expiry,
/// negative once expired; null without an expiry). With held_not_required=True, also one
/// "Blue" row (essential false) per competency the person holds that the position does not
/// require. Filter it for "who is Red in what". Tables, as_of, output and threads as for
/// score_compliance, whose counts are these rows summed per assignment. The optional rule
/// tables and columns are those of score_compliance; need ("essential", "desirable" or
/// "not required") and red_reason ("not held", "expired", "below the minimum level") close each
/// row; a desirable competency not held has no colour and no row.
#[pyfunction]
#[pyo3(signature = (assignments, requirements, holdings, as_of, amber_months=3, *, held_not_required=false, org_units=None, org_unit_requirements=None, job_requirements=None, equivalences=None, output=None, threads=None))]
#[allow(clippy::too_many_arguments)]
fn compliance_detail<'py>(
    py: Python<'py>,
    assignments: &Bound<'py, PyAny>,
    requirements: &Bound<'py, PyAny>,
    holdings: &Bound<'py, PyAny>,
    as_of: &Bound<'py, PyAny>,
    amber_months: i64,
    held_not_required: bool,
    org_units: Option<&Bound<'py, PyAny>>,
    org_unit_requirements: Option<&Bound<'py, PyAny>>,
    job_requirements: Option<&Bound<'py, PyAny>>,
    equivalences: Option<&Bound<'py, PyAny>>,
    output: Option<&str>,
    threads: Option<i64>,
) -> PyResult<Bound<'py, PyAny>> {
    let as_of = as_date(as_of)?;
    let window = window_of(amber_months)?;
    let threads = thread_count(threads)?;
    let blue = blue_rows(held_not_required);
    let ([a, r, h], lib) = import_three(assignments, requirements, holdings, output)?;
    let extra = rules::Extra::import(
        org_units,
        org_unit_requirements,
        job_requirements,
        equivalences,
    )?;
    let p = prepare(&a, &r, &h)?;
    let extra = extra.any(p.tables).then_some(&extra);
    let batch = detail_any(py, &p, extra, as_of, window, blue, threads)?;
    frames::convert(to_pyarrow(py, (batch.schema(), vec![batch]))?, lib)
}

#[allow(clippy::too_many_arguments)]
fn detail<'a, I: Id>(
    py: Python<'_>,
    p: &Prepared<'a>,
    extra: Option<&'a rules::Extra>,
    as_of: NaiveDate,
    window: AmberWindow,
    blue: HeldNotRequired,
    threads: NonZeroUsize,
) -> PyResult<RecordBatch> {
    let mut inputs = inputs::<I>(py, p, threads, true)?;
    let cols = extra
        .map(|x| rules::columns::<I>(x, p, &mut inputs.names[3]))
        .transpose()?;
    let rules = cols.as_ref().map(|c| c.rules()).unwrap_or_default();
    let (a, r, mut h) = inputs.columns();
    with_levels(&mut h, cols.as_ref().and_then(|c| c.holding_levels()));
    let inp = &inputs;
    let rules = &rules;
    py.detach(move || -> PyResult<RecordBatch> {
        let d = esr_core::compliance::score_compliance_detail_parts_with_rules(
            &a, r, &h, rules, as_of, window, blue, threads,
        )
        .map_err(core_err)?;
        let rows = || d.assignment_row.iter().map(|&r| r as usize);
        let assignment = inp.key_column(0, inp.ids[0].gather(rows()).into_iter());
        let person = inp.key_column(1, inp.ids[1].gather(rows()).into_iter());
        let competency: ArrayRef = match &inp.names[3] {
            // Few distinct competences: a dictionary of the names.
            Some(k) => {
                let names = StringArray::from_iter_values(
                    (0..k.len()).map(|i| k.key(i as u32).unwrap_or_default()),
                );
                let keys = UInt32Array::from_iter_values(
                    d.competency_id.iter().map(|c| c.as_usize() as u32),
                );
                Arc::new(
                    DictionaryArray::<UInt32Type>::try_new(keys, Arc::new(names))
                        .map_err(|e| EsrError::new_err(format!("building the result: {e}")))?,
                )
            }
            None => Arc::new(Int64Array::from_iter_values(
                d.competency_id.iter().map(|c| BulkId::to_i64(*c)),
            )),
        };
        let statuses = StringArray::from(vec!["Red", "Amber", "Green", "Blue"]);
        let status = Int8Array::from_iter_values(d.status.iter().map(|s| match s {
            ComplianceStatus::Red => 0,
            ComplianceStatus::Amber => 1,
            ComplianceStatus::Green => 2,
            _ => 3,
        }));
        let status = DictionaryArray::<Int8Type>::try_new(status, Arc::new(statuses))
            .map_err(|e| EsrError::new_err(format!("building the result: {e}")))?;
        let needs = StringArray::from(vec!["essential", "desirable", "not required"]);
        let need = Int8Array::from_iter_values(d.need.iter().map(|n| match n {
            Need::Essential => 0,
            Need::Desirable => 1,
            Need::NotRequired => 2,
        }));
        let need = DictionaryArray::<Int8Type>::try_new(need, Arc::new(needs))
            .map_err(|e| EsrError::new_err(format!("building the result: {e}")))?;
        let reason = StringArray::from_iter(d.reason.iter().map(|r| r.map(|r| r.to_string())));
        let columns: Vec<ArrayRef> = vec![
            assignment,
            person,
            competency,
            Arc::new(BooleanArray::from(d.essential)),
            Arc::new(status),
            Arc::new(Date32Array::from(d.expiry)),
            Arc::new(Int32Array::from(d.days_left)),
            Arc::new(need),
            Arc::new(reason),
        ];
        let fields: Vec<Field> = [
            "assignment_id",
            "person_id",
            "competency_id",
            "essential",
            "status",
            "expiry",
            "days_left",
            "need",
            "red_reason",
        ]
        .iter()
        .zip(&columns)
        .map(|(n, c)| {
            Field::new(
                *n,
                c.data_type().clone(),
                c.null_count() > 0 || matches!(*n, "expiry" | "days_left" | "red_reason"),
            )
        })
        .collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .map_err(|e| EsrError::new_err(format!("building the result: {e}")))
    })
}

/// The result as record batches lined up with the assignments table's: its own assignment_id
/// and person_id arrays (their types kept), then the scorer's columns, sliced without copying.
fn scores_into_batches<I>(s: BulkScores<I>, a: &Table) -> PyResult<(SchemaRef, Vec<RecordBatch>)> {
    let BulkScores {
        required,
        green,
        amber,
        red,
        percent,
        percent_valid: valid,
        ..
    } = s;
    let id_type = |c: &str| {
        a.schema
            .field_with_name(c)
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::Int64)
    };
    let counts = |n: &str| Field::new(n, DataType::UInt32, false);
    let schema = Arc::new(Schema::new(vec![
        Field::new("assignment_id", id_type("assignment_id"), false),
        Field::new("person_id", id_type("person_id"), false),
        counts("required"),
        counts("green"),
        counts("amber"),
        counts("red"),
        Field::new("percent", DataType::Float64, true),
    ]));
    let required = ScalarBuffer::from(required);
    let green = ScalarBuffer::from(green);
    let amber = ScalarBuffer::from(amber);
    let red = ScalarBuffer::from(red);
    let percent = ScalarBuffer::from(percent);
    let valid = BooleanBuffer::from(valid);
    let ai = a.schema.index_of("assignment_id").unwrap_or(0);
    let pi = a.schema.index_of("person_id").unwrap_or(0);
    let mut lo = 0;
    let mut batches = Vec::with_capacity(a.batches.len());
    for b in &a.batches {
        let n = b.num_rows();
        let u = |c: &ScalarBuffer<u32>| -> ArrayRef {
            Arc::new(UInt32Array::new(c.slice(lo, n), None))
        };
        let nulls = NullBuffer::new(valid.slice(lo, n));
        let nulls = (nulls.null_count() > 0).then_some(nulls);
        let columns: Vec<ArrayRef> = vec![
            b.column(ai).clone(),
            b.column(pi).clone(),
            u(&required),
            u(&green),
            u(&amber),
            u(&red),
            Arc::new(Float64Array::new(percent.slice(lo, n), nulls)),
        ];
        batches.push(
            RecordBatch::try_new(schema.clone(), columns)
                .map_err(|e| EsrError::new_err(format!("building the result: {e}")))?,
        );
        lo += n;
    }
    debug_assert_eq!(lo, a.rows());
    Ok((schema, batches))
}

/// Hands the batches to pyarrow as an Arrow C stream and returns the pyarrow Table.
fn to_pyarrow<'py>(
    py: Python<'py>,
    (schema, batches): (SchemaRef, Vec<RecordBatch>),
) -> PyResult<Bound<'py, PyAny>> {
    let pa = py.import("pyarrow").map_err(|_| {
        PyErr::new::<pyo3::exceptions::PyImportError, _>(
            "esr returns bulk results as pyarrow Tables: install pyarrow (pip install pyarrow)",
        )
    })?;
    let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
    let stream = FFI_ArrowArrayStream::new(Box::new(reader));
    let capsule = PyCapsule::new_with_value(py, stream, STREAM)?;
    let holder = Bound::new(
        py,
        ArrowStream {
            capsule: Some(capsule.unbind()),
        },
    )?;
    // RecordBatchReader.from_stream rather than pyarrow.table, which first asks whether the
    // object is a pandas DataFrame and so imports pandas on its first call.
    pa.getattr("RecordBatchReader")?
        .call_method1("from_stream", (holder,))?
        .call_method0("read_all")
}

/// A one-shot Arrow C stream, for handing a result to pyarrow.
#[pyclass(module = "esr._esr", name = "_ArrowStream")]
struct ArrowStream {
    capsule: Option<Py<PyCapsule>>,
}

#[pymethods]
impl ArrowStream {
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__(
        &mut self,
        requested_schema: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyCapsule>> {
        let _ = requested_schema;
        self.capsule
            .take()
            .ok_or_else(|| EsrError::new_err("this Arrow stream has already been read"))
    }
}

/// Reads an ESR competence export (CSV with the headers Employee Number, Competency Name and
/// Expiry Date, and VPD, Achieved Date and Competence Level when present; found in any order
/// and case) from a path (str or os.PathLike), the file's contents (bytes, bytearray) or a
/// binary file object (open(..., "rb"), io.BytesIO, a stream), reading files and file objects
/// in chunks as it goes (never whole; the interpreter is released except while each .read(n)
/// runs), into a table of holdings ready for score_compliance: person_id (the employee number,
/// int64), competency_id (the competence name in the pipe form, NHS|CSTF|Fire Safety - 1 Year|),
/// expiry (date32, null: never expires), achieved (date32), level, employee_number (as
/// written) and line (the line the row starts on in the file). Every record is kept, older ones
/// too. competency_id and level repeat a few names over many rows, so they are dictionary
/// columns (pyarrow dictionary<int32, string>; Categorical in pandas and polars): each name is
/// held once; score_compliance and compliance_detail take them as they are, and
/// `table.column("level").dictionary_decode()` (or `pc.cast(..., pa.string())`) gives plain text.
///
/// encoding=None reads UTF-8 (with or without a byte order mark) and reads bytes that are not
/// UTF-8 as cp1252 (Windows-1252, what Excel's "CSV (Comma delimited)" saves), so no row is
/// refused for its encoding; a name ("utf-8", "cp1252", "latin-1", ...) decodes the whole file
/// with it. The encoding read ("utf-8", "utf-8-sig", "windows-1252", or the one named) is in the
/// pyarrow result's schema metadata (b"encoding") and a pandas result's attrs["encoding"]. The
/// result is a pyarrow Table, or what output ("pyarrow", "pandas", "polars") names.
///
/// A bad row refuses the file with BulkInputError naming the first 1,000 bad lines and why,
/// and counting the rest; with skip_bad_rows=True the good rows are returned and a UserWarning
/// lists the first bad lines and how many there were. A row over 64 KiB or with over 1,024
/// columns is a bad row (a header over them refuses the file). A VPD column must hold `vpd`. A
/// str that is not a path, a text-mode file or another type raises TypeError naming `source`;
/// an exception from a file object's .read is raised as it is.
#[pyfunction]
#[pyo3(signature = (source, vpd, *, skip_bad_rows=false, encoding=None, output=None))]
fn read_competence_csv<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    vpd: &str,
    skip_bad_rows: bool,
    encoding: Option<&str>,
    output: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let vpd: VpdCode = vpd
        .parse()
        .map_err(|e: esr_core::values::ValueError| core_err(e.into()))?;
    let lib = frames::output_library(output, &[])?;
    let encoding = csv_encoding(encoding)?;
    let options = ImportOptions { skip_bad_rows };
    let source = CsvSource::new(source, "source")?;
    let size = source.size_hint();
    let (cols, skipped) = source.read(
        py,
        |r| esr_core::compliance::read_competence_table(vpd, r, options, encoding, size),
        core_err,
    )?;
    if !skipped.is_empty() {
        let first: Vec<String> = skipped.iter().take(5).map(ToString::to_string).collect();
        let msg = format!(
            "read_competence_csv skipped {} bad row(s): {}{}",
            skipped.total(),
            first.join("; "),
            if skipped.total() > 5 { "; …" } else { "" }
        );
        let msg = CString::new(msg.replace('\0', " ")).unwrap_or_default();
        PyErr::warn(py, &py.get_type::<PyUserWarning>(), &msg, 1)?;
    }
    let date = |v: Vec<Option<i32>>| -> ArrayRef {
        // Values and validity straight from the slice, each sized once.
        let values: Vec<i32> = v.iter().map(|d| d.unwrap_or_default()).collect();
        let valid = BooleanBuffer::collect_bool(v.len(), |i| v[i].is_some());
        let nulls = NullBuffer::new(valid);
        let nulls = (nulls.null_count() > 0).then_some(nulls);
        Arc::new(Date32Array::new(ScalarBuffer::from(values), nulls))
    };
    let esr_core::compliance::CompetenceExportTable {
        line,
        employee_number,
        person_id,
        competence,
        achieved,
        expiry,
        level,
        encoding: used,
    } = cols;
    let (employee_text, employee_ends) = employee_number.into_parts();
    // The columns are built side by side on a few threads, without the interpreter: for a
    // large file most of the time goes on the system handing over fresh memory.
    let (competence, level, employee, expiry, achieved) = py.detach(|| {
        std::thread::scope(|s| {
            let employee = s.spawn(move || text_array(employee_text.into_bytes(), &employee_ends));
            let dates = s.spawn(move || (date(expiry), date(achieved)));
            let competence = dictionary_column(competence);
            let level = dictionary_column(level);
            let (expiry, achieved) = join(dates);
            (competence, level, join(employee), expiry, achieved)
        })
    });
    let (competence, level, employee) = (competence?, level?, employee?);
    let schema = Arc::new(Schema::new_with_metadata(
        vec![
            Field::new("person_id", DataType::Int64, false),
            Field::new("competency_id", competence.data_type().clone(), false),
            Field::new("expiry", DataType::Date32, true),
            Field::new("achieved", DataType::Date32, true),
            Field::new("level", level.data_type().clone(), false),
            Field::new("employee_number", employee.data_type().clone(), false),
            Field::new("line", DataType::UInt64, false),
        ],
        HashMap::from([("encoding".to_owned(), used.to_owned())]),
    ));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(person_id)),
            competence,
            expiry,
            achieved,
            level,
            employee,
            Arc::new(UInt64Array::from(line)),
        ],
    )
    .map_err(|e| EsrError::new_err(format!("building the table: {e}")))?;
    let out = frames::convert(to_pyarrow(py, (schema, vec![batch]))?, lib)?;
    if lib == Library::Pandas {
        out.getattr("attrs")?.set_item("encoding", used)?;
    }
    Ok(out)
}

/// What a scoped thread returned (its panic goes on).
fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    h.join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Text values laid end to end (`text`, with where each ends) as an Arrow array: `Utf8`, or
/// `LargeUtf8` when there are over 2 GiB of text (a string column's offsets are 32-bit).
fn text_array(text: Vec<u8>, ends: &[usize]) -> PyResult<ArrayRef> {
    let bad = |e: arrow_schema::ArrowError| EsrError::new_err(format!("building the table: {e}"));
    let values = arrow_buffer::Buffer::from_vec(text);
    // Sized up front (collecting Options would grow the vector by doubling, copying it).
    let mut small = Vec::with_capacity(ends.len() + 1);
    small.push(0i32);
    for &e in ends {
        match i32::try_from(e) {
            Ok(e) => small.push(e),
            Err(_) => break,
        }
    }
    if small.len() == ends.len() + 1 {
        let offsets = small;
        let offsets = arrow_buffer::OffsetBuffer::new(ScalarBuffer::from(offsets));
        return Ok(Arc::new(
            StringArray::try_new(offsets, values, None).map_err(bad)?,
        ));
    }
    let large: Vec<i64> = std::iter::once(Some(0))
        .chain(ends.iter().map(|&e| i64::try_from(e).ok()))
        .collect::<Option<_>>()
        .ok_or_else(|| EsrError::new_err("building the table: a column's text is too long"))?;
    let offsets = arrow_buffer::OffsetBuffer::new(ScalarBuffer::from(large));
    Ok(Arc::new(
        LargeStringArray::try_new(offsets, values, None).map_err(bad)?,
    ))
}

/// A column of repeating texts (keys into values) as an Arrow `dictionary<int32, string>`
/// column: the keys handed over as they are (no per-row text; the column holds a few distinct
/// names over millions of rows, and writing each row's text was most of the fresh memory a
/// large export's table took). pandas and polars read it as Categorical.
fn dictionary_column(column: esr_core::compliance::DictionaryColumn) -> PyResult<ArrayRef> {
    let bad = |e: arrow_schema::ArrowError| EsrError::new_err(format!("building the table: {e}"));
    let esr_core::compliance::DictionaryColumn { mut keys, values } = column;
    let values = first_seen_order(&mut keys, values);
    if i32::try_from(values.len()).is_err() {
        return Err(EsrError::new_err(
            "building the table: a column has too many distinct values",
        ));
    }
    let mut text = Vec::with_capacity(values.iter().map(String::len).sum());
    let mut ends = Vec::with_capacity(values.len());
    for v in &values {
        text.extend_from_slice(v.as_bytes());
        ends.push(text.len());
    }
    let values = text_array(text, &ends)?;
    // Every key is below values.len() (checked above to fit an i32), so the u32 keys' bytes
    // read as the same i32s: the buffer is handed over without a copy.
    let keys = ScalarBuffer::<i32>::from(arrow_buffer::Buffer::from_vec(keys));
    let keys = Int32Array::new(keys, None);
    Ok(Arc::new(
        DictionaryArray::<Int32Type>::try_new(keys, values).map_err(bad)?,
    ))
}

/// The distinct values in the order rows first use them, `keys` rewritten in place to match.
/// The core keeps a value per spelling it met (NHS(CSTF)Fire Safety - 1 Year and
/// NHS|CSTF|Fire Safety - 1 Year| both read as the pipe form), and may keep values no kept row
/// uses (a refused row's); a dictionary column wants each value once (pandas refuses repeated
/// categories), and the same file should give the same table however it is read.
fn first_seen_order(keys: &mut [u32], values: Vec<String>) -> Vec<String> {
    const UNSEEN: u32 = u32::MAX;
    // Old key -> new key, for each value's first appearance in the rows.
    let mut new_key = vec![UNSEEN; values.len()];
    let mut by_text: HashMap<&str, u32> = HashMap::new();
    let mut order: Vec<usize> = Vec::new();
    let mut left = values.len();
    for &k in keys.iter() {
        let Some(slot) = new_key.get_mut(k as usize) else {
            continue;
        };
        if *slot != UNSEEN {
            continue;
        }
        let text = values[k as usize].as_str();
        *slot = *by_text.entry(text).or_insert_with(|| {
            order.push(k as usize);
            (order.len() - 1) as u32
        });
        left -= 1;
        if left == 0 {
            break;
        }
    }
    let identity = new_key
        .iter()
        .enumerate()
        .all(|(i, &n)| n as usize == i || n == UNSEEN)
        && order.len() == values.len();
    if !identity {
        for k in keys.iter_mut() {
            if let Some(&n) = new_key.get(*k as usize) {
                *k = n;
            }
        }
    }
    order.into_iter().map(|i| values[i].clone()).collect()
}

/// The `encoding` argument of the CSV readers: None detects UTF-8 or cp1252.
pub(crate) fn csv_encoding(encoding: Option<&str>) -> PyResult<CsvEncoding> {
    encoding.map_or(Ok(CsvEncoding::AUTO), |e| {
        CsvEncoding::from_label(e).map_err(|e| InvalidInputError::new_err(e.to_string()))
    })
}

/// Adds the bulk functions to the module (BulkInputError is added with the other exceptions).
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(score_compliance, m)?)?;
    m.add_function(wrap_pyfunction!(compliance_detail, m)?)?;
    m.add_function(wrap_pyfunction!(read_competence_csv, m)?)?;
    register_files(m)
}

/// A file argument of score_files: a path (str or os.PathLike), or a pyarrow dataset over one
/// file (its `.files`).
fn file_path(obj: &Bound<'_, PyAny>, arg: &'static str) -> PyResult<std::path::PathBuf> {
    let path = file_path_of(obj, arg)?;
    // OSError(errno, message) is raised as its subclass (FileNotFoundError, ...).
    std::fs::metadata(&path).map_err(|e| {
        let msg = format!(
            "argument '{arg}': cannot open {}: {e}",
            crate::csv_source::shown(&path)
        );
        match e.raw_os_error() {
            Some(code) => pyo3::exceptions::PyOSError::new_err((code, msg)),
            None => pyo3::exceptions::PyOSError::new_err(msg),
        }
    })?;
    Ok(path)
}

fn file_path_of(obj: &Bound<'_, PyAny>, arg: &'static str) -> PyResult<std::path::PathBuf> {
    let py = obj.py();
    if let Ok(files) = obj.getattr("files")
        && let Ok(files) = files.extract::<Vec<std::path::PathBuf>>()
    {
        return match <[_; 1]>::try_from(files) {
            Ok([one]) => Ok(one),
            Err(files) => Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "argument '{arg}': the dataset has {} files; score_files reads one file per table",
                files.len()
            ))),
        };
    }
    py.import("os")?
        .call_method1("fspath", (obj,))
        .and_then(|p| p.extract())
        .map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(format!(
                "argument '{arg}': expected a path (str or os.PathLike) to a Parquet or Arrow IPC file, or a pyarrow dataset over one, got {}",
                obj.get_type()
                    .name()
                    .map_or_else(|_| "this".to_owned(), |n| n.to_string())
            ))
        })
}

/// One table read whole from a file (the columns `cols` and those of `optional` it has),
/// holdings expired before `not_before` left out while decoding.
fn read_file_table(
    path: &std::path::Path,
    name: &'static str,
    needs: &'static str,
    (cols, optional): (&[&str], &[&str]),
    not_before: Option<&esr_files::NotBefore>,
    threads: NonZeroUsize,
) -> esr_core::Result<Table> {
    let src = esr_files::Source::open_with(path, name, cols, optional)?;
    let batches = src.read_all(threads.get(), not_before)?;
    Ok(Table {
        name,
        needs,
        schema: src.schema().clone(),
        batches,
    })
}

/// The assignments read from a file with their scores beside them, as the caller's frame
/// library's table.
fn scored_assignments<'py>(
    py: Python<'py>,
    schema: SchemaRef,
    assignments: Vec<RecordBatch>,
    scores: BulkScores<i64>,
    lib: Library,
) -> PyResult<Bound<'py, PyAny>> {
    let table = Table {
        name: "assignments",
        needs: ASSIGNMENTS_NEED,
        schema,
        batches: assignments,
    };
    let batches = scores_into_batches(scores, &table)?;
    frames::convert(to_pyarrow(py, batches)?, lib)
}

/// Scores every assignment straight from files, by the rules of score_compliance and with its
/// result (or, with detail=True, compliance_detail's rows): `assignments`, `requirements` and
/// `holdings` are paths (str or os.PathLike) to Parquet or Arrow IPC files (Feather v2), or
/// pyarrow datasets over one file each, with the columns score_compliance reads. The files are
/// read in Rust: only those columns, row groups on every core, and for the scores the holdings
/// that expired before `as_of` are dropped while decoding and the rest streamed into the
/// scorer, so memory grows with the number of staff rather than of records (integer ids and a
/// date32 expiry; other columns are read whole, then scored as score_compliance does). Parquet
/// files compressed with snappy, zstd or not at all are read; others raise BulkInputError.
///
/// With vpd= given, `holdings` is an ESR competence export (CSV, as read_competence_csv reads
/// it, with `encoding` as there) scored in one pass: read in blocks on every core, each block's
/// records matched and counted as it is read and let go (expired ones and those of competences
/// no requirement names at once), never kept; the result equals
/// score_compliance(assignments, requirements, read_competence_csv(holdings, vpd), as_of).
/// Matching is score_compliance's: the export's employee numbers are the assignments'
/// person_id (integers), its competence names (NHS|CSTF|Fire Safety - 1 Year|) match the
/// requirements' competency_id (text) exactly; assignment and position ids are integers. A bad
/// row refuses the export (BulkInputError naming the lines); detail=True is not read this way.
///
/// The full rules are score_compliance's: its rule columns are read when a file has them
/// (assignments.org_unit_id and .job, requirements.essential and .min_level, holdings.level, or
/// the export's competence level), and org_units, org_unit_requirements, job_requirements and
/// equivalences are taken as paths (or datasets over one file) or as tables or frames. When
/// any rule is in play the three files are read whole and scored as score_compliance scores
/// them (the export as read_competence_csv reads it), so the result always equals
/// score_compliance on the same tables.
#[pyfunction]
#[pyo3(signature = (assignments, requirements, holdings, as_of, amber_months=3, *, detail=false, held_not_required=false, org_units=None, org_unit_requirements=None, job_requirements=None, equivalences=None, output=None, threads=None, vpd=None, encoding=None))]
#[allow(clippy::too_many_arguments)]
fn score_files<'py>(
    py: Python<'py>,
    assignments: &Bound<'py, PyAny>,
    requirements: &Bound<'py, PyAny>,
    holdings: &Bound<'py, PyAny>,
    as_of: &Bound<'py, PyAny>,
    amber_months: i64,
    detail: bool,
    held_not_required: bool,
    org_units: Option<&Bound<'py, PyAny>>,
    org_unit_requirements: Option<&Bound<'py, PyAny>>,
    job_requirements: Option<&Bound<'py, PyAny>>,
    equivalences: Option<&Bound<'py, PyAny>>,
    output: Option<&str>,
    threads: Option<i64>,
    vpd: Option<&str>,
    encoding: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let as_of = as_date(as_of)?;
    let window = window_of(amber_months)?;
    let threads = thread_count(threads)?;
    let lib = frames::output_library(output, &[])?;
    let paths = [
        file_path(assignments, "assignments")?,
        file_path(requirements, "requirements")?,
        file_path(holdings, "holdings")?,
    ];
    if held_not_required && !detail {
        return Err(InvalidInputError::new_err(
            "held_not_required=True is for the detail rows: give detail=True too",
        ));
    }
    if vpd.is_some() && detail {
        return Err(InvalidInputError::new_err(
            "detail=True is not read from a competence export in one pass: score read_competence_csv's table with compliance_detail",
        ));
    }
    if vpd.is_none() && encoding.is_some() {
        return Err(InvalidInputError::new_err(
            "encoding= is for a competence export: give vpd= too",
        ));
    }
    let extra = rules::Extra::import_by(
        [
            org_units,
            org_unit_requirements,
            job_requirements,
            equivalences,
        ],
        &|o, t| rule_table(py, o, t, threads),
    )?;
    // A rule table, or a rule column in the assignments or requirements file, changes what is
    // scored: those are scored by the full rules from the tables read whole, never streamed.
    // (A holding's level alone changes nothing: without a minimum every level satisfies.)
    let rule_columns = py
        .detach(|| -> esr_core::Result<bool> {
            let a = esr_files::Source::open_with(
                &paths[0],
                "assignments",
                &[],
                &rules::ASSIGNMENT_RULE_COLUMNS,
            )?;
            let r = esr_files::Source::open_with(
                &paths[1],
                "requirements",
                &[],
                &rules::REQUIREMENT_RULE_COLUMNS,
            )?;
            Ok(!a.schema().fields().is_empty() || !r.schema().fields().is_empty())
        })
        .map_err(core_err)?;
    let with_rules = extra.given() || rule_columns;
    if let (Some(vpd), false) = (vpd, with_rules) {
        let vpd: VpdCode = vpd
            .parse()
            .map_err(|e: esr_core::values::ValueError| core_err(e.into()))?;
        let csv = (vpd, ImportOptions::default(), csv_encoding(encoding)?);
        let f = py
            .detach(|| {
                esr_files::score_competence_csv(
                    &paths[0], &paths[1], &paths[2], csv, as_of, window, threads,
                )
            })
            .map_err(core_err)?;
        return scored_assignments(py, f.schema, f.assignments, f.scores, lib);
    }
    let streamable = !detail
        && !with_rules
        && py
            .detach(|| -> esr_core::Result<bool> {
                let h =
                    esr_files::Source::open(&paths[2], "holdings", &esr_files::HOLDING_COLUMNS)?;
                Ok(esr_files::streamable(h.schema()))
            })
            .map_err(core_err)?;
    if streamable {
        let scored = py.detach(|| {
            esr_files::score_files(&paths[0], &paths[1], &paths[2], as_of, window, threads)
        });
        match scored {
            Ok(f) => return scored_assignments(py, f.schema, f.assignments, f.scores, lib),
            // Text ids in the assignments or requirements: read them whole below.
            Err(esr_files::ScoreFilesError::NotStreamable(_)) => {}
            Err(esr_files::ScoreFilesError::Failed(e)) => return Err(core_err(e)),
        }
    }
    // Read whole. Expired holdings count for nothing in the scores, but the detail rows show
    // the expiry of the record that counts, expired or not; with rules in play the holdings
    // are read as score_compliance would be given them, all of them.
    let not_before = (!detail && !with_rules)
        .then(|| esr_core::compliance::days_since_epoch(as_of))
        .transpose()
        .map_err(core_err)?
        .map(|day| esr_files::NotBefore {
            column: "expiry".to_owned(),
            day,
        });
    // Without rules in play only the key columns are read.
    let rule_cols = |cols: &'static [&'static str]| if with_rules { cols } else { &[] };
    let read = |i: usize, name, needs, cols, optional, not_before| {
        py.detach(|| {
            read_file_table(
                &paths[i],
                name,
                needs,
                (cols, rule_cols(optional)),
                not_before,
                threads,
            )
        })
        .map_err(core_err)
    };
    let a = read(
        0,
        "assignments",
        ASSIGNMENTS_NEED,
        &esr_files::ASSIGNMENT_COLUMNS,
        &rules::ASSIGNMENT_RULE_COLUMNS,
        None,
    )?;
    let r = read(
        1,
        "requirements",
        REQUIREMENTS_NEED,
        &esr_files::REQUIREMENT_COLUMNS,
        &rules::REQUIREMENT_RULE_COLUMNS,
        None,
    )?;
    let h = match vpd {
        // A competence export comes this way only with rules in play: as read_competence_csv
        // reads it, from the path checked above (a dataset's one file, too).
        Some(vpd) => {
            let path = paths[2].as_os_str().into_pyobject(py)?;
            let t = read_competence_csv(py, &path, vpd, false, encoding, None)?;
            import_table(&t, "holdings", HOLDINGS_NEED)?
        }
        None => read(
            2,
            "holdings",
            HOLDINGS_NEED,
            &esr_files::HOLDING_COLUMNS,
            &rules::HOLDING_RULE_COLUMNS,
            not_before
                .as_ref()
                .filter(|_| is_date32(&paths[2]).unwrap_or(false)),
        )?,
    };
    let p = prepare(&a, &r, &h)?;
    let extra = extra.any(p.tables).then_some(&extra);
    if detail {
        let batch = detail_any(
            py,
            &p,
            extra,
            as_of,
            window,
            blue_rows(held_not_required),
            threads,
        )?;
        return frames::convert(to_pyarrow(py, (batch.schema(), vec![batch]))?, lib);
    }
    let batches = score_any(py, &p, extra, as_of, window, threads)?;
    frames::convert(to_pyarrow(py, batches)?, lib)
}

/// A rule table of score_files: a path (or a pyarrow dataset over one file) read here, or a
/// table or frame as score_compliance takes it.
fn rule_table(
    py: Python<'_>,
    o: &Bound<'_, PyAny>,
    t: &rules::RuleTable,
    threads: NonZeroUsize,
) -> PyResult<Table> {
    if file_path_of(o, t.name).is_err() {
        return import_table(&frames::collected(o)?, t.name, t.needs);
    }
    let path = file_path(o, t.name)?;
    py.detach(|| {
        read_file_table(
            &path,
            t.name,
            t.needs,
            (t.columns, t.optional),
            None,
            threads,
        )
    })
    .map_err(core_err)
}

/// Whether the holdings file's expiry is date32 (the decoding filter reads date32 only).
fn is_date32(path: &std::path::Path) -> esr_core::Result<bool> {
    let s = esr_files::Source::open(path, "holdings", &["expiry"])?;
    Ok(s.schema().field(0).data_type() == &DataType::Date32)
}

/// Adds score_files to the module.
pub(crate) fn register_files(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(score_files, m)?)
}
