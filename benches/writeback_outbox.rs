//! Notes accepted into the writeback outbox per second (`WritebackEngine::submit`: insert note +
//! audit record in one transaction, commit; a SQLite store's commit runs on tokio's blocking
//! pool, so the time includes the hand-off to a blocking thread and back). Notes are validated
//! when built (`CaseNote::new`), outside the measured loop.
//!
//! `cargo bench -p nhs-integration --bench writeback_outbox -- --warm-up-time 1 --measurement-time 3`
//!
//! Baseline in the same run: the in-memory store (no SQLite) and SQLite in memory (no fsync),
//! against the durable file store (WAL, `synchronous=FULL`: one fsync per accepted note).
#![allow(clippy::expect_used)]

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nhs_integration::systmone_writeback::{
    Author, CaseNote, CodedEntry, EngineConfig, EntriesQuery, GatewayError, Gateways,
    JournalEntries, JournalWrite, MemoryOutbox, NhsNumber, OutboxStore, PatientIdentity,
    RecordDemographics, Sex, SnomedCode, SqliteOutbox, SystmOneUsername, TokioClock, WriteReceipt,
    WritebackEngine,
};

/// Gateways that are never reached: the bench measures acceptance only.
struct Offline;

impl Gateways for Offline {
    async fn read_demographics(&self, _: &NhsNumber) -> Result<RecordDemographics, GatewayError> {
        Err(GatewayError::PatientNotFound)
    }
    async fn write_note(&self, _: &JournalWrite) -> Result<WriteReceipt, GatewayError> {
        Err(GatewayError::PatientNotFound)
    }
    async fn read_entries(&self, _: &EntriesQuery) -> Result<JournalEntries, GatewayError> {
        Err(GatewayError::PatientNotFound)
    }
}

fn note(i: u32) -> CaseNote {
    let patient = PatientIdentity::new(
        NhsNumber::fictitious(i % 1000),
        "Example",
        NaiveDate::from_ymd_opt(1970, 5, 14).expect("date"),
        Sex::Female,
    )
    .expect("patient");
    let author = Author::with_username(
        "Jo Bloggs (Link worker)",
        SystmOneUsername::try_from("jbloggs1234").expect("username"),
    )
    .expect("author");
    CaseNote::new(
        patient,
        author,
        "Telephone review completed by link worker.\nPatient agreed to attend weekly walking group sessions.",
    )
    .expect("note")
    .with_code(CodedEntry::new(SnomedCode::try_from("871731000000106").expect("code")))
}

/// Measures `accept` over a cycle of 64 prepared notes, one note per iteration.
fn bench_accept<T>(c: &mut Criterion, name: &str, mut accept: impl FnMut(&CaseNote) -> T) {
    let notes: Vec<CaseNote> = (0..64).map(note).collect();
    let mut group = c.benchmark_group("outbox_accept");
    group.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    group.bench_function(name, |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            black_box(accept(&notes[i % notes.len()]))
        })
    });
    group.finish();
}

/// `WritebackEngine::submit` into `store`.
fn bench_store<S: OutboxStore>(c: &mut Criterion, name: &str, store: S) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let _guard = runtime.enter();
    let engine = WritebackEngine::new(
        store,
        Offline,
        TokioClock::from_system_time(),
        EngineConfig::default(),
    );
    bench_accept(c, name, |note| {
        runtime
            .block_on(engine.submit(note.clone()))
            .expect("accepted")
    });
}

/// The store alone, called on the bench thread (no engine, no hand-off): the baseline that
/// shows what `submit` adds on top of the store's own work.
fn bench_store_direct<S: OutboxStore>(c: &mut Criterion, name: &str, mut store: S) {
    let now = chrono::Utc::now();
    bench_accept(c, name, |note| store.accept(note, now).expect("accepted"));
}

fn outbox_accept(c: &mut Criterion) {
    bench_store(c, "memory_store", MemoryOutbox::new());
    bench_store(
        c,
        "sqlite_in_memory",
        SqliteOutbox::open_in_memory().expect("sqlite"),
    );
    bench_store_direct(
        c,
        "sqlite_in_memory_store_only",
        SqliteOutbox::open_in_memory().expect("sqlite"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    bench_store_direct(
        c,
        "sqlite_file_sync_full_store_only",
        SqliteOutbox::open(dir.path().join("direct.sqlite")).expect("sqlite file"),
    );
    bench_store(
        c,
        "sqlite_file_sync_full",
        SqliteOutbox::open(dir.path().join("outbox.sqlite")).expect("sqlite file"),
    );
}

criterion_group!(benches, outbox_accept);
criterion_main!(benches);
