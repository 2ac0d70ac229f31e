//! The tamper-evident audit trail: entries, the hash chain and its verification.

mod trail;
mod ops;

pub use trail::*;
pub use ops::*;
