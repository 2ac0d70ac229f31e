//! The values' own error: what a value type says when it refuses its input. It converts into
//! [`crate::Error`] (as [`crate::Error::InvalidInput`] or [`crate::Error::UsernamesExhausted`])
//! with the same message, so `?` works in any function that returns the crate's error, while the
//! value types at the bottom of the crate import nothing of the domain above them.

use super::VpdCode;

/// Why a value was refused. Each message says what was wrong and what a valid value looks like,
/// and never repeats a long or secret input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// A value given to the library is not valid.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was being read (`"username"`, `"VPD code"`).
        what: &'static str,
        /// Why it was refused and what a valid one looks like.
        reason: String,
    },
    /// Every sequence number for a username stem is taken.
    #[error(
        "every username {vpd}{stem}01 to {vpd}{stem}999 is taken; record the person's name in a distinct form (a middle name or a second surname)"
    )]
    UsernamesExhausted {
        /// The trust.
        vpd: VpdCode,
        /// The initial-and-surname stem.
        stem: String,
    },
}

impl ValueError {
    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            what,
            reason: reason.into(),
        }
    }
}
