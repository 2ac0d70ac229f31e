//! Organisations: trusts (isolated tenants, each with its VPD code), their organisation-unit
//! hierarchy and their settings.

mod ops;
mod sms_template;
mod trust;

pub use sms_template::*;
pub use trust::*;
