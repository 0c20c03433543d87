//! The dispatcher: one task per SystmOne client, owning the connection, the throttle and the
//! device id, and sending queued jobs one at a time. Its public handle is
//! `Client` (in `client.rs`).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tracing::{Instrument, debug, warn};

use crate::backoff::Backoff;
use crate::config::ClientConfig;
use crate::connector::{BoxStream, Connector};
use crate::device_id::{DeviceIdStore, is_plausible_device_id};
use crate::error::{ClientError, FailureCause};
use crate::gateway::GatewayId;
use crate::wire::{self, ApiKey, Pacer, Prepared};
use systmone_api::{Request, Response};

/// A request waiting for the dispatcher.
pub(crate) struct Job {
    pub(crate) request: Request,
    pub(crate) prepared: Prepared,
    pub(crate) reply: oneshot::Sender<Result<Response, ClientError>>,
    pub(crate) span: tracing::Span,
}

/// Counters and flags shared between a `Client` and its dispatcher.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) queued: AtomicUsize,
    pub(crate) busy: AtomicBool,
    pub(crate) connected: AtomicBool,
    pub(crate) healthy: AtomicBool,
    pub(crate) consecutive_failures: AtomicU32,
    pub(crate) sent: AtomicU64,
    pub(crate) device_id_known: AtomicBool,
    pub(crate) unavailable_until: Mutex<Option<Instant>>,
}

pub(crate) struct Dispatcher {
    pub(crate) gateway: GatewayId,
    pub(crate) api_key: ApiKey,
    pub(crate) device_version: String,
    pub(crate) device_id: Option<String>,
    pub(crate) device_store: Arc<dyn DeviceIdStore>,
    pub(crate) connector: Arc<dyn Connector>,
    pub(crate) pacer: Pacer,
    pub(crate) backoff: Backoff,
    pub(crate) config: ClientConfig,
    pub(crate) receiver: mpsc::Receiver<Job>,
    pub(crate) stop: watch::Receiver<bool>,
    pub(crate) queue: VecDeque<Job>,
    pub(crate) connection: Option<BoxStream>,
    pub(crate) next_uid: u64,
    /// The device id in use has not reached the store yet.
    pub(crate) device_id_unsaved: bool,
    pub(crate) shared: Arc<Shared>,
}

impl Dispatcher {
    pub(crate) async fn run(mut self) {
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
