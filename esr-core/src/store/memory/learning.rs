//! The in-memory store's certification and enrolment tables, one set per trust, with their undo
//! entries.

use crate::learning::{Certification, Enrolment, Subscription};
use crate::values::{EmployeeNumber, VpdCode};
use std::collections::BTreeMap;

/// (employee, certification, cycle, course).
pub(super) type EnrolmentKey = (EmployeeNumber, String, u32, String);

/// One trust's learning data.
#[derive(Debug, Default)]
pub(super) struct TrustLearning {
    pub(super) certifications: BTreeMap<String, Certification>,
    pub(super) subscriptions: BTreeMap<(EmployeeNumber, String), Subscription>,
    pub(super) enrolments: BTreeMap<EnrolmentKey, Enrolment>,
}

/// Every trust's learning data.
#[derive(Debug, Default)]
pub(super) struct LearningTables {
    pub(super) trusts: BTreeMap<VpdCode, TrustLearning>,
}

/// How to undo one learning write: the value to put back (`None`: remove).
pub(super) enum LearningUndo {
    Certification(VpdCode, String, Option<Certification>),
    Subscription(VpdCode, (EmployeeNumber, String), Option<Subscription>),
    Enrolment(VpdCode, EnrolmentKey, Option<Enrolment>),
}

impl LearningTables {
    pub(super) fn trust(&self, vpd: VpdCode) -> Option<&TrustLearning> {
        self.trusts.get(&vpd)
    }

    pub(super) fn trust_mut(&mut self, vpd: VpdCode) -> &mut TrustLearning {
        self.trusts.entry(vpd).or_default()
    }

    pub(super) fn undo(&mut self, u: LearningUndo) {
        match u {
            LearningUndo::Certification(vpd, k, old) => {
                put_back(&mut self.trust_mut(vpd).certifications, k, old);
            }
            LearningUndo::Subscription(vpd, k, old) => {
                put_back(&mut self.trust_mut(vpd).subscriptions, k, old);
            }
            LearningUndo::Enrolment(vpd, k, old) => {
                put_back(&mut self.trust_mut(vpd).enrolments, k, old);
            }
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
