//! Steps over a store transaction that the access and passcode operations share: opening and
//! ending sessions, registering a mobile number and upgrading a session.

use crate::access::{AccessDecision, Channel, decide, upgrade_blocker};
use crate::access::{Session, SessionEnd, SessionEndReason, Upgrade};
use crate::audit::{AuditActor, AuditEvent};
use crate::error::{Error, Result};
use crate::org::TrustSettings;
use crate::people::{Account, Person};
use crate::service::*;
use crate::store::StoreTx;
use crate::urp::Function;
use crate::urp::Urp;
use crate::values::username::Username;
use crate::values::{SessionId, SessionRef};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

pub(crate) fn open_session(
    tx: &mut dyn StoreTx,
    id: SessionId,
    username: &Username,
    channel: Channel,
    now: DateTime<Utc>,
    config: &crate::Config,
    smartcard: Option<String>,
) -> Result<Session> {
    let lifetime = config.session_lifetime;
    let idle_timeout = match channel {
        Channel::Internet => config.internet_idle_timeout,
        Channel::Hscn => config.hscn_idle_timeout,
    };
    if tx.session(&id.key())?.is_some() {
        return Err(Error::Randomness("a session id repeated; try again".into()));
    }
    let session = Session {
        id,
        key: id.key(),
        vpd: username.vpd(),
        username: username.clone(),
        channel,
        started_at: now,
        expires_at: crate::values::plus(now, lifetime),
        upgrade: None,
        ended: None,
        last_active_at: now,
        idle_timeout: idle_timeout.min(lifetime),
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

/// Ends every session of `username` not yet ended (timed-out ones too, so that none is left
/// open in the store), except `keep`, auditing each with `reason`. Returns how many it ended.
pub(crate) fn end_sessions_of(
    tx: &mut dyn StoreTx,
    username: &Username,
    now: DateTime<Utc>,
    reason: SessionEndReason,
    who: &AuditActor,
    keep: Option<SessionRef>,
) -> Result<u32> {
    let mut ended = 0u32;
    for mut s in tx
        .sessions_of(username)?
        .into_iter()
        .filter(|s| s.is_live() && Some(s.audit_ref()) != keep)
    {
        ended += 1;
        s.ended = Some(SessionEnd { at: now, reason });
        tx.put_session(&s)?;
        audit(
            tx,
            username.vpd(),
            now,
            who.clone(),
            AuditEvent::SessionEnded {
                session: s.audit_ref(),
                reason: reason.to_string(),
            },
        )?;
    }
    Ok(ended)
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
    audit_mobile_registered(tx, &s, s.audit_ref(), mobile.masked(), changed, now)?;
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

pub(crate) fn audit_mobile_registered(
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
pub(crate) fn permitted_for(
    tx: &dyn StoreTx,
    s: &Session,
    acc: &Account,
    function: Function,
) -> Result<()> {
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
    tx: &mut dyn StoreTx,
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
    let sref = s.audit_ref();
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

pub(crate) fn upgrade_session(
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
    tx: &mut dyn StoreTx,
    id: SessionId,
    now: DateTime<Utc>,
) -> Result<Session> {
    check_upgrade_with_account(tx, id, now).map(|(s, _)| s)
}

/// [`check_upgrade`], answering the account it read too, for a caller that needs it (so it
/// is not read and cloned a second time in the same transaction).
pub(crate) fn check_upgrade_with_account(
    tx: &mut dyn StoreTx,
    id: SessionId,
    now: DateTime<Utc>,
) -> Result<(Session, Account)> {
    let (s, trust, acc, held) = session_context(tx, id, now)?;
    check_upgrade_in(tx, &s, &trust, &acc, &held)?;
    Ok((s, acc))
}

/// Whether the session may be upgraded, given its context.
pub(crate) fn check_upgrade_in(
    tx: &dyn StoreTx,
    s: &Session,
    trust: &TrustSettings,
    acc: &Account,
    held: &BTreeSet<Urp>,
) -> Result<()> {
    check_upgrade_in_with(tx, s, trust, acc, held, None)
}

/// [`check_upgrade_in`] for a caller that has read the user's authenticator already:
/// `authenticator_active` is whether it is active (`None`: not read, read it here if needed).
pub(crate) fn check_upgrade_in_with(
    tx: &dyn StoreTx,
    s: &Session,
    trust: &TrustSettings,
    acc: &Account,
    held: &BTreeSet<Urp>,
    authenticator_active: Option<bool>,
) -> Result<()> {
    if s.is_upgraded() {
        return Err(Error::AlreadyUpgraded);
    }
    // An active authenticator app is a second factor as a registered mobile is; when it is
    // known to be active, the mobile does not matter.
    let has_factor = authenticator_active == Some(true) || {
        let has_mobile = tx
            .person_mobile(s.vpd, &acc.employee_number)?
            .ok_or_else(|| unknown_person(s.vpd, &acc.employee_number))?
            .is_some();
        has_mobile
            || match authenticator_active {
                Some(active) => active,
                None => tx
                    .authenticator(&s.username)?
                    .is_some_and(|a| a.activated_at.is_some()),
            }
    };
    if let Some(why) = upgrade_blocker(&context(s, trust, acc, held), has_factor) {
        return Err(Error::UpgradeNotAvailable(why));
    }
    Ok(())
}
