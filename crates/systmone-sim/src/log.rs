//! The log of every request a gateway received, with its arrival time, so tests can prove a
//! client never exceeded the throttle.

use std::time::Duration;

use tokio::time::Instant;

use crate::faults::Fault;

/// What became of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestOutcome {
    /// A normal response was sent.
    Answered,
    /// An error response was sent (`ErrorMessage`), with its `PermanentError` flag.
    AnsweredWithError {
        /// The error text.
        message: String,
        /// `PermanentError`.
        permanent: bool,
    },
    /// Dropped by the throttle: no response, connection left open.
    Throttled,
    /// Dropped by a [`Fault::NoResponse`].
    NoResponse,
    /// The connection was closed without a response (a close fault, or the gateway was
    /// killed while the request was being handled).
    ConnectionClosed,
    /// A malformed document was sent instead of a response.
    MalformedResponse,
}

impl RequestOutcome {
    /// Whether the caller got a well-formed response (success or error).
    pub fn answered(&self) -> bool {
        matches!(self, Self::Answered | Self::AnsweredWithError { .. })
    }
}

/// One received request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestRecord {
    /// 0-based position in this gateway's log.
    pub sequence: u64,
    /// When the complete request document arrived (tokio time: virtual under paused time).
    pub arrival: Instant,
    /// Which connection it came on (counts up from 1 per gateway).
    pub connection: u64,
    /// The wire function name, or `None` when the document did not decode.
    pub function: Option<String>,
    /// The request's `RequestUID`, if it decoded.
    pub request_uid: Option<String>,
    /// The request's `DeviceID` (empty on first contact), if it decoded.
    pub device_id: Option<String>,
    /// What became of it.
    pub outcome: RequestOutcome,
    /// The fault applied, if any.
    pub fault: Option<Fault>,
}

impl RequestRecord {
    /// Whether the caller got a well-formed response.
    pub fn answered(&self) -> bool {
        self.outcome.answered()
    }
}

/// The shortest gap between the arrivals of consecutive requests in `records` (for `function`
/// only, if given), or `None` with fewer than two.
pub fn shortest_gap(records: &[RequestRecord], function: Option<&str>) -> Option<Duration> {
    let arrivals: Vec<Instant> = records
        .iter()
        .filter(|r| function.is_none_or(|f| r.function.as_deref() == Some(f)))
        .map(|r| r.arrival)
        .collect();
    arrivals
        .windows(2)
        .map(|w| w[1].saturating_duration_since(w[0]))
        .min()
}
