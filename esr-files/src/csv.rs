//! An ESR competence export (CSV) scored in one pass: the export is read in blocks by
//! esr-core's reader and each block's holdings are classified into the scorer as they are
//! merged ([`esr_core::compliance::CsvHoldings`]); the assignments and requirements come from
//! Parquet or Arrow IPC files.

use super::*;
use arrow_array::cast::AsArray;
use esr_core::compliance::{CsvEncoding, CsvHoldings, ImportOptions, ImportProblems};
use esr_core::values::VpdCode;
use std::collections::HashMap;

/// What [`score_competence_csv`] gives: the scores as [`score_files`] gives them, and what the
/// export's reading gave back.
pub struct CsvScores {
    /// The assignments file's batches (assignment_id, person_id, position_id).
    pub assignments: Vec<RecordBatch>,
    /// The assignments' schema.
    pub schema: SchemaRef,
    /// The scores, one row per assignment in file order.
    pub scores: BulkScores<i64>,
    /// Bad rows skipped (with `skip_bad_rows`).
    pub skipped: ImportProblems,
    /// The encoding the export was read in.
    pub encoding: &'static str,
}

/// A text column's values (string, large string, string view, or a dictionary of strings);
/// `None` for another type. Nulls read as `None`.
fn texts(col: &dyn Array) -> Option<Vec<Option<String>>> {
    let own = |v: Option<&str>| v.map(str::to_owned);
    if let Some(a) = col.as_string_opt::<i32>() {
        return Some(a.iter().map(own).collect());
    }
    if let Some(a) = col.as_string_opt::<i64>() {
        return Some(a.iter().map(own).collect());
    }
    if let Some(a) = col.as_string_view_opt() {
        return Some(a.iter().map(own).collect());
    }
    let d = col.as_any_dictionary_opt()?;
    let values = texts(d.values().as_ref())?;
    let keys = d.normalized_keys();
    Some(
        (0..col.len())
            .map(|i| {
                if col.is_null(i) {
                    None
                } else {
                    values.get(keys[i]).cloned().flatten()
                }
            })
            .collect(),
    )
}

/// The requirements as integer columns: position ids as given, competence names numbered in
/// the order first met (the map gives each name its number).
struct NamedRequirements {
    positions: Vec<i64>,
    competencies: Vec<i64>,
    names: HashMap<String, i64>,
}

fn requirement_names(batches: &[RecordBatch], path: &Path) -> Result<NamedRequirements> {
    let (mut pos, mut comp, mut names) = (Vec::new(), Vec::new(), HashMap::new());
    for b in batches {
        let p = b.column(0);
        let c = b.column(1);
        if p.null_count() > 0 || c.null_count() > 0 {
            return Err(bad(
                path,
                "the columns position_id and competency_id have null values; every id must have one",
            ));
        }
        let p = ids(p).ok_or_else(|| {
            bad(
                path,
                format!(
                    "the column position_id is {}; scoring from an export reads integer position ids (int32 or int64)",
                    p.data_type()
                ),
            )
        })?;
        let c = texts(c.as_ref()).ok_or_else(|| {
            bad(
                path,
                format!(
                    "the column competency_id is {}; the export names competences (NHS|CSTF|Fire Safety - 1 Year|), matched exactly, so the requirements' competency_id must be text too",
                    c.data_type()
                ),
            )
        })?;
        pos.extend_from_slice(&p);
        for name in c.into_iter().flatten() {
            let next = i64::try_from(names.len()).unwrap_or(i64::MAX);
            comp.push(*names.entry(name).or_insert(next));
        }
    }
    Ok(NamedRequirements {
        positions: pos,
        competencies: comp,
        names,
    })
}

/// Scores every assignment from the assignments and requirements files (Parquet or Arrow IPC)
/// and an ESR competence export (CSV) in one pass, with exactly the result of
/// `score_compliance(assignments, requirements, read_competence_table(export), as_of)`: the
/// export's rows read as [`esr_core::compliance::read_competence_table`] reads them (the same
/// bad rows, limits, messages and encodings) on up to `threads` threads, each block's records
/// matched and classified as it is merged and let go, those expired before `as_of` and those of
/// competences no requirement names dropped at once: memory grows with staff, not records.
/// Matching is `score_compliance`'s: a holding's person is its employee number as an integer
/// (the assignments' person_id, int32 or int64), its competence its name in the pipe form,
/// matched exactly against the requirements' competency_id (text). Assignment and position ids
/// are integers.
#[allow(clippy::too_many_arguments)]
pub fn score_competence_csv(
    assignments: &Path,
    requirements: &Path,
    export: &Path,
    (vpd, options, encoding): (VpdCode, ImportOptions, CsvEncoding),
    as_of: NaiveDate,
    window: AmberWindow,
    threads: NonZeroUsize,
) -> Result<CsvScores> {
    let a = Source::open(assignments, "assignments", &ASSIGNMENT_COLUMNS)?;
    let r = Source::open(requirements, "requirements", &REQUIREMENT_COLUMNS)?;
    let file = File::open(export).map_err(|e| bad(export, e))?;
    let t = threads.get();
    let a_batches = a.read_all(t, None)?;
    let r_batches = r.read_all(t, None)?;
    let acols = int_columns(&a_batches, assignments, &ASSIGNMENT_COLUMNS)?;
    let NamedRequirements {
        positions,
        competencies,
        names,
    } = requirement_names(&r_batches, requirements)?;
    let _ = days_since_epoch(as_of)?;
    let holdings = CsvHoldings::new(
        std::io::BufReader::with_capacity(1 << 20, file),
        vpd,
        options,
        encoding,
        names,
    );
    let scores = score_compliance_parts(
        &[AssignmentColumns {
            assignment_id: &acols[0],
            person_id: &acols[1],
            position_id: &acols[2],
        }],
        RequirementColumns {
            position_id: &positions,
            competency_id: &competencies,
        },
        &holdings,
        as_of,
        window,
        threads,
    )?;
    let (skipped, encoding) = holdings
        .outcome()
        .unwrap_or((ImportProblems::new(), "utf-8"));
    Ok(CsvScores {
        assignments: a_batches,
        schema: a.schema().clone(),
        scores,
        skipped,
        encoding,
    })
}
