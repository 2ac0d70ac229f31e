//! The size of every text the library accepts, in one place.
//!
//! Each limit is checked where the value is parsed or built, before any expensive work on it
//! (hashing a password, parsing a phone number, transliterating a name), and a value over it is
//! refused with [`crate::Error::InvalidInput`] saying how long it is and what the most is:
//! `invalid surname: it is 101 characters long; the most is 100; shorten it`. Limits named
//! `…_CHARS` count Unicode scalar values (characters, after trimming surrounding spaces where the
//! value is trimmed); limits named `…_BYTES` count UTF-8 bytes. Names and identifiers refuse
//! control characters (NUL, line breaks) whatever their length.
//!
//! Fixed-width identifiers (VPD codes, session, grant and challenge ids) are checked for their
//! exact shape and have no separate limit. The competence CSV import is streamed and has its own
//! limits (see the README's Limits table).

/// A person's given name or surname (and each name given to a username stem), in characters:
/// ESR's screens hold 100.
pub const MAX_NAME_CHARS: usize = 100;

/// Other one-line text: a trust's name, an organisation unit's name, a job title, in characters.
/// Generous for the longest NHS trust names (about 80 characters).
pub const MAX_TEXT_CHARS: usize = 200;

/// A free-text reason recorded in the audit trail (suspending, unlocking, ending an account,
/// granting or revoking a URP, clearing a step-up lock), in characters: room for a few
/// sentences, not for a document.
pub const MAX_REASON_CHARS: usize = 2_000;

/// An organisation unit's code (`297 Ward 5`), in characters.
pub const MAX_ORG_UNIT_ID_CHARS: usize = 80;

/// A position's code (`297|Staff Nurse|Ward 5|`), in characters.
pub const MAX_POSITION_ID_CHARS: usize = 120;

/// An employee number, in digits (at least 6).
pub const MAX_EMPLOYEE_NUMBER_CHARS: usize = 12;

/// An assignment number, in characters: 12 digits, `-` and a 3-digit suffix.
pub const MAX_ASSIGNMENT_NUMBER_CHARS: usize = 16;

/// An e-mail address, in bytes: the most a path in RFC 5321 allows (256 octets less the angle
/// brackets).
pub const MAX_EMAIL_BYTES: usize = 254;

/// Any password given to the library (log-in, setting, resetting), in bytes: argon2 would hash
/// anything, so without a limit a caller could make every log-in hash megabytes. A new password
/// must also meet the policy ([`MIN_PASSWORD_CHARS`] to [`MAX_PASSWORD_CHARS`]).
pub const MAX_PASSWORD_BYTES: usize = 1_024;

/// The shortest new password the policy accepts, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// The longest new password the policy accepts, in characters (at most 512 bytes, within
/// [`MAX_PASSWORD_BYTES`]).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A username as typed, in characters after trimming: a VPD code, an initial, a surname of at
/// most 24 letters and a sequence of at most three digits.
pub const MAX_USERNAME_CHARS: usize = 3 + 1 + MAX_SURNAME_CHARS + 3;

/// The most letters of a surname a username keeps (longer ones are cut there).
pub const MAX_SURNAME_CHARS: usize = 24;

/// A mobile number as people type it, before parsing, in characters: E.164 numbers have at most
/// 15 digits; the rest is room for spaces and punctuation. Checked before the number is parsed.
pub const MAX_PHONE_CHARS: usize = 40;

/// A one-time passcode as typed (digits with spaces or hyphens), in bytes: a code has at most 10
/// digits.
pub const MAX_PASSCODE_BYTES: usize = 64;

/// A recovery link's token, in characters after trimming: exactly a 32-digit challenge id, `.`
/// and 64 hexadecimal digits; anything longer is refused before it is split.
pub const MAX_RECOVERY_TOKEN_CHARS: usize = 32 + 1 + 64;

/// A trust's SMS template, in characters: two text messages' worth.
pub const MAX_SMS_TEMPLATE_CHARS: usize = 300;

/// A competence's name (`NHS|CSTF|Fire Safety - 1 Year|`, owner, framework and title together),
/// in characters.
pub const MAX_COMPETENCE_NAME_CHARS: usize = 240;

/// A certification's, course's or class's name, in characters (when defined, and when named in a
/// lookup: a longer name cannot name anything).
pub const MAX_LEARNING_NAME_CHARS: usize = 160;

/// The name of a system process acting on the library (`nhs-jobs-feed`), recorded in the audit
/// trail, in characters.
pub const MAX_ACTOR_NAME_CHARS: usize = 80;

/// A locally configured BI portlet's name, in characters.
pub const MAX_PORTLET_NAME_CHARS: usize = 80;

/// A URP's name (`Manager Self Service (Payroll Approvals Required)`), in characters; the longest
/// in the catalogue is well under it.
pub const MAX_URP_NAME_CHARS: usize = 100;

/// A competence level's label (`Level 2`), in characters.
pub const MAX_COMPETENCE_LEVEL_CHARS: usize = 60;

/// A smartcard's identifier, as the embedding application verified it, in characters.
pub const MAX_SMARTCARD_ID_CHARS: usize = 64;

/// The name of the second factor an embedding application verified itself (`authenticator
/// app`), in characters.
pub const MAX_STEP_UP_METHOD_CHARS: usize = 40;

/// A Caldicott exception's reference, in characters.
pub const MAX_EXCEPTION_REFERENCE_CHARS: usize = 80;

/// A passcode key's id, in bytes (`A-Z a-z 0-9 - _ .`).
pub const MAX_KEY_ID_BYTES: usize = 32;

/// How an error message shows a text it was given: quoted (`"Fire Safety"`), or only its length
/// when it is over 100 bytes (`a text of 65536 characters`), so that a message never echoes a
/// huge input back. The Python and uniffi bindings use it for their own messages too.
pub fn shown(text: &str) -> String {
    const MOST: usize = 100;
    if text.len() <= MOST {
        format!("{text:?}")
    } else {
        format!("a text of {} characters", text.chars().count())
    }
}

/// Refuses `s` when it has more than `max` characters, saying how many it has. Cheap when `s` is
/// short: the characters are counted only when there are more bytes than `max`.
pub(crate) fn check_chars(
    what: &'static str,
    s: &str,
    max: usize,
) -> Result<(), crate::values::ValueError> {
    if s.len() > max {
        let n = s.chars().count();
        if n > max {
            return Err(crate::values::ValueError::invalid(
                what,
                format!("it is {n} characters long; the most is {max}; shorten it"),
            ));
        }
    }
    Ok(())
}

/// Refuses `s` when it has more than `max` UTF-8 bytes, saying how many it has.
pub(crate) fn check_bytes(
    what: &'static str,
    s: &str,
    max: usize,
) -> Result<(), crate::values::ValueError> {
    if s.len() > max {
        return Err(crate::values::ValueError::invalid(
            what,
            format!(
                "it is {} bytes long; the most is {max} bytes; shorten it",
                s.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn messages_show_a_short_text_quoted_and_a_long_one_by_its_length() {
        assert_eq!(shown("30-Nov-2O28"), "\"30-Nov-2O28\"");
        assert_eq!(shown(&"é".repeat(60)), "a text of 60 characters");
        // Through the importer: a 60,000-byte date field is named by its length only.
        let e = crate::values::parse_esr_date(&"9".repeat(60_000)).unwrap_err();
        assert!(e.to_string().contains("a text of 60000 characters"), "{e}");
        assert!(e.to_string().len() < 200);
    }

    fn reason(e: Error) -> String {
        match e {
            Error::InvalidInput { reason, .. } => reason,
            other => panic!("not InvalidInput: {other}"),
        }
    }

    #[test]
    fn characters_are_counted_not_bytes() {
        assert!(check_chars("x", &"é".repeat(10), 10).is_ok());
        assert_eq!(
            reason(check_chars("x", &"é".repeat(11), 10).unwrap_err().into()),
            "it is 11 characters long; the most is 10; shorten it"
        );
    }

    #[test]
    fn bytes_are_counted_not_characters() {
        assert!(check_bytes("x", &"a".repeat(10), 10).is_ok());
        assert_eq!(
            reason(check_bytes("x", &"é".repeat(6), 10).unwrap_err().into()),
            "it is 12 bytes long; the most is 10 bytes; shorten it"
        );
    }

    /// One value at each limit is accepted and one a character (or byte) over it is refused
    /// with the message saying both lengths.
    #[test]
    fn every_limit_accepts_its_maximum_and_refuses_one_more() {
        use crate::{compliance::*, org::*, people::*, values::*, *};
        type Check = fn(&str) -> Result<()>;
        type Case = (
            &'static str,
            usize,
            &'static str,
            fn(usize) -> String,
            Check,
        );
        let ok = |r: Result<()>, what: &str| r.unwrap_or_else(|e| panic!("{what}: {e}"));
        // (what, limit, unit, a value of n units, the check)
        let cases: Vec<Case> = vec![
            (
                "given name",
                MAX_NAME_CHARS,
                "characters",
                |n| "é".repeat(n),
                |s| PersonName::new(s, "Conroy").map(drop),
            ),
            (
                "trust name",
                MAX_TEXT_CHARS,
                "characters",
                |n| "t".repeat(n),
                |s| {
                    crate::org::Trust::new(
                        "297".parse()?,
                        s,
                        TrustSettings::default(),
                        chrono::DateTime::UNIX_EPOCH,
                    )
                    .map(drop)
                },
            ),
            (
                "reason",
                MAX_REASON_CHARS,
                "characters",
                |n| "r".repeat(n),
                |s| {
                    crate::values::clean_text("reason", s, MAX_REASON_CHARS)
                        .map(drop)
                        .map_err(Error::from)
                },
            ),
            (
                "organisation unit",
                MAX_ORG_UNIT_ID_CHARS,
                "characters",
                |n| "u".repeat(n),
                |s| s.parse::<OrgUnitId>().map(drop).map_err(Error::from),
            ),
            (
                "position",
                MAX_POSITION_ID_CHARS,
                "characters",
                |n| "p".repeat(n),
                |s| s.parse::<PositionId>().map(drop).map_err(Error::from),
            ),
            (
                "e-mail address",
                MAX_EMAIL_BYTES,
                "bytes",
                |n| format!("{}@nhs.net", "a".repeat(n - 8)),
                |s| s.parse::<EmailAddress>().map(drop).map_err(Error::from),
            ),
            (
                "mobile number",
                MAX_PHONE_CHARS,
                "characters",
                |n| format!("07700{}900374", " ".repeat(n - 11)),
                |s| s.parse::<MobileNumber>().map(drop).map_err(Error::from),
            ),
            (
                "SMS template",
                MAX_SMS_TEMPLATE_CHARS,
                "characters",
                |n| format!("{:x<w$}", "{code} lasts {minutes} min ", w = n),
                |s| SmsTemplate::new(s).map(drop),
            ),
            (
                "competence name",
                MAX_COMPETENCE_NAME_CHARS,
                "characters",
                |n| format!("NHS|CSTF|{}|", "c".repeat(n - 10)),
                |s| s.parse::<CompetenceName>().map(drop),
            ),
            (
                "course",
                MAX_LEARNING_NAME_CHARS,
                "characters",
                |n| "l".repeat(n),
                |s| crate::learning::exact_text("course", s),
            ),
            (
                "process name",
                MAX_ACTOR_NAME_CHARS,
                "characters",
                |n| "a".repeat(n),
                |s| crate::service::Actor::system(s).map(drop),
            ),
            (
                "portlet name",
                MAX_PORTLET_NAME_CHARS,
                "characters",
                |n| "b".repeat(n),
                |s| DashboardConfig::default().add_local_bi_portlet(s),
            ),
            (
                "password",
                MAX_PASSWORD_BYTES,
                "bytes",
                |n| "p".repeat(n),
                |s| Password::new(s).check_size(),
            ),
        ];
        for (what, max, unit, make, check) in cases {
            let at = make(max);
            ok(check(&at), what);
            let over = make(max + 1);
            let reason = match check(&over) {
                Err(Error::InvalidInput { reason, .. }) => reason,
                other => panic!("{what}: one over the limit gave {other:?}"),
            };
            assert!(
                reason.starts_with(&format!("it is {} {unit} long; the most is {max}", max + 1)),
                "{what}: {reason}"
            );
        }
    }

    /// The identifiers whose shape bounds them: the longest of each parses, one more is refused.
    #[test]
    fn identifiers_are_bounded_by_their_shape() {
        use crate::{passcode::*, urp::*, values::*};
        let longest_user = format!(
            "297E{}999",
            "X".repeat(crate::values::username::MAX_SURNAME_CHARS)
        );
        assert_eq!(longest_user.len(), MAX_USERNAME_CHARS);
        assert!(longest_user.parse::<Username>().is_ok());
        assert!(format!("{longest_user}9").parse::<Username>().is_err());
        let longest_assignment = format!("{}-{}", "1".repeat(12), "2".repeat(3));
        assert_eq!(longest_assignment.len(), MAX_ASSIGNMENT_NUMBER_CHARS);
        assert!(longest_assignment.parse::<AssignmentNumber>().is_ok());
        assert!(
            format!("{longest_assignment}2")
                .parse::<AssignmentNumber>()
                .is_err()
        );
        let longest_employee = "1".repeat(MAX_EMPLOYEE_NUMBER_CHARS);
        assert!(longest_employee.parse::<EmployeeNumber>().is_ok());
        assert!(
            format!("{longest_employee}1")
                .parse::<EmployeeNumber>()
                .is_err()
        );
        let token = format!("{}.{}", "a".repeat(32), "b".repeat(64));
        assert_eq!(token.len(), MAX_RECOVERY_TOKEN_CHARS);
        assert!(RecoveryToken::parse(&token).is_ok());
        assert!(RecoveryToken::parse(&format!("{token}b")).is_err());
        assert!(
            PasscodeKey::new(
                &"k".repeat(MAX_KEY_ID_BYTES),
                b"key-07-abcdefghijklmnopqrstuvwxy"
            )
            .is_ok()
        );
        assert!(PasscodeKey::new(&"k".repeat(MAX_KEY_ID_BYTES + 1), &[7; 32]).is_err());
        let longest_urp = Urp::ALL.iter().map(|u| u.name().chars().count()).max();
        assert!(longest_urp.is_some_and(|n| n <= MAX_URP_NAME_CHARS));
        let spaced = format!("{}123456", " ".repeat(MAX_PASSCODE_BYTES - 6));
        assert!(Passcode::typed(&spaced, 6).is_ok());
        assert!(Passcode::typed(&format!(" {spaced}"), 6).is_err());
    }

    #[test]
    fn the_username_limit_is_the_longest_username() {
        assert_eq!(MAX_USERNAME_CHARS, "297EABCDEFGHIJKLMNOPQRSTUVWX999".len());
        const { assert!(MAX_PASSWORD_CHARS * 4 <= MAX_PASSWORD_BYTES) };
    }
}
