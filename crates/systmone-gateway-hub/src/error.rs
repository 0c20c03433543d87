//! The crate's error types: [`HubError`] and the [`TokenRefusal`] it carries (here, not in
//! `registry`, so the registry and this module do not import each other).

use std::fmt;

/// What went wrong on the hub side. [`HubError::retryable`] says whether trying again later may
/// help.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// The registry's storage failed.
    #[error("device registry storage failed: {0}")]
    Storage(String),
    /// An enrolment token was refused.
    #[error("{0}")]
    Token(TokenRefusal),
    /// Unknown device or wrong credential (the two are not told apart).
    #[error("unknown device or wrong credential")]
    BadCredential,
    /// The device was revoked.
    #[error("the device was revoked")]
    Revoked,
    /// A device id that is not 1-64 letters, digits, `-` or `_`.
    #[error("invalid device id")]
    InvalidDeviceId,
    /// No device with that id.
    #[error("no such device")]
    UnknownDevice,
    /// An enrolment asked for a device id (its client certificate's name) that an enrolled
    /// device already has: issue the PC a certificate with a new name. The token stays unused.
    #[error("a device with this id is already enrolled")]
    DeviceIdTaken,
    /// TLS could not be set up.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// A socket operation failed.
    #[error("{what} failed: {source}")]
    Io {
        /// What the hub was doing.
        what: &'static str,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// A device's SystmOne client dispatcher could not be started.
    #[error("cannot start the device's client: {0}")]
    Client(#[from] systmone_client::ClientError),
}

impl HubError {
    /// Whether the same call may succeed later.
    #[must_use]
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Storage(_) | Self::Io { .. })
    }
}

impl From<rusqlite::Error> for HubError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Storage(error.to_string())
    }
}

/// Why an enrolment token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenRefusal {
    /// No such token.
    Unknown,
    /// Already used (a replay).
    Replayed,
    /// Past its expiry.
    Expired,
    /// Revoked by an operator.
    Revoked,
}

impl fmt::Display for TokenRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unknown => "unknown enrolment token",
            Self::Replayed => "enrolment token already used",
            Self::Expired => "enrolment token expired",
            Self::Revoked => "enrolment token revoked",
        })
    }
}
