//! Fictitious inputs shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use gpconnect_fhir::discharge::{EncounterDetails, MhSection};
use gpconnect_fhir::{
    AttachmentData, Gender, ItkMessage, MentalHealthDischarge, OrganisationDetails, PatientDetails,
    PractitionerDetails, SendDocument, SequentialIds,
};
use nhs_identifiers::{NhsNumber, OdsCode};

pub fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 14, h, m, 0).unwrap()
}

pub fn patient() -> PatientDetails {
    PatientDetails::new(
        NhsNumber::fictitious(42),
        "Fictitious",
        ["Robin", "Alex"],
        NaiveDate::from_ymd_opt(1984, 2, 29).unwrap(),
    )
}

pub fn ward_hub() -> OrganisationDetails {
    OrganisationDetails::new(OdsCode::try_from("X26").unwrap(), "Example Ward Hub")
        .with_phone("0100 000 0000")
}

pub fn gp_practice() -> OrganisationDetails {
    OrganisationDetails::new(
        OdsCode::try_from("A00001").unwrap(),
        "Example Medical Centre",
    )
}

pub fn clinician() -> PractitionerDetails {
    PractitionerDetails::new("Example", ["Sam"])
        .with_prefix("Dr")
        .with_sds_user_id("000000000001")
}

pub fn send_document() -> SendDocument {
    SendDocument::new(
        patient(),
        ward_hub(),
        "X26OT001",
        "Consultation report",
        at(10, 30),
    )
    .author(clinician())
    .attachment(AttachmentData::pdf(
        "Consultation report",
        b"%PDF-1.4 fictitious".to_vec(),
    ))
    .attachment(AttachmentData::text(
        "Consultation note",
        "Seen on the ward.\nAll well.",
    ))
}

pub fn send_document_message() -> ItkMessage {
    send_document()
        .build(&mut SequentialIds::new(0x5D))
        .unwrap()
}

pub fn discharge() -> MentalHealthDischarge {
    MentalHealthDischarge::new(
        patient().with_gender(Gender::Female),
        gp_practice(),
        OrganisationDetails::new(
            OdsCode::try_from("RX1").unwrap(),
            "Example Mental Health Trust",
        ),
        clinician(),
        "RX1OT001",
        at(16, 0),
        "Admitted informally; mood improved; discharged home.",
        "No known drug allergies.",
    )
    .encounter(EncounterDetails::new(
        at(9, 0) - chrono::Duration::days(20),
        Some(at(15, 0)),
    ))
    .section(MhSection::AdmissionDetails, "Informal admission.")
    .section(
        MhSection::DischargeDetails,
        "Discharged home with follow-up.",
    )
    .section(
        MhSection::PlanAndRequestedActions,
        "GP to review medication in 2 weeks.",
    )
}

pub fn discharge_message() -> ItkMessage {
    discharge().build(&mut SequentialIds::new(0x4D)).unwrap()
}

pub const EXAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/examples/fhir/"
);

/// Reads a public example, or `None` (with a note) when the directory is not there.
pub fn example(name: &str) -> Option<String> {
    let path = format!("{EXAMPLES}{name}");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            eprintln!("note: public example {path} not found; skipping");
            None
        }
    }
}
