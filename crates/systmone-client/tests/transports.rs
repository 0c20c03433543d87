#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The TCP transport and the blocking adapters work against the simulator over loopback.
//! (The `tracing` test lives alone in `tracing.rs`: see there why.)

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use systmone_client::{
    BlockingClient, BlockingPool, Client, ClientError, GatewayId, TcpConnector, ThrottleConfig,
};
use systmone_sim::{GatewayConfig, Simulator};

/// The simulator on its own runtime thread, listening on loopback.
fn tcp_gateway(user: &str) -> (Simulator, std::net::SocketAddr, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = Simulator::new(
        organisation(),
        GatewayConfig::for_user(user).with_throttle(systmone_sim::ThrottleConfig::relaxed()),
    )
    .unwrap();
    let addr = runtime
        .block_on(sim.listen_tcp("127.0.0.1:0".parse().unwrap()))
        .unwrap();
    (sim, addr, runtime)
}

/// The simulator and the client both relax the throttle so real-time tests stay quick.
fn relaxed() -> ThrottleConfig {
    ThrottleConfig::default()
        .with_client_interval(Duration::from_millis(10))
        .with_function_interval(systmone_api::FunctionName::GetPatientRecord, Duration::ZERO)
}

#[tokio::test]
async fn tcp_transport_against_the_simulator() {
    let sim = Simulator::new(
        organisation(),
        GatewayConfig::for_user("gateway0001")
            .with_throttle(systmone_sim::ThrottleConfig::relaxed()),
    )
    .unwrap();
    let addr = sim
        .listen_tcp("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let client = Client::builder("gw-tcp", api_key())
        .device_id_file(dir.path().join("gw-tcp.device-id"))
        .connector(Arc::new(TcpConnector::new(addr)))
        .throttle(relaxed())
        .spawn()
        .unwrap();
    client.call(get_functions()).await.unwrap();
    let typed = client
        .send(systmone_api::get_functions::v1::Request::new())
        .await
        .unwrap();
    assert!(typed.supports(&systmone_api::FunctionName::UpdatePatientRecord));
    client.call(note("tcp")).await.unwrap();
    assert_eq!(notes_with(sim.organisation(), "tcp"), 1);
    assert_eq!(sim.connections_accepted(), 1, "one connection reused");
    let stored = std::fs::read_to_string(dir.path().join("gw-tcp.device-id")).unwrap();
    assert_eq!(stored.trim(), sim.allocated_devices()[0]);
    client.shutdown().await;
}

#[test]
fn blocking_client_and_pool_without_a_runtime() {
    let (sim, addr, _runtime) = tcp_gateway("gateway0001");
    let builder = Client::builder("gw-1", api_key())
        .in_memory_device_id()
        .connector(Arc::new(TcpConnector::new(addr)))
        .throttle(relaxed());
    let client = BlockingClient::new(builder).unwrap();
    client.call(get_functions()).unwrap();
    client.call(note("blocking")).unwrap();
    assert_eq!(client.status().sent, 2);
    client.shutdown();
    assert_eq!(notes_with(sim.organisation(), "blocking"), 1);

    let (other, other_addr, _other_runtime) = tcp_gateway("gateway0002");
    let pool = BlockingPool::new(
        vec![
            Client::builder("gw-1", api_key())
                .in_memory_device_id()
                .connector(Arc::new(TcpConnector::new(addr)))
                .throttle(relaxed()),
            Client::builder("gw-2", api_key())
                .in_memory_device_id()
                .connector(Arc::new(TcpConnector::new(other_addr)))
                .throttle(relaxed()),
        ],
        |pool| pool.without_health_checks(),
    )
    .unwrap();
    sim.kill();
    for _ in 0..3 {
        let (gateway, _) = pool.call(search()).unwrap();
        assert_eq!(gateway, GatewayId::new("gw-2"));
    }
    pool.call_on(&GatewayId::new("gw-2"), get_functions())
        .unwrap();
    let error = pool
        .call_on(&GatewayId::new("gw-1"), get_functions())
        .unwrap_err();
    assert!(error.never_sent(), "{error}");
    assert!(matches!(
        error,
        ClientError::Connect { .. } | ClientError::GatewayUnavailable { .. }
    ));
    assert_eq!(pool.status().len(), 2);
    pool.shutdown();
    assert_eq!(other.request_log().len(), 4);
}
