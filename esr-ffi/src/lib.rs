//! uniffi bindings of esr for iOS teams: a thin adapter over `esr-core` that mirrors its types
//! and maps its errors, so nothing panics across the boundary and the core stays free of uniffi.
//!
//! This first surface covers what an app validates on the device: usernames, the username rule,
//! and the masked mobile number. Sessions, passcodes and compliance views follow.

uniffi::setup_scaffolding!();

/// Errors crossing the FFI boundary, each with a message a person can act on.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum EsrError {
    /// A value given to the library is not valid.
    #[error("{message}")]
    InvalidInput {
        /// What was wrong and what a valid value looks like.
        message: String,
    },
    /// Anything else the core refused.
    #[error("{message}")]
    Refused {
        /// What went wrong and what to do.
        message: String,
    },
}

impl From<esr_core::Error> for EsrError {
    fn from(e: esr_core::Error) -> Self {
        match e {
            esr_core::Error::InvalidInput { .. } => Self::InvalidInput {
                message: e.to_string(),
            },
            other => Self::Refused {
                message: other.to_string(),
            },
        }
    }
}

/// A username taken apart.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UsernameParts {
    /// The canonical upper-case username (`297ECONROY01`).
    pub username: String,
    /// The trust's VPD code.
    pub vpd: String,
    /// The initial-and-surname stem.
    pub stem: String,
    /// The sequence number.
    pub sequence: u16,
}

/// Parses a username as typed at the log-in screen (spaces around it and lower case accepted).
#[uniffi::export]
pub fn parse_username(text: String) -> Result<UsernameParts, EsrError> {
    let u: esr_core::Username = text.parse()?;
    Ok(UsernameParts {
        username: u.to_string(),
        vpd: u.vpd().to_string(),
        stem: u.stem().to_owned(),
        sequence: u.sequence(),
    })
}

/// The initial-and-surname stem of a person's username (`Seán`, `O'Brien` → `SOBRIEN`).
#[uniffi::export]
pub fn username_stem(given_name: String, surname: String) -> Result<String, EsrError> {
    Ok(esr_core::UsernameStem::from_names(&given_name, &surname)?
        .as_str()
        .to_owned())
}

/// The masked form ESR shows of a UK mobile number (`xxxxxxx374`); the full number never comes
/// back across the boundary.
#[uniffi::export]
pub fn mask_mobile_number(text: String) -> Result<String, EsrError> {
    let m: esr_core::MobileNumber = text.parse()?;
    Ok(m.masked())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        let p = parse_username(" 297econroy01".into()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.username, "297ECONROY01");
        assert_eq!(p.sequence, 1);
        assert!(matches!(
            parse_username("\0".into()),
            Err(EsrError::InvalidInput { .. })
        ));
        assert!(matches!(
            parse_username("x".repeat(1 << 20)),
            Err(EsrError::InvalidInput { .. })
        ));
    }

    #[test]
    fn stems_and_masks() {
        assert_eq!(
            username_stem("Seán".into(), "O'Brien".into())
                .ok()
                .as_deref(),
            Some("SOBRIEN")
        );
        assert_eq!(
            mask_mobile_number("+44 7700 900374".into()).ok().as_deref(),
            Some("xxxxxxx374")
        );
        let e = mask_mobile_number("0191 496 0123".into())
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|m| !m.contains("4960123")));
    }
}
