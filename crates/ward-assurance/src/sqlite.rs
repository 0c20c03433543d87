//! SQLite persistence (feature `sqlite`, default on): the task store, the audit-id → task
//! record, the replay cache and the sync log in one embedded database file, so a restart
//! forgets nothing: a redelivered webhook still answers with the first `taskId`, and a
//! replayed signature is still refused.
//!
//! One [`SqliteState`] opens the file (WAL, `synchronous=FULL`); its handles share the
//! connection:
//!
//! ```no_run
//! use ward_assurance::*;
//! use ward_assurance::sqlite::SqliteState;
//!
//! let state = SqliteState::open("assurance.db")?;
//! let engine = SyncEngine::new(
//!     state.task_store(),
//!     TrustDashboardWardAccess,
//!     state.sync_log(),
//!     MemoryAdminAlerts::new(),
//! );
//! let auth = Authenticator::with_replay_cache(AuthConfig::default(), state.replay_cache());
//! # Ok::<(), AssuranceError>(())
//! ```
//!
//! Why completing a task once is safe here: [`TaskStore::complete_task`] runs in an
//! `IMMEDIATE` transaction (the database's write lock is taken before the read), completes the
//! row only `WHERE status = 'pending'`, and `audit_id` is `UNIQUE`, so neither a second audit
//! for the same task nor the same audit for a second task can commit, even from another
//! process on the same file. Answering `ALREADY_COMPLETE` ([`crate::AlreadyComplete`]) only
//! reads completed rows (indexed like the pending ones) and writes nothing.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::audit_type::AuditType;
use crate::auth::{ReplayCache, WhenReplayCacheFull};
use crate::error::AssuranceError;
use crate::ids::{AuditId, TaskId};
use crate::sinks::{AuditLog, SyncLogEntry, SyncLogQuery, SyncLogReader, outcome_code};
use crate::store::{MatchKey, PendingTask, TaskStore};
use crate::task::{AuditCompletion, TaskStatus, WardTask};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS wa_tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    audit_type TEXT,
    ward_key TEXT NOT NULL,
    due_date TEXT NOT NULL,
    status TEXT NOT NULL,
    is_audit INTEGER NOT NULL,
    audit_id TEXT UNIQUE,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS wa_tasks_pending ON wa_tasks (audit_type, ward_key, due_date)
    WHERE status = 'pending' AND is_audit = 1;
CREATE INDEX IF NOT EXISTS wa_tasks_completed ON wa_tasks (audit_type, ward_key, due_date)
    WHERE status = 'completed' AND is_audit = 1;
CREATE TABLE IF NOT EXISTS wa_replay (
    tag BLOB PRIMARY KEY,
    signed_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS wa_replay_age ON wa_replay (signed_at);
CREATE TABLE IF NOT EXISTS wa_sync_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
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
CREATE INDEX IF NOT EXISTS wa_sync_log_at ON wa_sync_log (at);
";

/// A database error as `StoreUnavailable`: only its first line (PostgreSQL's `DETAIL:` line
/// can quote a key value, e.g. an audit id), through the shared redactor.
fn unavailable(error: impl std::fmt::Display) -> AssuranceError {
    let text = error.to_string();
    AssuranceError::StoreUnavailable {
        reason: nhs_identifiers::redact::serde_error(text.lines().next().unwrap_or_default()),
    }
}

/// An open SQLite database holding the ward-assurance state. Cheap to clone (shared
/// connection).
#[derive(Clone)]
pub struct SqliteState {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteState").finish_non_exhaustive()
    }
}

impl SqliteState {
    /// Open (or create) the database file and its tables.
    ///
    /// # Errors
    /// [`AssuranceError::StoreUnavailable`] when the file cannot be opened or set up.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, AssuranceError> {
        let conn = Connection::open(path).map_err(unavailable)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(unavailable)?;
        Self::setup(conn)
    }

    /// A database in memory (for tests).
    ///
    /// # Errors
    /// [`AssuranceError::StoreUnavailable`].
    pub fn in_memory() -> Result<Self, AssuranceError> {
        Self::setup(Connection::open_in_memory().map_err(unavailable)?)
    }

    fn setup(conn: Connection) -> Result<Self, AssuranceError> {
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(unavailable)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(unavailable)?;
        conn.execute_batch(SCHEMA).map_err(unavailable)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The task store over this database.
    #[must_use]
    pub fn task_store(&self) -> SqliteTaskStore {
        SqliteTaskStore(self.clone())
    }

    /// The sync log over this database (an [`AuditLog`] and a [`SyncLogReader`]).
    #[must_use]
    pub fn sync_log(&self) -> SqliteSyncLog {
        SqliteSyncLog(self.clone())
    }

    /// The replay cache over this database.
    #[must_use]
    pub fn replay_cache(&self) -> SqliteReplayCache {
        SqliteReplayCache(self.clone())
    }
}

/// [`TaskStore`] in SQLite, indexed on (type, ward, due date) for pending audit tasks and on
/// the completing audit id.
#[derive(Debug, Clone)]
pub struct SqliteTaskStore(SqliteState);

impl SqliteTaskStore {
    /// Add `task` unless a task with its id is already held (a restart re-reading the task
    /// file keeps what the database knows). Returns whether it was added.
    ///
    /// # Errors
    /// [`AssuranceError::StoreUnavailable`].
    pub fn insert_if_absent(&self, task: &WardTask) -> Result<bool, AssuranceError> {
        self.insert_all([task]).map(|n| n == 1)
    }

    /// Add every task not already held, in one transaction; returns how many were added.
    ///
    /// # Errors
    /// [`AssuranceError::StoreUnavailable`] (nothing is added).
    pub fn insert_all<'a>(
        &self,
        tasks: impl IntoIterator<Item = &'a WardTask>,
    ) -> Result<usize, AssuranceError> {
        let mut conn = self.0.lock();
        let tx = conn.transaction().map_err(unavailable)?;
        let mut added = 0;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO wa_tasks (id, audit_type, ward_key, due_date, status, is_audit, audit_id, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING",
                )
                .map_err(unavailable)?;
            for task in tasks {
                let body = serde_json::to_string(task).map_err(unavailable)?;
                added += stmt
                    .execute(params![
                        task.id.as_str(),
                        task.audit_type.map(AuditType::hub_code),
                        task.ward.key(),
                        task.due_date.to_string(),
                        task.status.as_str(),
                        task.is_audit_task,
                        task.completion
                            .as_ref()
                            .map(|c| c.audit_id.as_str().to_owned()),
                        body,
                    ])
                    .map_err(unavailable)?;
            }
        }
        tx.commit().map_err(unavailable)?;
        Ok(added)
    }

    /// Every task, in insertion order.
    ///
    /// # Errors
    /// [`AssuranceError::StoreUnavailable`].
    pub fn tasks(&self) -> Result<Vec<WardTask>, AssuranceError> {
        let conn = self.0.lock();
        let mut stmt = conn
            .prepare("SELECT body FROM wa_tasks ORDER BY seq")
            .map_err(unavailable)?;
        let rows = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(unavailable)?;
        let mut out = Vec::new();
        for body in rows {
            out.push(parse_task(&body.map_err(unavailable)?)?);
        }
        Ok(out)
    }
}

impl SqliteTaskStore {
    /// The tasks `sql` (one of the two indexed lookups) selects for `key`.
    fn audit_tasks(&self, sql: &str, key: &MatchKey) -> Result<Vec<PendingTask>, AssuranceError> {
        let conn = self.0.lock();
        let mut stmt = conn.prepare_cached(sql).map_err(unavailable)?;
        let rows = stmt
            .query_map(
                params![
                    key.audit_type.hub_code(),
                    key.ward.key(),
                    key.due_date.to_string()
                ],
                |row| row.get::<_, String>(0),
            )
            .map_err(unavailable)?;
        let mut out = Vec::new();
        for body in rows {
            let task = parse_task(&body.map_err(unavailable)?)?;
            out.push(PendingTask::new(task.id, task.shift));
        }
        Ok(out)
    }
}

pub(crate) fn parse_task(body: &str) -> Result<WardTask, AssuranceError> {
    serde_json::from_str(body).map_err(unavailable)
}

impl TaskStore for SqliteTaskStore {
    fn pending_audit_tasks(&self, key: &MatchKey) -> Result<Vec<PendingTask>, AssuranceError> {
        self.audit_tasks(
            "SELECT body FROM wa_tasks WHERE audit_type = ?1 AND ward_key = ?2 AND due_date = ?3
             AND status = 'pending' AND is_audit = 1 ORDER BY seq",
            key,
        )
    }

    fn completed_audit_tasks(&self, key: &MatchKey) -> Result<Vec<PendingTask>, AssuranceError> {
        self.audit_tasks(
            "SELECT body FROM wa_tasks WHERE audit_type = ?1 AND ward_key = ?2 AND due_date = ?3
             AND status = 'completed' AND is_audit = 1 ORDER BY seq",
            key,
        )
    }

    fn task_completed_by(&self, audit_id: &AuditId) -> Result<Option<WardTask>, AssuranceError> {
        let conn = self.0.lock();
        let body: Option<String> = conn
            .prepare_cached("SELECT body FROM wa_tasks WHERE audit_id = ?1")
            .and_then(|mut s| {
                s.query_row([audit_id.as_str()], |row| row.get(0))
                    .optional()
            })
            .map_err(unavailable)?;
        body.as_deref().map(parse_task).transpose()
    }

    fn complete_task(
        &mut self,
        task_id: &TaskId,
        completion: AuditCompletion,
    ) -> Result<WardTask, AssuranceError> {
        let not_pending = || AssuranceError::TaskNotPending {
            task_id: task_id.to_string(),
        };
        let mut conn = self.0.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(unavailable)?;
        let body: Option<String> = tx
            .query_row(
                "SELECT body FROM wa_tasks WHERE id = ?1 AND status = 'pending' AND is_audit = 1",
                [task_id.as_str()],
                |row| row.get(0),
            )
            .optional()
            .map_err(unavailable)?;
        let mut task = parse_task(&body.ok_or_else(not_pending)?)?;
        let audit_id = completion.audit_id.as_str().to_owned();
        task.status = TaskStatus::Completed;
        task.completion = Some(completion);
        let body = serde_json::to_string(&task).map_err(unavailable)?;
        let changed = tx.execute(
            "UPDATE wa_tasks SET status = 'completed', audit_id = ?1, body = ?2
             WHERE id = ?3 AND status = 'pending'",
            params![audit_id, body, task_id.as_str()],
        );
        match changed {
            Ok(1) => {}
            Ok(_) => return Err(not_pending()),
            // UNIQUE(audit_id): this audit already completed another task.
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(not_pending());
            }
            Err(e) => return Err(unavailable(e)),
        }
        tx.commit().map_err(unavailable)?;
        Ok(task)
    }

    fn task(&self, task_id: &TaskId) -> Result<Option<WardTask>, AssuranceError> {
        let conn = self.0.lock();
        let body: Option<String> = conn
            .query_row(
                "SELECT body FROM wa_tasks WHERE id = ?1",
                [task_id.as_str()],
                |row| row.get(0),
            )
            .optional()
            .map_err(unavailable)?;
        body.as_deref().map(parse_task).transpose()
    }
}

/// The sync log in SQLite: every attempt, queryable by ward and time.
#[derive(Debug, Clone)]
pub struct SqliteSyncLog(SqliteState);

impl AuditLog for SqliteSyncLog {
    fn record(&mut self, entry: SyncLogEntry) {
        let conn = self.0.lock();
        // Best effort: a failed write must not turn an accepted sync into an error (the task
        // is already completed); the text log line still records the attempt.
        let _ = conn.execute(
            "INSERT INTO wa_sync_log (id, at, outcome, caller, audit_id, audit_type, ward, ward_key,
                                      local_date, task_id, expected_window)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                entry.id,
                entry.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                entry.outcome,
                entry.caller,
                entry.audit_id.as_ref().map(AuditId::as_str),
                entry.audit_type.map(AuditType::hub_code),
                entry.ward.as_ref().map(|w| w.as_str().to_owned()),
                entry.ward.as_ref().map(|w| w.key().to_owned()),
                entry.local_date.map(|d| d.to_string()),
                entry.task_id.as_ref().map(TaskId::as_str),
                entry.expected_window,
            ],
        );
    }
}

impl SyncLogReader for SqliteSyncLog {
    fn list(&self, query: &SyncLogQuery) -> Result<Vec<SyncLogEntry>, AssuranceError> {
        let conn = self.0.lock();
        let since = query
            .since
            .map(|s| s.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, at, outcome, caller, audit_id, audit_type, ward, local_date, task_id,
                        expected_window
                 FROM wa_sync_log
                 WHERE (?1 IS NULL OR ward_key = ?1) AND (?2 IS NULL OR at >= ?2)
                 ORDER BY seq LIMIT ?3",
            )
            .map_err(unavailable)?;
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(
                params![
                    query.ward.as_ref().map(|w| w.key().to_owned()),
                    since,
                    limit
                ],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, Option<String>>(3)?,
                        row.get::<_, Option<String>>(4)?,
                        row.get::<_, Option<String>>(5)?,
                        row.get::<_, Option<String>>(6)?,
                        row.get::<_, Option<String>>(7)?,
                        row.get::<_, Option<String>>(8)?,
                        row.get::<_, Option<String>>(9)?,
                    ))
                },
            )
            .map_err(unavailable)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, at, outcome, caller, audit_id, audit_type, ward, local_date, task_id, window) =
                row.map_err(unavailable)?;
            let at: DateTime<Utc> = DateTime::parse_from_rfc3339(&at)
                .map_err(unavailable)?
                .with_timezone(&Utc);
            let mut entry = SyncLogEntry::with_id(id, at, outcome_code(&outcome));
            entry.caller = caller;
            entry.audit_id = audit_id.and_then(|a| AuditId::new(&a).ok());
            entry.audit_type = audit_type.and_then(|t| t.parse().ok());
            entry.ward = ward.and_then(|w| crate::ids::Ward::new(&w).ok());
            entry.local_date = local_date.and_then(|d| d.parse().ok());
            entry.task_id = task_id.and_then(|t| TaskId::new(&t).ok());
            entry.expected_window = window;
            out.push(entry);
        }
        Ok(out)
    }
}

/// The replay cache in SQLite.
#[derive(Debug, Clone)]
pub struct SqliteReplayCache(SqliteState);

impl ReplayCache for SqliteReplayCache {
    fn remember(
        &mut self,
        tag: [u8; 32],
        signed_at: i64,
        oldest_live: i64,
        capacity: usize,
        when_full: WhenReplayCacheFull,
    ) -> Result<(), AssuranceError> {
        let mut conn = self.0.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(unavailable)?;
        tx.execute("DELETE FROM wa_replay WHERE signed_at < ?1", [oldest_live])
            .map_err(unavailable)?;
        let seen: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM wa_replay WHERE tag = ?1)",
                [&tag[..]],
                |row| row.get(0),
            )
            .map_err(unavailable)?;
        if seen {
            return Err(AssuranceError::ReplayedSignature);
        }
        let held: i64 = tx
            .query_row("SELECT COUNT(*) FROM wa_replay", [], |row| row.get(0))
            .map_err(unavailable)?;
        if usize::try_from(held).unwrap_or(usize::MAX) >= capacity.max(1) {
            match when_full {
                WhenReplayCacheFull::Refuse => return Err(AssuranceError::ReplayCacheFull),
                WhenReplayCacheFull::EvictOldest => {
                    tx.execute(
                        "DELETE FROM wa_replay WHERE tag =
                           (SELECT tag FROM wa_replay ORDER BY signed_at LIMIT 1)",
                        [],
                    )
                    .map_err(unavailable)?;
                }
            }
        }
        tx.execute(
            "INSERT INTO wa_replay (tag, signed_at) VALUES (?1, ?2)",
            params![&tag[..], signed_at],
        )
        .map_err(unavailable)?;
        tx.commit().map_err(unavailable)
    }

    fn len(&self) -> usize {
        let conn = self.0.lock();
        conn.query_row("SELECT COUNT(*) FROM wa_replay", [], |row| {
            row.get::<_, i64>(0)
        })
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
    }
}
