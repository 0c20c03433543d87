//! The one error type of this crate, and what a caller may do about each failure.

use std::io;
use std::time::Duration;

use crate::gateway::GatewayId;

/// What a caller may safely do after a failed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Retry {
    /// Nothing was applied (the request never reached SystmOne, or it was a read): sending
    /// it again, here or on another gateway, is safe.
    Safe,
    /// SystmOne said the failure is temporary (e.g. the record is in use), or no gateway is
    /// available right now: retry after a delay.
    Later,
    /// A write was sent and its outcome is unknown: it may have been applied. Find out
    /// (e.g. read today's entries) before sending it again; never retry blindly.
    CheckFirst,
    /// Retrying the same request cannot succeed.
    Never,
}

/// Why a request that was sent got no usable answer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureCause {
    /// No complete response arrived within the function's timeout (SystmOne drops throttled
    /// requests silently, and rarely a request is lost).
    NoResponse {
        /// How long the client waited.
        waited: Duration,
    },
    /// The connection closed or failed after (or while) the request was written.
    ConnectionLost {
        /// The IO error kind (`UnexpectedEof` when the peer closed the connection).
        kind: io::ErrorKind,
    },
    /// Bytes arrived but did not form a valid response for this request.
    Malformed {
        /// What was wrong (never contains message content).
        detail: String,
    },
}

impl std::fmt::Display for FailureCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoResponse { waited } => write!(f, "no response within {waited:?}"),
            Self::ConnectionLost { kind } => write!(f, "connection lost ({kind})"),
            Self::Malformed { detail } => write!(f, "malformed response: {detail}"),
        }
    }
}

/// Every failure of a SystmOne call, grouped by what the caller can do about it
/// ([`ClientError::retry`]).
///
/// The outcome rules:
/// * [`Remote`](Self::Remote): SystmOne answered with an `ErrorMessage`; `permanent` is its
///   `PermanentError` flag (`false` is e.g. "record in use": retry later).
/// * [`Connect`](Self::Connect), [`WriteFailed`](Self::WriteFailed),
///   [`GatewayUnavailable`](Self::GatewayUnavailable),
///   [`ShutDown`](Self::ShutDown), [`DeviceIdStore`](Self::DeviceIdStore),
///   [`NoGateway`](Self::NoGateway): the request was **never sent**; retrying is safe,
///   writes included.
/// * [`ReadFailed`](Self::ReadFailed): a read was sent but got no usable answer; reads change
///   nothing, so retrying is safe.
/// * [`OutcomeUnknown`](Self::OutcomeUnknown): a **write** was sent and got no usable answer
///   (no response, connection lost, malformed response). It may or may not have been applied.
///   The client never retries it; the caller must check before sending it again.
/// * [`Encode`](Self::Encode), [`UnknownGateway`](Self::UnknownGateway): a caller bug;
///   retrying cannot help.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// SystmOne answered with an error (`ErrorMessage`).
    #[error("SystmOne refused {function} on gateway {gateway} ({}): {message}", if *permanent { "permanent" } else { "temporary" })]
    Remote {
        /// Gateway that answered.
        gateway: GatewayId,
        /// Wire function name.
        function: String,
        /// SystmOne's `ErrorMessage` text.
        message: String,
        /// SystmOne's `PermanentError` flag.
        permanent: bool,
    },
    /// The connection to the SystmOne client could not be opened (not sent).
    #[error("{function} was not sent: cannot connect to gateway {gateway}: {source}")]
    Connect {
        /// Gateway that could not be reached.
        gateway: GatewayId,
        /// Wire function name.
        function: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The connection failed while the request was being written, before the end of its root
    /// element was handed over, so SystmOne never saw a whole request (not sent). (A failure
    /// with only the terminating newline left to write counts as sent: SystmOne may recognise
    /// a document by its closed root element, so that is [`ReadFailed`](Self::ReadFailed) or
    /// [`OutcomeUnknown`](Self::OutcomeUnknown).)
    #[error(
        "{function} was not sent: the connection to gateway {gateway} failed while writing it: {source}"
    )]
    WriteFailed {
        /// Gateway whose connection failed.
        gateway: GatewayId,
        /// Wire function name.
        function: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The gateway failed recently and is backing off before reconnecting (not sent).
    #[error(
        "{function} was not sent: gateway {gateway} is unavailable for another {retry_after:?}"
    )]
    GatewayUnavailable {
        /// Gateway that is backing off.
        gateway: GatewayId,
        /// Wire function name.
        function: String,
        /// When the gateway will try to connect again.
        retry_after: Duration,
    },
    /// The client has shut down or its queue is gone (not sent).
    #[error("{function} was not sent: the client for gateway {gateway} has shut down")]
    ShutDown {
        /// Gateway whose client stopped.
        gateway: GatewayId,
        /// Wire function name.
        function: String,
    },
    /// The stored device id could not be loaded when the client started (nothing was sent).
    /// (A failure to *save* a newly allocated id never fails a call: it is logged, the id is
    /// kept in memory and saving is retried.)
    #[error("device id store of gateway {gateway} failed: {source}")]
    DeviceIdStore {
        /// Gateway whose store failed.
        gateway: GatewayId,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A read was sent but got no usable answer; retrying is safe.
    #[error("{function} (request {request_uid}) on gateway {gateway} failed: {cause}")]
    ReadFailed {
        /// Gateway it was sent to.
        gateway: GatewayId,
        /// Wire function name.
        function: String,
        /// The request's `RequestUID`.
        request_uid: String,
        /// What happened.
        cause: FailureCause,
    },
    /// A write was sent but got no usable answer: it may or may not have been applied.
    #[error(
        "outcome unknown: {function} (request {request_uid}) was sent to gateway {gateway} but {cause}; check before sending it again"
    )]
    OutcomeUnknown {
        /// Gateway it was sent to.
        gateway: GatewayId,
        /// Wire function name.
        function: String,
        /// The request's `RequestUID`.
        request_uid: String,
        /// What happened.
        cause: FailureCause,
    },
    /// The request could not be encoded (not sent; a caller bug).
    #[error("{function} could not be encoded: {detail}")]
    Encode {
        /// Wire function name.
        function: String,
        /// The codec's explanation.
        detail: String,
    },
    /// The pool has no gateway that could take the request (not sent).
    #[error("no gateway could take {function}: {reason}")]
    NoGateway {
        /// Wire function name.
        function: String,
        /// Why (e.g. all gateways down; includes the last gateway error).
        reason: String,
    },
    /// The pool has no gateway with this id.
    #[error("the pool has no gateway {gateway}")]
    UnknownGateway {
        /// The id asked for.
        gateway: GatewayId,
    },
    /// A blocking adapter could not start its tokio runtime (nothing was sent).
    #[error("cannot start the blocking adapter's runtime: {source}")]
    Runtime {
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl ClientError {
    /// What the caller may safely do next.
    #[must_use]
    pub fn retry(&self) -> Retry {
        match self {
            Self::Remote {
                permanent: true, ..
            } => Retry::Never,
            Self::Remote {
                permanent: false, ..
            } => Retry::Later,
            Self::Connect { .. }
            | Self::WriteFailed { .. }
            | Self::ShutDown { .. }
            | Self::ReadFailed { .. } => Retry::Safe,
            Self::GatewayUnavailable { .. }
            | Self::DeviceIdStore { .. }
            | Self::NoGateway { .. }
            | Self::Runtime { .. } => Retry::Later,
            Self::OutcomeUnknown { .. } => Retry::CheckFirst,
            Self::Encode { .. } | Self::UnknownGateway { .. } => Retry::Never,
        }
    }

    /// `true` when the request certainly never reached SystmOne.
    #[must_use]
    pub fn never_sent(&self) -> bool {
        matches!(
            self,
            Self::Connect { .. }
                | Self::WriteFailed { .. }
                | Self::GatewayUnavailable { .. }
                | Self::ShutDown { .. }
                | Self::DeviceIdStore { .. }
                | Self::Encode { .. }
                | Self::NoGateway { .. }
                | Self::UnknownGateway { .. }
                | Self::Runtime { .. }
        )
    }

    /// `true` for a write that was sent and may have been applied.
    #[must_use]
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Self::OutcomeUnknown { .. })
    }

    /// `true` when SystmOne said "temporary" (`PermanentError=false`, e.g. record in use).
    #[must_use]
    pub fn is_transient_remote(&self) -> bool {
        matches!(
            self,
            Self::Remote {
                permanent: false,
                ..
            }
        )
    }

    /// The gateway involved, when there is one.
    #[must_use]
    pub fn gateway(&self) -> Option<&GatewayId> {
        match self {
            Self::Remote { gateway, .. }
            | Self::Connect { gateway, .. }
            | Self::WriteFailed { gateway, .. }
            | Self::GatewayUnavailable { gateway, .. }
            | Self::ShutDown { gateway, .. }
            | Self::DeviceIdStore { gateway, .. }
            | Self::ReadFailed { gateway, .. }
            | Self::OutcomeUnknown { gateway, .. }
            | Self::UnknownGateway { gateway } => Some(gateway),
            Self::Encode { .. } | Self::NoGateway { .. } | Self::Runtime { .. } => None,
        }
    }

    /// `true` when the failure says the gateway itself is unwell (the pool then marks it
    /// unhealthy and prefers others).
    #[must_use]
    pub fn gateway_unwell(&self) -> bool {
        matches!(
            self,
            Self::Connect { .. }
                | Self::WriteFailed { .. }
                | Self::GatewayUnavailable { .. }
                | Self::ShutDown { .. }
                | Self::ReadFailed { .. }
                | Self::OutcomeUnknown { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gw() -> GatewayId {
        GatewayId::new("gw-1")
    }

    #[test]
    fn retry_advice_per_variant() {
        let remote = |permanent| ClientError::Remote {
            gateway: gw(),
            function: "UpdatePatientRecord".into(),
            message: "Record in use".into(),
            permanent,
        };
        assert_eq!(remote(true).retry(), Retry::Never);
        assert_eq!(remote(false).retry(), Retry::Later);
        assert!(remote(false).is_transient_remote());
        let unknown = ClientError::OutcomeUnknown {
            gateway: gw(),
            function: "UpdatePatientRecord".into(),
            request_uid: "7".into(),
            cause: FailureCause::NoResponse {
                waited: Duration::from_secs(20),
            },
        };
        assert_eq!(unknown.retry(), Retry::CheckFirst);
        assert!(unknown.is_outcome_unknown() && !unknown.never_sent());
        let connect = ClientError::Connect {
            gateway: gw(),
            function: "UpdatePatientRecord".into(),
            source: io::ErrorKind::ConnectionRefused.into(),
        };
        assert_eq!(connect.retry(), Retry::Safe);
        assert!(connect.never_sent() && connect.gateway_unwell());
        let read = ClientError::ReadFailed {
            gateway: gw(),
            function: "GetPatientRecord".into(),
            request_uid: "8".into(),
            cause: FailureCause::ConnectionLost {
                kind: io::ErrorKind::UnexpectedEof,
            },
        };
        assert_eq!(read.retry(), Retry::Safe);
        assert!(!read.never_sent());
        assert_eq!(
            ClientError::UnknownGateway { gateway: gw() }.retry(),
            Retry::Never
        );
    }

    #[test]
    fn messages_say_what_happened() {
        let unknown = ClientError::OutcomeUnknown {
            gateway: gw(),
            function: "UpdatePatientRecord".into(),
            request_uid: "7".into(),
            cause: FailureCause::ConnectionLost {
                kind: io::ErrorKind::UnexpectedEof,
            },
        };
        let text = unknown.to_string();
        assert!(
            text.starts_with(
                "outcome unknown: UpdatePatientRecord (request 7) was sent to gateway gw-1"
            ),
            "{text}"
        );
    }
}
