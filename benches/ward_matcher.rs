//! ward-assurance: match latency with 1,000,000 tasks, the index beside a linear scan of the
//! same tasks in the same run.
//!
//! `cargo bench -p nhs-integration --bench ward_matcher -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use nhs_integration::ward_assurance::{
    AuditId, AuditLog, AuditType, InMemoryTaskStore, MatchKey, MemoryAdminAlerts, StaffMember,
    SyncEngine, SyncLogEntry, SyncRequest, TaskId, TrustDashboardWardAccess, Ward, WardTask,
};

const TASKS: usize = 1_000_000;
const WARDS: usize = 200;

struct NoLog;
impl AuditLog for NoLog {
    fn record(&mut self, entry: SyncLogEntry) {
        black_box(entry);
    }
}

fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default()
}

/// 200 wards × 7 audit types × ~715 days, one pending task each.
fn build() -> (InMemoryTaskStore, Vec<Ward>) {
    let wards: Vec<Ward> = (0..WARDS)
        .filter_map(|w| Ward::new(&format!("Ward {w}")).ok())
        .collect();
    let mut store = InMemoryTaskStore::with_capacity(TASKS);
    for i in 0..TASKS {
        let ward = wards[i % WARDS].clone();
        let audit_type = AuditType::ALL[(i / WARDS) % 7];
        let day = first_day() + chrono::Duration::days((i / (WARDS * 7)) as i64);
        let Ok(id) = TaskId::new(&format!("T{i}")) else {
            continue;
        };
        let _ = store.insert(WardTask::audit_task(id, audit_type, ward, day));
    }
    (store, wards)
}

/// Deterministic pseudo-random task indexes.
fn sample(count: usize) -> Vec<usize> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..count)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % TASKS as u64) as usize
        })
        .collect()
}

fn keys_for(store: &InMemoryTaskStore, picks: &[usize]) -> Vec<MatchKey> {
    picks
        .iter()
        .filter_map(|&i| store.tasks().get(i))
        .filter_map(|t| Some(MatchKey::new(t.audit_type?, t.ward.clone(), t.due_date)))
        .collect()
}

fn bench(c: &mut Criterion) {
    let started = std::time::Instant::now();
    let (store, wards) = build();
    eprintln!(
        "built {} tasks with their index in {:.2?}",
        store.len(),
        started.elapsed()
    );
    let hits = keys_for(&store, &sample(256));
    let miss_day = first_day() - chrono::Duration::days(1);
    let misses: Vec<MatchKey> = hits
        .iter()
        .map(|k| MatchKey::new(k.audit_type, k.ward.clone(), miss_day))
        .collect();

    let mut group = c.benchmark_group("ward_matcher_1m");
    let mut n = 0usize;
    group.bench_function("index_hit", |b| {
        b.iter(|| {
            n = (n + 1) % hits.len();
            black_box(store.find_pending(black_box(&hits[n])))
        })
    });
    group.bench_function("index_miss", |b| {
        b.iter(|| {
            n = (n + 1) % misses.len();
            black_box(store.find_pending(black_box(&misses[n])))
        })
    });
    group.sample_size(10);
    group.bench_function("linear_scan_hit", |b| {
        b.iter(|| {
            n = (n + 1) % hits.len();
            let k = &hits[n];
            black_box(
                store
                    .tasks()
                    .iter()
                    .find(|t| t.is_pending_audit_for(k.audit_type, &k.ward, k.due_date)),
            )
        })
    });
    group.bench_function("linear_scan_miss", |b| {
        b.iter(|| {
            n = (n + 1) % misses.len();
            let k = &misses[n];
            black_box(
                store
                    .tasks()
                    .iter()
                    .find(|t| t.is_pending_audit_for(k.audit_type, &k.ward, k.due_date)),
            )
        })
    });
    group.finish();

    // The whole engine path for a redelivered audit (access check, shift window, idempotency
    // lookup, log): read-only, so it can repeat.
    let mut engine = SyncEngine::new(
        store,
        TrustDashboardWardAccess,
        NoLog,
        MemoryAdminAlerts::new(),
    );
    let now: DateTime<Utc> = DateTime::from_timestamp(1_900_000_000, 0).unwrap_or_default();
    let staff = StaffMember::new("Alex Example", None, Some("S1")).ok();
    let config = engine.config().clone();
    let requests: Vec<SyncRequest> = hits
        .iter()
        .enumerate()
        .filter_map(|(i, k)| {
            // Half an hour into the task's shift window, in ward-local time.
            let (start, _) = config
                .task_window(k.audit_type, None)
                .bounds(&config.shift_windows, k.due_date);
            let local = start + chrono::Duration::minutes(30);
            let at = config
                .time_zone
                .from_local_datetime(&local)
                .earliest()?
                .fixed_offset();
            let audit_id = AuditId::new(&format!("AUD-{i}")).ok()?;
            Some(SyncRequest::new(
                k.audit_type,
                k.ward.clone(),
                staff.clone()?,
                at,
                audit_id,
            ))
        })
        .collect();
    for request in &requests {
        let _ = engine.sync(request, now, None);
    }
    let mut group = c.benchmark_group("ward_sync_1m");
    group.bench_function("engine_redelivery", |b| {
        b.iter(|| {
            n = (n + 1) % requests.len();
            black_box(engine.sync(black_box(&requests[n]), now, None))
        })
    });
    group.finish();
    black_box(wards);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
