//! The throttle policy: at most one request per second per SystmOne client, and at most one
//! non-exempt `GetPatientRecord` per 30 seconds (reference §5). It never sleeps and never reads
//! the system clock: it is generic over governor's [`Clock`], answers "send now" or "wait this
//! long", and the IO adapter does the waiting.
//!
//! Keep exactly one [`Throttle`] per SystmOne client (per Gateway PC socket), owned by the one
//! dispatcher that sends to it.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, MonotonicClock};
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use crate::function::{FunctionName, ThrottleClass};
use crate::message::all_functions;

/// A direct (un-keyed) governor limiter on clock `C`. The middleware is named because the
/// default parameter is tied to governor's default clock.
pub type Limiter<C> =
    RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Minimum gaps between sends: one for the whole client, and per function.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThrottleConfig {
    /// Minimum gap between any two requests to one client (default 1 s). Zero disables it.
    pub client_interval: Duration,
    /// Minimum gap between two counted requests of a function (default: `GetPatientRecord`
    /// 30 s). Zero disables a function's limit.
    pub function_intervals: BTreeMap<FunctionName, Duration>,
}

impl Default for ThrottleConfig {
    /// TPP's published limits: 1 s per client, 30 s for `GetPatientRecord`.
    fn default() -> Self {
        Self {
            client_interval: Duration::from_secs(1),
            function_intervals: all_functions()
                .filter_map(|m| m.default_limit.map(|limit| (m.name(), limit)))
                .collect(),
        }
    }
}

impl ThrottleConfig {
    /// Sets (or with zero, removes) the limit of one function.
    pub fn with_function_interval(mut self, function: FunctionName, interval: Duration) -> Self {
        self.function_intervals.insert(function, interval);
        self
    }

    /// Sets the whole-client limit.
    pub fn with_client_interval(mut self, interval: Duration) -> Self {
        self.client_interval = interval;
        self
    }
}

fn limiter<C: Clock + Clone>(interval: Duration, clock: &C) -> Option<Limiter<C>> {
    let quota = Quota::with_period(interval)?.allow_burst(NonZeroU32::MIN);
    Some(RateLimiter::direct_with_clock(quota, clock.clone()))
}

/// The throttle of one SystmOne client.
///
/// [`Throttle::try_acquire`] consumes the send slots and says "send now" (`Ok`) or "wait this
/// long" (`Err(wait)`): on `Ok` the caller must send at once. Burst is 1 for every limit, so
/// two admitted sends are never closer than the configured interval.
pub struct Throttle<C: Clock + Clone = MonotonicClock> {
    clock: C,
    client: Option<Limiter<C>>,
    functions: BTreeMap<FunctionName, Limiter<C>>,
}

impl<C: Clock + Clone> std::fmt::Debug for Throttle<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("client_limited", &self.client.is_some())
            .field("functions", &self.functions.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<C: Clock + Clone> Throttle<C> {
    /// A throttle with these limits, on this clock.
    pub fn new(config: &ThrottleConfig, clock: C) -> Self {
        Self {
            client: limiter(config.client_interval, &clock),
            functions: config
                .function_intervals
                .iter()
                .filter_map(|(f, &interval)| limiter(interval, &clock).map(|l| (f.clone(), l)))
                .collect(),
            clock,
        }
    }

    /// The clock the throttle reads.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Asks to send one request of this class now.
    ///
    /// The whole-client limit is checked first, then the function's own limit (if the class
    /// counts against one). A slot taken from the first limit is not returned when the second
    /// refuses: that only delays later requests by up to one interval, never breaks a limit.
    ///
    /// # Errors
    /// `Err(wait)`: do not send; ask again after `wait`.
    pub fn try_acquire(&self, class: &ThrottleClass) -> Result<(), Duration> {
        if let Some(client) = &self.client {
            client
                .check()
                .map_err(|not_until| not_until.wait_time_from(self.clock.now()))?;
        }
        if let ThrottleClass::Function(function) = class
            && let Some(limiter) = self.functions.get(function)
        {
            limiter
                .check()
                .map_err(|not_until| not_until.wait_time_from(self.clock.now()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    #[test]
    fn full_record_waits_thirty_seconds_but_others_flow() {
        let clock = FakeRelativeClock::default();
        let throttle = Throttle::new(&ThrottleConfig::default(), clock.clone());
        let gpr = ThrottleClass::Function(FunctionName::GetPatientRecord);
        let other = ThrottleClass::Function(FunctionName::PatientSearch);
        assert_eq!(throttle.try_acquire(&gpr), Ok(()));
        assert_eq!(throttle.try_acquire(&other), Err(Duration::from_secs(1)));
        clock.advance(Duration::from_secs(1));
        assert_eq!(throttle.try_acquire(&other), Ok(()));
        clock.advance(Duration::from_secs(1));
        assert_eq!(throttle.try_acquire(&gpr), Err(Duration::from_secs(28)));
        clock.advance(Duration::from_secs(1));
        assert_eq!(throttle.try_acquire(&ThrottleClass::ClientOnly), Ok(()));
        clock.advance(Duration::from_secs(27));
        assert_eq!(throttle.try_acquire(&gpr), Ok(()));
    }

    #[test]
    fn limits_are_configurable_per_function() {
        let clock = FakeRelativeClock::default();
        let config = ThrottleConfig::default()
            .with_function_interval(FunctionName::GetPatientRecord, Duration::ZERO)
            .with_function_interval(FunctionName::PatientSearch, Duration::from_secs(5));
        let throttle = Throttle::new(&config, clock.clone());
        let search = ThrottleClass::Function(FunctionName::PatientSearch);
        let gpr = ThrottleClass::Function(FunctionName::GetPatientRecord);
        assert_eq!(throttle.try_acquire(&search), Ok(()));
        clock.advance(Duration::from_secs(1));
        assert_eq!(throttle.try_acquire(&gpr), Ok(()));
        clock.advance(Duration::from_secs(1));
        assert_eq!(throttle.try_acquire(&gpr), Ok(()));
        clock.advance(Duration::from_secs(1));
        assert_eq!(throttle.try_acquire(&search), Err(Duration::from_secs(2)));
    }
}
