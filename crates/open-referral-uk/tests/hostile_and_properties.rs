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
