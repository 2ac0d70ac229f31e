//! User Responsibility Profiles (DOMAIN.md, "User Responsibility Profiles"): bootstrapping the
//! first user administrators, who may grant what with whose approval, the two-administrator
//! rule, and the URP audit report.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use esr_core::{access::*, audit::*, org::*, people::*, urp::*, values::*, *};
use proptest::prelude::*;
use std::collections::BTreeSet;

fn request(holder: &Username, urp: Urp, approval: Approval) -> GrantRequest {
    GrantRequest {
        holder: holder.clone(),
        urp,
        scope: GrantScope::WholeTrust,
        approval,
        reason: "covering the ward".into(),
    }
}

fn by_manager(m: &Staff) -> Approval {
    Approval::LineManager {
        verified_by: m.employee().clone(),
    }
}

fn too_few(remaining: usize) -> Error {
    Error::TooFewUserAdministrators { remaining }
}

// ----- bootstrap -----------------------------------------------------------------------------

#[test]
fn bootstrap_needs_two_distinct_active_users_and_works_once() {
    let (esr, _clock) = service(1, 5);
    let v = vpd("297");
    esr.create_trust(v, "Trust 297", TrustSettings::default())
        .unwrap();
    esr.create_trust(vpd("999"), "Trust 999", TrustSettings::default())
        .unwrap();
    let add = |v: VpdCode, e: &str, g: &str, f: &str| {
        esr.add_person(
            &system(),
            v,
            NewPerson {
                employee_number: emp(e),
                name: PersonName::new(g, f).unwrap(),
                date_of_birth: NaiveDate::from_ymd_opt(1980, 6, 1).unwrap(),
                recruitment_email: format!("p{e}@nhs.net").parse().unwrap(),
            },
        )
        .unwrap()
        .username
    };
    let a = add(v, "10000001", "Alice", "Adams");
    let b = add(v, "10000002", "Bernard", "Brown");
    let c = add(v, "10000003", "Chris", "Cole");
    let x = add(vpd("999"), "10000001", "Xavier", "Xu");
    esr.suspend_account(&system(), &c, "investigation").unwrap();

    let state = || {
        (
            esr.audit_trail(v, 1, usize::MAX).unwrap(),
            [&a, &b, &c].map(|u| esr.grants_of(u).unwrap()),
        )
    };
    let before = state();
    let refusals = [
        (vec![], too_few(0)),
        (vec![a.clone()], too_few(1)),
        (vec![a.clone(), a.clone()], too_few(1)),
        (
            vec![a.clone(), c.clone()],
            Error::AccountSuspended(c.clone()),
        ),
        (
            vec![a.clone(), x.clone()],
            Error::CrossTrust {
                what: format!("user {x}"),
                expected: v,
                found: vpd("999"),
            },
        ),
    ];
    for (holders, expected) in refusals {
        assert_eq!(
            esr.bootstrap_user_administrators(v, &holders, "go-live"),
            Err(expected),
            "{holders:?}"
        );
        assert!(state() == before, "{holders:?} changed something");
    }

    let grants = esr
        .bootstrap_user_administrators(v, &[b.clone(), a.clone(), b.clone()], "go-live")
        .unwrap();
    let holders: BTreeSet<Username> = grants.iter().map(|g| g.holder.clone()).collect();
    assert_eq!(holders, BTreeSet::from([a.clone(), b.clone()]));
    for g in &grants {
        assert_eq!(g.urp, Urp::LocalHrmsSystemsAndUserAdministration);
        assert_eq!(g.scope, GrantScope::WholeTrust);
        assert_eq!(g.granted_by, Grantor::System("trust set-up".into()));
        assert_eq!(g.reason, "go-live");
        assert_eq!(g.approval, Approval::NotRequired);
        assert_eq!(g.granted_at, start());
    }
    let granted: Vec<_> = esr
        .audit_trail(v, 1, usize::MAX)
        .unwrap()
        .into_iter()
        .filter(|e| matches!(&e.event, AuditEvent::UrpGranted { urp, .. } if *urp == Urp::LocalHrmsSystemsAndUserAdministration))
        .collect();
    assert_eq!(granted.len(), 2);

    // Works once.
    let before = state();
    assert_eq!(
        esr.bootstrap_user_administrators(v, &[c.clone(), a.clone()], "again"),
        Err(Error::AlreadyBootstrapped(v))
    );
    assert!(state() == before);
    // The other trust is still its own: it can be bootstrapped.
    let y = add(vpd("999"), "10000002", "Yan", "Yates");
    esr.bootstrap_user_administrators(vpd("999"), &[x, y], "go-live")
        .unwrap();
}

// ----- who may grant -------------------------------------------------------------------------

#[test]
fn granting_needs_an_hscn_session_of_a_user_administrator() {
    let s = settings(true, false, false);
    let fx = Fixture::builder().settings(s).build();
    let v = fx.vpd();
    let m = fx.staff("Mia", "Manning", "Medicine", None);
    let jo = fx.staff("Jo", "Smith", "Ward 5", Some(&m));
    let req = || request(jo.username(), Urp::SupervisorSelfService, by_manager(&m));

    let admin_web = fx.internet(fx.t().admin_a.username()).unwrap().id;
    assert_refused(
        &fx,
        v,
        &Error::NotPermitted {
            function: Function::AssignUrps,
            denial: Denial::SmartcardRequired,
        },
        || fx.esr.grant_urp(admin_web, req()),
    );
    let m_hscn = fx.hscn(m.username());
    assert_refused(
        &fx,
        v,
        &Error::NotPermitted {
            function: Function::AssignUrps,
            denial: Denial::NotGranted,
        },
        || fx.esr.grant_urp(m_hscn, req()),
    );
    fx.esr.log_out(fx.t().session_b).unwrap();
    assert_refused(&fx, v, &Error::SessionEnded(fx.t().session_b), || {
        fx.esr.grant_urp(fx.t().session_b, req())
    });

    fx.clock.advance(TimeDelta::minutes(20));
    let g = fx.esr.grant_urp(fx.t().session_a, req()).unwrap();
    assert_eq!(&g.holder, jo.username());
    assert_eq!(g.vpd, v);
    assert_eq!(g.urp, Urp::SupervisorSelfService);
    assert_eq!(g.scope, GrantScope::WholeTrust);
    assert_eq!(
        g.granted_by,
        Grantor::User(fx.t().admin_a.username().clone())
    );
    assert_eq!(g.granted_at, start() + TimeDelta::minutes(20));
    assert_eq!(g.reason, "covering the ward");
    assert_eq!(g.approval, by_manager(&m));
    assert!(g.revoked.is_none());
    assert_eq!(
        fx.esr.held_urps(jo.username()).unwrap(),
        BTreeSet::from([Urp::EmployeeSelfService, Urp::SupervisorSelfService])
    );
    let last = fx.audit(v).pop().unwrap();
    assert_eq!(
        last.actor,
        AuditActor::User {
            username: fx.t().admin_a.username().clone(),
            session: fx.t().session_a.audit_ref(),
        }
    );
    assert_eq!(
        last.event,
        AuditEvent::UrpGranted {
            grant: g.id,
            holder: jo.username().clone(),
            urp: Urp::SupervisorSelfService,
            scope: "whole trust".into(),
            reason: "covering the ward".into(),
            approval: format!("line manager {}", m.employee()),
        }
    );
    // Held already.
    assert_refused(
        &fx,
        v,
        &Error::AlreadyHeld {
            username: jo.username().clone(),
            urp: Urp::SupervisorSelfService,
        },
        || fx.esr.grant_urp(fx.t().session_a, req()),
    );
}

#[test]
fn nobody_grants_urps_to_themselves() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let a = fx.t().admin_a.clone();
    let e = fx
        .esr
        .grant_urp(
            fx.t().session_a,
            GrantRequest {
                holder: a.username().clone(),
                urp: Urp::PortalAdministration,
                scope: GrantScope::WholeTrust,
                approval: Approval::CaldicottException {
                    approved_by: fx.t().admin_b.employee().clone(),
                    reference: "CG-1".into(),
                },
                reason: "self".into(),
            },
        )
        .unwrap_err();
    assert!(
        e == Error::ApprovalRefused(ApprovalRefusal::SelfGrant),
        "{e:?}"
    );
    assert_refused(&fx, v, &e, || {
        fx.esr.grant_urp(
            fx.t().session_a,
            request(a.username(), Urp::ExternalLearner, Approval::NotRequired),
        )
    });
    // The other administrator may.
    fx.esr
        .grant_urp(
            fx.t().session_b,
            request(a.username(), Urp::ExternalLearner, Approval::NotRequired),
        )
        .unwrap();
}

#[test]
fn grants_never_cross_trusts() {
    let fx = Fixture::builder().trust("297").trust("999").build();
    let other = fx.trust(vpd("999")).admin_a.clone();
    let e = Error::CrossTrust {
        what: format!("session of {}", fx.t().admin_a.username()),
        expected: vpd("999"),
        found: vpd("297"),
    };
    for v in [vpd("297"), vpd("999")] {
        assert_refused(&fx, v, &e, || {
            fx.esr.grant_urp(
                fx.t().session_a,
                request(
                    other.username(),
                    Urp::ExternalLearner,
                    Approval::NotRequired,
                ),
            )
        });
        assert_refused(&fx, v, &e, || {
            fx.esr.revoke_urp(
                fx.t().session_a,
                other.username(),
                Urp::EmployeeSelfService,
                "x",
            )
        });
    }
}

// ----- approvals -----------------------------------------------------------------------------

#[test]
fn extra_access_needs_the_grantees_own_line_manager() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let director = fx.staff("Dana", "Director", "Medicine", None);
    let m = fx.staff("Mia", "Manning", "Ward 5", Some(&director));
    let jo = fx.staff("Jo", "Smith", "Ward 5", Some(&m));
    let peer = fx.staff("Pete", "Peer", "Ward 5", Some(&m));
    let loner = fx.staff("Lou", "Loner", "Ward 6", None);
    let admin = fx.t().session_a;
    let urp = Urp::ManagerSelfServicePayrollApprovalsRequired;

    // Not a line manager: a peer, the manager's own manager, the grantee themselves.
    for wrong in [&peer, &director, &jo] {
        let e = fx
            .esr
            .grant_urp(admin, request(jo.username(), urp, by_manager(wrong)))
            .unwrap_err();
        assert!(
            matches!(
                &e,
                Error::ApprovalRefused(ApprovalRefusal::NotTheLineManager { .. })
            ),
            "{e:?}"
        );
        assert_refused(&fx, v, &e, || {
            fx.esr
                .grant_urp(admin, request(jo.username(), urp, by_manager(wrong)))
        });
    }
    // Extra access never goes without approval.
    let e = fx
        .esr
        .grant_urp(admin, request(jo.username(), urp, Approval::NotRequired))
        .unwrap_err();
    assert!(
        matches!(
            &e,
            Error::ApprovalRefused(ApprovalRefusal::LineManagerVerificationRequired { .. })
        ),
        "{e:?}"
    );
    // Nobody on record to verify it.
    let e = fx
        .esr
        .grant_urp(admin, request(loner.username(), urp, by_manager(&m)))
        .unwrap_err();
    assert!(
        matches!(
            &e,
            Error::ApprovalRefused(ApprovalRefusal::NoLineManager { .. })
        ),
        "{e:?}"
    );

    // The actual line manager.
    let g = fx
        .esr
        .grant_urp(admin, request(jo.username(), urp, by_manager(&m)))
        .unwrap();
    assert_eq!(g.approval, by_manager(&m));
    // A Caldicott guardian's exception, for someone with no line manager.
    let caldicott = Approval::CaldicottException {
        approved_by: director.employee().clone(),
        reference: "CG-2026-014".into(),
    };
    let g = fx
        .esr
        .grant_urp(admin, request(loner.username(), urp, caldicott.clone()))
        .unwrap();
    assert_eq!(g.approval, caldicott);
    assert!(matches!(
        fx.audit(v).pop().unwrap().event,
        AuditEvent::UrpGranted { approval, .. }
            if approval == format!("Caldicott exception CG-2026-014 by {}", director.employee())
    ));
    // ...whose guardian must exist.
    let ghost = Approval::CaldicottException {
        approved_by: emp("99999999"),
        reference: "CG-X".into(),
    };
    assert_refused(
        &fx,
        v,
        &Error::UnknownPerson {
            vpd: v,
            employee: emp("99999999"),
        },
        || {
            fx.esr.grant_urp(
                admin,
                request(peer.username(), Urp::SupervisorSelfService, ghost),
            )
        },
    );
    // Employee-level URPs need no approval.
    fx.esr
        .grant_urp(
            admin,
            request(
                loner.username(),
                Urp::EmployeeSelfServiceLimitedAccess,
                Approval::NotRequired,
            ),
        )
        .unwrap();
}

#[test]
fn a_caldicott_exception_is_not_approved_by_the_grantee() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let own = GrantRequest {
        holder: jo.username().clone(),
        urp: Urp::LocalHrAdministration,
        scope: GrantScope::WholeTrust,
        approval: Approval::CaldicottException {
            approved_by: jo.employee().clone(),
            reference: "CG-SELF".into(),
        },
        reason: "I approved it myself".into(),
    };
    let before = fx.snapshot(v);
    let r = fx.esr.grant_urp(fx.t().session_a, own);
    assert!(matches!(r, Err(Error::ApprovalRefused(_))), "{r:?}");
    assert!(fx.snapshot(v) == before);
}

#[test]
fn a_manager_of_any_of_the_grantees_assignments_may_verify() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let m = fx.staff("Mia", "Manning", "Ward 5", None);
    let n = fx.staff("Nat", "Nolan", "Theatres", None);
    let jo = fx.staff("Jo", "Smith", "Ward 5", Some(&m));
    fx.esr
        .add_assignment(
            &system(),
            v,
            NewAssignment {
                number: format!("{}-2", jo.number()).parse().unwrap(),
                employee_number: jo.employee().clone(),
                title: "Bank Nurse".into(),
                position: "297|Bank Nurse|".parse().unwrap(),
                org_unit: unit("Theatres"),
                supervisor: Some(n.number().clone()),
            },
        )
        .unwrap();
    let admin = fx.t().session_a;
    fx.esr
        .grant_urp(
            admin,
            request(jo.username(), Urp::SupervisorSelfService, by_manager(&n)),
        )
        .unwrap();
    fx.esr
        .grant_urp(
            admin,
            request(
                jo.username(),
                Urp::SupervisorSelfServiceLimitedAccess,
                by_manager(&m),
            ),
        )
        .unwrap();
}

#[test]
fn administrator_self_service_needs_named_organisation_units() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let m = fx.staff("Mia", "Manning", "Medicine", None);
    let jo = fx.staff("Jo", "Smith", "Ward 5", Some(&m));
    let admin = fx.t().session_a;
    for urp in [
        Urp::AdministratorSelfServiceApprovalsRequired,
        Urp::AdministratorSelfServiceApprovalsNotRequired,
    ] {
        let with = |scope: GrantScope| GrantRequest {
            scope,
            ..request(jo.username(), urp, by_manager(&m))
        };
        for scope in [
            GrantScope::WholeTrust,
            GrantScope::OrgUnits(BTreeSet::new()),
        ] {
            let e = fx.esr.grant_urp(admin, with(scope.clone())).unwrap_err();
            assert!(
                matches!(e, Error::InvalidInput { what: "scope", .. }),
                "{scope:?}: {e:?}"
            );
            assert_refused(&fx, v, &e, || fx.esr.grant_urp(admin, with(scope.clone())));
        }
        assert_refused(
            &fx,
            v,
            &Error::UnknownOrgUnit {
                vpd: v,
                unit: unit("Pharmacy"),
            },
            || {
                fx.esr
                    .grant_urp(admin, with(units(&["Medicine", "Pharmacy"])))
            },
        );
    }
    let g = fx
        .esr
        .grant_urp(
            admin,
            GrantRequest {
                scope: units(&["Ward 6", "Medicine"]),
                ..request(
                    jo.username(),
                    Urp::AdministratorSelfServiceApprovalsNotRequired,
                    by_manager(&m),
                )
            },
        )
        .unwrap();
    assert_eq!(g.scope, units(&["Medicine", "Ward 6"]));
    assert!(matches!(
        fx.audit(v).pop().unwrap().event,
        AuditEvent::UrpGranted { scope, .. } if scope == "Medicine; Ward 6"
    ));
    // Other URPs may be scoped to units too.
    fx.esr
        .grant_urp(
            admin,
            GrantRequest {
                scope: units(&["Surgery"]),
                ..request(jo.username(), Urp::LocalHrAdministration, by_manager(&m))
            },
        )
        .unwrap();
}

// ----- revocation and the two-administrator rule --------------------------------------------

#[test]
fn revoking_records_who_when_and_why() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    fx.grant(jo.username(), Urp::ExternalLearner, GrantScope::WholeTrust);
    fx.clock.advance(TimeDelta::days(1));
    // The administrator's session of a day ago has expired: a new one.
    let session_b = fx.hscn(fx.t().admin_b.username());
    let g = fx
        .esr
        .revoke_urp(
            session_b,
            jo.username(),
            Urp::ExternalLearner,
            "course over",
        )
        .unwrap();
    let r = g.revoked.as_ref().unwrap();
    assert_eq!(r.by, Grantor::User(fx.t().admin_b.username().clone()));
    assert_eq!(r.at, start() + TimeDelta::days(1));
    assert_eq!(r.reason, "course over");
    assert_eq!(
        fx.audit(v).pop().unwrap().event,
        AuditEvent::UrpRevoked {
            grant: g.id,
            holder: jo.username().clone(),
            urp: Urp::ExternalLearner,
            reason: "course over".into(),
        }
    );
    // The history keeps the revoked grant.
    let all = fx.esr.grants_of(jo.username()).unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().any(|x| x.id == g.id && !x.is_active()));
    // Revoking what is not held.
    assert_refused(
        &fx,
        v,
        &Error::NotHeld {
            username: jo.username().clone(),
            urp: Urp::ExternalLearner,
        },
        || {
            fx.esr
                .revoke_urp(session_b, jo.username(), Urp::ExternalLearner, "again")
        },
    );
    // And it may be granted again afterwards.
    fx.grant(jo.username(), Urp::ExternalLearner, GrantScope::WholeTrust);
}

#[test]
fn fewer_than_two_active_user_administrators_is_refused() {
    let s = settings(true, false, false);
    let fx = Fixture::builder().settings(s).build();
    let v = fx.vpd();
    let (a, b) = (fx.t().admin_a.clone(), fx.t().admin_b.clone());
    let hrms = Urp::LocalHrmsSystemsAndUserAdministration;
    let (sa, sb) = (fx.t().session_a, fx.t().session_b);

    // Two: neither can be removed, by any route or any actor.
    for (target, session) in [(&a, sb), (&b, sa), (&a, sa)] {
        let u = target.username();
        assert_refused(&fx, v, &too_few(1), || {
            fx.esr.revoke_urp(session, u, hrms, "x")
        });
        for actor in [Actor::Session(session), system()] {
            assert_refused(&fx, v, &too_few(1), || {
                fx.esr.suspend_account(&actor, u, "x")
            });
            assert_refused(&fx, v, &too_few(1), || fx.esr.end_account(&actor, u, "x"));
        }
    }

    // A locked administrator still counts (a lock is cleared by self-service).
    for _ in 0..5 {
        fx.esr
            .log_in_with_password(&b.username().to_string(), &Password::new("wrong password"))
            .unwrap_err();
    }
    assert_eq!(
        fx.esr.account(b.username()).unwrap().state,
        AccountState::Locked
    );
    assert_refused(&fx, v, &too_few(1), || {
        fx.esr.suspend_account(&system(), a.username(), "x")
    });
    assert_refused(&fx, v, &too_few(1), || {
        fx.esr.end_account(&system(), b.username(), "x")
    });
    fx.esr
        .unlock_account(&Actor::Session(sa), b.username(), "desk")
        .unwrap();

    // With a third, one may go; then the rule binds again.
    let c = fx.staff("Cara", "Cole", "Trust HQ", None);
    fx.grant(c.username(), hrms, GrantScope::WholeTrust);
    fx.esr
        .revoke_urp(sa, b.username(), hrms, "moved on")
        .unwrap();
    assert_refused(&fx, v, &too_few(1), || {
        fx.esr.revoke_urp(sa, c.username(), hrms, "x")
    });

    // A suspended holder does not count, and revoking theirs is not blocked.
    fx.grant(b.username(), hrms, GrantScope::WholeTrust);
    fx.esr
        .suspend_account(&system(), c.username(), "investigation")
        .unwrap();
    assert_refused(&fx, v, &too_few(1), || {
        fx.esr.revoke_urp(sa, b.username(), hrms, "x")
    });
    fx.esr
        .revoke_urp(sa, c.username(), hrms, "investigation")
        .unwrap();
    // A suspended person is not given it either.
    assert_refused(
        &fx,
        v,
        &Error::AccountSuspended(c.username().clone()),
        || {
            fx.esr.grant_urp(
                sa,
                GrantRequest {
                    holder: c.username().clone(),
                    urp: hrms,
                    scope: GrantScope::WholeTrust,
                    approval: Approval::CaldicottException {
                        approved_by: b.employee().clone(),
                        reference: "CG-1".into(),
                    },
                    reason: "x".into(),
                },
            )
        },
    );
    assert_eq!(active_user_administrators(&fx, v), 2);
}

/// Holders of Local HRMS Systems and User Administration whose account is active or locked,
/// counted from the public API.
fn active_user_administrators(fx: &Fixture, v: VpdCode) -> usize {
    fx.esr
        .people(v)
        .unwrap()
        .iter()
        .filter(|p| {
            let held = fx.esr.held_urps(&p.username).unwrap();
            let state = fx.esr.account(&p.username).unwrap().state;
            held.contains(&Urp::LocalHrmsSystemsAndUserAdministration)
                && matches!(state, AccountState::Active | AccountState::Locked)
        })
        .count()
}

// ----- the URP audit report ------------------------------------------------------------------

#[test]
fn the_urp_audit_report_lists_active_grants_and_exports_safe_csv() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let m = fx.staff("Mia", "Manning", "Medicine", None);
    let jo = fx.staff("Jo", "Smith", "Ward 5", Some(&m));
    fx.clock.advance(TimeDelta::minutes(20));
    fx.esr
        .grant_urp(
            fx.t().session_a,
            GrantRequest {
                reason: "=SUM(A1,A2) \"urgent\"".into(),
                ..request(jo.username(), Urp::SupervisorSelfService, by_manager(&m))
            },
        )
        .unwrap();
    // Revoked grants are not in the report.
    fx.grant(m.username(), Urp::ExternalLearner, GrantScope::WholeTrust);
    fx.revoke(m.username(), Urp::ExternalLearner);

    // Only a user administrator produces it.
    let jo_s = fx.hscn(jo.username());
    assert_refused(
        &fx,
        v,
        &Error::NotPermitted {
            function: Function::UrpAuditReport,
            denial: Denial::NotGranted,
        },
        || fx.esr.urp_audit_report(&Actor::Session(jo_s), v),
    );

    let rows = fx
        .esr
        .urp_audit_report(&Actor::Session(fx.t().session_a), v)
        .unwrap();
    let summary: Vec<(String, Urp, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.username.to_string(),
                r.urp,
                r.granted_by.clone(),
                r.reason.clone(),
            )
        })
        .collect();
    let ess = Urp::EmployeeSelfService;
    let hrms = Urp::LocalHrmsSystemsAndUserAdministration;
    let s = |x: &str| x.to_owned();
    assert_eq!(
        summary,
        vec![
            (s("297AADAMS01"), ess, s("system: test"), s("new starter")),
            (
                s("297AADAMS01"),
                hrms,
                s("system: trust set-up"),
                s("trust go-live")
            ),
            (s("297BBROWN01"), ess, s("system: test"), s("new starter")),
            (
                s("297BBROWN01"),
                hrms,
                s("system: trust set-up"),
                s("trust go-live")
            ),
            (
                s("297GGUARDIAN01"),
                ess,
                s("system: test"),
                s("new starter")
            ),
            (s("297JSMITH01"), ess, s("system: test"), s("new starter")),
            (
                s("297JSMITH01"),
                Urp::SupervisorSelfService,
                s("297AADAMS01"),
                s("=SUM(A1,A2) \"urgent\"")
            ),
            (s("297MMANNING01"), ess, s("system: test"), s("new starter")),
        ]
    );
    let jo_row = &rows[6];
    assert_eq!(jo_row.employee_number, *jo.employee());
    assert_eq!(jo_row.name, "Smith, Jo");
    assert_eq!(jo_row.account_state, AccountState::Active);
    assert_eq!(jo_row.scope, "Whole trust");
    assert_eq!(jo_row.held_since, start() + TimeDelta::minutes(20));
    assert_eq!(jo_row.approval, format!("line manager {}", m.employee()));
    assert_eq!(
        fx.audit(v).pop().unwrap().event,
        AuditEvent::ReportProduced {
            report: "URP audit report (8 rows)".into()
        }
    );

    let csv = urp_report_csv(&rows).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 9);
    assert_eq!(
        lines[0],
        "Username,Employee Number,Name,Account State,URP,Scope,Held Since,Granted By,Reason,Approval,\
         Last Reviewed,Review"
    );
    assert_eq!(
        lines[2],
        "297AADAMS01,29700001,\"Adams, Alice\",active,Local HRMS Systems and User Administration,\
         Whole trust,2026-11-22T09:00:00Z,system: trust set-up,trust go-live,not required,,\
         due 22-May-2027"
    );
    assert_eq!(
        lines[7],
        "297JSMITH01,29700005,\"Smith, Jo\",active,Supervisor Self Service,Whole trust,\
         2026-11-22T09:20:00Z,297AADAMS01,\"'=SUM(A1,A2) \"\"urgent\"\"\",line manager 29700004,,\
         due 22-May-2027"
    );
}

#[test]
fn the_csv_defuses_every_formula_prefix_in_free_text() {
    let row = |text: &str| UrpReportRow {
        username: user("297JSMITH01"),
        employee_number: emp("29700004"),
        name: text.into(),
        account_state: AccountState::Suspended,
        urp: Urp::PortalAdministration,
        scope: text.into(),
        held_since: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
        granted_by: text.into(),
        reason: text.into(),
        approval: text.into(),
        last_reviewed: None,
        review: text.into(),
    };
    for (text, cell) in [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        ("a=1", "a=1"),
    ] {
        let csv = urp_report_csv(&[row(text)]).unwrap();
        let line = csv.lines().nth(1).unwrap();
        let c = cell;
        assert_eq!(
            line,
            format!(
                "297JSMITH01,29700004,{c},suspended,Portal Administration,{c},\
                 2026-01-02T03:04:05Z,{c},{c},{c},,{c}"
            ),
            "{text:?}"
        );
    }
    // A carriage return forces quoting as well as the prefix.
    let csv = urp_report_csv(&[row("\r=1")]).unwrap();
    assert!(csv.contains(",\"'\r=1\","), "{csv:?}");
    // An empty report is just the header.
    assert_eq!(
        urp_report_csv(&[]).unwrap(),
        "Username,Employee Number,Name,Account State,URP,Scope,Held Since,Granted By,Reason,Approval,\
         Last Reviewed,Review\n"
    );
}

// ----- the two-administrator rule, by property ----------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Op {
    Grant(usize),
    Revoke(usize),
    Suspend(usize),
    End(usize),
    Reinstate(usize),
    Lock(usize),
    Unlock(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let i = 0usize..5;
    prop_oneof![
        i.clone().prop_map(Op::Grant),
        i.clone().prop_map(Op::Revoke),
        i.clone().prop_map(Op::Suspend),
        i.clone().prop_map(Op::End),
        i.clone().prop_map(Op::Reinstate),
        i.clone().prop_map(Op::Lock),
        i.prop_map(Op::Unlock),
    ]
}

/// What the model expects of an operation.
#[derive(Debug, PartialEq)]
enum Outcome {
    Applied,
    TooFew,
    Other,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_urp_and_account_changes_never_leave_fewer_than_two_user_administrators(
        ops in proptest::collection::vec(op(), 1..25),
    ) {
        let s = settings(true, false, false);
        let fx = Fixture::builder().settings(s).build();
        let v = fx.vpd();
        let hrms = Urp::LocalHrmsSystemsAndUserAdministration;
        let mut pool = vec![fx.t().admin_a.clone(), fx.t().admin_b.clone()];
        for (g, f) in [("Cara", "Cole"), ("Dev", "Dunn"), ("Eli", "Ebb")] {
            pool.push(fx.staff(g, f, "Trust HQ", None));
        }
        // The model: each person's state and whether they hold the URP.
        let mut state = [AccountState::Active; 5];
        let mut admin = [true, true, false, false, false];
        let counts = |st: AccountState| matches!(st, AccountState::Active | AccountState::Locked);

        for op in ops {
            let active_admins = (0..5).filter(|&j| admin[j] && counts(state[j])).count();
            // An HSCN session of an active administrator other than `i`.
            let grantor = |i: usize| {
                (0..5)
                    .find(|&j| j != i && admin[j] && state[j] == AccountState::Active)
                    .map(|j| fx.hscn(pool[j].username()))
            };
            let (i, result, expected): (usize, Result<()>, Outcome) = match op {
                Op::Grant(i) => {
                    let Some(s) = grantor(i) else { continue };
                    let before = fx.snapshot(v);
                    let r = fx.esr.grant_urp(s, GrantRequest {
                        holder: pool[i].username().clone(),
                        urp: hrms,
                        scope: GrantScope::WholeTrust,
                        approval: Approval::CaldicottException {
                            approved_by: fx.t().guardian.employee().clone(),
                            reference: "CG-P".into(),
                        },
                        reason: "cover".into(),
                    }).map(|_| ());
                    let exp = if counts(state[i]) && !admin[i] { Outcome::Applied } else { Outcome::Other };
                    if r.is_ok() { admin[i] = true; }
                    if r.is_err() { prop_assert!(fx.snapshot(v) == before); }
                    (i, r, exp)
                }
                Op::Revoke(i) => {
                    let Some(s) = grantor(usize::MAX) else { continue };
                    let before = fx.snapshot(v);
                    let r = fx.esr.revoke_urp(s, pool[i].username(), hrms, "tidy").map(|_| ());
                    let exp = if !admin[i] {
                        Outcome::Other
                    } else if counts(state[i]) && active_admins - 1 < 2 {
                        Outcome::TooFew
                    } else {
                        Outcome::Applied
                    };
                    if r.is_ok() { admin[i] = false; }
                    if r.is_err() { prop_assert!(fx.snapshot(v) == before); }
                    (i, r, exp)
                }
                Op::Suspend(i) | Op::End(i) => {
                    let to = if matches!(op, Op::End(_)) { AccountState::Ended } else { AccountState::Suspended };
                    let u = pool[i].username();
                    let before = fx.snapshot(v);
                    let r = if to == AccountState::Ended {
                        fx.esr.end_account(&system(), u, "x")
                    } else {
                        fx.esr.suspend_account(&system(), u, "x")
                    }.map(|_| ());
                    let exp = if state[i] == AccountState::Ended || state[i] == to {
                        Outcome::Other
                    } else if admin[i] && counts(state[i]) && active_admins - 1 < 2 {
                        Outcome::TooFew
                    } else {
                        Outcome::Applied
                    };
                    if r.is_ok() {
                        state[i] = to;
                        if to == AccountState::Ended { admin[i] = false; }
                    } else {
                        prop_assert!(fx.snapshot(v) == before, "a refusal changed state");
                    }
                    (i, r, exp)
                }
                Op::Reinstate(i) => {
                    let before = fx.snapshot(v);
                    let r = fx.esr.reinstate_account(&system(), pool[i].username(), "x").map(|_| ());
                    if r.is_err() { prop_assert!(fx.snapshot(v) == before); }
                    let exp = if state[i] == AccountState::Suspended { Outcome::Applied } else { Outcome::Other };
                    if r.is_ok() { state[i] = AccountState::Active; }
                    (i, r, exp)
                }
                Op::Unlock(i) => {
                    let before = fx.snapshot(v);
                    let r = fx.esr.unlock_account(&system(), pool[i].username(), "x").map(|_| ());
                    if r.is_err() { prop_assert!(fx.snapshot(v) == before); }
                    let exp = if state[i] == AccountState::Locked { Outcome::Applied } else { Outcome::Other };
                    if r.is_ok() { state[i] = AccountState::Active; }
                    (i, r, exp)
                }
                Op::Lock(i) => {
                    let u = pool[i].username().to_string();
                    let mut r = Ok(());
                    for _ in 0..5 {
                        r = fx.esr.log_in_with_password(&u, &Password::new("wrong password")).map(|_| ());
                    }
                    let exp = if state[i] == AccountState::Active { Outcome::Applied } else { Outcome::Other };
                    // Five failures end in a lock, which the answers do not tell.
                    prop_assert_eq!(&r, &Err(Error::InvalidCredentials));
                    let locked = fx.esr.account(pool[i].username()).unwrap().state == AccountState::Locked;
                    if state[i] == AccountState::Active {
                        prop_assert!(locked, "{:?}", r);
                        state[i] = AccountState::Locked;
                    }
                    (i, if locked && exp == Outcome::Applied { Ok(()) } else { r }, exp)
                }
            };
            let got = match &result {
                Ok(()) => Outcome::Applied,
                Err(Error::TooFewUserAdministrators { .. }) => Outcome::TooFew,
                Err(_) => Outcome::Other,
            };
            prop_assert_eq!(got, expected, "{:?} on {} gave {:?}", op, i, result);
            if let Err(Error::TooFewUserAdministrators { remaining }) = result {
                prop_assert_eq!(remaining, active_admins - 1);
            }
            // The model and the service agree, and the rule holds.
            for (j, p) in pool.iter().enumerate() {
                let acc = fx.esr.account(p.username()).unwrap();
                prop_assert_eq!(acc.state, state[j]);
                prop_assert_eq!(fx.esr.held_urps(p.username()).unwrap().contains(&hrms), admin[j]);
            }
            prop_assert!(active_user_administrators(&fx, v) >= 2);
        }
        fx.esr.verify_audit(v).unwrap();
    }
}
