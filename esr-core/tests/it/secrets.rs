//! No secret is ever shown: every value that holds or touches a passcode, recovery token,
//! password (or its hash), passcode key, session id or mobile number is formatted (`Debug`,
//! `Display`) and serialised (`serde_json`) after driving the real flows, as are every error met
//! along the way and the whole audit trail, and none of the secrets captured from the flows
//! (the codes in the texts, the tokens in the e-mails, the passwords and their hashes, the
//! numbers in E.164 and national form, the session ids, the key) appears in any of them, not
//! even in part (a code's digits, a number's national digits, any 8-character window of a
//! session id, any 16-character window of a key or token secret).
#![allow(clippy::unwrap_used)]

use crate::common::*;
use esr_core::chrono::{NaiveDate, TimeDelta};
use esr_core::{access::*, passcode::*, people::*, store::*, urp::*, values::*, *};
use std::fmt::{Debug, Display};

/// The number registered first (not the fixture's 07700 900374, which the error for a number
/// that is not a mobile gives as its example).
const FIRST_MOBILE: &str = "07700 900186";
/// A second number in Ofcom's drama range, for the change-of-number flow.
const NEW_MOBILE: &str = "07700 900521";
/// The password set through a reset link.
const RESET_PASSWORD: &str = "plum tartan lighthouse 42";
/// A password refused by the policy, whose text must not come back in the error either.
const SHORT_PASSWORD: &str = "Zq9#";

/// Everything shown so far, and the secrets to look for in it.
#[derive(Default)]
struct Exhibits {
    shown: Vec<(String, String)>,
    /// (what the secret is, the text that must not appear).
    needles: Vec<(String, String)>,
}

impl Exhibits {
    fn debug(&mut self, what: &str, v: &impl Debug) {
        self.shown
            .push((format!("{what} (Debug)"), format!("{v:?}")));
        self.shown
            .push((format!("{what} (Debug, pretty)"), format!("{v:#?}")));
    }
    fn display(&mut self, what: &str, v: &impl Display) {
        self.shown
            .push((format!("{what} (Display)"), v.to_string()));
    }
    fn json(&mut self, what: &str, v: &impl serde::Serialize) {
        self.shown.push((
            format!("{what} (serde_json)"),
            serde_json::to_string(v).unwrap(),
        ));
    }
    fn text(&mut self, what: &str, t: impl Into<String>) {
        self.shown.push((what.to_owned(), t.into()));
    }
    /// Records a refusal: its Debug and Display. Returns it for matching.
    fn refused<T: Debug>(&mut self, what: &str, r: Result<T>) -> Error {
        let e = match r {
            Err(e) => e,
            Ok(v) => panic!("{what}: expected a refusal, got {v:?}"),
        };
        self.debug(&format!("error from {what}"), &e);
        self.display(&format!("error from {what}"), &e);
        e
    }

    fn needle(&mut self, what: &str, s: impl Into<String>) {
        let s = s.into();
        assert!(!s.is_empty());
        self.needles.push((what.to_owned(), s));
    }
    /// `s` and every window of `n` characters of it.
    fn windows(&mut self, what: &str, s: &str, n: usize) {
        self.needle(what, s);
        let chars: Vec<char> = s.chars().collect();
        for w in chars.windows(n) {
            self.needle(
                &format!("{n}-character window of {what}"),
                w.iter().collect::<String>(),
            );
        }
    }
    fn session(&mut self, id: SessionId) {
        let hex = id.to_string();
        self.windows("a session id", &hex, 8);
        self.needle("a session id (upper case)", hex.to_uppercase());
    }
    fn mobile(&mut self, typed: &str) {
        let m: MobileNumber = typed.parse().unwrap();
        let e164 = m.expose_e164().to_owned();
        let nsn = e164.trim_start_matches("+44").to_owned();
        self.needle("a mobile number as typed", typed);
        self.needle("a mobile number in E.164", &e164);
        self.needle("a mobile number in national form", format!("0{nsn}"));
        // Any six consecutive national digits: more than the three the masked form shows.
        self.windows("a mobile number's national digits", &nsn, 6);
    }

    /// Every shown text against every secret.
    fn assert_clean(&self) {
        assert!(
            self.shown.len() > 100,
            "too little was shown to prove anything"
        );
        let mut leaks = Vec::new();
        for (what, text) in &self.shown {
            for (secret, needle) in &self.needles {
                if text.contains(needle.as_str()) {
                    leaks.push(format!("{what} shows {secret} ({needle:?}): {text}"));
                }
            }
        }
        assert!(
            leaks.is_empty(),
            "{} leaks:\n{}",
            leaks.len(),
            leaks.join("\n")
        );
    }
}

fn key_secret() -> [u8; 32] {
    let mut k = [0u8; 32];
    for (i, b) in k.iter_mut().enumerate() {
        *b = u8::try_from(i).unwrap().wrapping_mul(37).wrapping_add(11);
    }
    k
}

fn dob() -> NaiveDate {
    NaiveDate::from_ymd_opt(1985, 3, 14).unwrap()
}

/// The account as stored, password hash included (as a storage adapter sees it).
fn stored_account(fx: &Fixture, u: &Username) -> Account {
    fx.esr
        .store()
        .transaction(|tx| tx.account(u))
        .unwrap()
        .unwrap()
}

fn stored_challenge(fx: &Fixture, id: &ChallengeId) -> esr_core::passcode::Challenge {
    fx.esr
        .store()
        .transaction(|tx| tx.challenge(id))
        .unwrap()
        .unwrap()
}

/// Formats and serialises everything about a challenge: the caller's view and the stored one.
fn show_challenge(fx: &Fixture, x: &mut Exhibits, what: &str, c: &PasscodeChallenge) {
    x.debug(what, c);
    x.json(what, c);
    x.text(&format!("{what} message"), c.message());
    let stored = stored_challenge(fx, &c.id);
    x.debug(&format!("stored {what}"), &stored);
    x.json(&format!("stored {what}"), &stored);
    x.debug(&format!("stored {what} tag"), &stored.tag);
    x.debug(&format!("stored {what} binding"), &stored.binding());
    if let Some(d) = &stored.destination {
        x.debug(&format!("stored {what} destination"), d);
        x.text(&format!("stored {what} destination masked"), d.masked());
    }
}

fn show_session(x: &mut Exhibits, what: &str, s: &Session) {
    // A session read back from the store has no id (SessionId::UNKNOWN): nothing to look for.
    if s.id != SessionId::UNKNOWN {
        x.session(s.id);
    }
    x.debug(what, s);
    x.debug(&format!("{what} id"), &s.id);
    x.debug(&format!("{what} audit ref"), &s.id.audit_ref());
    x.display(&format!("{what} audit ref"), &s.id.audit_ref());
    // A session's serialised form is its storage form (esr-sqlite keeps it): it leaves the id,
    // the bearer secret, out, and keeps the key (its SHA-256) the session is looked up by.
    let v = serde_json::to_value(s).unwrap();
    assert!(v.get("id").is_none(), "a serialised session holds its id");
    assert_eq!(v["key"], serde_json::Value::String(s.key.to_string()));
    x.text(&format!("{what} (serde_json)"), v.to_string());
    if let Some(u) = &s.upgrade {
        x.debug(&format!("{what} upgrade"), u);
        x.json(&format!("{what} upgrade"), u);
    }
}

fn show_account(fx: &Fixture, x: &mut Exhibits, what: &str, u: &Username) {
    let acc = stored_account(fx, u);
    if let Some(h) = &acc.password_hash {
        let phc = h.as_phc().to_owned();
        x.needle("a password hash (PHC string)", &phc);
        let hash_part = phc.rsplit('$').next().unwrap().to_owned();
        x.windows("a password hash's digest", &hash_part, 16);
        x.debug(&format!("{what} password hash"), h);
    }
    x.debug(what, &acc);
    x.json(what, &acc);
    let public = fx.esr.account(u).unwrap();
    x.debug(&format!("{what} (service view)"), &public);
    x.json(&format!("{what} (service view)"), &public);
}

fn show_person(fx: &Fixture, x: &mut Exhibits, what: &str, p: &Person) {
    let p = fx.esr.person(p.vpd, &p.employee_number).unwrap();
    x.debug(what, &p);
    x.json(what, &p);
    if let Some(m) = &p.mobile {
        x.debug(&format!("{what} mobile"), m);
        x.display(&format!("{what} mobile"), m);
        x.text(&format!("{what} mobile masked"), m.masked());
    }
}

#[test]
fn no_secret_is_ever_shown() {
    let fx = Fixture::builder()
        .settings(settings(true, true, false))
        .passcodes(PasscodePolicy {
            max_failures: 6,
            ..PasscodePolicy::default()
        })
        .build();
    let esr = &fx.esr;
    let v = fx.vpd();
    let mut x = Exhibits::default();

    // ----- the key and the passwords ------------------------------------------------------------
    let secret = key_secret();
    let key = PasscodeKey::new("props-1", &secret).unwrap();
    x.windows("the passcode key", &hex::encode(secret), 16);
    x.needle(
        "the passcode key (upper-case hex)",
        hex::encode_upper(secret),
    );
    x.debug("passcode key", &key);
    let keys = PasscodeKeys::new(key.clone())
        .rotate(PasscodeKey::new("props-2", &secret.map(|b| b ^ 0x5a)).unwrap())
        .unwrap();
    x.windows(
        "the second passcode key",
        &hex::encode(secret.map(|b| b ^ 0x5a)),
        16,
    );
    x.debug("passcode key ring", &keys);
    esr.set_passcode_keys(keys);
    let e = x.refused(
        "a short passcode key",
        PasscodeKey::new("short", &secret[..16]),
    );
    x.debug("short key error", &e);

    for p in [PASSWORD, RESET_PASSWORD, SHORT_PASSWORD] {
        x.needle("a password", p);
        x.debug("password", &Password::new(p));
    }
    x.mobile(FIRST_MOBILE);
    x.mobile(NEW_MOBILE);
    x.needle("a mobile number in E.164 without +", "447700900186");

    // ----- registering a number ----------------------------------------------------------------
    let m = fx.staff("Mia", "Moss", "Ward 5", None);
    fx.grant(
        m.username(),
        Urp::ManagerSelfServicePayrollApprovalsNotRequired,
        GrantScope::WholeTrust,
    );
    let hscn = esr
        .log_in_with_smartcard(
            m.username(),
            &SmartcardAuthentication::verified_by_caller("CARD-MIA").unwrap(),
        )
        .unwrap();
    show_session(&mut x, "HSCN session", &hscn);
    x.refused(
        "a landline as mobile",
        esr.request_mobile_code(hscn.id, "0191 498 0374"),
    );
    x.refused(
        "a mistyped mobile",
        esr.request_mobile_code(hscn.id, "07700 90037x"),
    );
    let reg = esr.request_mobile_code(hscn.id, FIRST_MOBILE).unwrap();
    show_challenge(&fx, &mut x, "registration challenge", &reg);
    let code = fx.code_sent_to(FIRST_MOBILE);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let out = esr
        .verify_passcode(hscn.id, &reg.id, reg.purpose, wrong)
        .unwrap();
    x.debug("wrong registration code", &out);
    x.refused(
        "a code with letters",
        esr.verify_passcode(hscn.id, &reg.id, reg.purpose, &format!("{}ab", &code[..4])),
    );
    x.refused(
        "a registration resend too soon",
        esr.resend_passcode(hscn.id, &reg.id),
    );
    let out = esr
        .verify_passcode(hscn.id, &reg.id, reg.purpose, &code)
        .unwrap();
    x.debug("registration approved", &out);
    if let VerifyOutcome::Approved(a) = &out {
        x.debug("registration approval", a);
    } else {
        panic!("{out:?}");
    }
    let again = esr
        .verify_passcode(hscn.id, &reg.id, reg.purpose, &code)
        .unwrap();
    x.debug("registration code reused", &again);
    show_person(&fx, &mut x, "registered person", &m.person);
    let mobile: MobileNumber = FIRST_MOBILE.parse().unwrap();
    let confirmation = MobileConfirmation::verified_by_caller(hscn.id, mobile.clone());
    x.debug("mobile confirmation", &confirmation);
    x.debug("confirmation's mobile", confirmation.mobile());
    x.refused(
        "a confirmation for another session",
        esr.register_mobile(fx.t().session_a, &confirmation),
    );

    // Changing to a new number, with the code expiring once first.
    fx.clock.advance(TimeDelta::minutes(2));
    let change = esr.request_mobile_code(hscn.id, NEW_MOBILE).unwrap();
    show_challenge(&fx, &mut x, "change challenge", &change);
    fx.clock.advance(TimeDelta::minutes(10));
    let expired = esr
        .verify_passcode(
            hscn.id,
            &change.id,
            change.purpose,
            &fx.code_sent_to(NEW_MOBILE),
        )
        .unwrap();
    x.debug("expired change code", &expired);
    let status = esr.passcode_status(hscn.id, &change.id).unwrap();
    show_challenge(&fx, &mut x, "expired change challenge", &status);
    let change = esr.resend_passcode(hscn.id, &change.id).unwrap();
    show_challenge(&fx, &mut x, "resent change challenge", &change);
    let out = esr
        .verify_passcode(
            hscn.id,
            &change.id,
            change.purpose,
            &fx.code_sent_to(NEW_MOBILE),
        )
        .unwrap();
    assert!(out.is_approved(), "{out:?}");
    x.debug("change approved", &out);
    show_person(&fx, &mut x, "person with a changed number", &m.person);
    // And back to the first number, so the upgrade texts go there.
    fx.clock.advance(TimeDelta::minutes(2));
    let back = esr.request_mobile_code(hscn.id, FIRST_MOBILE).unwrap();
    let out = esr
        .verify_passcode(
            hscn.id,
            &back.id,
            back.purpose,
            &fx.code_sent_to(FIRST_MOBILE),
        )
        .unwrap();
    assert!(out.is_approved(), "{out:?}");
    esr.log_out(hscn.id).unwrap();
    fx.clock.advance(TimeDelta::seconds(31));
    x.refused("an ended session", esr.functions(hscn.id));

    // ----- log-ins and the upgrade --------------------------------------------------------------
    x.refused(
        "a wrong password",
        esr.log_in_with_password(
            &m.username().to_string(),
            &Password::new("not the password"),
        ),
    );
    x.refused(
        "a password for nobody",
        esr.log_in_with_password("297NOBODY01", &Password::new(PASSWORD)),
    );
    x.refused(
        "a password as the username",
        esr.log_in_with_password(PASSWORD, &Password::new(PASSWORD)),
    );
    let web = fx.internet(m.username()).unwrap();
    show_session(&mut x, "internet session", &web);
    let other = fx.internet(m.username()).unwrap();
    show_session(&mut x, "second internet session", &other);
    let up = esr.request_upgrade_code(web.id).unwrap();
    show_challenge(&fx, &mut x, "upgrade challenge", &up);
    let first_code = fx.code_sent_to(FIRST_MOBILE);
    x.refused(
        "an upgrade resend too soon",
        esr.resend_passcode(web.id, &up.id),
    );
    x.refused(
        "a resend from another session",
        esr.resend_passcode(other.id, &up.id),
    );
    fx.clock.advance(TimeDelta::seconds(31));
    let up2 = esr.resend_passcode(web.id, &up.id).unwrap();
    show_challenge(&fx, &mut x, "resent upgrade challenge", &up2);
    let code = fx.code_sent_to(FIRST_MOBILE);
    for (what, session, id, purpose, typed) in [
        (
            "superseded code",
            web.id,
            up.id,
            up.purpose,
            first_code.as_str(),
        ),
        (
            "code in another session",
            other.id,
            up2.id,
            up2.purpose,
            code.as_str(),
        ),
        (
            "code for another purpose",
            web.id,
            up2.id,
            Purpose::RegisterMobile,
            code.as_str(),
        ),
        ("wrong code", web.id, up2.id, up2.purpose, wrong),
    ] {
        let out = esr.verify_passcode(session, &id, purpose, typed).unwrap();
        assert!(!out.is_approved(), "{what}: {out:?}");
        x.debug(what, &out);
    }
    x.refused(
        "a verification with an unknown session",
        esr.verify_passcode(SessionId::from_bytes([7; 16]), &up2.id, up2.purpose, &code),
    );
    x.session(SessionId::from_bytes([7; 16]));
    let out = esr
        .verify_passcode(
            web.id,
            &up2.id,
            up2.purpose,
            &format!(" {}-{} ", &code[..3], &code[3..]),
        )
        .unwrap();
    x.debug("upgrade approved", &out);
    match &out {
        VerifyOutcome::Approved(a @ Approved::SessionUpgraded(s)) => {
            x.debug("upgrade approval", a);
            show_session(&mut x, "upgraded session", s);
        }
        other => panic!("{other:?}"),
    }
    x.refused("a second upgrade", esr.request_upgrade_code(web.id));
    x.refused("a second upgrade check", esr.check_upgrade(web.id));
    let proof = StepUpProof::verified_by_caller(other.id, "sms-otp").unwrap();
    x.debug("step-up proof", &proof);
    x.debug("step-up proof's session", &proof.session());
    let upgraded = esr.upgrade_session(&proof).unwrap();
    show_session(&mut x, "session upgraded by proof", &upgraded);
    x.refused("an upgrade by a used proof", esr.upgrade_session(&proof));
    let wrong_proof = StepUpProof::verified_by_caller(web.id, "sms-otp").unwrap();
    x.debug("a proof for an upgraded session", &wrong_proof);

    // ----- the step-up lock ---------------------------------------------------------------------
    let third = fx.internet(m.username()).unwrap();
    show_session(&mut x, "third internet session", &third);
    fx.clock.advance(TimeDelta::minutes(11));
    let mut c = esr.request_upgrade_code(third.id).unwrap();
    // Wrong codes until step-up locks (earlier wrong codes in the window count too); a
    // challenge the guesses kill is replaced by a resend.
    loop {
        let out = esr
            .verify_passcode(third.id, &c.id, c.purpose, wrong)
            .unwrap();
        x.debug("a guess towards the lock", &out);
        match out {
            VerifyOutcome::Locked => break,
            VerifyOutcome::TooManyAttempts => {
                fx.clock.advance(TimeDelta::seconds(31));
                c = esr.resend_passcode(third.id, &c.id).unwrap();
            }
            _ => {}
        }
    }
    show_account(&fx, &mut x, "step-up-locked account", m.username());
    x.refused("a code while locked", esr.request_upgrade_code(third.id));
    x.refused("a check while locked", esr.check_upgrade(third.id));
    let locked = esr
        .verify_passcode(third.id, &c.id, c.purpose, &fx.code_sent_to(FIRST_MOBILE))
        .unwrap();
    x.debug("the right code while locked", &locked);
    let cleared = esr
        .clear_step_up_lock(&system(), m.username(), "user called the service desk")
        .unwrap();
    x.debug("cleared account", &cleared);
    x.refused(
        "clearing a lock twice",
        esr.clear_step_up_lock(&system(), m.username(), "again"),
    );

    // ----- send limits ------------------------------------------------------------------------
    fx.clock.advance(TimeDelta::minutes(11));
    let mut last = esr.request_upgrade_code(third.id).unwrap();
    let mut limited: Result<()> = Ok(());
    for _ in 0..6 {
        fx.clock.advance(TimeDelta::seconds(31));
        match esr.resend_passcode(third.id, &last.id) {
            Ok(c) => last = c,
            Err(e) => {
                limited = Err(e);
                break;
            }
        }
    }
    let e = x.refused("too many sends", limited);
    assert!(matches!(e, Error::TooManySends { .. }), "{e:?}");

    // ----- lock-out, unlock and reset links ------------------------------------------------------
    let emma = fx.staff("Emma", "Conroy", "Ward 6", None);
    for _ in 0..5 {
        x.refused(
            "a failed log-in towards the lock",
            esr.log_in_with_password(&emma.username().to_string(), &Password::new(RESET_PASSWORD)),
        );
    }
    x.refused("a log-in to a locked account", fx.internet(emma.username()));
    show_account(&fx, &mut x, "locked account", emma.username());
    let email = format!("staff{}@nhs.net", emma.employee());
    let asked = esr.request_unlock_link(v, &email, dob()).unwrap();
    x.debug("recovery answer", &asked);
    x.text("recovery answer message", asked.message());
    let unlock_mail = fx
        .outbox
        .last_email_to(&email.parse().unwrap())
        .expect("an unlock e-mail");
    let unlock_token = unlock_mail.expose_token().expose().to_owned();
    x.refused(
        "a tampered unlock link",
        esr.unlock_with_link(&format!("{}0", &unlock_token[..unlock_token.len() - 1])),
    );
    x.refused(
        "an unlock link used to reset",
        esr.reset_password_with_link(&unlock_token, &Password::new(RESET_PASSWORD)),
    );
    let who = esr.unlock_with_link(&unlock_token).unwrap();
    x.debug("unlocked username", &who);
    x.refused(
        "an unlock link used twice",
        esr.unlock_with_link(&unlock_token),
    );
    fx.clock.advance(TimeDelta::minutes(11));
    esr.request_username_reminder(v, &email, dob()).unwrap();
    let reset_mail = fx.outbox.last_email_to(&email.parse().unwrap()).unwrap();
    let reset_token = reset_mail.expose_token().expose().to_owned();
    x.refused(
        "a weak password through a link",
        esr.reset_password_with_link(&reset_token, &Password::new(SHORT_PASSWORD)),
    );
    let who = esr
        .reset_password_with_link(&reset_token, &Password::new(RESET_PASSWORD))
        .unwrap();
    x.debug("reset username", &who);
    x.refused(
        "a reset link used twice",
        esr.reset_password_with_link(&reset_token, &Password::new(RESET_PASSWORD)),
    );
    show_account(&fx, &mut x, "reset account", emma.username());
    fx.clock.advance(TimeDelta::minutes(11));
    esr.request_username_reminder(v, &email, dob()).unwrap();
    let late_mail = fx.outbox.last_email_to(&email.parse().unwrap()).unwrap();
    fx.clock.advance(TimeDelta::hours(4));
    x.refused(
        "an expired reset link",
        esr.reset_password_with_link(
            late_mail.expose_token().expose(),
            &Password::new(RESET_PASSWORD),
        ),
    );
    x.refused("a link that is not one", esr.unlock_with_link(PASSWORD));
    x.refused(
        "a weak password set by an administrator",
        esr.set_password(&system(), emma.username(), &Password::new(SHORT_PASSWORD)),
    );
    esr.request_username_reminder(v, "nobody@nhs.net", dob())
        .unwrap();

    // Expired and ended sessions.
    let gone = esr
        .log_in_with_password(&emma.username().to_string(), &Password::new(RESET_PASSWORD))
        .unwrap();
    show_session(&mut x, "emma's session", &gone);
    fx.clock.advance(TimeDelta::hours(24));
    x.refused("an expired session", esr.request_upgrade_code(gone.id));
    x.refused("an expired session's functions", esr.functions(gone.id));
    x.refused("logging out of an expired session", esr.log_out(gone.id));
    let ended = fx.hscn(emma.username());
    esr.log_out(ended).unwrap();
    x.session(ended);
    x.refused(
        "a logged-out session",
        esr.decide(ended, Function::MyCompliance),
    );
    x.refused(
        "an unknown session",
        esr.decide(SessionId::from_bytes([9; 16]), Function::MyCompliance),
    );
    x.session(SessionId::from_bytes([9; 16]));

    // ----- everything sent, and the audit trail -------------------------------------------------
    for sent in fx.outbox.sent() {
        x.debug("an outbox message", &sent);
        match &sent {
            Sent::Sms(s) => {
                let text = s.expose_text().to_owned();
                let code: String = text
                    .split(|c: char| !c.is_ascii_digit())
                    .find(|w| w.len() == 6)
                    .unwrap()
                    .to_owned();
                x.needle("a texted code", code);
                x.debug("a text message", s);
                x.debug("a text's recipient", s.to());
                x.display("a text's recipient", s.to());
            }
            Sent::Email(e) => {
                let token = e.expose_token().expose().to_owned();
                let (_, secret) = token.split_once('.').unwrap();
                x.needle("a recovery token", &token);
                x.windows("a recovery token's secret", secret, 16);
                x.debug("an e-mail", e);
                x.debug("an e-mail's token", e.expose_token());
            }
        }
    }
    x.debug("the outbox", &*fx.outbox);
    let codes = x
        .needles
        .iter()
        .filter(|(w, _)| w == "a texted code")
        .count();
    assert!(codes >= 12, "only {codes} codes were texted");
    for (id, code) in x
        .needles
        .iter()
        .filter(|(w, _)| w == "a texted code")
        .map(|(_, c)| c.clone())
        .enumerate()
        .collect::<Vec<_>>()
    {
        x.debug(
            &format!("typed code {id}"),
            &Passcode::typed(&code, 6).unwrap(),
        );
    }

    let trail = fx.audit(v);
    assert!(trail.len() > 50);
    for e in &trail {
        x.debug("an audit entry", e);
        x.json("an audit entry", e);
        x.display("an audit actor", &e.actor);
        x.debug("an audit event", &e.event);
        x.display("an audit event", &e.event);
        x.json("an audit event", &e.event);
    }
    x.debug("the audit head", &esr.verify_audit(v).unwrap());
    x.json("the audit trail", &trail);
    show_account(&fx, &mut x, "manager's account", m.username());
    show_account(
        &fx,
        &mut x,
        "administrator's account",
        fx.t().admin_a.username(),
    );
    for s in esr.live_sessions(m.username()).unwrap() {
        show_session(&mut x, "a live session", &s);
    }
    for p in esr.people(v).unwrap() {
        show_person(&fx, &mut x, "a person", &p);
    }

    x.assert_clean();
}
