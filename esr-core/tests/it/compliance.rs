//! Compliance through the service: requirements, records, My Compliance, Team Compliance,
//! roll-ups, the ESR competence import and the compliance matrix, with their refusals.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::chrono::NaiveDate;
use esr_core::{audit::*, compliance::*, people::*, store::*, urp::*, values::*, *};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn subject(title: &str) -> CompetenceName {
    cstf(title).unwrap()
}

fn position_of(s: &Staff) -> RequirementTarget {
    RequirementTarget::Position(s.assignment.position.clone())
}

fn require(fx: &Fixture, target: RequirementTarget, c: &CompetenceName, essential: bool) {
    fx.esr
        .set_requirement(
            &system(),
            Requirement {
                vpd: fx.vpd(),
                target,
                competence: c.clone(),
                essential,
                min_level: None,
            },
        )
        .unwrap();
}

fn record(fx: &Fixture, s: &Staff, c: &CompetenceName, achieved: NaiveDate, expiry: RecordExpiry) {
    fx.esr
        .record_competence(
            &system(),
            fx.vpd(),
            s.employee(),
            NewCompetenceRecord {
                competence: c.clone(),
                achieved,
                expiry,
                level: CompetenceLevel::default(),
            },
        )
        .unwrap();
}

fn records_of(fx: &Fixture, s: &Staff) -> Vec<CompetenceRecord> {
    fx.esr
        .competence_records(&system(), fx.vpd(), s.employee())
        .unwrap()
}

fn row<'a>(a: &'a AssignmentCompliance, c: &CompetenceName) -> &'a ComplianceRow {
    a.rows.iter().find(|r| &r.competence == c).unwrap()
}

#[test]
fn ten_essential_competences_with_one_red_is_ninety_percent() {
    let fx = Fixture::new();
    let emma = fx.staff("Emma", "Conroy", "Ward 5", None);
    for t in CSTF_TITLES {
        require(&fx, position_of(&emma), &subject(t), true);
    }
    for t in CSTF_TITLES {
        let expiry = if t.starts_with("NHS Conflict") {
            d(2026, 11, 21) // expired yesterday
        } else {
            d(2028, 1, 15)
        };
        record(
            &fx,
            &emma,
            &subject(t),
            d(2025, 1, 15),
            RecordExpiry::On(expiry),
        );
    }
    let s = fx.hscn(emma.username());
    let me = fx.esr.my_compliance(s, None).unwrap();
    assert_eq!(me.as_of, d(2026, 11, 22));
    let a = &me.assignments[0];
    assert_eq!(a.counts.essential, 10);
    assert_eq!(a.counts.red, 1);
    assert_eq!(a.percent(), Some(90.0));
    assert_eq!(format_percent(a.percent()), "90.0%");
    assert_eq!(me.percent(), Some(90.0));
    assert_eq!(
        row(a, &subject("NHS Conflict Resolution (England) - 3 Years")).status,
        Some(ComplianceStatus::Red)
    );
}

#[test]
fn the_seed_table_gives_green_red_green_amber_in_late_july_2018() {
    let fx = Fixture::new();
    let emma = fx.staff("Emma", "Conroy", "Ward 5", None);
    let table = [
        ("Moving and Handling - Level 1 - 3 Years", d(2020, 11, 21)),
        (
            "NHS Conflict Resolution (England) - 3 Years",
            d(2018, 7, 12),
        ),
        ("Preventing Radicalisation - Levels 1 & 2", d(2020, 1, 15)),
        (
            "Safeguarding Adults - Level 1 and Level 2 - 3 Years",
            d(2018, 8, 12),
        ),
    ];
    for (t, expiry) in table {
        require(&fx, position_of(&emma), &subject(t), true);
        record(
            &fx,
            &emma,
            &subject(t),
            d(2015, 7, 1),
            RecordExpiry::On(expiry),
        );
    }
    let s = fx.hscn(emma.username());
    let me = fx.esr.my_compliance(s, Some(d(2018, 7, 25))).unwrap();
    let a = &me.assignments[0];
    let got: Vec<_> = table
        .iter()
        .map(|(t, _)| row(a, &subject(t)).status.unwrap())
        .collect();
    use ComplianceStatus::*;
    assert_eq!(got, [Green, Red, Green, Amber]);
    assert_eq!(a.percent(), Some(75.0));
}

#[test]
fn requirements_by_position_unit_and_job_with_equivalences_and_blue_rows() {
    let fx = Fixture::new();
    let emma = fx.staff("Emma", "Conroy", "Ward 5", None);
    let fire = subject("Fire Safety - 1 Year");
    let ig = subject("Information Governance - 1 Year");
    let prevent = subject("Preventing Radicalisation - Levels 1 & 2");
    let hsw = subject("Health, Safety and Welfare - 3 Years");
    // A local competence and a three-step chain of safeguarding levels.
    let v = fx.vpd();
    let local = |t: &str| CompetenceName::new(CompetenceOwner::Local(v), "LOCAL", t).unwrap();
    let (l1, l2, l3) = (
        local("Safeguarding L1"),
        local("Safeguarding L2"),
        local("Safeguarding L3"),
    );
    let sepsis = local("Sepsis Awareness - 2 Years");
    for c in [&l1, &l2, &l3, &sepsis] {
        fx.esr
            .define_competence(&system(), v, CompetenceDefinition::from_name(c.clone()))
            .unwrap();
    }
    for (held, satisfies) in [(&l3, &l2), (&l2, &l1)] {
        fx.esr
            .add_equivalence(
                &system(),
                Equivalence {
                    vpd: v,
                    held: held.clone(),
                    satisfies: satisfies.clone(),
                },
            )
            .unwrap();
    }
    require(&fx, position_of(&emma), &fire, true);
    require(&fx, RequirementTarget::OrgUnit(unit("Medicine")), &ig, true); // inherited by Ward 5
    require(&fx, RequirementTarget::OrgUnit(unit("Surgery")), &hsw, true); // not Emma's
    require(&fx, RequirementTarget::Job("Staff Nurse".into()), &l1, true);
    require(
        &fx,
        RequirementTarget::Job("Staff Nurse".into()),
        &prevent,
        false,
    );
    // Also desirable by position: essential wins.
    require(&fx, position_of(&emma), &ig, false);

    record(&fx, &emma, &fire, d(2026, 1, 10), RecordExpiry::Refresher); // 10 Jan 2027: Amber
    record(&fx, &emma, &l3, d(2026, 6, 1), RecordExpiry::Never); // satisfies L1 through L2
    record(&fx, &emma, &sepsis, d(2026, 6, 1), RecordExpiry::Refresher); // not required: Blue

    let s = fx.hscn(emma.username());
    let me = fx.esr.my_compliance(s, None).unwrap();
    let a = &me.assignments[0];
    assert_eq!(row(a, &fire).status, Some(ComplianceStatus::Amber));
    assert_eq!(row(a, &fire).holding, Holding::Expires(d(2027, 1, 10)));
    assert_eq!(row(a, &ig).need, Need::Essential);
    assert_eq!(row(a, &ig).status, Some(ComplianceStatus::Red));
    assert!(a.rows.iter().all(|r| r.competence != hsw));
    let l1_row = row(a, &l1);
    assert_eq!(l1_row.status, Some(ComplianceStatus::Green));
    assert_eq!(l1_row.satisfied_by.as_ref(), Some(&l3));
    assert_eq!(row(a, &prevent).need, Need::Desirable);
    assert_eq!(row(a, &prevent).status, None);
    assert_eq!(row(a, &l3).status, Some(ComplianceStatus::Blue));
    let sepsis_row = row(a, &sepsis);
    assert_eq!(sepsis_row.status, Some(ComplianceStatus::Blue));
    assert_eq!(sepsis_row.holding, Holding::Expires(d(2028, 6, 1)));
    // Fire (Amber) and L1 (Green) of Fire, IG, L1 are compliant.
    assert_eq!(a.counts.essential, 3);
    assert!((a.percent().unwrap() - 200.0 / 3.0).abs() < 1e-9);
    // Required Competencies Only keeps fire, IG, L1 and Prevent.
    let required: Vec<_> = a.required_only().map(|r| r.competence.clone()).collect();
    assert_eq!(required.len(), 4);
    assert!(!required.contains(&sepsis) && !required.contains(&l3));

    // Removing the chain's middle link breaks it: L1 turns Red.
    fx.esr
        .remove_equivalence(
            &system(),
            Equivalence {
                vpd: v,
                held: l2.clone(),
                satisfies: l1.clone(),
            },
        )
        .unwrap();
    let me = fx.esr.my_compliance(s, None).unwrap();
    assert_eq!(
        row(&me.assignments[0], &l1).status,
        Some(ComplianceStatus::Red)
    );
}

#[test]
fn the_latest_expiry_counts() {
    let fx = Fixture::new();
    let emma = fx.staff("Emma", "Conroy", "Ward 5", None);
    let fire = subject("Fire Safety - 1 Year");
    require(&fx, position_of(&emma), &fire, true);
    record(
        &fx,
        &emma,
        &fire,
        d(2024, 1, 1),
        RecordExpiry::On(d(2027, 6, 1)),
    );
    record(
        &fx,
        &emma,
        &fire,
        d(2025, 1, 1),
        RecordExpiry::On(d(2026, 1, 1)),
    );
    assert_eq!(records_of(&fx, &emma).len(), 2);
    let me = fx
        .esr
        .my_compliance(fx.hscn(emma.username()), None)
        .unwrap();
    let r = row(&me.assignments[0], &fire);
    assert_eq!(r.holding, Holding::Expires(d(2027, 6, 1)));
    assert_eq!(r.status, Some(ComplianceStatus::Green));
}

#[test]
fn several_assignments_have_one_percentage_each_and_a_summary() {
    let fx = Fixture::new();
    let emma = fx.staff("Emma", "Conroy", "Ward 5", None);
    let bank = fx
        .esr
        .add_assignment(
            &system(),
            fx.vpd(),
            NewAssignment {
                number: format!("{}-2", emma.number()).parse().unwrap(),
                employee_number: emma.employee().clone(),
                title: "Bank Healthcare Assistant".into(),
                position: "297|Bank HCA|".parse().unwrap(),
                org_unit: unit("Theatres"),
                supervisor: None,
            },
        )
        .unwrap();
    let fire = subject("Fire Safety - 1 Year");
    let ig = subject("Information Governance - 1 Year");
    let mh = subject("Moving and Handling - Level 1 - 3 Years");
    require(&fx, position_of(&emma), &fire, true);
    require(&fx, position_of(&emma), &ig, true);
    let bank_pos = RequirementTarget::Position(bank.position.clone());
    require(&fx, bank_pos.clone(), &fire, true);
    require(&fx, bank_pos, &mh, true);
    record(&fx, &emma, &fire, d(2026, 6, 1), RecordExpiry::Refresher);
    record(&fx, &emma, &ig, d(2026, 6, 1), RecordExpiry::Refresher);

    let me = fx
        .esr
        .my_compliance(fx.hscn(emma.username()), None)
        .unwrap();
    assert_eq!(me.assignments.len(), 2);
    assert_eq!(me.assignments[0].percent(), Some(100.0));
    assert_eq!(me.assignments[1].percent(), Some(50.0));
    // The summary counts fire, IG and M&H once each: two of three.
    assert_eq!(me.summary.essential, 3);
    assert!((me.percent().unwrap() - 200.0 / 3.0).abs() < 1e-9);
}

#[test]
fn no_essential_requirement_gives_no_percentage() {
    let fx = Fixture::new();
    let emma = fx.staff("Emma", "Conroy", "Ward 5", None);
    let fire = subject("Fire Safety - 1 Year");
    require(&fx, position_of(&emma), &fire, false);
    record(&fx, &emma, &fire, d(2026, 6, 1), RecordExpiry::Refresher);
    let me = fx
        .esr
        .my_compliance(fx.hscn(emma.username()), None)
        .unwrap();
    assert_eq!(me.assignments[0].percent(), None);
    assert_eq!(me.percent(), None);
    assert_eq!(format_percent(me.percent()), "n/a");
}

/// A ward manager with Supervisor Self Service, two nurses reporting to them, and a nurse on
/// another ward.
fn ward(fx: &Fixture) -> (Staff, Staff, Staff, Staff) {
    let manager = fx.staff("Mary", "Manager", "Ward 5", None);
    fx.grant(
        manager.username(),
        Urp::SupervisorSelfService,
        GrantScope::WholeTrust,
    );
    let a = fx.staff("Ann", "Able", "Ward 5", Some(&manager));
    let b = fx.staff("Ben", "Baker", "Ward 5", Some(&manager));
    let c = fx.staff("Cat", "Cole", "Ward 6", None);
    (manager, a, b, c)
}

#[test]
fn team_compliance_shows_each_member_and_their_amber_and_red_rows() {
    let fx = Fixture::new();
    let (manager, ann, ben, cat) = ward(&fx);
    let fire = subject("Fire Safety - 1 Year");
    let ig = subject("Information Governance - 1 Year");
    for c in [&fire, &ig] {
        require(&fx, RequirementTarget::OrgUnit(unit("Medicine")), c, true);
    }
    record(&fx, &ann, &fire, d(2026, 6, 1), RecordExpiry::Refresher); // 1 Jun 2027 Green
    record(&fx, &ann, &ig, d(2025, 12, 20), RecordExpiry::Refresher); // 20 Dec 2026 Amber
    record(
        &fx,
        &ben,
        &fire,
        d(2025, 12, 31),
        RecordExpiry::On(d(2026, 12, 31)),
    );

    let s = fx.hscn(manager.username());
    let team = fx.esr.team_compliance(s, None).unwrap();
    let names: Vec<_> = team.members.iter().map(|m| m.name.family.clone()).collect();
    assert_eq!(names, ["Able", "Baker"]);
    let ann_c = &team.members[0].compliance;
    assert_eq!(ann_c.percent(), Some(100.0));
    let flagged: Vec<_> = ann_c
        .flagged()
        .map(|r| (r.competence.clone(), r.status))
        .collect();
    assert_eq!(flagged, [(ig.clone(), Some(ComplianceStatus::Amber))]);
    let ben_c = &team.members[1].compliance;
    assert_eq!(ben_c.percent(), Some(50.0));
    assert_eq!(ben_c.flagged().count(), 2);
    assert!(
        !team
            .members
            .iter()
            .any(|m| m.assignment.number == *cat.number())
    );

    // Who turns Amber or Red by the end of next month (31 Dec 2026)?
    let later = fx
        .esr
        .team_compliance(s, Some(end_of_next_month(fx.esr.uk_today())))
        .unwrap();
    assert_eq!(later.as_of, d(2026, 12, 31));
    let changes: Vec<StatusChange> = team
        .members
        .iter()
        .zip(&later.members)
        .flat_map(|(now, then)| worsening(&now.compliance, &then.compliance))
        .collect();
    // Ann's IG expires 20 Dec (Amber to Red); Ben's fire is Amber to the last day of December.
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].competence, ig);
    assert_eq!(
        (changes[0].from, changes[0].to),
        (ComplianceStatus::Amber, ComplianceStatus::Red)
    );

    // A member without the function is refused, and the list is audited.
    let s_ann = fx.hscn(ann.username());
    assert!(matches!(
        fx.esr.team_compliance(s_ann, None),
        Err(Error::NotPermitted {
            function: Function::TeamCompliance,
            ..
        })
    ));
    assert!(fx.audit(fx.vpd()).iter().any(|e| matches!(
        &e.event,
        AuditEvent::ReportProduced { report } if report.starts_with("Team Compliance (2 members)")
    )));
}

#[test]
fn seeing_someone_elses_compliance_needs_a_basis_and_is_audited() {
    let fx = Fixture::new();
    let (manager, ann, _ben, cat) = ward(&fx);
    let s = fx.hscn(manager.username());
    let before = fx.audit(fx.vpd()).len();
    let c = fx.esr.person_compliance(s, ann.employee(), None).unwrap();
    assert_eq!(&c.employee_number, ann.employee());
    let trail = fx.audit(fx.vpd());
    assert_eq!(trail.len(), before + 1);
    assert!(matches!(
        &trail[before].event,
        AuditEvent::RecordViewed { subject, basis } if subject == ann.employee() && basis.contains("compliance")
    ));
    assert!(matches!(
        fx.esr.person_compliance(s, cat.employee(), None),
        Err(Error::RecordNotVisible { .. })
    ));
    // Ann sees her own, without an audit entry; not Ben's.
    let s_ann = fx.hscn(ann.username());
    let n = fx.audit(fx.vpd()).len();
    fx.esr
        .person_compliance(s_ann, ann.employee(), None)
        .unwrap();
    assert_eq!(fx.audit(fx.vpd()).len(), n);
    assert!(
        fx.esr
            .person_compliance(s_ann, _ben.employee(), None)
            .is_err()
    );
    // An ordinary user cannot record competences.
    let fire = subject("Fire Safety - 1 Year");
    assert!(matches!(
        fx.esr.record_competence(
            &Actor::Session(s_ann),
            fx.vpd(),
            ann.employee(),
            NewCompetenceRecord {
                competence: fire,
                achieved: d(2026, 1, 1),
                expiry: RecordExpiry::Refresher,
                level: CompetenceLevel::default(),
            },
        ),
        Err(Error::NotPermitted {
            function: Function::AdministerLearning,
            ..
        })
    ));
}

#[test]
fn a_learning_administrator_records_competences_over_hscn() {
    let fx = Fixture::new();
    let admin = fx.staff("Lara", "Learning", "Trust HQ", None);
    fx.grant(
        admin.username(),
        Urp::LocalLearningAdministration,
        GrantScope::WholeTrust,
    );
    let emma = fx.staff("Emma", "Conroy", "Ward 5", None);
    let s = fx.hscn(admin.username());
    let fire = subject("Fire Safety - 1 Year");
    let r = fx
        .esr
        .record_competence(
            &Actor::Session(s),
            fx.vpd(),
            emma.employee(),
            NewCompetenceRecord {
                competence: fire.clone(),
                achieved: d(2025, 11, 30),
                expiry: RecordExpiry::Refresher,
                level: CompetenceLevel::assessed(),
            },
        )
        .unwrap();
    assert_eq!(r.expiry, Some(d(2026, 11, 30)));
    let last = fx.audit(fx.vpd()).pop().unwrap();
    assert_eq!(
        last.event,
        AuditEvent::CompetenceRecorded {
            subject: emma.employee().clone(),
            competence: fire.to_string(),
            achieved: "30-Nov-2025".into(),
            expiry: "30-Nov-2026".into(),
        }
    );
}

#[test]
fn refusals_change_nothing() {
    let fx = Fixture::builder().trust("297").trust("999").build();
    let v = fx.vpd();
    let emma = fx.staff("Emma", "Conroy", "Ward 5", None);
    let fire = subject("Fire Safety - 1 Year");
    let other = CompetenceName::new(CompetenceOwner::Local(vpd("999")), "LOCAL", "Theirs").unwrap();
    let unknown = CompetenceName::new(CompetenceOwner::Local(v), "LOCAL", "Never defined").unwrap();
    let before_records = records_of(&fx, &emma);
    let new = |c: &CompetenceName, achieved, expiry| NewCompetenceRecord {
        competence: c.clone(),
        achieved,
        expiry,
        level: CompetenceLevel::default(),
    };
    type Case<'a> = (Error, Box<dyn Fn() -> Result<()> + 'a>);
    let cases: Vec<Case> = vec![
        (
            Error::UnknownCompetence {
                vpd: v,
                competence: unknown.clone(),
            },
            Box::new(|| {
                fx.esr
                    .record_competence(
                        &system(),
                        v,
                        emma.employee(),
                        new(&unknown, d(2026, 1, 1), RecordExpiry::Never),
                    )
                    .map(|_| ())
            }),
        ),
        (
            Error::CrossTrust {
                what: format!("competence {other}"),
                expected: v,
                found: vpd("999"),
            },
            Box::new(|| {
                fx.esr.define_competence(
                    &system(),
                    v,
                    CompetenceDefinition::from_name(other.clone()),
                )
            }),
        ),
        (
            Error::UnknownPerson {
                vpd: v,
                employee: emp("99999999"),
            },
            Box::new(|| {
                fx.esr
                    .record_competence(
                        &system(),
                        v,
                        &emp("99999999"),
                        new(&fire, d(2026, 1, 1), RecordExpiry::Never),
                    )
                    .map(|_| ())
            }),
        ),
        (
            Error::UnknownOrgUnit {
                vpd: v,
                unit: unit("Nowhere"),
            },
            Box::new(|| {
                fx.esr.set_requirement(
                    &system(),
                    Requirement {
                        vpd: v,
                        target: RequirementTarget::OrgUnit(unit("Nowhere")),
                        competence: fire.clone(),
                        essential: true,
                        min_level: None,
                    },
                )
            }),
        ),
        (
            Error::UnknownRequirement {
                vpd: v,
                target: RequirementTarget::Job("Porter".into()),
                competence: fire.clone(),
            },
            Box::new(|| {
                fx.esr.remove_requirement(
                    &system(),
                    v,
                    &RequirementTarget::Job("Porter".into()),
                    &fire,
                )
            }),
        ),
    ];
    for (expected, f) in &cases {
        assert_refused(&fx, v, expected, f);
        assert_eq!(records_of(&fx, &emma), before_records);
    }
    // Dates the rules refuse.
    let n = fx.audit(v).len();
    let future = fx.esr.record_competence(
        &system(),
        v,
        emma.employee(),
        new(&fire, d(2026, 11, 23), RecordExpiry::Never),
    );
    assert!(matches!(
        future,
        Err(Error::InvalidInput {
            what: "achieved date",
            ..
        })
    ));
    let backwards = fx.esr.record_competence(
        &system(),
        v,
        emma.employee(),
        new(&fire, d(2026, 1, 2), RecordExpiry::On(d(2026, 1, 1))),
    );
    assert!(matches!(
        backwards,
        Err(Error::InvalidInput {
            what: "expiry date",
            ..
        })
    ));
    assert!(
        fx.esr
            .set_compliance_settings(
                &system(),
                v,
                ComplianceSettings {
                    target_percent: 101,
                    ..Default::default()
                }
            )
            .is_err()
    );
    assert_eq!(fx.audit(v).len(), n);
    // A trust's data never shows in another.
    record(&fx, &emma, &fire, d(2026, 1, 1), RecordExpiry::Never);
    require(&fx, position_of(&emma), &fire, true);
    assert!(fx.esr.requirements(vpd("999")).unwrap().is_empty());
    let report = fx
        .esr
        .compliance_report(&system(), vpd("999"), None)
        .unwrap();
    assert_eq!(report.trust.essential, 0);
}

#[test]
fn a_trust_extends_and_overrides_the_catalogue() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let fire = subject("Fire Safety - 1 Year");
    let prevent = subject("Preventing Radicalisation - Levels 1 & 2");
    let cat = fx.esr.competence_catalogue(v).unwrap();
    assert_eq!(cat.len(), CSTF_TITLES.len());
    fx.esr
        .define_competence(
            &system(),
            v,
            CompetenceDefinition {
                name: fire.clone(),
                refresher_months: Some(24),
                active: true,
            },
        )
        .unwrap();
    fx.esr
        .define_competence(
            &system(),
            v,
            CompetenceDefinition {
                name: prevent.clone(),
                refresher_months: None,
                active: false,
            },
        )
        .unwrap();
    let cat = fx.esr.competence_catalogue(v).unwrap();
    assert_eq!(
        cat.iter()
            .find(|c| c.name == fire)
            .unwrap()
            .refresher_months,
        Some(24)
    );
    assert!(!cat.iter().find(|c| c.name == prevent).unwrap().active);
    let emma = fx.staff("Emma", "Conroy", "Ward 5", None);
    let r = fx
        .esr
        .record_competence(
            &system(),
            v,
            emma.employee(),
            NewCompetenceRecord {
                competence: fire,
                achieved: d(2026, 2, 28),
                expiry: RecordExpiry::Refresher,
                level: CompetenceLevel::default(),
            },
        )
        .unwrap();
    assert_eq!(r.expiry, Some(d(2028, 2, 28)));
    assert_eq!(
        fx.esr.set_requirement(
            &system(),
            Requirement {
                vpd: v,
                target: position_of(&emma),
                competence: prevent.clone(),
                essential: true,
                min_level: None,
            },
        ),
        Err(Error::UnknownCompetence {
            vpd: v,
            competence: prevent
        })
    );
}

#[test]
fn roll_ups_by_unit_and_subject_against_the_target() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let (_manager, ann, ben, cat) = ward(&fx);
    let fire = subject("Fire Safety - 1 Year");
    let ig = subject("Information Governance - 1 Year");
    for c in [&fire, &ig] {
        require(&fx, RequirementTarget::OrgUnit(unit("Medicine")), c, true);
    }
    for s in [&ann, &ben, &cat] {
        record(&fx, s, &fire, d(2026, 6, 1), RecordExpiry::Refresher);
    }
    record(&fx, &ann, &ig, d(2026, 1, 1), RecordExpiry::Refresher); // Amber (1 Jan 2027)
    fx.esr
        .set_compliance_settings(
            &system(),
            v,
            ComplianceSettings {
                target_percent: 95,
                ..Default::default()
            },
        )
        .unwrap();
    let report = fx.esr.compliance_report(&system(), v, None).unwrap();
    assert_eq!(report.target, 95);
    let by_fire = report.by_competence.iter().find(|r| r.key == fire).unwrap();
    // The manager (Ward 5), Ann, Ben (Ward 5) and Cat (Ward 6) need fire; the manager lacks it.
    assert_eq!(by_fire.counts.essential, 4);
    assert_eq!(by_fire.counts.red, 1);
    assert_eq!(by_fire.percent(), Some(75.0));
    assert_eq!(by_fire.meets_target(), Some(false));
    let by_ig = report.by_competence.iter().find(|r| r.key == ig).unwrap();
    assert_eq!((by_ig.counts.amber, by_ig.counts.red), (1, 3));
    let ward6 = report
        .by_unit
        .iter()
        .find(|r| r.key == unit("Ward 6"))
        .unwrap();
    assert_eq!(ward6.assignments, 1);
    assert_eq!(ward6.percent(), Some(50.0));
    let medicine = report
        .by_unit
        .iter()
        .find(|r| r.key == unit("Medicine"))
        .unwrap();
    assert_eq!(medicine.assignments, 4);
    assert_eq!(medicine.counts.essential, 8);
    assert_eq!(medicine.counts.compliant(), 4);
    // Trust HQ includes every unit below it; its own three staff have no requirement.
    let hq = report
        .by_unit
        .iter()
        .find(|r| r.key == unit("Trust HQ"))
        .unwrap();
    assert_eq!(hq.counts.essential, 8);
    assert!(report.by_unit.iter().all(|r| r.key != unit("Surgery")));
    // The matrix has one line per assignment and a column per competence.
    let csv = fx.esr.compliance_matrix(&system(), v, None).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("Employee Number,Assignment,Organisation Unit,As Of,Essential,Green,Amber,Red,Compliance Percentage"));
    assert!(header.contains(fire.as_str()));
    let ann_line = csv
        .lines()
        .find(|l| l.starts_with(ann.employee().as_str()))
        .unwrap();
    assert!(ann_line.contains("22-Nov-2026"), "{ann_line}");
    assert!(ann_line.contains("100.0%"), "{ann_line}");
    assert!(ann_line.contains("Amber 01-Jan-2027"), "{ann_line}");
}

#[test]
fn importing_an_esr_competence_export() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let emma = fx.staff("Emma", "Conroy", "Ward 5", None);
    let ben = fx.staff("Ben", "Baker", "Ward 5", None);
    let e = emma.employee();
    let b = ben.employee();
    let good = format!(
        "Employee Number,Competency Name,Expiry Date,VPD\n\
         {e},NHS|CSTF|Fire Safety - 1 Year|,30-Nov-2028,297\n\
         {e},NHS|CSTF|Fire Safety - 1 Year|,30-NOV-2027,297\n\
         {b},NHS(CSTF)Information Governance - 1 Year,,297\n"
    );
    let bad = format!(
        "{good}\
         99999999,NHS|CSTF|Fire Safety - 1 Year|,30-Nov-2028,297\n\
         {e},297|LOCAL|Not defined|,30-Nov-2028,297\n\
         {e},NHS|CSTF|Fire Safety - 1 Year|,31-Nov-2028,297\n"
    );
    // Any bad row: nothing imported, every bad row reported by line.
    let n = fx.audit(v).len();
    match fx
        .esr
        .import_competences(&system(), v, bad.as_bytes(), ImportOptions::default())
    {
        Err(Error::ImportRejected { problems }) => {
            let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
            assert_eq!(lines, [5, 6, 7]);
            assert!(problems[0].reason.contains("no person"));
            assert!(problems[1].reason.contains("catalogue"));
            assert!(problems[2].reason.contains("Expiry Date"));
        }
        other => panic!("{other:?}"),
    }
    assert!(records_of(&fx, &emma).is_empty() && records_of(&fx, &ben).is_empty());
    assert_eq!(fx.audit(v).len(), n);
    // Skipping bad rows imports the good ones.
    let summary = fx
        .esr
        .import_competences(
            &system(),
            v,
            bad.as_bytes(),
            ImportOptions {
                skip_bad_rows: true,
            },
        )
        .unwrap();
    assert_eq!(summary.imported, 2);
    assert_eq!(summary.merged_duplicates, 1);
    assert_eq!(summary.skipped.len(), 3);
    let emma_records = records_of(&fx, &emma);
    assert_eq!(emma_records.len(), 1);
    assert_eq!(emma_records[0].expiry, Some(d(2028, 11, 30)));
    assert_eq!(emma_records[0].achieved, d(2026, 11, 22));
    assert_eq!(records_of(&fx, &ben)[0].expiry, None);
    assert!(matches!(
        fx.audit(v).pop().unwrap().event,
        AuditEvent::CompetencesImported {
            records: 2,
            skipped: 3
        }
    ));
    // Importing the same file again changes nothing but the audit trail.
    fx.esr
        .import_competences(&system(), v, good.as_bytes(), ImportOptions::default())
        .unwrap();
    assert_eq!(records_of(&fx, &emma).len(), 1);
    // A file without the needed columns is refused whatever the options.
    assert!(matches!(
        fx.esr.import_competences(
            &system(),
            v,
            &b"Name\nx\n"[..],
            ImportOptions {
                skip_bad_rows: true
            }
        ),
        Err(Error::ImportRejected { .. })
    ));
}

#[test]
fn the_store_undoes_compliance_writes_of_a_failed_transaction_and_keeps_trusts_apart() {
    let fx = Fixture::builder().trust("297").trust("999").build();
    let v = fx.vpd();
    let emma = fx.staff("Emma", "Conroy", "Ward 5", None);
    let fire = subject("Fire Safety - 1 Year");
    let local = CompetenceName::new(CompetenceOwner::Local(v), "LOCAL", "Sepsis").unwrap();
    let req = Requirement {
        vpd: v,
        target: RequirementTarget::Job("Staff Nurse".into()),
        competence: fire.clone(),
        essential: true,
        min_level: None,
    };
    let eq = Equivalence {
        vpd: v,
        held: local.clone(),
        satisfies: fire.clone(),
    };
    let rec = CompetenceRecord {
        vpd: v,
        employee_number: emma.employee().clone(),
        competence: fire.clone(),
        achieved: d(2026, 1, 1),
        expiry: None,
        level: CompetenceLevel::default(),
    };
    let settings = ComplianceSettings {
        target_percent: 80,
        ..Default::default()
    };
    let write_all = |tx: &mut dyn StoreTx| -> Result<()> {
        tx.put_competence_definition(v, &CompetenceDefinition::from_name(local.clone()))?;
        tx.put_requirement(&req)?;
        tx.put_equivalence(&eq)?;
        tx.put_competence_record(&rec)?;
        tx.put_compliance_settings(v, &settings)
    };
    let store = fx.esr.store();
    let failed: Result<()> = store.transaction(|tx| {
        write_all(tx)?;
        Err(Error::Storage("deliberate".into()))
    });
    assert!(failed.is_err());
    let empty = |vpd: VpdCode| {
        store
            .transaction(|tx| {
                Ok(tx.competence_definitions(vpd)?.is_empty()
                    && tx.requirements(vpd)?.is_empty()
                    && tx.equivalences(vpd)?.is_empty()
                    && tx.competence_records(vpd)?.is_empty()
                    && tx.compliance_settings(vpd)?.is_none())
            })
            .unwrap()
    };
    assert!(empty(v));
    store.transaction(write_all).unwrap();
    assert!(!empty(v));
    assert!(empty(vpd("999")));
    // Deletes report whether there was something, and are undone with their transaction.
    let failed: Result<()> = store.transaction(|tx| {
        assert!(tx.delete_requirement(v, &req.target, &fire)?);
        assert!(!tx.delete_requirement(v, &req.target, &fire)?);
        assert!(tx.delete_equivalence(&eq)?);
        assert!(tx.delete_competence_record(v, emma.employee(), &fire, d(2026, 1, 1))?);
        assert!(tx.delete_competence_definition(v, &local)?);
        Err(Error::Storage("deliberate".into()))
    });
    assert!(failed.is_err());
    store
        .transaction(|tx| {
            assert_eq!(tx.requirements(v)?, std::slice::from_ref(&req));
            assert_eq!(tx.equivalences(v)?, std::slice::from_ref(&eq));
            assert_eq!(
                tx.competence_records_of(v, emma.employee())?,
                std::slice::from_ref(&rec)
            );
            assert_eq!(tx.competence_definitions(v)?.len(), 1);
            assert_eq!(tx.compliance_settings(v)?, Some(settings));
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_record_below_the_minimum_level_is_red_and_says_why() {
    let fx = Fixture::new();
    let emma = fx.staff("Emma", "Conroy", "Ward 5", None);
    let fire = subject(CSTF_TITLES[1]);
    let adults = subject("Safeguarding Adults - Level 1 and Level 2 - 3 Years");
    for c in [&fire, &adults] {
        fx.esr
            .set_requirement(
                &system(),
                Requirement {
                    vpd: fx.vpd(),
                    target: position_of(&emma),
                    competence: c.clone(),
                    essential: true,
                    min_level: Some(CompetenceLevel::assessed()),
                },
            )
            .unwrap();
    }
    // Fire Safety only at 0 - Not Assessed (the default): Red, below the minimum level.
    record(
        &fx,
        &emma,
        &fire,
        d(2026, 1, 5),
        RecordExpiry::On(d(2028, 1, 5)),
    );
    // Safeguarding: an older Assessed record still valid counts over a later Not Assessed one.
    fx.esr
        .record_competence(
            &system(),
            fx.vpd(),
            emma.employee(),
            NewCompetenceRecord {
                competence: adults.clone(),
                achieved: d(2025, 1, 5),
                expiry: RecordExpiry::On(d(2027, 6, 1)),
                level: CompetenceLevel::assessed(),
            },
        )
        .unwrap();
    record(
        &fx,
        &emma,
        &adults,
        d(2026, 1, 5),
        RecordExpiry::On(d(2029, 1, 5)),
    );
    let s = fx.hscn(emma.username());
    let a = fx.esr.my_compliance(s, None).unwrap().assignments.remove(0);
    let f = row(&a, &fire);
    assert_eq!(f.status, Some(ComplianceStatus::Red));
    assert_eq!(f.reason, Some(RedReason::BelowMinimumLevel));
    assert_eq!(f.min_level, Some(CompetenceLevel::assessed()));
    assert_eq!(f.level, Some(CompetenceLevel::not_assessed()));
    let g = row(&a, &adults);
    assert_eq!(g.status, Some(ComplianceStatus::Green));
    assert_eq!(g.holding, Holding::Expires(d(2027, 6, 1)));
    assert_eq!(g.level, Some(CompetenceLevel::assessed()));
    assert_eq!(a.percent(), Some(50.0));
    // A requirement stored with its level reads back with it.
    let reqs = fx.esr.requirements(fx.vpd()).unwrap();
    assert!(
        reqs.iter()
            .all(|r| r.min_level == Some(CompetenceLevel::assessed()))
    );
}
