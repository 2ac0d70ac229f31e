//! The secret at rest: sealed with ChaCha20-Poly1305 under a key of a rotating ring kept
//! outside the store (like the passcode keys), bound to the trust and user it belongs to.

use crate::authenticator::TotpSecret;
use crate::error::{Error, Result};
use crate::passcode::KeyId;
use crate::values::SecureRandom;
use crate::values::VpdCode;
use crate::values::username::Username;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
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
    cipher: ChaCha20Poly1305,
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
        let cipher = ChaCha20Poly1305::new_from_slice(secret)
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
        let mut nonce = [0u8; 12];
        rng.fill(&mut nonce).map_err(Error::Randomness)?;
        let aad = associated_data(vpd, username);
        let ciphertext = key
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: secret.expose(),
                    aad: &aad,
                },
            )
            .map_err(|_| Error::Storage("sealing an authenticator secret failed".into()))?;
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
        let aad = associated_data(vpd, username);
        let mut plain = key
            .cipher
            .decrypt(
                &Nonce::from(sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| {
                Error::Storage(
                    "a stored authenticator secret does not open: it was altered or moved".into(),
                )
            })?;
        let secret = TotpSecret::from_bytes(&plain);
        plain.fill(0);
        secret
    }
}

/// What a sealed secret is bound to: format, trust and user.
fn associated_data(vpd: VpdCode, username: &Username) -> Vec<u8> {
    let mut aad = b"esr-totp-v1\0".to_vec();
    aad.extend_from_slice(vpd.as_str().as_bytes());
    aad.push(0);
    aad.extend_from_slice(username.to_string().as_bytes());
    aad
}

/// An authenticator secret as stored: key id, nonce and ciphertext (with its tag). Its
/// `Debug` shows only the key id.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    /// The key that sealed it.
    pub key_id: KeyId,
    /// The nonce.
    pub nonce: [u8; 12],
    /// The ciphertext and its 16-byte tag.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedSecret(key {}, <sealed>)", self.key_id)
    }
}
