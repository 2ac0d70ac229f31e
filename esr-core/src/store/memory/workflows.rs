//! The in-memory store's workflow tables (access requests, URP reviews, competence claims), one
//! set per trust, with their undo entries.

use crate::compliance::CompetenceClaim;
use crate::urp::{AccessRequest, UrpReview};
use crate::values::{AccessRequestId, CompetenceClaimId, UrpReviewId, VpdCode};
use std::collections::BTreeMap;

/// One trust's workflow records, by id.
#[derive(Debug, Default)]
pub(super) struct TrustWorkflows {
    pub(super) requests: BTreeMap<AccessRequestId, AccessRequest>,
    pub(super) reviews: BTreeMap<UrpReviewId, UrpReview>,
    pub(super) claims: BTreeMap<CompetenceClaimId, CompetenceClaim>,
}

/// Every trust's workflow records.
#[derive(Debug, Default)]
pub(super) struct WorkflowTables {
    pub(super) trusts: BTreeMap<VpdCode, TrustWorkflows>,
}

/// How to undo one workflow write: the value to put back (`None`: remove).
pub(super) enum WorkflowUndo {
    Request(VpdCode, AccessRequestId, Option<AccessRequest>),
    Review(VpdCode, UrpReviewId, Option<UrpReview>),
    Claim(VpdCode, CompetenceClaimId, Option<CompetenceClaim>),
}

impl WorkflowTables {
    pub(super) fn trust(&self, vpd: VpdCode) -> Option<&TrustWorkflows> {
        self.trusts.get(&vpd)
    }

    pub(super) fn trust_mut(&mut self, vpd: VpdCode) -> &mut TrustWorkflows {
        self.trusts.entry(vpd).or_default()
    }

    pub(super) fn undo(&mut self, u: WorkflowUndo) {
        match u {
            WorkflowUndo::Request(vpd, k, old) => {
                put_back(&mut self.trust_mut(vpd).requests, k, old)
            }
            WorkflowUndo::Review(vpd, k, old) => put_back(&mut self.trust_mut(vpd).reviews, k, old),
            WorkflowUndo::Claim(vpd, k, old) => put_back(&mut self.trust_mut(vpd).claims, k, old),
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
