//! Learning: certifications, subscriptions, enrolment and the learning that awards competences.

mod certification;
mod ops;

pub use certification::*;
pub use ops::*;
