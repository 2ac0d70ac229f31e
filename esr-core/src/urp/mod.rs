//! User Responsibility Profiles (URPs): what each grants, who may grant it, and the report that
//! reviews them.
//!
//! A [`Urp`] grants [`Function`]s ([`Urp::functions`]); each function falls under a channel rule
//! ([`Tier`]) and each URP is of a [`UrpKind`] (employee, manager, professional), which decides
//! the Upgrade Access setting that applies. The rules this area enforces:
//!
//! - **Who grants**: only a user whose session may use Assign URPs (an HSCN session of a user
//!   administrator), never to themselves.
//! - **Approval** ([`Approval`], refusals in [`ApprovalRefusal`]): anything beyond an employee
//!   URP needs the holder's line manager to have verified the need, or a Caldicott guardian's
//!   exception approved by neither the holder nor the grantor.
//! - **Scope** ([`GrantScope`]): URPs that act for delegated organisation units
//!   ([`Urp::needs_org_scope`]) need named units of the trust; a grant covers a unit and every
//!   unit below it.
//! - **The two-user-administrator floor**: at least two active users hold Local HRMS Systems and
//!   User Administration at all times; anything that would go below it is refused with
//!   [`Error::TooFewUserAdministrators`](crate::Error::TooFewUserAdministrators).
//! - **History**: a [`UrpGrant`] records grantor, reason, time and approval; a revoked grant is
//!   kept with its [`Revocation`]. The URP audit report ([`UrpReportRow`], [`urp_report_csv`],
//!   with spreadsheet formulas neutralised) lists who holds what, since when, granted by whom
//!   and why, for the six-monthly review.
//!
//! The operations are methods on [`Esr`](crate::Esr):
//! [`Esr::bootstrap_user_administrators`](crate::Esr::bootstrap_user_administrators) (a new
//! trust's first two or more, once), [`Esr::grant_urp`](crate::Esr::grant_urp) (with a
//! [`GrantRequest`]), [`Esr::revoke_urp`](crate::Esr::revoke_urp),
//! [`Esr::grants_of`](crate::Esr::grants_of), [`Esr::held_urps`](crate::Esr::held_urps) and
//! [`Esr::urp_audit_report`](crate::Esr::urp_audit_report).

mod catalogue;
mod functions;
mod grants;
mod ops;
mod report;
// Workflows: access requests (OneForm) and the six-monthly URP review.
mod requests;
mod review_state;
mod workflow_ops;

pub use catalogue::*;
pub use functions::*;
pub use grants::*;
pub use ops::*;
pub use report::*;
pub use requests::*;
pub(crate) use review_state::*;
pub use workflow_ops::*;
