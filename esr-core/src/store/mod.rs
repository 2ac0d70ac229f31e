//! Storage: the library keeps nothing itself, and reaches storage only through the [`Store`] and
//! [`StoreTx`] traits, which any database a trust brings can implement.
//!
//! The contract every adapter keeps is documented on [`Store`]: transactions atomic and
//! isolated, reads that see the transaction's own writes, `put_*` inserting or replacing by
//! key, every method scoped by trust, a settled challenge never overwritten
//! ([`StoreTx::put_challenge`]), an audit trail only appended to in sequence
//! ([`StoreTx::append_audit`]), and secret fields persisted although serde skips them. The
//! guide's [store contract](crate::guide::store_contract) page says why each point is there
//! and how to write an adapter.
//!
//! [`InMemoryStore`] is the embedded default and the reference implementation. With the
//! `testkit` feature, the `testkit` module and the `esr_core::store_conformance_tests!` macro
//! check any adapter against every point of the contract.
//!
//! This area has no operations of its own: every operation on [`Esr`](crate::Esr) runs in one
//! [`Store::transaction`], or, when it only reads, in one [`Store::read`] (run again as a
//! transaction if it turns out to need a write, such as recording a session's activity).

mod memory;
mod purge;
mod read_only;
mod traits;

pub(crate) use read_only::read_mostly;

pub use memory::*;
pub use purge::*;
pub use traits::*;

#[cfg(feature = "testkit")]
pub mod testkit;
