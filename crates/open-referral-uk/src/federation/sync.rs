//! Pulling from a peer over HTTP (feature `federation`): page through its `GET /services`,
//! fetch each listed service in full from `GET /services/{id}`, validate it, and decide it by
//! [`super::rule`]; the cursor and every decision are stored in the live store.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use reqwest::Url;
use serde::Serialize;
use serde_json::Value;

use super::FederationError;
use super::client::{FetchError, Http};
use super::import::{self, Fetched, Outcome};
use super::page::{PageEntry, PageLimits, parse_page};
use super::record::{self, SyncCursor};
use crate::live::core::Core;
use crate::live::{Live, LiveError};

/// A peer directory: its id (used in provenance and the conflict rule's tie-break; the same
/// directory must be given the same id everywhere) and the base URL of its ORUK 3.0 API.
#[derive(Clone)]
#[non_exhaustive]
pub struct Peer {
    /// Its id.
    pub id: String,
    base: Url,
    key: Option<String>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("id", &self.id)
            .field("base", &self.base.as_str())
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Peer {
    /// A peer at `base_url` (`http` or `https`; `/services` is appended).
    pub fn new(id: impl Into<String>, base_url: &str) -> Result<Self, FederationError> {
        let mut base = Url::parse(base_url)
            .map_err(|_| FederationError::BadPeer("the base URL is not an absolute URL"))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(FederationError::BadPeer(
                "the base URL must be http or https",
            ));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.set_query(None);
        base.set_fragment(None);
        let id = id.into();
        if id.is_empty() || id.len() > 200 {
            return Err(FederationError::BadPeer(
                "the peer id must be 1 to 200 characters",
            ));
        }
        Ok(Self {
            id,
            base,
            key: None,
        })
    }

    /// Sends `Authorization: Bearer key` (a key on the peer lets `status` list every service).
    #[must_use]
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
}

/// Bounds and pacing of a sync.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SyncOptions {
    /// The whole of one request, body included (default 30 s).
    pub timeout: Duration,
    /// Connecting (default 10 s).
    pub connect_timeout: Duration,
    /// One page of `/services`.
    pub page: PageLimits,
    /// Largest `/services/{id}` body (default 1 MiB).
    pub max_service_bytes: usize,
    /// Most pages in one run (default 1,000).
    pub max_pages: u64,
    /// Most listed entries in one run (default 100,000).
    pub max_entries: u64,
    /// `per_page` asked for (default 100).
    pub per_page: u32,
    /// Every this many runs the cursor is ignored and everything is listed (default 24; 1:
    /// always).
    pub full_every: u64,
    /// The longest one run may take, all requests together (default 30 minutes): a peer
    /// answering each request just inside the time-out cannot hold the sync for days.
    pub max_run_time: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            page: PageLimits::default(),
            max_service_bytes: 1024 * 1024,
            max_pages: 1_000,
            max_entries: 100_000,
            per_page: 100,
            full_every: 24,
            max_run_time: Duration::from_secs(30 * 60),
        }
    }
}

impl SyncOptions {
    /// Sets [`SyncOptions::timeout`].
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`SyncOptions::page`].
    #[must_use]
    pub fn page_limits(mut self, limits: PageLimits) -> Self {
        self.page = limits;
        self
    }

    /// Sets [`SyncOptions::max_pages`].
    #[must_use]
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.max_pages = pages;
        self
    }

    /// Sets [`SyncOptions::per_page`].
    #[must_use]
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = per_page.clamp(1, crate::page::MAX_PER_PAGE);
        self
    }

    /// Sets [`SyncOptions::max_run_time`].
    #[must_use]
    pub fn max_run_time(mut self, limit: Duration) -> Self {
        self.max_run_time = limit;
        self
    }

    /// Sets [`SyncOptions::full_every`].
    #[must_use]
    pub fn full_every(mut self, runs: u64) -> Self {
        self.full_every = runs.max(1);
        self
    }
}

/// One entry the sync could not use (the others went on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct EntryError {
    /// The page of `/services` that listed it (1-based).
    pub page: u64,
    /// Its position in that page's `contents`.
    pub index: usize,
    /// Its id, when it had a usable one.
    pub id: Option<String>,
    /// Where: `$.contents[3].id` in the page, or a path in the full service document
    /// (`$.email`) when `id` is given.
    pub path: String,
    /// What was wrong.
    pub message: String,
}

/// How many entries ended how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Counts {
    /// New here.
    pub imported: u64,
    /// The peer's edit taken.
    pub updated: u64,
    /// A conflict the peer's version won.
    pub conflict_imported: u64,
    /// Same on both sides.
    pub unchanged: u64,
    /// Edited here only: kept.
    pub kept_local_edit: u64,
    /// A conflict our version won.
    pub conflict_kept: u64,
    /// Deleted here: not brought back.
    pub kept_deleted: u64,
}

impl Counts {
    fn add(&mut self, outcome: Outcome) {
        let slot = match outcome {
            Outcome::Imported => &mut self.imported,
            Outcome::Updated => &mut self.updated,
            Outcome::ConflictImported => &mut self.conflict_imported,
            Outcome::Unchanged => &mut self.unchanged,
            Outcome::KeptLocalEdit => &mut self.kept_local_edit,
            Outcome::ConflictKept => &mut self.conflict_kept,
            Outcome::KeptDeleted => &mut self.kept_deleted,
        };
        *slot += 1;
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SyncReport {
    /// The peer's id.
    pub peer: String,
    /// Every page was read (only then does the cursor move).
    pub complete: bool,
    /// Whether the run listed everything (no `modified_after`).
    pub full: bool,
    /// Pages read.
    pub pages: u64,
    /// Entries listed.
    pub listed: u64,
    /// Outcomes.
    pub counts: Counts,
    /// Entries that could not be used.
    pub entry_errors: Vec<EntryError>,
    /// Why the run stopped early (a page refused, a limit reached, a `next` loop).
    pub problem: Option<String>,
}

/// Imports from peers into one [`Live`] instance.
pub struct Federation {
    live: Arc<Live>,
    local_id: String,
    http: Http,
    options: SyncOptions,
}

impl std::fmt::Debug for Federation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Federation")
            .field("local_id", &self.local_id)
            .finish_non_exhaustive()
    }
}

impl Federation {
    /// Federation for `live`, whose directory id is `local_id`, trusting the platform's CAs.
    pub fn new(
        live: Arc<Live>,
        local_id: impl Into<String>,
        options: SyncOptions,
    ) -> Result<Self, FederationError> {
        Self::build(live, local_id.into(), options, None)
    }

    /// The same with a given rustls configuration (a private CA, client certificates).
    pub fn with_tls(
        live: Arc<Live>,
        local_id: impl Into<String>,
        options: SyncOptions,
        tls: rustls::ClientConfig,
    ) -> Result<Self, FederationError> {
        Self::build(live, local_id.into(), options, Some(tls))
    }

    fn build(
        live: Arc<Live>,
        local_id: String,
        options: SyncOptions,
        tls: Option<rustls::ClientConfig>,
    ) -> Result<Self, FederationError> {
        if local_id.is_empty() || local_id.len() > 200 {
            return Err(FederationError::BadPeer(
                "the directory id must be 1 to 200 characters",
            ));
        }
        let http = Http::new(options.timeout, options.connect_timeout, tls)?;
        Ok(Self {
            live,
            local_id,
            http,
            options,
        })
    }

    /// This directory's id.
    pub fn local_id(&self) -> &str {
        &self.local_id
    }

    /// A peer's stored cursor.
    pub async fn cursor(&self, peer: &str) -> SyncCursor {
        self.live.read(|core| record::cursor(core, peer)).await
    }

    fn page_url(&self, peer: &Peer, page: u64, after: Option<&str>) -> Option<Url> {
        let mut url = peer.base.join("services").ok()?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("page", &page.to_string());
            query.append_pair("per_page", &self.options.per_page.to_string());
            if let Some(after) = after {
                query.append_pair("modified_after", after);
            }
        }
        Some(url)
    }

    /// One pull from `peer`. Page and entry problems are in the report; only the store
    /// failing is an error.
    pub async fn sync(&self, peer: &Peer) -> Result<SyncReport, LiveError> {
        self.live
            .run(|core, now| Ok((import::stamp_local_edits(core, now), ())))
            .await?;
        let started = self.live.now();
        let cursor = self.cursor(&peer.id).await;
        let full = cursor.modified_after.is_none() || cursor.runs % self.options.full_every == 0;
        let after = if full {
            None
        } else {
            cursor.modified_after.clone()
        };
        let mut report = SyncReport {
            peer: peer.id.clone(),
            full,
            ..SyncReport::default()
        };
        let mut newest: Option<DateTime<FixedOffset>> = None;
        let mut visited = HashSet::new();
        let mut page_number = 1u64;
        let mut url = self.page_url(peer, 1, after.as_deref());
        let deadline = std::time::Instant::now() + self.options.max_run_time;
        let out_of_time = || std::time::Instant::now() >= deadline;
        loop {
            if out_of_time() {
                report.problem = Some("the run took longer than its limit".into());
                break;
            }
            let Some(current) = url.take() else {
                report.problem = Some("a page address could not be built".into());
                break;
            };
            if report.pages >= self.options.max_pages {
                report.problem = Some(format!(
                    "stopped after {} pages (the limit)",
                    self.options.max_pages
                ));
                break;
            }
            if !visited.insert(current.as_str().to_owned()) {
                report.problem = Some("the `next` links go round in a loop".into());
                break;
            }
            let bytes = match self
                .http
                .get(
                    current.clone(),
                    peer.key.as_deref(),
                    self.options.page.max_bytes,
                )
                .await
            {
                Ok(bytes) => bytes,
                Err(error) => {
                    report.problem = Some(format!("page {page_number}: {error}"));
                    break;
                }
            };
            let page = match parse_page(&bytes, &self.options.page) {
                Ok(page) => page,
                Err(error) => {
                    report.problem = Some(format!("page {page_number}: {error}"));
                    break;
                }
            };
            report.pages += 1;
            let mut fetched = Vec::new();
            let mut processed = 0;
            for entry in &page.entries {
                if report.listed >= self.options.max_entries || out_of_time() {
                    break;
                }
                processed += 1;
                report.listed += 1;
                match entry {
                    PageEntry::Bad {
                        index,
                        path,
                        message,
                    } => report.entry_errors.push(EntryError {
                        page: page_number,
                        index: *index,
                        id: None,
                        path: path.clone(),
                        message: (*message).to_owned(),
                    }),
                    PageEntry::Item {
                        index,
                        id,
                        last_modified,
                    } => {
                        if let Some(at) = import::modified(last_modified.as_deref(), started) {
                            newest = newest.max(Some(at));
                        }
                        match self.fetch_service(peer, id, started).await {
                            Ok(service) => fetched.push(service),
                            Err(errors) => {
                                report.entry_errors.extend(errors.into_iter().map(
                                    |(path, message)| EntryError {
                                        page: page_number,
                                        index: *index,
                                        id: Some(id.clone()),
                                        path,
                                        message,
                                    },
                                ));
                            }
                        }
                    }
                }
            }
            if !fetched.is_empty() {
                let local_id = self.local_id.as_str();
                let outcomes = self
                    .live
                    .run(|core: &Core, now| {
                        Ok(import::plan(core, local_id, &peer.id, &fetched, now))
                    })
                    .await?;
                for outcome in outcomes {
                    report.counts.add(outcome);
                }
            }
            if out_of_time() {
                report.problem = Some("the run took longer than its limit".into());
                break;
            }
            if processed < page.entries.len()
                || (report.listed >= self.options.max_entries && !page.is_last(page_number))
            {
                report.problem = Some(format!(
                    "stopped after {} entries (the limit)",
                    self.options.max_entries
                ));
                break;
            }
            if page.last_page == Some(true) || page.entries.is_empty() {
                report.complete = true;
                break;
            }
            if let Some(next) = &page.next {
                match current.join(next) {
                    Ok(next) if next.origin() == peer.base.origin() => {
                        page_number += 1;
                        url = Some(next);
                        continue;
                    }
                    _ => {
                        report.problem = Some("a `next` link points outside the peer's API".into());
                        break;
                    }
                }
            }
            if page.is_last(page_number) || (page.total_pages.is_none() && page.last_page.is_none())
            {
                report.complete = true;
                break;
            }
            page_number += 1;
            url = self.page_url(peer, page_number, after.as_deref());
        }
        let mut cursor = cursor;
        cursor.runs += 1;
        cursor.last_run = Some(started);
        cursor.last_problem = report.problem.clone();
        if report.complete {
            cursor.last_complete = Some(started);
            if let Some(newest) = newest {
                let newest = newest.to_rfc3339_opts(SecondsFormat::Millis, true);
                if cursor.modified_after.as_ref().is_none_or(|old| {
                    DateTime::parse_from_rfc3339(old).map_or(true, |old| {
                        DateTime::parse_from_rfc3339(&newest).is_ok_and(|new| new > old)
                    })
                }) {
                    cursor.modified_after = Some(newest);
                }
            }
        }
        self.live
            .run(|_, _| {
                Ok((
                    record::cursor_write(&peer.id, &cursor)
                        .into_iter()
                        .collect(),
                    (),
                ))
            })
            .await?;
        Ok(report)
    }

    /// Fetches, checks and reads one full service; on failure the problems as (path, text).
    async fn fetch_service(
        &self,
        peer: &Peer,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Fetched, Vec<(String, String)>> {
        let one = |path: &str, message: String| vec![(path.to_owned(), message)];
        // `id` is a UUID (checked when the page was read): safe as a path segment.
        let url = peer
            .base
            .join(&format!("services/{id}"))
            .map_err(|_| one("$", "the service address could not be built".into()))?;
        let bytes = self
            .http
            .get(url, peer.key.as_deref(), self.options.max_service_bytes)
            .await
            .map_err(|error: FetchError| one("$", error.to_string()))?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|_| one("$", "the service is not JSON".into()))?;
        if value.get("id").and_then(Value::as_str) != Some(id) {
            return Err(one("$.id", "differs from the id the page listed".into()));
        }
        match Core::check_service(&value, now.date_naive()) {
            Ok((service, _warnings)) => Ok(Fetched { service }),
            Err(LiveError::Invalid(findings)) => Err(findings
                .into_iter()
                .map(|finding| (finding.path, finding.message))
                .collect()),
            Err(_) => Err(one("$", "does not fit the ORUK 3.0 service model".into())),
        }
    }

    /// Pulls from every peer now and then every `every`, until the handle is aborted. Each
    /// run's counts are logged (never content).
    pub fn spawn(
        self: &Arc<Self>,
        peers: Vec<Peer>,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let federation = Arc::clone(self);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                for peer in &peers {
                    match federation.sync(peer).await {
                        Ok(report) => tracing::info!(
                            peer = %report.peer,
                            complete = report.complete,
                            pages = report.pages,
                            imported = report.counts.imported,
                            updated = report.counts.updated + report.counts.conflict_imported,
                            errors = report.entry_errors.len(),
                            "federation sync"
                        ),
                        Err(error) => {
                            tracing::warn!(peer = %peer.id, %error, "federation sync failed")
                        }
                    }
                }
            }
        })
    }
}
