//! Registered mobile numbers, held in E.164 form and never shown whole.

use crate::values::ValueError;
use crate::values::limits::MAX_PHONE_CHARS;
use std::fmt;
use std::str::FromStr;

/// A mobile number in E.164 form (`+447700900374`). Its `Debug` and `Display` show only the
/// masked form that ESR puts on screen (`xxxxxxx374`); the full number is reachable only through
/// [`MobileNumber::expose_e164`], for the SMS gateway. It is never serialised.
///
/// Parsing and classification use the `phonenumber` crate (Google's libphonenumber metadata):
/// numbers without a country code are read as UK numbers; a number with a country code may be
/// from anywhere, as long as the metadata says it is a mobile number.
///
/// ```
/// use esr_core::MobileNumber;
/// let m: MobileNumber = "07700 900374".parse().unwrap();
/// assert_eq!(m.masked(), "xxxxxxx374");
/// assert_eq!(format!("{m:?}"), "MobileNumber(xxxxxxx374)");
/// assert_eq!(m.expose_e164(), "+447700900374");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MobileNumber {
    /// Inline: an E.164 number is at most 16 characters.
    e164: compact_str::CompactString,
    /// Digits of the national significant number, for masking.
    national_len: usize,
}

impl MobileNumber {
    /// The full number in E.164 form. Only for handing to an SMS gateway: never log it.
    pub fn expose_e164(&self) -> &str {
        &self.e164
    }

    /// The national significant number masked but for its last three digits, as ESR shows it:
    /// `xxxxxxx374`.
    pub fn masked(&self) -> String {
        let national = &self.e164[self.e164.len() - self.national_len..];
        let keep = national.len().saturating_sub(3);
        let mut out = String::with_capacity(national.len());
        out.extend(std::iter::repeat_n('x', keep));
        out.push_str(&national[keep..]);
        out
    }

    /// Whether this is in the range Ofcom reserves for drama and tests (07700 900000 to
    /// 07700 900999): accepted, so that tests and demonstrations never text a real person, though
    /// libphonenumber does not list it as allocated.
    fn is_ofcom_drama(national: u64) -> bool {
        (7_700_900_000..=7_700_900_999).contains(&national)
    }
}

impl FromStr for MobileNumber {
    type Err = ValueError;
    /// Accepts a mobile number as people type it: `07700 900374`, `+44 7700 900374`,
    /// `0044 (0)7700-900374`, `+33 6 12 34 56 78`. Numbers without a country code are read as UK
    /// numbers. Landlines, freephone, premium-rate, personal numbers, pagers and anything that is
    /// not a valid number are refused. Where the numbering plan cannot tell a mobile from a
    /// landline (North America), the number is accepted.
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let m = Self::read(s)?;
        // The number texted must be the one typed: its E.164 form must read back as itself.
        // (Found by the phone_number fuzz target: `(000)7700-900172` kept the zeros as
        // Italian-style leading zeros and printed as +4407700900172, which reads back as
        // +447700900172.)
        match Self::read(&m.e164) {
            Ok(again) if again == m => Ok(m),
            _ => Err(Self::refusal()),
        }
    }
}

impl MobileNumber {
    fn refusal() -> ValueError {
        ValueError::invalid(
            "mobile number",
            "it is not a mobile number; give a UK mobile starting 07 or +44 7 (such as \
             07700 900374), or another country's mobile with its + code",
        )
    }

    /// One reading of `s`; [`FromStr`] checks that the result reads back as itself.
    fn read(s: &str) -> Result<Self, ValueError> {
        use phonenumber::{Mode, Type, country, metadata::DATABASE};
        const WHAT: &str = "mobile number";
        let refuse = Self::refusal;
        let s = s.trim();
        crate::values::limits::check_chars(WHAT, s, MAX_PHONE_CHARS)?;
        if s.is_empty() {
            return Err(refuse());
        }
        // Digits, one leading +, and the punctuation people type; nothing else (letters would
        // be read as a keypad word, an extension or a URI by a general parser).
        for (i, c) in s.chars().enumerate() {
            match c {
                '0'..='9' | ' ' | '-' | '.' | '(' | ')' => {}
                '+' if i == 0 => {}
                _ => return Err(refuse()),
            }
        }
        let number = phonenumber::parse(Some(country::Id::GB), s).map_err(|_| refuse())?;
        if number.extension().is_some() {
            return Err(refuse());
        }
        let national = number.national().value();
        let mobile = Self::is_ofcom_drama(national) && number.code().value() == 44
            || (number.is_valid()
                && matches!(
                    number.number_type(&DATABASE),
                    Type::Mobile | Type::FixedLineOrMobile
                ));
        if !mobile {
            return Err(refuse());
        }
        let e164 = number.format().mode(Mode::E164).to_string();
        let national_len = number.national().to_string().len();
        if !e164.starts_with('+') || national_len + 1 >= e164.len() {
            return Err(refuse());
        }

        Ok(Self {
            e164: e164.into(),
            national_len,
        })
    }
}

impl fmt::Display for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MobileNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_what_people_type() {
        for s in [
            "07700900374",
            "07700 900374",
            "+44 7700 900374",
            "+44 (0)7700-900374",
            "0044 7700 900374",
            " 07700.900.374 ",
            "+44 (0) 7700 900 374",
        ] {
            let m: MobileNumber = s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(m.expose_e164(), "+447700900374", "{s:?}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_mobile() {
        for s in [
            "",
            "0191 123 4567",
            "020 7946 0000",
            "07700",
            "077009003745",
            "07700 90037a",
            "070 1234 5678",
            "0761 234 5678",
            "07700+900374",
            "0800 123 4567",
            "09065 123456",
            "+44 7700 900374 ext 12",
            "tel:+447700900374",
            "\u{0}07700900374",
            "+44 7700 900374 1234567890123456789012345",
            // Read with leading zeros kept, printing as +4407700900172 (fuzz target
            // phone_number): the texted number would not be the one typed.
            "(000)7700-900172",
        ] {
            assert!(s.parse::<MobileNumber>().is_err(), "{s:?} accepted");
        }
    }

    #[test]
    fn allocated_mobiles_here_and_abroad() {
        let uk: MobileNumber = "07400 123456".parse().unwrap();
        assert_eq!(uk.expose_e164(), "+447400123456");
        assert_eq!(uk.masked(), "xxxxxxx456");
        let fr: MobileNumber = "+33 6 12 34 56 78".parse().unwrap();
        assert_eq!(fr.expose_e164(), "+33612345678");
        assert_eq!(fr.masked(), "xxxxxx678");
        // A French landline is not a mobile.
        assert!("+33 1 42 68 53 00".parse::<MobileNumber>().is_err());
        // North American numbers do not say whether they are mobile; they are accepted.
        let us: MobileNumber = "+1 415 555 0100".parse().unwrap();
        assert_eq!(us.expose_e164(), "+14155550100");
    }

    #[test]
    fn never_shows_the_full_number() {
        let m: MobileNumber = "07700900374".parse().unwrap();
        assert_eq!(m.to_string(), "xxxxxxx374");
        assert!(!format!("{m:?}").contains("900374"));
        let e = "07700 12345x"
            .parse::<MobileNumber>()
            .unwrap_err()
            .to_string();
        assert!(!e.contains("12345"), "{e}");
    }
}
