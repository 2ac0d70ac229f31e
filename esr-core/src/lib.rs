//! # esr-core
//!
//! The self-service core of the NHS Electronic Staff Record (ESR) as an embeddable library:
//! trusts as isolated tenants, people and accounts, assignments and line management, User
//! Responsibility Profiles (URPs), the access each channel allows, record visibility and a
//! tamper-evident audit trail. It does no I/O of its own: storage is behind [`Store`] (with
//! [`InMemoryStore`] as the default), and time and randomness are injected.
//!
//! ```
//! use esr_core::{*, access::*, audit::*, compliance::*, learning::*, org::*, passcode::*, people::*, store::*, urp::*, values::*};
//! use chrono::{NaiveDate, TimeZone, Utc};
//!
//! # fn main() -> Result<(), Error> {
//! let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap());
//! let esr = Esr::new(InMemoryStore::new(), clock.clone());
//! let vpd: VpdCode = "297".parse()?;
//! let settings = TrustSettings { automatic_internet_access: true, ..Default::default() };
//! esr.create_trust(vpd, "Example NHS Foundation Trust", settings)?;
//!
//! let feed = Actor::system("recruitment feed")?;
//! let emma = esr.add_person(&feed, vpd, NewPerson {
//!     employee_number: "20000001".parse()?,
//!     name: PersonName::new("Emma", "Conroy")?,
//!     date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(),
//!     recruitment_email: "emma.conroy@nhs.net".parse()?,
//! })?;
//! assert_eq!(emma.username.to_string(), "297ECONROY01");
//!
//! esr.set_password(&feed, &emma.username, &Password::new("a long passphrase"))?;
//! let session = esr.log_in_with_password("297ECONROY01", &Password::new("a long passphrase"))?;
//! assert!(esr.decide(session.id, Function::MyCompliance)?.is_allowed());
//! assert_eq!(
//!     esr.decide(session.id, Function::AssignUrps)?,
//!     AccessDecision::Denied(Denial::NotGranted),
//! );
//! esr.verify_audit(vpd)?;
//! # Ok(()) }
//! ```
//!
//! The domain, its rules and the library's design decisions are explained in the [`guide`]:
//! start there.
//!
//! The public interface is what this page re-exports; the modules are private.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
pub mod guide;
pub mod values;

pub mod access;
pub mod audit;
pub mod authenticator;
pub mod compliance;
pub mod learning;
pub mod notify;
pub mod org;
pub mod passcode;
pub mod people;
pub mod service;
pub mod store;
pub mod urp;

#[doc(hidden)]
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;

// The headline types; everything else is reached through its area module above.
pub use error::{Error, ErrorKind, Result};
pub use passcode::ChallengeId;
pub use service::{Actor, Config, Esr, Retention};
pub use store::{InMemoryStore, Store, StoreTx};
pub use values::{
    AssignmentNumber, ChangeId, EmailAddress, EmployeeNumber, GrantId, MobileNumber,
    NotificationId, OrgUnitId, PositionId, SessionId, SessionKey, SessionRef, Username, VpdCode,
};
pub use values::{Clock, ManualClock, SecureRandom, SystemClock};

/// Re-exported so embedders name the same `chrono` types as the library.
pub use chrono;
