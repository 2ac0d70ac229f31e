//! # The store contract
//!
//! The library keeps nothing itself: everything goes through [`Store`](crate::Store), whose
//! one method, [`Store::transaction`](crate::Store::transaction), runs a closure over a
//! [`StoreTx`](crate::StoreTx). [`InMemoryStore`](crate::InMemoryStore) is the default and the
//! reference; `esr-sqlite` keeps everything in one SQLite file; a trust may bring its own
//! database by implementing the two traits.
//!
//! The normative list of promises is on [`Store`](crate::Store). Here is why each is there,
//! that is, which rule of the domain breaks if an adapter does not keep it.
//!
//! | the adapter promises | so that |
//! |---|---|
//! | a transaction is atomic: all its writes or none (on `Err` or a panic) | a refused operation changes nothing, and an audit entry is never written without its change, nor a change without its entry |
//! | transactions are isolated, as if run one after another (`SERIALIZABLE`, or a write lock at the start) | checks across records hold under concurrency: two revocations cannot both see three user administrators and leave one; two sign-ups cannot take the same username |
//! | a transaction reads its own writes | an operation that writes in steps (a grant and its audit entry, a competence award and its subscription) sees the steps it made |
//! | `put_*` inserts or replaces by key | the service decides uniqueness itself, with a read first, and says which value was taken |
//! | every method is scoped by trust | no data, query or aggregate crosses from one trust to another, even through a bug in the service |
//! | [`StoreTx::put_challenge`](crate::StoreTx::put_challenge) refuses to overwrite a challenge that is no longer pending | a code is used **once**: of two concurrent right answers exactly one is approved, even with an adapter that does not serialise whole transactions |
//! | [`StoreTx::append_audit`](crate::StoreTx::append_audit) refuses an entry whose `seq` is not one past the last | the audit trail is append-only and its hash chain has no gaps or forks |
//! | [`StoreTx::remove_audit_before`](crate::StoreTx::remove_audit_before) removes only a prefix, never the newest entry, and [`StoreTx::audit_entries`](crate::StoreTx::audit_entries) then starts at the boundary | an archived trail verifies from its checkpoint and its `seq` continues, never restarting at 1 |
//! | [`StoreTx::audit_checkpoints`](crate::StoreTx::audit_checkpoints) returns every checkpoint stored, by `seq` | a deleted tail up to the last signed checkpoint is detected |
//! | secret fields are persisted although serde skips them | a password hash, a registered mobile number and a challenge's destination survive a restart |
//! | backend failures are returned as [`Error::Storage`](crate::Error::Storage) | the caller sees one kind of failure for "the database failed", distinct from a refusal |
//! | [`Store::read`](crate::Store::read) sees one consistent snapshot of committed state | read-only operations (listings, the audit trail, compliance views) can run without the write lock, so readers in another process never make a writer wait, yet see nothing half-done |
//! | a lock another process holds for too long is [`Error::Busy`](crate::Error::Busy) | the caller knows the failure is transient and retries after [`Error::retry_after`](crate::Error::retry_after) |
//! | sessions are kept under [`Session::key`](crate::access::Session::key), the SHA-256 of the id, never the id | whoever reads the database (a backup, a stolen file) cannot act as a logged-in user |
//!
//! # Writing an adapter
//!
//! 1. Implement [`Store`](crate::Store) and [`StoreTx`](crate::StoreTx). Methods with a default
//!    body are correct as they are; override them only to be faster (for example
//!    `trust_settings`, read on every access decision).
//! 2. Hold the transaction for the whole closure, and roll back when it returns `Err` or
//!    unwinds. Override [`Store::read`](crate::Store::read) if the database can read a
//!    snapshot without the write lock (the default takes a transaction).
//! 3. Run the conformance kit: with `esr-core = { …, features = ["testkit"] }` as a
//!    dev-dependency, one test file holding
//!    `esr_core::store_conformance_tests!(make_empty_store());` expands to one `#[test]` per
//!    contract (so a failure names the contract broken), and
//!    `esr_core::store::testkit::run_all(make_empty_store)` runs them all in one call. The kit
//!    drives the store directly where the contract is the store's, through
//!    [`Esr`](crate::Esr) where it is the service's, and compares every read method's answers
//!    with those of [`InMemoryStore`](crate::InMemoryStore) after the same scenario.
//!
//! Note that SMS and e-mail senders are called inside the transaction (see
//! [`delivery`](super::delivery)): an adapter that holds a lock for the transaction holds it
//! while the sender runs.
