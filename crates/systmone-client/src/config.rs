//! Settings of one SystmOne client connection: timeouts per function, backoff, queue size.

use std::collections::BTreeMap;
use std::time::Duration;

use systmone_api::{EncodeOptions, OutputScheme};

use crate::backoff::BackoffPolicy;

/// How long to wait for a response, per wire function.
///
/// SystmOne answers most requests in under a second, but a full record can be several MB and
/// slow, and a request dropped by throttling gets no answer at all, so every request needs a
/// deadline. Defaults: 20 s; `GetPatientRecord` and `GetDocument` 60 s; `DataExtract` 300 s.
/// The first request with an empty device id waits for a person to approve the software and
/// uses [`ClientConfig::first_contact_timeout`] instead.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Timeout for functions without their own entry.
    pub default: Duration,
    /// Timeouts by wire function name (e.g. `"GetPatientRecord"`).
    pub per_function: BTreeMap<String, Duration>,
}

impl Timeouts {
    /// Every function waits `default`.
    #[must_use]
    pub fn uniform(default: Duration) -> Self {
        Self {
            default,
            per_function: BTreeMap::new(),
        }
    }

    /// Sets the timeout of one function.
    #[must_use]
    pub fn with(mut self, function: impl Into<String>, timeout: Duration) -> Self {
        self.per_function.insert(function.into(), timeout);
        self
    }

    /// The timeout of `function`.
    #[must_use]
    pub fn for_function(&self, function: &str) -> Duration {
        self.per_function
            .get(function)
            .copied()
            .unwrap_or(self.default)
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Self::uniform(Duration::from_secs(20))
            .with("GetPatientRecord", Duration::from_secs(60))
            .with("GetDocument", Duration::from_secs(60))
            .with("DataExtract", Duration::from_secs(300))
    }
}

/// Settings of one [`Client`](crate::Client) (one SystmOne client on one Gateway PC).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Response timeouts per function.
    pub timeouts: Timeouts,
    /// Timeout of the first request sent with an empty device id (a person must approve).
    pub first_contact_timeout: Duration,
    /// Timeout for opening a connection.
    pub connect_timeout: Duration,
    /// Reconnect backoff after connection failures.
    pub backoff: BackoffPolicy,
    /// Requests that may wait in the queue; further calls wait for room.
    pub queue_capacity: usize,
    /// Prefix of generated `RequestUID`s (they read `<prefix>-<counter>`).
    pub request_uid_prefix: String,
    /// Largest response accepted, in bytes (full records can be several MB).
    pub max_response_bytes: usize,
    /// How requests are written (e.g. the NHS number element's spelling).
    pub encode_options: EncodeOptions,
    /// `OutputScheme` sent with every request (`None`: SystmOne's defaults, CTV3 and Multilex).
    pub output_scheme: Option<OutputScheme>,
    /// Treat the client's start as a whole-record read (and as a send of any other function
    /// with its own throttle limit): the first whole-record `GetPatientRecord` then goes no
    /// sooner than 30 s after the client starts. Default `true`, because a previous process
    /// (this service before a restart, or another tool) may have read a whole record from this
    /// SystmOne client moments ago, and SystmOne silently drops a read within 30 s of the last.
    ///
    /// Turn it off only when you know no other process used this SystmOne client in the last
    /// 30 s. (The start always counts as a send for the 1 s whole-client limit.)
    pub assume_record_read_at_start: bool,
    /// Kept on top of every throttle limit between two sends (default
    /// [`DEFAULT_PACING_MARGIN`], 10 ms). SystmOne measures the gaps between *arrivals*, and
    /// arrivals jitter: a request delayed a little less than the one before it arrives less
    /// than 1 s after it even though it was sent 1 s after, and is silently dropped (costing a
    /// whole response timeout). 10 ms covers loopback and LAN jitter with the line still busy
    /// 99 % of the time (1 s / 1.01 s); BENCHMARKS.md has the measurement. Zero paces exactly
    /// to the limits. The hold after the client's start does not add it.
    pub pacing_margin: Duration,
}

/// The default [`ClientConfig::pacing_margin`]: 10 ms.
pub const DEFAULT_PACING_MARGIN: Duration = Duration::from_millis(10);

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            timeouts: Timeouts::default(),
            first_contact_timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(5),
            backoff: BackoffPolicy::default(),
            queue_capacity: 1024,
            request_uid_prefix: "nhsi".to_owned(),
            max_response_bytes: 64 * 1024 * 1024,
            encode_options: EncodeOptions::default(),
            output_scheme: None,
            assume_record_read_at_start: true,
            pacing_margin: DEFAULT_PACING_MARGIN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_function_timeouts() {
        let timeouts = Timeouts::default();
        assert_eq!(
            timeouts.for_function("GetPatientRecord"),
            Duration::from_secs(60)
        );
        assert_eq!(
            timeouts.for_function("PatientSearch"),
            Duration::from_secs(20)
        );
        let custom =
            Timeouts::uniform(Duration::from_secs(3)).with("PatientSearch", Duration::from_secs(9));
        assert_eq!(custom.for_function("PatientSearch"), Duration::from_secs(9));
        assert_eq!(custom.for_function("GetFunctions"), Duration::from_secs(3));
    }
}
