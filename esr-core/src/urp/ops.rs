//! The URP operations of [`Esr`](crate::Esr): bootstrapping user administrators, granting and
//! revoking URPs, and the URP audit report.

use crate::access::Session;
use crate::audit::{AuditActor, AuditEvent};
use crate::error::{Error, Result};
use crate::org::TrustSettings;
use crate::people::{Account, AccountState};
use crate::service::*;
use crate::store::{Store, StoreTx};
use crate::urp::Function;
use crate::urp::UrpReportRow;
use crate::urp::{Approval, ApprovalRefusal, GrantScope, Revocation, Urp, UrpGrant};
use crate::urp::{check_approval, check_scope, check_user_administrator_floor, grantor_of};
use crate::values::Clock;
use crate::values::limits::MAX_REASON_CHARS;
use crate::values::username::Username;
use crate::values::{EmployeeNumber, GrantId, OrgUnitId, SessionId, VpdCode, clean_text};
use std::collections::BTreeSet;

/// A request to grant a URP.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GrantRequest {
    /// Who receives it.
    pub holder: Username,
    /// What.
    pub urp: Urp,
    /// Where it applies. Administrator Self Service needs named organisation units.
    pub scope: GrantScope,
    /// How the need was verified: the line manager for everything beyond employee-level URPs.
    pub approval: Approval,
    /// Why, for the audit report.
    pub reason: String,
}

impl GrantRequest {
    /// A request to grant `urp` to `holder` across the whole trust with no verification of the
    /// need (enough for employee-level URPs); narrow it with [`GrantRequest::in_org_units`] and
    /// verify it with [`GrantRequest::verified_by_line_manager`] or
    /// [`GrantRequest::with_caldicott_exception`].
    pub fn new(holder: Username, urp: Urp, reason: impl Into<String>) -> Self {
        Self {
            holder,
            urp,
            scope: GrantScope::WholeTrust,
            approval: Approval::NotRequired,
            reason: reason.into(),
        }
    }

    /// The grant applies to these organisation units and their descendants only.
    pub fn in_org_units(mut self, units: impl IntoIterator<Item = OrgUnitId>) -> Self {
        self.scope = GrantScope::OrgUnits(units.into_iter().collect());
        self
    }

    /// The holder's line manager verified the need.
    pub fn verified_by_line_manager(mut self, manager: EmployeeNumber) -> Self {
        self.approval = Approval::LineManager {
            verified_by: manager,
        };
        self
    }

    /// The trust's Caldicott guardian approved the grant as an exception, under `reference`.
    pub fn with_caldicott_exception(
        mut self,
        guardian: EmployeeNumber,
        reference: impl Into<String>,
    ) -> Self {
        self.approval = Approval::CaldicottException {
            approved_by: guardian,
            reference: reference.into(),
        };
        self
    }

    /// The verification from the optional parts a caller without sum types gives (the
    /// bindings' arguments): a line manager, or a Caldicott guardian with the exception's
    /// reference, or neither. Any other combination is refused with
    /// [`Error::InvalidInput`].
    pub fn with_verification(
        self,
        line_manager: Option<EmployeeNumber>,
        caldicott_guardian: Option<EmployeeNumber>,
        caldicott_reference: Option<String>,
    ) -> Result<Self> {
        match (line_manager, caldicott_guardian, caldicott_reference) {
            (None, None, None) => Ok(self),
            (Some(m), None, None) => Ok(self.verified_by_line_manager(m)),
            (None, Some(g), Some(r)) => Ok(self.with_caldicott_exception(g, r)),
            _ => Err(Error::invalid(
                "approval",
                "give a line manager, or a Caldicott guardian with the exception's reference, or neither",
            )),
        }
    }
}

impl<S: Store, C: Clock> Esr<S, C> {
    /// Gives a new trust its first user administrators: at least two distinct active accounts
    /// receive Local HRMS Systems and User Administration. Only while the trust has none;
    /// every later grant goes through one of them.
    pub fn bootstrap_user_administrators(
        &self,
        vpd: VpdCode,
        holders: &[Username],
        reason: &str,
    ) -> Result<Vec<UrpGrant>> {
        let reason = clean_text("reason", reason, MAX_REASON_CHARS)?;
        let distinct: BTreeSet<&Username> = holders.iter().collect();
        check_user_administrator_floor(distinct.len())?;
        let ids = distinct
            .iter()
            .map(|_| self.random16().map(GrantId::from_bytes))
            .collect::<Result<Vec<_>>>()?;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            trust_of(tx, vpd)?;
            if active_user_administrators(tx, vpd, None)? > 0 {
                return Err(Error::AlreadyBootstrapped(vpd));
            }
            let who = AuditActor::System("trust set-up".into());
            let mut out = Vec::new();
            for (holder, id) in distinct.iter().zip(ids.iter().copied()) {
                same_trust(vpd, holder)?;
                let acc = account_of(tx, holder)?;
                if acc.state != AccountState::Active {
                    return Err(state_error(&acc));
                }
                let g = UrpGrant {
                    id,
                    vpd,
                    holder: (*holder).clone(),
                    urp: Urp::LocalHrmsSystemsAndUserAdministration,
                    scope: GrantScope::WholeTrust,
                    granted_by: grantor_of(&who),
                    granted_at: now,
                    reason: reason.clone(),
                    approval: Approval::NotRequired,
                    revoked: None,
                };
                put_grant_audited(tx, &g, who.clone())?;
                out.push(g);
            }
            Ok(out)
        })
    }

    /// Grants a URP (needs Assign URPs, so an HSCN session of a user administrator). Records
    /// grantor, reason, time and the line manager's verification.
    pub fn grant_urp(&self, session: SessionId, request: GrantRequest) -> Result<UrpGrant> {
        let reason = clean_text("reason", &request.reason, MAX_REASON_CHARS)?;
        let id = GrantId::from_bytes(self.random16()?);
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let vpd = request.holder.vpd();
            let actor = Actor::Session(session);
            let who = authorise(tx, &actor, vpd, Function::AssignUrps, now)?;
            if let AuditActor::User { username, .. } = &who
                && *username == request.holder
            {
                return Err(Error::ApprovalRefused(ApprovalRefusal::SelfGrant));
            }
            let acc = account_of(tx, &request.holder)?;
            if !acc.state.counts_as_active_user() {
                return Err(state_error(&acc));
            }
            if holds(tx, &request.holder, request.urp)? {
                return Err(Error::AlreadyHeld {
                    username: request.holder.clone(),
                    urp: request.urp,
                });
            }
            let trust = trust_of(tx, vpd)?;
            check_scope(&trust, request.urp, &request.scope)?;
            check_approval_in(tx, &acc, &who, request.urp, &request.approval)?;
            let g = UrpGrant {
                id,
                vpd,
                holder: request.holder.clone(),
                urp: request.urp,
                scope: request.scope.clone(),
                granted_by: grantor_of(&who),
                granted_at: now,
                reason: reason.clone(),
                approval: request.approval.clone(),
                revoked: None,
            };
            put_grant_audited(tx, &g, who.clone())?;
            // The holder hears of it.
            self.tell(
                tx,
                vpd,
                now,
                &who,
                &acc.employee_number,
                crate::notify::NotificationKind::UrpGranted { urp: g.urp },
                format!("you were granted {}", g.urp),
            )?;
            Ok(g)
        })
    }

    /// Revokes a URP (needs Assign URPs). Refused if it would leave fewer than two active
    /// holders of Local HRMS Systems and User Administration.
    pub fn revoke_urp(
        &self,
        session: SessionId,
        holder: &Username,
        urp: Urp,
        reason: &str,
    ) -> Result<UrpGrant> {
        let reason = clean_text("reason", reason, MAX_REASON_CHARS)?;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let vpd = holder.vpd();
            let who = authorise(tx, &Actor::Session(session), vpd, Function::AssignUrps, now)?;
            let g = revoke_in(tx, who.clone(), holder, urp, reason.clone(), now)?;
            // The holder hears of it.
            let employee = account_of(tx, holder)?.employee_number;
            self.tell(
                tx,
                vpd,
                now,
                &who,
                &employee,
                crate::notify::NotificationKind::UrpRemoved { urp },
                format!("{urp} was removed from you"),
            )?;
            Ok(g)
        })
    }

    /// Every grant a user has had, active and revoked.
    pub fn grants_of(&self, username: &Username) -> Result<Vec<UrpGrant>> {
        self.store.transaction(|tx| {
            account_of(tx, username)?;
            tx.grants_of(username)
        })
    }

    /// The URPs a user holds now.
    pub fn held_urps(&self, username: &Username) -> Result<BTreeSet<Urp>> {
        self.store.transaction(|tx| {
            account_of(tx, username)?;
            held_urps(tx, username)
        })
    }

    /// The URP audit report for the six-monthly review: who holds what, since when, granted by
    /// whom and why (needs URP audit report). Its production is audited.
    pub fn urp_audit_report(&self, actor: &Actor, vpd: VpdCode) -> Result<Vec<UrpReportRow>> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::UrpAuditReport, now)?;
            trust_of(tx, vpd)?;
            let mut rows = Vec::new();
            // Workflows: the six-monthly review's standing, on every row.
            let review = crate::urp::ReviewColumns::read(tx, vpd, now)?;
            for g in tx.grants(vpd)?.into_iter().filter(UrpGrant::is_active) {
                let acc = account_of(tx, &g.holder)?;
                let person = person_of(tx, vpd, &acc.employee_number)?;
                let mut row = UrpReportRow::new(&g, &person, acc.state);
                (row.last_reviewed, row.review) = review.of(&g);
                rows.push(row);
            }
            rows.sort_by(|a, b| {
                (&a.username, a.urp, a.held_since).cmp(&(&b.username, b.urp, b.held_since))
            });
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::ReportProduced {
                    report: format!("URP audit report ({} rows)", rows.len()),
                },
            )?;
            Ok(rows)
        })
    }
}

/// Revokes `holder`'s active grant of `urp` inside a transaction, under the ordinary rules (the
/// two-user-administrator floor), audited, and noted on an open URP review: what
/// [`Esr::revoke_urp`] and the review's revocations share.
pub(crate) fn revoke_in(
    tx: &mut dyn StoreTx,
    who: AuditActor,
    holder: &Username,
    urp: Urp,
    reason: String,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<UrpGrant> {
    let vpd = holder.vpd();
    let mut g = tx
        .grants_of(holder)?
        .into_iter()
        .find(|g| g.is_active() && g.urp == urp)
        .ok_or_else(|| Error::NotHeld {
            username: holder.clone(),
            urp,
        })?;
    if urp == Urp::LocalHrmsSystemsAndUserAdministration {
        let acc = account_of(tx, holder)?;
        if acc.state.counts_as_active_user() {
            let remaining = active_user_administrators(tx, vpd, Some(holder))?;
            check_user_administrator_floor(remaining)?;
        }
    }
    g.revoked = Some(Revocation {
        by: grantor_of(&who),
        at: now,
        reason: reason.clone(),
    });
    tx.put_grant(&g)?;
    audit(
        tx,
        vpd,
        now,
        who.clone(),
        AuditEvent::UrpRevoked {
            grant: g.id,
            holder: holder.clone(),
            urp,
            reason,
        },
    )?;
    // Workflows: a revocation while a URP review is open decides that grant in the review.
    crate::urp::note_revocation_in_review(tx, &g, &who, now)?;
    Ok(g)
}

pub(crate) fn holds(tx: &dyn StoreTx, username: &Username, urp: Urp) -> Result<bool> {
    Ok(tx
        .grants_of(username)?
        .iter()
        .any(|g| g.is_active() && g.urp == urp))
}

pub(crate) fn active_user_administrators(
    tx: &dyn StoreTx,
    vpd: VpdCode,
    excluding: Option<&Username>,
) -> Result<usize> {
    let mut holders = BTreeSet::new();
    for g in tx.grants(vpd)? {
        if g.is_active()
            && g.urp == Urp::LocalHrmsSystemsAndUserAdministration
            && Some(&g.holder) != excluding
            && account_of(tx, &g.holder)?.state.counts_as_active_user()
        {
            holders.insert(g.holder);
        }
    }
    Ok(holders.len())
}

pub(crate) type SessionContext = (Session, TrustSettings, Account, BTreeSet<Urp>);

pub(crate) fn put_grant_audited(tx: &mut dyn StoreTx, g: &UrpGrant, who: AuditActor) -> Result<()> {
    tx.put_grant(g)?;
    let scope = match &g.scope {
        GrantScope::WholeTrust => "whole trust".to_owned(),
        GrantScope::OrgUnits(units) => units
            .iter()
            .map(OrgUnitId::as_str)
            .collect::<Vec<_>>()
            .join("; "),
    };
    audit(
        tx,
        g.vpd,
        g.granted_at,
        who,
        AuditEvent::UrpGranted {
            grant: g.id,
            holder: g.holder.clone(),
            urp: g.urp,
            scope,
            reason: g.reason.clone(),
            approval: g.approval.to_string(),
        },
    )
}

/// [`check_approval`] over a transaction: reads the holder's line managers and the grantor's
/// employee number.
pub(crate) fn check_approval_in(
    tx: &dyn StoreTx,
    holder: &Account,
    grantor: &AuditActor,
    urp: Urp,
    approval: &Approval,
) -> Result<()> {
    let vpd = holder.username.vpd();
    let grantor_employee = match grantor {
        AuditActor::User { username, .. } => Some(account_of(tx, username)?.employee_number),
        _ => None,
    };
    check_approval(
        &holder.username,
        &holder.employee_number,
        grantor_employee.as_ref(),
        urp,
        approval,
        || {
            let mut managers = BTreeSet::new();
            for a in tx.assignments_of(vpd, &holder.employee_number)? {
                if let Some(sup) = &a.supervisor
                    && let Some(s) = tx.assignment(vpd, sup)?
                {
                    managers.insert(s.employee_number);
                }
            }
            Ok(managers)
        },
        |approver| person_of(tx, vpd, approver).map(drop),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p<T: std::str::FromStr>(s: &str) -> T
    where
        T::Err: std::fmt::Debug,
    {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    #[test]
    fn a_grant_request_is_verified_by_a_line_manager_or_a_caldicott_exception_or_neither() {
        let base = || GrantRequest::new(p("297ECONROY01"), Urp::EmployeeSelfService, "new starter");
        let plain = base().with_verification(None, None, None).unwrap();
        assert_eq!(plain.approval, Approval::NotRequired);
        assert_eq!(plain.scope, GrantScope::WholeTrust);
        let m: EmployeeNumber = p("20000001");
        let g: EmployeeNumber = p("20000002");
        let lm = base()
            .with_verification(Some(m.clone()), None, None)
            .unwrap();
        assert_eq!(
            lm.approval,
            Approval::LineManager {
                verified_by: m.clone()
            }
        );
        let cg = base()
            .with_verification(None, Some(g.clone()), Some("CG-1".into()))
            .unwrap();
        assert_eq!(
            cg.approval,
            base().with_caldicott_exception(g.clone(), "CG-1").approval
        );
        for (m, g, r) in [
            (Some(m.clone()), Some(g.clone()), Some("CG-1".to_owned())),
            (None, Some(g.clone()), None),
            (None, None, Some("CG-1".to_owned())),
            (Some(m), None, Some("CG-1".to_owned())),
        ] {
            let e = base().with_verification(m, g, r).unwrap_err();
            assert!(e.to_string().starts_with("invalid approval"), "{e}");
        }
        let unit: OrgUnitId = p("WARD1");
        let scoped = base().in_org_units([unit.clone()]);
        assert_eq!(scoped.scope, GrantScope::OrgUnits([unit].into()));
    }
}
