//! Compliance: competences, requirements, Green / Amber / Red / Blue, percentages, roll-ups, the
//! bulk scorer and the ESR competence export.

mod bulk;
mod competence;
mod csv;
mod ops;
mod rules;

pub use bulk::*;
pub use competence::*;
pub use csv::*;
pub use ops::*;
pub use rules::*;
