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

/// The default number of most recent requests a gateway keeps in its log
/// ([`crate::GatewayConfig::request_log_capacity`]).
pub const DEFAULT_REQUEST_LOG_CAPACITY: usize = 10_000;

/// Counts over every request a gateway received since it started (or since
/// [`crate::Simulator::clear_request_log`]), kept however many records the bounded log still
/// holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestCounts {
    /// Requests received (complete documents, decodable or not).
    pub received: u64,
    /// Requests whose document did not decode (answered with a permanent error).
    pub undecodable: u64,
    /// Answered normally.
    pub answered: u64,
    /// Answered with an `ErrorMessage` (undecodable ones included).
    pub answered_with_error: u64,
    /// Dropped by the throttle.
    pub throttled: u64,
    /// Dropped by a [`Fault::NoResponse`].
    pub no_response: u64,
    /// Closed without a response (including requests still being handled).
    pub connection_closed: u64,
    /// Answered with a malformed document.
    pub malformed_response: u64,
}

impl RequestCounts {
    fn slot(&mut self, outcome: &RequestOutcome) -> &mut u64 {
        match outcome {
            RequestOutcome::Answered => &mut self.answered,
            RequestOutcome::AnsweredWithError { .. } => &mut self.answered_with_error,
            RequestOutcome::Throttled => &mut self.throttled,
            RequestOutcome::NoResponse => &mut self.no_response,
            RequestOutcome::ConnectionClosed => &mut self.connection_closed,
            RequestOutcome::MalformedResponse => &mut self.malformed_response,
        }
    }
}

/// A gateway's request log: the last `capacity` records in a ring plus counters over all of
/// them. Appending, and setting the outcome or fault of a record still held, are O(1); memory
/// is bounded by the capacity however long the simulator runs.
#[derive(Debug)]
pub(crate) struct RequestLog {
    records: std::collections::VecDeque<RequestRecord>,
    /// Sequence number of `records[0]`.
    first: u64,
    /// Sequence number the next record gets.
    next: u64,
    capacity: usize,
    counts: RequestCounts,
}

impl Default for RequestLog {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_REQUEST_LOG_CAPACITY)
    }
}

impl RequestLog {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            records: std::collections::VecDeque::with_capacity(capacity.min(1024)),
            first: 0,
            next: 0,
            capacity,
            counts: RequestCounts::default(),
        }
    }

    /// Appends a record (its `sequence` is assigned here) and returns its sequence number; the
    /// oldest record is dropped when the log is full.
    pub(crate) fn push(&mut self, mut record: RequestRecord, decoded: bool) -> u64 {
        let sequence = self.next;
        self.next += 1;
        record.sequence = sequence;
        self.counts.received += 1;
        if !decoded {
            self.counts.undecodable += 1;
        }
        *self.counts.slot(&record.outcome) += 1;
        if self.capacity == 0 {
            self.first = self.next;
            return sequence;
        }
        if self.records.len() == self.capacity {
            self.records.pop_front();
            self.first += 1;
        }
        if self.records.is_empty() {
            self.first = sequence;
        }
        self.records.push_back(record);
        sequence
    }

    fn get_mut(&mut self, sequence: u64) -> Option<&mut RequestRecord> {
        let index = usize::try_from(sequence.checked_sub(self.first)?).ok()?;
        self.records.get_mut(index)
    }

    /// Sets the outcome of a request. `previous` is what the pipeline set before (the
    /// counters move from it to `outcome` even when the record itself was already dropped).
    pub(crate) fn set_outcome(
        &mut self,
        sequence: u64,
        previous: &RequestOutcome,
        outcome: RequestOutcome,
    ) {
        let from = self.counts.slot(previous);
        *from = from.saturating_sub(1);
        *self.counts.slot(&outcome) += 1;
        if let Some(record) = self.get_mut(sequence) {
            record.outcome = outcome;
        }
    }

    /// Records the fault applied to a request.
    pub(crate) fn set_fault(&mut self, sequence: u64, fault: Fault) {
        if let Some(record) = self.get_mut(sequence) {
            record.fault = Some(fault);
        }
    }

    /// The records held, oldest first.
    pub(crate) fn records(&self) -> Vec<RequestRecord> {
        self.records.iter().cloned().collect()
    }

    /// Number of records held (at most the capacity).
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    pub(crate) fn counts(&self) -> RequestCounts {
        self.counts
    }

    /// Drops the records and zeroes the counters; sequence numbers keep counting up.
    pub(crate) fn clear(&mut self) {
        self.records.clear();
        self.first = self.next;
        self.counts = RequestCounts::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> RequestRecord {
        RequestRecord {
            sequence: 0,
            arrival: Instant::now(),
            connection: 1,
            function: None,
            request_uid: None,
            device_id: None,
            outcome: RequestOutcome::ConnectionClosed,
            fault: None,
        }
    }

    #[tokio::test]
    async fn the_ring_keeps_the_last_records_and_counts_all() {
        let mut log = RequestLog::with_capacity(3);
        for i in 0..10u64 {
            let sequence = log.push(record(), i % 2 == 0);
            assert_eq!(sequence, i);
            let outcome = if i % 3 == 0 {
                RequestOutcome::Throttled
            } else {
                RequestOutcome::Answered
            };
            log.set_outcome(sequence, &RequestOutcome::ConnectionClosed, outcome);
        }
        // An outcome for a record already dropped still moves the counters.
        let dropped = log.push(record(), true);
        log.push(record(), true);
        log.push(record(), true);
        log.push(record(), true);
        log.set_outcome(
            dropped,
            &RequestOutcome::ConnectionClosed,
            RequestOutcome::NoResponse,
        );
        let records = log.records();
        assert_eq!(records.len(), 3);
        assert_eq!(
            records.iter().map(|r| r.sequence).collect::<Vec<_>>(),
            [11, 12, 13]
        );
        let counts = log.counts();
        assert_eq!(counts.received, 14);
        assert_eq!(counts.undecodable, 5);
        assert_eq!((counts.throttled, counts.answered), (4, 6));
        assert_eq!((counts.no_response, counts.connection_closed), (1, 3));
        log.clear();
        assert_eq!((log.len(), log.counts().received), (0, 0));
        assert_eq!(log.push(record(), true), 14);
        assert_eq!(log.records()[0].sequence, 14);
    }

    #[tokio::test]
    async fn a_zero_capacity_log_only_counts() {
        let mut log = RequestLog::with_capacity(0);
        let sequence = log.push(record(), true);
        log.set_outcome(
            sequence,
            &RequestOutcome::ConnectionClosed,
            RequestOutcome::Answered,
        );
        log.set_fault(sequence, Fault::NoResponse);
        assert_eq!(log.len(), 0);
        assert_eq!(log.counts().answered, 1);
    }
}
