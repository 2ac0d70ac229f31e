//! # The audit trail: keys, checkpoints, archives, and what is detected
//!
//! Every change, and every read of another person's record, writes an
//! [`AuditEntry`](crate::audit::AuditEntry) in the same store transaction as the change. Each
//! trust has one chain: entry `n` records the hash of entry `n - 1`, and its own hash covers
//! that link and every field of the entry. This page says how the chain is keyed, how it is
//! checkpointed and archived, and exactly which tampering each check detects.
//!
//! # The audit key
//!
//! An [`AuditKey`](crate::audit::AuditKey) is an HMAC-SHA-256 key (at least 32 bytes) with an
//! id. It is held **outside the store**, like the passcode keys: in the trust's secret store,
//! given to every process with [`Esr::with_audit_keys`](crate::Esr::with_audit_keys)
//! ([`Esr::with_ephemeral_audit_key`](crate::Esr::with_ephemeral_audit_key) for tests and
//! demos only). Its `Debug` shows the id alone, and it has no `Display` and no serde.
//!
//! - **Keyed chain.** With a key ring, each entry's hash is HMAC-SHA-256 under the current key
//!   over its canonical bytes (a version tag, the key id, the previous hash, `seq`, trust,
//!   time, actor, event kind and fields, each length-prefixed), and the entry records the key
//!   id ([`AuditEntry::key`](crate::audit::AuditEntry::key)).
//! - **Rotation.** [`AuditKeys`](crate::audit::AuditKeys) holds several keys by id, one
//!   current. [`AuditKeys::rotate`](crate::audit::AuditKeys::rotate) makes a new key current
//!   and keeps the old one to verify what it chained; keep every key whose entries or
//!   checkpoints are still in the store or in an archive you may verify. Change the ring at
//!   run time with [`Esr::set_audit_keys`](crate::Esr::set_audit_keys).
//! - **Without a key** entries are chained with plain SHA-256 (`key` is `None`): that detects
//!   accidental damage and edits by someone who does not rebuild the chain, nothing more.
//!   Checkpoints and archives need a key ([`Error::NoAuditKey`](crate::Error::NoAuditKey)).
//! - **A clean switch.** A keyed verifier refuses every unkeyed entry (else a forger could
//!   rewrite a keyed trail as an unkeyed one), and an unkeyed one refuses keyed entries. There
//!   is no migration of a trail begun without a key (no store has been released): configure
//!   the key before a trust's first entry.
//!
//! # Checkpoints
//!
//! [`Esr::checkpoint`](crate::Esr::checkpoint) verifies the trail, then stores its head (`seq`,
//! hash, time) signed with the current key as an
//! [`AuditCheckpoint`](crate::audit::AuditCheckpoint), and records
//! [`AuditEvent::AuditCheckpointed`](crate::audit::AuditEvent::AuditCheckpointed). A tampered
//! head is never signed. [`Esr::verify_audit`](crate::Esr::verify_audit) checks every stored
//! checkpoint's signature and that the trail still holds the entry each names.
//!
//! # Archives
//!
//! [`Esr::archive_before`](crate::Esr::archive_before) takes a stored checkpoint and a
//! `std::io::Write` from the embedder (the core does no file I/O): it verifies the trail, writes
//! the entries before the checkpoint as JSON lines (one entry per line, as serde writes
//! [`AuditEntry`](crate::audit::AuditEntry)), and only then, in one transaction, removes them
//! from the store and records [`AuditEvent::AuditArchived`](crate::audit::AuditEvent::AuditArchived).
//! If writing fails nothing is removed. The checkpoint's own entry stays, so the live trail
//! starts at it, and the next entry's `seq` continues. Verification of the live trail starts
//! from there. An archive is verified alone with
//! [`verify_archive`](crate::audit::verify_archive) (or
//! [`Esr::verify_audit_archive`](crate::Esr::verify_audit_archive)) given its lines and the
//! keys; pass each archive the head the previous one verified to (`AuditHead::EMPTY` for the
//! first), and compare the last one's head with the live trail's first `prev_hash`.
//!
//! # Who may
//!
//! Checkpointing and archiving need the *URP audit report* function (a user administrator's
//! session) or a system actor, and are audited with who did them; a refusal changes nothing.
//! Reading and verifying need no session: they are for the embedder's own checks.
//!
//! # What is detected
//!
//! The service is configured with the audit key throughout; the columns say whether the
//! person tampering also holds it. "Detected" means [`Esr::verify_audit`](crate::Esr::verify_audit) (or the function named)
//! returns [`Error::AuditChainBroken`](crate::Error::AuditChainBroken) naming the first entry
//! that fails; treat the trail as tampered with.
//!
//! | what someone with write access to the store did | if they lack the audit key | if they also hold the audit key |
//! |---|---|---|
//! | edited an entry (any field), leaving the hashes | detected | detected |
//! | edited an entry and recomputed the hashes after it (SHA-256, or the entries rebuilt as an unkeyed chain) | **detected**: the keyed hash cannot be recomputed | not detected by the chain; only by an anchor kept outside the store |
//! | removed, inserted or reordered entries in the middle | detected | detected, unless the chain after them is rebuilt with the key |
//! | deleted entries from the end, up to and including the last checkpoint's entry | detected: the signed checkpoint names an entry that is gone | detected, unless the checkpoint is re-signed |
//! | deleted entries from the end **after** the last checkpoint | **not detected** by the store alone; detected with an anchor ([`Esr::verify_audit_against`](crate::Esr::verify_audit_against)) newer than the deletion point | as without |
//! | deleted the tail and the checkpoints (and their `AuditCheckpointed` entries) | not detected by the store alone; detected with an anchor | as without |
//! | forged or changed a checkpoint (moved it back to allow a longer deleted tail) | detected: its signature fails | not detected |
//! | deleted a prefix without archiving it | detected, unless it ends exactly at a checkpoint and the trail still records an archive before that checkpoint | as without |
//! | edited, removed or reordered a line of an archive file | detected by [`verify_archive`](crate::audit::verify_archive) | not detected (an anchor or a copy of the file kept elsewhere helps) |
//! | deleted an archive file's tail | detected when the next archive, or the live trail, is checked against the head it returns | as without |
//! | replaced the whole store with an older copy (a restored backup) | not detected by the store alone; detected with an anchor newer than the copy | as without |
//!
//! Time: entries record the injected [`Clock`](crate::Clock)'s time; nothing here proves when an
//! entry was written, only that it was not changed after a key-holder's checks. An **anchor**
//! is any [`AuditHead`](crate::audit::AuditHead) kept where the store's writers cannot reach
//! (a log shipped off the machine, a signed receipt); keep a fresh one after every check to
//! close the gap after the last checkpoint.
