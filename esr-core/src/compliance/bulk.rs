//! The columnar compliance scorer for analysts: whole workforces in, one row per assignment out.
//!
//! Inputs are plain slices, the shape of Arrow columns, so a binding can pass Arrow buffers
//! without copying them:
//! - assignments: `assignment_id`, `person_id`, `position_id`;
//! - requirements: `position_id`, `competency_id` (every requirement here is essential;
//!   duplicates count once);
//! - holdings: `person_id`, `competency_id`, `expiry` as days since 1970-01-01 (Arrow `Date32`),
//!   "no expiry" being either a null in the optional validity bitmap (Arrow's layout: bit `i`,
//!   least significant bit first, set when row `i` has a value) or the value [`NO_EXPIRY`].
//!
//! The statuses are exactly those of [`crate::compliance::row_status`] for essential rows: for each
//! requirement of the assignment's position, the person's holding of that competency with the
//! latest expiry counts. Equivalences between competences are not applied here; give the
//! holdings already mapped if they matter.
//!
//! Ids may be `i32`, `u32` or `i64` ([`BulkId`]), and need not be dense: dense id ranges use
//! lookup tables, sparse ones a hash map. Text ids (ESR's assignment and employee numbers) are
//! turned into dense integers first with a [`KeyInterner`]. The work is split across threads
//! when the input is large enough for it to pay.
//!
//! [`score_compliance`] gives counts per assignment; [`score_compliance_detail`] the rows behind
//! them, one per assignment and competency.

use crate::compliance::{
    AmberWindow, ComplianceStatus, Need, RedReason, choose_holding, compliance_percent,
    is_valid_on, lasts_beyond, status_of,
};
use crate::error::{Error, Result};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::num::NonZeroUsize;

/// The `expiry` value that means "never expires" when no validity bitmap is given.
pub const NO_EXPIRY: i32 = i32::MAX;

/// An integer id column type the scorer accepts.
pub trait BulkId: Copy + Default + Send + Sync + 'static {
    /// The id as an `i64` (lossless).
    fn to_i64(self) -> i64;
}
impl BulkId for i64 {
    fn to_i64(self) -> i64 {
        self
    }
}
impl BulkId for i32 {
    fn to_i64(self) -> i64 {
        i64::from(self)
    }
}
impl BulkId for u32 {
    fn to_i64(self) -> i64 {
        i64::from(self)
    }
}

/// An Arrow validity bitmap: bit `offset + i` (least significant bit first) is set when row `i`
/// has a value.
#[derive(Debug, Clone, Copy)]
pub struct Validity<'a> {
    bits: &'a [u8],
    offset: usize,
}

impl<'a> Validity<'a> {
    /// A bitmap over `bits`, starting at bit `offset`.
    pub fn new(bits: &'a [u8], offset: usize) -> Self {
        Self { bits, offset }
    }

    fn covers(&self, len: usize) -> bool {
        self.offset
            .checked_add(len)
            .is_some_and(|end| end.div_ceil(8) <= self.bits.len())
    }

    #[inline]
    fn get(&self, i: usize) -> bool {
        let b = self.offset + i;
        self.bits
            .get(b / 8)
            .is_some_and(|x| x & (1 << (b % 8)) != 0)
    }
}

/// The assignments table.
#[derive(Debug, Clone, Copy)]
pub struct AssignmentColumns<'a, I> {
    /// Each assignment's id.
    pub assignment_id: &'a [I],
    /// Whose it is.
    pub person_id: &'a [I],
    /// Its position.
    pub position_id: &'a [I],
}

/// The requirements table: every row an essential requirement.
#[derive(Debug, Clone, Copy)]
pub struct RequirementColumns<'a, I> {
    /// The position requiring it.
    pub position_id: &'a [I],
    /// The competency required.
    pub competency_id: &'a [I],
}

/// The holdings table.
#[derive(Debug, Clone, Copy)]
pub struct HoldingColumns<'a, I> {
    /// Who holds it.
    pub person_id: &'a [I],
    /// What.
    pub competency_id: &'a [I],
    /// Valid through this day, as days since 1970-01-01; [`NO_EXPIRY`] for never.
    pub expiry: &'a [i32],
    /// Arrow nulls of `expiry`: a null means never expires. `None`: no nulls.
    pub expiry_validity: Option<Validity<'a>>,
    /// Each holding's level rank (`None`: every holding at 0, `0 - Not Assessed`, as the CSV
    /// import reads a row without a level). Only a requirement with a minimum level reads it.
    pub level: Option<&'a [u8]>,
}

/// The essential flag and minimum level of each row of a requirements table (`None`: every row
/// essential, no minimum).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequirementOptions<'a> {
    /// Whether each requirement is essential (counts towards the percentage) or desirable.
    pub essential: Option<&'a [bool]>,
    /// The least level rank that satisfies each requirement (`1` for `1 - Assessed`; 0: any).
    pub min_level: Option<&'a [u8]>,
}

/// Requirements attached to organisation units or jobs: `target_id` is the unit (inherited by
/// every unit below it) or the job.
#[derive(Debug, Clone, Copy)]
pub struct TargetRequirementColumns<'a, I> {
    /// The organisation unit or job requiring it.
    pub target_id: &'a [I],
    /// The competency required.
    pub competency_id: &'a [I],
    /// Whether each is essential (`None`: all are).
    pub essential: Option<&'a [bool]>,
    /// The least level rank of each (`None`: no minimum).
    pub min_level: Option<&'a [u8]>,
}

/// The organisation hierarchy: each unit and its parent (a null parent, in the optional
/// validity bitmap, or a unit its own parent, is a root).
#[derive(Debug, Clone, Copy)]
pub struct OrgUnitColumns<'a, I> {
    /// The unit.
    pub org_unit_id: &'a [I],
    /// The unit above it.
    pub parent_id: &'a [I],
    /// Arrow nulls of `parent_id`.
    pub parent_validity: Option<Validity<'a>>,
}

/// Equivalences: holding `competency_id` satisfies a requirement for `satisfies_competency_id`
/// (chains and cycles as in the service: [`crate::compliance::equivalence_closure`]).
#[derive(Debug, Clone, Copy)]
pub struct EquivalenceColumns<'a, I> {
    /// The competency held.
    pub competency_id: &'a [I],
    /// The competency it counts as.
    pub satisfies_competency_id: &'a [I],
}

/// The rest of the service's compliance rules, for the bulk scorer; every part optional. With
/// the default (nothing given) the scorer reads requirements by position only, all essential,
/// without levels or equivalences: the three-table call.
#[derive(Debug, Clone, Copy)]
pub struct BulkRules<'a, I> {
    /// Each assignment's organisation unit (as long as the assignments table).
    pub assignment_org_unit: Option<&'a [I]>,
    /// Each assignment's job (as long as the assignments table).
    pub assignment_job: Option<&'a [I]>,
    /// Essential flags and minimum levels of the position requirements table's rows.
    pub position_requirements: RequirementOptions<'a>,
    /// Requirements of organisation units (inherited down the hierarchy).
    pub org_unit_requirements: Option<TargetRequirementColumns<'a, I>>,
    /// Requirements of jobs.
    pub job_requirements: Option<TargetRequirementColumns<'a, I>>,
    /// The hierarchy the unit requirements are inherited down.
    pub org_units: Option<OrgUnitColumns<'a, I>>,
    /// Which competencies satisfy which.
    pub equivalences: Option<EquivalenceColumns<'a, I>>,
}

impl<I> Default for BulkRules<'_, I> {
    fn default() -> Self {
        Self {
            assignment_org_unit: None,
            assignment_job: None,
            position_requirements: RequirementOptions::default(),
            org_unit_requirements: None,
            job_requirements: None,
            org_units: None,
            equivalences: None,
        }
    }
}

/// One row per assignment, in input order, as columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BulkScores<I> {
    /// The assignment.
    pub assignment_id: Vec<I>,
    /// Whose it is.
    pub person_id: Vec<I>,
    /// Distinct competencies its position requires.
    pub required: Vec<u32>,
    /// Of which Green.
    pub green: Vec<u32>,
    /// Of which Amber.
    pub amber: Vec<u32>,
    /// Of which Red (not held, or expired).
    pub red: Vec<u32>,
    /// (green + amber) / required × 100; 0.0 where `percent_valid` is false.
    pub percent: Vec<f64>,
    /// Whether `percent` has a value: false when nothing is required (no percentage, not 100).
    pub percent_valid: Vec<bool>,
}

impl<I> BulkScores<I> {
    /// Rows.
    pub fn len(&self) -> usize {
        self.assignment_id.len()
    }
    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.assignment_id.is_empty()
    }
    /// The percentage of row `i`, `None` where there is none.
    pub fn percent_at(&self, i: usize) -> Option<f64> {
        (*self.percent_valid.get(i)?).then(|| self.percent.get(i).copied())?
    }
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// Days since 1970-01-01 (Arrow `Date32`).
pub fn days_since_epoch(date: NaiveDate) -> Result<i32> {
    let days = date.signed_duration_since(epoch()).num_days();
    i32::try_from(days)
        .map_err(|_| Error::invalid("date", "it is too far from 1970 to count in days"))
}

/// The date `days` after 1970-01-01.
pub fn date_from_days(days: i32) -> Option<NaiveDate> {
    epoch().checked_add_signed(chrono::TimeDelta::days(i64::from(days)))
}

/// Scores every assignment as of `as_of` with the amber `window`, on every core the machine
/// offers: the columnar scorer for analysts, whole workforces in, one row per assignment out.
///
/// Inputs are plain slices, the shape of Arrow columns, so a binding can pass Arrow buffers
/// without copying them:
/// - assignments ([`AssignmentColumns`]): `assignment_id`, `person_id`, `position_id`;
/// - requirements ([`RequirementColumns`]): `position_id`, `competency_id` (every requirement
///   here is essential; duplicates count once);
/// - holdings ([`HoldingColumns`]): `person_id`, `competency_id`, `expiry` as days since
///   1970-01-01 (Arrow `Date32`, see [`days_since_epoch`]), "no expiry" being either a null in
///   the optional [`Validity`] bitmap (Arrow's layout: bit `i`, least significant bit first,
///   set when row `i` has a value) or the value [`NO_EXPIRY`].
///
/// The statuses are exactly those of [`crate::compliance::row_status`] for essential rows: for each
/// requirement of the assignment's position, the person's holding of that competency with the
/// latest expiry counts. Equivalences between competences are not applied here; give the
/// holdings already mapped if they matter. Requirements on organisation units and jobs are not
/// read either: only positions.
///
/// Ids may be `i32`, `u32` or `i64` ([`BulkId`]), and need not be dense: dense id ranges use
/// lookup tables, sparse ones a hash map. The work is split across threads when the input is
/// large enough for it to pay ([`score_compliance_with_threads`] caps the threads).
///
/// ```
/// use esr_core::chrono::NaiveDate;
/// use esr_core::{*, access::*, audit::*, compliance::*, learning::*, org::*, passcode::*, people::*, store::*, urp::*, values::*};
/// # fn main() -> Result<(), Error> {
/// let as_of = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
/// let soon = days_since_epoch(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap())?;
/// let scores = score_compliance(
///     AssignmentColumns { assignment_id: &[10i64, 11], person_id: &[1, 2], position_id: &[7, 8] },
///     RequirementColumns { position_id: &[7, 7], competency_id: &[100, 101] },
///     HoldingColumns {
///         person_id: &[1, 1],
///         competency_id: &[100, 101],
///         expiry: &[soon, NO_EXPIRY],
///         expiry_validity: None,
///         level: None,
///     },
///     as_of,
///     AmberWindow::months(3)?,
/// )?;
/// assert_eq!((scores.green[0], scores.amber[0], scores.red[0]), (1, 1, 0));
/// assert_eq!(scores.percent_at(0), Some(100.0));
/// assert_eq!(scores.percent_at(1), None); // position 8 requires nothing
/// # Ok(()) }
/// ```
pub fn score_compliance<I: BulkId>(
    assignments: AssignmentColumns<'_, I>,
    requirements: RequirementColumns<'_, I>,
    holdings: HoldingColumns<'_, I>,
    as_of: NaiveDate,
    window: AmberWindow,
) -> Result<BulkScores<I>> {
    let threads = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
    score_compliance_with_threads(assignments, requirements, holdings, as_of, window, threads)
}

/// Rows of holdings below which one thread does all the work.
const PARALLEL_MIN_ROWS: usize = 1 << 18;

/// [`score_compliance`] on at most `threads` threads.
pub fn score_compliance_with_threads<I: BulkId>(
    assignments: AssignmentColumns<'_, I>,
    requirements: RequirementColumns<'_, I>,
    holdings: HoldingColumns<'_, I>,
    as_of: NaiveDate,
    window: AmberWindow,
    threads: NonZeroUsize,
) -> Result<BulkScores<I>> {
    score_compliance_with_rules(
        assignments,
        requirements,
        holdings,
        &BulkRules::default(),
        as_of,
        window,
        threads,
    )
}

/// [`score_compliance_with_threads`] by every rule the service applies ([`BulkRules`]):
/// requirements of organisation units (inherited down the hierarchy) and jobs, desirable
/// requirements (shown in the detail, never counted), minimum levels and equivalences. The
/// counts are the service's for the same trust: `required` is the essential rows.
pub fn score_compliance_with_rules<I: BulkId>(
    assignments: AssignmentColumns<'_, I>,
    requirements: RequirementColumns<'_, I>,
    holdings: HoldingColumns<'_, I>,
    rules: &BulkRules<'_, I>,
    as_of: NaiveDate,
    window: AmberWindow,
    threads: NonZeroUsize,
) -> Result<BulkScores<I>> {
    score_compliance_parts_with_rules(
        &[assignments],
        requirements,
        &[holdings][..],
        rules,
        as_of,
        window,
        threads,
    )
}

/// Holdings given in parts: the chunks of chunked Arrow columns (a slice of [`HoldingColumns`])
/// or batches decoded as a file is read. The scorer never needs them all at once: each part is
/// classified and let go, so memory grows with the number of staff, not of records.
pub trait HoldingParts<I: BulkId>: Sync {
    /// Rows in all, when known before reading (the scorer runs on one thread below a size).
    fn rows_hint(&self) -> Option<usize>;

    /// Calls `f(worker, part)` for every part, on up to `workers` threads at once, `worker`
    /// being below `workers` and never used by two threads at the same time. A part may leave out
    /// records that expired before `as_of_days` (days since 1970-01-01): they count for nothing
    /// in the scores.
    fn each_part(
        &self,
        workers: usize,
        as_of_days: i32,
        f: &(dyn Fn(usize, HoldingColumns<'_, I>) + Sync),
    ) -> Result<()>;
}

impl<I: BulkId> HoldingParts<I> for [HoldingColumns<'_, I>] {
    fn rows_hint(&self) -> Option<usize> {
        Some(self.iter().map(|h| h.person_id.len()).sum())
    }

    fn each_part(
        &self,
        workers: usize,
        _as_of_days: i32,
        f: &(dyn Fn(usize, HoldingColumns<'_, I>) + Sync),
    ) -> Result<()> {
        for h in self {
            check_holdings(h)?;
        }
        let lens: Vec<usize> = self.iter().map(|h| h.person_id.len()).collect();
        let n: usize = lens.iter().sum();
        let step = n.div_ceil(workers.max(1)).max(1);
        let run = |w: usize| {
            for (c, r) in pieces(&lens, w * step..((w + 1) * step).min(n)) {
                f(w, self[c].slice(r));
            }
        };
        if workers <= 1 {
            run(0);
            return Ok(());
        }
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|w| {
                    let run = &run;
                    s.spawn(move || run(w))
                })
                .collect();
            for h in handles {
                h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            }
        });
        Ok(())
    }
}

impl<'a, I: BulkId> HoldingColumns<'a, I> {
    /// Rows `r` of the holdings (the validity bitmap kept, its offset moved).
    pub fn slice(&self, r: std::ops::Range<usize>) -> Self {
        Self {
            person_id: &self.person_id[r.clone()],
            competency_id: &self.competency_id[r.clone()],
            expiry: &self.expiry[r.clone()],
            expiry_validity: self
                .expiry_validity
                .map(|v| Validity::new(v.bits, v.offset + r.start)),
            level: self.level.map(|l| &l[r.clone()]),
        }
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.person_id.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.person_id.is_empty()
    }
}

/// The parts of `range` (rows counted across chunks of lengths `lens`) in each chunk:
/// (chunk, rows within it).
fn pieces(lens: &[usize], range: std::ops::Range<usize>) -> Vec<(usize, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut lo = 0;
    for (c, &len) in lens.iter().enumerate() {
        let hi = lo + len;
        let (a, b) = (range.start.max(lo), range.end.min(hi));
        if a < b {
            out.push((c, a - lo..b - lo));
        }
        lo = hi;
    }
    out
}

/// [`score_compliance`] over tables given in parts: assignments in chunks (scored where they
/// lie, one output row per row in order), holdings in chunks or streamed from a file
/// ([`HoldingParts`]), on at most `threads` threads. Nothing is concatenated or converted.
pub fn score_compliance_parts<I: BulkId, H: HoldingParts<I> + ?Sized>(
    assignments: &[AssignmentColumns<'_, I>],
    requirements: RequirementColumns<'_, I>,
    holdings: &H,
    as_of: NaiveDate,
    window: AmberWindow,
    threads: NonZeroUsize,
) -> Result<BulkScores<I>> {
    score_compliance_parts_with_rules(
        assignments,
        requirements,
        holdings,
        &BulkRules::default(),
        as_of,
        window,
        threads,
    )
}

/// [`score_compliance_parts`] by every rule the service applies ([`BulkRules`], whose
/// per-assignment columns run across the assignments' chunks, row for row).
pub fn score_compliance_parts_with_rules<I: BulkId, H: HoldingParts<I> + ?Sized>(
    assignments: &[AssignmentColumns<'_, I>],
    requirements: RequirementColumns<'_, I>,
    holdings: &H,
    rules: &BulkRules<'_, I>,
    as_of: NaiveDate,
    window: AmberWindow,
    threads: NonZeroUsize,
) -> Result<BulkScores<I>> {
    for a in assignments {
        check_assignments(a)?;
    }
    check_requirements(&requirements)?;
    let m: usize = assignments.iter().map(|a| a.assignment_id.len()).sum();
    check_rules(m, &requirements, rules)?;
    let Prepared {
        as_of: as_of_days,
        last_amber,
        plan,
        people,
    } = Prepared::new(assignments, &requirements, rules, as_of, window)?;
    // Each person with an assignment gets `words` words of "valid" (Amber or Green) and "green".
    let words = plan.words;
    let n = holdings.rows_hint().unwrap_or(usize::MAX);
    let threads = if n < PARALLEL_MIN_ROWS {
        1
    } else {
        threads.get().min(64)
    };
    let classify = Classify {
        people: &people,
        comps: &plan.comps,
        fills: &plan.fills,
        words,
        as_of: as_of_days,
        last_amber,
    };
    // One set of masks per worker, each filled by one thread at a time (the locks are never
    // contended), then OR-ed together.
    let parts: Vec<std::sync::Mutex<Vec<[u64; 2]>>> = (0..threads)
        .map(|_| std::sync::Mutex::new(Vec::new()))
        .collect();
    holdings.each_part(threads, as_of_days, &|w, part| {
        let Some(slot) = parts.get(w) else { return };
        let mut masks = slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if masks.is_empty() {
            *masks = vec![[0u64; 2]; people.len() * words];
        }
        classify.run(&part, 0..part.len(), &mut masks);
    })?;
    let mut parts = parts
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
        .filter(|m| !m.is_empty());
    let mut masks = parts.next().unwrap_or_default();
    for m in parts {
        or_into(&mut masks, &m);
    }

    // One output row per assignment.
    let (mut assignment_id, mut person_id) = (Vec::with_capacity(m), Vec::with_capacity(m));
    for a in assignments {
        assignment_id.extend_from_slice(a.assignment_id);
        person_id.extend_from_slice(a.person_id);
    }
    let mut out = BulkScores {
        assignment_id,
        person_id,
        required: vec![0; m],
        green: vec![0; m],
        amber: vec![0; m],
        red: vec![0; m],
        percent: vec![0.0; m],
        percent_valid: vec![false; m],
    };
    let score = Score {
        people: &people,
        plan: &plan,
        words,
        masks: &masks,
    };
    let lens: Vec<usize> = assignments.iter().map(|a| a.assignment_id.len()).collect();
    let athreads = if m < PARALLEL_MIN_ROWS { 1 } else { threads };
    let chunk = m.div_ceil(athreads).max(1);
    std::thread::scope(|s| {
        let cols = out
            .required
            .chunks_mut(chunk)
            .zip(out.green.chunks_mut(chunk))
            .zip(out.amber.chunks_mut(chunk))
            .zip(out.red.chunks_mut(chunk))
            .zip(out.percent.chunks_mut(chunk))
            .zip(out.percent_valid.chunks_mut(chunk))
            .enumerate();
        for (k, (((((req, gr), am), rd), pc), pv)) in cols {
            let lo = k * chunk;
            let rows = OutRows {
                req,
                gr,
                am,
                rd,
                pc,
                pv,
            };
            let score = &score;
            let pieces = pieces(&lens, lo..lo + rows.req.len());
            let run = move || {
                let (mut rows, mut row) = (rows, lo);
                for (c, r) in pieces {
                    let a = &assignments[c];
                    let (now, rest) = rows.split_at(r.len());
                    let n = r.len();
                    score.run(row, &a.person_id[r.clone()], &a.position_id[r], now);
                    (rows, row) = (rest, row + n);
                }
            };
            if athreads == 1 {
                run();
            } else {
                s.spawn(run);
            }
        }
    });
    Ok(out)
}

impl<'a> OutRows<'a> {
    /// The first `n` rows, and the rest.
    fn split_at(self, n: usize) -> (Self, Self) {
        let (req, req2) = self.req.split_at_mut(n);
        let (gr, gr2) = self.gr.split_at_mut(n);
        let (am, am2) = self.am.split_at_mut(n);
        let (rd, rd2) = self.rd.split_at_mut(n);
        let (pc, pc2) = self.pc.split_at_mut(n);
        let (pv, pv2) = self.pv.split_at_mut(n);
        (
            Self {
                req,
                gr,
                am,
                rd,
                pc,
                pv,
            },
            Self {
                req: req2,
                gr: gr2,
                am: am2,
                rd: rd2,
                pc: pc2,
                pv: pv2,
            },
        )
    }
}

/// The detail of a scoring: one row per assignment and competence, for "who is Red in what".
///
/// For each assignment (in input order): one row per distinct competency its position
/// requires (essential; Green, Amber or Red, with the expiry of the holding that counts), then,
/// when asked for, one per competency the person holds that the position does not require
/// (not essential; Blue). Summing the required rows' statuses per assignment gives exactly
/// [`BulkScores`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BulkDetail<I> {
    /// The row of the assignments table the row is about (from 0).
    pub assignment_row: Vec<u32>,
    /// The competency.
    pub competency_id: Vec<I>,
    /// Whether it is essential to the assignment; false for desirable and Blue rows.
    pub essential: Vec<bool>,
    /// How the assignment needs it (essential, desirable, or not at all: Blue).
    pub need: Vec<Need>,
    /// Its status as of the date scored.
    pub status: Vec<ComplianceStatus>,
    /// Why it is Red (`None` unless it is).
    pub reason: Vec<Option<RedReason>>,
    /// The expiry of the holding that counts, days since 1970-01-01; `None` when it never
    /// expires or is not held (then the status is Red).
    pub expiry: Vec<Option<i32>>,
    /// Days from the date scored to the expiry (negative once expired); `None` when there is no
    /// expiry.
    pub days_left: Vec<Option<i32>>,
}

impl<I> BulkDetail<I> {
    /// Rows.
    pub fn len(&self) -> usize {
        self.assignment_row.len()
    }
    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.assignment_row.is_empty()
    }
    fn append(&mut self, mut other: Self) {
        self.assignment_row.append(&mut other.assignment_row);
        self.competency_id.append(&mut other.competency_id);
        self.essential.append(&mut other.essential);
        self.need.append(&mut other.need);
        self.status.append(&mut other.status);
        self.reason.append(&mut other.reason);
        self.expiry.append(&mut other.expiry);
        self.days_left.append(&mut other.days_left);
    }
}

/// Whether [`score_compliance_detail`] also gives the competencies held but not required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeldNotRequired {
    /// Required competencies only.
    #[default]
    Omit,
    /// Also one Blue row per competency held that the position does not require.
    Blue,
}

/// The detail rows of [`score_compliance`] from the same inputs, by the same rules, on at most
/// `threads` threads (see [`BulkDetail`]).
///
/// ```
/// use esr_core::chrono::NaiveDate;
/// use esr_core::{*, access::*, audit::*, compliance::*, learning::*, org::*, passcode::*, people::*, store::*, urp::*, values::*};
/// # fn main() -> Result<(), Error> {
/// let as_of = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
/// let soon = days_since_epoch(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap())?;
/// let detail = score_compliance_detail(
///     AssignmentColumns { assignment_id: &[10i64], person_id: &[1], position_id: &[7] },
///     RequirementColumns { position_id: &[7, 7], competency_id: &[100, 101] },
///     HoldingColumns {
///         person_id: &[1, 1],
///         competency_id: &[100, 102],
///         expiry: &[soon, NO_EXPIRY],
///         expiry_validity: None,
///         level: None,
///     },
///     as_of,
///     AmberWindow::months(3)?,
///     HeldNotRequired::Blue,
///     std::num::NonZeroUsize::MIN,
/// )?;
/// assert_eq!(detail.competency_id, [100, 101, 102]);
/// assert_eq!(detail.status, [ComplianceStatus::Amber, ComplianceStatus::Red, ComplianceStatus::Blue]);
/// assert_eq!(detail.days_left, [Some(38), None, None]);
/// # Ok(()) }
/// ```
#[allow(clippy::too_many_arguments)]
pub fn score_compliance_detail<I: BulkId>(
    assignments: AssignmentColumns<'_, I>,
    requirements: RequirementColumns<'_, I>,
    holdings: HoldingColumns<'_, I>,
    as_of: NaiveDate,
    window: AmberWindow,
    held_not_required: HeldNotRequired,
    threads: NonZeroUsize,
) -> Result<BulkDetail<I>> {
    score_compliance_detail_with_rules(
        assignments,
        requirements,
        holdings,
        &BulkRules::default(),
        as_of,
        window,
        held_not_required,
        threads,
    )
}

/// [`score_compliance_detail`] by every rule the service applies ([`BulkRules`]): the rows are
/// the service's compliance rows for the same trust (required rows, essential and desirable, in
/// the order competencies first appear in the requirements, then the Blue ones), except that a
/// desirable competency not held, which has no colour, has no row.
#[allow(clippy::too_many_arguments)]
pub fn score_compliance_detail_with_rules<I: BulkId>(
    assignments: AssignmentColumns<'_, I>,
    requirements: RequirementColumns<'_, I>,
    holdings: HoldingColumns<'_, I>,
    rules: &BulkRules<'_, I>,
    as_of: NaiveDate,
    window: AmberWindow,
    held_not_required: HeldNotRequired,
    threads: NonZeroUsize,
) -> Result<BulkDetail<I>> {
    score_compliance_detail_parts_with_rules(
        &[assignments],
        requirements,
        &[holdings],
        rules,
        as_of,
        window,
        held_not_required,
        threads,
    )
}

/// [`score_compliance_detail`] over tables in chunks (Arrow's chunked columns, a file's
/// batches), read where they lie: `assignment_row` counts rows across the assignments' chunks.
#[allow(clippy::too_many_arguments)]
pub fn score_compliance_detail_parts<I: BulkId>(
    assignments: &[AssignmentColumns<'_, I>],
    requirements: RequirementColumns<'_, I>,
    holdings: &[HoldingColumns<'_, I>],
    as_of: NaiveDate,
    window: AmberWindow,
    held_not_required: HeldNotRequired,
    threads: NonZeroUsize,
) -> Result<BulkDetail<I>> {
    score_compliance_detail_parts_with_rules(
        assignments,
        requirements,
        holdings,
        &BulkRules::default(),
        as_of,
        window,
        held_not_required,
        threads,
    )
}

/// [`score_compliance_detail_parts`] by every rule the service applies ([`BulkRules`], whose
/// per-assignment columns run across the assignments' chunks, row for row).
#[allow(clippy::too_many_arguments)]
pub fn score_compliance_detail_parts_with_rules<I: BulkId>(
    assignments: &[AssignmentColumns<'_, I>],
    requirements: RequirementColumns<'_, I>,
    holdings: &[HoldingColumns<'_, I>],
    rules: &BulkRules<'_, I>,
    as_of: NaiveDate,
    window: AmberWindow,
    held_not_required: HeldNotRequired,
    threads: NonZeroUsize,
) -> Result<BulkDetail<I>> {
    for a in assignments {
        check_assignments(a)?;
    }
    check_requirements(&requirements)?;
    for h in holdings {
        check_holdings(h)?;
    }
    let m: usize = assignments.iter().map(|a| a.assignment_id.len()).sum();
    check_rules(m, &requirements, rules)?;
    if m > u32::MAX as usize {
        return Err(Error::BulkInput {
            reason: "more than 4,294,967,295 assignments in one call; score them in parts"
                .to_owned(),
        });
    }
    let Prepared {
        as_of: as_of_days,
        last_amber,
        plan,
        people,
    } = Prepared::new(assignments, &requirements, rules, as_of, window)?;

    // Each person's candidates for each bit: (bit, expiry, meets the minimum), and, for the
    // Blue rows, the latest expiry of each competency held. Built in two passes over the
    // holdings (count, then place) rather than through a list of them all: at NHS scale that
    // list alone would be half a gigabyte.
    let keep_unrequired = held_not_required == HeldNotRequired::Blue;
    let expiry_at = |h: &HoldingColumns<'_, I>, k: usize| match &h.expiry_validity {
        Some(v) if !v.get(k) => NO_EXPIRY,
        _ => h.expiry[k],
    };
    let rows = || {
        holdings
            .iter()
            .flat_map(|h| (0..h.person_id.len()).map(move |k| (h, k)))
    };
    let fill = |(h, k): (&HoldingColumns<'_, I>, usize)| {
        let p = people.get(h.person_id[k].to_i64());
        let mut v: Vec<(u32, (u32, i32, bool))> = Vec::new();
        if let Some(p) = p {
            let e = expiry_at(h, k);
            plan.fills.each(
                &plan.comps,
                h.competency_id[k].to_i64(),
                h.level.map_or(0, |l| l[k]),
                |bit, meets| v.push((p, (bit, e, meets))),
            );
        }
        v
    };
    let mut cands = Csr::build(people.len(), rows().flat_map(&fill));
    for p in 0..people.len() {
        // By bit, then best first ([`choose_holding`] is then the first of each bit).
        cands
            .get_mut(p)
            .sort_unstable_by_key(|&(b, e, meets)| (b, std::cmp::Reverse((meets, e))));
    }
    let held_entry = |(h, k): (&HoldingColumns<'_, I>, usize)| {
        let p = people.get(h.person_id[k].to_i64())?;
        Some((p, (h.competency_id[k], expiry_at(h, k))))
    };
    let mut held = if keep_unrequired {
        Csr::build(people.len(), rows().filter_map(&held_entry))
    } else {
        Csr::build(people.len(), std::iter::empty())
    };
    for p in 0..people.len() {
        let list = held.get_mut(p);
        list.sort_unstable_by_key(|(c, e)| (c.to_i64(), std::cmp::Reverse(*e)));
        // The first of each competency has the latest expiry (NO_EXPIRY is the latest).
        let mut w = 0;
        for r in 0..list.len() {
            if w == 0 || list[w - 1].0.to_i64() != list[r].0.to_i64() {
                list[w] = list[r];
                w += 1;
            }
        }
        held.truncate(p, w);
    }

    let threads = if m < PARALLEL_MIN_ROWS / 8 {
        1
    } else {
        threads.get().min(64)
    };
    let chunk = m.div_ceil(threads).max(1);
    let detail = Detail {
        people: &people,
        plan: &plan,
        cands: &cands,
        held: &held,
        as_of: as_of_days,
        last_amber,
        blue: keep_unrequired,
    };
    let lens: Vec<usize> = assignments.iter().map(|a| a.assignment_id.len()).collect();
    let run = |lo: usize| {
        let hi = (lo + chunk).min(m);
        let mut out = BulkDetail::default();
        let mut row = lo;
        for (c, r) in pieces(&lens, lo..hi) {
            let a = &assignments[c];
            let n = r.len();
            out.append(detail.run(row, &a.person_id[r.clone()], &a.position_id[r]));
            row += n;
        }
        out
    };
    if threads == 1 {
        return Ok(run(0));
    }
    let parts: Vec<BulkDetail<I>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..m)
            .step_by(chunk)
            .map(|lo| {
                let run = &run;
                s.spawn(move || run(lo))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut parts = parts.into_iter();
    let mut out = parts.next().unwrap_or_default();
    for p in parts {
        out.append(p);
    }
    Ok(out)
}

/// Lists of `T` per slot 0..len, in one allocation.
struct Csr<T> {
    starts: Vec<usize>,
    ends: Vec<usize>,
    items: Vec<T>,
}

impl<T: Copy + Default> Csr<T> {
    /// Groups `(slot, item)` pairs by slot (a counting sort: the order within a slot is kept).
    fn build(len: usize, pairs: impl Iterator<Item = (u32, T)> + Clone) -> Self {
        let mut starts = vec![0usize; len + 1];
        for (s, _) in pairs.clone() {
            starts[s as usize + 1] += 1;
        }
        for i in 0..len {
            starts[i + 1] += starts[i];
        }
        let mut next = starts.clone();
        let mut items = vec![T::default(); starts[len]];
        for (s, t) in pairs {
            items[next[s as usize]] = t;
            next[s as usize] += 1;
        }
        starts.pop();
        Self {
            ends: next,
            starts,
            items,
        }
    }

    fn get(&self, slot: usize) -> &[T] {
        match (self.starts.get(slot), self.ends.get(slot)) {
            (Some(&a), Some(&b)) => &self.items[a..b],
            _ => &[],
        }
    }

    fn get_mut(&mut self, slot: usize) -> &mut [T] {
        let (a, b) = (self.starts[slot], self.ends[slot]);
        &mut self.items[a..b]
    }

    fn truncate(&mut self, slot: usize, len: usize) {
        self.ends[slot] = self.starts[slot] + len;
    }
}

struct Detail<'a, I> {
    people: &'a IdMap,
    plan: &'a plan::Plan<I>,
    cands: &'a Csr<(u32, i32, bool)>,
    held: &'a Csr<(I, i32)>,
    as_of: i32,
    last_amber: i32,
    blue: bool,
}

impl<I: BulkId + Default> Detail<'_, I> {
    fn run(&self, lo: usize, persons: &[I], positions: &[I]) -> BulkDetail<I> {
        let mut out = BulkDetail::default();
        for (i, (p, pos)) in persons.iter().zip(positions).enumerate() {
            let row = (lo + i) as u32;
            let items = self
                .plan
                .profile(lo + i, *pos)
                .map_or(&[][..], |s| self.plan.items.get(s as usize));
            let p = self.people.get(p.to_i64());
            let cands = p.map_or(&[][..], |s| self.cands.get(s as usize));
            for &(c, bit, need) in items {
                let from = cands.partition_point(|x| x.0 < bit);
                let to = from + cands[from..].partition_point(|x| x.0 == bit);
                let chosen = choose_holding(cands[from..to].iter().map(|&(_, e, m)| (e, m, ())));
                let (status, reason) = status_of(
                    need,
                    chosen.as_ref().map(|(e, m, _)| (e, *m)),
                    &self.as_of,
                    &self.last_amber,
                );
                let Some(status) = status else { continue };
                let id = self.plan.comp_ids.get(c as usize).copied().flatten();
                let e = chosen.map(|(e, _, _)| e);
                self.push(
                    &mut out,
                    row,
                    id.unwrap_or_default(),
                    need,
                    status,
                    reason,
                    e,
                );
            }
            if self.blue {
                let held = p.map_or(&[][..], |s| self.held.get(s as usize));
                for &(c, e) in held {
                    let slot = self.plan.comps.get(c.to_i64());
                    let required =
                        slot.is_some_and(|s| items.binary_search_by_key(&s, |x| x.0).is_ok());
                    if !required {
                        let (status, _) = status_of(
                            Need::NotRequired,
                            Some((&e, true)),
                            &self.as_of,
                            &self.last_amber,
                        );
                        let status = status.unwrap_or(ComplianceStatus::Blue);
                        self.push(&mut out, row, c, Need::NotRequired, status, None, Some(e));
                    }
                }
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn push(
        &self,
        out: &mut BulkDetail<I>,
        row: u32,
        c: I,
        need: Need,
        status: ComplianceStatus,
        reason: Option<RedReason>,
        e: Option<i32>,
    ) {
        let e = e.filter(|e| *e != NO_EXPIRY);
        out.assignment_row.push(row);
        out.competency_id.push(c);
        out.essential.push(need == Need::Essential);
        out.need.push(need);
        out.status.push(status);
        out.reason.push(reason);
        out.expiry.push(e);
        out.days_left.push(e.map(|e| e.saturating_sub(self.as_of)));
    }
}

/// The optional rules' columns as long as the tables they belong to.
fn check_rules<I>(
    m: usize,
    requirements: &RequirementColumns<'_, I>,
    rules: &BulkRules<'_, I>,
) -> Result<()> {
    if let Some(u) = rules.assignment_org_unit {
        check_len("assignments", "org_unit_id", m, u.len())?;
    }
    if let Some(j) = rules.assignment_job {
        check_len("assignments", "job_id", m, j.len())?;
    }
    let r = requirements.position_id.len();
    let o = &rules.position_requirements;
    if let Some(e) = o.essential {
        check_len("requirements", "essential", r, e.len())?;
    }
    if let Some(l) = o.min_level {
        check_len("requirements", "min_level", r, l.len())?;
    }
    for (name, t) in [
        ("org_unit_requirements", &rules.org_unit_requirements),
        ("job_requirements", &rules.job_requirements),
    ] {
        if let Some(t) = t {
            let n = t.target_id.len();
            check_len(name, "competency_id", n, t.competency_id.len())?;
            if let Some(e) = t.essential {
                check_len(name, "essential", n, e.len())?;
            }
            if let Some(l) = t.min_level {
                check_len(name, "min_level", n, l.len())?;
            }
        }
    }
    if let Some(t) = &rules.org_units {
        check_len(
            "org_units",
            "parent_id",
            t.org_unit_id.len(),
            t.parent_id.len(),
        )?;
        if let Some(v) = &t.parent_validity
            && !v.covers(t.org_unit_id.len())
        {
            return Err(Error::BulkInput {
                reason: "the parent_id validity bitmap is shorter than the org_units table"
                    .to_owned(),
            });
        }
    }
    if let Some(e) = &rules.equivalences {
        check_len(
            "equivalences",
            "satisfies_competency_id",
            e.competency_id.len(),
            e.satisfies_competency_id.len(),
        )?;
    }
    Ok(())
}

/// Every column of a table as long as its first.
fn check_assignments<I>(assignments: &AssignmentColumns<'_, I>) -> Result<()> {
    check_len(
        "assignments",
        "person_id",
        assignments.assignment_id.len(),
        assignments.person_id.len(),
    )?;
    check_len(
        "assignments",
        "position_id",
        assignments.assignment_id.len(),
        assignments.position_id.len(),
    )
}

fn check_requirements<I>(requirements: &RequirementColumns<'_, I>) -> Result<()> {
    check_len(
        "requirements",
        "competency_id",
        requirements.position_id.len(),
        requirements.competency_id.len(),
    )
}

/// Every column as long as the first, and the expiry bitmap covering the holdings.
fn check_holdings<I>(holdings: &HoldingColumns<'_, I>) -> Result<()> {
    check_len(
        "holdings",
        "competency_id",
        holdings.person_id.len(),
        holdings.competency_id.len(),
    )?;
    check_len(
        "holdings",
        "expiry",
        holdings.person_id.len(),
        holdings.expiry.len(),
    )?;
    if let Some(v) = &holdings.expiry_validity
        && !v.covers(holdings.person_id.len())
    {
        return Err(Error::BulkInput {
            reason: format!(
                "the expiry validity bitmap is shorter than the {} holdings; pass the column's own bitmap and offset",
                holdings.person_id.len()
            ),
        });
    }
    if let Some(l) = holdings.level {
        check_len("holdings", "level", holdings.person_id.len(), l.len())?;
    }
    Ok(())
}

fn check_len(table: &'static str, column: &'static str, want: usize, got: usize) -> Result<()> {
    if want != got {
        return Err(Error::BulkInput {
            reason: format!(
                "in the {table} table, column {column} has {got} rows but the first column has {want}; every column of a table must have the same length"
            ),
        });
    }
    Ok(())
}

/// What the counts and the detail rows both need before they read a holding (once their inputs
/// are checked): the day and the amber window's last day as days since the epoch, what each
/// assignment needs and each holding can fill, and each person's slot.
struct Prepared<I> {
    as_of: i32,
    last_amber: i32,
    plan: plan::Plan<I>,
    people: IdMap,
}

impl<I: BulkId> Prepared<I> {
    fn new(
        assignments: &[AssignmentColumns<'_, I>],
        requirements: &RequirementColumns<'_, I>,
        rules: &BulkRules<'_, I>,
        as_of: NaiveDate,
        window: AmberWindow,
    ) -> Result<Self> {
        Ok(Self {
            as_of: days_since_epoch(as_of)?,
            last_amber: days_since_epoch(window.last_day(as_of))?,
            plan: plan::Plan::build(requirements, rules, assignments),
            people: IdMap::build(
                assignments
                    .iter()
                    .flat_map(|a| a.person_id.iter().map(|p| p.to_i64())),
            ),
        })
    }
}

fn or_into(dst: &mut [[u64; 2]], src: &[[u64; 2]]) {
    for (d, s) in dst.iter_mut().zip(src) {
        d[0] |= s[0];
        d[1] |= s[1];
    }
}

struct Classify<'a> {
    people: &'a IdMap,
    comps: &'a IdMap,
    fills: &'a plan::Fills,
    words: usize,
    as_of: i32,
    last_amber: i32,
}

impl Classify<'_> {
    /// Marks, for each holding in `range`, the bits it fills in the person's "valid" words when
    /// it has not expired and meets the level, and in the "green" words when it also lasts
    /// beyond the amber window. `masks[i]` is `[valid, green]` for word `i`.
    fn run<I: BulkId>(
        &self,
        h: &HoldingColumns<'_, I>,
        range: std::ops::Range<usize>,
        masks: &mut [[u64; 2]],
    ) {
        let persons = &h.person_id[range.clone()];
        let comps = &h.competency_id[range.clone()];
        let expiry = &h.expiry[range.clone()];
        let levels = h.level.map(|l| &l[range.clone()]);
        // Holdings usually come grouped by person: gather the bits of a run of holdings that land
        // on the same word in registers, and write them out when the word changes.
        let mut acc = Acc {
            word: usize::MAX,
            bits: [0, 0],
        };
        let expiry_at = |k: usize| match &h.expiry_validity {
            Some(v) if !v.get(range.start + k) => NO_EXPIRY,
            _ => expiry[k],
        };
        match (self.fills, levels) {
            (plan::Fills::Direct, _) => match &h.expiry_validity {
                None => {
                    for ((p, c), e) in persons.iter().zip(comps).zip(expiry) {
                        self.mark_direct(masks, &mut acc, *p, *c, *e);
                    }
                }
                Some(_) => {
                    for (k, (p, c)) in persons.iter().zip(comps).enumerate() {
                        self.mark_direct(masks, &mut acc, *p, *c, expiry_at(k));
                    }
                }
            },
            // A person's words are gathered in registers: two of them when there are one or two.
            (plan::Fills::Expanded { .. }, levels) => {
                let nulls = h.expiry_validity.is_some().then_some(expiry_at);
                if self.words <= 2 {
                    self.expanded_in::<I, _, 2>(masks, persons, comps, expiry, nulls, levels);
                } else {
                    self.expanded_in::<I, _, PERSON_WORDS>(
                        masks, persons, comps, expiry, nulls, levels,
                    );
                }
            }
        }
        acc.flush(masks);
    }
}

impl Classify<'_> {
    /// [`Self::expanded`] for each shape of the holding columns (expiries with nulls, read
    /// through `nulls`, or without; levels or none), monomorphised: this loop is the scorer's
    /// hot path.
    fn expanded_in<I: BulkId, F: Fn(usize) -> i32, const W: usize>(
        &self,
        masks: &mut [[u64; 2]],
        persons: &[I],
        comps: &[I],
        expiry: &[i32],
        nulls: Option<F>,
        levels: Option<&[u8]>,
    ) {
        let at = |k: usize| expiry[k];
        match (nulls, levels) {
            (None, None) => self.expanded::<I, W>(masks, persons, comps, at, |_| 0),
            (None, Some(l)) => self.expanded::<I, W>(masks, persons, comps, at, |k| l[k]),
            (Some(f), None) => self.expanded::<I, W>(masks, persons, comps, f, |_| 0),
            (Some(f), Some(l)) => self.expanded::<I, W>(masks, persons, comps, f, |k| l[k]),
        }
    }

    /// The holdings of `persons` and `comps` (expiring on `expiry(k)`, at level rank `rank(k)`)
    /// under [`plan::Fills::Expanded`]: each fills the bits of its competency and of those it
    /// satisfies, at the minimums its level meets. A person's first `W` words are gathered in
    /// registers (their holdings come together) and written out when the person changes.
    #[inline(always)]
    fn expanded<I: BulkId, const W: usize>(
        &self,
        masks: &mut [[u64; 2]],
        persons: &[I],
        comps: &[I],
        expiry: impl Fn(usize) -> i32,
        rank: impl Fn(usize) -> u8,
    ) {
        let plan::Fills::Expanded {
            held,
            ranks,
            first,
            masks: more,
            ..
        } = self.fills
        else {
            return;
        };
        let top = ranks - 1;
        let mut acc = PersonAcc::<W> {
            person: usize::MAX,
            bits: [[0; 2]; W],
        };
        for (k, (p, c)) in persons.iter().zip(comps).enumerate() {
            let Some(p) = self.people.get(p.to_i64()) else {
                continue;
            };
            let Some(hs) = held.get(c.to_i64()) else {
                continue;
            };
            let at = hs as usize * ranks + usize::from(rank(k)).min(top);
            let Some(&(word, bits)) = first.get(at) else {
                continue;
            };
            let e = expiry(k);
            let valid = u64::from(is_valid_on(&e, &self.as_of)).wrapping_neg();
            let green = u64::from(lasts_beyond(&e, &self.last_amber)).wrapping_neg();
            let p = p as usize;
            if p != acc.person {
                acc.flush(masks, self.words);
                acc = PersonAcc {
                    person: p,
                    bits: [[0; 2]; W],
                };
            }
            self.mark_person(masks, &mut acc, word & !plan::MORE, bits, valid, green);
            if word & plan::MORE != 0 {
                for &(word, bits) in more.get(at) {
                    self.mark_person(masks, &mut acc, word, bits, valid, green);
                }
            }
        }
        acc.flush(masks, self.words);
    }
}

/// Words of one person gathered at once by [`Classify::expanded`], at most.
const PERSON_WORDS: usize = 4;

/// The person being filled, and the bits of their first `W` words so far.
struct PersonAcc<const W: usize> {
    person: usize,
    bits: [[u64; 2]; W],
}

impl<const W: usize> PersonAcc<W> {
    #[inline(always)]
    fn flush(&self, masks: &mut [[u64; 2]], words: usize) {
        if self.person == usize::MAX {
            return;
        }
        let base = self.person.wrapping_mul(words);
        for (w, b) in self.bits.iter().enumerate().take(words) {
            if let Some(m) = masks.get_mut(base.wrapping_add(w)) {
                m[0] |= b[0];
                m[1] |= b[1];
            }
        }
    }
}

/// The word being filled, and its bits so far.
struct Acc {
    word: usize,
    bits: [u64; 2],
}

impl Acc {
    #[inline(always)]
    fn flush(&self, masks: &mut [[u64; 2]]) {
        if let Some(m) = masks.get_mut(self.word) {
            m[0] |= self.bits[0];
            m[1] |= self.bits[1];
        }
    }
}

impl Classify<'_> {
    /// One bit per competency, no levels: the three-table call's path.
    #[inline(always)]
    fn mark_direct<I: BulkId>(&self, masks: &mut [[u64; 2]], acc: &mut Acc, p: I, c: I, e: i32) {
        let (Some(p), Some(c)) = (self.people.get(p.to_i64()), self.comps.get(c.to_i64())) else {
            return;
        };
        self.mark(masks, acc, p, c, e, true);
    }

    /// Sets the `bits` of word `word` of the person in `acc` in the "valid" words where `valid`
    /// (all ones or none: [`is_valid_on`]) and in the "green" ones where `green`
    /// ([`lasts_beyond`]).
    #[inline(always)]
    fn mark_person<const W: usize>(
        &self,
        masks: &mut [[u64; 2]],
        acc: &mut PersonAcc<W>,
        word: u32,
        bits: u64,
        valid: u64,
        green: u64,
    ) {
        let (valid, green) = (bits & valid, bits & green);
        if (word as usize) < W {
            // Every word, masked, rather than one indexed: the words stay in registers
            // instead of a read-modify-write through memory for each holding.
            for (w, b) in acc.bits.iter_mut().enumerate() {
                let hit = u64::from(w == word as usize).wrapping_neg();
                b[0] |= valid & hit;
                b[1] |= green & hit;
            }
        } else if let Some(m) = masks.get_mut(acc.person * self.words + word as usize) {
            m[0] |= valid;
            m[1] |= green;
        }
    }

    /// Sets `bit` of person `p` by the service's rules ([`is_valid_on`], [`lasts_beyond`]).
    #[inline(always)]
    fn mark(&self, masks: &mut [[u64; 2]], acc: &mut Acc, p: u32, bit: u32, e: i32, meets: bool) {
        let b = 1u64 << (bit % 64);
        // Branch-free: expiries are as likely one side of the dates as the other.
        let valid = meets & is_valid_on(&e, &self.as_of);
        let green = meets & lasts_beyond(&e, &self.last_amber);
        let valid = b & u64::from(valid).wrapping_neg();
        let green = b & u64::from(green).wrapping_neg();
        let word = p as usize * self.words + bit as usize / 64;
        if word != acc.word {
            acc.flush(masks);
            *acc = Acc { word, bits: [0, 0] };
        }
        acc.bits[0] |= valid;
        acc.bits[1] |= green;
    }
}

struct Score<'a, I> {
    people: &'a IdMap,
    plan: &'a plan::Plan<I>,
    words: usize,
    masks: &'a [[u64; 2]],
}

struct OutRows<'a> {
    req: &'a mut [u32],
    gr: &'a mut [u32],
    am: &'a mut [u32],
    rd: &'a mut [u32],
    pc: &'a mut [f64],
    pv: &'a mut [bool],
}

impl<I: BulkId> Score<'_, I> {
    fn run(&self, lo: usize, persons: &[I], positions: &[I], out: OutRows<'_>) {
        let w = self.words;
        for (i, (p, pos)) in persons.iter().zip(positions).enumerate() {
            let Some(prof) = self.plan.profile(lo + i, *pos) else {
                continue;
            };
            let req = &self.plan.essential[prof as usize * w..prof as usize * w + w];
            let p = self.people.get(p.to_i64()).unwrap_or(0) as usize;
            let masks = self.masks.get(p * w..p * w + w).unwrap_or(&[]);
            let (mut nreq, mut ng, mut nv) = (0u32, 0u32, 0u32);
            for (k, r) in req.iter().enumerate() {
                let [v, g] = masks.get(k).copied().unwrap_or([0, 0]);
                let (v, g) = (v & r, g & r);
                nreq += r.count_ones();
                nv += v.count_ones();
                ng += g.count_ones();
            }
            out.req[i] = nreq;
            out.gr[i] = ng;
            out.am[i] = nv - ng;
            out.rd[i] = nreq - nv;
            if let Some(pc) = compliance_percent(nv, nreq) {
                out.pc[i] = pc;
                out.pv[i] = true;
            }
        }
    }
}

/// A fast hasher for integer keys (Fibonacci hashing): the default SipHash is several times
/// slower, and ids are not attacker-chosen keys for a map that lives for one call.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_i64(&mut self, v: i64) {
        self.0 = (self.0 ^ v as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(26);
    }
    fn write_u32(&mut self, v: u32) {
        self.write_i64(i64::from(v));
    }
}

/// Ids to dense slots 0..len, in order of first appearance.
enum IdMap {
    Dense {
        min: i64,
        slots: Vec<u32>,
        len: usize,
    },
    Sparse(HashMap<i64, u32, BuildHasherDefault<IdHasher>>),
}

const NO_SLOT: u32 = u32::MAX;

impl IdMap {
    fn build(ids: impl Iterator<Item = i64> + Clone) -> Self {
        let (mut min, mut max, mut n) = (i64::MAX, i64::MIN, 0usize);
        for id in ids.clone() {
            min = min.min(id);
            max = max.max(id);
            n += 1;
        }
        let range = (i128::from(max) - i128::from(min) + 1).max(0);
        let dense_limit = (4 * n as i128).max(1 << 16);
        if n == 0 || (range <= dense_limit && range < i128::from(NO_SLOT)) {
            let mut slots = vec![NO_SLOT; if n == 0 { 0 } else { range as usize }];
            let mut len = 0usize;
            for id in ids {
                let s = &mut slots[(id - min) as usize];
                if *s == NO_SLOT {
                    *s = len as u32;
                    len += 1;
                }
            }
            Self::Dense { min, slots, len }
        } else {
            let mut map: HashMap<i64, u32, BuildHasherDefault<IdHasher>> = HashMap::default();
            for id in ids {
                let next = map.len() as u32;
                map.entry(id).or_insert(next);
            }
            Self::Sparse(map)
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Dense { len, .. } => *len,
            Self::Sparse(m) => m.len(),
        }
    }

    #[inline]
    fn get(&self, id: i64) -> Option<u32> {
        match self {
            Self::Dense { min, slots, .. } => {
                // Ids below `min` wrap to huge offsets and fail the length check.
                let i = id.wrapping_sub(*min) as u64;
                if i >= slots.len() as u64 {
                    return None;
                }
                slots.get(i as usize).copied().filter(|s| *s != NO_SLOT)
            }
            Self::Sparse(m) => m.get(&id).copied(),
        }
    }
}

mod plan;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
