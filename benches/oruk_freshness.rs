//! ORUK website change checks: pages checked per minute with a politeness limit of one
//! request per host per second over 1,000 hosts' worth of listings, beside the sans-IO
//! baseline (extract + normalise + fingerprint of the same page) in the same run.
//!
//! **How 1,000 hosts are simulated.** One local HTTP server (a raw tokio listener on
//! loopback, `crates/open-referral-uk/tests/support/hostile_site.rs`) answers every host name;
//! the checker's `resolve` option maps `h0000.bench.test` … `h0999.bench.test` to it, so each
//! listing's URL carries a distinct host name (its own `Host` header, its own politeness gate,
//! its own connection pool entry) exactly as 1,000 real sites would, without 1,000 processes.
//! Each host has 3 listings (3,000 pages), so one run must take at least 2 s (requests to one
//! host start 1 s apart). A fresh checker per iteration starts with empty politeness gates.
//!
//! * `snapshot_alone`: `Snapshot::of_page` on the page the server sends (the sans-IO floor);
//! * `fetch_1000_hosts_polite`: the checker fetching and snapshotting every page
//!   (`fetch_many`, 32 requests in flight, 1 s politeness);
//! * `fetch_1000_hosts_no_politeness`: the same with no delay (what IO alone allows);
//! * `check_websites_1000_hosts_polite`: `Live::check_websites` on 3,000 listings, which also
//!   decides and commits the outcomes (MemoryStore) in batches of 64.
//!
//! ```sh
//! CARGO_TARGET_DIR=/tmp/bench-target-fresh cargo bench -p nhs-integration --features oruk-freshness --bench oruk_freshness
//! ORUK_FRESHNESS_HOSTS=200 cargo bench -p nhs-integration --features oruk-freshness --bench oruk_freshness   # smaller
//! ```
#[path = "../crates/open-referral-uk/tests/support/hostile_site.rs"]
mod hostile_site;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use open_referral_uk::freshness::Snapshot;
use open_referral_uk::freshness::fetch::{Checker, CheckerOptions};
use open_referral_uk::live::{Live, LiveOptions, ManualClock};
use open_referral_uk::search::Directory;
use open_referral_uk::store::{MemoryStore, RecordWrite, Store};
use open_referral_uk::synthetic;
use serde_json::{Value, json};

const PAGES_PER_HOST: usize = 3;

fn hosts() -> usize {
    std::env::var("ORUK_FRESHNESS_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
}

fn host(i: usize) -> String {
    format!("h{i:04}.bench.test")
}

fn checker(site: &hostile_site::Running, hosts: usize, politeness: Duration) -> Arc<Checker> {
    let mut options = CheckerOptions::default();
    options.politeness = politeness;
    options.resolve = (0..hosts).map(|i| (host(i), site.addr)).collect();
    Arc::new(Checker::new(options).expect("checker"))
}

fn jobs(site: &hostile_site::Running, hosts: usize) -> Vec<(usize, String)> {
    (0..hosts * PAGES_PER_HOST)
        .map(|n| (n, site.url(&host(n % hosts), "/page")))
        .collect()
}

async fn fetch_all(checker: &Arc<Checker>, jobs: Vec<(usize, String)>) -> usize {
    let mut results = checker.fetch_many(jobs);
    let mut pages = 0;
    while let Some((_, _, observation)) = results.recv().await {
        if let Ok(snapshot) = Snapshot::of(&observation) {
            black_box(snapshot.fingerprint);
            pages += 1;
        }
    }
    pages
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

fn per_minute(name: &str, pages: usize, took: Duration) {
    eprintln!(
        "{name}: {pages} pages in {took:.2?} = {:.0} pages/minute",
        pages as f64 / took.as_secs_f64() * 60.0
    );
}

fn freshness(c: &mut Criterion) {
    let hosts = hosts();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let site = runtime.block_on(hostile_site::start());
    let page = hostile_site::page("0118 496 0000", "30 November 2026", 1204, "a8f9c3e1d2");

    let mut group = c.benchmark_group("oruk_freshness");
    group.throughput(Throughput::Elements(1));
    group.bench_function("snapshot_alone", |b| {
        b.iter(|| black_box(Snapshot::of_page(page.as_bytes())))
    });

    let pages = hosts * PAGES_PER_HOST;
    // Each iteration takes seconds (politeness): one iteration per sample, ten samples.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(pages as u64));
    for (name, politeness) in [
        ("fetch_1000_hosts_polite", Duration::from_secs(1)),
        ("fetch_1000_hosts_no_politeness", Duration::ZERO),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let checker = checker(&site, hosts, politeness);
                    let jobs = jobs(&site, hosts);
                    let started = Instant::now();
                    let fetched = runtime.block_on(fetch_all(&checker, jobs));
                    let took = started.elapsed();
                    assert_eq!(fetched, pages);
                    per_minute(name, fetched, took);
                    total += took;
                }
                total
            })
        });
    }

    // The whole check: due listings, fetch, snapshot, decide, commit.
    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
            .single()
            .expect("time"),
    );
    let live = runtime.block_on(async {
        let store = MemoryStore::new();
        let writes = synthetic::services(pages, 7)
            .iter()
            .enumerate()
            .map(|(n, service)| {
                let mut service = serde_json::to_value(service).expect("service");
                service["url"] = json!(site.url(&host(n % hosts), "/page"));
                RecordWrite::new(
                    "listing",
                    service["id"].as_str().expect("id"),
                    listing_body(&service),
                )
            })
            .collect();
        store.commit(0, writes).await.expect("seed");
        Arc::new(
            Live::open(
                Arc::new(store) as Arc<dyn Store>,
                Arc::new(clock.clone()),
                Directory::builder(),
                LiveOptions::default(),
            )
            .await
            .expect("open"),
        )
    });
    group.bench_function("check_websites_1000_hosts_polite", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                clock.advance(chrono::Duration::days(8));
                let checker = checker(&site, hosts, Duration::from_secs(1));
                let started = Instant::now();
                let summary = runtime
                    .block_on(live.check_websites(&checker))
                    .expect("checks");
                let took = started.elapsed();
                assert_eq!(summary.checked, pages);
                per_minute("check_websites_1000_hosts_polite", summary.checked, took);
                total += took;
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, freshness);
criterion_main!(benches);
