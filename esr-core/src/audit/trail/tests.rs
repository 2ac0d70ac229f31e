use super::*;
use crate::audit::*;
use crate::passcode::*;
use crate::urp::*;
use crate::values::*;
use proptest::prelude::*;

fn chain(n: usize) -> Vec<AuditEntry> {
    let vpd: VpdCode = "297".parse().unwrap();
    let mut out: Vec<AuditEntry> = Vec::new();
    for i in 0..n {
        let e = AuditEntry::next(
            out.last(),
            vpd,
            DateTime::UNIX_EPOCH + chrono::TimeDelta::seconds(i as i64),
            AuditActor::System("test".into()),
            AuditEvent::SettingChanged {
                setting: format!("s{i}"),
                value: "on".into(),
            },
        );
        out.push(e);
    }
    out
}

/// One of every event, with every optional field both set and empty somewhere.
fn every_event() -> Vec<AuditEvent> {
    let user: Username = "297JSMITH01".parse().unwrap();
    let emp: EmployeeNumber = "200000000".parse().unwrap();
    let asg: AssignmentNumber = "24552166-2".parse().unwrap();
    let unit: OrgUnitId = "Ward 5".parse().unwrap();
    let grant = GrantId::from_bytes([9; 16]);
    let challenge = ChallengeId::from_bytes([7; 16]);
    let session = crate::values::SessionId::from_bytes([3; 16]).audit_ref();
    let at = DateTime::UNIX_EPOCH + chrono::TimeDelta::milliseconds(1_795_000_000_123);
    let s = |x: &str| x.to_string();
    vec![
        AuditEvent::TrustCreated {
            name: s("Bench Trust"),
        },
        AuditEvent::SettingChanged {
            setting: s("SMS template"),
            value: s("Code {code} é"),
        },
        AuditEvent::OrgUnitAdded {
            unit: unit.clone(),
            parent: None,
        },
        AuditEvent::OrgUnitAdded {
            unit: unit.clone(),
            parent: Some(unit),
        },
        AuditEvent::PersonAdded {
            employee: emp.clone(),
            username: user.clone(),
        },
        AuditEvent::AssignmentAdded {
            assignment: asg.clone(),
            employee: emp.clone(),
            supervisor: None,
        },
        AuditEvent::SupervisorChanged {
            assignment: asg.clone(),
            supervisor: Some(asg.clone()),
        },
        AuditEvent::UrpGranted {
            grant,
            holder: user.clone(),
            urp: Urp::EmployeeSelfService,
            scope: s("whole trust"),
            reason: s("new starter"),
            approval: s("checked"),
        },
        AuditEvent::UrpRevoked {
            grant,
            holder: user.clone(),
            urp: Urp::ExternalLearner,
            reason: s("left"),
        },
        AuditEvent::LoggedIn {
            username: user.clone(),
            session,
            channel: s("HSCN"),
            smartcard: Some(s("CARD")),
        },
        AuditEvent::LoggedIn {
            username: user.clone(),
            session,
            channel: s("internet"),
            smartcard: None,
        },
        AuditEvent::LoginFailed {
            username: user.clone(),
            failures: 3,
        },
        AuditEvent::AccountStateChanged {
            username: user.clone(),
            from: s("active"),
            to: s("locked"),
            reason: s(""),
        },
        AuditEvent::PasswordSet {
            username: user.clone(),
        },
        AuditEvent::InternetAccessApproved {
            username: user.clone(),
        },
        AuditEvent::SessionUpgraded {
            session,
            method: s("sms-otp"),
        },
        AuditEvent::SessionEnded {
            session,
            reason: s("logged out"),
        },
        AuditEvent::MobileRegistered {
            username: user.clone(),
            masked: s("xxxxxxx374"),
            changed: true,
        },
        AuditEvent::RecordViewed {
            subject: emp.clone(),
            basis: s("supervisor"),
        },
        AuditEvent::RecordChanged {
            subject: emp.clone(),
            fields: s("address"),
        },
        AuditEvent::ReportProduced {
            report: s("compliance"),
        },
        AuditEvent::PasscodeIssued {
            username: user.clone(),
            challenge,
            purpose: Purpose::RegisterMobile,
            masked: s("xxxxxxx374"),
            expires_at: at,
        },
        AuditEvent::PasscodeChecked {
            username: user.clone(),
            challenge,
            purpose: Purpose::UpgradeSession,
            outcome: s("wrong code"),
        },
        AuditEvent::PasscodeSuperseded {
            username: user.clone(),
            challenge,
        },
        AuditEvent::StepUpLocked {
            username: user.clone(),
            failures: 10,
        },
        AuditEvent::StepUpUnlocked {
            username: user.clone(),
            reason: s("called"),
        },
        AuditEvent::RecoveryRequested {
            purpose: Purpose::ResetPassword,
            matched: 0,
        },
        AuditEvent::CompetenceDefined {
            competence: s("Fire"),
            refresher: s("1 year"),
            active: false,
        },
        AuditEvent::RequirementChanged {
            target: s("Ward 5"),
            competence: s("Fire"),
            change: s("essential"),
        },
        AuditEvent::EquivalenceChanged {
            held: s("A"),
            satisfies: s("B"),
            added: true,
        },
        AuditEvent::CompetenceRecorded {
            subject: emp.clone(),
            competence: s("Fire"),
            achieved: s("2026-01-01"),
            expiry: s(""),
        },
        AuditEvent::CompetencesImported {
            records: u64::MAX,
            skipped: 0,
        },
        AuditEvent::CertificationDefined {
            certification: s("C"),
            competence: s("Fire"),
            validity_days: 365,
        },
        AuditEvent::Subscribed {
            subject: emp.clone(),
            certification: s("C"),
        },
        AuditEvent::Unsubscribed {
            subject: emp.clone(),
            certification: s("C"),
        },
        AuditEvent::Enrolled {
            subject: emp.clone(),
            certification: s("C"),
            cycle: 2,
            course: s("K"),
            class: s("Mon"),
        },
        AuditEvent::LearningProgress {
            subject: emp.clone(),
            certification: s("C"),
            course: s("K"),
            performance: s("50%"),
        },
        AuditEvent::ComponentCompleted {
            subject: emp.clone(),
            certification: s("C"),
            course: s("K"),
            performance: s("Passed 90"),
        },
        AuditEvent::CertificationAwarded {
            subject: emp.clone(),
            certification: s("C"),
            path: s("initial"),
            completed: s("2026-02-02"),
            expiry: s("2027-02-02"),
        },
        AuditEvent::LearningNotRecorded {
            subject: emp,
            course: s("K"),
            reason: s("no cycle"),
        },
    ]
}

/// A chain of every event, the actors taking turns.
fn every_event_chain() -> Vec<AuditEntry> {
    let vpd: VpdCode = "297".parse().unwrap();
    let session = crate::values::SessionId::from_bytes([5; 16]).audit_ref();
    let mut out: Vec<AuditEntry> = Vec::new();
    for (i, event) in every_event().into_iter().enumerate() {
        let actor = match i % 3 {
            0 => AuditActor::User {
                username: "297JSMITH01".parse().unwrap(),
                session,
            },
            1 => AuditActor::System("passcode lockout".into()),
            _ => AuditActor::Anonymous,
        };
        let at = DateTime::UNIX_EPOCH
            + chrono::TimeDelta::nanoseconds(1_795_000_000_000_000_123 + i as i64);
        out.push(AuditEntry::next(out.last(), vpd, at, actor, event));
    }
    out
}

#[test]
fn the_hash_of_every_event_is_pinned() {
    // Computed before the hashing was made to stream: trails written by earlier versions
    // must keep verifying, so the bytes hashed must never change.
    let chain = every_event_chain();
    assert_eq!(chain.len(), 40);
    let head = verify_chain("297".parse().unwrap(), &chain).unwrap();
    assert_eq!(
        head.hash.to_string(),
        "f3d73dd43fb61be81103907f87383c350ac674b4dd7605915e0835e6dfafce23"
    );
    assert_eq!(
        chain[0].hash.to_string(),
        "00ef8a460bdd452121648fcf763b4a9b1762b8786cd0f5921272067fe02fa66a"
    );
}

#[test]
fn an_untouched_chain_verifies() {
    verify_chain("297".parse().unwrap(), &chain(10)).unwrap();
    verify_chain("297".parse().unwrap(), &[]).unwrap();
}

#[test]
fn another_trusts_chain_does_not() {
    assert!(verify_chain("999".parse().unwrap(), &chain(2)).is_err());
}

proptest! {
    #[test]
    fn any_edit_removal_or_swap_is_detected(n in 2usize..20, i in 0usize..20, j in 0usize..20, how in 0u8..4) {
        let vpd: VpdCode = "297".parse().unwrap();
        let mut c = chain(n);
        let (i, j) = (i % n, j % n);
        match how {
            0 => { c.remove(i); if c.is_empty() { return Ok(()); } }
            1 => { prop_assume!(i != j); c.swap(i, j); }
            2 => {
                if let AuditEvent::SettingChanged { value, .. } = &mut c[i].event { *value = "off".into(); }
            }
            _ => { c[i].at += chrono::TimeDelta::seconds(1); }
        }
        let r = verify_chain(vpd, &c);
        if how == 0 && i == n - 1 {
            // Dropping the newest entry leaves a valid shorter chain: only a head kept
            // elsewhere (`AuditHead`) reveals truncation, see `Esr::verify_audit_against`.
            prop_assert!(r.is_ok());
        } else {
            prop_assert!(r.is_err());
        }
    }
}

// ----- the keyed chain ---------------------------------------------------------------------------

fn key(id: &str, first: u8) -> AuditKey {
    let secret: Vec<u8> = (first..first + 32).collect();
    AuditKey::new(id, &secret).unwrap()
}

fn keyed_chain(n: usize, k: &AuditKey) -> Vec<AuditEntry> {
    let mut out: Vec<AuditEntry> = Vec::new();
    for e in chain(n) {
        let head = out.last().map_or(AuditHead::EMPTY, |p| AuditHead {
            seq: p.seq,
            hash: p.hash,
        });
        out.push(AuditEntry::after_keyed(
            head,
            e.vpd,
            e.at,
            e.actor,
            e.event,
            Some(k),
        ));
    }
    out
}

#[test]
fn the_keyed_hash_of_every_event_is_pinned() {
    let k = key("audit-1", 1);
    let ring = AuditKeys::new(k.clone());
    let mut out: Vec<AuditEntry> = Vec::new();
    for e in every_event_chain() {
        let head = out.last().map_or(AuditHead::EMPTY, |p| AuditHead {
            seq: p.seq,
            hash: p.hash,
        });
        out.push(AuditEntry::after_keyed(
            head,
            e.vpd,
            e.at,
            e.actor,
            e.event,
            Some(&k),
        ));
    }
    let head = verify_chain_with("297".parse().unwrap(), &out, Some(&ring)).unwrap();
    assert_eq!(head.hash.to_string(), KEYED_HEAD);
    assert!(out.iter().all(|e| e.key.as_ref() == Some(k.id())));
}

const KEYED_HEAD: &str = "209ec8bb79d4de18ec41698964df5a4a726974d74d2ba360a0d44ca1ef64ebcd";

#[test]
fn a_keyed_chain_verifies_only_with_its_key_and_refuses_unkeyed_entries() {
    let vpd: VpdCode = "297".parse().unwrap();
    let (a, b) = (key("a", 1), key("b", 2));
    let c = keyed_chain(5, &a);
    assert!(verify_chain_with(vpd, &c, Some(&AuditKeys::new(a.clone()))).is_ok());
    // Unkeyed, or with another ring: refused at the first entry.
    for ring in [None, Some(AuditKeys::new(b.clone()))] {
        assert!(matches!(
            verify_chain_with(vpd, &c, ring.as_ref()),
            Err(Error::AuditChainBroken { seq: 1, .. })
        ));
    }
    // A key of the same id but another secret: every hash fails.
    let impostor = AuditKeys::new(key("a", 3));
    assert!(matches!(
        verify_chain_with(vpd, &c, Some(&impostor)),
        Err(Error::AuditChainBroken { seq: 1, reason, .. }) if reason.contains("changed")
    ));
    // An unkeyed chain under a ring: refused.
    assert!(verify_chain_with(vpd, &chain(3), Some(&AuditKeys::new(a.clone()))).is_err());
    // Rotation: entries of both keys verify with a ring that holds both.
    let mut mixed = keyed_chain(3, &a);
    let last = mixed.last().unwrap();
    let head = AuditHead {
        seq: last.seq,
        hash: last.hash,
    };
    mixed.push(AuditEntry::after_keyed(
        head,
        vpd,
        last.at,
        AuditActor::Anonymous,
        AuditEvent::ReportProduced { report: "r".into() },
        Some(&b),
    ));
    let ring = AuditKeys::new(a.clone()).rotate(b.clone()).unwrap();
    assert!(verify_chain_with(vpd, &mixed, Some(&ring)).is_ok());
    assert!(verify_chain_with(vpd, &mixed, Some(&AuditKeys::new(b))).is_err());
}

#[test]
fn a_checkpoint_verifies_only_unchanged_and_with_its_key() {
    let vpd: VpdCode = "297".parse().unwrap();
    let a = key("a", 1);
    let ring = AuditKeys::new(a.clone());
    let c = keyed_chain(4, &a);
    let head = verify_chain_with(vpd, &c, Some(&ring)).unwrap();
    let cp = AuditCheckpoint::sign(vpd, head, DateTime::UNIX_EPOCH, &a);
    assert_eq!(cp.head(), head);
    cp.check(&ring).unwrap();
    let mut moved = cp.clone();
    moved.seq -= 1;
    assert!(moved.check(&ring).is_err());
    let mut later = cp.clone();
    later.at += chrono::TimeDelta::nanoseconds(1);
    assert!(later.check(&ring).is_err());
    assert!(cp.check(&AuditKeys::new(key("b", 2))).is_err());
    assert!(cp.check(&AuditKeys::new(key("a", 3))).is_err());
}

proptest! {
    #[test]
    fn an_edit_rehashed_without_the_key_is_detected(n in 1usize..12, i in 0usize..12, unkeyed in any::<bool>()) {
        let vpd: VpdCode = "297".parse().unwrap();
        let a = key("a", 1);
        let ring = AuditKeys::new(a.clone());
        let mut c = keyed_chain(n, &a);
        let i = i % n;
        if let AuditEvent::SettingChanged { value, .. } = &mut c[i].event { *value = "off".into(); }
        // The forger recomputes every hash from the edit on, as SHA-256 (keeping or dropping
        // the key id) or under a key of their own with the same id.
        let forger = key("a", 7);
        for k in i..n {
            if k > 0 { c[k].prev_hash = c[k - 1].hash; }
            if unkeyed { c[k].key = None; }
            c[k].hash = if unkeyed { c[k].compute_hash() } else { c[k].keyed_hash(&forger) };
        }
        let r = verify_chain_with(vpd, &c, Some(&ring));
        prop_assert!(matches!(r, Err(Error::AuditChainBroken { seq, .. }) if seq == i as u64 + 1), "{:?}", r);
    }
}
