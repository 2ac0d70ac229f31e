//! Delivery of codes and links: the embedder's SMS and e-mail gateways behind traits, and an
//! in-memory [`Outbox`] gateway for tests (the store's own outbox of queued messages is
//! [`crate::passcode::OutboxMessage`]). The delivery rules are documented on [`SmsSender`] and
//! [`EmailSender`], where rustdoc shows them.

use crate::passcode::{ChallengeId, RecoveryToken};
use crate::values::MobileNumber;
use crate::values::username::Username;
use crate::values::{EmailAddress, VpdCode};
use chrono::{DateTime, Utc};
use std::fmt;
use std::sync::Mutex;

/// A text message carrying a code. Its `Debug` shows neither the number nor the text.
#[derive(Clone, PartialEq, Eq)]
pub struct SmsMessage {
    /// The trust sending it.
    pub vpd: VpdCode,
    key: ChallengeId,
    to: MobileNumber,
    text: String,
}

impl SmsMessage {
    pub(crate) fn new(key: ChallengeId, vpd: VpdCode, to: MobileNumber, text: String) -> Self {
        Self { vpd, key, to, text }
    }
    /// The idempotency key: the id of the challenge whose code it carries. Delivery is at
    /// least once (a relay that dies between the send and recording it sends again), so a
    /// gateway that must not text twice drops a message whose key it has seen.
    pub fn idempotency_key(&self) -> ChallengeId {
        self.key
    }
    /// The recipient. Use [`MobileNumber::expose_e164`] for the gateway only.
    pub fn to(&self) -> &MobileNumber {
        &self.to
    }
    /// The text, code included. Only for the gateway: never log it.
    pub fn expose_text(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for SmsMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SmsMessage {{ vpd: {}, key: {}, to: {}, text: <redacted, {} chars> }}",
            self.vpd,
            self.key,
            self.to.masked(),
            self.text.chars().count()
        )
    }
}

/// An embedder's SMS gateway: where texted one-time passcodes go.
///
/// Called by [`crate::Esr::request_mobile_code`], [`crate::Esr::request_upgrade_code`] and
/// [`crate::Esr::resend_passcode`], once per code, with the text of the trust's
/// [`crate::org::SmsTemplate`] filled in. Set it with [`crate::Esr::with_sms_sender`].
///
/// # When it is called
///
/// The core does no I/O, and calls a sender **only after** the store transaction that queued
/// the message has committed (a transactional outbox; the rules are in the guide's
/// [delivery](crate::guide::delivery) page):
///
/// - with the default [`crate::passcode::Relay::AfterCommit`], the operation that asked for
///   the code calls it right after its commit; an `Err` makes the operation answer
///   [`crate::Error::Delivery`] with the reason, and the code is withdrawn (never usable) and
///   not counted against the send limits;
/// - with [`crate::passcode::Relay::Embedder`], [`crate::Esr::deliver_pending`] calls it, and
///   retries an `Err` with backoff;
/// - delivery is **at least once**: after a crash a message may come again, with the same
///   [`SmsMessage::idempotency_key`];
/// - without a sender configured, the operations that send refuse with
///   [`crate::Error::NoSender`] before touching the store.
///
/// No store transaction is open while it runs, so it may call the network; with the default
/// relay it is still on the path of the request that asked.
///
/// The message carries secrets (the number and the code, or the address and the link's
/// token) behind `expose_*` methods; its `Debug` hides them. Never log what they return.
/// [`Outbox`] is an implementation for tests and demonstrations.
pub trait SmsSender: Send + Sync {
    /// Hands `message` to the gateway. An `Err` says why it could not (see above for what
    /// follows).
    fn send_sms(&self, message: &SmsMessage) -> std::result::Result<(), String>;
}

/// What an account-recovery e-mail is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailKind {
    /// "Forgotten username": the username and a link to reset the password.
    UsernameReminder,
    /// A link that unlocks the account.
    UnlockAccount,
}

/// An account-recovery e-mail. The embedder renders it with its own wording and link address;
/// [`EmailMessage::text`] gives a plain default. Its `Debug` hides the token and the address.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailMessage {
    /// The trust sending it.
    pub vpd: VpdCode,
    /// What it is for.
    pub kind: EmailKind,
    to: EmailAddress,
    /// The account's username (for the reminder).
    pub username: Username,
    token: RecoveryToken,
    /// When the link stops working (4 hours after it was issued).
    pub link_expires_at: DateTime<Utc>,
}

impl EmailMessage {
    pub(crate) fn new(
        vpd: VpdCode,
        kind: EmailKind,
        to: EmailAddress,
        username: Username,
        token: RecoveryToken,
        link_expires_at: DateTime<Utc>,
    ) -> Self {
        Self {
            vpd,
            kind,
            to,
            username,
            token,
            link_expires_at,
        }
    }
    /// The recipient: the recruitment e-mail address on the person's record.
    pub fn to(&self) -> &EmailAddress {
        &self.to
    }
    /// The idempotency key: the id of the link's challenge (see
    /// [`SmsMessage::idempotency_key`]).
    pub fn idempotency_key(&self) -> ChallengeId {
        self.token.challenge_id()
    }
    /// The link's token, to put in the link. Only for the gateway: never log it.
    pub fn expose_token(&self) -> &RecoveryToken {
        &self.token
    }
    /// A plain-text body with the link `{link_base}{token}`.
    pub fn text(&self, link_base: &str) -> String {
        let link = format!("{link_base}{}", self.token.expose());
        let until = self.link_expires_at.format("%H:%M UTC on %d %b %Y");
        match self.kind {
            EmailKind::UsernameReminder => format!(
                "Your ESR username is {}.\nTo set a new password, open this link: {link}\n\
                 The link works once, until {until}. If you did not ask for this, ignore this e-mail.",
                self.username
            ),
            EmailKind::UnlockAccount => format!(
                "To unlock your ESR account {}, open this link: {link}\n\
                 The link works once, until {until}. If you did not ask for this, ignore this e-mail.",
                self.username
            ),
        }
    }
}

impl fmt::Debug for EmailMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailMessage")
            .field("vpd", &self.vpd)
            .field("kind", &self.kind)
            .field("username", &self.username)
            .field("token", &self.token)
            .field("link_expires_at", &self.link_expires_at)
            .finish_non_exhaustive()
    }
}

/// An embedder's e-mail gateway: where account-recovery links go.
///
/// Called by [`crate::Esr::request_username_reminder`] and [`crate::Esr::request_unlock_link`],
/// once per matching account, with an [`EmailMessage`] the embedder renders in its own wording
/// ([`EmailMessage::text`] is a plain default). Set it with [`crate::Esr::with_email_sender`].
///
/// # When it is called
///
/// The core does no I/O, and calls a sender **only after** the store transaction that queued
/// the message has committed (a transactional outbox; the rules are in the guide's
/// [delivery](crate::guide::delivery) page):
///
/// - with the default [`crate::passcode::Relay::AfterCommit`], the operation that asked for
///   the link calls it right after its commit; an `Err` makes the operation answer
///   [`crate::Error::Delivery`] with the reason, and the link is withdrawn (never usable) and
///   not counted against the send limits;
/// - with [`crate::passcode::Relay::Embedder`], [`crate::Esr::deliver_pending`] calls it, and
///   retries an `Err` with backoff;
/// - delivery is **at least once**: after a crash a message may come again, with the same
///   [`EmailMessage::idempotency_key`];
/// - without a sender configured, the operations that send refuse with
///   [`crate::Error::NoSender`] before touching the store.
///
/// No store transaction is open while it runs, so it may call the network; with the default
/// relay it is still on the path of the request that asked.
///
/// The message carries secrets (the number and the code, or the address and the link's
/// token) behind `expose_*` methods; its `Debug` hides them. Never log what they return.
/// [`Outbox`] is an implementation for tests and demonstrations.
pub trait EmailSender: Send + Sync {
    /// Hands `message` to the gateway. An `Err` says why it could not (see above for what
    /// follows).
    fn send_email(&self, message: &EmailMessage) -> std::result::Result<(), String>;
}

/// A message handed to the [`Outbox`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// A text message.
    Sms(SmsMessage),
    /// An e-mail.
    Email(EmailMessage),
}

/// An in-memory SMS and e-mail sender that keeps every message, for tests and demonstrations.
/// It can be told to fail, to exercise the error path.
#[derive(Debug, Default)]
pub struct Outbox {
    sent: Mutex<Vec<Sent>>,
    failing: Mutex<Option<String>>,
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message so far, oldest first.
    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The newest text message to `to`, if any.
    pub fn last_sms_to(&self, to: &MobileNumber) -> Option<SmsMessage> {
        let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.iter().rev().find_map(|m| match m {
            Sent::Sms(s) if &s.to == to => Some(s.clone()),
            _ => None,
        })
    }

    /// The newest e-mail to `to`, if any.
    pub fn last_email_to(&self, to: &EmailAddress) -> Option<EmailMessage> {
        let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.iter().rev().find_map(|m| match m {
            Sent::Email(e) if &e.to == to => Some(e.clone()),
            _ => None,
        })
    }

    /// How many messages were sent.
    pub fn len(&self) -> usize {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether nothing was sent.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Empties the outbox (as a gateway that has delivered its queue).
    pub fn clear(&self) {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The code in the newest text message to `to`: the first run of 6 to 10 digits.
    pub fn last_code_to(&self, to: &MobileNumber) -> Option<String> {
        let text = self.last_sms_to(to)?.text;
        text.split(|c: char| !c.is_ascii_digit())
            .find(|w| (6..=10).contains(&w.len()))
            .map(str::to_owned)
    }

    /// Makes every later send fail with `reason` (or succeed again, with `None`).
    pub fn fail_with(&self, reason: Option<&str>) {
        *self.failing.lock().unwrap_or_else(|e| e.into_inner()) = reason.map(str::to_owned);
    }

    fn push(&self, m: Sent) -> std::result::Result<(), String> {
        if let Some(r) = self
            .failing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return Err(r);
        }
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).push(m);
        Ok(())
    }
}

impl SmsSender for Outbox {
    fn send_sms(&self, message: &SmsMessage) -> std::result::Result<(), String> {
        self.push(Sent::Sms(message.clone()))
    }
}

impl EmailSender for Outbox {
    fn send_email(&self, message: &EmailMessage) -> std::result::Result<(), String> {
        self.push(Sent::Email(message.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_hide_their_secrets() {
        let to: MobileNumber = "07700 900374".parse().unwrap();
        let m = SmsMessage::new(
            ChallengeId::from_bytes([1; 16]),
            "297".parse().unwrap(),
            to.clone(),
            "123456 is your code".into(),
        );
        let d = format!("{m:?}");
        assert!(!d.contains("123456") && !d.contains("900374"), "{d}");
        let outbox = Outbox::new();
        outbox.send_sms(&m).unwrap();
        assert_eq!(outbox.last_code_to(&to).as_deref(), Some("123456"));
        outbox.fail_with(Some("gateway down"));
        assert_eq!(outbox.send_sms(&m), Err("gateway down".into()));
        assert_eq!(outbox.sent().len(), 1);
    }
}
