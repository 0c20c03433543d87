//! The marketplace as a running, persistent service (feature `live`).
//!
//! * [`core`]: listings, referrals and notifications as records, and the Joy rules over them,
//!   without IO (time is a parameter).
//! * [`crate::store`]: where records live (SQLite by default, PostgreSQL for several
//!   instances).
//! * [`Live`]: one instance. It loads every record at start, builds the search
//!   [`Directory`] once, and afterwards applies each change to the in-memory index
//!   incrementally ([`crate::search::incremental`]). Commands run one at a time per instance:
//!   the rules decide on the current records, the writes are committed, then applied.
//! * **Several instances on one PostgreSQL** see each other's changes by **polling by
//!   modification sequence** ([`Live::catch_up`], run every [`LiveOptions::poll_every`] by
//!   [`Live::spawn_background`], default 500 ms): a change committed by one instance is in
//!   the other's search within one poll interval plus the query time. A write decided on
//!   stale records is refused by the store and decided again after catching up.
//! * **Scheduler**: [`Live::tick`] runs the time rules (reminders, 30-day automatic decline,
//!   suspension, attendance follow-ups, the 48 h review report) at the injected [`Clock`]'s
//!   time; [`Live::spawn_background`] calls it every [`LiveOptions::tick_every`].
//! * **Notifications** are records too (a durable outbox): [`Live::outbox`] lists them,
//!   [`Live::dispatch`] hands unsent ones to a [`Notifier`] and marks them sent; one that
//!   fails stays unsent for the next dispatch. `smtp::SmtpNotifier` (feature `smtp`) e-mails
//!   them through a relay; [`LogNotifier`] only logs.

pub mod core;
#[cfg(feature = "smtp")]
pub mod smtp;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use thiserror::Error;

use self::core::{
    Core, IndexChange, ListingInput, LiveRules, Notification, Principal, StateAction, Statistics,
    Write,
};
use crate::search::{Directory, DirectoryBuilder};
use crate::store::{RecordWrite, Store, StoreError};
use crate::validate::Finding;

/// Why a marketplace command was refused.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum LiveError {
    /// The service failed validation: the errors with their JSON paths.
    #[error("the service is not valid ORUK 3.0 ({} errors)", .0.len())]
    Invalid(Vec<Finding>),
    /// Malformed or unacceptable input (the message names the field).
    #[error("{0}")]
    BadRequest(String),
    /// No such listing or referral.
    #[error("{0}")]
    NotFound(&'static str),
    /// No (valid) key.
    #[error("a valid API key is required")]
    Unauthorized,
    /// The caller may not do this (another provider's listing, an administrator's action).
    #[error("{0}")]
    Forbidden(&'static str),
    /// An illegal state change (decline an accepted referral, approve a deleted listing).
    #[error("{0}")]
    Conflict(&'static str),
    /// The store failed (retryable).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored record could not be read.
    #[error("{0}")]
    Corrupt(String),
}

/// The time source (injected: tests move it by hand): the workspace's one clock,
/// re-exported here at the paths this module had.
pub use nhs_identifiers::clock::{Clock, ManualClock, SystemClock};

/// Delivers notifications (e-mail in production: `smtp::SmtpNotifier`, feature `smtp`, which
/// resolves [`core::Recipient`]s to addresses through an address book). [`LogNotifier`]
/// records deliveries in the log without any content.
pub trait Notifier: Send + Sync {
    /// Sends one notification; an error leaves it in the outbox for the next dispatch.
    fn send<'a>(
        &'a self,
        notification: &'a Notification,
    ) -> crate::store::BoxFuture<'a, Result<(), String>>;
}

/// Logs each notification's kind and ids (never content) and counts it as sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

impl Notifier for LogNotifier {
    fn send<'a>(
        &'a self,
        notification: &'a Notification,
    ) -> crate::store::BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            tracing::info!(kind = ?notification.kind, id = %notification.id, "notification sent");
            Ok(())
        })
    }
}

/// Options of a [`Live`] instance.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LiveOptions {
    /// The rules.
    pub rules: LiveRules,
    /// How often other instances' changes are read (default 500 ms).
    pub poll_every: StdDuration,
    /// How often the time rules run (default 60 s).
    pub tick_every: StdDuration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            rules: LiveRules::default(),
            poll_every: StdDuration::from_millis(500),
            tick_every: StdDuration::from_secs(60),
        }
    }
}

impl LiveOptions {
    /// Sets [`LiveOptions::poll_every`].
    #[must_use]
    pub fn poll_every(mut self, every: StdDuration) -> Self {
        self.poll_every = every;
        self
    }

    /// Sets [`LiveOptions::rules`].
    #[must_use]
    pub fn rules(mut self, rules: LiveRules) -> Self {
        self.rules = rules;
        self
    }
}

struct Inner {
    core: Core,
    head: u64,
}

/// One running marketplace instance.
pub struct Live {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    inner: tokio::sync::Mutex<Inner>,
    directory: Arc<RwLock<Directory>>,
    options: LiveOptions,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").finish_non_exhaustive()
    }
}

fn apply_index(directory: &RwLock<Directory>, changes: Vec<IndexChange>) {
    if changes.iter().all(|c| matches!(c, IndexChange::None)) {
        return;
    }
    let mut directory = directory.write().unwrap_or_else(|p| p.into_inner());
    for change in changes {
        match change {
            IndexChange::None => {}
            IndexChange::Upsert(service, state) => {
                let id = service.id.clone();
                directory.upsert(*service);
                directory.set_listing_state(&id, state);
            }
            IndexChange::Remove(id) => {
                directory.remove(&id);
            }
        }
    }
}

impl Live {
    /// Loads every record from the store and indexes the approved listings once.
    pub async fn open(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        builder: DirectoryBuilder,
        options: LiveOptions,
    ) -> Result<Self, LiveError> {
        let (records, head) = store.load_since(0).await?;
        let mut core = Core::new(options.rules.clone());
        let mut services = Vec::new();
        let mut states = Vec::new();
        for record in records {
            if let IndexChange::Upsert(service, state) = core.apply(Write::decode_keyed(
                &record.kind,
                &record.key,
                &record.body,
            )?) {
                states.push((service.id.clone(), state));
                services.push(*service);
            }
        }
        // Records are applied in sequence order; a listing written twice appears once.
        let mut seen = std::collections::HashSet::new();
        let mut unique = Vec::new();
        for service in services.into_iter().rev() {
            if seen.insert(service.id.clone()) {
                unique.push(service);
            }
        }
        let mut directory = builder.build(unique);
        for (id, _) in &states {
            let current = core
                .listing(id)
                .filter(|l| l.review == core::Review::Approved)
                .map(|l| l.state);
            match current {
                Some(state) => {
                    directory.set_listing_state(id, state);
                }
                None => {
                    directory.remove(id);
                }
            }
        }
        Ok(Self {
            store,
            clock,
            inner: tokio::sync::Mutex::new(Inner { core, head }),
            directory: Arc::new(RwLock::new(directory)),
            options,
        })
    }

    /// The search directory (share it with [`crate::api::ApiState`]).
    pub fn directory(&self) -> Arc<RwLock<Directory>> {
        Arc::clone(&self.directory)
    }

    /// The clock's time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    async fn catch_up_locked(&self, inner: &mut Inner) -> Result<usize, LiveError> {
        let (records, head) = self.store.load_since(inner.head).await?;
        let mut changes = Vec::new();
        let count = records.len();
        for record in records {
            changes.push(inner.core.apply(Write::decode_keyed(
                &record.kind,
                &record.key,
                &record.body,
            )?));
        }
        inner.head = inner.head.max(head);
        apply_index(&self.directory, changes);
        Ok(count)
    }

    /// Reads records other instances committed since this one last looked and applies them
    /// (index included). Returns how many records changed.
    pub async fn catch_up(&self) -> Result<usize, LiveError> {
        let mut inner = self.inner.lock().await;
        self.catch_up_locked(&mut inner).await
    }

    /// Runs a command: decide on the current records, commit, apply. A conflict with another
    /// instance catches up and decides again (a few times).
    pub(crate) async fn run<T>(
        &self,
        decide: impl Fn(&Core, DateTime<Utc>) -> Result<(Vec<Write>, T), LiveError>,
    ) -> Result<T, LiveError> {
        let mut inner = self.inner.lock().await;
        let mut attempts = 0;
        loop {
            let (writes, answer) = decide(&inner.core, self.clock.now())?;
            if writes.is_empty() {
                return Ok(answer);
            }
            let records = writes
                .iter()
                .map(|w| Ok(RecordWrite::new(w.kind(), w.key(), w.body()?)))
                .collect::<Result<Vec<_>, LiveError>>()?;
            match self.store.commit(inner.head, records).await {
                Ok(head) => {
                    inner.head = head;
                    let changes = writes.into_iter().map(|w| inner.core.apply(w)).collect();
                    apply_index(&self.directory, changes);
                    return Ok(answer);
                }
                Err(StoreError::Conflict) if attempts < 5 => {
                    attempts += 1;
                    self.catch_up_locked(&mut inner).await?;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Reads the records (no IO).
    pub async fn read<T>(&self, f: impl FnOnce(&Core) -> T) -> T {
        let inner = self.inner.lock().await;
        f(&inner.core)
    }

    /// Creates a listing (waits for review); returns the validator's warnings.
    pub async fn create_listing(
        &self,
        principal: &Principal,
        input: ListingInput,
    ) -> Result<Vec<Finding>, LiveError> {
        self.run(|core, now| core.create_listing(principal, input.clone(), now))
            .await
    }

    /// Replaces a listing's service; returns the validator's warnings.
    pub async fn edit_listing(
        &self,
        principal: &Principal,
        id: &str,
        input: ListingInput,
    ) -> Result<Vec<Finding>, LiveError> {
        self.run(|core, now| {
            let (writes, warnings) = core.edit_listing(principal, id, input.clone(), now)?;
            let writes = crate::freshness::after_edit(core, id, writes, now)?;
            Ok((writes, warnings))
        })
        .await
    }

    /// Deletes a listing.
    pub async fn delete_listing(&self, principal: &Principal, id: &str) -> Result<(), LiveError> {
        self.run(|core, _| Ok((core.delete_listing(principal, id)?, ())))
            .await
    }

    /// Approves or declines a listing.
    pub async fn review(
        &self,
        principal: &Principal,
        id: &str,
        approve: bool,
    ) -> Result<(), LiveError> {
        self.run(|core, now| Ok((core.review(principal, id, approve, now)?, ())))
            .await
    }

    /// Changes a listing's state.
    pub async fn set_state(
        &self,
        principal: &Principal,
        id: &str,
        action: StateAction,
    ) -> Result<(), LiveError> {
        self.run(|core, now| {
            let writes = core.set_state(principal, id, action.clone())?;
            let writes = crate::freshness::after_state_change(core, id, &action, writes, now)?;
            Ok((writes, ()))
        })
        .await
    }

    /// Bulk upload; returns (service id, claim token) pairs.
    pub async fn bulk_upload(
        &self,
        principal: &Principal,
        services: Vec<Value>,
    ) -> Result<Vec<(String, String)>, LiveError> {
        self.run(|core, now| core.bulk_upload(principal, services.clone(), now))
            .await
    }

    /// Claims a bulk-uploaded entry.
    pub async fn claim(&self, principal: &Principal, token: &str) -> Result<(), LiveError> {
        self.run(|core, _| Ok((core.claim(principal, token)?, ())))
            .await
    }

    /// Makes a referral; returns (referral id, feedback token).
    pub async fn refer(
        &self,
        principal: &Principal,
        service_id: &str,
        answers: BTreeMap<String, String>,
    ) -> Result<(String, String), LiveError> {
        self.run(|core, now| {
            let (writes, id, token) = core.refer(principal, service_id, answers.clone(), now)?;
            Ok((writes, (id, token)))
        })
        .await
    }

    /// Accepts or declines a referral.
    pub async fn answer(
        &self,
        principal: &Principal,
        id: &str,
        accept: bool,
    ) -> Result<(), LiveError> {
        self.run(|core, now| Ok((core.answer(principal, id, accept, now)?, ())))
            .await
    }

    /// Records attendance.
    pub async fn attendance(
        &self,
        principal: &Principal,
        id: &str,
        attended: bool,
    ) -> Result<(), LiveError> {
        self.run(|core, _| Ok((core.attendance(principal, id, attended)?, ())))
            .await
    }

    /// Records the referred person's score.
    pub async fn feedback(
        &self,
        id: &str,
        token: &str,
        score: u8,
        met_needs: Option<bool>,
    ) -> Result<(), LiveError> {
        self.run(|core, _| Ok((core.feedback(id, token, score, met_needs)?, ())))
            .await
    }

    /// Runs the time rules at the clock's time; returns how many records changed.
    pub async fn tick(&self) -> Result<usize, LiveError> {
        self.run(|core, now| {
            let mut writes = core.tick(now);
            writes.extend(crate::freshness::review_tick(core, now)?);
            let count = writes.len();
            Ok((writes, count))
        })
        .await
    }

    /// Every notification, oldest first (the durable outbox, sent ones included).
    pub async fn outbox(&self) -> Vec<Notification> {
        self.read(|core| core.notifications().into_iter().cloned().collect())
            .await
    }

    /// Sends every unsent notification through `notifier`, marking each sent once delivered.
    /// Returns how many were sent.
    pub async fn dispatch(&self, notifier: &dyn Notifier) -> Result<usize, LiveError> {
        let unsent: Vec<Notification> = self
            .read(|core| {
                core.notifications()
                    .into_iter()
                    .filter(|n| n.sent_at.is_none())
                    .cloned()
                    .collect()
            })
            .await;
        let mut sent = 0;
        for notification in unsent {
            if notifier.send(&notification).await.is_ok() {
                self.run(|core, now| Ok((core.mark_sent(&notification.id, now), ())))
                    .await?;
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// Per-service statistics.
    pub async fn statistics(&self, service_id: &str) -> Statistics {
        self.read(|core| core.statistics(service_id)).await
    }

    /// Spawns the background loop: catch up every [`LiveOptions::poll_every`], run the time
    /// rules and dispatch notifications every [`LiveOptions::tick_every`]. Abort the handle to
    /// stop it.
    pub fn spawn_background(
        self: &Arc<Self>,
        notifier: Arc<dyn Notifier>,
    ) -> tokio::task::JoinHandle<()> {
        let live = Arc::clone(self);
        tokio::spawn(async move {
            let mut poll = tokio::time::interval(live.options.poll_every);
            let mut tick = tokio::time::interval(live.options.tick_every);
            loop {
                tokio::select! {
                    _ = poll.tick() => {
                        if let Err(error) = live.catch_up().await {
                            tracing::warn!(%error, "catching up with the store failed");
                        }
                    }
                    _ = tick.tick() => {
                        if let Err(error) = live.tick().await {
                            tracing::warn!(%error, "the marketplace time rules failed");
                        }
                        if let Err(error) = live.dispatch(notifier.as_ref()).await {
                            tracing::warn!(%error, "dispatching notifications failed");
                        }
                    }
                }
            }
        })
    }
}
