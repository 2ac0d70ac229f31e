//! # Delivery of codes and links
//!
//! The library sends nothing itself. A texted code goes to the embedder's
//! [`SmsSender`](crate::passcode::SmsSender) (set with
//! [`Esr::with_sms_sender`](crate::Esr::with_sms_sender)); an account-recovery link to its
//! [`EmailSender`](crate::passcode::EmailSender) (set with
//! [`Esr::with_email_sender`](crate::Esr::with_email_sender)), through an outbox in the store.
//!
//! # The rules
//!
//! - **Queued with the challenge, sent after commit** (a transactional outbox). The message is
//!   written to the store's outbox ([`OutboxMessage`](crate::passcode::OutboxMessage)) in the
//!   same transaction that records its challenge, so a message exists if and only if its
//!   challenge is stored. It is handed to the gateway only **after** that transaction has
//!   committed: no gateway is ever called while a store transaction is open, so a slow gateway
//!   holds no lock and slows no other request, and a crash can never text a code that was not
//!   stored.
//! - **Who relays** ([`Config::relay`](crate::Config::relay)):
//!   - [`Relay::AfterCommit`](crate::passcode::Relay::AfterCommit) (the default): the
//!     operation that queued the message hands it over itself, right after its commit, and
//!     answers once the gateway has answered: the README's two lines work unchanged.
//!   - [`Relay::Embedder`](crate::passcode::Relay::Embedder): operations only queue; a worker
//!     or timer of the embedder calls [`Esr::deliver_pending`](crate::Esr::deliver_pending).
//! - **At least once, with an idempotency key.** A message is marked delivered only after the
//!   gateway accepted it. A process that dies in between leaves it pending and it is sent again
//!   (after a lease of [`DELIVERY_LEASE`](crate::passcode::DELIVERY_LEASE)) by
//!   [`Esr::deliver_pending`](crate::Esr::deliver_pending): call it at start-up, and now and
//!   then, even with the default relay. A repeat carries the same
//!   [`SmsMessage::idempotency_key`](crate::passcode::SmsMessage::idempotency_key) (the
//!   challenge id), by which a gateway can drop it.
//! - **What the caller sees when the gateway refuses.** With the default relay, the operation
//!   answers [`Error::Delivery`](crate::Error::Delivery) with the gateway's reason, as before.
//!   The challenge was stored (and audited) by then, so it is **withdrawn**: marked superseded,
//!   so the code can never be used, even if the text arrives later after all. The message is
//!   recorded as failed ([`DeliveryFailure`](crate::passcode::DeliveryFailure)), the failure is
//!   audited ([`AuditEvent::MessageUndelivered`](crate::audit::AuditEvent::MessageUndelivered),
//!   without the gateway's words), and it counts against **none** of the send limits: the user
//!   simply asks again. Asking superseded any earlier code, which stays superseded: what a user
//!   expects after "we could not send your code, please try again" is that the next code works,
//!   not that an old one does. With the embedder's relay, the caller has already been answered
//!   (with the challenge): the message is retried with backoff
//!   ([`Config::delivery_retries`](crate::Config::delivery_retries), by the injected clock) and,
//!   when the retries run out, given up and its challenge withdrawn in the same way; the user
//!   who waited in vain presses "resend".
//! - **Useless messages are not sent.** A message whose challenge stopped being pending before
//!   its turn (expired, superseded by a resend, purged) is dropped, not sent.
//! - **No code is kept longer than needed.** A queued message holds the code or the link's
//!   token until it is settled; then its payload is erased. [`Esr::purge`](crate::Esr::purge)
//!   removes settled messages after their retention period.
//! - **No sender, no send.** Without a sender configured, the operations that send refuse with
//!   [`Error::NoSender`](crate::Error::NoSender) before touching the store.
//! - **Secrets stay with the gateway.** [`SmsMessage`](crate::passcode::SmsMessage) and
//!   [`EmailMessage`](crate::passcode::EmailMessage) hide the number, the address, the code and the token
//!   in `Debug`; the gateway reads them with `expose_*` methods and must not log them.
//!
//! # What is sent, and when
//!
//! | operation | message | to |
//! |---|---|---|
//! | [`Esr::request_mobile_code`](crate::Esr::request_mobile_code) (HSCN only) | a code confirming a new number | the new number |
//! | [`Esr::request_upgrade_code`](crate::Esr::request_upgrade_code) | a code upgrading this internet session | the registered number |
//! | [`Esr::resend_passcode`](crate::Esr::resend_passcode) | a new code superseding the last one, with its own 10 minutes | the same number |
//! | [`Esr::request_username_reminder`](crate::Esr::request_username_reminder) | the username and a password-reset link, valid once for 4 hours | the recruitment e-mail of each active or locked account matching e-mail and date of birth |
//! | [`Esr::request_unlock_link`](crate::Esr::request_unlock_link) | an unlock link, valid once for 4 hours | as above |
//!
//! The text message is the trust's [`SmsTemplate`](crate::org::SmsTemplate) with `{code}`,
//! `{minutes}` and `{trust}` filled in ([`DEFAULT_SMS_TEMPLATE`](crate::org::DEFAULT_SMS_TEMPLATE)
//! when the trust sets none). E-mails are rendered by the embedder in its own wording, from the
//! [`EmailMessage`](crate::passcode::EmailMessage) fields; [`EmailMessage::text`](crate::passcode::EmailMessage::text)
//! is a plain default.
//!
//! Sends are limited per user and per destination ([`PasscodePolicy`](crate::passcode::PasscodePolicy):
//! by default 5 in 10 minutes, and 30 seconds between two); over a limit a code request is
//! refused with the time to wait ([`Error::TooManySends`](crate::Error::TooManySends),
//! [`Error::ResendTooSoon`](crate::Error::ResendTooSoon)), while a recovery request sends
//! nothing more and answers the same as ever, so it reveals nothing.
//!
//! For tests and demonstrations, [`Outbox`](crate::passcode::Outbox) implements both traits, keeps every
//! message and can be told to fail.
