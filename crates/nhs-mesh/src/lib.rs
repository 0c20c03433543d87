//! A client for NHS England's **MESH** (Message Exchange for Social Care and Health) API v2,
//! async on tokio, with a blocking adapter.
//!
//! * [`auth`]: the `NHSMESH` Authorization header (HMAC-SHA256, fresh nonce per request);
//!   passwords and the shared key are [`Secret`]s that never print.
//! * [`config`]: base URL, mutual TLS (client certificate + key + the environment's CA
//!   bundle, TLS 1.2+, rustls on ring), proxy, time-outs, retries, chunk size, download cap.
//! * [`client`]: every v2 operation — handshake, send (single or chunked, each chunk gzipped
//!   on its own), inbox paging with a workflow filter, download (chunked, either compression,
//!   capped), acknowledge, tracking by message id and by local id, endpoint lookup, workflow
//!   search. REPORT messages come back as their own type ([`wire::Report`]).
//! * [`wire`]: sans-IO parsers of everything MESH returns (fuzzed).
//! * [`outbox`]: exactly-once sending through a durable [`Outbox`] ([`SqliteStore`] by
//!   default); [`poller`]: receiving (store, then acknowledge, hand over once);
//!   [`itk`]: ITK3 messages from `gpconnect-fhir` sent and followed to their acks (each
//!   status kept in an [`AckStore`], the same SQLite file, so restarts carry on), and the
//!   receiving side's answers; [`blocking`]: [`BlockingClient`].
//! * [`error`]: one error type; [`MeshError::retry`] says whether calling again is safe.
//!
//! The first POST of a send is never retried (MESH does not deduplicate); other calls retry
//! with backoff on 425/429/502/503/504, waiting longer when MESH sends `Retry-After`. Proxies
//! are explicit (`ClientConfig::proxy`; `https://` MESH is tunnelled with `CONNECT`); the
//! environment's `HTTPS_PROXY`/`NO_PROXY` count only after `ClientConfig::proxy_from_env(true)`. `mex-LocalID`, `mex-Subject` and `mex-FileName` are
//! refused when they contain an NHS number, and nothing this crate logs or prints carries one.
//!
//! ```no_run
//! use nhs_mesh::{ClientConfig, Credentials, Downloaded, Envelope, MailboxId, MeshClient};
//!
//! # async fn demo() -> Result<(), nhs_mesh::MeshError> {
//! // mesh-sandbox: STORE_MODE=memory AUTH_MODE=full SHARED_KEY=TestKey uvicorn mesh_sandbox.api:app --port 8700
//! let me = Credentials::new(MailboxId::new("X26ABC1")?, "password", "TestKey");
//! let client = MeshClient::new(ClientConfig::new("http://127.0.0.1:8700", me))?;
//! client.handshake().await?;
//! let id = client
//!     .send(&Envelope::new("X26ABC2", "TEST_WORKFLOW").subject("Clinic letter"), b"hello")
//!     .await?;
//!
//! let gp = MeshClient::new(ClientConfig::new(
//!     "http://127.0.0.1:8700",
//!     Credentials::new(MailboxId::new("X26ABC2")?, "password", "TestKey"),
//! ))?;
//! for id in gp.inbox_all(Some("TEST_WORKFLOW")).await? {
//!     if let Downloaded::Data(message) = gp.download(&id).await? {
//!         // store message.body durably first, then:
//!         gp.acknowledge(&message.message_id).await?;
//!     }
//! }
//! # let _ = id; Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod blocking;
pub mod chunk;
pub mod client;
pub mod config;
pub mod error;
pub mod itk;
pub mod outbox;
pub mod poller;
pub mod store;
pub mod types;
pub mod wire;

pub use auth::{Credentials, Secret};
pub use blocking::BlockingClient;
pub use client::{DataMessage, Downloaded, MeshClient};
pub use config::{ClientConfig, RetryPolicy, TlsConfig};
pub use error::{MeshError, Retry};
pub use itk::{AckTimeouts, AckTracker, ItkReceiver, ItkSender, ItkStatus, TrackedMessage};
pub use outbox::Outbox;
pub use poller::{PollSummary, Poller};
pub use store::{AckStore, InboxStore, MemoryStore, OutboxStore, SeenStore, SqliteStore};
pub use types::{Envelope, MailboxId, MessageId};
