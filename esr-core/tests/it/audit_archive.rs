//! Checkpoints and archives of the keyed audit trail through the service: who may take them,
//! that refusals change nothing, and what a trail begun without a key does under one.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::audit::*;
use esr_core::*;

fn keys() -> AuditKeys {
    AuditKeys::new(AuditKey::new("audit-1", b"an-audit-key-0123456789abcdefghij").unwrap())
}

fn keyed() -> Fixture {
    Fixture::builder().audit_keys(keys()).build()
}

/// A writer that fails after `ok` bytes, as a full disk would.
struct FailingWriter {
    ok: usize,
}

impl std::io::Write for FailingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() > self.ok {
            return Err(std::io::Error::other("disk full"));
        }
        self.ok -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_user_administrator_or_a_system_actor_may_checkpoint_and_archive_and_it_is_audited() {
    let fx = keyed();
    let v = fx.vpd();
    let clerk = fx.staff("Carl", "Clerk", "Ward 5", None);
    let clerk_session = fx.hscn(clerk.username());
    let before = fx.snapshot(v);
    let err = fx
        .esr
        .checkpoint(&Actor::Session(clerk_session), v)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotPermitted, "{err}");
    let mut file = Vec::new();
    let cp = fx.esr.checkpoint(&system(), v).unwrap();
    let after_system = fx.snapshot(v);
    assert_ne!(before, after_system);
    let err = fx
        .esr
        .archive_before(&Actor::Session(clerk_session), v, &cp, &mut file)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotPermitted, "{err}");
    assert!(file.is_empty());
    assert_eq!(fx.snapshot(v), after_system, "a refusal changes nothing");

    let admin = Actor::Session(fx.t().session_a);
    let cp = fx.esr.checkpoint(&admin, v).unwrap();
    let last = fx.audit(v).last().unwrap().clone();
    assert!(
        matches!(last.actor, AuditActor::User { ref username, .. } if username == fx.t().admin_a.username())
    );
    assert_eq!(
        last.event,
        AuditEvent::AuditCheckpointed {
            seq: cp.seq,
            hash: cp.hash,
            key: "audit-1".into()
        }
    );
    let summary = fx.esr.archive_before(&admin, v, &cp, &mut file).unwrap();
    assert_eq!(summary.entries, cp.seq - 1);
    let last = fx.audit(v).last().unwrap().clone();
    assert!(matches!(last.event, AuditEvent::AuditArchived { before, .. } if before == cp.seq));
    assert_eq!(
        fx.esr
            .verify_audit_archive(v, file.as_slice(), Some(AuditHead::EMPTY)),
        Ok(summary.last)
    );
    assert_eq!(fx.esr.verify_audit(v).unwrap().seq, last.seq);
}

#[test]
fn an_archive_that_cannot_be_written_or_a_foreign_checkpoint_removes_nothing() {
    let fx = keyed();
    let v = fx.vpd();
    let cp = fx.esr.checkpoint(&system(), v).unwrap();
    let before = fx.snapshot(v);
    let err = fx
        .esr
        .archive_before(&system(), v, &cp, &mut FailingWriter { ok: 1000 })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err}");
    assert!(matches!(err, Error::AuditArchive(_)));
    assert_eq!(fx.snapshot(v), before);

    // A checkpoint that is not stored (here: signed again at another time) is refused.
    let mut other = cp.clone();
    other.at += chrono::TimeDelta::seconds(1);
    let err = fx
        .esr
        .archive_before(&system(), v, &other, &mut Vec::new())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(fx.snapshot(v), before);
}

#[test]
fn without_an_audit_key_checkpoints_are_refused_and_a_trail_begun_unkeyed_fails_keyed_verification()
{
    let fx = Fixture::new();
    let v = fx.vpd();
    assert_eq!(fx.esr.checkpoint(&system(), v), Err(Error::NoAuditKey));
    assert!(fx.audit(v).iter().all(|e| e.key.is_none()));
    let head = fx.esr.verify_audit(v).unwrap();
    // The switch is clean: keys set on a trail begun without them do not bless its entries.
    fx.esr.set_audit_keys(keys());
    let err = fx.esr.verify_audit(v).unwrap_err();
    assert!(
        matches!(err, Error::AuditChainBroken { seq: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("without an audit key"));
    assert!(head.seq > 1);
}

#[test]
fn the_audit_key_never_appears_in_debug_or_in_the_trail() {
    let secret = b"an-audit-key-0123456789abcdefghij";
    let fx = keyed();
    let v = fx.vpd();
    fx.esr.checkpoint(&system(), v).unwrap();
    let text = format!(
        "{:?} {:?} {}",
        keys(),
        fx.audit(v),
        serde_json::to_string(&fx.esr.audit_checkpoints(v).unwrap()).unwrap()
    );
    assert!(!text.contains(std::str::from_utf8(secret).unwrap()));
    assert!(!text.contains(&hex_of(secret)));
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
