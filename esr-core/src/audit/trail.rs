//! The audit trail: append-only, one chain per trust, each entry hashed with SHA-256 over the
//! previous entry's hash so that editing, removing or reordering an entry is detected.
//!
//! No entry ever holds a password, code, token or full phone number: the event types below have
//! no field that could carry one.

use crate::error::{Error, Result};
use crate::passcode::{ChallengeId, Purpose};
use crate::urp::Urp;
use crate::values::username::Username;
use crate::values::{AssignmentNumber, EmployeeNumber, GrantId, OrgUnitId, SessionRef, VpdCode};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::fmt;

/// A SHA-256 chain hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuditHash(pub [u8; 32]);

impl AuditHash {
    /// The hash before the first entry of a chain.
    pub const GENESIS: AuditHash = AuditHash([0; 32]);
}

impl fmt::Display for AuditHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::values::write_hex(f, &self.0)
    }
}
impl fmt::Debug for AuditHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditHash({self})")
    }
}
impl std::str::FromStr for AuditHash {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out)
            .map_err(|_| Error::invalid("audit hash", "it must be 64 hexadecimal characters"))?;
        Ok(Self(out))
    }
}
crate::values::string_serde!(AuditHash);

/// Who did what an entry records.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AuditActor {
    /// A user, in a session.
    User {
        /// The user.
        username: Username,
        /// The session (a one-way reference, never the id itself).
        session: SessionRef,
    },
    /// A process of the embedding system.
    System(String),
    /// Someone not yet identified (a failed log-in).
    Anonymous,
}

impl fmt::Display for AuditActor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User { username, .. } => write!(f, "{username}"),
            Self::System(p) => write!(f, "system: {p}"),
            Self::Anonymous => f.write_str("anonymous"),
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum AuditEvent {
    /// The trust was created.
    TrustCreated {
        /// Its name.
        name: String,
    },
    /// A trust setting changed.
    SettingChanged {
        /// Which setting.
        setting: String,
        /// Its new value.
        value: String,
    },
    /// An organisation unit was added.
    OrgUnitAdded {
        /// The unit.
        unit: OrgUnitId,
        /// Its parent.
        parent: Option<OrgUnitId>,
    },
    /// A person and their account were added.
    PersonAdded {
        /// The person.
        employee: EmployeeNumber,
        /// Their username.
        username: Username,
    },
    /// An assignment was added.
    AssignmentAdded {
        /// The assignment.
        assignment: AssignmentNumber,
        /// Whose it is.
        employee: EmployeeNumber,
        /// Its supervisor.
        supervisor: Option<AssignmentNumber>,
    },
    /// An assignment's supervisor changed.
    SupervisorChanged {
        /// The assignment.
        assignment: AssignmentNumber,
        /// The new supervisor.
        supervisor: Option<AssignmentNumber>,
    },
    /// A URP was granted.
    UrpGranted {
        /// The grant.
        grant: GrantId,
        /// To whom.
        holder: Username,
        /// What.
        urp: Urp,
        /// The scope, described.
        scope: String,
        /// Why.
        reason: String,
        /// The verification, described.
        approval: String,
    },
    /// A URP was revoked.
    UrpRevoked {
        /// The grant.
        grant: GrantId,
        /// From whom.
        holder: Username,
        /// What.
        urp: Urp,
        /// Why.
        reason: String,
    },
    /// A log-in succeeded.
    LoggedIn {
        /// Who.
        username: Username,
        /// The new session (a one-way reference).
        session: SessionRef,
        /// The channel, described.
        channel: String,
        /// The smartcard used, on HSCN.
        smartcard: Option<String>,
    },
    /// A password log-in failed.
    LoginFailed {
        /// The account tried.
        username: Username,
        /// Consecutive failures so far.
        failures: u32,
    },
    /// An account changed state.
    AccountStateChanged {
        /// The account.
        username: Username,
        /// From.
        from: String,
        /// To.
        to: String,
        /// Why.
        reason: String,
    },
    /// A password was set (the password itself is never recorded).
    PasswordSet {
        /// The account.
        username: Username,
    },
    /// ESS internet access was approved for a user.
    InternetAccessApproved {
        /// The user.
        username: Username,
    },
    /// A session was upgraded.
    SessionUpgraded {
        /// The session (a one-way reference).
        session: SessionRef,
        /// The second factor used.
        method: String,
    },
    /// A session ended.
    SessionEnded {
        /// The session (a one-way reference).
        session: SessionRef,
        /// Why.
        reason: String,
    },
    /// A mobile number was registered or changed (only its masked form is recorded).
    MobileRegistered {
        /// The user.
        username: Username,
        /// The number as ESR shows it: `xxxxxxx374`.
        masked: String,
        /// Whether it replaced an earlier number.
        changed: bool,
    },
    /// Someone read another person's record.
    RecordViewed {
        /// Whose record.
        subject: EmployeeNumber,
        /// On what basis, described.
        basis: String,
    },
    /// Someone changed another person's record.
    RecordChanged {
        /// Whose record.
        subject: EmployeeNumber,
        /// Which fields.
        fields: String,
    },
    /// A report was produced.
    ReportProduced {
        /// Which report.
        report: String,
    },
    // One-time passcodes and account recovery. No code, token or full number is recorded.
    /// A passcode or recovery link was issued and handed to the sender.
    PasscodeIssued {
        /// For whom.
        username: Username,
        /// The challenge.
        challenge: ChallengeId,
        /// What for.
        purpose: Purpose,
        /// Where it went, masked (`xxxxxxx374`).
        masked: String,
        /// When it expires.
        expires_at: DateTime<Utc>,
    },
    /// A passcode or recovery link was checked.
    PasscodeChecked {
        /// Whose.
        username: Username,
        /// The challenge.
        challenge: ChallengeId,
        /// What for.
        purpose: Purpose,
        /// The outcome (`approved`, `wrong code`, `expired`, ...).
        outcome: String,
    },
    /// Pending challenges were superseded by a newer one.
    PasscodeSuperseded {
        /// Whose.
        username: Username,
        /// The superseded challenge.
        challenge: ChallengeId,
    },
    /// Step-up was locked after too many consecutive wrong codes.
    StepUpLocked {
        /// Whose.
        username: Username,
        /// Consecutive wrong codes.
        failures: u32,
    },
    /// An administrator cleared a step-up lock.
    StepUpUnlocked {
        /// Whose.
        username: Username,
        /// Why.
        reason: String,
    },
    /// Someone asked for account recovery by e-mail and date of birth. The answer they got
    /// does not say whether anything matched; this entry does.
    RecoveryRequested {
        /// What for.
        purpose: Purpose,
        /// How many accounts matched (each was sent a link, within the send limits).
        matched: u32,
    },
    // ----- Compliance ----------------------------------------------------------------------
    /// A trust defined or overrode a competence in its catalogue.
    CompetenceDefined {
        /// The competence.
        competence: String,
        /// Its refresher period, described.
        refresher: String,
        /// Whether it is active.
        active: bool,
    },
    /// A requirement was set or removed.
    RequirementChanged {
        /// What it attaches to, described.
        target: String,
        /// The competence.
        competence: String,
        /// `essential`, `desirable` or `removed`.
        change: String,
    },
    /// An equivalence was added or removed.
    EquivalenceChanged {
        /// The competence held.
        held: String,
        /// The competence it satisfies.
        satisfies: String,
        /// Whether it was added (or removed).
        added: bool,
    },
    /// A competence was recorded for a person.
    CompetenceRecorded {
        /// Whose.
        subject: EmployeeNumber,
        /// The competence.
        competence: String,
        /// When achieved.
        achieved: String,
        /// Valid through (empty: never expires).
        expiry: String,
    },
    /// A competence export was imported.
    CompetencesImported {
        /// Records written.
        records: u64,
        /// Bad rows skipped.
        skipped: u64,
    },
    // Certifications and enrolment
    /// A certification was defined or redefined.
    CertificationDefined {
        /// Its name.
        certification: String,
        /// The competence it awards.
        competence: String,
        /// Valid for, in days.
        validity_days: u64,
    },
    /// A learner subscribed to a certification.
    Subscribed {
        /// The learner.
        subject: EmployeeNumber,
        /// The certification.
        certification: String,
    },
    /// A learner unsubscribed (the subscription is cancelled).
    Unsubscribed {
        /// The learner.
        subject: EmployeeNumber,
        /// The certification.
        certification: String,
    },
    /// A learner enrolled in a class of a component.
    Enrolled {
        /// The learner.
        subject: EmployeeNumber,
        /// The certification.
        certification: String,
        /// The cycle (1: the first certification path).
        cycle: u64,
        /// The course.
        course: String,
        /// The class chosen.
        class: String,
    },
    /// Learning progress was saved, or an eAssessment failed.
    LearningProgress {
        /// The learner.
        subject: EmployeeNumber,
        /// The certification.
        certification: String,
        /// The course.
        course: String,
        /// The performance status now, with progress or score.
        performance: String,
    },
    /// A component was completed (a course Completed, an eAssessment Passed).
    ComponentCompleted {
        /// The learner.
        subject: EmployeeNumber,
        /// The certification.
        certification: String,
        /// The course.
        course: String,
        /// Completed or Passed (with the score).
        performance: String,
    },
    /// A certification's completion rule was met and its competence awarded.
    CertificationAwarded {
        /// The learner.
        subject: EmployeeNumber,
        /// The certification.
        certification: String,
        /// The path completed.
        path: String,
        /// Completed on.
        completed: String,
        /// Valid through.
        expiry: String,
    },
    /// Learning was reported that is not recorded against any certification.
    LearningNotRecorded {
        /// The learner.
        subject: EmployeeNumber,
        /// The course.
        course: String,
        /// Why.
        reason: String,
    },
}

impl AuditEvent {
    /// A short name of the kind of event (`"urp_granted"`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TrustCreated { .. } => "trust_created",
            Self::SettingChanged { .. } => "setting_changed",
            Self::OrgUnitAdded { .. } => "org_unit_added",
            Self::PersonAdded { .. } => "person_added",
            Self::AssignmentAdded { .. } => "assignment_added",
            Self::SupervisorChanged { .. } => "supervisor_changed",
            Self::UrpGranted { .. } => "urp_granted",
            Self::UrpRevoked { .. } => "urp_revoked",
            Self::LoggedIn { .. } => "logged_in",
            Self::LoginFailed { .. } => "login_failed",
            Self::AccountStateChanged { .. } => "account_state_changed",
            Self::PasswordSet { .. } => "password_set",
            Self::InternetAccessApproved { .. } => "internet_access_approved",
            Self::SessionUpgraded { .. } => "session_upgraded",
            Self::SessionEnded { .. } => "session_ended",
            Self::MobileRegistered { .. } => "mobile_registered",
            Self::RecordViewed { .. } => "record_viewed",
            Self::RecordChanged { .. } => "record_changed",
            Self::ReportProduced { .. } => "report_produced",
            Self::PasscodeIssued { .. } => "passcode_issued",
            Self::PasscodeChecked { .. } => "passcode_checked",
            Self::PasscodeSuperseded { .. } => "passcode_superseded",
            Self::StepUpLocked { .. } => "step_up_locked",
            Self::StepUpUnlocked { .. } => "step_up_unlocked",
            Self::RecoveryRequested { .. } => "recovery_requested",
            Self::CompetenceDefined { .. } => "competence_defined",
            Self::RequirementChanged { .. } => "requirement_changed",
            Self::EquivalenceChanged { .. } => "equivalence_changed",
            Self::CompetenceRecorded { .. } => "competence_recorded",
            Self::CompetencesImported { .. } => "competences_imported",
            Self::CertificationDefined { .. } => "certification_defined",
            Self::Subscribed { .. } => "subscribed",
            Self::Unsubscribed { .. } => "unsubscribed",
            Self::Enrolled { .. } => "enrolled",
            Self::LearningProgress { .. } => "learning_progress",
            Self::ComponentCompleted { .. } => "component_completed",
            Self::CertificationAwarded { .. } => "certification_awarded",
            Self::LearningNotRecorded { .. } => "learning_not_recorded",
        }
    }

    /// The event's fields as name and text, in a fixed order: what the hash covers, and what
    /// an export prints.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::with_capacity(self.field_count());
        self.visit_fields(&mut |name, text| out.push((name, text.to_string())));
        out
    }

    /// How many fields [`AuditEvent::fields`] has.
    fn field_count(&self) -> usize {
        let mut n = 0;
        self.visit_fields(&mut |_, _| n += 1);
        n
    }

    /// Calls `f` with each field's name and text, in the order of [`AuditEvent::fields`],
    /// without building the texts: what hashing an entry reads.
    fn visit_fields(&self, f: &mut dyn FnMut(&'static str, FieldText<'_>)) {
        match self {
            Self::TrustCreated { name } => {
                f("name", FieldText::Str(name));
            }
            Self::SettingChanged { setting, value } => {
                f("setting", FieldText::Str(setting));
                f("value", FieldText::Str(value));
            }
            Self::OrgUnitAdded { unit, parent } => {
                f("unit", FieldText::Display(unit));
                f("parent", FieldText::opt(parent));
            }
            Self::PersonAdded { employee, username } => {
                f("employee", FieldText::Display(employee));
                f("username", FieldText::User(username));
            }
            Self::AssignmentAdded {
                assignment,
                employee,
                supervisor,
            } => {
                f("assignment", FieldText::Display(assignment));
                f("employee", FieldText::Display(employee));
                f("supervisor", FieldText::opt(supervisor));
            }
            Self::SupervisorChanged {
                assignment,
                supervisor,
            } => {
                f("assignment", FieldText::Display(assignment));
                f("supervisor", FieldText::opt(supervisor));
            }
            Self::UrpGranted {
                grant,
                holder,
                urp,
                scope,
                reason,
                approval,
            } => {
                f("grant", FieldText::Hex(grant.as_bytes()));
                f("holder", FieldText::User(holder));
                f("urp", FieldText::Display(urp));
                f("scope", FieldText::Str(scope));
                f("reason", FieldText::Str(reason));
                f("approval", FieldText::Str(approval));
            }
            Self::UrpRevoked {
                grant,
                holder,
                urp,
                reason,
            } => {
                f("grant", FieldText::Hex(grant.as_bytes()));
                f("holder", FieldText::User(holder));
                f("urp", FieldText::Display(urp));
                f("reason", FieldText::Str(reason));
            }
            Self::LoggedIn {
                username,
                session,
                channel,
                smartcard,
            } => {
                f("username", FieldText::User(username));
                f("session", FieldText::Hex(session.as_bytes()));
                f("channel", FieldText::Str(channel));
                f("smartcard", FieldText::opt(smartcard));
            }
            Self::LoginFailed { username, failures } => {
                f("username", FieldText::User(username));
                f("failures", FieldText::Display(failures));
            }
            Self::AccountStateChanged {
                username,
                from,
                to,
                reason,
            } => {
                f("username", FieldText::User(username));
                f("from", FieldText::Str(from));
                f("to", FieldText::Str(to));
                f("reason", FieldText::Str(reason));
            }
            Self::PasswordSet { username } | Self::InternetAccessApproved { username } => {
                f("username", FieldText::User(username));
            }
            Self::SessionUpgraded { session, method } => {
                f("session", FieldText::Hex(session.as_bytes()));
                f("method", FieldText::Str(method));
            }
            Self::SessionEnded { session, reason } => {
                f("session", FieldText::Hex(session.as_bytes()));
                f("reason", FieldText::Str(reason));
            }
            Self::MobileRegistered {
                username,
                masked,
                changed,
            } => {
                f("username", FieldText::User(username));
                f("masked", FieldText::Str(masked));
                f("changed", FieldText::Display(changed));
            }
            Self::RecordViewed { subject, basis } => {
                f("subject", FieldText::Display(subject));
                f("basis", FieldText::Str(basis));
            }
            Self::RecordChanged { subject, fields } => {
                f("subject", FieldText::Display(subject));
                f("fields", FieldText::Str(fields));
            }
            Self::ReportProduced { report } => {
                f("report", FieldText::Str(report));
            }
            Self::PasscodeIssued {
                username,
                challenge,
                purpose,
                masked,
                expires_at,
            } => {
                f("username", FieldText::User(username));
                f("challenge", FieldText::Hex(challenge.as_bytes()));
                f("purpose", FieldText::Str(purpose.as_str()));
                f("masked", FieldText::Str(masked));
                f("expires_at", FieldText::Owned(expires_at.to_rfc3339()));
            }
            Self::PasscodeChecked {
                username,
                challenge,
                purpose,
                outcome,
            } => {
                f("username", FieldText::User(username));
                f("challenge", FieldText::Hex(challenge.as_bytes()));
                f("purpose", FieldText::Str(purpose.as_str()));
                f("outcome", FieldText::Str(outcome));
            }
            Self::PasscodeSuperseded {
                username,
                challenge,
            } => {
                f("username", FieldText::User(username));
                f("challenge", FieldText::Hex(challenge.as_bytes()));
            }
            Self::StepUpLocked { username, failures } => {
                f("username", FieldText::User(username));
                f("failures", FieldText::Display(failures));
            }
            Self::StepUpUnlocked { username, reason } => {
                f("username", FieldText::User(username));
                f("reason", FieldText::Str(reason));
            }
            Self::RecoveryRequested { purpose, matched } => {
                f("purpose", FieldText::Str(purpose.as_str()));
                f("matched", FieldText::Display(matched));
            }
            Self::CompetenceDefined {
                competence,
                refresher,
                active,
            } => {
                f("competence", FieldText::Str(competence));
                f("refresher", FieldText::Str(refresher));
                f("active", FieldText::Display(active));
            }
            Self::RequirementChanged {
                target,
                competence,
                change,
            } => {
                f("target", FieldText::Str(target));
                f("competence", FieldText::Str(competence));
                f("change", FieldText::Str(change));
            }
            Self::EquivalenceChanged {
                held,
                satisfies,
                added,
            } => {
                f("held", FieldText::Str(held));
                f("satisfies", FieldText::Str(satisfies));
                f("added", FieldText::Display(added));
            }
            Self::CompetenceRecorded {
                subject,
                competence,
                achieved,
                expiry,
            } => {
                f("subject", FieldText::Display(subject));
                f("competence", FieldText::Str(competence));
                f("achieved", FieldText::Str(achieved));
                f("expiry", FieldText::Str(expiry));
            }
            Self::CompetencesImported { records, skipped } => {
                f("records", FieldText::Display(records));
                f("skipped", FieldText::Display(skipped));
            }
            Self::CertificationDefined {
                certification,
                competence,
                validity_days,
            } => {
                f("certification", FieldText::Str(certification));
                f("competence", FieldText::Str(competence));
                f("validity_days", FieldText::Display(validity_days));
            }
            Self::Subscribed {
                subject,
                certification,
            }
            | Self::Unsubscribed {
                subject,
                certification,
            } => {
                f("subject", FieldText::Display(subject));
                f("certification", FieldText::Str(certification));
            }
            Self::Enrolled {
                subject,
                certification,
                cycle,
                course,
                class,
            } => {
                f("subject", FieldText::Display(subject));
                f("certification", FieldText::Str(certification));
                f("cycle", FieldText::Display(cycle));
                f("course", FieldText::Str(course));
                f("class", FieldText::Str(class));
            }
            Self::LearningProgress {
                subject,
                certification,
                course,
                performance,
            }
            | Self::ComponentCompleted {
                subject,
                certification,
                course,
                performance,
            } => {
                f("subject", FieldText::Display(subject));
                f("certification", FieldText::Str(certification));
                f("course", FieldText::Str(course));
                f("performance", FieldText::Str(performance));
            }
            Self::CertificationAwarded {
                subject,
                certification,
                path,
                completed,
                expiry,
            } => {
                f("subject", FieldText::Display(subject));
                f("certification", FieldText::Str(certification));
                f("path", FieldText::Str(path));
                f("completed", FieldText::Str(completed));
                f("expiry", FieldText::Str(expiry));
            }
            Self::LearningNotRecorded {
                subject,
                course,
                reason,
            } => {
                f("subject", FieldText::Display(subject));
                f("course", FieldText::Str(course));
                f("reason", FieldText::Str(reason));
            }
        }
    }
}

/// A field's text, borrowed where it can be.
enum FieldText<'a> {
    /// The text itself.
    Str(&'a str),
    /// A value's `Display` output.
    Display(&'a dyn fmt::Display),
    /// A text that had to be built.
    Owned(String),
    /// A username's `Display` output.
    User(&'a Username),
    /// Bytes as lower-case hexadecimal (the `Display` output of ids and references).
    Hex(&'a [u8]),
}

impl<'a> FieldText<'a> {
    /// An optional value: its `Display` output, or empty.
    fn opt<T: fmt::Display>(v: &'a Option<T>) -> Self {
        match v {
            Some(v) => Self::Display(v),
            None => Self::Str(""),
        }
    }
}

impl fmt::Display for FieldText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Str(s) => f.write_str(s),
            Self::Display(v) => v.fmt(f),
            Self::Owned(s) => f.write_str(s),
            Self::User(u) => u.fmt(f),
            Self::Hex(b) => crate::values::write_hex(f, b),
        }
    }
}

impl fmt::Display for AuditEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())?;
        for (k, v) in self.fields() {
            if !v.is_empty() {
                write!(f, " {k}={v}")?;
            }
        }
        Ok(())
    }
}

/// One entry of a trust's audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AuditEntry {
    /// The trust whose trail this is.
    pub vpd: VpdCode,
    /// Position in the trail, from 1 with no gaps.
    pub seq: u64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor: AuditActor,
    /// What happened.
    pub event: AuditEvent,
    /// The previous entry's hash ([`AuditHash::GENESIS`] for the first).
    pub prev_hash: AuditHash,
    /// This entry's hash, over `prev_hash` and every field above.
    pub hash: AuditHash,
}

impl AuditEntry {
    /// Builds the entry that follows `prev` (or starts the chain), computing its hash.
    pub fn next(
        prev: Option<&AuditEntry>,
        vpd: VpdCode,
        at: DateTime<Utc>,
        actor: AuditActor,
        event: AuditEvent,
    ) -> Self {
        let head = prev.map_or(AuditHead::EMPTY, |p| AuditHead {
            seq: p.seq,
            hash: p.hash,
        });
        Self::after(head, vpd, at, actor, event)
    }

    /// Builds the entry that follows the trail whose newest entry is `head`
    /// ([`AuditHead::EMPTY`] to start the chain), computing its hash: as [`AuditEntry::next`],
    /// knowing only the link.
    pub fn after(
        head: AuditHead,
        vpd: VpdCode,
        at: DateTime<Utc>,
        actor: AuditActor,
        event: AuditEvent,
    ) -> Self {
        let (seq, prev_hash) = (head.seq + 1, head.hash);
        let mut e = Self {
            vpd,
            seq,
            at,
            actor,
            event,
            prev_hash,
            hash: AuditHash::GENESIS,
        };
        e.hash = e.compute_hash();
        e
    }

    /// The hash this entry's contents should have.
    pub fn compute_hash(&self) -> AuditHash {
        // The bytes hashed are gathered into one buffer and hashed in one call: feeding the
        // hasher field by field costs more in its block bookkeeping than the hashing itself.
        // Each text is its length (8 bytes, big-endian) then its UTF-8 bytes.
        struct Input(Vec<u8>);
        impl Input {
            fn raw(&mut self, b: &[u8]) {
                self.0.extend_from_slice(b);
            }
            fn put(&mut self, b: &[u8]) {
                self.raw(&(b.len() as u64).to_be_bytes());
                self.raw(b);
            }
            /// As `put` of the bytes `write` appends, with the length filled in after.
            fn put_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
                let at = self.0.len();
                self.raw(&[0; 8]);
                write(&mut self.0);
                let len = (self.0.len() - at - 8) as u64;
                self.0[at..at + 8].copy_from_slice(&len.to_be_bytes());
            }
            /// As `put` of the text `v.to_string()` would give, written in place.
            fn put_display(&mut self, v: &dyn fmt::Display) {
                use std::io::Write as _;
                // Writing to a `Vec` fails only if a `Display` implementation does, and none
                // of these does; `to_string()` would panic there, this hashes what was written.
                self.put_with(|out| {
                    let _ = write!(out, "{v}");
                });
            }
            fn put_username(&mut self, u: &Username) {
                self.put_with(|out| u.write_bytes(|b| out.extend_from_slice(b)));
            }
            /// As `put` of the lower-case hexadecimal text.
            fn put_hex(&mut self, bytes: &[u8]) {
                self.raw(&((bytes.len() * 2) as u64).to_be_bytes());
                let at = self.0.len();
                self.0.resize(at + bytes.len() * 2, 0);
                // The output is exactly twice the input's length: this cannot fail.
                let _ = hex::encode_to_slice(bytes, &mut self.0[at..]);
            }
        }
        let mut h = Input(Vec::with_capacity(512));
        h.put(b"esr-audit-v1");
        h.raw(&self.prev_hash.0);
        h.raw(&self.seq.to_be_bytes());
        h.put(self.vpd.as_str().as_bytes());
        h.raw(&self.at.timestamp().to_be_bytes());
        h.raw(&self.at.timestamp_subsec_nanos().to_be_bytes());
        match &self.actor {
            AuditActor::User { username, session } => {
                h.put(b"user");
                h.put_username(username);
                h.put_hex(session.as_bytes());
            }
            AuditActor::System(p) => {
                h.put(b"system");
                h.put(p.as_bytes());
            }
            AuditActor::Anonymous => h.put(b"anonymous"),
        }
        h.put(self.event.kind().as_bytes());
        h.raw(&(self.event.field_count() as u64).to_be_bytes());
        self.event.visit_fields(&mut |name, text| {
            h.put(name.as_bytes());
            match text {
                FieldText::Str(s) => h.put(s.as_bytes()),
                FieldText::Owned(s) => h.put(s.as_bytes()),
                FieldText::Display(v) => h.put_display(v),
                FieldText::User(u) => h.put_username(u),
                FieldText::Hex(b) => h.put_hex(b),
            }
        });
        AuditHash(Sha256::digest(&h.0).into())
    }
}

/// The newest entry of a verified trail: keep it somewhere the store cannot reach (a log
/// shipped off the machine, a signed receipt) and check later trails still contain it, which
/// detects truncation and wholesale rewriting too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AuditHead {
    /// The number of entries (the newest entry's `seq`); 0 for an empty trail.
    pub seq: u64,
    /// The newest entry's hash ([`AuditHash::GENESIS`] for an empty trail).
    pub hash: AuditHash,
}

impl AuditHead {
    /// The head of an empty trail.
    pub const EMPTY: AuditHead = AuditHead {
        seq: 0,
        hash: AuditHash::GENESIS,
    };
}

/// Checks a trail entry by entry, so that a long trail can be verified in pages.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    vpd: VpdCode,
    head: AuditHead,
}

impl ChainVerifier {
    /// A verifier for the trail of `vpd`, starting before its first entry.
    pub fn new(vpd: VpdCode) -> Self {
        Self {
            vpd,
            head: AuditHead::EMPTY,
        }
    }

    /// Checks the next entry: of this trust, next in sequence, linked to the one before, its
    /// hash matching its contents.
    pub fn feed(&mut self, e: &AuditEntry) -> Result<()> {
        let expected_seq = self.head.seq + 1;
        let broken = |reason| Error::AuditChainBroken {
            vpd: self.vpd,
            seq: expected_seq,
            reason,
        };
        if e.vpd != self.vpd {
            return Err(broken("the entry belongs to another trust"));
        }
        if e.seq != expected_seq {
            return Err(broken("an entry is missing or out of order"));
        }
        if e.prev_hash != self.head.hash {
            return Err(broken("it does not follow the entry before it"));
        }
        if e.compute_hash() != e.hash {
            return Err(broken("its contents were changed after it was written"));
        }
        self.head = AuditHead {
            seq: e.seq,
            hash: e.hash,
        };
        Ok(())
    }

    /// The newest entry checked so far.
    pub fn head(&self) -> AuditHead {
        self.head
    }
}

/// Checks a trust's whole trail at once (see [`ChainVerifier`]) and returns its head.
pub fn verify_chain(vpd: VpdCode, entries: &[AuditEntry]) -> Result<AuditHead> {
    let mut v = ChainVerifier::new(vpd);
    for e in entries {
        v.feed(e)?;
    }
    Ok(v.head())
}

#[cfg(test)]
mod tests;
