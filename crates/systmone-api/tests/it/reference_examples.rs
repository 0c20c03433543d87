#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The reference's illustrative messages (§10), encoded and decoded.

use chrono::NaiveDate;
use systmone_api::record::{ClinicalCode, DataItem, Event, Narrative, Task};
use systmone_api::{
    ClientIntegrationRequest, ClientIntegrationResponse, Code, EncodeOptions, Error, EventUid,
    FunctionName, NhsNumber, OutputScheme, RecordState, Request, ThrottleClass,
    delete_patient_record, get_patient_record, patient_search, update_patient_record,
};

use crate::common::{header, one_line};

fn patient() -> NhsNumber {
    "9990001112"
        .parse()
        .unwrap_or_else(|_| NhsNumber::fictitious(1))
}

#[test]
fn update_patient_record_matches_the_reference_shape() {
    let request = update_patient_record::v1::Request::new(NhsNumber::fictitious(7))
        .with_event(
            Event::new(vec![
                DataItem::ClinicalCode(
                    ClinicalCode::new(Code::snomed("871731000000106"))
                        .with_free_text("Linked to local walking group"),
                ),
                DataItem::Narrative(Narrative::new([
                    "Telephone review completed by link worker.",
                    "Patient agreed to attend weekly sessions.",
                ])),
            ])
            .with_user_name("jbloggs1234")
            .with_done_at("Community hub")
            .with_method("Telephone"),
        )
        .with_non_clinical(
            Task::new(
                "Clinical Review Required",
                "Please review social prescribing outcome.",
            )
            .assigned_to_user("jbloggs1234"),
        );
    let mut h = header();
    h.request_uid = "5".into();
    let bytes = ClientIntegrationRequest::new(h, request.clone())
        .encode(&EncodeOptions::default())
        .unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert_eq!(text.matches('\n').count(), 1);
    assert!(text.ends_with('\n'));
    let nhs = NhsNumber::fictitious(7).expose();
    let expected = one_line(&format!(
        r#"<ClientIntegrationRequest>
  <APIKey>0a1b2c3d4e5f6071</APIKey>
  <DeviceID>7c41d09e2b8a5f13</DeviceID>
  <DeviceVersion>nhs-integration-rs 0.1.0</DeviceVersion>
  <RequestUID>5</RequestUID>
  <Function>UpdatePatientRecord</Function>
  <FunctionVersion>1.0</FunctionVersion>
  <FunctionParameters>
    <Identity><NhsNumber>{nhs}</NhsNumber></Identity>
    <Clinical>
      <Event UserName="jbloggs1234" DoneAt="Community hub" Method="Telephone">
        <ClinicalCode>
          <Code Scheme="Snomed" Code="871731000000106"/>
          <FreeText>Linked to local walking group</FreeText>
        </ClinicalCode>
        <Narrative>
          <Line>Telephone review completed by link worker.</Line>
          <Line>Patient agreed to attend weekly sessions.</Line>
        </Narrative>
      </Event>
    </Clinical>
    <NonClinical>
      <Task>
        <TaskType>Clinical Review Required</TaskType>
        <Content>Please review social prescribing outcome.</Content>
        <UserNameAssigned>jbloggs1234</UserNameAssigned>
      </Task>
    </NonClinical>
  </FunctionParameters>
</ClientIntegrationRequest>"#
    ));
    assert_eq!(text.trim_end(), expected);
    // Server side reads it back.
    let decoded = ClientIntegrationRequest::decode(&bytes).unwrap();
    assert_eq!(
        decoded.request,
        Request::UpdatePatientRecord(request.clone())
    );
}

#[test]
fn get_patient_record_today_response_decodes() {
    let nhs = patient().expose();
    let response = format!(
        r#"<ClientIntegrationResponse>
  <DeviceID>7c41d09e2b8a5f13</DeviceID>
  <RequestUID>4</RequestUID>
  <Function>GetPatientRecord</Function>
  <FunctionVersion>1.0</FunctionVersion>
  <ResponseUID>C52B8E90-1B6F-11EF-8C3D-0100000040AA</ResponseUID>
  <Response>
    <Identity><NHSNumber>{nhs}</NHSNumber><StrategicReportingIdentifier>1234567</StrategicReportingIdentifier></Identity>
    <Clinical>
      <Event DateTime="2026-03-03T10:15:02" UserName="jbloggs1234" DoneBy="BLOGGS, Jo (General Medical Practitioner)"
             DoneAt="Surgery" Software="Example Integration" EventUID="1a2b3c0000000000">
        <Narrative><Line>Reviewed via social prescribing service.</Line></Narrative>
        <ClinicalCode>
          <Code Scheme="Snomed" Code="871731000000106" Term="Referral to social prescribing service"/>
        </ClinicalCode>
      </Event>
    </Clinical>
    <RecordState>Closed</RecordState>
  </Response>
</ClientIntegrationResponse>"#
    );
    let decoded = ClientIntegrationResponse::decode(response.as_bytes()).unwrap();
    assert_eq!(decoded.header.function, FunctionName::GetPatientRecord);
    let record = decoded
        .into_typed::<get_patient_record::v1::Request>()
        .unwrap();
    assert_eq!(
        record.identity.as_ref().unwrap().nhs_number(),
        Some(&patient())
    );
    assert_eq!(record.events.len(), 1);
    let event = &record.events[0];
    assert_eq!(event.event_uid, Some(EventUid::new("1a2b3c0000000000")));
    assert_eq!(event.software.as_deref(), Some("Example Integration"));
    assert_eq!(
        event.narrative_lines().collect::<Vec<_>>(),
        vec!["Reviewed via social prescribing service."]
    );
    assert_eq!(
        event.clinical_codes().next().unwrap().code.code,
        "871731000000106"
    );
    assert_eq!(record.record_state, Some(RecordState::Closed));
}

#[test]
fn today_window_and_demographics_are_exempt_from_the_30s_class() {
    let today = NaiveDate::from_ymd_opt(2026, 3, 3).unwrap();
    let filtered = get_patient_record::v1::Request::new(
        patient(),
        Some(
            get_patient_record::v1::Filter::sections([
                get_patient_record::v1::RecordSection::ClinicalCodes,
                get_patient_record::v1::RecordSection::Narrative,
            ])
            .with_entry_date(today),
        ),
    );
    let request = ClientIntegrationRequest::new(header(), filtered.clone())
        .with_output_scheme(OutputScheme::snomed());
    assert_eq!(request.throttle_class(today), ThrottleClass::ClientOnly);
    let tomorrow = today.succ_opt().unwrap();
    assert_eq!(
        request.throttle_class(tomorrow),
        ThrottleClass::Function(FunctionName::GetPatientRecord)
    );
    let demographics = Request::from(get_patient_record::v1::Request::demographics(patient()));
    assert_eq!(
        demographics.throttle_class(tomorrow),
        ThrottleClass::ClientOnly
    );
    let full = Request::from(get_patient_record::v1::Request::new(patient(), None));
    assert_eq!(
        full.throttle_class(today),
        ThrottleClass::Function(FunctionName::GetPatientRecord)
    );
}

#[test]
fn error_response_is_a_typed_remote_error() {
    let response = br#"<ClientIntegrationResponse>
  <DeviceID>7c41d09e2b8a5f13</DeviceID><RequestUID>3</RequestUID><Function>PatientSearch</Function>
  <FunctionVersion>1.0</FunctionVersion><ResponseUID>B17A0C10-1B6F-11EF-8C3D-0100000040AA</ResponseUID>
  <Response>
    <ErrorMessage>At least two search parameters must be specified</ErrorMessage>
    <PermanentError>true</PermanentError>
  </Response>
</ClientIntegrationResponse>"#;
    let decoded = ClientIntegrationResponse::decode(response).unwrap();
    let error = decoded.into_result().unwrap_err();
    assert!(!error.is_retryable());
    assert!(matches!(
        error,
        Error::Remote {
            permanent: true,
            ..
        }
    ));

    let in_use = br#"<ClientIntegrationResponse><DeviceID>7c41d09e2b8a5f13</DeviceID><RequestUID>3</RequestUID><Function>UpdatePatientRecord</Function><FunctionVersion>1.0</FunctionVersion><ResponseUID>X</ResponseUID><Response><ErrorMessage>Record in use</ErrorMessage><PermanentError>false</PermanentError></Response></ClientIntegrationResponse>"#;
    let error = ClientIntegrationResponse::decode(in_use)
        .unwrap()
        .into_result()
        .unwrap_err();
    assert!(error.is_retryable());
}

#[test]
fn patient_search_needs_two_criteria() {
    let mut search = patient_search::v1::Request::new();
    search.surname = Some("Example".into());
    let err = ClientIntegrationRequest::new(header(), search.clone())
        .encode(&EncodeOptions::default())
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }));
    // An empty or blank criterion would go out as an empty element and search on nothing, so
    // it does not count towards the two.
    for blank in ["", "  "] {
        let mut padded = search.clone();
        padded.first_name = Some(blank.into());
        padded.post_code = Some(blank.into());
        assert_eq!(padded.criteria(), vec!["Surname"]);
        let err = ClientIntegrationRequest::new(header(), padded)
            .encode(&EncodeOptions::default())
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }));
    }
    search.date_of_birth = NaiveDate::from_ymd_opt(1970, 5, 14);
    let bytes = ClientIntegrationRequest::new(header(), search)
        .encode(&EncodeOptions::default())
        .unwrap();
    assert!(
        String::from_utf8(bytes)
            .unwrap()
            .contains("<FunctionParameters><Surname>Example</Surname><DateOfBirth>1970-05-14</DateOfBirth></FunctionParameters>")
    );
}

#[test]
fn delete_matches_the_reference_order() {
    let request = delete_patient_record::v1::Request::event(
        patient(),
        EventUid::new("5b7c3e0000000000"),
        "Filed against wrong patient",
    );
    let bytes = ClientIntegrationRequest::new(header(), request)
        .encode(&EncodeOptions::server())
        .unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let nhs = patient().expose();
    assert!(text.contains(&format!(
        "<FunctionParameters><Identity><NHSNumber>{nhs}</NHSNumber></Identity><EventUID>5b7c3e0000000000</EventUID><Reason>Filed against wrong patient</Reason></FunctionParameters>"
    )));
}

#[test]
fn newlines_in_text_are_character_references() {
    let request = update_patient_record::v1::Request::new(patient()).with_event(Event::new(vec![
        Narrative::new(["first\nsecond\r\nthird"]).into(),
    ]));
    let bytes = ClientIntegrationRequest::new(header(), request.clone())
        .encode(&EncodeOptions::default())
        .unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains("<Line>first&#10;second&#13;&#10;third</Line>"));
    assert_eq!(text.find('\n'), Some(text.len() - 1));
    let back = ClientIntegrationRequest::decode(&bytes).unwrap();
    assert_eq!(back.request, Request::UpdatePatientRecord(request));
}

#[test]
fn nhs_numbers_in_systmone_error_text_are_masked_when_read() {
    let nhs = nhs_identifiers::NhsNumber::fictitious(7);
    let response = format!(
        "<ClientIntegrationResponse><DeviceID>7c41d09e2b8a5f13</DeviceID><RequestUID>4</RequestUID><Function>GetPatientRecord</Function><FunctionVersion>1.0</FunctionVersion><ResponseUID>X</ResponseUID><Response><ErrorMessage>No patient with NHS number {} is registered here</ErrorMessage><PermanentError>true</PermanentError></Response></ClientIntegrationResponse>",
        nhs.expose()
    );
    let error = ClientIntegrationResponse::decode(response.as_bytes())
        .unwrap()
        .into_result()
        .unwrap_err();
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains(&nhs.expose()), "{text}");
        assert!(text.contains("No patient with NHS number"), "{text}");
    }
}
