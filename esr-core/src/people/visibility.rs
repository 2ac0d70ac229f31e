//! Record visibility: who may see or change whose record, and on what basis.

use crate::access::{AccessContext, AccessDecision, Denial, decide};
use crate::error::{Error, Result};
use crate::people::Assignment;
use crate::people::{Person, PersonName};
use crate::service::*;
use crate::store::StoreTx;
use crate::urp::Function;
use crate::urp::{GrantScope, Urp, UrpGrant};
use crate::values::username::Username;
use crate::values::{EmailAddress, EmployeeNumber, VpdCode};
use std::collections::HashSet;
use std::fmt;

/// On what basis someone may see or change a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RecordBasis {
    /// It is their own record.
    Own,
    /// The person reports to them, directly or through others.
    LineManager,
    /// The person works in an organisation unit delegated to them.
    DelegatedAdministrator,
    /// The person is within the scope of a professional URP they hold.
    Professional(Urp),
}

impl RecordBasis {
    /// The function a session needs to view a record on this basis; `None` where none is
    /// needed (everyone sees their own record).
    pub(crate) fn view_function(self) -> Option<Function> {
        match self {
            Self::Own => None,
            Self::LineManager => Some(Function::ViewTeamRecords),
            Self::DelegatedAdministrator => Some(Function::AdministerDelegatedRecords),
            Self::Professional(_) => Some(Function::ViewStaffRecords),
        }
    }
    /// The function a session needs to change a record on this basis.
    pub(crate) fn change_function(self) -> Option<Function> {
        Some(match self {
            Self::Own => Function::UpdateOwnDetails,
            Self::LineManager => Function::UpdateTeamRecords,
            Self::DelegatedAdministrator => Function::AdministerDelegatedRecords,
            Self::Professional(_) => Function::ChangeStaffRecords,
        })
    }
}

impl fmt::Display for RecordBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Own => f.write_str("own record"),
            Self::LineManager => f.write_str("line manager"),
            Self::DelegatedAdministrator => f.write_str("delegated administrator"),
            Self::Professional(u) => write!(f, "{u}"),
        }
    }
}

/// What an actor may do with a person's record, whatever the channel, from the URPs they hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RecordAccess {
    /// The bases on which they may view it (empty: not at all).
    pub view: Vec<RecordBasis>,
    /// The bases on which they may change it.
    pub change: Vec<RecordBasis>,
}

impl RecordAccess {
    /// Whether any basis allows viewing.
    pub fn can_view(&self) -> bool {
        !self.view.is_empty()
    }
    /// Whether any basis allows changing.
    pub fn can_change(&self) -> bool {
        !self.change.is_empty()
    }
}

/// A person's record as a viewer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PersonRecord {
    /// The person (the mobile number prints masked).
    pub person: Person,
    /// Their assignments.
    pub assignments: Vec<Assignment>,
    /// The basis on which it was shown.
    pub basis: RecordBasis,
}

/// A change to a person's details; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DetailsChange {
    /// A new given name.
    pub given_name: Option<String>,
    /// A new surname.
    pub family_name: Option<String>,
    /// A new recruitment e-mail address.
    pub recruitment_email: Option<EmailAddress>,
}

/// One member of a manager's team.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TeamMember {
    /// The member's assignment that reports into the manager's line.
    pub assignment: Assignment,
    /// The member's name.
    pub name: PersonName,
    /// 1 for a direct report, 2 for a report's report, and so on.
    pub depth: u32,
}

pub(crate) fn record_access(
    tx: &dyn StoreTx,
    actor: &Username,
    vpd: VpdCode,
    subject: &EmployeeNumber,
) -> Result<RecordAccess> {
    let mut access = RecordAccess::default();
    if actor.vpd() != vpd {
        return Ok(access);
    }
    let acc = account_of(tx, actor)?;
    let Some(_) = tx.person(vpd, subject)? else {
        return Err(Error::UnknownPerson {
            vpd,
            employee: subject.clone(),
        });
    };
    let grants: Vec<UrpGrant> = tx
        .grants_of(actor)?
        .into_iter()
        .filter(UrpGrant::is_active)
        .collect();
    let grants_fn = |f: Function| grants.iter().any(|g| g.urp.functions().contains(&f));
    if acc.employee_number == *subject {
        // Everyone sees their own record, whatever URPs they hold.
        access.view.push(RecordBasis::Own);
        if grants_fn(Function::UpdateOwnDetails) {
            access.change.push(RecordBasis::Own);
        }
    }
    let subject_assignments = tx.assignments_of(vpd, subject)?;
    // Line management: walk up from each of the subject's assignments.
    if grants_fn(Function::ViewTeamRecords) && acc.employee_number != *subject {
        let mut reports = false;
        'outer: for a in &subject_assignments {
            let mut seen = HashSet::new();
            let mut cur = a.supervisor.clone();
            while let Some(n) = cur {
                if !seen.insert(n.clone()) {
                    break;
                }
                let Some(s) = tx.assignment(vpd, &n)? else {
                    break;
                };
                if s.employee_number == acc.employee_number {
                    reports = true;
                    break 'outer;
                }
                cur = s.supervisor;
            }
        }
        if reports {
            access.view.push(RecordBasis::LineManager);
            if grants_fn(Function::UpdateTeamRecords) {
                access.change.push(RecordBasis::LineManager);
            }
        }
    }
    let trust = trust_of(tx, vpd)?;
    let covers = |scope: &GrantScope| match scope {
        GrantScope::WholeTrust => true,
        GrantScope::OrgUnits(units) => subject_assignments
            .iter()
            .any(|a| units.iter().any(|u| trust.is_within(&a.org_unit, u))),
    };
    for g in &grants {
        let f = g.urp.functions();
        if f.contains(&Function::AdministerDelegatedRecords)
            && matches!(g.scope, GrantScope::OrgUnits(_))
            && covers(&g.scope)
        {
            push_once(&mut access.view, RecordBasis::DelegatedAdministrator);
            push_once(&mut access.change, RecordBasis::DelegatedAdministrator);
        }
        if f.contains(&Function::ViewStaffRecords) && covers(&g.scope) {
            push_once(&mut access.view, RecordBasis::Professional(g.urp));
        }
        if f.contains(&Function::ChangeStaffRecords) && covers(&g.scope) {
            push_once(&mut access.change, RecordBasis::Professional(g.urp));
        }
    }
    Ok(access)
}

pub(crate) fn push_once(v: &mut Vec<RecordBasis>, b: RecordBasis) {
    if !v.contains(&b) {
        v.push(b);
    }
}

/// The first basis whose function the session may use; otherwise the most useful refusal.
pub(crate) fn pick_basis(
    bases: &[RecordBasis],
    ctx: &AccessContext<'_>,
    function_of: fn(RecordBasis) -> Option<Function>,
    action: &'static str,
    subject: &EmployeeNumber,
) -> Result<RecordBasis> {
    let mut first_denial: Option<(Function, Denial)> = None;
    for b in bases {
        let Some(f) = function_of(*b) else {
            return Ok(*b);
        };
        match decide(f, ctx) {
            AccessDecision::Allowed => return Ok(*b),
            AccessDecision::Denied(d) => {
                first_denial.get_or_insert((f, d));
            }
        }
    }
    match first_denial {
        Some((function, denial)) => Err(Error::NotPermitted { function, denial }),
        None => Err(Error::RecordNotVisible {
            action,
            subject: subject.clone(),
        }),
    }
}
