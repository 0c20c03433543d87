//! One wall clock for every crate: [`Clock`], [`SystemClock`], [`ManualClock`] and the
//! Europe/London date ("today" for SystmOne's exemptions, a ward's task day).
//!
//! Sans-IO cores never read the system clock: they take a `&dyn Clock` (or a generic `C:
//! Clock`) so tests and replays decide what time it is. Monotonic pacing (SystmOne's throttle)
//! is a different thing and uses tokio's `Instant` in `systmone-client`.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use nhs_identifiers::clock::{Clock, ManualClock};
//!
//! // 23:30 UTC on 1 July is 00:30 on 2 July in London (BST).
//! let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 7, 1, 23, 30, 0).unwrap());
//! assert_eq!(clock.london_today().to_string(), "2026-07-02");
//! clock.advance(chrono::TimeDelta::hours(1));
//! assert_eq!(clock.now(), Utc.with_ymd_and_hms(2026, 7, 2, 0, 30, 0).unwrap());
//! ```

use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};

/// The time zone of NHS England's services.
pub const LONDON: chrono_tz::Tz = chrono_tz::Europe::London;

/// A source of the current time (UTC).
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now.
    fn now(&self) -> DateTime<Utc>;

    /// Today's date in Europe/London.
    fn london_today(&self) -> NaiveDate {
        london_date(self.now())
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for Box<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

/// The date in Europe/London at `instant`.
pub fn london_date(instant: DateTime<Utc>) -> NaiveDate {
    london_local(instant).date()
}

/// The Europe/London wall-clock time at `instant`.
pub fn london_local(instant: DateTime<Utc>) -> NaiveDateTime {
    instant.with_timezone(&LONDON).naive_local()
}

/// The machine's clock.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct SystemClock;

impl SystemClock {
    /// The system clock.
    pub const fn new() -> Self {
        Self
    }
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that says what it is told, shared by its clones: for tests and replays.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    /// A clock stopped at `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(now)))
    }

    /// Sets the time (every clone sees it).
    pub fn set(&self, now: DateTime<Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = now;
    }

    /// Moves the time by `by` (backwards for a negative delta).
    pub fn advance(&self, by: TimeDelta) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now = now.checked_add_signed(by).unwrap_or(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn london_today_follows_both_clock_changes() {
        // GMT in winter: 23:59 UTC on 27 Jan is still 27 Jan.
        assert_eq!(
            london_date(Utc.with_ymd_and_hms(2026, 1, 27, 23, 59, 0).unwrap()).to_string(),
            "2026-01-27"
        );
        // BST in summer: 23:00 UTC on 1 Jul is 00:00 on 2 Jul.
        assert_eq!(
            london_date(Utc.with_ymd_and_hms(2026, 7, 1, 23, 0, 0).unwrap()).to_string(),
            "2026-07-02"
        );
        // Spring forward 2026-03-29 01:00 UTC: 00:59:59 UTC is 00:59:59 GMT, 01:00 UTC is 02:00 BST.
        let before = london_local(Utc.with_ymd_and_hms(2026, 3, 29, 0, 59, 59).unwrap());
        let after = london_local(Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap());
        assert_eq!(
            (before.to_string().as_str(), after.to_string().as_str()),
            ("2026-03-29 00:59:59", "2026-03-29 02:00:00")
        );
        // Fall back 2026-10-25 01:00 UTC: 01:30 local happens twice.
        let first = london_local(Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap());
        let second = london_local(Utc.with_ymd_and_hms(2026, 10, 25, 1, 30, 0).unwrap());
        assert_eq!(first, second);
    }

    #[test]
    fn manual_clock_is_shared_by_its_clones() {
        let a = ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        let b = a.clone();
        a.advance(TimeDelta::seconds(90));
        assert_eq!(b.now(), Utc.with_ymd_and_hms(2026, 1, 1, 0, 1, 30).unwrap());
        let dyn_clock: Arc<dyn Clock> = Arc::new(b);
        assert_eq!(dyn_clock.london_today().to_string(), "2026-01-01");
        assert!(SystemClock::new().now() > Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap());
    }
}
