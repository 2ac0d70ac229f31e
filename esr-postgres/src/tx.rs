//! `StoreTx` on one open SQLite transaction.

use crate::competence;
use crate::table::OUTBOX;
use crate::table::{
    ACCOUNTS, ASSIGNMENTS, CERTIFICATIONS, CHALLENGES, COMPETENCE_DEFINITIONS, COMPLIANCE_SETTINGS,
    ENROLMENTS, EQUIVALENCES, GRANTS, PEOPLE, REQUIREMENTS, SESSIONS, SUBSCRIPTIONS, TRUSTS, key,
};
use crate::table::{NOTIFICATIONS, PENDING_CHANGES};
use crate::table::{from_json, to_json, unreadable};
use esr_core::authenticator::{Authenticator, SealedSecret, TotpParams};
use esr_core::chrono::{DateTime, NaiveDate, Utc};
use esr_core::notify::{ChangeStatus, Notification, NotificationState, PendingChange};
use esr_core::passcode::{OutboxMessage, OutboxPayload, OutboxStatus};
use esr_core::store::{PurgeCounts, PurgeCutoffs};
use esr_core::{
    AssignmentNumber, ChallengeId, EmailAddress, EmployeeNumber, Error, MobileNumber, Result,
    SessionKey, StoreTx, Username, VpdCode, access::Session, audit::AuditCheckpoint,
    audit::AuditEntry, audit::AuditHead, compliance::CompetenceDefinition,
    compliance::CompetenceName, compliance::CompetenceRecord, compliance::ComplianceSettings,
    compliance::Equivalence, compliance::Requirement, compliance::RequirementTarget,
    learning::Certification, learning::Enrolment, learning::Subscription, org::Trust,
    org::TrustSettings, passcode::Challenge, passcode::ChallengeStatus, passcode::Destination,
    people::Account, people::Assignment, people::PasswordHash, people::Person, urp::UrpGrant,
};
use esr_core::{ChangeId, NotificationId};
use postgres::types::ToSql;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
// Workflows: access requests, URP reviews, competence claims.
use crate::table::{ACCESS_REQUESTS, COMPETENCE_CLAIMS, URP_REVIEWS};
use esr_core::{
    compliance::CompetenceClaim,
    urp::{AccessRequest, UrpReview},
    values::{AccessRequestId, CompetenceClaimId, UrpReviewId},
};

/// A query parameter.
pub(crate) type Param = Box<dyn ToSql + Sync>;

/// One open database transaction. Its methods take `&self` (as the reads of [`StoreTx`] do),
/// so the transaction sits in a `RefCell`; a store transaction runs on one thread.
pub(crate) struct Tx<'a> {
    pub(crate) tx: RefCell<postgres::Transaction<'a>>,
    /// The connection's prepared statements, by SQL.
    statements: RefCell<&'a mut HashMap<String, postgres::Statement>>,
    /// Set when a statement failed for a conflict with another transaction (a serialization
    /// failure or deadlock): the store then runs the closure again, whatever it returned.
    pub(crate) conflict: Cell<bool>,
}

impl<'a> Tx<'a> {
    pub(crate) fn new(
        tx: postgres::Transaction<'a>,
        statements: &'a mut HashMap<String, postgres::Statement>,
    ) -> Self {
        Self {
            tx: RefCell::new(tx),
            statements: RefCell::new(statements),
            conflict: Cell::new(false),
        }
    }

    fn fail(&self, what: &str, doing: &str, e: &postgres::Error) -> Error {
        if crate::is_conflict(e) {
            self.conflict.set(true);
        }
        crate::storage_error(what, doing, e)
    }

    /// The statement for `sql`, prepared once per connection.
    fn prepared(
        &self,
        tx: &mut postgres::Transaction<'a>,
        sql: &str,
    ) -> std::result::Result<postgres::Statement, postgres::Error> {
        let mut cache = self.statements.borrow_mut();
        if let Some(st) = cache.get(sql) {
            return Ok(st.clone());
        }
        let st = tx.prepare(sql)?;
        cache.insert(sql.to_owned(), st.clone());
        Ok(st)
    }

    /// Runs a statement that returns rows.
    pub(crate) fn query(
        &self,
        what: &str,
        doing: &str,
        sql: &str,
        params: &[Param],
    ) -> Result<Vec<postgres::Row>> {
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| &**p).collect();
        let mut tx = self.tx.borrow_mut();
        let st = self
            .prepared(&mut tx, sql)
            .map_err(|e| self.fail(what, doing, &e))?;
        tx.query(&st, &refs).map_err(|e| self.fail(what, doing, &e))
    }

    /// Runs a statement that returns no rows; how many rows it changed.
    pub(crate) fn execute(
        &self,
        what: &str,
        doing: &str,
        sql: &str,
        params: &[Param],
    ) -> Result<u64> {
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| &**p).collect();
        let mut tx = self.tx.borrow_mut();
        let st = self
            .prepared(&mut tx, sql)
            .map_err(|e| self.fail(what, doing, &e))?;
        tx.execute(&st, &refs)
            .map_err(|e| self.fail(what, doing, &e))
    }

    /// The first column of the first row, if there is a row.
    fn one<T: for<'r> postgres::types::FromSql<'r>>(
        &self,
        what: &str,
        sql: &str,
        params: &[Param],
    ) -> Result<Option<T>> {
        self.query(what, "read", sql, params)?
            .first()
            .map(|r| r.try_get(0).map_err(|e| unreadable(what, &e.to_string())))
            .transpose()
    }
}

fn text(s: &str) -> Param {
    Box::new(s.to_owned())
}

/// An instant within PostgreSQL's range (4713 BC to 294276 AD): chrono's reaches further, and
/// the service asks for "everything since the beginning of time" with its minimum.
fn clamp(t: DateTime<Utc>) -> DateTime<Utc> {
    use esr_core::chrono::TimeZone;
    let lo = Utc.with_ymd_and_hms(-4000, 1, 1, 0, 0, 0).single();
    let hi = Utc.with_ymd_and_hms(200_000, 1, 1, 0, 0, 0).single();
    match (lo, hi) {
        (Some(lo), Some(hi)) => t.clamp(lo, hi),
        _ => t,
    }
}

fn ts(t: DateTime<Utc>) -> Param {
    Box::new(clamp(t))
}

fn null() -> Param {
    Box::new(None::<String>)
}

fn int(n: impl TryInto<i64>) -> Param {
    Box::new(n.try_into().unwrap_or(i64::MAX))
}

fn status_key(s: ChallengeStatus) -> &'static str {
    match s {
        ChallengeStatus::Pending => "pending",
        ChallengeStatus::Approved => "approved",
        ChallengeStatus::Superseded => "superseded",
        ChallengeStatus::Expired => "expired",
        ChallengeStatus::MaxAttemptsReached => "max_attempts_reached",
    }
}

/// A destination as stored in the secret column: exactly as given.
fn destination_secret(d: &Destination) -> String {
    match d {
        Destination::Mobile(m) => format!("sms:{}", m.expose_e164()),
        Destination::Email(e) => format!("email:{}", e.as_str()),
    }
}

fn destination_from_secret(s: &str) -> Result<Destination> {
    let bad = || Error::Storage("a stored challenge destination cannot be read".into());
    if let Some(n) = s.strip_prefix("sms:") {
        Ok(Destination::Mobile(
            n.parse::<MobileNumber>().map_err(|_| bad())?,
        ))
    } else if let Some(e) = s.strip_prefix("email:") {
        Ok(Destination::Email(
            e.parse::<EmailAddress>().map_err(|_| bad())?,
        ))
    } else {
        Err(bad())
    }
}

fn with_mobile((mut p, secret): (Person, Option<String>)) -> Result<Person> {
    p.mobile = secret
        .map(|m| {
            m.parse::<MobileNumber>()
                .map_err(|_| Error::Storage("a stored mobile number cannot be read".into()))
        })
        .transpose()?;
    Ok(p)
}

fn with_hash((mut a, secret): (Account, Option<String>)) -> Result<Account> {
    a.password_hash = secret
        .map(|h| {
            PasswordHash::from_phc(&h)
                .map_err(|_| Error::Storage("a stored password hash cannot be read".into()))
        })
        .transpose()?;
    Ok(a)
}

fn with_destination((mut c, secret): (Challenge, Option<String>)) -> Result<Challenge> {
    c.destination = secret.as_deref().map(destination_from_secret).transpose()?;
    Ok(c)
}

fn with_payload((mut m, secret): (OutboxMessage, Option<String>)) -> Result<OutboxMessage> {
    m.payload = secret
        .as_deref()
        .map(|s| OutboxPayload::from_stored(m.key, m.vpd, s))
        .transpose()?;
    Ok(m)
}

/// Writes a message, its payload in the secret column (none once settled).
fn put_message(conn: &Tx<'_>, m: &OutboxMessage) -> Result<()> {
    let secret = m.payload.as_ref().map(OutboxPayload::to_stored);
    let due: Param = match m.status {
        OutboxStatus::Pending => ts(m.next_attempt_at),
        _ => Box::new(None::<DateTime<Utc>>),
    };
    OUTBOX.put(
        conn,
        &m.key.to_string(),
        m.vpd.as_str(),
        vec![text(m.status.as_str()), due],
        m,
        secret.as_deref(),
    )
}

fn bodies<T>(docs: Vec<(T, Option<String>)>) -> Vec<T> {
    docs.into_iter().map(|(t, _)| t).collect()
}

/// The records of one person of a trust, from a table with an indexed `employee` column, in no
/// particular order (the caller sorts them into the order its contract gives).
fn of_employee<T: serde::de::DeserializeOwned>(
    conn: &Tx<'_>,
    table: &crate::table::Table,
    vpd: VpdCode,
    employee: &EmployeeNumber,
) -> Result<Vec<T>> {
    Ok(bodies(table.list::<T>(
        conn,
        "vpd = $1 AND employee = $2",
        "",
        vec![text(vpd.as_str()), text(employee.as_str())],
    )?))
}

fn email_key(e: &EmailAddress) -> String {
    e.as_str().to_ascii_lowercase()
}

fn target_key(t: &RequirementTarget) -> String {
    match t {
        RequirementTarget::Position(p) => format!("position:{p}"),
        RequirementTarget::OrgUnit(u) => format!("unit:{u}"),
        RequirementTarget::Job(j) => format!("job:{j}"),
    }
}

impl StoreTx for Tx<'_> {
    fn trust(&self, vpd: VpdCode) -> Result<Option<Trust>> {
        Ok(TRUSTS.get(self, vpd.as_str())?.map(|(t, _)| t))
    }
    fn trust_settings(&self, vpd: VpdCode) -> Result<Option<TrustSettings>> {
        // Only the settings, not the organisation units: every access decision reads them.
        let json: Option<serde_json::Value> = self.one(
            "trusts",
            "SELECT body -> 'settings' FROM trusts WHERE key = $1",
            &[text(vpd.as_str())],
        )?;
        json.map(|j| from_json("trust settings", j)).transpose()
    }
    fn put_trust(&mut self, trust: &Trust) -> Result<()> {
        let v = trust.vpd.as_str();
        TRUSTS.put(self, v, v, vec![], trust, None)
    }

    fn person(&self, vpd: VpdCode, employee: &EmployeeNumber) -> Result<Option<Person>> {
        PEOPLE
            .get(self, &key(&[vpd.as_str(), employee.as_str()]))?
            .map(with_mobile)
            .transpose()
    }
    fn put_person(&mut self, p: &Person) -> Result<()> {
        let mobile = p.mobile.as_ref().map(MobileNumber::expose_e164);
        PEOPLE.put(
            self,
            &key(&[p.vpd.as_str(), p.employee_number.as_str()]),
            p.vpd.as_str(),
            vec![
                text(p.employee_number.as_str()),
                Box::new(email_key(&p.recruitment_email)),
            ],
            p,
            mobile,
        )
    }
    fn people(&self, vpd: VpdCode) -> Result<Vec<Person>> {
        let mut v: Vec<Person> = PEOPLE
            .list(self, "vpd = $1", "", vec![text(vpd.as_str())])?
            .into_iter()
            .map(with_mobile)
            .collect::<Result<_>>()?;
        v.sort_by(|a, b| a.employee_number.cmp(&b.employee_number));
        Ok(v)
    }
    fn people_with_email(&self, vpd: VpdCode, email: &EmailAddress) -> Result<Vec<Person>> {
        let mut v: Vec<Person> = PEOPLE
            .list(
                self,
                "vpd = $1 AND email = $2",
                "",
                vec![text(vpd.as_str()), Box::new(email_key(email))],
            )?
            .into_iter()
            .map(with_mobile)
            .collect::<Result<_>>()?;
        v.sort_by(|a, b| a.employee_number.cmp(&b.employee_number));
        Ok(v)
    }

    fn account(&self, username: &Username) -> Result<Option<Account>> {
        ACCOUNTS
            .get(self, &username.to_string())?
            .map(with_hash)
            .transpose()
    }
    fn put_account(&mut self, a: &Account) -> Result<()> {
        let hash = a.password_hash.as_ref().map(PasswordHash::as_phc);
        ACCOUNTS.put(
            self,
            &a.username.to_string(),
            a.username.vpd().as_str(),
            vec![
                text(a.employee_number.as_str()),
                Box::new(a.state.to_string()),
            ],
            a,
            hash,
        )
    }

    fn assignment(&self, vpd: VpdCode, number: &AssignmentNumber) -> Result<Option<Assignment>> {
        Ok(ASSIGNMENTS
            .get(self, &key(&[vpd.as_str(), number.as_str()]))?
            .map(|(a, _)| a))
    }
    fn put_assignment(&mut self, a: &Assignment) -> Result<()> {
        ASSIGNMENTS.put(
            self,
            &key(&[a.vpd.as_str(), a.number.as_str()]),
            a.vpd.as_str(),
            vec![
                text(a.employee_number.as_str()),
                a.supervisor.as_ref().map_or(null(), |s| text(s.as_str())),
            ],
            a,
            None,
        )
    }
    fn assignments_of(&self, vpd: VpdCode, employee: &EmployeeNumber) -> Result<Vec<Assignment>> {
        let mut v = of_employee::<Assignment>(self, &ASSIGNMENTS, vpd, employee)?;
        v.sort_by(|a, b| a.number.cmp(&b.number));
        Ok(v)
    }
    fn assignments_reporting_to(
        &self,
        vpd: VpdCode,
        supervisor: &AssignmentNumber,
    ) -> Result<Vec<Assignment>> {
        let mut v = bodies(ASSIGNMENTS.list::<Assignment>(
            self,
            "vpd = $1 AND supervisor = $2",
            "",
            vec![text(vpd.as_str()), text(supervisor.as_str())],
        )?);
        v.sort_by(|a, b| a.number.cmp(&b.number));
        Ok(v)
    }

    fn put_grant(&mut self, g: &UrpGrant) -> Result<()> {
        GRANTS.put(
            self,
            &g.id.to_string(),
            g.vpd.as_str(),
            vec![Box::new(g.holder.to_string())],
            g,
            None,
        )
    }
    fn grants_of(&self, holder: &Username) -> Result<Vec<UrpGrant>> {
        Ok(bodies(GRANTS.list(
            self,
            "holder = $1",
            "ord",
            vec![Box::new(holder.to_string())],
        )?))
    }
    fn grants(&self, vpd: VpdCode) -> Result<Vec<UrpGrant>> {
        Ok(bodies(GRANTS.list(
            self,
            "vpd = $1",
            "ord",
            vec![text(vpd.as_str())],
        )?))
    }

    fn session(&self, key: &SessionKey) -> Result<Option<Session>> {
        Ok(SESSIONS.get(self, &session_key(key))?.map(|(s, _)| s))
    }
    fn put_session(&mut self, s: &Session) -> Result<()> {
        // Under the SHA-256 of the id; the body's serde form leaves the id out.
        SESSIONS.put(
            self,
            &session_key(&s.key),
            s.vpd.as_str(),
            vec![Box::new(s.username.to_string())],
            s,
            None,
        )
    }
    fn sessions_of(&self, username: &Username) -> Result<Vec<Session>> {
        Ok(bodies(SESSIONS.list(
            self,
            "username = $1",
            "ord",
            vec![Box::new(username.to_string())],
        )?))
    }

    fn challenge(&self, id: &ChallengeId) -> Result<Option<Challenge>> {
        CHALLENGES
            .get(self, &id.to_string())?
            .map(with_destination)
            .transpose()
    }
    fn put_challenge(&mut self, c: &Challenge) -> Result<()> {
        let id = c.id.to_string();
        let secret = c.destination.as_ref().map(destination_secret);
        let destination = c.destination.as_ref().map(Destination::index_key);
        let body = to_json("challenges", c)?;
        // Consumption: one conditional update, which changes the row only while it is pending
        // and its indexed fields are as stored. Under SERIALIZABLE a concurrent consumption
        // that committed first makes this one fail with a serialization failure, and the
        // store runs the transaction again: it then reads the challenge as settled.
        let changed = self.execute(
            "challenges",
            "update",
            "UPDATE challenges SET status = $2, body = $3, secret = $4 \
             WHERE key = $1 AND status = 'pending' AND username = $5 \
             AND destination IS NOT DISTINCT FROM $6 AND issued_at = $7",
            &[
                text(&id),
                text(status_key(c.status)),
                Box::new(body),
                Box::new(secret.clone()),
                Box::new(c.username.to_string()),
                Box::new(destination.clone()),
                ts(c.issued_at),
            ],
        )?;
        if changed == 1 {
            return Ok(());
        }
        let stored: Option<String> = self.one(
            "challenges",
            "SELECT status FROM challenges WHERE key = $1",
            &[text(&id)],
        )?;
        match stored {
            None => CHALLENGES.put(
                self,
                &id,
                c.vpd.as_str(),
                vec![
                    Box::new(c.username.to_string()),
                    Box::new(destination),
                    ts(c.issued_at),
                    text(status_key(c.status)),
                ],
                c,
                secret.as_deref(),
            ),
            Some(s) if s == "pending" => Err(Error::Storage(
                "a challenge's user, destination and issue time cannot change".into(),
            )),
            Some(s) => Err(Error::Storage(format!(
                "challenge {id} is already {}; a challenge is settled only once (another \
                 request consumed it first)",
                s.replace('_', " ")
            ))),
        }
    }
    fn challenges_of(&self, username: &Username, since: DateTime<Utc>) -> Result<Vec<Challenge>> {
        CHALLENGES
            .list(
                self,
                "username = $1 AND issued_at >= $2",
                "issued_at, key",
                vec![Box::new(username.to_string()), ts(since)],
            )?
            .into_iter()
            .map(with_destination)
            .collect()
    }
    fn challenges_to(
        &self,
        vpd: VpdCode,
        destination: &Destination,
        since: DateTime<Utc>,
    ) -> Result<Vec<Challenge>> {
        CHALLENGES
            .list(
                self,
                "vpd = $1 AND destination = $2 AND issued_at >= $3",
                "issued_at, key",
                vec![
                    text(vpd.as_str()),
                    Box::new(destination.index_key()),
                    ts(since),
                ],
            )?
            .into_iter()
            .map(with_destination)
            .collect()
    }

    // ----- Outbox and retention ---------------------------------------------------------------
    fn queue_message(&mut self, m: &OutboxMessage) -> Result<()> {
        if OUTBOX
            .get::<OutboxMessage>(self, &m.key.to_string())?
            .is_some()
        {
            return Err(Error::Storage(format!(
                "a message with idempotency key {} is already queued",
                m.key
            )));
        }
        put_message(self, m)
    }
    fn outbox_message(&self, k: &ChallengeId) -> Result<Option<OutboxMessage>> {
        OUTBOX
            .get(self, &k.to_string())?
            .map(with_payload)
            .transpose()
    }
    fn update_message(&mut self, m: &OutboxMessage) -> Result<()> {
        let stored: Option<String> = self.one(
            "outbox",
            "SELECT status FROM outbox WHERE key = $1",
            &[Box::new(m.key.to_string())],
        )?;
        match stored.as_deref() {
            None => Err(Error::Storage(format!(
                "no message with idempotency key {} is queued",
                m.key
            ))),
            Some("pending") => put_message(self, m),
            Some(s) => Err(Error::Storage(format!(
                "message {} is already {s}; a message is settled only once",
                m.key
            ))),
        }
    }
    fn due_messages(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxMessage>> {
        OUTBOX
            .list(
                self,
                "status = 'pending' AND due <= $1",
                "due, key LIMIT $2",
                vec![ts(now), int(limit)],
            )?
            .into_iter()
            .map(with_payload)
            .collect()
    }
    fn purge(&mut self, vpd: VpdCode, cut: &PurgeCutoffs) -> Result<PurgeCounts> {
        let mut counts = PurgeCounts::default();
        // A record finishes at or after it began, so only those begun before the cutoff are
        // read; the rule itself is the core's.
        let challenges: Vec<(Challenge, Option<String>)> = CHALLENGES.list(
            self,
            "vpd = $1 AND issued_at < $2",
            "",
            vec![text(vpd.as_str()), ts(cut.challenges)],
        )?;
        for (c, _) in challenges {
            if esr_core::store::challenge_purgeable(&c, cut)
                && CHALLENGES.delete(self, &c.id.to_string())?
            {
                counts.challenges += 1;
            }
        }
        let sessions: Vec<(Session, Option<String>)> =
            SESSIONS.list(self, "vpd = $1", "", vec![text(vpd.as_str())])?;
        for (x, _) in sessions {
            if esr_core::store::session_purgeable(&x, cut)
                && SESSIONS.delete(self, &session_key(&x.key))?
            {
                counts.sessions += 1;
            }
        }
        let messages: Vec<(OutboxMessage, Option<String>)> =
            OUTBOX.list(self, "vpd = $1", "", vec![text(vpd.as_str())])?;
        for (m, _) in messages {
            if esr_core::store::message_purgeable(&m, cut)
                && OUTBOX.delete(self, &m.key.to_string())?
            {
                counts.messages += 1;
            }
        }
        Ok(counts)
    }

    fn append_audit(&mut self, entry: &AuditEntry) -> Result<()> {
        let v = entry.vpd.as_str();
        let last: Option<i64> = self
            .one::<Option<i64>>(
                "audit",
                "SELECT max(seq) FROM audit WHERE vpd = $1",
                &[text(v)],
            )?
            .flatten();
        let next = last.map_or(1, |s| s.saturating_add(1));
        if i64::try_from(entry.seq).ok() != Some(next) {
            return Err(Error::Storage(format!(
                "audit entry {} is out of sequence for trust {} (next is {next})",
                entry.seq, entry.vpd
            )));
        }
        let body = to_json("audit", entry)?;
        self.execute(
            "audit",
            "append",
            "INSERT INTO audit (vpd, seq, at, hash, body) VALUES ($1, $2, $3, $4, $5)",
            &[
                text(v),
                Box::new(next),
                ts(entry.at),
                Box::new(entry.hash.to_string()),
                Box::new(body),
            ],
        )?;
        Ok(())
    }
    fn last_audit(&self, vpd: VpdCode) -> Result<Option<AuditEntry>> {
        let body: Option<serde_json::Value> = self.one(
            "audit",
            "SELECT body FROM audit WHERE vpd = $1 ORDER BY seq DESC LIMIT 1",
            &[text(vpd.as_str())],
        )?;
        body.map(|b| from_json("audit", b)).transpose()
    }
    fn audit_head(&self, vpd: VpdCode) -> Result<AuditHead> {
        // The newest entry's seq and hash only, without decoding the whole entry: every
        // audited change reads it to chain its entry.
        let rows = self.query(
            "audit",
            "read",
            "SELECT seq, hash FROM audit WHERE vpd = $1 ORDER BY seq DESC LIMIT 1",
            &[text(vpd.as_str())],
        )?;
        let Some(row) = rows.first() else {
            return Ok(AuditHead::EMPTY);
        };
        let seq: i64 = row
            .try_get(0)
            .map_err(|e| unreadable("audit", &e.to_string()))?;
        let hash: String = row
            .try_get(1)
            .map_err(|e| unreadable("audit", &e.to_string()))?;
        Ok(AuditHead {
            seq: u64::try_from(seq)
                .map_err(|_| Error::Storage(format!("audit entry {seq} has a negative seq")))?,
            hash: hash.parse().map_err(|e| {
                Error::Storage(format!("audit entry {seq} has an unreadable hash: {e}"))
            })?,
        })
    }
    fn audit_entries(&self, vpd: VpdCode, from: u64, limit: usize) -> Result<Vec<AuditEntry>> {
        self.query(
            "audit",
            "read",
            "SELECT body FROM audit WHERE vpd = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
            &[text(vpd.as_str()), int(from), int(limit)],
        )?
        .iter()
        .map(|r| {
            let b: serde_json::Value = r
                .try_get(0)
                .map_err(|e| unreadable("audit", &e.to_string()))?;
            from_json("audit", b)
        })
        .collect()
    }

    // ----- Audit checkpoints and archive -----------------------------------------------------
    fn put_audit_checkpoint(&mut self, checkpoint: &AuditCheckpoint) -> Result<()> {
        let body = to_json("audit checkpoints", checkpoint)?;
        self.execute(
            "audit checkpoints",
            "write",
            "INSERT INTO audit_checkpoints (vpd, seq, body) VALUES ($1, $2, $3) \
             ON CONFLICT (vpd, seq) DO UPDATE SET body = excluded.body",
            &[
                text(checkpoint.vpd.as_str()),
                int(checkpoint.seq),
                Box::new(body),
            ],
        )?;
        Ok(())
    }
    fn audit_checkpoints(&self, vpd: VpdCode) -> Result<Vec<AuditCheckpoint>> {
        self.query(
            "audit checkpoints",
            "read",
            "SELECT body FROM audit_checkpoints WHERE vpd = $1 ORDER BY seq",
            &[text(vpd.as_str())],
        )?
        .iter()
        .map(|r| {
            let b: serde_json::Value = r
                .try_get(0)
                .map_err(|e| unreadable("audit checkpoints", &e.to_string()))?;
            from_json("audit checkpoints", b)
        })
        .collect()
    }
    fn remove_audit_before(&mut self, vpd: VpdCode, before: u64) -> Result<u64> {
        let v = vpd.as_str();
        let last: Option<i64> = self
            .one::<Option<i64>>(
                "audit",
                "SELECT max(seq) FROM audit WHERE vpd = $1",
                &[text(v)],
            )?
            .flatten();
        let before_i = i64::try_from(before).unwrap_or(i64::MAX);
        if last.is_none_or(|l| before_i > l) {
            return Err(Error::Storage(format!(
                "cannot remove the audit entries of trust {vpd} before {before}: the newest is {}, and the trail is never emptied",
                last.unwrap_or(0)
            )));
        }
        // The boundary first: the delete trigger lets through only entries below it.
        self.execute(
            "audit",
            "record the archive boundary",
            "INSERT INTO audit_archived (vpd, before) VALUES ($1, $2) \
             ON CONFLICT (vpd) DO UPDATE SET before = greatest(audit_archived.before, excluded.before)",
            &[text(v), Box::new(before_i)],
        )?;
        self.execute(
            "audit",
            "remove an archived prefix",
            "DELETE FROM audit WHERE vpd = $1 AND seq < $2",
            &[text(v), Box::new(before_i)],
        )
    }

    // ----- Compliance ----------------------------------------------------------------------
    fn competence_definition(
        &self,
        vpd: VpdCode,
        name: &CompetenceName,
    ) -> Result<Option<CompetenceDefinition>> {
        Ok(COMPETENCE_DEFINITIONS
            .get(self, &key(&[vpd.as_str(), name.as_str()]))?
            .map(|(d, _)| d))
    }
    fn put_competence_definition(&mut self, vpd: VpdCode, d: &CompetenceDefinition) -> Result<()> {
        COMPETENCE_DEFINITIONS.put(
            self,
            &key(&[vpd.as_str(), d.name.as_str()]),
            vpd.as_str(),
            vec![],
            d,
            None,
        )
    }
    fn delete_competence_definition(
        &mut self,
        vpd: VpdCode,
        name: &CompetenceName,
    ) -> Result<bool> {
        COMPETENCE_DEFINITIONS.delete(self, &key(&[vpd.as_str(), name.as_str()]))
    }
    fn competence_definitions(&self, vpd: VpdCode) -> Result<Vec<CompetenceDefinition>> {
        let mut v = bodies(COMPETENCE_DEFINITIONS.list::<CompetenceDefinition>(
            self,
            "vpd = $1",
            "",
            vec![text(vpd.as_str())],
        )?);
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }

    fn put_requirement(&mut self, r: &Requirement) -> Result<()> {
        REQUIREMENTS.put(
            self,
            &key(&[
                r.vpd.as_str(),
                &target_key(&r.target),
                r.competence.as_str(),
            ]),
            r.vpd.as_str(),
            vec![],
            r,
            None,
        )
    }
    fn delete_requirement(
        &mut self,
        vpd: VpdCode,
        target: &RequirementTarget,
        competence: &CompetenceName,
    ) -> Result<bool> {
        REQUIREMENTS.delete(
            self,
            &key(&[vpd.as_str(), &target_key(target), competence.as_str()]),
        )
    }
    fn requirements(&self, vpd: VpdCode) -> Result<Vec<Requirement>> {
        let mut v = bodies(REQUIREMENTS.list::<Requirement>(
            self,
            "vpd = $1",
            "",
            vec![text(vpd.as_str())],
        )?);
        v.sort_by(|a, b| (&a.target, &a.competence).cmp(&(&b.target, &b.competence)));
        Ok(v)
    }

    fn put_equivalence(&mut self, e: &Equivalence) -> Result<()> {
        EQUIVALENCES.put(self, &equivalence_key(e), e.vpd.as_str(), vec![], e, None)
    }
    fn delete_equivalence(&mut self, e: &Equivalence) -> Result<bool> {
        EQUIVALENCES.delete(self, &equivalence_key(e))
    }
    fn equivalences(&self, vpd: VpdCode) -> Result<Vec<Equivalence>> {
        let mut v = bodies(EQUIVALENCES.list::<Equivalence>(
            self,
            "vpd = $1",
            "",
            vec![text(vpd.as_str())],
        )?);
        v.sort();
        Ok(v)
    }

    fn put_competence_record(&mut self, r: &CompetenceRecord) -> Result<()> {
        competence::put_many(self, std::slice::from_ref(r))
    }
    fn put_competence_records(&mut self, records: &[CompetenceRecord]) -> Result<()> {
        // Multi-row statements on a table with no index but its key: an import of hundreds
        // of thousands of rows holds the write lock for as little as it can.
        competence::put_many(self, records)
    }
    fn delete_competence_record(
        &mut self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
        competence: &CompetenceName,
        achieved: NaiveDate,
    ) -> Result<bool> {
        competence::delete(self, vpd, employee, competence, achieved)
    }
    fn competence_records_of(
        &self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
    ) -> Result<Vec<CompetenceRecord>> {
        let mut v = competence::of_employee(self, vpd, employee)?;
        v.sort_by(|a, b| (&a.competence, a.achieved).cmp(&(&b.competence, b.achieved)));
        Ok(v)
    }
    fn competence_records(&self, vpd: VpdCode) -> Result<Vec<CompetenceRecord>> {
        let mut v = competence::of_trust(self, vpd)?;
        v.sort_by(|a, b| {
            (&a.employee_number, &a.competence, a.achieved).cmp(&(
                &b.employee_number,
                &b.competence,
                b.achieved,
            ))
        });
        Ok(v)
    }

    fn compliance_settings(&self, vpd: VpdCode) -> Result<Option<ComplianceSettings>> {
        Ok(COMPLIANCE_SETTINGS.get(self, vpd.as_str())?.map(|(s, _)| s))
    }
    fn put_compliance_settings(
        &mut self,
        vpd: VpdCode,
        settings: &ComplianceSettings,
    ) -> Result<()> {
        COMPLIANCE_SETTINGS.put(self, vpd.as_str(), vpd.as_str(), vec![], settings, None)
    }

    fn certification(&self, vpd: VpdCode, name: &str) -> Result<Option<Certification>> {
        Ok(CERTIFICATIONS
            .get(self, &key(&[vpd.as_str(), name]))?
            .map(|(c, _)| c))
    }
    fn put_certification(&mut self, c: &Certification) -> Result<()> {
        CERTIFICATIONS.put(
            self,
            &key(&[c.vpd.as_str(), &c.name]),
            c.vpd.as_str(),
            vec![],
            c,
            None,
        )
    }
    fn certifications(&self, vpd: VpdCode) -> Result<Vec<Certification>> {
        let mut v = bodies(CERTIFICATIONS.list::<Certification>(
            self,
            "vpd = $1",
            "",
            vec![text(vpd.as_str())],
        )?);
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }

    fn subscription(
        &self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
        certification: &str,
    ) -> Result<Option<Subscription>> {
        Ok(SUBSCRIPTIONS
            .get(
                self,
                &key(&[vpd.as_str(), employee.as_str(), certification]),
            )?
            .map(|(s, _)| s))
    }
    fn put_subscription(&mut self, s: &Subscription) -> Result<()> {
        SUBSCRIPTIONS.put(
            self,
            &key(&[s.vpd.as_str(), s.employee_number.as_str(), &s.certification]),
            s.vpd.as_str(),
            vec![text(s.employee_number.as_str())],
            s,
            None,
        )
    }
    fn subscriptions_of(
        &self,
        vpd: VpdCode,
        employee: &EmployeeNumber,
    ) -> Result<Vec<Subscription>> {
        let mut v = of_employee::<Subscription>(self, &SUBSCRIPTIONS, vpd, employee)?;
        v.sort_by(|a, b| a.certification.cmp(&b.certification));
        Ok(v)
    }

    fn put_enrolment(&mut self, e: &Enrolment) -> Result<()> {
        ENROLMENTS.put(
            self,
            &key(&[
                e.vpd.as_str(),
                e.employee_number.as_str(),
                &e.certification,
                &format!("{:010}", e.cycle),
                &e.course,
            ]),
            e.vpd.as_str(),
            vec![text(e.employee_number.as_str())],
            e,
            None,
        )
    }
    fn enrolments_of(&self, vpd: VpdCode, employee: &EmployeeNumber) -> Result<Vec<Enrolment>> {
        let mut v = of_employee::<Enrolment>(self, &ENROLMENTS, vpd, employee)?;
        // Oldest first; ties in key order (certification, cycle, course), as the contract says.
        v.sort_by(|a, b| {
            (a.enrolled_at, &a.certification, a.cycle, &a.course).cmp(&(
                b.enrolled_at,
                &b.certification,
                b.cycle,
                &b.course,
            ))
        });
        Ok(v)
    }

    // ----- Notifications and approvals (wf-notify) -----
    fn notification(&self, vpd: VpdCode, id: &NotificationId) -> Result<Option<Notification>> {
        self.notification_of(vpd, id)
    }
    fn put_notification(&mut self, n: &Notification) -> Result<()> {
        self.put_notification_row(n)
    }
    fn notifications_of(&self, vpd: VpdCode, person: &EmployeeNumber) -> Result<Vec<Notification>> {
        let mut v = of_employee::<Notification>(self, &NOTIFICATIONS, vpd, person)?;
        v.sort_by_key(|n| (n.raised_at, n.id));
        Ok(v)
    }
    fn pending_change(&self, vpd: VpdCode, id: &ChangeId) -> Result<Option<PendingChange>> {
        Ok(PENDING_CHANGES
            .get(self, &key(&[vpd.as_str(), &id.to_string()]))?
            .map(|(c, _)| c))
    }
    fn put_pending_change(&mut self, c: &PendingChange) -> Result<()> {
        self.put_change_row(c)
    }
    fn pending_changes(&self, vpd: VpdCode) -> Result<Vec<PendingChange>> {
        let mut v = bodies(PENDING_CHANGES.list::<PendingChange>(
            self,
            "vpd = $1",
            "",
            vec![text(vpd.as_str())],
        )?);
        v.sort_by_key(|c| (c.requested_at, c.id));
        Ok(v)
    }

    // ----- Workflows: access requests, URP reviews, competence claims ---------------------
    fn access_request(&self, vpd: VpdCode, id: &AccessRequestId) -> Result<Option<AccessRequest>> {
        Ok(ACCESS_REQUESTS
            .get(self, &key(&[vpd.as_str(), &id.to_string()]))?
            .map(|(r, _)| r))
    }
    fn put_access_request(&mut self, r: &AccessRequest) -> Result<()> {
        ACCESS_REQUESTS.put(
            self,
            &key(&[r.vpd.as_str(), &r.id.to_string()]),
            r.vpd.as_str(),
            vec![ts(r.raised_at)],
            r,
            None,
        )
    }
    fn access_requests(&self, vpd: VpdCode) -> Result<Vec<AccessRequest>> {
        Ok(bodies(ACCESS_REQUESTS.list(
            self,
            "vpd = $1",
            "at, key",
            vec![text(vpd.as_str())],
        )?))
    }
    fn urp_review(&self, vpd: VpdCode, id: &UrpReviewId) -> Result<Option<UrpReview>> {
        Ok(URP_REVIEWS
            .get(self, &key(&[vpd.as_str(), &id.to_string()]))?
            .map(|(r, _)| r))
    }
    fn put_urp_review(&mut self, r: &UrpReview) -> Result<()> {
        URP_REVIEWS.put(
            self,
            &key(&[r.vpd.as_str(), &r.id.to_string()]),
            r.vpd.as_str(),
            vec![ts(r.opened_at)],
            r,
            None,
        )
    }
    fn urp_reviews(&self, vpd: VpdCode) -> Result<Vec<UrpReview>> {
        Ok(bodies(URP_REVIEWS.list(
            self,
            "vpd = $1",
            "at, key",
            vec![text(vpd.as_str())],
        )?))
    }
    fn competence_claim(
        &self,
        vpd: VpdCode,
        id: &CompetenceClaimId,
    ) -> Result<Option<CompetenceClaim>> {
        Ok(COMPETENCE_CLAIMS
            .get(self, &key(&[vpd.as_str(), &id.to_string()]))?
            .map(|(c, _)| c))
    }
    fn put_competence_claim(&mut self, c: &CompetenceClaim) -> Result<()> {
        COMPETENCE_CLAIMS.put(
            self,
            &key(&[c.vpd.as_str(), &c.id.to_string()]),
            c.vpd.as_str(),
            vec![ts(c.claimed_at)],
            c,
            None,
        )
    }
    fn competence_claims(&self, vpd: VpdCode) -> Result<Vec<CompetenceClaim>> {
        Ok(bodies(COMPETENCE_CLAIMS.list(
            self,
            "vpd = $1",
            "at, key",
            vec![text(vpd.as_str())],
        )?))
    }

    // ----- Authenticator apps ------------------------------------------------------------------

    fn authenticator(&self, username: &Username) -> Result<Option<Authenticator>> {
        let rows = self.query(
            "authenticators",
            "read",
            "SELECT vpd, key_id, nonce, ciphertext, algorithm, digits, period, enrolled_at, \
             activated_at, last_step FROM authenticators WHERE username = $1",
            &[Box::new(username.to_string())],
        )?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        let bad = |e: postgres::Error| unreadable("authenticators", &e.to_string());
        let row = AuthenticatorRow {
            vpd: r.try_get(0).map_err(bad)?,
            key_id: r.try_get(1).map_err(bad)?,
            nonce: r.try_get(2).map_err(bad)?,
            ciphertext: r.try_get(3).map_err(bad)?,
            algorithm: r.try_get(4).map_err(bad)?,
            digits: r.try_get(5).map_err(bad)?,
            period: r.try_get(6).map_err(bad)?,
            enrolled_at: r.try_get(7).map_err(bad)?,
            activated_at: r.try_get(8).map_err(bad)?,
            last_step: r.try_get(9).map_err(bad)?,
        };
        row.into_authenticator(username).map(Some)
    }

    fn put_authenticator(&mut self, a: &Authenticator) -> Result<()> {
        let last_step = a.last_step.map(i64::try_from).transpose().map_err(|_| {
            Error::Storage("an authenticator time step is beyond what PostgreSQL holds".into())
        })?;
        self.execute(
            "authenticators",
            "write",
            "INSERT INTO authenticators (username, vpd, key_id, nonce, ciphertext, algorithm, \
             digits, period, enrolled_at, activated_at, last_step) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (username) DO UPDATE SET vpd = excluded.vpd, key_id = excluded.key_id, \
             nonce = excluded.nonce, ciphertext = excluded.ciphertext, \
             algorithm = excluded.algorithm, digits = excluded.digits, \
             period = excluded.period, enrolled_at = excluded.enrolled_at, \
             activated_at = excluded.activated_at, last_step = excluded.last_step",
            &[
                Box::new(a.username.to_string()),
                text(a.vpd.as_str()),
                text(a.sealed.key_id.as_str()),
                Box::new(a.sealed.nonce.to_vec()),
                Box::new(a.sealed.ciphertext.clone()),
                text(a.params.algorithm.as_str()),
                Box::new(i32::from(a.params.digits)),
                Box::new(i32::try_from(a.params.period).unwrap_or(i32::MAX)),
                ts(a.enrolled_at),
                Box::new(a.activated_at.map(clamp)),
                Box::new(last_step),
            ],
        )?;
        Ok(())
    }

    fn delete_authenticator(&mut self, username: &Username) -> Result<bool> {
        let n = self.execute(
            "authenticators",
            "delete",
            "DELETE FROM authenticators WHERE username = $1",
            &[Box::new(username.to_string())],
        )?;
        Ok(n > 0)
    }

    fn advance_authenticator_step(&mut self, username: &Username, step: u64) -> Result<bool> {
        let step = i64::try_from(step).map_err(|_| {
            Error::Storage("an authenticator time step is beyond what PostgreSQL holds".into())
        })?;
        // The replay guard: one conditional update.
        let n = self.execute(
            "authenticators",
            "update",
            "UPDATE authenticators SET last_step = $2 \
             WHERE username = $1 AND (last_step IS NULL OR last_step < $2)",
            &[Box::new(username.to_string()), Box::new(step)],
        )?;
        Ok(n == 1)
    }
}

// ----- Notifications and approvals (wf-notify) -----

fn notification_state_key(s: NotificationState) -> &'static str {
    s.name()
}

fn change_status_key(s: &ChangeStatus) -> &'static str {
    s.name()
}

/// Writes a record that is settled once: one conditional update while the stored row is
/// still open (`state = open_key`); an insert when there is no row; a refusal otherwise.
#[allow(clippy::too_many_arguments)]
fn put_settled_once(
    conn: &Tx<'_>,
    table: &crate::table::Table,
    what: &str,
    k: &str,
    vpd: &str,
    state_column: &str,
    open_key: &str,
    columns: Vec<Param>,
    body: &impl serde::Serialize,
) -> Result<()> {
    let stored: Option<String> = conn.one(
        table.name,
        &format!("SELECT {state_column} FROM {} WHERE key = $1", table.name),
        &[text(k)],
    )?;
    match stored {
        None => table.put(conn, k, vpd, columns, body, None),
        Some(s) if s == open_key => table.put(conn, k, vpd, columns, body, None),
        Some(s) => Err(Error::Storage(format!(
            "{what} is already {s}; it is settled only once (another request settled it first)"
        ))),
    }
}

impl Tx<'_> {
    pub(crate) fn notification_of(
        &self,
        vpd: VpdCode,
        id: &NotificationId,
    ) -> Result<Option<Notification>> {
        Ok(NOTIFICATIONS
            .get(self, &key(&[vpd.as_str(), &id.to_string()]))?
            .map(|(n, _)| n))
    }
    pub(crate) fn put_notification_row(&mut self, n: &Notification) -> Result<()> {
        if let Some(old) = self.notification_of(n.vpd, &n.id)?
            && old.state == NotificationState::Open
            && (old.for_person != n.for_person || old.kind != n.kind)
        {
            return Err(Error::Storage(
                "a notification's person and kind cannot change".into(),
            ));
        }
        put_settled_once(
            self,
            &NOTIFICATIONS,
            &format!("notification {}", n.id),
            &key(&[n.vpd.as_str(), &n.id.to_string()]),
            n.vpd.as_str(),
            "state",
            "open",
            vec![
                text(n.for_person.as_str()),
                text(notification_state_key(n.state)),
            ],
            n,
        )
    }
    pub(crate) fn put_change_row(&mut self, c: &PendingChange) -> Result<()> {
        put_settled_once(
            self,
            &PENDING_CHANGES,
            &format!("change {}", c.id),
            &key(&[c.vpd.as_str(), &c.id.to_string()]),
            c.vpd.as_str(),
            "status",
            "pending",
            vec![text(change_status_key(&c.status))],
            c,
        )
    }
}

/// An `authenticators` row as read.
struct AuthenticatorRow {
    vpd: String,
    key_id: String,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
    algorithm: String,
    digits: i32,
    period: i32,
    enrolled_at: DateTime<Utc>,
    activated_at: Option<DateTime<Utc>>,
    last_step: Option<i64>,
}

impl AuthenticatorRow {
    fn into_authenticator(self, username: &Username) -> Result<Authenticator> {
        let bad =
            |what: &str| Error::Storage(format!("a stored authenticator's {what} cannot be read"));

        Ok(Authenticator {
            vpd: self.vpd.parse().map_err(|_| bad("trust"))?,
            username: username.clone(),
            sealed: SealedSecret {
                key_id: self.key_id.parse().map_err(|_| bad("key id"))?,
                nonce: self.nonce.try_into().map_err(|_| bad("nonce"))?,
                ciphertext: self.ciphertext,
            },
            params: TotpParams {
                algorithm: self.algorithm.parse().map_err(|_| bad("algorithm"))?,
                digits: u8::try_from(self.digits).map_err(|_| bad("digits"))?,
                period: u32::try_from(self.period).map_err(|_| bad("period"))?,
            },
            enrolled_at: self.enrolled_at,
            activated_at: self.activated_at,
            last_step: self
                .last_step
                .map(u64::try_from)
                .transpose()
                .map_err(|_| bad("time step"))?,
        })
    }
}

fn session_key(key: &SessionKey) -> String {
    key.to_string()
}

fn equivalence_key(e: &Equivalence) -> String {
    key(&[e.vpd.as_str(), e.held.as_str(), e.satisfies.as_str()])
}
