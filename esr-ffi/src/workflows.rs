//! The three workflows for apps: access requests (a OneForm for a URP beyond the employee
//! level), the six-monthly URP review, and competences a learner claims for approval.

use crate::catalogue::Urp;
use crate::error::EsrError;
use crate::service::{EsrActor, EsrService, EsrSession, parse};
use crate::types::{CalendarDate, NewCompetenceRecord, to_system};
use esr_core::chrono::{DateTime, Utc};
use esr_core::compliance::ClaimState;
use esr_core::urp::{AccessRequestState, AccessRoute, GrantScope, Prerequisite, ReviewOutcome};
use esr_core::values::{AccessRequestId, CompetenceClaimId, UrpReviewId};
use esr_core::{EmployeeNumber, GrantId, VpdCode};
use std::sync::Arc;
use std::time::SystemTime;

/// What must be in place before a URP is granted, besides the authorisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AccessPrerequisite {
    /// An AS number set up by Finance (for Manager Self Service).
    AsNumber,
}

fn prerequisite_name(p: Prerequisite) -> String {
    match p {
        Prerequisite::AsNumber => "as_number",
        _ => "other",
    }
    .to_owned()
}

/// A new access request.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewAccessRequest {
    /// Who would receive the URP (a username).
    pub subject: String,
    /// The URP asked for: one beyond the employee-level URPs.
    pub urp: Urp,
    /// Why it is needed.
    pub reason: String,
    /// The organisation units it would apply to (`nil`: the whole trust).
    #[uniffi(default = None)]
    pub org_units: Option<Vec<String>>,
    /// Why it is an exception, to route it to the trust's Caldicott guardian instead of the
    /// line manager.
    #[uniffi(default = None)]
    pub exception: Option<String>,
}

/// A prerequisite recorded on an access request.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RecordedPrerequisiteInfo {
    /// Its short name (`as_number`).
    pub prerequisite: String,
    /// Its reference (the AS number).
    pub reference: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub recorded_at: SystemTime,
}

/// An access request as it stands now.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccessRequestInfo {
    /// Its id.
    pub id: String,
    /// The trust.
    pub vpd: String,
    /// Who would receive the URP (a username).
    pub subject: String,
    /// Their employee number.
    pub subject_employee: String,
    /// The URP's name.
    pub urp: String,
    /// The organisation units it would apply to (`nil`: the whole trust).
    pub org_units: Option<Vec<String>>,
    /// Why it is needed.
    pub reason: String,
    /// `line_manager` or `caldicott_guardian`.
    pub route: String,
    /// Why it is an exception (the Caldicott route).
    pub exception: Option<String>,
    /// Who raised it.
    pub raised_by: String,
    /// When.
    pub raised_at: SystemTime,
    /// When it expires unless granted.
    pub expires_at: SystemTime,
    /// `awaiting_authorisation`, `authorised`, `rejected`, `granted` or `expired`.
    pub status: String,
    /// Who authorised or rejected it (an employee number).
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<SystemTime>,
    /// A rejection's reason.
    pub rejection_reason: Option<String>,
    /// The id of the grant made.
    pub grant: Option<String>,
    /// The prerequisites recorded.
    pub prerequisites: Vec<RecordedPrerequisiteInfo>,
    /// The prerequisites still to record (short names).
    pub missing_prerequisites: Vec<String>,
}

impl AccessRequestInfo {
    fn at(r: esr_core::urp::AccessRequest, now: DateTime<Utc>) -> Self {
        let status = r.status_at(now).as_str().replace(' ', "_");
        let missing = r
            .missing_prerequisites()
            .into_iter()
            .map(prerequisite_name)
            .collect();
        let (decided_by, decided_at, rejection_reason, grant) = match &r.state {
            AccessRequestState::AwaitingAuthorisation => (None, None, None, None),
            AccessRequestState::Authorised { by, at } => {
                (Some(by.to_string()), Some(to_system(*at)), None, None)
            }
            AccessRequestState::Rejected { by, at, reason } => (
                Some(by.to_string()),
                Some(to_system(*at)),
                Some(reason.clone()),
                None,
            ),
            AccessRequestState::Granted { grant, .. } => {
                (None, None, None, Some(grant.to_string()))
            }
        };
        let (route, exception) = match r.route {
            AccessRoute::LineManager => ("line_manager", None),
            AccessRoute::CaldicottGuardian { exception } => ("caldicott_guardian", Some(exception)),
        };
        Self {
            id: r.id.to_string(),
            vpd: r.vpd.to_string(),
            subject: r.subject.to_string(),
            subject_employee: r.subject_employee.to_string(),
            urp: r.urp.name().to_owned(),
            org_units: match r.scope {
                GrantScope::WholeTrust => None,
                GrantScope::OrgUnits(u) => Some(u.iter().map(ToString::to_string).collect()),
            },
            reason: r.reason,
            route: route.to_owned(),
            exception,
            raised_by: r.raised_by.to_string(),
            raised_at: to_system(r.raised_at),
            expires_at: to_system(r.expires_at),
            status,
            decided_by,
            decided_at,
            rejection_reason,
            grant,
            prerequisites: r
                .prerequisites
                .into_iter()
                .map(|p| RecordedPrerequisiteInfo {
                    prerequisite: prerequisite_name(p.prerequisite),
                    reference: p.reference,
                    recorded_by: p.recorded_by.to_string(),
                    recorded_at: to_system(p.recorded_at),
                })
                .collect(),
            missing_prerequisites: missing,
        }
    }
}

/// One grant in a URP review.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UrpReviewItemInfo {
    /// The grant's id.
    pub grant: String,
    /// Its holder (a username).
    pub holder: String,
    /// The URP's name.
    pub urp: String,
    /// `nil` while undecided, else `confirmed` or `revoked`.
    pub decision: Option<String>,
    /// Why it was revoked.
    pub reason: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<SystemTime>,
}

/// A six-monthly review of a trust's extra-access URP grants.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UrpReviewInfo {
    /// Its id.
    pub id: String,
    /// The trust.
    pub vpd: String,
    /// Who opened it.
    pub opened_by: String,
    /// When.
    pub opened_at: SystemTime,
    /// The day it was due.
    pub due: CalendarDate,
    /// The grants under review.
    pub items: Vec<UrpReviewItemInfo>,
    /// How many are undecided.
    pub undecided: u32,
    /// Whether every grant is decided.
    pub complete: bool,
    /// When it completed.
    pub completed_at: Option<SystemTime>,
}

impl From<esr_core::urp::UrpReview> for UrpReviewInfo {
    fn from(r: esr_core::urp::UrpReview) -> Self {
        let undecided = u32::try_from(r.undecided()).unwrap_or(u32::MAX);
        let complete = r.is_complete();
        Self {
            id: r.id.to_string(),
            vpd: r.vpd.to_string(),
            opened_by: r.opened_by.to_string(),
            opened_at: to_system(r.opened_at),
            due: r.due.into(),
            items: r
                .items
                .into_iter()
                .map(|i| {
                    let (decision, reason, decided_by, decided_at) = match i.decision {
                        None => (None, None, None, None),
                        Some(d) => {
                            let (what, reason) = match d.outcome {
                                ReviewOutcome::Confirmed => ("confirmed", None),
                                ReviewOutcome::Revoked { reason } => ("revoked", Some(reason)),
                            };
                            (
                                Some(what.to_owned()),
                                reason,
                                Some(d.by.to_string()),
                                Some(to_system(d.at)),
                            )
                        }
                    };
                    UrpReviewItemInfo {
                        grant: i.grant.to_string(),
                        holder: i.holder.to_string(),
                        urp: i.urp.name().to_owned(),
                        decision,
                        reason,
                        decided_by,
                        decided_at,
                    }
                })
                .collect(),
            undecided,
            complete,
            completed_at: r.completed_at.map(to_system),
        }
    }
}

/// Where a trust's URP review stands.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UrpReviewStatusInfo {
    /// When the last review completed.
    pub last_completed: Option<SystemTime>,
    /// When the next is due.
    pub due: CalendarDate,
    /// Whether it is overdue.
    pub overdue: bool,
    /// The open review's id, if one is open.
    pub open: Option<String>,
    /// Its undecided grants.
    pub undecided: u32,
    /// The report's one line.
    pub description: String,
}

impl From<esr_core::urp::UrpReviewStatus> for UrpReviewStatusInfo {
    fn from(s: esr_core::urp::UrpReviewStatus) -> Self {
        Self {
            description: s.describe(),
            last_completed: s.last_completed.map(to_system),
            due: s.due.into(),
            overdue: s.overdue,
            open: s.open.map(|o| o.to_string()),
            undecided: u32::try_from(s.undecided).unwrap_or(u32::MAX),
        }
    }
}

/// A competence a learner recorded themselves, for approval.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CompetenceClaimInfo {
    /// Its id.
    pub id: String,
    /// The trust.
    pub vpd: String,
    /// The learner's employee number.
    pub employee_number: String,
    /// The competence.
    pub competence: String,
    /// When it was achieved.
    pub achieved: CalendarDate,
    /// When it expires, as recorded.
    pub expiry: crate::types::RecordExpiry,
    /// The level, as ESR prints it.
    pub level: String,
    /// The learner's evidence.
    pub evidence: String,
    /// Who claimed it (a username).
    pub claimed_by: String,
    /// When.
    pub claimed_at: SystemTime,
    /// `awaiting_approval`, `approved` or `rejected`.
    pub state: String,
    /// Who decided (a username).
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<SystemTime>,
    /// A rejection's reason.
    pub reason: Option<String>,
}

impl From<esr_core::compliance::CompetenceClaim> for CompetenceClaimInfo {
    fn from(c: esr_core::compliance::CompetenceClaim) -> Self {
        use esr_core::compliance::RecordExpiry as E;
        let (state, decided_by, decided_at, reason) = match c.state {
            ClaimState::AwaitingApproval => ("awaiting_approval", None, None, None),
            ClaimState::Approved { by, at } => {
                ("approved", Some(by.to_string()), Some(to_system(at)), None)
            }
            ClaimState::Rejected { by, at, reason } => (
                "rejected",
                Some(by.to_string()),
                Some(to_system(at)),
                Some(reason),
            ),
        };
        Self {
            id: c.id.to_string(),
            vpd: c.vpd.to_string(),
            employee_number: c.employee_number.to_string(),
            competence: c.record.competence.to_string(),
            achieved: c.record.achieved.into(),
            expiry: match c.record.expiry {
                E::Never => crate::types::RecordExpiry::Never,
                E::Refresher => crate::types::RecordExpiry::Refresher,
                E::On(d) => crate::types::RecordExpiry::On { date: d.into() },
            },
            level: c.record.level.to_string(),
            evidence: c.evidence,
            claimed_by: c.claimed_by.to_string(),
            claimed_at: to_system(c.claimed_at),
            state: state.to_owned(),
            decided_by,
            decided_at,
            reason,
        }
    }
}

fn infos<T, U: From<T>>(v: Vec<T>) -> Vec<U> {
    v.into_iter().map(Into::into).collect()
}

#[uniffi::export]
impl EsrService {
    // ----- access requests ---------------------------------------------------------------

    /// Raises an access request (a OneForm) for a URP beyond the employee level.
    pub fn request_access(
        &self,
        actor: EsrActor,
        request: NewAccessRequest,
    ) -> Result<AccessRequestInfo, EsrError> {
        let mut new = esr_core::urp::NewAccessRequest::new(
            parse(&request.subject)?,
            request.urp.into(),
            request.reason,
        );
        if let Some(us) = &request.org_units {
            new = new.in_org_units(us.iter().map(|u| parse(u)).collect::<Result<Vec<_>, _>>()?);
        }
        if let Some(e) = request.exception {
            new = new.as_exception(e);
        }
        let r = self.core.request_access(&actor.to_core()?, new)?;
        Ok(AccessRequestInfo::at(r, self.now_utc()))
    }

    /// Authorises an access request (its subject's line manager, or the Caldicott guardian
    /// for an exception).
    pub fn authorise_access_request(
        &self,
        session: Arc<EsrSession>,
        request: String,
    ) -> Result<AccessRequestInfo, EsrError> {
        let id: AccessRequestId = parse(&request)?;
        let r = self.core.authorise_access_request(session.id, &id)?;
        Ok(AccessRequestInfo::at(r, self.now_utc()))
    }

    /// Rejects an access request, with a reason for the requester.
    pub fn reject_access_request(
        &self,
        session: Arc<EsrSession>,
        request: String,
        reason: String,
    ) -> Result<AccessRequestInfo, EsrError> {
        let id: AccessRequestId = parse(&request)?;
        let r = self.core.reject_access_request(session.id, &id, &reason)?;
        Ok(AccessRequestInfo::at(r, self.now_utc()))
    }

    /// Records a prerequisite of an access request with its reference (needs Assign URPs, or
    /// a system process such as Finance's feed).
    pub fn record_access_prerequisite(
        &self,
        actor: EsrActor,
        vpd: String,
        request: String,
        prerequisite: AccessPrerequisite,
        reference: String,
    ) -> Result<AccessRequestInfo, EsrError> {
        let vpd: VpdCode = parse(&vpd)?;
        let id: AccessRequestId = parse(&request)?;
        let p = match prerequisite {
            AccessPrerequisite::AsNumber => Prerequisite::AsNumber,
        };
        let r = self
            .core
            .record_access_prerequisite(&actor.to_core()?, vpd, &id, p, &reference)?;
        Ok(AccessRequestInfo::at(r, self.now_utc()))
    }

    /// Grants an authorised access request whose prerequisites are recorded (needs Assign
    /// URPs); the id of the grant made.
    pub fn grant_access_request(
        &self,
        session: Arc<EsrSession>,
        request: String,
    ) -> Result<String, EsrError> {
        let id: AccessRequestId = parse(&request)?;
        Ok(self
            .core
            .grant_access_request(session.id, &id)?
            .id
            .to_string())
    }

    /// One access request, for its subject, a decider or a user administrator.
    pub fn access_request(
        &self,
        actor: EsrActor,
        vpd: String,
        request: String,
    ) -> Result<AccessRequestInfo, EsrError> {
        let vpd: VpdCode = parse(&vpd)?;
        let id: AccessRequestId = parse(&request)?;
        let r = self.core.access_request(&actor.to_core()?, vpd, &id)?;
        Ok(AccessRequestInfo::at(r, self.now_utc()))
    }

    /// The session's user's own access requests.
    pub fn my_access_requests(
        &self,
        session: Arc<EsrSession>,
    ) -> Result<Vec<AccessRequestInfo>, EsrError> {
        Ok(self.requests_now(self.core.my_access_requests(session.id)?))
    }

    /// The access requests awaiting the session's user's authorisation.
    pub fn access_requests_to_authorise(
        &self,
        session: Arc<EsrSession>,
    ) -> Result<Vec<AccessRequestInfo>, EsrError> {
        Ok(self.requests_now(self.core.access_requests_to_authorise(session.id)?))
    }

    /// The authorised access requests waiting for a user administrator (needs Assign URPs).
    pub fn access_requests_to_grant(
        &self,
        session: Arc<EsrSession>,
    ) -> Result<Vec<AccessRequestInfo>, EsrError> {
        Ok(self.requests_now(self.core.access_requests_to_grant(session.id)?))
    }

    /// Names the trust's Caldicott guardian (an employee number; `nil`: none) (needs Assign
    /// URPs).
    pub fn set_caldicott_guardian(
        &self,
        actor: EsrActor,
        vpd: String,
        guardian: Option<String>,
    ) -> Result<(), EsrError> {
        let vpd: VpdCode = parse(&vpd)?;
        let g: Option<EmployeeNumber> = guardian.as_deref().map(parse).transpose()?;
        self.core
            .set_caldicott_guardian(&actor.to_core()?, vpd, g)?;
        Ok(())
    }

    // ----- the URP review ----------------------------------------------------------------

    /// Opens the trust's six-monthly URP review (needs Assign URPs; one open at a time).
    pub fn open_urp_review(&self, session: Arc<EsrSession>) -> Result<UrpReviewInfo, EsrError> {
        Ok(self.core.open_urp_review(session.id)?.into())
    }

    /// Confirms that a grant in an open review is still needed.
    pub fn confirm_urp_grant(
        &self,
        session: Arc<EsrSession>,
        review: String,
        grant: String,
    ) -> Result<UrpReviewInfo, EsrError> {
        let r: UrpReviewId = parse(&review)?;
        let g: GrantId = parse(&grant)?;
        Ok(self.core.confirm_urp_grant(session.id, &r, &g)?.into())
    }

    /// Revokes a grant in an open review, with a reason.
    pub fn revoke_urp_in_review(
        &self,
        session: Arc<EsrSession>,
        review: String,
        grant: String,
        reason: String,
    ) -> Result<UrpReviewInfo, EsrError> {
        let r: UrpReviewId = parse(&review)?;
        let g: GrantId = parse(&grant)?;
        Ok(self
            .core
            .revoke_urp_in_review(session.id, &r, &g, &reason)?
            .into())
    }

    /// Where the trust's URP review stands (needs URP Audit Report).
    pub fn urp_review_status(
        &self,
        actor: EsrActor,
        vpd: String,
    ) -> Result<UrpReviewStatusInfo, EsrError> {
        let vpd: VpdCode = parse(&vpd)?;
        Ok(self.core.urp_review_status(&actor.to_core()?, vpd)?.into())
    }

    /// The trust's URP reviews (needs URP Audit Report).
    pub fn urp_reviews(
        &self,
        actor: EsrActor,
        vpd: String,
    ) -> Result<Vec<UrpReviewInfo>, EsrError> {
        let vpd: VpdCode = parse(&vpd)?;
        Ok(infos(self.core.urp_reviews(&actor.to_core()?, vpd)?))
    }

    // ----- competences claimed for approval -----------------------------------------------

    /// Claims a competence for the session's user, with evidence, for their line manager or a
    /// learning administrator to approve.
    pub fn claim_competence(
        &self,
        session: Arc<EsrSession>,
        record: NewCompetenceRecord,
        evidence: String,
    ) -> Result<CompetenceClaimInfo, EsrError> {
        let record = record.to_core()?;
        Ok(self
            .core
            .claim_competence(session.id, record, &evidence)?
            .into())
    }

    /// A person's claims still awaiting approval (the "Awaiting Approval" tab).
    pub fn competences_awaiting_approval(
        &self,
        actor: EsrActor,
        vpd: String,
        employee_number: String,
    ) -> Result<Vec<CompetenceClaimInfo>, EsrError> {
        let vpd: VpdCode = parse(&vpd)?;
        let e: EmployeeNumber = parse(&employee_number)?;
        Ok(infos(self.core.competences_awaiting_approval(
            &actor.to_core()?,
            vpd,
            &e,
        )?))
    }

    /// All of a person's claims, decided or not.
    pub fn competence_claims_of(
        &self,
        actor: EsrActor,
        vpd: String,
        employee_number: String,
    ) -> Result<Vec<CompetenceClaimInfo>, EsrError> {
        let vpd: VpdCode = parse(&vpd)?;
        let e: EmployeeNumber = parse(&employee_number)?;
        Ok(infos(self.core.competence_claims_of(
            &actor.to_core()?,
            vpd,
            &e,
        )?))
    }

    /// The claims awaiting the session's user's approval.
    pub fn competence_claims_to_approve(
        &self,
        session: Arc<EsrSession>,
    ) -> Result<Vec<CompetenceClaimInfo>, EsrError> {
        Ok(infos(self.core.competence_claims_to_approve(session.id)?))
    }

    /// Approves a claim: the competence is recorded.
    pub fn approve_competence_claim(
        &self,
        session: Arc<EsrSession>,
        claim: String,
    ) -> Result<CompetenceClaimInfo, EsrError> {
        let id: CompetenceClaimId = parse(&claim)?;
        Ok(self.core.approve_competence_claim(session.id, &id)?.into())
    }

    /// Rejects a claim, with a reason for the learner; nothing is recorded.
    pub fn reject_competence_claim(
        &self,
        session: Arc<EsrSession>,
        claim: String,
        reason: String,
    ) -> Result<CompetenceClaimInfo, EsrError> {
        let id: CompetenceClaimId = parse(&claim)?;
        Ok(self
            .core
            .reject_competence_claim(session.id, &id, &reason)?
            .into())
    }
}

impl EsrService {
    /// Access requests as they stand at the service clock's instant (their status depends on
    /// it: an unanswered request expires).
    fn requests_now(&self, v: Vec<esr_core::urp::AccessRequest>) -> Vec<AccessRequestInfo> {
        let now = self.now_utc();
        v.into_iter()
            .map(|r| AccessRequestInfo::at(r, now))
            .collect()
    }
}
