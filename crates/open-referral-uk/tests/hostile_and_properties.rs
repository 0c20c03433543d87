#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Hostile input never panics and gets a typed error; round trips and the search indexes hold
//! their invariants. The same entry points as the fuzz targets `oruk_service_json` and
//! `oruk_csv_import`.

use open_referral_uk::csv_import::import_csv;
use open_referral_uk::model::{Service, ServiceStatus, number};
use open_referral_uk::search::Directory;
use open_referral_uk::validate::{
    Document, PageKind, Rule, ValidationContext, validate_json, validate_service,
};
use open_referral_uk::{OrukError, SearchQuery, synthetic};
use proptest::prelude::*;
use serde_json::Value;

/// What the `oruk_service_json` fuzz target asserts.
fn service_json_invariants(bytes: &[u8]) {
    let context = ValidationContext::default();
    let report = validate_json(bytes, Document::Service, &context);
    if serde_json::from_slice::<Value>(bytes).is_err() {
        assert_eq!(report.findings.len(), 1);
        assert_eq!(report.findings[0].rule, Rule::InvalidJson);
    }
    let _ = validate_json(bytes, Document::Page(PageKind::Services), &context);
    if let Ok(service) = Service::from_json(bytes) {
        let encoded = service.to_json().unwrap();
        let again = Service::from_json(encoded.as_bytes()).unwrap();
        assert_eq!(again, service);
    }
}

/// What the `oruk_csv_import` fuzz target asserts.
fn csv_invariants(bytes: &[u8]) {
    if let Ok(import) = import_csv(bytes) {
        let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        for error in &import.errors {
            assert!(error.line >= 1 && error.line <= lines, "{error}");
        }
        for service in &import.services {
            let encoded = serde_json::to_vec(service).unwrap();
            assert_eq!(&Service::from_json(&encoded).unwrap(), service);
        }
    }
}

#[test]
fn hostile_service_json_gets_typed_errors() {
    let deep = "[".repeat(10_000);
    let huge_name = format!(
        r#"{{"id":"a","name":"{}","status":"active"}}"#,
        "x".repeat(1 << 20)
    );
    let cases: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        br#"{"id":1,"name":"x","status":"active"}"#.to_vec(),
        br#"{"id":"a","name":null,"status":"active"}"#.to_vec(),
        br#"{"id":"a","name":"x","status":"active","schedules":{}}"#.to_vec(),
        br#"{"id":"a","name":"x","status":"active","minimum_age":"ten"}"#.to_vec(),
        br#"{"id":"a","name":"x","status":"active","minimum_age":1e999}"#.to_vec(),
        br#"{"id":"a","name":"x","status":"active","organization":{"id":"o"}}"#.to_vec(),
        deep.into_bytes(),
        b"\xff\xfe\x00garbage".to_vec(),
    ];
    for case in &cases {
        service_json_invariants(case);
        match Service::from_json(case) {
            Ok(service) => panic!("accepted {service:?}"),
            Err(OrukError::Json { line, .. }) => assert!(line >= 1),
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    let error = Service::from_json(br#"{"id":"a","status":"active"}"#).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid ORUK JSON at line 1, column 28: missing field `name` at line 1 column 28"
    );
    // Huge but well-formed input is accepted and round-trips.
    service_json_invariants(huge_name.as_bytes());
    // Nulls, wrong types and deep nesting are findings, not panics.
    let hostile: Value = serde_json::json!({"id": null, "name": 5, "status": ["x"], "schedules": [1, null, {"id": "s", "byday": "1ZZ,,", "opens_at": "99:99", "interval": -3}], "organization": "org"});
    let report = validate_service(&hostile, &ValidationContext::default());
    assert!(!report.is_valid());
    assert!(report.findings.iter().any(|f| f.path == "$.schedules[1]"));
}

#[test]
fn hostile_csv_gets_row_errors_and_keeps_good_rows() {
    let good = "id,name\n1b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e01,Good row\n";
    let cases: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\"unterminated".to_vec(),
        b"id,name\n\"a,b\n".to_vec(),
        format!("{good}not-a-uuid\n").into_bytes(),
        [good.as_bytes(), b"\xff\xfe,\x00\n"].concat(),
        format!(
            "{good}2b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e02,{}\n",
            "y".repeat(1 << 20)
        )
        .into_bytes(),
        format!("{good}{}\n", ",".repeat(10_000)).into_bytes(),
    ];
    for case in &cases {
        csv_invariants(case);
    }
    // Rows before an unreadable one are kept.
    let import = import_csv(&cases[4]).unwrap();
    assert_eq!(import.services.len(), 1);
    assert_eq!(import.errors.len(), 1);
    assert_eq!(import.errors[0].line, 3);
    let import = import_csv(&cases[3]).unwrap();
    assert_eq!((import.services.len(), import.errors.len()), (1, 1));
    assert!(matches!(
        import_csv(b"\"unterminated"),
        Err(OrukError::Csv(_))
    ));
}

/// Columns named after service properties. The `oruk_csv_import` fuzz target found a header
/// mangled so that a column was named `organization`: the import kept it as an extra string
/// beside the typed property, and the service's JSON then did not read back.
#[test]
fn other_columns_named_after_service_properties() {
    let found: &[u8] =
        b"id,name,st\x01\x00atus,description,email,organization\r\x00\x00\x00\x00\x00\x00\x00_name\
      ,minimum_age,maximum_age,location_name,address_1,city,postal_code,latitude,longitude,t\
      \x00\x00\x00\x00\x00\x00\x03\x0cterm_id,taxonomy_term_namz,\x00\x00\x00\x00,opens_at,clo\
      ses_!t,cost_amount\n0f8f2d0a-7c1e-4f3b-9a6e-1d2c3b4a5e01,Harbourside Parkrun Buddies,act\
      ive,Volunteers who walk or jog with youing \"-2.5931,7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e0\
      1,Physical activity,SA,08:45,10:00,0\n0f8f2d0a-7c1e-4f3b-9a6e-1d2c3b4a5e02,Tea and Talk,\
      active,A weekly social agternoon with tea and cake.,,Avon Carers Circle,,,Eastside Libra\
      ry,4 Library Walk,Bristol,BS5 0HQ,51.4619,-2.558,7c1d2e3f-4a5b-4c6d-8e7f-8a0b1c2d3e02,Lo\
      neliness,WE,14:00,16:00,\n";
    csv_invariants(found);
    let import = import_csv(found).unwrap();
    assert!(
        import
            .errors
            .iter()
            .any(|e| e.column.as_deref() == Some("organization"))
    );

    let csv = "id,name,alert,last_modified,organization,schedules,organization_name,volunteer_lead\n\
        1b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e01,A,Closed today,2026-11-30T09:00:00Z,,,,Pat\n\
        2b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e02,B,,,Avon Carers,,,\n\
        3b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e03,C,,,,MO,,\n\
        4b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e04,D,,,X,,Y,\n";
    csv_invariants(csv.as_bytes());
    let import = import_csv(csv.as_bytes()).unwrap();
    assert_eq!(import.services.len(), 1);
    let a = &import.services[0];
    assert_eq!(a.alert.as_deref(), Some("Closed today"));
    assert_eq!(a.last_modified.as_deref(), Some("2026-11-30T09:00:00Z"));
    assert_eq!(a.extra["volunteer_lead"], "Pat");
    assert!(!a.extra.contains_key("alert"));
    let errors: Vec<(u64, Option<&str>, &str)> = import
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_deref(), e.message.as_str()))
        .collect();
    assert_eq!(
        errors,
        [
            (
                3,
                Some("organization"),
                "names a service property that does not take this text"
            ),
            (
                4,
                Some("schedules"),
                "names a service property that does not take this text"
            ),
            (
                5,
                Some("organization"),
                "names a service property the import fills from other columns"
            ),
        ]
    );
    // Never the cell's content.
    assert!(!import.errors.iter().any(|e| e.to_string().contains("Avon")));
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 '£é-]{0,20}"
}

prop_compose! {
    fn arbitrary_service()(
        id in "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}",
        name in text(),
        status in prop_oneof![Just("active".to_owned()), Just("temporarily closed".to_owned()), text()],
        description in proptest::option::of(text()),
        minimum_age in proptest::option::of(0u32..120),
        maximum_age in proptest::option::of(-1.0e6f64..1.0e6),
        extra in proptest::collection::btree_map("x_[a-z]{1,8}", text(), 0..3),
    ) -> Service {
        let mut service = Service::new(id, name, ServiceStatus::from_wire(&status));
        service.description = description;
        service.minimum_age = minimum_age.map(Into::into);
        service.maximum_age = maximum_age.and_then(number);
        service.extra = extra.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        service
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn services_round_trip(service in arbitrary_service()) {
        let encoded = serde_json::to_vec(&service).unwrap();
        prop_assert_eq!(Service::from_json(&encoded).unwrap(), service.clone());
        // Absent values are omitted, never null.
        let value: Value = serde_json::from_slice(&encoded).unwrap();
        prop_assert!(value.as_object().unwrap().values().all(|v| !v.is_null()));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        service_json_invariants(&bytes);
        csv_invariants(&bytes);
    }

    #[test]
    fn indexed_search_equals_linear_scan(
        seed in 1u64..1_000_000,
        word in proptest::option::of(0usize..synthetic::WORDS.len()),
        term in proptest::option::of(0usize..synthetic::TERM_COUNT),
        age in proptest::option::of(0u32..80),
        day in proptest::option::of(0usize..7),
        start in proptest::option::of(8u32..20),
        cost in proptest::option::of(prop_oneof![Just("free"), Just("paid")]),
        near in proptest::option::of((51.0f64..52.5, -3.0f64..-0.5, 1_000f64..80_000.0)),
        page in 1u32..4,
    ) {
        let directory = Directory::new(synthetic::services(400, seed));
        let mut params: Vec<(&str, String)> = vec![("page", page.to_string()), ("per_page", "7".into())];
        if let Some(word) = word { params.push(("search", synthetic::WORDS[word].into())); }
        if let Some(term) = term { params.push(("taxonomy_term_id", synthetic::term_id(term))); }
        if let Some(age) = age { params.push(("minimum_age", age.to_string())); params.push(("maximum_age", age.to_string())); }
        if let Some(day) = day { params.push(("day", ["MO","TU","WE","TH","FR","SA","SU"][day].into())); }
        if let Some(start) = start { params.push(("start_time", format!("{start:02}:00"))); }
        if let Some(cost) = cost { params.push(("cost", cost.into())); }
        if let Some((lat, lon, radius)) = near {
            params.push(("latitude", lat.to_string()));
            params.push(("longitude", lon.to_string()));
            params.push(("proximity", radius.to_string()));
        }
        let query = SearchQuery::from_params(params).unwrap();
        let indexed = directory.search(&query).unwrap();
        let linear = directory.search_linear(&query).unwrap();
        prop_assert_eq!(indexed.total_items, linear.total_items);
        let a: Vec<&str> = indexed.contents.iter().map(|h| h.service.id.as_str()).collect();
        let b: Vec<&str> = linear.contents.iter().map(|h| h.service.id.as_str()).collect();
        prop_assert_eq!(a, b);
        if let Some((_, _, radius)) = near {
            prop_assert!(indexed.contents.iter().all(|h| h.distance_metres.unwrap() <= radius));
        }
    }
}

/// A small directory whose locations are spread over the whole globe (poles and the
/// antimeridian included), built once.
fn world_directory() -> &'static Directory {
    static DIRECTORY: std::sync::OnceLock<Directory> = std::sync::OnceLock::new();
    DIRECTORY.get_or_init(|| {
        let mut services = synthetic::services(120, 7);
        let mut rng = synthetic::Rng::new(11);
        for service in &mut services {
            for sal in &mut service.service_at_locations {
                if let Some(location) = sal.location.as_mut() {
                    // A third near the poles or the antimeridian, the rest anywhere.
                    let (lat, lon) = match rng.below(3) {
                        0 => (rng.between(85.0, 90.0), rng.between(-180.0, 180.0)),
                        1 => (rng.between(-60.0, 60.0), rng.between(179.0, 180.0)),
                        _ => (rng.between(-90.0, 90.0), rng.between(-180.0, 180.0)),
                    };
                    location.latitude = serde_json::Number::from_f64(lat);
                    location.longitude = serde_json::Number::from_f64(lon);
                }
            }
        }
        Directory::new(services)
    })
}

/// What the `oruk_query` fuzz target asserts: any query string is a typed error or a query
/// whose indexed answer equals the linear scan (services and service-at-locations), within
/// the requested page size; any body either loads as a directory or is a JSON error.
fn query_invariants(bytes: &[u8]) {
    match open_referral_uk::Directory::from_json(bytes) {
        Ok(directory) => {
            let _ = directory.search(&SearchQuery::default()).unwrap();
        }
        Err(error) => assert!(matches!(error, OrukError::Json { .. })),
    }
    let raw = String::from_utf8_lossy(bytes);
    let directory = world_directory();
    match SearchQuery::from_query_string(&raw) {
        Ok(query) => {
            // A well-formed query can still be refused by the directory (a postcode it cannot
            // locate): then both the indexed and the linear search refuse it, with a
            // parameter error.
            let (indexed, linear) =
                match (directory.search(&query), directory.search_linear(&query)) {
                    (Ok(indexed), Ok(linear)) => (indexed, linear),
                    (Err(OrukError::BadParameter { .. }), Err(OrukError::BadParameter { .. })) => {
                        assert!(directory.search_service_at_locations(&query).is_err());
                        return;
                    }
                    (indexed, linear) => panic!(
                        "indexed and linear search disagree: {:?} vs {:?}",
                        indexed.map(|p| p.total_items),
                        linear.map(|p| p.total_items)
                    ),
                };
            assert_eq!(indexed.total_items, linear.total_items);
            let a: Vec<&str> = indexed
                .contents
                .iter()
                .map(|h| h.service.id.as_str())
                .collect();
            let b: Vec<&str> = linear
                .contents
                .iter()
                .map(|h| h.service.id.as_str())
                .collect();
            assert_eq!(a, b);
            assert!(indexed.size <= u64::from(query.page.per_page()));
            let items = directory.search_service_at_locations(&query).unwrap();
            assert!(items.size <= u64::from(query.page.per_page()));
        }
        Err(OrukError::BadParameter { .. }) => {}
        Err(other) => panic!("unexpected error kind {other}"),
    }
}

/// Values for numeric parameters at their extremes, plus marked free text.
fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_owned()),
        Just("-0".to_owned()),
        Just("-1".to_owned()),
        Just("1e308".to_owned()),
        Just("-1e308".to_owned()),
        Just("1e23".to_owned()),
        Just("4294967296".to_owned()),
        Just("NaN".to_owned()),
        Just("inf".to_owned()),
        Just("%FF%FE".to_owned()),
        Just("BS1%205TR".to_owned()),
        Just("2026-11-30T09:00:00Z".to_owned()),
        Just("2026-11-30".to_owned()),
        (-200.0f64..200.0).prop_map(|n| n.to_string()),
        (0.0f64..2_000_000.0).prop_map(|n| n.to_string()),
        (1u32..2000).prop_map(|n| n.to_string()),
        "[a-z ]{0,12}".prop_map(|text| format!("zq{text}")),
    ]
}

fn parameter_name() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec![
        "search",
        "page",
        "per_page",
        "taxonomy_term_id",
        "minimum_age",
        "maximum_age",
        "start_time",
        "day",
        "postcode",
        "proximity",
        "latitude",
        "longitude",
        "lat",
        "lon",
        "cost",
        "maximum_cost",
        "max_cost",
        "modified_after",
        "zqunknown",
    ])
}

#[test]
fn grid_walk_is_bounded_for_any_radius_and_point() {
    let directory = world_directory();
    for (lat, lon) in [
        (90.0, 0.0),
        (-90.0, 180.0),
        (89.999, -180.0),
        (0.0, 179.9999),
        (0.0, -180.0),
        (51.45, -2.59),
    ] {
        for proximity in ["0.001", "1", "5000", "1e5", "999999.99", "1000000"] {
            let raw = format!("latitude={lat}&longitude={lon}&proximity={proximity}");
            let started = std::time::Instant::now();
            query_invariants(raw.as_bytes());
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "{raw}"
            );
        }
    }
    // Out of range: a typed error naming the parameter, never the value.
    for raw in [
        "postcode=BS1%205TR&proximity=1e23",
        "latitude=1&longitude=1&proximity=1e308",
        "latitude=1e308&longitude=1",
        "latitude=1&longitude=-1e308",
        "latitude=1&longitude=1&proximity=-5",
        "latitude=1&longitude=1&proximity=1000000.5",
        "minimum_age=1e308",
        "maximum_age=-1",
        "page=99999999999999999999",
        "per_page=1001",
    ] {
        let error = SearchQuery::from_query_string(raw).unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("bad parameter `"), "{message}");
        assert!(
            !message.contains("e308") && !message.contains("e23"),
            "{message}"
        );
    }
    // A query built in code gets the same range checks before the grid is walked.
    let mut query =
        SearchQuery::from_query_string("latitude=51&longitude=-2&proximity=10").unwrap();
    query.proximity_metres = Some(1e23);
    assert!(directory.search(&query).is_err());
    query.proximity_metres = Some(f64::NAN);
    assert!(directory.search_service_at_locations(&query).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The `oruk_query` fuzz target's entry point over arbitrary bytes.
    #[test]
    fn arbitrary_query_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        query_invariants(&bytes);
    }

    /// Structured hostile query strings: extremes for every numeric parameter. The answer is
    /// the linear scan's, and an error never repeats a received value (marked `zq`).
    #[test]
    fn hostile_query_strings(pairs in proptest::collection::vec((parameter_name(), hostile_value()), 0..6)) {
        let raw: Vec<String> = pairs.iter().map(|(name, value)| format!("{name}={value}")).collect();
        let raw = raw.join("&");
        query_invariants(raw.as_bytes());
        if let Err(error) = SearchQuery::from_query_string(&raw) {
            let message = error.to_string();
            prop_assert!(!message.contains("zq"), "{}", message);
            prop_assert!(!message.contains("BS1"), "{}", message);
        }
    }

    /// Any point and radius in range: the grid candidates give exactly the linear answer.
    #[test]
    fn grid_search_anywhere_equals_linear_scan(
        lat in -90.0f64..=90.0,
        lon in -180.0f64..=180.0,
        radius in 1.0f64..=1_000_000.0,
    ) {
        query_invariants(format!("latitude={lat}&longitude={lon}&proximity={radius}&per_page=1000").as_bytes());
    }
}
