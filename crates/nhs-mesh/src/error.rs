//! The one error type of this crate, and what a caller may safely do about each failure.

/// What a caller may safely do after a failed call ([`MeshError::retry`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Retry {
    /// Nothing was changed on the server (or the call was a read): calling again is safe.
    Safe,
    /// MESH is busy or briefly unavailable (425, 429, 502, 503, 504): call again after a delay.
    Later,
    /// A send may or may not have been accepted: find out first (track by local id, as
    /// [`crate::outbox::Outbox`] does) and send again only if it is not there.
    CheckFirst,
    /// The same call cannot succeed (bad input, refused by MESH, configuration).
    Never,
}

/// Every failure of this crate. Text never carries a message body, a password or an NHS
/// number (server descriptions are passed through [`nhs_identifiers::scan::redact`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MeshError {
    /// The client configuration is unusable (URL, certificate, key, CA bundle, proxy).
    #[error("configuration: {0}")]
    Config(String),
    /// A header value we were asked to send is invalid (too long, control characters,
    /// an NHS number in `mex-LocalID`, `mex-Subject` or `mex-FileName`).
    #[error("invalid {field}: {reason}")]
    InvalidField {
        /// The MESH header (`mex-LocalID`, ...).
        field: &'static str,
        /// Why (never the value).
        reason: &'static str,
    },
    /// MESH answered with a status we did not expect.
    #[error("{operation}: MESH answered HTTP {status}{}", describe(code.as_deref(), description.as_deref()))]
    Http {
        /// What we were doing (`send`, `download`, ...).
        operation: &'static str,
        /// The HTTP status code.
        status: u16,
        /// MESH error code (`12`, `06`, ...) when the body had one.
        code: Option<String>,
        /// MESH's description (NHS numbers masked).
        description: Option<String>,
        /// Whether this answer leaves the outcome of a send unknown (a 5xx to a send).
        ambiguous: bool,
        /// How long MESH asked us to wait (`Retry-After`, in seconds or as an HTTP date),
        /// when it said. The client's own retries wait at least this long, and stop at once
        /// when it is longer than [`crate::RetryPolicy::max`] (schedule the call instead).
        retry_after: Option<std::time::Duration>,
    },
    /// The request could not be completed: connection refused or reset, TLS, time-out.
    #[error("{operation}: transport failure ({detail}){}", if *maybe_sent { "; the request may have reached MESH" } else { "" })]
    Transport {
        /// What we were doing.
        operation: &'static str,
        /// Short description of the failure (from the HTTP stack, no content).
        detail: String,
        /// Whether the request may have reached MESH (false only when no connection was made).
        maybe_sent: bool,
        /// Whether the operation changes state on the server (a send, an acknowledgement).
        changes_state: bool,
    },
    /// The response could not be understood (bad JSON, missing header, bad chunk range,
    /// corrupt gzip).
    #[error("{operation}: malformed response: {detail}")]
    Malformed {
        /// What we were doing.
        operation: &'static str,
        /// What was wrong (never the content).
        detail: String,
    },
    /// A download would exceed the configured size cap once decompressed.
    #[error("{operation}: more than {limit} bytes once decompressed")]
    TooLarge {
        /// What we were doing.
        operation: &'static str,
        /// The configured cap in bytes.
        limit: u64,
    },
    /// Tracking by local id found more than one message (HTTP 300): a duplicate was already
    /// sent. Raise an alert; never send again automatically.
    #[error("more than one message carries this mex-LocalID: a duplicate exists")]
    DuplicateLocalId,
    /// The outbox entry failed permanently earlier (the reason recorded then).
    #[error("the outbox entry failed earlier: {0}")]
    Failed(String),
    /// A durable store (outbox, inbox) failed.
    #[error("store: {0}")]
    Store(String),
    /// An ITK3 payload could not be built or read.
    #[error("ITK3: {0}")]
    Itk(String),
    /// The blocking adapter could not start its runtime.
    #[error("cannot start the blocking adapter's runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

fn describe(code: Option<&str>, description: Option<&str>) -> String {
    match (code, description) {
        (Some(c), Some(d)) => format!(" (code {c}: {d})"),
        (Some(c), None) => format!(" (code {c})"),
        (None, Some(d)) => format!(" ({d})"),
        (None, None) => String::new(),
    }
}

/// The statuses mesh-client retries other calls on.
pub const RETRYABLE_STATUSES: [u16; 5] = [425, 429, 502, 503, 504];

impl MeshError {
    /// What a caller may safely do next.
    pub fn retry(&self) -> Retry {
        match self {
            Self::Http {
                status, ambiguous, ..
            } => {
                if *ambiguous {
                    Retry::CheckFirst
                } else if RETRYABLE_STATUSES.contains(status) || *status >= 500 {
                    Retry::Later
                } else {
                    Retry::Never
                }
            }
            Self::Transport {
                maybe_sent,
                changes_state,
                ..
            } => {
                if *maybe_sent && *changes_state {
                    Retry::CheckFirst
                } else {
                    Retry::Safe
                }
            }
            Self::Malformed { .. } | Self::Store(_) => Retry::Later,
            Self::Config(_)
            | Self::InvalidField { .. }
            | Self::TooLarge { .. }
            | Self::DuplicateLocalId
            | Self::Failed(_)
            | Self::Itk(_)
            | Self::Runtime(_) => Retry::Never,
        }
    }

    /// The HTTP status, when MESH answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub(crate) fn store(e: impl std::fmt::Display) -> Self {
        Self::Store(nhs_identifiers::scan::redact(&e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, ambiguous: bool) -> MeshError {
        MeshError::Http {
            operation: "x",
            status,
            code: None,
            description: None,
            ambiguous,
            retry_after: None,
        }
    }

    #[test]
    fn retry_classes() {
        assert_eq!(http(429, false).retry(), Retry::Later);
        assert_eq!(http(503, false).retry(), Retry::Later);
        assert_eq!(http(503, true).retry(), Retry::CheckFirst);
        assert_eq!(http(417, false).retry(), Retry::Never);
        let t = |maybe_sent, changes_state| MeshError::Transport {
            operation: "x",
            detail: String::new(),
            maybe_sent,
            changes_state,
        };
        assert_eq!(t(true, true).retry(), Retry::CheckFirst);
        assert_eq!(t(false, true).retry(), Retry::Safe);
        assert_eq!(t(true, false).retry(), Retry::Safe);
        assert_eq!(MeshError::DuplicateLocalId.retry(), Retry::Never);
    }
}
