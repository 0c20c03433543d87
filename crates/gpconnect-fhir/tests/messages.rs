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
fn coded_discharge_json_snapshot() {
    insta::assert_snapshot!(
        "mh_coded_discharge_json",
        coded_discharge_message().to_json_pretty().unwrap()
    );
}

#[test]
fn coded_discharge_xml_snapshot() {
    insta::assert_snapshot!(
        "mh_coded_discharge_xml",
        coded_discharge_message().to_xml().unwrap()
    );
}

#[test]
fn builds_are_deterministic() {
    assert_eq!(send_document_message(), send_document_message());
    assert_eq!(discharge_message(), discharge_message());
    assert_eq!(coded_discharge_message(), coded_discharge_message());
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
    for msg in [send_document_message(), coded_discharge_message()] {
        assert_clean(&validate_bundle(&msg.bundle));
        assert_clean(&validate_json(&msg.to_json().unwrap()));
    }
    // The narrative-only discharge is valid, with one warning: its allergies are not coded.
    let narrative = discharge_message();
    for report in [
        validate_bundle(&narrative.bundle),
        validate_json(&narrative.to_json().unwrap()),
    ] {
        assert!(report.is_valid(), "{report}");
        let noisy: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.severity <= Severity::Warning)
            .collect();
        assert_eq!(noisy.len(), 1, "{report}");
        assert!(
            noisy[0]
                .message
                .contains("allergies section is narrative only")
        );
    }
}

#[test]
fn json_and_xml_round_trip() {
    for msg in [
        send_document_message(),
        discharge_message(),
        coded_discharge_message(),
    ] {
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

/// The location and ITK3 code of every finding whose message contains `text`.
fn located(report: &gpconnect_fhir::ValidationReport, text: &str) -> Vec<(String, Option<String>)> {
    report
        .matching(text)
        .map(|f| {
            (
                f.location.clone(),
                f.itk_code.as_ref().map(|c| c.code().to_owned()),
            )
        })
        .collect()
}

#[test]
fn validator_checks_handling_keys_profiles_and_header() {
    let msg = send_document_message();
    let mut value: serde_json::Value = serde_json::from_str(&msg.to_json().unwrap()).unwrap();
    let header = &mut value["entry"][0]["resource"];
    let keys = header["extension"][0]["extension"].as_array_mut().unwrap();
    // Drop SenderReference; BusAckRequested false; RecipientType not FA/FI.
    keys.retain(|k| k["url"] != "SenderReference");
    keys[0]["valueBoolean"] = false.into();
    keys[2]["valueCoding"]["code"] = "XX".into();
    header["meta"]["profile"][0] = "https://example.org/not-itk".into();
    header["receiver"] =
        serde_json::json!({"reference": "urn:uuid:00000000-0000-005d-0000-000000000003"});
    value["entry"][1]["resource"]["name"] = "Example Ward Hub".into();
    let document = &mut value["entry"][2]["resource"];
    document["meta"]["profile"][0] = "https://example.org/not-a-document-bundle".into();
    document["entry"][0]["resource"]["subject"]["reference"] =
        "urn:uuid:00000000-0000-005d-0000-0000000000ff".into();
    let report = validate_json(&value.to_string());
    let h = "Bundle.entry[0].resource";
    let ext = format!("{h}.extension(ITKMessageHandling)");
    assert_eq!(
        located(&report, "handling key missing"),
        [(
            format!("{ext}.extension(SenderReference)"),
            Some("10001".to_owned())
        )],
        "{report}"
    );
    assert_eq!(
        located(&report, "must be true for Send Document"),
        [(
            format!("{ext}.extension(BusAckRequested)"),
            Some("10003".to_owned())
        )]
    );
    assert_eq!(
        located(&report, "must be FA or FI"),
        [(
            format!("{ext}.extension(RecipientType).valueCoding.code"),
            Some("10010".to_owned())
        )]
    );
    assert_eq!(
        located(&report, "must include ITK-MessageHeader-2"),
        [(format!("{h}.meta.profile"), Some("20006".to_owned()))]
    );
    assert_eq!(
        located(&report, "must not be present in Send Document"),
        [(format!("{h}.receiver"), Some("10008".to_owned()))]
    );
    assert_eq!(
        located(&report, "not allowed in the header Organization"),
        [(
            "Bundle.entry[1].resource.name".to_owned(),
            Some("20006".to_owned())
        )]
    );
    assert_eq!(
        located(&report, "must include ITK-Document-Bundle-1"),
        [(
            "Bundle.entry[2].resource.meta.profile".to_owned(),
            Some("20009".to_owned())
        )]
    );
    // The dangling Composition.subject is found by the in-bundle reference check.
    assert_eq!(
        located(&report, "does not resolve to an entry in the bundle"),
        [(
            "Bundle.entry[2].resource.entry[0].resource.subject.reference".to_owned(),
            Some("20009".to_owned())
        )]
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.severity == Severity::Error)
    );
    // The handling specification is checked first: its lowest code wins.
    assert_eq!(report.response_code().code(), "10001");
}

#[test]
fn validator_checks_discharge_sections() {
    let msg = discharge_message();
    let mut value: serde_json::Value = serde_json::from_str(&msg.to_json().unwrap()).unwrap();
    let composition = &mut value["entry"][2]["resource"]["entry"][0]["resource"];
    let sections = composition["section"].as_array_mut().unwrap();
    let code = |s: &serde_json::Value| s["code"]["coding"][0]["code"].as_str().unwrap().to_owned();
    // Drop the mandatory GP practice section; give Plan and requested actions a code that is
    // not a section of the profile; re-title Allergies; drop the Clinical summary narrative.
    sections.retain(|s| code(s) != "886711000000101");
    let plan = sections
        .iter()
        .position(|s| code(s) == "887201000000105")
        .unwrap();
    sections[plan]["code"]["coding"][0]["code"] = "1052901000000109".into();
    let allergies = sections
        .iter()
        .position(|s| code(s) == "886921000000105")
        .unwrap();
    sections[allergies]["title"] = "Allergies".into();
    let summary = sections
        .iter()
        .position(|s| code(s) == "887181000000106")
        .unwrap();
    sections[summary].as_object_mut().unwrap().remove("text");
    composition["meta"]["profile"][0] =
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Composition-1".into();
    composition["confidentiality"] = "N".into();
    let report = validate_json(&value.to_string());
    let c = "Bundle.entry[2].resource.entry[0].resource";
    assert_eq!(
        located(
            &report,
            "mandatory section `GP practice` (886711000000101) is missing"
        ),
        [(format!("{c}.section"), Some("20009".to_owned()))],
        "{report}"
    );
    assert_eq!(
        located(&report, "not a section of CareConnect-ITK-MH-Composition-1"),
        [(
            format!("{c}.section[{plan}].code"),
            Some("20009".to_owned())
        )]
    );
    assert_eq!(
        report
            .matching("older code for Individual requirements")
            .count(),
        1
    );
    assert_eq!(
        located(
            &report,
            "the profile fixes `Allergies and adverse reactions`"
        ),
        [(
            format!("{c}.section[{allergies}].title"),
            Some("20009".to_owned())
        )]
    );
    assert_eq!(
        located(&report, "missing (1..1 narrative)"),
        [(
            format!("{c}.section[{summary}].text"),
            Some("20009".to_owned())
        )]
    );
    // The event says ITK004D, so the MH rules apply whatever the profile claims.
    assert_eq!(
        located(&report, "must include CareConnect-ITK-MH-Composition-1"),
        [(format!("{c}.meta.profile"), Some("20009".to_owned()))]
    );
    assert_eq!(
        located(&report, "not allowed in a mental health discharge (0..0)"),
        [(format!("{c}.confidentiality"), Some("20009".to_owned()))]
    );
    assert!(!report.is_valid());
}

#[test]
fn validator_findings_never_repeat_mistyped_patient_data() {
    let msg = send_document_message();
    let n = patient().nhs_number.expose();
    // The NHS number as a JSON number, and the family name where a code belongs: fhir-model
    // rejects both, and its messages would quote them.
    let mutations: [(&str, serde_json::Value); 2] = [
        ("/identifier/0/value", n.parse::<u64>().unwrap().into()),
        ("/gender", "Fictitious".into()),
    ];
    for (pointer, bad) in mutations {
        let mut value: serde_json::Value = serde_json::from_str(&msg.to_json().unwrap()).unwrap();
        let patient = value["entry"][2]["resource"]["entry"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|e| e["resource"]["resourceType"] == "Patient")
            .unwrap();
        match patient["resource"].pointer_mut(pointer) {
            Some(slot) => *slot = bad,
            None => {
                patient["resource"]["gender"] = bad;
            }
        }
        let json = value.to_string();
        let report = validate_json(&json);
        assert_eq!(
            report.matching("not valid FHIR STU3").count(),
            1,
            "{report}"
        );
        let text = report.to_string();
        assert!(!text.contains(&n), "{text}");
        assert!(!text.contains("Fictitious"), "{text}");
        let err = gpconnect_fhir::json::from_json(&json)
            .unwrap_err()
            .to_string();
        assert!(!err.contains(&n) && !err.contains("Fictitious"), "{err}");
    }
}

#[test]
fn validator_requires_the_document_resources() {
    let msg = send_document_message();
    let mut value: serde_json::Value = serde_json::from_str(&msg.to_json().unwrap()).unwrap();
    let entries = value["entry"][2]["resource"]["entry"]
        .as_array_mut()
        .unwrap();
    // No Patient, and the first section entry is not the Binary.
    entries.retain(|e| e["resource"]["resourceType"] != "Patient");
    let practitioner = entries
        .iter()
        .find(|e| e["resource"]["resourceType"] == "Practitioner")
        .unwrap()["fullUrl"]
        .clone();
    entries[0]["resource"]["section"][0]["entry"][0]["reference"] = practitioner;
    let report = validate_json(&value.to_string());
    let d = "Bundle.entry[2].resource";
    assert_eq!(
        located(&report, "exactly one Patient expected, found 0"),
        [(format!("{d}.entry"), Some("20009".to_owned()))],
        "{report}"
    );
    assert_eq!(
        located(
            &report,
            "the primary attachment (a Binary) must be the first section entry"
        ),
        [(
            format!("{d}.entry[0].resource.section[0].entry[0]"),
            Some("20009".to_owned())
        )]
    );
    assert_eq!(
        located(&report, "does not resolve"),
        [(
            format!("{d}.entry[0].resource.subject.reference"),
            Some("20009".to_owned())
        )]
    );
}

/// The coded discharge as JSON, a mutation applied to its document bundle, validated.
fn mutated_coded(mutate: impl FnOnce(&mut serde_json::Value)) -> gpconnect_fhir::ValidationReport {
    let msg = coded_discharge_message();
    let mut value: serde_json::Value = serde_json::from_str(&msg.to_json().unwrap()).unwrap();
    mutate(&mut value["entry"][2]["resource"]);
    validate_json(&value.to_string())
}

const D: &str = "Bundle.entry[2].resource";

fn section_index(doc: &serde_json::Value, code: &str) -> usize {
    doc["entry"][0]["resource"]["section"]
        .as_array()
        .unwrap()
        .iter()
        .position(|s| s["code"]["coding"][0]["code"] == code)
        .unwrap()
}

/// Where the first resource of type `t` sits among the coded discharge's document entries.
fn coded_entry_position(t: &str) -> usize {
    let v: serde_json::Value =
        serde_json::from_str(&coded_discharge_message().to_json().unwrap()).unwrap();
    v["entry"][2]["resource"]["entry"]
        .as_array()
        .unwrap()
        .iter()
        .position(|e| e["resource"]["resourceType"] == t)
        .unwrap()
}

#[test]
fn validator_checks_coded_content_with_locations() {
    let typed = coded_entry_position;
    let condition = typed("Condition");
    let condition_list = condition - 1;
    let allergy_list = typed("AllergyIntolerance") - 1;
    let statement = typed("MedicationStatement");
    let medication = typed("Medication");
    let pay = Some("20009".to_owned());

    // A SNOMED CT code with a wrong check digit (a typing slip).
    let r = mutated_coded(|d| {
        d["entry"][condition]["resource"]["code"]["coding"][0]["code"] = "64905008".into();
    });
    assert_eq!(
        located(&r, "Verhoeff check digit"),
        [(
            format!("{D}.entry[{condition}].resource.code.coding[0].code"),
            pay.clone()
        )],
        "{r}"
    );
    assert!(!r.to_string().contains("64905008"));

    // A description id (partition 01) where a concept is expected; a non-digit code.
    let r = mutated_coded(|d| {
        d["entry"][medication]["resource"]["form"]["coding"][0]["code"] = "100014".into();
        d["entry"][statement]["resource"]["dosage"][0]["route"]["coding"][0]["code"] =
            "oral".into();
    });
    assert_eq!(
        located(&r, "partition identifier"),
        [(
            format!("{D}.entry[{medication}].resource.form.coding[0].code"),
            pay.clone()
        )]
    );
    assert_eq!(
        located(&r, "digits only"),
        [(
            format!("{D}.entry[{statement}].resource.dosage[0].route.coding[0].code"),
            pay.clone()
        )]
    );

    // A long-form medicine code outside the dm+d namespace: a warning, not an error.
    let r = mutated_coded(|d| {
        // 886921000000105 is well formed but in the UK clinical namespace (1000000).
        d["entry"][medication]["resource"]["code"]["coding"][0]["code"] = "886921000000105".into();
    });
    assert_eq!(
        located(&r, "dm+d namespace"),
        [(
            format!("{D}.entry[{medication}].resource.code.coding[0].code"),
            None
        )]
    );
    assert!(r.is_valid(), "{r}");

    // List profile code, an empty list without emptyReason, an item of the wrong type.
    let r = mutated_coded(|d| {
        d["entry"][condition_list]["resource"]["code"]["coding"][0]["code"] =
            "886921000000105".into();
        d["entry"][condition_list]["resource"]["entry"][0]["item"]["reference"] =
            d["entry"][1]["fullUrl"].clone();
        d["entry"][allergy_list]["resource"]
            .as_object_mut()
            .unwrap()
            .remove("entry");
    });
    assert_eq!(
        located(&r, "needs SNOMED CT 887161000000102"),
        [(
            format!("{D}.entry[{condition_list}].resource.code"),
            pay.clone()
        )]
    );
    assert_eq!(
        located(&r, "must reference a CareConnect-ITK-Condition-1"),
        [(
            format!("{D}.entry[{condition_list}].resource.entry[0].item"),
            pay.clone()
        )]
    );
    assert_eq!(
        located(&r, "an empty list needs its emptyReason"),
        [(
            format!("{D}.entry[{allergy_list}].resource.entry"),
            pay.clone()
        )]
    );

    // A list item and a section entry that resolve nowhere in the bundle.
    let r = mutated_coded(|d| {
        d["entry"][condition_list]["resource"]["entry"][0]["item"]["reference"] =
            "urn:uuid:00000000-0000-0000-0000-00000000dead".into();
        let dx = section_index(d, "887161000000102");
        d["entry"][0]["resource"]["section"][dx]["entry"][0]["reference"] =
            "urn:uuid:00000000-0000-0000-0000-00000000beef".into();
    });
    let dx = {
        let msg = coded_discharge_message();
        let v: serde_json::Value = serde_json::from_str(&msg.to_json().unwrap()).unwrap();
        section_index(&v["entry"][2]["resource"], "887161000000102")
    };
    assert_eq!(
        located(&r, "does not resolve to an entry in the bundle"),
        [
            (
                format!("{D}.entry[0].resource.section[{dx}].entry[0].reference"),
                pay.clone()
            ),
            (
                format!("{D}.entry[{condition_list}].resource.entry[0].item.reference"),
                pay.clone()
            ),
        ]
    );

    // Section rules: a target the slice does not allow, a wrong fixed display, and the
    // mandatory allergies section without its coded list.
    let r = mutated_coded(|d| {
        let dx = section_index(d, "887161000000102");
        let patient = d["entry"][1]["fullUrl"].clone();
        d["entry"][0]["resource"]["section"][dx]["entry"][0]["reference"] = patient;
        d["entry"][0]["resource"]["section"][dx]["code"]["coding"][0]["display"] =
            "Diagnosis".into();
        let ax = section_index(d, "886921000000105");
        d["entry"][0]["resource"]["section"][ax]
            .as_object_mut()
            .unwrap()
            .remove("entry");
    });
    assert_eq!(
        located(&r, "the Diagnoses section may not reference a Patient"),
        [(
            format!("{D}.entry[0].resource.section[{dx}].entry[0]"),
            pay.clone()
        )]
    );
    assert_eq!(
        located(&r, "the profile fixes `Diagnoses`"),
        [(
            format!("{D}.entry[0].resource.section[{dx}].code.coding[0].display"),
            pay.clone()
        )]
    );
    assert_eq!(r.matching("allergies section is narrative only").count(), 1);

    // A MedicationStatement whose medicationReference is not a CareConnect-ITK-Medication-1.
    let r = mutated_coded(|d| {
        d["entry"][statement]["resource"]["medicationReference"]["reference"] =
            d["entry"][condition]["fullUrl"].clone();
    });
    assert_eq!(
        located(&r, "must reference a CareConnect-ITK-Medication-1"),
        [(
            format!("{D}.entry[{statement}].resource.medicationReference"),
            pay
        )]
    );
}

#[test]
fn builder_rejects_bad_coded_input() {
    use gpconnect_fhir::clinical::{Allergies, Coded};
    assert!(matches!(
        Coded::snomed("64905008", "Paranoid schizophrenia"),
        Err(Error::InvalidInput {
            field: "snomed_code",
            ..
        })
    ));
    assert!(Coded::snomed("64905009", " ").is_err());
    // Admission method, source and discharge destination codes are two letters or digits.
    use gpconnect_fhir::DataDictionaryCode;
    for bad in ["2", "211", "2 ", "", "2é"] {
        assert!(
            matches!(
                DataDictionaryCode::new(bad, "Accident and emergency"),
                Err(Error::InvalidInput {
                    field: "data_dictionary_code",
                    ..
                })
            ),
            "{bad:?}"
        );
    }
    assert!(DataDictionaryCode::new("21", " ").is_err());
    assert!(DataDictionaryCode::new("2A", "Maternity").is_ok());
    let err = discharge()
        .allergies(Allergies::Recorded(Vec::new()))
        .build(&mut SequentialIds::new(1))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidInput {
            field: "allergies",
            ..
        }
    ));
    let err = discharge()
        .author_specialty(Coded::snomed("408467006", "Adult mental illness - speciality").unwrap())
        .build(&mut SequentialIds::new(1))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidInput {
            field: "author_specialty",
            ..
        }
    ));
}

#[test]
fn empty_allergy_list_carries_its_reason() {
    use gpconnect_fhir::clinical::{Allergies, EmptyReason};
    let msg = discharge()
        .allergies(Allergies::NotRecorded(EmptyReason::NotAsked))
        .build(&mut SequentialIds::new(7))
        .unwrap();
    let report = validate_bundle(&msg.bundle);
    assert!(report.findings.is_empty(), "{report}");
    let v: serde_json::Value = serde_json::from_str(&msg.to_json().unwrap()).unwrap();
    let list = v["entry"][2]["resource"]["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"]["resourceType"] == "List")
        .unwrap();
    assert_eq!(
        list["resource"]["emptyReason"]["coding"][0]["code"],
        "notasked"
    );
    assert!(list["resource"].get("entry").is_none());
}

/// The rules the location test above leaves out: a section referencing a List of another
/// profile, an emptyReason beside entries (lst-1), lists that are not current snapshots, a
/// coded resource without its SNOMED CT coding or its Patient, and the mandatory allergies
/// section missing altogether.
#[test]
fn validator_checks_list_profiles_items_and_the_allergies_section() {
    let position = coded_entry_position;
    let condition = position("Condition");
    let condition_list = condition - 1;
    let allergy = position("AllergyIntolerance");
    let allergy_list = allergy - 1;
    let procedure = position("Procedure");
    let pay = Some("20009".to_owned());

    let r = mutated_coded(|d| {
        d["entry"][condition_list]["resource"]["meta"]["profile"][0] =
            "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-List-1".into();
        d["entry"][allergy_list]["resource"]["emptyReason"] = serde_json::json!({"coding": [{"system": "http://hl7.org/fhir/list-empty-reason", "code": "nilknown"}]});
        d["entry"][allergy_list]["resource"]["status"] = "retired".into();
        d["entry"][allergy_list]["resource"]["mode"] = "working".into();
        d["entry"][procedure]["resource"]["code"]["coding"][0]["system"] =
            "http://read.info/ctv3".into();
        d["entry"][allergy]["resource"]["patient"]["reference"] = d["entry"][4]["fullUrl"].clone();
    });
    let dx = {
        let v: serde_json::Value =
            serde_json::from_str(&coded_discharge_message().to_json().unwrap()).unwrap();
        section_index(&v["entry"][2]["resource"], "887161000000102")
    };
    assert_eq!(
        located(
            &r,
            "the Diagnoses section references a List that is not a CareConnect-ITK-Condition-List-1"
        ),
        [(
            format!("{D}.entry[0].resource.section[{dx}].entry[0]"),
            pay.clone()
        )],
        "{r}"
    );
    assert_eq!(
        located(&r, "only an empty list may have an emptyReason"),
        [(
            format!("{D}.entry[{allergy_list}].resource.emptyReason"),
            pay.clone()
        )]
    );
    assert_eq!(
        located(&r, "the ToC lists are"),
        [
            (format!("{D}.entry[{allergy_list}].resource.status"), None),
            (format!("{D}.entry[{allergy_list}].resource.mode"), None),
        ]
    );
    assert_eq!(
        located(&r, "needs a SNOMED CT coding"),
        [(format!("{D}.entry[{procedure}].resource.code"), pay.clone())]
    );
    assert_eq!(
        located(&r, "must reference the Patient"),
        [(
            format!("{D}.entry[{allergy}].resource.patient"),
            pay.clone()
        )]
    );

    // No allergies section at all: an error, not the narrative-only warning.
    let r = mutated_coded(|d| {
        let ax = section_index(d, "886921000000105");
        d["entry"][0]["resource"]["section"]
            .as_array_mut()
            .unwrap()
            .remove(ax);
    });
    assert_eq!(
        located(
            &r,
            "mandatory section `Allergies and adverse reactions` (886921000000105) is missing"
        ),
        [(format!("{D}.entry[0].resource.section"), pay)],
        "{r}"
    );
    assert!(!r.is_valid());
}
