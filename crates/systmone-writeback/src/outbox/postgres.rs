//! The shared outbox in PostgreSQL: several workers (processes) share one queue.
//!
//! Driver: `tokio-postgres` with a `deadpool-postgres` pool. sqlx was the alternative; its
//! SQLite driver bundles a second SQLite that cannot be linked beside rusqlite's (the embedded
//! store), and it compiles far heavier. tokio-postgres is async, light, and exposes exactly the
//! SQL we write.
//!
//! - A note is committed before [`Outbox::accept`] returns. Concurrent accepts are **group
//!   committed**: one task takes every accept waiting and commits them in one transaction (one
//!   WAL flush), so acceptance is not bounded by one flush per note.
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

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::oneshot;
use tokio_postgres::{NoTls, Row};

use super::shared::{Claim, ClaimRequest, IntoOutbox, Outbox, WorkerId};
use super::sqlite::{COLUMNS, RawNote, from_millis};
use super::{AuditKind, AuditRecord, NoteId, NoteStatus, OutboxEntry, Transition};
use crate::error::WritebackError;
use crate::note::{CaseNote, SystmOneUsername};
use crate::reference::{NoteReference, new_instance_id};

/// The database's clock in UTC milliseconds.
const DB_NOW: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

/// Serialises schema creation between workers starting at once.
const SCHEMA_LOCK: i64 = 0x6e68_7369_7762;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notes (
    id               BIGSERIAL PRIMARY KEY,
    reference        TEXT UNIQUE,
    nhs_number       TEXT NOT NULL,
    surname          TEXT NOT NULL,
    date_of_birth    TEXT NOT NULL,
    sex              TEXT NOT NULL,
    author_name      TEXT NOT NULL,
    author_username  TEXT,
    narrative        TEXT NOT NULL,
    snomed_code      TEXT,
    code_free_text   TEXT,
    task_type        TEXT,
    task_content     TEXT,
    task_assignee    TEXT,
    done_at          TEXT,
    method           TEXT,
    status           TEXT NOT NULL
        CHECK (status IN ('queued', 'filing', 'outcome-unknown', 'filed', 'rejected')),
    event_uid        TEXT,
    task_uid         TEXT,
    rejection        TEXT,
    verified         BOOLEAN NOT NULL DEFAULT FALSE,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_ms  BIGINT NOT NULL,
    last_attempt_on  TEXT,
    accepted_ms      BIGINT NOT NULL,
    updated_ms       BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_token      BIGINT NOT NULL DEFAULT 0,
    lease_until_ms   BIGINT,
    CHECK (status <> 'filed' OR event_uid IS NOT NULL),
    CHECK (status <> 'rejected' OR rejection IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS notes_due ON notes (next_attempt_ms, id)
    WHERE status IN ('queued', 'filing', 'outcome-unknown');
CREATE INDEX IF NOT EXISTS notes_lease_until ON notes (lease_until_ms) INCLUDE (nhs_number)
    WHERE lease_until_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS audit (
    id       BIGSERIAL PRIMARY KEY,
    note_id  BIGINT NOT NULL REFERENCES notes (id),
    at_ms    BIGINT NOT NULL,
    kind     TEXT NOT NULL,
    status   TEXT NOT NULL,
    detail   TEXT NOT NULL,
    worker   TEXT
);
CREATE INDEX IF NOT EXISTS audit_note ON audit (note_id, id);
CREATE TABLE IF NOT EXISTS gateway_leases (
    gateway   TEXT PRIMARY KEY,
    owner     TEXT,
    token     BIGINT NOT NULL DEFAULT 0,
    until_ms  BIGINT NOT NULL DEFAULT 0,
    since_ms  BIGINT
);
";

const UNFINISHED: &str = "status IN ('queued', 'filing', 'outcome-unknown')";

/// Whose clock leases run on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeaseClock {
    /// The database server's clock: workers' clocks may disagree (the default).
    #[default]
    Database,
    /// The time the engine passes in (its injected clock): only for workers that share one
    /// clock, e.g. engines in one test process under tokio's paused time.
    Caller,
}

/// Settings of a [`PostgresOutbox`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PostgresConfig {
    /// Connections in the pool.
    pub pool_size: usize,
    /// Whose clock leases run on.
    pub lease_clock: LeaseClock,
    /// Whether concurrent accepts share one transaction (group commit).
    pub group_commit: bool,
    /// The most notes one group commit takes.
    pub max_batch: usize,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self {
            pool_size: 8,
            lease_clock: LeaseClock::Database,
            group_commit: true,
            max_batch: 256,
        }
    }
}

impl PostgresConfig {
    /// Sets whose clock leases run on.
    pub fn with_lease_clock(mut self, clock: LeaseClock) -> Self {
        self.lease_clock = clock;
        self
    }

    /// Turns group commit on or off.
    pub fn with_group_commit(mut self, on: bool) -> Self {
        self.group_commit = on;
        self
    }

    /// Sets the pool size (at least 1).
    pub fn with_pool_size(mut self, connections: usize) -> Self {
        self.pool_size = connections.max(1);
        self
    }
}

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

/// A shared, durable [`Outbox`] in PostgreSQL. Cheap to clone (one pool).
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
///     TokioClock::from_system_time(),
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

/// Accepts waiting for the next group commit.
#[derive(Default)]
struct Group {
    waiting: Vec<Pending>,
    committing: bool,
}

struct Pending {
    note: CaseNote,
    now: DateTime<Utc>,
    reply: oneshot::Sender<Result<OutboxEntry, WritebackError>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A driver error as a [`WritebackError`]: a server's answer is [`WritebackError::Storage`];
/// anything else (connection refused or lost, IO) is [`WritebackError::DatabaseUnavailable`].
/// The text is passed through the NHS-number redactor (a server error's detail may quote a row).
fn pg_error(error: tokio_postgres::Error) -> WritebackError {
    let text = nhs_identifiers::scan::redact(&error.to_string());
    if error.code().is_some() && !error.is_closed() {
        WritebackError::Storage(text)
    } else {
        WritebackError::DatabaseUnavailable(text)
    }
}

fn pool_error(error: deadpool_postgres::PoolError) -> WritebackError {
    match error {
        deadpool_postgres::PoolError::Backend(error) => pg_error(error),
        other => {
            WritebackError::DatabaseUnavailable(nhs_identifiers::scan::redact(&other.to_string()))
        }
    }
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn duration_ms(duration: Duration) -> i64 {
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
            tx.batch_execute(SCHEMA).await.map_err(pg_error)?;
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
    fn clock_param(&self, now: DateTime<Utc>) -> Option<i64> {
        match self.inner.config.lease_clock {
            LeaseClock::Database => None,
            LeaseClock::Caller => Some(millis(now)),
        }
    }

    /// Commits `batch` in one transaction.
    async fn commit_batch(
        &self,
        batch: &[(CaseNote, DateTime<Utc>)],
    ) -> Result<Vec<OutboxEntry>, WritebackError> {
        let mut client = self.inner.pool.get().await.map_err(pool_error)?;
        let tx = client.transaction().await.map_err(pg_error)?;
        let insert = tx
            .prepare_cached(
                "WITH n AS (SELECT nextval(pg_get_serial_sequence('notes', 'id')) AS id), \
                 ins AS (INSERT INTO notes (id, reference, nhs_number, surname, date_of_birth, \
                 sex, author_name, author_username, narrative, snomed_code, code_free_text, \
                 task_type, task_content, task_assignee, done_at, method, status, \
                 next_attempt_ms, accepted_ms, updated_ms) \
                 SELECT n.id, $1 || '-' || n.id::TEXT, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
                 $12, $13, $14, $15, 'queued', $16, $16, $16 FROM n RETURNING id, reference) \
                 INSERT INTO audit (note_id, at_ms, kind, status, detail) \
                 SELECT id, $16, 'accepted', 'queued', 'reference ' || reference FROM ins \
                 RETURNING note_id",
            )
            .await
            .map_err(pg_error)?;
        let mut entries = Vec::with_capacity(batch.len());
        for (note, now) in batch {
            let at = millis(*now);
            let row = tx
                .query_one(
                    &insert,
                    &[
                        &self.inner.instance,
                        &note.patient.nhs_number.expose(),
                        &note.patient.surname,
                        &note.patient.date_of_birth.to_string(),
                        &note.patient.sex.code(),
                        &note.author.display_name,
                        &note.author.username.as_ref().map(SystmOneUsername::as_str),
                        &note.narrative,
                        &note.code.as_ref().map(|c| c.code.as_str()),
                        &note.code.as_ref().and_then(|c| c.free_text.as_deref()),
                        &note.task.as_ref().map(|t| t.task_type.as_str()),
                        &note.task.as_ref().map(|t| t.content.as_str()),
                        &note
                            .task
                            .as_ref()
                            .and_then(|t| t.assignee.as_ref())
                            .map(SystmOneUsername::as_str),
                        &note.done_at,
                        &note.method,
                        &at,
                    ],
                )
                .await
                .map_err(pg_error)?;
            let id = NoteId(row.get(0));
            let when = from_millis("accepted time", at)?;
            entries.push(OutboxEntry {
                id,
                reference: NoteReference::new(&self.inner.instance, id.0),
                note: note.clone(),
                status: NoteStatus::Queued,
                attempts: 0,
                next_attempt_at: when,
                verified: false,
                last_attempt_on: None,
                accepted_at: when,
                claim: None,
            });
        }
        tx.commit().await.map_err(pg_error)?;
        Ok(entries)
    }

    /// Takes every waiting accept and commits them together, until none is waiting.
    async fn drain(self) {
        loop {
            let batch: Vec<Pending> = {
                let mut group = lock(&self.inner.group);
                if group.waiting.is_empty() {
                    group.committing = false;
                    return;
                }
                let take = group.waiting.len().min(self.inner.config.max_batch.max(1));
                group.waiting.drain(..take).collect()
            };
            let notes: Vec<(CaseNote, DateTime<Utc>)> =
                batch.iter().map(|p| (p.note.clone(), p.now)).collect();
            match self.commit_batch(&notes).await {
                Ok(entries) => {
                    for (pending, entry) in batch.into_iter().zip(entries) {
                        // A caller that gave up meanwhile has its note accepted anyway.
                        let _gone = pending.reply.send(Ok(entry));
                    }
                }
                Err(error) => {
                    let text = error.to_string();
                    let retryable = error.is_retryable();
                    for pending in batch {
                        let error = if retryable {
                            WritebackError::DatabaseUnavailable(text.clone())
                        } else {
                            WritebackError::Storage(text.clone())
                        };
                        let _gone = pending.reply.send(Err(error));
                    }
                }
            }
        }
    }

    async fn query_entries(
        &self,
        clause: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<OutboxEntry>, WritebackError> {
        let client = self.inner.pool.get().await.map_err(pool_error)?;
        let rows = client
            .query(&format!("SELECT {COLUMNS} FROM notes {clause}"), params)
            .await
            .map_err(pg_error)?;
        rows.iter().map(raw_note).map(RawNote::into_entry).collect()
    }

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

fn raw_note(row: &Row) -> RawNote {
    RawNote {
        id: row.get(0),
        reference: row.get(1),
        nhs_number: row.get(2),
        surname: row.get(3),
        date_of_birth: row.get(4),
        sex: row.get(5),
        author_name: row.get(6),
        author_username: row.get(7),
        narrative: row.get(8),
        snomed_code: row.get(9),
        code_free_text: row.get(10),
        task_type: row.get(11),
        task_content: row.get(12),
        task_assignee: row.get(13),
        done_at: row.get(14),
        method: row.get(15),
        status: row.get(16),
        event_uid: row.get(17),
        task_uid: row.get(18),
        rejection: row.get(19),
        verified: row.get(20),
        attempts: row.get(21),
        next_attempt_ms: row.get(22),
        last_attempt_on: row.get(23),
        accepted_ms: row.get(24),
    }
}

impl IntoOutbox for PostgresOutbox {
    type Outbox = Self;
    fn into_outbox(self) -> Self {
        self
    }
}

impl Outbox for PostgresOutbox {
    async fn accept(
        &self,
        note: CaseNote,
        now: DateTime<Utc>,
    ) -> Result<OutboxEntry, WritebackError> {
        if !self.inner.config.group_commit {
            let mut entries = self.commit_batch(&[(note, now)]).await?;
            return entries
                .pop()
                .ok_or_else(|| WritebackError::Storage("insert returned nothing".into()));
        }
        let (reply, answer) = oneshot::channel();
        let lead = {
            let mut group = lock(&self.inner.group);
            group.waiting.push(Pending { note, now, reply });
            !std::mem::replace(&mut group.committing, true)
        };
        if lead {
            // In its own task: a caller that stops waiting does not strand the others.
            tokio::spawn(self.clone().drain());
        }
        answer.await.map_err(|_| {
            WritebackError::DatabaseUnavailable("the group commit stopped before answering".into())
        })?
    }

    async fn claim_due(&self, request: &ClaimRequest) -> Result<Vec<OutboxEntry>, WritebackError> {
        let limit = i64::try_from(request.limit.max(1)).unwrap_or(1024);
        let mut client = self.inner.pool.get().await.map_err(pool_error)?;
        let tx = client.transaction().await.map_err(pg_error)?;
        let db_now: i64 = tx
            .query_one(
                &format!("SELECT COALESCE($1::BIGINT, {DB_NOW})"),
                &[&self.clock_param(request.now)],
            )
            .await
            .map_err(pg_error)?
            .get(0);
        let rows = tx
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM notes WHERE {UNFINISHED} AND next_attempt_ms <= $1 \
                     AND (lease_until_ms IS NULL OR lease_until_ms <= $2) \
                     AND nhs_number NOT IN (SELECT nhs_number FROM notes \
                         WHERE lease_until_ms IS NOT NULL AND lease_until_ms > $2) \
                     ORDER BY next_attempt_ms, id LIMIT $3 FOR UPDATE SKIP LOCKED"
                ),
                &[&millis(request.now), &db_now, &limit.saturating_mul(8)],
            )
            .await
            .map_err(pg_error)?;
        let mut patients = std::collections::HashSet::new();
        let mut picked = Vec::new();
        for row in &rows {
            if picked.len() >= request.limit.max(1) {
                break;
            }
            let raw = raw_note(row);
            if patients.insert(raw.nhs_number.clone()) {
                picked.push(raw.into_entry()?);
            }
        }
        let until = db_now.saturating_add(duration_ms(request.lease));
        let claim = tx
            .prepare_cached(
                "UPDATE notes SET lease_owner = $1, lease_token = lease_token + 1, \
                 lease_until_ms = $2 WHERE id = $3 RETURNING lease_token",
            )
            .await
            .map_err(pg_error)?;
        for entry in &mut picked {
            let token: i64 = tx
                .query_one(&claim, &[&request.worker.as_str(), &until, &entry.id.0])
                .await
                .map_err(pg_error)?
                .get(0);
            entry.claim = Some(Claim::new(entry.id, request.worker.clone(), token));
        }
        tx.commit().await.map_err(pg_error)?;
        Ok(picked)
    }

    async fn record(
        &self,
        claim: &Claim,
        transition: &Transition,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<(), WritebackError> {
        let (event_uid, task_uid, rejection) = match &transition.status {
            NoteStatus::Filed {
                event_uid,
                task_uid,
            } => (
                Some(event_uid.as_str().to_owned()),
                task_uid.as_ref().map(|t| t.as_str().to_owned()),
                None,
            ),
            NoteStatus::Rejected { reason } => (None, None, Some(reason.clone())),
            _ => (None, None, None),
        };
        let mut client = self.inner.pool.get().await.map_err(pool_error)?;
        let tx = client.transaction().await.map_err(pg_error)?;
        let changed = tx
            .execute(
                &format!(
                    "UPDATE notes SET status = $1, event_uid = $2, task_uid = $3, rejection = $4, \
                     verified = $5, attempts = $6, next_attempt_ms = $7, last_attempt_on = $8, \
                     updated_ms = $9, lease_until_ms = COALESCE($10::BIGINT, {DB_NOW}) + $11 \
                     WHERE id = $12 AND lease_token = $13 AND lease_owner = $14"
                ),
                &[
                    &transition.status.name(),
                    &event_uid,
                    &task_uid,
                    &rejection,
                    &transition.verified,
                    &i64::from(transition.attempts),
                    &millis(transition.next_attempt_at),
                    &transition.last_attempt_on.map(|d| d.to_string()),
                    &millis(now),
                    &self.clock_param(now),
                    &duration_ms(lease),
                    &claim.note.0,
                    &claim.token,
                    &claim.worker.as_str(),
                ],
            )
            .await
            .map_err(pg_error)?;
        if changed != 1 {
            let exists = tx
                .query_opt("SELECT 1 FROM notes WHERE id = $1", &[&claim.note.0])
                .await
                .map_err(pg_error)?
                .is_some();
            return Err(if exists {
                WritebackError::LeaseLost { note: claim.note.0 }
            } else {
                WritebackError::UnknownNote(claim.note.0)
            });
        }
        tx.execute(
            "INSERT INTO audit (note_id, at_ms, kind, status, detail, worker) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &claim.note.0,
                &millis(now),
                &transition.audit.kind.name(),
                &transition.status.name(),
                &transition.audit.detail,
                &claim.worker.as_str(),
            ],
        )
        .await
        .map_err(pg_error)?;
        tx.commit().await.map_err(pg_error)?;
        Ok(())
    }

    async fn release(&self, claim: &Claim) {
        if let Err(error) = release_claim(&self.inner.pool, claim).await {
            tracing::warn!(note = %claim.note, %error, "claim not released; its lease will expire");
        }
    }

    fn abandon(&self, claim: &Claim) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let pool = self.inner.pool.clone();
            let claim = claim.clone();
            runtime.spawn(async move {
                let _expires = release_claim(&pool, &claim).await;
            });
        }
    }

    async fn get(&self, id: NoteId) -> Result<Option<OutboxEntry>, WritebackError> {
        Ok(self
            .query_entries("WHERE id = $1", &[&id.0])
            .await?
            .into_iter()
            .next())
    }

    async fn next_due(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, WritebackError> {
        let client = self.inner.pool.get().await.map_err(pool_error)?;
        // A live lease ends `lease_until - db_now` from now, translated onto the caller's clock.
        let ms: Option<i64> = client
            .query_one(
                &format!(
                    "WITH c AS (SELECT COALESCE($2::BIGINT, {DB_NOW}) AS now) \
                     SELECT MIN(CASE WHEN lease_until_ms > c.now \
                         THEN GREATEST(next_attempt_ms, $1 + (lease_until_ms - c.now)) \
                         ELSE next_attempt_ms END)::BIGINT \
                     FROM notes, c WHERE {UNFINISHED}"
                ),
                &[&millis(now), &self.clock_param(now)],
            )
            .await
            .map_err(pg_error)?
            .get(0);
        ms.map(|ms| from_millis("next attempt time", ms))
            .transpose()
    }

    async fn entries(&self) -> Result<Vec<OutboxEntry>, WritebackError> {
        self.query_entries("ORDER BY id", &[]).await
    }

    async fn audit_trail(&self, id: NoteId) -> Result<Vec<AuditRecord>, WritebackError> {
        let client = self.inner.pool.get().await.map_err(pool_error)?;
        let rows = client
            .query(
                "SELECT at_ms, kind, status, detail FROM audit WHERE note_id = $1 ORDER BY id",
                &[&id.0],
            )
            .await
            .map_err(pg_error)?;
        rows.iter()
            .map(|row| {
                Ok(AuditRecord {
                    at: from_millis("audit time", row.get(0))?,
                    kind: AuditKind::from_name(row.get(1)),
                    status: row.get(2),
                    detail: row.get(3),
                })
            })
            .collect()
    }
}

async fn release_claim(pool: &Pool, claim: &Claim) -> Result<(), WritebackError> {
    let client = pool.get().await.map_err(pool_error)?;
    client
        .execute(
            "UPDATE notes SET lease_owner = NULL, lease_until_ms = NULL \
             WHERE id = $1 AND lease_token = $2",
            &[&claim.note.0, &claim.token],
        )
        .await
        .map_err(pg_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    //! On the real PostgreSQL (`NHSI_TEST_POSTGRES_URL`), each test in its own schema.
    use super::super::contract::{note, t};
    use super::*;
    use crate::gateway::EventUid;
    use crate::outbox::AuditEvent;

    async fn outbox(prefix: &str, clock: LeaseClock) -> Option<(PostgresOutbox, String)> {
        let url = nhs_test_support::postgres_url()?;
        let url = nhs_test_support::fresh_postgres_schema(&url, prefix).await;
        let store =
            PostgresOutbox::connect(&url, PostgresConfig::default().with_lease_clock(clock))
                .await
                .unwrap();
        Some((store, url))
    }

    fn worker(name: &str) -> WorkerId {
        WorkerId::new(name).unwrap()
    }

    fn request(name: &str, now: DateTime<Utc>, lease_secs: u64) -> ClaimRequest {
        ClaimRequest {
            worker: worker(name),
            now,
            limit: 10,
            lease: Duration::from_secs(lease_secs),
        }
    }

    const LEASE: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn notes_round_trip_claims_record_and_audit() {
        let Some((store, _)) = outbox("wb_contract", LeaseClock::Caller).await else {
            return;
        };
        let a = store.accept(note(2), t(0)).await.unwrap();
        let b = store.accept(note(3), t(1)).await.unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(a.reference, NoteReference::new(store.instance(), a.id.0));
        assert_eq!(store.get(a.id).await.unwrap().unwrap(), a);
        assert_eq!(store.get(a.id).await.unwrap().unwrap().note, note(2));
        assert_eq!(store.next_due(t(0)).await.unwrap(), Some(t(0)));

        let claimed = store.claim_due(&request("w1", t(0), 60)).await.unwrap();
        assert_eq!(claimed.iter().map(|e| e.id).collect::<Vec<_>>(), vec![a.id]);
        let claim = claimed[0].claim.clone().unwrap();
        // Claimed: not claimable again, and next due when its lease ends.
        assert!(
            store
                .claim_due(&request("w2", t(5), 60))
                .await
                .unwrap()
                .len()
                == 1
        );
        assert!(
            store
                .claim_due(&request("w2", t(5), 60))
                .await
                .unwrap()
                .is_empty()
        );
        let mut filing = claimed[0].transition(
            NoteStatus::Filing,
            AuditEvent::new(AuditKind::WriteSent, "attempt 1"),
        );
        filing.attempts = 1;
        filing.verified = true;
        filing.last_attempt_on = chrono::NaiveDate::from_ymd_opt(2026, 11, 21);
        store.record(&claim, &filing, t(2), LEASE).await.unwrap();
        let stored = store.get(a.id).await.unwrap().unwrap();
        assert_eq!(stored.status, NoteStatus::Filing);
        assert_eq!(stored.attempts, 1);
        assert!(stored.verified);
        let filed = stored.transition(
            NoteStatus::Filed {
                event_uid: EventUid::new("3f9a1c0000000000").unwrap(),
                task_uid: EventUid::new("4e8b2d0000000000"),
            },
            AuditEvent::new(AuditKind::Filed, "EventUID 3f9a1c0000000000"),
        );
        store.record(&claim, &filed, t(3), LEASE).await.unwrap();
        store.release(&claim).await;
        assert_eq!(store.get(a.id).await.unwrap().unwrap().status, filed.status);
        let kinds: Vec<_> = store
            .audit_trail(a.id)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.kind)
            .collect();
        assert_eq!(
            kinds,
            vec![AuditKind::Accepted, AuditKind::WriteSent, AuditKind::Filed]
        );
        assert_eq!(store.entries().await.unwrap().len(), 2);
        assert!(store.get(NoteId(999)).await.unwrap().is_none());
        let ghost = Claim::new(NoteId(999), worker("w1"), 1);
        assert!(matches!(
            store.record(&ghost, &filed, t(4), LEASE).await,
            Err(WritebackError::UnknownNote(999))
        ));
    }

    #[tokio::test]
    async fn a_worker_whose_lease_was_taken_over_can_change_nothing() {
        let Some((store, _)) = outbox("wb_fence", LeaseClock::Caller).await else {
            return;
        };
        let a = store.accept(note(2), t(0)).await.unwrap();
        let first = store.claim_due(&request("w1", t(0), 60)).await.unwrap();
        let old = first[0].claim.clone().unwrap();
        assert_eq!(
            store.next_due(t(10)).await.unwrap(),
            Some(t(60)),
            "next due when the lease ends"
        );
        // Within the lease nobody else gets the note (nor another note of that patient).
        store.accept(note(2), t(0)).await.unwrap();
        assert!(
            store
                .claim_due(&request("w2", t(59), 60))
                .await
                .unwrap()
                .is_empty()
        );
        // w1 stalls past its lease; w2 takes the note over with a higher token.
        let second = store.claim_due(&request("w2", t(61), 60)).await.unwrap();
        assert_eq!(second[0].id, a.id);
        let new = second[0].claim.clone().unwrap();
        assert!(new.token > old.token);
        let filing = first[0].transition(
            NoteStatus::Filing,
            AuditEvent::new(AuditKind::WriteSent, "attempt 1"),
        );
        assert!(matches!(
            store.record(&old, &filing, t(62), LEASE).await,
            Err(WritebackError::LeaseLost { .. })
        ));
        // The stale worker's release does not free the new owner's claim either.
        store.release(&old).await;
        assert!(
            store
                .claim_due(&request("w3", t(63), 60))
                .await
                .unwrap()
                .is_empty()
        );
        store.record(&new, &filing, t(63), LEASE).await.unwrap();
        let trail = store.audit_trail(a.id).await.unwrap();
        assert_eq!(trail.len(), 2, "only the owner's change was recorded");
    }

    #[tokio::test]
    async fn leases_run_on_the_database_clock_whatever_the_workers_clocks_say() {
        let Some((store, _)) = outbox("wb_dbclock", LeaseClock::Database).await else {
            return;
        };
        let a = store.accept(note(2), t(0)).await.unwrap();
        let now = Utc::now();
        let claimed = store.claim_due(&request("w1", now, 2)).await.unwrap();
        assert_eq!(claimed.len(), 1);
        // A worker whose clock runs an hour fast still cannot take a live lease.
        let skewed = now + chrono::Duration::hours(1);
        assert!(
            store
                .claim_due(&request("w2", skewed, 2))
                .await
                .unwrap()
                .is_empty()
        );
        tokio::time::sleep(Duration::from_millis(2_100)).await;
        let taken = store.claim_due(&request("w2", now, 2)).await.unwrap();
        assert_eq!(
            taken[0].id, a.id,
            "taken over once the database says it expired"
        );
    }

    #[tokio::test]
    async fn concurrent_claims_never_share_a_note() {
        let Some((store, url)) = outbox("wb_skip", LeaseClock::Caller).await else {
            return;
        };
        for i in 0..40 {
            store.accept(note(100 + i), t(0)).await.unwrap();
        }
        let mut tasks = Vec::new();
        for w in 0..4 {
            // Separate pools, as separate processes would have.
            let other = PostgresOutbox::connect(
                &url,
                PostgresConfig::default().with_lease_clock(LeaseClock::Caller),
            )
            .await
            .unwrap();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = other
                        .claim_due(&request(&format!("w{w}"), t(1), 60))
                        .await
                        .unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|e| e.id));
                }
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        let count = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), count, "no note claimed twice");
        assert_eq!(count, 40);
    }

    #[tokio::test]
    async fn one_owner_per_gateway_and_takeover_after_expiry() {
        let Some((store, _)) = outbox("wb_gw", LeaseClock::Caller).await else {
            return;
        };
        let lease = Duration::from_secs(30);
        let a = store
            .acquire_gateway("gateway-1", &worker("w1"), lease, t(0))
            .await
            .unwrap()
            .unwrap();
        assert!(
            store
                .acquire_gateway("gateway-1", &worker("w2"), lease, t(29))
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.renew_gateway(&a, lease, t(20)).await.unwrap());
        assert!(
            store
                .acquire_gateway("gateway-1", &worker("w2"), lease, t(49))
                .await
                .unwrap()
                .is_none(),
            "renewed until t(50)"
        );
        let b = store
            .acquire_gateway("gateway-1", &worker("w2"), lease, t(50))
            .await
            .unwrap()
            .unwrap();
        assert!(b.token > a.token);
        assert!(
            !store.renew_gateway(&a, lease, t(51)).await.unwrap(),
            "the old owner is fenced"
        );
        store.release_gateway(&a).await.unwrap();
        let owners = store.gateway_owners().await.unwrap();
        assert_eq!(
            owners[0].1.as_deref(),
            Some("w2"),
            "a stale release frees nothing"
        );
        store.release_gateway(&b).await.unwrap();
        assert!(
            store
                .acquire_gateway("gateway-1", &worker("w3"), lease, t(52))
                .await
                .unwrap()
                .is_some()
        );
    }

    /// A TCP relay to the database that the test can cut (every connection dropped, nothing
    /// listening) and restore on the same port.
    struct Relay {
        port: u16,
        tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    }

    impl Relay {
        async fn start(port: u16) -> Self {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .unwrap();
            let port = listener.local_addr().unwrap().port();
            let tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
            let conns = Arc::clone(&tasks);
            let accept = tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    let conn = tokio::spawn(async move {
                        if let Ok(mut outbound) =
                            tokio::net::TcpStream::connect("127.0.0.1:5432").await
                        {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    lock(&conns).push(conn);
                }
            });
            lock(&tasks).push(accept);
            Self { port, tasks }
        }

        fn cut(&self) {
            for task in lock(&self.tasks).drain(..) {
                task.abort();
            }
        }
    }

    #[tokio::test]
    async fn a_lost_connection_is_a_retryable_error_and_acknowledges_nothing() {
        let Some(base) = nhs_test_support::postgres_url() else {
            return;
        };
        if !base.contains("127.0.0.1:5432") {
            eprintln!("skipped: the relay test expects the database at 127.0.0.1:5432");
            return;
        }
        let url = nhs_test_support::fresh_postgres_schema(&base, "wb_lost").await;
        let relay = Relay::start(0).await;
        let relayed = url.replace("127.0.0.1:5432", &format!("127.0.0.1:{}", relay.port));
        let store = PostgresOutbox::connect(&relayed, PostgresConfig::default().with_pool_size(2))
            .await
            .unwrap();
        store.accept(note(2), t(0)).await.unwrap();
        relay.cut();
        tokio::time::sleep(Duration::from_millis(50)).await;
        for i in 0..3 {
            let error = store.accept(note(3 + i), t(1)).await.unwrap_err();
            assert!(
                matches!(error, WritebackError::DatabaseUnavailable(_)),
                "{error:?}"
            );
            assert!(error.is_retryable());
        }
        // The database is back: the pool reconnects; none of the refused notes is in the outbox.
        let _relay = Relay::start(relay.port).await;
        store.accept(note(9), t(2)).await.unwrap();
        let direct = PostgresOutbox::connect(&url, PostgresConfig::default())
            .await
            .unwrap();
        let entries = direct.entries().await.unwrap();
        assert_eq!(entries.len(), 2, "only the acknowledged notes");
        assert_eq!(entries[1].note, note(9));
    }

    #[tokio::test]
    async fn concurrent_accepts_share_group_commits() {
        let Some((store, _)) = outbox("wb_group", LeaseClock::Caller).await else {
            return;
        };
        let mut tasks = Vec::new();
        for i in 0..64 {
            let store = store.clone();
            tasks.push(tokio::spawn(
                async move { store.accept(note(i), t(0)).await },
            ));
        }
        let mut ids = Vec::new();
        for task in tasks {
            ids.push(task.await.unwrap().unwrap().id);
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 64);
        for id in ids {
            let entry = store.get(id).await.unwrap().unwrap();
            assert_eq!(entry.reference, NoteReference::new(store.instance(), id.0));
        }
    }

    #[tokio::test]
    async fn an_engine_whose_claim_was_taken_over_sends_nothing() {
        use crate::engine::{EngineConfig, WritebackEngine};
        use crate::fake::{FakeGateways, Fault};
        use crate::verify::RecordDemographics;
        let Some((first, url)) = outbox("wb_engine_fence", LeaseClock::Database).await else {
            return;
        };
        let second = PostgresOutbox::connect(&url, PostgresConfig::default())
            .await
            .unwrap();
        let record = RecordDemographics::new(
            nhs_identifiers::NhsNumber::fictitious(2),
            "Example",
            chrono::NaiveDate::from_ymd_opt(1970, 5, 14),
            crate::note::Sex::Female,
        );
        let gateways = Arc::new(FakeGateways::new().with_patient(record));
        // The first engine's demographics read takes 300 ms; its claim lasts 150 ms.
        gateways.script(&[Fault::Slow]);
        let config = |name: &str| {
            EngineConfig::default()
                .with_worker(worker(name))
                .with_lease(Duration::from_millis(150))
        };
        let a = WritebackEngine::new(
            first,
            Arc::clone(&gateways),
            crate::TokioClock::from_system_time(),
            config("a"),
        );
        let b = WritebackEngine::new(
            second,
            Arc::clone(&gateways),
            crate::TokioClock::from_system_time(),
            config("b"),
        );
        let accepted = a.submit(note(2)).await.unwrap();
        let slow = tokio::spawn({
            let a = a.clone();
            async move { a.process_due().await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        // The claim expired on the database's clock: the second engine takes the note and files it.
        b.run_until_settled().await.unwrap();
        // The first engine's read comes back; its next change is refused, so it writes nothing.
        assert_eq!(slow.await.unwrap().unwrap(), 1);
        assert_eq!(gateways.writes_sent(), 1, "only the new owner wrote");
        assert_eq!(gateways.journal().len(), 1);
        assert!(matches!(
            a.status(accepted.id).await.unwrap().unwrap(),
            NoteStatus::Filed { .. }
        ));
    }
}
