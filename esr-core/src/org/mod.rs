//! Organisations: trusts (isolated tenants, each with its VPD code), their organisation-unit
//! hierarchy and their settings.

mod ops;
mod trust;

pub use trust::*;
