//! Shared helpers: throwaway certificates, two fictitious practices, a hub on loopback TLS,
//! enrolled agents in front of simulators.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use nhs_identifiers::OdsCode;
use systmone_api::FunctionName;
use systmone_client::{ApiKey, Client, ClientConfig, ThrottleConfig, Timeouts};
use systmone_gateway::{Agent, AgentConfig, DeviceCredential, ReconnectBackoff, enrol, tls};
use systmone_gateway_hub::{ClientFactory, DeviceCertificates, Hub, HubConfig, SqliteRegistry};
use systmone_sim::{GatewayConfig, Organisation, OrganisationData, Simulator};
use tokio::task::JoinHandle;

pub const API_KEY: &str = "0a1b2c3d4e5f6071";

pub fn ods(code: &str) -> OdsCode {
    code.parse().unwrap()
}

/// Practice A: the simulator's built-in organisation (primary site B11111).
pub fn practice_a() -> Organisation {
    Organisation::builtin_default()
}

/// Practice B: the same fictitious data under other site codes (primary site C22221).
pub fn practice_b() -> Organisation {
    let json = serde_json::to_string(&Organisation::builtin_default().snapshot()).unwrap();
    let json = json.replace("B11111", "C22221").replace("B11112", "C22222");
    let data: OrganisationData = serde_json::from_str(&json).unwrap();
    Organisation::new(data)
}

pub struct Certs {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

/// A throwaway CA and a `localhost` server certificate it signed.
pub fn certs() -> Certs {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name = rcgen::DistinguishedName::new();
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "nhsi test hub CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    Certs {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// A throwaway device CA: the integrator's CA for Gateway PCs' client certificates.
pub struct DeviceCa {
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
    pub pem: String,
}

/// A client certificate and its key, PEM.
#[derive(Clone)]
pub struct DeviceCert {
    pub cert_pem: String,
    pub key_pem: String,
}

impl DeviceCa {
    pub fn new(name: &str) -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let issuer =
            rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap())
                .unwrap();
        let pem = issuer.pem();
        Self { issuer, pem }
    }

    fn sign(&self, params: rcgen::CertificateParams) -> DeviceCert {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        DeviceCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    fn client_params(common_name: Option<&str>) -> rcgen::CertificateParams {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        if let Some(name) = common_name {
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, name);
        }
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        params
    }

    /// A client certificate whose subject CN is `device_id` (`None`: no CN at all).
    pub fn issue(&self, device_id: Option<&str>) -> DeviceCert {
        self.sign(Self::client_params(device_id))
    }

    /// A client certificate for `device_id` that expired in 2020.
    pub fn issue_expired(&self, device_id: &str) -> DeviceCert {
        let mut params = Self::client_params(Some(device_id));
        params.not_before = rcgen::date_time_ymd(2019, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        self.sign(params)
    }
}

/// Settings quick enough for tests on real time.
pub fn hub_config() -> HubConfig {
    let mut config = HubConfig::default();
    config.heartbeat = Duration::from_secs(1);
    config.revocation_check = Duration::from_millis(200);
    config.channel_open_timeout = Duration::from_secs(2);
    config.handshake_timeout = Duration::from_secs(2);
    config
}

pub fn client_config() -> ClientConfig {
    let mut config = ClientConfig::default();
    config.timeouts = Timeouts::uniform(Duration::from_secs(5));
    config.first_contact_timeout = Duration::from_secs(5);
    config.connect_timeout = Duration::from_secs(3);
    config.backoff =
        systmone_client::BackoffPolicy::new(Duration::from_millis(50), Duration::from_millis(200));
    config.assume_record_read_at_start = false;
    config
}

/// Each device's client: in-memory device id, the given pacing.
pub fn factory(throttle: ThrottleConfig) -> ClientFactory {
    Arc::new(move |gateway, connector| {
        Client::builder(gateway, ApiKey::new(API_KEY))
            .connector(connector)
            .in_memory_device_id()
            .throttle(throttle.clone())
            .config(client_config())
            .spawn()
    })
}

/// Fast pacing for tests not about the throttle (the simulators are relaxed then).
pub fn fast_throttle() -> ThrottleConfig {
    ThrottleConfig::default()
        .with_client_interval(Duration::from_millis(20))
        .with_function_interval(FunctionName::GetPatientRecord, Duration::ZERO)
}

pub struct World {
    pub hub: Hub,
    pub addr: SocketAddr,
    pub certs: Certs,
    pub registry: Arc<SqliteRegistry>,
    /// The device CA the hub requires client certificates from (mutual TLS worlds only).
    pub device_ca: Option<DeviceCa>,
}

pub async fn world_with(throttle: ThrottleConfig, config: HubConfig) -> World {
    world_inner(throttle, config, None).await
}

/// A hub that requires client certificates from a throwaway device CA and takes each device's
/// id from its certificate's CN.
pub async fn mutual_world() -> World {
    let mut config = hub_config();
    config.device_certificates = DeviceCertificates::CommonNameIsDeviceId;
    world_inner(
        fast_throttle(),
        config,
        Some(DeviceCa::new("nhsi test device CA")),
    )
    .await
}

async fn world_inner(
    throttle: ThrottleConfig,
    config: HubConfig,
    device_ca: Option<DeviceCa>,
) -> World {
    if let Ok(filter) = std::env::var("RUST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
    let certs = certs();
    let registry = Arc::new(SqliteRegistry::in_memory().unwrap());
    let hub = Hub::builder(registry.clone(), ApiKey::new(API_KEY))
        .client_factory(factory(throttle))
        .config(config)
        .build();
    let tls = match &device_ca {
        Some(device_ca) => systmone_gateway_hub::tls::mutual_server_config(
            certs.cert_pem.as_bytes(),
            certs.key_pem.as_bytes(),
            device_ca.pem.as_bytes(),
        ),
        None => systmone_gateway_hub::tls::server_config(
            certs.cert_pem.as_bytes(),
            certs.key_pem.as_bytes(),
        ),
    }
    .unwrap();
    let addr = hub
        .listen("127.0.0.1:0".parse().unwrap(), tls)
        .await
        .unwrap();
    World {
        hub,
        addr,
        certs,
        registry,
        device_ca,
    }
}

pub async fn world() -> World {
    world_with(fast_throttle(), hub_config()).await
}

/// A simulated Gateway PC on loopback TCP.
pub async fn gateway(org: &Organisation, user: &str, relaxed: bool) -> (Simulator, SocketAddr) {
    let mut config = GatewayConfig::for_user(user);
    if relaxed {
        config = config.with_throttle(systmone_sim::ThrottleConfig::relaxed());
    }
    let sim = Simulator::new(org.clone(), config).unwrap();
    let addr = sim
        .listen_tcp("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (sim, addr)
}

impl World {
    pub fn agent_config(&self, systmone: SocketAddr) -> AgentConfig {
        self.agent_config_with(
            systmone,
            tls::client_config(self.certs.ca_pem.as_bytes()).unwrap(),
        )
    }

    /// Settings for an agent presenting `device` as its client certificate.
    pub fn mutual_agent_config(&self, systmone: SocketAddr, device: &DeviceCert) -> AgentConfig {
        self.agent_config_with(
            systmone,
            tls::mutual_client_config(
                self.certs.ca_pem.as_bytes(),
                device.cert_pem.as_bytes(),
                device.key_pem.as_bytes(),
            )
            .unwrap(),
        )
    }

    pub fn agent_config_with(
        &self,
        systmone: SocketAddr,
        tls: Arc<rustls::ClientConfig>,
    ) -> AgentConfig {
        AgentConfig::new(self.addr.to_string(), "localhost", tls)
            .unwrap()
            .with_systmone_addr(systmone)
            .with_probe_interval(Duration::from_millis(100))
            .with_backoff(ReconnectBackoff::new(
                Duration::from_millis(50),
                Duration::from_millis(200),
            ))
    }

    /// Enrols a device for `practice` in front of the SystmOne client at `systmone`.
    pub async fn enrol(
        &self,
        practice: &str,
        systmone: SocketAddr,
    ) -> (AgentConfig, DeviceCredential) {
        let token = self
            .hub
            .issue_token(&ods(practice), "test PC", Duration::from_secs(600))
            .await
            .unwrap();
        let config = self.agent_config(systmone);
        let credential = enrol(&config, token.token).await.unwrap();
        (config, credential)
    }

    /// Enrols and starts an agent; returns its task (abort it to kill the agent).
    pub async fn agent(
        &self,
        practice: &str,
        systmone: SocketAddr,
    ) -> (JoinHandle<systmone_gateway::Error>, DeviceCredential) {
        let (config, credential) = self.enrol(practice, systmone).await;
        (spawn_agent(config, credential.clone()), credential)
    }

    pub fn verified(&self, device_id: &str) -> bool {
        self.hub
            .live_devices()
            .iter()
            .any(|d| d.device_id.as_str() == device_id && d.verified)
    }
}

pub fn spawn_agent(
    config: AgentConfig,
    credential: DeviceCredential,
) -> JoinHandle<systmone_gateway::Error> {
    tokio::spawn(async move { Agent::new(config, credential).run().await })
}

/// Polls `condition` every 20 ms until it holds; panics after `limit`.
pub async fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let start = tokio::time::Instant::now();
    while !condition() {
        assert!(start.elapsed() < limit, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
