//! uniffi bindings of esr for iOS teams: a thin adapter over `esr-core` that mirrors its types
//! and maps its errors, so nothing panics across the boundary and the core stays free of uniffi.
//!
//! The surface: [`EsrService`] (an `Arc`-held, thread-safe service over the in-memory store or
//! a SQLite file), with `async` variants of the calls that hash passwords or import files,
//! with log-in sessions ([`EsrSession`]) and their [`AccessLevel`], the passcode flows
//! (register or change a number, upgrade a session, resend, verify with attempts and seconds
//! left), account recovery, My Compliance, Team Compliance and My e-Learning views, and
//! certification subscribe, enrol and play; the app's own SMS and e-mail gateways as foreign
//! traits ([`SmsGateway`], [`EmailGateway`]) or else the built-in [`Outbox`]; one error enum,
//! [`EsrError`]; and the on-device checks below (usernames, the username rule, the masked
//! number).
//!
//! Instants cross as `SystemTime` (Swift `Date`); UK calendar days as [`CalendarDate`].

uniffi::setup_scaffolding!();

mod authenticator;
mod blocking;
mod catalogue;
mod delivery;
mod error;
mod learning;
mod notify;
mod service;
mod store;
mod types;
mod workflows;

// Authenticator apps
pub use authenticator::{
    AuthenticatorEnrolment, AuthenticatorOutcome, AuthenticatorResult, RetiredKey, SecondFactors,
    Totp,
};
pub use catalogue::{
    Function, Urp, all_functions, all_urps, function_name, function_named, urp_name, urp_named,
};
pub use delivery::{EmailGateway, EmailMessage, Outbox, SmsGateway, SmsMessage};
pub use error::{EsrError, LinkRefusal};
pub use learning::{
    CertificationDefinition, CompletionRule, ComponentDefinition, ComponentKind, Enrolment,
    ExpiryBase, LearningSubscription, Performance, PlayOutcome, PlayResult, RenewalRule,
    SubscriptionStatus,
};
pub use service::{EsrActor, EsrService, EsrSession, ServiceSettings, function_names, urp_names};
pub use types::{
    AccessDecision, AccessLevel, AssignmentCompliance, AssignmentInfo, CalendarDate,
    ChallengeStatus, Channel, CompetenceDefinition, CompetenceRecord, ComplianceCounts,
    ComplianceRow, ComplianceStatus, EmailKind, ImportProblem, ImportSummary, Need, NewAssignment,
    NewCompetenceRecord, NewPerson, PasscodeChallenge, PersonCompliance, PersonInfo, Purpose,
    RecordExpiry, RedReason, RequirementTarget, SessionInfo, SessionSummary, TeamCompliance,
    TeamComplianceMember, TrustOptions, UrpGrantRequest, VerifyResult, VerifyStatus,
};

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
    Ok(
        esr_core::values::username::UsernameStem::from_names(&given_name, &surname)?
            .as_str()
            .to_owned(),
    )
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
