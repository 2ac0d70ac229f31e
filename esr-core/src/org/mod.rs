//! Organisations: each NHS trust is a tenant with a three-digit VPD code, and no data, query or
//! aggregate crosses from one trust to another.
//!
//! A [`Trust`] has a hierarchy of organisation units ([`OrgUnit`]: directorates, departments,
//! wards), used for compliance roll-ups and for delegating administration
//! ([`Trust::is_within`] decides whether a unit lies below another). Its [`TrustSettings`] are
//! what every access decision reads: **Automatic Internet Access**, **Upgrade Access** for
//! Manager and Professional users ([`UpgradeAccess`]), the **Manager Dashboard**
//! ([`DashboardConfig`]: the five [`NationalPortlet`]s each on or off, and at most
//! [`MAX_LOCAL_BI_PORTLETS`] local BI portlets, a fourth refused), and the text of the passcode
//! SMS ([`SmsTemplate`], which must carry the code and say how long it lasts).
//!
//! The operations are methods on [`Esr`](crate::Esr): [`Esr::create_trust`](crate::Esr::create_trust)
//! and [`Esr::trust`](crate::Esr::trust); [`Esr::add_org_unit`](crate::Esr::add_org_unit) and
//! [`Esr::set_automatic_internet_access`](crate::Esr::set_automatic_internet_access) (needing
//! Maintain workstructures); [`Esr::set_upgrade_access`](crate::Esr::set_upgrade_access),
//! [`Esr::set_portlet`](crate::Esr::set_portlet),
//! [`Esr::add_local_bi_portlet`](crate::Esr::add_local_bi_portlet) and
//! [`Esr::remove_local_bi_portlet`](crate::Esr::remove_local_bi_portlet) (needing Portal
//! administration). The guide's [domain](crate::guide::domain) page puts them in context.

mod ops;
mod sms_template;
mod trust;

pub use sms_template::*;
pub use trust::*;
