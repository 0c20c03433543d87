//! Where the marketplace keeps its records (feature `live`).
//!
//! The model is one table of records, `(kind, key) → (seq, body)`: a listing (with its ORUK
//! service), a referral or a notification, as JSON. Every commit gives each record it writes the
//! next number of one database-wide sequence (`seq`), so "what changed since `seq` N" is one
//! indexed query: that is how an instance catches up with writes made by others (**polling by
//! modification sequence**, see [`crate::live`]). A commit names the sequence head its writer
//! last saw; if another writer committed since, the commit is refused
//! ([`StoreError::Conflict`]) and the writer catches up and decides again, so two instances
//! never overwrite each other's changes unseen.
//!
//! * [`SqliteStore`]: embedded, one file (`directory --db FILE`), the default;
//! * [`PostgresStore`]: several instances on one PostgreSQL (writes serialised by a
//!   transaction-scoped advisory lock);
//! * [`MemoryStore`]: tests and throwaway demos.

use std::future::Future;
use std::pin::Pin;

use thiserror::Error;

mod memory;
mod postgres;
mod sqlite;

pub use memory::MemoryStore;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// A boxed future (the store trait is object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredRecord {
    /// `listing`, `referral` or `notification`.
    pub kind: String,
    /// The record's key within its kind.
    pub key: String,
    /// The commit sequence number of its last write.
    pub seq: u64,
    /// Its JSON body.
    pub body: String,
}

/// One record to write.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordWrite {
    /// Kind.
    pub kind: String,
    /// Key.
    pub key: String,
    /// JSON body.
    pub body: String,
}

impl RecordWrite {
    /// A write.
    pub fn new(kind: impl Into<String>, key: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            key: key.into(),
            body: body.into(),
        }
    }
}

/// Why the store failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another writer committed since the head this writer named: catch up and retry.
    #[error("another instance changed the records first")]
    Conflict,
    /// The database could not be reached or answered an error (retryable).
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// Durable records with a commit sequence.
pub trait Store: Send + Sync + 'static {
    /// Every record written after sequence `after` (0: all), ascending by `seq`, and the head
    /// (highest `seq`) at the time of reading.
    fn load_since(&self, after: u64)
    -> BoxFuture<'_, Result<(Vec<StoredRecord>, u64), StoreError>>;

    /// Writes records atomically if the head is still `expected_head`; returns the new head.
    fn commit(
        &self,
        expected_head: u64,
        writes: Vec<RecordWrite>,
    ) -> BoxFuture<'_, Result<u64, StoreError>>;
}
