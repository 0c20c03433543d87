#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every rule of the validator's suggested rule set, one deliberately broken document each:
//! schema-equivalent errors (enum, null, format, required), the semantic warnings (age and date
//! ranges, schedule rules, coordinates, UK postcodes, stale `assured_date`, future dates,
//! negative costs, attributes without a term, duplicate ids) and the page envelope rules, with
//! their JSON paths and message shapes.

use chrono::NaiveDate;
use open_referral_uk::validate::{
    Document, Finding, PageKind, Rule, Severity, ValidationContext, validate_json, validate_page,
    validate_service,
};
use serde_json::json;

fn context() -> ValidationContext {
    ValidationContext::on(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap())
}

fn has(findings: &[Finding], severity: Severity, rule: Rule, path: &str) -> bool {
    findings
        .iter()
        .any(|f| f.severity == severity && f.rule == rule && f.path == path)
}

#[test]
fn semantic_rules_of_a_service() {
    let doc = json!({
        "id": "0b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e01",
        "name": "Broken on purpose",
        "status": "paused",
        "description": null,
        "organization_id": "not-a-uuid",
        "email": "nobody@example.org",
        "minimum_age": 18,
        "maximum_age": 5,
        "assured_date": "2026-01-01",
        "last_modified": "2027-01-01T00:00:00Z",
        "x_local_note": "kept and reported",
        "schedules": [
            {
                "id": "1b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e01",
                "freq": "WEEKLY",
                "byday": "MO,XX",
                "valid_from": "2026-05-01",
                "valid_to": "2026-01-01",
                "opens_at": "17:00Z",
                "closes_at": "09:00Z"
            },
            {
                "id": "2b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e02",
                "freq": "WEEKLY",
                "byday": "1SA",
                "interval": 2
            },
            {
                "id": "3b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e03",
                "freq": "MONTHLY",
                "bymonthday": "0,15",
                "valid_from": "1st May"
            },
            {
                "id": "1b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e01",
                "freq": "FORTNIGHTLY"
            }
        ],
        "cost_options": [
            { "id": "4b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e04", "amount": -5 }
        ],
        "service_at_locations": [
            {
                "id": "5b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e05",
                "location": {
                    "id": "6b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e06",
                    "location_type": "physical",
                    "latitude": 0,
                    "longitude": 0,
                    "addresses": [{
                        "id": "7b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e07",
                        "address_1": "1 Quay Street",
                        "city": "Bristol",
                        "state_province": "Bristol",
                        "postal_code": "ABC 1234",
                        "country": "GB",
                        "address_type": "physical"
                    }]
                }
            },
            {
                "id": "8b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e08",
                "location": {
                    "id": "9b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e09",
                    "location_type": "physical",
                    "latitude": 51.45,
                    "addresses": [{
                        "id": "ab0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e0a",
                        "address_1": "2 High Street",
                        "state_province": "Bath",
                        "postal_code": "BA1 1LP",
                        "country": "United Kingdom",
                        "address_type": "physical"
                    }]
                }
            }
        ],
        "attributes": [{ "id": "bb0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e0b" }]
    });
    let report = validate_service(&doc, &context());
    let findings = &report.findings;
    assert!(!report.is_valid());
    // Errors: what the UK-profile schemas require.
    for (rule, path) in [
        (Rule::Enum, "$.status"),
        (Rule::Null, "$.description"),
        (Rule::Format, "$.organization_id"),
        (Rule::Enum, "$.schedules[3].freq"),
        (
            Rule::Required,
            "$.service_at_locations[1].location.addresses[0].city",
        ),
    ] {
        assert!(has(findings, Severity::Error, rule, path), "{rule} {path}");
    }
    // Warnings: the semantic rules.
    for (rule, path) in [
        (Rule::AgeRange, "$.minimum_age"),
        (Rule::StaleAssuredDate, "$.assured_date"),
        (Rule::FutureDate, "$.last_modified"),
        (Rule::Schedule, "$.schedules[0].byday"),
        (Rule::DateRange, "$.schedules[0].valid_from"),
        (Rule::Schedule, "$.schedules[0].closes_at"),
        (Rule::Schedule, "$.schedules[1].byday"),
        (Rule::Schedule, "$.schedules[1].dtstart"),
        (Rule::Schedule, "$.schedules[2].bymonthday"),
        (Rule::DateTimeFormat, "$.schedules[2].valid_from"),
        (Rule::DuplicateId, "$.schedules[3].id"),
        (Rule::NegativeAmount, "$.cost_options[0].amount"),
        (
            Rule::Coordinates,
            "$.service_at_locations[0].location.latitude",
        ),
        (
            Rule::Postcode,
            "$.service_at_locations[0].location.addresses[0].postal_code",
        ),
        (Rule::Coordinates, "$.service_at_locations[1].location"),
        (
            Rule::Format,
            "$.service_at_locations[1].location.addresses[0].country",
        ),
        (Rule::AttributeWithoutTerm, "$.attributes[0]"),
    ] {
        assert!(
            has(findings, Severity::Warning, rule, path),
            "{rule} {path}"
        );
    }
    // Info: properties the profile does not define.
    assert!(has(
        findings,
        Severity::Info,
        Rule::AdditionalField,
        "$.x_local_note"
    ));
    // A valid UK postcode on a UK address is not reported.
    assert!(
        !findings
            .iter()
            .any(|f| f.rule == Rule::Postcode && f.path.starts_with("$.service_at_locations[1]"))
    );
    insta::assert_json_snapshot!("service_rules", report);
}

#[test]
fn date_relative_rules_need_a_date() {
    let doc = json!({
        "id": "0b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e01",
        "name": "Old",
        "status": "active",
        "assured_date": "2001-01-01",
        "last_modified": "2099-01-01T00:00:00Z"
    });
    let undated = validate_service(&doc, &ValidationContext::default());
    assert!(undated.findings.is_empty(), "{:?}", undated.findings);
    let dated = validate_service(&doc, &context());
    assert_eq!(dated.count(Severity::Warning), 2);
    // A fresh assured_date is fine; one in the future is not.
    let fresh = json!({"id": "0b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e01", "name": "x",
        "status": "active", "assured_date": "2026-10-01"});
    assert!(validate_service(&fresh, &context()).findings.is_empty());
    let future = json!({"id": "0b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e01", "name": "x",
        "status": "active", "assured_date": "2027-10-01"});
    let report = validate_service(&future, &context());
    assert!(has(
        &report.findings,
        Severity::Warning,
        Rule::FutureDate,
        "$.assured_date"
    ));
}

#[test]
fn page_envelope_inconsistencies() {
    let doc = json!({
        "total_items": 0,
        "total_pages": 2,
        "page_number": 1,
        "size": 0,
        "first_page": false,
        "last_page": true,
        "empty": false,
        "contents": []
    });
    let report = validate_page(&doc, PageKind::Services, &context());
    let findings = &report.findings;
    assert!(report.is_valid(), "inconsistencies are warnings");
    for (rule, path) in [
        (Rule::PageEnvelope, "$.first_page"),
        (Rule::PageEnvelope, "$.last_page"),
        (Rule::PageEnvelope, "$.empty"),
        (Rule::PageEnvelope, "$.total_pages"),
        (Rule::EmptyFeed, "$.contents"),
    ] {
        assert!(
            has(findings, Severity::Warning, rule, path),
            "{rule} {path}"
        );
    }
    insta::assert_json_snapshot!("page_envelope_rules", report);
}

#[test]
fn page_envelope_fields_are_required() {
    let doc = json!({
        "total_items": "1",
        "page_number": 1,
        "first_page": "yes",
        "contents": [
            {"id": "0b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e01", "name": "x", "status": "active"}
        ],
        "next": "/services?page=2"
    });
    let report = validate_page(&doc, PageKind::Services, &context());
    let findings = &report.findings;
    for (rule, path) in [
        (Rule::Type, "$.total_items"),
        (Rule::Required, "$.total_pages"),
        (Rule::Required, "$.size"),
        (Rule::Type, "$.first_page"),
        (Rule::Required, "$.last_page"),
        (Rule::Required, "$.empty"),
    ] {
        assert!(has(findings, Severity::Error, rule, path), "{rule} {path}");
    }
    assert!(has(
        findings,
        Severity::Info,
        Rule::AdditionalField,
        "$.next"
    ));
    let no_contents = validate_json(
        br#"{"total_items":0,"total_pages":0,"page_number":1,"size":0,"first_page":true,"last_page":true,"empty":true}"#,
        Document::Page(PageKind::TaxonomyTerms),
        &context(),
    );
    assert!(has(
        &no_contents.findings,
        Severity::Error,
        Rule::Required,
        "$.contents"
    ));
    insta::assert_json_snapshot!("page_envelope_required", report);
}

#[test]
fn shared_objects_may_repeat_with_the_same_content() {
    let location = json!({
        "id": "6b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e06",
        "location_type": "physical",
        "latitude": 51.45,
        "longitude": -2.59
    });
    let service = |id: &str, location: serde_json::Value| {
        json!({"id": id, "name": "x", "status": "active", "service_at_locations": [
            {"id": format!("{}-sal", &id[..8]), "location": location}
        ]})
    };
    let same = json!([
        service("0b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e01", location.clone()),
        service("1b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e01", location.clone()),
    ]);
    let report = validate_json(
        same.to_string().as_bytes(),
        Document::Services,
        &ValidationContext::default(),
    );
    assert!(!report.findings.iter().any(|f| f.rule == Rule::DuplicateId));
    let mut moved = location.clone();
    moved["latitude"] = json!(52.0);
    let different = json!([
        service("0b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e01", location),
        service("0b0e0f3c-4b8e-4d55-9c3f-6f3c9a1d2e01", moved),
    ]);
    let report = validate_json(
        different.to_string().as_bytes(),
        Document::Services,
        &ValidationContext::default(),
    );
    // The service id repeats, and the shared location id now names two different locations.
    assert!(has(
        &report.findings,
        Severity::Warning,
        Rule::DuplicateId,
        "$[1].id"
    ));
    assert!(has(
        &report.findings,
        Severity::Warning,
        Rule::DuplicateId,
        "$[1].service_at_locations[0].location.id"
    ));
}
