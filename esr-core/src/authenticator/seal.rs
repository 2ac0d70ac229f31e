//! The secret at rest: sealed with AES-256-GCM under a key of a rotating ring kept outside
//! the store (like the passcode keys), bound to the trust and user it belongs to.
//!
//! AES-256-GCM rather than ChaCha20-Poly1305: each key's cipher (its AES round keys and its
//! GHASH key) is set up once, when the ring is built, so opening a 20-byte secret costs a few
//! AES blocks and GHASH multiplications with AES-NI and CLMUL (detected at run time; the
//! portable fallbacks are constant-time too). ChaCha20-Poly1305 derives a Poly1305 key per
//! message, which took most of a verification's time. Nonces are 96 random bits, one per
//! sealing: a key seals once per enrolment or rotation, far below GCM's limit of 2^32 random
//! nonces per key.

use crate::authenticator::TotpSecret;
use crate::error::{Error, Result};
use crate::passcode::KeyId;
use crate::values::SecureRandom;
use crate::values::VpdCode;
use crate::values::username::Username;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use std::collections::BTreeMap;
use std::fmt;

/// The authenticator key ring as the service holds it.
pub(crate) type SharedAuthenticatorKeys = std::sync::Arc<AuthenticatorKeys>;

/// Bytes of an authenticator key.
pub const AUTHENTICATOR_KEY_BYTES: usize = 32;

/// A key that seals authenticator secrets. Its `Debug` shows only the key id.
#[derive(Clone)]
pub struct AuthenticatorKey {
    id: KeyId,
    cipher: Aes256Gcm,
}

impl AuthenticatorKey {
    /// A key named `id` with `secret` (exactly 32 bytes, from the trust's secret store).
    /// Refused if another length, or one byte repeated (a placeholder, not a secret).
    pub fn new(id: &str, secret: &[u8]) -> Result<Self> {
        if secret.len() != AUTHENTICATOR_KEY_BYTES {
            return Err(Error::invalid(
                "authenticator key",
                "it must be exactly 32 bytes from a secret store or a cryptographic RNG",
            ));
        }
        if secret.iter().all(|b| *b == secret[0]) {
            return Err(Error::invalid(
                "authenticator key",
                "it is one byte repeated, which is a placeholder and not a secret; use 32 bytes from a secret store or a cryptographic RNG",
            ));
        }
        let cipher = Aes256Gcm::new_from_slice(secret)
            .map_err(|_| Error::invalid("authenticator key", "the cipher refused the key"))?;
        Ok(Self {
            id: id.parse()?,
            cipher,
        })
    }

    /// A fresh random key named `id`: for tests and demos, or to be stored in the trust's
    /// secret store by the caller.
    pub fn random(id: &str, rng: &mut dyn SecureRandom) -> Result<Self> {
        let mut secret = [0u8; AUTHENTICATOR_KEY_BYTES];
        loop {
            rng.fill(&mut secret).map_err(Error::Randomness)?;
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
}

impl fmt::Debug for AuthenticatorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthenticatorKey({}, secret: <redacted>)", self.id)
    }
}

/// The ring of authenticator keys: the current one seals, retired ones still open what they
/// sealed (and a verified secret is sealed again under the current key), so a key can be
/// retired once nothing stored uses it.
#[derive(Debug, Clone)]
pub struct AuthenticatorKeys {
    current: KeyId,
    keys: BTreeMap<KeyId, AuthenticatorKey>,
}

impl AuthenticatorKeys {
    /// A ring with one key, which seals.
    pub fn new(current: AuthenticatorKey) -> Self {
        let id = current.id.clone();
        Self {
            current: id.clone(),
            keys: BTreeMap::from([(id, current)]),
        }
    }

    /// Adds a retired key that still opens what it sealed. Refused if the id is taken.
    pub fn with_retired(mut self, key: AuthenticatorKey) -> Result<Self> {
        if self.keys.contains_key(&key.id) {
            return Err(Error::invalid(
                "authenticator key id",
                "two keys in the ring have the same id; give each key its own",
            ));
        }
        self.keys.insert(key.id.clone(), key);
        Ok(self)
    }

    /// Rotates: `key` seals from now on; the previous current key stays to open.
    pub fn rotate(mut self, key: AuthenticatorKey) -> Result<Self> {
        if self.keys.contains_key(&key.id) {
            return Err(Error::invalid(
                "authenticator key id",
                "a new key needs an id never used in this ring",
            ));
        }
        self.current = key.id.clone();
        self.keys.insert(key.id.clone(), key);
        Ok(self)
    }

    /// The sealing key.
    pub fn current(&self) -> &AuthenticatorKey {
        &self.keys[&self.current]
    }

    /// A key by id.
    pub fn get(&self, id: &KeyId) -> Option<&AuthenticatorKey> {
        self.keys.get(id)
    }

    /// Seals `secret` for `username` of trust `vpd` under the current key, with a fresh
    /// 96-bit nonce from `rng`.
    pub fn seal(
        &self,
        vpd: VpdCode,
        username: &Username,
        secret: &TotpSecret,
        rng: &mut dyn SecureRandom,
    ) -> Result<SealedSecret> {
        let key = self.current();
        let mut nonce = [0u8; NONCE_BYTES];
        rng.fill(&mut nonce).map_err(Error::Randomness)?;
        let aad = AssociatedData::new(vpd, username)?;
        let plain = secret.expose();
        let mut ciphertext = Vec::with_capacity(1 + plain.len() + TAG_BYTES);
        ciphertext.push(FORMAT_AES_256_GCM);
        ciphertext.extend_from_slice(plain);
        let tag = key
            .cipher
            .encrypt_inout_detached(
                &Nonce::from(nonce),
                aad.as_bytes(),
                (&mut ciphertext[1..]).into(),
            )
            .map_err(|_| Error::Storage("sealing an authenticator secret failed".into()))?;
        ciphertext.extend_from_slice(&tag);
        Ok(SealedSecret {
            key_id: key.id.clone(),
            nonce,
            ciphertext,
        })
    }

    /// Opens a sealed secret of `username` of trust `vpd`. Refused with
    /// [`Error::UnknownAuthenticatorKey`] when its key is not in the ring, and with
    /// [`Error::Storage`] when it does not open (altered, or moved to another user).
    pub fn open(
        &self,
        vpd: VpdCode,
        username: &Username,
        sealed: &SealedSecret,
    ) -> Result<TotpSecret> {
        let key = self
            .get(&sealed.key_id)
            .ok_or_else(|| Error::UnknownAuthenticatorKey(sealed.key_id.to_string()))?;
        let refused = || {
            Error::Storage(
                "a stored authenticator secret does not open: it was altered or moved".into(),
            )
        };
        let (body, tag) = match sealed.ciphertext.split_first() {
            Some((&FORMAT_AES_256_GCM, rest)) if rest.len() >= TAG_BYTES => {
                rest.split_at(rest.len() - TAG_BYTES)
            }
            _ => return Err(refused()),
        };
        // Opened on the stack (a secret is at most 64 bytes), and wiped after.
        let mut plain = [0u8; MAX_SECRET_BYTES];
        let plain = plain.get_mut(..body.len()).ok_or_else(refused)?;
        plain.copy_from_slice(body);
        let aad = AssociatedData::new(vpd, username)?;
        let opened = key.cipher.decrypt_inout_detached(
            &Nonce::from(sealed.nonce),
            aad.as_bytes(),
            (&mut *plain).into(),
            &Tag::try_from(tag).map_err(|_| refused())?,
        );
        let secret = opened
            .map_err(|_| refused())
            .and_then(|()| TotpSecret::from_bytes(plain));
        plain.fill(0);
        // Keeps the wipe from being optimised away as a dead store.
        std::hint::black_box(&*plain);
        secret
    }
}

/// The sealed format: AES-256-GCM, 96-bit nonce, 128-bit tag, bound to [`AssociatedData`].
/// The first byte of [`SealedSecret::ciphertext`], so another format can follow.
const FORMAT_AES_256_GCM: u8 = 1;
const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;
/// The longest secret (see [`TotpSecret::from_bytes`]).
const MAX_SECRET_BYTES: usize = 64;

/// What a sealed secret is bound to: format, trust and user. Built on the stack, as it is on
/// every verification.
struct AssociatedData {
    bytes: [u8; 96],
    len: usize,
    overflowed: bool,
}

impl AssociatedData {
    fn new(vpd: VpdCode, username: &Username) -> Result<Self> {
        let mut aad = Self {
            bytes: [0; 96],
            len: 0,
            overflowed: false,
        };
        aad.push(b"esr-totp\0");
        aad.push(&[FORMAT_AES_256_GCM, 0]);
        aad.push(vpd.as_str().as_bytes());
        aad.push(b"\0");
        username.write_bytes(|b| aad.push(b));
        if aad.overflowed {
            return Err(Error::Storage(
                "an authenticator's username is too long to seal".into(),
            ));
        }
        Ok(aad)
    }

    fn push(&mut self, b: &[u8]) {
        let end = self.len + b.len();
        match self.bytes.get_mut(self.len..end) {
            Some(to) => {
                to.copy_from_slice(b);
                self.len = end;
            }
            None => self.overflowed = true,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// An authenticator secret as stored: key id, nonce, and the sealed bytes (a format byte,
/// the ciphertext and its tag). Its `Debug` shows only the key id.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    /// The key that sealed it.
    pub key_id: KeyId,
    /// The nonce.
    pub nonce: [u8; 12],
    /// The format byte (1: AES-256-GCM), then the ciphertext and its 16-byte tag.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedSecret(key {}, <sealed>)", self.key_id)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    fn ring() -> AuthenticatorKeys {
        AuthenticatorKeys::new(
            AuthenticatorKey::new("k1", b"totp-seal-test-key-0123456789abc").unwrap(),
        )
    }

    fn user(u: &str) -> Username {
        u.parse().unwrap()
    }

    fn secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890").unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_for_its_user_only() {
        let keys = ring();
        let (vpd, u) = ("297".parse().unwrap(), user("297JSMITH01"));
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let sealed = keys.seal(vpd, &u, &secret(), &mut rng).unwrap();
        assert_eq!(sealed.key_id.as_str(), "k1");
        assert_eq!(sealed.ciphertext[0], FORMAT_AES_256_GCM);
        assert_eq!(sealed.ciphertext.len(), 1 + 20 + TAG_BYTES);
        assert_ne!(&sealed.ciphertext[1..21], secret().expose());
        assert_eq!(keys.open(vpd, &u, &sealed).unwrap(), secret());
        // Another user, another trust: refused.
        assert!(keys.open(vpd, &user("297JSMITH02"), &sealed).is_err());
        assert!(keys.open("298".parse().unwrap(), &u, &sealed).is_err());
        // A fresh nonce each time.
        let again = keys.seal(vpd, &u, &secret(), &mut rng).unwrap();
        assert_ne!(again.nonce, sealed.nonce);
        assert_ne!(again.ciphertext, sealed.ciphertext);
    }

    #[test]
    fn an_altered_sealed_secret_does_not_open() {
        let keys = ring();
        let (vpd, u) = ("297".parse().unwrap(), user("297JSMITH01"));
        let sealed = keys
            .seal(vpd, &u, &secret(), &mut ChaCha20Rng::seed_from_u64(2))
            .unwrap();
        for i in 0..sealed.ciphertext.len() {
            let mut bad = sealed.clone();
            bad.ciphertext[i] ^= 1;
            assert!(keys.open(vpd, &u, &bad).is_err(), "byte {i}");
        }
        let mut bad = sealed.clone();
        bad.nonce[0] ^= 1;
        assert!(keys.open(vpd, &u, &bad).is_err());
        for len in [0, 1, TAG_BYTES, 1 + TAG_BYTES] {
            let mut short = sealed.clone();
            short.ciphertext.truncate(len);
            assert!(keys.open(vpd, &u, &short).is_err(), "length {len}");
        }
        let mut long = sealed.clone();
        long.ciphertext.splice(1..1, [0u8; 64]);
        assert!(keys.open(vpd, &u, &long).is_err());
    }

    #[test]
    fn a_retired_key_still_opens_and_an_unknown_one_is_named() {
        let old = ring();
        let (vpd, u) = ("297".parse().unwrap(), user("297JSMITH01"));
        let sealed = old
            .seal(vpd, &u, &secret(), &mut ChaCha20Rng::seed_from_u64(3))
            .unwrap();
        let rotated = old
            .rotate(AuthenticatorKey::new("k2", b"totp-seal-test-key-abcdefghijklm").unwrap())
            .unwrap();
        assert_eq!(rotated.current().id().as_str(), "k2");
        assert_eq!(rotated.open(vpd, &u, &sealed).unwrap(), secret());
        let other = AuthenticatorKeys::new(
            AuthenticatorKey::new("k3", b"totp-seal-test-key-ABCDEFGHIJKLM").unwrap(),
        );
        assert!(matches!(
            other.open(vpd, &u, &sealed),
            Err(Error::UnknownAuthenticatorKey(_))
        ));
    }
}
