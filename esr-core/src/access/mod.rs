//! Channels and sessions: what each channel (the NHS network with a smartcard, the internet, the
//! internet upgraded by a one-time passcode) allows, and the sessions that carry it.

mod channels;
mod ops;
mod session;
mod steps;

pub use channels::*;
pub use session::*;
pub(crate) use steps::*;
