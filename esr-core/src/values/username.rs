//! ESR usernames: VPD code, first initial, surname, sequence, upper case (`297ECONROY01`).
//!
//! # The rule, in full
//! - The name parts are transliterated to ASCII (`Ó` → `O`, `ß` → `SS`, `Ø` → `O`), upper-cased,
//!   and stripped of everything that is not a letter: apostrophes, hyphens, spaces and full stops
//!   (`O'Brien` → `OBRIEN`, `Smith-Jones` → `SMITHJONES`, `de la Cruz` → `DELACRUZ`).
//! - The initial is the first letter of the given name; the surname is kept whole up to
//!   [`MAX_SURNAME_CHARS`] letters and cut there (long double-barrelled names).
//! - A one-letter surname is kept as it is (`297JX01`).
//! - The sequence is the lowest number not yet used for that stem within the trust, counting
//!   ended accounts, since usernames are never reused: `01` to `99` as two digits, then `100` to
//!   `999` as three digits. Past `999` the trust is told to choose a distinct name form.
//! - A name with no letter left after transliteration is refused with an error that says so.

use crate::values::ValueError;
use crate::values::{VpdCode, string_serde};
use std::fmt;
use std::str::FromStr;

/// The most letters of a surname a username keeps.
pub use crate::values::limits::MAX_SURNAME_CHARS;
/// The highest sequence number; past it a stem is exhausted.
pub const MAX_SEQUENCE: u16 = 999;

/// A validated ESR username: one username serves every channel ("Common ID").
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username {
    vpd: VpdCode,
    /// Inline (no heap allocation) up to 24 bytes: every stem but those of the longest
    /// surnames.
    stem: compact_str::CompactString,
    sequence: u16,
}

impl Username {
    /// The trust this username belongs to.
    pub fn vpd(&self) -> VpdCode {
        self.vpd
    }
    /// The initial and surname part (`ECONROY`).
    pub fn stem(&self) -> &str {
        &self.stem
    }
    /// The sequence number (1 for `…01`).
    pub fn sequence(&self) -> u16 {
        self.sequence
    }

    /// Builds the username for a stem and sequence; fails past [`MAX_SEQUENCE`].
    pub fn new(vpd: VpdCode, stem: &UsernameStem, sequence: u16) -> Result<Self, ValueError> {
        if sequence == 0 || sequence > MAX_SEQUENCE {
            return Err(ValueError::UsernamesExhausted {
                vpd,
                stem: stem.0.as_str().into(),
            });
        }
        Ok(Self {
            vpd,
            stem: stem.0.as_str().into(),
            sequence,
        })
    }
}

impl Username {
    /// Gives the `Display` output to `put`, piece by piece, without the formatting machinery
    /// (what hashing an audit entry and tagging a passcode do for every username).
    pub(crate) fn write_bytes(&self, mut put: impl FnMut(&[u8])) {
        put(self.vpd.as_str().as_bytes());
        put(self.stem.as_bytes());
        // `{:02}`: at least two digits.
        let mut digits = [b'0'; 5];
        let mut n = self.sequence;
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        put(&digits[i.min(digits.len() - 2)..]);
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:02}", self.vpd, self.stem, self.sequence)
    }
}
impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Username({self})")
    }
}

impl FromStr for Username {
    type Err = ValueError;
    /// Parses a username as typed at the log-in screen: surrounding spaces are ignored and lower
    /// case is accepted (`297econroy01`), but the result is always the canonical upper-case form.
    fn from_str(s: &str) -> Result<Self, ValueError> {
        const WHAT: &str = "username";
        let hint = "a username is a three-digit VPD code, the first initial, the surname and a \
                    two-digit number, such as 297ECONROY01";
        let t = s.trim();
        if !t.is_ascii() || t.len() < 7 || t.len() > crate::values::limits::MAX_USERNAME_CHARS {
            return Err(ValueError::invalid(WHAT, hint));
        }
        let upper = t.to_ascii_uppercase();
        let vpd: VpdCode = upper[..3]
            .parse()
            .map_err(|_| ValueError::invalid(WHAT, hint))?;
        let rest = &upper[3..];
        let letters = rest.bytes().take_while(u8::is_ascii_uppercase).count();
        let (stem, seq) = rest.split_at(letters);
        if !(2..=1 + MAX_SURNAME_CHARS).contains(&letters)
            || !seq.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(ValueError::invalid(WHAT, hint));
        }
        let sequence: u16 = match seq.len() {
            2 => seq.parse().map_err(|_| ValueError::invalid(WHAT, hint))?,
            3 => {
                let n: u16 = seq.parse().map_err(|_| ValueError::invalid(WHAT, hint))?;
                if n < 100 {
                    return Err(ValueError::invalid(
                        WHAT,
                        "sequences below 100 are written with two digits (01 to 99)",
                    ));
                }
                n
            }
            _ => return Err(ValueError::invalid(WHAT, hint)),
        };
        if sequence == 0 {
            return Err(ValueError::invalid(WHAT, "the sequence starts at 01"));
        }
        Ok(Self {
            vpd,
            stem: stem.into(),
            sequence,
        })
    }
}
string_serde!(Username);

/// The initial-and-surname part of a username, built from a person's names by the rule in the
/// [`username`](crate::values::username) module's documentation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UsernameStem(String);

impl UsernameStem {
    /// Builds the stem from a given name and a surname.
    ///
    /// ```
    /// use esr_core::values::UsernameStem;
    /// assert_eq!(UsernameStem::from_names("Émilie", "O'Connor-Brady").unwrap().as_str(), "EOCONNORBRADY");
    /// ```
    ///
    /// Each name may have at most [`crate::values::limits::MAX_NAME_CHARS`] characters (checked before
    /// transliteration).
    pub fn from_names(given_name: &str, surname: &str) -> Result<Self, ValueError> {
        use crate::values::limits::{MAX_NAME_CHARS, check_chars};
        check_chars("given name", given_name.trim(), MAX_NAME_CHARS)?;
        check_chars("surname", surname.trim(), MAX_NAME_CHARS)?;
        let initial = letters(given_name).chars().next().ok_or_else(|| {
            ValueError::invalid(
                "given name",
                "it has no letter that can start a username; give the name in Latin letters",
            )
        })?;
        let surname = letters(surname);
        if surname.is_empty() {
            return Err(ValueError::invalid(
                "surname",
                "it has no letter that can form a username; give the surname in Latin letters",
            ));
        }
        let mut stem = String::with_capacity(1 + MAX_SURNAME_CHARS);
        stem.push(initial);
        stem.extend(surname.chars().take(MAX_SURNAME_CHARS));
        Ok(Self(stem))
    }

    /// The stem as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Transliterates to ASCII, upper-cases and keeps only the letters A to Z.
fn letters(s: &str) -> String {
    deunicode::deunicode(s)
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn vpd() -> VpdCode {
        "297".parse().unwrap()
    }

    fn make(given: &str, surname: &str, seq: u16) -> String {
        Username::new(
            vpd(),
            &UsernameStem::from_names(given, surname).unwrap(),
            seq,
        )
        .unwrap()
        .to_string()
    }

    #[test]
    fn write_bytes_gives_the_display_output() {
        let stem = UsernameStem::from_names("Emma", "Conroy").unwrap();
        for seq in 1..=MAX_SEQUENCE {
            let u = Username::new(vpd(), &stem, seq).unwrap();
            let mut out = String::from("x");
            let mut bytes = Vec::new();
            u.write_bytes(|b| bytes.extend_from_slice(b));
            out.push_str(std::str::from_utf8(&bytes).unwrap());
            assert_eq!(out, format!("x{u}"), "{seq}");
        }
    }

    #[test]
    fn names_are_limited_before_transliteration() {
        let at_limit = "é".repeat(crate::values::limits::MAX_NAME_CHARS);
        assert!(UsernameStem::from_names(&at_limit, &at_limit).is_ok());
        let over = format!(" {at_limit}é ");
        assert_eq!(
            UsernameStem::from_names("Emma", &over),
            Err(ValueError::invalid(
                "surname",
                "it is 101 characters long; the most is 100; shorten it"
            ))
        );
        assert!(UsernameStem::from_names(&over, "Conroy").is_err());
    }

    #[test]
    fn the_seed_examples() {
        assert_eq!(make("Emma", "Conroy", 1), "297ECONROY01");
        assert_eq!(
            Username::new(
                "999".parse().unwrap(),
                &UsernameStem::from_names("John", "Smith").unwrap(),
                1
            )
            .unwrap()
            .to_string(),
            "999JSMITH01"
        );
    }

    #[test]
    fn punctuation_accents_and_lengths() {
        assert_eq!(make("Seán", "O'Brien", 1), "297SOBRIEN01");
        assert_eq!(make("anna", "smith-jones", 2), "297ASMITHJONES02");
        assert_eq!(make("Zoë", "Ångström", 1), "297ZANGSTROM01");
        assert_eq!(make("Jörg", "Groß", 1), "297JGROSS01");
        assert_eq!(make("Li", "Ng", 1), "297LNG01");
        assert_eq!(make("Xu", "X", 1), "297XX01");
        assert_eq!(make("Maria", "de la Cruz", 1), "297MDELACRUZ01");
        let long = make("A", "Featherstonehaugh-Cholmondeley-Wolfeschlegel", 1);
        assert_eq!(long, "297AFEATHERSTONEHAUGHCHOLMON01");
        assert_eq!(long.parse::<Username>().unwrap().to_string(), long);
    }

    #[test]
    fn sequences_past_99_use_three_digits_then_stop() {
        assert_eq!(make("Jo", "Smith", 99), "297JSMITH99");
        assert_eq!(make("Jo", "Smith", 100), "297JSMITH100");
        assert_eq!(make("Jo", "Smith", 999), "297JSMITH999");
        let stem = UsernameStem::from_names("Jo", "Smith").unwrap();
        assert!(matches!(
            Username::new(vpd(), &stem, 1000),
            Err(ValueError::UsernamesExhausted { .. })
        ));
    }

    #[test]
    fn names_without_letters_are_refused() {
        assert!(UsernameStem::from_names("", "Smith").is_err());
        assert!(UsernameStem::from_names("Jo", "'-- .").is_err());
        assert!(UsernameStem::from_names("Jo", "\u{200b}").is_err());
    }

    #[test]
    fn parsing() {
        let u: Username = " 297econroy01 ".parse().unwrap();
        assert_eq!(u.to_string(), "297ECONROY01");
        assert_eq!(u.vpd(), vpd());
        assert_eq!(u.stem(), "ECONROY");
        assert_eq!(u.sequence(), 1);
        for bad in [
            "",
            "297",
            "ECONROY01",
            "297ECONROY",
            "297ECONROY1",
            "297ECONROY00",
            "297ECONROY050",
            "297ECONROY1000",
            "297E01",
            "297ECON ROY01",
            "297ÉCONROY01",
            "29ECONROY01",
            "297ECONROY01X",
        ] {
            assert!(bad.parse::<Username>().is_err(), "{bad:?} parsed");
        }
    }

    proptest! {
        #[test]
        fn generated_usernames_parse_back(given in "\\PC{0,12}", surname in "\\PC{0,40}", seq in 1u16..=999) {
            if let Ok(stem) = UsernameStem::from_names(&given, &surname) {
                let u = Username::new(vpd(), &stem, seq).unwrap();
                let text = u.to_string();
                prop_assert_eq!(&text, &text.to_ascii_uppercase());
                prop_assert_eq!(text.parse::<Username>().unwrap(), u);
            }
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,40}") {
            let _ = s.parse::<Username>();
        }
    }
}
