//! Directories that feed each other (feature `live`; the HTTP client needs `federation`).
//!
//! **Import.** `Federation::sync` pulls from one peer's ORUK 3.0 API: it pages through
//! `GET /services` (`page` and `per_page`, stopping at `last_page`, at `total_pages` or at an
//! empty page; a `next` link is followed where a directory gives one), asks only for entries
//! with `modified_after` the peer's newest `last_modified` seen in the last complete run
//! (a directory that ignores the parameter simply lists everything), fetches each listed
//! service in full from `GET /services/{id}`, checks it with the crate's validator (the
//! official schemas with feature `schema`) and upserts it by id. Every import records its
//! [`Provenance`] (which directory, when, the remote `last_modified`); the cursor
//! ([`SyncCursor`]) and all of it are stored in the live store (SQLite or PostgreSQL) beside
//! the listings. An entry that cannot be used is reported with its JSON path
//! (`EntryError`) and the others go on. **Export** is our own API.
//!
//! **Two-way sync without ping-pong.** Each directory pulls from the other on a schedule
//! (`Federation::spawn`). For each entry the rule in [`rule`] compares this directory's
//! copy, the peer's, and the content both last agreed on (remembered per peer):
//!
//! * only one side changed it since they agreed: that side's version is taken by the other;
//! * both changed it (or both had it before they first met): **the later `last_modified`
//!   wins**; equal or missing dates are decided by the **directory id that sorts first**.
//!   Both directories apply the same comparison, so they pick the same winner.
//!
//! An import stores exactly the peer's content (its `last_modified` included) and unchanged
//! entries are never written, so an imported entry is never exported back as a change. A
//! local edit (through the provider API or otherwise) is noticed at the start of the next
//! run and stamped with `last_modified` = now, so the peer sees a newer version even if the
//! editor left the date alone. A `last_modified` more than five minutes in the future does not
//! count (a peer cannot win every conflict by dating ahead). Deleting is not propagated: a
//! listing deleted here is not brought back by an import; one deleted at the peer stays here.
//!
//! **Hostile peers.** Every request has a time-out on the whole exchange (a slow drip
//! included) and a connect time-out; redirects are not followed; bodies are read in chunks
//! up to a cap (8 MiB a page, 1 MiB a service); a page with more than 1,000 entries, a body
//! that is not an ORUK 3.0 page, more than `SyncOptions::max_pages` pages, more than
//! `SyncOptions::max_entries` entries, a `next` link that loops or leaves the peer's
//! origin each stop the run with the reason in `SyncReport::problem`. What was imported
//! before stays (each entry is whole and valid); the cursor moves only after a complete run.

#[cfg(feature = "federation")]
mod import;
pub mod page;
pub mod record;
pub mod rule;

#[cfg(feature = "federation")]
mod client;
#[cfg(feature = "federation")]
mod sync;

#[cfg(feature = "federation")]
pub use import::Outcome;
pub use record::{ListingFederation, Provenance, SyncCursor, content_hash};

#[cfg(feature = "federation")]
pub use client::FetchError;
#[cfg(feature = "federation")]
pub use sync::{Counts, EntryError, Federation, Peer, SyncOptions, SyncReport};

/// Why federation could not start or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FederationError {
    /// The HTTP client or its TLS configuration could not be built (not retryable).
    #[error("{0}")]
    Client(&'static str),
    /// A peer or directory id or URL is unusable (fix the configuration).
    #[error("{0}")]
    BadPeer(&'static str),
    /// The live store failed (retryable).
    #[error(transparent)]
    Live(#[from] crate::live::LiveError),
}
