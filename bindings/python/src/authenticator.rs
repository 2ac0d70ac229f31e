//! Authenticator apps (TOTP): the enrolment to show, the outcome of a code, the second
//! factors a person has, and `Totp`, a generator from a provisioning URI (what an app does).
//! The `Esr` methods are in service.rs, in their own block.

use crate::errors::{to_py, wrong_type};
use crate::service::Session;
use esr_core::chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// What enrolling an authenticator app gives the person to set it up: the provisioning URI
/// (`uri`), its QR code (`qr_svg()`, `qr_png()`) and the secret for typing in by hand
/// (`manual_key`). They carry the secret: show them only to their owner. `repr` never shows
/// them.
#[pyclass(frozen, module = "esr._esr")]
pub(crate) struct AuthenticatorEnrolment {
    pub(crate) inner: esr_core::authenticator::AuthenticatorEnrolment,
}

#[pymethods]
impl AuthenticatorEnrolment {
    /// The `otpauth://totp/…` provisioning URI.
    #[getter]
    fn uri(&self) -> String {
        self.inner.uri().expose().to_owned()
    }
    /// The secret in base32, for typing into an app by hand.
    #[getter]
    fn manual_key(&self) -> String {
        self.inner.manual_key().to_owned()
    }
    /// "SHA1", "SHA256" or "SHA512".
    #[getter]
    fn algorithm(&self) -> &'static str {
        self.inner.params().algorithm.as_str()
    }
    /// Digits in a code.
    #[getter]
    fn digits(&self) -> u8 {
        self.inner.params().digits
    }
    /// Seconds in a time step.
    #[getter]
    fn period(&self) -> u32 {
        self.inner.params().period
    }
    /// The URI as a QR code, an SVG document.
    fn qr_svg(&self, py: Python<'_>) -> PyResult<String> {
        py.detach(|| self.inner.qr_svg()).map_err(to_py)
    }
    /// The URI as a QR code, PNG bytes, `scale` pixels a module (1 to 32).
    #[pyo3(signature = (scale=8))]
    fn qr_png<'py>(&self, py: Python<'py>, scale: u32) -> PyResult<Bound<'py, PyBytes>> {
        let png = py.detach(|| self.inner.qr_png(scale)).map_err(to_py)?;
        Ok(PyBytes::new(py, &png))
    }
    fn __repr__(&self) -> String {
        let p = self.inner.params();
        format!(
            "AuthenticatorEnrolment(algorithm='{}', digits={}, period={}, <secret hidden>)",
            p.algorithm.as_str(),
            p.digits,
            p.period
        )
    }
}

/// What a code from an authenticator app came to; True when accepted.
#[pyclass(frozen, get_all, module = "esr._esr")]
pub(crate) struct AuthenticatorOutcome {
    /// "activated", "upgraded", "wrong code", "replayed" or "locked".
    outcome: &'static str,
    /// Whether the code was accepted.
    approved: bool,
    /// What to tell the person.
    message: &'static str,
    /// After an upgrade: the upgraded session.
    session: Option<Session>,
}

impl From<esr_core::authenticator::AuthenticatorOutcome> for AuthenticatorOutcome {
    fn from(o: esr_core::authenticator::AuthenticatorOutcome) -> Self {
        let (outcome, approved, message) = (o.as_str(), o.is_approved(), o.message());
        let session = match o {
            esr_core::authenticator::AuthenticatorOutcome::Upgraded(s) => Some(s.into()),
            _ => None,
        };
        Self {
            outcome,
            approved,
            message,
            session,
        }
    }
}

#[pymethods]
impl AuthenticatorOutcome {
    fn __bool__(&self) -> bool {
        self.approved
    }
    fn __repr__(&self) -> String {
        format!("AuthenticatorOutcome(outcome='{}')", self.outcome)
    }
}

/// The second factors a person has registered, to choose one to upgrade with.
#[pyclass(frozen, get_all, module = "esr._esr")]
pub(crate) struct SecondFactors {
    /// The registered mobile number, masked ("xxxxxxx374"), or None.
    mobile: Option<String>,
    /// Whether an authenticator app is registered and confirmed.
    authenticator: bool,
}

impl From<esr_core::authenticator::SecondFactors> for SecondFactors {
    fn from(f: esr_core::authenticator::SecondFactors) -> Self {
        Self {
            mobile: f.mobile,
            authenticator: f.authenticator,
        }
    }
}

#[pymethods]
impl SecondFactors {
    fn __repr__(&self) -> String {
        format!(
            "SecondFactors(mobile={}, authenticator={})",
            self.mobile
                .as_ref()
                .map_or("None".to_owned(), |m| format!("'{m}'")),
            if self.authenticator { "True" } else { "False" }
        )
    }
}

/// A TOTP generator from a provisioning URI, as an authenticator app is: `code_at(t)` and
/// `seconds_left(t)`, `t` a Unix time in seconds or an aware datetime. `repr` never shows the
/// secret.
#[pyclass(frozen, module = "esr._esr")]
pub(crate) struct Totp {
    inner: esr_core::authenticator::Totp,
}

/// Seconds since the Unix epoch from an int, a float or an aware datetime.
fn unix_of(at: &Bound<'_, PyAny>) -> PyResult<i64> {
    if let Ok(t) = at.extract::<i64>() {
        return Ok(t);
    }
    if let Ok(t) = at.extract::<f64>() {
        return Ok(t.floor() as i64);
    }
    if let Ok(t) = at.extract::<DateTime<Utc>>() {
        return Ok(t.timestamp());
    }
    Err(wrong_type(
        "at",
        "a Unix time in seconds or an aware datetime",
        at,
    ))
}

#[pymethods]
impl Totp {
    /// Reads an `otpauth://totp/…` provisioning URI.
    #[new]
    fn new(uri: &str) -> PyResult<Self> {
        Ok(Self {
            inner: esr_core::authenticator::Totp::from_uri(uri).map_err(to_py)?,
        })
    }
    /// The code shown at `at`.
    fn code_at(&self, at: &Bound<'_, PyAny>) -> PyResult<String> {
        Ok(self.inner.code_at(unix_of(at)?))
    }
    /// Seconds until the code shown at `at` changes.
    fn seconds_left(&self, at: &Bound<'_, PyAny>) -> PyResult<u32> {
        Ok(self.inner.seconds_left(unix_of(at)?))
    }
    /// The issuer an app shows (the trust's name).
    #[getter]
    fn issuer(&self) -> String {
        self.inner.issuer().to_owned()
    }
    /// The account an app shows (the username).
    #[getter]
    fn account(&self) -> String {
        self.inner.account().to_owned()
    }
    /// "SHA1", "SHA256" or "SHA512".
    #[getter]
    fn algorithm(&self) -> &'static str {
        self.inner.params().algorithm.as_str()
    }
    /// Digits in a code.
    #[getter]
    fn digits(&self) -> u8 {
        self.inner.params().digits
    }
    /// Seconds in a time step.
    #[getter]
    fn period(&self) -> u32 {
        self.inner.params().period
    }
    fn __repr__(&self) -> String {
        format!(
            "Totp(issuer={:?}, account={:?}, <secret hidden>)",
            self.inner.issuer(),
            self.inner.account()
        )
    }
}

/// Adds the authenticator classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<AuthenticatorEnrolment>()?;
    m.add_class::<AuthenticatorOutcome>()?;
    m.add_class::<SecondFactors>()?;
    m.add_class::<Totp>()?;
    Ok(())
}
