//! Build + serialise a GP Connect Send Document carrying a 1 MB PDF, as FHIR JSON and FHIR XML.
//!
//! `cargo bench -p nhs-integration --bench send_document`
//!
//! In-run baseline: base64-encoding the same 1 MB as a JSON string (the work no encoder of this
//! message can avoid), so the other numbers read as multiples of it. `json` / `xml` serialise a
//! message built once; `xml_via_json_text` is the earlier XML path (JSON text → XML).
//! With `NHSI_BENCH_DUMP=<dir>` the message's JSON is written there for `benches/python_peers.py`.

use std::hint::black_box;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nhs_integration::gpconnect_fhir::fhir_model::Base64Binary;
use nhs_integration::gpconnect_fhir::{
    AttachmentData, OrganisationDetails, PatientDetails, PractitionerDetails, SendDocument,
    SequentialIds, xml,
};
use nhs_integration::nhs_identifiers::{NhsNumber, OdsCode};

const PDF_BYTES: usize = 1024 * 1024;

fn fake_pdf() -> Vec<u8> {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut x: u32 = 0x1234_5678;
    while pdf.len() < PDF_BYTES {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        pdf.extend_from_slice(&x.to_le_bytes());
    }
    pdf.truncate(PDF_BYTES);
    pdf
}

fn request(pdf: &[u8]) -> SendDocument {
    let patient = PatientDetails::new(
        NhsNumber::fictitious(5),
        "Benchpatient",
        ["Casey"],
        NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default(),
    );
    let sender = OrganisationDetails::new(
        OdsCode::try_from("X26").unwrap_or_else(|e| panic!("{e}")),
        "Example Ward Hub",
    );
    let at = Utc
        .with_ymd_and_hms(2026, 1, 1, 9, 0, 0)
        .single()
        .unwrap_or_default();
    SendDocument::new(patient, sender, "X26OT001", "Discharge letter", at)
        .author(PractitionerDetails::new("Example", ["Sam"]))
        .attachment(AttachmentData::pdf("Discharge letter", pdf.to_vec()))
}

fn bench(c: &mut Criterion) {
    let pdf = fake_pdf();
    let doc = request(&pdf);
    let mut group = c.benchmark_group("send_document_1mb_pdf");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Bytes(PDF_BYTES as u64));

    group.bench_function("baseline_base64_json_string", |b| {
        let data = Base64Binary(pdf.clone());
        b.iter(|| black_box(serde_json::to_string(black_box(&data)).map(|s| s.len())));
    });
    group.bench_function("build", |b| {
        b.iter(|| black_box(doc.build(&mut SequentialIds::new(1)).map(|m| m.message_id)));
    });
    group.bench_function("build_and_json", |b| {
        b.iter(|| {
            let message = doc.build(&mut SequentialIds::new(1));
            black_box(message.and_then(|m| m.to_json()).map(|s| s.len()))
        });
    });
    group.bench_function("build_and_xml", |b| {
        b.iter(|| {
            let message = doc.build(&mut SequentialIds::new(1));
            black_box(message.and_then(|m| m.to_xml()).map(|s| s.len()))
        });
    });
    // Serialising an already built message (the build's PDF copy left out), and the previous
    // XML path (JSON text, re-read with key order kept, then XML) for comparison in the run.
    let message = doc
        .build(&mut SequentialIds::new(1))
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(dir) = std::env::var_os("NHSI_BENCH_DUMP") {
        let path = std::path::Path::new(&dir).join("send_document.json");
        let written = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&path, message.to_json().unwrap_or_default()));
        if let Err(e) = written {
            eprintln!("cannot write {}: {e}", path.display());
        }
    }
    group.bench_function("json", |b| {
        b.iter(|| black_box(black_box(&message).to_json().map(|s| s.len())));
    });
    group.bench_function("xml", |b| {
        b.iter(|| black_box(black_box(&message).to_xml().map(|s| s.len())));
    });
    group.bench_function("xml_via_json_text", |b| {
        b.iter(|| {
            let json = black_box(&message).to_json();
            black_box(json.and_then(|j| xml::json_to_xml(&j)).map(|s| s.len()))
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
