//! An outbox in memory: for tests and benches. Not durable.

use chrono::{DateTime, Utc};

use super::{AuditKind, AuditRecord, NoteId, NoteStatus, OutboxEntry, OutboxStore, Transition};
use crate::error::WritebackError;
use crate::note::CaseNote;
use crate::reference::{NoteReference, new_instance_id};

/// An [`OutboxStore`] in memory (lost when dropped).
#[derive(Debug)]
pub struct MemoryOutbox {
    instance: String,
    entries: Vec<OutboxEntry>,
    audit: Vec<(NoteId, AuditRecord)>,
}

impl Default for MemoryOutbox {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryOutbox {
    /// An empty outbox with a fresh random instance id.
    pub fn new() -> Self {
        Self {
            instance: new_instance_id(),
            entries: Vec::new(),
            audit: Vec::new(),
        }
    }

    fn index(&self, id: NoteId) -> Option<usize> {
        usize::try_from(id.0 - 1)
            .ok()
            .filter(|i| *i < self.entries.len())
    }
}

impl OutboxStore for MemoryOutbox {
    fn accept(
        &mut self,
        note: &CaseNote,
        now: DateTime<Utc>,
    ) -> Result<OutboxEntry, WritebackError> {
        let id = NoteId(i64::try_from(self.entries.len()).unwrap_or(i64::MAX - 1) + 1);
        let entry = OutboxEntry {
            id,
            reference: NoteReference::new(&self.instance, id.0),
            note: note.clone(),
            status: NoteStatus::Queued,
            attempts: 0,
            next_attempt_at: now,
            verified: false,
            last_attempt_on: None,
            accepted_at: now,
            claim: None,
        };
        self.entries.push(entry.clone());
        self.audit.push((
            id,
            AuditRecord {
                at: now,
                kind: AuditKind::Accepted,
                status: "queued".into(),
                detail: format!("reference {}", entry.reference),
            },
        ));
        Ok(entry)
    }

    fn record(
        &mut self,
        id: NoteId,
        transition: &Transition,
        now: DateTime<Utc>,
    ) -> Result<(), WritebackError> {
        let index = self.index(id).ok_or(WritebackError::UnknownNote(id.0))?;
        let entry = &mut self.entries[index];
        entry.status = transition.status.clone();
        entry.attempts = transition.attempts;
        entry.next_attempt_at = transition.next_attempt_at;
        entry.verified = transition.verified;
        entry.last_attempt_on = transition.last_attempt_on;
        self.audit.push((
            id,
            AuditRecord {
                at: now,
                kind: transition.audit.kind.clone(),
                status: transition.status.name().into(),
                detail: transition.audit.detail.clone(),
            },
        ));
        Ok(())
    }

    fn get(&self, id: NoteId) -> Result<Option<OutboxEntry>, WritebackError> {
        Ok(self.index(id).map(|i| self.entries[i].clone()))
    }

    fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxEntry>, WritebackError> {
        let mut due: Vec<_> = self
            .entries
            .iter()
            .filter(|e| !e.status.is_final() && e.next_attempt_at <= now)
            .cloned()
            .collect();
        due.sort_by_key(|e| (e.next_attempt_at, e.id));
        due.truncate(limit);
        Ok(due)
    }

    fn blocks_on_io(&self) -> bool {
        false
    }

    fn next_due(&self) -> Result<Option<DateTime<Utc>>, WritebackError> {
        Ok(self
            .entries
            .iter()
            .filter(|e| !e.status.is_final())
            .map(|e| e.next_attempt_at)
            .min())
    }

    fn entries(&self) -> Result<Vec<OutboxEntry>, WritebackError> {
        Ok(self.entries.clone())
    }

    fn audit_trail(&self, id: NoteId) -> Result<Vec<AuditRecord>, WritebackError> {
        Ok(self
            .audit
            .iter()
            .filter(|(note, _)| *note == id)
            .map(|(_, record)| record.clone())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_outbox_meets_the_store_contract() {
        super::super::contract::store_contract(&mut MemoryOutbox::new());
    }
}
