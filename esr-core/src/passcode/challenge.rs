//! One-time passcodes and recovery links: the challenge machinery behind the second factor and
//! account recovery.
//!
//! # The rules
//! - A **code** is `digits` decimal digits (6 by default, 6 to 10), drawn uniformly from the
//!   injected cryptographic RNG by rejection sampling (no modulo bias).
//! - Only an **HMAC-SHA256** of the code is stored. The MAC covers the challenge id, the trust,
//!   the user, the session (through its one-way [`SessionRef`]), the purpose and the code, under
//!   a server key named by a [`KeyId`]. Keys rotate: a new key signs new challenges while the
//!   old ones stay in the [`PasscodeKeys`] ring to verify what was already sent. Tags are
//!   compared in constant time (`subtle`).
//! - A code **expires 10 minutes after it is issued** ([`CODE_LIFETIME`]), a recovery link
//!   4 hours after ([`LINK_LIFETIME`]). The boundary: a challenge issued at 12:00:00 verifies
//!   at 12:09:59.999 and is expired **at** 12:10:00, the 600th second, exactly as a session
//!   is usable strictly before its expiry. Nothing moves an expiry: not a resend (which makes a
//!   new challenge with its own expiry and supersedes the old one), not a wrong guess, not a key
//!   rotation.
//! - **Single use**: the first right answer marks the challenge approved inside the same store
//!   transaction that acts on it, so of any number of concurrent verifications exactly one wins.
//! - **Purpose binding**: a code verifies only for the purpose, user and session it was issued
//!   for.
//! - **Limits** ([`PasscodePolicy`]): wrong guesses per challenge (5), wrong codes per account
//!   over a rolling window before step-up locks until an administrator clears it (20 in 24
//!   hours; never above NIST SP 800-63B's 100; a right code does not reset the count), sends
//!   per user and per number in a window (5 per 10 minutes), and the least time between sends
//!   (30 seconds).
//! - **Keys are configured**: a service without a key ring refuses to issue or check anything
//!   ([`crate::Error::NoPasscodeKey`]); [`PasscodeKey::new`] refuses a key shorter than
//!   [`MIN_KEY_BYTES`] or made of one repeated byte.

use crate::error::{Error, Result};
use crate::values::MobileNumber;
use crate::values::SecureRandom;
use crate::values::username::Username;
use crate::values::{EmailAddress, SessionRef, VpdCode};
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// How long a one-time passcode lasts from its issue: 10 minutes (DOMAIN.md).
pub const CODE_LIFETIME: TimeDelta = TimeDelta::minutes(10);
/// How long an account-recovery link lasts from its issue: 4 hours (DOMAIN.md).
pub const LINK_LIFETIME: TimeDelta = TimeDelta::hours(4);

/// What a challenge is for. A code or link verifies only for its own purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Purpose {
    /// Confirm a first mobile number (from an HSCN session).
    RegisterMobile,
    /// Confirm a new mobile number in place of the registered one (from an HSCN session).
    ChangeMobile,
    /// Upgrade this internet session.
    UpgradeSession,
    /// Reset the password with an e-mailed link (forgotten username or password).
    ResetPassword,
    /// Unlock a locked account with an e-mailed link.
    UnlockAccount,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 5] = [
        Self::RegisterMobile,
        Self::ChangeMobile,
        Self::UpgradeSession,
        Self::ResetPassword,
        Self::UnlockAccount,
    ];

    /// Whether the challenge is an e-mailed link rather than a texted code.
    pub fn is_link(self) -> bool {
        matches!(self, Self::ResetPassword | Self::UnlockAccount)
    }

    /// How long a challenge for this purpose lasts from its issue.
    pub fn lifetime(self) -> TimeDelta {
        if self.is_link() {
            LINK_LIFETIME
        } else {
            CODE_LIFETIME
        }
    }

    /// A stable name, used in the MAC and the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RegisterMobile => "register-mobile",
            Self::ChangeMobile => "change-mobile",
            Self::UpgradeSession => "upgrade-session",
            Self::ResetPassword => "reset-password",
            Self::UnlockAccount => "unlock-account",
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A challenge's identifier: 128 random bits, shown as 32 hex digits. Not a secret on its own
/// (a code verifies only with it *and* the session it was issued in).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChallengeId([u8; 16]);

impl ChallengeId {
    /// From 16 random bytes.
    pub fn from_bytes(b: [u8; 16]) -> Self {
        Self(b)
    }
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for ChallengeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::values::write_hex(f, &self.0)
    }
}

impl fmt::Debug for ChallengeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChallengeId({self})")
    }
}

impl FromStr for ChallengeId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let mut b = [0u8; 16];
        if s.len() != 32 || hex::decode_to_slice(s, &mut b).is_err() {
            return Err(Error::invalid(
                "challenge id",
                "it must be the 32 hexadecimal digits the issue call returned",
            ));
        }
        Ok(Self(b))
    }
}

crate::values::string_serde!(ChallengeId);

/// The name of a server key: 1 to 32 characters from `A-Z a-z 0-9 - _ .`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(compact_str::CompactString);

impl KeyId {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for KeyId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if s.is_empty()
            || s.len() > crate::values::limits::MAX_KEY_ID_BYTES
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(Error::invalid(
                "passcode key id",
                "it must be 1 to 32 characters from A-Z, a-z, 0-9, '-', '_' and '.'",
            ));
        }
        Ok(Self(s.into()))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

crate::values::string_serde!(KeyId);

/// Shortest server key accepted, in bytes (HMAC-SHA256 keys should carry 256 bits).
pub const MIN_KEY_BYTES: usize = 32;

/// A server key for passcode MACs. Its `Debug` shows only the key id.
#[derive(Clone)]
pub struct PasscodeKey {
    id: KeyId,
    mac: Hmac<Sha256>,
}

impl PasscodeKey {
    /// A key named `id` with `secret` (at least 32 bytes, from the trust's secret store).
    /// Refused if shorter, or if every byte is the same (an all-zero key is a placeholder,
    /// not a secret).
    pub fn new(id: &str, secret: &[u8]) -> Result<Self> {
        if secret.len() < MIN_KEY_BYTES {
            return Err(Error::invalid(
                "passcode key",
                "it must be at least 32 bytes from a secret store or a cryptographic RNG",
            ));
        }
        if secret.iter().all(|b| *b == secret[0]) {
            return Err(Error::invalid(
                "passcode key",
                "it is one byte repeated, which is a placeholder and not a secret; use 32 bytes or more from a secret store or a cryptographic RNG",
            ));
        }
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
            .map_err(|_| Error::invalid("passcode key", "HMAC refused the key"))?;
        Ok(Self {
            id: id.parse()?,
            mac,
        })
    }

    /// A fresh random key named `id`. It exists only in this process: for tests and demos,
    /// or to be stored in the trust's secret store by the caller.
    pub fn random(id: &str, rng: &mut dyn SecureRandom) -> Result<Self> {
        let mut secret = [0u8; 32];
        loop {
            rng.fill(&mut secret).map_err(Error::Randomness)?;
            // A repeated byte has chance 2^-248 from a real RNG; a test RNG might give it.
            if !secret.iter().all(|b| *b == secret[0]) {
                break;
            }
        }
        let key = Self::new(id, &secret);
        secret.fill(0);
        key
    }

    /// The key's name.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The tag of `secret` (a code's digits or a link's random part) bound to `binding`.
    ///
    /// The MAC input is built on the stack, each variable-length field prefixed with its
    /// length, so no two bindings share an input; for a six-digit code it fits one SHA-256
    /// block.
    pub fn tag(&self, binding: &Binding<'_>, secret: &[u8]) -> PasscodeTag {
        let mut msg = StackBuf::default();
        msg.push(&[1]); // format version
        msg.push(binding.challenge.as_bytes());
        msg.push(binding.vpd.as_str().as_bytes());
        // Usernames are at most 31 characters, written as Display writes them.
        let at = msg.len;
        msg.push(&[0]);
        binding.username.write_bytes(|b| msg.push(b));
        msg.set_len_byte(at);
        match binding.session {
            Some(s) => {
                msg.push(&[8]);
                msg.push(s.as_bytes());
            }
            None => msg.push(&[0]),
        }
        msg.push(&[binding.purpose as u8]);
        let mut mac = self.mac.clone();
        mac.update(msg.as_slice());
        // The secret last, length-prefixed (codes and link secrets are at most 32 bytes).
        mac.update(&[u8::try_from(secret.len()).unwrap_or(u8::MAX)]);
        mac.update(secret);
        PasscodeTag(mac.finalize().into_bytes().into())
    }
}

/// A small stack buffer for the MAC input; writes past its end are dropped, which cannot
/// happen with valid bindings (at most 3 + 16 + 3 + 32 + 9 + 1 bytes).
struct StackBuf {
    buf: [u8; 96],
    len: usize,
}

impl Default for StackBuf {
    fn default() -> Self {
        Self {
            buf: [0; 96],
            len: 0,
        }
    }
}

impl StackBuf {
    fn push(&mut self, b: &[u8]) {
        let end = (self.len + b.len()).min(self.buf.len());
        let n = end - self.len;
        self.buf[self.len..end].copy_from_slice(&b[..n]);
        self.len = end;
    }
    /// Writes the length of what follows byte `at` into byte `at`.
    fn set_len_byte(&mut self, at: usize) {
        self.buf[at] = u8::try_from(self.len - at - 1).unwrap_or(u8::MAX);
    }
    fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl fmt::Debug for PasscodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PasscodeKey({}, secret: <redacted>)", self.id)
    }
}

/// The server keys: the current one signs new challenges; retired ones still verify challenges
/// they signed. Keep a retired key for at least [`LINK_LIFETIME`] after retiring it.
#[derive(Debug, Clone)]
pub struct PasscodeKeys {
    current: KeyId,
    keys: BTreeMap<KeyId, PasscodeKey>,
}

impl PasscodeKeys {
    /// A ring with one key, which signs.
    pub fn new(current: PasscodeKey) -> Self {
        let id = current.id.clone();
        Self {
            current: id.clone(),
            keys: BTreeMap::from([(id, current)]),
        }
    }

    /// Adds a retired key that still verifies what it signed. Refused if the id is taken.
    pub fn with_retired(mut self, key: PasscodeKey) -> Result<Self> {
        if self.keys.contains_key(&key.id) {
            return Err(Error::invalid(
                "passcode key id",
                "two keys in the ring have the same id; give each key its own",
            ));
        }
        self.keys.insert(key.id.clone(), key);
        Ok(self)
    }

    /// Rotates: `key` signs from now on, the previous current key stays to verify.
    pub fn rotate(mut self, key: PasscodeKey) -> Result<Self> {
        if self.keys.contains_key(&key.id) {
            return Err(Error::invalid(
                "passcode key id",
                "a new key needs an id never used in this ring",
            ));
        }
        self.current = key.id.clone();
        self.keys.insert(key.id.clone(), key);
        Ok(self)
    }

    /// The signing key.
    pub fn current(&self) -> &PasscodeKey {
        // The ring always holds its current key: `new` and `rotate` insert it.
        &self.keys[&self.current]
    }

    /// A key by id.
    pub fn get(&self, id: &KeyId) -> Option<&PasscodeKey> {
        self.keys.get(id)
    }
}

/// What a tag is bound to besides the secret.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    /// The challenge.
    pub challenge: &'a ChallengeId,
    /// The trust.
    pub vpd: VpdCode,
    /// The user.
    pub username: &'a Username,
    /// The session, for codes; none for recovery links.
    pub session: Option<&'a SessionRef>,
    /// The purpose.
    pub purpose: Purpose,
}

/// An HMAC-SHA256 tag: what is stored instead of a code. Compared only in constant time.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PasscodeTag(pub [u8; 32]);

impl PasscodeTag {
    /// Whether `other` is the same tag, in time independent of where they differ.
    pub fn matches(&self, other: &PasscodeTag) -> bool {
        // Word by word: four constant-time comparisons rather than thirty-two.
        let mut same = subtle::Choice::from(1);
        for (a, b) in self.0.chunks_exact(8).zip(other.0.chunks_exact(8)) {
            let (mut x, mut y) = ([0u8; 8], [0u8; 8]);
            x.copy_from_slice(a);
            y.copy_from_slice(b);
            same &= u64::from_ne_bytes(x).ct_eq(&u64::from_ne_bytes(y));
        }
        same.into()
    }
}

impl fmt::Debug for PasscodeTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasscodeTag(<redacted>)")
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for PasscodeTag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for PasscodeTag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let mut b = [0u8; 32];
        hex::decode_to_slice(s.as_bytes(), &mut b).map_err(serde::de::Error::custom)?;
        Ok(Self(b))
    }
}

/// Where a challenge was sent.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Destination {
    /// A text message to this number.
    Mobile(MobileNumber),
    /// An e-mail to this address.
    Email(EmailAddress),
}

impl Destination {
    /// What the screen may show: `xxxxxxx374`, or `j…@nhs.net` for an e-mail address.
    pub fn masked(&self) -> String {
        match self {
            Self::Mobile(m) => m.masked(),
            Self::Email(e) => {
                let s = e.as_str();
                match s.split_once('@') {
                    Some((local, domain)) => {
                        let first: String = local.chars().take(1).collect();
                        format!("{first}…@{domain}")
                    }
                    None => "…".into(),
                }
            }
        }
    }
}

impl Destination {
    /// A key for indexes: the E.164 number or the lower-cased address, tagged by kind. Never
    /// for display.
    pub fn index_key(&self) -> String {
        match self {
            Self::Mobile(m) => format!("sms:{}", m.expose_e164()),
            Self::Email(e) => format!("email:{}", e.as_str().to_lowercase()),
        }
    }
}

impl fmt::Debug for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mobile(m) => write!(f, "Mobile({})", m.masked()),
            Self::Email(_) => write!(f, "Email({})", self.masked()),
        }
    }
}

/// A challenge's stored status. [`Challenge::status_at`] adds [`ChallengeStatus::Expired`],
/// which is computed from the clock, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ChallengeStatus {
    /// Waiting for the code.
    Pending,
    /// Verified (once; it cannot verify again).
    Approved,
    /// Replaced by a newer challenge (a resend).
    Superseded,
    /// Its expiry has passed while pending.
    Expired,
    /// Too many wrong guesses killed it.
    MaxAttemptsReached,
}

impl fmt::Display for ChallengeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Superseded => "superseded",
            Self::Expired => "expired",
            Self::MaxAttemptsReached => "max attempts reached",
        })
    }
}

/// A challenge as stored: never the code, only its tag.
///
/// Store adapters persist every field; serde skips `destination` (a full phone number or
/// e-mail address), as it skips `Person::mobile`, so adapters store it from
/// [`MobileNumber::expose_e164`] or [`EmailAddress::as_str`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Challenge {
    /// The id.
    pub id: ChallengeId,
    /// The trust.
    pub vpd: VpdCode,
    /// The user it was issued for.
    pub username: Username,
    /// The session it was issued in (codes); none for recovery links.
    pub session: Option<SessionRef>,
    /// What it is for.
    pub purpose: Purpose,
    /// Where it was sent. Never serialised.
    #[cfg_attr(feature = "serde", serde(skip, default = "no_destination"))]
    pub destination: Option<Destination>,
    /// The key that made the tag.
    pub key_id: KeyId,
    /// HMAC-SHA256 of the code or link secret, bound to the fields above.
    pub tag: PasscodeTag,
    /// Digits in the code (0 for links).
    pub digits: u8,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it expires: `issued_at` plus the purpose's lifetime. Never changes.
    pub expires_at: DateTime<Utc>,
    /// Wrong guesses so far.
    pub attempts: u32,
    /// Stored status (never `Expired`, which is computed).
    pub status: ChallengeStatus,
    /// When it was approved, superseded or killed.
    pub settled_at: Option<DateTime<Utc>>,
}

#[cfg(feature = "serde")]
fn no_destination() -> Option<Destination> {
    None
}

impl Challenge {
    /// The status at `now`: a pending challenge whose expiry has come is expired. A challenge
    /// is usable strictly before `expires_at`.
    pub fn status_at(&self, now: DateTime<Utc>) -> ChallengeStatus {
        match self.status {
            ChallengeStatus::Pending if now >= self.expires_at => ChallengeStatus::Expired,
            s => s,
        }
    }

    /// Whether it can still be answered at `now`.
    pub fn is_pending_at(&self, now: DateTime<Utc>) -> bool {
        self.status_at(now) == ChallengeStatus::Pending
    }

    /// The binding its tag covers.
    pub fn binding(&self) -> Binding<'_> {
        Binding {
            challenge: &self.id,
            vpd: self.vpd,
            username: &self.username,
            session: self.session.as_ref(),
            purpose: self.purpose,
        }
    }
}

/// Limits on passcodes, with the defaults of the best verification services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PasscodePolicy {
    /// Digits in a code (6 to 10; default 6).
    pub digits: u8,
    /// Wrong guesses that kill a challenge (1 to 10; default 5).
    pub max_attempts: u32,
    /// Wrong guesses, across challenges, within `failure_window` that lock an account's
    /// step-up until an administrator clears it (1 to 100, NIST SP 800-63B's most; default 20).
    /// A right code does not reset the count: failures leave it only as they leave the window.
    pub max_failures: u32,
    /// The rolling window for `max_failures` (1 hour to 30 days; default 24 hours).
    pub failure_window: TimeDelta,
    /// Codes or links sent to one user, and to one number, within `send_window` (1 to 100;
    /// default 5).
    pub max_sends: u32,
    /// The window for `max_sends` (1 minute to 24 hours; default 10 minutes).
    pub send_window: TimeDelta,
    /// The least time between two sends to one user (0 to 10 minutes; default 30 seconds).
    pub min_resend_interval: TimeDelta,
}

impl Default for PasscodePolicy {
    fn default() -> Self {
        Self {
            digits: 6,
            max_attempts: 5,
            max_failures: 20,
            failure_window: TimeDelta::hours(24),
            max_sends: 5,
            send_window: TimeDelta::minutes(10),
            min_resend_interval: TimeDelta::seconds(30),
        }
    }
}

impl PasscodePolicy {
    /// Checks every limit is in range.
    pub fn check(&self) -> Result<()> {
        let bad = |what: &'static str, reason: &'static str| Err(Error::invalid(what, reason));
        if !(6..=10).contains(&self.digits) {
            return bad("passcode digits", "a code has from 6 to 10 digits");
        }
        if !(1..=10).contains(&self.max_attempts) {
            return bad("passcode max_attempts", "it must be from 1 to 10");
        }
        if !(1..=100).contains(&self.max_failures) {
            return bad(
                "passcode max_failures",
                "it must be from 1 to 100 (NIST SP 800-63B allows at most 100)",
            );
        }
        if self.failure_window < TimeDelta::hours(1) || self.failure_window > TimeDelta::days(30) {
            return bad(
                "passcode failure_window",
                "it must be from 1 hour to 30 days",
            );
        }
        if !(1..=100).contains(&self.max_sends) {
            return bad("passcode max_sends", "it must be from 1 to 100");
        }
        if self.send_window < TimeDelta::minutes(1) || self.send_window > TimeDelta::hours(24) {
            return bad(
                "passcode send_window",
                "it must be from 1 minute to 24 hours",
            );
        }
        if self.min_resend_interval < TimeDelta::zero()
            || self.min_resend_interval > TimeDelta::minutes(10)
        {
            return bad(
                "passcode min_resend_interval",
                "it must be from 0 seconds to 10 minutes",
            );
        }
        Ok(())
    }
}

/// A code as generated or typed. Its `Debug` never shows it; only the SMS text carries it.
#[derive(Clone, PartialEq, Eq)]
pub struct Passcode(String);

impl Passcode {
    /// Draws `digits` digits uniformly: a `u64` is redrawn while it falls in the incomplete
    /// last block of `10^digits`, so every code is equally likely.
    pub fn generate(rng: &mut dyn SecureRandom, digits: u8) -> Result<Self> {
        if !(6..=10).contains(&digits) {
            return Err(Error::invalid("passcode digits", "from 6 to 10"));
        }
        let modulus = 10u64.pow(u32::from(digits));
        let zone = u64::MAX - (u64::MAX % modulus);
        loop {
            let mut b = [0u8; 8];
            rng.fill(&mut b).map_err(Error::Randomness)?;
            let x = u64::from_le_bytes(b);
            if x < zone {
                return Ok(Self(format!(
                    "{:0width$}",
                    x % modulus,
                    width = usize::from(digits)
                )));
            }
        }
    }

    /// A code as the user typed it, with spaces and hyphens dropped. Refused, without costing
    /// an attempt, unless it is exactly `digits` digits.
    pub fn typed(s: &str, digits: u8) -> Result<Self> {
        let refuse = || {
            Error::invalid(
                "passcode",
                "type the digits of the code exactly as the text message gives them",
            )
        };
        if s.len() > crate::values::limits::MAX_PASSCODE_BYTES {
            return Err(refuse());
        }
        let code: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if code.len() != usize::from(digits) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse());
        }
        Ok(Self(code))
    }

    /// The digits. Only for the text message and the user's screen.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Passcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passcode(<redacted>)")
    }
}

/// The secret part of an e-mailed link, `<challenge id>.<64 hex digits>`. Its `Debug` never
/// shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryToken(String);

impl RecoveryToken {
    pub(crate) fn new(id: &ChallengeId, secret: &[u8; 32]) -> Self {
        Self(format!("{id}.{}", hex::encode(secret)))
    }

    /// Splits a token as given back by the user into its challenge id and secret. Refused
    /// with one message whatever is wrong with it.
    pub fn parse(s: &str) -> Result<(ChallengeId, [u8; 32])> {
        let refuse = || Error::RecoveryLinkRefused(LinkProblem::NotRecognised);
        let s = s.trim();
        if s.len() != crate::values::limits::MAX_RECOVERY_TOKEN_CHARS {
            return Err(refuse());
        }
        let (id, secret) = s.split_once('.').ok_or_else(refuse)?;
        let id: ChallengeId = id.parse().map_err(|_| refuse())?;
        let mut b = [0u8; 32];
        hex::decode_to_slice(secret, &mut b).map_err(|_| refuse())?;
        Ok((id, b))
    }

    /// The token, for the link in the e-mail. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The id of the link's challenge (the part before the dot).
    pub(crate) fn challenge_id(&self) -> ChallengeId {
        self.0
            .split_once('.')
            .and_then(|(id, _)| id.parse().ok())
            .unwrap_or(ChallengeId::from_bytes([0; 16]))
    }
}

impl fmt::Debug for RecoveryToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryToken(<redacted>)")
    }
}

/// Why a recovery link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum LinkProblem {
    /// Not a link this service issued, or not for this use.
    NotRecognised,
    /// Older than 4 hours.
    Expired,
    /// Already used (each link works once).
    AlreadyUsed,
    /// A newer link was sent since.
    Superseded,
}

impl LinkProblem {
    /// A stable code for bindings and logs: `not_recognised`, `expired`, `already_used` or
    /// `superseded`.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotRecognised => "not_recognised",
            Self::Expired => "expired",
            Self::AlreadyUsed => "already_used",
            Self::Superseded => "superseded",
        }
    }
}

impl fmt::Display for LinkProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotRecognised => "the link is not recognised",
            Self::Expired => "the link has expired (links last 4 hours)",
            Self::AlreadyUsed => "the link has already been used (each link works once)",
            Self::Superseded => "a newer link has been sent since; use that one",
        })
    }
}

/// What the user sees after a code was sent: where, until when, and how many tries are left.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PasscodeChallenge {
    /// Quote it back to verify or resend.
    pub id: ChallengeId,
    /// What the code is for.
    pub purpose: Purpose,
    /// The masked number it went to: `xxxxxxx374`.
    pub masked_destination: String,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops working (10 minutes after issue).
    pub expires_at: DateTime<Utc>,
    /// Its status when this view was made.
    pub status: ChallengeStatus,
    /// Wrong guesses left before it dies.
    pub attempts_left: u32,
}

impl PasscodeChallenge {
    pub(crate) fn of(c: &Challenge, now: DateTime<Utc>, max_attempts: u32) -> Self {
        Self {
            id: c.id,
            purpose: c.purpose,
            masked_destination: c
                .destination
                .as_ref()
                .map(Destination::masked)
                .unwrap_or_default(),
            issued_at: c.issued_at,
            expires_at: c.expires_at,
            status: c.status_at(now),
            attempts_left: max_attempts.saturating_sub(c.attempts),
        }
    }

    /// The screen's sentence: "We have sent a code to your mobile number ending: xxxxxxx374".
    pub fn message(&self) -> String {
        format!(
            "We have sent a code to your mobile number ending: {}",
            self.masked_destination
        )
    }

    /// Time left before it expires, at `now` (zero once expired).
    pub fn time_left(&self, now: DateTime<Utc>) -> TimeDelta {
        (self.expires_at - now).max(TimeDelta::zero())
    }
}

/// What verifying a code came to. Only [`VerifyOutcome::Approved`] changes anything beyond the
/// attempt counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyOutcome {
    /// The code was right; the purpose was carried out (the session upgraded, or the number
    /// registered).
    Approved(Approved),
    /// The code was wrong; the challenge takes more guesses (the guess that kills it answers
    /// [`VerifyOutcome::TooManyAttempts`], the one that locks step-up [`VerifyOutcome::Locked`]).
    WrongCode {
        /// Wrong guesses left on this challenge.
        attempts_left: u32,
    },
    /// The challenge's 10 minutes are up: ask for a new code.
    Expired,
    /// The code was already used: codes work once.
    AlreadyUsed,
    /// A newer code was sent: use the latest one.
    Superseded,
    /// Too many wrong guesses on this challenge (this one included): ask for a new code.
    TooManyAttempts,
    /// Too many wrong codes on this account within the window (this one included, or
    /// earlier): an administrator must clear the lock before the account can step up again.
    Locked,
    /// No such challenge for this session and purpose.
    UnknownChallenge,
}

impl VerifyOutcome {
    /// Whether the code was accepted.
    pub fn is_approved(&self) -> bool {
        matches!(self, Self::Approved(_))
    }

    /// A short stable name for the audit trail and bindings.
    pub fn as_str(&self) -> &'static str {
        self.status().as_str()
    }

    /// Which outcome this is, without its details.
    pub fn status(&self) -> VerifyStatus {
        match self {
            Self::Approved(_) => VerifyStatus::Approved,
            Self::WrongCode { .. } => VerifyStatus::WrongCode,
            Self::Expired => VerifyStatus::Expired,
            Self::AlreadyUsed => VerifyStatus::AlreadyUsed,
            Self::Superseded => VerifyStatus::Superseded,
            Self::TooManyAttempts => VerifyStatus::TooManyAttempts,
            Self::Locked => VerifyStatus::Locked,
            Self::UnknownChallenge => VerifyStatus::UnknownChallenge,
        }
    }

    /// The outcome as one record of optional details, for callers without sum types (the
    /// bindings): its status, and whichever of the guesses left, the upgraded session or the
    /// registered number it carries.
    pub fn flatten(self) -> FlatVerifyOutcome {
        let mut flat = FlatVerifyOutcome {
            status: self.status(),
            attempts_left: None,
            session: None,
            masked_mobile: None,
            mobile_changed: false,
        };
        match self {
            Self::Approved(Approved::SessionUpgraded(s)) => flat.session = Some(s),
            Self::Approved(Approved::MobileRegistered { masked, changed }) => {
                flat.masked_mobile = Some(masked);
                flat.mobile_changed = changed;
            }
            Self::WrongCode { attempts_left } => flat.attempts_left = Some(attempts_left),
            Self::Expired
            | Self::AlreadyUsed
            | Self::Superseded
            | Self::TooManyAttempts
            | Self::Locked
            | Self::UnknownChallenge => {}
        }
        flat
    }
}

/// Which [`VerifyOutcome`] a code came to, without its details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerifyStatus {
    /// The code was right and its purpose carried out.
    Approved,
    /// The code was wrong.
    WrongCode,
    /// The challenge's 10 minutes are up.
    Expired,
    /// The code was already used.
    AlreadyUsed,
    /// A newer code was sent.
    Superseded,
    /// Too many wrong guesses on this challenge.
    TooManyAttempts,
    /// Step-up is locked for the account.
    Locked,
    /// No such challenge for this session and purpose.
    UnknownChallenge,
}

impl VerifyStatus {
    /// A short stable name for the audit trail and bindings (`"wrong code"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::WrongCode => "wrong code",
            Self::Expired => "expired",
            Self::AlreadyUsed => "already used",
            Self::Superseded => "superseded",
            Self::TooManyAttempts => "max attempts reached",
            Self::Locked => "locked",
            Self::UnknownChallenge => "unknown challenge",
        }
    }
}

/// A [`VerifyOutcome`] flattened ([`VerifyOutcome::flatten`]): its status and the details it
/// carried, each `None` (or `false`) when it carried none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatVerifyOutcome {
    /// Which outcome.
    pub status: VerifyStatus,
    /// After a wrong code: guesses left on this challenge.
    pub attempts_left: Option<u32>,
    /// After an upgrade: the upgraded session.
    pub session: Option<crate::access::Session>,
    /// After registering a number: the masked number.
    pub masked_mobile: Option<String>,
    /// After registering a number: whether it replaced another.
    pub mobile_changed: bool,
}

impl FlatVerifyOutcome {
    /// Whether the code was accepted.
    pub fn is_approved(&self) -> bool {
        self.status == VerifyStatus::Approved
    }
}

/// What an approved code did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approved {
    /// The session is upgraded.
    SessionUpgraded(crate::access::Session),
    /// The number is now the user's registered mobile.
    MobileRegistered {
        /// The masked number.
        masked: String,
        /// Whether it replaced another number.
        changed: bool,
    },
}

/// Unmatched recovery requests of one trust in the current flood window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FloodWindow {
    /// When the window began.
    pub(crate) start: DateTime<Utc>,
    /// Unmatched requests audited one by one in it.
    pub(crate) audited: u32,
    /// Unmatched requests counted but not audited one by one.
    pub(crate) suppressed: u64,
}

/// A shared, thread-safe key ring, swapped whole on rotation.
pub(crate) type SharedKeys = Arc<PasscodeKeys>;

#[cfg(test)]
mod tests;
