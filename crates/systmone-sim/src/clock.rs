//! The wall clock that dates journal events and decides what "today" is.
//!
//! SystmOne runs on the practice's PC and sends local date-times without a zone, so the
//! simulator's [`Clock`] gives a `NaiveDateTime`: by default the machine's local time
//! ([`LocalClock`]). [`ManualClock`] is the workspace's shared
//! `nhs_identifiers::clock::ManualClock` read as local time, and [`LondonClock`] adapts any
//! shared wall clock (`nhs_identifiers::clock::Clock`) to Europe/London local time, so one test
//! clock can drive the simulator and the crates that use the shared clock.
//!
//! Throttling and the request log use `tokio::time::Instant` instead, so paused-time tests see
//! virtual time there.

use std::fmt;

use chrono::{NaiveDateTime, TimeDelta};
use nhs_identifiers::clock::{
    Clock as SharedClock, ManualClock as SharedManualClock, london_local,
};

/// Source of local date-times (SystmOne sends local times without a zone).
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current local date-time.
    fn now(&self) -> NaiveDateTime;
}

/// The machine's local time (the default).
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct LocalClock;

impl Clock for LocalClock {
    fn now(&self) -> NaiveDateTime {
        let now = chrono::Local::now().naive_local();
        // SystmOne date-times have whole seconds.
        now.with_nanosecond_zero()
    }
}

trait WholeSeconds {
    fn with_nanosecond_zero(self) -> Self;
}

impl WholeSeconds for NaiveDateTime {
    fn with_nanosecond_zero(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(0).unwrap_or(self)
    }
}

/// A clock that shows a set time until a test moves it (the shared
/// `nhs_identifiers::clock::ManualClock`, its instant read as this local date-time).
#[derive(Debug)]
pub struct ManualClock(SharedManualClock);

impl ManualClock {
    /// A clock fixed at `now`.
    pub fn new(now: NaiveDateTime) -> Self {
        Self(SharedManualClock::new(now.and_utc()))
    }

    /// Sets the time.
    pub fn set(&self, now: NaiveDateTime) {
        self.0.set(now.and_utc());
    }

    /// Moves the time forward (or back, for a negative delta).
    pub fn advance(&self, by: TimeDelta) {
        self.0.advance(by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> NaiveDateTime {
        SharedClock::now(&self.0).naive_utc()
    }
}

/// Europe/London local time, in whole seconds, from a shared wall clock
/// (`nhs_identifiers::clock::Clock`, e.g. its `ManualClock` or `SystemClock`).
#[derive(Clone, Debug, Default)]
pub struct LondonClock<C>(pub C);

impl<C: SharedClock> Clock for LondonClock<C> {
    fn now(&self) -> NaiveDateTime {
        london_local(self.0.now()).with_nanosecond_zero()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn london_clock_reads_a_shared_clock_in_london_time_and_whole_seconds() {
        let shared = SharedManualClock::new(
            Utc.with_ymd_and_hms(2026, 7, 1, 23, 30, 0).unwrap() + TimeDelta::milliseconds(250),
        );
        let clock = LondonClock(shared.clone());
        assert_eq!(clock.now().to_string(), "2026-07-02 00:30:00");
        shared.advance(TimeDelta::hours(1));
        assert_eq!(clock.now().to_string(), "2026-07-02 01:30:00");
    }

    #[test]
    fn manual_clock_shows_what_it_is_told() {
        let at = |s: &str| s.parse::<NaiveDateTime>().unwrap();
        let clock = ManualClock::new(at("2026-03-03T10:15:02"));
        assert_eq!(clock.now(), at("2026-03-03T10:15:02"));
        clock.advance(TimeDelta::seconds(-3));
        assert_eq!(clock.now(), at("2026-03-03T10:14:59"));
        clock.set(at("2026-12-31T23:59:59"));
        assert_eq!(clock.now(), at("2026-12-31T23:59:59"));
    }
}
