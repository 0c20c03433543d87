//! The crate's error type.

use crate::registry::TokenRefusal;

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
