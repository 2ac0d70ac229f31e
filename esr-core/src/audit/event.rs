//! What the audit trail records: one [`AuditEvent`] per change or refusal worth keeping, with
//! the text each prints (never a secret).

use crate::passcode::{ChallengeId, Purpose};
use crate::urp::Urp;
use crate::values::username::Username;
use crate::values::{AssignmentNumber, EmployeeNumber, GrantId, OrgUnitId, SessionRef};
use crate::values::{ChangeId, NotificationId};
use chrono::{DateTime, Utc};
use std::fmt;

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
    /// Unmatched recovery requests of one flood window beyond
    /// [`Config::max_unmatched_recovery_audits`](crate::Config::max_unmatched_recovery_audits),
    /// counted instead of audited one by one (written when the next window's first request
    /// comes, by the process that counted them).
    RecoveryRequestsAggregated {
        /// When the window began.
        from: DateTime<Utc>,
        /// When it ended.
        to: DateTime<Utc>,
        /// How many unmatched requests it held beyond those audited one by one.
        unmatched: u64,
    },
    // ----- Outbox and retention ------------------------------------------------------------
    /// A text or e-mail was given up (the gateway refused it, or no sender is configured) and
    /// its challenge withdrawn.
    MessageUndelivered {
        /// The challenge (the message's idempotency key).
        challenge: ChallengeId,
        /// `"sms"` or `"email"`.
        channel: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The retention policy was applied: finished records were removed (counts only).
    RetentionApplied {
        /// Challenges removed.
        challenges: u64,
        /// Sessions removed.
        sessions: u64,
        /// Outbox messages removed.
        messages: u64,
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
    // The audit trail's own checkpoints and archives.
    /// The trail's head was signed and stored as a checkpoint.
    AuditCheckpointed {
        /// The `seq` of the entry it names (the newest before this one).
        seq: u64,
        /// That entry's hash.
        hash: super::hash::AuditHash,
        /// The id of the audit key that signed it.
        key: String,
    },
    /// The entries before a checkpoint were exported to an archive and removed from the store.
    AuditArchived {
        /// The checkpoint's `seq`: every entry before it was archived.
        before: u64,
        /// How many entries this archive holds.
        entries: u64,
        /// The hash of the newest archived entry (which the checkpoint's entry follows).
        last_hash: super::hash::AuditHash,
    },

    // ----- Notifications and approvals (wf-notify) -----
    /// A person acted on one of their notifications.
    NotificationActed {
        /// The notification.
        notification: NotificationId,
        /// Its kind's short name.
        kind: String,
        /// `approve`, `reject` or `acknowledge`.
        action: String,
        /// The reason given for a rejection (empty otherwise).
        reason: String,
    },
    /// Notifications were raised in one sweep (competences about to expire).
    NotificationsRaised {
        /// Their kind's short name.
        kind: String,
        /// How many.
        count: u64,
    },
    /// A change to a record was held for approval.
    ChangeHeld {
        /// The change.
        change: ChangeId,
        /// Whose record.
        subject: EmployeeNumber,
        /// What it changes (field names, never values).
        what: String,
        /// The URP that holds it for approval.
        route: String,
        /// Who must approve it.
        approver: EmployeeNumber,
    },
    /// A held change was decided: applied, rejected or expired.
    ChangeDecided {
        /// The change.
        change: ChangeId,
        /// Whose record.
        subject: EmployeeNumber,
        /// What it changes.
        what: String,
        /// `applied`, `rejected` or `expired`.
        decision: String,
        /// The reason given for a rejection (empty otherwise).
        reason: String,
    },
    // ----- Workflows: access requests, URP reviews, competence claims ---------------------
    /// A step of a workflow: an access request raised, authorised, rejected or granted, a
    /// prerequisite recorded, a URP review opened, a grant confirmed, a review completed, a
    /// competence claimed, approved or rejected.
    WorkflowStep {
        /// The workflow (`"access request"`, `"URP review"`, `"competence claim"`).
        workflow: String,
        /// The item's id.
        item: String,
        /// The step (`"raised"`, `"authorised"`, `"rejected"`…).
        step: String,
        /// Whom it concerns (a username or employee number).
        subject: String,
        /// What else the step recorded (the URP, the reason, the AS number's presence).
        detail: String,
    },
    // ----- Authenticator apps -----
    /// An authenticator app was enrolled (not yet confirmed). Never with its secret.
    AuthenticatorEnrolled {
        /// Whose.
        username: Username,
        /// Whether it replaced one enrolled before.
        replaced: bool,
    },
    /// An authenticator app was confirmed with its first code.
    AuthenticatorActivated {
        /// Whose.
        username: Username,
    },
    /// A code from an authenticator app was checked.
    AuthenticatorChecked {
        /// Whose.
        username: Username,
        /// What for (`activate`, `upgrade session`).
        purpose: String,
        /// The outcome (`upgraded`, `wrong code`, `replayed`, ...).
        outcome: String,
    },
    /// An administrator removed an authenticator app.
    AuthenticatorRemoved {
        /// Whose.
        username: Username,
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
            Self::RecoveryRequestsAggregated { .. } => "recovery_requests_aggregated",
            Self::MessageUndelivered { .. } => "message_undelivered",
            Self::RetentionApplied { .. } => "retention_applied",
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
            Self::AuditCheckpointed { .. } => "audit_checkpointed",
            Self::AuditArchived { .. } => "audit_archived",

            Self::NotificationActed { .. } => "notification_acted",
            Self::NotificationsRaised { .. } => "notifications_raised",
            Self::ChangeHeld { .. } => "change_held",
            Self::ChangeDecided { .. } => "change_decided",
            Self::WorkflowStep { .. } => "workflow_step",
            Self::AuthenticatorEnrolled { .. } => "authenticator_enrolled",
            Self::AuthenticatorActivated { .. } => "authenticator_activated",
            Self::AuthenticatorChecked { .. } => "authenticator_checked",
            Self::AuthenticatorRemoved { .. } => "authenticator_removed",
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
    pub(crate) fn field_count(&self) -> usize {
        let mut n = 0;
        self.visit_fields(&mut |_, _| n += 1);
        n
    }

    /// Calls `f` with each field's name and text, in the order of [`AuditEvent::fields`],
    /// without building the texts: what hashing an entry reads.
    pub(crate) fn visit_fields(&self, f: &mut dyn FnMut(&'static str, FieldText<'_>)) {
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
            Self::RecoveryRequestsAggregated {
                from,
                to,
                unmatched,
            } => {
                f("from", FieldText::Owned(from.to_rfc3339()));
                f("to", FieldText::Owned(to.to_rfc3339()));
                f("unmatched", FieldText::Display(unmatched));
            }
            Self::MessageUndelivered {
                challenge,
                channel,
                attempts,
            } => {
                f("challenge", FieldText::Hex(challenge.as_bytes()));
                f("channel", FieldText::Str(channel));
                f("attempts", FieldText::Display(attempts));
            }
            Self::RetentionApplied {
                challenges,
                sessions,
                messages,
            } => {
                f("challenges", FieldText::Display(challenges));
                f("sessions", FieldText::Display(sessions));
                f("messages", FieldText::Display(messages));
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
            Self::AuditCheckpointed { seq, hash, key } => {
                f("seq", FieldText::Display(seq));
                f("hash", FieldText::Hex(&hash.0));
                f("key", FieldText::Str(key));
            }
            Self::AuditArchived {
                before,
                entries,
                last_hash,
            } => {
                f("before", FieldText::Display(before));
                f("entries", FieldText::Display(entries));
                f("last_hash", FieldText::Hex(&last_hash.0));
            }
            Self::NotificationActed {
                notification,
                kind,
                action,
                reason,
            } => {
                f("notification", FieldText::Display(notification));
                f("kind", FieldText::Str(kind));
                f("action", FieldText::Str(action));
                f("reason", FieldText::Str(reason));
            }
            Self::NotificationsRaised { kind, count } => {
                f("kind", FieldText::Str(kind));
                f("count", FieldText::Display(count));
            }
            Self::ChangeHeld {
                change,
                subject,
                what,
                route,
                approver,
            } => {
                f("change", FieldText::Display(change));
                f("subject", FieldText::Display(subject));
                f("what", FieldText::Str(what));
                f("route", FieldText::Str(route));
                f("approver", FieldText::Display(approver));
            }
            Self::ChangeDecided {
                change,
                subject,
                what,
                decision,
                reason,
            } => {
                f("change", FieldText::Display(change));
                f("subject", FieldText::Display(subject));
                f("what", FieldText::Str(what));
                f("decision", FieldText::Str(decision));
                f("reason", FieldText::Str(reason));
            }
            Self::WorkflowStep {
                workflow,
                item,
                step,
                subject,
                detail,
            } => {
                f("workflow", FieldText::Str(workflow));
                f("item", FieldText::Str(item));
                f("step", FieldText::Str(step));
                f("subject", FieldText::Str(subject));
                f("detail", FieldText::Str(detail));
            }
            Self::AuthenticatorEnrolled { username, replaced } => {
                f("username", FieldText::User(username));
                f("replaced", FieldText::Display(replaced));
            }
            Self::AuthenticatorActivated { username } => {
                f("username", FieldText::User(username));
            }
            Self::AuthenticatorChecked {
                username,
                purpose,
                outcome,
            } => {
                f("username", FieldText::User(username));
                f("purpose", FieldText::Str(purpose));
                f("outcome", FieldText::Str(outcome));
            }
            Self::AuthenticatorRemoved { username, reason } => {
                f("username", FieldText::User(username));
                f("reason", FieldText::Str(reason));
            }
        }
    }
}

/// A field's text, borrowed where it can be.
pub(crate) enum FieldText<'a> {
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
