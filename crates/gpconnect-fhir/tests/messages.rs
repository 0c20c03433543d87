//! Send Document and mental health discharge messages: snapshots, round trips, validation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use gpconnect_fhir::fhir_model::stu3::resources::{Bundle, Resource};
use gpconnect_fhir::{Error, SequentialIds, Severity, validate_bundle, validate_json, xml};

#[test]
fn send_document_json_snapshot() {
    insta::assert_snapshot!(
        "send_document_json",
        send_document_message().to_json_pretty().unwrap()
    );
}

#[test]
fn send_document_xml_snapshot() {
    insta::assert_snapshot!(
        "send_document_xml",
        send_document_message().to_xml().unwrap()
    );
}

#[test]
fn discharge_json_snapshot() {
    insta::assert_snapshot!(
        "mh_discharge_json",
        discharge_message().to_json_pretty().unwrap()
    );
}

#[test]
fn discharge_xml_snapshot() {
    insta::assert_snapshot!("mh_discharge_xml", discharge_message().to_xml().unwrap());
}

#[test]
fn builds_are_deterministic() {
    assert_eq!(send_document_message(), send_document_message());
    assert_eq!(discharge_message(), discharge_message());
}

fn assert_clean(report: &gpconnect_fhir::ValidationReport) {
    let noisy: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity <= Severity::Warning)
        .collect();
    assert!(noisy.is_empty(), "{report}");
}

#[test]
fn our_messages_validate_without_findings() {
    for msg in [send_document_message(), discharge_message()] {
        assert_clean(&validate_bundle(&msg.bundle));
        assert_clean(&validate_json(&msg.to_json().unwrap()));
    }
}

#[test]
fn json_and_xml_round_trip() {
    for msg in [send_document_message(), discharge_message()] {
        let json = msg.to_json().unwrap();
        let back: Bundle = serde_json::from_str(&json).unwrap();
        assert_eq!(back, msg.bundle);
        let xml_text = msg.to_xml().unwrap();
        let Resource::Bundle(from_xml) = xml::from_xml(&xml_text).unwrap() else {
            panic!("not a bundle")
        };
        assert_eq!(from_xml, msg.bundle);
    }
}

#[test]
fn mesh_fields() {
    let msg = send_document_message();
    let n = patient().nhs_number.expose();
    assert_eq!(msg.mesh.to, format!("GPPROVIDER_{n}_19840229_Fictitious"));
    assert_eq!(msg.mesh.workflow_id, "GPCONNECT_SEND_DOCUMENT");
    assert_eq!(msg.mesh.from, "X26OT001");
    assert!(
        msg.mesh
            .subject
            .starts_with("Consultation report for Robin Alex Fictitious")
    );
    assert!(!format!("{:?}", msg.mesh).contains(&n));
    // Debug never shows the patient: not the NHS number, not the names.
    for debug in [
        format!("{msg:?}"),
        format!("{:?}", discharge()),
        format!("{:?}", send_document()),
    ] {
        assert!(!debug.contains(&n), "{debug}");
        assert!(!debug.contains("Fictitious"), "{debug}");
        assert!(!debug.contains("Robin"), "{debug}");
    }
    let mh = discharge_message();
    assert_eq!(mh.mesh.workflow_id, "TOC_FHIR_MH_DISCH");
    assert_eq!(mh.mesh.ack_workflow_id, "TOC_FHIR_MH_DISCH_ACK");
}

#[test]
fn legacy_guide_version_changes_the_differing_values() {
    use gpconnect_fhir::GuideVersion;
    use gpconnect_fhir::send_document::SendDocumentOptions;
    let msg = send_document()
        .options(SendDocumentOptions::for_version(
            GuideVersion::GpConnectMessaging1_5,
        ))
        .build(&mut SequentialIds::new(1))
        .unwrap();
    let json = msg.to_json().unwrap();
    assert!(json.contains("ITK-GPConnectSendDocument-MessageDefinition-1\""));
    assert!(json.contains("SendDocument-Generic"));
    assert_eq!(msg.mesh.workflow_id, "GPFED_CONSULT_REPORT");
    assert!(msg.mesh.to.contains("_29021984_"));
    let report = validate_json(&json);
    assert!(report.is_valid(), "{report}");
    assert!(
        report
            .matching("older gpconnect-messaging MessageDefinition")
            .count()
            == 1
    );
}

#[test]
fn builder_rejects_missing_inputs() {
    let no_attachment =
        gpconnect_fhir::SendDocument::new(patient(), ward_hub(), "X26OT001", "Report", at(1, 0));
    assert!(matches!(
        no_attachment.build(&mut SequentialIds::new(1)),
        Err(Error::InvalidInput {
            field: "attachment",
            ..
        })
    ));
    let no_encounter = gpconnect_fhir::MentalHealthDischarge::new(
        patient(),
        gp_practice(),
        ward_hub(),
        clinician(),
        "X",
        at(1, 0),
        "s",
        "a",
    )
    .section(gpconnect_fhir::MhSection::AdmissionDetails, "x");
    assert!(matches!(
        no_encounter.build(&mut SequentialIds::new(1)),
        Err(Error::InvalidInput {
            field: "encounter",
            ..
        })
    ));
    let empty_summary = gpconnect_fhir::MentalHealthDischarge::new(
        patient(),
        gp_practice(),
        ward_hub(),
        clinician(),
        "X",
        at(1, 0),
        " ",
        "a",
    );
    assert!(empty_summary.build(&mut SequentialIds::new(1)).is_err());
}

#[test]
fn validator_reports_broken_messages() {
    let msg = send_document_message();
    let mut value: serde_json::Value = serde_json::from_str(&msg.to_json().unwrap()).unwrap();
    // Break: wrong event, a dangling reference, an unknown property, a bad NHS number.
    value["entry"][0]["resource"]["event"]["code"] = "ITK999X".into();
    value["entry"][0]["resource"]["focus"][0]["reference"] =
        "urn:uuid:00000000-0000-0000-0000-000000000000".into();
    value["entry"][1]["resource"]["colour"] = "blue".into();
    let report = validate_json(&value.to_string());
    assert!(!report.is_valid());
    assert!(report.matching("event.code").count() >= 1, "{report}");
    assert!(report.matching("does not resolve").count() >= 1, "{report}");
    assert!(report.matching("colour").count() == 1, "{report}");
    assert_eq!(report.response_code().code(), "10008");

    let mut value: serde_json::Value = serde_json::from_str(&msg.to_json().unwrap()).unwrap();
    let patient = value["entry"][2]["resource"]["entry"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["resource"]["resourceType"] == "Patient")
        .unwrap();
    patient["resource"]["identifier"][0]["value"] = "9990000001".into();
    let report = validate_json(&value.to_string());
    let nhs: Vec<_> = report.matching("Modulus 11").collect();
    assert_eq!(nhs.len(), 1, "{report}");
    assert!(!report.to_string().contains("9990000001"));
}

#[test]
fn gpprovider_address_is_checked_against_the_patient() {
    use gpconnect_fhir::check_gpprovider_address;
    let msg = send_document_message();
    assert!(
        check_gpprovider_address(&msg.bundle, &msg.mesh.to)
            .findings
            .is_empty()
    );
    let n = patient().nhs_number.expose();
    // The older DDMMYYYY layout and another letter case are accepted too.
    let legacy = format!("GPPROVIDER_{n}_29021984_FICTITIOUS");
    assert!(
        check_gpprovider_address(&msg.bundle, &legacy)
            .findings
            .is_empty()
    );
    let wrong = format!("GPPROVIDER_{n}_19840301_Other");
    let report = check_gpprovider_address(&msg.bundle, &wrong);
    assert_eq!(report.errors().count(), 2, "{report}");
    assert!(!report.to_string().contains(&n));
    let bad = check_gpprovider_address(&msg.bundle, "GPPROVIDER_1234567890_19840229_Fictitious");
    assert!(bad.matching("EPL-152").count() == 1, "{bad}");
}
