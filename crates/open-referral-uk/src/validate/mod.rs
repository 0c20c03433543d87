//! Validation of ORUK 3.0 documents with Error / Warning / Info findings located by JSON path.
//!
//! Works on raw [`serde_json::Value`]s (so wrong types, `null`s and missing required fields are
//! reported rather than failing a parse) and covers:
//!
//! * **Error**: what the UK-profile JSON Schemas require: required properties, JSON types,
//!   enums (`service.status`, `location.location_type`, `address.address_type`,
//!   `schedule.freq`), formats `uuid`, `uri`, `email`, `date-time`, explicit `null`s, and the
//!   page envelope fields of list responses.
//! * **Warning**: semantic rules the schemas cannot express: duplicate ids, age and date
//!   ranges, schedule rules, coordinates, UK postcodes, stale `assured_date`, `last_modified`
//!   in the future, negative costs, attributes without a term, page envelope consistency,
//!   empty feeds, malformed dates and times, GeoJSON service-area extents that do not parse.
//! * **Info**: properties the profile does not define, HSDS fields removed by the UK profile,
//!   deprecated fields.
//!
//! Time is a parameter ([`ValidationContext::today`]): the validator never reads the clock.
//!
//! Inside: this file holds the public types and entry points; `page` the list-page
//! envelope, `spec` the UK-profile table of objects and fields, `walker` the walk that checks
//! required fields, types and formats, `rules` the semantic (Warning) rules.

mod page;
mod rules;
mod spec;
mod walker;

use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;

pub use page::validate_page;
use spec::{API_DETAILS, SERVICE, TAXONOMY, TAXONOMY_TERM};
use walker::Walker;

/// How serious a finding is (mirrors the ORUK validator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Severity {
    /// The document does not comply with the UK profile.
    Error,
    /// The document complies but the data is probably wrong.
    Warning,
    /// Worth knowing; not a problem.
    Info,
}

/// Which rule produced a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Rule {
    /// The document is not JSON.
    InvalidJson,
    /// A required property is missing.
    Required,
    /// A property has the wrong JSON type.
    Type,
    /// An optional property is `null` (omit it instead).
    Null,
    /// A string does not have the required format.
    Format,
    /// A value is outside its code list.
    Enum,
    /// A property the profile does not define.
    AdditionalField,
    /// An HSDS 3.0 property the UK profile removes.
    RemovedField,
    /// A deprecated property.
    DeprecatedField,
    /// The same id is used twice for different objects of one type.
    DuplicateId,
    /// Age limits are negative or reversed.
    AgeRange,
    /// A `valid_from`/`valid_to` pair is reversed.
    DateRange,
    /// A date or time is not in the format the field description asks for.
    DateTimeFormat,
    /// A schedule rule is inconsistent.
    Schedule,
    /// Coordinates are missing one half, out of range or at (0, 0).
    Coordinates,
    /// A UK address has a postcode that is not a UK postcode.
    Postcode,
    /// `assured_date` is older than the freshness limit.
    StaleAssuredDate,
    /// A date lies in the future.
    FutureDate,
    /// A cost is negative.
    NegativeAmount,
    /// An attribute names no taxonomy term.
    AttributeWithoutTerm,
    /// The page envelope is inconsistent with its contents.
    PageEnvelope,
    /// A list endpoint returned no items.
    EmptyFeed,
    /// A `geojson` service-area extent is not a usable polygon area (the message gives the
    /// path inside the extent); search ignores it.
    ServiceAreaExtent,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = serde_json::to_value(self).ok();
        f.write_str(value.as_ref().and_then(Value::as_str).unwrap_or("rule"))
    }
}

/// One problem or remark, located by JSON path (`$.contents[2].email`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Finding {
    /// How serious it is.
    pub severity: Severity,
    /// Which rule.
    pub rule: Rule,
    /// Where, as a JSON path from the document root `$`.
    pub path: String,
    /// What is wrong, for the publisher.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} {} at {}: {}",
            self.severity, self.rule, self.path, self.message
        )
    }
}

/// The findings for one document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// Findings in a deterministic order: depth first, an object's properties in key order,
    /// then the object's own semantic findings.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether no finding is an error (the document complies with the UK profile).
    pub fn is_valid(&self) -> bool {
        self.count(Severity::Error) == 0
    }

    /// Number of findings of a severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// Findings of one severity.
    pub fn of(&self, severity: Severity) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.severity == severity)
    }

    /// Findings at a path.
    pub fn at<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a Finding> {
        self.findings.iter().filter(move |f| f.path == path)
    }
}

/// Parameters of a validation run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationContext {
    /// Today's date; `None` skips the date-relative checks (stale `assured_date`, future dates).
    pub today: Option<NaiveDate>,
    /// An `assured_date` older than this many days is stale (ORUK recommends three months).
    pub stale_after_days: i64,
    /// Whether to report properties the profile does not define (`Info`).
    pub report_additional_fields: bool,
}

impl ValidationContext {
    /// A context for a given day, with the default freshness limit (92 days).
    pub fn on(today: NaiveDate) -> Self {
        Self {
            today: Some(today),
            ..Self::default()
        }
    }
}

impl Default for ValidationContext {
    fn default() -> Self {
        Self {
            today: None,
            stale_after_days: 92,
            report_additional_fields: true,
        }
    }
}

/// Which list endpoint a page came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PageKind {
    /// `GET /services` (items: `compiled/service_list.json`).
    Services,
    /// `GET /service_at_locations`.
    ServiceAtLocations,
    /// `GET /taxonomies`.
    Taxonomies,
    /// `GET /taxonomy_terms`.
    TaxonomyTerms,
}

/// What kind of document a JSON text is, for [`validate_json`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Document {
    /// A fully nested service.
    Service,
    /// A JSON array of fully nested services.
    Services,
    /// A page of a list endpoint.
    Page(PageKind),
    /// A taxonomy.
    Taxonomy,
    /// A taxonomy term.
    TaxonomyTerm,
    /// The `GET /` response.
    ApiDetails,
}

/// Parses and validates a JSON text; text that is not JSON gives one `invalid_json` error at
/// `$` naming the line and column.
pub fn validate_json(json: &[u8], document: Document, context: &ValidationContext) -> Report {
    let value: Value = match serde_json::from_slice(json) {
        Ok(value) => value,
        Err(error) => {
            let mut report = Report::default();
            report.findings.push(Finding {
                severity: Severity::Error,
                rule: Rule::InvalidJson,
                path: "$".to_owned(),
                message: format!(
                    "not valid JSON: {}",
                    nhs_identifiers::redact::serde_error(&error.to_string())
                ),
            });
            return report;
        }
    };
    match document {
        Document::Service => validate_service(&value, context),
        Document::Services => validate_services(&value, context),
        Document::Page(kind) => validate_page(&value, kind, context),
        Document::Taxonomy => validate_taxonomy(&value, context),
        Document::TaxonomyTerm => validate_taxonomy_term(&value, context),
        Document::ApiDetails => validate_api_details(&value, context),
    }
}

/// Validates a fully nested service (`GET /services/{id}`).
pub fn validate_service(document: &Value, context: &ValidationContext) -> Report {
    let mut walker = Walker::new(context);
    walker.object(document, &SERVICE, "$");
    walker.finish()
}

/// Validates a JSON array of fully nested services (a directory file).
pub fn validate_services(document: &Value, context: &ValidationContext) -> Report {
    let mut walker = Walker::new(context);
    match document.as_array() {
        Some(items) => {
            for (index, item) in items.iter().enumerate() {
                walker.object(item, &SERVICE, &format!("$[{index}]"));
            }
        }
        None => walker.push(
            Severity::Error,
            Rule::Type,
            "$",
            "expected an array of services",
        ),
    }
    walker.finish()
}

/// Validates a taxonomy (`GET /taxonomies/{id}`).
pub fn validate_taxonomy(document: &Value, context: &ValidationContext) -> Report {
    let mut walker = Walker::new(context);
    walker.object(document, &TAXONOMY, "$");
    walker.finish()
}

/// Validates a taxonomy term (`GET /taxonomy_terms/{id}`).
pub fn validate_taxonomy_term(document: &Value, context: &ValidationContext) -> Report {
    let mut walker = Walker::new(context);
    walker.object(document, &TAXONOMY_TERM, "$");
    walker.finish()
}

/// Validates the `GET /` response.
pub fn validate_api_details(document: &Value, context: &ValidationContext) -> Report {
    let mut walker = Walker::new(context);
    walker.object(document, &API_DETAILS, "$");
    walker.finish()
}
