//! The UK-profile table: each object's required, known, removed and deprecated fields and the
//! kind of each field.

use crate::model::{Frequency, LocationType, ServiceStatus};

#[derive(Clone, Copy)]
pub(super) enum Kind {
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

pub(super) struct Field {
    pub(super) name: &'static str,
    pub(super) kind: Kind,
}

/// Whether objects of a type are shared between services (same id, same content is fine).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Sharing {
    Owned,
    Shared,
}

pub(super) struct Spec {
    pub(super) object: &'static str,
    pub(super) sharing: Sharing,
    pub(super) required: &'static [&'static str],
    pub(super) fields: &'static [Field],
    pub(super) removed: &'static [&'static str],
    pub(super) deprecated: &'static [&'static str],
}

const fn f(name: &'static str, kind: Kind) -> Field {
    Field { name, kind }
}

use Kind::{Array, Date, DateTime, Email, Number, Object, Text, Time, Uri, Uuid};

pub(super) static SERVICE: Spec = Spec {
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

pub(super) static ORGANIZATION: Spec = Spec {
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

pub(super) static ORGANIZATION_IDENTIFIER: Spec = Spec {
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

pub(super) static LOCATION: Spec = Spec {
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

pub(super) static ADDRESS: Spec = Spec {
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

pub(super) static SERVICE_AT_LOCATION: Spec = Spec {
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

pub(super) static SERVICE_AT_LOCATION_ITEM: Spec = Spec {
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

pub(super) static SERVICE_AREA: Spec = Spec {
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

pub(super) static SCHEDULE: Spec = Spec {
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

pub(super) static COST_OPTION: Spec = Spec {
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

pub(super) static CONTACT: Spec = Spec {
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

pub(super) static LANGUAGE: Spec = Spec {
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

pub(super) static FUNDING: Spec = Spec {
    object: "funding",
    sharing: Sharing::Owned,
    required: &["id"],
    fields: &[f("id", Uuid), f("service_id", Uuid), f("source", Text)],
    removed: &["organization_id", "attributes", "metadata"],
    deprecated: &[],
};

pub(super) static ACCESSIBILITY: Spec = Spec {
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

pub(super) static ATTRIBUTE: Spec = Spec {
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

pub(super) static TAXONOMY: Spec = Spec {
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

pub(super) static TAXONOMY_TERM: Spec = Spec {
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

pub(super) static API_DETAILS: Spec = Spec {
    object: "api_details",
    sharing: Sharing::Owned,
    required: &["version"],
    fields: &[f("version", Text), f("profile", Uri), f("openapi_url", Uri)],
    removed: &[],
    deprecated: &[],
};
