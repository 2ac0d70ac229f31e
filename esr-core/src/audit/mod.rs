//! The tamper-evident audit trail: entries, the hash chain and its verification.

mod ops;
mod trail;

pub use trail::*;
