//! ESR's functions and URPs as enums (Swift `Function.teamCompliance`, `Urp.supervisorSelfService`)
//! rather than names. Each mirrors its core enum: the binding's case converts to the core's
//! exhaustively; a core case the binding does not know yet (the core enums are
//! `#[non_exhaustive]`) comes back as [`EsrError::Internal`], never as some other case.

use crate::error::EsrError;

/// The error for a core case this binding has no case for.
fn unclassified(what: &str, name: &str) -> EsrError {
    EsrError::Internal {
        message: format!(
            "unclassified {what} {name:?}: esr-core has a {what} this binding does not know; update the binding"
        ),
    }
}

/// A function a URP grants ("Team Compliance"); its name as ESR shows it is
/// `function_name(function)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, uniffi::Enum)]
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

impl From<Function> for esr_core::urp::Function {
    fn from(v: Function) -> Self {
        match v {
            Function::ViewOwnRecord => Self::ViewOwnRecord,
            Function::UpdateOwnDetails => Self::UpdateOwnDetails,
            Function::ViewPayslips => Self::ViewPayslips,
            Function::ELearning => Self::ELearning,
            Function::MyCompliance => Self::MyCompliance,
            Function::ManageInternetAccess => Self::ManageInternetAccess,
            Function::ManagerDashboard => Self::ManagerDashboard,
            Function::ViewTeamRecords => Self::ViewTeamRecords,
            Function::UpdateTeamRecords => Self::UpdateTeamRecords,
            Function::TeamCompliance => Self::TeamCompliance,
            Function::TeamAbsence => Self::TeamAbsence,
            Function::TeamAppraisals => Self::TeamAppraisals,
            Function::TeamActionsCalendar => Self::TeamActionsCalendar,
            Function::OrganisationChart => Self::OrganisationChart,
            Function::ManageTeamAssignments => Self::ManageTeamAssignments,
            Function::AdministerDelegatedRecords => Self::AdministerDelegatedRecords,
            Function::AssignUrps => Self::AssignUrps,
            Function::ResetAccounts => Self::ResetAccounts,
            Function::ViewStaffRecords => Self::ViewStaffRecords,
            Function::ChangeStaffRecords => Self::ChangeStaffRecords,
            Function::UrpAuditReport => Self::UrpAuditReport,
            Function::MaintainWorkstructures => Self::MaintainWorkstructures,
            Function::AdministerPortal => Self::AdministerPortal,
            Function::AdministerBi => Self::AdministerBi,
            Function::MaintainPeople => Self::MaintainPeople,
            Function::AdministerLearning => Self::AdministerLearning,
            Function::ProfessionalDashboard => Self::ProfessionalDashboard,
            Function::BiReports => Self::BiReports,
        }
    }
}

impl TryFrom<esr_core::urp::Function> for Function {
    type Error = EsrError;
    fn try_from(v: esr_core::urp::Function) -> Result<Self, EsrError> {
        Ok(match v {
            esr_core::urp::Function::ViewOwnRecord => Self::ViewOwnRecord,
            esr_core::urp::Function::UpdateOwnDetails => Self::UpdateOwnDetails,
            esr_core::urp::Function::ViewPayslips => Self::ViewPayslips,
            esr_core::urp::Function::ELearning => Self::ELearning,
            esr_core::urp::Function::MyCompliance => Self::MyCompliance,
            esr_core::urp::Function::ManageInternetAccess => Self::ManageInternetAccess,
            esr_core::urp::Function::ManagerDashboard => Self::ManagerDashboard,
            esr_core::urp::Function::ViewTeamRecords => Self::ViewTeamRecords,
            esr_core::urp::Function::UpdateTeamRecords => Self::UpdateTeamRecords,
            esr_core::urp::Function::TeamCompliance => Self::TeamCompliance,
            esr_core::urp::Function::TeamAbsence => Self::TeamAbsence,
            esr_core::urp::Function::TeamAppraisals => Self::TeamAppraisals,
            esr_core::urp::Function::TeamActionsCalendar => Self::TeamActionsCalendar,
            esr_core::urp::Function::OrganisationChart => Self::OrganisationChart,
            esr_core::urp::Function::ManageTeamAssignments => Self::ManageTeamAssignments,
            esr_core::urp::Function::AdministerDelegatedRecords => Self::AdministerDelegatedRecords,
            esr_core::urp::Function::AssignUrps => Self::AssignUrps,
            esr_core::urp::Function::ResetAccounts => Self::ResetAccounts,
            esr_core::urp::Function::ViewStaffRecords => Self::ViewStaffRecords,
            esr_core::urp::Function::ChangeStaffRecords => Self::ChangeStaffRecords,
            esr_core::urp::Function::UrpAuditReport => Self::UrpAuditReport,
            esr_core::urp::Function::MaintainWorkstructures => Self::MaintainWorkstructures,
            esr_core::urp::Function::AdministerPortal => Self::AdministerPortal,
            esr_core::urp::Function::AdministerBi => Self::AdministerBi,
            esr_core::urp::Function::MaintainPeople => Self::MaintainPeople,
            esr_core::urp::Function::AdministerLearning => Self::AdministerLearning,
            esr_core::urp::Function::ProfessionalDashboard => Self::ProfessionalDashboard,
            esr_core::urp::Function::BiReports => Self::BiReports,
            other => return Err(unclassified("function", other.name())),
        })
    }
}

/// A User Responsibility Profile ("Supervisor Self Service"); its name as ESR shows it is
/// `urp_name(urp)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, uniffi::Enum)]
pub enum Urp {
    /// Employee Self Service.
    EmployeeSelfService,
    /// Employee Self Service Limited Access.
    EmployeeSelfServiceLimitedAccess,
    /// External Learner.
    ExternalLearner,
    /// Supervisor Self Service Limited Access.
    SupervisorSelfServiceLimitedAccess,
    /// Supervisor Self Service.
    SupervisorSelfService,
    /// Manager Self Service (Payroll Approvals Required).
    ManagerSelfServicePayrollApprovalsRequired,
    /// Manager Self Service (Payroll Approvals not Required).
    ManagerSelfServicePayrollApprovalsNotRequired,
    /// Administrator Self Service (Approvals Required).
    AdministratorSelfServiceApprovalsRequired,
    /// Administrator Self Service (Approvals Not Required).
    AdministratorSelfServiceApprovalsNotRequired,
    /// Local HRMS Systems and User Administration: assigns URPs and role access, resets accounts.
    LocalHrmsSystemsAndUserAdministration,
    /// Local Workstructures Administration: organisation units, positions, Automatic Internet Access.
    LocalWorkstructuresAdministration,
    /// Portal Administration: Upgrade Access and the Manager Dashboard.
    PortalAdministration,
    /// Local BI Administration: never available over the internet.
    LocalBiAdministration,
    /// Local HR Administration: adds people and maintains their records and assignments.
    LocalHrAdministration,
    /// Local Learning Administration: certifications, classes and enrolments.
    LocalLearningAdministration,
}

impl From<Urp> for esr_core::urp::Urp {
    fn from(v: Urp) -> Self {
        match v {
            Urp::EmployeeSelfService => Self::EmployeeSelfService,
            Urp::EmployeeSelfServiceLimitedAccess => Self::EmployeeSelfServiceLimitedAccess,
            Urp::ExternalLearner => Self::ExternalLearner,
            Urp::SupervisorSelfServiceLimitedAccess => Self::SupervisorSelfServiceLimitedAccess,
            Urp::SupervisorSelfService => Self::SupervisorSelfService,
            Urp::ManagerSelfServicePayrollApprovalsRequired => {
                Self::ManagerSelfServicePayrollApprovalsRequired
            }
            Urp::ManagerSelfServicePayrollApprovalsNotRequired => {
                Self::ManagerSelfServicePayrollApprovalsNotRequired
            }
            Urp::AdministratorSelfServiceApprovalsRequired => {
                Self::AdministratorSelfServiceApprovalsRequired
            }
            Urp::AdministratorSelfServiceApprovalsNotRequired => {
                Self::AdministratorSelfServiceApprovalsNotRequired
            }
            Urp::LocalHrmsSystemsAndUserAdministration => {
                Self::LocalHrmsSystemsAndUserAdministration
            }
            Urp::LocalWorkstructuresAdministration => Self::LocalWorkstructuresAdministration,
            Urp::PortalAdministration => Self::PortalAdministration,
            Urp::LocalBiAdministration => Self::LocalBiAdministration,
            Urp::LocalHrAdministration => Self::LocalHrAdministration,
            Urp::LocalLearningAdministration => Self::LocalLearningAdministration,
        }
    }
}

impl TryFrom<esr_core::urp::Urp> for Urp {
    type Error = EsrError;
    fn try_from(v: esr_core::urp::Urp) -> Result<Self, EsrError> {
        Ok(match v {
            esr_core::urp::Urp::EmployeeSelfService => Self::EmployeeSelfService,
            esr_core::urp::Urp::EmployeeSelfServiceLimitedAccess => {
                Self::EmployeeSelfServiceLimitedAccess
            }
            esr_core::urp::Urp::ExternalLearner => Self::ExternalLearner,
            esr_core::urp::Urp::SupervisorSelfServiceLimitedAccess => {
                Self::SupervisorSelfServiceLimitedAccess
            }
            esr_core::urp::Urp::SupervisorSelfService => Self::SupervisorSelfService,
            esr_core::urp::Urp::ManagerSelfServicePayrollApprovalsRequired => {
                Self::ManagerSelfServicePayrollApprovalsRequired
            }
            esr_core::urp::Urp::ManagerSelfServicePayrollApprovalsNotRequired => {
                Self::ManagerSelfServicePayrollApprovalsNotRequired
            }
            esr_core::urp::Urp::AdministratorSelfServiceApprovalsRequired => {
                Self::AdministratorSelfServiceApprovalsRequired
            }
            esr_core::urp::Urp::AdministratorSelfServiceApprovalsNotRequired => {
                Self::AdministratorSelfServiceApprovalsNotRequired
            }
            esr_core::urp::Urp::LocalHrmsSystemsAndUserAdministration => {
                Self::LocalHrmsSystemsAndUserAdministration
            }
            esr_core::urp::Urp::LocalWorkstructuresAdministration => {
                Self::LocalWorkstructuresAdministration
            }
            esr_core::urp::Urp::PortalAdministration => Self::PortalAdministration,
            esr_core::urp::Urp::LocalBiAdministration => Self::LocalBiAdministration,
            esr_core::urp::Urp::LocalHrAdministration => Self::LocalHrAdministration,
            esr_core::urp::Urp::LocalLearningAdministration => Self::LocalLearningAdministration,
            other => return Err(unclassified("urp", other.name())),
        })
    }
}

/// Every function, in ESR's order.
#[uniffi::export]
pub fn all_functions() -> Vec<Function> {
    esr_core::urp::Function::ALL
        .iter()
        .filter_map(|f| Function::try_from(*f).ok())
        .collect()
}

/// Every URP, in ESR's order.
#[uniffi::export]
pub fn all_urps() -> Vec<Urp> {
    esr_core::urp::Urp::ALL
        .iter()
        .filter_map(|u| Urp::try_from(*u).ok())
        .collect()
}

/// The function's name as ESR shows it ("Team Compliance").
#[uniffi::export]
pub fn function_name(function: Function) -> String {
    esr_core::urp::Function::from(function).name().to_owned()
}

/// The URP's name as ESR shows it ("Supervisor Self Service").
#[uniffi::export]
pub fn urp_name(urp: Urp) -> String {
    esr_core::urp::Urp::from(urp).name().to_owned()
}

/// The function with this name, as ESR shows it or in any case ("team compliance"); an unknown
/// name fails with `InvalidInput`, which lists the valid ones.
#[uniffi::export]
pub fn function_named(name: String) -> Result<Function, EsrError> {
    let f: esr_core::urp::Function = name.parse()?;
    Function::try_from(f)
}

/// The URP with this name, as ESR shows it; an unknown name fails with `InvalidInput`.
#[uniffi::export]
pub fn urp_named(name: String) -> Result<Urp, EsrError> {
    let u: esr_core::urp::Urp = name.parse()?;
    Urp::try_from(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_case_has_a_binding_case_and_back() {
        assert_eq!(all_functions().len(), esr_core::urp::Function::ALL.len());
        assert_eq!(all_urps().len(), esr_core::urp::Urp::ALL.len());
        for f in esr_core::urp::Function::ALL {
            let b = Function::try_from(f).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(esr_core::urp::Function::from(b), f);
            assert_eq!(function_named(function_name(b)), Ok(b));
        }
        for u in esr_core::urp::Urp::ALL {
            let b = Urp::try_from(u).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(esr_core::urp::Urp::from(b), u);
            assert_eq!(urp_named(urp_name(b)), Ok(b));
        }
    }

    #[test]
    fn unknown_names_are_refused_and_unclassified_cases_are_internal() {
        assert!(matches!(
            function_named("Flying".into()),
            Err(EsrError::InvalidInput { .. })
        ));
        assert!(matches!(
            urp_named("No Such URP".into()),
            Err(EsrError::InvalidInput { .. })
        ));
        let e = unclassified("function", "Flying");
        assert!(matches!(e, EsrError::Internal { .. }));
        assert!(e.message().contains("update the binding"), "{e}");
    }
}
