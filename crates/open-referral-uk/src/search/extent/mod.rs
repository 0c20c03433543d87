//! Service-area polygons: the ORUK 3.0 `service_area.extent` when its `extent_type` is
//! `geojson`, parsed with bounds, and point-in-polygon by ray casting.
//!
//! Accepted GeoJSON (RFC 7946): a `Polygon` or `MultiPolygon` geometry, or a `Feature`,
//! `FeatureCollection` or `GeometryCollection` whose geometries are polygons; other geometry
//! types (points, lines) describe no area and are refused. Bounds, each a typed
//! [`ExtentError`] naming where in the extent it failed (never the data):
//!
//! * the text is at most [`MAX_EXTENT_BYTES`] bytes, holds at most [`MAX_POSITIONS`]
//!   positions in at most [`MAX_POLYGONS`] polygons, and nests no deeper than the shapes
//!   above (a `GeometryCollection` inside a `Feature` is the deepest);
//! * every position is two or three finite numbers, longitude within ±180 and latitude
//!   within ±90 (WGS84, longitude first as GeoJSON orders them);
//! * every ring has at least four positions and is closed (its last position equals its
//!   first); a polygon has an outer ring and any number of holes.
//!
//! Containment treats longitude and latitude as plane coordinates (a service area is small
//! beside the Earth; rings crossing the antimeridian are not unwrapped). A point inside a
//! hole is outside the polygon. A point exactly on an edge may fall either side, the same
//! way for the same data.
//!
//! Why no geometry crate: the whole need is ring parsing and an even-odd ray cast (a few
//! dozen lines); `geo` + `geojson` would bring a large dependency tree and still need the
//! bounds checks above.

use serde_json::Value;
use thiserror::Error;

use super::geo::GeoPoint;
use crate::model::ServiceArea;

/// Largest accepted extent text in bytes (1 MiB: a council boundary simplified for the web is
/// tens of kilobytes; a full-resolution one should be simplified before publishing).
pub const MAX_EXTENT_BYTES: usize = 1 << 20;
/// Most positions (coordinate pairs) in one extent.
pub const MAX_POSITIONS: usize = 50_000;
/// Most polygons in one extent.
pub const MAX_POLYGONS: usize = 1_000;

/// Why an extent is not a usable GeoJSON area.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{path}: {problem}")]
#[non_exhaustive]
pub struct ExtentError {
    /// Where inside the extent, as a JSON path from its root `$` (`$.coordinates[0][3]`).
    pub path: String,
    /// What is wrong (fixed text; never repeats the extent's values).
    pub problem: &'static str,
}

impl ExtentError {
    fn at(path: &str, problem: &'static str) -> Self {
        Self {
            path: path.to_owned(),
            problem,
        }
    }
}

/// A closed ring of (longitude, latitude) positions with its bounding box.
#[derive(Debug, Clone, PartialEq)]
struct Ring {
    points: Vec<(f64, f64)>,
    /// (min longitude, min latitude, max longitude, max latitude).
    bounds: (f64, f64, f64, f64),
}

impl Ring {
    fn new(points: Vec<(f64, f64)>) -> Self {
        let mut bounds = (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        );
        for &(x, y) in &points {
            bounds = (
                bounds.0.min(x),
                bounds.1.min(y),
                bounds.2.max(x),
                bounds.3.max(y),
            );
        }
        Self { points, bounds }
    }

    fn may_contain(&self, x: f64, y: f64) -> bool {
        x >= self.bounds.0 && y >= self.bounds.1 && x <= self.bounds.2 && y <= self.bounds.3
    }

    /// Even-odd ray cast towards +x: the point is inside when the ray crosses an odd number
    /// of edges. An edge counts when it straddles the ray's line (one end strictly above, one
    /// at or below), so a vertex on the line is counted once.
    fn contains(&self, x: f64, y: f64) -> bool {
        if !self.may_contain(x, y) {
            return false;
        }
        let mut inside = false;
        for edge in self.points.windows(2) {
            let ((x1, y1), (x2, y2)) = (edge[0], edge[1]);
            if (y1 > y) != (y2 > y) {
                // y1 != y2 here, so the division is defined.
                let crossing = x1 + (y - y1) * (x2 - x1) / (y2 - y1);
                if x < crossing {
                    inside = !inside;
                }
            }
        }
        inside
    }
}

/// One polygon: an outer ring and its holes.
#[derive(Debug, Clone, PartialEq)]
struct Polygon {
    outer: Ring,
    holes: Vec<Ring>,
}

impl Polygon {
    fn contains(&self, x: f64, y: f64) -> bool {
        self.outer.contains(x, y) && !self.holes.iter().any(|hole| hole.contains(x, y))
    }
}

/// A service area's polygons, parsed from a GeoJSON extent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AreaExtent {
    polygons: Vec<Polygon>,
}

impl AreaExtent {
    /// A service area's GeoJSON extent as polygons: `None` when the area has no GeoJSON
    /// `extent` ([`ServiceArea::is_geojson`]), an [`ExtentError`] (with its path inside the
    /// extent) when it does not parse within this module's bounds.
    pub fn of(area: &ServiceArea) -> Option<Result<Self, ExtentError>> {
        let extent = area.extent.as_deref().filter(|_| area.is_geojson())?;
        Some(Self::parse_geojson(extent))
    }
    /// Parses a GeoJSON extent within the bounds of this module; never panics.
    pub fn parse_geojson(text: &str) -> Result<Self, ExtentError> {
        if text.len() > MAX_EXTENT_BYTES {
            return Err(ExtentError::at(
                "$",
                "the extent is larger than 1 MiB (simplify the boundary)",
            ));
        }
        // serde_json refuses nesting deeper than 128 levels, so a hostile text cannot
        // exhaust the stack here; the walk below is bounded by the accepted shapes.
        let value: Value = serde_json::from_str(text)
            .map_err(|_| ExtentError::at("$", "the extent is not JSON"))?;
        let mut parser = Parser::default();
        parser.object(&value, "$", Level::Top)?;
        if parser.polygons.is_empty() {
            return Err(ExtentError::at("$", "the extent holds no polygon"));
        }
        Ok(Self {
            polygons: parser.polygons,
        })
    }

    /// Whether the point lies inside some polygon (and outside its holes).
    pub fn contains(&self, point: GeoPoint) -> bool {
        let (x, y) = (point.longitude, point.latitude);
        self.polygons.iter().any(|polygon| polygon.contains(x, y))
    }

    /// Number of polygons.
    pub fn polygon_count(&self) -> usize {
        self.polygons.len()
    }
}

/// Where an object sits, which bounds what it may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// The extent itself: any accepted type.
    Top,
    /// A feature of a collection: a `Feature` only.
    CollectionMember,
    /// A feature's geometry: a polygon, multipolygon or geometry collection.
    FeatureGeometry,
    /// A member of a geometry collection: a polygon or multipolygon only.
    GeometryMember,
}

#[derive(Default)]
struct Parser {
    polygons: Vec<Polygon>,
    positions: usize,
}

fn member<'a>(value: &'a Value, key: &str, path: &str) -> Result<&'a Value, ExtentError> {
    value.get(key).ok_or_else(|| {
        ExtentError::at(
            path,
            match key {
                "type" => "a GeoJSON object needs a `type`",
                "coordinates" => "a geometry needs `coordinates`",
                "geometry" => "a Feature needs a `geometry`",
                "features" => "a FeatureCollection needs `features`",
                _ => "a GeometryCollection needs `geometries`",
            },
        )
    })
}

fn array<'a>(value: &'a Value, path: &str) -> Result<&'a Vec<Value>, ExtentError> {
    value
        .as_array()
        .ok_or_else(|| ExtentError::at(path, "expected an array"))
}

impl Parser {
    fn object(&mut self, value: &Value, path: &str, level: Level) -> Result<(), ExtentError> {
        if !value.is_object() {
            return Err(ExtentError::at(path, "expected a GeoJSON object"));
        }
        let kind = member(value, "type", path)?
            .as_str()
            .ok_or_else(|| ExtentError::at(&format!("{path}.type"), "expected a string"))?;
        let allowed = match kind {
            "Polygon" | "MultiPolygon" => level != Level::CollectionMember,
            "GeometryCollection" => matches!(level, Level::Top | Level::FeatureGeometry),
            "Feature" => matches!(level, Level::Top | Level::CollectionMember),
            "FeatureCollection" => level == Level::Top,
            "Point" | "MultiPoint" | "LineString" | "MultiLineString" => {
                return Err(ExtentError::at(
                    &format!("{path}.type"),
                    "a service area needs a Polygon or MultiPolygon (points and lines cover no area)",
                ));
            }
            _ => {
                return Err(ExtentError::at(
                    &format!("{path}.type"),
                    "not a GeoJSON type",
                ));
            }
        };
        if !allowed {
            return Err(ExtentError::at(
                &format!("{path}.type"),
                "this GeoJSON type is not accepted at this depth",
            ));
        }
        match kind {
            "Polygon" => {
                let coordinates_path = format!("{path}.coordinates");
                self.polygon(member(value, "coordinates", path)?, &coordinates_path)
            }
            "MultiPolygon" => {
                let coordinates_path = format!("{path}.coordinates");
                let polygons = array(member(value, "coordinates", path)?, &coordinates_path)?;
                for (index, polygon) in polygons.iter().enumerate() {
                    self.polygon(polygon, &format!("{coordinates_path}[{index}]"))?;
                }
                Ok(())
            }
            "GeometryCollection" => {
                let members_path = format!("{path}.geometries");
                let members = array(member(value, "geometries", path)?, &members_path)?;
                for (index, geometry) in members.iter().enumerate() {
                    self.object(
                        geometry,
                        &format!("{members_path}[{index}]"),
                        Level::GeometryMember,
                    )?;
                }
                Ok(())
            }
            "Feature" => self.object(
                member(value, "geometry", path)?,
                &format!("{path}.geometry"),
                Level::FeatureGeometry,
            ),
            _ => {
                let members_path = format!("{path}.features");
                let members = array(member(value, "features", path)?, &members_path)?;
                for (index, feature) in members.iter().enumerate() {
                    self.object(
                        feature,
                        &format!("{members_path}[{index}]"),
                        Level::CollectionMember,
                    )?;
                }
                Ok(())
            }
        }
    }

    fn polygon(&mut self, value: &Value, path: &str) -> Result<(), ExtentError> {
        if self.polygons.len() >= MAX_POLYGONS {
            return Err(ExtentError::at(path, "more than 1,000 polygons"));
        }
        let rings = array(value, path)?;
        let Some((outer, holes)) = rings.split_first() else {
            return Err(ExtentError::at(path, "a polygon needs an outer ring"));
        };
        let outer = self.ring(outer, &format!("{path}[0]"))?;
        let holes = holes
            .iter()
            .enumerate()
            .map(|(index, hole)| self.ring(hole, &format!("{path}[{}]", index + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        self.polygons.push(Polygon { outer, holes });
        Ok(())
    }

    fn ring(&mut self, value: &Value, path: &str) -> Result<Ring, ExtentError> {
        let positions = array(value, path)?;
        if positions.len() < 4 {
            return Err(ExtentError::at(
                path,
                "a ring needs at least four positions (the first repeated last)",
            ));
        }
        self.positions = self.positions.saturating_add(positions.len());
        if self.positions > MAX_POSITIONS {
            return Err(ExtentError::at(path, "more than 50,000 positions"));
        }
        let mut points = Vec::with_capacity(positions.len());
        for (index, position) in positions.iter().enumerate() {
            points.push(self.position(position, &format!("{path}[{index}]"))?);
        }
        if points.first() != points.last() {
            return Err(ExtentError::at(
                path,
                "the ring is not closed (its last position must equal its first)",
            ));
        }
        Ok(Ring::new(points))
    }

    fn position(&mut self, value: &Value, path: &str) -> Result<(f64, f64), ExtentError> {
        let numbers = array(value, path)?;
        if !(2..=3).contains(&numbers.len()) {
            return Err(ExtentError::at(
                path,
                "a position is [longitude, latitude] with an optional altitude",
            ));
        }
        let mut parsed = [0.0; 3];
        for (slot, number) in parsed.iter_mut().zip(numbers) {
            *slot = number
                .as_f64()
                .filter(|n| n.is_finite())
                .ok_or_else(|| ExtentError::at(path, "a position holds finite numbers only"))?;
        }
        let (longitude, latitude) = (parsed[0], parsed[1]);
        if !(-180.0..=180.0).contains(&longitude) {
            return Err(ExtentError::at(path, "longitude is outside -180..180"));
        }
        if !(-90.0..=90.0).contains(&latitude) {
            return Err(ExtentError::at(path, "latitude is outside -90..90"));
        }
        Ok((longitude, latitude))
    }
}

#[cfg(test)]
mod tests;
