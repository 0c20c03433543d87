//! The shared queue: claims (`FOR UPDATE SKIP LOCKED` under a lease with a fencing token),
//! fenced changes, releases and reads.

use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;

use super::schema::{DB_NOW, UNFINISHED, raw_note};
use super::{PostgresOutbox, duration_ms, millis, pg_error, pool_error};
use crate::error::WritebackError;
use crate::note::CaseNote;
use crate::outbox::shared::{Claim, ClaimRequest, Outbox};
use crate::outbox::sqlite::{COLUMNS, RawNote, from_millis};
use crate::outbox::{AuditKind, AuditRecord, NoteId, NoteStatus, OutboxEntry, Transition};

impl PostgresOutbox {
    async fn query_entries(
        &self,
        clause: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<OutboxEntry>, WritebackError> {
        let client = self.inner.pool.get().await.map_err(pool_error)?;
        let rows = client
            .query(&format!("SELECT {COLUMNS} FROM notes {clause}"), params)
            .await
            .map_err(pg_error)?;
        rows.iter().map(raw_note).map(RawNote::into_entry).collect()
    }
}

impl Outbox for PostgresOutbox {
    async fn accept(
        &self,
        note: CaseNote,
        now: DateTime<Utc>,
    ) -> Result<OutboxEntry, WritebackError> {
        self.accept_note(note, now).await
    }

    async fn claim_due(&self, request: &ClaimRequest) -> Result<Vec<OutboxEntry>, WritebackError> {
        let limit = i64::try_from(request.limit.max(1)).unwrap_or(1024);
        let mut client = self.inner.pool.get().await.map_err(pool_error)?;
        let tx = client.transaction().await.map_err(pg_error)?;
        let db_now: i64 = tx
            .query_one(
                &format!("SELECT COALESCE($1::BIGINT, {DB_NOW})"),
                &[&self.clock_param(request.now)],
            )
            .await
            .map_err(pg_error)?
            .get(0);
        let rows = tx
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM notes WHERE {UNFINISHED} AND next_attempt_ms <= $1 \
                     AND (lease_until_ms IS NULL OR lease_until_ms <= $2) \
                     AND nhs_number NOT IN (SELECT nhs_number FROM notes \
                         WHERE lease_until_ms IS NOT NULL AND lease_until_ms > $2) \
                     ORDER BY next_attempt_ms, id LIMIT $3 FOR UPDATE SKIP LOCKED"
                ),
                &[&millis(request.now), &db_now, &limit.saturating_mul(8)],
            )
            .await
            .map_err(pg_error)?;
        let mut patients = std::collections::HashSet::new();
        let mut picked = Vec::new();
        for row in &rows {
            if picked.len() >= request.limit.max(1) {
                break;
            }
            let raw = raw_note(row);
            if patients.insert(raw.nhs_number.clone()) {
                picked.push(raw.into_entry()?);
            }
        }
        let until = db_now.saturating_add(duration_ms(request.lease));
        let claim = tx
            .prepare_cached(
                "UPDATE notes SET lease_owner = $1, lease_token = lease_token + 1, \
                 lease_until_ms = $2 WHERE id = $3 RETURNING lease_token",
            )
            .await
            .map_err(pg_error)?;
        for entry in &mut picked {
            let token: i64 = tx
                .query_one(&claim, &[&request.worker.as_str(), &until, &entry.id.0])
                .await
                .map_err(pg_error)?
                .get(0);
            entry.claim = Some(Claim::new(entry.id, request.worker.clone(), token));
        }
        tx.commit().await.map_err(pg_error)?;
        Ok(picked)
    }

    async fn record(
        &self,
        claim: &Claim,
        transition: &Transition,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<(), WritebackError> {
        let (event_uid, task_uid, rejection) = match &transition.status {
            NoteStatus::Filed {
                event_uid,
                task_uid,
            } => (
                Some(event_uid.as_str().to_owned()),
                task_uid.as_ref().map(|t| t.as_str().to_owned()),
                None,
            ),
            NoteStatus::Rejected { reason } => (None, None, Some(reason.clone())),
            _ => (None, None, None),
        };
        let mut client = self.inner.pool.get().await.map_err(pool_error)?;
        let tx = client.transaction().await.map_err(pg_error)?;
        let changed = tx
            .execute(
                &format!(
                    "UPDATE notes SET status = $1, event_uid = $2, task_uid = $3, rejection = $4, \
                     verified = $5, attempts = $6, next_attempt_ms = $7, last_attempt_on = $8, \
                     updated_ms = $9, lease_until_ms = COALESCE($10::BIGINT, {DB_NOW}) + $11 \
                     WHERE id = $12 AND lease_token = $13 AND lease_owner = $14"
                ),
                &[
                    &transition.status.name(),
                    &event_uid,
                    &task_uid,
                    &rejection,
                    &transition.verified,
                    &i64::from(transition.attempts),
                    &millis(transition.next_attempt_at),
                    &transition.last_attempt_on.map(|d| d.to_string()),
                    &millis(now),
                    &self.clock_param(now),
                    &duration_ms(lease),
                    &claim.note.0,
                    &claim.token,
                    &claim.worker.as_str(),
                ],
            )
            .await
            .map_err(pg_error)?;
        if changed != 1 {
            let exists = tx
                .query_opt("SELECT 1 FROM notes WHERE id = $1", &[&claim.note.0])
                .await
                .map_err(pg_error)?
                .is_some();
            return Err(if exists {
                WritebackError::LeaseLost { note: claim.note.0 }
            } else {
                WritebackError::UnknownNote(claim.note.0)
            });
        }
        tx.execute(
            "INSERT INTO audit (note_id, at_ms, kind, status, detail, worker) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &claim.note.0,
                &millis(now),
                &transition.audit.kind.name(),
                &transition.status.name(),
                &transition.audit.detail,
                &claim.worker.as_str(),
            ],
        )
        .await
        .map_err(pg_error)?;
        tx.commit().await.map_err(pg_error)?;
        Ok(())
    }

    async fn release(&self, claim: &Claim) {
        if let Err(error) = release_claim(&self.inner.pool, claim).await {
            tracing::warn!(note = %claim.note, %error, "claim not released; its lease will expire");
        }
    }

    fn abandon(&self, claim: &Claim) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let pool = self.inner.pool.clone();
            let claim = claim.clone();
            runtime.spawn(async move {
                let _expires = release_claim(&pool, &claim).await;
            });
        }
    }

    async fn get(&self, id: NoteId) -> Result<Option<OutboxEntry>, WritebackError> {
        Ok(self
            .query_entries("WHERE id = $1", &[&id.0])
            .await?
            .into_iter()
            .next())
    }

    async fn next_due(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, WritebackError> {
        let client = self.inner.pool.get().await.map_err(pool_error)?;
        // A live lease ends `lease_until - db_now` from now, translated onto the caller's clock.
        let ms: Option<i64> = client
            .query_one(
                &format!(
                    "WITH c AS (SELECT COALESCE($2::BIGINT, {DB_NOW}) AS now) \
                     SELECT MIN(CASE WHEN lease_until_ms > c.now \
                         THEN GREATEST(next_attempt_ms, $1 + (lease_until_ms - c.now)) \
                         ELSE next_attempt_ms END)::BIGINT \
                     FROM notes, c WHERE {UNFINISHED}"
                ),
                &[&millis(now), &self.clock_param(now)],
            )
            .await
            .map_err(pg_error)?
            .get(0);
        ms.map(|ms| from_millis("next attempt time", ms))
            .transpose()
    }

    async fn entries(&self) -> Result<Vec<OutboxEntry>, WritebackError> {
        self.query_entries("ORDER BY id", &[]).await
    }

    async fn audit_trail(&self, id: NoteId) -> Result<Vec<AuditRecord>, WritebackError> {
        let client = self.inner.pool.get().await.map_err(pool_error)?;
        let rows = client
            .query(
                "SELECT at_ms, kind, status, detail FROM audit WHERE note_id = $1 ORDER BY id",
                &[&id.0],
            )
            .await
            .map_err(pg_error)?;
        rows.iter()
            .map(|row| {
                Ok(AuditRecord {
                    at: from_millis("audit time", row.get(0))?,
                    kind: AuditKind::from_name(row.get(1)),
                    status: row.get(2),
                    detail: row.get(3),
                })
            })
            .collect()
    }
}

async fn release_claim(pool: &Pool, claim: &Claim) -> Result<(), WritebackError> {
    let client = pool.get().await.map_err(pool_error)?;
    client
        .execute(
            "UPDATE notes SET lease_owner = NULL, lease_until_ms = NULL \
             WHERE id = $1 AND lease_token = $2",
            &[&claim.note.0, &claim.token],
        )
        .await
        .map_err(pg_error)?;
    Ok(())
}
