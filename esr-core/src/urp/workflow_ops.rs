//! The operations of access requests (OneForm) and the six-monthly URP review on
//! [`Esr`](crate::Esr). The records and rules are in `requests.rs`.

use crate::access::{AccessDecision, Channel, Session, decide};
use crate::audit::{AuditActor, AuditEvent};
use crate::error::{Error, Result};
use crate::notify::NotificationKind;
use crate::people::Account;
use crate::service::*;
use crate::store::{Store, StoreTx};
use crate::urp::{
    AccessRequest, AccessRequestState, AccessRequestStatus, AccessRoute, Approval, ApprovalRefusal,
    Function, GrantScope, Prerequisite, RecordedPrerequisite, ReviewDecision, ReviewItem,
    ReviewOutcome, Urp, UrpGrant, UrpReview, UrpReviewStatus, check_request_decider, check_scope,
    is_extra_access, prerequisites_of, unknown_request, unknown_review,
};
use crate::urp::{
    close_notifications, complete_if_decided, review_status_in, review_step, user_administrators_of,
};
use crate::urp::{grantor_of, holds, put_grant_audited, revoke_in};
use crate::values::limits::MAX_REASON_CHARS;
use crate::values::username::Username;
use crate::values::{
    AccessRequestId, Clock, EmployeeNumber, GrantId, SessionId, UrpReviewId, VpdCode, clean_text,
};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// The longest AS number (or other prerequisite reference) recorded.
pub const MAX_PREREQUISITE_REFERENCE_CHARS: usize = 40;

/// A new access request (a OneForm).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NewAccessRequest {
    /// Who would receive the URP.
    pub subject: Username,
    /// The URP asked for: one beyond the employee-level URPs.
    pub urp: Urp,
    /// Where it would apply (Administrator Self Service names organisation units).
    pub scope: GrantScope,
    /// Why it is needed.
    pub reason: String,
    /// `Some(why)` to raise it as an exception, for the trust's Caldicott guardian to
    /// authorise instead of the line manager.
    pub exception: Option<String>,
}

impl NewAccessRequest {
    /// A request for `urp` for `subject` across the whole trust, for the line manager to
    /// authorise.
    pub fn new(subject: Username, urp: Urp, reason: impl Into<String>) -> Self {
        Self {
            subject,
            urp,
            scope: GrantScope::WholeTrust,
            reason: reason.into(),
            exception: None,
        }
    }

    /// The URP would apply to these organisation units and their descendants only.
    pub fn in_org_units(
        mut self,
        units: impl IntoIterator<Item = crate::values::OrgUnitId>,
    ) -> Self {
        self.scope = GrantScope::OrgUnits(units.into_iter().collect());
        self
    }

    /// Raised as an exception, for the Caldicott guardian.
    pub fn as_exception(mut self, why: impl Into<String>) -> Self {
        self.exception = Some(why.into());
        self
    }
}

impl<S: Store, C: Clock> Esr<S, C> {
    // ----- Caldicott guardian ------------------------------------------------------------

    /// Names (or clears) the trust's Caldicott guardian, who authorises access requests raised
    /// as exceptions (needs Assign URPs: a user administrator, on the NHS network). The
    /// guardian must be a person of the trust.
    pub fn set_caldicott_guardian(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        guardian: Option<EmployeeNumber>,
    ) -> Result<crate::org::TrustSettings> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::AssignUrps, now)?;
            let mut trust = trust_of(tx, vpd)?;
            if let Some(g) = &guardian {
                person_of(tx, vpd, g)?;
            }
            trust.settings.caldicott_guardian = guardian.clone();
            tx.put_trust(&trust)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::SettingChanged {
                    setting: "Caldicott guardian".into(),
                    value: guardian
                        .clone()
                        .map_or_else(|| "none".into(), |g| g.to_string()),
                },
            )?;
            Ok(trust.settings)
        })
    }

    // ----- Access requests ---------------------------------------------------------------

    /// Raises an access request (a OneForm) for a URP beyond the employee-level ones. The
    /// person raises it for themselves (any live session of theirs), or someone raises it on
    /// their behalf: one of their line managers, a user administrator, or a system actor (the
    /// service desk portal). It goes to the person's line manager, or as an exception to the
    /// trust's Caldicott guardian, and expires after
    /// [`Config::access_request_lifetime`](crate::Config::access_request_lifetime).
    pub fn request_access(&self, actor: &Actor, new: NewAccessRequest) -> Result<AccessRequest> {
        let reason = clean_text("reason", &new.reason, MAX_REASON_CHARS)?;
        let exception = new
            .exception
            .as_deref()
            .map(|e| clean_text("exception", e, MAX_REASON_CHARS))
            .transpose()?;
        if !is_extra_access(new.urp) {
            return Err(Error::invalid(
                "urp",
                format!(
                    "{} is an employee-level URP, which needs no access request; a user administrator grants it directly",
                    new.urp
                ),
            ));
        }
        let id = AccessRequestId::from_bytes(self.random16()?);
        let now = self.clock.now();
        let lifetime = self.config.access_request_lifetime;
        self.store.transaction(|tx| {
            let vpd = new.subject.vpd();
            let trust = trust_of(tx, vpd)?;
            let subject = account_of(tx, &new.subject)?;
            let who = match actor {
                Actor::System(p) => AuditActor::System(p.clone()),
                Actor::Session(sid) => {
                    raiser_of(tx, *sid, vpd, &subject, now)?
                }
            };
            if !subject.state.counts_as_active_user() {
                return Err(state_error(&subject));
            }
            if holds(tx, &new.subject, new.urp)? {
                return Err(Error::AlreadyHeld {
                    username: new.subject.clone(),
                    urp: new.urp,
                });
            }
            check_scope(&trust, new.urp, &new.scope)?;
            if let Some(open) = tx.access_requests(vpd)?.into_iter().find(|r| {
                r.subject == new.subject
                    && r.urp == new.urp
                    && matches!(
                        r.status_at(now),
                        AccessRequestStatus::AwaitingAuthorisation | AccessRequestStatus::Authorised
                    )
            }) {
                return Err(Error::WorkflowState {
                    what: "access request",
                    id: open.id.to_string(),
                    state: format!("still open for {} {}", open.subject, open.urp),
                    hint: "follow that request instead of raising another".into(),
                });
            }
            let route = match exception.clone() {
                Some(e) => {
                    if trust.settings.caldicott_guardian.is_none() {
                        return Err(Error::invalid(
                            "exception",
                            format!(
                                "trust {vpd} has not named a Caldicott guardian to approve exceptions; a user administrator names one with Esr::set_caldicott_guardian"
                            ),
                        ));
                    }
                    AccessRoute::CaldicottGuardian { exception: e.clone() }
                }
                None => {
                    if line_managers_of(tx, vpd, &subject.employee_number)?.is_empty() {
                        return Err(Error::ApprovalRefused(ApprovalRefusal::NoLineManager {
                            holder: new.subject.clone(),
                        }));
                    }
                    AccessRoute::LineManager
                }
            };
            let r = AccessRequest {
                id,
                vpd,
                subject: new.subject.clone(),
                subject_employee: subject.employee_number.clone(),
                urp: new.urp,
                scope: new.scope.clone(),
                reason: reason.clone(),
                route,
                raised_by: grantor_of(&who),
                raised_at: now,
                expires_at: now + lifetime,
                state: AccessRequestState::AwaitingAuthorisation,
                prerequisites: Vec::new(),
            };
            tx.put_access_request(&r)?;
            request_step(tx, &r, now, who, "raised", format!("{}; {}", r.urp, r.route))?;
            // The worklist of whoever authorises it: each line manager, or the guardian.
            for person in request_deciders(tx, &r)? {
                self.raise(
                    tx,
                    vpd,
                    now,
                    &person,
                    NotificationKind::AccessRequestToAuthorise {
                        request: r.id.to_string(),
                    },
                    format!("{} asks for {}: {}", r.subject, r.urp, r.reason),
                    Some(r.expires_at),
                )?;
            }
            Ok(r)
        })
    }

    /// The line manager (or, for an exception, the Caldicott guardian) authorises a request,
    /// from an NHS network session or an upgraded internet session.
    pub fn authorise_access_request(
        &self,
        session: SessionId,
        id: &AccessRequestId,
    ) -> Result<AccessRequest> {
        self.decide_access_request(session, id, None)
    }

    /// The line manager (or, for an exception, the Caldicott guardian) rejects a request,
    /// saying why; it can never be granted.
    pub fn reject_access_request(
        &self,
        session: SessionId,
        id: &AccessRequestId,
        reason: &str,
    ) -> Result<AccessRequest> {
        let reason = clean_text("reason", reason, MAX_REASON_CHARS)?;
        self.decide_access_request(session, id, Some(reason))
    }

    fn decide_access_request(
        &self,
        session: SessionId,
        id: &AccessRequestId,
        rejection: Option<String>,
    ) -> Result<AccessRequest> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let r = decide_access_request_in(tx, session, id, rejection.clone(), now)?;
            close_request_notifications(tx, &r, None, now)?;
            Ok(r)
        })
    }

    /// Records a prerequisite on an open request (the AS number Finance set up, for Manager
    /// Self Service): by a system actor (Finance's feed) or a user administrator. Recording it
    /// again replaces the reference.
    pub fn record_access_prerequisite(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        id: &AccessRequestId,
        prerequisite: Prerequisite,
        reference: &str,
    ) -> Result<AccessRequest> {
        let reference = clean_text(
            "prerequisite reference",
            reference,
            MAX_PREREQUISITE_REFERENCE_CHARS,
        )?;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::AssignUrps, now)?;
            let mut r = tx
                .access_request(vpd, id)?
                .ok_or_else(|| unknown_request(id))?;
            if !matches!(
                r.status_at(now),
                AccessRequestStatus::AwaitingAuthorisation | AccessRequestStatus::Authorised
            ) {
                return Err(Error::WorkflowState {
                    what: "access request",
                    id: id.to_string(),
                    state: r.describe_at(now),
                    hint: "prerequisites are recorded on open requests only".into(),
                });
            }
            if !prerequisites_of(r.urp).contains(&prerequisite) {
                return Err(Error::invalid(
                    "prerequisite",
                    format!("{} has no prerequisite '{prerequisite}'", r.urp),
                ));
            }
            r.prerequisites.retain(|p| p.prerequisite != prerequisite);
            r.prerequisites.push(RecordedPrerequisite {
                prerequisite,
                reference: reference.clone(),
                recorded_by: grantor_of(&who),
                recorded_at: now,
            });
            tx.put_access_request(&r)?;
            request_step(
                tx,
                &r,
                now,
                who,
                "prerequisite recorded",
                prerequisite.to_string(),
            )?;
            Ok(r)
        })
    }

    /// A user administrator grants an authorised request whose prerequisites are recorded
    /// (needs Assign URPs). The grant cites the request
    /// ([`Approval::AccessRequest`]), and the request is then granted. Refused for a request
    /// not authorised, rejected, expired or granted already, with a prerequisite missing, or
    /// to the administrator themselves.
    ///
    /// [`Esr::grant_urp`] with a line manager's verification asserted by the administrator
    /// stays only as the documented exception (a grant recorded outside the OneForm).
    pub fn grant_access_request(
        &self,
        session: SessionId,
        id: &AccessRequestId,
    ) -> Result<UrpGrant> {
        let grant_id = GrantId::from_bytes(self.random16()?);
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let s = live_session(tx, session, now)?;
            let vpd = s.vpd;
            let who = authorise(tx, &Actor::Session(session), vpd, Function::AssignUrps, now)?;
            let mut r = tx
                .access_request(vpd, id)?
                .ok_or_else(|| unknown_request(id))?;
            let AccessRequestState::Authorised { by: authorised_by, .. } = r.state.clone() else {
                return Err(Error::WorkflowState {
                    what: "access request",
                    id: id.to_string(),
                    state: r.describe_at(now),
                    hint: "a request is granted once its line manager (or the Caldicott guardian) has authorised it".into(),
                });
            };
            if r.status_at(now) == AccessRequestStatus::Expired {
                return Err(Error::WorkflowState {
                    what: "access request",
                    id: id.to_string(),
                    state: r.describe_at(now),
                    hint: "raise a new request".into(),
                });
            }
            if let Some(missing) = r.missing_prerequisites().first() {
                return Err(Error::PrerequisiteMissing {
                    urp: r.urp,
                    prerequisite: missing.to_string(),
                });
            }
            if s.username == r.subject {
                return Err(Error::ApprovalRefused(ApprovalRefusal::SelfGrant));
            }
            let acc = account_of(tx, &r.subject)?;
            if !acc.state.counts_as_active_user() {
                return Err(state_error(&acc));
            }
            if holds(tx, &r.subject, r.urp)? {
                return Err(Error::AlreadyHeld {
                    username: r.subject.clone(),
                    urp: r.urp,
                });
            }
            let trust = trust_of(tx, vpd)?;
            check_scope(&trust, r.urp, &r.scope)?;
            let g = UrpGrant {
                id: grant_id,
                vpd,
                holder: r.subject.clone(),
                urp: r.urp,
                scope: r.scope.clone(),
                granted_by: grantor_of(&who),
                granted_at: now,
                reason: r.reason.clone(),
                approval: Approval::AccessRequest {
                    request: r.id,
                    authorised_by,
                    exception: matches!(r.route, AccessRoute::CaldicottGuardian { .. }),
                },
                revoked: None,
            };
            put_grant_audited(tx, &g, who.clone())?;
            r.state = AccessRequestState::Granted {
                grant: g.id,
                by: grantor_of(&who),
                at: now,
            };
            tx.put_access_request(&r)?;
            request_step(tx, &r, now, who.clone(), "granted", format!("grant {}", g.id))?;
            // The holder hears of it, as of any grant.
            self.tell(
                tx,
                vpd,
                now,
                &who,
                &r.subject_employee,
                NotificationKind::UrpGranted { urp: g.urp },
                format!("{} was granted to you (access request {})", g.urp, r.id),
            )?;
            Ok(g)
        })
    }

    /// An access request, for the person it is for, whoever raised it or may decide it, and
    /// user administrators (a system actor reads any).
    pub fn access_request(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        id: &AccessRequestId,
    ) -> Result<AccessRequest> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let r = tx
                .access_request(vpd, id)?
                .ok_or_else(|| unknown_request(id))?;
            if let Actor::Session(sid) = actor {
                let (s, settings, acc, held) = session_context(tx, *sid, now)?;
                same_trust(vpd, &s.username)?;
                let admin = decide(Function::AssignUrps, &context(&s, &settings, &acc, &held))
                    .is_allowed();
                let involved = r.subject == s.username
                    || r.raised_by == crate::urp::Grantor::User(s.username.clone())
                    || line_managers_of(tx, vpd, &r.subject_employee)?
                        .contains(&acc.employee_number)
                    || settings.caldicott_guardian.as_ref() == Some(&acc.employee_number);
                if !admin && !involved {
                    return Err(Error::NotTheDecider {
                        action: "see",
                        what: "access request",
                        id: id.to_string(),
                        reason: "only the person, who raised it, who decides it and user administrators see it".into(),
                    });
                }
            }
            Ok(r)
        })
    }

    /// The session user's own access requests (raised for them), oldest first.
    pub fn my_access_requests(&self, session: SessionId) -> Result<Vec<AccessRequest>> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let s = live_session(tx, session, now)?;
            Ok(tx
                .access_requests(s.vpd)?
                .into_iter()
                .filter(|r| r.subject == s.username)
                .collect())
        })
    }

    /// The requests awaiting the session user's authorisation (as a line manager, or as the
    /// Caldicott guardian for exceptions), oldest first; expired ones are left out. The
    /// notifications worklist shows the same requests.
    pub fn access_requests_to_authorise(&self, session: SessionId) -> Result<Vec<AccessRequest>> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let s = live_session(tx, session, now)?;
            let acc = account_of(tx, &s.username)?;
            let guardian = tx.trust_settings(s.vpd)?.and_then(|t| t.caldicott_guardian);
            let mut out = Vec::new();
            for r in tx.access_requests(s.vpd)? {
                if r.status_at(now) != AccessRequestStatus::AwaitingAuthorisation {
                    continue;
                }
                let managers = line_managers_of(tx, r.vpd, &r.subject_employee)?;
                if check_request_decider(
                    &r.route,
                    &acc.employee_number,
                    &r.subject_employee,
                    &managers,
                    guardian.as_ref(),
                )
                .is_ok()
                {
                    out.push(r);
                }
            }
            Ok(out)
        })
    }

    /// The trust's authorised, unexpired requests waiting for a user administrator (needs
    /// Assign URPs), oldest first, with any prerequisite still missing visible on each.
    pub fn access_requests_to_grant(&self, session: SessionId) -> Result<Vec<AccessRequest>> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let s = live_session(tx, session, now)?;
            authorise(
                tx,
                &Actor::Session(session),
                s.vpd,
                Function::AssignUrps,
                now,
            )?;
            Ok(tx
                .access_requests(s.vpd)?
                .into_iter()
                .filter(|r| r.status_at(now) == AccessRequestStatus::Authorised)
                .collect())
        })
    }

    // ----- The six-monthly URP review -------------------------------------------------------

    /// Where the trust's URP review stands: when the last completed, when the next is due,
    /// whether it is overdue, and the open cycle (needs URP audit report).
    pub fn urp_review_status(&self, actor: &Actor, vpd: VpdCode) -> Result<UrpReviewStatus> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            authorise(tx, actor, vpd, Function::UrpAuditReport, now)?;
            review_status_in(tx, vpd, now)
        })
    }

    /// Every URP review cycle of the trust, oldest first (needs URP audit report).
    pub fn urp_reviews(&self, actor: &Actor, vpd: VpdCode) -> Result<Vec<UrpReview>> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            authorise(tx, actor, vpd, Function::UrpAuditReport, now)?;
            tx.urp_reviews(vpd)
        })
    }

    /// Opens a URP review cycle (needs Assign URPs): it lists every active grant beyond the
    /// employee-level URPs, each to be confirmed or revoked. One cycle is open at a time; its
    /// due date is six months after the last completed one. A trust with no such grant
    /// completes the cycle at once.
    pub fn open_urp_review(&self, session: SessionId) -> Result<UrpReview> {
        let id = UrpReviewId::from_bytes(self.random16()?);
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let s = live_session(tx, session, now)?;
            let vpd = s.vpd;
            let who = authorise(tx, &Actor::Session(session), vpd, Function::AssignUrps, now)?;
            let status = review_status_in(tx, vpd, now)?;
            if let Some(open) = status.open {
                return Err(Error::WorkflowState {
                    what: "URP review",
                    id: open.to_string(),
                    state: format!("still open with {} grant(s) undecided", status.undecided),
                    hint: "decide its grants before opening another".into(),
                });
            }
            let items: Vec<ReviewItem> = tx
                .grants(vpd)?
                .into_iter()
                .filter(|g| g.is_active() && is_extra_access(g.urp))
                .map(|g| ReviewItem {
                    grant: g.id,
                    holder: g.holder,
                    urp: g.urp,
                    decision: None,
                })
                .collect();
            let mut review = UrpReview {
                id,
                vpd,
                opened_by: grantor_of(&who),
                opened_at: now,
                due: status.due,
                items,
                completed_at: None,
            };
            tx.put_urp_review(&review)?;
            // Every user administrator's worklist shows the review until it completes.
            for person in user_administrators_of(tx, vpd)? {
                self.raise(
                    tx,
                    vpd,
                    now,
                    &person,
                    NotificationKind::UrpReviewDue {
                        cycle: review.id.to_string(),
                        due: review.due,
                    },
                    format!(
                        "the six-monthly URP review is open: {} grant(s) to confirm or revoke",
                        review.items.len()
                    ),
                    None,
                )?;
            }
            review_step(
                tx,
                &review,
                now,
                who.clone(),
                "opened",
                "",
                format!("{} grant(s); due {}", review.items.len(), review.due),
            )?;
            complete_if_decided(tx, &mut review, now, who)?;
            Ok(review)
        })
    }

    /// A user administrator confirms a grant in the open review: the holder still needs it.
    pub fn confirm_urp_grant(
        &self,
        session: SessionId,
        review: &UrpReviewId,
        grant: &GrantId,
    ) -> Result<UrpReview> {
        self.decide_review_item(session, review, grant, ReviewOutcome::Confirmed)
    }

    /// A user administrator revokes a grant in the open review, through the ordinary rules of
    /// revocation: the two-user-administrator floor still holds.
    pub fn revoke_urp_in_review(
        &self,
        session: SessionId,
        review: &UrpReviewId,
        grant: &GrantId,
        reason: &str,
    ) -> Result<UrpReview> {
        let reason = clean_text("reason", reason, MAX_REASON_CHARS)?;
        self.decide_review_item(session, review, grant, ReviewOutcome::Revoked { reason })
    }

    fn decide_review_item(
        &self,
        session: SessionId,
        review_id: &UrpReviewId,
        grant: &GrantId,
        outcome: ReviewOutcome,
    ) -> Result<UrpReview> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let s = live_session(tx, session, now)?;
            let vpd = s.vpd;
            let who = authorise(tx, &Actor::Session(session), vpd, Function::AssignUrps, now)?;
            let mut review = tx
                .urp_review(vpd, review_id)?
                .ok_or_else(|| unknown_review(review_id))?;
            if let Some(done) = review.completed_at {
                return Err(Error::WorkflowState {
                    what: "URP review",
                    id: review_id.to_string(),
                    state: format!("completed at {}", done.to_rfc3339()),
                    hint: "open the next review to decide grants again".into(),
                });
            }
            let Some(pos) = review.items.iter().position(|i| i.grant == *grant) else {
                return Err(Error::UnknownWorkflowItem {
                    what: "grant under review",
                    id: grant.to_string(),
                });
            };
            let item = review.items[pos].clone();
            if let Some(d) = &item.decision {
                return Err(Error::WorkflowState {
                    what: "grant under review",
                    id: grant.to_string(),
                    state: match &d.outcome {
                        ReviewOutcome::Confirmed => format!("confirmed by {}", d.by),
                        ReviewOutcome::Revoked { .. } => format!("revoked by {}", d.by),
                    },
                    hint: "each grant is decided once in a review".into(),
                });
            }
            if item.holder == s.username {
                return Err(Error::NotTheDecider {
                    action: "decide",
                    what: "grant under review",
                    id: grant.to_string(),
                    reason: "nobody reviews their own grant; ask another user administrator".into(),
                });
            }
            let step = match &outcome {
                ReviewOutcome::Confirmed => "confirmed",
                ReviewOutcome::Revoked { .. } => "revoked",
            };
            review.items[pos].decision = Some(ReviewDecision {
                outcome: outcome.clone(),
                by: grantor_of(&who),
                at: now,
            });
            tx.put_urp_review(&review)?;
            if let ReviewOutcome::Revoked { reason } = &outcome {
                // Through the ordinary rules: the floor of two user administrators holds, and
                // a refusal undoes the decision with the rest of the transaction.
                revoke_in(tx, who.clone(), &item.holder, item.urp, reason.clone(), now)?;
            }
            review_step(
                tx,
                &review,
                now,
                who.clone(),
                step,
                &item.holder.to_string(),
                format!("{}; grant {}", item.urp, item.grant),
            )?;
            complete_if_decided(tx, &mut review, now, who)?;
            Ok(review)
        })
    }
}

/// Authorises (`rejection` `None`) or rejects an access request inside a transaction, for the
/// session's user: what [`Esr::authorise_access_request`] and [`Esr::reject_access_request`]
/// do, for other operations (a notification's approve and reject actions) to call.
pub(crate) fn decide_access_request_in(
    tx: &mut dyn StoreTx,
    session: SessionId,
    id: &AccessRequestId,
    rejection: Option<String>,
    now: DateTime<Utc>,
) -> Result<AccessRequest> {
    let action = if rejection.is_some() {
        "reject"
    } else {
        "authorise"
    };
    let (s, acc, who) = decision_session(tx, session, now, action, "access request", id)?;
    let mut r = tx
        .access_request(s.vpd, id)?
        .ok_or_else(|| unknown_request(id))?;
    if r.status_at(now) != AccessRequestStatus::AwaitingAuthorisation {
        return Err(Error::WorkflowState {
            what: "access request",
            id: id.to_string(),
            state: r.describe_at(now),
            hint: "only a request awaiting authorisation is authorised or rejected; raise a new one if it is needed".into(),
        });
    }
    let managers = line_managers_of(tx, r.vpd, &r.subject_employee)?;
    let guardian = tx.trust_settings(r.vpd)?.and_then(|t| t.caldicott_guardian);
    check_request_decider(
        &r.route,
        &acc.employee_number,
        &r.subject_employee,
        &managers,
        guardian.as_ref(),
    )
    .map_err(|reason| Error::NotTheDecider {
        action,
        what: "access request",
        id: id.to_string(),
        reason,
    })?;
    let by = acc.employee_number.clone();
    let (step, detail) = match rejection {
        Some(reason) => {
            r.state = AccessRequestState::Rejected {
                by,
                at: now,
                reason: reason.clone(),
            };
            ("rejected", reason)
        }
        None => {
            r.state = AccessRequestState::Authorised { by, at: now };
            ("authorised", format!("{}; by {}", r.urp, r.route))
        }
    };
    tx.put_access_request(&r)?;
    request_step(tx, &r, now, who, step, detail)?;
    Ok(r)
}

/// A session that may decide an approval: live, in its trust, and on the NHS network or an
/// upgraded internet session (over the internet before an upgrade only the count of open
/// items shows). Returns the session, its account and who it is for the audit.
pub(crate) fn decision_session(
    tx: &mut dyn StoreTx,
    session: SessionId,
    now: DateTime<Utc>,
    action: &'static str,
    what: &'static str,
    id: &dyn std::fmt::Display,
) -> Result<(Session, Account, AuditActor)> {
    let s = live_session(tx, session, now)?;
    if s.channel == Channel::Internet && !s.is_upgraded() {
        return Err(Error::NotTheDecider {
            action,
            what,
            id: id.to_string(),
            reason: "approvals are given on the NHS network or in an upgraded internet session; upgrade this session with a one-time passcode".into(),
        });
    }
    let acc = account_of(tx, &s.username)?;
    if !acc.state.counts_as_active_user() {
        return Err(state_error(&acc));
    }
    let who = user_actor(&s);
    Ok((s, acc, who))
}

/// Whether the session user may use `function` now (for deciders who qualify by a URP, such as
/// a learning administrator).
pub(crate) fn session_may(
    tx: &mut dyn StoreTx,
    session: SessionId,
    function: Function,
    now: DateTime<Utc>,
) -> Result<bool> {
    let (s, settings, acc, held) = session_context(tx, session, now)?;
    Ok(matches!(
        decide(function, &context(&s, &settings, &acc, &held)),
        AccessDecision::Allowed
    ))
}

/// The line managers of a person: the people whose assignments supervise one of theirs.
pub(crate) fn line_managers_of(
    tx: &dyn StoreTx,
    vpd: VpdCode,
    employee: &EmployeeNumber,
) -> Result<BTreeSet<EmployeeNumber>> {
    let mut managers = BTreeSet::new();
    for a in tx.assignments_of(vpd, employee)? {
        if let Some(sup) = &a.supervisor
            && let Some(s) = tx.assignment(vpd, sup)?
        {
            managers.insert(s.employee_number);
        }
    }
    Ok(managers)
}

/// Who may raise a request for `subject` in a session: the person themselves, one of their
/// line managers, or a user administrator.
fn raiser_of(
    tx: &mut dyn StoreTx,
    session: SessionId,
    vpd: VpdCode,
    subject: &Account,
    now: DateTime<Utc>,
) -> Result<AuditActor> {
    let (s, settings, acc, held) = session_context(tx, session, now)?;
    same_trust(vpd, &s.username)?;
    let ctx = context(&s, &settings, &acc, &held);
    if s.username == subject.username {
        return match decide(Function::ViewOwnRecord, &ctx) {
            AccessDecision::Allowed => Ok(user_actor(&s)),
            AccessDecision::Denied(denial) => Err(Error::NotPermitted {
                function: Function::ViewOwnRecord,
                denial,
            }),
        };
    }
    if decide(Function::AssignUrps, &ctx).is_allowed()
        || line_managers_of(tx, vpd, &subject.employee_number)?.contains(&acc.employee_number)
    {
        return Ok(user_actor(&s));
    }
    Err(Error::NotTheDecider {
        action: "raise",
        what: "access request for",
        id: subject.username.to_string(),
        reason: "a request is raised by the person, their line manager or a user administrator"
            .into(),
    })
}

fn request_step(
    tx: &mut dyn StoreTx,
    r: &AccessRequest,
    now: DateTime<Utc>,
    who: AuditActor,
    step: &str,
    detail: String,
) -> Result<()> {
    audit(
        tx,
        r.vpd,
        now,
        who,
        AuditEvent::WorkflowStep {
            workflow: "access request".into(),
            item: r.id.to_string(),
            step: step.into(),
            subject: r.subject.to_string(),
            detail,
        },
    )
}

// ----- Notifications (wf-notify's worklist) -------------------------------------------------------

/// Who may authorise a request now: its subject's line managers, or the trust's Caldicott
/// guardian for an exception.
fn request_deciders(tx: &dyn StoreTx, r: &AccessRequest) -> Result<BTreeSet<EmployeeNumber>> {
    Ok(match r.route {
        AccessRoute::LineManager => line_managers_of(tx, r.vpd, &r.subject_employee)?,
        AccessRoute::CaldicottGuardian { .. } => tx
            .trust_settings(r.vpd)?
            .and_then(|t| t.caldicott_guardian)
            .into_iter()
            .collect(),
    })
}

/// Closes the open notifications asking to authorise `r`, but `except`'s.
fn close_request_notifications(
    tx: &mut dyn StoreTx,
    r: &AccessRequest,
    except: Option<&EmployeeNumber>,
    now: DateTime<Utc>,
) -> Result<()> {
    let id = r.id.to_string();
    let deciders = request_deciders(tx, r)?;
    close_notifications(
        tx,
        r.vpd,
        &deciders,
        except,
        now,
        |k| matches!(k, NotificationKind::AccessRequestToAuthorise { request } if *request == id),
    )
}

/// The approve and reject actions of an access request's notification, for the notifications
/// area's dispatch: decides the request for the session's user (`me`), in the caller's
/// transaction, and closes the other deciders' notifications of it.
pub(crate) fn act_on_access_request(
    tx: &mut dyn StoreTx,
    session: SessionId,
    me: &EmployeeNumber,
    request: &str,
    rejection: Option<String>,
    now: DateTime<Utc>,
) -> Result<()> {
    let id: AccessRequestId = request.parse()?;
    let r = decide_access_request_in(tx, session, &id, rejection, now)?;
    close_request_notifications(tx, &r, Some(me), now)
}
