//! One dispatcher task per SystmOne client: see [`Client`].

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tracing::{Instrument, debug, info_span, warn};

use crate::backoff::Backoff;
use crate::config::ClientConfig;
use crate::connector::{BoxStream, Connector, TcpConnector};
use crate::device_id::{
    DeviceIdStore, EnvLookup, FileDeviceIdStore, MemoryDeviceIdStore, default_dir_from,
    is_plausible_device_id,
};
use crate::error::{ClientError, FailureCause};
use crate::gateway::GatewayId;
use crate::wire::{self, ApiKey, Pacer, Prepared, TodayFn};
use systmone_api::{FunctionRequest, Request, Response, ThrottleConfig};

/// A request waiting for the dispatcher.
struct Job {
    request: Request,
    prepared: Prepared,
    reply: oneshot::Sender<Result<Response, ClientError>>,
    span: tracing::Span,
}

/// Counters and flags shared between a [`Client`] and its dispatcher.
#[derive(Debug, Default)]
struct Shared {
    queued: AtomicUsize,
    busy: AtomicBool,
    connected: AtomicBool,
    healthy: AtomicBool,
    consecutive_failures: AtomicU32,
    sent: AtomicU64,
    device_id_known: AtomicBool,
    unavailable_until: Mutex<Option<Instant>>,
}

/// A snapshot of one client's state, for health checks and gateway selection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientStatus {
    /// The gateway this client talks to.
    pub gateway: GatewayId,
    /// Jobs waiting in the queue (not yet sent).
    pub queued: usize,
    /// A request is on the wire right now.
    pub busy: bool,
    /// A connection is open.
    pub connected: bool,
    /// The last attempt to use the gateway succeeded (no connection failure, timeout or lost
    /// connection since). A new client starts healthy.
    pub healthy: bool,
    /// Connection failures in a row.
    pub consecutive_failures: u32,
    /// Requests written to the wire so far.
    pub sent: u64,
    /// The client holds a device id (false before the first approved contact).
    pub has_device_id: bool,
    /// Time left before the gateway tries to connect again, if it is backing off.
    pub unavailable_for: Option<Duration>,
    /// The dispatcher has stopped.
    pub shut_down: bool,
}

impl ClientStatus {
    /// Nothing queued and nothing in flight.
    #[must_use]
    pub fn is_idle(&self) -> bool {
        self.queued == 0 && !self.busy
    }
}

/// Builds a [`Client`]: where to connect, the API key, the device id store, the throttle
/// policy and the timeouts.
#[must_use]
pub struct ClientBuilder {
    gateway: GatewayId,
    api_key: ApiKey,
    device_version: String,
    connector: Arc<dyn Connector>,
    /// `None`: the default file store, chosen when the client starts.
    device_store: Option<Arc<dyn DeviceIdStore>>,
    config: ClientConfig,
    throttle: ThrottleConfig,
    today: TodayFn,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("gateway", &self.gateway)
            .field("device_version", &self.device_version)
            .field("connector", &self.connector)
            .field("device_store", &self.device_store)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A client for `gateway` using `api_key`, connecting over TCP to `127.0.0.1:40700`, with
    /// SystmOne's throttle limits and default timeouts. The device id is kept in a file per
    /// gateway in the per-user state directory (see [`FileDeviceIdStore`] and
    /// [`default_device_id_dir`](crate::default_device_id_dir)) unless another store is chosen.
    pub fn new(gateway: impl Into<GatewayId>, api_key: ApiKey) -> Self {
        Self {
            gateway: gateway.into(),
            api_key,
            device_version: concat!(
                "nhs-integration systmone-client ",
                env!("CARGO_PKG_VERSION")
            )
            .to_owned(),
            connector: Arc::new(TcpConnector::default()),
            device_store: None,
            config: ClientConfig::default(),
            throttle: ThrottleConfig::default(),
            today: wire::local_today(),
        }
    }

    /// Where and how to connect (e.g. [`TcpConnector`] to another port, or an in-memory stream).
    pub fn connector(mut self, connector: Arc<dyn Connector>) -> Self {
        self.connector = connector;
        self
    }

    /// Where the allocated device id is kept (default: a [`FileDeviceIdStore`] for this gateway
    /// in the [default directory](crate::default_device_id_dir), or memory when no such
    /// directory can be determined).
    pub fn device_store(mut self, store: Arc<dyn DeviceIdStore>) -> Self {
        self.device_store = Some(store);
        self
    }

    /// Keeps the device id in the file at `path` (a [`FileDeviceIdStore`]), e.g. where an
    /// installation keeps its state; one file per gateway.
    pub fn device_id_file(self, path: impl Into<std::path::PathBuf>) -> Self {
        self.device_store(Arc::new(FileDeviceIdStore::new(path)))
    }

    /// Keeps the device id in memory only ([`MemoryDeviceIdStore`]): for tests, demos against
    /// a simulator, and callers that persist it themselves. A real SystmOne client asks a
    /// person to approve the software again in every new process.
    pub fn in_memory_device_id(self) -> Self {
        self.device_store(Arc::new(MemoryDeviceIdStore::new()))
    }

    /// The `DeviceVersion` text shown in SystmOne's audit and approval dialog.
    pub fn device_version(mut self, version: impl Into<String>) -> Self {
        self.device_version = version.into();
        self
    }

    /// Timeouts, backoff, queue size and `RequestUID` prefix.
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// The throttle limits (default: SystmOne's, 1 request/s and 1 full record read per 30 s).
    /// Relax them only for a simulator configured the same way.
    pub fn throttle(mut self, policy: ThrottleConfig) -> Self {
        self.throttle = policy;
        self
    }

    /// Where "today" comes from when classifying record reads (entries dated today are exempt
    /// from the 30 s limit). Default: the local date.
    pub fn today(mut self, today: TodayFn) -> Self {
        self.today = today;
        self
    }

    /// Starts the dispatcher task on the current tokio runtime.
    ///
    /// The client's start counts as a send for the throttle: its first request goes at least
    /// the client interval (1 s) after this, and, unless
    /// [`ClientConfig::assume_record_read_at_start`] is off, its first whole-record read at
    /// least 30 s after, so a restarted process cannot break TPP's limits.
    ///
    /// # Errors
    /// [`ClientError::DeviceIdStore`] when the stored device id cannot be read.
    pub fn spawn(self) -> Result<Client, ClientError> {
        self.spawn_with_env(&|name| std::env::var_os(name), cfg!(windows))
    }

    /// The device id store: the chosen one, else the default file, else memory (with a warning).
    fn resolve_device_store(
        &mut self,
        env: EnvLookup<'_>,
        windows: bool,
    ) -> Arc<dyn DeviceIdStore> {
        if let Some(store) = &self.device_store {
            return Arc::clone(store);
        }
        match default_dir_from(env, windows) {
            Some(dir) => {
                let store = FileDeviceIdStore::for_gateway(dir, &self.gateway);
                debug!(gateway = %self.gateway, path = %store.path().display(), "device id kept in the default file");
                Arc::new(store)
            }
            None => {
                warn!(
                    gateway = %self.gateway,
                    "no per-user state directory (set SYSTMONE_DEVICE_ID_DIR, or HOME / LOCALAPPDATA); \
                     the device id is kept in memory only and SystmOne will ask for approval again \
                     after a restart"
                );
                Arc::new(MemoryDeviceIdStore::new())
            }
        }
    }

    /// [`spawn`](Self::spawn) with the environment (and platform) the default device id
    /// location is read from.
    pub(crate) fn spawn_with_env(
        mut self,
        env: EnvLookup<'_>,
        windows: bool,
    ) -> Result<Client, ClientError> {
        let device_store = self.resolve_device_store(env, windows);
        let device_id = device_store
            .load()
            .map_err(|source| ClientError::DeviceIdStore {
                gateway: self.gateway.clone(),
                source,
            })?;
        let mut pacer = Pacer::with_margin(&self.throttle, self.config.pacing_margin);
        pacer.count_start_as_send(Instant::now(), self.config.assume_record_read_at_start);
        let shared = Arc::new(Shared::default());
        shared.healthy.store(true, Ordering::Relaxed);
        shared
            .device_id_known
            .store(device_id.is_some(), Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(self.config.queue_capacity.max(1));
        let (stop_sender, stop_receiver) = watch::channel(false);
        let dispatcher = Dispatcher {
            gateway: self.gateway.clone(),
            api_key: self.api_key,
            device_version: self.device_version,
            device_id,
            device_store,
            connector: self.connector,
            pacer,
            backoff: Backoff::new(self.config.backoff),
            config: self.config,
            receiver,
            stop: stop_receiver,
            queue: VecDeque::new(),
            connection: None,
            next_uid: 1,
            device_id_unsaved: false,
            shared: Arc::clone(&shared),
        };
        let span = info_span!("systmone_dispatcher", gateway = %self.gateway);
        let task = tokio::spawn(dispatcher.run().instrument(span));
        Ok(Client {
            inner: Arc::new(ClientInner {
                gateway: self.gateway,
                sender,
                stop: stop_sender,
                task: Mutex::new(Some(task)),
                shared,
                today: self.today,
            }),
        })
    }
}

struct ClientInner {
    gateway: GatewayId,
    sender: mpsc::Sender<Job>,
    stop: watch::Sender<bool>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    shared: Arc<Shared>,
    today: TodayFn,
}

/// An async handle to one SystmOne client (one Gateway PC). Cheap to clone; all clones share
/// one dispatcher, one connection and one throttle.
///
/// Exactly one `Client` should talk to a given SystmOne client: the throttle lives here, and two
/// dispatchers on one SystmOne client would together break TPP's limits.
///
/// The dispatcher's state machine, per request:
///
/// 1. **Queued.** [`Client::call`] puts a job on the queue. A job whose caller has given up
///    (dropped the future) is removed before it is sent.
/// 2. **Connected.** If there is no connection the dispatcher opens one (connect timeout,
///    exponential backoff after failures). If connecting fails, every queued job fails with
///    [`ClientError::Connect`] and, until the backoff has passed, new jobs fail at once with
///    [`ClientError::GatewayUnavailable`]: nothing was sent, so the caller (or the pool) may
///    retry elsewhere. An idle connection the peer closed is noticed and replaced before use.
/// 3. **Paced.** The dispatcher asks the `systmone-api` throttle for the first queued job that
///    may go now (so an ordinary request goes while a throttled record read waits for its
///    30 s), sleeping on tokio's clock otherwise. The throttle cell is taken only once the
///    connection is ready, and the request is written at once, so sends are never closer than
///    the policy allows, across reconnects too.
/// 4. **Sent.** The request is written as one line; the response is framed and decoded within
///    the function's timeout. A failure after the send closes the connection (a late answer
///    must never be taken for the next request's) and becomes [`ClientError::ReadFailed`] for a
///    read or [`ClientError::OutcomeUnknown`] for a write: writes are never retried here.
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("gateway", &self.inner.gateway)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder (see [`ClientBuilder::new`]).
    pub fn builder(gateway: impl Into<GatewayId>, api_key: ApiKey) -> ClientBuilder {
        ClientBuilder::new(gateway, api_key)
    }

    /// The gateway this client talks to.
    #[must_use]
    pub fn gateway(&self) -> &GatewayId {
        &self.inner.gateway
    }

    /// Sends `request` (queued behind earlier ones, paced by the throttle) and waits for its
    /// response.
    ///
    /// Dropping the returned future before the request is sent withdraws it; dropping it after
    /// the send does not stop the dispatcher from finishing the exchange.
    ///
    /// # Errors
    /// See [`ClientError`]: each variant says whether the request was sent and whether a retry
    /// is safe ([`ClientError::retry`]).
    pub async fn call(&self, request: impl Into<Request>) -> Result<Response, ClientError> {
        let request = request.into();
        if let Err(error) = request.validate() {
            // Refused before queueing: it would fail the same way at encoding time.
            return Err(ClientError::Encode {
                function: request.metadata().function.to_owned(),
                detail: error.to_string(),
            });
        }
        let prepared = wire::prepare(&request, (self.inner.today)());
        let span = info_span!("systmone_call", gateway = %self.inner.gateway, function = %prepared.function, request_uid = tracing::field::Empty);
        let (reply, answer) = oneshot::channel();
        let function = prepared.function.clone();
        let job = Job {
            request,
            prepared,
            reply,
            span,
        };
        self.inner.shared.queued.fetch_add(1, Ordering::SeqCst);
        if self.inner.sender.send(job).await.is_err() {
            self.inner.shared.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(self.shut_down_error(function));
        }
        match answer.await {
            Ok(result) => result,
            Err(_) => Err(self.shut_down_error(function)),
        }
    }

    /// Sends a typed request and returns its typed response (see [`Client::call`]).
    ///
    /// # Errors
    /// As [`Client::call`].
    pub async fn send<R: FunctionRequest>(&self, request: R) -> Result<R::Response, ClientError> {
        let function = R::METADATA.function;
        let response = self.call(request).await?;
        R::Response::try_from(response).map_err(|error| ClientError::Encode {
            function: function.to_owned(),
            detail: error.to_string(),
        })
    }

    fn shut_down_error(&self, function: String) -> ClientError {
        ClientError::ShutDown {
            gateway: self.inner.gateway.clone(),
            function,
        }
    }

    /// A snapshot of the client's state.
    #[must_use]
    pub fn status(&self) -> ClientStatus {
        let shared = &self.inner.shared;
        let unavailable_for = shared
            .unavailable_until
            .lock()
            .ok()
            .and_then(|until| *until)
            .and_then(|until| until.checked_duration_since(Instant::now()))
            .filter(|left| !left.is_zero());
        ClientStatus {
            gateway: self.inner.gateway.clone(),
            queued: shared.queued.load(Ordering::SeqCst),
            busy: shared.busy.load(Ordering::SeqCst),
            connected: shared.connected.load(Ordering::SeqCst),
            healthy: shared.healthy.load(Ordering::SeqCst),
            consecutive_failures: shared.consecutive_failures.load(Ordering::SeqCst),
            sent: shared.sent.load(Ordering::SeqCst),
            has_device_id: shared.device_id_known.load(Ordering::SeqCst),
            unavailable_for,
            shut_down: self.inner.sender.is_closed(),
        }
    }

    /// Stops the dispatcher cleanly: a request already on the wire is finished, queued ones
    /// fail with [`ClientError::ShutDown`] (never sent), the connection is closed. Waits for
    /// the dispatcher to end. Calling it again is harmless.
    pub async fn shutdown(&self) {
        let _ = self.inner.stop.send(true);
        let task = self.inner.task.lock().ok().and_then(|mut task| task.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

struct Dispatcher {
    gateway: GatewayId,
    api_key: ApiKey,
    device_version: String,
    device_id: Option<String>,
    device_store: Arc<dyn DeviceIdStore>,
    connector: Arc<dyn Connector>,
    pacer: Pacer,
    backoff: Backoff,
    config: ClientConfig,
    receiver: mpsc::Receiver<Job>,
    stop: watch::Receiver<bool>,
    queue: VecDeque<Job>,
    connection: Option<BoxStream>,
    next_uid: u64,
    /// The device id in use has not reached the store yet.
    device_id_unsaved: bool,
    shared: Arc<Shared>,
}

impl Dispatcher {
    async fn run(mut self) {
        debug!("dispatcher started");
        loop {
            if *self.stop.borrow() {
                break;
            }
            self.withdraw_abandoned();
            if self.queue.is_empty() {
                tokio::select! {
                    biased;
                    _ = self.stop.changed() => break,
                    job = self.receiver.recv() => match job {
                        Some(job) => self.enqueue(job),
                        None => break,
                    },
                }
                continue;
            }
            while let Ok(job) = self.receiver.try_recv() {
                self.enqueue(job);
            }
            if !self.ensure_connected().await {
                continue;
            }
            match self.pick() {
                Ok(job) => self.exchange(job).await,
                Err(wait) => {
                    tokio::select! {
                        biased;
                        _ = self.stop.changed() => break,
                        job = self.receiver.recv() => match job {
                            Some(job) => self.enqueue(job),
                            None => {
                                // Every handle is gone; finish what is queued.
                                tokio::time::sleep(wait).await;
                            }
                        },
                        () = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
        self.receiver.close();
        while let Ok(job) = self.receiver.try_recv() {
            self.queue.push_back(job);
        }
        for job in std::mem::take(&mut self.queue) {
            self.shared.queued.fetch_sub(1, Ordering::SeqCst);
            let error = ClientError::ShutDown {
                gateway: self.gateway.clone(),
                function: job.prepared.function.clone(),
            };
            let _ = job.reply.send(Err(error));
        }
        self.disconnect().await;
        debug!("dispatcher stopped");
    }

    fn enqueue(&mut self, job: Job) {
        // While backing off after connection failures, fail at once: the caller (or the pool)
        // can go elsewhere. Nothing is sent.
        if self.connection.is_none()
            && let Some(left) = self.backoff.remaining(Instant::now())
        {
            self.shared.queued.fetch_sub(1, Ordering::SeqCst);
            let error = ClientError::GatewayUnavailable {
                gateway: self.gateway.clone(),
                function: job.prepared.function.clone(),
                retry_after: left,
            };
            let _ = job.reply.send(Err(error));
            return;
        }
        self.queue.push_back(job);
    }

    fn withdraw_abandoned(&mut self) {
        let before = self.queue.len();
        self.queue.retain(|job| !job.reply.is_closed());
        let withdrawn = before - self.queue.len();
        if withdrawn > 0 {
            self.shared.queued.fetch_sub(withdrawn, Ordering::SeqCst);
            debug!(
                withdrawn,
                "callers gave up on queued requests before they were sent"
            );
        }
    }

    /// Makes sure a usable connection is open; on failure fails every queued job (never sent).
    async fn ensure_connected(&mut self) -> bool {
        if let Some(stream) = self.connection.as_mut()
            && peer_has_closed(stream)
        {
            debug!("idle connection was closed by the SystmOne client; reconnecting");
            self.disconnect().await;
        }
        if self.connection.is_some() {
            return true;
        }
        let now = Instant::now();
        if let Some(left) = self.backoff.remaining(now) {
            self.fail_queue(|function, gateway| ClientError::GatewayUnavailable {
                gateway,
                function,
                retry_after: left,
            });
            return false;
        }
        let result =
            match tokio::time::timeout(self.config.connect_timeout, self.connector.connect()).await
            {
                Ok(Ok(stream)) => Ok(stream),
                Ok(Err(error)) => Err(error),
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("connect timed out after {:?}", self.config.connect_timeout),
                )),
            };
        match result {
            Ok(stream) => {
                debug!("connected");
                self.connection = Some(stream);
                self.shared.connected.store(true, Ordering::SeqCst);
                true
            }
            Err(error) => {
                let wait = self.backoff.failed(Instant::now());
                warn!(error = %error, backoff = ?wait, "cannot connect to the SystmOne client");
                self.note_unavailable(Some(Instant::now() + wait));
                let kind = error.kind();
                let text = error.to_string();
                self.fail_queue(|function, gateway| ClientError::Connect {
                    gateway,
                    function,
                    source: std::io::Error::new(kind, text.clone()),
                });
                false
            }
        }
    }

    fn note_unavailable(&self, until: Option<Instant>) {
        self.shared.healthy.store(until.is_none(), Ordering::SeqCst);
        self.shared
            .consecutive_failures
            .store(self.backoff.consecutive_failures(), Ordering::SeqCst);
        if let Ok(mut slot) = self.shared.unavailable_until.lock() {
            *slot = until;
        }
    }

    fn fail_queue(&mut self, error: impl Fn(String, GatewayId) -> ClientError) {
        for job in std::mem::take(&mut self.queue) {
            self.shared.queued.fetch_sub(1, Ordering::SeqCst);
            let _ = job.reply.send(Err(error(
                job.prepared.function.clone(),
                self.gateway.clone(),
            )));
        }
    }

    /// Takes a throttle slot for the first queued job allowed to go now, or says how long to
    /// wait. Jobs whose function limit is still closed are skipped without asking the
    /// throttle, so they never spend the whole-client slot of the jobs behind them.
    fn pick(&mut self) -> Result<Job, Duration> {
        let now = Instant::now();
        let mut shortest: Option<Duration> = None;
        let mut chosen = None;
        for (index, job) in self.queue.iter().enumerate() {
            if let Some(wait) = self.pacer.function_wait(&job.prepared.class, now) {
                shortest = Some(shortest.map_or(wait, |s| s.min(wait)));
                continue;
            }
            match self.pacer.try_acquire(&job.prepared.class, now) {
                Ok(()) => {
                    chosen = Some(index);
                    break;
                }
                Err(wait) => {
                    shortest = Some(shortest.map_or(wait, |s| s.min(wait)));
                    if wait <= self.pacer.client_interval() {
                        // The whole-client limit is closed: nothing else can go either.
                        break;
                    }
                }
            }
        }
        match chosen.and_then(|index| self.queue.remove(index)) {
            Some(job) => Ok(job),
            None => Err(shortest
                .unwrap_or(Duration::from_millis(1))
                .max(Duration::from_millis(1))),
        }
    }

    fn next_request_uid(&mut self) -> String {
        let uid = format!("{}-{}", self.config.request_uid_prefix, self.next_uid);
        self.next_uid += 1;
        uid
    }

    async fn exchange(&mut self, job: Job) {
        self.shared.queued.fetch_sub(1, Ordering::SeqCst);
        if job.reply.is_closed() {
            // The caller gave up just now: do not send what nobody waits for.
            return;
        }
        let request_uid = self.next_request_uid();
        job.span
            .record("request_uid", tracing::field::display(&request_uid));
        let span = job.span.clone();
        self.shared.busy.store(true, Ordering::SeqCst);
        let result = self
            .exchange_inner(&job, &request_uid)
            .instrument(span)
            .await;
        self.shared.busy.store(false, Ordering::SeqCst);
        let _ = job.reply.send(result);
    }

    async fn exchange_inner(
        &mut self,
        job: &Job,
        request_uid: &str,
    ) -> Result<Response, ClientError> {
        let function = job.prepared.function.clone();
        let first_contact = self.device_id.is_none();
        let header = wire::Header {
            api_key: &self.api_key,
            device_id: self.device_id.as_deref(),
            device_version: &self.device_version,
            request_uid,
            output_scheme: self.config.output_scheme.as_ref(),
        };
        let bytes =
            wire::encode(&job.request, &header, &self.config.encode_options).map_err(|detail| {
                ClientError::Encode {
                    function: function.clone(),
                    detail,
                }
            })?;
        let Some(stream) = self.connection.as_mut() else {
            return Err(ClientError::GatewayUnavailable {
                gateway: self.gateway.clone(),
                function,
                retry_after: Duration::ZERO,
            });
        };
        if let Err((written, error)) = write_counting(stream, &bytes).await {
            if written >= document_end(&bytes) {
                // Only the terminating newline is missing. The spec ends a request with the
                // newline, but SystmOne may recognise a document by its closed root element
                // (clients that sent no newline got answers), so it may have been applied.
                self.shared.sent.fetch_add(1, Ordering::SeqCst);
                let cause = FailureCause::ConnectionLost { kind: error.kind() };
                return Err(self.failed_after_send(job, request_uid, cause).await);
            }
            // The root element was never closed on the wire: SystmOne cannot have read a
            // whole request, so nothing can have been applied.
            warn!(error = %error, "connection failed while writing the request; not sent");
            self.disconnect().await;
            self.shared.healthy.store(false, Ordering::SeqCst);
            return Err(ClientError::WriteFailed {
                gateway: self.gateway.clone(),
                function,
                source: error,
            });
        }
        self.shared.sent.fetch_add(1, Ordering::SeqCst);
        if let Err(error) = stream.flush().await {
            // Every byte was handed over: from here on the request may have been applied.
            let cause = FailureCause::ConnectionLost { kind: error.kind() };
            return Err(self.failed_after_send(job, request_uid, cause).await);
        }
        debug!(bytes = bytes.len(), first_contact, "request sent");
        let timeout = if first_contact {
            self.config.first_contact_timeout
        } else {
            self.config.timeouts.for_function(&function)
        };
        let max = self.config.max_response_bytes;
        let mut dirty = false;
        let outcome = match tokio::time::timeout(timeout, read_response(stream, max)).await {
            Ok(Ok((message, leftover))) => {
                dirty = leftover;
                wire::decode(&message).map_err(|detail| FailureCause::Malformed { detail })
            }
            Ok(Err(ReadFailure::Io(kind))) => Err(FailureCause::ConnectionLost { kind }),
            Ok(Err(ReadFailure::Framing(detail))) => Err(FailureCause::Malformed { detail }),
            Err(_) => Err(FailureCause::NoResponse { waited: timeout }),
        };
        let decoded = match outcome {
            Ok(decoded) if decoded.request_uid != request_uid => {
                let cause = FailureCause::Malformed {
                    detail: "the response's RequestUID does not echo the request's".to_owned(),
                };
                return Err(self.failed_after_send(job, request_uid, cause).await);
            }
            Ok(decoded) if decoded.result.is_ok() && decoded.function != job.prepared.name => {
                let cause = FailureCause::Malformed {
                    detail: format!(
                        "a {} response answered a {} request",
                        decoded.function.as_str(),
                        job.prepared.function
                    ),
                };
                return Err(self.failed_after_send(job, request_uid, cause).await);
            }
            Ok(decoded) => decoded,
            Err(cause) => return Err(self.failed_after_send(job, request_uid, cause).await),
        };
        self.backoff.succeeded();
        self.note_unavailable(None);
        if dirty {
            warn!("unrequested bytes followed the response; the connection will not be reused");
            self.disconnect().await;
        }
        if let Some(device_id) = decoded.device_id.as_deref() {
            self.remember_device_id(device_id);
        }
        match decoded.result {
            Ok(response) => {
                debug!("response received");
                Ok(response)
            }
            Err(remote) => {
                debug!(
                    permanent = remote.permanent,
                    "SystmOne answered with an error"
                );
                Err(ClientError::Remote {
                    gateway: self.gateway.clone(),
                    function,
                    message: remote.message,
                    permanent: remote.permanent,
                })
            }
        }
    }

    async fn failed_after_send(
        &mut self,
        job: &Job,
        request_uid: &str,
        cause: FailureCause,
    ) -> ClientError {
        warn!(cause = %cause, writes = job.prepared.writes, "request sent but no usable response; closing the connection");
        self.disconnect().await;
        self.shared.healthy.store(false, Ordering::SeqCst);
        let gateway = self.gateway.clone();
        let function = job.prepared.function.clone();
        let request_uid = request_uid.to_owned();
        if job.prepared.writes {
            ClientError::OutcomeUnknown {
                gateway,
                function,
                request_uid,
                cause,
            }
        } else {
            ClientError::ReadFailed {
                gateway,
                function,
                request_uid,
                cause,
            }
        }
    }

    /// Adopts a device id SystmOne sent (on first contact, the newly allocated one) and
    /// persists it. A store failure never fails the call (the request was answered, and may
    /// have been a write): the id is kept in memory and saving is tried again on the next
    /// response.
    fn remember_device_id(&mut self, device_id: &str) {
        let known = self.device_id.as_deref() == Some(device_id);
        if device_id.is_empty() || (known && !self.device_id_unsaved) {
            return;
        }
        if !is_plausible_device_id(device_id) {
            warn!("SystmOne returned an implausible device id; ignoring it");
            return;
        }
        self.device_id = Some(device_id.to_owned());
        self.shared.device_id_known.store(true, Ordering::SeqCst);
        match self.device_store.save(device_id) {
            Ok(()) => {
                self.device_id_unsaved = false;
                debug!("device id allocated and stored");
            }
            Err(error) => {
                self.device_id_unsaved = true;
                warn!(error = %error, "device id could not be stored; kept in memory, will retry");
            }
        }
    }

    async fn disconnect(&mut self) {
        if let Some(mut stream) = self.connection.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), stream.shutdown()).await;
        }
        self.shared.connected.store(false, Ordering::SeqCst);
    }
}

/// Writes all of `bytes`; on failure also says how many bytes were handed over before it.
async fn write_counting(
    stream: &mut BoxStream,
    bytes: &[u8],
) -> Result<(), (usize, std::io::Error)> {
    let mut written = 0;
    while written < bytes.len() {
        match stream.write(&bytes[written..]).await {
            Ok(0) => return Err((written, std::io::ErrorKind::WriteZero.into())),
            Ok(count) => written += count,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err((written, error)),
        }
    }
    Ok(())
}

/// How many bytes of an encoded request hold the document itself (up to and including the
/// `>` closing the root element, before the terminating newline).
fn document_end(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .rposition(|byte| !byte.is_ascii_whitespace())
        .map_or(0, |last| last + 1)
}

/// `true` when an idle connection is unusable: the peer closed it, it failed, or it holds
/// unexpected bytes (a late answer to an abandoned request).
fn peer_has_closed(stream: &mut BoxStream) -> bool {
    let mut byte = [0u8; 1];
    let mut buf = ReadBuf::new(&mut byte);
    let mut context = Context::from_waker(Waker::noop());
    tokio::io::AsyncRead::poll_read(Pin::new(&mut **stream), &mut context, &mut buf).is_ready()
}

enum ReadFailure {
    Io(std::io::ErrorKind),
    Framing(String),
}

/// Reads one framed response; also says whether more bytes followed it (the connection is then
/// not reused: nothing may arrive that was not asked for).
async fn read_response(
    stream: &mut BoxStream,
    max_bytes: usize,
) -> Result<(Vec<u8>, bool), ReadFailure> {
    let mut framer = wire::Framer::new(max_bytes);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let read = stream
            .read(&mut buf)
            .await
            .map_err(|error| ReadFailure::Io(error.kind()))?;
        if read == 0 {
            return Err(ReadFailure::Io(std::io::ErrorKind::UnexpectedEof));
        }
        if let Some(message) = framer.push(&buf[..read]).map_err(ReadFailure::Framing)? {
            return Ok((message, framer.has_leftover()));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::path::Path;

    use super::*;
    use crate::connector::FnConnector;
    use systmone_sim::{GatewayConfig, Organisation, Simulator};

    fn in_memory(sim: &Simulator) -> Arc<dyn Connector> {
        let sim = sim.clone();
        Arc::new(FnConnector::new(move || {
            let sim = sim.clone();
            Box::pin(async move { Ok(Box::new(sim.connect_in_memory()?) as BoxStream) })
        }))
    }

    /// An environment with only `SYSTMONE_DEVICE_ID_DIR` (and a `HOME` that must not be used).
    fn env_with_dir(dir: &Path) -> impl Fn(&str) -> Option<OsString> + use<> {
        let dir = dir.as_os_str().to_owned();
        move |name| match name {
            crate::DEVICE_ID_DIR_ENV => Some(dir.clone()),
            "HOME" => Some(OsString::from("/nonexistent/home/must-not-be-used")),
            _ => None,
        }
    }

    fn default_builder(sim: &Simulator) -> ClientBuilder {
        Client::builder("gw-1", ApiKey::new("0a1b2c3d4e5f6071")).connector(in_memory(sim))
    }

    fn functions() -> Request {
        Request::from(systmone_api::get_functions::v1::Request::new())
    }

    #[tokio::test(start_paused = true)]
    async fn default_store_is_a_file_in_the_configured_directory_and_survives_a_restart() {
        let sim = Simulator::new(
            Organisation::builtin_default(),
            GatewayConfig::for_user("gateway0001"),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ids = dir.path().join("state");
        let env = env_with_dir(&ids);

        let first = default_builder(&sim).spawn_with_env(&env, false).unwrap();
        assert!(!first.status().has_device_id);
        first.call(functions()).await.unwrap();
        first.shutdown().await;
        let allocated = sim.allocated_devices();
        assert_eq!(allocated.len(), 1);
        let file = ids.join("gw-1.device-id");
        assert_eq!(
            std::fs::read_to_string(&file).unwrap().trim(),
            allocated[0],
            "kept in {}",
            file.display()
        );
        let files: Vec<_> = std::fs::read_dir(&ids)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(files, vec![OsString::from("gw-1.device-id")]);

        // A second client built the same way (a restarted process) sends the stored id.
        let second = default_builder(&sim).spawn_with_env(&env, false).unwrap();
        assert!(second.status().has_device_id);
        second.call(functions()).await.unwrap();
        second.shutdown().await;
        let sent: Vec<String> = sim
            .request_log()
            .iter()
            .map(|record| record.device_id.clone().unwrap_or_default())
            .collect();
        assert_eq!(sent, vec![String::new(), allocated[0].clone()]);
        assert_eq!(sim.allocated_devices().len(), 1, "no second approval");
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_state_directory_the_id_is_kept_in_memory() {
        let sim = Simulator::new(
            Organisation::builtin_default(),
            GatewayConfig::for_user("gateway0001"),
        )
        .unwrap();
        let nothing = |_: &str| None;
        let client = default_builder(&sim)
            .spawn_with_env(&nothing, false)
            .unwrap();
        client.call(functions()).await.unwrap();
        client.call(functions()).await.unwrap();
        assert!(client.status().has_device_id);
        client.shutdown().await;
        assert_eq!(sim.allocated_devices().len(), 1);
        // A chosen store wins over the environment.
        let dir = tempfile::tempdir().unwrap();
        let chosen = default_builder(&sim)
            .in_memory_device_id()
            .spawn_with_env(&env_with_dir(dir.path()), false)
            .unwrap();
        chosen.call(functions()).await.unwrap();
        chosen.shutdown().await;
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
