#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Pacing, proved from the simulator's arrival log (paused time: the log's instants are tokio's
//! virtual clock, the same clock the client's throttle reads).
//!
//! Utilisation is measured with a backlog: `(requests - 1) × allowed interval / (last arrival -
//! first arrival)`. 100 % means the line never idled while work was queued.
//! `cargo test -p systmone-client --test pacing -- --nocapture` prints the figures.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use systmone_client::Client;
use systmone_sim::{Fault, RequestOutcome, RequestRecord};
use tokio::time::Instant;

const SECOND: Duration = Duration::from_secs(1);
const THIRTY: Duration = Duration::from_secs(30);

fn gaps(records: &[&RequestRecord]) -> Vec<Duration> {
    records
        .windows(2)
        .map(|w| w[1].arrival.duration_since(w[0].arrival))
        .collect()
}

fn utilisation(records: &[&RequestRecord], interval: Duration) -> f64 {
    let span = records
        .last()
        .unwrap()
        .arrival
        .duration_since(records[0].arrival);
    ((records.len() - 1) as f64 * interval.as_secs_f64()) / span.as_secs_f64()
}

async fn run_backlog(client: &Client, requests: Vec<systmone_client::Request>) {
    let mut handles = Vec::new();
    for request in requests {
        let client = client.clone();
        handles.push(tokio::spawn(async move { client.call(request).await }));
    }
    for handle in handles {
        handle.await.unwrap().unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn backlog_of_mixed_requests_keeps_every_limit_and_the_line_busy() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    // 4 whole-record reads (30 s limit) queued among 120 other requests (41 of them exempt
    // demographics reads), all at once.
    let mut requests = Vec::new();
    for index in 0..124 {
        requests.push(match index {
            1..=4 => full_record(),
            i if i % 3 == 0 => demographics(),
            i if i % 3 == 1 => search(),
            _ => get_functions(),
        });
    }
    let expected_record_reads = (0..124)
        .filter(|i| (1..=4).contains(i) || i % 3 == 0)
        .count();
    let started = Instant::now();
    run_backlog(&client, requests).await;
    let log = sim.request_log();
    assert_eq!(log.len(), 124);
    assert!(
        log.iter().all(|r| r.outcome == RequestOutcome::Answered),
        "nothing dropped by the throttle"
    );
    let all: Vec<&RequestRecord> = log.iter().collect();
    let shortest = gaps(&all).into_iter().min().unwrap();
    assert!(shortest >= SECOND, "two requests {shortest:?} apart");
    // The simulator drops (never answers) a whole-record read less than 30 s after the last
    // one, exactly as SystmOne does, so "all answered" also proves the 30 s limit; the
    // exempt demographics reads went on meanwhile.
    let record_reads = log
        .iter()
        .filter(|r| r.function.as_deref() == Some("GetPatientRecord"))
        .count();
    assert_eq!(record_reads, expected_record_reads);
    let ratio = utilisation(&all, SECOND);
    println!(
        "mixed backlog: {} requests in {:?} (first arrival after {:?}), shortest gap {shortest:?}, utilisation {:.3} %",
        all.len(),
        all.last().unwrap().arrival.duration_since(all[0].arrival),
        all[0].arrival.duration_since(started),
        ratio * 100.0
    );
    assert!(ratio >= 0.98, "utilisation {ratio}");
}

#[tokio::test(start_paused = true)]
async fn whole_record_reads_alone_go_every_thirty_seconds() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    run_backlog(&client, (0..5).map(|_| full_record()).collect()).await;
    let log = sim.request_log();
    let all: Vec<&RequestRecord> = log.iter().collect();
    assert!(all.iter().all(|r| r.answered()));
    let spacing = gaps(&all);
    assert!(spacing.iter().all(|gap| *gap >= THIRTY), "{spacing:?}");
    let ratio = utilisation(&all, THIRTY);
    println!(
        "whole-record backlog: gaps {spacing:?}, utilisation {:.3} %",
        ratio * 100.0
    );
    assert!(ratio >= 0.98, "utilisation {ratio}");
}

#[tokio::test(start_paused = true)]
async fn pacing_holds_across_reconnects() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    let mut results = Vec::new();
    for index in 0..10 {
        if index % 3 == 1 {
            sim.inject_next("PatientSearch", Fault::CloseBeforeApply);
        }
        results.push(client.call(search()).await);
    }
    let log = sim.request_log();
    assert!(
        sim.connections_accepted() >= 4,
        "reconnected after each close"
    );
    let all: Vec<&RequestRecord> = log.iter().collect();
    let shortest = gaps(&all).into_iter().min().unwrap();
    assert!(shortest >= SECOND, "{shortest:?}");
    assert!(log.iter().all(|r| r.outcome != RequestOutcome::Throttled));
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 3);
}

#[tokio::test(start_paused = true)]
async fn two_gateways_are_paced_independently() {
    let org = organisation();
    let one = gateway(&org, "gateway0001");
    let two = gateway(&org, "gateway0002");
    let pool = Arc::new(
        systmone_client::GatewayPool::builder()
            .gateway(client("gw-1", &one))
            .gateway(client("gw-2", &two))
            .build(),
    );
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..40 {
        let pool = Arc::clone(&pool);
        handles.push(tokio::spawn(async move { pool.call(search()).await }));
    }
    for handle in handles {
        handle.await.unwrap().unwrap();
    }
    let elapsed = started.elapsed();
    for sim in [&one, &two] {
        let log = sim.request_log();
        let all: Vec<&RequestRecord> = log.iter().collect();
        assert!(gaps(&all).into_iter().all(|gap| gap >= SECOND));
        assert!(log.iter().all(|r| r.answered()));
    }
    // 20 requests each: 1 s after the start, then 19 gaps of 1 s + the pacing margin.
    assert!(
        elapsed <= Duration::from_secs(20) + 19 * systmone_client::DEFAULT_PACING_MARGIN,
        "two gateways share 40 requests: {elapsed:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn slow_answers_do_not_idle_the_line() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let mut slow = systmone_sim::FaultProbabilities::none();
    slow.delay = 1.0;
    slow.delay_by = Duration::from_millis(400);
    sim.set_random_faults(slow, 7);
    let client = client("gw-1", &sim);
    run_backlog(&client, (0..60).map(|_| search()).collect()).await;
    let log = sim.request_log();
    let all: Vec<&RequestRecord> = log.iter().collect();
    assert!(all.iter().all(|r| r.answered()));
    assert!(gaps(&all).into_iter().all(|gap| gap >= SECOND));
    let ratio = utilisation(&all, SECOND);
    println!(
        "backlog with 400 ms answers: utilisation {:.3} %",
        ratio * 100.0
    );
    assert!(ratio >= 0.98, "utilisation {ratio}");
}

fn record_reads<'a>(records: &[&'a RequestRecord]) -> Vec<&'a RequestRecord> {
    records
        .iter()
        .copied()
        .filter(|r| r.function.as_deref() == Some("GetPatientRecord"))
        .collect()
}

/// A restart: a second `Client` for the same gateway, built the moment the first stopped, and
/// straight to work. Its start counts as a send and as a whole-record read, so the gateway's
/// arrival log still has no two requests closer than 1 s, no two whole-record reads closer
/// than 30 s, and nothing dropped.
#[tokio::test(start_paused = true)]
async fn limits_hold_across_a_restart() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let first = client("gw-1", &sim);
    first.call(search()).await.unwrap();
    first.call(full_record()).await.unwrap();
    first.shutdown().await;
    let restarted_at = Instant::now();
    let second = client("gw-1", &sim);
    // Queued together: the search goes after 1 s, the record read waits out its 30 s.
    run_backlog(&second, vec![full_record(), search()]).await;
    second.shutdown().await;
    // And a restart right after an ordinary request.
    let third = client("gw-1", &sim);
    third.call(search()).await.unwrap();
    third.shutdown().await;

    let log = sim.request_log();
    let all: Vec<&RequestRecord> = log.iter().collect();
    assert_eq!(all.len(), 5);
    assert!(
        all.iter().all(|r| r.outcome == RequestOutcome::Answered),
        "nothing dropped by SystmOne's throttle: {log:?}"
    );
    let spacing = gaps(&all);
    assert!(spacing.iter().all(|gap| *gap >= SECOND), "{spacing:?}");
    let reads = record_reads(&all);
    assert_eq!(reads.len(), 2);
    assert!(gaps(&reads).iter().all(|gap| *gap >= THIRTY), "{reads:?}");
    // The second client's search did not wait for the held record read.
    assert_eq!(all[2].function.as_deref(), Some("PatientSearch"));
    assert_eq!(all[2].arrival.duration_since(restarted_at), SECOND);
    assert_eq!(all[3].arrival.duration_since(restarted_at), THIRTY);
}

/// What `assume_record_read_at_start` guards against: with it off, a whole-record read right
/// after a restart goes after 1 s and SystmOne silently drops it; after 30 s of quiet it is
/// safe (and goes 1 s after the start).
#[tokio::test(start_paused = true)]
async fn without_the_record_read_hold_a_restart_is_only_safe_after_30_s() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let mut config = test_config();
    config.assume_record_read_at_start = false;
    let first = builder("gw-1", &sim)
        .config(config.clone())
        .spawn()
        .unwrap();
    first.call(full_record()).await.unwrap();
    first.shutdown().await;
    let second = builder("gw-1", &sim)
        .config(config.clone())
        .spawn()
        .unwrap();
    let error = second.call(full_record()).await.unwrap_err();
    assert!(error.to_string().contains("no response"), "{error}");
    second.shutdown().await;
    assert_eq!(sim.request_log()[1].outcome, RequestOutcome::Throttled);

    tokio::time::sleep(THIRTY).await;
    let started = Instant::now();
    let third = builder("gw-1", &sim).config(config).spawn().unwrap();
    third.call(full_record()).await.unwrap();
    assert_eq!(started.elapsed(), SECOND);
    third.shutdown().await;
}

/// The same measurement on the real clock over loopback TCP (about 30 s of wall time, so it is
/// ignored by default): `cargo test -p systmone-client --test pacing -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "takes ~30 s of real time; run by hand for BENCHMARKS.md"]
async fn real_time_utilisation_over_tcp() {
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let addr = sim
        .listen_tcp("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let client = Client::builder("gw-tcp", api_key())
        .in_memory_device_id()
        .connector(Arc::new(systmone_client::TcpConnector::new(addr)))
        .spawn()
        .unwrap();
    let requests: Vec<_> = (0..31)
        .map(|i| if i % 2 == 0 { search() } else { demographics() })
        .collect();
    run_backlog(&client, requests).await;
    let log = sim.request_log();
    let all: Vec<&RequestRecord> = log.iter().collect();
    assert!(all.iter().all(|r| r.answered()));
    let spacing = gaps(&all);
    let shortest = spacing.iter().min().unwrap();
    let longest = spacing.iter().max().unwrap();
    let ratio = utilisation(&all, SECOND);
    println!(
        "real time over TCP: {} requests, gaps {shortest:?}..{longest:?}, utilisation {:.3} %",
        all.len(),
        ratio * 100.0
    );
    assert!(*shortest >= SECOND);
    assert!(ratio >= 0.98, "utilisation {ratio}");
}

mod property {
    use super::*;
    use proptest::prelude::*;

    fn request(kind: u8) -> systmone_client::Request {
        match kind {
            0 => full_record(),
            1 => demographics(),
            2 => search(),
            _ => get_functions(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Whatever the arrival schedule and mix, the simulator (which silently drops anything
        /// over SystmOne's limits) answers every request, and no two arrive closer than 1 s.
        #[test]
        fn any_schedule_keeps_the_limits(schedule in proptest::collection::vec((0u64..2_500, 0u8..4), 1..25)) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
            runtime.block_on(async {
                let org = organisation();
                let sim = gateway(&org, "gateway0001");
                let client = client("gw-1", &sim);
                let mut handles = Vec::new();
                let mut offset = 0;
                for (delay, kind) in schedule.iter().copied() {
                    offset += delay;
                    let client = client.clone();
                    handles.push(tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(offset)).await;
                        client.call(request(kind)).await
                    }));
                }
                for handle in handles {
                    prop_assert!(handle.await.unwrap().is_ok());
                }
                let log = sim.request_log();
                prop_assert_eq!(log.len(), schedule.len());
                prop_assert!(log.iter().all(|r| r.outcome == RequestOutcome::Answered));
                let all: Vec<&RequestRecord> = log.iter().collect();
                prop_assert!(gaps(&all).into_iter().all(|gap| gap >= SECOND));
                Ok(())
            })?;
        }
    }
}

/// "Today" comes from the shared wall clock's Europe/London date: at 23:30 UTC on 1 July it is
/// already 2 July in London, so record reads of 2 July's entries are exempt from the 30 s limit
/// and reads of 1 July's are not.
#[tokio::test(start_paused = true)]
async fn entry_date_exemption_uses_the_clocks_london_date() {
    use chrono::{NaiveDate, TimeZone, Utc};
    use nhs_identifiers::clock::ManualClock;
    use systmone_api::get_patient_record::v1::{Filter, Request as RecordRequest};

    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 7, 1, 23, 30, 0).unwrap(),
    ));
    let org = organisation().with_clock(Arc::new(systmone_sim::LondonClock(clock.clone())));
    let sim = gateway(&org, "gateway0001");
    let client = builder("gw-1", &sim).clock(clock).spawn().unwrap();
    let read_of = |day: NaiveDate| -> systmone_client::Request {
        RecordRequest::new(
            fixture_patient(),
            Some(Filter::default().with_entry_date(day)),
        )
        .into()
    };
    let london_today = NaiveDate::from_ymd_opt(2026, 7, 2).unwrap();
    let utc_today = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
    run_backlog(&client, (0..3).map(|_| read_of(london_today)).collect()).await;
    run_backlog(&client, (0..2).map(|_| read_of(utc_today)).collect()).await;
    let log = sim.request_log();
    let all: Vec<&RequestRecord> = log.iter().collect();
    assert_eq!(all.len(), 5);
    assert!(all.iter().all(|r| r.answered()));
    let spacing = gaps(&all);
    assert!(spacing[..2].iter().all(|gap| *gap < THIRTY), "{spacing:?}");
    assert!(spacing[3] >= THIRTY, "{spacing:?}");
}
