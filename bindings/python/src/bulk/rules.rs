//! The optional rule tables and columns of `esr.score_compliance` and `esr.compliance_detail`:
//! the tables `org_units(org_unit_id, parent_id)`, `org_unit_requirements(org_unit_id,
//! competency_id[, essential, min_level])`, `job_requirements(job, competency_id[, essential,
//! min_level])` and `equivalences(competency_id, satisfies_competency_id)`, and the optional
//! columns assignments.org_unit_id and .job, requirements.essential and .min_level, and
//! holdings.level, turned into the core's [`BulkRules`].

use super::{
    Id, IdKind, Prepared, Table, bulk_err, core_err, id_kind, import_table, int_ids, intern_ids,
};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use esr_core::compliance::{
    BulkRules, CompetenceLevel, EquivalenceColumns, KeyInterner, OrgUnitColumns,
    RequirementOptions, TargetRequirementColumns,
};
use pyo3::prelude::*;

/// The optional rule columns of the assignments, requirements and holdings tables: when a file
/// has one, it is read (score_files), since each changes what the table means.
pub(super) const ASSIGNMENT_RULE_COLUMNS: [&str; 2] = ["org_unit_id", "job"];
pub(super) const REQUIREMENT_RULE_COLUMNS: [&str; 2] = ["essential", "min_level"];
pub(super) const HOLDING_RULE_COLUMNS: [&str; 1] = ["level"];

/// A rule table's name, what it needs (for messages), its columns and its optional ones.
pub(super) struct RuleTable {
    pub(super) name: &'static str,
    pub(super) needs: &'static str,
    pub(super) columns: &'static [&'static str],
    pub(super) optional: &'static [&'static str],
}

const ORG_UNITS: RuleTable = RuleTable {
    name: "org_units",
    needs: "org_unit_id and parent_id",
    columns: &["org_unit_id", "parent_id"],
    optional: &[],
};
const UNIT_REQS: RuleTable = RuleTable {
    name: "org_unit_requirements",
    needs: "org_unit_id and competency_id",
    columns: &["org_unit_id", "competency_id"],
    optional: &REQUIREMENT_RULE_COLUMNS,
};
const JOB_REQS: RuleTable = RuleTable {
    name: "job_requirements",
    needs: "job and competency_id",
    columns: &["job", "competency_id"],
    optional: &REQUIREMENT_RULE_COLUMNS,
};
const EQUIVALENCES: RuleTable = RuleTable {
    name: "equivalences",
    needs: "competency_id and satisfies_competency_id",
    columns: &["competency_id", "satisfies_competency_id"],
    optional: &[],
};

/// The optional tables, imported.
pub(super) struct Extra {
    org_units: Option<Table>,
    unit_reqs: Option<Table>,
    job_reqs: Option<Table>,
    equivalences: Option<Table>,
}

impl Extra {
    /// The tables given as tables or frames (anything score_compliance takes).
    pub(super) fn import(
        org_units: Option<&Bound<'_, PyAny>>,
        unit_reqs: Option<&Bound<'_, PyAny>>,
        job_reqs: Option<&Bound<'_, PyAny>>,
        equivalences: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Self::import_by([org_units, unit_reqs, job_reqs, equivalences], &|o, t| {
            import_table(&crate::frames::collected(o)?, t.name, t.needs)
        })
    }

    /// The tables (org_units, org_unit_requirements, job_requirements, equivalences; None or
    /// Python's None for one not given), each turned into a [`Table`] by `get`.
    pub(super) fn import_by(
        given: [Option<&Bound<'_, PyAny>>; 4],
        get: &dyn Fn(&Bound<'_, PyAny>, &RuleTable) -> PyResult<Table>,
    ) -> PyResult<Self> {
        let [org_units, unit_reqs, job_reqs, equivalences] = given;
        let one = |o: Option<&Bound<'_, PyAny>>, t: &RuleTable| -> PyResult<Option<Table>> {
            o.filter(|o| !o.is_none()).map(|o| get(o, t)).transpose()
        };
        Ok(Self {
            org_units: one(org_units, &ORG_UNITS)?,
            unit_reqs: one(unit_reqs, &UNIT_REQS)?,
            job_reqs: one(job_reqs, &JOB_REQS)?,
            equivalences: one(equivalences, &EQUIVALENCES)?,
        })
    }

    /// Whether any rule table was given.
    pub(super) fn given(&self) -> bool {
        self.org_units.is_some()
            || self.unit_reqs.is_some()
            || self.job_reqs.is_some()
            || self.equivalences.is_some()
    }

    /// Whether any rule beyond the three tables is asked for (tables or optional columns).
    pub(super) fn any(&self, tables: [&Table; 3]) -> bool {
        let has = |t: &Table, c: &str| t.schema.index_of(c).is_ok();
        let [a, r, h] = tables;
        self.given()
            || ASSIGNMENT_RULE_COLUMNS.iter().any(|c| has(a, c))
            || REQUIREMENT_RULE_COLUMNS.iter().any(|c| has(r, c))
            || HOLDING_RULE_COLUMNS.iter().any(|c| has(h, c))
    }
}

/// Requirements of units or jobs: target, competency, essential, minimum level.
type Targets<I> = (Vec<I>, Vec<I>, Vec<bool>, Vec<u8>);

/// The columns of [`BulkRules`], owned.
#[derive(Default)]
pub(super) struct RuleColumns<I> {
    a_unit: Option<Vec<I>>,
    a_job: Option<Vec<I>>,
    r_essential: Option<Vec<bool>>,
    r_min: Option<Vec<u8>>,
    units: Option<(Vec<I>, Vec<I>)>,
    unit_reqs: Option<Targets<I>>,
    job_reqs: Option<Targets<I>>,
    equivalences: Option<(Vec<I>, Vec<I>)>,
    h_level: Option<Vec<u8>>,
}

impl<I: Id> RuleColumns<I> {
    pub(super) fn rules(&self) -> BulkRules<'_, I> {
        fn target<I>(t: &Targets<I>) -> TargetRequirementColumns<'_, I> {
            TargetRequirementColumns {
                target_id: &t.0,
                competency_id: &t.1,
                essential: Some(&t.2),
                min_level: Some(&t.3),
            }
        }
        BulkRules {
            assignment_org_unit: self.a_unit.as_deref(),
            assignment_job: self.a_job.as_deref(),
            position_requirements: RequirementOptions {
                essential: self.r_essential.as_deref(),
                min_level: self.r_min.as_deref(),
            },
            org_unit_requirements: self.unit_reqs.as_ref().map(target::<I>),
            job_requirements: self.job_reqs.as_ref().map(target::<I>),
            org_units: self.units.as_ref().map(|(u, p)| OrgUnitColumns {
                org_unit_id: u,
                parent_id: p,
                parent_validity: None,
            }),
            equivalences: self.equivalences.as_ref().map(|(h, s)| EquivalenceColumns {
                competency_id: h,
                satisfies_competency_id: s,
            }),
        }
    }

    /// Each holding's level rank, across the holdings table's chunks (`None`: no level column).
    pub(super) fn holding_levels(&self) -> Option<&[u8]> {
        self.h_level.as_deref()
    }
}

/// One key's columns (table, column), converted to ids of one kind: integers as they are, text
/// interned in `keys` (one interner per key).
fn key_columns<'a, I: Id>(
    cols: &[(&'a Table, &str)],
    text: Option<bool>,
    keys: &mut Option<KeyInterner<'a>>,
) -> PyResult<Vec<Vec<I>>> {
    let mut kinds = Vec::new();
    for (t, c) in cols {
        let chunks = t.column(c)?;
        kinds.push((id_kind(t, c)? == IdKind::Text, chunks));
    }
    let text = text.or_else(|| kinds.first().map(|k| k.0)).unwrap_or(false);
    if let Some(((t, c), _)) = cols.iter().zip(&kinds).find(|(_, k)| k.0 != text) {
        return Err(bulk_err(format!(
            "the {} table's column {c} holds {} but the ids it joins hold {}; make both text or both integers",
            t.name,
            if text { "integers" } else { "text" },
            if text { "text" } else { "integers" },
        )));
    }
    let mut out = Vec::new();
    for ((t, c), (_, chunks)) in cols.iter().zip(kinds) {
        if text {
            let k = keys.get_or_insert_with(KeyInterner::new);
            out.push(intern_ids::<I>(&chunks, k).map_err(core_err)?);
        } else {
            out.push(int_ids::<I>(t, c, &chunks)?.into_owned());
        }
    }
    Ok(out)
}

/// The ranks of one chunk of a level column (null: 0).
fn chunk_levels(t: &Table, col: &str, a: &ArrayRef, out: &mut Vec<u8>) -> PyResult<()> {
    let rank = |s: Option<&str>| -> PyResult<u8> {
        s.map_or(Ok(0), |s| {
            s.parse::<CompetenceLevel>()
                .map(|l| l.rank())
                .map_err(|e| bulk_err(format!("the {} table's column {col}: {e}", t.name)))
        })
    };
    macro_rules! ints {
        ($ty:ty) => {
            for x in a.as_primitive::<$ty>().iter() {
                out.push(x.map_or(0, |x| i64::from(x).clamp(0, 255) as u8));
            }
        };
    }
    use arrow_array::types::*;
    match a.data_type() {
        DataType::Utf8 => {
            for s in a.as_string::<i32>().iter() {
                out.push(rank(s)?);
            }
        }
        DataType::LargeUtf8 => {
            for s in a.as_string::<i64>().iter() {
                out.push(rank(s)?);
            }
        }
        DataType::Utf8View => {
            for s in a.as_string_view().iter() {
                out.push(rank(s)?);
            }
        }
        DataType::Dictionary(..) => {
            let d = a.as_any_dictionary();
            let mut values = Vec::new();
            chunk_levels(t, col, d.values(), &mut values)?;
            for (i, k) in d.normalized_keys().into_iter().enumerate() {
                out.push(if a.is_null(i) {
                    0
                } else {
                    values.get(k).copied().unwrap_or(0)
                });
            }
        }
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::UInt8 => ints!(UInt8Type),
        DataType::UInt16 => ints!(UInt16Type),
        DataType::UInt32 => ints!(UInt32Type),
        d => {
            return Err(bulk_err(format!(
                "the {} table's column {col} is {d}; give the level rank as an integer or as ESR writes it (1 - Assessed)",
                t.name
            )));
        }
    }
    Ok(())
}

/// A level column: integers (the rank) or ESR's text (`1 - Assessed`); null: 0; `None` when
/// the table has no such column.
fn levels(t: &Table, col: &str) -> PyResult<Option<Vec<u8>>> {
    if t.schema.index_of(col).is_err() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(t.rows());
    for a in t.column(col)? {
        chunk_levels(t, col, a, &mut out)?;
    }
    Ok(Some(out))
}

/// A boolean column (null: true), or `n` trues when absent.
fn flags(t: &Table, col: &str) -> PyResult<Option<Vec<bool>>> {
    if t.schema.index_of(col).is_err() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(t.rows());
    for a in t.column(col)? {
        let Some(b) = a.as_boolean_opt() else {
            return Err(bulk_err(format!(
                "the {} table's column {col} is {}; give booleans",
                t.name,
                a.data_type()
            )));
        };
        out.extend(b.iter().map(|x| x.unwrap_or(true)));
    }
    Ok(Some(out))
}

/// The rule columns, their ids joined with the three tables' (`names[3]` is the competency
/// interner when competencies are text; new competencies are interned into it).
pub(super) fn columns<'a, I: Id>(
    extra: &'a Extra,
    p: &Prepared<'a>,
    comp_names: &mut Option<KeyInterner<'a>>,
) -> PyResult<RuleColumns<I>> {
    let [a, r, h] = p.tables;
    let mut out = RuleColumns::<I> {
        r_essential: flags(r, "essential")?,
        r_min: levels(r, "min_level")?,
        h_level: levels(h, "level")?,
        ..RuleColumns::default()
    };
    let fill = |t: &Table, v: Option<Vec<bool>>, m: Option<Vec<u8>>| {
        (
            v.unwrap_or_else(|| vec![true; t.rows()]),
            m.unwrap_or_else(|| vec![0; t.rows()]),
        )
    };
    // Organisation units: the assignments', the hierarchy's and the requirements'.
    let mut unit_cols: Vec<(&Table, &str)> = Vec::new();
    let has_unit = a.schema.index_of("org_unit_id").is_ok();
    if has_unit {
        unit_cols.push((a, "org_unit_id"));
    }
    if let Some(t) = &extra.org_units {
        unit_cols.push((t, "org_unit_id"));
        unit_cols.push((t, "parent_id"));
    }
    if let Some(t) = &extra.unit_reqs {
        unit_cols.push((t, "org_unit_id"));
    }
    let mut unit_keys = None;
    let mut units = key_columns::<I>(&unit_cols, None, &mut unit_keys)?.into_iter();
    if has_unit {
        out.a_unit = units.next();
    }
    if let Some(t) = &extra.org_units {
        let ids = units.next().unwrap_or_default();
        let mut parents = units.next().unwrap_or_default();
        // A null parent is a root: the unit is its own parent.
        let mut row = 0;
        for c in t.column("parent_id")? {
            for i in 0..c.len() {
                if c.is_null(i) {
                    parents[row] = ids[row];
                }
                row += 1;
            }
        }
        out.units = Some((ids, parents));
    }
    // Jobs: the assignments' and the requirements'.
    let mut job_cols: Vec<(&Table, &str)> = Vec::new();
    let has_job = a.schema.index_of("job").is_ok();
    if has_job {
        job_cols.push((a, "job"));
    }
    if let Some(t) = &extra.job_reqs {
        job_cols.push((t, "job"));
    }
    let mut job_keys = None;
    let mut jobs = key_columns::<I>(&job_cols, None, &mut job_keys)?.into_iter();
    if has_job {
        out.a_job = jobs.next();
    }
    // Competencies: joined with the requirements' and holdings' competency_id.
    let mut comp_cols: Vec<(&Table, &str)> = Vec::new();
    for t in [&extra.unit_reqs, &extra.job_reqs].into_iter().flatten() {
        comp_cols.push((t, "competency_id"));
    }
    if let Some(t) = &extra.equivalences {
        comp_cols.push((t, "competency_id"));
        comp_cols.push((t, "satisfies_competency_id"));
    }
    let mut comps = key_columns::<I>(&comp_cols, Some(p.text[3]), comp_names)?.into_iter();
    if let Some(t) = &extra.unit_reqs {
        let (e, m) = fill(t, flags(t, "essential")?, levels(t, "min_level")?);
        out.unit_reqs = Some((
            units.next().unwrap_or_default(),
            comps.next().unwrap_or_default(),
            e,
            m,
        ));
    }
    if let Some(t) = &extra.job_reqs {
        let (e, m) = fill(t, flags(t, "essential")?, levels(t, "min_level")?);
        out.job_reqs = Some((
            jobs.next().unwrap_or_default(),
            comps.next().unwrap_or_default(),
            e,
            m,
        ));
    }
    if extra.equivalences.is_some() {
        out.equivalences = Some((
            comps.next().unwrap_or_default(),
            comps.next().unwrap_or_default(),
        ));
    }
    Ok(out)
}
