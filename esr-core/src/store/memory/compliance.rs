//! The in-memory store's compliance tables, one set per trust, with their undo entries.

use crate::compliance::ComplianceSettings;
use crate::compliance::{
    CompetenceDefinition, CompetenceName, CompetenceRecord, Equivalence, Requirement,
    RequirementTarget,
};
use crate::values::{EmployeeNumber, VpdCode};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

type RecordKey = (CompetenceName, NaiveDate);

/// One trust's compliance data.
#[derive(Debug, Default)]
pub(super) struct TrustTables {
    pub(super) definitions: BTreeMap<CompetenceName, CompetenceDefinition>,
    pub(super) requirements: BTreeMap<(RequirementTarget, CompetenceName), Requirement>,
    pub(super) equivalences: BTreeSet<Equivalence>,
    pub(super) records: BTreeMap<EmployeeNumber, BTreeMap<RecordKey, CompetenceRecord>>,
    pub(super) settings: Option<ComplianceSettings>,
}

/// Every trust's compliance data.
#[derive(Debug, Default)]
pub(super) struct ComplianceTables {
    pub(super) trusts: BTreeMap<VpdCode, TrustTables>,
}

/// How to undo one compliance write: the value to put back (`None`: remove).
pub(super) enum ComplianceUndo {
    Definition(VpdCode, CompetenceName, Option<CompetenceDefinition>),
    Requirement(
        VpdCode,
        (RequirementTarget, CompetenceName),
        Option<Requirement>,
    ),
    Equivalence(Equivalence, bool),
    Record(VpdCode, EmployeeNumber, RecordKey, Option<CompetenceRecord>),
    Settings(VpdCode, Option<ComplianceSettings>),
}

impl ComplianceTables {
    pub(super) fn trust(&self, vpd: VpdCode) -> Option<&TrustTables> {
        self.trusts.get(&vpd)
    }

    pub(super) fn trust_mut(&mut self, vpd: VpdCode) -> &mut TrustTables {
        self.trusts.entry(vpd).or_default()
    }

    pub(super) fn undo(&mut self, u: ComplianceUndo) {
        match u {
            ComplianceUndo::Definition(vpd, k, old) => {
                put_back(&mut self.trust_mut(vpd).definitions, k, old);
            }
            ComplianceUndo::Requirement(vpd, k, old) => {
                put_back(&mut self.trust_mut(vpd).requirements, k, old);
            }
            ComplianceUndo::Equivalence(e, was) => {
                let set = &mut self.trust_mut(e.vpd).equivalences;
                if was {
                    set.insert(e);
                } else {
                    set.remove(&e);
                }
            }
            ComplianceUndo::Record(vpd, employee, k, old) => {
                let t = self.trust_mut(vpd);
                let person = t.records.entry(employee.clone()).or_default();
                put_back(person, k, old);
                if person.is_empty() {
                    t.records.remove(&employee);
                }
            }
            ComplianceUndo::Settings(vpd, old) => self.trust_mut(vpd).settings = old,
        }
    }
}

fn put_back<K: Ord, V>(m: &mut BTreeMap<K, V>, k: K, old: Option<V>) {
    match old {
        Some(v) => {
            m.insert(k, v);
        }
        None => {
            m.remove(&k);
        }
    }
}
