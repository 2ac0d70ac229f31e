//! Competence records: kept as typed columns (`DATE` achieved and expiry), keyed by trust,
//! person, competence and achieved date, and written in bulk by one `INSERT … SELECT FROM
//! unnest(…)` per chunk: one round trip for thousands of rows.

use crate::tx::{Param, Tx};
use esr_core::chrono::NaiveDate;
use esr_core::compliance::{CompetenceName, CompetenceRecord};
use esr_core::{EmployeeNumber, Error, Result, VpdCode};
use std::collections::HashMap;

/// Records written per statement.
const ROWS_PER_STATEMENT: usize = 5_000;

/// The upsert of one chunk. A record stored already exactly as given is not written again.
const UPSERT: &str = "INSERT INTO competence_records (vpd, employee, competence, achieved, expiry, level) \
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::date[], $6::text[]) \
     ON CONFLICT (vpd, employee, competence, achieved) DO UPDATE SET \
     expiry = excluded.expiry, level = excluded.level \
     WHERE competence_records.expiry IS DISTINCT FROM excluded.expiry \
     OR competence_records.level IS DISTINCT FROM excluded.level";

pub(crate) fn put_many(tx: &Tx<'_>, records: &[CompetenceRecord]) -> Result<()> {
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        // One statement may not touch a row twice: of repeated keys the last one wins, as
        // writing them one by one would.
        let mut last: HashMap<(&str, &str, &str, NaiveDate), usize> = HashMap::new();
        for (i, r) in chunk.iter().enumerate() {
            last.insert(
                (
                    r.vpd.as_str(),
                    r.employee_number.as_str(),
                    r.competence.as_str(),
                    r.achieved,
                ),
                i,
            );
        }
        let keep: Vec<&CompetenceRecord> = chunk
            .iter()
            .enumerate()
            .filter(|(i, r)| {
                last.get(&(
                    r.vpd.as_str(),
                    r.employee_number.as_str(),
                    r.competence.as_str(),
                    r.achieved,
                )) == Some(i)
            })
            .map(|(_, r)| r)
            .collect();
        let params: Vec<Param> = vec![
            Box::new(
                keep.iter()
                    .map(|r| r.vpd.as_str().to_owned())
                    .collect::<Vec<_>>(),
            ),
            Box::new(
                keep.iter()
                    .map(|r| r.employee_number.as_str().to_owned())
                    .collect::<Vec<_>>(),
            ),
            Box::new(
                keep.iter()
                    .map(|r| r.competence.as_str().to_owned())
                    .collect::<Vec<_>>(),
            ),
            Box::new(keep.iter().map(|r| r.achieved).collect::<Vec<_>>()),
            Box::new(keep.iter().map(|r| r.expiry).collect::<Vec<_>>()),
            Box::new(keep.iter().map(|r| r.level.to_string()).collect::<Vec<_>>()),
        ];
        tx.execute("competence_records", "write", UPSERT, &params)?;
    }
    Ok(())
}

pub(crate) fn delete(
    tx: &Tx<'_>,
    vpd: VpdCode,
    employee: &EmployeeNumber,
    competence: &CompetenceName,
    achieved: NaiveDate,
) -> Result<bool> {
    let n = tx.execute(
        "competence_records",
        "delete",
        "DELETE FROM competence_records \
         WHERE vpd = $1 AND employee = $2 AND competence = $3 AND achieved = $4",
        &[
            Box::new(vpd.as_str().to_owned()),
            Box::new(employee.as_str().to_owned()),
            Box::new(competence.as_str().to_owned()),
            Box::new(achieved),
        ],
    )?;
    Ok(n > 0)
}

const SELECT: &str =
    "SELECT vpd, employee, competence, achieved, expiry, level FROM competence_records";

pub(crate) fn of_trust(tx: &Tx<'_>, vpd: VpdCode) -> Result<Vec<CompetenceRecord>> {
    list(
        tx,
        &format!("{SELECT} WHERE vpd = $1"),
        &[Box::new(vpd.as_str().to_owned())],
    )
}

pub(crate) fn of_employee(
    tx: &Tx<'_>,
    vpd: VpdCode,
    employee: &EmployeeNumber,
) -> Result<Vec<CompetenceRecord>> {
    list(
        tx,
        &format!("{SELECT} WHERE vpd = $1 AND employee = $2"),
        &[
            Box::new(vpd.as_str().to_owned()),
            Box::new(employee.as_str().to_owned()),
        ],
    )
}

fn list(tx: &Tx<'_>, sql: &str, params: &[Param]) -> Result<Vec<CompetenceRecord>> {
    tx.query("competence_records", "read", sql, params)?
        .iter()
        .map(record)
        .collect()
}

fn record(row: &postgres::Row) -> Result<CompetenceRecord> {
    let bad = || {
        Error::Storage(
            "a stored competence record cannot be read; the database was changed outside \
             esr-postgres or by a newer version"
                .into(),
        )
    };
    let text = |i: usize| row.try_get::<_, String>(i).map_err(|_| bad());
    Ok(CompetenceRecord {
        vpd: text(0)?.parse().map_err(|_| bad())?,
        employee_number: text(1)?.parse().map_err(|_| bad())?,
        competence: text(2)?.parse().map_err(|_| bad())?,
        achieved: row.try_get(3).map_err(|_| bad())?,
        expiry: row.try_get(4).map_err(|_| bad())?,
        level: text(5)?.parse().map_err(|_| bad())?,
    })
}
