//! Bulk compliance scoring over Arrow tables: `esr.score_compliance` and the competence export
//! importer `esr.read_competence_csv`.
//!
//! Tables come in and go out through the Arrow PyCapsule interface (`__arrow_c_stream__`,
//! `__arrow_c_array__`), which pyarrow, polars and pandas (2.2 and later) all speak. Columns are
//! handed to the core's scorer without copying when a table arrives as one chunk of the id type
//! the scorer runs on; otherwise they are widened or concatenated once. Results are built from
//! the scorer's own vectors without copying and handed to pyarrow as a C stream.

use crate::csv_source::{CsvSource, StrIs};
use crate::errors::{BulkInputError, EsrError, InvalidInputError};
use arrow_array::cast::AsArray;
use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi};
use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Date64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, RecordBatchIterator,
    StringArray, StructArray, UInt32Array, UInt64Array,
};
use arrow_buffer::{BooleanBuffer, NullBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use esr_core::chrono::NaiveDate;
use esr_core::{
    Error, VpdCode, compliance::AmberWindow, compliance::AssignmentColumns, compliance::BulkId,
    compliance::BulkScores, compliance::HoldingColumns, compliance::ImportOptions,
    compliance::NO_EXPIRY, compliance::RequirementColumns, compliance::Validity,
};
use pyo3::exceptions::PyUserWarning;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::sync::Arc;

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

fn id_kind(t: &Table, col: &str, text_ok: bool) -> PyResult<IdKind> {
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
        d if is_text(d) && text_ok => return Ok(IdKind::Text),
        d if is_text(d) => format!(
            "holds strings ({d}), but {col} must be integers (only competency_id may be text, such as the competence names read_competence_csv gives)"
        ),
        DataType::Float16 | DataType::Float32 | DataType::Float64 => format!(
            "is {dt}, but ids must be integers (pandas makes an integer column with missing values float: drop those rows and use astype('int64'))"
        ),
        d => format!("is {d}, but ids must be integers"),
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
    if let [one] = chunks
        && one.data_type() == &I::Arrow::DATA_TYPE
    {
        return Ok(Cow::Borrowed(one.as_primitive::<I::Arrow>().values()));
    }
    let mut out: Vec<I> = Vec::with_capacity(chunks.iter().map(|c| c.len()).sum());
    let what = |_| format!("the {} table's column {col}", t.name);
    for c in chunks {
        if c.data_type() == &I::Arrow::DATA_TYPE {
            out.extend_from_slice(c.as_primitive::<I::Arrow>().values());
            continue;
        }
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
    }
    Ok(Cow::Owned(out))
}

/// Calls `f` with each string of a text column, row by row.
fn each_str<'a>(a: &'a ArrayRef, f: &mut dyn FnMut(&'a str)) {
    match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().iter().for_each(|s| f(s.unwrap_or(""))),
        DataType::LargeUtf8 => a.as_string::<i64>().iter().for_each(|s| f(s.unwrap_or(""))),
        DataType::Utf8View => a.as_string_view().iter().for_each(|s| f(s.unwrap_or(""))),
        _ => {}
    }
}

/// Text competency ids to integers: each distinct required competency gets 0, 1, …; a holding
/// of a competency nothing requires gets one more, which no requirement has.
fn text_ids<I: Id>(req: &[&ArrayRef], held: &[&ArrayRef]) -> (Vec<I>, Vec<I>) {
    let mut map: HashMap<&str, usize> = HashMap::new();
    let mut of_req = |s| {
        let n = map.len();
        *map.entry(s).or_insert(n)
    };
    let mut req_ids = Vec::new();
    for c in req {
        ids_of(c, &mut of_req, &mut req_ids);
    }
    let unknown = map.len();
    let mut of_held = |s| map.get(s).copied().unwrap_or(unknown);
    let mut held_ids = Vec::new();
    for c in held {
        ids_of(c, &mut of_held, &mut held_ids);
    }
    (req_ids, held_ids)
}

fn id_from_usize<I: Id>(n: usize) -> I {
    // Distinct competencies number far fewer than i32::MAX.
    I::from_usize(n).unwrap_or_else(|| I::from_usize(0).unwrap_or_default())
}

fn ids_of<'a, I: Id>(a: &'a ArrayRef, id: &mut dyn FnMut(&'a str) -> usize, out: &mut Vec<I>) {
    if let DataType::Dictionary(..) = a.data_type() {
        let d = a.as_any_dictionary();
        let values = d.values();
        let mut of_value = Vec::with_capacity(values.len());
        each_str(values, &mut |s| of_value.push(id(s)));
        out.extend(
            d.normalized_keys()
                .into_iter()
                .map(|k| id_from_usize::<I>(of_value.get(k).copied().unwrap_or(0))),
        );
    } else {
        each_str(a, &mut |s| out.push(id_from_usize(id(s))));
    }
}

/// The expiry column as days, and its validity (null: never expires).
struct Expiry<'a> {
    days: Cow<'a, [i32]>,
    validity: Option<Validity<'a>>,
}

fn expiry<'a>(t: &Table, chunks: &[&'a ArrayRef]) -> PyResult<Expiry<'a>> {
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
    if let ([one], DataType::Date32) = (chunks, &dt) {
        let a = one.as_primitive::<Date32Type>();
        return Ok(Expiry {
            days: Cow::Borrowed(a.values()),
            validity: a
                .nulls()
                .map(|n| Validity::new(n.inner().values(), n.inner().offset())),
        });
    }
    let mut days = Vec::with_capacity(chunks.iter().map(|c| c.len()).sum());
    for c in chunks {
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
            DataType::Date32 => each!(Date32Type),
            DataType::Date64 => each!(Date64Type),
            DataType::Timestamp(TimeUnit::Second, _) => each!(TimestampSecondType),
            DataType::Timestamp(TimeUnit::Millisecond, _) => each!(TimestampMillisecondType),
            DataType::Timestamp(TimeUnit::Microsecond, _) => each!(TimestampMicrosecondType),
            DataType::Timestamp(TimeUnit::Nanosecond, _) => each!(TimestampNanosecondType),
            _ => {}
        }
    }
    Ok(Expiry {
        days: Cow::Owned(days),
        validity: None,
    })
}

fn as_date(obj: &Bound<'_, PyAny>) -> PyResult<NaiveDate> {
    let dt = obj.py().import("datetime")?;
    let is_date = obj.is_instance(&dt.getattr("date")?)?;
    if !is_date || obj.is_instance(&dt.getattr("datetime")?)? {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "argument 'as_of': as_of must be a datetime.date, not {}",
            obj.get_type().name()?
        )));
    }
    let part = |n: &str| -> PyResult<u32> { obj.getattr(n)?.extract() };
    let year: i32 = obj.getattr("year")?.extract()?;
    NaiveDate::from_ymd_opt(year, part("month")?, part("day")?)
        .ok_or_else(|| InvalidInputError::new_err("as_of is not a valid date"))
}

const ASSIGNMENTS_NEED: &str = "assignment_id, person_id and position_id";
const REQUIREMENTS_NEED: &str = "position_id and competency_id";
const HOLDINGS_NEED: &str = "person_id, competency_id and expiry";

/// Scores every assignment as of `as_of` (a datetime.date) with an Amber window of
/// `amber_months`: one row per row of the assignments table, in its order, with
/// `assignment_id`, `person_id` (as given), `required`, `green`, `amber`, `red` and `percent`
/// (null where nothing is required). Returns a pyarrow Table.
///
/// Each table is any Arrow table (a pyarrow Table, a polars or pandas DataFrame) with the
/// columns assignments: assignment_id, person_id, position_id; requirements: position_id,
/// competency_id (each row an essential requirement); holdings: person_id, competency_id,
/// expiry. Ids are integers of any width (int64 values must fit, uint64 too); competency_id
/// may instead be text in both requirements and holdings (competence names, compared exactly,
/// such as read_competence_csv gives). expiry is a date (date32, date64 or a timestamp
/// without time zone); a null expiry never expires. The holding with the latest expiry counts.
/// Raises BulkInputError naming the table and column when a column is missing, of the wrong
/// type, has null ids, or holds dates as strings.
///
/// Example: holdings = esr.read_competence_csv("export.csv", vpd="297");
/// scores = esr.score_compliance(assignments, requirements, holdings, datetime.date.today())
#[pyfunction]
#[pyo3(signature = (assignments, requirements, holdings, as_of, amber_months=3))]
fn score_compliance<'py>(
    py: Python<'py>,
    assignments: &Bound<'py, PyAny>,
    requirements: &Bound<'py, PyAny>,
    holdings: &Bound<'py, PyAny>,
    as_of: &Bound<'py, PyAny>,
    amber_months: i64,
) -> PyResult<Bound<'py, PyAny>> {
    let as_of = as_date(as_of)?;
    let window = u32::try_from(amber_months)
        .map_err(|_| {
            InvalidInputError::new_err(format!(
                "amber_months is {amber_months}; give 0 to 120 (ESR uses 3)"
            ))
        })
        .and_then(|m| AmberWindow::months(m).map_err(core_err))?;
    let a = import_table(assignments, "assignments", ASSIGNMENTS_NEED)?;
    let r = import_table(requirements, "requirements", REQUIREMENTS_NEED)?;
    let h = import_table(holdings, "holdings", HOLDINGS_NEED)?;

    // Every column present and without null keys, before any type is judged.
    let cols = [
        (&a, "assignment_id"),
        (&a, "person_id"),
        (&a, "position_id"),
        (&r, "position_id"),
        (&r, "competency_id"),
        (&h, "person_id"),
        (&h, "competency_id"),
        (&h, "expiry"),
    ];
    let mut chunks = Vec::with_capacity(cols.len());
    for (t, c) in cols {
        chunks.push(t.column(c)?);
    }
    let mut kinds = Vec::new();
    for (k, (t, c)) in cols.iter().enumerate() {
        if *c == "expiry" {
            continue;
        }
        kinds.push(id_kind(t, c, *c == "competency_id")?);
        t.no_nulls(c, &chunks[k])?;
    }
    let text = (kinds[4] == IdKind::Text, kinds[6] == IdKind::Text);
    if text.0 != text.1 {
        let (t, i) = if text.0 {
            ("holdings", "requirements")
        } else {
            ("requirements", "holdings")
        };
        return Err(bulk_err(format!(
            "the {i} table's column competency_id holds text but the {t} table's holds integers; give both the same kind of id"
        )));
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
    let scores = match width {
        IntKind::Small => Scores::I32(score::<i32>(
            py, &a, &r, &h, &chunks, text.0, as_of, window,
        )?),
        IntKind::U32 => Scores::U32(score::<u32>(
            py, &a, &r, &h, &chunks, text.0, as_of, window,
        )?),
        IntKind::Wide => Scores::I64(score::<i64>(
            py, &a, &r, &h, &chunks, text.0, as_of, window,
        )?),
    };
    let batches = scores.into_batches(&a)?;
    to_pyarrow(py, batches)
}

enum Scores {
    I32(BulkScores<i32>),
    U32(BulkScores<u32>),
    I64(BulkScores<i64>),
}

#[allow(clippy::too_many_arguments)]
fn score<I: Id>(
    py: Python<'_>,
    a: &Table,
    r: &Table,
    h: &Table,
    chunks: &[Vec<&ArrayRef>],
    text: bool,
    as_of: NaiveDate,
    window: AmberWindow,
) -> PyResult<BulkScores<I>> {
    let a_id = int_ids::<I>(a, "assignment_id", &chunks[0])?;
    let a_person = int_ids::<I>(a, "person_id", &chunks[1])?;
    let a_pos = int_ids::<I>(a, "position_id", &chunks[2])?;
    let r_pos = int_ids::<I>(r, "position_id", &chunks[3])?;
    let h_person = int_ids::<I>(h, "person_id", &chunks[5])?;
    let (r_comp, h_comp) = if text {
        let (rc, hc) = py.detach(|| text_ids::<I>(&chunks[4], &chunks[6]));
        (Cow::Owned(rc), Cow::Owned(hc))
    } else {
        (
            int_ids::<I>(r, "competency_id", &chunks[4])?,
            int_ids::<I>(h, "competency_id", &chunks[6])?,
        )
    };
    let e = expiry(h, &chunks[7])?;
    py.detach(|| {
        esr_core::compliance::score_compliance(
            AssignmentColumns {
                assignment_id: &a_id,
                person_id: &a_person,
                position_id: &a_pos,
            },
            RequirementColumns {
                position_id: &r_pos,
                competency_id: &r_comp,
            },
            HoldingColumns {
                person_id: &h_person,
                competency_id: &h_comp,
                expiry: &e.days,
                expiry_validity: e.validity,
            },
            as_of,
            window,
        )
    })
    .map_err(core_err)
}

impl Scores {
    /// The result as record batches lined up with the assignments table's: its own
    /// assignment_id and person_id arrays (their types kept), then the scorer's columns, sliced
    /// without copying.
    fn into_batches(self, a: &Table) -> PyResult<(SchemaRef, Vec<RecordBatch>)> {
        let (required, green, amber, red, percent, valid) = match self {
            Self::I32(s) => (
                s.required,
                s.green,
                s.amber,
                s.red,
                s.percent,
                s.percent_valid,
            ),
            Self::U32(s) => (
                s.required,
                s.green,
                s.amber,
                s.red,
                s.percent,
                s.percent_valid,
            ),
            Self::I64(s) => (
                s.required,
                s.green,
                s.amber,
                s.red,
                s.percent,
                s.percent_valid,
            ),
        };
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
/// and case) from a path (str or os.PathLike), the file's bytes, or a binary file object
/// (open(..., "rb"), io.BytesIO, a stream), reading files and file objects in chunks as it
/// goes (never whole; the interpreter is released except while each .read(n) runs), into a
/// pyarrow Table of holdings ready for score_compliance: person_id (the employee number,
/// int64), competency_id (the competence name in the pipe form, NHS|CSTF|Fire Safety - 1 Year|),
/// expiry (date32, null: never expires), achieved (date32), level, employee_number (as
/// written) and line (the line the row starts on in the file). Every record is kept, older ones
/// too.
///
/// A bad row refuses the file with BulkInputError naming the first 1,000 bad lines and why,
/// and counting the rest; with skip_bad_rows=True the good rows are returned and a UserWarning
/// lists the first bad lines and how many there were. A row over 64 KiB or with over 1,024
/// columns is a bad row (a header over them refuses the file). A VPD column must hold `vpd`. A
/// text-mode file or another type raises TypeError; an exception from a file object's .read is
/// raised as it is.
#[pyfunction]
#[pyo3(signature = (source, vpd, *, skip_bad_rows=false))]
fn read_competence_csv<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    vpd: &str,
    skip_bad_rows: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let vpd: VpdCode = vpd
        .parse()
        .map_err(|e: esr_core::values::ValueError| core_err(e.into()))?;
    let options = ImportOptions { skip_bad_rows };
    let (cols, skipped) = CsvSource::new(source, "source", StrIs::Path)?.read(
        py,
        |r| esr_core::compliance::read_competence_export(vpd, r, options),
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
    let date = |v: Vec<Option<i32>>| -> ArrayRef { Arc::new(Date32Array::from(v)) };
    let text = |v: Vec<String>| -> ArrayRef { Arc::new(StringArray::from(v)) };
    let schema = Arc::new(Schema::new(vec![
        Field::new("person_id", DataType::Int64, false),
        Field::new("competency_id", DataType::Utf8, false),
        Field::new("expiry", DataType::Date32, true),
        Field::new("achieved", DataType::Date32, true),
        Field::new("level", DataType::Utf8, false),
        Field::new("employee_number", DataType::Utf8, false),
        Field::new("line", DataType::UInt64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(cols.person_id)),
            text(cols.competence),
            date(cols.expiry),
            date(cols.achieved),
            text(cols.level),
            text(cols.employee_number),
            Arc::new(UInt64Array::from(cols.line)),
        ],
    )
    .map_err(|e| EsrError::new_err(format!("building the table: {e}")))?;
    to_pyarrow(py, (schema, vec![batch]))
}

/// Adds the bulk functions to the module (BulkInputError is added with the other exceptions).
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(score_compliance, m)?)?;
    m.add_function(wrap_pyfunction!(read_competence_csv, m)?)?;
    Ok(())
}
