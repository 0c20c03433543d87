//! serde types for every ORUK 3.0 object (the HSDS 3.0 UK profile), faithful to the UK-profile
//! JSON Schemas.
//!
//! * Required fields are plain fields; optional ones are `Option`/`Vec` and are **omitted** (never
//!   written as `null` or `[]`) when absent.
//! * Code lists are [`nhs_identifiers::open_enum!`] enums with an `Other(Unknown)` catch-all, so a
//!   newer peer's value survives (readable with `as_str`, never matchable by text).
//! * Every object keeps the properties it does not know in `extra` (HSDS-only fields such as
//!   `phones`, supplier extensions), so a parse → serialise round trip loses nothing.
//! * Numbers are kept as [`serde_json::Number`] so `12` stays `12` (not `12.0`) on the way out.
//!
//! The types accept the HSDS 3.0 superset; UK-profile rules (which fields are removed, which
//! formats apply) are checked by [`crate::validate`], not by deserialisation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

/// Properties an object carries that this model does not name (kept verbatim).
pub type Extra = BTreeMap<String, Value>;

nhs_identifiers::open_enum! {
    /// `service.status`.
    pub enum ServiceStatus {
        /// The service is running.
        Active = "active",
        /// The service is not running at present.
        Inactive = "inactive",
        /// The service has closed for good.
        Defunct = "defunct",
        /// The service is closed for a while.
        TemporarilyClosed = "temporarily closed",
    }
}

nhs_identifiers::open_enum! {
    /// `location.location_type` and `address.address_type`.
    pub enum LocationType {
        /// A place people can visit.
        Physical = "physical",
        /// A postal address.
        Postal = "postal",
        /// An online location.
        Virtual = "virtual",
    }
}

nhs_identifiers::open_enum! {
    /// `schedule.freq` (RFC 5545 subset allowed by ORUK 3.0).
    pub enum Frequency {
        /// Every week (or every `interval` weeks).
        Weekly = "WEEKLY",
        /// Every month (or every `interval` months).
        Monthly = "MONTHLY",
    }
}

/// A service provided by an organization (`service`, fully nested as `GET /services/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Service {
    /// Unique identifier (UUID).
    pub id: String,
    /// Identifier of the organization providing the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// Official or public name.
    pub name: String,
    /// Free text description (may contain HTML or Markdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Website of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Contact email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Current status.
    pub status: ServiceStatus,
    /// DEPRECATED free text about charges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fees: Option<String>,
    /// Free text description of accreditations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accreditations: Option<String>,
    /// Minimum age of eligible people, in years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_age: Option<Number>,
    /// Maximum age of eligible people, in years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_age: Option<Number>,
    /// Date (`YYYY-MM-DD`) the information was last checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assured_date: Option<String>,
    /// Email of whoever last assured the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assurer_email: Option<String>,
    /// Short-term alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    /// RFC 3339 date-time of the last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// When the service is open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<Schedule>,
    /// Where the service is available.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_areas: Vec<ServiceArea>,
    /// Locations the service is delivered at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_at_locations: Vec<ServiceAtLocation>,
    /// Languages the service is delivered in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<Language>,
    /// The organization delivering the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Organization>,
    /// Sources of funding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub funding: Vec<Funding>,
    /// Costs at points in time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cost_options: Vec<CostOption>,
    /// Named contacts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    /// Taxonomy classifications.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Service {
    /// A service with only the required fields.
    pub fn new(id: impl Into<String>, name: impl Into<String>, status: ServiceStatus) -> Self {
        Self {
            id: id.into(),
            organization_id: None,
            name: name.into(),
            description: None,
            url: None,
            email: None,
            status,
            fees: None,
            accreditations: None,
            minimum_age: None,
            maximum_age: None,
            assured_date: None,
            assurer_email: None,
            alert: None,
            last_modified: None,
            schedules: Vec::new(),
            service_areas: Vec::new(),
            service_at_locations: Vec::new(),
            languages: Vec::new(),
            organization: None,
            funding: Vec::new(),
            cost_options: Vec::new(),
            contacts: Vec::new(),
            attributes: Vec::new(),
            extra: Extra::new(),
        }
    }

    /// Parses one service from JSON (the entry point fuzzed by `oruk_service_json`).
    pub fn from_json(json: &[u8]) -> Result<Self, crate::error::OrukError> {
        Ok(serde_json::from_slice(json)?)
    }

    /// Serialises the service to compact JSON (absent values omitted, unknown properties kept).
    pub fn to_json(&self) -> Result<String, crate::error::OrukError> {
        Ok(serde_json::to_string(self)?)
    }

    /// The list-item form used by `GET /services` (`compiled/service_list.json`): the
    /// one-to-one fields and the organization, without child arrays.
    pub fn to_list_item(&self) -> Service {
        let mut item = Service {
            schedules: Vec::new(),
            service_areas: Vec::new(),
            service_at_locations: Vec::new(),
            languages: Vec::new(),
            funding: Vec::new(),
            cost_options: Vec::new(),
            contacts: Vec::new(),
            attributes: Vec::new(),
            extra: self
                .extra
                .iter()
                .filter(|(_, value)| !value.is_array())
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
            ..self.clone()
        };
        if let Some(organization) = item.organization.as_mut() {
            organization.organization_identifiers.clear();
            organization.attributes.clear();
        }
        item
    }

    /// Minimum age as a number of years, if given.
    pub fn minimum_age_years(&self) -> Option<f64> {
        self.minimum_age.as_ref().and_then(Number::as_f64)
    }

    /// Maximum age as a number of years, if given.
    pub fn maximum_age_years(&self) -> Option<f64> {
        self.maximum_age.as_ref().and_then(Number::as_f64)
    }

    /// Every taxonomy term attached to the service through its attributes.
    pub fn taxonomy_terms(&self) -> impl Iterator<Item = &TaxonomyTerm> {
        self.attributes
            .iter()
            .filter_map(|attribute| attribute.taxonomy_term.as_ref())
    }
}

/// An organization delivering services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Organization {
    /// Unique identifier (UUID).
    pub id: String,
    /// Official or public name.
    pub name: String,
    /// Brief summary (may contain HTML or Markdown).
    pub description: String,
    /// Contact email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Website.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// URL of a logo image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    /// Persistent identifier URI (e.g. Open Corporates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Identifier of the parent organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_organization_id: Option<String>,
    /// Third-party identifiers (company number, charity number...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organization_identifiers: Vec<OrganizationIdentifier>,
    /// Taxonomy classifications.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Organization {
    /// An organization with only the required fields.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            description: description.into(),
            email: None,
            website: None,
            logo: None,
            uri: None,
            parent_organization_id: None,
            organization_identifiers: Vec::new(),
            attributes: Vec::new(),
            extra: Extra::new(),
        }
    }
}

/// A third-party identifier of an organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrganizationIdentifier {
    /// Unique identifier (UUID).
    pub id: String,
    /// Identifier of the organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// Scheme per org-id.guide (e.g. `GB-COH`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier_scheme: Option<String>,
    /// Human-readable scheme name.
    pub identifier_type: String,
    /// The identifier value.
    pub identifier: String,
    /// Taxonomy classifications.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A place where services are delivered (physical, postal or virtual).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// Unique identifier (UUID).
    pub id: String,
    /// Physical, postal or virtual.
    pub location_type: LocationType,
    /// Name of the location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// WGS84 latitude in decimal degrees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<Number>,
    /// WGS84 longitude in decimal degrees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<Number>,
    /// Third-party identifier (e.g. UPRN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_identifier: Option<String>,
    /// Scheme of `external_identifier`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_identifier_type: Option<String>,
    /// Addresses of the location.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Address>,
    /// Access arrangements for disabled people.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accessibility: Vec<Accessibility>,
    /// Taxonomy classifications.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Location {
    /// A location with only the required fields.
    pub fn new(id: impl Into<String>, location_type: LocationType) -> Self {
        Self {
            id: id.into(),
            location_type,
            name: None,
            description: None,
            latitude: None,
            longitude: None,
            external_identifier: None,
            external_identifier_type: None,
            addresses: Vec::new(),
            accessibility: Vec::new(),
            attributes: Vec::new(),
            extra: Extra::new(),
        }
    }

    /// The coordinates as `(latitude, longitude)` when both are present and in WGS84 range.
    pub fn coordinates(&self) -> Option<(f64, f64)> {
        let latitude = self.latitude.as_ref()?.as_f64()?;
        let longitude = self.longitude.as_ref()?.as_f64()?;
        ((-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude))
            .then_some((latitude, longitude))
    }
}

/// A postal address of a location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Address {
    /// Unique identifier (UUID).
    pub id: String,
    /// Identifier of the location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    /// "Care of" name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention: Option<String>,
    /// First line(s): building number and street.
    pub address_1: String,
    /// City or town.
    pub city: String,
    /// Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// State, province or county.
    pub state_province: String,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Physical, postal or virtual.
    pub address_type: LocationType,
    /// Taxonomy classifications.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The link between a service and a location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceAtLocation {
    /// Unique identifier (UUID).
    pub id: String,
    /// Identifier of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    /// Identifier of the location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    /// The location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A geographic area where a service is available.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceArea {
    /// Unique identifier (UUID).
    pub id: String,
    /// Identifier of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    /// Free text name of the area.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Definition of the polygon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extent: Option<String>,
    /// Format of `extent` (`geojson`, `topojson`, `kml`, `text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extent_type: Option<String>,
    /// Persistent identifier of the area.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// UK-only free text area.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_area: Option<String>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ServiceArea {
    /// Whether `extent_type` is `geojson` (any case). Its polygons:
    /// [`AreaExtent::of`](crate::search::AreaExtent::of).
    pub fn is_geojson(&self) -> bool {
        self.extent_type
            .as_deref()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("geojson"))
    }
}

/// When a service is open (an RFC 5545 RRULE subset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Schedule {
    /// Unique identifier (UUID).
    pub id: String,
    /// Identifier of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    /// Identifier of the service-at-location this schedule is specific to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_at_location_id: Option<String>,
    /// Date (`YYYY-MM-DD`) from which the schedule data is valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    /// Last date (`YYYY-MM-DD`) on which the schedule data is valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
    /// Date of the first event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtstart: Option<String>,
    /// `WEEKLY` or `MONTHLY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freq: Option<Frequency>,
    /// Repeat every `interval` periods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Number>,
    /// Comma-separated days (`MO,TU`; ordinals such as `1SA` with `MONTHLY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byday: Option<String>,
    /// Comma-separated days of the month (with `MONTHLY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bymonthday: Option<String>,
    /// Free text availability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Opening time (`HH:MM`, optional seconds and timezone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<String>,
    /// Closing time (`HH:MM`, optional seconds and timezone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes_at: Option<String>,
    /// Link to sessions or booking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_link: Option<String>,
    /// How to attend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attending_type: Option<String>,
    /// Free text notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Schedule {
    /// A schedule with only the required id.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            service_id: None,
            service_at_location_id: None,
            valid_from: None,
            valid_to: None,
            dtstart: None,
            freq: None,
            interval: None,
            byday: None,
            bymonthday: None,
            description: None,
            opens_at: None,
            closes_at: None,
            schedule_link: None,
            attending_type: None,
            notes: None,
            extra: Extra::new(),
        }
    }
}

/// The cost of a service at certain points in time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CostOption {
    /// Unique identifier (UUID).
    pub id: String,
    /// Identifier of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    /// Date the price is valid from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    /// Date the price is valid to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
    /// Conditions of this option.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option: Option<String>,
    /// The amount (GBP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Number>,
    /// What the amount covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_description: Option<String>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A named contact of a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Contact {
    /// Unique identifier (UUID).
    pub id: String,
    /// Identifier of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    /// Name of the contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Taxonomy classifications.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A telephone number (defined by ORUK 3.0 but nested by no UK object; HSDS nests it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Phone {
    /// Unique identifier (UUID).
    pub id: String,
    /// Identifier of the contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    /// The phone number.
    pub number: String,
    /// Extra information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Languages spoken on this number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<Language>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A language a service is delivered in (the UK profile keeps only the links; HSDS `name`,
/// `code`, `note` are kept in `extra`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Language {
    /// Unique identifier (UUID).
    pub id: String,
    /// Identifier of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    /// Identifier of the phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_id: Option<String>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A source of funding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Funding {
    /// Unique identifier (UUID).
    pub id: String,
    /// Identifier of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    /// Free text source of funds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Access arrangements at a location for disabled people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Accessibility {
    /// Unique identifier (UUID).
    pub id: String,
    /// Identifier of the location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    /// Free text description of the assistance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Further details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Page with more information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// UK-only free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessibility: Option<String>,
    /// Taxonomy classifications.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Links an entity to a taxonomy term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attribute {
    /// Unique identifier (UUID).
    pub id: String,
    /// Identifier of the linked entity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_id: Option<String>,
    /// Identifier of the taxonomy term.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy_term_id: Option<String>,
    /// What the term describes (open code list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_type: Option<String>,
    /// The taxonomy term.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy_term: Option<TaxonomyTerm>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Attribute {
    /// An attribute carrying a taxonomy term.
    pub fn for_term(id: impl Into<String>, term: TaxonomyTerm) -> Self {
        Self {
            id: id.into(),
            link_id: None,
            taxonomy_term_id: Some(term.id.clone()),
            link_type: None,
            taxonomy_term: Some(term),
            extra: Extra::new(),
        }
    }

    /// The term id, from `taxonomy_term_id` or the nested term.
    pub fn term_id(&self) -> Option<&str> {
        self.taxonomy_term_id
            .as_deref()
            .or_else(|| self.taxonomy_term.as_ref().map(|term| term.id.as_str()))
    }
}

/// A taxonomy from which terms are taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Taxonomy {
    /// Unique identifier (UUID).
    pub id: String,
    /// Name of the taxonomy.
    pub name: String,
    /// Free text description.
    pub description: String,
    /// URI of the taxonomy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Version of the taxonomy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// UK-only: the terms of the taxonomy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taxonomy_terms: Vec<TaxonomyTerm>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Taxonomy {
    /// A taxonomy with only the required fields.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            description: description.into(),
            uri: None,
            version: None,
            taxonomy_terms: Vec::new(),
            extra: Extra::new(),
        }
    }
}

/// A term of a taxonomy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaxonomyTerm {
    /// Unique identifier (UUID).
    pub id: String,
    /// The term itself.
    pub name: String,
    /// Free text description.
    pub description: String,
    /// Parent term in a hierarchical taxonomy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Free text (ideally a URI) naming an established taxonomy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy: Option<String>,
    /// Identifier of the taxonomy containing the term.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy_id: Option<String>,
    /// URI of the term.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_uri: Option<String>,
    /// UK-only: the term itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TaxonomyTerm {
    /// A term with only the required fields.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            description: description.into(),
            parent_id: None,
            taxonomy: None,
            taxonomy_id: None,
            term_uri: None,
            term: None,
            extra: Extra::new(),
        }
    }
}

/// A URL with a label (HSDS 3.1 `url`; not nested by ORUK 3.0, provided for 3.1 feeds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Url {
    /// Unique identifier (UUID).
    pub id: String,
    /// Human-readable label ("Website", "Twitter").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The URL.
    pub url: String,
    /// Identifier of the organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// Identifier of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `GET /` response: which version and profile the API implements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiDetails {
    /// Standard version, e.g. `HSDS-UK-3.0`.
    pub version: String,
    /// URI of the profile documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// URL of the OpenAPI description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openapi_url: Option<String>,
    /// Properties not named above, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Default for ApiDetails {
    fn default() -> Self {
        Self {
            version: "HSDS-UK-3.0".to_owned(),
            profile: Some(
                "https://github.com/OpenReferralUK/uk-profile/blob/main/docs/index.md".to_owned(),
            ),
            openapi_url: Some(
                "https://openreferraluk.org/specifications/3.0/openapi.json".to_owned(),
            ),
            extra: Extra::new(),
        }
    }
}

/// An item of `GET /service_at_locations`: the link, its location and the service (list form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceAtLocationItem {
    /// The service-at-location link with its location.
    #[serde(flatten)]
    pub link: ServiceAtLocation,
    /// The service, in list-item form.
    pub service: Service,
}

/// Converts a finite `f64` to a JSON number (integers stay integers).
pub fn number(value: f64) -> Option<Number> {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        // Exact: the value is integral and within the exactly representable range.
        #[allow(clippy::cast_possible_truncation)]
        let integer = value as i64;
        Some(Number::from(integer))
    } else {
        Number::from_f64(value)
    }
}
