//! Routing by practice: the writeback engine's [`Gateways`] over the hub, each operation sent
//! through the pool of the patient's practice.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::time::Duration;

use chrono::Utc;

use nhs_identifiers::{NhsNumber, OdsCode};
use systmone_writeback::client::PoolGateways;
use systmone_writeback::verify::RecordDemographics;
use systmone_writeback::{
    EntriesQuery, GatewayError, Gateways, JournalEntries, JournalWrite, WriteReceipt,
};

use crate::hub::Hub;
use crate::registry::DeviceId;
use systmone_gateway::SystmOneState;

/// Default [`PracticeGateways::with_settle_time`]: 60 s.
pub const DEFAULT_SETTLE_TIME: Duration = Duration::from_secs(60);

/// Which practice a patient is registered with: the integrator provides it (from its own
/// records, or PDS).
pub trait PracticeLookup: Send + Sync + 'static {
    /// The patient's practice, or `None` when unknown.
    fn practice_of(&self, nhs_number: &NhsNumber) -> Option<OdsCode>;
}

impl<F> PracticeLookup for F
where
    F: Fn(&NhsNumber) -> Option<OdsCode> + Send + Sync + 'static,
{
    fn practice_of(&self, nhs_number: &NhsNumber) -> Option<OdsCode> {
        self(nhs_number)
    }
}

/// A [`PracticeLookup`] the integrator fills as it learns each patient's practice.
#[derive(Debug, Default)]
pub struct PracticeMap {
    map: RwLock<HashMap<NhsNumber, OdsCode>>,
}

impl PracticeMap {
    /// An empty map.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records (or changes) a patient's practice.
    pub fn set(&self, nhs_number: NhsNumber, ods: OdsCode) {
        self.map
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(nhs_number, ods);
    }
}

impl PracticeLookup for PracticeMap {
    fn practice_of(&self, nhs_number: &NhsNumber) -> Option<OdsCode> {
        self.map
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(nhs_number)
            .cloned()
    }
}

/// The reason a note waits when its practice has no connected Gateway PC (it stays queued with
/// this text in its audit trail, and is retried with the engine's backoff).
#[must_use]
pub fn no_device_reason(ods: &OdsCode) -> String {
    format!("no Gateway PC of practice {ods} is connected")
}

/// The engine's [`Gateways`] for many practices: each call goes through the hub's pool of the
/// patient's practice (see [`Hub::pool`]); the rules of [`PoolGateways`] apply within it
/// (failover only for what was certainly not sent; reconciliation reads through every
/// connected device of that practice).
///
/// A practice with no connected device (or a patient whose practice is unknown) gets
/// [`GatewayError::RetrySafe`]: nothing was sent, so the engine leaves the note queued with the
/// reason ([`no_device_reason`]) and tries again later.
///
/// # Reconciliation and devices that dropped
///
/// When an agent drops mid-write, the SystmOne client behind it is still running and may
/// still apply the write it was handed. So the journal read that reconciliation trusts is
/// refused ([`GatewayError::RetrySafe`], the note stays "outcome unknown") while any device of
/// the practice that is not ready now was last seen less than the settle time ago
/// ([`PracticeGateways::with_settle_time`], default [`DEFAULT_SETTLE_TIME`]). A device whose
/// agent is back and verified is read like any other: its SystmOne works one request at a
/// time, so its answer comes after any write it was still applying.
#[derive(Debug)]
pub struct PracticeGateways<L> {
    hub: Hub,
    lookup: L,
    settle: Duration,
}

impl<L: PracticeLookup> PracticeGateways<L> {
    /// Routes through `hub`, finding each patient's practice with `lookup`.
    pub fn new(hub: Hub, lookup: L) -> Self {
        Self {
            hub,
            lookup,
            settle: DEFAULT_SETTLE_TIME,
        }
    }

    /// How long a device that dropped (or whose SystmOne closed) must have been gone before a
    /// journal read without it is trusted. Make it longer than SystmOne can take to apply a
    /// write it was handed.
    #[must_use]
    pub fn with_settle_time(mut self, settle: Duration) -> Self {
        self.settle = settle;
        self
    }

    /// Refuses while a device of `ods` that is not ready was seen within the settle time.
    async fn settled(&self, ods: &OdsCode) -> Result<(), GatewayError> {
        let devices = self
            .hub
            .registry()
            .devices(Some(ods.clone()))
            .await
            .map_err(|error| GatewayError::RetrySafe {
                reason: format!("the device registry cannot be read: {error}"),
            })?;
        let ready: HashSet<DeviceId> = self
            .hub
            .live_devices()
            .into_iter()
            .filter(|d| d.verified && d.systmone == SystmOneState::Available)
            .map(|d| d.device_id)
            .collect();
        let now = Utc::now();
        for device in devices {
            if ready.contains(&device.device_id) {
                continue;
            }
            let Some(seen) = device.last_seen else {
                continue;
            };
            let gone = (now - seen).to_std().unwrap_or(Duration::ZERO);
            if gone < self.settle {
                return Err(GatewayError::RetrySafe {
                    reason: format!(
                        "device {} of practice {ods} dropped {} s ago and may still apply a write; \
                         the journal is read once it has been gone {} s",
                        device.device_id,
                        gone.as_secs(),
                        self.settle.as_secs()
                    ),
                });
            }
        }
        Ok(())
    }

    /// The hub.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The lookup.
    pub fn lookup(&self) -> &L {
        &self.lookup
    }

    fn route(&self, nhs_number: &NhsNumber) -> Result<PoolGateways, GatewayError> {
        let Some(ods) = self.lookup.practice_of(nhs_number) else {
            return Err(GatewayError::RetrySafe {
                reason: "the patient's practice is not known to the integrator".into(),
            });
        };
        let pool = self.hub.pool(&ods).ok_or_else(|| GatewayError::RetrySafe {
            reason: no_device_reason(&ods),
        })?;
        Ok(PoolGateways::new(pool))
    }
}

impl<L: PracticeLookup> Gateways for PracticeGateways<L> {
    async fn read_demographics(
        &self,
        nhs_number: &NhsNumber,
    ) -> Result<RecordDemographics, GatewayError> {
        self.route(nhs_number)?.read_demographics(nhs_number).await
    }

    async fn write_note(&self, write: &JournalWrite) -> Result<WriteReceipt, GatewayError> {
        self.route(&write.nhs_number)?.write_note(write).await
    }

    async fn read_entries(&self, query: &EntriesQuery) -> Result<JournalEntries, GatewayError> {
        let pool = self.route(&query.nhs_number)?;
        if let Some(ods) = self.lookup.practice_of(&query.nhs_number) {
            self.settled(&ods).await?;
        }
        pool.read_entries(query).await
    }
}
