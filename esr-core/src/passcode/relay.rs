//! The relay: hands queued messages to the gateways after their transaction has committed.
//! No gateway is ever called while a store transaction is open.

use crate::audit::{AuditActor, AuditEvent};
use crate::error::{Error, Result};
use crate::passcode::{
    ChallengeStatus, DELIVERY_LEASE, DeliveryFailure, OutboxMessage, OutboxPayload, OutboxStatus,
    Relay,
};
use crate::service::{Esr, audit};
use crate::store::{Store, StoreTx};
use crate::values::{Clock, plus};
use chrono::{DateTime, Utc};

/// What one [`Esr::deliver_pending`] run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeliveryReport {
    /// Messages the gateways accepted.
    pub delivered: u32,
    /// Messages refused this time and left to be tried again after their backoff.
    pub retrying: u32,
    /// Messages given up (retries run out, or no sender): their challenges were withdrawn.
    pub failed: u32,
    /// Messages not sent because their challenge was no longer pending.
    pub dropped: u32,
}

/// Why one hand-over failed.
enum HandOver {
    Refused(String),
    NoSender,
}

impl<S: Store, C: Clock> Esr<S, C> {
    /// When a message queued now may be taken by [`Esr::deliver_pending`]: at once when the
    /// embedder relays, after the lease when the queuing operation sends it itself.
    pub(crate) fn first_attempt_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.config.relay {
            Relay::AfterCommit => plus(now, DELIVERY_LEASE),
            Relay::Embedder => now,
        }
    }

    /// Hands one message to its gateway. Never called inside a store transaction.
    fn hand_over(&self, m: &OutboxMessage) -> std::result::Result<(), HandOver> {
        debug_assert!(
            !crate::store::in_memory_transaction_on_this_thread(),
            "a gateway was called inside a store transaction"
        );
        match &m.payload {
            Some(OutboxPayload::Sms(sms)) => match &self.sms {
                Some(s) => s.send_sms(sms).map_err(HandOver::Refused),
                None => Err(HandOver::NoSender),
            },
            Some(OutboxPayload::Email(email)) => match &self.email {
                Some(s) => s.send_email(email).map_err(HandOver::Refused),
                None => Err(HandOver::NoSender),
            },
            None => Err(HandOver::Refused(
                "the stored message has no payload to send".into(),
            )),
        }
    }

    /// The in-process relay ([`Relay::AfterCommit`]): run by the operation that queued
    /// `queued`, right after its commit. Each message is tried once: delivered, it is marked
    /// so; refused, it is given up at once and its challenge withdrawn, and the operation
    /// answers [`Error::Delivery`] with the gateway's reason (the caller then asks again, as
    /// it would have before). With [`Relay::Embedder`] it does nothing.
    pub(crate) fn relay_after_commit(&self, queued: Vec<OutboxMessage>) -> Result<()> {
        if self.config.relay != Relay::AfterCommit || queued.is_empty() {
            return Ok(());
        }
        let results: Vec<_> = queued
            .into_iter()
            .map(|m| {
                let r = self.hand_over(&m);
                (m, r)
            })
            .collect();
        let now = self.clock.now();
        let refusal = results.iter().find_map(|(_, r)| match r {
            Err(HandOver::Refused(reason)) => Some(Error::Delivery(reason.clone())),
            Err(HandOver::NoSender) => Some(Error::Delivery("no sender is configured".into())),
            Ok(()) => None,
        });
        let marked = self.store.transaction(|tx| {
            for (m, r) in &results {
                let Some(mut cur) = tx.outbox_message(&m.key)? else {
                    continue;
                };
                if cur.status != OutboxStatus::Pending {
                    continue;
                }
                cur.attempts += 1;
                match r {
                    Ok(()) => {
                        cur.settle(OutboxStatus::Delivered, now, None);
                        tx.update_message(&cur)?;
                    }
                    Err(e) => give_up(tx, cur, failure_of(e, m), now)?,
                }
            }
            Ok(())
        });
        match (refusal, marked) {
            (Some(e), _) => Err(e),
            // Delivered but not recorded as such (the store failed just now): the message is
            // still pending, and `deliver_pending` sends it again (with the same idempotency
            // key) after the lease. The caller has its code, so the operation succeeds.
            (None, _) => Ok(()),
        }
    }

    /// The relay an embedder runs (a worker or timer; with the default
    /// [`Relay::AfterCommit`], at start-up and now and then, for messages a crash left
    /// behind): hands up to `limit` due messages to the gateways, **after** the transaction
    /// that takes them has committed, then records each outcome in another.
    ///
    /// - **At least once.** A message is marked delivered only after the gateway accepted it;
    ///   a relay that dies in between leaves it pending, and it is sent again (with the same
    ///   [idempotency key](crate::passcode::SmsMessage::idempotency_key)) once its lease of
    ///   [`DELIVERY_LEASE`] has passed. Taking a message leases it, so two relays running at
    ///   once do not send it twice.
    /// - **Bounded retries.** A refused message is tried again after a backoff
    ///   ([`Config::delivery_retries`](crate::Config::delivery_retries), by the injected clock);
    ///   after the last attempt it is given up: marked [`OutboxStatus::Failed`] with a
    ///   [`DeliveryFailure`], its challenge withdrawn (superseded: the code can never be used)
    ///   and [`AuditEvent::MessageUndelivered`] recorded. Without a sender for its channel a
    ///   message is given up at once.
    /// - **Useless messages are not sent.** A message whose challenge is no longer pending
    ///   (expired, superseded, used, purged) is marked [`OutboxStatus::Dropped`] instead.
    ///
    /// Settled messages keep no payload (no code or token stays in the store) and are removed
    /// by [`Esr::purge`] after their retention period.
    pub fn deliver_pending(&self, limit: usize) -> Result<DeliveryReport> {
        let now = self.clock.now();
        let mut report = DeliveryReport::default();
        let taken = self.store.transaction(|tx| {
            let mut taken = Vec::new();
            let mut dropped = 0;
            for mut m in tx.due_messages(now, limit)? {
                let status = tx.challenge(&m.key)?.map(|c| c.status_at(now));
                if status == Some(ChallengeStatus::Pending) {
                    m.next_attempt_at = plus(now, DELIVERY_LEASE);
                    tx.update_message(&m)?;
                    taken.push(m);
                } else {
                    let status = status.map_or_else(|| "purged".to_owned(), |s| s.to_string());
                    m.settle(
                        OutboxStatus::Dropped,
                        now,
                        Some(DeliveryFailure::ChallengeNotPending { status }),
                    );
                    tx.update_message(&m)?;
                    dropped += 1;
                }
            }
            Ok((taken, dropped))
        });
        let (taken, dropped) = taken?;
        report.dropped = dropped;
        let results: Vec<_> = taken
            .into_iter()
            .map(|m| {
                let r = self.hand_over(&m);
                (m, r)
            })
            .collect();
        let now = self.clock.now();
        let retries = self.config.delivery_retries;
        self.store.transaction(|tx| {
            let mut report = report;
            for (m, r) in &results {
                let Some(mut cur) = tx.outbox_message(&m.key)? else {
                    continue;
                };
                if cur.status != OutboxStatus::Pending {
                    continue;
                }
                cur.attempts += 1;
                match r {
                    Ok(()) => {
                        cur.settle(OutboxStatus::Delivered, now, None);
                        tx.update_message(&cur)?;
                        report.delivered += 1;
                    }
                    Err(HandOver::Refused(reason)) if cur.attempts < retries.max_attempts => {
                        cur.failure = Some(DeliveryFailure::GatewayRefused {
                            attempts: cur.attempts,
                            reason: reason.clone(),
                        });
                        cur.next_attempt_at = plus(now, retries.backoff_after(cur.attempts));
                        tx.update_message(&cur)?;
                        report.retrying += 1;
                    }
                    Err(e) => {
                        let failure = failure_of(e, &cur);
                        give_up(tx, cur, failure, now)?;
                        report.failed += 1;
                    }
                }
            }
            Ok(report)
        })
    }
}

fn failure_of(e: &HandOver, m: &OutboxMessage) -> DeliveryFailure {
    match e {
        HandOver::Refused(reason) => DeliveryFailure::GatewayRefused {
            attempts: m.attempts.max(1),
            reason: reason.clone(),
        },
        HandOver::NoSender => DeliveryFailure::NoSender { channel: m.channel },
    }
}

/// Gives a message up: marks it failed, withdraws its challenge (superseded, so the code can
/// never be used, and the send is not counted against the limits) and audits it.
fn give_up(
    tx: &mut dyn StoreTx,
    mut m: OutboxMessage,
    failure: DeliveryFailure,
    now: DateTime<Utc>,
) -> Result<()> {
    let attempts = match &failure {
        DeliveryFailure::GatewayRefused { attempts, .. } => *attempts,
        _ => m.attempts,
    };
    m.settle(OutboxStatus::Failed, now, Some(failure));
    tx.update_message(&m)?;
    if let Some(mut c) = tx.challenge(&m.key)?
        && c.status == ChallengeStatus::Pending
    {
        c.status = ChallengeStatus::Superseded;
        c.settled_at = Some(now);
        tx.put_challenge_owned(c)?;
    }
    audit(
        tx,
        m.vpd,
        now,
        AuditActor::System("outbox".into()),
        AuditEvent::MessageUndelivered {
            challenge: m.key,
            channel: m.channel.as_str().into(),
            attempts,
        },
    )
}
