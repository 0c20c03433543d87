//! ITK3 responses: build, snapshot, read back from JSON and XML.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use gpconnect_fhir::codes::AckKind;
use gpconnect_fhir::response::{Responder, UNREADABLE_ORIGINAL};
use gpconnect_fhir::{ItkMessage, ItkResponse, ResponseCode, SequentialIds, validate_bundle};
use nhs_identifiers::OdsCode;

fn responder() -> Responder {
    Responder::new(
        OdsCode::try_from("A00001").unwrap(),
        "A00001OT01",
        "X26OT001",
        "GPCONNECT_SEND_DOCUMENT_ACK",
    )
}

fn answer(code: ResponseCode) -> (ItkMessage, ItkMessage) {
    let original = send_document_message();
    let mut response = ItkResponse::answering(code.clone(), &original.bundle);
    if !code.is_positive() {
        response =
            response.with_diagnostics("Composition.section[0]: attachment type not supported");
    }
    let msg = response
        .build(&responder(), at(11, 0), &mut SequentialIds::new(0xAC))
        .unwrap();
    (original, msg)
}

#[test]
fn infrastructure_ack_snapshots() {
    let (_, msg) = answer(ResponseCode::Success);
    insta::assert_snapshot!("response_20013_json", msg.to_json_pretty().unwrap());
    insta::assert_snapshot!("response_20013_xml", msg.to_xml().unwrap());
}

#[test]
fn negative_business_ack_snapshots() {
    let (_, msg) = answer(ResponseCode::PatientNotKnownHere);
    insta::assert_snapshot!("response_30002_json", msg.to_json_pretty().unwrap());
    insta::assert_snapshot!("response_30002_xml", msg.to_xml().unwrap());
}

#[test]
fn every_code_round_trips_through_json_and_xml() {
    for code in ResponseCode::KNOWN
        .iter()
        .cloned()
        .chain([ResponseCode::from_wire("39999")])
    {
        let (original, msg) = answer(code.clone());
        let report = validate_bundle(&msg.bundle);
        let ok = match &code {
            ResponseCode::Other(_) => report.is_valid(),
            _ => report.findings.is_empty(),
        };
        assert!(ok, "{code}: {report}");
        for read in [
            ItkResponse::from_json(&msg.to_json().unwrap()).unwrap(),
            ItkResponse::from_xml(&msg.to_xml().unwrap()).unwrap(),
        ] {
            assert_eq!(read.response.code, code);
            assert_eq!(
                read.response.in_response_to,
                original.message_id.to_string()
            );
            assert_eq!(
                read.response.sender_reference,
                answer_sender_reference(&original)
            );
            assert_eq!(read.responder_id.as_deref(), Some("A00001"));
            assert_eq!(read.responder_mailbox, "A00001OT01");
            assert_eq!(
                read.response_type,
                if code.is_positive() {
                    "ok"
                } else {
                    "fatal-error"
                }
            );
            assert_eq!(read.response.diagnostics.is_some(), !code.is_positive());
        }
        assert_eq!(msg.mesh.to, "X26OT001");
        assert_eq!(msg.mesh.workflow_id, "GPCONNECT_SEND_DOCUMENT_ACK");
    }
}

fn answer_sender_reference(original: &ItkMessage) -> String {
    let json = original.to_json().unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["entry"][0]["resource"]["extension"][0]["extension"][4]["valueString"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn kinds_and_unreadable_originals() {
    assert_eq!(
        ItkResponse::new(ResponseCode::PatientKnownHere, "x", "None").kind(),
        AckKind::Business
    );
    assert_eq!(
        ItkResponse::new(ResponseCode::Success, "x", "None").kind(),
        AckKind::Infrastructure
    );
    let empty: gpconnect_fhir::fhir_model::stu3::resources::Bundle =
        serde_json::from_str(r#"{"resourceType":"Bundle","type":"message"}"#).unwrap();
    let r = ItkResponse::answering(ResponseCode::UnreadableMessage, &empty);
    assert_eq!(r.in_response_to, UNREADABLE_ORIGINAL);
    assert_eq!(r.sender_reference, "None");
}

#[test]
fn a_send_document_is_not_a_response() {
    let msg = send_document_message();
    assert!(ItkResponse::from_json(&msg.to_json().unwrap()).is_err());
    assert!(ItkResponse::from_xml(&msg.to_xml().unwrap()).is_err());
    assert!(ItkResponse::from_json(r#"{"resourceType":"Patient"}"#).is_err());
}
