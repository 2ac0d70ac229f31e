//! Statutory and mandatory training compliance: competences, the requirements that make them
//! needed, and the Red / Amber / Green / Blue status of each person against them.
//!
//! - A competence is named the ESR way ([`CompetenceName`]: `NHS|CSTF|Fire Safety - 2 Years|`,
//!   or a local `297|LOCAL|Title|`); a trust's catalogue is the national
//!   [`default_catalogue`] plus its own [`CompetenceDefinition`]s. A person holds it as a
//!   [`CompetenceRecord`] with an expiry or none; the latest expiry counts ([`best_records`]).
//! - A [`Requirement`] attaches to a position, an organisation unit (inherited below it) or a
//!   job ([`RequirementTarget`]), essential or not; [`Equivalence`]s chain.
//! - **Status as of a date D** ([`row_status`], [`expiry_status`], [`ComplianceStatus`]): Red
//!   when required and not held or expired before D; Amber when expiring from D to D plus 3
//!   calendar months, both included, month-end clamped ([`AmberWindow`], [`add_months`](crate::values::add_months));
//!   Green later or never; Blue when held but not required.
//! - **Percentage**: essential rows Green or Amber over essential rows
//!   ([`compliance_percent`]), none without essential rows; one per assignment and a summary
//!   across them ([`summarise`]); roll-ups per unit and competence against the trust's target
//!   ([`roll_up`], [`ComplianceSettings`]).
//! - "Today" is the UK date at the clock's instant ([`uk_date`](crate::values::uk_date)); ESR files print dates as
//!   `30-Nov-2028` ([`format_esr_date`](crate::values::format_esr_date), [`parse_esr_date`](crate::values::parse_esr_date)).
//! - ESR competence exports are read as a stream with size limits ([`read_competence_export`],
//!   [`MAX_CSV_RECORD_BYTES`], [`MAX_CSV_COLUMNS`], [`MAX_IMPORT_PROBLEMS`]); whole workforces
//!   are scored column-wise by [`score_compliance`].
//!
//! The operations are methods on [`Esr`](crate::Esr): the trust's configuration
//! ([`Esr::define_competence`](crate::Esr::define_competence),
//! [`Esr::set_requirement`](crate::Esr::set_requirement),
//! [`Esr::add_equivalence`](crate::Esr::add_equivalence),
//! [`Esr::set_compliance_settings`](crate::Esr::set_compliance_settings) and their readers),
//! records ([`Esr::record_competence`](crate::Esr::record_competence),
//! [`Esr::import_competences`](crate::Esr::import_competences)), and the views
//! ([`Esr::my_compliance`](crate::Esr::my_compliance),
//! [`Esr::person_compliance`](crate::Esr::person_compliance),
//! [`Esr::team_compliance`](crate::Esr::team_compliance),
//! [`Esr::compliance_report`](crate::Esr::compliance_report),
//! [`Esr::compliance_matrix`](crate::Esr::compliance_matrix)).

mod bulk;
mod competence;
mod csv;
mod encoding;
mod keys;
mod ops;
mod rules;
// Competences awaiting approval.
mod claim_ops;
mod claims;

pub use bulk::*;
pub use claim_ops::*;
pub use claims::*;
pub use competence::*;
pub use csv::*;
pub use encoding::*;
pub use keys::*;
pub use ops::*;
pub use rules::*;
