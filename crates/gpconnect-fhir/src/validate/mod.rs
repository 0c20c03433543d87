//! Validation of ITK3 message bundles (ours or anyone's) against the rules the NHS profiles and
//! guides state, reporting findings rather than stopping at the first problem.
//!
//! Checks run on the raw FHIR JSON, so a bundle `fhir-model` cannot read is still checked as far
//! as possible; the input is also read with `fhir-model` to report properties it would drop.
//! A document bundle without its ITK3 envelope (as in most public examples) is checked as a
//! document, with a note that the envelope is missing.

mod checker;
mod coded;
mod composition;
mod document;
mod gpprovider;
mod handling;
mod message;
mod report;
mod response;
mod unknown;
mod value;

use fhir_model::stu3::resources::{Bundle, Resource};
use serde_json::Value;

use crate::codes::ResponseCode;
use crate::error::redact_values;
use checker::Checker;
pub use gpprovider::check_gpprovider_address;
pub use report::{Finding, Severity, ValidationOptions, ValidationReport};
use value::{arr, codings, is_relative, profiles, root_name, s};

/// Largest message ITK3 recommends (20015 Message too large).
pub const RECOMMENDED_MAX_MESSAGE_BYTES: usize = 5 * 1024 * 1024;
/// Largest JSON input the validator reads at all.
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// Validates FHIR JSON text (a message bundle, or a bare document bundle), accepting either
/// Send Document edition.
pub fn validate_json(json: &str) -> ValidationReport {
    validate_json_with(json, ValidationOptions::default())
}

/// [`validate_json`] with options.
pub fn validate_json_with(json: &str, options: ValidationOptions) -> ValidationReport {
    let mut v = Checker {
        options,
        ..Checker::default()
    };
    if json.len() > MAX_INPUT_BYTES {
        v.push(
            Severity::Fatal,
            "(root)",
            format!("input larger than {MAX_INPUT_BYTES} bytes"),
            Some(ResponseCode::MessageTooLarge),
        );
        return v.finish();
    }
    if json.len() > RECOMMENDED_MAX_MESSAGE_BYTES {
        v.push(
            Severity::Warning,
            "(root)",
            "message larger than the recommended 5 MB",
            Some(ResponseCode::MessageTooLarge),
        );
    }
    let raw: Value = match serde_json::from_str(json) {
        Ok(raw) => raw,
        Err(e) => {
            v.push(
                Severity::Fatal,
                "(root)",
                format!("not JSON: {}", redact_values(&e.to_string())),
                Some(ResponseCode::UnreadableMessage),
            );
            return v.finish();
        }
    };
    match serde_json::from_value::<Resource>(raw.clone()) {
        Ok(model) => match serde_json::to_value(&model) {
            Ok(round_trip) => {
                let mut dropped = Vec::new();
                unknown::dropped_properties(&raw, &round_trip, root_name(&raw), &mut dropped);
                for path in dropped {
                    v.push(
                        Severity::Error,
                        path,
                        "unknown property (not part of FHIR STU3; it would be lost)",
                        Some(ResponseCode::PayloadValidationFailure),
                    );
                }
            }
            Err(e) => v.push(
                Severity::Error,
                "(root)",
                format!("cannot re-serialise: {e}"),
                None,
            ),
        },
        Err(e) => v.push(
            Severity::Error,
            root_name(&raw),
            format!(
                "not valid FHIR STU3 for the resource model: {}",
                redact_values(&e.to_string())
            ),
            Some(ResponseCode::PayloadValidationFailure),
        ),
    }
    v.bundle(&raw);
    v.finish()
}

/// Validates a `fhir-model` bundle, accepting either Send Document edition.
pub fn validate_bundle(bundle: &Bundle) -> ValidationReport {
    validate_bundle_with(bundle, ValidationOptions::default())
}

/// [`validate_bundle`] with options.
pub fn validate_bundle_with(bundle: &Bundle, options: ValidationOptions) -> ValidationReport {
    let mut v = Checker {
        options,
        ..Checker::default()
    };
    match serde_json::to_value(bundle) {
        Ok(raw) => v.bundle(&raw),
        Err(e) => v.push(
            Severity::Fatal,
            "Bundle",
            format!("cannot serialise: {e}"),
            None,
        ),
    }
    v.finish()
}
