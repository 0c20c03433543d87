//! The seam between the dispatcher and `systmone-api`: preparing, encoding and decoding
//! messages, framing responses, and pacing with the api's throttle on tokio's clock.

use std::collections::BTreeMap;
use std::time::Duration;

use systmone_api::{
    ClientIntegrationRequest, ClientIntegrationResponse, DeviceId, EncodeOptions, FunctionName,
    OutputScheme, RemoteError, Request, RequestHeader, RequestUid, Response, Throttle,
    ThrottleClass, ThrottleConfig,
};
use tokio::time::Instant;

use crate::clock::TokioClock;

pub use systmone_api::ApiKey;

/// What the dispatcher needs to know about a queued request.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    pub(crate) function: String,
    pub(crate) name: FunctionName,
    pub(crate) writes: bool,
    pub(crate) class: ThrottleClass,
}

pub(crate) fn prepare(request: &Request, today: chrono::NaiveDate) -> Prepared {
    let metadata = request.metadata();
    Prepared {
        function: metadata.function.to_owned(),
        name: request.function(),
        writes: metadata.writes,
        class: request.throttle_class(today),
    }
}

pub(crate) fn writes(request: &Request) -> bool {
    request.metadata().writes
}

pub(crate) fn function_name(request: &Request) -> String {
    request.metadata().function.to_owned()
}

/// The cheap, harmless request used to probe a gateway's health.
pub(crate) fn health_probe() -> Request {
    Request::from(systmone_api::get_functions::v1::Request::new())
}

/// The envelope fields the dispatcher supplies.
pub(crate) struct Header<'a> {
    pub(crate) api_key: &'a ApiKey,
    pub(crate) device_id: Option<&'a str>,
    pub(crate) device_version: &'a str,
    pub(crate) request_uid: &'a str,
    pub(crate) output_scheme: Option<&'a OutputScheme>,
}

/// One line of XML plus `\n`.
pub(crate) fn encode(
    request: &Request,
    header: &Header<'_>,
    options: &EncodeOptions,
) -> Result<Vec<u8>, String> {
    let envelope = RequestHeader::new(
        header.api_key.clone(),
        header
            .device_id
            .map_or_else(DeviceId::unallocated, DeviceId::new),
        header.device_version,
        RequestUid::new(header.request_uid),
    );
    let mut document = ClientIntegrationRequest::new(envelope, request.clone());
    if let Some(scheme) = header.output_scheme {
        document = document.with_output_scheme(scheme.clone());
    }
    document.encode(options).map_err(|error| error.to_string())
}

/// A decoded response, reduced to what the dispatcher checks.
pub(crate) struct Decoded {
    pub(crate) request_uid: String,
    pub(crate) function: FunctionName,
    pub(crate) device_id: Option<String>,
    pub(crate) result: Result<Response, RemoteError>,
}

pub(crate) fn decode(bytes: &[u8]) -> Result<Decoded, String> {
    let response = ClientIntegrationResponse::decode(bytes).map_err(|error| error.to_string())?;
    let device_id = (!response.header.device_id.is_unallocated())
        .then(|| response.header.device_id.as_str().trim().to_owned());
    Ok(Decoded {
        request_uid: response.header.request_uid.as_str().trim().to_owned(),
        function: response.header.function,
        device_id,
        result: response.outcome,
    })
}

/// Incremental response framing over the api's [`systmone_api::Framer`].
pub(crate) struct Framer {
    inner: systmone_api::Framer,
}

impl Framer {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            inner: systmone_api::Framer::new(max),
        }
    }

    /// Feeds bytes; returns the first complete message, if any.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<Option<Vec<u8>>, String> {
        self.inner.push(bytes);
        self.inner.next_message().map_err(|error| error.to_string())
    }

    /// Whether bytes beyond the yielded message are buffered (nothing should follow an answer).
    pub(crate) fn has_leftover(&self) -> bool {
        self.inner.buffered_len() > 0
    }
}

/// The api's throttle on tokio's clock, plus the dispatcher's own note of when each
/// function-limited class may next go.
///
/// The throttle checks the whole-client limit before a function's limit and does not give
/// the first slot back when the second refuses. So that a record read waiting out its 30 s
/// does not burn the slots of ordinary requests, the pacer remembers when each function limit
/// next opens and does not ask the throttle for such a request before then.
pub(crate) struct Pacer {
    throttle: Throttle<TokioClock>,
    client_interval: Duration,
    function_intervals: BTreeMap<FunctionName, Duration>,
    not_before: BTreeMap<FunctionName, Instant>,
    /// No send before this (the client's start counted as a send).
    client_not_before: Option<Instant>,
    /// Added to every non-zero interval between two sends (not to the start hold).
    margin: Duration,
}

impl Pacer {
    pub(crate) fn new(config: &ThrottleConfig) -> Self {
        Self {
            throttle: Throttle::new(config, TokioClock::new()),
            client_interval: config.client_interval,
            function_intervals: config
                .function_intervals
                .iter()
                .filter(|(_, interval)| !interval.is_zero())
                .map(|(f, i)| (f.clone(), *i))
                .collect(),
            not_before: BTreeMap::new(),
            client_not_before: None,
            margin: Duration::ZERO,
        }
    }

    /// A pacer that keeps `margin` more than each non-zero limit between two sends, so the
    /// gaps SystmOne measures between arrivals stay above its limits when the network or the
    /// scheduler delays one request more than the one before it.
    pub(crate) fn with_margin(config: &ThrottleConfig, margin: Duration) -> Self {
        let pad = |interval: Duration| {
            if interval.is_zero() {
                interval
            } else {
                interval.saturating_add(margin)
            }
        };
        let mut padded = config
            .clone()
            .with_client_interval(pad(config.client_interval));
        for (function, interval) in &config.function_intervals {
            padded = padded.with_function_interval(function.clone(), pad(*interval));
        }
        Self {
            margin,
            ..Self::new(&padded)
        }
    }

    /// Counts `start` as a send: another process may have sent to this SystmOne client just
    /// before (a restart), so nothing goes before the client interval has passed, and with
    /// `function_limits` no function-limited request (a whole-record read) before its own
    /// interval has passed.
    pub(crate) fn count_start_as_send(&mut self, start: Instant, function_limits: bool) {
        // The start hold uses the limits themselves: the previous process sent before `start`.
        if !self.client_interval.is_zero() {
            self.client_not_before = Some(start + self.client_interval.saturating_sub(self.margin));
        }
        if function_limits {
            for (function, interval) in &self.function_intervals {
                self.not_before.insert(
                    function.clone(),
                    start + interval.saturating_sub(self.margin),
                );
            }
        }
    }

    /// The whole-client interval.
    pub(crate) fn client_interval(&self) -> Duration {
        self.client_interval
    }

    /// How long a request of `class` must still wait because of its function's limit
    /// (without asking the throttle).
    pub(crate) fn function_wait(&self, class: &ThrottleClass, now: Instant) -> Option<Duration> {
        let ThrottleClass::Function(function) = class else {
            return None;
        };
        let not_before = *self.not_before.get(function)?;
        (not_before > now).then(|| not_before - now)
    }

    /// Asks the throttle; on success the caller must send at once.
    pub(crate) fn try_acquire(
        &mut self,
        class: &ThrottleClass,
        now: Instant,
    ) -> Result<(), Duration> {
        if let Some(not_before) = self.client_not_before {
            if not_before > now {
                return Err(not_before - now);
            }
            self.client_not_before = None;
        }
        match self.throttle.try_acquire(class) {
            Ok(()) => {
                if let ThrottleClass::Function(function) = class
                    && let Some(interval) = self.function_intervals.get(function)
                {
                    self.not_before.insert(function.clone(), now + *interval);
                }
                Ok(())
            }
            Err(wait) => {
                if let ThrottleClass::Function(function) = class
                    && self.function_intervals.contains_key(function)
                    && wait > self.client_interval
                {
                    self.not_before.insert(function.clone(), now + wait);
                }
                Err(wait)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pacer_keeps_ordinary_requests_flowing_while_a_record_read_waits() {
        let mut pacer = Pacer::new(&ThrottleConfig::default());
        let full = ThrottleClass::Function(FunctionName::GetPatientRecord);
        let other = ThrottleClass::Function(FunctionName::PatientSearch);
        let start = Instant::now();
        assert_eq!(pacer.try_acquire(&full, start), Ok(()));
        assert_eq!(
            pacer.function_wait(&full, start),
            Some(Duration::from_secs(30))
        );
        assert_eq!(pacer.function_wait(&other, start), None);
        assert_eq!(
            pacer.try_acquire(&other, start),
            Err(Duration::from_secs(1))
        );
        for second in 1..30 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = Instant::now();
            assert!(pacer.function_wait(&full, now).is_some());
            assert_eq!(
                pacer.try_acquire(&other, now),
                Ok(()),
                "ordinary request at {second} s"
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = Instant::now();
        assert_eq!(pacer.function_wait(&full, now), None);
        assert_eq!(pacer.try_acquire(&full, now), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn start_counts_as_a_send() {
        let full = ThrottleClass::Function(FunctionName::GetPatientRecord);
        let other = ThrottleClass::ClientOnly;
        let mut pacer = Pacer::new(&ThrottleConfig::default());
        let start = Instant::now();
        pacer.count_start_as_send(start, true);
        assert_eq!(
            pacer.try_acquire(&other, start),
            Err(Duration::from_secs(1))
        );
        assert_eq!(
            pacer.function_wait(&full, start),
            Some(Duration::from_secs(30))
        );
        tokio::time::sleep(Duration::from_millis(999)).await;
        assert_eq!(
            pacer.try_acquire(&other, Instant::now()),
            Err(Duration::from_millis(1))
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(pacer.try_acquire(&other, Instant::now()), Ok(()));
        tokio::time::sleep(Duration::from_secs(29)).await;
        assert_eq!(pacer.function_wait(&full, Instant::now()), None);
        assert_eq!(pacer.try_acquire(&full, Instant::now()), Ok(()));

        // Without the function hold, a whole-record read may be the first request (after 1 s).
        let mut pacer = Pacer::new(&ThrottleConfig::default());
        let start = Instant::now();
        pacer.count_start_as_send(start, false);
        assert_eq!(pacer.function_wait(&full, start), None);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(pacer.try_acquire(&full, Instant::now()), Ok(()));

        // A disabled client limit holds nothing.
        let mut pacer = Pacer::new(&ThrottleConfig::default().with_client_interval(Duration::ZERO));
        pacer.count_start_as_send(Instant::now(), false);
        assert_eq!(pacer.try_acquire(&other, Instant::now()), Ok(()));
    }

    #[test]
    fn prepare_reads_the_metadata() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 3).unwrap_or_default();
        let prepared = prepare(&health_probe(), today);
        assert_eq!(prepared.function, "GetFunctions");
        assert!(!prepared.writes);
        assert!(!writes(&health_probe()));
        assert_eq!(function_name(&health_probe()), "GetFunctions");
    }
}
