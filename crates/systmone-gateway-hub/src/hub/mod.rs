//! The hub: accepts agents, authenticates them against the registry, plugs each connected
//! device into a `systmone-client` [`Client`] through a [`Connector`](systmone_client::Connector),
//! and builds a pool per practice from the devices that are connected, verified and have
//! SystmOne open.
//!
//! * `config`: settings ([`HubConfig`], [`DeviceCertificates`], [`ClientFactory`]).
//! * `state`: the devices, their links to agent sessions, each session's state.
//! * `connector`: a device's connector (relay channels) and the slot holding its client.
//! * `handshake`: the first frame: enrolment, or a hello checked against certificate and
//!   registry.
//! * `session`: a session's life (heartbeat, revocation, status, relayed frames).
//! * `verify`: the organisation check through SystmOne.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use nhs_identifiers::OdsCode;
use rustls::pki_types::CertificateDer;
use systmone_client::{ApiKey, Client, GatewayPool};
use systmone_gateway::SystmOneState;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::error::HubError;
use crate::registry::{DeviceId, DeviceRegistry, IssuedToken};

mod config;
mod connector;
mod handshake;
mod session;
mod state;
mod verify;

pub use config::{ClientFactory, DeviceCertificates, HubConfig};
use state::{DeviceSlot, HubInner, lock};

/// Builds a [`Hub`].
#[must_use]
pub struct HubBuilder {
    registry: Arc<dyn DeviceRegistry>,
    factory: ClientFactory,
    config: HubConfig,
}

impl std::fmt::Debug for HubBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubBuilder")
            .field("registry", &self.registry)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl HubBuilder {
    /// A hub over `registry` whose devices' clients use `api_key`, the default client settings
    /// and the default per-gateway device-id file (one per device id).
    pub fn new(registry: Arc<dyn DeviceRegistry>, api_key: ApiKey) -> Self {
        let factory: ClientFactory = Arc::new(move |gateway, connector| {
            Client::builder(gateway, api_key.clone())
                .connector(connector)
                .spawn()
        });
        Self {
            registry,
            factory,
            config: HubConfig::default(),
        }
    }

    /// Replaces how each device's [`Client`] is built (throttle, timeouts, device-id store).
    /// Keep the given connector: it is the device's only way in.
    pub fn client_factory(mut self, factory: ClientFactory) -> Self {
        self.factory = factory;
        self
    }

    /// Sets the timing and size settings.
    pub fn config(mut self, config: HubConfig) -> Self {
        self.config = config;
        self
    }

    /// Builds the hub (it accepts agents once [`Hub::listen`] is called).
    pub fn build(self) -> Hub {
        let (shutdown, _) = watch::channel(false);
        Hub {
            inner: Arc::new(HubInner {
                registry: self.registry,
                factory: self.factory,
                config: self.config,
                devices: Mutex::new(HashMap::new()),
                rotation: AtomicUsize::new(0),
                next_session: AtomicU64::new(1),
                listeners: Mutex::new(Vec::new()),
                shutdown,
            }),
        }
    }
}

/// The central side: a listener for agents, the registry, one [`Client`] per device (kept for
/// the hub's life, so its throttle holds across the agent's reconnects) and a pool per
/// practice. Cheap to clone.
///
/// See the crate docs for a worked example.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<HubInner>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").finish_non_exhaustive()
    }
}

/// One connected device as the hub sees it now.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveDevice {
    /// The device.
    pub device_id: DeviceId,
    /// Its practice.
    pub ods: OdsCode,
    /// SystmOne's availability as the agent last reported it.
    pub systmone: SystmOneState,
    /// Whether SystmOne there reported the enrolled organisation.
    pub verified: bool,
    /// The SystmOne user logged on there, as SystmOne reported it.
    pub logged_on_user: Option<String>,
}

/// Whether a failed handshake failed on the agent's client certificate (missing, from another
/// CA, expired...), which an operator wants to see, unlike scanners' noise.
fn client_certificate_refused(error: &std::io::Error) -> bool {
    matches!(
        error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
    )
}

impl Hub {
    /// A builder.
    pub fn builder(registry: Arc<dyn DeviceRegistry>, api_key: ApiKey) -> HubBuilder {
        HubBuilder::new(registry, api_key)
    }

    /// The registry.
    #[must_use]
    pub fn registry(&self) -> &Arc<dyn DeviceRegistry> {
        &self.inner.registry
    }

    /// Issues a one-time enrolment token for a practice, valid for `valid_for`.
    ///
    /// # Errors
    /// [`HubError::Storage`].
    pub async fn issue_token(
        &self,
        ods: &OdsCode,
        label: &str,
        valid_for: Duration,
    ) -> Result<IssuedToken, HubError> {
        let now = Utc::now();
        let expires = now + chrono::Duration::from_std(valid_for).unwrap_or(chrono::Duration::MAX);
        self.inner
            .registry
            .issue_token(ods.clone(), label.to_owned(), now, expires)
            .await
    }

    /// Revokes a device and cuts its session at once (other hub instances cut theirs within
    /// [`HubConfig::revocation_check`]).
    ///
    /// # Errors
    /// [`HubError::Storage`].
    pub async fn revoke(&self, device_id: &DeviceId) -> Result<(), HubError> {
        self.inner
            .registry
            .revoke_device(device_id.clone(), Utc::now())
            .await?;
        let slot = lock(&self.inner.devices).get(device_id).cloned();
        let session = slot.and_then(|slot| lock(&slot.link.current).clone());
        if let Some(session) = session {
            session.revoked.store(true, Ordering::SeqCst);
            session.cut.notify_one();
        }
        warn!(device = %device_id, "device revoked");
        Ok(())
    }

    /// Devices with an open session now.
    #[must_use]
    pub fn live_devices(&self) -> Vec<LiveDevice> {
        let slots: Vec<Arc<DeviceSlot>> = lock(&self.inner.devices).values().cloned().collect();
        let mut live: Vec<LiveDevice> = slots
            .iter()
            .filter_map(|slot| {
                let session = lock(&slot.link.current).clone()?;
                let state = lock(&session.state);
                Some(LiveDevice {
                    device_id: slot.device_id.clone(),
                    ods: slot.ods.clone(),
                    systmone: state.systmone.unwrap_or(SystmOneState::Unknown),
                    verified: state.verified,
                    logged_on_user: state.logged_on_user.clone(),
                })
            })
            .collect();
        live.sort_by(|a, b| a.device_id.cmp(&b.device_id));
        live
    }

    /// The [`Client`] of a device the hub has seen (it outlives the device's sessions).
    #[must_use]
    pub fn client(&self, device_id: &DeviceId) -> Option<Client> {
        lock(&self.inner.devices)
            .get(device_id)
            .map(|slot| slot.client.clone())
    }

    /// A pool of the practice's devices that are connected, verified and have SystmOne open,
    /// ranked by health (healthy first, then the least loaded, rotating among equals); `None`
    /// when there is none. Build one per operation: the set changes as agents come and go.
    /// Do not call [`GatewayPool::shutdown`] on it: the clients belong to the hub.
    #[must_use]
    pub fn pool(&self, ods: &OdsCode) -> Option<GatewayPool> {
        let mut ready: Vec<Arc<DeviceSlot>> = lock(&self.inner.devices)
            .values()
            .filter(|slot| slot.ods == *ods && slot.ready())
            .cloned()
            .collect();
        if ready.is_empty() {
            return None;
        }
        ready.sort_by(|a, b| a.device_id.cmp(&b.device_id));
        let turn = self.inner.rotation.fetch_add(1, Ordering::Relaxed) % ready.len();
        ready.rotate_left(turn);
        ready.sort_by_key(|slot| {
            let status = slot.client.status();
            (
                !status.healthy,
                status.unavailable_for.is_some(),
                status.queued + usize::from(status.busy),
            )
        });
        let builder = ready
            .iter()
            .fold(GatewayPool::builder().without_health_checks(), |b, slot| {
                b.gateway(slot.client.clone())
            });
        Some(builder.build())
    }

    /// Accepts agents on `addr` over TLS; returns the bound address (port 0 = ephemeral).
    ///
    /// # Errors
    /// [`HubError::Io`] when the address cannot be bound.
    pub async fn listen(
        &self,
        addr: SocketAddr,
        tls: Arc<rustls::ServerConfig>,
    ) -> Result<SocketAddr, HubError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| HubError::Io {
                what: "binding the agent listener",
                source,
            })?;
        let local = listener.local_addr().map_err(|source| HubError::Io {
            what: "reading the listener address",
            source,
        })?;
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        let inner = self.inner.clone();
        let task = tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // E.g. out of file descriptors: do not spin.
                        warn!(%error, "accepting an agent failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let inner = inner.clone();
                tokio::spawn(async move {
                    let handshake = inner.config.handshake_timeout;
                    match tokio::time::timeout(handshake, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            let peer_certificate = stream
                                .get_ref()
                                .1
                                .peer_certificates()
                                .and_then(|chain| chain.first())
                                .map(|certificate| certificate.clone().into_owned());
                            inner.serve_connection(stream, peer_certificate).await;
                        }
                        Ok(Err(error)) if client_certificate_refused(&error) => {
                            warn!(%peer, %error, "an agent's client certificate was refused");
                        }
                        Ok(Err(error)) => debug!(%peer, %error, "TLS handshake failed"),
                        Err(_) => debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        lock(&self.inner.listeners).push(task);
        info!(addr = %local, "hub listening for agents");
        Ok(local)
    }

    /// Serves one agent connection that is already secured (e.g. a TLS stream accepted
    /// elsewhere), until it ends. With [`DeviceCertificates::CommonNameIsDeviceId`] the
    /// connection is refused: use [`Hub::serve_connection_with_certificate`].
    pub async fn serve_connection<S>(&self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        self.inner.clone().serve_connection(stream, None).await;
    }

    /// Serves one agent connection secured elsewhere, whose TLS handshake accepted
    /// `client_certificate` (the leaf of the agent's chain, already verified against the
    /// device CA), until it ends.
    pub async fn serve_connection_with_certificate<S>(
        &self,
        stream: S,
        client_certificate: Option<CertificateDer<'static>>,
    ) where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        self.inner
            .clone()
            .serve_connection(stream, client_certificate)
            .await;
    }

    /// Stops listening and closes every session (clients stay, requests on them fail).
    pub async fn shutdown(&self) {
        for task in lock(&self.inner.listeners).drain(..) {
            task.abort();
        }
        let _ = self.inner.shutdown.send(true);
    }
}
