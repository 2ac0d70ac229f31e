//! A read-only view of a store transaction, for running an operation that usually only reads
//! in a read transaction ([`Store::read`]) and, if it turns out to need a write (a session
//! whose last activity is due to be recorded), again in a write transaction.

use super::traits::*;
use super::{PurgeCounts, PurgeCutoffs};
use crate::access::Session;
use crate::audit::AuditCheckpoint;
use crate::audit::{AuditEntry, AuditHead};
use crate::authenticator::Authenticator;
use crate::compliance::CompetenceClaim;
use crate::compliance::{
    CompetenceDefinition, CompetenceName, CompetenceRecord, ComplianceSettings, Equivalence,
    Requirement, RequirementTarget,
};
use crate::error::{Error, Result};
use crate::learning::{Certification, Enrolment, Subscription};
use crate::notify::{Notification, PendingChange};
use crate::org::{Trust, TrustSettings};
use crate::passcode::OutboxMessage;
use crate::passcode::{Challenge, ChallengeId, Destination};
use crate::people::{Account, Assignment, Person};
use crate::urp::{AccessRequest, UrpReview};
use crate::urp::{Urp, UrpGrant};
use crate::values::username::Username;
use crate::values::{AccessRequestId, ChangeId, CompetenceClaimId, NotificationId, UrpReviewId};
use crate::values::{
    AssignmentNumber, EmailAddress, EmployeeNumber, MobileNumber, SessionKey, VpdCode,
};
use chrono::{DateTime, NaiveDate, Utc};
use std::cell::Cell;
use std::collections::BTreeSet;

/// Runs `f` in a read transaction; if it tried to write, runs it again in a write transaction.
/// `f` must be safe to run twice (it is: a read changes nothing, and its first run's result is
/// dropped).
pub(crate) fn read_mostly<S: Store + ?Sized, R>(
    store: &S,
    f: impl Fn(&mut dyn StoreTx) -> Result<R>,
) -> Result<R> {
    let mut wanted_write = false;
    let first = store.read(|tx| {
        let mut ro = ReadOnly {
            inner: tx,
            wrote: Cell::new(false),
        };
        let r = f(&mut ro);
        wanted_write = ro.wrote.get();
        r
    });
    if wanted_write {
        store.transaction(|tx| f(tx))
    } else {
        first
    }
}

/// A transaction that reads through `inner` and refuses every write, noting that one was
/// wanted.
struct ReadOnly<'a> {
    inner: &'a dyn StoreTx,
    wrote: Cell<bool>,
}

impl ReadOnly<'_> {
    fn refuse(&self) -> Error {
        self.wrote.set(true);
        Error::Storage("a write inside a read transaction; it is retried as a write".into())
    }
}

impl StoreTx for ReadOnly<'_> {
    fn trust(&self, vpd: VpdCode) -> Result<Option<Trust>> {
        self.inner.trust(vpd)
    }
    fn put_trust(&mut self, _trust: &Trust) -> Result<()> {
        Err(self.refuse())
    }
    fn trust_settings(&self, vpd: VpdCode) -> Result<Option<TrustSettings>> {
        self.inner.trust_settings(vpd)
    }
    fn person(&self, vpd: VpdCode, employee: &EmployeeNumber) -> Result<Option<Person>> {
        self.inner.person(vpd, employee)
    }
    fn put_person(&mut self, _person: &Person) -> Result<()> {
        Err(self.refuse())
    }
    fn put_person_owned(&mut self, _person: Person) -> Result<()> {
        Err(self.refuse())
    }
    fn people(&self, vpd: VpdCode) -> Result<Vec<Person>> {
        self.inner.people(vpd)
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
        _vpd: VpdCode,
        _employee: &EmployeeNumber,
        _mobile: Option<MobileNumber>,
    ) -> Result<Option<Option<MobileNumber>>> {
        Err(self.refuse())
    }
    fn account(&self, username: &Username) -> Result<Option<Account>> {
        self.inner.account(username)
    }
    fn put_account(&mut self, _account: &Account) -> Result<()> {
        Err(self.refuse())
    }
    fn put_account_owned(&mut self, _account: Account) -> Result<()> {
        Err(self.refuse())
    }
    fn assignment(&self, vpd: VpdCode, number: &AssignmentNumber) -> Result<Option<Assignment>> {
        self.inner.assignment(vpd, number)
    }
    fn put_assignment(&mut self, _assignment: &Assignment) -> Result<()> {
        Err(self.refuse())
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
    fn put_grant(&mut self, _grant: &UrpGrant) -> Result<()> {
        Err(self.refuse())
    }
    fn grants_of(&self, holder: &Username) -> Result<Vec<UrpGrant>> {
        self.inner.grants_of(holder)
    }
    fn grants(&self, vpd: VpdCode) -> Result<Vec<UrpGrant>> {
        self.inner.grants(vpd)
    }
    fn active_urps_of(&self, holder: &Username) -> Result<BTreeSet<Urp>> {
        self.inner.active_urps_of(holder)
    }
    fn session(&self, key: &SessionKey) -> Result<Option<Session>> {
        self.inner.session(key)
    }
    fn put_session(&mut self, _session: &Session) -> Result<()> {
        Err(self.refuse())
    }
    fn sessions_of(&self, username: &Username) -> Result<Vec<Session>> {
        self.inner.sessions_of(username)
    }
    fn people_with_email(&self, vpd: VpdCode, email: &EmailAddress) -> Result<Vec<Person>> {
        self.inner.people_with_email(vpd, email)
    }
    fn challenge(&self, id: &ChallengeId) -> Result<Option<Challenge>> {
        self.inner.challenge(id)
    }
    fn put_challenge(&mut self, _challenge: &Challenge) -> Result<()> {
        Err(self.refuse())
    }
    fn put_challenge_owned(&mut self, _challenge: Challenge) -> Result<()> {
        Err(self.refuse())
    }
    fn challenges_of(&self, username: &Username, since: DateTime<Utc>) -> Result<Vec<Challenge>> {
        self.inner.challenges_of(username, since)
    }
    fn challenges_to(
        &self,
        vpd: VpdCode,
        destination: &Destination,
        since: DateTime<Utc>,
    ) -> Result<Vec<Challenge>> {
        self.inner.challenges_to(vpd, destination, since)
    }
    fn append_audit(&mut self, _entry: &AuditEntry) -> Result<()> {
        Err(self.refuse())
    }
    fn last_audit(&self, vpd: VpdCode) -> Result<Option<AuditEntry>> {
        self.inner.last_audit(vpd)
    }
    fn audit_head(&self, vpd: VpdCode) -> Result<AuditHead> {
        self.inner.audit_head(vpd)
    }
    fn append_audit_owned(&mut self, _entry: AuditEntry) -> Result<()> {
        Err(self.refuse())
    }
    fn audit_entries(&self, vpd: VpdCode, from: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        self.inner.audit_entries(vpd, from, limit)
    }
    fn competence_definition(
        &self,
        vpd: VpdCode,
        name: &CompetenceName,
    ) -> Result<Option<CompetenceDefinition>> {
        self.inner.competence_definition(vpd, name)
    }
    fn put_competence_definition(
        &mut self,
        _vpd: VpdCode,
        _definition: &CompetenceDefinition,
    ) -> Result<()> {
        Err(self.refuse())
    }
    fn delete_competence_definition(
        &mut self,
        _vpd: VpdCode,
        _name: &CompetenceName,
    ) -> Result<bool> {
        Err(self.refuse())
    }
    fn competence_definitions(&self, vpd: VpdCode) -> Result<Vec<CompetenceDefinition>> {
        self.inner.competence_definitions(vpd)
    }
    fn put_requirement(&mut self, _requirement: &Requirement) -> Result<()> {
        Err(self.refuse())
    }
    fn delete_requirement(
        &mut self,
        _vpd: VpdCode,
        _target: &RequirementTarget,
        _competence: &CompetenceName,
    ) -> Result<bool> {
        Err(self.refuse())
    }
    fn requirements(&self, vpd: VpdCode) -> Result<Vec<Requirement>> {
        self.inner.requirements(vpd)
    }
    fn put_equivalence(&mut self, _equivalence: &Equivalence) -> Result<()> {
        Err(self.refuse())
    }
    fn delete_equivalence(&mut self, _equivalence: &Equivalence) -> Result<bool> {
        Err(self.refuse())
    }
    fn equivalences(&self, vpd: VpdCode) -> Result<Vec<Equivalence>> {
        self.inner.equivalences(vpd)
    }
    fn put_competence_record(&mut self, _record: &CompetenceRecord) -> Result<()> {
        Err(self.refuse())
    }
    fn delete_competence_record(
        &mut self,
        _vpd: VpdCode,
        _employee: &EmployeeNumber,
        _competence: &CompetenceName,
        _achieved: NaiveDate,
    ) -> Result<bool> {
        Err(self.refuse())
    }
    fn put_competence_records(&mut self, _records: &[CompetenceRecord]) -> Result<()> {
        Err(self.refuse())
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
    fn put_compliance_settings(
        &mut self,
        _vpd: VpdCode,
        _settings: &ComplianceSettings,
    ) -> Result<()> {
        Err(self.refuse())
    }
    fn certification(&self, vpd: VpdCode, name: &str) -> Result<Option<Certification>> {
        self.inner.certification(vpd, name)
    }
    fn put_certification(&mut self, _certification: &Certification) -> Result<()> {
        Err(self.refuse())
    }
    fn certifications(&self, vpd: VpdCode) -> Result<Vec<Certification>> {
        self.inner.certifications(vpd)
    }
    fn subscription(
        &self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
        certification: &str,
    ) -> Result<Option<Subscription>> {
        self.inner.subscription(vpd, employee, certification)
    }
    fn put_subscription(&mut self, _subscription: &Subscription) -> Result<()> {
        Err(self.refuse())
    }
    fn subscriptions_of(
        &self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
    ) -> Result<Vec<Subscription>> {
        self.inner.subscriptions_of(vpd, employee)
    }
    fn put_enrolment(&mut self, _enrolment: &Enrolment) -> Result<()> {
        Err(self.refuse())
    }
    fn enrolments_of(&self, vpd: VpdCode, employee: &EmployeeNumber) -> Result<Vec<Enrolment>> {
        self.inner.enrolments_of(vpd, employee)
    }

    // ----- Added by the outbox, audit archive, workflows and authenticators -----
    fn queue_message(&mut self, _message: &OutboxMessage) -> Result<()> {
        Err(self.refuse())
    }
    fn outbox_message(&self, key: &ChallengeId) -> Result<Option<OutboxMessage>> {
        self.inner.outbox_message(key)
    }
    fn update_message(&mut self, _message: &OutboxMessage) -> Result<()> {
        Err(self.refuse())
    }
    fn due_messages(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxMessage>> {
        self.inner.due_messages(now, limit)
    }
    fn purge(&mut self, _vpd: VpdCode, _cutoffs: &PurgeCutoffs) -> Result<PurgeCounts> {
        Err(self.refuse())
    }
    fn put_audit_checkpoint(&mut self, _checkpoint: &AuditCheckpoint) -> Result<()> {
        Err(self.refuse())
    }
    fn audit_checkpoints(&self, vpd: VpdCode) -> Result<Vec<AuditCheckpoint>> {
        self.inner.audit_checkpoints(vpd)
    }
    fn remove_audit_before(&mut self, _vpd: VpdCode, _before: u64) -> Result<u64> {
        Err(self.refuse())
    }
    fn notification(&self, vpd: VpdCode, id: &NotificationId) -> Result<Option<Notification>> {
        self.inner.notification(vpd, id)
    }
    fn put_notification(&mut self, _notification: &Notification) -> Result<()> {
        Err(self.refuse())
    }
    fn notifications_of(&self, vpd: VpdCode, person: &EmployeeNumber) -> Result<Vec<Notification>> {
        self.inner.notifications_of(vpd, person)
    }
    fn pending_change(&self, vpd: VpdCode, id: &ChangeId) -> Result<Option<PendingChange>> {
        self.inner.pending_change(vpd, id)
    }
    fn put_pending_change(&mut self, _change: &PendingChange) -> Result<()> {
        Err(self.refuse())
    }
    fn pending_changes(&self, vpd: VpdCode) -> Result<Vec<PendingChange>> {
        self.inner.pending_changes(vpd)
    }
    fn access_request(&self, vpd: VpdCode, id: &AccessRequestId) -> Result<Option<AccessRequest>> {
        self.inner.access_request(vpd, id)
    }
    fn put_access_request(&mut self, _request: &AccessRequest) -> Result<()> {
        Err(self.refuse())
    }
    fn access_requests(&self, vpd: VpdCode) -> Result<Vec<AccessRequest>> {
        self.inner.access_requests(vpd)
    }
    fn urp_review(&self, vpd: VpdCode, id: &UrpReviewId) -> Result<Option<UrpReview>> {
        self.inner.urp_review(vpd, id)
    }
    fn put_urp_review(&mut self, _review: &UrpReview) -> Result<()> {
        Err(self.refuse())
    }
    fn urp_reviews(&self, vpd: VpdCode) -> Result<Vec<UrpReview>> {
        self.inner.urp_reviews(vpd)
    }
    fn competence_claim(
        &self,
        vpd: VpdCode,
        id: &CompetenceClaimId,
    ) -> Result<Option<CompetenceClaim>> {
        self.inner.competence_claim(vpd, id)
    }
    fn put_competence_claim(&mut self, _claim: &CompetenceClaim) -> Result<()> {
        Err(self.refuse())
    }
    fn competence_claims(&self, vpd: VpdCode) -> Result<Vec<CompetenceClaim>> {
        self.inner.competence_claims(vpd)
    }
    fn authenticator(&self, username: &Username) -> Result<Option<Authenticator>> {
        self.inner.authenticator(username)
    }
    fn put_authenticator(&mut self, _authenticator: &Authenticator) -> Result<()> {
        Err(self.refuse())
    }
    fn delete_authenticator(&mut self, _username: &Username) -> Result<bool> {
        Err(self.refuse())
    }
    fn advance_authenticator_step(&mut self, _username: &Username, _step: u64) -> Result<bool> {
        Err(self.refuse())
    }
}
