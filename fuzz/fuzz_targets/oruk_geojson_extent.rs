#![no_main]
// ORUK service-area extents (`extent_type` "geojson"): any text is either polygons or a typed
// error naming a path inside the extent, never a panic; the error text never repeats the
// input; a parsed area answers containment for any point without panicking, and the same
// text parses to the same answer twice. The bounds themselves are unit-tested in
// crates/open-referral-uk/src/search/extent.rs.
use libfuzzer_sys::fuzz_target;
use open_referral_uk::search::{AreaExtent, GeoPoint};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match AreaExtent::parse_geojson(text) {
        Ok(area) => {
            assert!(area.polygon_count() >= 1);
            assert!(area.polygon_count() <= open_referral_uk::search::extent::MAX_POLYGONS);
            // Points derived from the input bytes plus the corners of the WGS84 range.
            let mut points = vec![(0.0, 0.0), (90.0, 180.0), (-90.0, -180.0), (51.45, -2.58)];
            for pair in data.chunks(2).take(16) {
                let lat = f64::from(pair[0]) / 255.0 * 180.0 - 90.0;
                let lon = f64::from(*pair.get(1).unwrap_or(&0)) / 255.0 * 360.0 - 180.0;
                points.push((lat, lon));
            }
            for (lat, lon) in points {
                let point = GeoPoint::new(lat, lon).expect("in range");
                let inside = area.contains(point);
                assert_eq!(inside, area.contains(point));
            }
            assert_eq!(AreaExtent::parse_geojson(text).ok(), Some(area));
        }
        Err(error) => {
            // The path is built only from fixed member names and indexes, and the problem is
            // fixed text: nothing of the input's own strings or numbers is repeated.
            let mut rest = error.path.strip_prefix('$').expect("a path from the root");
            while !rest.is_empty() {
                if let Some(index) = rest.strip_prefix('[') {
                    let end = index.find(']').expect("a closed index");
                    assert!(index[..end].chars().all(|c| c.is_ascii_digit()));
                    rest = &index[end + 1..];
                } else {
                    let member = ["type", "coordinates", "geometry", "geometries", "features"]
                        .into_iter()
                        .find(|name| rest.strip_prefix('.').is_some_and(|r| r.starts_with(name)))
                        .expect("a known member name");
                    rest = &rest[1 + member.len()..];
                }
            }
            assert!(!error.problem.is_empty());
        }
    }
});
