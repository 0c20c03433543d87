//! The agent that runs on a SystmOne Gateway PC and dials out to a central hub.
//!
//! SystmOne's Client Integration socket listens on the Gateway PC itself (`127.0.0.1:40700`),
//! and practices open no inbound ports. This agent connects **outbound** to the integrator's
//! hub over TLS, authenticates as an enrolled device and relays the hub's connections to the
//! local SystmOne client, byte for byte. It never parses, stores or logs what it relays. The
//! hub (crate `systmone-gateway-hub`) keeps the throttle, the timeouts and the "outcome unknown"
//! rules of `systmone-client`: each agent is just another `Connector` there.
//!
//! # Pieces
//!
//! * [`relay`] (sans-IO): the framing both sides speak, `type | u32 length | payload`, with a
//!   resumable [`relay::FrameDecoder`] that refuses oversized frames from their header.
//! * [`control`]: the JSON control messages (enrol, hello, welcome, SystmOne status, refused,
//!   revoked); secrets are [`control::Secret`], hidden in `Debug`.
//! * [`backoff`] (sans-IO): reconnect delays with jitter.
//! * [`credential`]: the device credential file, written owner-only.
//! * [`tls`]: rustls on ring, TLS 1.3, the hub's certificate checked against the integrator's CA;
//!   [`tls::mutual_client_config`] also presents this PC's client certificate.
//! * [`agent`]: [`enrol`] (one-time token → credential) and [`Agent::run`].
//!
//! # Why framed TLS and not WebSocket or HTTP/2
//!
//! The link is one long-lived, bidirectional, multiplexed byte channel between two programs we
//! write. Length-prefixed frames straight over TLS need no HTTP upgrade, no masking, no extra
//! protocol stack (fewer crates on a PC inside a practice network), and the decoder is a small
//! sans-IO state machine that can be fuzzed whole. Outbound TLS to one port (e.g. 443) passes
//! the same firewalls a WebSocket would; should a practice require an HTTP proxy, the same
//! frames can ride in WebSocket binary messages without changing the hub's logic.
//!
//! # Certificates both ways
//!
//! The agent checks the hub's certificate against the hub CA it is given. A hub that requires
//! mutual TLS also checks the agent's: the integrator issues each Gateway PC a client certificate
//! from its device CA **with the enrolment token**, its subject CN the device id the integrator
//! chose for that PC; the installer passes it with `--cert`/`--key` (or builds the TLS settings
//! with [`tls::mutual_client_config`]). The device is enrolled under that id, and every session
//! presents both the certificate and the device credential. Renewal is a new certificate with the
//! same CN: no new enrolment.
//!
//! # Worked example
//!
//! ```no_run
//! use systmone_gateway::{Agent, AgentConfig, DeviceCredential, control::Secret, enrol, tls};
//!
//! # async fn demo() -> Result<(), systmone_gateway::Error> {
//! let read = |path: &str| std::fs::read(path).map_err(|e| systmone_gateway::Error::Tls(e.to_string()));
//! // The hub's CA, and this PC's certificate (CN = its device id) and key from the integrator.
//! let tls = tls::mutual_client_config(
//!     &read("hub-ca.pem")?,
//!     &read("b11111-reception-2.pem")?,
//!     &read("b11111-reception-2-key.pem")?,
//! )?;
//! let config = AgentConfig::new("hub.example.org:443", "hub.example.org", tls)?
//!     .with_label("RECEPTION-PC-2");
//! let path = std::path::Path::new("device.json");
//! let credential = match DeviceCredential::load(path) {
//!     Ok(credential) => credential,
//!     // First run: exchange the one-time token the integrator issued for this practice.
//!     Err(_) => {
//!         let credential = enrol(&config, Secret::from("token-from-the-integrator")).await?;
//!         credential.save(path)?;
//!         credential
//!     }
//! };
//! // Runs until the device is revoked, reconnecting with backoff and jitter meanwhile.
//! let stopped = Agent::new(config, credential).run().await;
//! eprintln!("agent stopped: {stopped}");
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod agent;
pub mod backoff;
pub mod control;
pub mod credential;
mod error;
pub mod relay;
pub mod tls;

pub use agent::{
    AGENT_VERSION, Agent, AgentConfig, SYSTMONE_ADDR, enrol, enrol_and_save, probe_systmone,
};
pub use backoff::ReconnectBackoff;
pub use control::{ControlMessage, Secret, SystmOneState};
pub use credential::DeviceCredential;
pub use error::{Error, FrameError};
pub use relay::{Frame, FrameDecoder};
