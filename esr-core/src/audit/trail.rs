//! The audit trail: append-only, one chain per trust, each entry hashed with SHA-256 over the
//! previous entry's hash so that editing, removing or reordering an entry is detected.
//!
//! No entry ever holds a password, code, token or full phone number: the event types below have
//! no field that could carry one.

use super::event::{AuditEvent, FieldText};
pub use super::hash::AuditHash;
use super::key::{AuditKey, AuditKeys};
use crate::error::{Error, Result};
use crate::passcode::KeyId;
use crate::values::username::Username;
use crate::values::{SessionRef, VpdCode};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::fmt;

/// Who did what an entry records.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AuditActor {
    /// A user, in a session.
    User {
        /// The user.
        username: Username,
        /// The session (a one-way reference, never the id itself).
        session: SessionRef,
    },
    /// A process of the embedding system.
    System(String),
    /// Someone not yet identified (a failed log-in).
    Anonymous,
}

impl fmt::Display for AuditActor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User { username, .. } => write!(f, "{username}"),
            Self::System(p) => write!(f, "system: {p}"),
            Self::Anonymous => f.write_str("anonymous"),
        }
    }
}

/// One entry of a trust's audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AuditEntry {
    /// The trust whose trail this is.
    pub vpd: VpdCode,
    /// Position in the trail, from 1 with no gaps.
    pub seq: u64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor: AuditActor,
    /// What happened.
    pub event: AuditEvent,
    /// The previous entry's hash ([`AuditHash::GENESIS`] for the first).
    pub prev_hash: AuditHash,
    /// This entry's hash, over `prev_hash`, every field above and `key`: an HMAC-SHA-256
    /// under the audit key `key` names, or (with no key) a plain SHA-256 that anyone who can
    /// write the store can recompute.
    pub hash: AuditHash,
    /// The id of the [`AuditKey`](super::AuditKey) that chained this entry; `None` for an
    /// entry written by a service with no audit key.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub key: Option<KeyId>,
}

impl AuditEntry {
    /// Builds the entry that follows `prev` (or starts the chain), computing its hash.
    pub fn next(
        prev: Option<&AuditEntry>,
        vpd: VpdCode,
        at: DateTime<Utc>,
        actor: AuditActor,
        event: AuditEvent,
    ) -> Self {
        let head = prev.map_or(AuditHead::EMPTY, |p| AuditHead {
            seq: p.seq,
            hash: p.hash,
        });
        Self::after(head, vpd, at, actor, event)
    }

    /// Builds the entry that follows the trail whose newest entry is `head`
    /// ([`AuditHead::EMPTY`] to start the chain), computing its hash: as [`AuditEntry::next`],
    /// knowing only the link.
    pub fn after(
        head: AuditHead,
        vpd: VpdCode,
        at: DateTime<Utc>,
        actor: AuditActor,
        event: AuditEvent,
    ) -> Self {
        Self::after_keyed(head, vpd, at, actor, event, None)
    }

    /// As [`AuditEntry::after`], chaining with `key` (an HMAC under it, recording its id), or
    /// with plain SHA-256 when `key` is `None`.
    pub fn after_keyed(
        head: AuditHead,
        vpd: VpdCode,
        at: DateTime<Utc>,
        actor: AuditActor,
        event: AuditEvent,
        key: Option<&AuditKey>,
    ) -> Self {
        let (seq, prev_hash) = (head.seq + 1, head.hash);
        let mut e = Self {
            vpd,
            seq,
            at,
            actor,
            event,
            prev_hash,
            hash: AuditHash::GENESIS,
            key: key.map(|k| k.id().clone()),
        };
        e.hash = match key {
            Some(k) => e.keyed_hash(k),
            None => e.compute_hash(),
        };
        e
    }

    /// The unkeyed hash this entry's contents should have: SHA-256 over its canonical bytes.
    /// Only entries with no `key` are chained with it.
    pub fn compute_hash(&self) -> AuditHash {
        AuditHash(Sha256::digest(self.canonical_bytes()).into())
    }

    /// The keyed hash this entry's contents should have under `key`: HMAC-SHA-256 over the
    /// same canonical bytes (which include the previous hash and the key's id).
    pub fn keyed_hash(&self, key: &AuditKey) -> AuditHash {
        AuditHash(key.mac(&self.canonical_bytes()))
    }

    /// The hash this entry should have, keyed or not as it says, using `keys` for a keyed
    /// entry; `None` if its key is not in `keys` (or there are none).
    pub fn expected_hash(&self, keys: Option<&AuditKeys>) -> Option<AuditHash> {
        match &self.key {
            None => Some(self.compute_hash()),
            Some(id) => keys.and_then(|k| k.get(id)).map(|k| self.keyed_hash(k)),
        }
    }

    /// The bytes both hashes are computed over: every field but `hash`, each text
    /// length-prefixed, in a fixed order.
    fn canonical_bytes(&self) -> Vec<u8> {
        // The bytes hashed are gathered into one buffer and hashed in one call: feeding the
        // hasher field by field costs more in its block bookkeeping than the hashing itself.
        // Each text is its length (8 bytes, big-endian) then its UTF-8 bytes.
        struct Input(Vec<u8>);
        impl Input {
            fn raw(&mut self, b: &[u8]) {
                self.0.extend_from_slice(b);
            }
            fn put(&mut self, b: &[u8]) {
                self.raw(&(b.len() as u64).to_be_bytes());
                self.raw(b);
            }
            /// As `put` of the bytes `write` appends, with the length filled in after.
            fn put_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
                let at = self.0.len();
                self.raw(&[0; 8]);
                write(&mut self.0);
                let len = (self.0.len() - at - 8) as u64;
                self.0[at..at + 8].copy_from_slice(&len.to_be_bytes());
            }
            /// As `put` of the text `v.to_string()` would give, written in place.
            fn put_display(&mut self, v: &dyn fmt::Display) {
                use std::io::Write as _;
                // Writing to a `Vec` fails only if a `Display` implementation does, and none
                // of these does; `to_string()` would panic there, this hashes what was written.
                self.put_with(|out| {
                    let _ = write!(out, "{v}");
                });
            }
            fn put_username(&mut self, u: &Username) {
                self.put_with(|out| u.write_bytes(|b| out.extend_from_slice(b)));
            }
            /// As `put` of the lower-case hexadecimal text.
            fn put_hex(&mut self, bytes: &[u8]) {
                self.raw(&((bytes.len() * 2) as u64).to_be_bytes());
                let at = self.0.len();
                self.0.resize(at + bytes.len() * 2, 0);
                // The output is exactly twice the input's length: this cannot fail.
                let _ = hex::encode_to_slice(bytes, &mut self.0[at..]);
            }
        }
        let mut h = Input(Vec::with_capacity(512));
        match &self.key {
            None => h.put(b"esr-audit-v1"),
            Some(id) => {
                h.put(b"esr-audit-v2");
                h.put(id.as_str().as_bytes());
            }
        }
        h.raw(&self.prev_hash.0);
        h.raw(&self.seq.to_be_bytes());
        h.put(self.vpd.as_str().as_bytes());
        h.raw(&self.at.timestamp().to_be_bytes());
        h.raw(&self.at.timestamp_subsec_nanos().to_be_bytes());
        match &self.actor {
            AuditActor::User { username, session } => {
                h.put(b"user");
                h.put_username(username);
                h.put_hex(session.as_bytes());
            }
            AuditActor::System(p) => {
                h.put(b"system");
                h.put(p.as_bytes());
            }
            AuditActor::Anonymous => h.put(b"anonymous"),
        }
        h.put(self.event.kind().as_bytes());
        h.raw(&(self.event.field_count() as u64).to_be_bytes());
        self.event.visit_fields(&mut |name, text| {
            h.put(name.as_bytes());
            match text {
                FieldText::Str(s) => h.put(s.as_bytes()),
                FieldText::Owned(s) => h.put(s.as_bytes()),
                FieldText::Display(v) => h.put_display(v),
                FieldText::User(u) => h.put_username(u),
                FieldText::Hex(b) => h.put_hex(b),
            }
        });
        h.0
    }
}

/// The newest entry of a verified trail: keep it somewhere the store cannot reach (a log
/// shipped off the machine, a signed receipt) and check later trails still contain it, which
/// detects truncation and wholesale rewriting too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AuditHead {
    /// The number of entries (the newest entry's `seq`); 0 for an empty trail.
    pub seq: u64,
    /// The newest entry's hash ([`AuditHash::GENESIS`] for an empty trail).
    pub hash: AuditHash,
}

impl AuditHead {
    /// The head of an empty trail.
    pub const EMPTY: AuditHead = AuditHead {
        seq: 0,
        hash: AuditHash::GENESIS,
    };
}

/// Checks a trail entry by entry, so that a long trail can be verified in pages.
///
/// A verifier made with [`ChainVerifier::new`] accepts only unkeyed entries (a service with
/// no audit key); one made with [`ChainVerifier::keyed`] accepts only entries chained with a
/// key of its ring, so a trail rewritten without the key, keyed or not, fails.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    vpd: VpdCode,
    head: AuditHead,
    keys: Option<AuditKeys>,
}

impl ChainVerifier {
    /// A verifier for the unkeyed trail of `vpd`, starting before its first entry.
    pub fn new(vpd: VpdCode) -> Self {
        Self::with_keys(vpd, None)
    }

    /// A verifier for the trail of `vpd` chained with the keys of `keys`.
    pub fn keyed(vpd: VpdCode, keys: &AuditKeys) -> Self {
        Self::with_keys(vpd, Some(keys))
    }

    /// [`ChainVerifier::keyed`] with a ring, [`ChainVerifier::new`] without.
    pub fn with_keys(vpd: VpdCode, keys: Option<&AuditKeys>) -> Self {
        Self {
            vpd,
            head: AuditHead::EMPTY,
            keys: keys.cloned(),
        }
    }

    /// Starts after `head` instead of before the first entry: the next entry fed must be
    /// `head.seq + 1` and link to `head.hash` (a checkpoint, or the end of an archive).
    pub fn resume(mut self, head: AuditHead) -> Self {
        self.head = head;
        self
    }

    /// Checks the next entry: of this trust, next in sequence, linked to the one before, keyed
    /// as the verifier expects, its hash matching its contents.
    pub fn feed(&mut self, e: &AuditEntry) -> Result<()> {
        let expected_seq = self.head.seq + 1;
        let broken = |reason| Error::AuditChainBroken {
            vpd: self.vpd,
            seq: expected_seq,
            reason,
        };
        if e.vpd != self.vpd {
            return Err(broken("the entry belongs to another trust"));
        }
        if e.seq != expected_seq {
            return Err(broken("an entry is missing or out of order"));
        }
        if e.prev_hash != self.head.hash {
            return Err(broken("it does not follow the entry before it"));
        }
        match (&self.keys, &e.key) {
            (None, Some(_)) => {
                return Err(broken(
                    "it was chained with an audit key and this service has none; verify with the trust's audit keys (Esr::with_audit_keys)",
                ));
            }
            (Some(_), None) => {
                return Err(broken(
                    "it was written without an audit key, so anyone who could write the store could have written it",
                ));
            }
            (Some(ring), Some(id)) if ring.get(id).is_none() => {
                return Err(broken(
                    "it was chained with an audit key that is not in the ring; add the retired key with AuditKeys::with_retired",
                ));
            }
            _ => {}
        }
        if e.expected_hash(self.keys.as_ref()) != Some(e.hash) {
            return Err(broken("its contents were changed after it was written"));
        }
        self.head = AuditHead {
            seq: e.seq,
            hash: e.hash,
        };
        Ok(())
    }

    /// The newest entry checked so far.
    pub fn head(&self) -> AuditHead {
        self.head
    }
}

/// Checks a trust's whole unkeyed trail at once (see [`ChainVerifier`]) and returns its head.
pub fn verify_chain(vpd: VpdCode, entries: &[AuditEntry]) -> Result<AuditHead> {
    verify_chain_with(vpd, entries, None)
}

/// Checks a trust's whole trail at once, keyed with `keys` (unkeyed with `None`), and returns
/// its head.
pub fn verify_chain_with(
    vpd: VpdCode,
    entries: &[AuditEntry],
    keys: Option<&AuditKeys>,
) -> Result<AuditHead> {
    let mut v = ChainVerifier::with_keys(vpd, keys);
    for e in entries {
        v.feed(e)?;
    }
    Ok(v.head())
}

/// A head of a trust's trail signed with an audit key: written to the store by
/// [`Esr::checkpoint`](crate::Esr::checkpoint). Verification checks the trail still holds the
/// entry it names (so a deleted tail up to it is detected), and
/// [`Esr::archive_before`](crate::Esr::archive_before) removes the entries before it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AuditCheckpoint {
    /// The trust.
    pub vpd: VpdCode,
    /// The newest entry's `seq` when it was taken.
    pub seq: u64,
    /// That entry's hash.
    pub hash: AuditHash,
    /// When it was taken.
    pub at: DateTime<Utc>,
    /// The id of the audit key that signed it.
    pub key: KeyId,
    /// HMAC-SHA-256 under that key over every field above.
    pub tag: AuditHash,
}

impl AuditCheckpoint {
    /// Signs `head` of the trail of `vpd` at `at` with `key`.
    pub fn sign(vpd: VpdCode, head: AuditHead, at: DateTime<Utc>, key: &AuditKey) -> Self {
        let mut c = Self {
            vpd,
            seq: head.seq,
            hash: head.hash,
            at,
            key: key.id().clone(),
            tag: AuditHash::GENESIS,
        };
        c.tag = AuditHash(key.mac(&c.signed_bytes()));
        c
    }

    /// The head it records.
    pub fn head(&self) -> AuditHead {
        AuditHead {
            seq: self.seq,
            hash: self.hash,
        }
    }

    /// Checks its signature with `keys`: refused as [`Error::AuditChainBroken`] at its `seq` if
    /// its key is not in the ring or any field was changed after it was signed.
    pub fn check(&self, keys: &AuditKeys) -> Result<()> {
        let broken = |reason| Error::AuditChainBroken {
            vpd: self.vpd,
            seq: self.seq,
            reason,
        };
        let key = keys.get(&self.key).ok_or_else(|| {
            broken("its checkpoint was signed with an audit key that is not in the ring; add the retired key with AuditKeys::with_retired")
        })?;
        let expected = key.mac(&self.signed_bytes());
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            &expected[..],
            &self.tag.0[..],
        )) {
            return Err(broken(
                "its checkpoint's signature does not match: the checkpoint was forged or changed",
            ));
        }
        Ok(())
    }

    fn signed_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(128);
        let mut put = |x: &[u8]| {
            b.extend_from_slice(&(x.len() as u64).to_be_bytes());
            b.extend_from_slice(x);
        };
        put(b"esr-audit-checkpoint-v1");
        put(self.vpd.as_str().as_bytes());
        put(self.key.as_str().as_bytes());
        put(&self.seq.to_be_bytes());
        put(&self.hash.0);
        put(&self.at.timestamp().to_be_bytes());
        put(&self.at.timestamp_subsec_nanos().to_be_bytes());
        b
    }
}

#[cfg(test)]
mod tests;
