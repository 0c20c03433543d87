//! Bulk import of services from a CSV spreadsheet (the upload councils and PCNs use), with
//! row-level errors: a bad row is reported with its line and column and skipped; every good
//! row is kept.
//!
//! One row is one service. Columns (header names, any order, case-insensitive):
//!
//! | column | meaning |
//! | --- | --- |
//! | `id` (required) | service UUID |
//! | `name` (required) | service name |
//! | `status` | `active` (default when blank), `inactive`, `defunct`, `temporarily closed` |
//! | `description`, `url`, `email`, `fees`, `assured_date` | service fields |
//! | `minimum_age`, `maximum_age` | numbers |
//! | `organization_id`, `organization_name`, `organization_description` | the organization |
//! | `cost_amount`, `cost_option` | one cost option (amount in GBP; `0` = free) |
//! | `location_name`, `address_1`, `city`, `state_province`, `postal_code`, `country`, `latitude`, `longitude` | one physical location (country defaults to `GB`) |
//! | `taxonomy_term_id`, `taxonomy_term_name` | `;`-separated lists of the same length |
//! | `days`, `opens_at`, `closes_at` | one weekly schedule (`MO,WE`, `09:00`, `12:00`) |
//!
//! Other non-empty columns are kept on the service as string properties: one named after a
//! property the ORUK service model types as text (`alert`, `last_modified`) fills it, any
//! other goes to `extra`; a column named after a property that is not text
//! (`organization`, `schedules`) or that other columns fill is a row error. Ids of child
//! objects are derived deterministically from the service id, so re-importing the same sheet
//! gives the same ids. A row error names the line, the column and what was expected, never
//! the cell's content (a sheet of providers holds names, e-mail addresses and phone numbers).
//! [`service_from_row`] maps one row of any spreadsheet (the XLSX onboarding reuses it).

use std::collections::HashSet;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::OrukError;
use crate::formats::{self, UkPostcode};
use crate::model::{
    Address, Attribute, CostOption, Frequency, Location, LocationType, Organization, Schedule,
    Service, ServiceAtLocation, ServiceStatus, TaxonomyTerm, number,
};

/// A problem with one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RowError {
    /// Line of the row in the file (1-based; the header is line 1).
    pub line: u64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(column) => write!(f, "line {}, column {column}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// The outcome of an import: the services from good rows and an error per bad row.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct CsvImport {
    /// Services from rows without errors, in file order.
    pub services: Vec<Service>,
    /// One entry per rejected row (the first problem found in it).
    pub errors: Vec<RowError>,
}

const KNOWN: &[&str] = &[
    "id",
    "name",
    "status",
    "description",
    "url",
    "email",
    "fees",
    "assured_date",
    "minimum_age",
    "maximum_age",
    "organization_id",
    "organization_name",
    "organization_description",
    "cost_amount",
    "cost_option",
    "location_name",
    "address_1",
    "city",
    "state_province",
    "postal_code",
    "country",
    "latitude",
    "longitude",
    "taxonomy_term_id",
    "taxonomy_term_name",
    "days",
    "opens_at",
    "closes_at",
];

/// A deterministic UUID-shaped id (version 8, RFC 9562) for a child object.
pub fn derived_id(parent: &str, kind: &str, index: usize) -> String {
    let digest = Sha256::digest(format!("{parent}/{kind}/{index}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Imports services from CSV bytes. Fails as a whole only when the header row is unreadable or
/// lacks `id` or `name`; everything else is a [`RowError`].
pub fn import_csv(input: &[u8]) -> Result<CsvImport, OrukError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| {
            OrukError::Csv(format!(
                "unreadable header row: {}",
                nhs_identifiers::redact::serde_error(&e.to_string())
            ))
        })?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    for required in ["id", "name"] {
        if !headers.iter().any(|h| h == required) {
            return Err(OrukError::Csv(format!(
                "the header row has no `{required}` column"
            )));
        }
    }
    let mut import = CsvImport::default();
    let mut seen = HashSet::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                let line = error.position().map_or(line, csv::Position::line);
                import.errors.push(RowError {
                    line,
                    column: None,
                    message: format!(
                        "unreadable row: {}",
                        nhs_identifiers::redact::serde_error(&error.to_string())
                    ),
                });
                // An IO/UTF-8 error may leave the reader unable to continue; stop at the first.
                if !matches!(error.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map_or(line, csv::Position::line);
        let row = Row {
            headers: &headers,
            record: &record,
            line,
        };
        match row.service() {
            Ok(service) => {
                if seen.insert(service.id.clone()) {
                    import.services.push(service);
                } else {
                    import.errors.push(
                        row.error("id", "this service id was already used on an earlier row"),
                    );
                }
            }
            Err(error) => import.errors.push(error),
        }
    }
    Ok(import)
}

/// A header cell as the importer matches it: a leading byte-order mark dropped, trimmed,
/// lower case.
pub fn normalise_header(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .trim()
        .to_ascii_lowercase()
}

/// Maps one row (cells in the order of `headers`, which [`normalise_header`] made) to a
/// service; `line` is the row's number in its sheet (1-based, the header row is 1).
pub fn service_from_row(
    headers: &[String],
    record: &csv::StringRecord,
    line: u64,
) -> Result<Service, RowError> {
    Row {
        headers,
        record,
        line,
    }
    .service()
}

struct Row<'a> {
    headers: &'a [String],
    record: &'a csv::StringRecord,
    line: u64,
}

impl Row<'_> {
    fn get(&self, column: &str) -> Option<&str> {
        let index = self.headers.iter().position(|h| h == column)?;
        self.record.get(index).filter(|value| !value.is_empty())
    }

    fn error(&self, column: &str, message: impl Into<String>) -> RowError {
        RowError {
            line: self.line,
            column: Some(column.to_owned()),
            message: message.into(),
        }
    }

    fn number(&self, column: &str) -> Result<Option<serde_json::Number>, RowError> {
        self.get(column)
            .map(|value| {
                value
                    .parse::<f64>()
                    .ok()
                    .and_then(number)
                    .ok_or_else(|| self.error(column, "expected a number"))
            })
            .transpose()
    }

    fn service(&self) -> Result<Service, RowError> {
        let id = self.get("id").ok_or_else(|| self.error("id", "required"))?;
        if !formats::is_uuid(id) {
            return Err(self.error("id", "expected a UUID"));
        }
        let name = self
            .get("name")
            .ok_or_else(|| self.error("name", "required"))?;
        let status = match self.get("status") {
            None => ServiceStatus::Active,
            Some(value) => {
                let status = ServiceStatus::from_wire(&value.to_ascii_lowercase());
                if !status.is_known() {
                    return Err(self.error(
                        "status",
                        format!(
                            "expected one of {:?}",
                            ServiceStatus::KNOWN
                                .iter()
                                .map(ServiceStatus::as_str)
                                .collect::<Vec<_>>()
                        ),
                    ));
                }
                status
            }
        };
        let mut service = Service::new(id, name, status);
        service.description = self.get("description").map(str::to_owned);
        service.fees = self.get("fees").map(str::to_owned);
        if let Some(url) = self.get("url") {
            if !formats::is_uri(url) {
                return Err(self.error("url", "expected an absolute URL such as https://…"));
            }
            service.url = Some(url.to_owned());
        }
        if let Some(email) = self.get("email") {
            if !formats::is_email(email) {
                return Err(self.error("email", "expected an email address"));
            }
            service.email = Some(email.to_owned());
        }
        if let Some(date) = self.get("assured_date") {
            if formats::parse_date(date).is_none() {
                return Err(self.error("assured_date", "expected a date YYYY-MM-DD"));
            }
            service.assured_date = Some(date.to_owned());
        }
        service.minimum_age = self.number("minimum_age")?;
        service.maximum_age = self.number("maximum_age")?;
        if let (Some(min), Some(max)) = (service.minimum_age_years(), service.maximum_age_years())
            && min > max
        {
            return Err(self.error("minimum_age", "minimum_age is above maximum_age"));
        }
        if let Some(organization_name) = self.get("organization_name") {
            let organization_id = match self.get("organization_id") {
                Some(org_id) if formats::is_uuid(org_id) => org_id.to_owned(),
                Some(_) => {
                    return Err(self.error("organization_id", "expected a UUID"));
                }
                None => derived_id(id, "organization", 0),
            };
            let description = self
                .get("organization_description")
                .unwrap_or(organization_name);
            service.organization_id = Some(organization_id.clone());
            service.organization = Some(Organization::new(
                organization_id,
                organization_name,
                description,
            ));
        }
        if let Some(amount) = self.number("cost_amount")? {
            service.cost_options.push(CostOption {
                id: derived_id(id, "cost_option", 0),
                service_id: Some(id.to_owned()),
                valid_from: None,
                valid_to: None,
                option: self.get("cost_option").map(str::to_owned),
                amount: Some(amount),
                amount_description: None,
                extra: Default::default(),
            });
        }
        self.location(&mut service)?;
        self.terms(&mut service)?;
        self.schedule(&mut service)?;
        let others: Vec<(&String, &str)> = self
            .headers
            .iter()
            .enumerate()
            .filter(|(_, header)| !KNOWN.contains(&header.as_str()) && !header.is_empty())
            .filter_map(|(index, header)| {
                Some((header, self.record.get(index).filter(|v| !v.is_empty())?))
            })
            .collect();
        if others.is_empty() {
            return Ok(service);
        }
        self.with_other_columns(service, &others)
    }

    /// Adds the other columns as string properties, read through the service model: a column
    /// named after a property the model types (`alert`, `last_modified`) fills that property,
    /// so the service is what its own JSON reads back as; one the model cannot take as text
    /// (`organization`, `schedules`), or one filled from other columns, is a row error.
    fn with_other_columns(
        &self,
        service: Service,
        others: &[(&String, &str)],
    ) -> Result<Service, RowError> {
        use serde_json::Value;
        let encode_error = || RowError {
            line: self.line,
            column: None,
            message: "the row's service could not be encoded".to_owned(),
        };
        let Ok(Value::Object(mut object)) = serde_json::to_value(&service) else {
            return Err(encode_error());
        };
        for (header, value) in others {
            if object.contains_key(header.as_str()) {
                return Err(self.error(
                    header,
                    "names a service property the import fills from other columns",
                ));
            }
            // The property on its own: does the model take it as text?
            let mut alone = serde_json::Map::new();
            for key in ["id", "name", "status"] {
                if let Some(v) = object.get(key) {
                    alone.insert(key.to_owned(), v.clone());
                }
            }
            alone.insert((*header).clone(), Value::String((*value).to_owned()));
            if serde_json::from_value::<Service>(Value::Object(alone)).is_err() {
                return Err(self.error(
                    header,
                    "names a service property that does not take this text",
                ));
            }
        }
        for (header, value) in others {
            object.insert((*header).clone(), Value::String((*value).to_owned()));
        }
        serde_json::from_value(Value::Object(object)).map_err(|_| encode_error())
    }

    fn location(&self, service: &mut Service) -> Result<(), RowError> {
        let address_fields = ["address_1", "city", "postal_code"];
        let has_address = address_fields.iter().any(|c| self.get(c).is_some());
        let latitude = self.number("latitude")?;
        let longitude = self.number("longitude")?;
        if !has_address
            && latitude.is_none()
            && longitude.is_none()
            && self.get("location_name").is_none()
        {
            return Ok(());
        }
        let id = service.id.clone();
        let mut location = Location::new(derived_id(&id, "location", 0), LocationType::Physical);
        location.name = self.get("location_name").map(str::to_owned);
        match (&latitude, &longitude) {
            (Some(lat), Some(lon)) => {
                let (lat, lon) = (
                    lat.as_f64().unwrap_or(f64::NAN),
                    lon.as_f64().unwrap_or(f64::NAN),
                );
                if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                    return Err(self.error("latitude", "the coordinates are not a WGS84 point"));
                }
            }
            (None, None) => {}
            (Some(_), None) => return Err(self.error("longitude", "latitude needs longitude")),
            (None, Some(_)) => return Err(self.error("latitude", "longitude needs latitude")),
        }
        location.latitude = latitude;
        location.longitude = longitude;
        if has_address {
            for column in address_fields {
                if self.get(column).is_none() {
                    return Err(self.error(column, "required when an address is given"));
                }
            }
            let country = self.get("country").unwrap_or("GB").to_ascii_uppercase();
            let raw_postcode = self.get("postal_code").unwrap_or_default();
            let postal_code = if country == "GB" {
                UkPostcode::try_from(raw_postcode)
                    .map_err(|_| self.error("postal_code", "not a UK postcode"))?
                    .to_string()
            } else {
                raw_postcode.to_owned()
            };
            let city = self.get("city").unwrap_or_default().to_owned();
            location.addresses.push(Address {
                id: derived_id(&id, "address", 0),
                location_id: Some(location.id.clone()),
                attention: None,
                address_1: self.get("address_1").unwrap_or_default().to_owned(),
                state_province: self
                    .get("state_province")
                    .map_or_else(|| city.clone(), str::to_owned),
                city,
                region: None,
                postal_code,
                country,
                address_type: LocationType::Physical,
                attributes: Vec::new(),
                extra: Default::default(),
            });
        }
        service.service_at_locations.push(ServiceAtLocation {
            id: derived_id(&id, "service_at_location", 0),
            service_id: Some(id.clone()),
            location_id: Some(location.id.clone()),
            location: Some(location),
            extra: Default::default(),
        });
        Ok(())
    }

    fn terms(&self, service: &mut Service) -> Result<(), RowError> {
        let Some(ids) = self.get("taxonomy_term_id") else {
            if self.get("taxonomy_term_name").is_some() {
                return Err(self.error(
                    "taxonomy_term_id",
                    "taxonomy_term_name needs taxonomy_term_id",
                ));
            }
            return Ok(());
        };
        let ids: Vec<&str> = ids.split(';').map(str::trim).collect();
        let names: Vec<&str> = self
            .get("taxonomy_term_name")
            .map(|n| n.split(';').map(str::trim).collect())
            .unwrap_or_default();
        if !names.is_empty() && names.len() != ids.len() {
            return Err(self.error(
                "taxonomy_term_name",
                format!("{} names for {} term ids", names.len(), ids.len()),
            ));
        }
        for (index, term_id) in ids.iter().enumerate() {
            if !formats::is_uuid(term_id) {
                return Err(self.error("taxonomy_term_id", "expected UUIDs separated by `;`"));
            }
            let name = names
                .get(index)
                .copied()
                .filter(|n| !n.is_empty())
                .unwrap_or(term_id);
            let term = TaxonomyTerm::new(*term_id, name, name);
            let mut attribute =
                Attribute::for_term(derived_id(&service.id, "attribute", index), term);
            attribute.link_id = Some(service.id.clone());
            attribute.link_type = Some("service".to_owned());
            service.attributes.push(attribute);
        }
        Ok(())
    }

    fn schedule(&self, service: &mut Service) -> Result<(), RowError> {
        let days = self.get("days");
        let opens = self.get("opens_at");
        let closes = self.get("closes_at");
        if days.is_none() && opens.is_none() && closes.is_none() {
            return Ok(());
        }
        let mut schedule = Schedule::new(derived_id(&service.id, "schedule", 0));
        schedule.service_id = Some(service.id.clone());
        if let Some(days) = days {
            let normalised: Vec<String> = days
                .split([',', ';', ' '])
                .filter(|d| !d.is_empty())
                .map(|d| {
                    formats::parse_weekday(d)
                        .map(|day| day.to_string()[..2].to_ascii_uppercase())
                        .ok_or_else(|| self.error("days", "expected days such as MO,WE"))
                })
                .collect::<Result<_, _>>()?;
            schedule.freq = Some(Frequency::Weekly);
            schedule.byday = Some(normalised.join(","));
        }
        for (column, value, slot) in [
            ("opens_at", opens, &mut schedule.opens_at),
            ("closes_at", closes, &mut schedule.closes_at),
        ] {
            if let Some(value) = value {
                if formats::TimeOfDay::parse(value).is_none() {
                    return Err(self.error(column, "expected a time HH:MM"));
                }
                *slot = Some(value.to_owned());
            }
        }
        if let (Some(o), Some(c)) = (
            schedule
                .opens_at
                .as_deref()
                .and_then(formats::TimeOfDay::parse),
            schedule
                .closes_at
                .as_deref()
                .and_then(formats::TimeOfDay::parse),
        ) && o.time >= c.time
        {
            return Err(self.error("closes_at", "closes_at must be after opens_at"));
        }
        service.schedules.push(schedule);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "id,name,status,email,postal_code,address_1,city,latitude,longitude,taxonomy_term_id,taxonomy_term_name,days,opens_at,closes_at,cost_amount,volunteer_lead\n";

    #[test]
    fn good_rows_are_kept_and_bad_rows_reported() {
        let csv = format!(
            "{HEADER}\
             1b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e01,Riverside Walking Group,,walk@example.org,BS1 5TR,1 Quay St,Bristol,51.4545,-2.5879,5e3b0c1a-8d4e-4f6a-9b2c-1d2e3f4a5b60,Physical activity,\"MO,WE\",10:00,11:30,0,Pat\n\
             not-a-uuid,Broken,,,,,,,,,,,,,,\n\
             2b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e02,Debt advice,active,advice@example,,,,,,,,,,,,\n\
             3b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e03,Carers' café,active,,ABC 1234,2 High St,Bath,,,,,,,,,\n\
             4b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e04,Art club,active,,,,,,,,,Funday,,,,\n\
             1b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e01,Duplicate,,,,,,,,,,,,,,\n\
             5b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e05,Singing for the brain,temporarily closed,,,,,,,,,,,,5,\n"
        );
        let import = import_csv(csv.as_bytes()).unwrap();
        let names: Vec<&str> = import.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Riverside Walking Group", "Singing for the brain"]);
        let errors: Vec<String> = import.errors.iter().map(ToString::to_string).collect();
        insta::assert_debug_snapshot!(errors);
        let walk = &import.services[0];
        assert_eq!(walk.extra["volunteer_lead"], "Pat");
        assert_eq!(walk.schedules[0].byday.as_deref(), Some("MO,WE"));
        assert_eq!(
            walk.service_at_locations[0]
                .location
                .as_ref()
                .unwrap()
                .coordinates(),
            Some((51.4545, -2.5879))
        );
        // Deterministic child ids.
        let again = import_csv(csv.as_bytes()).unwrap();
        assert_eq!(again.services, import.services);
    }

    #[test]
    fn header_problems_fail_the_whole_import() {
        assert!(import_csv(b"name\nx\n").is_err());
        assert!(import_csv(b"").is_err());
    }

    #[test]
    fn derived_ids_are_uuids() {
        let id = derived_id("a", "b", 1);
        assert!(formats::is_uuid(&id), "{id}");
        assert_ne!(id, derived_id("a", "b", 2));
    }
}
