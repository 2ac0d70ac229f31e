//! The exception hierarchy: one `esr.EsrError` base and a subclass per kind of failure, each
//! raised with the core's message (which never carries a secret).

use esr_core::Error;
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
    ImportRejectedError,
    InvalidInputError,
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
    LogInError,
    EsrError,
    "A log-in was refused: wrong credentials, or the account cannot log in now."
);
create_exception!(
    esr,
    AccountLockedError,
    LogInError,
    "The account is locked after too many failed log-ins."
);
create_exception!(
    esr,
    SessionError,
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
    PasscodeError,
    EsrError,
    "A one-time passcode or recovery link problem."
);
create_exception!(
    esr,
    RecoveryLinkError,
    PasscodeError,
    "A recovery link was refused; `reason` says why: not_recognised, expired, already_used or superseded."
);
create_exception!(
    esr,
    RateLimitedError,
    PasscodeError,
    "Too many codes, or a code sent moments ago; see retry_after_seconds."
);
create_exception!(
    esr,
    DeliveryError,
    EsrError,
    "A text or e-mail could not be handed to the sender; nothing was stored."
);
create_exception!(
    esr,
    AuditError,
    EsrError,
    "The audit trail fails verification: treat it as tampered with."
);
create_exception!(
    esr,
    StorageError,
    EsrError,
    "The store or the random number generator failed; nothing was changed."
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

pub(crate) use esr_core::limits::shown;

pub(crate) fn to_py(e: impl Into<Error>) -> PyErr {
    let e: Error = e.into();
    let msg = e.to_string();
    match e {
        Error::InvalidInput { .. }
        | Error::WeakPassword(_)
        | Error::BulkInput { .. }
        | Error::TooManyLocalPortlets { .. }
        | Error::InvalidTransition { .. }
        | Error::UsernamesExhausted { .. } => InvalidInputError::new_err(msg),
        Error::ImportRejected { .. } => ImportRejectedError::new_err(msg),
        Error::UnknownTrust(_)
        | Error::UnknownOrgUnit { .. }
        | Error::UnknownPerson { .. }
        | Error::UnknownAccount(_)
        | Error::UnknownAssignment { .. }
        | Error::UnknownCompetence { .. }
        | Error::UnknownRequirement { .. }
        | Error::UnknownEquivalence { .. }
        | Error::UnknownCertification { .. }
        | Error::UnknownComponent { .. }
        | Error::NotHeld { .. } => NotFoundError::new_err(msg),
        Error::TrustExists(_)
        | Error::OrgUnitExists { .. }
        | Error::DuplicateEmployeeNumber { .. }
        | Error::DuplicateAssignment { .. }
        | Error::SupervisorCycle { .. }
        | Error::AlreadyHeld { .. }
        | Error::AlreadyBootstrapped(_)
        | Error::AlreadyUpgraded
        | Error::TooFewUserAdministrators { .. } => ConflictError::new_err(msg),
        Error::LearningRefused { .. } => LearningRefusedError::new_err(msg),
        Error::AccountLocked(_) => AccountLockedError::new_err(msg),
        Error::InvalidCredentials
        | Error::AccountSuspended(_)
        | Error::AccountEnded(_)
        | Error::NoPassword(_)
        | Error::NoInternetAccess(_) => LogInError::new_err(msg),
        Error::UnknownSession(_)
        | Error::SessionEnded(_)
        | Error::SessionExpired(_)
        | Error::SessionIdle { .. }
        | Error::UnknownSessionRef(_) => SessionError::new_err(msg),
        Error::NotPermitted { .. }
        | Error::RecordNotVisible { .. }
        | Error::CrossTrust { .. }
        | Error::ApprovalRefused(_)
        | Error::UpgradeNotAvailable(_)
        | Error::StepUpMismatch => NotPermittedError::new_err(msg),
        Error::TooManySends {
            retry_after_seconds,
        }
        | Error::ResendTooSoon {
            retry_after_seconds,
        } => rate_limited(msg, retry_after_seconds),
        Error::RecoveryLinkRefused(problem) => recovery_link(msg, problem),
        Error::StepUpLocked(_)
        | Error::UnknownChallenge(_)
        | Error::UnknownPasscodeKey(_)
        | Error::NoPasscodeKey => PasscodeError::new_err(msg),
        Error::NoSender(_) => DeliveryError::new_err(msg),
        Error::Delivery(_) => {
            let err = DeliveryError::new_err(msg);
            if let Some(cause) = crate::delivery::take_sender_exception() {
                Python::attach(|py| err.set_cause(py, Some(cause)));
            }
            err
        }
        Error::AuditChainBroken { .. } => AuditError::new_err(msg),
        Error::Storage(_) | Error::Randomness(_) => StorageError::new_err(msg),
        _ => EsrError::new_err(msg),
    }
}

/// A RecoveryLinkError carrying its `reason` ("expired", "already_used", ...).
fn recovery_link(msg: String, problem: esr_core::passcode::LinkProblem) -> PyErr {
    Python::attach(|py| {
        let err = RecoveryLinkError::new_err(msg);
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

/// Adds the exception classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("EsrError", py.get_type::<EsrError>())?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add("ImportRejectedError", py.get_type::<ImportRejectedError>())?;
    m.add("NotFoundError", py.get_type::<NotFoundError>())?;
    m.add("ConflictError", py.get_type::<ConflictError>())?;
    m.add(
        "LearningRefusedError",
        py.get_type::<LearningRefusedError>(),
    )?;
    m.add("LogInError", py.get_type::<LogInError>())?;
    m.add("AccountLockedError", py.get_type::<AccountLockedError>())?;
    m.add("SessionError", py.get_type::<SessionError>())?;
    m.add("NotPermittedError", py.get_type::<NotPermittedError>())?;
    m.add("PasscodeError", py.get_type::<PasscodeError>())?;
    m.add("RateLimitedError", py.get_type::<RateLimitedError>())?;
    m.add("RecoveryLinkError", py.get_type::<RecoveryLinkError>())?;
    m.add("DeliveryError", py.get_type::<DeliveryError>())?;
    m.add("AuditError", py.get_type::<AuditError>())?;
    m.add("StorageError", py.get_type::<StorageError>())?;
    Ok(())
}
