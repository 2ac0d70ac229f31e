//! What is stored of a person's authenticator, and the service's policy for them.

use crate::authenticator::{SealedSecret, TotpParams};
use crate::error::{Error, Result};
use crate::values::VpdCode;
use crate::values::username::Username;
use chrono::{DateTime, Utc};

/// A person's authenticator app, as stored: one per account, keyed by username. Its secret is
/// sealed ([`SealedSecret`]); `Debug` shows only the key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticator {
    /// The trust.
    pub vpd: VpdCode,
    /// Whose it is.
    pub username: Username,
    /// The shared secret, sealed.
    pub sealed: SealedSecret,
    /// Its shape (hash, digits, period).
    pub params: TotpParams,
    /// When it was enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// When its first valid code was entered; until then it upgrades nothing.
    pub activated_at: Option<DateTime<Utc>>,
    /// The latest time step accepted: no step at or before it is ever accepted again.
    pub last_step: Option<u64>,
}

impl Authenticator {
    /// Whether it has been confirmed with a first valid code.
    pub fn is_active(&self) -> bool {
        self.activated_at.is_some()
    }
}

/// How authenticator apps are set up and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AuthenticatorPolicy {
    /// The shape of new authenticators (default SHA-1, 6 digits, 30 seconds: what every app
    /// reads).
    pub params: TotpParams,
    /// Time steps accepted either side of the current one, for clock drift and typing time (0
    /// to 3; default 1, as RFC 6238 §5.2 recommends).
    pub window: u8,
}

impl Default for AuthenticatorPolicy {
    fn default() -> Self {
        Self {
            params: TotpParams::default(),
            window: 1,
        }
    }
}

impl AuthenticatorPolicy {
    /// Checks every setting is in range.
    pub fn check(&self) -> Result<()> {
        self.params.check()?;
        if self.window > 3 {
            return Err(Error::invalid(
                "authenticator window",
                "it must be from 0 to 3 time steps either side (1 is usual)",
            ));
        }
        Ok(())
    }
}
