//! Python shapes of notifications (a person's worklist) and record changes held for approval.

use crate::types::record;
use esr_core::chrono::{DateTime, Utc};
use esr_core::notify::{ChangeStatus, NotificationKind, ProposedChange};
use pyo3::prelude::*;

record!(
    /// One item of a person's worklist, as its reader sees it now. `kind` is the kind's short
    /// name (`"record_change_to_approve"`), `state` one of `"open"`, `"actioned"`, `"closed"`,
    /// `"expired"`, `actions` what can be done now (`"approve"`, `"reject"`,
    /// `"acknowledge"`), `item` the id of what it concerns (a held change's id), if any.
    Notification {
        id: String,
        for_person: String,
        kind: String,
        about: String,
        raised_at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
        state: String,
        actions: Vec<String>,
        item: Option<String>,
    }
);

record!(
    /// A change to a person's record held for approval. `status` is `"pending"`,
    /// `"applied"`, `"rejected"` or `"expired"`; `reason` the rejection's reason.
    PendingChange {
        id: String,
        subject: String,
        what: String,
        route: String,
        approver: String,
        requested_by: String,
        requested_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        status: String,
        reason: Option<String>,
    }
);

impl From<esr_core::notify::NotificationView> for Notification {
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
            raised_at: n.raised_at,
            expires_at: n.expires_at,
            state: n.state.name().to_owned(),
            actions: v
                .actions
                .iter()
                .map(|a| {
                    match a {
                        esr_core::notify::ActionName::Approve => "approve",
                        esr_core::notify::ActionName::Reject => "reject",
                        esr_core::notify::ActionName::Acknowledge => "acknowledge",
                    }
                    .to_owned()
                })
                .collect(),
            item,
        }
    }
}

impl From<esr_core::notify::PendingChange> for PendingChange {
    fn from(c: esr_core::notify::PendingChange) -> Self {
        Self {
            id: c.id.to_string(),
            subject: c.subject.to_string(),
            what: c.change.describe(),
            route: c.route.to_string(),
            approver: c.approver.to_string(),
            requested_by: c.requested_by.to_string(),
            requested_at: c.requested_at,
            expires_at: c.expires_at,
            reason: match &c.status {
                ChangeStatus::Rejected { reason } => Some(reason.clone()),
                _ => None,
            },
            status: c.status.name().to_owned(),
        }
    }
}

/// Whether a change is one the caller asked to hold: `None` when it applied at once.
pub(crate) fn held(o: esr_core::notify::ChangeOutcome) -> Option<PendingChange> {
    match o {
        esr_core::notify::ChangeOutcome::Applied => None,
        esr_core::notify::ChangeOutcome::Held(c) => Some((*c).into()),
    }
}

/// The one assignment change asked for, from keyword arguments (exactly one must be given).
pub(crate) fn assignment_change(
    assignment: esr_core::AssignmentNumber,
    weekly_minutes: Option<u32>,
    position: Option<esr_core::PositionId>,
    supervisor: Option<Option<esr_core::AssignmentNumber>>,
    ended_on: Option<esr_core::chrono::NaiveDate>,
) -> esr_core::Result<ProposedChange> {
    let mut v = Vec::new();
    if let Some(weekly_minutes) = weekly_minutes {
        v.push(ProposedChange::Hours {
            assignment: assignment.clone(),
            weekly_minutes,
        });
    }
    if let Some(position) = position {
        v.push(ProposedChange::Position {
            assignment: assignment.clone(),
            position,
        });
    }
    if let Some(supervisor) = supervisor {
        v.push(ProposedChange::Supervisor {
            assignment: assignment.clone(),
            supervisor,
        });
    }
    if let Some(ended_on) = ended_on {
        v.push(ProposedChange::EndAssignment {
            assignment,
            ended_on,
        });
    }
    if v.len() != 1 {
        return Err(esr_core::Error::InvalidInput {
            what: "change",
            reason: "name exactly one of weekly_minutes, position, supervisor, ended_on".into(),
        });
    }
    Ok(v.remove(0))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Notification>()?;
    m.add_class::<PendingChange>()?;
    Ok(())
}
