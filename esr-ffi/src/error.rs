//! The one error type crossing the boundary: a variant per kind of core failure, each carrying
//! the core's message (which says what was wrong and what to do, and never carries a secret).

use esr_core::Error;

/// Errors crossing the FFI boundary, each with a message a person can act on. In Swift they are
/// thrown as `EsrError` cases (`EsrError.InvalidInput(message:)`); in Python as `EsrError.InvalidInput`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum EsrError {
    /// A value given to the library is not valid (a malformed username, a weak password, a date
    /// that does not exist, a competence import with bad rows).
    #[error("{message}")]
    InvalidInput {
        /// What was wrong and what a valid value looks like.
        message: String,
    },
    /// Something named does not exist: a trust, unit, person, account, assignment, competence,
    /// certification or course.
    #[error("{message}")]
    NotFound {
        /// What was not found and what to check.
        message: String,
    },
    /// The change conflicts with what is stored: a duplicate, a cycle, a URP already held, the
    /// rule of two user administrators, a session already upgraded.
    #[error("{message}")]
    Conflict {
        /// What conflicts and what to do instead.
        message: String,
    },
    /// A log-in was refused: wrong username or password, no password yet, no internet access,
    /// a suspended or ended account.
    #[error("{message}")]
    LogInRefused {
        /// Why, in words to show the user.
        message: String,
    },
    /// The account is locked after too many failed log-ins.
    #[error("{message}")]
    AccountLocked {
        /// How to unlock it.
        message: String,
    },
    /// The session is unknown, was logged out or has expired: log in again.
    #[error("{message}")]
    SessionExpired {
        /// What happened to the session.
        message: String,
    },
    /// The session or actor may not do this (a function not granted or not open on this
    /// channel, a record not visible, a session that cannot be upgraded).
    #[error("{message}")]
    PermissionDenied {
        /// Why not, and what would allow it.
        message: String,
    },
    /// A one-time passcode or recovery link was refused (step-up locked, no such challenge, a
    /// used or expired link).
    #[error("{message}")]
    PasscodeRefused {
        /// What to do: usually ask for a new code or link.
        message: String,
    },
    /// A recovery link was refused; `reason` says why, for the app to choose what to show.
    #[error("{message}")]
    RecoveryLinkRefused {
        /// What to do: usually ask for a new link.
        message: String,
        /// Why the link was refused.
        reason: LinkRefusal,
    },
    /// Too many codes were sent recently, or one was sent moments ago.
    #[error("{message}")]
    RateLimited {
        /// When to ask again.
        message: String,
        /// Seconds until one more may be sent.
        retry_after_seconds: i64,
    },
    /// A text or e-mail could not be handed to the gateway (or none is configured); nothing was
    /// stored. A foreign gateway throws this to refuse a message.
    #[error("{message}")]
    Delivery {
        /// Why it could not be sent.
        message: String,
    },
    /// A learning step is not allowed in the subscription's or component's state now.
    #[error("{message}")]
    LearningRefused {
        /// The state it is in and what to do instead.
        message: String,
    },
    /// The trust's audit trail fails verification: treat it as tampered with.
    #[error("{message}")]
    AuditBroken {
        /// Where the trail breaks.
        message: String,
    },
    /// The store or the random number generator failed; nothing was changed. Retry.
    #[error("{message}")]
    Storage {
        /// What failed.
        message: String,
    },
    /// Something inside the library went wrong that the caller cannot fix (a newer kind of core
    /// failure, or a foreign callback that failed unexpectedly); nothing was changed.
    #[error("{message}")]
    Internal {
        /// What went wrong.
        message: String,
    },
}

pub(crate) use esr_core::limits::shown;

/// Why a recovery link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LinkRefusal {
    /// Not a link this service issued, or not for this use.
    NotRecognised,
    /// Older than 4 hours.
    Expired,
    /// Already used (each link works once).
    AlreadyUsed,
    /// A newer link was sent since.
    Superseded,
}

impl From<esr_core::passcode::LinkProblem> for LinkRefusal {
    fn from(p: esr_core::passcode::LinkProblem) -> Self {
        use esr_core::passcode::LinkProblem as P;
        match p {
            P::NotRecognised => Self::NotRecognised,
            P::Expired => Self::Expired,
            P::AlreadyUsed => Self::AlreadyUsed,
            P::Superseded => Self::Superseded,
        }
    }
}

impl EsrError {
    /// An invalid-input error with this message.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidInput {
            message: message.into(),
        }
    }

    /// The message, whatever the kind.
    pub fn message(&self) -> &str {
        match self {
            Self::InvalidInput { message }
            | Self::NotFound { message }
            | Self::Conflict { message }
            | Self::LogInRefused { message }
            | Self::AccountLocked { message }
            | Self::SessionExpired { message }
            | Self::PermissionDenied { message }
            | Self::PasscodeRefused { message }
            | Self::RateLimited { message, .. }
            | Self::RecoveryLinkRefused { message, .. }
            | Self::Delivery { message }
            | Self::LearningRefused { message }
            | Self::AuditBroken { message }
            | Self::Storage { message }
            | Self::Internal { message } => message,
        }
    }
}

impl From<esr_core::values::ValueError> for EsrError {
    fn from(e: esr_core::values::ValueError) -> Self {
        Error::from(e).into()
    }
}

impl From<Error> for EsrError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        match e {
            Error::InvalidInput { .. }
            | Error::WeakPassword(_)
            | Error::BulkInput { .. }
            | Error::TooManyLocalPortlets { .. }
            | Error::InvalidTransition { .. }
            | Error::UsernamesExhausted { .. }
            | Error::ImportRejected { .. } => Self::InvalidInput { message },
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
            | Error::NotHeld { .. } => Self::NotFound { message },
            Error::TrustExists(_)
            | Error::OrgUnitExists { .. }
            | Error::DuplicateEmployeeNumber { .. }
            | Error::DuplicateAssignment { .. }
            | Error::SupervisorCycle { .. }
            | Error::AlreadyHeld { .. }
            | Error::AlreadyBootstrapped(_)
            | Error::AlreadyUpgraded
            | Error::TooFewUserAdministrators { .. } => Self::Conflict { message },
            Error::LearningRefused { .. } => Self::LearningRefused { message },
            Error::AccountLocked(_) => Self::AccountLocked { message },
            Error::InvalidCredentials
            | Error::AccountSuspended(_)
            | Error::AccountEnded(_)
            | Error::NoPassword(_)
            | Error::NoInternetAccess(_) => Self::LogInRefused { message },
            Error::UnknownSession(_)
            | Error::SessionEnded(_)
            | Error::SessionExpired(_)
            | Error::SessionIdle { .. }
            | Error::UnknownSessionRef(_) => Self::SessionExpired { message },
            Error::NotPermitted { .. }
            | Error::RecordNotVisible { .. }
            | Error::CrossTrust { .. }
            | Error::ApprovalRefused(_)
            | Error::UpgradeNotAvailable(_)
            | Error::StepUpMismatch => Self::PermissionDenied { message },
            Error::TooManySends {
                retry_after_seconds,
            }
            | Error::ResendTooSoon {
                retry_after_seconds,
            } => Self::RateLimited {
                message,
                retry_after_seconds,
            },
            Error::RecoveryLinkRefused(problem) => Self::RecoveryLinkRefused {
                message,
                reason: problem.into(),
            },
            Error::StepUpLocked(_)
            | Error::UnknownChallenge(_)
            | Error::UnknownPasscodeKey(_)
            | Error::NoPasscodeKey => Self::PasscodeRefused { message },
            Error::NoSender(_) | Error::Delivery(_) => Self::Delivery { message },
            Error::AuditChainBroken { .. } => Self::AuditBroken { message },
            Error::Storage(_) | Error::Randomness(_) => Self::Storage { message },
            _ => Self::Internal { message },
        }
    }
}

/// A foreign gateway that failed in a way its interface does not declare (in Swift, throwing an
/// error that is not an `EsrError`): reported as a delivery failure, so nothing is stored.
impl From<uniffi::UnexpectedUniFFICallbackError> for EsrError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Delivery {
            message: format!("the app's gateway failed unexpectedly: {}", e.reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use esr_core::{Username, VpdCode};

    fn vpd() -> VpdCode {
        "297".parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn each_kind_of_core_error_maps_to_its_variant_with_the_core_message() {
        let user: Username = "297ECONROY01".parse().unwrap_or_else(|e| panic!("{e}"));
        type Case = (Error, fn(&EsrError) -> bool);
        let cases: Vec<Case> = vec![
            (Error::WeakPassword("too short"), |e| {
                matches!(e, EsrError::InvalidInput { .. })
            }),
            (Error::UnknownTrust(vpd()), |e| {
                matches!(e, EsrError::NotFound { .. })
            }),
            (Error::UnknownAccount(user.clone()), |e| {
                matches!(e, EsrError::NotFound { .. })
            }),
            (Error::TrustExists(vpd()), |e| {
                matches!(e, EsrError::Conflict { .. })
            }),
            (Error::InvalidCredentials, |e| {
                matches!(e, EsrError::LogInRefused { .. })
            }),
            (Error::AccountLocked(user.clone()), |e| {
                matches!(e, EsrError::AccountLocked { .. })
            }),
            (Error::StepUpMismatch, |e| {
                matches!(e, EsrError::PermissionDenied { .. })
            }),
            (Error::StepUpLocked(user.clone()), |e| {
                matches!(e, EsrError::PasscodeRefused { .. })
            }),
            (
                Error::ResendTooSoon {
                    retry_after_seconds: 42,
                },
                |e| {
                    matches!(
                        e,
                        EsrError::RateLimited {
                            retry_after_seconds: 42,
                            ..
                        }
                    )
                },
            ),
            (Error::NoSender("SMS"), |e| {
                matches!(e, EsrError::Delivery { .. })
            }),
            (Error::Storage("disk full".into()), |e| {
                matches!(e, EsrError::Storage { .. })
            }),
            (Error::Randomness("no entropy".into()), |e| {
                matches!(e, EsrError::Storage { .. })
            }),
        ];
        for (core, is_right) in cases {
            let text = core.to_string();
            let e = EsrError::from(core);
            assert!(is_right(&e), "{text} became {e:?}");
            assert_eq!(e.message(), text);
            assert_eq!(e.to_string(), text);
        }
    }

    #[test]
    fn a_foreign_failure_is_a_delivery_error() {
        let e = EsrError::from(uniffi::UnexpectedUniFFICallbackError::new("boom"));
        assert!(matches!(e, EsrError::Delivery { .. }));
        assert!(e.message().contains("boom"));
    }
}
