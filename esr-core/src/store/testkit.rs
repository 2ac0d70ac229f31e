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

use crate::{
    access::*, audit::*, compliance::*, learning::*, org::*, passcode::*, people::*, store::*,
    urp::*, values::*, *,
};
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
    // Audit checkpoints and archive.
    contracts::audit_checkpoints_are_kept_by_trust_and_seq(&make);
    contracts::audit_archive_removes_a_prefix_and_seq_continues(&make);

    // Notifications and approvals
    contracts::notifications_and_changes_round_trip(&make);
    contracts::settled_notification_and_change_cannot_be_settled_again(&make);
    contracts::change_settlement_has_exactly_one_winner(&make);
    // Workflows
    contracts::workflow_records_replace_by_key_in_order(&make);
    contracts::outbox_is_written_and_rolled_back_with_its_challenge(&make);
    contracts::outbox_idempotency_key_is_unique(&make);
    contracts::outbox_message_is_marked_once(&make);
    contracts::purge_removes_only_finished_records(&make);
    // Authenticator apps
    contracts::authenticator_steps_are_accepted_once(&make);
    contracts::read_transactions_see_committed_state(&make);
    contracts::sessions_are_kept_by_key_without_their_id(&make);
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
            // Audit checkpoints and archive.
            audit_checkpoints_are_kept_by_trust_and_seq,
            audit_archive_removes_a_prefix_and_seq_continues,

            // Notifications and approvals
            notifications_and_changes_round_trip,
            settled_notification_and_change_cannot_be_settled_again,
            change_settlement_has_exactly_one_winner,
            workflow_records_replace_by_key_in_order,
            outbox_is_written_and_rolled_back_with_its_challenge,
            outbox_idempotency_key_is_unique,
            outbox_message_is_marked_once,
            purge_removes_only_finished_records,
            // Authenticator apps
            authenticator_steps_are_accepted_once,
            read_transactions_see_committed_state,
            sessions_are_kept_by_key_without_their_id,
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
                recovery_answer_time: std::time::Duration::ZERO,
                ..Config::default()
            })
            .expect("the kit's configuration is valid")
            .with_passcode_keys(PasscodeKeys::new(
                PasscodeKey::new("kit-1", b"key-42-abcdefghijklmnopqrstuvwxy")
                    .expect("a valid key"),
            ))
            .with_audit_keys(AuditKeys::new(
                AuditKey::new("kit-audit-1", b"audit-42-abcdefghijklmnopqrstuvw")
                    .expect("a valid key"),
            ))
            .with_authenticator_keys(crate::authenticator::AuthenticatorKeys::new(
                crate::authenticator::AuthenticatorKey::new(
                    "kit-totp-1",
                    b"totp-42-abcdefghijklmnopqrstuvwx",
                )
                .expect("a valid key"),
            ))
            .with_sms_sender(outbox.clone())
            .with_email_sender(outbox.clone());
        Self { esr, clock, outbox }
    }

    /// Runs `f` in one transaction of the store (reads and writes), panicking if it fails.
    pub fn in_tx<R>(&self, f: impl FnMut(&mut dyn StoreTx) -> Result<R>) -> R {
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
                min_level: None,
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
                min_level: None,
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
        // Workflows: a guardian; an access request authorised by Alice (ALICE adams's line
        // manager) and one with its AS number recorded; a URP review with one grant confirmed;
        // a competence claim awaiting approval and one rejected.
        esr.set_caldicott_guardian(&system, vpd, Some(b.employee_number.clone()))
            .expect("set guardian");
        let alice = self.hscn(&a.username);
        let sss = esr
            .request_access(
                &system,
                NewAccessRequest::new(c.username.clone(), Urp::SupervisorSelfService, "cover"),
            )
            .expect("request access");
        esr.authorise_access_request(alice, &sss.id)
            .expect("authorise");
        self.clock.advance(TimeDelta::seconds(5));
        let mss = esr
            .request_access(
                &system,
                NewAccessRequest::new(
                    c.username.clone(),
                    Urp::ManagerSelfServicePayrollApprovalsRequired,
                    "acting manager",
                ),
            )
            .expect("request access");
        esr.record_access_prerequisite(&system, vpd, &mss.id, Prerequisite::AsNumber, "AS4471")
            .expect("record AS number");
        let review = esr.open_urp_review(alice).expect("open review");
        let bernard = review
            .items
            .iter()
            .find(|i| i.holder == b.username)
            .expect("Bernard's grant is reviewed")
            .grant;
        esr.confirm_urp_grant(alice, &review.id, &bernard)
            .expect("confirm");
        for evidence in ["previous trust", "certificate lost"] {
            self.clock.advance(TimeDelta::seconds(5));
            esr.claim_competence(
                session,
                NewCompetenceRecord {
                    competence: fire.clone(),
                    achieved: NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
                    expiry: RecordExpiry::Refresher,
                    level: CompetenceLevel::default(),
                },
                evidence,
            )
            .expect("claim competence");
        }
        let lost = esr
            .competence_claims_to_approve(alice)
            .expect("claims to approve")
            .pop()
            .expect("a claim");
        esr.reject_competence_claim(alice, &lost.id, "attend the course")
            .expect("reject claim");
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
    audit_checkpoints: Vec<AuditCheckpoint>,
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
    // Notifications and approvals
    notifications_of: Vec<Vec<crate::notify::Notification>>,
    pending_changes: Vec<crate::notify::PendingChange>,
    // Workflows
    access_requests: Vec<AccessRequest>,
    access_request: Vec<Option<AccessRequest>>,
    urp_reviews: Vec<UrpReview>,
    urp_review: Vec<Option<UrpReview>>,
    competence_claims: Vec<CompetenceClaim>,
    competence_claim: Vec<Option<CompetenceClaim>>,
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
        let session_ids: Vec<crate::SessionKey> =
            sessions_of.iter().flatten().map(|s| s.key).collect();
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
        // Workflows: every record by id, and an id the store never saw.
        let access_requests = tx.access_requests(vpd)?;
        let mut access_request = Vec::new();
        for id in access_requests
            .iter()
            .map(|r| r.id)
            .chain([AccessRequestId::from_bytes([0xee; 16])])
        {
            access_request.push(tx.access_request(vpd, &id)?);
        }
        let urp_reviews = tx.urp_reviews(vpd)?;
        let mut urp_review = Vec::new();
        for id in urp_reviews
            .iter()
            .map(|r| r.id)
            .chain([UrpReviewId::from_bytes([0xee; 16])])
        {
            urp_review.push(tx.urp_review(vpd, &id)?);
        }
        let competence_claims = tx.competence_claims(vpd)?;
        let mut competence_claim = Vec::new();
        for id in competence_claims
            .iter()
            .map(|c| c.id)
            .chain([CompetenceClaimId::from_bytes([0xee; 16])])
        {
            competence_claim.push(tx.competence_claim(vpd, &id)?);
        }
        Ok(Self {
            notifications_of: employees
                .iter()
                .map(|e| tx.notifications_of(vpd, e))
                .collect::<Result<_>>()?,
            pending_changes: tx.pending_changes(vpd)?,
            access_requests,
            access_request,
            urp_reviews,
            urp_review,
            competence_claims,
            competence_claim,
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
            audit_checkpoints: tx.audit_checkpoints(vpd)?,
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
        v.extend(self.notifications_of.iter().flatten().map(|n| n.vpd));
        v.extend(self.pending_changes.iter().map(|c| c.vpd));
        v.extend(self.access_requests.iter().map(|r| r.vpd));
        v.extend(self.access_request.iter().flatten().map(|r| r.vpd));
        v.extend(self.urp_reviews.iter().map(|r| r.vpd));
        v.extend(self.urp_review.iter().flatten().map(|r| r.vpd));
        v.extend(self.competence_claims.iter().map(|c| c.vpd));
        v.extend(self.competence_claim.iter().flatten().map(|c| c.vpd));
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
pub mod contracts;
