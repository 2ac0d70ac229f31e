//! The one error type of the core. Every message says what was wrong and what to do about it,
//! and none carries a password, code, token or full phone number.

use crate::access::{Denial, UpgradeBlocker};
use crate::compliance::ImportProblems;
use crate::compliance::{CompetenceName, RequirementTarget};
use crate::people::AccountState;
use crate::urp::Function;
use crate::urp::{ApprovalRefusal, Urp};
use crate::values::username::Username;
use crate::values::{AssignmentNumber, EmployeeNumber, OrgUnitId, SessionId, VpdCode};

/// Everything that can go wrong in the core. When an operation returns an error, stored state is
/// exactly as it was before the call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value given to the library is not valid.
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// What was being read (`"username"`, `"VPD code"`).
        what: &'static str,
        /// Why it was refused and what a valid one looks like.
        reason: String,
    },
    /// No trust has this VPD code.
    #[error("there is no trust with VPD code {0}; create it first or check the code")]
    UnknownTrust(VpdCode),
    /// A trust with this VPD code exists already.
    #[error("a trust with VPD code {0} exists already; VPD codes are unique")]
    TrustExists(VpdCode),
    /// The trust has no such organisation unit.
    #[error("trust {vpd} has no organisation unit {unit}; add it before using it")]
    UnknownOrgUnit {
        /// The trust.
        vpd: VpdCode,
        /// The unit asked for.
        unit: OrgUnitId,
    },
    /// The organisation unit exists already.
    #[error("trust {vpd} already has an organisation unit {unit}; choose another code")]
    OrgUnitExists {
        /// The trust.
        vpd: VpdCode,
        /// The unit.
        unit: OrgUnitId,
    },
    /// The Manager Dashboard takes at most three local BI portlets.
    #[error(
        "the Manager Dashboard takes at most {max} locally configured BI portlets; remove one before adding another"
    )]
    TooManyLocalPortlets {
        /// The limit (3).
        max: usize,
    },
    /// No such person in the trust.
    #[error("trust {vpd} has no person with employee number {employee}")]
    UnknownPerson {
        /// The trust.
        vpd: VpdCode,
        /// The employee number asked for.
        employee: EmployeeNumber,
    },
    /// The employee number is taken.
    #[error(
        "trust {vpd} already has a person with employee number {employee}; employee numbers are unique within a trust"
    )]
    DuplicateEmployeeNumber {
        /// The trust.
        vpd: VpdCode,
        /// The employee number.
        employee: EmployeeNumber,
    },
    /// Every sequence number for a username stem is taken.
    #[error(
        "every username {vpd}{stem}01 to {vpd}{stem}999 is taken; record the person's name in a distinct form (a middle name or a second surname)"
    )]
    UsernamesExhausted {
        /// The trust.
        vpd: VpdCode,
        /// The initial-and-surname stem.
        stem: String,
    },
    /// No account has this username.
    #[error("there is no account {0}; check the username")]
    UnknownAccount(Username),
    /// No such assignment in the trust.
    #[error("trust {vpd} has no assignment {assignment}")]
    UnknownAssignment {
        /// The trust.
        vpd: VpdCode,
        /// The assignment asked for.
        assignment: AssignmentNumber,
    },
    /// The assignment number is taken.
    #[error("trust {vpd} already has an assignment {assignment}; assignment numbers are unique")]
    DuplicateAssignment {
        /// The trust.
        vpd: VpdCode,
        /// The assignment.
        assignment: AssignmentNumber,
    },
    /// Setting this supervisor would make an assignment report to itself.
    #[error(
        "assignment {assignment} cannot report to {supervisor}: {supervisor} already reports, directly or through others, to {assignment}; choose a supervisor outside that line"
    )]
    SupervisorCycle {
        /// The assignment being changed.
        assignment: AssignmentNumber,
        /// The supervisor that would close the loop.
        supervisor: AssignmentNumber,
    },
    /// Something named belongs to another trust; nothing crosses trusts.
    #[error("{what} belongs to trust {found}, not {expected}; records never cross between trusts")]
    CrossTrust {
        /// What was named.
        what: String,
        /// The trust the operation is in.
        expected: VpdCode,
        /// The trust the thing belongs to.
        found: VpdCode,
    },
    /// Wrong username or password (the same message for both, so usernames cannot be probed).
    #[error(
        "the username or password is not right; check both, or use 'Forgotten username/password' to reset your password"
    )]
    InvalidCredentials,
    /// The account is locked after too many failed log-ins (said only after the right
    /// password).
    #[error(
        "account {0} is locked after too many failed log-ins; unlock it with 'Forgotten | Unlock Account' (a link is e-mailed to the address on your record) or ask a user administrator"
    )]
    AccountLocked(Username),
    /// The account is suspended.
    #[error("account {0} is suspended; contact your ESR user administrator")]
    AccountSuspended(Username),
    /// The account has ended (a leaver).
    #[error(
        "account {0} has ended and cannot be used again; a returning employee is given a new account"
    )]
    AccountEnded(Username),
    /// The requested change of account state is not allowed.
    #[error("an account cannot go from {from} to {to}: {hint}")]
    InvalidTransition {
        /// The state it is in.
        from: AccountState,
        /// The state asked for.
        to: AccountState,
        /// What is allowed instead.
        hint: &'static str,
    },
    /// The user has no ESS internet access.
    #[error(
        "{0} has no Employee Self Service internet access; log in on the NHS network with a smartcard, or ask a user administrator to approve internet access"
    )]
    NoInternetAccess(Username),
    /// The password does not meet the policy.
    #[error("the password is not acceptable: {0}")]
    WeakPassword(&'static str),
    /// No such session.
    #[error("there is no such session (reference {}); log in again", .0.audit_ref())]
    UnknownSession(SessionId),
    /// No open session of the user has this reference.
    #[error("there is no open session with reference {0} for this user; list them again")]
    UnknownSessionRef(crate::values::SessionRef),
    /// The session has ended.
    #[error("the session has ended (reference {}); log in again", .0.audit_ref())]
    SessionEnded(SessionId),
    /// The session may not use a function.
    #[error("{function} is not available in this session: {denial}")]
    NotPermitted {
        /// The function asked for.
        function: Function,
        /// Why not.
        denial: Denial,
    },
    /// The session cannot be upgraded.
    #[error("this session cannot be upgraded: {0}")]
    UpgradeNotAvailable(UpgradeBlocker),
    /// A step-up proof was offered to a session it was not issued for.
    #[error(
        "the verification was made for another session; upgrade each session with its own code"
    )]
    StepUpMismatch,
    /// The session has passed its lifetime.
    #[error("the session has expired (reference {}); log in again", .0.audit_ref())]
    SessionExpired(SessionId),
    /// The session went unused for its idle timeout.
    #[error(
        "the session timed out after {minutes} minutes without activity (reference {}); log in again",
        .session.audit_ref()
    )]
    SessionIdle {
        /// The session.
        session: SessionId,
        /// Its idle timeout, in minutes.
        minutes: i64,
    },
    /// The session is already upgraded.
    #[error("this session is already upgraded")]
    AlreadyUpgraded,
    /// The user already holds this URP.
    #[error("{username} already holds {urp}; revoke it first to change its scope")]
    AlreadyHeld {
        /// The holder.
        username: Username,
        /// The URP.
        urp: Urp,
    },
    /// The user does not hold this URP.
    #[error("{username} does not hold {urp}")]
    NotHeld {
        /// The user.
        username: Username,
        /// The URP.
        urp: Urp,
    },
    /// The change would leave fewer than two active user administrators.
    #[error(
        "this would leave {remaining} active holder(s) of Local HRMS Systems and User Administration; a trust needs at least two at all times, so grant it to someone else first"
    )]
    TooFewUserAdministrators {
        /// How many would remain.
        remaining: usize,
    },
    /// The grant lacks a proper verification of the need.
    #[error("the grant is refused: {0}")]
    ApprovalRefused(ApprovalRefusal),
    /// The actor may not see or change this person's record.
    #[error(
        "you may not {action} the record of employee {subject}; only the person, their line managers and administrators for their area may"
    )]
    RecordNotVisible {
        /// `"view"` or `"change"`.
        action: &'static str,
        /// The person.
        subject: EmployeeNumber,
    },
    /// The audit trail fails verification.
    #[error(
        "the audit trail of trust {vpd} fails verification at entry {seq}: {reason}; treat the trail as tampered with and restore it from a trusted copy"
    )]
    AuditChainBroken {
        /// The trust.
        vpd: VpdCode,
        /// The first entry that does not verify.
        seq: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The trust was bootstrapped already.
    #[error("trust {0} already has user administrators; further grants go through one of them")]
    AlreadyBootstrapped(VpdCode),
    /// The storage backend failed; the operation was not applied.
    #[error(
        "the store failed and nothing was changed: {0}; retry, and check the store if it persists"
    )]
    Storage(String),
    /// Another writer held the store's write lock for longer than the store waits (for SQLite,
    /// another process's transaction on the same file); nothing was changed. Retryable.
    #[error(
        "the store is busy: another writer held its lock for {waited_ms} ms, so nothing was changed; retry in {retry_after_seconds} second(s)"
    )]
    Busy {
        /// How long the store waited for the lock, in milliseconds.
        waited_ms: u64,
        /// Seconds to wait before retrying.
        retry_after_seconds: i64,
    },
    /// Step-up is locked for the account after too many consecutive wrong codes.
    #[error(
        "second-factor verification for {0} is locked after too many wrong codes; a user administrator must clear the lock (Reset accounts) before the account can upgrade again"
    )]
    StepUpLocked(Username),
    /// Too many codes or links were sent to this user or number within the window.
    #[error(
        "too many codes have been sent recently; wait {retry_after_seconds} seconds and ask again"
    )]
    TooManySends {
        /// Seconds until one more may be sent.
        retry_after_seconds: i64,
    },
    /// A code was sent too recently to send another.
    #[error("a code was sent moments ago; wait {retry_after_seconds} seconds before asking again")]
    ResendTooSoon {
        /// Seconds until one more may be sent.
        retry_after_seconds: i64,
    },
    /// No challenge with this id was issued in this session.
    #[error("there is no code {0} for this session; ask for a new code")]
    UnknownChallenge(crate::passcode::ChallengeId),
    /// The service has no sender for this kind of message.
    #[error(
        "no {0} sender is configured, so nothing was sent; give the service one with Esr::with_{0}_sender"
    )]
    NoSender(&'static str),
    /// The gateway refused the message after its challenge was stored: the code or link was
    /// withdrawn (it can never be used) and the send is not counted against the limits.
    #[error(
        "the message could not be handed to the gateway, so its code or link was withdrawn: \
         {0}; ask for a new one"
    )]
    Delivery(String),
    /// A challenge was made with a key that is no longer in the key ring.
    #[error(
        "the code was made with passcode key {0}, which is no longer in the key ring; keep a retired key for at least 4 hours, and ask for a new code"
    )]
    UnknownPasscodeKey(String),
    /// No passcode key is configured, so no code or link can be issued or verified.
    #[error(
        "no passcode key is configured, so no code or link can be issued or checked; give the service the trust's key from its secret store with Esr::with_passcode_keys (Esr::with_ephemeral_passcode_key is for tests and demos only: its codes die with the process)"
    )]
    NoPasscodeKey,
    /// Checkpointing or archiving the audit trail needs an audit key, and none is configured.
    #[error(
        "no audit key is configured, so the audit trail cannot be checkpointed or archived; give the service the trust's audit key from its secret store with Esr::with_audit_keys (Esr::with_ephemeral_audit_key is for tests and demos only)"
    )]
    NoAuditKey,
    /// An audit archive could not be written or read; nothing was removed from the store.
    #[error(
        "the audit archive could not be written or read ({0}); nothing was removed from the store: fix the file or stream and retry"
    )]
    AuditArchive(String),
    // ----- Authenticator apps -----
    /// No authenticator key is configured, so no authenticator can be enrolled or checked.
    #[error(
        "no authenticator key is configured, so no authenticator app can be set up or checked; give the service the trust's key from its secret store with Esr::with_authenticator_keys (Esr::with_ephemeral_authenticator_key is for tests and demos only)"
    )]
    NoAuthenticatorKey,
    /// A stored authenticator secret was sealed with a key that is no longer in the ring.
    #[error(
        "the authenticator app was set up under authenticator key {0}, which is no longer in the key ring; put the key back as a retired key, or set the app up again"
    )]
    UnknownAuthenticatorKey(String),
    /// The user has no authenticator app registered.
    #[error(
        "{0} has no authenticator app registered; set one up from 'Manage Internet Access' on the NHS network"
    )]
    NoAuthenticator(crate::values::username::Username),
    /// A recovery link was refused.
    #[error("the link cannot be used: {0}; ask for a new one")]
    RecoveryLinkRefused(crate::passcode::LinkProblem),
    /// The random number generator failed; nothing was changed.
    #[error("the random number generator failed and nothing was changed: {0}")]
    Randomness(String),

    // ----- Compliance ----------------------------------------------------------------------
    /// The competence is not in the trust's catalogue (or the trust retired it).
    #[error(
        "trust {vpd} has no active competence {competence}; define it in the trust's catalogue first, or check the name"
    )]
    UnknownCompetence {
        /// The trust.
        vpd: VpdCode,
        /// The competence asked for.
        competence: CompetenceName,
    },
    /// No such requirement.
    #[error("trust {vpd} has no requirement of {competence} for {target}; nothing to remove")]
    UnknownRequirement {
        /// The trust.
        vpd: VpdCode,
        /// What it would attach to.
        target: RequirementTarget,
        /// The competence.
        competence: CompetenceName,
    },
    /// No such equivalence.
    #[error("trust {vpd} has no equivalence of {held} satisfying {satisfies}; nothing to remove")]
    UnknownEquivalence {
        /// The trust.
        vpd: VpdCode,
        /// The competence held.
        held: CompetenceName,
        /// The competence it would satisfy.
        satisfies: CompetenceName,
    },
    /// The columns given to the bulk scorer do not fit together.
    #[error("the bulk compliance input is not usable: {reason}")]
    BulkInput {
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A competence import was refused; nothing was imported.
    #[error(
        "the competence import was refused and nothing was imported: {problems}; fix them, or import with skip_bad_rows to import the good rows only"
    )]
    ImportRejected {
        /// The bad rows, with their line numbers and reasons: the first
        /// [`crate::compliance::MAX_IMPORT_PROBLEMS`] listed, the rest counted.
        problems: ImportProblems,
    },
    // ----- Certifications and enrolment --------------------------------------------------
    /// The trust has no certification of this name.
    #[error(
        "trust {vpd} has no certification {name:?}; check the name against the trust's certifications"
    )]
    UnknownCertification {
        /// The trust.
        vpd: VpdCode,
        /// The name asked for.
        name: String,
    },
    /// The certification has no such component.
    #[error(
        "the certification {certification:?} has no component {course:?}; choose one of its courses or eAssessments"
    )]
    UnknownComponent {
        /// The certification.
        certification: String,
        /// The course asked for.
        course: String,
    },
    /// A learning transition is not allowed in the subscription's (or component's) state.
    #[error("you cannot {action} {certification:?} now: {state}; {hint}")]
    LearningRefused {
        /// What was asked.
        action: crate::learning::LearningAction,
        /// The certification.
        certification: String,
        /// The state it was in (`the subscription is certified until 30-Nov-2028`).
        state: String,
        /// What to do instead.
        hint: String,
    },

    // ----- Notifications and approvals (wf-notify) -----
    /// No notification has this id in the trust.
    #[error("there is no notification {0}; list your notifications again")]
    UnknownNotification(crate::values::NotificationId),
    /// The notification is someone else's.
    #[error("notification {0} is not yours; only the person it is for may see or act on it")]
    NotificationNotYours(crate::values::NotificationId),
    /// The session's channel shows only the count of this notification.
    #[error(
        "a {kind} notification cannot be opened on this session; open it on the NHS network,          or upgrade this internet session with a passcode if your trust opens {kind} notifications          to the internet"
    )]
    NotificationHidden {
        /// The notification.
        id: crate::values::NotificationId,
        /// Its kind.
        kind: crate::notify::NotificationType,
    },
    /// The notification is no longer open.
    #[error("notification {id} is {state} already; nothing more can be done with it")]
    NotificationSettled {
        /// The notification.
        id: crate::values::NotificationId,
        /// Its state.
        state: crate::notify::NotificationState,
    },
    /// The action is not one this notification offers.
    #[error(
        "a {kind} notification cannot be answered with {action};          approve or reject a decision, acknowledge news"
    )]
    ActionNotAllowed {
        /// The action asked for.
        action: &'static str,
        /// The notification's kind.
        kind: crate::notify::NotificationType,
    },
    /// No held change has this id in the trust.
    #[error("there is no held change {0}; check its id")]
    UnknownChange(crate::values::ChangeId),
    /// The held change was decided already (or expired).
    #[error("change {change} is {status} already; a change is decided only once")]
    ChangeSettled {
        /// The change.
        change: crate::values::ChangeId,
        /// Its status (`"applied"`, `"rejected"`, `"expired"`).
        status: &'static str,
    },
    /// A change needs an approver and there is none.
    #[error(
        "the change to {subject}'s record needs approval by {who}, and there is none;          set the supervisor first or ask a user administrator"
    )]
    NoApprover {
        /// Whose record.
        subject: EmployeeNumber,
        /// Who was looked for (`"their line manager"`, `"your line manager"`).
        who: &'static str,
    },
    /// The change needs approval and this call applies changes at once.
    #[error(
        "changes to {subject}'s record under your URP need their line manager's approval;          ask for it with request_change, which holds the change until it is approved"
    )]
    ApprovalRequired {
        /// Whose record.
        subject: EmployeeNumber,
    },
    // ----- Workflows: access requests, URP reviews, competence claims ---------------------
    /// No access request, URP review or competence claim has this id in the trust.
    #[error("there is no {what} {id} in this trust; list them again")]
    UnknownWorkflowItem {
        /// What was named (`"access request"`, `"URP review"`, `"competence claim"`).
        what: &'static str,
        /// The id given.
        id: String,
    },
    /// The access request, review or claim is not in a state that allows this step (already
    /// decided, expired, not yet authorised).
    #[error("the {what} {id} is {state}; {hint}")]
    WorkflowState {
        /// What it is (`"access request"`).
        what: &'static str,
        /// Its id.
        id: String,
        /// The state it is in (`"rejected by 20000001"`, `"expired on 2027-01-05"`).
        state: String,
        /// What to do instead.
        hint: String,
    },
    /// The actor is not the one who may take this step of a workflow (not the person's line
    /// manager, not the trust's Caldicott guardian, deciding their own request or claim).
    #[error("you may not {action} {what} {id}: {reason}")]
    NotTheDecider {
        /// The step (`"authorise"`).
        action: &'static str,
        /// What it is (`"access request"`).
        what: &'static str,
        /// Its id.
        id: String,
        /// Who may, and why not this actor.
        reason: String,
    },
    /// A URP's prerequisite has not been recorded on the access request, so it cannot be
    /// granted yet.
    #[error(
        "{urp} cannot be granted yet: its prerequisite '{prerequisite}' is not recorded on the access request; record it first (Esr::record_access_prerequisite)"
    )]
    PrerequisiteMissing {
        /// The URP requested.
        urp: Urp,
        /// The prerequisite, named.
        prerequisite: String,
    },
}

impl From<crate::values::ValueError> for Error {
    fn from(e: crate::values::ValueError) -> Self {
        use crate::values::ValueError as V;
        match e {
            V::Invalid { what, reason } => Self::InvalidInput { what, reason },
            V::UsernamesExhausted { vpd, stem } => Self::UsernamesExhausted { vpd, stem },
        }
    }
}

/// What kind of failure an [`Error`] is: the one classification every binding maps, so Swift's
/// `EsrError` cases and Python's exception classes carry the same names (Python adds its
/// `Error` suffix: [`ErrorKind::NotPermitted`] is `EsrError.NotPermitted` in Swift and
/// `esr.NotPermittedError` in Python).
///
/// New kinds may be added; a binding maps a kind it does not know to its `Internal` error,
/// saying the failure is unclassified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A value given to the library is not valid (a malformed username, a weak password, a
    /// state change that is not allowed).
    InvalidInput,
    /// The tables or file given to the bulk compliance scorer or the competence export reader
    /// are not usable.
    BulkInput,
    /// A competence import was refused because of bad rows; nothing was imported.
    ImportRejected,
    /// Something named does not exist: a trust, unit, person, account, assignment, competence,
    /// certification, course, or a URP the user does not hold.
    NotFound,
    /// The change conflicts with what is stored: a duplicate, a cycle, a URP already held, the
    /// rule of two user administrators, a session already upgraded.
    Conflict,
    /// A learning step is not allowed in the subscription's or component's state now.
    LearningRefused,
    /// A log-in was refused: wrong username or password, no internet access, a suspended or
    /// ended account.
    LogInRefused,
    /// The account is locked after too many failed log-ins.
    AccountLocked,
    /// The session is unknown, was logged out or has expired: log in again.
    SessionExpired,
    /// The session or actor may not do this: a function not granted or not open on this
    /// channel, a record not visible, a grant refused, a session that cannot be upgraded.
    NotPermitted,
    /// A one-time passcode or recovery link was refused: step-up locked, no such challenge, a
    /// retired key, a used or expired link.
    PasscodeRefused,
    /// A recovery link was refused; [`Error::link_problem`] says why (expired, used, superseded
    /// or not recognised), and the bindings carry that reason as a typed value.
    RecoveryLinkRefused,
    /// Too many codes were sent recently, or one was sent moments ago; see
    /// [`Error::retry_after`].
    RateLimited,
    /// A text or e-mail could not be handed to the gateway (its code or link was withdrawn), or
    /// none is configured.
    Delivery,
    /// The trust's audit trail fails verification: treat it as tampered with.
    AuditBroken,
    /// The store or the random number generator failed; nothing was changed. Retry.
    Storage,
    /// The store's write lock was held by another writer for longer than the store waits;
    /// nothing was changed. Retry after [`Error::retry_after`].
    Busy,
    /// Something inside the library went wrong that the caller cannot fix. No core error has
    /// this kind today; bindings use it for a kind they do not know.
    Internal,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [ErrorKind] = &[
        Self::InvalidInput,
        Self::BulkInput,
        Self::ImportRejected,
        Self::NotFound,
        Self::Conflict,
        Self::LearningRefused,
        Self::LogInRefused,
        Self::AccountLocked,
        Self::SessionExpired,
        Self::NotPermitted,
        Self::PasscodeRefused,
        Self::RecoveryLinkRefused,
        Self::RateLimited,
        Self::Delivery,
        Self::AuditBroken,
        Self::Storage,
        Self::Busy,
        Self::Internal,
    ];

    /// A stable snake_case name for logs and tests (`"not_permitted"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::BulkInput => "bulk_input",
            Self::ImportRejected => "import_rejected",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::LearningRefused => "learning_refused",
            Self::LogInRefused => "log_in_refused",
            Self::AccountLocked => "account_locked",
            Self::SessionExpired => "session_expired",
            Self::NotPermitted => "not_permitted",
            Self::PasscodeRefused => "passcode_refused",
            Self::RecoveryLinkRefused => "recovery_link_refused",
            Self::RateLimited => "rate_limited",
            Self::Delivery => "delivery",
            Self::AuditBroken => "audit_broken",
            Self::Storage => "storage",
            Self::Busy => "busy",
            Self::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// What kind of failure this is; the bindings map this, never the variants.
    ///
    /// Every variant is listed here without a catch-all, so a new variant does not compile
    /// until it is classified.
    pub const fn kind(&self) -> ErrorKind {
        use ErrorKind as K;
        match self {
            Self::InvalidInput { .. }
            | Self::WeakPassword(_)
            | Self::TooManyLocalPortlets { .. }
            | Self::InvalidTransition { .. }
            | Self::UsernamesExhausted { .. }
            | Self::ActionNotAllowed { .. } => K::InvalidInput,
            Self::BulkInput { .. } => K::BulkInput,
            Self::ImportRejected { .. } => K::ImportRejected,
            Self::UnknownTrust(_)
            | Self::UnknownOrgUnit { .. }
            | Self::UnknownPerson { .. }
            | Self::UnknownAccount(_)
            | Self::UnknownAssignment { .. }
            | Self::UnknownCompetence { .. }
            | Self::UnknownRequirement { .. }
            | Self::UnknownEquivalence { .. }
            | Self::UnknownCertification { .. }
            | Self::UnknownComponent { .. }
            | Self::NotHeld { .. }
            | Self::UnknownNotification(_)
            | Self::UnknownChange(_)
            | Self::UnknownWorkflowItem { .. } => K::NotFound,
            Self::TrustExists(_)
            | Self::OrgUnitExists { .. }
            | Self::DuplicateEmployeeNumber { .. }
            | Self::DuplicateAssignment { .. }
            | Self::SupervisorCycle { .. }
            | Self::AlreadyHeld { .. }
            | Self::AlreadyBootstrapped(_)
            | Self::AlreadyUpgraded
            | Self::TooFewUserAdministrators { .. }
            | Self::NotificationSettled { .. }
            | Self::ChangeSettled { .. }
            | Self::NoApprover { .. }
            | Self::WorkflowState { .. }
            | Self::PrerequisiteMissing { .. } => K::Conflict,
            Self::LearningRefused { .. } => K::LearningRefused,
            Self::InvalidCredentials
            | Self::AccountSuspended(_)
            | Self::AccountEnded(_)
            | Self::NoInternetAccess(_) => K::LogInRefused,
            Self::AccountLocked(_) => K::AccountLocked,
            Self::UnknownSession(_)
            | Self::SessionEnded(_)
            | Self::SessionExpired(_)
            | Self::SessionIdle { .. }
            | Self::UnknownSessionRef(_) => K::SessionExpired,
            Self::NotPermitted { .. }
            | Self::RecordNotVisible { .. }
            | Self::CrossTrust { .. }
            | Self::ApprovalRefused(_)
            | Self::UpgradeNotAvailable(_)
            | Self::StepUpMismatch
            | Self::NotificationNotYours(_)
            | Self::NotificationHidden { .. }
            | Self::ApprovalRequired { .. }
            | Self::NotTheDecider { .. } => K::NotPermitted,
            Self::StepUpLocked(_)
            | Self::UnknownChallenge(_)
            | Self::UnknownPasscodeKey(_)
            | Self::NoPasscodeKey
            | Self::NoAuthenticatorKey
            | Self::UnknownAuthenticatorKey(_) => K::PasscodeRefused,
            Self::NoAuthenticator(_) => K::NotFound,
            Self::RecoveryLinkRefused(_) => K::RecoveryLinkRefused,
            Self::TooManySends { .. } | Self::ResendTooSoon { .. } => K::RateLimited,
            Self::NoSender(_) | Self::Delivery(_) => K::Delivery,
            Self::AuditChainBroken { .. } => K::AuditBroken,
            Self::NoAuditKey => K::InvalidInput,
            Self::AuditArchive(_) => K::Storage,
            Self::Storage(_) | Self::Randomness(_) => K::Storage,
            Self::Busy { .. } => K::Busy,
        }
    }

    /// A stable snake_case code naming the variant (`"unknown_trust"`), for logs and tests.
    /// Codes are unique; a code never changes meaning once published.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput { .. } => "invalid_input",
            Self::UnknownTrust(_) => "unknown_trust",
            Self::TrustExists(_) => "trust_exists",
            Self::UnknownOrgUnit { .. } => "unknown_org_unit",
            Self::OrgUnitExists { .. } => "org_unit_exists",
            Self::TooManyLocalPortlets { .. } => "too_many_local_portlets",
            Self::UnknownPerson { .. } => "unknown_person",
            Self::DuplicateEmployeeNumber { .. } => "duplicate_employee_number",
            Self::UsernamesExhausted { .. } => "usernames_exhausted",
            Self::UnknownAccount(_) => "unknown_account",
            Self::UnknownAssignment { .. } => "unknown_assignment",
            Self::DuplicateAssignment { .. } => "duplicate_assignment",
            Self::SupervisorCycle { .. } => "supervisor_cycle",
            Self::CrossTrust { .. } => "cross_trust",
            Self::InvalidCredentials => "invalid_credentials",
            Self::AccountLocked(_) => "account_locked",
            Self::AccountSuspended(_) => "account_suspended",
            Self::AccountEnded(_) => "account_ended",
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::NoInternetAccess(_) => "no_internet_access",
            Self::WeakPassword(_) => "weak_password",
            Self::UnknownSession(_) => "unknown_session",
            Self::SessionEnded(_) => "session_ended",
            Self::NotPermitted { .. } => "not_permitted",
            Self::UpgradeNotAvailable(_) => "upgrade_not_available",
            Self::StepUpMismatch => "step_up_mismatch",
            Self::SessionExpired(_) => "session_expired",
            Self::AlreadyUpgraded => "already_upgraded",
            Self::AlreadyHeld { .. } => "already_held",
            Self::NotHeld { .. } => "not_held",
            Self::TooFewUserAdministrators { .. } => "too_few_user_administrators",
            Self::ApprovalRefused(_) => "approval_refused",
            Self::RecordNotVisible { .. } => "record_not_visible",
            Self::AuditChainBroken { .. } => "audit_chain_broken",
            Self::AlreadyBootstrapped(_) => "already_bootstrapped",
            Self::Storage(_) => "storage",
            Self::Busy { .. } => "busy",
            Self::StepUpLocked(_) => "step_up_locked",
            Self::TooManySends { .. } => "too_many_sends",
            Self::ResendTooSoon { .. } => "resend_too_soon",
            Self::UnknownChallenge(_) => "unknown_challenge",
            Self::NoSender(_) => "no_sender",
            Self::Delivery(_) => "delivery",
            Self::UnknownPasscodeKey(_) => "unknown_passcode_key",
            Self::RecoveryLinkRefused(_) => "recovery_link_refused",
            Self::SessionIdle { .. } => "session_idle",
            Self::UnknownSessionRef(_) => "unknown_session_ref",
            Self::NoPasscodeKey => "no_passcode_key",
            Self::NoAuditKey => "no_audit_key",
            Self::AuditArchive(_) => "audit_archive",
            Self::NoAuthenticatorKey => "no_authenticator_key",
            Self::UnknownAuthenticatorKey(_) => "unknown_authenticator_key",
            Self::NoAuthenticator(_) => "no_authenticator",
            Self::Randomness(_) => "randomness",
            Self::UnknownCompetence { .. } => "unknown_competence",
            Self::UnknownRequirement { .. } => "unknown_requirement",
            Self::UnknownEquivalence { .. } => "unknown_equivalence",
            Self::BulkInput { .. } => "bulk_input",
            Self::ImportRejected { .. } => "import_rejected",
            Self::UnknownCertification { .. } => "unknown_certification",
            Self::UnknownComponent { .. } => "unknown_component",
            Self::LearningRefused { .. } => "learning_refused",
            Self::UnknownNotification(_) => "unknown_notification",
            Self::NotificationNotYours(_) => "notification_not_yours",
            Self::NotificationHidden { .. } => "notification_hidden",
            Self::NotificationSettled { .. } => "notification_settled",
            Self::ActionNotAllowed { .. } => "action_not_allowed",
            Self::UnknownChange(_) => "unknown_change",
            Self::ChangeSettled { .. } => "change_settled",
            Self::NoApprover { .. } => "no_approver",
            Self::ApprovalRequired { .. } => "approval_required",
            Self::UnknownWorkflowItem { .. } => "unknown_workflow_item",
            Self::WorkflowState { .. } => "workflow_state",
            Self::NotTheDecider { .. } => "not_the_decider",
            Self::PrerequisiteMissing { .. } => "prerequisite_missing",
        }
    }

    /// How long to wait before asking again, for the rate-limit errors ([`ErrorKind::RateLimited`])
    /// and a busy store ([`ErrorKind::Busy`]); `None` for every other error.
    pub fn retry_after(&self) -> Option<chrono::TimeDelta> {
        match self {
            Self::TooManySends {
                retry_after_seconds,
            }
            | Self::ResendTooSoon {
                retry_after_seconds,
            }
            | Self::Busy {
                retry_after_seconds,
                ..
            } => Some(chrono::TimeDelta::seconds(*retry_after_seconds)),
            _ => None,
        }
    }

    /// Why a recovery link was refused, for [`ErrorKind::RecoveryLinkRefused`]; `None` for
    /// every other error.
    pub fn link_problem(&self) -> Option<crate::passcode::LinkProblem> {
        match self {
            Self::RecoveryLinkRefused(p) => Some(*p),
            _ => None,
        }
    }

    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            what,
            reason: reason.into(),
        }
    }
}

/// The one of `all` whose name is `wanted`, ignoring ASCII case and surrounding space, or an
/// [`Error::InvalidInput`] about `what` that lists the valid names: the `FromStr` of the
/// domain's named enums ([`crate::urp::Function`], [`crate::org::NationalPortlet`],
/// [`crate::access::Channel`]).
pub(crate) fn by_name<T: Copy>(
    what: &'static str,
    all: &[T],
    name: impl Fn(T) -> &'static str,
    wanted: &str,
) -> Result<T> {
    let wanted = wanted.trim();
    all.iter()
        .copied()
        .find(|t| name(*t).eq_ignore_ascii_case(wanted))
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|t| name(*t)).collect();
            Error::invalid(
                what,
                format!(
                    "{} is not one; the valid names are: {}",
                    crate::values::limits::shown(wanted),
                    names.join(", ")
                ),
            )
        })
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Denial, UpgradeBlocker};
    use crate::compliance::{ImportProblems, RequirementTarget};
    use crate::learning::LearningAction;
    use crate::passcode::{ChallengeId, LinkProblem};
    use crate::people::AccountState;
    use crate::urp::{ApprovalRefusal, Function, Urp};
    use crate::values::SessionId;
    use std::collections::{HashMap, HashSet};

    fn p<T: std::str::FromStr>(s: &str) -> T
    where
        T::Err: std::fmt::Debug,
    {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    /// One of each variant. `code()` and `kind()` match without a catch-all, so a new variant
    /// must be classified there; add it here too so its code is checked for uniqueness.
    fn one_of_each() -> Vec<Error> {
        let vpd: VpdCode = p("297");
        let user: Username = p("297ECONROY01");
        let employee: EmployeeNumber = p("20000001");
        let assignment: AssignmentNumber = p("20000001");
        let unit: OrgUnitId = p("WARD1");
        let session = SessionId::from_bytes([7; 16]);
        let competence: CompetenceName = p("NHS|CSTF|Fire Safety - 1 Year|");
        vec![
            Error::invalid("username", "too long"),
            Error::UnknownTrust(vpd),
            Error::TrustExists(vpd),
            Error::UnknownOrgUnit {
                vpd,
                unit: unit.clone(),
            },
            Error::OrgUnitExists { vpd, unit },
            Error::TooManyLocalPortlets { max: 3 },
            Error::UnknownPerson {
                vpd,
                employee: employee.clone(),
            },
            Error::DuplicateEmployeeNumber {
                vpd,
                employee: employee.clone(),
            },
            Error::UsernamesExhausted {
                vpd,
                stem: "ECONROY".into(),
            },
            Error::UnknownAccount(user.clone()),
            Error::UnknownAssignment {
                vpd,
                assignment: assignment.clone(),
            },
            Error::DuplicateAssignment {
                vpd,
                assignment: assignment.clone(),
            },
            Error::SupervisorCycle {
                assignment: assignment.clone(),
                supervisor: assignment,
            },
            Error::CrossTrust {
                what: "the unit".into(),
                expected: vpd,
                found: p("298"),
            },
            Error::InvalidCredentials,
            Error::AccountLocked(user.clone()),
            Error::AccountSuspended(user.clone()),
            Error::AccountEnded(user.clone()),
            Error::InvalidTransition {
                from: AccountState::Ended,
                to: AccountState::Active,
                hint: "give a new account",
            },
            Error::NoInternetAccess(user.clone()),
            Error::WeakPassword("too short"),
            Error::UnknownSession(session),
            Error::SessionEnded(session),
            Error::NotPermitted {
                function: Function::ALL[0],
                denial: Denial::NotGranted,
            },
            Error::UpgradeNotAvailable(UpgradeBlocker::NothingToUpgrade),
            Error::StepUpMismatch,
            Error::SessionExpired(session),
            Error::AlreadyUpgraded,
            Error::AlreadyHeld {
                username: user.clone(),
                urp: Urp::EmployeeSelfService,
            },
            Error::NotHeld {
                username: user.clone(),
                urp: Urp::EmployeeSelfService,
            },
            Error::TooFewUserAdministrators { remaining: 1 },
            Error::ApprovalRefused(ApprovalRefusal::SelfGrant),
            Error::RecordNotVisible {
                action: "view",
                subject: employee,
            },
            Error::AuditChainBroken {
                vpd,
                seq: 4,
                reason: "the hash does not match",
            },
            Error::AlreadyBootstrapped(vpd),
            Error::Storage("disk full".into()),
            Error::Busy {
                waited_ms: 5000,
                retry_after_seconds: 1,
            },
            Error::StepUpLocked(user.clone()),
            Error::TooManySends {
                retry_after_seconds: 600,
            },
            Error::ResendTooSoon {
                retry_after_seconds: 42,
            },
            Error::UnknownChallenge(ChallengeId::from_bytes([1; 16])),
            Error::NoSender("SMS"),
            Error::Delivery("gateway down".into()),
            Error::UnknownPasscodeKey("k1".into()),
            Error::NoAuditKey,
            Error::AuditArchive("disk full".into()),
            Error::NoAuthenticatorKey,
            Error::UnknownAuthenticatorKey("k1".into()),
            Error::NoAuthenticator(user.clone()),
            Error::RecoveryLinkRefused(LinkProblem::Expired),
            Error::Randomness("no entropy".into()),
            Error::UnknownCompetence {
                vpd,
                competence: competence.clone(),
            },
            Error::UnknownRequirement {
                vpd,
                target: RequirementTarget::Job("Staff Nurse".into()),
                competence: competence.clone(),
            },
            Error::UnknownEquivalence {
                vpd,
                held: competence.clone(),
                satisfies: competence,
            },
            Error::BulkInput {
                reason: "no column".into(),
            },
            Error::ImportRejected {
                problems: ImportProblems::new(),
            },
            Error::UnknownCertification {
                vpd,
                name: "Fire".into(),
            },
            Error::UnknownComponent {
                certification: "Fire".into(),
                course: "Intro".into(),
            },
            Error::LearningRefused {
                action: LearningAction::Subscribe,
                certification: "Fire".into(),
                state: "subscribed already".into(),
                hint: "carry on".into(),
            },
            // Notifications and approvals
            Error::UnknownNotification(crate::values::NotificationId::from_bytes([1; 16])),
            Error::NotificationNotYours(crate::values::NotificationId::from_bytes([1; 16])),
            Error::NotificationHidden {
                id: crate::values::NotificationId::from_bytes([1; 16]),
                kind: crate::notify::NotificationType::UrpGranted,
            },
            Error::NotificationSettled {
                id: crate::values::NotificationId::from_bytes([1; 16]),
                state: crate::notify::NotificationState::Closed,
            },
            Error::ActionNotAllowed {
                action: "approve",
                kind: crate::notify::NotificationType::UrpGranted,
            },
            Error::UnknownChange(crate::values::ChangeId::from_bytes([1; 16])),
            Error::ChangeSettled {
                change: crate::values::ChangeId::from_bytes([1; 16]),
                status: "applied",
            },
            Error::NoApprover {
                subject: p("12345678"),
                who: "their line manager",
            },
            Error::ApprovalRequired {
                subject: p("12345678"),
            },
            // Workflows
            Error::UnknownWorkflowItem {
                what: "access request",
                id: "00".into(),
            },
            Error::WorkflowState {
                what: "access request",
                id: "00".into(),
                state: "rejected".into(),
                hint: "raise a new one".into(),
            },
            Error::NotTheDecider {
                action: "authorise",
                what: "access request",
                id: "00".into(),
                reason: "only the line manager may".into(),
            },
            Error::PrerequisiteMissing {
                urp: Urp::ManagerSelfServicePayrollApprovalsRequired,
                prerequisite: "AS number".into(),
            },
        ]
    }

    #[test]
    fn every_variant_has_a_kind_and_a_unique_snake_case_code() {
        let all = one_of_each();
        assert_eq!(all.len(), 72, "one of each of the 72 variants");
        let mut codes = HashMap::new();
        for e in &all {
            let code = e.code();
            assert!(
                !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code} is not snake_case"
            );
            if let Some(other) = codes.insert(code, e) {
                panic!("{code} is the code of both {other:?} and {e:?}");
            }
            assert!(ErrorKind::ALL.contains(&e.kind()), "{e:?}");
        }
    }

    #[test]
    fn the_kinds_that_errors_have_are_all_but_internal() {
        let used: HashSet<ErrorKind> = one_of_each().iter().map(Error::kind).collect();
        for k in ErrorKind::ALL {
            assert_eq!(used.contains(k), *k != ErrorKind::Internal, "{k}");
        }
    }

    #[test]
    fn all_lists_every_kind_once_with_a_unique_name() {
        // No catch-all: a new kind does not compile until it has a place here, and the
        // assertions fail until it is in ALL.
        fn index(k: ErrorKind) -> usize {
            match k {
                ErrorKind::InvalidInput => 0,
                ErrorKind::BulkInput => 1,
                ErrorKind::ImportRejected => 2,
                ErrorKind::NotFound => 3,
                ErrorKind::Conflict => 4,
                ErrorKind::LearningRefused => 5,
                ErrorKind::LogInRefused => 6,
                ErrorKind::AccountLocked => 7,
                ErrorKind::SessionExpired => 8,
                ErrorKind::NotPermitted => 9,
                ErrorKind::PasscodeRefused => 10,
                ErrorKind::RecoveryLinkRefused => 11,
                ErrorKind::RateLimited => 12,
                ErrorKind::Delivery => 13,
                ErrorKind::AuditBroken => 14,
                ErrorKind::Storage => 15,
                ErrorKind::Busy => 16,
                ErrorKind::Internal => 17,
            }
        }
        let indexes: Vec<usize> = ErrorKind::ALL.iter().map(|k| index(*k)).collect();
        assert_eq!(indexes, (0..18).collect::<Vec<_>>());
        let names: HashSet<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), ErrorKind::ALL.len());
        assert_eq!(ErrorKind::NotPermitted.to_string(), "not_permitted");
    }

    #[test]
    fn names_are_found_whatever_their_case_and_a_wrong_one_lists_the_valid_ones() {
        use crate::access::Channel;
        use crate::org::NationalPortlet;
        for f in Function::ALL {
            assert_eq!(f.name().to_uppercase().parse::<Function>(), Ok(f));
            assert_eq!(format!(" {} ", f.name().to_lowercase()).parse(), Ok(f));
        }
        for p in NationalPortlet::ALL {
            assert_eq!(p.name().to_lowercase().parse::<NationalPortlet>(), Ok(p));
        }
        assert_eq!("hscn".parse::<Channel>(), Ok(Channel::Hscn));
        assert_eq!("Internet".parse::<Channel>(), Ok(Channel::Internet));
        let e = "Team Complience".parse::<Function>().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let text = e.to_string();
        assert!(
            text.starts_with("invalid function: \"Team Complience\" is not one"),
            "{text}"
        );
        assert!(
            Function::ALL.iter().all(|f| text.contains(f.name())),
            "{text}"
        );
        let text = "Team".parse::<NationalPortlet>().unwrap_err().to_string();
        assert!(text.contains("Team Absence, Team Appraisals"), "{text}");
        let text = "wifi".parse::<Channel>().unwrap_err().to_string();
        assert!(
            text.ends_with("the valid names are: HSCN, internet"),
            "{text}"
        );
    }

    #[test]
    fn only_the_rate_limits_and_a_busy_store_say_when_to_retry() {
        for e in one_of_each() {
            let expected = match &e {
                Error::TooManySends { .. } => Some(chrono::TimeDelta::seconds(600)),
                Error::ResendTooSoon { .. } => Some(chrono::TimeDelta::seconds(42)),
                Error::Busy { .. } => Some(chrono::TimeDelta::seconds(1)),
                _ => None,
            };
            assert_eq!(e.retry_after(), expected, "{e:?}");
            assert_eq!(
                e.retry_after().is_some(),
                matches!(e.kind(), ErrorKind::RateLimited | ErrorKind::Busy)
            );
        }
    }
}
