//! Authenticator apps (TOTP, RFC 6238 over RFC 4226) as a second factor beside texted codes.
//!
//! # The rules
//! - A secret is 160 bits from the injected cryptographic RNG ([`TotpSecret::generate`]);
//!   codes are SHA-1, 6 digits, 30 seconds by default ([`TotpParams`]), which Google and
//!   Microsoft Authenticator read from the [`ProvisioningUri`] or its QR code (SVG or PNG).
//! - Enrolment is only from an HSCN session, and the authenticator is active only once its
//!   first valid code is entered. Enrolling again replaces the authenticator at once; an
//!   administrator with Reset accounts can remove it. Every step is audited, never the secret.
//! - The secret at rest is sealed with AES-256-GCM under a rotating
//!   [`AuthenticatorKeys`] ring kept outside the store, bound to the trust and user
//!   ([`SealedSecret`]).
//! - A code is checked against the steps within [`AuthenticatorPolicy::window`] of now (±1 by
//!   default), each compared in constant time ([`Totp::check`]). **A time step once accepted is
//!   never accepted again** for that person: the latest accepted step is stored and advanced in
//!   the transaction that acts on the code
//!   ([`StoreTx::advance_authenticator_step`](crate::store::StoreTx::advance_authenticator_step)),
//!   so of racing verifications of one code exactly one wins.
//! - Wrong codes count towards the same rolling step-up failure limit as texted codes (a
//!   replayed code is a right one already used: refused, not counted) ([`PasscodePolicy::max_failures`](crate::passcode::PasscodePolicy::max_failures)).
//!
//! # Operations
//! Methods on [`Esr`](crate::Esr): [`Esr::with_authenticator_keys`](crate::Esr::with_authenticator_keys),
//! [`Esr::with_ephemeral_authenticator_key`](crate::Esr::with_ephemeral_authenticator_key),
//! [`Esr::set_authenticator_keys`](crate::Esr::set_authenticator_keys),
//! [`Esr::enrol_authenticator`](crate::Esr::enrol_authenticator) (HSCN only),
//! [`Esr::confirm_authenticator`](crate::Esr::confirm_authenticator),
//! [`Esr::upgrade_with_authenticator`](crate::Esr::upgrade_with_authenticator),
//! [`Esr::second_factors`](crate::Esr::second_factors) and
//! [`Esr::remove_authenticator`](crate::Esr::remove_authenticator).

mod ops;
mod otp;
pub(crate) mod qr;
mod record;
mod seal;

pub use ops::*;
pub use otp::*;
pub use record::*;
pub(crate) use seal::SharedAuthenticatorKeys;
pub use seal::*;
