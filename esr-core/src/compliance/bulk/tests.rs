use super::*;
use crate::compliance::KeyInterner;
use crate::compliance::{ComplianceCounts, Holding, Need, row_status};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The row-by-row rules, applied naively.
fn reference(
    a: &[(i64, i64, i64)],
    r: &[(i64, i64)],
    h: &[(i64, i64, Option<i32>)],
    as_of: NaiveDate,
    w: AmberWindow,
) -> Vec<ComplianceCounts> {
    a.iter()
        .map(|&(_, person, position)| {
            let needed: BTreeSet<i64> = r.iter().filter(|x| x.0 == position).map(|x| x.1).collect();
            let mut c = ComplianceCounts::default();
            for comp in needed {
                let holding = h
                    .iter()
                    .filter(|x| x.0 == person && x.1 == comp)
                    .map(|x| Holding::from_expiry(x.2.map(|e| date_from_days(e).unwrap())))
                    .fold(Holding::NotHeld, Holding::latest);
                c.add(row_status(Need::Essential, holding, as_of, w).unwrap());
            }
            c
        })
        .collect()
}

fn run(
    a: &[(i64, i64, i64)],
    r: &[(i64, i64)],
    h: &[(i64, i64, Option<i32>)],
    as_of: NaiveDate,
    w: AmberWindow,
    threads: usize,
    use_bitmap: bool,
) -> BulkScores<i64> {
    let aid: Vec<i64> = a.iter().map(|x| x.0).collect();
    let ap: Vec<i64> = a.iter().map(|x| x.1).collect();
    let apos: Vec<i64> = a.iter().map(|x| x.2).collect();
    let rp: Vec<i64> = r.iter().map(|x| x.0).collect();
    let rc: Vec<i64> = r.iter().map(|x| x.1).collect();
    let hp: Vec<i64> = h.iter().map(|x| x.0).collect();
    let hc: Vec<i64> = h.iter().map(|x| x.1).collect();
    let mut bits = vec![0u8; (h.len() + 3).div_ceil(8)];
    let he: Vec<i32> = h
        .iter()
        .enumerate()
        .map(|(i, x)| match x.2 {
            Some(e) => {
                let b = i + 3;
                bits[b / 8] |= 1 << (b % 8);
                e
            }
            None if use_bitmap => 0,
            None => NO_EXPIRY,
        })
        .collect();
    score_compliance_with_threads(
        AssignmentColumns {
            assignment_id: &aid,
            person_id: &ap,
            position_id: &apos,
        },
        RequirementColumns {
            position_id: &rp,
            competency_id: &rc,
        },
        HoldingColumns {
            person_id: &hp,
            competency_id: &hc,
            expiry: &he,
            expiry_validity: use_bitmap.then(|| Validity::new(&bits, 3)),
            level: None,
        },
        as_of,
        w,
        NonZeroUsize::new(threads).unwrap(),
    )
    .unwrap()
}

fn detail(
    a: &[(i64, i64, i64)],
    r: &[(i64, i64)],
    h: &[(i64, i64, Option<i32>)],
    as_of: NaiveDate,
    w: AmberWindow,
    threads: NonZeroUsize,
    sparse: bool,
) -> BulkDetail<i64> {
    // Sparse: ids far apart, to take the hash-map path.
    let k = if sparse { 1i64 << 40 } else { 1 };
    let aid: Vec<i64> = a.iter().map(|x| x.0).collect();
    let ap: Vec<i64> = a.iter().map(|x| x.1 * k).collect();
    let apos: Vec<i64> = a.iter().map(|x| x.2 * k).collect();
    let rp: Vec<i64> = r.iter().map(|x| x.0 * k).collect();
    let rc: Vec<i64> = r.iter().map(|x| x.1).collect();
    let hp: Vec<i64> = h.iter().map(|x| x.0 * k).collect();
    let hc: Vec<i64> = h.iter().map(|x| x.1).collect();
    let he: Vec<i32> = h.iter().map(|x| x.2.unwrap_or(NO_EXPIRY)).collect();
    score_compliance_detail(
        AssignmentColumns {
            assignment_id: &aid,
            person_id: &ap,
            position_id: &apos,
        },
        RequirementColumns {
            position_id: &rp,
            competency_id: &rc,
        },
        HoldingColumns {
            person_id: &hp,
            competency_id: &hc,
            expiry: &he,
            expiry_validity: None,
            level: None,
        },
        as_of,
        w,
        HeldNotRequired::Blue,
        threads,
    )
    .unwrap()
}

#[test]
fn detail_rows_in_parallel_agree_with_one_thread() {
    let as_of = d(2026, 11, 22);
    let base = days_since_epoch(as_of).unwrap();
    let people = 40_000i64;
    let a: Vec<(i64, i64, i64)> = (0..people).map(|p| (p, p, p % 7)).collect();
    let r: Vec<(i64, i64)> = (0..7)
        .flat_map(|pos| (0..5).map(move |c| (pos, (c + pos) % 12)))
        .collect();
    let h: Vec<(i64, i64, Option<i32>)> = (0..120_000i64)
        .map(|i| {
            (
                i % people,
                i * 31 % 12,
                (i % 13 != 0).then(|| base + (i * 7919 % 400) as i32 - 100),
            )
        })
        .collect();
    let one = detail(
        &a,
        &r,
        &h,
        as_of,
        AmberWindow::ESR,
        NonZeroUsize::MIN,
        false,
    );
    let four = detail(
        &a,
        &r,
        &h,
        as_of,
        AmberWindow::ESR,
        NonZeroUsize::new(4).unwrap(),
        false,
    );
    assert_eq!(one, four);
    assert!(one.len() > 5 * people as usize);
}

#[test]
fn interned_keys_are_dense_in_first_seen_order() {
    let mut k = KeyInterner::new();
    assert_eq!(k.intern("20000001-1").unwrap(), 0);
    assert_eq!(k.intern("20000002-1").unwrap(), 1);
    assert_eq!(k.intern("20000001-1").unwrap(), 0);
    assert_eq!(
        (k.get("20000002-1"), k.get("x"), k.unknown()),
        (Some(1), None, 2)
    );
    assert_eq!(k.key(1), Some("20000002-1"));
}

#[test]
fn a_small_example() {
    let as_of = d(2018, 7, 25);
    let day = |y, m, dd| days_since_epoch(d(y, m, dd)).unwrap();
    let a = [(100, 1, 10), (101, 1, 11), (102, 2, 10), (103, 3, 99)];
    let r = [(10, 7), (10, 8), (10, 9), (10, 9), (11, 7)];
    let h = [
        (1, 7, Some(day(2020, 11, 21))),
        (1, 8, Some(day(2018, 7, 12))),
        (1, 8, Some(day(2018, 8, 12))), // the latest of the two counts: Amber
        (1, 42, None),                  // not required anywhere
        (2, 7, None),
        (2, 9, Some(day(2018, 7, 24))), // expired the day before
    ];
    let s = run(&a, &r, &h, as_of, AmberWindow::ESR, 1, false);
    assert_eq!(s.required, [3, 1, 3, 0]);
    assert_eq!(s.green, [1, 1, 1, 0]);
    assert_eq!(s.amber, [1, 0, 0, 0]);
    assert_eq!(s.red, [1, 0, 2, 0]);
    assert_eq!(s.percent_at(0), Some(200.0 / 3.0));
    assert_eq!(s.percent_at(1), Some(100.0));
    assert_eq!(s.percent_at(3), None);
    assert!(!s.percent_valid[3] && s.percent[3] == 0.0);
    assert_eq!(s.assignment_id, [100, 101, 102, 103]);
}

#[test]
fn ragged_columns_are_refused() {
    let e = score_compliance(
        AssignmentColumns {
            assignment_id: &[1i64, 2],
            person_id: &[1],
            position_id: &[1, 2],
        },
        RequirementColumns {
            position_id: &[],
            competency_id: &[],
        },
        HoldingColumns {
            person_id: &[],
            competency_id: &[],
            expiry: &[],
            expiry_validity: None,
            level: None,
        },
        d(2026, 1, 1),
        AmberWindow::ESR,
    )
    .unwrap_err();
    assert!(matches!(e, Error::BulkInput { .. }), "{e}");
    let e = score_compliance(
        AssignmentColumns {
            assignment_id: &[1i32],
            person_id: &[1],
            position_id: &[1],
        },
        RequirementColumns {
            position_id: &[],
            competency_id: &[],
        },
        HoldingColumns {
            person_id: &[1; 9],
            competency_id: &[1; 9],
            expiry: &[1; 9],
            expiry_validity: Some(Validity::new(&[0xff], 0)),
            level: None,
        },
        d(2026, 1, 1),
        AmberWindow::ESR,
    )
    .unwrap_err();
    assert!(e.to_string().contains("bitmap"), "{e}");
}

#[test]
fn sparse_ids_and_many_competencies() {
    // Ids far apart take the hash-map path; 130 competencies take three words per person.
    let as_of = d(2026, 11, 22);
    let base = days_since_epoch(as_of).unwrap();
    let big = 1i64 << 50;
    let a = [(big, big + 1, -big), (7, big + 1, 3)];
    let r: Vec<(i64, i64)> = (0..130).map(|c| (-big, c * 1_000_000_007)).collect();
    let h: Vec<(i64, i64, Option<i32>)> = (0..130)
        .map(|c| {
            (
                big + 1,
                c * 1_000_000_007,
                Some(base + (c as i32 % 3 - 1) * 60),
            )
        })
        .collect();
    let s = run(&a, &r, &h, as_of, AmberWindow::ESR, 1, false);
    let want = reference(&a, &r, &h, as_of, AmberWindow::ESR);
    assert_eq!(s.required[0], 130);
    assert_eq!(
        (s.green[0], s.amber[0], s.red[0]),
        (want[0].green, want[0].amber, want[0].red)
    );
    assert_eq!(s.required[1], 0);
}

#[test]
fn threads_agree_on_large_input() {
    // Enough holdings to take the parallel path.
    let as_of = d(2026, 11, 22);
    let base = days_since_epoch(as_of).unwrap();
    // More assignments than the parallel threshold too.
    let people = (PARALLEL_MIN_ROWS + 1_000) as i64;
    let a: Vec<(i64, i64, i64)> = (0..people).map(|p| (p, p, p % 7)).collect();
    let r: Vec<(i64, i64)> = (0..7)
        .flat_map(|pos| (0..10).map(move |c| (pos, (c + pos) % 12)))
        .collect();
    let h: Vec<(i64, i64, Option<i32>)> = (0..300_000i64)
        .map(|i| {
            let e = (i * 7919 % 400) as i32 - 100;
            (
                i % people,
                i * 31 % 12,
                if i % 13 == 0 { None } else { Some(base + e) },
            )
        })
        .collect();
    let one = run(&a, &r, &h, as_of, AmberWindow::ESR, 1, false);
    let two = run(&a, &r, &h, as_of, AmberWindow::ESR, 2, true);
    assert_eq!(one, two);
    let sums = |s: &BulkScores<i64>| {
        (
            s.green.iter().sum::<u32>(),
            s.amber.iter().sum::<u32>(),
            s.red.iter().sum::<u32>(),
        )
    };
    let want = reference(&a[..200], &r, &h, as_of, AmberWindow::ESR);
    for (i, w) in want.iter().enumerate() {
        assert_eq!(
            (one.green[i], one.amber[i], one.red[i]),
            (w.green, w.amber, w.red)
        );
    }
    let (g, am, rd) = sums(&one);
    assert!(g > 0 && am > 0 && rd > 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn bulk_matches_the_row_rules(
        a in prop::collection::vec((0i64..50, 0i64..6, 0i64..5), 0..12),
        r in prop::collection::vec((0i64..5, 0i64..8), 0..16),
        h in prop::collection::vec((0i64..6, 0i64..9, prop::option::of(-200i32..200)), 0..40),
        as_of in 17_000i32..21_000,
        months in 0u32..7,
        bitmap in any::<bool>(),
    ) {
        let as_of = date_from_days(as_of).unwrap();
        let base = days_since_epoch(as_of).unwrap();
        let h: Vec<_> = h.into_iter().map(|(p, c, e)| (p, c, e.map(|e| base + e))).collect();
        let w = AmberWindow::months(months).unwrap();
        let s = run(&a, &r, &h, as_of, w, 1, bitmap);
        let want = reference(&a, &r, &h, as_of, w);
        let mut totals = ComplianceCounts::default();
        let mut got = ComplianceCounts::default();
        for (i, c) in want.iter().enumerate() {
            prop_assert_eq!(s.required[i], c.essential);
            prop_assert_eq!((s.green[i], s.amber[i], s.red[i]), (c.green, c.amber, c.red));
            prop_assert_eq!(s.percent_at(i), c.percent());
            totals.merge(c);
            got.merge(&ComplianceCounts { essential: s.required[i], green: s.green[i], amber: s.amber[i], red: s.red[i] });
        }
        prop_assert_eq!(totals, got);
        let _ = BTreeMap::<i32, i32>::new();

        // The detail rows, by the same rules: the required ones sum to the counts, and the
        // Blue ones are the competencies held and not required.
        let threads = NonZeroUsize::new(1 + usize::from(bitmap)).unwrap();
        let d = detail(&a, &r, &h, as_of, w, threads, bitmap);
        for (i, &(_, person, position)) in a.iter().enumerate() {
            let mut c = ComplianceCounts::default();
            let mut blue = BTreeSet::new();
            for k in (0..d.len()).filter(|&k| d.assignment_row[k] as usize == i) {
                if d.essential[k] {
                    c.add(d.status[k]);
                    let holding = h.iter()
                        .filter(|x| x.0 == person && x.1 == d.competency_id[k])
                        .map(|x| Holding::from_expiry(x.2.map(|e| date_from_days(e).unwrap())))
                        .fold(Holding::NotHeld, Holding::latest);
                    prop_assert_eq!(d.expiry[k].map(|e| date_from_days(e).unwrap()), holding.expiry());
                    prop_assert_eq!(d.days_left[k], d.expiry[k].map(|e| e - base));
                } else {
                    prop_assert_eq!(d.status[k], ComplianceStatus::Blue);
                    prop_assert!(blue.insert(d.competency_id[k]));
                }
            }
            c.essential = c.green + c.amber + c.red;
            prop_assert_eq!(&c, &want[i]);
            let needed: BTreeSet<i64> = r.iter().filter(|x| x.0 == position).map(|x| x.1).collect();
            let held: BTreeSet<i64> = h.iter().filter(|x| x.0 == person && !needed.contains(&x.1)).map(|x| x.1).collect();
            prop_assert_eq!(blue, held);
        }
    }
}

/// Splits `n` rows at the cut points (taken modulo n+1, sorted): the chunk ranges.
fn chunk_ranges(n: usize, cuts: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (n + 1)).collect();
    at.push(0);
    at.push(n);
    at.sort_unstable();
    at.windows(2).map(|w| w[0]..w[1]).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    /// Tables in chunks (empty ones too, bitmaps at odd offsets) score exactly as whole ones.
    #[test]
    fn chunks_score_as_whole_tables(
        a in prop::collection::vec((0i64..50, 0i64..6, 0i64..5), 0..12),
        r in prop::collection::vec((0i64..5, 0i64..8), 0..16),
        h in prop::collection::vec((0i64..6, 0i64..9, prop::option::of(-200i32..200)), 0..40),
        acuts in prop::collection::vec(0usize..64, 0..4),
        hcuts in prop::collection::vec(0usize..64, 0..6),
        threads in 1usize..4,
    ) {
        let as_of = d(2026, 11, 22);
        let base = days_since_epoch(as_of).unwrap();
        let w = AmberWindow::ESR;
        let h: Vec<_> = h.into_iter().map(|(p, c, e)| (p, c, e.map(|e| base + e))).collect();
        let threads = NonZeroUsize::new(threads).unwrap();
        let aid: Vec<i64> = a.iter().map(|x| x.0).collect();
        let ap: Vec<i64> = a.iter().map(|x| x.1).collect();
        let apos: Vec<i64> = a.iter().map(|x| x.2).collect();
        let rp: Vec<i64> = r.iter().map(|x| x.0).collect();
        let rc: Vec<i64> = r.iter().map(|x| x.1).collect();
        let hp: Vec<i64> = h.iter().map(|x| x.0).collect();
        let hc: Vec<i64> = h.iter().map(|x| x.1).collect();
        let mut bits = vec![0u8; (h.len() + 5).div_ceil(8)];
        let he: Vec<i32> = h.iter().enumerate().map(|(i, x)| match x.2 {
            Some(e) => { bits[(i + 5) / 8] |= 1 << ((i + 5) % 8); e }
            None => 0,
        }).collect();
        let whole_h = HoldingColumns {
            person_id: &hp, competency_id: &hc, expiry: &he,
            expiry_validity: Some(Validity::new(&bits, 5)),
            level: None,
        };
        let whole_a = AssignmentColumns { assignment_id: &aid, person_id: &ap, position_id: &apos };
        let req = RequirementColumns { position_id: &rp, competency_id: &rc };
        let ach: Vec<_> = chunk_ranges(a.len(), &acuts).into_iter().map(|r| AssignmentColumns {
            assignment_id: &aid[r.clone()], person_id: &ap[r.clone()], position_id: &apos[r],
        }).collect();
        let hch: Vec<_> = chunk_ranges(h.len(), &hcuts).into_iter().map(|r| whole_h.slice(r)).collect();
        let want = score_compliance_with_threads(whole_a, req, whole_h, as_of, w, threads).unwrap();
        let got = score_compliance_parts(&ach, req, &hch[..], as_of, w, threads).unwrap();
        prop_assert_eq!(&want, &got);
        let want = score_compliance_detail(whole_a, req, whole_h, as_of, w, HeldNotRequired::Blue, threads).unwrap();
        let got = score_compliance_detail_parts(&ach, req, &hch, as_of, w, HeldNotRequired::Blue, threads).unwrap();
        prop_assert_eq!(want, got);
    }
}

#[test]
fn chunks_score_as_whole_tables_in_parallel() {
    // Past the parallel threshold, with chunk edges inside each worker's share.
    let as_of = d(2026, 11, 22);
    let base = days_since_epoch(as_of).unwrap();
    let people = (PARALLEL_MIN_ROWS + 1_000) as i64;
    let a: Vec<(i64, i64, i64)> = (0..people).map(|p| (p, p, p % 7)).collect();
    let r: Vec<(i64, i64)> = (0..7)
        .flat_map(|pos| (0..10).map(move |c| (pos, (c + pos) % 12)))
        .collect();
    let hp: Vec<i64> = (0..400_000i64).map(|i| i % people).collect();
    let hc: Vec<i64> = (0..400_000i64).map(|i| i * 31 % 12).collect();
    let he: Vec<i32> = (0..400_000i64)
        .map(|i| base + (i * 7919 % 400) as i32 - 100)
        .collect();
    let aid: Vec<i64> = a.iter().map(|x| x.0).collect();
    let ap: Vec<i64> = a.iter().map(|x| x.1).collect();
    let apos: Vec<i64> = a.iter().map(|x| x.2).collect();
    let rp: Vec<i64> = r.iter().map(|x| x.0).collect();
    let rc: Vec<i64> = r.iter().map(|x| x.1).collect();
    let whole_h = HoldingColumns {
        person_id: &hp,
        competency_id: &hc,
        expiry: &he,
        expiry_validity: None,
        level: None,
    };
    let whole_a = AssignmentColumns {
        assignment_id: &aid,
        person_id: &ap,
        position_id: &apos,
    };
    let req = RequirementColumns {
        position_id: &rp,
        competency_id: &rc,
    };
    let ach: Vec<_> = chunk_ranges(a.len(), &[1, 70_000, 70_001, 200_000])
        .into_iter()
        .map(|r| AssignmentColumns {
            assignment_id: &aid[r.clone()],
            person_id: &ap[r.clone()],
            position_id: &apos[r],
        })
        .collect();
    let hch: Vec<_> = chunk_ranges(hp.len(), &[65_536, 100_000, 300_001])
        .into_iter()
        .map(|r| whole_h.slice(r))
        .collect();
    let two = NonZeroUsize::new(2).unwrap();
    let want =
        score_compliance_with_threads(whole_a, req, whole_h, as_of, AmberWindow::ESR, two).unwrap();
    let got = score_compliance_parts(&ach, req, &hch[..], as_of, AmberWindow::ESR, two).unwrap();
    assert_eq!(want, got);
}

/// Many competencies with levels and equivalences (several words a person, more than are
/// gathered at once): the bit-set counts equal the detail rows, which take the other path,
/// with holdings grouped by person (as exports come) and interleaved (a person's words
/// written out at every holding).
#[test]
fn full_rules_counts_equal_the_detail_across_many_words() {
    full_rules_across_many_words(|i| i);
    // The same holdings shuffled (7919 is prime to 20 000).
    full_rules_across_many_words(|i| (i * 7919) % 20_000);
}

/// `source(i)`: which of the holdings is row `i`.
fn full_rules_across_many_words(source: fn(i64) -> i64) {
    let as_of = d(2026, 11, 22);
    let base = days_since_epoch(as_of).unwrap();
    let comps = 300i64;
    let aid: Vec<i64> = (0..500).collect();
    let ap: Vec<i64> = (0..500).map(|i| i % 200).collect();
    let apos: Vec<i64> = (0..500).map(|i| i % 9).collect();
    let rp: Vec<i64> = (0..2000).map(|i| i % 9).collect();
    let rc: Vec<i64> = (0..2000).map(|i| (i * 37) % comps).collect();
    let re: Vec<bool> = (0..2000).map(|i| i % 5 != 0).collect();
    let rl: Vec<u8> = (0..2000).map(|i| (i % 3) as u8).collect();
    let rows = || (0..20_000).map(source);
    let hp: Vec<i64> = rows().map(|i| (i / 100) % 200).collect();
    let hc: Vec<i64> = rows().map(|i| (i * 13) % comps).collect();
    let he: Vec<i32> = rows()
        .map(|i| {
            if i % 11 == 0 {
                NO_EXPIRY
            } else {
                base + (i as i32 * 7) % 300 - 100
            }
        })
        .collect();
    let hl: Vec<u8> = rows().map(|i| (i % 4) as u8).collect();
    let eh: Vec<i64> = (0..50).map(|i| i * 3).collect();
    let es: Vec<i64> = (0..50).map(|i| i * 3 + 1).collect();
    let rules = BulkRules {
        position_requirements: RequirementOptions {
            essential: Some(&re),
            min_level: Some(&rl),
        },
        equivalences: Some(EquivalenceColumns {
            competency_id: &eh,
            satisfies_competency_id: &es,
        }),
        ..BulkRules::default()
    };
    let a = AssignmentColumns {
        assignment_id: &aid,
        person_id: &ap,
        position_id: &apos,
    };
    let r = RequirementColumns {
        position_id: &rp,
        competency_id: &rc,
    };
    let h = HoldingColumns {
        person_id: &hp,
        competency_id: &hc,
        expiry: &he,
        expiry_validity: None,
        level: Some(&hl),
    };
    let w = AmberWindow::ESR;
    let s = score_compliance_with_rules(a, r, h, &rules, as_of, w, NonZeroUsize::MIN).unwrap();
    let detail = score_compliance_detail_with_rules(
        a,
        r,
        h,
        &rules,
        as_of,
        w,
        HeldNotRequired::Omit,
        NonZeroUsize::MIN,
    )
    .unwrap();
    let mut counts = vec![ComplianceCounts::default(); aid.len()];
    for k in 0..detail.len() {
        if detail.essential[k] {
            counts[detail.assignment_row[k] as usize].add(detail.status[k]);
        }
    }
    for (i, c) in counts.iter().enumerate() {
        assert_eq!(
            (s.required[i], s.green[i], s.amber[i], s.red[i]),
            (c.essential, c.green, c.amber, c.red),
            "row {i}"
        );
    }
    assert!(
        counts
            .iter()
            .any(|c| c.green > 0 && c.red > 0 && c.amber > 0)
    );
}

/// Extreme ids are ids like any other: an assignment whose unit and job are `i64::MAX` (the
/// values a cache might take for "nothing seen") gets the requirements of its unit, its job
/// and its position.
#[test]
fn extreme_unit_and_job_ids_are_ordinary_ids() {
    let as_of = d(2026, 11, 22);
    let good = days_since_epoch(as_of).unwrap() + 400;
    let (aid, ap, apos) = (vec![1i64, 2], vec![10i64, 20], vec![100i64, 100]);
    let (a_unit, a_job) = (vec![i64::MAX, i64::MAX], vec![i64::MAX, i64::MAX]);
    let (rp, rc) = (vec![100i64], vec![1i64]);
    let (units, parents) = (vec![i64::MAX, i64::MIN], vec![i64::MIN, i64::MIN]);
    let (ut, uc) = (vec![i64::MIN], vec![2i64]);
    let (jt, jc) = (vec![i64::MAX], vec![3i64]);
    let (hp, hc, he) = (vec![10i64, 10, 10], vec![1i64, 2, 3], vec![good; 3]);
    let rules = BulkRules {
        assignment_org_unit: Some(&a_unit),
        assignment_job: Some(&a_job),
        org_unit_requirements: Some(TargetRequirementColumns {
            target_id: &ut,
            competency_id: &uc,
            essential: None,
            min_level: None,
        }),
        job_requirements: Some(TargetRequirementColumns {
            target_id: &jt,
            competency_id: &jc,
            essential: None,
            min_level: None,
        }),
        org_units: Some(OrgUnitColumns {
            org_unit_id: &units,
            parent_id: &parents,
            parent_validity: None,
        }),
        ..BulkRules::default()
    };
    let s = score_compliance_with_rules(
        AssignmentColumns {
            assignment_id: &aid,
            person_id: &ap,
            position_id: &apos,
        },
        RequirementColumns {
            position_id: &rp,
            competency_id: &rc,
        },
        HoldingColumns {
            person_id: &hp,
            competency_id: &hc,
            expiry: &he,
            expiry_validity: None,
            level: None,
        },
        &rules,
        as_of,
        AmberWindow::ESR,
        NonZeroUsize::MIN,
    )
    .unwrap();
    // Position (1), the unit's parent (2, inherited), the job (3): all held by person 10.
    assert_eq!((s.required[0], s.green[0], s.red[0]), (3, 3, 0));
    assert_eq!((s.required[1], s.green[1], s.red[1]), (3, 0, 3));
}
