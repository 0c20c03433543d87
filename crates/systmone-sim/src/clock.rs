//! The wall clock that dates journal events and decides what "today" is.
//!
//! Throttling and the request log use `tokio::time::Instant` instead, so paused-time tests see
//! virtual time there.

use std::fmt;
use std::sync::Mutex;

use chrono::{NaiveDateTime, TimeDelta};

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

/// A clock that shows a set time until a test moves it.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<NaiveDateTime>,
}

impl ManualClock {
    /// A clock fixed at `now`.
    pub fn new(now: NaiveDateTime) -> Self {
        Self {
            now: Mutex::new(now),
        }
    }

    /// Sets the time.
    pub fn set(&self, now: NaiveDateTime) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }

    /// Moves the time forward (or back, for a negative delta).
    pub fn advance(&self, by: TimeDelta) {
        let mut guard = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *guard = guard.checked_add_signed(by).unwrap_or(*guard);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> NaiveDateTime {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}
