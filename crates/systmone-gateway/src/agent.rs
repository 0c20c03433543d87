//! The agent: dials the hub, authenticates, relays channels to the local SystmOne client.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tracing::{debug, info, warn};

use crate::backoff::ReconnectBackoff;
use crate::control::{ControlMessage, Secret, SystmOneState};
use crate::credential::DeviceCredential;
use crate::error::Error;
use crate::relay::{Channel, DATA_CHUNK_BYTES, DEFAULT_MAX_PAYLOAD, Frame, FrameDecoder, encode};

/// This agent's version, announced in every hello.
pub const AGENT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The SystmOne Client Integration address on the Gateway PC: `127.0.0.1:40700`.
pub const SYSTMONE_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40700);

/// How an agent reaches the hub and the local SystmOne client.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AgentConfig {
    /// The hub's `host:port`.
    pub hub: String,
    /// The name the hub's certificate must carry.
    pub server_name: ServerName<'static>,
    /// TLS settings (see [`crate::tls::client_config`]).
    pub tls: Arc<rustls::ClientConfig>,
    /// The local SystmOne client (default `127.0.0.1:40700`).
    pub systmone_addr: SocketAddr,
    /// A label for this device (e.g. the PC's name), sent at enrolment.
    pub label: String,
    /// Timeout for connecting to the hub (TCP + TLS) and to SystmOne.
    pub connect_timeout: Duration,
    /// How often SystmOne's availability is probed while no channel is open (a TCP connect
    /// and close; no request is sent).
    pub probe_interval: Duration,
    /// Largest frame payload accepted from the hub.
    pub max_payload: usize,
    /// Reconnect backoff.
    pub backoff: ReconnectBackoff,
}

impl AgentConfig {
    /// Settings for a hub at `hub` (`host:port`) whose certificate names `server_name`.
    ///
    /// # Errors
    /// [`Error::Tls`] when `server_name` is not a valid DNS name or IP address.
    pub fn new(
        hub: impl Into<String>,
        server_name: &str,
        tls: Arc<rustls::ClientConfig>,
    ) -> Result<Self, Error> {
        let server_name = ServerName::try_from(server_name.to_owned())
            .map_err(|e| Error::Tls(format!("invalid server name: {e}")))?;
        Ok(Self {
            hub: hub.into(),
            server_name,
            tls,
            systmone_addr: SYSTMONE_ADDR,
            label: "gateway-pc".to_owned(),
            connect_timeout: Duration::from_secs(10),
            probe_interval: Duration::from_secs(10),
            max_payload: DEFAULT_MAX_PAYLOAD,
            backoff: ReconnectBackoff::default(),
        })
    }

    /// Relays to SystmOne at `addr` instead of `127.0.0.1:40700`.
    #[must_use]
    pub fn with_systmone_addr(mut self, addr: SocketAddr) -> Self {
        self.systmone_addr = addr;
        self
    }

    /// Sets the device label.
    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Sets the probe interval.
    #[must_use]
    pub fn with_probe_interval(mut self, interval: Duration) -> Self {
        self.probe_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// Sets the reconnect backoff.
    #[must_use]
    pub fn with_backoff(mut self, backoff: ReconnectBackoff) -> Self {
        self.backoff = backoff;
        self
    }
}

type HubStream = tokio_rustls::client::TlsStream<TcpStream>;

async fn connect_hub(config: &AgentConfig) -> Result<HubStream, Error> {
    let timed_out = || io::Error::new(io::ErrorKind::TimedOut, "timed out");
    let tcp = tokio::time::timeout(config.connect_timeout, TcpStream::connect(&config.hub))
        .await
        .map_err(|_| timed_out())
        .and_then(|r| r)
        .map_err(|source| Error::Io {
            what: "connecting",
            source,
        })?;
    let _ = tcp.set_nodelay(true);
    let connector = TlsConnector::from(config.tls.clone());
    tokio::time::timeout(
        config.connect_timeout,
        connector.connect(config.server_name.clone(), tcp),
    )
    .await
    .map_err(|_| timed_out())
    .and_then(|r| r)
    .map_err(|source| Error::Io {
        what: "the TLS handshake",
        source,
    })
}

async fn write_frame<W: AsyncWrite + Unpin>(writer: &mut W, frame: &Frame) -> Result<(), Error> {
    let mut bytes = Vec::new();
    encode(frame, &mut bytes);
    writer
        .write_all(&bytes)
        .await
        .and(writer.flush().await)
        .map_err(|source| Error::Io {
            what: "writing",
            source,
        })
}

/// Reads the next frame; `Ok(None)` at a clean end of stream.
async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    decoder: &mut FrameDecoder,
) -> Result<Option<Frame>, Error> {
    let mut buf = [0u8; 8192];
    loop {
        if let Some(frame) = decoder.next_frame()? {
            return Ok(Some(frame));
        }
        let read = reader.read(&mut buf).await.map_err(|source| Error::Io {
            what: "reading",
            source,
        })?;
        if read == 0 {
            return Ok(None);
        }
        decoder.push(&buf[..read]);
    }
}

/// Exchanges a one-time enrolment token for this device's credential.
///
/// # Errors
/// [`Error::Refused`] for an unknown, used, expired or revoked token; connection errors.
pub async fn enrol(config: &AgentConfig, token: Secret) -> Result<DeviceCredential, Error> {
    let mut stream = connect_hub(config).await?;
    let enrol = ControlMessage::Enrol {
        token,
        label: config.label.clone(),
        agent_version: AGENT_VERSION.to_owned(),
    };
    write_frame(&mut stream, &Frame::Control(enrol)).await?;
    let mut decoder = FrameDecoder::new(config.max_payload);
    match read_frame(&mut stream, &mut decoder).await? {
        Some(Frame::Control(ControlMessage::Enrolled {
            device_id,
            ods,
            credential,
        })) => {
            info!(device = %device_id, ods = %ods, "enrolled");
            Ok(DeviceCredential::new(device_id, ods, credential))
        }
        Some(Frame::Control(ControlMessage::Refused { reason })) => Err(Error::Refused { reason }),
        Some(other) => Err(Error::Protocol(format!(
            "expected an enrolment answer, got {other:?}"
        ))),
        None => Err(Error::Protocol("the hub closed without an answer".into())),
    }
}

/// Enrols and saves the credential to `path` (owner-only, see [`DeviceCredential::save`]).
///
/// # Errors
/// As [`enrol`] and [`DeviceCredential::save`].
pub async fn enrol_and_save(
    config: &AgentConfig,
    token: Secret,
    path: &Path,
) -> Result<DeviceCredential, Error> {
    let credential = enrol(config, token).await?;
    credential.save(path)?;
    Ok(credential)
}

/// Whether something listens on SystmOne's port (connect, then close at once).
pub async fn probe_systmone(addr: SocketAddr, timeout: Duration) -> SystmOneState {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(_stream)) => SystmOneState::Available,
        _ => SystmOneState::Closed,
    }
}

fn random_u64() -> u64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    match ring::rand::SystemRandom::new().fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => 0,
    }
}

enum Event {
    Opened(Channel, mpsc::Sender<Vec<u8>>),
    OpenFailed(Channel),
    Ended(Channel),
}

/// An enrolled agent. [`Agent::run`] keeps a session with the hub up until the device is
/// revoked.
#[derive(Debug)]
pub struct Agent {
    config: AgentConfig,
    credential: DeviceCredential,
}

impl Agent {
    /// An agent with its settings and credential.
    #[must_use]
    pub fn new(config: AgentConfig, credential: DeviceCredential) -> Self {
        Self { config, credential }
    }

    /// The device id.
    #[must_use]
    pub fn device_id(&self) -> &str {
        &self.credential.device_id
    }

    /// Runs sessions with the hub, reconnecting with backoff and jitter, until an error that
    /// reconnecting cannot fix (revocation above all), which it returns.
    pub async fn run(&self) -> Error {
        let mut backoff = self.config.backoff.clone();
        loop {
            let mut welcomed = false;
            let error = self.session(&mut welcomed).await;
            if !error.retryable() {
                warn!(device = %self.credential.device_id, error = %error, "agent stopping");
                return error;
            }
            if welcomed {
                backoff.reset();
            }
            let delay = backoff.next_delay(random_u64());
            warn!(device = %self.credential.device_id, error = %error, retry_in_ms = delay.as_millis() as u64, "session with the hub ended");
            tokio::time::sleep(delay).await;
        }
    }

    /// One session: connect, hello, relay until the connection ends. Always ends in an error
    /// (the reason the session ended). `welcomed` is set once the hub accepted the hello.
    pub async fn session(&self, welcomed: &mut bool) -> Error {
        match self.session_inner(welcomed).await {
            Ok(never) => match never {},
            Err(error) => error,
        }
    }

    async fn session_inner(&self, welcomed: &mut bool) -> Result<std::convert::Infallible, Error> {
        let config = &self.config;
        let stream = connect_hub(config).await?;
        let (mut reader, mut writer) = tokio::io::split(stream);
        let mut state = probe_systmone(config.systmone_addr, config.connect_timeout).await;
        let hello = ControlMessage::Hello {
            device_id: self.credential.device_id.clone(),
            credential: self.credential.credential.clone(),
            ods: self.credential.ods.clone(),
            agent_version: AGENT_VERSION.to_owned(),
            systmone: state,
        };
        write_frame(&mut writer, &Frame::Control(hello)).await?;
        let mut decoder = FrameDecoder::new(config.max_payload);
        let heartbeat = match read_frame(&mut reader, &mut decoder).await? {
            Some(Frame::Control(ControlMessage::Welcome { heartbeat_secs })) => heartbeat_secs,
            Some(Frame::Control(ControlMessage::Refused { reason })) => {
                return Err(Error::Refused { reason });
            }
            Some(Frame::Control(ControlMessage::Revoked)) => return Err(Error::Revoked),
            Some(other) => {
                return Err(Error::Protocol(format!(
                    "expected a welcome, got {other:?}"
                )));
            }
            None => return Err(Error::Protocol("the hub closed without an answer".into())),
        };
        *welcomed = true;
        info!(device = %self.credential.device_id, systmone = state.as_str(), "session with the hub open");

        let mut tasks = JoinSet::new();
        let (out_tx, mut out_rx) = mpsc::channel::<Frame>(64);
        tasks.spawn(async move {
            let mut bytes = Vec::new();
            while let Some(frame) = out_rx.recv().await {
                bytes.clear();
                encode(&frame, &mut bytes);
                if writer.write_all(&bytes).await.is_err() || writer.flush().await.is_err() {
                    break;
                }
            }
            let _ = writer.shutdown().await;
        });
        let send = |frame: Frame| {
            let out_tx = out_tx.clone();
            async move {
                out_tx.send(frame).await.map_err(|_| Error::Io {
                    what: "writing",
                    source: io::Error::new(io::ErrorKind::BrokenPipe, "the connection is gone"),
                })
            }
        };
        let (event_tx, mut events) = mpsc::unbounded_channel::<Event>();
        let mut channels: HashMap<Channel, mpsc::Sender<Vec<u8>>> = HashMap::new();
        let silence_limit = Duration::from_secs(heartbeat.clamp(1, 3600) * 3);
        let mut last_heard = Instant::now();
        let mut ticker = tokio::time::interval(config.probe_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut buf = vec![0u8; 16 * 1024];

        loop {
            while let Some(frame) = decoder.next_frame()? {
                last_heard = Instant::now();
                match frame {
                    Frame::Open(channel) => {
                        if channels.contains_key(&channel) {
                            return Err(Error::Protocol(format!("channel {channel} opened twice")));
                        }
                        tasks.spawn(relay_channel(
                            channel,
                            config.systmone_addr,
                            config.connect_timeout,
                            event_tx.clone(),
                            out_tx.clone(),
                        ));
                    }
                    Frame::Data(channel, bytes) => {
                        if let Some(sender) = channels.get(&channel) {
                            let _ = sender.send(bytes).await;
                        }
                    }
                    Frame::Close(channel) => {
                        channels.remove(&channel);
                    }
                    Frame::Ping(nonce) => send(Frame::Pong(nonce)).await?,
                    Frame::Pong(_) => {}
                    Frame::Control(ControlMessage::Revoked) => return Err(Error::Revoked),
                    Frame::Control(ControlMessage::Refused { reason }) => {
                        return Err(Error::Refused { reason });
                    }
                    Frame::Control(other) => debug!(kind = other.kind(), "control message ignored"),
                    Frame::Opened(channel) => {
                        return Err(Error::Protocol(format!(
                            "the hub sent Opened for channel {channel}"
                        )));
                    }
                }
            }
            tokio::select! {
                read = reader.read(&mut buf) => {
                    let read = read.map_err(|source| Error::Io { what: "reading", source })?;
                    if read == 0 {
                        return Err(Error::Io {
                            what: "reading",
                            source: io::Error::new(io::ErrorKind::UnexpectedEof, "the hub closed the connection"),
                        });
                    }
                    decoder.push(&buf[..read]);
                }
                Some(event) = events.recv() => match event {
                    Event::Opened(channel, sender) => {
                        channels.insert(channel, sender);
                        send(Frame::Opened(channel)).await?;
                        if state != SystmOneState::Available {
                            state = SystmOneState::Available;
                            info!(systmone = state.as_str(), "SystmOne availability changed");
                            send(Frame::Control(ControlMessage::Status { systmone: state })).await?;
                        }
                    }
                    Event::OpenFailed(channel) => {
                        send(Frame::Close(channel)).await?;
                        if state != SystmOneState::Closed {
                            state = SystmOneState::Closed;
                            info!(systmone = state.as_str(), "SystmOne availability changed");
                            send(Frame::Control(ControlMessage::Status { systmone: state })).await?;
                        }
                    }
                    Event::Ended(channel) => {
                        if channels.remove(&channel).is_some() {
                            send(Frame::Close(channel)).await?;
                        }
                    }
                },
                _ = ticker.tick() => {
                    if last_heard.elapsed() > silence_limit {
                        return Err(Error::HubSilent);
                    }
                    if channels.is_empty() {
                        let now = probe_systmone(config.systmone_addr, config.connect_timeout).await;
                        if now != state {
                            state = now;
                            info!(systmone = state.as_str(), "SystmOne availability changed");
                            send(Frame::Control(ControlMessage::Status { systmone: state })).await?;
                        }
                    }
                }
            }
        }
    }
}

/// One channel: a connection to the local SystmOne client, bytes relayed both ways, never
/// looked at.
async fn relay_channel(
    channel: Channel,
    addr: SocketAddr,
    timeout: Duration,
    events: mpsc::UnboundedSender<Event>,
    out: mpsc::Sender<Frame>,
) {
    let stream = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => stream,
        _ => {
            debug!(channel, "SystmOne refused a channel");
            let _ = events.send(Event::OpenFailed(channel));
            return;
        }
    };
    let _ = stream.set_nodelay(true);
    let (to_systmone_tx, mut to_systmone) = mpsc::channel::<Vec<u8>>(16);
    if events.send(Event::Opened(channel, to_systmone_tx)).is_err() {
        return;
    }
    let (mut tcp_read, mut tcp_write) = stream.into_split();
    let mut buf = vec![0u8; DATA_CHUNK_BYTES];
    loop {
        tokio::select! {
            read = tcp_read.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(read) => {
                    if out.send(Frame::Data(channel, buf[..read].to_vec())).await.is_err() {
                        return;
                    }
                }
            },
            bytes = to_systmone.recv() => match bytes {
                Some(bytes) => {
                    if tcp_write.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                // The hub closed the channel.
                None => return,
            },
        }
    }
    let _ = events.send(Event::Ended(channel));
}
