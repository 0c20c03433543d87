//! The crate's error types: [`Error`] for the agent, [`FrameError`] for the relay framing
//! (here, not in `relay`, so `relay` and `control` can both use it without importing each other).

use std::path::PathBuf;

/// What went wrong in the agent. [`Error::retryable`] says whether reconnecting may help.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The hub could not be reached or the connection failed.
    #[error("connection to the hub failed while {what}: {source}")]
    Io {
        /// What the agent was doing.
        what: &'static str,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// TLS could not be set up (bad certificate file, bad server name).
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// The hub sent bytes that are not valid relay framing: the connection was closed.
    #[error("invalid relay framing from the hub: {0}")]
    Frame(#[from] FrameError),
    /// The hub sent something out of order.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The hub refused the enrolment or the session.
    #[error("refused by the hub: {reason}")]
    Refused {
        /// The hub's reason.
        reason: String,
    },
    /// This device's enrolment was revoked: the agent stops and needs a new enrolment.
    #[error("this device's enrolment was revoked")]
    Revoked,
    /// The credential file could not be read or written.
    #[error("device credential file {path}: {problem}")]
    Credential {
        /// The file.
        path: PathBuf,
        /// What went wrong (never the credential).
        problem: String,
    },
    /// The hub stopped answering pings.
    #[error("the hub stopped answering")]
    HubSilent,
}

impl Error {
    /// Whether reconnecting later may succeed (network trouble, a silent hub, a refused
    /// session that may be retried once SystmOne reports the right organisation). Revocation,
    /// TLS configuration and credential-file problems need a person.
    #[must_use]
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            Self::Io { .. }
                | Self::Frame(_)
                | Self::Protocol(_)
                | Self::HubSilent
                | Self::Refused { .. }
        )
    }
}

/// Why a byte stream is not valid relay framing. The connection must be closed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A frame declared a payload larger than allowed.
    #[error(
        "frame of type {frame_type} declares {declared} payload bytes, over the limit of {limit}"
    )]
    TooLarge {
        /// The frame type byte.
        frame_type: u8,
        /// The declared payload length.
        declared: u64,
        /// The limit in force.
        limit: usize,
    },
    /// An unknown frame type byte.
    #[error("unknown frame type {0}")]
    UnknownType(u8),
    /// A fixed-size frame with the wrong payload length.
    #[error("frame of type {frame_type} has {actual} payload bytes, expected {expected}")]
    BadLength {
        /// The frame type byte.
        frame_type: u8,
        /// What the type requires.
        expected: usize,
        /// What arrived.
        actual: usize,
    },
    /// A control payload that is not a valid control message (the text names the problem,
    /// never the value).
    #[error("control message is malformed: {0}")]
    BadControl(String),
}
