//! Storage: the [`Store`] and [`StoreTx`] traits every adapter implements, the in-memory store,
//! and (feature `testkit`) the conformance kit.

mod memory;
mod traits;

pub use memory::*;
pub use traits::*;

#[cfg(feature = "testkit")]
pub mod testkit;
