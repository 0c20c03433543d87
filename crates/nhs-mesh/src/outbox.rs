//! Exactly-once sending through a durable outbox.
//!
//! MESH does not deduplicate: two POSTs make two messages. So:
//! 1. [`Outbox::enqueue`] stores the message with a fresh UUID `mex-LocalID` before anything
//!    is sent (nothing accepted into the outbox is lost).
//! 2. The first POST is sent once; the state is `Sending` while it is in flight.
//! 3. After an ambiguous failure (time-out, reset, 5xx, an unreadable 202), or when `Sending`
//!    is found after a restart, the outbox **tracks by local id**: not there → send again
//!    (same local id); `uploading` → resume chunks 2..n on that id; accepted → done; more
//!    than one → [`MeshError::DuplicateLocalId`] (an alert, never resent).
//! 4. A chunked upload records each accepted chunk, so one that stopped part-way resumes
//!    from the next chunk; a 423 ("already final") is confirmed by tracking.

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use crate::client::{MeshClient, prepare_chunks};
use crate::error::{MeshError, Retry};
use crate::store::{OutboxEntry, OutboxState, OutboxStore};
use crate::types::{Envelope, MessageId};
use crate::wire::TrackingStatus;

/// Exactly-once sender over a [`MeshClient`] and an [`OutboxStore`].
#[derive(Clone)]
pub struct Outbox {
    client: MeshClient,
    store: Arc<dyn OutboxStore>,
    reconcile_delay: Duration,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("mailbox", self.client.mailbox())
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// An outbox sending through `client`, remembering in `store`.
    pub fn new(client: MeshClient, store: Arc<dyn OutboxStore>) -> Self {
        Self {
            client,
            store,
            reconcile_delay: Duration::from_secs(5),
        }
    }

    /// How long to wait after an ambiguous failure before tracking by local id (default 5 s,
    /// so a POST still being processed has finished).
    #[must_use]
    pub fn reconcile_delay(mut self, delay: Duration) -> Self {
        self.reconcile_delay = delay;
        self
    }

    /// The client.
    pub fn client(&self) -> &MeshClient {
        &self.client
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn OutboxStore> {
        &self.store
    }

    /// Stores a message to send and returns its `mex-LocalID` (a fresh UUID v4 unless the
    /// envelope has one). Nothing is sent yet: call [`Self::deliver`] or
    /// [`Self::deliver_pending`].
    ///
    /// # Errors
    /// [`MeshError::InvalidField`] for a bad envelope (refused before it is stored),
    /// [`MeshError::Store`].
    pub fn enqueue(&self, envelope: &Envelope, body: Vec<u8>) -> Result<String, MeshError> {
        let local_id = envelope
            .local_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let mut env = envelope.clone();
        env.local_id = Some(local_id.clone());
        env.validate()?;
        let config = self.client.config();
        let entry = OutboxEntry {
            local_id: local_id.clone(),
            to: env.to,
            workflow_id: env.workflow_id,
            subject: env.subject,
            file_name: env.file_name,
            content_type: env.content_type,
            body,
            chunk_size: config.chunk_size,
            compress: config.compress,
            state: OutboxState::Queued,
        };
        self.store.insert(&entry)?;
        info!(local_id = %local_id, workflow = %entry.workflow_id, "MESH message queued");
        Ok(local_id)
    }

    /// Stores and delivers at once.
    ///
    /// # Errors
    /// As [`Self::enqueue`] and [`Self::deliver`]; the message stays in the outbox when
    /// delivery fails, for [`Self::deliver_pending`] to finish.
    pub async fn send(
        &self,
        envelope: &Envelope,
        body: Vec<u8>,
    ) -> Result<(String, MessageId), MeshError> {
        let local_id = self.enqueue(envelope, body)?;
        let id = self.deliver(&local_id).await?;
        Ok((local_id, id))
    }

    /// Delivers every pending entry (after a restart too); returns each local id with its
    /// outcome.
    ///
    /// # Errors
    /// [`MeshError::Store`] when the pending list cannot be read.
    pub async fn deliver_pending(
        &self,
    ) -> Result<Vec<(String, Result<MessageId, MeshError>)>, MeshError> {
        let mut out = Vec::new();
        for local_id in self.store.pending()? {
            let r = self.deliver(&local_id).await;
            out.push((local_id, r));
        }
        Ok(out)
    }

    /// Drives one entry to `Accepted`, never sending it twice.
    ///
    /// # Errors
    /// The failure that stopped it; [`MeshError::retry`] says what to do. The entry stays
    /// pending unless the failure is permanent (then it is `Failed`).
    pub async fn deliver(&self, local_id: &str) -> Result<MessageId, MeshError> {
        let entry = self
            .store
            .get(local_id)?
            .ok_or_else(|| MeshError::Store("no such outbox entry".into()))?;
        let chunks = prepare_chunks(&entry.body, entry.chunk_size, entry.compress)?;
        let total =
            u32::try_from(chunks.len()).map_err(|_| MeshError::Config("too many chunks".into()))?;
        let mut state = entry.state.clone();
        // A bounded number of steps: each changes the state or returns.
        for _ in 0..8 {
            match state {
                OutboxState::Accepted { message_id } => return MessageId::new(&message_id),
                OutboxState::Failed { reason } => {
                    return Err(MeshError::Failed(reason));
                }
                OutboxState::Queued => {
                    self.store.set_state(local_id, &OutboxState::Sending)?;
                    let first = chunks
                        .first()
                        .ok_or_else(|| MeshError::Config("no chunk".into()))?;
                    match self
                        .client
                        .send_first_chunk(&entry.envelope(), first, total)
                        .await
                    {
                        Ok(id) => {
                            state = if total == 1 {
                                OutboxState::Accepted {
                                    message_id: id.to_string(),
                                }
                            } else {
                                OutboxState::Uploading {
                                    message_id: id.to_string(),
                                    chunks_sent: 1,
                                    total,
                                }
                            };
                            self.store.set_state(local_id, &state)?;
                        }
                        Err(e) => match e.retry() {
                            Retry::CheckFirst => {
                                warn!(
                                    local_id,
                                    "MESH send outcome unknown; will track by local id"
                                );
                                state = OutboxState::Sending;
                            }
                            Retry::Never => {
                                self.store.set_state(
                                    local_id,
                                    &OutboxState::Failed {
                                        reason: e.to_string(),
                                    },
                                )?;
                                return Err(e);
                            }
                            _ => {
                                // Certainly not sent (no connection, 429...): back to queued.
                                self.store.set_state(local_id, &OutboxState::Queued)?;
                                return Err(e);
                            }
                        },
                    }
                }
                OutboxState::Sending => {
                    if !self.reconcile_delay.is_zero() {
                        tokio::time::sleep(self.reconcile_delay).await;
                    }
                    match self.client.track_local_id(local_id).await {
                        Ok(None) => {
                            info!(local_id, "MESH does not have the message: sending it again");
                            state = OutboxState::Queued;
                            self.store.set_state(local_id, &state)?;
                        }
                        Ok(Some(t)) => {
                            let id = t.message_id.to_string();
                            state = match t.status {
                                Some(TrackingStatus::Uploading) if total > 1 => {
                                    OutboxState::Uploading {
                                        message_id: id,
                                        chunks_sent: 1,
                                        total,
                                    }
                                }
                                _ => OutboxState::Accepted { message_id: id },
                            };
                            info!(
                                local_id,
                                "MESH already has the message: not sending it again"
                            );
                            self.store.set_state(local_id, &state)?;
                        }
                        Err(MeshError::DuplicateLocalId) => {
                            self.store.set_state(
                                local_id,
                                &OutboxState::Failed {
                                    reason: "duplicate mex-LocalID at MESH".into(),
                                },
                            )?;
                            return Err(MeshError::DuplicateLocalId);
                        }
                        // Could not find out: stay in Sending, try again later.
                        Err(e) => return Err(e),
                    }
                }
                OutboxState::Uploading {
                    ref message_id,
                    chunks_sent,
                    total: stored_total,
                } => {
                    if stored_total != total {
                        return Err(MeshError::Config(
                            "the stored chunk count no longer matches the body".into(),
                        ));
                    }
                    let id = MessageId::new(message_id)?;
                    for k in chunks_sent + 1..=total {
                        let idx = usize::try_from(k - 1)
                            .map_err(|_| MeshError::Config("chunk".into()))?;
                        let chunk = chunks
                            .get(idx)
                            .ok_or_else(|| MeshError::Config("chunk index".into()))?;
                        match self.client.send_chunk(&id, k, total, chunk).await {
                            Ok(()) => {}
                            Err(MeshError::Http { status: 423, .. }) => {
                                // Already final: confirm with tracking.
                                let t = self.client.track(&id).await?;
                                if t.status == Some(TrackingStatus::Uploading) {
                                    return Err(MeshError::Malformed {
                                        operation: "send chunk",
                                        detail: "423 but tracking says uploading".into(),
                                    });
                                }
                                break;
                            }
                            Err(e) => return Err(e),
                        }
                        if k < total {
                            self.store.set_state(
                                local_id,
                                &OutboxState::Uploading {
                                    message_id: id.to_string(),
                                    chunks_sent: k,
                                    total,
                                },
                            )?;
                        }
                    }
                    state = OutboxState::Accepted {
                        message_id: id.to_string(),
                    };
                    self.store.set_state(local_id, &state)?;
                }
            }
        }
        Err(MeshError::Store("outbox state did not settle".into()))
    }
}
