//! `esr.Esr`: the whole service from Python, over the in-memory store and a system or manual
//! clock. Every call that does real work releases the interpreter while the core runs, so the
//! service is safe and useful from several Python threads.

use crate::csv_source::CsvSource;
use crate::delivery::{ManualClock, Sender};
use crate::errors::{InvalidInputError, text_of, to_py, wrong_type};
use crate::learning::{
    Certification, CompletionRule, Component, Enrolment, LearningOutcome, PlayOutcome, PlayResult,
    Renewal, Subscription, SubscriptionView, level_or_default,
};
use crate::types::{
    AccessDecision, Account, Assignment, AuditEntry, AuditHead, Channel, CompetenceDefinition,
    CompetenceRecord, ComplianceReport, ComplianceSettings, ImportSummary, PasscodeChallenge,
    Person, PersonCompliance, PersonRecord, Purpose, RecordAccess, Requirement, TeamCompliance,
    TeamMember, Trust, TrustSettings, UrpGrant, UrpReportRow, parse,
};
use esr_core::chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use esr_core::values::ClockChoice;
use esr_core::{
    Actor, ChallengeId, Clock, Config, EmployeeNumber, InMemoryStore, OrgUnitId, SessionId,
    Username, VpdCode, compliance::CompetenceLevel, compliance::CompetenceName,
    compliance::RecordExpiry, compliance::RequirementTarget, passcode::PasscodeKey,
    passcode::PasscodeKeys, people::Password, urp::Function, urp::Urp,
};
use pyo3::prelude::*;
use pyo3::types::PyString;
use std::sync::Arc;

type Core = esr_core::Esr<InMemoryStore, ClockChoice>;

/// A logged-in session. Its identifier acts as the user, so it is never printed: use
/// expose_id() only to keep it server-side (a cookie), and Esr.resume_session(id) to get the
/// session back.
#[pyclass(frozen, module = "esr._esr")]
#[derive(Clone)]
pub(crate) struct Session {
    id: SessionId,
    inner: esr_core::access::Session,
}

impl From<esr_core::access::Session> for Session {
    fn from(s: esr_core::access::Session) -> Self {
        Self { id: s.id, inner: s }
    }
}

#[pymethods]
impl Session {
    /// The user's username.
    #[getter]
    fn username(&self) -> String {
        self.inner.username.to_string()
    }
    /// The trust's VPD code.
    #[getter]
    fn vpd(&self) -> String {
        self.inner.vpd.to_string()
    }
    /// How the user reached ESR.
    #[getter]
    fn channel(&self) -> Channel {
        self.inner.channel.into()
    }
    /// When the user logged in.
    #[getter]
    fn started_at(&self) -> DateTime<Utc> {
        self.inner.started_at
    }
    /// When the session stops working.
    #[getter]
    fn expires_at(&self) -> DateTime<Utc> {
        self.inner.expires_at
    }
    /// Whether the session was upgraded with a second factor (as of when this object was made).
    #[getter]
    fn upgraded(&self) -> bool {
        self.inner.is_upgraded()
    }
    /// When it was upgraded, if it was.
    #[getter]
    fn upgraded_at(&self) -> Option<DateTime<Utc>> {
        self.inner.upgrade.as_ref().map(|u| u.at)
    }
    /// When it ended, if it has.
    #[getter]
    fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.inner.ended.as_ref().map(|e| e.at)
    }
    /// Why it ended, if it has.
    #[getter]
    fn end_reason(&self) -> Option<String> {
        self.inner.ended.as_ref().map(|e| e.reason.to_string())
    }
    /// The one-way reference the audit trail uses for this session (not a secret).
    #[getter]
    fn audit_ref(&self) -> String {
        self.inner.audit_ref().to_string()
    }
    /// The session's identifier (32 hex digits). Whoever holds it acts as the user: keep it
    /// server-side and never log it. A session read back from the store (live_sessions) has
    /// no identifier: only its holder knows it, and the store keeps a hash.
    fn expose_id(&self) -> PyResult<String> {
        if self.id == SessionId::UNKNOWN {
            return Err(InvalidInputError::new_err(
                "this session was read back from the store, which keeps only a hash of its \
                 identifier: only the session's holder has it; use the Session that log-in \
                 returned",
            ));
        }
        Ok(self.id.to_string())
    }
    // Equality and hashing go by the store's key (a hash of the identifier), which sessions
    // read back from the store have too, so `live_sessions(u) == [session]` means the same
    // sessions.
    fn __eq__(&self, other: &Self) -> bool {
        self.inner.key == other.inner.key
    }
    fn __hash__(&self) -> u64 {
        u64::from_le_bytes(*self.inner.audit_ref().as_bytes())
    }
    fn __repr__(&self) -> String {
        format!(
            "Session(username='{}', channel=Channel.{}, upgraded={}, ended={}, audit_ref='{}')",
            self.inner.username,
            match self.inner.channel {
                esr_core::access::Channel::Hscn => "HSCN",
                esr_core::access::Channel::Internet => "INTERNET",
            },
            if self.inner.is_upgraded() {
                "True"
            } else {
                "False"
            },
            if self.inner.ended.is_some() {
                "True"
            } else {
                "False"
            },
            self.inner.audit_ref()
        )
    }
}

/// A live session as its user sees it: never its bearer id, only its reference.
#[pyclass(frozen, get_all, module = "esr._esr")]
pub(crate) struct SessionSummary {
    /// The one-way reference (as in the audit trail), for end_session.
    reference: String,
    /// "HSCN" or "internet".
    channel: String,
    /// When the user logged in.
    started_at: DateTime<Utc>,
    /// When it was last used (to the minute).
    last_active_at: DateTime<Utc>,
    /// When it stops working if not used again.
    idle_expires_at: DateTime<Utc>,
    /// When it stops working in any case.
    expires_at: DateTime<Utc>,
    /// Whether it is upgraded.
    upgraded: bool,
    /// Whether it is the session that asked.
    current: bool,
}

impl From<esr_core::access::SessionSummary> for SessionSummary {
    fn from(s: esr_core::access::SessionSummary) -> Self {
        Self {
            reference: s.reference.to_string(),
            channel: s.channel.to_string(),
            started_at: s.started_at,
            last_active_at: s.last_active_at,
            idle_expires_at: s.idle_expires_at,
            expires_at: s.expires_at,
            upgraded: s.upgraded,
            current: s.current,
        }
    }
}

#[pymethods]
impl SessionSummary {
    fn __repr__(&self) -> String {
        format!(
            "SessionSummary(reference='{}', channel='{}', started_at={}, current={})",
            self.reference,
            self.channel,
            self.started_at.to_rfc3339(),
            if self.current { "True" } else { "False" }
        )
    }
}

/// What verifying a code came to. True when the code was accepted.
#[pyclass(frozen, get_all, module = "esr._esr")]
pub(crate) struct VerifyOutcome {
    /// "approved", "wrong code", "expired", "already used", "superseded",
    /// "max attempts reached", "locked" or "unknown challenge".
    outcome: &'static str,
    /// Whether the code was accepted and its purpose carried out.
    approved: bool,
    /// After a wrong code: guesses left on this challenge.
    attempts_left: Option<u32>,
    /// After an upgrade: the upgraded session.
    session: Option<Session>,
    /// After registering a number: the masked number.
    mobile_masked: Option<String>,
    /// After registering a number: whether it replaced another.
    mobile_changed: bool,
}

impl From<esr_core::passcode::VerifyOutcome> for VerifyOutcome {
    fn from(o: esr_core::passcode::VerifyOutcome) -> Self {
        let flat = o.flatten();
        Self {
            outcome: flat.status.as_str(),
            approved: flat.is_approved(),
            attempts_left: flat.attempts_left,
            session: flat.session.map(Into::into),
            mobile_masked: flat.masked_mobile,
            mobile_changed: flat.mobile_changed,
        }
    }
}

#[pymethods]
impl VerifyOutcome {
    fn __bool__(&self) -> bool {
        self.approved
    }
    fn __repr__(&self) -> String {
        let mut s = format!("VerifyOutcome(outcome='{}'", self.outcome);
        if let Some(n) = self.attempts_left {
            s.push_str(&format!(", attempts_left={n}"));
        }
        if let Some(sess) = &self.session {
            s.push_str(&format!(", session={}", sess.__repr__()));
        }
        if let Some(m) = &self.mobile_masked {
            s.push_str(&format!(
                ", mobile_masked='{m}', mobile_changed={}",
                if self.mobile_changed { "True" } else { "False" }
            ));
        }
        s.push(')');
        s
    }
}

/// Who is acting: a Session, or the name of a process of the embedding system.
fn actor_of(value: &Bound<'_, PyAny>) -> PyResult<Actor> {
    if let Ok(s) = value.cast::<Session>() {
        return Ok(Actor::Session(s.get().id));
    }
    if let Ok(name) = value.cast::<PyString>() {
        return Actor::system(text_of(name, "actor")?).map_err(to_py);
    }
    Err(wrong_type(
        "actor",
        "a Session, or the name of a system process as a str",
        value,
    ))
}

/// A function by its name ("Team Compliance").
fn function_of(name: &str) -> PyResult<Function> {
    name.parse().map_err(to_py)
}

/// A challenge id and purpose from a PasscodeChallenge, or an id string and a purpose.
fn challenge_of(
    value: &Bound<'_, PyAny>,
    purpose: Option<Purpose>,
) -> PyResult<(ChallengeId, Option<esr_core::passcode::Purpose>)> {
    if let Ok(c) = value.cast::<PasscodeChallenge>() {
        let c = c.get();
        let p = purpose.unwrap_or(c.purpose);
        return Ok((c.key, Some(p.into())));
    }
    let id = value
        .cast::<PyString>()
        .map_err(|_| wrong_type("challenge", "a PasscodeChallenge or its id as a str", value))?;
    Ok((parse(text_of(id, "challenge")?)?, purpose.map(Into::into)))
}

fn target_of(
    position: Option<&str>,
    org_unit: Option<&str>,
    job: Option<&str>,
) -> PyResult<RequirementTarget> {
    match (position, org_unit, job) {
        (Some(p), None, None) => Ok(RequirementTarget::Position(parse(p)?)),
        (None, Some(u), None) => Ok(RequirementTarget::OrgUnit(parse(u)?)),
        (None, None, Some(j)) => Ok(RequirementTarget::Job(j.trim().to_owned())),
        _ => Err(InvalidInputError::new_err(
            "invalid requirement target: give exactly one of position, org_unit or job",
        )),
    }
}

fn key_of(id: &str, secret: &[u8]) -> PyResult<PasscodeKey> {
    PasscodeKey::new(id, secret).map_err(to_py)
}

/// What is needed to record a competence. `expiry`: a date, "refresher" (the default) or
/// "never"; `level` as ESR prints it (default the catalogue's).
fn new_competence_record(
    competence: &str,
    achieved: NaiveDate,
    expiry: Option<&Bound<'_, PyAny>>,
    level: Option<&str>,
) -> PyResult<esr_core::compliance::NewCompetenceRecord> {
    let expiry = match expiry {
        None => RecordExpiry::Refresher,
        Some(v) => match v.extract::<String>() {
            Ok(s) if s == "refresher" => RecordExpiry::Refresher,
            Ok(s) if s == "never" => RecordExpiry::Never,
            Ok(_) => {
                return Err(InvalidInputError::new_err(
                    "invalid expiry: give a datetime.date, \"refresher\" or \"never\"",
                ));
            }
            Err(_) => RecordExpiry::On(v.extract::<NaiveDate>().map_err(|_| {
                InvalidInputError::new_err(
                    "invalid expiry: give a datetime.date, \"refresher\" or \"never\"",
                )
            })?),
        },
    };
    Ok(esr_core::compliance::NewCompetenceRecord {
        competence: parse(competence)?,
        achieved,
        expiry,
        level: level
            .map(parse::<CompetenceLevel>)
            .transpose()?
            .unwrap_or_default(),
    })
}

fn list<T, U: From<T>>(v: Vec<T>) -> Vec<U> {
    v.into_iter().map(Into::into).collect()
}

/// The ESR service: trusts, people, accounts, URPs, sessions and access decisions, passcodes,
/// account recovery, compliance, certifications and enrolment, and the audit trail, in memory.
#[pyclass(frozen, module = "esr._esr")]
pub(crate) struct Esr {
    core: Arc<Core>,
}

impl Esr {
    /// Runs `f` on the core with the interpreter released.
    fn run<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Core) -> esr_core::Result<T> + Send,
    ) -> PyResult<T> {
        let core = &*self.core;
        py.detach(|| f(core)).map_err(to_py)
    }

    /// One step of an account's life (unlock, suspend, reinstate, end): the actor and username
    /// converted, the core's `step` run with the interpreter released.
    fn account_step(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        username: &str,
        reason: &str,
        step: fn(&Core, &Actor, &Username, &str) -> esr_core::Result<esr_core::people::Account>,
    ) -> PyResult<Account> {
        let actor = actor_of(actor)?;
        let u: Username = parse(username)?;
        self.run(py, |c| step(c, &actor, &u, reason))
            .map(Into::into)
    }

    fn now(&self) -> DateTime<Utc> {
        self.core.clock().now()
    }
}

#[pymethods]
impl Esr {
    /// A service in memory. `clock`: a ManualClock for tests (default: the system clock).
    /// `sms_sender`, `email_sender`: an Outbox or a callable taking an SmsMessage or
    /// EmailMessage (an exception it raises becomes a DeliveryError whose `__cause__` it is:
    /// its text, which may quote the number or the code, is not copied into the message).
    /// `passcode_key`: the server key (32 bytes or more, not one repeated byte) codes are bound
    /// with; every process over one store needs the same. Without it, issuing a code or link
    /// raises PasscodeError, unless `ephemeral_passcode_key` (tests and demos only: a random
    /// key that dies with the process).
    /// `internet_idle_timeout`, `hscn_idle_timeout`, `session_lifetime`: session limits
    /// (default 30 minutes, 30 minutes, 12 hours). `recovery_answer_time`: the least time a
    /// recovery request takes (default 150 ms). The `passcode_*` arguments set the passcode
    /// policy (defaults: 6 digits, 5 attempts per code, 20 failures in 24 hours, 5 sends in
    /// 10 minutes, 30 seconds between sends).
    /// `fast_password_hashing`: the cheapest Argon2id cost, for tests only.
    #[new]
    #[pyo3(signature = (*, clock=None, sms_sender=None, email_sender=None, passcode_key=None,
                        passcode_key_id="key-1", ephemeral_passcode_key=false,
                        max_failed_logins=5, session_lifetime=None, internet_idle_timeout=None,
                        hscn_idle_timeout=None, recovery_answer_time=None, passcode_digits=None,
                        passcode_max_attempts=None, passcode_max_failures=None,
                        passcode_failure_window=None, passcode_max_sends=None,
                        passcode_send_window=None, passcode_min_resend_interval=None,
                        fast_password_hashing=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        clock: Option<&Bound<'_, ManualClock>>,
        sms_sender: Option<&Bound<'_, PyAny>>,
        email_sender: Option<&Bound<'_, PyAny>>,
        passcode_key: Option<Vec<u8>>,
        passcode_key_id: &str,
        ephemeral_passcode_key: bool,
        max_failed_logins: u32,
        session_lifetime: Option<TimeDelta>,
        internet_idle_timeout: Option<TimeDelta>,
        hscn_idle_timeout: Option<TimeDelta>,
        recovery_answer_time: Option<TimeDelta>,
        passcode_digits: Option<u8>,
        passcode_max_attempts: Option<u32>,
        passcode_max_failures: Option<u32>,
        passcode_failure_window: Option<TimeDelta>,
        passcode_max_sends: Option<u32>,
        passcode_send_window: Option<TimeDelta>,
        passcode_min_resend_interval: Option<TimeDelta>,
        fast_password_hashing: bool,
    ) -> PyResult<Self> {
        let clock = ClockChoice::from(clock.map(|c| c.get().0.clone()));
        let mut config = Config {
            max_failed_logins,
            ..Config::default()
        };
        if let Some(l) = session_lifetime {
            config.session_lifetime = l;
        }
        if let Some(t) = internet_idle_timeout {
            config.internet_idle_timeout = t;
        }
        if let Some(t) = hscn_idle_timeout {
            config.hscn_idle_timeout = t;
        }
        if let Some(t) = recovery_answer_time {
            // A negative time reads as too long, which the core refuses with the range.
            config.recovery_answer_time = t.to_std().unwrap_or(std::time::Duration::MAX);
        }
        let p = &mut config.passcodes;
        if let Some(v) = passcode_digits {
            p.digits = v;
        }
        if let Some(v) = passcode_max_attempts {
            p.max_attempts = v;
        }
        if let Some(v) = passcode_max_failures {
            p.max_failures = v;
        }
        if let Some(v) = passcode_failure_window {
            p.failure_window = v;
        }
        if let Some(v) = passcode_max_sends {
            p.max_sends = v;
        }
        if let Some(v) = passcode_send_window {
            p.send_window = v;
        }
        if let Some(v) = passcode_min_resend_interval {
            p.min_resend_interval = v;
        }
        if fast_password_hashing {
            config.password_hashing = esr_core::people::PasswordHashing::insecure_fast_for_tests();
        }
        let mut core = esr_core::Esr::new(InMemoryStore::new(), clock)
            .with_config(config)
            .map_err(to_py)?;
        if let Some(secret) = passcode_key {
            core = core.with_passcode_keys(PasscodeKeys::new(key_of(passcode_key_id, &secret)?));
        } else if ephemeral_passcode_key {
            core = core.with_ephemeral_passcode_key().map_err(to_py)?;
        }
        if let Some(s) = sms_sender {
            core = match Sender::from_py(s, "sms_sender")? {
                Sender::Outbox(o) => core.with_sms_sender(o),
                Sender::Callable(c) => core.with_sms_sender(c),
            };
        }
        if let Some(s) = email_sender {
            core = match Sender::from_py(s, "email_sender")? {
                Sender::Outbox(o) => core.with_email_sender(o),
                Sender::Callable(c) => core.with_email_sender(c),
            };
        }
        Ok(Self {
            core: Arc::new(core),
        })
    }

    /// The service clock's instant.
    #[pyo3(name = "now")]
    fn py_now(&self) -> DateTime<Utc> {
        self.now()
    }

    /// Today in the United Kingdom, from the service's clock.
    fn uk_today(&self) -> NaiveDate {
        self.core.uk_today()
    }

    /// Replaces the passcode key ring: `current` is (key id, secret); `retired` keys still
    /// verify codes made with them.
    #[pyo3(signature = (current, retired=Vec::new()))]
    fn set_passcode_keys(
        &self,
        current: (String, Vec<u8>),
        retired: Vec<(String, Vec<u8>)>,
    ) -> PyResult<()> {
        let mut ring = PasscodeKeys::new(key_of(&current.0, &current.1)?);
        for (id, secret) in retired {
            ring = ring.with_retired(key_of(&id, &secret)?).map_err(to_py)?;
        }
        self.core.set_passcode_keys(ring);
        Ok(())
    }

    // ----- trusts -------------------------------------------------------------------------

    /// Creates a trust.
    #[pyo3(signature = (vpd, name, *, automatic_internet_access=false, upgrade_manager=false,
                        upgrade_professional=false))]
    fn create_trust(
        &self,
        py: Python<'_>,
        vpd: &str,
        name: &str,
        automatic_internet_access: bool,
        upgrade_manager: bool,
        upgrade_professional: bool,
    ) -> PyResult<Trust> {
        let vpd: VpdCode = parse(vpd)?;
        let settings = esr_core::org::TrustSettings {
            automatic_internet_access,
            upgrade_access: esr_core::org::UpgradeAccess {
                manager: upgrade_manager,
                professional: upgrade_professional,
            },
            ..Default::default()
        };
        self.run(py, |c| c.create_trust(vpd, name, settings))
            .map(Into::into)
    }

    /// The trust with this VPD code.
    fn trust(&self, py: Python<'_>, vpd: &str) -> PyResult<Trust> {
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.trust(vpd)).map(Into::into)
    }

    /// Adds an organisation unit under `parent` (needs Maintain workstructures).
    #[pyo3(signature = (actor, vpd, unit, name, parent=None))]
    fn add_org_unit(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        unit: &str,
        name: &str,
        parent: Option<&str>,
    ) -> PyResult<()> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let unit: OrgUnitId = parse(unit)?;
        let parent: Option<OrgUnitId> = parent.map(parse).transpose()?;
        self.run(py, |c| c.add_org_unit(&actor, vpd, unit, name, parent))
    }

    /// Sets Automatic Internet Access (needs Maintain workstructures).
    fn set_automatic_internet_access(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        on: bool,
    ) -> PyResult<TrustSettings> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.set_automatic_internet_access(&actor, vpd, on))
            .map(Into::into)
    }

    /// Sets Upgrade Access for Manager and Professional users (needs Portal administration).
    #[pyo3(signature = (actor, vpd, *, manager, professional))]
    fn set_upgrade_access(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        manager: bool,
        professional: bool,
    ) -> PyResult<TrustSettings> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let up = esr_core::org::UpgradeAccess {
            manager,
            professional,
        };
        self.run(py, |c| c.set_upgrade_access(&actor, vpd, up))
            .map(Into::into)
    }

    /// Switches a national Manager Dashboard portlet ("Team Compliance") on or off.
    fn set_portlet(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        portlet: &str,
        on: bool,
    ) -> PyResult<TrustSettings> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let p: esr_core::org::NationalPortlet = portlet.parse().map_err(to_py)?;
        self.run(py, |c| c.set_portlet(&actor, vpd, p, on))
            .map(Into::into)
    }

    /// Adds a local BI portlet to the Manager Dashboard (at most three).
    fn add_local_bi_portlet(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        name: &str,
    ) -> PyResult<TrustSettings> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.add_local_bi_portlet(&actor, vpd, name))
            .map(Into::into)
    }

    /// Removes a local BI portlet.
    fn remove_local_bi_portlet(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        name: &str,
    ) -> PyResult<TrustSettings> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.remove_local_bi_portlet(&actor, vpd, name))
            .map(Into::into)
    }

    /// Sets the trust's SMS template: {code} once, {minutes}, optionally {trust}.
    fn set_sms_template(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        template: &str,
    ) -> PyResult<()> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.set_sms_template(&actor, vpd, template))
    }

    // ----- people, accounts, assignments --------------------------------------------------

    /// Adds a person with their account and Employee Self Service (needs Maintain people).
    #[pyo3(signature = (actor, vpd, *, employee_number, given_name, family_name, date_of_birth,
                        recruitment_email))]
    #[allow(clippy::too_many_arguments)]
    fn add_person(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        employee_number: &str,
        given_name: &str,
        family_name: &str,
        date_of_birth: NaiveDate,
        recruitment_email: &str,
    ) -> PyResult<Person> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let new = esr_core::people::NewPerson {
            employee_number: parse(employee_number)?,
            name: esr_core::people::PersonName::new(given_name, family_name).map_err(to_py)?,
            date_of_birth,
            recruitment_email: parse(recruitment_email)?,
        };
        self.run(py, |c| c.add_person(&actor, vpd, new))
            .map(Into::into)
    }

    /// The person with this employee number.
    fn person(&self, py: Python<'_>, vpd: &str, employee_number: &str) -> PyResult<Person> {
        let vpd: VpdCode = parse(vpd)?;
        let e: EmployeeNumber = parse(employee_number)?;
        self.run(py, |c| c.person(vpd, &e)).map(Into::into)
    }

    /// Every person of the trust.
    fn people(&self, py: Python<'_>, vpd: &str) -> PyResult<Vec<Person>> {
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.people(vpd)).map(list)
    }

    /// The account with this username.
    fn account(&self, py: Python<'_>, username: &str) -> PyResult<Account> {
        let u: Username = parse(username)?;
        self.run(py, |c| c.account(&u)).map(Into::into)
    }

    /// Adds an assignment (needs Maintain people).
    #[pyo3(signature = (actor, vpd, *, number, employee_number, title, position, org_unit,
                        supervisor=None))]
    #[allow(clippy::too_many_arguments)]
    fn add_assignment(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        number: &str,
        employee_number: &str,
        title: &str,
        position: &str,
        org_unit: &str,
        supervisor: Option<&str>,
    ) -> PyResult<Assignment> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let new = esr_core::people::NewAssignment {
            number: parse(number)?,
            employee_number: parse(employee_number)?,
            title: title.to_owned(),
            position: parse(position)?,
            org_unit: parse(org_unit)?,
            supervisor: supervisor.map(parse).transpose()?,
        };
        self.run(py, |c| c.add_assignment(&actor, vpd, new))
            .map(Into::into)
    }

    /// Changes an assignment's supervisor (None: no supervisor).
    fn set_supervisor(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        number: &str,
        supervisor: Option<&str>,
    ) -> PyResult<Assignment> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let n = parse(number)?;
        let s = supervisor.map(parse).transpose()?;
        self.run(py, |c| c.set_supervisor(&actor, vpd, &n, s))
            .map(Into::into)
    }

    /// A person's assignments.
    fn assignments_of(
        &self,
        py: Python<'_>,
        vpd: &str,
        employee_number: &str,
    ) -> PyResult<Vec<Assignment>> {
        let vpd: VpdCode = parse(vpd)?;
        let e: EmployeeNumber = parse(employee_number)?;
        self.run(py, |c| c.assignments_of(vpd, &e)).map(list)
    }

    /// Sets a user's password (needs Reset accounts, or a system actor).
    fn set_password(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        username: &str,
        password: String,
    ) -> PyResult<()> {
        let actor = actor_of(actor)?;
        let u: Username = parse(username)?;
        let p = Password::new(password);
        self.run(py, |c| c.set_password(&actor, &u, &p))
    }

    /// Approves ESS internet access for one user (needs Reset accounts).
    fn approve_internet_access(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        username: &str,
    ) -> PyResult<()> {
        let actor = actor_of(actor)?;
        let u: Username = parse(username)?;
        self.run(py, |c| c.approve_internet_access(&actor, &u))
    }

    /// Unlocks a locked account (needs Reset accounts).
    fn unlock_account(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        username: &str,
        reason: &str,
    ) -> PyResult<Account> {
        self.account_step(py, actor, username, reason, Core::unlock_account)
    }

    /// Suspends an account, ending its live sessions (needs Reset accounts).
    fn suspend_account(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        username: &str,
        reason: &str,
    ) -> PyResult<Account> {
        self.account_step(py, actor, username, reason, Core::suspend_account)
    }

    /// Reinstates a suspended account (needs Reset accounts).
    fn reinstate_account(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        username: &str,
        reason: &str,
    ) -> PyResult<Account> {
        self.account_step(py, actor, username, reason, Core::reinstate_account)
    }

    /// Ends an account for good (a leaver; needs Reset accounts).
    fn end_account(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        username: &str,
        reason: &str,
    ) -> PyResult<Account> {
        self.account_step(py, actor, username, reason, Core::end_account)
    }

    // ----- sessions and access ------------------------------------------------------------

    /// Logs in over the internet with username and password.
    fn log_in_with_password(
        &self,
        py: Python<'_>,
        username: &str,
        password: String,
    ) -> PyResult<Session> {
        let p = Password::new(password);
        self.run(py, |c| c.log_in_with_password(username, &p))
            .map(Into::into)
    }

    /// Opens an HSCN session for a user whose smartcard `card_id` the caller has verified.
    fn log_in_with_smartcard(
        &self,
        py: Python<'_>,
        username: &str,
        card_id: &str,
    ) -> PyResult<Session> {
        let u: Username = parse(username)?;
        let card = esr_core::access::SmartcardAuthentication::verified_by_caller(card_id)
            .map_err(to_py)?;
        self.run(py, |c| c.log_in_with_smartcard(&u, &card))
            .map(Into::into)
    }

    /// Ends a session.
    fn log_out(&self, py: Python<'_>, session: &Session) -> PyResult<()> {
        let id = session.id;
        self.run(py, |c| c.log_out(id))
    }

    /// The session as it is now (upgraded, ended...).
    fn session(&self, py: Python<'_>, session: &Session) -> PyResult<Session> {
        let id = session.id;
        self.run(py, |c| c.session(id)).map(Into::into)
    }

    /// The live session with this identifier (from Session.expose_id()).
    fn resume_session(&self, py: Python<'_>, session_id: &str) -> PyResult<Session> {
        let id: SessionId = parse(session_id)?;
        self.run(py, |c| c.session(id)).map(Into::into)
    }

    /// A user's live sessions, oldest first.
    fn live_sessions(&self, py: Python<'_>, username: &str) -> PyResult<Vec<Session>> {
        let u: Username = parse(username)?;
        self.run(py, |c| c.live_sessions(&u)).map(list)
    }

    /// A user's live sessions as the user sees them (never a bearer id): for the user, from one
    /// of their own sessions, or for an actor with Reset accounts.
    fn sessions_of(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        username: &str,
    ) -> PyResult<Vec<SessionSummary>> {
        let actor = actor_of(actor)?;
        let u: Username = parse(username)?;
        self.run(py, |c| c.sessions_of(&actor, &u)).map(list)
    }

    /// Ends one of the user's sessions, by its reference from sessions_of.
    fn end_session(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        username: &str,
        reference: &str,
    ) -> PyResult<()> {
        let actor = actor_of(actor)?;
        let u: Username = parse(username)?;
        let r: esr_core::values::SessionRef = parse(reference)?;
        self.run(py, |c| c.end_session(&actor, &u, r))
    }

    /// Ends every session of the user but `except_reference`; returns how many ended.
    #[pyo3(signature = (actor, username, *, except_reference=None))]
    fn end_all_sessions(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        username: &str,
        except_reference: Option<&str>,
    ) -> PyResult<u32> {
        let actor = actor_of(actor)?;
        let u: Username = parse(username)?;
        let keep: Option<esr_core::values::SessionRef> = except_reference.map(parse).transpose()?;
        self.run(py, |c| c.end_all_sessions(&actor, &u, keep))
    }

    /// Changes the user's own password in `session`; every other session of theirs ends.
    fn change_password(
        &self,
        py: Python<'_>,
        session: &Session,
        current: String,
        new: String,
    ) -> PyResult<()> {
        let id = session.id;
        let (current, new) = (Password::new(current), Password::new(new));
        self.run(py, |c| c.change_password(id, &current, &new))
    }

    /// The names of every function the session may use now.
    fn functions(&self, py: Python<'_>, session: &Session) -> PyResult<Vec<&'static str>> {
        let id = session.id;
        self.run(py, |c| c.functions(id))
            .map(|fs| fs.into_iter().map(Function::name).collect())
    }

    /// Whether the session may use `function` (by name, "Team Compliance"), and if not why.
    fn decide(
        &self,
        py: Python<'_>,
        session: &Session,
        function: &str,
    ) -> PyResult<AccessDecision> {
        let id = session.id;
        let f = function_of(function)?;
        let d = self.run(py, |c| c.decide(id, f))?;
        Ok(AccessDecision {
            function: f.name().to_owned(),
            allowed: d.is_allowed(),
            reason: match d {
                esr_core::access::AccessDecision::Denied(why) => Some(why.to_string()),
                esr_core::access::AccessDecision::Allowed => None,
            },
        })
    }

    /// Raises NotPermittedError with the reason unless the session could be upgraded now.
    fn check_upgrade(&self, py: Python<'_>, session: &Session) -> PyResult<()> {
        let id = session.id;
        self.run(py, |c| c.check_upgrade(id))
    }

    /// Upgrades a session after the caller verified a second factor its own way (`method`,
    /// such as "trust-mfa"). Codes from this service upgrade through verify_passcode.
    fn upgrade_session_verified_by_caller(
        &self,
        py: Python<'_>,
        session: &Session,
        method: &str,
    ) -> PyResult<Session> {
        let proof =
            esr_core::access::StepUpProof::verified_by_caller(session.id, method).map_err(to_py)?;
        self.run(py, |c| c.upgrade_session(&proof)).map(Into::into)
    }

    /// Registers the user's mobile after the caller confirmed it its own way, from an HSCN
    /// session. Codes from this service register through verify_passcode.
    fn register_mobile_verified_by_caller(
        &self,
        py: Python<'_>,
        session: &Session,
        mobile: &str,
    ) -> PyResult<Person> {
        let id = session.id;
        // Parsing a number runs libphonenumber's patterns: done with the interpreter released.
        self.run(py, |c| {
            let conf =
                esr_core::access::MobileConfirmation::verified_by_caller(id, mobile.parse()?);
            c.register_mobile(id, &conf)
        })
        .map(Into::into)
    }

    // ----- URPs ---------------------------------------------------------------------------

    /// Gives a new trust its first user administrators (at least two usernames).
    fn bootstrap_user_administrators(
        &self,
        py: Python<'_>,
        vpd: &str,
        holders: Vec<String>,
        reason: &str,
    ) -> PyResult<Vec<UrpGrant>> {
        let vpd: VpdCode = parse(vpd)?;
        let hs = holders
            .iter()
            .map(|h| parse(h))
            .collect::<PyResult<Vec<Username>>>()?;
        self.run(py, |c| c.bootstrap_user_administrators(vpd, &hs, reason))
            .map(list)
    }

    /// Grants a URP by name (needs Assign URPs). `org_units`: the units it applies to (needed
    /// for Administrator Self Service; default the whole trust). The need is verified by
    /// `line_manager` (their employee number) or by a Caldicott exception
    /// (`caldicott_guardian` and `caldicott_reference`); employee-level URPs need neither.
    #[pyo3(signature = (session, holder, urp, *, reason, org_units=None, line_manager=None,
                        caldicott_guardian=None, caldicott_reference=None))]
    #[allow(clippy::too_many_arguments)]
    fn grant_urp(
        &self,
        py: Python<'_>,
        session: &Session,
        holder: &str,
        urp: &str,
        reason: &str,
        org_units: Option<Vec<String>>,
        line_manager: Option<&str>,
        caldicott_guardian: Option<&str>,
        caldicott_reference: Option<&str>,
    ) -> PyResult<UrpGrant> {
        let mut request = esr_core::urp::GrantRequest::new(parse(holder)?, parse(urp)?, reason);
        if let Some(us) = org_units {
            request =
                request.in_org_units(us.iter().map(|u| parse(u)).collect::<PyResult<Vec<_>>>()?);
        }
        let request = request
            .with_verification(
                line_manager.map(parse).transpose()?,
                caldicott_guardian.map(parse).transpose()?,
                caldicott_reference.map(str::to_owned),
            )
            .map_err(to_py)?;
        let id = session.id;
        self.run(py, |c| c.grant_urp(id, request)).map(Into::into)
    }

    /// Revokes a URP (needs Assign URPs).
    fn revoke_urp(
        &self,
        py: Python<'_>,
        session: &Session,
        holder: &str,
        urp: &str,
        reason: &str,
    ) -> PyResult<UrpGrant> {
        let h: Username = parse(holder)?;
        let u: Urp = parse(urp)?;
        let id = session.id;
        self.run(py, |c| c.revoke_urp(id, &h, u, reason))
            .map(Into::into)
    }

    /// Every grant a user has had, active and revoked.
    fn grants_of(&self, py: Python<'_>, username: &str) -> PyResult<Vec<UrpGrant>> {
        let u: Username = parse(username)?;
        self.run(py, |c| c.grants_of(&u)).map(list)
    }

    /// The names of the URPs a user holds now.
    fn held_urps(&self, py: Python<'_>, username: &str) -> PyResult<Vec<&'static str>> {
        let u: Username = parse(username)?;
        self.run(py, |c| c.held_urps(&u))
            .map(|s| s.into_iter().map(Urp::name).collect())
    }

    /// The URP audit report for the six-monthly review (needs URP audit report).
    fn urp_audit_report(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
    ) -> PyResult<Vec<UrpReportRow>> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.urp_audit_report(&actor, vpd)).map(list)
    }

    // ----- records ------------------------------------------------------------------------

    /// On what bases `actor` (a username) may view and change a person's record.
    fn record_access(
        &self,
        py: Python<'_>,
        actor: &str,
        vpd: &str,
        employee_number: &str,
    ) -> PyResult<RecordAccess> {
        let a: Username = parse(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let e: EmployeeNumber = parse(employee_number)?;
        self.run(py, |c| c.record_access(&a, vpd, &e))
            .map(Into::into)
    }

    /// Shows a person's record to the session's user, if a basis is usable on this channel.
    fn view_record(
        &self,
        py: Python<'_>,
        session: &Session,
        employee_number: &str,
    ) -> PyResult<PersonRecord> {
        let e: EmployeeNumber = parse(employee_number)?;
        let id = session.id;
        self.run(py, |c| c.view_record(id, &e)).map(Into::into)
    }

    /// Changes a person's details (None leaves a field as it is).
    #[pyo3(signature = (session, employee_number, *, given_name=None, family_name=None,
                        recruitment_email=None))]
    fn change_details(
        &self,
        py: Python<'_>,
        session: &Session,
        employee_number: &str,
        given_name: Option<String>,
        family_name: Option<String>,
        recruitment_email: Option<&str>,
    ) -> PyResult<Person> {
        let e: EmployeeNumber = parse(employee_number)?;
        let change = esr_core::people::DetailsChange {
            given_name,
            family_name,
            recruitment_email: recruitment_email.map(parse).transpose()?,
        };
        let id = session.id;
        self.run(py, |c| c.change_details(id, &e, &change))
            .map(Into::into)
    }

    /// The people who report to the session's user, directly or through others.
    fn team(&self, py: Python<'_>, session: &Session) -> PyResult<Vec<TeamMember>> {
        let id = session.id;
        self.run(py, |c| c.team(id)).map(list)
    }

    // ----- notifications and approvals (wf-notify) ---------------------------------------

    /// The number of the session's user's open notifications (the indicator every channel
    /// shows).
    fn notification_count(&self, py: Python<'_>, session: &Session) -> PyResult<u32> {
        let id = session.id;
        self.run(py, |c| c.notification_count(id))
    }

    /// The session's user's notifications this session may see, most recent first; over the
    /// internet before an upgrade, none (only the count shows).
    #[pyo3(signature = (session, open_only=false, kind=None))]
    fn notifications(
        &self,
        py: Python<'_>,
        session: &Session,
        open_only: bool,
        kind: Option<&str>,
    ) -> PyResult<Vec<crate::notify::Notification>> {
        let filter = esr_core::notify::NotificationFilter {
            open_only,
            kind: kind
                .map(|k| k.parse::<esr_core::notify::NotificationType>())
                .transpose()
                .map_err(to_py)?,
        };
        let id = session.id;
        self.run(py, |c| c.notifications(id, filter)).map(list)
    }

    /// Acts on one of the session's user's notifications: `"approve"`, `"reject"` (with a
    /// reason) or `"acknowledge"`.
    #[pyo3(signature = (session, notification, action, reason=None))]
    fn act_on_notification(
        &self,
        py: Python<'_>,
        session: &Session,
        notification: &str,
        action: &str,
        reason: Option<String>,
    ) -> PyResult<crate::notify::Notification> {
        use esr_core::notify::NotificationAction as A;
        let n: esr_core::NotificationId = parse(notification)?;
        let action = match (action, reason) {
            ("approve", None) => A::Approve,
            ("acknowledge", None) => A::Acknowledge,
            ("reject", Some(reason)) => A::Reject { reason },
            ("reject", None) => {
                return Err(InvalidInputError::new_err(
                    "invalid reason: a rejection needs a reason",
                ));
            }
            ("approve" | "acknowledge", Some(_)) => {
                return Err(InvalidInputError::new_err(
                    "invalid reason: only a rejection takes a reason",
                ));
            }
            _ => {
                return Err(InvalidInputError::new_err(
                    "invalid action: it must be approve, reject or acknowledge",
                ));
            }
        };
        let id = session.id;
        self.run(py, |c| c.act_on_notification(id, n, action))
            .map(Into::into)
    }

    /// Asks for a change to a person's details: None when it applied at once, the held change
    /// when it waits for approval.
    #[pyo3(signature = (session, employee_number, given_name=None, family_name=None, recruitment_email=None))]
    fn request_details_change(
        &self,
        py: Python<'_>,
        session: &Session,
        employee_number: &str,
        given_name: Option<String>,
        family_name: Option<String>,
        recruitment_email: Option<&str>,
    ) -> PyResult<Option<crate::notify::PendingChange>> {
        let e: EmployeeNumber = parse(employee_number)?;
        let change = esr_core::notify::ProposedChange::Details {
            given_name,
            family_name,
            recruitment_email: recruitment_email.map(parse).transpose()?,
        };
        let id = session.id;
        self.run(py, |c| c.request_change(id, &e, change))
            .map(crate::notify::held)
    }

    /// Asks for a pay-affecting change to a report's assignment (exactly one of
    /// `weekly_minutes`, `position`, `supervisor` ("" for none), `ended_on`): None when it
    /// applied at once, the held change when it waits for approval.
    #[pyo3(signature = (session, employee_number, assignment, *, weekly_minutes=None, position=None, supervisor=None, ended_on=None))]
    #[allow(clippy::too_many_arguments)]
    fn request_assignment_change(
        &self,
        py: Python<'_>,
        session: &Session,
        employee_number: &str,
        assignment: &str,
        weekly_minutes: Option<u32>,
        position: Option<&str>,
        supervisor: Option<&str>,
        ended_on: Option<NaiveDate>,
    ) -> PyResult<Option<crate::notify::PendingChange>> {
        let e: EmployeeNumber = parse(employee_number)?;
        let supervisor = supervisor
            .map(|s| {
                if s.is_empty() {
                    Ok(None)
                } else {
                    parse(s).map(Some)
                }
            })
            .transpose()?;
        let change = crate::notify::assignment_change(
            parse(assignment)?,
            weekly_minutes,
            position.map(parse).transpose()?,
            supervisor,
            ended_on,
        )
        .map_err(to_py)?;
        let id = session.id;
        self.run(py, |c| c.request_change(id, &e, change))
            .map(crate::notify::held)
    }

    /// A held change, for its requester, its approver or the person it concerns.
    fn pending_change(
        &self,
        py: Python<'_>,
        session: &Session,
        change: &str,
    ) -> PyResult<crate::notify::PendingChange> {
        let c: esr_core::ChangeId = parse(change)?;
        let id = session.id;
        self.run(py, |core| core.pending_change(id, c))
            .map(Into::into)
    }

    /// Marks held changes past their expiry as expired (they never apply); how many.
    fn expire_pending_changes(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
    ) -> PyResult<u32> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.expire_pending_changes(&actor, vpd))
    }

    // ----- access requests, URP review, competence claims (wf-bind) ----------------------

    /// Raises an access request (a OneForm) for a URP beyond the employee level for `subject`
    /// (a username). `org_units`: where it would apply (default the whole trust);
    /// `exception`: why it is an exception, to route it to the trust's Caldicott guardian
    /// instead of the line manager.
    #[pyo3(signature = (actor, subject, urp, *, reason, org_units=None, exception=None))]
    #[allow(clippy::too_many_arguments)]
    fn request_access(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        subject: &str,
        urp: &str,
        reason: &str,
        org_units: Option<Vec<String>>,
        exception: Option<&str>,
    ) -> PyResult<crate::workflows::AccessRequest> {
        let actor = actor_of(actor)?;
        let mut new = esr_core::urp::NewAccessRequest::new(parse(subject)?, parse(urp)?, reason);
        if let Some(us) = org_units {
            new = new.in_org_units(us.iter().map(|u| parse(u)).collect::<PyResult<Vec<_>>>()?);
        }
        if let Some(e) = exception {
            new = new.as_exception(e);
        }
        self.run(py, |c| {
            let r = c.request_access(&actor, new)?;
            Ok(crate::workflows::AccessRequest::at(r, c.clock().now()))
        })
    }

    /// Authorises an access request (its subject's line manager, or the Caldicott guardian
    /// for an exception).
    fn authorise_access_request(
        &self,
        py: Python<'_>,
        session: &Session,
        request: &str,
    ) -> PyResult<crate::workflows::AccessRequest> {
        let r: esr_core::values::AccessRequestId = parse(request)?;
        let id = session.id;
        self.run(py, |c| {
            let r = c.authorise_access_request(id, &r)?;
            Ok(crate::workflows::AccessRequest::at(r, c.clock().now()))
        })
    }

    /// Rejects an access request, with a reason for the requester.
    fn reject_access_request(
        &self,
        py: Python<'_>,
        session: &Session,
        request: &str,
        reason: &str,
    ) -> PyResult<crate::workflows::AccessRequest> {
        let r: esr_core::values::AccessRequestId = parse(request)?;
        let id = session.id;
        self.run(py, |c| {
            let r = c.reject_access_request(id, &r, reason)?;
            Ok(crate::workflows::AccessRequest::at(r, c.clock().now()))
        })
    }

    /// Records a prerequisite of an access request (`"as_number"`: the AS number Finance set
    /// up) with its reference (needs Assign URPs, or a system process such as Finance's feed).
    fn record_access_prerequisite(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        request: &str,
        prerequisite: &str,
        reference: &str,
    ) -> PyResult<crate::workflows::AccessRequest> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let r: esr_core::values::AccessRequestId = parse(request)?;
        let p = crate::workflows::prerequisite_of(prerequisite).map_err(to_py)?;
        self.run(py, |c| {
            let r = c.record_access_prerequisite(&actor, vpd, &r, p, reference)?;
            Ok(crate::workflows::AccessRequest::at(r, c.clock().now()))
        })
    }

    /// Grants an authorised access request whose prerequisites are recorded (needs Assign
    /// URPs); the grant made.
    fn grant_access_request(
        &self,
        py: Python<'_>,
        session: &Session,
        request: &str,
    ) -> PyResult<UrpGrant> {
        let r: esr_core::values::AccessRequestId = parse(request)?;
        let id = session.id;
        self.run(py, |c| c.grant_access_request(id, &r))
            .map(Into::into)
    }

    /// One access request, for its subject, a decider or a user administrator.
    fn access_request(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        request: &str,
    ) -> PyResult<crate::workflows::AccessRequest> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let r: esr_core::values::AccessRequestId = parse(request)?;
        self.run(py, |c| {
            let r = c.access_request(&actor, vpd, &r)?;
            Ok(crate::workflows::AccessRequest::at(r, c.clock().now()))
        })
    }

    /// The session's user's own access requests.
    fn my_access_requests(
        &self,
        py: Python<'_>,
        session: &Session,
    ) -> PyResult<Vec<crate::workflows::AccessRequest>> {
        let id = session.id;
        self.run(py, |c| {
            let now = c.clock().now();
            Ok(c.my_access_requests(id)?
                .into_iter()
                .map(|r| crate::workflows::AccessRequest::at(r, now))
                .collect())
        })
    }

    /// The access requests awaiting the session's user's authorisation.
    fn access_requests_to_authorise(
        &self,
        py: Python<'_>,
        session: &Session,
    ) -> PyResult<Vec<crate::workflows::AccessRequest>> {
        let id = session.id;
        self.run(py, |c| {
            let now = c.clock().now();
            Ok(c.access_requests_to_authorise(id)?
                .into_iter()
                .map(|r| crate::workflows::AccessRequest::at(r, now))
                .collect())
        })
    }

    /// The authorised access requests waiting for a user administrator (needs Assign URPs).
    fn access_requests_to_grant(
        &self,
        py: Python<'_>,
        session: &Session,
    ) -> PyResult<Vec<crate::workflows::AccessRequest>> {
        let id = session.id;
        self.run(py, |c| {
            let now = c.clock().now();
            Ok(c.access_requests_to_grant(id)?
                .into_iter()
                .map(|r| crate::workflows::AccessRequest::at(r, now))
                .collect())
        })
    }

    /// Names the trust's Caldicott guardian (an employee number), or None for none (needs
    /// Assign URPs).
    fn set_caldicott_guardian(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        guardian: Option<&str>,
    ) -> PyResult<TrustSettings> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let g = guardian.map(parse).transpose()?;
        self.run(py, |c| c.set_caldicott_guardian(&actor, vpd, g))
            .map(Into::into)
    }

    /// Opens the trust's six-monthly URP review of its extra-access grants (needs Assign
    /// URPs; one open at a time).
    fn open_urp_review(
        &self,
        py: Python<'_>,
        session: &Session,
    ) -> PyResult<crate::workflows::UrpReview> {
        let id = session.id;
        self.run(py, |c| c.open_urp_review(id)).map(Into::into)
    }

    /// Confirms that a grant in an open review is still needed.
    fn confirm_urp_grant(
        &self,
        py: Python<'_>,
        session: &Session,
        review: &str,
        grant: &str,
    ) -> PyResult<crate::workflows::UrpReview> {
        let r: esr_core::values::UrpReviewId = parse(review)?;
        let g: esr_core::GrantId = parse(grant)?;
        let id = session.id;
        self.run(py, |c| c.confirm_urp_grant(id, &r, &g))
            .map(Into::into)
    }

    /// Revokes a grant in an open review, with a reason.
    fn revoke_urp_in_review(
        &self,
        py: Python<'_>,
        session: &Session,
        review: &str,
        grant: &str,
        reason: &str,
    ) -> PyResult<crate::workflows::UrpReview> {
        let r: esr_core::values::UrpReviewId = parse(review)?;
        let g: esr_core::GrantId = parse(grant)?;
        let id = session.id;
        self.run(py, |c| c.revoke_urp_in_review(id, &r, &g, reason))
            .map(Into::into)
    }

    /// Where the trust's URP review stands (needs URP Audit Report).
    fn urp_review_status(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
    ) -> PyResult<crate::workflows::UrpReviewStatus> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.urp_review_status(&actor, vpd))
            .map(Into::into)
    }

    /// The trust's URP reviews, oldest first (needs URP Audit Report).
    fn urp_reviews(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
    ) -> PyResult<Vec<crate::workflows::UrpReview>> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.urp_reviews(&actor, vpd)).map(list)
    }

    /// Claims a competence for the session's user, with evidence, for their line manager or
    /// a learning administrator to approve. `expiry`: a date, "refresher" (the default) or
    /// "never"; `level` as ESR prints it.
    #[pyo3(signature = (session, competence, *, achieved, evidence, expiry=None, level=None))]
    #[allow(clippy::too_many_arguments)]
    fn claim_competence(
        &self,
        py: Python<'_>,
        session: &Session,
        competence: &str,
        achieved: NaiveDate,
        evidence: &str,
        expiry: Option<&Bound<'_, PyAny>>,
        level: Option<&str>,
    ) -> PyResult<crate::workflows::CompetenceClaim> {
        let record = new_competence_record(competence, achieved, expiry, level)?;
        let id = session.id;
        self.run(py, |c| c.claim_competence(id, record, evidence))
            .map(Into::into)
    }

    /// A person's claims still awaiting approval (the "Awaiting Approval" tab).
    fn competences_awaiting_approval(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        employee_number: &str,
    ) -> PyResult<Vec<crate::workflows::CompetenceClaim>> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let e: EmployeeNumber = parse(employee_number)?;
        self.run(py, |c| c.competences_awaiting_approval(&actor, vpd, &e))
            .map(list)
    }

    /// All of a person's claims, decided or not.
    fn competence_claims_of(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        employee_number: &str,
    ) -> PyResult<Vec<crate::workflows::CompetenceClaim>> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let e: EmployeeNumber = parse(employee_number)?;
        self.run(py, |c| c.competence_claims_of(&actor, vpd, &e))
            .map(list)
    }

    /// The claims awaiting the session's user's approval.
    fn competence_claims_to_approve(
        &self,
        py: Python<'_>,
        session: &Session,
    ) -> PyResult<Vec<crate::workflows::CompetenceClaim>> {
        let id = session.id;
        self.run(py, |c| c.competence_claims_to_approve(id))
            .map(list)
    }

    /// Approves a claim: the competence is recorded.
    fn approve_competence_claim(
        &self,
        py: Python<'_>,
        session: &Session,
        claim: &str,
    ) -> PyResult<crate::workflows::CompetenceClaim> {
        let k: esr_core::values::CompetenceClaimId = parse(claim)?;
        let id = session.id;
        self.run(py, |c| c.approve_competence_claim(id, &k))
            .map(Into::into)
    }

    /// Rejects a claim, with a reason for the learner; nothing is recorded.
    fn reject_competence_claim(
        &self,
        py: Python<'_>,
        session: &Session,
        claim: &str,
        reason: &str,
    ) -> PyResult<crate::workflows::CompetenceClaim> {
        let k: esr_core::values::CompetenceClaimId = parse(claim)?;
        let id = session.id;
        self.run(py, |c| c.reject_competence_claim(id, &k, reason))
            .map(Into::into)
    }

    // ----- audit --------------------------------------------------------------------------

    /// A page of the trust's audit trail: entries from `start` (1-based), at most `limit`.
    #[pyo3(signature = (vpd, start=1, limit=1000))]
    fn audit_trail(
        &self,
        py: Python<'_>,
        vpd: &str,
        start: u64,
        limit: usize,
    ) -> PyResult<Vec<AuditEntry>> {
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.audit_trail(vpd, start, limit)).map(list)
    }

    /// Verifies the trust's whole audit trail (or against an earlier head) and returns its head.
    #[pyo3(signature = (vpd, anchor=None))]
    fn verify_audit(
        &self,
        py: Python<'_>,
        vpd: &str,
        anchor: Option<&AuditHead>,
    ) -> PyResult<AuditHead> {
        let vpd: VpdCode = parse(vpd)?;
        let anchor = anchor
            .map(|a| -> PyResult<esr_core::audit::AuditHead> {
                Ok(esr_core::audit::AuditHead {
                    seq: a.seq,
                    hash: parse(&a.hash)?,
                })
            })
            .transpose()?;
        self.run(py, |c| match &anchor {
            None => c.verify_audit(vpd),
            Some(a) => c.verify_audit_against(vpd, a),
        })
        .map(Into::into)
    }

    // ----- passcodes ----------------------------------------------------------------------

    /// Texts a code to `mobile` to register (or change) the user's number; HSCN sessions only.
    fn request_mobile_code(
        &self,
        py: Python<'_>,
        session: &Session,
        mobile: &str,
    ) -> PyResult<PasscodeChallenge> {
        let id = session.id;
        let c = self.run(py, |c| c.request_mobile_code(id, mobile))?;
        Ok(PasscodeChallenge::of(c, self.now()))
    }

    /// Texts a code to the user's registered number to upgrade this internet session.
    fn request_upgrade_code(
        &self,
        py: Python<'_>,
        session: &Session,
    ) -> PyResult<PasscodeChallenge> {
        let id = session.id;
        let c = self.run(py, |c| c.request_upgrade_code(id))?;
        Ok(PasscodeChallenge::of(c, self.now()))
    }

    /// "Code not received": sends a new code for the same purpose; the old one is superseded.
    fn resend_passcode(
        &self,
        py: Python<'_>,
        session: &Session,
        challenge: &Bound<'_, PyAny>,
    ) -> PyResult<PasscodeChallenge> {
        let (ch, _) = challenge_of(challenge, None)?;
        let id = session.id;
        let c = self.run(py, |c| c.resend_passcode(id, &ch))?;
        Ok(PasscodeChallenge::of(c, self.now()))
    }

    /// A challenge's state now: status, time left, attempts left.
    fn passcode_status(
        &self,
        py: Python<'_>,
        session: &Session,
        challenge: &Bound<'_, PyAny>,
    ) -> PyResult<PasscodeChallenge> {
        let (ch, _) = challenge_of(challenge, None)?;
        let id = session.id;
        let c = self.run(py, |c| c.passcode_status(id, &ch))?;
        Ok(PasscodeChallenge::of(c, self.now()))
    }

    /// Verifies a code typed in `session`. `challenge`: the PasscodeChallenge (its purpose is
    /// used) or its id with `purpose`. On approval the purpose is carried out: of concurrent
    /// verifications exactly one is approved. A code of the wrong shape raises
    /// InvalidInputError and costs no attempt.
    #[pyo3(signature = (session, challenge, code, purpose=None))]
    fn verify_passcode(
        &self,
        py: Python<'_>,
        session: &Session,
        challenge: &Bound<'_, PyAny>,
        code: &str,
        purpose: Option<Purpose>,
    ) -> PyResult<VerifyOutcome> {
        let (ch, purpose) = challenge_of(challenge, purpose)?;
        let purpose = purpose.ok_or_else(|| {
            InvalidInputError::new_err(
                "invalid purpose: give purpose= when the challenge is given by its id",
            )
        })?;
        let id = session.id;
        self.run(py, |c| c.verify_passcode(id, &ch, purpose, code))
            .map(Into::into)
    }

    /// Clears a step-up lock (needs Reset accounts).
    fn clear_step_up_lock(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        username: &str,
        reason: &str,
    ) -> PyResult<Account> {
        let actor = actor_of(actor)?;
        let u: Username = parse(username)?;
        self.run(py, |c| c.clear_step_up_lock(&actor, &u, reason))
            .map(Into::into)
    }

    // ----- account recovery ---------------------------------------------------------------

    /// "Forgotten username": e-mails the username and a reset link if the details match. The
    /// answer (the sentence to show) is the same whether or not anything matched.
    fn request_username_reminder(
        &self,
        py: Python<'_>,
        vpd: &str,
        email: &str,
        date_of_birth: NaiveDate,
    ) -> PyResult<&'static str> {
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| {
            c.request_username_reminder(vpd, email, date_of_birth)
        })
        .map(|r| r.message())
    }

    /// Asks for a link that unlocks a locked account; otherwise as request_username_reminder.
    fn request_unlock_link(
        &self,
        py: Python<'_>,
        vpd: &str,
        email: &str,
        date_of_birth: NaiveDate,
    ) -> PyResult<&'static str> {
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.request_unlock_link(vpd, email, date_of_birth))
            .map(|r| r.message())
    }

    /// Sets a new password with a reset link's token (once, within 4 hours); returns the
    /// username.
    fn reset_password_with_link(
        &self,
        py: Python<'_>,
        token: &str,
        password: String,
    ) -> PyResult<String> {
        let p = Password::new(password);
        self.run(py, |c| c.reset_password_with_link(token, &p))
            .map(|u| u.to_string())
    }

    /// Unlocks an account with an unlock link's token; returns the username.
    fn unlock_with_link(&self, py: Python<'_>, token: &str) -> PyResult<String> {
        self.run(py, |c| c.unlock_with_link(token))
            .map(|u| u.to_string())
    }

    // ----- compliance ---------------------------------------------------------------------

    /// The trust's competence catalogue (national defaults overlaid with its own).
    fn competence_catalogue(
        &self,
        py: Python<'_>,
        vpd: &str,
    ) -> PyResult<Vec<CompetenceDefinition>> {
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.competence_catalogue(vpd)).map(list)
    }

    /// Adds a local competence or overrides a national one (needs Learning administration).
    #[pyo3(signature = (actor, vpd, name, *, refresher_months=None, active=true))]
    fn define_competence(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        name: &str,
        refresher_months: Option<u32>,
        active: bool,
    ) -> PyResult<()> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let def = esr_core::compliance::CompetenceDefinition {
            name: parse(name)?,
            refresher_months,
            active,
        };
        self.run(py, |c| c.define_competence(&actor, vpd, def))
    }

    /// Requires a competence of a position, an organisation unit or a job (exactly one);
    /// min_level ("1 - Assessed") is the least level that satisfies it: a record below it is
    /// Red for this requirement, with red_reason "below the minimum level".
    #[pyo3(signature = (actor, vpd, competence, *, position=None, org_unit=None, job=None,
                        essential=true, min_level=None))]
    #[allow(clippy::too_many_arguments)]
    fn set_requirement(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        competence: &str,
        position: Option<&str>,
        org_unit: Option<&str>,
        job: Option<&str>,
        essential: bool,
        min_level: Option<&str>,
    ) -> PyResult<()> {
        let actor = actor_of(actor)?;
        let r = esr_core::compliance::Requirement {
            vpd: parse(vpd)?,
            target: target_of(position, org_unit, job)?,
            competence: parse(competence)?,
            essential,
            min_level: min_level.map(parse).transpose()?,
        };
        self.run(py, |c| c.set_requirement(&actor, r))
    }

    /// Removes a requirement.
    #[pyo3(signature = (actor, vpd, competence, *, position=None, org_unit=None, job=None))]
    #[allow(clippy::too_many_arguments)]
    fn remove_requirement(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        competence: &str,
        position: Option<&str>,
        org_unit: Option<&str>,
        job: Option<&str>,
    ) -> PyResult<()> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let t = target_of(position, org_unit, job)?;
        let comp: CompetenceName = parse(competence)?;
        self.run(py, |c| c.remove_requirement(&actor, vpd, &t, &comp))
    }

    /// The trust's requirements.
    fn requirements(&self, py: Python<'_>, vpd: &str) -> PyResult<Vec<Requirement>> {
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.requirements(vpd)).map(list)
    }

    /// Makes holding `held` satisfy a requirement for `satisfies`.
    fn add_equivalence(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        held: &str,
        satisfies: &str,
    ) -> PyResult<()> {
        let actor = actor_of(actor)?;
        let e = esr_core::compliance::Equivalence {
            vpd: parse(vpd)?,
            held: parse(held)?,
            satisfies: parse(satisfies)?,
        };
        self.run(py, |c| c.add_equivalence(&actor, e))
    }

    /// Removes an equivalence.
    fn remove_equivalence(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        held: &str,
        satisfies: &str,
    ) -> PyResult<()> {
        let actor = actor_of(actor)?;
        let e = esr_core::compliance::Equivalence {
            vpd: parse(vpd)?,
            held: parse(held)?,
            satisfies: parse(satisfies)?,
        };
        self.run(py, |c| c.remove_equivalence(&actor, e))
    }

    /// The trust's equivalences as (held, satisfies) pairs.
    fn equivalences(&self, py: Python<'_>, vpd: &str) -> PyResult<Vec<(String, String)>> {
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.equivalences(vpd)).map(|v| {
            v.into_iter()
                .map(|e| (e.held.to_string(), e.satisfies.to_string()))
                .collect()
        })
    }

    /// The trust's compliance target and amber window.
    fn compliance_settings(&self, py: Python<'_>, vpd: &str) -> PyResult<ComplianceSettings> {
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.compliance_settings(vpd))
            .map(|s| ComplianceSettings {
                target_percent: s.target_percent,
                amber_months: s.amber_window.len_months(),
            })
    }

    /// Sets the trust's compliance target (percent) and amber window (months).
    #[pyo3(signature = (actor, vpd, *, target_percent, amber_months))]
    fn set_compliance_settings(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        target_percent: u8,
        amber_months: u32,
    ) -> PyResult<()> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let s = esr_core::compliance::ComplianceSettings {
            target_percent,
            amber_window: esr_core::compliance::AmberWindow::months(amber_months).map_err(to_py)?,
        };
        self.run(py, |c| c.set_compliance_settings(&actor, vpd, s))
    }

    /// Records that a person holds a competence. `expiry`: a date, "refresher" (from the
    /// catalogue's refresher period, the default) or "never". `level`: as ESR prints it.
    #[pyo3(signature = (actor, vpd, employee_number, competence, *, achieved,
                        expiry=None, level=None))]
    #[allow(clippy::too_many_arguments)]
    fn record_competence(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        employee_number: &str,
        competence: &str,
        achieved: NaiveDate,
        expiry: Option<&Bound<'_, PyAny>>,
        level: Option<&str>,
    ) -> PyResult<CompetenceRecord> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let e: EmployeeNumber = parse(employee_number)?;
        let record = new_competence_record(competence, achieved, expiry, level)?;
        self.run(py, |c| c.record_competence(&actor, vpd, &e, record))
            .map(Into::into)
    }

    /// A person's competence records.
    fn competence_records(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        employee_number: &str,
    ) -> PyResult<Vec<CompetenceRecord>> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let e: EmployeeNumber = parse(employee_number)?;
        self.run(py, |c| c.competence_records(&actor, vpd, &e))
            .map(list)
    }

    /// Imports an ESR competence export. `csv` is a path (str or os.PathLike such as
    /// pathlib.Path), the file's contents (bytes, bytearray) or a binary file object
    /// (open(..., "rb"), io.BytesIO, a socket's makefile("rb")): files and file objects are
    /// read in chunks as they are parsed, never whole, with the interpreter released except
    /// while each .read(n) runs. encoding=None reads UTF-8 (with or without a byte order mark)
    /// and bytes that are not UTF-8 as cp1252, as Excel saves CSV; a name ("cp1252", "latin-1",
    /// "utf-8") decodes the whole file with it; the summary's `encoding` says which was read.
    /// Any bad row refuses the whole file (ImportRejectedError, naming the first 1,000 bad rows
    /// and counting the rest) unless `skip_bad_rows`. Rows over 64 KiB or with over 1,024
    /// columns are bad rows; a header over them refuses the file. A str with a line break (the
    /// contents, not a path), a text-mode file or another type raises TypeError; an exception
    /// from the file object's .read is raised as it is, and nothing is imported.
    #[pyo3(signature = (actor, vpd, csv, *, skip_bad_rows=false, encoding=None))]
    fn import_competences(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        csv: &Bound<'_, PyAny>,
        skip_bad_rows: bool,
        encoding: Option<&str>,
    ) -> PyResult<ImportSummary> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let encoding = crate::bulk::csv_encoding(encoding)?;
        let source = CsvSource::new(csv, "csv")?;
        let options = esr_core::compliance::ImportOptions { skip_bad_rows };
        let core = &*self.core;
        source
            .read(
                py,
                |r| {
                    let mut text = esr_core::compliance::DecodingReader::new(r, encoding);
                    let summary = core.import_competences(&actor, vpd, &mut text, options)?;
                    Ok((summary, text.encoding_used()))
                },
                to_py,
            )
            .map(|(summary, used)| ImportSummary {
                encoding: used.to_owned(),
                ..summary.into()
            })
    }

    /// My Compliance: the session's user's rows (as of a date; default today in the UK).
    #[pyo3(signature = (session, as_of=None))]
    fn my_compliance(
        &self,
        py: Python<'_>,
        session: &Session,
        as_of: Option<NaiveDate>,
    ) -> PyResult<PersonCompliance> {
        let id = session.id;
        self.run(py, |c| c.my_compliance(id, as_of)).map(Into::into)
    }

    /// Another person's compliance, for someone who may see their record.
    #[pyo3(signature = (session, employee_number, as_of=None))]
    fn person_compliance(
        &self,
        py: Python<'_>,
        session: &Session,
        employee_number: &str,
        as_of: Option<NaiveDate>,
    ) -> PyResult<PersonCompliance> {
        let e: EmployeeNumber = parse(employee_number)?;
        let id = session.id;
        self.run(py, |c| c.person_compliance(id, &e, as_of))
            .map(Into::into)
    }

    /// Team Compliance: the manager's team and each member's compliance.
    #[pyo3(signature = (session, as_of=None))]
    fn team_compliance(
        &self,
        py: Python<'_>,
        session: &Session,
        as_of: Option<NaiveDate>,
    ) -> PyResult<TeamCompliance> {
        let id = session.id;
        self.run(py, |c| c.team_compliance(id, as_of))
            .map(Into::into)
    }

    /// The trust's compliance roll-ups by unit and competence against its target.
    #[pyo3(signature = (actor, vpd, as_of=None))]
    fn compliance_report(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        as_of: Option<NaiveDate>,
    ) -> PyResult<ComplianceReport> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.compliance_report(&actor, vpd, as_of))
            .map(Into::into)
    }

    /// The compliance matrix as CSV text.
    #[pyo3(signature = (actor, vpd, as_of=None))]
    fn compliance_matrix(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        as_of: Option<NaiveDate>,
    ) -> PyResult<String> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.compliance_matrix(&actor, vpd, as_of))
    }

    // ----- certifications and enrolment -----------------------------------------------------

    /// Defines a certification, or redefines one of the same name (needs Learning
    /// administration). `competence` must be active in the trust's catalogue; `level`: as ESR
    /// prints it (default "Not Assessed"); `renewal`: None when not renewable.
    #[pyo3(signature = (actor, vpd, name, *, competence, validity_days, completion_window_days,
                        components, level=None, renewal=None, mandatory=false,
                        completion_rule=CompletionRule::AllComponents))]
    #[allow(clippy::too_many_arguments)]
    fn define_certification(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        name: String,
        competence: String,
        validity_days: u32,
        completion_window_days: u32,
        components: Vec<Bound<'_, Component>>,
        level: Option<&str>,
        renewal: Option<Bound<'_, Renewal>>,
        mandatory: bool,
        completion_rule: CompletionRule,
    ) -> PyResult<()> {
        let actor = actor_of(actor)?;
        let cert = Certification {
            vpd: vpd.to_owned(),
            name,
            competence,
            level: level_or_default(level)?,
            validity_days,
            completion_window_days,
            renewal: renewal.map(|r| r.get().clone()),
            mandatory,
            components: components.iter().map(|c| c.get().clone()).collect(),
            completion_rule,
        }
        .to_core()?;
        self.run(py, |c| c.define_certification(&actor, cert))
    }

    /// The trust's certifications, by name.
    fn certifications(&self, py: Python<'_>, vpd: &str) -> PyResult<Vec<Certification>> {
        let vpd: VpdCode = parse(vpd)?;
        self.run(py, |c| c.certifications(vpd)).map(list)
    }

    /// Find Learning: the trust's certifications that award `competence`, by name.
    fn certifications_for(
        &self,
        py: Python<'_>,
        vpd: &str,
        competence: &str,
    ) -> PyResult<Vec<Certification>> {
        let vpd: VpdCode = parse(vpd)?;
        let comp: CompetenceName = parse(competence)?;
        self.run(py, |c| c.certifications_for(vpd, &comp)).map(list)
    }

    /// Subscribes a learner (themselves with My e-Learning, anyone else with Learning
    /// administration): the certification path begins, due within its completion window.
    fn subscribe(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        employee_number: &str,
        certification: &str,
    ) -> PyResult<Subscription> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let e: EmployeeNumber = parse(employee_number)?;
        self.run(py, |c| c.subscribe(&actor, vpd, &e, certification))
            .map(Into::into)
    }

    /// Unsubscribes: the subscription is cancelled (competences already awarded stay).
    fn unsubscribe(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        employee_number: &str,
        certification: &str,
    ) -> PyResult<Subscription> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let e: EmployeeNumber = parse(employee_number)?;
        self.run(py, |c| c.unsubscribe(&actor, vpd, &e, certification))
            .map(Into::into)
    }

    /// Enrols in a class of a component; in the renewal window (or after an expiry) the first
    /// enrolment begins a new cycle.
    #[allow(clippy::too_many_arguments)]
    fn enrol(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        employee_number: &str,
        certification: &str,
        course: &str,
        class_name: &str,
    ) -> PyResult<Enrolment> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let e: EmployeeNumber = parse(employee_number)?;
        self.run(py, |c| {
            c.enrol(&actor, vpd, &e, certification, course, class_name)
        })
        .map(Into::into)
    }

    /// Plays an enrolled component; when the completion rule is met the competence is
    /// recorded at once (PlayOutcome.awarded).
    #[allow(clippy::too_many_arguments)]
    fn play(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        employee_number: &str,
        certification: &str,
        course: &str,
        result: PlayResult,
    ) -> PyResult<PlayOutcome> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let e: EmployeeNumber = parse(employee_number)?;
        let result = result.into();
        self.run(py, |c| {
            c.play(&actor, vpd, &e, certification, course, result)
        })
        .map(Into::into)
    }

    /// Learning reported for a course (a content feed, or played from the catalogue): recorded
    /// against the one subscribed certification that takes it, or reported as not recorded
    /// with the reason.
    fn record_learning(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        employee_number: &str,
        course: &str,
        result: PlayResult,
    ) -> PyResult<LearningOutcome> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let e: EmployeeNumber = parse(employee_number)?;
        let result = result.into();
        self.run(py, |c| c.record_learning(&actor, vpd, &e, course, result))
            .map(Into::into)
    }

    /// A learner's subscriptions with their status today and the current cycle's enrolments.
    fn subscriptions(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        vpd: &str,
        employee_number: &str,
    ) -> PyResult<Vec<SubscriptionView>> {
        let actor = actor_of(actor)?;
        let vpd: VpdCode = parse(vpd)?;
        let e: EmployeeNumber = parse(employee_number)?;
        self.run(py, |c| c.subscriptions(&actor, vpd, &e)).map(list)
    }

    /// My e-Learning: the session's user's latest enrolments, newest first, at most
    /// MY_ELEARNING_LIMIT; `mandatory_only` keeps mandatory learning only.
    #[pyo3(signature = (session, mandatory_only=false))]
    fn my_elearning(
        &self,
        py: Python<'_>,
        session: &Session,
        mandatory_only: bool,
    ) -> PyResult<Vec<Enrolment>> {
        let id = session.id;
        self.run(py, |c| c.my_elearning(id, mandatory_only))
            .map(list)
    }

    // ----- authenticator apps --------------------------------------------------------------

    /// Sets the authenticator key ring: `current` is (key id, 32-byte secret) and seals new
    /// secrets; `retired` keys still open what they sealed. Without a ring, enrolling or
    /// checking an app raises PasscodeError.
    #[pyo3(signature = (current, retired=Vec::new()))]
    fn set_authenticator_keys(
        &self,
        current: (String, Vec<u8>),
        retired: Vec<(String, Vec<u8>)>,
    ) -> PyResult<()> {
        use esr_core::authenticator::{AuthenticatorKey, AuthenticatorKeys};
        let key = |id: &str, secret: &[u8]| AuthenticatorKey::new(id, secret).map_err(to_py);
        let mut ring = AuthenticatorKeys::new(key(&current.0, &current.1)?);
        for (id, secret) in retired {
            ring = ring.with_retired(key(&id, &secret)?).map_err(to_py)?;
        }
        self.core.set_authenticator_keys(ring);
        Ok(())
    }

    /// Enrols an authenticator app for the session's user (HSCN sessions only); it is active
    /// once confirm_authenticator accepts its first code. Enrolling again replaces it.
    fn enrol_authenticator(
        &self,
        py: Python<'_>,
        session: &Session,
    ) -> PyResult<crate::authenticator::AuthenticatorEnrolment> {
        let id = session.id;
        self.run(py, |c| c.enrol_authenticator(id))
            .map(|inner| crate::authenticator::AuthenticatorEnrolment { inner })
    }

    /// Confirms the enrolled app with its first code, from the HSCN session.
    fn confirm_authenticator(
        &self,
        py: Python<'_>,
        session: &Session,
        code: &str,
    ) -> PyResult<crate::authenticator::AuthenticatorOutcome> {
        let id = session.id;
        self.run(py, |c| c.confirm_authenticator(id, code))
            .map(Into::into)
    }

    /// Upgrades an internet session with a code from the user's authenticator app. A code's
    /// time step is accepted once; a code of the wrong shape raises InvalidInputError.
    fn upgrade_with_authenticator(
        &self,
        py: Python<'_>,
        session: &Session,
        code: &str,
    ) -> PyResult<crate::authenticator::AuthenticatorOutcome> {
        let id = session.id;
        self.run(py, |c| c.upgrade_with_authenticator(id, code))
            .map(Into::into)
    }

    /// The second factors the session's user has, to choose one to upgrade with.
    fn second_factors(
        &self,
        py: Python<'_>,
        session: &Session,
    ) -> PyResult<crate::authenticator::SecondFactors> {
        let id = session.id;
        self.run(py, |c| c.second_factors(id)).map(Into::into)
    }

    /// Removes a user's authenticator app (needs Reset accounts).
    fn remove_authenticator(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        username: &str,
        reason: &str,
    ) -> PyResult<()> {
        let actor = actor_of(actor)?;
        let u: Username = parse(username)?;
        self.run(py, |c| c.remove_authenticator(&actor, &u, reason))
    }

    fn __repr__(&self) -> String {
        "Esr(in memory)".to_owned()
    }
}

/// The names of every ESR function, for Esr.decide.
#[pyfunction]
fn function_names() -> Vec<&'static str> {
    Function::ALL.iter().map(|f| f.name()).collect()
}

/// Adds the service classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Esr>()?;
    m.add_class::<Session>()?;
    m.add_class::<SessionSummary>()?;
    m.add_class::<VerifyOutcome>()?;
    m.add_function(wrap_pyfunction!(function_names, m)?)?;
    Ok(())
}
