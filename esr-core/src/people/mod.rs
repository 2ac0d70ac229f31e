//! People, their accounts and assignments, line management, and who may see whose record.
//!
//! - A [`Person`] has an employee number, a [`PersonName`], a date of birth, the recruitment
//!   e-mail and optionally a registered mobile number; their [`Account`] carries the username
//!   and an argon2id [`PasswordHash`] (never the [`Password`]).
//! - [`AccountState`]: active, locked (after too many failed log-ins), suspended, ended (a
//!   leaver, for good). Only the transitions of [`AccountState::transition`] are allowed, and
//!   [`AccountState::counts_as_active_user`] is what the two-user-administrator floor counts.
//! - A person may hold several [`Assignment`]s, each with a position, an organisation unit and a
//!   supervisor (another person's assignment in the same trust); supervisor cycles are refused.
//! - **Record visibility** ([`RecordBasis`], [`RecordAccess`]): everyone sees their own record;
//!   a line manager sees the people whose assignments report to them, directly or through
//!   others; a delegated administrator acts for their organisation units; a professional URP
//!   acts within its scope. Never across trusts, and a basis counts only where its function is
//!   allowed on the session's channel. Every read or change of another person's record is
//!   audited.
//!
//! The operations are methods on [`Esr`](crate::Esr): [`Esr::add_person`](crate::Esr::add_person),
//! [`Esr::add_assignment`](crate::Esr::add_assignment),
//! [`Esr::set_supervisor`](crate::Esr::set_supervisor) (Maintain people);
//! [`Esr::set_password`](crate::Esr::set_password),
//! [`Esr::approve_internet_access`](crate::Esr::approve_internet_access),
//! [`Esr::unlock_account`](crate::Esr::unlock_account),
//! [`Esr::suspend_account`](crate::Esr::suspend_account),
//! [`Esr::reinstate_account`](crate::Esr::reinstate_account),
//! [`Esr::end_account`](crate::Esr::end_account) (Reset accounts; suspending and ending refuse to
//! leave fewer than two user administrators); [`Esr::record_access`](crate::Esr::record_access),
//! [`Esr::view_record`](crate::Esr::view_record), [`Esr::change_details`](crate::Esr::change_details)
//! and [`Esr::team`](crate::Esr::team) for visibility.

mod account;
mod assignment;
mod ops;
pub(crate) use ops::check_supervisor;
mod visibility;

pub use account::*;
pub use assignment::*;
pub use visibility::*;
