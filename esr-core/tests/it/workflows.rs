//! The self-service workflows of issue 22 that live outside the notifications area: access
//! requests (seed 003's OneForm), the six-monthly URP review (seed 003 §9) and competences
//! awaiting approval (seed 004's "Awaiting Approval" tab). Each is walked end to end with its
//! refusals (wrong person, wrong channel, expired, already decided), each refusal leaving the
//! store as it was, and racing decisions have exactly one winner.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::chrono::{NaiveDate, TimeDelta};
use esr_core::{audit::*, compliance::*, notify::*, store::*, urp::*, values::*, *};
use std::sync::Barrier;

const MSS: Urp = Urp::ManagerSelfServicePayrollApprovalsRequired;
const SSS: Urp = Urp::SupervisorSelfService;
const HRMS: Urp = Urp::LocalHrmsSystemsAndUserAdministration;

/// Everything a refused workflow step must leave alone: the fixture's snapshot and every
/// workflow record.
#[derive(Debug, PartialEq)]
struct WorkflowState {
    base: Snapshot,
    requests: Vec<AccessRequest>,
    reviews: Vec<UrpReview>,
    claims: Vec<CompetenceClaim>,
    records: Vec<CompetenceRecord>,
}

fn state(fx: &Fixture) -> WorkflowState {
    let v = fx.vpd();
    let (requests, reviews, claims, records) = fx
        .esr
        .store()
        .transaction(|tx| {
            Ok((
                tx.access_requests(v)?,
                tx.urp_reviews(v)?,
                tx.competence_claims(v)?,
                tx.competence_records(v)?,
            ))
        })
        .unwrap();
    WorkflowState {
        base: fx.snapshot(v),
        requests,
        reviews,
        claims,
        records,
    }
}

/// Asserts that `f` is refused with an error of code `code`, changing nothing; returns it.
#[track_caller]
fn refused<T: std::fmt::Debug>(fx: &Fixture, code: &str, f: impl FnOnce() -> Result<T>) -> Error {
    let before = state(fx);
    let e = match f() {
        Err(e) => e,
        Ok(x) => panic!("expected {code}, got Ok({x:?})"),
    };
    assert_eq!(e.code(), code, "{e}");
    assert!(
        state(fx) == before,
        "the refusal {e:?} changed stored state"
    );
    e
}

fn steps(fx: &Fixture, workflow: &str) -> Vec<String> {
    fx.audit(fx.vpd())
        .into_iter()
        .filter_map(|e| match e.event {
            AuditEvent::WorkflowStep {
                workflow: w, step, ..
            } if w == workflow => Some(step),
            _ => None,
        })
        .collect()
}

fn finance() -> Actor {
    Actor::system("finance AS number feed").unwrap()
}

/// A ward manager and a nurse reporting to them, in Ward 5.
fn ward(fx: &Fixture) -> (Staff, Staff) {
    let manager = fx.staff("Mary", "Manning", "Ward 5", None);
    let nurse = fx.staff("Emma", "Conroy", "Ward 5", Some(&manager));
    (manager, nurse)
}

// ----- Access requests ------------------------------------------------------------------------

#[test]
fn a_oneform_goes_from_request_to_grant_through_the_line_manager_and_finance() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let (manager, nurse) = ward(&fx);
    let own = fx.hscn(nurse.username());
    let r = fx
        .esr
        .request_access(
            &Actor::Session(own),
            NewAccessRequest::new(nurse.username().clone(), MSS, "acting ward manager"),
        )
        .unwrap();
    assert_eq!(r.state, AccessRequestState::AwaitingAuthorisation);
    assert_eq!(r.route, AccessRoute::LineManager);
    assert_eq!(r.expires_at, start() + TimeDelta::days(28));
    assert_eq!(fx.esr.my_access_requests(own).unwrap(), vec![r.clone()]);

    // The line manager sees it waiting and authorises it.
    let m = fx.hscn(manager.username());
    assert_eq!(
        fx.esr.access_requests_to_authorise(m).unwrap(),
        vec![r.clone()]
    );
    let admin = fx.hscn(fx.t().admin_a.username());
    assert!(
        fx.esr
            .access_requests_to_authorise(admin)
            .unwrap()
            .is_empty()
    );
    let r = fx.esr.authorise_access_request(m, &r.id).unwrap();
    assert!(
        matches!(r.state, AccessRequestState::Authorised { ref by, .. } if by == manager.employee())
    );
    assert!(fx.esr.access_requests_to_authorise(m).unwrap().is_empty());

    // Manager Self Service waits for its AS number.
    assert_eq!(
        fx.esr.access_requests_to_grant(admin).unwrap(),
        vec![r.clone()]
    );
    assert_eq!(r.missing_prerequisites(), vec![Prerequisite::AsNumber]);
    refused(&fx, "prerequisite_missing", || {
        fx.esr.grant_access_request(admin, &r.id)
    });
    let r = fx
        .esr
        .record_access_prerequisite(&finance(), v, &r.id, Prerequisite::AsNumber, "AS10442")
        .unwrap();
    assert!(r.missing_prerequisites().is_empty());

    // The user administrator grants it, citing the request.
    let g = fx.esr.grant_access_request(admin, &r.id).unwrap();
    assert_eq!(g.holder, *nurse.username());
    assert_eq!(g.urp, MSS);
    assert_eq!(g.reason, "acting ward manager");
    assert_eq!(
        g.approval,
        Approval::AccessRequest {
            request: r.id,
            authorised_by: manager.employee().clone(),
            exception: false,
        }
    );
    assert!(fx.esr.held_urps(nurse.username()).unwrap().contains(&MSS));
    let r = fx
        .esr
        .access_request(&Actor::Session(own), v, &r.id)
        .unwrap();
    assert!(matches!(r.state, AccessRequestState::Granted { grant, .. } if grant == g.id));
    assert_eq!(r.status_at(start()), AccessRequestStatus::Granted);
    assert_eq!(
        steps(&fx, "access request"),
        ["raised", "authorised", "prerequisite recorded", "granted"]
    );
    // The grant is audited as ever, with the request it cites.
    assert!(fx.audit(v).iter().any(|e| matches!(&e.event,
        AuditEvent::UrpGranted { approval, .. } if approval.contains(&r.id.to_string()))));
    // Granted once: never again.
    refused(&fx, "workflow_state", || {
        fx.esr.grant_access_request(admin, &r.id)
    });
    refused(&fx, "workflow_state", || {
        fx.esr.authorise_access_request(m, &r.id)
    });
    fx.esr.verify_audit(v).unwrap();
}

#[test]
fn access_requests_refuse_the_wrong_person_channel_time_and_state() {
    let fx = Fixture::builder()
        .settings(settings(true, true, false))
        .build();
    let v = fx.vpd();
    let (manager, nurse) = ward(&fx);
    // The manager supervises with Supervisor Self Service, which an upgrade opens remotely.
    fx.grant(
        manager.username(),
        Urp::SupervisorSelfServiceLimitedAccess,
        GrantScope::WholeTrust,
    );
    let other = fx.staff("Olly", "Other", "Ward 6", None);
    let raise = |urp: Urp| {
        fx.esr.request_access(
            &system(),
            NewAccessRequest::new(nurse.username().clone(), urp, "cover"),
        )
    };
    // Employee-level URPs need no request; a URP held already cannot be requested.
    refused(&fx, "invalid_input", || raise(Urp::EmployeeSelfService));
    // Someone who is neither the person, their manager nor an administrator cannot raise one.
    let o = fx.hscn(other.username());
    refused(&fx, "not_the_decider", || {
        fx.esr.request_access(
            &Actor::Session(o),
            NewAccessRequest::new(nurse.username().clone(), SSS, "cover"),
        )
    });
    // A person with no line manager raises only an exception.
    refused(&fx, "approval_refused", || {
        fx.esr.request_access(
            &system(),
            NewAccessRequest::new(other.username().clone(), SSS, "cover"),
        )
    });
    // An exception needs a Caldicott guardian named by the trust.
    refused(&fx, "invalid_input", || {
        fx.esr.request_access(
            &system(),
            NewAccessRequest::new(other.username().clone(), SSS, "cover").as_exception("locum"),
        )
    });
    // Raised on the nurse's behalf by their manager.
    let m = fx.hscn(manager.username());
    let r = fx
        .esr
        .request_access(
            &Actor::Session(m),
            NewAccessRequest::new(nurse.username().clone(), SSS, "cover"),
        )
        .unwrap();
    assert_eq!(r.raised_by, Grantor::User(manager.username().clone()));
    // One open request per person and URP.
    refused(&fx, "workflow_state", || raise(SSS));

    // Wrong person: the nurse, another member of staff, a user administrator.
    let n = fx.hscn(nurse.username());
    refused(&fx, "not_the_decider", || {
        fx.esr.authorise_access_request(n, &r.id)
    });
    refused(&fx, "not_the_decider", || {
        fx.esr.authorise_access_request(o, &r.id)
    });
    let admin = fx.hscn(fx.t().admin_a.username());
    refused(&fx, "not_the_decider", || {
        fx.esr.authorise_access_request(admin, &r.id)
    });
    // A grant before the authorisation, and a grant offered to grant_urp with a request cited.
    refused(&fx, "workflow_state", || {
        fx.esr.grant_access_request(admin, &r.id)
    });
    refused(&fx, "approval_refused", || {
        fx.esr.grant_urp(
            admin,
            GrantRequest {
                holder: nurse.username().clone(),
                urp: SSS,
                scope: GrantScope::WholeTrust,
                approval: Approval::AccessRequest {
                    request: r.id,
                    authorised_by: manager.employee().clone(),
                    exception: false,
                },
                reason: "cover".into(),
            },
        )
    });
    // Wrong channel: the manager over the internet before an upgrade.
    let web = fx.internet(manager.username()).unwrap().id;
    let e = refused(&fx, "not_the_decider", || {
        fx.esr.authorise_access_request(web, &r.id)
    });
    assert_eq!(e.kind(), ErrorKind::NotPermitted);
    assert!(e.to_string().contains("upgrade"), "{e}");
    // An unknown request.
    refused(&fx, "unknown_workflow_item", || {
        fx.esr
            .authorise_access_request(m, &AccessRequestId::from_bytes([9; 16]))
    });

    // Upgraded, the manager rejects it; a rejected request is decided for good.
    fx.give_mobile(&manager);
    fx.upgrade(web).unwrap();
    let r = fx
        .esr
        .reject_access_request(web, &r.id, "not needed on this ward")
        .unwrap();
    assert!(
        matches!(&r.state, AccessRequestState::Rejected { reason, .. } if reason == "not needed on this ward")
    );
    refused(&fx, "workflow_state", || {
        fx.esr.authorise_access_request(m, &r.id)
    });
    refused(&fx, "workflow_state", || {
        fx.esr.grant_access_request(admin, &r.id)
    });

    // Expired: a new request not decided within 28 days, and one authorised but not granted.
    let late = raise(SSS).unwrap();
    let authorised = fx
        .esr
        .request_access(
            &system(),
            NewAccessRequest::new(
                nurse.username().clone(),
                Urp::SupervisorSelfServiceLimitedAccess,
                "cover",
            ),
        )
        .unwrap();
    fx.esr.authorise_access_request(m, &authorised.id).unwrap();
    fx.clock.advance(TimeDelta::days(28));
    let m = fx.hscn(manager.username());
    let admin = fx.hscn(fx.t().admin_a.username());
    let e = refused(&fx, "workflow_state", || {
        fx.esr.authorise_access_request(m, &late.id)
    });
    assert!(e.to_string().contains("expired"), "{e}");
    refused(&fx, "workflow_state", || {
        fx.esr.grant_access_request(admin, &authorised.id)
    });
    refused(&fx, "workflow_state", || {
        fx.esr
            .record_access_prerequisite(&finance(), v, &late.id, Prerequisite::AsNumber, "AS1")
    });
    assert!(fx.esr.access_requests_to_authorise(m).unwrap().is_empty());
    assert!(fx.esr.access_requests_to_grant(admin).unwrap().is_empty());
    // Once expired, a new request may be raised.
    raise(SSS).unwrap();
    fx.esr.verify_audit(v).unwrap();
}

#[test]
fn an_exception_goes_to_the_caldicott_guardian_instead_of_the_line_manager() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let (manager, nurse) = ward(&fx);
    let guardian = fx.t().guardian.clone();
    // Naming the guardian needs a user administrator (or the trust's set-up).
    let n = fx.hscn(nurse.username());
    refused(&fx, "not_permitted", || {
        fx.esr
            .set_caldicott_guardian(&Actor::Session(n), v, Some(nurse.employee().clone()))
    });
    let settings = fx
        .esr
        .set_caldicott_guardian(&system(), v, Some(guardian.employee().clone()))
        .unwrap();
    assert_eq!(
        settings.caldicott_guardian.as_ref(),
        Some(guardian.employee())
    );
    let r = fx
        .esr
        .request_access(
            &Actor::Session(n),
            NewAccessRequest::new(
                nurse.username().clone(),
                Urp::LocalHrAdministration,
                "audit cover",
            )
            .as_exception("no HR post holder this month"),
        )
        .unwrap();
    assert!(matches!(r.route, AccessRoute::CaldicottGuardian { .. }));
    // The line manager may not authorise an exception; the guardian does.
    let m = fx.hscn(manager.username());
    refused(&fx, "not_the_decider", || {
        fx.esr.authorise_access_request(m, &r.id)
    });
    let g = fx.hscn(guardian.username());
    assert_eq!(fx.esr.access_requests_to_authorise(g).unwrap().len(), 1);
    fx.esr.authorise_access_request(g, &r.id).unwrap();
    let admin = fx.hscn(fx.t().admin_b.username());
    let grant = fx.esr.grant_access_request(admin, &r.id).unwrap();
    assert!(matches!(
        grant.approval,
        Approval::AccessRequest {
            exception: true,
            ..
        }
    ));
    assert!(grant.approval.to_string().contains("Caldicott guardian"));
}

#[test]
fn racing_decisions_on_one_request_have_exactly_one_winner() {
    for round in 0..20 {
        let fx = Fixture::builder().seed(round).build();
        let (manager, nurse) = ward(&fx);
        let r = fx
            .esr
            .request_access(
                &system(),
                NewAccessRequest::new(nurse.username().clone(), SSS, "cover"),
            )
            .unwrap();
        let sessions: Vec<_> = (0..4).map(|_| fx.hscn(manager.username())).collect();
        let barrier = Barrier::new(sessions.len());
        let results: Vec<Result<AccessRequest>> = std::thread::scope(|s| {
            let handles: Vec<_> = sessions
                .iter()
                .enumerate()
                .map(|(i, &session)| {
                    let (esr, barrier, id) = (&fx.esr, &barrier, r.id);
                    s.spawn(move || {
                        barrier.wait();
                        if i % 2 == 0 {
                            esr.authorise_access_request(session, &id)
                        } else {
                            esr.reject_access_request(session, &id, "race")
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        assert!(
            results
                .iter()
                .filter_map(|r| r.as_ref().err())
                .all(|e| e.code() == "workflow_state")
        );
        let stored = fx.esr.access_request(&system(), fx.vpd(), &r.id).unwrap();
        assert_eq!(&stored, winners[0]);
        assert_eq!(steps(&fx, "access request").len(), 2, "round {round}");
    }
}

// ----- The six-monthly URP review -----------------------------------------------------------

#[test]
fn the_six_monthly_review_confirms_or_revokes_every_grant_beyond_ess() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let (_, nurse) = ward(&fx);
    fx.grant(nurse.username(), SSS, GrantScope::WholeTrust);
    let (a, b) = (fx.t().admin_a.clone(), fx.t().admin_b.clone());

    // Due six months after the trust was created; overdue after that day, in the report and
    // its CSV.
    let status = fx.esr.urp_review_status(&system(), v).unwrap();
    assert_eq!(status.due, NaiveDate::from_ymd_opt(2027, 5, 22).unwrap());
    assert!(!status.overdue);
    fx.clock.advance(TimeDelta::days(190));
    let status = fx.esr.urp_review_status(&system(), v).unwrap();
    assert!(status.overdue);
    let rows = fx.esr.urp_audit_report(&system(), v).unwrap();
    let nurse_row = rows.iter().find(|r| r.urp == SSS).unwrap();
    assert_eq!(nurse_row.review, "OVERDUE: was due 22-May-2027");
    let ess_row = rows
        .iter()
        .find(|r| r.urp == Urp::EmployeeSelfService)
        .unwrap();
    assert_eq!(ess_row.review, "not reviewed (employee-level)");
    let csv = urp_report_csv(&rows).unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",Last Reviewed,Review")
    );
    assert!(csv.contains("OVERDUE: was due 22-May-2027"));

    // A user administrator opens the cycle: the two administrators' grants and the nurse's.
    let (sa, sb) = (fx.hscn(a.username()), fx.hscn(b.username()));
    let n = fx.hscn(nurse.username());
    refused(&fx, "not_permitted", || fx.esr.open_urp_review(n));
    let review = fx.esr.open_urp_review(sa).unwrap();
    assert_eq!(review.due, status.due);
    let mut held: Vec<_> = review
        .items
        .iter()
        .map(|i| (i.holder.to_string(), i.urp))
        .collect();
    held.sort();
    assert_eq!(
        held,
        [
            (a.username().to_string(), HRMS),
            (b.username().to_string(), HRMS),
            (nurse.username().to_string(), SSS),
        ]
    );
    refused(&fx, "workflow_state", || fx.esr.open_urp_review(sb));
    let grant_of = |u: &Staff, urp: Urp| {
        review
            .items
            .iter()
            .find(|i| i.holder == *u.username() && i.urp == urp)
            .unwrap()
            .grant
    };

    // Nobody reviews their own grant; the floor of two administrators holds in a review.
    refused(&fx, "not_the_decider", || {
        fx.esr
            .confirm_urp_grant(sa, &review.id, &grant_of(&a, HRMS))
    });
    refused(&fx, "too_few_user_administrators", || {
        fx.esr
            .revoke_urp_in_review(sa, &review.id, &grant_of(&b, HRMS), "tidy up")
    });
    refused(&fx, "not_permitted", || {
        fx.esr.confirm_urp_grant(n, &review.id, &grant_of(&a, HRMS))
    });
    refused(&fx, "unknown_workflow_item", || {
        fx.esr
            .confirm_urp_grant(sa, &review.id, &GrantId::from_bytes([3; 16]))
    });
    fx.esr
        .confirm_urp_grant(sa, &review.id, &grant_of(&b, HRMS))
        .unwrap();
    refused(&fx, "workflow_state", || {
        fx.esr
            .confirm_urp_grant(sa, &review.id, &grant_of(&b, HRMS))
    });
    let r = fx
        .esr
        .confirm_urp_grant(sb, &review.id, &grant_of(&a, HRMS))
        .unwrap();
    assert_eq!(r.undecided(), 1);
    // In the report, decided grants show as confirmed; the rest still overdue.
    let rows = fx.esr.urp_audit_report(&system(), v).unwrap();
    let a_row = rows
        .iter()
        .find(|r| r.username == *a.username() && r.urp == HRMS)
        .unwrap();
    assert_eq!(a_row.review, "confirmed in the open review");
    assert!(a_row.last_reviewed.is_some());

    // Revoking the nurse's grant completes the cycle; the next is due six months on.
    let r = fx
        .esr
        .revoke_urp_in_review(
            sa,
            &review.id,
            &grant_of(&nurse, SSS),
            "no longer supervising",
        )
        .unwrap();
    assert!(r.is_complete());
    assert!(!fx.esr.held_urps(nurse.username()).unwrap().contains(&SSS));
    refused(&fx, "workflow_state", || {
        fx.esr
            .confirm_urp_grant(sb, &review.id, &grant_of(&a, HRMS))
    });
    let status = fx.esr.urp_review_status(&system(), v).unwrap();
    assert_eq!(status.last_completed, Some(fx.clock.now()));
    assert_eq!(status.due, NaiveDate::from_ymd_opt(2027, 11, 30).unwrap());
    assert!(!status.overdue && status.open.is_none());
    assert_eq!(
        steps(&fx, "URP review"),
        ["opened", "confirmed", "confirmed", "revoked", "completed"]
    );
    assert_eq!(fx.esr.urp_reviews(&system(), v).unwrap(), vec![r]);
    fx.esr.verify_audit(v).unwrap();
}

#[test]
fn a_revocation_outside_the_review_decides_its_grant_and_racing_confirmations_have_one_winner() {
    for round in 0..10 {
        let fx = Fixture::builder().seed(round).build();
        let v = fx.vpd();
        let (_, nurse) = ward(&fx);
        let c = fx.staff("Cara", "Cole", "Trust HQ", None);
        fx.grant(nurse.username(), SSS, GrantScope::WholeTrust);
        fx.grant(c.username(), HRMS, GrantScope::WholeTrust);
        let (sa, sb) = (
            fx.hscn(fx.t().admin_a.username()),
            fx.hscn(fx.t().admin_b.username()),
        );
        let review = fx.esr.open_urp_review(sa).unwrap();
        assert_eq!(review.items.len(), 4);
        // Revoked outside the review: decided in it.
        fx.revoke(nurse.username(), SSS);
        let r = fx.esr.urp_reviews(&system(), v).unwrap().pop().unwrap();
        assert_eq!(r.undecided(), 3);
        // Two administrators race to confirm Cara's grant: one wins.
        let cara = review
            .items
            .iter()
            .find(|i| i.holder == *c.username())
            .unwrap()
            .grant;
        let barrier = Barrier::new(2);
        let results: Vec<Result<UrpReview>> = std::thread::scope(|s| {
            let hs: Vec<_> = [sa, sb]
                .into_iter()
                .map(|session| {
                    let (esr, barrier, id) = (&fx.esr, &barrier, review.id);
                    s.spawn(move || {
                        barrier.wait();
                        esr.confirm_urp_grant(session, &id, &cara)
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(e) if e.code() == "workflow_state"))
        );
        fx.esr.verify_audit(v).unwrap();
    }
}

// ----- Competences awaiting approval ------------------------------------------------------------

fn fire() -> CompetenceName {
    "NHS|CSTF|Fire Safety - 1 Year|".parse().unwrap()
}

fn claim_of(c: &CompetenceName) -> NewCompetenceRecord {
    NewCompetenceRecord {
        competence: c.clone(),
        achieved: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
        expiry: RecordExpiry::On(NaiveDate::from_ymd_opt(2028, 6, 1).unwrap()),
        level: CompetenceLevel::default(),
    }
}

fn percent(fx: &Fixture, s: &Staff) -> Option<f64> {
    fx.esr
        .my_compliance(fx.hscn(s.username()), None)
        .unwrap()
        .percent()
}

#[test]
fn a_competence_the_learner_records_counts_only_once_approved() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let (manager, nurse) = ward(&fx);
    fx.esr
        .set_requirement(
            &system(),
            Requirement {
                vpd: v,
                target: RequirementTarget::Position(nurse.assignment.position.clone()),
                competence: fire(),
                essential: true,
                min_level: None,
            },
        )
        .unwrap();
    assert_eq!(percent(&fx, &nurse), Some(0.0));
    let n = fx.hscn(nurse.username());
    let claim = fx
        .esr
        .claim_competence(
            n,
            claim_of(&fire()),
            "Fire safety at Gateshead Health, 2026",
        )
        .unwrap();
    assert!(claim.is_awaiting());
    // Awaiting approval: listed, not counted.
    assert_eq!(percent(&fx, &nurse), Some(0.0));
    let mine = fx
        .esr
        .competences_awaiting_approval(&Actor::Session(n), v, nurse.employee())
        .unwrap();
    assert_eq!(mine, vec![claim.clone()]);
    let m = fx.hscn(manager.username());
    assert_eq!(
        fx.esr.competence_claims_to_approve(m).unwrap(),
        vec![claim.clone()]
    );
    assert!(fx.esr.competence_claims_to_approve(n).unwrap().is_empty());

    // Wrong person: the learner themselves, someone else; wrong channel; unknown claim.
    refused(&fx, "not_the_decider", || {
        fx.esr.approve_competence_claim(n, &claim.id)
    });
    let other = fx.staff("Olly", "Other", "Ward 6", None);
    let o = fx.hscn(other.username());
    refused(&fx, "not_the_decider", || {
        fx.esr.approve_competence_claim(o, &claim.id)
    });
    refused(&fx, "record_not_visible", || {
        fx.esr
            .competences_awaiting_approval(&Actor::Session(o), v, nurse.employee())
    });
    refused(&fx, "unknown_workflow_item", || {
        fx.esr
            .approve_competence_claim(m, &CompetenceClaimId::from_bytes([1; 16]))
    });

    // The line manager approves it: recorded, and counted at once.
    let approved = fx.esr.approve_competence_claim(m, &claim.id).unwrap();
    assert!(
        matches!(approved.state, ClaimState::Approved { ref by, .. } if by == manager.username())
    );
    assert_eq!(percent(&fx, &nurse), Some(100.0));
    assert!(
        fx.esr
            .competences_awaiting_approval(&system(), v, nurse.employee())
            .unwrap()
            .is_empty()
    );
    refused(&fx, "workflow_state", || {
        fx.esr.reject_competence_claim(m, &claim.id, "late")
    });
    assert_eq!(steps(&fx, "competence claim"), ["claimed", "approved"]);
    fx.esr.verify_audit(v).unwrap();
}

#[test]
fn a_learning_administrator_rejects_a_claim_and_the_reason_is_kept() {
    let fx = Fixture::builder()
        .settings(settings(true, true, true))
        .build();
    let v = fx.vpd();
    let (_, nurse) = ward(&fx);
    let la = fx.staff("Lara", "Learning", "Trust HQ", None);
    fx.grant(
        la.username(),
        Urp::LocalLearningAdministration,
        GrantScope::WholeTrust,
    );
    let n = fx.hscn(nurse.username());
    let claim = fx
        .esr
        .claim_competence(n, claim_of(&fire()), "certificate lost")
        .unwrap();
    // A claim dated in the future, or of a competence not in the catalogue, is refused.
    let mut future = claim_of(&fire());
    future.achieved = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    refused(&fx, "invalid_input", || {
        fx.esr.claim_competence(n, future, "x")
    });
    let unknown = claim_of(&"297|LOCAL|No such course|".parse().unwrap());
    refused(&fx, "unknown_competence", || {
        fx.esr.claim_competence(n, unknown, "x")
    });
    // Learning administration is on the NHS network only: not over the internet, upgraded
    // or not.
    let web = fx.internet(la.username()).unwrap().id;
    refused(&fx, "not_the_decider", || {
        fx.esr
            .reject_competence_claim(web, &claim.id, "no evidence")
    });
    fx.give_mobile(&la);
    fx.upgrade(web).unwrap();
    assert!(fx.esr.competence_claims_to_approve(web).unwrap().is_empty());
    refused(&fx, "not_the_decider", || {
        fx.esr
            .reject_competence_claim(web, &claim.id, "no evidence")
    });
    let hscn = fx.hscn(la.username());
    assert_eq!(fx.esr.competence_claims_to_approve(hscn).unwrap().len(), 1);
    let web = hscn;
    let rejected = fx
        .esr
        .reject_competence_claim(web, &claim.id, "no certificate: attend the course")
        .unwrap();
    let all = fx
        .esr
        .competence_claims_of(&Actor::Session(n), v, nurse.employee())
        .unwrap();
    assert_eq!(all, vec![rejected.clone()]);
    assert!(
        matches!(&all[0].state, ClaimState::Rejected { reason, .. } if reason == "no certificate: attend the course")
    );
    assert!(
        fx.esr
            .competence_records(&system(), v, nurse.employee())
            .unwrap()
            .is_empty()
    );
    refused(&fx, "workflow_state", || {
        fx.esr.approve_competence_claim(web, &claim.id)
    });
}

#[test]
fn racing_approval_and_rejection_of_a_claim_have_exactly_one_winner() {
    for round in 0..20 {
        let fx = Fixture::builder().seed(round).build();
        let (manager, nurse) = ward(&fx);
        let claim = fx
            .esr
            .claim_competence(
                fx.hscn(nurse.username()),
                claim_of(&fire()),
                "previous trust",
            )
            .unwrap();
        let sessions: Vec<_> = (0..4).map(|_| fx.hscn(manager.username())).collect();
        let barrier = Barrier::new(sessions.len());
        let results: Vec<Result<CompetenceClaim>> = std::thread::scope(|s| {
            let hs: Vec<_> = sessions
                .iter()
                .enumerate()
                .map(|(i, &session)| {
                    let (esr, barrier, id) = (&fx.esr, &barrier, claim.id);
                    s.spawn(move || {
                        barrier.wait();
                        if i % 2 == 0 {
                            esr.approve_competence_claim(session, &id)
                        } else {
                            esr.reject_competence_claim(session, &id, "race")
                        }
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        let records = fx
            .esr
            .competence_records(&system(), fx.vpd(), nurse.employee())
            .unwrap();
        let approved = matches!(winners[0].state, ClaimState::Approved { .. });
        assert_eq!(records.len(), usize::from(approved), "round {round}");
    }
}

#[test]
fn the_workflow_records_survive_the_store_contract() {
    // Every workflow record reads back as written, through every read method.
    let fx = Fixture::new();
    let v = fx.vpd();
    let (_, nurse) = ward(&fx);
    let r = fx
        .esr
        .request_access(
            &system(),
            NewAccessRequest::new(nurse.username().clone(), SSS, "cover"),
        )
        .unwrap();
    let c = fx
        .esr
        .claim_competence(fx.hscn(nurse.username()), claim_of(&fire()), "x")
        .unwrap();
    let review = fx
        .esr
        .open_urp_review(fx.hscn(fx.t().admin_a.username()))
        .unwrap();
    fx.esr
        .store()
        .transaction(|tx| {
            assert_eq!(tx.access_request(v, &r.id)?, Some(r.clone()));
            assert_eq!(tx.competence_claim(v, &c.id)?, Some(c.clone()));
            assert_eq!(tx.urp_review(v, &review.id)?, Some(review.clone()));
            // Another trust sees none of them.
            let other = vpd("999");
            assert_eq!(tx.access_request(other, &r.id)?, None);
            assert!(tx.access_requests(other)?.is_empty());
            assert!(tx.urp_reviews(other)?.is_empty());
            assert!(tx.competence_claims(other)?.is_empty());
            Ok(())
        })
        .unwrap();
}

// ----- Through the notifications worklist (wf-notify) ------------------------------------------

fn open_of(fx: &Fixture, session: SessionId, kind: NotificationType) -> Vec<Notification> {
    fx.esr
        .notifications(
            session,
            NotificationFilter {
                open_only: true,
                kind: Some(kind),
            },
        )
        .unwrap()
        .into_iter()
        .map(|v| v.notification)
        .collect()
}

#[test]
fn the_line_manager_authorises_a_request_from_their_worklist() {
    let fx = Fixture::new();
    let (manager, nurse) = ward(&fx);
    let raise = |urp| {
        fx.esr
            .request_access(
                &system(),
                NewAccessRequest::new(nurse.username().clone(), urp, "cover"),
            )
            .unwrap()
    };
    let r = raise(SSS);
    let m = fx.hscn(manager.username());
    let items = open_of(&fx, m, NotificationType::AccessRequestToAuthorise);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].expires_at, Some(r.expires_at));
    // The nurse cannot act on the manager's notification.
    let n = fx.hscn(nurse.username());
    refused(&fx, "notification_not_yours", || {
        fx.esr
            .act_on_notification(n, items[0].id, NotificationAction::Approve)
    });
    let view = fx
        .esr
        .act_on_notification(m, items[0].id, NotificationAction::Approve)
        .unwrap();
    assert_eq!(view.notification.state, NotificationState::Actioned);
    let r = fx.esr.access_request(&system(), fx.vpd(), &r.id).unwrap();
    assert!(matches!(r.state, AccessRequestState::Authorised { .. }));
    // A request decided directly closes its notification.
    let other = raise(Urp::SupervisorSelfServiceLimitedAccess);
    assert_eq!(
        open_of(&fx, m, NotificationType::AccessRequestToAuthorise).len(),
        1
    );
    fx.esr
        .reject_access_request(m, &other.id, "not needed")
        .unwrap();
    assert!(open_of(&fx, m, NotificationType::AccessRequestToAuthorise).is_empty());
    // The grant tells the nurse.
    let admin = fx.hscn(fx.t().admin_a.username());
    fx.esr.grant_access_request(admin, &r.id).unwrap();
    assert_eq!(open_of(&fx, n, NotificationType::UrpGranted).len(), 1);
    fx.esr.verify_audit(fx.vpd()).unwrap();
}

#[test]
fn a_manager_rejects_a_claim_from_their_worklist_and_the_review_is_on_the_administrators() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let (manager, nurse) = ward(&fx);
    let n = fx.hscn(nurse.username());
    let claim = fx
        .esr
        .claim_competence(n, claim_of(&fire()), "previous trust")
        .unwrap();
    let m = fx.hscn(manager.username());
    let items = open_of(&fx, m, NotificationType::CompetenceToApprove);
    assert_eq!(items.len(), 1);
    fx.esr
        .act_on_notification(
            m,
            items[0].id,
            NotificationAction::Reject {
                reason: "no certificate".into(),
            },
        )
        .unwrap();
    let all = fx
        .esr
        .competence_claims_of(&system(), v, nurse.employee())
        .unwrap();
    assert_eq!(all[0].id, claim.id);
    assert!(
        matches!(&all[0].state, ClaimState::Rejected { reason, .. } if reason == "no certificate")
    );

    // The URP review sits on both administrators' worklists until it completes.
    let (sa, sb) = (
        fx.hscn(fx.t().admin_a.username()),
        fx.hscn(fx.t().admin_b.username()),
    );
    let review = fx.esr.open_urp_review(sa).unwrap();
    for s in [sa, sb] {
        assert_eq!(open_of(&fx, s, NotificationType::UrpReviewDue).len(), 1);
    }
    for item in &review.items {
        let who = if item.holder == *fx.t().admin_a.username() {
            sb
        } else {
            sa
        };
        fx.esr
            .confirm_urp_grant(who, &review.id, &item.grant)
            .unwrap();
    }
    for s in [sa, sb] {
        assert!(open_of(&fx, s, NotificationType::UrpReviewDue).is_empty());
    }
    fx.esr.verify_audit(v).unwrap();
}
