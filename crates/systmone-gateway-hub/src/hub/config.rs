//! The hub's settings: timing, sizes, how client certificates name devices, and how each
//! device's [`Client`] is built.

use std::sync::Arc;
use std::time::Duration;

use systmone_client::{Client, ClientError, Connector, GatewayId};
use systmone_gateway::relay::DEFAULT_MAX_PAYLOAD;

/// Timing and size settings of a [`Hub`](crate::Hub).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HubConfig {
    /// How often the hub pings each agent; an agent silent for three intervals is dropped.
    pub heartbeat: Duration,
    /// How often each session re-reads its device from the registry, so a revocation made by
    /// another hub instance cuts it within this time (revocations through [`Hub::revoke`](crate::Hub::revoke) cut
    /// at once).
    pub revocation_check: Duration,
    /// Time allowed for the TLS handshake and the first frame.
    pub handshake_timeout: Duration,
    /// Time the agent has to open a channel to SystmOne.
    pub channel_open_timeout: Duration,
    /// Largest frame payload accepted from an agent.
    pub max_payload: usize,
    /// Whether each agent's TLS client certificate is tied to its device (see
    /// [`DeviceCertificates`]; default [`DeviceCertificates::Unbound`]).
    pub device_certificates: DeviceCertificates,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(5),
            revocation_check: Duration::from_secs(2),
            handshake_timeout: Duration::from_secs(10),
            channel_open_timeout: Duration::from_secs(5),
            max_payload: DEFAULT_MAX_PAYLOAD,
            device_certificates: DeviceCertificates::Unbound,
        }
    }
}

/// Makes the [`Client`] of a newly seen device, given its gateway id (the device id) and the
/// connector that reaches it through its agent.
pub type ClientFactory =
    Arc<dyn Fn(GatewayId, Arc<dyn Connector>) -> Result<Client, ClientError> + Send + Sync>;

/// Whether the hub ties an agent's TLS client certificate to its device.
///
/// Whether a client certificate is *required*, and which CA must have signed it, is the TLS
/// server config's business ([`crate::tls::mutual_server_config`]); this setting says what the
/// hub does with the certificate once the handshake accepted it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeviceCertificates {
    /// The hub does not look at client certificates: the device credential alone says which
    /// device is connecting.
    #[default]
    Unbound,
    /// The client certificate's subject common name (CN) is the device id. An enrolment
    /// creates the device under that id (the operator names the device when issuing its
    /// certificate), and a session is refused unless its certificate names the device whose
    /// credential it presents. A connection without a client certificate, or whose certificate
    /// carries no single valid device id as CN, is refused.
    CommonNameIsDeviceId,
}
