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
    /// The account has no password yet.
    #[error("account {0} has no password set; use 'Forgotten username/password' to set one")]
    NoPassword(Username),
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
    /// The sender refused the message; nothing was stored.
    #[error(
        "the message could not be handed to the gateway, so nothing was changed: {0}; try again"
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
        /// [`crate::MAX_IMPORT_PROBLEMS`] listed, the rest counted.
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

impl Error {
    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            what,
            reason: reason.into(),
        }
    }
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
