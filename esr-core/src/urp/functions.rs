//! The functions a URP grants, and the channel rule ([`Tier`]) each falls under.

use crate::org::NationalPortlet;
use std::fmt;

/// Which channel rule a function falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Tier {
    /// ESS-level: over the internet with ESS internet access.
    Employee,
    /// Manager, Supervisor and Administrator Self Service: upgraded, with Upgrade Access: Manager.
    Manager,
    /// Professional dashboards and BI reports: upgraded, with Upgrade Access: Professional.
    ProfessionalRemote,
    /// Only on HSCN with a smartcard.
    HscnOnly,
}

/// A function a URP grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Function {
    /// See one's own record.
    ViewOwnRecord,
    /// Update one's own personal details.
    UpdateOwnDetails,
    /// Payslips and P60s.
    ViewPayslips,
    /// My e-Learning: subscribe, enrol, play.
    ELearning,
    /// My Compliance.
    MyCompliance,
    /// Register or change the mobile number for upgraded access.
    ManageInternetAccess,
    /// The Manager Dashboard.
    ManagerDashboard,
    /// See the records of one's reports.
    ViewTeamRecords,
    /// Change the records of one's reports.
    UpdateTeamRecords,
    /// Team Compliance portlet.
    TeamCompliance,
    /// Team Absence portlet.
    TeamAbsence,
    /// Team Appraisals portlet.
    TeamAppraisals,
    /// MSS Team Actions Calendar portlet.
    TeamActionsCalendar,
    /// Organisation Chart portlet.
    OrganisationChart,
    /// Manager actions on assignments (changes of hours, position, supervisor).
    ManageTeamAssignments,
    /// Act on records in delegated organisation units.
    AdministerDelegatedRecords,
    /// Grant and revoke URPs.
    AssignUrps,
    /// Unlock, suspend, reinstate and end accounts; approve internet access.
    ResetAccounts,
    /// See staff records within the grant's scope.
    ViewStaffRecords,
    /// Change staff records within the grant's scope.
    ChangeStaffRecords,
    /// The six-monthly URP audit report.
    UrpAuditReport,
    /// Organisation units, positions, Automatic Internet Access.
    MaintainWorkstructures,
    /// Upgrade Access and Manager Dashboard portlets.
    AdministerPortal,
    /// BI administration.
    AdministerBi,
    /// Add people and maintain assignments.
    MaintainPeople,
    /// Certifications, classes and enrolments.
    AdministerLearning,
    /// Professional dashboards.
    ProfessionalDashboard,
    /// BI reports.
    BiReports,
}

impl Function {
    /// Every function.
    pub const ALL: [Function; 28] = {
        use Function::*;
        [
            ViewOwnRecord,
            UpdateOwnDetails,
            ViewPayslips,
            ELearning,
            MyCompliance,
            ManageInternetAccess,
            ManagerDashboard,
            ViewTeamRecords,
            UpdateTeamRecords,
            TeamCompliance,
            TeamAbsence,
            TeamAppraisals,
            TeamActionsCalendar,
            OrganisationChart,
            ManageTeamAssignments,
            AdministerDelegatedRecords,
            AssignUrps,
            ResetAccounts,
            ViewStaffRecords,
            ChangeStaffRecords,
            UrpAuditReport,
            MaintainWorkstructures,
            AdministerPortal,
            AdministerBi,
            MaintainPeople,
            AdministerLearning,
            ProfessionalDashboard,
            BiReports,
        ]
    };

    /// The channel rule the function falls under.
    pub fn tier(self) -> Tier {
        use Function::*;
        match self {
            ViewOwnRecord | UpdateOwnDetails | ViewPayslips | ELearning | MyCompliance => {
                Tier::Employee
            }
            ManagerDashboard
            | ViewTeamRecords
            | UpdateTeamRecords
            | TeamCompliance
            | TeamAbsence
            | TeamAppraisals
            | TeamActionsCalendar
            | OrganisationChart
            | ManageTeamAssignments
            | AdministerDelegatedRecords => Tier::Manager,
            ProfessionalDashboard | BiReports => Tier::ProfessionalRemote,
            ManageInternetAccess
            | AssignUrps
            | ResetAccounts
            | ViewStaffRecords
            | ChangeStaffRecords
            | UrpAuditReport
            | MaintainWorkstructures
            | AdministerPortal
            | AdministerBi
            | MaintainPeople
            | AdministerLearning => Tier::HscnOnly,
        }
    }

    /// The Manager Dashboard portlet that shows this function, if any.
    pub fn portlet(self) -> Option<NationalPortlet> {
        match self {
            Self::TeamAbsence => Some(NationalPortlet::TeamAbsence),
            Self::TeamAppraisals => Some(NationalPortlet::TeamAppraisals),
            Self::TeamCompliance => Some(NationalPortlet::TeamCompliance),
            Self::TeamActionsCalendar => Some(NationalPortlet::TeamActionsCalendar),
            Self::OrganisationChart => Some(NationalPortlet::OrganisationChart),
            _ => None,
        }
    }

    /// The function's name for people.
    pub fn name(self) -> &'static str {
        use Function::*;
        match self {
            ViewOwnRecord => "View own record",
            UpdateOwnDetails => "Update own details",
            ViewPayslips => "Payslips",
            ELearning => "My e-Learning",
            MyCompliance => "My Compliance",
            ManageInternetAccess => "Manage Internet Access",
            ManagerDashboard => "Manager Dashboard",
            ViewTeamRecords => "View team records",
            UpdateTeamRecords => "Update team records",
            TeamCompliance => "Team Compliance",
            TeamAbsence => "Team Absence",
            TeamAppraisals => "Team Appraisals",
            TeamActionsCalendar => "MSS Team Actions Calendar",
            OrganisationChart => "Organisation Chart",
            ManageTeamAssignments => "Manage team assignments",
            AdministerDelegatedRecords => "Administer delegated records",
            AssignUrps => "Assign URPs",
            ResetAccounts => "Reset accounts",
            ViewStaffRecords => "View staff records",
            ChangeStaffRecords => "Change staff records",
            UrpAuditReport => "URP audit report",
            MaintainWorkstructures => "Maintain workstructures",
            AdministerPortal => "Portal administration",
            AdministerBi => "BI administration",
            MaintainPeople => "Maintain people",
            AdministerLearning => "Learning administration",
            ProfessionalDashboard => "Professional dashboard",
            BiReports => "BI reports",
        }
    }
}

/// A function by its name ([`Function::name`], `"Team Compliance"`), whatever its case.
impl std::str::FromStr for Function {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        crate::error::by_name("function", &Self::ALL, Self::name, s)
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
