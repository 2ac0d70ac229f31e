//! Sessions: a log-in on one channel, with its own upgrade state.

use crate::access::Channel;
use crate::error::Error;
use crate::values::username::Username;
use crate::values::{SessionId, SessionKey, SessionRef, VpdCode};
use chrono::{DateTime, TimeDelta, Utc};
use std::fmt;

/// How finely a session's last activity is recorded: a request writes it only when the stored
/// value is at least this old, so that reads stay reads. A session may therefore time out up
/// to this much early after inactivity, never late.
pub const ACTIVITY_GRANULARITY: TimeDelta = TimeDelta::minutes(1);

/// A logged-in session. Every internet session upgrades on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Session {
    /// The session's identifier: the bearer secret. Only its holder knows it: a store keeps
    /// the session under its [`key`](Session::key) and never stores the id, and serde skips
    /// it, so a session read back from a store (other than by [`Esr::session`](crate::Esr::session)
    /// with the id in hand) carries [`SessionId::UNKNOWN`].
    #[cfg_attr(feature = "serde", serde(skip, default = "unknown_session_id"))]
    pub id: SessionId,
    /// What the store keys the session by: the SHA-256 of its id ([`SessionId::key`]).
    pub key: SessionKey,
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
    /// When the session was last used, recorded to within [`ACTIVITY_GRANULARITY`]. A session
    /// stored before this field existed reads as never used, and so as timed out.
    #[cfg_attr(feature = "serde", serde(default))]
    pub last_active_at: DateTime<Utc>,
    /// How long the session may go unused before it stops working (from the service's
    /// [`Config`](crate::Config) for its channel when it was opened). A session stored before
    /// this field existed reads as zero, and so as timed out.
    #[cfg_attr(feature = "serde", serde(default))]
    pub idle_timeout: TimeDelta,
}

#[cfg(feature = "serde")]
fn unknown_session_id() -> SessionId {
    SessionId::UNKNOWN
}

impl Session {
    /// The one-way reference audit entries name the session by ([`SessionKey::audit_ref`]).
    pub fn audit_ref(&self) -> SessionRef {
        self.key.audit_ref()
    }
    /// Whether the session has not been ended (it may still have expired: see
    /// [`Session::is_live_at`]).
    pub fn is_live(&self) -> bool {
        self.ended.is_none()
    }
    /// Whether the session is usable at `now`: not ended, `now` before its absolute expiry, and
    /// `now` before its idle expiry ([`Session::idle_expires_at`]).
    pub fn is_live_at(&self, now: DateTime<Utc>) -> bool {
        self.ended.is_none() && now < self.expires_at && !self.is_idle_at(now)
    }
    /// When the session stops working if it is not used again: its last recorded activity
    /// plus its idle timeout, never after its absolute expiry.
    pub fn idle_expires_at(&self) -> DateTime<Utc> {
        crate::values::plus(self.last_active_at, self.idle_timeout).min(self.expires_at)
    }
    /// Whether the session has gone unused for its idle timeout at `now`.
    pub fn is_idle_at(&self, now: DateTime<Utc>) -> bool {
        now >= crate::values::plus(self.last_active_at, self.idle_timeout)
    }
    /// Whether a request at `now` should record activity: the stored activity is at least
    /// [`ACTIVITY_GRANULARITY`] old. Recording never moves the absolute expiry.
    pub fn activity_due_at(&self, now: DateTime<Utc>) -> bool {
        now - self.last_active_at >= ACTIVITY_GRANULARITY
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

/// Why a session ended. (A session that times out is not ended: it is refused from then on,
/// with [`Error::SessionIdle`] or [`Error::SessionExpired`].)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SessionEndReason {
    /// The user logged out.
    LoggedOut,
    /// The account was suspended.
    AccountSuspended,
    /// The account was ended.
    AccountEnded,
    /// The account locked after too many failed log-ins.
    AccountLocked,
    /// The user changed their password in another session.
    PasswordChanged,
    /// The password was reset with an e-mailed link.
    PasswordReset,
    /// A user administrator (or the embedding system) set the password.
    PasswordSetByAdministrator,
    /// The user ended it from another session ("log out of my other sessions").
    EndedByUser,
    /// A user administrator (or the embedding system) ended it.
    EndedByAdministrator,
}

impl SessionEndReason {
    /// A short stable name, as the audit trail and the bindings give it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoggedOut => "logged out",
            Self::AccountSuspended => "account suspended",
            Self::AccountEnded => "account ended",
            Self::AccountLocked => "account locked",
            Self::PasswordChanged => "password changed",
            Self::PasswordReset => "password reset by link",
            Self::PasswordSetByAdministrator => "password set by administrator",
            Self::EndedByUser => "ended by user",
            Self::EndedByAdministrator => "ended by administrator",
        }
    }
}

impl fmt::Display for SessionEndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a user (or a user administrator) is shown of one live session, in
/// [`Esr::sessions_of`](crate::Esr::sessions_of): never the bearer id, only its one-way
/// reference, which [`Esr::end_session`](crate::Esr::end_session) takes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SessionSummary {
    /// The session's one-way reference (as in the audit trail).
    pub reference: crate::values::SessionRef,
    /// How they reached ESR.
    pub channel: Channel,
    /// When they logged in.
    pub started_at: DateTime<Utc>,
    /// When it was last used (to within [`ACTIVITY_GRANULARITY`]).
    pub last_active_at: DateTime<Utc>,
    /// When it stops working if not used again.
    pub idle_expires_at: DateTime<Utc>,
    /// When it stops working in any case.
    pub expires_at: DateTime<Utc>,
    /// Whether it is upgraded with a second factor.
    pub upgraded: bool,
    /// Whether it is the session that asked.
    pub current: bool,
}

impl SessionSummary {
    /// The summary of `s`; `current` when `s` is the asking session.
    pub fn of(s: &Session, current: bool) -> Self {
        Self {
            reference: s.audit_ref(),
            channel: s.channel,
            started_at: s.started_at,
            last_active_at: s.last_active_at,
            idle_expires_at: s.idle_expires_at(),
            expires_at: s.expires_at,
            upgraded: s.is_upgraded(),
            current,
        }
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
            key: SessionId::from_bytes([3; 16]).key(),
            vpd: "297".parse().unwrap_or_else(|e| panic!("{e}")),
            username: "297ECONROY01".parse().unwrap_or_else(|e| panic!("{e}")),
            channel,
            started_at: at,
            expires_at: at + chrono::TimeDelta::hours(12),
            last_active_at: at,
            idle_timeout: chrono::TimeDelta::minutes(30),
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
