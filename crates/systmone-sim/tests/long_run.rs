#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A simulator left running: 200,000 requests (valid, undecodable and blank lines between
//! them) cost the same per request at the end as at the start, resident memory does not grow,
//! and the request log stays within its capacity while the counters count every request.

mod common;

use std::time::{Duration, Instant};

use common::request;
use systmone_api::{EncodeOptions, get_functions};
use systmone_sim::{GatewayConfig, Organisation, Simulator, ThrottleConfig};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const BATCHES: usize = 10;
const PER_BATCH: usize = 20_000;
const CAPACITY: usize = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_request_cost_and_log_size_stay_flat_over_200_000_requests() {
    let org = Organisation::builtin_default();
    let sim = Simulator::new(
        org,
        GatewayConfig::for_user("gateway0001")
            .with_throttle(ThrottleConfig::relaxed())
            .with_request_log_capacity(CAPACITY),
    )
    .unwrap();
    let (reader, mut writer) = tokio::io::split(sim.connect_in_memory().unwrap());
    let mut reader = BufReader::new(reader);
    let ping = request("dev", "1", get_functions::v1::Request::new())
        .encode(&EncodeOptions::default())
        .unwrap();
    // One batch: every 20th request a valid GetFunctions, the rest undecodable documents,
    // each followed by blank lines.
    let mut batch = Vec::new();
    for i in 0..PER_BATCH {
        if i % 20 == 0 {
            batch.extend_from_slice(&ping);
        } else {
            batch.extend_from_slice(b"<NotARequest/>\n");
        }
        batch.extend_from_slice(b"\n\r\n\n");
    }
    let mut costs = Vec::new();
    let mut resident = Vec::new();
    let mut line = String::new();
    for round in 0..BATCHES {
        let started = Instant::now();
        let bytes = batch.clone();
        let sending = tokio::spawn(async move {
            writer.write_all(&bytes).await.unwrap();
            writer.flush().await.unwrap();
            writer
        });
        for _ in 0..PER_BATCH {
            line.clear();
            let read = tokio::time::timeout(Duration::from_secs(30), reader.read_line(&mut line))
                .await
                .expect("a response")
                .unwrap();
            assert!(read > 0 && line.ends_with('\n'));
        }
        writer = sending.await.unwrap();
        costs.push(started.elapsed() / PER_BATCH as u32);
        resident.push(resident_bytes());
        // Memory: the log holds at most its capacity, the counters hold everything.
        assert!(sim.request_log_len() <= CAPACITY);
        let counts = sim.request_counts();
        assert_eq!(counts.received, ((round + 1) * PER_BATCH) as u64);
        assert_eq!(
            counts.answered + counts.answered_with_error,
            counts.received
        );
        assert_eq!(counts.undecodable, counts.answered_with_error);
    }
    let log = sim.request_log();
    assert_eq!(log.len(), CAPACITY);
    assert_eq!(
        log.last().unwrap().sequence,
        (BATCHES * PER_BATCH - 1) as u64
    );
    assert!(log.windows(2).all(|w| w[1].sequence == w[0].sequence + 1));
    // Cost: the cheapest late batch is within 3x of the cheapest early one (the old linear
    // log grew about 9x over 120,000 requests). Minimums, so a busy machine's spikes do not
    // decide it.
    let early = costs[..3].iter().min().unwrap();
    let late = costs[BATCHES - 3..].iter().min().unwrap();
    eprintln!("per-request cost by batch of {PER_BATCH}: {costs:?}");
    assert!(
        *late < *early * 3,
        "per-request cost grew from {early:?} to {late:?}: {costs:?}"
    );
    // Memory: resident size after the warm-up batches against the end. The old unbounded log
    // grew about 370 bytes a request (some 50 MB over these 140,000); allow 16 MiB of
    // allocator noise.
    if let (Some(Some(warm)), Some(Some(end))) = (resident.get(2), resident.last()) {
        eprintln!(
            "resident after batch 3: {} KiB, at the end: {} KiB",
            warm / 1024,
            end / 1024
        );
        assert!(
            end.saturating_sub(*warm) < 16 << 20,
            "resident memory grew from {warm} to {end} bytes"
        );
    }
}

/// The process's resident set size in bytes (Linux `/proc/self/statm`), `None` elsewhere.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
