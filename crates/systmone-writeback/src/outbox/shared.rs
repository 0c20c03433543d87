//! The engine's view of an outbox: [`Outbox`], an async store whose due notes are **claimed**
//! by a worker under a lease carrying a fencing token.
//!
//! A claim is the right to change one note. Every change a worker makes later names its
//! [`Claim`]; the store applies it only while the note's token is still the claim's, so a worker
//! whose lease expired and whose note was claimed by another worker can change nothing
//! ([`WritebackError::LeaseLost`]). Claims are taken at most one per patient, never for a
//! patient with a note under a live claim.
//!
//! Two kinds of store implement it:
//! - [`LocalOutbox`] adapts any single-owner [`OutboxStore`] ([`crate::SqliteOutbox`],
//!   [`crate::MemoryOutbox`]). Such a store has one engine (SQLite's exclusive lock), so its
//!   claims live in memory and a restart clears them, which is exactly the recovery the engine
//!   has always done: a note found `filing` is reconciled before any resend.
//! - [`crate::PostgresOutbox`] shares one queue between many workers (claims with
//!   `FOR UPDATE SKIP LOCKED`, leases on the database's clock).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use super::{AuditRecord, NoteId, OutboxEntry, OutboxStore, Transition};
use crate::error::WritebackError;
use crate::note::CaseNote;

/// A worker's name in leases and audit trails (e.g. host and process id). Two live workers
/// must not share one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WorkerId(String);

impl WorkerId {
    /// A worker id: 1 to 100 printable characters without spaces.
    pub fn new(id: &str) -> Option<Self> {
        let ok = !id.is_empty()
            && id.len() <= 100
            && id
                .chars()
                .all(|c| c.is_ascii_graphic() || c.is_alphanumeric());
        ok.then(|| Self(id.to_owned()))
    }

    /// A fresh id for this process: `worker-<pid>-<random hex>`.
    pub fn random() -> Self {
        Self(format!(
            "worker-{}-{}",
            std::process::id(),
            crate::reference::new_instance_id()
        ))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WorkerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A worker's claim on one note: the fencing token the store checks on every later change.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Claim {
    /// The note.
    pub note: NoteId,
    /// The worker holding it.
    pub worker: WorkerId,
    /// The fencing token: raised by every new claim on the note.
    pub token: i64,
}

impl Claim {
    /// A claim (stores build these).
    pub fn new(note: NoteId, worker: WorkerId, token: i64) -> Self {
        Self {
            note,
            worker,
            token,
        }
    }
}

/// What [`Outbox::claim_due`] asks for.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClaimRequest {
    /// Who claims.
    pub worker: WorkerId,
    /// The engine's time: notes due at or before it may be claimed.
    pub now: DateTime<Utc>,
    /// At most this many notes (one per patient).
    pub limit: usize,
    /// How long the claim holds without a change renewing it.
    pub lease: Duration,
}

impl ClaimRequest {
    /// A claim request.
    pub fn new(worker: WorkerId, now: DateTime<Utc>, limit: usize, lease: Duration) -> Self {
        Self {
            worker,
            now,
            limit,
            lease,
        }
    }
}

/// An outbox the engine drives: async, shared or not, with claims under leases.
///
/// Every method may be called concurrently from several tasks.
pub trait Outbox: Send + Sync + 'static {
    /// Stores a new note as `queued`, due at `now`, with an `accepted` audit record. When this
    /// returns `Ok` the note is committed (durably, for a durable store); an `Err` means it was
    /// not accepted (see [`WritebackError::is_retryable`]).
    fn accept(
        &self,
        note: CaseNote,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<OutboxEntry, WritebackError>> + Send;

    /// Claims notes that are due, not final and not under a live claim, at most one per patient
    /// and none for a patient with a note under a live claim, earliest due first. Each returned
    /// entry carries its [`Claim`] in [`OutboxEntry::claim`].
    fn claim_due(
        &self,
        request: &ClaimRequest,
    ) -> impl Future<Output = Result<Vec<OutboxEntry>, WritebackError>> + Send;

    /// Applies a transition and its audit record atomically, only if `claim` still holds the
    /// note ([`WritebackError::LeaseLost`] otherwise); renews the lease for `lease`.
    fn record(
        &self,
        claim: &Claim,
        transition: &Transition,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> impl Future<Output = Result<(), WritebackError>> + Send;

    /// Gives a claim up once the worker's step on the note is over (the note may be claimed
    /// again at once). A release that fails leaves the lease to expire.
    fn release(&self, claim: &Claim) -> impl Future<Output = ()> + Send;

    /// Gives a claim up without waiting (from `Drop`, when a step was aborted): a store that
    /// needs IO does it in the background; if that fails the lease expires.
    fn abandon(&self, claim: &Claim);

    /// One note.
    fn get(
        &self,
        id: NoteId,
    ) -> impl Future<Output = Result<Option<OutboxEntry>, WritebackError>> + Send;

    /// When the earliest unfinished note may next be claimed (its due time, or the end of a
    /// live claim on it, as a time on the caller's clock `now`), if any note is unfinished.
    fn next_due(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>, WritebackError>> + Send;

    /// Every note, oldest first.
    fn entries(&self) -> impl Future<Output = Result<Vec<OutboxEntry>, WritebackError>> + Send;

    /// A note's audit trail, oldest first.
    fn audit_trail(
        &self,
        id: NoteId,
    ) -> impl Future<Output = Result<Vec<AuditRecord>, WritebackError>> + Send;
}

/// What a [`crate::WritebackEngine`] can be built over: an [`Outbox`], or a single-owner
/// [`OutboxStore`] (adapted by [`LocalOutbox`]).
pub trait IntoOutbox: 'static {
    /// The outbox the engine drives.
    type Outbox: Outbox;
    /// Converts.
    fn into_outbox(self) -> Self::Outbox;
}

impl<S: OutboxStore> IntoOutbox for S {
    type Outbox = LocalOutbox<S>;
    fn into_outbox(self) -> LocalOutbox<S> {
        LocalOutbox::new(self)
    }
}

/// An [`Outbox`] over a single-owner [`OutboxStore`]: one call at a time, on tokio's blocking
/// pool when the store [`OutboxStore::blocks_on_io`]; claims kept in memory (one engine owns the
/// store, so a claim needs no lease: it holds until released).
///
/// **Group commit** (on by default for a store that blocks on IO): accepts that arrive while a
/// commit is running wait for it, then are all stored by one [`OutboxStore::accept_batch`]
/// (one transaction, one fsync); each caller is answered only once its note is committed.
pub struct LocalOutbox<S> {
    store: Arc<Mutex<S>>,
    blocks: bool,
    claims: Mutex<HashMap<NoteId, (i64, String)>>,
    tokens: AtomicU64,
    group: Option<Arc<Mutex<LocalGroup>>>,
}

/// Where a waiting accept is answered.
type Reply = oneshot::Sender<Result<OutboxEntry, WritebackError>>;

/// Accepts waiting for the next group commit.
#[derive(Default)]
struct LocalGroup {
    waiting: Vec<(CaseNote, DateTime<Utc>, Reply)>,
    committing: bool,
}

/// The most notes one group commit takes.
const MAX_BATCH: usize = 512;

impl<S: OutboxStore> IntoOutbox for LocalOutbox<S> {
    type Outbox = Self;
    fn into_outbox(self) -> Self {
        self
    }
}

impl<S> fmt::Debug for LocalOutbox<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalOutbox")
            .field("blocks", &self.blocks)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl<S: OutboxStore> LocalOutbox<S> {
    /// Adapts `store`.
    pub fn new(store: S) -> Self {
        let blocks = store.blocks_on_io();
        Self {
            store: Arc::new(Mutex::new(store)),
            blocks,
            claims: Mutex::new(HashMap::new()),
            tokens: AtomicU64::new(0),
            group: blocks.then(Arc::default),
        }
    }

    /// Turns group commit on or off (on by default for a store that blocks on IO).
    pub fn with_group_commit(mut self, on: bool) -> Self {
        self.group = on.then(Arc::default);
        self
    }

    /// Commits the waiting accepts in batches until none is waiting.
    async fn drain(store: Arc<Mutex<S>>, group: Arc<Mutex<LocalGroup>>, blocks: bool) {
        loop {
            let batch: Vec<_> = {
                let mut group = lock(&group);
                if group.waiting.is_empty() {
                    group.committing = false;
                    return;
                }
                let take = group.waiting.len().min(MAX_BATCH);
                group.waiting.drain(..take).collect()
            };
            let notes: Vec<(CaseNote, DateTime<Utc>)> =
                batch.iter().map(|(n, t, _)| (n.clone(), *t)).collect();
            let result = if blocks {
                let store = Arc::clone(&store);
                tokio::task::spawn_blocking(move || lock(&store).accept_batch(&notes))
                    .await
                    .unwrap_or_else(|error| {
                        Err(WritebackError::Storage(format!(
                            "outbox task failed: {error}"
                        )))
                    })
            } else {
                lock(&store).accept_batch(&notes)
            };
            match result {
                Ok(entries) if entries.len() == batch.len() => {
                    for ((_, _, reply), entry) in batch.into_iter().zip(entries) {
                        let _gone = reply.send(Ok(entry));
                    }
                }
                other => {
                    let text = match other {
                        Err(error) => error.to_string(),
                        Ok(_) => "the store answered a batch with the wrong count".into(),
                    };
                    for (_, _, reply) in batch {
                        let _gone = reply.send(Err(WritebackError::Storage(text.clone())));
                    }
                }
            }
        }
    }

    /// Runs `work` on the store: inline for a store that does not block on IO, otherwise on
    /// tokio's blocking pool (works on current-thread and multi-thread runtimes, and with
    /// paused time: tokio does not auto-advance the clock while a blocking task runs). The
    /// mutex serialises calls; the caller awaits the result, so a change is committed before
    /// the engine's next step (a write is durably `filing` before it is sent).
    async fn with_store<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut S) -> Result<T, WritebackError> + Send + 'static,
    ) -> Result<T, WritebackError> {
        if !self.blocks {
            return work(&mut lock(&self.store));
        }
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || work(&mut lock(&store)))
            .await
            .map_err(|error| WritebackError::Storage(format!("outbox task failed: {error}")))?
    }
}

impl<S: OutboxStore> Outbox for LocalOutbox<S> {
    async fn accept(
        &self,
        note: CaseNote,
        now: DateTime<Utc>,
    ) -> Result<OutboxEntry, WritebackError> {
        let Some(group) = &self.group else {
            return self.with_store(move |store| store.accept(&note, now)).await;
        };
        let (reply, answer) = oneshot::channel();
        let lead = {
            let mut waiting = lock(group);
            waiting.waiting.push((note, now, reply));
            !std::mem::replace(&mut waiting.committing, true)
        };
        if lead {
            // In its own task: a caller that stops waiting does not strand the others.
            tokio::spawn(Self::drain(
                Arc::clone(&self.store),
                Arc::clone(group),
                self.blocks,
            ));
        }
        answer.await.map_err(|_| {
            WritebackError::Storage("the group commit stopped before answering".into())
        })?
    }

    async fn claim_due(&self, request: &ClaimRequest) -> Result<Vec<OutboxEntry>, WritebackError> {
        let now = request.now;
        let limit = request.limit.max(1);
        let due = self
            .with_store(move |store| store.due(now, limit.saturating_mul(8)))
            .await?;
        let mut claims = lock(&self.claims);
        let mut busy: HashSet<String> = claims.values().map(|(_, p)| p.clone()).collect();
        let mut claimed = Vec::new();
        for mut entry in due {
            if claimed.len() >= limit {
                break;
            }
            let patient = entry.note.patient.nhs_number.expose();
            if claims.contains_key(&entry.id) || busy.contains(&patient) {
                continue;
            }
            let token = i64::try_from(self.tokens.fetch_add(1, Ordering::Relaxed))
                .unwrap_or(i64::MAX)
                .saturating_add(1);
            busy.insert(patient.clone());
            claims.insert(entry.id, (token, patient));
            entry.claim = Some(Claim::new(entry.id, request.worker.clone(), token));
            claimed.push(entry);
        }
        Ok(claimed)
    }

    async fn record(
        &self,
        claim: &Claim,
        transition: &Transition,
        now: DateTime<Utc>,
        _lease: Duration,
    ) -> Result<(), WritebackError> {
        let holds = lock(&self.claims)
            .get(&claim.note)
            .is_some_and(|(token, _)| *token == claim.token);
        if !holds {
            return Err(WritebackError::LeaseLost { note: claim.note.0 });
        }
        let id = claim.note;
        let transition = transition.clone();
        self.with_store(move |store| store.record(id, &transition, now))
            .await
    }

    async fn release(&self, claim: &Claim) {
        self.abandon(claim);
    }

    fn abandon(&self, claim: &Claim) {
        let mut claims = lock(&self.claims);
        if claims
            .get(&claim.note)
            .is_some_and(|(token, _)| *token == claim.token)
        {
            claims.remove(&claim.note);
        }
    }

    async fn get(&self, id: NoteId) -> Result<Option<OutboxEntry>, WritebackError> {
        self.with_store(move |store| store.get(id)).await
    }

    async fn next_due(&self, _now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, WritebackError> {
        self.with_store(|store| store.next_due()).await
    }

    async fn entries(&self) -> Result<Vec<OutboxEntry>, WritebackError> {
        self.with_store(|store| store.entries()).await
    }

    async fn audit_trail(&self, id: NoteId) -> Result<Vec<AuditRecord>, WritebackError> {
        self.with_store(move |store| store.audit_trail(id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::contract::{note, t};
    use super::*;
    use crate::outbox::{AuditEvent, AuditKind, MemoryOutbox, NoteStatus};

    fn request(worker: &str) -> ClaimRequest {
        ClaimRequest {
            worker: WorkerId::new(worker).unwrap(),
            now: t(10),
            limit: 10,
            lease: Duration::from_secs(60),
        }
    }

    #[tokio::test]
    async fn local_claims_are_fenced_one_per_patient_and_released() {
        let outbox = LocalOutbox::new(MemoryOutbox::new());
        let a = outbox.accept(note(2), t(0)).await.unwrap();
        let _same_patient = outbox.accept(note(2), t(0)).await.unwrap();
        let b = outbox.accept(note(3), t(0)).await.unwrap();
        let claimed = outbox.claim_due(&request("w1")).await.unwrap();
        let ids: Vec<_> = claimed.iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![a.id, b.id], "one note per patient");
        assert!(outbox.claim_due(&request("w1")).await.unwrap().is_empty());
        let claim = claimed[0].claim.clone().unwrap();
        let transition = claimed[0].transition(
            NoteStatus::Filing,
            AuditEvent::new(AuditKind::WriteSent, "attempt 1"),
        );
        outbox
            .record(&claim, &transition, t(11), Duration::from_secs(60))
            .await
            .unwrap();
        outbox.release(&claim).await;
        assert!(matches!(
            outbox
                .record(&claim, &transition, t(12), Duration::from_secs(60))
                .await,
            Err(WritebackError::LeaseLost { .. })
        ));
        let again = outbox.claim_due(&request("w1")).await.unwrap();
        assert_eq!(again.len(), 1, "the patient is free again");
        assert_ne!(again[0].claim.as_ref().unwrap().token, claim.token);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_accepts_on_sqlite_share_commits_and_are_all_durable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite");
        let outbox = Arc::new(LocalOutbox::new(crate::SqliteOutbox::open(&path).unwrap()));
        assert!(outbox.group.is_some(), "on by default for a file store");
        let mut tasks = Vec::new();
        for i in 0..64 {
            let outbox = Arc::clone(&outbox);
            tasks.push(tokio::spawn(
                async move { outbox.accept(note(i), t(0)).await },
            ));
        }
        let mut ids = Vec::new();
        for task in tasks {
            ids.push(task.await.unwrap().unwrap().id);
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 64);
        drop(outbox);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let reopened = crate::SqliteOutbox::open(&path).unwrap();
        let entries = reopened.entries().unwrap();
        assert_eq!(entries.len(), 64);
        let mut stored: Vec<String> = entries.into_iter().map(|e| e.note.narrative).collect();
        let mut expected: Vec<String> = (0..64).map(|i| note(i).narrative).collect();
        stored.sort();
        expected.sort();
        assert_eq!(stored, expected, "every acknowledged note is on disk, once");
    }
}
