//! The exception hierarchy: one `esr.EsrError` base and a subclass per kind of failure
//! ([`esr_core::ErrorKind`], the same names as Swift's `EsrError` cases with Python's `Error`
//! suffix), each raised with the core's message (which never carries a secret). The core
//! classifies its errors; this file only converts kinds, never variants.

use esr_core::{Error, ErrorKind};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    esr,
    EsrError,
    PyException,
    "Base class of every error raised by esr."
);
create_exception!(
    esr,
    InvalidInputError,
    EsrError,
    "A value given to esr is not valid (or a password does not meet the policy)."
);
create_exception!(
    esr,
    BulkInputError,
    InvalidInputError,
    "A table given to score_compliance, or a file given to read_competence_csv, is not usable; the message names the table and column, or the line."
);
create_exception!(
    esr,
    ImportRejectedError,
    BulkInputError,
    "A competence import was refused and nothing was imported."
);
create_exception!(
    esr,
    NotFoundError,
    EsrError,
    "Something named does not exist: a trust, unit, person, account, assignment, competence, certification, course."
);
create_exception!(
    esr,
    ConflictError,
    EsrError,
    "The change conflicts with what is stored: a duplicate, a cycle, a held URP, a rule on user administrators."
);
create_exception!(
    esr,
    LearningRefusedError,
    ConflictError,
    "A learning step is not allowed in the subscription's or component's state now: subscribing twice, playing without enrolling, passing a course."
);
create_exception!(
    esr,
    LogInRefusedError,
    EsrError,
    "A log-in was refused: wrong credentials, or the account cannot log in now."
);
create_exception!(
    esr,
    AccountLockedError,
    LogInRefusedError,
    "The account is locked after too many failed log-ins."
);
create_exception!(
    esr,
    SessionExpiredError,
    EsrError,
    "The session is unknown, ended or expired: log in again."
);
create_exception!(
    esr,
    NotPermittedError,
    EsrError,
    "The actor may not do this: the function, the record or the grant is not allowed."
);
create_exception!(
    esr,
    PasscodeRefusedError,
    EsrError,
    "A one-time passcode or recovery link was refused."
);
create_exception!(
    esr,
    RecoveryLinkRefusedError,
    PasscodeRefusedError,
    "A recovery link was refused; `reason` says why: not_recognised, expired, already_used or superseded."
);
create_exception!(
    esr,
    RateLimitedError,
    PasscodeRefusedError,
    "Too many codes, or a code sent moments ago; see retry_after_seconds."
);
create_exception!(
    esr,
    DeliveryError,
    EsrError,
    "A text or e-mail could not be handed to the sender; its code or link was withdrawn."
);
create_exception!(
    esr,
    AuditBrokenError,
    EsrError,
    "The audit trail fails verification: treat it as tampered with."
);
create_exception!(
    esr,
    StorageError,
    EsrError,
    "The store or the random number generator failed; nothing was changed."
);
create_exception!(
    esr,
    BusyError,
    StorageError,
    "Another writer held the store's lock too long; nothing was changed. Retry after retry_after_seconds."
);
create_exception!(
    esr,
    InternalError,
    EsrError,
    "Something inside esr went wrong that the caller cannot fix; nothing was changed."
);

/// The Python exception for a core error, with the core's message.
/// A value of the wrong Python type for `arg`: a TypeError naming the argument, as pyo3's own
/// conversions raise (Python's convention), for the arguments esr converts itself.
pub(crate) fn wrong_type(arg: &str, expected: &str, got: &Bound<'_, PyAny>) -> PyErr {
    let got = got
        .get_type()
        .name()
        .map_or_else(|_| "another type".to_owned(), |n| n.to_string());
    pyo3::exceptions::PyTypeError::new_err(format!(
        "argument '{arg}': expected {expected}, got {got}"
    ))
}

/// The text of a str argument esr converts itself, its conversion error (a lone surrogate's
/// UnicodeEncodeError) noted with the argument's name as pyo3 notes its own.
pub(crate) fn text_of<'a>(s: &'a Bound<'_, pyo3::types::PyString>, arg: &str) -> PyResult<&'a str> {
    s.to_str().inspect_err(|e| {
        let _ = e
            .value(s.py())
            .call_method1("add_note", (format!("while processing '{arg}'"),));
    })
}

/// The Python exception for a core error, with the core's message: its kind's class.
pub(crate) fn to_py(e: impl Into<Error>) -> PyErr {
    let e: Error = e.into();
    let kind = e.kind();
    let err = of_kind(
        kind,
        e.to_string(),
        e.retry_after().map(|d| d.num_seconds()),
        e.link_problem(),
    );
    if kind == ErrorKind::Delivery
        && let Some(cause) = crate::delivery::take_sender_exception()
    {
        Python::attach(|py| err.set_cause(py, Some(cause)));
    }
    err
}

/// The exception of a kind of core failure, with its message and the details some kinds carry
/// (a rate limit's wait, a refused link's reason).
fn of_kind(
    kind: ErrorKind,
    msg: String,
    retry_after_seconds: Option<i64>,
    link: Option<esr_core::passcode::LinkProblem>,
) -> PyErr {
    match kind {
        ErrorKind::InvalidInput => InvalidInputError::new_err(msg),
        ErrorKind::BulkInput => BulkInputError::new_err(msg),
        ErrorKind::ImportRejected => ImportRejectedError::new_err(msg),
        ErrorKind::NotFound => NotFoundError::new_err(msg),
        ErrorKind::Conflict => ConflictError::new_err(msg),
        ErrorKind::LearningRefused => LearningRefusedError::new_err(msg),
        ErrorKind::LogInRefused => LogInRefusedError::new_err(msg),
        ErrorKind::AccountLocked => AccountLockedError::new_err(msg),
        ErrorKind::SessionExpired => SessionExpiredError::new_err(msg),
        ErrorKind::NotPermitted => NotPermittedError::new_err(msg),
        ErrorKind::PasscodeRefused => PasscodeRefusedError::new_err(msg),
        ErrorKind::RateLimited => rate_limited(msg, retry_after_seconds.unwrap_or(0)),
        ErrorKind::RecoveryLinkRefused => match link {
            Some(problem) => recovery_link(msg, problem),
            None => RecoveryLinkRefusedError::new_err(msg),
        },
        ErrorKind::Delivery => DeliveryError::new_err(msg),
        ErrorKind::AuditBroken => AuditBrokenError::new_err(msg),
        ErrorKind::Storage => StorageError::new_err(msg),
        ErrorKind::Busy => busy(msg, retry_after_seconds.unwrap_or(1)),
        ErrorKind::Internal => InternalError::new_err(msg),
        // ErrorKind is #[non_exhaustive]: a kind added to the core after this binding.
        other => {
            InternalError::new_err(format!("{msg} (an unclassified kind of failure: {other})"))
        }
    }
}

/// Each kind's code (`"not_permitted"`) and the exception class it raises, for the tests.
#[pyfunction]
pub(crate) fn _error_kinds(py: Python<'_>) -> PyResult<Vec<(&'static str, Py<PyAny>)>> {
    ErrorKind::ALL
        .iter()
        .map(|&k| {
            let e = of_kind(k, String::new(), None, None);
            Ok((k.as_str(), e.get_type(py).into_any().unbind()))
        })
        .collect()
}

/// A RecoveryLinkRefusedError carrying its `reason` ("expired", "already_used", ...).
fn recovery_link(msg: String, problem: esr_core::passcode::LinkProblem) -> PyErr {
    Python::attach(|py| {
        let err = RecoveryLinkRefusedError::new_err(msg);
        match err.value(py).setattr("reason", problem.code()) {
            Ok(()) => err,
            Err(e) => e,
        }
    })
}

/// A RateLimitedError carrying `retry_after_seconds`.
fn rate_limited(msg: String, retry_after_seconds: i64) -> PyErr {
    Python::attach(|py| {
        let err = RateLimitedError::new_err(msg);
        match err
            .value(py)
            .setattr("retry_after_seconds", retry_after_seconds)
        {
            Ok(()) => err,
            Err(e) => e,
        }
    })
}

/// A BusyError carrying `retry_after_seconds`.
fn busy(msg: String, retry_after_seconds: i64) -> PyErr {
    Python::attach(|py| {
        let err = BusyError::new_err(msg);
        match err
            .value(py)
            .setattr("retry_after_seconds", retry_after_seconds)
        {
            Ok(()) => err,
            Err(e) => e,
        }
    })
}

/// Adds the exception classes to the module, and the four earlier names as aliases
/// (`LogInError` is `LogInRefusedError`).
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("EsrError", py.get_type::<EsrError>())?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add("BulkInputError", py.get_type::<BulkInputError>())?;
    m.add("ImportRejectedError", py.get_type::<ImportRejectedError>())?;
    m.add("NotFoundError", py.get_type::<NotFoundError>())?;
    m.add("ConflictError", py.get_type::<ConflictError>())?;
    m.add(
        "LearningRefusedError",
        py.get_type::<LearningRefusedError>(),
    )?;
    m.add("LogInRefusedError", py.get_type::<LogInRefusedError>())?;
    m.add("AccountLockedError", py.get_type::<AccountLockedError>())?;
    m.add("SessionExpiredError", py.get_type::<SessionExpiredError>())?;
    m.add("NotPermittedError", py.get_type::<NotPermittedError>())?;
    m.add(
        "PasscodeRefusedError",
        py.get_type::<PasscodeRefusedError>(),
    )?;
    m.add("RateLimitedError", py.get_type::<RateLimitedError>())?;
    m.add(
        "RecoveryLinkRefusedError",
        py.get_type::<RecoveryLinkRefusedError>(),
    )?;
    m.add("DeliveryError", py.get_type::<DeliveryError>())?;
    m.add("AuditBrokenError", py.get_type::<AuditBrokenError>())?;
    m.add("StorageError", py.get_type::<StorageError>())?;
    m.add("BusyError", py.get_type::<BusyError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    // The earlier names, kept as aliases.
    m.add("LogInError", py.get_type::<LogInRefusedError>())?;
    m.add("SessionError", py.get_type::<SessionExpiredError>())?;
    m.add("PasscodeError", py.get_type::<PasscodeRefusedError>())?;
    m.add("AuditError", py.get_type::<AuditBrokenError>())?;
    m.add(
        "RecoveryLinkError",
        py.get_type::<RecoveryLinkRefusedError>(),
    )?;
    m.add_function(wrap_pyfunction!(_error_kinds, m)?)?;
    Ok(())
}
