//! Validated identifiers. Each newtype checks its input in `FromStr`/`TryFrom`, cannot be built
//! invalid, and its `Display` output parses back to the same value.

use crate::values::ValueError;
use std::fmt;
use std::str::FromStr;

/// Writes `bytes` as lower-case hexadecimal, without allocating (what `Display` of the ids and
/// hashes does).
pub(crate) fn write_hex(f: &mut dyn fmt::Write, bytes: &[u8]) -> fmt::Result {
    let mut buf = [0u8; 64];
    for chunk in bytes.chunks(32) {
        let out = &mut buf[..chunk.len() * 2];
        hex::encode_to_slice(chunk, out).map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(out).map_err(|_| fmt::Error)?)?;
    }
    Ok(())
}

/// Trims `s` and checks it is a usable single line of text: not empty, at most `max` characters
/// (saying how many it has when it has more), no control characters.
pub(crate) fn clean_text(what: &'static str, s: &str, max: usize) -> Result<String, ValueError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ValueError::invalid(what, "it is empty; give a value"));
    }
    crate::values::limits::check_chars(what, t, max)?;
    if t.chars().any(char::is_control) {
        return Err(ValueError::invalid(
            what,
            "it contains a control character (such as a line break or NUL); remove it",
        ));
    }
    Ok(t.to_owned())
}

macro_rules! string_serde {
    ($t:ty) => {
        #[cfg(feature = "serde")]
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(
                d: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
        impl TryFrom<&str> for $t {
            type Error = <$t as ::std::str::FromStr>::Err;
            fn try_from(s: &str) -> ::std::result::Result<Self, Self::Error> {
                s.parse()
            }
        }
        impl TryFrom<String> for $t {
            type Error = <$t as ::std::str::FromStr>::Err;
            fn try_from(s: String) -> ::std::result::Result<Self, Self::Error> {
                s.parse()
            }
        }
    };
}
pub(crate) use string_serde;

/// A trust's three-digit VPD code (`297`, `999`): the tenant key. Nothing crosses between codes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VpdCode([u8; 3]);

impl VpdCode {
    /// The code as text, such as `"297"`.
    pub fn as_str(&self) -> &str {
        // The bytes are ASCII digits by construction.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl FromStr for VpdCode {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let b = s.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_digit) {
            return Err(ValueError::invalid(
                "VPD code",
                "a VPD code is exactly three digits, such as 297",
            ));
        }
        Ok(Self([b[0], b[1], b[2]]))
    }
}

impl fmt::Display for VpdCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl fmt::Debug for VpdCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VpdCode({})", self.as_str())
    }
}
string_serde!(VpdCode);

macro_rules! text_id {
    ($(#[$m:meta])* $name:ident, $what:literal, $check:expr) => {
        $(#[$m])*
        // Kept inline (no heap allocation) up to 24 bytes, which every identifier of this
        // kind but the longest organisation unit names fits: identifiers are copied into
        // every record and audit entry that names them.
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(compact_str::CompactString);

        impl $name {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, ValueError> {
                let check: fn(&str) -> Result<String, ValueError> = $check;
                check(s).map(|t| Self(t.into()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }
        string_serde!($name);
    };
}

fn digits(what: &'static str, s: &str, min: usize, max: usize) -> Result<String, ValueError> {
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValueError::invalid(
            what,
            format!("it must be {min} to {max} digits, with no spaces or letters"),
        ));
    }
    Ok(s.to_owned())
}

text_id!(
    /// An employee number (`200000000`): 6 to 12 digits, unique within a trust.
    EmployeeNumber,
    "employee number",
    |s| digits("employee number", s, 6, crate::values::limits::MAX_EMPLOYEE_NUMBER_CHARS)
);

text_id!(
    /// An assignment number (`24552166`, or `24552166-2` for a further assignment).
    AssignmentNumber,
    "assignment number",
    |s| {
        let (main, suffix) = match s.split_once('-') {
            Some((m, x)) => (m, Some(x)),
            None => (s, None),
        };
        let ok = digits("assignment number", main, 6, 12).is_ok()
            && suffix.is_none_or(|x| digits("assignment number", x, 1, 3).is_ok());
        if ok {
            Ok(s.to_owned())
        } else {
            Err(ValueError::invalid(
                "assignment number",
                "it must be 6 to 12 digits, optionally followed by '-' and 1 to 3 digits (24552166-2)",
            ))
        }
    }
);

text_id!(
    /// An organisation unit's code within its trust (`297 Ward 5`, `Estates`): free text, one line,
    /// at most 80 characters.
    OrgUnitId,
    "organisation unit",
    |s| clean_text("organisation unit", s, crate::values::limits::MAX_ORG_UNIT_ID_CHARS)
);

text_id!(
    /// A position's code within its trust (`297|Staff Nurse|Ward 5|`): free text, one line, at
    /// most 120 characters.
    PositionId,
    "position",
    |s| clean_text("position", s, crate::values::limits::MAX_POSITION_ID_CHARS)
);

/// An e-mail address, kept as given but compared case-insensitively (the recruitment address
/// used to look up a username).
#[derive(Clone, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// The address as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether two addresses are the same mailbox, ignoring case.
    pub fn matches(&self, other: &EmailAddress) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl PartialEq for EmailAddress {
    fn eq(&self, other: &Self) -> bool {
        self.matches(other)
    }
}

impl std::hash::Hash for EmailAddress {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_ascii_lowercase().hash(state);
    }
}

impl FromStr for EmailAddress {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        const WHAT: &str = "e-mail address";
        crate::values::limits::check_bytes(WHAT, s.trim(), crate::values::limits::MAX_EMAIL_BYTES)?;
        let t = clean_text(WHAT, s, crate::values::limits::MAX_EMAIL_BYTES)?;
        let Some((local, domain)) = t.rsplit_once('@') else {
            return Err(ValueError::invalid(
                WHAT,
                "it has no '@'; give an address like first.last@nhs.net",
            ));
        };
        let bad = local.is_empty()
            || domain.len() < 3
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || t.chars().any(char::is_whitespace);
        if bad {
            return Err(ValueError::invalid(
                WHAT,
                "it is not of the form name@domain.tld; give an address like first.last@nhs.net",
            ));
        }
        Ok(Self(t))
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.0)
    }
}
string_serde!(EmailAddress);

macro_rules! random_id {
    ($(#[$m:meta])* $name:ident, $what:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; 16]);

        impl $name {
            /// Builds the identifier from 16 random bytes.
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(bytes)
            }
            /// The 16 bytes of the identifier.
            pub fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, ValueError> {
                let mut out = [0u8; 16];
                hex::decode_to_slice(s, &mut out).map_err(|_| {
                    ValueError::invalid($what, "it must be 32 lower-case hexadecimal characters")
                })?;
                if s.bytes().any(|b| b.is_ascii_uppercase()) {
                    return Err(ValueError::invalid($what, "it must be 32 lower-case hexadecimal characters"));
                }
                Ok(Self(out))
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                crate::values::write_hex(f, &self.0)
            }
        }
        string_serde!($name);
    };
}

random_id!(
    /// A session's identifier: 128 random bits, printed by `Display` as 32 hexadecimal
    /// characters. Whoever holds it acts as the session's user, so treat it as a secret: its
    /// `Debug` (and so every error naming a session) shows only its one-way [`SessionRef`], as
    /// the audit trail does.
    SessionId,
    "session id"
);
random_id!(
    /// A URP grant's identifier: 128 random bits, printed as 32 hexadecimal characters.
    GrantId,
    "grant id"
);

// ----- Notifications and approvals (wf-notify) -----
random_id!(
    /// A notification's identifier: 128 random bits, printed as 32 hexadecimal characters.
    NotificationId,
    "notification id"
);
random_id!(
    /// A pending change's identifier (a record change held for approval): 128 random bits,
    /// printed as 32 hexadecimal characters.
    ChangeId,
    "change id"
);

impl fmt::Debug for NotificationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NotificationId({self})")
    }
}

impl fmt::Debug for ChangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChangeId({self})")
    }
}
// ----- end notifications and approvals -----

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not even a prefix of the id: its one-way audit reference, which ties the value to the
        // session's audit entries without giving away any bit of the bearer secret.
        write!(f, "SessionId(ref {})", self.audit_ref())
    }
}

impl fmt::Debug for GrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GrantId({self})")
    }
}

impl SessionId {
    /// The id of a session read back from a store, which keeps only its [`SessionKey`]: all
    /// zero bytes, which no session is given (only the holder knows the real id).
    pub const UNKNOWN: SessionId = SessionId([0; 16]);

    /// The one-way reference to this session that audit entries carry: it ties a session's
    /// entries together without letting a reader of the trail act as the session. It is the
    /// first 64 bits of the session's [`SessionKey`].
    pub fn audit_ref(&self) -> SessionRef {
        self.key().audit_ref()
    }

    /// The key a store keeps the session under: a SHA-256 of the id, so that whoever reads
    /// the store cannot act as the session.
    pub fn key(&self) -> SessionKey {
        use sha2::Digest;
        let d = sha2::Sha256::new()
            .chain_update(b"esr-session-ref-v1")
            .chain_update(self.0)
            .finalize();
        let mut k = [0u8; 32];
        k.copy_from_slice(&d);
        SessionKey(k)
    }
}

/// What a store keys a session by: the SHA-256 of its [`SessionId`] (tagged
/// `esr-session-ref-v1`), printed as 64 hexadecimal characters. A store never keeps the id
/// itself: the key identifies the session but does not let its reader act as it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionKey([u8; 32]);

impl SessionKey {
    /// Builds the key from its 32 bytes (as a store reads them back).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    /// The session's audit reference: the first 64 bits of the key.
    pub fn audit_ref(&self) -> SessionRef {
        let mut r = [0u8; 8];
        r.copy_from_slice(&self.0[..8]);
        SessionRef(r)
    }
}

impl FromStr for SessionKey {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| {
            ValueError::invalid("session key", "it must be 64 hexadecimal characters")
        })?;
        Ok(Self(out))
    }
}
impl fmt::Display for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::values::write_hex(f, &self.0)
    }
}
impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionKey(ref {})", self.audit_ref())
    }
}
string_serde!(SessionKey);

/// A one-way reference to a session (the first 64 bits of a SHA-256 of its id), printed as 16
/// hexadecimal characters. See [`SessionId::audit_ref`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionRef([u8; 8]);

impl FromStr for SessionRef {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let mut out = [0u8; 8];
        hex::decode_to_slice(s, &mut out).map_err(|_| {
            ValueError::invalid("session reference", "it must be 16 hexadecimal characters")
        })?;
        Ok(Self(out))
    }
}
impl fmt::Display for SessionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::values::write_hex(f, &self.0)
    }
}
impl SessionRef {
    /// The eight bytes.
    pub fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }
}
impl fmt::Debug for SessionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionRef({self})")
    }
}
string_serde!(SessionRef);

// ----- Workflows: access requests, URP reviews, competence claims --------------------------

random_id!(
    /// An access request's identifier (a OneForm): 128 random bits, printed as 32 hexadecimal
    /// characters.
    AccessRequestId,
    "access request id"
);
random_id!(
    /// A six-monthly URP review cycle's identifier: 128 random bits, printed as 32 hexadecimal
    /// characters.
    UrpReviewId,
    "URP review id"
);
random_id!(
    /// The identifier of a competence a learner recorded themselves, awaiting approval: 128
    /// random bits, printed as 32 hexadecimal characters.
    CompetenceClaimId,
    "competence claim id"
);

impl fmt::Debug for AccessRequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessRequestId({self})")
    }
}
impl fmt::Debug for UrpReviewId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UrpReviewId({self})")
    }
}
impl fmt::Debug for CompetenceClaimId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CompetenceClaimId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vpd_codes() {
        assert_eq!("297".parse::<VpdCode>().unwrap().to_string(), "297");
        for bad in ["", "29", "2977", "29a", " 297", "٢٩٧"] {
            assert!(bad.parse::<VpdCode>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn numbers() {
        assert!("200000000".parse::<EmployeeNumber>().is_ok());
        assert!("12345".parse::<EmployeeNumber>().is_err());
        assert!("24552166".parse::<AssignmentNumber>().is_ok());
        assert!("24552166-2".parse::<AssignmentNumber>().is_ok());
        for bad in [
            "24552166-",
            "-2",
            "24552166-2-3",
            "2455a166",
            "24552166-1234",
        ] {
            assert!(bad.parse::<AssignmentNumber>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails_compare_without_case() {
        let a: EmailAddress = "Jo.Smith@NHS.net".parse().unwrap();
        let b: EmailAddress = "jo.smith@nhs.net".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "Jo.Smith@NHS.net");
        for bad in [
            "jo",
            "jo@",
            "@nhs.net",
            "jo@nhs",
            "jo smith@nhs.net",
            "jo@nh\ns.net",
        ] {
            assert!(bad.parse::<EmailAddress>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn text_ids_reject_control_characters() {
        assert!("Ward\u{0}5".parse::<OrgUnitId>().is_err());
        assert!("".parse::<OrgUnitId>().is_err());
        assert_eq!(" Ward 5 ".parse::<OrgUnitId>().unwrap().as_str(), "Ward 5");
        assert!("x".repeat(81).parse::<OrgUnitId>().is_err());
    }

    #[test]
    fn session_ids_round_trip() {
        let id = SessionId::from_bytes([0xab; 16]);
        assert_eq!(id.to_string().parse::<SessionId>().unwrap(), id);
        // The key is a hash of the id, not the id; the reference is its first 64 bits.
        let k = id.key();
        assert!(!k.to_string().contains(&id.to_string()));
        assert_eq!(k.to_string().parse::<SessionKey>().unwrap(), k);
        assert_eq!(k.audit_ref(), id.audit_ref());
        assert!(!format!("{k:?}").contains(&k.to_string()));
        let r = id.audit_ref();
        assert_eq!(format!("{id:?}"), format!("SessionId(ref {r})"));
        let hex = id.to_string();
        let debug = format!("{id:?}");
        for w in 0..=hex.len() - 8 {
            assert!(
                !debug.contains(&hex[w..w + 8]),
                "{debug} shows part of the id"
            );
        }
        assert_eq!(r.to_string().len(), 16);
        assert_eq!(r.to_string().parse::<SessionRef>().unwrap(), r);
        assert!(!id.to_string().contains(&r.to_string()));
        assert!("AB".repeat(16).parse::<SessionId>().is_err());
        assert!("ab".parse::<SessionId>().is_err());
    }
}
