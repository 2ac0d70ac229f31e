//! The access operations of [`Esr`](crate::Esr): logging in, sessions, functions and decisions,
//! mobile registration and the session upgrade.

use crate::access::*;
use crate::access::{AccessDecision, Channel, allowed_functions, decide, has_internet_access};
use crate::access::{
    MobileConfirmation, Session, SessionEnd, SessionEndReason, SmartcardAuthentication, StepUpProof,
};
use crate::audit::{AuditActor, AuditEvent};
use crate::error::{Error, Result};
use crate::people::{AccountState, Password, Person};
use crate::service::*;
use crate::store::Store;
use crate::urp::Function;
use crate::values::Clock;
use crate::values::SessionId;
use crate::values::username::Username;
use std::collections::BTreeSet;

/// The outcome of checking a password, applied in a second transaction so the slow hash runs
/// outside the store's lock.
enum PasswordOutcome {
    Session(Session),
    Refused(Error),
}

impl<S: Store, C: Clock> Esr<S, C> {
    /// Logs in over the internet with username and password. A wrong username and a wrong
    /// password give the same [`Error::InvalidCredentials`]; after
    /// [`Config::max_failed_logins`] consecutive failures the account locks.
    ///
    /// A password over [`crate::values::limits::MAX_PASSWORD_BYTES`] is refused with
    /// [`Error::InvalidInput`] before anything is hashed or looked up (no right password is so
    /// long), and counts as no attempt.
    pub fn log_in_with_password(&self, username: &str, password: &Password) -> Result<Session> {
        password.check_size()?;
        let Ok(username) = username.parse::<Username>() else {
            self.waste_a_hash(password);
            return Err(Error::InvalidCredentials);
        };
        // First read, then hash outside the store's lock, then apply the outcome.
        let account = self.store.transaction(|tx| tx.account(&username))?;
        let Some(account) = account else {
            self.waste_a_hash(password);
            return Err(Error::InvalidCredentials);
        };
        if account.state == AccountState::Locked {
            return Err(Error::AccountLocked(username));
        }
        let hash = account.password_hash.clone();
        let ok = match &hash {
            Some(h) => self.config.password_hashing.verify(password, h),
            None => {
                self.waste_a_hash(password);
                false
            }
        };
        let session_id = SessionId::from_bytes(self.random16()?);
        let now = self.clock.now();
        let max = self.config.max_failed_logins;
        let lifetime = self.config.session_lifetime;
        let outcome = self.store.transaction(|tx| {
            let vpd = username.vpd();
            let mut acc = account_of(tx, &username)?;
            if acc.password_hash != hash {
                // The password changed while we were checking: judge again from the start.
                return Ok(PasswordOutcome::Refused(Error::InvalidCredentials));
            }
            if !ok {
                if acc.state != AccountState::Active {
                    // Only the right password learns that an account is suspended or ended.
                    return Ok(PasswordOutcome::Refused(Error::InvalidCredentials));
                }
                acc.failed_logins = acc.failed_logins.saturating_add(1);
                audit(
                    tx,
                    vpd,
                    now,
                    AuditActor::Anonymous,
                    AuditEvent::LoginFailed {
                        username: username.clone(),
                        failures: acc.failed_logins,
                    },
                )?;
                let refusal = if acc.failed_logins >= max {
                    acc.state = AccountState::Locked;
                    acc.state_changed_at = now;
                    audit(
                        tx,
                        vpd,
                        now,
                        AuditActor::System("log-in lockout".into()),
                        AuditEvent::AccountStateChanged {
                            username: username.clone(),
                            from: AccountState::Active.to_string(),
                            to: AccountState::Locked.to_string(),
                            reason: format!("{max} consecutive failed log-ins"),
                        },
                    )?;
                    Error::AccountLocked(username.clone())
                } else {
                    Error::InvalidCredentials
                };
                tx.put_account(&acc)?;
                return Ok(PasswordOutcome::Refused(refusal));
            }
            if acc.state != AccountState::Active {
                return Ok(PasswordOutcome::Refused(state_error(&acc)));
            }
            let trust = trust_of(tx, vpd)?;
            let held = held_urps(tx, &username)?;
            if !has_internet_access(&held, &trust.settings, acc.internet_access_approved) {
                return Ok(PasswordOutcome::Refused(Error::NoInternetAccess(
                    username.clone(),
                )));
            }
            acc.failed_logins = 0;
            tx.put_account(&acc)?;
            let session = open_session(
                tx,
                session_id,
                &username,
                Channel::Internet,
                now,
                lifetime,
                None,
            )?;
            Ok(PasswordOutcome::Session(session))
        })?;
        match outcome {
            PasswordOutcome::Session(s) => Ok(s),
            PasswordOutcome::Refused(e) => Err(e),
        }
    }

    /// Opens an HSCN session for a user whose smartcard the embedding application has verified.
    pub fn log_in_with_smartcard(
        &self,
        username: &Username,
        card: &SmartcardAuthentication,
    ) -> Result<Session> {
        let id = SessionId::from_bytes(self.random16()?);
        let now = self.clock.now();
        let lifetime = self.config.session_lifetime;
        self.store.transaction(|tx| {
            let acc = account_of(tx, username)?;
            if acc.state != AccountState::Active {
                return Err(state_error(&acc));
            }
            open_session(
                tx,
                id,
                username,
                Channel::Hscn,
                now,
                lifetime,
                Some(card.card_id().to_owned()),
            )
        })
    }

    /// Ends a session.
    pub fn log_out(&self, session: SessionId) -> Result<()> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let mut s = live_session(tx, session, now)?;
            s.ended = Some(SessionEnd {
                at: now,
                reason: SessionEndReason::LoggedOut,
            });
            tx.put_session(&s)?;
            audit(
                tx,
                s.vpd,
                now,
                user_actor(&s),
                AuditEvent::SessionEnded {
                    session: session.audit_ref(),
                    reason: SessionEndReason::LoggedOut.to_string(),
                },
            )
        })
    }

    /// A user's live sessions, oldest first (for an administrator, or a "log out everywhere").
    pub fn live_sessions(&self, username: &Username) -> Result<Vec<Session>> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            account_of(tx, username)?;
            let mut v: Vec<Session> = tx
                .sessions_of(username)?
                .into_iter()
                .filter(|s| s.is_live_at(now))
                .collect();
            v.sort_by_key(|s| s.started_at);
            Ok(v)
        })
    }

    /// A live session.
    pub fn session(&self, session: SessionId) -> Result<Session> {
        let now = self.clock.now();
        self.store.transaction(|tx| live_session(tx, session, now))
    }

    /// Every function the session may use now.
    pub fn functions(&self, session: SessionId) -> Result<BTreeSet<Function>> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let (s, trust, acc, held) = session_context(tx, session, now)?;
            Ok(allowed_functions(&context(&s, &trust, &acc, &held)))
        })
    }

    /// Whether the session may use `function`, and if not, why.
    pub fn decide(&self, session: SessionId, function: Function) -> Result<AccessDecision> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let (s, trust, acc, held) = session_context(tx, session, now)?;
            Ok(decide(function, &context(&s, &trust, &acc, &held)))
        })
    }

    /// Checks that the session could be upgraded now: an internet session, ESS internet
    /// access, a URP whose functions the trust's Upgrade Access opens, and a registered mobile;
    /// and that the account's second-factor verification is not locked
    /// ([`Error::StepUpLocked`]), as [`Esr::request_upgrade_code`] would refuse then too.
    pub fn check_upgrade(&self, session: SessionId) -> Result<()> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let s = check_upgrade(tx, session, now)?;
            if account_of(tx, &s.username)?.step_up_locked {
                return Err(Error::StepUpLocked(s.username));
            }
            Ok(())
        })
    }

    /// Registers or changes the user's own mobile number for upgraded access. Only from an HSCN
    /// session (Manage Internet Access), and only with a confirmation that a code sent to the
    /// new number was entered in this session.
    pub fn register_mobile(
        &self,
        session: SessionId,
        confirmation: &MobileConfirmation,
    ) -> Result<Person> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            if confirmation.session != session {
                return Err(Error::StepUpMismatch);
            }
            apply_mobile(tx, session, &confirmation.mobile, now).map(|(p, _)| p)
        })
    }

    /// Upgrades the session named in the proof, and only that one.
    pub fn upgrade_session(&self, proof: &StepUpProof) -> Result<Session> {
        let now = self.clock.now();
        self.store
            .transaction(|tx| apply_upgrade(tx, proof.session, &proof.method, now))
    }
}
