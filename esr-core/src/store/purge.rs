//! What a purge may remove: the retention rules every adapter applies in
//! [`StoreTx::purge`](crate::store::StoreTx::purge), as named pure functions.

use crate::access::Session;
use crate::passcode::{Challenge, ChallengeStatus, LINK_LIFETIME, OutboxMessage, OutboxStatus};
use chrono::{DateTime, Utc};

/// The instants before which finished records may be removed, computed by
/// [`Esr::purge`](crate::Esr::purge) from the [`Retention`](crate::Retention) policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeCutoffs {
    /// Challenges settled (or, pending, expired) before this.
    pub challenges: DateTime<Utc>,
    /// Sessions ended (or timed out) before this.
    pub sessions: DateTime<Utc>,
    /// Outbox messages delivered, failed or dropped before this.
    pub messages: DateTime<Utc>,
}

/// How many records a purge removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PurgeCounts {
    /// Challenges.
    pub challenges: u64,
    /// Sessions.
    pub sessions: u64,
    /// Outbox messages.
    pub messages: u64,
}

impl PurgeCounts {
    /// Whether nothing was removed.
    pub fn is_empty(&self) -> bool {
        self.challenges == 0 && self.sessions == 0 && self.messages == 0
    }
}

/// Rule: a challenge may be purged once it is finished (settled, or expired while pending) and
/// finished before the cutoff. A pending challenge is finished only at its expiry, so a usable
/// one is never purged (the cutoff is never after the present).
pub fn challenge_purgeable(c: &Challenge, cut: &PurgeCutoffs) -> bool {
    let ended = match c.status {
        ChallengeStatus::Pending => c.expires_at,
        _ => c.settled_at.unwrap_or(c.expires_at),
    };
    ended < cut.challenges
}

/// Rule: a session may be purged once it ended, or stopped working (its idle expiry, never
/// after its absolute expiry), before the cutoff. A live session is never purged.
pub fn session_purgeable(s: &Session, cut: &PurgeCutoffs) -> bool {
    let ended = match &s.ended {
        Some(e) => e.at,
        None => s.idle_expires_at(),
    };
    ended < cut.sessions
}

/// Rule: an outbox message may be purged once it was settled (delivered, failed or dropped)
/// before the cutoff, or, still pending, was queued more than [`LINK_LIFETIME`] (the longest a
/// challenge lives) before the cutoff: its challenge has expired, so it would be dropped.
pub fn message_purgeable(m: &OutboxMessage, cut: &PurgeCutoffs) -> bool {
    match m.status {
        OutboxStatus::Pending => crate::values::plus(m.queued_at, LINK_LIFETIME) < cut.messages,
        _ => m.settled_at.unwrap_or(m.queued_at) < cut.messages,
    }
}
