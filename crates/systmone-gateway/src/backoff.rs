//! Reconnect backoff with jitter (sans-IO: the random value is a parameter).

use std::time::Duration;

/// Exponential reconnect backoff with "equal jitter": the n-th consecutive failure waits
/// between half and all of `min(max, base × 2ⁿ)`, so a fleet of agents that lost the hub at the
/// same moment does not come back at the same moment.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconnectBackoff {
    /// First delay (before jitter).
    pub base: Duration,
    /// Largest delay.
    pub max: Duration,
    failures: u32,
}

impl Default for ReconnectBackoff {
    /// 1 s doubling to 60 s.
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(60))
    }
}

impl ReconnectBackoff {
    /// A backoff from `base` doubling up to `max`.
    #[must_use]
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max: max.max(base),
            failures: 0,
        }
    }

    /// Consecutive failures so far.
    #[must_use]
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Records a failure and returns how long to wait, jittered by `random` (any `u64`, e.g.
    /// from a secure or seeded source).
    pub fn next_delay(&mut self, random: u64) -> Duration {
        let exponent = self.failures.min(20);
        self.failures = self.failures.saturating_add(1);
        let ceiling = self.base.saturating_mul(1u32 << exponent).min(self.max);
        let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        let half = ceiling_ms / 2;
        let jitter = random % (ceiling_ms - half + 1);
        Duration::from_millis(half + jitter)
    }

    /// A session worked: start again from `base`.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn doubles_up_to_the_ceiling_and_resets() {
        let mut backoff = ReconnectBackoff::new(Duration::from_secs(1), Duration::from_secs(8));
        let top: Vec<_> = (0..6).map(|_| backoff.next_delay(u64::MAX - 1)).collect();
        assert!(top.windows(2).all(|w| w[0] <= w[1]));
        assert!(top.iter().all(|d| *d <= Duration::from_secs(8)));
        backoff.reset();
        assert!(backoff.next_delay(0) >= Duration::from_millis(500));
        assert!(backoff.next_delay(0) <= Duration::from_secs(1));
    }

    proptest! {
        #[test]
        fn delay_is_between_half_and_all_of_the_ceiling(failures in 0u32..40, random in any::<u64>()) {
            let mut backoff = ReconnectBackoff::new(Duration::from_millis(100), Duration::from_secs(30));
            for _ in 0..failures { backoff.next_delay(random); }
            let delay = backoff.next_delay(random);
            let ceiling = Duration::from_millis(100).saturating_mul(1 << failures.min(20)).min(Duration::from_secs(30));
            prop_assert!(delay <= ceiling);
            prop_assert!(delay >= ceiling / 2 - Duration::from_millis(1));
        }
    }
}
