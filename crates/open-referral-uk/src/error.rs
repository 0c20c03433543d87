//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong in this crate. None of these is worth retrying unchanged: each
/// says what to fix in the input.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OrukError {
    /// A JSON document could not be parsed into the ORUK model. The message never repeats a
    /// received value (it goes through `nhs_identifiers::redact::serde_error`).
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
    Marketplace(#[from] MarketplaceError),
}

/// Why a marketplace operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MarketplaceError {
    /// A signposting entry lacks the contact details people need.
    #[error("a signposting-only entry needs {missing}")]
    SignpostingIncomplete {
        /// What is missing ("an email", "a UK postcode", or both).
        missing: String,
    },
    /// No listing for that service id.
    #[error("no listing for service {0}")]
    UnknownListing(String),
    /// No referral with that id.
    #[error("no referral {0}")]
    UnknownReferral(String),
    /// A referral id was used twice.
    #[error("referral {0} already exists")]
    DuplicateReferral(String),
    /// The listing does not take referrals (signposting only, paused or suspended).
    #[error("listing for service {service_id} does not take referrals ({reason})")]
    NotTakingReferrals {
        /// The service.
        service_id: String,
        /// Why.
        reason: String,
    },
    /// The referral was already answered.
    #[error("referral {0} has already been answered")]
    AlreadyAnswered(String),
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
            message: nhs_identifiers::redact::serde_error(&error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Service;

    #[test]
    fn parser_errors_never_repeat_the_received_value() {
        // A number where the id string belongs, and a name where a list belongs.
        let cases: [&[u8]; 2] = [
            br#"{"id": 9990000018, "name": "Lunch club"}"#,
            br#"{"id": "ac148810-d857-441c-9679-408f346de14b", "name": "Lunch club", "status": "active", "schedules": "Robin Smith"}"#,
        ];
        for json in cases {
            let text = Service::from_json(json).unwrap_err().to_string();
            assert!(text.starts_with("invalid ORUK JSON at line 1"), "{text}");
            assert!(text.contains("<redacted>"), "{text}");
            assert!(!text.contains("9990000018"), "{text}");
            assert!(!text.contains("999 000 0018"), "{text}");
            assert!(!text.contains("Robin"), "{text}");
        }
    }
}
