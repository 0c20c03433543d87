#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Public search rules: inactive services hidden by default (named statuses include them),
//! `postcode` limited to services whose `service_area` covers it when area data exists (text
//! postcode areas and GeoJSON polygons),
//! free/paid/maximum cost filters, and HSDS 3.0's `modified_after`.

use open_referral_uk::model::{CostOption, Service, ServiceArea, ServiceStatus, number};
use open_referral_uk::search::{Directory, SearchQuery};
use open_referral_uk::synthetic;

fn ids(directory: &Directory, query: &str) -> Vec<String> {
    let query = SearchQuery::from_query_string(query).unwrap();
    let mut ids: Vec<String> = directory
        .search(&query)
        .unwrap()
        .contents
        .iter()
        .map(|hit| hit.service.name.clone())
        .collect();
    ids.sort();
    ids
}

fn service(n: usize, name: &str, status: ServiceStatus) -> Service {
    let mut service = synthetic::services(n + 1, 1).pop().unwrap();
    service.name = name.into();
    service.status = status;
    service.cost_options.clear();
    service.service_areas.clear();
    service
}

fn area(text: &str, extent_type: Option<&str>) -> ServiceArea {
    serde_json::from_value(serde_json::json!({
        "id": "3f1c0e5a-0000-4000-8000-000000000001",
        "extent": text,
        "extent_type": extent_type,
    }))
    .unwrap()
}

fn cost(amount: f64) -> CostOption {
    serde_json::from_value(serde_json::json!({
        "id": "c0000000-0000-4000-8000-000000000009",
        "amount": number(amount),
    }))
    .unwrap()
}

#[test]
fn inactive_services_are_left_out_unless_asked_for() {
    let directory = Directory::new(vec![
        service(0, "open", ServiceStatus::Active),
        service(1, "closed", ServiceStatus::Inactive),
        service(2, "gone", ServiceStatus::Defunct),
        service(3, "paused", ServiceStatus::TemporarilyClosed),
    ]);
    assert_eq!(ids(&directory, ""), ["open"]);
    let all = SearchQuery::from_query_string("").unwrap();
    assert_eq!(directory.search(&all).unwrap().total_items, 1);
    assert_eq!(
        ids(&directory, "status=all"),
        ["closed", "gone", "open", "paused"]
    );
    assert_eq!(
        ids(&directory, "status=inactive,defunct"),
        ["closed", "gone"]
    );
    assert_eq!(ids(&directory, "status=temporarily%20closed"), ["paused"]);
    for bad in ["status=", "status=shut", "status=active,shut"] {
        let error = SearchQuery::from_query_string(bad).unwrap_err().to_string();
        assert!(error.starts_with("bad parameter `status`"), "{error}");
        assert!(!error.contains("shut"));
    }
    assert_eq!(
        directory
            .list_services(open_referral_uk::PageRequest::default())
            .total_items,
        1
    );
}

#[test]
fn postcode_limits_to_service_areas_that_contain_it() {
    let mut district = service(0, "district", ServiceStatus::Active);
    district.service_areas.push(area("BS1, BS2", Some("text")));
    let mut sector = service(1, "sector", ServiceStatus::Active);
    sector.service_areas.push(area("BS1 6", None));
    let mut whole_area = service(2, "area", ServiceStatus::Active);
    whole_area.service_areas.push(area("BS; GL", None));
    let mut elsewhere = service(3, "elsewhere", ServiceStatus::Active);
    elsewhere.service_areas.push(area("BS10", None));
    let mut polygon = service(4, "polygon", ServiceStatus::Active);
    polygon
        .service_areas
        .push(area("{\"type\":\"Polygon\"}", Some("geojson")));
    let no_area = service(5, "no area", ServiceStatus::Active);
    let mut text_area = service(6, "named area", ServiceStatus::Active);
    text_area.service_areas.push(area("Bristol", None));
    let postcodes = open_referral_uk::search::PostcodeTable::from_csv_reader(
        "postcode,latitude,longitude\nBS1 5TR,51.45,-2.58\nBS10 7HG,51.51,-2.6\n".as_bytes(),
    )
    .unwrap()
    .0;
    let directory = Directory::builder()
        .geocoder(std::sync::Arc::new(postcodes))
        .build(vec![
            district, sector, whole_area, elsewhere, polygon, no_area, text_area,
        ]);
    // Services without usable area data are not limited (the ORUK text: "if service_area
    // data exists").
    assert_eq!(
        ids(&directory, "postcode=BS1%205TR"),
        ["area", "district", "named area", "no area", "polygon"]
    );
    assert_eq!(
        ids(&directory, "postcode=BS10%207HG"),
        ["area", "elsewhere", "named area", "no area", "polygon"]
    );
}

/// A closed square ring [lon, lat] from (west, south) to (east, north).
fn square(west: f64, south: f64, east: f64, north: f64) -> serde_json::Value {
    serde_json::json!([
        [west, south],
        [east, south],
        [east, north],
        [west, north],
        [west, south]
    ])
}

fn geojson(geometry: serde_json::Value, extent_type: &str) -> ServiceArea {
    area(&geometry.to_string(), Some(extent_type))
}

#[test]
fn postcode_limits_to_geojson_polygons_that_contain_it() {
    // BS1 5TR is at (51.45, -2.58), BS10 7HG at (51.51, -2.6), GL1 1AA at (51.86, -2.24).
    let postcodes = open_referral_uk::search::PostcodeTable::from_csv_reader(
        "postcode,latitude,longitude\nBS1 5TR,51.45,-2.58\nBS10 7HG,51.51,-2.6\nGL1 1AA,51.86,-2.24\n"
            .as_bytes(),
    )
    .unwrap()
    .0;
    // A big square with a hole around BS1 5TR.
    let mut holed = service(0, "holed", ServiceStatus::Active);
    holed.service_areas.push(geojson(
        serde_json::json!({"type": "Polygon", "coordinates": [
            square(-3.0, 51.0, -2.0, 52.0),
            square(-2.59, 51.44, -2.57, 51.46),
        ]}),
        "geojson",
    ));
    // Two small squares: one around BS1 5TR, one around GL1 1AA (a Feature, any-case type).
    let mut islands = service(1, "islands", ServiceStatus::Active);
    islands.service_areas.push(geojson(
        serde_json::json!({"type": "Feature", "properties": {}, "geometry": {
        "type": "MultiPolygon",
        "coordinates": [
            [square(-2.59, 51.44, -2.57, 51.46)],
            [square(-2.25, 51.85, -2.23, 51.87)],
        ]}}),
        "GeoJSON",
    ));
    // A text district and a polygon: either may contain the postcode.
    let mut mixed = service(2, "mixed", ServiceStatus::Active);
    mixed.service_areas.push(area("GL1", Some("text")));
    mixed.service_areas.push(geojson(
        serde_json::json!({"type": "Polygon", "coordinates": [square(-2.61, 51.5, -2.59, 51.52)]}),
        "geojson",
    ));
    // A ring that is not closed: not area data, so not limited (the validator warns).
    let mut broken = service(3, "broken", ServiceStatus::Active);
    broken.service_areas.push(area(
        r#"{"type":"Polygon","coordinates":[[[-3,51],[-2,51],[-2,52],[-3,52]]]}"#,
        Some("geojson"),
    ));
    let unlimited = service(4, "no area", ServiceStatus::Active);
    let directory = Directory::builder()
        .geocoder(std::sync::Arc::new(postcodes))
        .build(vec![holed, islands, mixed, broken, unlimited]);
    assert_eq!(
        ids(&directory, "postcode=BS1%205TR"),
        ["broken", "islands", "no area"]
    );
    assert_eq!(
        ids(&directory, "postcode=BS10%207HG"),
        ["broken", "holed", "mixed", "no area"]
    );
    assert_eq!(
        ids(&directory, "postcode=GL1%201AA"),
        ["broken", "holed", "islands", "mixed", "no area"]
    );
    // The index and the linear scan agree.
    for postcode in ["BS1%205TR", "BS10%207HG", "GL1%201AA"] {
        let query = SearchQuery::from_query_string(&format!("postcode={postcode}")).unwrap();
        let indexed: Vec<_> = directory
            .search(&query)
            .unwrap()
            .contents
            .iter()
            .map(|h| h.service.id.clone())
            .collect();
        let linear: Vec<_> = directory
            .search_linear(&query)
            .unwrap()
            .contents
            .iter()
            .map(|h| h.service.id.clone())
            .collect();
        assert_eq!(indexed, linear);
    }
    // A point (latitude/longitude) without a postcode is not limited by areas.
    assert_eq!(ids(&directory, "latitude=51.45&longitude=-2.58").len(), 5);
}

#[test]
fn a_bad_geojson_extent_is_a_warning_at_its_path() {
    use open_referral_uk::validate::{Rule, Severity, ValidationContext, validate_service};
    let document = serde_json::json!({
        "id": "9d1f7c2e-5b7a-4c1e-8f2a-3b4c5d6e7f80",
        "name": "Riverside Walking Group",
        "status": "active",
        "service_areas": [
            {"id": "3f1c0e5a-0000-4000-8000-000000000001", "extent_type": "geojson",
             "extent": "{\"type\":\"Polygon\",\"coordinates\":[[[-3,51],[-2,51],[-2,52],[-3,52]]]}"},
            {"id": "3f1c0e5a-0000-4000-8000-000000000002", "extent_type": "geojson",
             "extent": "{\"type\":\"Polygon\",\"coordinates\":[[[-3,51],[-2,51],[-2,52],[-3,51]]]}"},
            {"id": "3f1c0e5a-0000-4000-8000-000000000003", "extent_type": "geojson"},
            {"id": "3f1c0e5a-0000-4000-8000-000000000004", "extent_type": "text", "extent": "BS1"}
        ]
    });
    let report = validate_service(&document, &ValidationContext::default());
    let found: Vec<(&str, &str)> = report
        .findings
        .iter()
        .filter(|f| f.rule == Rule::ServiceAreaExtent)
        .inspect(|f| assert_eq!(f.severity, Severity::Warning))
        .map(|f| (f.path.as_str(), f.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "$.service_areas[0].extent",
                "extent is not a usable GeoJSON area, so search ignores it: $.coordinates[0]: the ring is not closed (its last position must equal its first)"
            ),
            (
                "$.service_areas[2].extent_type",
                "extent_type is geojson but there is no extent"
            ),
        ]
    );
    assert!(report.is_valid());
}

#[test]
fn free_paid_and_maximum_cost() {
    let free = service(0, "free", ServiceStatus::Active);
    let mut cheap = service(1, "cheap", ServiceStatus::Active);
    cheap.cost_options.push(cost(3.0));
    let mut dear = service(2, "dear", ServiceStatus::Active);
    dear.cost_options.push(cost(25.0));
    let mut either = service(3, "either", ServiceStatus::Active);
    either.cost_options.push(cost(0.0));
    either.cost_options.push(cost(40.0));
    let directory = Directory::new(vec![free, cheap, dear, either]);
    assert_eq!(ids(&directory, "cost=free"), ["free"]);
    assert_eq!(ids(&directory, "cost=paid"), ["cheap", "dear", "either"]);
    assert_eq!(
        ids(&directory, "maximum_cost=5"),
        ["cheap", "either", "free"]
    );
    assert_eq!(
        ids(&directory, "cost=paid&max_cost=10"),
        ["cheap", "either"]
    );
    assert!(SearchQuery::from_query_string("maximum_cost=-1").is_err());
    assert!(SearchQuery::from_query_string("maximum_cost=abc").is_err());
}

#[test]
fn modified_after_keeps_services_changed_on_or_after_it() {
    let at = |n: usize, name: &str, last_modified: Option<&str>| {
        let mut service = service(n, name, ServiceStatus::Active);
        service.last_modified = last_modified.map(str::to_owned);
        service
    };
    let directory = Directory::new(vec![
        at(0, "before", Some("2026-11-29T23:59:59Z")),
        at(1, "midnight", Some("2026-11-30T00:00:00Z")),
        at(2, "later", Some("2026-11-30T10:15:00+01:00")),
        at(3, "never said", None),
        at(4, "unreadable", Some("yesterday")),
    ]);
    assert_eq!(
        ids(&directory, "modified_after=2026-11-30"),
        ["later", "midnight"]
    );
    // Offsets are compared as instants: 10:15+01:00 is 09:15Z.
    assert_eq!(
        ids(&directory, "modified_after=2026-11-30T09:15:00Z"),
        ["later"]
    );
    assert!(ids(&directory, "modified_after=2026-11-30T09:15:01Z").is_empty());
    assert_eq!(
        ids(
            &directory,
            "modified_after=2026-11-30T00%3A30%3A00%2B01%3A00"
        ),
        ["before", "later", "midnight"]
    );
    // Without the parameter every active service is listed.
    assert_eq!(ids(&directory, "").len(), 5);
    for bad in [
        "modified_after=yesterday",
        "modified_after=2026-13-01",
        "modified_after=",
    ] {
        let error = SearchQuery::from_query_string(bad).unwrap_err().to_string();
        assert!(error.contains("modified_after"), "{bad}: {error}");
        assert!(!error.contains("yesterday"), "{error}");
    }
}
