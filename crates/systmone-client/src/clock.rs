//! A governor clock that reads tokio's clock: monotonic instants for pacing, not a wall clock.
//!
//! [`TokioClock`] answers "how long since the last send" (governor's [`Clock`] over
//! [`TokioInstant`]s); it has no date and no time zone. For the date and time of day (a
//! journal entry's date, SystmOne's "today") the workspace has one wall clock,
//! `nhs_identifiers::clock::Clock` (with its `ManualClock` and Europe/London dates), which
//! [`ClientBuilder::clock`](crate::ClientBuilder::clock) takes for the dispatcher's "today".
//!
//! The throttle policy in `systmone-api` is generic over governor's [`Clock`]. The dispatcher
//! gives it this clock so that the instants the throttle computes with are the same instants
//! `tokio::time::sleep` waits on. Under `#[tokio::test(start_paused = true)]` both follow
//! tokio's virtual time, so paused-time tests exercise exactly the production code path.

use std::ops::Add;
use std::time::Duration;

use governor::clock::{Clock, Reference};
use governor::nanos::Nanos;

/// An instant on tokio's clock, usable as a governor [`Reference`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TokioInstant(tokio::time::Instant);

impl TokioInstant {
    /// The tokio instant this wraps.
    #[must_use]
    pub fn into_inner(self) -> tokio::time::Instant {
        self.0
    }
}

impl From<tokio::time::Instant> for TokioInstant {
    fn from(instant: tokio::time::Instant) -> Self {
        Self(instant)
    }
}

impl Add<Nanos> for TokioInstant {
    type Output = Self;

    fn add(self, other: Nanos) -> Self {
        Self(self.0 + Duration::from(other))
    }
}

impl Reference for TokioInstant {
    fn duration_since(&self, earlier: Self) -> Nanos {
        Nanos::from(self.0.saturating_duration_since(earlier.0))
    }

    fn saturating_sub(&self, duration: Nanos) -> Self {
        let duration = Duration::from(duration);
        Self(self.0.checked_sub(duration).unwrap_or(self.0))
    }
}

/// A governor clock backed by [`tokio::time::Instant::now`] (virtual under paused time):
/// monotonic instants for the throttle's pacing, not a wall clock (it cannot say the date;
/// for that see `nhs_identifiers::clock::Clock`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokioClock;

impl TokioClock {
    /// A tokio-backed clock.
    #[must_use]
    pub fn new() -> Self {
        Self
    }
}

impl Clock for TokioClock {
    type Instant = TokioInstant;

    fn now(&self) -> Self::Instant {
        TokioInstant(tokio::time::Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn follows_paused_time() {
        let clock = TokioClock::new();
        let start = clock.now();
        tokio::time::sleep(Duration::from_secs(30)).await;
        let elapsed: Duration = clock.now().duration_since(start).into();
        assert_eq!(elapsed, Duration::from_secs(30));
        assert_eq!(
            start.saturating_sub(Nanos::from(Duration::from_secs(1)))
                + Nanos::from(Duration::from_secs(1)),
            start
        );
    }
}
