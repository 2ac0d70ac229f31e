//! The generator behind the demonstration and the benchmarks builds what it says, through the
//! public API, the same way for the same seed.

#![allow(clippy::unwrap_used)]

use esr_core::chrono::{TimeZone, Utc};
use esr_core::{
    Actor, Esr, InMemoryStore, ManualClock, access::SmartcardAuthentication, org::TrustSettings,
    urp::Urp,
};
use esr_examples::{BuiltTrust, TrustSpec, build_trust};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn build(seed: u64) -> (Esr<InMemoryStore, ManualClock>, BuiltTrust) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap());
    let esr = Esr::with_rng(
        InMemoryStore::new(),
        clock,
        ChaCha20Rng::seed_from_u64(seed),
    );
    let spec = TrustSpec {
        vpd: "297".parse().unwrap(),
        name: "Generated Trust".into(),
        ward_staff: 240,
        ward_size: 30,
        seed,
    };
    let t = build_trust(&esr, &spec, TrustSettings::default()).unwrap();
    (esr, t)
}

#[test]
fn the_generated_trust_has_its_structure() {
    let (esr, t) = build(11);
    assert_eq!(t.wards.len(), 8);
    assert_eq!(t.ward_managers.len(), 8);
    assert_eq!(t.staff.len(), 240);
    assert_eq!(t.directors.len(), 4);
    assert_eq!(t.second_assignments, 12);
    assert_eq!(esr.people(t.vpd).unwrap().len(), t.everyone().count());

    let admin = &t.user_admins[0];
    let card = SmartcardAuthentication::verified_by_caller("test").unwrap();
    let s = esr.log_in_with_smartcard(&admin.username, &card).unwrap();
    let report = esr.urp_audit_report(&Actor::Session(s.id), t.vpd).unwrap();
    let count = |urp: Urp| report.iter().filter(|r| r.urp == urp).count();
    assert_eq!(count(Urp::EmployeeSelfService), t.everyone().count());
    assert_eq!(count(Urp::LocalHrmsSystemsAndUserAdministration), 2);
    assert_eq!(count(Urp::SupervisorSelfService), 8);
    assert_eq!(count(Urp::ManagerSelfServicePayrollApprovalsRequired), 5);

    // Every ward manager's team is their ward plus the bank staff placed on it.
    let m = &t.ward_managers[0];
    let s = esr.log_in_with_smartcard(&m.username, &card).unwrap();
    let team = esr.team(s.id).unwrap();
    assert!(team.len() >= 30, "{}", team.len());
    assert!(
        team.iter()
            .all(|x| x.depth == 1 && x.assignment.org_unit == m.unit)
    );
    esr.verify_audit(t.vpd).unwrap();
}

#[test]
fn the_same_seed_builds_the_same_trust() {
    let (a, ta) = build(5);
    let (b, tb) = build(5);
    let names = |t: &BuiltTrust| {
        t.everyone()
            .map(|m| m.username.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&ta), names(&tb));
    assert_eq!(
        a.verify_audit(ta.vpd).unwrap(),
        b.verify_audit(tb.vpd).unwrap()
    );
    let (_, tc) = build(6);
    assert_ne!(names(&ta), names(&tc));
}
