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
//! * [`tls`]: the server config (rustls, ring, TLS 1.3).
//!
//! # Why a second crate
//!
//! The agent is deployed on PCs inside practices and should carry nothing it does not use: no
//! database drivers, no writeback engine. The hub is deployed centrally and needs all of them.
//! Two crates keep the agent's build small without a web of feature flags.
//!
//! # Authentication: TLS one way, a device credential the other
//!
//! The agent checks the hub's certificate against the CA shipped with it (TLS 1.3). The hub
//! checks the agent by its **device credential**: a 256-bit random secret issued once at
//! enrolment in exchange for a one-time token, sent inside the TLS tunnel in the hello, kept by
//! the hub only as a SHA-256 digest and compared in constant time. It is the equivalent of a
//! client certificate without running a CA for practice PCs; revocation is a registry flag that
//! every hub instance checks every [`HubConfig::revocation_check`] (and [`Hub::revoke`] cuts the
//! session at once).
//!
//! # Worked example
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use systmone_client::ApiKey;
//! use systmone_gateway_hub::{Hub, PracticeGateways, PracticeMap, SqliteRegistry, tls};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let registry = Arc::new(SqliteRegistry::open("devices.sqlite")?);
//! let hub = Hub::builder(registry, ApiKey::new("0a1b2c3d4e5f6071")).build();
//! let tls = tls::server_config(&std::fs::read("hub-cert.pem")?, &std::fs::read("hub-key.pem")?)?;
//! hub.listen("0.0.0.0:8443".parse()?, tls).await?;
//!
//! // A one-time token for the person installing the agent at practice B11111:
//! let token = hub.issue_token(&"B11111".parse()?, "reception PC", Duration::from_secs(86_400)).await?;
//! println!("systmone-gateway enrol --token {}", token.token.expose());
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
pub use hub::{ClientFactory, Hub, HubBuilder, HubConfig, LiveDevice};
#[cfg(feature = "postgres")]
pub use registry::PostgresRegistry;
pub use registry::{
    DeviceHealth, DeviceId, DeviceRecord, DeviceRegistry, IssuedToken, Presence, SqliteRegistry,
    TokenRefusal,
};
pub use routing::{PracticeGateways, PracticeLookup, PracticeMap, no_device_reason};
