//! Notifications, their channel rule, and record changes held for approval (issue 22).
#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::chrono::{NaiveDate, TimeDelta};
use esr_core::{
    access::*, audit::*, compliance::*, notify::*, people::*, store::*, urp::*, values::*, *,
};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::Barrier;

/// A trust with Automatic Internet Access and Upgrade Access (Manager) on, and a line:
/// Dana manages Mia, Mia manages Kim (Ward 5, inside Medicine). Mia holds Manager Self Service
/// (Payroll Approvals Required) besides ESS; Ada holds Administrator Self Service (Approvals
/// Required) for Medicine, Ned (Approvals Not Required) for Medicine; Pat holds Manager Self
/// Service (Payroll Approvals not Required) and manages Lee.
struct Org {
    fx: Fixture,
    dana: Staff,
    mia: Staff,
    kim: Staff,
    ada: Staff,
    ned: Staff,
    pat: Staff,
    lee: Staff,
}

fn org() -> Org {
    let fx = Fixture::builder()
        .settings(settings(true, true, false))
        .build();
    let dana = fx.staff("Dana", "Director", "Trust HQ", None);
    let mia = fx.staff("Mia", "Manager", "Medicine", Some(&dana));
    let kim = fx.staff("Kim", "Jones", "Ward 5", Some(&mia));
    let ada = fx.staff("Ada", "Admin", "Trust HQ", None);
    let ned = fx.staff("Ned", "Nimble", "Trust HQ", None);
    let pat = fx.staff("Pat", "Payroll", "Surgery", Some(&dana));
    let lee = fx.staff("Lee", "Lister", "Theatres", Some(&pat));
    fx.grant(
        mia.username(),
        Urp::ManagerSelfServicePayrollApprovalsRequired,
        GrantScope::WholeTrust,
    );
    fx.grant(
        pat.username(),
        Urp::ManagerSelfServicePayrollApprovalsNotRequired,
        GrantScope::WholeTrust,
    );
    fx.hold_exactly(
        ada.username(),
        Urp::AdministratorSelfServiceApprovalsRequired,
    );
    fx.hold_exactly(
        ned.username(),
        Urp::AdministratorSelfServiceApprovalsNotRequired,
    );
    fx.give_mobile(&mia);
    // Start with empty worklists: acknowledge the news of the grants above.
    for who in [&mia, &pat] {
        let s = fx.hscn(who.username());
        for n in fx
            .esr
            .notifications(s, NotificationFilter::default())
            .unwrap()
        {
            fx.esr
                .act_on_notification(s, n.notification.id, NotificationAction::Acknowledge)
                .unwrap();
        }
        assert_eq!(fx.esr.notification_count(s).unwrap(), 0);
    }
    Org {
        fx,
        dana,
        mia,
        kim,
        ada,
        ned,
        pat,
        lee,
    }
}

fn surname(s: &str) -> ProposedChange {
    ProposedChange::Details {
        given_name: None,
        family_name: Some(s.into()),
        recruitment_email: None,
    }
}

fn open_of(fx: &Fixture, session: SessionId, kind: NotificationType) -> Vec<NotificationView> {
    fx.esr
        .notifications(
            session,
            NotificationFilter {
                open_only: true,
                kind: Some(kind),
            },
        )
        .unwrap()
}

fn held(outcome: ChangeOutcome) -> PendingChange {
    match outcome {
        ChangeOutcome::Held(c) => *c,
        ChangeOutcome::Applied => panic!("the change applied at once"),
    }
}

fn last_events(fx: &Fixture, n: usize) -> Vec<AuditEvent> {
    let a = fx.audit(fx.vpd());
    a[a.len() - n..].iter().map(|e| e.event.clone()).collect()
}

#[test]
fn an_administrators_change_waits_for_the_line_manager_and_applies_once_approved() {
    let o = org();
    let fx = &o.fx;
    let v = fx.vpd();
    let ada = fx.hscn(o.ada.username());
    // The old call that applies at once refuses, and changes nothing.
    let before = fx.snapshot(v);
    assert_eq!(
        fx.esr.change_details(
            ada,
            o.kim.employee(),
            &DetailsChange {
                family_name: Some("Smith".into()),
                ..DetailsChange::default()
            }
        ),
        Err(Error::ApprovalRequired {
            subject: o.kim.employee().clone()
        })
    );
    assert_eq!(fx.snapshot(v), before);

    let c = held(
        fx.esr
            .request_change(ada, o.kim.employee(), surname("Smith"))
            .unwrap(),
    );
    assert_eq!(c.approver, *o.mia.employee());
    assert_eq!(c.route, ApprovalRoute::AdministratorSelfService);
    assert_eq!(
        fx.esr.person(v, o.kim.employee()).unwrap().name.family,
        "Jones"
    );
    assert!(matches!(
        last_events(fx, 1)[0],
        AuditEvent::ChangeHeld { ref approver, .. } if approver == o.mia.employee()
    ));

    let mia = fx.hscn(o.mia.username());
    assert_eq!(fx.esr.notification_count(mia).unwrap(), 1);
    let item = open_of(fx, mia, NotificationType::RecordChangeToApprove).remove(0);
    assert_eq!(item.actions, vec![ActionName::Approve, ActionName::Reject]);
    assert!(item.notification.about.contains("surname"), "{item:?}");
    assert_eq!(item.notification.expires_at, Some(c.expires_at));

    // Only Mia may act on it.
    let kim = fx.hscn(o.kim.username());
    let id = item.notification.id;
    let before = fx.snapshot(v);
    assert_eq!(
        fx.esr
            .act_on_notification(kim, id, NotificationAction::Approve),
        Err(Error::NotificationNotYours(id))
    );
    assert_eq!(
        fx.esr
            .act_on_notification(mia, id, NotificationAction::Acknowledge),
        Err(Error::ActionNotAllowed {
            action: "acknowledge",
            kind: NotificationType::RecordChangeToApprove
        })
    );
    assert_eq!(fx.snapshot(v), before);

    let done = fx
        .esr
        .act_on_notification(mia, id, NotificationAction::Approve)
        .unwrap();
    assert_eq!(done.notification.state, NotificationState::Actioned);
    assert!(done.actions.is_empty());
    assert_eq!(
        fx.esr.person(v, o.kim.employee()).unwrap().name.family,
        "Smith"
    );
    let events = last_events(fx, 3);
    assert!(
        matches!(events[0], AuditEvent::RecordChanged { .. }),
        "{events:?}"
    );
    assert!(
        matches!(events[1], AuditEvent::ChangeDecided { ref decision, .. } if decision == "applied"),
        "{events:?}"
    );
    assert!(
        matches!(events[2], AuditEvent::NotificationActed { ref action, .. } if action == "approve"),
        "{events:?}"
    );
    assert_eq!(
        fx.esr.pending_change(ada, c.id).unwrap().status,
        ChangeStatus::Applied
    );
    // Kim hears of the change to her record.
    assert_eq!(open_of(fx, kim, NotificationType::RecordChanged).len(), 1);
    assert_eq!(fx.esr.notification_count(mia).unwrap(), 0);

    // Already decided: refused, nothing changes.
    let before = fx.snapshot(v);
    assert_eq!(
        fx.esr
            .act_on_notification(mia, id, NotificationAction::Approve),
        Err(Error::NotificationSettled {
            id,
            state: NotificationState::Actioned
        })
    );
    assert_eq!(fx.snapshot(v), before);
}

#[test]
fn a_rejected_change_never_applies_and_keeps_its_reason() {
    let o = org();
    let fx = &o.fx;
    let v = fx.vpd();
    let ada = fx.hscn(o.ada.username());
    let c = held(
        fx.esr
            .request_change(ada, o.kim.employee(), surname("Smith"))
            .unwrap(),
    );
    let mia = fx.hscn(o.mia.username());
    let id = open_of(fx, mia, NotificationType::RecordChangeToApprove)[0]
        .notification
        .id;
    assert!(matches!(
        fx.esr.act_on_notification(
            mia,
            id,
            NotificationAction::Reject {
                reason: "   ".into()
            }
        ),
        Err(Error::InvalidInput { .. })
    ));
    fx.esr
        .act_on_notification(
            mia,
            id,
            NotificationAction::Reject {
                reason: "no marriage certificate seen".into(),
            },
        )
        .unwrap();
    assert_eq!(
        fx.esr.person(v, o.kim.employee()).unwrap().name.family,
        "Jones"
    );
    assert_eq!(
        fx.esr.pending_change(ada, c.id).unwrap().status,
        ChangeStatus::Rejected {
            reason: "no marriage certificate seen".into()
        }
    );
    let kim = fx.hscn(o.kim.username());
    assert_eq!(fx.esr.notification_count(kim).unwrap(), 0);
}

#[test]
fn an_expired_change_never_applies() {
    let o = org();
    let fx = &o.fx;
    let v = fx.vpd();
    fx.esr.set_change_approval_days(&system(), v, 3).unwrap();
    let ada = fx.hscn(o.ada.username());
    let c = held(
        fx.esr
            .request_change(ada, o.kim.employee(), surname("Smith"))
            .unwrap(),
    );
    assert_eq!(c.expires_at, start() + TimeDelta::days(3));
    let mia = fx.hscn(o.mia.username());
    let id = open_of(fx, mia, NotificationType::RecordChangeToApprove)[0]
        .notification
        .id;
    fx.clock.advance(TimeDelta::days(3));
    let mia = fx.hscn(o.mia.username());
    let before = fx.snapshot(v);
    assert_eq!(
        fx.esr
            .act_on_notification(mia, id, NotificationAction::Approve),
        Err(Error::NotificationSettled {
            id,
            state: NotificationState::Expired
        })
    );
    assert_eq!(fx.snapshot(v), before);
    assert_eq!(fx.esr.notification_count(mia).unwrap(), 0);
    assert_eq!(fx.esr.expire_pending_changes(&system(), v).unwrap(), 1);
    assert_eq!(fx.esr.expire_pending_changes(&system(), v).unwrap(), 0);
    let ada = fx.hscn(o.ada.username());
    assert_eq!(
        fx.esr.pending_change(ada, c.id).unwrap().status,
        ChangeStatus::Expired
    );
    assert_eq!(
        fx.esr.person(v, o.kim.employee()).unwrap().name.family,
        "Jones"
    );
    let all = fx
        .esr
        .notifications(
            mia,
            NotificationFilter {
                open_only: false,
                kind: Some(NotificationType::RecordChangeToApprove),
            },
        )
        .unwrap();
    assert_eq!(all[0].notification.state, NotificationState::Expired);
    assert!(all[0].actions.is_empty());
}

#[test]
fn without_approval_the_change_applies_and_the_line_manager_is_told() {
    let o = org();
    let fx = &o.fx;
    let v = fx.vpd();
    let ned = fx.hscn(o.ned.username());
    assert_eq!(
        fx.esr
            .request_change(ned, o.kim.employee(), surname("Smith"))
            .unwrap(),
        ChangeOutcome::Applied
    );
    assert_eq!(
        fx.esr.person(v, o.kim.employee()).unwrap().name.family,
        "Smith"
    );
    let mia = fx.hscn(o.mia.username());
    let told = open_of(fx, mia, NotificationType::TeamChangeApplied);
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].actions, vec![ActionName::Acknowledge]);
    let NotificationKind::TeamChangeApplied { change } = told[0].notification.kind else {
        panic!("{told:?}")
    };
    assert_eq!(
        fx.esr.pending_change(mia, change).unwrap().status,
        ChangeStatus::Applied
    );
    let acked = fx
        .esr
        .act_on_notification(
            mia,
            told[0].notification.id,
            NotificationAction::Acknowledge,
        )
        .unwrap();
    assert_eq!(acked.notification.state, NotificationState::Closed);
    let kim = fx.hscn(o.kim.username());
    assert_eq!(open_of(fx, kim, NotificationType::RecordChanged).len(), 1);
    // A person changing their own record is not told of it.
    fx.esr
        .change_details(
            kim,
            o.kim.employee(),
            &DetailsChange {
                given_name: Some("Kimberley".into()),
                ..DetailsChange::default()
            },
        )
        .unwrap();
    assert_eq!(open_of(fx, kim, NotificationType::RecordChanged).len(), 1);
}

#[test]
fn pay_affecting_team_changes_wait_for_the_managers_own_line_manager() {
    let o = org();
    let fx = &o.fx;
    let v = fx.vpd();
    let mia = fx.hscn(o.mia.username());
    let hours = ProposedChange::Hours {
        assignment: o.kim.number().clone(),
        weekly_minutes: 2250,
    };
    let c = held(fx.esr.request_change(mia, o.kim.employee(), hours).unwrap());
    assert_eq!(c.route, ApprovalRoute::ManagerPayroll);
    assert_eq!(c.approver, *o.dana.employee());
    let kim_assignment = || {
        fx.esr
            .assignments_of(v, o.kim.employee())
            .unwrap()
            .remove(0)
    };
    assert_eq!(kim_assignment().weekly_minutes, None);
    let dana = fx.hscn(o.dana.username());
    let id = open_of(fx, dana, NotificationType::RecordChangeToApprove)[0]
        .notification
        .id;
    fx.esr
        .act_on_notification(dana, id, NotificationAction::Approve)
        .unwrap();
    assert_eq!(kim_assignment().weekly_minutes, Some(2250));

    // Ending an assignment and a new position too.
    let end = ProposedChange::EndAssignment {
        assignment: o.kim.number().clone(),
        ended_on: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
    };
    held(fx.esr.request_change(mia, o.kim.employee(), end).unwrap());

    // Kim is not Mia's manager's report: she may not ask for Mia's hours.
    let kim = fx.hscn(o.kim.username());
    let before = fx.snapshot(v);
    assert!(matches!(
        fx.esr.request_change(
            kim,
            o.mia.employee(),
            ProposedChange::Hours {
                assignment: o.mia.number().clone(),
                weekly_minutes: 60
            }
        ),
        Err(Error::RecordNotVisible { .. })
    ));
    // An assignment that is not the subject's is refused.
    assert!(matches!(
        fx.esr.request_change(
            mia,
            o.kim.employee(),
            ProposedChange::Hours {
                assignment: o.mia.number().clone(),
                weekly_minutes: 60
            }
        ),
        Err(Error::InvalidInput { .. })
    ));
    assert_eq!(fx.snapshot(v), before);

    // Payroll Approvals not Required: at once.
    let pat = fx.hscn(o.pat.username());
    let position: PositionId = format!("{v}|Charge Nurse|Theatres|").parse().unwrap();
    assert_eq!(
        fx.esr
            .request_change(
                pat,
                o.lee.employee(),
                ProposedChange::Position {
                    assignment: o.lee.number().clone(),
                    position: position.clone(),
                }
            )
            .unwrap(),
        ChangeOutcome::Applied
    );
    assert_eq!(
        fx.esr.assignments_of(v, o.lee.employee()).unwrap()[0].position,
        position
    );
    let lee = fx.hscn(o.lee.username());
    assert_eq!(open_of(fx, lee, NotificationType::RecordChanged).len(), 1);
}

#[test]
fn racing_approvals_have_exactly_one_winner() {
    let o = org();
    let fx = &o.fx;
    let threads = 4;
    let barrier = Barrier::new(threads);
    let ada = fx.hscn(o.ada.username());
    for round in 0..5 {
        fx.esr
            .request_change(ada, o.kim.employee(), surname(&format!("Smith{round}")))
            .unwrap();
        let mia = fx.hscn(o.mia.username());
        let id = open_of(fx, mia, NotificationType::RecordChangeToApprove)[0]
            .notification
            .id;
        let sessions: Vec<SessionId> = (0..threads).map(|_| fx.hscn(o.mia.username())).collect();
        let results: Vec<Result<NotificationView>> = std::thread::scope(|s| {
            let handles: Vec<_> = sessions
                .iter()
                .enumerate()
                .map(|(i, session)| {
                    let (esr, barrier) = (&fx.esr, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        let action = if i % 2 == 0 {
                            NotificationAction::Approve
                        } else {
                            NotificationAction::Reject {
                                reason: "race".into(),
                            }
                        };
                        esr.act_on_notification(*session, id, action)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "round {round}: {results:?}");
        assert!(
            results
                .iter()
                .filter_map(|r| r.as_ref().err())
                .all(|e| matches!(e, Error::NotificationSettled { .. })),
            "{results:?}"
        );
    }
}

#[test]
fn the_channel_matrix() {
    let o = org();
    let fx = &o.fx;
    let v = fx.vpd();
    // One open notification of every kind for Mia, put directly in the store.
    let ids: Vec<(NotificationType, NotificationId)> = NotificationType::ALL
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let kind = match k {
                NotificationType::RecordChangeToApprove => {
                    NotificationKind::RecordChangeToApprove {
                        change: ChangeId::from_bytes([9; 16]),
                    }
                }
                NotificationType::RecordChanged => NotificationKind::RecordChanged {
                    fields: "surname".into(),
                },
                NotificationType::TeamChangeApplied => NotificationKind::TeamChangeApplied {
                    change: ChangeId::from_bytes([8; 16]),
                },
                NotificationType::UrpGranted => NotificationKind::UrpGranted {
                    urp: Urp::SupervisorSelfService,
                },
                NotificationType::UrpRemoved => NotificationKind::UrpRemoved {
                    urp: Urp::SupervisorSelfService,
                },
                NotificationType::CertificationAwarded => NotificationKind::CertificationAwarded {
                    certification: "Fire".into(),
                },
                NotificationType::CompetenceExpiring => NotificationKind::CompetenceExpiring {
                    competence: "NHS|CSTF|Fire Safety - 1 Year|".parse().unwrap(),
                    expiry: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
                },
                NotificationType::AccessRequestToAuthorise => {
                    NotificationKind::AccessRequestToAuthorise {
                        request: "r1".into(),
                    }
                }
                NotificationType::CompetenceToApprove => NotificationKind::CompetenceToApprove {
                    subject: o.kim.employee().clone(),
                    competence: "NHS|CSTF|Fire Safety - 1 Year|".parse().unwrap(),
                    achieved: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                },
                NotificationType::UrpReviewDue => NotificationKind::UrpReviewDue {
                    cycle: "c1".into(),
                    due: NaiveDate::from_ymd_opt(2027, 5, 1).unwrap(),
                },
                other => panic!("no example of {other:?}"),
            };
            let n = Notification {
                id: NotificationId::from_bytes([u8::try_from(i).unwrap() + 100; 16]),
                vpd: v,
                for_person: o.mia.employee().clone(),
                kind,
                about: format!("{k}"),
                raised_at: start(),
                expires_at: None,
                state: NotificationState::Open,
                settled_at: None,
            };
            fx.esr
                .store()
                .transaction(|tx| tx.put_notification(&n))
                .unwrap();
            (*k, n.id)
        })
        .collect();
    let open = u32::try_from(NotificationType::ALL.len()).unwrap();
    let all: BTreeSet<NotificationType> = NotificationType::ALL.into_iter().collect();
    for set in [
        NotificationType::default_internet_set(),
        BTreeSet::new(),
        all.clone(),
    ] {
        fx.esr
            .set_internet_notifications(&system(), v, set.clone())
            .unwrap();
        let hscn = fx.hscn(o.mia.username());
        let internet = fx.internet(o.mia.username()).unwrap().id;
        let upgraded = fx.internet(o.mia.username()).unwrap().id;
        fx.upgrade(upgraded).unwrap();
        for (session, name) in [
            (hscn, "HSCN"),
            (internet, "internet"),
            (upgraded, "upgraded"),
        ] {
            // The indicator shows everywhere, and counts everything open.
            assert_eq!(fx.esr.notification_count(session).unwrap(), open, "{name}");
            let seen: BTreeSet<NotificationType> = fx
                .esr
                .notifications(session, NotificationFilter::default())
                .unwrap()
                .iter()
                .map(|n| n.notification.kind.kind_type())
                .collect();
            let want: BTreeSet<NotificationType> = match name {
                "HSCN" => all.clone(),
                "internet" => BTreeSet::new(),
                _ => set.clone(),
            };
            assert_eq!(seen, want, "{name} with {set:?}");
            for (k, id) in &ids {
                assert_eq!(
                    notification_visibility(
                        if name == "HSCN" {
                            Channel::Hscn
                        } else {
                            Channel::Internet
                        },
                        name == "upgraded",
                        *k,
                        &fx.esr.trust(v).unwrap().settings
                    )
                    .is_full(),
                    want.contains(k)
                );
                if !want.contains(k) {
                    let before = fx.snapshot(v);
                    assert_eq!(
                        fx.esr
                            .act_on_notification(session, *id, NotificationAction::Acknowledge),
                        Err(Error::NotificationHidden { id: *id, kind: *k }),
                        "{name}"
                    );
                    assert_eq!(fx.snapshot(v), before);
                }
            }
        }
    }
}

#[test]
fn existing_flows_tell_the_person() {
    let o = org();
    let fx = &o.fx;
    let v = fx.vpd();
    let kim = fx.hscn(o.kim.username());
    fx.grant(
        o.kim.username(),
        Urp::SupervisorSelfService,
        GrantScope::WholeTrust,
    );
    fx.clock.advance(TimeDelta::seconds(1));
    fx.revoke(o.kim.username(), Urp::SupervisorSelfService);
    fx.clock.advance(TimeDelta::seconds(1));
    fx.esr
        .set_supervisor(&system(), v, o.kim.number(), Some(o.dana.number().clone()))
        .unwrap();
    let kinds: Vec<NotificationType> = fx
        .esr
        .notifications(kim, NotificationFilter::default())
        .unwrap()
        .iter()
        .map(|n| n.notification.kind.kind_type())
        .collect();
    assert_eq!(
        kinds,
        vec![
            NotificationType::RecordChanged,
            NotificationType::UrpRemoved,
            NotificationType::UrpGranted,
        ],
        "most recent first"
    );
    let only = fx
        .esr
        .notifications(
            kim,
            NotificationFilter {
                open_only: true,
                kind: Some(NotificationType::UrpGranted),
            },
        )
        .unwrap();
    assert_eq!(only.len(), 1);

    // Competences about to expire, raised once however often the sweep runs.
    let fire: CompetenceName = "NHS|CSTF|Fire Safety - 1 Year|".parse().unwrap();
    fx.esr
        .record_competence(
            &system(),
            v,
            o.kim.employee(),
            NewCompetenceRecord {
                competence: fire.clone(),
                achieved: NaiveDate::from_ymd_opt(2025, 12, 5).unwrap(),
                expiry: RecordExpiry::On(NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()),
                level: CompetenceLevel::default(),
            },
        )
        .unwrap();
    assert_eq!(fx.esr.raise_expiry_notices(&system(), v, 7).unwrap(), 0);
    assert_eq!(fx.esr.raise_expiry_notices(&system(), v, 30).unwrap(), 1);
    assert_eq!(fx.esr.raise_expiry_notices(&system(), v, 30).unwrap(), 0);
    let expiring = open_of(fx, kim, NotificationType::CompetenceExpiring);
    assert_eq!(expiring.len(), 1);
    assert!(expiring[0].notification.about.contains("04-Dec-2026"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Whatever is asked, approved, rejected and let expire, in whatever order, no held change
    /// applies without its approval and none applies twice: the record shows exactly the
    /// approved changes, each once, the last approved one in force.
    #[test]
    fn no_change_applies_without_approval_or_twice(
        steps in proptest::collection::vec((0u8..4, 0usize..4), 1..14),
    ) {
        let o = org();
        let fx = &o.fx;
        let v = fx.vpd();
        let mut asked: Vec<(PendingChange, NotificationId)> = Vec::new();
        let mut approved: Vec<u32> = Vec::new();
        let mut minutes = 100;
        for (op, pick) in steps {
            let dana = fx.hscn(o.dana.username());
            let mia = fx.hscn(o.mia.username());
            match op {
                0 => {
                    minutes += 1;
                    let c = held(fx.esr.request_change(mia, o.kim.employee(), ProposedChange::Hours {
                        assignment: o.kim.number().clone(),
                        weekly_minutes: minutes,
                    }).unwrap());
                    let n = fx.esr.notifications(dana, NotificationFilter::default()).unwrap();
                    let id = n.iter().find(|x| x.notification.kind == NotificationKind::RecordChangeToApprove { change: c.id }).unwrap().notification.id;
                    asked.push((c, id));
                }
                1 | 2 if !asked.is_empty() => {
                    let (c, id) = &asked[pick % asked.len()];
                    let action = if op == 1 { NotificationAction::Approve } else { NotificationAction::Reject { reason: "no".into() } };
                    if fx.esr.act_on_notification(dana, *id, action).is_ok() && op == 1 {
                        let ProposedChange::Hours { weekly_minutes, .. } = c.change else { unreachable!() };
                        approved.push(weekly_minutes);
                    }
                }
                _ => {
                    fx.clock.advance(TimeDelta::days(5));
                    fx.esr.expire_pending_changes(&system(), v).unwrap();
                }
            }
        }
        let applied: Vec<u32> = fx
            .audit(v)
            .iter()
            .filter(|e| matches!(&e.event, AuditEvent::ChangeDecided { decision, .. } if decision == "applied"))
            .map(|e| match &e.event { AuditEvent::ChangeDecided { change, .. } => *change, _ => unreachable!() })
            .map(|id| asked.iter().find(|(c, _)| c.id == id).map(|(c, _)| match c.change { ProposedChange::Hours { weekly_minutes, .. } => weekly_minutes, _ => unreachable!() }).unwrap())
            .collect();
        prop_assert_eq!(&applied, &approved);
        let distinct: BTreeSet<u32> = applied.iter().copied().collect();
        prop_assert_eq!(distinct.len(), applied.len(), "a change applied twice");
        let now = fx.esr.assignments_of(v, o.kim.employee()).unwrap().remove(0).weekly_minutes;
        prop_assert_eq!(now, approved.last().copied());
        let mia = fx.hscn(o.mia.username());
        for (c, _) in &asked {
            let status = fx.esr.pending_change(mia, c.id).unwrap().status;
            let ProposedChange::Hours { weekly_minutes, .. } = c.change else { unreachable!() };
            prop_assert_eq!(status == ChangeStatus::Applied, approved.contains(&weekly_minutes));
        }
    }
}
