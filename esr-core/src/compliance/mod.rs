//! Compliance: competences, requirements, Green / Amber / Red / Blue, percentages, roll-ups, the
//! bulk scorer and the ESR competence export.

mod competence;
mod rules;
mod bulk;
mod csv;
mod ops;

pub use competence::*;
pub use rules::*;
pub use bulk::*;
pub use csv::*;
pub use ops::*;
