//! The flows an iOS app walks, through esr-ffi's Rust surface (the same calls the generated
//! Swift makes): set-up, smartcard and password log-in with their access levels, registering a
//! number and upgrading a session with texted codes, account recovery, the compliance views,
//! and a certification that turns a Red row Green.
#![allow(clippy::unwrap_used)] // the set-up helpers are test code too

use esr_ffi::*;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

const VPD: &str = "297";
const PASSWORD: &str = "correct horse battery staple";
const MOBILE: &str = "07700 900374";
const CR: &str = "297 Core Skills - NHS Conflict Resolution - 3 Years";
const COURSES: [&str; 2] = [
    "297 NHS Conflict Resolution - Part 1",
    "297 NHS Conflict Resolution - Part 2",
];
const EASSESS: &str = "297 NHS Conflict Resolution - eAssessment";
const CLASS: &str = "e-Learning";

/// 2026-11-22 09:00 UTC.
fn start() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_338_000)
}

fn system() -> EsrActor {
    EsrActor::System {
        process: "trust set-up".into(),
    }
}

fn user(session: &Arc<EsrSession>) -> EsrActor {
    EsrActor::User {
        session: session.clone(),
    }
}

struct World {
    esr: Arc<EsrService>,
    alice: PersonInfo,
    bernard: PersonInfo,
    mia: PersonInfo,
    emma: PersonInfo,
    conflict: String,
}

fn staff(
    esr: &EsrService,
    number: &str,
    given: &str,
    family: &str,
    unit: &str,
    supervisor: Option<&str>,
) -> PersonInfo {
    let p = esr
        .add_person(
            system(),
            VPD.into(),
            NewPerson {
                employee_number: number.into(),
                given_name: given.into(),
                family_name: family.into(),
                date_of_birth: CalendarDate {
                    year: 1985,
                    month: 3,
                    day: 14,
                },
                recruitment_email: format!("staff{number}@nhs.net"),
            },
        )
        .unwrap();
    esr.add_assignment(
        system(),
        VPD.into(),
        NewAssignment {
            number: number.into(),
            employee_number: number.into(),
            title: "Staff Nurse".into(),
            position: format!("{VPD}|Staff Nurse|{unit}|"),
            org_unit: unit.into(),
            supervisor: supervisor.map(Into::into),
        },
    )
    .unwrap();
    esr.set_password(system(), p.username.clone(), PASSWORD.into())
        .unwrap();
    p
}

fn world_with(sms: Option<Arc<dyn SmsGateway>>) -> World {
    let esr = EsrService::for_testing((0x42u8..0x62).collect(), start(), sms, None, None).unwrap();
    esr.create_trust(
        VPD.into(),
        "Northfield NHS Trust".into(),
        TrustOptions {
            automatic_internet_access: true,
            upgrade_manager: true,
            upgrade_professional: false,
        },
    )
    .unwrap();
    esr.add_org_unit(
        system(),
        VPD.into(),
        "Trust HQ".into(),
        "Trust HQ".into(),
        None,
    )
    .unwrap();
    esr.add_org_unit(
        system(),
        VPD.into(),
        "Ward 5".into(),
        "Ward 5".into(),
        Some("Trust HQ".into()),
    )
    .unwrap();
    let alice = staff(&esr, "29700001", "Alice", "Adams", "Trust HQ", None);
    let bernard = staff(&esr, "29700002", "Bernard", "Brown", "Trust HQ", None);
    let mia = staff(&esr, "29700003", "Mia", "Moss", "Ward 5", Some("29700001"));
    let emma = staff(
        &esr,
        "29700004",
        "Emma",
        "Conroy",
        "Ward 5",
        Some("29700003"),
    );
    esr.bootstrap_user_administrators(
        VPD.into(),
        vec![alice.username.clone(), bernard.username.clone()],
        "go-live".into(),
    )
    .unwrap();
    let admin = esr
        .log_in_with_smartcard(bernard.username.clone(), "CARD-B".into())
        .unwrap();
    esr.grant_urp(
        admin.clone(),
        UrpGrantRequest {
            holder: mia.username.clone(),
            urp: Urp::SupervisorSelfService,
            reason: "manages Ward 5".into(),
            org_units: None,
            verified_by_line_manager: Some(alice.employee_number.clone()),
            caldicott_guardian: None,
            caldicott_reference: None,
        },
    )
    .unwrap();
    esr.log_out(admin).unwrap();
    let conflict = esr
        .competence_catalogue(VPD.into())
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .find(|n| n.contains("NHS Conflict Resolution (England) - 3 Years"))
        .unwrap();
    esr.set_requirement(
        system(),
        VPD.into(),
        conflict.clone(),
        RequirementTarget::OrgUnit {
            unit: "Ward 5".into(),
        },
        true,
        None,
    )
    .unwrap();
    let course = |name: &str, kind| ComponentDefinition {
        course: name.into(),
        kind,
        classes: vec![CLASS.into()],
    };
    esr.define_certification(
        system(),
        VPD.into(),
        CertificationDefinition {
            name: CR.into(),
            competence: conflict.clone(),
            level: Some("1 - Assessed".into()),
            validity_days: 1095,
            completion_window_days: 1095,
            renewal: Some(RenewalRule {
                window_days: 90,
                base: ExpiryBase::PreviousExpiry,
            }),
            mandatory: true,
            components: vec![
                course(COURSES[0], ComponentKind::Course),
                course(COURSES[1], ComponentKind::Course),
                course(EASSESS, ComponentKind::EAssessment),
            ],
            completion_rule: CompletionRule::AllComponents,
        },
    )
    .unwrap();
    World {
        esr,
        alice,
        bernard,
        mia,
        emma,
        conflict,
    }
}

fn world() -> World {
    world_with(None)
}

fn code(w: &World) -> String {
    w.esr
        .outbox()
        .last_code_to(MOBILE.into())
        .unwrap()
        .expect("a code was texted")
}

/// A code that is not `right`.
fn wrong(right: &str) -> String {
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
    .into()
}

/// Registers MOBILE for `person` from a smartcard session.
fn register_mobile(w: &World, person: &PersonInfo) {
    let s = w
        .esr
        .log_in_with_smartcard(person.username.clone(), "CARD-1".into())
        .unwrap();
    let ch = w.esr.request_mobile_code(s.clone(), MOBILE.into()).unwrap();
    let r = w.esr.verify_passcode(s.clone(), ch, code(w)).unwrap();
    assert!(r.approved, "{r:?}");
    w.esr.log_out(s).unwrap();
}

#[test]
fn smartcard_and_password_sessions_have_their_access_levels() {
    let w = world();
    let hscn = w
        .esr
        .log_in_with_smartcard(w.emma.username.clone(), "CARD-1".into())
        .unwrap();
    let info = w.esr.session_info(hscn.clone()).unwrap();
    assert_eq!(info.access_level, AccessLevel::Smartcard);
    assert_eq!(info.channel, Channel::Hscn);
    assert_eq!(info.username, "297ECONROY01");
    assert_eq!(hscn.username(), "297ECONROY01");
    assert!(info.expires_at > start() && info.seconds_left > 0);
    assert_eq!(info.audit_ref, hscn.audit_ref());

    let web = w
        .esr
        .log_in_with_password("297econroy01".into(), PASSWORD.into())
        .unwrap();
    let info = w.esr.session_info(web.clone()).unwrap();
    assert_eq!(info.access_level, AccessLevel::Standard);
    assert!(
        w.esr
            .functions(web.clone())
            .unwrap()
            .contains(&Function::MyCompliance)
    );
    w.esr.log_out(web.clone()).unwrap();
    let e = w.esr.session_info(web).unwrap_err();
    assert!(matches!(e, EsrError::SessionExpired { .. }), "{e:?}");
    assert!(e.to_string().contains("log in again"));

    let e = w
        .esr
        .log_in_with_password(w.emma.username.clone(), "wrong password".into())
        .unwrap_err();
    assert!(matches!(e, EsrError::LogInRefused { .. }), "{e:?}");
    assert!(!e.to_string().contains("wrong password"));
}

#[test]
fn registering_a_number_counts_wrong_codes_and_masks_the_number() {
    let w = world();
    let s = w
        .esr
        .log_in_with_smartcard(w.emma.username.clone(), "CARD-1".into())
        .unwrap();
    let ch = w.esr.request_mobile_code(s.clone(), MOBILE.into()).unwrap();
    assert_eq!(ch.purpose, Purpose::RegisterMobile);
    assert_eq!(ch.masked_destination, "xxxxxxx374");
    assert_eq!(ch.seconds_left, 600);
    assert_eq!(ch.status, ChallengeStatus::Pending);
    assert!(!format!("{ch:?}").contains("900374"));
    let right = code(&w);
    let first = w
        .esr
        .verify_passcode(s.clone(), ch.clone(), wrong(&right))
        .unwrap();
    assert_eq!(first.status, VerifyStatus::WrongCode);
    let second = w
        .esr
        .verify_passcode(s.clone(), ch.clone(), wrong(&right))
        .unwrap();
    assert_eq!(
        second.attempts_left.unwrap() + 1,
        first.attempts_left.unwrap()
    );
    let ok = w.esr.verify_passcode(s.clone(), ch.clone(), right).unwrap();
    assert!(ok.approved);
    assert_eq!(ok.status, VerifyStatus::Approved);
    assert_eq!(ok.masked_mobile.as_deref(), Some("xxxxxxx374"));
    assert!(!ok.mobile_changed);
    let person = w
        .esr
        .person(VPD.into(), w.emma.employee_number.clone())
        .unwrap();
    assert_eq!(person.masked_mobile.as_deref(), Some("xxxxxxx374"));
    assert_eq!(
        w.esr.passcode_status(s, ch).unwrap().status,
        ChallengeStatus::Approved
    );
}

#[test]
fn a_manager_upgrades_an_internet_session_with_a_texted_code() {
    let w = world();
    register_mobile(&w, &w.mia);
    // Codes to one number are spaced out.
    w.esr.advance_clock(120).unwrap();
    let web = w
        .esr
        .log_in_with_password(w.mia.username.clone(), PASSWORD.into())
        .unwrap();
    assert!(
        !w.esr
            .decide(web.clone(), Function::TeamCompliance)
            .unwrap()
            .allowed
    );
    w.esr.check_upgrade(web.clone()).unwrap();
    let first = w.esr.request_upgrade_code(web.clone()).unwrap();
    assert_eq!(first.purpose, Purpose::UpgradeSession);
    w.esr.advance_clock(60).unwrap();
    let ch = w.esr.resend_passcode(web.clone(), first.clone()).unwrap();
    assert_ne!(ch.id, first.id);
    let stale = w.esr.verify_passcode(web.clone(), first, code(&w)).unwrap();
    assert_eq!(stale.status, VerifyStatus::Superseded);
    let r = w.esr.verify_passcode(web.clone(), ch, code(&w)).unwrap();
    assert!(r.approved, "{r:?}");
    assert_eq!(r.session.unwrap().access_level, AccessLevel::Upgraded);
    let info = w.esr.session_info(web.clone()).unwrap();
    assert_eq!(info.access_level, AccessLevel::Upgraded);
    assert!(info.upgraded_at.is_some());
    assert!(
        w.esr
            .decide(web.clone(), Function::TeamCompliance)
            .unwrap()
            .allowed
    );
    let e = w.esr.check_upgrade(web).unwrap_err();
    assert!(
        matches!(e, EsrError::NotPermitted { .. } | EsrError::Conflict { .. }),
        "{e:?}"
    );
}

#[test]
fn time_left_runs_down_with_the_clock_and_the_code_expires_after_ten_minutes() {
    let w = world();
    let s = w
        .esr
        .log_in_with_smartcard(w.emma.username.clone(), "CARD-1".into())
        .unwrap();
    let ch = w.esr.request_mobile_code(s.clone(), MOBILE.into()).unwrap();
    w.esr.advance_clock(240).unwrap();
    let now = w.esr.passcode_status(s.clone(), ch.clone()).unwrap();
    assert_eq!(now.seconds_left, 360);
    w.esr.advance_clock(360).unwrap();
    let now = w.esr.passcode_status(s.clone(), ch.clone()).unwrap();
    assert_eq!(
        (now.seconds_left, now.status),
        (0, ChallengeStatus::Expired)
    );
    let r = w.esr.verify_passcode(s, ch, code(&w)).unwrap();
    assert_eq!(r.status, VerifyStatus::Expired);
    assert!(!r.approved);
}

#[test]
fn the_apps_own_sms_gateway_receives_the_code_and_can_refuse_it() {
    struct Phone(Mutex<Vec<(String, String)>>, Mutex<bool>);
    impl SmsGateway for Phone {
        fn send_sms(&self, message: Arc<SmsMessage>) -> Result<(), EsrError> {
            if *self.1.lock().map_err(|_| EsrError::Internal {
                message: "poisoned".into(),
            })? {
                return Err(EsrError::Delivery {
                    message: "the network is down".into(),
                });
            }
            assert!(!message.to_string().contains("900374"));
            self.0
                .lock()
                .map_err(|_| EsrError::Internal {
                    message: "poisoned".into(),
                })?
                .push((message.expose_to_e164(), message.expose_text()));
            Ok(())
        }
    }
    let phone = Arc::new(Phone(Mutex::new(Vec::new()), Mutex::new(false)));
    let w = world_with(Some(phone.clone()));
    let s = w
        .esr
        .log_in_with_smartcard(w.emma.username.clone(), "CARD-1".into())
        .unwrap();
    let ch = w.esr.request_mobile_code(s.clone(), MOBILE.into()).unwrap();
    let (to, text) = phone.0.lock().unwrap()[0].clone();
    assert_eq!(to, "+447700900374");
    // The default template begins with the code.
    let typed: String = text.chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(typed.len(), 6, "the text begins with the code");
    assert_eq!(w.esr.outbox().message_count(), 0);
    *phone.1.lock().unwrap() = true;
    w.esr.advance_clock(120).unwrap();
    let e = w.esr.resend_passcode(s.clone(), ch.clone()).unwrap_err();
    assert!(matches!(e, EsrError::Delivery { .. }), "{e:?}");
    assert!(e.to_string().contains("the network is down"));
    // The text goes after the commit: the refused code is withdrawn, and asking for it
    // superseded the first one. The user asks again, and the new code works.
    let r = w.esr.verify_passcode(s.clone(), ch.clone(), typed).unwrap();
    assert!(!r.approved, "{r:?}");
    assert_eq!(r.status, VerifyStatus::Superseded);
    *phone.1.lock().unwrap() = false;
    w.esr.advance_clock(30).unwrap();
    let again = w.esr.resend_passcode(s.clone(), ch).unwrap();
    let (_, text) = phone.0.lock().unwrap().last().unwrap().clone();
    let code: String = text.chars().take_while(char::is_ascii_digit).collect();
    assert!(w.esr.verify_passcode(s, again, code).unwrap().approved);
}

#[test]
fn account_recovery_by_e_mailed_link() {
    let w = world();
    let dob = CalendarDate {
        year: 1985,
        month: 3,
        day: 14,
    };
    let email = "staff29700004@nhs.net".to_owned();
    let said = w
        .esr
        .request_username_reminder(VPD.into(), email.clone(), dob)
        .unwrap();
    let nobody = w
        .esr
        .request_username_reminder(VPD.into(), "nobody@nhs.net".into(), dob)
        .unwrap();
    assert_eq!(said, nobody);
    let mail = w
        .esr
        .outbox()
        .last_email_to(email.clone())
        .unwrap()
        .unwrap();
    assert_eq!(mail.kind(), EmailKind::UsernameReminder);
    assert_eq!(mail.username(), w.emma.username);
    let token = mail.expose_token();
    assert!(!mail.to_string().contains(&token));
    assert!(
        mail.text("https://esr.example/reset?t=".into())
            .contains(&token)
    );
    let u = w
        .esr
        .reset_password_with_link(token.clone(), "a brand new passphrase".into())
        .unwrap();
    assert_eq!(u, w.emma.username);
    w.esr
        .log_in_with_password(u.clone(), "a brand new passphrase".into())
        .unwrap();
    let e = w
        .esr
        .reset_password_with_link(token, "another new passphrase".into())
        .unwrap_err();
    // The refusal carries its typed reason, not only words.
    assert!(
        matches!(
            e,
            EsrError::RecoveryLinkRefused {
                reason: esr_ffi::LinkRefusal::AlreadyUsed,
                ..
            }
        ),
        "{e:?}"
    );

    for _ in 0..5 {
        let _ = w
            .esr
            .log_in_with_password(u.clone(), "not it at all".into());
    }
    let e = w
        .esr
        .log_in_with_password(u.clone(), "a brand new passphrase".into())
        .unwrap_err();
    assert!(matches!(e, EsrError::AccountLocked { .. }), "{e:?}");
    // Links to one address are spaced out: a request moments after another sends nothing.
    w.esr.advance_clock(120).unwrap();
    w.esr
        .request_unlock_link(VPD.into(), email.clone(), dob)
        .unwrap();
    let mail = w.esr.outbox().last_email_to(email).unwrap().unwrap();
    assert_eq!(mail.kind(), EmailKind::UnlockAccount);
    assert_eq!(w.esr.unlock_with_link(mail.expose_token()).unwrap(), u);
    w.esr
        .log_in_with_password(u, "a brand new passphrase".into())
        .unwrap();
}

#[test]
fn a_certification_turns_a_red_row_green_in_my_and_team_compliance() {
    let w = world();
    let me = w
        .esr
        .log_in_with_smartcard(w.emma.username.clone(), "CARD-1".into())
        .unwrap();
    let mine = w.esr.my_compliance(me.clone(), None).unwrap();
    assert_eq!(mine.summary.red, 1);
    assert_eq!(mine.summary.percent, Some(0.0));
    let row = mine.assignments[0]
        .rows
        .iter()
        .find(|r| r.competence == w.conflict)
        .unwrap();
    assert_eq!(row.status, Some(ComplianceStatus::Red));
    assert_eq!(
        w.esr
            .certifications_for(VPD.into(), w.conflict.clone())
            .unwrap()[0]
            .name,
        CR
    );

    let e = w.emma.employee_number.clone();
    let sub = w
        .esr
        .subscribe(user(&me), VPD.into(), e.clone(), CR.into())
        .unwrap();
    assert!(matches!(
        sub.status,
        SubscriptionStatus::Subscribed { overdue: false, .. }
    ));
    for course in COURSES.into_iter().chain([EASSESS]) {
        w.esr
            .enrol(
                user(&me),
                VPD.into(),
                e.clone(),
                CR.into(),
                course.into(),
                CLASS.into(),
            )
            .unwrap();
    }
    for course in COURSES {
        let p = w
            .esr
            .play(
                user(&me),
                VPD.into(),
                e.clone(),
                CR.into(),
                course.into(),
                PlayResult::Completed,
            )
            .unwrap();
        assert!(p.awarded.is_none());
        assert_eq!(p.enrolment.performance, Performance::Completed);
    }
    let refused = w
        .esr
        .play(
            user(&me),
            VPD.into(),
            e.clone(),
            CR.into(),
            EASSESS.into(),
            PlayResult::Completed,
        )
        .unwrap_err();
    assert!(
        matches!(refused, EsrError::LearningRefused { .. }),
        "{refused:?}"
    );
    let done = w
        .esr
        .play(
            user(&me),
            VPD.into(),
            e.clone(),
            CR.into(),
            EASSESS.into(),
            PlayResult::Passed { score: 90 },
        )
        .unwrap();
    let award = done.awarded.unwrap();
    assert_eq!(award.competence, w.conflict);
    assert_eq!(award.achieved, w.esr.uk_today());

    let mine = w.esr.my_compliance(me.clone(), None).unwrap();
    assert_eq!(mine.summary.percent, Some(100.0));
    assert_eq!(
        mine.assignments[0].rows[0].status,
        Some(ComplianceStatus::Green)
    );
    let learning = w.esr.my_elearning(me.clone(), true).unwrap();
    assert_eq!(learning.len(), 3);
    assert!(learning.iter().all(|l| l.completed_on.is_some()));
    let subs = w.esr.subscriptions(user(&me), VPD.into(), e).unwrap();
    assert!(matches!(
        subs[0].status,
        SubscriptionStatus::Certified { .. }
    ));

    let boss = w
        .esr
        .log_in_with_smartcard(w.mia.username.clone(), "CARD-3".into())
        .unwrap();
    let team = w.esr.team_compliance(boss, None).unwrap();
    let member = team
        .members
        .iter()
        .find(|m| m.employee_number == w.emma.employee_number)
        .unwrap();
    assert_eq!(member.depth, 1);
    assert_eq!(member.compliance.counts.percent, Some(100.0));
    let e = w.esr.team_compliance(me, None).unwrap_err();
    assert!(matches!(e, EsrError::NotPermitted { .. }), "{e:?}");
}

#[test]
fn refusals_leave_state_as_it_was_and_say_what_to_do() {
    let w = world();
    let e = w
        .esr
        .log_in_with_smartcard("not a username".into(), "CARD-1".into())
        .unwrap_err();
    assert!(matches!(e, EsrError::InvalidInput { .. }), "{e:?}");
    let e = w.esr.person(VPD.into(), "29799999".into()).unwrap_err();
    assert!(matches!(e, EsrError::NotFound { .. }), "{e:?}");
    let e = w
        .esr
        .create_trust(VPD.into(), "Again".into(), TrustOptions::default())
        .unwrap_err();
    assert!(matches!(e, EsrError::Conflict { .. }), "{e:?}");
    let e = w
        .esr
        .add_person(
            system(),
            VPD.into(),
            NewPerson {
                employee_number: "29700009".into(),
                given_name: "Ann".into(),
                family_name: "Other".into(),
                date_of_birth: CalendarDate {
                    year: 1990,
                    month: 2,
                    day: 30,
                },
                recruitment_email: "ann@nhs.net".into(),
            },
        )
        .unwrap_err();
    assert!(e.to_string().contains("not a day of the calendar"), "{e}");
    assert!(w.esr.person(VPD.into(), "29700009".into()).is_err());
    w.esr
        .approve_internet_access(system(), w.alice.username.clone())
        .unwrap();
    let s = w
        .esr
        .log_in_with_smartcard(w.bernard.username.clone(), "CARD-B".into())
        .unwrap();
    let e = w
        .esr
        .request_mobile_code(s.clone(), "0191 496 0123".into())
        .unwrap_err();
    assert!(matches!(e, EsrError::InvalidInput { .. }), "{e:?}");
    assert!(!e.to_string().contains("4960123"));
    w.esr.request_mobile_code(s.clone(), MOBILE.into()).unwrap();
    let e = w.esr.request_mobile_code(s, MOBILE.into()).unwrap_err();
    match e {
        EsrError::RateLimited {
            retry_after_seconds,
            ..
        } => assert!(retry_after_seconds > 0),
        other => panic!("{other:?}"),
    }
    w.esr
        .record_competence(
            system(),
            VPD.into(),
            w.bernard.employee_number.clone(),
            NewCompetenceRecord {
                competence: w.conflict.clone(),
                achieved: w.esr.uk_today(),
                expiry: RecordExpiry::Refresher,
                level: None,
            },
        )
        .unwrap();
    w.esr
        .define_competence(
            system(),
            VPD.into(),
            CompetenceDefinition {
                name: "297|LOCAL|Ward 5 Induction|".into(),
                refresher_months: None,
                active: true,
            },
        )
        .unwrap();
}

#[test]
fn the_service_is_shared_between_threads_and_one_code_verifies_once() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<EsrService>();
    send_sync::<EsrSession>();
    send_sync::<Outbox>();

    let w = world();
    let s = w
        .esr
        .log_in_with_smartcard(w.emma.username.clone(), "CARD-1".into())
        .unwrap();
    let ch = w.esr.request_mobile_code(s.clone(), MOBILE.into()).unwrap();
    let right = code(&w);
    let approved: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (esr, s, ch, right) = (w.esr.clone(), s.clone(), ch.clone(), right.clone());
                scope.spawn(move || esr.verify_passcode(s, ch, right).unwrap().approved)
            })
            .collect();
        handles
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum()
    });
    assert_eq!(approved, 1);
}

#[test]
fn a_urp_is_granted_under_a_caldicott_exception_and_a_mixed_verification_is_refused() {
    let w = world();
    let admin = w
        .esr
        .log_in_with_smartcard(w.alice.username.clone(), "CARD-A".into())
        .unwrap();
    let request = |manager: Option<String>, guardian: Option<String>, reference: Option<&str>| {
        UrpGrantRequest {
            holder: w.emma.username.clone(),
            urp: Urp::SupervisorSelfService,
            reason: "covers Ward 5".into(),
            org_units: None,
            verified_by_line_manager: manager,
            caldicott_guardian: guardian,
            caldicott_reference: reference.map(Into::into),
        }
    };
    let mixed = request(
        Some(w.mia.employee_number.clone()),
        Some(w.bernard.employee_number.clone()),
        Some("CG-2026-001"),
    );
    let e = w.esr.grant_urp(admin.clone(), mixed).unwrap_err();
    assert!(matches!(e, EsrError::InvalidInput { .. }), "{e:?}");
    assert!(e.message().contains("Caldicott guardian"), "{e}");
    let no_reference = request(None, Some(w.bernard.employee_number.clone()), None);
    let e = w.esr.grant_urp(admin.clone(), no_reference).unwrap_err();
    assert!(matches!(e, EsrError::InvalidInput { .. }), "{e:?}");
    w.esr
        .grant_urp(
            admin,
            request(
                None,
                Some(w.bernard.employee_number.clone()),
                Some("CG-2026-001"),
            ),
        )
        .unwrap();
}
