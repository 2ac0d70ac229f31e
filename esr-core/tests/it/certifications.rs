//! Certifications and enrolment through the service: subscribe, enrol, play, award, renew,
//! unsubscribe; learning without a subscription; UK dates; My e-Learning; permissions; refusals
//! that leave stored state unchanged.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use esr_core::{compliance::*, learning::*, urp::*, values::*, *};

const CR: &str = "297 Core Skills - NHS Conflict Resolution - 3 Years";
const PART1: &str = "297 NHS Conflict Resolution - Part 1";
const PART2: &str = "297 NHS Conflict Resolution - Part 2";
const EASSESS: &str = "297 NHS Conflict Resolution - eAssessment";
const CLASS: &str = "e-Learning";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn utc(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
}

fn conflict() -> CompetenceName {
    cstf("NHS Conflict Resolution (England) - 3 Years").unwrap()
}

fn component(course: &str, kind: ComponentKind) -> Component {
    Component {
        course: course.into(),
        kind,
        classes: vec![CLASS.into(), "Classroom, Seminar Room 2".into()],
    }
}

fn conflict_resolution(
    vpd: VpdCode,
    rule: CompletionRule,
    renewal: Option<Renewal>,
) -> Certification {
    Certification {
        vpd,
        name: CR.into(),
        competence: conflict(),
        level: CompetenceLevel::assessed(),
        validity_days: 1095,
        completion_window_days: 1095,
        renewal,
        mandatory: true,
        components: vec![
            component(PART1, ComponentKind::Course),
            component(PART2, ComponentKind::Course),
            component(EASSESS, ComponentKind::EAssessment),
        ],
        completion_rule: rule,
    }
}

fn keep_anniversary() -> Option<Renewal> {
    Some(Renewal {
        window_days: 90,
        base: ExpiryBase::PreviousExpiry,
    })
}

/// A trust with the Conflict Resolution certification and Emma, who needs every CSTF subject.
fn setup(rule: CompletionRule, renewal: Option<Renewal>) -> (Fixture, Staff) {
    let fx = Fixture::new();
    let emma = fx.staff("Emma", "Conroy", "Ward 5", None);
    for t in CSTF_TITLES {
        fx.esr
            .set_requirement(
                &system(),
                Requirement {
                    vpd: fx.vpd(),
                    target: RequirementTarget::Position(emma.assignment.position.clone()),
                    competence: cstf(t).unwrap(),
                    essential: true,
                    min_level: None,
                },
            )
            .unwrap();
    }
    fx.esr
        .define_certification(&system(), conflict_resolution(fx.vpd(), rule, renewal))
        .unwrap();
    (fx, emma)
}

fn all_components(fx: &Fixture, actor: &Actor, who: &Staff) -> PlayOutcome {
    let v = fx.vpd();
    for c in [PART1, PART2, EASSESS] {
        fx.esr
            .enrol(actor, v, who.employee(), CR, c, CLASS)
            .unwrap();
    }
    for c in [PART1, PART2] {
        let out = fx
            .esr
            .play(actor, v, who.employee(), CR, c, PlayResult::Completed)
            .unwrap();
        assert!(
            out.awarded.is_none(),
            "awarded before the eAssessment was passed"
        );
    }
    fx.esr
        .play(
            actor,
            v,
            who.employee(),
            CR,
            EASSESS,
            PlayResult::Passed(90),
        )
        .unwrap()
}

fn audit_kinds(fx: &Fixture) -> Vec<&'static str> {
    let head = fx.esr.verify_audit(fx.vpd()).unwrap();
    fx.esr
        .audit_trail(fx.vpd(), 1, head.seq as usize)
        .unwrap()
        .into_iter()
        .map(|e| e.event.kind())
        .collect()
}

fn audit_len(fx: &Fixture) -> u64 {
    fx.esr.verify_audit(fx.vpd()).unwrap().seq
}

#[test]
fn a_red_row_turns_green_in_one_flow() {
    let (fx, emma) = setup(CompletionRule::AllComponents, keep_anniversary());
    let v = fx.vpd();
    for t in CSTF_TITLES {
        let expiry = if t.starts_with("NHS Conflict") {
            d(2018, 7, 12)
        } else {
            d(2028, 1, 15)
        };
        fx.esr
            .record_competence(
                &system(),
                v,
                emma.employee(),
                NewCompetenceRecord {
                    competence: cstf(t).unwrap(),
                    achieved: d(2015, 7, 12),
                    expiry: RecordExpiry::On(expiry),
                    level: CompetenceLevel::default(),
                },
            )
            .unwrap();
    }
    let s = fx.hscn(emma.username());
    let me = Actor::Session(s);
    let before = fx.esr.my_compliance(s, None).unwrap();
    let row = |c: &PersonCompliance| {
        c.assignments[0]
            .rows
            .iter()
            .find(|r| r.competence == conflict())
            .unwrap()
            .status
    };
    assert_eq!(row(&before), Some(ComplianceStatus::Red));
    assert_eq!(before.assignments[0].percent(), Some(90.0));

    // Find Learning lists the certification that gives the competence.
    let found = fx.esr.certifications_for(v, &conflict()).unwrap();
    assert_eq!(found.len(), 1);
    let sub = fx.esr.subscribe(&me, v, emma.employee(), CR).unwrap();
    assert_eq!(sub.due, d(2029, 11, 21));
    for c in [PART1, PART2, EASSESS] {
        let e = fx.esr.enrol(&me, v, emma.employee(), CR, c, CLASS).unwrap();
        assert_eq!(
            (e.status, e.performance),
            (ComponentStatus::Planned, Performance::NotAttempted)
        );
    }
    // Part 1 is played in two sittings: progress is saved and resumed.
    let p = fx
        .esr
        .play(&me, v, emma.employee(), CR, PART1, PlayResult::Progress(40))
        .unwrap();
    assert_eq!(
        (p.enrolment.performance, p.enrolment.progress),
        (Performance::InProgress, 40)
    );
    let view = fx.esr.subscriptions(&me, v, emma.employee()).unwrap();
    assert_eq!(view[0].enrolments[0].progress, 40);
    fx.esr
        .play(&me, v, emma.employee(), CR, PART1, PlayResult::Completed)
        .unwrap();
    fx.esr
        .play(&me, v, emma.employee(), CR, PART2, PlayResult::Completed)
        .unwrap();
    // Completing the eAssessment is not passing it; a fail is retried.
    let e = fx
        .esr
        .play(&me, v, emma.employee(), CR, EASSESS, PlayResult::Completed)
        .unwrap_err();
    assert!(matches!(e, Error::LearningRefused { .. }), "{e}");
    let failed = fx
        .esr
        .play(&me, v, emma.employee(), CR, EASSESS, PlayResult::Failed(55))
        .unwrap();
    assert_eq!(failed.enrolment.performance, Performance::Failed);
    assert!(failed.awarded.is_none());
    let passed = fx
        .esr
        .play(&me, v, emma.employee(), CR, EASSESS, PlayResult::Passed(85))
        .unwrap();
    let record = passed.awarded.unwrap();
    assert_eq!(record.achieved, d(2026, 11, 22));
    assert_eq!(record.expiry, Some(d(2029, 11, 21)));
    assert_eq!(record.level, CompetenceLevel::assessed());

    let after = fx.esr.my_compliance(s, None).unwrap();
    assert_eq!(row(&after), Some(ComplianceStatus::Green));
    assert_eq!(after.assignments[0].percent(), Some(100.0));

    let view = fx.esr.subscriptions(&me, v, emma.employee()).unwrap();
    assert!(matches!(
        view[0].status,
        SubscriptionStatus::Certified { expiry, .. } if expiry == d(2029, 11, 21)
    ));
    assert!(view[0].enrolments.iter().all(Enrolment::is_done));
    let kinds = audit_kinds(&fx);
    for k in [
        "certification_defined",
        "subscribed",
        "enrolled",
        "learning_progress",
        "component_completed",
        "competence_recorded",
        "certification_awarded",
    ] {
        assert!(kinds.contains(&k), "no {k} in the audit trail");
    }
}

#[test]
fn learning_without_a_subscription_is_reported_not_dropped() {
    let (fx, emma) = setup(CompletionRule::AllComponents, None);
    let v = fx.vpd();
    let me = Actor::Session(fx.hscn(emma.username()));
    let out = fx
        .esr
        .record_learning(&me, v, emma.employee(), PART1, PlayResult::Completed)
        .unwrap();
    assert_eq!(
        out,
        LearningOutcome::NotRecorded(NotRecordedReason::NotSubscribed {
            certifications: vec![CR.into()]
        })
    );
    let out = fx
        .esr
        .record_learning(
            &me,
            v,
            emma.employee(),
            "Unknown course",
            PlayResult::Completed,
        )
        .unwrap();
    assert_eq!(
        out,
        LearningOutcome::NotRecorded(NotRecordedReason::NoCertification)
    );
    // Subscribed but not enrolled in the course: refused, with the reason.
    fx.esr.subscribe(&me, v, emma.employee(), CR).unwrap();
    let LearningOutcome::NotRecorded(NotRecordedReason::Refused { certification, why }) = fx
        .esr
        .record_learning(&me, v, emma.employee(), PART1, PlayResult::Completed)
        .unwrap()
    else {
        panic!("recorded without an enrolment");
    };
    assert_eq!(certification, CR);
    assert!(why.contains("not enrolled"), "{why}");
    let kinds = audit_kinds(&fx);
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "learning_not_recorded")
            .count(),
        3
    );
    assert!(
        fx.esr
            .competence_records(&system(), v, emma.employee())
            .unwrap()
            .is_empty()
    );
    // Enrolled: the feed's completion is recorded against the certification.
    fx.esr
        .enrol(&me, v, emma.employee(), CR, PART1, CLASS)
        .unwrap();
    let out = fx
        .esr
        .record_learning(&system(), v, emma.employee(), PART1, PlayResult::Completed)
        .unwrap();
    assert!(
        matches!(out, LearningOutcome::Recorded { ref certification, .. } if certification == CR)
    );
}

#[test]
fn refused_transitions_say_why_and_change_nothing() {
    let (fx, emma) = setup(CompletionRule::AllComponents, None);
    let v = fx.vpd();
    let me = Actor::Session(fx.hscn(emma.username()));
    let e = emma.employee();
    let before = audit_len(&fx);
    let refused = |r: Result<Enrolment>| match r {
        Err(Error::LearningRefused { state, hint, .. }) => format!("{state}; {hint}"),
        other => panic!("not refused: {other:?}"),
    };
    let msg = refused(fx.esr.enrol(&me, v, e, CR, PART1, CLASS));
    assert!(msg.contains("not subscribed"), "{msg}");
    assert!(fx.esr.unsubscribe(&me, v, e, CR).is_err());
    assert!(matches!(
        fx.esr.subscribe(&me, v, e, "No such certification"),
        Err(Error::UnknownCertification { .. })
    ));
    assert_eq!(audit_len(&fx), before);

    fx.esr.subscribe(&me, v, e, CR).unwrap();
    let n = audit_len(&fx);
    assert!(matches!(
        fx.esr.subscribe(&me, v, e, CR),
        Err(Error::LearningRefused { .. })
    ));
    assert!(matches!(
        fx.esr.enrol(&me, v, e, CR, "Part 3", CLASS),
        Err(Error::UnknownComponent { .. })
    ));
    assert!(matches!(
        fx.esr.enrol(&me, v, e, CR, PART1, "Evening class"),
        Err(Error::InvalidInput { .. })
    ));
    let err = fx
        .esr
        .play(&me, v, e, CR, PART1, PlayResult::Completed)
        .unwrap_err();
    assert!(err.to_string().contains("enrol in a class first"), "{err}");
    assert_eq!(audit_len(&fx), n);

    fx.esr.enrol(&me, v, e, CR, PART1, CLASS).unwrap();
    let again = refused(fx.esr.enrol(&me, v, e, CR, PART1, CLASS));
    assert!(again.contains("enrolled in"), "{again}");
    assert!(
        fx.esr
            .play(&me, v, e, CR, PART1, PlayResult::Progress(100))
            .is_err()
    );
    fx.esr
        .play(&me, v, e, CR, PART1, PlayResult::Completed)
        .unwrap();
    let n = audit_len(&fx);
    let done = fx
        .esr
        .play(&me, v, e, CR, PART1, PlayResult::Completed)
        .unwrap_err();
    assert!(done.to_string().contains("done already"), "{done}");
    assert_eq!(audit_len(&fx), n);
    let view = fx.esr.subscriptions(&me, v, e).unwrap();
    assert_eq!(view[0].enrolments.len(), 1);
    assert_eq!(view[0].enrolments[0].performance, Performance::Completed);
}

#[test]
fn a_cancelled_subscription_awards_nothing_and_subscribing_again_starts_afresh() {
    let (fx, emma) = setup(CompletionRule::AllComponents, None);
    let v = fx.vpd();
    let me = Actor::Session(fx.hscn(emma.username()));
    let e = emma.employee();
    fx.esr.subscribe(&me, v, e, CR).unwrap();
    for c in [PART1, PART2, EASSESS] {
        fx.esr.enrol(&me, v, e, CR, c, CLASS).unwrap();
    }
    fx.esr
        .play(&me, v, e, CR, PART1, PlayResult::Completed)
        .unwrap();
    fx.esr
        .play(&me, v, e, CR, PART2, PlayResult::Completed)
        .unwrap();
    let sub = fx.esr.unsubscribe(&me, v, e, CR).unwrap();
    assert_eq!(sub.state, SubscriptionState::Cancelled(d(2026, 11, 22)));
    let err = fx
        .esr
        .play(&me, v, e, CR, EASSESS, PlayResult::Passed(100))
        .unwrap_err();
    assert!(err.to_string().contains("cancelled"), "{err}");
    let out = fx
        .esr
        .record_learning(&system(), v, e, EASSESS, PlayResult::Passed(100))
        .unwrap();
    assert!(matches!(out, LearningOutcome::NotRecorded(_)));
    assert!(
        fx.esr
            .competence_records(&system(), v, e)
            .unwrap()
            .is_empty()
    );
    assert!(audit_kinds(&fx).contains(&"unsubscribed"));
    // My e-Learning no longer shows the cancelled enrolments.
    let s = fx.hscn(emma.username());
    assert!(fx.esr.my_elearning(s, false).unwrap().is_empty());

    // Subscribing again is a new certification path: the earlier components do not count.
    let again = fx.esr.subscribe(&me, v, e, CR).unwrap();
    assert_eq!(again.cycle, 2);
    fx.esr.enrol(&me, v, e, CR, EASSESS, CLASS).unwrap();
    // My e-Learning shows the new enrolment and what was finished before, not the stale
    // eAssessment of the cancelled cycle.
    let shown: Vec<(String, u32)> = fx
        .esr
        .my_elearning(s, false)
        .unwrap()
        .into_iter()
        .map(|x| (x.course, x.cycle))
        .collect();
    assert_eq!(
        shown,
        vec![(EASSESS.into(), 2), (PART2.into(), 1), (PART1.into(), 1)]
    );
    let out = fx
        .esr
        .play(&me, v, e, CR, EASSESS, PlayResult::Passed(100))
        .unwrap();
    assert!(out.awarded.is_none());
    let out = all_components_after_assessment(&fx, &me, &emma);
    assert!(out.awarded.is_some());
}

fn all_components_after_assessment(fx: &Fixture, me: &Actor, who: &Staff) -> PlayOutcome {
    let v = fx.vpd();
    for c in [PART1, PART2] {
        fx.esr.enrol(me, v, who.employee(), CR, c, CLASS).unwrap();
    }
    fx.esr
        .play(me, v, who.employee(), CR, PART1, PlayResult::Completed)
        .unwrap();
    fx.esr
        .play(me, v, who.employee(), CR, PART2, PlayResult::Completed)
        .unwrap()
}

#[test]
fn a_passed_eassessment_completes_its_course_where_configured() {
    let (fx, emma) = setup(CompletionRule::PassedAssessmentCompletesCourse, None);
    let v = fx.vpd();
    let me = Actor::Session(fx.hscn(emma.username()));
    let e = emma.employee();
    fx.esr.subscribe(&me, v, e, CR).unwrap();
    fx.esr.enrol(&me, v, e, CR, PART1, CLASS).unwrap();
    fx.esr.enrol(&me, v, e, CR, EASSESS, CLASS).unwrap();
    let out = fx
        .esr
        .play(&me, v, e, CR, EASSESS, PlayResult::Passed(80))
        .unwrap();
    assert!(out.awarded.is_some());
    let view = fx.esr.subscriptions(&me, v, e).unwrap();
    let part1 = view[0]
        .enrolments
        .iter()
        .find(|x| x.course == PART1)
        .unwrap();
    assert!(part1.is_done(), "the passed eAssessment completes Part 1");
    assert_eq!(part1.performance, Performance::NotAttempted);
}

#[test]
fn renewal_opens_in_the_window_and_keeps_the_anniversary() {
    let (fx, emma) = setup(CompletionRule::AllComponents, keep_anniversary());
    let v = fx.vpd();
    let e = emma.employee();
    let feed = system();
    fx.esr.subscribe(&feed, v, e, CR).unwrap();
    let first = all_components(&fx, &feed, &emma).awarded.unwrap();
    let expiry = first.expiry.unwrap();
    assert_eq!(expiry, d(2029, 11, 21));

    // Before the window opens (90 days before expiry) nothing can be started again.
    fx.clock.set(utc(2029, 8, 22, 12, 0));
    let view = fx.esr.subscriptions(&feed, v, e).unwrap();
    assert_eq!(
        view[0].status,
        SubscriptionStatus::Certified {
            expiry,
            window_opens: Some(d(2029, 8, 23))
        }
    );
    let err = fx.esr.enrol(&feed, v, e, CR, PART1, CLASS).unwrap_err();
    assert!(
        err.to_string()
            .contains("renewal window opens on 23-Aug-2029"),
        "{err}"
    );

    // The window is open: computed on read, no job ran.
    fx.clock.set(utc(2029, 9, 1, 12, 0));
    let view = fx.esr.subscriptions(&feed, v, e).unwrap();
    assert!(matches!(
        view[0].status,
        SubscriptionStatus::RenewalWindowOpen {
            renewing: false,
            ..
        }
    ));
    let second = all_components(&fx, &feed, &emma);
    let sub = &fx.esr.subscriptions(&feed, v, e).unwrap()[0];
    assert_eq!(sub.subscription.cycle, 2);
    assert_eq!(sub.subscription.path, CertificationPath::Recertification);
    let renewed = second.awarded.unwrap();
    assert_eq!(renewed.achieved, d(2029, 9, 1));
    // Counted from the previous expiry: the anniversary is kept.
    assert_eq!(renewed.expiry, Some(d(2032, 11, 20)));

    // Left to expire, it is taken again on the certification path, from the completion date.
    fx.clock.set(utc(2033, 1, 10, 12, 0));
    let view = fx.esr.subscriptions(&feed, v, e).unwrap();
    assert!(matches!(
        view[0].status,
        SubscriptionStatus::Expired { expiry, renewing: false } if expiry == d(2032, 11, 20)
    ));
    let third = all_components(&fx, &feed, &emma).awarded.unwrap();
    assert_eq!(third.expiry, Some(d(2036, 1, 10)));
    let sub = &fx.esr.subscriptions(&feed, v, e).unwrap()[0];
    assert_eq!(sub.subscription.path, CertificationPath::Certification);
}

#[test]
fn an_expired_certification_that_is_not_renewable_is_not_taken_again() {
    let (fx, emma) = setup(CompletionRule::AllComponents, None);
    let v = fx.vpd();
    let e = emma.employee();
    fx.esr.subscribe(&system(), v, e, CR).unwrap();
    all_components(&fx, &system(), &emma);
    fx.clock.set(utc(2029, 11, 22, 12, 0));
    let err = fx.esr.enrol(&system(), v, e, CR, PART1, CLASS).unwrap_err();
    assert!(err.to_string().contains("not renewable"), "{err}");
    fx.esr.unsubscribe(&system(), v, e, CR).unwrap();
    fx.esr.subscribe(&system(), v, e, CR).unwrap();
    assert!(all_components(&fx, &system(), &emma).awarded.is_some());
}

#[test]
fn completion_dates_are_uk_local_dates() {
    // 23:30 UTC on Saturday 24 October 2026 is 00:30 BST on Sunday 25 October, the last day of
    // British Summer Time; 23:30 BST on the Saturday is 22:30 UTC.
    for (at, day) in [
        (utc(2026, 10, 24, 23, 30), d(2026, 10, 25)),
        (utc(2026, 10, 24, 22, 30), d(2026, 10, 24)),
        (utc(2026, 10, 25, 23, 30), d(2026, 10, 25)),
    ] {
        let (fx, emma) = setup(CompletionRule::AllComponents, None);
        fx.clock.set(at - TimeDelta::hours(1));
        fx.esr
            .subscribe(&system(), fx.vpd(), emma.employee(), CR)
            .unwrap();
        for c in [PART1, PART2, EASSESS] {
            fx.esr
                .enrol(&system(), fx.vpd(), emma.employee(), CR, c, CLASS)
                .unwrap();
        }
        for c in [PART1, PART2] {
            fx.esr
                .play(
                    &system(),
                    fx.vpd(),
                    emma.employee(),
                    CR,
                    c,
                    PlayResult::Completed,
                )
                .unwrap();
        }
        fx.clock.set(at);
        let r = fx
            .esr
            .play(
                &system(),
                fx.vpd(),
                emma.employee(),
                CR,
                EASSESS,
                PlayResult::Passed(75),
            )
            .unwrap()
            .awarded
            .unwrap();
        assert_eq!(r.achieved, day, "completed at {at}");
        assert_eq!(
            r.expiry,
            day.checked_add_days(esr_core::chrono::Days::new(1095))
        );
    }
}

#[test]
fn ten_ninety_five_days_across_a_leap_day_is_ten_ninety_five_days() {
    let (fx, emma) = setup(CompletionRule::AllComponents, None);
    fx.clock.set(utc(2027, 6, 1, 10, 0));
    fx.esr
        .subscribe(&system(), fx.vpd(), emma.employee(), CR)
        .unwrap();
    let r = all_components(&fx, &system(), &emma).awarded.unwrap();
    assert_eq!(r.achieved, d(2027, 6, 1));
    // Across 29 February 2028: one day short of three calendar years.
    assert_eq!(r.expiry, Some(d(2030, 5, 31)));
    assert_eq!((r.expiry.unwrap() - r.achieved).num_days(), 1095);
}

#[test]
fn my_elearning_shows_twenty_most_recent_first_and_filters_mandatory() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let emma = fx.staff("Emma", "Conroy", "Ward 5", None);
    let me = Actor::Session(fx.hscn(emma.username()));
    for (i, t) in CSTF_TITLES.iter().enumerate() {
        let name = format!("297 Core Skills - {t}");
        let course = |part: &str| format!("297 {t} - {part}");
        fx.esr
            .define_certification(
                &system(),
                Certification {
                    vpd: v,
                    name: name.clone(),
                    competence: cstf(t).unwrap(),
                    level: CompetenceLevel::assessed(),
                    validity_days: 365,
                    completion_window_days: 30,
                    renewal: None,
                    mandatory: i % 2 == 0,
                    components: vec![
                        component(&course("Part 1"), ComponentKind::Course),
                        component(&course("eAssessment"), ComponentKind::EAssessment),
                        component(&course("Part 2"), ComponentKind::Course),
                    ],
                    completion_rule: CompletionRule::AllComponents,
                },
            )
            .unwrap();
        fx.esr.subscribe(&me, v, emma.employee(), &name).unwrap();
        for part in ["Part 1", "eAssessment", "Part 2"] {
            fx.clock.advance(TimeDelta::minutes(1));
            fx.esr
                .enrol(&me, v, emma.employee(), &name, &course(part), CLASS)
                .unwrap();
        }
    }
    let s = fx.hscn(emma.username());
    let all = fx.esr.my_elearning(s, false).unwrap();
    assert_eq!(all.len(), MY_ELEARNING_LIMIT);
    assert!(all.windows(2).all(|w| w[0].enrolled_at > w[1].enrolled_at));
    assert!(
        all[0]
            .course
            .ends_with("Safeguarding Children - Level 1 - 3 Years - Part 2")
    );
    let mandatory = fx.esr.my_elearning(s, true).unwrap();
    assert_eq!(mandatory.len(), 15);
    assert!(mandatory.iter().all(|e| e.mandatory));
    assert!(
        mandatory
            .windows(2)
            .all(|w| w[0].enrolled_at > w[1].enrolled_at)
    );
}

#[test]
fn who_may_define_and_act_on_learning() {
    let (fx, emma) = setup(CompletionRule::AllComponents, None);
    let v = fx.vpd();
    let colleague = fx.staff("Ravi", "Patel", "Ward 5", None);
    let emma_s = Actor::Session(fx.hscn(emma.username()));
    // A learner does not define certifications.
    let err = fx
        .esr
        .define_certification(
            &emma_s,
            conflict_resolution(v, CompletionRule::AllComponents, None),
        )
        .unwrap_err();
    assert!(matches!(
        err,
        Error::NotPermitted {
            function: Function::AdministerLearning,
            ..
        }
    ));
    // Nor acts on someone else's learning.
    let err = fx
        .esr
        .subscribe(&emma_s, v, colleague.employee(), CR)
        .unwrap_err();
    assert!(matches!(
        err,
        Error::NotPermitted {
            function: Function::AdministerLearning,
            ..
        }
    ));
    // Local Learning Administration enrols staff.
    let admin = fx.staff("Lena", "Okafor", "Trust HQ", None);
    fx.grant(
        admin.username(),
        Urp::LocalLearningAdministration,
        GrantScope::WholeTrust,
    );
    let admin_s = Actor::Session(fx.hscn(admin.username()));
    fx.esr
        .subscribe(&admin_s, v, colleague.employee(), CR)
        .unwrap();
    fx.esr
        .enrol(&admin_s, v, colleague.employee(), CR, PART1, CLASS)
        .unwrap();
    // Reading someone else's learning is audited.
    let n = audit_len(&fx);
    let view = fx
        .esr
        .subscriptions(&admin_s, v, colleague.employee())
        .unwrap();
    assert_eq!(view[0].enrolments.len(), 1);
    assert_eq!(audit_len(&fx), n + 1);
    assert_eq!(audit_kinds(&fx).last(), Some(&"record_viewed"));
    assert!(matches!(
        fx.esr.subscriptions(&emma_s, v, colleague.employee()),
        Err(Error::NotPermitted { .. })
    ));
    // Another trust's session is refused.
    let other = Fixture::builder().trust("297").trust("999").build();
    let stranger = other.staff_at(vpd("999"), "Sam", "Jones", "Ward 5", None);
    let stranger_s = Actor::Session(other.hscn(stranger.username()));
    let mine = other.staff_at(vpd("297"), "Emma", "Conroy", "Ward 5", None);
    other
        .esr
        .define_certification(
            &system(),
            conflict_resolution(vpd("297"), CompletionRule::AllComponents, None),
        )
        .unwrap();
    assert!(matches!(
        other
            .esr
            .subscribe(&stranger_s, vpd("297"), mine.employee(), CR),
        Err(Error::CrossTrust { .. })
    ));
    // A definition must be sound and its competence in the catalogue.
    let mut bad = conflict_resolution(v, CompletionRule::AllComponents, None);
    bad.competence = CompetenceName::new(CompetenceOwner::Local(v), "LOCAL", "Nothing").unwrap();
    assert!(matches!(
        fx.esr.define_certification(&system(), bad),
        Err(Error::UnknownCompetence { .. })
    ));
    let mut bad = conflict_resolution(v, CompletionRule::AllComponents, None);
    bad.validity_days = 0;
    assert!(fx.esr.define_certification(&system(), bad).is_err());
}

#[cfg(feature = "serde")]
#[test]
fn learning_records_round_trip_through_json() {
    let (fx, emma) = setup(CompletionRule::AllComponents, keep_anniversary());
    let v = fx.vpd();
    fx.esr.subscribe(&system(), v, emma.employee(), CR).unwrap();
    all_components(&fx, &system(), &emma);
    let view = fx.esr.subscriptions(&system(), v, emma.employee()).unwrap();
    let json = serde_json::to_string(&view).unwrap();
    let back: Vec<SubscriptionView> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, view);
    let cert = &fx.esr.certifications(v).unwrap()[0];
    let back: Certification = serde_json::from_str(&serde_json::to_string(cert).unwrap()).unwrap();
    assert_eq!(&back, cert);
}
