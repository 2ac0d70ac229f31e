//! The in-memory store's notifications and held changes, one set per trust, with their undo
//! entries and the settle-once checks of the contract.

use crate::error::{Error, Result};
use crate::notify::{ChangeStatus, Notification, NotificationState, PendingChange};
use crate::values::{ChangeId, EmployeeNumber, NotificationId, VpdCode};
use std::collections::{BTreeMap, BTreeSet};

/// One trust's notifications and held changes.
#[derive(Debug, Default)]
pub(super) struct TrustNotify {
    pub(super) notifications: BTreeMap<NotificationId, Notification>,
    /// (person, id): a person's notifications.
    pub(super) by_person: BTreeSet<(EmployeeNumber, NotificationId)>,
    pub(super) changes: BTreeMap<ChangeId, PendingChange>,
}

/// Every trust's notifications and held changes.
#[derive(Debug, Default)]
pub(super) struct NotifyTables {
    pub(super) trusts: BTreeMap<VpdCode, TrustNotify>,
}

/// How to undo one write: the value to put back (`None`: remove).
pub(super) enum NotifyUndo {
    Notification(VpdCode, NotificationId, Option<Notification>),
    Change(VpdCode, ChangeId, Option<PendingChange>),
}

impl NotifyTables {
    pub(super) fn trust(&self, vpd: VpdCode) -> Option<&TrustNotify> {
        self.trusts.get(&vpd)
    }

    fn trust_mut(&mut self, vpd: VpdCode) -> &mut TrustNotify {
        self.trusts.entry(vpd).or_default()
    }

    /// Puts a notification, refusing to replace a settled one; the undo entry on success.
    pub(super) fn put_notification(&mut self, n: &Notification) -> Result<NotifyUndo> {
        let t = self.trust_mut(n.vpd);
        if let Some(old) = t.notifications.get(&n.id) {
            if old.state != NotificationState::Open {
                return Err(Error::Storage(format!(
                    "notification {} is already {}; a notification is settled only once \
                     (another request settled it first)",
                    n.id, old.state
                )));
            }
            if old.for_person != n.for_person || old.kind != n.kind {
                return Err(Error::Storage(
                    "a notification's person and kind cannot change".into(),
                ));
            }
        }
        t.by_person.insert((n.for_person.clone(), n.id));
        let old = t.notifications.insert(n.id, n.clone());
        Ok(NotifyUndo::Notification(n.vpd, n.id, old))
    }

    /// Puts a held change, refusing to replace a settled one; the undo entry on success.
    pub(super) fn put_change(&mut self, c: &PendingChange) -> Result<NotifyUndo> {
        let t = self.trust_mut(c.vpd);
        if let Some(old) = t.changes.get(&c.id)
            && old.status != ChangeStatus::Pending
        {
            return Err(Error::Storage(format!(
                "change {} is already {}; a change is settled only once (another request \
                 decided it first)",
                c.id, old.status
            )));
        }
        let old = t.changes.insert(c.id, c.clone());
        Ok(NotifyUndo::Change(c.vpd, c.id, old))
    }

    pub(super) fn undo(&mut self, u: NotifyUndo) {
        match u {
            NotifyUndo::Notification(vpd, id, old) => {
                let t = self.trust_mut(vpd);
                match old {
                    Some(o) => {
                        t.notifications.insert(id, o);
                    }
                    None => {
                        if let Some(cur) = t.notifications.remove(&id) {
                            t.by_person.remove(&(cur.for_person, id));
                        }
                    }
                }
            }
            NotifyUndo::Change(vpd, id, old) => {
                let t = self.trust_mut(vpd);
                match old {
                    Some(o) => {
                        t.changes.insert(id, o);
                    }
                    None => {
                        t.changes.remove(&id);
                    }
                }
            }
        }
    }
}
