//! The bottom layer: the values every area is built from, validated once so nothing above has
//! to check them again. Nothing here knows of the rest of the domain.
//!
//! - **Identifiers** ([`VpdCode`], [`EmployeeNumber`], [`AssignmentNumber`], [`EmailAddress`],
//!   [`OrgUnitId`], [`PositionId`], [`SessionId`], [`GrantId`]) are newtypes that validate in
//!   `FromStr`/`TryFrom`, cannot be built invalid, and whose `Display` parses back to the same
//!   value. A [`VpdCode`] is the tenant key: nothing crosses between codes. A [`SessionId`] is
//!   a bearer handle; audit entries name a session by its one-way [`SessionRef`], and stores keep it under its
//!   [`SessionKey`] (a SHA-256 of it), never the id itself.
//! - **Usernames** ([`Username`], [`UsernameStem`]) follow the ESR rule (`297ECONROY01`), given
//!   in full in [`username`].
//! - **Mobile numbers** ([`MobileNumber`]) are held in E.164 form and shown only masked
//!   (`xxxxxxx374`); [`MobileNumber::expose_e164`] is for the SMS gateway alone.
//! - **Limits**: the size of every text the library accepts, in one place ([`limits`]), checked
//!   before any expensive work, with [`limits::shown`] keeping error messages short.
//! - **Time and randomness** are injected: a [`Clock`] ([`SystemClock`], [`ManualClock`] for
//!   tests) and a [`SecureRandom`] source. The core never reads the system time or a global
//!   RNG itself.
//!
//! This area has no operations on [`Esr`](crate::Esr); see the guide's
//! [decisions](crate::guide::decisions) for why values are validated and injected.

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
