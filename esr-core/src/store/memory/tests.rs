use super::*;
use crate::audit::{AuditActor, AuditEvent, AuditHash};

fn entry_after(head: AuditHead, vpd: VpdCode, i: i64) -> AuditEntry {
    AuditEntry::after(
        head,
        vpd,
        DateTime::UNIX_EPOCH + chrono::TimeDelta::seconds(i),
        AuditActor::System("test".into()),
        AuditEvent::ReportProduced {
            report: format!("r{i}"),
        },
    )
}

#[test]
fn the_audit_head_is_the_newest_entrys_link() {
    let store = InMemoryStore::new();
    let vpd: VpdCode = "297".parse().unwrap();
    let other: VpdCode = "999".parse().unwrap();
    store
        .transaction(|tx| {
            assert_eq!(tx.audit_head(vpd)?, AuditHead::EMPTY);
            for i in 0..3 {
                let e = entry_after(tx.audit_head(vpd)?, vpd, i);
                tx.append_audit_owned(e)?;
            }
            let last = tx.last_audit(vpd)?.unwrap();
            assert_eq!(
                tx.audit_head(vpd)?,
                AuditHead {
                    seq: 3,
                    hash: last.hash
                }
            );
            assert_ne!(last.hash, AuditHash::GENESIS);
            assert_eq!(tx.audit_head(other)?, AuditHead::EMPTY);
            Ok(())
        })
        .unwrap();
    let all = store
        .transaction(|tx| tx.audit_entries(vpd, 1, 10))
        .unwrap();
    crate::audit::verify_chain(vpd, &all).unwrap();
}

#[test]
fn active_urps_are_those_of_the_unrevoked_grants() {
    use crate::urp::{Approval, GrantScope, Grantor, Revocation, Urp, UrpGrant};
    let store = InMemoryStore::new();
    let vpd: VpdCode = "297".parse().unwrap();
    let holder: Username = "297JSMITH01".parse().unwrap();
    let other: Username = "297ECONROY01".parse().unwrap();
    let grant = |n: u8, who: &Username, urp: Urp, revoked: bool| UrpGrant {
        id: GrantId::from_bytes([n; 16]),
        vpd,
        holder: who.clone(),
        urp,
        scope: GrantScope::WholeTrust,
        granted_by: Grantor::System("test".into()),
        granted_at: DateTime::UNIX_EPOCH,
        reason: "test".into(),
        approval: Approval::NotRequired,
        revoked: revoked.then(|| Revocation {
            by: Grantor::System("test".into()),
            at: DateTime::UNIX_EPOCH,
            reason: "test".into(),
        }),
    };
    store
        .transaction(|tx| {
            assert!(tx.active_urps_of(&holder)?.is_empty());
            tx.put_grant(&grant(1, &holder, Urp::EmployeeSelfService, false))?;
            tx.put_grant(&grant(2, &holder, Urp::ExternalLearner, true))?;
            tx.put_grant(&grant(3, &other, Urp::SupervisorSelfService, false))?;
            let from_grants: BTreeSet<Urp> = tx
                .grants_of(&holder)?
                .into_iter()
                .filter(UrpGrant::is_active)
                .map(|g| g.urp)
                .collect();
            assert_eq!(tx.active_urps_of(&holder)?, from_grants);
            assert_eq!(
                tx.active_urps_of(&holder)?,
                BTreeSet::from([Urp::EmployeeSelfService])
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_challenge_is_replaced_in_place_but_its_indexed_fields_never_change() {
    use crate::passcode::{ChallengeStatus, PasscodeKey, Purpose};
    let store = InMemoryStore::new();
    let vpd: VpdCode = "297".parse().unwrap();
    let user: Username = "297JSMITH01".parse().unwrap();
    let key = PasscodeKey::new("k", b"key-07-abcdefghijklmnopqrstuvwxy").unwrap();
    let id = ChallengeId::from_bytes([1; 16]);
    let now = DateTime::UNIX_EPOCH + chrono::TimeDelta::days(20_000);
    let mut c = Challenge {
        id,
        vpd,
        username: user.clone(),
        session: None,
        purpose: Purpose::ResetPassword,
        destination: None,
        key_id: key.id().clone(),
        tag: key.tag(
            &crate::passcode::Binding {
                challenge: &id,
                vpd,
                username: &user,
                session: None,
                purpose: Purpose::ResetPassword,
            },
            b"secret",
        ),
        digits: 0,
        issued_at: now,
        expires_at: now + chrono::TimeDelta::hours(4),
        attempts: 0,
        status: ChallengeStatus::Pending,
        settled_at: None,
    };
    store
        .transaction(|tx| tx.put_challenge_owned(c.clone()))
        .unwrap();
    c.attempts = 1;
    store.transaction(|tx| tx.put_challenge(&c)).unwrap();
    // A failed transaction restores the replaced challenge.
    let mut later = c.clone();
    later.attempts = 2;
    let r: Result<()> = store.transaction(|tx| {
        tx.put_challenge_owned(later.clone())?;
        Err(Error::Storage("roll back".into()))
    });
    assert!(r.is_err());
    let mut moved = c.clone();
    moved.username = "297ECONROY01".parse().unwrap();
    let r = store.transaction(|tx| tx.put_challenge_owned(moved.clone()));
    assert!(matches!(r, Err(Error::Storage(_))), "{r:?}");
    store
        .transaction(|tx| {
            assert_eq!(tx.challenge(&id)?, Some(c.clone()));
            assert_eq!(tx.challenges_of(&user, now)?, vec![c.clone()]);
            Ok(())
        })
        .unwrap();
}

#[test]
fn an_owned_entry_out_of_sequence_is_refused_and_nothing_changes() {
    let store = InMemoryStore::new();
    let vpd: VpdCode = "297".parse().unwrap();
    store
        .transaction(|tx| tx.append_audit_owned(entry_after(AuditHead::EMPTY, vpd, 0)))
        .unwrap();
    let stale = entry_after(AuditHead::EMPTY, vpd, 1);
    let r = store.transaction(|tx| tx.append_audit_owned(stale.clone()));
    assert!(matches!(r, Err(Error::Storage(_))), "{r:?}");
    let head = store.transaction(|tx| tx.audit_head(vpd)).unwrap();
    assert_eq!(head.seq, 1);
}
