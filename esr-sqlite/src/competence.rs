//! Competence records: the one record kind kept as plain columns rather than a JSON document.
//!
//! A trust's competence export runs to hundreds of thousands of rows, and an import writes
//! them all in one transaction, holding the write lock while it does. Schema version 9 keeps
//! them in one `WITHOUT ROWID` table whose primary key is the record's key (trust, person,
//! competence, achieved date), with no other index: the two lookups (a trust's records, a
//! person's records) are prefixes of that key. A row is its six values as text, about a third
//! of the JSON document with its key and three indexes that versions 1 to 8 wrote, so an import
//! writes (and syncs) about a third of the pages, and the records, sorted by key, are appended
//! in order. Each value is its serde text form, so the migration converts the old rows with
//! `json_extract`.

use crate::storage;
use esr_core::chrono::NaiveDate;
use esr_core::compliance::{CompetenceLevel, CompetenceName, CompetenceRecord};
use esr_core::{EmployeeNumber, Error, Result, VpdCode};
use rusqlite::{Connection, Row, ToSql};
use std::fmt::Write;
use std::str::FromStr;

/// Migration 9: the records move to a `WITHOUT ROWID` table of columns, keyed by their key.
pub(crate) const MIGRATION_9: &str = "
CREATE TABLE competence_records_v9 (
  vpd TEXT NOT NULL,
  employee TEXT NOT NULL,
  competence TEXT NOT NULL,
  achieved TEXT NOT NULL,
  expiry TEXT,
  level TEXT NOT NULL,
  PRIMARY KEY (vpd, employee, competence, achieved)
) WITHOUT ROWID;
INSERT INTO competence_records_v9 (vpd, employee, competence, achieved, expiry, level)
SELECT vpd, json_extract(body, '$.employee_number'), json_extract(body, '$.competence'),
       json_extract(body, '$.achieved'), json_extract(body, '$.expiry'),
       json_extract(body, '$.level')
FROM competence_records;
DROP TABLE competence_records;
ALTER TABLE competence_records_v9 RENAME TO competence_records;
";

/// Rows written per `INSERT` statement by [`put_many`]: fewer statements to step through,
/// within SQLite's limit of 32,766 parameters.
const ROWS_PER_STATEMENT: usize = 64;
const COLUMNS: usize = 6;

/// The `INSERT … ON CONFLICT` of `rows` records. A record stored already exactly as given is
/// not written again, so a repeated import writes only what changed.
fn upsert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO competence_records (vpd, employee, competence, achieved, expiry, level) \
         VALUES ",
    );
    for r in 0..rows {
        let b = r * COLUMNS;
        let sep = if r == 0 { "" } else { ", " };
        let _ = write!(
            sql,
            "{sep}(?{}, ?{}, ?{}, ?{}, ?{}, ?{})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5,
            b + 6
        );
    }
    sql.push_str(
        " ON CONFLICT (vpd, employee, competence, achieved) DO UPDATE SET \
         expiry = excluded.expiry, level = excluded.level \
         WHERE expiry IS NOT excluded.expiry OR level IS NOT excluded.level",
    );
    sql
}

/// A date as its serde text (`2026-11-23`), written without the formatting machinery: an
/// import writes two per record.
fn date_text(buf: &mut String, d: NaiveDate) -> &str {
    use esr_core::chrono::Datelike;
    buf.clear();
    let (y, m, day) = (d.year(), d.month(), d.day());
    if (0..=9999).contains(&y) {
        let digits = [
            y / 1000,
            y / 100 % 10,
            y / 10 % 10,
            y % 10,
            -1,
            (m / 10) as i32,
            (m % 10) as i32,
            -1,
            (day / 10) as i32,
            (day % 10) as i32,
        ];
        buf.extend(
            digits
                .iter()
                .map(|&n| char::from_digit(n as u32, 10).unwrap_or('-')),
        );
    } else {
        let _ = write!(buf, "{d}");
    }
    buf
}

/// Binds records' values to a statement, reusing its buffers from one record to the next.
#[derive(Default)]
struct Binder {
    achieved: String,
    expiry: String,
    /// The last level bound and its text (an import's records mostly share one).
    level: Option<(CompetenceLevel, String)>,
}

impl Binder {
    /// Binds `r` to parameters `first + 1` to `first + 6`.
    fn bind(
        &mut self,
        st: &mut rusqlite::Statement<'_>,
        first: usize,
        r: &CompetenceRecord,
    ) -> rusqlite::Result<()> {
        if self.level.as_ref().is_none_or(|(l, _)| *l != r.level) {
            self.level = Some((r.level.clone(), r.level.to_string()));
        }
        let level = self.level.as_ref().map_or("", |(_, t)| t.as_str());
        st.raw_bind_parameter(first + 1, r.vpd.as_str())?;
        st.raw_bind_parameter(first + 2, r.employee_number.as_str())?;
        st.raw_bind_parameter(first + 3, r.competence.as_str())?;
        st.raw_bind_parameter(first + 4, date_text(&mut self.achieved, r.achieved))?;
        match r.expiry {
            Some(e) => st.raw_bind_parameter(first + 5, date_text(&mut self.expiry, e))?,
            None => st.raw_bind_parameter(first + 5, rusqlite::types::Null)?,
        }
        st.raw_bind_parameter(first + 6, level)
    }
}

fn write_error(e: rusqlite::Error) -> Error {
    storage("competence_records", "write")(e)
}

/// Inserts or replaces `records`, in as few statements as it can. Sorted by key (as an import
/// gives them), they are appended to the table's one b-tree in order.
pub(crate) fn put_many(conn: &Connection, records: &[CompetenceRecord]) -> Result<()> {
    let mut binder = Binder::default();
    let mut chunks = records.chunks_exact(ROWS_PER_STATEMENT);
    if chunks.len() > 0 {
        let mut st = conn
            .prepare_cached(&upsert_sql(ROWS_PER_STATEMENT))
            .map_err(write_error)?;
        for chunk in chunks.by_ref() {
            for (i, r) in chunk.iter().enumerate() {
                binder.bind(&mut st, i * COLUMNS, r).map_err(write_error)?;
            }
            st.raw_execute().map_err(write_error)?;
        }
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut st = conn.prepare_cached(&upsert_sql(1)).map_err(write_error)?;
        for r in rest {
            binder.bind(&mut st, 0, r).map_err(write_error)?;
            st.raw_execute().map_err(write_error)?;
        }
    }
    Ok(())
}

/// Deletes a record; whether there was one.
pub(crate) fn delete(
    conn: &Connection,
    vpd: VpdCode,
    employee: &EmployeeNumber,
    competence: &CompetenceName,
    achieved: NaiveDate,
) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "DELETE FROM competence_records \
             WHERE vpd = ?1 AND employee = ?2 AND competence = ?3 AND achieved = ?4",
        )
        .and_then(|mut st| {
            st.execute([
                vpd.as_str(),
                employee.as_str(),
                competence.as_str(),
                &achieved.to_string(),
            ])
        })
        .map_err(storage("competence_records", "delete"))?;
    Ok(n > 0)
}

const SELECT: &str =
    "SELECT vpd, employee, competence, achieved, expiry, level FROM competence_records";

/// A trust's records, in key order.
pub(crate) fn of_trust(conn: &Connection, vpd: VpdCode) -> Result<Vec<CompetenceRecord>> {
    list(conn, &format!("{SELECT} WHERE vpd = ?1"), &[&vpd.as_str()])
}

/// A person's records, in key order.
pub(crate) fn of_employee(
    conn: &Connection,
    vpd: VpdCode,
    employee: &EmployeeNumber,
) -> Result<Vec<CompetenceRecord>> {
    list(
        conn,
        &format!("{SELECT} WHERE vpd = ?1 AND employee = ?2"),
        &[&vpd.as_str(), &employee.as_str()],
    )
}

fn list(conn: &Connection, sql: &str, params: &[&dyn ToSql]) -> Result<Vec<CompetenceRecord>> {
    let read = storage("competence_records", "read");
    let mut st = conn.prepare_cached(sql).map_err(&read)?;
    let mut rows = st.query(params).map_err(&read)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(&read)? {
        out.push(record(row)?);
    }
    Ok(out)
}

/// A row back into a record.
fn record(row: &Row<'_>) -> Result<CompetenceRecord> {
    fn parse<T: FromStr>(s: Option<&str>) -> Option<T> {
        s?.parse().ok()
    }
    let text = |i: usize| row.get_ref(i).ok()?.as_str_or_null().ok().flatten();
    let parsed = || -> Option<CompetenceRecord> {
        Some(CompetenceRecord {
            vpd: parse(text(0))?,
            employee_number: parse(text(1))?,
            competence: parse(text(2))?,
            achieved: parse(text(3))?,
            expiry: match text(4) {
                None => None,
                s => Some(parse(s)?),
            },
            level: parse::<CompetenceLevel>(text(5))?,
        })
    };
    parsed().ok_or_else(|| {
        Error::Storage(
            "a stored competence record cannot be read; the database was changed outside \
             esr-sqlite or by a newer version"
                .into(),
        )
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use esr_core::chrono::{Datelike, TimeDelta};
    use esr_core::compliance::{CSTF_TITLES, cstf};
    use proptest::prelude::*;

    proptest! {
        /// The fast date text is chrono's (serde's) text, across chrono's range.
        #[test]
        fn date_text_is_chronos(days in -3_000_000i64..3_000_000) {
            let d = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + TimeDelta::days(days);
            let mut buf = String::new();
            prop_assert_eq!(date_text(&mut buf, d), d.to_string());
        }
    }

    fn records(n: usize, expiry_days: i64) -> Vec<CompetenceRecord> {
        let day0 = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        let mut v: Vec<CompetenceRecord> = (0..n)
            .map(|i| CompetenceRecord {
                vpd: "297".parse().unwrap(),
                employee_number: format!("{}", 200_000_000 + i % 7).parse().unwrap(),
                competence: cstf(CSTF_TITLES[i % CSTF_TITLES.len()]).unwrap(),
                achieved: day0 + TimeDelta::days(i as i64),
                expiry: (i % 3 != 0).then(|| day0 + TimeDelta::days(i as i64 + expiry_days)),
                level: if i % 5 == 0 {
                    CompetenceLevel::not_assessed()
                } else {
                    CompetenceLevel::assessed()
                },
            })
            .collect();
        v.sort_by(|a, b| {
            (&a.employee_number, &a.competence, a.achieved).cmp(&(
                &b.employee_number,
                &b.competence,
                b.achieved,
            ))
        });
        v
    }

    #[test]
    fn many_records_round_trip_and_a_second_write_replaces_them() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::table::migrate(&mut conn).unwrap();
        let v: VpdCode = "297".parse().unwrap();
        // Two full statements and a remainder.
        let n = 2 * ROWS_PER_STATEMENT + 3;
        let first = records(n, 365);
        put_many(&conn, &first).unwrap();
        assert_eq!(of_trust(&conn, v).unwrap(), first);
        let second = records(n, 730);
        put_many(&conn, &second).unwrap();
        assert_eq!(of_trust(&conn, v).unwrap(), second);
        let who = &second[0].employee_number;
        let theirs: Vec<_> = second
            .iter()
            .filter(|r| &r.employee_number == who)
            .cloned()
            .collect();
        assert_eq!(of_employee(&conn, v, who).unwrap(), theirs);
        let r = &theirs[0];
        assert!(delete(&conn, v, who, &r.competence, r.achieved).unwrap());
        assert!(!delete(&conn, v, who, &r.competence, r.achieved).unwrap());
        assert_eq!(of_trust(&conn, v).unwrap().len(), n - 1);
        assert!(r.achieved.year() >= 2020);
    }

    #[test]
    fn an_unreadable_row_is_a_storage_error() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::table::migrate(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO competence_records VALUES ('297', '200000001', 'x', 'not a date', \
             NULL, '1 - Assessed')",
            [],
        )
        .unwrap();
        let err = of_trust(&conn, "297".parse().unwrap()).unwrap_err();
        assert!(
            matches!(&err, Error::Storage(m) if m.contains("competence record")),
            "{err}"
        );
    }
}
