//! Injected time: every rule about expiry, lockout and audit reads the clock it is given.

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::{Arc, Mutex};

/// A source of the current instant. The core never reads the system time itself.
pub trait Clock: Send + Sync {
    /// The current instant, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to, shared between clones: for tests and demonstrations.
///
/// ```
/// use esr_core::{Clock, ManualClock};
/// use chrono::{TimeDelta, TimeZone, Utc};
/// let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap());
/// let other = clock.clone();
/// clock.advance(TimeDelta::seconds(600));
/// assert_eq!(other.now(), Utc.with_ymd_and_hms(2026, 11, 22, 9, 10, 0).unwrap());
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock to `instant` (backwards too: tests of clock skew need it).
    pub fn set(&self, instant: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = instant;
    }

    /// Moves the clock on by `delta` (a negative delta moves it back). Past the end of the
    /// range of dates it stops at the end ([`ManualClock::try_advance`] refuses instead).
    pub fn advance(&self, delta: TimeDelta) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now = plus(*now, delta);
    }

    /// Moves the clock on by `delta`, or refuses with [`crate::Error::InvalidInput`] (leaving
    /// it where it was) when that would pass the end of the range of dates.
    pub fn try_advance(&self, delta: TimeDelta) -> Result<(), crate::values::ValueError> {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now = now.checked_add_signed(delta).ok_or_else(|| {
            crate::values::ValueError::invalid(
                "clock step",
                "it would move the clock past the range of dates; move it by less",
            )
        })?;
        Ok(())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

/// `t + d`, stopping at the ends of the range of instants instead of overflowing: an injected
/// clock may stand anywhere, and every time rule adds to it.
pub(crate) fn plus(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(if d < TimeDelta::zero() {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// `t - d`, stopping at the ends of the range of instants.
pub(crate) fn minus(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    t.checked_sub_signed(d).unwrap_or(if d < TimeDelta::zero() {
        DateTime::<Utc>::MAX_UTC
    } else {
        DateTime::<Utc>::MIN_UTC
    })
}

/// The clock a service runs on when its embedder chooses at run time (as the bindings do): the
/// operating system's, or a [`ManualClock`] for tests and demonstrations.
#[derive(Debug, Clone, Default)]
pub enum ClockChoice {
    /// The operating system's wall clock ([`SystemClock`]).
    #[default]
    System,
    /// A clock that moves only when told to.
    Manual(ManualClock),
}

impl ClockChoice {
    /// The manual clock, if this is one.
    pub fn manual(&self) -> Option<&ManualClock> {
        match self {
            Self::System => None,
            Self::Manual(c) => Some(c),
        }
    }
}

/// The manual clock if there is one, else the system's.
impl From<Option<ManualClock>> for ClockChoice {
    fn from(manual: Option<ManualClock>) -> Self {
        manual.map_or(Self::System, Self::Manual)
    }
}

impl Clock for ClockChoice {
    fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => SystemClock.now(),
            Self::Manual(c) => c.now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manual_clock_does_not_overflow() {
        let start = DateTime::<Utc>::MAX_UTC - TimeDelta::days(1);
        let clock = ManualClock::new(start);
        assert!(clock.try_advance(TimeDelta::days(2)).is_err());
        assert_eq!(clock.now(), start);
        clock.try_advance(TimeDelta::hours(1)).unwrap();
        assert_eq!(clock.now(), start + TimeDelta::hours(1));
        clock.advance(TimeDelta::MAX);
        assert_eq!(clock.now(), DateTime::<Utc>::MAX_UTC);
        clock.advance(TimeDelta::MIN);
        assert_eq!(clock.now(), DateTime::<Utc>::MIN_UTC);
        assert!(clock.try_advance(TimeDelta::seconds(-1)).is_err());
        assert_eq!(
            minus(DateTime::<Utc>::MIN_UTC, TimeDelta::days(1)),
            DateTime::<Utc>::MIN_UTC
        );
        assert_eq!(
            minus(DateTime::<Utc>::MAX_UTC, TimeDelta::MIN),
            DateTime::<Utc>::MAX_UTC
        );
    }

    #[test]
    fn a_clock_choice_reads_the_manual_clock_it_holds_or_the_system_clock() {
        let start = DateTime::from_timestamp(1_795_338_000, 0).unwrap_or_default();
        let manual = ManualClock::new(start);
        let chosen = ClockChoice::from(Some(manual.clone()));
        assert_eq!(chosen.now(), start);
        manual.advance(TimeDelta::seconds(90));
        assert_eq!(chosen.now(), start + TimeDelta::seconds(90));
        assert!(chosen.manual().is_some());
        let system = ClockChoice::from(None);
        assert!(system.manual().is_none());
        assert!(system.now() > start - TimeDelta::days(3650));
    }
}
