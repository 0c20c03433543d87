//! [`Gateways`] for a fleet of workers sharing a [`PostgresOutbox`]: each worker drives only the
//! Gateway PCs it holds a lease on, so exactly one worker drives each gateway at a time.
//!
//! Ownership is a lease row per gateway ([`PostgresOutbox::acquire_gateway`]). A worker keeps a
//! gateway by renewing the lease before half of it has passed, and stops using it, by its own
//! monotonic clock, `margin` before the lease could have ended (measured from when the renewal
//! was sent, so a slow answer only shortens its use). Another worker takes a gateway over only
//! after the lease ended on the lease clock, with a new `systmone-client` client whose start
//! counts as a request, so SystmOne's 1 s and 30 s limits hold across the handover.
//!
//! A reconciliation read goes through every gateway this worker owns. A note another worker
//! was writing is reconciled here only after that worker's claim expired (see
//! [`crate::EngineConfig::lease`]), by which time any write it sent has been applied or never
//! will be.

use std::sync::Arc;
use std::time::Duration;

use nhs_identifiers::NhsNumber;
use systmone_client::{Client, ClientError, GatewayPool};
use tokio::time::Instant;

use crate::client::PoolGateways;
use crate::clock::Clock;
use crate::gateway::{
    EntriesQuery, GatewayError, Gateways, JournalEntries, JournalWrite, WriteReceipt,
};
use crate::outbox::{GatewayLease, PostgresOutbox, WorkerId};
use crate::verify::RecordDemographics;

/// Makes a fresh client for a gateway this worker has just taken over.
pub type ConnectFn = Box<dyn Fn(&str) -> Result<Client, ClientError> + Send + Sync>;

/// Gateway-lease settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FleetConfig {
    /// How long a gateway lease lasts without renewal.
    pub lease: Duration,
    /// How long before its lease could end a worker stops sending through a gateway: longer
    /// than a request may wait in the client's queue before it is sent.
    pub margin: Duration,
    /// The most gateways one worker owns at once.
    pub max_owned: usize,
}

impl Default for FleetConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            margin: Duration::from_secs(10),
            max_owned: 1,
        }
    }
}

impl FleetConfig {
    /// Settings with this lease, margin and share.
    pub fn new(lease: Duration, margin: Duration, max_owned: usize) -> Self {
        Self {
            lease,
            margin: margin.min(lease / 2),
            max_owned: max_owned.max(1),
        }
    }
}

struct Owned {
    lease: GatewayLease,
    client: Client,
    /// When this worker must stop using the gateway unless renewed.
    usable_until: Instant,
    /// When to renew.
    renew_at: Instant,
}

struct State {
    owned: Vec<Owned>,
    pool: Option<Arc<PoolGateways>>,
    /// When to look for a free gateway next.
    next_acquire: Option<Instant>,
}

/// [`Gateways`] over the gateways this worker holds leases on (see the module docs).
pub struct FleetGateways {
    outbox: PostgresOutbox,
    worker: WorkerId,
    config: FleetConfig,
    gateways: Vec<String>,
    connect: ConnectFn,
    clock: Arc<dyn Clock>,
    state: tokio::sync::Mutex<State>,
}

impl std::fmt::Debug for FleetGateways {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetGateways")
            .field("worker", &self.worker)
            .field("gateways", &self.gateways)
            .finish_non_exhaustive()
    }
}

impl FleetGateways {
    /// Gateways named `gateways` (the organisation's Gateway PCs, in order of preference),
    /// leased through `outbox` for `worker`; `connect` makes a client for a gateway when this
    /// worker takes it; `clock` gives the time for leases on [`crate::LeaseClock::Caller`].
    pub fn new(
        outbox: PostgresOutbox,
        worker: WorkerId,
        config: FleetConfig,
        gateways: Vec<String>,
        connect: ConnectFn,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            outbox,
            worker,
            config,
            gateways,
            connect,
            clock,
            state: tokio::sync::Mutex::new(State {
                owned: Vec::new(),
                pool: None,
                next_acquire: None,
            }),
        }
    }

    /// The gateways this worker owns now.
    pub async fn owned(&self) -> Vec<String> {
        let state = self.state.lock().await;
        state
            .owned
            .iter()
            .map(|owned| owned.lease.gateway.clone())
            .collect()
    }

    /// Renews, drops and takes leases as due, and returns the pool of gateways this worker may
    /// use now. A worker below its share takes at most one free gateway per look (and looks
    /// every quarter lease), so workers starting together spread the gateways between them.
    pub async fn refresh(&self) -> Result<Arc<PoolGateways>, GatewayError> {
        Ok(self.current().await?.0)
    }

    /// [`Self::refresh`], with the instant by which every request through the pool must have
    /// been sent (the earliest end of use of an owned gateway).
    async fn current(&self) -> Result<(Arc<PoolGateways>, Instant), GatewayError> {
        let mut state = self.state.lock().await;
        let mut changed = false;
        let mut kept = Vec::new();
        for mut owned in std::mem::take(&mut state.owned) {
            let now = Instant::now();
            if now >= owned.renew_at {
                let sent = Instant::now();
                match self
                    .outbox
                    .renew_gateway(&owned.lease, self.config.lease, self.clock.now())
                    .await
                {
                    Ok(true) => {
                        owned.usable_until = sent + self.config.lease - self.config.margin;
                        owned.renew_at = sent + self.config.lease / 2;
                    }
                    Ok(false) => {
                        tracing::warn!(gateway = %owned.lease.gateway, "gateway lease taken over; no longer using it");
                        owned.usable_until = now;
                    }
                    Err(error) => {
                        tracing::warn!(gateway = %owned.lease.gateway, %error, "gateway lease not renewed");
                    }
                }
            }
            if Instant::now() >= owned.usable_until {
                changed = true;
                let client = owned.client;
                tokio::spawn(async move { client.shutdown().await });
            } else {
                kept.push(owned);
            }
        }
        state.owned = kept;
        let look = state.next_acquire.is_none_or(|at| Instant::now() >= at);
        if state.owned.len() < self.config.max_owned && look {
            state.next_acquire = Some(Instant::now() + self.config.lease / 4);
            let before = state.owned.len();
            for gateway in &self.gateways {
                if state.owned.len() > before {
                    break;
                }
                if state.owned.iter().any(|o| &o.lease.gateway == gateway) {
                    continue;
                }
                let sent = Instant::now();
                let lease = match self
                    .outbox
                    .acquire_gateway(gateway, &self.worker, self.config.lease, self.clock.now())
                    .await
                {
                    Ok(Some(lease)) => lease,
                    Ok(None) => continue,
                    Err(error) => {
                        tracing::warn!(%gateway, %error, "gateway lease not taken");
                        continue;
                    }
                };
                match (self.connect)(gateway) {
                    Ok(client) => {
                        tracing::info!(%gateway, worker = %self.worker, token = lease.token, "gateway taken");
                        state.owned.push(Owned {
                            lease,
                            client,
                            usable_until: sent + self.config.lease - self.config.margin,
                            renew_at: sent + self.config.lease / 2,
                        });
                        changed = true;
                    }
                    Err(error) => {
                        tracing::warn!(%gateway, %error, "no client for a leased gateway");
                        let _ = self.outbox.release_gateway(&lease).await;
                    }
                }
            }
        }
        if changed || state.pool.is_none() {
            state.pool = if state.owned.is_empty() {
                None
            } else {
                // No background health checks: a probe would be a request sent without looking
                // at the lease (an idle worker does not renew, so its lease may have ended).
                let mut builder = GatewayPool::builder().without_health_checks();
                for owned in &state.owned {
                    builder = builder.gateway(owned.client.clone());
                }
                Some(Arc::new(PoolGateways::new(builder.build())))
            };
        }
        let deadline = state.owned.iter().map(|o| o.usable_until).min();
        match (state.pool.clone(), deadline) {
            (Some(pool), Some(deadline)) => Ok((pool, deadline)),
            _ => Err(GatewayError::RetrySafe {
                reason: "this worker owns no gateway now".into(),
            }),
        }
    }

    /// Stops every client and gives every lease up.
    pub async fn shutdown(&self) {
        let mut state = self.state.lock().await;
        for owned in std::mem::take(&mut state.owned) {
            owned.client.shutdown().await;
            let _ = self.outbox.release_gateway(&owned.lease).await;
        }
        state.pool = None;
    }
}

/// Every call is bounded by the end of use of the gateways it may go through: a request still
/// waiting in a client's queue then is withdrawn (the client never sends a request nobody waits
/// for), so nothing is sent through a gateway whose lease may have ended.
impl Gateways for FleetGateways {
    async fn read_demographics(
        &self,
        nhs_number: &NhsNumber,
    ) -> Result<RecordDemographics, GatewayError> {
        let (pool, deadline) = self.current().await?;
        tokio::time::timeout_at(deadline, pool.read_demographics(nhs_number))
            .await
            .unwrap_or_else(|_| Err(lease_ended()))
    }

    async fn write_note(&self, write: &JournalWrite) -> Result<WriteReceipt, GatewayError> {
        let (pool, deadline) = self.current().await?;
        tokio::time::timeout_at(deadline, pool.write_note(write))
            .await
            .unwrap_or_else(|_| {
                // It may have been on the wire: reconcile before any resend.
                Err(GatewayError::OutcomeUnknown {
                    reason: "the gateway lease ended before the write was answered".into(),
                })
            })
    }

    async fn read_entries(&self, query: &EntriesQuery) -> Result<JournalEntries, GatewayError> {
        let (pool, deadline) = self.current().await?;
        tokio::time::timeout_at(deadline, pool.read_entries(query))
            .await
            .unwrap_or_else(|_| Err(lease_ended()))
    }
}

fn lease_ended() -> GatewayError {
    GatewayError::RetrySafe {
        reason: "the gateway lease ended before the read was answered".into(),
    }
}
