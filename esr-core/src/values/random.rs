//! Injected randomness: the core draws every identifier and salt from the RNG it is given.

use rand_core::TryCryptoRng;

/// A cryptographically secure source of random bytes, object-safe so the service can hold any
/// `rand_core` generator. Implemented for every [`TryCryptoRng`] that is `Send`.
pub trait SecureRandom: Send {
    /// Fills `buf` entirely, or says why it could not.
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), String>;
}

impl<R: TryCryptoRng + Send> SecureRandom for R {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), String> {
        self.try_fill_bytes(buf).map_err(|e| e.to_string())
    }
}
