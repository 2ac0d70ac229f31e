//! The tamper-evident audit trail: what happened, who did it, and proof that nothing was edited,
//! removed or reordered since.
//!
//! Every operation that changes something, and every read of another person's record, writes
//! its [`AuditEntry`] (an [`AuditEvent`] by an [`AuditActor`]) in the same transaction as the
//! change. Each trust has one append-only chain; each entry's [`AuditHash`] is a SHA-256 over
//! the previous entry's hash and its own fields, so [`ChainVerifier`] (page by page) and
//! [`verify_chain`] (at once) detect any edit. The [`AuditHead`] a verification returns, kept
//! outside the store, detects truncation and wholesale rewriting later. Entries name sessions by
//! their one-way [`SessionRef`](crate::SessionRef), and no event type has a field that could
//! carry a password, code, token or full phone number.
//!
//! The operations are methods on [`Esr`](crate::Esr): [`Esr::audit_trail`](crate::Esr::audit_trail)
//! reads a page, [`Esr::verify_audit`](crate::Esr::verify_audit) verifies the whole trail and
//! returns its head, [`Esr::verify_audit_against`](crate::Esr::verify_audit_against) also checks
//! an earlier head is still there.

#[cfg(feature = "serde")]
mod archive;
mod event;
mod key;
mod ops;
mod trail;

#[cfg(feature = "serde")]
pub use archive::verify_archive;
pub use event::*;
pub use key::*;
pub use ops::AuditArchiveSummary;
pub use trail::*;
