//! The one error type crossing the boundary: a case per [`esr_core::ErrorKind`], each carrying
//! the core's message (which says what was wrong and what to do, and never carries a secret).
//! The core classifies its errors; this file only converts kinds, never variants.

use esr_core::{Error, ErrorKind};

/// Errors crossing the FFI boundary, one case per kind of core failure
/// ([`esr_core::ErrorKind`], the same names as Python's exception classes without their
/// `Error` suffix), each with a message a person can act on. In Swift they are thrown as
/// `EsrError` cases (`EsrError.InvalidInput(message:)`, and `error.message()` on any case); in
/// Python as `EsrError.InvalidInput`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum EsrError {
    /// A value given to the library is not valid (a malformed username, a weak password, a date
    /// that does not exist, a state change that is not allowed).
    #[error("{message}")]
    InvalidInput {
        /// What was wrong and what a valid value looks like.
        message: String,
    },
    /// The tables or file given to the bulk compliance scorer or the competence export reader
    /// are not usable.
    #[error("{message}")]
    BulkInput {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A competence import was refused because of bad rows; nothing was imported.
    #[error("{message}")]
    ImportRejected {
        /// The bad rows, with their line numbers and reasons.
        message: String,
    },
    /// Something named does not exist: a trust, unit, person, account, assignment, competence,
    /// certification or course, or a URP the user does not hold.
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
    /// A learning step is not allowed in the subscription's or component's state now.
    #[error("{message}")]
    LearningRefused {
        /// The state it is in and what to do instead.
        message: String,
    },
    /// A log-in was refused: wrong username or password, no internet access, a suspended or
    /// ended account.
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
    /// channel, a record not visible, a grant refused, a session that cannot be upgraded).
    #[error("{message}")]
    NotPermitted {
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
    /// Another writer held the store's lock longer than the store waits (another process on
    /// the same SQLite file); nothing was changed. Retry after `retry_after_seconds`.
    #[error("{message}")]
    Busy {
        /// What happened and what to do.
        message: String,
        /// Seconds to wait before retrying.
        retry_after_seconds: i64,
    },
    /// Something inside the library went wrong that the caller cannot fix (a kind of core
    /// failure this binding does not know yet); nothing was changed.
    #[error("{message}")]
    Internal {
        /// What went wrong.
        message: String,
    },
}

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
    pub fn message_str(&self) -> &str {
        match self {
            Self::InvalidInput { message }
            | Self::BulkInput { message }
            | Self::ImportRejected { message }
            | Self::NotFound { message }
            | Self::Conflict { message }
            | Self::LearningRefused { message }
            | Self::LogInRefused { message }
            | Self::AccountLocked { message }
            | Self::SessionExpired { message }
            | Self::NotPermitted { message }
            | Self::PasscodeRefused { message }
            | Self::RateLimited { message, .. }
            | Self::RecoveryLinkRefused { message, .. }
            | Self::Delivery { message }
            | Self::AuditBroken { message }
            | Self::Storage { message }
            | Self::Busy { message, .. }
            | Self::Internal { message } => message,
        }
    }
}

impl From<esr_core::values::ValueError> for EsrError {
    fn from(e: esr_core::values::ValueError) -> Self {
        Error::from(e).into()
    }
}

#[uniffi::export]
impl EsrError {
    /// The message, whatever the case: what went wrong and what to do about it.
    pub fn message(&self) -> String {
        self.message_str().to_owned()
    }
}

impl From<Error> for EsrError {
    fn from(e: Error) -> Self {
        let retry_after_seconds = e.retry_after().map(|d| d.num_seconds());
        Self::of_kind(
            e.kind(),
            e.to_string(),
            retry_after_seconds,
            e.link_problem(),
        )
    }
}

impl EsrError {
    /// The case for a kind of core failure, with its message and the details some kinds carry
    /// (a rate limit's wait, a refused link's reason).
    fn of_kind(
        kind: ErrorKind,
        message: String,
        retry_after_seconds: Option<i64>,
        link: Option<esr_core::passcode::LinkProblem>,
    ) -> Self {
        match kind {
            ErrorKind::InvalidInput => Self::InvalidInput { message },
            ErrorKind::BulkInput => Self::BulkInput { message },
            ErrorKind::ImportRejected => Self::ImportRejected { message },
            ErrorKind::NotFound => Self::NotFound { message },
            ErrorKind::Conflict => Self::Conflict { message },
            ErrorKind::LearningRefused => Self::LearningRefused { message },
            ErrorKind::LogInRefused => Self::LogInRefused { message },
            ErrorKind::AccountLocked => Self::AccountLocked { message },
            ErrorKind::SessionExpired => Self::SessionExpired { message },
            ErrorKind::NotPermitted => Self::NotPermitted { message },
            ErrorKind::PasscodeRefused => Self::PasscodeRefused { message },
            // Every core error of this kind has its reason; only the kinds test, with no error
            // to read one from, gets "not recognised".
            ErrorKind::RecoveryLinkRefused => Self::RecoveryLinkRefused {
                message,
                reason: link.map_or(LinkRefusal::NotRecognised, Into::into),
            },
            ErrorKind::RateLimited => Self::RateLimited {
                message,
                retry_after_seconds: retry_after_seconds.unwrap_or(0),
            },
            ErrorKind::Delivery => Self::Delivery { message },
            ErrorKind::AuditBroken => Self::AuditBroken { message },
            ErrorKind::Storage => Self::Storage { message },
            ErrorKind::Busy => Self::Busy {
                message,
                retry_after_seconds: retry_after_seconds.unwrap_or(1),
            },
            ErrorKind::Internal => Self::Internal { message },
            // ErrorKind is #[non_exhaustive]: a kind added to the core after this binding.
            other => Self::Internal {
                message: format!("{message} (an unclassified kind of failure: {other})"),
            },
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
                matches!(e, EsrError::NotPermitted { .. })
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
            (
                Error::Busy {
                    waited_ms: 5000,
                    retry_after_seconds: 1,
                },
                |e| {
                    matches!(
                        e,
                        EsrError::Busy {
                            retry_after_seconds: 1,
                            ..
                        }
                    )
                },
            ),
        ];
        for (core, is_right) in cases {
            let text = core.to_string();
            let e = EsrError::from(core);
            assert!(is_right(&e), "{text} became {e:?}");
            assert_eq!(e.message(), text);
            assert_eq!(e.to_string(), text);
        }
    }

    /// The case's name, as Swift and Python see it.
    fn case_name(e: &EsrError) -> &'static str {
        match e {
            EsrError::InvalidInput { .. } => "InvalidInput",
            EsrError::BulkInput { .. } => "BulkInput",
            EsrError::ImportRejected { .. } => "ImportRejected",
            EsrError::NotFound { .. } => "NotFound",
            EsrError::Conflict { .. } => "Conflict",
            EsrError::LearningRefused { .. } => "LearningRefused",
            EsrError::LogInRefused { .. } => "LogInRefused",
            EsrError::AccountLocked { .. } => "AccountLocked",
            EsrError::SessionExpired { .. } => "SessionExpired",
            EsrError::NotPermitted { .. } => "NotPermitted",
            EsrError::PasscodeRefused { .. } => "PasscodeRefused",
            EsrError::RecoveryLinkRefused { .. } => "RecoveryLinkRefused",
            EsrError::RateLimited { .. } => "RateLimited",
            EsrError::Delivery { .. } => "Delivery",
            EsrError::AuditBroken { .. } => "AuditBroken",
            EsrError::Storage { .. } => "Storage",
            EsrError::Busy { .. } => "Busy",
            EsrError::Internal { .. } => "Internal",
        }
    }

    #[test]
    fn every_kind_maps_to_its_own_case_of_the_same_name() {
        let mut seen = std::collections::HashSet::new();
        for &kind in ErrorKind::ALL {
            let e = EsrError::of_kind(kind, "what went wrong".into(), Some(5), None);
            let name = case_name(&e);
            assert!(
                seen.insert(name),
                "{kind} maps to {name}, as another kind does"
            );
            // The same name as the kind's snake_case one.
            let snake: String = name
                .chars()
                .enumerate()
                .flat_map(|(i, c)| {
                    let sep = (i > 0 && c.is_ascii_uppercase()).then_some('_');
                    sep.into_iter()
                        .chain(std::iter::once(c.to_ascii_lowercase()))
                })
                .collect();
            assert_eq!(snake, kind.as_str());
            assert_eq!(e.message(), "what went wrong", "{kind}");
        }
    }

    #[test]
    fn a_foreign_failure_is_a_delivery_error() {
        let e = EsrError::from(uniffi::UnexpectedUniFFICallbackError::new("boom"));
        assert!(matches!(e, EsrError::Delivery { .. }));
        assert!(e.message().contains("boom"));
    }
}
