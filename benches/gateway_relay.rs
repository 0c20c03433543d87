//! Latency a Gateway PC agent adds per request.
//!
//! The same simulated SystmOne client (loopback TCP, no throttle) answers `GetFunctions`:
//! - `direct_tcp` (baseline): a `systmone-client` `Client` connected straight to it, as when
//!   writeback runs on the Gateway PC itself;
//! - `through_agent`: the hub's `Client` for the device, whose connection is a relay channel
//!   over loopback TLS to a `systmone-gateway` agent that relays to the same simulator.
//!
//! Both clients keep their connection open between requests and pace with no gap, so the
//! difference is the relay path: framing, TLS both ways and two extra loopback hops.
//!
//! Run: `cargo bench -p nhs-integration --bench gateway_relay -- --warm-up-time 1 --measurement-time 3`

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use nhs_integration::systmone_api::get_functions;
use nhs_integration::systmone_client::{
    ApiKey, Client, ClientConfig, TcpConnector, ThrottleConfig,
};
use nhs_integration::systmone_gateway::{Agent, AgentConfig, enrol, tls};
use nhs_integration::systmone_gateway_hub::{
    ClientFactory, DeviceId, Hub, SqliteRegistry, tls as hub_tls,
};
use nhs_integration::systmone_sim::{GatewayConfig, Organisation, Simulator};

const API_KEY: &str = "0a1b2c3d4e5f6071";

fn no_pacing() -> ThrottleConfig {
    ThrottleConfig::default()
        .with_client_interval(Duration::ZERO)
        .with_function_interval(
            nhs_integration::systmone_api::FunctionName::GetPatientRecord,
            Duration::ZERO,
        )
}

fn client_config() -> ClientConfig {
    let mut config = ClientConfig::default();
    config.assume_record_read_at_start = false;
    config
}

fn certs() -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA");
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .signed_by(&key, &ca)
        .expect("cert");
    (ca.pem(), cert.pem(), key.serialize_pem())
}

fn relay(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // The simulator and the hub stay alive for the whole bench: dropping either stops it.
    let (_sim, _hub, direct, through_agent) = runtime.block_on(async {
        let sim = Simulator::new(
            Organisation::builtin_default(),
            GatewayConfig::for_user("gateway0001")
                .with_throttle(nhs_integration::systmone_sim::ThrottleConfig::relaxed()),
        )
        .expect("sim");
        let sim_addr = sim
            .listen_tcp("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("listen");
        let direct = Client::builder("direct", ApiKey::new(API_KEY))
            .connector(Arc::new(TcpConnector::new(sim_addr)))
            .in_memory_device_id()
            .throttle(no_pacing())
            .config(client_config())
            .spawn()
            .expect("client");

        let (ca, cert, key) = certs();
        let factory: ClientFactory = Arc::new(|gateway, connector| {
            Client::builder(gateway, ApiKey::new(API_KEY))
                .connector(connector)
                .in_memory_device_id()
                .throttle(no_pacing())
                .config(client_config())
                .spawn()
        });
        let hub = Hub::builder(
            Arc::new(SqliteRegistry::in_memory().expect("registry")),
            ApiKey::new(API_KEY),
        )
        .client_factory(factory)
        .build();
        let hub_addr = hub
            .listen(
                "127.0.0.1:0".parse().expect("addr"),
                hub_tls::server_config(cert.as_bytes(), key.as_bytes()).expect("tls"),
            )
            .await
            .expect("listen");
        let token = hub
            .issue_token(
                &"B11111".parse().expect("ods"),
                "bench",
                Duration::from_secs(60),
            )
            .await
            .expect("token");
        let config = AgentConfig::new(
            hub_addr.to_string(),
            "localhost",
            tls::client_config(ca.as_bytes()).expect("tls"),
        )
        .expect("config")
        .with_systmone_addr(sim_addr);
        let credential = enrol(&config, token.token).await.expect("enrol");
        let device = DeviceId::new(&credential.device_id).expect("id");
        tokio::spawn(async move { Agent::new(config, credential).run().await });
        while hub.live_devices().iter().all(|d| !d.verified) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let through_agent = hub.client(&device).expect("device client");
        (sim, hub, direct, through_agent)
    });

    let mut group = c.benchmark_group("gateway_relay/get_functions");
    group.bench_function("direct_tcp", |b| {
        b.iter(|| {
            runtime
                .block_on(direct.call(get_functions::v1::Request::new()))
                .expect("answer")
        })
    });
    group.bench_function("through_agent", |b| {
        b.iter(|| {
            runtime
                .block_on(through_agent.call(get_functions::v1::Request::new()))
                .expect("answer")
        })
    });
    group.finish();
}

criterion_group!(benches, relay);
criterion_main!(benches);
