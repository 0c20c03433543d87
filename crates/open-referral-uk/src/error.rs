//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong in this crate. None of these is worth retrying unchanged: each
/// says what to fix in the input.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OrukError {
    /// A JSON document could not be parsed into the ORUK model.
    #[error("invalid ORUK JSON at line {line}, column {column}: {message}")]
    Json {
        /// Line of the problem (1-based).
        line: usize,
        /// Column of the problem (1-based).
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// A query parameter was missing, malformed or out of range.
    #[error("bad parameter `{name}`: {reason}")]
    BadParameter {
        /// The parameter name.
        name: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A CSV file could not be read as a whole (a missing required column, unreadable bytes).
    #[error("CSV import failed: {0}")]
    Csv(String),
    /// A marketplace operation was refused by the rules.
    #[error("marketplace rule: {0}")]
    Marketplace(#[from] crate::marketplace::MarketplaceError),
}

impl OrukError {
    /// A [`OrukError::BadParameter`].
    pub fn bad_parameter(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::BadParameter {
            name: name.into(),
            reason: reason.into(),
        }
    }
}

impl From<serde_json::Error> for OrukError {
    fn from(error: serde_json::Error) -> Self {
        Self::Json {
            line: error.line(),
            column: error.column(),
            message: error.to_string(),
        }
    }
}
