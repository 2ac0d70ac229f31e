//! People, their accounts and assignments, and line management.

mod account;
mod assignment;
mod ops;
mod visibility;

pub use account::*;
pub use assignment::*;
pub use visibility::*;
