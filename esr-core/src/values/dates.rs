//! The date rules of the domain, in one place: ESR's date format (`30-Nov-2028`), adding
//! calendar months (for expiry periods), "by the end of next month" (the Amber horizon of the
//! compliance reports) and the date in the United Kingdom (the service's "today", GMT or BST).

use super::ValueError;
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

/// The format of dates in ESR files.
pub const ESR_DATE_FORMAT: &str = "%d-%b-%Y";

/// Formats a date as ESR does: `30-Nov-2028`.
pub fn format_esr_date(d: NaiveDate) -> String {
    d.format(ESR_DATE_FORMAT).to_string()
}

/// The year, month and day of a `DD-Mon-YYYY` date read directly, not yet checked against the
/// calendar (`31-Feb-2026` reads as 2026, 2, 31); `None` for anything else. Shared by
/// [`parse_esr_date_fast`] and the competence export's quick reader, which counts days itself.
pub(crate) fn esr_date_parts(s: &str) -> Option<(u32, u32, u32)> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    let b = s.as_bytes();
    if b.len() != 11 || b[2] != b'-' || b[6] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let day = digits(0..2)?;
    let year = digits(7..11)?;
    let mon = [
        b[3].to_ascii_lowercase(),
        b[4].to_ascii_lowercase(),
        b[5].to_ascii_lowercase(),
    ];
    let month = MONTHS.iter().position(|m| **m == mon)? as u32 + 1;
    Some((year, month, day))
}

/// `DD-Mon-YYYY` read directly (the usual case, and most of an import's time through chrono's
/// format parser); `None` for anything else, left to chrono.
pub(crate) fn parse_esr_date_fast(s: &str) -> Option<NaiveDate> {
    let (year, month, day) = esr_date_parts(s)?;
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// Parses an ESR date (`30-Nov-2028`, `30-NOV-2028`).
pub fn parse_esr_date(s: &str) -> Result<NaiveDate, ValueError> {
    if let Some(d) = parse_esr_date_fast(s.trim()) {
        return Ok(d);
    }
    NaiveDate::parse_from_str(s.trim(), ESR_DATE_FORMAT).map_err(|_| {
        ValueError::invalid(
            "date",
            format!(
                "{} is not a date written as ESR writes them, such as 30-Nov-2028",
                crate::values::limits::shown(s)
            ),
        )
    })
}

/// Adds calendar months to a date, clamping to the month's end (31 Aug + 3 months is 30 Nov;
/// 30 Nov + 3 months is 28 or 29 Feb).
pub fn add_months(date: NaiveDate, months: u32) -> Result<NaiveDate, ValueError> {
    date.checked_add_months(Months::new(months)).ok_or_else(|| {
        ValueError::invalid(
            "date",
            format!("{date} plus {months} months is beyond the calendar the library supports"),
        )
    })
}

/// The last day of the month after `date`'s: "by the end of next month".
pub fn end_of_next_month(date: NaiveDate) -> NaiveDate {
    let first = date.with_day(1).unwrap_or(date);
    first
        .checked_add_months(Months::new(2))
        .and_then(|d| d.pred_opt())
        .unwrap_or(NaiveDate::MAX)
}

/// The date in the United Kingdom at `instant`: GMT in winter, BST (UTC+1) from 01:00 UTC on the
/// last Sunday of March to 01:00 UTC on the last Sunday of October. The service's "today".
pub fn uk_date(instant: DateTime<Utc>) -> NaiveDate {
    let year = instant.year();
    let last_sunday = |month: u32| -> Option<NaiveDate> {
        let last = NaiveDate::from_ymd_opt(year, month + 1, 1)?.pred_opt()?;
        let back = last.weekday().num_days_from_sunday();
        last.checked_sub_days(chrono::Days::new(u64::from(back)))
    };
    let bst = match (last_sunday(3), last_sunday(10)) {
        (Some(start), Some(end)) => {
            let start = start.and_hms_opt(1, 0, 0).map(|t| t.and_utc());
            let end = end.and_hms_opt(1, 0, 0).map(|t| t.and_utc());
            matches!((start, end), (Some(s), Some(e)) if instant >= s && instant < e)
        }
        _ => false,
    };
    if bst {
        crate::values::plus(instant, chrono::TimeDelta::hours(1)).date_naive()
    } else {
        instant.date_naive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn months_clamp_to_the_end_of_the_month() {
        assert_eq!(add_months(day(2026, 8, 31), 3).unwrap(), day(2026, 11, 30));
        assert_eq!(add_months(day(2027, 11, 30), 3).unwrap(), day(2028, 2, 29));
        assert!(add_months(NaiveDate::MAX, 1).is_err());
    }

    #[test]
    fn the_end_of_next_month() {
        assert_eq!(end_of_next_month(day(2026, 12, 4)), day(2027, 1, 31));
        assert_eq!(end_of_next_month(day(2027, 1, 31)), day(2027, 2, 28));
    }

    #[test]
    fn the_uk_date_follows_british_summer_time() {
        // BST 2026: 29 March 01:00 UTC to 25 October 01:00 UTC.
        let at = |m, d, h, min| Utc.with_ymd_and_hms(2026, m, d, h, min, 0).unwrap();
        assert_eq!(uk_date(at(6, 30, 23, 30)), day(2026, 7, 1));
        assert_eq!(uk_date(at(12, 30, 23, 30)), day(2026, 12, 30));
        assert_eq!(uk_date(at(3, 29, 0, 59)), day(2026, 3, 29));
        assert_eq!(uk_date(at(10, 24, 23, 30)), day(2026, 10, 25));
        assert_eq!(uk_date(at(10, 25, 23, 30)), day(2026, 10, 25));
    }

    #[test]
    fn esr_dates_read_back() {
        assert_eq!(format_esr_date(day(2028, 11, 30)), "30-Nov-2028");
        assert_eq!(parse_esr_date("30-NOV-2028").unwrap(), day(2028, 11, 30));
        assert!(parse_esr_date("31-Nov-2028").is_err());
    }

    proptest! {
        /// Adding months never goes back, lands in the right month, and keeps the day where
        /// that month has it.
        #[test]
        fn adding_months_lands_in_the_right_month(days in 0i64..80_000, months in 0u32..240) {
            let d = day(1950, 1, 1) + chrono::Days::new(days as u64);
            let e = add_months(d, months).unwrap();
            prop_assert!(e >= d);
            let total = d.year() * 12 + d.month0() as i32 + months as i32;
            prop_assert_eq!((e.year(), e.month0() as i32), (total / 12, total % 12));
            prop_assert!(e.day() == d.day() || e.day() < d.day() && (e + chrono::Days::new(1)).day() == 1);
        }

        /// The end of next month is the last day of the month after the date's.
        #[test]
        fn end_of_next_month_is_a_last_day(days in 0i64..80_000) {
            let d = day(1950, 1, 1) + chrono::Days::new(days as u64);
            let e = end_of_next_month(d);
            prop_assert_eq!((e + chrono::Days::new(1)).day(), 1);
            prop_assert_eq!((e.year() * 12 + e.month0() as i32) - (d.year() * 12 + d.month0() as i32), 1);
        }

        /// The UK date is the UTC date or, in summer time, the date an hour later.
        #[test]
        fn the_uk_date_is_utc_or_an_hour_ahead(secs in 0i64..4_000_000_000) {
            let t = Utc.timestamp_opt(secs, 0).unwrap();
            let d = uk_date(t);
            prop_assert!(d == t.date_naive() || d == (t + chrono::TimeDelta::hours(1)).date_naive());
        }

        /// Every date ESR writes reads back as itself.
        #[test]
        fn esr_dates_round_trip(days in 0i64..80_000) {
            let d = day(1950, 1, 1) + chrono::Days::new(days as u64);
            prop_assert_eq!(parse_esr_date(&format_esr_date(d)).unwrap(), d);
        }
    }
}
