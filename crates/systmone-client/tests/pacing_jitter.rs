#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Pacing against arrival jitter, in real time over loopback TCP: a proxy between the client
//! and the simulator delays each request by a random 0–6 ms (keeping order), as a network and
//! a busy Gateway PC do. SystmOne (and the simulator) measure the gaps between *arrivals*, so
//! without a margin some requests arrive less than the interval after the one before and are
//! silently dropped; with the default [`DEFAULT_PACING_MARGIN`] none is.
//!
//! The limits are scaled (40 ms instead of 1 s) in both the client and the simulator so 300
//! requests take about 15 s; the same run at SystmOne's real 1 s is
//! `real_time_one_second_interval_with_jitter` (ignored, about 5 minutes):
//! `cargo test -p systmone-client --test pacing_jitter -- --ignored --nocapture`.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{api_key, get_functions, organisation, search};
use systmone_client::{
    Client, ClientConfig, DEFAULT_PACING_MARGIN, TcpConnector, ThrottleConfig, Timeouts,
};
use systmone_sim::{GatewayConfig, RequestRecord, Simulator};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const MAX_JITTER_MICROS: u64 = 6_000;

/// A TCP proxy that delays each client → simulator line by a random 0..=6 ms, in order.
/// The runs measure real arrival times, so they take turns: two runs at once on a 2-core
/// machine add scheduling delays far larger than the jitter under test.
static ONE_RUN_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn jitter_proxy(upstream: SocketAddr, seed: u64) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut state = seed;
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let Ok(server) = TcpStream::connect(upstream).await else {
                return;
            };
            let _ = (client.set_nodelay(true), server.set_nodelay(true));
            let (client_read, mut client_write) = client.into_split();
            let (server_read, mut server_write) = server.into_split();
            state = state.wrapping_add(1);
            let mut rng = state;
            tokio::spawn(async move {
                let mut lines = BufReader::new(client_read);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match lines.read_until(b'\n', &mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    // xorshift64
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let delay = Duration::from_micros(rng % (MAX_JITTER_MICROS + 1));
                    tokio::time::sleep(delay).await;
                    if server_write.write_all(&line).await.is_err() {
                        return;
                    }
                }
            });
            tokio::spawn(async move {
                let mut server_read = server_read;
                let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
            });
        }
    });
    addr
}

struct Run {
    answered: usize,
    throttled: u64,
    utilisation: f64,
    shortest_gap: Duration,
}

/// `requests` calls queued at once through the jitter proxy, the client and the simulator
/// both limited to `interval`.
async fn paced_through_jitter(
    interval: Duration,
    requests: usize,
    margin: Duration,
    timeout: Duration,
) -> Run {
    let _turn = ONE_RUN_AT_A_TIME.lock().await;
    let org = organisation();
    let limits = systmone_sim::ThrottleConfig::new(interval, interval * 30);
    let sim = Simulator::new(
        org,
        GatewayConfig::for_user("gateway0001").with_throttle(limits),
    )
    .unwrap();
    let sim_addr = sim
        .listen_tcp("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let proxy = jitter_proxy(sim_addr, 0x9E37_79B9_7F4A_7C15).await;
    let mut config = ClientConfig::default();
    config.timeouts = Timeouts::uniform(timeout);
    config.first_contact_timeout = timeout;
    config.pacing_margin = margin;
    let throttle = ThrottleConfig::default()
        .with_client_interval(interval)
        .with_function_interval(systmone_api::FunctionName::GetPatientRecord, interval * 30);
    let client = Client::builder("gw-jitter", api_key())
        .in_memory_device_id()
        .connector(Arc::new(TcpConnector::new(proxy)))
        .throttle(throttle)
        .config(config)
        .spawn()
        .unwrap();
    let mut handles = Vec::new();
    for i in 0..requests {
        let client = client.clone();
        let request = if i % 2 == 0 {
            search()
        } else {
            get_functions()
        };
        handles.push(tokio::spawn(async move { client.call(request).await }));
    }
    let mut answered = 0;
    for handle in handles {
        if handle.await.unwrap().is_ok() {
            answered += 1;
        }
    }
    client.shutdown().await;
    let log = sim.request_log();
    let accepted: Vec<&RequestRecord> = log.iter().filter(|r| r.answered()).collect();
    let span = accepted
        .last()
        .unwrap()
        .arrival
        .duration_since(accepted[0].arrival);
    let shortest_gap = log
        .windows(2)
        .map(|w| w[1].arrival.duration_since(w[0].arrival))
        .min()
        .unwrap();
    Run {
        answered,
        throttled: sim.request_counts().throttled,
        utilisation: (accepted.len() - 1) as f64 * interval.as_secs_f64() / span.as_secs_f64(),
        shortest_gap,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_margin_no_throttle_drops_across_300_requests_with_jitter() {
    let interval = Duration::from_millis(40);
    let run =
        paced_through_jitter(interval, 300, DEFAULT_PACING_MARGIN, Duration::from_secs(5)).await;
    println!(
        "40 ms interval, margin {DEFAULT_PACING_MARGIN:?}, jitter 0-6 ms: {} answered, {} throttled, shortest arrival gap {:?}, utilisation {:.1} %",
        run.answered,
        run.throttled,
        run.shortest_gap,
        run.utilisation * 100.0
    );
    assert_eq!(
        run.throttled, 0,
        "requests dropped by the simulator's throttle"
    );
    assert_eq!(run.answered, 300);
    assert!(run.shortest_gap >= interval);
}

/// The control: the same jitter with no margin makes the simulator drop requests, so the
/// margin (not luck) is what keeps the run above clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_margin_jitter_gets_requests_dropped() {
    let run = paced_through_jitter(
        Duration::from_millis(40),
        60,
        Duration::ZERO,
        Duration::from_millis(300),
    )
    .await;
    println!(
        "40 ms interval, no margin: {} throttled of 60",
        run.throttled
    );
    assert!(
        run.throttled > 0,
        "no drop without a margin: {:?}",
        run.shortest_gap
    );
}

/// SystmOne's real 1 s limit, 300 requests (about 5 minutes): zero drops, and the utilisation
/// recorded in BENCHMARKS.md beside the margin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "about 5 minutes of real time; run by hand for BENCHMARKS.md"]
async fn real_time_one_second_interval_with_jitter() {
    let interval = Duration::from_secs(1);
    let run = paced_through_jitter(
        interval,
        300,
        DEFAULT_PACING_MARGIN,
        Duration::from_secs(20),
    )
    .await;
    println!(
        "1 s interval, margin {DEFAULT_PACING_MARGIN:?}, jitter 0-6 ms: {} answered, {} throttled, shortest arrival gap {:?}, utilisation {:.2} %",
        run.answered,
        run.throttled,
        run.shortest_gap,
        run.utilisation * 100.0
    );
    assert_eq!(run.throttled, 0);
    assert_eq!(run.answered, 300);
    assert!(run.utilisation >= 0.98, "utilisation {}", run.utilisation);
}
