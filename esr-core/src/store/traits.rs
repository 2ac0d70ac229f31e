//! The storage traits. Their contract is documented on [`Store`], where rustdoc shows it.

use crate::audit::{AuditCheckpoint, AuditEntry, AuditHead};
use crate::error::Result;
use crate::org::{Trust, TrustSettings};
use crate::passcode::{Challenge, ChallengeId, Destination, OutboxMessage};
use crate::people::Assignment;
use crate::people::{Account, Person};
use crate::store::{PurgeCounts, PurgeCutoffs};
use crate::urp::{Urp, UrpGrant};
use crate::values::MobileNumber;
use crate::values::username::Username;
use crate::values::{AssignmentNumber, EmailAddress, EmployeeNumber, SessionKey, VpdCode};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// A store of everything the service keeps: any database a trust brings can implement it.
///
/// [`crate::InMemoryStore`] is the embedded default and the reference implementation;
/// `esr-sqlite` is another. The service reaches storage only through
/// [`Store::transaction`] and the [`StoreTx`] methods it hands the closure.
///
/// # Contract
///
/// Every adapter must keep these promises; the service's own rules (single use of a code, the
/// two-user-administrator floor, "a refusal changes nothing") rely on them.
///
/// - **Atomic and isolated.** [`Store::transaction`] runs the closure atomically and in
///   isolation: either every write it made is kept (the closure returned `Ok`) or none is (it
///   returned `Err`, or panicked). Concurrent transactions behave as if run one after another.
///   A SQL adapter maps this to one database transaction at `SERIALIZABLE` isolation, or takes
///   a write lock at its start (SQLite's `BEGIN IMMEDIATE`).
/// - **Read your writes.** Reads inside a transaction see its own earlier writes.
/// - **Insert or replace.** `put_*` methods insert or replace by key; the service checks
///   uniqueness (usernames, employee numbers, assignment numbers) before writing.
/// - **One trust at a time.** Every method is scoped by trust: no method returns another
///   trust's rows.
/// - **A challenge is settled once.** [`StoreTx::put_challenge`] must refuse (with
///   [`crate::Error::Storage`]) to write over a stored challenge that is no longer pending (a
///   SQL adapter does it as one conditional `UPDATE … WHERE id = ? AND status = 'pending'`), so
///   that two verifications of one code can never both be approved.
/// - **A notification and a held change are settled once.** [`StoreTx::put_notification`]
///   and [`StoreTx::put_pending_change`] refuse (with [`crate::Error::Storage`]) to write over
///   one that is no longer open (pending), as challenges are, so that two decisions on one
///   item can never both succeed.
/// - **A time step is accepted once.** [`StoreTx::advance_authenticator_step`] only ever moves
///   a user's latest accepted authenticator step forward, so a code from an authenticator app
///   is accepted at most once.
/// - **The audit trail is append-only.** [`StoreTx::append_audit`] must refuse an entry whose
///   `seq` is not one past the trust's last entry. Only [`StoreTx::remove_audit_before`]
///   removes entries, and only a prefix that leaves the newest entry, so `seq` never restarts.
/// - **Secrets are persisted.** Secret fields (`Account::password_hash`, `Person::mobile`,
///   `Challenge::destination`) must be stored and read back even though serde skips them.
/// - **Messages go with their challenge.** [`StoreTx::queue_message`] writes in the caller's
///   transaction (rolled back with it), refuses a repeated idempotency key, and persists the
///   payload although serde skips it; [`StoreTx::update_message`] never rewrites a settled
///   message.
/// - **Purge removes only what the rules allow.** [`StoreTx::purge`] removes exactly the
///   trust's records that [`crate::store::challenge_purgeable`],
///   [`crate::store::session_purgeable`] and [`crate::store::message_purgeable`] allow, and
///   never an audit entry.
/// - **Read transactions see committed state.** [`Store::read`] runs its closure on one
///   consistent snapshot: everything committed before it began, nothing uncommitted, and no
///   change committed while it runs (two reads inside it agree).
/// - **A transaction may be run again.** An adapter whose database can refuse a commit
///   for a conflict (PostgreSQL at `SERIALIZABLE`) may roll back and run the closure again, a
///   bounded number of times, then return [`crate::Error::Busy`]. Closures are written to allow
///   it (no effect outside the transaction).
/// - **Busy is typed.** An adapter that waits for a lock another process holds, and gives up,
///   returns [`crate::Error::Busy`] (retryable), having changed nothing.
/// - **Sessions are stored by key.** [`StoreTx::put_session`] keeps a session under
///   [`crate::access::Session::key`], the SHA-256 of its id, and never stores the id itself.
/// - **Failures are errors.** A backend failure is returned as [`crate::Error::Storage`];
///   the service then changes nothing and passes it on.
///
/// The conformance kit (the `testkit` feature's `esr_core::store::testkit` module, with the
/// `esr_core::store_conformance_tests!` macro) checks every point of this contract against any
/// implementation, and compares its answers with the in-memory store's. The guide's
/// [store contract](crate::guide::store_contract) page says why each point is there.
pub trait Store: Send + Sync {
    /// Runs `f` as one atomic, isolated transaction: every write `f` makes is kept if it
    /// returns `Ok`, none if it returns `Err` or panics, and concurrent transactions behave
    /// as if run one after another (see the contract on [`Store`]).
    ///
    /// An adapter may run `f` again, in a fresh transaction, after the database refused to
    /// commit the first run (a serialization failure or deadlock under `SERIALIZABLE`), a
    /// bounded number of times; when the retries run out it returns [`crate::Error::Busy`].
    /// So `f` must be safe to run again: it has no effect outside the transaction (it clones
    /// what it needs rather than moving it out, and sends nothing itself: messages go through
    /// the outbox).
    fn transaction<R>(&self, f: impl FnMut(&mut dyn StoreTx) -> Result<R>) -> Result<R>;

    /// Runs `f`, which only reads, on one consistent snapshot of committed state: it sees
    /// every transaction committed before it began and nothing of any transaction still open
    /// or committed after (see "Read transactions" in the contract on [`Store`]).
    ///
    /// The default runs `f` in [`Store::transaction`], which keeps that promise. Adapters
    /// whose reads need not take the write lock override it: SQLite runs it in a read
    /// transaction on a reader connection, so that readers never wait for the writer.
    fn read<R>(&self, mut f: impl FnMut(&dyn StoreTx) -> Result<R>) -> Result<R> {
        self.transaction(|tx| f(tx))
    }
}

/// The operations available inside a transaction. Every method may fail with
/// [`crate::Error::Storage`] when the backend does.
///
/// Each method keeps the contract documented on [`Store`]: reads see the transaction's own
/// writes, `put_*` inserts or replaces by key, nothing crosses from one trust to another,
/// [`StoreTx::put_challenge`] never overwrites a settled challenge, and
/// [`StoreTx::append_audit`] only appends the next entry in sequence. Methods with a default
/// body (`trust_settings`, `active_urps_of`, `people_with_email`, `audit_head`,
/// the `*_owned` variants) are correct as they are; adapters override
/// them only to be faster.
pub trait StoreTx {
    /// The trust with this code.
    fn trust(&self, vpd: VpdCode) -> Result<Option<Trust>>;
    /// Inserts or replaces a trust.
    fn put_trust(&mut self, trust: &Trust) -> Result<()>;
    /// Only the trust's settings: what every access decision reads. Adapters whose trusts are
    /// large to load should override it.
    fn trust_settings(&self, vpd: VpdCode) -> Result<Option<TrustSettings>> {
        Ok(self.trust(vpd)?.map(|t| t.settings))
    }

    /// A person by employee number.
    fn person(&self, vpd: VpdCode, employee: &EmployeeNumber) -> Result<Option<Person>>;
    /// Inserts or replaces a person.
    fn put_person(&mut self, person: &Person) -> Result<()>;
    /// As [`StoreTx::put_person`], taking the person by value: adapters that keep rows as they
    /// are (the in-memory store) override it to avoid a copy.
    fn put_person_owned(&mut self, person: Person) -> Result<()> {
        self.put_person(&person)
    }
    /// Every person of the trust, by employee number.
    fn people(&self, vpd: VpdCode) -> Result<Vec<Person>>;
    /// A person's registered mobile number, without the rest of the record: `None` when there
    /// is no such person, `Some(None)` when they have no number. Adapters that can read one
    /// field cheaply override it (the passcode checks ask it on every session upgrade).
    fn person_mobile(
        &self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
    ) -> Result<Option<Option<MobileNumber>>> {
        Ok(self.person(vpd, employee)?.map(|p| p.mobile))
    }
    /// Sets (or clears) a person's mobile number and returns the number it replaces, as
    /// [`StoreTx::person_mobile`] answers it: `None` when there is no such person, and then
    /// nothing is written. Adapters override it to change the one field in place.
    fn set_person_mobile(
        &mut self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
        mobile: Option<MobileNumber>,
    ) -> Result<Option<Option<MobileNumber>>> {
        let Some(mut person) = self.person(vpd, employee)? else {
            return Ok(None);
        };
        let old = std::mem::replace(&mut person.mobile, mobile);
        self.put_person_owned(person)?;
        Ok(Some(old))
    }

    /// An account by username.
    fn account(&self, username: &Username) -> Result<Option<Account>>;
    /// Inserts or replaces an account.
    fn put_account(&mut self, account: &Account) -> Result<()>;
    /// As [`StoreTx::put_account`], taking the account by value (see
    /// [`StoreTx::put_person_owned`]).
    fn put_account_owned(&mut self, account: Account) -> Result<()> {
        self.put_account(&account)
    }

    /// An assignment by number.
    fn assignment(&self, vpd: VpdCode, number: &AssignmentNumber) -> Result<Option<Assignment>>;
    /// Inserts or replaces an assignment.
    fn put_assignment(&mut self, assignment: &Assignment) -> Result<()>;
    /// A person's assignments, by number.
    fn assignments_of(&self, vpd: VpdCode, employee: &EmployeeNumber) -> Result<Vec<Assignment>>;
    /// The assignments whose supervisor is `supervisor`, by number.
    fn assignments_reporting_to(
        &self,
        vpd: VpdCode,
        supervisor: &AssignmentNumber,
    ) -> Result<Vec<Assignment>>;

    /// Inserts or replaces a grant (by its id).
    fn put_grant(&mut self, grant: &UrpGrant) -> Result<()>;
    /// Every grant a user has had, active and revoked, oldest first.
    fn grants_of(&self, holder: &Username) -> Result<Vec<UrpGrant>>;
    /// Every grant of the trust, active and revoked, oldest first.
    fn grants(&self, vpd: VpdCode) -> Result<Vec<UrpGrant>>;
    /// The URPs of a user's active (unrevoked) grants: what every access decision reads.
    /// Adapters can override the default, which reads every grant the user has had.
    fn active_urps_of(&self, holder: &Username) -> Result<BTreeSet<Urp>> {
        Ok(self
            .grants_of(holder)?
            .into_iter()
            .filter(UrpGrant::is_active)
            .map(|g| g.urp)
            .collect())
    }

    /// A session by its key (the SHA-256 of its id, [`crate::SessionId::key`]). The session read
    /// back carries [`crate::SessionId::UNKNOWN`] as its id: the store never keeps the id.
    fn session(&self, key: &SessionKey) -> Result<Option<Session>>;
    /// Inserts or replaces a session, by `session.key`. The adapter must not store
    /// `session.id` (the bearer secret) in any form other than the key.
    fn put_session(&mut self, session: &Session) -> Result<()>;
    /// A user's sessions, live and ended.
    fn sessions_of(&self, username: &Username) -> Result<Vec<Session>>;

    /// People of the trust whose recruitment e-mail is `email` (compared without regard to
    /// case). Adapters should override the scan with an index.
    fn people_with_email(&self, vpd: VpdCode, email: &EmailAddress) -> Result<Vec<Person>> {
        Ok(self
            .people(vpd)?
            .into_iter()
            .filter(|p| &p.recruitment_email == email)
            .collect())
    }

    /// A passcode or recovery challenge by id.
    fn challenge(&self, id: &ChallengeId) -> Result<Option<Challenge>>;
    /// Inserts or replaces a challenge (by its id). Every field must be persisted, the
    /// destination included. Refuses ([`crate::Error::Storage`]) to replace a challenge that is
    /// no longer pending.
    fn put_challenge(&mut self, challenge: &Challenge) -> Result<()>;
    /// As [`StoreTx::put_challenge`], taking the challenge by value (see
    /// [`StoreTx::put_person_owned`]).
    fn put_challenge_owned(&mut self, challenge: Challenge) -> Result<()> {
        self.put_challenge(&challenge)
    }
    /// A user's challenges issued at or after `since`, oldest first.
    fn challenges_of(&self, username: &Username, since: DateTime<Utc>) -> Result<Vec<Challenge>>;
    /// The trust's challenges sent to `destination` at or after `since`, oldest first.
    fn challenges_to(
        &self,
        vpd: VpdCode,
        destination: &Destination,
        since: DateTime<Utc>,
    ) -> Result<Vec<Challenge>>;

    // ----- Outbox (messages delivered after commit) ----------------------------------------
    // The relay reads across trusts ([`StoreTx::due_messages`]): it serves the whole service.

    /// Queues a message in this transaction (with its challenge). Refuses
    /// ([`crate::Error::Storage`]) a message whose idempotency key (`message.key`) is already
    /// in the outbox. The payload must be persisted although serde skips it.
    fn queue_message(&mut self, message: &OutboxMessage) -> Result<()>;
    /// The message with this idempotency key.
    fn outbox_message(&self, key: &ChallengeId) -> Result<Option<OutboxMessage>>;
    /// Replaces a queued message (its attempts, next attempt, status). Refuses
    /// ([`crate::Error::Storage`]) a message not in the outbox, and one already settled
    /// (not [`OutboxStatus::Pending`](crate::passcode::OutboxStatus::Pending)).
    fn update_message(&mut self, message: &OutboxMessage) -> Result<()>;
    /// Up to `limit` pending messages of every trust whose `next_attempt_at` is at or before
    /// `now`, by `next_attempt_at` then key.
    fn due_messages(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxMessage>>;

    // ----- Retention ------------------------------------------------------------------------

    /// Removes the trust's challenges, sessions and outbox messages that the rules
    /// [`challenge_purgeable`](crate::store::challenge_purgeable),
    /// [`session_purgeable`](crate::store::session_purgeable) and
    /// [`message_purgeable`](crate::store::message_purgeable) allow for `cutoffs`, and says how
    /// many of each. Nothing else (the audit trail above all) is touched.
    fn purge(&mut self, vpd: VpdCode, cutoffs: &PurgeCutoffs) -> Result<PurgeCounts>;

    /// Appends to the trust's audit trail; refuses an entry out of sequence.
    fn append_audit(&mut self, entry: &AuditEntry) -> Result<()>;
    /// The trust's newest audit entry.
    fn last_audit(&self, vpd: VpdCode) -> Result<Option<AuditEntry>>;
    /// The `seq` and hash of the trust's newest audit entry (`seq` 0 and
    /// [`crate::audit::AuditHash::GENESIS`] for an empty trail): all that appending the next entry
    /// needs. Adapters that can read them without loading the whole entry should override it.
    fn audit_head(&self, vpd: VpdCode) -> Result<AuditHead> {
        Ok(self
            .last_audit(vpd)?
            .map_or(AuditHead::EMPTY, |e| AuditHead {
                seq: e.seq,
                hash: e.hash,
            }))
    }
    /// As [`StoreTx::append_audit`], taking the entry by value: adapters that keep entries as
    /// they are (the in-memory store) override it to avoid a copy.
    fn append_audit_owned(&mut self, entry: AuditEntry) -> Result<()> {
        self.append_audit(&entry)
    }
    /// The trust's audit entries with `seq` from `from` (1-based), at most `limit` of them.
    fn audit_entries(&self, vpd: VpdCode, from: u64, limit: usize) -> Result<Vec<AuditEntry>>;

    // ----- Audit checkpoints and archive ---------------------------------------------------

    /// Stores a signed checkpoint of the trust's trail, inserting or replacing by trust and
    /// `seq`.
    fn put_audit_checkpoint(&mut self, checkpoint: &AuditCheckpoint) -> Result<()>;
    /// The trust's checkpoints, by `seq`, oldest first.
    fn audit_checkpoints(&self, vpd: VpdCode) -> Result<Vec<AuditCheckpoint>>;
    /// Removes the trust's audit entries whose `seq` is below `before` (a prefix that was
    /// archived) and returns how many were removed. Must refuse, removing nothing, when
    /// `before` is past the newest entry, so that the trail is never emptied and the next
    /// entry's `seq` continues from the newest one; [`StoreTx::audit_entries`] then starts at
    /// `before`.
    fn remove_audit_before(&mut self, vpd: VpdCode, before: u64) -> Result<u64>;

    // ----- Compliance ----------------------------------------------------------------------
    // Every method is scoped by the trust's VPD code; definitions are the trust's own entries
    // (local competences and overrides of national ones), not the built-in default catalogue.

    /// The trust's own definition of a competence.
    fn competence_definition(
        &self,
        vpd: VpdCode,
        name: &CompetenceName,
    ) -> Result<Option<CompetenceDefinition>>;
    /// Inserts or replaces the trust's definition (by name).
    fn put_competence_definition(
        &mut self,
        vpd: VpdCode,
        definition: &CompetenceDefinition,
    ) -> Result<()>;
    /// Deletes the trust's definition; whether there was one.
    fn delete_competence_definition(&mut self, vpd: VpdCode, name: &CompetenceName)
    -> Result<bool>;
    /// The trust's own definitions, by name.
    fn competence_definitions(&self, vpd: VpdCode) -> Result<Vec<CompetenceDefinition>>;

    /// Inserts or replaces a requirement (by trust, target and competence).
    fn put_requirement(&mut self, requirement: &Requirement) -> Result<()>;
    /// Deletes a requirement; whether there was one.
    fn delete_requirement(
        &mut self,
        vpd: VpdCode,
        target: &RequirementTarget,
        competence: &CompetenceName,
    ) -> Result<bool>;
    /// The trust's requirements, by target then competence.
    fn requirements(&self, vpd: VpdCode) -> Result<Vec<Requirement>>;

    /// Inserts an equivalence (a set member: inserting it again changes nothing).
    fn put_equivalence(&mut self, equivalence: &Equivalence) -> Result<()>;
    /// Deletes an equivalence; whether there was one.
    fn delete_equivalence(&mut self, equivalence: &Equivalence) -> Result<bool>;
    /// The trust's equivalences, by held then satisfied competence.
    fn equivalences(&self, vpd: VpdCode) -> Result<Vec<Equivalence>>;

    /// Inserts or replaces a competence record (by trust, person, competence, achieved date).
    fn put_competence_record(&mut self, record: &CompetenceRecord) -> Result<()>;
    /// Deletes a competence record; whether there was one.
    fn delete_competence_record(
        &mut self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
        competence: &CompetenceName,
        achieved: NaiveDate,
    ) -> Result<bool>;
    /// Inserts or replaces many competence records, as [`StoreTx::put_competence_record`]
    /// does one by one (the default). Adapters override it to write them faster (SQLite: one
    /// prepared statement), so that a large import holds the write lock briefly.
    fn put_competence_records(&mut self, records: &[CompetenceRecord]) -> Result<()> {
        for r in records {
            self.put_competence_record(r)?;
        }
        Ok(())
    }
    /// A person's competence records, by competence then achieved date.
    fn competence_records_of(
        &self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
    ) -> Result<Vec<CompetenceRecord>>;
    /// Every competence record of the trust, by person, competence, achieved date.
    fn competence_records(&self, vpd: VpdCode) -> Result<Vec<CompetenceRecord>>;

    /// The trust's compliance settings, if it has set any.
    fn compliance_settings(&self, vpd: VpdCode) -> Result<Option<ComplianceSettings>>;
    /// Inserts or replaces the trust's compliance settings.
    fn put_compliance_settings(
        &mut self,
        vpd: VpdCode,
        settings: &ComplianceSettings,
    ) -> Result<()>;

    // ----- Certifications and enrolment ------------------------------------------------------
    // Every method is scoped by the trust's VPD code. The records are plain serialisable values:
    // an adapter may keep each as one JSON document under the key given.

    /// The trust's certification with this name (the key is trust and name, compared exactly).
    fn certification(&self, vpd: VpdCode, name: &str) -> Result<Option<Certification>>;
    /// Inserts or replaces a certification (by `certification.vpd` and `certification.name`).
    fn put_certification(&mut self, certification: &Certification) -> Result<()>;
    /// The trust's certifications, by name.
    fn certifications(&self, vpd: VpdCode) -> Result<Vec<Certification>>;

    /// A learner's subscription to a certification (key: trust, employee number, certification
    /// name), whatever its state, cancelled included.
    fn subscription(
        &self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
        certification: &str,
    ) -> Result<Option<Subscription>>;
    /// Inserts or replaces a subscription (by trust, employee number and certification name).
    fn put_subscription(&mut self, subscription: &Subscription) -> Result<()>;
    /// A learner's subscriptions, cancelled included, by certification name.
    fn subscriptions_of(
        &self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
    ) -> Result<Vec<Subscription>>;

    /// Inserts or replaces an enrolment (by trust, employee number, certification, cycle and
    /// course).
    fn put_enrolment(&mut self, enrolment: &Enrolment) -> Result<()>;
    /// A learner's enrolments in every certification and cycle, oldest first: by `enrolled_at`,
    /// then certification, cycle and course.
    fn enrolments_of(&self, vpd: VpdCode, employee: &EmployeeNumber) -> Result<Vec<Enrolment>>;

    // ----- Notifications and approvals (wf-notify) -----

    /// A notification by trust and id.
    fn notification(&self, vpd: VpdCode, id: &NotificationId) -> Result<Option<Notification>>;
    /// Inserts or replaces a notification (by trust and id). Refuses
    /// ([`crate::Error::Storage`]) to replace a notification whose stored state is no longer
    /// open, or to change whom it is for or its kind: a notification is settled once.
    fn put_notification(&mut self, notification: &Notification) -> Result<()>;
    /// A person's notifications in every state, oldest first: by `raised_at`, then id.
    fn notifications_of(&self, vpd: VpdCode, person: &EmployeeNumber) -> Result<Vec<Notification>>;
    /// A held change by trust and id.
    fn pending_change(&self, vpd: VpdCode, id: &ChangeId) -> Result<Option<PendingChange>>;
    /// Inserts or replaces a held change (by trust and id). Refuses
    /// ([`crate::Error::Storage`]) to replace one whose stored status is no longer pending:
    /// a change is settled once, so two approvals of it cannot both succeed.
    fn put_pending_change(&mut self, change: &PendingChange) -> Result<()>;
    /// The trust's held changes in every status, oldest first: by `requested_at`, then id.
    fn pending_changes(&self, vpd: VpdCode) -> Result<Vec<PendingChange>>;

    // ----- Workflows: access requests, URP reviews, competence claims -----------------------
    // Every method is scoped by the trust's VPD code; the records are plain serialisable values
    // keyed by their random id. Lists come oldest first: by the time raised (opened, claimed),
    // then by id.

    /// An access request by id.
    fn access_request(&self, vpd: VpdCode, id: &AccessRequestId) -> Result<Option<AccessRequest>>;
    /// Inserts or replaces an access request (by `request.vpd` and `request.id`).
    fn put_access_request(&mut self, request: &AccessRequest) -> Result<()>;
    /// The trust's access requests, every state, by `raised_at` then id.
    fn access_requests(&self, vpd: VpdCode) -> Result<Vec<AccessRequest>>;

    /// A URP review cycle by id.
    fn urp_review(&self, vpd: VpdCode, id: &UrpReviewId) -> Result<Option<UrpReview>>;
    /// Inserts or replaces a URP review cycle (by `review.vpd` and `review.id`).
    fn put_urp_review(&mut self, review: &UrpReview) -> Result<()>;
    /// The trust's URP review cycles, by `opened_at` then id.
    fn urp_reviews(&self, vpd: VpdCode) -> Result<Vec<UrpReview>>;

    /// A competence claim (a competence a learner recorded themselves) by id.
    fn competence_claim(
        &self,
        vpd: VpdCode,
        id: &CompetenceClaimId,
    ) -> Result<Option<CompetenceClaim>>;
    /// Inserts or replaces a competence claim (by `claim.vpd` and `claim.id`).
    fn put_competence_claim(&mut self, claim: &CompetenceClaim) -> Result<()>;
    /// The trust's competence claims, every state, by `claimed_at` then id.
    fn competence_claims(&self, vpd: VpdCode) -> Result<Vec<CompetenceClaim>>;

    // ----- Authenticator apps ------------------------------------------------------------------
    // One per account, keyed by username. Every field is persisted, the sealed secret included.

    /// The user's authenticator app, confirmed or not.
    fn authenticator(&self, username: &Username) -> Result<Option<Authenticator>>;
    /// Inserts or replaces the user's authenticator (by `authenticator.username`).
    fn put_authenticator(&mut self, authenticator: &Authenticator) -> Result<()>;
    /// Deletes the user's authenticator; whether there was one.
    fn delete_authenticator(&mut self, username: &Username) -> Result<bool>;
    /// The replay guard: sets the user's latest accepted time step to `step` if, and only if,
    /// the user has an authenticator whose latest accepted step is none or earlier than
    /// `step`, and says whether it did. It must be one conditional write (a SQL adapter: `UPDATE
    /// … SET last_step = ? WHERE username = ? AND (last_step IS NULL OR last_step < ?)`), so
    /// that a time step is accepted at most once, however verifications race.
    fn advance_authenticator_step(&mut self, username: &Username, step: u64) -> Result<bool>;
}

use crate::authenticator::Authenticator;

use crate::notify::{Notification, PendingChange};
use crate::values::{ChangeId, NotificationId};

// Workflows: access requests, URP reviews, competence claims.
use crate::compliance::CompetenceClaim;
use crate::urp::{AccessRequest, UrpReview};
use crate::values::{AccessRequestId, CompetenceClaimId, UrpReviewId};

use crate::learning::{Certification, Enrolment, Subscription};

use crate::access::Session;
use crate::compliance::ComplianceSettings;
use crate::compliance::{
    CompetenceDefinition, CompetenceName, CompetenceRecord, Equivalence, Requirement,
    RequirementTarget,
};
use chrono::NaiveDate;
