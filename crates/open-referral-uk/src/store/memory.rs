//! Records in memory (tests, demos). Clones share the same records, like two instances on one
//! database.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::{BoxFuture, RecordWrite, Store, StoreError, StoredRecord};

type Records = BTreeMap<(String, String), (u64, String)>;

/// An in-memory [`Store`].
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<(Records, u64)>>,
}

impl MemoryStore {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned() -> StoreError {
    StoreError::Unavailable("memory store lock poisoned".into())
}

impl Store for MemoryStore {
    fn load_since(
        &self,
        after: u64,
    ) -> BoxFuture<'_, Result<(Vec<StoredRecord>, u64), StoreError>> {
        Box::pin(async move {
            let guard = self.inner.lock().map_err(|_| poisoned())?;
            let mut records: Vec<StoredRecord> = guard
                .0
                .iter()
                .filter(|(_, (seq, _))| *seq > after)
                .map(|((kind, key), (seq, body))| StoredRecord {
                    kind: kind.clone(),
                    key: key.clone(),
                    seq: *seq,
                    body: body.clone(),
                })
                .collect();
            records.sort_by_key(|r| r.seq);
            Ok((records, guard.1))
        })
    }

    fn commit(
        &self,
        expected_head: u64,
        writes: Vec<RecordWrite>,
    ) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut guard = self.inner.lock().map_err(|_| poisoned())?;
            if guard.1 != expected_head {
                return Err(StoreError::Conflict);
            }
            let mut head = guard.1;
            for write in writes {
                head += 1;
                guard.0.insert((write.kind, write.key), (head, write.body));
            }
            guard.1 = head;
            Ok(head)
        })
    }
}
