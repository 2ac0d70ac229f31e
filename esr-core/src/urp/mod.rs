//! User Responsibility Profiles: the catalogue, the functions each gives, grants and their
//! approval, and the URP audit report.

mod catalogue;
mod report;
mod ops;

pub use catalogue::*;
pub use report::*;
pub use ops::*;
