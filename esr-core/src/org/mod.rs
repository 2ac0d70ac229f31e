//! Organisations: trusts (isolated tenants, each with its VPD code), their organisation-unit
//! hierarchy and their settings.

mod trust;
mod ops;

pub use trust::*;
pub use ops::*;
