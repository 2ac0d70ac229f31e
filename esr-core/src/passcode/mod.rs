//! One-time passcodes and account recovery: the second factor that upgrades an internet
//! session, and the e-mailed links that recover an account.
//!
//! # The rules
//! - A code is [`PasscodePolicy::digits`] digits (6 by default) drawn uniformly from the
//!   injected cryptographic RNG ([`Passcode::generate`]).
//! - Only an HMAC-SHA256 [`PasscodeTag`] is stored, bound to the trust, user, session and
//!   [`Purpose`], under a key of the rotating [`PasscodeKeys`] ring; tags are compared in
//!   constant time.
//! - A code expires **10 minutes after it is issued** ([`CODE_LIFETIME`]), a recovery link 4
//!   hours after ([`LINK_LIFETIME`]), usable strictly before ([`Challenge::status_at`]). Nothing
//!   moves an expiry: a resend makes a new challenge and supersedes the old one.
//! - A code is used **once**: the first right answer settles the challenge in the same
//!   transaction that acts on it, so of concurrent verifications exactly one wins.
//! - [`PasscodePolicy`] caps wrong guesses per challenge (5) and per account before step-up
//!   locks (20, cleared by an administrator), and sends per user and per number (5 in 10
//!   minutes, at least 30 seconds apart).
//! - The screen shows where a code went, never the number ([`PasscodeChallenge::message`]); a
//!   verification answers a [`VerifyOutcome`], not an error, for a wrong, expired, used or
//!   superseded code.
//! - A recovery request always gets the same answer ([`RecoveryRequested`]), whether or not an
//!   account matched; a refused link says why ([`LinkProblem`]).
//!
//! # Delivery
//! The library sends nothing itself: codes go to the embedder's [`SmsSender`], links to its
//! [`EmailSender`]. A message is queued in the store's outbox ([`OutboxMessage`]) in the
//! transaction that stores its challenge, and handed to the sender only after that commits,
//! by the in-process relay ([`Relay::AfterCommit`], the default) or by
//! [`Esr::deliver_pending`](crate::Esr::deliver_pending) ([`Relay::Embedder`]): at least
//! once, with bounded retries and a typed [`DeliveryFailure`]. The rules are on those traits
//! and in the guide's [delivery](crate::guide::delivery) page; [`Outbox`] stands in for a
//! gateway in tests.
//!
//! # Operations
//! Methods on [`Esr`](crate::Esr): set-up with [`Esr::with_passcode_keys`](crate::Esr::with_passcode_keys),
//! [`Esr::set_passcode_keys`](crate::Esr::set_passcode_keys),
//! [`Esr::with_sms_sender`](crate::Esr::with_sms_sender),
//! [`Esr::with_email_sender`](crate::Esr::with_email_sender) and
//! [`Esr::set_sms_template`](crate::Esr::set_sms_template); codes with
//! [`Esr::request_mobile_code`](crate::Esr::request_mobile_code) (HSCN only),
//! [`Esr::request_upgrade_code`](crate::Esr::request_upgrade_code),
//! [`Esr::resend_passcode`](crate::Esr::resend_passcode),
//! [`Esr::passcode_status`](crate::Esr::passcode_status),
//! [`Esr::verify_passcode`](crate::Esr::verify_passcode) and
//! [`Esr::clear_step_up_lock`](crate::Esr::clear_step_up_lock); recovery with
//! [`Esr::request_username_reminder`](crate::Esr::request_username_reminder),
//! [`Esr::request_unlock_link`](crate::Esr::request_unlock_link),
//! [`Esr::reset_password_with_link`](crate::Esr::reset_password_with_link) and
//! [`Esr::unlock_with_link`](crate::Esr::unlock_with_link).

mod challenge;
mod delivery;
mod ops;
mod outbox;
mod relay;

pub use challenge::*;
pub use delivery::*;
pub use ops::*;
pub use outbox::*;
pub use relay::*;
