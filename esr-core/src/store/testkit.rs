//! The conformance kit for storage adapters (the `testkit` feature): every contract of
//! [`Store`]/[`StoreTx`] (see the `store` module's documentation) as a test that runs against
//! any implementation.
//!
//! An adapter author adds one test file with the macro, which expands to one `#[test]` per
//! contract, so a failure names the contract broken:
//!
//! ```ignore
//! // tests/conformance.rs of an adapter crate, with
//! // [dev-dependencies] esr-core = { version = "0.1", features = ["testkit"] }
//! esr_core::store_conformance_tests!(my_adapter::MyStore::open_fresh_for_test());
//! ```
//!
//! The expression is evaluated once for every store a contract needs, and must give a new,
//! empty store each time. [`run_all`] runs every contract in one call instead.
//!
//! The kit drives the store in two ways: through [`StoreTx`] directly where the contract is the
//! store's (put replaces by key, the audit trail refuses an entry out of sequence, a failed
//! transaction leaves nothing behind), and through the service [`Esr`] where the contract is the
//! service's (usernames and employee numbers are unique, refusals change nothing, one of racing
//! verifications of a code wins). [`contracts::matches_the_reference_store`] runs one scenario
//! on the store under test and on [`InMemoryStore`] and compares every read method's answers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::*;
use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Barrier};

/// Runs every contract against stores made by `make` (each call must give a new, empty store).
/// Panics, naming the contract, at the first one broken.
pub fn run_all<S: Store + 'static>(make: impl Fn() -> S) {
    // Keep this list in step with `store_conformance_tests!`.
    contracts::matches_the_reference_store(&make);
    contracts::secret_fields_are_persisted(&make);
    contracts::put_replaces_by_key(&make);
    contracts::deletes_report_whether_there_was_a_row(&make);
    contracts::reads_see_the_transactions_own_writes(&make);
    contracts::usernames_are_unique(&make);
    contracts::employee_numbers_are_unique_within_a_trust(&make);
    contracts::trusts_are_isolated(&make);
    contracts::audit_trail_is_append_only_and_in_order(&make);
    contracts::failed_transaction_leaves_state_unchanged(&make);
    contracts::panicking_transaction_leaves_state_unchanged(&make);
    contracts::refusals_leave_state_unchanged(&make);
    contracts::settled_challenge_cannot_be_settled_again(&make);
    contracts::passcode_consumption_has_exactly_one_winner(&make);
    contracts::concurrent_transactions_serialise(&make);
}

/// Expands to one `#[test]` per storage contract, each running it against stores made by the
/// expression given (evaluated anew for every store needed; each must be new and empty).
///
/// ```ignore
/// esr_core::store_conformance_tests!(esr_core::InMemoryStore::new());
/// ```
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:expr) => {
        $crate::store_conformance_tests!(@tests $make;
            matches_the_reference_store,
            secret_fields_are_persisted,
            put_replaces_by_key,
            deletes_report_whether_there_was_a_row,
            reads_see_the_transactions_own_writes,
            usernames_are_unique,
            employee_numbers_are_unique_within_a_trust,
            trusts_are_isolated,
            audit_trail_is_append_only_and_in_order,
            failed_transaction_leaves_state_unchanged,
            panicking_transaction_leaves_state_unchanged,
            refusals_leave_state_unchanged,
            settled_challenge_cannot_be_settled_again,
            passcode_consumption_has_exactly_one_winner,
            concurrent_transactions_serialise,
        );
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::store::testkit::contracts::$name(&|| $make);
            }
        )*
    };
}

/// The mobile number the kit registers (Ofcom's drama range: never a real person).
pub const MOBILE: &str = "07700 900374";
/// The password of every person the kit adds.
pub const PASSWORD: &str = "correct horse battery staple";

/// A service over a store under test, with a manual clock, a seeded RNG (so two services built
/// with the same seed and driven the same way write the same records), the cheapest password
/// hashing and an outbox for texts and e-mails.
pub struct Harness<S: Store> {
    /// The service.
    pub esr: Esr<S, ManualClock>,
    /// Its clock.
    pub clock: ManualClock,
    /// Everything it sent.
    pub outbox: Arc<Outbox>,
}

impl<S: Store> Harness<S> {
    /// A harness over `store`, the clock at 2026-11-22 09:00 UTC.
    pub fn new(store: S) -> Self {
        let clock = ManualClock::new(start());
        let outbox = Arc::new(Outbox::new());
        let esr = Esr::with_rng(store, clock.clone(), ChaCha20Rng::seed_from_u64(8))
            .with_config(Config {
                password_hashing: PasswordHashing::insecure_fast_for_tests(),
                passcodes: PasscodePolicy {
                    max_sends: 100,
                    send_window: TimeDelta::minutes(1),
                    min_resend_interval: TimeDelta::zero(),
                    ..PasscodePolicy::default()
                },
                ..Config::default()
            })
            .expect("the kit's configuration is valid")
            .with_passcode_keys(PasscodeKeys::new(
                PasscodeKey::new("kit-1", &[0x42; 32]).expect("a valid key"),
            ))
            .with_sms_sender(outbox.clone())
            .with_email_sender(outbox.clone());
        Self { esr, clock, outbox }
    }

    /// Runs `f` in one transaction of the store (reads and writes), panicking if it fails.
    pub fn in_tx<R>(&self, f: impl FnOnce(&mut dyn StoreTx) -> Result<R>) -> R {
        self.esr.store().transaction(f).expect("store read")
    }

    /// Everything the store holds for trust `vpd`, through every read method.
    pub fn snapshot(&self, vpd: VpdCode) -> Snapshot {
        self.in_tx(|tx| Snapshot::take(tx, vpd))
    }

    /// Adds a person with the kit password and an assignment of the same number, reporting to
    /// `supervisor`.
    pub fn staff(
        &self,
        vpd: VpdCode,
        number: &str,
        given: &str,
        family: &str,
        supervisor: Option<&str>,
    ) -> Person {
        let system = system();
        let person = self
            .esr
            .add_person(
                &system,
                vpd,
                NewPerson {
                    employee_number: number.parse().unwrap(),
                    name: PersonName::new(given, family).unwrap(),
                    date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(),
                    recruitment_email: format!("{given}.{family}@nhs.net").parse().unwrap(),
                },
            )
            .expect("add person");
        self.esr
            .set_password(&system, &person.username, &Password::new(PASSWORD))
            .expect("set password");
        self.esr
            .add_assignment(
                &system,
                vpd,
                NewAssignment {
                    number: number.parse().unwrap(),
                    employee_number: person.employee_number.clone(),
                    title: "Staff Nurse".into(),
                    position: format!("{vpd}|Staff Nurse|Ward|").parse().unwrap(),
                    org_unit: "Ward".parse().unwrap(),
                    supervisor: supervisor.map(|s| s.parse().unwrap()),
                },
            )
            .expect("add assignment");
        person
    }

    /// An HSCN (smartcard) session of `username`.
    pub fn hscn(&self, username: &Username) -> SessionId {
        let card = SmartcardAuthentication::verified_by_caller(&format!("CARD-{username}"))
            .expect("card id");
        self.esr
            .log_in_with_smartcard(username, &card)
            .expect("smartcard log-in")
            .id
    }

    /// Builds trust `vpd` with a record of every kind: org units, three people (two with the
    /// same name, so their usernames differ only in sequence; two with the same e-mail address
    /// but for case), assignments with a supervisor, URP grants, live and ended sessions,
    /// approved and superseded challenges with a registered mobile, competence definitions,
    /// requirements, equivalences, records and settings, a certification with a cancelled and a
    /// certified subscription and their enrolments, and an audit trail of all of it.
    /// Employee and assignment numbers are the same in every trust.
    pub fn populate(&self, vpd: VpdCode) -> Population {
        let esr = &self.esr;
        let system = system();
        esr.create_trust(
            vpd,
            &format!("Trust {vpd}"),
            TrustSettings {
                automatic_internet_access: true,
                ..TrustSettings::default()
            },
        )
        .expect("create trust");
        esr.add_org_unit(&system, vpd, "HQ".parse().unwrap(), "Trust HQ", None)
            .expect("add unit");
        esr.add_org_unit(
            &system,
            vpd,
            "Ward".parse().unwrap(),
            "Ward 5",
            Some("HQ".parse().unwrap()),
        )
        .expect("add unit");
        let a = self.staff(vpd, "10000001", "Alice", "Adams", None);
        let b = self.staff(vpd, "10000002", "Bernard", "Brown", Some("10000001"));
        let c = self.staff(vpd, "10000003", "ALICE", "adams", Some("10000001"));
        esr.bootstrap_user_administrators(
            vpd,
            &[a.username.clone(), b.username.clone()],
            "go-live",
        )
        .expect("bootstrap administrators");
        let ended = self.hscn(&a.username);
        self.clock.advance(TimeDelta::seconds(5));
        esr.log_out(ended).expect("log out");
        let session = self.hscn(&c.username);
        // Two codes to the same number: the first is superseded, the second approved.
        esr.request_mobile_code(session, MOBILE)
            .expect("request code");
        self.clock.advance(TimeDelta::seconds(5));
        let challenge = esr
            .request_mobile_code(session, MOBILE)
            .expect("request code");
        let code = self
            .outbox
            .last_code_to(&MOBILE.parse().unwrap())
            .expect("a code was texted");
        let out = esr
            .verify_passcode(session, &challenge.id, challenge.purpose, &code)
            .expect("verify");
        assert!(out.is_approved(), "{out:?}");
        // Compliance.
        let local: CompetenceName = format!("{vpd}|LOCAL|Ward induction|").parse().unwrap();
        let fire: CompetenceName = "NHS|CSTF|Fire Safety - 1 Year|".parse().unwrap();
        esr.define_competence(
            &system,
            vpd,
            CompetenceDefinition {
                name: local.clone(),
                refresher_months: Some(24),
                active: true,
            },
        )
        .expect("define competence");
        esr.set_requirement(
            &system,
            Requirement {
                vpd,
                target: RequirementTarget::OrgUnit("Ward".parse().unwrap()),
                competence: local.clone(),
                essential: true,
            },
        )
        .expect("set requirement");
        esr.set_requirement(
            &system,
            Requirement {
                vpd,
                target: RequirementTarget::Job("Staff Nurse".into()),
                competence: fire.clone(),
                essential: false,
            },
        )
        .expect("set requirement");
        esr.add_equivalence(
            &system,
            Equivalence {
                vpd,
                held: local.clone(),
                satisfies: fire.clone(),
            },
        )
        .expect("add equivalence");
        esr.set_compliance_settings(
            &system,
            vpd,
            ComplianceSettings {
                target_percent: 85,
                ..ComplianceSettings::default()
            },
        )
        .expect("compliance settings");
        for (who, name, day) in [
            (&c, &fire, 1),
            (&c, &local, 2),
            (&a, &fire, 3),
            (&c, &fire, 4),
        ] {
            esr.record_competence(
                &system,
                vpd,
                &who.employee_number,
                NewCompetenceRecord {
                    competence: name.clone(),
                    achieved: NaiveDate::from_ymd_opt(2026, 1, day).unwrap(),
                    expiry: RecordExpiry::Refresher,
                    level: CompetenceLevel::default(),
                },
            )
            .expect("record competence");
        }
        // Learning: a certification of the local competence; Alice subscribed and then
        // cancelled, ALICE adams subscribed, enrolled in both components and certified.
        let cert = "Ward induction - 2 Years";
        esr.define_certification(
            &system,
            Certification {
                vpd,
                name: cert.into(),
                competence: local.clone(),
                level: CompetenceLevel::default(),
                validity_days: 730,
                completion_window_days: 90,
                renewal: Some(Renewal {
                    window_days: 60,
                    base: ExpiryBase::PreviousExpiry,
                }),
                mandatory: true,
                components: ["Induction", "Induction assessment"]
                    .iter()
                    .zip([ComponentKind::Course, ComponentKind::EAssessment])
                    .map(|(course, kind)| Component {
                        course: (*course).into(),
                        kind,
                        classes: vec!["e-Learning".into()],
                    })
                    .collect(),
                completion_rule: CompletionRule::AllComponents,
            },
        )
        .expect("define certification");
        esr.subscribe(&system, vpd, &a.employee_number, cert)
            .expect("subscribe");
        esr.unsubscribe(&system, vpd, &a.employee_number, cert)
            .expect("unsubscribe");
        esr.subscribe(&system, vpd, &c.employee_number, cert)
            .expect("subscribe");
        for (course, result) in [
            ("Induction", PlayResult::Completed),
            ("Induction assessment", PlayResult::Passed(90)),
        ] {
            self.clock.advance(TimeDelta::seconds(5));
            esr.enrol(&system, vpd, &c.employee_number, cert, course, "e-Learning")
                .expect("enrol");
            esr.play(&system, vpd, &c.employee_number, cert, course, result)
                .expect("play");
        }
        self.clock.advance(TimeDelta::seconds(5));
        Population {
            vpd,
            people: [a, b, c],
            session,
        }
    }
}

/// What [`Harness::populate`] made.
#[derive(Debug, Clone)]
pub struct Population {
    /// The trust.
    pub vpd: VpdCode,
    /// Alice Adams (user administrator), Bernard Brown (user administrator, reports to Alice),
    /// ALICE adams (reports to Alice; registered a mobile).
    pub people: [Person; 3],
    /// ALICE adams's live HSCN session.
    pub session: SessionId,
}

/// Everything a store returns for one trust, read through every read method of [`StoreTx`],
/// for comparing two stores or one store before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    trust: Option<Trust>,
    settings: Option<TrustSettings>,
    people: Vec<Person>,
    by_key: Vec<Option<Person>>,
    mobiles: Vec<Option<Option<crate::MobileNumber>>>,
    with_email: Vec<Vec<Person>>,
    accounts: Vec<Option<Account>>,
    assignments: Vec<Option<Assignment>>,
    assignments_of: Vec<Vec<Assignment>>,
    reporting_to: Vec<Vec<Assignment>>,
    grants: Vec<UrpGrant>,
    grants_of: Vec<Vec<UrpGrant>>,
    sessions_of: Vec<Vec<Session>>,
    sessions: Vec<Option<Session>>,
    challenges_of: Vec<Vec<Challenge>>,
    challenges_of_recent: Vec<Vec<Challenge>>,
    challenges_to: Vec<Vec<Challenge>>,
    challenges: Vec<Option<Challenge>>,
    audit: Vec<AuditEntry>,
    audit_page: Vec<AuditEntry>,
    last_audit: Option<AuditEntry>,
    audit_head: AuditHead,
    active_urps: Vec<std::collections::BTreeSet<Urp>>,
    definitions: Vec<CompetenceDefinition>,
    definition: Vec<Option<CompetenceDefinition>>,
    requirements: Vec<Requirement>,
    equivalences: Vec<Equivalence>,
    records: Vec<CompetenceRecord>,
    records_of: Vec<Vec<CompetenceRecord>>,
    compliance_settings: Option<ComplianceSettings>,
    certifications: Vec<Certification>,
    certification: Vec<Option<Certification>>,
    subscriptions_of: Vec<Vec<Subscription>>,
    subscription: Vec<Option<Subscription>>,
    enrolments_of: Vec<Vec<Enrolment>>,
}

impl Snapshot {
    /// Reads everything of trust `vpd` through `tx`.
    pub fn take(tx: &mut dyn StoreTx, vpd: VpdCode) -> Result<Self> {
        let people = tx.people(vpd)?;
        let employees: Vec<EmployeeNumber> = people
            .iter()
            .map(|p| p.employee_number.clone())
            .chain(["10000001", "10000002", "10000003", "99999999"].map(|e| e.parse().unwrap()))
            .collect();
        let usernames: Vec<Username> = people.iter().map(|p| p.username.clone()).collect();
        let mut emails: Vec<EmailAddress> =
            people.iter().map(|p| p.recruitment_email.clone()).collect();
        emails.push("nobody@nhs.net".parse()?);
        let mut sessions_of = Vec::new();
        let mut challenges_of = Vec::new();
        let mut challenges_of_recent = Vec::new();
        for u in &usernames {
            sessions_of.push(tx.sessions_of(u)?);
            challenges_of.push(tx.challenges_of(u, DateTime::<Utc>::MIN_UTC)?);
            challenges_of_recent.push(tx.challenges_of(u, start() + TimeDelta::seconds(1))?);
        }
        let session_ids: Vec<SessionId> = sessions_of.iter().flatten().map(|s| s.id).collect();
        let all_challenges: Vec<&Challenge> = challenges_of.iter().flatten().collect();
        let mut destinations: Vec<Destination> = all_challenges
            .iter()
            .filter_map(|c| c.destination.clone())
            .collect();
        destinations.push(Destination::Mobile("07700 900999".parse()?));
        let mut challenges_to = Vec::new();
        for d in &destinations {
            challenges_to.push(tx.challenges_to(vpd, d, DateTime::<Utc>::MIN_UTC)?);
        }
        let definitions = tx.competence_definitions(vpd)?;
        let mut definition = Vec::new();
        for d in &definitions {
            definition.push(tx.competence_definition(vpd, &d.name)?);
        }
        definition.push(tx.competence_definition(vpd, &"NHS|CSTF|Fire Safety - 1 Year|".parse()?)?);
        let numbers: Vec<AssignmentNumber> = employees
            .iter()
            .map(|e| Ok(e.as_str().parse()?))
            .collect::<Result<_>>()?;
        let certifications = tx.certifications(vpd)?;
        let mut cert_names: Vec<String> = certifications.iter().map(|c| c.name.clone()).collect();
        cert_names.push("No such certification".into());
        let mut certification = Vec::new();
        let mut subscription = Vec::new();
        for n in &cert_names {
            certification.push(tx.certification(vpd, n)?);
            for e in &employees {
                subscription.push(tx.subscription(vpd, e, n)?);
            }
        }
        Ok(Self {
            certifications,
            certification,
            subscription,
            subscriptions_of: employees
                .iter()
                .map(|e| tx.subscriptions_of(vpd, e))
                .collect::<Result<_>>()?,
            enrolments_of: employees
                .iter()
                .map(|e| tx.enrolments_of(vpd, e))
                .collect::<Result<_>>()?,
            trust: tx.trust(vpd)?,
            settings: tx.trust_settings(vpd)?,
            by_key: employees
                .iter()
                .map(|e| tx.person(vpd, e))
                .collect::<Result<_>>()?,
            mobiles: employees
                .iter()
                .map(|e| tx.person_mobile(vpd, e))
                .collect::<Result<_>>()?,
            with_email: emails
                .iter()
                .map(|e| tx.people_with_email(vpd, e))
                .collect::<Result<_>>()?,
            accounts: usernames
                .iter()
                .map(|u| tx.account(u))
                .collect::<Result<_>>()?,
            assignments: numbers
                .iter()
                .map(|n| tx.assignment(vpd, n))
                .collect::<Result<_>>()?,
            assignments_of: employees
                .iter()
                .map(|e| tx.assignments_of(vpd, e))
                .collect::<Result<_>>()?,
            reporting_to: numbers
                .iter()
                .map(|n| tx.assignments_reporting_to(vpd, n))
                .collect::<Result<_>>()?,
            grants: tx.grants(vpd)?,
            grants_of: usernames
                .iter()
                .map(|u| tx.grants_of(u))
                .collect::<Result<_>>()?,
            sessions: session_ids
                .iter()
                .map(|s| tx.session(s))
                .collect::<Result<_>>()?,
            challenges: all_challenges
                .iter()
                .map(|c| tx.challenge(&c.id))
                .collect::<Result<_>>()?,
            sessions_of,
            challenges_of,
            challenges_of_recent,
            challenges_to,
            audit: tx.audit_entries(vpd, 1, usize::MAX)?,
            audit_page: tx.audit_entries(vpd, 3, 4)?,
            last_audit: tx.last_audit(vpd)?,
            audit_head: tx.audit_head(vpd)?,
            active_urps: usernames
                .iter()
                .map(|u| tx.active_urps_of(u))
                .collect::<Result<_>>()?,
            definitions,
            definition,
            requirements: tx.requirements(vpd)?,
            equivalences: tx.equivalences(vpd)?,
            records: tx.competence_records(vpd)?,
            records_of: employees
                .iter()
                .map(|e| tx.competence_records_of(vpd, e))
                .collect::<Result<_>>()?,
            compliance_settings: tx.compliance_settings(vpd)?,
            people,
        })
    }

    /// Every trust code that appears in a record of the snapshot.
    fn trusts_seen(&self) -> Vec<VpdCode> {
        let mut v = Vec::new();
        v.extend(self.trust.iter().map(|t| t.vpd));
        v.extend(self.people.iter().map(|p| p.vpd));
        v.extend(self.by_key.iter().flatten().map(|p| p.vpd));
        v.extend(self.with_email.iter().flatten().map(|p| p.vpd));
        v.extend(self.accounts.iter().flatten().map(|a| a.username.vpd()));
        v.extend(self.assignments.iter().flatten().map(|a| a.vpd));
        v.extend(self.assignments_of.iter().flatten().map(|a| a.vpd));
        v.extend(self.reporting_to.iter().flatten().map(|a| a.vpd));
        v.extend(self.grants.iter().map(|g| g.vpd));
        v.extend(self.grants_of.iter().flatten().map(|g| g.vpd));
        v.extend(self.sessions_of.iter().flatten().map(|s| s.vpd));
        v.extend(self.challenges_of.iter().flatten().map(|c| c.vpd));
        v.extend(self.challenges_to.iter().flatten().map(|c| c.vpd));
        v.extend(self.audit.iter().map(|e| e.vpd));
        v.extend(self.requirements.iter().map(|r| r.vpd));
        v.extend(self.equivalences.iter().map(|e| e.vpd));
        v.extend(self.records.iter().map(|r| r.vpd));
        v.extend(self.records_of.iter().flatten().map(|r| r.vpd));
        v.extend(self.certifications.iter().map(|c| c.vpd));
        v.extend(self.certification.iter().flatten().map(|c| c.vpd));
        v.extend(self.subscriptions_of.iter().flatten().map(|s| s.vpd));
        v.extend(self.subscription.iter().flatten().map(|s| s.vpd));
        v.extend(self.enrolments_of.iter().flatten().map(|e| e.vpd));
        v.sort();
        v.dedup();
        v
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

fn system() -> Actor {
    Actor::system("conformance kit").unwrap()
}

fn vpd(s: &str) -> VpdCode {
    s.parse().unwrap()
}

/// The contracts, one function each; [`run_all`] and [`store_conformance_tests!`] run them all.
/// Each takes the factory of new, empty stores and panics with a message naming what broke.
pub mod contracts {
    use super::*;

    /// One scenario with a record of every kind, in two trusts, run on the store under test and
    /// on [`InMemoryStore`] (the reference): every read method answers the same (so every field
    /// is stored, updates replace, and lists come in the documented order).
    pub fn matches_the_reference_store<S: Store>(make: &dyn Fn() -> S) {
        let subject = Harness::new(make());
        let reference = Harness::new(InMemoryStore::new());
        for code in ["297", "298"] {
            subject.populate(vpd(code));
            reference.populate(vpd(code));
        }
        for code in ["297", "298", "299"] {
            let (got, want) = (subject.snapshot(vpd(code)), reference.snapshot(vpd(code)));
            if got != want {
                panic!(
                    "trust {code}: the store under test answers differently from the reference \
                     in-memory store\n  got:  {got:?}\n  want: {want:?}"
                );
            }
        }
    }

    /// Fields serde skips (`Person::mobile`, `Account::password_hash`,
    /// `Challenge::destination`) are stored and read back.
    pub fn secret_fields_are_persisted<S: Store>(make: &dyn Fn() -> S) {
        let h = Harness::new(make());
        let p = h.populate(vpd("297"));
        let [a, _, c] = &p.people;
        let person = h.in_tx(|tx| tx.person(p.vpd, &c.employee_number)).unwrap();
        assert_eq!(
            person.mobile,
            Some(MOBILE.parse().unwrap()),
            "Person::mobile must be stored"
        );
        let account = h.in_tx(|tx| tx.account(&a.username)).unwrap();
        assert!(
            account.password_hash.is_some(),
            "Account::password_hash must be stored"
        );
        h.esr
            .log_in_with_password(&a.username.to_string(), &Password::new(PASSWORD))
            .expect("the stored password hash verifies the password");
        let challenges = h.in_tx(|tx| tx.challenges_of(&c.username, DateTime::<Utc>::MIN_UTC));
        assert_eq!(challenges.len(), 2);
        for ch in challenges {
            assert_eq!(
                ch.destination,
                Some(Destination::Mobile(MOBILE.parse().unwrap())),
                "Challenge::destination must be stored"
            );
        }
        let email = Destination::Email("Alice.Adams@NHS.net".parse().unwrap());
        let mut ch = h
            .in_tx(|tx| tx.challenges_of(&c.username, DateTime::<Utc>::MIN_UTC))
            .remove(0);
        ch.id = ChallengeId::from_bytes([7; 16]);
        ch.destination = Some(email.clone());
        h.in_tx(|tx| tx.put_challenge(&ch));
        let back = h.in_tx(|tx| tx.challenge(&ch.id)).unwrap();
        assert_eq!(back, ch, "an e-mail destination is stored exactly");
        let lower = Destination::Email("alice.adams@nhs.net".parse().unwrap());
        let to = h.in_tx(|tx| tx.challenges_to(p.vpd, &lower, DateTime::<Utc>::MIN_UTC));
        assert_eq!(
            to,
            vec![ch],
            "e-mail destinations match without regard to case"
        );
    }

    /// `put_*` inserts or replaces by key: writing a changed record again leaves one record, the
    /// new one, and moves it in every index (a new supervisor, a revoked grant keeping its place).
    pub fn put_replaces_by_key<S: Store>(make: &dyn Fn() -> S) {
        let h = Harness::new(make());
        let p = h.populate(vpd("297"));
        let v = p.vpd;
        let [a, b, c] = &p.people;
        h.in_tx(|tx| {
            let mut trust = tx.trust(v)?.unwrap();
            trust.name = "Renamed".into();
            trust.settings.automatic_internet_access = false;
            tx.put_trust(&trust)?;
            let mut person = tx.person(v, &b.employee_number)?.unwrap();
            person.recruitment_email = "new.address@nhs.net".parse()?;
            person.mobile = Some("07700 900111".parse()?);
            tx.put_person(&person)?;
            let mut account = tx.account(&b.username)?.unwrap();
            account.failed_logins = 3;
            account.password_hash = None;
            tx.put_account(&account)?;
            // Bernard reported to Alice; now to ALICE.
            let mut asg = tx.assignment(v, &"10000002".parse()?)?.unwrap();
            asg.supervisor = Some("10000003".parse()?);
            tx.put_assignment(&asg)?;
            let mut first = tx.grants(v)?.remove(0);
            first.revoked = Some(Revocation {
                by: Grantor::System("kit".into()),
                at: start(),
                reason: "test".into(),
            });
            tx.put_grant(&first)?;
            let mut s = tx.session(&p.session)?.unwrap();
            s.upgrade = Some(Upgrade {
                at: start(),
                method: "kit".into(),
            });
            tx.put_session(&s)?;
            let mut settings = tx.compliance_settings(v)?.unwrap();
            settings.target_percent = 50;
            tx.put_compliance_settings(v, &settings)?;
            let mut r = tx.requirements(v)?.remove(0);
            r.essential = !r.essential;
            tx.put_requirement(&r)?;
            let mut rec = tx.competence_records_of(v, &c.employee_number)?.remove(0);
            rec.expiry = None;
            tx.put_competence_record(&rec)?;
            let mut def = tx.competence_definitions(v)?.remove(0);
            def.active = false;
            tx.put_competence_definition(v, &def)?;
            let e = tx.equivalences(v)?.remove(0);
            tx.put_equivalence(&e)?;
            Ok(())
        });
        h.in_tx(|tx| {
            let trust = tx.trust(v)?.unwrap();
            assert_eq!(trust.name, "Renamed");
            assert_eq!(tx.trust_settings(v)?, Some(trust.settings.clone()));
            assert!(!trust.settings.automatic_internet_access);
            let people = tx.people(v)?;
            assert_eq!(people.len(), 3, "replacing a person adds none");
            let bernard = tx.person(v, &b.employee_number)?.unwrap();
            assert_eq!(bernard.mobile, Some("07700 900111".parse()?));
            assert_eq!(bernard.recruitment_email.as_str(), "new.address@nhs.net");
            assert!(
                tx.people_with_email(v, &b.recruitment_email)?.is_empty(),
                "the old e-mail address no longer finds the person"
            );
            assert_eq!(
                tx.people_with_email(v, &"NEW.address@nhs.net".parse()?)?,
                vec![bernard]
            );
            let account = tx.account(&b.username)?.unwrap();
            assert_eq!((account.failed_logins, account.password_hash), (3, None));
            let alice_reports: Vec<String> = tx
                .assignments_reporting_to(v, &"10000001".parse()?)?
                .iter()
                .map(|x| x.number.to_string())
                .collect();
            assert_eq!(
                alice_reports,
                ["10000003"],
                "the old supervisor's index is updated"
            );
            let new_reports = tx.assignments_reporting_to(v, &"10000003".parse()?)?;
            assert_eq!(new_reports.len(), 1);
            assert_eq!(new_reports[0].number.as_str(), "10000002");
            let grants = tx.grants(v)?;
            assert!(
                grants[0].revoked.is_some(),
                "a replaced grant keeps its place"
            );
            assert_eq!(
                tx.grants_of(&a.username)?
                    .iter()
                    .filter(|g| g.id == grants[0].id)
                    .count(),
                usize::from(grants[0].holder == a.username)
            );
            assert!(tx.session(&p.session)?.unwrap().upgrade.is_some());
            assert_eq!(
                tx.sessions_of(&c.username)?.len(),
                1,
                "replacing a session adds none"
            );
            assert_eq!(tx.compliance_settings(v)?.unwrap().target_percent, 50);
            assert_eq!(tx.requirements(v)?.len(), 2);
            assert_eq!(
                tx.equivalences(v)?.len(),
                1,
                "an equivalence is a set member"
            );
            // Three recorded, one awarded by the certification.
            assert_eq!(tx.competence_records_of(v, &c.employee_number)?.len(), 4);
            assert_eq!(
                tx.competence_records_of(v, &c.employee_number)?[0].expiry,
                None
            );
            assert!(!tx.competence_definitions(v)?[0].active);
            Ok(())
        });
    }

    /// `delete_*` removes the record and says whether there was one.
    pub fn deletes_report_whether_there_was_a_row<S: Store>(make: &dyn Fn() -> S) {
        let h = Harness::new(make());
        let p = h.populate(vpd("297"));
        let v = p.vpd;
        let c = &p.people[2];
        h.in_tx(|tx| {
            let def = tx.competence_definitions(v)?.remove(0);
            assert!(tx.delete_competence_definition(v, &def.name)?);
            assert!(!tx.delete_competence_definition(v, &def.name)?);
            assert_eq!(tx.competence_definition(v, &def.name)?, None);
            let r = tx.requirements(v)?.remove(0);
            assert!(tx.delete_requirement(v, &r.target, &r.competence)?);
            assert!(!tx.delete_requirement(v, &r.target, &r.competence)?);
            assert_eq!(tx.requirements(v)?.len(), 1);
            let e = tx.equivalences(v)?.remove(0);
            assert!(tx.delete_equivalence(&e)?);
            assert!(!tx.delete_equivalence(&e)?);
            assert!(tx.equivalences(v)?.is_empty());
            let rec = tx.competence_records_of(v, &c.employee_number)?.remove(0);
            let del = |tx: &mut dyn StoreTx| {
                tx.delete_competence_record(v, &rec.employee_number, &rec.competence, rec.achieved)
            };
            assert!(del(tx)?);
            assert!(!del(tx)?);
            assert_eq!(tx.competence_records_of(v, &c.employee_number)?.len(), 3);
            assert_eq!(tx.competence_records(v)?.len(), 4);
            Ok(())
        });
    }

    /// Reads inside a transaction see its own earlier writes.
    pub fn reads_see_the_transactions_own_writes<S: Store>(make: &dyn Fn() -> S) {
        let h = Harness::new(make());
        let p = h.populate(vpd("297"));
        let v = p.vpd;
        h.in_tx(|tx| {
            let mut person = tx.person(v, &p.people[0].employee_number)?.unwrap();
            person.employee_number = "10000009".parse()?;
            tx.put_person(&person)?;
            assert_eq!(tx.person(v, &person.employee_number)?, Some(person.clone()));
            assert_eq!(tx.people(v)?.len(), 4);
            let number: crate::MobileNumber = "07700 900111".parse()?;
            let e = &person.employee_number;
            let before = person.mobile.clone();
            assert_eq!(
                tx.set_person_mobile(v, e, Some(number.clone()))?,
                Some(before)
            );
            assert_eq!(tx.person_mobile(v, e)?, Some(Some(number.clone())));
            assert_eq!(
                tx.person(v, e)?.map(|p| p.mobile),
                Some(Some(number.clone()))
            );
            assert_eq!(tx.set_person_mobile(v, e, None)?, Some(Some(number)));
            assert_eq!(tx.person_mobile(v, e)?, Some(None));
            let nobody: EmployeeNumber = "10000099".parse()?;
            assert_eq!(tx.set_person_mobile(v, &nobody, None)?, None);
            assert_eq!(tx.person_mobile(v, &nobody)?, None);
            assert_eq!(tx.person(v, &nobody)?, None);
            let last = tx.last_audit(v)?.unwrap();
            let mut next = last.clone();
            next.seq += 1;
            tx.append_audit(&next)?;
            assert_eq!(tx.last_audit(v)?, Some(next));
            Ok(())
        });
    }

    /// Usernames are unique: people with the same name get the next sequence number, in
    /// whichever order and case the name is written (a service contract).
    pub fn usernames_are_unique<S: Store>(make: &dyn Fn() -> S) {
        let h = Harness::new(make());
        let p = h.populate(vpd("297"));
        let [a, _, c] = &p.people;
        assert_eq!(a.username.to_string(), "297AADAMS01");
        assert_eq!(c.username.to_string(), "297AADAMS02");
        let d = h.staff(p.vpd, "10000004", "Anne", "Adams", None);
        assert_eq!(d.username.to_string(), "297AADAMS03");
        for u in [&a.username, &c.username, &d.username] {
            let acc = h
                .in_tx(|tx| tx.account(u))
                .expect("each username has an account");
            assert_eq!(&acc.username, u);
        }
        let other = h.populate(vpd("298"));
        assert_eq!(other.people[0].username.to_string(), "298AADAMS01");
    }

    /// An employee number is unique within a trust, and may be used again in another (a service
    /// contract): the refusal changes nothing.
    pub fn employee_numbers_are_unique_within_a_trust<S: Store>(make: &dyn Fn() -> S) {
        let h = Harness::new(make());
        let p = h.populate(vpd("297"));
        let before = h.snapshot(p.vpd);
        let again = h.esr.add_person(
            &system(),
            p.vpd,
            NewPerson {
                employee_number: "10000002".parse().unwrap(),
                name: PersonName::new("Zed", "Zimmer").unwrap(),
                date_of_birth: NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
                recruitment_email: "zed@nhs.net".parse().unwrap(),
            },
        );
        assert!(
            matches!(again, Err(Error::DuplicateEmployeeNumber { .. })),
            "{again:?}"
        );
        assert_eq!(
            h.snapshot(p.vpd),
            before,
            "a refused person changes nothing"
        );
        h.populate(vpd("298"));
        assert_eq!(
            h.snapshot(p.vpd),
            before,
            "another trust's people are its own"
        );
    }

    /// No method returns another trust's rows, though both trusts use the same employee and
    /// assignment numbers.
    pub fn trusts_are_isolated<S: Store>(make: &dyn Fn() -> S) {
        let h = Harness::new(make());
        let one = h.populate(vpd("297"));
        let two = h.populate(vpd("298"));
        for p in [&one, &two] {
            let seen = h.snapshot(p.vpd).trusts_seen();
            assert_eq!(seen, vec![p.vpd], "trust {} sees rows of {seen:?}", p.vpd);
        }
        let empty = h.snapshot(vpd("299"));
        assert!(
            empty.trusts_seen().is_empty(),
            "an unknown trust sees rows of {:?}",
            empty.trusts_seen()
        );
        // The same employee number names two different people.
        let e = &one.people[0].employee_number;
        let (x, y) = h.in_tx(|tx| Ok((tx.person(one.vpd, e)?, tx.person(two.vpd, e)?)));
        assert_ne!(x.unwrap().username, y.unwrap().username);
        // Deleting in one trust leaves the other's alone.
        h.in_tx(|tx| {
            let rec = tx.competence_records(one.vpd)?.remove(0);
            assert!(tx.delete_competence_record(
                one.vpd,
                &rec.employee_number,
                &rec.competence,
                rec.achieved
            )?);
            Ok(())
        });
        assert_eq!(h.in_tx(|tx| tx.competence_records(two.vpd)).len(), 5);
        h.esr.verify_audit(one.vpd).expect("trust 297's chain");
        h.esr.verify_audit(two.vpd).expect("trust 298's chain");
    }

    /// The audit trail is append-only and in order: `append_audit` refuses an entry whose `seq`
    /// is not one past the trust's last, and each trust has its own sequence.
    pub fn audit_trail_is_append_only_and_in_order<S: Store>(make: &dyn Fn() -> S) {
        let h = Harness::new(make());
        let one = h.populate(vpd("297"));
        h.populate(vpd("298"));
        let trail = h.in_tx(|tx| tx.audit_entries(one.vpd, 1, usize::MAX));
        assert!(trail.len() > 10);
        for (i, e) in trail.iter().enumerate() {
            assert_eq!(e.seq, i as u64 + 1, "entries come in sequence from 1");
        }
        let last = trail.last().unwrap().clone();
        for seq in [0, 1, last.seq, last.seq + 2, u64::MAX] {
            let mut e = last.clone();
            e.seq = seq;
            let r = h.esr.store().transaction(|tx| tx.append_audit(&e));
            assert!(
                matches!(r, Err(Error::Storage(_))),
                "an entry with seq {seq} after {} must be refused with Error::Storage: {r:?}",
                last.seq
            );
        }
        assert_eq!(
            h.in_tx(|tx| tx.audit_entries(one.vpd, 1, usize::MAX)),
            trail
        );
        let page = h.in_tx(|tx| tx.audit_entries(one.vpd, 4, 3));
        assert_eq!(page, trail[3..6].to_vec());
        assert!(
            h.in_tx(|tx| tx.audit_entries(one.vpd, last.seq + 1, 10))
                .is_empty()
        );
        assert!(h.in_tx(|tx| tx.audit_entries(one.vpd, 1, 0)).is_empty());
        let mut next = last.clone();
        next.seq += 1;
        h.in_tx(|tx| tx.append_audit(&next));
        assert_eq!(h.in_tx(|tx| tx.last_audit(one.vpd)), Some(next));
        h.esr
            .verify_audit(vpd("298"))
            .expect("the other trust's chain is untouched");
    }

    fn write_everything(tx: &mut dyn StoreTx, p: &Population) -> Result<()> {
        let v = p.vpd;
        let mut fresh = 100u8..;
        let mut trust = tx.trust(v)?.unwrap();
        trust.name = "Changed".into();
        tx.put_trust(&trust)?;
        let mut new_trust = trust.clone();
        new_trust.vpd = "299".parse()?;
        tx.put_trust(&new_trust)?;
        for person in tx.people(v)? {
            tx.set_person_mobile(v, &person.employee_number, Some("07700 900999".parse()?))?;
            let mut changed = person.clone();
            changed.mobile = None;
            changed.recruitment_email = "x@nhs.net".parse()?;
            tx.put_person(&changed)?;
            let mut extra = person.clone();
            extra.employee_number =
                format!("2{}", &person.employee_number.as_str()[1..]).parse()?;
            tx.put_person(&extra)?;
            let mut acc = tx.account(&person.username)?.unwrap();
            acc.failed_logins += 1;
            acc.password_hash = None;
            tx.put_account(&acc)?;
            for mut a in tx.assignments_of(v, &person.employee_number)? {
                a.supervisor = None;
                a.title = "Changed".into();
                tx.put_assignment(&a)?;
                a.number = format!("2{}", &a.number.as_str()[1..]).parse()?;
                tx.put_assignment(&a)?;
            }
            for mut s in tx.sessions_of(&person.username)? {
                s.ended = None;
                tx.put_session(&s)?;
                s.id = SessionId::from_bytes([fresh.next().unwrap_or(0); 16]);
                tx.put_session(&s)?;
            }
            for mut c in tx.challenges_of(&person.username, DateTime::<Utc>::MIN_UTC)? {
                if c.status == ChallengeStatus::Pending {
                    c.attempts += 1;
                    tx.put_challenge(&c)?;
                }
                c.id = ChallengeId::from_bytes([fresh.next().unwrap_or(0); 16]);
                c.status = ChallengeStatus::Pending;
                tx.put_challenge(&c)?;
            }
        }
        for mut g in tx.grants(v)? {
            g.reason = "changed".into();
            tx.put_grant(&g)?;
        }
        let last = tx.last_audit(v)?.unwrap();
        let mut next = last.clone();
        next.seq += 1;
        tx.append_audit(&next)?;
        let mut other = last;
        other.vpd = "299".parse()?;
        other.seq = 1;
        tx.append_audit(&other)?;
        for d in tx.competence_definitions(v)? {
            tx.delete_competence_definition(v, &d.name)?;
        }
        let mut def = CompetenceDefinition::from_name("NHS|CSTF|Fire Safety - 1 Year|".parse()?);
        def.active = false;
        tx.put_competence_definition(v, &def)?;
        for r in tx.requirements(v)? {
            tx.delete_requirement(v, &r.target, &r.competence)?;
        }
        for e in tx.equivalences(v)? {
            tx.delete_equivalence(&e)?;
        }
        for mut r in tx.competence_records(v)? {
            tx.delete_competence_record(v, &r.employee_number, &r.competence, r.achieved)?;
            r.achieved = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
            tx.put_competence_record(&r)?;
        }
        tx.put_compliance_settings(v, &ComplianceSettings::default())?;
        Ok(())
    }

    /// A transaction whose closure returns `Err` keeps none of its writes, of any kind.
    pub fn failed_transaction_leaves_state_unchanged<S: Store>(make: &dyn Fn() -> S) {
        let h = Harness::new(make());
        let p = h.populate(vpd("297"));
        let before = (h.snapshot(p.vpd), h.snapshot(vpd("299")));
        let r: Result<()> = h.esr.store().transaction(|tx| {
            write_everything(tx, &p)?;
            Err(Error::invalid("kit", "the closure fails after writing"))
        });
        assert!(matches!(r, Err(Error::InvalidInput { .. })), "{r:?}");
        let after = (h.snapshot(p.vpd), h.snapshot(vpd("299")));
        assert!(
            after == before,
            "a failed transaction left writes behind: {after:?}"
        );
        // The store still works.
        h.in_tx(|tx| write_everything(tx, &p));
        assert_ne!(h.snapshot(p.vpd), before.0);
    }

    /// A transaction whose closure panics keeps none of its writes, and the store works after.
    pub fn panicking_transaction_leaves_state_unchanged<S: Store>(make: &dyn Fn() -> S) {
        let h = Harness::new(make());
        let p = h.populate(vpd("297"));
        let before = (h.snapshot(p.vpd), h.snapshot(vpd("299")));
        let r = catch_unwind(AssertUnwindSafe(|| {
            let _ = h.esr.store().transaction(|tx| -> Result<()> {
                write_everything(tx, &p)?;
                panic!("the closure panics after writing");
            });
        }));
        assert!(r.is_err());
        let after = (h.snapshot(p.vpd), h.snapshot(vpd("299")));
        assert!(
            after == before,
            "a panicking transaction left writes behind: {after:?}"
        );
        h.populate(vpd("298"));
    }

    /// Operations the service refuses leave the store exactly as it was.
    pub fn refusals_leave_state_unchanged<S: Store>(make: &dyn Fn() -> S) {
        let h = Harness::new(make());
        let p = h.populate(vpd("297"));
        let v = p.vpd;
        let [a, b, c] = &p.people;
        let before = h.snapshot(v);
        let esr = &h.esr;
        let sys = system();
        let refusals: Vec<(&str, Result<()>)> = vec![
            (
                "a trust that exists",
                esr.create_trust(v, "Again", TrustSettings::default())
                    .map(drop),
            ),
            (
                "a duplicate assignment",
                esr.add_assignment(
                    &sys,
                    v,
                    NewAssignment {
                        number: "10000002".parse().unwrap(),
                        employee_number: c.employee_number.clone(),
                        title: "Porter".into(),
                        position: format!("{v}|Porter|Ward|").parse().unwrap(),
                        org_unit: "Ward".parse().unwrap(),
                        supervisor: None,
                    },
                )
                .map(drop),
            ),
            (
                "a supervisor cycle",
                esr.set_supervisor(
                    &sys,
                    v,
                    &"10000001".parse().unwrap(),
                    Some("10000002".parse().unwrap()),
                )
                .map(drop),
            ),
            (
                "an org unit that exists",
                esr.add_org_unit(&sys, v, "Ward".parse().unwrap(), "Again", None)
                    .map(drop),
            ),
            (
                "revoking a user administrator below two",
                esr.revoke_urp(
                    p.session,
                    &b.username,
                    Urp::LocalHrmsSystemsAndUserAdministration,
                    "kit",
                )
                .map(drop),
            ),
            (
                "a weak password",
                esr.set_password(&sys, &a.username, &Password::new("short")),
            ),
            (
                "a requirement of an unknown competence",
                esr.set_requirement(
                    &sys,
                    Requirement {
                        vpd: v,
                        target: RequirementTarget::Job("Porter".into()),
                        competence: format!("{v}|LOCAL|Nothing like it|").parse().unwrap(),
                        essential: true,
                    },
                ),
            ),
            (
                "a record of an unknown person",
                esr.record_competence(
                    &sys,
                    v,
                    &"99999999".parse().unwrap(),
                    NewCompetenceRecord {
                        competence: "NHS|CSTF|Fire Safety - 1 Year|".parse().unwrap(),
                        achieved: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                        expiry: RecordExpiry::Refresher,
                        level: CompetenceLevel::default(),
                    },
                )
                .map(drop),
            ),
        ];
        for (what, r) in refusals {
            assert!(r.is_err(), "{what} was not refused");
            let after = h.snapshot(v);
            assert!(
                after == before,
                "refusing {what} changed the store: {after:?}"
            );
        }
    }

    /// A challenge is consumed once: writing a settled challenge over one already settled is
    /// refused with [`Error::Storage`] (adapters implement it as a conditional update, so two
    /// writers racing outside the service's transaction cannot both win).
    pub fn settled_challenge_cannot_be_settled_again<S: Store>(make: &dyn Fn() -> S) {
        let h = Harness::new(make());
        let p = h.populate(vpd("297"));
        let c = &p.people[2];
        let all = h.in_tx(|tx| tx.challenges_of(&c.username, DateTime::<Utc>::MIN_UTC));
        let approved = all
            .iter()
            .find(|x| x.status == ChallengeStatus::Approved)
            .expect("an approved challenge")
            .clone();
        for status in [ChallengeStatus::Approved, ChallengeStatus::Pending] {
            let mut again = approved.clone();
            again.status = status;
            again.settled_at = Some(start() + TimeDelta::hours(1));
            let r = h.esr.store().transaction(|tx| tx.put_challenge(&again));
            assert!(
                matches!(r, Err(Error::Storage(_))),
                "rewriting a settled challenge as {status} must be refused: {r:?}"
            );
        }
        assert_eq!(h.in_tx(|tx| tx.challenge(&approved.id)), Some(approved));
    }

    /// Of threads racing to verify the right code, exactly one is approved, every round.
    pub fn passcode_consumption_has_exactly_one_winner<S: Store>(make: &dyn Fn() -> S) {
        let h = Harness::new(make());
        let p = h.populate(vpd("297"));
        let threads = 4;
        let barrier = Barrier::new(threads);
        for round in 0..20 {
            h.clock.advance(TimeDelta::seconds(7));
            let c = h
                .esr
                .request_mobile_code(p.session, MOBILE)
                .expect("request code");
            let code = h.outbox.last_code_to(&MOBILE.parse().unwrap()).unwrap();
            let results: Vec<Result<VerifyOutcome>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|_| {
                        let (esr, barrier, c, code) = (&h.esr, &barrier, &c, &code);
                        s.spawn(move || {
                            barrier.wait();
                            esr.verify_passcode(p.session, &c.id, c.purpose, code)
                        })
                    })
                    .collect();
                handles.into_iter().map(|t| t.join().unwrap()).collect()
            });
            let approved = results
                .iter()
                .filter(|r| matches!(r, Ok(o) if o.is_approved()))
                .count();
            let used = results
                .iter()
                .filter(|r| matches!(r, Ok(VerifyOutcome::AlreadyUsed)))
                .count();
            assert_eq!(
                (approved, used),
                (1, threads - 1),
                "round {round}: exactly one verification wins: {results:?}"
            );
        }
        h.esr.verify_audit(p.vpd).expect("the audit chain verifies");
    }

    /// Concurrent read-then-write transactions behave as if run one after another: no lost
    /// update.
    pub fn concurrent_transactions_serialise<S: Store>(make: &dyn Fn() -> S) {
        let h = Harness::new(make());
        let p = h.populate(vpd("297"));
        let u = &p.people[1].username;
        let (threads, each) = (6, 20);
        let barrier = Barrier::new(threads);
        std::thread::scope(|s| {
            for _ in 0..threads {
                let (store, barrier) = (h.esr.store(), &barrier);
                s.spawn(move || {
                    barrier.wait();
                    for _ in 0..each {
                        store
                            .transaction(|tx| {
                                let mut acc = tx.account(u)?.unwrap();
                                std::thread::yield_now();
                                acc.passcode_failures += 1;
                                tx.put_account(&acc)
                            })
                            .expect("increment");
                    }
                });
            }
        });
        let acc = h.in_tx(|tx| tx.account(u)).unwrap();
        assert_eq!(
            acc.passcode_failures,
            (threads * each) as u32,
            "no update is lost"
        );
    }
}
