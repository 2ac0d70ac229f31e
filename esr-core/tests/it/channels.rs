//! DOMAIN.md, "Channels and access levels", cell by cell: every URP × channel × trust setting ×
//! per-user internet approval × upgrade, against an expectation written here from DOMAIN.md and
//! the tier table in `access.rs` (not from `Urp::functions`, `Function::tier` or `decide`).
#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::{access::*, audit::*, org::*, people::*, urp::*, values::*, *};
use std::collections::BTreeSet;

// ----- the expected table ------------------------------------------------------------------

/// The channel rule of a function, as DOMAIN.md and the access.rs table state it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// ESS-level: internet with ESS internet access.
    Employee,
    /// Supervisor/Manager/Administrator SS: upgraded, with Upgrade Access: Manager.
    Manager,
    /// Professional dashboards and BI reports: upgraded, with Upgrade Access: Professional.
    Professional,
    /// Administration, BI administration, mobile registration: HSCN with a smartcard only.
    HscnOnly,
}

use Function as F;
use Rule::{Employee as E, HscnOnly as H, Manager as M, Professional as P};

/// What each URP grants, by rule. Written out by hand.
fn table(urp: Urp) -> &'static [(Function, Rule)] {
    const ESS: &[(Function, Rule)] = &[
        (F::ViewOwnRecord, E),
        (F::UpdateOwnDetails, E),
        (F::ViewPayslips, E),
        (F::ELearning, E),
        (F::MyCompliance, E),
        (F::ManageInternetAccess, H),
    ];
    const ESS_LIMITED: &[(Function, Rule)] = &[
        (F::ViewOwnRecord, E),
        (F::ViewPayslips, E),
        (F::ELearning, E),
        (F::MyCompliance, E),
        (F::ManageInternetAccess, H),
    ];
    const EXTERNAL_LEARNER: &[(Function, Rule)] = &[(F::ELearning, E), (F::MyCompliance, E)];
    const SUPERVISOR_LIMITED: &[(Function, Rule)] = &[
        (F::ManagerDashboard, M),
        (F::ViewTeamRecords, M),
        (F::TeamCompliance, M),
        (F::OrganisationChart, M),
    ];
    const SUPERVISOR: &[(Function, Rule)] = &[
        (F::ManagerDashboard, M),
        (F::ViewTeamRecords, M),
        (F::UpdateTeamRecords, M),
        (F::TeamCompliance, M),
        (F::TeamAbsence, M),
        (F::TeamAppraisals, M),
        (F::TeamActionsCalendar, M),
        (F::OrganisationChart, M),
    ];
    const MANAGER: &[(Function, Rule)] = &[
        (F::ManagerDashboard, M),
        (F::ViewTeamRecords, M),
        (F::UpdateTeamRecords, M),
        (F::TeamCompliance, M),
        (F::TeamAbsence, M),
        (F::TeamAppraisals, M),
        (F::TeamActionsCalendar, M),
        (F::OrganisationChart, M),
        (F::ManageTeamAssignments, M),
    ];
    const ADMINISTRATOR: &[(Function, Rule)] = &[
        (F::ManagerDashboard, M),
        (F::AdministerDelegatedRecords, M),
        (F::TeamCompliance, M),
        (F::OrganisationChart, M),
    ];
    match urp {
        Urp::EmployeeSelfService => ESS,
        Urp::EmployeeSelfServiceLimitedAccess => ESS_LIMITED,
        Urp::ExternalLearner => EXTERNAL_LEARNER,
        Urp::SupervisorSelfServiceLimitedAccess => SUPERVISOR_LIMITED,
        Urp::SupervisorSelfService => SUPERVISOR,
        Urp::ManagerSelfServicePayrollApprovalsRequired
        | Urp::ManagerSelfServicePayrollApprovalsNotRequired => MANAGER,
        Urp::AdministratorSelfServiceApprovalsRequired
        | Urp::AdministratorSelfServiceApprovalsNotRequired => ADMINISTRATOR,
        Urp::LocalHrmsSystemsAndUserAdministration => &[
            (F::AssignUrps, H),
            (F::ResetAccounts, H),
            (F::ViewStaffRecords, H),
            (F::UrpAuditReport, H),
            (F::ProfessionalDashboard, P),
            (F::BiReports, P),
        ],
        Urp::LocalWorkstructuresAdministration => &[
            (F::MaintainWorkstructures, H),
            (F::ProfessionalDashboard, P),
            (F::BiReports, P),
        ],
        Urp::PortalAdministration => &[(F::AdministerPortal, H), (F::ProfessionalDashboard, P)],
        // "Local BI Administration is never available over the internet."
        Urp::LocalBiAdministration => &[(F::AdministerBi, H)],
        Urp::LocalHrAdministration => &[
            (F::MaintainPeople, H),
            (F::ViewStaffRecords, H),
            (F::ChangeStaffRecords, H),
            (F::ProfessionalDashboard, P),
            (F::BiReports, P),
        ],
        Urp::LocalLearningAdministration => &[
            (F::AdministerLearning, H),
            (F::ViewStaffRecords, H),
            (F::ProfessionalDashboard, P),
            (F::BiReports, P),
        ],
        // Urp is #[non_exhaustive]: a URP added to the catalogue must be added to this table.
        other => panic!("{other} is not in the expected channel matrix; add it"),
    }
}

/// The national Manager Dashboard portlet that shows a function (DOMAIN.md, Organisations).
fn portlet_of(f: Function) -> Option<NationalPortlet> {
    match f {
        F::TeamAbsence => Some(NationalPortlet::TeamAbsence),
        F::TeamAppraisals => Some(NationalPortlet::TeamAppraisals),
        F::TeamCompliance => Some(NationalPortlet::TeamCompliance),
        F::TeamActionsCalendar => Some(NationalPortlet::TeamActionsCalendar),
        F::OrganisationChart => Some(NationalPortlet::OrganisationChart),
        _ => None,
    }
}

/// ESS, ESS Limited Access and External Learner get internet access automatically.
fn is_employee_level(urp: Urp) -> bool {
    matches!(
        urp,
        Urp::EmployeeSelfService | Urp::EmployeeSelfServiceLimitedAccess | Urp::ExternalLearner
    )
}

/// One cell of the walk: what the user holds, how they came in, and the trust's settings.
#[derive(Debug, Clone)]
struct Cell {
    held: Vec<Urp>,
    channel: Channel,
    automatic: bool,
    approved: bool,
    manager_upgrade: bool,
    professional_upgrade: bool,
    upgraded: bool,
}

impl Cell {
    fn rule_of(&self, f: Function) -> Option<Rule> {
        self.held
            .iter()
            .flat_map(|u| table(*u).iter())
            .find(|(g, _)| *g == f)
            .map(|(_, r)| *r)
    }

    fn internet_access(&self) -> bool {
        self.approved || (self.automatic && self.held.iter().any(|u| is_employee_level(*u)))
    }

    /// Whether an internet session of this user may be upgraded (the user has a mobile).
    fn upgradable(&self) -> bool {
        let has = |r: Rule| {
            self.held
                .iter()
                .any(|u| table(*u).iter().any(|(_, x)| *x == r))
        };
        self.channel == Channel::Internet
            && self.internet_access()
            && ((has(M) && self.manager_upgrade) || (has(P) && self.professional_upgrade))
    }

    fn expected(&self, f: Function, portlets_off: &[NationalPortlet]) -> AccessDecision {
        use AccessDecision::{Allowed, Denied};
        let Some(rule) = self.rule_of(f) else {
            return Denied(Denial::NotGranted);
        };
        if let Some(p) = portlet_of(f)
            && portlets_off.contains(&p)
        {
            return Denied(Denial::PortletDisabled(p));
        }
        if self.channel == Channel::Hscn {
            return Allowed;
        }
        if !self.internet_access() {
            return Denied(Denial::NoInternetAccess);
        }
        let (enabled, kind) = match rule {
            E => return Allowed,
            H => return Denied(Denial::SmartcardRequired),
            M => (self.manager_upgrade, UrpKind::Manager),
            P => (self.professional_upgrade, UrpKind::Professional),
        };
        if !enabled {
            Denied(Denial::UpgradeAccessDisabled(kind))
        } else if !self.upgraded {
            Denied(Denial::UpgradeRequired)
        } else {
            Allowed
        }
    }

    fn expected_set(&self, portlets_off: &[NationalPortlet]) -> BTreeSet<Function> {
        Function::ALL
            .into_iter()
            .filter(|f| self.expected(*f, portlets_off) == AccessDecision::Allowed)
            .collect()
    }
}

/// Asserts `functions` and every `decide` of the session against the cell.
#[track_caller]
fn check_cell(fx: &Fixture, session: SessionId, cell: &Cell, portlets_off: &[NationalPortlet]) {
    assert_eq!(
        fx.esr.functions(session).unwrap(),
        cell.expected_set(portlets_off),
        "functions in {cell:?}"
    );
    for f in Function::ALL {
        assert_eq!(
            fx.esr.decide(session, f).unwrap(),
            cell.expected(f, portlets_off),
            "{f:?} in {cell:?}"
        );
    }
}

// ----- the walk ------------------------------------------------------------------------------

#[test]
fn the_expected_table_covers_every_function() {
    let all: BTreeSet<Function> = Urp::ALL
        .into_iter()
        .flat_map(|u| table(u).iter().map(|(f, _)| *f))
        .collect();
    assert_eq!(all, Function::ALL.into_iter().collect());
}

#[test]
fn every_urp_channel_setting_and_upgrade_cell() {
    let fx = Fixture::new();
    let v = fx.vpd();
    // Two users per URP, each holding exactly that URP: one with internet access approved for
    // them individually, one without. Everyone has a registered mobile.
    let mut users = Vec::new();
    for urp in Urp::ALL {
        for approved in [false, true] {
            let s = fx.staff("Cell", "Tester", "Ward 5", None);
            fx.give_mobile(&s);
            fx.hold_exactly(s.username(), urp);
            if approved {
                fx.esr
                    .approve_internet_access(&system(), s.username())
                    .unwrap();
            }
            users.push((s, urp, approved));
        }
    }
    let mut cells = 0;
    for automatic in [false, true] {
        for manager_upgrade in [false, true] {
            for professional_upgrade in [false, true] {
                fx.apply_settings(
                    v,
                    &settings(automatic, manager_upgrade, professional_upgrade),
                );
                for (s, urp, approved) in &users {
                    let u = s.username();
                    let mut cell = Cell {
                        held: vec![*urp],
                        channel: Channel::Hscn,
                        automatic,
                        approved: *approved,
                        manager_upgrade,
                        professional_upgrade,
                        upgraded: false,
                    };
                    // HSCN: everything the URP grants; it never upgrades.
                    let hscn = fx.hscn(u);
                    check_cell(&fx, hscn, &cell, &[]);
                    assert!(matches!(
                        fx.upgrade(hscn),
                        Err(Error::UpgradeNotAvailable(_))
                    ));
                    fx.esr.log_out(hscn).unwrap();
                    cells += 1;

                    // Internet, username and password.
                    cell.channel = Channel::Internet;
                    let login = fx.internet(u);
                    if !cell.internet_access() {
                        assert_eq!(login, Err(Error::NoInternetAccess(u.clone())), "{cell:?}");
                        cells += 2;
                        continue;
                    }
                    let web = login.unwrap_or_else(|e| panic!("{cell:?}: {e}"));
                    assert_eq!(web.channel, Channel::Internet);
                    check_cell(&fx, web.id, &cell, &[]);
                    cells += 1;

                    // Internet, upgraded (when the rules allow it).
                    match fx.upgrade(web.id) {
                        Ok(up) if cell.upgradable() => {
                            assert!(up.is_upgraded());
                            cell.upgraded = true;
                        }
                        Err(Error::UpgradeNotAvailable(_)) if !cell.upgradable() => {
                            assert!(!fx.esr.session(web.id).unwrap().is_upgraded());
                        }
                        other => panic!("upgrade in {cell:?}: {other:?}"),
                    }
                    check_cell(&fx, web.id, &cell, &[]);
                    fx.esr.log_out(web.id).unwrap();
                    cells += 1;
                }
            }
        }
    }
    // 15 URPs × 2 approvals × 8 settings × 3 channel states.
    assert_eq!(cells, 15 * 2 * 8 * 3);
    fx.esr.verify_audit(v).unwrap();
}

// ----- the named rules -----------------------------------------------------------------------

#[test]
fn local_bi_administration_is_never_available_over_the_internet() {
    let fx = Fixture::new();
    let bi = fx.staff("Bea", "Inman", "Trust HQ", None);
    fx.give_mobile(&bi);
    // With ESS (internet access), Portal Administration (so an upgrade opens something) and BI.
    fx.grant(
        bi.username(),
        Urp::PortalAdministration,
        GrantScope::WholeTrust,
    );
    fx.grant(
        bi.username(),
        Urp::LocalBiAdministration,
        GrantScope::WholeTrust,
    );
    fx.apply_settings(fx.vpd(), &settings(true, true, true));

    let hscn = fx.hscn(bi.username());
    assert!(
        fx.esr
            .functions(hscn)
            .unwrap()
            .contains(&Function::AdministerBi)
    );

    let web = fx.internet(bi.username()).unwrap();
    let denied = AccessDecision::Denied(Denial::SmartcardRequired);
    assert_eq!(
        fx.esr.decide(web.id, Function::AdministerBi).unwrap(),
        denied
    );
    fx.upgrade(web.id).unwrap();
    assert_eq!(
        fx.esr.decide(web.id, Function::AdministerBi).unwrap(),
        denied
    );
    let upgraded = fx.esr.functions(web.id).unwrap();
    assert!(!upgraded.contains(&Function::AdministerBi));
    assert!(upgraded.contains(&Function::ProfessionalDashboard));
}

#[test]
fn internet_log_in_is_refused_without_ess_internet_access() {
    let fx = Fixture::new(); // Automatic Internet Access: no
    let v = fx.vpd();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let before = fx.snapshot(v);
    assert_eq!(
        fx.internet(jo.username()),
        Err(Error::NoInternetAccess(jo.username().clone()))
    );
    // No session opened, nothing audited, the failure counter untouched.
    assert_eq!(fx.snapshot(v), before);
    assert_eq!(fx.esr.account(jo.username()).unwrap().failed_logins, 0);
    // A wrong password is still a wrong password.
    assert_eq!(
        fx.esr.log_in_with_password(
            &jo.username().to_string(),
            &Password::new("not my password")
        ),
        Err(Error::InvalidCredentials)
    );
}

#[test]
fn automatic_internet_access_needs_an_employee_level_urp() {
    let fx = Fixture::builder()
        .settings(settings(true, true, true))
        .build();
    let ess = fx.staff("Eve", "Essex", "Ward 5", None);
    let mgr = fx.staff("Max", "Manley", "Ward 5", None);
    fx.hold_exactly(
        mgr.username(),
        Urp::ManagerSelfServicePayrollApprovalsRequired,
    );
    assert!(fx.internet(ess.username()).is_ok());
    assert_eq!(
        fx.internet(mgr.username()),
        Err(Error::NoInternetAccess(mgr.username().clone()))
    );
}

#[test]
fn approve_internet_access_enables_it_for_that_user_only() {
    let fx = Fixture::new(); // Automatic Internet Access: no
    let v = fx.vpd();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let kim = fx.staff("Kim", "Smith", "Ward 5", None);

    // Only a user administrator approves it: Jo cannot approve herself from HSCN.
    let jo_hscn = fx.hscn(jo.username());
    assert_refused(
        &fx,
        v,
        &Error::NotPermitted {
            function: Function::ResetAccounts,
            denial: Denial::NotGranted,
        },
        || {
            fx.esr
                .approve_internet_access(&Actor::Session(jo_hscn), jo.username())
        },
    );

    fx.esr
        .approve_internet_access(&Actor::Session(fx.t().session_a), jo.username())
        .unwrap();
    assert!(
        fx.esr
            .account(jo.username())
            .unwrap()
            .internet_access_approved
    );
    let last = fx.audit(v).pop().unwrap();
    assert_eq!(
        last.event,
        AuditEvent::InternetAccessApproved {
            username: jo.username().clone()
        }
    );
    assert_eq!(
        last.actor,
        AuditActor::User {
            username: fx.t().admin_a.username().clone(),
            session: fx.t().session_a.audit_ref(),
        }
    );

    let web = fx.internet(jo.username()).unwrap();
    assert_eq!(
        fx.esr.functions(web.id).unwrap(),
        BTreeSet::from([
            Function::ViewOwnRecord,
            Function::UpdateOwnDetails,
            Function::ViewPayslips,
            Function::ELearning,
            Function::MyCompliance,
        ])
    );
    assert_eq!(
        fx.internet(kim.username()),
        Err(Error::NoInternetAccess(kim.username().clone()))
    );
}

#[test]
fn switching_automatic_internet_access_off_cuts_live_internet_sessions() {
    let fx = Fixture::builder()
        .settings(settings(true, false, false))
        .build();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let web = fx.internet(jo.username()).unwrap();
    assert!(
        fx.esr
            .decide(web.id, Function::MyCompliance)
            .unwrap()
            .is_allowed()
    );
    fx.esr
        .set_automatic_internet_access(&system(), fx.vpd(), false)
        .unwrap();
    assert_eq!(fx.esr.functions(web.id).unwrap(), BTreeSet::new());
    assert_eq!(
        fx.esr.decide(web.id, Function::MyCompliance).unwrap(),
        AccessDecision::Denied(Denial::NoInternetAccess)
    );
}

/// A manager with ESS and Manager Self Service in a trust with everything enabled.
fn manager_fixture() -> (Fixture, Staff) {
    let fx = Fixture::builder()
        .settings(settings(true, true, true))
        .build();
    let m = fx.staff("Mia", "Manning", "Medicine", None);
    fx.grant(
        m.username(),
        Urp::ManagerSelfServicePayrollApprovalsNotRequired,
        GrantScope::WholeTrust,
    );
    (fx, m)
}

#[test]
fn check_upgrade_refuses_hscn_sessions() {
    let (fx, m) = manager_fixture();
    fx.give_mobile(&m);
    let hscn = fx.hscn(m.username());
    let e = fx.esr.check_upgrade(hscn).unwrap_err();
    assert!(
        e == Error::UpgradeNotAvailable(UpgradeBlocker::HscnSession),
        "{e:?}"
    );
    assert_refused(&fx, fx.vpd(), &e, || fx.upgrade(hscn));
}

#[test]
fn check_upgrade_needs_a_registered_mobile() {
    let (fx, m) = manager_fixture();
    assert_eq!(fx.esr.person(fx.vpd(), m.employee()).unwrap().mobile, None);
    let web = fx.internet(m.username()).unwrap();
    let e = fx.esr.check_upgrade(web.id).unwrap_err();
    assert!(
        e == Error::UpgradeNotAvailable(UpgradeBlocker::NoRegisteredMobile),
        "{e:?}"
    );
    assert_refused(&fx, fx.vpd(), &e, || fx.upgrade(web.id));

    fx.give_mobile(&m);
    assert_eq!(fx.esr.check_upgrade(web.id), Ok(()));
    fx.upgrade(web.id).unwrap();
    assert_eq!(fx.esr.check_upgrade(web.id), Err(Error::AlreadyUpgraded));
    assert_refused(&fx, fx.vpd(), &Error::AlreadyUpgraded, || {
        fx.upgrade(web.id)
    });
}

#[test]
fn check_upgrade_needs_the_trusts_upgrade_access() {
    let (fx, m) = manager_fixture();
    fx.give_mobile(&m);
    fx.apply_settings(fx.vpd(), &settings(true, false, true));
    let web = fx.internet(m.username()).unwrap();
    assert_eq!(
        fx.esr.check_upgrade(web.id),
        Err(Error::UpgradeNotAvailable(
            UpgradeBlocker::UpgradeAccessDisabled
        ))
    );
}

#[test]
fn an_upgrade_applies_to_that_session_only() {
    let (fx, m) = manager_fixture();
    fx.give_mobile(&m);
    let a = fx.internet(m.username()).unwrap();
    let b = fx.internet(m.username()).unwrap();
    assert_ne!(a.id, b.id);

    let up = fx.upgrade(a.id).unwrap();
    assert_eq!(up.id, a.id);
    assert_eq!(up.upgrade.as_ref().unwrap().method, "sms-otp");
    assert_eq!(up.upgrade.as_ref().unwrap().at, start());

    assert!(fx.esr.session(a.id).unwrap().is_upgraded());
    assert!(!fx.esr.session(b.id).unwrap().is_upgraded());
    assert_eq!(
        fx.esr.decide(a.id, Function::ViewTeamRecords).unwrap(),
        AccessDecision::Allowed
    );
    assert_eq!(
        fx.esr.decide(b.id, Function::ViewTeamRecords).unwrap(),
        AccessDecision::Denied(Denial::UpgradeRequired)
    );
    // A new session starts un-upgraded too.
    let c = fx.internet(m.username()).unwrap();
    assert!(!c.is_upgraded());
    assert!(
        !fx.esr
            .functions(c.id)
            .unwrap()
            .contains(&Function::ManagerDashboard)
    );
}

#[test]
fn a_proof_for_session_a_cannot_upgrade_session_b() {
    let (fx, m) = manager_fixture();
    fx.give_mobile(&m);
    let a = fx.internet(m.username()).unwrap();
    let b = fx.internet(m.username()).unwrap();
    let proof_a = StepUpProof::verified_by_caller(a.id, "sms-otp").unwrap();
    assert_eq!(proof_a.session(), a.id);

    // The proof upgrades A, whatever session it is offered for.
    assert_eq!(fx.esr.upgrade_session(&proof_a).unwrap().id, a.id);
    assert!(!fx.esr.session(b.id).unwrap().is_upgraded());

    // Once A has ended, its proof upgrades nothing, and B is still untouched.
    fx.esr.log_out(a.id).unwrap();
    let v = fx.vpd();
    let a2 = fx.internet(m.username()).unwrap();
    assert_refused(&fx, v, &Error::SessionEnded(a.id), || {
        fx.esr.upgrade_session(&proof_a)
    });
    assert!(!fx.esr.session(b.id).unwrap().is_upgraded());
    assert!(!fx.esr.session(a2.id).unwrap().is_upgraded());

    // The upgrade is audited against A alone.
    let upgrades: Vec<_> = fx
        .audit(v)
        .into_iter()
        .filter_map(|e| match e.event {
            AuditEvent::SessionUpgraded { session, method } => Some((session, method)),
            _ => None,
        })
        .collect();
    assert_eq!(upgrades, vec![(a.id.audit_ref(), "sms-otp".to_owned())]);
}

#[test]
fn manager_dashboard_portlets_switched_off_deny_their_functions() {
    let (fx, m) = manager_fixture();
    fx.give_mobile(&m);
    let v = fx.vpd();
    let hscn = fx.hscn(m.username());
    let web = fx.internet(m.username()).unwrap();
    fx.upgrade(web.id).unwrap();
    let cell = |channel| Cell {
        held: vec![
            Urp::EmployeeSelfService,
            Urp::ManagerSelfServicePayrollApprovalsNotRequired,
        ],
        channel,
        automatic: true,
        approved: false,
        manager_upgrade: true,
        professional_upgrade: true,
        upgraded: channel == Channel::Internet,
    };
    check_cell(&fx, hscn, &cell(Channel::Hscn), &[]);
    check_cell(&fx, web.id, &cell(Channel::Internet), &[]);
    for p in NationalPortlet::ALL {
        fx.esr.set_portlet(&system(), v, p, false).unwrap();
        assert!(!fx.esr.trust(v).unwrap().settings.dashboard.is_enabled(p));
        check_cell(&fx, hscn, &cell(Channel::Hscn), &[p]);
        check_cell(&fx, web.id, &cell(Channel::Internet), &[p]);
        let f = Function::ALL
            .into_iter()
            .find(|f| portlet_of(*f) == Some(p))
            .unwrap();
        for s in [hscn, web.id] {
            assert_eq!(
                fx.esr.decide(s, f).unwrap(),
                AccessDecision::Denied(Denial::PortletDisabled(p)),
                "{f:?}"
            );
            assert!(!fx.esr.functions(s).unwrap().contains(&f));
        }
        fx.esr.set_portlet(&system(), v, p, true).unwrap();
        assert_eq!(fx.esr.decide(hscn, f).unwrap(), AccessDecision::Allowed);
        assert_eq!(fx.esr.decide(web.id, f).unwrap(), AccessDecision::Allowed);
    }
    // The Manager Dashboard itself is not a portlet: it stays available with every portlet off.
    for p in NationalPortlet::ALL {
        fx.esr.set_portlet(&system(), v, p, false).unwrap();
    }
    assert_eq!(
        fx.esr.decide(web.id, Function::ManagerDashboard).unwrap(),
        AccessDecision::Allowed
    );
}

#[test]
fn trust_settings_are_changed_only_by_their_administrators() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let portal = fx.staff("Pat", "Portal", "Trust HQ", None);
    fx.grant(
        portal.username(),
        Urp::PortalAdministration,
        GrantScope::WholeTrust,
    );
    let hscn = fx.hscn(portal.username());
    let on = UpgradeAccess {
        manager: true,
        professional: false,
    };
    let s = fx
        .esr
        .set_upgrade_access(&Actor::Session(hscn), v, on)
        .unwrap();
    assert_eq!(s.upgrade_access, on);
    // Automatic Internet Access belongs to workstructures administration.
    assert_refused(
        &fx,
        v,
        &Error::NotPermitted {
            function: Function::MaintainWorkstructures,
            denial: Denial::NotGranted,
        },
        || {
            fx.esr
                .set_automatic_internet_access(&Actor::Session(hscn), v, true)
        },
    );
    // A user administrator cannot switch portlets.
    let admin = Actor::Session(fx.t().session_a);
    assert_refused(
        &fx,
        v,
        &Error::NotPermitted {
            function: Function::AdministerPortal,
            denial: Denial::NotGranted,
        },
        || {
            fx.esr
                .set_portlet(&admin, v, NationalPortlet::TeamAbsence, false)
        },
    );
}

#[test]
fn a_mobile_is_registered_only_from_hscn_with_a_confirmation_for_that_session() {
    let (fx, m) = manager_fixture();
    let v = fx.vpd();
    let mobile: MobileNumber = MOBILE.parse().unwrap();
    let web = fx.internet(m.username()).unwrap();
    let hscn = fx.hscn(m.username());
    let other = fx.hscn(m.username());

    assert_refused(
        &fx,
        v,
        &Error::NotPermitted {
            function: Function::ManageInternetAccess,
            denial: Denial::SmartcardRequired,
        },
        || {
            fx.esr.register_mobile(
                web.id,
                &MobileConfirmation::verified_by_caller(web.id, mobile.clone()),
            )
        },
    );
    assert_refused(&fx, v, &Error::StepUpMismatch, || {
        fx.esr.register_mobile(
            hscn,
            &MobileConfirmation::verified_by_caller(other, mobile.clone()),
        )
    });

    let p = fx
        .esr
        .register_mobile(
            hscn,
            &MobileConfirmation::verified_by_caller(hscn, mobile.clone()),
        )
        .unwrap();
    assert_eq!(p.mobile.as_ref(), Some(&mobile));
    assert_eq!(fx.esr.person(v, m.employee()).unwrap().mobile, Some(mobile));
    assert_eq!(
        fx.audit(v).pop().unwrap().event,
        AuditEvent::MobileRegistered {
            username: m.username().clone(),
            masked: "xxxxxxx374".into(),
            changed: false,
        }
    );
    // The live internet session can now be upgraded.
    assert!(fx.upgrade(web.id).unwrap().is_upgraded());
}

#[test]
fn ended_sessions_have_no_functions() {
    let fx = Fixture::builder()
        .settings(settings(true, false, false))
        .build();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let web = fx.internet(jo.username()).unwrap();
    fx.esr.log_out(web.id).unwrap();
    assert_eq!(fx.esr.functions(web.id), Err(Error::SessionEnded(web.id)));
    assert_eq!(
        fx.esr.decide(web.id, Function::ViewOwnRecord),
        Err(Error::SessionEnded(web.id))
    );
    assert_eq!(fx.esr.log_out(web.id), Err(Error::SessionEnded(web.id)));
    let unknown = SessionId::from_bytes([7; 16]);
    assert_eq!(
        fx.esr.functions(unknown),
        Err(Error::UnknownSession(unknown))
    );
}
