//! The audit operations of [`Esr`](crate::Esr): reading and verifying a trust's trail.

use crate::audit::{AuditEntry, AuditHead, ChainVerifier};
use crate::error::{Error, Result};
use crate::service::*;
use crate::store::Store;
use crate::values::Clock;
use crate::values::VpdCode;

impl<S: Store, C: Clock> Esr<S, C> {
    /// A page of the trust's audit trail: entries from `from` (1-based), at most `limit`.
    pub fn audit_trail(&self, vpd: VpdCode, from: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        crate::store::read_mostly(&self.store, |tx| {
            trust_of(tx, vpd)?;
            tx.audit_entries(vpd, from.max(1), limit)
        })
    }

    /// Verifies the trust's whole audit trail, page by page, and returns its head: keep the
    /// head outside the store and pass it to [`Esr::verify_audit_against`] later to detect
    /// truncation or rewriting too.
    pub fn verify_audit(&self, vpd: VpdCode) -> Result<AuditHead> {
        const PAGE: usize = 4096;
        self.trust(vpd)?;
        let mut v = ChainVerifier::new(vpd);
        loop {
            let page = self.audit_trail(vpd, v.head().seq + 1, PAGE)?;
            for e in &page {
                v.feed(e)?;
            }
            if page.len() < PAGE {
                return Ok(v.head());
            }
        }
    }

    /// Verifies the trail and checks it still holds the entry `anchor` recorded earlier.
    pub fn verify_audit_against(&self, vpd: VpdCode, anchor: &AuditHead) -> Result<AuditHead> {
        let head = self.verify_audit(vpd)?;
        if anchor.seq == 0 {
            return Ok(head);
        }
        let found = self.audit_trail(vpd, anchor.seq, 1)?;
        match found.first() {
            Some(e) if e.hash == anchor.hash => Ok(head),
            Some(_) => Err(Error::AuditChainBroken {
                vpd,
                seq: anchor.seq,
                reason: "it differs from the entry recorded earlier",
            }),
            None => Err(Error::AuditChainBroken {
                vpd,
                seq: anchor.seq,
                reason: "the trail is shorter than when it was recorded",
            }),
        }
    }
}
