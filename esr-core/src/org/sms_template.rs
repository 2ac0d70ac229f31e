//! A trust's text-message template: a setting of the trust, filled in by the passcode area
//! when it sends a code.

use crate::error::{Error, Result};
use crate::values::limits::MAX_SMS_TEMPLATE_CHARS;

/// A trust's text-message template. `{code}` (required) is replaced by the code, `{minutes}` by
/// its lifetime in minutes (10) and `{trust}` by the trust's name. At most 320 characters
/// (two SMS segments) after filling in.
///
/// Shared, not copied, when the trust's settings are cloned (access checks read them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsTemplate(std::sync::Arc<str>);

/// The template used when a trust sets none.
pub const DEFAULT_SMS_TEMPLATE: &str = "{code} is your ESR code. It lasts {minutes} minutes. Never share it: ESR staff will never ask for it.";

impl Default for SmsTemplate {
    fn default() -> Self {
        Self(DEFAULT_SMS_TEMPLATE.into())
    }
}

impl SmsTemplate {
    /// Checks a template: it must contain `{code}` once, use only the known placeholders, and
    /// say how long the code lasts (`{minutes}`).
    pub fn new(template: &str) -> Result<Self> {
        let t = crate::values::clean_text("SMS template", template, MAX_SMS_TEMPLATE_CHARS)?;
        if t.matches("{code}").count() != 1 {
            return Err(Error::invalid(
                "SMS template",
                "it must contain {code} exactly once, where the code goes",
            ));
        }
        if !t.contains("{minutes}") {
            return Err(Error::invalid(
                "SMS template",
                "it must say how long the code lasts with {minutes}",
            ));
        }
        let stripped = t
            .replace("{code}", "")
            .replace("{minutes}", "")
            .replace("{trust}", "");
        if stripped.contains('{') || stripped.contains('}') {
            return Err(Error::invalid(
                "SMS template",
                "the only placeholders are {code}, {minutes} and {trust}",
            ));
        }
        Ok(Self(t.into()))
    }

    /// The template text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The message for `code`.
    pub(crate) fn render(&self, code: &str, minutes: i64, trust: &str) -> String {
        self.0
            .replace("{trust}", trust)
            .replace("{minutes}", &minutes.to_string())
            .replace("{code}", code)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for SmsTemplate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for SmsTemplate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_checked() {
        let t = SmsTemplate::default();
        let text = t.render("012345", 10, "Northfield");
        assert!(
            text.contains("012345") && text.contains("10 minutes"),
            "{text}"
        );
        assert!(SmsTemplate::new("Code {code}, {minutes} min, {trust}").is_ok());
        for bad in [
            "no code here {minutes}",
            "{code} {code} {minutes}",
            "{code} forever",
            "{code} {minutes} {name}",
            "",
            &"x".repeat(301),
        ] {
            assert!(SmsTemplate::new(bad).is_err(), "{bad:?}");
        }
    }
}
