//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong building, reading or converting ITK3 / FHIR payloads.
///
/// None of the variants carries patient identifiers or names: messages say *what* and *where*.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A caller-supplied input is not acceptable (for example no attachment, an empty title).
    /// Not retryable: fix the input.
    #[error("invalid input `{field}`: {reason}")]
    InvalidInput {
        /// The input field (builder method) at fault.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// `fhir-model` refused to build a resource (a required element was not set). This is a bug
    /// in this crate if it ever happens for a builder input that passed our own checks.
    #[error("building a FHIR resource failed: {0}")]
    Build(String),
    /// The JSON could not be parsed (syntax, or a FHIR shape `fhir-model` rejects), or could not
    /// be written. The parser's message, with the values it quotes redacted (a wrongly typed
    /// NHS number or name must not reach logs), and its line and column.
    #[error("FHIR JSON: {0}")]
    Json(String),
    /// The XML could not be parsed, or is not FHIR XML.
    #[error("FHIR XML at byte {position}: {reason}")]
    Xml {
        /// Byte offset in the input where the problem was noticed.
        position: u64,
        /// What is wrong.
        reason: String,
    },
    /// The input exceeds a size or nesting limit.
    #[error("input too large: {what} exceeds the limit of {limit}")]
    TooLarge {
        /// What was counted (bytes, nesting depth).
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A resource is not the FHIR resource type expected here.
    #[error("expected a FHIR {expected} at {location}, found {found}")]
    UnexpectedResource {
        /// The type expected.
        expected: &'static str,
        /// The type found (or `nothing`).
        found: String,
        /// FHIRPath-like location.
        location: String,
    },
    /// A message bundle lacks something an ITK3 message must carry.
    #[error("not a readable ITK3 message: {location}: {reason}")]
    NotItk {
        /// FHIRPath-like location.
        location: String,
        /// What is missing or wrong.
        reason: String,
    },
    /// Narrative XHTML is not well-formed XML, so it cannot be embedded in FHIR XML.
    #[error("narrative XHTML at {location} is not well-formed: {reason}")]
    Xhtml {
        /// FHIRPath-like location of the `div`.
        location: String,
        /// What is wrong.
        reason: String,
    },
}

impl From<fhir_model::BuilderError> for Error {
    fn from(err: fhir_model::BuilderError) -> Self {
        Self::Build(err.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Self::Json(redact_values(&err.to_string()))
    }
}

/// The ground floor's serde-error redactor, under the name this crate's modules use.
pub(crate) fn redact_values(message: &str) -> String {
    nhs_identifiers::redact::serde_error(message)
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_do_not_repeat_patient_data() {
        let err = serde_json::from_str::<fhir_model::stu3::resources::Resource>(
            r#"{"resourceType":"Patient","identifier":[{"value":9990000476}],"name":[{"given":"Robin"}]}"#,
        )
        .map_err(Error::from)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.starts_with("FHIR JSON: invalid type"), "{err}");
        assert!(!err.contains("9990000476"), "{err}");
        let err = serde_json::from_str::<fhir_model::stu3::resources::Resource>(
            r#"{"resourceType":"Patient","gender":"Robin Fictitious"}"#,
        )
        .map_err(Error::from)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("Unknown value: <redacted>"), "{err}");
        assert!(!err.contains("Robin"), "{err}");
    }
}
