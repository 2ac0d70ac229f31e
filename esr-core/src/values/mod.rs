//! The bottom layer: identifiers, usernames, mobile numbers, dates, text limits, the clock and the
//! random source. Nothing here knows of the rest of the domain.

mod clock;
mod dates;
mod error;
mod ids;
pub mod limits;
mod phone;
mod random;
pub mod username;

pub use clock::*;
pub use dates::*;
pub use error::*;
pub use ids::*;
pub use limits::*;
pub use phone::*;
pub use random::*;
pub use username::*;
