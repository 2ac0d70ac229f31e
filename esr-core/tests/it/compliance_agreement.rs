//! One truth: random trusts loaded into the service and scored in bulk give the same counts,
//! percentages and rows. Hierarchies, positions, jobs, requirements of every target kind
//! (essential or not, with and without a minimum level), equivalence chains and cycles, several
//! assignments per person, and records on both sides of every date and level boundary.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::chrono::{Days, NaiveDate};
use esr_core::{compliance::*, people::*, values::*};
use proptest::prelude::*;
use std::collections::HashMap;
use std::num::NonZeroUsize;

const COMPS: usize = 6;
const POSITIONS: usize = 4;
const JOBS: [&str; 3] = ["Staff Nurse", "Porter", "Ward Clerk"];
const LEVELS: [&str; 3] = ["0 - Not Assessed", "1 - Assessed", "2 - Expert"];

#[derive(Debug, Clone)]
struct Spec {
    /// New units: each under an earlier one, or at the top.
    parents: Vec<Option<usize>>,
    /// Per person, their assignments: (position, unit, job).
    people: Vec<Vec<(usize, usize, usize)>>,
    /// (target kind 0 position / 1 unit / 2 job, target, competence, essential, min level).
    requirements: Vec<(u8, usize, usize, bool, Option<usize>)>,
    /// (held, satisfies).
    equivalences: Vec<(usize, usize)>,
    /// (person, competence, expiry kind, level).
    records: Vec<(usize, usize, usize, usize)>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (1usize..5, 1usize..6).prop_flat_map(|(units, people)| {
        (
            proptest::collection::vec(proptest::option::of(0usize..units), units),
            proptest::collection::vec(
                proptest::collection::vec((0..POSITIONS, 0..units, 0..JOBS.len()), 1..4),
                people,
            ),
            proptest::collection::vec(
                (
                    0u8..3,
                    0usize..POSITIONS.max(units),
                    0..COMPS,
                    any::<bool>(),
                    proptest::option::of(0usize..LEVELS.len()),
                ),
                0..12,
            ),
            proptest::collection::vec((0..COMPS, 0..COMPS), 0..5),
            proptest::collection::vec((0..people, 0..COMPS, 0usize..9, 0..LEVELS.len()), 0..20),
        )
            .prop_map(
                |(mut parents, people, requirements, equivalences, records)| {
                    // Only earlier units can be parents, so the tree is built top down.
                    for (i, p) in parents.iter_mut().enumerate() {
                        *p = p.filter(|p| *p < i);
                    }
                    Spec {
                        parents,
                        people,
                        requirements,
                        equivalences,
                        records,
                    }
                },
            )
    })
}

fn comp(i: usize) -> CompetenceName {
    cstf(CSTF_TITLES[i]).unwrap()
}
fn unit_id(i: usize) -> OrgUnitId {
    unit(&format!("Unit {i}"))
}
fn position(i: usize) -> PositionId {
    format!("297|Role {i}|Ward|").parse().unwrap()
}

/// The expiry of kind `k` around `as_of` and the window's last day: before, on and after each.
fn expiry(k: usize, as_of: NaiveDate, last: NaiveDate) -> RecordExpiry {
    let at = |d: NaiveDate, plus: i64| {
        RecordExpiry::On(if plus >= 0 {
            d + Days::new(plus as u64)
        } else {
            d - Days::new((-plus) as u64)
        })
    };
    match k {
        0 => at(as_of, -400),
        1 => at(as_of, -1),
        2 => at(as_of, 0),
        3 => at(as_of, 1),
        4 => at(last, -1),
        5 => at(last, 0),
        6 => at(last, 1),
        7 => at(last, 700),
        _ => RecordExpiry::Never,
    }
}

/// Loads the spec into a fresh service; returns it and the date to score.
fn load(s: &Spec) -> (Fixture, NaiveDate) {
    let fx = Fixture::new();
    let v = fx.vpd();
    for (i, p) in s.parents.iter().enumerate() {
        let parent = p.map_or_else(|| unit("Trust HQ"), unit_id);
        fx.esr
            .add_org_unit(&system(), v, unit_id(i), &format!("Unit {i}"), Some(parent))
            .unwrap();
    }
    for (p, assignments) in s.people.iter().enumerate() {
        let number = format!("2979{p:04}");
        fx.esr
            .add_person(
                &system(),
                v,
                NewPerson {
                    employee_number: emp(&number),
                    name: PersonName::new("Pat", &format!("Person{}", "x".repeat(p + 1))).unwrap(),
                    date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 14).unwrap(),
                    recruitment_email: format!("p{number}@nhs.net").parse().unwrap(),
                },
            )
            .unwrap();
        for (k, (pos, u, job)) in assignments.iter().enumerate() {
            let n = if k == 0 {
                number.clone()
            } else {
                format!("{number}-{}", k + 1)
            };
            fx.esr
                .add_assignment(
                    &system(),
                    v,
                    NewAssignment {
                        number: n.parse().unwrap(),
                        employee_number: emp(&number),
                        title: JOBS[*job].into(),
                        position: position(*pos),
                        org_unit: unit_id(*u),
                        supervisor: None,
                    },
                )
                .unwrap();
        }
    }
    let units = s.parents.len();
    for &(kind, t, c, essential, min) in &s.requirements {
        let target = match kind {
            0 => RequirementTarget::Position(position(t % POSITIONS)),
            1 => RequirementTarget::OrgUnit(unit_id(t % units)),
            _ => RequirementTarget::Job(JOBS[t % JOBS.len()].into()),
        };
        fx.esr
            .set_requirement(
                &system(),
                Requirement {
                    vpd: v,
                    target,
                    competence: comp(c),
                    essential,
                    min_level: min.map(|l| LEVELS[l].parse().unwrap()),
                },
            )
            .unwrap();
    }
    for &(h, sat) in &s.equivalences {
        if h != sat {
            fx.esr
                .add_equivalence(
                    &system(),
                    Equivalence {
                        vpd: v,
                        held: comp(h),
                        satisfies: comp(sat),
                    },
                )
                .unwrap();
        }
    }
    let as_of = fx.esr.uk_today();
    let window = fx.esr.compliance_settings(v).unwrap().amber_window;
    let last = window.last_day(as_of);
    for (k, &(p, c, e, level)) in s.records.iter().enumerate() {
        let expiry = expiry(e, as_of, last);
        let latest = match expiry {
            RecordExpiry::On(d) => d.min(as_of),
            _ => as_of,
        };
        // A distinct achieved date per record, so none replaces another.
        let achieved = latest - Days::new(k as u64 + 1);
        fx.esr
            .record_competence(
                &system(),
                v,
                &emp(&format!("2979{p:04}")),
                NewCompetenceRecord {
                    competence: comp(c),
                    achieved,
                    expiry,
                    level: LEVELS[level].parse().unwrap(),
                },
            )
            .unwrap();
    }
    (fx, as_of)
}

/// Dense ids for names.
#[derive(Default)]
struct Ids(HashMap<String, i64>, Vec<String>);
impl Ids {
    fn of(&mut self, s: &str) -> i64 {
        if let Some(i) = self.0.get(s) {
            return *i;
        }
        let i = self.1.len() as i64;
        self.0.insert(s.to_owned(), i);
        self.1.push(s.to_owned());
        i
    }
}

/// A detail row, comparable across the two sides.
type Row = (
    usize,
    String,
    Need,
    ComplianceStatus,
    Option<NaiveDate>,
    Option<RedReason>,
);

fn check(s: &Spec) -> Result<(), TestCaseError> {
    let (fx, as_of) = load(s);
    let v = fx.vpd();
    let esr = &fx.esr;
    let settings = esr.compliance_settings(v).unwrap();

    // The service's side: each assignment as the service assesses it, and its roll-up.
    let rules = ComplianceRules::new(
        esr.trust(v).unwrap(),
        esr.requirements(v).unwrap(),
        &esr.equivalences(v).unwrap(),
        settings.amber_window,
    );
    let mut assignments = Vec::new();
    let mut records = Vec::new();
    for p in esr.people(v).unwrap() {
        let recs = esr
            .competence_records(&system(), v, &p.employee_number)
            .unwrap();
        for a in esr.assignments_of(v, &p.employee_number).unwrap() {
            assignments.push((a.clone(), rules.assess(&a, &recs, as_of)));
        }
        records.extend(recs);
    }
    let report = esr.compliance_report(&system(), v, Some(as_of)).unwrap();

    // The bulk side: the same trust as tables of ids.
    let (mut people, mut positions, mut units, mut jobs, mut comps) = (
        Ids::default(),
        Ids::default(),
        Ids::default(),
        Ids::default(),
        Ids::default(),
    );
    let a_id: Vec<i64> = (0..assignments.len() as i64).collect();
    let a_person: Vec<i64> = assignments
        .iter()
        .map(|(a, _)| people.of(a.employee_number.as_str()))
        .collect();
    let a_pos: Vec<i64> = assignments
        .iter()
        .map(|(a, _)| positions.of(a.position.as_str()))
        .collect();
    let a_unit: Vec<i64> = assignments
        .iter()
        .map(|(a, _)| units.of(a.org_unit.as_str()))
        .collect();
    let a_job: Vec<i64> = assignments.iter().map(|(a, _)| jobs.of(&a.title)).collect();
    let (mut rp, mut rc, mut re, mut rl) = (vec![], vec![], vec![], vec![]);
    let (mut up, mut uc, mut ue, mut ul) = (vec![], vec![], vec![], vec![]);
    let (mut jp, mut jc, mut je, mut jl) = (vec![], vec![], vec![], vec![]);
    for r in esr.requirements(v).unwrap() {
        let c = comps.of(r.competence.as_str());
        let l = r.min_level.as_ref().map_or(0, |l| l.rank());
        let (t, cs, es, ls) = match &r.target {
            RequirementTarget::Position(p) => (positions.of(p.as_str()), &mut rc, &mut re, &mut rl),
            RequirementTarget::OrgUnit(u) => {
                up.push(units.of(u.as_str()));
                (i64::MIN, &mut uc, &mut ue, &mut ul)
            }
            RequirementTarget::Job(j) => {
                jp.push(jobs.of(j));
                (i64::MIN, &mut jc, &mut je, &mut jl)
            }
        };
        if t != i64::MIN {
            rp.push(t);
        }
        cs.push(c);
        es.push(r.essential);
        ls.push(l);
    }
    let trust = esr.trust(v).unwrap();
    let (ou, op): (Vec<i64>, Vec<i64>) = trust
        .org_units
        .values()
        .map(|u| {
            let id = units.of(u.id.as_str());
            (id, u.parent.as_ref().map_or(id, |p| units.of(p.as_str())))
        })
        .unzip();
    let (eh, es): (Vec<i64>, Vec<i64>) = esr
        .equivalences(v)
        .unwrap()
        .iter()
        .map(|e| (comps.of(e.held.as_str()), comps.of(e.satisfies.as_str())))
        .unzip();
    let hp: Vec<i64> = records
        .iter()
        .map(|r| people.of(r.employee_number.as_str()))
        .collect();
    let hc: Vec<i64> = records
        .iter()
        .map(|r| comps.of(r.competence.as_str()))
        .collect();
    let he: Vec<i32> = records
        .iter()
        .map(|r| r.expiry.map_or(NO_EXPIRY, |d| days_since_epoch(d).unwrap()))
        .collect();
    let hl: Vec<u8> = records.iter().map(|r| r.level.rank()).collect();
    let cols = (
        AssignmentColumns {
            assignment_id: &a_id,
            person_id: &a_person,
            position_id: &a_pos,
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
            level: Some(&hl),
        },
    );
    let bulk_rules = BulkRules {
        assignment_org_unit: Some(&a_unit),
        assignment_job: Some(&a_job),
        position_requirements: RequirementOptions {
            essential: Some(&re),
            min_level: Some(&rl),
        },
        org_unit_requirements: Some(TargetRequirementColumns {
            target_id: &up,
            competency_id: &uc,
            essential: Some(&ue),
            min_level: Some(&ul),
        }),
        job_requirements: Some(TargetRequirementColumns {
            target_id: &jp,
            competency_id: &jc,
            essential: Some(&je),
            min_level: Some(&jl),
        }),
        org_units: Some(OrgUnitColumns {
            org_unit_id: &ou,
            parent_id: &op,
            parent_validity: None,
        }),
        equivalences: Some(EquivalenceColumns {
            competency_id: &eh,
            satisfies_competency_id: &es,
        }),
    };
    let scores = score_compliance_with_rules(
        cols.0,
        cols.1,
        cols.2,
        &bulk_rules,
        as_of,
        settings.amber_window,
        NonZeroUsize::MIN,
    )
    .unwrap();
    let detail = score_compliance_detail_with_rules(
        cols.0,
        cols.1,
        cols.2,
        &bulk_rules,
        as_of,
        settings.amber_window,
        HeldNotRequired::Blue,
        NonZeroUsize::MIN,
    )
    .unwrap();

    // Counts and percentages, assignment by assignment, and the trust's total.
    let mut total = ComplianceCounts::default();
    for (i, (a, c)) in assignments.iter().enumerate() {
        let bulk = ComplianceCounts {
            essential: scores.required[i],
            green: scores.green[i],
            amber: scores.amber[i],
            red: scores.red[i],
        };
        prop_assert_eq!(bulk, c.counts, "assignment {}", a.number);
        prop_assert_eq!(scores.percent_at(i), c.percent(), "assignment {}", a.number);
        total.merge(&bulk);
    }
    prop_assert_eq!(total, report.trust);

    // The rows: the service's coloured rows are the bulk detail's.
    let mut service: Vec<Row> = assignments
        .iter()
        .enumerate()
        .flat_map(|(i, (_, c))| {
            c.rows.iter().filter_map(move |r| {
                Some((
                    i,
                    r.competence.to_string(),
                    r.need,
                    r.status?,
                    r.holding.expiry(),
                    r.reason,
                ))
            })
        })
        .collect();
    let mut bulk: Vec<Row> = (0..detail.len())
        .map(|k| {
            (
                detail.assignment_row[k] as usize,
                comps.1[detail.competency_id[k] as usize].clone(),
                detail.need[k],
                detail.status[k],
                detail.expiry[k].and_then(date_from_days),
                detail.reason[k],
            )
        })
        .collect();
    service.sort();
    bulk.sort();
    prop_assert_eq!(service, bulk);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_service_and_the_bulk_scorer_agree(s in spec()) {
        check(&s)?;
    }
}

/// The property can fail: a trust where a unit requirement is inherited, a higher level counts
/// through an equivalence, and a record is below a minimum level, checked by hand.
#[test]
fn a_hand_made_trust_agrees() {
    let s = Spec {
        parents: vec![None, Some(0)],
        people: vec![vec![(0, 1, 0), (1, 0, 1)], vec![(2, 1, 2)]],
        requirements: vec![
            (1, 0, 0, true, None),
            (0, 0, 1, true, Some(1)),
            (2, 1, 2, false, None),
            (0, 1, 3, true, None),
        ],
        equivalences: vec![(4, 3), (5, 4)],
        records: vec![(0, 0, 5, 0), (0, 1, 7, 0), (0, 5, 8, 1), (1, 2, 3, 2)],
    };
    check(&s).unwrap();
    let (fx, as_of) = load(&s);
    let me = fx
        .esr
        .compliance_report(&system(), fx.vpd(), Some(as_of))
        .unwrap();
    assert!(me.trust.essential > 0);
}
