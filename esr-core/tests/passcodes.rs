//! One-time passcodes: issue, verify, expiry, resend, limits, purpose binding, key rotation.

mod common;

use common::*;
use esr_core::chrono::TimeDelta;
use esr_core::*;

fn upgradable() -> (Fixture, Staff) {
    let fx = Fixture::builder()
        .settings(settings(true, true, false))
        .build();
    let m = fx.upgradable_manager("Maria", "Manning");
    (fx, m)
}

#[test]
fn a_manager_upgrades_an_internet_session_with_a_texted_code() {
    let (fx, m) = upgradable();
    let s = fx.internet(m.username()).unwrap();
    let other = fx.internet(m.username()).unwrap();
    let c = fx.esr.request_upgrade_code(s.id).unwrap();
    assert_eq!(c.masked_destination, "xxxxxxx374");
    assert_eq!(
        c.message(),
        "We have sent a code to your mobile number ending: xxxxxxx374"
    );
    assert_eq!(c.expires_at - c.issued_at, TimeDelta::minutes(10));
    assert_eq!(c.status, ChallengeStatus::Pending);
    assert_eq!(c.attempts_left, 5);
    let sms = fx.outbox.last_sms_to(&MOBILE.parse().unwrap()).unwrap();
    assert!(
        sms.expose_text().contains("10 minutes"),
        "{}",
        sms.expose_text()
    );
    let code = fx.code_sent_to(MOBILE);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    assert_eq!(
        fx.esr
            .verify_passcode(s.id, &c.id, Purpose::UpgradeSession, wrong)
            .unwrap(),
        VerifyOutcome::WrongCode { attempts_left: 4 }
    );
    let out = fx
        .esr
        .verify_passcode(s.id, &c.id, Purpose::UpgradeSession, &code)
        .unwrap();
    let VerifyOutcome::Approved(Approved::SessionUpgraded(up)) = out else {
        panic!("{out:?}")
    };
    assert_eq!(up.id, s.id);
    assert!(fx.esr.session(s.id).unwrap().is_upgraded());
    assert!(!fx.esr.session(other.id).unwrap().is_upgraded());
    assert_eq!(
        fx.esr
            .verify_passcode(s.id, &c.id, Purpose::UpgradeSession, &code)
            .unwrap(),
        VerifyOutcome::AlreadyUsed
    );
}
