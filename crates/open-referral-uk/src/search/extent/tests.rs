//! Parsing bounds, containment and error paths of GeoJSON extents.

use super::*;

fn point(lat: f64, lon: f64) -> GeoPoint {
    GeoPoint::new(lat, lon).unwrap()
}

const SQUARE_WITH_HOLE: &str = r#"{"type":"Polygon","coordinates":[
    [[-3,51],[-2,51],[-2,52],[-3,52],[-3,51]],
    [[-2.6,51.4],[-2.4,51.4],[-2.4,51.6],[-2.6,51.6],[-2.6,51.4]]]}"#;

#[test]
fn polygon_with_a_hole() {
    let area = AreaExtent::parse_geojson(SQUARE_WITH_HOLE).unwrap();
    assert!(area.contains(point(51.2, -2.8)));
    assert!(!area.contains(point(51.5, -2.5)), "inside the hole");
    assert!(!area.contains(point(53.0, -2.5)), "north of the square");
    assert!(!area.contains(point(51.5, -1.0)), "east of the square");
    assert_eq!(area.polygon_count(), 1);
}

#[test]
fn concave_multipolygon_feature_collection() {
    // An L shape and a separate square, as a FeatureCollection of a Feature each.
    let text = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","properties":{"name":"L"},"geometry":{"type":"Polygon","coordinates":[
        [[0,0],[2,0],[2,1],[1,1],[1,2],[0,2],[0,0]]]}},
      {"type":"Feature","properties":null,"geometry":{"type":"MultiPolygon","coordinates":[
        [[[10,10],[11,10],[11,11],[10,11],[10,10]]]]}}]}"#;
    let area = AreaExtent::parse_geojson(text).unwrap();
    assert_eq!(area.polygon_count(), 2);
    assert!(area.contains(point(0.5, 0.5)));
    assert!(area.contains(point(1.5, 0.5)));
    assert!(!area.contains(point(1.5, 1.5)), "the L's notch");
    assert!(area.contains(point(10.5, 10.5)));
    assert!(!area.contains(point(5.0, 5.0)));
}

#[test]
fn bad_extents_are_typed_errors_with_paths() {
    let cases: &[(&str, &str, &str)] = &[
        ("not json", "$", "the extent is not JSON"),
        ("[]", "$", "expected a GeoJSON object"),
        (
            r#"{"type":"Polygon"}"#,
            "$",
            "a geometry needs `coordinates`",
        ),
        (r#"{"type":"Circle"}"#, "$.type", "not a GeoJSON type"),
        (
            r#"{"type":"Point","coordinates":[0,0]}"#,
            "$.type",
            "a service area needs a Polygon or MultiPolygon (points and lines cover no area)",
        ),
        (
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}"#,
            "$.coordinates[0]",
            "the ring is not closed (its last position must equal its first)",
        ),
        (
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}"#,
            "$.coordinates[0]",
            "a ring needs at least four positions (the first repeated last)",
        ),
        (
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,"x"],[0,0]]]}"#,
            "$.coordinates[0][2]",
            "a position holds finite numbers only",
        ),
        (
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,95],[0,0]]]}"#,
            "$.coordinates[0][2]",
            "latitude is outside -90..90",
        ),
        (
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,0,0,0],[1,1],[0,0]]]}"#,
            "$.coordinates[0][1]",
            "a position is [longitude, latitude] with an optional altitude",
        ),
        (
            r#"{"type":"Polygon","coordinates":[]}"#,
            "$.coordinates",
            "a polygon needs an outer ring",
        ),
        (
            r#"{"type":"MultiPolygon","coordinates":[]}"#,
            "$",
            "the extent holds no polygon",
        ),
        (
            r#"{"type":"FeatureCollection","features":[{"type":"FeatureCollection","features":[]}]}"#,
            "$.features[0].type",
            "this GeoJSON type is not accepted at this depth",
        ),
        (
            r#"{"type":"GeometryCollection","geometries":[{"type":"GeometryCollection","geometries":[]}]}"#,
            "$.geometries[0].type",
            "this GeoJSON type is not accepted at this depth",
        ),
        (
            r#"{"type":"Feature","geometry":null}"#,
            "$.geometry",
            "expected a GeoJSON object",
        ),
    ];
    // Nesting deeper than serde_json's recursion limit is refused as JSON, not a crash.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(
        AreaExtent::parse_geojson(&deep).unwrap_err().problem,
        "the extent is not JSON"
    );
    for (text, path, problem) in cases {
        let error = AreaExtent::parse_geojson(text).unwrap_err();
        assert_eq!(
            (error.path.as_str(), error.problem),
            (*path, *problem),
            "{text}"
        );
    }
    // 1e400 is not a finite f64: serde_json refuses it as JSON.
    assert!(
        AreaExtent::parse_geojson(r#"{"type":"Polygon","coordinates":[[[1e400,0]]]}"#).is_err()
    );
}

#[test]
fn bounds_are_enforced() {
    let big = format!(
        "{{\"type\":\"Polygon\",\"x\":\"{}\"}}",
        "a".repeat(MAX_EXTENT_BYTES)
    );
    assert_eq!(
        AreaExtent::parse_geojson(&big).unwrap_err().problem,
        "the extent is larger than 1 MiB (simplify the boundary)"
    );
    // One ring of MAX_POSITIONS + 1 positions (a closed many-sided shape), under 1 MiB.
    let mut ring: Vec<String> = (0..MAX_POSITIONS)
        .map(|i| format!("[{},0]", i % 10))
        .collect();
    ring.push("[0,0]".into());
    let text = format!(
        "{{\"type\":\"Polygon\",\"coordinates\":[[{}]]}}",
        ring.join(",")
    );
    assert!(text.len() < MAX_EXTENT_BYTES);
    assert_eq!(
        AreaExtent::parse_geojson(&text).unwrap_err().problem,
        "more than 50,000 positions"
    );
    let square = "[[[0,0],[1,0],[1,1],[0,0]]]";
    let many = vec![square; MAX_POLYGONS + 1].join(",");
    let text = format!("{{\"type\":\"MultiPolygon\",\"coordinates\":[{many}]}}");
    let error = AreaExtent::parse_geojson(&text).unwrap_err();
    assert_eq!(error.problem, "more than 1,000 polygons");
    assert_eq!(error.path, "$.coordinates[1000]");
}

#[test]
fn error_text_never_repeats_the_extent() {
    let text = r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,"SECRET"],[0,0]]]}"#;
    let error = AreaExtent::parse_geojson(text).unwrap_err().to_string();
    assert!(!error.contains("SECRET"), "{error}");
}

mod properties {
    use proptest::prelude::*;

    use super::super::*;

    fn ring(w: f64, s: f64, e: f64, n: f64) -> String {
        format!("[[{w},{s}],[{e},{s}],[{e},{n}],[{w},{n}],[{w},{s}]]")
    }

    proptest! {
        #[test]
        fn any_text_is_polygons_or_an_error_with_a_path(text in ".{0,300}") {
            if let Err(error) = AreaExtent::parse_geojson(&text) {
                prop_assert!(error.path.starts_with('$'));
            }
        }

        #[test]
        fn any_positions_are_polygons_or_an_error(
            positions in proptest::collection::vec(
                (any::<f64>(), any::<f64>(), proptest::option::of(any::<f64>())),
                0..8,
            ),
            close in any::<bool>(),
        ) {
            let mut items: Vec<String> = positions
                .iter()
                .map(|(x, y, z)| match z {
                    Some(z) => format!("[{x:?},{y:?},{z:?}]"),
                    None => format!("[{x:?},{y:?}]"),
                })
                .collect();
            if close && let Some(first) = items.first().cloned() {
                items.push(first);
            }
            let text = format!(r#"{{"type":"Polygon","coordinates":[[{}]]}}"#, items.join(","));
            if let Ok(area) = AreaExtent::parse_geojson(&text) {
                prop_assert_eq!(area.polygon_count(), 1);
            }
        }

        /// A rectangle with a hole in its middle third: points strictly inside the rectangle
        /// and outside the hole are contained, points strictly inside the hole are not.
        #[test]
        fn rectangles_with_holes(
            w in -170.0..160.0f64,
            s in -80.0..70.0f64,
            width in 0.01..10.0f64,
            height in 0.01..10.0f64,
            fx in 0.001..0.999f64,
            fy in 0.001..0.999f64,
        ) {
            let (e, n) = (w + width, s + height);
            let (hw, hs, he, hn) = (
                w + width / 3.0,
                s + height / 3.0,
                w + 2.0 * width / 3.0,
                s + 2.0 * height / 3.0,
            );
            let text = format!(
                r#"{{"type":"Polygon","coordinates":[{},{}]}}"#,
                ring(w, s, e, n),
                ring(hw, hs, he, hn)
            );
            let area = AreaExtent::parse_geojson(&text).unwrap();
            let (x, y) = (w + fx * width, s + fy * height);
            // Stay clear of the hole's edges, where rounding decides.
            let margin = 1e-9 * (1.0 + x.abs() + y.abs());
            let near = |a: f64, b: f64| (a - b).abs() < margin;
            prop_assume!(!near(x, hw) && !near(x, he) && !near(y, hs) && !near(y, hn));
            let in_hole = x > hw && x < he && y > hs && y < hn;
            let point = GeoPoint::new(y, x).unwrap();
            prop_assert_eq!(area.contains(point), !in_hole);
        }
    }
}
