//! User Responsibility Profiles: the catalogue, the functions each grants, and grant records.

use crate::error::Error;
use crate::urp::Function;
use crate::values::username::Username;
use crate::values::{EmployeeNumber, GrantId, OrgUnitId, VpdCode, string_serde};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// A User Responsibility Profile. The catalogue of DOMAIN.md, plus Local HR Administration and
/// Local Learning Administration, the professional URPs that add people and run learning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
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

/// The three kinds of URP, which decide what Upgrade Access setting applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum UrpKind {
    /// ESS, ESS Limited Access, External Learner.
    Employee,
    /// Supervisor, Manager and Administrator Self Service.
    Manager,
    /// Professional URPs of HR, payroll, workforce and learning teams.
    Professional,
}

impl Urp {
    /// The whole catalogue.
    pub const ALL: [Urp; 15] = [
        Self::EmployeeSelfService,
        Self::EmployeeSelfServiceLimitedAccess,
        Self::ExternalLearner,
        Self::SupervisorSelfServiceLimitedAccess,
        Self::SupervisorSelfService,
        Self::ManagerSelfServicePayrollApprovalsRequired,
        Self::ManagerSelfServicePayrollApprovalsNotRequired,
        Self::AdministratorSelfServiceApprovalsRequired,
        Self::AdministratorSelfServiceApprovalsNotRequired,
        Self::LocalHrmsSystemsAndUserAdministration,
        Self::LocalWorkstructuresAdministration,
        Self::PortalAdministration,
        Self::LocalBiAdministration,
        Self::LocalHrAdministration,
        Self::LocalLearningAdministration,
    ];

    /// The URP's name as ESR shows it.
    pub fn name(self) -> &'static str {
        match self {
            Self::EmployeeSelfService => "Employee Self Service",
            Self::EmployeeSelfServiceLimitedAccess => "Employee Self Service Limited Access",
            Self::ExternalLearner => "External Learner",
            Self::SupervisorSelfServiceLimitedAccess => "Supervisor Self Service Limited Access",
            Self::SupervisorSelfService => "Supervisor Self Service",
            Self::ManagerSelfServicePayrollApprovalsRequired => {
                "Manager Self Service (Payroll Approvals Required)"
            }
            Self::ManagerSelfServicePayrollApprovalsNotRequired => {
                "Manager Self Service (Payroll Approvals not Required)"
            }
            Self::AdministratorSelfServiceApprovalsRequired => {
                "Administrator Self Service (Approvals Required)"
            }
            Self::AdministratorSelfServiceApprovalsNotRequired => {
                "Administrator Self Service (Approvals Not Required)"
            }
            Self::LocalHrmsSystemsAndUserAdministration => {
                "Local HRMS Systems and User Administration"
            }
            Self::LocalWorkstructuresAdministration => "Local Workstructures Administration",
            Self::PortalAdministration => "Portal Administration",
            Self::LocalBiAdministration => "Local BI Administration",
            Self::LocalHrAdministration => "Local HR Administration",
            Self::LocalLearningAdministration => "Local Learning Administration",
        }
    }

    /// Employee, manager or professional.
    pub fn kind(self) -> UrpKind {
        use Urp::*;
        match self {
            EmployeeSelfService | EmployeeSelfServiceLimitedAccess | ExternalLearner => {
                UrpKind::Employee
            }
            SupervisorSelfServiceLimitedAccess
            | SupervisorSelfService
            | ManagerSelfServicePayrollApprovalsRequired
            | ManagerSelfServicePayrollApprovalsNotRequired
            | AdministratorSelfServiceApprovalsRequired
            | AdministratorSelfServiceApprovalsNotRequired => UrpKind::Manager,
            _ => UrpKind::Professional,
        }
    }

    /// Whether changes made under this URP wait for an approval (payroll or administrator
    /// approvals). Approval routing itself is outside this library's scope.
    pub fn changes_need_approval(self) -> bool {
        matches!(
            self,
            Self::ManagerSelfServicePayrollApprovalsRequired
                | Self::AdministratorSelfServiceApprovalsRequired
        )
    }

    /// Whether a grant of this URP acts for delegated organisation units (and so needs a scope
    /// of named units).
    pub fn needs_org_scope(self) -> bool {
        matches!(
            self,
            Self::AdministratorSelfServiceApprovalsRequired
                | Self::AdministratorSelfServiceApprovalsNotRequired
        )
    }

    /// The functions the URP grants (on a channel that allows them).
    pub fn functions(self) -> &'static [Function] {
        use Function::*;
        const ESS: &[Function] = &[
            ViewOwnRecord,
            UpdateOwnDetails,
            ViewPayslips,
            ELearning,
            MyCompliance,
            ManageInternetAccess,
        ];
        const SUPERVISOR_LIMITED: &[Function] = &[
            ManagerDashboard,
            ViewTeamRecords,
            TeamCompliance,
            OrganisationChart,
        ];
        const SUPERVISOR: &[Function] = &[
            ManagerDashboard,
            ViewTeamRecords,
            UpdateTeamRecords,
            TeamCompliance,
            TeamAbsence,
            TeamAppraisals,
            TeamActionsCalendar,
            OrganisationChart,
        ];
        const MANAGER: &[Function] = &[
            ManagerDashboard,
            ViewTeamRecords,
            UpdateTeamRecords,
            TeamCompliance,
            TeamAbsence,
            TeamAppraisals,
            TeamActionsCalendar,
            OrganisationChart,
            ManageTeamAssignments,
        ];
        const ADMINISTRATOR: &[Function] = &[
            ManagerDashboard,
            AdministerDelegatedRecords,
            TeamCompliance,
            OrganisationChart,
        ];
        match self {
            Self::EmployeeSelfService => ESS,
            Self::EmployeeSelfServiceLimitedAccess => &[
                ViewOwnRecord,
                ViewPayslips,
                ELearning,
                MyCompliance,
                ManageInternetAccess,
            ],
            Self::ExternalLearner => &[ELearning, MyCompliance],
            Self::SupervisorSelfServiceLimitedAccess => SUPERVISOR_LIMITED,
            Self::SupervisorSelfService => SUPERVISOR,
            Self::ManagerSelfServicePayrollApprovalsRequired
            | Self::ManagerSelfServicePayrollApprovalsNotRequired => MANAGER,
            Self::AdministratorSelfServiceApprovalsRequired
            | Self::AdministratorSelfServiceApprovalsNotRequired => ADMINISTRATOR,
            Self::LocalHrmsSystemsAndUserAdministration => &[
                AssignUrps,
                ResetAccounts,
                ViewStaffRecords,
                UrpAuditReport,
                ProfessionalDashboard,
                BiReports,
            ],
            Self::LocalWorkstructuresAdministration => {
                &[MaintainWorkstructures, ProfessionalDashboard, BiReports]
            }
            Self::PortalAdministration => &[AdministerPortal, ProfessionalDashboard],
            Self::LocalBiAdministration => &[AdministerBi],
            Self::LocalHrAdministration => &[
                MaintainPeople,
                ViewStaffRecords,
                ChangeStaffRecords,
                ProfessionalDashboard,
                BiReports,
            ],
            Self::LocalLearningAdministration => &[
                AdministerLearning,
                ViewStaffRecords,
                ProfessionalDashboard,
                BiReports,
            ],
        }
    }
}

impl fmt::Display for Urp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Urp {
    type Err = Error;
    /// Parses a URP by its ESR name, ignoring case and surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Error> {
        let t = s.trim();
        crate::values::limits::check_chars("URP", t, crate::values::limits::MAX_URP_NAME_CHARS)?;
        Urp::ALL
            .into_iter()
            .find(|u| u.name().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                Error::invalid(
                    "URP",
                    "it is not a URP this library knows; use a name such as 'Manager Self Service (Payroll Approvals Required)'",
                )
            })
    }
}
string_serde!(Urp);

/// Where a grant applies: the whole trust, or named organisation units and everything below them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum GrantScope {
    /// Every organisation unit of the trust.
    WholeTrust,
    /// These units and their descendants.
    OrgUnits(BTreeSet<OrgUnitId>),
}

/// How the need for a grant was verified before it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Approval {
    /// No verification needed: employee-level URPs granted to every member of staff.
    NotRequired,
    /// The grantee's line manager verified the need.
    LineManager {
        /// The line manager's employee number; checked against the grantee's supervisors.
        verified_by: EmployeeNumber,
    },
    /// An exception approved by the trust's Caldicott guardian.
    CaldicottException {
        /// The guardian's employee number.
        approved_by: EmployeeNumber,
        /// The exception's reference.
        reference: String,
    },
    /// An access request (a OneForm) authorised by the line manager, or as an exception by the
    /// trust's Caldicott guardian, with its prerequisites recorded: what
    /// [`Esr::grant_access_request`](crate::Esr::grant_access_request) cites. Only that
    /// operation makes such a grant.
    AccessRequest {
        /// The request.
        request: crate::values::AccessRequestId,
        /// Who authorised it.
        authorised_by: EmployeeNumber,
        /// Whether it was an exception authorised by the Caldicott guardian.
        exception: bool,
    },
}

impl fmt::Display for Approval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotRequired => f.write_str("not required"),
            Self::LineManager { verified_by } => write!(f, "line manager {verified_by}"),
            Self::CaldicottException {
                approved_by,
                reference,
            } => write!(f, "Caldicott exception {reference} by {approved_by}"),
            Self::AccessRequest {
                request,
                authorised_by,
                exception: false,
            } => write!(
                f,
                "access request {request} authorised by line manager {authorised_by}"
            ),
            Self::AccessRequest {
                request,
                authorised_by,
                exception: true,
            } => write!(
                f,
                "access request {request} authorised as an exception by Caldicott guardian {authorised_by}"
            ),
        }
    }
}

/// Why a grant was refused for want of a proper verification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum ApprovalRefusal {
    /// A user administrator tried to grant a URP to themselves.
    SelfGrant,
    /// The URP is extra access and the request carried no line manager's verification.
    LineManagerVerificationRequired {
        /// The URP asked for.
        urp: Urp,
    },
    /// The grantee has no line manager on record to verify the need.
    NoLineManager {
        /// The grantee.
        holder: Username,
    },
    /// The verification came from someone who is not the grantee's line manager.
    NotTheLineManager {
        /// Who verified.
        verified_by: EmployeeNumber,
        /// The grantee.
        holder: Username,
    },
    /// An exception was approved by the grantee, or by the administrator making the grant.
    SelfApproval,
    /// A grant citing an access request was offered to `grant_urp`; it is made with
    /// `grant_access_request`, which checks the request.
    GrantTheAccessRequest,
}

impl fmt::Display for ApprovalRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SelfGrant => f.write_str(
                "nobody grants URPs to themselves; ask another user administrator",
            ),
            Self::LineManagerVerificationRequired { urp } => write!(
                f,
                "{urp} is extra access: it is granted only after the person's line manager verifies the need (Approval::LineManager)"
            ),
            Self::NoLineManager { holder } => write!(
                f,
                "{holder} has no line manager on record; record a supervisor first, or use a Caldicott guardian exception"
            ),
            Self::NotTheLineManager {
                verified_by,
                holder,
            } => write!(
                f,
                "employee {verified_by} is not a line manager of {holder}; the verification must come from their line manager"
            ),
            Self::SelfApproval => f.write_str(
                "an exception is approved by someone other than the person receiving the access and the administrator granting it",
            ),
            Self::GrantTheAccessRequest => f.write_str(
                "a grant citing an access request is made with Esr::grant_access_request, which checks the request",
            ),
        }
    }
}

/// Who made a grant or revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Grantor {
    /// A user acting in a session.
    User(Username),
    /// A process of the embedding system (the new-starter feed, the trust's set-up).
    System(String),
}

impl fmt::Display for Grantor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(u) => write!(f, "{u}"),
            Self::System(p) => write!(f, "system: {p}"),
        }
    }
}

/// One grant of a URP to a user, with its history. Revoked grants are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct UrpGrant {
    /// The grant's identifier.
    pub id: GrantId,
    /// The trust.
    pub vpd: VpdCode,
    /// Who holds it.
    pub holder: Username,
    /// What is held.
    pub urp: Urp,
    /// Where it applies.
    pub scope: GrantScope,
    /// Who granted it.
    pub granted_by: Grantor,
    /// When.
    pub granted_at: DateTime<Utc>,
    /// Why.
    pub reason: String,
    /// How the need was verified.
    pub approval: Approval,
    /// Set when the grant is removed.
    pub revoked: Option<Revocation>,
}

/// The removal of a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Revocation {
    /// Who removed it.
    pub by: Grantor,
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: String,
}

impl UrpGrant {
    /// Whether the grant is in force.
    pub fn is_active(&self) -> bool {
        self.revoked.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for u in Urp::ALL {
            assert_eq!(u.name().parse::<Urp>().unwrap(), u);
            assert_eq!(u.name().to_uppercase().parse::<Urp>().unwrap(), u);
            assert!(!u.functions().is_empty());
        }
        assert!("Superuser".parse::<Urp>().is_err());
    }

    #[test]
    fn kinds() {
        assert_eq!(Urp::ExternalLearner.kind(), UrpKind::Employee);
        assert_eq!(Urp::SupervisorSelfService.kind(), UrpKind::Manager);
        assert_eq!(Urp::LocalBiAdministration.kind(), UrpKind::Professional);
        assert!(Urp::ManagerSelfServicePayrollApprovalsRequired.changes_need_approval());
        assert!(!Urp::ManagerSelfServicePayrollApprovalsNotRequired.changes_need_approval());
    }
}
