//! The operations of competences awaiting approval on [`Esr`](crate::Esr). The records and
//! rules are in `claims.rs`.

use crate::audit::{AuditActor, AuditEvent};
use crate::compliance::{
    ClaimState, CompetenceClaim, NewCompetenceRecord, active_competence, check_claim_decider,
    record_competence_in, unknown_claim,
};
use crate::error::{Error, Result};
use crate::notify::NotificationKind;
use crate::service::*;
use crate::store::{Store, StoreTx};
use crate::urp::Function;
use crate::urp::{close_notifications, decision_session, line_managers_of, session_may};
use crate::values::limits::MAX_REASON_CHARS;
use crate::values::{
    Clock, CompetenceClaimId, EmployeeNumber, SessionId, VpdCode, clean_text, format_esr_date,
    uk_date,
};
use chrono::{DateTime, Utc};

/// The longest evidence text a learner gives with a competence they record.
pub const MAX_CLAIM_EVIDENCE_CHARS: usize = 500;

impl<S: Store, C: Clock> Esr<S, C> {
    /// The learner records a competence themselves (training at a previous trust, say), from
    /// their own session (needs My Compliance). It waits for approval by their line manager or
    /// a learning administrator and does not count towards compliance until then. The
    /// competence must be active in the trust's catalogue and the achieved date not after
    /// today.
    pub fn claim_competence(
        &self,
        session: SessionId,
        record: NewCompetenceRecord,
        evidence: &str,
    ) -> Result<CompetenceClaim> {
        let evidence = clean_text("evidence", evidence, MAX_CLAIM_EVIDENCE_CHARS)?;
        let id = CompetenceClaimId::from_bytes(self.random16()?);
        let now = self.clock.now();
        let today = uk_date(now);
        self.store.transaction(|tx| {
            let s = live_session(tx, session, now)?;
            let vpd = s.vpd;
            let who = authorise(
                tx,
                &Actor::Session(session),
                vpd,
                Function::MyCompliance,
                now,
            )?;
            let acc = account_of(tx, &s.username)?;
            active_competence(tx, vpd, &record.competence)?;
            if record.achieved > today {
                return Err(Error::invalid(
                    "achieved date",
                    format!(
                        "{} is after today ({}); record a competence once it is achieved",
                        format_esr_date(record.achieved),
                        format_esr_date(today)
                    ),
                ));
            }
            let claim = CompetenceClaim {
                id,
                vpd,
                employee_number: acc.employee_number.clone(),
                record: record.clone(),
                evidence: evidence.clone(),
                claimed_by: s.username.clone(),
                claimed_at: now,
                state: ClaimState::AwaitingApproval,
            };
            tx.put_competence_claim(&claim)?;
            claim_step(tx, &claim, now, who, "claimed", evidence.clone())?;
            // The line managers' worklists (learning administrators use their list).
            for manager in line_managers_of(tx, vpd, &claim.employee_number)? {
                self.raise(
                    tx,
                    vpd,
                    now,
                    &manager,
                    NotificationKind::CompetenceToApprove {
                        subject: claim.employee_number.clone(),
                        competence: claim.record.competence.clone(),
                        achieved: claim.record.achieved,
                    },
                    format!(
                        "{} recorded {} ({})",
                        s.username, claim.record.competence, claim.evidence
                    ),
                    None,
                )?;
            }
            Ok(claim)
        })
    }

    /// A learner's competences awaiting approval (the "Awaiting Approval" tab), oldest first:
    /// for the learner, their line managers and learning administrators (a system actor reads
    /// any).
    pub fn competences_awaiting_approval(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        employee: &EmployeeNumber,
    ) -> Result<Vec<CompetenceClaim>> {
        Ok(self
            .competence_claims_of(actor, vpd, employee)?
            .into_iter()
            .filter(CompetenceClaim::is_awaiting)
            .collect())
    }

    /// Every competence a learner recorded themselves, in every state (rejections with their
    /// reasons), oldest first; who may see them as for
    /// [`Esr::competences_awaiting_approval`].
    pub fn competence_claims_of(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        employee: &EmployeeNumber,
    ) -> Result<Vec<CompetenceClaim>> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            trust_of(tx, vpd)?;
            person_of(tx, vpd, employee)?;
            if let Actor::Session(sid) = actor {
                let s = live_session(tx, *sid, now)?;
                same_trust(vpd, &s.username)?;
                let acc = account_of(tx, &s.username)?;
                let own = acc.employee_number == *employee;
                let manager = line_managers_of(tx, vpd, employee)?.contains(&acc.employee_number);
                let admin = session_may(tx, *sid, Function::AdministerLearning, now)?;
                if !own && !manager && !admin {
                    return Err(Error::RecordNotVisible {
                        action: "view",
                        subject: employee.clone(),
                    });
                }
            }
            Ok(tx
                .competence_claims(vpd)?
                .into_iter()
                .filter(|c| c.employee_number == *employee)
                .collect())
        })
    }

    /// The claims the session user may decide, oldest first: their reports' as a line
    /// manager, and every learner's as a learning administrator; never their own.
    pub fn competence_claims_to_approve(&self, session: SessionId) -> Result<Vec<CompetenceClaim>> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let s = live_session(tx, session, now)?;
            let acc = account_of(tx, &s.username)?;
            let admin = session_may(tx, session, Function::AdministerLearning, now)?;
            let mut out = Vec::new();
            for c in tx.competence_claims(s.vpd)? {
                if !c.is_awaiting() {
                    continue;
                }
                let manager =
                    line_managers_of(tx, s.vpd, &c.employee_number)?.contains(&acc.employee_number);
                if check_claim_decider(&acc.employee_number, &c.employee_number, manager, admin)
                    .is_ok()
                {
                    out.push(c);
                }
            }
            Ok(out)
        })
    }

    /// The learner's line manager or a learning administrator approves a claim (from the NHS
    /// network or an upgraded internet session): the competence is recorded and counts
    /// towards compliance at once.
    pub fn approve_competence_claim(
        &self,
        session: SessionId,
        id: &CompetenceClaimId,
    ) -> Result<CompetenceClaim> {
        self.decide_claim(session, id, None)
    }

    /// The learner's line manager or a learning administrator rejects a claim, saying why:
    /// nothing is recorded, and the learner sees the reason.
    pub fn reject_competence_claim(
        &self,
        session: SessionId,
        id: &CompetenceClaimId,
        reason: &str,
    ) -> Result<CompetenceClaim> {
        let reason = clean_text("reason", reason, MAX_REASON_CHARS)?;
        self.decide_claim(session, id, Some(reason))
    }

    fn decide_claim(
        &self,
        session: SessionId,
        id: &CompetenceClaimId,
        rejection: Option<String>,
    ) -> Result<CompetenceClaim> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let c = decide_claim_in(tx, session, id, rejection.clone(), now)?;
            close_claim_notifications(tx, &c, None, now)?;
            Ok(c)
        })
    }
}

/// Approves (`rejection` `None`) or rejects a competence claim inside a transaction, for the
/// session's user: what [`Esr::approve_competence_claim`] and [`Esr::reject_competence_claim`]
/// do, for other operations (a notification's approve and reject actions) to call.
pub(crate) fn decide_claim_in(
    tx: &mut dyn StoreTx,
    session: SessionId,
    id: &CompetenceClaimId,
    rejection: Option<String>,
    now: DateTime<Utc>,
) -> Result<CompetenceClaim> {
    let today = uk_date(now);
    let action = if rejection.is_some() {
        "reject"
    } else {
        "approve"
    };
    let (s, acc, who) = decision_session(tx, session, now, action, "competence claim", id)?;
    let mut claim = tx
        .competence_claim(s.vpd, id)?
        .ok_or_else(|| unknown_claim(id))?;
    if !claim.is_awaiting() {
        return Err(Error::WorkflowState {
            what: "competence claim",
            id: id.to_string(),
            state: claim.state.to_string(),
            hint: "each claim is decided once; the learner records it again if needed".into(),
        });
    }
    let manager =
        line_managers_of(tx, s.vpd, &claim.employee_number)?.contains(&acc.employee_number);
    let admin = session_may(tx, session, Function::AdministerLearning, now)?;
    check_claim_decider(&acc.employee_number, &claim.employee_number, manager, admin).map_err(
        |reason| Error::NotTheDecider {
            action,
            what: "competence claim",
            id: id.to_string(),
            reason,
        },
    )?;
    let (step, detail) = match rejection {
        Some(reason) => {
            claim.state = ClaimState::Rejected {
                by: s.username.clone(),
                at: now,
                reason: reason.clone(),
            };
            ("rejected", reason)
        }
        None => {
            record_competence_in(
                tx,
                s.vpd,
                who.clone(),
                &claim.employee_number,
                claim.record.clone(),
                today,
                now,
            )?;
            claim.state = ClaimState::Approved {
                by: s.username.clone(),
                at: now,
            };
            ("approved", "recorded; counts towards compliance".to_owned())
        }
    };
    tx.put_competence_claim(&claim)?;
    claim_step(tx, &claim, now, who, step, detail)?;
    Ok(claim)
}

fn claim_step(
    tx: &mut dyn StoreTx,
    c: &CompetenceClaim,
    now: DateTime<Utc>,
    who: AuditActor,
    step: &str,
    detail: String,
) -> Result<()> {
    audit(
        tx,
        c.vpd,
        now,
        who,
        AuditEvent::WorkflowStep {
            workflow: "competence claim".into(),
            item: c.id.to_string(),
            step: step.into(),
            subject: c.employee_number.to_string(),
            detail: format!("{}; {detail}", c.record.competence),
        },
    )
}

// ----- Notifications (wf-notify's worklist) -------------------------------------------------------

/// Closes the line managers' open notifications asking to approve `c` (but `except`'s).
fn close_claim_notifications(
    tx: &mut dyn StoreTx,
    c: &CompetenceClaim,
    except: Option<&EmployeeNumber>,
    now: DateTime<Utc>,
) -> Result<()> {
    let managers = line_managers_of(tx, c.vpd, &c.employee_number)?;
    close_notifications(tx, c.vpd, &managers, except, now, |k| {
        matches!(k, NotificationKind::CompetenceToApprove { subject, competence, achieved }
            if *subject == c.employee_number
                && *competence == c.record.competence
                && *achieved == c.record.achieved)
    })
}

/// The approve and reject actions of a competence-to-approve notification, for the
/// notifications area's dispatch: decides the oldest claim awaiting approval that matches it,
/// for the session's user (`me`), in the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) fn act_on_competence_claim(
    tx: &mut dyn StoreTx,
    session: SessionId,
    me: &EmployeeNumber,
    vpd: VpdCode,
    subject: &EmployeeNumber,
    competence: &crate::compliance::CompetenceName,
    achieved: chrono::NaiveDate,
    rejection: Option<String>,
    now: DateTime<Utc>,
) -> Result<()> {
    let claim = tx
        .competence_claims(vpd)?
        .into_iter()
        .find(|c| {
            c.is_awaiting()
                && c.employee_number == *subject
                && c.record.competence == *competence
                && c.record.achieved == achieved
        })
        .ok_or_else(|| Error::WorkflowState {
            what: "competence claim",
            id: format!("{subject} {competence}"),
            state: "decided already".into(),
            hint: "nothing is left to approve".into(),
        })?;
    let c = decide_claim_in(tx, session, &claim.id, rejection, now)?;
    close_claim_notifications(tx, &c, Some(me), now)
}
