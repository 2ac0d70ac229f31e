//! Session ids are bearer secrets: the SQLite file keeps only their SHA-256, so nothing read
//! from the file acts as a logged-in user.

#![allow(clippy::unwrap_used)]

use esr_core::store::testkit::Harness;
use esr_core::{ErrorKind, SessionId};
use esr_sqlite::SqliteStore;

/// Every 32-character run of hexadecimal digits in `text`: what could be a session id.
fn candidate_ids(text: &str) -> Vec<SessionId> {
    let hex: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    for start in 0..hex.len() {
        if start + 32 > hex.len() {
            break;
        }
        let window: String = hex[start..start + 32].iter().collect();
        if let Ok(id) = window.parse::<SessionId>() {
            out.push(id);
        }
    }
    out
}

#[test]
fn an_id_read_from_the_file_does_not_act_as_its_user() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("esr.db");
    let h = Harness::new(SqliteStore::open(&path).unwrap());
    let p = h.populate("297".parse().unwrap());
    // The real id works.
    assert!(h.esr.session(p.session).is_ok());

    // Whatever the sessions table holds, keys and bodies.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let rows: Vec<(String, String)> = conn
        .prepare("SELECT key, body FROM sessions")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!rows.is_empty());
    let mut tried = 0;
    for (key, body) in &rows {
        assert_eq!(key.len(), 64, "the key is a SHA-256: {key}");
        for id in candidate_ids(key).into_iter().chain(candidate_ids(body)) {
            tried += 1;
            let err = h.esr.session(id).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::SessionExpired, "{err}");
        }
    }
    assert!(tried > 0);

    // The id itself is nowhere in the database or its write-ahead log.
    let id = p.session.to_string();
    for suffix in ["", "-wal"] {
        let file = dir.path().join(format!("esr.db{suffix}"));
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        assert!(
            !bytes.windows(id.len()).any(|w| w == id.as_bytes()),
            "{} holds the session id",
            file.display()
        );
        assert!(
            !bytes
                .windows(16)
                .any(|w| w == p.session.as_bytes().as_slice()),
            "{} holds the session id's bytes",
            file.display()
        );
    }
}
