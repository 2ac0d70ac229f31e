//! Authenticator apps (TOTP): enrolment, confirmation and upgrade on `EsrService`, and `Totp`,
//! which makes codes from a provisioning URI so that an iOS app can be the authenticator
//! (`Totp(uri:).code(at:)` and `secondsLeft(at:)` in Swift).

use crate::error::EsrError;
use crate::service::{EsrActor, EsrService, EsrSession};
use crate::types::{SessionInfo, from_system};
use esr_core::Username;
use esr_core::authenticator::{AuthenticatorKey, AuthenticatorKeys};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

/// What enrolling gives the person to set up their app: the provisioning URI, its QR code and
/// the secret to type in by hand. They carry the secret, so show them only to their owner;
/// printing the object never shows them.
#[derive(uniffi::Object)]
#[uniffi::export(Display, Debug)]
pub struct AuthenticatorEnrolment {
    inner: esr_core::authenticator::AuthenticatorEnrolment,
}

impl fmt::Display for AuthenticatorEnrolment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.inner.params();
        write!(
            f,
            "authenticator enrolment ({}, {} digits, {} s; secret hidden)",
            p.algorithm.as_str(),
            p.digits,
            p.period
        )
    }
}

impl fmt::Debug for AuthenticatorEnrolment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthenticatorEnrolment({self})")
    }
}

#[uniffi::export]
impl AuthenticatorEnrolment {
    /// The `otpauth://totp/…` provisioning URI.
    pub fn uri(&self) -> String {
        self.inner.uri().expose().to_owned()
    }

    /// The secret in base32, for typing into an app by hand.
    pub fn manual_key(&self) -> String {
        self.inner.manual_key().to_owned()
    }

    /// The URI as a QR code, an SVG document.
    pub fn qr_svg(&self) -> Result<String, EsrError> {
        Ok(self.inner.qr_svg()?)
    }

    /// The URI as a QR code in PNG, `scale` pixels a module (1 to 32).
    pub fn qr_png(&self, scale: u32) -> Result<Vec<u8>, EsrError> {
        Ok(self.inner.qr_png(scale)?)
    }

    /// Digits in a code.
    pub fn digits(&self) -> u8 {
        self.inner.params().digits
    }

    /// Seconds in a time step.
    pub fn period(&self) -> u32 {
        self.inner.params().period
    }
}

/// What a code from an authenticator app came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AuthenticatorOutcome {
    /// The first code was right: the app is set up.
    Activated,
    /// The code was right: the session is upgraded.
    Upgraded,
    /// The code is right for no time step in the window.
    WrongCode,
    /// The code's time step was used already: wait for the next code.
    Replayed,
    /// Too many wrong codes: ask a user administrator to clear the lock.
    Locked,
}

/// The answer to a code from an authenticator app.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuthenticatorResult {
    /// What it came to.
    pub outcome: AuthenticatorOutcome,
    /// Whether the code was accepted.
    pub approved: bool,
    /// What to tell the person.
    pub message: String,
    /// After an upgrade: the upgraded session.
    pub session: Option<SessionInfo>,
}

impl AuthenticatorResult {
    fn of(o: esr_core::authenticator::AuthenticatorOutcome, svc: &EsrService) -> Self {
        use esr_core::authenticator::AuthenticatorOutcome as O;
        let (approved, message) = (o.is_approved(), o.message().to_owned());
        let (outcome, session) = match o {
            O::Activated => (AuthenticatorOutcome::Activated, None),
            O::Upgraded(s) => (
                AuthenticatorOutcome::Upgraded,
                Some(SessionInfo::of(&s, svc.instant())),
            ),
            O::WrongCode => (AuthenticatorOutcome::WrongCode, None),
            O::Replayed => (AuthenticatorOutcome::Replayed, None),
            _ => (AuthenticatorOutcome::Locked, None),
        };
        Self {
            outcome,
            approved,
            message,
            session,
        }
    }
}

/// The second factors a person has registered, to choose one to upgrade with.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SecondFactors {
    /// The registered mobile number, masked ("xxxxxxx374"), if any.
    pub mobile_masked: Option<String>,
    /// Whether an authenticator app is set up.
    pub authenticator: bool,
}

#[uniffi::export]
impl EsrService {
    /// Sets the key that seals authenticator secrets (exactly 32 bytes from the Keychain or the
    /// trust's secret store) under `key_id`; `retired` keys (id, secret) still open what they
    /// sealed. Without one, enrolling or checking an app is refused.
    pub fn set_authenticator_keys(
        &self,
        key_id: String,
        secret: Vec<u8>,
        retired: Vec<RetiredKey>,
    ) -> Result<(), EsrError> {
        let mut ring = AuthenticatorKeys::new(AuthenticatorKey::new(&key_id, &secret)?);
        for r in retired {
            ring = ring.with_retired(AuthenticatorKey::new(&r.key_id, &r.secret)?)?;
        }
        self.core().set_authenticator_keys(ring);
        Ok(())
    }

    /// Enrols an authenticator app for the session's user (HSCN sessions only). It is set up
    /// once `confirm_authenticator` accepts its first code; enrolling again replaces it.
    pub fn enrol_authenticator(
        &self,
        session: Arc<EsrSession>,
    ) -> Result<Arc<AuthenticatorEnrolment>, EsrError> {
        let inner = self.core().enrol_authenticator(session.session_id())?;
        Ok(Arc::new(AuthenticatorEnrolment { inner }))
    }

    /// Confirms the enrolled app with its first code, from the HSCN session.
    pub fn confirm_authenticator(
        &self,
        session: Arc<EsrSession>,
        code: String,
    ) -> Result<AuthenticatorResult, EsrError> {
        let o = self
            .core()
            .confirm_authenticator(session.session_id(), &code)?;
        Ok(AuthenticatorResult::of(o, self))
    }

    /// Upgrades an internet session with a code from the user's authenticator app, instead of
    /// a texted code. A code's time step is accepted once.
    pub fn upgrade_with_authenticator(
        &self,
        session: Arc<EsrSession>,
        code: String,
    ) -> Result<AuthenticatorResult, EsrError> {
        let o = self
            .core()
            .upgrade_with_authenticator(session.session_id(), &code)?;
        Ok(AuthenticatorResult::of(o, self))
    }

    /// The second factors the session's user has, to choose one to upgrade with.
    pub fn second_factors(&self, session: Arc<EsrSession>) -> Result<SecondFactors, EsrError> {
        let f = self.core().second_factors(session.session_id())?;
        Ok(SecondFactors {
            mobile_masked: f.mobile,
            authenticator: f.authenticator,
        })
    }

    /// Removes a user's authenticator app (needs Reset accounts).
    pub fn remove_authenticator(
        &self,
        actor: EsrActor,
        username: String,
        reason: String,
    ) -> Result<(), EsrError> {
        let u: Username = username.parse().map_err(EsrError::from)?;
        self.core()
            .remove_authenticator(&actor.core_actor()?, &u, &reason)?;
        Ok(())
    }
}

/// A retired authenticator key: it opens what it sealed, and seals nothing new.
#[derive(Clone, uniffi::Record)]
pub struct RetiredKey {
    /// Its id.
    pub key_id: String,
    /// Its 32 bytes.
    pub secret: Vec<u8>,
}

impl fmt::Debug for RetiredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RetiredKey({}, <secret hidden>)", self.key_id)
    }
}

/// A TOTP generator from a provisioning URI, as an authenticator app is: in Swift,
/// `Totp(uri:)`, `code(at:)` and `secondsLeft(at:)`. Printing it never shows the secret.
#[derive(uniffi::Object)]
#[uniffi::export(Display, Debug)]
pub struct Totp {
    inner: esr_core::authenticator::Totp,
}

impl fmt::Display for Totp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TOTP for {} at {} (secret hidden)",
            self.inner.account(),
            self.inner.issuer()
        )
    }
}

impl fmt::Debug for Totp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Totp({self})")
    }
}

#[uniffi::export]
impl Totp {
    /// Reads an `otpauth://totp/…` provisioning URI (from a QR code).
    #[uniffi::constructor]
    pub fn new(uri: String) -> Result<Arc<Self>, EsrError> {
        Ok(Arc::new(Self {
            inner: esr_core::authenticator::Totp::from_uri(&uri)?,
        }))
    }

    /// The code shown at `at`.
    pub fn code(&self, at: SystemTime) -> Result<String, EsrError> {
        Ok(self.inner.code_at(from_system(at)?.timestamp()))
    }

    /// Seconds until the code shown at `at` changes (1 to the period).
    pub fn seconds_left(&self, at: SystemTime) -> Result<u32, EsrError> {
        Ok(self.inner.seconds_left(from_system(at)?.timestamp()))
    }

    /// The issuer the app shows (the trust's name).
    pub fn issuer(&self) -> String {
        self.inner.issuer().to_owned()
    }

    /// The account the app shows (the username).
    pub fn account(&self) -> String {
        self.inner.account().to_owned()
    }

    /// Digits in a code.
    pub fn digits(&self) -> u8 {
        self.inner.params().digits
    }

    /// Seconds in a time step.
    pub fn period(&self) -> u32 {
        self.inner.params().period
    }
}
