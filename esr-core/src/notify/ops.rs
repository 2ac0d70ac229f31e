//! The notification and approval operations of [`Esr`](crate::Esr): the worklist (list, count,
//! act), raising notifications from other flows, and record changes held for approval.

use crate::access::Session;
use crate::audit::{AuditActor, AuditEvent};
use crate::error::{Error, Result};
use crate::notify::{
    ActionName, ApprovalRoute, ChangeOutcome, ChangeStatus, MAX_CHANGE_APPROVAL_DAYS, Notification,
    NotificationAction, NotificationKind, NotificationState, NotificationType, PendingChange,
    ProposedChange, notification_visibility,
};
use crate::org::TrustSettings;
use crate::people::{Person, RecordBasis, pick_basis, record_access};
use crate::service::*;
use crate::store::{Store, StoreTx};
use crate::urp::{Function, Urp};
use crate::values::limits::MAX_REASON_CHARS;
use crate::values::{
    AssignmentNumber, ChangeId, Clock, EmployeeNumber, NotificationId, SessionId, VpdCode,
    clean_text,
};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::BTreeSet;

/// Which of a person's notifications to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NotificationFilter {
    /// Only those open now.
    pub open_only: bool,
    /// Only those of this kind.
    pub kind: Option<NotificationType>,
}

/// A notification as its reader sees it now: its state at this moment (an open one past its
/// expiry shows as expired) and the actions it offers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NotificationView {
    /// The notification, with its state at the time of the call.
    pub notification: Notification,
    /// What can be done with it now (empty once it is not open).
    pub actions: Vec<ActionName>,
}

impl NotificationView {
    fn of(mut n: Notification, now: DateTime<Utc>) -> Self {
        let actions = n.allowed_actions(now);
        n.state = n.state_at(now);
        Self {
            notification: n,
            actions,
        }
    }
}

/// The user acting on their worklist.
struct Reader {
    session: Session,
    settings: TrustSettings,
    me: EmployeeNumber,
}

fn reader(tx: &mut dyn StoreTx, session: SessionId, now: DateTime<Utc>) -> Result<Reader> {
    let (s, settings, acc, _) = session_context(tx, session, now)?;
    Ok(Reader {
        me: acc.employee_number,
        session: s,
        settings,
    })
}

impl Reader {
    fn sees(&self, kind: NotificationType) -> bool {
        notification_visibility(
            self.session.channel,
            self.session.is_upgraded(),
            kind,
            &self.settings,
        )
        .is_full()
    }
}

impl<S: Store, C: Clock> Esr<S, C> {
    /// Raises a notification for `for_person` inside the caller's transaction: what workflows
    /// call to put an item on someone's worklist. Not audited by itself (the change that
    /// raised it is).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn raise(
        &self,
        tx: &mut dyn StoreTx,
        vpd: VpdCode,
        now: DateTime<Utc>,
        for_person: &EmployeeNumber,
        kind: NotificationKind,
        about: String,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<Notification> {
        let n = Notification {
            id: NotificationId::from_bytes(self.random16()?),
            vpd,
            for_person: for_person.clone(),
            kind,
            about,
            raised_at: now,
            expires_at,
            state: NotificationState::Open,
            settled_at: None,
        };
        tx.put_notification(&n)?;
        Ok(n)
    }

    /// Tells `to` of something `by` did, unless `by` is `to` themselves (nobody is told of
    /// their own change).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn tell(
        &self,
        tx: &mut dyn StoreTx,
        vpd: VpdCode,
        now: DateTime<Utc>,
        by: &AuditActor,
        to: &EmployeeNumber,
        kind: NotificationKind,
        about: String,
    ) -> Result<()> {
        if let AuditActor::User { username, .. } = by
            && account_of(tx, username)?.employee_number == *to
        {
            return Ok(());
        }
        self.raise(tx, vpd, now, to, kind, about, None)?;
        Ok(())
    }

    /// The number of the session's user's open notifications: the indicator every channel
    /// shows, even where their content may not be seen.
    pub fn notification_count(&self, session: SessionId) -> Result<u32> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let r = reader(tx, session, now)?;
            let n = tx
                .notifications_of(r.session.vpd, &r.me)?
                .iter()
                .filter(|n| n.is_open_at(now))
                .count();
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        })
    }

    /// The session's user's notifications that this session may see, most recent first
    /// (see [`notification_visibility`]; over the internet before an upgrade the list is empty
    /// and only [`Esr::notification_count`] shows them). Reading one's own worklist is not
    /// audited, as reading one's own record is not.
    pub fn notifications(
        &self,
        session: SessionId,
        filter: NotificationFilter,
    ) -> Result<Vec<NotificationView>> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let r = reader(tx, session, now)?;
            let mut v: Vec<NotificationView> = tx
                .notifications_of(r.session.vpd, &r.me)?
                .into_iter()
                .filter(|n| r.sees(n.kind.kind_type()))
                .filter(|n| !filter.open_only || n.is_open_at(now))
                .filter(|n| filter.kind.is_none_or(|k| k == n.kind.kind_type()))
                .map(|n| NotificationView::of(n, now))
                .collect();
            v.reverse();
            Ok(v)
        })
    }

    /// Acts on one of the session's user's notifications: approves or rejects what it asks
    /// for, or acknowledges news. Only the person it is for may act, on a channel that shows
    /// it, while it is open; the workflow that owns the item does the rest in the same
    /// transaction, and the act is audited.
    pub fn act_on_notification(
        &self,
        session: SessionId,
        id: NotificationId,
        action: NotificationAction,
    ) -> Result<NotificationView> {
        let action = match action {
            NotificationAction::Reject { reason } => NotificationAction::Reject {
                reason: clean_text("reason", &reason, MAX_REASON_CHARS)?,
            },
            a => a,
        };
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let r = reader(tx, session, now)?;
            let vpd = r.session.vpd;
            let mut n = tx
                .notification(vpd, &id)?
                .ok_or(Error::UnknownNotification(id))?;
            if n.for_person != r.me {
                return Err(Error::NotificationNotYours(id));
            }
            let kind = n.kind.kind_type();
            if !r.sees(kind) {
                return Err(Error::NotificationHidden { id, kind });
            }
            let state = n.state_at(now);
            if state != NotificationState::Open {
                return Err(Error::NotificationSettled { id, state });
            }
            if !n.allowed_actions(now).contains(&action.action_name()) {
                return Err(Error::ActionNotAllowed {
                    action: action.name(),
                    kind,
                });
            }
            let who = user_actor(&r.session);
            self.dispatch(tx, now, &r, &who, &n, &action)?;
            n.state = match action {
                NotificationAction::Acknowledge => NotificationState::Closed,
                _ => NotificationState::Actioned,
            };
            n.settled_at = Some(now);
            tx.put_notification(&n)?;
            let reason = match &action {
                NotificationAction::Reject { reason } => reason.clone(),
                _ => String::new(),
            };
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::NotificationActed {
                    notification: id,
                    kind: kind.name().into(),
                    action: action.name().into(),
                    reason,
                },
            )?;
            Ok(NotificationView::of(n, now))
        })
    }

    /// What acting on a notification does beyond settling it: the workflow that owns the item
    /// decides. Each kind that asks for a decision has an arm here; news needs none.
    fn dispatch(
        &self,
        tx: &mut dyn StoreTx,
        now: DateTime<Utc>,
        r: &Reader,
        who: &AuditActor,
        n: &Notification,
        action: &NotificationAction,
    ) -> Result<()> {
        match &n.kind {
            NotificationKind::RecordChangeToApprove { change } => {
                self.decide_change(tx, now, r, who, *change, action)
            }
            // Workflows (wf-requests): access requests and competence claims decide
            // themselves, with their own rules of who may.
            NotificationKind::AccessRequestToAuthorise { request } => {
                crate::urp::act_on_access_request(
                    tx,
                    r.session.id,
                    &r.me,
                    request,
                    rejection_of(action),
                    now,
                )
            }
            NotificationKind::CompetenceToApprove {
                subject,
                competence,
                achieved,
            } => crate::compliance::act_on_competence_claim(
                tx,
                r.session.id,
                &r.me,
                r.session.vpd,
                subject,
                competence,
                *achieved,
                rejection_of(action),
                now,
            ),
            // Workflows whose decisions are not wired here yet refuse rather than settle
            // the notification without deciding the item.
            k if k.kind_type().needs_decision() => Err(Error::ActionNotAllowed {
                action: action.name(),
                kind: k.kind_type(),
            }),
            _ => Ok(()),
        }
    }

    /// Chooses which notification kinds an upgraded internet session may view and act on
    /// (needs Portal administration); the rest show there only in the count.
    pub fn set_internet_notifications(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        kinds: BTreeSet<NotificationType>,
    ) -> Result<TrustSettings> {
        let value = kinds
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", ");
        self.change_settings(
            actor,
            vpd,
            Function::AdministerPortal,
            "Internet notifications",
            value,
            |s| {
                s.internet_notifications = kinds.clone();
                Ok(())
            },
        )
    }

    /// Sets how many days a held change waits for approval before it expires (1 to 366;
    /// needs Portal administration).
    pub fn set_change_approval_days(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        days: u32,
    ) -> Result<TrustSettings> {
        if !(1..=MAX_CHANGE_APPROVAL_DAYS).contains(&days) {
            return Err(Error::invalid(
                "change approval days",
                format!("it must be from 1 to {MAX_CHANGE_APPROVAL_DAYS}"),
            ));
        }
        self.change_settings(
            actor,
            vpd,
            Function::AdministerPortal,
            "Change approval days",
            days.to_string(),
            |s| {
                s.change_approval_days = days;
                Ok(())
            },
        )
    }

    /// Asks for a change to a person's record. It applies at once, or is held for approval:
    ///
    /// - a change to someone's details made on the delegated-administrator basis under
    ///   Administrator Self Service (Approvals Required) waits for the person's line manager;
    ///   under (Approvals Not Required) it applies and the line manager is told;
    /// - a pay-affecting change to a report's assignment (hours, position, supervisor, ending
    ///   it; needs Manage team assignments on this channel) under Manager Self Service (Payroll
    ///   Approvals Required) waits for the manager's own line manager; under (Payroll Approvals
    ///   not Required) it applies at once;
    /// - any other change the session may make applies at once.
    ///
    /// The person is told of a change to their record made by someone else. A held change
    /// expires after the trust's
    /// [`change_approval_days`](crate::org::TrustSettings::change_approval_days).
    pub fn request_change(
        &self,
        session: SessionId,
        subject: &EmployeeNumber,
        change: ProposedChange,
    ) -> Result<ChangeOutcome> {
        self.change_record(session, subject, change, true)
            .map(|(o, _)| o)
    }

    /// [`Esr::request_change`], or (when `may_hold` is false) a refusal where the change would
    /// be held; with the person as it is after the call.
    pub(crate) fn change_record(
        &self,
        session: SessionId,
        subject: &EmployeeNumber,
        change: ProposedChange,
        may_hold: bool,
    ) -> Result<(ChangeOutcome, Person)> {
        let change = clean_change(change)?;
        let now = self.clock.now();
        let change_id = ChangeId::from_bytes(self.random16()?);
        self.store.transaction(|tx| {
            let (s, trust, acc, held) = session_context(tx, session, now)?;
            let vpd = s.vpd;
            let access = record_access(tx, &s.username, vpd, subject)?;
            let ctx = context(&s, &trust, &acc, &held);
            let who = user_actor(&s);
            let mut basis = None;
            let route = if change.is_pay_affecting() {
                if !access.change.contains(&RecordBasis::LineManager) {
                    return Err(Error::RecordNotVisible {
                        action: "change",
                        subject: subject.clone(),
                    });
                }
                let f = Function::ManageTeamAssignments;
                if let crate::access::AccessDecision::Denied(denial) =
                    crate::access::decide(f, &ctx)
                {
                    return Err(Error::NotPermitted {
                        function: f,
                        denial,
                    });
                }
                let assignment = change.assignment().cloned();
                let a = assignment_of(
                    tx,
                    vpd,
                    assignment.as_ref().unwrap_or_else(|| unreachable!()),
                )?;
                if a.employee_number != *subject {
                    return Err(Error::invalid(
                        "assignment",
                        format!("assignment {} is not {subject}'s", a.number),
                    ));
                }
                (held.contains(&Urp::ManagerSelfServicePayrollApprovalsRequired)
                    && !held.contains(&Urp::ManagerSelfServicePayrollApprovalsNotRequired))
                .then_some(ApprovalRoute::ManagerPayroll)
            } else {
                let b = pick_basis(
                    &access.change,
                    &ctx,
                    RecordBasis::change_function,
                    "change",
                    subject,
                )?;
                basis = Some(b);
                (b == RecordBasis::DelegatedAdministrator
                    && held.contains(&Urp::AdministratorSelfServiceApprovalsRequired)
                    && !held.contains(&Urp::AdministratorSelfServiceApprovalsNotRequired))
                .then_some(ApprovalRoute::AdministratorSelfService)
            };
            let mut c = PendingChange {
                id: change_id,
                vpd,
                subject: subject.clone(),
                change: change.clone(),
                requested_by: s.username.clone(),
                requested_at: now,
                route: route.unwrap_or(ApprovalRoute::AdministratorSelfService),
                approver: subject.clone(),
                expires_at: now + TimeDelta::days(i64::from(trust.change_approval_days)),
                status: ChangeStatus::Pending,
                decided_at: None,
                decided_by: None,
            };
            if let Some(route) = route {
                if !may_hold {
                    return Err(Error::ApprovalRequired {
                        subject: subject.clone(),
                    });
                }
                let (of, who_text) = match route {
                    ApprovalRoute::AdministratorSelfService => (subject, "their line manager"),
                    ApprovalRoute::ManagerPayroll => (&acc.employee_number, "your line manager"),
                };
                let approver = line_manager_of(tx, vpd, of)?
                    .filter(|a| *a != acc.employee_number)
                    .ok_or_else(|| Error::NoApprover {
                        subject: subject.clone(),
                        who: who_text,
                    })?;
                c.approver = approver.clone();
                tx.put_pending_change(&c)?;
                audit(
                    tx,
                    vpd,
                    now,
                    who.clone(),
                    AuditEvent::ChangeHeld {
                        change: c.id,
                        subject: subject.clone(),
                        what: change.describe(),
                        route: route.to_string(),
                        approver: approver.clone(),
                    },
                )?;
                let about = about_change(tx, &c)?;
                self.raise(
                    tx,
                    vpd,
                    now,
                    &approver,
                    NotificationKind::RecordChangeToApprove { change: c.id },
                    about,
                    Some(c.expires_at),
                )?;
                let person = person_of(tx, vpd, subject)?;
                return Ok((ChangeOutcome::Held(Box::new(c)), person));
            }
            // Applies at once.
            let person = apply_change(tx, vpd, now, who.clone(), subject, &change)?;
            let what = change.describe();
            let about_subject = format!("{} ({subject}): {what}", person.name);
            self.tell(
                tx,
                vpd,
                now,
                &who,
                subject,
                NotificationKind::RecordChanged {
                    fields: what.clone(),
                },
                about_subject.clone(),
            )?;
            // Administrator Self Service (Approvals Not Required): the line manager is told,
            // with the change kept as applied.
            let unapproved_admin = basis == Some(RecordBasis::DelegatedAdministrator)
                && held.contains(&Urp::AdministratorSelfServiceApprovalsNotRequired);
            if unapproved_admin
                && let Some(manager) = line_manager_of(tx, vpd, subject)?
                && manager != acc.employee_number
            {
                c.approver = manager.clone();
                c.status = ChangeStatus::Applied;
                c.decided_at = Some(now);
                c.decided_by = Some(s.username.clone());
                tx.put_pending_change(&c)?;
                self.raise(
                    tx,
                    vpd,
                    now,
                    &manager,
                    NotificationKind::TeamChangeApplied { change: c.id },
                    about_subject,
                    None,
                )?;
            }
            Ok((ChangeOutcome::Applied, person))
        })
    }

    /// Approves or rejects a held change, for the notification that asks its approver.
    fn decide_change(
        &self,
        tx: &mut dyn StoreTx,
        now: DateTime<Utc>,
        r: &Reader,
        who: &AuditActor,
        id: ChangeId,
        action: &NotificationAction,
    ) -> Result<()> {
        let vpd = r.session.vpd;
        let mut c = tx
            .pending_change(vpd, &id)?
            .ok_or(Error::UnknownChange(id))?;
        if c.approver != r.me {
            return Err(Error::ChangeSettled {
                change: id,
                status: "not yours to decide",
            });
        }
        match c.status_at(now) {
            ChangeStatus::Pending => {}
            s => {
                return Err(Error::ChangeSettled {
                    change: id,
                    status: s.name(),
                });
            }
        }
        let (decision, reason) = match action {
            NotificationAction::Approve => {
                apply_change(tx, vpd, now, who.clone(), &c.subject, &c.change)?;
                c.status = ChangeStatus::Applied;
                ("applied", String::new())
            }
            NotificationAction::Reject { reason } => {
                c.status = ChangeStatus::Rejected {
                    reason: reason.clone(),
                };
                ("rejected", reason.clone())
            }
            NotificationAction::Acknowledge => {
                return Err(Error::ActionNotAllowed {
                    action: action.name(),
                    kind: NotificationType::RecordChangeToApprove,
                });
            }
        };
        c.decided_at = Some(now);
        c.decided_by = Some(r.session.username.clone());
        tx.put_pending_change(&c)?;
        let what = c.change.describe();
        audit(
            tx,
            vpd,
            now,
            who.clone(),
            AuditEvent::ChangeDecided {
                change: id,
                subject: c.subject.clone(),
                what: what.clone(),
                decision: decision.into(),
                reason,
            },
        )?;
        if matches!(c.status, ChangeStatus::Applied) {
            let about = about_change(tx, &c)?;
            // The person hears of the change to their record (by its requester, not the
            // approver, so not when they asked for it themselves).
            let requester = account_of(tx, &c.requested_by)?.employee_number;
            if requester != c.subject {
                self.raise(
                    tx,
                    vpd,
                    now,
                    &c.subject,
                    NotificationKind::RecordChanged { fields: what },
                    about,
                    None,
                )?;
            }
        }
        Ok(())
    }

    /// A held change, for its requester, its approver or the person whose record it changes.
    pub fn pending_change(&self, session: SessionId, id: ChangeId) -> Result<PendingChange> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let r = reader(tx, session, now)?;
            let c = tx
                .pending_change(r.session.vpd, &id)?
                .ok_or(Error::UnknownChange(id))?;
            if c.requested_by != r.session.username && c.approver != r.me && c.subject != r.me {
                return Err(Error::UnknownChange(id));
            }
            let mut c = c;
            c.status = c.status_at(now);
            Ok(c)
        })
    }

    /// Marks every held change past its expiry as expired (it never applies) and every open
    /// notification past its expiry as expired, each change audited; the number of changes
    /// expired (needs Maintain people, or the embedding system's scheduler). Listing and
    /// acting treat an expired item as expired whether or not this has run.
    pub fn expire_pending_changes(&self, actor: &Actor, vpd: VpdCode) -> Result<u32> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::MaintainPeople, now)?;
            let mut n = 0u32;
            let mut approvers = BTreeSet::new();
            for mut c in tx.pending_changes(vpd)? {
                if c.status != ChangeStatus::Pending || c.status_at(now) != ChangeStatus::Expired {
                    continue;
                }
                c.status = ChangeStatus::Expired;
                c.decided_at = Some(now);
                tx.put_pending_change(&c)?;
                audit(
                    tx,
                    vpd,
                    now,
                    who.clone(),
                    AuditEvent::ChangeDecided {
                        change: c.id,
                        subject: c.subject.clone(),
                        what: c.change.describe(),
                        decision: "expired".into(),
                        reason: String::new(),
                    },
                )?;
                approvers.insert(c.approver.clone());
                n += 1;
            }
            for p in approvers {
                for mut x in tx.notifications_of(vpd, &p)? {
                    if x.state == NotificationState::Open
                        && x.state_at(now) == NotificationState::Expired
                    {
                        x.state = NotificationState::Expired;
                        x.settled_at = Some(now);
                        tx.put_notification(&x)?;
                    }
                }
            }
            Ok(n)
        })
    }

    /// Raises a "competence expiring" notification for each person whose latest record of a
    /// competence expires within `within_days` days from today (inclusive), once per
    /// competence and expiry date however often it runs (needs Learning administration, or
    /// the embedding system's scheduler). The number raised, audited as one entry.
    pub fn raise_expiry_notices(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        within_days: u32,
    ) -> Result<u32> {
        if within_days > 366 {
            return Err(Error::invalid(
                "within_days",
                "it must be from 0 to 366 days",
            ));
        }
        let now = self.clock.now();
        let today = now.date_naive();
        let until = today + TimeDelta::days(i64::from(within_days));
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::AdministerLearning, now)?;
            trust_of(tx, vpd)?;
            // The latest expiry of each person's competence: a renewed one is not expiring.
            let mut latest = std::collections::BTreeMap::new();
            for r in tx.competence_records(vpd)? {
                let e = latest
                    .entry((r.employee_number.clone(), r.competence.clone()))
                    .or_insert(r.expiry);
                *e = match (*e, r.expiry) {
                    (None, _) | (_, None) => None,
                    (Some(a), Some(b)) => Some(a.max(b)),
                };
            }
            let mut n = 0u32;
            for ((person, competence), expiry) in latest {
                let Some(expiry) = expiry else { continue };
                if expiry < today || expiry > until {
                    continue;
                }
                let kind = NotificationKind::CompetenceExpiring {
                    competence: competence.clone(),
                    expiry,
                };
                if tx
                    .notifications_of(vpd, &person)?
                    .iter()
                    .any(|x| x.kind == kind)
                {
                    continue;
                }
                let about = format!("{competence} expires on {}", expiry.format("%d-%b-%Y"));
                self.raise(tx, vpd, now, &person, kind, about, None)?;
                n += 1;
            }
            if n > 0 {
                audit(
                    tx,
                    vpd,
                    now,
                    who,
                    AuditEvent::NotificationsRaised {
                        kind: NotificationType::CompetenceExpiring.name().into(),
                        count: u64::from(n),
                    },
                )?;
            }
            Ok(n)
        })
    }
}

/// The change with its texts cleaned and its values checked.
fn clean_change(change: ProposedChange) -> Result<ProposedChange> {
    use crate::values::limits::MAX_NAME_CHARS;
    Ok(match change {
        ProposedChange::Details {
            given_name,
            family_name,
            recruitment_email,
        } => {
            let given_name = given_name
                .as_deref()
                .map(|g| clean_text("given name", g, MAX_NAME_CHARS))
                .transpose()?;
            let family_name = family_name
                .as_deref()
                .map(|g| clean_text("surname", g, MAX_NAME_CHARS))
                .transpose()?;
            if given_name.is_none() && family_name.is_none() && recruitment_email.is_none() {
                return Err(Error::invalid(
                    "change",
                    "it changes nothing; name a field to change",
                ));
            }
            ProposedChange::Details {
                given_name,
                family_name,
                recruitment_email,
            }
        }
        ProposedChange::Hours {
            assignment,
            weekly_minutes,
        } => {
            if !(1..=10_080).contains(&weekly_minutes) {
                return Err(Error::invalid(
                    "weekly minutes",
                    "it must be from 1 to 10,080 (the minutes in a week); 37.5 hours is 2250",
                ));
            }
            ProposedChange::Hours {
                assignment,
                weekly_minutes,
            }
        }
        c => c,
    })
}

/// The line manager of `employee`: the holder of the supervising assignment of their first
/// assignment (in number order) that is not ended and has a supervisor.
pub(crate) fn line_manager_of(
    tx: &dyn StoreTx,
    vpd: VpdCode,
    employee: &EmployeeNumber,
) -> Result<Option<EmployeeNumber>> {
    for a in tx.assignments_of(vpd, employee)? {
        if a.ended_on.is_some() {
            continue;
        }
        if let Some(sup) = &a.supervisor
            && let Some(s) = tx.assignment(vpd, sup)?
        {
            return Ok(Some(s.employee_number));
        }
    }
    Ok(None)
}

/// What a held change concerns, in words: the person and what it changes.
fn about_change(tx: &dyn StoreTx, c: &PendingChange) -> Result<String> {
    let p = person_of(tx, c.vpd, &c.subject)?;
    Ok(format!(
        "{} ({}): {}",
        p.name,
        c.subject,
        c.change.describe()
    ))
}

/// Applies a change to a person's record, audited as a record change; the person after it.
/// Checks again what may have changed since the change was asked for (the assignment is the
/// person's and not ended, a new supervisor makes no cycle).
pub(crate) fn apply_change(
    tx: &mut dyn StoreTx,
    vpd: VpdCode,
    now: DateTime<Utc>,
    who: AuditActor,
    subject: &EmployeeNumber,
    change: &ProposedChange,
) -> Result<Person> {
    let mut person = person_of(tx, vpd, subject)?;
    match change {
        ProposedChange::Details {
            given_name,
            family_name,
            recruitment_email,
        } => {
            if let Some(g) = given_name {
                person.name.given.clone_from(g);
            }
            if let Some(f) = family_name {
                person.name.family.clone_from(f);
            }
            if let Some(e) = recruitment_email {
                person.recruitment_email = e.clone();
            }
            tx.put_person(&person)?;
        }
        _ => {
            let number: &AssignmentNumber = change.assignment().unwrap_or_else(|| unreachable!());
            let mut a = assignment_of(tx, vpd, number)?;
            if a.employee_number != *subject {
                return Err(Error::invalid(
                    "assignment",
                    format!("assignment {number} is not {subject}'s"),
                ));
            }
            if let Some(end) = a.ended_on {
                return Err(Error::invalid(
                    "assignment",
                    format!("assignment {number} ended on {end}; it cannot be changed"),
                ));
            }
            match change {
                ProposedChange::Supervisor { supervisor, .. } => {
                    if let Some(sup) = supervisor {
                        crate::people::check_supervisor(tx, &a, sup)?;
                    }
                    a.supervisor = supervisor.clone();
                }
                ProposedChange::Position { position, .. } => a.position = position.clone(),
                ProposedChange::Hours { weekly_minutes, .. } => {
                    a.weekly_minutes = Some(*weekly_minutes);
                }
                ProposedChange::EndAssignment { ended_on, .. } => a.ended_on = Some(*ended_on),
                ProposedChange::Details { .. } => unreachable!(),
            }
            tx.put_assignment(&a)?;
        }
    }
    audit(
        tx,
        vpd,
        now,
        who,
        AuditEvent::RecordChanged {
            subject: subject.clone(),
            fields: change.describe(),
        },
    )?;
    Ok(person)
}

/// The rejection reason of a decision action (`None` to approve). Workflows (wf-requests).
fn rejection_of(action: &NotificationAction) -> Option<String> {
    match action {
        NotificationAction::Reject { reason } => Some(reason.clone()),
        _ => None,
    }
}
