//! Python shapes of the core's values: enums, frozen records (whose `repr` never shows a
//! secret) and the conversions between Python and the core.

use crate::errors::{InvalidInputError, to_py, wrong_type};
use esr_core::chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};
use pyo3::prelude::*;
use pyo3::types::PyDateTime;
use std::str::FromStr;

/// Parses a core value from text, raising InvalidInputError with the core's reason.
pub(crate) fn parse<T: FromStr>(text: &str) -> PyResult<T>
where
    T::Err: Into<esr_core::Error>,
{
    text.parse().map_err(to_py)
}

/// A timezone-aware datetime as a UTC instant; a naive one is refused.
/// `arg` names the argument in the errors: TypeError for something not a datetime,
/// InvalidInputError for a naive one or one whose time zone gives no fixed offset, ValueError for
/// an instant outside the years 1 to 9999 in UTC (which Python could not be given back).
pub(crate) fn utc(value: &Bound<'_, PyAny>, arg: &str) -> PyResult<DateTime<Utc>> {
    let dt = value
        .cast::<PyDateTime>()
        .map_err(|_| wrong_type(arg, "a timezone-aware datetime.datetime", value))?;
    if dt.getattr("tzinfo")?.is_none() || dt.call_method0("utcoffset")?.is_none() {
        return Err(InvalidInputError::new_err(format!(
            "invalid datetime: {arg} is naive (no tzinfo, or one without an offset); give a timezone-aware datetime, such as datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)",
        )));
    }
    let fixed: DateTime<FixedOffset> = dt.extract().map_err(|e| {
        InvalidInputError::new_err(format!(
            "invalid datetime: {arg} has a time zone esr cannot read ({e}); give it with a fixed offset, such as timezone.utc"
        ))
    })?;
    let t = fixed.with_timezone(&Utc);
    if !in_python_range(t) {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "argument '{arg}': in UTC it falls outside the years 1 to 9999"
        )));
    }
    Ok(t)
}

/// Whether Python's datetime can hold `t` (years 1 to 9999), so every instant esr keeps can be
/// given back.
pub(crate) fn in_python_range(t: DateTime<Utc>) -> bool {
    use esr_core::chrono::Datelike;
    (1..=9999).contains(&t.year())
}

/// Defines a Python enum. Over a core enum, printing as the core prints it:
/// `py_enum!(Name: core::Enum { Variant = "PY_NAME", .. })`; over a core enum with the
/// bindings' own wording: `.. { Variant = "PY_NAME" => "text", .. }`; or a Python-only enum
/// (a core value's kind): `py_enum!(Name { Variant = "PY_NAME" => "text", .. })`.
macro_rules! py_enum {
    ($(#[$m:meta])* $name:ident : $core:ty { $($(#[$vm:meta])* $variant:ident = $py:literal),* $(,)? }) => {
        py_enum!(@class $(#[$m])* $name { $($(#[$vm])* $variant = $py),* });
        py_enum!(@convert $name : $core { $($variant),* });
        impl $name {
            fn text(self) -> String {
                <$core>::from(self).to_string()
            }
        }
    };
    ($(#[$m:meta])* $name:ident : $core:ty { $($(#[$vm:meta])* $variant:ident = $py:literal => $text:literal),* $(,)? }) => {
        py_enum!($(#[$m])* $name { $($(#[$vm])* $variant = $py => $text),* });
        py_enum!(@convert $name : $core { $($variant),* });
    };
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $py:literal => $text:literal),* $(,)? }) => {
        py_enum!(@class $(#[$m])* $name { $($(#[$vm])* $variant = $py),* });
        impl $name {
            fn text(self) -> String {
                match self {
                    $(Self::$variant => $text,)*
                }
                .to_owned()
            }
        }
    };
    (@class $(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $py:literal),* }) => {
        $(#[$m])*
        #[pyclass(frozen, eq, eq_int, hash, from_py_object, module = "esr._esr")]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub(crate) enum $name {
            $($(#[$vm])* #[pyo3(name = $py)] $variant),*
        }
        #[pymethods]
        impl $name {
            fn __str__(&self) -> String {
                self.text()
            }
            fn __repr__(&self) -> String {
                match self {
                    $(Self::$variant => format!("{}.{}", stringify!($name), $py),)*
                }
            }
        }
    };
    (@convert $name:ident : $core:ty { $($variant:ident),* }) => {
        impl From<$core> for $name {
            fn from(v: $core) -> Self {
                #[allow(unreachable_patterns)]
                match v {
                    $(<$core>::$variant => Self::$variant,)*
                }
            }
        }
        impl From<$name> for $core {
            fn from(v: $name) -> Self {
                match v {
                    $($name::$variant => <$core>::$variant,)*
                }
            }
        }
    };
}
pub(crate) use py_enum;

py_enum!(
    /// How a user reached ESR.
    Channel: esr_core::access::Channel {
        /// The NHS network, with a smartcard.
        Hscn = "HSCN",
        /// The internet, with username and password.
        Internet = "INTERNET",
    }
);
py_enum!(
    /// What a one-time code or link is for.
    Purpose: esr_core::passcode::Purpose {
        /// Registering a first mobile number.
        RegisterMobile = "REGISTER_MOBILE",
        /// Changing the mobile number.
        ChangeMobile = "CHANGE_MOBILE",
        /// Upgrading an internet session.
        UpgradeSession = "UPGRADE_SESSION",
        /// A password-reset link.
        ResetPassword = "RESET_PASSWORD",
        /// An unlock link.
        UnlockAccount = "UNLOCK_ACCOUNT",
    }
);
py_enum!(
    /// A challenge's state.
    ChallengeStatus: esr_core::passcode::ChallengeStatus {
        /// Waiting for the code.
        Pending = "PENDING",
        /// Verified.
        Approved = "APPROVED",
        /// A newer code was sent.
        Superseded = "SUPERSEDED",
        /// Its 10 minutes are up.
        Expired = "EXPIRED",
        /// Too many wrong guesses.
        MaxAttemptsReached = "MAX_ATTEMPTS_REACHED",
    }
);
py_enum!(
    /// An account's state.
    AccountState: esr_core::people::AccountState {
        /// Usable.
        Active = "ACTIVE",
        /// Locked after failed log-ins.
        Locked = "LOCKED",
        /// Suspended by an administrator.
        Suspended = "SUSPENDED",
        /// Ended (a leaver).
        Ended = "ENDED",
    }
);
py_enum!(
    /// A compliance row's RAG status.
    ComplianceStatus: esr_core::compliance::ComplianceStatus {
        /// Not held, or expired.
        Red = "RED",
        /// Expires within the amber window.
        Amber = "AMBER",
        /// Held and in date.
        Green = "GREEN",
        /// Desirable, not essential.
        Blue = "BLUE",
    }
);

/// Defines a frozen record class with read-only attributes and a `repr` of them all (so a
/// record holds nothing secret), plus any further methods.
macro_rules! record {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? } $($extra:item)*) => {
        $(#[$m])*
        #[pyclass(frozen, get_all, module = "esr._esr")]
        #[derive(Clone)]
        pub(crate) struct $name {
            $($(#[$fm])* pub(crate) $field: $ty),*
        }
        #[pymethods]
        impl $name {
            fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
                let parts: Vec<String> = vec![$(
                    format!("{}={}", stringify!($field), slf.getattr(stringify!($field))?.repr()?),
                )*];
                Ok(format!("{}({})", stringify!($name), parts.join(", ")))
            }
            $($extra)*
        }
    };
}

pub(crate) use record;

record!(
    /// An organisation unit of a trust.
    OrgUnit { id: String, name: String, parent: Option<String> }
);
record!(
    /// A trust's settings.
    TrustSettings {
        automatic_internet_access: bool,
        upgrade_manager: bool,
        upgrade_professional: bool,
        enabled_portlets: Vec<String>,
        local_bi_portlets: Vec<String>,
        sms_template: String,
    }
);
record!(
    /// A trust (a tenant).
    Trust {
        vpd: String,
        name: String,
        settings: TrustSettings,
        org_units: Vec<OrgUnit>,
        created_at: DateTime<Utc>,
    }
);
record!(
    /// A person. The mobile number is only ever the masked one.
    Person {
        vpd: String,
        employee_number: String,
        username: String,
        given_name: String,
        family_name: String,
        date_of_birth: NaiveDate,
        recruitment_email: String,
        mobile_masked: Option<String>,
        created_at: DateTime<Utc>,
    }
);
record!(
    /// An account (its password hash is never shown).
    Account {
        username: String,
        employee_number: String,
        state: AccountState,
        failed_logins: u32,
        has_password: bool,
        internet_access_approved: bool,
        state_changed_at: DateTime<Utc>,
        passcode_failures: u32,
        step_up_locked: bool,
    }
);
record!(
    /// An assignment (a job a person holds).
    Assignment {
        vpd: String,
        number: String,
        employee_number: String,
        title: String,
        position: String,
        org_unit: String,
        supervisor: Option<String>,
    }
);
record!(
    /// Whether a session may use a function, and if not why. True when allowed.
    AccessDecision { function: String, allowed: bool, reason: Option<String> }
    fn __bool__(&self) -> bool {
        self.allowed
    }
);
record!(
    /// A URP grant, active or revoked.
    UrpGrant {
        id: String,
        vpd: String,
        holder: String,
        urp: String,
        org_units: Option<Vec<String>>,
        granted_by: String,
        granted_at: DateTime<Utc>,
        reason: String,
        approval: String,
        active: bool,
        revoked_at: Option<DateTime<Utc>>,
        revoked_by: Option<String>,
        revoke_reason: Option<String>,
    }
);
record!(
    /// A row of the URP audit report.
    UrpReportRow {
        username: String,
        employee_number: String,
        name: String,
        account_state: AccountState,
        urp: String,
        scope: String,
        held_since: DateTime<Utc>,
        granted_by: String,
        reason: String,
        approval: String,
    }
);
record!(
    /// On what bases an actor may view and change a record.
    RecordAccess { view: Vec<String>, change: Vec<String>, can_view: bool, can_change: bool }
);
record!(
    /// A person's record as a viewer sees it.
    PersonRecord { person: Person, assignments: Vec<Assignment>, basis: String }
);
record!(
    /// A member of a manager's team.
    TeamMember { assignment: Assignment, given_name: String, family_name: String, depth: u32 }
);
record!(
    /// An entry of a trust's audit trail.
    AuditEntry {
        vpd: String,
        seq: u64,
        at: DateTime<Utc>,
        actor: String,
        event: String,
        prev_hash: String,
        hash: String,
    }
);
record!(
    /// The head of a verified audit trail: keep it outside the store.
    AuditHead { seq: u64, hash: String }
    /// A head kept outside the store (its sequence number and hash), to verify against.
    #[new]
    fn new(seq: u64, hash: String) -> Self {
        Self { seq, hash }
    }
);
/// A code that was sent: where (masked), until when, time and attempts left.
///
/// Written out rather than made by `record!`: it keeps its id parsed as well as printed, so
/// passing it back to `verify_passcode` does not parse the id again.
#[pyclass(frozen, module = "esr._esr")]
#[derive(Clone)]
pub(crate) struct PasscodeChallenge {
    pub(crate) key: esr_core::ChallengeId,
    #[pyo3(get)]
    pub(crate) id: String,
    #[pyo3(get)]
    pub(crate) purpose: Purpose,
    #[pyo3(get)]
    pub(crate) masked_destination: String,
    #[pyo3(get)]
    pub(crate) issued_at: DateTime<Utc>,
    #[pyo3(get)]
    pub(crate) expires_at: DateTime<Utc>,
    #[pyo3(get)]
    pub(crate) time_left: TimeDelta,
    #[pyo3(get)]
    pub(crate) status: ChallengeStatus,
    #[pyo3(get)]
    pub(crate) attempts_left: u32,
    #[pyo3(get)]
    pub(crate) message: String,
}

#[pymethods]
impl PasscodeChallenge {
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let mut parts = Vec::new();
        for field in [
            "id",
            "purpose",
            "masked_destination",
            "issued_at",
            "expires_at",
            "time_left",
            "status",
            "attempts_left",
            "message",
        ] {
            parts.push(format!("{field}={}", slf.getattr(field)?.repr()?));
        }
        Ok(format!("PasscodeChallenge({})", parts.join(", ")))
    }
}
record!(
    /// Counts of essential rows by status, and the percentage compliant (None: nothing required).
    ComplianceCounts { essential: u32, green: u32, amber: u32, red: u32, percent: Option<f64> }
);
record!(
    /// One competence row of an assignment's compliance.
    ComplianceRow {
        competence: String,
        need: String,
        held: bool,
        expiry: Option<NaiveDate>,
        never_expires: bool,
        level: Option<String>,
        satisfied_by: Option<String>,
        status: Option<ComplianceStatus>,
        min_level: Option<String>,
        red_reason: Option<String>,
    }
);
record!(
    /// One assignment's compliance.
    AssignmentCompliance {
        assignment: String,
        title: String,
        org_unit: String,
        as_of: NaiveDate,
        rows: Vec<ComplianceRow>,
        counts: ComplianceCounts,
    }
);
record!(
    /// A person's compliance over their assignments.
    PersonCompliance {
        employee_number: String,
        as_of: NaiveDate,
        assignments: Vec<AssignmentCompliance>,
        summary: ComplianceCounts,
    }
);
record!(
    /// A team member with their assignment's compliance.
    TeamComplianceMember {
        assignment: Assignment,
        given_name: String,
        family_name: String,
        depth: u32,
        compliance: AssignmentCompliance,
    }
);
record!(
    /// The Team Compliance portlet.
    TeamCompliance { as_of: NaiveDate, members: Vec<TeamComplianceMember> }
);
record!(
    /// A roll-up of compliance by organisation unit or competence.
    RollUp { key: String, assignments: u32, counts: ComplianceCounts, target: u8 }
);
record!(
    /// The trust's compliance roll-ups against its target.
    ComplianceReport {
        as_of: NaiveDate,
        target: u8,
        trust: ComplianceCounts,
        by_unit: Vec<RollUp>,
        by_competence: Vec<RollUp>,
    }
);
record!(
    /// A trust's compliance target and amber window.
    ComplianceSettings { target_percent: u8, amber_months: u32 }
);
record!(
    /// A competence of a trust's catalogue.
    CompetenceDefinition { name: String, display_name: String, refresher_months: Option<u32>, active: bool }
);
record!(
    /// A competence required of a position, an organisation unit or a job.
    Requirement { vpd: String, target_kind: String, target: String, competence: String, essential: bool, min_level: Option<String> }
);
record!(
    /// A competence a person holds.
    CompetenceRecord {
        vpd: String,
        employee_number: String,
        competence: String,
        achieved: NaiveDate,
        expiry: Option<NaiveDate>,
        level: String,
    }
);
record!(
    /// A row of a competence import that was refused.
    ImportProblem { line: u64, reason: String }
);
record!(
    /// What a competence import did: `skipped` lists the first 1,000 bad rows skipped,
    /// `more_skipped` counts any beyond them; `encoding` is the one the file was read in
    /// ("utf-8", "utf-8-sig", "windows-1252", or the one named).
    ImportSummary {
        imported: usize,
        merged_duplicates: usize,
        skipped: Vec<ImportProblem>,
        more_skipped: u64,
        encoding: String
    }
);

impl From<esr_core::org::Trust> for Trust {
    fn from(t: esr_core::org::Trust) -> Self {
        Self {
            vpd: t.vpd.to_string(),
            name: t.name,
            settings: t.settings.into(),
            org_units: t
                .org_units
                .into_values()
                .map(|u| OrgUnit {
                    id: u.id.to_string(),
                    name: u.name,
                    parent: u.parent.map(|p| p.to_string()),
                })
                .collect(),
            created_at: t.created_at,
        }
    }
}

impl From<esr_core::org::TrustSettings> for TrustSettings {
    fn from(s: esr_core::org::TrustSettings) -> Self {
        Self {
            automatic_internet_access: s.automatic_internet_access,
            upgrade_manager: s.upgrade_access.manager,
            upgrade_professional: s.upgrade_access.professional,
            enabled_portlets: s
                .dashboard
                .enabled()
                .into_iter()
                .map(|p| p.name().to_owned())
                .collect(),
            local_bi_portlets: s.dashboard.local_bi_portlets().to_vec(),
            sms_template: s.sms_template.as_str().to_owned(),
        }
    }
}

impl From<esr_core::people::Person> for Person {
    fn from(p: esr_core::people::Person) -> Self {
        Self {
            vpd: p.vpd.to_string(),
            employee_number: p.employee_number.to_string(),
            username: p.username.to_string(),
            given_name: p.name.given,
            family_name: p.name.family,
            date_of_birth: p.date_of_birth,
            recruitment_email: p.recruitment_email.to_string(),
            mobile_masked: p.mobile.map(|m| m.masked()),
            created_at: p.created_at,
        }
    }
}

impl From<esr_core::people::Account> for Account {
    fn from(a: esr_core::people::Account) -> Self {
        Self {
            username: a.username.to_string(),
            employee_number: a.employee_number.to_string(),
            state: a.state.into(),
            failed_logins: a.failed_logins,
            has_password: a.password_hash.is_some(),
            internet_access_approved: a.internet_access_approved,
            state_changed_at: a.state_changed_at,
            passcode_failures: a.passcode_failures,
            step_up_locked: a.step_up_locked,
        }
    }
}

impl From<esr_core::people::Assignment> for Assignment {
    fn from(a: esr_core::people::Assignment) -> Self {
        Self {
            vpd: a.vpd.to_string(),
            number: a.number.to_string(),
            employee_number: a.employee_number.to_string(),
            title: a.title,
            position: a.position.to_string(),
            org_unit: a.org_unit.to_string(),
            supervisor: a.supervisor.map(|s| s.to_string()),
        }
    }
}

impl From<esr_core::urp::UrpGrant> for UrpGrant {
    fn from(g: esr_core::urp::UrpGrant) -> Self {
        let active = g.is_active();
        Self {
            id: g.id.to_string(),
            vpd: g.vpd.to_string(),
            holder: g.holder.to_string(),
            urp: g.urp.name().to_owned(),
            org_units: match g.scope {
                esr_core::urp::GrantScope::WholeTrust => None,
                esr_core::urp::GrantScope::OrgUnits(u) => {
                    Some(u.iter().map(ToString::to_string).collect())
                }
            },
            granted_by: g.granted_by.to_string(),
            granted_at: g.granted_at,
            reason: g.reason,
            approval: g.approval.to_string(),
            active,
            revoked_at: g.revoked.as_ref().map(|r| r.at),
            revoked_by: g.revoked.as_ref().map(|r| r.by.to_string()),
            revoke_reason: g.revoked.map(|r| r.reason),
        }
    }
}

impl From<esr_core::urp::UrpReportRow> for UrpReportRow {
    fn from(r: esr_core::urp::UrpReportRow) -> Self {
        Self {
            username: r.username.to_string(),
            employee_number: r.employee_number.to_string(),
            name: r.name,
            account_state: r.account_state.into(),
            urp: r.urp.name().to_owned(),
            scope: r.scope,
            held_since: r.held_since,
            granted_by: r.granted_by,
            reason: r.reason,
            approval: r.approval,
        }
    }
}

impl From<esr_core::people::RecordAccess> for RecordAccess {
    fn from(r: esr_core::people::RecordAccess) -> Self {
        Self {
            can_view: r.can_view(),
            can_change: r.can_change(),
            view: r.view.iter().map(ToString::to_string).collect(),
            change: r.change.iter().map(ToString::to_string).collect(),
        }
    }
}

impl From<esr_core::people::PersonRecord> for PersonRecord {
    fn from(r: esr_core::people::PersonRecord) -> Self {
        Self {
            person: r.person.into(),
            assignments: r.assignments.into_iter().map(Into::into).collect(),
            basis: r.basis.to_string(),
        }
    }
}

impl From<esr_core::people::TeamMember> for TeamMember {
    fn from(m: esr_core::people::TeamMember) -> Self {
        Self {
            assignment: m.assignment.into(),
            given_name: m.name.given,
            family_name: m.name.family,
            depth: m.depth,
        }
    }
}

impl From<esr_core::audit::AuditEntry> for AuditEntry {
    fn from(e: esr_core::audit::AuditEntry) -> Self {
        Self {
            vpd: e.vpd.to_string(),
            seq: e.seq,
            at: e.at,
            actor: e.actor.to_string(),
            event: e.event.to_string(),
            prev_hash: e.prev_hash.to_string(),
            hash: e.hash.to_string(),
        }
    }
}

impl From<esr_core::audit::AuditHead> for AuditHead {
    fn from(h: esr_core::audit::AuditHead) -> Self {
        Self {
            seq: h.seq,
            hash: h.hash.to_string(),
        }
    }
}

impl PasscodeChallenge {
    pub(crate) fn of(c: esr_core::passcode::PasscodeChallenge, now: DateTime<Utc>) -> Self {
        Self {
            key: c.id,
            id: c.id.to_string(),
            purpose: c.purpose.into(),
            masked_destination: c.masked_destination.clone(),
            issued_at: c.issued_at,
            expires_at: c.expires_at,
            time_left: c.time_left(now),
            status: c.status.into(),
            attempts_left: c.attempts_left,
            message: c.message(),
        }
    }
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

impl From<esr_core::compliance::ComplianceRow> for ComplianceRow {
    fn from(r: esr_core::compliance::ComplianceRow) -> Self {
        let (held, expiry, never_expires) = match r.holding {
            esr_core::compliance::Holding::NotHeld => (false, None, false),
            esr_core::compliance::Holding::Expires(d) => (true, Some(d), false),
            esr_core::compliance::Holding::NeverExpires => (true, None, true),
        };
        Self {
            competence: r.competence.to_string(),
            need: match r.need {
                esr_core::compliance::Need::Essential => "essential",
                esr_core::compliance::Need::Desirable => "desirable",
                esr_core::compliance::Need::NotRequired => "not required",
            }
            .to_owned(),
            held,
            expiry,
            never_expires,
            level: r.level.map(|l| l.to_string()),
            satisfied_by: r.satisfied_by.map(|s| s.to_string()),
            status: r.status.map(Into::into),
            min_level: r.min_level.map(|l| l.to_string()),
            red_reason: r.reason.map(|r| r.to_string()),
        }
    }
}

impl From<esr_core::compliance::AssignmentCompliance> for AssignmentCompliance {
    fn from(a: esr_core::compliance::AssignmentCompliance) -> Self {
        Self {
            assignment: a.assignment.to_string(),
            title: a.title,
            org_unit: a.org_unit.to_string(),
            as_of: a.as_of,
            rows: a.rows.into_iter().map(Into::into).collect(),
            counts: a.counts.into(),
        }
    }
}

impl From<esr_core::compliance::PersonCompliance> for PersonCompliance {
    fn from(p: esr_core::compliance::PersonCompliance) -> Self {
        Self {
            employee_number: p.employee_number.to_string(),
            as_of: p.as_of,
            assignments: p.assignments.into_iter().map(Into::into).collect(),
            summary: p.summary.into(),
        }
    }
}

impl From<esr_core::compliance::TeamCompliance> for TeamCompliance {
    fn from(t: esr_core::compliance::TeamCompliance) -> Self {
        Self {
            as_of: t.as_of,
            members: t
                .members
                .into_iter()
                .map(|m| TeamComplianceMember {
                    assignment: m.assignment.into(),
                    given_name: m.name.given,
                    family_name: m.name.family,
                    depth: m.depth,
                    compliance: m.compliance.into(),
                })
                .collect(),
        }
    }
}

impl<K: ToString> From<esr_core::compliance::RollUp<K>> for RollUp {
    fn from(r: esr_core::compliance::RollUp<K>) -> Self {
        Self {
            key: r.key.to_string(),
            assignments: r.assignments,
            counts: r.counts.into(),
            target: r.target,
        }
    }
}

impl From<esr_core::compliance::ComplianceReport> for ComplianceReport {
    fn from(r: esr_core::compliance::ComplianceReport) -> Self {
        Self {
            as_of: r.as_of,
            target: r.target,
            trust: r.trust.into(),
            by_unit: r.by_unit.into_iter().map(Into::into).collect(),
            by_competence: r.by_competence.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<esr_core::compliance::CompetenceDefinition> for CompetenceDefinition {
    fn from(d: esr_core::compliance::CompetenceDefinition) -> Self {
        Self {
            display_name: d.name.display_name(),
            name: d.name.to_string(),
            refresher_months: d.refresher_months,
            active: d.active,
        }
    }
}

impl From<esr_core::compliance::Requirement> for Requirement {
    fn from(r: esr_core::compliance::Requirement) -> Self {
        let (kind, target) = match r.target {
            esr_core::compliance::RequirementTarget::Position(p) => ("position", p.to_string()),
            esr_core::compliance::RequirementTarget::OrgUnit(u) => ("org_unit", u.to_string()),
            esr_core::compliance::RequirementTarget::Job(j) => ("job", j),
        };
        Self {
            vpd: r.vpd.to_string(),
            target_kind: kind.to_owned(),
            target,
            competence: r.competence.to_string(),
            essential: r.essential,
            min_level: r.min_level.map(|l| l.to_string()),
        }
    }
}

impl From<esr_core::compliance::CompetenceRecord> for CompetenceRecord {
    fn from(r: esr_core::compliance::CompetenceRecord) -> Self {
        Self {
            vpd: r.vpd.to_string(),
            employee_number: r.employee_number.to_string(),
            competence: r.competence.to_string(),
            achieved: r.achieved,
            expiry: r.expiry,
            level: r.level.to_string(),
        }
    }
}

impl From<esr_core::compliance::ImportSummary> for ImportSummary {
    fn from(s: esr_core::compliance::ImportSummary) -> Self {
        Self {
            imported: s.imported,
            merged_duplicates: s.merged_duplicates,
            encoding: "utf-8".to_owned(),
            more_skipped: s.skipped.more(),
            skipped: s
                .skipped
                .into_iter()
                .map(|p| ImportProblem {
                    line: p.line,
                    reason: p.reason,
                })
                .collect(),
        }
    }
}

/// Adds the enums and record classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Channel>()?;
    m.add_class::<Purpose>()?;
    m.add_class::<ChallengeStatus>()?;
    m.add_class::<AccountState>()?;
    m.add_class::<ComplianceStatus>()?;
    m.add_class::<OrgUnit>()?;
    m.add_class::<TrustSettings>()?;
    m.add_class::<Trust>()?;
    m.add_class::<Person>()?;
    m.add_class::<Account>()?;
    m.add_class::<Assignment>()?;
    m.add_class::<AccessDecision>()?;
    m.add_class::<UrpGrant>()?;
    m.add_class::<UrpReportRow>()?;
    m.add_class::<RecordAccess>()?;
    m.add_class::<PersonRecord>()?;
    m.add_class::<TeamMember>()?;
    m.add_class::<AuditEntry>()?;
    m.add_class::<AuditHead>()?;
    m.add_class::<PasscodeChallenge>()?;
    m.add_class::<ComplianceCounts>()?;
    m.add_class::<ComplianceRow>()?;
    m.add_class::<AssignmentCompliance>()?;
    m.add_class::<PersonCompliance>()?;
    m.add_class::<TeamComplianceMember>()?;
    m.add_class::<TeamCompliance>()?;
    m.add_class::<RollUp>()?;
    m.add_class::<ComplianceReport>()?;
    m.add_class::<ComplianceSettings>()?;
    m.add_class::<CompetenceDefinition>()?;
    m.add_class::<Requirement>()?;
    m.add_class::<CompetenceRecord>()?;
    m.add_class::<ImportProblem>()?;
    m.add_class::<ImportSummary>()?;
    Ok(())
}
