//! Retention: how long finished records are kept, and [`Esr::purge`], which applies it.

use super::{Actor, Esr, audit, authorise};
use crate::audit::AuditEvent;
use crate::error::{Error, Result};
use crate::passcode::PasscodePolicy;
use crate::store::{PurgeCounts, PurgeCutoffs, Store};
use crate::urp::Function;
use crate::values::{Clock, VpdCode, minus};
use chrono::TimeDelta;

/// How long finished records are kept before [`Esr::purge`] removes them. Each period runs
/// from when the record finished: a challenge from when it was used, superseded, killed or
/// expired; a session from when it ended or timed out; an outbox message from when it was
/// delivered, given up or dropped. Pending challenges, live sessions and messages still to be
/// sent are never removed. Audit entries are not touched: they record what happened to these
/// records for as long as the trail is kept.
///
/// Every period is from 1 hour to 10 years; the default is 1 day each, long enough for a user
/// to be told "that code was already used" the same day, and for an operator to look at a
/// failed message. `challenges` is at least the passcode send window
/// ([`PasscodePolicy::send_window`]), so that purging never frees a send the limits count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Retention {
    /// How long a settled or expired challenge is kept (default 1 day).
    pub challenges: TimeDelta,
    /// How long an ended or timed-out session is kept (default 1 day).
    pub sessions: TimeDelta,
    /// How long a delivered, failed or dropped outbox message is kept (default 1 day).
    pub messages: TimeDelta,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            challenges: TimeDelta::days(1),
            sessions: TimeDelta::days(1),
            messages: TimeDelta::days(1),
        }
    }
}

impl Retention {
    /// Checks the limits documented on [`Retention`].
    pub fn check(&self, passcodes: &PasscodePolicy) -> Result<()> {
        let ok = |d: TimeDelta| d >= TimeDelta::hours(1) && d <= TimeDelta::days(3653);
        for (name, d) in [
            ("retention challenges", self.challenges),
            ("retention sessions", self.sessions),
            ("retention messages", self.messages),
        ] {
            if !ok(d) {
                return Err(Error::invalid(name, "it must be from 1 hour to 10 years"));
            }
        }
        if self.challenges < passcodes.send_window {
            return Err(Error::invalid(
                "retention challenges",
                "it must be at least the passcode send window, which counts recent challenges",
            ));
        }
        Ok(())
    }

    /// The cutoffs at `now`.
    pub fn cutoffs_at(&self, now: chrono::DateTime<chrono::Utc>) -> PurgeCutoffs {
        PurgeCutoffs {
            challenges: minus(now, self.challenges),
            sessions: minus(now, self.sessions),
            messages: minus(now, self.messages),
        }
    }
}

impl<S: Store, C: Clock> Esr<S, C> {
    /// Applies the [`Retention`] policy of [`Config::retention`](crate::Config::retention) to
    /// trust `vpd`: removes its challenges, sessions and outbox messages that finished longer
    /// ago than their retention period, in one transaction, and says how many of each.
    ///
    /// Needs Portal Administration, or a system actor (a nightly or hourly job:
    /// `Actor::system("retention")`). Idempotent: a second run at the same time removes
    /// nothing and changes nothing. A run that removed something is audited
    /// ([`AuditEvent::RetentionApplied`], counts only); one that removed nothing is not, so an
    /// hourly job does not grow the trail. Audit entries are never removed here.
    ///
    /// The in-memory store frees the records at once; SQLite deletes the rows, and their pages
    /// are reused by later writes (the file stops growing; `esr-sqlite` documents how to shrink
    /// it).
    pub fn purge(&self, actor: &Actor, vpd: VpdCode) -> Result<PurgeCounts> {
        let now = self.clock.now();
        let cutoffs = self.config.retention.cutoffs_at(now);
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::AdministerPortal, now)?;
            crate::service::trust_of(tx, vpd)?;
            let counts = tx.purge(vpd, &cutoffs)?;
            if !counts.is_empty() {
                audit(
                    tx,
                    vpd,
                    now,
                    who,
                    AuditEvent::RetentionApplied {
                        challenges: counts.challenges,
                        sessions: counts.sessions,
                        messages: counts.messages,
                    },
                )?;
            }
            Ok(counts)
        })
    }
}
