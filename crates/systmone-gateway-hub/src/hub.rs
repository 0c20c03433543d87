//! The hub: accepts agents, authenticates them against the registry, plugs each connected
//! device into a `systmone-client` [`Client`] through a [`Connector`], and builds a pool per
//! practice from the devices that are connected, verified and have SystmOne open.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::Utc;
use nhs_identifiers::OdsCode;
use systmone_api::get_organisation_meta_data;
use systmone_client::{
    ApiKey, BoxStream, Client, ClientError, ConnectFuture, Connector, GatewayId, GatewayPool,
};
use systmone_gateway::relay::{Channel, DATA_CHUNK_BYTES, DEFAULT_MAX_PAYLOAD};
use systmone_gateway::{ControlMessage, Frame, FrameDecoder, SystmOneState};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::error::HubError;
use crate::registry::{
    DeviceHealth, DeviceId, DeviceRecord, DeviceRegistry, IssuedToken, Presence,
};

/// Timing and size settings of a [`Hub`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HubConfig {
    /// How often the hub pings each agent; an agent silent for three intervals is dropped.
    pub heartbeat: Duration,
    /// How often each session re-reads its device from the registry, so a revocation made by
    /// another hub instance cuts it within this time (revocations through [`Hub::revoke`] cut
    /// at once).
    pub revocation_check: Duration,
    /// Time allowed for the TLS handshake and the first frame.
    pub handshake_timeout: Duration,
    /// Time the agent has to open a channel to SystmOne.
    pub channel_open_timeout: Duration,
    /// Largest frame payload accepted from an agent.
    pub max_payload: usize,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(5),
            revocation_check: Duration::from_secs(2),
            handshake_timeout: Duration::from_secs(10),
            channel_open_timeout: Duration::from_secs(5),
            max_payload: DEFAULT_MAX_PAYLOAD,
        }
    }
}

/// Makes the [`Client`] of a newly seen device, given its gateway id (the device id) and the
/// connector that reaches it through its agent.
pub type ClientFactory =
    Arc<dyn Fn(GatewayId, Arc<dyn Connector>) -> Result<Client, ClientError> + Send + Sync>;

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

struct HubInner {
    registry: Arc<dyn DeviceRegistry>,
    factory: ClientFactory,
    config: HubConfig,
    devices: Mutex<HashMap<DeviceId, Arc<DeviceSlot>>>,
    rotation: AtomicUsize,
    next_session: AtomicU64,
    listeners: Mutex<Vec<JoinHandle<()>>>,
    shutdown: watch::Sender<bool>,
}

struct DeviceSlot {
    device_id: DeviceId,
    ods: OdsCode,
    client: Client,
    link: Arc<Link>,
}

#[derive(Default)]
struct Link {
    current: Mutex<Option<LiveSession>>,
}

#[derive(Clone)]
struct LiveSession {
    id: u64,
    out: mpsc::Sender<Frame>,
    channels: Arc<Mutex<HashMap<Channel, ChannelSlot>>>,
    next_channel: Arc<AtomicU32>,
    state: Arc<Mutex<SessionState>>,
    cut: Arc<Notify>,
    revoked: Arc<AtomicBool>,
}

#[derive(Default)]
struct SessionState {
    systmone: Option<SystmOneState>,
    verified: bool,
    verifying: bool,
    wrong_organisation: bool,
    logged_on_user: Option<String>,
}

struct ChannelSlot {
    opened: Option<oneshot::Sender<bool>>,
    data: mpsc::Sender<Vec<u8>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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
                        Ok(Ok(stream)) => inner.serve_connection(stream).await,
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
    /// elsewhere), until it ends.
    pub async fn serve_connection<S>(&self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        self.inner.clone().serve_connection(stream).await;
    }

    /// Stops listening and closes every session (clients stay, requests on them fail).
    pub async fn shutdown(&self) {
        for task in lock(&self.inner.listeners).drain(..) {
            task.abort();
        }
        let _ = self.inner.shutdown.send(true);
    }
}

impl DeviceSlot {
    fn ready(&self) -> bool {
        let Some(session) = lock(&self.link.current).clone() else {
            return false;
        };
        if session.revoked.load(Ordering::SeqCst) {
            return false;
        }
        let state = lock(&session.state);
        state.verified && state.systmone == Some(SystmOneState::Available)
    }
}

/// The [`Connector`] of one device: each connection is a relay channel through the device's
/// current agent session.
struct DeviceConnector {
    device_id: DeviceId,
    link: Arc<Link>,
    open_timeout: Duration,
}

impl std::fmt::Debug for DeviceConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceConnector")
            .field("device_id", &self.device_id)
            .finish()
    }
}

fn refused(why: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionRefused, why)
}

impl Connector for DeviceConnector {
    fn connect(&self) -> ConnectFuture {
        let link = self.link.clone();
        let open_timeout = self.open_timeout;
        Box::pin(async move {
            let session = lock(&link.current)
                .clone()
                .ok_or_else(|| refused("the device's agent is not connected"))?;
            let channel = session.next_channel.fetch_add(1, Ordering::Relaxed);
            let (opened_tx, opened_rx) = oneshot::channel();
            let (data_tx, data_rx) = mpsc::channel(16);
            lock(&session.channels).insert(
                channel,
                ChannelSlot {
                    opened: Some(opened_tx),
                    data: data_tx,
                },
            );
            if session.out.send(Frame::Open(channel)).await.is_err() {
                lock(&session.channels).remove(&channel);
                return Err(refused("the device's agent disconnected"));
            }
            match tokio::time::timeout(open_timeout, opened_rx).await {
                Ok(Ok(true)) => {}
                _ => {
                    if lock(&session.channels).remove(&channel).is_some() {
                        let _ = session.out.try_send(Frame::Close(channel));
                    }
                    return Err(refused(
                        "SystmOne is not taking connections on that Gateway PC",
                    ));
                }
            }
            let (client_end, relay_end) = tokio::io::duplex(64 * 1024);
            tokio::spawn(pump(
                channel,
                relay_end,
                data_rx,
                session.out.clone(),
                session.channels.clone(),
            ));
            Ok(Box::new(client_end) as BoxStream)
        })
    }
}

/// Moves bytes between the client's end of a channel and the agent, unread.
async fn pump(
    channel: Channel,
    mut relay_end: tokio::io::DuplexStream,
    mut from_agent: mpsc::Receiver<Vec<u8>>,
    out: mpsc::Sender<Frame>,
    channels: Arc<Mutex<HashMap<Channel, ChannelSlot>>>,
) {
    let mut buf = vec![0u8; DATA_CHUNK_BYTES];
    loop {
        tokio::select! {
            read = relay_end.read(&mut buf) => match read {
                Ok(0) | Err(_) => {
                    if lock(&channels).remove(&channel).is_some() {
                        let _ = out.send(Frame::Close(channel)).await;
                    }
                    return;
                }
                Ok(read) => {
                    if out.send(Frame::Data(channel, buf[..read].to_vec())).await.is_err() {
                        return;
                    }
                }
            },
            bytes = from_agent.recv() => match bytes {
                Some(bytes) => {
                    if relay_end.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
                // The agent closed the channel, or its session ended: the client sees the
                // end of the stream (a write in flight is then "outcome unknown").
                None => return,
            },
        }
    }
}

enum Ending {
    Closed,
    Revoked,
}

impl HubInner {
    fn slot_for(&self, record: &DeviceRecord) -> Result<Arc<DeviceSlot>, HubError> {
        let mut devices = lock(&self.devices);
        if let Some(slot) = devices.get(&record.device_id) {
            return Ok(slot.clone());
        }
        let link = Arc::new(Link::default());
        let connector = Arc::new(DeviceConnector {
            device_id: record.device_id.clone(),
            link: link.clone(),
            open_timeout: self.config.channel_open_timeout,
        });
        let client = (self.factory)(GatewayId::new(record.device_id.as_str()), connector)?;
        let slot = Arc::new(DeviceSlot {
            device_id: record.device_id.clone(),
            ods: record.ods.clone(),
            client,
            link,
        });
        devices.insert(record.device_id.clone(), slot.clone());
        Ok(slot)
    }

    async fn presence(&self, device_id: &DeviceId, presence: Presence) {
        if let Err(error) = self
            .registry
            .update_presence(device_id.clone(), presence)
            .await
        {
            warn!(device = %device_id, %error, "could not record the device's presence");
        }
    }

    async fn serve_connection<S>(self: Arc<Self>, stream: S)
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let (mut reader, mut writer) = tokio::io::split(stream);
        let mut decoder = FrameDecoder::new(self.config.max_payload);
        let first = tokio::time::timeout(
            self.config.handshake_timeout,
            read_frame(&mut reader, &mut decoder),
        )
        .await;
        let reply = |message: ControlMessage| {
            let mut bytes = Vec::new();
            systmone_gateway::relay::encode(&Frame::Control(message), &mut bytes);
            bytes
        };
        let refuse = |reason: &str| {
            reply(ControlMessage::Refused {
                reason: reason.to_owned(),
            })
        };
        let answer = match first {
            Ok(Ok(Some(Frame::Control(ControlMessage::Enrol {
                token,
                label,
                agent_version,
            })))) => match self.registry.enrol(token, label, Utc::now()).await {
                Ok((record, credential)) => {
                    info!(device = %record.device_id, ods = %record.ods, %agent_version, "device enrolled");
                    reply(ControlMessage::Enrolled {
                        device_id: record.device_id.to_string(),
                        ods: record.ods.to_string(),
                        credential,
                    })
                }
                Err(HubError::Token(refusal)) => {
                    warn!(reason = %refusal, "enrolment refused");
                    refuse(&refusal.to_string())
                }
                Err(error) => {
                    warn!(%error, "enrolment failed");
                    refuse("enrolment failed on the hub; try again later")
                }
            },
            Ok(Ok(Some(Frame::Control(ControlMessage::Hello {
                device_id,
                credential,
                ods,
                agent_version,
                systmone,
            })))) => {
                let hello = Hello {
                    device_id,
                    credential,
                    ods,
                    agent_version,
                    systmone,
                };
                match self.clone().authenticate(hello).await {
                    Ok((record, hello)) => {
                        self.run_session(record, hello, reader, writer, decoder)
                            .await;
                        return;
                    }
                    Err(message) => reply(message),
                }
            }
            Ok(Ok(Some(other))) => {
                warn!(frame = ?other, "an agent's first frame was neither enrol nor hello");
                refuse("expected enrol or hello")
            }
            Ok(Ok(None)) => return,
            Ok(Err(error)) => {
                warn!(%error, "malformed first frame from an agent; closing");
                return;
            }
            Err(_) => {
                debug!("an agent sent nothing in time; closing");
                return;
            }
        };
        let _ = writer.write_all(&answer).await;
        let _ = writer.shutdown().await;
    }

    async fn authenticate(
        self: Arc<Self>,
        hello: Hello,
    ) -> Result<(DeviceRecord, Hello), ControlMessage> {
        let refuse = |reason: &str| ControlMessage::Refused {
            reason: reason.to_owned(),
        };
        let Ok(device_id) = DeviceId::new(&hello.device_id) else {
            warn!("hello with an invalid device id refused");
            return Err(refuse("unknown device or wrong credential"));
        };
        let record = match self
            .registry
            .authenticate(device_id.clone(), hello.credential.clone())
            .await
        {
            Ok(record) => record,
            Err(HubError::Revoked) => {
                warn!(device = %device_id, "a revoked device tried to connect");
                return Err(ControlMessage::Revoked);
            }
            Err(HubError::BadCredential) => {
                warn!(device = %device_id, "hello refused: unknown device or wrong credential");
                return Err(refuse("unknown device or wrong credential"));
            }
            Err(error) => {
                warn!(device = %device_id, %error, "hello failed");
                return Err(refuse("the hub cannot check devices now; try again later"));
            }
        };
        if hello.ods.parse::<OdsCode>().ok().as_ref() != Some(&record.ods) {
            warn!(device = %device_id, enrolled = %record.ods, "agent announced another organisation than its enrolment; refused");
            return Err(refuse(
                "the announced organisation differs from the enrolment",
            ));
        }
        Ok((record, hello))
    }

    async fn run_session<R, W>(
        self: Arc<Self>,
        record: DeviceRecord,
        hello: Hello,
        mut reader: R,
        mut writer: W,
        mut decoder: FrameDecoder,
    ) where
        R: AsyncRead + Send + Unpin + 'static,
        W: AsyncWrite + Send + Unpin + 'static,
    {
        let device_id = record.device_id.clone();
        let slot = match self.slot_for(&record) {
            Ok(slot) => slot,
            Err(error) => {
                warn!(device = %device_id, %error, "cannot serve the device");
                return;
            }
        };
        let (out, mut out_rx) = mpsc::channel::<Frame>(64);
        let writer_task = tokio::spawn(async move {
            let mut bytes = Vec::new();
            while let Some(frame) = out_rx.recv().await {
                bytes.clear();
                systmone_gateway::relay::encode(&frame, &mut bytes);
                if writer.write_all(&bytes).await.is_err() || writer.flush().await.is_err() {
                    break;
                }
            }
            let _ = writer.shutdown().await;
        });
        let session = LiveSession {
            id: self.next_session.fetch_add(1, Ordering::Relaxed),
            out: out.clone(),
            channels: Arc::new(Mutex::new(HashMap::new())),
            next_channel: Arc::new(AtomicU32::new(1)),
            state: Arc::new(Mutex::new(SessionState {
                systmone: Some(hello.systmone),
                ..SessionState::default()
            })),
            cut: Arc::new(Notify::new()),
            revoked: Arc::new(AtomicBool::new(false)),
        };
        if let Some(old) = lock(&slot.link.current).replace(session.clone()) {
            // A newer session of the same device replaces the old one.
            old.cut.notify_one();
        }
        let heartbeat = self.config.heartbeat.max(Duration::from_millis(10));
        let _ = out
            .send(Frame::Control(ControlMessage::Welcome {
                heartbeat_secs: heartbeat.as_secs().max(1),
            }))
            .await;
        info!(device = %device_id, ods = %record.ods, agent_version = %hello.agent_version, systmone = hello.systmone.as_str(), "agent connected");
        let health = if hello.systmone == SystmOneState::Available {
            DeviceHealth::Verifying
        } else {
            DeviceHealth::SystmOneClosed
        };
        self.presence(
            &device_id,
            Presence::new(true, Utc::now(), health).with_agent_version(Some(hello.agent_version)),
        )
        .await;
        self.clone().maybe_verify(&slot, &session);

        let mut shutdown = self.shutdown.subscribe();
        let mut ping = tokio::time::interval(heartbeat);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut revocation =
            tokio::time::interval(self.config.revocation_check.max(Duration::from_millis(10)));
        revocation.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        let mut nonce = 0u64;
        let mut buf = vec![0u8; 16 * 1024];
        let ending = 'session: loop {
            loop {
                match decoder.next_frame() {
                    Ok(Some(frame)) => {
                        last_heard = Instant::now();
                        if !self.clone().handle(&slot, &session, frame).await {
                            break 'session Ending::Closed;
                        }
                    }
                    Ok(None) => break,
                    Err(error) => {
                        warn!(device = %device_id, %error, "malformed relay frame from the agent; closing the connection");
                        break 'session Ending::Closed;
                    }
                }
            }
            tokio::select! {
                read = reader.read(&mut buf) => match read {
                    Ok(0) | Err(_) => break Ending::Closed,
                    Ok(read) => decoder.push(&buf[..read]),
                },
                _ = ping.tick() => {
                    if last_heard.elapsed() > heartbeat * 3 {
                        warn!(device = %device_id, "agent silent; closing");
                        break Ending::Closed;
                    }
                    nonce = nonce.wrapping_add(1);
                    let _ = out.try_send(Frame::Ping(nonce));
                    self.clone().maybe_verify(&slot, &session);
                }
                _ = revocation.tick() => {
                    if let Ok(Some(current)) = self.registry.device(device_id.clone()).await
                        && current.revoked()
                    {
                        break Ending::Revoked;
                    }
                }
                () = session.cut.notified() => {
                    if session.revoked.load(Ordering::SeqCst) {
                        break Ending::Revoked;
                    }
                    break Ending::Closed;
                }
                _ = shutdown.changed() => break Ending::Closed,
            }
        };
        if matches!(ending, Ending::Revoked) {
            session.revoked.store(true, Ordering::SeqCst);
            let _ = out.try_send(Frame::Control(ControlMessage::Revoked));
            warn!(device = %device_id, "revoked device cut off");
        }
        let replaced = {
            let mut current = lock(&slot.link.current);
            if current.as_ref().map(|s| s.id) == Some(session.id) {
                *current = None;
                false
            } else {
                true
            }
        };
        let wrong_organisation = lock(&session.state).wrong_organisation;
        // Every channel ends: a client waiting for an answer sees the stream close.
        lock(&session.channels).clear();
        drop(out);
        drop(session);
        if tokio::time::timeout(Duration::from_secs(1), writer_task)
            .await
            .is_err()
        {
            debug!(device = %device_id, "writer did not finish in time");
        }
        if !replaced {
            let health = if wrong_organisation {
                DeviceHealth::WrongOrganisation
            } else {
                DeviceHealth::Disconnected
            };
            self.presence(&device_id, Presence::new(false, Utc::now(), health))
                .await;
        }
        info!(device = %device_id, "agent disconnected");
    }

    /// Handles one frame from the agent; `false` ends the session.
    async fn handle(
        self: Arc<Self>,
        slot: &Arc<DeviceSlot>,
        session: &LiveSession,
        frame: Frame,
    ) -> bool {
        match frame {
            Frame::Opened(channel) => {
                let opened = lock(&session.channels)
                    .get_mut(&channel)
                    .and_then(|c| c.opened.take());
                match opened {
                    Some(opened) => {
                        let _ = opened.send(true);
                    }
                    None => {
                        let _ = session.out.try_send(Frame::Close(channel));
                    }
                }
            }
            Frame::Data(channel, bytes) => {
                let sender = lock(&session.channels)
                    .get(&channel)
                    .map(|c| c.data.clone());
                if let Some(sender) = sender {
                    let _ = sender.send(bytes).await;
                }
            }
            Frame::Close(channel) => {
                lock(&session.channels).remove(&channel);
            }
            Frame::Ping(nonce) => {
                let _ = session.out.try_send(Frame::Pong(nonce));
            }
            Frame::Pong(_) => {}
            Frame::Control(ControlMessage::Status { systmone }) => {
                let changed = {
                    let mut state = lock(&session.state);
                    let changed = state.systmone != Some(systmone);
                    state.systmone = Some(systmone);
                    if systmone != SystmOneState::Available {
                        // Someone else may log on next: verify again when it comes back.
                        state.verified = false;
                    }
                    changed
                };
                if changed {
                    info!(device = %slot.device_id, systmone = systmone.as_str(), "SystmOne availability changed");
                    let health = match systmone {
                        SystmOneState::Available => DeviceHealth::Verifying,
                        _ => DeviceHealth::SystmOneClosed,
                    };
                    self.presence(&slot.device_id, Presence::new(true, Utc::now(), health))
                        .await;
                }
                self.maybe_verify(slot, session);
            }
            Frame::Control(other) => {
                debug!(device = %slot.device_id, kind = other.kind(), "control message ignored");
            }
            Frame::Open(_) => {
                warn!(device = %slot.device_id, "agent sent Open; closing");
                return false;
            }
            _ => {}
        }
        true
    }

    /// Starts verifying the device's organisation when SystmOne is available and it is not
    /// verified (nor being verified).
    fn maybe_verify(self: Arc<Self>, slot: &Arc<DeviceSlot>, session: &LiveSession) {
        {
            let mut state = lock(&session.state);
            if state.verified || state.verifying || state.systmone != Some(SystmOneState::Available)
            {
                return;
            }
            state.verifying = true;
        }
        let slot = slot.clone();
        let session = session.clone();
        tokio::spawn(async move {
            self.verify(&slot, &session).await;
            lock(&session.state).verifying = false;
        });
    }

    /// Asks SystmOne, through the device's own client (so the throttle counts it), which
    /// organisation and user it has; refuses the device when the organisation differs from
    /// its enrolment.
    async fn verify(&self, slot: &DeviceSlot, session: &LiveSession) {
        let request = get_organisation_meta_data::v1::Request::new();
        let meta = match slot.client.send(request).await {
            Ok(meta) => meta,
            Err(error) => {
                debug!(device = %slot.device_id, %error, "organisation check failed; will retry");
                return;
            }
        };
        let site_of = |pick: fn(&get_organisation_meta_data::v1::Site) -> bool| {
            meta.sites
                .iter()
                .find(|s| pick(s))
                .and_then(|s| s.id.clone())
        };
        let primary = site_of(|s| s.primary_site);
        let current = site_of(|s| s.current_site);
        let user = meta.current_user().and_then(|u| u.user_name.clone());
        let matches = [&primary, &current]
            .into_iter()
            .flatten()
            .any(|id| id.parse::<OdsCode>().ok().as_ref() == Some(&slot.ods));
        if matches {
            {
                let mut state = lock(&session.state);
                state.verified = true;
                state.logged_on_user = user.clone();
            }
            info!(device = %slot.device_id, ods = %slot.ods, user = ?user, "device verified: SystmOne reports its enrolled organisation");
            self.presence(
                &slot.device_id,
                Presence::new(true, Utc::now(), DeviceHealth::Ready).with_user(user),
            )
            .await;
        } else {
            let reported = primary.or(current).unwrap_or_default();
            warn!(device = %slot.device_id, enrolled = %slot.ods, reported = %reported, "SystmOne reports another organisation than the device's enrolment; device refused");
            lock(&session.state).wrong_organisation = true;
            self.presence(
                &slot.device_id,
                Presence::new(true, Utc::now(), DeviceHealth::WrongOrganisation).with_user(user),
            )
            .await;
            let _ = session
                .out
                .send(Frame::Control(ControlMessage::Refused {
                    reason: format!(
                        "SystmOne reports organisation {reported}, but this device is enrolled for {}",
                        slot.ods
                    ),
                }))
                .await;
            session.cut.notify_one();
        }
    }
}

struct Hello {
    device_id: String,
    credential: systmone_gateway::Secret,
    ods: String,
    agent_version: String,
    systmone: SystmOneState,
}

async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    decoder: &mut FrameDecoder,
) -> Result<Option<Frame>, systmone_gateway::FrameError> {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(frame) = decoder.next_frame()? {
            return Ok(Some(frame));
        }
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(read) => decoder.push(&buf[..read]),
        }
    }
}
