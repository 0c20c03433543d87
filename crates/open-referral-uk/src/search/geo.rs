//! Points, the distance grid and postcode geocoders.

use std::collections::HashMap;

use serde::Serialize;

use crate::error::OrukError;
use crate::formats::UkPostcode;
use crate::model::Service;

/// Mean Earth radius in metres (IUGG).
pub(super) const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// Grid cell size in degrees (about 5.6 km of latitude).
pub(super) const CELL_DEGREES: f64 = 0.05;
/// Above this many grid cells a distance query scans the candidates instead.
pub(super) const MAX_GRID_CELLS: i64 = 40_000;

/// A WGS84 point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct GeoPoint {
    /// Latitude in decimal degrees.
    pub latitude: f64,
    /// Longitude in decimal degrees.
    pub longitude: f64,
}

impl GeoPoint {
    /// A point; `None` when outside the WGS84 range or not finite.
    pub fn new(latitude: f64, longitude: f64) -> Option<Self> {
        ((-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude)).then_some(
            Self {
                latitude,
                longitude,
            },
        )
    }

    /// Great-circle (haversine) distance in metres.
    pub fn distance_metres(&self, other: &GeoPoint) -> f64 {
        let (lat1, lat2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (other.longitude - self.longitude).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    }

    pub(super) fn cell(&self) -> (i32, i32) {
        (grid_cell(self.latitude), grid_cell(self.longitude))
    }
}

/// The grid cell index of a latitude or longitude. The degrees are clamped to ±180 first, so
/// the index lies within ±3,600 (a value outside the WGS84 range lands in an edge cell, never
/// a saturated one).
pub(super) fn grid_cell(degrees: f64) -> i32 {
    let degrees = if degrees.is_nan() {
        0.0
    } else {
        degrees.clamp(-180.0, 180.0)
    };
    // |degrees / CELL_DEGREES| ≤ 3,600: the cast is exact.
    #[allow(clippy::cast_possible_truncation)]
    let cell = (degrees / CELL_DEGREES).floor() as i32;
    cell
}

/// Turns a UK postcode into a point (usually its centroid).
pub trait Geocoder: Send + Sync {
    /// The point of a postcode, if known.
    fn locate(&self, postcode: &UkPostcode) -> Option<GeoPoint>;
}

/// A postcode → point table (a gazetteer such as the ONS Postcode Directory).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PostcodeTable {
    points: HashMap<UkPostcode, GeoPoint>,
}

impl PostcodeTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a postcode.
    pub fn insert(&mut self, postcode: UkPostcode, point: GeoPoint) {
        self.points.insert(postcode, point);
    }

    /// Number of postcodes.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Reads a CSV with a header row naming `postcode` (or `pcds`), `latitude` (or `lat`) and
    /// `longitude` (or `long`/`lon`) columns. Rows with an invalid postcode or point are skipped;
    /// the count of skipped rows is returned beside the table.
    pub fn from_csv_reader(reader: impl std::io::Read) -> Result<(Self, usize), OrukError> {
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let headers = csv
            .headers()
            .map_err(|e| OrukError::Csv(nhs_identifiers::redact::serde_error(&e.to_string())))?
            .clone();
        let column = |names: &[&str]| {
            headers
                .iter()
                .position(|h| names.contains(&h.trim().to_ascii_lowercase().as_str()))
                .ok_or_else(|| {
                    OrukError::Csv(format!("gazetteer needs a column named {}", names[0]))
                })
        };
        let (pc, lat, lon) = (
            column(&["postcode", "pcds", "pcd"])?,
            column(&["latitude", "lat"])?,
            column(&["longitude", "long", "lon", "lng"])?,
        );
        let mut table = Self::new();
        let mut skipped = 0;
        for record in csv.records() {
            let parsed = record.ok().and_then(|record| {
                let postcode = UkPostcode::try_from(record.get(pc)?).ok()?;
                let point = GeoPoint::new(
                    record.get(lat)?.trim().parse().ok()?,
                    record.get(lon)?.trim().parse().ok()?,
                )?;
                Some((postcode, point))
            });
            match parsed {
                Some((postcode, point)) => table.insert(postcode, point),
                None => skipped += 1,
            }
        }
        Ok((table, skipped))
    }
}

impl Geocoder for PostcodeTable {
    fn locate(&self, postcode: &UkPostcode) -> Option<GeoPoint> {
        self.points.get(postcode).copied()
    }
}

/// The default geocoder: postcodes found on the directory's own addresses, located at the
/// average of the coordinates of the locations that carry them.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct DataGeocoder {
    table: PostcodeTable,
}

impl DataGeocoder {
    /// Learns postcodes from services' locations that have both an address and coordinates.
    pub fn from_services<'a>(services: impl IntoIterator<Item = &'a Service>) -> Self {
        let mut sums: HashMap<UkPostcode, (f64, f64, f64)> = HashMap::new();
        for service in services {
            for location in service
                .service_at_locations
                .iter()
                .filter_map(|s| s.location.as_ref())
            {
                let Some((latitude, longitude)) = location.coordinates() else {
                    continue;
                };
                for address in &location.addresses {
                    if let Ok(postcode) = UkPostcode::try_from(address.postal_code.as_str()) {
                        let sum = sums.entry(postcode).or_default();
                        *sum = (sum.0 + latitude, sum.1 + longitude, sum.2 + 1.0);
                    }
                }
            }
        }
        let mut table = PostcodeTable::new();
        for (postcode, (lat, lon, n)) in sums {
            if let Some(point) = GeoPoint::new(lat / n, lon / n) {
                table.insert(postcode, point);
            }
        }
        Self { table }
    }
}

impl Geocoder for DataGeocoder {
    fn locate(&self, postcode: &UkPostcode) -> Option<GeoPoint> {
        self.table.locate(postcode)
    }
}

/// Tries `primary` (e.g. a gazetteer) and then `fallback` (e.g. the directory's data).
#[non_exhaustive]
pub struct FallbackGeocoder<A, B> {
    /// Asked first.
    pub primary: A,
    /// Asked when `primary` does not know the postcode.
    pub fallback: B,
}

impl<A, B> FallbackGeocoder<A, B> {
    /// Chains two geocoders.
    pub fn new(primary: A, fallback: B) -> Self {
        Self { primary, fallback }
    }
}

impl<A: Geocoder, B: Geocoder> Geocoder for FallbackGeocoder<A, B> {
    fn locate(&self, postcode: &UkPostcode) -> Option<GeoPoint> {
        self.primary
            .locate(postcode)
            .or_else(|| self.fallback.locate(postcode))
    }
}
