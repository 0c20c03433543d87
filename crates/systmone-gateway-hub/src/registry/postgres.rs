//! [`PostgresRegistry`]: the registry for a fleet of hub instances sharing one database.
//!
//! Driver: `tokio-postgres` pooled by `deadpool-postgres` (the workspace's choice; sqlx's
//! bundled SQLite cannot link beside rusqlite). Tables are created on first use, in the
//! connection's `search_path` schema.

use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use nhs_identifiers::OdsCode;
use systmone_gateway::Secret;
use tokio_postgres::NoTls;

use super::sqlite::{DeviceRecordParts, assemble};
use super::{
    DeviceId, DeviceRecord, DeviceRegistry, IssuedToken, Presence, RegistryFuture, TokenRefusal,
    digest, digests_match, millis, new_secret,
};
use crate::error::HubError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS enrolment_tokens (
    token_id    TEXT PRIMARY KEY,
    digest      TEXT NOT NULL UNIQUE,
    ods         TEXT NOT NULL,
    label       TEXT NOT NULL,
    issued_ms   BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL,
    used_ms     BIGINT,
    revoked_ms  BIGINT
);
CREATE TABLE IF NOT EXISTS devices (
    device_id         TEXT PRIMARY KEY,
    ods               TEXT NOT NULL,
    label             TEXT NOT NULL,
    credential_digest TEXT NOT NULL,
    enrolled_ms       BIGINT NOT NULL,
    revoked_ms        BIGINT,
    connected         BOOLEAN NOT NULL DEFAULT FALSE,
    last_seen_ms      BIGINT,
    logged_on_user    TEXT,
    agent_version     TEXT,
    health            TEXT NOT NULL DEFAULT 'unknown'
);
CREATE INDEX IF NOT EXISTS devices_by_ods ON devices (ods, enrolled_ms);
";

/// Serialises schema creation between hubs starting at once.
const SCHEMA_LOCK: i64 = 0x6e68_7369_6777;

const DEVICE_COLUMNS: &str = "device_id, ods, label, enrolled_ms, revoked_ms, connected, \
     last_seen_ms, logged_on_user, agent_version, health";

/// The device registry in PostgreSQL.
#[derive(Clone)]
pub struct PostgresRegistry {
    pool: Pool,
}

impl std::fmt::Debug for PostgresRegistry {
    /// The URL (which may hold a password) is never shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresRegistry").finish_non_exhaustive()
    }
}

fn pg(error: tokio_postgres::Error) -> HubError {
    HubError::Storage(format!("PostgreSQL: {error}"))
}

fn pool_error(error: deadpool_postgres::PoolError) -> HubError {
    HubError::Storage(format!("PostgreSQL pool: {error}"))
}

fn row_parts(row: &tokio_postgres::Row) -> Result<(String, String, DeviceRecordParts), HubError> {
    Ok((
        row.try_get(0).map_err(pg)?,
        row.try_get(1).map_err(pg)?,
        DeviceRecordParts {
            label: row.try_get(2).map_err(pg)?,
            enrolled_ms: row.try_get(3).map_err(pg)?,
            revoked_ms: row.try_get(4).map_err(pg)?,
            connected: row.try_get(5).map_err(pg)?,
            last_seen_ms: row.try_get(6).map_err(pg)?,
            logged_on_user: row.try_get(7).map_err(pg)?,
            agent_version: row.try_get(8).map_err(pg)?,
            health: row.try_get(9).map_err(pg)?,
        },
    ))
}

impl PostgresRegistry {
    /// Connects to `url` (a libpq-style URL; `options=-c search_path=…` selects a schema) and
    /// creates the tables if needed.
    ///
    /// # Errors
    /// [`HubError::Storage`].
    pub async fn connect(url: &str) -> Result<Self, HubError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|_| HubError::Storage("invalid PostgreSQL URL".into()))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(8)
            .build()
            .map_err(|e| HubError::Storage(format!("PostgreSQL pool: {e}")))?;
        let mut client = pool.get().await.map_err(pool_error)?;
        let transaction = client.transaction().await.map_err(pg)?;
        transaction
            .execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .await
            .map_err(pg)?;
        transaction.batch_execute(SCHEMA).await.map_err(pg)?;
        transaction.commit().await.map_err(pg)?;
        Ok(Self { pool })
    }

    async fn load(&self, device_id: &str) -> Result<Option<DeviceRecord>, HubError> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let row = client
            .query_opt(
                &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE device_id = $1"),
                &[&device_id],
            )
            .await
            .map_err(pg)?;
        row.map(|row| row_parts(&row).and_then(assemble))
            .transpose()
    }
}

impl DeviceRegistry for PostgresRegistry {
    fn issue_token(
        &self,
        ods: OdsCode,
        label: String,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> RegistryFuture<'_, IssuedToken> {
        Box::pin(async move {
            let token = new_secret()?;
            let token_id = DeviceId::generate().to_string();
            let client = self.pool.get().await.map_err(pool_error)?;
            client
                .execute(
                    "INSERT INTO enrolment_tokens (token_id, digest, ods, label, issued_ms, expires_ms)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[&token_id, &digest(&token), &ods.as_str(), &label, &millis(now), &millis(expires_at)],
                )
                .await
                .map_err(pg)?;
            Ok(IssuedToken {
                token_id,
                token,
                ods,
                expires_at,
            })
        })
    }

    fn revoke_token(&self, token_id: String, now: DateTime<Utc>) -> RegistryFuture<'_, ()> {
        Box::pin(async move {
            let client = self.pool.get().await.map_err(pool_error)?;
            client
                .execute(
                    "UPDATE enrolment_tokens SET revoked_ms = $2 WHERE token_id = $1 AND revoked_ms IS NULL",
                    &[&token_id, &millis(now)],
                )
                .await
                .map_err(pg)?;
            Ok(())
        })
    }

    fn enrol(
        &self,
        token: Secret,
        label: String,
        device_id: Option<DeviceId>,
        now: DateTime<Utc>,
    ) -> RegistryFuture<'_, (DeviceRecord, Secret)> {
        Box::pin(async move {
            let mut client = self.pool.get().await.map_err(pool_error)?;
            let transaction = client.transaction().await.map_err(pg)?;
            let token_digest = digest(&token);
            // FOR UPDATE: two hubs racing on one token serialise here; the second sees it used.
            let row = transaction
                .query_opt(
                    "SELECT ods, expires_ms, used_ms, revoked_ms FROM enrolment_tokens
                     WHERE digest = $1 FOR UPDATE",
                    &[&token_digest],
                )
                .await
                .map_err(pg)?;
            let Some(row) = row else {
                return Err(HubError::Token(TokenRefusal::Unknown));
            };
            let ods: String = row.try_get(0).map_err(pg)?;
            let expires_ms: i64 = row.try_get(1).map_err(pg)?;
            let used_ms: Option<i64> = row.try_get(2).map_err(pg)?;
            let revoked_ms: Option<i64> = row.try_get(3).map_err(pg)?;
            if revoked_ms.is_some() {
                return Err(HubError::Token(TokenRefusal::Revoked));
            }
            if used_ms.is_some() {
                return Err(HubError::Token(TokenRefusal::Replayed));
            }
            if expires_ms <= millis(now) {
                return Err(HubError::Token(TokenRefusal::Expired));
            }
            transaction
                .execute(
                    "UPDATE enrolment_tokens SET used_ms = $2 WHERE digest = $1",
                    &[&token_digest, &millis(now)],
                )
                .await
                .map_err(pg)?;
            let device_id = device_id.unwrap_or_else(DeviceId::generate);
            let credential = new_secret()?;
            let row = transaction
                .query_opt(
                    &format!(
                        "INSERT INTO devices (device_id, ods, label, credential_digest, enrolled_ms)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (device_id) DO NOTHING RETURNING {DEVICE_COLUMNS}"
                    ),
                    &[
                        &device_id.as_str(),
                        &ods,
                        &label,
                        &digest(&credential),
                        &millis(now),
                    ],
                )
                .await
                .map_err(pg)?;
            // Dropping the transaction rolls back: the token stays unused.
            let row = row.ok_or(HubError::DeviceIdTaken)?;
            let record = assemble(row_parts(&row)?)?;
            transaction.commit().await.map_err(pg)?;
            Ok((record, credential))
        })
    }

    fn authenticate(
        &self,
        device_id: DeviceId,
        credential: Secret,
    ) -> RegistryFuture<'_, DeviceRecord> {
        Box::pin(async move {
            let client = self.pool.get().await.map_err(pool_error)?;
            let stored: Option<String> = client
                .query_opt(
                    "SELECT credential_digest FROM devices WHERE device_id = $1",
                    &[&device_id.as_str()],
                )
                .await
                .map_err(pg)?
                .map(|row| row.try_get(0))
                .transpose()
                .map_err(pg)?;
            drop(client);
            let Some(stored) = stored else {
                return Err(HubError::BadCredential);
            };
            if !digests_match(&stored, &digest(&credential)) {
                return Err(HubError::BadCredential);
            }
            let record = self
                .load(device_id.as_str())
                .await?
                .ok_or(HubError::BadCredential)?;
            if record.revoked() {
                return Err(HubError::Revoked);
            }
            Ok(record)
        })
    }

    fn revoke_device(&self, device_id: DeviceId, now: DateTime<Utc>) -> RegistryFuture<'_, ()> {
        Box::pin(async move {
            let client = self.pool.get().await.map_err(pool_error)?;
            client
                .execute(
                    "UPDATE devices SET revoked_ms = COALESCE(revoked_ms, $2) WHERE device_id = $1",
                    &[&device_id.as_str(), &millis(now)],
                )
                .await
                .map_err(pg)?;
            Ok(())
        })
    }

    fn update_presence(&self, device_id: DeviceId, presence: Presence) -> RegistryFuture<'_, ()> {
        Box::pin(async move {
            let client = self.pool.get().await.map_err(pool_error)?;
            client
                .execute(
                    "UPDATE devices SET connected = $2, last_seen_ms = $3,
                         logged_on_user = COALESCE($4, logged_on_user),
                         agent_version = COALESCE($5, agent_version), health = $6
                     WHERE device_id = $1",
                    &[
                        &device_id.as_str(),
                        &presence.connected,
                        &millis(presence.last_seen),
                        &presence.logged_on_user,
                        &presence.agent_version,
                        &presence.health.as_str(),
                    ],
                )
                .await
                .map_err(pg)?;
            Ok(())
        })
    }

    fn device(&self, device_id: DeviceId) -> RegistryFuture<'_, Option<DeviceRecord>> {
        Box::pin(async move { self.load(device_id.as_str()).await })
    }

    fn devices(&self, ods: Option<OdsCode>) -> RegistryFuture<'_, Vec<DeviceRecord>> {
        Box::pin(async move {
            let client = self.pool.get().await.map_err(pool_error)?;
            let ods = ods.map(|o| o.as_str().to_owned());
            let rows = client
                .query(
                    &format!(
                        "SELECT {DEVICE_COLUMNS} FROM devices WHERE $1::TEXT IS NULL OR ods = $1
                         ORDER BY enrolled_ms, device_id"
                    ),
                    &[&ods],
                )
                .await
                .map_err(pg)?;
            rows.iter()
                .map(|row| row_parts(row).and_then(assemble))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn postgres_registry_keeps_the_contract() {
        let Some(url) = nhs_test_support::postgres_url() else {
            return;
        };
        let url = nhs_test_support::fresh_postgres_schema(&url, "gateway_registry").await;
        let registry = PostgresRegistry::connect(&url).await.unwrap();
        super::super::contract::run(&registry).await;
        // A second hub on the same schema sees the same devices.
        let again = PostgresRegistry::connect(&url).await.unwrap();
        assert_eq!(again.devices(None).await.unwrap().len(), 3);
    }
}
