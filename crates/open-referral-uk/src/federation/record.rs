//! What federation stores beside the listings (as [`Write::Extension`] records, so the SQLite
//! and PostgreSQL stores keep them with everything else): per listing, where its content came
//! from and the content last agreed with each peer; per peer, the sync cursor.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::live::core::{Core, ExtensionRecord, Write};
use crate::model::Service;

/// Record kind of a listing's [`ListingFederation`] (keyed by service id).
pub const LISTING_KIND: &str = "federation";
/// Record kind of a peer's [`SyncCursor`] (keyed by peer id).
pub const CURSOR_KIND: &str = "sync_cursor";

/// Where a listing's current content was imported from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Provenance {
    /// The peer directory's id (`Peer::id` where it was configured).
    pub directory: String,
    /// When this directory imported it.
    pub imported_at: DateTime<Utc>,
    /// The service's `last_modified` at the peer, when it gave one.
    pub remote_modified: Option<String>,
    /// [`content_hash`] of the imported service.
    pub content_hash: String,
}

/// Federation state of one listing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListingFederation {
    /// The last import that changed it (`None`: created here and never overwritten).
    pub provenance: Option<Provenance>,
    /// Per peer id, the [`content_hash`] both directories last agreed on (the base of the
    /// three-way rule in [`super::rule`]).
    #[serde(default)]
    pub bases: BTreeMap<String, String>,
    /// [`content_hash`] of this directory's copy when federation last wrote or looked at it:
    /// a listing whose hash differs was edited here since, and gets a fresh `last_modified`.
    #[serde(default)]
    pub local_hash: Option<String>,
    /// The copy's `last_modified` at that moment: an edit that set a new one keeps it, an
    /// edit that left it is stamped.
    #[serde(default)]
    pub local_modified: Option<String>,
}

/// The sync state of one peer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SyncCursor {
    /// `modified_after` for the next run: the latest `last_modified` the peer listed in the
    /// last complete run (`None`: the next run lists everything).
    pub modified_after: Option<String>,
    /// Runs so far (complete or not).
    pub runs: u64,
    /// When the last run started.
    pub last_run: Option<DateTime<Utc>>,
    /// When the last complete run (every page read) started.
    pub last_complete: Option<DateTime<Utc>>,
    /// Why the last run stopped early, if it did (never a received value).
    pub last_problem: Option<String>,
}

/// SHA-256 (hex) of a service's canonical JSON (the model's field order, sorted extra
/// properties): equal services hash equally whichever directory serialised them.
pub fn content_hash(service: &Service) -> String {
    let bytes = serde_json::to_vec(service).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A listing's federation state in the records (default when it has none).
pub fn listing_state(core: &Core, id: &str) -> ListingFederation {
    core.extension(LISTING_KIND, id)
        .and_then(|body| serde_json::from_value(body.clone()).ok())
        .unwrap_or_default()
}

/// A peer's cursor in the records (default when it has none).
pub fn cursor(core: &Core, peer: &str) -> SyncCursor {
    core.extension(CURSOR_KIND, peer)
        .and_then(|body| serde_json::from_value(body.clone()).ok())
        .unwrap_or_default()
}

fn write<T: Serialize>(kind: &str, key: &str, value: &T) -> Option<Write> {
    let body = serde_json::to_value(value).ok()?;
    ExtensionRecord::new(kind, key, body).map(Write::Extension)
}

/// The write storing a listing's federation state.
pub fn listing_write(id: &str, state: &ListingFederation) -> Option<Write> {
    write(LISTING_KIND, id, state)
}

/// The write storing a peer's cursor.
pub fn cursor_write(peer: &str, cursor: &SyncCursor) -> Option<Write> {
    write(CURSOR_KIND, peer, cursor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceStatus;

    #[test]
    fn equal_services_hash_equally_and_edits_change_the_hash() {
        let a = Service::new(
            "9d1f7c2e-5b7a-4c1e-8f2a-3b4c5d6e7f80",
            "Walk",
            ServiceStatus::Active,
        );
        let mut b = a.clone();
        assert_eq!(content_hash(&a), content_hash(&b));
        b.name = "Walks".into();
        assert_ne!(content_hash(&a), content_hash(&b));
        assert_eq!(content_hash(&a).len(), 64);
    }

    #[test]
    fn records_round_trip_through_the_core() {
        let mut core = Core::default();
        let state = ListingFederation {
            provenance: None,
            bases: BTreeMap::from([("peer".to_owned(), "ab".to_owned())]),
            local_hash: None,
            local_modified: None,
        };
        let write = listing_write("id-1", &state).unwrap();
        let body = write.body().unwrap();
        let decoded = Write::decode_keyed(write.kind(), write.key(), &body).unwrap();
        core.apply(decoded);
        assert_eq!(listing_state(&core, "id-1"), state);
        assert_eq!(listing_state(&core, "other"), ListingFederation::default());
    }
}
