//! The keyed audit chain on a real SQLite file, tampered with through SQL as anyone who can
//! write the file could: a rewritten entry (hashes recomputed without the key), a deleted tail
//! (against the last checkpoint and an anchor), an archived prefix (verified live and from the
//! archive files), and key rotation.

#![allow(clippy::unwrap_used)]

use esr_core::audit::{AuditEntry, AuditHead, AuditKey, AuditKeys};
use esr_core::chrono::{TimeZone, Utc};
use esr_core::org::TrustSettings;
use esr_core::values::{ManualClock, VpdCode};
use esr_core::{Actor, Error, ErrorKind, Esr};
use esr_sqlite::SqliteStore;
use rusqlite::Connection;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

fn key_a() -> AuditKey {
    AuditKey::new("audit-2026-11", b"audit-secret-0123456789abcdefghij").unwrap()
}
fn key_b() -> AuditKey {
    AuditKey::new("audit-2026-12", b"audit-secret-zyxwvutsrqponmlkjihg").unwrap()
}

fn vpd() -> VpdCode {
    "297".parse().unwrap()
}

fn system() -> Actor {
    Actor::system("records-office").unwrap()
}

/// A service over the file at `path` with the audit key ring `keys` (none: unkeyed).
fn service(path: &Path, keys: Option<AuditKeys>) -> Esr<SqliteStore, ManualClock> {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap());
    let esr = Esr::new(SqliteStore::open(path).unwrap(), clock);
    match keys {
        Some(k) => esr.with_audit_keys(k),
        None => esr,
    }
}

/// A trust with `changes` audited setting changes after its creation.
fn trust_with(esr: &Esr<SqliteStore, ManualClock>, changes: usize) {
    esr.create_trust(vpd(), "Northfield", TrustSettings::default())
        .unwrap();
    more(esr, changes);
}

fn more(esr: &Esr<SqliteStore, ManualClock>, changes: usize) {
    for i in 0..changes {
        esr.set_automatic_internet_access(&system(), vpd(), i % 2 == 0)
            .unwrap();
    }
}

/// What someone with write access to the file but not the key does: a second connection, the
/// append-only triggers dropped.
fn intruder(path: &Path) -> Connection {
    let c = Connection::open(path).unwrap();
    c.execute_batch(
        "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;",
    )
    .unwrap();
    c
}

fn entries(c: &Connection) -> Vec<AuditEntry> {
    let mut st = c
        .prepare("SELECT body FROM audit WHERE vpd = '297' ORDER BY seq")
        .unwrap();
    st.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|b| serde_json::from_str(&b.unwrap()).unwrap())
        .collect()
}

fn rewrite(c: &Connection, es: &[AuditEntry]) {
    for e in es {
        c.execute(
            "UPDATE audit SET body = ?1 WHERE vpd = '297' AND seq = ?2",
            rusqlite::params![serde_json::to_string(e).unwrap(), e.seq as i64],
        )
        .unwrap();
    }
}

fn broken_at(r: Result<AuditHead, Error>) -> u64 {
    match r {
        Err(Error::AuditChainBroken { seq, .. }) => seq,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[test]
fn an_entry_rewritten_in_the_file_with_recomputed_unkeyed_hashes_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trust.db");
    let esr = service(&path, Some(AuditKeys::new(key_a())));
    trust_with(&esr, 8);
    let honest = esr.verify_audit(vpd()).unwrap();
    assert_eq!(honest.seq, 9);
    assert!(
        esr.audit_trail(vpd(), 1, 100)
            .unwrap()
            .iter()
            .all(|e| e.key.is_some())
    );

    let c = intruder(&path);
    // Edit entry 4 with SQL, then recompute every hash from it on as SHA-256 (the unkeyed
    // scheme), keeping the key ids: detected at the edited entry.
    c.execute(
        "UPDATE audit SET body = json_set(body, '$.actor', json('{\"System\":\"intruder\"}')) \
         WHERE vpd = '297' AND seq = 4",
        [],
    )
    .unwrap();
    let mut es = entries(&c);
    for i in 3..es.len() {
        if i > 0 {
            es[i].prev_hash = es[i - 1].hash;
        }
        es[i].hash = es[i].compute_hash();
    }
    rewrite(&c, &es);
    assert_eq!(broken_at(esr.verify_audit(vpd())), 4);

    // The whole trail rebuilt as an unkeyed chain, as the library writes one without a key:
    // detected at the first entry, because a keyed service accepts no unkeyed entry.
    let mut forged: Vec<AuditEntry> = Vec::new();
    for e in entries(&c) {
        let next = AuditEntry::next(forged.last(), e.vpd, e.at, e.actor, e.event);
        forged.push(next);
    }
    rewrite(&c, &forged);
    let err = esr.verify_audit(vpd()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuditBroken);
    assert!(err.to_string().contains("without an audit key"), "{err}");
    assert_eq!(broken_at(Err(err)), 1);

    // Unkeyed, the same forgery passes: the reason for the key.
    let unkeyed_dir = tempfile::tempdir().unwrap();
    let unkeyed_path = unkeyed_dir.path().join("trust.db");
    let plain = service(&unkeyed_path, None);
    trust_with(&plain, 8);
    let c = intruder(&unkeyed_path);
    let mut forged: Vec<AuditEntry> = Vec::new();
    for mut e in entries(&c) {
        if e.seq == 4 {
            e.actor = esr_core::audit::AuditActor::System("intruder".into());
        }
        let next = AuditEntry::next(forged.last(), e.vpd, e.at, e.actor, e.event);
        forged.push(next);
    }
    rewrite(&c, &forged);
    assert_eq!(plain.verify_audit(vpd()).unwrap().seq, 9);
}

#[test]
fn a_deleted_tail_is_detected_against_the_last_checkpoint_or_an_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trust.db");
    let esr = service(&path, Some(AuditKeys::new(key_a())));
    trust_with(&esr, 5);
    let cp = esr.checkpoint(&system(), vpd()).unwrap();
    assert_eq!(cp.seq, 6);
    more(&esr, 4);
    let anchor = esr.verify_audit(vpd()).unwrap();
    assert_eq!(anchor.seq, 11);
    let c = intruder(&path);

    // Entries after the checkpoint deleted: the store alone cannot show it, an anchor can.
    c.execute("DELETE FROM audit WHERE vpd = '297' AND seq > 9", [])
        .unwrap();
    assert_eq!(esr.verify_audit(vpd()).unwrap().seq, 9);
    assert_eq!(broken_at(esr.verify_audit_against(vpd(), &anchor)), 11);

    // Entries from the checkpoint's on deleted: the signed checkpoint shows it.
    c.execute("DELETE FROM audit WHERE vpd = '297' AND seq >= 6", [])
        .unwrap();
    let err = esr.verify_audit(vpd()).unwrap_err();
    assert!(err.to_string().contains("last signed checkpoint"), "{err}");
    assert_eq!(broken_at(Err(err)), 6);

    // The checkpoint deleted too: only the anchor shows it.
    c.execute("DELETE FROM audit_checkpoints", []).unwrap();
    assert_eq!(esr.verify_audit(vpd()).unwrap().seq, 5);
    assert_eq!(broken_at(esr.verify_audit_against(vpd(), &anchor)), 11);
}

#[test]
fn a_forged_or_moved_checkpoint_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trust.db");
    let esr = service(&path, Some(AuditKeys::new(key_a())));
    trust_with(&esr, 5);
    esr.checkpoint(&system(), vpd()).unwrap();
    more(&esr, 3);
    let c = intruder(&path);
    // Moved back, so that a longer deleted tail would pass: the signature no longer matches.
    c.execute(
        "UPDATE audit_checkpoints SET body = json_set(body, '$.seq', 3)",
        [],
    )
    .unwrap();
    let err = esr.verify_audit(vpd()).unwrap_err();
    assert!(err.to_string().contains("signature"), "{err}");
}

#[test]
fn archiving_moves_a_verified_prefix_to_files_and_both_verify_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trust.db");
    let esr = service(&path, Some(AuditKeys::new(key_a())));
    trust_with(&esr, 10);
    let whole_before = esr.audit_trail(vpd(), 1, 1000).unwrap();

    let cp1 = esr.checkpoint(&system(), vpd()).unwrap();
    let first = dir.path().join("audit-297-1.jsonl");
    let mut out = BufWriter::new(std::fs::File::create(&first).unwrap());
    let s1 = esr
        .archive_before(&system(), vpd(), &cp1, &mut out)
        .unwrap();
    out.flush().unwrap();
    drop(out);
    assert_eq!((s1.first, s1.entries), (1, cp1.seq - 1));
    more(&esr, 6);
    let cp2 = esr.checkpoint(&system(), vpd()).unwrap();
    let second = dir.path().join("audit-297-2.jsonl");
    let mut out = BufWriter::new(std::fs::File::create(&second).unwrap());
    let s2 = esr
        .archive_before(&system(), vpd(), &cp2, &mut out)
        .unwrap();
    drop(out);
    assert_eq!(s2.first, cp1.seq);
    more(&esr, 2);
    drop(esr);

    // A restart: the live trail starts at the second checkpoint and verifies from it.
    let esr = service(&path, Some(AuditKeys::new(key_a())));
    let live = esr.audit_trail(vpd(), 1, 1000).unwrap();
    assert_eq!(live[0].seq, cp2.seq);
    let head = esr.verify_audit(vpd()).unwrap();
    assert_eq!(head.seq, live.last().unwrap().seq);
    // The archives verify, each from where the one before ended, and link to the live trail.
    let h1 = esr
        .verify_audit_archive(
            vpd(),
            BufReader::new(std::fs::File::open(&first).unwrap()),
            Some(AuditHead::EMPTY),
        )
        .unwrap();
    assert_eq!(h1, s1.last);
    let h2 = esr
        .verify_audit_archive(
            vpd(),
            BufReader::new(std::fs::File::open(&second).unwrap()),
            Some(h1),
        )
        .unwrap();
    assert_eq!(h2, s2.last);
    assert_eq!(live[0].prev_hash, h2.hash);
    // Together they are the trail as it was.
    let archived: Vec<AuditEntry> = [&first, &second]
        .iter()
        .flat_map(|p| BufReader::new(std::fs::File::open(p).unwrap()).lines())
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    let n1 = cp1.seq as usize - 1;
    assert_eq!(archived[..n1], whole_before[..n1]);
    assert_eq!(archived.len() as u64, cp2.seq - 1);
    for (i, e) in archived.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
    }
    // The next entry's seq continues.
    more(&esr, 1);
    assert_eq!(esr.verify_audit(vpd()).unwrap().seq, head.seq + 1);

    // An archive line edited is detected; so is one taken out.
    let text = std::fs::read_to_string(&first).unwrap();
    let edited = text.replacen("records-office", "intruder-office", 1);
    assert_ne!(edited, text);
    assert_eq!(
        broken_at(esr.verify_audit_archive(vpd(), edited.as_bytes(), Some(AuditHead::EMPTY))),
        2
    );
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(2);
    assert_eq!(
        broken_at(esr.verify_audit_archive(
            vpd(),
            lines.join("\n").as_bytes(),
            Some(AuditHead::EMPTY)
        )),
        3
    );

    // The live prefix deleted without an archive (to a point that is no checkpoint): detected.
    let c = intruder(&path);
    c.execute(
        "DELETE FROM audit WHERE vpd = '297' AND seq < ?1",
        [(cp2.seq + 2) as i64],
    )
    .unwrap();
    let err = esr.verify_audit(vpd()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuditBroken);
}

#[test]
fn after_key_rotation_old_and_new_entries_verify_while_the_old_key_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trust.db");
    let esr = service(&path, Some(AuditKeys::new(key_a())));
    trust_with(&esr, 3);
    let cp_a = esr.checkpoint(&system(), vpd()).unwrap();
    esr.set_audit_keys(AuditKeys::new(key_a()).rotate(key_b()).unwrap());
    more(&esr, 3);
    let cp_b = esr.checkpoint(&system(), vpd()).unwrap();
    assert_eq!(cp_a.key.as_str(), "audit-2026-11");
    assert_eq!(cp_b.key.as_str(), "audit-2026-12");
    let trail = esr.audit_trail(vpd(), 1, 100).unwrap();
    assert_eq!(trail[0].key.as_ref().unwrap().as_str(), "audit-2026-11");
    assert_eq!(
        trail.last().unwrap().key.as_ref().unwrap().as_str(),
        "audit-2026-12"
    );
    let head = esr.verify_audit(vpd()).unwrap();

    // Another process with the same ring verifies; with the old key dropped it cannot.
    let rotated = AuditKeys::new(key_b()).with_retired(key_a()).unwrap();
    assert_eq!(service(&path, Some(rotated)).verify_audit(vpd()), Ok(head));
    let err = service(&path, Some(AuditKeys::new(key_b())))
        .verify_audit(vpd())
        .unwrap_err();
    assert!(err.to_string().contains("not in the ring"), "{err}");
    // Without any key, checkpoints cannot be checked.
    assert_eq!(
        service(&path, None).verify_audit(vpd()),
        Err(Error::NoAuditKey)
    );
    assert_eq!(
        service(&path, None).checkpoint(&system(), vpd()),
        Err(Error::NoAuditKey)
    );
}
