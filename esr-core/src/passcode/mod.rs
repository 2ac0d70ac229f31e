//! One-time passcodes: codes, keys, challenges, delivery by SMS and e-mail, and account recovery.

mod challenge;
mod delivery;
mod ops;

pub use challenge::*;
pub use delivery::*;
pub use ops::*;
