//! Record kinds as JSON document tables, and the versioned schema built from them.
//!
//! Every record kind but the audit trail is one table of the same shape: a unique `key` (the
//! record's key parts joined by U+001F, so that keys of one trust sort together), the trust's
//! `vpd`, a few indexed columns the queries filter on, the record as serde JSON in `body`, and
//! `secret`, the one field serde skips (a password hash, a full phone number or address), kept
//! out of the JSON. Adding a record kind is a [`Table`] constant, a migration that creates it,
//! and `StoreTx` methods that call [`Table::put`], [`Table::get`], [`Table::list`] and
//! [`Table::delete`].

use crate::storage;
use esr_core::{Error, Result};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A record kind stored as JSON documents with indexed key columns.
pub(crate) struct Table {
    /// The table's name.
    pub(crate) name: &'static str,
    /// Columns besides `key`, `vpd`, `body` and `secret`, in the order [`Table::put`] takes
    /// their values.
    pub(crate) columns: &'static [&'static str],
    /// Indexes, each a list of columns (`vpd` may be one of them).
    pub(crate) indexes: &'static [&'static [&'static str]],
}

/// A document read back: the record and its secret field.
pub(crate) type Doc<T> = (T, Option<String>);

impl Table {
    /// `CREATE TABLE` and `CREATE INDEX` statements for the table.
    pub(crate) fn ddl(&self) -> String {
        let mut sql = format!(
            "CREATE TABLE {n} (\n  key TEXT NOT NULL PRIMARY KEY,\n  vpd TEXT NOT NULL,\n",
            n = self.name
        );
        for c in self.columns {
            sql.push_str(&format!("  {c},\n"));
        }
        sql.push_str("  body TEXT NOT NULL,\n  secret TEXT\n);\n");
        sql.push_str(&format!(
            "CREATE INDEX {n}_by_vpd ON {n} (vpd, key);\n",
            n = self.name
        ));
        for (i, cols) in self.indexes.iter().enumerate() {
            sql.push_str(&format!(
                "CREATE INDEX {n}_{i} ON {n} ({});\n",
                cols.join(", "),
                n = self.name
            ));
        }
        sql
    }

    /// Inserts or replaces the record under `key` (an upsert, so the row keeps its rowid and
    /// lists in insertion order keep their order).
    pub(crate) fn put(
        &self,
        conn: &Connection,
        key: &str,
        vpd: &str,
        columns: Vec<Value>,
        body: &impl Serialize,
        secret: Option<&str>,
    ) -> Result<()> {
        debug_assert_eq!(columns.len(), self.columns.len());
        let body = to_json(self.name, body)?;
        let names: Vec<&str> = self.columns.to_vec();
        let holders: Vec<String> = (0..names.len()).map(|i| format!("?{}", i + 5)).collect();
        let mut sets: Vec<String> = names
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        sets.extend(
            [
                "vpd = excluded.vpd",
                "body = excluded.body",
                "secret = excluded.secret",
            ]
            .map(String::from),
        );
        let sql = format!(
            "INSERT INTO {n} (key, vpd, body, secret{cols}) VALUES (?1, ?2, ?3, ?4{holders}) \
             ON CONFLICT (key) DO UPDATE SET {sets}",
            n = self.name,
            cols = names.iter().map(|c| format!(", {c}")).collect::<String>(),
            holders = holders.iter().map(|h| format!(", {h}")).collect::<String>(),
            sets = sets.join(", "),
        );
        let mut values = vec![
            Value::Text(key.to_owned()),
            Value::Text(vpd.to_owned()),
            Value::Text(body),
            secret.map_or(Value::Null, |s| Value::Text(s.to_owned())),
        ];
        values.extend(columns);
        conn.prepare_cached(&sql)
            .and_then(|mut st| st.execute(params_from_iter(values)))
            .map_err(storage(self.name, "write"))?;
        Ok(())
    }

    /// The record under `key`.
    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        conn: &Connection,
        key: &str,
    ) -> Result<Option<Doc<T>>> {
        let sql = format!("SELECT body, secret FROM {} WHERE key = ?1", self.name);
        let row: Option<(String, Option<String>)> = conn
            .prepare_cached(&sql)
            .and_then(|mut st| {
                st.query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(storage(self.name, "read"))?;
        row.map(|(body, secret)| Ok((from_json(self.name, &body)?, secret)))
            .transpose()
    }

    /// The records matching `filter` (an SQL condition on the table's columns with `?1`, `?2`…
    /// placeholders for `params`), in `order` (an `ORDER BY` list; `rowid` is insertion order;
    /// empty for any order, when the caller sorts: an `ORDER BY` the filter's index does not
    /// give can make SQLite scan the whole table in that order instead of using the index).
    pub(crate) fn list<T: DeserializeOwned>(
        &self,
        conn: &Connection,
        filter: &str,
        order: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Doc<T>>> {
        let mut sql = format!("SELECT body, secret FROM {} WHERE {filter}", self.name);
        if !order.is_empty() {
            sql.push_str(" ORDER BY ");
            sql.push_str(order);
        }
        let rows: Vec<(String, Option<String>)> = conn
            .prepare_cached(&sql)
            .and_then(|mut st| {
                st.query_map(params_from_iter(params), |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .map_err(storage(self.name, "read"))?;
        rows.into_iter()
            .map(|(body, secret)| Ok((from_json(self.name, &body)?, secret)))
            .collect()
    }

    /// Deletes the record under `key`; whether there was one.
    pub(crate) fn delete(&self, conn: &Connection, key: &str) -> Result<bool> {
        let sql = format!("DELETE FROM {} WHERE key = ?1", self.name);
        let n = conn
            .prepare_cached(&sql)
            .and_then(|mut st| st.execute([key]))
            .map_err(storage(self.name, "delete"))?;
        Ok(n > 0)
    }
}

/// A record's key from its parts, joined by U+001F (which no identifier contains, and which
/// sorts before every printable character, so that keys sort as the tuples of their parts).
pub(crate) fn key(parts: &[&str]) -> String {
    parts.join("\u{1f}")
}

fn to_json(table: &str, v: &impl Serialize) -> Result<String> {
    serde_json::to_string(v)
        .map_err(|e| Error::Storage(format!("could not encode a {table} record: {e}")))
}

fn from_json<T: DeserializeOwned>(table: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| {
        Error::Storage(format!(
            "a stored {table} record cannot be read ({e}); the database was changed outside \
             esr-sqlite or by a newer version"
        ))
    })
}

// ----- The schema ----------------------------------------------------------------------------

pub(crate) const TRUSTS: Table = Table {
    name: "trusts",
    columns: &[],
    indexes: &[],
};
pub(crate) const PEOPLE: Table = Table {
    name: "people",
    columns: &["email"],
    indexes: &[&["vpd", "email"]],
};
pub(crate) const ACCOUNTS: Table = Table {
    name: "accounts",
    columns: &[],
    indexes: &[],
};
pub(crate) const ASSIGNMENTS: Table = Table {
    name: "assignments",
    columns: &["employee", "supervisor"],
    indexes: &[&["vpd", "employee"], &["vpd", "supervisor"]],
};
pub(crate) const GRANTS: Table = Table {
    name: "grants",
    columns: &["holder"],
    indexes: &[&["holder"]],
};
pub(crate) const SESSIONS: Table = Table {
    name: "sessions",
    columns: &["username"],
    indexes: &[&["username"]],
};
pub(crate) const CHALLENGES: Table = Table {
    name: "challenges",
    columns: &["username", "destination", "issued_at", "status"],
    indexes: &[
        &["username", "issued_at"],
        &["vpd", "destination", "issued_at"],
    ],
};
pub(crate) const COMPETENCE_DEFINITIONS: Table = Table {
    name: "competence_definitions",
    columns: &[],
    indexes: &[],
};
pub(crate) const REQUIREMENTS: Table = Table {
    name: "requirements",
    columns: &[],
    indexes: &[],
};
pub(crate) const EQUIVALENCES: Table = Table {
    name: "equivalences",
    columns: &[],
    indexes: &[],
};
/// Competence records as versions 1 to 8 kept them (a JSON document table); migration 9 moves
/// them to a table of columns (`src/competence.rs`).
pub(crate) const COMPETENCE_RECORDS_V1: Table = Table {
    name: "competence_records",
    columns: &["employee"],
    indexes: &[&["vpd", "employee"]],
};
pub(crate) const COMPLIANCE_SETTINGS: Table = Table {
    name: "compliance_settings",
    columns: &[],
    indexes: &[],
};

pub(crate) const CERTIFICATIONS: Table = Table {
    name: "certifications",
    columns: &[],
    indexes: &[],
};
pub(crate) const SUBSCRIPTIONS: Table = Table {
    name: "subscriptions",
    columns: &["employee"],
    indexes: &[&["vpd", "employee"]],
};
pub(crate) const ENROLMENTS: Table = Table {
    name: "enrolments",
    columns: &["employee"],
    indexes: &[&["vpd", "employee"]],
};

// Notifications and approvals (wf-notify)
pub(crate) const NOTIFICATIONS: Table = Table {
    name: "notifications",
    columns: &["employee", "state"],
    indexes: &[&["vpd", "employee"]],
};
pub(crate) const PENDING_CHANGES: Table = Table {
    name: "pending_changes",
    columns: &["status"],
    indexes: &[],
};
// Workflows: access requests, URP reviews, competence claims. `at` is the time raised (opened,
// claimed) as a sortable key, for lists oldest first.
pub(crate) const ACCESS_REQUESTS: Table = Table {
    name: "access_requests",
    columns: &["at"],
    indexes: &[&["vpd", "at"]],
};
pub(crate) const URP_REVIEWS: Table = Table {
    name: "urp_reviews",
    columns: &["at"],
    indexes: &[&["vpd", "at"]],
};
pub(crate) const COMPETENCE_CLAIMS: Table = Table {
    name: "competence_claims",
    columns: &["at"],
    indexes: &[&["vpd", "at"]],
};
/// The outbox: one message per challenge (the key is the challenge id, the idempotency key),
/// its payload (the code or link) in the secret column until it is settled; `due` is the next
/// attempt's time key while pending.
pub(crate) const OUTBOX: Table = Table {
    name: "outbox",
    columns: &["status", "due"],
    indexes: &[&["status", "due"]],
};

/// The audit trail: its own table, keyed by trust and sequence number, with triggers that
/// refuse every change to an appended entry.
const AUDIT: &str = "
CREATE TABLE audit (
  vpd TEXT NOT NULL,
  seq INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (vpd, seq)
) WITHOUT ROWID;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
";

/// Audit checkpoints, and the archive boundary of each trust: the delete trigger now lets
/// through only entries below the boundary `remove_audit_before` records first.
const AUDIT_ARCHIVE: &str = "
CREATE TABLE audit_checkpoints (
  vpd TEXT NOT NULL,
  seq INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (vpd, seq)
) WITHOUT ROWID;
CREATE TABLE audit_archived (
  vpd TEXT PRIMARY KEY NOT NULL,
  before INTEGER NOT NULL
) WITHOUT ROWID;
DROP TRIGGER audit_no_delete;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
WHEN NOT EXISTS (SELECT 1 FROM audit_archived a WHERE a.vpd = OLD.vpd AND OLD.seq < a.before)
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
";

/// One schema version: the tables it adds and any other SQL it runs. Never change a released
/// migration; add the next one.
pub(crate) struct Migration {
    pub(crate) tables: &'static [&'static Table],
    pub(crate) sql: &'static str,
}

/// The migrations; the schema version after migration `i` is `i + 1` (`PRAGMA user_version`).
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        tables: &[
            &TRUSTS,
            &PEOPLE,
            &ACCOUNTS,
            &ASSIGNMENTS,
            &GRANTS,
            &SESSIONS,
            &CHALLENGES,
            &COMPETENCE_DEFINITIONS,
            &REQUIREMENTS,
            &EQUIVALENCES,
            &COMPETENCE_RECORDS_V1,
            &COMPLIANCE_SETTINGS,
        ],
        sql: AUDIT,
    },
    // Version 2: certifications and enrolment.
    Migration {
        tables: &[&CERTIFICATIONS, &SUBSCRIPTIONS, &ENROLMENTS],
        sql: "",
    },
    // Version 3: audit checkpoints and archive.
    Migration {
        tables: &[],
        sql: AUDIT_ARCHIVE,
    },
    // Version 4: notifications and held changes.
    Migration {
        tables: &[&NOTIFICATIONS, &PENDING_CHANGES],
        sql: "",
    },
    // Version 5: access requests, URP reviews, competence claims.
    Migration {
        tables: &[&ACCESS_REQUESTS, &URP_REVIEWS, &COMPETENCE_CLAIMS],
        sql: "",
    },
    // Version 6: the outbox (messages delivered after commit).
    Migration {
        tables: &[&OUTBOX],
        sql: "",
    },
    // Version 7: authenticator apps.
    Migration {
        tables: &[],
        sql: AUTHENTICATORS,
    },
    // Version 8: sessions are kept under the SHA-256 of their id, never the id. Sessions stored
    // by earlier versions (under their id, in clear) are deleted: their users log in again.
    Migration {
        tables: &[],
        sql: "DELETE FROM sessions;",
    },
    // Version 9: competence records as columns in one `WITHOUT ROWID` table keyed by their key,
    // so that a large import writes a third of the pages it did.
    Migration {
        tables: &[],
        sql: crate::competence::MIGRATION_9,
    },
];

/// Authenticator apps: one row per account, the secret sealed (key id, nonce, ciphertext), and
/// the latest accepted time step that the replay guard advances with one conditional update.
const AUTHENTICATORS: &str = "
CREATE TABLE authenticators (
  username TEXT NOT NULL PRIMARY KEY,
  vpd TEXT NOT NULL,
  key_id TEXT NOT NULL,
  nonce BLOB NOT NULL,
  ciphertext BLOB NOT NULL,
  algorithm TEXT NOT NULL,
  digits INTEGER NOT NULL,
  period INTEGER NOT NULL,
  enrolled_at TEXT NOT NULL,
  activated_at TEXT,
  last_step INTEGER
);
";

/// Brings the schema up to date in one transaction, refusing a database from a newer version.
pub(crate) fn migrate(conn: &mut Connection) -> Result<u32> {
    let latest = u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX);
    // A database already up to date is opened without asking for the write lock, which
    // another process's steady writes could keep it from getting within the busy timeout.
    let current: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(storage("schema", "read the version"))?;
    if current == latest {
        return Ok(latest);
    }
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(storage("schema", "begin a migration"))?;
    let current: u32 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(storage("schema", "read the version"))?;
    if current > latest {
        return Err(Error::Storage(format!(
            "the database's schema is version {current}, newer than this esr-sqlite knows \
             ({latest}); open it with a newer esr-sqlite"
        )));
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let mut sql: String = m.tables.iter().map(|t| t.ddl()).collect();
        sql.push_str(m.sql);
        sql.push_str(&format!("PRAGMA user_version = {};", i + 1));
        tx.execute_batch(&sql)
            .map_err(storage("schema", "apply a migration"))?;
    }
    tx.commit()
        .map_err(storage("schema", "commit a migration"))?;
    Ok(latest)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Keys sort as the tuples of their parts, so a trust's keys sort together.
        #[test]
        fn keys_sort_as_their_parts(
            a in proptest::collection::vec("[ -~]{0,6}", 1..4),
            b in proptest::collection::vec("[ -~]{0,6}", 1..4),
        ) {
            let (ka, kb) = (key(&a.iter().map(String::as_str).collect::<Vec<_>>()),
                            key(&b.iter().map(String::as_str).collect::<Vec<_>>()));
            prop_assert_eq!(ka.cmp(&kb), a.cmp(&b));
        }
    }

    #[test]
    fn every_table_is_created_with_its_indexes() {
        let mut conn = Connection::open_in_memory().unwrap();
        let latest = MIGRATIONS.len() as u32;
        assert_eq!(migrate(&mut conn).unwrap(), latest);
        // Migrating again changes nothing.
        assert_eq!(migrate(&mut conn).unwrap(), latest);
        // Competence records are rebuilt by migration 9 with no index but their key.
        for t in MIGRATIONS
            .iter()
            .flat_map(|m| m.tables)
            .filter(|t| t.name != COMPETENCE_RECORDS_V1.name)
        {
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 \
                     AND name NOT LIKE 'sqlite_%'",
                    [t.name],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n as usize, 1 + t.indexes.len(), "{}", t.name);
        }
    }

    #[test]
    fn competence_records_have_no_index_but_their_key() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let (indexes, sql): (i64, String) = conn
            .query_row(
                "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'index' \
                 AND tbl_name = 'competence_records'), \
                 (SELECT sql FROM sqlite_master WHERE name = 'competence_records')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(indexes, 0);
        assert!(sql.contains("WITHOUT ROWID"), "{sql}");
    }
}
