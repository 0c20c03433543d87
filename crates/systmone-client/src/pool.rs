//! The gateway pool: see [`GatewayPool`].

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::client::{Client, ClientStatus};
use crate::error::ClientError;
use crate::gateway::GatewayId;
use crate::wire;
use systmone_api::{Request, Response};

/// Builds a [`GatewayPool`].
#[derive(Debug)]
#[must_use]
pub struct GatewayPoolBuilder {
    clients: Vec<Client>,
    health_check_interval: Option<Duration>,
}

/// Default interval of the background health checks.
pub const DEFAULT_HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(30);

impl Default for GatewayPoolBuilder {
    fn default() -> Self {
        Self {
            clients: Vec::new(),
            health_check_interval: Some(DEFAULT_HEALTH_CHECK_INTERVAL),
        }
    }
}

impl GatewayPoolBuilder {
    /// Adds a gateway (its client must talk to a SystmOne client no other `Client` uses).
    pub fn gateway(mut self, client: Client) -> Self {
        self.clients.push(client);
        self
    }

    /// Probes gateways in the background every `interval` (default
    /// [`DEFAULT_HEALTH_CHECK_INTERVAL`]): an unhealthy gateway that is idle and not backing
    /// off gets a `GetFunctions` request (one throttle slot of that gateway), and is preferred
    /// again once it answers. Healthy gateways are not probed: their traffic shows their health.
    pub fn health_check_interval(mut self, interval: Duration) -> Self {
        self.health_check_interval = Some(interval);
        self
    }

    /// No background health checks: an unhealthy gateway is then used again only when the
    /// healthy ones fail, or after [`GatewayPool::check_health`].
    pub fn without_health_checks(mut self) -> Self {
        self.health_check_interval = None;
        self
    }

    /// Builds the pool. With health checks on (the default) it spawns the checker on the
    /// current tokio runtime; outside a runtime the checks are off (and a warning is logged).
    pub fn build(self) -> GatewayPool {
        let inner = Arc::new(PoolInner {
            clients: self.clients,
            next: AtomicUsize::new(0),
        });
        let runtime = tokio::runtime::Handle::try_current().ok();
        if runtime.is_none() && self.health_check_interval.is_some() {
            warn!("GatewayPool built outside a tokio runtime: background health checks are off");
        }
        let interval = self.health_check_interval.zip(runtime);
        let health_task = interval.map(|(interval, runtime)| {
            let weak = Arc::downgrade(&inner);
            runtime.spawn(async move {
                let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(1)));
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                ticker.tick().await;
                loop {
                    ticker.tick().await;
                    let Some(inner) = weak.upgrade() else { break };
                    inner.check_health().await;
                }
            })
        });
        GatewayPool { inner, health_task }
    }
}

#[derive(Debug)]
struct PoolInner {
    clients: Vec<Client>,
    next: AtomicUsize,
}

/// A pool of an organisation's Gateway PCs: each its own [`Client`] (dispatcher, connection,
/// throttle, device id), health checks, selection of a healthy idle gateway, and failover.
///
/// # Using the pool
///
/// ```
/// use std::sync::Arc;
/// use systmone_api::{NhsNumber, get_functions, get_patient_record};
/// use systmone_client::{ApiKey, Client, GatewayPool, TcpConnector};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # // Two simulated Gateway PCs on loopback stand in for the practice's real ones.
/// # let org = systmone_sim::Organisation::builtin_default();
/// # let relaxed = systmone_sim::GatewayConfig::default().with_throttle(systmone_sim::ThrottleConfig::relaxed());
/// # let sim1 = systmone_sim::Simulator::new(org.clone(), relaxed.clone().with_user("gateway0001"))?;
/// # let sim2 = systmone_sim::Simulator::new(org, relaxed.with_user("gateway0002"))?;
/// # let gw1_addr = sim1.listen_tcp("127.0.0.1:0".parse()?).await?;
/// # let gw2_addr = sim2.listen_tcp("127.0.0.1:0".parse()?).await?;
/// # let throttle = systmone_client::ThrottleConfig::default()
/// #     .with_client_interval(std::time::Duration::from_millis(10))
/// #     .with_function_interval(systmone_api::FunctionName::GetPatientRecord, std::time::Duration::ZERO);
/// let api_key = ApiKey::new("0a1b2c3d4e5f6071");
/// let gw1 = Client::builder("gw-1", api_key.clone())
///     .connector(Arc::new(TcpConnector::new(gw1_addr)))
/// #   .in_memory_device_id()
/// #   .throttle(throttle.clone())
///     .spawn()?;
/// let gw2 = Client::builder("gw-2", api_key)
///     .connector(Arc::new(TcpConnector::new(gw2_addr)))
/// #   .in_memory_device_id()
/// #   .throttle(throttle)
///     .spawn()?;
/// let pool = GatewayPool::builder().gateway(gw1).gateway(gw2).build();
///
/// // Any healthy gateway; reads fail over, writes only when certainly not sent:
/// let patient: NhsNumber = "9990001006".parse()?;
/// let (gateway, response) = pool.call(get_patient_record::v1::Request::demographics(patient)).await?;
/// let record = get_patient_record::v1::Response::try_from(response)?;
/// # let _ = record;
/// // A specific gateway (no failover):
/// let functions = pool.call_on(&gateway, get_functions::v1::Request::new()).await?;
/// # let _ = functions;
/// pool.shutdown().await;
/// # Ok(())
/// # }
/// ```
///
/// # Failover rules
///
/// [`GatewayPool::call`] tries gateways in order of preference: healthy ones first, the least
/// loaded (idle) first, round-robin among equals; then unhealthy ones, which fail fast while
/// they back off. It moves on to the next gateway when
/// * the request was **never sent** ([`ClientError::never_sent`]: connection refused, gateway
///   backing off, client shut down), for reads and writes alike; or
/// * a **read** was sent but got no usable answer ([`ClientError::ReadFailed`]), since reads are
///   safe to repeat.
///
/// It never resends a write that may have reached SystmOne: [`ClientError::OutcomeUnknown`] is
/// returned to the caller at once, as are SystmOne's own answers ([`ClientError::Remote`]).
#[derive(Debug)]
pub struct GatewayPool {
    inner: Arc<PoolInner>,
    health_task: Option<JoinHandle<()>>,
}

impl Drop for GatewayPool {
    fn drop(&mut self) {
        if let Some(task) = self.health_task.take() {
            task.abort();
        }
    }
}

impl GatewayPool {
    /// A builder.
    pub fn builder() -> GatewayPoolBuilder {
        GatewayPoolBuilder::default()
    }

    /// The gateways, in the order they were added.
    #[must_use]
    pub fn gateways(&self) -> Vec<GatewayId> {
        self.inner
            .clients
            .iter()
            .map(|client| client.gateway().clone())
            .collect()
    }

    /// The client of one gateway.
    #[must_use]
    pub fn client(&self, gateway: &GatewayId) -> Option<&Client> {
        self.inner
            .clients
            .iter()
            .find(|client| client.gateway() == gateway)
    }

    /// A status snapshot of every gateway.
    #[must_use]
    pub fn status(&self) -> Vec<ClientStatus> {
        self.inner.clients.iter().map(Client::status).collect()
    }

    /// Sends `request` to the best available gateway, failing over as the
    /// [`GatewayPool`] docs describe. Returns which gateway answered.
    ///
    /// # Errors
    /// The first error that must not be failed over (a remote error, an outcome-unknown write),
    /// or [`ClientError::NoGateway`] when every gateway was tried.
    pub async fn call(
        &self,
        request: impl Into<Request>,
    ) -> Result<(GatewayId, Response), ClientError> {
        self.inner.call(request.into()).await
    }

    /// Sends `request` to one gateway, with no failover.
    ///
    /// # Errors
    /// [`ClientError::UnknownGateway`], or the gateway's error.
    pub async fn call_on(
        &self,
        gateway: &GatewayId,
        request: impl Into<Request>,
    ) -> Result<Response, ClientError> {
        let client = self
            .client(gateway)
            .ok_or_else(|| ClientError::UnknownGateway {
                gateway: gateway.clone(),
            })?;
        client.call(request).await
    }

    /// Probes every unhealthy gateway that is not backing off, once (see
    /// [`GatewayPoolBuilder::health_check_interval`]). Returns the gateways healthy afterwards.
    pub async fn check_health(&self) -> Vec<GatewayId> {
        self.inner.check_health().await
    }

    /// Shuts every gateway's client down (see [`Client::shutdown`]).
    pub async fn shutdown(&self) {
        if let Some(task) = &self.health_task {
            task.abort();
        }
        for client in &self.inner.clients {
            client.shutdown().await;
        }
    }
}

impl PoolInner {
    /// Gateways in order of preference.
    fn candidates(&self) -> Vec<&Client> {
        let count = self.clients.len();
        if count == 0 {
            return Vec::new();
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed) % count;
        let mut ranked: Vec<(usize, &Client, ClientStatus)> = (0..count)
            .map(|offset| {
                let index = (start + offset) % count;
                (offset, &self.clients[index], self.clients[index].status())
            })
            .collect();
        ranked.retain(|(_, _, status)| !status.shut_down);
        ranked.sort_by_key(|(offset, _, status)| {
            let load = status.queued + usize::from(status.busy);
            (
                !status.healthy,
                status.unavailable_for.is_some(),
                load,
                *offset,
            )
        });
        ranked.into_iter().map(|(_, client, _)| client).collect()
    }

    async fn call(&self, request: Request) -> Result<(GatewayId, Response), ClientError> {
        let writes = wire::writes(&request);
        let function = wire::function_name(&request);
        let candidates = self.candidates();
        if candidates.is_empty() {
            return Err(ClientError::NoGateway {
                function,
                reason: "the pool has no running gateway".to_owned(),
            });
        }
        let mut last_error: Option<ClientError> = None;
        let mut last_sent_error: Option<ClientError> = None;
        for client in candidates {
            match client.call(request.clone()).await {
                Ok(response) => return Ok((client.gateway().clone(), response)),
                Err(error) => {
                    let fail_over = error.never_sent()
                        || (!writes && matches!(error, ClientError::ReadFailed { .. }));
                    if !fail_over {
                        return Err(error);
                    }
                    warn!(gateway = %client.gateway(), function = %function, error = %error, "failing over to the next gateway");
                    if error.never_sent() {
                        last_error = Some(error);
                    } else {
                        last_sent_error = Some(error);
                    }
                }
            }
        }
        // A read that reached a gateway and failed everywhere: report that (retry is safe).
        if let Some(error) = last_sent_error {
            return Err(error);
        }
        let reason = match last_error {
            Some(error) => format!("every gateway failed; last: {error}"),
            None => "every gateway failed".to_owned(),
        };
        Err(ClientError::NoGateway { function, reason })
    }

    async fn check_health(&self) -> Vec<GatewayId> {
        let mut healthy = Vec::new();
        for client in &self.clients {
            let status = client.status();
            if status.shut_down {
                continue;
            }
            if status.healthy {
                healthy.push(client.gateway().clone());
                continue;
            }
            if status.unavailable_for.is_some() || !status.is_idle() {
                continue;
            }
            debug!(gateway = %client.gateway(), "probing an unhealthy gateway");
            match client.call(wire::health_probe()).await {
                Ok(_) => {
                    info!(gateway = %client.gateway(), "gateway healthy again");
                    healthy.push(client.gateway().clone());
                }
                Err(ClientError::Remote { .. }) => healthy.push(client.gateway().clone()),
                Err(error) => {
                    debug!(gateway = %client.gateway(), error = %error, "gateway still unhealthy")
                }
            }
        }
        healthy
    }
}
