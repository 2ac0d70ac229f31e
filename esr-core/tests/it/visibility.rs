//! Record visibility (DOMAIN.md, "Record visibility"): one's own record, line managers through
//! the supervisor chain, delegated administrators by organisation unit, professionals by the
//! scope of their URP; every read of another person's record audited; never across trusts.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::chrono::NaiveDate;
use esr_core::{access::*, audit::*, people::*, urp::*, values::*, *};
use proptest::prelude::*;

/// A line of management in trust 297:
///
/// ```text
/// Dana Director (Medicine)
/// ├── Mia Manning (Ward 5)
/// │   └── Jo Smith (Ward 5)
/// │       └── Kim Jones (Ward 5)
/// └── Pete Peer (Ward 6)
/// Olu Other (Theatres), reporting to nobody
/// ```
struct Org {
    fx: Fixture,
    dana: Staff,
    mia: Staff,
    jo: Staff,
    kim: Staff,
    pete: Staff,
    olu: Staff,
}

fn org(upgrade_manager: bool) -> Org {
    let fx = Fixture::builder()
        .settings(settings(true, upgrade_manager, false))
        .build();
    let dana = fx.staff("Dana", "Director", "Medicine", None);
    let mia = fx.staff("Mia", "Manning", "Ward 5", Some(&dana));
    let jo = fx.staff("Jo", "Smith", "Ward 5", Some(&mia));
    let kim = fx.staff("Kim", "Jones", "Ward 5", Some(&jo));
    let pete = fx.staff("Pete", "Peer", "Ward 6", Some(&dana));
    let olu = fx.staff("Olu", "Other", "Theatres", None);
    let mss = Urp::ManagerSelfServicePayrollApprovalsNotRequired;
    fx.grant(dana.username(), mss, GrantScope::WholeTrust);
    fx.grant(mia.username(), mss, GrantScope::WholeTrust);
    fx.grant(
        jo.username(),
        Urp::SupervisorSelfServiceLimitedAccess,
        GrantScope::WholeTrust,
    );
    Org {
        fx,
        dana,
        mia,
        jo,
        kim,
        pete,
        olu,
    }
}

fn access(view: &[RecordBasis], change: &[RecordBasis]) -> RecordAccess {
    RecordAccess {
        view: view.to_vec(),
        change: change.to_vec(),
    }
}

fn not_visible(who: &Staff) -> Error {
    Error::RecordNotVisible {
        action: "view",
        subject: who.employee().clone(),
    }
}

impl Org {
    fn record_access(&self, actor: &Staff, subject: &Staff) -> RecordAccess {
        self.fx
            .esr
            .record_access(actor.username(), self.fx.vpd(), subject.employee())
            .unwrap()
    }
    fn everyone(&self) -> [&Staff; 8] {
        let t = self.fx.t();
        [
            &t.admin_a, &t.admin_b, &self.dana, &self.mia, &self.jo, &self.kim, &self.pete,
            &self.olu,
        ]
    }
}

// ----- own record ----------------------------------------------------------------------------

#[test]
fn everyone_sees_their_own_record_without_an_audit_entry() {
    let o = org(false);
    let fx = &o.fx;
    let v = fx.vpd();
    assert_eq!(
        o.record_access(&o.kim, &o.kim),
        access(&[RecordBasis::Own], &[RecordBasis::Own])
    );
    let web = fx.internet(o.kim.username()).unwrap();
    let before = fx.audit(v).len();
    let rec = fx.esr.view_record(web.id, o.kim.employee()).unwrap();
    assert_eq!(rec.basis, RecordBasis::Own);
    assert_eq!(rec.person, o.kim.person);
    assert_eq!(rec.assignments, vec![o.kim.assignment.clone()]);
    assert_eq!(
        fx.audit(v).len(),
        before,
        "viewing one's own record is not audited"
    );
}

// ----- line management -----------------------------------------------------------------------

#[test]
fn a_line_manager_sees_direct_and_indirect_reports_only() {
    let o = org(false);
    let fx = &o.fx;
    let v = fx.vpd();
    let lm = RecordBasis::LineManager;
    // Mia: Jo directly, Kim through Jo.
    assert_eq!(o.record_access(&o.mia, &o.jo), access(&[lm], &[lm]));
    assert_eq!(o.record_access(&o.mia, &o.kim), access(&[lm], &[lm]));
    // Not her peer, her own manager, or someone outside her line.
    for x in [&o.pete, &o.dana, &o.olu] {
        assert_eq!(o.record_access(&o.mia, x), RecordAccess::default(), "{x:?}");
    }
    // Jo holds the limited supervisor URP: view, no change.
    assert_eq!(o.record_access(&o.jo, &o.kim), access(&[lm], &[]));
    assert_eq!(o.record_access(&o.jo, &o.mia), RecordAccess::default());
    // Kim supervises nobody and holds no manager URP.
    assert_eq!(o.record_access(&o.kim, &o.jo), RecordAccess::default());
    // Dana sees her whole line.
    for x in [&o.mia, &o.jo, &o.kim, &o.pete] {
        assert_eq!(o.record_access(&o.dana, x), access(&[lm], &[lm]), "{x:?}");
    }

    let hscn = fx.hscn(o.mia.username());
    for x in [&o.jo, &o.kim] {
        let before = fx.audit(v).len();
        let rec = fx.esr.view_record(hscn, x.employee()).unwrap();
        assert_eq!(rec.basis, lm);
        assert_eq!(rec.person, x.person);
        let trail = fx.audit(v);
        assert_eq!(trail.len(), before + 1);
        let e = trail.last().unwrap();
        assert_eq!(
            e.actor,
            AuditActor::User {
                username: o.mia.username().clone(),
                session: hscn.audit_ref(),
            }
        );
        assert_eq!(
            e.event,
            AuditEvent::RecordViewed {
                subject: x.employee().clone(),
                basis: "line manager".into(),
            }
        );
    }
    for x in [&o.pete, &o.dana, &o.olu] {
        assert_refused(fx, v, &not_visible(x), || {
            fx.esr.view_record(hscn, x.employee())
        });
    }
    assert_refused(
        fx,
        v,
        &Error::UnknownPerson {
            vpd: v,
            employee: emp("12345678"),
        },
        || fx.esr.view_record(hscn, &emp("12345678")),
    );
}

#[test]
fn a_line_manager_changes_a_reports_details_with_an_audit_entry() {
    let o = org(false);
    let fx = &o.fx;
    let v = fx.vpd();
    let hscn = fx.hscn(o.mia.username());
    let p = fx
        .esr
        .change_details(
            hscn,
            o.kim.employee(),
            &DetailsChange {
                given_name: Some(" Kimberley ".into()),
                ..DetailsChange::default()
            },
        )
        .unwrap();
    assert_eq!(p.name, PersonName::new("Kimberley", "Jones").unwrap());
    assert_eq!(fx.esr.person(v, o.kim.employee()).unwrap().name, p.name);
    assert_eq!(
        fx.audit(v).pop().unwrap().event,
        AuditEvent::RecordChanged {
            subject: o.kim.employee().clone(),
            fields: "given name".into(),
        }
    );
    // Jo may view Kim's record, not change it.
    let jo = fx.hscn(o.jo.username());
    assert_refused(
        fx,
        v,
        &Error::RecordNotVisible {
            action: "change",
            subject: o.kim.employee().clone(),
        },
        || {
            fx.esr.change_details(
                jo,
                o.kim.employee(),
                &DetailsChange {
                    family_name: Some("X".into()),
                    ..DetailsChange::default()
                },
            )
        },
    );
}

#[test]
fn a_supervisor_cycle_is_refused() {
    let o = org(false);
    let fx = &o.fx;
    let v = fx.vpd();
    // Dana reporting to Kim would close Dana → Mia → Jo → Kim → Dana.
    for (who, to) in [(&o.dana, &o.kim), (&o.mia, &o.jo), (&o.dana, &o.mia)] {
        assert_refused(
            fx,
            v,
            &Error::SupervisorCycle {
                assignment: who.number().clone(),
                supervisor: to.number().clone(),
            },
            || {
                fx.esr
                    .set_supervisor(&system(), v, who.number(), Some(to.number().clone()))
            },
        );
    }
    // Nor to oneself, nor to another assignment of one's own.
    let e = fx
        .esr
        .set_supervisor(&system(), v, o.jo.number(), Some(o.jo.number().clone()))
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidInput {
                what: "supervisor",
                ..
            }
        ),
        "{e:?}"
    );
    assert_refused(fx, v, &e, || {
        fx.esr
            .set_supervisor(&system(), v, o.jo.number(), Some(o.jo.number().clone()))
    });
    // Nor to an assignment that does not exist.
    let ghost: AssignmentNumber = "11111111".parse().unwrap();
    assert_refused(
        fx,
        v,
        &Error::UnknownAssignment {
            vpd: v,
            assignment: ghost.clone(),
        },
        || {
            fx.esr
                .set_supervisor(&system(), v, o.jo.number(), Some(ghost.clone()))
        },
    );

    // A legal move changes who sees whom at once: Kim now reports to Pete.
    let a = fx
        .esr
        .set_supervisor(&system(), v, o.kim.number(), Some(o.pete.number().clone()))
        .unwrap();
    assert_eq!(a.supervisor.as_ref(), Some(o.pete.number()));
    assert_eq!(
        fx.audit(v).pop().unwrap().event,
        AuditEvent::SupervisorChanged {
            assignment: o.kim.number().clone(),
            supervisor: Some(o.pete.number().clone()),
        }
    );
    assert_eq!(o.record_access(&o.mia, &o.kim), RecordAccess::default());
    assert_eq!(o.record_access(&o.jo, &o.kim), RecordAccess::default());
    assert_eq!(
        o.record_access(&o.dana, &o.kim).view,
        vec![RecordBasis::LineManager]
    );
    // Removing a supervisor is always allowed.
    fx.esr
        .set_supervisor(&system(), v, o.kim.number(), None)
        .unwrap();
    assert_eq!(o.record_access(&o.dana, &o.kim), RecordAccess::default());
}

// ----- delegated administration and professional URPs ---------------------------------------

#[test]
fn a_delegated_administrator_sees_their_units_and_below_only() {
    let o = org(false);
    let fx = &o.fx;
    let v = fx.vpd();
    let ad = fx.staff("Ada", "Delegate", "Surgery", None);
    fx.grant(
        ad.username(),
        Urp::AdministratorSelfServiceApprovalsRequired,
        units(&["Medicine"]),
    );
    let da = RecordBasis::DelegatedAdministrator;
    // Medicine itself, and Ward 5 and Ward 6 below it.
    for x in [&o.dana, &o.mia, &o.jo, &o.kim, &o.pete] {
        assert_eq!(o.record_access(&ad, x), access(&[da], &[da]), "{x:?}");
    }
    // Theatres, and the trust HQ above Medicine, are outside.
    for x in [&o.olu, &fx.t().admin_a] {
        assert_eq!(o.record_access(&ad, x), RecordAccess::default(), "{x:?}");
    }
    let hscn = fx.hscn(ad.username());
    let rec = fx.esr.view_record(hscn, o.kim.employee()).unwrap();
    assert_eq!(rec.basis, da);
    assert_eq!(
        fx.audit(v).pop().unwrap().event,
        AuditEvent::RecordViewed {
            subject: o.kim.employee().clone(),
            basis: "delegated administrator".into(),
        }
    );
    assert_refused(fx, v, &not_visible(&o.olu), || {
        fx.esr.view_record(hscn, o.olu.employee())
    });

    // A narrower delegation: Ward 6 only.
    let ward6 = fx.staff("Wes", "Ward", "Surgery", None);
    fx.grant(
        ward6.username(),
        Urp::AdministratorSelfServiceApprovalsNotRequired,
        units(&["Ward 6"]),
    );
    let seen: Vec<&Staff> = o
        .everyone()
        .into_iter()
        .filter(|x| o.record_access(&ward6, x).can_view())
        .collect();
    assert_eq!(
        seen.iter().map(|s| s.employee()).collect::<Vec<_>>(),
        vec![o.pete.employee()]
    );
}

#[test]
fn professionals_see_within_the_scope_of_their_urp_on_hscn_only() {
    let o = org(true);
    o.fx.apply_settings(o.fx.vpd(), &settings(true, true, true));
    let fx = &o.fx;
    let v = fx.vpd();
    let hr = fx.staff("Hana", "Reid", "Trust HQ", None);
    let lhr = Urp::LocalHrAdministration;
    fx.grant(hr.username(), lhr, GrantScope::WholeTrust);
    let pro = RecordBasis::Professional(lhr);
    for x in o.everyone() {
        assert_eq!(o.record_access(&hr, x), access(&[pro], &[pro]), "{x:?}");
    }

    // Scoped to Surgery: Olu in Theatres, nobody in Medicine.
    let sr = fx.staff("Sam", "Reid", "Trust HQ", None);
    fx.grant(sr.username(), lhr, units(&["Surgery"]));
    assert_eq!(o.record_access(&sr, &o.olu), access(&[pro], &[pro]));
    assert_eq!(o.record_access(&sr, &o.jo), RecordAccess::default());

    // Learning administration views, but does not change.
    let la = fx.staff("Lee", "Learner", "Trust HQ", None);
    let lla = Urp::LocalLearningAdministration;
    fx.grant(la.username(), lla, GrantScope::WholeTrust);
    assert_eq!(
        o.record_access(&la, &o.jo),
        access(&[RecordBasis::Professional(lla)], &[])
    );

    // On HSCN the view is audited with the URP as its basis.
    let hscn = fx.hscn(hr.username());
    let rec = fx.esr.view_record(hscn, o.olu.employee()).unwrap();
    assert_eq!(rec.basis, pro);
    assert_eq!(
        fx.audit(v).pop().unwrap().event,
        AuditEvent::RecordViewed {
            subject: o.olu.employee().clone(),
            basis: "Local HR Administration".into(),
        }
    );
    // Over the internet, even upgraded, staff records need a smartcard.
    fx.give_mobile(&hr);
    let web = fx.internet(hr.username()).unwrap();
    fx.upgrade(web.id).unwrap();
    assert_refused(
        fx,
        v,
        &Error::NotPermitted {
            function: Function::ViewStaffRecords,
            denial: Denial::SmartcardRequired,
        },
        || fx.esr.view_record(web.id, o.olu.employee()),
    );
    // Their own record is still theirs, over the internet.
    assert_eq!(
        fx.esr.view_record(web.id, hr.employee()).unwrap().basis,
        RecordBasis::Own
    );
}

// ----- channels ------------------------------------------------------------------------------

#[test]
fn a_manager_needs_an_upgraded_internet_session_to_see_the_team() {
    let o = org(true);
    let fx = &o.fx;
    let v = fx.vpd();
    fx.give_mobile(&o.mia);
    let web = fx.internet(o.mia.username()).unwrap();
    let upgrade_required = Error::NotPermitted {
        function: Function::ViewTeamRecords,
        denial: Denial::UpgradeRequired,
    };
    assert_refused(fx, v, &upgrade_required, || {
        fx.esr.view_record(web.id, o.jo.employee())
    });
    assert_refused(fx, v, &upgrade_required, || fx.esr.team(web.id));
    fx.upgrade(web.id).unwrap();
    assert_eq!(
        fx.esr.view_record(web.id, o.jo.employee()).unwrap().basis,
        RecordBasis::LineManager
    );

    // Where the trust has not enabled Upgrade Access: Manager, the refusal says so.
    let o = org(false);
    let fx = &o.fx;
    let web = fx.internet(o.mia.username()).unwrap();
    assert_refused(
        fx,
        fx.vpd(),
        &Error::NotPermitted {
            function: Function::ViewTeamRecords,
            denial: Denial::UpgradeAccessDisabled(UrpKind::Manager),
        },
        || fx.esr.view_record(web.id, o.jo.employee()),
    );
}

#[test]
fn team_lists_direct_and_indirect_reports_with_their_depth() {
    let o = org(false);
    let fx = &o.fx;
    let v = fx.vpd();
    let team = |who: &Staff| -> Vec<(EmployeeNumber, u32)> {
        let s = fx.hscn(who.username());
        fx.esr
            .team(s)
            .unwrap()
            .into_iter()
            .map(|m| (m.assignment.employee_number.clone(), m.depth))
            .collect()
    };
    let e = |s: &Staff| s.employee().clone();
    assert_eq!(team(&o.mia), vec![(e(&o.jo), 1), (e(&o.kim), 2)]);
    // Depth first, then surname: Manning before Peer.
    assert_eq!(
        team(&o.dana),
        vec![
            (e(&o.mia), 1),
            (e(&o.pete), 1),
            (e(&o.jo), 2),
            (e(&o.kim), 3)
        ]
    );
    assert_eq!(team(&o.jo), vec![(e(&o.kim), 1)]);
    assert_eq!(
        fx.audit(v).pop().unwrap().event,
        AuditEvent::ReportProduced {
            report: "team list (1 members)".into()
        }
    );
    // The member carries the assignment and name.
    let s = fx.hscn(o.mia.username());
    let first = fx.esr.team(s).unwrap().remove(0);
    assert_eq!(first.assignment, o.jo.assignment);
    assert_eq!(first.name, o.jo.person.name);

    // A second assignment of Kim's reporting to Pete puts Kim in Pete's team only once that
    // assignment exists; Pete needs a manager URP to ask.
    fx.esr
        .add_assignment(
            &system(),
            v,
            NewAssignment {
                number: format!("{}-2", o.kim.number()).parse().unwrap(),
                employee_number: e(&o.kim),
                title: "Bank Nurse".into(),
                position: "297|Bank Nurse|".parse().unwrap(),
                org_unit: unit("Ward 6"),
                supervisor: Some(o.pete.number().clone()),
            },
        )
        .unwrap();
    let pete = fx.hscn(o.pete.username());
    assert_refused(
        fx,
        v,
        &Error::NotPermitted {
            function: Function::ViewTeamRecords,
            denial: Denial::NotGranted,
        },
        || fx.esr.team(pete),
    );
    fx.grant(
        o.pete.username(),
        Urp::SupervisorSelfService,
        GrantScope::WholeTrust,
    );
    assert_eq!(team(&o.pete), vec![(e(&o.kim), 1)]);
    // Dana now reaches Kim twice, once through each of Kim's assignments; within a depth,
    // Jones sorts before Smith.
    assert_eq!(
        team(&o.dana),
        vec![
            (e(&o.mia), 1),
            (e(&o.pete), 1),
            (e(&o.kim), 2),
            (e(&o.jo), 2),
            (e(&o.kim), 3)
        ]
    );
}

// ----- never across trusts, by property -----------------------------------------------------

/// A person of the generated population: their org unit, supervisor (an earlier person of the
/// same trust) and an extra URP.
#[derive(Debug, Clone)]
struct Gen {
    unit: usize,
    supervisor: Option<usize>,
    urp: usize,
}

fn population() -> impl Strategy<Value = Vec<Gen>> {
    proptest::collection::vec(
        (0usize..6, any::<Option<prop::sample::Index>>(), 0usize..6),
        1..6,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(k, (unit, sup, urp))| Gen {
                unit,
                supervisor: if k == 0 {
                    None
                } else {
                    sup.map(|i| i.index(k))
                },
                urp,
            })
            .collect()
    })
}

/// Adds the population to trust `v`; employee numbers are `5000000k` in every trust, so the
/// same number names different people in different trusts.
fn populate(fx: &Fixture, v: VpdCode, people: &[Gen]) -> Vec<Staff> {
    let mut out: Vec<Staff> = Vec::new();
    for (k, g) in people.iter().enumerate() {
        let number = format!("5{k:07}");
        let person = fx
            .esr
            .add_person(
                &system(),
                v,
                NewPerson {
                    employee_number: emp(&number),
                    name: PersonName::new("Pat", "Person").unwrap(),
                    date_of_birth: NaiveDate::from_ymd_opt(1970, 1, 1).unwrap(),
                    recruitment_email: format!("p{number}@nhs.net").parse().unwrap(),
                },
            )
            .unwrap();
        let assignment = fx
            .esr
            .add_assignment(
                &system(),
                v,
                NewAssignment {
                    number: number.parse().unwrap(),
                    employee_number: person.employee_number.clone(),
                    title: "Porter".into(),
                    position: "Porter".parse().unwrap(),
                    org_unit: unit(UNITS[g.unit].0),
                    supervisor: g.supervisor.map(|s| out[s].number().clone()),
                },
            )
            .unwrap();
        let staff = Staff { person, assignment };
        let u = staff.username();
        let extra = match g.urp {
            1 => Some((Urp::SupervisorSelfService, GrantScope::WholeTrust)),
            2 => Some((
                Urp::ManagerSelfServicePayrollApprovalsRequired,
                GrantScope::WholeTrust,
            )),
            3 => Some((
                Urp::AdministratorSelfServiceApprovalsRequired,
                units(&["Trust HQ"]),
            )),
            4 => Some((Urp::LocalHrAdministration, GrantScope::WholeTrust)),
            5 => Some((
                Urp::LocalHrmsSystemsAndUserAdministration,
                GrantScope::WholeTrust,
            )),
            _ => None,
        };
        if let Some((urp, scope)) = extra {
            fx.grant(u, urp, scope);
        }
        out.push(staff);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn visibility_never_crosses_trusts(a in population(), b in population()) {
        let fx = Fixture::builder().trust("297").trust("999").build();
        let (va, vb) = (vpd("297"), vpd("999"));
        let mut pa = populate(&fx, va, &a);
        let mut pb = populate(&fx, vb, &b);
        pa.extend([fx.trust(va).admin_a.clone(), fx.trust(va).admin_b.clone()]);
        pb.extend([fx.trust(vb).admin_a.clone(), fx.trust(vb).admin_b.clone()]);

        for (mine, theirs) in [(&pa, &pb), (&pb, &pa)] {
            for actor in mine.iter() {
                let session = fx.hscn(actor.username());
                let home = actor.person.vpd;
                for subject in theirs.iter() {
                    let there = subject.person.vpd;
                    prop_assert_eq!(
                        fx.esr.record_access(actor.username(), there, subject.employee()).unwrap(),
                        RecordAccess::default()
                    );
                    // The session resolves the number in its own trust only: either nobody
                    // there has it, or it is a different person of the actor's own trust.
                    match fx.esr.view_record(session, subject.employee()) {
                        Err(e) => prop_assert!(
                            matches!(&e, Error::UnknownPerson { vpd, .. } if *vpd == home)
                                || matches!(&e, Error::RecordNotVisible { .. }),
                            "{:?}", e
                        ),
                        Ok(rec) => {
                            prop_assert_eq!(rec.person.vpd, home);
                            prop_assert_ne!(&rec.person.username, subject.username());
                            prop_assert!(rec.assignments.iter().all(|x| x.vpd == home));
                        }
                    }
                    if !mine.iter().any(|m| m.employee() == subject.employee()) {
                        prop_assert_eq!(
                            fx.esr.view_record(session, subject.employee()).unwrap_err(),
                            Error::UnknownPerson { vpd: home, employee: subject.employee().clone() }
                        );
                    }
                }
                // A team never reaches into the other trust.
                if let Ok(team) = fx.esr.team(session) {
                    prop_assert!(team.iter().all(|m| m.assignment.vpd == home));
                }
            }
            // Supervisors never cross: an assignment number of the other trust is unknown here.
            let (v_mine, v_theirs) = (mine[0].person.vpd, theirs[0].person.vpd);
            let only_there = theirs
                .iter()
                .find(|t| !mine.iter().any(|m| m.number() == t.number()));
            if let Some(t) = only_there {
                prop_assert_eq!(
                    fx.esr.set_supervisor(&system(), v_mine, mine[0].number(), Some(t.number().clone())),
                    Err(Error::UnknownAssignment { vpd: v_mine, assignment: t.number().clone() })
                );
            }
            prop_assert_ne!(v_mine, v_theirs);
        }
        for v in [va, vb] {
            prop_assert!(fx.audit(v).iter().all(|e| e.vpd == v));
            fx.esr.verify_audit(v).unwrap();
        }
    }
}

#[test]
fn everyone_sees_their_own_record_whatever_urps_they_hold() {
    let fx = Fixture::new();
    let v = fx.vpd();
    let p = fx.staff("Lee", "Learner", "Trust HQ", None);
    // Only a manager URP, no Employee Self Service at all.
    fx.hold_exactly(p.username(), Urp::SupervisorSelfServiceLimitedAccess);
    let hscn = fx.hscn(p.username());
    let access = fx.esr.record_access(p.username(), v, p.employee()).unwrap();
    assert_eq!(access.view, vec![RecordBasis::Own]);
    assert!(access.change.is_empty());
    let before = fx.audit(v).len();
    let record = fx.esr.view_record(hscn, p.employee()).unwrap();
    assert_eq!(record.basis, RecordBasis::Own);
    assert_eq!(
        fx.audit(v).len(),
        before,
        "reading one's own record is not audited"
    );
    let change = DetailsChange {
        family_name: Some("Leaner".into()),
        ..DetailsChange::default()
    };
    assert_refused(
        &fx,
        v,
        &Error::RecordNotVisible {
            action: "change",
            subject: p.employee().clone(),
        },
        || fx.esr.change_details(hscn, p.employee(), &change),
    );
}
