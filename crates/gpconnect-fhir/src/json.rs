//! FHIR JSON in and out of the `fhir-model` STU3 `Resource` enum.
//!
//! Reading goes through the tagged `Resource` enum, so `resourceType` is always checked (the
//! concrete structs alone accept any `resourceType`). Unknown properties are dropped by the
//! model: use [`crate::validate::validate_json`] to have them reported.

use fhir_model::stu3::resources::Resource;

use crate::error::{Error, Result};
use crate::validate::MAX_INPUT_BYTES;

/// Reads one FHIR STU3 resource from JSON.
pub fn from_json(json: &str) -> Result<Resource> {
    if json.len() > MAX_INPUT_BYTES {
        return Err(Error::TooLarge {
            what: "JSON bytes",
            limit: MAX_INPUT_BYTES,
        });
    }
    Ok(serde_json::from_str(json)?)
}

/// Writes a resource as compact FHIR JSON.
pub fn to_json(resource: &Resource) -> Result<String> {
    Ok(serde_json::to_string(resource)?)
}
