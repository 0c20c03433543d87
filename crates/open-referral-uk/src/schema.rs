//! The schema layer run by the official UK-profile JSON Schemas (feature `schema`).
//!
//! The schemas ship with the crate as data (`schemas/uk-profile-3.0/`, copied byte for byte
//! from OpenReferralUK/uk-profile, CC BY-SA 4.0) and run through the `jsonschema` engine
//! (draft 2020-12, format assertions on), so these rules cannot drift from the published ones.
//! Each schema error becomes a [`Finding`] of [`Severity::Error`] at the same JSON path style
//! as the crate's own validator (`$.contents[2].email`); its message names the schema keyword
//! that failed and never repeats the received value.
//!
//! [`validate()`] combines this layer with the crate's semantic rules: the errors come from the
//! official schemas, the warnings and notes from [`crate::validate`] (at the same paths).
//!
//! ```
//! use open_referral_uk::schema::{SchemaDocument, schema_findings};
//!
//! let service = serde_json::json!({"id": "0b0c8d7e-51a0-4f5b-9c7d-2f1e3d4c5b6a", "status": "active"});
//! let findings = schema_findings(&service, SchemaDocument::Service);
//! assert_eq!(findings[0].path, "$.name");
//! assert!(findings[0].message.contains("required"));
//! ```

use std::sync::OnceLock;

use serde_json::Value;

use crate::validate::{self, Finding, Report, Rule, Severity, ValidationContext};

/// Which UK-profile schema a document is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SchemaDocument {
    /// A fully nested service (`GET /services/{id}`): `compiled/service.json`.
    Service,
    /// One item of `GET /services`: `compiled/service_list.json`.
    ServiceListItem,
    /// One item of `GET /service_at_locations`: `compiled/service_at_location_list.json`.
    ServiceAtLocationListItem,
    /// A taxonomy: `taxonomy.json` (its terms by `taxonomy_term.json`).
    Taxonomy,
    /// A taxonomy term: `taxonomy_term.json`.
    TaxonomyTerm,
}

const SERVICE: &str = include_str!("../schemas/uk-profile-3.0/service.json");
const SERVICE_LIST: &str = include_str!("../schemas/uk-profile-3.0/service_list.json");
const SAL_LIST: &str = include_str!("../schemas/uk-profile-3.0/service_at_location_list.json");
const TAXONOMY: &str = include_str!("../schemas/uk-profile-3.0/taxonomy.json");
const TAXONOMY_TERM: &str = include_str!("../schemas/uk-profile-3.0/taxonomy_term.json");

/// Replaces `{"$ref": "taxonomy_term.json"}` by the term schema (the only cross-file reference
/// among the shipped schemas), so no resolver is needed.
fn inline_refs(value: &mut Value, term: &Value) {
    match value {
        Value::Object(map) => {
            if map.get("$ref").and_then(Value::as_str) == Some("taxonomy_term.json") {
                *value = term.clone();
                return;
            }
            for child in map.values_mut() {
                inline_refs(child, term);
            }
        }
        Value::Array(items) => {
            for item in items {
                inline_refs(item, term);
            }
        }
        _ => {}
    }
}

fn compile(document: SchemaDocument) -> Option<jsonschema::Validator> {
    let text = match document {
        SchemaDocument::Service => SERVICE,
        SchemaDocument::ServiceListItem => SERVICE_LIST,
        SchemaDocument::ServiceAtLocationListItem => SAL_LIST,
        SchemaDocument::Taxonomy => TAXONOMY,
        SchemaDocument::TaxonomyTerm => TAXONOMY_TERM,
    };
    let mut schema: Value = serde_json::from_str(text).ok()?;
    if document == SchemaDocument::Taxonomy {
        let term: Value = serde_json::from_str(TAXONOMY_TERM).ok()?;
        inline_refs(&mut schema, &term);
    }
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .ok()
}

fn validator(document: SchemaDocument) -> Option<&'static jsonschema::Validator> {
    static SERVICE_V: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    static LIST_V: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    static SAL_V: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    static TAXONOMY_V: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    static TERM_V: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    let cell = match document {
        SchemaDocument::Service => &SERVICE_V,
        SchemaDocument::ServiceListItem => &LIST_V,
        SchemaDocument::ServiceAtLocationListItem => &SAL_V,
        SchemaDocument::Taxonomy => &TAXONOMY_V,
        SchemaDocument::TaxonomyTerm => &TERM_V,
    };
    cell.get_or_init(|| compile(document)).as_ref()
}

/// A JSON pointer (`/contents/2/email`) as a JSON path below `base` (`$.contents[2].email`).
fn json_path(base: &str, pointer: &str) -> String {
    let mut path = base.to_owned();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            path.push_str(&format!("[{segment}]"));
        } else {
            path.push('.');
            path.push_str(&segment);
        }
    }
    path
}

/// The crate's rule closest to a schema keyword.
fn rule_of(keyword: &str) -> Rule {
    match keyword {
        "required" => Rule::Required,
        "type" => Rule::Type,
        "enum" => Rule::Enum,
        _ => Rule::Format,
    }
}

/// Checks a document against a UK-profile schema at `base` (`$` for a whole document). Each
/// error names the failing keyword and the schema location, never the value.
pub fn schema_findings_at(document: &Value, kind: SchemaDocument, base: &str) -> Vec<Finding> {
    let Some(validator) = validator(kind) else {
        return vec![Finding {
            severity: Severity::Error,
            rule: Rule::Format,
            path: base.to_owned(),
            message: "the shipped UK-profile schema could not be compiled".to_owned(),
        }];
    };
    validator
        .iter_errors(document)
        .map(|error| {
            let schema_path = error.schema_path().to_string();
            let keyword = error.kind().keyword().to_owned();
            let mut path = json_path(base, &error.instance_path().to_string());
            // A missing property is reported at the property, as the crate's validator does.
            if let jsonschema::error::ValidationErrorKind::Required { property } = error.kind()
                && let Some(name) = property.as_str()
            {
                path.push('.');
                path.push_str(name);
            }
            Finding {
                severity: Severity::Error,
                rule: rule_of(&keyword),
                path,
                message: format!("fails the UK-profile schema: `{keyword}` at {schema_path}"),
            }
        })
        .collect()
}

/// [`schema_findings_at`] at the document root.
pub fn schema_findings(document: &Value, kind: SchemaDocument) -> Vec<Finding> {
    schema_findings_at(document, kind, "$")
}

/// A fully nested service checked by the official schema (errors) and the crate's semantic
/// rules (warnings and notes).
pub fn validate(document: &Value, context: &ValidationContext) -> Report {
    let mut findings = schema_findings(document, SchemaDocument::Service);
    let semantic = validate::validate_service(document, context);
    findings.extend(
        semantic
            .findings
            .into_iter()
            .filter(|f| f.severity != Severity::Error),
    );
    Report { findings }
}
