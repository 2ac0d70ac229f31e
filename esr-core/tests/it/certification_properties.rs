//! Property tests of certifications through the service: whatever sequence of subscribing,
//! unsubscribing, enrolling, playing, reporting learning and time passing, no competence is
//! awarded without the completion rule met (checked against a model kept by the test), no expiry
//! precedes its completion, and a cancelled subscription awards nothing.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::chrono::TimeDelta;
use esr_core::{compliance::*, learning::*, values::*};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const NAME: &str = "297 Core Skills - NHS Conflict Resolution - 3 Years";
const COURSES: [(&str, ComponentKind); 3] = [
    ("Part 1", ComponentKind::Course),
    ("Part 2", ComponentKind::Course),
    ("eAssessment", ComponentKind::EAssessment),
];
const CLASSES: [&str; 2] = ["e-Learning", "Classroom"];

#[derive(Debug, Clone)]
enum Op {
    Subscribe,
    Unsubscribe,
    Enrol(usize, usize),
    Play(usize, PlayResult),
    Report(usize, PlayResult),
    Advance(i64),
}

fn result() -> impl Strategy<Value = PlayResult> {
    prop_oneof![
        (0u8..=100).prop_map(PlayResult::Progress),
        Just(PlayResult::Completed),
        (0u8..=100).prop_map(PlayResult::Passed),
        (0u8..=100).prop_map(PlayResult::Failed),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::Subscribe),
        1 => Just(Op::Unsubscribe),
        4 => (0usize..3, 0usize..2).prop_map(|(c, k)| Op::Enrol(c, k)),
        6 => (0usize..3, result()).prop_map(|(c, r)| Op::Play(c, r)),
        2 => (0usize..3, result()).prop_map(|(c, r)| Op::Report(c, r)),
        2 => (0i64..1200).prop_map(Op::Advance),
    ]
}

fn certification(vpd: VpdCode, quick: bool, renewal: Option<(u32, bool)>) -> Certification {
    Certification {
        vpd,
        name: NAME.into(),
        competence: cstf("NHS Conflict Resolution (England) - 3 Years").unwrap(),
        level: CompetenceLevel::assessed(),
        validity_days: 1095,
        completion_window_days: 365,
        renewal: renewal.map(|(window_days, keep)| Renewal {
            window_days,
            base: if keep {
                ExpiryBase::PreviousExpiry
            } else {
                ExpiryBase::CompletionDate
            },
        }),
        mandatory: true,
        components: COURSES
            .iter()
            .map(|(c, kind)| Component {
                course: (*c).into(),
                kind: *kind,
                classes: CLASSES.iter().map(|s| (*s).into()).collect(),
            })
            .collect(),
        completion_rule: if quick {
            CompletionRule::PassedAssessmentCompletesCourse
        } else {
            CompletionRule::AllComponents
        },
    }
}

/// Whether the components the model saw done meet the rule.
fn model_met(quick: bool, done: &BTreeSet<usize>) -> bool {
    if quick {
        done.contains(&2)
    } else {
        (0..3).all(|i| done.contains(&i))
    }
}

fn counts_as_done(i: usize, r: PlayResult) -> bool {
    matches!(
        (COURSES[i].1, r),
        (ComponentKind::Course, PlayResult::Completed)
            | (ComponentKind::EAssessment, PlayResult::Passed(_))
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn awards_follow_the_completion_rule(
        quick in any::<bool>(),
        renewal in proptest::option::of((1u32..=400, any::<bool>())),
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        let fx = Fixture::new();
        let v = fx.vpd();
        let emma = fx.staff("Emma", "Conroy", "Ward 5", None);
        let e = emma.employee().clone();
        let actor = system();
        fx.esr.define_certification(&actor, certification(v, quick, renewal)).unwrap();
        // The model: the components seen done in each cycle.
        let mut done: BTreeMap<u32, BTreeSet<usize>> = BTreeMap::new();
        let mut records = 0usize;
        for op in ops {
            let before = fx.esr.subscriptions(&actor, v, &e).unwrap();
            let before = before.first();
            let cancelled_before = matches!(
                before.map(|b| b.status),
                None | Some(SubscriptionStatus::Cancelled { .. })
            );
            let played = match op {
                Op::Subscribe => { let _ = fx.esr.subscribe(&actor, v, &e, NAME); None }
                Op::Unsubscribe => { let _ = fx.esr.unsubscribe(&actor, v, &e, NAME); None }
                Op::Enrol(c, k) => {
                    let _ = fx.esr.enrol(&actor, v, &e, NAME, COURSES[c].0, CLASSES[k]);
                    None
                }
                Op::Play(c, r) => {
                    fx.esr.play(&actor, v, &e, NAME, COURSES[c].0, r).ok().map(|o| (c, r, o))
                }
                Op::Report(c, r) => match fx.esr.record_learning(&actor, v, &e, COURSES[c].0, r) {
                    Ok(LearningOutcome::Recorded { outcome, .. }) => Some((c, r, *outcome)),
                    _ => None,
                },
                Op::Advance(days) => { fx.clock.advance(TimeDelta::days(days)); None }
            };
            if let Some((c, r, outcome)) = &played {
                if counts_as_done(*c, *r) {
                    done.entry(outcome.enrolment.cycle).or_default().insert(*c);
                }
                prop_assert!(!cancelled_before, "played on a cancelled subscription");
            }
            let held = fx.esr.competence_records(&actor, v, &e).unwrap();
            for r in &held {
                prop_assert!(r.expiry.is_some_and(|x| x >= r.achieved), "{r:?}");
            }
            let after = fx.esr.subscriptions(&actor, v, &e).unwrap();
            for s in &after {
                if let Some(p) = s.subscription.certified {
                    prop_assert!(p.expiry >= p.completed);
                }
            }
            if held.len() > records || played.as_ref().is_some_and(|p| p.2.awarded.is_some()) {
                let (c, _, outcome) = played.as_ref().expect("a competence appeared without a play");
                prop_assert!(!cancelled_before, "a cancelled subscription awarded {c}");
                prop_assert!(outcome.awarded.is_some());
                let cycle = outcome.enrolment.cycle;
                let seen = done.get(&cycle).cloned().unwrap_or_default();
                prop_assert!(
                    model_met(quick, &seen),
                    "awarded in cycle {cycle} with only {seen:?} done"
                );
                // The next award needs a new cycle.
                done.remove(&cycle);
            }
            records = held.len();
        }
    }
}
