//! ESR competence files: reading a competence export (CSV) and writing a compliance matrix (CSV).
//!
//! Dates print and parse as ESR writes them: `30-Nov-2028` (month names in any case).

use crate::bulk::days_since_epoch;
use crate::competence::{CompetenceLevel, CompetenceName, CompetenceOwner};
use crate::compliance::{AssignmentCompliance, ComplianceStatus, format_percent};
use crate::error::{Error, Result};
use crate::ids::{EmployeeNumber, VpdCode};
use chrono::NaiveDate;
use std::collections::BTreeSet;
use std::fmt;

/// The format of dates in ESR files.
pub const ESR_DATE_FORMAT: &str = "%d-%b-%Y";

/// Formats a date as ESR does: `30-Nov-2028`.
pub fn format_esr_date(d: NaiveDate) -> String {
    d.format(ESR_DATE_FORMAT).to_string()
}

/// Parses an ESR date (`30-Nov-2028`, `30-NOV-2028`).
pub fn parse_esr_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), ESR_DATE_FORMAT).map_err(|_| {
        Error::invalid(
            "date",
            format!("{s:?} is not a date written as ESR writes them, such as 30-Nov-2028"),
        )
    })
}

/// One bad row of an import: its line in the file (the header is line 1) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ImportProblem {
    /// The line number in the file, from 1.
    pub line: u64,
    /// What is wrong with it and what to do.
    pub reason: String,
}

impl fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// How to import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ImportOptions {
    /// Import the good rows and report the bad ones, instead of refusing the whole file when
    /// any row is bad.
    pub skip_bad_rows: bool,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ImportSummary {
    /// Records written (new or replacing one with the same person, competence and achieved
    /// date).
    pub imported: usize,
    /// Rows that repeated an earlier row's person, competence and achieved date: the one with
    /// the latest expiry was kept.
    pub merged_duplicates: usize,
    /// The bad rows skipped (only with [`ImportOptions::skip_bad_rows`]).
    pub skipped: Vec<ImportProblem>,
}

/// One good row of a competence export, before the service checks people and the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExportRow {
    pub(crate) line: u64,
    pub(crate) employee: EmployeeNumber,
    pub(crate) competence: CompetenceName,
    pub(crate) achieved: Option<NaiveDate>,
    pub(crate) expiry: Option<NaiveDate>,
    pub(crate) level: CompetenceLevel,
}

/// Reads a competence name in the pipe form (`NHS|CSTF|Fire Safety - 1 Year|`) or as ESR's
/// screens show it (`NHS(CSTF)Fire Safety - 1 Year`).
pub fn parse_competence_loose(s: &str) -> Result<CompetenceName> {
    let s = s.trim();
    if s.contains('|') {
        return s.parse();
    }
    if let Some((owner, rest)) = s.split_once('(')
        && let Some((framework, title)) = rest.split_once(')')
    {
        let owner = match owner.trim() {
            "NHS" => CompetenceOwner::National,
            o => CompetenceOwner::Local(o.parse()?),
        };
        return CompetenceName::new(owner, framework.trim(), title.trim());
    }
    s.parse()
}

fn header_index(headers: &csv::StringRecord, names: &[&str]) -> Option<usize> {
    headers.iter().position(|h| {
        let h = h.trim().trim_start_matches('\u{feff}');
        names.iter().any(|n| h.eq_ignore_ascii_case(n))
    })
}

/// Parses an ESR competence export. Columns are found by header, in any order and case:
/// `Employee Number`, `Competency Name` (or `Competence Name`) and `Expiry Date` are needed
/// (an empty expiry means never expires); `VPD` (must be the importing trust's), `Achieved Date`
/// (or `Date Achieved`, `Date From`) and `Competence Level` (or `Proficiency Level`, `Level`) are
/// read when present; other columns are ignored. Returns the good rows and the bad ones; a file
/// whose header lacks a needed column is refused as a whole.
pub(crate) fn parse_export(
    vpd: VpdCode,
    data: &[u8],
) -> Result<(Vec<ExportRow>, Vec<ImportProblem>)> {
    let mut rows = Vec::new();
    let problems = parse_export_rows(vpd, data, |row| rows.push(row))?;
    Ok((rows, problems))
}

/// [`parse_export`] over any reader, handing each good row to `each` as it is read (so a large
/// file is never held whole) and returning the bad ones.
fn parse_export_rows<R: std::io::Read>(
    vpd: VpdCode,
    reader: R,
    mut each: impl FnMut(ExportRow),
) -> Result<Vec<ImportProblem>> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(reader);
    let headers = rdr.headers().cloned().map_err(|e| Error::ImportRejected {
        problems: vec![ImportProblem {
            line: 1,
            reason: format!("the header cannot be read ({e}); save the file as UTF-8 CSV"),
        }],
    })?;
    let need = |names: &[&str], label: &str| {
        header_index(&headers, names).ok_or_else(|| Error::ImportRejected {
            problems: vec![ImportProblem {
                line: 1,
                reason: format!("the header has no {label} column; export the competences with it"),
            }],
        })
    };
    let c_emp = need(&["Employee Number"], "Employee Number")?;
    let c_name = need(&["Competency Name", "Competence Name"], "Competency Name")?;
    let c_exp = need(&["Expiry Date"], "Expiry Date")?;
    let c_vpd = header_index(&headers, &["VPD", "VPD Code"]);
    let c_ach = header_index(&headers, &["Achieved Date", "Date Achieved", "Date From"]);
    let c_lvl = header_index(
        &headers,
        &["Competence Level", "Proficiency Level", "Level"],
    );

    let mut problems = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let fallback_line = i as u64 + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(fallback_line, |p| p.line());
                problems.push(ImportProblem {
                    line,
                    reason: format!(
                        "the row cannot be read as CSV ({e}); fix its quoting or encoding"
                    ),
                });
                continue;
            }
        };
        let line = rec.position().map_or(fallback_line, |p| p.line());
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let field = |c: usize| rec.get(c).map(str::trim).unwrap_or("");
        let mut why = Vec::new();
        if let Some(c) = c_vpd {
            let v = field(c);
            if v != vpd.as_str() {
                why.push(format!(
                    "VPD {v:?} is not this trust's ({vpd}); import each trust's rows into that trust"
                ));
            }
        }
        let employee = field(c_emp)
            .parse::<EmployeeNumber>()
            .map_err(|e| why.push(format!("Employee Number: {e}")))
            .ok();
        let competence = parse_competence_loose(field(c_name))
            .map_err(|e| why.push(format!("Competency Name: {e}")))
            .ok();
        let expiry = match field(c_exp) {
            "" => Some(None),
            s => parse_esr_date(s)
                .map(Some)
                .map_err(|e| why.push(format!("Expiry Date: {e}")))
                .ok(),
        };
        let achieved = match c_ach.map(field) {
            None | Some("") => Some(None),
            Some(s) => parse_esr_date(s)
                .map(Some)
                .map_err(|e| why.push(format!("Achieved Date: {e}")))
                .ok(),
        };
        let level = match c_lvl.map(field) {
            None | Some("") => Some(CompetenceLevel::default()),
            Some(s) => s
                .parse::<CompetenceLevel>()
                .map_err(|e| why.push(format!("Competence Level: {e}")))
                .ok(),
        };
        if let (Some(Some(a)), Some(Some(e))) = (achieved, expiry)
            && e < a
        {
            why.push(format!(
                "the expiry {} is before the achieved date {}; check both dates",
                format_esr_date(e),
                format_esr_date(a)
            ));
        }
        match (employee, competence, expiry, achieved, level) {
            (Some(employee), Some(competence), Some(expiry), Some(achieved), Some(level))
                if why.is_empty() =>
            {
                each(ExportRow {
                    line,
                    employee,
                    competence,
                    achieved,
                    expiry,
                    level,
                });
            }
            _ => problems.push(ImportProblem {
                line,
                reason: why.join("; "),
            }),
        }
    }
    Ok(problems)
}

/// An ESR competence export as columns (Arrow-shaped), one entry per good row in file order:
/// what [`read_competence_export`] returns for analysts and the bulk scorer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompetenceExportColumns {
    /// The row's line in the file (the header is line 1).
    pub line: Vec<u64>,
    /// The employee number as written (`20000001`).
    pub employee_number: Vec<String>,
    /// The employee number as an integer id (employee numbers are 6 to 12 digits), the
    /// `person_id` of the bulk scorer.
    pub person_id: Vec<i64>,
    /// The competence's full name in the pipe form (`NHS|CSTF|Fire Safety - 1 Year|`), whatever
    /// form the file used.
    pub competence: Vec<String>,
    /// The achieved date, days since 1970-01-01; `None` when the file has none.
    pub achieved: Vec<Option<i32>>,
    /// The expiry date, days since 1970-01-01; `None`: never expires.
    pub expiry: Vec<Option<i32>>,
    /// The competence level as ESR writes it (`1 - Assessed`).
    pub level: Vec<String>,
}

impl CompetenceExportColumns {
    /// Rows.
    pub fn len(&self) -> usize {
        self.line.len()
    }
    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.line.is_empty()
    }
}

/// Reads an ESR competence export (the columns [`crate::Esr::import_competences`]
/// reads, found by header) from `reader` as it goes, into columns, without touching any
/// service. A row with a bad field refuses the whole file with [`Error::ImportRejected`] (every
/// bad row with its line); with [`ImportOptions::skip_bad_rows`] the good rows are returned
/// and the bad ones listed beside them. Duplicates are kept: the bulk scorer takes the latest
/// expiry itself.
pub fn read_competence_export<R: std::io::Read>(
    vpd: VpdCode,
    reader: R,
    options: ImportOptions,
) -> Result<(CompetenceExportColumns, Vec<ImportProblem>)> {
    let mut cols = CompetenceExportColumns::default();
    let mut more = Vec::new();
    let mut problems = parse_export_rows(vpd, reader, |row| {
        // Dates beyond ±5.8 million years cannot be counted in `i32` days.
        let days = |d: Option<NaiveDate>| d.map(days_since_epoch).transpose();
        let (achieved, expiry) = match (days(row.achieved), days(row.expiry)) {
            (Ok(a), Ok(e)) => (a, e),
            (Err(e), _) | (_, Err(e)) => {
                more.push(ImportProblem {
                    line: row.line,
                    reason: e.to_string(),
                });
                return;
            }
        };
        let Ok(person) = row.employee.as_str().parse::<i64>() else {
            more.push(ImportProblem {
                line: row.line,
                reason: "Employee Number: it is not a whole number".to_owned(),
            });
            return;
        };
        cols.line.push(row.line);
        cols.person_id.push(person);
        cols.employee_number.push(row.employee.as_str().to_owned());
        cols.competence.push(row.competence.as_str().to_owned());
        cols.achieved.push(achieved);
        cols.expiry.push(expiry);
        cols.level.push(row.level.to_string());
    })?;
    problems.append(&mut more);
    problems.sort_by_key(|p| p.line);
    if !problems.is_empty() && !options.skip_bad_rows {
        return Err(Error::ImportRejected { problems });
    }
    Ok((cols, problems))
}

fn status_cell(status: Option<ComplianceStatus>, expiry: Option<NaiveDate>) -> String {
    match (status, expiry) {
        (None, _) => String::new(),
        (Some(s), Some(e)) => format!("{s} {}", format_esr_date(e)),
        (Some(s), None) => s.to_string(),
    }
}

/// Writes a compliance matrix: one line per assignment (`Employee Number`, `Assignment`,
/// `Organisation Unit`, `As Of`, `Essential`, `Green`, `Amber`, `Red`, `Compliance Percentage`)
/// and one column per competence any of them needs or holds, whose cell is the row's status and
/// the expiry that counts (`Amber 12-Aug-2018`; `Red` alone when not held; empty when the
/// competence is neither needed nor held).
pub fn compliance_matrix_csv(rows: &[(EmployeeNumber, AssignmentCompliance)]) -> Result<String> {
    let competences: BTreeSet<&CompetenceName> = rows
        .iter()
        .flat_map(|(_, a)| a.rows.iter().map(|r| &r.competence))
        .collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let storage = |e: csv::Error| Error::Storage(format!("writing the compliance matrix: {e}"));
    let mut header = vec![
        "Employee Number".to_owned(),
        "Assignment".to_owned(),
        "Organisation Unit".to_owned(),
        "As Of".to_owned(),
        "Essential".to_owned(),
        "Green".to_owned(),
        "Amber".to_owned(),
        "Red".to_owned(),
        "Compliance Percentage".to_owned(),
    ];
    header.extend(competences.iter().map(|c| c.to_string()));
    w.write_record(&header).map_err(storage)?;
    for (employee, a) in rows {
        let mut line = vec![
            employee.to_string(),
            a.assignment.to_string(),
            a.org_unit.to_string(),
            format_esr_date(a.as_of),
            a.counts.essential.to_string(),
            a.counts.green.to_string(),
            a.counts.amber.to_string(),
            a.counts.red.to_string(),
            format_percent(a.percent()),
        ];
        for c in &competences {
            let cell = a
                .rows
                .iter()
                .find(|r| &&r.competence == c)
                .map(|r| status_cell(r.status, r.holding.expiry()))
                .unwrap_or_default();
            line.push(cell);
        }
        w.write_record(&line).map_err(storage)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Storage(format!("writing the compliance matrix: {e}")))?;
    String::from_utf8(bytes)
        .map_err(|e| Error::Storage(format!("the compliance matrix is not UTF-8: {e}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn vpd() -> VpdCode {
        "297".parse().unwrap()
    }

    #[test]
    fn dates_print_and_parse_as_esr_writes_them() {
        let d = NaiveDate::from_ymd_opt(2028, 11, 30).unwrap();
        assert_eq!(format_esr_date(d), "30-Nov-2028");
        assert_eq!(parse_esr_date("30-Nov-2028").unwrap(), d);
        assert_eq!(parse_esr_date("30-NOV-2028").unwrap(), d);
        assert_eq!(parse_esr_date(" 30-nov-2028 ").unwrap(), d);
        assert!(parse_esr_date("2028-11-30").is_err());
        assert!(parse_esr_date("31-Nov-2028").is_err());
        assert!(parse_esr_date("29-Feb-2027").is_err());
        assert!(parse_esr_date("29-Feb-2028").is_ok());
    }

    #[test]
    fn loose_names() {
        let n = parse_competence_loose("NHS(CSTF)Fire Safety - 1 Year").unwrap();
        assert_eq!(n.as_str(), "NHS|CSTF|Fire Safety - 1 Year|");
        let n = parse_competence_loose("297|LOCAL|Sepsis|").unwrap();
        assert_eq!(n.as_str(), "297|LOCAL|Sepsis|");
        assert!(parse_competence_loose("Fire Safety").is_err());
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let csv = "\
Employee Number,Competency Name,Expiry Date,VPD
20000001,NHS|CSTF|Fire Safety - 1 Year|,30-Nov-2028,297
x1,NHS|CSTF|Fire Safety - 1 Year|,30-Nov-2028,297
20000002,Fire Safety,30-Nov-2028,297
20000003,NHS|CSTF|Fire Safety - 1 Year|,2028-11-30,297
20000004,NHS|CSTF|Fire Safety - 1 Year|,,999
20000005,\"NHS|CSTF|Equality, Diversity and Human Rights - 3 Years|\",,297
";
        let (rows, problems) = parse_export(vpd(), csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[1].expiry, None);
        assert_eq!(
            rows[1].competence.title(),
            "Equality, Diversity and Human Rights - 3 Years"
        );
        let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4, 5, 6]);
        assert!(problems[0].reason.contains("Employee Number"));
        assert!(problems[1].reason.contains("Competency Name"));
        assert!(problems[2].reason.contains("Expiry Date"));
        assert!(problems[3].reason.contains("VPD"));
    }

    #[test]
    fn the_export_reads_into_columns_from_a_reader() {
        let csv = "\
Employee Number,Competency Name,Expiry Date,Achieved Date,VPD
20000001,NHS(CSTF)Fire Safety - 1 Year,30-Nov-2028,30-Nov-2027,297
020000002,NHS|CSTF|Fire Safety - 1 Year|,,,297
20000001,NHS|CSTF|Fire Safety - 1 Year|,30-Nov-2027,30-Nov-2026,297
";
        let (cols, problems) =
            read_competence_export(vpd(), csv.as_bytes(), ImportOptions::default()).unwrap();
        assert!(problems.is_empty());
        assert_eq!(cols.len(), 3);
        assert_eq!(cols.line, [2, 3, 4]);
        assert_eq!(cols.person_id, [20000001, 20000002, 20000001]);
        assert_eq!(cols.employee_number[1], "020000002");
        assert_eq!(cols.competence[0], "NHS|CSTF|Fire Safety - 1 Year|");
        let d = |y, m, dd| days_since_epoch(NaiveDate::from_ymd_opt(y, m, dd).unwrap()).unwrap();
        assert_eq!(
            cols.expiry,
            [Some(d(2028, 11, 30)), None, Some(d(2027, 11, 30))]
        );
        assert_eq!(
            cols.achieved,
            [Some(d(2027, 11, 30)), None, Some(d(2026, 11, 30))]
        );
        assert_eq!(cols.level[0], CompetenceLevel::default().to_string());
    }

    #[test]
    fn a_bad_row_refuses_the_export_unless_skipped() {
        let csv = "\
Employee Number,Competency Name,Expiry Date
20000001,NHS|CSTF|Fire Safety - 1 Year|,30-Nov-2028
20000002,NHS|CSTF|Fire Safety - 1 Year|,31-Nov-2028
20000003,NHS|CSTF|Fire Safety - 1 Year|,
";
        match read_competence_export(vpd(), csv.as_bytes(), ImportOptions::default()) {
            Err(Error::ImportRejected { problems }) => {
                assert_eq!(problems.len(), 1);
                assert_eq!(problems[0].line, 3);
                assert!(problems[0].reason.contains("Expiry Date"));
            }
            other => panic!("{other:?}"),
        }
        let (cols, problems) = read_competence_export(
            vpd(),
            csv.as_bytes(),
            ImportOptions {
                skip_bad_rows: true,
            },
        )
        .unwrap();
        assert_eq!(cols.person_id, [20000001, 20000003]);
        assert_eq!(problems[0].line, 3);
    }

    #[test]
    fn a_header_without_a_needed_column_is_refused() {
        let e = parse_export(vpd(), b"Employee Number,Expiry Date\n1,2\n").unwrap_err();
        match e {
            Error::ImportRejected { problems } => {
                assert_eq!(problems[0].line, 1);
                assert!(problems[0].reason.contains("Competency Name"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn optional_columns_are_read() {
        let csv = "\
competence name,EMPLOYEE NUMBER,Date Achieved,Expiry Date,Competence Level,Notes
NHS(CSTF)Fire Safety - 1 Year,20000001,30-Nov-2027,30-Nov-2028,1 - Assessed,ok
NHS(CSTF)Fire Safety - 1 Year,20000001,30-Nov-2029,30-Nov-2028,1 - Assessed,ok
";
        let (rows, problems) = parse_export(vpd(), csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].achieved, NaiveDate::from_ymd_opt(2027, 11, 30));
        assert_eq!(rows[0].level, CompetenceLevel::assessed());
        assert_eq!(problems[0].line, 3);
        assert!(problems[0].reason.contains("before the achieved date"));
    }
}
