//! Notifications (a person's worklist) and record changes held for approval, for apps.

use crate::error::EsrError;
use crate::service::{EsrActor, EsrService, EsrSession, parse};
use crate::types::{CalendarDate, to_system};
use esr_core::notify::{
    ActionName, ChangeOutcome, ChangeStatus, NotificationAction as CoreAction, NotificationFilter,
    NotificationKind, NotificationType, ProposedChange,
};
use esr_core::{ChangeId, EmployeeNumber, NotificationId, VpdCode};
use std::sync::Arc;
use std::time::SystemTime;

/// One item of a person's worklist, as its reader sees it now.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NotificationInfo {
    /// Its id: pass it back to `act_on_notification`.
    pub id: String,
    /// Whom it is for (an employee number).
    pub for_person: String,
    /// The kind's short name (`record_change_to_approve`).
    pub kind: String,
    /// What it concerns, in words.
    pub about: String,
    /// When it was raised.
    pub raised_at: SystemTime,
    /// When it expires unless acted on.
    pub expires_at: Option<SystemTime>,
    /// `open`, `actioned`, `closed` or `expired`.
    pub state: String,
    /// What can be done now: `approve`, `reject`, `acknowledge`.
    pub actions: Vec<String>,
    /// The id of what it concerns (a held change), if any.
    pub item: Option<String>,
}

impl From<esr_core::notify::NotificationView> for NotificationInfo {
    fn from(v: esr_core::notify::NotificationView) -> Self {
        let n = v.notification;
        let item = match &n.kind {
            NotificationKind::RecordChangeToApprove { change }
            | NotificationKind::TeamChangeApplied { change } => Some(change.to_string()),
            NotificationKind::AccessRequestToAuthorise { request } => Some(request.clone()),
            _ => None,
        };
        Self {
            id: n.id.to_string(),
            for_person: n.for_person.to_string(),
            kind: n.kind.kind_type().name().to_owned(),
            about: n.about,
            raised_at: to_system(n.raised_at),
            expires_at: n.expires_at.map(to_system),
            state: n.state.name().to_owned(),
            actions: v
                .actions
                .iter()
                .map(|a| {
                    match a {
                        ActionName::Approve => "approve",
                        ActionName::Reject => "reject",
                        ActionName::Acknowledge => "acknowledge",
                    }
                    .to_owned()
                })
                .collect(),
            item,
        }
    }
}

/// What the reader does with a notification.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum NotificationAction {
    /// Approve what it asks for.
    Approve,
    /// Reject what it asks for, saying why.
    Reject {
        /// Why.
        reason: String,
    },
    /// Mark news as read.
    Acknowledge,
}

/// A change to a person's record held for approval.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PendingChangeInfo {
    /// Its id.
    pub id: String,
    /// Whose record (an employee number).
    pub subject: String,
    /// What it changes (field names).
    pub what: String,
    /// The URP that holds it for approval.
    pub route: String,
    /// Who must approve it (an employee number).
    pub approver: String,
    /// Who asked for it (a username).
    pub requested_by: String,
    /// When.
    pub requested_at: SystemTime,
    /// When it expires undecided.
    pub expires_at: SystemTime,
    /// `pending`, `applied`, `rejected` or `expired`.
    pub status: String,
    /// A rejection's reason.
    pub reason: Option<String>,
}

impl From<esr_core::notify::PendingChange> for PendingChangeInfo {
    fn from(c: esr_core::notify::PendingChange) -> Self {
        Self {
            id: c.id.to_string(),
            subject: c.subject.to_string(),
            what: c.change.describe(),
            route: c.route.to_string(),
            approver: c.approver.to_string(),
            requested_by: c.requested_by.to_string(),
            requested_at: to_system(c.requested_at),
            expires_at: to_system(c.expires_at),
            reason: match &c.status {
                ChangeStatus::Rejected { reason } => Some(reason.clone()),
                _ => None,
            },
            status: c.status.name().to_owned(),
        }
    }
}

/// A pay-affecting change to a report's assignment.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum AssignmentChange {
    /// New contracted minutes a week (37.5 hours is 2250).
    Hours {
        /// Minutes a week.
        weekly_minutes: u32,
    },
    /// A new position.
    Position {
        /// The position id.
        position: String,
    },
    /// A new supervising assignment (`nil`: none).
    Supervisor {
        /// The supervising assignment's number.
        supervisor: Option<String>,
    },
    /// Ends the assignment.
    End {
        /// Its last day.
        ended_on: CalendarDate,
    },
}

fn held(o: ChangeOutcome) -> Option<PendingChangeInfo> {
    match o {
        ChangeOutcome::Applied => None,
        ChangeOutcome::Held(c) => Some((*c).into()),
    }
}

#[uniffi::export]
impl EsrService {
    /// The number of the session's user's open notifications: the indicator every channel
    /// shows.
    pub fn notification_count(&self, session: Arc<EsrSession>) -> Result<u32, EsrError> {
        Ok(self.core.notification_count(session.id)?)
    }

    /// The session's user's notifications this session may see, most recent first (over the
    /// internet before an upgrade, none: only the count shows). `kind`: a kind's short name.
    #[uniffi::method(default(open_only = false, kind = None))]
    pub fn notifications(
        &self,
        session: Arc<EsrSession>,
        open_only: bool,
        kind: Option<String>,
    ) -> Result<Vec<NotificationInfo>, EsrError> {
        let filter = NotificationFilter {
            open_only,
            kind: kind.as_deref().map(parse::<NotificationType>).transpose()?,
        };
        Ok(self
            .core
            .notifications(session.id, filter)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Acts on one of the session's user's notifications.
    pub fn act_on_notification(
        &self,
        session: Arc<EsrSession>,
        notification: String,
        action: NotificationAction,
    ) -> Result<NotificationInfo, EsrError> {
        let id: NotificationId = parse(&notification)?;
        let action = match action {
            NotificationAction::Approve => CoreAction::Approve,
            NotificationAction::Reject { reason } => CoreAction::Reject { reason },
            NotificationAction::Acknowledge => CoreAction::Acknowledge,
        };
        Ok(self
            .core
            .act_on_notification(session.id, id, action)?
            .into())
    }

    /// Asks for a change to a person's details (`nil` leaves a field as it is): `nil` when it
    /// applied at once, the held change when it waits for approval.
    #[uniffi::method(default(given_name = None, family_name = None, recruitment_email = None))]
    pub fn request_details_change(
        &self,
        session: Arc<EsrSession>,
        employee_number: String,
        given_name: Option<String>,
        family_name: Option<String>,
        recruitment_email: Option<String>,
    ) -> Result<Option<PendingChangeInfo>, EsrError> {
        let e: EmployeeNumber = parse(&employee_number)?;
        let change = ProposedChange::Details {
            given_name,
            family_name,
            recruitment_email: recruitment_email.as_deref().map(parse).transpose()?,
        };
        Ok(held(self.core.request_change(session.id, &e, change)?))
    }

    /// Asks for a pay-affecting change to a report's assignment: `nil` when it applied at
    /// once, the held change when it waits for approval.
    pub fn request_assignment_change(
        &self,
        session: Arc<EsrSession>,
        employee_number: String,
        assignment: String,
        change: AssignmentChange,
    ) -> Result<Option<PendingChangeInfo>, EsrError> {
        let e: EmployeeNumber = parse(&employee_number)?;
        let assignment: esr_core::AssignmentNumber = parse(&assignment)?;
        let change = match change {
            AssignmentChange::Hours { weekly_minutes } => ProposedChange::Hours {
                assignment,
                weekly_minutes,
            },
            AssignmentChange::Position { position } => ProposedChange::Position {
                assignment,
                position: parse(&position)?,
            },
            AssignmentChange::Supervisor { supervisor } => ProposedChange::Supervisor {
                assignment,
                supervisor: supervisor.as_deref().map(parse).transpose()?,
            },
            AssignmentChange::End { ended_on } => ProposedChange::EndAssignment {
                assignment,
                ended_on: ended_on.to_core()?,
            },
        };
        Ok(held(self.core.request_change(session.id, &e, change)?))
    }

    /// A held change, for its requester, its approver or the person it concerns.
    pub fn pending_change(
        &self,
        session: Arc<EsrSession>,
        change: String,
    ) -> Result<PendingChangeInfo, EsrError> {
        let c: ChangeId = parse(&change)?;
        Ok(self.core.pending_change(session.id, c)?.into())
    }

    /// Marks held changes past their expiry as expired (they never apply); how many.
    pub fn expire_pending_changes(&self, actor: EsrActor, vpd: String) -> Result<u32, EsrError> {
        let vpd: VpdCode = parse(&vpd)?;
        Ok(self.core.expire_pending_changes(&actor.to_core()?, vpd)?)
    }
}
