//! The chain hash: the bottom of the audit area, used by the trail and by the events that
//! name a hash (checkpoints and archives).

use crate::error::{Error, Result};
use std::fmt;

/// A chain hash: HMAC-SHA-256 under an audit key, or SHA-256 for an unkeyed entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuditHash(pub [u8; 32]);

impl AuditHash {
    /// The hash before the first entry of a chain.
    pub const GENESIS: AuditHash = AuditHash([0; 32]);
}

impl fmt::Display for AuditHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::values::write_hex(f, &self.0)
    }
}
impl fmt::Debug for AuditHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditHash({self})")
    }
}
impl std::str::FromStr for AuditHash {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out)
            .map_err(|_| Error::invalid("audit hash", "it must be 64 hexadecimal characters"))?;
        Ok(Self(out))
    }
}
crate::values::string_serde!(AuditHash);
