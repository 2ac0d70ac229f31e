//! Assignments: the jobs a person holds, each with a position, organisation unit and supervisor.

use crate::error::Result;
use crate::values::{AssignmentNumber, EmployeeNumber, OrgUnitId, PositionId, VpdCode, clean_text};

/// One of a person's assignments (`24552166 - E-Learning & Design Co-Ordinator`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Assignment {
    /// The trust.
    pub vpd: VpdCode,
    /// The assignment number, unique within the trust.
    pub number: AssignmentNumber,
    /// Whose assignment it is.
    pub employee_number: EmployeeNumber,
    /// The job title shown beside the number.
    pub title: String,
    /// The position held.
    pub position: PositionId,
    /// Where the assignment sits in the hierarchy.
    pub org_unit: OrgUnitId,
    /// The supervising assignment (another person's), if any.
    pub supervisor: Option<AssignmentNumber>,
    /// Contracted minutes a week (37.5 hours is 2250), when recorded.
    #[cfg_attr(feature = "serde", serde(default))]
    pub weekly_minutes: Option<u32>,
    /// The assignment's last day, once it is ended.
    #[cfg_attr(feature = "serde", serde(default))]
    pub ended_on: Option<chrono::NaiveDate>,
}

/// What is needed to add an assignment.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NewAssignment {
    /// The assignment number.
    pub number: AssignmentNumber,
    /// Whose assignment it is.
    pub employee_number: EmployeeNumber,
    /// The job title.
    pub title: String,
    /// The position.
    pub position: PositionId,
    /// The organisation unit.
    pub org_unit: OrgUnitId,
    /// The supervising assignment.
    pub supervisor: Option<AssignmentNumber>,
}

impl NewAssignment {
    pub(crate) fn into_assignment(self, vpd: VpdCode) -> Result<Assignment> {
        Ok(Assignment {
            vpd,
            title: clean_text("job title", &self.title, crate::values::MAX_TEXT_CHARS)?,
            number: self.number,
            employee_number: self.employee_number,
            position: self.position,
            org_unit: self.org_unit,
            supervisor: self.supervisor,
            weekly_minutes: None,
            ended_on: None,
        })
    }
}

impl std::fmt::Display for Assignment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} - {}", self.number, self.title)
    }
}
