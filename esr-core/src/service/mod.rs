//! The service: every rule of the domain, over any [`Store`], with injected time and randomness.

use crate::access::{
    AccessContext, AccessDecision, Channel, Denial, Function, allowed_functions, decide,
    has_internet_access, upgrade_blocker,
};
use crate::people::{
    Account, AccountState, NewPerson, Password, PasswordHash, PasswordHashing, Person, PersonName,
};
use crate::people::{Assignment, NewAssignment};
use crate::audit::{AuditActor, AuditEntry, AuditEvent, AuditHead, ChainVerifier};
use crate::values::Clock;
use crate::error::{Error, Result};
use crate::values::{
    AssignmentNumber, EmailAddress, EmployeeNumber, GrantId, OrgUnitId, SessionId, SessionRef,
    VpdCode, clean_text,
};
use crate::values::limits::MAX_REASON_CHARS;
use crate::store::InMemoryStore;
use crate::org::{NationalPortlet, Trust, TrustSettings, UpgradeAccess};
use crate::values::SecureRandom;
use crate::urp::UrpReportRow;
use crate::access::{
    MobileConfirmation, Session, SessionEnd, SessionEndReason, SmartcardAuthentication,
    StepUpProof, Upgrade,
};
use crate::store::{Store, StoreTx};
use crate::urp::{
    Approval, ApprovalRefusal, GrantScope, Grantor, Revocation, Urp, UrpGrant, UrpKind,
};
use crate::values::username::{MAX_SEQUENCE, Username, UsernameStem};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::sync::Mutex;

/// Settings of the service itself (trust settings live with each trust).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Config {
    /// Consecutive failed password log-ins that lock an account (1 to 100; default 5).
    pub max_failed_logins: u32,
    /// Argon2id cost for new password hashes.
    pub password_hashing: PasswordHashing,
    /// How long a session lasts from log-in, whatever is done in it (1 minute to 7 days;
    /// default 12 hours). An expired session answers [`Error::SessionExpired`].
    pub session_lifetime: TimeDelta,
    /// Limits on one-time passcodes and recovery links.
    pub passcodes: crate::passcode::PasscodePolicy,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_failed_logins: 5,
            password_hashing: PasswordHashing::default(),
            session_lifetime: TimeDelta::hours(12),
            passcodes: crate::passcode::PasscodePolicy::default(),
        }
    }
}

/// Who is acting: a user in a session (whose functions are checked), or a process of the
/// embedding system (a new-starter feed, the trust's set-up), which is trusted and audited by name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Actor {
    /// A user, through a live session.
    Session(SessionId),
    /// A named process of the embedding system.
    System(String),
}

impl Actor {
    /// A system process, named for the audit trail (`"nhs-jobs-feed"`).
    pub fn system(process: &str) -> Result<Self> {
        Ok(Self::System(clean_text(
            "process name",
            process,
            crate::values::limits::MAX_ACTOR_NAME_CHARS,
        )?))
    }
}

impl From<SessionId> for Actor {
    fn from(id: SessionId) -> Self {
        Self::Session(id)
    }
}

/// A request to grant a URP.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GrantRequest {
    /// Who receives it.
    pub holder: Username,
    /// What.
    pub urp: Urp,
    /// Where it applies. Administrator Self Service needs named organisation units.
    pub scope: GrantScope,
    /// How the need was verified: the line manager for everything beyond employee-level URPs.
    pub approval: Approval,
    /// Why, for the audit report.
    pub reason: String,
}

/// On what basis someone may see or change a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RecordBasis {
    /// It is their own record.
    Own,
    /// The person reports to them, directly or through others.
    LineManager,
    /// The person works in an organisation unit delegated to them.
    DelegatedAdministrator,
    /// The person is within the scope of a professional URP they hold.
    Professional(Urp),
}

impl RecordBasis {
    /// The function a session needs to view a record on this basis; `None` where none is
    /// needed (everyone sees their own record).
    pub(crate) fn view_function(self) -> Option<Function> {
        match self {
            Self::Own => None,
            Self::LineManager => Some(Function::ViewTeamRecords),
            Self::DelegatedAdministrator => Some(Function::AdministerDelegatedRecords),
            Self::Professional(_) => Some(Function::ViewStaffRecords),
        }
    }
    /// The function a session needs to change a record on this basis.
    pub(crate) fn change_function(self) -> Option<Function> {
        Some(match self {
            Self::Own => Function::UpdateOwnDetails,
            Self::LineManager => Function::UpdateTeamRecords,
            Self::DelegatedAdministrator => Function::AdministerDelegatedRecords,
            Self::Professional(_) => Function::ChangeStaffRecords,
        })
    }
}

impl fmt::Display for RecordBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Own => f.write_str("own record"),
            Self::LineManager => f.write_str("line manager"),
            Self::DelegatedAdministrator => f.write_str("delegated administrator"),
            Self::Professional(u) => write!(f, "{u}"),
        }
    }
}

/// What an actor may do with a person's record, whatever the channel, from the URPs they hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RecordAccess {
    /// The bases on which they may view it (empty: not at all).
    pub view: Vec<RecordBasis>,
    /// The bases on which they may change it.
    pub change: Vec<RecordBasis>,
}

impl RecordAccess {
    /// Whether any basis allows viewing.
    pub fn can_view(&self) -> bool {
        !self.view.is_empty()
    }
    /// Whether any basis allows changing.
    pub fn can_change(&self) -> bool {
        !self.change.is_empty()
    }
}

/// A person's record as a viewer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PersonRecord {
    /// The person (the mobile number prints masked).
    pub person: Person,
    /// Their assignments.
    pub assignments: Vec<Assignment>,
    /// The basis on which it was shown.
    pub basis: RecordBasis,
}

/// A change to a person's details; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DetailsChange {
    /// A new given name.
    pub given_name: Option<String>,
    /// A new surname.
    pub family_name: Option<String>,
    /// A new recruitment e-mail address.
    pub recruitment_email: Option<EmailAddress>,
}

/// One member of a manager's team.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TeamMember {
    /// The member's assignment that reports into the manager's line.
    pub assignment: Assignment,
    /// The member's name.
    pub name: PersonName,
    /// 1 for a direct report, 2 for a report's report, and so on.
    pub depth: u32,
}

/// The library's front door: the rules of DOMAIN.md over a store, a clock and an RNG.
///
/// Every method either applies fully and records its audit entries in the same transaction, or
/// returns an [`Error`] and changes nothing.
pub struct Esr<S: Store = InMemoryStore, C: Clock = crate::values::SystemClock> {
    pub(crate) store: S,
    pub(crate) clock: C,
    pub(crate) rng: Mutex<Box<dyn SecureRandom>>,
    pub(crate) config: Config,
    /// Where texted codes go.
    pub(crate) sms: Option<std::sync::Arc<dyn crate::passcode::SmsSender>>,
    /// Where recovery e-mails go.
    pub(crate) email: Option<std::sync::Arc<dyn crate::passcode::EmailSender>>,
    /// The passcode key ring; a random one is made on first use if none is given.
    pub(crate) keys: std::sync::RwLock<Option<crate::passcode::SharedKeys>>,
    /// A hash to verify against when the username is unknown or has no password, so that those
    /// take as long as a wrong password. Made on first use with the configured cost.
    dummy_hash: std::sync::OnceLock<Option<PasswordHash>>,
}

impl<S: Store, C: Clock> fmt::Debug for Esr<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Esr")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The outcome of checking a password, applied in a second transaction so the slow hash runs
/// outside the store's lock.
enum PasswordOutcome {
    Session(Session),
    Refused(Error),
}

impl<S: Store, C: Clock> Esr<S, C> {
    /// A service over `store` and `clock`, drawing randomness from `rng` (any `rand_core`
    /// cryptographic generator; `getrandom::SysRng` in production).
    pub fn with_rng(store: S, clock: C, rng: impl SecureRandom + 'static) -> Self {
        Self {
            store,
            clock,
            rng: Mutex::new(Box::new(rng)),
            config: Config::default(),
            sms: None,
            email: None,
            keys: std::sync::RwLock::new(None),
            dummy_hash: std::sync::OnceLock::new(),
        }
    }

    /// A service with the operating system's RNG.
    #[cfg(feature = "getrandom")]
    pub fn new(store: S, clock: C) -> Self {
        Self::with_rng(store, clock, getrandom::SysRng)
    }

    /// Replaces the service settings, checking them.
    pub fn with_config(mut self, config: Config) -> Result<Self> {
        if !(1..=100).contains(&config.max_failed_logins) {
            return Err(Error::invalid(
                "max_failed_logins",
                "it must be from 1 to 100 (NIST SP 800-63B allows at most 100)",
            ));
        }
        config.password_hashing.check()?;
        config.passcodes.check()?;
        if config.session_lifetime < TimeDelta::minutes(1)
            || config.session_lifetime > TimeDelta::days(7)
        {
            return Err(Error::invalid(
                "session_lifetime",
                "it must be from 1 minute to 7 days",
            ));
        }
        self.config = config;
        self.dummy_hash = std::sync::OnceLock::new();
        Ok(self)
    }

    /// The store, for embedders that read it directly.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Spends the time a real password check would, for an unknown user.
    fn waste_a_hash(&self, password: &Password) {
        let h = self.dummy_hash.get_or_init(|| {
            self.config
                .password_hashing
                .hash(&Password::new("esr dummy password"), b"esr-dummy-salt!!")
                .ok()
        });
        if let Some(h) = h {
            let _ = self.config.password_hashing.verify(password, h);
        }
    }

    pub(crate) fn random16(&self) -> Result<[u8; 16]> {
        let mut b = [0u8; 16];
        self.rng
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .fill(&mut b)
            .map_err(Error::Randomness)?;
        Ok(b)
    }

    // ----- trusts and organisation units -------------------------------------------------

    /// Creates a trust (a tenant). Done by the embedding system when a trust is on-boarded.
    pub fn create_trust(&self, vpd: VpdCode, name: &str, settings: TrustSettings) -> Result<Trust> {
        let now = self.clock.now();
        let trust = Trust::new(vpd, name, settings, now)?;
        self.store.transaction(|tx| {
            if tx.trust(vpd)?.is_some() {
                return Err(Error::TrustExists(vpd));
            }
            tx.put_trust(&trust)?;
            audit(
                tx,
                vpd,
                now,
                AuditActor::System("trust set-up".into()),
                AuditEvent::TrustCreated {
                    name: trust.name.clone(),
                },
            )?;
            Ok(trust.clone())
        })
    }

    /// The trust with this code.
    pub fn trust(&self, vpd: VpdCode) -> Result<Trust> {
        self.store.transaction(|tx| trust_of(tx, vpd))
    }

    /// Adds an organisation unit under `parent` (needs Maintain workstructures).
    pub fn add_org_unit(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        id: OrgUnitId,
        name: &str,
        parent: Option<OrgUnitId>,
    ) -> Result<()> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::MaintainWorkstructures, now)?;
            let mut trust = trust_of(tx, vpd)?;
            trust.add_org_unit(id.clone(), name, parent.clone())?;
            tx.put_trust(&trust)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::OrgUnitAdded { unit: id, parent },
            )
        })
    }

    pub(crate) fn change_settings(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        function: Function,
        setting: &str,
        value: String,
        change: impl FnOnce(&mut TrustSettings) -> Result<()>,
    ) -> Result<TrustSettings> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, function, now)?;
            let mut trust = trust_of(tx, vpd)?;
            change(&mut trust.settings)?;
            tx.put_trust(&trust)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::SettingChanged {
                    setting: setting.into(),
                    value,
                },
            )?;
            Ok(trust.settings)
        })
    }

    /// Sets Automatic Internet Access (needs Maintain workstructures).
    pub fn set_automatic_internet_access(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        on: bool,
    ) -> Result<TrustSettings> {
        self.change_settings(
            actor,
            vpd,
            Function::MaintainWorkstructures,
            "Automatic Internet Access",
            yes_no(on).into(),
            |s| {
                s.automatic_internet_access = on;
                Ok(())
            },
        )
    }

    /// Sets Upgrade Access for Manager and Professional users (needs Portal administration).
    pub fn set_upgrade_access(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        upgrade: UpgradeAccess,
    ) -> Result<TrustSettings> {
        let value = format!(
            "Manager {}, Professional {}",
            enabled(upgrade.manager),
            enabled(upgrade.professional)
        );
        self.change_settings(
            actor,
            vpd,
            Function::AdministerPortal,
            "Upgrade Access",
            value,
            |s| {
                s.upgrade_access = upgrade;
                Ok(())
            },
        )
    }

    /// Switches a national Manager Dashboard portlet on or off (needs Portal administration).
    pub fn set_portlet(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        portlet: NationalPortlet,
        on: bool,
    ) -> Result<TrustSettings> {
        self.change_settings(
            actor,
            vpd,
            Function::AdministerPortal,
            portlet.name(),
            if on { "on" } else { "off" }.into(),
            |s| {
                s.dashboard.set_enabled(portlet, on);
                Ok(())
            },
        )
    }

    /// Adds a local BI portlet to the Manager Dashboard; a fourth is refused (needs Portal
    /// administration).
    pub fn add_local_bi_portlet(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        name: &str,
    ) -> Result<TrustSettings> {
        self.change_settings(
            actor,
            vpd,
            Function::AdministerPortal,
            "local BI portlet added",
            name.trim().into(),
            |s| s.dashboard.add_local_bi_portlet(name),
        )
    }

    /// Removes a local BI portlet (needs Portal administration).
    pub fn remove_local_bi_portlet(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        name: &str,
    ) -> Result<TrustSettings> {
        self.change_settings(
            actor,
            vpd,
            Function::AdministerPortal,
            "local BI portlet removed",
            name.trim().into(),
            |s| s.dashboard.remove_local_bi_portlet(name),
        )
    }

    // ----- people, accounts, assignments ---------------------------------------------------

    /// Adds a person with their account and Employee Self Service (needs Maintain people).
    /// The username is generated by the rule in [`crate::username`]; the account starts active
    /// with no password (the person sets one through account recovery).
    pub fn add_person(&self, actor: &Actor, vpd: VpdCode, new: NewPerson) -> Result<Person> {
        let now = self.clock.now();
        let stem = UsernameStem::from_names(&new.name.given, &new.name.family)?;
        let grant_id = GrantId::from_bytes(self.random16()?);
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::MaintainPeople, now)?;
            trust_of(tx, vpd)?;
            if tx.person(vpd, &new.employee_number)?.is_some() {
                return Err(Error::DuplicateEmployeeNumber {
                    vpd,
                    employee: new.employee_number.clone(),
                });
            }
            let username = next_username(tx, vpd, &stem)?;
            let person = Person {
                vpd,
                employee_number: new.employee_number.clone(),
                name: new.name.clone(),
                date_of_birth: new.date_of_birth,
                recruitment_email: new.recruitment_email.clone(),
                mobile: None,
                username: username.clone(),
                created_at: now,
            };
            tx.put_person(&person)?;
            tx.put_account(&Account {
                passcode_failures: 0,
                step_up_locked: false,
                username: username.clone(),
                employee_number: new.employee_number.clone(),
                state: AccountState::Active,
                failed_logins: 0,
                password_hash: None,
                internet_access_approved: false,
                state_changed_at: now,
            })?;
            audit(
                tx,
                vpd,
                now,
                who.clone(),
                AuditEvent::PersonAdded {
                    employee: new.employee_number.clone(),
                    username: username.clone(),
                },
            )?;
            let grant = UrpGrant {
                id: grant_id,
                vpd,
                holder: username,
                urp: Urp::EmployeeSelfService,
                scope: GrantScope::WholeTrust,
                granted_by: grantor_of(&who),
                granted_at: now,
                reason: "new starter".into(),
                approval: Approval::NotRequired,
                revoked: None,
            };
            put_grant_audited(tx, &grant, who)?;
            Ok(person)
        })
    }

    /// The person with this employee number, for the embedding system (not audited as a view:
    /// users see records through [`Esr::view_record`]).
    pub fn person(&self, vpd: VpdCode, employee: &EmployeeNumber) -> Result<Person> {
        self.store.transaction(|tx| person_of(tx, vpd, employee))
    }

    /// The account with this username, for the embedding system.
    pub fn account(&self, username: &Username) -> Result<Account> {
        self.store.transaction(|tx| account_of(tx, username))
    }

    /// Every person of the trust, for the embedding system.
    pub fn people(&self, vpd: VpdCode) -> Result<Vec<Person>> {
        self.store.transaction(|tx| {
            trust_of(tx, vpd)?;
            tx.people(vpd)
        })
    }

    /// Adds an assignment (needs Maintain people). Its organisation unit must exist, and its
    /// supervisor must be another person's assignment in the same trust.
    pub fn add_assignment(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        new: NewAssignment,
    ) -> Result<Assignment> {
        let now = self.clock.now();
        let assignment = new.into_assignment(vpd)?;
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::MaintainPeople, now)?;
            let trust = trust_of(tx, vpd)?;
            person_of(tx, vpd, &assignment.employee_number)?;
            trust.org_unit(&assignment.org_unit)?;
            if tx.assignment(vpd, &assignment.number)?.is_some() {
                return Err(Error::DuplicateAssignment {
                    vpd,
                    assignment: assignment.number.clone(),
                });
            }
            if let Some(sup) = &assignment.supervisor {
                check_supervisor(tx, &assignment, sup)?;
            }
            tx.put_assignment(&assignment)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::AssignmentAdded {
                    assignment: assignment.number.clone(),
                    employee: assignment.employee_number.clone(),
                    supervisor: assignment.supervisor.clone(),
                },
            )?;
            Ok(assignment.clone())
        })
    }

    /// Changes an assignment's supervisor (needs Maintain people); a change that would make
    /// the assignment report to itself, directly or through others, is refused.
    pub fn set_supervisor(
        &self,
        actor: &Actor,
        vpd: VpdCode,
        number: &AssignmentNumber,
        supervisor: Option<AssignmentNumber>,
    ) -> Result<Assignment> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::MaintainPeople, now)?;
            let mut a = assignment_of(tx, vpd, number)?;
            if let Some(sup) = &supervisor {
                check_supervisor(tx, &a, sup)?;
            }
            a.supervisor = supervisor.clone();
            tx.put_assignment(&a)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::SupervisorChanged {
                    assignment: number.clone(),
                    supervisor,
                },
            )?;
            Ok(a)
        })
    }

    /// A person's assignments.
    pub fn assignments_of(
        &self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
    ) -> Result<Vec<Assignment>> {
        self.store.transaction(|tx| {
            person_of(tx, vpd, employee)?;
            tx.assignments_of(vpd, employee)
        })
    }

    /// Sets a user's password (needs Reset accounts, or the embedding system). Only an
    /// argon2id hash is kept.
    pub fn set_password(
        &self,
        actor: &Actor,
        username: &Username,
        password: &Password,
    ) -> Result<()> {
        password.check_policy()?;
        let hash = self
            .config
            .password_hashing
            .hash(password, &self.random16()?)?;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, username.vpd(), Function::ResetAccounts, now)?;
            let mut acc = account_of(tx, username)?;
            if acc.state == AccountState::Ended {
                return Err(Error::AccountEnded(username.clone()));
            }
            acc.password_hash = Some(hash.clone());
            tx.put_account(&acc)?;
            audit(
                tx,
                username.vpd(),
                now,
                who,
                AuditEvent::PasswordSet {
                    username: username.clone(),
                },
            )
        })
    }

    /// Approves ESS internet access for one user (needs Reset accounts).
    pub fn approve_internet_access(&self, actor: &Actor, username: &Username) -> Result<()> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, username.vpd(), Function::ResetAccounts, now)?;
            let mut acc = account_of(tx, username)?;
            acc.internet_access_approved = true;
            tx.put_account(&acc)?;
            audit(
                tx,
                username.vpd(),
                now,
                who,
                AuditEvent::InternetAccessApproved {
                    username: username.clone(),
                },
            )
        })
    }

    fn change_state(
        &self,
        actor: &Actor,
        username: &Username,
        from_only: Option<AccountState>,
        to: AccountState,
        reason: &str,
    ) -> Result<Account> {
        let reason = clean_text("reason", reason, MAX_REASON_CHARS)?;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let vpd = username.vpd();
            let who = authorise(tx, actor, vpd, Function::ResetAccounts, now)?;
            let mut acc = account_of(tx, username)?;
            let from = acc.state;
            let next = from.transition(to);
            // For an ended account, the ended-is-final hint matters more than which operation
            // was used.
            if let Some(expected) = from_only
                && from != expected
                && from != AccountState::Ended
            {
                return Err(Error::InvalidTransition {
                    from,
                    to,
                    hint: if expected == AccountState::Locked {
                        "only a locked account is unlocked; a suspended one is reinstated"
                    } else {
                        "only a suspended account is reinstated; a locked one is unlocked"
                    },
                });
            }
            acc.state = next?;
            acc.state_changed_at = now;
            if to == AccountState::Active {
                acc.failed_logins = 0;
            }
            let removes_access = !to.counts_as_active_user() && from.counts_as_active_user();
            if removes_access && holds(tx, username, Urp::LocalHrmsSystemsAndUserAdministration)? {
                let remaining = active_user_administrators(tx, vpd, Some(username))?;
                if remaining < 2 {
                    return Err(Error::TooFewUserAdministrators { remaining });
                }
            }
            tx.put_account(&acc)?;
            audit(
                tx,
                vpd,
                now,
                who.clone(),
                AuditEvent::AccountStateChanged {
                    username: username.clone(),
                    from: from.to_string(),
                    to: to.to_string(),
                    reason: reason.clone(),
                },
            )?;
            let end_reason = match to {
                AccountState::Suspended => Some(SessionEndReason::AccountSuspended),
                AccountState::Ended => Some(SessionEndReason::AccountEnded),
                _ => None,
            };
            if let Some(r) = end_reason {
                end_sessions_of(tx, username, now, r, &who)?;
            }
            if to == AccountState::Ended {
                for mut g in tx
                    .grants_of(username)?
                    .into_iter()
                    .filter(UrpGrant::is_active)
                {
                    g.revoked = Some(Revocation {
                        by: grantor_of(&who),
                        at: now,
                        reason: format!("account ended: {reason}"),
                    });
                    tx.put_grant(&g)?;
                    audit(
                        tx,
                        vpd,
                        now,
                        who.clone(),
                        AuditEvent::UrpRevoked {
                            grant: g.id,
                            holder: username.clone(),
                            urp: g.urp,
                            reason: format!("account ended: {reason}"),
                        },
                    )?;
                }
            }
            Ok(acc)
        })
    }

    /// Unlocks a locked account and clears its failed log-ins (needs Reset accounts).
    pub fn unlock_account(
        &self,
        actor: &Actor,
        username: &Username,
        reason: &str,
    ) -> Result<Account> {
        self.change_state(
            actor,
            username,
            Some(AccountState::Locked),
            AccountState::Active,
            reason,
        )
    }

    /// Suspends an account at once, ending every live session of it (needs Reset accounts).
    /// Refused if it would leave fewer than two active user administrators.
    pub fn suspend_account(
        &self,
        actor: &Actor,
        username: &Username,
        reason: &str,
    ) -> Result<Account> {
        self.change_state(actor, username, None, AccountState::Suspended, reason)
    }

    /// Reinstates a suspended account (needs Reset accounts).
    pub fn reinstate_account(
        &self,
        actor: &Actor,
        username: &Username,
        reason: &str,
    ) -> Result<Account> {
        self.change_state(
            actor,
            username,
            Some(AccountState::Suspended),
            AccountState::Active,
            reason,
        )
    }

    /// Ends an account for good (a leaver): its sessions end, its URPs are revoked, its history
    /// is kept (needs Reset accounts). Refused if it would leave fewer than two active user
    /// administrators.
    pub fn end_account(&self, actor: &Actor, username: &Username, reason: &str) -> Result<Account> {
        self.change_state(actor, username, None, AccountState::Ended, reason)
    }

    // ----- log-in and sessions -------------------------------------------------------------

    /// Logs in over the internet with username and password. A wrong username and a wrong
    /// password give the same [`Error::InvalidCredentials`]; after
    /// [`Config::max_failed_logins`] consecutive failures the account locks.
    ///
    /// A password over [`crate::values::limits::MAX_PASSWORD_BYTES`] is refused with
    /// [`Error::InvalidInput`] before anything is hashed or looked up (no right password is so
    /// long), and counts as no attempt.
    pub fn log_in_with_password(&self, username: &str, password: &Password) -> Result<Session> {
        password.check_size()?;
        let Ok(username) = username.parse::<Username>() else {
            self.waste_a_hash(password);
            return Err(Error::InvalidCredentials);
        };
        // First read, then hash outside the store's lock, then apply the outcome.
        let account = self.store.transaction(|tx| tx.account(&username))?;
        let Some(account) = account else {
            self.waste_a_hash(password);
            return Err(Error::InvalidCredentials);
        };
        if account.state == AccountState::Locked {
            return Err(Error::AccountLocked(username));
        }
        let hash = account.password_hash.clone();
        let ok = match &hash {
            Some(h) => self.config.password_hashing.verify(password, h),
            None => {
                self.waste_a_hash(password);
                false
            }
        };
        let session_id = SessionId::from_bytes(self.random16()?);
        let now = self.clock.now();
        let max = self.config.max_failed_logins;
        let lifetime = self.config.session_lifetime;
        let outcome = self.store.transaction(|tx| {
            let vpd = username.vpd();
            let mut acc = account_of(tx, &username)?;
            if acc.password_hash != hash {
                // The password changed while we were checking: judge again from the start.
                return Ok(PasswordOutcome::Refused(Error::InvalidCredentials));
            }
            if !ok {
                if acc.state != AccountState::Active {
                    // Only the right password learns that an account is suspended or ended.
                    return Ok(PasswordOutcome::Refused(Error::InvalidCredentials));
                }
                acc.failed_logins = acc.failed_logins.saturating_add(1);
                audit(
                    tx,
                    vpd,
                    now,
                    AuditActor::Anonymous,
                    AuditEvent::LoginFailed {
                        username: username.clone(),
                        failures: acc.failed_logins,
                    },
                )?;
                let refusal = if acc.failed_logins >= max {
                    acc.state = AccountState::Locked;
                    acc.state_changed_at = now;
                    audit(
                        tx,
                        vpd,
                        now,
                        AuditActor::System("log-in lockout".into()),
                        AuditEvent::AccountStateChanged {
                            username: username.clone(),
                            from: AccountState::Active.to_string(),
                            to: AccountState::Locked.to_string(),
                            reason: format!("{max} consecutive failed log-ins"),
                        },
                    )?;
                    Error::AccountLocked(username.clone())
                } else {
                    Error::InvalidCredentials
                };
                tx.put_account(&acc)?;
                return Ok(PasswordOutcome::Refused(refusal));
            }
            if acc.state != AccountState::Active {
                return Ok(PasswordOutcome::Refused(state_error(&acc)));
            }
            let trust = trust_of(tx, vpd)?;
            let held = held_urps(tx, &username)?;
            if !has_internet_access(&held, &trust.settings, acc.internet_access_approved) {
                return Ok(PasswordOutcome::Refused(Error::NoInternetAccess(
                    username.clone(),
                )));
            }
            acc.failed_logins = 0;
            tx.put_account(&acc)?;
            let session = open_session(
                tx,
                session_id,
                &username,
                Channel::Internet,
                now,
                lifetime,
                None,
            )?;
            Ok(PasswordOutcome::Session(session))
        })?;
        match outcome {
            PasswordOutcome::Session(s) => Ok(s),
            PasswordOutcome::Refused(e) => Err(e),
        }
    }

    /// Opens an HSCN session for a user whose smartcard the embedding application has verified.
    pub fn log_in_with_smartcard(
        &self,
        username: &Username,
        card: &SmartcardAuthentication,
    ) -> Result<Session> {
        let id = SessionId::from_bytes(self.random16()?);
        let now = self.clock.now();
        let lifetime = self.config.session_lifetime;
        self.store.transaction(|tx| {
            let acc = account_of(tx, username)?;
            if acc.state != AccountState::Active {
                return Err(state_error(&acc));
            }
            open_session(
                tx,
                id,
                username,
                Channel::Hscn,
                now,
                lifetime,
                Some(card.card_id().to_owned()),
            )
        })
    }

    /// Ends a session.
    pub fn log_out(&self, session: SessionId) -> Result<()> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let mut s = live_session(tx, session, now)?;
            s.ended = Some(SessionEnd {
                at: now,
                reason: SessionEndReason::LoggedOut,
            });
            tx.put_session(&s)?;
            audit(
                tx,
                s.vpd,
                now,
                user_actor(&s),
                AuditEvent::SessionEnded {
                    session: session.audit_ref(),
                    reason: SessionEndReason::LoggedOut.to_string(),
                },
            )
        })
    }

    /// A user's live sessions, oldest first (for an administrator, or a "log out everywhere").
    pub fn live_sessions(&self, username: &Username) -> Result<Vec<Session>> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            account_of(tx, username)?;
            let mut v: Vec<Session> = tx
                .sessions_of(username)?
                .into_iter()
                .filter(|s| s.is_live_at(now))
                .collect();
            v.sort_by_key(|s| s.started_at);
            Ok(v)
        })
    }

    /// A live session.
    pub fn session(&self, session: SessionId) -> Result<Session> {
        let now = self.clock.now();
        self.store.transaction(|tx| live_session(tx, session, now))
    }

    /// Every function the session may use now.
    pub fn functions(&self, session: SessionId) -> Result<BTreeSet<Function>> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let (s, trust, acc, held) = session_context(tx, session, now)?;
            Ok(allowed_functions(&context(&s, &trust, &acc, &held)))
        })
    }

    /// Whether the session may use `function`, and if not, why.
    pub fn decide(&self, session: SessionId, function: Function) -> Result<AccessDecision> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let (s, trust, acc, held) = session_context(tx, session, now)?;
            Ok(decide(function, &context(&s, &trust, &acc, &held)))
        })
    }

    /// Checks that the session could be upgraded now: an internet session, ESS internet
    /// access, a URP whose functions the trust's Upgrade Access opens, and a registered mobile;
    /// and that the account's second-factor verification is not locked
    /// ([`Error::StepUpLocked`]), as [`Esr::request_upgrade_code`] would refuse then too.
    pub fn check_upgrade(&self, session: SessionId) -> Result<()> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let s = check_upgrade(tx, session, now)?;
            if account_of(tx, &s.username)?.step_up_locked {
                return Err(Error::StepUpLocked(s.username));
            }
            Ok(())
        })
    }

    /// Registers or changes the user's own mobile number for upgraded access. Only from an HSCN
    /// session (Manage Internet Access), and only with a confirmation that a code sent to the
    /// new number was entered in this session.
    pub fn register_mobile(
        &self,
        session: SessionId,
        confirmation: &MobileConfirmation,
    ) -> Result<Person> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            if confirmation.session != session {
                return Err(Error::StepUpMismatch);
            }
            apply_mobile(tx, session, &confirmation.mobile, now).map(|(p, _)| p)
        })
    }

    /// Upgrades the session named in the proof, and only that one.
    pub fn upgrade_session(&self, proof: &StepUpProof) -> Result<Session> {
        let now = self.clock.now();
        self.store
            .transaction(|tx| apply_upgrade(tx, proof.session, &proof.method, now))
    }

    // ----- URPs ------------------------------------------------------------------------------

    /// Gives a new trust its first user administrators: at least two distinct active accounts
    /// receive Local HRMS Systems and User Administration. Only while the trust has none;
    /// every later grant goes through one of them.
    pub fn bootstrap_user_administrators(
        &self,
        vpd: VpdCode,
        holders: &[Username],
        reason: &str,
    ) -> Result<Vec<UrpGrant>> {
        let reason = clean_text("reason", reason, MAX_REASON_CHARS)?;
        let distinct: BTreeSet<&Username> = holders.iter().collect();
        if distinct.len() < 2 {
            return Err(Error::TooFewUserAdministrators {
                remaining: distinct.len(),
            });
        }
        let ids = distinct
            .iter()
            .map(|_| self.random16().map(GrantId::from_bytes))
            .collect::<Result<Vec<_>>>()?;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            trust_of(tx, vpd)?;
            if active_user_administrators(tx, vpd, None)? > 0 {
                return Err(Error::AlreadyBootstrapped(vpd));
            }
            let who = AuditActor::System("trust set-up".into());
            let mut out = Vec::new();
            for (holder, id) in distinct.iter().zip(ids) {
                same_trust(vpd, holder)?;
                let acc = account_of(tx, holder)?;
                if acc.state != AccountState::Active {
                    return Err(state_error(&acc));
                }
                let g = UrpGrant {
                    id,
                    vpd,
                    holder: (*holder).clone(),
                    urp: Urp::LocalHrmsSystemsAndUserAdministration,
                    scope: GrantScope::WholeTrust,
                    granted_by: grantor_of(&who),
                    granted_at: now,
                    reason: reason.clone(),
                    approval: Approval::NotRequired,
                    revoked: None,
                };
                put_grant_audited(tx, &g, who.clone())?;
                out.push(g);
            }
            Ok(out)
        })
    }

    /// Grants a URP (needs Assign URPs, so an HSCN session of a user administrator). Records
    /// grantor, reason, time and the line manager's verification.
    pub fn grant_urp(&self, session: SessionId, request: GrantRequest) -> Result<UrpGrant> {
        let reason = clean_text("reason", &request.reason, MAX_REASON_CHARS)?;
        let id = GrantId::from_bytes(self.random16()?);
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let vpd = request.holder.vpd();
            let actor = Actor::Session(session);
            let who = authorise(tx, &actor, vpd, Function::AssignUrps, now)?;
            if let AuditActor::User { username, .. } = &who
                && *username == request.holder
            {
                return Err(Error::ApprovalRefused(ApprovalRefusal::SelfGrant));
            }
            let acc = account_of(tx, &request.holder)?;
            if !acc.state.counts_as_active_user() {
                return Err(state_error(&acc));
            }
            if holds(tx, &request.holder, request.urp)? {
                return Err(Error::AlreadyHeld {
                    username: request.holder.clone(),
                    urp: request.urp,
                });
            }
            let trust = trust_of(tx, vpd)?;
            check_scope(&trust, request.urp, &request.scope)?;
            check_approval(tx, &acc, &who, request.urp, &request.approval)?;
            let g = UrpGrant {
                id,
                vpd,
                holder: request.holder.clone(),
                urp: request.urp,
                scope: request.scope.clone(),
                granted_by: grantor_of(&who),
                granted_at: now,
                reason: reason.clone(),
                approval: request.approval.clone(),
                revoked: None,
            };
            put_grant_audited(tx, &g, who)?;
            Ok(g)
        })
    }

    /// Revokes a URP (needs Assign URPs). Refused if it would leave fewer than two active
    /// holders of Local HRMS Systems and User Administration.
    pub fn revoke_urp(
        &self,
        session: SessionId,
        holder: &Username,
        urp: Urp,
        reason: &str,
    ) -> Result<UrpGrant> {
        let reason = clean_text("reason", reason, MAX_REASON_CHARS)?;
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let vpd = holder.vpd();
            let who = authorise(tx, &Actor::Session(session), vpd, Function::AssignUrps, now)?;
            let mut g = tx
                .grants_of(holder)?
                .into_iter()
                .find(|g| g.is_active() && g.urp == urp)
                .ok_or_else(|| Error::NotHeld {
                    username: holder.clone(),
                    urp,
                })?;
            if urp == Urp::LocalHrmsSystemsAndUserAdministration {
                let acc = account_of(tx, holder)?;
                if acc.state.counts_as_active_user() {
                    let remaining = active_user_administrators(tx, vpd, Some(holder))?;
                    if remaining < 2 {
                        return Err(Error::TooFewUserAdministrators { remaining });
                    }
                }
            }
            g.revoked = Some(Revocation {
                by: grantor_of(&who),
                at: now,
                reason: reason.clone(),
            });
            tx.put_grant(&g)?;
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::UrpRevoked {
                    grant: g.id,
                    holder: holder.clone(),
                    urp,
                    reason,
                },
            )?;
            Ok(g)
        })
    }

    /// Every grant a user has had, active and revoked.
    pub fn grants_of(&self, username: &Username) -> Result<Vec<UrpGrant>> {
        self.store.transaction(|tx| {
            account_of(tx, username)?;
            tx.grants_of(username)
        })
    }

    /// The URPs a user holds now.
    pub fn held_urps(&self, username: &Username) -> Result<BTreeSet<Urp>> {
        self.store.transaction(|tx| {
            account_of(tx, username)?;
            held_urps(tx, username)
        })
    }

    /// The URP audit report for the six-monthly review: who holds what, since when, granted by
    /// whom and why (needs URP audit report). Its production is audited.
    pub fn urp_audit_report(&self, actor: &Actor, vpd: VpdCode) -> Result<Vec<UrpReportRow>> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let who = authorise(tx, actor, vpd, Function::UrpAuditReport, now)?;
            trust_of(tx, vpd)?;
            let mut rows = Vec::new();
            for g in tx.grants(vpd)?.into_iter().filter(UrpGrant::is_active) {
                let acc = account_of(tx, &g.holder)?;
                let person = person_of(tx, vpd, &acc.employee_number)?;
                rows.push(UrpReportRow::new(&g, &person, acc.state));
            }
            rows.sort_by(|a, b| {
                (&a.username, a.urp, a.held_since).cmp(&(&b.username, b.urp, b.held_since))
            });
            audit(
                tx,
                vpd,
                now,
                who,
                AuditEvent::ReportProduced {
                    report: format!("URP audit report ({} rows)", rows.len()),
                },
            )?;
            Ok(rows)
        })
    }

    // ----- record visibility -----------------------------------------------------------------

    /// On what bases `actor` may view and change `subject`'s record, from the URPs the actor
    /// holds (whatever the channel; [`Esr::view_record`] applies the channel too). Never across
    /// trusts.
    pub fn record_access(
        &self,
        actor: &Username,
        vpd: VpdCode,
        subject: &EmployeeNumber,
    ) -> Result<RecordAccess> {
        self.store
            .transaction(|tx| record_access(tx, actor, vpd, subject))
    }

    /// Shows a person's record to the session's user, if a basis they hold is usable on this
    /// channel. Reading another person's record is audited.
    pub fn view_record(
        &self,
        session: SessionId,
        subject: &EmployeeNumber,
    ) -> Result<PersonRecord> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let (s, trust, acc, held) = session_context(tx, session, now)?;
            let access = record_access(tx, &s.username, s.vpd, subject)?;
            let ctx = context(&s, &trust, &acc, &held);
            let basis = pick_basis(
                &access.view,
                &ctx,
                RecordBasis::view_function,
                "view",
                subject,
            )?;
            let person = person_of(tx, s.vpd, subject)?;
            let assignments = tx.assignments_of(s.vpd, subject)?;
            if basis != RecordBasis::Own {
                audit(
                    tx,
                    s.vpd,
                    now,
                    user_actor(&s),
                    AuditEvent::RecordViewed {
                        subject: subject.clone(),
                        basis: basis.to_string(),
                    },
                )?;
            }
            Ok(PersonRecord {
                person,
                assignments,
                basis,
            })
        })
    }

    /// Changes a person's details, if a basis the session's user holds allows it on this
    /// channel. Every change is audited with the fields it touched.
    pub fn change_details(
        &self,
        session: SessionId,
        subject: &EmployeeNumber,
        change: &DetailsChange,
    ) -> Result<Person> {
        let given = change
            .given_name
            .as_deref()
            .map(|g| clean_text("given name", g, crate::values::limits::MAX_NAME_CHARS))
            .transpose()?;
        let family = change
            .family_name
            .as_deref()
            .map(|g| clean_text("surname", g, crate::values::limits::MAX_NAME_CHARS))
            .transpose()?;
        let mut fields = Vec::new();
        if given.is_some() {
            fields.push("given name");
        }
        if family.is_some() {
            fields.push("surname");
        }
        if change.recruitment_email.is_some() {
            fields.push("recruitment e-mail");
        }
        if fields.is_empty() {
            return Err(Error::invalid(
                "change",
                "it changes nothing; name a field to change",
            ));
        }
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let (s, trust, acc, held) = session_context(tx, session, now)?;
            let access = record_access(tx, &s.username, s.vpd, subject)?;
            let ctx = context(&s, &trust, &acc, &held);
            pick_basis(
                &access.change,
                &ctx,
                RecordBasis::change_function,
                "change",
                subject,
            )?;
            let mut person = person_of(tx, s.vpd, subject)?;
            if let Some(g) = &given {
                person.name.given.clone_from(g);
            }
            if let Some(f) = &family {
                person.name.family.clone_from(f);
            }
            if let Some(e) = &change.recruitment_email {
                person.recruitment_email = e.clone();
            }
            tx.put_person(&person)?;
            audit(
                tx,
                s.vpd,
                now,
                user_actor(&s),
                AuditEvent::RecordChanged {
                    subject: subject.clone(),
                    fields: fields.join(", "),
                },
            )?;
            Ok(person)
        })
    }

    /// The people whose assignments report to the session's user, directly or through others
    /// (needs View team records on this channel). Producing the list is audited.
    pub fn team(&self, session: SessionId) -> Result<Vec<TeamMember>> {
        let now = self.clock.now();
        self.store.transaction(|tx| {
            let (s, _, acc, _) = permitted(tx, session, Function::ViewTeamRecords, now)?;
            let mut out = Vec::new();
            let mut seen = HashSet::new();
            let mut frontier: Vec<(AssignmentNumber, u32)> = tx
                .assignments_of(s.vpd, &acc.employee_number)?
                .into_iter()
                .map(|a| (a.number, 0))
                .collect();
            while let Some((sup, depth)) = frontier.pop() {
                for a in tx.assignments_reporting_to(s.vpd, &sup)? {
                    if !seen.insert(a.number.clone()) {
                        continue;
                    }
                    frontier.push((a.number.clone(), depth + 1));
                    let p = person_of(tx, s.vpd, &a.employee_number)?;
                    out.push(TeamMember {
                        assignment: a,
                        name: p.name,
                        depth: depth + 1,
                    });
                }
            }
            out.sort_by(|a, b| {
                (a.depth, &a.name.family, &a.name.given, &a.assignment.number).cmp(&(
                    b.depth,
                    &b.name.family,
                    &b.name.given,
                    &b.assignment.number,
                ))
            });
            audit(
                tx,
                s.vpd,
                now,
                user_actor(&s),
                AuditEvent::ReportProduced {
                    report: format!("team list ({} members)", out.len()),
                },
            )?;
            Ok(out)
        })
    }

    // ----- audit -------------------------------------------------------------------------------

    /// A page of the trust's audit trail: entries from `from` (1-based), at most `limit`.
    pub fn audit_trail(&self, vpd: VpdCode, from: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        self.store.transaction(|tx| {
            trust_of(tx, vpd)?;
            tx.audit_entries(vpd, from.max(1), limit)
        })
    }

    /// Verifies the trust's whole audit trail, page by page, and returns its head: keep the
    /// head outside the store and pass it to [`Esr::verify_audit_against`] later to detect
    /// truncation or rewriting too.
    pub fn verify_audit(&self, vpd: VpdCode) -> Result<AuditHead> {
        const PAGE: usize = 4096;
        self.trust(vpd)?;
        let mut v = ChainVerifier::new(vpd);
        loop {
            let page = self.audit_trail(vpd, v.head().seq + 1, PAGE)?;
            for e in &page {
                v.feed(e)?;
            }
            if page.len() < PAGE {
                return Ok(v.head());
            }
        }
    }

    /// Verifies the trail and checks it still holds the entry `anchor` recorded earlier.
    pub fn verify_audit_against(&self, vpd: VpdCode, anchor: &AuditHead) -> Result<AuditHead> {
        let head = self.verify_audit(vpd)?;
        if anchor.seq == 0 {
            return Ok(head);
        }
        let found = self.audit_trail(vpd, anchor.seq, 1)?;
        match found.first() {
            Some(e) if e.hash == anchor.hash => Ok(head),
            Some(_) => Err(Error::AuditChainBroken {
                vpd,
                seq: anchor.seq,
                reason: "it differs from the entry recorded earlier",
            }),
            None => Err(Error::AuditChainBroken {
                vpd,
                seq: anchor.seq,
                reason: "the trail is shorter than when it was recorded",
            }),
        }
    }
}

// ----- helpers over a transaction ------------------------------------------------------------

fn yes_no(b: bool) -> &'static str {
    if b { "Yes" } else { "No" }
}

fn enabled(b: bool) -> &'static str {
    if b { "Enabled" } else { "Disabled" }
}

pub(crate) fn state_error(acc: &Account) -> Error {
    let u = acc.username.clone();
    match acc.state {
        AccountState::Locked => Error::AccountLocked(u),
        AccountState::Suspended => Error::AccountSuspended(u),
        AccountState::Ended => Error::AccountEnded(u),
        AccountState::Active => Error::InvalidCredentials,
    }
}

pub(crate) fn audit(
    tx: &mut dyn StoreTx,
    vpd: VpdCode,
    at: DateTime<Utc>,
    actor: AuditActor,
    event: AuditEvent,
) -> Result<()> {
    let head = tx.audit_head(vpd)?;
    tx.append_audit_owned(AuditEntry::after(head, vpd, at, actor, event))
}

pub(crate) fn trust_of(tx: &dyn StoreTx, vpd: VpdCode) -> Result<Trust> {
    tx.trust(vpd)?.ok_or(Error::UnknownTrust(vpd))
}

pub(crate) fn person_of(
    tx: &dyn StoreTx,
    vpd: VpdCode,
    employee: &EmployeeNumber,
) -> Result<Person> {
    tx.person(vpd, employee)?
        .ok_or_else(|| unknown_person(vpd, employee))
}

fn unknown_person(vpd: VpdCode, employee: &EmployeeNumber) -> Error {
    Error::UnknownPerson {
        vpd,
        employee: employee.clone(),
    }
}

pub(crate) fn account_of(tx: &dyn StoreTx, username: &Username) -> Result<Account> {
    tx.account(username)?
        .ok_or_else(|| Error::UnknownAccount(username.clone()))
}

fn assignment_of(tx: &dyn StoreTx, vpd: VpdCode, n: &AssignmentNumber) -> Result<Assignment> {
    tx.assignment(vpd, n)?
        .ok_or_else(|| Error::UnknownAssignment {
            vpd,
            assignment: n.clone(),
        })
}

fn same_trust(vpd: VpdCode, u: &Username) -> Result<()> {
    if u.vpd() != vpd {
        return Err(Error::CrossTrust {
            what: format!("user {u}"),
            expected: vpd,
            found: u.vpd(),
        });
    }
    Ok(())
}

pub(crate) fn live_session(tx: &dyn StoreTx, id: SessionId, now: DateTime<Utc>) -> Result<Session> {
    let s = tx.session(&id)?.ok_or(Error::UnknownSession(id))?;
    if !s.is_live() {
        return Err(Error::SessionEnded(id));
    }
    if !s.is_live_at(now) {
        return Err(Error::SessionExpired(id));
    }
    Ok(s)
}

pub(crate) fn held_urps(tx: &dyn StoreTx, username: &Username) -> Result<BTreeSet<Urp>> {
    tx.active_urps_of(username)
}

fn holds(tx: &dyn StoreTx, username: &Username, urp: Urp) -> Result<bool> {
    Ok(tx
        .grants_of(username)?
        .iter()
        .any(|g| g.is_active() && g.urp == urp))
}

fn active_user_administrators(
    tx: &dyn StoreTx,
    vpd: VpdCode,
    excluding: Option<&Username>,
) -> Result<usize> {
    let mut holders = BTreeSet::new();
    for g in tx.grants(vpd)? {
        if g.is_active()
            && g.urp == Urp::LocalHrmsSystemsAndUserAdministration
            && Some(&g.holder) != excluding
            && account_of(tx, &g.holder)?.state.counts_as_active_user()
        {
            holders.insert(g.holder);
        }
    }
    Ok(holders.len())
}

pub(crate) type SessionContext = (Session, TrustSettings, Account, BTreeSet<Urp>);

pub(crate) fn session_context(
    tx: &dyn StoreTx,
    id: SessionId,
    now: DateTime<Utc>,
) -> Result<SessionContext> {
    let s = live_session(tx, id, now)?;
    let trust = tx
        .trust_settings(s.vpd)?
        .ok_or(Error::UnknownTrust(s.vpd))?;
    let acc = account_of(tx, &s.username)?;
    let held = held_urps(tx, &s.username)?;
    Ok((s, trust, acc, held))
}

/// The session's context, once it is known the session may use `function` now; otherwise
/// [`Error::NotPermitted`] with the reason.
pub(crate) fn permitted(
    tx: &dyn StoreTx,
    session: SessionId,
    function: Function,
    now: DateTime<Utc>,
) -> Result<SessionContext> {
    let (s, trust, acc, held) = session_context(tx, session, now)?;
    if let AccessDecision::Denied(denial) = decide(function, &context(&s, &trust, &acc, &held)) {
        return Err(Error::NotPermitted { function, denial });
    }
    Ok((s, trust, acc, held))
}

pub(crate) fn context<'a>(
    s: &Session,
    settings: &'a TrustSettings,
    acc: &Account,
    held: &'a BTreeSet<Urp>,
) -> AccessContext<'a> {
    AccessContext {
        held,
        channel: s.channel,
        upgraded: s.is_upgraded(),
        settings,
        internet_access: has_internet_access(held, settings, acc.internet_access_approved),
    }
}

pub(crate) fn user_actor(s: &Session) -> AuditActor {
    user_actor_with(s, s.id.audit_ref())
}

/// [`user_actor`] with the session's reference already computed.
pub(crate) fn user_actor_with(s: &Session, session: SessionRef) -> AuditActor {
    AuditActor::User {
        username: s.username.clone(),
        session,
    }
}

fn grantor_of(who: &AuditActor) -> Grantor {
    match who {
        AuditActor::User { username, .. } => Grantor::User(username.clone()),
        AuditActor::System(p) => Grantor::System(p.clone()),
        AuditActor::Anonymous => Grantor::System("anonymous".into()),
    }
}

/// Checks the actor may use `function` in trust `vpd`, and says who they are for the audit.
pub(crate) fn authorise(
    tx: &dyn StoreTx,
    actor: &Actor,
    vpd: VpdCode,
    function: Function,
    now: DateTime<Utc>,
) -> Result<AuditActor> {
    match actor {
        Actor::System(p) => Ok(AuditActor::System(p.clone())),
        Actor::Session(id) => {
            let (s, trust, acc, held) = session_context(tx, *id, now)?;
            if s.vpd != vpd {
                return Err(Error::CrossTrust {
                    what: format!("session of {}", s.username),
                    expected: vpd,
                    found: s.vpd,
                });
            }
            match decide(function, &context(&s, &trust, &acc, &held)) {
                AccessDecision::Allowed => Ok(user_actor(&s)),
                AccessDecision::Denied(denial) => Err(Error::NotPermitted { function, denial }),
            }
        }
    }
}

fn open_session(
    tx: &mut dyn StoreTx,
    id: SessionId,
    username: &Username,
    channel: Channel,
    now: DateTime<Utc>,
    lifetime: TimeDelta,
    smartcard: Option<String>,
) -> Result<Session> {
    if tx.session(&id)?.is_some() {
        return Err(Error::Randomness("a session id repeated; try again".into()));
    }
    let session = Session {
        id,
        vpd: username.vpd(),
        username: username.clone(),
        channel,
        started_at: now,
        expires_at: crate::values::plus(now, lifetime),
        upgrade: None,
        ended: None,
    };
    tx.put_session(&session)?;
    audit(
        tx,
        username.vpd(),
        now,
        user_actor(&session),
        AuditEvent::LoggedIn {
            username: username.clone(),
            session: id.audit_ref(),
            channel: channel.to_string(),
            smartcard,
        },
    )?;
    Ok(session)
}

fn end_sessions_of(
    tx: &mut dyn StoreTx,
    username: &Username,
    now: DateTime<Utc>,
    reason: SessionEndReason,
    who: &AuditActor,
) -> Result<()> {
    for mut s in tx
        .sessions_of(username)?
        .into_iter()
        .filter(Session::is_live)
    {
        s.ended = Some(SessionEnd { at: now, reason });
        tx.put_session(&s)?;
        audit(
            tx,
            username.vpd(),
            now,
            who.clone(),
            AuditEvent::SessionEnded {
                session: s.id.audit_ref(),
                reason: reason.to_string(),
            },
        )?;
    }
    Ok(())
}

/// Checks the session may manage internet access (an HSCN session) and makes `mobile` the
/// user's registered number. Returns the person and whether a number was replaced.
pub(crate) fn apply_mobile(
    tx: &mut dyn StoreTx,
    session: SessionId,
    mobile: &crate::values::MobileNumber,
    now: DateTime<Utc>,
) -> Result<(Person, bool)> {
    let (s, mut person) = check_manage_mobile(tx, session, now)?;
    let changed = person.mobile.is_some();
    person.mobile = Some(mobile.clone());
    tx.put_person(&person)?;
    audit_mobile_registered(tx, &s, s.id.audit_ref(), mobile.masked(), changed, now)?;
    Ok((person, changed))
}

/// [`apply_mobile`] for a session and its account already read in this transaction (the
/// session live at `now`), whose reference is `sref`: the same checks, without reading them
/// again. Returns the number masked and whether a number was replaced.
pub(crate) fn apply_mobile_for(
    tx: &mut dyn StoreTx,
    s: &Session,
    sref: SessionRef,
    acc: &Account,
    mobile: &crate::values::MobileNumber,
    now: DateTime<Utc>,
) -> Result<(String, bool)> {
    permitted_for(tx, s, acc, Function::ManageInternetAccess)?;
    let changed = tx
        .set_person_mobile(s.vpd, &acc.employee_number, Some(mobile.clone()))?
        .ok_or_else(|| unknown_person(s.vpd, &acc.employee_number))?
        .is_some();
    let masked = mobile.masked();
    audit_mobile_registered(tx, s, sref, masked.clone(), changed, now)?;
    Ok((masked, changed))
}

fn audit_mobile_registered(
    tx: &mut dyn StoreTx,
    s: &Session,
    sref: SessionRef,
    masked: String,
    changed: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    audit(
        tx,
        s.vpd,
        now,
        user_actor_with(s, sref),
        AuditEvent::MobileRegistered {
            username: s.username.clone(),
            masked,
            changed,
        },
    )
}

/// Whether the session, with its account, may use `function` (as [`permitted`], for a session
/// and account already read).
fn permitted_for(tx: &dyn StoreTx, s: &Session, acc: &Account, function: Function) -> Result<()> {
    let trust = tx
        .trust_settings(s.vpd)?
        .ok_or(Error::UnknownTrust(s.vpd))?;
    let held = held_urps(tx, &s.username)?;
    if let AccessDecision::Denied(denial) = decide(function, &context(s, &trust, acc, &held)) {
        return Err(Error::NotPermitted { function, denial });
    }
    Ok(())
}

/// Checks the session may register or change its user's mobile number: Manage Internet Access,
/// which is only ever allowed on HSCN.
pub(crate) fn check_manage_mobile(
    tx: &dyn StoreTx,
    session: SessionId,
    now: DateTime<Utc>,
) -> Result<(Session, Person)> {
    let (s, _, acc, _) = permitted(tx, session, Function::ManageInternetAccess, now)?;
    let person = person_of(tx, s.vpd, &acc.employee_number)?;
    Ok((s, person))
}

/// Upgrades the session, after checking it may be.
pub(crate) fn apply_upgrade(
    tx: &mut dyn StoreTx,
    session: SessionId,
    method: &str,
    now: DateTime<Utc>,
) -> Result<Session> {
    let s = check_upgrade(tx, session, now)?;
    let sref = s.id.audit_ref();
    upgrade_session(tx, s, sref, method, now)
}

/// [`apply_upgrade`] for a session and its account already read in this transaction (the
/// session live at `now`), whose reference is `sref`: the same checks, without reading them
/// again.
pub(crate) fn apply_upgrade_for(
    tx: &mut dyn StoreTx,
    s: &Session,
    sref: SessionRef,
    acc: &Account,
    method: &str,
    now: DateTime<Utc>,
) -> Result<Session> {
    let trust = tx
        .trust_settings(s.vpd)?
        .ok_or(Error::UnknownTrust(s.vpd))?;
    let held = held_urps(tx, &s.username)?;
    check_upgrade_in(tx, s, &trust, acc, &held)?;
    upgrade_session(tx, s.clone(), sref, method, now)
}

fn upgrade_session(
    tx: &mut dyn StoreTx,
    mut s: Session,
    sref: SessionRef,
    method: &str,
    now: DateTime<Utc>,
) -> Result<Session> {
    s.upgrade = Some(Upgrade {
        at: now,
        method: method.to_owned(),
    });
    tx.put_session(&s)?;
    audit(
        tx,
        s.vpd,
        now,
        user_actor_with(&s, sref),
        AuditEvent::SessionUpgraded {
            session: sref,
            method: method.to_owned(),
        },
    )?;
    Ok(s)
}

pub(crate) fn check_upgrade(
    tx: &dyn StoreTx,
    id: SessionId,
    now: DateTime<Utc>,
) -> Result<Session> {
    let (s, trust, acc, held) = session_context(tx, id, now)?;
    check_upgrade_in(tx, &s, &trust, &acc, &held)?;
    Ok(s)
}

/// Whether the session may be upgraded, given its context.
fn check_upgrade_in(
    tx: &dyn StoreTx,
    s: &Session,
    trust: &TrustSettings,
    acc: &Account,
    held: &BTreeSet<Urp>,
) -> Result<()> {
    if s.is_upgraded() {
        return Err(Error::AlreadyUpgraded);
    }
    let has_mobile = tx
        .person_mobile(s.vpd, &acc.employee_number)?
        .ok_or_else(|| unknown_person(s.vpd, &acc.employee_number))?
        .is_some();
    if let Some(why) = upgrade_blocker(&context(s, trust, acc, held), has_mobile) {
        return Err(Error::UpgradeNotAvailable(why));
    }
    Ok(())
}

fn next_username(tx: &dyn StoreTx, vpd: VpdCode, stem: &UsernameStem) -> Result<Username> {
    for seq in 1..=MAX_SEQUENCE {
        let u = Username::new(vpd, stem, seq)?;
        if tx.account(&u)?.is_none() {
            return Ok(u);
        }
    }
    Err(Error::UsernamesExhausted {
        vpd,
        stem: stem.as_str().to_owned(),
    })
}

fn put_grant_audited(tx: &mut dyn StoreTx, g: &UrpGrant, who: AuditActor) -> Result<()> {
    tx.put_grant(g)?;
    let scope = match &g.scope {
        GrantScope::WholeTrust => "whole trust".to_owned(),
        GrantScope::OrgUnits(units) => units
            .iter()
            .map(OrgUnitId::as_str)
            .collect::<Vec<_>>()
            .join("; "),
    };
    audit(
        tx,
        g.vpd,
        g.granted_at,
        who,
        AuditEvent::UrpGranted {
            grant: g.id,
            holder: g.holder.clone(),
            urp: g.urp,
            scope,
            reason: g.reason.clone(),
            approval: g.approval.to_string(),
        },
    )
}

/// Refuses a supervisor that is missing, in another trust, the person's own assignment, or
/// that already reports (through any chain) to `a`.
fn check_supervisor(tx: &dyn StoreTx, a: &Assignment, sup: &AssignmentNumber) -> Result<()> {
    let s = assignment_of(tx, a.vpd, sup)?;
    if s.employee_number == a.employee_number {
        return Err(Error::invalid(
            "supervisor",
            format!(
                "assignment {sup} belongs to the same person as {}; a supervisor is another person's assignment",
                a.number
            ),
        ));
    }
    let mut seen = HashSet::new();
    let mut cur = Some(s);
    while let Some(x) = cur {
        if x.number == a.number {
            return Err(Error::SupervisorCycle {
                assignment: a.number.clone(),
                supervisor: sup.clone(),
            });
        }
        if !seen.insert(x.number.clone()) {
            break;
        }
        cur = match &x.supervisor {
            Some(n) => tx.assignment(a.vpd, n)?,
            None => None,
        };
    }
    Ok(())
}

fn check_scope(trust: &Trust, urp: Urp, scope: &GrantScope) -> Result<()> {
    match scope {
        GrantScope::WholeTrust if urp.needs_org_scope() => Err(Error::invalid(
            "scope",
            format!("{urp} acts for delegated organisation units; name at least one"),
        )),
        GrantScope::OrgUnits(units) if units.is_empty() => Err(Error::invalid(
            "scope",
            "it names no organisation unit; name at least one, or grant for the whole trust",
        )),
        GrantScope::OrgUnits(units) => {
            for u in units {
                trust.org_unit(u)?;
            }
            Ok(())
        }
        GrantScope::WholeTrust => Ok(()),
    }
}

/// Extra access (anything beyond employee-level URPs) needs the grantee's line manager to have
/// verified the need, or a Caldicott guardian's exception.
fn check_approval(
    tx: &dyn StoreTx,
    holder: &Account,
    grantor: &AuditActor,
    urp: Urp,
    approval: &Approval,
) -> Result<()> {
    let vpd = holder.username.vpd();
    match approval {
        Approval::NotRequired if urp.kind() == UrpKind::Employee => Ok(()),
        Approval::NotRequired => Err(Error::ApprovalRefused(
            ApprovalRefusal::LineManagerVerificationRequired { urp },
        )),
        Approval::LineManager { verified_by } => {
            let mut managers = BTreeSet::new();
            for a in tx.assignments_of(vpd, &holder.employee_number)? {
                if let Some(sup) = &a.supervisor
                    && let Some(s) = tx.assignment(vpd, sup)?
                {
                    managers.insert(s.employee_number);
                }
            }
            if managers.is_empty() {
                return Err(Error::ApprovalRefused(ApprovalRefusal::NoLineManager {
                    holder: holder.username.clone(),
                }));
            }
            if !managers.contains(verified_by) {
                return Err(Error::ApprovalRefused(ApprovalRefusal::NotTheLineManager {
                    verified_by: verified_by.clone(),
                    holder: holder.username.clone(),
                }));
            }
            Ok(())
        }
        Approval::CaldicottException {
            approved_by,
            reference,
        } => {
            person_of(tx, vpd, approved_by)?;
            clean_text(
                "exception reference",
                reference,
                crate::values::limits::MAX_EXCEPTION_REFERENCE_CHARS,
            )?;
            let grantor_employee = match grantor {
                AuditActor::User { username, .. } => {
                    Some(account_of(tx, username)?.employee_number)
                }
                _ => None,
            };
            if *approved_by == holder.employee_number
                || grantor_employee.as_ref() == Some(approved_by)
            {
                return Err(Error::ApprovalRefused(ApprovalRefusal::SelfApproval));
            }
            Ok(())
        }
    }
}

pub(crate) fn record_access(
    tx: &dyn StoreTx,
    actor: &Username,
    vpd: VpdCode,
    subject: &EmployeeNumber,
) -> Result<RecordAccess> {
    let mut access = RecordAccess::default();
    if actor.vpd() != vpd {
        return Ok(access);
    }
    let acc = account_of(tx, actor)?;
    let Some(_) = tx.person(vpd, subject)? else {
        return Err(Error::UnknownPerson {
            vpd,
            employee: subject.clone(),
        });
    };
    let grants: Vec<UrpGrant> = tx
        .grants_of(actor)?
        .into_iter()
        .filter(UrpGrant::is_active)
        .collect();
    let grants_fn = |f: Function| grants.iter().any(|g| g.urp.functions().contains(&f));
    if acc.employee_number == *subject {
        // Everyone sees their own record, whatever URPs they hold.
        access.view.push(RecordBasis::Own);
        if grants_fn(Function::UpdateOwnDetails) {
            access.change.push(RecordBasis::Own);
        }
    }
    let subject_assignments = tx.assignments_of(vpd, subject)?;
    // Line management: walk up from each of the subject's assignments.
    if grants_fn(Function::ViewTeamRecords) && acc.employee_number != *subject {
        let mut reports = false;
        'outer: for a in &subject_assignments {
            let mut seen = HashSet::new();
            let mut cur = a.supervisor.clone();
            while let Some(n) = cur {
                if !seen.insert(n.clone()) {
                    break;
                }
                let Some(s) = tx.assignment(vpd, &n)? else {
                    break;
                };
                if s.employee_number == acc.employee_number {
                    reports = true;
                    break 'outer;
                }
                cur = s.supervisor;
            }
        }
        if reports {
            access.view.push(RecordBasis::LineManager);
            if grants_fn(Function::UpdateTeamRecords) {
                access.change.push(RecordBasis::LineManager);
            }
        }
    }
    let trust = trust_of(tx, vpd)?;
    let covers = |scope: &GrantScope| match scope {
        GrantScope::WholeTrust => true,
        GrantScope::OrgUnits(units) => subject_assignments
            .iter()
            .any(|a| units.iter().any(|u| trust.is_within(&a.org_unit, u))),
    };
    for g in &grants {
        let f = g.urp.functions();
        if f.contains(&Function::AdministerDelegatedRecords)
            && matches!(g.scope, GrantScope::OrgUnits(_))
            && covers(&g.scope)
        {
            push_once(&mut access.view, RecordBasis::DelegatedAdministrator);
            push_once(&mut access.change, RecordBasis::DelegatedAdministrator);
        }
        if f.contains(&Function::ViewStaffRecords) && covers(&g.scope) {
            push_once(&mut access.view, RecordBasis::Professional(g.urp));
        }
        if f.contains(&Function::ChangeStaffRecords) && covers(&g.scope) {
            push_once(&mut access.change, RecordBasis::Professional(g.urp));
        }
    }
    Ok(access)
}

fn push_once(v: &mut Vec<RecordBasis>, b: RecordBasis) {
    if !v.contains(&b) {
        v.push(b);
    }
}

/// The first basis whose function the session may use; otherwise the most useful refusal.
pub(crate) fn pick_basis(
    bases: &[RecordBasis],
    ctx: &AccessContext<'_>,
    function_of: fn(RecordBasis) -> Option<Function>,
    action: &'static str,
    subject: &EmployeeNumber,
) -> Result<RecordBasis> {
    let mut first_denial: Option<(Function, Denial)> = None;
    for b in bases {
        let Some(f) = function_of(*b) else {
            return Ok(*b);
        };
        match decide(f, ctx) {
            AccessDecision::Allowed => return Ok(*b),
            AccessDecision::Denied(d) => {
                first_denial.get_or_insert((f, d));
            }
        }
    }
    match first_denial {
        Some((function, denial)) => Err(Error::NotPermitted { function, denial }),
        None => Err(Error::RecordNotVisible {
            action,
            subject: subject.clone(),
        }),
    }
}
