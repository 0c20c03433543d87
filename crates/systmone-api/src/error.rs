//! The crate's one error type.

use thiserror::Error;

/// Everything that can go wrong while encoding, decoding or framing a Client Integration
/// message, plus the errors SystmOne itself reports.
///
/// Error text never repeats a patient value (names, dates of birth, NHS numbers): it names the
/// element and the rule that failed. [`Error::is_retryable`] answers "can sending the same
/// request again help?".
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// SystmOne answered with `ErrorMessage` (+ `PermanentError`) instead of a result.
    #[error("SystmOne reported an error ({}): {message}", if *permanent { "permanent" } else { "temporary" })]
    Remote {
        /// The `ErrorMessage` text, as sent but with any valid NHS number in it masked (log
        /// it, do not parse it).
        message: String,
        /// `PermanentError`: `true` means do not retry; `false` means a temporary condition such
        /// as "record in use". A missing `PermanentError` is treated as permanent.
        permanent: bool,
    },
    /// The input is not valid UTF-8.
    #[error("message is not valid UTF-8 (first bad byte at offset {valid_up_to})")]
    NotUtf8 {
        /// Byte offset of the first invalid byte.
        valid_up_to: usize,
    },
    /// The input is not well-formed XML.
    #[error("malformed XML at byte {position}: {reason}")]
    Malformed {
        /// Byte offset where the problem was found.
        position: u64,
        /// What was wrong.
        reason: String,
    },
    /// The input ended before the root element was closed.
    #[error("message is truncated: the root element is not closed")]
    Truncated,
    /// A `<!DOCTYPE>` declaration: rejected, so no entity can ever be defined or expanded.
    #[error("DOCTYPE declarations are not allowed (byte {position})")]
    DoctypeNotAllowed {
        /// Byte offset of the declaration.
        position: u64,
    },
    /// Elements nested deeper than the decoder allows.
    #[error("elements are nested deeper than {limit} levels")]
    TooDeep {
        /// The nesting limit.
        limit: usize,
    },
    /// A message (or a partly received one) is larger than the configured maximum.
    #[error("message exceeds the maximum size of {limit} bytes")]
    MessageTooLarge {
        /// The configured maximum, in bytes.
        limit: usize,
    },
    /// The root element is not the one expected.
    #[error("wrong root element: expected {expected}, found {found}")]
    WrongRoot {
        /// The expected root (`ClientIntegrationRequest` or `ClientIntegrationResponse`).
        expected: &'static str,
        /// The root element found.
        found: String,
    },
    /// A required element is missing.
    #[error("missing element {element} in {parent}")]
    MissingElement {
        /// The element that should contain it.
        parent: String,
        /// The missing element.
        element: &'static str,
    },
    /// An element or attribute has a value that cannot be read as its type. The value itself is
    /// not repeated (it may identify a patient).
    #[error("invalid value in {element}: {reason}")]
    InvalidValue {
        /// Element (or `Element@Attribute`) holding the value.
        element: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The `Function` is not one this crate implements.
    #[error("unknown function {name}")]
    UnknownFunction {
        /// The wire name received.
        name: String,
    },
    /// The `FunctionVersion` is not supported for this function.
    #[error("unsupported version {version} of {function}")]
    UnsupportedVersion {
        /// Wire function name.
        function: String,
        /// Version received.
        version: String,
    },
    /// A typed conversion was asked for a different function's message.
    #[error("expected a {expected} message, found {found}")]
    FunctionMismatch {
        /// Function asked for.
        expected: &'static str,
        /// Function found.
        found: String,
    },
    /// A request breaks a rule of the API, found before sending it (e.g. a `PatientSearch`
    /// with fewer than two criteria, a delete without a reason).
    #[error("invalid {function} request: {reason}")]
    InvalidRequest {
        /// Wire function name.
        function: &'static str,
        /// The rule broken.
        reason: &'static str,
    },
    /// Text holds a character XML 1.0 cannot carry (a control character other than tab, CR, LF).
    #[error("text in {element} holds a character XML 1.0 cannot carry")]
    UnencodableText {
        /// The element (or `Element@Attribute`) whose text was rejected.
        element: String,
    },
}

impl Error {
    /// Whether sending the same request again later can succeed: `true` only for SystmOne's
    /// temporary errors (`PermanentError` = `false`, e.g. the record is in use). Everything
    /// else (bad input, permanent errors, protocol errors) will fail the same way again.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Remote {
                permanent: false,
                ..
            }
        )
    }

    /// Whether this error came from SystmOne (an `ErrorMessage` response) rather than from
    /// this crate's checks.
    pub fn is_remote(&self) -> bool {
        matches!(self, Error::Remote { .. })
    }

    pub(crate) fn invalid(element: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidValue {
            element: element.into(),
            reason: reason.into(),
        }
    }
}

/// The error part of an error response: `ErrorMessage` and `PermanentError`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemoteError {
    /// Human-readable text from SystmOne (when decoded, any valid NHS number in it is masked).
    pub message: String,
    /// `true`: do not retry. `false`: temporary, may be retried later.
    pub permanent: bool,
}

impl RemoteError {
    /// A remote error with its message and permanence.
    pub fn new(message: impl Into<String>, permanent: bool) -> Self {
        Self {
            message: message.into(),
            permanent,
        }
    }

    /// Whether a retry can help (`PermanentError` = `false`).
    pub fn is_retryable(&self) -> bool {
        !self.permanent
    }
}

impl From<RemoteError> for Error {
    fn from(e: RemoteError) -> Self {
        Error::Remote {
            message: e.message,
            permanent: e.permanent,
        }
    }
}
