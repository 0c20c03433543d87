//! ORUK live marketplace: search latency (p50, p99) over 100,000 services while edits stream
//! in at 50 per second through the whole edit path (validation by the UK-profile schema, store
//! commit, incremental index update under the write lock), beside the same queries with no
//! edits, in the same run.
//!
//! ```sh
//! cargo bench -p nhs-integration --bench oruk_live -- --warm-up-time 1 --measurement-time 3
//! ORUK_LIVE_SERVICES=20000 cargo bench -p nhs-integration --bench oruk_live   # smaller
//! ```
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use open_referral_uk::live::core::{ListingInput, Principal};
use open_referral_uk::live::{Live, LiveOptions, SystemClock};
use open_referral_uk::search::Directory;
use open_referral_uk::store::{MemoryStore, RecordWrite, Store};
use open_referral_uk::{SearchQuery, synthetic};
use serde_json::{Value, json};

fn queries() -> Vec<SearchQuery> {
    vec![
        SearchQuery::from_params([("search", "walking group")]).expect("query"),
        SearchQuery::from_params([
            ("search", "yoga".to_owned()),
            ("taxonomy_term_id", synthetic::term_id(3)),
        ])
        .expect("query"),
        SearchQuery::from_params([
            ("search", "walking"),
            ("latitude", "52.0"),
            ("longitude", "-1.5"),
            ("proximity", "5000"),
        ])
        .expect("query"),
        SearchQuery::from_params([("day", "MO"), ("cost", "free"), ("minimum_age", "30")])
            .expect("query"),
    ]
}

fn listing_body(service: &Value) -> String {
    json!({
        "service": service,
        "owner": "org-bench",
        "kind": "referral",
        "state": "public",
        "resume_state": "public",
        "review": "approved",
        "submitted_at": "2026-11-01T09:00:00Z",
        "reviewed_at": "2026-11-01T10:00:00Z",
        "note": null,
        "waiting_weeks": null,
        "consecutive_declines": 0,
        "consecutive_unanswered": 0,
        "route": {"form": {"fields": []}},
        "claim_hash": null
    })
    .to_string()
}

fn open(runtime: &tokio::runtime::Runtime, count: usize) -> (Arc<Live>, Vec<Value>) {
    let started = Instant::now();
    let services: Vec<Value> = synthetic::services(count, 42)
        .iter()
        .map(|s| serde_json::to_value(s).expect("service"))
        .collect();
    let store = MemoryStore::new();
    let writes = services
        .iter()
        .map(|s| RecordWrite::new("listing", s["id"].as_str().expect("id"), listing_body(s)))
        .collect();
    let live = runtime.block_on(async {
        store.commit(0, writes).await.expect("seed");
        Live::open(
            Arc::new(store) as Arc<dyn Store>,
            Arc::new(SystemClock::new()),
            Directory::builder(),
            LiveOptions::default(),
        )
        .await
        .expect("open")
    });
    eprintln!("opened {count} listings in {:.2?}", started.elapsed());
    (Arc::new(live), services)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(name: &str, samples: &Mutex<Vec<Duration>>, edits: Option<(u64, Duration)>) {
    let mut samples = samples.lock().expect("samples").clone();
    samples.sort();
    let rate = edits.map_or(String::new(), |(n, d)| {
        format!(", {n} edits applied ({:.1}/s)", n as f64 / d.as_secs_f64())
    });
    eprintln!(
        "{name}: {} searches, p50 {:.1?}, p99 {:.1?}, max {:.1?}{rate}",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples.last().copied().unwrap_or_default(),
    );
}

fn run_queries(
    live: &Live,
    queries: &[SearchQuery],
    iters: u64,
    samples: &Mutex<Vec<Duration>>,
) -> Duration {
    let directory = live.directory();
    let mut total = Duration::ZERO;
    let mut local = Vec::with_capacity(iters as usize);
    for i in 0..iters {
        let query = &queries[i as usize % queries.len()];
        let started = Instant::now();
        let guard = directory.read().expect("directory");
        black_box(guard.search(query).expect("search").total_items);
        drop(guard);
        let took = started.elapsed();
        local.push(took);
        total += took;
    }
    samples.lock().expect("samples").extend(local);
    total
}

fn live_search(c: &mut Criterion) {
    let count = std::env::var("ORUK_LIVE_SERVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (live, services) = open(&runtime, count);
    let queries = queries();
    let mut group = c.benchmark_group(format!("oruk_live_{count}"));

    let quiet = Mutex::new(Vec::new());
    group.bench_function("search_no_edits", |b| {
        b.iter_custom(|iters| run_queries(&live, &queries, iters, &quiet))
    });
    report("search_no_edits", &quiet, None);

    // Edits at 50 per second on another thread, through the whole edit path.
    let stop = Arc::new(AtomicBool::new(false));
    let applied = Arc::new(AtomicU64::new(0));
    let editor = {
        let (live, stop, applied) = (Arc::clone(&live), Arc::clone(&stop), Arc::clone(&applied));
        let handle = runtime.handle().clone();
        std::thread::spawn(move || {
            let mut rng = synthetic::Rng::new(7);
            let started = Instant::now();
            let mut next = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let mut service = services[rng.below(services.len())].clone();
                service["name"] = json!(
                    (0..3)
                        .map(|_| synthetic::WORDS[rng.below(synthetic::WORDS.len())])
                        .collect::<Vec<_>>()
                        .join(" ")
                );
                let id = service["id"].as_str().expect("id").to_owned();
                let input: ListingInput =
                    serde_json::from_value(json!({"service": service})).expect("input");
                handle
                    .block_on(live.edit_listing(&Principal::Admin, &id, input))
                    .expect("edit");
                applied.fetch_add(1, Ordering::Relaxed);
                next += Duration::from_millis(20);
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            started.elapsed()
        })
    };
    let busy = Mutex::new(Vec::new());
    group.bench_function("search_with_50_edits_per_s", |b| {
        b.iter_custom(|iters| run_queries(&live, &queries, iters, &busy))
    });
    stop.store(true, Ordering::Relaxed);
    let elapsed = editor.join().expect("editor");
    report(
        "search_with_50_edits_per_s",
        &busy,
        Some((applied.load(Ordering::Relaxed), elapsed)),
    );
    group.finish();
}

criterion_group!(benches, live_search);
criterion_main!(benches);
