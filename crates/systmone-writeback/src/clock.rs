//! Injected time: the engine never reads the system clock directly. It takes the workspace's
//! one wall clock, [`nhs_identifiers::clock::Clock`] (re-exported here; "today" is
//! [`Clock::london_today`], SystmOne's entry dates being UK dates), and this module adds the IO
//! adapter the engine runs on: [`TokioWallClock`], wall-clock time that advances with tokio's
//! clock.

use chrono::{DateTime, Utc};

pub use nhs_identifiers::clock::Clock;

/// Wall-clock time that advances with tokio's clock: under tokio's paused time (tests) it moves
/// only as tokio's time does, so backoff can be tested without waiting. (Not
/// `systmone_client::TokioWallClock`, the monotonic pacing clock of SystmOne's throttle.)
#[derive(Clone, Debug)]
pub struct TokioWallClock {
    base_time: DateTime<Utc>,
    base_instant: tokio::time::Instant,
}

impl TokioWallClock {
    /// A clock that starts at the system's current time.
    pub fn from_system_time() -> Self {
        Self::starting_at(Utc::now())
    }

    /// A clock that starts at `time` now and advances with tokio's clock.
    pub fn starting_at(time: DateTime<Utc>) -> Self {
        Self {
            base_time: time,
            base_instant: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioWallClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now().saturating_duration_since(self.base_instant);
        self.base_time + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_follows_paused_time_and_uk_dates() {
        // 23:30 UTC on 1 July is 00:30 on 2 July in London (BST).
        let clock =
            TokioWallClock::starting_at(Utc.with_ymd_and_hms(2026, 7, 1, 23, 30, 0).unwrap());
        assert_eq!(
            clock.london_today(),
            NaiveDate::from_ymd_opt(2026, 7, 2).unwrap()
        );
        tokio::time::sleep(std::time::Duration::from_secs(90)).await;
        assert_eq!(
            clock.now(),
            Utc.with_ymd_and_hms(2026, 7, 1, 23, 31, 30).unwrap()
        );
    }
}
