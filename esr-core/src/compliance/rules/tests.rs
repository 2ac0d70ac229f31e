use super::*;
use crate::values::{end_of_next_month, uk_date};
use chrono::TimeZone;
use chrono::Utc;

/// Found by the serde fuzz target: deserialising built windows `AmberWindow::months`
/// refuses (up to `u32::MAX` months).
#[cfg(feature = "serde")]
#[test]
fn deserialising_an_amber_window_checks_its_range() {
    assert!(serde_json::from_str::<AmberWindow>("121").is_err());
    assert!(serde_json::from_str::<AmberWindow>("4294967295").is_err());
    assert_eq!(
        serde_json::from_str::<AmberWindow>("3").unwrap(),
        AmberWindow::ESR
    );
    assert_eq!(serde_json::to_string(&AmberWindow::ESR).unwrap(), "3");
    let s: ComplianceSettings =
        serde_json::from_str(&serde_json::to_string(&ComplianceSettings::default()).unwrap())
            .unwrap();
    assert_eq!(s, ComplianceSettings::default());
}
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}
const W: AmberWindow = AmberWindow::ESR;

#[test]
fn expiry_boundaries() {
    let as_of = d(2026, 8, 31);
    // Valid through the expiry date: expiring on D itself is Amber, the day before is Red.
    assert_eq!(
        expiry_status(Some(as_of), as_of, W),
        ComplianceStatus::Amber
    );
    assert_eq!(
        expiry_status(Some(d(2026, 8, 30)), as_of, W),
        ComplianceStatus::Red
    );
    // 31 Aug + 3 months is 30 Nov: the last Amber day.
    assert_eq!(
        expiry_status(Some(d(2026, 11, 30)), as_of, W),
        ComplianceStatus::Amber
    );
    assert_eq!(
        expiry_status(Some(d(2026, 12, 1)), as_of, W),
        ComplianceStatus::Green
    );
    assert_eq!(expiry_status(None, as_of, W), ComplianceStatus::Green);
}

#[test]
fn the_window_clamps_at_february() {
    // 30 Nov + 3 months is 28 Feb in a common year, 29 Feb in a leap year.
    let as_of = d(2026, 11, 30);
    assert_eq!(W.last_day(as_of), d(2027, 2, 28));
    assert_eq!(
        expiry_status(Some(d(2027, 2, 28)), as_of, W),
        ComplianceStatus::Amber
    );
    assert_eq!(
        expiry_status(Some(d(2027, 3, 1)), as_of, W),
        ComplianceStatus::Green
    );
    let as_of = d(2027, 11, 30);
    assert_eq!(W.last_day(as_of), d(2028, 2, 29));
    assert_eq!(
        expiry_status(Some(d(2028, 2, 29)), as_of, W),
        ComplianceStatus::Amber
    );
    assert_eq!(
        expiry_status(Some(d(2028, 3, 1)), as_of, W),
        ComplianceStatus::Green
    );
}

#[test]
fn the_twenty_ninth_of_february() {
    // A record expiring on 29 Feb is valid that day and Red the next.
    let e = Some(d(2028, 2, 29));
    assert_eq!(expiry_status(e, d(2028, 2, 29), W), ComplianceStatus::Amber);
    assert_eq!(expiry_status(e, d(2028, 3, 1), W), ComplianceStatus::Red);
    // As of 29 Feb, the window ends on 29 May.
    assert_eq!(W.last_day(d(2028, 2, 29)), d(2028, 5, 29));
    assert_eq!(
        expiry_status(Some(d(2028, 5, 29)), d(2028, 2, 29), W),
        ComplianceStatus::Amber
    );
    assert_eq!(
        expiry_status(Some(d(2028, 5, 30)), d(2028, 2, 29), W),
        ComplianceStatus::Green
    );
    // As of 29 Nov 2027 the window ends on 29 Feb 2028.
    assert_eq!(W.last_day(d(2027, 11, 29)), d(2028, 2, 29));
}

#[test]
fn row_statuses() {
    let as_of = d(2026, 11, 22);
    let later = Holding::Expires(d(2030, 1, 1));
    assert_eq!(
        row_status(Need::Essential, Holding::NotHeld, as_of, W),
        Some(ComplianceStatus::Red)
    );
    assert_eq!(
        row_status(Need::Desirable, Holding::NotHeld, as_of, W),
        None
    );
    assert_eq!(
        row_status(Need::NotRequired, Holding::NotHeld, as_of, W),
        None
    );
    assert_eq!(
        row_status(Need::NotRequired, later, as_of, W),
        Some(ComplianceStatus::Blue)
    );
    assert_eq!(
        row_status(Need::NotRequired, Holding::Expires(d(2000, 1, 1)), as_of, W),
        Some(ComplianceStatus::Blue)
    );
    assert_eq!(
        row_status(Need::Essential, later, as_of, W),
        Some(ComplianceStatus::Green)
    );
    assert_eq!(
        row_status(Need::Essential, Holding::NeverExpires, as_of, W),
        Some(ComplianceStatus::Green)
    );
    assert_eq!(
        row_status(Need::Desirable, Holding::Expires(as_of), as_of, W),
        Some(ComplianceStatus::Amber)
    );
}

#[test]
fn the_seed_table_in_late_july_2018() {
    let as_of = d(2018, 7, 25);
    let rows = [
        (d(2020, 11, 21), ComplianceStatus::Green), // Moving and Handling
        (d(2018, 7, 12), ComplianceStatus::Red),    // Conflict Resolution
        (d(2020, 1, 15), ComplianceStatus::Green),  // Preventing Radicalisation
        (d(2018, 8, 12), ComplianceStatus::Amber),  // Safeguarding Adults
    ];
    for (expiry, want) in rows {
        assert_eq!(
            row_status(Need::Essential, Holding::Expires(expiry), as_of, W),
            Some(want),
            "{expiry}"
        );
    }
}

#[test]
fn percentages() {
    let mut c = ComplianceCounts::default();
    for _ in 0..9 {
        c.add(ComplianceStatus::Green);
    }
    c.add(ComplianceStatus::Red);
    c.add(ComplianceStatus::Blue);
    assert_eq!(c.essential, 10);
    assert_eq!(c.percent(), Some(90.0));
    assert_eq!(format_percent(c.percent()), "90.0%");
    assert_eq!(ComplianceCounts::default().percent(), None);
    assert_eq!(format_percent(None), "n/a");
    assert_eq!(compliance_percent(0, 3), Some(0.0));
    assert_eq!(compliance_percent(3, 3), Some(100.0));
}

#[test]
fn latest_holding_counts() {
    let a = Holding::Expires(d(2020, 1, 1));
    let b = Holding::Expires(d(2021, 1, 1));
    assert_eq!(a.latest(b), b);
    assert_eq!(b.latest(a), b);
    assert_eq!(a.latest(Holding::NeverExpires), Holding::NeverExpires);
    assert_eq!(Holding::NotHeld.latest(a), a);
    assert_eq!(Holding::NotHeld.latest(Holding::NotHeld), Holding::NotHeld);
}

#[test]
fn end_of_next_month_clamps() {
    assert_eq!(end_of_next_month(d(2026, 11, 22)), d(2026, 12, 31));
    assert_eq!(end_of_next_month(d(2026, 12, 31)), d(2027, 1, 31));
    assert_eq!(end_of_next_month(d(2028, 1, 31)), d(2028, 2, 29));
    assert_eq!(end_of_next_month(d(2027, 1, 1)), d(2027, 2, 28));
}

#[test]
fn uk_dates_follow_british_summer_time() {
    let at = |y, m, dd, h, mi| Utc.with_ymd_and_hms(y, m, dd, h, mi, 0).unwrap();
    // Winter: GMT.
    assert_eq!(uk_date(at(2026, 11, 22, 23, 30)), d(2026, 11, 22));
    // Summer: 23:30 UTC is 00:30 BST the next day.
    assert_eq!(uk_date(at(2026, 7, 14, 23, 30)), d(2026, 7, 15));
    // 2026: BST from 01:00 UTC on 29 March to 01:00 UTC on 25 October.
    assert_eq!(uk_date(at(2026, 3, 29, 0, 59)), d(2026, 3, 29));
    assert_eq!(uk_date(at(2026, 3, 28, 23, 30)), d(2026, 3, 28));
    assert_eq!(uk_date(at(2026, 3, 29, 23, 0)), d(2026, 3, 30));
    assert_eq!(uk_date(at(2026, 10, 24, 23, 30)), d(2026, 10, 25));
    assert_eq!(uk_date(at(2026, 10, 25, 23, 30)), d(2026, 10, 25));
}

#[test]
fn windows_are_bounded() {
    assert!(AmberWindow::months(121).is_err());
    assert_eq!(
        AmberWindow::months(0).unwrap().last_day(d(2026, 1, 1)),
        d(2026, 1, 1)
    );
    assert_eq!(
        AmberWindow::months(120).unwrap().last_day(NaiveDate::MAX),
        NaiveDate::MAX
    );
}

proptest! {
    #[test]
    fn status_follows_the_three_ranges(
        as_of in 0i32..40_000, offset in -400i32..400, months in 0u32..13
    ) {
        let epoch = d(1970, 1, 1);
        let as_of = epoch + chrono::TimeDelta::days(i64::from(as_of));
        let expiry = as_of + chrono::TimeDelta::days(i64::from(offset));
        let w = AmberWindow::months(months).unwrap();
        let s = expiry_status(Some(expiry), as_of, w);
        let end = as_of.checked_add_months(Months::new(months)).unwrap();
        let want = if expiry < as_of {
            ComplianceStatus::Red
        } else if expiry <= end {
            ComplianceStatus::Amber
        } else {
            ComplianceStatus::Green
        };
        prop_assert_eq!(s, want);
        // Statuses only worsen as the date moves on.
        let next = expiry_status(Some(expiry), as_of.succ_opt().unwrap(), w);
        let rank = |x: ComplianceStatus| match x {
            ComplianceStatus::Green | ComplianceStatus::Blue => 0,
            ComplianceStatus::Amber => 1,
            ComplianceStatus::Red => 2,
        };
        prop_assert!(rank(next) >= rank(s));
    }

    #[test]
    fn percent_is_never_nan_and_within_bounds(c in 0u32..1000, e in 0u32..1000) {
        match compliance_percent(c, e) {
            None => prop_assert_eq!(e, 0),
            Some(p) => prop_assert!(p.is_finite() && (0.0..=100.0).contains(&p)),
        }
    }
}
