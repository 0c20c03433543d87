#![allow(clippy::unwrap_used, clippy::expect_used)]
//! No API key, NHS number, patient name or date of birth in `Debug` or error text.

use chrono::NaiveDate;
use systmone_api::record::Demographics;
use systmone_api::{
    ClientIntegrationRequest, EncodeOptions, Error, PatientId, RawElement, Request,
    get_patient_record, patient_search, update_patient_record,
};

use crate::common::{header, patient};

#[test]
fn debug_output_masks_identifying_values() {
    let mut search = patient_search::v1::Request::by_surname_and_birth_date(
        "Zebedee",
        NaiveDate::from_ymd_opt(1970, 5, 14).unwrap(),
    );
    search.first_name = Some("Quentin".into());
    let mut demographics = Demographics::default();
    demographics.first_name = Some("Quentin".into());
    demographics.surname = Some("Zebedee".into());
    demographics.date_of_birth = NaiveDate::from_ymd_opt(1970, 5, 14);
    let update = update_patient_record::v1::Request::new(patient()).with_demographics(demographics);
    let mut raw = RawElement::new("Secret");
    raw.text = "Quentin".into();
    raw.attributes.push(("Name".into(), "Zebedee".into()));
    let requests: Vec<Request> = vec![
        search.into(),
        update.into(),
        get_patient_record::v1::Request::new(PatientId::PseudoNumber("0002767317".into()), None)
            .into(),
    ];
    let envelope = ClientIntegrationRequest::new(header(), requests[0].clone());
    let debug = format!("{requests:?} {envelope:?} {raw:?}");
    for secret in [
        "Quentin",
        "Zebedee",
        "1970",
        "0a1b2c3d4e5f6071",
        "0002767317",
        &patient().expose(),
    ] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
}

#[test]
fn metadata_describes_each_function() {
    let gpr = systmone_api::FunctionName::GetPatientRecord
        .metadata()
        .unwrap();
    assert!(gpr.is_throttled_by_default());
    assert!(!gpr.writes);
    assert!(gpr.patient_record);
    let upr = systmone_api::FunctionName::UpdatePatientRecord
        .metadata()
        .unwrap();
    assert!(upr.writes && !upr.is_throttled_by_default());
    assert_eq!(systmone_api::all_functions().count(), 17);
    assert!(
        systmone_api::FunctionName::from_wire("X")
            .metadata()
            .is_none()
    );
}

#[test]
fn errors_do_not_echo_input() {
    let text = String::from_utf8(
        ClientIntegrationRequest::new(
            header(),
            get_patient_record::v1::Request::demographics(patient()),
        )
        .encode(&EncodeOptions::default())
        .unwrap(),
    )
    .unwrap()
    .replace(&patient().expose(), "9990001112");
    let err = ClientIntegrationRequest::decode(text.as_bytes()).unwrap_err();
    assert!(matches!(err, Error::InvalidValue { .. }));
    assert!(!err.to_string().contains("9990001112"));
    assert!(!format!("{err:?}").contains("9990001112"));
}
