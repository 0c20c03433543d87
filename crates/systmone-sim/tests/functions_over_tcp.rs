//! Every function of the catalogue, driven through a real TCP connection to the simulator.
//! Response shapes are pinned with insta snapshots (fixed clock, seeded ids).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use common::{API_KEY, nhs, relaxed_tcp_gateway, request, tcp};
use systmone_api::get_patient_record::v1::{Filter, RecordSection};
use systmone_api::record::{
    Appointment, Attachment, Clinic, ClinicalCode, Event, Narrative, Slot, Task,
};
use systmone_api::{
    Code, DocumentUid, EventUid, FunctionName, RecordState, Response, Sex, TaskUid, data_extract,
    delete_patient_record, exit_client, get_appointment_slots, get_current_activity,
    get_current_selection, get_diary, get_document, get_functions, get_organisation_meta_data,
    get_patient_record, get_reference_data, get_xsd_files, is_patient_retrieved,
    launch_functionality, patient_search, update_patient_record,
};
use systmone_sim::{Availability, ManualClock, Organisation, RequestOutcome};

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 3).unwrap()
}

fn org() -> Organisation {
    Organisation::builtin_default()
        .with_clock(Arc::new(ManualClock::new(at("2026-03-03T10:15:02"))))
}

fn note(user: &str, text: &str) -> Event {
    Event::new(vec![
        ClinicalCode::new(Code::snomed("871731000000106"))
            .with_free_text("Linked to walking group")
            .into(),
        Narrative::new([text]).into(),
    ])
    .with_user_name(user)
    .with_done_at("Community hub")
    .with_method("Telephone")
}

#[tokio::test]
async fn first_contact_allocates_a_device_id_and_lists_every_function() {
    let org = org();
    let (sim, addr) = relaxed_tcp_gateway(&org).await;
    let mut conn = tcp(addr).await;
    let answer = conn
        .send(&request("", "1", get_functions::v1::Request::new()))
        .await
        .line();
    insta::assert_snapshot!("get_functions", answer);
    let response = systmone_api::ClientIntegrationResponse::decode(answer.as_bytes()).unwrap();
    let device = response.header.device_id.as_str().to_owned();
    assert_eq!(device.len(), 16);
    assert_eq!(sim.allocated_devices(), vec![device.clone()]);
    let functions = response
        .into_typed::<get_functions::v1::Request>()
        .unwrap()
        .functions;
    assert_eq!(functions.len(), systmone_api::all_functions().count());
    assert!(
        functions
            .iter()
            .any(|f| f.function == FunctionName::DeletePatientRecord)
    );
    // The same connection serves many exchanges; the device id is echoed from now on.
    for i in 2..5 {
        let again = conn
            .call(&request(
                &device,
                &i.to_string(),
                get_functions::v1::Request::new(),
            ))
            .await;
        assert_eq!(again.header.device_id.as_str(), device);
        assert_eq!(again.header.request_uid.as_str(), i.to_string());
    }
    assert_eq!(sim.allocated_devices().len(), 1);
    assert_eq!(sim.request_log().len(), 4);
    assert!(sim.request_log().iter().all(|r| r.answered()));
}

#[tokio::test]
async fn organisation_metadata_marks_the_gateway_user_and_site() {
    let org = org();
    let (_sim, addr) = relaxed_tcp_gateway(&org).await;
    let mut conn = tcp(addr).await;
    let full = conn
        .send(&request(
            "d1",
            "1",
            get_organisation_meta_data::v1::Request::new(),
        ))
        .await
        .line();
    insta::assert_snapshot!("get_organisation_meta_data", full);
    let only = conn
        .call(&request(
            "d1",
            "2",
            get_organisation_meta_data::v1::Request::logged_on_user_only(),
        ))
        .await
        .into_typed::<get_organisation_meta_data::v1::Request>()
        .unwrap();
    assert_eq!(only.users.len(), 1);
    assert_eq!(
        only.current_user().unwrap().user_name.as_deref(),
        Some("gateway0001")
    );
    assert_eq!(only.sites.len(), 1);
    assert!(only.sites[0].current_site);
}

#[tokio::test]
async fn patient_search_needs_two_criteria() {
    let org = org();
    let (_sim, addr) = relaxed_tcp_gateway(&org).await;
    let mut conn = tcp(addr).await;
    let found = conn
        .send(&request(
            "d1",
            "1",
            patient_search::v1::Request::by_surname_and_birth_date(
                "Example",
                NaiveDate::from_ymd_opt(1970, 5, 14).unwrap(),
            ),
        ))
        .await
        .line();
    insta::assert_snapshot!("patient_search", found);
    // One criterion: systmone-api refuses to encode it, so send the XML by hand.
    let one = format!(
        "<ClientIntegrationRequest><APIKey>{API_KEY}</APIKey><DeviceID>d1</DeviceID><DeviceVersion>t</DeviceVersion><RequestUID>2</RequestUID><Function>PatientSearch</Function><FunctionVersion>1.0</FunctionVersion><FunctionParameters><Surname>Example</Surname></FunctionParameters></ClientIntegrationRequest>\n"
    );
    let error = conn.raw(one.as_bytes()).await.line();
    insta::assert_snapshot!("patient_search_one_criterion", error);
    let error = systmone_api::ClientIntegrationResponse::decode(error.as_bytes())
        .unwrap()
        .into_result()
        .unwrap_err();
    assert!(!error.is_retryable());
    // Nobody matching is not an error.
    let mut nobody = patient_search::v1::Request::new();
    nobody.surname = Some("Nobody".into());
    nobody.gender = Some(Sex::Male);
    let empty = conn
        .call(&request("d1", "3", nobody))
        .await
        .into_typed::<patient_search::v1::Request>()
        .unwrap();
    assert!(empty.results.is_empty());
}

#[tokio::test]
async fn get_patient_record_full_demographics_only_and_entry_dates() {
    let org = org();
    let (_sim, addr) = relaxed_tcp_gateway(&org).await;
    let mut conn = tcp(addr).await;
    let patient = nhs("9990001006");
    let full = conn
        .send(&request(
            "d1",
            "1",
            get_patient_record::v1::Request::new(patient, None),
        ))
        .await
        .line();
    insta::assert_snapshot!("get_patient_record_full", full);
    let demographics = conn
        .call(&request(
            "d1",
            "2",
            get_patient_record::v1::Request::demographics(patient),
        ))
        .await
        .into_typed::<get_patient_record::v1::Request>()
        .unwrap();
    assert!(demographics.demographics.is_some());
    assert!(demographics.events.is_empty());
    assert_eq!(demographics.record_state, Some(RecordState::Closed));
    let dated = conn
        .call(&request(
            "d1",
            "3",
            get_patient_record::v1::Request::new(
                patient,
                Some(
                    Filter::sections([RecordSection::Narrative])
                        .with_entry_date(NaiveDate::from_ymd_opt(2025, 11, 3).unwrap()),
                ),
            ),
        ))
        .await
        .into_typed::<get_patient_record::v1::Request>()
        .unwrap();
    assert_eq!(dated.events.len(), 1);
    assert_eq!(dated.events[0].items.len(), 1);
    assert!(dated.demographics.is_none());
    let nothing_today = conn
        .call(&request(
            "d1",
            "4",
            get_patient_record::v1::Request::new(
                patient,
                Some(Filter::sections([RecordSection::Narrative]).with_entry_date(today())),
            ),
        ))
        .await
        .into_typed::<get_patient_record::v1::Request>()
        .unwrap();
    assert!(nothing_today.events.is_empty());
    // No Identity and no open record: an error.
    let mut no_identity = get_patient_record::v1::Request::new(patient, None);
    no_identity.identity = None;
    let error = conn
        .call(&request("d1", "5", no_identity))
        .await
        .into_result();
    assert!(error.is_err());
}

#[tokio::test]
async fn update_writes_events_stamped_with_author_gateway_user_and_software() {
    let org = org();
    let (sim, addr) = relaxed_tcp_gateway(&org).await;
    let mut conn = tcp(addr).await;
    let patient = nhs("9990001014");
    let device = conn
        .call(&request("", "0", get_functions::v1::Request::new()))
        .await
        .header
        .device_id
        .as_str()
        .to_owned();
    let update = update_patient_record::v1::Request::new(patient)
        .with_event(note(
            "lworker0042",
            "Telephone review completed by link worker.",
        ))
        .with_non_clinical(
            Task::new(
                "Clinical Review Required",
                "Please review social prescribing outcome.",
            )
            .assigned_to_user("jbloggs1234"),
        );
    let answer = conn.send(&request(&device, "1", update)).await.line();
    insta::assert_snapshot!("update_patient_record", answer);
    let journal = org.journal(&patient);
    assert_eq!(journal.len(), 1);
    let event = &journal[0];
    assert_eq!(event.author, "lworker0042");
    assert_eq!(event.entered_by, "gateway0001");
    assert_eq!(event.software.as_deref(), Some("Example Integration"));
    assert_eq!(event.added_by.as_ref().unwrap().device_id, device);
    assert_eq!(org.tasks(&patient).len(), 1);
    insta::assert_snapshot!("journal_view", org.journal_view(&patient).unwrap());

    // The author is checked case-sensitively: nothing is written.
    let wrong_case = update_patient_record::v1::Request::new(patient)
        .with_event(note("LWorker0042", "Should not be filed."));
    let error = conn
        .call(&request(&device, "2", wrong_case))
        .await
        .into_result()
        .unwrap_err();
    assert!(!error.is_retryable(), "{error}");
    assert_eq!(org.journal(&patient).len(), 1);
    let log = sim.request_log();
    assert!(matches!(
        log.last().unwrap().outcome,
        RequestOutcome::AnsweredWithError {
            permanent: true,
            ..
        }
    ));

    // The written event reads back with its stamps.
    let read = conn
        .call(&request(
            &device,
            "3",
            get_patient_record::v1::Request::new(
                patient,
                Some(
                    Filter::sections([RecordSection::ClinicalCodes, RecordSection::Narrative])
                        .with_entry_date(today()),
                ),
            ),
        ))
        .await
        .into_typed::<get_patient_record::v1::Request>()
        .unwrap();
    assert_eq!(read.events.len(), 1);
    assert_eq!(read.events[0].user_name.as_deref(), Some("lworker0042"));
    assert_eq!(
        read.events[0].software.as_deref(),
        Some("Example Integration")
    );
}

#[tokio::test]
async fn appointments_slots_diary_and_demographic_changes() {
    let org = org();
    let (_sim, addr) = relaxed_tcp_gateway(&org).await;
    let mut conn = tcp(addr).await;
    let patient = nhs("9990001022");
    let slots = conn
        .send(&request(
            "d1",
            "1",
            get_appointment_slots::v1::Request::between(
                at("2030-01-07T00:00:00"),
                at("2030-01-07T23:59:59"),
            ),
        ))
        .await
        .line();
    insta::assert_snapshot!("get_appointment_slots", slots);

    let mut clinic = Clinic::default();
    clinic.user_name = Some("jbloggs1234".into());
    clinic.site_name = Some("Fictitious Surgery".into());
    clinic.clinic_type = Some("GP Clinic".into());
    let mut slot = Slot::default();
    slot.slot_type = Some("Routine".into());
    slot.date_time_start = Some(at("2030-01-07T09:10:00"));
    slot.duration = Some(10);
    clinic.slots.push(slot);
    let mut appointment = Appointment::default();
    appointment.clinic = Some(clinic);
    let mut demographics = systmone_api::record::Demographics::default();
    demographics.mobile_telephone = Some("07700900999".into());
    let booked = conn
        .call(&request(
            "d1",
            "2",
            update_patient_record::v1::Request::new(patient)
                .with_non_clinical(appointment.clone())
                .with_demographics(demographics),
        ))
        .await
        .into_typed::<update_patient_record::v1::Request>()
        .unwrap();
    assert_eq!(booked.appointment_uids.len(), 1);
    assert_eq!(
        booked.event_uids.len(),
        1,
        "the demographic change is an event"
    );
    assert_eq!(
        org.patient(&patient).unwrap().mobile_telephone,
        "07700900999"
    );
    // The slot is taken now.
    let again = conn
        .call(&request(
            "d1",
            "3",
            update_patient_record::v1::Request::new(patient).with_non_clinical(appointment),
        ))
        .await
        .into_result();
    assert!(again.is_err());
    let diary = conn
        .send(&request(
            "d1",
            "4",
            get_diary::v1::Request::between(at("2030-01-01T00:00:00"), at("2030-12-31T00:00:00")),
        ))
        .await
        .line();
    insta::assert_snapshot!("get_diary", diary);
}

#[tokio::test]
async fn deletes_only_what_this_device_added() {
    let org = org();
    let (_sim, addr) = relaxed_tcp_gateway(&org).await;
    let mut conn = tcp(addr).await;
    let patient = nhs("9990001006");
    let written = conn
        .call(&request(
            "device-a",
            "1",
            update_patient_record::v1::Request::new(patient).with_event(note("jbloggs1234", "x")),
        ))
        .await
        .into_typed::<update_patient_record::v1::Request>()
        .unwrap();
    let uid = written.event_uids[0].clone();
    // Data SystmOne users entered cannot be deleted through the interface.
    let theirs = conn
        .call(&request(
            "device-a",
            "2",
            delete_patient_record::v1::Request::event(
                patient,
                EventUid::new("a000000100000000"),
                "Filed against wrong patient",
            ),
        ))
        .await
        .into_result();
    assert!(theirs.is_err());
    // Another device cannot delete it either.
    let other = conn
        .call(&request(
            "device-b",
            "3",
            delete_patient_record::v1::Request::event(patient, uid.clone(), "Wrong patient"),
        ))
        .await
        .into_result();
    assert!(other.is_err());
    assert_eq!(org.journal(&patient).len(), 2);
    let deleted = conn
        .send(&request(
            "device-a",
            "4",
            delete_patient_record::v1::Request::event(patient, uid, "Filed against wrong patient"),
        ))
        .await
        .line();
    insta::assert_snapshot!("delete_patient_record", deleted);
    assert_eq!(org.journal(&patient).len(), 1);
    assert_eq!(org.deleted_items().len(), 1);
    assert_eq!(org.deleted_items()[0].reason, "Filed against wrong patient");
    let _ = TaskUid::new("unused");
}

#[tokio::test]
async fn documents_context_functions_and_reference_data() {
    let org = org();
    let (_sim, addr) = relaxed_tcp_gateway(&org).await;
    let mut conn = tcp(addr).await;
    let patient = nhs("9990001030");
    let mut file = Attachment::from_path("C:\\IntegrationOutbox\\referral-summary.pdf");
    file.comments = Some("Referral summary".into());
    let attachment = Event::new(vec![systmone_api::record::DataItem::Attachment(file)]);
    conn.call(&request(
        "d1",
        "1",
        update_patient_record::v1::Request::new(patient).with_event(attachment),
    ))
    .await
    .into_result()
    .unwrap();
    let record = conn
        .call(&request(
            "d1",
            "2",
            get_patient_record::v1::Request::new(
                patient,
                Some(Filter::sections([RecordSection::Attachments])),
            ),
        ))
        .await
        .into_typed::<get_patient_record::v1::Request>()
        .unwrap();
    let document_uid = match &record.events[0].items[0] {
        systmone_api::record::DataItem::Attachment(a) => a.document_uid.clone().unwrap(),
        other => panic!("{other:?}"),
    };
    let document = conn
        .send(&request(
            "d1",
            "3",
            get_document::v1::Request::new(patient, document_uid, "C:\\Temp"),
        ))
        .await
        .line();
    insta::assert_snapshot!("get_document", document);
    let missing = conn
        .call(&request(
            "d1",
            "4",
            get_document::v1::Request::new(
                patient,
                DocumentUid::new("ffff000000000000"),
                "C:\\Temp",
            ),
        ))
        .await
        .into_result();
    assert!(missing.is_err());

    // Nothing open yet.
    let retrieved = conn
        .call(&request(
            "d1",
            "5",
            is_patient_retrieved::v1::Request::new(),
        ))
        .await
        .into_typed::<is_patient_retrieved::v1::Request>()
        .unwrap();
    assert!(!retrieved.is_patient_retrieved);
    let launched = conn
        .send(&request(
            "d1",
            "6",
            launch_functionality::v1::Request::new(patient, None),
        ))
        .await
        .line();
    insta::assert_snapshot!("launch_functionality", launched);
    let retrieved = conn
        .call(&request(
            "d1",
            "7",
            is_patient_retrieved::v1::Request::new(),
        ))
        .await
        .into_typed::<is_patient_retrieved::v1::Request>()
        .unwrap();
    assert!(retrieved.is_patient_retrieved);
    let activity = conn
        .send(&request(
            "d1",
            "8",
            get_current_activity::v1::Request::new(),
        ))
        .await
        .line();
    insta::assert_snapshot!("get_current_activity", activity);
    let selection = conn
        .send(&request(
            "d1",
            "9",
            get_current_selection::v1::Request::new(),
        ))
        .await
        .line();
    insta::assert_snapshot!("get_current_selection", selection);
    // With the record open here, GetPatientRecord without Identity reads it.
    let mut open_record = get_patient_record::v1::Request::demographics(patient);
    open_record.identity = None;
    let read = conn
        .call(&request("d1", "10", open_record))
        .await
        .into_typed::<get_patient_record::v1::Request>()
        .unwrap();
    assert_eq!(read.identity.unwrap().nhs_number(), Some(&patient));
    assert_eq!(read.record_state, Some(RecordState::Open));

    let reference = conn
        .send(&request("d1", "11", get_reference_data::v1::Request::new()))
        .await
        .line();
    insta::assert_snapshot!("get_reference_data", reference);
    let xsd = conn
        .call(&request("d1", "12", get_xsd_files::v1::Request::new()))
        .await
        .into_typed::<get_xsd_files::v1::Request>()
        .unwrap();
    assert_eq!(xsd.files.len(), systmone_api::all_functions().count());
    let extract = conn
        .send(&request(
            "d1",
            "13",
            data_extract::v1::Request::new("C:\\Extracts", "SRPatient"),
        ))
        .await
        .line();
    insta::assert_snapshot!("data_extract", extract);
}

#[tokio::test]
async fn exit_client_answers_then_the_client_is_gone() {
    let org = org();
    let (sim, addr) = relaxed_tcp_gateway(&org).await;
    let mut conn = tcp(addr).await;
    let answer = conn
        .send(&request("d1", "1", exit_client::v1::Request::new()))
        .await
        .line();
    insta::assert_snapshot!("exit_client", answer);
    let response = systmone_api::ClientIntegrationResponse::decode(answer.as_bytes()).unwrap();
    assert!(matches!(
        response.into_result(),
        Ok(Response::ExitClient(_))
    ));
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(sim.availability(), Availability::Killed);
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    sim.revive();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let mut conn = tcp(addr).await;
    conn.call(&request("d1", "2", get_functions::v1::Request::new()))
        .await
        .into_result()
        .unwrap();
}

#[tokio::test]
async fn undecodable_requests_get_a_permanent_error_and_the_connection_lives_on() {
    let org = org();
    let (sim, addr) = relaxed_tcp_gateway(&org).await;
    let mut conn = tcp(addr).await;
    let answer = conn.raw(b"<Hello/>\n").await.line();
    insta::assert_snapshot!("wrong_root", answer);
    let unknown = format!(
        "<ClientIntegrationRequest><APIKey>{API_KEY}</APIKey><DeviceID>d1</DeviceID><DeviceVersion>t</DeviceVersion><RequestUID>7</RequestUID><Function>GetOrganisationMetadata</Function><FunctionVersion>1.0</FunctionVersion><FunctionParameters/></ClientIntegrationRequest>\n"
    );
    let error = conn.raw(unknown.as_bytes()).await.response();
    assert_eq!(error.header.request_uid.as_str(), "7");
    assert!(error.into_result().is_err());
    conn.call(&request("d1", "8", get_functions::v1::Request::new()))
        .await
        .into_result()
        .unwrap();
    assert_eq!(sim.request_log()[0].function, None);
}

#[tokio::test]
async fn untyped_items_are_kept_and_unsupported_ones_refused_not_dropped() {
    use systmone_api::record::{DataItem, Medication, Visit};
    use systmone_api::{Drug, DrugScheme};
    let org = org();
    let (_sim, addr) = relaxed_tcp_gateway(&org).await;
    let mut conn = tcp(addr).await;
    let patient = nhs("9990001049");
    let mut medication = Medication::default();
    let mut drug = Drug::new(DrugScheme::Dmd, "39732311000001104");
    drug.name = Some("Amoxicillin 500mg capsules".into());
    medication.drug = Some(drug);
    medication.dose = Some("One three times a day".into());
    let update = update_patient_record::v1::Request::new(patient).with_event(
        Event::new(vec![DataItem::Medication(medication)]).with_user_name("jbloggs1234"),
    );
    conn.call(&request("d1", "1", update))
        .await
        .into_result()
        .unwrap();
    let view = org.journal_view(&patient).unwrap();
    assert!(
        view.contains("Medication: Amoxicillin 500mg capsules, One three times a day"),
        "{view}"
    );

    let visit =
        update_patient_record::v1::Request::new(patient).with_non_clinical(Visit::default());
    let error = conn
        .call(&request("d1", "2", visit))
        .await
        .into_result()
        .unwrap_err();
    assert!(!error.is_retryable());
    assert_eq!(org.journal(&patient).len(), 1);
}
