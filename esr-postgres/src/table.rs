//! Record kinds as tables of typed key columns and a JSONB document, and the versioned schema.
//!
//! Every record kind but the audit trail, competence records and authenticators is one table
//! of the same shape: a unique `key` (the record's key parts joined by U+001F), the trust's
//! `vpd`, the typed columns its queries filter on (usernames, employee numbers, states,
//! `TIMESTAMPTZ` times), the record as JSONB in `body`, `secret` (the one field serde skips: a
//! password hash, a full phone number or address, a message payload) kept out of the JSON, and
//! `ord`, a sequence giving insertion order (kept by an upsert).

use crate::tx::{Param, Tx};
use esr_core::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A record kind stored as JSONB documents with typed key columns.
pub(crate) struct Table {
    /// The table's name.
    pub(crate) name: &'static str,
    /// Columns besides `key`, `vpd`, `body`, `secret` and `ord` (name and SQL type), in the
    /// order [`Table::put`] takes their values.
    pub(crate) columns: &'static [(&'static str, &'static str)],
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
        for (c, ty) in self.columns {
            sql.push_str(&format!("  {c} {ty},\n"));
        }
        sql.push_str(
            "  body JSONB NOT NULL,\n  secret TEXT,\n  ord BIGINT GENERATED ALWAYS AS IDENTITY\n);\n",
        );
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

    /// Inserts or replaces the record under `key`.
    pub(crate) fn put(
        &self,
        tx: &Tx<'_>,
        key: &str,
        vpd: &str,
        columns: Vec<Param>,
        body: &impl Serialize,
        secret: Option<&str>,
    ) -> Result<()> {
        debug_assert_eq!(columns.len(), self.columns.len());
        let body = to_json(self.name, body)?;
        let names: Vec<&str> = self.columns.iter().map(|(c, _)| *c).collect();
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
            "INSERT INTO {n} (key, vpd, body, secret{cols}) VALUES ($1, $2, $3, $4{holders}) \
             ON CONFLICT (key) DO UPDATE SET {sets}",
            n = self.name,
            cols = names.iter().map(|c| format!(", {c}")).collect::<String>(),
            holders = (0..names.len())
                .map(|i| format!(", ${}", i + 5))
                .collect::<String>(),
            sets = sets.join(", "),
        );
        let mut values: Vec<Param> = vec![
            Box::new(key.to_owned()),
            Box::new(vpd.to_owned()),
            Box::new(body),
            Box::new(secret.map(str::to_owned)),
        ];
        values.extend(columns);
        tx.execute(self.name, "write", &sql, &values)?;
        Ok(())
    }

    /// The record under `key`.
    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        tx: &Tx<'_>,
        key: &str,
    ) -> Result<Option<Doc<T>>> {
        let sql = format!("SELECT body, secret FROM {} WHERE key = $1", self.name);
        let rows = tx.query(self.name, "read", &sql, &[Box::new(key.to_owned())])?;
        rows.into_iter().next().map(|r| self.doc(&r)).transpose()
    }

    /// The records matching `filter` (an SQL condition with `$1`, `$2`… placeholders for
    /// `params`), in `order` (an `ORDER BY` list; `ord` is insertion order; empty for any).
    pub(crate) fn list<T: DeserializeOwned>(
        &self,
        tx: &Tx<'_>,
        filter: &str,
        order: &str,
        params: Vec<Param>,
    ) -> Result<Vec<Doc<T>>> {
        let mut sql = format!("SELECT body, secret FROM {} WHERE {filter}", self.name);
        if !order.is_empty() {
            sql.push_str(" ORDER BY ");
            sql.push_str(order);
        }
        tx.query(self.name, "read", &sql, &params)?
            .iter()
            .map(|r| self.doc(r))
            .collect()
    }

    fn doc<T: DeserializeOwned>(&self, row: &postgres::Row) -> Result<Doc<T>> {
        let body: serde_json::Value = row
            .try_get(0)
            .map_err(|e| unreadable(self.name, &e.to_string()))?;
        let secret: Option<String> = row
            .try_get(1)
            .map_err(|e| unreadable(self.name, &e.to_string()))?;
        Ok((from_json(self.name, body)?, secret))
    }

    /// Deletes the record under `key`; whether there was one.
    pub(crate) fn delete(&self, tx: &Tx<'_>, key: &str) -> Result<bool> {
        let sql = format!("DELETE FROM {} WHERE key = $1", self.name);
        Ok(tx.execute(self.name, "delete", &sql, &[Box::new(key.to_owned())])? > 0)
    }
}

/// A record's key from its parts, joined by U+001F.
pub(crate) fn key(parts: &[&str]) -> String {
    parts.join("\u{1f}")
}

pub(crate) fn to_json(table: &str, v: &impl Serialize) -> Result<serde_json::Value> {
    serde_json::to_value(v)
        .map_err(|e| Error::Storage(format!("could not encode a {table} record: {e}")))
}

pub(crate) fn from_json<T: DeserializeOwned>(table: &str, v: serde_json::Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| unreadable(table, &e.to_string()))
}

pub(crate) fn unreadable(table: &str, e: &str) -> Error {
    Error::Storage(format!(
        "a stored {table} record cannot be read ({e}); the database was changed outside \
         esr-postgres or by a newer version"
    ))
}

// ----- The schema ----------------------------------------------------------------------------

const TEXT: &str = "TEXT NOT NULL";
const TIME: &str = "TIMESTAMPTZ NOT NULL";

pub(crate) const TRUSTS: Table = Table {
    name: "trusts",
    columns: &[],
    indexes: &[],
};
pub(crate) const PEOPLE: Table = Table {
    name: "people",
    columns: &[("employee", TEXT), ("email", TEXT)],
    indexes: &[&["vpd", "email"]],
};
/// Usernames are unique by the primary key (the username is the key).
pub(crate) const ACCOUNTS: Table = Table {
    name: "accounts",
    columns: &[("employee", TEXT), ("state", TEXT)],
    indexes: &[&["vpd", "employee"]],
};
pub(crate) const ASSIGNMENTS: Table = Table {
    name: "assignments",
    columns: &[("employee", TEXT), ("supervisor", "TEXT")],
    indexes: &[&["vpd", "employee"], &["vpd", "supervisor"]],
};
pub(crate) const GRANTS: Table = Table {
    name: "grants",
    columns: &[("holder", TEXT)],
    indexes: &[&["holder"]],
};
pub(crate) const SESSIONS: Table = Table {
    name: "sessions",
    columns: &[("username", TEXT)],
    indexes: &[&["username"]],
};
pub(crate) const CHALLENGES: Table = Table {
    name: "challenges",
    columns: &[
        ("username", TEXT),
        ("destination", "TEXT"),
        ("issued_at", TIME),
        ("status", TEXT),
    ],
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
    columns: &[("employee", TEXT)],
    indexes: &[&["vpd", "employee"]],
};
pub(crate) const ENROLMENTS: Table = Table {
    name: "enrolments",
    columns: &[("employee", TEXT)],
    indexes: &[&["vpd", "employee"]],
};
pub(crate) const NOTIFICATIONS: Table = Table {
    name: "notifications",
    columns: &[("employee", TEXT), ("state", TEXT)],
    indexes: &[&["vpd", "employee"]],
};
pub(crate) const PENDING_CHANGES: Table = Table {
    name: "pending_changes",
    columns: &[("status", TEXT)],
    indexes: &[],
};
pub(crate) const ACCESS_REQUESTS: Table = Table {
    name: "access_requests",
    columns: &[("at", TIME)],
    indexes: &[&["vpd", "at"]],
};
pub(crate) const URP_REVIEWS: Table = Table {
    name: "urp_reviews",
    columns: &[("at", TIME)],
    indexes: &[&["vpd", "at"]],
};
pub(crate) const COMPETENCE_CLAIMS: Table = Table {
    name: "competence_claims",
    columns: &[("at", TIME)],
    indexes: &[&["vpd", "at"]],
};
/// The outbox: one message per challenge (the key is the challenge id), its payload in the
/// secret column until it is settled; `due` is the next attempt's time while pending.
pub(crate) const OUTBOX: Table = Table {
    name: "outbox",
    columns: &[("status", TEXT), ("due", "TIMESTAMPTZ")],
    indexes: &[&["status", "due"]],
};

/// The tables of schema version 1 that are document tables.
const TABLES_V1: &[&Table] = &[
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
    &COMPLIANCE_SETTINGS,
    &CERTIFICATIONS,
    &SUBSCRIPTIONS,
    &ENROLMENTS,
    &NOTIFICATIONS,
    &PENDING_CHANGES,
    &ACCESS_REQUESTS,
    &URP_REVIEWS,
    &COMPETENCE_CLAIMS,
    &OUTBOX,
];

/// The rest of schema version 1: the audit trail (append-only by trigger: an UPDATE is always
/// refused, a DELETE only below the trust's archive boundary), checkpoints, competence records
/// and authenticators as typed columns, and the unique employee number of a person's account.
const SQL_V1: &str = "
CREATE TABLE audit (
  vpd TEXT NOT NULL,
  seq BIGINT NOT NULL,
  at TIMESTAMPTZ NOT NULL,
  hash TEXT NOT NULL,
  body JSONB NOT NULL,
  PRIMARY KEY (vpd, seq)
);
CREATE TABLE audit_checkpoints (
  vpd TEXT NOT NULL,
  seq BIGINT NOT NULL,
  body JSONB NOT NULL,
  PRIMARY KEY (vpd, seq)
);
CREATE TABLE audit_archived (
  vpd TEXT PRIMARY KEY,
  before BIGINT NOT NULL
);
CREATE FUNCTION esr_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND EXISTS (
    SELECT 1 FROM audit_archived a WHERE a.vpd = OLD.vpd AND OLD.seq < a.before
  ) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'the audit trail is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION esr_audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION esr_audit_append_only();
CREATE TABLE competence_records (
  vpd TEXT NOT NULL,
  employee TEXT NOT NULL,
  competence TEXT NOT NULL,
  achieved DATE NOT NULL,
  expiry DATE,
  level TEXT NOT NULL,
  PRIMARY KEY (vpd, employee, competence, achieved)
);
CREATE TABLE authenticators (
  username TEXT NOT NULL PRIMARY KEY,
  vpd TEXT NOT NULL,
  key_id TEXT NOT NULL,
  nonce BYTEA NOT NULL,
  ciphertext BYTEA NOT NULL,
  algorithm TEXT NOT NULL,
  digits INTEGER NOT NULL,
  period INTEGER NOT NULL,
  enrolled_at TIMESTAMPTZ NOT NULL,
  activated_at TIMESTAMPTZ,
  last_step BIGINT
);
";

/// One schema version: the document tables it adds and any other SQL it runs. Never change
/// a released migration; add the next one.
pub(crate) struct Migration {
    pub(crate) tables: &'static [&'static Table],
    pub(crate) sql: &'static str,
}

/// The migrations; the schema version after migration `i` is `i + 1` (table `esr_schema`).
pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    tables: TABLES_V1,
    sql: SQL_V1,
}];

/// The SQL of migration `i`.
pub(crate) fn migration_sql(m: &Migration) -> String {
    let mut sql: String = m.tables.iter().map(|t| t.ddl()).collect();
    sql.push_str(m.sql);
    sql
}
