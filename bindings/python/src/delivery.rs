//! Time and delivery for the Python service: an injectable manual clock, the in-memory
//! outbox, and Python callables as SMS and e-mail senders.

use crate::errors::{to_py, wrong_type};
use crate::types::{in_python_range, parse, utc};
use esr_core::Clock;
use esr_core::chrono::{DateTime, TimeDelta, Utc};
use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;
use std::sync::Arc;

/// A clock that only moves when told to: give it to `Esr(clock=...)` and every time rule
/// (code expiry, session lifetime, link lifetime, today's date) reads it.
#[pyclass(frozen, module = "esr._esr")]
pub(crate) struct ManualClock(pub(crate) esr_core::ManualClock);

#[pymethods]
impl ManualClock {
    /// A clock stopped at `start` (a timezone-aware datetime).
    #[new]
    fn new(start: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self(esr_core::ManualClock::new(utc(start, "start")?)))
    }

    /// The clock's instant, in UTC.
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }

    /// Moves the clock to `instant` (backwards too).
    fn set(&self, instant: &Bound<'_, PyAny>) -> PyResult<()> {
        self.0.set(utc(instant, "instant")?);
        Ok(())
    }

    /// Moves the clock on by `delta` (a datetime.timedelta; negative moves it back). Raises
    /// OverflowError, leaving the clock where it was, when that would pass datetime's range.
    fn advance(&self, delta: TimeDelta) -> PyResult<()> {
        let now = self.0.now();
        match now.checked_add_signed(delta) {
            Some(t) if in_python_range(t) => self.0.try_advance(delta).map_err(to_py),
            _ => Err(PyOverflowError::new_err(
                "argument 'delta': it would move the clock outside the years 1 to 9999",
            )),
        }
    }

    fn __repr__(&self) -> String {
        format!("ManualClock({})", self.0.now().to_rfc3339())
    }
}

/// An in-memory SMS and e-mail sender that keeps every message: give it to
/// `Esr(sms_sender=outbox, email_sender=outbox)` and read back the code that was "texted".
#[pyclass(frozen, module = "esr._esr")]
pub(crate) struct Outbox(pub(crate) Arc<esr_core::passcode::Outbox>);

#[pymethods]
impl Outbox {
    /// An empty outbox.
    #[new]
    fn new() -> Self {
        Self(Arc::new(esr_core::passcode::Outbox::new()))
    }

    /// The code in the newest text to `mobile` (typed as people type it), or None.
    fn last_code_to(&self, py: Python<'_>, mobile: &str) -> PyResult<Option<String>> {
        let outbox = &*self.0;
        py.detach(|| {
            let to: esr_core::MobileNumber = mobile.parse()?;
            Ok::<_, esr_core::values::ValueError>(outbox.last_code_to(&to))
        })
        .map_err(to_py)
    }

    /// The newest text to `mobile`, or None.
    fn last_sms_to(&self, py: Python<'_>, mobile: &str) -> PyResult<Option<SmsMessage>> {
        let outbox = &*self.0;
        py.detach(|| {
            let to: esr_core::MobileNumber = mobile.parse()?;
            Ok::<_, esr_core::values::ValueError>(outbox.last_sms_to(&to).map(SmsMessage))
        })
        .map_err(to_py)
    }

    /// The newest e-mail to `address`, or None.
    fn last_email_to(&self, address: &str) -> PyResult<Option<EmailMessage>> {
        let to: esr_core::EmailAddress = parse(address)?;
        Ok(self.0.last_email_to(&to).map(EmailMessage))
    }

    /// Makes every later send fail with `reason` (or succeed again, with None).
    #[pyo3(signature = (reason))]
    fn fail_with(&self, reason: Option<&str>) {
        self.0.fail_with(reason);
    }

    /// Empties the outbox.
    fn clear(&self) {
        self.0.clear();
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }

    fn __repr__(&self) -> String {
        format!("Outbox({} message(s))", self.0.len())
    }
}

/// A text message carrying a code, as handed to a Python SMS sender. Its repr shows neither
/// the number nor the text.
#[pyclass(frozen, module = "esr._esr")]
pub(crate) struct SmsMessage(esr_core::passcode::SmsMessage);

#[pymethods]
impl SmsMessage {
    /// The trust sending it.
    #[getter]
    fn vpd(&self) -> String {
        self.0.vpd.to_string()
    }

    /// The recipient (prints masked; expose_e164() for the gateway).
    #[getter]
    fn to(&self) -> crate::MobileNumber {
        crate::MobileNumber(self.0.to().clone())
    }

    /// The text, code included. Only for the gateway: never log it.
    fn expose_text(&self) -> String {
        self.0.expose_text().to_owned()
    }

    fn __repr__(&self) -> String {
        format!(
            "SmsMessage(vpd='{}', to='{}', text=<redacted>)",
            self.0.vpd,
            self.0.to().masked()
        )
    }
}

/// An account-recovery e-mail, as handed to a Python e-mail sender. Its repr hides the token.
#[pyclass(frozen, module = "esr._esr")]
pub(crate) struct EmailMessage(esr_core::passcode::EmailMessage);

#[pymethods]
impl EmailMessage {
    /// The trust sending it.
    #[getter]
    fn vpd(&self) -> String {
        self.0.vpd.to_string()
    }

    /// "username reminder" or "unlock account".
    #[getter]
    fn kind(&self) -> &'static str {
        match self.0.kind {
            esr_core::passcode::EmailKind::UsernameReminder => "username reminder",
            esr_core::passcode::EmailKind::UnlockAccount => "unlock account",
        }
    }

    /// The recipient: the recruitment e-mail address on the person's record.
    #[getter]
    fn to(&self) -> String {
        self.0.to().to_string()
    }

    /// The account's username.
    #[getter]
    fn username(&self) -> String {
        self.0.username.to_string()
    }

    /// When the link stops working.
    #[getter]
    fn link_expires_at(&self) -> DateTime<Utc> {
        self.0.link_expires_at
    }

    /// The link's token. Only for the gateway: never log it.
    fn expose_token(&self) -> String {
        self.0.expose_token().expose().to_owned()
    }

    /// A plain-text body with the link `{link_base}{token}`.
    fn text(&self, link_base: &str) -> String {
        self.0.text(link_base)
    }

    fn __repr__(&self) -> String {
        format!(
            "EmailMessage(vpd='{}', kind='{}', username='{}', token=<redacted>)",
            self.0.vpd,
            self.kind(),
            self.0.username
        )
    }
}

/// A Python callable as a sender: called with the message, with the interpreter re-acquired;
/// an exception it raises becomes a DeliveryError (nothing is stored).
pub(crate) struct PySender(pub(crate) Py<PyAny>);

std::thread_local! {
    /// The exception the last failing Python sender raised on this thread, kept for the
    /// DeliveryError the refusal becomes (as its `__cause__`): the service runs the sender on
    /// the calling thread, so the error is mapped back on this same thread.
    static SENDER_EXCEPTION: std::cell::RefCell<Option<PyErr>> = const { std::cell::RefCell::new(None) };
}

/// The exception a Python sender raised for the refusal being mapped now, if any.
pub(crate) fn take_sender_exception() -> Option<PyErr> {
    SENDER_EXCEPTION.with(|c| c.borrow_mut().take())
}

/// Calls a sender. Its exception's text is not copied into the refusal: a gateway's error
/// often quotes the request (the number, the text with the code), and the refusal's message
/// reaches logs. It names the exception's type; the exception itself becomes the
/// DeliveryError's `__cause__`.
fn call_sender(
    f: &Py<PyAny>,
    make: impl FnOnce(Python<'_>) -> PyResult<Py<PyAny>>,
) -> Result<(), String> {
    Python::attach(|py| {
        let raised = match make(py).and_then(|message| f.call1(py, (message,))) {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let kind = raised
            .get_type(py)
            .name()
            .map_or_else(|_| "an exception".to_owned(), |n| n.to_string());
        SENDER_EXCEPTION.with(|c| *c.borrow_mut() = Some(raised));
        Err(format!(
            "the Python sender raised {kind} (see the DeliveryError's __cause__)"
        ))
    })
}

impl esr_core::passcode::SmsSender for PySender {
    fn send_sms(&self, message: &esr_core::passcode::SmsMessage) -> Result<(), String> {
        call_sender(&self.0, |py| {
            Ok(Py::new(py, SmsMessage(message.clone()))?.into_any())
        })
    }
}

impl esr_core::passcode::EmailSender for PySender {
    fn send_email(&self, message: &esr_core::passcode::EmailMessage) -> Result<(), String> {
        call_sender(&self.0, |py| {
            Ok(Py::new(py, EmailMessage(message.clone()))?.into_any())
        })
    }
}

/// A sender given to `Esr(...)`: an Outbox, or a callable.
pub(crate) enum Sender {
    /// The in-memory outbox.
    Outbox(Arc<esr_core::passcode::Outbox>),
    /// A Python callable.
    Callable(Arc<PySender>),
}

impl Sender {
    pub(crate) fn from_py(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Self> {
        if let Ok(o) = value.cast::<Outbox>() {
            return Ok(Self::Outbox(o.get().0.clone()));
        }
        if value.is_callable() {
            return Ok(Self::Callable(Arc::new(PySender(value.clone().unbind()))));
        }
        Err(wrong_type(
            what,
            "an esr.Outbox or a callable taking the message (a sender)",
            value,
        ))
    }
}

/// Adds the clock, outbox and message classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ManualClock>()?;
    m.add_class::<Outbox>()?;
    m.add_class::<SmsMessage>()?;
    m.add_class::<EmailMessage>()?;
    Ok(())
}
