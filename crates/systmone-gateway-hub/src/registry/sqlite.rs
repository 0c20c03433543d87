//! [`SqliteRegistry`]: the default registry, one SQLite file (WAL) or memory.

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use nhs_identifiers::OdsCode;
use rusqlite::{Connection, OptionalExtension, params};
use systmone_gateway::Secret;

use super::{
    DeviceHealth, DeviceId, DeviceRecord, DeviceRegistry, IssuedToken, Presence, RegistryFuture,
    TokenRefusal, digest, digests_match, from_millis, millis, new_secret,
};
use crate::error::HubError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS enrolment_tokens (
    token_id    TEXT PRIMARY KEY,
    digest      TEXT NOT NULL UNIQUE,
    ods         TEXT NOT NULL,
    label       TEXT NOT NULL,
    issued_ms   INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    used_ms     INTEGER,
    revoked_ms  INTEGER
);
CREATE TABLE IF NOT EXISTS devices (
    device_id         TEXT PRIMARY KEY,
    ods               TEXT NOT NULL,
    label             TEXT NOT NULL,
    credential_digest TEXT NOT NULL,
    enrolled_ms       INTEGER NOT NULL,
    revoked_ms        INTEGER,
    connected         INTEGER NOT NULL DEFAULT 0,
    last_seen_ms      INTEGER,
    logged_on_user    TEXT,
    agent_version     TEXT,
    health            TEXT NOT NULL DEFAULT 'unknown'
);
CREATE INDEX IF NOT EXISTS devices_by_ods ON devices (ods, enrolled_ms);
";

const DEVICE_COLUMNS: &str = "device_id, ods, label, enrolled_ms, revoked_ms, connected, \
     last_seen_ms, logged_on_user, agent_version, health";

/// The device registry in SQLite: a file (WAL, `synchronous=FULL`) or memory.
#[derive(Clone, Debug)]
pub struct SqliteRegistry {
    connection: Arc<Mutex<Connection>>,
}

impl SqliteRegistry {
    /// Opens (creating if needed) the registry file at `path`.
    ///
    /// # Errors
    /// [`HubError::Storage`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, HubError> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        Self::with_connection(connection)
    }

    /// A registry in memory (tests, demos).
    ///
    /// # Errors
    /// [`HubError::Storage`].
    pub fn in_memory() -> Result<Self, HubError> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    fn with_connection(connection: Connection) -> Result<Self, HubError> {
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.execute_batch(SCHEMA)?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, HubError> + Send + 'static,
    ) -> RegistryFuture<'_, T> {
        let connection = self.connection.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut guard = connection
                    .lock()
                    .map_err(|_| HubError::Storage("registry lock poisoned".into()))?;
                work(&mut guard)
            })
            .await
            .map_err(|e| HubError::Storage(format!("registry task failed: {e}")))?
        })
    }
}

fn device_from_row(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<(String, String, DeviceRecordParts)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        DeviceRecordParts {
            label: row.get(2)?,
            enrolled_ms: row.get(3)?,
            revoked_ms: row.get(4)?,
            connected: row.get::<_, i64>(5)? != 0,
            last_seen_ms: row.get(6)?,
            logged_on_user: row.get(7)?,
            agent_version: row.get(8)?,
            health: row.get(9)?,
        },
    ))
}

/// The columns of a device row after its id and practice.
pub(super) struct DeviceRecordParts {
    pub(super) label: String,
    pub(super) enrolled_ms: i64,
    pub(super) revoked_ms: Option<i64>,
    pub(super) connected: bool,
    pub(super) last_seen_ms: Option<i64>,
    pub(super) logged_on_user: Option<String>,
    pub(super) agent_version: Option<String>,
    pub(super) health: String,
}

pub(super) fn assemble(
    (device_id, ods, parts): (String, String, DeviceRecordParts),
) -> Result<DeviceRecord, HubError> {
    Ok(DeviceRecord {
        device_id: DeviceId::new(&device_id)?,
        ods: ods
            .parse()
            .map_err(|_| HubError::Storage("a device row holds an invalid ODS code".into()))?,
        label: parts.label,
        enrolled_at: from_millis(parts.enrolled_ms),
        revoked_at: parts.revoked_ms.map(from_millis),
        connected: parts.connected,
        last_seen: parts.last_seen_ms.map(from_millis),
        logged_on_user: parts.logged_on_user,
        agent_version: parts.agent_version,
        health: DeviceHealth::parse(&parts.health),
    })
}

fn load_device(connection: &Connection, device_id: &str) -> Result<Option<DeviceRecord>, HubError> {
    connection
        .query_row(
            &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE device_id = ?1"),
            params![device_id],
            device_from_row,
        )
        .optional()?
        .map(assemble)
        .transpose()
}

impl DeviceRegistry for SqliteRegistry {
    fn issue_token(
        &self,
        ods: OdsCode,
        label: String,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> RegistryFuture<'_, IssuedToken> {
        self.run(move |connection| {
            let token = new_secret()?;
            let token_id = DeviceId::generate().to_string();
            connection.execute(
                "INSERT INTO enrolment_tokens (token_id, digest, ods, label, issued_ms, expires_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    token_id,
                    digest(&token),
                    ods.as_str(),
                    label,
                    millis(now),
                    millis(expires_at)
                ],
            )?;
            Ok(IssuedToken {
                token_id,
                token,
                ods,
                expires_at,
            })
        })
    }

    fn revoke_token(&self, token_id: String, now: DateTime<Utc>) -> RegistryFuture<'_, ()> {
        self.run(move |connection| {
            connection.execute(
                "UPDATE enrolment_tokens SET revoked_ms = ?2 WHERE token_id = ?1 AND revoked_ms IS NULL",
                params![token_id, millis(now)],
            )?;
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
        self.run(move |connection| {
            let transaction = connection.transaction()?;
            let token_digest = digest(&token);
            let row: Option<(String, i64, Option<i64>, Option<i64>)> = transaction
                .query_row(
                    "SELECT ods, expires_ms, used_ms, revoked_ms FROM enrolment_tokens WHERE digest = ?1",
                    params![token_digest],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
                )
                .optional()?;
            let Some((ods, expires_ms, used_ms, revoked_ms)) = row else {
                return Err(HubError::Token(TokenRefusal::Unknown));
            };
            if revoked_ms.is_some() {
                return Err(HubError::Token(TokenRefusal::Revoked));
            }
            if used_ms.is_some() {
                return Err(HubError::Token(TokenRefusal::Replayed));
            }
            if expires_ms <= millis(now) {
                return Err(HubError::Token(TokenRefusal::Expired));
            }
            let used = transaction.execute(
                "UPDATE enrolment_tokens SET used_ms = ?2 WHERE digest = ?1 AND used_ms IS NULL",
                params![token_digest, millis(now)],
            )?;
            if used != 1 {
                return Err(HubError::Token(TokenRefusal::Replayed));
            }
            let device_id = device_id.unwrap_or_else(DeviceId::generate);
            let credential = new_secret()?;
            let inserted = transaction.execute(
                "INSERT INTO devices (device_id, ods, label, credential_digest, enrolled_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (device_id) DO NOTHING",
                params![device_id.as_str(), ods, label, digest(&credential), millis(now)],
            )?;
            if inserted != 1 {
                // Dropping the transaction rolls back: the token stays unused.
                return Err(HubError::DeviceIdTaken);
            }
            let record = load_device(&transaction, device_id.as_str())?
                .ok_or_else(|| HubError::Storage("enrolled device vanished".into()))?;
            transaction.commit()?;
            Ok((record, credential))
        })
    }

    fn authenticate(
        &self,
        device_id: DeviceId,
        credential: Secret,
    ) -> RegistryFuture<'_, DeviceRecord> {
        self.run(move |connection| {
            let stored: Option<String> = connection
                .query_row(
                    "SELECT credential_digest FROM devices WHERE device_id = ?1",
                    params![device_id.as_str()],
                    |row| row.get(0),
                )
                .optional()?;
            let Some(stored) = stored else {
                return Err(HubError::BadCredential);
            };
            if !digests_match(&stored, &digest(&credential)) {
                return Err(HubError::BadCredential);
            }
            let record =
                load_device(connection, device_id.as_str())?.ok_or(HubError::BadCredential)?;
            if record.revoked() {
                return Err(HubError::Revoked);
            }
            Ok(record)
        })
    }

    fn revoke_device(&self, device_id: DeviceId, now: DateTime<Utc>) -> RegistryFuture<'_, ()> {
        self.run(move |connection| {
            connection.execute(
                "UPDATE devices SET revoked_ms = COALESCE(revoked_ms, ?2) WHERE device_id = ?1",
                params![device_id.as_str(), millis(now)],
            )?;
            Ok(())
        })
    }

    fn update_presence(&self, device_id: DeviceId, presence: Presence) -> RegistryFuture<'_, ()> {
        self.run(move |connection| {
            connection.execute(
                "UPDATE devices SET connected = ?2, last_seen_ms = ?3,
                     logged_on_user = COALESCE(?4, logged_on_user),
                     agent_version = COALESCE(?5, agent_version), health = ?6
                 WHERE device_id = ?1",
                params![
                    device_id.as_str(),
                    i64::from(presence.connected),
                    millis(presence.last_seen),
                    presence.logged_on_user,
                    presence.agent_version,
                    presence.health.as_str()
                ],
            )?;
            Ok(())
        })
    }

    fn device(&self, device_id: DeviceId) -> RegistryFuture<'_, Option<DeviceRecord>> {
        self.run(move |connection| load_device(connection, device_id.as_str()))
    }

    fn devices(&self, ods: Option<OdsCode>) -> RegistryFuture<'_, Vec<DeviceRecord>> {
        self.run(move |connection| {
            let ods = ods.map(|o| o.as_str().to_owned());
            let mut statement = connection.prepare(&format!(
                "SELECT {DEVICE_COLUMNS} FROM devices WHERE ?1 IS NULL OR ods = ?1
                 ORDER BY enrolled_ms, device_id"
            ))?;
            let rows = statement
                .query_map(params![ods], device_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().map(assemble).collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_registry_keeps_the_contract() {
        let registry = SqliteRegistry::in_memory().unwrap();
        super::super::contract::run(&registry).await;
    }

    #[tokio::test]
    async fn a_registry_file_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.sqlite");
        let now = Utc::now();
        let ods: OdsCode = "B11111".parse().unwrap();
        let device = {
            let registry = SqliteRegistry::open(&path).unwrap();
            let token = registry
                .issue_token(
                    ods.clone(),
                    "l".into(),
                    now,
                    now + chrono::Duration::hours(1),
                )
                .await
                .unwrap();
            registry
                .enrol(token.token, "PC".into(), None, now)
                .await
                .unwrap()
        };
        let registry = SqliteRegistry::open(&path).unwrap();
        let found = registry
            .authenticate(device.0.device_id, device.1)
            .await
            .unwrap();
        assert_eq!(found.ods, ods);
    }
}
