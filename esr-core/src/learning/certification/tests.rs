#![allow(clippy::unwrap_used)]
use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn cert(rule: CompletionRule, renewal: Option<Renewal>) -> Certification {
    let comp = |course: &str, kind| Component {
        course: course.into(),
        kind,
        classes: vec!["e-Learning".into()],
    };
    Certification {
        vpd: "297".parse().unwrap(),
        name: "297 Core Skills - NHS Conflict Resolution - 3 Years".into(),
        competence: crate::compliance::cstf("NHS Conflict Resolution (England) - 3 Years").unwrap(),
        level: CompetenceLevel::assessed(),
        validity_days: 1095,
        completion_window_days: 1095,
        renewal,
        mandatory: true,
        components: vec![
            comp("Part 1", ComponentKind::Course),
            comp("Part 2", ComponentKind::Course),
            comp("eAssessment", ComponentKind::EAssessment),
        ],
        completion_rule: rule,
    }
}

fn enrolment(course: &str, kind: ComponentKind) -> Enrolment {
    Enrolment {
        vpd: "297".parse().unwrap(),
        employee_number: "29700001".parse().unwrap(),
        certification: "c".into(),
        cycle: 1,
        course: course.into(),
        kind,
        class: "e-Learning".into(),
        mandatory: true,
        enrolled_at: DateTime::<Utc>::MIN_UTC,
        status: ComponentStatus::Planned,
        performance: Performance::NotAttempted,
        progress: 0,
        attempts: 0,
        score: None,
    }
}

#[test]
fn definition_checks() {
    let mut c = cert(CompletionRule::AllComponents, None);
    assert!(c.check().is_ok());
    c.components[1].course = "Part 1".into();
    assert!(c.check().is_err());
    let mut c = cert(
        CompletionRule::AllComponents,
        Some(Renewal {
            window_days: 2000,
            base: ExpiryBase::CompletionDate,
        }),
    );
    assert!(c.check().is_err());
    c.renewal = None;
    c.components.retain(|x| x.kind == ComponentKind::Course);
    c.completion_rule = CompletionRule::PassedAssessmentCompletesCourse;
    assert!(c.check().is_err());
    c.completion_rule = CompletionRule::AllComponents;
    c.components[0].classes.clear();
    assert!(c.check().is_err());
}

#[test]
fn performance_transitions() {
    let today = d(2026, 11, 23);
    let mut a = enrolment("eAssessment", ComponentKind::EAssessment);
    a.apply(PlayResult::Progress(40), today).unwrap();
    assert_eq!((a.performance, a.progress), (Performance::InProgress, 40));
    a.apply(PlayResult::Progress(20), today).unwrap();
    assert_eq!(a.progress, 40, "progress is resumable, never lost");
    assert!(a.apply(PlayResult::Completed, today).is_err());
    a.apply(PlayResult::Failed(60), today).unwrap();
    assert_eq!(a.performance, Performance::Failed);
    assert!(!a.is_done());
    a.apply(PlayResult::Passed(85), today).unwrap();
    assert_eq!(
        (a.performance, a.status, a.attempts),
        (Performance::Passed, ComponentStatus::Completed(today), 2)
    );
    assert!(a.apply(PlayResult::Failed(10), today).is_err());
    let mut c = enrolment("Part 1", ComponentKind::Course);
    assert!(c.apply(PlayResult::Passed(90), today).is_err());
    assert!(c.apply(PlayResult::Progress(100), today).is_err());
    c.apply(PlayResult::Completed, today).unwrap();
    assert!(c.is_done());
    assert!(c.apply(PlayResult::Progress(5), today).is_err());
}

#[test]
fn completion_rules() {
    let today = d(2026, 11, 23);
    let mut p1 = enrolment("Part 1", ComponentKind::Course);
    let mut p2 = enrolment("Part 2", ComponentKind::Course);
    let mut ea = enrolment("eAssessment", ComponentKind::EAssessment);
    let all = cert(CompletionRule::AllComponents, None);
    let quick = cert(CompletionRule::PassedAssessmentCompletesCourse, None);
    ea.apply(PlayResult::Passed(80), today).unwrap();
    assert!(!completion_met(&all, &[ea.clone()]));
    assert!(completion_met(&quick, &[ea.clone()]));
    p1.apply(PlayResult::Completed, today).unwrap();
    assert!(!completion_met(&all, &[p1.clone(), ea.clone()]));
    p2.apply(PlayResult::Completed, today).unwrap();
    assert!(completion_met(&all, &[p1, p2, ea]));
}

#[test]
fn expiry_base_rules_and_leap_years() {
    let keep = cert(
        CompletionRule::AllComponents,
        Some(Renewal {
            window_days: 90,
            base: ExpiryBase::PreviousExpiry,
        }),
    );
    // 1095 days across 29 February 2028 is 1095 days, not three calendar years.
    let e = award_expiry(&keep, None, d(2027, 6, 1)).unwrap();
    assert_eq!(e, d(2030, 5, 31));
    assert_eq!((e - d(2027, 6, 1)).num_days(), 1095);
    let prev = CertifiedPeriod {
        completed: d(2027, 6, 1),
        expiry: e,
    };
    // Renewed inside the window: the anniversary is kept.
    assert_eq!(
        award_expiry(&keep, Some(prev), d(2030, 4, 1)).unwrap(),
        d(2033, 5, 30)
    );
    // Renewed after expiry: from the completion date.
    assert_eq!(
        award_expiry(&keep, Some(prev), d(2030, 7, 1)).unwrap(),
        d(2033, 6, 30)
    );
    let from_completion = Certification {
        renewal: Some(Renewal {
            window_days: 90,
            base: ExpiryBase::CompletionDate,
        }),
        ..keep
    };
    assert_eq!(
        award_expiry(&from_completion, Some(prev), d(2030, 4, 1)).unwrap(),
        d(2033, 3, 31)
    );
}

#[test]
fn status_is_computed_on_read_and_guards_transitions() {
    let c = cert(
        CompletionRule::AllComponents,
        Some(Renewal {
            window_days: 90,
            base: ExpiryBase::PreviousExpiry,
        }),
    );
    let mut sub = Subscription {
        vpd: c.vpd,
        employee_number: "29700001".parse().unwrap(),
        certification: c.name.clone(),
        subscribed_on: d(2026, 1, 1),
        cycle: 1,
        path: CertificationPath::Certification,
        due: d(2028, 12, 31),
        state: SubscriptionState::InProgress,
        certified: None,
        changed_at: DateTime::<Utc>::MIN_UTC,
    };
    let at = |s: &Subscription, day| subscription_status(s, &c, day);
    assert!(matches!(
        at(&sub, d(2026, 2, 1)),
        SubscriptionStatus::Subscribed { overdue: false, .. }
    ));
    assert!(matches!(
        at(&sub, d(2029, 1, 1)),
        SubscriptionStatus::Subscribed { overdue: true, .. }
    ));
    sub.state = SubscriptionState::Certified;
    sub.certified = Some(CertifiedPeriod {
        completed: d(2026, 2, 1),
        expiry: d(2029, 1, 31),
    });
    let certified = at(&sub, d(2028, 11, 1));
    assert!(matches!(certified, SubscriptionStatus::Certified { .. }));
    assert!(check_enrol(&c, Some(certified)).is_err());
    let open = at(&sub, d(2028, 11, 2));
    assert!(matches!(
        open,
        SubscriptionStatus::RenewalWindowOpen {
            renewing: false,
            ..
        }
    ));
    assert_eq!(
        check_enrol(&c, Some(open)).unwrap(),
        Allowed::NewCycle(CertificationPath::Recertification)
    );
    assert!(check_action(LearningAction::Play, &c.name, Some(open)).is_err());
    let expired = at(&sub, d(2029, 2, 1));
    assert!(matches!(expired, SubscriptionStatus::Expired { .. }));
    assert_eq!(
        check_enrol(&c, Some(expired)).unwrap(),
        Allowed::NewCycle(CertificationPath::Certification)
    );
    let once = Certification {
        renewal: None,
        ..c.clone()
    };
    assert!(check_enrol(&once, Some(expired)).is_err());
    sub.state = SubscriptionState::Cancelled(d(2029, 2, 2));
    let cancelled = at(&sub, d(2029, 3, 1));
    for a in [
        LearningAction::Unsubscribe,
        LearningAction::Enrol,
        LearningAction::Play,
    ] {
        let e = check_action(a, &c.name, Some(cancelled)).unwrap_err();
        assert!(e.to_string().contains("cancelled"), "{e}");
    }
    assert!(check_action(LearningAction::Subscribe, &c.name, Some(cancelled)).is_ok());
    assert!(check_action(LearningAction::Subscribe, &c.name, Some(expired)).is_err());
    assert!(check_action(LearningAction::Enrol, &c.name, None).is_err());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn an_expiry_never_precedes_its_completion(
            validity in 1u32..=MAX_LEARNING_DAYS,
            window in 1u32..=MAX_LEARNING_DAYS,
            keep in any::<bool>(),
            renewable in any::<bool>(),
            completed in 0i64..40_000,
            previous in proptest::option::of((0i64..40_000, 0u32..=MAX_LEARNING_DAYS)),
        ) {
            let epoch = d(1990, 1, 1);
            let day = |n: i64| epoch + chrono::TimeDelta::days(n);
            let mut c = cert(CompletionRule::AllComponents, None);
            c.validity_days = validity;
            c.renewal = renewable.then_some(Renewal {
                window_days: window.min(validity),
                base: if keep { ExpiryBase::PreviousExpiry } else { ExpiryBase::CompletionDate },
            });
            let previous = previous.map(|(at, len)| CertifiedPeriod {
                completed: day(at),
                expiry: plus_days(day(at), len).unwrap(),
            });
            let completed = day(completed);
            let expiry = award_expiry(&c, previous, completed).unwrap();
            prop_assert!(expiry > completed);
            // Never longer than the validity plus what was left of the previous award.
            let left = previous.map_or(0, |p| (p.expiry - completed).num_days().max(0));
            prop_assert!((expiry - completed).num_days() <= i64::from(validity) + left);
        }
    }
}
