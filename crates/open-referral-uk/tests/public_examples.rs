#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The public ORUK / HSDS example documents parse, round-trip and validate as expected.

use chrono::NaiveDate;
use open_referral_uk::model::{Service, ServiceAtLocationItem, TaxonomyTerm};
use open_referral_uk::validate::{
    PageKind, Rule, Severity, ValidationContext, validate_api_details, validate_page,
    validate_service,
};
use open_referral_uk::{ApiDetails, Page};
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

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(value: &Value) -> T {
    let typed: T = serde_json::from_value(value.clone()).unwrap();
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(&back, value, "round trip changed the document");
    typed
}

#[test]
fn uk_profile_full_service_parses_round_trips_and_has_no_errors() {
    let Some(doc) = example("OpenReferralUK-uk-profile__service_full.json") else {
        return;
    };
    let service: Service = round_trip(&doc);
    assert_eq!(service.name, "Community Counselling");
    assert_eq!(service.attributes.len(), 1);
    let report = validate_service(&doc, &context());
    assert!(
        report.is_valid(),
        "{:#?}",
        report.of(Severity::Error).collect::<Vec<_>>()
    );
    // The sample's known oddities are reported as warnings.
    let rules: Vec<(Rule, &str)> = report
        .of(Severity::Warning)
        .map(|f| (f.rule, f.path.as_str()))
        .collect();
    assert!(rules.contains(&(
        Rule::Coordinates,
        "$.service_at_locations[0].location.latitude"
    )));
    assert!(rules.contains(&(Rule::Schedule, "$.schedules[0].bymonthday")));
    assert!(rules.contains(&(Rule::StaleAssuredDate, "$.assured_date")));
    // Its `extent` is the placeholder text "extent" under extent_type "geojson".
    assert!(rules.contains(&(Rule::ServiceAreaExtent, "$.service_areas[0].extent")));
    insta::assert_json_snapshot!("uk_service_full_report", report);
}

#[test]
fn hsds_full_service_keeps_every_hsds_only_field() {
    let Some(doc) = example("openreferral-specification__3.0__service_full.json") else {
        return;
    };
    let service: Service = round_trip(&doc);
    assert!(service.extra.contains_key("phones"));
    assert!(service.extra.contains_key("program"));
    let report = validate_service(&doc, &context());
    assert!(
        report.is_valid(),
        "{:#?}",
        report.of(Severity::Error).collect::<Vec<_>>()
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule == Rule::RemovedField && f.path == "$.phones")
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule == Rule::DeprecatedField && f.path == "$.fees")
    );
}

#[test]
fn uk_profile_pages_parse_and_validate() {
    for (name, kind) in [
        (
            "OpenReferralUK-uk-profile__service_list.json",
            PageKind::Services,
        ),
        (
            "OpenReferralUK-uk-profile__service_at_location_list.json",
            PageKind::ServiceAtLocations,
        ),
        (
            "OpenReferralUK-uk-profile__taxonomy_term_list.json",
            PageKind::TaxonomyTerms,
        ),
    ] {
        let Some(doc) = example(name) else { return };
        let report = validate_page(&doc, kind, &context());
        assert!(
            report.is_valid(),
            "{name}: {:#?}",
            report.of(Severity::Error).collect::<Vec<_>>()
        );
        assert_eq!(
            report
                .findings
                .iter()
                .filter(|f| f.rule == Rule::PageEnvelope)
                .count(),
            0,
            "{name}"
        );
        match kind {
            PageKind::Services => drop(round_trip::<Page<Service>>(&doc)),
            PageKind::ServiceAtLocations => drop(round_trip::<Page<ServiceAtLocationItem>>(&doc)),
            _ => drop(round_trip::<Page<TaxonomyTerm>>(&doc)),
        }
    }
}

#[test]
fn api_details_sample_validates() {
    let Some(doc) = example("OpenReferralUK-oruk-validator__V3.0-UK-Default__api_details.json")
    else {
        return;
    };
    let details: ApiDetails = round_trip(&doc);
    assert_eq!(details.version, "HSDS-UK-3.0");
    assert!(validate_api_details(&doc, &context()).findings.is_empty());
}

#[test]
fn validator_fail_sample_gives_the_errors_it_was_built_for() {
    let Some(doc) = example("OpenReferralUK-oruk-validator__V3.0-UK-Fail__service_list.json")
    else {
        return;
    };
    let report = validate_page(&doc, PageKind::Services, &context());
    assert!(!report.is_valid());
    let errors: Vec<(Rule, &str)> = report
        .of(Severity::Error)
        .map(|f| (f.rule, f.path.as_str()))
        .collect();
    for index in 0..4 {
        // Every item lacks the required name...
        assert!(
            errors.contains(&(Rule::Required, format!("$.contents[{index}].name").as_str())),
            "{errors:?}"
        );
    }
    // ...and has a broken email: a bad string, `false` and `12345`.
    assert!(errors.contains(&(Rule::Format, "$.contents[0].email")));
    assert!(errors.contains(&(Rule::Format, "$.contents[1].email")));
    assert!(errors.contains(&(Rule::Type, "$.contents[2].email")));
    assert!(errors.contains(&(Rule::Type, "$.contents[3].email")));
    // The envelope does not match its contents, and one service id is used twice.
    let warnings: Vec<(Rule, &str)> = report
        .of(Severity::Warning)
        .map(|f| (f.rule, f.path.as_str()))
        .collect();
    assert!(warnings.contains(&(Rule::PageEnvelope, "$.size")));
    assert!(warnings.contains(&(Rule::PageEnvelope, "$.total_items")));
    assert!(warnings.contains(&(Rule::DuplicateId, "$.contents[3].id")));
    insta::assert_json_snapshot!(
        "validator_fail_sample_errors",
        report.of(Severity::Error).collect::<Vec<_>>()
    );
}

#[test]
fn schedule_guidance_sample_is_understood() {
    let Some(doc) = example("openreferral-specification__3.0__schedules_field_guidance.json")
    else {
        return;
    };
    let services: Vec<Service> = round_trip(&doc["services"]);
    let report = validate_service(&doc["services"][0], &context());
    assert!(report.is_valid());
    // `until` is an HSDS field removed by the UK profile.
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule == Rule::RemovedField && f.path == "$.schedules[2].until")
    );
    let directory = open_referral_uk::Directory::new(services);
    let saturday =
        open_referral_uk::SearchQuery::from_params([("day", "SA"), ("start_time", "09:00")])
            .unwrap();
    assert_eq!(directory.search(&saturday).unwrap().total_items, 1);
}

#[test]
fn shipped_sample_directory_is_valid() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples-data/services.json");
    let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let report = open_referral_uk::validate::validate_services(&doc, &context());
    let problems: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
    let _: Vec<Service> = round_trip(&doc);
}
