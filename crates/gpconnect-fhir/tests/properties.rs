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
    // The direct writer gives the same text as the JSON → XML writer.
    prop_assert_eq!(&xml_text, &xml::json_to_xml(&json).unwrap());
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
        // Narrative-only: the one warning is that the allergies are not coded.
        prop_assert!(
            report
                .findings
                .iter()
                .all(|f| f.severity > gpconnect_fhir::Severity::Warning
                    || f.message.contains("allergies section is narrative only")),
            "{}",
            report
        );
        round_trips(&msg.bundle)?;
    }
}

// ---- Coded discharge content ----

use gpconnect_fhir::clinical::{
    Allergies, Allergy, AllergyCategory, AllergyCertainty, AllergyCriticality, CareContact, Coded,
    ConditionStatus, DataDictionaryCode, Diagnosis, EmptyReason, JobRole, LocationDetails,
    MedicationChange, MedicationItem, MedicationStatus, ProcedureItem, ProcedureStatus,
    verhoeff_digit,
};

/// An NHS Data Dictionary code (admission method, source, discharge destination).
fn dd_code() -> impl Strategy<Value = DataDictionaryCode> {
    ("[0-9A-Z]{2}", text()).prop_map(|(c, d)| DataDictionaryCode::new(&c, d).unwrap())
}

/// A stay with its coded Admission and Discharge details.
fn coded_stay() -> impl Strategy<Value = EncounterDetails> {
    (
        when(),
        1i64..60,
        prop::option::of(coded()),
        prop::collection::vec(coded(), 0..3),
        (
            prop::option::of(dd_code()),
            prop::option::of(dd_code()),
            prop::option::of(dd_code()),
        ),
        prop::option::of(text()),
    )
        .prop_map(
            |(at, days, spell, reasons, (method, source, destination), ward)| {
                let mut s = EncounterDetails::new(at - chrono::Duration::days(days), Some(at));
                if let Some(c) = spell {
                    s = s.spell_type(c);
                }
                for r in reasons {
                    s = s.reason(r);
                }
                if let Some(c) = method {
                    s = s.admission_method(c);
                }
                if let Some(c) = source {
                    s = s.admission_source(c);
                }
                if let Some(c) = destination {
                    s = s.discharge_destination(c);
                }
                if let Some(w) = ward {
                    s = s.at_location(LocationDetails::new(w));
                }
                s
            },
        )
}

/// A well-formed SNOMED CT concept id: short (international) or long form (a namespace, often
/// dm+d's), with its Verhoeff check digit.
fn sctid() -> impl Strategy<Value = String> {
    (
        "[1-9][0-9]{2,7}",
        prop::option::of(prop_oneof![Just("1000001".to_owned()), "[0-9]{7}"]),
    )
        .prop_map(|(item, namespace)| {
            let body = match namespace {
                Some(ns) => format!("{item}{ns}10"),
                None => format!("{item}00"),
            };
            let check = verhoeff_digit(&body).unwrap();
            format!("{body}{check}")
        })
}

fn coded() -> impl Strategy<Value = Coded> {
    (sctid(), text()).prop_map(|(code, display)| Coded::snomed(&code, display).unwrap())
}

/// A dm+d (long form, namespace 1000001) concept.
fn dmd() -> impl Strategy<Value = Coded> {
    ("[1-9][0-9]{2,7}", text()).prop_map(|(item, display)| {
        let body = format!("{item}100000110");
        let code = format!("{body}{}", verhoeff_digit(&body).unwrap());
        Coded::snomed(&code, display).unwrap()
    })
}

fn day() -> impl Strategy<Value = NaiveDate> {
    (0i64..20_000)
        .prop_map(|d| NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(d))
}

fn pick<T: Clone + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    prop::sample::select(all)
}

fn allergies() -> impl Strategy<Value = Allergies> {
    let allergy = (
        coded(),
        prop::option::of(pick(AllergyCategory::KNOWN)),
        prop::option::of(pick(AllergyCriticality::KNOWN)),
        pick(AllergyCertainty::KNOWN),
        prop::collection::vec(coded(), 0..3),
    )
        .prop_map(|(substance, category, criticality, certainty, reactions)| {
            let mut a = Allergy::new(substance).certainty(certainty);
            if let Some(c) = category {
                a = a.category(c);
            }
            if let Some(c) = criticality {
                a = a.criticality(c);
            }
            for r in reactions {
                a = a.reaction(r);
            }
            a
        });
    prop_oneof![
        Just(Allergies::NoKnownAllergies),
        prop::collection::vec(allergy, 1..4).prop_map(Allergies::Recorded),
        pick(EmptyReason::KNOWN).prop_map(Allergies::NotRecorded),
    ]
}

fn diagnosis() -> impl Strategy<Value = Diagnosis> {
    (
        coded(),
        pick(ConditionStatus::KNOWN),
        prop::option::of(day()),
        prop::option::of(text()),
    )
        .prop_map(|(concept, status, onset, comment)| {
            let mut d = Diagnosis::new(concept).status(status);
            if let Some(o) = onset {
                d = d.onset(o);
            }
            if let Some(c) = comment {
                d = d.comment(c);
            }
            d
        })
}

fn change() -> impl Strategy<Value = MedicationChange> {
    prop_oneof![
        Just(MedicationChange::Continued),
        Just(MedicationChange::Added),
        Just(MedicationChange::Amended),
        Just(MedicationChange::OnHold),
        "[A-Z][a-z]{3,8}".prop_map(|c| MedicationChange::from_wire(&c)),
    ]
}

fn medication() -> impl Strategy<Value = MedicationItem> {
    (
        dmd(),
        change(),
        prop::option::of(coded()),
        prop::option::of(text()),
        prop::option::of(coded()),
        prop::option::of(text()),
        pick(MedicationStatus::KNOWN),
    )
        .prop_map(|(med, change, form, dose, route, details, status)| {
            let mut m = MedicationItem::new(med, change).status(status);
            if let Some(f) = form {
                m = m.form(f);
            }
            if let Some(d) = dose {
                m = m.dose(d);
            }
            if let Some(r) = route {
                m = m.route(r);
            }
            if let Some(d) = details {
                m = m.change_details(d);
            }
            m
        })
}

fn procedure() -> impl Strategy<Value = ProcedureItem> {
    (
        coded(),
        pick(ProcedureStatus::KNOWN),
        prop::option::of(day()),
    )
        .prop_map(|(concept, status, on)| {
            let mut p = ProcedureItem::new(concept).status(status);
            if let Some(d) = on {
                p = p.performed(d);
            }
            p
        })
}

fn contact() -> impl Strategy<Value = CareContact> {
    (
        practitioner(),
        organisation(),
        prop::option::of(("R[0-9]{4}", text())),
        prop::option::of(coded()),
    )
        .prop_map(|(person, org, role, specialty)| {
            let mut c = CareContact::new(person, org);
            if let Some((code, display)) = role {
                c = c.role(JobRole::new(code, display));
            }
            if let Some(s) = specialty {
                c = c.specialty(s);
            }
            c
        })
}

#[derive(Debug, Clone)]
struct CodedInput {
    allergies: Allergies,
    diagnoses: Vec<Diagnosis>,
    medications: Vec<MedicationItem>,
    procedures: Vec<ProcedureItem>,
    referrer: Option<CareContact>,
    distribution: Vec<CareContact>,
    author_role: Option<(JobRole, Option<Coded>)>,
    comments: Vec<(usize, String)>,
    stay: Option<EncounterDetails>,
}

fn coded_input() -> impl Strategy<Value = CodedInput> {
    (
        (
            allergies(),
            prop::collection::vec(diagnosis(), 0..4),
            prop::collection::vec(medication(), 0..5),
            prop::collection::vec(procedure(), 0..3),
        ),
        (
            prop::option::of(contact()),
            prop::collection::vec(contact(), 0..3),
            prop::option::of((("R[0-9]{4}", text()), prop::option::of(coded()))),
            prop::collection::vec((0usize..4, text()), 0..3),
            prop::option::of(coded_stay()),
        ),
    )
        .prop_map(
            |(
                (allergies, diagnoses, medications, procedures),
                (referrer, distribution, role, comments, stay),
            )| CodedInput {
                allergies,
                diagnoses,
                medications,
                procedures,
                referrer,
                distribution,
                author_role: role.map(|((c, d), s)| (JobRole::new(c, d), s)),
                comments,
                stay,
            },
        )
}

fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Random coded content → build → no validator finding at all → XML → read back → the same
    /// bundle; and every coded display appears in its section's narrative.
    #[test]
    fn coded_discharges_validate_cleanly_and_round_trip(
        doc in discharge(),
        input in coded_input(),
        seed in any::<u32>(),
    ) {
        let mut b = doc
            .allergies(input.allergies.clone())
            .diagnoses(input.diagnoses.clone())
            .medications(input.medications.clone())
            .procedures(input.procedures.clone())
            .distribution(input.distribution.clone());
        if let Some(r) = &input.referrer {
            b = b.referrer(r.clone());
        }
        if let Some((role, specialty)) = &input.author_role {
            b = b.author_role(role.clone());
            if let Some(s) = specialty {
                b = b.author_specialty(s.clone());
            }
        }
        const COMMENTED: [MhSection; 4] = [
            MhSection::AllergiesAndAdverseReactions,
            MhSection::Diagnoses,
            MhSection::MedicationsAndMedicalDevices,
            MhSection::Procedures,
        ];
        for (i, text) in &input.comments {
            b = b.section(COMMENTED[*i], text.clone());
        }
        if let Some(stay) = &input.stay {
            b = b.encounter(stay.clone());
        }
        let msg = b.build(&mut SequentialIds::new(u64::from(seed))).unwrap();
        let report = validate_bundle(&msg.bundle);
        prop_assert!(report.findings.is_empty(), "{}", report);
        let report = validate_json(&msg.to_json().unwrap());
        prop_assert!(report.findings.is_empty(), "{}", report);
        round_trips(&msg.bundle)?;

        // Narrative and codes come from the same values.
        let json: serde_json::Value = serde_json::from_str(&msg.to_json().unwrap()).unwrap();
        let sections = json["entry"][2]["resource"]["entry"][0]["resource"]["section"]
            .as_array()
            .unwrap()
            .clone();
        let div = |code: &str| -> String {
            sections
                .iter()
                .find(|s| s["code"]["coding"][0]["code"] == code)
                .map(|s| s["text"]["div"].as_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        let diagnoses = div(MhSection::Diagnoses.code());
        for d in &input.diagnoses {
            prop_assert!(diagnoses.contains(&escaped(&d.concept.display)));
        }
        let medications = div(MhSection::MedicationsAndMedicalDevices.code());
        for m in &input.medications {
            prop_assert!(medications.contains(&escaped(&m.medication.display)));
            prop_assert!(medications.contains(&escaped(m.change.as_str())));
        }
        let procedures = div(MhSection::Procedures.code());
        for p in &input.procedures {
            prop_assert!(procedures.contains(&escaped(&p.concept.display)));
        }
        if let Some(stay) = &input.stay {
            let admission = div(MhSection::AdmissionDetails.code());
            for r in &stay.reasons {
                prop_assert!(admission.contains(&escaped(&r.display)));
            }
            for c in [&stay.admission_method, &stay.admission_source].into_iter().flatten() {
                prop_assert!(admission.contains(&escaped(&c.display)));
            }
            let discharge = div(MhSection::DischargeDetails.code());
            if let Some(c) = &stay.discharge_destination {
                prop_assert!(discharge.contains(&escaped(&c.display)));
            }
        }
        let allergies = div(MhSection::AllergiesAndAdverseReactions.code());
        match &input.allergies {
            Allergies::NoKnownAllergies => prop_assert!(allergies.contains("No known allergy")),
            Allergies::Recorded(list) => {
                for a in list {
                    prop_assert!(allergies.contains(&escaped(&a.substance.display)));
                }
            }
            Allergies::NotRecorded(reason) => prop_assert!(allergies.contains(reason.display())),
            _ => {}
        }
    }
}

/// What the `gpconnect_snomed_code` fuzz target checks, for one input.
fn snomed_code_invariants(text: &str) -> Result<(), TestCaseError> {
    use gpconnect_fhir::clinical::{SnomedCode, check_concept_id, verhoeff_valid};
    let checked = check_concept_id(text);
    prop_assert_eq!(checked.is_ok(), text.parse::<SnomedCode>().is_ok());
    if checked.is_ok() {
        prop_assert!(verhoeff_valid(text));
    }
    if let Some((body, last)) = text.split_at_checked(text.len().saturating_sub(1))
        && !body.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
    {
        let expected = verhoeff_digit(body).unwrap();
        prop_assert_eq!(verhoeff_valid(text), last == expected.to_string());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn snomed_code_checks_agree(text in prop_oneof!["[0-9]{0,20}", ".{0,24}"], code in sctid()) {
        snomed_code_invariants(&text)?;
        snomed_code_invariants(&code)?;
        prop_assert!(gpconnect_fhir::clinical::check_concept_id(&code).is_ok());
    }
}
