//! Channels and sessions: what each channel allows, and the sessions that carry it.
//!
//! A session ([`Session`]) reaches ESR on one [`Channel`]: the NHS network (HSCN) with a
//! smartcard, or the internet with username and password. [`decide`] is the access rule, one
//! pure function over an [`AccessContext`], answering an [`AccessDecision`] with the reason for
//! any [`Denial`]:
//!
//! | function tier | HSCN + smartcard | internet | internet, upgraded |
//! |---|---|---|---|
//! | employee (ESS-level) | yes | with ESS internet access | with ESS internet access |
//! | manager (Supervisor, Manager, Administrator SS) | yes | no | if Upgrade Access: Manager |
//! | professional remote (dashboards, BI reports) | yes | no | if Upgrade Access: Professional |
//! | HSCN only (administration, BI administration, mobile registration) | yes | never | never |
//!
//! A function must also be granted by a URP the user holds, and one shown as a Manager
//! Dashboard portlet needs that portlet on. ESS internet access is automatic or approved per
//! user ([`has_internet_access`]). An internet session is upgraded on its own, by a one-time
//! passcode or the embedder's [`StepUpProof`], when [`upgrade_blocker`] finds nothing in the
//! way ([`UpgradeBlocker`]). A mobile number is registered only from HSCN, with a
//! [`MobileConfirmation`]. A session lasts [`Config::session_lifetime`](crate::Config::session_lifetime)
//! (12 hours by default) and stops after its idle timeout without activity (30 minutes on the
//! internet; [`Session::is_live_at`]); a password change, reset or lock, a suspension or an end
//! ends the account's (other) sessions ([`SessionEndReason`]), and people list and end their own
//! ([`SessionSummary`]).
//!
//! The operations are methods on [`Esr`](crate::Esr):
//! [`Esr::log_in_with_password`](crate::Esr::log_in_with_password) (the same error for a wrong
//! username and a wrong password; the account locks after
//! [`Config::max_failed_logins`](crate::Config::max_failed_logins) failures),
//! [`Esr::log_in_with_smartcard`](crate::Esr::log_in_with_smartcard),
//! [`Esr::log_out`](crate::Esr::log_out), [`Esr::live_sessions`](crate::Esr::live_sessions),
//! [`Esr::change_password`](crate::Esr::change_password),
//! [`Esr::sessions_of`](crate::Esr::sessions_of), [`Esr::end_session`](crate::Esr::end_session),
//! [`Esr::end_all_sessions`](crate::Esr::end_all_sessions),
//! [`Esr::session`](crate::Esr::session), [`Esr::functions`](crate::Esr::functions),
//! [`Esr::decide`](crate::Esr::decide), [`Esr::check_upgrade`](crate::Esr::check_upgrade),
//! [`Esr::register_mobile`](crate::Esr::register_mobile) and
//! [`Esr::upgrade_session`](crate::Esr::upgrade_session).

mod channels;
mod ops;
mod session;
mod steps;

pub use channels::*;
pub use session::*;
pub(crate) use steps::*;
