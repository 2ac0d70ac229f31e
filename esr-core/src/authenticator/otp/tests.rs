use super::*;
use proptest::prelude::*;

const SEED20: &[u8] = b"12345678901234567890";
const SEED32: &[u8] = b"12345678901234567890123456789012";
const SEED64: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

#[test]
fn rfc4226_appendix_d() {
    let want = [
        755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
    ];
    for (counter, code) in want.into_iter().enumerate() {
        assert_eq!(
            hotp(SEED20, counter as u64, 6, TotpAlgorithm::Sha1),
            code,
            "count {counter}"
        );
    }
}

#[test]
fn rfc6238_appendix_b() {
    let rows: [(i64, &str, &str, &str); 6] = [
        (59, "94287082", "46119246", "90693936"),
        (1111111109, "07081804", "68084774", "25091201"),
        (1111111111, "14050471", "67062674", "99943326"),
        (1234567890, "89005924", "91819424", "93441116"),
        (2000000000, "69279037", "90698825", "38618901"),
        (20000000000, "65353130", "77737706", "47863826"),
    ];
    let make = |seed: &[u8], algorithm| {
        let params = TotpParams {
            algorithm,
            digits: 8,
            period: 30,
        };
        Totp::new(TotpSecret::from_bytes(seed).unwrap(), params, "RFC", "6238").unwrap()
    };
    let sha1 = make(SEED20, TotpAlgorithm::Sha1);
    let sha256 = make(SEED32, TotpAlgorithm::Sha256);
    let sha512 = make(SEED64, TotpAlgorithm::Sha512);
    for (t, a, b, c) in rows {
        assert_eq!(sha1.code_at(t), a, "SHA1 at {t}");
        assert_eq!(sha256.code_at(t), b, "SHA256 at {t}");
        assert_eq!(sha512.code_at(t), c, "SHA512 at {t}");
    }
}

fn demo() -> Totp {
    Totp::new(
        TotpSecret::from_bytes(SEED20).unwrap(),
        TotpParams::default(),
        "Royal Berkshire NHS FT",
        "297ECONROY01",
    )
    .unwrap()
}

#[test]
fn the_uri_is_what_apps_read_and_reads_back() {
    let t = demo();
    let uri = t.uri();
    assert_eq!(
        uri.expose(),
        "otpauth://totp/Royal%20Berkshire%20NHS%20FT:297ECONROY01?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Royal%20Berkshire%20NHS%20FT&algorithm=SHA1&digits=6&period=30"
    );
    let back = Totp::from_uri(uri.expose()).unwrap();
    assert_eq!(back, t);
    assert!(!format!("{uri:?}").contains("GEZD"));
    assert!(!format!("{t:?}").contains("GEZD"));
}

#[test]
fn label_characters_are_escaped() {
    let t = Totp::new(
        TotpSecret::from_bytes(SEED20).unwrap(),
        TotpParams::default(),
        "St Mary's & Co: A/B",
        "a@b c",
    )
    .unwrap();
    let uri = t.uri();
    assert!(
        uri.expose()
            .starts_with("otpauth://totp/St%20Mary%27s%20%26%20Co%3A%20A%2FB:a%40b%20c?")
    );
    let back = Totp::from_uri(uri.expose()).unwrap();
    assert_eq!(back.issuer(), "St Mary's & Co: A/B");
    assert_eq!(back.account(), "a@b c");
}

#[test]
fn uris_that_are_not_totp_are_refused() {
    for bad in [
        "https://example.invalid/",
        "otpauth://hotp/x?secret=GEZDGNBVGY3TQOJQ",
        "otpauth://totp/x?issuer=y",
        "otpauth://totp/x?secret=1111",
        "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBV&digits=9",
        "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBV&algorithm=MD5",
    ] {
        assert!(Totp::from_uri(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_window_and_the_replay_guard() {
    let t = demo();
    let now = 1_700_000_000;
    let step = t.step_at(now);
    let code = |s: u64| t.code_at_step(s);
    assert_eq!(
        t.check(&code(step), now, 1, None),
        StepCheck::Accepted(step)
    );
    assert_eq!(
        t.check(&code(step - 1), now, 1, None),
        StepCheck::Accepted(step - 1)
    );
    assert_eq!(
        t.check(&code(step + 1), now, 1, None),
        StepCheck::Accepted(step + 1)
    );
    assert_eq!(t.check(&code(step + 2), now, 1, None), StepCheck::Wrong);
    assert_eq!(t.check(&code(step - 2), now, 1, None), StepCheck::Wrong);
    assert_eq!(
        t.check(&code(step), now, 0, None),
        StepCheck::Accepted(step)
    );
    assert_eq!(t.check(&code(step - 1), now, 0, None), StepCheck::Wrong);
    assert_eq!(
        t.check(&code(step), now, 1, Some(step)),
        StepCheck::Replayed(step)
    );
    assert_eq!(
        t.check(&code(step - 1), now, 1, Some(step)),
        StepCheck::Replayed(step - 1)
    );
    assert_eq!(
        t.check(&code(step + 1), now, 1, Some(step)),
        StepCheck::Accepted(step + 1)
    );
}

#[test]
fn seconds_left_in_the_step() {
    let t = demo();
    assert_eq!(t.seconds_left(0), 30);
    assert_eq!(t.seconds_left(29), 1);
    assert_eq!(t.seconds_left(30), 30);
    assert_eq!(t.seconds_left(59), 1);
}

proptest! {
    /// Nothing outside the window is accepted, nothing at or before the last accepted step.
    #[test]
    fn accepted_steps_are_in_the_window_and_fresh(
        secret in proptest::collection::vec(any::<u8>(), 20),
        now in 0i64..4_000_000_000,
        offset in -5i64..=5,
        window in 0u8..=3,
        last in proptest::option::of(0u64..200_000_000),
    ) {
        let t = Totp::new(
            TotpSecret::from_bytes(&secret).unwrap(),
            TotpParams::default(),
            "T",
            "A",
        ).unwrap();
        let step = t.step_at(now).saturating_add_signed(offset);
        let code = t.code_at_step(step);
        if let StepCheck::Accepted(s) = t.check(&code, now, window, last) {
            let now_step = t.step_at(now);
            prop_assert!(s + u64::from(window) >= now_step && s <= now_step + u64::from(window));
            prop_assert!(last.is_none_or(|l| s > l));
        }
        // A code of its own step, inside the window and fresh, is always accepted.
        if offset.unsigned_abs() <= u64::from(window) && last.is_none_or(|l| step > l) {
            prop_assert!(matches!(t.check(&code, now, window, last), StepCheck::Accepted(_)));
        }
    }

    /// Base32 round-trips.
    #[test]
    fn base32_round_trips(secret in proptest::collection::vec(any::<u8>(), 10..=64)) {
        let s = TotpSecret::from_bytes(&secret).unwrap();
        prop_assert_eq!(TotpSecret::from_base32(&s.to_base32()).unwrap(), s);
    }
}

#[test]
fn stack_digits_are_the_padded_text() {
    for (n, d) in [
        (0, 6),
        (7, 6),
        (123_456, 6),
        (99_999_999, 8),
        (42, 8),
        (1_234_567, 7),
    ] {
        let (b, len) = code_digits(n, d);
        assert_eq!(&b[..len], code_text(n, d).as_bytes());
    }
}

#[test]
fn a_keyed_mac_gives_every_steps_code() {
    let secret = b"12345678901234567890";
    for alg in [
        TotpAlgorithm::Sha1,
        TotpAlgorithm::Sha256,
        TotpAlgorithm::Sha512,
    ] {
        let keyed = KeyedMac::new(secret, alg);
        for step in [0u64, 1, 37_037_036, 41_152_263] {
            let once = KeyedMac::new(secret, alg).code(step, 8);
            assert_eq!(keyed.code(step, 8), once);
        }
    }
    // RFC 4226 appendix D, counters 0 and 1.
    assert_eq!(hotp(secret, 0, 6, TotpAlgorithm::Sha1), 755_224);
    assert_eq!(hotp(secret, 1, 6, TotpAlgorithm::Sha1), 287_082);
}
