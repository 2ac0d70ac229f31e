//! Entry points for the fuzz targets in `fuzz/`: each parses arbitrary input and checks the
//! invariants a parser promises. Not part of the supported interface.

use crate::{EmailAddress, EmployeeNumber, MobileNumber, Urp, Username, UsernameStem, VpdCode};

/// Usernames: anything that parses prints in canonical form and parses back to itself; any two
/// name strings either build a stem or are refused, and a built stem forms a valid username.
pub fn username(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(u) = s.parse::<Username>() {
        let printed = u.to_string();
        assert_eq!(printed.parse::<Username>().ok(), Some(u), "{printed:?}");
        assert_eq!(printed, printed.to_ascii_uppercase());
    }
    let (given, family) = s.split_at(
        s.char_indices()
            .nth(s.chars().count() / 2)
            .map_or(0, |(i, _)| i),
    );
    if let Ok(stem) = UsernameStem::from_names(given, family)
        && let Ok(vpd) = "297".parse::<VpdCode>()
        && let Ok(u) = Username::new(vpd, &stem, 1)
    {
        assert_eq!(u.to_string().parse::<Username>().ok(), Some(u));
    }
}

/// Mobile numbers: anything accepted is E.164 `+447…` with ten national digits, masks to the
/// last three digits, and never prints in full.
pub fn mobile(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(m) = s.parse::<MobileNumber>() {
        let e = m.expose_e164();
        assert!(e.starts_with("+447") && e.len() == 13, "{e}");
        assert_eq!(m.masked(), format!("xxxxxxx{}", &e[10..]));
        assert!(!format!("{m:?}{m}").contains(&e[3..10]));
        assert_eq!(e.parse::<MobileNumber>().ok(), Some(m));
    }
}

/// The other identifiers: whatever parses round-trips through `Display`.
pub fn identifiers(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(v) = s.parse::<VpdCode>() {
        assert_eq!(v.to_string().parse::<VpdCode>().ok(), Some(v));
    }
    if let Ok(e) = s.parse::<EmployeeNumber>() {
        assert_eq!(e.to_string().parse::<EmployeeNumber>().ok(), Some(e));
    }
    if let Ok(e) = s.parse::<EmailAddress>() {
        assert_eq!(e.to_string().parse::<EmailAddress>().ok(), Some(e));
    }
    if let Ok(u) = s.parse::<Urp>() {
        assert_eq!(u.name().parse::<Urp>().ok(), Some(u));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn entry_points_accept_anything() {
        for s in [
            "",
            "297ECONROY01",
            "07700900374",
            "\u{0}\u{ffff}",
            "Seán O'Brien",
            "297",
        ] {
            super::username(s.as_bytes());
            super::mobile(s.as_bytes());
            super::identifiers(s.as_bytes());
        }
        super::username(&[0xff, 0xfe]);
    }
}
