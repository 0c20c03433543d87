//! ward-assurance: sync latency (p50, p99) with 1,000,000 tasks in each store, in the same
//! run: the in-memory store (the baseline), SQLite (a temporary file, WAL,
//! `synchronous=FULL`) and PostgreSQL (a fresh schema in `NHSI_TEST_POSTGRES_URL`; skipped
//! when unset). Each store gets the same 1,000,000 pending tasks (200 wards × 7 audit types ×
//! ~715 days) and the same 2,000 new audits, each completing a different task (so every sync
//! writes), timed one by one; then criterion measures a redelivery (read-only) on each.
//!
//! ```sh
//! NHSI_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench -p nhs-integration --no-default-features --features ward-assurance \
//!   --bench ward_sync_stores -- --warm-up-time 1 --measurement-time 3
//! WARD_BENCH_TASKS=100000 ...   # a smaller store
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use nhs_integration::ward_assurance::postgres::PostgresState;
use nhs_integration::ward_assurance::sqlite::SqliteState;
use nhs_integration::ward_assurance::{
    AuditId, AuditType, InMemoryTaskStore, MemoryAdminAlerts, MemoryAuditLog, StaffMember,
    SyncConfig, SyncEngine, SyncRequest, TaskId, TaskStore, TrustDashboardWardAccess, Ward,
    WardTask,
};

const WARDS: usize = 200;
const SYNCS: usize = 2000;

fn task_count() -> usize {
    std::env::var("WARD_BENCH_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

fn tasks(n: usize) -> Vec<WardTask> {
    let wards: Vec<Ward> = (0..WARDS)
        .filter_map(|w| Ward::new(&format!("Ward {w}")).ok())
        .collect();
    let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    (0..n)
        .filter_map(|i| {
            let day = first + chrono::Duration::days((i / (WARDS * 7)) as i64);
            Some(WardTask::audit_task(
                TaskId::new(&format!("T{i}")).ok()?,
                AuditType::ALL[(i / WARDS) % 7],
                wards[i % WARDS].clone(),
                day,
            ))
        })
        .collect()
}

/// One new audit per sampled task, completed half an hour into the task's window.
fn requests(tasks: &[WardTask], prefix: &str) -> Vec<SyncRequest> {
    let config = SyncConfig::default();
    let staff = StaffMember::new("Alex Example", None, Some("S1")).ok();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut picked = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    while out.len() < SYNCS.min(tasks.len()) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let i = (x % tasks.len() as u64) as usize;
        if !picked.insert(i) {
            continue;
        }
        let t = &tasks[i];
        let Some(audit_type) = t.audit_type else {
            continue;
        };
        let (start, _) = config
            .task_window(audit_type, t.shift)
            .bounds(&config.shift_windows, t.due_date);
        let local = start + chrono::Duration::minutes(30);
        let Some(at) = config.time_zone.from_local_datetime(&local).earliest() else {
            continue;
        };
        let (Some(staff), Ok(id)) = (staff.clone(), AuditId::new(&format!("{prefix}-{i}"))) else {
            continue;
        };
        out.push(SyncRequest::new(
            audit_type,
            t.ward.clone(),
            staff,
            at.fixed_offset(),
            id,
        ));
    }
    out
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

/// Time each sync alone; every one must complete a task.
fn timed<S: TaskStore>(
    engine: &mut SyncEngine<S>,
    requests: &[SyncRequest],
    now: DateTime<Utc>,
) -> Vec<Duration> {
    requests
        .iter()
        .map(|r| {
            let started = Instant::now();
            let outcome = engine.sync(r, now, None);
            let took = started.elapsed();
            assert_eq!(outcome.map(|o| o.code()).ok(), Some("SYNCED"));
            took
        })
        .collect()
}

fn report(name: &str, n: usize, built: Duration, samples: Vec<Duration>) {
    let (p50, p99) = percentiles(samples);
    eprintln!(
        "{name}: {n} tasks loaded in {built:.2?}; new-audit sync p50 {p50:.2?}, p99 {p99:.2?}"
    );
}

fn bench(c: &mut Criterion) {
    let n = task_count();
    let all = tasks(n);
    let now: DateTime<Utc> = DateTime::from_timestamp(1_900_000_000, 0).unwrap_or_default();
    let mut group = c.benchmark_group("ward_sync_redelivery");

    // In memory.
    let started = Instant::now();
    let store = InMemoryTaskStore::from_tasks(all.iter().cloned()).unwrap_or_default();
    let built = started.elapsed();
    let mut memory = SyncEngine::new(
        store,
        TrustDashboardWardAccess,
        MemoryAuditLog::new(),
        MemoryAdminAlerts::new(),
    );
    let reqs = requests(&all, "M");
    report("memory", n, built, timed(&mut memory, &reqs, now));
    let mut k = 0usize;
    group.bench_function("memory", |b| {
        b.iter(|| {
            k = (k + 1) % reqs.len();
            black_box(memory.sync(&reqs[k], now, None))
        })
    });
    drop(memory);

    // SQLite in a temporary file.
    let dir = tempfile::tempdir().ok();
    if let Some(dir) = &dir
        && let Ok(state) = SqliteState::open(dir.path().join("bench.db"))
    {
        let started = Instant::now();
        let _ = state.task_store().insert_all(&all);
        let built = started.elapsed();
        let mut sqlite = SyncEngine::new(
            state.task_store(),
            TrustDashboardWardAccess,
            state.sync_log(),
            MemoryAdminAlerts::new(),
        );
        let reqs = requests(&all, "S");
        report("sqlite", n, built, timed(&mut sqlite, &reqs, now));
        group.bench_function("sqlite", |b| {
            b.iter(|| {
                k = (k + 1) % reqs.len();
                black_box(sqlite.sync(&reqs[k], now, None))
            })
        });
    }

    // PostgreSQL in a fresh schema.
    if let (Ok(base), Ok(runtime)) = (
        std::env::var("NHSI_TEST_POSTGRES_URL"),
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build(),
    ) {
        let state = runtime.block_on(async {
            let url = nhs_test_support::fresh_postgres_schema(&base, "wa_bench").await;
            let state = PostgresState::connect(&url).await.ok()?;
            let started = Instant::now();
            state.task_store().insert_all(&all).await.ok()?;
            Some((state, started.elapsed()))
        });
        if let Some((state, built)) = state {
            let mut pg = SyncEngine::new(
                state.task_store(),
                TrustDashboardWardAccess,
                state.sync_log(),
                MemoryAdminAlerts::new(),
            );
            let reqs = requests(&all, "P");
            report("postgres", n, built, timed(&mut pg, &reqs, now));
            group.bench_function("postgres", |b| {
                b.iter(|| {
                    k = (k + 1) % reqs.len();
                    black_box(pg.sync(&reqs[k], now, None))
                })
            });
        }
    } else {
        eprintln!("postgres: skipped (set NHSI_TEST_POSTGRES_URL)");
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
