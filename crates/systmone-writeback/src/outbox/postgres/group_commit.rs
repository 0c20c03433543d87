//! Group commit: concurrent accepts share one transaction (one WAL flush), so acceptance is
//! not bounded by one flush per note.

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use super::{PostgresOutbox, lock, millis, pg_error, pool_error};
use crate::error::WritebackError;
use crate::note::{CaseNote, SystmOneUsername};
use crate::outbox::sqlite::from_millis;
use crate::outbox::{NoteId, NoteStatus, OutboxEntry};
use crate::reference::NoteReference;

/// Accepts waiting for the next group commit.
#[derive(Default)]
pub(super) struct Group {
    waiting: Vec<Pending>,
    committing: bool,
}

struct Pending {
    note: CaseNote,
    now: DateTime<Utc>,
    reply: oneshot::Sender<Result<OutboxEntry, WritebackError>>,
}

impl PostgresOutbox {
    /// Commits `note`: in one transaction with every other accept waiting, when group
    /// commit is on.
    pub(super) async fn accept_note(
        &self,
        note: CaseNote,
        now: DateTime<Utc>,
    ) -> Result<OutboxEntry, WritebackError> {
        if !self.inner.config.group_commit {
            let mut entries = self.commit_batch(&[(note, now)]).await?;
            return entries
                .pop()
                .ok_or_else(|| WritebackError::Storage("insert returned nothing".into()));
        }
        let (reply, answer) = oneshot::channel();
        let lead = {
            let mut group = lock(&self.inner.group);
            group.waiting.push(Pending { note, now, reply });
            !std::mem::replace(&mut group.committing, true)
        };
        if lead {
            // In its own task: a caller that stops waiting does not strand the others.
            tokio::spawn(self.clone().drain());
        }
        answer.await.map_err(|_| {
            WritebackError::DatabaseUnavailable("the group commit stopped before answering".into())
        })?
    }

    /// Commits `batch` in one transaction.
    async fn commit_batch(
        &self,
        batch: &[(CaseNote, DateTime<Utc>)],
    ) -> Result<Vec<OutboxEntry>, WritebackError> {
        let mut client = self.inner.pool.get().await.map_err(pool_error)?;
        let tx = client.transaction().await.map_err(pg_error)?;
        let insert = tx
            .prepare_cached(
                "WITH n AS (SELECT nextval(pg_get_serial_sequence('notes', 'id')) AS id), \
                 ins AS (INSERT INTO notes (id, reference, nhs_number, surname, date_of_birth, \
                 sex, author_name, author_username, narrative, snomed_code, code_free_text, \
                 task_type, task_content, task_assignee, done_at, method, status, \
                 next_attempt_ms, accepted_ms, updated_ms) \
                 SELECT n.id, $1 || '-' || n.id::TEXT, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
                 $12, $13, $14, $15, 'queued', $16, $16, $16 FROM n RETURNING id, reference) \
                 INSERT INTO audit (note_id, at_ms, kind, status, detail) \
                 SELECT id, $16, 'accepted', 'queued', 'reference ' || reference FROM ins \
                 RETURNING note_id",
            )
            .await
            .map_err(pg_error)?;
        let mut entries = Vec::with_capacity(batch.len());
        for (note, now) in batch {
            let at = millis(*now);
            let row = tx
                .query_one(
                    &insert,
                    &[
                        &self.inner.instance,
                        &note.patient.nhs_number.expose(),
                        &note.patient.surname,
                        &note.patient.date_of_birth.to_string(),
                        &note.patient.sex.as_str(),
                        &note.author.display_name,
                        &note.author.username.as_ref().map(SystmOneUsername::as_str),
                        &note.narrative,
                        &note.code.as_ref().map(|c| c.code.as_str()),
                        &note.code.as_ref().and_then(|c| c.free_text.as_deref()),
                        &note.task.as_ref().map(|t| t.task_type.as_str()),
                        &note.task.as_ref().map(|t| t.content.as_str()),
                        &note
                            .task
                            .as_ref()
                            .and_then(|t| t.assignee.as_ref())
                            .map(SystmOneUsername::as_str),
                        &note.done_at,
                        &note.method,
                        &at,
                    ],
                )
                .await
                .map_err(pg_error)?;
            let id = NoteId(row.get(0));
            let when = from_millis("accepted time", at)?;
            entries.push(OutboxEntry {
                id,
                reference: NoteReference::new(&self.inner.instance, id.0),
                note: note.clone(),
                status: NoteStatus::Queued,
                attempts: 0,
                next_attempt_at: when,
                verified: false,
                last_attempt_on: None,
                accepted_at: when,
                claim: None,
            });
        }
        tx.commit().await.map_err(pg_error)?;
        Ok(entries)
    }

    /// Takes every waiting accept and commits them together, until none is waiting.
    async fn drain(self) {
        loop {
            let batch: Vec<Pending> = {
                let mut group = lock(&self.inner.group);
                if group.waiting.is_empty() {
                    group.committing = false;
                    return;
                }
                let take = group.waiting.len().min(self.inner.config.max_batch.max(1));
                group.waiting.drain(..take).collect()
            };
            let notes: Vec<(CaseNote, DateTime<Utc>)> =
                batch.iter().map(|p| (p.note.clone(), p.now)).collect();
            match self.commit_batch(&notes).await {
                Ok(entries) => {
                    for (pending, entry) in batch.into_iter().zip(entries) {
                        // A caller that gave up meanwhile has its note accepted anyway.
                        let _gone = pending.reply.send(Ok(entry));
                    }
                }
                Err(error) => {
                    let text = error.to_string();
                    let retryable = error.is_retryable();
                    for pending in batch {
                        let error = if retryable {
                            WritebackError::DatabaseUnavailable(text.clone())
                        } else {
                            WritebackError::Storage(text.clone())
                        };
                        let _gone = pending.reply.send(Err(error));
                    }
                }
            }
        }
    }
}
