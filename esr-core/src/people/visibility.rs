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
use crate::values::{AssignmentNumber, EmailAddress, EmployeeNumber, OrgUnitId, VpdCode};
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

/// [`record_access_rule`] over a transaction: reads the actor's account and active grants, the
/// subject's assignments, supervisors up the line and the trust's unit hierarchy.
pub(crate) fn record_access(
    tx: &dyn StoreTx,
    actor: &Username,
    vpd: VpdCode,
    subject: &EmployeeNumber,
) -> Result<RecordAccess> {
    if actor.vpd() != vpd {
        return Ok(RecordAccess::default());
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
    let subject_assignments = tx.assignments_of(vpd, subject)?;
    let trust = trust_of(tx, vpd)?;
    record_access_rule(
        &acc.employee_number,
        subject,
        &grants,
        &subject_assignments,
        |n| tx.assignment(vpd, n),
        |unit, ancestor| trust.is_within(unit, ancestor),
    )
}

/// DOMAIN.md, record visibility: everyone sees their own record (and changes it with Update
/// Own Details); a line manager sees (and with Update Team Records changes) the records of
/// everyone who reports to them directly or through others; a delegated administrator sees and
/// changes the records in the organisation units delegated to them (and the units below);
/// professional URPs see or change records within their grant's scope. Nothing else is seen.
///
/// A pure rule: `grants` are the actor's active grants, `subject_assignments` the subject's
/// assignments; `assignment` reads an assignment by number (to walk up the supervisor chain)
/// and `is_within(unit, ancestor)` answers from the trust's hierarchy. The caller checks both
/// are in the same trust.
pub fn record_access_rule(
    actor: &EmployeeNumber,
    subject: &EmployeeNumber,
    grants: &[UrpGrant],
    subject_assignments: &[Assignment],
    mut assignment: impl FnMut(&AssignmentNumber) -> Result<Option<Assignment>>,
    is_within: impl Fn(&OrgUnitId, &OrgUnitId) -> bool,
) -> Result<RecordAccess> {
    let mut access = RecordAccess::default();
    let grants_fn = |f: Function| grants.iter().any(|g| g.urp.functions().contains(&f));
    if actor == subject {
        // Everyone sees their own record, whatever URPs they hold.
        access.view.push(RecordBasis::Own);
        if grants_fn(Function::UpdateOwnDetails) {
            access.change.push(RecordBasis::Own);
        }
    }
    // Line management: walk up from each of the subject's assignments.
    if grants_fn(Function::ViewTeamRecords) && actor != subject {
        let mut reports = false;
        'outer: for a in subject_assignments {
            let mut seen = HashSet::new();
            let mut cur = a.supervisor.clone();
            while let Some(n) = cur {
                if !seen.insert(n.clone()) {
                    break;
                }
                let Some(s) = assignment(&n)? else {
                    break;
                };
                if s.employee_number == *actor {
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
    let covers = |scope: &GrantScope| match scope {
        GrantScope::WholeTrust => true,
        GrantScope::OrgUnits(units) => subject_assignments
            .iter()
            .any(|a| units.iter().any(|u| is_within(&a.org_unit, u))),
    };
    for g in grants {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::urp::{Approval, Grantor};
    use crate::values::GrantId;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn emp(n: usize) -> EmployeeNumber {
        format!("{:08}", 20_000_000 + n).parse().unwrap()
    }

    fn number(n: usize) -> AssignmentNumber {
        format!("{}", 30_000_000 + n).parse().unwrap()
    }

    fn unit(n: usize) -> OrgUnitId {
        format!("Unit {n}").parse().unwrap()
    }

    fn grant(urp: Urp, scope: GrantScope) -> UrpGrant {
        UrpGrant {
            id: GrantId::from_bytes([7; 16]),
            vpd: "297".parse().unwrap(),
            holder: "297ECONROY01".parse().unwrap(),
            urp,
            scope,
            granted_by: Grantor::System("test".into()),
            granted_at: Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap(),
            reason: "test".into(),
            approval: Approval::NotRequired,
            revoked: None,
        }
    }

    /// A trust of `n` people, one assignment each, person i supervised by `boss[i]` (if any),
    /// in unit `units[i]`; units form a chain, unit k inside unit k - 1.
    fn people(boss: &[Option<usize>], units: &[usize]) -> HashMap<AssignmentNumber, Assignment> {
        boss.iter()
            .enumerate()
            .map(|(i, b)| {
                let a = Assignment {
                    vpd: "297".parse().unwrap(),
                    number: number(i),
                    employee_number: emp(i),
                    title: "Staff Nurse".into(),
                    position: "297|Staff Nurse|".parse().unwrap(),
                    org_unit: unit(units[i]),
                    supervisor: b.map(number),
                    weekly_minutes: None,
                    ended_on: None,
                };
                (a.number.clone(), a)
            })
            .collect()
    }

    fn reports_to(all: &HashMap<AssignmentNumber, Assignment>, who: usize, boss: usize) -> bool {
        let mut seen = HashSet::new();
        let mut cur = all[&number(who)].supervisor.clone();
        while let Some(n) = cur {
            if !seen.insert(n.clone()) {
                return false;
            }
            if n == number(boss) {
                return true;
            }
            cur = all[&n].supervisor.clone();
        }
        false
    }

    fn access(
        all: &HashMap<AssignmentNumber, Assignment>,
        actor: usize,
        subject: usize,
        grants: &[UrpGrant],
    ) -> RecordAccess {
        let mine = vec![all[&number(subject)].clone()];
        record_access_rule(
            &emp(actor),
            &emp(subject),
            grants,
            &mine,
            |n| Ok(all.get(n).cloned()),
            // unit k is within unit j when k >= j (a chain)
            |u, anc| {
                let k: usize = u.as_str()[5..].parse().unwrap();
                let j: usize = anc.as_str()[5..].parse().unwrap();
                k >= j
            },
        )
        .unwrap()
    }

    fn shape(n: usize) -> impl Strategy<Value = (Vec<Option<usize>>, Vec<usize>)> {
        (
            proptest::collection::vec(proptest::option::of(0..n), n),
            proptest::collection::vec(0..4usize, n),
        )
    }

    proptest! {
        /// Everyone sees their own record, whatever they hold; with no grant, nothing else.
        #[test]
        fn own_record_only_without_grants((boss, units) in shape(6), a in 0..6usize, s in 0..6usize) {
            let all = people(&boss, &units);
            let r = access(&all, a, s, &[]);
            prop_assert_eq!(r.can_view(), a == s);
            prop_assert!(!r.can_change());
        }

        /// A manager (Supervisor Self Service) sees exactly the people below them in any chain,
        /// cycles included.
        #[test]
        fn line_managers_see_their_reports((boss, units) in shape(6), a in 0..6usize, s in 0..6usize) {
            let all = people(&boss, &units);
            let g = [grant(Urp::SupervisorSelfService, GrantScope::WholeTrust)];
            let r = access(&all, a, s, &g);
            let line = a != s && reports_to(&all, s, a);
            prop_assert_eq!(r.view.contains(&RecordBasis::LineManager), line);
            prop_assert_eq!(r.can_view(), a == s || line);
        }

        /// A delegated administrator sees and changes records in their units and below, and
        /// no others.
        #[test]
        fn delegated_administrators_see_their_units(
            (boss, units) in shape(6), a in 0..6usize, s in 0..6usize, delegated in 0..4usize,
        ) {
            let all = people(&boss, &units);
            let g = [grant(Urp::AdministratorSelfServiceApprovalsNotRequired, GrantScope::OrgUnits([unit(delegated)].into()))];
            let r = access(&all, a, s, &g);
            let inside = units[s] >= delegated;
            prop_assert_eq!(r.view.contains(&RecordBasis::DelegatedAdministrator), inside);
            prop_assert_eq!(r.change.contains(&RecordBasis::DelegatedAdministrator), inside);
        }
    }
}
