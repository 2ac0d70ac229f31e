//! The audit keys: HMAC-SHA-256 keys, held outside the store, that chain the trail and sign
//! its checkpoints, so that whoever can write the store but does not hold a key cannot rewrite
//! an entry and recompute the hashes after it.

use crate::error::{Error, Result};
use crate::passcode::KeyId;
use crate::values::SecureRandom;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::fmt;

/// Shortest audit key accepted, in bytes (HMAC-SHA-256 keys should carry 256 bits).
pub const MIN_AUDIT_KEY_BYTES: usize = 32;

/// An audit key: an HMAC-SHA-256 key and its id, which every entry it chains records. Its
/// `Debug` shows only the id; it has no `Display` and no serde, so it cannot reach a log or the
/// store.
#[derive(Clone)]
pub struct AuditKey {
    id: KeyId,
    mac: Hmac<Sha256>,
}

impl AuditKey {
    /// A key named `id` (1 to 32 characters from `A-Z a-z 0-9 - _ .`) with `secret` (at least
    /// 32 bytes from the trust's secret store). Refused if shorter, or if every byte is the
    /// same (a placeholder, not a secret).
    pub fn new(id: &str, secret: &[u8]) -> Result<Self> {
        if secret.len() < MIN_AUDIT_KEY_BYTES {
            return Err(Error::invalid(
                "audit key",
                "it must be at least 32 bytes from a secret store or a cryptographic RNG",
            ));
        }
        if secret.iter().all(|b| *b == secret[0]) {
            return Err(Error::invalid(
                "audit key",
                "it is one byte repeated, which is a placeholder and not a secret; use 32 bytes or more from a secret store or a cryptographic RNG",
            ));
        }
        let id = id.parse().map_err(|_| {
            Error::invalid(
                "audit key id",
                "it must be 1 to 32 characters from A-Z, a-z, 0-9, '-', '_' and '.'",
            )
        })?;
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
            .map_err(|_| Error::invalid("audit key", "HMAC refused the key"))?;
        Ok(Self { id, mac })
    }

    /// A fresh random key named `id`. It exists only in this process: for tests and demos, or
    /// to be stored in the trust's secret store by the caller.
    pub fn random(id: &str, rng: &mut dyn SecureRandom) -> Result<Self> {
        let mut secret = [0u8; 32];
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

    /// The key's id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// HMAC-SHA-256 of `msg` under this key.
    pub(crate) fn mac(&self, msg: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(msg);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditKey({}, secret: <redacted>)", self.id)
    }
}

/// The audit key ring: the current key chains new entries and signs new checkpoints; retired
/// keys still verify what they chained and signed. Keep every key whose entries or checkpoints
/// are still in the store or in an archive you may verify.
#[derive(Debug, Clone)]
pub struct AuditKeys {
    current: KeyId,
    keys: BTreeMap<KeyId, AuditKey>,
}

impl AuditKeys {
    /// A ring with one key, the current one.
    pub fn new(current: AuditKey) -> Self {
        let id = current.id.clone();
        Self {
            current: id.clone(),
            keys: BTreeMap::from([(id, current)]),
        }
    }

    /// Adds a retired key that still verifies what it chained. Refused if the id is taken.
    pub fn with_retired(mut self, key: AuditKey) -> Result<Self> {
        if self.keys.contains_key(&key.id) {
            return Err(Error::invalid(
                "audit key id",
                "two keys in the ring have the same id; give each key its own",
            ));
        }
        self.keys.insert(key.id.clone(), key);
        Ok(self)
    }

    /// Rotates: `key` chains and signs from now on; the previous current key stays to verify.
    pub fn rotate(mut self, key: AuditKey) -> Result<Self> {
        if self.keys.contains_key(&key.id) {
            return Err(Error::invalid(
                "audit key id",
                "a new key needs an id never used in this ring",
            ));
        }
        self.current = key.id.clone();
        self.keys.insert(key.id.clone(), key);
        Ok(self)
    }

    /// The key that chains new entries.
    pub fn current(&self) -> &AuditKey {
        // The ring always holds its current key: `new` and `rotate` insert it.
        &self.keys[&self.current]
    }

    /// A key by id.
    pub fn get(&self, id: &KeyId) -> Option<&AuditKey> {
        self.keys.get(id)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn short_or_placeholder_keys_are_refused_and_debug_hides_the_secret() {
        assert!(AuditKey::new("a", &[7; 31]).is_err());
        assert!(AuditKey::new("a", &[7; 32]).is_err());
        assert!(
            AuditKey::new(
                "bad id!",
                &[
                    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                    23, 24, 25, 26, 27, 28, 29, 30, 31, 32
                ]
            )
            .is_err()
        );
        let secret: Vec<u8> = (1..=32).collect();
        let k = AuditKey::new("audit-1", &secret).unwrap();
        let shown = format!("{k:?} {:?}", AuditKeys::new(k.clone()));
        assert!(shown.contains("audit-1") && shown.contains("redacted"));
        assert!(!shown.contains("mac"), "{shown}");
    }

    #[test]
    fn rotation_keeps_the_old_key_and_refuses_a_reused_id() {
        let a = AuditKey::new("a", &(1..=32).collect::<Vec<u8>>()).unwrap();
        let b = AuditKey::new("b", &(2..=33).collect::<Vec<u8>>()).unwrap();
        let ring = AuditKeys::new(a.clone()).rotate(b.clone()).unwrap();
        assert_eq!(ring.current().id().as_str(), "b");
        assert!(ring.get(a.id()).is_some());
        assert!(ring.clone().rotate(a).is_err());
        assert!(ring.with_retired(b).is_err());
    }
}
