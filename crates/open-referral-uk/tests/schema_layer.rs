#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The schema layer runs the official UK-profile JSON Schemas (shipped as data): the published
//! examples pass, the validator's failing sample fails at the same JSON paths as the crate's own
//! rules, error messages never repeat a value, and every read endpoint's answers pass.
#![cfg(feature = "schema")]

use std::collections::BTreeSet;

use chrono::NaiveDate;
use open_referral_uk::model::{Service, Taxonomy};
use open_referral_uk::schema::{SchemaDocument, schema_findings, schema_findings_at, validate};
use open_referral_uk::search::{Directory, SearchQuery};
use open_referral_uk::validate::{PageKind, Severity, ValidationContext, validate_page};
use serde_json::Value;

const EXAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/examples/oruk/"
);

fn example(name: &str) -> Option<Value> {
    let path = format!("{EXAMPLES}{name}");
    match std::fs::read(&path) {
        Ok(bytes) => Some(serde_json::from_slice(&bytes).unwrap()),
        Err(_) => {
            eprintln!("note: {path} is missing (clone shared/ beside the repository); skipping");
            None
        }
    }
}

fn context() -> ValidationContext {
    ValidationContext::on(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap())
}

#[test]
fn published_examples_pass_the_official_schemas() {
    if let Some(service) = example("OpenReferralUK-uk-profile__service_full.json") {
        assert_eq!(schema_findings(&service, SchemaDocument::Service), vec![]);
    }
    if let Some(page) = example("OpenReferralUK-uk-profile__service_list.json") {
        for item in page["contents"].as_array().unwrap() {
            assert_eq!(
                schema_findings(item, SchemaDocument::ServiceListItem),
                vec![]
            );
        }
    }
    if let Some(page) = example("OpenReferralUK-uk-profile__service_at_location_list.json") {
        for item in page["contents"].as_array().unwrap() {
            assert_eq!(
                schema_findings(item, SchemaDocument::ServiceAtLocationListItem),
                vec![]
            );
        }
    }
    if let Some(page) = example("OpenReferralUK-uk-profile__taxonomy_term_list.json") {
        for item in page["contents"].as_array().unwrap() {
            assert_eq!(schema_findings(item, SchemaDocument::TaxonomyTerm), vec![]);
        }
    }
}

#[test]
fn failing_sample_fails_at_the_same_paths_as_our_rules() {
    let Some(page) = example("OpenReferralUK-oruk-validator__V3.0-UK-Fail__service_list.json")
    else {
        return;
    };
    let mut schema_paths = BTreeSet::new();
    for (index, item) in page["contents"].as_array().unwrap().iter().enumerate() {
        for finding in schema_findings_at(
            item,
            SchemaDocument::ServiceListItem,
            &format!("$.contents[{index}]"),
        ) {
            assert!(!finding.message.contains("12345"), "{finding}");
            assert!(!finding.message.contains('@'), "{finding}");
            schema_paths.insert(finding.path);
        }
    }
    let ours: BTreeSet<String> = validate_page(&page, PageKind::Services, &context())
        .of(Severity::Error)
        .map(|f| f.path.clone())
        .collect();
    assert!(
        schema_paths.contains("$.contents[0].name"),
        "{schema_paths:?}"
    );
    assert!(
        schema_paths.contains("$.contents[2].email"),
        "{schema_paths:?}"
    );
    assert_eq!(schema_paths, ours);
}

#[test]
fn combined_report_takes_errors_from_the_schema_and_warnings_from_our_rules() {
    let mut service: Value = serde_json::json!({
        "id": "0b0c8d7e-51a0-4f5b-9c7d-2f1e3d4c5b6a",
        "name": "Walk",
        "status": "active",
        "email": "not-an-address",
        "minimum_age": 40,
        "maximum_age": 20
    });
    let report = validate(&service, &context());
    let errors: Vec<&str> = report
        .of(Severity::Error)
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(errors, ["$.email"]);
    assert!(
        report
            .of(Severity::Warning)
            .any(|f| f.path == "$.minimum_age" || f.path == "$.maximum_age")
    );
    service["email"] = "walk@example.org".into();
    assert!(validate(&service, &context()).is_valid());
}

#[test]
fn every_read_endpoint_answer_passes_the_schemas() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples-data/");
    let services: Vec<Service> =
        serde_json::from_slice(&std::fs::read(format!("{dir}services.json")).unwrap()).unwrap();
    let taxonomies: Vec<Taxonomy> =
        serde_json::from_slice(&std::fs::read(format!("{dir}taxonomies.json")).unwrap()).unwrap();
    let directory = Directory::builder()
        .taxonomies(taxonomies)
        .build(services.clone());
    let everything = SearchQuery::from_params([("per_page", "1000"), ("status", "all")]).unwrap();
    let page = directory.search(&everything).unwrap();
    assert!(page.total_items > 0);
    for hit in &page.contents {
        let item = serde_json::to_value(hit.service.to_list_item()).unwrap();
        assert_eq!(
            schema_findings(&item, SchemaDocument::ServiceListItem),
            vec![]
        );
        let full = serde_json::to_value(directory.service(&hit.service.id).unwrap()).unwrap();
        assert_eq!(schema_findings(&full, SchemaDocument::Service), vec![]);
    }
    let sal = directory.search_service_at_locations(&everything).unwrap();
    for item in &sal.contents {
        let item = serde_json::to_value(item).unwrap();
        assert_eq!(
            schema_findings(&item, SchemaDocument::ServiceAtLocationListItem),
            vec![]
        );
    }
    for taxonomy in directory.taxonomies() {
        let value = serde_json::to_value(taxonomy).unwrap();
        assert_eq!(schema_findings(&value, SchemaDocument::Taxonomy), vec![]);
    }
    for term in directory.taxonomy_terms() {
        let value = serde_json::to_value(term).unwrap();
        assert_eq!(
            schema_findings(&value, SchemaDocument::TaxonomyTerm),
            vec![]
        );
    }
}
