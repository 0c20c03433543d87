//! Property tests: random valid inputs always give bundles our validator accepts, and the
//! messages round-trip through JSON and FHIR XML.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, NaiveDate, Utc};
use gpconnect_fhir::discharge::{EncounterDetails, MhSection};
use gpconnect_fhir::fhir_model::stu3::resources::{Bundle, Resource};
use gpconnect_fhir::send_document::{Confidentiality, SendDocumentOptions};
use gpconnect_fhir::{
    AttachmentData, GuideVersion, MentalHealthDischarge, OrganisationDetails, PatientDetails,
    PractitionerDetails, SendDocument, SequentialIds, validate_bundle, validate_json, xml,
};
use nhs_identifiers::OdsCode;
use nhs_identifiers::strategies::test_nhs_number;
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    "[A-Z][a-z]{1,10}(-[A-Z][a-z]{1,8})?"
}

/// Free text including characters XML must escape.
fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9&<>\"' .,;:()\n-]{1,60}".prop_filter("not blank", |s| !s.trim().is_empty())
}

fn ods() -> impl Strategy<Value = OdsCode> {
    "[A-Z][A-Z0-9]{2,5}".prop_map(|s| OdsCode::try_from(s.as_str()).unwrap())
}

fn when() -> impl Strategy<Value = DateTime<Utc>> {
    (1_500_000_000i64..2_000_000_000, 0u32..1000)
        .prop_map(|(s, ms)| DateTime::from_timestamp(s, ms * 1_000_000).unwrap())
}

fn patient() -> impl Strategy<Value = PatientDetails> {
    (
        test_nhs_number(),
        name(),
        prop::collection::vec(name(), 1..3),
        0u32..36_000,
    )
        .prop_map(|(nhs, family, given, days)| {
            let dob = NaiveDate::from_ymd_opt(1925, 1, 1).unwrap()
                + chrono::Duration::days(i64::from(days));
            PatientDetails::new(nhs, family, given, dob)
        })
}

fn organisation() -> impl Strategy<Value = OrganisationDetails> {
    (ods(), text()).prop_map(|(code, name)| OrganisationDetails::new(code, name))
}

fn practitioner() -> impl Strategy<Value = PractitionerDetails> {
    (name(), name(), prop::option::of("[0-9]{12}")).prop_map(|(f, g, sds)| {
        let p = PractitionerDetails::new(f, [g]);
        match sds {
            Some(id) => p.with_sds_user_id(id),
            None => p,
        }
    })
}

fn attachment() -> impl Strategy<Value = AttachmentData> {
    (
        text(),
        prop::collection::vec(any::<u8>(), 1..200),
        any::<bool>(),
    )
        .prop_map(|(title, data, pdf)| {
            if pdf {
                AttachmentData::pdf(title, data)
            } else {
                AttachmentData::new(title, "application/octet-stream", data)
            }
        })
}

fn send_document() -> impl Strategy<Value = SendDocument> {
    (
        patient(),
        organisation(),
        "[A-Z0-9]{8}",
        text(),
        when(),
        prop::option::of(practitioner()),
        prop::collection::vec(attachment(), 1..4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(p, org, mailbox, title, at, author, attachments, restricted, legacy)| {
                let has_author = author.is_some();
                let mut b = SendDocument::new(p, org, mailbox, title, at);
                if let Some(a) = author {
                    b = b.author(a);
                }
                for a in attachments {
                    b = b.attachment(a);
                }
                if restricted {
                    b = b.confidentiality(Confidentiality::Restricted);
                }
                let mut options = SendDocumentOptions::for_version(if legacy {
                    GuideVersion::GpConnectMessaging1_5
                } else {
                    GuideVersion::Current
                });
                if !has_author {
                    options.composition_author =
                        gpconnect_fhir::send_document::CompositionAuthor::SenderOrganisation;
                }
                b.options(options)
            },
        )
}

fn discharge() -> impl Strategy<Value = MentalHealthDischarge> {
    (
        patient(),
        organisation(),
        organisation(),
        practitioner(),
        when(),
        text(),
        text(),
        prop::collection::vec((0usize..MhSection::ALL.len(), text()), 0..6),
        prop::option::of(1i64..60),
    )
        .prop_map(
            |(p, gp, trust, author, at, summary, allergies, extra, stay)| {
                let mut b = MentalHealthDischarge::new(
                    p, gp, trust, author, "RX1OT001", at, summary, allergies,
                );
                if let Some(days) = stay {
                    b = b.encounter(EncounterDetails::new(
                        at - chrono::Duration::days(days),
                        Some(at),
                    ));
                }
                for (i, t) in extra {
                    let section = MhSection::ALL[i];
                    let needs_encounter = matches!(
                        section,
                        MhSection::AdmissionDetails | MhSection::DischargeDetails
                    );
                    if stay.is_some() || !needs_encounter {
                        b = b.section(section, t);
                    }
                }
                b
            },
        )
}

fn round_trips(bundle: &Bundle) -> Result<(), TestCaseError> {
    let json = serde_json::to_string(bundle).unwrap();
    let back: Bundle = serde_json::from_str(&json).unwrap();
    prop_assert!(&back == bundle, "JSON round trip differs");
    let xml_text = xml::to_xml(bundle).unwrap();
    let Resource::Bundle(from_xml) = xml::from_xml(&xml_text).unwrap() else {
        panic!("not a bundle")
    };
    let again = serde_json::to_string(&from_xml).unwrap();
    prop_assert_eq!(again, json, "XML round trip differs");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn send_documents_validate_and_round_trip(doc in send_document(), seed in any::<u32>()) {
        let msg = doc.build(&mut SequentialIds::new(u64::from(seed))).unwrap();
        let report = validate_bundle(&msg.bundle);
        prop_assert!(report.is_valid(), "{}", report);
        let report = validate_json(&msg.to_json().unwrap());
        prop_assert!(report.is_valid(), "{}", report);
        let mesh = gpconnect_fhir::check_gpprovider_address(&msg.bundle, &msg.mesh.to);
        prop_assert!(mesh.findings.is_empty(), "{}", mesh);
        round_trips(&msg.bundle)?;
    }

    #[test]
    fn discharges_validate_and_round_trip(doc in discharge(), seed in any::<u32>()) {
        let msg = doc.build(&mut SequentialIds::new(u64::from(seed))).unwrap();
        let report = validate_json(&msg.to_json().unwrap());
        prop_assert!(report.findings.iter().all(|f| f.severity > gpconnect_fhir::Severity::Warning), "{}", report);
        round_trips(&msg.bundle)?;
    }
}
