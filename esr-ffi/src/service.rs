//! `EsrService`: the service an iOS app holds (in memory, over the system clock or a manual one
//! for tests), and `EsrSession`, the handle of a logged-in session.

use crate::blocking::off_thread;
use crate::catalogue::Function;
use crate::delivery::{EmailGateway, Gateway, Outbox, SmsGateway};
use crate::error::EsrError;
use crate::learning::{
    CertificationDefinition, Enrolment, LearningSubscription, PlayOutcome, PlayResult,
};
use crate::store::AnyStore;
use crate::types::{
    AccessDecision, AssignmentInfo, CalendarDate, CompetenceDefinition, CompetenceRecord,
    ImportSummary, NewAssignment, NewCompetenceRecord, NewPerson, PasscodeChallenge,
    PersonCompliance, PersonInfo, RequirementTarget, SessionInfo, SessionSummary, TeamCompliance,
    TrustOptions, UrpGrantRequest, VerifyResult, date_opt, from_system, to_system,
};
use esr_core::chrono::{DateTime, TimeDelta, Utc};
use esr_core::values::ClockChoice;
use esr_core::{
    Clock, Config, EmployeeNumber, SessionId, Username, VpdCode, passcode::PasscodeKey,
    passcode::PasscodeKeys, people::Password,
};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

pub(crate) type Core = esr_core::Esr<AnyStore, ClockChoice>;

/// The longest SQLite path accepted: Apple's `PATH_MAX`.
const MAX_PATH_BYTES: usize = 1024;

/// The identifier the passcode key is filed under.
const KEY_ID: &str = "app-1";

/// A logged-in session. It holds the session's identifier, which acts as the user, so it never
/// prints it and never hands it out; pass the session back to the service's methods.
#[derive(uniffi::Object)]
#[uniffi::export(Display, Debug)]
pub struct EsrSession {
    pub(crate) id: SessionId,
    username: Username,
}

impl EsrSession {
    /// The session's id (for the other modules' methods; never handed out).
    pub(crate) fn session_id(&self) -> SessionId {
        self.id
    }

    fn of(s: &esr_core::access::Session) -> Arc<Self> {
        Arc::new(Self {
            id: s.id,
            username: s.username.clone(),
        })
    }
}

impl fmt::Display for EsrSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "session of {} (audit ref {})",
            self.username,
            self.id.audit_ref()
        )
    }
}

impl fmt::Debug for EsrSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EsrSession({self})")
    }
}

#[uniffi::export]
impl EsrSession {
    /// The user's username.
    pub fn username(&self) -> String {
        self.username.to_string()
    }

    /// The one-way reference the audit trail uses for this session (not a secret).
    pub fn audit_ref(&self) -> String {
        self.id.audit_ref().to_string()
    }
}

/// Who is acting: a logged-in user, or a named process of the embedding system (a recruitment
/// feed, a set-up script) that acts with the system's authority.
#[derive(uniffi::Enum)]
pub enum EsrActor {
    /// A logged-in user, with the functions their session may use.
    User {
        /// The session.
        session: Arc<EsrSession>,
    },
    /// A process of the embedding system, named for the audit trail.
    System {
        /// Its name ("recruitment feed").
        process: String,
    },
}

impl EsrActor {
    /// The core's actor (for the other modules' methods).
    pub(crate) fn core_actor(&self) -> Result<esr_core::Actor, EsrError> {
        self.to_core()
    }

    pub(crate) fn to_core(&self) -> Result<esr_core::Actor, EsrError> {
        match self {
            Self::User { session } => Ok(esr_core::Actor::Session(session.id)),
            Self::System { process } => Ok(esr_core::Actor::system(process)?),
        }
    }
}

pub(crate) fn parse<T>(text: &str) -> Result<T, EsrError>
where
    T: std::str::FromStr,
    T::Err: Into<esr_core::Error>,
{
    text.parse().map_err(|e: T::Err| EsrError::from(e.into()))
}

fn list<T, U: From<T>>(v: Vec<T>) -> Vec<U> {
    v.into_iter().map(Into::into).collect()
}

/// The ESR service for an app: trusts, people and accounts, log-in sessions and their access,
/// passcodes, account recovery, compliance views, and certifications, in memory. Safe to share
/// between threads.
#[derive(uniffi::Object)]
pub struct EsrService {
    pub(crate) core: Core,
    outbox: Arc<Outbox>,
    manual: Option<esr_core::ManualClock>,
}

impl fmt::Debug for EsrService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EsrService({})", self.core.store().describe())
    }
}

/// Service settings an app may change; each left `nil` keeps the library's default. Times are
/// in seconds.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct ServiceSettings {
    /// Consecutive failed log-ins that lock an account (1 to 100; default 5).
    #[uniffi(default = None)]
    pub max_failed_logins: Option<u32>,
    /// How long a session lasts from log-in (60 to 43,200; default 43,200: 12 hours).
    #[uniffi(default = None)]
    pub session_lifetime_seconds: Option<i64>,
    /// How long an internet session may go unused (60 to 1,800; default 1,800: 30 minutes).
    #[uniffi(default = None)]
    pub internet_idle_timeout_seconds: Option<i64>,
    /// How long an HSCN session may go unused (60 to 43,200; default 1,800).
    #[uniffi(default = None)]
    pub hscn_idle_timeout_seconds: Option<i64>,
    /// The least time a recovery request takes to answer, in milliseconds (0 to 10,000;
    /// default 150).
    #[uniffi(default = None)]
    pub recovery_answer_time_millis: Option<u64>,
    /// Digits in a code (6 to 10; default 6).
    #[uniffi(default = None)]
    pub passcode_digits: Option<u8>,
    /// Wrong guesses that kill a code (1 to 10; default 5).
    #[uniffi(default = None)]
    pub passcode_max_attempts: Option<u32>,
    /// Wrong codes within the failure window that lock step-up (1 to 100; default 20).
    #[uniffi(default = None)]
    pub passcode_max_failures: Option<u32>,
    /// The rolling failure window (3,600 to 2,592,000; default 86,400: 24 hours).
    #[uniffi(default = None)]
    pub passcode_failure_window_seconds: Option<i64>,
    /// Codes sent to one user or number within the send window (1 to 100; default 5).
    #[uniffi(default = None)]
    pub passcode_max_sends: Option<u32>,
    /// The send window (60 to 86,400; default 600).
    #[uniffi(default = None)]
    pub passcode_send_window_seconds: Option<i64>,
    /// The least time between two sends to one user (0 to 600; default 30).
    #[uniffi(default = None)]
    pub passcode_min_resend_interval_seconds: Option<i64>,
}

impl ServiceSettings {
    /// `config` with these settings applied (checked when the service is built).
    fn apply(&self, mut config: Config) -> Result<Config, EsrError> {
        let secs = |what: &str, s: i64| {
            TimeDelta::try_seconds(s).ok_or_else(|| {
                EsrError::invalid(format!("invalid {what}: {s} seconds is out of range"))
            })
        };
        if let Some(v) = self.max_failed_logins {
            config.max_failed_logins = v;
        }
        if let Some(s) = self.session_lifetime_seconds {
            config.session_lifetime = secs("session lifetime", s)?;
        }
        if let Some(s) = self.internet_idle_timeout_seconds {
            config.internet_idle_timeout = secs("internet idle timeout", s)?;
        }
        if let Some(s) = self.hscn_idle_timeout_seconds {
            config.hscn_idle_timeout = secs("HSCN idle timeout", s)?;
        }
        if let Some(ms) = self.recovery_answer_time_millis {
            config.recovery_answer_time = std::time::Duration::from_millis(ms);
        }
        let p = &mut config.passcodes;
        if let Some(v) = self.passcode_digits {
            p.digits = v;
        }
        if let Some(v) = self.passcode_max_attempts {
            p.max_attempts = v;
        }
        if let Some(v) = self.passcode_max_failures {
            p.max_failures = v;
        }
        if let Some(s) = self.passcode_failure_window_seconds {
            p.failure_window = secs("passcode failure window", s)?;
        }
        if let Some(v) = self.passcode_max_sends {
            p.max_sends = v;
        }
        if let Some(s) = self.passcode_send_window_seconds {
            p.send_window = secs("passcode send window", s)?;
        }
        if let Some(s) = self.passcode_min_resend_interval_seconds {
            p.min_resend_interval = secs("passcode resend interval", s)?;
        }
        Ok(config)
    }
}

impl EsrService {
    /// The core service (for the other modules' methods).
    pub(crate) fn core(&self) -> &Core {
        &self.core
    }

    /// The service clock's instant.
    pub(crate) fn instant(&self) -> DateTime<Utc> {
        self.now_utc()
    }

    fn build(
        store: AnyStore,
        passcode_key: &[u8],
        clock: ClockChoice,
        config: Config,
        sms_gateway: Option<Arc<dyn SmsGateway>>,
        email_gateway: Option<Arc<dyn EmailGateway>>,
    ) -> Result<Arc<Self>, EsrError> {
        let key = PasscodeKey::new(KEY_ID, passcode_key)?;
        let outbox = Arc::new(esr_core::passcode::Outbox::new());
        let manual = clock.manual().cloned();
        let mut core = esr_core::Esr::new(store, clock)
            .with_config(config)?
            // Authenticator apps need the app's own key (from the Keychain) through
            // `set_authenticator_keys`; until then enrolling is refused with
            // `NoAuthenticatorKey`. A random default key would seal secrets that no restart
            // could open again.
            .with_passcode_keys(PasscodeKeys::new(key));
        core = match sms_gateway {
            Some(g) => core.with_sms_sender(Arc::new(Gateway(g))),
            None => core.with_sms_sender(outbox.clone()),
        };
        core = match email_gateway {
            Some(g) => core.with_email_sender(Arc::new(Gateway(g))),
            None => core.with_email_sender(outbox.clone()),
        };
        Ok(Arc::new(Self {
            core,
            outbox: Arc::new(Outbox(outbox)),
            manual,
        }))
    }

    pub(crate) fn now_utc(&self) -> DateTime<Utc> {
        self.core.clock().now()
    }

    fn manual_clock(&self) -> Result<&esr_core::ManualClock, EsrError> {
        self.manual.as_ref().ok_or_else(|| {
            EsrError::invalid(
                "invalid clock: this service runs on the system clock, which cannot be moved; make the service with EsrService.forTesting to move time",
            )
        })
    }

    fn challenge(&self, c: esr_core::passcode::PasscodeChallenge) -> PasscodeChallenge {
        PasscodeChallenge::of(&c, self.now_utc())
    }
}

#[uniffi::export]
impl EsrService {
    /// A service on the system clock. `passcode_key`: the server secret (32 bytes or more,
    /// not one repeated byte) texted codes are bound with; keep it in the Keychain.
    /// `sms_gateway`, `email_gateway`: the app's own gateways; without one, messages go to the
    /// built-in [`Outbox`]. `settings`: session timeouts and the passcode policy.
    #[uniffi::constructor(default(settings = None))]
    pub fn new(
        passcode_key: Vec<u8>,
        sms_gateway: Option<Arc<dyn SmsGateway>>,
        email_gateway: Option<Arc<dyn EmailGateway>>,
        settings: Option<ServiceSettings>,
    ) -> Result<Arc<Self>, EsrError> {
        let config = settings.unwrap_or_default().apply(Config::default())?;
        Self::build(
            AnyStore::Memory(Box::default()),
            &passcode_key,
            ClockChoice::System,
            config,
            sms_gateway,
            email_gateway,
        )
    }

    /// A service for tests and previews: its clock starts at `start` and moves only with
    /// `advance_clock` and `set_now`, and passwords are hashed at the cheapest cost (never use
    /// it for real accounts).
    #[uniffi::constructor(default(settings = None))]
    pub fn for_testing(
        passcode_key: Vec<u8>,
        start: SystemTime,
        sms_gateway: Option<Arc<dyn SmsGateway>>,
        email_gateway: Option<Arc<dyn EmailGateway>>,
        settings: Option<ServiceSettings>,
    ) -> Result<Arc<Self>, EsrError> {
        let clock = ClockChoice::Manual(esr_core::ManualClock::new(from_system(start)?));
        let config = settings.unwrap_or_default().apply(Config {
            password_hashing: esr_core::people::PasswordHashing::insecure_fast_for_tests(),
            ..Config::default()
        })?;
        Self::build(
            AnyStore::Memory(Box::default()),
            &passcode_key,
            clock,
            config,
            sms_gateway,
            email_gateway,
        )
    }

    /// A service on the system clock whose state is kept in the SQLite database at `path`
    /// (created if it is not there, its schema brought up to date), so it survives a relaunch:
    /// put it in the app's Application Support directory. Give the same `passcode_key` each
    /// time, or codes already texted stop verifying. A path that cannot be opened fails with
    /// `Storage`.
    #[uniffi::constructor]
    pub fn open_sqlite(
        path: String,
        passcode_key: Vec<u8>,
        sms_gateway: Option<Arc<dyn SmsGateway>>,
        email_gateway: Option<Arc<dyn EmailGateway>>,
    ) -> Result<Arc<Self>, EsrError> {
        if path.trim().is_empty() {
            // SQLite would open a private temporary database, lost when the service is dropped.
            return Err(EsrError::invalid(
                "invalid SQLite path: it is blank; give the path of the database file (in the app's Application Support directory), or use EsrService.new for a store in memory",
            ));
        }
        if path.len() > MAX_PATH_BYTES || path.contains('\0') {
            return Err(EsrError::invalid(format!(
                "invalid SQLite path: it is {} bytes long{}; give a path of at most {MAX_PATH_BYTES} bytes with no NUL character, as the app's file system allows",
                path.len(),
                if path.contains('\0') {
                    " and holds a NUL character"
                } else {
                    ""
                },
            )));
        }
        let store = esr_sqlite::SqliteStore::open(&path)?;
        Self::build(
            AnyStore::Sqlite(Box::new(store)),
            &passcode_key,
            ClockChoice::System,
            Config::default(),
            sms_gateway,
            email_gateway,
        )
    }

    /// The built-in outbox: every text and e-mail the service sent without an app gateway.
    pub fn outbox(&self) -> Arc<Outbox> {
        self.outbox.clone()
    }

    // ----- time -------------------------------------------------------------------------------

    /// The service clock's instant.
    pub fn now(&self) -> SystemTime {
        to_system(self.now_utc())
    }

    /// Today in the United Kingdom, by the service's clock.
    pub fn uk_today(&self) -> CalendarDate {
        self.core.uk_today().into()
    }

    /// Moves a test service's clock on by `seconds` (negative moves it back).
    pub fn advance_clock(&self, seconds: i64) -> Result<(), EsrError> {
        let clock = self.manual_clock()?;
        let to = TimeDelta::try_seconds(seconds)
            .and_then(|d| clock.now().checked_add_signed(d))
            .ok_or_else(|| {
                EsrError::invalid(format!(
                    "invalid clock move: {seconds} seconds from now is outside the years the library handles"
                ))
            })?;
        clock.set(to);
        Ok(())
    }

    /// Sets a test service's clock to `instant`.
    pub fn set_now(&self, instant: SystemTime) -> Result<(), EsrError> {
        let at = from_system(instant)?;
        self.manual_clock()?.set(at);
        Ok(())
    }

    // ----- set-up -----------------------------------------------------------------------------

    /// Creates a trust (a tenant) with its access settings.
    pub fn create_trust(
        &self,
        vpd: String,
        name: String,
        options: TrustOptions,
    ) -> Result<(), EsrError> {
        let settings = esr_core::org::TrustSettings {
            automatic_internet_access: options.automatic_internet_access,
            upgrade_access: esr_core::org::UpgradeAccess {
                manager: options.upgrade_manager,
                professional: options.upgrade_professional,
            },
            ..Default::default()
        };
        self.core.create_trust(parse(&vpd)?, &name, settings)?;
        Ok(())
    }

    /// Adds an organisation unit under `parent` (needs Maintain workstructures).
    pub fn add_org_unit(
        &self,
        actor: EsrActor,
        vpd: String,
        unit: String,
        name: String,
        parent: Option<String>,
    ) -> Result<(), EsrError> {
        let parent = parent.as_deref().map(parse).transpose()?;
        Ok(self.core.add_org_unit(
            &actor.to_core()?,
            parse(&vpd)?,
            parse(&unit)?,
            &name,
            parent,
        )?)
    }

    /// Adds a person with their account (needs Maintain people); the person's username is in
    /// the answer.
    pub fn add_person(
        &self,
        actor: EsrActor,
        vpd: String,
        person: NewPerson,
    ) -> Result<PersonInfo, EsrError> {
        let new = esr_core::people::NewPerson {
            employee_number: parse(&person.employee_number)?,
            name: esr_core::people::PersonName::new(&person.given_name, &person.family_name)?,
            date_of_birth: person.date_of_birth.to_core()?,
            recruitment_email: parse(&person.recruitment_email)?,
        };
        Ok(self
            .core
            .add_person(&actor.to_core()?, parse(&vpd)?, new)?
            .into())
    }

    /// The person with this employee number (the mobile number only masked).
    pub fn person(&self, vpd: String, employee_number: String) -> Result<PersonInfo, EsrError> {
        let e: EmployeeNumber = parse(&employee_number)?;
        Ok(self.core.person(parse(&vpd)?, &e)?.into())
    }

    /// Adds an assignment (needs Maintain people).
    pub fn add_assignment(
        &self,
        actor: EsrActor,
        vpd: String,
        assignment: NewAssignment,
    ) -> Result<AssignmentInfo, EsrError> {
        let new = esr_core::people::NewAssignment {
            number: parse(&assignment.number)?,
            employee_number: parse(&assignment.employee_number)?,
            title: assignment.title,
            position: parse(&assignment.position)?,
            org_unit: parse(&assignment.org_unit)?,
            supervisor: assignment.supervisor.as_deref().map(parse).transpose()?,
        };
        Ok(self
            .core
            .add_assignment(&actor.to_core()?, parse(&vpd)?, new)?
            .into())
    }

    /// Sets a user's password (needs Reset accounts, or a system actor).
    pub fn set_password(
        &self,
        actor: EsrActor,
        username: String,
        password: String,
    ) -> Result<(), EsrError> {
        let u: Username = parse(&username)?;
        Ok(self
            .core
            .set_password(&actor.to_core()?, &u, &Password::new(password))?)
    }

    /// `set_password` off the caller's thread (hashing runs argon2id for tens of milliseconds).
    pub async fn set_password_async(
        self: Arc<Self>,
        actor: EsrActor,
        username: String,
        password: String,
    ) -> Result<(), EsrError> {
        off_thread(move || self.set_password(actor, username, password)).await
    }

    /// Approves Employee Self Service internet access for one user (needs Reset accounts).
    pub fn approve_internet_access(
        &self,
        actor: EsrActor,
        username: String,
    ) -> Result<(), EsrError> {
        let u: Username = parse(&username)?;
        Ok(self.core.approve_internet_access(&actor.to_core()?, &u)?)
    }

    /// Gives a new trust its first two (or more) user administrators.
    pub fn bootstrap_user_administrators(
        &self,
        vpd: String,
        holders: Vec<String>,
        reason: String,
    ) -> Result<(), EsrError> {
        let hs = holders
            .iter()
            .map(|h| parse(h))
            .collect::<Result<Vec<Username>, _>>()?;
        self.core
            .bootstrap_user_administrators(parse(&vpd)?, &hs, &reason)?;
        Ok(())
    }

    /// Grants a URP (the session needs Assign URPs).
    pub fn grant_urp(
        &self,
        session: Arc<EsrSession>,
        request: UrpGrantRequest,
    ) -> Result<(), EsrError> {
        let mut r = esr_core::urp::GrantRequest::new(
            parse(&request.holder)?,
            request.urp.into(),
            request.reason,
        );
        if let Some(us) = &request.org_units {
            r = r.in_org_units(us.iter().map(|u| parse(u)).collect::<Result<Vec<_>, _>>()?);
        }
        let r = r.with_verification(
            request
                .verified_by_line_manager
                .as_deref()
                .map(parse)
                .transpose()?,
            request
                .caldicott_guardian
                .as_deref()
                .map(parse)
                .transpose()?,
            request.caldicott_reference,
        )?;
        self.core.grant_urp(session.id, r)?;
        Ok(())
    }

    /// The trust's competence catalogue (national defaults overlaid with its own).
    pub fn competence_catalogue(&self, vpd: String) -> Result<Vec<CompetenceDefinition>, EsrError> {
        Ok(list(self.core.competence_catalogue(parse(&vpd)?)?))
    }

    /// Adds a local competence (`297|LOCAL|Title|`) or overrides a national one (needs Learning
    /// administration).
    pub fn define_competence(
        &self,
        actor: EsrActor,
        vpd: String,
        definition: CompetenceDefinition,
    ) -> Result<(), EsrError> {
        let def = esr_core::compliance::CompetenceDefinition {
            name: parse(&definition.name)?,
            refresher_months: definition.refresher_months,
            active: definition.active,
        };
        Ok(self
            .core
            .define_competence(&actor.to_core()?, parse(&vpd)?, def)?)
    }

    /// Requires a competence of a position, an organisation unit or a job; `min_level`
    /// (`1 - Assessed`) is the least level that satisfies it (a record below it is Red).
    #[uniffi::method(default(min_level = None))]
    pub fn set_requirement(
        &self,
        actor: EsrActor,
        vpd: String,
        competence: String,
        target: RequirementTarget,
        essential: bool,
        min_level: Option<String>,
    ) -> Result<(), EsrError> {
        let r = esr_core::compliance::Requirement {
            vpd: parse(&vpd)?,
            target: target.to_core()?,
            competence: parse(&competence)?,
            essential,
            min_level: min_level.as_deref().map(parse).transpose()?,
        };
        Ok(self.core.set_requirement(&actor.to_core()?, r)?)
    }

    /// Records that a person holds a competence.
    pub fn record_competence(
        &self,
        actor: EsrActor,
        vpd: String,
        employee_number: String,
        record: NewCompetenceRecord,
    ) -> Result<CompetenceRecord, EsrError> {
        let e: EmployeeNumber = parse(&employee_number)?;
        let record = record.to_core()?;
        Ok(self
            .core
            .record_competence(&actor.to_core()?, parse(&vpd)?, &e, record)?
            .into())
    }

    /// Imports an ESR competence export (CSV with `Employee Number`, `Competency Name`,
    /// `Expiry Date` as `30-Nov-2028`, and optionally `VPD`, `Achieved Date`, `Competence
    /// Level`; needs Learning administration). With any bad row nothing is imported and it
    /// fails with `ImportRejected` listing the rows, unless `skip_bad_rows`; a file without the
    /// columns fails with `BulkInput`. Prefer `import_competences_async` from a user interface.
    pub fn import_competences(
        &self,
        actor: EsrActor,
        vpd: String,
        csv: Vec<u8>,
        skip_bad_rows: bool,
    ) -> Result<ImportSummary, EsrError> {
        let options = esr_core::compliance::ImportOptions { skip_bad_rows };
        Ok(self
            .core
            .import_competences(&actor.to_core()?, parse(&vpd)?, csv.as_slice(), options)?
            .into())
    }

    /// `import_competences` off the caller's thread.
    pub async fn import_competences_async(
        self: Arc<Self>,
        actor: EsrActor,
        vpd: String,
        csv: Vec<u8>,
        skip_bad_rows: bool,
    ) -> Result<ImportSummary, EsrError> {
        off_thread(move || self.import_competences(actor, vpd, csv, skip_bad_rows)).await
    }

    /// Defines a certification, or redefines one of the same name (needs Learning
    /// administration).
    pub fn define_certification(
        &self,
        actor: EsrActor,
        vpd: String,
        certification: CertificationDefinition,
    ) -> Result<(), EsrError> {
        let cert = certification.to_core(parse(&vpd)?)?;
        Ok(self.core.define_certification(&actor.to_core()?, cert)?)
    }

    // ----- log-in sessions --------------------------------------------------------------------

    /// Logs in over the internet with username and password (the access level is Standard
    /// until the session is upgraded).
    pub fn log_in_with_password(
        &self,
        username: String,
        password: String,
    ) -> Result<Arc<EsrSession>, EsrError> {
        let s = self
            .core
            .log_in_with_password(&username, &Password::new(password))?;
        Ok(EsrSession::of(&s))
    }

    /// `log_in_with_password` off the caller's thread (the password check runs argon2id for
    /// tens of milliseconds): `try await service.logInWithPasswordAsync(…)` from the main actor.
    pub async fn log_in_with_password_async(
        self: Arc<Self>,
        username: String,
        password: String,
    ) -> Result<Arc<EsrSession>, EsrError> {
        off_thread(move || self.log_in_with_password(username, password)).await
    }

    /// Opens an HSCN session for a user whose smartcard `card_id` the app has verified.
    pub fn log_in_with_smartcard(
        &self,
        username: String,
        card_id: String,
    ) -> Result<Arc<EsrSession>, EsrError> {
        let u: Username = parse(&username)?;
        let card = esr_core::access::SmartcardAuthentication::verified_by_caller(&card_id)?;
        let s = self.core.log_in_with_smartcard(&u, &card)?;
        Ok(EsrSession::of(&s))
    }

    /// The session as it is now: access level, expiry, seconds left. Fails with
    /// `SessionExpired` once it is logged out or expired.
    pub fn session_info(&self, session: Arc<EsrSession>) -> Result<SessionInfo, EsrError> {
        let s = self.core.session(session.id)?;
        Ok(SessionInfo::of(&s, self.now_utc()))
    }

    /// Ends the session.
    pub fn log_out(&self, session: Arc<EsrSession>) -> Result<(), EsrError> {
        Ok(self.core.log_out(session.id)?)
    }

    /// A user's live sessions, oldest first, as the user sees them (never a bearer id): for
    /// the user, from one of their own sessions, or for an actor with Reset accounts.
    pub fn sessions_of(
        &self,
        actor: EsrActor,
        username: String,
    ) -> Result<Vec<SessionSummary>, EsrError> {
        let u: Username = parse(&username)?;
        Ok(self
            .core
            .sessions_of(&actor.to_core()?, &u)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Ends one of the user's sessions, by its `reference` from `sessions_of`.
    pub fn end_session(
        &self,
        actor: EsrActor,
        username: String,
        reference: String,
    ) -> Result<(), EsrError> {
        let u: Username = parse(&username)?;
        let r: esr_core::values::SessionRef = parse(&reference)?;
        Ok(self.core.end_session(&actor.to_core()?, &u, r)?)
    }

    /// Ends every session of the user but `except_reference` (the asking one, for "log out of
    /// my other sessions"); returns how many ended.
    pub fn end_all_sessions(
        &self,
        actor: EsrActor,
        username: String,
        except_reference: Option<String>,
    ) -> Result<u32, EsrError> {
        let u: Username = parse(&username)?;
        let keep = except_reference
            .map(|r| parse::<esr_core::values::SessionRef>(&r))
            .transpose()?;
        Ok(self.core.end_all_sessions(&actor.to_core()?, &u, keep)?)
    }

    /// Changes the user's own password in `session`; every other session of theirs ends.
    pub fn change_password(
        &self,
        session: Arc<EsrSession>,
        current: String,
        new_password: String,
    ) -> Result<(), EsrError> {
        Ok(self.core.change_password(
            session.id,
            &Password::new(current),
            &Password::new(new_password),
        )?)
    }

    /// Every function the session may use now (`.myCompliance`, …); `function_name` gives the
    /// name ESR shows.
    pub fn functions(&self, session: Arc<EsrSession>) -> Result<Vec<Function>, EsrError> {
        self.core
            .functions(session.id)?
            .into_iter()
            .map(Function::try_from)
            .collect()
    }

    /// Whether the session may use `function` (`.teamCompliance`), and if not why.
    pub fn decide(
        &self,
        session: Arc<EsrSession>,
        function: Function,
    ) -> Result<AccessDecision, EsrError> {
        let d = self.core.decide(session.id, function.into())?;
        Ok(AccessDecision {
            function,
            allowed: d.is_allowed(),
            reason: match d {
                esr_core::access::AccessDecision::Denied(why) => Some(why.to_string()),
                esr_core::access::AccessDecision::Allowed => None,
            },
        })
    }

    /// Fails with the reason (`NotPermitted`) unless the session could be upgraded now.
    pub fn check_upgrade(&self, session: Arc<EsrSession>) -> Result<(), EsrError> {
        Ok(self.core.check_upgrade(session.id)?)
    }

    // ----- passcodes --------------------------------------------------------------------------

    /// Texts a code to `mobile` to register (or change) the user's number; from a smartcard
    /// session only. Verify it with `verify_passcode`.
    pub fn request_mobile_code(
        &self,
        session: Arc<EsrSession>,
        mobile: String,
    ) -> Result<PasscodeChallenge, EsrError> {
        let c = self.core.request_mobile_code(session.id, &mobile)?;
        Ok(self.challenge(c))
    }

    /// Texts a code to the user's registered number to upgrade this internet session.
    pub fn request_upgrade_code(
        &self,
        session: Arc<EsrSession>,
    ) -> Result<PasscodeChallenge, EsrError> {
        let c = self.core.request_upgrade_code(session.id)?;
        Ok(self.challenge(c))
    }

    /// "Code not received": texts a new code for the same purpose; the old one is superseded.
    pub fn resend_passcode(
        &self,
        session: Arc<EsrSession>,
        challenge: PasscodeChallenge,
    ) -> Result<PasscodeChallenge, EsrError> {
        let id = parse(&challenge.id)?;
        let c = self.core.resend_passcode(session.id, &id)?;
        Ok(self.challenge(c))
    }

    /// A code's state now: status, seconds left, attempts left.
    pub fn passcode_status(
        &self,
        session: Arc<EsrSession>,
        challenge: PasscodeChallenge,
    ) -> Result<PasscodeChallenge, EsrError> {
        let id = parse(&challenge.id)?;
        let c = self.core.passcode_status(session.id, &id)?;
        Ok(self.challenge(c))
    }

    /// Verifies a code the user typed for `challenge`. On approval its purpose is carried out
    /// (the number registered, or the session upgraded). A code of the wrong shape fails with
    /// `InvalidInput` and costs no attempt.
    pub fn verify_passcode(
        &self,
        session: Arc<EsrSession>,
        challenge: PasscodeChallenge,
        code: String,
    ) -> Result<VerifyResult, EsrError> {
        let id = parse(&challenge.id)?;
        let o = self
            .core
            .verify_passcode(session.id, &id, challenge.purpose.into(), &code)?;
        Ok(VerifyResult::of(o, self.now_utc()))
    }

    /// Clears a step-up lock (needs Reset accounts).
    pub fn clear_step_up_lock(
        &self,
        actor: EsrActor,
        username: String,
        reason: String,
    ) -> Result<(), EsrError> {
        let u: Username = parse(&username)?;
        self.core
            .clear_step_up_lock(&actor.to_core()?, &u, &reason)?;
        Ok(())
    }

    // ----- account recovery -------------------------------------------------------------------

    /// "Forgotten username": e-mails the username and a password-reset link if the details
    /// match. The answer (the sentence to show) is the same whether or not anything matched.
    pub fn request_username_reminder(
        &self,
        vpd: String,
        email: String,
        date_of_birth: CalendarDate,
    ) -> Result<String, EsrError> {
        let r =
            self.core
                .request_username_reminder(parse(&vpd)?, &email, date_of_birth.to_core()?)?;
        Ok(r.message().to_owned())
    }

    /// "Unlock account": e-mails a link that unlocks a locked account; otherwise as
    /// `request_username_reminder`.
    pub fn request_unlock_link(
        &self,
        vpd: String,
        email: String,
        date_of_birth: CalendarDate,
    ) -> Result<String, EsrError> {
        let r = self
            .core
            .request_unlock_link(parse(&vpd)?, &email, date_of_birth.to_core()?)?;
        Ok(r.message().to_owned())
    }

    /// Sets a new password with a reset link's token (once, within 4 hours); returns the
    /// username.
    pub fn reset_password_with_link(
        &self,
        token: String,
        password: String,
    ) -> Result<String, EsrError> {
        Ok(self
            .core
            .reset_password_with_link(&token, &Password::new(password))?
            .to_string())
    }

    /// `reset_password_with_link` off the caller's thread (hashing runs argon2id).
    pub async fn reset_password_with_link_async(
        self: Arc<Self>,
        token: String,
        password: String,
    ) -> Result<String, EsrError> {
        off_thread(move || self.reset_password_with_link(token, password)).await
    }

    /// Unlocks an account with an unlock link's token; returns the username.
    pub fn unlock_with_link(&self, token: String) -> Result<String, EsrError> {
        Ok(self.core.unlock_with_link(&token)?.to_string())
    }

    // ----- compliance views -------------------------------------------------------------------

    /// My Compliance: the session's user's rows and percentages (as of a day; `None`: today).
    pub fn my_compliance(
        &self,
        session: Arc<EsrSession>,
        as_of: Option<CalendarDate>,
    ) -> Result<PersonCompliance, EsrError> {
        Ok(self
            .core
            .my_compliance(session.id, date_opt(as_of)?)?
            .into())
    }

    /// Team Compliance: the manager's team and each member's compliance.
    pub fn team_compliance(
        &self,
        session: Arc<EsrSession>,
        as_of: Option<CalendarDate>,
    ) -> Result<TeamCompliance, EsrError> {
        Ok(self
            .core
            .team_compliance(session.id, date_opt(as_of)?)?
            .into())
    }

    /// My e-Learning: the session's user's latest enrolments, newest first; `mandatory_only`
    /// keeps mandatory learning only.
    pub fn my_elearning(
        &self,
        session: Arc<EsrSession>,
        mandatory_only: bool,
    ) -> Result<Vec<Enrolment>, EsrError> {
        Ok(list(self.core.my_elearning(session.id, mandatory_only)?))
    }

    // ----- certifications ---------------------------------------------------------------------

    /// Find Learning: the trust's certifications that award `competence`.
    pub fn certifications_for(
        &self,
        vpd: String,
        competence: String,
    ) -> Result<Vec<CertificationDefinition>, EsrError> {
        let c = parse(&competence)?;
        Ok(list(self.core.certifications_for(parse(&vpd)?, &c)?))
    }

    /// Subscribes a learner (themselves with My e-Learning, anyone else with Learning
    /// administration); the answer has the status for today.
    pub fn subscribe(
        &self,
        actor: EsrActor,
        vpd: String,
        employee_number: String,
        certification: String,
    ) -> Result<LearningSubscription, EsrError> {
        let actor = actor.to_core()?;
        let vpd: VpdCode = parse(&vpd)?;
        let e: EmployeeNumber = parse(&employee_number)?;
        let s = self.core.subscribe(&actor, vpd, &e, &certification)?;
        self.core
            .subscriptions(&actor, vpd, &e)?
            .into_iter()
            .find(|v| v.subscription.certification == s.certification)
            .map(Into::into)
            .ok_or_else(|| EsrError::Internal {
                message: format!(
                    "the subscription to {:?} was made but could not be read back; read it with subscriptions()",
                    s.certification
                ),
            })
    }

    /// Unsubscribes: the subscription is cancelled (competences already awarded stay).
    pub fn unsubscribe(
        &self,
        actor: EsrActor,
        vpd: String,
        employee_number: String,
        certification: String,
    ) -> Result<(), EsrError> {
        let e: EmployeeNumber = parse(&employee_number)?;
        self.core
            .unsubscribe(&actor.to_core()?, parse(&vpd)?, &e, &certification)?;
        Ok(())
    }

    /// A learner's subscriptions with their status today and the current cycle's enrolments.
    pub fn subscriptions(
        &self,
        actor: EsrActor,
        vpd: String,
        employee_number: String,
    ) -> Result<Vec<LearningSubscription>, EsrError> {
        let e: EmployeeNumber = parse(&employee_number)?;
        Ok(list(self.core.subscriptions(
            &actor.to_core()?,
            parse(&vpd)?,
            &e,
        )?))
    }

    /// Enrols in a class of a component of a subscribed certification.
    pub fn enrol(
        &self,
        actor: EsrActor,
        vpd: String,
        employee_number: String,
        certification: String,
        course: String,
        class_name: String,
    ) -> Result<Enrolment, EsrError> {
        let e: EmployeeNumber = parse(&employee_number)?;
        Ok(self
            .core
            .enrol(
                &actor.to_core()?,
                parse(&vpd)?,
                &e,
                &certification,
                &course,
                &class_name,
            )?
            .into())
    }

    /// Plays an enrolled component (saves progress, completes a course, passes or fails an
    /// eAssessment); when the completion rule is met the competence is recorded at once and is
    /// in `awarded`, and compliance turns Green.
    pub fn play(
        &self,
        actor: EsrActor,
        vpd: String,
        employee_number: String,
        certification: String,
        course: String,
        result: PlayResult,
    ) -> Result<PlayOutcome, EsrError> {
        let e: EmployeeNumber = parse(&employee_number)?;
        Ok(self
            .core
            .play(
                &actor.to_core()?,
                parse(&vpd)?,
                &e,
                &certification,
                &course,
                result.into(),
            )?
            .into())
    }
}

/// The names of every ESR function as ESR shows them (`all_functions` gives the cases).
#[uniffi::export]
pub fn function_names() -> Vec<String> {
    esr_core::urp::Function::ALL
        .iter()
        .map(|f| f.name().to_owned())
        .collect()
}

/// The names of every URP as ESR shows them (`all_urps` gives the cases).
#[uniffi::export]
pub fn urp_names() -> Vec<String> {
    esr_core::urp::Urp::ALL
        .iter()
        .map(|u| u.name().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::function_named;
    use std::time::Duration;

    fn service() -> Arc<EsrService> {
        EsrService::for_testing(
            (0u8..32).collect(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_338_000),
            None,
            None,
            None,
        )
        .unwrap()
    }

    #[test]
    fn settings_reach_the_core_and_are_checked() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_338_000);
        let settings = ServiceSettings {
            internet_idle_timeout_seconds: Some(600),
            passcode_max_failures: Some(7),
            ..ServiceSettings::default()
        };
        let config = settings.apply(Config::default()).unwrap();
        assert_eq!(config.internet_idle_timeout, TimeDelta::minutes(10));
        assert_eq!(config.passcodes.max_failures, 7);
        let too_long = ServiceSettings {
            internet_idle_timeout_seconds: Some(3600),
            ..ServiceSettings::default()
        };
        let e = EsrService::for_testing((0u8..32).collect(), start, None, None, Some(too_long))
            .unwrap_err();
        assert!(e.message().contains("internet_idle_timeout"), "{e:?}");
    }

    #[test]
    fn a_short_passcode_key_is_refused() {
        let e = EsrService::new(vec![1; 8], None, None, None).unwrap_err();
        assert!(matches!(e, EsrError::InvalidInput { .. }), "{e:?}");
        assert!(!e.message().contains("\u{1}"));
    }

    #[test]
    fn the_test_clock_moves_and_the_system_clock_does_not() {
        let s = service();
        let t0 = s.now();
        s.advance_clock(600).unwrap();
        assert_eq!(s.now(), t0 + Duration::from_secs(600));
        assert!(matches!(
            s.advance_clock(i64::MAX),
            Err(EsrError::InvalidInput { .. })
        ));
        assert_eq!(s.now(), t0 + Duration::from_secs(600));
        s.set_now(t0).unwrap();
        assert_eq!(s.now(), t0);
        let real = EsrService::new((0u8..32).collect(), None, None, None).unwrap();
        assert!(matches!(
            real.advance_clock(1),
            Err(EsrError::InvalidInput { .. })
        ));
    }

    #[test]
    fn a_session_the_service_never_issued_is_refused() {
        let s = service();
        let session = Arc::new(EsrSession {
            id: "0123456789abcdef0123456789abcdef"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
            username: "297ECONROY01".parse().unwrap(),
        });
        let e = function_named("Flying".into()).unwrap_err();
        assert!(
            e.message().contains("the valid names are: View own record"),
            "{e}"
        );
        // A real function with a session the service never issued: log in again.
        let e = s
            .decide(session.clone(), Function::MyCompliance)
            .unwrap_err();
        assert!(matches!(e, EsrError::SessionExpired { .. }), "{e:?}");
        assert!(!session.to_string().contains("0123456789abcdef"));
        assert!(function_names().contains(&"Team Compliance".to_owned()));
        assert!(urp_names().contains(&"Employee Self Service".to_owned()));
    }

    #[test]
    fn a_sqlite_service_keeps_its_trusts_and_says_where() {
        let dir = std::env::temp_dir().join(format!("esr-ffi-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("esr.sqlite").display().to_string();
        let _ = std::fs::remove_file(&path);
        let open =
            || EsrService::open_sqlite(path.clone(), (0u8..32).collect(), None, None).unwrap();
        open()
            .create_trust("297".into(), "Northfield".into(), TrustOptions::default())
            .unwrap();
        let again = open();
        assert!(format!("{again:?}").contains("SQLite file"));
        let e = again
            .create_trust("297".into(), "Northfield".into(), TrustOptions::default())
            .unwrap_err();
        assert!(matches!(e, EsrError::Conflict { .. }), "{e:?}");
        let e = EsrService::open_sqlite(
            dir.join("no/such/dir/esr.sqlite").display().to_string(),
            (0u8..32).collect(),
            None,
            None,
        )
        .unwrap_err();
        assert!(matches!(e, EsrError::Storage { .. }), "{e:?}");
        for bad in [" ".to_owned(), "x".repeat(5000), "a\0b".to_owned()] {
            let e = EsrService::open_sqlite(bad, (0u8..32).collect(), None, None).unwrap_err();
            assert!(matches!(e, EsrError::InvalidInput { .. }), "{e:?}");
            assert!(e.message().len() < 300, "{e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_system_actor_needs_a_name() {
        let a = EsrActor::System {
            process: String::new(),
        };
        assert!(matches!(a.to_core(), Err(EsrError::InvalidInput { .. })));
    }
}
