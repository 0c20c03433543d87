#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Helpers shared by the integration tests.

use std::path::PathBuf;

use systmone_api::{ApiKey, DeviceId, RequestHeader, RequestUid};

/// The header used by every example request.
pub fn header() -> RequestHeader {
    RequestHeader::new(
        ApiKey::new("0a1b2c3d4e5f6071"),
        DeviceId::new("7c41d09e2b8a5f13"),
        "nhs-integration-rs 0.1.0",
        RequestUid::new("1"),
    )
}

/// Path of a fixture file.
#[allow(dead_code)]
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A fixture's bytes.
#[allow(dead_code)]
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

/// Collapses pretty-printed XML onto one line (strip each line, join), as the KCL client did.
pub fn one_line(pretty: &str) -> String {
    pretty.lines().map(str::trim).collect::<Vec<_>>().join("")
}

/// A fictitious patient whose number is valid (the reference's `9990001112` fails Modulus 11).
pub fn patient() -> systmone_api::NhsNumber {
    "9990001111".parse().unwrap()
}

/// One representative request of every function, named by its wire function.
#[allow(dead_code)]
pub fn sample_requests() -> Vec<(&'static str, systmone_api::Request)> {
    use chrono::{NaiveDate, NaiveDateTime};
    use systmone_api::record::*;
    use systmone_api::*;

    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap();

    let mut search =
        patient_search::v1::Request::by_surname_and_birth_date("Example", date(1970, 5, 14));
    search.gender = Some(Sex::Female);

    let mut filter = get_patient_record::v1::Filter::sections([
        get_patient_record::v1::RecordSection::ClinicalCodes,
        get_patient_record::v1::RecordSection::Narrative,
        get_patient_record::v1::RecordSection::Tasks,
    ])
    .with_entry_date(date(2026, 3, 3));
    filter.numeric = vec!["229..".into(), "22A..".into()];
    filter.user_names_done_by = vec!["jbloggs1234".into()];
    let mut record = get_patient_record::v1::Request::new(patient(), Some(filter));
    record.leave_record_open = true;

    let mut code = ClinicalCode::new(Code::snomed("871731000000106"))
        .with_free_text("Linked to local walking group");
    code.episodicity = Some(Episodicity::New);
    let mut weight = ClinicalCode::new(Code::ctv3("22A.."));
    weight.value = Some("72.5".into());
    weight.units = Some("kg".into());
    weight.comparator = Some(Comparator::Equal);
    let mut letter = Letter::default();
    letter.recipient_organisation = Some("Example Hospital".into());
    letter.document_path = Some(r"C:\IntegrationOutbox\letter.pdf".into());
    letter.letter_type = Some("Miscellaneous".into());
    letter.direction = Some(LetterDirection::Outgoing);
    let mut attachment = Attachment::from_path(r"C:\IntegrationOutbox\referral-summary.pdf");
    attachment.comments = Some("Referral summary from external service".into());
    let mut medication = Medication::default();
    medication.drug = Some(Drug::new(DrugScheme::Dmd, "39732311000001104"));
    medication.dose = Some("One tablet four times a day".into());
    medication.quantity = Some("32 tablets".into());
    let mut demographics = Demographics::default();
    demographics.mobile_telephone = Some("07700900123".into());
    demographics.sms_consent = Some(YesNo::Yes);
    let mut booking = Appointment::default();
    let mut clinic = Clinic::default();
    clinic.user_name = Some("jbloggs1234".into());
    clinic.site_name = Some("Example Surgery".into());
    clinic.clinic_type = Some("GP Clinic".into());
    let mut slot = Slot::default();
    slot.slot_type = Some("Routine".into());
    slot.date_time_start = Some(at("2026-03-10T09:30:00"));
    slot.duration = Some(10);
    clinic.slots.push(slot);
    booking.clinic = Some(clinic);
    booking.flag = Some("Booked via integration".into());
    let mut arrived = Appointment::default();
    arrived.appointment_uid = Some(AppointmentUid::new("7a8b9c0000000000"));
    arrived.status = Some(AppointmentStatus::Arrived);
    let update = update_patient_record::v1::Request::new(patient())
        .with_demographics(demographics)
        .with_event(
            Event::new(vec![
                code.into(),
                weight.into(),
                Narrative::new([
                    "Telephone review completed.",
                    "Line with\na newline & <markup>",
                ])
                .into(),
                DataItem::Medication(medication),
                DataItem::Letter(letter),
                DataItem::Attachment(attachment),
            ])
            .with_user_name("jbloggs1234")
            .with_date_time(at("2026-03-03T10:15:00"))
            .with_done_by("Example Social Prescribing Service")
            .with_done_at("Community hub")
            .with_method("Telephone"),
        )
        .with_non_clinical(
            Task::new(
                "Clinical Review Required",
                "Please review social prescribing outcome.",
            )
            .assigned_to_user("jbloggs1234"),
        )
        .with_non_clinical(booking)
        .with_non_clinical(arrived);

    let mut delete = delete_patient_record::v1::Request::event(
        patient(),
        EventUid::new("5b7c3e0000000000"),
        "Filed against wrong patient",
    );
    delete.task_uids.push(TaskUid::new("4e8b2d0000000000"));

    let mut slots = get_appointment_slots::v1::Request::between(
        at("2026-03-10T08:00:00"),
        at("2026-03-10T18:00:00"),
    );
    slots.user_names = vec!["jbloggs1234".into()];
    slots.site_names = vec!["Example Surgery".into()];
    slots.clinic_types = vec!["GP Clinic".into()];
    slots.slot_types = vec!["Routine".into()];

    let mut diary =
        get_diary::v1::Request::between(at("2026-03-10T00:00:00"), at("2026-03-11T00:00:00"));
    diary.user_names = vec!["jbloggs1234".into()];
    diary.appointments = true;

    let mut extract = data_extract::v1::Request::new(r"C:\Extracts", "SRPatient");
    extract.sr_manifest_crc = Some("3141592653".into());

    let mut xsd = get_xsd_files::v1::Request::new();
    xsd.path = Some(r"C:\Temp".into());

    let mut exit = exit_client::v1::Request::new();
    exit.restart = true;

    vec![
        ("GetFunctions", get_functions::v1::Request::new().into()),
        (
            "GetOrganisationMetaData",
            get_organisation_meta_data::v1::Request::logged_on_user_only().into(),
        ),
        (
            "GetCurrentActivity",
            get_current_activity::v1::Request::new().into(),
        ),
        (
            "GetCurrentSelection",
            get_current_selection::v1::Request::new().into(),
        ),
        ("PatientSearch", search.into()),
        ("GetPatientRecord", record.into()),
        ("UpdatePatientRecord", update.into()),
        (
            "GetDocument",
            get_document::v1::Request::new(
                patient(),
                DocumentUid::new("4d5e6f0000000000"),
                r"C:\IntegrationInbox",
            )
            .into(),
        ),
        ("DeletePatientRecord", delete.into()),
        ("GetAppointmentSlots", slots.into()),
        ("GetDiary", diary.into()),
        ("ExitClient", exit.into()),
        ("DataExtract", extract.into()),
        (
            "LaunchFunctionality",
            launch_functionality::v1::Request::new(
                patient(),
                Some(launch_functionality::v1::LaunchAction::ClinicalCode {
                    code: Code::ctv3("H33.."),
                    problem_severity: Some(ProblemSeverity::Major),
                }),
            )
            .into(),
        ),
        ("GetXSDFiles", xsd.into()),
        (
            "GetReferenceData",
            get_reference_data::v1::Request::new().into(),
        ),
        (
            "IsPatientRetrieved",
            is_patient_retrieved::v1::Request::new().into(),
        ),
    ]
}
