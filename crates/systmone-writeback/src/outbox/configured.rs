//! [`ConfiguredOutbox`]: the outbox an application picks at run time from one setting, a
//! SQLite file path (the embedded default) or a PostgreSQL URL (shared by a fleet).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::postgres::{PostgresConfig, PostgresOutbox};
use super::shared::{Claim, ClaimRequest, IntoOutbox, LocalOutbox, Outbox};
use super::sqlite::SqliteOutbox;
use super::{AuditRecord, NoteId, OutboxEntry, Transition};
use crate::error::WritebackError;
use crate::note::CaseNote;

/// A SQLite outbox (one engine) or a PostgreSQL outbox (many workers), chosen at run time.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfiguredOutbox {
    /// A SQLite file, owned by this process.
    Sqlite(LocalOutbox<SqliteOutbox>),
    /// A PostgreSQL database shared with other workers.
    Postgres(PostgresOutbox),
}

impl ConfiguredOutbox {
    /// `postgres://…` or `postgresql://…` opens a [`PostgresOutbox`] with `config`; anything
    /// else is the path of a [`SqliteOutbox`] file.
    pub async fn open(location: &str, config: PostgresConfig) -> Result<Self, WritebackError> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            Ok(Self::Postgres(
                PostgresOutbox::connect(location, config).await?,
            ))
        } else {
            Ok(Self::Sqlite(LocalOutbox::new(SqliteOutbox::open(
                location,
            )?)))
        }
    }

    /// Whether other workers may share this outbox.
    pub fn is_shared(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

impl IntoOutbox for ConfiguredOutbox {
    type Outbox = Self;
    fn into_outbox(self) -> Self {
        self
    }
}

impl Outbox for ConfiguredOutbox {
    async fn accept(
        &self,
        note: CaseNote,
        now: DateTime<Utc>,
    ) -> Result<OutboxEntry, WritebackError> {
        match self {
            Self::Sqlite(o) => o.accept(note, now).await,
            Self::Postgres(o) => o.accept(note, now).await,
        }
    }

    async fn claim_due(&self, request: &ClaimRequest) -> Result<Vec<OutboxEntry>, WritebackError> {
        match self {
            Self::Sqlite(o) => o.claim_due(request).await,
            Self::Postgres(o) => o.claim_due(request).await,
        }
    }

    async fn record(
        &self,
        claim: &Claim,
        transition: &Transition,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<(), WritebackError> {
        match self {
            Self::Sqlite(o) => o.record(claim, transition, now, lease).await,
            Self::Postgres(o) => o.record(claim, transition, now, lease).await,
        }
    }

    async fn release(&self, claim: &Claim) {
        match self {
            Self::Sqlite(o) => o.release(claim).await,
            Self::Postgres(o) => o.release(claim).await,
        }
    }

    fn abandon(&self, claim: &Claim) {
        match self {
            Self::Sqlite(o) => o.abandon(claim),
            Self::Postgres(o) => o.abandon(claim),
        }
    }

    async fn get(&self, id: NoteId) -> Result<Option<OutboxEntry>, WritebackError> {
        match self {
            Self::Sqlite(o) => o.get(id).await,
            Self::Postgres(o) => o.get(id).await,
        }
    }

    async fn next_due(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, WritebackError> {
        match self {
            Self::Sqlite(o) => o.next_due(now).await,
            Self::Postgres(o) => o.next_due(now).await,
        }
    }

    async fn entries(&self) -> Result<Vec<OutboxEntry>, WritebackError> {
        match self {
            Self::Sqlite(o) => o.entries().await,
            Self::Postgres(o) => o.entries().await,
        }
    }

    async fn audit_trail(&self, id: NoteId) -> Result<Vec<AuditRecord>, WritebackError> {
        match self {
            Self::Sqlite(o) => o.audit_trail(id).await,
            Self::Postgres(o) => o.audit_trail(id).await,
        }
    }
}
