#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The gateway pool against two simulated Gateway PCs over one organisation (paused time).

mod common;

use std::time::Duration;

use common::*;
use systmone_client::{ClientError, GatewayId, GatewayPool, Retry};
use systmone_sim::Fault;

fn two_gateway_pool() -> (
    systmone_sim::Organisation,
    systmone_sim::Simulator,
    systmone_sim::Simulator,
    GatewayPool,
) {
    let org = organisation();
    let one = gateway(&org, "gateway0001");
    let two = gateway(&org, "gateway0002");
    let pool = GatewayPool::builder()
        .gateway(client("gw-1", &one))
        .gateway(client("gw-2", &two))
        .build();
    (org, one, two, pool)
}

#[tokio::test(start_paused = true)]
async fn all_reads_complete_on_the_other_gateway_when_one_is_killed_mid_run() {
    let (_org, one, two, pool) = two_gateway_pool();
    // gw-1's third request is slow, so a read is on the wire when gw-1 dies.
    one.inject(
        systmone_sim::FaultTarget::AnyFunction,
        Fault::Delay(Duration::ZERO),
    );
    one.inject(
        systmone_sim::FaultTarget::AnyFunction,
        Fault::Delay(Duration::ZERO),
    );
    one.inject(
        systmone_sim::FaultTarget::AnyFunction,
        Fault::Delay(Duration::from_secs(10)),
    );
    let pool = std::sync::Arc::new(pool);
    let reads = 40;
    let mut handles = Vec::new();
    for index in 0..reads {
        let pool = std::sync::Arc::clone(&pool);
        handles.push(tokio::spawn(async move {
            let request = if index % 2 == 0 {
                demographics()
            } else {
                search()
            };
            pool.call(request).await
        }));
    }
    let killer = {
        let one = one.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(5_500)).await;
            one.kill();
        })
    };
    let mut served_by = std::collections::BTreeMap::<GatewayId, usize>::new();
    for handle in handles {
        let (gateway, _response) = handle.await.unwrap().expect("every read completes");
        *served_by.entry(gateway).or_default() += 1;
    }
    killer.await.unwrap();
    assert_eq!(served_by.values().sum::<usize>(), reads);
    let answered_by_one = one.request_log().iter().filter(|r| r.answered()).count();
    let answered_by_two = two.request_log().iter().filter(|r| r.answered()).count();
    assert!(
        answered_by_one >= 1 && answered_by_one < reads / 2,
        "gw-1 served some before it died: {answered_by_one}"
    );
    assert_eq!(answered_by_one + answered_by_two, reads, "{served_by:?}");
    assert_eq!(
        served_by.get(&GatewayId::new("gw-2")).copied().unwrap_or(0),
        answered_by_two
    );
    assert!(
        one.request_log()
            .iter()
            .any(|r| r.outcome == systmone_sim::RequestOutcome::ConnectionClosed),
        "a read was in flight on gw-1 when it was killed, and completed on gw-2: {:?}",
        one.request_log()
    );
    let status = pool.status();
    assert!(!status[0].healthy && status[1].healthy, "{status:?}");
}

#[tokio::test(start_paused = true)]
async fn a_write_never_sent_fails_over_and_lands_once() {
    let (org, one, two, pool) = two_gateway_pool();
    one.log_off();
    let (gateway, _) = pool.call(note("failover")).await.unwrap();
    assert_eq!(gateway, GatewayId::new("gw-2"));
    assert_eq!(notes_with(&org, "failover"), 1);
    assert!(one.request_log().is_empty());
    assert_eq!(two.request_log().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_write_with_unknown_outcome_is_not_sent_to_another_gateway() {
    let (org, one, two, pool) = two_gateway_pool();
    one.inject_next("UpdatePatientRecord", Fault::CloseAfterApply);
    two.inject_next("UpdatePatientRecord", Fault::CloseAfterApply);
    let error = pool.call(note("unknown")).await.unwrap_err();
    assert!(error.is_outcome_unknown(), "{error}");
    assert_eq!(error.retry(), Retry::CheckFirst);
    assert_eq!(notes_with(&org, "unknown"), 1, "applied once, never resent");
    let writes = one.request_log().len() + two.request_log().len();
    assert_eq!(writes, 1);
}

#[tokio::test(start_paused = true)]
async fn remote_errors_are_returned_not_failed_over() {
    let (_org, one, two, pool) = two_gateway_pool();
    one.inject_next("UpdatePatientRecord", Fault::RecordInUse);
    two.inject_next("UpdatePatientRecord", Fault::RecordInUse);
    let error = pool.call(note("in-use")).await.unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Remote {
                permanent: false,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(one.request_log().len() + two.request_log().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn targeting_a_gateway_and_unknown_gateways() {
    let (_org, one, two, pool) = two_gateway_pool();
    assert_eq!(
        pool.gateways(),
        vec![GatewayId::new("gw-1"), GatewayId::new("gw-2")]
    );
    pool.call_on(&GatewayId::new("gw-2"), search())
        .await
        .unwrap();
    pool.call_on(&GatewayId::new("gw-2"), search())
        .await
        .unwrap();
    assert!(one.request_log().is_empty());
    assert_eq!(two.request_log().len(), 2);
    let error = pool
        .call_on(&GatewayId::new("gw-9"), search())
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::UnknownGateway { .. }));
    assert_eq!(error.retry(), Retry::Never);
    // No failover when targeting.
    two.log_off();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let error = pool
        .call_on(&GatewayId::new("gw-2"), search())
        .await
        .unwrap_err();
    assert!(error.never_sent(), "{error}");
    assert!(one.request_log().is_empty());
}

#[tokio::test(start_paused = true)]
async fn idle_healthy_gateways_share_the_work() {
    let (_org, one, two, pool) = two_gateway_pool();
    for _ in 0..4 {
        pool.call(search()).await.unwrap();
    }
    assert_eq!(one.request_log().len(), 2);
    assert_eq!(two.request_log().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn every_gateway_down_is_no_gateway_and_health_checks_bring_them_back() {
    let (_org, one, two, pool) = two_gateway_pool();
    one.log_off();
    two.log_off();
    let error = pool.call(search()).await.unwrap_err();
    assert!(matches!(error, ClientError::NoGateway { .. }), "{error}");
    assert_eq!(error.retry(), Retry::Later);
    assert!(error.never_sent());
    assert!(pool.status().iter().all(|status| !status.healthy));
    one.log_on();
    two.log_on();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let healthy = pool.check_health().await;
    assert_eq!(
        healthy,
        vec![GatewayId::new("gw-1"), GatewayId::new("gw-2")]
    );
    assert!(pool.status().iter().all(|status| status.healthy));
}

#[tokio::test(start_paused = true)]
async fn background_health_checks_restore_a_revived_gateway() {
    let org = organisation();
    let one = gateway(&org, "gateway0001");
    let two = gateway(&org, "gateway0002");
    let pool = GatewayPool::builder()
        .gateway(client("gw-1", &one))
        .gateway(client("gw-2", &two))
        .health_check_interval(Duration::from_secs(5))
        .build();
    one.kill();
    for _ in 0..3 {
        let (gateway, _) = pool.call(search()).await.unwrap();
        assert_eq!(gateway, GatewayId::new("gw-2"));
    }
    one.revive();
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert!(pool.status()[0].healthy, "{:?}", pool.status());
    assert!(
        one.request_log()
            .iter()
            .any(|r| r.function.as_deref() == Some("GetFunctions") && r.answered())
    );
    pool.shutdown().await;
}
