//! ORUK directory search latency: text + taxonomy + 5 km distance, through the indexes and by
//! a linear scan of every service in the same run, and how the indexed search grows from 10k
//! to 100k to 1M services.
//!
//! ```sh
//! cargo bench -p nhs-integration --bench oruk_search
//! ORUK_BENCH_MAX=100000 cargo bench -p nhs-integration --bench oruk_search   # skip 1M
//! ```
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use open_referral_uk::search::Directory;
use open_referral_uk::{SearchQuery, synthetic};

/// Text + taxonomy + 5 km from a point in the middle of the generated area.
fn combined_query() -> SearchQuery {
    SearchQuery::from_params([
        ("search", "walking".to_owned()),
        ("taxonomy_term_id", synthetic::term_id(3)),
        ("latitude", "52.0".to_owned()),
        ("longitude", "-1.5".to_owned()),
        ("proximity", "5000".to_owned()),
    ])
    .expect("valid query")
}

/// Text + 5 km (more matches per query, to show ranking cost).
fn text_and_distance_query() -> SearchQuery {
    SearchQuery::from_params([
        ("search", "walking"),
        ("latitude", "52.0"),
        ("longitude", "-1.5"),
        ("proximity", "5000"),
    ])
    .expect("valid query")
}

fn build(count: usize) -> Directory {
    let started = Instant::now();
    let services = synthetic::services(count, 42);
    let generated = started.elapsed();
    let directory = Directory::new(services);
    eprintln!(
        "built {count} services: generate {:.2?}, index {:.2?}",
        generated,
        started.elapsed() - generated
    );
    directory
}

fn matches(directory: &Directory, query: &SearchQuery) -> u64 {
    directory.search(query).expect("search").total_items
}

fn search_100k(c: &mut Criterion) {
    let directory = build(100_000);
    let mut group = c.benchmark_group("oruk_search_100k");
    for (name, query) in [
        ("text_taxonomy_5km", combined_query()),
        ("text_5km", text_and_distance_query()),
    ] {
        let indexed = directory.search(&query).expect("search");
        let linear = directory.search_linear(&query).expect("search");
        assert_eq!(indexed.total_items, linear.total_items);
        eprintln!("{name}: {} matches", indexed.total_items);
        group.bench_function(BenchmarkId::new("indexed", name), |b| {
            b.iter(|| {
                black_box(
                    directory
                        .search(black_box(&query))
                        .expect("search")
                        .total_items,
                )
            })
        });
        group.bench_function(BenchmarkId::new("linear_scan", name), |b| {
            b.iter(|| {
                black_box(
                    directory
                        .search_linear(black_box(&query))
                        .expect("search")
                        .total_items,
                )
            })
        });
    }
    group.finish();
}

fn growth(c: &mut Criterion) {
    let max: usize = std::env::var("ORUK_BENCH_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let query = combined_query();
    let mut group = c.benchmark_group("oruk_search_growth");
    for count in [10_000, 100_000, 1_000_000]
        .into_iter()
        .filter(|n| *n <= max)
    {
        let directory = build(count);
        eprintln!("{count}: {} matches", matches(&directory, &query));
        group.bench_with_input(
            BenchmarkId::new("indexed", count),
            &directory,
            |b, directory| b.iter(|| black_box(matches(directory, black_box(&query)))),
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = search_100k, growth
}
criterion_main!(benches);
