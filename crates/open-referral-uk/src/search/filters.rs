//! [`SearchQuery`]: the filters of a search, and how a postcode matches a service area.

use chrono::{DateTime, Utc, Weekday};

use super::extent::AreaExtent;
use super::geo::GeoPoint;
use crate::error::OrukError;
use crate::formats::{self, TimeOfDay, UkPostcode};
use crate::model::{Service, ServiceStatus};
use crate::page::PageRequest;

/// Free or paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CostFilter {
    /// No cost option with an amount above zero.
    Free,
    /// At least one cost option with an amount above zero.
    Paid,
}

/// Where distance is measured from.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Origin {
    /// A postcode, located through the directory's [`Geocoder`](super::Geocoder).
    Postcode(UkPostcode),
    /// A point.
    Point(GeoPoint),
}

/// A search: every filter is optional and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SearchQuery {
    /// Full-text search words.
    pub text: Option<String>,
    /// Services with this taxonomy term.
    pub taxonomy_term_id: Option<String>,
    /// Services with any term of this taxonomy.
    pub taxonomy_id: Option<String>,
    /// Lower end of the age range of interest.
    pub minimum_age: Option<f64>,
    /// Upper end of the age range of interest.
    pub maximum_age: Option<f64>,
    /// Open on this day.
    pub day: Option<Weekday>,
    /// A session opening at or after this time.
    pub start_time: Option<TimeOfDay>,
    /// A session closing at or before this time.
    pub end_time: Option<TimeOfDay>,
    /// Free or paid.
    pub cost: Option<CostFilter>,
    /// Point to measure distance from.
    pub origin: Option<Origin>,
    /// Maximum distance in metres from `origin`.
    pub proximity_metres: Option<f64>,
    /// Service statuses to include. `None` (the public default): `active` only; an empty list:
    /// every status. The API takes the `status` parameter only from an authenticated caller.
    pub statuses: Option<Vec<ServiceStatus>>,
    /// Only services whose cheapest cost option is at most this amount (a service without a
    /// priced option costs 0).
    pub maximum_cost: Option<f64>,
    /// Only services whose `last_modified` is at or after this time (HSDS 3.0
    /// `modified_after`; a service without a readable `last_modified` is left out).
    pub modified_after: Option<DateTime<Utc>>,
    /// Which page.
    pub page: PageRequest,
}

impl SearchQuery {
    /// Reads the ORUK 3.0 query parameters (`search`, `page`, `per_page`, `taxonomy_term_id`,
    /// `taxonomy_id`, `minimum_age`, `maximum_age`, `start_time`, `end_time`, `day`,
    /// `postcode`, `proximity`) plus `text` (ORUK 1.0 name of `search`), `latitude` +
    /// `longitude`, `cost` (`free`/`paid`), `maximum_cost` and HSDS 3.0's `modified_after`. Unknown parameters are ignored; a malformed or
    /// out-of-range value is a [`OrukError::BadParameter`] naming the parameter and its
    /// accepted range ([`crate::query`] lists them), never repeating the value.
    pub fn from_params<K: AsRef<str>, V: AsRef<str>>(
        params: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, OrukError> {
        use crate::query::{
            MAX_AGE_YEARS, MAX_ID_CHARS, MAX_PROXIMITY_METRES, MAX_TEXT_CHARS, count_in, number_in,
            text_up_to,
        };
        let mut query = Self::default();
        let (mut page, mut per_page) = (1u32, crate::page::DEFAULT_PER_PAGE);
        let (mut postcode, mut latitude, mut longitude) = (None, None, None);
        for (key, value) in params {
            let (key, raw) = (key.as_ref(), value.as_ref());
            let value = raw.trim();
            let time = |name: &'static str| {
                TimeOfDay::parse(value)
                    .ok_or_else(|| OrukError::bad_parameter(name, "expected a time HH:MM"))
            };
            let age = |name: &'static str| number_in(name, value, 0.0..=MAX_AGE_YEARS, "years");
            match key {
                "search" | "text" => {
                    query.text =
                        Some(text_up_to("search", value, MAX_TEXT_CHARS)?).filter(|t| !t.is_empty())
                }
                "page" => page = count_in("page", value, 1..=u32::MAX)?,
                "per_page" => {
                    per_page = count_in("per_page", value, 1..=crate::page::MAX_PER_PAGE)?
                }
                "taxonomy_term_id" => {
                    query.taxonomy_term_id =
                        Some(text_up_to("taxonomy_term_id", value, MAX_ID_CHARS)?)
                }
                "taxonomy_id" => {
                    query.taxonomy_id = Some(text_up_to("taxonomy_id", value, MAX_ID_CHARS)?)
                }
                "minimum_age" => query.minimum_age = Some(age("minimum_age")?),
                "maximum_age" => query.maximum_age = Some(age("maximum_age")?),
                "start_time" => query.start_time = Some(time("start_time")?),
                "end_time" => query.end_time = Some(time("end_time")?),
                "day" => {
                    query.day = Some(formats::parse_weekday(value).ok_or_else(|| {
                        OrukError::bad_parameter("day", "expected a day such as MO or Monday")
                    })?);
                }
                "postcode" => {
                    postcode =
                        Some(UkPostcode::try_from(value).map_err(|_| {
                            OrukError::bad_parameter("postcode", "not a UK postcode")
                        })?)
                }
                "proximity" => {
                    let metres =
                        number_in("proximity", value, 0.0..=MAX_PROXIMITY_METRES, "metres")?;
                    if metres <= 0.0 {
                        return Err(OrukError::bad_parameter(
                            "proximity",
                            "must be a distance in metres above zero",
                        ));
                    }
                    query.proximity_metres = Some(metres);
                }
                "latitude" | "lat" => {
                    latitude = Some(number_in("latitude", value, -90.0..=90.0, "degrees")?)
                }
                "longitude" | "lng" | "lon" => {
                    longitude = Some(number_in("longitude", value, -180.0..=180.0, "degrees")?)
                }
                "cost" => {
                    query.cost = Some(match value.to_ascii_lowercase().as_str() {
                        "free" => CostFilter::Free,
                        "paid" => CostFilter::Paid,
                        _ => {
                            return Err(OrukError::bad_parameter("cost", "expected free or paid"));
                        }
                    });
                }
                "status" => query.statuses = Some(parse_statuses(value)?),
                "maximum_cost" | "max_cost" => {
                    query.maximum_cost = Some(number_in(
                        "maximum_cost",
                        value,
                        0.0..=MAX_COST,
                        "currency units",
                    )?)
                }
                "modified_after" => query.modified_after = Some(parse_modified_after(value)?),
                _ => {}
            }
        }
        query.page = PageRequest::new(page, per_page)?;
        if let (Some(min), Some(max)) = (query.minimum_age, query.maximum_age)
            && min > max
        {
            return Err(OrukError::bad_parameter(
                "minimum_age",
                "is above maximum_age",
            ));
        }
        query.origin = match (postcode, latitude, longitude) {
            (Some(postcode), _, _) => Some(Origin::Postcode(postcode)),
            (None, Some(lat), Some(lon)) => {
                Some(Origin::Point(GeoPoint::new(lat, lon).ok_or_else(|| {
                    OrukError::bad_parameter(
                        "latitude",
                        "latitude/longitude outside the WGS84 range",
                    )
                })?))
            }
            (None, Some(_), None) => {
                return Err(OrukError::bad_parameter(
                    "longitude",
                    "latitude needs longitude",
                ));
            }
            (None, None, Some(_)) => {
                return Err(OrukError::bad_parameter(
                    "latitude",
                    "longitude needs latitude",
                ));
            }
            (None, None, None) => None,
        };
        if query.proximity_metres.is_some() && query.origin.is_none() {
            return Err(OrukError::bad_parameter(
                "proximity",
                "needs a postcode to measure from",
            ));
        }
        Ok(query)
    }

    /// Reads a raw query string (the part of the URL after `?`, still percent-encoded) with
    /// [`crate::query::decode_query_string`] and then [`SearchQuery::from_params`]. The entry
    /// point of the API handlers and of the `oruk_query` fuzz target.
    pub fn from_query_string(raw: &str) -> Result<Self, OrukError> {
        Self::from_params(crate::query::decode_query_string(raw)?)
    }
}

/// `modified_after`: an RFC 3339 date-time (`2026-11-30T09:00:00Z`, any offset), or a date
/// `YYYY-MM-DD` meaning its first moment in UTC.
fn parse_modified_after(value: &str) -> Result<DateTime<Utc>, OrukError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(at.with_timezone(&Utc));
    }
    formats::parse_date(value)
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|midnight| midnight.and_utc())
        .ok_or_else(|| {
            OrukError::bad_parameter(
                "modified_after",
                "expected an RFC 3339 date-time such as 2026-11-30T09:00:00Z, or a date YYYY-MM-DD",
            )
        })
}

/// Highest accepted `maximum_cost`.
pub const MAX_COST: f64 = 1_000_000.0;

/// `status=active,inactive` (any of `active`, `inactive`, `defunct`, `temporarily closed`) or
/// `status=all` (an empty list: every status).
pub(super) fn parse_statuses(value: &str) -> Result<Vec<ServiceStatus>, OrukError> {
    let mut statuses = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part.eq_ignore_ascii_case("all") {
            return Ok(Vec::new());
        }
        let status = ServiceStatus::from_wire(&part.to_ascii_lowercase());
        if !status.is_known() {
            return Err(OrukError::bad_parameter(
                "status",
                "expected active, inactive, defunct, temporarily closed or all (comma-separated)",
            ));
        }
        statuses.push(status);
    }
    if statuses.is_empty() {
        return Err(OrukError::bad_parameter("status", "is empty"));
    }
    Ok(statuses)
}

/// Whether a service-area token (`BS`, `BS1`, `BS1 5`, `BS1 5TR`, upper case) covers a postcode.
pub(super) fn area_contains(token: &str, postcode: &UkPostcode) -> bool {
    let outward = postcode.outward();
    let inward = postcode.as_str().split(' ').nth(1).unwrap_or("");
    if let Some((out, sector)) = token.split_once(' ') {
        return out == outward && inward.starts_with(sector);
    }
    if token.chars().all(|c| c.is_ascii_alphabetic()) {
        // A postcode area: the letters before the district number.
        let letters: String = outward
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        return letters == token;
    }
    token == outward
}

/// The postcode-shaped tokens of a service's areas (`extent` of type text or none, and the UK
/// `service_area` text), upper case; empty when the service has no usable area data.
pub(super) fn area_tokens(service: &Service) -> Vec<String> {
    let mut tokens = Vec::new();
    for area in &service.service_areas {
        let text_extent = area
            .extent_type
            .as_deref()
            .is_none_or(|t| t.eq_ignore_ascii_case("text"));
        let texts = [
            area.extent.as_deref().filter(|_| text_extent),
            area.service_area.as_deref(),
        ];
        for text in texts.into_iter().flatten() {
            for part in text.split([',', ';', '\n']) {
                let part = part.trim().to_ascii_uppercase();
                if let Ok(postcode) = UkPostcode::try_from(part.as_str()) {
                    tokens.push(postcode.as_str().to_owned());
                } else if is_postcode_prefix(&part) {
                    tokens.push(part.split_whitespace().collect::<Vec<_>>().join(" "));
                }
            }
        }
    }
    tokens
}

/// The polygons of a service's GeoJSON extents (`extent_type` `geojson`, any case) that parse;
/// a malformed extent is left out here and reported by the validator.
pub(super) fn area_shapes(service: &Service) -> Vec<AreaExtent> {
    service
        .service_areas
        .iter()
        .filter_map(|area| super::AreaExtent::of(area)?.ok())
        .collect()
}

/// `BS`, `BS1`, `BS10`, `W1A`, `BS1 5`: a postcode area, district or sector.
pub(super) fn is_postcode_prefix(part: &str) -> bool {
    let mut words = part.split_whitespace();
    let Some(outward) = words.next() else {
        return false;
    };
    let sector_ok = match (words.next(), words.next()) {
        (None, _) => true,
        (Some(sector), None) => sector.len() == 1 && sector.chars().all(|c| c.is_ascii_digit()),
        _ => false,
    };
    let letters = outward
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .count();
    let rest = &outward[letters..];
    sector_ok
        && (1..=2).contains(&letters)
        && rest.len() <= 2
        && rest.chars().next().is_none_or(|c| c.is_ascii_digit())
        && rest.chars().all(|c| c.is_ascii_alphanumeric())
        && (letters == outward.len() || !rest.is_empty())
}
