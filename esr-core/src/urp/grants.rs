//! The rules of granting and revoking URPs, as pure functions over what the operations read:
//! the two-user-administrator floor, the scope of a grant and the approval of extra access.

use crate::error::{Error, Result};
use crate::org::Trust;
use crate::urp::{Approval, ApprovalRefusal, GrantScope, Grantor, Urp, UrpKind};
use crate::values::limits::MAX_EXCEPTION_REFERENCE_CHARS;
use crate::values::username::Username;
use crate::values::{EmployeeNumber, clean_text};
use std::collections::BTreeSet;

/// DOMAIN.md, URPs: a trust keeps at least this many active holders of Local HRMS Systems and
/// User Administration at all times, so that no single administrator can lock the others out.
pub const MIN_USER_ADMINISTRATORS: usize = 2;

/// The two-user-administrator floor: refuses a change that would leave `remaining` active user
/// administrators, fewer than [`MIN_USER_ADMINISTRATORS`].
pub fn check_user_administrator_floor(remaining: usize) -> Result<()> {
    if remaining < MIN_USER_ADMINISTRATORS {
        return Err(Error::TooFewUserAdministrators { remaining });
    }
    Ok(())
}

/// The scope of a grant: URPs that act for delegated organisation units name at least one unit,
/// and every unit named belongs to the trust.
pub fn check_scope(trust: &Trust, urp: Urp, scope: &GrantScope) -> Result<()> {
    match scope {
        GrantScope::WholeTrust if urp.needs_org_scope() => Err(Error::invalid(
            "scope",
            format!("{urp} acts for delegated organisation units; name at least one"),
        )),
        GrantScope::OrgUnits(units) if units.is_empty() => Err(Error::invalid(
            "scope",
            "it names no organisation unit; name at least one, or grant for the whole trust",
        )),
        GrantScope::OrgUnits(units) => {
            for u in units {
                trust.org_unit(u)?;
            }
            Ok(())
        }
        GrantScope::WholeTrust => Ok(()),
    }
}

/// The approval of extra access: anything beyond employee-level URPs needs the grantee's line
/// manager (one of the supervisors of their assignments, read by `line_managers`) to have
/// verified the need, or a Caldicott guardian's exception from someone who is neither the
/// grantee nor the grantor (`person_exists` checks the guardian is a person of the trust).
pub fn check_approval(
    holder: &Username,
    holder_employee: &EmployeeNumber,
    grantor_employee: Option<&EmployeeNumber>,
    urp: Urp,
    approval: &Approval,
    line_managers: impl FnOnce() -> Result<BTreeSet<EmployeeNumber>>,
    person_exists: impl FnOnce(&EmployeeNumber) -> Result<()>,
) -> Result<()> {
    match approval {
        Approval::NotRequired if urp.kind() == UrpKind::Employee => Ok(()),
        Approval::NotRequired => Err(Error::ApprovalRefused(
            ApprovalRefusal::LineManagerVerificationRequired { urp },
        )),
        Approval::LineManager { verified_by } => {
            let managers = line_managers()?;
            if managers.is_empty() {
                return Err(Error::ApprovalRefused(ApprovalRefusal::NoLineManager {
                    holder: holder.clone(),
                }));
            }
            if !managers.contains(verified_by) {
                return Err(Error::ApprovalRefused(ApprovalRefusal::NotTheLineManager {
                    verified_by: verified_by.clone(),
                    holder: holder.clone(),
                }));
            }
            Ok(())
        }
        Approval::CaldicottException {
            approved_by,
            reference,
        } => {
            person_exists(approved_by)?;
            clean_text(
                "exception reference",
                reference,
                MAX_EXCEPTION_REFERENCE_CHARS,
            )?;
            if approved_by == holder_employee || grantor_employee == Some(approved_by) {
                return Err(Error::ApprovalRefused(ApprovalRefusal::SelfApproval));
            }
            Ok(())
        }
        // Only Esr::grant_access_request cites a request, after checking it.
        Approval::AccessRequest { .. } => Err(Error::ApprovalRefused(
            ApprovalRefusal::GrantTheAccessRequest,
        )),
    }
}

/// Who made a grant or revocation, from who is acting.
pub(crate) fn grantor_of(who: &crate::audit::AuditActor) -> Grantor {
    match who {
        crate::audit::AuditActor::User { username, .. } => Grantor::User(username.clone()),
        crate::audit::AuditActor::System(p) => Grantor::System(p.clone()),
        crate::audit::AuditActor::Anonymous => Grantor::System("anonymous".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn emp(n: u32) -> EmployeeNumber {
        format!("{:08}", 20_000_000 + n).parse().unwrap()
    }

    fn holder() -> Username {
        "297ECONROY01".parse().unwrap()
    }

    fn urp() -> impl Strategy<Value = Urp> {
        proptest::sample::select(Urp::ALL.to_vec())
    }

    proptest! {
        /// The floor refuses exactly the changes that leave fewer than two administrators.
        #[test]
        fn the_floor_is_two(remaining in 0usize..10) {
            prop_assert_eq!(check_user_administrator_floor(remaining).is_ok(), remaining >= 2);
        }

        /// Employee-level URPs need no approval; every other URP refuses a grant without one.
        #[test]
        fn extra_access_needs_an_approval(urp in urp()) {
            let r = check_approval(&holder(), &emp(1), None, urp, &Approval::NotRequired,
                || Ok(BTreeSet::new()), |_| Ok(()));
            prop_assert_eq!(r.is_ok(), urp.kind() == UrpKind::Employee);
        }

        /// A line manager's verification counts only from one of the grantee's line managers.
        #[test]
        fn only_the_line_manager_verifies(
            urp in urp(),
            managers in proptest::collection::btree_set(0u32..20, 0..4),
            verifier in 0u32..20,
        ) {
            let set: BTreeSet<EmployeeNumber> = managers.iter().map(|&m| emp(m)).collect();
            let approval = Approval::LineManager { verified_by: emp(verifier) };
            let r = check_approval(&holder(), &emp(99), None, urp, &approval,
                || Ok(set.clone()), |_| Ok(()));
            prop_assert_eq!(r.is_ok(), managers.contains(&verifier));
        }

        /// A Caldicott exception is refused from the grantee or the grantor themselves.
        #[test]
        fn no_one_approves_their_own_exception(
            urp in urp(), approver in 0u32..4, grantor in 0u32..4,
        ) {
            let approval = Approval::CaldicottException {
                approved_by: emp(approver),
                reference: "CG-2026-17".into(),
            };
            let g = emp(grantor);
            let r = check_approval(&holder(), &emp(0), Some(&g), urp, &approval,
                || Ok(BTreeSet::new()), |_| Ok(()));
            prop_assert_eq!(r.is_ok(), approver != 0 && approver != grantor);
        }
    }
}
