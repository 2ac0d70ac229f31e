//! Record changes held for approval (Administrator Self Service (Approvals Required), Manager
//! Self Service (Payroll Approvals Required)), and the rules that route and settle them.

use crate::values::username::Username;
use crate::values::{
    AssignmentNumber, ChangeId, EmailAddress, EmployeeNumber, PositionId, VpdCode,
};
use chrono::{DateTime, NaiveDate, Utc};
use std::fmt;

/// A change to a person's record, as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum ProposedChange {
    /// A change to the person's details; `None` leaves a field as it is.
    Details {
        /// A new given name.
        given_name: Option<String>,
        /// A new surname.
        family_name: Option<String>,
        /// A new recruitment e-mail address.
        recruitment_email: Option<EmailAddress>,
    },
    /// A new supervisor for one of the person's assignments (pay-affecting).
    Supervisor {
        /// The assignment.
        assignment: AssignmentNumber,
        /// The new supervising assignment (`None`: no supervisor).
        supervisor: Option<AssignmentNumber>,
    },
    /// A new position for one of the person's assignments (pay-affecting).
    Position {
        /// The assignment.
        assignment: AssignmentNumber,
        /// The new position.
        position: PositionId,
    },
    /// New contracted hours for one of the person's assignments (pay-affecting).
    Hours {
        /// The assignment.
        assignment: AssignmentNumber,
        /// Contracted minutes a week (37.5 hours is 2250), from 1 to 10,080.
        weekly_minutes: u32,
    },
    /// Ending one of the person's assignments on a date (pay-affecting).
    EndAssignment {
        /// The assignment.
        assignment: AssignmentNumber,
        /// Its last day.
        ended_on: NaiveDate,
    },
}

impl ProposedChange {
    /// Whether it is one of the pay-affecting assignment changes Manager Self Service makes
    /// (hours, position, supervisor, ending an assignment).
    pub fn is_pay_affecting(&self) -> bool {
        !matches!(self, Self::Details { .. })
    }

    /// The assignment it changes, for a pay-affecting change.
    pub fn assignment(&self) -> Option<&AssignmentNumber> {
        match self {
            Self::Details { .. } => None,
            Self::Supervisor { assignment, .. }
            | Self::Position { assignment, .. }
            | Self::Hours { assignment, .. }
            | Self::EndAssignment { assignment, .. } => Some(assignment),
        }
    }

    /// What it changes, in words (field names and the assignment; never a value that could be
    /// personal): what audit entries and notifications carry.
    pub fn describe(&self) -> String {
        match self {
            Self::Details {
                given_name,
                family_name,
                recruitment_email,
            } => {
                let mut f = Vec::new();
                if given_name.is_some() {
                    f.push("given name");
                }
                if family_name.is_some() {
                    f.push("surname");
                }
                if recruitment_email.is_some() {
                    f.push("recruitment e-mail");
                }
                f.join(", ")
            }
            Self::Supervisor { assignment, .. } => format!("supervisor of {assignment}"),
            Self::Position { assignment, .. } => format!("position of {assignment}"),
            Self::Hours { assignment, .. } => format!("hours of {assignment}"),
            Self::EndAssignment { assignment, .. } => format!("end of {assignment}"),
        }
    }
}

/// Who must approve a held change, by the URP it was made under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ApprovalRoute {
    /// Administrator Self Service (Approvals Required): the person's line manager approves.
    AdministratorSelfService,
    /// Manager Self Service (Payroll Approvals Required): the manager's own line manager
    /// approves.
    ManagerPayroll,
}

impl fmt::Display for ApprovalRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AdministratorSelfService => "Administrator Self Service (Approvals Required)",
            Self::ManagerPayroll => "Manager Self Service (Payroll Approvals Required)",
        })
    }
}

/// Where a held change is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ChangeStatus {
    /// Waiting for its approver.
    Pending,
    /// Approved and applied.
    Applied,
    /// Rejected; never applied.
    Rejected {
        /// Why.
        reason: String,
    },
    /// Not decided in time; never applied.
    Expired,
}

impl ChangeStatus {
    /// The status's short name: `"pending"`, `"applied"`, `"rejected"` or `"expired"`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Applied => "applied",
            Self::Rejected { .. } => "rejected",
            Self::Expired => "expired",
        }
    }
}

impl fmt::Display for ChangeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A change to a person's record held until its approver decides.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PendingChange {
    /// Its id.
    pub id: ChangeId,
    /// The trust.
    pub vpd: VpdCode,
    /// Whose record it changes.
    pub subject: EmployeeNumber,
    /// The change.
    pub change: ProposedChange,
    /// Who asked for it.
    pub requested_by: Username,
    /// When.
    pub requested_at: DateTime<Utc>,
    /// Why it is held.
    pub route: ApprovalRoute,
    /// Who must approve it (the notification is theirs).
    pub approver: EmployeeNumber,
    /// When it expires undecided.
    pub expires_at: DateTime<Utc>,
    /// Where it is, as stored (see [`PendingChange::status_at`]).
    pub status: ChangeStatus,
    /// When it was decided (applied, rejected or marked expired).
    pub decided_at: Option<DateTime<Utc>>,
    /// Who decided it (`None` for an expiry).
    pub decided_by: Option<Username>,
}

impl PendingChange {
    /// Its status at `now`: a pending change past its expiry is expired, and never applies.
    pub fn status_at(&self, now: DateTime<Utc>) -> ChangeStatus {
        match &self.status {
            ChangeStatus::Pending if now >= self.expires_at => ChangeStatus::Expired,
            s => s.clone(),
        }
    }
}

/// What asking for a change did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ChangeOutcome {
    /// It was applied at once (no approval was needed).
    Applied,
    /// It is held for approval.
    Held(Box<PendingChange>),
}
