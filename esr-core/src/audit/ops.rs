//! The audit operations of [`Esr`](crate::Esr): configuring the audit keys, reading and
//! verifying a trust's trail, checkpointing it and archiving its prefix.

use crate::audit::{
    AuditCheckpoint, AuditEntry, AuditEvent, AuditHash, AuditHead, AuditKey, AuditKeys,
    ChainVerifier,
};
use crate::error::{Error, Result};
use crate::service::*;
use crate::store::Store;
use crate::urp::Function;
use crate::values::Clock;
use crate::values::VpdCode;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Entries read per page when verifying or archiving.
const PAGE: usize = 4096;

/// What [`Esr::archive_before`] wrote and removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AuditArchiveSummary {
    /// The `seq` of the first entry written (the first live entry before archiving).
    pub first: u64,
    /// How many entries were written and removed (0 if there was nothing before the
    /// checkpoint: then nothing was written, removed or audited).
    pub entries: u64,
    /// The newest archived entry: pass it as `from` to
    /// [`Esr::verify_audit_archive`] for the next archive, whose first entry follows it.
    pub last: AuditHead,
}

impl<S: Store, C: Clock> Esr<S, C> {
    // ----- configuration ---------------------------------------------------------------------

    /// Sets the audit key ring (from the trust's secret store, never the store itself): new
    /// entries are chained with HMAC-SHA-256 under its current key, and checkpoints signed
    /// with it. Every process over one store needs the same ring. Without one, entries are
    /// chained with plain SHA-256, which anyone who can write the store can recompute, and
    /// [`Esr::checkpoint`] and [`Esr::archive_before`] are refused with
    /// [`Error::NoAuditKey`]. Set it before the trust's first entry: a keyed verification
    /// refuses unkeyed entries.
    pub fn with_audit_keys(self, keys: AuditKeys) -> Self {
        self.set_audit_keys(keys);
        self
    }

    /// **For tests and demos only**: a random audit key, named `ephemeral`, that exists only
    /// in this process; the trail it chains cannot be verified by any other process or after a
    /// restart. Production services use [`Esr::with_audit_keys`].
    pub fn with_ephemeral_audit_key(self) -> Result<Self> {
        let key = {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            AuditKey::random("ephemeral", &mut **rng)?
        };
        Ok(self.with_audit_keys(AuditKeys::new(key)))
    }

    /// Replaces the audit key ring at run time (rotation: keep the retired keys in the new
    /// ring, with [`AuditKeys::rotate`], for as long as their entries or checkpoints are in the
    /// store or in an archive you verify).
    pub fn set_audit_keys(&self, keys: AuditKeys) {
        *self.store.keys.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(keys));
    }

    fn audit_key_ring(&self) -> Result<Arc<AuditKeys>> {
        self.store.keys().ok_or(Error::NoAuditKey)
    }

    // ----- reading and verifying -------------------------------------------------------------

    /// A page of the trust's audit trail: entries from `from` (1-based), at most `limit`.
    /// Once a prefix was archived, the trail starts at the checkpoint it was archived before.
    pub fn audit_trail(&self, vpd: VpdCode, from: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        crate::store::read_mostly(&self.store, |tx| {
            trust_of(tx, vpd)?;
            tx.audit_entries(vpd, from.max(1), limit)
        })
    }

    /// The trust's signed checkpoints, oldest first (see [`Esr::checkpoint`]).
    pub fn audit_checkpoints(&self, vpd: VpdCode) -> Result<Vec<AuditCheckpoint>> {
        self.store.transaction(|tx| {
            trust_of(tx, vpd)?;
            tx.audit_checkpoints(vpd)
        })
    }

    /// Verifies the trust's live audit trail, page by page, and returns its head.
    ///
    /// Every entry must follow the one before it and carry the hash its contents give: with
    /// the service's audit keys, an HMAC under the key it names (so a rewrite without the key
    /// is detected); without keys, plain SHA-256. Every stored checkpoint must carry a valid
    /// signature, and the trail must still hold the entry each one names, so entries deleted
    /// from the end up to the last checkpoint are detected. If a prefix was archived, the
    /// trail must start at a checkpoint and record the archive. Keep the head outside the store
    /// and pass it to [`Esr::verify_audit_against`] later to detect a deleted tail after the
    /// last checkpoint too. The [guide](crate::guide::audit) lists what is and is not detected.
    pub fn verify_audit(&self, vpd: VpdCode) -> Result<AuditHead> {
        self.verify_live(vpd, None)
    }

    /// As [`Esr::verify_audit`], and checks the trail still holds the entry `anchor` (a head
    /// kept outside the store) recorded earlier: a deleted tail, or a trail rewritten from
    /// that entry on, is detected. An anchor older than the live trail (archived since) is
    /// checked against the archive with [`Esr::verify_audit_archive`] instead.
    pub fn verify_audit_against(&self, vpd: VpdCode, anchor: &AuditHead) -> Result<AuditHead> {
        self.verify_live(vpd, Some(anchor))
    }

    fn verify_live(&self, vpd: VpdCode, anchor: Option<&AuditHead>) -> Result<AuditHead> {
        self.trust(vpd)?;
        let keys = self.store.keys();
        let checkpoints = self.audit_checkpoints(vpd)?;
        if !checkpoints.is_empty() {
            let ring = keys.as_deref().ok_or(Error::NoAuditKey)?;
            for c in &checkpoints {
                c.check(ring)?;
                if c.vpd != vpd {
                    return Err(broken(vpd, c.seq, "a checkpoint belongs to another trust"));
                }
            }
        }
        let mut page = self.audit_trail(vpd, 1, PAGE)?;
        let first = page.first().map_or(1, |e| e.seq);
        let mut v = ChainVerifier::with_keys(vpd, keys.as_deref());
        let archived = first > 1;
        if let Some(e) = page.first().filter(|_| archived) {
            // The entries before `first` were archived: the trail resumes at a checkpoint.
            if !checkpoints.iter().any(|c| c.seq == first) {
                return Err(broken(
                    vpd,
                    first,
                    "the entries before it were removed, and no checkpoint was archived at it",
                ));
            }
            v = v.resume(AuditHead {
                seq: first - 1,
                hash: e.prev_hash,
            });
        }
        // The entries whose hash is known from elsewhere: checkpoints and the anchor.
        let mut wanted: BTreeMap<u64, (AuditHash, &'static str)> = BTreeMap::new();
        for c in checkpoints.iter().filter(|c| c.seq >= first) {
            wanted.insert(
                c.seq,
                (
                    c.hash,
                    "it differs from the entry its signed checkpoint recorded",
                ),
            );
        }
        if let Some(a) = anchor.filter(|a| a.seq >= first && a.seq > 0) {
            wanted.insert(
                a.seq,
                (a.hash, "it differs from the entry recorded earlier"),
            );
        }
        let mut archive_recorded = !archived;
        loop {
            for e in &page {
                v.feed(e)?;
                if let Some((hash, reason)) = wanted.get(&e.seq)
                    && *hash != e.hash
                {
                    return Err(broken(vpd, e.seq, reason));
                }
                if let AuditEvent::AuditArchived { before, .. } = e.event
                    && before == first
                {
                    archive_recorded = true;
                }
            }
            if page.len() < PAGE {
                break;
            }
            page = self.audit_trail(vpd, v.head().seq + 1, PAGE)?;
        }
        let head = v.head();
        if !archive_recorded {
            return Err(broken(
                vpd,
                first,
                "the entries before it were removed, and the trail records no archive of them",
            ));
        }
        if let Some(c) = checkpoints.last()
            && c.seq > head.seq
        {
            return Err(broken(
                vpd,
                c.seq,
                "the trail ends before its last signed checkpoint: entries were deleted from its end",
            ));
        }
        if let Some(a) = anchor
            && a.seq > head.seq
        {
            return Err(broken(
                vpd,
                a.seq,
                "the trail is shorter than when it was recorded",
            ));
        }
        Ok(head)
    }

    // ----- checkpoints and archives ----------------------------------------------------------

    /// Verifies the trust's trail and stores its head signed with the current audit key (an
    /// [`AuditCheckpoint`]), audited as
    /// [`AuditEvent::AuditCheckpointed`]. From then on [`Esr::verify_audit`] detects
    /// entries deleted from the end up to it, and [`Esr::archive_before`] may archive the
    /// entries before it.
    ///
    /// Needs a user administrator's session (URP audit report) or a system actor, and an audit
    /// key ([`Error::NoAuditKey`] otherwise). Refused with [`Error::AuditChainBroken`] if the
    /// trail does not verify: a tampered head is never signed.
    pub fn checkpoint(&self, actor: &Actor, vpd: VpdCode) -> Result<AuditCheckpoint> {
        let keys = self.audit_key_ring()?;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            authorise(tx, actor, vpd, Function::UrpAuditReport, now).map(|_| ())
        })?;
        let verified = self.verify_audit(vpd)?;
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::UrpAuditReport, now)?;
            // Entries appended since the verification are verified too.
            let mut v = ChainVerifier::keyed(vpd, &keys).resume(verified);
            loop {
                let page = tx.audit_entries(vpd, v.head().seq + 1, PAGE)?;
                for e in &page {
                    v.feed(e)?;
                }
                if page.len() < PAGE {
                    break;
                }
            }
            let head = v.head();
            if tx.audit_head(vpd)? != head {
                return Err(broken(
                    vpd,
                    head.seq + 1,
                    "the trail changed while it was being checkpointed",
                ));
            }
            let c = AuditCheckpoint::sign(vpd, head, now, keys.current());
            tx.put_audit_checkpoint(&c)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::AuditCheckpointed {
                    seq: c.seq,
                    hash: c.hash,
                    key: c.key.to_string(),
                },
            )?;
            Ok(c)
        })
    }

    /// Archives the trust's entries before `checkpoint`: verifies the trail, writes those
    /// entries to `out` as JSON lines (one [`AuditEntry`] per line, as serde writes it), then
    /// removes them from the store and records [`AuditEvent::AuditArchived`]. The core writes
    /// only to `out`; keeping the file is the embedder's part. Verify it later with
    /// [`Esr::verify_audit_archive`]; the live trail then verifies from the checkpoint on.
    ///
    /// `checkpoint` must be one of the trust's stored checkpoints (from [`Esr::checkpoint`] or
    /// [`Esr::audit_checkpoints`]), with a valid signature. If writing fails, nothing is
    /// removed ([`Error::AuditArchive`]). If there is nothing before the checkpoint (archived
    /// already), nothing is written or changed and `entries` is 0. Needs the same actors as
    /// [`Esr::checkpoint`].
    ///
    /// ```
    /// use esr_core::audit::{AuditHead, AuditKey, AuditKeys};
    /// use esr_core::{Actor, Esr, InMemoryStore, SystemClock};
    ///
    /// // The key comes from the trust's secret store, never from the store itself.
    /// let key = AuditKey::new("audit-2026-12", b"32 bytes from the secret store!!")?;
    /// let esr = Esr::new(InMemoryStore::new(), SystemClock).with_audit_keys(AuditKeys::new(key));
    /// let vpd = "297".parse()?;
    /// esr.create_trust(vpd, "Northfield", Default::default())?;
    /// let records = Actor::system("records-office")?;
    /// let checkpoint = esr.checkpoint(&records, vpd)?;
    /// let mut file = Vec::new(); // a `std::fs::File` in production
    /// let summary = esr.archive_before(&records, vpd, &checkpoint, &mut file)?;
    /// assert_eq!(esr.verify_audit_archive(vpd, file.as_slice(), Some(AuditHead::EMPTY))?, summary.last);
    /// esr.verify_audit(vpd)?; // the live trail verifies from the checkpoint on
    /// # Ok::<(), esr_core::Error>(())
    /// ```
    #[cfg(feature = "serde")]
    pub fn archive_before(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        checkpoint: &AuditCheckpoint,
        out: &mut dyn std::io::Write,
    ) -> Result<AuditArchiveSummary> {
        let keys = self.audit_key_ring()?;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            authorise(tx, actor, vpd, Function::UrpAuditReport, now)?;
            if checkpoint.vpd != vpd || !tx.audit_checkpoints(vpd)?.contains(checkpoint) {
                return Err(Error::invalid(
                    "checkpoint",
                    "it is not one of the trust's stored checkpoints; take one with Esr::checkpoint or read them with Esr::audit_checkpoints",
                ));
            }
            Ok(())
        })?;
        checkpoint.check(&keys)?;
        self.verify_audit(vpd)?;
        let Some(first) = self.audit_trail(vpd, 1, 1)?.into_iter().next() else {
            return Err(broken(vpd, 1, "the trail is empty"));
        };
        let before = checkpoint.seq;
        if before <= first.seq {
            return Ok(AuditArchiveSummary {
                first: first.seq,
                entries: 0,
                last: AuditHead {
                    seq: first.seq - 1,
                    hash: first.prev_hash,
                },
            });
        }
        // Write the prefix, verifying it again as it is written.
        let mut v = ChainVerifier::keyed(vpd, &keys).resume(AuditHead {
            seq: first.seq - 1,
            hash: first.prev_hash,
        });
        let mut written = 0u64;
        while v.head().seq + 1 < before {
            let want = usize::try_from(before - v.head().seq - 1).unwrap_or(PAGE);
            let page = self.audit_trail(vpd, v.head().seq + 1, want.min(PAGE))?;
            if page.is_empty() {
                return Err(broken(
                    vpd,
                    v.head().seq + 1,
                    "an entry is missing or out of order",
                ));
            }
            for e in &page {
                v.feed(e)?;
                super::archive::write_line(out, e)?;
                written += 1;
            }
        }
        out.flush()
            .map_err(|e| Error::AuditArchive(format!("flushing failed: {e}")))?;
        let last = v.head();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::UrpAuditReport, now)?;
            let now_first = tx.audit_entries(vpd, 1, 1)?;
            if now_first.first().map(|e| e.seq) != Some(first.seq) {
                return Err(Error::AuditArchive(
                    "the trail was archived by another caller meanwhile; discard what was written"
                        .into(),
                ));
            }
            match tx.audit_entries(vpd, before, 1)?.first() {
                Some(e) if e.hash == checkpoint.hash && e.prev_hash == last.hash => {}
                _ => {
                    return Err(broken(
                        vpd,
                        before,
                        "it differs from the entry its signed checkpoint recorded",
                    ));
                }
            }
            let removed = tx.remove_audit_before(vpd, before)?;
            if removed != written {
                return Err(Error::Storage(format!(
                    "the store removed {removed} audit entries where {written} were archived"
                )));
            }
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::AuditArchived {
                    before,
                    entries: written,
                    last_hash: last.hash,
                },
            )?;
            Ok(AuditArchiveSummary {
                first: first.seq,
                entries: written,
                last,
            })
        })
    }

    /// Verifies an archive written by [`Esr::archive_before`] with the service's audit keys
    /// (see [`verify_archive`](crate::audit::verify_archive)) and returns its newest entry.
    /// `from` is the newest entry of the archive before it (`None` for the first archive, or
    /// to take the first line's link on trust).
    #[cfg(feature = "serde")]
    pub fn verify_audit_archive(
        &self,
        vpd: VpdCode,
        reader: impl std::io::BufRead,
        from: Option<AuditHead>,
    ) -> Result<AuditHead> {
        let keys = self.store.keys();
        super::archive::verify_archive(reader, vpd, keys.as_deref(), from)
    }
}

fn broken(vpd: VpdCode, seq: u64, reason: &'static str) -> Error {
    Error::AuditChainBroken { vpd, seq, reason }
}
