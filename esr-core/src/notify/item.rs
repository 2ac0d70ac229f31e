//! A notification: one item of a person's worklist, its state and the actions it allows.

use crate::compliance::CompetenceName;
use crate::notify::NotificationType;
use crate::urp::Urp;
use crate::values::{ChangeId, EmployeeNumber, NotificationId, VpdCode};
use chrono::{DateTime, NaiveDate, Utc};
use std::fmt;

/// What a notification is, with the id of the item it concerns. Workflows add kinds; a
/// binding shows an unknown kind by its [`NotificationType`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum NotificationKind {
    /// A change to a report's record waits for the reader's approval
    /// ([`PendingChange`](crate::notify::PendingChange)).
    RecordChangeToApprove {
        /// The change held.
        change: ChangeId,
    },
    /// The reader's record was changed by someone else.
    RecordChanged {
        /// What changed (field names, never values).
        fields: String,
    },
    /// A change to a report's record was applied at once (no approval was needed); the line
    /// manager is told.
    TeamChangeApplied {
        /// The change, kept as applied.
        change: ChangeId,
    },
    /// The reader was granted a URP.
    UrpGranted {
        /// The URP.
        urp: Urp,
    },
    /// One of the reader's URPs was removed.
    UrpRemoved {
        /// The URP.
        urp: Urp,
    },
    /// The reader was awarded a certification.
    CertificationAwarded {
        /// The certification's name.
        certification: String,
    },
    /// One of the reader's competences expires soon.
    CompetenceExpiring {
        /// The competence.
        competence: CompetenceName,
        /// Its expiry date.
        expiry: NaiveDate,
    },
    /// An access request (OneForm) waits for the reader to authorise it.
    AccessRequestToAuthorise {
        /// The request's id.
        request: String,
    },
    /// A competence a report recorded waits for the reader's approval.
    CompetenceToApprove {
        /// The learner.
        subject: EmployeeNumber,
        /// The competence.
        competence: CompetenceName,
        /// When it was achieved.
        achieved: NaiveDate,
    },
    /// The six-monthly URP review is due.
    UrpReviewDue {
        /// The review cycle's id.
        cycle: String,
        /// When it is due.
        due: NaiveDate,
    },
}

impl NotificationKind {
    /// The kind without its details.
    pub fn kind_type(&self) -> NotificationType {
        match self {
            Self::RecordChangeToApprove { .. } => NotificationType::RecordChangeToApprove,
            Self::RecordChanged { .. } => NotificationType::RecordChanged,
            Self::TeamChangeApplied { .. } => NotificationType::TeamChangeApplied,
            Self::UrpGranted { .. } => NotificationType::UrpGranted,
            Self::UrpRemoved { .. } => NotificationType::UrpRemoved,
            Self::CertificationAwarded { .. } => NotificationType::CertificationAwarded,
            Self::CompetenceExpiring { .. } => NotificationType::CompetenceExpiring,
            Self::AccessRequestToAuthorise { .. } => NotificationType::AccessRequestToAuthorise,
            Self::CompetenceToApprove { .. } => NotificationType::CompetenceToApprove,
            Self::UrpReviewDue { .. } => NotificationType::UrpReviewDue,
        }
    }
}

/// Where a notification is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum NotificationState {
    /// Waiting for its reader.
    Open,
    /// Approved or rejected by its reader.
    Actioned,
    /// Acknowledged, or closed because what it was about was settled another way.
    Closed,
    /// Its time ran out before anyone acted.
    Expired,
}

impl NotificationState {
    /// The state's short name: `"open"`, `"actioned"`, `"closed"` or `"expired"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Actioned => "actioned",
            Self::Closed => "closed",
            Self::Expired => "expired",
        }
    }
}

impl fmt::Display for NotificationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What its reader does with a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum NotificationAction {
    /// Approve what it asks for.
    Approve,
    /// Reject what it asks for, saying why.
    Reject {
        /// Why (kept with the decision).
        reason: String,
    },
    /// Mark it read (informational notifications).
    Acknowledge,
}

impl NotificationAction {
    /// The action's short name: `"approve"`, `"reject"` or `"acknowledge"`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject { .. } => "reject",
            Self::Acknowledge => "acknowledge",
        }
    }
}

/// What actions a notification offers: only an open one offers any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ActionName {
    /// [`NotificationAction::Approve`].
    Approve,
    /// [`NotificationAction::Reject`].
    Reject,
    /// [`NotificationAction::Acknowledge`].
    Acknowledge,
}

impl NotificationAction {
    /// The action without its reason.
    pub fn action_name(&self) -> ActionName {
        match self {
            Self::Approve => ActionName::Approve,
            Self::Reject { .. } => ActionName::Reject,
            Self::Acknowledge => ActionName::Acknowledge,
        }
    }
}

/// One item of a person's worklist.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Notification {
    /// Its id.
    pub id: NotificationId,
    /// The trust.
    pub vpd: VpdCode,
    /// Whom it is for (only they see and act on it).
    pub for_person: EmployeeNumber,
    /// What it is.
    pub kind: NotificationKind,
    /// What it concerns, in words (a person and what changed; never a secret).
    pub about: String,
    /// When it was raised.
    pub raised_at: DateTime<Utc>,
    /// When it expires unless acted on, if it does.
    pub expires_at: Option<DateTime<Utc>>,
    /// Its state as stored (see [`Notification::state_at`] for the state at a time).
    pub state: NotificationState,
    /// When it left the open state.
    pub settled_at: Option<DateTime<Utc>>,
}

impl Notification {
    /// Its state at `now`: an open notification past its expiry is expired.
    pub fn state_at(&self, now: DateTime<Utc>) -> NotificationState {
        match (self.state, self.expires_at) {
            (NotificationState::Open, Some(t)) if now >= t => NotificationState::Expired,
            (s, _) => s,
        }
    }

    /// Whether it is open at `now`.
    pub fn is_open_at(&self, now: DateTime<Utc>) -> bool {
        self.state_at(now) == NotificationState::Open
    }

    /// The actions it offers at `now`: approve and reject for a decision, acknowledge for
    /// news; none once it is no longer open.
    pub fn allowed_actions(&self, now: DateTime<Utc>) -> Vec<ActionName> {
        if !self.is_open_at(now) {
            Vec::new()
        } else if self.kind.kind_type().needs_decision() {
            vec![ActionName::Approve, ActionName::Reject]
        } else {
            vec![ActionName::Acknowledge]
        }
    }
}
