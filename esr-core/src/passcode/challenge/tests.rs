use super::*;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

fn user() -> Username {
    "297JSMITH01".parse().unwrap()
}

#[test]
fn codes_are_uniform_enough_and_well_formed() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let mut first_digit = [0u32; 10];
    for _ in 0..20_000 {
        let c = Passcode::generate(&mut rng, 6).unwrap();
        assert_eq!(c.expose().len(), 6);
        assert!(c.expose().bytes().all(|b| b.is_ascii_digit()));
        first_digit[usize::from(c.expose().as_bytes()[0] - b'0')] += 1;
    }
    // Each leading digit (leading zeros included) about 2,000 times: a chi-squared bound
    // that a modulo-biased or zero-dropping generator would fail.
    let chi2: f64 = first_digit
        .iter()
        .map(|&n| (f64::from(n) - 2000.0).powi(2) / 2000.0)
        .sum();
    assert!(chi2 < 30.0, "{first_digit:?} chi2 {chi2}");
    for d in 6..=10 {
        assert_eq!(
            Passcode::generate(&mut rng, d).unwrap().expose().len(),
            usize::from(d)
        );
    }
    assert!(Passcode::generate(&mut rng, 5).is_err());
    assert!(Passcode::generate(&mut rng, 11).is_err());
}

#[test]
fn typed_codes_are_checked_without_guessing() {
    assert_eq!(Passcode::typed(" 123 456 ", 6).unwrap().expose(), "123456");
    assert_eq!(Passcode::typed("123-456", 6).unwrap().expose(), "123456");
    for bad in [
        "12345",
        "1234567",
        "12345a",
        "",
        "１２３４５６",
        &"1".repeat(100),
    ] {
        assert!(Passcode::typed(bad, 6).is_err(), "{bad:?}");
    }
    assert_eq!(
        format!("{:?}", Passcode::typed("123456", 6).unwrap()),
        "Passcode(<redacted>)"
    );
}

#[test]
fn tags_differing_in_any_byte_do_not_match() {
    let t = PasscodeTag([0x5a; 32]);
    assert!(t.matches(&PasscodeTag([0x5a; 32])));
    for i in 0..32 {
        for bit in 0..8 {
            let mut other = [0x5a; 32];
            other[i] ^= 1 << bit;
            assert!(!t.matches(&PasscodeTag(other)), "byte {i} bit {bit}");
        }
    }
}

#[test]
fn tags_bind_every_field() {
    let key = PasscodeKey::new("k1", b"key-07-abcdefghijklmnopqrstuvwxy").unwrap();
    let id = ChallengeId::from_bytes([1; 16]);
    let u = user();
    let other_user: Username = "297JSMITH02".parse().unwrap();
    let s1 = "aaaaaaaaaaaaaaaa".parse::<SessionRef>().unwrap();
    let s2 = "bbbbbbbbbbbbbbbb".parse::<SessionRef>().unwrap();
    let base = Binding {
        challenge: &id,
        vpd: "297".parse().unwrap(),
        username: &u,
        session: Some(&s1),
        purpose: Purpose::UpgradeSession,
    };
    let t = key.tag(&base, b"123456");
    assert!(t.matches(&key.tag(&base, b"123456")));
    assert!(!t.matches(&key.tag(&base, b"123457")));
    let id2 = ChallengeId::from_bytes([2; 16]);
    for b in [
        Binding {
            challenge: &id2,
            ..base
        },
        Binding {
            vpd: "999".parse().unwrap(),
            ..base
        },
        Binding {
            username: &other_user,
            ..base
        },
        Binding {
            session: Some(&s2),
            ..base
        },
        Binding {
            session: None,
            ..base
        },
        Binding {
            purpose: Purpose::RegisterMobile,
            ..base
        },
    ] {
        assert!(!t.matches(&key.tag(&b, b"123456")), "{b:?}");
    }
    let other_key = PasscodeKey::new("k2", b"key-08-abcdefghijklmnopqrstuvwxy").unwrap();
    assert!(!t.matches(&other_key.tag(&base, b"123456")));
}

#[test]
fn keys_are_checked_and_never_shown() {
    assert!(PasscodeKey::new("k", &[0u8; 31]).is_err());
    assert!(PasscodeKey::new("bad id!", b"key-00-abcdefghijklmnopqrstuvwxy").is_err());
    // A key of one repeated byte is a placeholder, whatever its length.
    for b in [0u8, 0x42, 0xff] {
        let e = PasscodeKey::new("k", &[b; 64]).unwrap_err();
        assert!(e.to_string().contains("one byte repeated"), "{e}");
    }
    // One byte different is enough to be accepted (the rule is about placeholders).
    let mut almost = [0u8; 32];
    almost[31] = 1;
    assert!(PasscodeKey::new("k", &almost).is_ok());
    let k = PasscodeKey::new("k1", b"key-5a-abcdefghijklmnopqrstuvwxy").unwrap();
    let d = format!("{k:?}");
    assert_eq!(d, "PasscodeKey(k1, secret: <redacted>)");
    let ring = PasscodeKeys::new(k.clone());
    assert!(ring.clone().with_retired(k.clone()).is_err());
    let ring = ring
        .rotate(PasscodeKey::new("k2", b"key-6b-abcdefghijklmnopqrstuvwxy").unwrap())
        .unwrap();
    assert_eq!(ring.current().id().as_str(), "k2");
    assert!(ring.get(&"k1".parse().unwrap()).is_some());
    assert!(!format!("{ring:?}").contains("5a5a"));
}

#[test]
fn tokens_round_trip_and_refuse_junk() {
    let id = ChallengeId::from_bytes([9; 16]);
    let t = RecoveryToken::new(&id, &[3; 32]);
    assert_eq!(RecoveryToken::parse(t.expose()).unwrap(), (id, [3; 32]));
    assert_eq!(format!("{t:?}"), "RecoveryToken(<redacted>)");
    for bad in ["", "x", &t.expose()[1..], &t.expose().replace('.', "-")] {
        assert_eq!(
            RecoveryToken::parse(bad).unwrap_err(),
            Error::RecoveryLinkRefused(LinkProblem::NotRecognised)
        );
    }
}

#[test]
fn the_600th_second_is_expired() {
    let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let key = PasscodeKey::new("k1", b"key-07-abcdefghijklmnopqrstuvwxy").unwrap();
    let id = ChallengeId::from_bytes([1; 16]);
    let c = Challenge {
        id,
        vpd: "297".parse().unwrap(),
        username: user(),
        session: None,
        purpose: Purpose::UpgradeSession,
        destination: None,
        key_id: key.id().clone(),
        tag: PasscodeTag([0; 32]),
        digits: 6,
        issued_at: t0,
        expires_at: t0 + Purpose::UpgradeSession.lifetime(),
        attempts: 0,
        status: ChallengeStatus::Pending,
        settled_at: None,
    };
    let just_before = t0 + TimeDelta::seconds(600) - TimeDelta::milliseconds(1);
    assert_eq!(c.status_at(just_before), ChallengeStatus::Pending);
    assert_eq!(
        c.status_at(t0 + TimeDelta::seconds(600)),
        ChallengeStatus::Expired
    );
    assert_eq!(Purpose::ResetPassword.lifetime(), TimeDelta::hours(4));
}

#[test]
fn policy_limits() {
    PasscodePolicy::default().check().unwrap();
    let bad = [
        PasscodePolicy {
            digits: 5,
            ..Default::default()
        },
        PasscodePolicy {
            digits: 11,
            ..Default::default()
        },
        PasscodePolicy {
            max_attempts: 0,
            ..Default::default()
        },
        PasscodePolicy {
            max_failures: 101,
            ..Default::default()
        },
        PasscodePolicy {
            max_sends: 0,
            ..Default::default()
        },
        PasscodePolicy {
            send_window: TimeDelta::seconds(5),
            ..Default::default()
        },
        PasscodePolicy {
            min_resend_interval: TimeDelta::seconds(-1),
            ..Default::default()
        },
    ];
    for p in bad {
        assert!(p.check().is_err(), "{p:?}");
    }
}

#[test]
fn email_destinations_are_masked() {
    let d = Destination::Email("jane.smith@nhs.net".parse().unwrap());
    assert_eq!(d.masked(), "j…@nhs.net");
    assert!(!format!("{d:?}").contains("smith"));
}

#[test]
fn a_flattened_outcome_keeps_its_status_and_the_details_it_carried() {
    let wrong = VerifyOutcome::WrongCode { attempts_left: 2 }.flatten();
    assert_eq!(wrong.status, VerifyStatus::WrongCode);
    assert_eq!(wrong.attempts_left, Some(2));
    assert!(!wrong.is_approved() && wrong.session.is_none());
    let mobile = VerifyOutcome::Approved(Approved::MobileRegistered {
        masked: "07*** ***374".into(),
        changed: true,
    });
    assert_eq!(mobile.as_str(), "approved");
    let mobile = mobile.flatten();
    assert!(mobile.is_approved() && mobile.mobile_changed);
    assert_eq!(mobile.masked_mobile.as_deref(), Some("07*** ***374"));
    for (o, name) in [
        (VerifyOutcome::Expired, "expired"),
        (VerifyOutcome::AlreadyUsed, "already used"),
        (VerifyOutcome::Superseded, "superseded"),
        (VerifyOutcome::TooManyAttempts, "max attempts reached"),
        (VerifyOutcome::Locked, "locked"),
        (VerifyOutcome::UnknownChallenge, "unknown challenge"),
    ] {
        assert_eq!(o.as_str(), name);
        let flat = o.flatten();
        assert_eq!(flat.status.as_str(), name);
        assert_eq!(
            (
                flat.attempts_left,
                flat.session,
                flat.masked_mobile,
                flat.mobile_changed
            ),
            (None, None, None, false)
        );
    }
}
