//! The transactional outbox: a message is written to the store in the transaction that records
//! its challenge, and handed to the embedder's gateway only after that transaction commits, by
//! a relay ([`crate::Esr::deliver_pending`], or the in-process relay that runs right after the
//! commit). The rules are in the guide's [delivery](crate::guide::delivery) page.

use crate::error::{Error, Result};
use crate::passcode::{ChallengeId, EmailKind, EmailMessage, RecoveryToken, SmsMessage};
use crate::values::VpdCode;
use chrono::{DateTime, TimeDelta, Utc};
use std::fmt;

/// Who hands queued messages to the gateways, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Relay {
    /// The default: the operation that queued a message hands it to the gateway itself, right
    /// after its transaction commits, once; if the gateway refuses it, the operation answers
    /// [`Error::Delivery`] and the challenge is withdrawn (it can never be used). Messages left
    /// queued by a crash between the commit and the send are delivered by
    /// [`crate::Esr::deliver_pending`] (call it at start-up and now and then).
    #[default]
    AfterCommit,
    /// The embedder runs [`crate::Esr::deliver_pending`] (a worker, a timer): operations only
    /// queue, and answer as soon as their transaction commits. A refused message is retried
    /// with backoff ([`DeliveryRetries`]) and, once the retries run out, recorded as failed and
    /// its challenge withdrawn.
    Embedder,
}

/// How [`crate::Esr::deliver_pending`] retries a message the gateway refused: after
/// `first_backoff`, then twice as long each time up to `max_backoff`, for at most
/// `max_attempts` attempts in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DeliveryRetries {
    /// Attempts in all, the first included (1 to 100; default 5).
    pub max_attempts: u32,
    /// The wait after the first refusal (1 second to 1 hour; default 15 seconds).
    pub first_backoff: TimeDelta,
    /// The longest wait between two attempts (at least `first_backoff`, at most 1 day;
    /// default 5 minutes).
    pub max_backoff: TimeDelta,
}

impl Default for DeliveryRetries {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            first_backoff: TimeDelta::seconds(15),
            max_backoff: TimeDelta::minutes(5),
        }
    }
}

impl DeliveryRetries {
    /// Checks the limits documented on each field.
    pub fn check(&self) -> Result<()> {
        if !(1..=100).contains(&self.max_attempts) {
            return Err(Error::invalid(
                "delivery max_attempts",
                "it must be from 1 to 100",
            ));
        }
        if self.first_backoff < TimeDelta::seconds(1) || self.first_backoff > TimeDelta::hours(1) {
            return Err(Error::invalid(
                "delivery first_backoff",
                "it must be from 1 second to 1 hour",
            ));
        }
        if self.max_backoff < self.first_backoff || self.max_backoff > TimeDelta::days(1) {
            return Err(Error::invalid(
                "delivery max_backoff",
                "it must be from first_backoff to 1 day",
            ));
        }
        Ok(())
    }

    /// The wait after the `attempts`-th refused attempt: `first_backoff` doubled
    /// `attempts - 1` times, at most `max_backoff`.
    pub fn backoff_after(&self, attempts: u32) -> TimeDelta {
        let doublings = attempts.saturating_sub(1).min(30);
        let d = self
            .first_backoff
            .checked_mul(1 << doublings)
            .unwrap_or(self.max_backoff);
        d.min(self.max_backoff)
    }
}

/// How long the operation that queued a message (with [`Relay::AfterCommit`]), or a
/// [`crate::Esr::deliver_pending`] run that took it, holds it before another relay may take
/// it: 1 minute. A relay that died in between is replaced after that.
pub const DELIVERY_LEASE: TimeDelta = TimeDelta::minutes(1);

/// A message's channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum MessageChannel {
    /// A text message ([`crate::passcode::SmsSender`]).
    Sms,
    /// An e-mail ([`crate::passcode::EmailSender`]).
    Email,
}

impl MessageChannel {
    /// `"sms"` or `"email"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Email => "email",
        }
    }
}

/// What a queued message carries, secrets included. Its `Debug` hides them.
#[derive(Clone, PartialEq, Eq)]
pub enum OutboxPayload {
    /// A text message with a code.
    Sms(SmsMessage),
    /// A recovery e-mail with a link.
    Email(EmailMessage),
}

impl fmt::Debug for OutboxPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sms(m) => m.fmt(f),
            Self::Email(m) => m.fmt(f),
        }
    }
}

impl OutboxPayload {
    /// The channel.
    pub fn channel(&self) -> MessageChannel {
        match self {
            Self::Sms(_) => MessageChannel::Sms,
            Self::Email(_) => MessageChannel::Email,
        }
    }

    /// The payload as a storage adapter keeps it in its secret column (it holds the code or
    /// the link's token: never log it). [`OutboxPayload::from_stored`] reads it back.
    pub fn to_stored(&self) -> String {
        match self {
            Self::Sms(m) => format!("sms\n{}\n{}", m.to().expose_e164(), m.expose_text()),
            Self::Email(m) => format!(
                "email\n{}\n{}\n{}\n{}\n{}",
                match m.kind {
                    EmailKind::UsernameReminder => "reminder",
                    EmailKind::UnlockAccount => "unlock",
                },
                m.to().as_str(),
                m.username,
                m.expose_token().expose(),
                m.link_expires_at.to_rfc3339(),
            ),
        }
    }

    /// Reads back what [`OutboxPayload::to_stored`] wrote, for message `key` of trust `vpd`.
    pub fn from_stored(key: ChallengeId, vpd: VpdCode, stored: &str) -> Result<Self> {
        let bad = || Error::Storage("a stored outbox message cannot be read".into());
        let mut parts = stored.splitn(2, '\n');
        match parts.next() {
            Some("sms") => {
                let mut rest = parts.next().ok_or_else(bad)?.splitn(2, '\n');
                let to = rest.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
                let text = rest.next().ok_or_else(bad)?.to_owned();
                Ok(Self::Sms(SmsMessage::new(key, vpd, to, text)))
            }
            Some("email") => {
                let f: Vec<&str> = parts.next().ok_or_else(bad)?.split('\n').collect();
                let [kind, to, username, token, until] = f[..] else {
                    return Err(bad());
                };
                let kind = match kind {
                    "reminder" => EmailKind::UsernameReminder,
                    "unlock" => EmailKind::UnlockAccount,
                    _ => return Err(bad()),
                };
                let (id, secret) = RecoveryToken::parse(token).map_err(|_| bad())?;
                let until = DateTime::parse_from_rfc3339(until)
                    .map_err(|_| bad())?
                    .with_timezone(&Utc);
                Ok(Self::Email(EmailMessage::new(
                    vpd,
                    kind,
                    to.parse().map_err(|_| bad())?,
                    username.parse().map_err(|_| bad())?,
                    RecoveryToken::new(&id, &secret),
                    until,
                )))
            }
            _ => Err(bad()),
        }
    }
}

/// Where a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum OutboxStatus {
    /// Waiting to be handed to the gateway (or to be tried again).
    Pending,
    /// The gateway accepted it.
    Delivered,
    /// It was given up: see its [`DeliveryFailure`]. Its challenge was withdrawn.
    Failed,
    /// It was not sent because its challenge stopped being usable first (expired, superseded,
    /// used, or purged): a text or link for it would be useless.
    Dropped,
}

impl OutboxStatus {
    /// `"pending"`, `"delivered"`, `"failed"` or `"dropped"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Dropped => "dropped",
        }
    }
}

/// Why a message was given up ([`OutboxStatus::Failed`]) or dropped ([`OutboxStatus::Dropped`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum DeliveryFailure {
    /// The gateway refused every attempt; `reason` is what it said the last time.
    GatewayRefused {
        /// Attempts made.
        attempts: u32,
        /// The gateway's last reason.
        reason: String,
    },
    /// No sender is configured for the message's channel.
    NoSender {
        /// The channel.
        channel: MessageChannel,
    },
    /// The challenge was no longer pending when the message's turn came.
    ChallengeNotPending {
        /// Its state then (`"expired"`, `"superseded"`, ... or `"purged"`).
        status: String,
    },
}

impl fmt::Display for DeliveryFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::GatewayRefused { attempts, reason } => write!(
                f,
                "the gateway refused it {attempts} time(s), last with: {reason}"
            ),
            Self::NoSender { channel } => {
                write!(f, "no {} sender is configured", channel.as_str())
            }
            Self::ChallengeNotPending { status } => {
                write!(f, "its challenge was {status} before it could be sent")
            }
        }
    }
}

/// A message in the outbox: queued in the transaction that stored its challenge, handed to
/// the gateway after commit. Its payload (the code or the link) is erased once it is settled
/// (delivered, failed or dropped), so the store keeps no readable code longer than needed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OutboxMessage {
    /// The idempotency key: the id of the challenge it carries. One message per challenge; a
    /// gateway that may see a message twice (delivery is at least once) drops the repeat by
    /// this key ([`SmsMessage::idempotency_key`]).
    pub key: ChallengeId,
    /// The trust.
    pub vpd: VpdCode,
    /// Its channel.
    pub channel: MessageChannel,
    /// What it carries; `None` once settled. Secret: serde skips it, and an adapter stores it
    /// in its own column ([`OutboxPayload::to_stored`]).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub payload: Option<OutboxPayload>,
    /// When it was queued.
    pub queued_at: DateTime<Utc>,
    /// Attempts made so far.
    pub attempts: u32,
    /// When a relay may take it next.
    pub next_attempt_at: DateTime<Utc>,
    /// Where it stands.
    pub status: OutboxStatus,
    /// When it was delivered, given up or dropped.
    pub settled_at: Option<DateTime<Utc>>,
    /// Why it failed or was dropped; while pending, why the last attempt failed.
    pub failure: Option<DeliveryFailure>,
}

impl OutboxMessage {
    /// A new pending message for challenge `key`, which a relay may take from `next_attempt_at`.
    pub fn queued(
        key: ChallengeId,
        payload: OutboxPayload,
        now: DateTime<Utc>,
        next_attempt_at: DateTime<Utc>,
    ) -> Self {
        let (vpd, channel) = match &payload {
            OutboxPayload::Sms(m) => (m.vpd, MessageChannel::Sms),
            OutboxPayload::Email(m) => (m.vpd, MessageChannel::Email),
        };
        Self {
            key,
            vpd,
            channel,
            payload: Some(payload),
            queued_at: now,
            attempts: 0,
            next_attempt_at,
            status: OutboxStatus::Pending,
            settled_at: None,
            failure: None,
        }
    }

    /// Settles it as `status` at `now` (with `failure`, if any), erasing the payload.
    pub fn settle(
        &mut self,
        status: OutboxStatus,
        now: DateTime<Utc>,
        failure: Option<DeliveryFailure>,
    ) {
        self.status = status;
        self.settled_at = Some(now);
        self.failure = failure;
        self.payload = None;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn payloads_round_trip_through_storage() {
        let vpd: VpdCode = "297".parse().unwrap();
        let id = ChallengeId::from_bytes([7; 16]);
        let sms = OutboxPayload::Sms(SmsMessage::new(
            id,
            vpd,
            "07700 900374".parse().unwrap(),
            "123456 is\nyour code".into(),
        ));
        assert_eq!(
            OutboxPayload::from_stored(id, vpd, &sms.to_stored()).unwrap(),
            sms
        );
        let email = OutboxPayload::Email(EmailMessage::new(
            vpd,
            EmailKind::UnlockAccount,
            "a.b@nhs.net".parse().unwrap(),
            "297ECONROY01".parse().unwrap(),
            RecoveryToken::new(&id, &[9; 32]),
            DateTime::from_timestamp(1_800_000_000, 5).unwrap(),
        ));
        assert_eq!(
            OutboxPayload::from_stored(id, vpd, &email.to_stored()).unwrap(),
            email
        );
        assert!(OutboxPayload::from_stored(id, vpd, "fax\n1").is_err());
        let d = format!("{sms:?}");
        assert!(!d.contains("123456") && !d.contains("900374"), "{d}");
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let r = DeliveryRetries::default();
        assert_eq!(r.backoff_after(1), TimeDelta::seconds(15));
        assert_eq!(r.backoff_after(2), TimeDelta::seconds(30));
        assert_eq!(r.backoff_after(6), TimeDelta::minutes(5));
        assert_eq!(r.backoff_after(u32::MAX), TimeDelta::minutes(5));
        r.check().unwrap();
    }
}
