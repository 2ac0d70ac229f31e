//! The passcode and recovery flows of the service: issue, resend, verify, lock, and account
//! recovery by e-mail. The rules are in [`crate::passcode`]; delivery in [`crate::delivery`].

use crate::access::Session;
use crate::access::*;
use crate::audit::{AuditActor, AuditEvent};
use crate::error::{Error, Result};
use crate::passcode::FloodWindow;
use crate::passcode::{
    Approved, Challenge, ChallengeId, ChallengeStatus, Destination, LinkProblem, Passcode,
    PasscodeChallenge, PasscodeKey, PasscodeKeys, PasscodePolicy, PasscodeTag, Purpose,
    RecoveryToken, SharedKeys, VerifyOutcome,
};
use crate::passcode::{EmailKind, EmailMessage, EmailSender, SmsMessage, SmsSender};
use crate::passcode::{OutboxMessage, OutboxPayload, OutboxStatus};
use crate::people::Account;
use crate::people::{AccountState, Password};
use crate::service::{
    Actor, Esr, account_of, audit, authorise, live_session, person_of, trust_of, user_actor,
    user_actor_with,
};
use crate::store::{Store, StoreTx};
use crate::urp::Function;
use crate::values::Clock;
use crate::values::MobileNumber;
use crate::values::limits::MAX_REASON_CHARS;
use crate::values::username::Username;
use crate::values::{EmailAddress, SessionId, SessionRef, VpdCode, clean_text};
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;

/// The answer to an account-recovery request: always the same, whether or not anything
/// matched, so that it never reveals whether an e-mail address is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryRequested;

impl RecoveryRequested {
    /// What to show the person.
    pub fn message(&self) -> &'static str {
        "If these details match an ESR account, we have e-mailed the address on its record. \
         The link in that e-mail works once, within 4 hours."
    }
}

/// What [`Esr::flood_step`] decided for one unmatched recovery request.
#[derive(Clone, Copy)]
enum FloodStep {
    /// Audit it one by one, after the previous window's aggregate if there is one.
    Audit {
        aggregated: Option<(DateTime<Utc>, DateTime<Utc>, u64)>,
    },
    /// Only count it.
    Count,
}

/// What issuing needs to know.
struct Issue<'a> {
    vpd: VpdCode,
    username: &'a Username,
    session: Option<&'a Session>,
    purpose: Purpose,
    destination: Destination,
}

/// Whether two purposes are one family for superseding: a new code for a mobile number
/// replaces any pending code for a mobile number, registering or changing.
fn same_family(a: Purpose, b: Purpose) -> bool {
    let mobile = |p| matches!(p, Purpose::RegisterMobile | Purpose::ChangeMobile);
    a == b || (mobile(a) && mobile(b))
}

/// Seconds, rounded up, from `now` until `t` (at least 1).
fn seconds_until(t: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let d = t - now;
    let s = d.num_seconds() + i64::from(d.subsec_nanos() > 0);
    s.max(1)
}

impl<S: Store, C: Clock> Esr<S, C> {
    // ----- configuration ---------------------------------------------------------------------

    /// Sets the passcode key ring (from the trust's secret store). Every process over one
    /// store needs the same ring, so that each verifies the codes and links the others issued,
    /// before and after a restart. Without one, issuing or checking a code or link is refused
    /// with [`Error::NoPasscodeKey`].
    pub fn with_passcode_keys(self, keys: PasscodeKeys) -> Self {
        self.set_passcode_keys(keys);
        self
    }

    /// **For tests and demos only**: a random key, named `ephemeral`, that exists only in
    /// this process. Codes and links it made stop verifying when the process ends, and a
    /// second process over the same store cannot verify them. Production services use
    /// [`Esr::with_passcode_keys`] with the trust's key.
    pub fn with_ephemeral_passcode_key(self) -> Result<Self> {
        let key = {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            PasscodeKey::random("ephemeral", &mut **rng)?
        };
        Ok(self.with_passcode_keys(PasscodeKeys::new(key)))
    }

    /// Replaces the key ring at run time (rotation). Challenges made with a key that is still
    /// in the new ring keep verifying; keep a retired key for at least 4 hours.
    pub fn set_passcode_keys(&self, keys: PasscodeKeys) {
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(keys));
    }

    /// Sends texted codes through `sender`.
    pub fn with_sms_sender(mut self, sender: Arc<dyn SmsSender>) -> Self {
        self.sms = Some(sender);
        self
    }

    /// Sends recovery e-mails through `sender`.
    pub fn with_email_sender(mut self, sender: Arc<dyn EmailSender>) -> Self {
        self.email = Some(sender);
        self
    }

    fn key_ring(&self) -> Result<SharedKeys> {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(Error::NoPasscodeKey)
    }

    fn policy(&self) -> PasscodePolicy {
        self.config.passcodes
    }

    /// Sets the trust's SMS template (needs Portal Administration). See
    /// [`crate::org::SmsTemplate::new`] for what it must contain.
    pub fn set_sms_template(&self, actor: &Actor, vpd: VpdCode, template: &str) -> Result<()> {
        let template = crate::org::SmsTemplate::new(template)?;
        let value = template.as_str().to_owned();
        self.change_settings(
            actor,
            vpd,
            Function::AdministerPortal,
            "SMS template",
            value,
            |settings| {
                settings.sms_template = template.clone();
                Ok(())
            },
        )
        .map(|_| ())
    }

    // ----- codes -------------------------------------------------------------------------------

    /// Sends a code to `number` to confirm it as the user's mobile number: registering a first
    /// number, or changing it. Only from an HSCN session (Manage Internet Access). The number
    /// becomes the registered one when the code is verified with [`Esr::verify_passcode`].
    pub fn request_mobile_code(
        &self,
        session: SessionId,
        number: &str,
    ) -> Result<PasscodeChallenge> {
        let mobile: MobileNumber = number.parse()?;
        self.sms.as_ref().ok_or(Error::NoSender("sms"))?;
        let now = self.clock.now();
        let keys = self.key_ring()?;
        let (challenge, queued) = self.store.transaction(|tx| {
            let (s, person) = check_manage_mobile(tx, session, now)?;
            let purpose = if person.mobile.is_some() {
                Purpose::ChangeMobile
            } else {
                Purpose::RegisterMobile
            };
            let issue = Issue {
                vpd: s.vpd,
                username: &s.username,
                session: Some(&s),
                purpose,
                destination: Destination::Mobile(mobile.clone()),
            };
            self.issue_code(tx, issue, now, &keys)
        })?;
        self.relay_after_commit(vec![queued])?;
        Ok(challenge)
    }

    /// Sends a code to the user's registered number to upgrade this internet session. Refused
    /// unless the session could be upgraded now (see [`Esr::check_upgrade`]).
    pub fn request_upgrade_code(&self, session: SessionId) -> Result<PasscodeChallenge> {
        self.sms.as_ref().ok_or(Error::NoSender("sms"))?;
        let now = self.clock.now();
        let keys = self.key_ring()?;
        let (challenge, queued) = self.store.transaction(|tx| {
            let s = check_upgrade(tx, session, now)?;
            let acc = account_of(tx, &s.username)?;
            let person = person_of(tx, s.vpd, &acc.employee_number)?;
            let mobile = person.mobile.ok_or(Error::UpgradeNotAvailable(
                crate::access::UpgradeBlocker::NoRegisteredMobile,
            ))?;
            let issue = Issue {
                vpd: s.vpd,
                username: &s.username,
                session: Some(&s),
                purpose: Purpose::UpgradeSession,
                destination: Destination::Mobile(mobile),
            };
            self.issue_code(tx, issue, now, &keys)
        })?;
        self.relay_after_commit(vec![queued])?;
        Ok(challenge)
    }

    /// "Code not received": sends a new code for the same purpose and number. The new code has
    /// its own 10 minutes; the old one is superseded and its expiry is untouched. The send
    /// limits apply.
    pub fn resend_passcode(
        &self,
        session: SessionId,
        challenge: &ChallengeId,
    ) -> Result<PasscodeChallenge> {
        self.sms.as_ref().ok_or(Error::NoSender("sms"))?;
        let now = self.clock.now();
        let keys = self.key_ring()?;
        let (challenge, queued) = self.store.transaction(|tx| {
            let s = live_session(tx, session, now)?;
            let old = own_challenge(tx, &s, challenge)?;
            if old.status == ChallengeStatus::Approved {
                return Err(Error::invalid(
                    "challenge",
                    "that code was already used; there is nothing to resend",
                ));
            }
            // The purpose's own checks again: the situation may have changed since.
            match old.purpose {
                Purpose::UpgradeSession => {
                    check_upgrade(tx, session, now)?;
                }
                _ => {
                    check_manage_mobile(tx, session, now)?;
                }
            }
            let destination = old
                .destination
                .clone()
                .ok_or_else(|| Error::Storage("a stored challenge lost its destination".into()))?;
            // The registered number may have changed since (from another HSCN session).
            let destination = if old.purpose == Purpose::UpgradeSession {
                let acc = account_of(tx, &s.username)?;
                match person_of(tx, s.vpd, &acc.employee_number)?.mobile {
                    Some(m) => Destination::Mobile(m),
                    None => destination,
                }
            } else {
                destination
            };
            let issue = Issue {
                vpd: s.vpd,
                username: &s.username,
                session: Some(&s),
                purpose: old.purpose,
                destination,
            };
            self.issue_code(tx, issue, now, &keys)
        })?;
        self.relay_after_commit(vec![queued])?;
        Ok(challenge)
    }

    /// A challenge's current state: status, masked number, expiry and attempts left.
    pub fn passcode_status(
        &self,
        session: SessionId,
        challenge: &ChallengeId,
    ) -> Result<PasscodeChallenge> {
        let now = self.clock.now();
        let max = self.policy().max_attempts;
        crate::store::read_mostly(&self.store, |tx| {
            let s = live_session(tx, session, now)?;
            let c = own_challenge(tx, &s, challenge)?;
            Ok(PasscodeChallenge::of(&c, now, max))
        })
    }

    /// Verifies a code typed in `session` for `purpose`. On approval the purpose is carried out
    /// in the same transaction (the session is upgraded, or the number registered), so of any
    /// number of concurrent verifications exactly one is approved.
    ///
    /// A code typed in the wrong shape (not the right number of digits) is refused with
    /// [`Error::InvalidInput`] and costs no attempt. Every other answer is a [`VerifyOutcome`],
    /// and every one is audited.
    pub fn verify_passcode(
        &self,
        session: SessionId,
        challenge: &ChallengeId,
        purpose: Purpose,
        code: &str,
    ) -> Result<VerifyOutcome> {
        // No code is longer; refused before anything is read or audited.
        crate::values::limits::check_bytes(
            "passcode",
            code,
            crate::values::limits::MAX_PASSCODE_BYTES,
        )?;
        let now = self.clock.now();
        let policy = self.policy();
        let keys = self.key_ring()?;
        self.store.transaction(|tx| {
            let s = live_session(tx, session, now)?;
            // The session's one-way reference: computed once, for the match and the audit.
            let sref = s.audit_ref();
            let c = match tx.challenge(challenge)? {
                Some(c)
                    if c.vpd == s.vpd
                        && c.username == s.username
                        && c.session == Some(sref)
                        && c.purpose == purpose =>
                {
                    c
                }
                _ => {
                    // Probing for challenges is audited too (with the id asked for).
                    audit(
                        tx,
                        s.vpd,
                        now,
                        user_actor_with(&s, sref),
                        AuditEvent::PasscodeChecked {
                            username: s.username.clone(),
                            challenge: *challenge,
                            purpose,
                            outcome: VerifyOutcome::UnknownChallenge.as_str().into(),
                        },
                    )?;
                    return Ok(VerifyOutcome::UnknownChallenge);
                }
            };
            let code = Passcode::typed(code, c.digits)?;
            let (id, purpose) = (c.id, c.purpose);
            let acc = account_of(tx, &s.username)?;
            let outcome = if acc.step_up_locked {
                VerifyOutcome::Locked
            } else {
                match c.status_at(now) {
                    ChallengeStatus::Approved => VerifyOutcome::AlreadyUsed,
                    ChallengeStatus::Superseded => VerifyOutcome::Superseded,
                    ChallengeStatus::Expired => VerifyOutcome::Expired,
                    ChallengeStatus::MaxAttemptsReached => VerifyOutcome::TooManyAttempts,
                    ChallengeStatus::Pending => {
                        let key = keys
                            .get(&c.key_id)
                            .ok_or_else(|| Error::UnknownPasscodeKey(c.key_id.to_string()))?;
                        let tag = key.tag(&c.binding(), code.expose().as_bytes());
                        if tag.matches(&c.tag) {
                            approve(tx, &s, sref, c, acc, now)?
                        } else {
                            wrong_guess(tx, &s, c, acc, &policy, now)?
                        }
                    }
                }
            };
            audit(
                tx,
                s.vpd,
                now,
                user_actor_with(&s, sref),
                AuditEvent::PasscodeChecked {
                    username: s.username.clone(),
                    challenge: id,
                    purpose,
                    outcome: outcome.as_str().into(),
                },
            )?;
            Ok(outcome)
        })
    }

    /// Clears a step-up lock, and the wrong codes counted in the window (needs Reset
    /// accounts).
    pub fn clear_step_up_lock(
        &self,
        actor: &Actor,
        username: &Username,
        reason: &str,
    ) -> Result<Account> {
        let reason = clean_text("reason", reason, MAX_REASON_CHARS)?;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, username.vpd(), Function::ResetAccounts, now)?;
            let mut acc = account_of(tx, username)?;
            if !acc.step_up_locked {
                return Err(Error::invalid(
                    "step-up lock",
                    "this account's second-factor verification is not locked",
                ));
            }
            acc.step_up_locked = false;
            acc.passcode_failures = 0;
            acc.passcode_failure_times.clear();
            tx.put_account(&acc)?;
            audit(
                tx,
                username.vpd(),
                now,
                who,
                AuditEvent::StepUpUnlocked {
                    username: username.clone(),
                    reason: reason.clone(),
                },
            )?;
            Ok(acc)
        })
    }

    // ----- account recovery ------------------------------------------------------------------

    /// "Forgotten username": e-mails the username and a password-reset link to the
    /// recruitment address of every active or locked account of the trust whose person has
    /// this recruitment e-mail and date of birth. The answer is the same whether or not
    /// anything matched; a malformed e-mail address is refused.
    pub fn request_username_reminder(
        &self,
        vpd: VpdCode,
        email: &str,
        date_of_birth: NaiveDate,
    ) -> Result<RecoveryRequested> {
        self.request_link(vpd, email, date_of_birth, Purpose::ResetPassword)
    }

    /// Asks for a link that unlocks a locked account; otherwise as
    /// [`Esr::request_username_reminder`].
    pub fn request_unlock_link(
        &self,
        vpd: VpdCode,
        email: &str,
        date_of_birth: NaiveDate,
    ) -> Result<RecoveryRequested> {
        self.request_link(vpd, email, date_of_birth, Purpose::UnlockAccount)
    }

    fn request_link(
        &self,
        vpd: VpdCode,
        email: &str,
        date_of_birth: NaiveDate,
        purpose: Purpose,
    ) -> Result<RecoveryRequested> {
        let email: EmailAddress = email.parse()?;
        self.email.as_ref().ok_or(Error::NoSender("email"))?;
        let keys = self.key_ring()?;
        // The answer takes at least `recovery_answer_time`, matched or not, so that its timing
        // does not tell whether the details are known.
        let started = std::time::Instant::now();
        let outcome = self
            .request_link_now(vpd, &email, date_of_birth, purpose, &keys)
            .and_then(|(answer, queued)| {
                self.relay_after_commit(queued)?;
                Ok(answer)
            });
        let floor = self.config.recovery_answer_time;
        if let Some(rest) = floor.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
        outcome
    }

    fn request_link_now(
        &self,
        vpd: VpdCode,
        email: &EmailAddress,
        date_of_birth: NaiveDate,
        purpose: Purpose,
        keys: &PasscodeKeys,
    ) -> Result<(RecoveryRequested, Vec<OutboxMessage>)> {
        let now = self.clock.now();
        // The flood window lives outside the store: a transaction run again (after a
        // serialization failure) reuses its first decision instead of counting twice.
        let mut flood: Option<FloodStep> = None;
        self.store.transaction(|tx| {
            trust_of(tx, vpd)?;
            let mut matched = 0u32;
            let mut queued = Vec::new();
            for person in tx.people_with_email(vpd, email)? {
                if person.date_of_birth != date_of_birth {
                    continue;
                }
                let acc = account_of(tx, &person.username)?;
                if !matches!(acc.state, AccountState::Active | AccountState::Locked) {
                    continue;
                }
                matched += 1;
                let issue = Issue {
                    vpd,
                    username: &person.username,
                    session: None,
                    purpose,
                    destination: Destination::Email(person.recruitment_email.clone()),
                };
                match self.issue_link(tx, issue, now, keys) {
                    // Over the send limits: nothing more is sent, and the answer stays the same.
                    Err(Error::TooManySends { .. } | Error::ResendTooSoon { .. }) => {}
                    r => queued.push(r?),
                }
            }
            if matched == 0 {
                // A flood of unmatched requests is bounded: beyond the window's allowance they
                // are counted, and audited as one entry when the next window opens.
                let step = *flood.get_or_insert_with(|| self.flood_step(vpd, now));
                match step {
                    FloodStep::Audit { aggregated } => {
                        if let Some((from, to, unmatched)) = aggregated {
                            audit(
                                tx,
                                vpd,
                                now,
                                AuditActor::System("account recovery".into()),
                                AuditEvent::RecoveryRequestsAggregated {
                                    from,
                                    to,
                                    unmatched,
                                },
                            )?;
                        }
                    }
                    FloodStep::Count => return Ok((RecoveryRequested, queued)),
                }
            }
            audit(
                tx,
                vpd,
                now,
                AuditActor::Anonymous,
                AuditEvent::RecoveryRequested { purpose, matched },
            )?;
            Ok((RecoveryRequested, queued))
        })
    }

    /// Counts one unmatched recovery request of trust `vpd` at `now` in its flood window.
    fn flood_step(&self, vpd: VpdCode, now: DateTime<Utc>) -> FloodStep {
        let max = self.config.max_unmatched_recovery_audits;
        let mut map = self
            .recovery_flood
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let w = map.entry(vpd).or_insert(FloodWindow {
            start: now,
            audited: 0,
            suppressed: 0,
        });
        let window = crate::service::RECOVERY_FLOOD_WINDOW;
        let mut aggregated = None;
        if now >= crate::values::plus(w.start, window) || now < w.start {
            if w.suppressed > 0 {
                aggregated = Some((w.start, crate::values::plus(w.start, window), w.suppressed));
            }
            *w = FloodWindow {
                start: now,
                audited: 0,
                suppressed: 0,
            };
        }
        if w.audited < max {
            w.audited += 1;
            FloodStep::Audit { aggregated }
        } else {
            w.suppressed += 1;
            FloodStep::Count
        }
    }

    /// Sets a new password with a reset link's token, once, within 4 hours. A locked account
    /// is unlocked and its failed log-ins cleared; every session of the account ends
    /// ([`SessionEndReason::PasswordReset`]). Suspended and ended accounts are refused.
    pub fn reset_password_with_link(&self, token: &str, password: &Password) -> Result<Username> {
        let (id, secret) = RecoveryToken::parse(token)?;
        password.check_policy()?;
        // The slow hash runs before the store's lock is taken.
        let hash = self
            .config
            .password_hashing
            .hash(password, &self.random16()?)?;
        self.use_link(&id, &secret, Purpose::ResetPassword, |tx, acc, now| {
            acc.password_hash = Some(hash.clone());
            let who = AuditActor::System("account recovery".into());
            audit(
                tx,
                acc.username.vpd(),
                now,
                who.clone(),
                AuditEvent::PasswordSet {
                    username: acc.username.clone(),
                },
            )?;
            // Whoever else was logged in (an attacker with the old password) is logged out.
            end_sessions_of(
                tx,
                &acc.username,
                now,
                SessionEndReason::PasswordReset,
                &who,
                None,
            )?;
            Ok(())
        })
    }

    /// Unlocks a locked account with an unlock link's token, once, within 4 hours.
    pub fn unlock_with_link(&self, token: &str) -> Result<Username> {
        let (id, secret) = RecoveryToken::parse(token)?;
        self.use_link(&id, &secret, Purpose::UnlockAccount, |_, _, _| Ok(()))
    }

    fn use_link(
        &self,
        id: &ChallengeId,
        secret: &[u8; 32],
        purpose: Purpose,
        apply: impl Fn(&mut dyn StoreTx, &mut Account, DateTime<Utc>) -> Result<()>,
    ) -> Result<Username> {
        let now = self.clock.now();
        let policy = self.policy();
        let keys = self.key_ring()?;
        let refused = |p| Error::RecoveryLinkRefused(p);
        let outcome: std::result::Result<Username, Error> = self.store.transaction(|tx| {
            let Some(mut c) = tx.challenge(id)?.filter(|c| c.purpose == purpose) else {
                return Ok(Err(refused(LinkProblem::NotRecognised)));
            };
            match c.status_at(now) {
                ChallengeStatus::Pending => {}
                ChallengeStatus::Approved => return Ok(Err(refused(LinkProblem::AlreadyUsed))),
                ChallengeStatus::Superseded => return Ok(Err(refused(LinkProblem::Superseded))),
                ChallengeStatus::Expired => return Ok(Err(refused(LinkProblem::Expired))),
                ChallengeStatus::MaxAttemptsReached => {
                    return Ok(Err(refused(LinkProblem::NotRecognised)));
                }
            }
            let key = keys
                .get(&c.key_id)
                .ok_or_else(|| Error::UnknownPasscodeKey(c.key_id.to_string()))?;
            let vpd = c.vpd;
            let check = |outcome: &str| AuditEvent::PasscodeChecked {
                username: c.username.clone(),
                challenge: c.id,
                purpose,
                outcome: outcome.into(),
            };
            if !key.tag(&c.binding(), secret).matches(&c.tag) {
                c.attempts += 1;
                if c.attempts >= policy.max_attempts {
                    c.status = ChallengeStatus::MaxAttemptsReached;
                    c.settled_at = Some(now);
                }
                tx.put_challenge(&c)?;
                let event = check("wrong token");
                audit(tx, vpd, now, AuditActor::Anonymous, event)?;
                return Ok(Err(refused(LinkProblem::NotRecognised)));
            }
            let mut acc = account_of(tx, &c.username)?;
            match acc.state {
                AccountState::Active | AccountState::Locked => {}
                _ => return Err(crate::service::state_error(&acc)),
            }
            let event = check("approved");
            audit(tx, vpd, now, AuditActor::Anonymous, event)?;
            c.status = ChallengeStatus::Approved;
            c.settled_at = Some(now);
            tx.put_challenge(&c)?;
            // Any other pending link for this account dies with this one.
            supersede(
                tx,
                &c.username,
                None,
                Purpose::ResetPassword,
                now,
                Some(&c.id),
            )?;
            supersede(
                tx,
                &c.username,
                None,
                Purpose::UnlockAccount,
                now,
                Some(&c.id),
            )?;
            apply(tx, &mut acc, now)?;
            acc.failed_logins = 0;
            if acc.state == AccountState::Locked {
                acc.state = AccountState::Active;
                acc.state_changed_at = now;
                audit(
                    tx,
                    vpd,
                    now,
                    AuditActor::System("account recovery".into()),
                    AuditEvent::AccountStateChanged {
                        username: acc.username.clone(),
                        from: AccountState::Locked.to_string(),
                        to: AccountState::Active.to_string(),
                        reason: format!("{purpose} link"),
                    },
                )?;
            }
            tx.put_account(&acc)?;
            Ok(Ok(acc.username.clone()))
        })?;
        outcome
    }

    // ----- issuing -------------------------------------------------------------------------

    fn issue_code(
        &self,
        tx: &mut dyn StoreTx,
        issue: Issue<'_>,
        now: DateTime<Utc>,
        keys: &PasscodeKeys,
    ) -> Result<(PasscodeChallenge, OutboxMessage)> {
        let policy = self.policy();
        let acc = account_of(tx, issue.username)?;
        if acc.step_up_locked {
            return Err(Error::StepUpLocked(issue.username.clone()));
        }
        let code = {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            Passcode::generate(&mut **rng, policy.digits)?
        };
        let c = self.record_challenge(
            tx,
            &issue,
            now,
            keys,
            code.expose().as_bytes(),
            policy.digits,
        )?;
        let Destination::Mobile(to) = &issue.destination else {
            return Err(Error::Storage("a code must go to a mobile number".into()));
        };
        let trust = trust_of(tx, issue.vpd)?;
        let minutes = issue.purpose.lifetime().num_minutes();
        let text = trust
            .settings
            .sms_template
            .render(code.expose(), minutes, &trust.name);
        // Queued with the challenge, in its transaction; handed to the gateway after commit.
        let message = OutboxMessage::queued(
            c.id,
            OutboxPayload::Sms(SmsMessage::new(c.id, issue.vpd, to.clone(), text)),
            now,
            self.first_attempt_at(now),
        );
        tx.queue_message(&message)?;
        Ok((PasscodeChallenge::of(&c, now, policy.max_attempts), message))
    }

    fn issue_link(
        &self,
        tx: &mut dyn StoreTx,
        issue: Issue<'_>,
        now: DateTime<Utc>,
        keys: &PasscodeKeys,
    ) -> Result<OutboxMessage> {
        let mut secret = [0u8; 32];
        self.rng
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .fill(&mut secret)
            .map_err(Error::Randomness)?;
        let c = self.record_challenge(tx, &issue, now, keys, &secret, 0)?;
        let Destination::Email(to) = &issue.destination else {
            return Err(Error::Storage("a link must go to an e-mail address".into()));
        };
        let kind = if issue.purpose == Purpose::UnlockAccount {
            EmailKind::UnlockAccount
        } else {
            EmailKind::UsernameReminder
        };
        let message = EmailMessage::new(
            issue.vpd,
            kind,
            to.clone(),
            issue.username.clone(),
            RecoveryToken::new(&c.id, &secret),
            c.expires_at,
        );
        secret.fill(0);
        let message = OutboxMessage::queued(
            c.id,
            OutboxPayload::Email(message),
            now,
            self.first_attempt_at(now),
        );
        tx.queue_message(&message)?;
        Ok(message)
    }

    /// Checks the send limits, supersedes pending challenges of the same family, and stores
    /// and audits a new challenge for `secret`.
    fn record_challenge(
        &self,
        tx: &mut dyn StoreTx,
        issue: &Issue<'_>,
        now: DateTime<Utc>,
        keys: &PasscodeKeys,
        secret: &[u8],
        digits: u8,
    ) -> Result<Challenge> {
        let policy = self.policy();
        check_send_limits(tx, issue, now, &policy)?;
        let session_ref = issue.session.map(|s| s.audit_ref());
        supersede(tx, issue.username, session_ref, issue.purpose, now, None)?;
        let id = ChallengeId::from_bytes(self.random16()?);
        if tx.challenge(&id)?.is_some() {
            return Err(Error::Randomness(
                "a challenge id repeated; try again".into(),
            ));
        }
        let key = keys.current();
        let mut c = Challenge {
            id,
            vpd: issue.vpd,
            username: issue.username.clone(),
            session: session_ref,
            purpose: issue.purpose,
            destination: Some(issue.destination.clone()),
            key_id: key.id().clone(),
            tag: PasscodeTag([0; 32]),
            digits,
            issued_at: now,
            expires_at: crate::values::plus(now, issue.purpose.lifetime()),
            attempts: 0,
            status: ChallengeStatus::Pending,
            settled_at: None,
        };
        c.tag = key.tag(&c.binding(), secret);
        tx.put_challenge(&c)?;
        let actor = match issue.session {
            Some(s) => user_actor(s),
            None => AuditActor::Anonymous,
        };
        audit(
            tx,
            issue.vpd,
            now,
            actor,
            AuditEvent::PasscodeIssued {
                username: issue.username.clone(),
                challenge: c.id,
                purpose: c.purpose,
                masked: issue.destination.masked(),
                expires_at: c.expires_at,
            },
        )?;
        Ok(c)
    }
}

/// A challenge of this session, or [`Error::UnknownChallenge`].
fn own_challenge(tx: &dyn StoreTx, s: &Session, id: &ChallengeId) -> Result<Challenge> {
    match tx.challenge(id)? {
        Some(c) if c.username == s.username && c.session == Some(s.audit_ref()) => Ok(c),
        _ => Err(Error::UnknownChallenge(*id)),
    }
}

/// Refuses a send over the limits: per user and per destination within the window (codes and
/// links counted apart, so that recovery e-mails someone else asks for cannot use up a user's
/// texts), and the least interval between two sends to one user.
fn check_send_limits(
    tx: &dyn StoreTx,
    issue: &Issue<'_>,
    now: DateTime<Utc>,
    policy: &PasscodePolicy,
) -> Result<()> {
    // The window is `(now - send_window, now]`: a send leaves it exactly `send_window` after
    // it was made, which is when `retry_after_seconds` says one more may go.
    let since = crate::values::minus(now, policy.send_window);
    let link = issue.purpose.is_link();
    let mut mine = Vec::new();
    for c in tx.challenges_of(issue.username, since)? {
        if c.purpose.is_link() == link
            && c.issued_at > since
            && c.issued_at <= now
            && was_sent(tx, &c)?
        {
            mine.push(c.issued_at);
        }
    }
    let mut to_there = Vec::new();
    for c in tx.challenges_to(issue.vpd, &issue.destination, since)? {
        if c.issued_at > since && c.issued_at <= now && was_sent(tx, &c)? {
            to_there.push(c.issued_at);
        }
    }
    let max = usize::try_from(policy.max_sends).unwrap_or(usize::MAX);
    for mut times in [mine.clone(), to_there] {
        if times.len() >= max {
            times.sort();
            // One more may go when enough of these have left the window.
            let first = times.get(times.len() - max).copied().unwrap_or(now);
            let frees_at = crate::values::plus(first, policy.send_window);
            return Err(Error::TooManySends {
                retry_after_seconds: seconds_until(frees_at, now),
            });
        }
    }
    if let Some(last) = mine.iter().max()
        && now - *last < policy.min_resend_interval
    {
        return Err(Error::ResendTooSoon {
            retry_after_seconds: seconds_until(
                crate::values::plus(*last, policy.min_resend_interval),
                now,
            ),
        });
    }
    Ok(())
}

/// Whether a challenge's message counts as sent for the send limits: not when it was given up
/// or dropped (its challenge was then withdrawn or superseded), so that a gateway's failure
/// does not use up a user's sends.
fn was_sent(tx: &dyn StoreTx, c: &Challenge) -> Result<bool> {
    if c.status != ChallengeStatus::Superseded {
        return Ok(true);
    }
    Ok(!matches!(
        tx.outbox_message(&c.id)?.map(|m| m.status),
        Some(OutboxStatus::Failed | OutboxStatus::Dropped)
    ))
}

/// Marks the user's pending challenges of the same family (and session, for codes) as
/// superseded, except `keep`.
fn supersede(
    tx: &mut dyn StoreTx,
    username: &Username,
    session: Option<crate::values::SessionRef>,
    purpose: Purpose,
    now: DateTime<Utc>,
    keep: Option<&ChallengeId>,
) -> Result<()> {
    let since = crate::values::minus(now, purpose.lifetime());
    for mut old in tx.challenges_of(username, since)? {
        if old.is_pending_at(now)
            && same_family(old.purpose, purpose)
            && old.session == session
            && Some(&old.id) != keep
        {
            old.status = ChallengeStatus::Superseded;
            old.settled_at = Some(now);
            tx.put_challenge(&old)?;
            audit(
                tx,
                old.vpd,
                now,
                AuditActor::System("passcodes".into()),
                AuditEvent::PasscodeSuperseded {
                    username: username.clone(),
                    challenge: old.id,
                },
            )?;
        }
    }
    Ok(())
}

/// The right code: mark the challenge used and carry out the purpose. The account's wrong
/// codes stay counted: they leave the count only as they leave the rolling window, so that
/// approvals of one's own cannot buy an attacker fresh guesses.
fn approve(
    tx: &mut dyn StoreTx,
    s: &Session,
    sref: SessionRef,
    mut c: Challenge,
    acc: Account,
    now: DateTime<Utc>,
) -> Result<VerifyOutcome> {
    let approved = match c.purpose {
        Purpose::UpgradeSession => {
            Approved::SessionUpgraded(apply_upgrade_for(tx, s, sref, &acc, "sms-otp", now)?)
        }
        Purpose::RegisterMobile | Purpose::ChangeMobile => {
            let Some(Destination::Mobile(m)) = &c.destination else {
                return Err(Error::Storage("a mobile challenge lost its number".into()));
            };
            let (masked, changed) = apply_mobile_for(tx, s, sref, &acc, m, now)?;
            Approved::MobileRegistered { masked, changed }
        }
        Purpose::ResetPassword | Purpose::UnlockAccount => {
            return Err(Error::invalid(
                "purpose",
                "recovery links are used with reset_password_with_link or unlock_with_link",
            ));
        }
    };
    // Written after the purpose is carried out (nothing there reads it): the transaction
    // keeps all of it or none.
    c.status = ChallengeStatus::Approved;
    c.settled_at = Some(now);
    tx.put_challenge_owned(c)?;
    Ok(VerifyOutcome::Approved(approved))
}

/// A wrong code: count it on the challenge and on the account's rolling window. The guess
/// that locks step-up answers [`VerifyOutcome::Locked`]; the one that kills the challenge
/// [`VerifyOutcome::TooManyAttempts`]; any other [`VerifyOutcome::WrongCode`].
fn wrong_guess(
    tx: &mut dyn StoreTx,
    s: &Session,
    mut c: Challenge,
    mut acc: Account,
    policy: &PasscodePolicy,
    now: DateTime<Utc>,
) -> Result<VerifyOutcome> {
    c.attempts += 1;
    let dead = c.attempts >= policy.max_attempts;
    if dead {
        c.status = ChallengeStatus::MaxAttemptsReached;
        c.settled_at = Some(now);
    }
    let attempts_left = policy.max_attempts.saturating_sub(c.attempts);
    tx.put_challenge_owned(c)?;
    let failures = count_failure(&mut acc.passcode_failure_times, now, policy);
    acc.passcode_failures = failures;
    let locks = failures >= policy.max_failures;
    if locks {
        acc.step_up_locked = true;
        audit(
            tx,
            s.vpd,
            now,
            AuditActor::System("passcode lockout".into()),
            AuditEvent::StepUpLocked {
                username: s.username.clone(),
                failures,
            },
        )?;
    }
    tx.put_account_owned(acc)?;
    Ok(if locks {
        VerifyOutcome::Locked
    } else if dead {
        VerifyOutcome::TooManyAttempts
    } else {
        VerifyOutcome::WrongCode { attempts_left }
    })
}

/// Adds a wrong code at `now` to `times`, drops those that have left the policy's rolling
/// window `(now - failure_window, now]` (and any beyond the `max_failures` newest, which is all
/// the rule needs), and returns how many remain: the failures that count.
pub fn count_failure(
    times: &mut Vec<DateTime<Utc>>,
    now: DateTime<Utc>,
    policy: &PasscodePolicy,
) -> u32 {
    let since = crate::values::minus(now, policy.failure_window);
    times.retain(|t| *t > since && *t <= now);
    times.push(now);
    times.sort();
    let keep = usize::try_from(policy.max_failures).unwrap_or(usize::MAX);
    if times.len() > keep {
        let extra = times.len() - keep;
        times.drain(..extra);
    }
    u32::try_from(times.len()).unwrap_or(u32::MAX)
}
