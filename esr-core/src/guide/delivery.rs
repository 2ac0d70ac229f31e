//! # Delivery of codes and links
//!
//! The library sends nothing itself. A texted code goes to the embedder's
//! [`SmsSender`](crate::passcode::SmsSender) (set with
//! [`Esr::with_sms_sender`](crate::Esr::with_sms_sender)); an account-recovery link to its
//! [`EmailSender`](crate::passcode::EmailSender) (set with
//! [`Esr::with_email_sender`](crate::Esr::with_email_sender)). The rules below are also on
//! those two traits.
//!
//! # The rules
//!
//! - **Inside the transaction.** The service calls the sender inside the store transaction
//!   that records the challenge, right after recording it, so a message is handed over if and
//!   only if its challenge is stored (the transactional-outbox pattern).
//! - **Enqueue, do not send.** A sender should put the message on a queue or in an outbox
//!   table and return. A slow network call in it holds the store's transaction open (with the
//!   in-memory store, every other request waits).
//! - **A failure stores nothing.** If the sender returns `Err`, the transaction rolls back: no
//!   challenge is stored, no send is counted against the limits, and the caller gets
//!   [`Error::Delivery`](crate::Error::Delivery) with the reason.
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
