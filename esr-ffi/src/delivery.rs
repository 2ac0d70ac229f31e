//! Texts and e-mails: the app's own gateways as foreign traits, the messages handed to them,
//! the built-in outbox for tests and demonstrations.

use crate::error::EsrError;
use crate::types::{EmailKind, to_system};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

/// A text carrying a code, as handed to the app's [`SmsGateway`]. It prints with the number
/// masked and the text redacted; the gateway reads the full number and text with the
/// `expose_` methods, and must never log them.
#[derive(uniffi::Object)]
#[uniffi::export(Display, Debug)]
pub struct SmsMessage(esr_core::passcode::SmsMessage);

impl fmt::Display for SmsMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SMS from trust {} to {} (text redacted)",
            self.0.vpd,
            self.0.to().masked()
        )
    }
}

impl fmt::Debug for SmsMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmsMessage({self})")
    }
}

#[uniffi::export]
impl SmsMessage {
    /// The trust sending it.
    pub fn vpd(&self) -> String {
        self.0.vpd.to_string()
    }

    /// The recipient, masked (`xxxxxxx374`).
    pub fn masked_to(&self) -> String {
        self.0.to().masked()
    }

    /// The recipient in E.164 form (`+447700900374`). Only for the gateway: never log it.
    pub fn expose_to_e164(&self) -> String {
        self.0.to().expose_e164().to_owned()
    }

    /// The text, code included. Only for the gateway: never log it.
    pub fn expose_text(&self) -> String {
        self.0.expose_text().to_owned()
    }
}

/// An account-recovery e-mail, as handed to the app's [`EmailGateway`]. It prints without the
/// link's token; the gateway reads it with `expose_token` or builds the body with `text`.
#[derive(uniffi::Object)]
#[uniffi::export(Display, Debug)]
pub struct EmailMessage(esr_core::passcode::EmailMessage);

impl fmt::Display for EmailMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "e-mail from trust {} for {} (link redacted)",
            self.0.vpd, self.0.username
        )
    }
}

impl fmt::Debug for EmailMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailMessage({self})")
    }
}

#[uniffi::export]
impl EmailMessage {
    /// The trust sending it.
    pub fn vpd(&self) -> String {
        self.0.vpd.to_string()
    }

    /// A username reminder (with a reset link) or an unlock link.
    pub fn kind(&self) -> EmailKind {
        match self.0.kind {
            esr_core::passcode::EmailKind::UsernameReminder => EmailKind::UsernameReminder,
            esr_core::passcode::EmailKind::UnlockAccount => EmailKind::UnlockAccount,
        }
    }

    /// The recipient: the recruitment e-mail address on the person's record.
    pub fn to_address(&self) -> String {
        self.0.to().to_string()
    }

    /// The account's username.
    pub fn username(&self) -> String {
        self.0.username.to_string()
    }

    /// When the link stops working (4 hours after it was sent).
    pub fn link_expires_at(&self) -> SystemTime {
        to_system(self.0.link_expires_at)
    }

    /// The link's token. Only for the gateway: never log it.
    pub fn expose_token(&self) -> String {
        self.0.expose_token().expose().to_owned()
    }

    /// A plain-text body with the link `{link_base}{token}`.
    pub fn text(&self, link_base: String) -> String {
        self.0.text(&link_base)
    }
}

/// The app's SMS gateway: hands a text to the network. Throw `EsrError.Delivery` (any error)
/// to refuse it; the code is then not stored and the user sees the delivery error.
#[uniffi::export(with_foreign)]
pub trait SmsGateway: Send + Sync {
    /// Sends one text.
    fn send_sms(&self, message: Arc<SmsMessage>) -> Result<(), EsrError>;
}

/// The app's e-mail gateway, for account-recovery e-mails. Throw to refuse a message.
#[uniffi::export(with_foreign)]
pub trait EmailGateway: Send + Sync {
    /// Sends one e-mail.
    fn send_email(&self, message: Arc<EmailMessage>) -> Result<(), EsrError>;
}

/// The core's view of a foreign gateway.
pub(crate) struct Gateway<G: ?Sized>(pub(crate) Arc<G>);

fn refusal(e: EsrError) -> String {
    e.message()
}

impl esr_core::passcode::SmsSender for Gateway<dyn SmsGateway> {
    fn send_sms(&self, message: &esr_core::passcode::SmsMessage) -> Result<(), String> {
        self.0
            .send_sms(Arc::new(SmsMessage(message.clone())))
            .map_err(refusal)
    }
}

impl esr_core::passcode::EmailSender for Gateway<dyn EmailGateway> {
    fn send_email(&self, message: &esr_core::passcode::EmailMessage) -> Result<(), String> {
        self.0
            .send_email(Arc::new(EmailMessage(message.clone())))
            .map_err(refusal)
    }
}

/// The built-in outbox: keeps every text and e-mail the service sends when the app gives it no
/// gateway of its own. Tests and demonstrations read the code that was "texted" from it.
#[derive(uniffi::Object)]
pub struct Outbox(pub(crate) Arc<esr_core::passcode::Outbox>);

#[uniffi::export]
impl Outbox {
    /// The code in the newest text to `mobile` (typed as people type it), or `None`. This is
    /// the one place a code comes back across the boundary: it stands for the user's phone.
    pub fn last_code_to(&self, mobile: String) -> Result<Option<String>, EsrError> {
        let to: esr_core::MobileNumber = mobile.parse()?;
        Ok(self.0.last_code_to(&to))
    }

    /// The newest text to `mobile`, or `None`.
    pub fn last_sms_to(&self, mobile: String) -> Result<Option<Arc<SmsMessage>>, EsrError> {
        let to: esr_core::MobileNumber = mobile.parse()?;
        Ok(self.0.last_sms_to(&to).map(|m| Arc::new(SmsMessage(m))))
    }

    /// The newest e-mail to `address`, or `None`: it stands for the user's mailbox.
    pub fn last_email_to(&self, address: String) -> Result<Option<Arc<EmailMessage>>, EsrError> {
        let to: esr_core::EmailAddress = address.parse()?;
        Ok(self.0.last_email_to(&to).map(|m| Arc::new(EmailMessage(m))))
    }

    /// How many messages it holds.
    pub fn message_count(&self) -> u64 {
        u64::try_from(self.0.len()).unwrap_or(u64::MAX)
    }

    /// Makes every later send fail with `reason` (or succeed again, with `None`).
    pub fn fail_with(&self, reason: Option<String>) {
        self.0.fail_with(reason.as_deref());
    }

    /// Empties it.
    pub fn clear(&self) {
        self.0.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outbox_refuses_a_number_or_address_that_is_not_one() {
        let outbox = Outbox(Arc::new(esr_core::passcode::Outbox::new()));
        assert!(matches!(
            outbox.last_code_to("0191 496 0123".into()),
            Err(EsrError::InvalidInput { .. })
        ));
        assert!(matches!(
            outbox.last_email_to("not an address".into()),
            Err(EsrError::InvalidInput { .. })
        ));
        assert_eq!(outbox.last_code_to("07700 900374".into()).unwrap(), None);
        assert_eq!(outbox.message_count(), 0);
    }
}
