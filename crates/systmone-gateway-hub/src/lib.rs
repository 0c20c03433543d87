//! The central side of SystmOne Gateway PC agents (`systmone-gateway`).
//!
//! Each practice's Gateway PCs run an agent that dials **out** to this hub over TLS. The hub
//! authenticates each agent as an enrolled device, checks through the relay that the SystmOne
//! client behind it reports the organisation it was enrolled for, and plugs every connected
//! device into a `systmone-client` [`Client`](systmone_client::Client) through a
//! [`Connector`](systmone_client::Connector): the throttle, the timeouts and the "outcome
//! unknown" rules stay exactly where they are. A device's client lives as long as the hub, so
//! its throttle holds across the agent's reconnects.
//!
//! # Pieces
//!
//! * [`registry`]: enrolment tokens and devices ([`DeviceRegistry`]; [`SqliteRegistry`] by
//!   default, [`PostgresRegistry`] for a fleet of hubs). Secrets are kept as SHA-256 digests.
//! * [`Hub`]: the TLS listener ([`Hub::listen`]), sessions (heartbeat, revocation checks,
//!   organisation verification), [`Hub::pool`] per practice, [`Hub::revoke`].
//! * [`routing`]: [`PracticeGateways`], the writeback engine's
//!   [`Gateways`](systmone_writeback::Gateways) routed by the patient's practice.
//! * [`tls`]: the server configs (rustls, ring, TLS 1.3; mutual TLS with a device CA) and
//!   [`tls::certificate_device_id`].
//!
//! # Why a second crate
//!
//! The agent is deployed on PCs inside practices and should carry nothing it does not use: no
//! database drivers, no writeback engine. The hub is deployed centrally and needs all of them.
//! Two crates keep the agent's build small without a web of feature flags.
//!
//! # Authentication: certificates both ways, and a device credential
//!
//! The agent checks the hub's certificate against the hub CA shipped with it (TLS 1.3). With
//! [`tls::mutual_server_config`] the hub requires, in the same handshake, a client certificate
//! signed by the integrator's **device CA** (rustls's WebPKI verifier: chain, validity dates, key
//! usage): a PC without one, with one from another CA or with an expired one is refused before it
//! can send a byte. Inside the tunnel the agent still presents its **device credential** (defence
//! in depth): a 256-bit random secret issued once at enrolment in exchange for a one-time token,
//! kept by the hub only as a SHA-256 digest and compared in constant time. A session needs both.
//!
//! **How a Gateway PC gets its certificate: the operator issues it with the enrolment token.**
//! The operator picks the device's id (1 to 64 letters, digits, `-` or `_`, e.g.
//! `b11111-reception-2`), issues a client certificate from the device CA whose subject CN is that
//! id (extended key usage `clientAuth`, or none; with whatever CA tooling they run: `openssl`,
//! step-ca, their organisation's PKI), and hands the installer the certificate and its key, the
//! hub CA and the one-time token. With
//! [`DeviceCertificates::CommonNameIsDeviceId`] enrolment creates the device under its
//! certificate's CN (a CN already enrolled is refused, the token stays unused), and every session
//! must come with the certificate naming the device whose credential it sends: a mismatch is
//! refused and logged, with device ids only. Renewing a certificate is issuing a new one with the
//! same CN from the same CA, without enrolling again. The hub signs nothing: the device CA's key
//! stays with the operator, offline, and no connection, not even an enrolment, goes without a
//! client certificate (a hub that signed CSRs at enrolment would keep a CA key online and accept
//! enrolments without one).
//!
//! Revocation is a registry flag that every hub instance checks every
//! [`HubConfig::revocation_check`] (and [`Hub::revoke`] cuts the session at once); the hub reads
//! no certificate revocation lists, so revoke the device, not only its certificate. Without a
//! device CA, [`tls::server_config`] with [`DeviceCertificates::Unbound`] (the default) lets the
//! credential alone identify the device.
//!
//! # Worked example
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use systmone_client::ApiKey;
//! use systmone_gateway_hub::{
//!     DeviceCertificates, Hub, HubConfig, PracticeGateways, PracticeMap, SqliteRegistry, tls,
//! };
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let registry = Arc::new(SqliteRegistry::open("devices.sqlite")?);
//! let mut config = HubConfig::default();
//! config.device_certificates = DeviceCertificates::CommonNameIsDeviceId;
//! let hub = Hub::builder(registry, ApiKey::new("0a1b2c3d4e5f6071")).config(config).build();
//! let tls = tls::mutual_server_config(
//!     &std::fs::read("hub-cert.pem")?,
//!     &std::fs::read("hub-key.pem")?,
//!     &std::fs::read("device-ca.pem")?,
//! )?;
//! hub.listen("0.0.0.0:8443".parse()?, tls).await?;
//!
//! // A one-time token for the person installing the agent at practice B11111; the operator
//! // also issues the PC's certificate from the device CA with CN `b11111-reception-2`.
//! let token = hub.issue_token(&"B11111".parse()?, "reception PC", Duration::from_secs(86_400)).await?;
//! println!(
//!     "systmone-gateway enrol --cert b11111-reception-2.pem --key b11111-reception-2-key.pem --token {}",
//!     token.token.expose()
//! );
//!
//! // The writeback engine files each note through the patient's practice's devices.
//! let practices = PracticeMap::new();
//! practices.set("9990001006".parse()?, "B11111".parse()?);
//! let gateways = PracticeGateways::new(hub.clone(), practices);
//! # let _ = gateways;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod error;
mod hub;
pub mod registry;
pub mod routing;
pub mod tls;

pub use error::HubError;
pub use hub::{ClientFactory, DeviceCertificates, Hub, HubBuilder, HubConfig, LiveDevice};
#[cfg(feature = "postgres")]
pub use registry::PostgresRegistry;
pub use registry::{
    DeviceHealth, DeviceId, DeviceRecord, DeviceRegistry, IssuedToken, Presence, SqliteRegistry,
    TokenRefusal,
};
pub use routing::{PracticeGateways, PracticeLookup, PracticeMap, no_device_reason};
