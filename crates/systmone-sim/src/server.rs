//! The IO side: the [`Simulator`] handle, the TCP listener, in-memory connections, and the
//! per-connection loop (newline-framed documents, many exchanges per connection).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{DeviceApproval, GatewayConfig};
use crate::error::SimError;
use crate::faults::{Fault, FaultProbabilities, FaultTarget};
use crate::gateway::{Availability, Gateway, Life};
use crate::log::{RequestCounts, RequestRecord};
use crate::organisation::Organisation;
use crate::pipeline::Reply;

/// How long after answering `ExitClient` the client exits (SystmOne: within about 3 s).
const EXIT_DELAY: Duration = Duration::from_millis(200);

/// How long a client exiting with `<Restart/>` stays down.
const RESTART_DELAY: Duration = Duration::from_secs(2);

/// Buffer size of in-memory duplex streams.
const DUPLEX_BUFFER: usize = 64 * 1024;

/// Closes everything when the last user-held handle is dropped.
#[derive(Debug)]
struct ShutdownGuard(Arc<Gateway>);

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        self.0.life.send_modify(|life| life.shutdown = true);
    }
}

/// One simulated Gateway PC: a SystmOne client with its own logged-in user, throttle, device-id
/// allocation, request log and fault plan, reading and writing a shared [`Organisation`].
///
/// The handle is cheap to clone; when the last clone is dropped the gateway stops listening and
/// closes its connections.
///
/// ```no_run
/// # async fn demo() -> Result<(), systmone_sim::SimError> {
/// use systmone_sim::{GatewayConfig, Organisation, Simulator, ThrottleConfig};
///
/// let org = Organisation::builtin_default();
/// let gateway_a = Simulator::new(org.clone(), GatewayConfig::for_user("gateway0001"))?;
/// let gateway_b = Simulator::new(
///     org.clone(),
///     GatewayConfig::for_user("gateway0002").with_throttle(ThrottleConfig::relaxed()),
/// )?;
/// let addr = gateway_a.listen_tcp("127.0.0.1:0".parse().unwrap()).await?;
/// let stream = gateway_b.connect_in_memory().expect("gateway B is running");
/// # let _ = (addr, stream);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Simulator {
    gateway: Arc<Gateway>,
    _guard: Arc<ShutdownGuard>,
}

impl Simulator {
    /// A gateway over `organisation`, not yet listening (call [`Simulator::listen_tcp`], or use
    /// [`Simulator::connect_in_memory`] / [`Simulator::serve`]).
    ///
    /// # Errors
    /// [`SimError::UnknownGatewayUser`] when the configured user is not in the organisation
    /// (compared case-sensitively), [`SimError::NoGatewayUser`] when none is configured and
    /// none is marked `gateway`.
    pub fn new(organisation: Organisation, config: GatewayConfig) -> Result<Self, SimError> {
        let gateway = Arc::new(Gateway::new(organisation, config)?);
        Ok(Self {
            _guard: Arc::new(ShutdownGuard(Arc::clone(&gateway))),
            gateway,
        })
    }

    /// This gateway's id within its organisation (1, 2, ... in creation order).
    pub fn gateway_id(&self) -> u64 {
        self.gateway.id
    }

    /// The user logged in on this gateway.
    pub fn user_name(&self) -> &str {
        &self.gateway.user_name
    }

    /// The shared organisation.
    pub fn organisation(&self) -> &Organisation {
        &self.gateway.org
    }

    /// Starts listening on `addr` (port 0: an ephemeral port) and returns the bound address.
    /// While the gateway is logged off or killed the socket is closed, so connecting fails
    /// with "connection refused"; it is bound again (same address) when it comes back.
    ///
    /// # Errors
    /// [`SimError::Bind`] when the address cannot be bound.
    pub async fn listen_tcp(&self, addr: SocketAddr) -> Result<SocketAddr, SimError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Bind { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| SimError::Bind { addr, source })?;
        *self
            .gateway
            .listen_addr
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(bound);
        tokio::spawn(listen_loop(Arc::clone(&self.gateway), listener, bound));
        Ok(bound)
    }

    /// The TCP address, once [`Simulator::listen_tcp`] has bound one.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        *self
            .gateway
            .listen_addr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Opens an in-memory connection served exactly like a TCP one (for tests under
    /// `#[tokio::test(start_paused = true)]`, where real sockets and auto-advancing time do
    /// not mix). Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// `ConnectionRefused` while the gateway is logged off or killed; `Other` outside a tokio
    /// runtime.
    pub fn connect_in_memory(&self) -> std::io::Result<tokio::io::DuplexStream> {
        if !self.gateway.life.borrow().accepting() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "SystmOne client is not available (logged off or killed)",
            ));
        }
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| std::io::Error::other(format!("no tokio runtime: {e}")))?;
        let (client, server) = tokio::io::duplex(DUPLEX_BUFFER);
        runtime.spawn(serve_connection(Arc::clone(&self.gateway), server));
        Ok(client)
    }

    /// Serves one already-connected stream until it closes (or the gateway is killed). Any
    /// `AsyncRead + AsyncWrite` works; TCP and in-memory connections go through here.
    pub async fn serve<S>(&self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        serve_connection(Arc::clone(&self.gateway), stream).await;
    }

    /// Whether the gateway is running, logged off or killed.
    pub fn availability(&self) -> Availability {
        self.gateway.life.borrow().availability
    }

    /// Logs the SystmOne client off: existing connections are closed and new ones refused.
    pub fn log_off(&self) {
        self.gateway.set_availability(Availability::LoggedOff);
    }

    /// Logs the client on again (after [`Simulator::log_off`]).
    pub fn log_on(&self) {
        self.gateway.set_availability(Availability::Running);
    }

    /// Kills the client: existing connections are closed at once (a request being handled gets
    /// no response) and new ones refused.
    pub fn kill(&self) {
        self.gateway.set_availability(Availability::Killed);
    }

    /// Brings a killed client back (its device ids, log and faults are kept).
    pub fn revive(&self) {
        self.gateway.set_availability(Availability::Running);
    }

    /// Adds a one-shot fault for the next request matching `target`.
    pub fn inject(&self, target: FaultTarget, fault: Fault) {
        self.gateway.control().faults.push(target, fault);
    }

    /// Adds a one-shot fault for the next request to `function` (wire name).
    pub fn inject_next(&self, function: &str, fault: Fault) {
        self.inject(FaultTarget::function(function), fault);
    }

    /// Sets a seeded random fault schedule (replaces any previous one).
    pub fn set_random_faults(&self, probabilities: FaultProbabilities, seed: u64) {
        self.gateway
            .control()
            .faults
            .set_random(Some((probabilities, seed)));
    }

    /// Removes all scripted faults and the random schedule.
    pub fn clear_faults(&self) {
        self.gateway.control().faults.clear();
    }

    /// Scripted faults not used yet.
    pub fn pending_faults(&self) -> usize {
        self.gateway.control().faults.pending()
    }

    /// Changes the answer to the device approval dialog.
    pub fn set_device_approval(&self, approval: DeviceApproval) {
        self.gateway.control().device_approval = approval;
    }

    /// Blocks a device id (as an administrator would in Device Manager): its requests get a
    /// permanent error.
    pub fn block_device(&self, device_id: &str) {
        let mut control = self.gateway.control();
        control.approved_devices.remove(device_id);
        control.blocked_devices.insert(device_id.to_owned());
    }

    /// Device ids this gateway allocated and approved, in allocation order.
    pub fn allocated_devices(&self) -> Vec<String> {
        self.gateway.control().allocated_devices.clone()
    }

    /// The most recent requests received (at most
    /// [`GatewayConfig::request_log_capacity`], 10,000 by default), in arrival order.
    /// [`Simulator::request_counts`] counts every request.
    pub fn request_log(&self) -> Vec<RequestRecord> {
        self.gateway.control().log.records()
    }

    /// Number of records the request log holds now (at most its capacity).
    pub fn request_log_len(&self) -> usize {
        self.gateway.control().log.len()
    }

    /// Counts of every request received and of each outcome, however many records the
    /// bounded log still holds.
    pub fn request_counts(&self) -> RequestCounts {
        self.gateway.control().log.counts()
    }

    /// Empties the request log and zeroes the counts (sequence numbers keep counting up).
    pub fn clear_request_log(&self) {
        self.gateway.control().log.clear();
    }

    /// Connections accepted so far.
    pub fn connections_accepted(&self) -> u64 {
        self.gateway
            .next_connection
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

async fn until(rx: &mut watch::Receiver<Life>, f: impl FnMut(&Life) -> bool) -> bool {
    rx.wait_for(f).await.is_ok()
}

async fn listen_loop(gateway: Arc<Gateway>, listener: TcpListener, addr: SocketAddr) {
    let mut life = gateway.life.subscribe();
    let mut listener = Some(listener);
    loop {
        if life.borrow().shutdown {
            return;
        }
        match &listener {
            Some(bound) => {
                tokio::select! {
                    accepted = bound.accept() => {
                        if let Ok((stream, _peer)) = accepted {
                            let _ = stream.set_nodelay(true);
                            tokio::spawn(serve_connection(Arc::clone(&gateway), stream));
                        }
                    }
                    _ = until(&mut life, |l| !l.accepting() || l.shutdown) => {
                        // Close the socket: connecting now fails with "connection refused".
                        listener = None;
                    }
                }
            }
            None => {
                if !until(&mut life, |l| l.accepting() || l.shutdown).await {
                    return;
                }
                if life.borrow().shutdown {
                    return;
                }
                match TcpListener::bind(addr).await {
                    Ok(bound) => listener = Some(bound),
                    Err(error) => {
                        tracing::warn!(%addr, %error, "systmone-sim: cannot listen again, retrying");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        }
    }
}

/// Bytes received on one connection and not yet handed out as documents. Lines are consumed
/// by moving `start` forward, so a blank line costs only its own bytes (no buffer shift per
/// line); the buffer is compacted once per read, moving at most one partial line.
#[derive(Debug, Default)]
struct Pending {
    buffer: Vec<u8>,
    /// Start of the first byte not yet consumed.
    start: usize,
    /// Bytes from `start` up to here hold no newline.
    scanned: usize,
}

impl Pending {
    /// The next non-blank buffered line (without its newline), if a whole one is buffered.
    fn next_line(&mut self) -> Option<Vec<u8>> {
        loop {
            let at = self.buffer[self.scanned..].iter().position(|&b| b == b'\n');
            let Some(at) = at else {
                self.scanned = self.buffer.len();
                return None;
            };
            let end = self.scanned + at;
            let line = &self.buffer[self.start..end];
            let blank = line.iter().all(u8::is_ascii_whitespace);
            let line = (!blank).then(|| line.to_vec());
            self.start = end + 1;
            self.scanned = self.start;
            if line.is_some() {
                return line;
            }
        }
    }

    /// Drops consumed bytes (before a read appends more).
    fn compact(&mut self) {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
    }

    /// The unconsumed bytes.
    fn rest(&self) -> &[u8] {
        &self.buffer[self.start..]
    }
}

/// Splits newline-terminated documents off the stream. Blank lines are skipped. Returns
/// `Ok(None)` at end of stream (a last unterminated document is returned first).
async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    pending: &mut Pending,
    max: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(line) = pending.next_line() {
            return Ok(Some(line));
        }
        pending.compact();
        if pending.rest().iter().all(u8::is_ascii_whitespace) {
            // Whitespace with no newline yet (e.g. the `\r` of a split `\r\n`): nothing to keep.
            pending.buffer.clear();
            pending.scanned = 0;
        }
        if pending.rest().len() > max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "request exceeds the maximum size",
            ));
        }
        let read = reader.read(&mut chunk).await?;
        if read == 0 {
            if pending.rest().iter().all(u8::is_ascii_whitespace) {
                return Ok(None);
            }
            let last = pending.rest().to_vec();
            *pending = Pending::default();
            return Ok(Some(last));
        }
        pending.buffer.extend_from_slice(&chunk[..read]);
    }
}

pub(crate) async fn serve_connection<S>(gateway: Arc<Gateway>, stream: S)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let mut life = gateway.life.subscribe();
    let epoch = {
        let now = life.borrow();
        if !now.accepting() || now.shutdown {
            return;
        }
        now.epoch
    };
    let connection = gateway
        .next_connection
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        + 1;
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut pending = Pending::default();
    let max = gateway.config.max_request_bytes;
    let ended = |l: &Life| l.epoch != epoch || !l.accepting() || l.shutdown;
    loop {
        let frame = tokio::select! {
            frame = read_frame(&mut reader, &mut pending, max) => frame,
            _ = until(&mut life, ended) => return,
        };
        let frame = match frame {
            Ok(Some(frame)) => frame,
            Ok(None) => return,
            Err(error) => {
                tracing::debug!(%error, connection, "systmone-sim: closing connection");
                return;
            }
        };
        let reply = tokio::select! {
            reply = gateway.handle_frame(&frame, connection) => reply,
            _ = until(&mut life, ended) => return,
        };
        match reply {
            Reply::Respond(mut text) => {
                text.push('\n');
                let written = tokio::select! {
                    written = async {
                        writer.write_all(text.as_bytes()).await?;
                        writer.flush().await
                    } => written,
                    _ = until(&mut life, ended) => return,
                };
                if written.is_err() {
                    return;
                }
            }
            Reply::RespondThenExit(mut text, restart) => {
                text.push('\n');
                let _ = writer.write_all(text.as_bytes()).await;
                let _ = writer.flush().await;
                let exiting = Arc::clone(&gateway);
                tokio::spawn(async move {
                    tokio::time::sleep(EXIT_DELAY).await;
                    exiting.set_availability(Availability::Killed);
                    if restart {
                        tokio::time::sleep(RESTART_DELAY).await;
                        exiting.set_availability(Availability::Running);
                    }
                });
                return;
            }
            Reply::Silent => {}
            Reply::Close => {
                let _ = writer.shutdown().await;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_split_on_newlines_and_skip_blank_lines() {
        let data: &[u8] = b"<a/>\n\r\n\n<b/>\r\n<c/>";
        let mut reader = data;
        let mut pending = Pending::default();
        let mut frames = Vec::new();
        while let Some(frame) = read_frame(&mut reader, &mut pending, 100).await.unwrap() {
            frames.push(String::from_utf8(frame).unwrap());
        }
        assert_eq!(frames, ["<a/>", "<b/>\r", "<c/>"]);
    }

    #[tokio::test]
    async fn blank_lines_are_consumed_without_shifting_the_buffer() {
        // 4 MiB of bare newlines in one buffer: with a shift per blank line this would move
        // about 8 TB; consuming by offset it is one pass.
        let mut data = vec![b'\n'; 4 << 20];
        data.extend_from_slice(b"<a/>\n\r\n");
        let mut reader = data.as_slice();
        let mut pending = Pending::default();
        pending.buffer.extend_from_slice(&data);
        reader = &reader[data.len()..];
        assert_eq!(pending.next_line().as_deref(), Some(&b"<a/>"[..]));
        assert_eq!(pending.start, data.len() - 2);
        assert!(
            read_frame(&mut reader, &mut pending, 100)
                .await
                .unwrap()
                .is_none()
        );
        assert!(pending.buffer.is_empty());
    }

    #[tokio::test]
    async fn oversized_frames_are_refused() {
        let data = vec![b'x'; 1000];
        let mut reader = data.as_slice();
        let mut pending = Pending::default();
        assert!(read_frame(&mut reader, &mut pending, 100).await.is_err());
    }
}
