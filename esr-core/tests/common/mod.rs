//! The shared fixture of the integration tests: a deterministic service (a manual clock, a
//! seeded ChaCha20 RNG, the cheapest password hashing) and helpers that populate trusts
//! through the public API.
//!
//! Each test crate uses a different part of it, hence `dead_code` is allowed.
#![allow(dead_code, clippy::unwrap_used)]

use esr_core::chrono::{DateTime, NaiveDate, TimeZone, Utc};
use esr_core::{
    access::*, audit::*, org::*, passcode::*, people::*, store::*, urp::*, values::*, *,
};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use std::cell::Cell;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The service under test: in memory, with a clock that only moves when told to.
pub(crate) type TestEsr = Esr<InMemoryStore, ManualClock>;

/// Every fixture user's password.
pub(crate) const PASSWORD: &str = "correct horse battery staple";
/// The registered mobile number of fixture users who get one (Ofcom's drama range).
pub(crate) const MOBILE: &str = "07700 900374";

/// The instant every fixture starts at.
pub(crate) fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

pub(crate) fn vpd(s: &str) -> VpdCode {
    s.parse().unwrap()
}
pub(crate) fn unit(s: &str) -> OrgUnitId {
    s.parse().unwrap()
}
pub(crate) fn emp(s: &str) -> EmployeeNumber {
    s.parse().unwrap()
}
pub(crate) fn user(s: &str) -> Username {
    s.parse().unwrap()
}
pub(crate) fn system() -> Actor {
    Actor::system("test").unwrap()
}
pub(crate) fn password() -> Password {
    Password::new(PASSWORD)
}
pub(crate) fn units(ids: &[&str]) -> GrantScope {
    GrantScope::OrgUnits(ids.iter().map(|u| unit(u)).collect())
}

/// Trust settings: Automatic Internet Access and Upgrade Access (Manager, Professional); every
/// national portlet on.
pub(crate) fn settings(automatic: bool, manager: bool, professional: bool) -> TrustSettings {
    TrustSettings {
        automatic_internet_access: automatic,
        upgrade_access: UpgradeAccess {
            manager,
            professional,
        },
        ..TrustSettings::default()
    }
}

/// A bare service: manual clock at [`start`], ChaCha20 seeded with `seed`, fast hashing.
pub(crate) fn service(seed: u64, max_failed_logins: u32) -> (TestEsr, ManualClock) {
    let (esr, clock, _) = service_with_outbox(seed, max_failed_logins, PasscodePolicy::default());
    (esr, clock)
}

/// The fixture's passcode key: fixed, so that tests can rotate away from it.
pub(crate) fn fixture_key() -> PasscodeKey {
    PasscodeKey::new("fixture-1", b"key-42-abcdefghijklmnopqrstuvwxy").unwrap()
}

/// A bare service whose texts and e-mails go to the returned [`Outbox`].
/// The fixtures' authenticator key (fixed, so no randomness is drawn for it).
pub(crate) fn fixture_authenticator_key() -> esr_core::authenticator::AuthenticatorKey {
    esr_core::authenticator::AuthenticatorKey::new(
        "fixture-totp-1",
        b"fixture-totp-key-0123456789abcde",
    )
    .unwrap()
}

pub(crate) fn service_with_outbox(
    seed: u64,
    max_failed_logins: u32,
    passcodes: PasscodePolicy,
) -> (TestEsr, ManualClock, Arc<Outbox>) {
    service_with_relay(seed, max_failed_logins, passcodes, Relay::default())
}

/// As [`service_with_outbox`], with the given relay.
pub(crate) fn service_with_relay(
    seed: u64,
    max_failed_logins: u32,
    passcodes: PasscodePolicy,
    relay: Relay,
) -> (TestEsr, ManualClock, Arc<Outbox>) {
    let clock = ManualClock::new(start());
    let outbox = Arc::new(Outbox::new());
    let esr = Esr::with_rng(
        InMemoryStore::new(),
        clock.clone(),
        ChaCha20Rng::seed_from_u64(seed),
    )
    .with_config(Config {
        max_failed_logins,
        password_hashing: PasswordHashing::insecure_fast_for_tests(),
        passcodes,
        recovery_answer_time: std::time::Duration::ZERO,
        relay,
        ..Config::default()
    })
    .unwrap()
    .with_passcode_keys(PasscodeKeys::new(fixture_key()))
    .with_authenticator_keys(esr_core::authenticator::AuthenticatorKeys::new(
        fixture_authenticator_key(),
    ))
    .with_sms_sender(outbox.clone())
    .with_email_sender(outbox.clone());
    (esr, clock, outbox)
}

/// The organisation-unit tree of every fixture trust, parents first.
pub(crate) const UNITS: [(&str, Option<&str>); 6] = [
    ("Trust HQ", None),
    ("Medicine", Some("Trust HQ")),
    ("Ward 5", Some("Medicine")),
    ("Ward 6", Some("Medicine")),
    ("Surgery", Some("Trust HQ")),
    ("Theatres", Some("Surgery")),
];

/// A person with their first assignment.
#[derive(Debug, Clone)]
pub(crate) struct Staff {
    pub(crate) person: Person,
    pub(crate) assignment: Assignment,
}

impl Staff {
    pub(crate) fn username(&self) -> &Username {
        &self.person.username
    }
    pub(crate) fn employee(&self) -> &EmployeeNumber {
        &self.person.employee_number
    }
    pub(crate) fn number(&self) -> &AssignmentNumber {
        &self.assignment.number
    }
}

/// One trust of a fixture, with its two bootstrapped user administrators and an HSCN session
/// of each.
#[derive(Debug, Clone)]
pub(crate) struct TrustSetup {
    pub(crate) vpd: VpdCode,
    pub(crate) admin_a: Staff,
    pub(crate) admin_b: Staff,
    /// The trust's Caldicott guardian, who approves exceptions in [`Fixture::grant`].
    pub(crate) guardian: Staff,
    pub(crate) session_a: SessionId,
    pub(crate) session_b: SessionId,
}

/// A service with one or more trusts, each with the [`UNITS`] tree and two user administrators.
pub(crate) struct Fixture {
    pub(crate) esr: TestEsr,
    pub(crate) clock: ManualClock,
    /// Every text and e-mail the service sent.
    pub(crate) outbox: Arc<Outbox>,
    pub(crate) trusts: Vec<TrustSetup>,
    next: Cell<u32>,
}

/// Builds a [`Fixture`].
pub(crate) struct FixtureBuilder {
    seed: u64,
    max_failed_logins: u32,
    settings: TrustSettings,
    codes: Vec<&'static str>,
    passcodes: PasscodePolicy,
    audit_keys: Option<AuditKeys>,
    relay: Relay,
}

impl FixtureBuilder {
    pub(crate) fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    pub(crate) fn max_failed_logins(mut self, n: u32) -> Self {
        self.max_failed_logins = n;
        self
    }
    pub(crate) fn settings(mut self, settings: TrustSettings) -> Self {
        self.settings = settings;
        self
    }
    /// Sets the passcode limits.
    pub(crate) fn passcodes(mut self, policy: PasscodePolicy) -> Self {
        self.passcodes = policy;
        self
    }
    /// Chains the trail with `keys` from the first entry on.
    pub(crate) fn audit_keys(mut self, keys: AuditKeys) -> Self {
        self.audit_keys = Some(keys);
        self
    }
    /// Sets who relays texts and e-mails.
    pub(crate) fn relay(mut self, relay: Relay) -> Self {
        self.relay = relay;
        self
    }
    /// Adds a trust (the first added is the primary one); "297" if none is named.
    pub(crate) fn trust(mut self, code: &'static str) -> Self {
        self.codes.push(code);
        self
    }

    pub(crate) fn build(self) -> Fixture {
        let (esr, clock, outbox) = service_with_relay(
            self.seed,
            self.max_failed_logins,
            self.passcodes,
            self.relay,
        );
        if let Some(keys) = self.audit_keys {
            esr.set_audit_keys(keys);
        }
        let mut fx = Fixture {
            esr,
            clock,
            outbox,
            trusts: Vec::new(),
            next: Cell::new(1),
        };
        let codes = if self.codes.is_empty() {
            vec!["297"]
        } else {
            self.codes
        };
        for code in codes {
            let v = vpd(code);
            fx.esr
                .create_trust(v, &format!("Trust {code}"), self.settings.clone())
                .unwrap();
            for (id, parent) in UNITS {
                fx.esr
                    .add_org_unit(&system(), v, unit(id), id, parent.map(unit))
                    .unwrap();
            }
            let admin_a = fx.staff_at(v, "Alice", "Adams", "Trust HQ", None);
            let admin_b = fx.staff_at(v, "Bernard", "Brown", "Trust HQ", None);
            let guardian = fx.staff_at(v, "Gwen", "Guardian", "Trust HQ", None);
            fx.esr
                .bootstrap_user_administrators(
                    v,
                    &[admin_a.username().clone(), admin_b.username().clone()],
                    "trust go-live",
                )
                .unwrap();
            let session_a = fx.hscn(admin_a.username());
            let session_b = fx.hscn(admin_b.username());
            fx.trusts.push(TrustSetup {
                vpd: v,
                admin_a,
                admin_b,
                guardian,
                session_a,
                session_b,
            });
        }
        fx
    }
}

impl Fixture {
    pub(crate) fn builder() -> FixtureBuilder {
        FixtureBuilder {
            seed: 1,
            max_failed_logins: 5,
            settings: TrustSettings::default(),
            codes: Vec::new(),
            passcodes: PasscodePolicy::default(),
            audit_keys: None,
            relay: Relay::default(),
        }
    }

    /// One trust ("297"), default settings, seed 1.
    pub(crate) fn new() -> Self {
        Self::builder().build()
    }

    /// The primary trust.
    pub(crate) fn t(&self) -> &TrustSetup {
        &self.trusts[0]
    }
    pub(crate) fn vpd(&self) -> VpdCode {
        self.t().vpd
    }
    pub(crate) fn trust(&self, v: VpdCode) -> &TrustSetup {
        self.trusts.iter().find(|t| t.vpd == v).unwrap()
    }

    /// Adds a person to the primary trust (see [`Fixture::staff_at`]).
    pub(crate) fn staff(
        &self,
        given: &str,
        family: &str,
        org_unit: &str,
        supervisor: Option<&Staff>,
    ) -> Staff {
        self.staff_at(self.vpd(), given, family, org_unit, supervisor)
    }

    /// Adds a person with the fixture password and one assignment in `org_unit`, reporting to
    /// `supervisor`'s assignment. Employee numbers are the trust code and a running number
    /// (`29700001`); the first assignment has the same digits.
    pub(crate) fn staff_at(
        &self,
        v: VpdCode,
        given: &str,
        family: &str,
        org_unit: &str,
        supervisor: Option<&Staff>,
    ) -> Staff {
        let n = self.next.get();
        self.next.set(n + 1);
        let number = format!("{v}{n:05}");
        let person = self
            .esr
            .add_person(
                &system(),
                v,
                NewPerson {
                    employee_number: emp(&number),
                    name: PersonName::new(given, family).unwrap(),
                    date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(),
                    recruitment_email: format!("staff{number}@nhs.net").parse().unwrap(),
                },
            )
            .unwrap();
        self.esr
            .set_password(&system(), &person.username, &password())
            .unwrap();
        let assignment = self
            .esr
            .add_assignment(
                &system(),
                v,
                NewAssignment {
                    number: number.parse().unwrap(),
                    employee_number: person.employee_number.clone(),
                    title: "Staff Nurse".into(),
                    position: format!("{v}|Staff Nurse|{org_unit}|").parse().unwrap(),
                    org_unit: unit(org_unit),
                    supervisor: supervisor.map(|s| s.number().clone()),
                },
            )
            .unwrap();
        Staff { person, assignment }
    }

    /// Gives the person [`MOBILE`] directly in the store, as a storage adapter would.
    pub(crate) fn give_mobile(&self, staff: &Staff) {
        let (v, e) = (staff.person.vpd, staff.employee().clone());
        self.esr
            .store()
            .transaction(|tx| {
                let mut p = tx.person(v, &e)?.unwrap();
                p.mobile = Some(MOBILE.parse()?);
                tx.put_person(&p)
            })
            .unwrap();
    }

    /// Clears `staff`'s registered mobile number.
    pub(crate) fn give_no_mobile(&self, staff: &Staff) {
        let (v, e) = (staff.person.vpd, staff.employee().clone());
        self.esr
            .store()
            .transaction(|tx| tx.set_person_mobile(v, &e, None).map(|_| ()))
            .unwrap();
    }

    /// An HSCN session with a smartcard.
    pub(crate) fn hscn(&self, u: &Username) -> SessionId {
        let card = SmartcardAuthentication::verified_by_caller(&format!("CARD-{u}")).unwrap();
        self.esr.log_in_with_smartcard(u, &card).unwrap().id
    }

    /// An internet log-in with the fixture password.
    pub(crate) fn internet(&self, u: &Username) -> Result<Session> {
        self.esr.log_in_with_password(&u.to_string(), &password())
    }

    /// Upgrades `session` with a second factor the caller verified.
    pub(crate) fn upgrade(&self, session: SessionId) -> Result<Session> {
        self.esr
            .upgrade_session(&StepUpProof::verified_by_caller(session, "sms-otp").unwrap())
    }

    /// A fresh HSCN session of the administrator of `holder`'s trust who is not `holder`
    /// (fresh, so that it is live however far a test has moved the clock).
    fn granting_session(&self, holder: &Username) -> SessionId {
        let t = self.trust(holder.vpd());
        if t.admin_a.username() == holder {
            self.hscn(t.admin_b.username())
        } else {
            self.hscn(t.admin_a.username())
        }
    }

    /// Grants `urp` to `holder` through a user administrator's HSCN session, with a Caldicott
    /// exception approved by the trust's guardian.
    pub(crate) fn grant(&self, holder: &Username, urp: Urp, scope: GrantScope) -> UrpGrant {
        let t = self.trust(holder.vpd());
        self.esr
            .grant_urp(
                self.granting_session(holder),
                GrantRequest {
                    holder: holder.clone(),
                    urp,
                    scope,
                    approval: Approval::CaldicottException {
                        approved_by: t.guardian.employee().clone(),
                        reference: "CG-2026-001".into(),
                    },
                    reason: format!("needs {urp}"),
                },
            )
            .unwrap()
    }

    /// Revokes `urp` from `holder` through a user administrator's HSCN session.
    pub(crate) fn revoke(&self, holder: &Username, urp: Urp) -> UrpGrant {
        self.esr
            .revoke_urp(
                self.granting_session(holder),
                holder,
                urp,
                "no longer needed",
            )
            .unwrap()
    }

    /// Makes `holder` hold exactly `urp` (granting it and revoking Employee Self Service).
    pub(crate) fn hold_exactly(&self, holder: &Username, urp: Urp) {
        if urp != Urp::EmployeeSelfService {
            let scope = if matches!(
                urp,
                Urp::AdministratorSelfServiceApprovalsRequired
                    | Urp::AdministratorSelfServiceApprovalsNotRequired
            ) {
                units(&["Medicine"])
            } else {
                GrantScope::WholeTrust
            };
            self.grant(holder, urp, scope);
            self.revoke(holder, Urp::EmployeeSelfService);
        }
        assert_eq!(self.esr.held_urps(holder).unwrap(), BTreeSet::from([urp]));
    }

    /// Applies every trust setting through the system actor.
    pub(crate) fn apply_settings(&self, v: VpdCode, s: &TrustSettings) {
        let esr = &self.esr;
        esr.set_automatic_internet_access(&system(), v, s.automatic_internet_access)
            .unwrap();
        esr.set_upgrade_access(&system(), v, s.upgrade_access)
            .unwrap();
        for p in NationalPortlet::ALL {
            esr.set_portlet(&system(), v, p, s.dashboard.is_enabled(p))
                .unwrap();
        }
    }

    /// The trust's whole audit trail.
    pub(crate) fn audit(&self, v: VpdCode) -> Vec<AuditEntry> {
        self.esr.audit_trail(v, 1, usize::MAX).unwrap()
    }

    /// Everything stored about a trust that a refused operation must leave alone.
    pub(crate) fn snapshot(&self, v: VpdCode) -> Snapshot {
        let esr = &self.esr;
        let people = esr.people(v).unwrap();
        let mut accounts = Vec::new();
        let mut grants = Vec::new();
        let mut sessions = Vec::new();
        let mut assignments = Vec::new();
        for p in &people {
            accounts.push(esr.account(&p.username).unwrap());
            grants.push(esr.grants_of(&p.username).unwrap());
            let u = p.username.clone();
            sessions.push(esr.store().transaction(|tx| tx.sessions_of(&u)).unwrap());
            assignments.push(esr.assignments_of(v, &p.employee_number).unwrap());
        }
        Snapshot {
            trust: esr.trust(v).unwrap(),
            people,
            accounts,
            grants,
            sessions,
            assignments,
            audit: self.audit(v),
        }
    }
}

/// A copy of a trust's stored state, compared before and after a refusal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Snapshot {
    pub(crate) trust: Trust,
    pub(crate) people: Vec<Person>,
    pub(crate) accounts: Vec<Account>,
    pub(crate) grants: Vec<Vec<UrpGrant>>,
    pub(crate) sessions: Vec<Vec<Session>>,
    pub(crate) assignments: Vec<Vec<Assignment>>,
    pub(crate) audit: Vec<AuditEntry>,
}

/// Asserts that `f` fails with `expected` and leaves the trust's stored state untouched.
#[track_caller]
pub(crate) fn assert_refused<T: std::fmt::Debug>(
    fx: &Fixture,
    v: VpdCode,
    expected: &Error,
    f: impl FnOnce() -> Result<T>,
) {
    let before = fx.snapshot(v);
    let got = f();
    match &got {
        Err(e) => assert_eq!(e, expected),
        Ok(x) => panic!("expected {expected:?}, got Ok({x:?})"),
    }
    assert!(
        fx.snapshot(v) == before,
        "the refusal {expected:?} changed stored state"
    );
}

// ----- passcodes -------------------------------------------------------------------------------

impl Fixture {
    /// The code in the newest text to `number`.
    pub(crate) fn code_sent_to(&self, number: &str) -> String {
        self.outbox
            .last_code_to(&number.parse().unwrap())
            .expect("a code was texted to the number")
    }

    /// Registers `number` for `staff` through the real flow: an HSCN session, a code texted to
    /// the number, the code verified.
    pub(crate) fn register_mobile_by_code(&self, staff: &Staff, number: &str) {
        let s = self.hscn(staff.username());
        let c = self.esr.request_mobile_code(s, number).unwrap();
        let code = self.code_sent_to(number);
        let out = self
            .esr
            .verify_passcode(s, &c.id, c.purpose, &code)
            .unwrap();
        assert!(out.is_approved(), "{out:?}");
        self.esr.log_out(s).unwrap();
    }

    /// A manager who can upgrade over the internet: ESS and Manager Self Service, Upgrade
    /// Access for managers enabled by the trust settings, and [`MOBILE`] registered directly.
    pub(crate) fn upgradable_manager(&self, given: &str, family: &str) -> Staff {
        let m = self.staff(given, family, "Ward 5", None);
        self.grant(
            m.username(),
            Urp::ManagerSelfServicePayrollApprovalsNotRequired,
            GrantScope::WholeTrust,
        );
        self.give_mobile(&m);
        m
    }
}
