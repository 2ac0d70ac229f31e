//! Registered mobile numbers, held in E.164 form and never shown whole.

use crate::error::Error;
use std::fmt;
use std::str::FromStr;

/// A UK mobile number in E.164 form (`+447700900374`). Its `Debug` and `Display` show only the
/// masked form that ESR puts on screen (`xxxxxxx374`); the full number is reachable only through
/// [`MobileNumber::expose_e164`], for the SMS gateway. It is never serialised.
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
    e164: String,
}

impl MobileNumber {
    /// The full number in E.164 form. Only for handing to an SMS gateway: never log it.
    pub fn expose_e164(&self) -> &str {
        &self.e164
    }

    /// The national significant number masked but for its last three digits, as ESR shows it:
    /// `xxxxxxx374`.
    pub fn masked(&self) -> String {
        let national = &self.e164[3..];
        let keep = national.len().saturating_sub(3);
        format!("{}{}", "x".repeat(keep), &national[keep..])
    }
}

impl FromStr for MobileNumber {
    type Err = Error;
    /// Accepts a UK mobile number as people type it: `07700 900374`, `+44 7700 900374`,
    /// `0044 (0)7700-900374`. Anything else, landlines included, is refused.
    fn from_str(s: &str) -> Result<Self, Error> {
        const WHAT: &str = "mobile number";
        let refuse = || {
            Error::invalid(
                WHAT,
                "it is not a UK mobile number; give one starting 07 or +44 7, such as 07700 900374",
            )
        };
        if s.len() > 40 {
            return Err(refuse());
        }
        let mut digits = String::with_capacity(16);
        let mut plus = false;
        for (i, c) in s.trim().chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => plus = true,
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(refuse()),
            }
        }
        // "(0)" after the country code is a common way of writing UK numbers.
        let national = if plus {
            digits
                .strip_prefix("44")
                .map(|d| d.strip_prefix('0').unwrap_or(d))
        } else if let Some(d) = digits.strip_prefix("0044") {
            Some(d.strip_prefix('0').unwrap_or(d))
        } else {
            digits.strip_prefix('0')
        }
        .ok_or_else(refuse)?;
        // UK mobiles: 07 followed by nine digits; 070 and 076 (except 07624, Isle of Man) are
        // personal numbers and pagers, not mobiles.
        let is_mobile = national.len() == 10
            && national.starts_with('7')
            && !national.starts_with("70")
            && (!national.starts_with("76") || national.starts_with("7624"));
        if !is_mobile {
            return Err(refuse());
        }
        Ok(Self {
            e164: format!("+44{national}"),
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
        ] {
            let m: MobileNumber = s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(m.expose_e164(), "+447700900374", "{s:?}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_uk_mobile() {
        for s in [
            "",
            "0191 123 4567",
            "020 7946 0000",
            "07700",
            "077009003745",
            "+1 415 555 0100",
            "07700 90037a",
            "070 1234 5678",
            "0761 234 5678",
            "7700900374",
            "07700+900374",
        ] {
            assert!(s.parse::<MobileNumber>().is_err(), "{s:?} accepted");
        }
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
