//! Records and enums mirroring the core's types. None carries a secret: no passcode, token,
//! password, session identifier or full phone number (records print every field in the
//! generated bindings, so they only hold what may be shown).
//!
//! Instants are `SystemTime` (Swift `Date`, Python `datetime`); calendar dates, which in ESR
//! are United Kingdom days with no time of day, are [`CalendarDate`] records.

use crate::catalogue::{Function, Urp};
use crate::error::EsrError;
use esr_core::chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use std::time::{SystemTime, UNIX_EPOCH};

// ----- time ---------------------------------------------------------------------------------

/// A calendar day in the United Kingdom (a date of birth, an expiry, "as of"): year, month
/// (1–12) and day (1–31). In Swift, build one from `DateComponents`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, uniffi::Record)]
pub struct CalendarDate {
    /// The year (2026).
    pub year: i32,
    /// The month, 1 for January.
    pub month: u8,
    /// The day of the month, from 1.
    pub day: u8,
}

impl CalendarDate {
    /// The core's date, or an error saying why this is not a date.
    pub(crate) fn to_core(self) -> Result<NaiveDate, EsrError> {
        NaiveDate::from_ymd_opt(self.year, u32::from(self.month), u32::from(self.day))
            .ok_or_else(|| {
                EsrError::invalid(format!(
                    "invalid date: {:04}-{:02}-{:02} is not a day of the calendar; give a year, a month from 1 to 12 and a day that exists in that month",
                    self.year, self.month, self.day
                ))
            })
    }
}

impl From<NaiveDate> for CalendarDate {
    fn from(d: NaiveDate) -> Self {
        Self {
            year: d.year(),
            // chrono's month is 1..=12 and day 1..=31: both fit a u8.
            month: u8::try_from(d.month()).unwrap_or(u8::MAX),
            day: u8::try_from(d.day()).unwrap_or(u8::MAX),
        }
    }
}

/// An optional date as the core's.
pub(crate) fn date_opt(d: Option<CalendarDate>) -> Result<Option<NaiveDate>, EsrError> {
    d.map(CalendarDate::to_core).transpose()
}

/// A core instant as a `SystemTime`.
pub(crate) fn to_system(t: DateTime<Utc>) -> SystemTime {
    SystemTime::from(t)
}

/// A `SystemTime` as a core instant, refusing instants chrono cannot represent.
pub(crate) fn from_system(t: SystemTime) -> Result<DateTime<Utc>, EsrError> {
    let out_of_range = || {
        EsrError::invalid(
            "invalid instant: it is outside the years the library handles (about 262,000 years either side of 1970)",
        )
    };
    let (secs, nanos) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).map_err(|_| out_of_range())?,
            d.subsec_nanos(),
        ),
        Err(before) => {
            let d = before.duration();
            let secs = i64::try_from(d.as_secs()).map_err(|_| out_of_range())?;
            if d.subsec_nanos() == 0 {
                (-secs, 0)
            } else {
                (-secs - 1, 1_000_000_000 - d.subsec_nanos())
            }
        }
    };
    DateTime::from_timestamp(secs, nanos).ok_or_else(out_of_range)
}

/// Whole seconds in a non-negative span (zero for a negative one).
pub(crate) fn whole_seconds(d: TimeDelta) -> u64 {
    u64::try_from(d.num_seconds()).unwrap_or(0)
}

// ----- sessions -----------------------------------------------------------------------------

/// How the user reached ESR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Channel {
    /// The NHS network (HSCN), authenticated with a smartcard.
    Hscn,
    /// The internet, authenticated with username and password.
    Internet,
}

impl From<esr_core::access::Channel> for Channel {
    fn from(c: esr_core::access::Channel) -> Self {
        match c {
            esr_core::access::Channel::Hscn => Self::Hscn,
            esr_core::access::Channel::Internet => Self::Internet,
        }
    }
}

/// What a live session may reach, by how it was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum AccessLevel {
    /// On HSCN with a smartcard: everything the user's URPs grant.
    Smartcard,
    /// Over the internet with a password only: Employee Self Service functions.
    Standard,
    /// Over the internet, upgraded with a texted code: also the Manager or Professional
    /// functions the trust's Upgrade Access opens.
    Upgraded,
}

impl From<esr_core::access::AccessLevel> for AccessLevel {
    fn from(l: esr_core::access::AccessLevel) -> Self {
        match l {
            esr_core::access::AccessLevel::Smartcard => Self::Smartcard,
            esr_core::access::AccessLevel::Standard => Self::Standard,
            esr_core::access::AccessLevel::Upgraded => Self::Upgraded,
        }
    }
}

/// One of a user's live sessions, as a "your sessions" screen lists it: never its bearer id,
/// only its one-way reference, which `end_session` takes.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SessionSummary {
    /// The one-way reference (as in the audit trail; not a secret).
    pub reference: String,
    /// How the user reached ESR.
    pub channel: Channel,
    /// When the user logged in.
    pub started_at: SystemTime,
    /// When it was last used (to the minute).
    pub last_active_at: SystemTime,
    /// When it stops working if it is not used again.
    pub idle_expires_at: SystemTime,
    /// When it stops working in any case.
    pub expires_at: SystemTime,
    /// Whether it is upgraded with a second factor.
    pub upgraded: bool,
    /// Whether it is the session that asked.
    pub current: bool,
}

impl From<esr_core::access::SessionSummary> for SessionSummary {
    fn from(s: esr_core::access::SessionSummary) -> Self {
        Self {
            reference: s.reference.to_string(),
            channel: s.channel.into(),
            started_at: to_system(s.started_at),
            last_active_at: to_system(s.last_active_at),
            idle_expires_at: to_system(s.idle_expires_at),
            expires_at: to_system(s.expires_at),
            upgraded: s.upgraded,
            current: s.current,
        }
    }
}

/// A live session as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SessionInfo {
    /// The user's username.
    pub username: String,
    /// The trust's VPD code.
    pub vpd: String,
    /// How the user reached ESR.
    pub channel: Channel,
    /// What the session may reach.
    pub access_level: AccessLevel,
    /// When the user logged in.
    pub started_at: SystemTime,
    /// When the session stops working.
    pub expires_at: SystemTime,
    /// When it was upgraded, if it was.
    pub upgraded_at: Option<SystemTime>,
    /// Whole seconds until it expires, by the service's clock.
    pub seconds_left: u64,
    /// The one-way reference the audit trail uses for this session (not a secret).
    pub audit_ref: String,
}

impl SessionInfo {
    pub(crate) fn of(s: &esr_core::access::Session, now: DateTime<Utc>) -> Self {
        let channel = Channel::from(s.channel);
        Self {
            username: s.username.to_string(),
            vpd: s.vpd.to_string(),
            channel,
            access_level: s.access_level().into(),
            started_at: to_system(s.started_at),
            expires_at: to_system(s.expires_at),
            upgraded_at: s.upgrade.as_ref().map(|u| to_system(u.at)),
            seconds_left: whole_seconds(s.expires_at - now),
            audit_ref: s.id.audit_ref().to_string(),
        }
    }
}

/// Whether a session may use a function, and if not why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccessDecision {
    /// The function asked about.
    pub function: Function,
    /// Whether the session may use it now.
    pub allowed: bool,
    /// Why not, when it may not.
    pub reason: Option<String>,
}

// ----- setup --------------------------------------------------------------------------------

/// A trust's access settings when it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Record)]
pub struct TrustOptions {
    /// Automatic Internet Access: every employee may use ESS over the internet.
    pub automatic_internet_access: bool,
    /// Upgrade Access: Manager functions over the internet after a second factor.
    pub upgrade_manager: bool,
    /// Upgrade Access: Professional functions over the internet after a second factor.
    pub upgrade_professional: bool,
}

/// A person to add, with their account.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewPerson {
    /// The employee number, unique in the trust.
    pub employee_number: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Date of birth (account recovery asks for it).
    pub date_of_birth: CalendarDate,
    /// The recruitment e-mail address recovery e-mails go to.
    pub recruitment_email: String,
}

/// A person as the app shows them. The mobile number only ever appears masked.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PersonInfo {
    /// The trust's VPD code.
    pub vpd: String,
    /// The employee number.
    pub employee_number: String,
    /// The username ESR made for the person (`297ECONROY01`).
    pub username: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// The registered mobile number, masked (`xxxxxxx374`), if one is registered.
    pub masked_mobile: Option<String>,
}

impl From<esr_core::people::Person> for PersonInfo {
    fn from(p: esr_core::people::Person) -> Self {
        Self {
            vpd: p.vpd.to_string(),
            employee_number: p.employee_number.to_string(),
            username: p.username.to_string(),
            given_name: p.name.given,
            family_name: p.name.family,
            masked_mobile: p.mobile.as_ref().map(esr_core::MobileNumber::masked),
        }
    }
}

/// An assignment to add.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewAssignment {
    /// The assignment number, unique in the trust.
    pub number: String,
    /// The person's employee number.
    pub employee_number: String,
    /// The job title.
    pub title: String,
    /// The position (`297|Staff Nurse|Ward 5|`).
    pub position: String,
    /// The organisation unit.
    pub org_unit: String,
    /// The supervisor's assignment number, if any.
    pub supervisor: Option<String>,
}

/// An assignment.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AssignmentInfo {
    /// The assignment number.
    pub number: String,
    /// The person's employee number.
    pub employee_number: String,
    /// The job title.
    pub title: String,
    /// The position.
    pub position: String,
    /// The organisation unit.
    pub org_unit: String,
    /// The supervisor's assignment number, if any.
    pub supervisor: Option<String>,
}

impl From<esr_core::people::Assignment> for AssignmentInfo {
    fn from(a: esr_core::people::Assignment) -> Self {
        Self {
            number: a.number.to_string(),
            employee_number: a.employee_number.to_string(),
            title: a.title,
            position: a.position.to_string(),
            org_unit: a.org_unit.to_string(),
            supervisor: a.supervisor.map(|s| s.to_string()),
        }
    }
}

/// A URP to grant.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UrpGrantRequest {
    /// Who receives it (a username).
    pub holder: String,
    /// The URP (`.supervisorSelfService`).
    pub urp: Urp,
    /// Why, for the audit report.
    pub reason: String,
    /// The organisation units it applies to; `None` for the whole trust.
    pub org_units: Option<Vec<String>>,
    /// The employee number of the holder's line manager who verified the need; `None` for
    /// employee-level URPs, which need no approval, and for a Caldicott exception.
    pub verified_by_line_manager: Option<String>,
    /// Instead of a line manager: the employee number of the trust's Caldicott guardian who
    /// approved the grant as an exception (give `caldicott_reference` with it).
    #[uniffi(default = None)]
    pub caldicott_guardian: Option<String>,
    /// The Caldicott exception's reference.
    #[uniffi(default = None)]
    pub caldicott_reference: Option<String>,
}

/// An entry of a trust's competence catalogue.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CompetenceDefinition {
    /// The competence's full name.
    pub name: String,
    /// Months until a record of it expires (`None`: never).
    pub refresher_months: Option<u32>,
    /// Whether it can be recorded and required.
    pub active: bool,
}

impl From<esr_core::compliance::CompetenceDefinition> for CompetenceDefinition {
    fn from(d: esr_core::compliance::CompetenceDefinition) -> Self {
        Self {
            name: d.name.to_string(),
            refresher_months: d.refresher_months,
            active: d.active,
        }
    }
}

/// What a requirement attaches to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum RequirementTarget {
    /// A position (`297|Staff Nurse|Ward 5|`).
    Position {
        /// The position.
        position: String,
    },
    /// An organisation unit: every assignment in it.
    OrgUnit {
        /// The unit.
        unit: String,
    },
    /// A job title.
    Job {
        /// The job.
        job: String,
    },
}

impl RequirementTarget {
    pub(crate) fn to_core(&self) -> Result<esr_core::compliance::RequirementTarget, EsrError> {
        Ok(match self {
            Self::Position { position } => {
                esr_core::compliance::RequirementTarget::Position(position.parse()?)
            }
            Self::OrgUnit { unit } => {
                esr_core::compliance::RequirementTarget::OrgUnit(unit.parse()?)
            }
            Self::Job { job } => {
                esr_core::compliance::RequirementTarget::Job(job.trim().to_owned())
            }
        })
    }
}

/// When a recorded competence expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RecordExpiry {
    /// After the catalogue's refresher period.
    Refresher,
    /// Never.
    Never,
    /// On this date.
    On {
        /// The last day it is valid.
        date: CalendarDate,
    },
}

impl RecordExpiry {
    pub(crate) fn to_core(self) -> Result<esr_core::compliance::RecordExpiry, EsrError> {
        Ok(match self {
            Self::Refresher => esr_core::compliance::RecordExpiry::Refresher,
            Self::Never => esr_core::compliance::RecordExpiry::Never,
            Self::On { date } => esr_core::compliance::RecordExpiry::On(date.to_core()?),
        })
    }
}

/// A competence a person holds, to record.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewCompetenceRecord {
    /// The competence (`NHS|CSTF|Fire Safety - 1 Year|`).
    pub competence: String,
    /// When it was achieved.
    pub achieved: CalendarDate,
    /// When it expires.
    pub expiry: RecordExpiry,
    /// The level, as ESR prints it (`None`: "Not Assessed").
    pub level: Option<String>,
}

impl NewCompetenceRecord {
    /// The core's record, each field parsed (a wrong competence, date or level is refused).
    pub(crate) fn to_core(&self) -> Result<esr_core::compliance::NewCompetenceRecord, EsrError> {
        Ok(esr_core::compliance::NewCompetenceRecord {
            competence: crate::service::parse(&self.competence)?,
            achieved: self.achieved.to_core()?,
            expiry: self.expiry.to_core()?,
            level: self
                .level
                .as_deref()
                .map(crate::service::parse)
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

/// A competence record.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CompetenceRecord {
    /// The person's employee number.
    pub employee_number: String,
    /// The competence.
    pub competence: String,
    /// When it was achieved.
    pub achieved: CalendarDate,
    /// The last day it is valid (`None`: never expires).
    pub expiry: Option<CalendarDate>,
    /// The level, as ESR prints it.
    pub level: String,
}

impl From<esr_core::compliance::CompetenceRecord> for CompetenceRecord {
    fn from(r: esr_core::compliance::CompetenceRecord) -> Self {
        Self {
            employee_number: r.employee_number.to_string(),
            competence: r.competence.to_string(),
            achieved: r.achieved.into(),
            expiry: r.expiry.map(Into::into),
            level: r.level.to_string(),
        }
    }
}

/// A row of a competence import that was bad, and why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportProblem {
    /// The line number in the file, from 1.
    pub line: u64,
    /// What is wrong with it and what to do.
    pub reason: String,
}

/// What a competence import did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportSummary {
    /// Records written (new, or replacing one with the same person, competence and achieved
    /// date).
    pub imported: u64,
    /// Rows that repeated an earlier row's person, competence and achieved date (the latest
    /// expiry was kept).
    pub merged_duplicates: u64,
    /// The bad rows skipped (only with `skip_bad_rows`): the first ones with their lines and
    /// reasons.
    pub skipped: Vec<ImportProblem>,
    /// Every bad row skipped, listed or not.
    pub skipped_total: u64,
}

impl From<esr_core::compliance::ImportSummary> for ImportSummary {
    fn from(s: esr_core::compliance::ImportSummary) -> Self {
        Self {
            imported: u64::try_from(s.imported).unwrap_or(u64::MAX),
            merged_duplicates: u64::try_from(s.merged_duplicates).unwrap_or(u64::MAX),
            skipped: s
                .skipped
                .listed()
                .iter()
                .map(|p| ImportProblem {
                    line: p.line,
                    reason: p.reason.clone(),
                })
                .collect(),
            skipped_total: s.skipped.total(),
        }
    }
}

// ----- passcodes ----------------------------------------------------------------------------

/// What a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Purpose {
    /// Confirm a first mobile number (from an HSCN session).
    RegisterMobile,
    /// Confirm a new number in place of the registered one (from an HSCN session).
    ChangeMobile,
    /// Upgrade this internet session.
    UpgradeSession,
    /// Reset the password with an e-mailed link.
    ResetPassword,
    /// Unlock a locked account with an e-mailed link.
    UnlockAccount,
}

impl From<esr_core::passcode::Purpose> for Purpose {
    fn from(p: esr_core::passcode::Purpose) -> Self {
        match p {
            esr_core::passcode::Purpose::RegisterMobile => Self::RegisterMobile,
            esr_core::passcode::Purpose::ChangeMobile => Self::ChangeMobile,
            esr_core::passcode::Purpose::UpgradeSession => Self::UpgradeSession,
            esr_core::passcode::Purpose::ResetPassword => Self::ResetPassword,
            esr_core::passcode::Purpose::UnlockAccount => Self::UnlockAccount,
        }
    }
}

impl From<Purpose> for esr_core::passcode::Purpose {
    fn from(p: Purpose) -> Self {
        match p {
            Purpose::RegisterMobile => Self::RegisterMobile,
            Purpose::ChangeMobile => Self::ChangeMobile,
            Purpose::UpgradeSession => Self::UpgradeSession,
            Purpose::ResetPassword => Self::ResetPassword,
            Purpose::UnlockAccount => Self::UnlockAccount,
        }
    }
}

/// A code's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ChallengeStatus {
    /// Waiting for the code.
    Pending,
    /// Verified (it cannot verify again).
    Approved,
    /// Replaced by a newer code (a resend).
    Superseded,
    /// Its 10 minutes are up.
    Expired,
    /// Too many wrong guesses killed it.
    MaxAttemptsReached,
}

impl From<esr_core::passcode::ChallengeStatus> for ChallengeStatus {
    fn from(s: esr_core::passcode::ChallengeStatus) -> Self {
        match s {
            esr_core::passcode::ChallengeStatus::Pending => Self::Pending,
            esr_core::passcode::ChallengeStatus::Approved => Self::Approved,
            esr_core::passcode::ChallengeStatus::Superseded => Self::Superseded,
            esr_core::passcode::ChallengeStatus::Expired => Self::Expired,
            esr_core::passcode::ChallengeStatus::MaxAttemptsReached => Self::MaxAttemptsReached,
        }
    }
}

/// A code that was texted, as the app shows it: never the code or the full number. Give it back
/// to verify, resend or check the code.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PasscodeChallenge {
    /// The challenge's identifier (not a secret: it is useless without the code).
    pub id: String,
    /// What the code is for.
    pub purpose: Purpose,
    /// The masked number it went to: `xxxxxxx374`.
    pub masked_destination: String,
    /// When it was sent.
    pub issued_at: SystemTime,
    /// When it stops working (10 minutes after it was sent).
    pub expires_at: SystemTime,
    /// Whole seconds left before it expires, by the service's clock (0 once expired).
    pub seconds_left: u64,
    /// Its state when this record was made.
    pub status: ChallengeStatus,
    /// Wrong guesses left before it dies.
    pub attempts_left: u32,
    /// The sentence to show: "We have sent a code to your mobile number ending: xxxxxxx374".
    pub message: String,
}

impl PasscodeChallenge {
    pub(crate) fn of(c: &esr_core::passcode::PasscodeChallenge, now: DateTime<Utc>) -> Self {
        Self {
            id: c.id.to_string(),
            purpose: c.purpose.into(),
            masked_destination: c.masked_destination.clone(),
            issued_at: to_system(c.issued_at),
            expires_at: to_system(c.expires_at),
            seconds_left: whole_seconds(c.time_left(now)),
            status: c.status.into(),
            attempts_left: c.attempts_left,
            message: c.message(),
        }
    }
}

/// What verifying a code came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum VerifyStatus {
    /// The code was right; its purpose was carried out.
    Approved,
    /// The code was wrong; see `attempts_left`.
    WrongCode,
    /// The code's 10 minutes are up: ask for a new code.
    Expired,
    /// The code was already used: codes work once.
    AlreadyUsed,
    /// A newer code was sent: use the latest one.
    Superseded,
    /// Too many wrong guesses on this code: ask for a new one.
    TooManyAttempts,
    /// Too many wrong codes on this account: a user administrator must clear the lock.
    Locked,
    /// No such code for this session and purpose.
    UnknownChallenge,
}

/// The result of verifying a code.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifyResult {
    /// What it came to.
    pub status: VerifyStatus,
    /// Whether the code was accepted and its purpose carried out.
    pub approved: bool,
    /// After a wrong code: guesses left on this code.
    pub attempts_left: Option<u32>,
    /// After an upgrade: the upgraded session.
    pub session: Option<SessionInfo>,
    /// After registering a number: the number, masked.
    pub masked_mobile: Option<String>,
    /// After registering a number: whether it replaced another.
    pub mobile_changed: bool,
}

impl VerifyResult {
    pub(crate) fn of(o: esr_core::passcode::VerifyOutcome, now: DateTime<Utc>) -> Self {
        let flat = o.flatten();
        Self {
            status: flat.status.into(),
            approved: flat.is_approved(),
            attempts_left: flat.attempts_left,
            session: flat.session.map(|s| SessionInfo::of(&s, now)),
            masked_mobile: flat.masked_mobile,
            mobile_changed: flat.mobile_changed,
        }
    }
}

impl From<esr_core::passcode::VerifyStatus> for VerifyStatus {
    fn from(s: esr_core::passcode::VerifyStatus) -> Self {
        use esr_core::passcode::VerifyStatus as V;
        match s {
            V::Approved => Self::Approved,
            V::WrongCode => Self::WrongCode,
            V::Expired => Self::Expired,
            V::AlreadyUsed => Self::AlreadyUsed,
            V::Superseded => Self::Superseded,
            V::TooManyAttempts => Self::TooManyAttempts,
            V::Locked => Self::Locked,
            V::UnknownChallenge => Self::UnknownChallenge,
        }
    }
}

/// The kind of an account-recovery e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum EmailKind {
    /// "Forgotten username": the username and a password-reset link.
    UsernameReminder,
    /// An account-unlock link.
    UnlockAccount,
}

// ----- compliance ---------------------------------------------------------------------------

/// A compliance row's colour (RAG, plus Blue).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ComplianceStatus {
    /// Essential and not held, or expired.
    Red,
    /// Expiring within the amber window (3 months in ESR).
    Amber,
    /// Valid beyond the amber window, or never expiring.
    Green,
    /// Held but not required.
    Blue,
}

impl From<esr_core::compliance::ComplianceStatus> for ComplianceStatus {
    fn from(s: esr_core::compliance::ComplianceStatus) -> Self {
        match s {
            esr_core::compliance::ComplianceStatus::Red => Self::Red,
            esr_core::compliance::ComplianceStatus::Amber => Self::Amber,
            esr_core::compliance::ComplianceStatus::Green => Self::Green,
            esr_core::compliance::ComplianceStatus::Blue => Self::Blue,
        }
    }
}

/// How an assignment needs a competence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Need {
    /// Required and essential: counts towards the percentage.
    Essential,
    /// Required but not essential: shown, never counted.
    Desirable,
    /// Not required (a Blue row).
    NotRequired,
}

/// Counts of essential rows by colour, and the percentage compliant.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct ComplianceCounts {
    /// Essential rows.
    pub essential: u32,
    /// Of which Green.
    pub green: u32,
    /// Of which Amber.
    pub amber: u32,
    /// Of which Red.
    pub red: u32,
    /// Green and Amber as a percentage of essential rows (`None`: nothing is required).
    pub percent: Option<f64>,
}

impl From<esr_core::compliance::ComplianceCounts> for ComplianceCounts {
    fn from(c: esr_core::compliance::ComplianceCounts) -> Self {
        Self {
            essential: c.essential,
            green: c.green,
            amber: c.amber,
            red: c.red,
            percent: c.percent(),
        }
    }
}

/// One competence row of My Compliance or Team Compliance.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ComplianceRow {
    /// The competence.
    pub competence: String,
    /// How the assignment needs it.
    pub need: Need,
    /// Whether it is held.
    pub held: bool,
    /// The last day the record that counts is valid (`None`: not held, or never expires).
    pub expiry: Option<CalendarDate>,
    /// Whether the record that counts never expires.
    pub never_expires: bool,
    /// The level of the record that counts.
    pub level: Option<String>,
    /// The competence actually held, when an equivalent one satisfies this row.
    pub satisfied_by: Option<String>,
    /// Its colour; `None` for a desirable competence not held.
    pub status: Option<ComplianceStatus>,
    /// The least level that satisfies the requirement ("Min Req"), when one is set.
    pub min_level: Option<String>,
    /// Why the row is Red (`None` unless it is).
    pub red_reason: Option<RedReason>,
}

/// Why a compliance row is Red.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum RedReason {
    /// No record of the competence or of any equivalent.
    NotHeld,
    /// The record that counts has expired.
    Expired,
    /// Every record is below the requirement's minimum level.
    BelowMinimumLevel,
}

impl From<esr_core::compliance::RedReason> for RedReason {
    fn from(r: esr_core::compliance::RedReason) -> Self {
        match r {
            esr_core::compliance::RedReason::NotHeld => Self::NotHeld,
            esr_core::compliance::RedReason::Expired => Self::Expired,
            esr_core::compliance::RedReason::BelowMinimumLevel => Self::BelowMinimumLevel,
        }
    }
}

impl From<esr_core::compliance::ComplianceRow> for ComplianceRow {
    fn from(r: esr_core::compliance::ComplianceRow) -> Self {
        let (held, expiry, never_expires) = match r.holding {
            esr_core::compliance::Holding::Expires(d) => (true, Some(d.into()), false),
            esr_core::compliance::Holding::NeverExpires => (true, None, true),
            esr_core::compliance::Holding::NotHeld => (false, None, false),
        };
        Self {
            competence: r.competence.to_string(),
            need: match r.need {
                esr_core::compliance::Need::Essential => Need::Essential,
                esr_core::compliance::Need::Desirable => Need::Desirable,
                esr_core::compliance::Need::NotRequired => Need::NotRequired,
            },
            held,
            expiry,
            never_expires,
            level: r.level.map(|l| l.to_string()),
            satisfied_by: r.satisfied_by.map(|s| s.to_string()),
            status: r.status.map(Into::into),
            min_level: r.min_level.map(|l| l.to_string()),
            red_reason: r.reason.map(Into::into),
        }
    }
}

/// One assignment's compliance.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AssignmentCompliance {
    /// The assignment number.
    pub assignment: String,
    /// Its title.
    pub title: String,
    /// Its organisation unit.
    pub org_unit: String,
    /// The date the colours are for.
    pub as_of: CalendarDate,
    /// Required rows first (by competence name), then the Blue ones.
    pub rows: Vec<ComplianceRow>,
    /// The counts of essential rows and the percentage.
    pub counts: ComplianceCounts,
}

impl From<esr_core::compliance::AssignmentCompliance> for AssignmentCompliance {
    fn from(a: esr_core::compliance::AssignmentCompliance) -> Self {
        Self {
            assignment: a.assignment.to_string(),
            title: a.title,
            org_unit: a.org_unit.to_string(),
            as_of: a.as_of.into(),
            rows: a.rows.into_iter().map(Into::into).collect(),
            counts: a.counts.into(),
        }
    }
}

/// My Compliance: a person's compliance over their assignments.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PersonCompliance {
    /// The person's employee number.
    pub employee_number: String,
    /// The date the colours are for.
    pub as_of: CalendarDate,
    /// Each assignment, by number.
    pub assignments: Vec<AssignmentCompliance>,
    /// Every assignment's essential rows together.
    pub summary: ComplianceCounts,
}

impl From<esr_core::compliance::PersonCompliance> for PersonCompliance {
    fn from(p: esr_core::compliance::PersonCompliance) -> Self {
        Self {
            employee_number: p.employee_number.to_string(),
            as_of: p.as_of.into(),
            assignments: p.assignments.into_iter().map(Into::into).collect(),
            summary: p.summary.into(),
        }
    }
}

/// One member of Team Compliance.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TeamComplianceMember {
    /// The member's given name.
    pub given_name: String,
    /// The member's family name.
    pub family_name: String,
    /// The member's employee number.
    pub employee_number: String,
    /// 1 for a direct report, 2 for a report's report, and so on.
    pub depth: u32,
    /// The compliance of the member's assignment in the manager's line.
    pub compliance: AssignmentCompliance,
}

/// The Team Compliance portlet: a manager's team and each member's compliance.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TeamCompliance {
    /// The date the colours are for.
    pub as_of: CalendarDate,
    /// The members, nearest first, then by name.
    pub members: Vec<TeamComplianceMember>,
}

impl From<esr_core::compliance::TeamCompliance> for TeamCompliance {
    fn from(t: esr_core::compliance::TeamCompliance) -> Self {
        Self {
            as_of: t.as_of.into(),
            members: t
                .members
                .into_iter()
                .map(|m| TeamComplianceMember {
                    given_name: m.name.given,
                    family_name: m.name.family,
                    employee_number: m.assignment.employee_number.to_string(),
                    depth: m.depth,
                    compliance: m.compliance.into(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn calendar_dates_round_trip_and_refuse_days_that_do_not_exist() {
        let d = NaiveDate::from_ymd_opt(2028, 2, 29).unwrap();
        assert_eq!(CalendarDate::from(d).to_core().unwrap(), d);
        for (year, month, day) in [(2027, 2, 29), (2026, 13, 1), (2026, 0, 1), (2026, 4, 31)] {
            let e = CalendarDate { year, month, day }.to_core().unwrap_err();
            assert!(matches!(e, EsrError::InvalidInput { .. }));
            assert!(e.message().contains("not a day of the calendar"), "{e}");
        }
    }

    #[test]
    fn instants_round_trip_either_side_of_1970_and_refuse_what_chrono_cannot_hold() {
        for t in [
            UNIX_EPOCH + Duration::new(1_795_338_000, 123_000_000),
            UNIX_EPOCH - Duration::new(86_400, 250_000_000),
            UNIX_EPOCH,
        ] {
            assert_eq!(to_system(from_system(t).unwrap()), t);
        }
        if let Some(far) = UNIX_EPOCH.checked_add(Duration::from_secs(u64::MAX / 4)) {
            assert!(matches!(
                from_system(far),
                Err(EsrError::InvalidInput { .. })
            ));
        }
    }

    #[test]
    fn seconds_left_never_goes_negative() {
        assert_eq!(whole_seconds(TimeDelta::seconds(-5)), 0);
        assert_eq!(whole_seconds(TimeDelta::milliseconds(59_999)), 59);
    }

    #[test]
    fn verify_outcomes_keep_attempts_left_and_the_masked_number_only() {
        let now = DateTime::from_timestamp(1_795_338_000, 0).unwrap();
        let wrong = VerifyResult::of(
            esr_core::passcode::VerifyOutcome::WrongCode { attempts_left: 2 },
            now,
        );
        assert_eq!(wrong.status, VerifyStatus::WrongCode);
        assert_eq!(wrong.attempts_left, Some(2));
        assert!(!wrong.approved);
        let ok = VerifyResult::of(
            esr_core::passcode::VerifyOutcome::Approved(
                esr_core::passcode::Approved::MobileRegistered {
                    masked: "xxxxxxx374".into(),
                    changed: true,
                },
            ),
            now,
        );
        assert!(ok.approved);
        assert_eq!(ok.masked_mobile.as_deref(), Some("xxxxxxx374"));
        assert!(ok.mobile_changed);
        assert_eq!(
            VerifyResult::of(esr_core::passcode::VerifyOutcome::Locked, now).status,
            VerifyStatus::Locked
        );
    }

    fn session(channel: esr_core::access::Channel, upgraded: bool) -> esr_core::access::Session {
        let at = DateTime::from_timestamp(1_795_338_000, 0).unwrap();
        let id: esr_core::SessionId = "0123456789abcdef0123456789abcdef".parse().unwrap();
        esr_core::access::Session {
            id,
            key: id.key(),
            vpd: "297".parse().unwrap(),
            username: "297ECONROY01".parse().unwrap(),
            channel,
            started_at: at,
            expires_at: at + TimeDelta::hours(12),
            upgrade: upgraded.then(|| esr_core::access::Upgrade {
                at: at + TimeDelta::minutes(5),
                method: "sms-otp".into(),
            }),
            ended: None,
            last_active_at: at,
            idle_timeout: TimeDelta::minutes(30),
        }
    }

    #[test]
    fn the_access_level_follows_the_channel_and_the_upgrade() {
        let at = DateTime::from_timestamp(1_795_338_000, 0).unwrap();
        let hscn = SessionInfo::of(&session(esr_core::access::Channel::Hscn, false), at);
        assert_eq!(
            (hscn.channel, hscn.access_level),
            (Channel::Hscn, AccessLevel::Smartcard)
        );
        let web = SessionInfo::of(&session(esr_core::access::Channel::Internet, false), at);
        assert_eq!(web.access_level, AccessLevel::Standard);
        assert_eq!(web.upgraded_at, None);
        let later = at + TimeDelta::hours(2);
        let up = SessionInfo::of(&session(esr_core::access::Channel::Internet, true), later);
        assert_eq!(up.access_level, AccessLevel::Upgraded);
        assert_eq!(up.upgraded_at, Some(to_system(at + TimeDelta::minutes(5))));
        assert_eq!(up.seconds_left, 10 * 3600);
        let gone = SessionInfo::of(
            &session(esr_core::access::Channel::Internet, true),
            at + TimeDelta::hours(13),
        );
        assert_eq!(gone.seconds_left, 0);
        // The record shows the audit reference, never the identifier.
        assert!(!format!("{web:?}").contains("0123456789abcdef0123456789abcdef"));
    }

    #[test]
    fn a_person_shows_only_the_masked_mobile() {
        let person = esr_core::people::Person {
            vpd: "297".parse().unwrap(),
            employee_number: "29700001".parse().unwrap(),
            name: esr_core::people::PersonName::new("Emma", "Conroy").unwrap(),
            date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(),
            recruitment_email: "emma@nhs.net".parse().unwrap(),
            mobile: Some("07700 900374".parse().unwrap()),
            username: "297ECONROY01".parse().unwrap(),
            created_at: DateTime::from_timestamp(1_795_338_000, 0).unwrap(),
        };
        let info = PersonInfo::from(person);
        assert_eq!(info.masked_mobile.as_deref(), Some("xxxxxxx374"));
        assert!(!format!("{info:?}").contains("900374\""));
        assert!(!format!("{info:?}").contains("7700900374"));
    }

    #[test]
    fn rows_say_how_a_competence_is_held() {
        let row = esr_core::compliance::ComplianceRow {
            competence: "297|LOCAL|Fire Safety|".parse().unwrap(),
            need: esr_core::compliance::Need::Essential,
            holding: esr_core::compliance::Holding::NeverExpires,
            level: None,
            satisfied_by: None,
            status: Some(esr_core::compliance::ComplianceStatus::Green),
            min_level: None,
            reason: None,
        };
        let r = ComplianceRow::from(row);
        assert!(r.held && r.never_expires && r.expiry.is_none());
        assert_eq!(r.status, Some(ComplianceStatus::Green));
        assert_eq!(r.need, Need::Essential);
    }
}
