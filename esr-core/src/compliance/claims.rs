//! Competences awaiting approval (seed 004's "Awaiting Approval" tab of My Compliance): a
//! competence a learner records themselves (training at a previous trust, for example) is a
//! [`CompetenceClaim`]. It waits for approval by the learner's line manager or a learning
//! administrator and counts towards compliance only once approved, when it becomes an ordinary
//! competence record; a rejection keeps its reason. The operations are in `claim_ops.rs`.

use crate::compliance::{CompetenceName, NewCompetenceRecord};
use crate::error::Error;
use crate::values::username::Username;
use crate::values::{CompetenceClaimId, EmployeeNumber, VpdCode};
use chrono::{DateTime, Utc};
use std::fmt;

/// Where a claim is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ClaimState {
    /// Waiting for the line manager or a learning administrator (the "Awaiting Approval" tab).
    AwaitingApproval,
    /// Approved: the competence is recorded and counts towards compliance.
    Approved {
        /// Who approved it.
        by: Username,
        /// When.
        at: DateTime<Utc>,
    },
    /// Rejected: nothing was recorded.
    Rejected {
        /// Who rejected it.
        by: Username,
        /// When.
        at: DateTime<Utc>,
        /// Why, for the learner.
        reason: String,
    },
}

impl fmt::Display for ClaimState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AwaitingApproval => f.write_str("awaiting approval"),
            Self::Approved { by, .. } => write!(f, "approved by {by}"),
            Self::Rejected { by, reason, .. } => write!(f, "rejected by {by}: {reason}"),
        }
    }
}

/// A competence a learner recorded themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CompetenceClaim {
    /// Its id.
    pub id: CompetenceClaimId,
    /// The trust.
    pub vpd: VpdCode,
    /// The learner.
    pub employee_number: EmployeeNumber,
    /// The record it becomes once approved.
    pub record: NewCompetenceRecord,
    /// Where and how it was achieved (`"Fire safety at Gateshead Health, certificate 4471"`).
    pub evidence: String,
    /// Who recorded it (the learner).
    pub claimed_by: Username,
    /// When.
    pub claimed_at: DateTime<Utc>,
    /// Where it is.
    pub state: ClaimState,
}

impl CompetenceClaim {
    /// The competence claimed.
    pub fn competence(&self) -> &CompetenceName {
        &self.record.competence
    }

    /// Whether it still waits for a decision.
    pub fn is_awaiting(&self) -> bool {
        self.state == ClaimState::AwaitingApproval
    }
}

/// Who may decide a claim: the learner's line manager or a learning administrator, never the
/// learner. `Err` carries the reason for [`Error::NotTheDecider`].
pub fn check_claim_decider(
    decider: &EmployeeNumber,
    learner: &EmployeeNumber,
    is_line_manager: bool,
    is_learning_administrator: bool,
) -> std::result::Result<(), String> {
    if decider == learner {
        return Err("nobody approves a competence they recorded themselves".into());
    }
    if is_line_manager || is_learning_administrator {
        return Ok(());
    }
    Err("only the learner's line manager or a learning administrator approves it".into())
}

pub(crate) fn unknown_claim(id: &CompetenceClaimId) -> Error {
    Error::UnknownWorkflowItem {
        what: "competence claim",
        id: id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The learner never decides their own claim; anyone else decides it exactly when they
        /// are the line manager or a learning administrator.
        #[test]
        fn only_a_manager_or_learning_administrator_decides(
            decider in 0u32..4, learner in 0u32..4, manager in any::<bool>(), admin in any::<bool>(),
        ) {
            let e = |n: u32| -> EmployeeNumber { format!("{:08}", 20_000_000 + n).parse().unwrap() };
            let ok = check_claim_decider(&e(decider), &e(learner), manager, admin).is_ok();
            prop_assert_eq!(ok, decider != learner && (manager || admin));
        }
    }
}
