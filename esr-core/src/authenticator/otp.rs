//! One-time passwords from a shared secret: HOTP (RFC 4226) and TOTP (RFC 6238), the
//! `otpauth://` provisioning URI that authenticator apps read, and the check of a typed code
//! against a window of time steps with a replay guard.

use crate::error::{Error, Result};
use crate::values::SecureRandom;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use std::fmt;
use subtle::ConstantTimeEq;

/// Bytes of a new secret: 160 bits, the size of an HMAC-SHA1 output (RFC 4226 §4, R6).
pub const SECRET_BYTES: usize = 20;

/// The hash under the HMAC. Authenticator apps default to SHA-1, and Google Authenticator
/// ignores anything else; SHA-256 and SHA-512 are RFC 6238's other two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TotpAlgorithm {
    /// HMAC-SHA1 (the default everywhere).
    #[default]
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

impl TotpAlgorithm {
    /// The name in a provisioning URI (`SHA1`, `SHA256`, `SHA512`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }
}

impl std::str::FromStr for TotpAlgorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().replace('-', "").as_str() {
            "SHA1" => Ok(Self::Sha1),
            "SHA256" => Ok(Self::Sha256),
            "SHA512" => Ok(Self::Sha512),
            _ => Err(Error::invalid(
                "TOTP algorithm",
                "it must be SHA1, SHA256 or SHA512",
            )),
        }
    }
}

/// The shape of a TOTP: hash, digits and time step. The default, SHA-1, 6 digits and 30
/// seconds, is what every authenticator app reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TotpParams {
    /// The hash.
    pub algorithm: TotpAlgorithm,
    /// Digits in a code (6 to 8).
    pub digits: u8,
    /// Seconds in a time step (15 to 300).
    pub period: u32,
}

impl Default for TotpParams {
    fn default() -> Self {
        Self {
            algorithm: TotpAlgorithm::Sha1,
            digits: 6,
            period: 30,
        }
    }
}

impl TotpParams {
    /// Checks each is in range.
    pub fn check(&self) -> Result<()> {
        if !(6..=8).contains(&self.digits) {
            return Err(Error::invalid(
                "TOTP digits",
                "a code has 6, 7 or 8 digits (RFC 4226)",
            ));
        }
        if !(15..=300).contains(&self.period) {
            return Err(Error::invalid(
                "TOTP period",
                "a time step is from 15 to 300 seconds (30 is what apps expect)",
            ));
        }
        Ok(())
    }
}

/// A shared TOTP secret. Its `Debug` never shows it, and it is wiped when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl TotpSecret {
    /// A new secret of [`SECRET_BYTES`] from the injected cryptographic RNG.
    pub fn generate(rng: &mut dyn SecureRandom) -> Result<Self> {
        let mut b = vec![0u8; SECRET_BYTES];
        rng.fill(&mut b).map_err(Error::Randomness)?;
        Ok(Self(b))
    }

    /// A secret from its bytes (at least 10, RFC 4226's least, and at most 64).
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        if !(10..=64).contains(&b.len()) {
            return Err(Error::invalid(
                "TOTP secret",
                "it must be from 10 to 64 bytes (20 is usual)",
            ));
        }
        Ok(Self(b.to_vec()))
    }

    /// A secret from its base32 text as apps show it (case, spaces and `=` padding ignored).
    pub fn from_base32(s: &str) -> Result<Self> {
        let clean: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '='))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let b = data_encoding::BASE32_NOPAD
            .decode(clean.as_bytes())
            .map_err(|_| Error::invalid("TOTP secret", "it is not valid base32 (A-Z, 2-7)"))?;
        Self::from_bytes(&b)
    }

    /// The base32 text (no padding), as a provisioning URI carries it. Only for the person's
    /// own screen.
    pub fn to_base32(&self) -> String {
        data_encoding::BASE32_NOPAD.encode(&self.0)
    }

    /// The bytes. Only for sealing and code generation.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for TotpSecret {
    fn drop(&mut self) {
        self.0.fill(0);
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// RFC 4226 HOTP: the `digits`-digit code of `counter` under `secret`, as a number.
pub fn hotp(secret: &[u8], counter: u64, digits: u8, algorithm: TotpAlgorithm) -> u32 {
    KeyedMac::new(secret, algorithm).code(counter, digits)
}

/// An HMAC with its key already absorbed. Checking a code computes one HOTP per step of the
/// window under the same key: keying once and cloning the keyed state per step saves the
/// two hash blocks of key processing each step would otherwise repeat.
#[derive(Clone)]
enum KeyedMac {
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<sha2::Sha256>),
    Sha512(Hmac<sha2::Sha512>),
    /// HMAC takes a key of any length, so this is never made; it stands for a refusal
    /// without a panic (every code is then 0).
    Refused,
}

impl KeyedMac {
    fn new(secret: &[u8], algorithm: TotpAlgorithm) -> Self {
        let keyed = match algorithm {
            TotpAlgorithm::Sha1 => Hmac::new_from_slice(secret).map(Self::Sha1),
            TotpAlgorithm::Sha256 => Hmac::new_from_slice(secret).map(Self::Sha256),
            TotpAlgorithm::Sha512 => Hmac::new_from_slice(secret).map(Self::Sha512),
        };
        keyed.unwrap_or(Self::Refused)
    }

    /// The HOTP of `counter`, as a number.
    fn code(&self, counter: u64, digits: u8) -> u32 {
        let msg = counter.to_be_bytes();
        let mut h = [0u8; 64];
        macro_rules! tag {
            ($m:expr) => {{
                let mut m = $m.clone();
                m.update(&msg);
                let tag = m.finalize().into_bytes();
                h[..tag.len()].copy_from_slice(&tag);
                tag.len()
            }};
        }
        let n = match self {
            Self::Sha1(m) => tag!(m),
            Self::Sha256(m) => tag!(m),
            Self::Sha512(m) => tag!(m),
            Self::Refused => 20,
        };
        // Dynamic truncation (RFC 4226 §5.3).
        let offset = usize::from(h[n.saturating_sub(1)] & 0x0f);
        let bin = (u32::from(h[offset] & 0x7f) << 24)
            | (u32::from(h[offset + 1]) << 16)
            | (u32::from(h[offset + 2]) << 8)
            | u32::from(h[offset + 3]);
        bin % 10u32.pow(u32::from(digits.min(9)))
    }
}

/// A code as text, zero-padded to `digits`.
fn code_text(n: u32, digits: u8) -> String {
    format!("{n:0width$}", width = usize::from(digits))
}

/// A code as ASCII digits, zero-padded to `digits` (at most 9), on the stack: the check
/// compares these without formatting a string per step.
fn code_digits(mut n: u32, digits: u8) -> ([u8; 9], usize) {
    let len = usize::from(digits.min(9));
    let mut out = [b'0'; 9];
    for d in out[..len].iter_mut().rev() {
        // n % 10 < 10, so the cast cannot truncate.
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    (out, len)
}

/// The time step of `unix_seconds` (RFC 6238 `T`, with `T0` = 0); times before 1970 are step 0.
pub fn time_step(unix_seconds: i64, period: u32) -> u64 {
    u64::try_from(unix_seconds).unwrap_or(0) / u64::from(period.max(1))
}

/// The characters left as they are in a provisioning URI's label and issuer: RFC 3986's
/// unreserved ones. Everything else, `:` `@` `/` and space included, is percent-encoded.
const URI_ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// An `otpauth://totp/…` provisioning URI. It carries the secret, so its `Debug` never shows
/// it; show it only to its owner (as text or as a QR code).
#[derive(Clone, PartialEq, Eq)]
pub struct ProvisioningUri(String);

impl ProvisioningUri {
    /// The URI text.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URI as a QR code in SVG (black modules on white, a quiet zone of 4 modules).
    pub fn qr_svg(&self) -> Result<String> {
        crate::authenticator::qr::svg(self.0.as_bytes())
    }

    /// The URI as a QR code in PNG (8-bit greyscale, `scale` pixels a module, 1 to 32).
    pub fn qr_png(&self, scale: u32) -> Result<Vec<u8>> {
        crate::authenticator::qr::png(self.0.as_bytes(), scale)
    }
}

impl fmt::Debug for ProvisioningUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProvisioningUri(<redacted>)")
    }
}

/// What checking a typed code found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepCheck {
    /// The code is right for this step, later than any step accepted before.
    Accepted(u64),
    /// The code is right for a step in the window, but that step (or a later one) was
    /// accepted already: a replay.
    Replayed(u64),
    /// The code is right for no step in the window.
    Wrong,
}

/// A TOTP generator and checker: a secret, its shape, and the names an app shows.
#[derive(Clone, PartialEq, Eq)]
pub struct Totp {
    secret: TotpSecret,
    params: TotpParams,
    issuer: String,
    account: String,
}

impl fmt::Debug for Totp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Totp")
            .field("params", &self.params)
            .field("issuer", &self.issuer)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl Totp {
    /// A TOTP with `secret` and `params`, shown in apps as `issuer` (the trust's name) and
    /// `account` (the username).
    pub fn new(
        secret: TotpSecret,
        params: TotpParams,
        issuer: &str,
        account: &str,
    ) -> Result<Self> {
        params.check()?;
        Ok(Self {
            secret,
            params,
            issuer: issuer.to_owned(),
            account: account.to_owned(),
        })
    }

    /// The shape.
    pub fn params(&self) -> TotpParams {
        self.params
    }

    /// The issuer an app shows.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The account an app shows.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The secret.
    pub fn secret(&self) -> &TotpSecret {
        &self.secret
    }

    /// The provisioning URI, as Google and Microsoft Authenticator read it:
    /// `otpauth://totp/Issuer:account?secret=…&issuer=Issuer&algorithm=SHA1&digits=6&period=30`,
    /// the label and issuer percent-encoded.
    pub fn uri(&self) -> ProvisioningUri {
        let issuer = utf8_percent_encode(&self.issuer, URI_ESCAPE).to_string();
        let account = utf8_percent_encode(&self.account, URI_ESCAPE);
        ProvisioningUri(format!(
            "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm={}&digits={}&period={}",
            self.secret.to_base32(),
            self.params.algorithm.as_str(),
            self.params.digits,
            self.params.period,
        ))
    }

    /// Reads a provisioning URI (`otpauth://totp/…`): the secret is required, the rest
    /// defaults to SHA-1, 6 digits, 30 seconds.
    pub fn from_uri(uri: &str) -> Result<Self> {
        let bad = |why: &'static str| Error::invalid("provisioning URI", why);
        if uri.len() > 2048 {
            return Err(bad("it is longer than any provisioning URI"));
        }
        let rest = uri
            .strip_prefix("otpauth://")
            .ok_or_else(|| bad("it must start with otpauth://totp/"))?;
        let (kind, rest) = rest
            .split_once('/')
            .ok_or_else(|| bad("it must start with otpauth://totp/"))?;
        if !kind.eq_ignore_ascii_case("totp") {
            return Err(bad("only time-based (totp) URIs are read"));
        }
        let (label, query) = rest.split_once('?').unwrap_or((rest, ""));
        let decode = |s: &str| -> Result<String> {
            percent_decode_str(&s.replace('+', " "))
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| bad("it has percent-encoding that is not UTF-8"))
        };
        // The separator is a literal `:`; some generators encode it as `%3A`, so a label
        // without a literal one is split after decoding.
        let (mut issuer, account) = match label.split_once(':') {
            Some((i, a)) => (decode(i)?, decode(a)?.trim_start().to_owned()),
            None => {
                let label = decode(label)?;
                match label.split_once(':') {
                    Some((i, a)) => (i.to_owned(), a.trim_start().to_owned()),
                    None => (String::new(), label),
                }
            }
        };
        let mut params = TotpParams::default();
        let mut secret = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = decode(v)?;
            match k.to_ascii_lowercase().as_str() {
                "secret" => secret = Some(TotpSecret::from_base32(&v)?),
                "issuer" => issuer = v,
                "algorithm" => params.algorithm = v.parse()?,
                "digits" => {
                    params.digits = v
                        .parse()
                        .map_err(|_| bad("digits must be a number from 6 to 8"))?;
                }
                "period" => {
                    params.period = v
                        .parse()
                        .map_err(|_| bad("period must be a number of seconds"))?;
                }
                _ => {}
            }
        }
        let secret = secret.ok_or_else(|| bad("it has no secret"))?;
        Self::new(secret, params, &issuer, &account)
    }

    /// The time step of `unix_seconds`.
    pub fn step_at(&self, unix_seconds: i64) -> u64 {
        time_step(unix_seconds, self.params.period)
    }

    /// The code of time step `step`.
    pub fn code_at_step(&self, step: u64) -> String {
        code_text(
            hotp(
                self.secret.expose(),
                step,
                self.params.digits,
                self.params.algorithm,
            ),
            self.params.digits,
        )
    }

    /// The code an app shows at `unix_seconds`.
    pub fn code_at(&self, unix_seconds: i64) -> String {
        self.code_at_step(self.step_at(unix_seconds))
    }

    /// Seconds until the code shown at `unix_seconds` changes (1 to the period).
    pub fn seconds_left(&self, unix_seconds: i64) -> u32 {
        let p = u64::from(self.params.period);
        let t = u64::try_from(unix_seconds).unwrap_or(0);
        u32::try_from(p - t % p).unwrap_or(self.params.period)
    }

    /// Checks `code` (already only digits) at `unix_seconds` against the steps from `window`
    /// before to `window` after the current one. Every candidate is computed and compared in
    /// constant time, whatever matches. A step at or before `last_accepted` is never
    /// accepted again: of the matching steps the latest later than it is taken.
    pub fn check(
        &self,
        code: &str,
        unix_seconds: i64,
        window: u8,
        last_accepted: Option<u64>,
    ) -> StepCheck {
        let now = self.step_at(unix_seconds);
        let w = u64::from(window);
        let mut accepted: Option<u64> = None;
        let mut replayed: Option<u64> = None;
        let typed = code.as_bytes();
        let keyed = KeyedMac::new(self.secret.expose(), self.params.algorithm);
        for step in now.saturating_sub(w)..=now.saturating_add(w) {
            let (want, len) = code_digits(keyed.code(step, self.params.digits), self.params.digits);
            let same: bool = if len == typed.len() {
                want[..len].ct_eq(typed).into()
            } else {
                false
            };
            let fresh = last_accepted.is_none_or(|last| step > last);
            if same && fresh {
                accepted = Some(step);
            } else if same {
                replayed = Some(step);
            }
        }
        match (accepted, replayed) {
            (Some(s), _) => StepCheck::Accepted(s),
            (None, Some(s)) => StepCheck::Replayed(s),
            (None, None) => StepCheck::Wrong,
        }
    }
}

#[cfg(test)]
mod tests;
