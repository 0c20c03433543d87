//! The SystmOne messages the engine sends, built with `systmone-api` (no IO): the journal
//! write, the demographics-only read and the reconciliation read of today's entries, and the
//! mapping of their responses back to the engine's types.

use nhs_identifiers::NhsNumber;
use systmone_api::record::{ClinicalCode, DataItem, Event, Narrative, Task};
use systmone_api::{Code, get_patient_record, update_patient_record};

use crate::gateway::{
    EntriesQuery, EventUid, GatewayError, JournalEvent, JournalTask, JournalWrite,
    checked_event_uid,
};
use crate::note::{Sex, sex_from_code};
use crate::verify::RecordDemographics;

/// The demographics-only `GetPatientRecord` (exempt from the 30 s limit).
pub fn demographics_request(nhs_number: NhsNumber) -> get_patient_record::v1::Request {
    get_patient_record::v1::Request::demographics(nhs_number)
}

/// The `UpdatePatientRecord` request for a journal write.
pub fn update_request(write: &JournalWrite) -> update_patient_record::v1::Request {
    let mut items = vec![DataItem::Narrative(Narrative::new(
        write.narrative_lines.iter().cloned(),
    ))];
    if let Some(coded) = &write.code {
        let mut code = ClinicalCode::new(Code::snomed(coded.code.as_str()));
        if let Some(text) = &coded.free_text {
            code = code.with_free_text(text.clone());
        }
        items.push(DataItem::ClinicalCode(code));
    }
    let mut event = Event::new(items);
    if let Some(user) = &write.user_name {
        event = event.with_user_name(user.as_str());
    }
    if let Some(done_by) = &write.done_by {
        event = event.with_done_by(done_by.clone());
    }
    if let Some(place) = &write.done_at {
        event = event.with_done_at(place.clone());
    }
    if let Some(method) = &write.method {
        event = event.with_method(method.clone());
    }
    let mut request = update_patient_record::v1::Request::new(write.nhs_number).with_event(event);
    if let Some(task) = &write.task {
        let mut item = Task::new(task.task_type.clone(), task.content.clone());
        if let Some(user) = &task.assignee {
            item = item.assigned_to_user(user.as_str());
        }
        request = request.with_non_clinical(item);
    }
    request
}

/// The `GetPatientRecord` request reconciliation sends: narrative entries entered in the
/// query's window (both dates today: exempt from the 30 s limit), by the author when known,
/// and the patient's open tasks entered in the same window (to recover the TaskUID of the task
/// filed with the note; `UserNameDoneBy` filters events, not tasks).
pub fn entries_request(query: &EntriesQuery) -> get_patient_record::v1::Request {
    let mut filter = get_patient_record::v1::Filter::sections([
        get_patient_record::v1::RecordSection::Narrative,
        get_patient_record::v1::RecordSection::Tasks,
    ]);
    filter.min_entry_date = Some(query.from);
    filter.max_entry_date = Some(query.to);
    if let Some(user) = &query.done_by {
        filter.user_names_done_by.push(user.as_str().to_owned());
    }
    get_patient_record::v1::Request::new(query.nhs_number, Some(filter))
}

/// The record's demographics, for verification. A response without demographics means no
/// such record.
pub fn record_demographics(
    asked_for: NhsNumber,
    record: &get_patient_record::v1::Response,
) -> Result<RecordDemographics, GatewayError> {
    let Some(demographics) = &record.demographics else {
        return Err(GatewayError::PatientNotFound);
    };
    let record_number = record
        .identity
        .as_ref()
        .and_then(|identity| identity.nhs_number())
        .copied()
        .unwrap_or(asked_for);
    Ok(RecordDemographics::new(
        record_number,
        demographics.surname.as_deref().unwrap_or_default(),
        demographics.date_of_birth,
        demographics
            .sex
            .as_ref()
            .map_or(Sex::Unknown, |sex| sex_from_code(sex.as_str())),
    ))
}

/// The journal events of a record, with their narrative (events without an `EventUID` are
/// skipped: they cannot be the note's event).
pub fn journal_events(record: &get_patient_record::v1::Response) -> Vec<JournalEvent> {
    record
        .events
        .iter()
        .filter_map(|event| {
            let uid = checked_event_uid(event.event_uid.as_ref()?.as_str())?;
            Some(JournalEvent::new(
                uid,
                event.user_name.clone(),
                event.narrative_lines().map(str::to_owned).collect(),
            ))
        })
        .collect()
}

/// The open tasks of a record with their content (tasks without a `TaskUID` are skipped).
pub fn journal_tasks(record: &get_patient_record::v1::Response) -> Vec<JournalTask> {
    record
        .tasks()
        .filter_map(|task| {
            let uid = checked_event_uid(task.task_uid.as_ref()?.as_str())?;
            Some(JournalTask::new(
                uid,
                task.content.as_deref().unwrap_or_default(),
            ))
        })
        .collect()
}

/// The event and task created by a write.
pub fn written_uids(
    response: &update_patient_record::v1::Response,
) -> Result<(EventUid, Option<EventUid>), GatewayError> {
    let event_uid = response
        .event_uids
        .first()
        .and_then(|uid| checked_event_uid(uid.as_str()))
        .ok_or_else(|| GatewayError::OutcomeUnknown {
            reason: "UpdatePatientRecord answered without an EventUID".into(),
        })?;
    let task_uid = response
        .task_uids
        .first()
        .and_then(|uid| checked_event_uid(uid.as_str()));
    Ok((event_uid, task_uid))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use systmone_api::{
        ApiKey, ClientIntegrationRequest, ClientIntegrationResponse, DeviceId, EncodeOptions,
        RequestHeader, RequestUid,
    };

    use super::*;
    use crate::note::{
        Author, CaseNote, CodedEntry, GpTask, PatientIdentity, SnomedCode, SystmOneUsername,
    };
    use crate::reference::NoteReference;

    fn encode(request: impl Into<systmone_api::Request>) -> String {
        let header = RequestHeader::new(
            ApiKey::new("0a1b2c3d4e5f6071"),
            DeviceId::new("7c41d09e2b8a5f13"),
            "nhs-integration-rs 0.1.0",
            RequestUid::new("1"),
        );
        let bytes = ClientIntegrationRequest::new(header, request)
            .encode(&EncodeOptions::default())
            .unwrap();
        String::from_utf8(bytes).unwrap()
    }

    fn note(author: Author) -> CaseNote {
        let patient = PatientIdentity::new(
            NhsNumber::fictitious(1),
            "Example",
            NaiveDate::from_ymd_opt(1970, 5, 14).unwrap(),
            Sex::Female,
        )
        .unwrap();
        CaseNote::new(
            patient,
            author,
            "Telephone review completed by link worker.\nPatient agreed to attend weekly sessions & <walks>.",
        )
        .unwrap()
        .with_code(
            CodedEntry::new(SnomedCode::try_from("871731000000106").unwrap())
                .with_free_text("Linked to local walking group")
                .unwrap(),
        )
        .with_task(
            GpTask::new("Clinical Review Required", "Please review social prescribing outcome.")
                .unwrap()
                .assigned_to(SystmOneUsername::try_from("jbloggs1234").unwrap()),
        )
        .done_at("Community hub")
        .unwrap()
        .method("Telephone")
        .unwrap()
    }

    #[test]
    fn the_write_names_the_author_in_user_name() {
        let author = Author::with_username(
            "Lee Worker",
            SystmOneUsername::try_from("lworker0042").unwrap(),
        )
        .unwrap();
        let write = JournalWrite::for_note(&note(author), &NoteReference::new("0badc0de", 7));
        insta::assert_snapshot!(encode(update_request(&write)));
    }

    #[test]
    fn the_write_names_an_author_without_username_in_done_by() {
        let author = Author::named("Sam Patel (Link worker, Example Social Prescribing)").unwrap();
        let write = JournalWrite::for_note(&note(author), &NoteReference::new("0badc0de", 8));
        let xml = encode(update_request(&write));
        assert!(!xml.contains("UserName=\""), "{xml}");
        insta::assert_snapshot!(xml);
    }

    #[test]
    fn reads_are_exempt_from_the_30_second_limit() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        assert!(demographics_request(NhsNumber::fictitious(1)).is_throttle_exempt(today));
        let query = EntriesQuery {
            nhs_number: NhsNumber::fictitious(1),
            done_by: Some(SystmOneUsername::try_from("lworker0042").unwrap()),
            from: today,
            to: today,
        };
        let request = entries_request(&query);
        assert!(request.is_throttle_exempt(today));
        insta::assert_snapshot!(encode(request));
        let yesterday = EntriesQuery {
            from: today.pred_opt().unwrap(),
            ..query
        };
        assert!(!entries_request(&yesterday).is_throttle_exempt(today));
        insta::assert_snapshot!(
            "demographics_request",
            encode(demographics_request(NhsNumber::fictitious(1)))
        );
    }

    fn decode_record(xml: &str) -> get_patient_record::v1::Response {
        ClientIntegrationResponse::decode(xml.as_bytes())
            .unwrap()
            .into_typed::<get_patient_record::v1::Request>()
            .unwrap()
    }

    #[test]
    fn responses_map_to_demographics_events_and_uids() {
        let nhs = NhsNumber::fictitious(1).expose();
        let record = decode_record(&format!(
            "<ClientIntegrationResponse><DeviceID>7c41d09e2b8a5f13</DeviceID><RequestUID>1</RequestUID>\
             <Function>GetPatientRecord</Function><FunctionVersion>1.0</FunctionVersion>\
             <ResponseUID>C52B8E90-1B6F-11EF-8C3D-0100000040AA</ResponseUID><Response>\
             <Identity><NHSNumber>{nhs}</NHSNumber></Identity>\
             <Demographics><Surname>Example</Surname><DateOfBirth>1970-05-14</DateOfBirth><Sex>F</Sex></Demographics>\
             <Clinical><Event DateTime=\"2026-11-21T10:15:02\" UserName=\"lworker0042\" EventUID=\"1a2b3c0000000000\">\
             <Narrative><Line>Seen.</Line><Line>[nhsi-ref 0badc0de-7]</Line></Narrative></Event>\
             <Event DateTime=\"2026-11-21T10:16:00\" UserName=\"x\"><Narrative><Line>no uid</Line></Narrative></Event>\
             </Clinical><RecordState>Closed</RecordState></Response></ClientIntegrationResponse>\n"
        ));
        let demographics = record_demographics(NhsNumber::fictitious(1), &record).unwrap();
        assert_eq!(
            demographics,
            RecordDemographics::new(
                NhsNumber::fictitious(1),
                "Example",
                NaiveDate::from_ymd_opt(1970, 5, 14),
                Sex::Female
            )
        );
        let events = journal_events(&record);
        assert_eq!(events.len(), 1);
        assert!(events[0].carries(&NoteReference::new("0badc0de", 7)));
        assert!(!events[0].carries(&NoteReference::new("0badc0de", 70)));

        let empty = get_patient_record::v1::Response::default();
        assert_eq!(
            record_demographics(NhsNumber::fictitious(1), &empty),
            Err(GatewayError::PatientNotFound)
        );
        let no_uid = update_patient_record::v1::Response::default();
        assert!(matches!(
            written_uids(&no_uid),
            Err(GatewayError::OutcomeUnknown { .. })
        ));
    }
}
