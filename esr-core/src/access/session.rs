//! Sessions: a log-in on one channel, with its own upgrade state.

use crate::access::Channel;
use crate::error::Error;
use crate::values::username::Username;
use crate::values::{SessionId, VpdCode};
use chrono::{DateTime, Utc};
use std::fmt;

/// A logged-in session. Every internet session upgrades on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Session {
    /// The session's identifier.
    pub id: SessionId,
    /// The trust.
    pub vpd: VpdCode,
    /// Who is logged in.
    pub username: Username,
    /// How they reached ESR.
    pub channel: Channel,
    /// When they logged in.
    pub started_at: DateTime<Utc>,
    /// When the session stops working, however it is used (log-in plus the configured
    /// lifetime). The session is usable strictly before this instant.
    pub expires_at: DateTime<Utc>,
    /// Set once the session is upgraded with a second factor.
    pub upgrade: Option<Upgrade>,
    /// Set when the session ends.
    pub ended: Option<SessionEnd>,
}

impl Session {
    /// Whether the session has not been ended (it may still have expired: see
    /// [`Session::is_live_at`]).
    pub fn is_live(&self) -> bool {
        self.ended.is_none()
    }
    /// Whether the session is usable at `now`: not ended, and `now` before its expiry.
    pub fn is_live_at(&self, now: DateTime<Utc>) -> bool {
        self.ended.is_none() && now < self.expires_at
    }
    /// Whether the session has been upgraded.
    pub fn is_upgraded(&self) -> bool {
        self.upgrade.is_some()
    }
    /// What the session may reach by how it was authenticated: a smartcard on HSCN, an
    /// internet log-in, or an internet log-in upgraded with a second factor.
    pub fn access_level(&self) -> AccessLevel {
        match (self.channel, self.is_upgraded()) {
            (Channel::Hscn, _) => AccessLevel::Smartcard,
            (Channel::Internet, false) => AccessLevel::Standard,
            (Channel::Internet, true) => AccessLevel::Upgraded,
        }
    }
}

/// What a live session may reach, by how it was authenticated ([`Session::access_level`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessLevel {
    /// On HSCN with a smartcard: everything the user's URPs grant.
    Smartcard,
    /// Over the internet with a password: employee-level functions only.
    Standard,
    /// Over the internet, upgraded with a one-time passcode: also the functions the trust's
    /// Upgrade Access allows.
    Upgraded,
}

/// A session's upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Upgrade {
    /// When it was upgraded.
    pub at: DateTime<Utc>,
    /// The second factor that verified it (`"sms-otp"`).
    pub method: String,
}

/// How and when a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SessionEnd {
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: SessionEndReason,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SessionEndReason {
    /// The user logged out.
    LoggedOut,
    /// The account was suspended.
    AccountSuspended,
    /// The account was ended.
    AccountEnded,
}

impl fmt::Display for SessionEndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LoggedOut => "logged out",
            Self::AccountSuspended => "account suspended",
            Self::AccountEnded => "account ended",
        })
    }
}

/// Evidence that the embedding application authenticated a smartcard on the NHS network. The
/// library does not talk to smartcards; it records the card's identifier in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmartcardAuthentication {
    card_id: String,
}

impl SmartcardAuthentication {
    /// Records that the caller has verified the smartcard `card_id` for this user.
    pub fn verified_by_caller(card_id: &str) -> Result<Self, Error> {
        Ok(Self {
            card_id: crate::values::clean_text(
                "smartcard id",
                card_id,
                crate::values::limits::MAX_SMARTCARD_ID_CHARS,
            )?,
        })
    }
    /// The card's identifier.
    pub fn card_id(&self) -> &str {
        &self.card_id
    }
}

/// Proof that a second factor was verified for one particular session. The passcode service
/// issues these; an embedder with its own second factor may make one with
/// [`StepUpProof::verified_by_caller`].
#[derive(Clone, PartialEq, Eq)]
pub struct StepUpProof {
    pub(crate) session: SessionId,
    pub(crate) method: String,
}

impl StepUpProof {
    /// Records that the caller verified a second factor (`method`, such as `"trust-mfa"`) for
    /// `session`. The proof upgrades that session only.
    pub fn verified_by_caller(session: SessionId, method: &str) -> Result<Self, Error> {
        Ok(Self {
            session,
            method: crate::values::clean_text(
                "step-up method",
                method,
                crate::values::limits::MAX_STEP_UP_METHOD_CHARS,
            )?,
        })
    }
    /// The session the proof is for.
    pub fn session(&self) -> SessionId {
        self.session
    }
}

impl fmt::Debug for StepUpProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StepUpProof({:?}, {})", self.session, self.method)
    }
}

/// Proof that the user entered a code sent to `mobile`, in `session`: what registering or
/// changing a mobile number needs. The passcode service issues these; an embedder confirming the
/// number its own way may make one with [`MobileConfirmation::verified_by_caller`].
#[derive(Clone, PartialEq, Eq)]
pub struct MobileConfirmation {
    pub(crate) session: SessionId,
    pub(crate) mobile: crate::values::MobileNumber,
}

impl MobileConfirmation {
    /// Records that the caller confirmed, in `session`, that the user receives texts at `mobile`.
    pub fn verified_by_caller(session: SessionId, mobile: crate::values::MobileNumber) -> Self {
        Self { session, mobile }
    }
    /// The number confirmed.
    pub fn mobile(&self) -> &crate::values::MobileNumber {
        &self.mobile
    }
}

impl fmt::Debug for MobileConfirmation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MobileConfirmation({:?}, {:?})",
            self.session, self.mobile
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn session(channel: Channel, upgraded: bool) -> Session {
        let at = DateTime::from_timestamp(1_795_338_000, 0).unwrap_or_default();
        Session {
            id: SessionId::from_bytes([3; 16]),
            vpd: "297".parse().unwrap_or_else(|e| panic!("{e}")),
            username: "297ECONROY01".parse().unwrap_or_else(|e| panic!("{e}")),
            channel,
            started_at: at,
            expires_at: at + chrono::TimeDelta::hours(12),
            upgrade: upgraded.then(|| Upgrade {
                at,
                method: "sms-otp".into(),
            }),
            ended: None,
        }
    }

    #[test]
    fn a_smartcard_session_is_smartcard_level_and_an_internet_one_standard_until_upgraded() {
        assert_eq!(
            session(Channel::Hscn, false).access_level(),
            AccessLevel::Smartcard
        );
        assert_eq!(
            session(Channel::Hscn, true).access_level(),
            AccessLevel::Smartcard
        );
        assert_eq!(
            session(Channel::Internet, false).access_level(),
            AccessLevel::Standard
        );
        assert_eq!(
            session(Channel::Internet, true).access_level(),
            AccessLevel::Upgraded
        );
    }
}
