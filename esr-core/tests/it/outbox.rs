//! The transactional outbox and retention: a message is queued with its challenge and handed
//! to the gateway only after commit (by the in-process relay or `deliver_pending`), at least
//! once, with bounded retries; `purge` removes only what finished before its retention period.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::chrono::TimeDelta;
use esr_core::passcode::*;
use esr_core::store::*;
use esr_core::*;
use std::sync::{Arc, Mutex};

fn secs(s: i64) -> TimeDelta {
    TimeDelta::seconds(s)
}

fn upgradable(relay: Relay) -> (Fixture, Staff) {
    let fx = Fixture::builder()
        .settings(settings(true, true, false))
        .relay(relay)
        .build();
    let m = fx.upgradable_manager("Maria", "Manning");
    (fx, m)
}

fn message(fx: &Fixture, id: &ChallengeId) -> Option<OutboxMessage> {
    fx.esr
        .store()
        .transaction(|tx| tx.outbox_message(id))
        .unwrap()
}

fn challenge(fx: &Fixture, id: &ChallengeId) -> Option<Challenge> {
    fx.esr.store().transaction(|tx| tx.challenge(id)).unwrap()
}

fn kinds(fx: &Fixture) -> Vec<&'static str> {
    fx.audit(fx.vpd()).iter().map(|e| e.event.kind()).collect()
}

fn sms_keys(fx: &Fixture) -> Vec<ChallengeId> {
    fx.outbox
        .sent()
        .iter()
        .filter_map(|m| match m {
            Sent::Sms(s) => Some(s.idempotency_key()),
            Sent::Email(_) => None,
        })
        .collect()
}

#[test]
fn a_text_is_queued_with_its_challenge_and_marked_delivered_after_commit() {
    let (fx, m) = upgradable(Relay::AfterCommit);
    let s = fx.internet(m.username()).unwrap();
    let c = fx.esr.request_upgrade_code(s.id).unwrap();
    assert_eq!(sms_keys(&fx), [c.id]);
    let row = message(&fx, &c.id).expect("the message is in the outbox");
    assert_eq!(row.status, OutboxStatus::Delivered);
    assert_eq!(row.attempts, 1);
    assert_eq!(row.channel, MessageChannel::Sms);
    assert_eq!(row.payload, None, "a delivered message keeps no code");
    assert_eq!(row.settled_at, Some(fx.clock.now()));
    // Nothing is left for the relay.
    fx.clock.advance(TimeDelta::hours(1));
    assert_eq!(
        fx.esr.deliver_pending(100).unwrap(),
        DeliveryReport::default()
    );
    assert_eq!(fx.outbox.len(), 1);
}

#[test]
fn with_the_embedders_relay_operations_only_queue_and_deliver_pending_sends() {
    let (fx, m) = upgradable(Relay::Embedder);
    let s = fx.internet(m.username()).unwrap();
    let c = fx.esr.request_upgrade_code(s.id).unwrap();
    assert!(fx.outbox.is_empty(), "nothing is sent by the operation");
    let row = message(&fx, &c.id).unwrap();
    assert_eq!(row.status, OutboxStatus::Pending);
    assert!(row.payload.is_some());
    let r = fx.esr.deliver_pending(100).unwrap();
    assert_eq!(
        r,
        DeliveryReport {
            delivered: 1,
            ..DeliveryReport::default()
        }
    );
    assert_eq!(sms_keys(&fx), [c.id]);
    assert_eq!(message(&fx, &c.id).unwrap().status, OutboxStatus::Delivered);
    let code = fx.code_sent_to(MOBILE);
    assert!(
        fx.esr
            .verify_passcode(s.id, &c.id, Purpose::UpgradeSession, &code)
            .unwrap()
            .is_approved()
    );
    // Delivered once: a second run sends nothing.
    assert_eq!(
        fx.esr.deliver_pending(100).unwrap(),
        DeliveryReport::default()
    );
    assert_eq!(fx.outbox.len(), 1);
}

#[test]
fn a_refused_message_is_retried_with_backoff_and_then_given_up() {
    let (fx, m) = upgradable(Relay::Embedder);
    let v = fx.vpd();
    let s = fx.internet(m.username()).unwrap();
    let c = fx.esr.request_upgrade_code(s.id).unwrap();
    fx.outbox.fail_with(Some("gateway down"));
    let retrying = DeliveryReport {
        retrying: 1,
        ..DeliveryReport::default()
    };
    // Default retries: 5 attempts, waits of 15, 30, 60 and 120 seconds.
    for (attempt, wait) in [(1, 15), (2, 30), (3, 60), (4, 120)] {
        assert_eq!(fx.esr.deliver_pending(100).unwrap(), retrying, "{attempt}");
        let row = message(&fx, &c.id).unwrap();
        assert_eq!(row.attempts, attempt);
        assert_eq!(row.next_attempt_at, fx.clock.now() + secs(wait));
        assert_eq!(
            row.failure,
            Some(DeliveryFailure::GatewayRefused {
                attempts: attempt,
                reason: "gateway down".into()
            })
        );
        // Not due before its backoff.
        fx.clock.advance(secs(wait - 1));
        assert_eq!(
            fx.esr.deliver_pending(100).unwrap(),
            DeliveryReport::default()
        );
        fx.clock.advance(secs(1));
    }
    let r = fx.esr.deliver_pending(100).unwrap();
    assert_eq!(r.failed, 1);
    let row = message(&fx, &c.id).unwrap();
    assert_eq!(row.status, OutboxStatus::Failed);
    assert_eq!(row.payload, None);
    assert_eq!(
        row.failure,
        Some(DeliveryFailure::GatewayRefused {
            attempts: 5,
            reason: "gateway down".into()
        })
    );
    // The challenge was withdrawn, and the failure audited (without the gateway's words).
    assert_eq!(
        challenge(&fx, &c.id).unwrap().status,
        ChallengeStatus::Superseded
    );
    let last = fx.audit(v).pop().unwrap();
    assert_eq!(
        last.event,
        esr_core::audit::AuditEvent::MessageUndelivered {
            challenge: c.id,
            channel: "sms".into(),
            attempts: 5,
        }
    );
    // Given up for good, and the failed send used none of the budget.
    assert_eq!(
        fx.esr.deliver_pending(100).unwrap(),
        DeliveryReport::default()
    );
    fx.outbox.fail_with(None);
    let c2 = fx.esr.request_upgrade_code(s.id).unwrap();
    assert_eq!(fx.esr.deliver_pending(100).unwrap().delivered, 1);
    assert_eq!(sms_keys(&fx), [c2.id]);
}

#[test]
fn a_retry_that_gets_through_delivers_the_same_message() {
    let (fx, m) = upgradable(Relay::Embedder);
    let s = fx.internet(m.username()).unwrap();
    let c = fx.esr.request_upgrade_code(s.id).unwrap();
    fx.outbox.fail_with(Some("timeout"));
    assert_eq!(fx.esr.deliver_pending(100).unwrap().retrying, 1);
    fx.outbox.fail_with(None);
    fx.clock.advance(secs(15));
    assert_eq!(fx.esr.deliver_pending(100).unwrap().delivered, 1);
    let row = message(&fx, &c.id).unwrap();
    assert_eq!((row.status, row.attempts), (OutboxStatus::Delivered, 2));
    assert_eq!(sms_keys(&fx), [c.id]);
}

#[test]
fn a_message_whose_challenge_is_no_longer_pending_is_dropped_not_sent() {
    let (fx, m) = upgradable(Relay::Embedder);
    let s = fx.internet(m.username()).unwrap();
    let c1 = fx.esr.request_upgrade_code(s.id).unwrap();
    fx.clock.advance(secs(30));
    let c2 = fx.esr.resend_passcode(s.id, &c1.id).unwrap();
    let r = fx.esr.deliver_pending(100).unwrap();
    assert_eq!((r.delivered, r.dropped), (1, 1));
    assert_eq!(sms_keys(&fx), [c2.id]);
    let row = message(&fx, &c1.id).unwrap();
    assert_eq!(row.status, OutboxStatus::Dropped);
    assert_eq!(
        row.failure,
        Some(DeliveryFailure::ChallengeNotPending {
            status: "superseded".into()
        })
    );
    // An expired one too.
    fx.clock.advance(secs(30));
    let c3 = fx.esr.resend_passcode(s.id, &c2.id).unwrap();
    fx.clock.advance(TimeDelta::minutes(10));
    assert_eq!(fx.esr.deliver_pending(100).unwrap().dropped, 1);
    assert_eq!(message(&fx, &c3.id).unwrap().status, OutboxStatus::Dropped);
}

/// A gateway that checks it is never called inside a store transaction, and can be made to
/// die (panic) before or after handing the message over, as a process killed there would.
struct Checking {
    inner: Arc<Outbox>,
    die: Mutex<Option<bool>>,
    calls: Mutex<u32>,
}

impl SmsSender for Checking {
    fn send_sms(&self, message: &SmsMessage) -> std::result::Result<(), String> {
        assert!(
            !InMemoryStore::transaction_open_on_this_thread(),
            "a gateway was called inside a store transaction"
        );
        *self.calls.lock().unwrap() += 1;
        let die = *self.die.lock().unwrap();
        if die == Some(false) {
            panic!("killed before the hand-over");
        }
        let r = self.inner.send_sms(message);
        if die == Some(true) {
            panic!("killed after the hand-over");
        }
        r
    }
}

impl EmailSender for Checking {
    fn send_email(&self, message: &EmailMessage) -> std::result::Result<(), String> {
        assert!(!InMemoryStore::transaction_open_on_this_thread());
        self.inner.send_email(message)
    }
}

fn checked(relay: Relay) -> (Fixture, Staff, Arc<Checking>) {
    let (mut fx, m) = upgradable(relay);
    let gateway = Arc::new(Checking {
        inner: fx.outbox.clone(),
        die: Mutex::new(None),
        calls: Mutex::new(0),
    });
    let esr = std::mem::replace(&mut fx.esr, service(9, 5).0);
    fx.esr = esr
        .with_sms_sender(gateway.clone())
        .with_email_sender(gateway.clone());
    (fx, m, gateway)
}

#[test]
fn no_gateway_is_ever_called_inside_a_transaction() {
    for relay in [Relay::AfterCommit, Relay::Embedder] {
        let (fx, m, gateway) = checked(relay);
        let s = fx.internet(m.username()).unwrap();
        let c = fx.esr.request_upgrade_code(s.id).unwrap();
        fx.clock.advance(secs(30));
        fx.esr.resend_passcode(s.id, &c.id).unwrap();
        fx.clock.advance(secs(30));
        let h = fx.hscn(m.username());
        fx.esr.request_mobile_code(h, "07700 900123").unwrap();
        fx.esr
            .request_unlock_link(
                fx.vpd(),
                m.person.recruitment_email.as_str(),
                m.person.date_of_birth,
            )
            .unwrap();
        fx.esr.deliver_pending(100).unwrap();
        // With the embedder's relay the first code, superseded before its turn, is dropped.
        let texts = if relay == Relay::AfterCommit { 3 } else { 2 };
        assert_eq!(*gateway.calls.lock().unwrap(), texts, "{relay:?}");
        assert_eq!(fx.outbox.len(), texts as usize + 1, "{relay:?}");
    }
}

#[test]
fn at_least_once_a_message_a_crash_left_behind_is_sent_after_the_lease() {
    let (fx, m, gateway) = checked(Relay::AfterCommit);
    let s = fx.internet(m.username()).unwrap();
    // The process "dies" after the commit, before the hand-over.
    *gateway.die.lock().unwrap() = Some(false);
    let died = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fx.esr.request_upgrade_code(s.id)
    }));
    assert!(died.is_err());
    assert!(fx.outbox.is_empty());
    *gateway.die.lock().unwrap() = None;
    // Leased to the operation that died: not taken before the lease ends.
    assert_eq!(
        fx.esr.deliver_pending(100).unwrap(),
        DeliveryReport::default()
    );
    fx.clock.advance(DELIVERY_LEASE);
    assert_eq!(fx.esr.deliver_pending(100).unwrap().delivered, 1);
    let key = sms_keys(&fx)[0];
    assert_eq!(
        challenge(&fx, &key).unwrap().status,
        ChallengeStatus::Pending
    );
    assert!(
        fx.esr
            .verify_passcode(
                s.id,
                &key,
                Purpose::UpgradeSession,
                &fx.code_sent_to(MOBILE)
            )
            .unwrap()
            .is_approved()
    );

    // It "dies" after the hand-over, before recording it: the text goes again, same key.
    fx.clock.advance(secs(30));
    *gateway.die.lock().unwrap() = Some(true);
    let s2 = fx.internet(m.username()).unwrap();
    let died = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fx.esr.request_upgrade_code(s2.id)
    }));
    assert!(died.is_err());
    *gateway.die.lock().unwrap() = None;
    fx.clock.advance(DELIVERY_LEASE);
    assert_eq!(fx.esr.deliver_pending(100).unwrap().delivered, 1);
    let keys = sms_keys(&fx);
    assert_eq!(keys.len(), 3);
    assert_eq!(
        keys[1], keys[2],
        "the repeat carries the same idempotency key"
    );
}

#[test]
fn a_refused_recovery_email_withdraws_its_link() {
    let (fx, m) = upgradable(Relay::AfterCommit);
    fx.outbox.fail_with(Some("smtp down"));
    let email = m.person.recruitment_email.as_str().to_owned();
    assert_eq!(
        fx.esr
            .request_unlock_link(fx.vpd(), &email, m.person.date_of_birth),
        Err(Error::Delivery("smtp down".into()))
    );
    assert!(kinds(&fx).contains(&"message_undelivered"));
    fx.outbox.fail_with(None);
    fx.esr
        .request_unlock_link(fx.vpd(), &email, m.person.date_of_birth)
        .unwrap();
    assert_eq!(fx.outbox.len(), 1);
}

// ----- retention ---------------------------------------------------------------------------

#[test]
fn purge_removes_only_what_finished_before_its_retention_and_is_idempotent() {
    let (fx, m) = upgradable(Relay::AfterCommit);
    let v = fx.vpd();
    let s1 = fx.internet(m.username()).unwrap();
    let c1 = fx.esr.request_upgrade_code(s1.id).unwrap();
    let code = fx.code_sent_to(MOBILE);
    assert!(
        fx.esr
            .verify_passcode(s1.id, &c1.id, Purpose::UpgradeSession, &code)
            .unwrap()
            .is_approved()
    );
    fx.esr.log_out(s1.id).unwrap();
    // Within the retention period, nothing goes.
    fx.clock.advance(TimeDelta::hours(23));
    assert_eq!(fx.esr.purge(&system(), v).unwrap(), PurgeCounts::default());
    fx.clock.advance(TimeDelta::hours(2));
    // A live session and a pending code, made now.
    let s2 = fx.internet(m.username()).unwrap();
    let c2 = fx.esr.request_upgrade_code(s2.id).unwrap();
    let before = fx.audit(v).len();
    let counts = fx.esr.purge(&system(), v).unwrap();
    assert_eq!(counts.challenges, 1);
    assert_eq!(counts.messages, 1);
    // Maria's ended session and the administrators' timed-out ones.
    assert!(counts.sessions >= 2, "{counts:?}");
    assert_eq!(challenge(&fx, &c1.id), None);
    assert_eq!(message(&fx, &c1.id), None);
    assert!(challenge(&fx, &c2.id).is_some());
    assert!(message(&fx, &c2.id).is_some());
    // The live session and its pending code still work.
    assert_eq!(
        fx.esr.passcode_status(s2.id, &c2.id).unwrap().status,
        ChallengeStatus::Pending
    );
    assert_eq!(
        fx.esr.log_out(s1.id),
        Err(Error::UnknownSession(s1.id)),
        "the ended session is gone"
    );
    // Audited, counts only.
    let after = fx.audit(v);
    assert_eq!(after.len(), before + 1);
    assert_eq!(
        after[before].event,
        esr_core::audit::AuditEvent::RetentionApplied {
            challenges: counts.challenges,
            sessions: counts.sessions,
            messages: counts.messages,
        }
    );
    // Idempotent: again, nothing is removed and nothing is written.
    assert_eq!(fx.esr.purge(&system(), v).unwrap(), PurgeCounts::default());
    assert_eq!(fx.audit(v).len(), before + 1);
    // Much later, the rest goes too; the audit trail stays.
    fx.clock.advance(TimeDelta::days(2));
    let counts = fx.esr.purge(&system(), v).unwrap();
    assert_eq!((counts.challenges, counts.messages), (1, 1));
    assert!(fx.audit(v).len() > before);
}

#[test]
fn purge_needs_portal_administration_and_a_known_trust() {
    let (fx, m) = upgradable(Relay::AfterCommit);
    let h = fx.hscn(m.username());
    assert!(matches!(
        fx.esr.purge(&Actor::Session(h), fx.vpd()),
        Err(Error::NotPermitted { .. })
    ));
    assert_eq!(
        fx.esr.purge(&system(), vpd("999")),
        Err(Error::UnknownTrust(vpd("999")))
    );
}

#[test]
fn retention_and_retries_are_range_checked() {
    let bad = |f: &dyn Fn(&mut Config)| {
        let mut c = Config::default();
        f(&mut c);
        service(1, 5).0.with_config(c).is_err()
    };
    assert!(bad(&|c| c.retention.sessions = TimeDelta::minutes(59)));
    assert!(bad(&|c| c.retention.messages = TimeDelta::days(4000)));
    assert!(bad(&|c| {
        c.passcodes.send_window = TimeDelta::hours(2);
        c.retention.challenges = TimeDelta::hours(1);
    }));
    assert!(bad(&|c| c.delivery_retries.max_attempts = 0));
    assert!(bad(
        &|c| c.delivery_retries.max_backoff = TimeDelta::seconds(1)
    ));
    assert!(!bad(&|c| c.retention.challenges = TimeDelta::hours(1)));
}
