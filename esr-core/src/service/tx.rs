//! Helpers over a store transaction that every area's operations share: reading trusts, people,
//! accounts and sessions, authorising an actor and writing audit entries.

use super::Actor;
use crate::access::Session;
use crate::access::{AccessContext, AccessDecision, decide, has_internet_access};
use crate::audit::{AuditActor, AuditEntry, AuditEvent};
use crate::error::{Error, Result};
use crate::org::{Trust, TrustSettings};
use crate::people::Assignment;
use crate::people::{Account, AccountState, Person};
use crate::store::StoreTx;
use crate::urp::Function;
use crate::urp::Urp;
use crate::urp::*;
use crate::values::username::Username;
use crate::values::{AssignmentNumber, EmployeeNumber, SessionId, SessionRef, VpdCode};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

pub(crate) fn yes_no(b: bool) -> &'static str {
    if b { "Yes" } else { "No" }
}

pub(crate) fn enabled(b: bool) -> &'static str {
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
    // Chained with the service's current audit key (see `KeyedStore`), or unkeyed without one.
    let keys = super::current_audit_keys();
    let key = keys.as_deref().map(|k| k.current());
    tx.append_audit_owned(AuditEntry::after_keyed(head, vpd, at, actor, event, key))
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

pub(crate) fn unknown_person(vpd: VpdCode, employee: &EmployeeNumber) -> Error {
    Error::UnknownPerson {
        vpd,
        employee: employee.clone(),
    }
}

pub(crate) fn account_of(tx: &dyn StoreTx, username: &Username) -> Result<Account> {
    tx.account(username)?
        .ok_or_else(|| Error::UnknownAccount(username.clone()))
}

pub(crate) fn assignment_of(
    tx: &dyn StoreTx,
    vpd: VpdCode,
    n: &AssignmentNumber,
) -> Result<Assignment> {
    tx.assignment(vpd, n)?
        .ok_or_else(|| Error::UnknownAssignment {
            vpd,
            assignment: n.clone(),
        })
}

pub(crate) fn same_trust(vpd: VpdCode, u: &Username) -> Result<()> {
    if u.vpd() != vpd {
        return Err(Error::CrossTrust {
            what: format!("user {u}"),
            expected: vpd,
            found: u.vpd(),
        });
    }
    Ok(())
}

/// The session, if it is usable at `now`; a use of it, so its last activity is recorded when
/// the stored one is at least [`ACTIVITY_GRANULARITY`](crate::access::ACTIVITY_GRANULARITY)
/// old (most requests write nothing).
pub(crate) fn live_session(
    tx: &mut dyn StoreTx,
    id: SessionId,
    now: DateTime<Utc>,
) -> Result<Session> {
    let mut s = tx.session(&id.key())?.ok_or(Error::UnknownSession(id))?;
    // The store keeps only the key; the holder's id goes back on the value.
    s.id = id;
    if !s.is_live() {
        return Err(Error::SessionEnded(id));
    }
    if now >= s.expires_at {
        return Err(Error::SessionExpired(id));
    }
    if s.is_idle_at(now) {
        return Err(Error::SessionIdle {
            session: id,
            minutes: s.idle_timeout.num_minutes(),
        });
    }
    if s.activity_due_at(now) {
        s.last_active_at = now;
        tx.put_session(&s)?;
    }
    Ok(s)
}

pub(crate) fn held_urps(tx: &dyn StoreTx, username: &Username) -> Result<BTreeSet<Urp>> {
    tx.active_urps_of(username)
}

pub(crate) fn session_context(
    tx: &mut dyn StoreTx,
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
    tx: &mut dyn StoreTx,
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
    user_actor_with(s, s.audit_ref())
}

/// [`user_actor`] with the session's reference already computed.
pub(crate) fn user_actor_with(s: &Session, session: SessionRef) -> AuditActor {
    AuditActor::User {
        username: s.username.clone(),
        session,
    }
}

/// Checks the actor may use `function` in trust `vpd`, and says who they are for the audit.
pub(crate) fn authorise(
    tx: &mut dyn StoreTx,
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
