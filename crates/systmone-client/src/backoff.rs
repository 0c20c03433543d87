//! Reconnect backoff: a small sans-IO state machine (time is passed in).

use std::time::Duration;

use tokio::time::Instant;

/// Exponential backoff settings for reconnecting to a SystmOne client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackoffPolicy {
    /// Wait after the first failure.
    pub initial: Duration,
    /// Upper bound of the wait.
    pub max: Duration,
    /// Multiplier applied after each further consecutive failure (at least 1).
    pub factor: u32,
}

impl BackoffPolicy {
    /// A policy starting at `initial`, doubling up to `max`.
    #[must_use]
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            factor: 2,
        }
    }

    /// The wait after `consecutive_failures` failures in a row (0 means no wait).
    #[must_use]
    pub fn delay_after(&self, consecutive_failures: u32) -> Duration {
        if consecutive_failures == 0 {
            return Duration::ZERO;
        }
        let mut delay = self.initial;
        for _ in 1..consecutive_failures {
            delay = delay.saturating_mul(self.factor.max(1));
            if delay >= self.max {
                return self.max;
            }
        }
        delay.min(self.max)
    }
}

impl Default for BackoffPolicy {
    /// 1 s, doubling, at most 30 s.
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(30))
    }
}

/// Tracks consecutive connection failures and when the next attempt is allowed.
#[derive(Clone, Debug)]
pub(crate) struct Backoff {
    policy: BackoffPolicy,
    consecutive_failures: u32,
    next_attempt: Option<Instant>,
}

impl Backoff {
    pub(crate) fn new(policy: BackoffPolicy) -> Self {
        Self {
            policy,
            consecutive_failures: 0,
            next_attempt: None,
        }
    }

    /// Records a failure at `now`; returns the wait before the next attempt.
    pub(crate) fn failed(&mut self, now: Instant) -> Duration {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let delay = self.policy.delay_after(self.consecutive_failures);
        self.next_attempt = Some(now + delay);
        delay
    }

    /// Records a success: the next failure starts from the initial delay again.
    pub(crate) fn succeeded(&mut self) {
        self.consecutive_failures = 0;
        self.next_attempt = None;
    }

    /// How long until an attempt is allowed at `now` (`None`: allowed now).
    pub(crate) fn remaining(&self, now: Instant) -> Option<Duration> {
        let next = self.next_attempt?;
        (next > now).then(|| next - now)
    }

    pub(crate) fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap() {
        let policy = BackoffPolicy::new(Duration::from_secs(1), Duration::from_secs(10));
        let delays: Vec<u64> = (0..7).map(|n| policy.delay_after(n).as_secs()).collect();
        assert_eq!(delays, vec![0, 1, 2, 4, 8, 10, 10]);
        assert_eq!(policy.delay_after(u32::MAX), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn success_resets() {
        let mut backoff = Backoff::new(BackoffPolicy::default());
        let now = Instant::now();
        assert_eq!(backoff.remaining(now), None);
        assert_eq!(backoff.failed(now), Duration::from_secs(1));
        assert_eq!(backoff.failed(now), Duration::from_secs(2));
        assert_eq!(backoff.remaining(now), Some(Duration::from_secs(2)));
        assert_eq!(backoff.remaining(now + Duration::from_secs(2)), None);
        backoff.succeeded();
        assert_eq!(backoff.consecutive_failures(), 0);
        assert_eq!(backoff.failed(now), Duration::from_secs(1));
    }
}
