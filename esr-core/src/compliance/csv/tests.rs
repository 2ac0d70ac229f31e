use super::*;
use crate::compliance::cp1252;
use crate::values::{ESR_DATE_FORMAT, parse_esr_date_fast};
use proptest::prelude::*;

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

const HEAD: &str = "Employee Number,Competency Name,Expiry Date,Notes";
const GOOD: &str = "20000001,NHS|CSTF|Fire Safety - 1 Year|,30-Nov-2028";
const BAD: &str = "x1,NHS|CSTF|Fire Safety - 1 Year|,30-Nov-2028";

fn skip() -> ImportOptions {
    ImportOptions {
        skip_bad_rows: true,
    }
}

/// The lines of the good rows and of the problems, read with `skip_bad_rows`.
fn lines_of(data: &[u8]) -> (Vec<u64>, Vec<u64>) {
    let (cols, problems) = read_competence_export(vpd(), data, skip()).unwrap();
    (cols.line, problems.iter().map(|p| p.line).collect())
}

/// A reader handing out at most `n` bytes a call, as pipes and Python file objects may.
struct Trickle<'a>(&'a [u8], usize);
impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.len().min(self.1).min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn the_first_record_after_a_blank_line_has_its_own_line() {
    // rust-csv#208 reported line 2 for the row on line 3.
    let csv = format!("{HEAD}\n\n{GOOD}\n\n\n{BAD}\n{GOOD}\n");
    assert_eq!(lines_of(csv.as_bytes()), (vec![3, 7], vec![6]));
    // Blank lines before the header too.
    let csv = format!("\n\n{HEAD}\n{BAD}\n");
    assert_eq!(lines_of(csv.as_bytes()), (vec![], vec![4]));
    let e = parse_export(vpd(), b"\n\nEmployee Number\n1\n").unwrap_err();
    assert!(
        e.to_string()
            .contains("line 3: the header has no Competency Name")
    );
}

#[test]
fn line_breaks_inside_quoted_fields_count() {
    let csv = format!(
        "{HEAD}\n{GOOD},\"two\nlines\"\n{BAD},\"a \"\"quoted\"\"\n\n, and more\"\n{GOOD}\n"
    );
    assert_eq!(lines_of(csv.as_bytes()), (vec![2, 7], vec![4]));
}

#[test]
fn crlf_and_lone_cr_end_lines() {
    let csv = format!("{HEAD}\r\n{GOOD}\r\n\r\n{BAD},\"x\r\ny\"\r\n{GOOD}\r{BAD}\r\n");
    assert_eq!(lines_of(csv.as_bytes()), (vec![2, 6], vec![4, 7]));
}

#[test]
fn a_byte_order_mark_is_dropped_even_before_a_quoted_header() {
    let csv = format!("\u{feff}\"Employee Number\",Competency Name,Expiry Date\n{GOOD}\n");
    assert_eq!(lines_of(csv.as_bytes()), (vec![2], vec![]));
    // Split across reads of one byte.
    let (cols, problems) =
        read_competence_export(vpd(), Trickle(csv.as_bytes(), 1), skip()).unwrap();
    assert_eq!((cols.line, problems.len()), (vec![2], 0));
}

#[test]
fn chunked_reads_give_the_same_answer() {
    let csv = format!(
        "{HEAD}\r\n{GOOD},\"a,b\r\n\"\"c\"\"\"\r\n\r\n{BAD}\n{GOOD}\n{}\n{GOOD}",
        "x".repeat(3 * READ_CHUNK_BYTES)
    );
    let whole = read_competence_export(vpd(), csv.as_bytes(), skip()).unwrap();
    for n in [1, 2, 3, 7, 4096, READ_CHUNK_BYTES + 1] {
        assert_eq!(
            read_competence_export(vpd(), Trickle(csv.as_bytes(), n), skip()).unwrap(),
            whole
        );
    }
    assert_eq!(whole.0.line, [2, 6, 8]);
    assert_eq!(whole.1.iter().map(|p| p.line).collect::<Vec<_>>(), [5, 7]);
}

#[test]
fn a_row_at_the_limit_is_read_and_one_byte_more_is_refused_by_its_line() {
    // Field contents: 8 + 29 + 11 bytes, then the notes.
    let fixed = GOOD.len() - 2;
    let at = format!("{GOOD},{}", "n".repeat(MAX_CSV_RECORD_BYTES - fixed));
    let over = format!("{GOOD},{}", "n".repeat(MAX_CSV_RECORD_BYTES - fixed + 1));
    let csv = format!("{HEAD}\n{at}\n{over}\n{GOOD}\n");
    let (lines, problems) = lines_of(csv.as_bytes());
    assert_eq!((lines, problems), (vec![2, 4], vec![3]));
    match read_competence_export(vpd(), csv.as_bytes(), ImportOptions::default()) {
        Err(Error::ImportRejected { problems }) => {
            assert_eq!(problems.len(), 1);
            let p = problems[0].to_string();
            assert!(p.starts_with("line 3: the row is over 64 KiB"), "{p}");
            assert!(p.contains("the rest of the file was not read"), "{p}");
        }
        other => panic!("{other:?}"),
    }
    // An unclosed quote runs on: the row is refused by the line it starts on.
    let csv = format!(
        "{HEAD}\n{GOOD}\n{BAD},\"never closed\n{}",
        "x\n".repeat(40_000)
    );
    let e = read_competence_export(vpd(), csv.as_bytes(), ImportOptions::default());
    assert!(
        e.unwrap_err()
            .to_string()
            .contains("line 3: the row is over 64 KiB")
    );
    assert_eq!(lines_of(csv.as_bytes()), (vec![2], vec![3]));
}

#[test]
fn a_header_over_the_limits_refuses_the_file() {
    let long = format!("{HEAD},{}\n{GOOD}\n", "h".repeat(MAX_CSV_RECORD_BYTES));
    let e = read_competence_export(vpd(), long.as_bytes(), skip()).unwrap_err();
    assert!(
        e.to_string().contains("line 1: the header is over 64 KiB"),
        "{e}"
    );
    let wide = format!("{HEAD}{}\n{GOOD}\n", ",h".repeat(MAX_CSV_COLUMNS - 3));
    let e = read_competence_export(vpd(), wide.as_bytes(), skip()).unwrap_err();
    assert!(e.to_string().contains("more than 1024 columns"), "{e}");
    // At the limit it is fine.
    let wide = format!("{HEAD}{}\n{GOOD}\n", ",h".repeat(MAX_CSV_COLUMNS - 4));
    assert_eq!(lines_of(wide.as_bytes()), (vec![2], vec![]));
}

#[test]
fn a_row_with_too_many_columns_is_a_bad_row() {
    let csv = format!(
        "{HEAD}\n{GOOD}{}\n{GOOD}{}\n{GOOD}\n",
        ",".repeat(MAX_CSV_COLUMNS - 3),
        ",".repeat(MAX_CSV_COLUMNS - 2)
    );
    assert_eq!(lines_of(csv.as_bytes()), (vec![2, 4], vec![3]));
    let (_, problems) = read_competence_export(vpd(), csv.as_bytes(), skip()).unwrap();
    assert!(problems[0].reason.contains("more than 1024 columns"));
}

#[test]
fn bytes_that_are_not_utf8_read_as_cp1252_and_refuse_no_row() {
    // Excel's "CSV (Comma delimited)": cp1252 accents in a column the reader ignores.
    let mut csv = format!("{HEAD}\n{GOOD},caf").into_bytes();
    csv.extend_from_slice(b"\xe9\n");
    csv.extend_from_slice(format!("{GOOD}\n").as_bytes());
    assert_eq!(lines_of(&csv), (vec![2, 3], vec![]));
    let (cols, _) = read_competence_export(vpd(), &csv[..], ImportOptions::default()).unwrap();
    assert_eq!(cols.encoding, "windows-1252");
    // In a column it reads: cp1252's en dash (0x96) in a competence name.
    let mut csv = b"Employee Number,Competency Name,Expiry Date\n20000001,NHS|CSTF|Fire Safety \x96 1 Year|,\n".to_vec();
    let (cols, _) = read_competence_export(vpd(), &csv[..], ImportOptions::default()).unwrap();
    assert_eq!(cols.competence, ["NHS|CSTF|Fire Safety \u{2013} 1 Year|"]);
    // The same text saved as UTF-8, with a byte order mark.
    csv = "\u{feff}Employee Number,Competency Name,Expiry Date\n20000001,NHS|CSTF|Fire Safety \u{2013} 1 Year|,\n".as_bytes().to_vec();
    let (utf8, _) =
        read_competence_export(vpd(), Trickle(&csv, 1), ImportOptions::default()).unwrap();
    assert_eq!(
        (utf8.competence, utf8.encoding),
        (cols.competence.clone(), "utf-8-sig")
    );
    let (plain, _) = read_competence_export(vpd(), &csv[3..], ImportOptions::default()).unwrap();
    assert_eq!(plain.encoding, "utf-8");
    // Named: Latin-1 labels read as Windows-1252, as browsers do.
    let csv = b"Employee Number,Competency Name,Expiry Date\n20000001,NHS|CSTF|Fire Safety \x96 1 Year|,\n";
    for label in ["cp1252", "latin-1", "ISO-8859-1", "windows_1252"] {
        let enc = CsvEncoding::from_label(label).unwrap();
        let (named, _) = read_competence_export_with_encoding(
            vpd(),
            Trickle(csv, 3),
            ImportOptions::default(),
            enc,
        )
        .unwrap();
        assert_eq!(
            (&named.competence, named.encoding),
            (&cols.competence, "windows-1252")
        );
    }
    assert!(CsvEncoding::from_label("utf-16").is_err());
    assert!(
        CsvEncoding::from_label("klingon")
            .unwrap_err()
            .to_string()
            .contains("cp1252")
    );
}

#[test]
fn the_cp1252_table_agrees_with_encoding_rs() {
    for b in 0x80..=0xFFu8 {
        let byte = [b];
        let (want, _, _) = encoding_rs::WINDOWS_1252.decode(&byte);
        assert_eq!(cp1252(b).to_string(), want, "{b:#x}");
    }
}

proptest! {
    #[test]
    fn auto_decoding_is_lossless_for_utf8_and_cp1252_elsewhere(
        text in "\\PC{0,40}",
        junk in prop::collection::vec(any::<u8>(), 0..40),
        chunk in 1usize..7,
    ) {
        use std::io::Read;
        let mut out = String::new();
        DecodingReader::new(Trickle(text.as_bytes(), chunk), CsvEncoding::AUTO)
            .read_to_string(&mut out).unwrap();
        prop_assert_eq!(&out, &text);
        let mut dec = DecodingReader::new(Trickle(&junk, chunk), CsvEncoding::AUTO);
        let mut out = String::new();
        dec.read_to_string(&mut out).unwrap();
        let want: String = match std::str::from_utf8(&junk) {
            Ok(s) => s.to_owned(),
            Err(_) => { prop_assert_eq!(dec.encoding_used(), "windows-1252"); out.clone() }
        };
        prop_assert_eq!(out, want);
    }
}

#[test]
fn a_read_error_refuses_the_file_even_when_skipping() {
    struct Broken(usize);
    impl std::io::Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let row = format!("{GOOD}\n");
            if self.0 == 0 {
                self.0 += 1;
                let head = format!("{HEAD}\n{row}");
                buf[..head.len()].copy_from_slice(head.as_bytes());
                return Ok(head.len());
            }
            Err(std::io::Error::other("the disk went away"))
        }
    }
    let e = read_competence_export(vpd(), Broken(0), skip()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("line 3: the file could not be read past this line (the disk went away)"),
        "{msg}"
    );
}

#[test]
fn problems_are_capped_and_the_rest_counted() {
    let mut csv = format!("{HEAD}\n");
    for _ in 0..MAX_IMPORT_PROBLEMS + 234 {
        csv.push_str(BAD);
        csv.push('\n');
    }
    csv.push_str(GOOD);
    match read_competence_export(vpd(), csv.as_bytes(), ImportOptions::default()) {
        Err(Error::ImportRejected { problems }) => {
            assert_eq!(problems.len(), MAX_IMPORT_PROBLEMS);
            assert_eq!(problems.more(), 234);
            assert_eq!(problems.total(), 1234);
            assert_eq!(problems.last().unwrap().line, 1001);
            let msg = Error::ImportRejected { problems }.to_string();
            assert!(
                msg.contains("1234 bad row(s), the first at line 2:"),
                "{msg}"
            );
            assert!(
                msg.contains("1000 are listed, 234 more were counted but not kept"),
                "{msg}"
            );
        }
        other => panic!("{other:?}"),
    }
    let (cols, problems) = read_competence_export(vpd(), csv.as_bytes(), skip()).unwrap();
    assert_eq!((cols.line, problems.more()), (vec![1236], 234));
}

#[test]
fn merging_problem_lists_keeps_the_first_by_line() {
    let p = |line| ImportProblem {
        line,
        reason: String::new(),
    };
    let a = ImportProblems::from((0..800).map(|i| p(2 * i)).collect::<Vec<_>>());
    let b = ImportProblems::from((0..900).map(|i| p(2 * i + 1)).collect::<Vec<_>>());
    let m = a.merge(b);
    assert_eq!(m.len(), MAX_IMPORT_PROBLEMS);
    assert_eq!(m.more(), 700);
    assert!(m.iter().enumerate().all(|(i, x)| x.line == i as u64));
    let small = ImportProblems::from(vec![p(5)]).merge(ImportProblems::from(vec![p(3), p(9)]));
    assert_eq!(small.iter().map(|x| x.line).collect::<Vec<_>>(), [3, 5, 9]);
    assert_eq!(small.more(), 0);
}

mod lines {
    use super::*;

    /// One row of a generated file: good or bad, its notes (any of the awkward
    /// characters), its line ending, blank lines before it, and whether to quote the name.
    fn row() -> impl Strategy<Value = (bool, String, bool, usize, bool)> {
        (
            any::<bool>(),
            "[a-z ,\"\r\n]{0,12}",
            any::<bool>(),
            0usize..3,
            any::<bool>(),
        )
    }

    /// Lines counted independently: `\r\n`, `\n` and a lone `\r` each end one.
    fn line_of(prefix: &str) -> u64 {
        prefix
            .replace("\r\n", "\n")
            .replace('\r', "\n")
            .matches('\n')
            .count() as u64
            + 1
    }

    proptest! {
        #[test]
        fn the_fast_date_reader_agrees_with_chrono(s in "[0-9]{2}-[A-Za-z]{3}-[0-9]{4}|[0-9 ]{1,3}-(Nov|nov|NOV|Feb)-[+0-9]{1,6}") {
            let chrono = NaiveDate::parse_from_str(s.trim(), ESR_DATE_FORMAT).ok();
            prop_assert_eq!(parse_esr_date(&s).ok(), chrono);
            if let Some(d) = parse_esr_date_fast(&s) {
                prop_assert_eq!(Some(d), chrono);
            }
        }

        #[test]
        fn reported_lines_are_where_records_start(
            bom in any::<bool>(),
            head_crlf in any::<bool>(),
            rows in proptest::collection::vec(row(), 0..40),
            trailing in any::<bool>(),
        ) {
            let mut csv = String::new();
            if bom {
                csv.push('\u{feff}');
            }
            csv.push_str(HEAD);
            let mut want_good = Vec::new();
            let mut want_bad = Vec::new();
            let mut end = if head_crlf { "\r\n" } else { "\n" };
            for (i, (good, notes, crlf, blanks, quote_name)) in rows.iter().enumerate() {
                csv.push_str(end);
                end = if *crlf { "\r\n" } else { "\n" };
                for _ in 0..*blanks {
                    csv.push_str(end);
                }
                let line = line_of(&csv);
                let name = if *quote_name {
                    "\"NHS|CSTF|Fire Safety - 1 Year|\""
                } else {
                    "NHS|CSTF|Fire Safety - 1 Year|"
                };
                let employee = if *good { "20000001" } else { "x1" };
                csv.push_str(&format!(
                    "{employee},{name},30-Nov-2028,\"{}\"",
                    notes.replace('"', "\"\"")
                ));
                if *good { want_good.push(line) } else { want_bad.push(line) }
                let _ = i;
            }
            if trailing {
                csv.push_str(end);
            }
            let (good, bad) = lines_of(csv.as_bytes());
            prop_assert_eq!(good, want_good);
            prop_assert_eq!(bad, want_bad);
            // The same through one-byte reads.
            let (cols, problems) =
                read_competence_export(vpd(), Trickle(csv.as_bytes(), 1), skip()).unwrap();
            prop_assert_eq!(cols.len() + problems.len(), rows.len());
        }
    }
}

/// The columns as the rules read them row by row ([`parse_export_rows`] and the conversion
/// [`read_competence_export`] does), to check the quick path and the two threads against.
fn by_the_rules(
    data: &[u8],
    skip_bad_rows: bool,
) -> Result<(CompetenceExportColumns, ImportProblems)> {
    let mut cols = CompetenceExportColumns::default();
    let problems = parse_export_rows(vpd(), data, skip_bad_rows, |row, problems| {
        let days = |d: Option<NaiveDate>| d.map(days_since_epoch).transpose();
        let (achieved, expiry) = match (days(row.achieved), days(row.expiry)) {
            (Ok(a), Ok(e)) => (a, e),
            (Err(e), _) | (_, Err(e)) => {
                problems.push(ImportProblem {
                    line: row.line,
                    reason: e.to_string(),
                });
                return;
            }
        };
        cols.line.push(row.line);
        cols.person_id.push(row.employee.as_str().parse().unwrap());
        cols.employee_number.push(row.employee.as_str().to_owned());
        cols.competence.push(row.competence.as_str().to_owned());
        cols.achieved.push(achieved);
        cols.expiry.push(expiry);
        cols.level.push(row.level.to_string());
    })?;
    if !problems.is_empty() && !skip_bad_rows {
        return Err(Error::ImportRejected { problems });
    }
    Ok((cols, problems))
}

mod quick_path {
    use super::*;

    /// A field from a few good and awkward spellings.
    fn pick(options: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
        proptest::sample::select(options)
    }

    fn row() -> impl Strategy<Value = String> {
        (
            pick(&[
                "20000001",
                " 20000002 ",
                "000123",
                "12345",
                "2000000000001",
                "x1",
                "",
                "200000000001",
            ]),
            pick(&[
                "NHS|CSTF|Fire Safety - 1 Year|",
                "\"NHS|CSTF|Fire Safety - 1 Year|\"",
                "NHS(CSTF)Fire Safety - 1 Year",
                " 297|LOCAL|Sepsis| ",
                "Fire Safety",
                "\"NHS|CSTF|Equality, Diversity and Human Rights - 3 Years|\"",
                "",
            ]),
            pick(&[
                "30-Nov-2028",
                "30-NOV-2028",
                "",
                " 01-jan-2020 ",
                "1-Jan-2024",
                "31-Nov-2028",
                "2028-11-30",
                "\u{a0}30-Nov-2028",
            ]),
            pick(&["01-Jan-2020", "", "05-Dec-2030", "5-Dec-2019"]),
            pick(&["297", "999", "", " 297"]),
            pick(&[
                "",
                "1 - Assessed",
                "01 - Assessed",
                "Assessed",
                "0 - Not Assessed",
            ]),
            pick(&["Renée", "\"Brontë, Zoë\"", "\u{a0}", "", "\"a\r\nb\""]),
        )
            .prop_map(|(e, n, x, a, v, l, f)| format!("{e},{f},{n},{a},{x},{v},{l}"))
    }

    proptest! {
        #[test]
        fn the_quick_path_reads_as_the_rules_do(
            rows in proptest::collection::vec(prop_oneof![9 => row(), 1 => Just(String::new()), 1 => Just(" , ,".to_owned())], 0..60),
            skip in any::<bool>(),
            cp1252 in any::<bool>(),
        ) {
            let mut csv = "Employee Number,Full Name,Competency Name,Achieved Date,Expiry Date,VPD,Competence Level\n".to_owned();
            for r in &rows {
                csv.push_str(r);
                csv.push('\n');
            }
            let mut data = csv.into_bytes();
            if cp1252 {
                // Excel's cp1252: é as one byte.
                data = String::from_utf8(data).unwrap().replace('é', "\u{1}").into_bytes();
                for b in &mut data {
                    if *b == 1 {
                        *b = 0xE9;
                    }
                }
            }
            let options = ImportOptions { skip_bad_rows: skip };
            let quick = read_competence_export(vpd(), &data[..], options);
            let rules = by_the_rules(&data, skip);
            match (quick, rules) {
                (Ok((q, qp)), Ok((r, rp))) => {
                    prop_assert_eq!(q.encoding, if cp1252 && data.contains(&0xE9) { "windows-1252" } else { "utf-8" });
                    prop_assert_eq!(CompetenceExportColumns { encoding: "", ..q }, r);
                    prop_assert_eq!(qp, rp);
                }
                (Err(q), Err(r)) => prop_assert_eq!(format!("{q:?}"), format!("{r:?}")),
                (q, r) => prop_assert!(false, "quick {:?} but the rules {:?}", q.map(|x| x.1), r.map(|x| x.1)),
            }
        }
    }
}

#[test]
fn batches_of_records_keep_the_file_order() {
    // Over a batch of records (16,384) several times, with bad rows here and there and a
    // quoted line break, so records and problems cross batches.
    let mut csv = "Employee Number,Competency Name,Expiry Date,VPD,Notes\n".to_owned();
    for i in 0..70_000u32 {
        let employee = if i % 997 == 0 {
            "x1".to_owned()
        } else {
            format!("{}", 20_000_000 + i)
        };
        let notes = if i % 5 == 0 { "\"two\nlines\"" } else { "" };
        csv.push_str(&format!(
            "{employee},NHS|CSTF|Fire Safety - 1 Year|,{:02}-Nov-2028,297,{notes}\n",
            i % 28 + 1
        ));
    }
    let got = read_competence_export(vpd(), csv.as_bytes(), skip()).unwrap();
    let want = by_the_rules(csv.as_bytes(), true).unwrap();
    // Columns set aside by the file's size read the same.
    let size = Some(csv.len() as u64);
    let sized = read_competence_table(vpd(), csv.as_bytes(), skip(), CsvEncoding::AUTO, size);
    let sized = sized.unwrap();
    assert_eq!(CompetenceExportColumns::from(sized.0), got.0);
    assert_eq!(sized.1, got.1);
    assert_eq!(got.0.len(), 70_000 - 71);
    assert_eq!(
        CompetenceExportColumns {
            encoding: "",
            ..got.0
        },
        want.0
    );
    assert_eq!(got.1, want.1);
    // Without skipping, the same refusal.
    let got = read_competence_export(vpd(), csv.as_bytes(), ImportOptions::default());
    let want = by_the_rules(csv.as_bytes(), false);
    assert_eq!(format!("{got:?}"), format!("{want:?}"));
}

#[test]
fn the_quick_dates_count_days_as_chrono_does() {
    use super::table::quick_date_for_tests as quick;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    for year in (0..=9999).filter(|y| y % 97 == 0 || (1890..2110).contains(y) || y % 400 < 2) {
        for (m, name) in MONTHS.iter().enumerate() {
            for day in 0..=32 {
                let s = format!("{day:02}-{name}-{year:04}");
                let want = NaiveDate::from_ymd_opt(year, m as u32 + 1, day)
                    .map(|d| Some((d - epoch).num_days() as i32));
                assert_eq!(quick(&s), want, "{s}");
            }
        }
    }
    assert_eq!(quick(""), Some(None));
    assert_eq!(quick("1-Jan-2020"), None);
}

mod blocks {
    use super::table::read_table;
    use super::*;

    /// A line of an export, or of bytes that make CSV awkward: quotes opened and closed
    /// anywhere, line breaks inside and outside them, lone `\r`, blank lines.
    fn line() -> impl Strategy<Value = String> {
        let good = (
            proptest::sample::select(&["20000001", " 20000002 ", "x1", ""][..]),
            proptest::sample::select(
                &[
                    "NHS|CSTF|Fire Safety - 1 Year|",
                    "\"NHS|CSTF|Equality, Diversity and Human Rights - 3 Years|\"",
                    "\"NHS|CSTF|Fire\nSafety - 1 Year|\"",
                    "Fire Safety",
                ][..],
            ),
            proptest::sample::select(&["30-Nov-2028", "", "31-Nov-2028", "2028-11-30"][..]),
            proptest::sample::select(&["297", "999"][..]),
            proptest::sample::select(
                &["Renée", "\"Brontë, Zoë\"", "\"a\r\nb\"", "a\"b", "\"\"\"\""][..],
            ),
        )
            .prop_map(|(e, n, x, v, f)| format!("{e},{f},{n},{x},{v}"));
        let awkward = proptest::collection::vec(
            proptest::sample::select(&["\"", ",", "\n", "\r", "\r\n", "a", " ", "297", "\"\""][..]),
            0..12,
        )
        .prop_map(|parts| parts.concat());
        prop_oneof![6 => good, 3 => awkward, 1 => Just(String::new())]
    }

    fn same(
        blocks: &Result<(CompetenceExportTable, ImportProblems)>,
        lines: &Result<(CompetenceExportTable, ImportProblems)>,
    ) -> std::result::Result<(), TestCaseError> {
        match (blocks, lines) {
            (Ok((b, bp)), Ok((l, lp))) => {
                prop_assert_eq!(
                    CompetenceExportColumns::from(b.clone()),
                    CompetenceExportColumns::from(l.clone())
                );
                prop_assert_eq!(bp, lp);
                // Each value once (the builders' dictionaries merged), in the order the file
                // first uses it, as the one-by-one reader's (which keeps a value per spelling).
                for (bv, lv) in [
                    (&b.competence.values, &l.competence.values),
                    (&b.level.values, &l.level.values),
                ] {
                    let once = |v: &Vec<String>| {
                        let mut seen = std::collections::HashSet::new();
                        v.iter()
                            .filter(|x| seen.insert(x.as_str()))
                            .cloned()
                            .collect::<Vec<_>>()
                    };
                    prop_assert_eq!(once(bv), bv.clone());
                    prop_assert_eq!(bv.clone(), once(lv));
                }
            }
            (Err(b), Err(l)) => prop_assert_eq!(b.to_string(), l.to_string()),
            (b, l) => prop_assert!(false, "blocks {:?}, lines {:?}", b.is_ok(), l.is_ok()),
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn blocks_read_as_records_one_by_one(
            lines in proptest::collection::vec(line(), 0..40),
            crlf in any::<bool>(),
            skip in any::<bool>(),
            block in 1usize..160,
            workers in 1usize..4,
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut csv = format!("Employee Number,Full Name,Competency Name,Expiry Date,VPD{end}");
            for l in &lines {
                csv.push_str(l);
                csv.push_str(end);
            }
            let options = ImportOptions { skip_bad_rows: skip };
            let data = csv.as_bytes();
            let lines = read_table(vpd(), data, options, CsvEncoding::AUTO, None, None);
            let blocks = read_table(vpd(), data, options, CsvEncoding::AUTO, None, Some((block, workers)));
            same(&blocks, &lines)?;
        }
    }

    /// A file that fails to read after `data`.
    struct FailsAfter<'a>(&'a [u8]);

    impl std::io::Read for FailsAfter<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("the disk went away"));
            }
            let n = buf.len().min(self.0.len()).min(7);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn long_rows_read_errors_and_long_quoted_fields_read_as_one_by_one() {
        let head = "Employee Number,Full Name,Competency Name,Expiry Date,VPD\n";
        let good = "20000001,Renée,NHS|CSTF|Fire Safety - 1 Year|,30-Nov-2028,297\n";
        let long = format!(
            "20000002,{},NHS|CSTF|Fire Safety - 1 Year|,,297\n",
            "x".repeat(MAX_CSV_RECORD_BYTES + 10)
        );
        let quoted = format!(
            "20000003,\"{}\",NHS|CSTF|Fire Safety - 1 Year|,,297\n",
            "y\n".repeat(300)
        );
        let bad = "2000000x,Zoë,NHS|CSTF|Fire Safety - 1 Year|,30-Nov-2028,297\n";
        let files = [
            format!("{head}{good}{long}{good}{bad}{good}"),
            format!("{head}{good}{quoted}{good}{bad}{good}{quoted}"),
            format!("{head}{good}{bad}{good}\r\r{good}\r{good}"),
        ];
        for file in &files {
            for skip in [false, true] {
                let options = ImportOptions {
                    skip_bad_rows: skip,
                };
                let lines = read_table(
                    vpd(),
                    file.as_bytes(),
                    options,
                    CsvEncoding::AUTO,
                    None,
                    None,
                );
                for (block, workers) in [(64, 2), (300, 3), (1 << 20, 2)] {
                    let blocks = read_table(
                        vpd(),
                        file.as_bytes(),
                        options,
                        CsvEncoding::AUTO,
                        None,
                        Some((block, workers)),
                    );
                    same(&blocks, &lines).unwrap();
                    let failing = |f: &str| {
                        read_table(
                            vpd(),
                            FailsAfter(&f.as_bytes()[..f.len() - 40]),
                            options,
                            CsvEncoding::AUTO,
                            None,
                            Some((block, workers)),
                        )
                    };
                    let lines_failing = read_table(
                        vpd(),
                        FailsAfter(&file.as_bytes()[..file.len() - 40]),
                        options,
                        CsvEncoding::AUTO,
                        None,
                        None,
                    );
                    same(&failing(file), &lines_failing).unwrap();
                }
            }
        }
    }
}

#[test]
fn blocks_hand_on_the_rows_the_table_holds() {
    use std::fmt::Write as _;
    // About 3 MB: several 1 MiB blocks, with quoted names, empty expiries and bad rows.
    let mut csv = String::from("Employee Number,Competency Name,Expiry Date,VPD\n");
    for i in 0..60_000u32 {
        let name = match i % 3 {
            0 => "NHS|CSTF|Fire Safety - 1 Year|".to_owned(),
            1 => "\"NHS|CSTF|Equality, Diversity and Human Rights - 3 Years|\"".to_owned(),
            _ => format!("NHS|CSTF|Topic {} - 1 Year|", i % 40),
        };
        let expiry = if i % 11 == 0 {
            String::new()
        } else {
            format!("{:02}-Mar-20{}", 1 + i % 28, 20 + i % 15)
        };
        let employee = if i % 9_999 == 5 {
            "x".to_owned()
        } else {
            (20_000_000 + i / 7).to_string()
        };
        writeln!(csv, "{employee},{name},{expiry},297").unwrap();
    }
    let options = ImportOptions {
        skip_bad_rows: true,
    };
    let (t, problems) =
        read_competence_table(vpd(), csv.as_bytes(), options, CsvEncoding::AUTO, None).unwrap();
    assert!(problems.total() > 0);
    let want: Vec<(i64, String, Option<i32>)> = (0..t.len())
        .map(|i| {
            (
                t.person_id[i],
                t.competence.get(i).unwrap().to_owned(),
                t.expiry[i],
            )
        })
        .collect();
    for workers in [1, 2, 3] {
        let mut got = Vec::new();
        let mut calls = 0;
        let (skipped, encoding) = read_competence_blocks(
            vpd(),
            csv.as_bytes(),
            options,
            CsvEncoding::AUTO,
            workers,
            &mut |b: &CompetenceExportTable| {
                calls += 1;
                for i in 0..b.person_id.len() {
                    got.push((
                        b.person_id[i],
                        b.competence.get(i).unwrap().to_owned(),
                        b.expiry[i],
                    ));
                }
                Ok(())
            },
        )
        .unwrap();
        assert!(calls > 2, "{calls} blocks");
        assert_eq!(got, want, "workers {workers}");
        assert_eq!(skipped, problems);
        assert_eq!(encoding, t.encoding);
    }
    // Without skip_bad_rows the export is refused, naming the bad lines.
    let e = read_competence_blocks(
        vpd(),
        csv.as_bytes(),
        ImportOptions::default(),
        CsvEncoding::AUTO,
        2,
        &mut |_: &CompetenceExportTable| Ok(()),
    )
    .unwrap_err();
    assert!(matches!(e, Error::ImportRejected { .. }));
}
