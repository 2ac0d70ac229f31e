//! The workforce generator is deterministic, independent of threads, and NHS-shaped.

#![allow(clippy::unwrap_used)]

use esr_core::chrono::NaiveDate;
use esr_core::{compliance::AmberWindow, compliance::score_compliance};
use esr_examples::{WorkforceSpec, generate_workforce};

fn spec(seed: u64) -> WorkforceSpec {
    WorkforceSpec {
        people: 150_000,
        ..WorkforceSpec::nhs(seed, NaiveDate::from_ymd_opt(2026, 11, 23).unwrap())
    }
}

#[test]
fn the_same_seed_builds_the_same_workforce_on_any_number_of_threads() {
    let one = generate_workforce(&spec(7), 1).unwrap();
    let two = generate_workforce(&spec(7), 2).unwrap();
    assert!(one == two);
    let other = generate_workforce(&spec(8), 2).unwrap();
    assert!(one != other);
}

#[test]
fn the_shape_is_nhs_like_and_it_scores() {
    let w = generate_workforce(&spec(7), 2).unwrap();
    let people = 150_000.0;
    let per_person = |n: usize| n as f64 / people;
    // About 1.6 / 1.4 assignments and 20 / 1.4 holdings per person.
    assert!((1.10..1.20).contains(&per_person(w.assignment_id.len())));
    assert!((13.0..16.0).contains(&per_person(w.holding_person.len())));
    let s = score_compliance(
        w.assignments(),
        w.requirements(),
        w.holdings(),
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        AmberWindow::ESR,
    )
    .unwrap();
    assert_eq!(s.len(), w.assignment_id.len());
    let sum = |v: &[u32]| v.iter().map(|x| u64::from(*x)).sum::<u64>();
    let (g, a, r) = (sum(&s.green), sum(&s.amber), sum(&s.red));
    // Every colour occurs, green most.
    assert!(g > a && g > r && a > 0 && r > 0, "{g} {a} {r}");
    assert_eq!(g + a + r, sum(&s.required));
}
