//! Build + serialise a Transfer of Care mental health discharge with coded content (50
//! medications, 20 diagnoses, allergies, procedures, contacts) beside the narrative-only
//! discharge, as FHIR JSON and FHIR XML.
//!
//! `cargo bench -p nhs-integration --no-default-features --features gpconnect-fhir,nhs-identifiers --bench discharge -- --warm-up-time 1 --measurement-time 3`
//!
//! In-run baseline: the narrative-only discharge (Patient, Organizations, Practitioner,
//! Encounter, Composition with text sections), so the coded numbers read as multiples of it.

use std::hint::black_box;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use nhs_integration::gpconnect_fhir::clinical::{
    Allergies, Allergy, AllergyCategory, CareContact, Coded, Diagnosis, JobRole, LocationDetails,
    MedicationChange, MedicationItem, ProcedureItem, verhoeff_digit,
};
use nhs_integration::gpconnect_fhir::discharge::{EncounterDetails, MhSection};
use nhs_integration::gpconnect_fhir::{
    MentalHealthDischarge, OrganisationDetails, PatientDetails, PractitionerDetails, SequentialIds,
};
use nhs_integration::nhs_identifiers::{NhsNumber, OdsCode};

/// A well-formed concept id: `item` + partition (+ namespace) + Verhoeff check digit.
fn sctid(item: u32, dmd: bool) -> String {
    let body = if dmd {
        format!("{}100000110", 1000 + item)
    } else {
        format!("{}00", 100_000 + item)
    };
    let check = verhoeff_digit(&body).unwrap_or(0);
    format!("{body}{check}")
}

fn coded(item: u32, dmd: bool, display: String) -> Coded {
    Coded::snomed(&sctid(item, dmd), display).unwrap_or_else(|e| panic!("{e}"))
}

fn narrative() -> MentalHealthDischarge {
    let at = |d: u32| {
        Utc.with_ymd_and_hms(2026, 3, d, 12, 0, 0)
            .single()
            .unwrap_or_default()
    };
    let trust = OrganisationDetails::new(
        OdsCode::try_from("RX1").unwrap_or_else(|e| panic!("{e}")),
        "Example Mental Health Trust",
    );
    MentalHealthDischarge::new(
        PatientDetails::new(
            NhsNumber::fictitious(7),
            "Benchpatient",
            ["Casey"],
            NaiveDate::from_ymd_opt(1980, 5, 1).unwrap_or_default(),
        ),
        OrganisationDetails::new(
            OdsCode::try_from("A00001").unwrap_or_else(|e| panic!("{e}")),
            "Example Medical Centre",
        ),
        trust,
        PractitionerDetails::new("Example", ["Sam"]).with_prefix("Dr"),
        "RX1OT001",
        at(20),
        "Admitted informally; mood improved; discharged home.",
        "No known drug allergies.",
    )
    .encounter(
        EncounterDetails::new(at(1), Some(at(20)))
            .at_location(LocationDetails::new("Example Ward"))
            .discharged_by_author(),
    )
    .section(MhSection::AdmissionDetails, "Informal admission.")
    .section(MhSection::DischargeDetails, "Discharged home.")
    .section(
        MhSection::PlanAndRequestedActions,
        "GP to review medication in 2 weeks.",
    )
}

fn coded_discharge() -> MentalHealthDischarge {
    let tablet = coded(1, false, "Tablet".to_owned());
    let oral = coded(2, false, "Oral".to_owned());
    let changes = [
        MedicationChange::Continued,
        MedicationChange::Added,
        MedicationChange::Amended,
        MedicationChange::OnHold,
    ];
    let medications = (0..50u32).map(|i| {
        MedicationItem::new(
            coded(i, true, format!("Medicine {i} 10mg tablets")),
            changes[i as usize % changes.len()].clone(),
        )
        .form(tablet.clone())
        .route(oral.clone())
        .dose("Take ONE tablet twice a day")
    });
    let diagnoses = (0..20u32).map(|i| {
        Diagnosis::new(coded(100 + i, false, format!("Disorder {i}")))
            .onset(NaiveDate::from_ymd_opt(2020, 1, 1 + i % 28).unwrap_or_default())
    });
    let gp = OrganisationDetails::new(
        OdsCode::try_from("A00001").unwrap_or_else(|e| panic!("{e}")),
        "Example Medical Centre",
    );
    narrative()
        .allergies(Allergies::Recorded(vec![
            Allergy::new(coded(200, false, "Penicillin".to_owned()))
                .category(AllergyCategory::Medication)
                .reaction(coded(201, false, "Rash".to_owned())),
        ]))
        .diagnoses(diagnoses)
        .medications(medications)
        .procedures([ProcedureItem::new(coded(
            300,
            false,
            "Drug screen".to_owned(),
        ))])
        .author_role(JobRole::new("R0050", "Consultant"))
        .distribution([CareContact::new(
            PractitionerDetails::new("Gp", ["Jamie"]).with_prefix("Dr"),
            gp,
        )
        .role(JobRole::new("R0260", "General Medical Practitioner"))])
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("mh_discharge");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for (name, doc) in [
        ("narrative", narrative()),
        ("coded_50_meds_20_dx", coded_discharge()),
    ] {
        group.bench_function(format!("{name}/build"), |b| {
            b.iter(|| black_box(doc.build(&mut SequentialIds::new(1)).map(|m| m.message_id)));
        });
        group.bench_function(format!("{name}/build_json"), |b| {
            b.iter(|| {
                let message = doc.build(&mut SequentialIds::new(1));
                black_box(message.and_then(|m| m.to_json()).map(|s| s.len()))
            });
        });
        group.bench_function(format!("{name}/build_xml"), |b| {
            b.iter(|| {
                let message = doc.build(&mut SequentialIds::new(1));
                black_box(message.and_then(|m| m.to_xml()).map(|s| s.len()))
            });
        });
        if let Ok(m) = doc.build(&mut SequentialIds::new(1)) {
            eprintln!(
                "{name}: {} bytes JSON, {} bytes XML",
                m.to_json().map(|s| s.len()).unwrap_or(0),
                m.to_xml().map(|s| s.len()).unwrap_or(0)
            );
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
