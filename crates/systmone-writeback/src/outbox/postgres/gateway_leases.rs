//! Gateway ownership: one lease row per Gateway PC, with a fencing token (the parent module's
//! docs say why a row rather than an advisory lock).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::schema::DB_NOW;
use super::{PostgresOutbox, duration_ms, pg_error, pool_error};
use crate::error::WritebackError;
use crate::outbox::WorkerId;

/// A worker's lease on one Gateway PC (see [`PostgresOutbox::acquire_gateway`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct GatewayLease {
    /// The gateway.
    pub gateway: String,
    /// The owner.
    pub worker: WorkerId,
    /// The fencing token: raised by every takeover.
    pub token: i64,
}

impl PostgresOutbox {
    /// Takes the lease on `gateway` for `worker` if nobody holds a live one, for `lease` from
    /// now (on the lease clock). `None`: another worker holds it.
    ///
    /// The new owner must assume a request was just sent through the gateway (a fresh
    /// `systmone-client` client does: its start counts as a send), and the old owner stops
    /// using it before its lease ends, so SystmOne's 1 s and 30 s limits hold across the
    /// handover.
    pub async fn acquire_gateway(
        &self,
        gateway: &str,
        worker: &WorkerId,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<GatewayLease>, WritebackError> {
        let client = self.inner.pool.get().await.map_err(pool_error)?;
        let row = client
            .query_opt(
                &format!(
                    "WITH c AS (SELECT COALESCE($4::BIGINT, {DB_NOW}) AS now) \
                     INSERT INTO gateway_leases (gateway, owner, token, until_ms, since_ms) \
                     SELECT $1, $2, 1, c.now + $3, c.now FROM c \
                     ON CONFLICT (gateway) DO UPDATE SET owner = EXCLUDED.owner, \
                     token = gateway_leases.token + 1, until_ms = EXCLUDED.until_ms, \
                     since_ms = EXCLUDED.since_ms \
                     WHERE gateway_leases.owner IS NULL OR gateway_leases.until_ms <= EXCLUDED.since_ms \
                     RETURNING token"
                ),
                &[
                    &gateway,
                    &worker.as_str(),
                    &duration_ms(lease),
                    &self.clock_param(now),
                ],
            )
            .await
            .map_err(pg_error)?;
        Ok(row.map(|row| GatewayLease {
            gateway: gateway.to_owned(),
            worker: worker.clone(),
            token: row.get(0),
        }))
    }

    /// Extends a gateway lease by `lease` from now if it is still this one (same token).
    /// `false`: it expired and another worker took the gateway over; stop using it.
    pub async fn renew_gateway(
        &self,
        held: &GatewayLease,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool, WritebackError> {
        let client = self.inner.pool.get().await.map_err(pool_error)?;
        let changed = client
            .execute(
                &format!(
                    "UPDATE gateway_leases SET until_ms = COALESCE($4::BIGINT, {DB_NOW}) + $3 \
                     WHERE gateway = $1 AND token = $2 AND owner = $5"
                ),
                &[
                    &held.gateway,
                    &held.token,
                    &duration_ms(lease),
                    &self.clock_param(now),
                    &held.worker.as_str(),
                ],
            )
            .await
            .map_err(pg_error)?;
        Ok(changed == 1)
    }

    /// Gives a gateway lease up (another worker may take it at once).
    pub async fn release_gateway(&self, held: &GatewayLease) -> Result<(), WritebackError> {
        let client = self.inner.pool.get().await.map_err(pool_error)?;
        client
            .execute(
                "UPDATE gateway_leases SET owner = NULL, until_ms = 0 \
                 WHERE gateway = $1 AND token = $2",
                &[&held.gateway, &held.token],
            )
            .await
            .map_err(pg_error)?;
        Ok(())
    }

    /// Who holds which gateway now: (gateway, owner, token, lease end in ms on the lease
    /// clock), ordered by gateway.
    pub async fn gateway_owners(
        &self,
    ) -> Result<Vec<(String, Option<String>, i64, i64)>, WritebackError> {
        let client = self.inner.pool.get().await.map_err(pool_error)?;
        let rows = client
            .query(
                "SELECT gateway, owner, token, until_ms FROM gateway_leases ORDER BY gateway",
                &[],
            )
            .await
            .map_err(pg_error)?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }
}
