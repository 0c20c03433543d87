#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Decoding a realistic response of every function (fixtures written from the reference,
//! fictitious data), with a snapshot of the typed result, and re-encoding it.

use systmone_api::record::{DataItem, NonClinicalItem};
use systmone_api::{
    ClientIntegrationResponse, EncodeOptions, FunctionName, RecordState, Response, all_functions,
    get_functions, get_patient_record, patient_search,
};

use crate::common::{fixture, patient};

fn decode(function: &str) -> ClientIntegrationResponse {
    let bytes = fixture(&format!("responses/{function}.xml"));
    ClientIntegrationResponse::decode(&bytes).unwrap_or_else(|e| panic!("{function}: {e}"))
}

#[test]
fn every_function_decodes_its_fixture_and_round_trips() {
    for metadata in all_functions() {
        let decoded = decode(metadata.function);
        assert_eq!(decoded.header.function.as_str(), metadata.function);
        let response = decoded.outcome.clone().unwrap();
        assert_eq!(response.function().as_str(), metadata.function);
        insta::assert_debug_snapshot!(format!("response_{}", metadata.function), response);
        let bytes = decoded.encode(&EncodeOptions::server()).unwrap();
        let again = ClientIntegrationResponse::decode(&bytes).unwrap();
        assert_eq!(again, decoded, "{}: re-encodes", metadata.function);
    }
}

#[test]
fn full_record_fields() {
    let record = decode("GetPatientRecord")
        .into_typed::<get_patient_record::v1::Request>()
        .unwrap();
    let identity = record.identity.as_ref().unwrap();
    assert_eq!(identity.nhs_number(), Some(&patient()));
    assert_eq!(
        identity.strategic_reporting_identifier.as_deref(),
        Some("1234567")
    );
    let demographics = record.demographics.as_ref().unwrap();
    assert_eq!(demographics.surname.as_deref(), Some("Example"));
    assert_eq!(
        demographics.date_of_birth.unwrap().to_string(),
        "1970-05-14"
    );
    assert_eq!(demographics.main_language, None, "empty Code wrapper");
    assert_eq!(demographics.work_telephone.as_deref(), Some(""));
    // Debug never prints the name or the date of birth.
    let debug = format!("{record:?}");
    assert!(!debug.contains("Example") || !debug.contains("Alex"));
    assert!(!debug.contains("1970"));
    assert!(!debug.contains(&patient().expose()));

    assert_eq!(record.events.len(), 3);
    let first = &record.events[0];
    assert_eq!(first.user_name.as_deref(), Some("jbloggs1234"));
    assert_eq!(
        first.done_by.as_deref(),
        Some("BLOGGS, Jo (General Medical Practitioner)")
    );
    assert_eq!(first.narrative_lines().count(), 2);
    let third = &record.events[2];
    assert_eq!(third.software.as_deref(), Some("TRANSFoRm"));
    assert_eq!(third.date_time.unwrap().to_string(), "2017-12-19 12:45:12");
    assert!(matches!(third.items.last(), Some(DataItem::Other(raw)) if raw.name == "CarePlan"));
    let task = record.tasks().next().unwrap();
    assert_eq!(
        task.content.as_deref(),
        Some("Please review social prescribing outcome.\nReply by Friday.")
    );
    assert!(matches!(record.non_clinical[2], NonClinicalItem::Visit(_)));
    assert_eq!(record.record_state, Some(RecordState::Closed));
}

#[test]
fn unknown_functions_in_get_functions_are_kept() {
    let functions = decode("GetFunctions")
        .into_typed::<get_functions::v1::Request>()
        .unwrap();
    assert!(functions.supports(&FunctionName::DeletePatientRecord));
    let future = functions.functions.last().unwrap();
    assert_eq!(future.function, FunctionName::from_wire("FutureFunction"));
    assert_eq!(future.versions, vec!["1.0", "2.0"]);
}

#[test]
fn search_results_accept_both_spellings_and_empty() {
    let results = decode("PatientSearch")
        .into_typed::<patient_search::v1::Request>()
        .unwrap();
    assert_eq!(results.results.len(), 2);
    let text = String::from_utf8(fixture("responses/PatientSearch.xml"))
        .unwrap()
        .replace("NHSNumber", "NhsNumber");
    let again = ClientIntegrationResponse::decode(text.as_bytes()).unwrap();
    assert_eq!(
        again.into_typed::<patient_search::v1::Request>().unwrap(),
        results
    );
    let empty = br#"<ClientIntegrationResponse><DeviceID>d</DeviceID><RequestUID>1</RequestUID><Function>PatientSearch</Function><FunctionVersion>1.0</FunctionVersion><ResponseUID>u</ResponseUID><Response/></ClientIntegrationResponse>"#;
    let none = ClientIntegrationResponse::decode(empty).unwrap();
    assert_eq!(
        none.outcome,
        Ok(Response::PatientSearch(
            patient_search::v1::Response::default()
        ))
    );
}
