//! Routing by practice: the writeback engine's [`Gateways`] over the hub, each operation sent
//! through the pool of the patient's practice.

use std::collections::HashMap;
use std::sync::RwLock;

use nhs_identifiers::{NhsNumber, OdsCode};
use systmone_writeback::client::PoolGateways;
use systmone_writeback::verify::RecordDemographics;
use systmone_writeback::{
    EntriesQuery, GatewayError, Gateways, JournalEntries, JournalWrite, WriteReceipt,
};

use crate::hub::Hub;

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
#[derive(Debug)]
pub struct PracticeGateways<L> {
    hub: Hub,
    lookup: L,
}

impl<L: PracticeLookup> PracticeGateways<L> {
    /// Routes through `hub`, finding each patient's practice with `lookup`.
    pub fn new(hub: Hub, lookup: L) -> Self {
        Self { hub, lookup }
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
        self.route(&query.nhs_number)?.read_entries(query).await
    }
}
