//! The audit trail: a hash chain per trust that verifies after a busy day, detects edits,
//! removals, reordering and truncation (with an anchor kept elsewhere), never mixes trusts,
//! and never holds a secret; nor does any `Debug`, JSON or error message of the library.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::chrono::{NaiveDate, TimeDelta};
use esr_core::{
    access::*, audit::*, compliance::*, learning::*, org::*, people::*, store::*, urp::*,
    values::*, *,
};
use std::sync::Mutex;

const NEW_PASSWORD: &str = "a brand new passphrase";

/// What a busy flow touched, for later checks.
#[derive(Default)]
struct Busy {
    sessions: Vec<SessionId>,
    outputs: Vec<String>,
    errors: Vec<Error>,
    people: Vec<Staff>,
}

impl Busy {
    fn err<T: std::fmt::Debug>(&mut self, r: Result<T>) {
        self.errors.push(r.unwrap_err());
    }
}

/// A day in trust `v`: settings, people, approvals, log-ins good and bad, a lockout, a
/// mobile registration, upgrades, record views and changes, reports, a suspension and a leaver.
fn busy(fx: &Fixture, v: VpdCode) -> Busy {
    let mut b = Busy::default();
    let esr = &fx.esr;
    let tick = || fx.clock.advance(TimeDelta::seconds(90));
    let portal = fx.staff_at(v, "Pat", "Portal", "Trust HQ", None);
    fx.grant(
        portal.username(),
        Urp::PortalAdministration,
        GrantScope::WholeTrust,
    );
    let portal_s = fx.hscn(portal.username());
    esr.set_upgrade_access(
        &Actor::Session(portal_s),
        v,
        UpgradeAccess {
            manager: true,
            professional: true,
        },
    )
    .unwrap();
    esr.add_local_bi_portlet(&Actor::Session(portal_s), v, "Bank usage")
        .unwrap();
    esr.set_portlet(
        &Actor::Session(portal_s),
        v,
        NationalPortlet::TeamAppraisals,
        false,
    )
    .unwrap();
    tick();

    let dana = fx.staff_at(v, "Dana", "Director", "Medicine", None);
    let mia = fx.staff_at(v, "Mia", "Manning", "Ward 5", Some(&dana));
    let jo = fx.staff_at(v, "Jo", "Smith", "Ward 5", Some(&mia));
    let t = fx.trust(v).clone();
    let admin = t.session_a;
    esr.grant_urp(
        admin,
        GrantRequest {
            holder: mia.username().clone(),
            urp: Urp::ManagerSelfServicePayrollApprovalsRequired,
            scope: GrantScope::WholeTrust,
            approval: Approval::LineManager {
                verified_by: dana.employee().clone(),
            },
            reason: "new ward manager".into(),
        },
    )
    .unwrap();
    b.err(esr.grant_urp(
        admin,
        GrantRequest {
            holder: jo.username().clone(),
            urp: Urp::SupervisorSelfService,
            scope: GrantScope::WholeTrust,
            approval: Approval::LineManager {
                verified_by: dana.employee().clone(),
            },
            reason: "wrong manager".into(),
        },
    ));
    tick();

    // Mia registers her mobile on HSCN, then works from home.
    let mia_hscn = fx.hscn(mia.username());
    let mobile: MobileNumber = MOBILE.parse().unwrap();
    let confirmation = MobileConfirmation::verified_by_caller(mia_hscn, mobile.clone());
    b.outputs.push(format!("{confirmation:?}"));
    let p = esr.register_mobile(mia_hscn, &confirmation).unwrap();
    b.outputs.push(format!("{p:?}"));
    b.outputs.push(format!("{mobile:?} {mobile}"));
    let web = fx.internet(mia.username()).unwrap();
    b.err(esr.view_record(web.id, jo.employee()));
    let proof = StepUpProof::verified_by_caller(web.id, "sms-otp").unwrap();
    let up = esr.upgrade_session(&proof).unwrap();
    b.outputs.push(format!("{up:?}"));
    b.err(esr.upgrade_session(&proof));
    b.err(esr.check_upgrade(mia_hscn));
    let rec = esr.view_record(web.id, jo.employee()).unwrap();
    b.outputs.push(format!("{rec:?}"));
    let team = esr.team(web.id).unwrap();
    b.outputs.push(format!("{team:?}"));
    esr.change_details(
        web.id,
        jo.employee(),
        &DetailsChange {
            recruitment_email: Some("jo.smith@nhs.net".parse().unwrap()),
            ..DetailsChange::default()
        },
    )
    .unwrap();
    tick();

    // Jo forgets her password and is locked out; an administrator unlocks and resets it.
    for _ in 0..5 {
        b.err(esr.log_in_with_password(&jo.username().to_string(), &Password::new("guess1234")));
    }
    b.err(fx.internet(jo.username()));
    esr.unlock_account(&Actor::Session(admin), jo.username(), "identity checked")
        .unwrap();
    b.err(esr.set_password(
        &Actor::Session(admin),
        jo.username(),
        &Password::new("short"),
    ));
    esr.set_password(
        &Actor::Session(admin),
        jo.username(),
        &Password::new(NEW_PASSWORD),
    )
    .unwrap();
    let jo_web = esr
        .log_in_with_password(&jo.username().to_string(), &Password::new(NEW_PASSWORD))
        .unwrap();
    b.err(esr.view_record(jo_web.id, mia.employee()));
    b.err(esr.log_in_with_password("297NOBODY01", &password()));
    tick();

    // A suspension and reinstatement, a revocation, the six-monthly report, a leaver.
    esr.suspend_account(&Actor::Session(admin), jo.username(), "investigation")
        .unwrap();
    b.err(esr.session(jo_web.id));
    b.err(esr.functions(jo_web.id));
    esr.reinstate_account(&Actor::Session(admin), jo.username(), "cleared")
        .unwrap();
    fx.grant(jo.username(), Urp::ExternalLearner, GrantScope::WholeTrust);
    fx.revoke(jo.username(), Urp::ExternalLearner);
    b.err(esr.revoke_urp(
        admin,
        t.admin_b.username(),
        Urp::LocalHrmsSystemsAndUserAdministration,
        "x",
    ));
    let rows = esr.urp_audit_report(&Actor::Session(admin), v).unwrap();
    b.outputs.push(format!("{rows:?}"));
    b.outputs.push(urp_report_csv(&rows).unwrap());
    esr.end_account(&Actor::Session(admin), dana.username(), "leaver")
        .unwrap();
    b.err(esr.log_in_with_smartcard(
        dana.username(),
        &SmartcardAuthentication::verified_by_caller("CARD-9").unwrap(),
    ));
    b.outputs.push(format!("{proof:?}"));
    esr.log_out(web.id).unwrap();
    tick();

    b.sessions = vec![
        portal_s,
        mia_hscn,
        web.id,
        jo_web.id,
        t.session_a,
        t.session_b,
    ];
    b.people = vec![portal, dana, mia, jo];
    b
}

fn busy_fixture(codes: &[&'static str]) -> Fixture {
    let s = settings(true, false, false);
    let mut builder = Fixture::builder().settings(s);
    for c in codes {
        builder = builder.trust(c);
    }
    builder.build()
}

fn broken(v: VpdCode, seq: u64, reason: &'static str) -> Error {
    Error::AuditChainBroken {
        vpd: v,
        seq,
        reason,
    }
}

const CHANGED: &str = "its contents were changed after it was written";
const NOT_FOLLOWING: &str = "it does not follow the entry before it";
const MISSING: &str = "an entry is missing or out of order";
const OTHER_TRUST: &str = "the entry belongs to another trust";
const SHORTER: &str = "the trail is shorter than when it was recorded";
const DIFFERS: &str = "it differs from the entry recorded earlier";

/// Rebuilds the chain over `entries` from scratch: what a forger with write access would do.
fn rechain(entries: &[AuditEntry]) -> Vec<AuditEntry> {
    let mut out: Vec<AuditEntry> = Vec::new();
    for e in entries {
        let next = AuditEntry::next(out.last(), e.vpd, e.at, e.actor.clone(), e.event.clone());
        out.push(next);
    }
    out
}

// ----- a busy day verifies -------------------------------------------------------------------

#[test]
fn after_a_busy_day_the_trail_verifies_and_the_head_is_the_last_entry() {
    let fx = busy_fixture(&["297"]);
    let v = fx.vpd();
    busy(&fx, v);
    let trail = fx.audit(v);
    assert!(trail.len() > 60, "{}", trail.len());
    let head = fx.esr.verify_audit(v).unwrap();
    let last = trail.last().unwrap();
    assert_eq!(head.seq, last.seq);
    assert_eq!(head.hash, last.hash);
    assert_eq!(head.seq, trail.len() as u64);
    assert_eq!(verify_chain(v, &trail), Ok(head));

    // The chain's shape: 1..n, each linked to the one before, from the genesis hash.
    assert_eq!(trail[0].prev_hash, AuditHash::GENESIS);
    for (i, e) in trail.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
        assert_eq!(e.vpd, v);
        assert_eq!(e.hash, e.compute_hash());
        if i > 0 {
            assert_eq!(e.prev_hash, trail[i - 1].hash);
            assert!(e.at >= trail[i - 1].at, "time runs forwards");
        }
    }
    // Paging through the verifier gives the same head.
    let mut verifier = ChainVerifier::new(v);
    for page in trail.chunks(7) {
        for e in page {
            verifier.feed(e).unwrap();
        }
    }
    assert_eq!(verifier.head(), head);
    assert_eq!(
        fx.esr.audit_trail(v, 3, 2).unwrap(),
        trail[2..4].to_vec(),
        "a page is the entries from `from`"
    );
    // The anchor just taken verifies, and keeps verifying as the trail grows.
    assert_eq!(fx.esr.verify_audit_against(v, &head), Ok(head));
    fx.hscn(fx.t().admin_b.username());
    let later = fx.esr.verify_audit_against(v, &head).unwrap();
    assert_eq!(later.seq, head.seq + 1);
}

#[test]
fn every_kind_of_tampering_with_a_copy_is_detected() {
    let fx = busy_fixture(&["297"]);
    let v = fx.vpd();
    busy(&fx, v);
    let trail = fx.audit(v);
    let n = trail.len();
    for k in [0, 1, n / 2, n - 2, n - 1] {
        let seq = k as u64 + 1;
        let check = |t: Vec<AuditEntry>, expected: Error, what: &str| {
            assert_eq!(verify_chain(v, &t), Err(expected), "{what} at {seq}");
        };
        let mut t = trail.clone();
        t[k].at += TimeDelta::nanoseconds(1);
        check(t, broken(v, seq, CHANGED), "time");

        let mut t = trail.clone();
        t[k].actor = AuditActor::System("intruder".into());
        check(t, broken(v, seq, CHANGED), "actor");

        let mut t = trail.clone();
        t[k].event = AuditEvent::ReportProduced {
            report: "nothing to see".into(),
        };
        check(t, broken(v, seq, CHANGED), "event");

        let mut t = trail.clone();
        t[k].vpd = vpd("999");
        check(t, broken(v, seq, OTHER_TRUST), "trust");

        let mut t = trail.clone();
        t[k].seq += 1;
        check(t, broken(v, seq, MISSING), "sequence");

        // Re-hashing the edited entry moves the break to the next one.
        if k + 1 < n {
            let mut t = trail.clone();
            t[k].actor = AuditActor::Anonymous;
            t[k].hash = t[k].compute_hash();
            check(t, broken(v, seq + 1, NOT_FOLLOWING), "re-hashed");

            let mut t = trail.clone();
            t.remove(k);
            check(t, broken(v, seq, MISSING), "removal");

            let mut t = trail.clone();
            t.swap(k, k + 1);
            check(t, broken(v, seq, MISSING), "swap");
        }
    }
    // What a copy alone cannot show: a dropped newest entry, or a chain rebuilt from scratch.
    assert!(verify_chain(v, &trail[..n - 1]).is_ok());
    let mut edited = trail.clone();
    edited[3].actor = AuditActor::System("intruder".into());
    let forged = rechain(&edited);
    let forged_head = verify_chain(v, &forged).unwrap();
    let honest_head = verify_chain(v, &trail).unwrap();
    assert_eq!(forged_head.seq, honest_head.seq);
    assert_ne!(
        forged_head.hash, honest_head.hash,
        "an anchor tells them apart"
    );
    // A trail verified as another trust's fails at once.
    assert_eq!(
        verify_chain(vpd("999"), &trail),
        Err(broken(vpd("999"), 1, OTHER_TRUST))
    );
}

// ----- a store that lies about its trail ----------------------------------------------------

type Doctor = Box<dyn Fn(Vec<AuditEntry>) -> Vec<AuditEntry> + Send + Sync>;

/// An in-memory store whose reads of the audit trail pass through a "doctor": what a store
/// tampered with, or restored from an old backup, would return.
#[derive(Default)]
struct TamperStore {
    inner: InMemoryStore,
    doctor: Mutex<Option<Doctor>>,
}

impl TamperStore {
    fn doctor(&self, d: impl Fn(Vec<AuditEntry>) -> Vec<AuditEntry> + Send + Sync + 'static) {
        *self.doctor.lock().unwrap() = Some(Box::new(d));
    }
}

impl Store for TamperStore {
    fn transaction<R>(&self, mut f: impl FnMut(&mut dyn StoreTx) -> Result<R>) -> Result<R> {
        let doctor = self.doctor.lock().unwrap();
        self.inner.transaction(|tx| {
            f(&mut TamperTx {
                inner: tx,
                doctor: doctor.as_deref(),
            })
        })
    }
}

struct TamperTx<'a> {
    inner: &'a mut dyn StoreTx,
    doctor: Option<&'a (dyn Fn(Vec<AuditEntry>) -> Vec<AuditEntry> + Send + Sync)>,
}

impl StoreTx for TamperTx<'_> {
    fn trust(&self, vpd: VpdCode) -> Result<Option<Trust>> {
        self.inner.trust(vpd)
    }
    fn put_trust(&mut self, trust: &Trust) -> Result<()> {
        self.inner.put_trust(trust)
    }
    fn person(&self, vpd: VpdCode, employee: &EmployeeNumber) -> Result<Option<Person>> {
        self.inner.person(vpd, employee)
    }
    fn put_person(&mut self, person: &Person) -> Result<()> {
        self.inner.put_person(person)
    }
    fn people(&self, vpd: VpdCode) -> Result<Vec<Person>> {
        self.inner.people(vpd)
    }
    fn account(&self, username: &Username) -> Result<Option<Account>> {
        self.inner.account(username)
    }
    fn put_account(&mut self, account: &Account) -> Result<()> {
        self.inner.put_account(account)
    }
    fn assignment(&self, vpd: VpdCode, number: &AssignmentNumber) -> Result<Option<Assignment>> {
        self.inner.assignment(vpd, number)
    }
    fn put_assignment(&mut self, assignment: &Assignment) -> Result<()> {
        self.inner.put_assignment(assignment)
    }
    fn assignments_of(&self, vpd: VpdCode, employee: &EmployeeNumber) -> Result<Vec<Assignment>> {
        self.inner.assignments_of(vpd, employee)
    }
    fn assignments_reporting_to(
        &self,
        vpd: VpdCode,
        supervisor: &AssignmentNumber,
    ) -> Result<Vec<Assignment>> {
        self.inner.assignments_reporting_to(vpd, supervisor)
    }
    fn put_grant(&mut self, grant: &UrpGrant) -> Result<()> {
        self.inner.put_grant(grant)
    }
    fn grants_of(&self, holder: &Username) -> Result<Vec<UrpGrant>> {
        self.inner.grants_of(holder)
    }
    fn grants(&self, vpd: VpdCode) -> Result<Vec<UrpGrant>> {
        self.inner.grants(vpd)
    }
    fn session(&self, id: &esr_core::SessionKey) -> Result<Option<Session>> {
        self.inner.session(id)
    }
    fn put_session(&mut self, session: &Session) -> Result<()> {
        self.inner.put_session(session)
    }
    fn sessions_of(&self, username: &Username) -> Result<Vec<Session>> {
        self.inner.sessions_of(username)
    }
    fn challenge(
        &self,
        id: &esr_core::ChallengeId,
    ) -> Result<Option<esr_core::passcode::Challenge>> {
        self.inner.challenge(id)
    }
    fn put_challenge(&mut self, c: &esr_core::passcode::Challenge) -> Result<()> {
        self.inner.put_challenge(c)
    }
    fn queue_message(&mut self, m: &esr_core::passcode::OutboxMessage) -> Result<()> {
        self.inner.queue_message(m)
    }
    fn outbox_message(
        &self,
        k: &esr_core::ChallengeId,
    ) -> Result<Option<esr_core::passcode::OutboxMessage>> {
        self.inner.outbox_message(k)
    }
    fn update_message(&mut self, m: &esr_core::passcode::OutboxMessage) -> Result<()> {
        self.inner.update_message(m)
    }
    fn due_messages(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> Result<Vec<esr_core::passcode::OutboxMessage>> {
        self.inner.due_messages(now, limit)
    }
    fn purge(
        &mut self,
        vpd: VpdCode,
        cutoffs: &esr_core::store::PurgeCutoffs,
    ) -> Result<esr_core::store::PurgeCounts> {
        self.inner.purge(vpd, cutoffs)
    }
    fn challenges_of(
        &self,
        username: &Username,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<esr_core::passcode::Challenge>> {
        self.inner.challenges_of(username, since)
    }
    fn challenges_to(
        &self,
        vpd: VpdCode,
        destination: &esr_core::passcode::Destination,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<esr_core::passcode::Challenge>> {
        self.inner.challenges_to(vpd, destination, since)
    }
    fn append_audit(&mut self, entry: &AuditEntry) -> Result<()> {
        self.inner.append_audit(entry)
    }
    fn last_audit(&self, vpd: VpdCode) -> Result<Option<AuditEntry>> {
        self.inner.last_audit(vpd)
    }
    fn put_person_owned(&mut self, person: Person) -> Result<()> {
        self.inner.put_person_owned(person)
    }
    fn person_mobile(
        &self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
    ) -> Result<Option<Option<MobileNumber>>> {
        self.inner.person_mobile(vpd, employee)
    }
    fn set_person_mobile(
        &mut self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
        mobile: Option<MobileNumber>,
    ) -> Result<Option<Option<MobileNumber>>> {
        self.inner.set_person_mobile(vpd, employee, mobile)
    }
    fn put_account_owned(&mut self, account: Account) -> Result<()> {
        self.inner.put_account_owned(account)
    }
    fn put_challenge_owned(&mut self, c: esr_core::passcode::Challenge) -> Result<()> {
        self.inner.put_challenge_owned(c)
    }
    fn active_urps_of(&self, holder: &Username) -> Result<std::collections::BTreeSet<Urp>> {
        self.inner.active_urps_of(holder)
    }
    fn audit_head(&self, vpd: VpdCode) -> Result<esr_core::audit::AuditHead> {
        self.inner.audit_head(vpd)
    }
    fn append_audit_owned(&mut self, entry: AuditEntry) -> Result<()> {
        self.inner.append_audit_owned(entry)
    }
    fn audit_entries(&self, vpd: VpdCode, from: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        let Some(doctor) = self.doctor else {
            return self.inner.audit_entries(vpd, from, limit);
        };
        let all = doctor(self.inner.audit_entries(vpd, 1, usize::MAX)?);
        let skip = usize::try_from(from.saturating_sub(1)).unwrap();
        Ok(all.into_iter().skip(skip).take(limit).collect())
    }
    fn put_audit_checkpoint(&mut self, checkpoint: &AuditCheckpoint) -> Result<()> {
        self.inner.put_audit_checkpoint(checkpoint)
    }
    fn audit_checkpoints(&self, vpd: VpdCode) -> Result<Vec<AuditCheckpoint>> {
        self.inner.audit_checkpoints(vpd)
    }
    fn remove_audit_before(&mut self, vpd: VpdCode, before: u64) -> Result<u64> {
        self.inner.remove_audit_before(vpd, before)
    }

    // ----- Compliance: passed through -----------------------------------------------------
    fn competence_definition(
        &self,
        vpd: VpdCode,
        name: &CompetenceName,
    ) -> Result<Option<CompetenceDefinition>> {
        self.inner.competence_definition(vpd, name)
    }
    fn put_competence_definition(&mut self, vpd: VpdCode, d: &CompetenceDefinition) -> Result<()> {
        self.inner.put_competence_definition(vpd, d)
    }
    fn delete_competence_definition(
        &mut self,
        vpd: VpdCode,
        name: &CompetenceName,
    ) -> Result<bool> {
        self.inner.delete_competence_definition(vpd, name)
    }
    fn competence_definitions(&self, vpd: VpdCode) -> Result<Vec<CompetenceDefinition>> {
        self.inner.competence_definitions(vpd)
    }
    fn put_requirement(&mut self, r: &Requirement) -> Result<()> {
        self.inner.put_requirement(r)
    }
    fn delete_requirement(
        &mut self,
        vpd: VpdCode,
        target: &RequirementTarget,
        competence: &CompetenceName,
    ) -> Result<bool> {
        self.inner.delete_requirement(vpd, target, competence)
    }
    fn requirements(&self, vpd: VpdCode) -> Result<Vec<Requirement>> {
        self.inner.requirements(vpd)
    }
    fn put_equivalence(&mut self, e: &Equivalence) -> Result<()> {
        self.inner.put_equivalence(e)
    }
    fn delete_equivalence(&mut self, e: &Equivalence) -> Result<bool> {
        self.inner.delete_equivalence(e)
    }
    fn equivalences(&self, vpd: VpdCode) -> Result<Vec<Equivalence>> {
        self.inner.equivalences(vpd)
    }
    fn put_competence_record(&mut self, r: &CompetenceRecord) -> Result<()> {
        self.inner.put_competence_record(r)
    }
    fn delete_competence_record(
        &mut self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
        competence: &CompetenceName,
        achieved: esr_core::chrono::NaiveDate,
    ) -> Result<bool> {
        self.inner
            .delete_competence_record(vpd, employee, competence, achieved)
    }
    fn competence_records_of(
        &self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
    ) -> Result<Vec<CompetenceRecord>> {
        self.inner.competence_records_of(vpd, employee)
    }
    fn competence_records(&self, vpd: VpdCode) -> Result<Vec<CompetenceRecord>> {
        self.inner.competence_records(vpd)
    }
    fn compliance_settings(&self, vpd: VpdCode) -> Result<Option<ComplianceSettings>> {
        self.inner.compliance_settings(vpd)
    }
    fn put_compliance_settings(&mut self, vpd: VpdCode, s: &ComplianceSettings) -> Result<()> {
        self.inner.put_compliance_settings(vpd, s)
    }
    fn certification(&self, vpd: VpdCode, name: &str) -> Result<Option<Certification>> {
        self.inner.certification(vpd, name)
    }
    fn put_certification(&mut self, c: &Certification) -> Result<()> {
        self.inner.put_certification(c)
    }
    fn certifications(&self, vpd: VpdCode) -> Result<Vec<Certification>> {
        self.inner.certifications(vpd)
    }
    fn subscription(
        &self,
        vpd: VpdCode,
        e: &EmployeeNumber,
        certification: &str,
    ) -> Result<Option<Subscription>> {
        self.inner.subscription(vpd, e, certification)
    }
    fn put_subscription(&mut self, s: &Subscription) -> Result<()> {
        self.inner.put_subscription(s)
    }
    fn subscriptions_of(&self, vpd: VpdCode, e: &EmployeeNumber) -> Result<Vec<Subscription>> {
        self.inner.subscriptions_of(vpd, e)
    }
    fn put_enrolment(&mut self, e: &Enrolment) -> Result<()> {
        self.inner.put_enrolment(e)
    }
    fn enrolments_of(&self, vpd: VpdCode, e: &EmployeeNumber) -> Result<Vec<Enrolment>> {
        self.inner.enrolments_of(vpd, e)
    }
    // Notifications and approvals
    fn notification(
        &self,
        vpd: VpdCode,
        id: &esr_core::NotificationId,
    ) -> Result<Option<esr_core::notify::Notification>> {
        self.inner.notification(vpd, id)
    }
    fn put_notification(&mut self, n: &esr_core::notify::Notification) -> Result<()> {
        self.inner.put_notification(n)
    }
    fn notifications_of(
        &self,
        vpd: VpdCode,
        e: &EmployeeNumber,
    ) -> Result<Vec<esr_core::notify::Notification>> {
        self.inner.notifications_of(vpd, e)
    }
    fn pending_change(
        &self,
        vpd: VpdCode,
        id: &esr_core::ChangeId,
    ) -> Result<Option<esr_core::notify::PendingChange>> {
        self.inner.pending_change(vpd, id)
    }
    fn put_pending_change(&mut self, c: &esr_core::notify::PendingChange) -> Result<()> {
        self.inner.put_pending_change(c)
    }
    fn pending_changes(&self, vpd: VpdCode) -> Result<Vec<esr_core::notify::PendingChange>> {
        self.inner.pending_changes(vpd)
    }
    // Workflows: access requests, URP reviews, competence claims.
    fn access_request(
        &self,
        vpd: VpdCode,
        id: &esr_core::values::AccessRequestId,
    ) -> Result<Option<esr_core::urp::AccessRequest>> {
        self.inner.access_request(vpd, id)
    }
    fn put_access_request(&mut self, r: &esr_core::urp::AccessRequest) -> Result<()> {
        self.inner.put_access_request(r)
    }
    fn access_requests(&self, vpd: VpdCode) -> Result<Vec<esr_core::urp::AccessRequest>> {
        self.inner.access_requests(vpd)
    }
    fn urp_review(
        &self,
        vpd: VpdCode,
        id: &esr_core::values::UrpReviewId,
    ) -> Result<Option<esr_core::urp::UrpReview>> {
        self.inner.urp_review(vpd, id)
    }
    fn put_urp_review(&mut self, r: &esr_core::urp::UrpReview) -> Result<()> {
        self.inner.put_urp_review(r)
    }
    fn urp_reviews(&self, vpd: VpdCode) -> Result<Vec<esr_core::urp::UrpReview>> {
        self.inner.urp_reviews(vpd)
    }
    fn competence_claim(
        &self,
        vpd: VpdCode,
        id: &esr_core::values::CompetenceClaimId,
    ) -> Result<Option<esr_core::compliance::CompetenceClaim>> {
        self.inner.competence_claim(vpd, id)
    }
    fn put_competence_claim(&mut self, c: &esr_core::compliance::CompetenceClaim) -> Result<()> {
        self.inner.put_competence_claim(c)
    }
    fn competence_claims(
        &self,
        vpd: VpdCode,
    ) -> Result<Vec<esr_core::compliance::CompetenceClaim>> {
        self.inner.competence_claims(vpd)
    }
    // Authenticator apps
    fn authenticator(
        &self,
        u: &Username,
    ) -> Result<Option<esr_core::authenticator::Authenticator>> {
        self.inner.authenticator(u)
    }
    fn put_authenticator(&mut self, a: &esr_core::authenticator::Authenticator) -> Result<()> {
        self.inner.put_authenticator(a)
    }
    fn delete_authenticator(&mut self, u: &Username) -> Result<bool> {
        self.inner.delete_authenticator(u)
    }
    fn advance_authenticator_step(&mut self, u: &Username, step: u64) -> Result<bool> {
        self.inner.advance_authenticator_step(u, step)
    }
}

/// A small trust over a [`TamperStore`]: 2 administrators, 4 staff, some log-ins.
fn tampered_service(seed: u64, logins: usize) -> Esr<TamperStore, ManualClock> {
    let clock = ManualClock::new(start());
    let esr = Esr::with_rng(
        TamperStore::default(),
        clock.clone(),
        <rand_chacha::ChaCha20Rng as rand_chacha::rand_core::SeedableRng>::seed_from_u64(seed),
    )
    .with_config(Config {
        max_failed_logins: 5,
        password_hashing: PasswordHashing::insecure_fast_for_tests(),
        ..Config::default()
    })
    .unwrap();
    let v = vpd("297");
    esr.create_trust(v, "Trust 297", TrustSettings::default())
        .unwrap();
    let mut users = Vec::new();
    for (k, (g, f)) in [
        ("Alice", "Adams"),
        ("Bernard", "Brown"),
        ("Cara", "Cole"),
        ("Dev", "Dunn"),
    ]
    .into_iter()
    .enumerate()
    {
        let p = esr
            .add_person(
                &system(),
                v,
                NewPerson {
                    employee_number: emp(&format!("1000000{k}")),
                    name: PersonName::new(g, f).unwrap(),
                    date_of_birth: NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
                    recruitment_email: format!("{g}@nhs.net").parse().unwrap(),
                },
            )
            .unwrap();
        users.push(p.username);
    }
    esr.bootstrap_user_administrators(v, &users[..2], "go-live")
        .unwrap();
    let card = SmartcardAuthentication::verified_by_caller("CARD-1").unwrap();
    for i in 0..logins {
        clock.advance(TimeDelta::minutes(1));
        esr.log_in_with_smartcard(&users[i % users.len()], &card)
            .unwrap();
    }
    esr
}

#[test]
fn the_service_detects_an_entry_edited_in_its_store() {
    let esr = tampered_service(1, 6);
    let v = vpd("297");
    let anchor = esr.verify_audit(v).unwrap();
    esr.store().doctor(|mut t| {
        t[4].actor = AuditActor::System("intruder".into());
        t
    });
    assert_eq!(esr.verify_audit(v), Err(broken(v, 5, CHANGED)));
    assert_eq!(
        esr.verify_audit_against(v, &anchor),
        Err(broken(v, 5, CHANGED))
    );
    esr.store().doctor(|mut t| {
        t.remove(2);
        t
    });
    assert_eq!(esr.verify_audit(v), Err(broken(v, 3, MISSING)));
}

#[test]
fn an_anchor_detects_a_truncated_or_rewritten_trail() {
    let esr = tampered_service(1, 6);
    let v = vpd("297");
    let anchor = esr.verify_audit(v).unwrap();
    let n = anchor.seq;

    // The newest entries dropped: the rest is a valid chain, but shorter than the anchor.
    esr.store().doctor(|mut t| {
        t.truncate(t.len() - 3);
        t
    });
    assert_eq!(esr.verify_audit(v).unwrap().seq, n - 3);
    assert_eq!(
        esr.verify_audit_against(v, &anchor),
        Err(broken(v, n, SHORTER))
    );

    // An entry removed from the middle and the chain rebuilt by a forger.
    esr.store().doctor(|mut t| {
        t.remove(3);
        rechain(&t)
    });
    assert_eq!(esr.verify_audit(v).unwrap().seq, n - 1);
    assert_eq!(
        esr.verify_audit_against(v, &anchor),
        Err(broken(v, n, SHORTER))
    );

    // An entry edited and the chain rebuilt to the same length.
    esr.store().doctor(|mut t| {
        t[3].actor = AuditActor::System("intruder".into());
        rechain(&t)
    });
    let forged = esr.verify_audit(v).unwrap();
    assert_eq!(forged.seq, n);
    assert_ne!(forged.hash, anchor.hash);
    assert_eq!(
        esr.verify_audit_against(v, &anchor),
        Err(broken(v, n, DIFFERS))
    );

    // An empty anchor (nothing recorded yet) checks the chain alone.
    let empty = AuditHead {
        seq: 0,
        hash: AuditHash::GENESIS,
    };
    assert_eq!(esr.verify_audit_against(v, &empty), Ok(forged));
}

#[test]
fn two_services_with_the_same_seed_write_the_same_trail_and_an_anchor_tells_them_apart() {
    let v = vpd("297");
    let long = tampered_service(7, 6);
    let short = tampered_service(7, 3);
    let long_trail = long.audit_trail(v, 1, usize::MAX).unwrap();
    let short_trail = short.audit_trail(v, 1, usize::MAX).unwrap();
    // Deterministic: the shorter day is an exact prefix of the longer one.
    assert_eq!(short_trail[..], long_trail[..short_trail.len()]);
    let long_head = long.verify_audit(v).unwrap();
    let short_head = short.verify_audit(v).unwrap();
    assert_eq!(long_head.seq, short_head.seq + 3);
    // The short trail lost the entries the long one's anchor recorded.
    assert_eq!(
        short.verify_audit_against(v, &long_head),
        Err(broken(v, long_head.seq, SHORTER))
    );
    assert_eq!(long.verify_audit_against(v, &short_head), Ok(long_head));
    // Another seed, the same story: different session ids, so a different trail.
    let other = tampered_service(8, 6);
    assert_eq!(
        other.verify_audit_against(v, &long_head),
        Err(broken(v, long_head.seq, DIFFERS))
    );
}

// ----- trusts stay apart --------------------------------------------------------------------

#[test]
fn the_trail_of_one_trust_never_mentions_another() {
    let fx = busy_fixture(&["297", "999"]);
    let (a, b) = (vpd("297"), vpd("999"));
    let day_a = busy(&fx, a);
    let day_b = busy(&fx, b);
    // Cross-trust attempts are refused and leave no entry in either trail.
    let (len_a, len_b) = (fx.audit(a).len(), fx.audit(b).len());
    let outsider = fx.trust(b).admin_a.username().clone();
    fx.esr
        .approve_internet_access(&Actor::Session(fx.trust(a).session_a), &outsider)
        .unwrap_err();
    fx.esr
        .revoke_urp(
            fx.trust(a).session_a,
            &outsider,
            Urp::EmployeeSelfService,
            "x",
        )
        .unwrap_err();
    assert_eq!((fx.audit(a).len(), fx.audit(b).len()), (len_a, len_b));

    for (v, mine, theirs) in [(a, &day_a, &day_b), (b, &day_b, &day_a)] {
        let trail = fx.audit(v);
        fx.esr.verify_audit(v).unwrap();
        let foreign: Vec<String> = theirs
            .people
            .iter()
            .flat_map(|s| [s.username().to_string(), s.employee().to_string()])
            .chain(theirs.sessions.iter().map(|s| s.audit_ref().to_string()))
            .collect();
        for e in &trail {
            assert_eq!(e.vpd, v);
            let text = format!("{:?} {}", e.actor, e.event);
            for f in &foreign {
                assert!(
                    !text.contains(f.as_str()),
                    "{v} entry {} mentions {f}: {text}",
                    e.seq
                );
            }
        }
        // And its own people are there.
        let own = mine.people[3].username().to_string();
        assert!(trail.iter().any(|e| e.event.to_string().contains(&own)));
    }
}

// ----- no secrets anywhere ------------------------------------------------------------------

/// Substrings that must never appear: passwords, the mobile number in full, PHC hashes.
fn forbidden() -> Vec<&'static str> {
    vec![
        PASSWORD,
        NEW_PASSWORD,
        "guess1234",
        "7700900",
        "+447700900374",
        "$argon2id$",
    ]
}

#[track_caller]
fn assert_clean(what: &str, text: &str) {
    for f in forbidden() {
        assert!(!text.contains(f), "{what} contains {f:?}: {text}");
    }
}

#[test]
fn no_audit_entry_debug_output_json_or_error_holds_a_secret() {
    let fx = busy_fixture(&["297"]);
    let v = fx.vpd();
    let day = busy(&fx, v);
    let esr = &fx.esr;
    let mia = &day.people[2];
    // The mobile really is stored, in full, where the SMS gateway needs it.
    let stored = esr.person(v, mia.employee()).unwrap();
    assert_eq!(
        stored.mobile.as_ref().unwrap().expose_e164(),
        "+447700900374"
    );
    assert_eq!(stored.mobile.as_ref().unwrap().masked(), "xxxxxxx374");

    // The audit trail: no secret, and no session id (only one-way references).
    let trail = fx.audit(v);
    for e in &trail {
        let text = format!("{e:?} | {} | {}", e.event, e.actor);
        assert_clean("audit entry", &text);
        for s in &day.sessions {
            assert!(
                !text.contains(&s.to_string()),
                "entry {} holds a session id: {text}",
                e.seq
            );
        }
        #[cfg(feature = "serde")]
        assert_clean("audit entry JSON", &serde_json::to_string(e).unwrap());
    }
    assert!(
        trail
            .iter()
            .any(|e| e.event.to_string().contains("xxxxxxx374")),
        "the masked number is recorded"
    );

    // Every entity's Debug output, and its JSON.
    let mut outputs = day.outputs.clone();
    let trust = esr.trust(v).unwrap();
    outputs.push(format!("{trust:?}"));
    for p in esr.people(v).unwrap() {
        let acc = esr.account(&p.username).unwrap();
        assert!(acc.password_hash.is_some());
        let grants = esr.grants_of(&p.username).unwrap();
        let u = p.username.clone();
        let sessions = esr.store().transaction(|tx| tx.sessions_of(&u)).unwrap();
        outputs.push(format!("{p:?} {acc:?} {grants:?} {sessions:?}"));
        #[cfg(feature = "serde")]
        {
            outputs.push(serde_json::to_string(&p).unwrap());
            outputs.push(serde_json::to_string(&acc).unwrap());
            outputs.push(serde_json::to_string(&grants).unwrap());
            outputs.push(serde_json::to_string(&sessions).unwrap());
        }
    }
    #[cfg(feature = "serde")]
    outputs.push(serde_json::to_string(&trust).unwrap());
    outputs.push(format!("{esr:?}"));
    outputs.push(format!("{:?}", esr.store()));
    outputs.push(format!("{:?}", Password::new(PASSWORD)));
    for o in &outputs {
        assert_clean("output", o);
    }

    // Every error the day produced, as Display and Debug.
    assert!(day.errors.len() >= 15, "{}", day.errors.len());
    for e in &day.errors {
        assert_clean("error", &format!("{e} | {e:?}"));
    }
    // Errors about mobile numbers never echo the number typed.
    for typed in ["07700 90037x", "+44 7700 9003", "0191 770 0900"] {
        let e = typed.parse::<MobileNumber>().unwrap_err();
        let text = format!("{e} | {e:?}");
        assert!(!text.contains(typed), "{text}");
    }
}

#[test]
fn debug_output_never_shows_a_whole_session_id() {
    let fx = busy_fixture(&["297"]);
    let s = fx.internet(fx.t().admin_a.username()).unwrap();
    let id = s.id.to_string();
    assert_eq!(id.len(), 32);
    for text in [
        format!("{s:?}"),
        format!("{:?}", s.id),
        format!("{:?}", Actor::Session(s.id)),
        format!("{:?}", fx.esr.store()),
    ] {
        assert!(!text.contains(&id), "{text}");
    }
}

#[test]
fn proof_debug_output_never_shows_a_whole_session_id() {
    let fx = busy_fixture(&["297"]);
    let s = fx.internet(fx.t().admin_a.username()).unwrap();
    let id = s.id.to_string();
    let proof = StepUpProof::verified_by_caller(s.id, "sms-otp").unwrap();
    let confirmation = MobileConfirmation::verified_by_caller(s.id, MOBILE.parse().unwrap());
    for text in [format!("{proof:?}"), format!("{confirmation:?}")] {
        assert!(!text.contains(&id), "{text}");
    }
}
