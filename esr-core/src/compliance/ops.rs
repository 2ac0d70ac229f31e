//! The service's compliance operations: the catalogue, requirements, equivalences and settings a
//! trust configures; recording and importing competence records; My Compliance, Team Compliance,
//! the trust's roll-ups and the compliance matrix.
//!
//! "Today" is the date in the United Kingdom at the injected clock's instant
//! ([`crate::values::uk_date`]).

use crate::access::{AccessDecision, decide};
use crate::audit::{AuditActor, AuditEvent};
use crate::compliance::{
    AssignmentCompliance, ComplianceCounts, ComplianceRules, ComplianceSettings, PersonCompliance,
    RollUp, roll_up,
};
use crate::compliance::{
    CompetenceDefinition, CompetenceName, CompetenceOwner, CompetenceRecord, Equivalence,
    NewCompetenceRecord, RecordExpiry, Requirement, RequirementTarget, default_catalogue,
};
use crate::compliance::{
    ExportRow, ImportOptions, ImportProblem, ImportProblems, ImportSummary, compliance_matrix_csv,
    parse_export_rows,
};
use crate::error::{Error, Result};
use crate::people::Assignment;
use crate::people::PersonName;
use crate::people::*;
use crate::service::permitted;
use crate::service::{
    Actor, Esr, audit, authorise, context, person_of, session_context, trust_of, user_actor,
};
use crate::store::{Store, StoreTx};
use crate::urp::Function;
use crate::values::Clock;
use crate::values::add_months;
use crate::values::format_esr_date;
use crate::values::uk_date;
use crate::values::{AssignmentNumber, EmployeeNumber, OrgUnitId, SessionId, VpdCode};
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One member of a manager's team, with the compliance of the assignment that reports into the
/// manager's line.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TeamComplianceMember {
    /// The member's assignment.
    pub assignment: Assignment,
    /// The member's name.
    pub name: PersonName,
    /// 1 for a direct report, 2 for a report's report, and so on.
    pub depth: u32,
    /// That assignment's compliance: its percentage, and its Amber and Red rows through
    /// [`AssignmentCompliance::flagged`].
    pub compliance: AssignmentCompliance,
}

/// The Team Compliance portlet: a manager's team and each member's compliance as of a date.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TeamCompliance {
    /// The date the statuses are for.
    pub as_of: NaiveDate,
    /// The members, nearest first, then by name.
    pub members: Vec<TeamComplianceMember>,
}

/// The trust's compliance roll-ups against its target.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ComplianceReport {
    /// The date the statuses are for.
    pub as_of: NaiveDate,
    /// The trust's target percentage.
    pub target: u8,
    /// Every assignment's essential rows together.
    pub trust: ComplianceCounts,
    /// Per organisation unit (each unit including the units below it), by unit code.
    pub by_unit: Vec<RollUp<OrgUnitId>>,
    /// Per competence (subject), by name.
    pub by_competence: Vec<RollUp<CompetenceName>>,
}

impl<S: Store, C: Clock> Esr<S, C> {
    /// Today in the United Kingdom, from the injected clock: the default "as of" date.
    pub fn uk_today(&self) -> NaiveDate {
        uk_date(self.clock.now())
    }

    // ----- configuration -----------------------------------------------------------------

    /// The trust's competence catalogue: the national default ([`default_catalogue`]) overlaid
    /// with the trust's own definitions, retired ones included (`active: false`), by name.
    pub fn competence_catalogue(&self, vpd: VpdCode) -> Result<Vec<CompetenceDefinition>> {
        crate::store::read_mostly(&self.store, |tx| {
            trust_of(tx, vpd)?;
            Ok(catalogue_in(tx, vpd)?.into_values().collect())
        })
    }

    /// Adds a local competence, or overrides a national one (its refresher period, or retiring it
    /// with `active: false`), for this trust (needs Learning administration). A local competence
    /// must belong to this trust.
    pub fn define_competence(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        definition: CompetenceDefinition,
    ) -> Result<()> {
        definition.check()?;
        if let CompetenceOwner::Local(owner) = definition.name.owner()
            && owner != vpd
        {
            return Err(Error::CrossTrust {
                what: format!("competence {}", definition.name),
                expected: vpd,
                found: owner,
            });
        }
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::AdministerLearning, now)?;
            trust_of(tx, vpd)?;
            tx.put_competence_definition(vpd, &definition)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::CompetenceDefined {
                    competence: definition.name.to_string(),
                    refresher: definition
                        .refresher_months
                        .map_or_else(|| "none".to_owned(), |m| format!("{m} months")),
                    active: definition.active,
                },
            )
        })
    }

    /// Requires a competence of a position, organisation unit or job, essential or not
    /// (needs Learning administration); setting it again changes whether it is essential.
    pub fn set_requirement(&self, actor: &Actor, requirement: Requirement) -> Result<()> {
        requirement.check()?;
        let vpd = requirement.vpd;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::AdministerLearning, now)?;
            let trust = trust_of(tx, vpd)?;
            if let RequirementTarget::OrgUnit(u) = &requirement.target {
                trust.org_unit(u)?;
            }
            active_competence(tx, vpd, &requirement.competence)?;
            tx.put_requirement(&requirement)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::RequirementChanged {
                    target: requirement.target.to_string(),
                    competence: requirement.competence.to_string(),
                    change: if requirement.essential {
                        "essential"
                    } else {
                        "desirable"
                    }
                    .to_owned(),
                },
            )
        })
    }

    /// Removes a requirement (needs Learning administration).
    pub fn remove_requirement(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        target: &RequirementTarget,
        competence: &CompetenceName,
    ) -> Result<()> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::AdministerLearning, now)?;
            trust_of(tx, vpd)?;
            if !tx.delete_requirement(vpd, target, competence)? {
                return Err(Error::UnknownRequirement {
                    vpd,
                    target: target.clone(),
                    competence: competence.clone(),
                });
            }
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::RequirementChanged {
                    target: target.to_string(),
                    competence: competence.to_string(),
                    change: "removed".to_owned(),
                },
            )
        })
    }

    /// The trust's requirements.
    pub fn requirements(&self, vpd: VpdCode) -> Result<Vec<Requirement>> {
        crate::store::read_mostly(&self.store, |tx| {
            trust_of(tx, vpd)?;
            tx.requirements(vpd)
        })
    }

    /// Makes holding `held` satisfy a requirement for `satisfies` (needs Learning
    /// administration). Equivalences chain.
    pub fn add_equivalence(&self, actor: &Actor, equivalence: Equivalence) -> Result<()> {
        self.change_equivalence(actor, equivalence, true)
    }

    /// Removes an equivalence (needs Learning administration).
    pub fn remove_equivalence(&self, actor: &Actor, equivalence: Equivalence) -> Result<()> {
        self.change_equivalence(actor, equivalence, false)
    }

    fn change_equivalence(&self, actor: &Actor, e: Equivalence, add: bool) -> Result<()> {
        if e.held == e.satisfies {
            return Err(Error::invalid(
                "equivalence",
                "a competence always satisfies itself; name two different competences",
            ));
        }
        let vpd = e.vpd;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::AdministerLearning, now)?;
            trust_of(tx, vpd)?;
            if add {
                active_competence(tx, vpd, &e.held)?;
                active_competence(tx, vpd, &e.satisfies)?;
                tx.put_equivalence(&e)?;
            } else if !tx.delete_equivalence(&e)? {
                return Err(Error::UnknownEquivalence {
                    vpd,
                    held: e.held.clone(),
                    satisfies: e.satisfies.clone(),
                });
            }
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::EquivalenceChanged {
                    held: e.held.to_string(),
                    satisfies: e.satisfies.to_string(),
                    added: add,
                },
            )
        })
    }

    /// The trust's equivalences.
    pub fn equivalences(&self, vpd: VpdCode) -> Result<Vec<Equivalence>> {
        crate::store::read_mostly(&self.store, |tx| {
            trust_of(tx, vpd)?;
            tx.equivalences(vpd)
        })
    }

    /// The trust's compliance settings (the defaults until it sets its own).
    pub fn compliance_settings(&self, vpd: VpdCode) -> Result<ComplianceSettings> {
        crate::store::read_mostly(&self.store, |tx| {
            trust_of(tx, vpd)?;
            Ok(tx.compliance_settings(vpd)?.unwrap_or_default())
        })
    }

    /// Sets the trust's compliance target and amber window (needs Learning administration).
    pub fn set_compliance_settings(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        settings: ComplianceSettings,
    ) -> Result<()> {
        settings.check()?;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::AdministerLearning, now)?;
            trust_of(tx, vpd)?;
            tx.put_compliance_settings(vpd, &settings)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::SettingChanged {
                    setting: "Compliance target and amber window".to_owned(),
                    value: format!(
                        "{}%, {} months",
                        settings.target_percent,
                        settings.amber_window.len_months()
                    ),
                },
            )
        })
    }

    // ----- records -------------------------------------------------------------------------

    /// Records that a person holds a competence (needs Learning administration; a system actor
    /// such as a certification engine is trusted and named in the audit trail). The competence
    /// must be active in the trust's catalogue; the achieved date may not be after today, nor
    /// the expiry before the achieved date. A record with the same competence and achieved date
    /// is replaced. Compliance reflects it at once.
    pub fn record_competence(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        employee: &EmployeeNumber,
        record: NewCompetenceRecord,
    ) -> Result<CompetenceRecord> {
        let now = self.clock.now();
        let today = uk_date(now);
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::AdministerLearning, now)?;
            trust_of(tx, vpd)?;
            record_competence_in(tx, vpd, who, employee, record.clone(), today, now)
        })
    }

    /// A person's competence records (with a visibility check as for [`Esr::person_compliance`]
    /// when the actor is a session).
    pub fn competence_records(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        employee: &EmployeeNumber,
    ) -> Result<Vec<CompetenceRecord>> {
        let now = self.clock.now();
        crate::store::read_mostly(&self.store, |tx| {
            trust_of(tx, vpd)?;
            if let Actor::Session(id) = actor {
                check_view(tx, *id, vpd, employee, now)?;
            }
            person_of(tx, vpd, employee)?;
            tx.competence_records_of(vpd, employee)
        })
    }

    /// Imports an ESR competence export (see [`crate::compliance::ImportSummary`] and the columns read by
    /// the parser: `Employee Number`, `Competency Name`, `Expiry Date` as `30-Nov-2028`, and
    /// optionally `VPD`, `Achieved Date`, `Competence Level`) from `csv`, any reader (`&[u8]`, a
    /// `File`, a socket), read as it goes. Every bad row is reported with its line number and
    /// reason: an unreadable row, a bad value, a person not in the trust, a competence not in
    /// its catalogue (the first [`crate::compliance::MAX_IMPORT_PROBLEMS`] listed, the rest counted). With
    /// any bad row nothing is imported, unless `options.skip_bad_rows`. Rows without an
    /// achieved date are recorded as achieved on the import date (or on their expiry date, if
    /// that is earlier); rows repeating a person, competence and achieved date keep the latest
    /// expiry. Needs Learning administration (checked before the file is read, and again when
    /// writing); the import is audited as one entry.
    ///
    /// Limits: a record over [`crate::compliance::MAX_CSV_RECORD_BYTES`] or with more than
    /// [`crate::compliance::MAX_CSV_COLUMNS`] columns is a bad row (an over-long one stops the reading unless
    /// `skip_bad_rows`); a read error refuses the import. Memory: the file is read in chunks and
    /// never held whole; the good rows are held until they are written, in one transaction, so
    /// a refusal leaves the store as it was. The file is read outside any store transaction.
    pub fn import_competences<R: std::io::Read>(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        csv: R,
        options: ImportOptions,
    ) -> Result<ImportSummary> {
        let now = self.clock.now();
        let today = uk_date(now);
        // Refuse an actor who may not import before reading what may be a large file.
        crate::store::read_mostly(&self.store, |tx| {
            authorise(tx, actor, vpd, Function::AdministerLearning, now)?;
            trust_of(tx, vpd).map(drop)
        })?;
        let mut rows = Vec::new();
        let parsed = parse_export_rows(vpd, csv, options.skip_bad_rows, |row, _| rows.push(row))?;
        // The rows are checked against the people and the catalogue in a read transaction, so
        // that the write transaction holds the write lock only to re-check the catalogue and
        // write the records (in one batch, [`StoreTx::put_competence_records`]). People are
        // never deleted, so one seen here is still there; a catalogue changed in between makes
        // the write transaction check every row again.
        let checked = crate::store::read_mostly(&self.store, |tx| {
            authorise(tx, actor, vpd, Function::AdministerLearning, now)?;
            trust_of(tx, vpd)?;
            check_import_rows(tx, vpd, &rows, today)
        })?;
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::AdministerLearning, now)?;
            trust_of(tx, vpd)?;
            let again;
            let (keep, merged, found) = if catalogue_in(tx, vpd)? == checked.catalogue {
                (&checked.keep, checked.merged, &checked.found)
            } else {
                again = check_import_rows(tx, vpd, &rows, today)?;
                (&again.keep, again.merged, &again.found)
            };
            // Both lists are in line order: the merge keeps the first by line.
            let problems = parsed.clone().merge(found.clone());
            if !problems.is_empty() && !options.skip_bad_rows {
                return Err(Error::ImportRejected { problems });
            }
            tx.put_competence_records(keep)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::CompetencesImported {
                    records: keep.len() as u64,
                    skipped: problems.total(),
                },
            )?;
            Ok(ImportSummary {
                imported: keep.len(),
                merged_duplicates: merged,
                skipped: problems,
            })
        })
    }

    // ----- views -----------------------------------------------------------------------------

    /// My Compliance: the session's user's compliance, per assignment and summarised, as of
    /// `as_of` (today when `None`; any later date projects who turns Amber or Red by then).
    /// Needs My Compliance.
    pub fn my_compliance(
        &self,
        session: SessionId,
        as_of: Option<NaiveDate>,
    ) -> Result<PersonCompliance> {
        let now = self.clock.now();
        let as_of = as_of.unwrap_or_else(|| uk_date(now));
        crate::store::read_mostly(&self.store, |tx| {
            let (s, _, acc, _) = permitted(tx, session, Function::MyCompliance, now)?;
            person_compliance_in(tx, s.vpd, &acc.employee_number, as_of)
        })
    }

    /// A person's compliance as another user sees it: their own needs My Compliance; anyone
    /// else's needs a basis to view their record on this channel (line manager, delegated
    /// administrator, professional scope), and is audited.
    pub fn person_compliance(
        &self,
        session: SessionId,
        subject: &EmployeeNumber,
        as_of: Option<NaiveDate>,
    ) -> Result<PersonCompliance> {
        let now = self.clock.now();
        let as_of = as_of.unwrap_or_else(|| uk_date(now));
        crate::store::read_mostly(&self.store, |tx| {
            let s = crate::service::live_session(tx, session, now)?;
            let vpd = s.vpd;
            check_view(tx, session, vpd, subject, now)?;
            person_compliance_in(tx, vpd, subject, as_of)
        })
    }

    /// Team Compliance: each assignment reporting into the session's user's line, directly or
    /// through others, with its percentage and its Amber and Red rows, as of `as_of` (today when
    /// `None`). Needs Team Compliance on this channel (and the portlet switched on); audited.
    pub fn team_compliance(
        &self,
        session: SessionId,
        as_of: Option<NaiveDate>,
    ) -> Result<TeamCompliance> {
        let now = self.clock.now();
        let as_of = as_of.unwrap_or_else(|| uk_date(now));
        crate::store::read_mostly(&self.store, |tx| {
            let (s, _, acc, _) = permitted(tx, session, Function::TeamCompliance, now)?;
            let vpd = s.vpd;
            let (rules, _) = rules_in(tx, vpd)?;
            let mut records: HashMap<EmployeeNumber, Vec<CompetenceRecord>> = HashMap::new();
            let mut members = Vec::new();
            let mut seen: HashSet<AssignmentNumber> = HashSet::new();
            let mut frontier: Vec<(AssignmentNumber, u32)> = tx
                .assignments_of(vpd, &acc.employee_number)?
                .into_iter()
                .map(|a| (a.number, 0))
                .collect();
            while let Some((sup, depth)) = frontier.pop() {
                for a in tx.assignments_reporting_to(vpd, &sup)? {
                    if !seen.insert(a.number.clone()) {
                        continue;
                    }
                    frontier.push((a.number.clone(), depth + 1));
                    let p = person_of(tx, vpd, &a.employee_number)?;
                    if !records.contains_key(&a.employee_number) {
                        let r = tx.competence_records_of(vpd, &a.employee_number)?;
                        records.insert(a.employee_number.clone(), r);
                    }
                    let held = records
                        .get(&a.employee_number)
                        .map_or(&[][..], Vec::as_slice);
                    let compliance = rules.assess(&a, held, as_of);
                    members.push(TeamComplianceMember {
                        assignment: a,
                        name: p.name,
                        depth: depth + 1,
                        compliance,
                    });
                }
            }
            members.sort_by(|a, b| {
                (a.depth, &a.name.family, &a.name.given, &a.assignment.number).cmp(&(
                    b.depth,
                    &b.name.family,
                    &b.name.given,
                    &b.assignment.number,
                ))
            });
            audit(
                tx,
                vpd,
                now,
                user_actor(&s),
                AuditEvent::ReportProduced {
                    report: format!("Team Compliance ({} members) as of {as_of}", members.len()),
                },
            )?;
            Ok(TeamCompliance { as_of, members })
        })
    }

    /// The trust's compliance per organisation unit and per competence against its target, as of
    /// `as_of` (today when `None`). Needs BI reports; audited.
    pub fn compliance_report(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        as_of: Option<NaiveDate>,
    ) -> Result<ComplianceReport> {
        let now = self.clock.now();
        let as_of = as_of.unwrap_or_else(|| uk_date(now));
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::BiReports, now)?;
            let (rules, settings) = rules_in(tx, vpd)?;
            let results: Vec<AssignmentCompliance> = assess_trust(tx, vpd, &rules, as_of)?
                .into_iter()
                .map(|(_, a)| a)
                .collect();
            let (by_unit, by_competence) =
                roll_up(rules.trust(), &results, settings.target_percent);
            let mut total = ComplianceCounts::default();
            for r in &results {
                total.merge(&r.counts);
            }
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::ReportProduced {
                    report: format!(
                        "compliance roll-up ({} assignments) as of {as_of}",
                        results.len()
                    ),
                },
            )?;
            Ok(ComplianceReport {
                as_of,
                target: settings.target_percent,
                trust: total,
                by_unit,
                by_competence,
            })
        })
    }

    /// The trust's compliance matrix as CSV ([`crate::compliance::compliance_matrix_csv`]): one line per
    /// assignment, one column per competence. Needs BI reports; audited.
    pub fn compliance_matrix(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        as_of: Option<NaiveDate>,
    ) -> Result<String> {
        let now = self.clock.now();
        let as_of = as_of.unwrap_or_else(|| uk_date(now));
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::BiReports, now)?;
            let (rules, _) = rules_in(tx, vpd)?;
            let rows = assess_trust(tx, vpd, &rules, as_of)?;
            let csv = compliance_matrix_csv(&rows)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::ReportProduced {
                    report: format!(
                        "compliance matrix ({} assignments) as of {as_of}",
                        rows.len()
                    ),
                },
            )?;
            Ok(csv)
        })
    }
}

/// The trust's catalogue: the national defaults overlaid with its own definitions.
fn catalogue_in(
    tx: &dyn StoreTx,
    vpd: VpdCode,
) -> Result<BTreeMap<CompetenceName, CompetenceDefinition>> {
    let mut c: BTreeMap<CompetenceName, CompetenceDefinition> = default_catalogue()
        .into_iter()
        .map(|d| (d.name.clone(), d))
        .collect();
    for d in tx.competence_definitions(vpd)? {
        c.insert(d.name.clone(), d);
    }
    Ok(c)
}

pub(crate) fn active_competence(
    tx: &dyn StoreTx,
    vpd: VpdCode,
    name: &CompetenceName,
) -> Result<CompetenceDefinition> {
    if let CompetenceOwner::Local(owner) = name.owner()
        && owner != vpd
    {
        return Err(Error::CrossTrust {
            what: format!("competence {name}"),
            expected: vpd,
            found: owner,
        });
    }
    let found = match tx.competence_definition(vpd, name)? {
        Some(d) => Some(d),
        None => default_catalogue().into_iter().find(|d| d.name == *name),
    };
    found
        .filter(|d| d.active)
        .ok_or_else(|| Error::UnknownCompetence {
            vpd,
            competence: name.clone(),
        })
}

fn rules_in(tx: &dyn StoreTx, vpd: VpdCode) -> Result<(ComplianceRules, ComplianceSettings)> {
    let trust = trust_of(tx, vpd)?;
    let settings = tx.compliance_settings(vpd)?.unwrap_or_default();
    let rules = ComplianceRules::new(
        trust,
        tx.requirements(vpd)?,
        &tx.equivalences(vpd)?,
        settings.amber_window,
    );
    Ok((rules, settings))
}

fn person_compliance_in(
    tx: &dyn StoreTx,
    vpd: VpdCode,
    employee: &EmployeeNumber,
    as_of: NaiveDate,
) -> Result<PersonCompliance> {
    person_of(tx, vpd, employee)?;
    let (rules, _) = rules_in(tx, vpd)?;
    let assignments = tx.assignments_of(vpd, employee)?;
    let records = tx.competence_records_of(vpd, employee)?;
    Ok(rules.assess_person(employee, &assignments, &records, as_of))
}

/// Every assignment of the trust assessed, by employee then assignment number.
fn assess_trust(
    tx: &dyn StoreTx,
    vpd: VpdCode,
    rules: &ComplianceRules,
    as_of: NaiveDate,
) -> Result<Vec<(EmployeeNumber, AssignmentCompliance)>> {
    let mut by_person: HashMap<EmployeeNumber, Vec<CompetenceRecord>> = HashMap::new();
    for r in tx.competence_records(vpd)? {
        by_person
            .entry(r.employee_number.clone())
            .or_default()
            .push(r);
    }
    let mut out = Vec::new();
    for p in tx.people(vpd)? {
        let records = by_person
            .get(&p.employee_number)
            .map_or(&[][..], Vec::as_slice);
        for a in tx.assignments_of(vpd, &p.employee_number)? {
            out.push((p.employee_number.clone(), rules.assess(&a, records, as_of)));
        }
    }
    Ok(out)
}

/// Checks a session may view `subject`'s compliance; audits it when the subject is someone else.
fn check_view(
    tx: &mut dyn StoreTx,
    session: SessionId,
    vpd: VpdCode,
    subject: &EmployeeNumber,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let (s, trust, acc, held) = session_context(tx, session, now)?;
    if s.vpd != vpd {
        return Err(Error::CrossTrust {
            what: format!("session of {}", s.username),
            expected: vpd,
            found: s.vpd,
        });
    }
    let ctx = context(&s, &trust, &acc, &held);
    if acc.employee_number == *subject {
        return match decide(Function::MyCompliance, &ctx) {
            AccessDecision::Allowed => Ok(()),
            AccessDecision::Denied(denial) => Err(Error::NotPermitted {
                function: Function::MyCompliance,
                denial,
            }),
        };
    }
    let access = record_access(tx, &s.username, vpd, subject)?;
    let bases: Vec<RecordBasis> = access
        .view
        .into_iter()
        .filter(|b| *b != RecordBasis::Own)
        .collect();
    let basis = pick_basis(&bases, &ctx, RecordBasis::view_function, "view", subject)?;
    audit(
        tx,
        vpd,
        now,
        user_actor(&s),
        AuditEvent::RecordViewed {
            subject: subject.clone(),
            basis: format!("{basis} (compliance)"),
        },
    )
}

/// Records a competence inside a transaction: what [`Esr::record_competence`] does after its
/// authorisation, for other operations of the service (a completed certification) to call.
pub(crate) fn record_competence_in(
    tx: &mut dyn StoreTx,
    vpd: VpdCode,
    who: AuditActor,
    employee: &EmployeeNumber,
    new: NewCompetenceRecord,
    today: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<CompetenceRecord> {
    person_of(tx, vpd, employee)?;
    let def = active_competence(tx, vpd, &new.competence)?;
    if new.achieved > today {
        return Err(Error::invalid(
            "achieved date",
            format!(
                "{} is after today ({}); record a competence once it is achieved",
                format_esr_date(new.achieved),
                format_esr_date(today)
            ),
        ));
    }
    let expiry = match new.expiry {
        RecordExpiry::Never => None,
        RecordExpiry::On(d) => Some(d),
        RecordExpiry::Refresher => match def.refresher_months {
            Some(m) => Some(add_months(new.achieved, m)?),
            None => None,
        },
    };
    if let Some(e) = expiry
        && e < new.achieved
    {
        return Err(Error::invalid(
            "expiry date",
            format!(
                "{} is before the achieved date {}; check both dates",
                format_esr_date(e),
                format_esr_date(new.achieved)
            ),
        ));
    }
    let record = CompetenceRecord {
        vpd,
        employee_number: employee.clone(),
        competence: new.competence,
        achieved: new.achieved,
        expiry,
        level: new.level,
    };
    tx.put_competence_record(&record)?;
    audit(
        tx,
        vpd,
        now,
        who,
        AuditEvent::CompetenceRecorded {
            subject: employee.clone(),
            competence: record.competence.to_string(),
            achieved: format_esr_date(record.achieved),
            expiry: record.expiry.map(format_esr_date).unwrap_or_default(),
        },
    )?;
    Ok(record)
}

/// The rows of an import checked against the trust's people and catalogue: the records to
/// write (one per person, competence and achieved date, in that order), how many rows merged
/// into another, the rows refused, and the catalogue they were checked against.
struct CheckedImport {
    keep: Vec<CompetenceRecord>,
    merged: usize,
    found: ImportProblems,
    catalogue: BTreeMap<CompetenceName, CompetenceDefinition>,
}

fn check_import_rows(
    tx: &dyn StoreTx,
    vpd: VpdCode,
    rows: &[ExportRow],
    today: NaiveDate,
) -> Result<CheckedImport> {
    let catalogue = catalogue_in(tx, vpd)?;
    let mut known: HashMap<EmployeeNumber, bool> = HashMap::new();
    let mut keep: BTreeMap<(EmployeeNumber, CompetenceName, NaiveDate), CompetenceRecord> =
        BTreeMap::new();
    let mut merged = 0;
    let mut found = ImportProblems::new();
    for row in rows {
        let exists = match known.get(&row.employee) {
            Some(e) => *e,
            None => {
                let e = tx.person(vpd, &row.employee)?.is_some();
                known.insert(row.employee.clone(), e);
                e
            }
        };
        let mut why = Vec::new();
        if !exists {
            why.push(format!(
                "trust {vpd} has no person with employee number {}; add the person first",
                row.employee
            ));
        }
        if !catalogue.get(&row.competence).is_some_and(|d| d.active) {
            why.push(format!(
                "competence {} is not in the trust's catalogue; define it first",
                row.competence
            ));
        }
        if !why.is_empty() {
            found.push(ImportProblem {
                line: row.line,
                reason: why.join("; "),
            });
            continue;
        }
        let achieved = row
            .achieved
            .unwrap_or_else(|| row.expiry.map_or(today, |e| e.min(today)));
        let record = CompetenceRecord {
            vpd,
            employee_number: row.employee.clone(),
            competence: row.competence.clone(),
            achieved,
            expiry: row.expiry,
            level: row.level.clone(),
        };
        let key = (row.employee.clone(), row.competence.clone(), achieved);
        match keep.get_mut(&key) {
            Some(old) => {
                merged += 1;
                let later = |x: &CompetenceRecord| (x.expiry.is_none(), x.expiry);
                if later(&record) > later(old) {
                    *old = record;
                }
            }
            None => {
                keep.insert(key, record);
            }
        }
    }
    Ok(CheckedImport {
        keep: keep.into_values().collect(),
        merged,
        found,
        catalogue,
    })
}
