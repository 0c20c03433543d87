//! Durable ITK3 statuses: what [`crate::ItkSender`] knows about each message it sent, kept so
//! a restart carries on (statuses, histories, and the queued time the ack time-outs count
//! from).

use rusqlite::params;

use super::{MemoryStore, SqliteStore, from_json, poisoned, to_json};
use crate::error::MeshError;
use crate::itk::tracker::TrackedMessage;

/// Where [`crate::ItkSender`] keeps each sent message's [`TrackedMessage`].
pub trait AckStore: Send + Sync {
    /// Stores `message`, replacing what was stored for its MessageHeader id.
    ///
    /// # Errors
    /// [`MeshError::Store`].
    fn save_tracked(&self, message: &TrackedMessage) -> Result<(), MeshError>;

    /// Every stored message, in MessageHeader id order.
    ///
    /// # Errors
    /// [`MeshError::Store`].
    fn load_tracked(&self) -> Result<Vec<TrackedMessage>, MeshError>;

    /// Removes the stored messages with these MessageHeader ids (ids not stored are
    /// ignored), all or none.
    ///
    /// # Errors
    /// [`MeshError::Store`].
    fn forget_tracked(&self, header_ids: &[String]) -> Result<(), MeshError>;
}

impl AckStore for SqliteStore {
    fn save_tracked(&self, message: &TrackedMessage) -> Result<(), MeshError> {
        let json = to_json(message)?;
        self.lock()?
            .execute(
                "INSERT INTO mesh_itk_status (header_id, tracked) VALUES (?1, ?2)
                 ON CONFLICT(header_id) DO UPDATE SET tracked = excluded.tracked",
                params![message.header_id, json],
            )
            .map_err(MeshError::store)?;
        Ok(())
    }

    fn load_tracked(&self) -> Result<Vec<TrackedMessage>, MeshError> {
        let conn = self.lock()?;
        let mut stmt = conn
            .prepare("SELECT tracked FROM mesh_itk_status ORDER BY header_id")
            .map_err(MeshError::store)?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(MeshError::store)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(from_json(&row.map_err(MeshError::store)?)?);
        }
        Ok(out)
    }

    fn forget_tracked(&self, header_ids: &[String]) -> Result<(), MeshError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(MeshError::store)?;
        {
            let mut stmt = tx
                .prepare("DELETE FROM mesh_itk_status WHERE header_id = ?1")
                .map_err(MeshError::store)?;
            for id in header_ids {
                stmt.execute(params![id]).map_err(MeshError::store)?;
            }
        }
        tx.commit().map_err(MeshError::store)
    }
}

impl AckStore for MemoryStore {
    fn save_tracked(&self, message: &TrackedMessage) -> Result<(), MeshError> {
        self.tracked
            .lock()
            .map_err(poisoned)?
            .insert(message.header_id.clone(), message.clone());
        Ok(())
    }

    fn load_tracked(&self) -> Result<Vec<TrackedMessage>, MeshError> {
        Ok(self
            .tracked
            .lock()
            .map_err(poisoned)?
            .values()
            .cloned()
            .collect())
    }

    fn forget_tracked(&self, header_ids: &[String]) -> Result<(), MeshError> {
        let mut tracked = self.tracked.lock().map_err(poisoned)?;
        for id in header_ids {
            tracked.remove(id);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::itk::tracker::{AckTracker, ItkStatus};

    fn exercise(store: &dyn AckStore) {
        let t0 = chrono::Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
        let mut t = AckTracker::new();
        t.track("H1", "L1", (true, true), t0);
        t.sent("H1", t0);
        t.accepted("H1", "M1", t0);
        t.track("H2", "L2", (true, false), t0);
        t.failed("H2", "negative infrastructure acknowledgement 20007", t0);
        for m in t.all() {
            store.save_tracked(m).unwrap();
        }
        // Saving again replaces.
        t.on_tracking("M1", &crate::wire::TrackingStatus::Acknowledged, t0);
        store.save_tracked(t.get("H1").unwrap()).unwrap();

        let loaded = store.load_tracked().unwrap();
        assert_eq!(loaded.len(), 2);
        assert_eq!(&loaded[0], t.get("H1").unwrap());
        assert_eq!(&loaded[1], t.get("H2").unwrap());
        let back = AckTracker::restore(loaded);
        assert_eq!(back.header_for_mesh_id("M1"), Some("H1"));
        assert_eq!(
            back.get("H1").unwrap().status,
            ItkStatus::AcknowledgedByRecipient
        );
        assert_eq!(back.get("H1").unwrap().history.len(), 4);
        assert!(matches!(
            back.get("H2").unwrap().status,
            ItkStatus::Failed { .. }
        ));

        store
            .forget_tracked(&["H2".to_owned(), "never-stored".to_owned()])
            .unwrap();
        assert_eq!(
            store.load_tracked().unwrap(),
            vec![t.get("H1").unwrap().clone()]
        );
        store.forget_tracked(&[]).unwrap();
        assert_eq!(store.load_tracked().unwrap().len(), 1);
    }

    #[test]
    fn sqlite_and_memory_keep_ack_statuses_alike() {
        exercise(&SqliteStore::in_memory().unwrap());
        exercise(&MemoryStore::new());
    }

    #[test]
    fn a_file_store_keeps_them_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mesh.sqlite");
        let t0 = chrono::Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
        let mut t = AckTracker::new();
        t.track("H1", "L1", (true, true), t0);
        SqliteStore::open(&path)
            .unwrap()
            .save_tracked(t.get("H1").unwrap())
            .unwrap();
        let loaded = SqliteStore::open(&path).unwrap().load_tracked().unwrap();
        assert_eq!(loaded, vec![t.get("H1").unwrap().clone()]);
    }
}
