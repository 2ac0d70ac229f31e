//! The authenticator flows of the service: enrol (HSCN only), confirm with a first code,
//! upgrade a session with a code, remove. The rules are in [`crate::authenticator`].

use crate::access::{Session, UpgradeBlocker};
use crate::access::{check_manage_mobile, check_upgrade_in_with, upgrade_session};
use crate::audit::AuditActor;
use crate::audit::AuditEvent;
use crate::authenticator::{
    Authenticator, AuthenticatorKey, AuthenticatorKeys, AuthenticatorPolicy, ProvisioningUri,
    StepCheck, Totp, TotpParams, TotpSecret,
};
use crate::error::{Error, Result};
use crate::people::Account;
use crate::service::{
    Actor, Esr, account_of, audit, authorise, live_session, person_of, session_context, trust_of,
    user_actor_with,
};
use crate::store::{Store, StoreTx};
use crate::urp::Function;
use crate::values::Clock;
use crate::values::limits::MAX_REASON_CHARS;
use crate::values::username::Username;
use crate::values::{SessionId, SessionRef, clean_text};
use chrono::{DateTime, Utc};
use std::fmt;
use std::sync::Arc;

/// What enrolling gives the person to set up their app: the provisioning URI, as text and as
/// a QR code, and the secret as text for typing in by hand. It carries the secret, so its
/// `Debug` never shows it: show it only to its owner, on the HSCN screen that asked for it.
#[derive(Clone)]
pub struct AuthenticatorEnrolment {
    uri: ProvisioningUri,
    manual_key: String,
    params: TotpParams,
}

impl AuthenticatorEnrolment {
    /// The `otpauth://totp/…` URI.
    pub fn uri(&self) -> &ProvisioningUri {
        &self.uri
    }

    /// The secret in base32, for typing into an app by hand.
    pub fn manual_key(&self) -> &str {
        &self.manual_key
    }

    /// The codes' shape.
    pub fn params(&self) -> TotpParams {
        self.params
    }

    /// The URI as a QR code in SVG.
    pub fn qr_svg(&self) -> Result<String> {
        self.uri.qr_svg()
    }

    /// The URI as a QR code in PNG, `scale` pixels a module (1 to 32).
    pub fn qr_png(&self, scale: u32) -> Result<Vec<u8>> {
        self.uri.qr_png(scale)
    }
}

impl fmt::Debug for AuthenticatorEnrolment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticatorEnrolment")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// The answer to a code from an authenticator app. Refusals of the code itself are answers,
/// not errors, and each is audited.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthenticatorOutcome {
    /// The first code was right: the authenticator is active.
    Activated,
    /// The code was right: the session is upgraded.
    Upgraded(Session),
    /// The code is right for no time step in the window.
    WrongCode,
    /// The code's time step was accepted already: wait for the next code.
    Replayed,
    /// Too many wrong codes in the rolling window: second-factor verification is locked until
    /// an administrator clears it.
    Locked,
}

impl AuthenticatorOutcome {
    /// Whether the code was accepted.
    pub fn is_approved(&self) -> bool {
        matches!(self, Self::Activated | Self::Upgraded(_))
    }

    /// A short name (`activated`, `upgraded`, `wrong code`, `replayed`, `locked`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Activated => "activated",
            Self::Upgraded(_) => "upgraded",
            Self::WrongCode => "wrong code",
            Self::Replayed => "replayed",
            Self::Locked => "locked",
        }
    }

    /// What to tell the person.
    pub fn message(&self) -> &'static str {
        match self {
            Self::Activated => "Your authenticator app is set up.",
            Self::Upgraded(_) => "This session is upgraded.",
            Self::WrongCode => "That code is not right. Type the code your app shows now.",
            Self::Replayed => "That code was used already. Wait for the next code in your app.",
            Self::Locked => "Too many wrong codes: ask your user administrator to clear the lock.",
        }
    }
}

/// The second factors a person has registered, for them to choose one to upgrade with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactors {
    /// The registered mobile number, masked (`xxxxxxx374`), if there is one.
    pub mobile: Option<String>,
    /// Whether an authenticator app is registered and active.
    pub authenticator: bool,
}

/// What a code is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    Activate,
    Upgrade,
}

impl Use {
    fn as_str(self) -> &'static str {
        match self {
            Self::Activate => "activate",
            Self::Upgrade => "upgrade session",
        }
    }
}

/// A code as typed: spaces and hyphens dropped, then exactly `digits` digits (at most 8),
/// kept on the stack (it is checked on every verification).
struct TypedCode {
    digits: [u8; 8],
    len: usize,
}

impl TypedCode {
    fn as_str(&self) -> &str {
        // Only ASCII digits are ever kept, so this never falls back.
        std::str::from_utf8(&self.digits[..self.len]).unwrap_or_default()
    }
}

fn typed_code(s: &str, digits: u8) -> Result<TypedCode> {
    let refuse = || {
        Error::invalid(
            "authenticator code",
            "type the digits your authenticator app shows, exactly",
        )
    };
    if s.len() > crate::values::limits::MAX_PASSCODE_BYTES {
        return Err(refuse());
    }
    let mut code = TypedCode {
        digits: [0; 8],
        len: 0,
    };
    for b in s.bytes().filter(|b| !matches!(b, b' ' | b'-')) {
        if !b.is_ascii_digit() {
            return Err(refuse());
        }
        *code.digits.get_mut(code.len).ok_or_else(refuse)? = b;
        code.len += 1;
    }
    if code.len != usize::from(digits) {
        return Err(refuse());
    }
    Ok(code)
}

impl<S: Store, C: Clock> Esr<S, C> {
    // ----- configuration ---------------------------------------------------------------------

    /// Sets the authenticator key ring (from the trust's secret store). Every process over one
    /// store needs the same ring. Without one, enrolling or checking an authenticator is
    /// refused with [`Error::NoAuthenticatorKey`].
    pub fn with_authenticator_keys(self, keys: AuthenticatorKeys) -> Self {
        self.set_authenticator_keys(keys);
        self
    }

    /// **For tests and demos only**: a random key, named `ephemeral`, that exists only in this
    /// process; authenticators it sealed stop working when the process ends.
    pub fn with_ephemeral_authenticator_key(self) -> Result<Self> {
        let key = {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            AuthenticatorKey::random("ephemeral", &mut **rng)?
        };
        Ok(self.with_authenticator_keys(AuthenticatorKeys::new(key)))
    }

    /// Replaces the key ring at run time (rotation). Secrets sealed with a key still in the
    /// ring keep opening, and each is sealed again under the current key when next verified.
    pub fn set_authenticator_keys(&self, keys: AuthenticatorKeys) {
        *self
            .authenticator_keys
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(keys));
    }

    fn authenticator_ring(&self) -> Result<crate::authenticator::SharedAuthenticatorKeys> {
        self.authenticator_keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(Error::NoAuthenticatorKey)
    }

    fn authenticator_policy(&self) -> AuthenticatorPolicy {
        self.config.authenticators
    }

    // ----- enrolment ---------------------------------------------------------------------------

    /// Enrols an authenticator app for the session's user: only from an HSCN session (Manage
    /// Internet Access). Answers the provisioning URI and QR code to show. The authenticator
    /// is active only after [`Esr::confirm_authenticator`] with its first code. Enrolling again
    /// replaces the previous authenticator at once. Audited without the secret.
    pub fn enrol_authenticator(&self, session: SessionId) -> Result<AuthenticatorEnrolment> {
        let keys = self.authenticator_ring()?;
        let params = self.authenticator_policy().params;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let (s, _) = check_manage_mobile(tx, session, now)?;
            let trust = trust_of(tx, s.vpd)?;
            let (secret, sealed) = {
                let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
                let secret = TotpSecret::generate(&mut **rng)?;
                let sealed = keys.seal(s.vpd, &s.username, &secret, &mut **rng)?;
                (secret, sealed)
            };
            let replaced = tx.authenticator(&s.username)?.is_some();
            tx.put_authenticator(&Authenticator {
                vpd: s.vpd,
                username: s.username.clone(),
                sealed,
                params,
                enrolled_at: now,
                activated_at: None,
                last_step: None,
            })?;
            audit(
                tx,
                s.vpd,
                now,
                user_actor_with(&s, s.id.audit_ref()),
                AuditEvent::AuthenticatorEnrolled {
                    username: s.username.clone(),
                    replaced,
                },
            )?;
            let manual_key = secret.to_base32();
            let totp = Totp::new(secret, params, &trust.name, &s.username.to_string())?;
            Ok(AuthenticatorEnrolment {
                uri: totp.uri(),
                manual_key,
                params,
            })
        })
    }

    /// Confirms the enrolled authenticator with the first code it shows, from the HSCN
    /// session: it becomes active. A code in the wrong shape is refused with
    /// [`Error::InvalidInput`] and costs nothing; otherwise the answer is an
    /// [`AuthenticatorOutcome`], and wrong codes count towards the step-up failure limit.
    pub fn confirm_authenticator(
        &self,
        session: SessionId,
        code: &str,
    ) -> Result<AuthenticatorOutcome> {
        let keys = self.authenticator_ring()?;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let (s, _) = check_manage_mobile(tx, session, now)?;
            let rec = tx
                .authenticator(&s.username)?
                .ok_or_else(|| Error::NoAuthenticator(s.username.clone()))?;
            if rec.is_active() {
                return Err(Error::invalid(
                    "authenticator",
                    "it is confirmed already; enrol again to replace it",
                ));
            }
            let acc = account_of(tx, &s.username)?;
            self.check_code(tx, &s, acc, rec, code, Use::Activate, now, &keys)
        })
    }

    /// Upgrades an internet session with a code from the user's authenticator app, instead of
    /// a texted code. The upgrade rules are the same (ESS internet access, the trust's Upgrade
    /// Access, this session only); the user needs an active authenticator
    /// ([`UpgradeBlocker::NoAuthenticator`] otherwise). A code's time step is accepted once:
    /// of racing upgrades with one code exactly one wins.
    pub fn upgrade_with_authenticator(
        &self,
        session: SessionId,
        code: &str,
    ) -> Result<AuthenticatorOutcome> {
        let keys = self.authenticator_ring()?;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let (s, trust, acc, held) = session_context(tx, session, now)?;
            // Read once: it is both a second factor for the upgrade checks and the code's.
            let rec = tx
                .authenticator(&s.username)?
                .filter(Authenticator::is_active);
            check_upgrade_in_with(tx, &s, &trust, &acc, &held, Some(rec.is_some()))?;
            let rec = rec.ok_or(Error::UpgradeNotAvailable(UpgradeBlocker::NoAuthenticator))?;
            self.check_code(tx, &s, acc, rec, code, Use::Upgrade, now, &keys)
        })
    }

    /// The second factors the session's user has registered, for them to choose one.
    pub fn second_factors(&self, session: SessionId) -> Result<SecondFactors> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let s = live_session(tx, session, now)?;
            let acc = account_of(tx, &s.username)?;
            let person = person_of(tx, s.vpd, &acc.employee_number)?;
            let authenticator = tx
                .authenticator(&s.username)?
                .is_some_and(|a| a.is_active());
            Ok(SecondFactors {
                mobile: person.mobile.map(|m| m.masked()),
                authenticator,
            })
        })
    }

    /// Removes a user's authenticator (needs Reset accounts), for a lost or replaced phone.
    pub fn remove_authenticator(
        &self,
        actor: &Actor,
        username: &Username,
        reason: &str,
    ) -> Result<()> {
        let reason = clean_text("reason", reason, MAX_REASON_CHARS)?;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, username.vpd(), Function::ResetAccounts, now)?;
            if !tx.delete_authenticator(username)? {
                return Err(Error::NoAuthenticator(username.clone()));
            }
            audit(
                tx,
                username.vpd(),
                now,
                who,
                AuditEvent::AuthenticatorRemoved {
                    username: username.clone(),
                    reason: reason.clone(),
                },
            )
        })
    }

    /// Checks `code` against `rec` and acts on it, in the caller's transaction.
    #[allow(clippy::too_many_arguments)]
    fn check_code(
        &self,
        tx: &mut dyn StoreTx,
        s: &Session,
        acc: Account,
        mut rec: Authenticator,
        code: &str,
        purpose: Use,
        now: DateTime<Utc>,
        keys: &AuthenticatorKeys,
    ) -> Result<AuthenticatorOutcome> {
        let code = typed_code(code, rec.params.digits)?;
        let sref = s.id.audit_ref();
        let outcome = if acc.step_up_locked {
            AuthenticatorOutcome::Locked
        } else {
            let secret = keys.open(s.vpd, &s.username, &rec.sealed)?;
            let totp = Totp::new(secret, rec.params, "", "")?;
            let window = self.authenticator_policy().window;
            match totp.check(code.as_str(), now.timestamp(), window, rec.last_step) {
                StepCheck::Accepted(step)
                    if tx.advance_authenticator_step(&s.username, step)? =>
                {
                    rec.last_step = Some(step);
                    self.accept(tx, s, sref, &acc, rec, totp.secret(), purpose, now, keys)?
                }
                // A step accepted meanwhile is a replay too. A replay is a right code, not a
                // guess, so it does not count as a failure (a person who presses "continue"
                // twice, or two tabs racing, must not lock themselves out).
                StepCheck::Accepted(_) | StepCheck::Replayed(_) => AuthenticatorOutcome::Replayed,
                StepCheck::Wrong => refuse(tx, s, acc, AuthenticatorOutcome::WrongCode, self, now)?,
            }
        };
        audit(
            tx,
            s.vpd,
            now,
            user_actor_with(s, sref),
            AuditEvent::AuthenticatorChecked {
                username: s.username.clone(),
                purpose: purpose.as_str().into(),
                outcome: outcome.as_str().into(),
            },
        )?;
        Ok(outcome)
    }

    /// A right code: activate, or upgrade. A secret sealed under a retired key is sealed again
    /// under the current one.
    #[allow(clippy::too_many_arguments)]
    fn accept(
        &self,
        tx: &mut dyn StoreTx,
        s: &Session,
        sref: SessionRef,
        _acc: &Account,
        mut rec: Authenticator,
        secret: &TotpSecret,
        purpose: Use,
        now: DateTime<Utc>,
        keys: &AuthenticatorKeys,
    ) -> Result<AuthenticatorOutcome> {
        let mut rewrite = false;
        if &rec.sealed.key_id != keys.current().id() {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            rec.sealed = keys.seal(s.vpd, &s.username, secret, &mut **rng)?;
            rewrite = true;
        }
        let outcome = match purpose {
            Use::Activate => {
                rec.activated_at = Some(now);
                rewrite = true;
                audit(
                    tx,
                    s.vpd,
                    now,
                    user_actor_with(s, sref),
                    AuditEvent::AuthenticatorActivated {
                        username: s.username.clone(),
                    },
                )?;
                AuthenticatorOutcome::Activated
            }
            Use::Upgrade => {
                AuthenticatorOutcome::Upgraded(upgrade_session(tx, s.clone(), sref, "totp", now)?)
            }
        };
        if rewrite {
            tx.put_authenticator(&rec)?;
        }
        Ok(outcome)
    }
}

/// A wrong code: counted on the account's rolling step-up window, as a wrong
/// texted code is. The one that reaches the limit locks step-up and answers
/// [`AuthenticatorOutcome::Locked`].
fn refuse<S: Store, C: Clock>(
    tx: &mut dyn StoreTx,
    s: &Session,
    mut acc: Account,
    outcome: AuthenticatorOutcome,
    esr: &Esr<S, C>,
    now: DateTime<Utc>,
) -> Result<AuthenticatorOutcome> {
    let policy = esr.config.passcodes;
    let failures = crate::passcode::count_failure(&mut acc.passcode_failure_times, now, &policy);
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
        AuthenticatorOutcome::Locked
    } else {
        outcome
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_codes() {
        assert_eq!(typed_code("123 456", 6).unwrap().as_str(), "123456");
        assert_eq!(typed_code("123-456", 6).unwrap().as_str(), "123456");
        assert_eq!(typed_code("1234 5678", 8).unwrap().as_str(), "12345678");
        assert!(typed_code("123456789", 8).is_err());
        assert!(typed_code("", 6).is_err());
        assert!(typed_code("12345", 6).is_err());
        assert!(typed_code("12345a", 6).is_err());
        assert!(typed_code("1234567", 6).is_err());
    }

    #[test]
    fn an_enrolment_never_shows_its_secret() {
        let totp = Totp::new(
            TotpSecret::from_bytes(b"12345678901234567890").unwrap(),
            TotpParams::default(),
            "T",
            "A",
        )
        .unwrap();
        let e = AuthenticatorEnrolment {
            uri: totp.uri(),
            manual_key: totp.secret().to_base32(),
            params: totp.params(),
        };
        assert!(!format!("{e:?}").contains("GEZD"));
    }
}
