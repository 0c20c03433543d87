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
//!   empty feeds, malformed dates and times.
//! * **Info**: properties the profile does not define, HSDS fields removed by the UK profile,
//!   deprecated fields.
//!
//! Time is a parameter ([`ValidationContext::today`]): the validator never reads the clock.

use std::collections::HashMap;
use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::formats::{self, UkPostcode, parse_byday};
use crate::model::{Frequency, LocationType, ServiceStatus};

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

/// Validates a page of a list endpoint: the envelope, its consistency and every item.
pub fn validate_page(document: &Value, kind: PageKind, context: &ValidationContext) -> Report {
    let mut walker = Walker::new(context);
    let item_spec: &Spec = match kind {
        PageKind::Services => &SERVICE,
        PageKind::ServiceAtLocations => &SERVICE_AT_LOCATION_ITEM,
        PageKind::Taxonomies => &TAXONOMY,
        PageKind::TaxonomyTerms => &TAXONOMY_TERM,
    };
    let Some(envelope) = document.as_object() else {
        walker.push(Severity::Error, Rule::Type, "$", "expected a page object");
        return walker.finish();
    };
    let integer = |name: &str, walker: &mut Walker<'_>| -> Option<u64> {
        let path = format!("$.{name}");
        match envelope.get(name) {
            None => {
                walker.push(
                    Severity::Error,
                    Rule::Required,
                    &path,
                    format!("page envelope field `{name}` is missing"),
                );
                None
            }
            Some(value) => match value.as_u64() {
                Some(n) => Some(n),
                None => {
                    walker.push(
                        Severity::Error,
                        Rule::Type,
                        &path,
                        format!(
                            "`{name}` must be a non-negative integer, found {}",
                            type_name(value)
                        ),
                    );
                    None
                }
            },
        }
    };
    let total_items = integer("total_items", &mut walker);
    let total_pages = integer("total_pages", &mut walker);
    let page_number = integer("page_number", &mut walker);
    let size = integer("size", &mut walker);
    let boolean = |name: &str, walker: &mut Walker<'_>| -> Option<bool> {
        let path = format!("$.{name}");
        match envelope.get(name) {
            None => {
                walker.push(
                    Severity::Error,
                    Rule::Required,
                    &path,
                    format!("page envelope field `{name}` is missing"),
                );
                None
            }
            Some(Value::Bool(b)) => Some(*b),
            Some(value) => {
                walker.push(
                    Severity::Error,
                    Rule::Type,
                    &path,
                    format!("`{name}` must be a boolean, found {}", type_name(value)),
                );
                None
            }
        }
    };
    let first_page = boolean("first_page", &mut walker);
    let last_page = boolean("last_page", &mut walker);
    let empty = boolean("empty", &mut walker);
    let contents = match envelope.get("contents") {
        None => {
            walker.push(
                Severity::Error,
                Rule::Required,
                "$.contents",
                "page envelope field `contents` is missing",
            );
            None
        }
        Some(Value::Array(items)) => Some(items),
        Some(value) => {
            walker.push(
                Severity::Error,
                Rule::Type,
                "$.contents",
                format!("`contents` must be an array, found {}", type_name(value)),
            );
            None
        }
    };
    for key in envelope.keys() {
        if !PAGE_FIELDS.contains(&key.as_str()) && context.report_additional_fields {
            walker.push(
                Severity::Info,
                Rule::AdditionalField,
                &format!("$.{key}"),
                format!("field `{key}` is not defined in the page envelope"),
            );
        }
    }
    if let Some(items) = contents {
        let len = items.len() as u64;
        if let Some(size) = size
            && size != len
        {
            walker.push(
                Severity::Warning,
                Rule::PageEnvelope,
                "$.size",
                format!("size is {size} but the page contains {len} items"),
            );
        }
        if let Some(total) = total_items
            && total < len
        {
            walker.push(
                Severity::Warning,
                Rule::PageEnvelope,
                "$.total_items",
                format!("total_items is {total} but this page alone contains {len} items"),
            );
        }
        if total_items == Some(0) && len == 0 {
            walker.push(
                Severity::Warning,
                Rule::EmptyFeed,
                "$.contents",
                "the feed returned no items",
            );
        }
        for (index, item) in items.iter().enumerate() {
            walker.object(item, item_spec, &format!("$.contents[{index}]"));
        }
    }
    if let (Some(total), Some(empty)) = (total_items, empty)
        && empty != (total == 0)
    {
        walker.push(
            Severity::Warning,
            Rule::PageEnvelope,
            "$.empty",
            format!("empty is {empty} but total_items is {total}"),
        );
    }
    if let (Some(page), Some(first)) = (page_number, first_page)
        && first != (page == 1)
    {
        walker.push(
            Severity::Warning,
            Rule::PageEnvelope,
            "$.first_page",
            format!("first_page is {first} on page {page}"),
        );
    }
    if page_number == Some(0) {
        walker.push(
            Severity::Warning,
            Rule::PageEnvelope,
            "$.page_number",
            "pages are numbered from 1",
        );
    }
    if let (Some(page), Some(pages), Some(last)) = (page_number, total_pages, last_page)
        && last != (page >= pages)
    {
        walker.push(
            Severity::Warning,
            Rule::PageEnvelope,
            "$.last_page",
            format!("last_page is {last} on page {page} of {pages}"),
        );
    }
    if let (Some(total), Some(pages)) = (total_items, total_pages)
        && ((total > 0 && pages == 0) || pages > total.max(1))
    {
        walker.push(
            Severity::Warning,
            Rule::PageEnvelope,
            "$.total_pages",
            format!("total_pages is {pages} for {total} items"),
        );
    }
    walker.finish()
}

const PAGE_FIELDS: &[&str] = &[
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
];

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Uuid,
    Uri,
    Email,
    Date,
    Time,
    DateTime,
    Number,
    /// A code list: its known wire values (from the model's `KNOWN`).
    Enum(fn() -> Vec<&'static str>),
    Object(&'static Spec),
    Array(&'static Spec),
}

struct Field {
    name: &'static str,
    kind: Kind,
}

/// Whether objects of a type are shared between services (same id, same content is fine).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sharing {
    Owned,
    Shared,
}

struct Spec {
    object: &'static str,
    sharing: Sharing,
    required: &'static [&'static str],
    fields: &'static [Field],
    removed: &'static [&'static str],
    deprecated: &'static [&'static str],
}

const fn f(name: &'static str, kind: Kind) -> Field {
    Field { name, kind }
}

use Kind::{Array, Date, DateTime, Email, Number, Object, Text, Time, Uri, Uuid};

static SERVICE: Spec = Spec {
    object: "service",
    sharing: Sharing::Owned,
    required: &["id", "name", "status"],
    fields: &[
        f("id", Uuid),
        f("organization_id", Uuid),
        f("name", Text),
        f("description", Text),
        f("url", Uri),
        f("email", Email),
        f(
            "status",
            Kind::Enum(|| {
                ServiceStatus::KNOWN
                    .iter()
                    .map(ServiceStatus::as_str)
                    .collect()
            }),
        ),
        f("fees", Text),
        f("accreditations", Text),
        f("minimum_age", Number),
        f("maximum_age", Number),
        f("assured_date", Date),
        f("assurer_email", Email),
        f("alert", Text),
        f("last_modified", DateTime),
        f("schedules", Array(&SCHEDULE)),
        f("service_areas", Array(&SERVICE_AREA)),
        f("service_at_locations", Array(&SERVICE_AT_LOCATION)),
        f("languages", Array(&LANGUAGE)),
        f("organization", Object(&ORGANIZATION)),
        f("funding", Array(&FUNDING)),
        f("cost_options", Array(&COST_OPTION)),
        f("contacts", Array(&CONTACT)),
        f("attributes", Array(&ATTRIBUTE)),
    ],
    removed: &[
        "program_id",
        "alternate_name",
        "fees_description",
        "interpretation_services",
        "application_process",
        "wait_time",
        "eligibility_description",
        "licenses",
        "phones",
        "program",
        "required_documents",
        "metadata",
    ],
    deprecated: &["fees", "wait_time", "licenses"],
};

static ORGANIZATION: Spec = Spec {
    object: "organization",
    sharing: Sharing::Shared,
    required: &["id", "name", "description"],
    fields: &[
        f("id", Uuid),
        f("name", Text),
        f("description", Text),
        f("email", Email),
        f("website", Uri),
        f("logo", Text),
        f("uri", Uri),
        f("parent_organization_id", Uuid),
        f("organization_identifiers", Array(&ORGANIZATION_IDENTIFIER)),
        f("attributes", Array(&ATTRIBUTE)),
    ],
    removed: &[
        "alternate_name",
        "tax_status",
        "tax_id",
        "year_incorporated",
        "legal_status",
        "funding",
        "contacts",
        "phones",
        "locations",
        "programs",
        "metadata",
    ],
    deprecated: &["tax_status", "tax_id"],
};

static ORGANIZATION_IDENTIFIER: Spec = Spec {
    object: "organization_identifier",
    sharing: Sharing::Shared,
    required: &["id", "identifier_type", "identifier"],
    fields: &[
        f("id", Uuid),
        f("organization_id", Uuid),
        f("identifier_scheme", Text),
        f("identifier_type", Text),
        f("identifier", Text),
        f("attributes", Array(&ATTRIBUTE)),
    ],
    removed: &["metadata"],
    deprecated: &[],
};

static LOCATION: Spec = Spec {
    object: "location",
    sharing: Sharing::Shared,
    required: &["id", "location_type"],
    fields: &[
        f("id", Uuid),
        f(
            "location_type",
            Kind::Enum(|| {
                LocationType::KNOWN
                    .iter()
                    .map(LocationType::as_str)
                    .collect()
            }),
        ),
        f("name", Text),
        f("description", Text),
        f("latitude", Number),
        f("longitude", Number),
        f("external_identifier", Text),
        f("external_identifier_type", Text),
        f("addresses", Array(&ADDRESS)),
        f("accessibility", Array(&ACCESSIBILITY)),
        f("attributes", Array(&ATTRIBUTE)),
    ],
    removed: &[
        "url",
        "organization_id",
        "alternate_name",
        "transportation",
        "languages",
        "contacts",
        "phones",
        "schedules",
        "metadata",
    ],
    deprecated: &[],
};

static ADDRESS: Spec = Spec {
    object: "address",
    sharing: Sharing::Shared,
    required: &[
        "id",
        "address_1",
        "city",
        "state_province",
        "postal_code",
        "country",
        "address_type",
    ],
    fields: &[
        f("id", Uuid),
        f("location_id", Uuid),
        f("attention", Text),
        f("address_1", Text),
        f("city", Text),
        f("region", Text),
        f("state_province", Text),
        f("postal_code", Text),
        f("country", Text),
        f(
            "address_type",
            Kind::Enum(|| {
                LocationType::KNOWN
                    .iter()
                    .map(LocationType::as_str)
                    .collect()
            }),
        ),
        f("attributes", Array(&ATTRIBUTE)),
    ],
    removed: &["address_2", "metadata"],
    deprecated: &[],
};

static SERVICE_AT_LOCATION: Spec = Spec {
    object: "service_at_location",
    sharing: Sharing::Owned,
    required: &["id"],
    fields: &[
        f("id", Uuid),
        f("service_id", Uuid),
        f("location_id", Uuid),
        f("location", Object(&LOCATION)),
    ],
    removed: &[
        "description",
        "contacts",
        "phones",
        "schedules",
        "attributes",
        "metadata",
    ],
    deprecated: &[],
};

static SERVICE_AT_LOCATION_ITEM: Spec = Spec {
    object: "service_at_location",
    sharing: Sharing::Owned,
    required: &["id"],
    fields: &[
        f("id", Uuid),
        f("service_id", Uuid),
        f("location_id", Uuid),
        f("location", Object(&LOCATION)),
        f("service", Object(&SERVICE)),
    ],
    removed: &[
        "description",
        "contacts",
        "phones",
        "schedules",
        "attributes",
        "metadata",
    ],
    deprecated: &[],
};

static SERVICE_AREA: Spec = Spec {
    object: "service_area",
    sharing: Sharing::Owned,
    required: &["id"],
    fields: &[
        f("id", Uuid),
        f("service_id", Uuid),
        f("name", Text),
        f("extent", Text),
        f("extent_type", Text),
        f("uri", Text),
        f("service_area", Text),
    ],
    removed: &["description", "attributes", "metadata"],
    deprecated: &[],
};

static SCHEDULE: Spec = Spec {
    object: "schedule",
    sharing: Sharing::Owned,
    required: &["id"],
    fields: &[
        f("id", Uuid),
        f("service_id", Uuid),
        f("service_at_location_id", Uuid),
        f("valid_from", Date),
        f("valid_to", Date),
        f("dtstart", Date),
        f(
            "freq",
            Kind::Enum(|| Frequency::KNOWN.iter().map(Frequency::as_str).collect()),
        ),
        f("interval", Number),
        f("byday", Text),
        f("bymonthday", Text),
        f("description", Text),
        f("opens_at", Time),
        f("closes_at", Time),
        f("schedule_link", Uri),
        f("attending_type", Text),
        f("notes", Text),
    ],
    removed: &[
        "location_id",
        "timezone",
        "until",
        "count",
        "wkst",
        "byweekno",
        "byyearday",
        "attributes",
        "metadata",
    ],
    deprecated: &[],
};

static COST_OPTION: Spec = Spec {
    object: "cost_option",
    sharing: Sharing::Owned,
    required: &["id"],
    fields: &[
        f("id", Uuid),
        f("service_id", Uuid),
        f("valid_from", Date),
        f("valid_to", Date),
        f("option", Text),
        f("amount", Number),
        f("amount_description", Text),
    ],
    removed: &["currency", "attributes", "metadata"],
    deprecated: &[],
};

static CONTACT: Spec = Spec {
    object: "contact",
    sharing: Sharing::Owned,
    required: &["id"],
    fields: &[
        f("id", Uuid),
        f("service_id", Uuid),
        f("name", Text),
        f("title", Text),
        f("attributes", Array(&ATTRIBUTE)),
    ],
    removed: &[
        "organization_id",
        "service_at_location_id",
        "location_id",
        "department",
        "email",
        "phones",
        "metadata",
    ],
    deprecated: &[],
};

static LANGUAGE: Spec = Spec {
    object: "language",
    sharing: Sharing::Shared,
    required: &["id"],
    fields: &[f("id", Uuid), f("service_id", Uuid), f("phone_id", Uuid)],
    removed: &[
        "location_id",
        "name",
        "code",
        "note",
        "attributes",
        "metadata",
    ],
    deprecated: &[],
};

static FUNDING: Spec = Spec {
    object: "funding",
    sharing: Sharing::Owned,
    required: &["id"],
    fields: &[f("id", Uuid), f("service_id", Uuid), f("source", Text)],
    removed: &["organization_id", "attributes", "metadata"],
    deprecated: &[],
};

static ACCESSIBILITY: Spec = Spec {
    object: "accessibility",
    sharing: Sharing::Shared,
    required: &["id"],
    fields: &[
        f("id", Uuid),
        f("location_id", Uuid),
        f("description", Text),
        f("details", Text),
        f("url", Uri),
        f("accessibility", Text),
        f("attributes", Array(&ATTRIBUTE)),
    ],
    removed: &["metadata"],
    deprecated: &[],
};

static ATTRIBUTE: Spec = Spec {
    object: "attribute",
    sharing: Sharing::Owned,
    required: &["id"],
    fields: &[
        f("id", Uuid),
        f("link_id", Uuid),
        f("taxonomy_term_id", Uuid),
        f("link_type", Text),
        f("taxonomy_term", Object(&TAXONOMY_TERM)),
    ],
    removed: &["link_entity", "value", "metadata"],
    deprecated: &[],
};

static TAXONOMY: Spec = Spec {
    object: "taxonomy",
    sharing: Sharing::Shared,
    required: &["id", "name", "description"],
    fields: &[
        f("id", Uuid),
        f("name", Text),
        f("description", Text),
        f("uri", Uri),
        f("version", Text),
        f("taxonomy_terms", Array(&TAXONOMY_TERM)),
    ],
    removed: &["metadata"],
    deprecated: &[],
};

static TAXONOMY_TERM: Spec = Spec {
    object: "taxonomy_term",
    sharing: Sharing::Shared,
    required: &["id", "name", "description"],
    fields: &[
        f("id", Uuid),
        f("name", Text),
        f("description", Text),
        f("parent_id", Uuid),
        f("taxonomy", Text),
        f("taxonomy_id", Uuid),
        f("term_uri", Uri),
        f("term", Text),
    ],
    removed: &["code", "language", "taxonomy_detail", "metadata"],
    deprecated: &[],
};

static API_DETAILS: Spec = Spec {
    object: "api_details",
    sharing: Sharing::Owned,
    required: &["version"],
    fields: &[f("version", Text), f("profile", Uri), f("openapi_url", Uri)],
    removed: &[],
    deprecated: &[],
};

struct SeenId {
    path: String,
    content: Option<Value>,
}

struct Walker<'c> {
    context: &'c ValidationContext,
    report: Report,
    ids: HashMap<&'static str, HashMap<String, SeenId>>,
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'c> Walker<'c> {
    fn new(context: &'c ValidationContext) -> Self {
        Self {
            context,
            report: Report::default(),
            ids: HashMap::new(),
        }
    }

    fn finish(self) -> Report {
        self.report
    }

    fn push(&mut self, severity: Severity, rule: Rule, path: &str, message: impl Into<String>) {
        self.report.findings.push(Finding {
            severity,
            rule,
            path: path.to_owned(),
            message: message.into(),
        });
    }

    fn object(&mut self, value: &Value, spec: &'static Spec, path: &str) {
        let Some(map) = value.as_object() else {
            self.push(
                Severity::Error,
                Rule::Type,
                path,
                format!(
                    "{} must be an object, found {}",
                    spec.object,
                    type_name(value)
                ),
            );
            return;
        };
        for required in spec.required {
            if !map.contains_key(*required) {
                self.push(
                    Severity::Error,
                    Rule::Required,
                    &format!("{path}.{required}"),
                    format!(
                        "required property `{required}` of {} is missing",
                        spec.object
                    ),
                );
            }
        }
        for (key, field_value) in map {
            let field_path = format!("{path}.{key}");
            match spec.fields.iter().find(|field| field.name == key) {
                Some(field) => {
                    if spec.deprecated.contains(&key.as_str()) {
                        self.push(
                            Severity::Info,
                            Rule::DeprecatedField,
                            &field_path,
                            format!("`{key}` is deprecated"),
                        );
                    }
                    self.field(field_value, field, spec, &field_path);
                }
                None if spec.removed.contains(&key.as_str()) => {
                    if self.context.report_additional_fields {
                        self.push(
                            Severity::Info,
                            Rule::RemovedField,
                            &field_path,
                            format!(
                                "`{key}` is an HSDS 3.0 field that the UK profile removes from {}",
                                spec.object
                            ),
                        );
                    }
                }
                None => {
                    if self.context.report_additional_fields {
                        self.push(
                            Severity::Info,
                            Rule::AdditionalField,
                            &field_path,
                            format!(
                                "field `{key}` is not defined in the schema of {}",
                                spec.object
                            ),
                        );
                    }
                }
            }
        }
        if let Some(Value::String(id)) = map.get("id") {
            self.record_id(spec, id, value, path);
        }
        self.semantics(map, spec, path);
    }

    fn record_id(&mut self, spec: &'static Spec, id: &str, value: &Value, path: &str) {
        let seen = self.ids.entry(spec.object).or_default();
        let content = (spec.sharing == Sharing::Shared).then(|| value.clone());
        match seen.get(id) {
            None => {
                seen.insert(
                    id.to_owned(),
                    SeenId {
                        path: path.to_owned(),
                        content,
                    },
                );
            }
            Some(first) => {
                let conflict = match (&first.content, &content) {
                    (Some(a), Some(b)) => a != b,
                    _ => true,
                };
                if conflict {
                    let message = format!(
                        "{} id `{id}` is also used at {} for a different object",
                        spec.object, first.path
                    );
                    self.push(
                        Severity::Warning,
                        Rule::DuplicateId,
                        &format!("{path}.id"),
                        message,
                    );
                }
            }
        }
    }

    fn field(&mut self, value: &Value, field: &Field, spec: &Spec, path: &str) {
        if value.is_null() {
            let severity = Severity::Error;
            let message = if spec.required.contains(&field.name) {
                format!("required property `{}` is null", field.name)
            } else {
                format!(
                    "`{}` is null: omit optional fields that have no value",
                    field.name
                )
            };
            self.push(severity, Rule::Null, path, message);
            return;
        }
        match field.kind {
            Kind::Object(inner) => self.object(value, inner, path),
            Kind::Array(inner) => match value.as_array() {
                Some(items) => {
                    for (index, item) in items.iter().enumerate() {
                        self.object(item, inner, &format!("{path}[{index}]"));
                    }
                }
                None => self.push(
                    Severity::Error,
                    Rule::Type,
                    path,
                    format!(
                        "`{}` must be an array, found {}",
                        field.name,
                        type_name(value)
                    ),
                ),
            },
            Kind::Number => {
                if !value.is_number() {
                    self.push(
                        Severity::Error,
                        Rule::Type,
                        path,
                        format!(
                            "`{}` must be a number, found {}",
                            field.name,
                            type_name(value)
                        ),
                    );
                }
            }
            _ => {
                let Some(text) = value.as_str() else {
                    self.push(
                        Severity::Error,
                        Rule::Type,
                        path,
                        format!(
                            "`{}` must be a string, found {}",
                            field.name,
                            type_name(value)
                        ),
                    );
                    return;
                };
                self.string_format(text, field, path);
            }
        }
    }

    fn string_format(&mut self, text: &str, field: &Field, path: &str) {
        let name = field.name;
        match field.kind {
            Kind::Uuid if !formats::is_uuid(text) => {
                self.push(
                    Severity::Error,
                    Rule::Format,
                    path,
                    format!("`{name}` must be a UUID, found {text:?}"),
                );
            }
            Kind::Uri if !formats::is_uri(text) => {
                self.push(
                    Severity::Error,
                    Rule::Format,
                    path,
                    format!("`{name}` must be an absolute URI, found {text:?}"),
                );
            }
            Kind::Email if !formats::is_email(text) => {
                self.push(
                    Severity::Error,
                    Rule::Format,
                    path,
                    format!("`{name}` must be an email address, found {text:?}"),
                );
            }
            Kind::DateTime if !formats::is_date_time(text) => {
                self.push(
                    Severity::Error,
                    Rule::Format,
                    path,
                    format!("`{name}` must be an RFC 3339 date-time, found {text:?}"),
                );
            }
            Kind::Enum(known) if !known().contains(&text) => {
                let values = known();
                self.push(
                    Severity::Error,
                    Rule::Enum,
                    path,
                    format!("`{name}` must be one of {values:?}, found {text:?}"),
                );
            }
            Kind::Date if formats::parse_date(text).is_none() => {
                self.push(
                    Severity::Warning,
                    Rule::DateTimeFormat,
                    path,
                    format!("`{name}` should be an ISO 8601 date YYYY-MM-DD, found {text:?}"),
                );
            }
            Kind::Time => match formats::TimeOfDay::parse(text) {
                None => self.push(
                    Severity::Warning,
                    Rule::DateTimeFormat,
                    path,
                    format!("`{name}` should be a time HH:MM, found {text:?}"),
                ),
                Some(time) if !time.has_timezone => self.push(
                    Severity::Info,
                    Rule::DateTimeFormat,
                    path,
                    format!("`{name}` has no timezone (add `Z` or an offset such as `+01:00`)"),
                ),
                Some(_) => {}
            },
            _ => {}
        }
    }

    fn semantics(&mut self, map: &Map<String, Value>, spec: &Spec, path: &str) {
        let number = |key: &str| map.get(key).and_then(Value::as_f64);
        let text = |key: &str| map.get(key).and_then(Value::as_str);
        let date = |key: &str| text(key).and_then(formats::parse_date);
        match spec.object {
            "service" => {
                for key in ["minimum_age", "maximum_age"] {
                    if number(key).is_some_and(|age| age < 0.0) {
                        self.push(
                            Severity::Warning,
                            Rule::AgeRange,
                            &format!("{path}.{key}"),
                            format!("`{key}` is negative"),
                        );
                    }
                }
                if let (Some(min), Some(max)) = (number("minimum_age"), number("maximum_age"))
                    && min > max
                {
                    self.push(
                        Severity::Warning,
                        Rule::AgeRange,
                        &format!("{path}.minimum_age"),
                        format!("minimum_age {min} is above maximum_age {max}"),
                    );
                }
                if let (Some(today), Some(assured)) = (self.context.today, date("assured_date")) {
                    let age = (today - assured).num_days();
                    if age > self.context.stale_after_days {
                        self.push(Severity::Warning, Rule::StaleAssuredDate, &format!("{path}.assured_date"), format!("assured_date {assured} is {age} days old (recommended: checked within {} days)", self.context.stale_after_days));
                    } else if age < 0 {
                        self.push(
                            Severity::Warning,
                            Rule::FutureDate,
                            &format!("{path}.assured_date"),
                            format!("assured_date {assured} is in the future"),
                        );
                    }
                }
                if let (Some(today), Some(modified)) = (self.context.today, text("last_modified"))
                    && let Ok(modified) = chrono::DateTime::parse_from_rfc3339(modified)
                    && modified.date_naive() > today
                {
                    self.push(
                        Severity::Warning,
                        Rule::FutureDate,
                        &format!("{path}.last_modified"),
                        "last_modified is in the future",
                    );
                }
            }
            "schedule" | "cost_option" => {
                if let (Some(from), Some(to)) = (date("valid_from"), date("valid_to"))
                    && from > to
                {
                    self.push(
                        Severity::Warning,
                        Rule::DateRange,
                        &format!("{path}.valid_from"),
                        format!("valid_from {from} is after valid_to {to}"),
                    );
                }
                if spec.object == "cost_option" {
                    if number("amount").is_some_and(|amount| amount < 0.0) {
                        self.push(
                            Severity::Warning,
                            Rule::NegativeAmount,
                            &format!("{path}.amount"),
                            "amount is negative",
                        );
                    }
                } else {
                    self.schedule(map, path);
                }
            }
            "location" => {
                match (map.get("latitude"), map.get("longitude")) {
                    (Some(_), None) | (None, Some(_)) => self.push(
                        Severity::Warning,
                        Rule::Coordinates,
                        path,
                        "only one of latitude and longitude is given",
                    ),
                    _ => {}
                }
                if let Some(latitude) = number("latitude")
                    && !(-90.0..=90.0).contains(&latitude)
                {
                    self.push(
                        Severity::Warning,
                        Rule::Coordinates,
                        &format!("{path}.latitude"),
                        format!("latitude {latitude} is outside -90..90"),
                    );
                }
                if let Some(longitude) = number("longitude")
                    && !(-180.0..=180.0).contains(&longitude)
                {
                    self.push(
                        Severity::Warning,
                        Rule::Coordinates,
                        &format!("{path}.longitude"),
                        format!("longitude {longitude} is outside -180..180"),
                    );
                }
                if number("latitude") == Some(0.0) && number("longitude") == Some(0.0) {
                    self.push(
                        Severity::Warning,
                        Rule::Coordinates,
                        &format!("{path}.latitude"),
                        "coordinates (0, 0) are a placeholder, not a UK location",
                    );
                }
            }
            "address" => {
                let uk = text("country")
                    .is_some_and(|c| matches!(c.to_ascii_uppercase().as_str(), "GB" | "UK"));
                if uk
                    && let Some(postcode) = text("postal_code")
                    && UkPostcode::try_from(postcode).is_err()
                {
                    self.push(
                        Severity::Warning,
                        Rule::Postcode,
                        &format!("{path}.postal_code"),
                        format!("{postcode:?} is not a UK postcode"),
                    );
                }
                if let Some(country) = text("country")
                    && (country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()))
                {
                    self.push(Severity::Warning, Rule::Format, &format!("{path}.country"), format!("country should be an ISO 3166-1 alpha-2 code such as \"GB\", found {country:?}"));
                }
            }
            "attribute"
                if !map.contains_key("taxonomy_term") && !map.contains_key("taxonomy_term_id") =>
            {
                self.push(
                    Severity::Warning,
                    Rule::AttributeWithoutTerm,
                    path,
                    "attribute has neither taxonomy_term nor taxonomy_term_id",
                );
            }
            _ => {}
        }
    }

    fn schedule(&mut self, map: &Map<String, Value>, path: &str) {
        let text = |key: &str| map.get(key).and_then(Value::as_str);
        let weekly = text("freq") == Some("WEEKLY");
        if let Some(byday) = text("byday") {
            match parse_byday(byday) {
                Err(token) => self.push(Severity::Warning, Rule::Schedule, &format!("{path}.byday"), format!("byday token {token:?} is not MO, TU, WE, TH, FR, SA or SU (with an optional ordinal for MONTHLY)")),
                Ok(days) if weekly && days.iter().any(|d| d.ordinal.is_some()) => {
                    self.push(Severity::Warning, Rule::Schedule, &format!("{path}.byday"), "ordinals such as 1SA only make sense with freq MONTHLY");
                }
                Ok(_) => {}
            }
        }
        if let Some(bymonthday) = text("bymonthday") {
            if weekly {
                self.push(
                    Severity::Warning,
                    Rule::Schedule,
                    &format!("{path}.bymonthday"),
                    "bymonthday only makes sense with freq MONTHLY",
                );
            }
            let bad = bymonthday.split(',').map(str::trim).find(|token| {
                !token
                    .parse::<i8>()
                    .is_ok_and(|day| day != 0 && (-31..=31).contains(&day))
            });
            if let Some(token) = bad {
                self.push(
                    Severity::Warning,
                    Rule::Schedule,
                    &format!("{path}.bymonthday"),
                    format!(
                        "bymonthday value {token:?} is not a day of the month (1..31 or -31..-1)"
                    ),
                );
            }
        }
        if let Some(interval) = map.get("interval").and_then(Value::as_f64) {
            if interval < 1.0 || interval.fract() != 0.0 {
                self.push(
                    Severity::Warning,
                    Rule::Schedule,
                    &format!("{path}.interval"),
                    format!("interval {interval} is not a positive whole number"),
                );
            } else if interval > 1.0 && !map.contains_key("dtstart") {
                self.push(
                    Severity::Warning,
                    Rule::Schedule,
                    &format!("{path}.dtstart"),
                    "dtstart is needed when interval is above 1",
                );
            }
        }
        let opens = text("opens_at").and_then(formats::TimeOfDay::parse);
        let closes = text("closes_at").and_then(formats::TimeOfDay::parse);
        if let (Some(opens), Some(closes)) = (opens, closes)
            && opens.time >= closes.time
        {
            self.push(
                Severity::Warning,
                Rule::Schedule,
                &format!("{path}.closes_at"),
                format!(
                    "closes_at {} is not after opens_at {}",
                    closes.time, opens.time
                ),
            );
        }
        if (text("opens_at").is_some() || text("closes_at").is_some())
            && text("byday").is_none()
            && text("bymonthday").is_none()
        {
            self.push(
                Severity::Info,
                Rule::Schedule,
                path,
                "opening times without byday or bymonthday do not say which days they apply to",
            );
        }
    }
}
