//! User Responsibility Profiles: the catalogue, the functions each gives, grants and their
//! approval, and the URP audit report.

mod catalogue;
mod functions;
mod ops;
mod report;

pub use catalogue::*;
pub use functions::*;
pub use ops::*;
pub use report::*;
