//! Durable stores: the outbox (send intents and their progress) and the inbox (messages
//! received, stored before they are acknowledged, handed to the handler once).
//!
//! [`SqliteStore`] (WAL, `synchronous=FULL`: a row is on disk when the call returns) is the
//! default; [`MemoryStore`] is for tests and demos. Both implement [`OutboxStore`],
//! [`InboxStore`], [`SeenStore`] and [`AckStore`] (ITK3 statuses, in `acks.rs`); implement
//! the traits for your own database.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::error::MeshError;
use crate::types::Envelope;

mod acks;

pub use acks::AckStore;

/// Where one outgoing message is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum OutboxState {
    /// Stored, not sent yet (or certainly not sent).
    Queued,
    /// The first POST was (or may have been) sent and its answer is unknown: track by
    /// local id before sending again.
    Sending,
    /// Chunk 1 was accepted; `chunks_sent` of `total` chunks are in.
    Uploading {
        /// The MESH message id.
        message_id: String,
        /// Chunks MESH accepted so far.
        chunks_sent: u32,
        /// Chunks in all.
        total: u32,
    },
    /// MESH has the whole message.
    Accepted {
        /// The MESH message id.
        message_id: String,
    },
    /// Sending cannot succeed (refused by MESH, or a duplicate was found).
    Failed {
        /// Why (no message content).
        reason: String,
    },
}

impl OutboxState {
    /// Whether the entry still needs work.
    pub fn is_pending(&self) -> bool {
        matches!(self, Self::Queued | Self::Sending | Self::Uploading { .. })
    }
}

/// One outgoing message in the outbox.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutboxEntry {
    /// The `mex-LocalID` (a fresh UUID unless the caller gave one).
    pub local_id: String,
    /// The envelope (its `local_id` is set).
    pub to: String,
    /// Workflow.
    pub workflow_id: String,
    /// Subject.
    pub subject: Option<String>,
    /// File name.
    pub file_name: Option<String>,
    /// `mex-Content-Type`.
    pub content_type: Option<String>,
    /// The body (uncompressed).
    #[serde(skip)]
    pub body: Vec<u8>,
    /// Chunk size used for this message (so a resumed upload splits it the same way).
    pub chunk_size: usize,
    /// Whether chunks are gzipped.
    pub compress: bool,
    /// Progress.
    pub state: OutboxState,
}

impl std::fmt::Debug for OutboxEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxEntry")
            .field("local_id", &self.local_id)
            .field("to", &crate::types::mask_address(&self.to))
            .field("workflow_id", &self.workflow_id)
            .field("body_len", &self.body.len())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl OutboxEntry {
    /// The envelope to send this entry with.
    pub fn envelope(&self) -> Envelope {
        let mut e = Envelope::new(self.to.clone(), self.workflow_id.clone())
            .local_id(self.local_id.clone());
        e.subject = self.subject.clone();
        e.file_name = self.file_name.clone();
        e.content_type = self.content_type.clone();
        e
    }
}

/// Durable storage of outgoing messages. Every method returns only once the change is
/// durable.
pub trait OutboxStore: Send + Sync {
    /// Adds a new entry. Fails if the local id is already there.
    ///
    /// # Errors
    /// [`MeshError::Store`].
    fn insert(&self, entry: &OutboxEntry) -> Result<(), MeshError>;
    /// The entry with `local_id`.
    ///
    /// # Errors
    /// [`MeshError::Store`].
    fn get(&self, local_id: &str) -> Result<Option<OutboxEntry>, MeshError>;
    /// Local ids of entries that still need work, oldest first.
    ///
    /// # Errors
    /// [`MeshError::Store`].
    fn pending(&self) -> Result<Vec<String>, MeshError>;
    /// Records new progress.
    ///
    /// # Errors
    /// [`MeshError::Store`].
    fn set_state(&self, local_id: &str, state: &OutboxState) -> Result<(), MeshError>;
}

/// One received message as stored (a DATA message or a REPORT).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredMessage {
    /// MESH message id.
    pub message_id: String,
    /// The downloaded message, metadata included (the body is kept separately).
    pub kind: StoredKind,
    /// The body (empty for reports).
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// What kind of message was stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum StoredKind {
    /// A DATA message.
    Data(Box<crate::wire::Metadata>),
    /// A REPORT.
    Report(crate::wire::Report),
}

impl StoredMessage {
    /// A stored message.
    pub fn new(message_id: String, kind: StoredKind, body: Vec<u8>) -> Self {
        Self {
            message_id,
            kind,
            body,
        }
    }
}

impl std::fmt::Debug for StoredMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredMessage")
            .field("message_id", &self.message_id)
            .field("kind", &self.kind)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Durable storage of received messages.
pub trait InboxStore: Send + Sync {
    /// Stores `message` unless its id is already there; returns whether it was new.
    ///
    /// # Errors
    /// [`MeshError::Store`].
    fn store(&self, message: &StoredMessage) -> Result<bool, MeshError>;
    /// Whether a message with this id was stored before.
    ///
    /// # Errors
    /// [`MeshError::Store`].
    fn contains(&self, message_id: &str) -> Result<bool, MeshError>;
    /// Stored messages not yet handed to a handler successfully, oldest first.
    ///
    /// # Errors
    /// [`MeshError::Store`].
    fn unhandled(&self) -> Result<Vec<StoredMessage>, MeshError>;
    /// Records that the handler took the message.
    ///
    /// # Errors
    /// [`MeshError::Store`].
    fn mark_handled(&self, message_id: &str) -> Result<(), MeshError>;
}

/// SQLite store (one file; WAL; `synchronous=FULL`).
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`.
    ///
    /// # Errors
    /// [`MeshError::Store`] when the file cannot be opened or migrated.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, MeshError> {
        let conn = Connection::open(path).map_err(MeshError::store)?;
        Self::init(conn)
    }

    /// An in-memory SQLite store (tests).
    ///
    /// # Errors
    /// [`MeshError::Store`].
    pub fn in_memory() -> Result<Self, MeshError> {
        Self::init(Connection::open_in_memory().map_err(MeshError::store)?)
    }

    fn init(conn: Connection) -> Result<Self, MeshError> {
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=FULL;
             PRAGMA busy_timeout=5000;
             CREATE TABLE IF NOT EXISTS mesh_outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                local_id TEXT NOT NULL UNIQUE,
                entry TEXT NOT NULL,
                body BLOB NOT NULL,
                state TEXT NOT NULL,
                pending INTEGER NOT NULL);
             CREATE INDEX IF NOT EXISTS mesh_outbox_pending ON mesh_outbox(pending, seq);
             CREATE TABLE IF NOT EXISTS mesh_inbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                message_id TEXT NOT NULL UNIQUE,
                message TEXT NOT NULL,
                body BLOB NOT NULL,
                handled INTEGER NOT NULL DEFAULT 0);
             CREATE INDEX IF NOT EXISTS mesh_inbox_unhandled ON mesh_inbox(handled, seq);
             CREATE TABLE IF NOT EXISTS mesh_itk_seen (id TEXT PRIMARY KEY);
             CREATE TABLE IF NOT EXISTS mesh_itk_status (
                header_id TEXT PRIMARY KEY,
                tracked TEXT NOT NULL);",
        )
        .map_err(MeshError::store)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>, MeshError> {
        self.conn
            .lock()
            .map_err(|_| MeshError::Store("store lock poisoned".into()))
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<String, MeshError> {
    serde_json::to_string(v).map_err(MeshError::store)
}

fn from_json<T: for<'de> Deserialize<'de>>(s: &str) -> Result<T, MeshError> {
    serde_json::from_str(s)
        .map_err(|e| MeshError::Store(nhs_identifiers::redact::serde_error(&e.to_string())))
}

impl OutboxStore for SqliteStore {
    fn insert(&self, entry: &OutboxEntry) -> Result<(), MeshError> {
        self.lock()?
            .execute(
                "INSERT INTO mesh_outbox (local_id, entry, body, state, pending) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    entry.local_id,
                    to_json(entry)?,
                    entry.body,
                    to_json(&entry.state)?,
                    entry.state.is_pending()
                ],
            )
            .map_err(MeshError::store)?;
        Ok(())
    }

    fn get(&self, local_id: &str) -> Result<Option<OutboxEntry>, MeshError> {
        let row: Option<(String, Vec<u8>, String)> = self
            .lock()?
            .query_row(
                "SELECT entry, body, state FROM mesh_outbox WHERE local_id = ?1",
                params![local_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(MeshError::store)?;
        row.map(|(entry, body, state)| {
            let mut e: OutboxEntry = from_json(&entry)?;
            e.body = body;
            e.state = from_json(&state)?;
            Ok(e)
        })
        .transpose()
    }

    fn pending(&self) -> Result<Vec<String>, MeshError> {
        let conn = self.lock()?;
        let mut stmt = conn
            .prepare("SELECT local_id FROM mesh_outbox WHERE pending = 1 ORDER BY seq")
            .map_err(MeshError::store)?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(MeshError::store)?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(MeshError::store)
    }

    fn set_state(&self, local_id: &str, state: &OutboxState) -> Result<(), MeshError> {
        let n = self
            .lock()?
            .execute(
                "UPDATE mesh_outbox SET state = ?2, pending = ?3 WHERE local_id = ?1",
                params![local_id, to_json(state)?, state.is_pending()],
            )
            .map_err(MeshError::store)?;
        if n == 1 {
            Ok(())
        } else {
            Err(MeshError::Store("no such outbox entry".into()))
        }
    }
}

impl InboxStore for SqliteStore {
    fn store(&self, message: &StoredMessage) -> Result<bool, MeshError> {
        let n = self
            .lock()?
            .execute(
                "INSERT OR IGNORE INTO mesh_inbox (message_id, message, body) VALUES (?1, ?2, ?3)",
                params![message.message_id, to_json(message)?, message.body],
            )
            .map_err(MeshError::store)?;
        Ok(n == 1)
    }

    fn contains(&self, message_id: &str) -> Result<bool, MeshError> {
        self.lock()?
            .query_row(
                "SELECT 1 FROM mesh_inbox WHERE message_id = ?1",
                params![message_id],
                |_| Ok(()),
            )
            .optional()
            .map(|o| o.is_some())
            .map_err(MeshError::store)
    }

    fn unhandled(&self) -> Result<Vec<StoredMessage>, MeshError> {
        let conn = self.lock()?;
        let mut stmt = conn
            .prepare("SELECT message, body FROM mesh_inbox WHERE handled = 0 ORDER BY seq")
            .map_err(MeshError::store)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(MeshError::store)?;
        let mut out = Vec::new();
        for row in rows {
            let (m, body) = row.map_err(MeshError::store)?;
            let mut m: StoredMessage = from_json(&m)?;
            m.body = body;
            out.push(m);
        }
        Ok(out)
    }

    fn mark_handled(&self, message_id: &str) -> Result<(), MeshError> {
        self.lock()?
            .execute(
                "UPDATE mesh_inbox SET handled = 1 WHERE message_id = ?1",
                params![message_id],
            )
            .map_err(MeshError::store)?;
        Ok(())
    }
}

/// In-memory store (tests, demos): nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    outbox: Mutex<SeqMap<OutboxEntry>>,
    inbox: Mutex<SeqMap<(StoredMessage, bool)>>,
    seen: Mutex<std::collections::BTreeSet<String>>,
    tracked: Mutex<BTreeMap<String, crate::itk::tracker::TrackedMessage>>,
}

/// A counter plus entries keyed by id, each with its insertion number.
type SeqMap<T> = (u64, BTreeMap<String, (u64, T)>);

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned<T>(_: T) -> MeshError {
    MeshError::Store("store lock poisoned".into())
}

impl OutboxStore for MemoryStore {
    fn insert(&self, entry: &OutboxEntry) -> Result<(), MeshError> {
        let mut g = self.outbox.lock().map_err(poisoned)?;
        if g.1.contains_key(&entry.local_id) {
            return Err(MeshError::Store("local id already in the outbox".into()));
        }
        g.0 += 1;
        let seq = g.0;
        g.1.insert(entry.local_id.clone(), (seq, entry.clone()));
        Ok(())
    }

    fn get(&self, local_id: &str) -> Result<Option<OutboxEntry>, MeshError> {
        Ok(self
            .outbox
            .lock()
            .map_err(poisoned)?
            .1
            .get(local_id)
            .map(|(_, e)| e.clone()))
    }

    fn pending(&self) -> Result<Vec<String>, MeshError> {
        let g = self.outbox.lock().map_err(poisoned)?;
        let mut v: Vec<_> = g.1.values().filter(|(_, e)| e.state.is_pending()).collect();
        v.sort_by_key(|(s, _)| *s);
        Ok(v.into_iter().map(|(_, e)| e.local_id.clone()).collect())
    }

    fn set_state(&self, local_id: &str, state: &OutboxState) -> Result<(), MeshError> {
        let mut g = self.outbox.lock().map_err(poisoned)?;
        let (_, e) =
            g.1.get_mut(local_id)
                .ok_or_else(|| MeshError::Store("no such outbox entry".into()))?;
        e.state = state.clone();
        Ok(())
    }
}

impl InboxStore for MemoryStore {
    fn store(&self, message: &StoredMessage) -> Result<bool, MeshError> {
        let mut g = self.inbox.lock().map_err(poisoned)?;
        if g.1.contains_key(&message.message_id) {
            return Ok(false);
        }
        g.0 += 1;
        let seq = g.0;
        g.1.insert(message.message_id.clone(), (seq, (message.clone(), false)));
        Ok(true)
    }

    fn contains(&self, message_id: &str) -> Result<bool, MeshError> {
        Ok(self
            .inbox
            .lock()
            .map_err(poisoned)?
            .1
            .contains_key(message_id))
    }

    fn unhandled(&self) -> Result<Vec<StoredMessage>, MeshError> {
        let g = self.inbox.lock().map_err(poisoned)?;
        let mut v: Vec<_> = g.1.values().filter(|(_, (_, h))| !h).collect();
        v.sort_by_key(|(s, _)| *s);
        Ok(v.into_iter().map(|(_, (m, _))| m.clone()).collect())
    }

    fn mark_handled(&self, message_id: &str) -> Result<(), MeshError> {
        if let Some(e) = self.inbox.lock().map_err(poisoned)?.1.get_mut(message_id) {
            e.1.1 = true;
        }
        Ok(())
    }
}

/// Durable record of ITK3 MessageHeader ids already received (the 20007 duplicate check).
pub trait SeenStore: Send + Sync {
    /// Records `id`; returns `true` the first time, `false` when it was seen before.
    ///
    /// # Errors
    /// [`MeshError::Store`].
    fn first_time(&self, id: &str) -> Result<bool, MeshError>;
}

impl SeenStore for SqliteStore {
    fn first_time(&self, id: &str) -> Result<bool, MeshError> {
        let n = self
            .lock()?
            .execute(
                "INSERT OR IGNORE INTO mesh_itk_seen (id) VALUES (?1)",
                params![id],
            )
            .map_err(MeshError::store)?;
        Ok(n == 1)
    }
}

impl SeenStore for MemoryStore {
    fn first_time(&self, id: &str) -> Result<bool, MeshError> {
        Ok(self.seen.lock().map_err(poisoned)?.insert(id.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str) -> OutboxEntry {
        OutboxEntry {
            local_id: id.into(),
            to: "X26ABC2".into(),
            workflow_id: "WF".into(),
            subject: Some("s".into()),
            file_name: None,
            content_type: None,
            body: b"body".to_vec(),
            chunk_size: 10,
            compress: true,
            state: OutboxState::Queued,
        }
    }

    fn exercise(store: &(impl OutboxStore + InboxStore)) {
        store.insert(&entry("a")).unwrap();
        store.insert(&entry("b")).unwrap();
        assert!(store.insert(&entry("a")).is_err());
        assert_eq!(store.pending().unwrap(), vec!["a", "b"]);
        store
            .set_state(
                "a",
                &OutboxState::Accepted {
                    message_id: "M".into(),
                },
            )
            .unwrap();
        assert_eq!(store.pending().unwrap(), vec!["b"]);
        let a = store.get("a").unwrap().unwrap();
        assert_eq!(a.body, b"body");
        assert_eq!(
            a.state,
            OutboxState::Accepted {
                message_id: "M".into()
            }
        );
        let m = StoredMessage {
            message_id: "M1".into(),
            kind: StoredKind::Data(Box::new(
                crate::wire::Metadata::from_headers([("mex-messageid", "M1")]).unwrap(),
            )),
            body: b"x".to_vec(),
        };
        assert!(store.store(&m).unwrap());
        assert!(!store.store(&m).unwrap());
        assert!(store.contains("M1").unwrap());
        assert_eq!(store.unhandled().unwrap(), vec![m]);
        store.mark_handled("M1").unwrap();
        assert!(store.unhandled().unwrap().is_empty());
    }

    #[test]
    fn sqlite_and_memory_behave_alike() {
        exercise(&SqliteStore::in_memory().unwrap());
        exercise(&MemoryStore::new());
    }

    #[test]
    fn sqlite_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mesh.db");
        SqliteStore::open(&path)
            .unwrap()
            .insert(&entry("x"))
            .unwrap();
        let again = SqliteStore::open(&path).unwrap();
        assert_eq!(again.pending().unwrap(), vec!["x"]);
    }
}
