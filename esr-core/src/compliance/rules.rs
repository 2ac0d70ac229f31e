//! The compliance rules, as pure functions over dates: the status of a row, the percentage of an
//! assignment, the summary across a person's assignments, the rows an assignment has, and the
//! roll-ups by organisation unit and by competence.
//!
//! # The rules (DOMAIN.md)
//! As of a date D, with an amber window of M calendar months (3 by default):
//! - **Red**: essential and not held, or held with an expiry before D (a record is valid
//!   through its expiry date);
//! - **Amber**: held with an expiry from D to D + M months, both ends included (month-end
//!   clamped: 30 Nov + 3 months is 28 or 29 Feb);
//! - **Green**: held with a later expiry, or none;
//! - **Blue**: held but not required.
//!
//! The percentage of an assignment is its essential rows that are Green or Amber over its
//! essential rows; with no essential rows there is no percentage (never 100, never NaN).

use crate::compliance::{CompetenceLevel, CompetenceName, CompetenceRecord, Equivalence};
use crate::compliance::{Requirement, RequirementTarget};
use crate::error::{Error, Result};
use crate::org::Trust;
use crate::people::Assignment;
use crate::values::{AssignmentNumber, EmployeeNumber, OrgUnitId};
use chrono::{Months, NaiveDate};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The colour of a compliance row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ComplianceStatus {
    /// Essential and not held, or expired.
    Red,
    /// Expiring within the amber window.
    Amber,
    /// Valid beyond the amber window, or never expiring.
    Green,
    /// Held but not required.
    Blue,
}

impl ComplianceStatus {
    /// Whether the row counts as compliant (Green or Amber).
    pub fn is_compliant(self) -> bool {
        matches!(self, Self::Green | Self::Amber)
    }
}

impl fmt::Display for ComplianceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Red => "Red",
            Self::Amber => "Amber",
            Self::Green => "Green",
            Self::Blue => "Blue",
        })
    }
}

/// Whether, and until when, a competence is held. Ordered from worst to best: not held, then
/// by expiry, then never expiring (the latest counts: [`Holding::latest`] is the maximum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Holding {
    /// No record.
    NotHeld,
    /// Held, valid through this date.
    Expires(NaiveDate),
    /// Held, never expiring.
    NeverExpires,
}

impl Holding {
    /// From a record's expiry.
    pub fn from_expiry(expiry: Option<NaiveDate>) -> Self {
        expiry.map_or(Self::NeverExpires, Self::Expires)
    }

    /// The better of two holdings: the latest expiry counts, and never expiring beats any date.
    pub fn latest(self, other: Self) -> Self {
        self.max(other)
    }

    /// The expiry, if held with one.
    pub fn expiry(self) -> Option<NaiveDate> {
        match self {
            Self::Expires(d) => Some(d),
            _ => None,
        }
    }
}

/// How a competence is needed by an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Need {
    /// Required and essential: counts towards the percentage.
    Essential,
    /// Required but not essential: shown, never counted.
    Desirable,
    /// Not required at all.
    #[default]
    NotRequired,
}

/// The amber window: how many calendar months before expiry a row turns Amber (3 in ESR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
// Read through `AmberWindow::months`, so that deserialising checks the range as constructing does.
#[cfg_attr(feature = "serde", serde(try_from = "u32", into = "u32"))]
pub struct AmberWindow(u32);

impl TryFrom<u32> for AmberWindow {
    type Error = Error;
    fn try_from(months: u32) -> Result<Self> {
        Self::months(months)
    }
}

impl From<AmberWindow> for u32 {
    fn from(w: AmberWindow) -> u32 {
        w.0
    }
}

impl AmberWindow {
    /// The most months the window may span.
    pub const MAX_MONTHS: u32 = 120;
    /// ESR's window: 3 months.
    pub const ESR: AmberWindow = AmberWindow(3);

    /// A window of `months` (0 to 120; 0 means nothing is ever Amber).
    pub fn months(months: u32) -> Result<Self> {
        if months > Self::MAX_MONTHS {
            return Err(Error::invalid(
                "amber window",
                format!(
                    "{months} months is more than {}; give 0 to {} (ESR uses 3)",
                    Self::MAX_MONTHS,
                    Self::MAX_MONTHS
                ),
            ));
        }
        Ok(Self(months))
    }

    /// Its length in months.
    pub fn len_months(self) -> u32 {
        self.0
    }

    /// The last day of the window opened on `as_of`: `as_of` plus the months, clamped to the
    /// month's end; the calendar's last day if that lies beyond it.
    pub fn last_day(self, as_of: NaiveDate) -> NaiveDate {
        as_of
            .checked_add_months(Months::new(self.0))
            .unwrap_or(NaiveDate::MAX)
    }
}

impl Default for AmberWindow {
    fn default() -> Self {
        Self::ESR
    }
}

/// A trust's compliance settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ComplianceSettings {
    /// The percentage compliant the trust reports against, 0 to 100 (default 90).
    pub target_percent: u8,
    /// The amber window (default 3 months, as ESR).
    pub amber_window: AmberWindow,
}

impl Default for ComplianceSettings {
    fn default() -> Self {
        Self {
            target_percent: 90,
            amber_window: AmberWindow::ESR,
        }
    }
}

impl ComplianceSettings {
    /// Checks the target is a percentage.
    pub fn check(&self) -> Result<()> {
        if self.target_percent > 100 {
            return Err(Error::invalid(
                "compliance target",
                format!(
                    "{}% is not a percentage; give 0 to 100",
                    self.target_percent
                ),
            ));
        }
        Ok(())
    }
}

/// Whether a record expiring on `expiry` is still valid on `as_of` (valid through its expiry
/// date). Generic over the expiry's representation, so that the service (dates, [`Holding`]) and
/// the bulk scorer (days since 1970, "never" the largest) apply the one rule; "never expires"
/// must order after every date.
#[inline(always)]
pub fn is_valid_on<E: PartialOrd>(expiry: &E, as_of: &E) -> bool {
    expiry >= as_of
}

/// Whether a record expiring on `expiry` lasts beyond the amber window's last day (Green).
#[inline(always)]
pub fn lasts_beyond<E: PartialOrd>(expiry: &E, last_amber: &E) -> bool {
    expiry > last_amber
}

/// Whether a record at level `rank` meets a requirement's minimum level `min_rank` (0: any).
#[inline(always)]
pub fn meets_minimum(rank: u8, min_rank: u8) -> bool {
    rank >= min_rank
}

/// The colour of a required record from the two facts the bulk scorer keeps as bits: whether it
/// counts as valid (not expired, level met) and whether it lasts beyond the amber window.
#[inline(always)]
pub fn status_from(valid: bool, green: bool) -> ComplianceStatus {
    match (valid, green) {
        (false, _) => ComplianceStatus::Red,
        (true, false) => ComplianceStatus::Amber,
        (true, true) => ComplianceStatus::Green,
    }
}

/// Why a required row is Red.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RedReason {
    /// No record of the competence or of any equivalent.
    NotHeld,
    /// The record that counts expired before the date.
    Expired,
    /// Every record is below the requirement's minimum level (the row shows the latest of them).
    BelowMinimumLevel,
}

impl fmt::Display for RedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotHeld => "not held",
            Self::Expired => "expired",
            Self::BelowMinimumLevel => "below the minimum level",
        })
    }
}

/// The one status rule for a row, for both the service and the bulk scorer: `held` is the
/// expiry of the record that counts (see [`choose_holding`]) and whether it meets the minimum
/// level, `None` when nothing is held; expiries of type `E` order "never" after every date.
///
/// - essential, not held → Red (not held); desirable, not held → no colour;
/// - required, held below the minimum level → Red (below the minimum level);
/// - required, held → Red (expired) before `as_of`, Amber through `last_amber`, Green after;
/// - not required, held → Blue (levels do not matter).
#[inline(always)]
pub fn status_of<E: PartialOrd>(
    need: Need,
    held: Option<(&E, bool)>,
    as_of: &E,
    last_amber: &E,
) -> (Option<ComplianceStatus>, Option<RedReason>) {
    use ComplianceStatus::Red;
    match (need, held) {
        (Need::Essential, None) => (Some(Red), Some(RedReason::NotHeld)),
        (Need::Desirable | Need::NotRequired, None) => (None, None),
        (Need::NotRequired, Some(_)) => (Some(ComplianceStatus::Blue), None),
        (Need::Essential | Need::Desirable, Some((e, meets))) => {
            let valid = is_valid_on(e, as_of);
            let s = status_from(valid && meets, lasts_beyond(e, last_amber));
            let reason = match (s, meets) {
                (Red, false) => Some(RedReason::BelowMinimumLevel),
                (Red, true) => Some(RedReason::Expired),
                _ => None,
            };
            (Some(s), reason)
        }
    }
}

/// The record that counts for a requirement, from its candidates (the records of the
/// competence and of every equivalent), each with its ordering key (the latest expiry is the
/// largest), whether it meets the minimum level, and what the caller wants back. The latest of
/// those that meet the level; when none does, the latest of the rest (the row is then Red,
/// below the minimum level). The first of equal keys wins.
#[inline]
pub fn choose_holding<K: Ord, T>(
    candidates: impl IntoIterator<Item = (K, bool, T)>,
) -> Option<(K, bool, T)> {
    let mut best: Option<(K, bool, T)> = None;
    for c in candidates {
        let better = match &best {
            None => true,
            Some(b) => (c.1, &c.0) > (b.1, &b.0),
        };
        if better {
            best = Some(c);
        }
    }
    best
}

/// What an assignment needs of one competence once every requirement that applies is merged:
/// essential if any says so, and the strictest minimum level any names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Needed {
    /// Essential or desirable.
    pub need: Need,
    /// The least level rank that satisfies it (0: any).
    pub min_rank: u8,
}

impl Needed {
    /// One requirement's need.
    #[inline]
    pub fn of(essential: bool, min_rank: u8) -> Self {
        let need = if essential {
            Need::Essential
        } else {
            Need::Desirable
        };
        Self { need, min_rank }
    }

    /// Two requirements of the same competence that both apply, merged.
    #[inline]
    pub fn merge(self, other: Self) -> Self {
        Self {
            need: self.need.min(other.need),
            min_rank: self.min_rank.max(other.min_rank),
        }
    }
}

/// For each competence, every other competence whose holding satisfies it, from the pairs
/// (held, satisfies): equivalences chain transitively, and a cycle makes its members satisfy
/// each other. Generic over the key, so the service (names) and the bulk scorer (ids) resolve
/// equivalences by the one rule.
pub fn equivalence_closure<K: Ord + Clone>(
    pairs: impl IntoIterator<Item = (K, K)>,
) -> BTreeMap<K, BTreeSet<K>> {
    let mut direct: BTreeMap<K, Vec<K>> = BTreeMap::new();
    for (held, satisfies) in pairs {
        direct.entry(held).or_default().push(satisfies);
    }
    let mut satisfied_by: BTreeMap<K, BTreeSet<K>> = BTreeMap::new();
    for (held, first) in &direct {
        let mut stack: Vec<&K> = first.iter().collect();
        let mut reached: BTreeSet<&K> = BTreeSet::new();
        while let Some(c) = stack.pop() {
            if reached.insert(c)
                && let Some(next) = direct.get(c)
            {
                stack.extend(next.iter());
            }
        }
        for c in reached {
            if c != held {
                satisfied_by
                    .entry(c.clone())
                    .or_default()
                    .insert(held.clone());
            }
        }
    }
    satisfied_by
}

/// The status of a record that is held, as of `as_of`: Red if it expired before `as_of`, Amber
/// if it expires from `as_of` to the window's last day (both included), Green if later or never.
pub fn expiry_status(
    expiry: Option<NaiveDate>,
    as_of: NaiveDate,
    window: AmberWindow,
) -> ComplianceStatus {
    let (s, _) = status_of(
        Need::Essential,
        Some((&Holding::from_expiry(expiry), true)),
        &Holding::Expires(as_of),
        &Holding::Expires(window.last_day(as_of)),
    );
    s.unwrap_or(ComplianceStatus::Red)
}

/// The status of one row as of `as_of`. `None` for a desirable competence not held, and for one
/// neither required nor held: such a row has no colour.
///
/// - essential, not held → Red;
/// - required (essential or desirable), held → [`expiry_status`];
/// - not required, held → Blue.
///
/// ```
/// use esr_core::chrono::NaiveDate;
/// use esr_core::compliance::{AmberWindow, ComplianceStatus, Holding, Need, row_status};
/// let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
/// let as_of = day(2018, 7, 25);
/// let status = |h| row_status(Need::Essential, h, as_of, AmberWindow::ESR);
/// assert_eq!(status(Holding::Expires(day(2018, 8, 12))), Some(ComplianceStatus::Amber));
/// assert_eq!(status(Holding::Expires(day(2018, 7, 12))), Some(ComplianceStatus::Red));
/// assert_eq!(status(Holding::NotHeld), Some(ComplianceStatus::Red));
/// assert_eq!(status(Holding::NeverExpires), Some(ComplianceStatus::Green));
/// ```
pub fn row_status(
    need: Need,
    holding: Holding,
    as_of: NaiveDate,
    window: AmberWindow,
) -> Option<ComplianceStatus> {
    let held = (holding != Holding::NotHeld).then_some((&holding, true));
    status_of(
        need,
        held,
        &Holding::Expires(as_of),
        &Holding::Expires(window.last_day(as_of)),
    )
    .0
}

/// Counts of essential rows by colour, and the percentage they make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ComplianceCounts {
    /// Essential rows.
    pub essential: u32,
    /// Of which Green.
    pub green: u32,
    /// Of which Amber.
    pub amber: u32,
    /// Of which Red.
    pub red: u32,
}

impl ComplianceCounts {
    /// Counts one essential row of this status (Blue is never essential and is ignored).
    pub fn add(&mut self, status: ComplianceStatus) {
        match status {
            ComplianceStatus::Green => self.green += 1,
            ComplianceStatus::Amber => self.amber += 1,
            ComplianceStatus::Red => self.red += 1,
            ComplianceStatus::Blue => return,
        }
        self.essential += 1;
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, other: &Self) {
        self.essential += other.essential;
        self.green += other.green;
        self.amber += other.amber;
        self.red += other.red;
    }

    /// Rows that are Green or Amber.
    pub fn compliant(&self) -> u32 {
        self.green + self.amber
    }

    /// The percentage compliant: Green or Amber over essential, from 0 to 100. `None` when there
    /// are no essential rows.
    pub fn percent(&self) -> Option<f64> {
        compliance_percent(self.compliant(), self.essential)
    }
}

/// `compliant / essential` as a percentage; `None` when `essential` is 0 (not 100, not NaN).
#[inline]
pub fn compliance_percent(compliant: u32, essential: u32) -> Option<f64> {
    (essential > 0).then(|| f64::from(compliant.min(essential)) * 100.0 / f64::from(essential))
}

/// Formats a percentage as ESR does (`90.0%`), or `n/a` when there is none.
pub fn format_percent(p: Option<f64>) -> String {
    p.map_or_else(|| "n/a".to_owned(), |p| format!("{p:.1}%"))
}

/// One row of the Compliance and Competency page.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ComplianceRow {
    /// The competence.
    pub competence: CompetenceName,
    /// How the assignment needs it.
    pub need: Need,
    /// The record that counts (latest expiry), if held.
    pub holding: Holding,
    /// The level of the record that counts.
    pub level: Option<CompetenceLevel>,
    /// The competence actually held, when an equivalent one satisfies this row.
    pub satisfied_by: Option<CompetenceName>,
    /// Its colour; `None` for a desirable competence not held.
    pub status: Option<ComplianceStatus>,
    /// The least level that satisfies the requirement ("Min Req"), when one is set.
    pub min_level: Option<CompetenceLevel>,
    /// Why the row is Red (`None` unless it is).
    pub reason: Option<RedReason>,
}

impl ComplianceRow {
    /// Whether the row is required (essential or desirable): what "Required Competencies Only"
    /// keeps.
    pub fn is_required(&self) -> bool {
        self.need != Need::NotRequired
    }
}

/// One assignment's compliance as of a date.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AssignmentCompliance {
    /// The assignment.
    pub assignment: AssignmentNumber,
    /// Its title.
    pub title: String,
    /// Its organisation unit.
    pub org_unit: OrgUnitId,
    /// The date the statuses are for.
    pub as_of: NaiveDate,
    /// Required rows first (by competence name), then the Blue ones.
    pub rows: Vec<ComplianceRow>,
    /// The counts of essential rows.
    pub counts: ComplianceCounts,
}

impl AssignmentCompliance {
    /// The percentage (`None` with no essential requirements).
    pub fn percent(&self) -> Option<f64> {
        self.counts.percent()
    }

    /// Only the required rows (the "Required Competencies Only" tick box).
    pub fn required_only(&self) -> impl Iterator<Item = &ComplianceRow> {
        self.rows.iter().filter(|r| r.is_required())
    }

    /// The rows that are Amber or Red: what Team Compliance flags.
    pub fn flagged(&self) -> impl Iterator<Item = &ComplianceRow> {
        self.rows.iter().filter(|r| {
            matches!(
                r.status,
                Some(ComplianceStatus::Amber | ComplianceStatus::Red)
            )
        })
    }
}

/// A person's compliance: one entry per assignment and a summary across them.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PersonCompliance {
    /// The person.
    pub employee_number: EmployeeNumber,
    /// The date the statuses are for.
    pub as_of: NaiveDate,
    /// Each assignment, by number.
    pub assignments: Vec<AssignmentCompliance>,
    /// The summary across assignments (see [`summarise`]).
    pub summary: ComplianceCounts,
}

impl PersonCompliance {
    /// The summary percentage.
    pub fn percent(&self) -> Option<f64> {
        self.summary.percent()
    }
}

/// The summary across a person's assignments: each competence essential to **any** of the
/// assignments counts once, with its status from the person's holdings. A competence two
/// assignments both need is one row, not two, so a person's summary is the share of everything
/// they must hold that they hold validly. With no essential competence at all there is no
/// percentage.
pub fn summarise(assignments: &[AssignmentCompliance]) -> ComplianceCounts {
    let mut seen: BTreeMap<&CompetenceName, ComplianceStatus> = BTreeMap::new();
    for a in assignments {
        for r in &a.rows {
            if r.need == Need::Essential
                && let Some(s) = r.status
            {
                seen.entry(&r.competence).or_insert(s);
            }
        }
    }
    let mut c = ComplianceCounts::default();
    for s in seen.into_values() {
        c.add(s);
    }
    c
}

/// The trust's compliance configuration: what each assignment needs, what counts as what, and
/// the target and window it reports against. Built once and used for many people.
#[derive(Debug, Clone)]
pub struct ComplianceRules {
    trust: Trust,
    requirements: Vec<Requirement>,
    /// For each competence, every competence whose holding satisfies it (itself included).
    satisfied_by: BTreeMap<CompetenceName, BTreeSet<CompetenceName>>,
    window: AmberWindow,
}

impl ComplianceRules {
    /// Rules from a trust's requirements and equivalences. Equivalences chain transitively; a
    /// cycle simply makes its members satisfy each other ([`equivalence_closure`]).
    pub fn new(
        trust: Trust,
        requirements: Vec<Requirement>,
        equivalences: &[Equivalence],
        window: AmberWindow,
    ) -> Self {
        let satisfied_by = equivalence_closure(
            equivalences
                .iter()
                .map(|e| (e.held.clone(), e.satisfies.clone())),
        );
        Self {
            trust,
            requirements,
            satisfied_by,
            window,
        }
    }

    /// The amber window.
    pub fn window(&self) -> AmberWindow {
        self.window
    }

    /// The trust.
    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    /// The competences that satisfy a requirement for `c`, other than `c` itself.
    pub fn equivalents_of(&self, c: &CompetenceName) -> impl Iterator<Item = &CompetenceName> {
        self.satisfied_by.get(c).into_iter().flatten()
    }

    /// What an assignment needs: each competence once, essential if any requirement that applies
    /// says so. Requirements apply by position, by organisation unit (the assignment's or any
    /// above it) and by job title.
    pub fn needs_of(&self, a: &Assignment) -> BTreeMap<CompetenceName, Need> {
        self.needs_with_levels_of(a)
            .into_iter()
            .map(|(c, (n, _))| (c, n.need))
            .collect()
    }

    /// [`Self::needs_of`] with the strictest minimum level of the requirements that apply
    /// ([`Needed::merge`]), and that level as named.
    pub fn needs_with_levels_of(
        &self,
        a: &Assignment,
    ) -> BTreeMap<CompetenceName, (Needed, Option<CompetenceLevel>)> {
        let units = self.trust.ancestry(&a.org_unit);
        let mut out: BTreeMap<CompetenceName, (Needed, Option<CompetenceLevel>)> = BTreeMap::new();
        for r in &self.requirements {
            let applies = match &r.target {
                RequirementTarget::Position(p) => *p == a.position,
                RequirementTarget::OrgUnit(u) => units.contains(u),
                RequirementTarget::Job(j) => *j == a.title,
            };
            if !applies {
                continue;
            }
            let needed = Needed::of(r.essential, r.min_level.as_ref().map_or(0, |l| l.rank()));
            match out.entry(r.competence.clone()) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert((needed, r.min_level.clone()));
                }
                std::collections::btree_map::Entry::Occupied(mut o) => {
                    let (was, level) = o.get_mut();
                    let merged = was.merge(needed);
                    if merged.min_rank != was.min_rank {
                        *level = r.min_level.clone();
                    }
                    *was = merged;
                }
            }
        }
        out
    }

    /// The rows of one assignment as of `as_of`, from the person's records: for each competence
    /// needed, the record that counts among those of it and of its equivalents
    /// ([`choose_holding`]), coloured by [`status_of`]; then one Blue row per competence held
    /// and not needed.
    pub fn assess(
        &self,
        a: &Assignment,
        records: &[CompetenceRecord],
        as_of: NaiveDate,
    ) -> AssignmentCompliance {
        let best = best_records(records);
        let needs = self.needs_with_levels_of(a);
        let (today, last_amber) = (
            Holding::Expires(as_of),
            Holding::Expires(self.window.last_day(as_of)),
        );
        let mut rows = Vec::new();
        let mut counts = ComplianceCounts::default();
        for (c, (needed, min_level)) in &needs {
            let candidates = records
                .iter()
                .filter(|r| r.competence == *c)
                .chain(
                    self.equivalents_of(c)
                        .flat_map(|eq| records.iter().filter(move |r| r.competence == *eq)),
                )
                .map(|r| {
                    let key = (Holding::from_expiry(r.expiry), r.achieved);
                    (key, meets_minimum(r.level.rank(), needed.min_rank), r)
                });
            let chosen = choose_holding(candidates);
            let (status, reason) = status_of(
                needed.need,
                chosen.as_ref().map(|((h, _), meets, _)| (h, *meets)),
                &today,
                &last_amber,
            );
            if needed.need == Need::Essential
                && let Some(s) = status
            {
                counts.add(s);
            }
            rows.push(ComplianceRow {
                competence: c.clone(),
                need: needed.need,
                holding: chosen
                    .as_ref()
                    .map_or(Holding::NotHeld, |((h, _), _, _)| *h),
                level: chosen.as_ref().map(|(_, _, r)| r.level.clone()),
                satisfied_by: chosen
                    .as_ref()
                    .map(|(_, _, r)| &r.competence)
                    .filter(|held| *held != c)
                    .cloned(),
                status,
                min_level: min_level.clone(),
                reason,
            });
        }
        for (c, r) in &best {
            if !needs.contains_key(*c) {
                let holding = Holding::from_expiry(r.expiry);
                rows.push(ComplianceRow {
                    competence: (*c).clone(),
                    need: Need::NotRequired,
                    holding,
                    level: Some(r.level.clone()),
                    satisfied_by: None,
                    status: status_of(
                        Need::NotRequired,
                        Some((&holding, true)),
                        &today,
                        &last_amber,
                    )
                    .0,
                    min_level: None,
                    reason: None,
                });
            }
        }
        AssignmentCompliance {
            assignment: a.number.clone(),
            title: a.title.clone(),
            org_unit: a.org_unit.clone(),
            as_of,
            rows,
            counts,
        }
    }

    /// A person's compliance across their assignments (each assessed, then [`summarise`]d).
    pub fn assess_person(
        &self,
        employee: &EmployeeNumber,
        assignments: &[Assignment],
        records: &[CompetenceRecord],
        as_of: NaiveDate,
    ) -> PersonCompliance {
        let assignments: Vec<AssignmentCompliance> = assignments
            .iter()
            .map(|a| self.assess(a, records, as_of))
            .collect();
        PersonCompliance {
            employee_number: employee.clone(),
            as_of,
            summary: summarise(&assignments),
            assignments,
        }
    }
}

/// For each competence, the record whose expiry counts (the latest; no expiry beats any date;
/// on a tie, the later achieved date).
pub fn best_records(records: &[CompetenceRecord]) -> BTreeMap<&CompetenceName, &CompetenceRecord> {
    let mut best: BTreeMap<&CompetenceName, &CompetenceRecord> = BTreeMap::new();
    for r in records {
        best.entry(&r.competence)
            .and_modify(|b| {
                let key = |x: &CompetenceRecord| (x.expiry.is_none(), x.expiry, x.achieved);
                if key(r) > key(b) {
                    *b = r;
                }
            })
            .or_insert(r);
    }
    best
}

/// A row that worsens between two dates: the answer to "who turns Amber or Red by then".
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StatusChange {
    /// The assignment.
    pub assignment: AssignmentNumber,
    /// The competence.
    pub competence: CompetenceName,
    /// Its status on the first date.
    pub from: ComplianceStatus,
    /// Its status on the second.
    pub to: ComplianceStatus,
    /// The expiry that makes it change.
    pub expiry: Option<NaiveDate>,
}

/// The required rows that turn Amber or Red between `now` and `later` (two assessments of the
/// same assignment at different dates): Green to Amber, Green to Red and Amber to Red.
pub fn worsening(now: &AssignmentCompliance, later: &AssignmentCompliance) -> Vec<StatusChange> {
    let before: BTreeMap<&CompetenceName, ComplianceStatus> = now
        .rows
        .iter()
        .filter_map(|r| r.status.map(|s| (&r.competence, s)))
        .collect();
    let rank = |s: ComplianceStatus| match s {
        ComplianceStatus::Green | ComplianceStatus::Blue => 0,
        ComplianceStatus::Amber => 1,
        ComplianceStatus::Red => 2,
    };
    later
        .rows
        .iter()
        .filter(|r| r.is_required())
        .filter_map(|r| {
            let to = r.status?;
            let from = *before.get(&r.competence)?;
            (rank(to) > rank(from)).then(|| StatusChange {
                assignment: later.assignment.clone(),
                competence: r.competence.clone(),
                from,
                to,
                expiry: r.holding.expiry(),
            })
        })
        .collect()
}

/// A roll-up line: the essential rows of many assignments, against the trust's target.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RollUp<K> {
    /// What is rolled up (an organisation unit, a competence).
    pub key: K,
    /// Assignments counted.
    pub assignments: u32,
    /// The essential rows and their colours.
    pub counts: ComplianceCounts,
    /// The trust's target percentage.
    pub target: u8,
}

impl<K> RollUp<K> {
    /// The percentage compliant, `None` with no essential rows.
    pub fn percent(&self) -> Option<f64> {
        self.counts.percent()
    }
    /// Whether the percentage reaches the target (`None` with no essential rows).
    pub fn meets_target(&self) -> Option<bool> {
        self.percent().map(|p| p + 1e-9 >= f64::from(self.target))
    }
}

/// Rolls assignment results up per organisation unit (each assignment counts in its unit and in
/// every unit above it) and per competence (over every essential row of that competence).
pub fn roll_up(
    trust: &Trust,
    results: &[AssignmentCompliance],
    target: u8,
) -> (Vec<RollUp<OrgUnitId>>, Vec<RollUp<CompetenceName>>) {
    let mut units: BTreeMap<OrgUnitId, (u32, ComplianceCounts)> = BTreeMap::new();
    let mut subjects: BTreeMap<CompetenceName, (u32, ComplianceCounts)> = BTreeMap::new();
    for a in results {
        for u in trust.ancestry(&a.org_unit) {
            let e = units.entry(u).or_default();
            e.0 += 1;
            e.1.merge(&a.counts);
        }
        for r in &a.rows {
            if r.need == Need::Essential
                && let Some(s) = r.status
            {
                let e = subjects.entry(r.competence.clone()).or_default();
                e.0 += 1;
                e.1.add(s);
            }
        }
    }
    fn make<K>(target: u8) -> impl Fn((K, (u32, ComplianceCounts))) -> RollUp<K> {
        move |(key, (assignments, counts))| RollUp {
            key,
            assignments,
            counts,
            target,
        }
    }
    (
        units.into_iter().map(make(target)).collect(),
        subjects.into_iter().map(make(target)).collect(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
