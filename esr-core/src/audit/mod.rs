//! The tamper-evident audit trail: what happened, who did it, and proof that nothing was edited,
//! removed or reordered since.
//!
//! Every operation that changes something, and every read of another person's record, writes
//! its [`AuditEntry`] (an [`AuditEvent`] by an [`AuditActor`]) in the same transaction as the
//! change. Each trust has one append-only chain; each entry's [`AuditHash`] is an HMAC-SHA-256
//! under the service's [`AuditKey`] (plain SHA-256 without one) over
//! the previous entry's hash and its own fields, so [`ChainVerifier`] (page by page) and
//! [`verify_chain`] (at once) detect any edit. The [`AuditHead`] a verification returns, kept
//! outside the store, detects truncation and wholesale rewriting later. Entries name sessions by
//! their one-way [`SessionRef`](crate::SessionRef), and no event type has a field that could
//! carry a password, code, token or full phone number.
//!
//! The operations are methods on [`Esr`](crate::Esr): [`Esr::audit_trail`](crate::Esr::audit_trail)
//! reads a page, [`Esr::verify_audit`](crate::Esr::verify_audit) verifies the whole trail and
//! returns its head, [`Esr::verify_audit_against`](crate::Esr::verify_audit_against) also checks
//! an earlier head is still there. [`Esr::checkpoint`](crate::Esr::checkpoint) signs a head
//! with an [`AuditKey`], and [`Esr::archive_before`](crate::Esr::archive_before) moves the
//! entries before a checkpoint to an archive the embedder keeps; the
//! [guide](crate::guide::audit) says what is and is not detected.

#[cfg(feature = "serde")]
mod archive;
mod event;
mod hash;
mod key;
mod ops;
mod trail;

#[cfg(feature = "serde")]
pub use archive::verify_archive;
pub use event::*;
pub use key::*;
pub use ops::AuditArchiveSummary;
pub use trail::*;
