//! The shared outbox in PostgreSQL: several workers (processes) share one queue.
//!
//! Driver: `tokio-postgres` with a `deadpool-postgres` pool. sqlx was the alternative; its
//! SQLite driver bundles a second SQLite that cannot be linked beside rusqlite's (the embedded
//! store), and it compiles far heavier. tokio-postgres is async, light, and exposes exactly the
//! SQL we write.
//!
//! - A note is committed before [`Outbox::accept`](crate::Outbox::accept) returns.
//!   Concurrent accepts are **group committed**: one task takes every accept waiting and
//!   commits them in one transaction (one WAL flush), so acceptance is not bounded by one
//!   flush per note.
//! - Workers claim due notes with `SELECT … FOR UPDATE SKIP LOCKED` (two workers never claim
//!   one note) and set a lease (`lease_owner`, `lease_until_ms`) with a **fencing token**
//!   (`lease_token`, raised by every claim). Every later change is an `UPDATE … WHERE
//!   lease_token = $claim`: a worker whose lease expired and whose note another worker claimed
//!   changes nothing ([`WritebackError::LeaseLost`]) and so never sends that note's write.
//! - Leases run on the **database's clock** ([`LeaseClock::Database`], the default), so clock
//!   skew between workers does not matter. [`LeaseClock::Caller`] uses the engine's injected
//!   clock instead (tests under tokio's paused time, where every engine shares one clock).
//! - **Gateway ownership** ([`PostgresOutbox::acquire_gateway`]): one lease row per Gateway PC
//!   in `gateway_leases`, with a fencing token. A lease row rather than an advisory lock:
//!   a session-level advisory lock lives on one pooled connection and vanishes the moment that
//!   connection drops (a network blip), without the holder knowing, so two workers could drive
//!   one gateway; a lease row has an expiry both sides can reason about (the holder stops using
//!   the gateway before it, the next owner takes over only after it), survives reconnects, and
//!   shows who owns what.
//! - A lost connection is [`WritebackError::DatabaseUnavailable`] (retryable).
//!
//! Times are UTC milliseconds (`BIGINT`), dates ISO text, as in the SQLite store.

mod config;
mod gateway_leases;
mod group_commit;
mod queue;
mod schema;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

pub use config::{LeaseClock, PostgresConfig};
pub use gateway_leases::GatewayLease;

use super::shared::IntoOutbox;
use crate::error::WritebackError;
use crate::reference::new_instance_id;
use group_commit::Group;
use schema::{LAST_TABLE, SCHEMA, SCHEMA_LOCK};

/// A shared, durable [`Outbox`](crate::Outbox) in PostgreSQL. Cheap to clone (one pool).
///
/// Claims use `FOR UPDATE SKIP LOCKED` under a lease with a fencing token; leases run on the
/// database's clock; concurrent accepts are group committed; gateway leases give each Gateway
/// PC one owner (see [`crate::FleetGateways`]).
///
/// ```no_run
/// # async fn demo<G: systmone_writeback::Gateways>(gateways: G) -> Result<(), Box<dyn std::error::Error>> {
/// use systmone_writeback::*;
///
/// let outbox = PostgresOutbox::connect(
///     "postgres://writeback@db.example.internal:5432/writeback",
///     PostgresConfig::default(),
/// )
/// .await?;
/// let worker = WorkerId::new("host-a-1").ok_or("worker id")?;
/// let engine = WritebackEngine::new(
///     outbox,
///     gateways,
///     TokioWallClock::from_system_time(),
///     EngineConfig::default().with_worker(worker),
/// );
/// // Several processes may run this against the same database.
/// let running = engine.spawn_worker();
/// # running.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresOutbox {
    inner: Arc<PgInner>,
}

impl std::fmt::Debug for PostgresOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresOutbox")
            .field("instance", &self.inner.instance)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

struct PgInner {
    pool: Pool,
    instance: String,
    config: PostgresConfig,
    group: Mutex<Group>,
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A driver error as a [`WritebackError`]: a server's answer is [`WritebackError::Storage`];
/// anything else (connection refused or lost, IO) is [`WritebackError::DatabaseUnavailable`].
/// The text is passed through the NHS-number redactor (a server error's detail may quote a row).
pub(super) fn pg_error(error: tokio_postgres::Error) -> WritebackError {
    // A server error displays as "db error" alone: add its SQLSTATE and message (never its
    // detail, which may quote a row).
    let text = match error.as_db_error() {
        Some(db) => format!("{error}: {} {}", db.code().code(), db.message()),
        None => error.to_string(),
    };
    let text = nhs_identifiers::scan::redact(&text);
    if error.code().is_some() && !error.is_closed() {
        WritebackError::Storage(text)
    } else {
        WritebackError::DatabaseUnavailable(text)
    }
}

pub(super) fn pool_error(error: deadpool_postgres::PoolError) -> WritebackError {
    match error {
        deadpool_postgres::PoolError::Backend(error) => pg_error(error),
        other => {
            WritebackError::DatabaseUnavailable(nhs_identifiers::scan::redact(&other.to_string()))
        }
    }
}

pub(super) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(super) fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX / 4)
}

impl PostgresOutbox {
    /// Connects to `url` (e.g. `postgres://user@host:5432/db`; `options=-c search_path=…` picks
    /// a schema) and creates the tables when missing.
    pub async fn connect(url: &str, config: PostgresConfig) -> Result<Self, WritebackError> {
        let pg_config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| WritebackError::Storage(format!("bad URL: {e}")))?;
        let manager = Manager::from_config(
            pg_config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size.max(1))
            .build()
            .map_err(|e| WritebackError::Storage(format!("pool: {e}")))?;
        let instance = {
            let mut client = pool.get().await.map_err(pool_error)?;
            let tx = client.transaction().await.map_err(pg_error)?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
                .await
                .map_err(pg_error)?;
            // The tables are made in one transaction, the last one last: when it exists, so do
            // the others. Skipping the DDL then matters: `CREATE INDEX IF NOT EXISTS` takes a
            // share lock on its table before it looks, and deadlocked with another worker's
            // accept (seen with worker processes starting beside running ones).
            let created: bool = tx
                .query_one(
                    &format!("SELECT to_regclass('{LAST_TABLE}') IS NOT NULL"),
                    &[],
                )
                .await
                .map_err(pg_error)?
                .get(0);
            if !created {
                tx.batch_execute(SCHEMA).await.map_err(pg_error)?;
            }
            tx.execute(
                "INSERT INTO outbox_meta (key, value) VALUES ('instance', $1) \
                 ON CONFLICT (key) DO NOTHING",
                &[&new_instance_id()],
            )
            .await
            .map_err(pg_error)?;
            let row = tx
                .query_one("SELECT value FROM outbox_meta WHERE key = 'instance'", &[])
                .await
                .map_err(pg_error)?;
            tx.commit().await.map_err(pg_error)?;
            row.get::<_, String>(0)
        };
        Ok(Self {
            inner: Arc::new(PgInner {
                pool,
                instance,
                config,
                group: Mutex::new(Group::default()),
            }),
        })
    }

    /// Closes the pool: every later call fails with [`WritebackError::DatabaseUnavailable`]
    /// (for shutdown, and for tests that simulate a crashed worker).
    pub fn close(&self) {
        self.inner.pool.close();
    }

    /// This outbox's instance id (the first part of every note reference), shared by every
    /// worker on the database.
    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    /// The lease clock parameter: `None` means the database's clock.
    pub(super) fn clock_param(&self, now: DateTime<Utc>) -> Option<i64> {
        match self.inner.config.lease_clock {
            LeaseClock::Database => None,
            LeaseClock::Caller => Some(millis(now)),
        }
    }
}

impl IntoOutbox for PostgresOutbox {
    type Outbox = Self;
    fn into_outbox(self) -> Self {
        self
    }
}
