//! The writeback engine: takes notes into the outbox and drives each one to filed or rejected.
//!
//! Per note the state machine is:
//!
//! ```text
//! queued ──verify demographics──▶ (mismatch / no record / refused) ──▶ rejected
//!    │                              (read failed) ──▶ queued, backoff
//!    ▼ durable "filing" first, then UpdatePatientRecord
//! filing ──ok──▶ filed(EventUID)
//!    ├── not applied (record in use, no gateway) ──▶ queued, backoff
//!    ├── refused for good ──▶ rejected
//!    └── sent, no answer ──▶ outcome-unknown
//! outcome-unknown ──read today's entries──▶ reference found ──▶ filed(EventUID)
//!                                       ├── not found ──▶ queued (written again)
//!                                       └── read failed ──▶ outcome-unknown, backoff
//! ```
//!
//! A note found in `filing` that this engine is not sending was left by a stopped process: it
//! is reconciled like `outcome-unknown`. A write is never sent again until a read has shown the
//! note is not in the journal, so no note is filed twice.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::error::WritebackError;
use crate::gateway::{EntriesQuery, EventUid, GatewayError, Gateways, JournalTask, JournalWrite};
use crate::note::{Authorship, CaseNote};
use crate::outbox::{
    AuditEvent, AuditKind, AuditRecord, Claim, ClaimRequest, IntoOutbox, NoteId, NoteStatus,
    Outbox, OutboxEntry, WorkerId,
};
use crate::reference::NoteReference;
use crate::retry::RetryPolicy;
use crate::verify::verify_patient;

/// Engine settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EngineConfig {
    /// Backoff and reconciliation timing.
    pub retry: RetryPolicy,
    /// Notes worked on at once (at most one per patient). Match it to the number of gateways.
    pub max_in_flight: usize,
    /// How long the background worker sleeps when nothing is due and nothing is submitted.
    pub idle_poll: Duration,
    /// This engine's name in claims (leases) on a shared outbox.
    pub worker: WorkerId,
    /// How long a claim on a note holds without a change renewing it. On a shared outbox
    /// another worker may take the note over (and reconcile it) once it expires, so it must be
    /// longer than the longest time a sent write may still be applied by SystmOne (the client's
    /// request timeout plus any delay inside the Gateway PC).
    pub lease: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            max_in_flight: 2,
            idle_poll: Duration::from_secs(30),
            worker: WorkerId::random(),
            lease: Duration::from_secs(120),
        }
    }
}

impl EngineConfig {
    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets this engine's worker id (its name in claims on a shared outbox).
    pub fn with_worker(mut self, worker: WorkerId) -> Self {
        self.worker = worker;
        self
    }

    /// Sets how long a claim on a note holds without being renewed.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Sets how many notes are worked on at once (at least 1).
    pub fn with_max_in_flight(mut self, notes: usize) -> Self {
        self.max_in_flight = notes.max(1);
        self
    }
}

/// What `submit` returns: the note is in the outbox (on disk for a durable store).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Accepted {
    /// The note's id in the outbox.
    pub id: NoteId,
    /// The reference embedded in its text.
    pub reference: NoteReference,
    /// How the journal will attribute it (says so when the author has no SystmOne username).
    pub authorship: Authorship,
}

/// The writeback engine over a store `S`, the gateways `G` and a clock `C`.
///
/// Cheap to clone (shared state). One engine per outbox at a time.
pub struct WritebackEngine<S: IntoOutbox, G, C> {
    inner: Arc<Inner<S, G, C>>,
}

impl<S: IntoOutbox, G, C> Clone for WritebackEngine<S, G, C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner<S: IntoOutbox, G, C> {
    /// The outbox (a single-owner store is adapted by [`crate::LocalOutbox`]).
    store: S::Outbox,
    gateways: G,
    clock: C,
    config: EngineConfig,
    /// Notes this engine is working on now.
    in_flight: Mutex<HashMap<NoteId, String>>,
    /// Consecutive failures per note since this engine started (for backoff).
    failures: Mutex<HashMap<NoteId, u32>>,
    wake: Notify,
    /// Signalled whenever a note leaves `in_flight` (its step finished or was cancelled).
    step_done: Notify,
}

/// Takes a note out of `in_flight` when its step ends, also when the step's task is aborted
/// (a dropped [`Worker`], or a `process_due` future dropped by a caller's timeout): otherwise
/// this engine would never work on that note again.
struct InFlight<S: IntoOutbox, G, C> {
    inner: Arc<Inner<S, G, C>>,
    id: NoteId,
    claim: Option<Claim>,
}

impl<S: IntoOutbox, G, C> Drop for InFlight<S, G, C> {
    fn drop(&mut self) {
        if let Some(claim) = &self.claim {
            self.inner.store.abandon(claim);
        }
        lock(&self.inner.in_flight).remove(&self.id);
        self.inner.step_done.notify_waiters();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl<S: IntoOutbox, G: Gateways, C: Clock + 'static> WritebackEngine<S, G, C> {
    /// An engine over `store` (a single-owner [`crate::OutboxStore`] or a shared
    /// [`crate::Outbox`]), filing through `gateways`, with time from `clock`.
    pub fn new(store: S, gateways: G, clock: C, config: EngineConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                store: store.into_outbox(),
                gateways,
                clock,
                config,
                in_flight: Mutex::new(HashMap::new()),
                failures: Mutex::new(HashMap::new()),
                wake: Notify::new(),
                step_done: Notify::new(),
            }),
        }
    }

    /// Accepts a note into the outbox. When this returns `Ok` the note is stored (durably,
    /// fsynced, for [`crate::SqliteOutbox`]) and will be filed or rejected; nothing is sent yet.
    ///
    /// A store that blocks on IO is written on tokio's blocking pool, so the commit never
    /// stalls a runtime worker thread; dropping this future after the commit started does not
    /// undo it (the note is then in the outbox without an [`Accepted`] to show for it).
    pub async fn submit(&self, note: CaseNote) -> Result<Accepted, WritebackError> {
        let authorship = note.author.authorship();
        let now = self.inner.clock.now();
        let entry = self.inner.store.accept(note, now).await?;
        tracing::info!(note = %entry.id, reference = %entry.reference, "note accepted");
        self.inner.wake.notify_one();
        Ok(Accepted {
            id: entry.id,
            reference: entry.reference,
            authorship,
        })
    }

    /// A note's current state.
    ///
    /// This and the other inspection calls ([`Self::status`], [`Self::entries`],
    /// [`Self::audit_trail`]) are short reads (no fsync); on a single-owner store they wait
    /// for a write in progress.
    pub async fn entry(&self, id: NoteId) -> Result<Option<OutboxEntry>, WritebackError> {
        self.inner.store.get(id).await
    }

    /// A note's status.
    pub async fn status(&self, id: NoteId) -> Result<Option<NoteStatus>, WritebackError> {
        Ok(self.entry(id).await?.map(|entry| entry.status))
    }

    /// Every note in the outbox, oldest first.
    pub async fn entries(&self) -> Result<Vec<OutboxEntry>, WritebackError> {
        self.inner.store.entries().await
    }

    /// A note's audit trail.
    pub async fn audit_trail(&self, id: NoteId) -> Result<Vec<AuditRecord>, WritebackError> {
        self.inner.store.audit_trail(id).await
    }

    /// The outbox this engine drives.
    pub fn outbox(&self) -> &S::Outbox {
        &self.inner.store
    }

    /// The gateways this engine files through.
    pub fn gateways(&self) -> &G {
        &self.inner.gateways
    }

    /// Claims the notes due now (at most `max_in_flight` minus the notes this engine is
    /// already working on, one per patient), works once on each concurrently, and returns how
    /// many were worked on. A note whose claim another worker took meanwhile is left alone.
    pub async fn process_due(&self) -> Result<usize, WritebackError> {
        let now = self.inner.clock.now();
        let limit = self.inner.config.max_in_flight.max(1);
        let free = limit.saturating_sub(lock(&self.inner.in_flight).len());
        if free == 0 {
            return Ok(0);
        }
        let request = ClaimRequest {
            worker: self.inner.config.worker.clone(),
            now,
            limit: free,
            lease: self.inner.config.lease,
        };
        let claimed = self.inner.store.claim_due(&request).await?;
        let mut picked = Vec::new();
        let mut give_back = Vec::new();
        {
            let mut in_flight = lock(&self.inner.in_flight);
            let mut busy_patients: HashSet<String> = in_flight.values().cloned().collect();
            for entry in claimed {
                let patient = entry.note.patient.nhs_number.expose();
                if in_flight.contains_key(&entry.id) || busy_patients.contains(&patient) {
                    // Never expected (the store claims one per patient): give it back.
                    give_back.extend(entry.claim);
                    continue;
                }
                busy_patients.insert(patient.clone());
                in_flight.insert(entry.id, patient);
                picked.push(entry);
            }
        }
        for claim in &give_back {
            self.inner.store.release(claim).await;
        }
        let count = picked.len();
        let mut tasks = JoinSet::new();
        for entry in picked {
            let engine = self.clone();
            let guard = InFlight {
                inner: Arc::clone(&engine.inner),
                id: entry.id,
                claim: entry.claim.clone(),
            };
            tasks.spawn(async move {
                let mut in_flight = guard;
                let result = engine.step(entry).await;
                if let Some(claim) = in_flight.claim.take() {
                    engine.inner.store.release(&claim).await;
                }
                drop(in_flight);
                result
            });
        }
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(WritebackError::LeaseLost { note })) => {
                    tracing::warn!(note, "claim taken by another worker; note left to it");
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, "outbox update failed");
                    first_error.get_or_insert(error);
                }
                Err(join_error) => {
                    first_error.get_or_insert(WritebackError::Storage(format!(
                        "note task failed: {join_error}"
                    )));
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(count),
        }
    }

    /// Works on notes until every note in the outbox is filed or rejected, sleeping (on
    /// tokio's clock) until the next note is due. Notes another caller of this engine (e.g. its
    /// [`Worker`]) is working on are waited for, not polled.
    pub async fn run_until_settled(&self) -> Result<(), WritebackError> {
        loop {
            // Registered before the pass, so a step that ends meanwhile is not missed.
            let step_done = self.inner.step_done.notified();
            tokio::pin!(step_done);
            step_done.as_mut().enable();
            let worked_on = self.process_due().await?;
            let now = self.inner.clock.now();
            let Some(next) = self.inner.store.next_due(now).await? else {
                return Ok(());
            };
            if lock(&self.inner.in_flight).is_empty() {
                self.sleep_until(next).await;
                continue;
            }
            // Another caller (e.g. the worker) is working on notes: wake when one of its steps
            // ends as well as when the next note is due. When the due notes are all in its
            // hands, wait for it rather than spin (bounded, so a note that fell due meanwhile
            // waits at most a second).
            let mut wait = until(self.inner.clock.now(), next);
            if worked_on == 0 && wait.is_zero() {
                wait = BUSY_POLL.min(self.inner.config.idle_poll);
            }
            tokio::select! {
                () = step_done => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Starts a background worker that files notes as they are submitted. Dropping the
    /// returned handle stops the worker at once, like a crash: a note it was writing is left
    /// `filing` and is reconciled before any resend (by this engine's next pass or by the next
    /// engine on the same outbox); [`Worker::shutdown`] stops it between steps. The aborted task
    /// (and its hold on the outbox file) is released the next time the runtime runs, once a
    /// store call already running on tokio's blocking pool has finished, so let it run before
    /// opening the same [`crate::SqliteOutbox`] file again in this process.
    pub fn spawn_worker(&self) -> Worker {
        let engine = self.clone();
        let stop = Arc::new(Notify::new());
        let stop_signal = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            loop {
                if let Err(error) = engine.process_due().await {
                    tracing::warn!(%error, "writeback pass failed; retrying");
                }
                let now = engine.inner.clock.now();
                let idle = engine.inner.config.idle_poll;
                let wait = match engine.inner.store.next_due(now).await {
                    Ok(Some(next)) => until(now, next).min(idle),
                    _ => idle,
                };
                tokio::select! {
                    () = stop_signal.notified() => return,
                    () = engine.inner.wake.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                }
            }
        });
        Worker {
            stop,
            task: Some(task),
        }
    }

    async fn sleep_until(&self, at: DateTime<Utc>) {
        let wait = until(self.inner.clock.now(), at);
        if wait.is_zero() {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(wait).await;
        }
    }

    async fn step(&self, entry: OutboxEntry) -> Result<(), WritebackError> {
        match entry.status {
            NoteStatus::Queued => self.attempt_write(entry).await,
            NoteStatus::Filing => {
                // Left mid-write by a stopped process (this engine is not sending it).
                let transition = entry.transition(
                    NoteStatus::OutcomeUnknown,
                    AuditEvent::new(
                        AuditKind::Recovered,
                        "found mid-write after a restart: reading the journal before any retry",
                    ),
                );
                self.record(&entry, &transition).await?;
                let entry = OutboxEntry {
                    status: NoteStatus::OutcomeUnknown,
                    ..entry
                };
                self.reconcile(entry).await
            }
            NoteStatus::OutcomeUnknown => self.reconcile(entry).await,
            NoteStatus::Filed { .. } | NoteStatus::Rejected { .. } => Ok(()),
        }
    }

    async fn attempt_write(&self, mut entry: OutboxEntry) -> Result<(), WritebackError> {
        if !entry.verified {
            match self
                .inner
                .gateways
                .read_demographics(&entry.note.patient.nhs_number)
                .await
            {
                Ok(record) => {
                    if let Err(mismatch) = verify_patient(&entry.note.patient, &record) {
                        return self.reject(&entry, mismatch.to_string()).await;
                    }
                    let mut transition = entry.transition(
                        NoteStatus::Queued,
                        AuditEvent::new(
                            AuditKind::Verified,
                            "NHS number, surname, date of birth and sex match the record",
                        ),
                    );
                    transition.verified = true;
                    self.record(&entry, &transition).await?;
                    entry.verified = true;
                }
                Err(GatewayError::PatientNotFound) => {
                    return self
                        .reject(&entry, "no SystmOne record has that NHS number".into())
                        .await;
                }
                Err(GatewayError::Permanent { reason }) => {
                    return self
                        .reject(&entry, format!("demographics read refused: {reason}"))
                        .await;
                }
                Err(error) => {
                    return self
                        .retry_later(
                            &entry,
                            NoteStatus::Queued,
                            &format!("demographics read failed: {error}"),
                        )
                        .await;
                }
            }
        }

        let now = self.inner.clock.now();
        let mut filing = entry.transition(
            NoteStatus::Filing,
            AuditEvent::new(
                AuditKind::WriteSent,
                format!(
                    "UpdatePatientRecord attempt {}",
                    entry.attempts.saturating_add(1)
                ),
            ),
        );
        filing.attempts = entry.attempts.saturating_add(1);
        filing.last_attempt_on = Some(self.inner.clock.london_today());
        let filing = filing.due_at(now + chrono_duration(self.inner.config.retry.reconcile_after));
        // Durable before anything is sent: a crash from here on is reconciled, never resent blind.
        self.record(&entry, &filing).await?;
        let entry = OutboxEntry {
            status: NoteStatus::Filing,
            attempts: filing.attempts,
            last_attempt_on: filing.last_attempt_on,
            next_attempt_at: filing.next_attempt_at,
            ..entry
        };

        let write = JournalWrite::for_note(&entry.note, &entry.reference);
        match self.inner.gateways.write_note(&write).await {
            Ok(receipt) => {
                let detail = format!("EventUID {} via {}", receipt.event_uid, receipt.gateway);
                let transition = entry.transition(
                    NoteStatus::Filed {
                        event_uid: receipt.event_uid,
                        task_uid: receipt.task_uid,
                    },
                    AuditEvent::new(AuditKind::Filed, detail),
                );
                self.clear_failures(entry.id);
                self.record(&entry, &transition).await
            }
            Err(GatewayError::OutcomeUnknown { reason }) => {
                let transition = entry
                    .transition(
                        NoteStatus::OutcomeUnknown,
                        AuditEvent::new(
                            AuditKind::OutcomeUnknown,
                            format!("{reason}; reading the journal before any retry"),
                        ),
                    )
                    .due_at(
                        self.inner.clock.now()
                            + chrono_duration(self.inner.config.retry.reconcile_after),
                    );
                self.record(&entry, &transition).await
            }
            Err(GatewayError::RetrySafe { reason }) => {
                self.retry_later(
                    &entry,
                    NoteStatus::Queued,
                    &format!("write not applied: {reason}"),
                )
                .await
            }
            Err(GatewayError::Permanent { reason }) => {
                self.reject(&entry, format!("SystmOne refused the write: {reason}"))
                    .await
            }
            Err(GatewayError::PatientNotFound) => {
                self.reject(&entry, "no SystmOne record has that NHS number".into())
                    .await
            }
        }
    }

    async fn reconcile(&self, entry: OutboxEntry) -> Result<(), WritebackError> {
        let today = self.inner.clock.london_today();
        let from = entry.last_attempt_on.map_or(today, |day| day.min(today));
        let query = EntriesQuery {
            nhs_number: entry.note.patient.nhs_number,
            done_by: entry.note.author.username.clone(),
            from,
            to: today,
        };
        match self.inner.gateways.read_entries(&query).await {
            Ok(read) => match read
                .events
                .iter()
                .find(|event| event.carries(&entry.reference))
            {
                Some(event) => {
                    let (task_uid, task_detail) = recovered_task(&entry, &read.tasks);
                    let detail = format!(
                        "reference found in the journal as EventUID {}{task_detail}",
                        event.event_uid
                    );
                    let transition = entry.transition(
                        NoteStatus::Filed {
                            event_uid: event.event_uid.clone(),
                            task_uid,
                        },
                        AuditEvent::new(AuditKind::FoundInJournal, detail),
                    );
                    self.clear_failures(entry.id);
                    self.record(&entry, &transition).await
                }
                None => {
                    let transition = entry
                        .transition(
                            NoteStatus::Queued,
                            AuditEvent::new(
                                AuditKind::NotInJournal,
                                "reference not in the journal: the write did not apply and will be sent again",
                            ),
                        )
                        .due_at(self.inner.clock.now());
                    self.record(&entry, &transition).await
                }
            },
            Err(error) => {
                self.retry_later(
                    &entry,
                    NoteStatus::OutcomeUnknown,
                    &format!("journal read failed ({error}); still reconciling"),
                )
                .await
            }
        }
    }

    async fn retry_later(
        &self,
        entry: &OutboxEntry,
        status: NoteStatus,
        why: &str,
    ) -> Result<(), WritebackError> {
        let failures = {
            let mut failures = lock(&self.inner.failures);
            let count = failures.entry(entry.id).or_insert(0);
            *count = count.saturating_add(1);
            *count
        };
        let delay = self.inner.config.retry.delay(failures);
        let transition = entry
            .transition(
                status,
                AuditEvent::new(
                    AuditKind::RetryScheduled,
                    format!("{why}; next try in {} s", delay.as_secs()),
                ),
            )
            .due_at(self.inner.clock.now() + chrono_duration(delay));
        self.record(entry, &transition).await
    }

    async fn reject(&self, entry: &OutboxEntry, reason: String) -> Result<(), WritebackError> {
        // SystmOne's own error text may quote an NHS number: never store one in full.
        let reason = nhs_identifiers::scan::redact(&reason);
        let transition = entry.transition(
            NoteStatus::Rejected {
                reason: reason.clone(),
            },
            AuditEvent::new(AuditKind::Rejected, reason),
        );
        self.clear_failures(entry.id);
        self.record(entry, &transition).await
    }

    fn clear_failures(&self, id: NoteId) {
        lock(&self.inner.failures).remove(&id);
    }

    async fn record(
        &self,
        entry: &OutboxEntry,
        transition: &crate::outbox::Transition,
    ) -> Result<(), WritebackError> {
        tracing::info!(
            note = %entry.id,
            status = transition.status.name(),
            event = transition.audit.kind.name(),
            "note status changed"
        );
        let mut transition = transition.clone();
        if nhs_identifiers::scan::contains_nhs_number(&transition.audit.detail) {
            transition.audit.detail = nhs_identifiers::scan::redact(&transition.audit.detail);
        }
        let now = self.inner.clock.now();
        // Every change is made under the note's claim: a worker whose claim was taken over
        // changes nothing (and, its "filing" refused, sends nothing).
        let claim = entry
            .claim
            .as_ref()
            .ok_or(WritebackError::LeaseLost { note: entry.id.0 })?;
        self.inner
            .store
            .record(claim, &transition, now, self.inner.config.lease)
            .await
    }
}

/// The task filed with a note found by reconciliation: the open task whose content carries the
/// note's reference (see [`JournalWrite::for_note`]), with the words for the audit record.
///
/// SystmOne lists only tasks that are not completed, so a task the practice completed before the
/// read (or a read that returned several matches, which a unique reference rules out) leaves
/// the TaskUID unknown: the audit record then says the task was filed and its UID is unknown.
fn recovered_task(entry: &OutboxEntry, tasks: &[JournalTask]) -> (Option<EventUid>, String) {
    if entry.note.task.is_none() {
        return (None, String::new());
    }
    let mut matching = tasks.iter().filter(|task| task.carries(&entry.reference));
    match (matching.next(), matching.next()) {
        (Some(task), None) => (
            Some(task.task_uid.clone()),
            format!("; its task as TaskUID {}", task.task_uid),
        ),
        (None, _) => (
            None,
            "; the task filed with it is not among the open tasks read (completed already?): \
             task filed, TaskUID unknown"
                .to_owned(),
        ),
        (Some(_), Some(_)) => (
            None,
            "; several open tasks carry its reference: task filed, TaskUID unknown".to_owned(),
        ),
    }
}

/// The longest [`WritebackEngine::run_until_settled`] waits for another caller's step before
/// looking again.
const BUSY_POLL: Duration = Duration::from_secs(1);

fn chrono_duration(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

fn until(now: DateTime<Utc>, at: DateTime<Utc>) -> Duration {
    (at - now).to_std().unwrap_or(Duration::ZERO)
}

/// A running background worker (from [`WritebackEngine::spawn_worker`]).
#[derive(Debug)]
pub struct Worker {
    stop: Arc<Notify>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Worker {
    /// Stops the worker after its current pass and waits for it.
    pub async fn shutdown(mut self) {
        self.stop.notify_one();
        if let Some(task) = self.task.take() {
            let _finished = task.await;
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
