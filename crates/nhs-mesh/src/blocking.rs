//! A blocking [`MeshClient`] for callers without a tokio runtime.
//!
//! The adapter owns a small tokio runtime (one worker thread); each call blocks the calling
//! thread until it finishes. Do not use it from inside an async context.

use crate::client::{Downloaded, MeshClient};
use crate::config::ClientConfig;
use crate::error::MeshError;
use crate::types::{Envelope, MessageId};
use crate::wire::{InboxPage, MailboxInfo, Metadata, Tracking};

/// A blocking MESH client.
#[derive(Debug)]
pub struct BlockingClient {
    client: MeshClient,
    runtime: tokio::runtime::Runtime,
}

impl BlockingClient {
    /// Builds the client and its runtime.
    ///
    /// # Errors
    /// [`MeshError::Runtime`] when the runtime cannot start; as [`MeshClient::new`].
    pub fn new(config: ClientConfig) -> Result<Self, MeshError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("nhs-mesh")
            .enable_all()
            .build()
            .map_err(MeshError::Runtime)?;
        let client = {
            let _guard = runtime.enter();
            MeshClient::new(config)?
        };
        Ok(Self { client, runtime })
    }

    /// The async client inside.
    pub fn client(&self) -> &MeshClient {
        &self.client
    }

    /// See [`MeshClient::handshake`].
    ///
    /// # Errors
    /// As [`MeshClient::handshake`].
    pub fn handshake(&self) -> Result<(), MeshError> {
        self.runtime.block_on(self.client.handshake())
    }

    /// See [`MeshClient::send`] (the first POST is never retried; use an
    /// [`crate::Outbox`] for exactly-once).
    ///
    /// # Errors
    /// As [`MeshClient::send`].
    pub fn send(&self, envelope: &Envelope, body: &[u8]) -> Result<MessageId, MeshError> {
        self.runtime.block_on(self.client.send(envelope, body))
    }

    /// See [`MeshClient::inbox_page`].
    ///
    /// # Errors
    /// As [`MeshClient::inbox_page`].
    pub fn inbox_page(
        &self,
        workflow_filter: Option<&str>,
        max_results: Option<u32>,
    ) -> Result<InboxPage, MeshError> {
        self.runtime
            .block_on(self.client.inbox_page(workflow_filter, max_results))
    }

    /// See [`MeshClient::inbox_all`].
    ///
    /// # Errors
    /// As [`MeshClient::inbox_all`].
    pub fn inbox_all(&self, workflow_filter: Option<&str>) -> Result<Vec<MessageId>, MeshError> {
        self.runtime
            .block_on(self.client.inbox_all(workflow_filter))
    }

    /// See [`MeshClient::download`].
    ///
    /// # Errors
    /// As [`MeshClient::download`].
    pub fn download(&self, id: &MessageId) -> Result<Downloaded, MeshError> {
        self.runtime.block_on(self.client.download(id))
    }

    /// See [`MeshClient::head`].
    ///
    /// # Errors
    /// As [`MeshClient::head`].
    pub fn head(&self, id: &MessageId) -> Result<Metadata, MeshError> {
        self.runtime.block_on(self.client.head(id))
    }

    /// See [`MeshClient::acknowledge`].
    ///
    /// # Errors
    /// As [`MeshClient::acknowledge`].
    pub fn acknowledge(&self, id: &MessageId) -> Result<(), MeshError> {
        self.runtime.block_on(self.client.acknowledge(id))
    }

    /// See [`MeshClient::track`].
    ///
    /// # Errors
    /// As [`MeshClient::track`].
    pub fn track(&self, id: &MessageId) -> Result<Tracking, MeshError> {
        self.runtime.block_on(self.client.track(id))
    }

    /// See [`MeshClient::track_local_id`].
    ///
    /// # Errors
    /// As [`MeshClient::track_local_id`].
    pub fn track_local_id(&self, local_id: &str) -> Result<Option<Tracking>, MeshError> {
        self.runtime.block_on(self.client.track_local_id(local_id))
    }

    /// See [`MeshClient::lookup`].
    ///
    /// # Errors
    /// As [`MeshClient::lookup`].
    pub fn lookup(&self, ods_code: &str, workflow_id: &str) -> Result<Vec<MailboxInfo>, MeshError> {
        self.runtime
            .block_on(self.client.lookup(ods_code, workflow_id))
    }

    /// See [`MeshClient::workflow_search`].
    ///
    /// # Errors
    /// As [`MeshClient::workflow_search`].
    pub fn workflow_search(&self, workflow_id: &str) -> Result<Vec<MailboxInfo>, MeshError> {
        self.runtime
            .block_on(self.client.workflow_search(workflow_id))
    }
}
