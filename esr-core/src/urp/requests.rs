//! Access requests (seed 003's OneForm) and the six-monthly URP review (seed 003 §9): their
//! records and the rules over them, as pure functions. The operations are in
//! `workflow_ops.rs`.
//!
//! An access request asks for a URP beyond the employee-level ones, with its scope and the
//! reason. It is raised by the person or on their behalf, authorised (or rejected) by the
//! person's line manager, or, when it is raised as an exception, by the trust's Caldicott
//! guardian ([`TrustSettings::caldicott_guardian`](crate::org::TrustSettings::caldicott_guardian)).
//! The URP's prerequisites ([`Prerequisite`]: Manager Self Service needs an AS number set up
//! by Finance) are recorded on the request, and only then may a user administrator grant it;
//! the grant cites the request ([`Approval::AccessRequest`](crate::urp::Approval::AccessRequest)).
//! A request not granted within [`Config::access_request_lifetime`](crate::Config) expires.
//!
//! The URP review: a [`UrpReview`] cycle lists every active grant beyond the employee-level
//! URPs when it opens; a user administrator confirms or revokes each one; the cycle completes
//! when every grant is decided. The next review is due six months
//! ([`URP_REVIEW_INTERVAL_MONTHS`]) after the last completed one ([`review_due_date`]).

use crate::error::{Error, Result};
use crate::urp::{GrantScope, Grantor, Urp, UrpKind};
use crate::values::username::Username;
use crate::values::{AccessRequestId, EmployeeNumber, GrantId, UrpReviewId, add_months, uk_date};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeSet;
use std::fmt;

/// What must be in place before a URP is granted, besides the line manager's authorisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Prerequisite {
    /// An AS number set up by Finance (seed 003 §5.1.4), for Manager Self Service.
    AsNumber,
}

impl Prerequisite {
    /// The prerequisite's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::AsNumber => "AS number set up by Finance",
        }
    }
}

impl fmt::Display for Prerequisite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The prerequisites of a URP: an AS number for both Manager Self Service URPs, none for the
/// others.
pub fn prerequisites_of(urp: Urp) -> &'static [Prerequisite] {
    match urp {
        Urp::ManagerSelfServicePayrollApprovalsRequired
        | Urp::ManagerSelfServicePayrollApprovalsNotRequired => &[Prerequisite::AsNumber],
        _ => &[],
    }
}

/// Whether a URP is requested with an access request and reviewed every six months: every URP
/// beyond the employee-level ones (Employee Self Service, ESS Limited Access, External Learner).
pub fn is_extra_access(urp: Urp) -> bool {
    urp.kind() != UrpKind::Employee
}

/// A prerequisite as recorded on a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RecordedPrerequisite {
    /// Which prerequisite.
    pub prerequisite: Prerequisite,
    /// Its reference (the AS number).
    pub reference: String,
    /// Who recorded it (Finance's feed, a user administrator).
    pub recorded_by: Grantor,
    /// When.
    pub recorded_at: DateTime<Utc>,
}

/// Who authorises a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AccessRoute {
    /// The person's line manager (a supervisor of one of their assignments): the usual way.
    LineManager,
    /// The trust's Caldicott guardian, for an exception (seed 003 §5.1.1).
    CaldicottGuardian {
        /// Why the request is an exception.
        exception: String,
    },
}

impl fmt::Display for AccessRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineManager => f.write_str("line manager"),
            Self::CaldicottGuardian { .. } => f.write_str("Caldicott guardian (exception)"),
        }
    }
}

/// Where an access request is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AccessRequestState {
    /// Waiting for the line manager (or the Caldicott guardian).
    AwaitingAuthorisation,
    /// Authorised; waiting for its prerequisites and a user administrator.
    Authorised {
        /// Who authorised it.
        by: EmployeeNumber,
        /// When.
        at: DateTime<Utc>,
    },
    /// Rejected by the line manager (or the Caldicott guardian).
    Rejected {
        /// Who rejected it.
        by: EmployeeNumber,
        /// When.
        at: DateTime<Utc>,
        /// Why.
        reason: String,
    },
    /// Granted by a user administrator.
    Granted {
        /// The grant made.
        grant: GrantId,
        /// Who granted it.
        by: Grantor,
        /// When.
        at: DateTime<Utc>,
    },
}

/// An access request's status at an instant: its state, or expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AccessRequestStatus {
    /// Waiting for the line manager (or the Caldicott guardian).
    AwaitingAuthorisation,
    /// Authorised, waiting for a user administrator.
    Authorised,
    /// Rejected.
    Rejected,
    /// Granted.
    Granted,
    /// Not granted within its lifetime.
    Expired,
}

impl AccessRequestStatus {
    /// A short name (`"awaiting authorisation"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingAuthorisation => "awaiting authorisation",
            Self::Authorised => "authorised",
            Self::Rejected => "rejected",
            Self::Granted => "granted",
            Self::Expired => "expired",
        }
    }
}

impl fmt::Display for AccessRequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An access request (a OneForm).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AccessRequest {
    /// Its id.
    pub id: AccessRequestId,
    /// The trust.
    pub vpd: crate::values::VpdCode,
    /// Who would receive the URP.
    pub subject: Username,
    /// Their employee number.
    pub subject_employee: EmployeeNumber,
    /// The URP asked for.
    pub urp: Urp,
    /// Where it would apply.
    pub scope: GrantScope,
    /// Why it is needed.
    pub reason: String,
    /// Who authorises it.
    pub route: AccessRoute,
    /// Who raised it (the person, someone on their behalf, or a system such as the service
    /// desk portal).
    pub raised_by: Grantor,
    /// When.
    pub raised_at: DateTime<Utc>,
    /// When it expires if not granted by then.
    pub expires_at: DateTime<Utc>,
    /// Where it is.
    pub state: AccessRequestState,
    /// The prerequisites recorded so far.
    pub prerequisites: Vec<RecordedPrerequisite>,
}

impl AccessRequest {
    /// The request's status at `now`: an open request (awaiting authorisation, or authorised
    /// but not granted) is expired from its `expires_at`.
    pub fn status_at(&self, now: DateTime<Utc>) -> AccessRequestStatus {
        use AccessRequestStatus as S;
        match self.state {
            AccessRequestState::Rejected { .. } => S::Rejected,
            AccessRequestState::Granted { .. } => S::Granted,
            _ if now >= self.expires_at => S::Expired,
            AccessRequestState::AwaitingAuthorisation => S::AwaitingAuthorisation,
            AccessRequestState::Authorised { .. } => S::Authorised,
        }
    }

    /// The prerequisites of the URP not yet recorded on the request.
    pub fn missing_prerequisites(&self) -> Vec<Prerequisite> {
        prerequisites_of(self.urp)
            .iter()
            .copied()
            .filter(|p| !self.prerequisites.iter().any(|r| r.prerequisite == *p))
            .collect()
    }

    /// The request's state described for an error (`"rejected by 20000001"`).
    pub(crate) fn describe_at(&self, now: DateTime<Utc>) -> String {
        match (&self.state, self.status_at(now)) {
            (_, AccessRequestStatus::Expired) => {
                format!("expired (at {})", self.expires_at.to_rfc3339())
            }
            (AccessRequestState::Rejected { by, .. }, _) => format!("rejected by {by}"),
            (AccessRequestState::Authorised { by, .. }, _) => format!("authorised by {by}"),
            (AccessRequestState::Granted { by, .. }, _) => format!("granted by {by}"),
            (AccessRequestState::AwaitingAuthorisation, _) => "awaiting authorisation".into(),
        }
    }
}

/// The rule of who decides a request: on the line-manager route one of the subject's line
/// managers (`line_managers`), on the exception route the trust's Caldicott guardian
/// (`guardian`); never the subject themselves. `Err` carries the reason for
/// [`Error::NotTheDecider`].
pub fn check_request_decider(
    route: &AccessRoute,
    decider: &EmployeeNumber,
    subject: &EmployeeNumber,
    line_managers: &BTreeSet<EmployeeNumber>,
    guardian: Option<&EmployeeNumber>,
) -> std::result::Result<(), String> {
    if decider == subject {
        return Err("nobody authorises their own access request".into());
    }
    match route {
        AccessRoute::LineManager if line_managers.contains(decider) => Ok(()),
        AccessRoute::LineManager => Err(
            "only the person's line manager authorises it (a supervisor of one of their assignments)"
                .into(),
        ),
        AccessRoute::CaldicottGuardian { .. } if guardian == Some(decider) => Ok(()),
        AccessRoute::CaldicottGuardian { .. } => {
            Err("it is an exception, which only the trust's Caldicott guardian authorises".into())
        }
    }
}

/// The six-monthly review: a URP review is due this many months after the last completed one.
pub const URP_REVIEW_INTERVAL_MONTHS: u32 = 6;

/// When the next URP review is due: six months after the last completed one (UK date), or,
/// before any, six months after the trust was created.
pub fn review_due_date(
    last_completed: Option<DateTime<Utc>>,
    trust_created: DateTime<Utc>,
) -> Result<NaiveDate> {
    let base = uk_date(last_completed.unwrap_or(trust_created));
    Ok(add_months(base, URP_REVIEW_INTERVAL_MONTHS)?)
}

/// Whether a review due on `due` is overdue on `today` (due dates are inclusive: a review
/// completed on its due date is on time).
pub fn review_overdue(due: NaiveDate, today: NaiveDate) -> bool {
    today > due
}

/// A decision on one grant in a review.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ReviewOutcome {
    /// The holder still needs it.
    Confirmed,
    /// Revoked (in the review, or outside it while the review was open).
    Revoked {
        /// Why.
        reason: String,
    },
}

/// Who decided a grant in a review, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ReviewDecision {
    /// Confirmed or revoked.
    pub outcome: ReviewOutcome,
    /// Who decided.
    pub by: Grantor,
    /// When.
    pub at: DateTime<Utc>,
}

/// One grant under review.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ReviewItem {
    /// The grant.
    pub grant: GrantId,
    /// Its holder.
    pub holder: Username,
    /// The URP.
    pub urp: Urp,
    /// The decision, once made.
    pub decision: Option<ReviewDecision>,
}

/// One six-monthly URP review cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct UrpReview {
    /// Its id.
    pub id: UrpReviewId,
    /// The trust.
    pub vpd: crate::values::VpdCode,
    /// Who opened it.
    pub opened_by: Grantor,
    /// When.
    pub opened_at: DateTime<Utc>,
    /// The date it is due by (six months after the last completed review).
    pub due: NaiveDate,
    /// Every grant beyond the employee-level URPs active when it opened.
    pub items: Vec<ReviewItem>,
    /// When every grant had been decided.
    pub completed_at: Option<DateTime<Utc>>,
}

impl UrpReview {
    /// The grants not yet decided.
    pub fn undecided(&self) -> usize {
        self.items.iter().filter(|i| i.decision.is_none()).count()
    }

    /// Whether every grant is decided.
    pub fn is_complete(&self) -> bool {
        self.completed_at.is_some()
    }
}

/// Where the trust's URP review stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct UrpReviewStatus {
    /// When the last review completed.
    pub last_completed: Option<DateTime<Utc>>,
    /// When the next is due.
    pub due: NaiveDate,
    /// Whether it is overdue today.
    pub overdue: bool,
    /// The open cycle, if one is open.
    pub open: Option<UrpReviewId>,
    /// Grants the open cycle has not decided yet (0 with none open).
    pub undecided: usize,
}

impl UrpReviewStatus {
    /// A one-line description for the report (`"overdue: due 22-May-2027, 3 grants undecided"`).
    pub fn describe(&self) -> String {
        let due = crate::values::format_esr_date(self.due);
        let head = if self.overdue {
            format!("OVERDUE: was due {due}")
        } else {
            format!("due {due}")
        };
        match self.open {
            Some(_) => format!("{head}; in progress, {} grant(s) undecided", self.undecided),
            None => head,
        }
    }
}

pub(crate) fn unknown_request(id: &AccessRequestId) -> Error {
    Error::UnknownWorkflowItem {
        what: "access request",
        id: id.to_string(),
    }
}

pub(crate) fn unknown_review(id: &UrpReviewId) -> Error {
    Error::UnknownWorkflowItem {
        what: "URP review",
        id: id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn emp(n: u32) -> EmployeeNumber {
        format!("{:08}", 20_000_000 + n).parse().unwrap()
    }

    proptest! {
        /// On the line-manager route exactly the subject's line managers decide; on the
        /// exception route exactly the guardian; never the subject.
        #[test]
        fn only_the_right_person_decides(
            managers in proptest::collection::btree_set(0u32..10, 0..4),
            decider in 0u32..10,
            subject in 0u32..10,
            guardian in proptest::option::of(0u32..10),
            exception in any::<bool>(),
        ) {
            let set: BTreeSet<EmployeeNumber> = managers.iter().map(|&m| emp(m)).collect();
            let route = if exception {
                AccessRoute::CaldicottGuardian { exception: "locum".into() }
            } else {
                AccessRoute::LineManager
            };
            let g = guardian.map(emp);
            let ok = check_request_decider(&route, &emp(decider), &emp(subject), &set, g.as_ref())
                .is_ok();
            let expected = decider != subject
                && if exception { guardian == Some(decider) } else { managers.contains(&decider) };
            prop_assert_eq!(ok, expected);
        }

        /// A review is due six months after the last one, and overdue only after that day.
        #[test]
        fn reviews_fall_due_six_months_on(days in 0i64..4000, later in 0i64..400) {
            let created = Utc.with_ymd_and_hms(2022, 4, 1, 12, 0, 0).unwrap();
            let done = created + chrono::TimeDelta::days(days);
            let due = review_due_date(Some(done), created).unwrap();
            prop_assert_eq!(due, add_months(uk_date(done), 6).unwrap());
            let today = uk_date(done) + chrono::TimeDelta::days(later);
            prop_assert_eq!(review_overdue(due, today), today > due);
        }
    }

    #[test]
    fn the_seeds_review_dates() {
        // Seed 003 §9: the last audit was completed October 2022; the next is April 2023.
        let done = Utc.with_ymd_and_hms(2022, 10, 14, 10, 0, 0).unwrap();
        let due = review_due_date(Some(done), done).unwrap();
        assert_eq!(due, NaiveDate::from_ymd_opt(2023, 4, 14).unwrap());
    }

    #[test]
    fn manager_self_service_needs_an_as_number() {
        for urp in Urp::ALL {
            let needs = prerequisites_of(urp).contains(&Prerequisite::AsNumber);
            assert_eq!(
                needs,
                matches!(
                    urp,
                    Urp::ManagerSelfServicePayrollApprovalsRequired
                        | Urp::ManagerSelfServicePayrollApprovalsNotRequired
                ),
                "{urp}"
            );
        }
        assert!(!is_extra_access(Urp::EmployeeSelfService));
        assert!(is_extra_access(Urp::SupervisorSelfService));
    }

    #[test]
    fn an_open_request_expires_and_a_decided_one_does_not() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
        let mut r = AccessRequest {
            id: AccessRequestId::from_bytes([1; 16]),
            vpd: "297".parse().unwrap(),
            subject: "297ECONROY01".parse().unwrap(),
            subject_employee: emp(1),
            urp: Urp::ManagerSelfServicePayrollApprovalsRequired,
            scope: GrantScope::WholeTrust,
            reason: "new ward manager".into(),
            route: AccessRoute::LineManager,
            raised_by: Grantor::System("desk".into()),
            raised_at: t0,
            expires_at: t0 + chrono::TimeDelta::days(28),
            state: AccessRequestState::AwaitingAuthorisation,
            prerequisites: vec![],
        };
        let later = t0 + chrono::TimeDelta::days(28);
        assert_eq!(r.status_at(t0), AccessRequestStatus::AwaitingAuthorisation);
        assert_eq!(r.status_at(later), AccessRequestStatus::Expired);
        assert_eq!(r.missing_prerequisites(), vec![Prerequisite::AsNumber]);
        r.state = AccessRequestState::Rejected {
            by: emp(2),
            at: t0,
            reason: "no".into(),
        };
        assert_eq!(r.status_at(later), AccessRequestStatus::Rejected);
    }
}
