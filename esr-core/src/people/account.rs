//! People and their accounts: the person record, account states, and password hashing.

use crate::error::{Error, Result};
use crate::values::MobileNumber;
use crate::values::limits::{
    MAX_NAME_CHARS, MAX_PASSWORD_BYTES, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS,
};
use crate::values::username::Username;
use crate::values::{EmailAddress, EmployeeNumber, VpdCode, clean_text};
use chrono::{DateTime, NaiveDate, Utc};
use std::fmt;

/// A person's name, as ESR prints it: `Conroy, Emma`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
// Read through `PersonName::new`, so that deserialising checks the name as constructing does.
#[cfg_attr(feature = "serde", serde(try_from = "PersonNameFields"))]
pub struct PersonName {
    /// Given (first) name.
    pub given: String,
    /// Family name (surname).
    pub family: String,
}

impl PersonName {
    /// Checks both parts: one line each, at most [`crate::values::limits::MAX_NAME_CHARS`] characters.
    pub fn new(given: &str, family: &str) -> Result<Self> {
        Ok(Self {
            given: clean_text("given name", given, MAX_NAME_CHARS)?,
            family: clean_text("surname", family, MAX_NAME_CHARS)?,
        })
    }
}

/// A [`PersonName`] as read, before [`PersonName::new`] checks it.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct PersonNameFields {
    given: String,
    family: String,
}

#[cfg(feature = "serde")]
impl TryFrom<PersonNameFields> for PersonName {
    type Error = Error;
    fn try_from(f: PersonNameFields) -> Result<Self> {
        Self::new(&f.given, &f.family)
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, {}", self.family, self.given)
    }
}

/// A member of staff (or an external learner) in one trust.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Person {
    /// The trust the person belongs to.
    pub vpd: VpdCode,
    /// Unique within the trust.
    pub employee_number: EmployeeNumber,
    /// The person's name.
    pub name: PersonName,
    /// Date of birth (used, with the recruitment e-mail, to recover a username).
    pub date_of_birth: NaiveDate,
    /// The e-mail address given at recruitment.
    pub recruitment_email: EmailAddress,
    /// The registered mobile number for the second factor. Never serialised: storage adapters
    /// keep it through this field directly.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub mobile: Option<MobileNumber>,
    /// The person's one username (Common ID).
    pub username: Username,
    /// When the person was added.
    pub created_at: DateTime<Utc>,
}

/// What is needed to add a person to a trust.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NewPerson {
    /// Employee number, unique within the trust.
    pub employee_number: EmployeeNumber,
    /// The person's name; it also forms the username.
    pub name: PersonName,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// The e-mail address used at recruitment.
    pub recruitment_email: EmailAddress,
}

/// The state of an account (DOMAIN.md, People, accounts, assignments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AccountState {
    /// In use.
    Active,
    /// Locked after too many failed log-ins; cleared by self-service recovery or an administrator.
    Locked,
    /// Urgently removed during an investigation; an administrator may reinstate it.
    Suspended,
    /// A leaver: access removed for good, history kept.
    Ended,
}

impl fmt::Display for AccountState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Active => "active",
            Self::Locked => "locked",
            Self::Suspended => "suspended",
            Self::Ended => "ended",
        })
    }
}

impl AccountState {
    /// The guarded transitions. Allowed: active ⇄ locked, active/locked → suspended,
    /// suspended → active (reinstate), and anything but ended → ended. Everything else, and
    /// anything out of ended, is refused with a hint.
    pub fn transition(self, to: AccountState) -> Result<AccountState> {
        use AccountState::*;
        let hint = match (self, to) {
            (Ended, _) => {
                "an ended account never comes back; a returning employee gets a new account"
            }
            (a, b) if a == b => "it is in that state already",
            (Active, Locked) | (Locked, Active) => return Ok(to),
            (Active | Locked, Suspended) => return Ok(to),
            (Suspended, Active) => return Ok(to),
            (_, Ended) => return Ok(to),
            (Suspended, Locked) => "a suspended account is reinstated first",
            (Active, Active) | (_, _) => "that change is not one the account lifecycle allows",
        };
        Err(Error::InvalidTransition {
            from: self,
            to,
            hint,
        })
    }

    /// Whether the person counts as an active user (for the two-administrator rule): active or
    /// locked (a lock is cleared by self-service), not suspended or ended.
    pub fn counts_as_active_user(self) -> bool {
        matches!(self, Self::Active | Self::Locked)
    }
}

/// A person's log-in account.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Account {
    /// The username, which names the trust too.
    pub username: Username,
    /// The person the account belongs to.
    pub employee_number: EmployeeNumber,
    /// Active, locked, suspended or ended.
    pub state: AccountState,
    /// Consecutive failed password log-ins since the last success or unlock.
    pub failed_logins: u32,
    /// The argon2id hash of the password, if one is set. Never serialised.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub password_hash: Option<PasswordHash>,
    /// ESS internet access approved for this user individually (besides the trust's
    /// Automatic Internet Access).
    pub internet_access_approved: bool,
    /// When the state last changed.
    pub state_changed_at: DateTime<Utc>,
    /// Wrong one-time passcodes, across challenges, within the policy's rolling
    /// [`failure_window`](crate::passcode::PasscodePolicy::failure_window) as of the last
    /// wrong one (a right code does not reset it).
    #[cfg_attr(feature = "serde", serde(default))]
    pub passcode_failures: u32,
    /// When each of those wrong codes was entered, oldest first (at most the policy's
    /// `max_failures`; older ones are dropped as they leave the window).
    #[cfg_attr(feature = "serde", serde(default))]
    pub passcode_failure_times: Vec<DateTime<Utc>>,
    /// Set when `passcode_failures` reached the limit: the account cannot step up until an
    /// administrator clears it.
    #[cfg_attr(feature = "serde", serde(default))]
    pub step_up_locked: bool,
}

/// A password as typed. Its `Debug` never shows it, it cannot be printed or serialised, and its
/// memory is overwritten when dropped.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Wraps a password without judging it (for log-in, where any input is compared).
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// Checks the password policy for a new password: 8 to 128 characters, not all one character
    /// (and, first, [`Password::check_size`]).
    pub fn check_policy(&self) -> Result<()> {
        self.check_size()?;
        let n = self.0.chars().count();
        if n < MIN_PASSWORD_CHARS {
            return Err(Error::WeakPassword("it must be at least 8 characters long"));
        }
        if n > MAX_PASSWORD_CHARS {
            return Err(Error::WeakPassword(
                "it must be at most 128 characters long",
            ));
        }
        let mut chars = self.0.chars();
        let first = chars.next();
        if chars.all(|c| Some(c) == first) {
            return Err(Error::WeakPassword(
                "it repeats one character; choose a passphrase",
            ));
        }
        Ok(())
    }

    /// Refuses a password of more than [`MAX_PASSWORD_BYTES`] bytes with
    /// [`Error::InvalidInput`], before anything hashes it (every password given to the library
    /// is checked so, at log-in too).
    pub fn check_size(&self) -> Result<()> {
        Ok(crate::values::limits::check_bytes(
            "password",
            &self.0,
            MAX_PASSWORD_BYTES,
        )?)
    }

    pub(crate) fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl Drop for Password {
    fn drop(&mut self) {
        // Overwrite the secret before the allocation is freed.
        let bytes = std::mem::take(&mut self.0).into_bytes();
        let mut bytes = bytes;
        for b in bytes.iter_mut() {
            // Volatile-free best effort: black_box keeps the writes from being optimised away.
            *b = std::hint::black_box(0);
        }
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// An argon2id password hash as a PHC string. Only this is stored, never the password.
///
/// Shared, not copied, when its account is cloned (every request reads the account).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(std::sync::Arc<str>);

impl PasswordHash {
    /// Wraps a PHC string read back from storage, checking it is an argon2id hash.
    pub fn from_phc(phc: &str) -> Result<Self> {
        let parsed = argon2::PasswordHash::new(phc)
            .map_err(|_| Error::invalid("password hash", "it is not a PHC string"))?;
        if parsed.algorithm.as_str() != "argon2id" {
            return Err(Error::invalid(
                "password hash",
                "only argon2id hashes are accepted",
            ));
        }
        Ok(Self(phc.into()))
    }

    /// The PHC string, for a storage adapter to persist.
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(argon2id, <redacted>)")
    }
}

/// The cost of argon2id password hashing. The default is OWASP's recommendation (19 MiB, two
/// passes, one lane).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PasswordHashing {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for PasswordHashing {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl PasswordHashing {
    /// The cheapest settings argon2 allows. For tests and demonstrations only: never in
    /// production, where they make stolen hashes cheap to crack.
    pub fn insecure_fast_for_tests() -> Self {
        Self {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
        }
    }

    pub(crate) fn check(&self) -> Result<()> {
        self.hasher().map(|_| ())
    }

    fn hasher(&self) -> Result<argon2::Argon2<'static>> {
        let params = argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| Error::invalid("password hashing settings", e.to_string()))?;
        Ok(argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            params,
        ))
    }

    pub(crate) fn hash(&self, password: &Password, salt: &[u8; 16]) -> Result<PasswordHash> {
        use argon2::PasswordHasher;
        let h = self
            .hasher()?
            .hash_password_with_salt(password.expose(), salt)
            .map_err(|e| Error::invalid("password", e.to_string()))?;
        Ok(PasswordHash(h.to_string().into()))
    }

    /// Verifies in constant time with the parameters recorded in the hash itself.
    pub(crate) fn verify(&self, password: &Password, hash: &PasswordHash) -> bool {
        use argon2::PasswordVerifier;
        let Ok(parsed) = argon2::PasswordHash::new(&hash.0) else {
            return false;
        };
        argon2::Argon2::default()
            .verify_password(password.expose(), &parsed)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Found by the serde fuzz target: deserialising built names `PersonName::new` refuses.
    #[cfg(feature = "serde")]
    #[test]
    fn deserialising_a_name_checks_it_as_new_does() {
        let read = |j: &str| serde_json::from_str::<PersonName>(j);
        assert!(read(r#"{"given":"Emma\nX","family":"Conroy"}"#).is_err());
        assert!(read(r#"{"given":"Emma","family":""}"#).is_err());
        let long = "x".repeat(101);
        assert!(read(&format!(r#"{{"given":"{long}","family":"Conroy"}}"#)).is_err());
        let ok = read(r#"{"given":"Emma","family":"Conroy"}"#).unwrap();
        assert_eq!(ok, PersonName::new("Emma", "Conroy").unwrap());
        assert_eq!(read(&serde_json::to_string(&ok).unwrap()).unwrap(), ok);
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = PasswordHashing::insecure_fast_for_tests();
        let pw = Password::new("correct horse battery");
        let hash = h.hash(&pw, &[7; 16]).unwrap();
        assert!(hash.as_phc().starts_with("$argon2id$"));
        assert!(h.verify(&pw, &hash));
        assert!(!h.verify(&Password::new("wrong horse battery"), &hash));
        assert!(!format!("{hash:?}").contains(hash.as_phc()));
        assert_eq!(PasswordHash::from_phc(hash.as_phc()).unwrap(), hash);
        assert!(PasswordHash::from_phc("$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA").is_err());
    }

    #[test]
    fn passwords_do_not_print() {
        let pw = Password::new("hunter2hunter2");
        assert_eq!(format!("{pw:?}"), "Password(<redacted>)");
    }

    #[test]
    fn policy() {
        assert!(Password::new("short").check_policy().is_err());
        assert!(Password::new("aaaaaaaaaa").check_policy().is_err());
        assert!(Password::new("x".repeat(129)).check_policy().is_err());
        // The size limit comes first, and is in bytes.
        assert!(Password::new("é".repeat(512)).check_size().is_ok());
        assert_eq!(
            Password::new("é".repeat(513)).check_policy(),
            Err(Error::invalid(
                "password",
                "it is 1026 bytes long; the most is 1024 bytes; shorten it"
            ))
        );
        assert!(
            Password::new("a sensible passphrase")
                .check_policy()
                .is_ok()
        );
    }

    fn state() -> impl Strategy<Value = AccountState> {
        prop_oneof![
            Just(AccountState::Active),
            Just(AccountState::Locked),
            Just(AccountState::Suspended),
            Just(AccountState::Ended),
        ]
    }

    proptest! {
        #[test]
        fn ended_is_final(steps in proptest::collection::vec(state(), 0..30)) {
            let mut s = AccountState::Active;
            let mut ended = false;
            for to in steps {
                match s.transition(to) {
                    Ok(n) => { prop_assert!(!ended, "left the ended state"); s = n; }
                    Err(Error::InvalidTransition { from, .. }) => prop_assert_eq!(from, s),
                    Err(e) => prop_assert!(false, "unexpected {e}"),
                }
                ended |= s == AccountState::Ended;
            }
        }
    }

    #[test]
    fn transitions() {
        use AccountState::*;
        assert!(Active.transition(Locked).is_ok());
        assert!(Locked.transition(Active).is_ok());
        assert!(Suspended.transition(Active).is_ok());
        assert!(Suspended.transition(Locked).is_err());
        assert!(Active.transition(Active).is_err());
        for to in [Active, Locked, Suspended, Ended] {
            assert!(Ended.transition(to).is_err());
        }
    }
}
