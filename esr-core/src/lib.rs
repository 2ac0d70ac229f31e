//! # esr-core
//!
//! The self-service core of the NHS Electronic Staff Record (ESR) as an embeddable library:
//! trusts as isolated tenants, people and accounts, assignments and line management, User
//! Responsibility Profiles (URPs), the access each channel allows, record visibility and a
//! tamper-evident audit trail. It does no I/O of its own: storage is behind [`Store`] (with
//! [`InMemoryStore`] as the default), and time and randomness are injected.
//!
//! ```
//! use esr_core::*;
//! use chrono::{NaiveDate, TimeZone, Utc};
//!
//! # fn main() -> Result<(), Error> {
//! let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap());
//! let esr = Esr::new(InMemoryStore::new(), clock.clone());
//! let vpd: VpdCode = "297".parse()?;
//! let settings = TrustSettings { automatic_internet_access: true, ..Default::default() };
//! esr.create_trust(vpd, "Example NHS Foundation Trust", settings)?;
//!
//! let feed = Actor::system("recruitment feed")?;
//! let emma = esr.add_person(&feed, vpd, NewPerson {
//!     employee_number: "20000001".parse()?,
//!     name: PersonName::new("Emma", "Conroy")?,
//!     date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(),
//!     recruitment_email: "emma.conroy@nhs.net".parse()?,
//! })?;
//! assert_eq!(emma.username.to_string(), "297ECONROY01");
//!
//! esr.set_password(&feed, &emma.username, &Password::new("a long passphrase"))?;
//! let session = esr.log_in_with_password("297ECONROY01", &Password::new("a long passphrase"))?;
//! assert!(esr.decide(session.id, Function::MyCompliance)?.is_allowed());
//! assert_eq!(
//!     esr.decide(session.id, Function::AssignUrps)?,
//!     AccessDecision::Denied(Denial::NotGranted),
//! );
//! esr.verify_audit(vpd)?;
//! # Ok(()) }
//! ```
//!
//! The public interface is what this page re-exports; the modules are private.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod access;
mod account;
mod assignment;
mod audit;
mod bulk;
mod certification;
mod clock;
mod competence;
mod competence_csv;
mod compliance;
mod delivery;
mod error;
mod ids;
pub mod limits;
mod memory;
mod org;
mod passcode;
mod passcode_service;
mod phone;
mod random;
mod report;
mod service;
mod session;
mod store;
mod urp;
pub mod username;

#[doc(hidden)]
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use access::{
    AccessContext, AccessDecision, Channel, Denial, Function, Tier, UpgradeBlocker,
    allowed_functions, decide, has_internet_access, upgrade_blocker,
};
pub use account::{
    Account, AccountState, NewPerson, Password, PasswordHash, PasswordHashing, Person, PersonName,
};
pub use assignment::{Assignment, NewAssignment};
pub use audit::{
    AuditActor, AuditEntry, AuditEvent, AuditHash, AuditHead, ChainVerifier, verify_chain,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use delivery::{
    DEFAULT_SMS_TEMPLATE, EmailKind, EmailMessage, EmailSender, Outbox, Sent, SmsMessage,
    SmsSender, SmsTemplate,
};
pub use error::{Error, Result};
pub use ids::{
    AssignmentNumber, EmailAddress, EmployeeNumber, GrantId, OrgUnitId, PositionId, SessionId,
    SessionRef, VpdCode,
};
/// The text limits that were re-exported here before [`limits`] gathered them all.
pub use limits::{
    MAX_COMPETENCE_NAME_CHARS, MAX_LEARNING_NAME_CHARS, MAX_PASSWORD_CHARS, MAX_PHONE_CHARS,
    MAX_SMS_TEMPLATE_CHARS, MAX_TEXT_CHARS, MIN_PASSWORD_CHARS,
};
pub use memory::InMemoryStore;
pub use org::{
    DashboardConfig, MAX_LOCAL_BI_PORTLETS, NationalPortlet, OrgUnit, Trust, TrustSettings,
    UpgradeAccess,
};
pub use passcode::{
    Approved, Binding, CODE_LIFETIME, Challenge, ChallengeId, ChallengeStatus, Destination, KeyId,
    LINK_LIFETIME, LinkProblem, MIN_KEY_BYTES, Passcode, PasscodeChallenge, PasscodeKey,
    PasscodeKeys, PasscodePolicy, PasscodeTag, Purpose, RecoveryToken, VerifyOutcome,
};
pub use passcode_service::RecoveryRequested;
pub use phone::MobileNumber;
pub use random::SecureRandom;
pub use report::{UrpReportRow, urp_report_csv};
pub use service::{
    Actor, Config, DetailsChange, Esr, GrantRequest, PersonRecord, RecordAccess, RecordBasis,
    TeamMember,
};
pub use session::{
    MobileConfirmation, Session, SessionEnd, SessionEndReason, SmartcardAuthentication,
    StepUpProof, Upgrade,
};
pub use store::{Store, StoreTx};
pub use urp::{Approval, ApprovalRefusal, GrantScope, Grantor, Revocation, Urp, UrpGrant, UrpKind};
pub use username::{Username, UsernameStem};

// Compliance
pub use bulk::{
    AssignmentColumns, BulkDetail, BulkId, BulkScores, HeldNotRequired, HoldingColumns,
    KeyInterner, NO_EXPIRY, RequirementColumns, Validity, date_from_days, days_since_epoch,
    score_compliance, score_compliance_detail, score_compliance_with_threads,
};
pub use competence::{
    CSTF_TITLES, CompetenceDefinition, CompetenceLevel, CompetenceName, CompetenceOwner,
    CompetenceRecord, Equivalence, NewCompetenceRecord, RecordExpiry, Requirement,
    RequirementTarget, add_months, cstf, default_catalogue,
};
pub use competence_csv::{
    CompetenceExportColumns, CsvEncoding, DecodingReader, ESR_DATE_FORMAT, ImportOptions,
    ImportProblem, ImportProblems, ImportSummary, MAX_CSV_COLUMNS, MAX_CSV_RECORD_BYTES,
    MAX_IMPORT_PROBLEMS, compliance_matrix_csv, format_esr_date, parse_competence_loose,
    parse_esr_date, read_competence_export, read_competence_export_with_encoding,
};
pub use compliance::{
    AmberWindow, AssignmentCompliance, ComplianceCounts, ComplianceRow, ComplianceRules,
    ComplianceSettings, ComplianceStatus, Holding, Need, PersonCompliance, RollUp, StatusChange,
    best_records, compliance_percent, end_of_next_month, expiry_status, format_percent, roll_up,
    row_status, summarise, uk_date, worsening,
};
pub use service::{ComplianceReport, TeamCompliance, TeamComplianceMember};

// Certifications and enrolment
pub use certification::{
    Allowed, Certification, CertificationPath, CertifiedPeriod, CompletionRule, Component,
    ComponentKind, ComponentStatus, Enrolment, ExpiryBase, LearningAction, MAX_LEARNING_DAYS,
    MY_ELEARNING_LIMIT, NotRecordedReason, Performance, PlayResult, Renewal, Subscription,
    SubscriptionState, SubscriptionStatus, award_expiry, check_action, check_enrol, completion_met,
    subscription_status, window_opens,
};
pub use service::{LearningOutcome, PlayOutcome, SubscriptionView};

/// Re-exported so embedders name the same `chrono` types as the library.
pub use chrono;
