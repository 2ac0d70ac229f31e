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
use crate::store::{Store, StoreTx};
use crate::urp::Function;
use crate::values::Clock;
use crate::values::SessionId;
use crate::values::SessionRef;
use crate::values::username::Username;
use std::collections::BTreeSet;

/// Who may see and end `username`'s sessions: the user from one of their own live sessions
/// (returned as the current one), or an actor with Reset accounts.
fn session_authority(
    tx: &mut dyn StoreTx,
    actor: &Actor,
    username: &Username,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(AuditActor, Option<SessionRef>)> {
    if let Actor::Session(id) = actor {
        let s = live_session(tx, *id, now)?;
        if &s.username == username {
            return Ok((user_actor(&s), Some(s.audit_ref())));
        }
    }
    let who = authorise(tx, actor, username.vpd(), Function::ResetAccounts, now)?;
    account_of(tx, username)?;
    Ok((who, None))
}

fn end_reason(by_user: bool) -> SessionEndReason {
    if by_user {
        SessionEndReason::EndedByUser
    } else {
        SessionEndReason::EndedByAdministrator
    }
}

/// Counts a wrong password against an active account, auditing it; at `max` consecutive
/// failures it locks and every session of it ends.
pub(crate) fn record_failed_login(
    tx: &mut dyn StoreTx,
    acc: &mut crate::people::Account,
    now: chrono::DateTime<chrono::Utc>,
    max: u32,
) -> Result<()> {
    let username = acc.username.clone();
    let vpd = username.vpd();
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
    if acc.state == AccountState::Active && acc.failed_logins >= max {
        acc.state = AccountState::Locked;
        acc.state_changed_at = now;
        let who = AuditActor::System("log-in lockout".into());
        audit(
            tx,
            vpd,
            now,
            who.clone(),
            AuditEvent::AccountStateChanged {
                username: username.clone(),
                from: AccountState::Active.to_string(),
                to: AccountState::Locked.to_string(),
                reason: format!("{max} consecutive failed log-ins"),
            },
        )?;
        end_sessions_of(
            tx,
            &username,
            now,
            SessionEndReason::AccountLocked,
            &who,
            None,
        )?;
    }
    tx.put_account(acc)
}

/// The outcome of checking a password, applied in a second transaction so the slow hash runs
/// outside the store's lock.
enum PasswordOutcome {
    Session(Session),
    Refused(Error),
}

impl<S: Store, C: Clock> Esr<S, C> {
    /// Logs in over the internet with username and password.
    ///
    /// With a wrong password, every account answers the same [`Error::InvalidCredentials`] in
    /// the same time, whether it is active, locked, suspended, ended or unknown: the password is
    /// always checked against a hash first. After [`Config::max_failed_logins`] consecutive
    /// failures an active account locks (ending its sessions), but that is said only to
    /// someone who then gives the right password ([`Error::AccountLocked`], which says to use
    /// 'Forgotten | Unlock Account' or ask a user administrator); the same goes for a
    /// suspended or ended account.
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
        let config = self.config;
        let outcome = self.store.transaction(|tx| {
            let vpd = username.vpd();
            let mut acc = account_of(tx, &username)?;
            if acc.password_hash != hash {
                // The password changed while we were checking: judge again from the start.
                return Ok(PasswordOutcome::Refused(Error::InvalidCredentials));
            }
            if !ok {
                // The same answer whatever the account's state: only the right password
                // learns that an account is locked, suspended or ended.
                // Only an active account counts failures: once locked, later attempts are
                // refused alike and not counted.
                if acc.state == AccountState::Active {
                    record_failed_login(tx, &mut acc, now, max)?;
                }
                return Ok(PasswordOutcome::Refused(Error::InvalidCredentials));
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
            if acc.failed_logins != 0 {
                acc.failed_logins = 0;
                tx.put_account(&acc)?;
            }
            let session = open_session(
                tx,
                session_id,
                &username,
                Channel::Internet,
                now,
                &config,
                None,
            )?;
            Ok(PasswordOutcome::Session(session))
        })?;
        match outcome {
            PasswordOutcome::Session(s) => Ok(s),
            PasswordOutcome::Refused(e) => Err(e),
        }
    }

    /// Changes the user's own password in `session`, given the current one. Every other
    /// session of the account ends ([`SessionEndReason::PasswordChanged`]); this one stays. A
    /// wrong current password answers [`Error::InvalidCredentials`] and counts as a failed
    /// log-in (so it locks the account at [`Config::max_failed_logins`]).
    pub fn change_password(
        &self,
        session: SessionId,
        current: &Password,
        new: &Password,
    ) -> Result<()> {
        current.check_size()?;
        new.check_policy()?;
        let now = self.clock.now();
        let s = self
            .store
            .transaction(|tx| live_session(tx, session, now))?;
        let account = self.store.transaction(|tx| account_of(tx, &s.username))?;
        let hash = account.password_hash.clone();
        let ok = match &hash {
            Some(h) => self.config.password_hashing.verify(current, h),
            None => {
                self.waste_a_hash(current);
                false
            }
        };
        let new_hash = if ok {
            Some(self.config.password_hashing.hash(new, &self.random16()?)?)
        } else {
            None
        };
        let max = self.config.max_failed_logins;
        self.store.transaction(|tx| {
            let s = live_session(tx, session, now)?;
            let mut acc = account_of(tx, &s.username)?;
            if acc.password_hash != hash {
                return Ok(Err(Error::InvalidCredentials));
            }
            let Some(new_hash) = new_hash.clone() else {
                record_failed_login(tx, &mut acc, now, max)?;
                return Ok(Err(Error::InvalidCredentials));
            };
            if acc.state != AccountState::Active {
                return Ok(Err(state_error(&acc)));
            }
            acc.password_hash = Some(new_hash);
            acc.failed_logins = 0;
            tx.put_account(&acc)?;
            let who = user_actor(&s);
            audit(
                tx,
                s.vpd,
                now,
                who.clone(),
                AuditEvent::PasswordSet {
                    username: s.username.clone(),
                },
            )?;
            end_sessions_of(
                tx,
                &s.username,
                now,
                SessionEndReason::PasswordChanged,
                &who,
                Some(s.audit_ref()),
            )?;
            Ok(Ok(()))
        })?
    }

    /// Opens an HSCN session for a user whose smartcard the embedding application has verified.
    pub fn log_in_with_smartcard(
        &self,
        username: &Username,
        card: &SmartcardAuthentication,
    ) -> Result<Session> {
        let id = SessionId::from_bytes(self.random16()?);
        let now = self.clock.now();
        let config = self.config;
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
                &config,
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
        crate::store::read_mostly(&self.store, |tx| {
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

    /// A user's live sessions, oldest first, as the user may see them: channel, start, last
    /// activity, upgrade; never the bearer id. For the user themselves (from any of their own
    /// live sessions, which is marked `current`), or for an actor with Reset accounts.
    pub fn sessions_of(&self, actor: &Actor, username: &Username) -> Result<Vec<SessionSummary>> {
        let now = self.clock.now();
        crate::store::read_mostly(&self.store, |tx| {
            let (_, current) = session_authority(tx, actor, username, now)?;
            let mut v: Vec<SessionSummary> = tx
                .sessions_of(username)?
                .into_iter()
                .filter(|s| s.is_live_at(now))
                .map(|s| {
                    let r = s.audit_ref();
                    SessionSummary::of(&s, Some(r) == current)
                })
                .collect();
            v.sort_by_key(|s| (s.started_at, s.reference));
            Ok(v)
        })
    }

    /// Ends one of `username`'s sessions, named by its reference from [`Esr::sessions_of`]:
    /// by the user themselves ([`SessionEndReason::EndedByUser`]) or by an actor with Reset
    /// accounts ([`SessionEndReason::EndedByAdministrator`]). Audited with its reason. A
    /// reference to no open session of that user is [`Error::UnknownSessionRef`].
    pub fn end_session(
        &self,
        actor: &Actor,
        username: &Username,
        session: SessionRef,
    ) -> Result<()> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let (who, current) = session_authority(tx, actor, username, now)?;
            let reason = end_reason(current.is_some());
            let Some(mut s) = tx
                .sessions_of(username)?
                .into_iter()
                .find(|s| s.is_live() && s.audit_ref() == session)
            else {
                return Err(Error::UnknownSessionRef(session));
            };
            s.ended = Some(SessionEnd { at: now, reason });
            tx.put_session(&s)?;
            audit(
                tx,
                username.vpd(),
                now,
                who,
                AuditEvent::SessionEnded {
                    session,
                    reason: reason.to_string(),
                },
            )
        })
    }

    /// Ends every session of `username` except `except` (the asking session, for "log out of
    /// my other sessions"; `None` ends them all), each audited with its reason; by the user or
    /// an actor with Reset accounts, as [`Esr::end_session`]. Returns how many ended.
    pub fn end_all_sessions(
        &self,
        actor: &Actor,
        username: &Username,
        except: Option<SessionRef>,
    ) -> Result<u32> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let (who, current) = session_authority(tx, actor, username, now)?;
            end_sessions_of(
                tx,
                username,
                now,
                end_reason(current.is_some()),
                &who,
                except,
            )
        })
    }

    /// A live session.
    pub fn session(&self, session: SessionId) -> Result<Session> {
        let now = self.clock.now();
        crate::store::read_mostly(&self.store, |tx| live_session(tx, session, now))
    }

    /// Every function the session may use now.
    pub fn functions(&self, session: SessionId) -> Result<BTreeSet<Function>> {
        let now = self.clock.now();
        crate::store::read_mostly(&self.store, |tx| {
            let (s, trust, acc, held) = session_context(tx, session, now)?;
            Ok(allowed_functions(&context(&s, &trust, &acc, &held)))
        })
    }

    /// Whether the session may use `function`, and if not, why.
    pub fn decide(&self, session: SessionId, function: Function) -> Result<AccessDecision> {
        let now = self.clock.now();
        crate::store::read_mostly(&self.store, |tx| {
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
        crate::store::read_mostly(&self.store, |tx| {
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
