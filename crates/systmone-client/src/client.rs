//! The public handle to one SystmOne client: [`Client`], its [`ClientBuilder`] and
//! [`ClientStatus`]. The task that owns the connection and the throttle behind each `Client`
//! is the dispatcher ([`crate::dispatcher`]).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tracing::{Instrument, debug, info_span, warn};

use crate::backoff::Backoff;
use crate::config::ClientConfig;
use crate::connector::{Connector, TcpConnector};
use crate::device_id::{
    DeviceIdStore, EnvLookup, FileDeviceIdStore, MemoryDeviceIdStore, default_dir_from,
};
use crate::dispatcher::{Dispatcher, Job, Shared};
use crate::error::ClientError;
use crate::gateway::GatewayId;
use crate::wire::{self, ApiKey, Pacer};
use nhs_identifiers::clock::{Clock, SystemClock};
use systmone_api::{FunctionRequest, Request, Response, ThrottleConfig};

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
    clock: Arc<dyn Clock>,
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
            clock: Arc::new(SystemClock::new()),
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

    /// The wall clock whose Europe/London date is "today" when classifying record reads
    /// (entries dated today are exempt from the 30 s limit). Default: the system clock; a
    /// [`ManualClock`](nhs_identifiers::clock::ManualClock) in tests. Pacing does not use it
    /// (it runs on tokio's monotonic time, see [`TokioClock`](crate::TokioClock)).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
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
                clock: self.clock,
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
    clock: Arc<dyn Clock>,
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
        let prepared = wire::prepare(&request, self.inner.clock.london_today());
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

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::path::Path;

    use super::*;
    use crate::connector::{BoxStream, FnConnector};
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
