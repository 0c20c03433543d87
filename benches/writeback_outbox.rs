//! Notes accepted into the writeback outbox per second (`WritebackEngine::submit`: insert note +
//! audit record in one transaction, commit; a SQLite store's commit runs on tokio's blocking
//! pool, so the time includes the hand-off to a blocking thread and back). Notes are validated
//! when built (`CaseNote::new`), outside the measured loop.
//!
//! `cargo bench -p nhs-integration --bench writeback_outbox -- --warm-up-time 1 --measurement-time 3`
//!
//! Baseline in the same run: the in-memory store (no SQLite) and SQLite in memory (no fsync),
//! against the durable file store (WAL, `synchronous=FULL`: one fsync per accepted note).
//!
//! `outbox_submitters`: durable notes accepted per second with 1, 4 and 16 concurrent
//! submitters (tasks on a 2-thread runtime, each awaiting its own `submit`), on the SQLite file
//! with and without group commit, and on PostgreSQL (group commit) when
//! `NHSI_TEST_POSTGRES_URL` is set (each run in a fresh schema). `outbox_claim_100k`: one
//! claim (`claim_due`, 2 notes) plus its release with 100,000 notes queued, on SQLite and
//! PostgreSQL.
#![allow(clippy::expect_used)]

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nhs_integration::systmone_writeback::{
    Author, CaseNote, ClaimRequest, CodedEntry, EngineConfig, EntriesQuery, GatewayError, Gateways,
    IntoOutbox, JournalEntries, JournalWrite, LocalOutbox, MemoryOutbox, NhsNumber, Outbox,
    OutboxStore, PatientIdentity, PostgresConfig, PostgresOutbox, RecordDemographics, Sex,
    SnomedCode, SqliteOutbox, SystmOneUsername, TokioWallClock, WorkerId, WriteReceipt,
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
        TokioWallClock::from_system_time(),
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

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// `submitters` tasks, each submitting notes one after another; one iteration = one note per
/// submitter.
fn bench_submitters<S: IntoOutbox>(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    name: &str,
    store: S,
) {
    let engine = {
        let _guard = runtime.enter();
        WritebackEngine::new(
            store,
            Offline,
            TokioWallClock::from_system_time(),
            EngineConfig::default(),
        )
    };
    let notes: std::sync::Arc<Vec<CaseNote>> = std::sync::Arc::new((0..64).map(note).collect());
    let mut group = c.benchmark_group("outbox_submitters");
    for submitters in [1usize, 4, 16] {
        group.throughput(Throughput::Elements(submitters as u64));
        group.bench_function(criterion::BenchmarkId::new(name, submitters), |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let start = std::time::Instant::now();
                    let mut tasks = tokio::task::JoinSet::new();
                    for s in 0..submitters {
                        let engine = engine.clone();
                        let notes = std::sync::Arc::clone(&notes);
                        tasks.spawn(async move {
                            for i in 0..iters as usize {
                                let note = notes[(s * 7 + i) % notes.len()].clone();
                                engine.submit(note).await.expect("accepted");
                            }
                        });
                    }
                    while let Some(done) = tasks.join_next().await {
                        done.expect("submitter");
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

/// A PostgreSQL outbox in a fresh schema, when `NHSI_TEST_POSTGRES_URL` is set.
fn postgres(runtime: &tokio::runtime::Runtime, prefix: &str) -> Option<PostgresOutbox> {
    let base = std::env::var("NHSI_TEST_POSTGRES_URL").ok()?;
    runtime.block_on(async {
        let url = nhs_test_support::fresh_postgres_schema(&base, prefix).await;
        Some(
            PostgresOutbox::connect(&url, PostgresConfig::default().with_pool_size(4))
                .await
                .expect("postgres"),
        )
    })
}

fn outbox_submitters(c: &mut Criterion) {
    let runtime = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    bench_submitters(
        c,
        &runtime,
        "sqlite_file_group_commit",
        LocalOutbox::new(SqliteOutbox::open(dir.path().join("group.sqlite")).expect("sqlite")),
    );
    bench_submitters(
        c,
        &runtime,
        "sqlite_file_no_group_commit",
        LocalOutbox::new(SqliteOutbox::open(dir.path().join("single.sqlite")).expect("sqlite"))
            .with_group_commit(false),
    );
    match postgres(&runtime, "bench_submit") {
        Some(store) => bench_submitters(c, &runtime, "postgres_group_commit", store),
        None => eprintln!("postgres skipped: set NHSI_TEST_POSTGRES_URL"),
    }
}

const QUEUED: usize = 100_000;

/// One claim of 2 notes and its release, with `QUEUED` notes waiting.
fn bench_claim<O: Outbox>(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    name: &str,
    outbox: &O,
) {
    let worker = WorkerId::new("bench").expect("worker");
    let mut group = c.benchmark_group("outbox_claim_100k");
    group.bench_function(name, |b| {
        b.iter(|| {
            runtime.block_on(async {
                let request = ClaimRequest::new(
                    worker.clone(),
                    chrono::Utc::now() + chrono::Duration::days(1),
                    2,
                    std::time::Duration::from_secs(60),
                );
                let claimed = outbox.claim_due(&request).await.expect("claim");
                assert_eq!(claimed.len(), 2);
                for entry in &claimed {
                    if let Some(claim) = &entry.claim {
                        outbox.release(claim).await;
                    }
                }
            })
        })
    });
    group.finish();
}

fn outbox_claim(c: &mut Criterion) {
    let runtime = runtime();
    let notes: Vec<(CaseNote, chrono::DateTime<chrono::Utc>)> =
        (0..1_000).map(|i| (note(i), chrono::Utc::now())).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sqlite = SqliteOutbox::open(dir.path().join("queued.sqlite")).expect("sqlite");
    for _ in 0..QUEUED / notes.len() {
        sqlite.accept_batch(&notes).expect("queued");
    }
    let sqlite = LocalOutbox::new(sqlite);
    bench_claim(c, &runtime, "sqlite_file", &sqlite);
    if let Some(store) = postgres(&runtime, "bench_claim") {
        let started = std::time::Instant::now();
        runtime.block_on(async {
            let mut tasks = tokio::task::JoinSet::new();
            for s in 0..64 {
                let store = store.clone();
                let notes: Vec<CaseNote> = notes.iter().map(|(n, _)| n.clone()).collect();
                tasks.spawn(async move {
                    for i in 0..QUEUED / 64 {
                        let note = notes[(s + i * 64) % notes.len()].clone();
                        store
                            .accept(note, chrono::Utc::now())
                            .await
                            .expect("queued");
                    }
                });
            }
            while let Some(done) = tasks.join_next().await {
                done.expect("filler");
            }
        });
        eprintln!(
            "postgres: {} notes queued by 64 submitters in {:.1} s",
            QUEUED / 64 * 64,
            started.elapsed().as_secs_f64()
        );
        bench_claim(c, &runtime, "postgres", &store);
    }
}

criterion_group!(benches, outbox_accept, outbox_submitters, outbox_claim);
criterion_main!(benches);
