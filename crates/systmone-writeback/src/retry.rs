//! Backoff and reconciliation timing.

use std::time::Duration;

/// When to try again.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Delay after the first failure; doubled after each further consecutive failure.
    pub first_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
    /// How long after a write with an unknown outcome the journal is read: long enough for a
    /// request still inside a gateway to have been applied or dropped.
    pub reconcile_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(300),
            reconcile_after: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// A policy with these delays.
    pub fn new(first_delay: Duration, max_delay: Duration, reconcile_after: Duration) -> Self {
        Self {
            first_delay,
            max_delay,
            reconcile_after,
        }
    }

    /// The delay after `failures` consecutive failures (1 = the first failure), exponential
    /// and capped, without jitter: the engine spreads notes by their own due times.
    pub fn delay(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(30);
        self.first_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_and_are_capped() {
        let policy = RetryPolicy::default();
        let delays: Vec<_> = (1..=10).map(|n| policy.delay(n).as_secs()).collect();
        assert_eq!(delays, vec![2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(policy.delay(0), Duration::from_secs(2));
        assert_eq!(policy.delay(u32::MAX), Duration::from_secs(300));
    }
}
