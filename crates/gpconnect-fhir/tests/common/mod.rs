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

/// The clinical content of the public "Elizabeth Black" mental health discharge, rebuilt
/// through the builder (fictitious patient and organisations; the example's codes, roles and
/// section membership).
pub fn coded_discharge() -> MentalHealthDischarge {
    use gpconnect_fhir::clinical::{
        Allergies, CareContact, Coded, DataDictionaryCode, Diagnosis, JobRole, LocationDetails,
        MedicationChange, MedicationItem, ProcedureItem,
    };
    let snomed = |code: &str, display: &str| Coded::snomed(code, display).unwrap();
    let trust = OrganisationDetails::new(
        OdsCode::try_from("RX1").unwrap(),
        "Example Mental Health Trust",
    );
    let tablet = snomed("385055001", "Tablet");
    let oral = snomed("260548002", "Oral");
    let consultant = JobRole::new("R0050", "Consultant");
    let stay = EncounterDetails::new(at(12, 0) - chrono::Duration::days(21), Some(at(12, 0)))
        .at_location(LocationDetails::new("Example Ward").with_local_identifier("RX1EW"))
        .discharged_by_author()
        .spell_type(snomed("163771000000109", "Mental health care spell"))
        .reason(snomed("64905009", "Paranoid schizophrenia"))
        .admission_method(
            DataDictionaryCode::new(
                "21",
                "Accident and emergency or dental casualty department of the Health Care Provider",
            )
            .unwrap(),
        )
        // The displays are the example's, double spaces included.
        .admission_source(
            DataDictionaryCode::new(
                "51",
                "NHS other Hospital Provider - Ward for general Patients or the younger  physically disabled or A and E department",
            )
            .unwrap(),
        )
        .discharge_destination(
            DataDictionaryCode::new(
                "29",
                "Temporary place of residence when usually resident elsewhere  (e.g. hotels, residential Educational Establishment)",
            )
            .unwrap(),
        );
    let mut b = MentalHealthDischarge::new(
        patient().with_gender(Gender::Female),
        gp_practice(),
        trust.clone(),
        PractitionerDetails::new("Author", ["Alex"])
            .with_prefix("Dr")
            .with_phone("0100 000 0001"),
        "RX1OT001",
        at(12, 0),
        "Admitted under section 2; psychotic symptoms settled on olanzapine.",
        "replaced by the coded allergies",
    )
    .encounter(stay)
    .allergies(Allergies::NoKnownAllergies)
    .diagnoses([Diagnosis::new(snomed("64905009", "Paranoid schizophrenia"))])
    .medications([
        MedicationItem::new(
            snomed(
                "23485211000001100",
                "Olanzapine 10mg tablets (Accord Healthcare Ltd)",
            ),
            MedicationChange::Continued,
        )
        .form(tablet.clone())
        .route(oral.clone()),
        MedicationItem::new(
            snomed(
                "889411000001101",
                "Diazepam 2mg tablets (A A H Pharmaceuticals Ltd)",
            ),
            MedicationChange::Added,
        )
        .form(tablet)
        .route(oral),
    ])
    .procedures([ProcedureItem::new(snomed(
        "89732002",
        "Drug of abuse screen",
    ))])
    .author_role(JobRole::new("R0110", "Specialist Registrar"))
    .author_specialty(snomed("408467006", "Adult mental illness - speciality"))
    .referrer(
        CareContact::new(
            PractitionerDetails::new("Referrer", ["Dana"]).with_prefix("Dr"),
            trust.clone(),
        )
        .role(consultant.clone()),
    )
    .distribution([
        CareContact::new(
            PractitionerDetails::new("Gp", ["Jamie"])
                .with_prefix("Dr")
                .with_sds_user_id("000000000002"),
            gp_practice(),
        )
        .role(JobRole::new("R0260", "General Medical Practitioner")),
        CareContact::new(
            PractitionerDetails::new("Consultant", ["Gale"])
                .with_prefix("Mrs")
                .with_sds_user_id("000000000003"),
            trust,
        )
        .role(consultant),
    ]);
    for (section, text) in [
        (MhSection::AdmissionDetails, "Admitted via A&E."),
        (
            MhSection::DischargeDetails,
            "Discharged to temporary accommodation.",
        ),
        (MhSection::IndividualRequirements, "None."),
        (
            MhSection::InformationAndAdviceGiven,
            "Relapse signs discussed.",
        ),
        (MhSection::InvestigationResults, "Drug screen negative."),
        (MhSection::LegalInformation, "Section 2 discharged."),
        (
            MhSection::PatientAndCarerConcerns,
            "Wishes to return to work.",
        ),
        (
            MhSection::PlanAndRequestedActions,
            "GP to review in 2 weeks.",
        ),
        (MhSection::SafetyAlerts, "None known."),
        (MhSection::SocialContext, "Lives alone."),
    ] {
        b = b.section(section, text);
    }
    b
}

pub fn coded_discharge_message() -> ItkMessage {
    coded_discharge()
        .build(&mut SequentialIds::new(0xC0))
        .unwrap()
}
