//! Limits and hostile input through the service (README, "Limits"): over-long text is refused
//! before any expensive work and leaves stored state as it was, and a clock at either end of
//! the range of instants makes no time rule overflow.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::chrono::{DateTime, TimeDelta, Utc};
use esr_core::values::limits::*;
use esr_core::{learning::*, passcode::*, people::*, urp::*, *};

fn invalid(what: &'static str, reason: String) -> Error {
    Error::InvalidInput { what, reason }
}

#[test]
fn an_over_long_password_at_log_in_is_refused_before_anything_is_counted() {
    let fx = Fixture::builder()
        .settings(settings(true, false, false))
        .build();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let huge = "p".repeat(MAX_PASSWORD_BYTES + 1);
    assert_refused(
        &fx,
        fx.vpd(),
        &invalid(
            "password",
            format!(
                "it is {} bytes long; the most is {MAX_PASSWORD_BYTES} bytes; shorten it",
                MAX_PASSWORD_BYTES + 1
            ),
        ),
        || {
            fx.esr
                .log_in_with_password(&jo.username().to_string(), &Password::new(huge.clone()))
        },
    );
    // At the limit it is only a wrong password: audited and counted.
    let at = "p".repeat(MAX_PASSWORD_BYTES);
    assert_eq!(
        fx.esr
            .log_in_with_password(&jo.username().to_string(), &Password::new(at)),
        Err(Error::InvalidCredentials)
    );
    assert_eq!(fx.esr.account(jo.username()).unwrap().failed_logins, 1);
    // Setting one is refused the same way, before the policy.
    assert_refused(
        &fx,
        fx.vpd(),
        &invalid(
            "password",
            format!(
                "it is {} bytes long; the most is {MAX_PASSWORD_BYTES} bytes; shorten it",
                MAX_PASSWORD_BYTES + 1
            ),
        ),
        || {
            fx.esr
                .set_password(&system(), jo.username(), &Password::new(huge.clone()))
        },
    );
}

#[test]
fn reasons_may_be_long_but_not_longer_than_the_limit() {
    let fx = Fixture::builder().build();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let over = "r".repeat(MAX_REASON_CHARS + 1);
    assert_refused(
        &fx,
        fx.vpd(),
        &invalid(
            "reason",
            format!(
                "it is {} characters long; the most is {MAX_REASON_CHARS}; shorten it",
                MAX_REASON_CHARS + 1
            ),
        ),
        || fx.esr.suspend_account(&system(), jo.username(), &over),
    );
    let at = "r".repeat(MAX_REASON_CHARS);
    fx.esr
        .suspend_account(&system(), jo.username(), &at)
        .unwrap();
}

#[test]
fn an_over_long_code_is_refused_before_the_challenge_is_looked_up() {
    let fx = Fixture::builder().build();
    let s = fx.hscn(fx.t().admin_a.username());
    let id: ChallengeId = "00000000000000000000000000000000".parse().unwrap();
    let code = "1".repeat(MAX_PASSCODE_BYTES + 1);
    // An unknown challenge is audited as a probe; an over-long code is not even that.
    assert_refused(
        &fx,
        fx.vpd(),
        &invalid(
            "passcode",
            format!(
                "it is {} bytes long; the most is {MAX_PASSCODE_BYTES} bytes; shorten it",
                MAX_PASSCODE_BYTES + 1
            ),
        ),
        || {
            fx.esr
                .verify_passcode(s, &id, Purpose::RegisterMobile, &code)
        },
    );
}

#[test]
fn learning_names_looked_up_are_checked_like_defined_ones() {
    let fx = Fixture::builder().build();
    let jo = fx.staff("Jo", "Smith", "Ward 5", None);
    let long = "c".repeat(MAX_LEARNING_NAME_CHARS + 1);
    for name in [long.as_str(), "", "a\0b", " padded "] {
        let before = fx.snapshot(fx.vpd());
        let got = fx.esr.record_learning(
            &system(),
            fx.vpd(),
            jo.employee(),
            name,
            PlayResult::Completed,
        );
        assert!(
            matches!(got, Err(Error::InvalidInput { what: "course", .. })),
            "{name:?}: {got:?}"
        );
        assert!(fx.snapshot(fx.vpd()) == before, "{name:?} changed state");
        let got = fx.esr.subscribe(&system(), fx.vpd(), jo.employee(), name);
        assert!(
            matches!(
                got,
                Err(Error::InvalidInput {
                    what: "certification",
                    ..
                })
            ),
            "{name:?}: {got:?}"
        );
    }
}

/// With the clock at either end of chrono's range, every call that adds to "now" stops at the
/// end instead of overflowing.
#[test]
fn no_time_rule_overflows_at_the_ends_of_time() {
    for end in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
        let fx = Fixture::builder()
            .settings(settings(true, true, false))
            .build();
        let jo = fx.staff("Jo", "Smith", "Ward 5", None);
        fx.give_mobile(&jo);
        fx.grant(
            jo.username(),
            Urp::ManagerSelfServicePayrollApprovalsRequired,
            GrantScope::WholeTrust,
        );
        fx.clock.set(end);
        // Each may be refused (an expired session, say) but none may panic.
        let web = fx.internet(jo.username());
        let hscn = fx.hscn(jo.username());
        let _ = fx.esr.my_compliance(hscn, None);
        let _ = fx.esr.request_mobile_code(hscn, "07700 900375");
        let _ = fx.esr.request_mobile_code(hscn, "07700 900375");
        if let Ok(web) = web {
            let _ = fx.esr.request_upgrade_code(web.id);
            let _ = fx.esr.request_upgrade_code(web.id);
        }
        let _ = fx.esr.request_username_reminder(
            fx.vpd(),
            jo.person.recruitment_email.as_str(),
            jo.person.date_of_birth,
        );
        fx.clock.advance(TimeDelta::MAX);
        fx.clock.advance(TimeDelta::MIN);
        assert!(fx.clock.try_advance(TimeDelta::seconds(-1)).is_err());
        fx.esr.verify_audit(fx.vpd()).unwrap();
    }
}
