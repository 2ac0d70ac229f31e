//! The service: [`Esr`], the library's front door over a store, a clock and an RNG; its
//! [`Config`]; and the [`Actor`] of each call.
//!
//! Every method of [`Esr`] either applies fully, with its audit entries in the same store
//! transaction, or returns an [`Error`] and changes nothing. An [`Actor`] is a
//! user's session, whose functions are checked by the access decision
//! ([`decide`](crate::access::decide)), or a named system process (a recruitment feed, the trust's
//! set-up), trusted and named in the audit trail. [`Config`] holds the service's own settings
//! (failed log-ins before a lock, password hashing cost, session lifetime, passcode limits),
//! range-checked by [`Esr::with_config`]; trust settings live with each trust.
//!
//! Each area's operations are in that area's `ops.rs` (listed in the area's module docs and
//! the [guide](crate::guide)); this module holds the constructors and the transaction helpers
//! every area shares.

use crate::error::{Error, Result};
use crate::people::{Password, PasswordHash, PasswordHashing};
use crate::store::InMemoryStore;
use crate::store::Store;
use crate::values::Clock;
use crate::values::SecureRandom;
use crate::values::{SessionId, clean_text};
use chrono::TimeDelta;
use std::fmt;
use std::sync::Mutex;

mod retention;
mod tx;
pub use retention::*;
pub(crate) use tx::*;

// ----- The audit keys, handed to every transaction -----------------------------------------

/// The store, with the audit key ring every transaction chains its audit entries with.
///
/// Every area's operations call `self.store.transaction(..)` and write entries with
/// [`audit`]; rather than thread the ring through every one of them, this wrapper makes the
/// ring the current one on this thread while the transaction runs (the store runs the closure
/// on the calling thread), and [`audit`] reads it there.
pub(crate) struct KeyedStore<S> {
    pub(crate) inner: S,
    pub(crate) keys: std::sync::RwLock<Option<std::sync::Arc<crate::audit::AuditKeys>>>,
}

std::thread_local! {
    static CURRENT_AUDIT_KEYS: std::cell::RefCell<Option<std::sync::Arc<crate::audit::AuditKeys>>> =
        const { std::cell::RefCell::new(None) };
}

/// Puts back the ring that was current before a transaction, even if it panicked.
struct RestoreAuditKeys(Option<std::sync::Arc<crate::audit::AuditKeys>>);

impl Drop for RestoreAuditKeys {
    fn drop(&mut self) {
        let old = self.0.take();
        CURRENT_AUDIT_KEYS.with(|c| *c.borrow_mut() = old);
    }
}

/// The audit key ring of the transaction running on this thread, if the service has one.
pub(crate) fn current_audit_keys() -> Option<std::sync::Arc<crate::audit::AuditKeys>> {
    CURRENT_AUDIT_KEYS.with(|c| c.borrow().clone())
}

impl<S: Store> Store for KeyedStore<S> {
    /// [`Store::transaction`], with the service's audit keys current while `f` runs.
    fn transaction<R>(
        &self,
        f: impl FnMut(&mut dyn crate::store::StoreTx) -> Result<R>,
    ) -> Result<R> {
        let _restore = self.keys_current();
        self.inner.transaction(f)
    }

    /// [`Store::read`] of the inner store (its reader connections), with the keys current too.
    fn read<R>(&self, f: impl FnMut(&dyn crate::store::StoreTx) -> Result<R>) -> Result<R> {
        let _restore = self.keys_current();
        self.inner.read(f)
    }
}

impl<S: Store> KeyedStore<S> {
    /// Makes the service's audit key ring current on this thread until the guard drops.
    fn keys_current(&self) -> RestoreAuditKeys {
        let keys = self.keys();
        RestoreAuditKeys(CURRENT_AUDIT_KEYS.with(|c| std::mem::replace(&mut *c.borrow_mut(), keys)))
    }

    /// The service's audit key ring.
    pub(crate) fn keys(&self) -> Option<std::sync::Arc<crate::audit::AuditKeys>> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Settings of the service itself (trust settings live with each trust).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Config {
    /// Consecutive failed password log-ins that lock an account (1 to 100; default 5).
    pub max_failed_logins: u32,
    /// Argon2id cost for new password hashes.
    pub password_hashing: PasswordHashing,
    /// How long a session lasts from log-in, whatever is done in it (1 minute to 12 hours, the
    /// most NIST SP 800-63B allows at AAL2; default 12 hours). Activity never extends it. An
    /// expired session answers [`Error::SessionExpired`].
    pub session_lifetime: TimeDelta,
    /// How long an internet session, upgraded or not, may go unused before it stops working
    /// (1 to 30 minutes; default 30, NIST SP 800-63B AAL2's most). A timed-out session answers
    /// [`Error::SessionIdle`].
    pub internet_idle_timeout: TimeDelta,
    /// How long an HSCN (smartcard) session may go unused (1 minute to 12 hours; default 30
    /// minutes). On the NHS network the smartcard's removal also locks the workstation, so a
    /// trust may relax this; it is still never longer than the session's lifetime.
    pub hscn_idle_timeout: TimeDelta,
    /// Limits on one-time passcodes and recovery links.
    pub passcodes: crate::passcode::PasscodePolicy,
    /// The least time an account-recovery request takes to answer, matched or not (0 to 10
    /// seconds; default 150 ms), so that its timing does not tell whether an e-mail address
    /// is known. Make it longer than a matched request takes, e-mail hand-off included (an
    /// [`EmailSender`](crate::passcode::EmailSender) should queue, not deliver inline).
    pub recovery_answer_time: std::time::Duration,
    /// Unmatched account-recovery requests audited one by one per trust in each
    /// [`RECOVERY_FLOOD_WINDOW`]; beyond it they are counted and audited as one
    /// [`AuditEvent::RecoveryRequestsAggregated`](crate::audit::AuditEvent::RecoveryRequestsAggregated)
    /// entry (per process), so a flood cannot grow the trail without bound (1 to 10,000;
    /// default 100).
    pub max_unmatched_recovery_audits: u32,
    /// How long an access request (a OneForm) stays open: one not granted within this time of
    /// being raised expires, and a new one must be raised (1 to 365 days; default 28 days).
    pub access_request_lifetime: TimeDelta,
    /// Who hands queued texts and e-mails to the gateways: by default the operation that
    /// queued them, right after its commit ([`Relay::AfterCommit`](crate::passcode::Relay));
    /// or the embedder, with [`Esr::deliver_pending`]. See the guide's
    /// [delivery](crate::guide::delivery) page.
    pub relay: crate::passcode::Relay,
    /// How [`Esr::deliver_pending`] retries a message the gateway refused.
    pub delivery_retries: crate::passcode::DeliveryRetries,
    /// How long finished challenges, sessions and outbox messages are kept before
    /// [`Esr::purge`] removes them (default: 1 day each).
    pub retention: Retention,
    /// Authenticator apps: the shape of new ones and the window of time steps accepted.
    pub authenticators: crate::authenticator::AuthenticatorPolicy,
}

/// The window over which [`Config::max_unmatched_recovery_audits`] applies: 10 minutes.
pub const RECOVERY_FLOOD_WINDOW: TimeDelta = TimeDelta::minutes(10);

impl Default for Config {
    fn default() -> Self {
        Self {
            max_failed_logins: 5,
            password_hashing: PasswordHashing::default(),
            session_lifetime: TimeDelta::hours(12),
            internet_idle_timeout: TimeDelta::minutes(30),
            hscn_idle_timeout: TimeDelta::minutes(30),
            passcodes: crate::passcode::PasscodePolicy::default(),
            recovery_answer_time: std::time::Duration::from_millis(150),
            max_unmatched_recovery_audits: 100,
            access_request_lifetime: TimeDelta::days(28),
            relay: crate::passcode::Relay::default(),
            delivery_retries: crate::passcode::DeliveryRetries::default(),
            retention: Retention::default(),
            authenticators: crate::authenticator::AuthenticatorPolicy::default(),
        }
    }
}

/// Who is acting: a user in a session (whose functions are checked), or a process of the
/// embedding system (a new-starter feed, the trust's set-up), which is trusted and audited by name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Actor {
    /// A user, through a live session.
    Session(SessionId),
    /// A named process of the embedding system.
    System(String),
}

impl Actor {
    /// A system process, named for the audit trail (`"nhs-jobs-feed"`).
    pub fn system(process: &str) -> Result<Self> {
        Ok(Self::System(clean_text(
            "process name",
            process,
            crate::values::limits::MAX_ACTOR_NAME_CHARS,
        )?))
    }
}

impl From<SessionId> for Actor {
    fn from(id: SessionId) -> Self {
        Self::Session(id)
    }
}

/// The library's front door: the rules of DOMAIN.md over a store, a clock and an RNG.
///
/// Every method either applies fully and records its audit entries in the same transaction, or
/// returns an [`Error`] and changes nothing.
pub struct Esr<S: Store = InMemoryStore, C: Clock = crate::values::SystemClock> {
    /// The store, behind the wrapper that hands each transaction the audit keys.
    pub(crate) store: KeyedStore<S>,
    pub(crate) clock: C,
    pub(crate) rng: Mutex<Box<dyn SecureRandom>>,
    pub(crate) config: Config,
    /// Where texted codes go.
    pub(crate) sms: Option<std::sync::Arc<dyn crate::passcode::SmsSender>>,
    /// Where recovery e-mails go.
    pub(crate) email: Option<std::sync::Arc<dyn crate::passcode::EmailSender>>,
    /// The passcode key ring; without one, nothing that needs a key is issued or verified.
    pub(crate) keys: std::sync::RwLock<Option<crate::passcode::SharedKeys>>,
    /// The authenticator key ring; without one, no authenticator is enrolled or checked.
    pub(crate) authenticator_keys:
        std::sync::RwLock<Option<crate::authenticator::SharedAuthenticatorKeys>>,
    /// Unmatched recovery requests per trust in the current flood window (see
    /// [`Config::max_unmatched_recovery_audits`]).
    pub(crate) recovery_flood:
        Mutex<std::collections::HashMap<crate::values::VpdCode, crate::passcode::FloodWindow>>,
    /// A hash to verify against when the username is unknown or has no password, so that those
    /// take as long as a wrong password. Made on first use with the configured cost.
    dummy_hash: std::sync::OnceLock<Option<PasswordHash>>,
}

impl<S: Store, C: Clock> fmt::Debug for Esr<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Esr")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S: Store, C: Clock> Esr<S, C> {
    /// A service over `store` and `clock`, drawing randomness from `rng` (any `rand_core`
    /// cryptographic generator; `getrandom::SysRng` in production).
    pub fn with_rng(store: S, clock: C, rng: impl SecureRandom + 'static) -> Self {
        Self {
            store: KeyedStore {
                inner: store,
                keys: std::sync::RwLock::new(None),
            },
            clock,
            rng: Mutex::new(Box::new(rng)),
            config: Config::default(),
            sms: None,
            email: None,
            keys: std::sync::RwLock::new(None),
            authenticator_keys: std::sync::RwLock::new(None),
            recovery_flood: Mutex::new(std::collections::HashMap::new()),
            dummy_hash: std::sync::OnceLock::new(),
        }
    }

    /// A service with the operating system's RNG.
    #[cfg(feature = "getrandom")]
    pub fn new(store: S, clock: C) -> Self {
        Self::with_rng(store, clock, getrandom::SysRng)
    }

    /// Replaces the service settings, checking them.
    pub fn with_config(mut self, config: Config) -> Result<Self> {
        if !(1..=100).contains(&config.max_failed_logins) {
            return Err(Error::invalid(
                "max_failed_logins",
                "it must be from 1 to 100 (NIST SP 800-63B allows at most 100)",
            ));
        }
        config.password_hashing.check()?;
        config.passcodes.check()?;
        config.authenticators.check()?;
        if config.session_lifetime < TimeDelta::minutes(1)
            || config.session_lifetime > TimeDelta::hours(12)
        {
            return Err(Error::invalid(
                "session_lifetime",
                "it must be from 1 minute to 12 hours (NIST SP 800-63B AAL2 allows at most 12 hours)",
            ));
        }
        if config.internet_idle_timeout < TimeDelta::minutes(1)
            || config.internet_idle_timeout > TimeDelta::minutes(30)
        {
            return Err(Error::invalid(
                "internet_idle_timeout",
                "it must be from 1 to 30 minutes (NIST SP 800-63B AAL2 allows at most 30)",
            ));
        }
        if config.hscn_idle_timeout < TimeDelta::minutes(1)
            || config.hscn_idle_timeout > TimeDelta::hours(12)
        {
            return Err(Error::invalid(
                "hscn_idle_timeout",
                "it must be from 1 minute to 12 hours",
            ));
        }
        if config.recovery_answer_time > std::time::Duration::from_secs(10) {
            return Err(Error::invalid(
                "recovery_answer_time",
                "it must be from 0 to 10 seconds",
            ));
        }
        if !(1..=10_000).contains(&config.max_unmatched_recovery_audits) {
            return Err(Error::invalid(
                "max_unmatched_recovery_audits",
                "it must be from 1 to 10,000",
            ));
        }
        if config.access_request_lifetime < TimeDelta::days(1)
            || config.access_request_lifetime > TimeDelta::days(365)
        {
            return Err(Error::invalid(
                "access_request_lifetime",
                "it must be from 1 to 365 days",
            ));
        }
        config.delivery_retries.check()?;
        config.retention.check(&config.passcodes)?;
        self.config = config;
        self.dummy_hash = std::sync::OnceLock::new();
        Ok(self)
    }

    /// The store, for embedders that read it directly.
    pub fn store(&self) -> &S {
        &self.store.inner
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Spends the time a real password check would, for an unknown user.
    pub(crate) fn waste_a_hash(&self, password: &Password) {
        let h = self.dummy_hash.get_or_init(|| {
            self.config
                .password_hashing
                .hash(&Password::new("esr dummy password"), b"esr-dummy-salt!!")
                .ok()
        });
        if let Some(h) = h {
            let _ = self.config.password_hashing.verify(password, h);
        }
    }

    pub(crate) fn random16(&self) -> Result<[u8; 16]> {
        let mut b = [0u8; 16];
        self.rng
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .fill(&mut b)
            .map_err(Error::Randomness)?;
        Ok(b)
    }
}
