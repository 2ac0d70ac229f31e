//! Python shapes of the three workflows: access requests (a OneForm for a URP beyond the
//! employee level), the six-monthly URP review, and competences a learner claims for approval.

use crate::types::record;
use esr_core::chrono::{DateTime, NaiveDate, Utc};
use esr_core::compliance::{ClaimState, RecordExpiry};
use esr_core::urp::{AccessRequestState, AccessRoute, GrantScope, Prerequisite, ReviewOutcome};
use pyo3::prelude::*;

record!(
    /// A prerequisite recorded on an access request: `prerequisite` is its short name
    /// (`"as_number"`), `reference` its reference (the AS number).
    AccessPrerequisite {
        prerequisite: String,
        reference: String,
        recorded_by: String,
        recorded_at: DateTime<Utc>,
    }
);

record!(
    /// An access request (a OneForm) as it stands now. `status` is `"awaiting_authorisation"`,
    /// `"authorised"`, `"rejected"`, `"granted"` or `"expired"`; `route` `"line_manager"` or
    /// `"caldicott_guardian"` (then `exception` says why); `org_units` None for the whole
    /// trust; `decided_by` the employee number who authorised or rejected it; `grant` the id
    /// of the grant made; `missing_prerequisites` the short names still to record.
    AccessRequest {
        id: String,
        vpd: String,
        subject: String,
        subject_employee: String,
        urp: String,
        org_units: Option<Vec<String>>,
        reason: String,
        route: String,
        exception: Option<String>,
        raised_by: String,
        raised_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        status: String,
        decided_by: Option<String>,
        decided_at: Option<DateTime<Utc>>,
        rejection_reason: Option<String>,
        grant: Option<String>,
        granted_by: Option<String>,
        prerequisites: Vec<AccessPrerequisite>,
        missing_prerequisites: Vec<String>,
    }
);

record!(
    /// One grant in a URP review. `decision` is None while undecided, else `"confirmed"` or
    /// `"revoked"` (then `reason` says why).
    UrpReviewItem {
        grant: String,
        holder: String,
        urp: String,
        decision: Option<String>,
        reason: Option<String>,
        decided_by: Option<String>,
        decided_at: Option<DateTime<Utc>>,
    }
);

record!(
    /// A six-monthly review of a trust's extra-access URP grants; `complete` once every item
    /// is decided.
    UrpReview {
        id: String,
        vpd: String,
        opened_by: String,
        opened_at: DateTime<Utc>,
        due: NaiveDate,
        items: Vec<UrpReviewItem>,
        undecided: usize,
        complete: bool,
        completed_at: Option<DateTime<Utc>>,
    }
);

record!(
    /// Where a trust's URP review stands: when the last one completed, when the next is due,
    /// whether that is overdue, the open review (if any) and its undecided grants;
    /// `description` the report's one line.
    UrpReviewStatus {
        last_completed: Option<DateTime<Utc>>,
        due: NaiveDate,
        overdue: bool,
        open: Option<String>,
        undecided: usize,
        description: String,
    }
);

record!(
    /// A competence a learner recorded themselves. `state` is `"awaiting_approval"`,
    /// `"approved"` or `"rejected"` (then `reason` says why); `expiry` a date in ISO form,
    /// `"refresher"` or `"never"`.
    CompetenceClaim {
        id: String,
        vpd: String,
        employee_number: String,
        competence: String,
        achieved: NaiveDate,
        expiry: String,
        level: String,
        evidence: String,
        claimed_by: String,
        claimed_at: DateTime<Utc>,
        state: String,
        decided_by: Option<String>,
        decided_at: Option<DateTime<Utc>>,
        reason: Option<String>,
    }
);

fn prerequisite_name(p: Prerequisite) -> String {
    match p {
        Prerequisite::AsNumber => "as_number",
        _ => "other",
    }
    .to_owned()
}

/// A prerequisite by its short name (`"as_number"`).
pub(crate) fn prerequisite_of(name: &str) -> esr_core::Result<Prerequisite> {
    match name {
        "as_number" => Ok(Prerequisite::AsNumber),
        _ => Err(esr_core::Error::InvalidInput {
            what: "prerequisite",
            reason: "it must be \"as_number\" (an AS number set up by Finance)".into(),
        }),
    }
}

impl AccessRequest {
    /// The request as it stands at `now`.
    pub(crate) fn at(r: esr_core::urp::AccessRequest, now: DateTime<Utc>) -> Self {
        let status = r.status_at(now).as_str().replace(' ', "_");
        let missing = r
            .missing_prerequisites()
            .into_iter()
            .map(prerequisite_name)
            .collect();
        let (decided_by, decided_at, rejection_reason, grant, granted_by) = match &r.state {
            AccessRequestState::AwaitingAuthorisation => (None, None, None, None, None),
            AccessRequestState::Authorised { by, at } => {
                (Some(by.to_string()), Some(*at), None, None, None)
            }
            AccessRequestState::Rejected { by, at, reason } => (
                Some(by.to_string()),
                Some(*at),
                Some(reason.clone()),
                None,
                None,
            ),
            AccessRequestState::Granted { grant, by, .. } => (
                None,
                None,
                None,
                Some(grant.to_string()),
                Some(by.to_string()),
            ),
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
            raised_at: r.raised_at,
            expires_at: r.expires_at,
            status,
            decided_by,
            decided_at,
            rejection_reason,
            grant,
            granted_by,
            prerequisites: r
                .prerequisites
                .into_iter()
                .map(|p| AccessPrerequisite {
                    prerequisite: prerequisite_name(p.prerequisite),
                    reference: p.reference,
                    recorded_by: p.recorded_by.to_string(),
                    recorded_at: p.recorded_at,
                })
                .collect(),
            missing_prerequisites: missing,
        }
    }
}

impl From<esr_core::urp::UrpReview> for UrpReview {
    fn from(r: esr_core::urp::UrpReview) -> Self {
        let undecided = r.undecided();
        let complete = r.is_complete();
        Self {
            id: r.id.to_string(),
            vpd: r.vpd.to_string(),
            opened_by: r.opened_by.to_string(),
            opened_at: r.opened_at,
            due: r.due,
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
                                Some(d.at),
                            )
                        }
                    };
                    UrpReviewItem {
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
            completed_at: r.completed_at,
        }
    }
}

impl From<esr_core::urp::UrpReviewStatus> for UrpReviewStatus {
    fn from(s: esr_core::urp::UrpReviewStatus) -> Self {
        Self {
            description: s.describe(),
            last_completed: s.last_completed,
            due: s.due,
            overdue: s.overdue,
            open: s.open.map(|o| o.to_string()),
            undecided: s.undecided,
        }
    }
}

impl From<esr_core::compliance::CompetenceClaim> for CompetenceClaim {
    fn from(c: esr_core::compliance::CompetenceClaim) -> Self {
        let (state, decided_by, decided_at, reason) = match c.state {
            ClaimState::AwaitingApproval => ("awaiting_approval", None, None, None),
            ClaimState::Approved { by, at } => ("approved", Some(by.to_string()), Some(at), None),
            ClaimState::Rejected { by, at, reason } => {
                ("rejected", Some(by.to_string()), Some(at), Some(reason))
            }
        };
        Self {
            id: c.id.to_string(),
            vpd: c.vpd.to_string(),
            employee_number: c.employee_number.to_string(),
            competence: c.record.competence.to_string(),
            achieved: c.record.achieved,
            expiry: match c.record.expiry {
                RecordExpiry::Never => "never".to_owned(),
                RecordExpiry::Refresher => "refresher".to_owned(),
                RecordExpiry::On(d) => d.to_string(),
            },
            level: c.record.level.to_string(),
            evidence: c.evidence,
            claimed_by: c.claimed_by.to_string(),
            claimed_at: c.claimed_at,
            state: state.to_owned(),
            decided_by,
            decided_at,
            reason,
        }
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<AccessPrerequisite>()?;
    m.add_class::<AccessRequest>()?;
    m.add_class::<UrpReviewItem>()?;
    m.add_class::<UrpReview>()?;
    m.add_class::<UrpReviewStatus>()?;
    m.add_class::<CompetenceClaim>()?;
    Ok(())
}
