//! `Debug` of every request and response that can carry free text never prints that text, a
//! patient's name, address or NHS number in full, or the API key.
//!
//! The values are built with struct literals naming every field, so a field added later fails
//! to compile here until the test decides what it holds.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveDateTime};

use crate::codec::{ClientIntegrationRequest, ClientIntegrationResponse, RequestHeader};
use crate::error::Error;
use crate::framer::Framer;
use crate::record::{
    Activity, Appointment, AppointmentStatus, Attachment, Clinic, ClinicalCode, Comparator,
    DataItem, Demographics, DrugSensitivity, Episodicity, Event, FollowUpAction, Ingredient,
    Letter, LetterDirection, Medication, Narrative, NonClinicalItem, ProblemSeverity, Recall,
    Reminder, ReminderSeverity, RepeatMedication, Report, Slot, Task, Vaccination, Visit,
};
use crate::types::{
    Address, ApiKey, AppointmentUid, Code, DeviceId, DocumentUid, Drug, DrugScheme, EventUid,
    Identity, PatientId, PersonName, ProblemUid, RecordState, ReferralUid, RequestUid, ResponseUid,
    Sex, TaskUid, VisitUid, YesNo,
};
use crate::xml::RawElement;
use crate::{
    FunctionName, Request, Response, delete_patient_record, get_diary, get_document,
    get_patient_record, launch_functionality, patient_search, update_patient_record,
};
use nhs_identifiers::NhsNumber;

/// Free text naming a patient and their address, put in every free-text field.
const SECRET: &str = "Chris SAMPLE lives at 1 Example Road";
/// The fictitious patient's NHS number, written in full nowhere in `Debug`.
const NHS: &str = "9990001111";
const API_KEY: &str = "0a1b2c3d4e5f6071";

/// What must never appear: the name, the address, the NHS number, date of birth, API key.
const FORBIDDEN: [&str; 6] = [
    "SAMPLE",
    "Example Road",
    NHS,
    "999 000 1111",
    "1970",
    API_KEY,
];

fn secret() -> Option<String> {
    Some(SECRET.to_owned())
}

fn text(value: &str) -> Option<String> {
    Some(value.to_owned())
}

fn nhs() -> NhsNumber {
    NHS.parse().unwrap()
}

fn at(day: u32, hour: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, day)
        .unwrap()
        .and_hms_opt(hour, 0, 0)
        .unwrap()
}

fn date(day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2026, 4, day)
}

fn raw_secret(name: &str) -> RawElement {
    let mut child = RawElement::new("Title");
    child.text = SECRET.to_owned();
    let mut raw = RawElement::new(name);
    raw.text = SECRET.to_owned();
    raw.attributes.push(("Name".to_owned(), SECRET.to_owned()));
    raw.children.push(child);
    raw
}

fn address() -> Address {
    Address {
        house_name: secret(),
        house_number: text("1"),
        road: text("Example Road"),
        locality: secret(),
        town: secret(),
        county: secret(),
        postcode: text("LS1 1AA SAMPLE"),
    }
}

fn person() -> PersonName {
    PersonName {
        title: text("Mx"),
        first_name: text("Chris"),
        middle_names: secret(),
        surname: text("SAMPLE"),
    }
}

fn identity() -> Identity {
    Identity {
        patient: Some(PatientId::NhsNumber(nhs())),
        strategic_reporting_identifier: text("SAMPLE-42"),
    }
}

fn demographics() -> Demographics {
    Demographics {
        title: text("Mx"),
        first_name: text("Chris"),
        middle_names: secret(),
        surname: text("SAMPLE"),
        known_as: secret(),
        date_of_birth: NaiveDate::from_ymd_opt(1970, 5, 14),
        sex: Some(Sex::Female),
        marital_status: Some(Code::ctv3("1331.").with_term("Single")),
        ethnicity: None,
        main_language: None,
        english_speaker: Some(YesNo::Yes),
        address: Some(address()),
        home_telephone: secret(),
        work_telephone: secret(),
        mobile_telephone: secret(),
        alternate_telephone: secret(),
        email_address: text("chris.SAMPLE@example.invalid"),
        sms_consent: Some(YesNo::No),
        usual_gp_user_name: text("jbloggs1234"),
        care_start_date: date(1),
        registration_type: text("GMS"),
    }
}

fn items() -> Vec<DataItem> {
    vec![
        DataItem::Narrative(Narrative {
            lines: vec![SECRET.to_owned(), format!("NHS number {NHS}")],
        }),
        DataItem::ClinicalCode(ClinicalCode {
            code: Code::snomed("195967001").with_term("Asthma"),
            free_text: secret(),
            episodicity: Some(Episodicity::New),
            problem_uid: Some(ProblemUid::new("b95ee04200000000")),
            problem_severity: Some(ProblemSeverity::Major),
            problem_end_date: date(2),
            value: text("72.5"),
            units: text("kg"),
            comparator: Some(Comparator::Equal),
            linked_problem_uids: vec![ProblemUid::new("c000000000000001")],
        }),
        DataItem::Medication(Medication {
            medication_type: text("Acute"),
            drug: Some(Drug::new(DrugScheme::Multilex, "12345")),
            dose: text("Two puffs when required"),
            quantity: text("1 inhaler"),
            start_date: date(3),
            end_date: date(4),
            end_reason: secret(),
            repeat_issue: text("1"),
        }),
        DataItem::RepeatMedication(RepeatMedication {
            drug: Some(Drug::new(DrugScheme::Dmd, "3200011")),
            dose: text("One daily"),
            quantity: text("28 tablets"),
            start_date: date(5),
            max_issues: text("6"),
            review_date: date(6),
            issue_duration_days: text("28"),
            medication_type: text("Repeat"),
        }),
        DataItem::DrugSensitivity(DrugSensitivity {
            sensitivity_type: text("Ingredient"),
            drug: None,
            ingredient: Some(Ingredient {
                scheme: text("Multilex"),
                ingredient_id: text("555"),
                name: text("Penicillin"),
                details: text("Rash"),
            }),
            free_text: secret(),
            end_date: date(7),
            ended_with_unknown_date: false,
        }),
        DataItem::Vaccination(Vaccination {
            name: text("Influenza"),
            batch_number: text("AB123"),
            notes: secret(),
            part_type: text("First"),
            dosage: text("0.5 ml"),
        }),
        DataItem::Recall(Recall {
            recall_date: date(8),
            recall_type: text("Asthma review"),
            free_text: secret(),
            comments: secret(),
            status: text("Pending"),
        }),
        DataItem::Reminder(Reminder {
            free_text: secret(),
            severity: Some(ReminderSeverity::High),
            expiry_date: date(9),
        }),
        DataItem::Report(Report {
            battery_headers: Some(raw_secret("BatteryHeaders")),
            issue_date: date(10),
            result: secret(),
            comments: secret(),
            patient_to_be_informed: text("Yes"),
            result_given_date: date(11),
            archived_date: date(12),
            collection_date: date(13),
            report_type: text("Pathology"),
            follow_up_actions: vec![FollowUpAction {
                action: text("No action"),
                comments: secret(),
            }],
        }),
        DataItem::Letter(Letter {
            recipient_name: Some(person()),
            recipient_organisation: text("Leeds General Infirmary"),
            recipient_address: Some(address()),
            sender_name: Some(person()),
            sender_organisation: text("Test Surgery"),
            sender_address: Some(address()),
            document_path: Some(format!(r"C:\Letters\{SECRET}.docx")),
            letter_type: text("Miscellaneous"),
            direction: Some(LetterDirection::Outgoing),
            date_sent_received: date(14),
            document_uid: Some(DocumentUid::new("5e6f700000000000")),
        }),
        DataItem::Attachment(Attachment {
            document_path: Some(format!(r"C:\Scans\{SECRET}.pdf")),
            url: Some(format!("https://files.invalid/?patient={SECRET}&nhs={NHS}")),
            file_name: Some(format!("{SECRET}.pdf")),
            file_size: text("20480"),
            document_uid: Some(DocumentUid::new("4d5e6f0000000000")),
            comments: secret(),
        }),
        DataItem::Activity(Activity {
            performed: text("Assessment"),
            with: text("Patient"),
            method: text("Face to face"),
            duration: Some(15),
        }),
        DataItem::Other(raw_secret("CarePlan")),
    ]
}

fn event() -> Event {
    Event {
        date_time: Some(at(3, 10)),
        user_name: text("jbloggs1234"),
        done_by: secret(),
        done_at: secret(),
        method: text("Telephone"),
        software: text("Test Software"),
        linked_referral_uid: Some(ReferralUid::new("6510300000000000")),
        event_uid: Some(EventUid::new("1a2b3c0000000000")),
        linked_problem_uids: vec![ProblemUid::new("b95ee04200000000")],
        items: items(),
    }
}

fn non_clinical() -> Vec<NonClinicalItem> {
    vec![
        NonClinicalItem::Appointment(Appointment {
            appointment_uid: Some(AppointmentUid::new("7a8b9c0000000000")),
            date_time: Some(at(10, 9)),
            duration: Some(10),
            clinician: text("BLOGGS, Jo"),
            user_name: text("jbloggs1234"),
            site: text("Test Surgery"),
            clinic_type: text("GP Clinic"),
            clinic: Some(Clinic {
                user_name: text("jbloggs1234"),
                site_name: text("Test Surgery"),
                clinic_type: text("GP Clinic"),
                slots: vec![Slot {
                    slot_type: text("Routine"),
                    date_time_start: Some(at(10, 9)),
                    duration: Some(10),
                }],
            }),
            status: Some(AppointmentStatus::Booked),
            comments: secret(),
            linked_referral_uid: Some(ReferralUid::new("6510300000000000")),
            flag: secret(),
        }),
        NonClinicalItem::Task(Task {
            task_uid: Some(TaskUid::new("4e8b2d0000000000")),
            date_time: Some(at(3, 11)),
            task_type: text("Clinical Review Required"),
            status: text("Not Started"),
            due: date(15),
            content: secret(),
            user_name_assigned: text("jbloggs1234"),
            group_name_assigned: text("Nurses"),
            team_name_assigned: text("District"),
        }),
        NonClinicalItem::Visit(Visit {
            visit_uid: Some(VisitUid::new("8b9cad0000000000")),
            date_time: Some(at(12, 14)),
            duration: Some(30),
            comments: secret(),
            user_name: text("ssample5678"),
            linked_referral_uid: None,
            status: text("Pending"),
        }),
        NonClinicalItem::Other(raw_secret("Referral")),
    ]
}

fn header() -> RequestHeader {
    RequestHeader::new(
        ApiKey::new(API_KEY),
        DeviceId::new("7c41d09e2b8a5f13"),
        "nhs-integration-rs 0.1.0",
        RequestUid::new("1"),
    )
}

fn requests() -> Vec<Request> {
    vec![
        update_patient_record::v1::Request {
            identity: PatientId::NhsNumber(nhs()),
            demographics: Some(demographics()),
            events: vec![event()],
            non_clinical: non_clinical(),
            leave_record_open: true,
        }
        .into(),
        get_patient_record::v1::Request {
            identity: Some(PatientId::NhsNumber(nhs())),
            leave_record_open: false,
            filter: Some(get_patient_record::v1::Filter {
                min_effective_date: date(1),
                max_effective_date: date(2),
                min_entry_date: date(3),
                max_entry_date: date(4),
                sections: BTreeSet::from([get_patient_record::v1::RecordSection::Narrative]),
                clinical_codes: vec!["H33..".to_owned()],
                numeric: vec!["229..".to_owned()],
                user_names_done_by: vec!["jbloggs1234".to_owned()],
            }),
        }
        .into(),
        patient_search::v1::Request {
            first_name: text("Chris"),
            surname: text("SAMPLE"),
            date_of_birth: NaiveDate::from_ymd_opt(1970, 5, 14),
            post_code: text("LS1 1AA SAMPLE"),
            telephone: secret(),
            gender: Some(Sex::Female),
        }
        .into(),
        delete_patient_record::v1::Request {
            identity: Some(PatientId::NhsNumber(nhs())),
            reason: SECRET.to_owned(),
            event_uids: vec![EventUid::new("1a2b3c0000000000")],
            appointment_uids: Vec::new(),
            task_uids: Vec::new(),
            visit_uids: Vec::new(),
            leave_record_open: false,
        }
        .into(),
        get_document::v1::Request {
            identity: PatientId::PseudoNumber(SECRET.to_owned()),
            document_uid: DocumentUid::new("4d5e6f0000000000"),
            write_to: r"C:\Temp\documents".to_owned(),
            leave_record_open: false,
        }
        .into(),
        launch_functionality::v1::Request {
            identity: PatientId::ClientId(SECRET.to_owned()),
            action: Some(launch_functionality::v1::LaunchAction::Attachment {
                document_path: format!(r"C:\Scans\{SECRET}.pdf"),
            }),
        }
        .into(),
    ]
}

fn responses() -> Vec<Response> {
    vec![
        get_patient_record::v1::Response {
            identity: Some(identity()),
            demographics: Some(demographics()),
            events: vec![event()],
            non_clinical: non_clinical(),
            record_state: Some(RecordState::Open),
        }
        .into(),
        get_diary::v1::Response {
            results: vec![get_diary::v1::DiaryEntry {
                identity: Some(identity()),
                demographics: Some(demographics()),
                items: non_clinical(),
            }],
        }
        .into(),
        patient_search::v1::Response {
            results: vec![patient_search::v1::SearchResult {
                identity: identity(),
                first_name: text("Chris"),
                surname: text("SAMPLE"),
                date_of_birth: NaiveDate::from_ymd_opt(1970, 5, 14),
                sex: Some(Sex::Female),
                telephone: secret(),
                address: Some(address()),
            }],
        }
        .into(),
        get_document::v1::Response {
            document_files: vec![format!(r"C:\Temp\documents\{SECRET}.pdf")],
            record_state: Some(RecordState::Closed),
        }
        .into(),
        delete_patient_record::v1::Response {
            identity: Some(identity()),
            record_state: Some(RecordState::Closed),
        }
        .into(),
        launch_functionality::v1::Response {
            identity: Some(identity()),
        }
        .into(),
    ]
}

fn assert_clean(debug: &str) {
    for forbidden in FORBIDDEN {
        assert!(
            !debug.contains(forbidden),
            "{forbidden:?} appears in Debug output:\n{debug}"
        );
    }
}

#[test]
fn debug_of_requests_and_responses_masks_free_text() {
    for request in requests() {
        let envelope = ClientIntegrationRequest::new(header(), request.clone());
        assert_clean(&format!("{request:?}"));
        assert_clean(&format!("{envelope:#?}"));
    }
    for response in responses() {
        let envelope = ClientIntegrationResponse::success(
            crate::codec::ResponseHeader::new(
                DeviceId::new("7c41d09e2b8a5f13"),
                RequestUid::new("1"),
                FunctionName::GetPatientRecord,
                "1.0",
                ResponseUid::new("BDD73226-2FEB-6E95-28EF-E333B266F103"),
            ),
            response.clone(),
        );
        assert_clean(&format!("{response:?}"));
        assert_clean(&format!("{envelope:#?}"));
    }
}

#[test]
fn debug_keeps_structured_values_visible() {
    let debug = format!("{:?}{:?}", requests(), responses());
    for visible in [
        "jbloggs1234",
        "Asthma",
        "195967001",
        "Two puffs when required",
        "Penicillin",
        "Influenza",
        "AB123",
        "Asthma review",
        "Pathology",
        "Miscellaneous",
        "Leeds General Infirmary",
        "20480",
        "Face to face",
        "BLOGGS, Jo",
        "Clinical Review Required",
        "Nurses",
        "EventUid(\"1a2b3c0000000000\")",
        "TaskUid(\"4e8b2d0000000000\")",
        "DocumentUid(\"4d5e6f0000000000\")",
        "2026-03-03T10:00:00",
        "NhsNumber(999 *** **11)",
        "C:\\\\Temp\\\\documents",
        // Masked text still shows that it is there, and its length.
        "done_by: Some(<36 chars>)",
        "lines: [<36 chars>, <21 chars>]",
        "reason: <36 chars>",
    ] {
        assert!(debug.contains(visible), "{visible:?} missing from {debug}");
    }
}

#[test]
fn framer_debug_does_not_dump_buffered_bytes() {
    let mut framer = Framer::default();
    framer.push(format!("<ClientIntegrationResponse><Content>{SECRET}").as_bytes());
    assert!(framer.next_message().unwrap().is_none());
    let debug = format!("{framer:?}");
    // Derived Debug of a Vec<u8> prints each byte as a number.
    let as_numbers = format!("{:?}", &SECRET.as_bytes()[6..12]);
    let as_numbers = as_numbers.trim_matches(|c| c == '[' || c == ']');
    assert!(!debug.contains(as_numbers), "{debug}");
    assert_clean(&debug);
}

#[test]
fn malformed_attribute_errors_do_not_echo_the_value() {
    let input = format!(
        "<ClientIntegrationResponse><Function>GetPatientRecord</Function><Response>\
         <Clinical><Event DoneBy=\"&{SECRET};\"/></Clinical></Response></ClientIntegrationResponse>"
    );
    let error = ClientIntegrationResponse::decode(input.as_bytes()).unwrap_err();
    assert!(matches!(error, Error::Malformed { .. }), "{error:?}");
    assert_clean(&error.to_string());
    assert_clean(&format!("{error:?}"));
}

#[test]
fn pseudo_and_client_ids_stay_masked() {
    let debug = format!(
        "{:?} {:?}",
        PatientId::PseudoNumber(SECRET.to_owned()),
        Identity::new(PatientId::ClientId(SECRET.to_owned()))
    );
    assert_clean(&debug);
}
