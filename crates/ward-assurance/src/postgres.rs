//! PostgreSQL persistence (feature `postgres`, default on; tokio-postgres pooled by
//! deadpool-postgres): the same state as [`crate::sqlite`] (tasks, the audit-id → task record,
//! the replay cache, the sync log) shared by every endpoint process of a trust, so two
//! processes behind one load balancer never complete one task twice, and a redelivery that
//! reaches the other process answers success with the first `taskId`.
//!
//! The engine is synchronous, so the handles run each query on the runtime they were created
//! in and wait for it: call them from a blocking context (the HTTP adapter runs the endpoint
//! on tokio's blocking pool; inside a multi-threaded runtime worker they use
//! `block_in_place`; inside a current-thread runtime they refuse with
//! [`AssuranceError::StoreUnavailable`] rather than deadlock).
//!
//! # Why one task is never completed twice
//!
//! Completion is one conditional statement,
//! `UPDATE wa_tasks SET status = 'completed', audit_id = $1, body = $2
//!  WHERE id = $3 AND status = 'pending'`,
//! and `audit_id` has a `UNIQUE` index:
//!
//! - Two processes completing the **same task** for different audits: the second `UPDATE`
//!   blocks on the first's row lock; when the first commits, PostgreSQL (READ COMMITTED)
//!   re-evaluates the `WHERE` against the committed row, finds `status = 'completed'` and
//!   updates nothing. The store reports `TaskNotPending`; the engine looks again and takes the
//!   next pending task, or answers `NO_MATCHING_TASK`.
//! - Two processes delivering the **same audit** and picking two different tasks (duplicate
//!   pending tasks): the second `UPDATE` waits on the first's uncommitted index entry for that
//!   `audit_id`, then fails with `unique_violation`; nothing changes. The engine then finds the
//!   task the audit completed (`task_completed_by`) and answers success with its `taskId`.
//! - The body written is the row's body read just before plus the completion; only a
//!   completion changes a task row, and the `WHERE status = 'pending'` guard makes a
//!   completion from a stale read impossible.
//!
//! - A task only ever goes from pending to completed, so the engine's read of completed tasks
//!   (for `ALREADY_COMPLETE`, [`crate::AlreadyComplete::Succeed`]), made after its pending
//!   read found nothing, sees every task completed in between; it changes nothing.
//!
//! No lock is held across the engine's other work, and no transaction spans two statements.

use std::future::Future;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::runtime::{Handle, RuntimeFlavor};

use crate::audit_type::AuditType;
use crate::auth::{ReplayCache, WhenReplayCacheFull};
use crate::error::AssuranceError;
use crate::ids::{AuditId, TaskId, Ward};
use crate::sinks::{AuditLog, SyncLogEntry, SyncLogQuery, SyncLogReader, outcome_code};
use crate::sqlite::parse_task;
use crate::store::{MatchKey, PendingTask, TaskStore};
use crate::task::{AuditCompletion, TaskStatus, WardTask};

const SCHEMA: &str = "
SELECT pg_advisory_xact_lock(7761626173737572);
CREATE TABLE IF NOT EXISTS wa_tasks (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    audit_type TEXT,
    ward_key TEXT NOT NULL,
    due_date TEXT NOT NULL,
    status TEXT NOT NULL,
    is_audit BOOLEAN NOT NULL,
    audit_id TEXT UNIQUE,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS wa_tasks_pending ON wa_tasks (audit_type, ward_key, due_date)
    WHERE status = 'pending' AND is_audit;
CREATE INDEX IF NOT EXISTS wa_tasks_completed ON wa_tasks (audit_type, ward_key, due_date)
    WHERE status = 'completed' AND is_audit;
CREATE TABLE IF NOT EXISTS wa_replay (
    tag BYTEA PRIMARY KEY,
    signed_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS wa_replay_age ON wa_replay (signed_at);
CREATE TABLE IF NOT EXISTS wa_sync_log (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL,
    at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    caller TEXT,
    audit_id TEXT,
    audit_type TEXT,
    ward TEXT,
    ward_key TEXT,
    local_date TEXT,
    task_id TEXT,
    expected_window TEXT
);
CREATE INDEX IF NOT EXISTS wa_sync_log_ward ON wa_sync_log (ward_key, at);
";

/// A database error as `StoreUnavailable`: only its first line (PostgreSQL's `DETAIL:` line
/// can quote a key value, e.g. an audit id), through the shared redactor.
fn unavailable(error: impl std::fmt::Display) -> AssuranceError {
    let text = error.to_string();
    AssuranceError::StoreUnavailable {
        reason: nhs_identifiers::redact::serde_error(text.lines().next().unwrap_or_default()),
    }
}

fn is_unique_violation(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
}

/// A pool of connections to the PostgreSQL database holding the ward-assurance state.
/// Cheap to clone.
#[derive(Clone)]
pub struct PostgresState {
    pool: Pool,
    runtime: Handle,
}

impl std::fmt::Debug for PostgresState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresState").finish_non_exhaustive()
    }
}

impl PostgresState {
    /// Connect (a pool of up to 8 connections) and create the tables if missing. Call inside
    /// a tokio runtime: its handle runs the queries later.
    ///
    /// # Errors
    /// [`AssuranceError::StoreUnavailable`] when the URL is invalid or the database cannot be
    /// reached.
    pub async fn connect(url: &str) -> Result<Self, AssuranceError> {
        let config = tokio_postgres::Config::from_str(url).map_err(unavailable)?;
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(8)
            .build()
            .map_err(unavailable)?;
        let mut client = pool.get().await.map_err(unavailable)?;
        let tx = client.transaction().await.map_err(unavailable)?;
        tx.batch_execute(SCHEMA).await.map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        drop(client);
        Ok(Self {
            pool,
            runtime: Handle::current(),
        })
    }

    /// The task store.
    #[must_use]
    pub fn task_store(&self) -> PostgresTaskStore {
        PostgresTaskStore(self.clone())
    }

    /// The sync log (an [`AuditLog`] and a [`SyncLogReader`]).
    #[must_use]
    pub fn sync_log(&self) -> PostgresSyncLog {
        PostgresSyncLog(self.clone())
    }

    /// The replay cache.
    #[must_use]
    pub fn replay_cache(&self) -> PostgresReplayCache {
        PostgresReplayCache(self.clone())
    }

    /// Run `future` on the state's runtime and wait for it (see the module docs).
    fn block<T>(
        &self,
        future: impl Future<Output = Result<T, AssuranceError>>,
    ) -> Result<T, AssuranceError> {
        match Handle::try_current().map(|h| h.runtime_flavor()) {
            Err(_) => self.runtime.block_on(future),
            Ok(RuntimeFlavor::MultiThread) => {
                tokio::task::block_in_place(|| self.runtime.block_on(future))
            }
            Ok(_) => Err(AssuranceError::StoreUnavailable {
                reason: "the PostgreSQL store was called on a current-thread runtime: call it from spawn_blocking".into(),
            }),
        }
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, AssuranceError> {
        self.pool.get().await.map_err(unavailable)
    }
}

/// [`TaskStore`] in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresTaskStore(PostgresState);

impl PostgresTaskStore {
    /// Add every task not already held (by id), in batches of 5,000 rows; returns how many
    /// were added.
    ///
    /// # Errors
    /// [`AssuranceError::StoreUnavailable`].
    pub async fn insert_all(&self, tasks: &[WardTask]) -> Result<usize, AssuranceError> {
        let client = self.0.client().await?;
        let stmt = client
            .prepare_cached(
                "INSERT INTO wa_tasks (id, audit_type, ward_key, due_date, status, is_audit, audit_id, body)
                 SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[],
                                      $6::BOOLEAN[], $7::TEXT[], $8::TEXT[])
                 ON CONFLICT DO NOTHING",
            )
            .await
            .map_err(unavailable)?;
        let mut added = 0;
        for batch in tasks.chunks(5000) {
            let mut ids = Vec::with_capacity(batch.len());
            let mut types = Vec::with_capacity(batch.len());
            let mut wards = Vec::with_capacity(batch.len());
            let mut dates = Vec::with_capacity(batch.len());
            let mut statuses = Vec::with_capacity(batch.len());
            let mut audit_flags = Vec::with_capacity(batch.len());
            let mut audit_ids = Vec::with_capacity(batch.len());
            let mut bodies = Vec::with_capacity(batch.len());
            for task in batch {
                ids.push(task.id.as_str());
                types.push(task.audit_type.map(AuditType::hub_code));
                wards.push(task.ward.key());
                dates.push(task.due_date.to_string());
                statuses.push(task.status.as_str());
                audit_flags.push(task.is_audit_task);
                audit_ids.push(task.completion.as_ref().map(|c| c.audit_id.as_str()));
                bodies.push(serde_json::to_string(task).map_err(unavailable)?);
            }
            let n = client
                .execute(
                    &stmt,
                    &[
                        &ids,
                        &types,
                        &wards,
                        &dates,
                        &statuses,
                        &audit_flags,
                        &audit_ids,
                        &bodies,
                    ],
                )
                .await
                .map_err(unavailable)?;
            added += usize::try_from(n).unwrap_or(0);
        }
        Ok(added)
    }

    /// Every task, in insertion order.
    ///
    /// # Errors
    /// [`AssuranceError::StoreUnavailable`].
    pub async fn tasks(&self) -> Result<Vec<WardTask>, AssuranceError> {
        let client = self.0.client().await?;
        let rows = client
            .query("SELECT body FROM wa_tasks ORDER BY seq", &[])
            .await
            .map_err(unavailable)?;
        rows.iter().map(|r| parse_task(r.get(0))).collect()
    }

    /// The tasks `sql` (one of the two indexed lookups) selects for `key`.
    async fn audit_tasks(
        &self,
        sql: &str,
        key: &MatchKey,
    ) -> Result<Vec<PendingTask>, AssuranceError> {
        let client = self.0.client().await?;
        let rows = client
            .query(
                sql,
                &[
                    &key.audit_type.hub_code(),
                    &key.ward.key(),
                    &key.due_date.to_string(),
                ],
            )
            .await
            .map_err(unavailable)?;
        rows.iter()
            .map(|r| parse_task(r.get(0)).map(|t| PendingTask::new(t.id, t.shift)))
            .collect()
    }

    async fn body_where(&self, sql: &str, arg: &str) -> Result<Option<WardTask>, AssuranceError> {
        let client = self.0.client().await?;
        let row = client.query_opt(sql, &[&arg]).await.map_err(unavailable)?;
        row.map(|r| parse_task(r.get(0))).transpose()
    }
}

impl TaskStore for PostgresTaskStore {
    fn pending_audit_tasks(&self, key: &MatchKey) -> Result<Vec<PendingTask>, AssuranceError> {
        self.0.block(self.audit_tasks(
            "SELECT body FROM wa_tasks WHERE audit_type = $1 AND ward_key = $2
             AND due_date = $3 AND status = 'pending' AND is_audit ORDER BY seq",
            key,
        ))
    }

    fn completed_audit_tasks(&self, key: &MatchKey) -> Result<Vec<PendingTask>, AssuranceError> {
        self.0.block(self.audit_tasks(
            "SELECT body FROM wa_tasks WHERE audit_type = $1 AND ward_key = $2
             AND due_date = $3 AND status = 'completed' AND is_audit ORDER BY seq",
            key,
        ))
    }

    fn task_completed_by(&self, audit_id: &AuditId) -> Result<Option<WardTask>, AssuranceError> {
        self.0.block(self.body_where(
            "SELECT body FROM wa_tasks WHERE audit_id = $1",
            audit_id.as_str(),
        ))
    }

    fn complete_task(
        &mut self,
        task_id: &TaskId,
        completion: AuditCompletion,
    ) -> Result<WardTask, AssuranceError> {
        let not_pending = || AssuranceError::TaskNotPending {
            task_id: task_id.to_string(),
        };
        self.0.block(async {
            let current = self
                .body_where(
                    "SELECT body FROM wa_tasks WHERE id = $1 AND status = 'pending' AND is_audit",
                    task_id.as_str(),
                )
                .await?;
            let mut task = current.ok_or_else(not_pending)?;
            let audit_id = completion.audit_id.as_str().to_owned();
            task.status = TaskStatus::Completed;
            task.completion = Some(completion);
            let body = serde_json::to_string(&task).map_err(unavailable)?;
            let client = self.0.client().await?;
            // The guard that makes completion happen once: see the module docs.
            let changed = client
                .execute(
                    "UPDATE wa_tasks SET status = 'completed', audit_id = $1, body = $2
                     WHERE id = $3 AND status = 'pending'",
                    &[&audit_id, &body, &task_id.as_str()],
                )
                .await;
            match changed {
                Ok(1) => Ok(task),
                Ok(_) => Err(not_pending()),
                Err(e) if is_unique_violation(&e) => Err(not_pending()),
                Err(e) => Err(unavailable(e)),
            }
        })
    }

    fn task(&self, task_id: &TaskId) -> Result<Option<WardTask>, AssuranceError> {
        self.0
            .block(self.body_where("SELECT body FROM wa_tasks WHERE id = $1", task_id.as_str()))
    }
}

/// The sync log in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresSyncLog(PostgresState);

impl AuditLog for PostgresSyncLog {
    fn record(&mut self, entry: SyncLogEntry) {
        // Best effort, as in SQLite: the text log line still records the attempt.
        let _ = self.0.block(async {
            let client = self.0.client().await?;
            client
                .execute(
                    "INSERT INTO wa_sync_log (id, at, outcome, caller, audit_id, audit_type, ward,
                                              ward_key, local_date, task_id, expected_window)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    &[
                        &entry.id,
                        &entry
                            .at
                            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                        &entry.outcome,
                        &entry.caller,
                        &entry.audit_id.as_ref().map(AuditId::as_str),
                        &entry.audit_type.map(AuditType::hub_code),
                        &entry.ward.as_ref().map(Ward::as_str),
                        &entry.ward.as_ref().map(Ward::key),
                        &entry.local_date.map(|d| d.to_string()),
                        &entry.task_id.as_ref().map(TaskId::as_str),
                        &entry.expected_window,
                    ],
                )
                .await
                .map_err(unavailable)
        });
    }
}

impl SyncLogReader for PostgresSyncLog {
    fn list(&self, query: &SyncLogQuery) -> Result<Vec<SyncLogEntry>, AssuranceError> {
        self.0.block(async {
            let client = self.0.client().await?;
            let since = query
                .since
                .map(|s| s.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
            let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
            let rows = client
                .query(
                    "SELECT id, at, outcome, caller, audit_id, audit_type, ward, local_date,
                            task_id, expected_window
                     FROM wa_sync_log
                     WHERE ($1::TEXT IS NULL OR ward_key = $1) AND ($2::TEXT IS NULL OR at >= $2)
                     ORDER BY seq LIMIT $3",
                    &[&query.ward.as_ref().map(Ward::key), &since, &limit],
                )
                .await
                .map_err(unavailable)?;
            let mut out = Vec::new();
            for row in rows {
                let at: String = row.get(1);
                let at: DateTime<Utc> = DateTime::parse_from_rfc3339(&at)
                    .map_err(unavailable)?
                    .with_timezone(&Utc);
                let outcome: String = row.get(2);
                let mut entry = SyncLogEntry::with_id(row.get(0), at, outcome_code(&outcome));
                entry.caller = row.get(3);
                entry.audit_id = row
                    .get::<_, Option<String>>(4)
                    .and_then(|a| AuditId::new(&a).ok());
                entry.audit_type = row.get::<_, Option<String>>(5).and_then(|t| t.parse().ok());
                entry.ward = row
                    .get::<_, Option<String>>(6)
                    .and_then(|w| Ward::new(&w).ok());
                entry.local_date = row.get::<_, Option<String>>(7).and_then(|d| d.parse().ok());
                entry.task_id = row
                    .get::<_, Option<String>>(8)
                    .and_then(|t| TaskId::new(&t).ok());
                entry.expected_window = row.get(9);
                out.push(entry);
            }
            Ok(out)
        })
    }
}

/// The replay cache in PostgreSQL (shared by every process: a signature accepted by one is a
/// replay at the others). The capacity is checked before the insert, so concurrent
/// processes may overshoot it by their number.
#[derive(Debug, Clone)]
pub struct PostgresReplayCache(PostgresState);

impl ReplayCache for PostgresReplayCache {
    fn remember(
        &mut self,
        tag: [u8; 32],
        signed_at: i64,
        oldest_live: i64,
        capacity: usize,
        when_full: WhenReplayCacheFull,
    ) -> Result<(), AssuranceError> {
        self.0.block(async {
            let client = self.0.client().await?;
            client
                .execute(
                    "DELETE FROM wa_replay WHERE signed_at < $1",
                    &[&oldest_live],
                )
                .await
                .map_err(unavailable)?;
            let tag = tag.to_vec();
            let seen = client
                .query_opt("SELECT 1 FROM wa_replay WHERE tag = $1", &[&tag])
                .await
                .map_err(unavailable)?;
            if seen.is_some() {
                return Err(AssuranceError::ReplayedSignature);
            }
            let held: i64 = client
                .query_one("SELECT COUNT(*) FROM wa_replay", &[])
                .await
                .map_err(unavailable)?
                .get(0);
            if usize::try_from(held).unwrap_or(usize::MAX) >= capacity.max(1) {
                match when_full {
                    WhenReplayCacheFull::Refuse => return Err(AssuranceError::ReplayCacheFull),
                    WhenReplayCacheFull::EvictOldest => {
                        client
                            .execute(
                                "DELETE FROM wa_replay WHERE tag =
                                   (SELECT tag FROM wa_replay ORDER BY signed_at LIMIT 1)",
                                &[],
                            )
                            .await
                            .map_err(unavailable)?;
                    }
                }
            }
            // The primary key decides between two processes accepting the same signature
            // at once: only one insert succeeds.
            let inserted = client
                .execute(
                    "INSERT INTO wa_replay (tag, signed_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&tag, &signed_at],
                )
                .await
                .map_err(unavailable)?;
            if inserted == 1 {
                Ok(())
            } else {
                Err(AssuranceError::ReplayedSignature)
            }
        })
    }

    fn len(&self) -> usize {
        self.0
            .block(async {
                let client = self.0.client().await?;
                let n: i64 = client
                    .query_one("SELECT COUNT(*) FROM wa_replay", &[])
                    .await
                    .map_err(unavailable)?
                    .get(0);
                Ok(usize::try_from(n).unwrap_or(0))
            })
            .unwrap_or(0)
    }
}
