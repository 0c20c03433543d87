//! The crate's one error type.

use std::net::SocketAddr;

/// What went wrong setting up or driving the simulator.
///
/// Errors *inside* the simulated protocol (a bad request, a blocked device) are not Rust errors:
/// they are answered on the wire with an `ErrorMessage`, as SystmOne does.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A fixture could not be read from disk.
    #[error("cannot read fixture file {path}: {source}")]
    FixtureIo {
        /// The file.
        path: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// A fixture is not valid JSON for the organisation model (line and column say where).
    #[error("fixture is not a valid organisation at line {line}, column {column}: {message}")]
    FixtureSyntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde found wrong.
        message: String,
    },
    /// A fixture parsed but breaks a rule of the model (e.g. a duplicate user name, an NHS
    /// number outside the 999 test range). The text never holds a full NHS number.
    #[error("fixture is inconsistent: {0}")]
    FixtureInvalid(String),
    /// The gateway configuration names a logged-in user the organisation does not have.
    #[error("gateway user {0:?} is not a user of the organisation")]
    UnknownGatewayUser(String),
    /// The organisation has no user marked `gateway` and the configuration names none.
    #[error("no gateway user: mark a user `gateway: true` or name one in GatewayConfig")]
    NoGatewayUser,
    /// Binding the TCP listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The simulator is not listening on TCP (no address yet).
    #[error("the simulator has no TCP listener")]
    NotListening,
}
