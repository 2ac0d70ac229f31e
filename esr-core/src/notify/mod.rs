//! Notifications (a worklist per person), the channel rule that says how much of it a session
//! sees, and approvals of record changes.
//!
//! - A [`Notification`] is for one person ([`Notification::for_person`]), of a
//!   [`NotificationKind`], about something, raised at a time, in a [`NotificationState`], and
//!   offers actions ([`Notification::allowed_actions`]): approve or reject (with a reason) for
//!   a decision, acknowledge for news. Workflows raise them inside their own transaction; the
//!   flows that tell a person something raise them too: a change to their record by someone
//!   else, a URP granted or removed, a certification awarded, a competence about to expire
//!   ([`Esr::raise_expiry_notices`](crate::Esr::raise_expiry_notices)).
//! - **The channel rule** ([`notification_visibility`], seed 002): on the NHS network every
//!   notification can be viewed and acted on; over the internet before an upgrade only the
//!   count of open notifications shows; after a passcode upgrade the kinds the trust chose
//!   ([`TrustSettings::internet_notifications`](crate::org::TrustSettings::internet_notifications))
//!   can be viewed and acted on.
//! - **Approvals**: a change to a person's record under Administrator Self Service (Approvals
//!   Required) is held as a [`PendingChange`] for the person's line manager; a pay-affecting
//!   team change under Manager Self Service (Payroll Approvals Required) is held for the
//!   manager's own line manager. A held change applies only when approved; a rejected or
//!   expired one never applies, and the store settles each change once, so two approvals of
//!   one change cannot both succeed. Under the "not required" URPs the change applies at once
//!   and (Administrator Self Service) the line manager is told.
//!
//! The operations are methods on [`Esr`](crate::Esr):
//! [`Esr::notifications`](crate::Esr::notifications),
//! [`Esr::notification_count`](crate::Esr::notification_count),
//! [`Esr::act_on_notification`](crate::Esr::act_on_notification),
//! [`Esr::request_change`](crate::Esr::request_change),
//! [`Esr::pending_change`](crate::Esr::pending_change),
//! [`Esr::expire_pending_changes`](crate::Esr::expire_pending_changes),
//! [`Esr::raise_expiry_notices`](crate::Esr::raise_expiry_notices) and
//! [`Esr::set_internet_notifications`](crate::Esr::set_internet_notifications).

mod channel;
mod item;
mod kinds;
mod ops;
mod pending;

pub use channel::*;
pub use item::*;
pub use kinds::*;
pub use ops::*;
pub use pending::*;
