//! The kinds of notification, by name: what a trust's settings choose among (see
//! [`TrustSettings::internet_notifications`](crate::org::TrustSettings::internet_notifications)).
//! This file names nothing else in the crate, so the trust's settings can name it.

use std::collections::BTreeSet;
use std::fmt;

/// The kind of a notification, without its details: what the channel rule and the trust's
/// settings are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum NotificationType {
    /// A change to a report's record waits for the reader's approval.
    RecordChangeToApprove,
    /// The reader's record was changed by someone else.
    RecordChanged,
    /// A change to a report's record was applied without approval; the line manager is told.
    TeamChangeApplied,
    /// The reader was granted a URP.
    UrpGranted,
    /// One of the reader's URPs was removed.
    UrpRemoved,
    /// The reader was awarded a certification.
    CertificationAwarded,
    /// One of the reader's competences expires soon.
    CompetenceExpiring,
    /// An access request (OneForm) waits for the reader to authorise it.
    AccessRequestToAuthorise,
    /// A competence a report recorded waits for the reader's approval.
    CompetenceToApprove,
    /// The six-monthly URP review is due.
    UrpReviewDue,
}

impl NotificationType {
    /// Every kind, in declaration order.
    pub const ALL: [NotificationType; 10] = [
        Self::RecordChangeToApprove,
        Self::RecordChanged,
        Self::TeamChangeApplied,
        Self::UrpGranted,
        Self::UrpRemoved,
        Self::CertificationAwarded,
        Self::CompetenceExpiring,
        Self::AccessRequestToAuthorise,
        Self::CompetenceToApprove,
        Self::UrpReviewDue,
    ];

    /// A short snake_case name (`"record_change_to_approve"`), stable once published.
    pub fn name(self) -> &'static str {
        match self {
            Self::RecordChangeToApprove => "record_change_to_approve",
            Self::RecordChanged => "record_changed",
            Self::TeamChangeApplied => "team_change_applied",
            Self::UrpGranted => "urp_granted",
            Self::UrpRemoved => "urp_removed",
            Self::CertificationAwarded => "certification_awarded",
            Self::CompetenceExpiring => "competence_expiring",
            Self::AccessRequestToAuthorise => "access_request_to_authorise",
            Self::CompetenceToApprove => "competence_to_approve",
            Self::UrpReviewDue => "urp_review_due",
        }
    }

    /// Whether a notification of this kind asks for a decision (approve or reject) rather than
    /// an acknowledgement.
    pub fn needs_decision(self) -> bool {
        matches!(
            self,
            Self::RecordChangeToApprove
                | Self::AccessRequestToAuthorise
                | Self::CompetenceToApprove
        )
    }

    /// The self-service kinds a trust opens to upgraded internet sessions unless it chooses
    /// otherwise: a person's own record, learning and compliance, and their team's record
    /// changes and competences to approve. URP grants, removals, access requests and the URP
    /// review stay on the NHS network (they belong to access administration), showing only in
    /// the count.
    pub fn default_internet_set() -> BTreeSet<NotificationType> {
        BTreeSet::from([
            Self::RecordChangeToApprove,
            Self::RecordChanged,
            Self::TeamChangeApplied,
            Self::CertificationAwarded,
            Self::CompetenceExpiring,
            Self::CompetenceToApprove,
        ])
    }
}

/// A kind by its short name ([`NotificationType::name`]), whatever its case.
impl std::str::FromStr for NotificationType {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        crate::error::by_name("notification kind", &Self::ALL, Self::name, s)
    }
}

impl fmt::Display for NotificationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::RecordChangeToApprove => "record change to approve",
            Self::RecordChanged => "your record was changed",
            Self::TeamChangeApplied => "a change to your team's records",
            Self::UrpGranted => "URP granted",
            Self::UrpRemoved => "URP removed",
            Self::CertificationAwarded => "certification awarded",
            Self::CompetenceExpiring => "competence expiring",
            Self::AccessRequestToAuthorise => "access request to authorise",
            Self::CompetenceToApprove => "competence to approve",
            Self::UrpReviewDue => "URP review due",
        })
    }
}

/// How many days a held change waits for its approver before it expires, unless the trust
/// chooses otherwise
/// ([`TrustSettings::change_approval_days`](crate::org::TrustSettings::change_approval_days)).
pub const DEFAULT_CHANGE_APPROVAL_DAYS: u32 = 14;

/// [`DEFAULT_CHANGE_APPROVAL_DAYS`], as a function for serde's defaults.
pub fn default_change_approval_days() -> u32 {
    DEFAULT_CHANGE_APPROVAL_DAYS
}

/// The longest a trust may let a held change wait: a year.
pub const MAX_CHANGE_APPROVAL_DAYS: u32 = 366;
