//! systmone-api codec throughput.
//!
//! - decode of a generated ~5 MB full-record `GetPatientRecord` response, beside a raw
//!   quick-xml event scan of the same bytes (the floor any quick-xml-based decoder sits on)
//!   and the framer cutting the same bytes out of a stream;
//! - encode of that response (server side) and of a typical `UpdatePatientRecord` request.
//!
//! Run: `cargo bench -p nhs-integration --bench systmone_codec -- --warm-up-time 1 --measurement-time 3`
//! (with `NHSI_BENCH_DUMP=<dir>` the input is also written there for `benches/python_peers.py`).

use std::hint::black_box;

use chrono::{NaiveDate, NaiveDateTime};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use quick_xml::events::Event as XmlEvent;
use quick_xml::reader::Reader;
use systmone_api::record::{
    Appointment, AppointmentStatus, ClinicalCode, Comparator, DataItem, Demographics, Event,
    Medication, Narrative, NonClinicalItem, Task,
};
use systmone_api::{
    ApiKey, ClientIntegrationRequest, ClientIntegrationResponse, Code, DeviceId, Drug, DrugScheme,
    EncodeOptions, EventUid, Framer, FunctionName, Identity, NhsNumber, RecordState, RequestHeader,
    RequestUid, ResponseHeader, ResponseUid, Sex, TaskUid, get_patient_record,
    update_patient_record,
};

const TARGET_BYTES: usize = 5 * 1024 * 1024;

fn at(day: u32, second: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2020, 1, 1)
        .and_then(|d| d.checked_add_days(chrono::Days::new(u64::from(day % 2000))))
        .and_then(|d| d.and_hms_opt(9, second / 60 % 60, second % 60))
        .unwrap_or_default()
}

fn event(i: u32) -> Event {
    let mut weight = ClinicalCode::new(Code::ctv3("22A..").with_term("O/E - weight"));
    weight.value = Some(format!("{}.{}", 60 + i % 40, i % 10));
    weight.units = Some("kg".into());
    weight.comparator = Some(Comparator::Equal);
    let mut medication = Medication::default();
    medication.drug = Some(Drug::new(DrugScheme::Multilex, format!("{}", 10_000 + i)));
    medication.dose = Some("One tablet twice a day".into());
    medication.quantity = Some("56 tablets".into());
    medication.start_date = Some(at(i, 0).date());
    let mut e = Event::new(vec![
        DataItem::Narrative(Narrative::new([
            format!("Review number {i}: patient seen with carer, discussed plan & options."),
            "Advised to return if symptoms <worsen>; leaflet given.".to_owned(),
        ])),
        ClinicalCode::new(
            Code::snomed("871731000000106").with_term("Referral to social prescribing service"),
        )
        .with_free_text("Linked to local walking group")
        .into(),
        weight.into(),
        DataItem::Medication(medication),
    ])
    .with_user_name("jbloggs1234")
    .with_done_by("BLOGGS, Jo (General Medical Practitioner)")
    .with_done_at("Surgery")
    .with_date_time(at(i, i));
    e.software = Some("Example Integration".into());
    e.event_uid = Some(EventUid::new(format!("{i:016x}")));
    e
}

fn full_record() -> (ClientIntegrationResponse, Vec<u8>) {
    let mut record = get_patient_record::v1::Response::default();
    record.identity = Some(Identity::new(NhsNumber::fictitious(42)));
    let mut demographics = Demographics::default();
    demographics.first_name = Some("Alex".into());
    demographics.surname = Some("Example".into());
    demographics.date_of_birth = NaiveDate::from_ymd_opt(1970, 5, 14);
    demographics.sex = Some(Sex::Female);
    record.demographics = Some(demographics);
    record.record_state = Some(RecordState::Closed);
    let header = ResponseHeader::new(
        DeviceId::new("7c41d09e2b8a5f13"),
        RequestUid::new("1"),
        FunctionName::GetPatientRecord,
        "1.0",
        ResponseUid::new("C52B8E90-1B6F-11EF-8C3D-0100000040AA"),
    );
    let mut i = 0u32;
    loop {
        for _ in 0..500 {
            record.events.push(event(i));
            if i.is_multiple_of(20) {
                let mut task = Task::new(
                    "Clinical Review Required",
                    format!("Task {i}\nplease review"),
                );
                task.task_uid = Some(TaskUid::new(format!("{i:016x}")));
                task.date_time = Some(at(i, 0));
                record.non_clinical.push(NonClinicalItem::Task(task));
                let mut appointment = Appointment::default();
                appointment.date_time = Some(at(i, 30));
                appointment.duration = Some(10);
                appointment.status = Some(AppointmentStatus::Booked);
                record
                    .non_clinical
                    .push(NonClinicalItem::Appointment(appointment));
            }
            i += 1;
        }
        let response = ClientIntegrationResponse::success(header.clone(), record.clone());
        let bytes = response
            .encode(&EncodeOptions::server())
            .unwrap_or_default();
        if bytes.len() >= TARGET_BYTES || bytes.is_empty() {
            return (response, bytes);
        }
    }
}

fn update_request() -> ClientIntegrationRequest {
    let request = update_patient_record::v1::Request::new(NhsNumber::fictitious(7))
        .with_event(
            Event::new(vec![
                ClinicalCode::new(Code::snomed("871731000000106"))
                    .with_free_text("Linked to local walking group")
                    .into(),
                Narrative::new([
                    "Telephone review completed by link worker.",
                    "Patient agreed to attend weekly sessions.\nFollow-up in 4 weeks.",
                ])
                .into(),
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
    let header = RequestHeader::new(
        ApiKey::new("0a1b2c3d4e5f6071"),
        DeviceId::new("7c41d09e2b8a5f13"),
        "nhs-integration-rs 0.1.0",
        RequestUid::new("5"),
    );
    ClientIntegrationRequest::new(header, request)
}

/// Reads every event of the document and counts them: the raw cost of quick-xml's reader.
fn raw_scan(bytes: &[u8]) -> usize {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return 0;
    };
    let mut reader = Reader::from_str(text);
    let mut events = 0usize;
    loop {
        match reader.read_event() {
            Ok(XmlEvent::Eof) | Err(_) => return events,
            Ok(event) => {
                black_box(&event);
                events += 1;
            }
        }
    }
}

fn codec(c: &mut Criterion) {
    let (response, bytes) = full_record();
    let mut stream = bytes.clone();
    stream.pop();
    eprintln!(
        "full record: {} bytes, {} events",
        bytes.len(),
        match &response.outcome {
            Ok(systmone_api::Response::GetPatientRecord(r)) => r.events.len(),
            _ => 0,
        }
    );

    // The same bytes for the Python peers (benches/python_peers.py).
    if let Some(dir) = std::env::var_os("NHSI_BENCH_DUMP") {
        let path = std::path::Path::new(&dir).join("systmone_full_record.xml");
        if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &stream))
        {
            eprintln!("cannot write {}: {e}", path.display());
        }
    }

    let mut group = c.benchmark_group("systmone_codec/full_record_5MB");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("decode", |b| {
        b.iter(|| ClientIntegrationResponse::decode(black_box(&stream)))
    });
    group.bench_function("element_tree_only", |b| {
        b.iter(|| systmone_api::RawElement::parse(black_box(&stream)))
    });
    group.bench_function("quick_xml_raw_scan", |b| {
        b.iter(|| raw_scan(black_box(&stream)))
    });
    group.bench_function("framer", |b| {
        b.iter(|| {
            let mut framer = Framer::default();
            framer.push(black_box(&bytes));
            framer.next_message()
        })
    });
    group.bench_function("encode", |b| {
        b.iter(|| black_box(&response).encode(&EncodeOptions::server()))
    });
    group.finish();

    let update = update_request();
    let encoded_len = update
        .encode(&EncodeOptions::default())
        .map(|b| b.len())
        .unwrap_or(1);
    let mut group = c.benchmark_group("systmone_codec/update_patient_record");
    group.throughput(Throughput::Bytes(encoded_len as u64));
    group.bench_function("encode", |b| {
        b.iter(|| black_box(&update).encode(&EncodeOptions::default()))
    });
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
