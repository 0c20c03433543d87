//! Receiving: list, download, store durably, acknowledge, then hand each message to a
//! handler once (deduplicated by message id).
//!
//! Order matters: a message is acknowledged only after the store has it, so a crash between
//! the two means MESH offers it again and the store's dedupe drops the copy. The handler runs
//! from the store, so it sees every message exactly once even across restarts (a handler that
//! fails leaves the message unhandled; it is offered again on the next poll).

use std::sync::Arc;

use tracing::{debug, info, warn};

use crate::client::{Downloaded, MeshClient};
use crate::error::MeshError;
use crate::store::{InboxStore, StoredKind, StoredMessage};

/// What one poll did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollSummary {
    /// Message ids listed.
    pub listed: usize,
    /// Newly stored.
    pub stored: usize,
    /// Already stored (acknowledged again, not stored twice).
    pub duplicates: usize,
    /// Handed to the handler successfully.
    pub handled: usize,
    /// Handler failures (left for the next poll).
    pub handler_failures: usize,
}

/// Polls one mailbox into an [`InboxStore`].
#[derive(Clone)]
pub struct Poller {
    client: MeshClient,
    store: Arc<dyn InboxStore>,
    workflow_filter: Option<String>,
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("mailbox", self.client.mailbox())
            .field("workflow_filter", &self.workflow_filter)
            .finish_non_exhaustive()
    }
}

impl Poller {
    /// A poller for `client`'s mailbox.
    pub fn new(client: MeshClient, store: Arc<dyn InboxStore>) -> Self {
        Self {
            client,
            store,
            workflow_filter: None,
        }
    }

    /// Only messages whose workflow matches `filter` (MESH syntax: `WF`, `!WF`, `WF*`, `*X*`).
    #[must_use]
    pub fn workflow_filter(mut self, filter: impl Into<String>) -> Self {
        self.workflow_filter = Some(filter.into());
        self
    }

    /// The client.
    pub fn client(&self) -> &MeshClient {
        &self.client
    }

    /// Lists, downloads, stores and acknowledges everything waiting, then hands every
    /// unhandled stored message to `handler`. A handler error leaves that message for the
    /// next poll.
    ///
    /// # Errors
    /// The first MESH or store failure (messages already stored stay stored).
    pub async fn poll_once<E: std::fmt::Display>(
        &self,
        mut handler: impl FnMut(&StoredMessage) -> Result<(), E>,
    ) -> Result<PollSummary, MeshError> {
        let mut summary = self.receive().await?;
        self.handle_stored(&mut handler, &mut summary)?;
        Ok(summary)
    }

    /// The async-handler form of [`Self::poll_once`].
    ///
    /// # Errors
    /// As [`Self::poll_once`].
    pub async fn poll_once_async<E, F, Fut>(&self, mut handler: F) -> Result<PollSummary, MeshError>
    where
        E: std::fmt::Display,
        F: FnMut(StoredMessage) -> Fut,
        Fut: std::future::Future<Output = Result<(), E>>,
    {
        let mut summary = self.receive().await?;
        for m in self.store.unhandled()? {
            let id = m.message_id.clone();
            match handler(m).await {
                Ok(()) => {
                    self.store.mark_handled(&id)?;
                    summary.handled += 1;
                }
                Err(e) => {
                    summary.handler_failures += 1;
                    warn!(message_id = %id, error = %nhs_identifiers::scan::redact(&e.to_string()), "MESH message handler failed; will retry");
                }
            }
        }
        Ok(summary)
    }

    /// Only the receiving half: list, download, store, acknowledge.
    ///
    /// # Errors
    /// As [`Self::poll_once`].
    pub async fn receive(&self) -> Result<PollSummary, MeshError> {
        let ids = self
            .client
            .inbox_all(self.workflow_filter.as_deref())
            .await?;
        let mut summary = PollSummary {
            listed: ids.len(),
            ..PollSummary::default()
        };
        for id in ids {
            if self.store.contains(id.as_str())? {
                debug!(message_id = %id, "already stored; acknowledging again");
                summary.duplicates += 1;
                self.client.acknowledge(&id).await?;
                continue;
            }
            let stored = match self.client.download(&id).await? {
                Downloaded::Data(d) => StoredMessage {
                    message_id: id.to_string(),
                    kind: StoredKind::Data(Box::new(d.metadata)),
                    body: d.body,
                },
                Downloaded::Report(r) => StoredMessage {
                    message_id: id.to_string(),
                    kind: StoredKind::Report(r),
                    body: Vec::new(),
                },
            };
            if self.store.store(&stored)? {
                summary.stored += 1;
            } else {
                summary.duplicates += 1;
            }
            self.client.acknowledge(&id).await?;
            info!(message_id = %id, "MESH message stored and acknowledged");
        }
        Ok(summary)
    }

    fn handle_stored<E: std::fmt::Display>(
        &self,
        handler: &mut impl FnMut(&StoredMessage) -> Result<(), E>,
        summary: &mut PollSummary,
    ) -> Result<(), MeshError> {
        for m in self.store.unhandled()? {
            match handler(&m) {
                Ok(()) => {
                    self.store.mark_handled(&m.message_id)?;
                    summary.handled += 1;
                }
                Err(e) => {
                    summary.handler_failures += 1;
                    warn!(message_id = %m.message_id, error = %nhs_identifiers::scan::redact(&e.to_string()), "MESH message handler failed; will retry");
                }
            }
        }
        Ok(())
    }
}
