//! Storage: the [`Store`] and [`StoreTx`] traits every adapter implements, the in-memory store,
//! and (feature `testkit`) the conformance kit.

mod traits;
mod memory;

pub use traits::*;
pub use memory::*;

#[cfg(feature = "testkit")]
pub mod testkit;
