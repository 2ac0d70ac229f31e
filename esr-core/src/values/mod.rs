//! The bottom layer: identifiers, usernames, mobile numbers, dates, text limits, the clock and the
//! random source. Nothing here knows of the rest of the domain.

pub mod limits;
pub mod username;
mod ids;
mod phone;
mod clock;
mod random;

pub use limits::*;
pub use username::*;
pub use ids::*;
pub use phone::*;
pub use clock::*;
pub use random::*;
