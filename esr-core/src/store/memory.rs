//! The in-memory store: the embedded default, and the reference for the storage contract.

use crate::audit::{AuditCheckpoint, AuditEntry, AuditHead};
use crate::error::{Error, Result};
use crate::org::Trust;
use crate::passcode::{Challenge, ChallengeId, ChallengeStatus, Destination};
use crate::passcode::{OutboxMessage, OutboxStatus};
use crate::people::Assignment;
use crate::people::{Account, Person};
use crate::store::{PurgeCounts, PurgeCutoffs};
use crate::values::MobileNumber;
use crate::values::{AssignmentNumber, EmployeeNumber, GrantId, SessionId, SessionKey, VpdCode};

use crate::access::Session;
use crate::store::{Store, StoreTx};
use crate::urp::UrpGrant;
use crate::values::username::Username;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// The store's hash maps: foldhash, seeded at random per map, instead of SipHash. Lookups by
/// username and id are on the path of every request, and the keys are identifiers the
/// library validated, not arbitrary text.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

mod compliance;
use crate::compliance::ComplianceSettings;
use crate::compliance::{
    CompetenceDefinition, CompetenceName, CompetenceRecord, Equivalence, Requirement,
    RequirementTarget,
};
use chrono::NaiveDate;
use compliance::{ComplianceTables, ComplianceUndo};
mod learning;
use crate::learning::{Certification, Enrolment, Subscription};
use learning::{LearningTables, LearningUndo};
// Notifications and approvals
mod notify;
use crate::notify::{Notification, PendingChange};
use crate::values::{ChangeId, NotificationId};
use notify::{NotifyTables, NotifyUndo};
// Workflows: access requests, URP reviews, competence claims.
mod workflows;
use crate::compliance::CompetenceClaim;
use crate::urp::{AccessRequest, UrpReview};
use crate::values::{AccessRequestId, CompetenceClaimId, UrpReviewId};
use workflows::{WorkflowTables, WorkflowUndo};
// The audit trails, in chunks.
mod trail;
use trail::Trail;

/// The in-memory store: the embedded default, and the reference implementation of the
/// [`Store`] contract (the conformance kit compares other adapters' answers with its own).
///
/// Everything is in memory behind one lock; a transaction holds the lock for its whole run
/// (so transactions run one after another) and undoes its writes if it fails or panics.
/// Nothing survives the process: use `esr-sqlite` or your own adapter to keep data.
#[derive(Debug, Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    trusts: BTreeMap<VpdCode, Trust>,
    /// People by trust and employee number (hashed: a lookup does not walk a tree of
    /// strings), with `people_order` for reading a trust's people in order.
    people: HashMap<VpdCode, HashMap<EmployeeNumber, Person>>,
    people_order: BTreeSet<(VpdCode, EmployeeNumber)>,
    accounts: HashMap<Username, Account>,
    assignments: BTreeMap<(VpdCode, AssignmentNumber), Assignment>,
    by_employee: BTreeSet<(VpdCode, EmployeeNumber, AssignmentNumber)>,
    by_supervisor: BTreeSet<(VpdCode, AssignmentNumber, AssignmentNumber)>,
    grants: BTreeMap<GrantId, UrpGrant>,
    grant_order: Vec<GrantId>,
    /// Each holder's grants, in grant order, with what access checks need of them: the URPs
    /// in force are read without touching the grants themselves.
    grants_by_holder: HashMap<Username, Vec<HeldGrant>>,
    sessions: HashMap<SessionKey, Session>,
    sessions_by_user: HashMap<Username, Vec<SessionKey>>,
    audit: BTreeMap<VpdCode, Trail>,
    /// Signed checkpoints by trust and `seq`.
    audit_checkpoints: BTreeMap<(VpdCode, u64), AuditCheckpoint>,
    challenges: HashMap<ChallengeId, Challenge>,
    /// (user, issued at, id): range queries by time.
    challenges_by_user: BTreeSet<(Username, DateTime<Utc>, ChallengeId)>,
    /// (trust, destination key, issued at, id).
    challenges_by_destination: BTreeSet<(VpdCode, String, DateTime<Utc>, ChallengeId)>,
    // Outbox
    outbox: HashMap<ChallengeId, OutboxMessage>,
    /// (next attempt, key) of the pending messages.
    outbox_due: BTreeSet<(DateTime<Utc>, ChallengeId)>,
    // Compliance
    compliance: ComplianceTables,
    // Certifications and enrolment
    learning: LearningTables,
    // Notifications and approvals
    notify: NotifyTables,
    // Workflows
    workflows: WorkflowTables,
    // Authenticator apps
    authenticators: HashMap<Username, crate::authenticator::Authenticator>,
    /// The undo log's buffer, kept empty between transactions so that each one does not
    /// allocate (and grow) its own.
    spare_undo: SpareUndo,
}

/// The largest undo log kept for reuse, in entries.
const MAX_SPARE_UNDO: usize = 64;

/// An empty undo log kept for the next transaction (its `Debug` shows only its capacity).
#[derive(Default)]
struct SpareUndo(Vec<Undo>);

impl std::fmt::Debug for SpareUndo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SpareUndo(capacity {})", self.0.capacity())
    }
}

enum Undo {
    Trust(VpdCode, Option<Trust>),
    Person((VpdCode, EmployeeNumber), Option<Person>),
    PersonMobile((VpdCode, EmployeeNumber), Option<MobileNumber>),
    Account(Username, Option<Account>),
    Assignment((VpdCode, AssignmentNumber), Option<Assignment>),
    Grant(GrantId, Option<UrpGrant>),
    Session(SessionKey, Option<Session>),
    Audit(VpdCode),
    /// An archived prefix removed from the front of a trail.
    AuditPrefix(VpdCode, Vec<AuditEntry>),
    AuditCheckpoint((VpdCode, u64), Option<AuditCheckpoint>),
    Challenge(ChallengeId, Option<Challenge>),
    // Outbox and retention
    Outbox(ChallengeId, Option<OutboxMessage>),
    ChallengeRemoved(Challenge),
    SessionRemoved(Session),
    // Compliance
    Compliance(ComplianceUndo),
    // Certifications and enrolment
    Learning(LearningUndo),
    // Notifications and approvals
    Notify(NotifyUndo),
    // Workflows
    Workflow(WorkflowUndo),
    // Authenticator apps
    Authenticator(Username, Option<crate::authenticator::Authenticator>),
    /// The replay guard's step before it advanced (the record itself unchanged, so not
    /// copied, sealed secret and all, on every accepted code).
    AuthenticatorStep(Username, Option<u64>),
}

impl InMemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a transaction is running on this store now (on any thread). For tests and
    /// debug assertions.
    pub fn in_transaction(&self) -> bool {
        self.state.try_lock().is_err()
    }

    /// Whether an in-memory store transaction is open on the calling thread. For tests: a
    /// gateway (called on the thread of the operation or relay) checks with it that it is
    /// never called inside a transaction.
    pub fn transaction_open_on_this_thread() -> bool {
        in_memory_transaction_on_this_thread()
    }
}

thread_local! {
    /// In-memory transactions open on this thread.
    static OPEN_ON_THIS_THREAD: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Whether an in-memory store transaction is open on this thread (the relay's debug
/// assertion that no gateway is called inside a transaction).
pub(crate) fn in_memory_transaction_on_this_thread() -> bool {
    OPEN_ON_THIS_THREAD.with(|c| c.get() > 0)
}

/// Counts a transaction open on this thread while it lives.
struct OpenOnThisThread;

impl OpenOnThisThread {
    fn new() -> Self {
        OPEN_ON_THIS_THREAD.with(|c| c.set(c.get() + 1));
        Self
    }
}

impl Drop for OpenOnThisThread {
    fn drop(&mut self) {
        OPEN_ON_THIS_THREAD.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

struct Tx<'a> {
    state: &'a mut State,
    undo: Vec<Undo>,
    committed: bool,
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.committed {
            self.roll_back();
        }
        let mut undo = std::mem::take(&mut self.undo);
        undo.clear();
        // A bulk transaction's large log is not kept: only a small one is worth reusing.
        if undo.capacity() <= MAX_SPARE_UNDO {
            self.state.spare_undo = SpareUndo(undo);
        }
    }
}

impl Tx<'_> {
    fn person_ref(&self, vpd: VpdCode, employee: &EmployeeNumber) -> Option<&Person> {
        self.state.people.get(&vpd)?.get(employee)
    }

    /// Undoes every write, newest first.
    fn roll_back(&mut self) {
        while let Some(u) = self.undo.pop() {
            let s = &mut *self.state;
            match u {
                Undo::Trust(k, old) => restore(&mut s.trusts, k, old),
                Undo::Person((vpd, e), old) => match old {
                    Some(p) => {
                        s.people.entry(vpd).or_default().insert(e, p);
                    }
                    None => {
                        if let Some(m) = s.people.get_mut(&vpd) {
                            m.remove(&e);
                        }
                        s.people_order.remove(&(vpd, e));
                    }
                },
                Undo::PersonMobile((vpd, e), old) => {
                    if let Some(p) = s.people.get_mut(&vpd).and_then(|m| m.get_mut(&e)) {
                        p.mobile = old;
                    }
                }
                Undo::Account(k, old) => restore_hash(&mut s.accounts, k, old),
                Undo::Assignment(k, old) => {
                    if let Some(cur) = s.assignments.get(&k).cloned() {
                        unindex_assignment(s, &cur);
                    }
                    if let Some(o) = &old {
                        index_assignment(s, o);
                    }
                    restore(&mut s.assignments, k, old);
                }
                Undo::Grant(k, old) => match old {
                    None => {
                        if let Some(g) = s.grants.remove(&k) {
                            s.grant_order.retain(|x| *x != k);
                            if let Some(v) = s.grants_by_holder.get_mut(&g.holder) {
                                v.retain(|h| h.id != k);
                            }
                        }
                    }
                    Some(o) => {
                        let current = s.grants.get(&k).cloned();
                        index_grant(s, &o, current.as_ref());
                        s.grants.insert(k, o);
                    }
                },
                Undo::Session(k, old) => {
                    if old.is_none()
                        && let Some(cur) = s.sessions.get(&k)
                        && let Some(v) = s.sessions_by_user.get_mut(&cur.username)
                    {
                        v.retain(|x| *x != k);
                    }
                    restore_hash(&mut s.sessions, k, old);
                }
                Undo::Challenge(k, old) => {
                    if old.is_none()
                        && let Some(cur) = s.challenges.remove(&k)
                    {
                        s.challenges_by_user
                            .remove(&(cur.username.clone(), cur.issued_at, k));
                        if let Some(d) = &cur.destination {
                            s.challenges_by_destination.remove(&(
                                cur.vpd,
                                d.index_key(),
                                cur.issued_at,
                                k,
                            ));
                        }
                    } else {
                        restore_hash(&mut s.challenges, k, old);
                    }
                }
                Undo::Audit(vpd) => {
                    if let Some(v) = s.audit.get_mut(&vpd) {
                        v.pop();
                    }
                }
                Undo::AuditPrefix(vpd, prefix) => {
                    s.audit.entry(vpd).or_default().restore_prefix(prefix);
                }
                Undo::AuditCheckpoint(k, old) => restore(&mut s.audit_checkpoints, k, old),
                // Outbox and retention
                Undo::Outbox(k, old) => {
                    set_outbox(s, k, old);
                }
                Undo::ChallengeRemoved(c) => insert_challenge(s, c),
                Undo::SessionRemoved(x) => {
                    s.sessions_by_user
                        .entry(x.username.clone())
                        .or_default()
                        .push(x.key);
                    s.sessions.insert(x.key, x);
                }
                // Compliance
                Undo::Compliance(u) => s.compliance.undo(u),
                Undo::Learning(u) => s.learning.undo(u),
                Undo::Notify(u) => s.notify.undo(u),
                Undo::Workflow(u) => s.workflows.undo(u),
                // Authenticator apps
                Undo::Authenticator(k, old) => restore_hash(&mut s.authenticators, k, old),
                Undo::AuthenticatorStep(k, old) => {
                    if let Some(a) = s.authenticators.get_mut(&k) {
                        a.last_step = old;
                    }
                }
            }
        }
    }
}

fn restore<K: Ord, V>(m: &mut BTreeMap<K, V>, k: K, old: Option<V>) {
    match old {
        Some(v) => {
            m.insert(k, v);
        }
        None => {
            m.remove(&k);
        }
    }
}

fn restore_hash<K: std::hash::Hash + Eq, V>(m: &mut HashMap<K, V>, k: K, old: Option<V>) {
    match old {
        Some(v) => {
            m.insert(k, v);
        }
        None => {
            m.remove(&k);
        }
    }
}

/// Sets (or removes) the outbox message `key`, keeping the due index, and returns the one
/// it replaces.
fn set_outbox(
    s: &mut State,
    key: ChallengeId,
    new: Option<OutboxMessage>,
) -> Option<OutboxMessage> {
    let old = s.outbox.remove(&key);
    if let Some(o) = &old
        && o.status == OutboxStatus::Pending
    {
        s.outbox_due.remove(&(o.next_attempt_at, key));
    }
    if let Some(n) = new {
        if n.status == OutboxStatus::Pending {
            s.outbox_due.insert((n.next_attempt_at, key));
        }
        s.outbox.insert(key, n);
    }
    old
}

/// Stores a new challenge with its indexes.
fn insert_challenge(s: &mut State, c: Challenge) {
    s.challenges_by_user
        .insert((c.username.clone(), c.issued_at, c.id));
    if let Some(d) = &c.destination {
        s.challenges_by_destination
            .insert((c.vpd, d.index_key(), c.issued_at, c.id));
    }
    s.challenges.insert(c.id, c);
}

/// Removes a challenge with its indexes.
fn remove_challenge(s: &mut State, id: &ChallengeId) -> Option<Challenge> {
    let c = s.challenges.remove(id)?;
    s.challenges_by_user
        .remove(&(c.username.clone(), c.issued_at, c.id));
    if let Some(d) = &c.destination {
        s.challenges_by_destination
            .remove(&(c.vpd, d.index_key(), c.issued_at, c.id));
    }
    Some(c)
}

/// A grant as the holder index keeps it.
#[derive(Debug, Clone, Copy)]
struct HeldGrant {
    id: GrantId,
    urp: crate::urp::Urp,
    active: bool,
}

/// Puts `g` in its holder's index, replacing `old` (the grant it replaces) in place, so a
/// holder's grants keep their order.
fn index_grant(s: &mut State, g: &UrpGrant, old: Option<&UrpGrant>) {
    let held = HeldGrant {
        id: g.id,
        urp: g.urp,
        active: g.is_active(),
    };
    if let Some(o) = old {
        let v = s.grants_by_holder.get_mut(&o.holder);
        if o.holder == g.holder {
            if let Some(h) = v.and_then(|v| v.iter_mut().find(|h| h.id == g.id)) {
                *h = held;
                return;
            }
        } else if let Some(v) = v {
            v.retain(|h| h.id != o.id);
        }
    }
    s.grants_by_holder
        .entry(g.holder.clone())
        .or_default()
        .push(held);
}

fn index_assignment(s: &mut State, a: &Assignment) {
    s.by_employee
        .insert((a.vpd, a.employee_number.clone(), a.number.clone()));
    if let Some(sup) = &a.supervisor {
        s.by_supervisor
            .insert((a.vpd, sup.clone(), a.number.clone()));
    }
}

fn unindex_assignment(s: &mut State, a: &Assignment) {
    s.by_employee
        .remove(&(a.vpd, a.employee_number.clone(), a.number.clone()));
    if let Some(sup) = &a.supervisor {
        s.by_supervisor
            .remove(&(a.vpd, sup.clone(), a.number.clone()));
    }
}

impl Store for InMemoryStore {
    fn transaction<R>(&self, mut f: impl FnMut(&mut dyn StoreTx) -> Result<R>) -> Result<R> {
        // A panic inside an earlier transaction was rolled back by `Tx::drop`, so the state
        // behind a poisoned lock is consistent and safe to use.
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let _open = OpenOnThisThread::new();
        let undo = std::mem::take(&mut guard.spare_undo.0);
        let mut tx = Tx {
            state: &mut guard,
            undo,
            committed: false,
        };
        let r = f(&mut tx);
        tx.committed = r.is_ok();
        r
    }
}

impl StoreTx for Tx<'_> {
    fn trust(&self, vpd: VpdCode) -> Result<Option<Trust>> {
        Ok(self.state.trusts.get(&vpd).cloned())
    }
    fn trust_settings(&self, vpd: VpdCode) -> Result<Option<crate::org::TrustSettings>> {
        Ok(self.state.trusts.get(&vpd).map(|t| t.settings.clone()))
    }
    fn put_trust(&mut self, trust: &Trust) -> Result<()> {
        let old = self.state.trusts.insert(trust.vpd, trust.clone());
        self.undo.push(Undo::Trust(trust.vpd, old));
        Ok(())
    }

    fn person(&self, vpd: VpdCode, employee: &EmployeeNumber) -> Result<Option<Person>> {
        Ok(self.person_ref(vpd, employee).cloned())
    }
    fn person_mobile(
        &self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
    ) -> Result<Option<Option<MobileNumber>>> {
        Ok(self.person_ref(vpd, employee).map(|p| p.mobile.clone()))
    }
    fn set_person_mobile(
        &mut self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
        mobile: Option<MobileNumber>,
    ) -> Result<Option<Option<MobileNumber>>> {
        let Some(p) = self
            .state
            .people
            .get_mut(&vpd)
            .and_then(|m| m.get_mut(employee))
        else {
            return Ok(None);
        };
        let old = std::mem::replace(&mut p.mobile, mobile);
        self.undo
            .push(Undo::PersonMobile((vpd, employee.clone()), old.clone()));
        Ok(Some(old))
    }
    fn put_person(&mut self, person: &Person) -> Result<()> {
        self.put_person_owned(person.clone())
    }
    fn put_person_owned(&mut self, person: Person) -> Result<()> {
        let s = &mut *self.state;
        let k = (person.vpd, person.employee_number.clone());
        let old = s
            .people
            .entry(person.vpd)
            .or_default()
            .insert(k.1.clone(), person);
        if old.is_none() {
            s.people_order.insert(k.clone());
        }
        self.undo.push(Undo::Person(k, old));
        Ok(())
    }
    fn people(&self, vpd: VpdCode) -> Result<Vec<Person>> {
        let s = &*self.state;
        Ok(s.people_order
            .range((vpd, min_employee())..)
            .take_while(|(v, _)| *v == vpd)
            .filter_map(|(_, e)| self.person_ref(vpd, e).cloned())
            .collect())
    }

    fn account(&self, username: &Username) -> Result<Option<Account>> {
        Ok(self.state.accounts.get(username).cloned())
    }
    fn put_account(&mut self, account: &Account) -> Result<()> {
        self.put_account_owned(account.clone())
    }
    fn put_account_owned(&mut self, account: Account) -> Result<()> {
        let username = account.username.clone();
        let old = self.state.accounts.insert(username.clone(), account);
        self.undo.push(Undo::Account(username, old));
        Ok(())
    }

    fn assignment(&self, vpd: VpdCode, number: &AssignmentNumber) -> Result<Option<Assignment>> {
        Ok(self.state.assignments.get(&(vpd, number.clone())).cloned())
    }
    fn put_assignment(&mut self, a: &Assignment) -> Result<()> {
        let k = (a.vpd, a.number.clone());
        let old = self.state.assignments.insert(k.clone(), a.clone());
        if let Some(o) = &old {
            unindex_assignment(self.state, o);
        }
        index_assignment(self.state, a);
        self.undo.push(Undo::Assignment(k, old));
        Ok(())
    }
    fn assignments_of(&self, vpd: VpdCode, employee: &EmployeeNumber) -> Result<Vec<Assignment>> {
        let s = &*self.state;
        Ok(s.by_employee
            .range((vpd, employee.clone(), min_assignment())..)
            .take_while(|(v, e, _)| *v == vpd && e == employee)
            .filter_map(|(v, _, n)| s.assignments.get(&(*v, n.clone())).cloned())
            .collect())
    }
    fn assignments_reporting_to(
        &self,
        vpd: VpdCode,
        supervisor: &AssignmentNumber,
    ) -> Result<Vec<Assignment>> {
        let s = &*self.state;
        Ok(s.by_supervisor
            .range((vpd, supervisor.clone(), min_assignment())..)
            .take_while(|(v, sup, _)| *v == vpd && sup == supervisor)
            .filter_map(|(v, _, n)| s.assignments.get(&(*v, n.clone())).cloned())
            .collect())
    }

    fn put_grant(&mut self, grant: &UrpGrant) -> Result<()> {
        let s = &mut *self.state;
        let old = s.grants.insert(grant.id, grant.clone());
        if old.is_none() {
            s.grant_order.push(grant.id);
        }
        index_grant(s, grant, old.as_ref());
        self.undo.push(Undo::Grant(grant.id, old));
        Ok(())
    }
    fn grants_of(&self, holder: &Username) -> Result<Vec<UrpGrant>> {
        let s = &*self.state;
        Ok(s.grants_by_holder
            .get(holder)
            .into_iter()
            .flatten()
            .filter_map(|h| s.grants.get(&h.id).cloned())
            .collect())
    }
    fn active_urps_of(&self, holder: &Username) -> Result<BTreeSet<crate::urp::Urp>> {
        // Inserted one by one: collecting would sort through a temporary vector first.
        let mut urps = BTreeSet::new();
        for h in self
            .state
            .grants_by_holder
            .get(holder)
            .into_iter()
            .flatten()
        {
            if h.active {
                urps.insert(h.urp);
            }
        }
        Ok(urps)
    }
    fn grants(&self, vpd: VpdCode) -> Result<Vec<UrpGrant>> {
        let s = &*self.state;
        Ok(s.grant_order
            .iter()
            .filter_map(|id| s.grants.get(id))
            .filter(|g| g.vpd == vpd)
            .cloned()
            .collect())
    }

    fn session(&self, key: &SessionKey) -> Result<Option<Session>> {
        Ok(self.state.sessions.get(key).cloned())
    }
    fn put_session(&mut self, session: &Session) -> Result<()> {
        let s = &mut *self.state;
        // Kept by key, without the bearer id, as a durable store keeps it.
        let stored = Session {
            id: SessionId::UNKNOWN,
            ..session.clone()
        };
        let old = s.sessions.insert(session.key, stored);
        if old.is_none() {
            s.sessions_by_user
                .entry(session.username.clone())
                .or_default()
                .push(session.key);
        }
        self.undo.push(Undo::Session(session.key, old));
        Ok(())
    }
    fn sessions_of(&self, username: &Username) -> Result<Vec<Session>> {
        let s = &*self.state;
        Ok(s.sessions_by_user
            .get(username)
            .into_iter()
            .flatten()
            .filter_map(|id| s.sessions.get(id).cloned())
            .collect())
    }

    fn challenge(&self, id: &ChallengeId) -> Result<Option<Challenge>> {
        Ok(self.state.challenges.get(id).cloned())
    }
    fn put_challenge(&mut self, c: &Challenge) -> Result<()> {
        self.put_challenge_owned(c.clone())
    }
    fn put_challenge_owned(&mut self, c: Challenge) -> Result<()> {
        let s = &mut *self.state;
        let id = c.id;
        // One lookup: replace in place when the challenge is stored already.
        if let Some(slot) = s.challenges.get_mut(&id) {
            if slot.username != c.username
                || slot.destination != c.destination
                || slot.issued_at != c.issued_at
            {
                // The indexed fields of a challenge never change; the service never does this.
                return Err(Error::Storage(
                    "a challenge's user and destination cannot change".into(),
                ));
            }
            if slot.status != ChallengeStatus::Pending {
                // A challenge is consumed once: a settled one is never written again.
                return Err(Error::Storage(format!(
                    "challenge {id} is already {}; a challenge is settled only once",
                    slot.status
                )));
            }
            let old = std::mem::replace(slot, c);
            self.undo.push(Undo::Challenge(id, Some(old)));
            return Ok(());
        }
        insert_challenge(s, c);
        self.undo.push(Undo::Challenge(id, None));
        Ok(())
    }
    fn challenges_of(&self, username: &Username, since: DateTime<Utc>) -> Result<Vec<Challenge>> {
        let s = &*self.state;
        let from = (username.clone(), since, ChallengeId::from_bytes([0; 16]));
        Ok(s.challenges_by_user
            .range(from..)
            .take_while(|(u, _, _)| u == username)
            .filter_map(|(_, _, id)| s.challenges.get(id).cloned())
            .collect())
    }
    fn challenges_to(
        &self,
        vpd: VpdCode,
        destination: &Destination,
        since: DateTime<Utc>,
    ) -> Result<Vec<Challenge>> {
        let s = &*self.state;
        let key = destination.index_key();
        let from = (vpd, key.clone(), since, ChallengeId::from_bytes([0; 16]));
        Ok(s.challenges_by_destination
            .range(from..)
            .take_while(|(v, k, _, _)| *v == vpd && *k == key)
            .filter_map(|(_, _, _, id)| s.challenges.get(id).cloned())
            .collect())
    }

    // ----- Outbox and retention ---------------------------------------------------------------
    fn queue_message(&mut self, m: &OutboxMessage) -> Result<()> {
        if self.state.outbox.contains_key(&m.key) {
            return Err(Error::Storage(format!(
                "a message with idempotency key {} is already queued",
                m.key
            )));
        }
        set_outbox(self.state, m.key, Some(m.clone()));
        self.undo.push(Undo::Outbox(m.key, None));
        Ok(())
    }
    fn outbox_message(&self, key: &ChallengeId) -> Result<Option<OutboxMessage>> {
        Ok(self.state.outbox.get(key).cloned())
    }
    fn update_message(&mut self, m: &OutboxMessage) -> Result<()> {
        match self.state.outbox.get(&m.key) {
            None => {
                return Err(Error::Storage(format!(
                    "no message with idempotency key {} is queued",
                    m.key
                )));
            }
            Some(old) if old.status != OutboxStatus::Pending => {
                return Err(Error::Storage(format!(
                    "message {} is already {}; a message is settled only once",
                    m.key,
                    old.status.as_str()
                )));
            }
            Some(_) => {}
        }
        let old = set_outbox(self.state, m.key, Some(m.clone()));
        self.undo.push(Undo::Outbox(m.key, old));
        Ok(())
    }
    fn due_messages(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxMessage>> {
        let s = &*self.state;
        Ok(s.outbox_due
            .iter()
            .take_while(|(t, _)| *t <= now)
            .take(limit)
            .filter_map(|(_, k)| s.outbox.get(k).cloned())
            .collect())
    }
    fn purge(&mut self, vpd: VpdCode, cut: &PurgeCutoffs) -> Result<PurgeCounts> {
        let mut counts = PurgeCounts::default();
        let s = &mut *self.state;
        let ids: Vec<ChallengeId> = s
            .challenges
            .values()
            .filter(|c| c.vpd == vpd && crate::store::challenge_purgeable(c, cut))
            .map(|c| c.id)
            .collect();
        for id in ids {
            if let Some(c) = remove_challenge(s, &id) {
                self.undo.push(Undo::ChallengeRemoved(c));
                counts.challenges += 1;
            }
        }
        let ids: Vec<SessionKey> = s
            .sessions
            .values()
            .filter(|x| x.vpd == vpd && crate::store::session_purgeable(x, cut))
            .map(|x| x.key)
            .collect();
        for id in ids {
            if let Some(x) = s.sessions.remove(&id) {
                if let Some(v) = s.sessions_by_user.get_mut(&x.username) {
                    v.retain(|i| *i != id);
                    if v.is_empty() {
                        s.sessions_by_user.remove(&x.username);
                    }
                }
                self.undo.push(Undo::SessionRemoved(x));
                counts.sessions += 1;
            }
        }
        let keys: Vec<ChallengeId> = s
            .outbox
            .values()
            .filter(|m| m.vpd == vpd && crate::store::message_purgeable(m, cut))
            .map(|m| m.key)
            .collect();
        for k in keys {
            let old = set_outbox(s, k, None);
            self.undo.push(Undo::Outbox(k, old));
            counts.messages += 1;
        }
        Ok(counts)
    }

    fn append_audit(&mut self, entry: &AuditEntry) -> Result<()> {
        self.append_audit_owned(entry.clone())
    }
    fn append_audit_owned(&mut self, entry: AuditEntry) -> Result<()> {
        let vpd = entry.vpd;
        let trail = self.state.audit.entry(vpd).or_default();
        let next = trail.last().map_or(1, |e| e.seq + 1);
        if entry.seq != next {
            return Err(Error::Storage(format!(
                "audit entry {} is out of sequence for trust {vpd} (next is {next})",
                entry.seq
            )));
        }
        trail.push(entry);
        self.undo.push(Undo::Audit(vpd));
        Ok(())
    }
    fn last_audit(&self, vpd: VpdCode) -> Result<Option<AuditEntry>> {
        Ok(self.state.audit.get(&vpd).and_then(|v| v.last()).cloned())
    }
    fn audit_head(&self, vpd: VpdCode) -> Result<AuditHead> {
        Ok(self
            .state
            .audit
            .get(&vpd)
            .and_then(|v| v.last())
            .map_or(AuditHead::EMPTY, |e| AuditHead {
                seq: e.seq,
                hash: e.hash,
            }))
    }
    fn audit_entries(&self, vpd: VpdCode, from: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        Ok(self
            .state
            .audit
            .get(&vpd)
            .map(|v| {
                // The trail may start after 1 once a prefix was archived.
                let first = v.first().map_or(1, |e| e.seq);
                let start = usize::try_from(from.saturating_sub(first)).unwrap_or(usize::MAX);
                v.iter_from(start).take(limit).cloned().collect()
            })
            .unwrap_or_default())
    }

    // ----- Audit checkpoints and archive -----------------------------------------------------
    fn put_audit_checkpoint(&mut self, checkpoint: &AuditCheckpoint) -> Result<()> {
        let k = (checkpoint.vpd, checkpoint.seq);
        let old = self.state.audit_checkpoints.insert(k, checkpoint.clone());
        self.undo.push(Undo::AuditCheckpoint(k, old));
        Ok(())
    }
    fn audit_checkpoints(&self, vpd: VpdCode) -> Result<Vec<AuditCheckpoint>> {
        Ok(self
            .state
            .audit_checkpoints
            .range((vpd, 0)..=(vpd, u64::MAX))
            .map(|(_, c)| c.clone())
            .collect())
    }
    fn remove_audit_before(&mut self, vpd: VpdCode, before: u64) -> Result<u64> {
        let Some(trail) = self.state.audit.get_mut(&vpd) else {
            return Err(Error::Storage(format!(
                "trust {vpd} has no audit entries to remove"
            )));
        };
        let (first, last) = match (trail.first(), trail.last()) {
            (Some(f), Some(l)) => (f.seq, l.seq),
            _ => (1, 0),
        };
        if before > last {
            return Err(Error::Storage(format!(
                "cannot remove the audit entries of trust {vpd} before {before}: the newest is {last}, and the trail is never emptied"
            )));
        }
        let n = usize::try_from(before.saturating_sub(first)).unwrap_or(usize::MAX);
        if n == 0 {
            return Ok(0);
        }
        let prefix = trail.drain_prefix(n);
        let removed = prefix.len() as u64;
        self.undo.push(Undo::AuditPrefix(vpd, prefix));
        Ok(removed)
    }

    // ----- Compliance ----------------------------------------------------------------------
    fn competence_definition(
        &self,
        vpd: VpdCode,
        name: &CompetenceName,
    ) -> Result<Option<CompetenceDefinition>> {
        let t = self.state.compliance.trust(vpd);
        Ok(t.and_then(|t| t.definitions.get(name)).cloned())
    }
    fn put_competence_definition(
        &mut self,
        vpd: VpdCode,
        definition: &CompetenceDefinition,
    ) -> Result<()> {
        let t = self.state.compliance.trust_mut(vpd);
        let old = t
            .definitions
            .insert(definition.name.clone(), definition.clone());
        self.undo.push(Undo::Compliance(ComplianceUndo::Definition(
            vpd,
            definition.name.clone(),
            old,
        )));
        Ok(())
    }
    fn delete_competence_definition(
        &mut self,
        vpd: VpdCode,
        name: &CompetenceName,
    ) -> Result<bool> {
        let old = self
            .state
            .compliance
            .trust_mut(vpd)
            .definitions
            .remove(name);
        let found = old.is_some();
        if found {
            self.undo.push(Undo::Compliance(ComplianceUndo::Definition(
                vpd,
                name.clone(),
                old,
            )));
        }
        Ok(found)
    }
    fn competence_definitions(&self, vpd: VpdCode) -> Result<Vec<CompetenceDefinition>> {
        let t = self.state.compliance.trust(vpd);
        Ok(t.map(|t| t.definitions.values().cloned().collect())
            .unwrap_or_default())
    }

    fn put_requirement(&mut self, r: &Requirement) -> Result<()> {
        let k = (r.target.clone(), r.competence.clone());
        let old = self
            .state
            .compliance
            .trust_mut(r.vpd)
            .requirements
            .insert(k.clone(), r.clone());
        self.undo
            .push(Undo::Compliance(ComplianceUndo::Requirement(r.vpd, k, old)));
        Ok(())
    }
    fn delete_requirement(
        &mut self,
        vpd: VpdCode,
        target: &RequirementTarget,
        competence: &CompetenceName,
    ) -> Result<bool> {
        let k = (target.clone(), competence.clone());
        let old = self.state.compliance.trust_mut(vpd).requirements.remove(&k);
        let found = old.is_some();
        if found {
            self.undo
                .push(Undo::Compliance(ComplianceUndo::Requirement(vpd, k, old)));
        }
        Ok(found)
    }
    fn requirements(&self, vpd: VpdCode) -> Result<Vec<Requirement>> {
        let t = self.state.compliance.trust(vpd);
        Ok(t.map(|t| t.requirements.values().cloned().collect())
            .unwrap_or_default())
    }

    fn put_equivalence(&mut self, e: &Equivalence) -> Result<()> {
        let added = self
            .state
            .compliance
            .trust_mut(e.vpd)
            .equivalences
            .insert(e.clone());
        if added {
            self.undo.push(Undo::Compliance(ComplianceUndo::Equivalence(
                e.clone(),
                false,
            )));
        }
        Ok(())
    }
    fn delete_equivalence(&mut self, e: &Equivalence) -> Result<bool> {
        let removed = self
            .state
            .compliance
            .trust_mut(e.vpd)
            .equivalences
            .remove(e);
        if removed {
            self.undo.push(Undo::Compliance(ComplianceUndo::Equivalence(
                e.clone(),
                true,
            )));
        }
        Ok(removed)
    }
    fn equivalences(&self, vpd: VpdCode) -> Result<Vec<Equivalence>> {
        let t = self.state.compliance.trust(vpd);
        Ok(t.map(|t| t.equivalences.iter().cloned().collect())
            .unwrap_or_default())
    }

    fn put_competence_record(&mut self, r: &CompetenceRecord) -> Result<()> {
        let k = (r.competence.clone(), r.achieved);
        let old = self
            .state
            .compliance
            .trust_mut(r.vpd)
            .records
            .entry(r.employee_number.clone())
            .or_default()
            .insert(k.clone(), r.clone());
        self.undo.push(Undo::Compliance(ComplianceUndo::Record(
            r.vpd,
            r.employee_number.clone(),
            k,
            old,
        )));
        Ok(())
    }
    fn delete_competence_record(
        &mut self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
        competence: &CompetenceName,
        achieved: NaiveDate,
    ) -> Result<bool> {
        let k = (competence.clone(), achieved);
        let t = self.state.compliance.trust_mut(vpd);
        let Some(person) = t.records.get_mut(employee) else {
            return Ok(false);
        };
        let old = person.remove(&k);
        if person.is_empty() {
            t.records.remove(employee);
        }
        let found = old.is_some();
        if found {
            self.undo.push(Undo::Compliance(ComplianceUndo::Record(
                vpd,
                employee.clone(),
                k,
                old,
            )));
        }
        Ok(found)
    }
    fn competence_records_of(
        &self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
    ) -> Result<Vec<CompetenceRecord>> {
        let t = self.state.compliance.trust(vpd);
        Ok(t.and_then(|t| t.records.get(employee))
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default())
    }
    fn competence_records(&self, vpd: VpdCode) -> Result<Vec<CompetenceRecord>> {
        let t = self.state.compliance.trust(vpd);
        Ok(t.map(|t| {
            t.records
                .values()
                .flat_map(|m| m.values().cloned())
                .collect()
        })
        .unwrap_or_default())
    }

    fn compliance_settings(&self, vpd: VpdCode) -> Result<Option<ComplianceSettings>> {
        Ok(self.state.compliance.trust(vpd).and_then(|t| t.settings))
    }
    fn put_compliance_settings(
        &mut self,
        vpd: VpdCode,
        settings: &ComplianceSettings,
    ) -> Result<()> {
        let t = self.state.compliance.trust_mut(vpd);
        let old = t.settings.replace(*settings);
        self.undo
            .push(Undo::Compliance(ComplianceUndo::Settings(vpd, old)));
        Ok(())
    }

    // ----- Certifications and enrolment --------------------------------------------------------
    fn certification(&self, vpd: VpdCode, name: &str) -> Result<Option<Certification>> {
        let t = self.state.learning.trust(vpd);
        Ok(t.and_then(|t| t.certifications.get(name)).cloned())
    }
    fn put_certification(&mut self, c: &Certification) -> Result<()> {
        let t = self.state.learning.trust_mut(c.vpd);
        let old = t.certifications.insert(c.name.clone(), c.clone());
        self.undo.push(Undo::Learning(LearningUndo::Certification(
            c.vpd,
            c.name.clone(),
            old,
        )));
        Ok(())
    }
    fn certifications(&self, vpd: VpdCode) -> Result<Vec<Certification>> {
        let t = self.state.learning.trust(vpd);
        Ok(t.map(|t| t.certifications.values().cloned().collect())
            .unwrap_or_default())
    }

    fn subscription(
        &self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
        certification: &str,
    ) -> Result<Option<Subscription>> {
        let t = self.state.learning.trust(vpd);
        let k = (employee.clone(), certification.to_owned());
        Ok(t.and_then(|t| t.subscriptions.get(&k)).cloned())
    }
    fn put_subscription(&mut self, s: &Subscription) -> Result<()> {
        let k = (s.employee_number.clone(), s.certification.clone());
        let t = self.state.learning.trust_mut(s.vpd);
        let old = t.subscriptions.insert(k.clone(), s.clone());
        self.undo
            .push(Undo::Learning(LearningUndo::Subscription(s.vpd, k, old)));
        Ok(())
    }
    fn subscriptions_of(
        &self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
    ) -> Result<Vec<Subscription>> {
        let t = self.state.learning.trust(vpd);
        Ok(t.map(|t| {
            t.subscriptions
                .range((employee.clone(), String::new())..)
                .take_while(|((e, _), _)| e == employee)
                .map(|(_, s)| s.clone())
                .collect()
        })
        .unwrap_or_default())
    }

    fn put_enrolment(&mut self, e: &Enrolment) -> Result<()> {
        let k = (
            e.employee_number.clone(),
            e.certification.clone(),
            e.cycle,
            e.course.clone(),
        );
        let t = self.state.learning.trust_mut(e.vpd);
        let old = t.enrolments.insert(k.clone(), e.clone());
        self.undo
            .push(Undo::Learning(LearningUndo::Enrolment(e.vpd, k, old)));
        Ok(())
    }
    fn enrolments_of(&self, vpd: VpdCode, employee: &EmployeeNumber) -> Result<Vec<Enrolment>> {
        let t = self.state.learning.trust(vpd);
        let mut v: Vec<Enrolment> = t
            .map(|t| {
                t.enrolments
                    .range((employee.clone(), String::new(), 0, String::new())..)
                    .take_while(|((e, ..), _)| e == employee)
                    .map(|(_, x)| x.clone())
                    .collect()
            })
            .unwrap_or_default();
        // Stable: ties keep the key order (certification, cycle, course).
        v.sort_by_key(|e| e.enrolled_at);
        Ok(v)
    }

    // ----- Notifications and approvals ----------------------------------------------------------
    fn notification(&self, vpd: VpdCode, id: &NotificationId) -> Result<Option<Notification>> {
        let t = self.state.notify.trust(vpd);
        Ok(t.and_then(|t| t.notifications.get(id)).cloned())
    }
    fn put_notification(&mut self, n: &Notification) -> Result<()> {
        let u = self.state.notify.put_notification(n)?;
        self.undo.push(Undo::Notify(u));
        Ok(())
    }
    fn notifications_of(&self, vpd: VpdCode, person: &EmployeeNumber) -> Result<Vec<Notification>> {
        let Some(t) = self.state.notify.trust(vpd) else {
            return Ok(Vec::new());
        };
        let lo = (person.clone(), NotificationId::from_bytes([0; 16]));
        let mut v: Vec<Notification> = t
            .by_person
            .range(lo..)
            .take_while(|(p, _)| p == person)
            .filter_map(|(_, id)| t.notifications.get(id).cloned())
            .collect();
        v.sort_by_key(|n| (n.raised_at, n.id));
        Ok(v)
    }
    fn pending_change(&self, vpd: VpdCode, id: &ChangeId) -> Result<Option<PendingChange>> {
        let t = self.state.notify.trust(vpd);
        Ok(t.and_then(|t| t.changes.get(id)).cloned())
    }
    fn put_pending_change(&mut self, c: &PendingChange) -> Result<()> {
        let u = self.state.notify.put_change(c)?;
        self.undo.push(Undo::Notify(u));
        Ok(())
    }
    fn pending_changes(&self, vpd: VpdCode) -> Result<Vec<PendingChange>> {
        let mut v: Vec<PendingChange> = self
            .state
            .notify
            .trust(vpd)
            .map(|t| t.changes.values().cloned().collect())
            .unwrap_or_default();
        v.sort_by_key(|c| (c.requested_at, c.id));
        Ok(v)
    }
    // ----- Workflows: access requests, URP reviews, competence claims ---------------------
    fn access_request(&self, vpd: VpdCode, id: &AccessRequestId) -> Result<Option<AccessRequest>> {
        let t = self.state.workflows.trust(vpd);
        Ok(t.and_then(|t| t.requests.get(id)).cloned())
    }
    fn put_access_request(&mut self, r: &AccessRequest) -> Result<()> {
        let old = self
            .state
            .workflows
            .trust_mut(r.vpd)
            .requests
            .insert(r.id, r.clone());
        self.undo
            .push(Undo::Workflow(WorkflowUndo::Request(r.vpd, r.id, old)));
        Ok(())
    }
    fn access_requests(&self, vpd: VpdCode) -> Result<Vec<AccessRequest>> {
        let t = self.state.workflows.trust(vpd);
        let mut v: Vec<AccessRequest> = t
            .map(|t| t.requests.values().cloned().collect())
            .unwrap_or_default();
        // Stable over id order: by time raised, then id.
        v.sort_by_key(|r| r.raised_at);
        Ok(v)
    }
    fn urp_review(&self, vpd: VpdCode, id: &UrpReviewId) -> Result<Option<UrpReview>> {
        let t = self.state.workflows.trust(vpd);
        Ok(t.and_then(|t| t.reviews.get(id)).cloned())
    }
    fn put_urp_review(&mut self, r: &UrpReview) -> Result<()> {
        let old = self
            .state
            .workflows
            .trust_mut(r.vpd)
            .reviews
            .insert(r.id, r.clone());
        self.undo
            .push(Undo::Workflow(WorkflowUndo::Review(r.vpd, r.id, old)));
        Ok(())
    }
    fn urp_reviews(&self, vpd: VpdCode) -> Result<Vec<UrpReview>> {
        let t = self.state.workflows.trust(vpd);
        let mut v: Vec<UrpReview> = t
            .map(|t| t.reviews.values().cloned().collect())
            .unwrap_or_default();
        v.sort_by_key(|r| r.opened_at);
        Ok(v)
    }
    fn competence_claim(
        &self,
        vpd: VpdCode,
        id: &CompetenceClaimId,
    ) -> Result<Option<CompetenceClaim>> {
        let t = self.state.workflows.trust(vpd);
        Ok(t.and_then(|t| t.claims.get(id)).cloned())
    }
    fn put_competence_claim(&mut self, c: &CompetenceClaim) -> Result<()> {
        let old = self
            .state
            .workflows
            .trust_mut(c.vpd)
            .claims
            .insert(c.id, c.clone());
        self.undo
            .push(Undo::Workflow(WorkflowUndo::Claim(c.vpd, c.id, old)));
        Ok(())
    }
    fn competence_claims(&self, vpd: VpdCode) -> Result<Vec<CompetenceClaim>> {
        let t = self.state.workflows.trust(vpd);
        let mut v: Vec<CompetenceClaim> = t
            .map(|t| t.claims.values().cloned().collect())
            .unwrap_or_default();
        v.sort_by_key(|c| c.claimed_at);
        Ok(v)
    }

    // ----- Authenticator apps ------------------------------------------------------------------

    fn authenticator(
        &self,
        username: &Username,
    ) -> Result<Option<crate::authenticator::Authenticator>> {
        Ok(self.state.authenticators.get(username).cloned())
    }

    fn put_authenticator(&mut self, a: &crate::authenticator::Authenticator) -> Result<()> {
        let old = self
            .state
            .authenticators
            .insert(a.username.clone(), a.clone());
        self.undo.push(Undo::Authenticator(a.username.clone(), old));
        Ok(())
    }

    fn delete_authenticator(&mut self, username: &Username) -> Result<bool> {
        let old = self.state.authenticators.remove(username);
        let had = old.is_some();
        if had {
            self.undo.push(Undo::Authenticator(username.clone(), old));
        }
        Ok(had)
    }

    fn advance_authenticator_step(&mut self, username: &Username, step: u64) -> Result<bool> {
        let Some(a) = self.state.authenticators.get_mut(username) else {
            return Ok(false);
        };
        if a.last_step.is_some_and(|last| last >= step) {
            return Ok(false);
        }
        let old = a.last_step.replace(step);
        self.undo
            .push(Undo::AuthenticatorStep(username.clone(), old));
        Ok(true)
    }
}

fn min_employee() -> EmployeeNumber {
    // The smallest valid employee number sorts before every other one.
    "000000".parse().unwrap_or_else(|_| unreachable!())
}

fn min_assignment() -> AssignmentNumber {
    "000000".parse().unwrap_or_else(|_| unreachable!())
}

#[cfg(test)]
mod tests;
