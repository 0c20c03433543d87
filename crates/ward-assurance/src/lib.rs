//! Ward assurance sync: assurance-dashboard audits completing hub ward tasks.
//!
//! A mental-health trust's inpatient hub lists ward tasks; staff complete the matching audit on
//! the Trust's assurance dashboard, which fires a webhook. This crate turns that webhook into
//! the completion of exactly one pending hub task, for the right ward and day, once.
//!
//! ```text
//! audit_type  AuditType (7 audits: label, hub code, cadence/shift)
//! payload     DashboardWebhook → SyncRequest (the Power Automate transform), parse_sync_body
//! task        WardTask, TaskStatus, AuditCompletion, TaskFile
//! store       TaskStore trait; InMemoryTaskStore (hash index on (type, ward, local date))
//! auth        Authenticator: X-Api-Key or HMAC-SHA256 signature, replay cache
//! sinks       Clock, WardAccess, AuditLog, AdminAlerts (+ in-memory implementations)
//! engine      SyncEngine::sync → SyncOutcome; SyncResponse (the JSON reply)
//! endpoint    SyncEndpoint::handle(credentials, body, now): the endpoint without IO
//! http        axum router for POST /api/assurance/sync (feature `http`, default on)
//! ```
//!
//! The core is sans-IO: nothing here reads the clock or opens a socket except the `http`
//! module's [`http::SystemClock`] and server.
//!
//! # Matching
//!
//! The audit's `completedAt` (any offset) is converted to the ward's local date in
//! Europe/London ([`SyncConfig::time_zone`]), so `2026-06-15T00:30:00+01:00` (00:30 BST) is
//! 15 June even though it is 23:30 UTC on the 14th. The matcher then looks up the pending
//! audit task of that type, ward and date in an index (constant time); completed, cancelled
//! and non-audit tasks never match. Ward names compare ignoring case and extra whitespace.
//! Weekly audits match only their due date by default; [`WeeklyMatching::SameIsoWeek`]
//! lets them complete the task due any day of the same ISO week.
//!
//! # Outcomes
//!
//! | outcome | HTTP | body `error` | effect |
//! | --- | --- | --- | --- |
//! | task completed | 200 | – (`success: true`, `taskId`, `syncedAt`, `alreadySynced: false`) | task completed with the audit's metadata |
//! | same audit again | 200 | – (`alreadySynced: true`, first `syncedAt`) | nothing (idempotent) |
//! | no pending task | 404 | `NO_MATCHING_TASK`, message names type, ward and date | logged; no task is ever created |
//! | audit already completed a task on another ward | 409 | `WARD_MISMATCH` | nothing; [`AdminAlert::WardMismatch`] |
//! | audit already completed a task of another type or date | 409 | `AUDIT_CONFLICT` | nothing; admin alert |
//! | person has no access to the ward | 403 | `WARD_ACCESS_DENIED` | nothing; admin alert |
//! | missing / bad API key, bad / stale / replayed signature | 401 | `UNAUTHENTICATED`, `INVALID_API_KEY`, `INVALID_SIGNATURE`, `STALE_SIGNATURE`, `REPLAYED_SIGNATURE` | nothing |
//! | malformed JSON | 400 | `MALFORMED_JSON` (line, column) | nothing |
//! | unknown audit type, missing/invalid field, other event | 422 | `UNKNOWN_AUDIT_TYPE`, `INVALID_FIELD`, `UNSUPPORTED_EVENT` | nothing |
//! | body over the limit (64 KiB default) | 413 | `PAYLOAD_TOO_LARGE` | nothing |
//! | replay cache full (policy `Refuse`) | 429 | `TOO_MANY_REQUESTS` | nothing |
//!
//! Every attempt, accepted or refused, is written to the [`AuditLog`] (ids and codes only: no
//! names, e-mails, notes, keys or signatures).
//!
//! # Readings of the design, and where they are configurable
//!
//! - *Ward mismatch* is an audit id that already completed a task on one ward arriving again
//!   naming another ward (a re-mapped or tampered redelivery): `WARD_MISMATCH`, nothing
//!   changes, [`AdminAlert::WardMismatch`]. A person completing an audit for a ward they have
//!   no access to is the separate `WARD_ACCESS_DENIED` (also alerted).
//! - Weekly audits: exact due date ([`WeeklyMatching::DueDateOnly`], default) or any day of
//!   the ISO week ([`WeeklyMatching::SameIsoWeek`]).
//! - Replay cache full: refuse ([`WhenReplayCacheFull::Refuse`], default) or forget the oldest
//!   ([`WhenReplayCacheFull::EvictOldest`]).
//! - Ward access: a staff-id → wards table ([`StaffWardAccess`], default in the example) or,
//!   explicitly, trust the dashboard ([`TrustDashboardWardAccess`]).
//! - Several pending tasks with the same type, ward and date: the one inserted first is
//!   completed; the next delivery of a *different* audit completes the next.
//!
//! # Request and response bodies
//!
//! `POST /api/assurance/sync` takes the hub sync request ([`SyncRequest`], camelCase):
//!
//! ```json
//! {
//!   "auditType": "fridge_temps",
//!   "ward": "Ward 7",
//!   "completedBy": {"name": "Alex Example", "email": "alex.example@nhs.test", "staffId": "S10042"},
//!   "completedAt": "2026-06-15T00:30:00+01:00",
//!   "auditId": "AUD-2026-0001",
//!   "values": {"fridgeTempC": 4.2, "inRange": true},
//!   "notes": "optional free text",
//!   "dashboardUrl": "https://assurance.example.nhs.test/audits/AUD-2026-0001"
//! }
//! ```
//!
//! `auditType` is a hub code or a dashboard label. The dashboard's own webhook
//! (`{"eventType":"AUDIT_COMPLETED","audit":{"id","type","ward","completedBy","completedAt",
//! "values","notes","dashboardUrl"}}`, see [`DashboardWebhook`]) is accepted at the same URL
//! and transformed in-process. It answers with a [`SyncResponse`]:
//!
//! ```json
//! {"success": true, "taskId": "T-1001", "syncedAt": "2026-06-14T23:31:00Z", "alreadySynced": false}
//! {"success": false, "error": "NO_MATCHING_TASK", "message": "No pending fridge_temps task for Ward 7 on 2026-06-15"}
//! ```
//!
//! # Authentication
//!
//! Either `X-Api-Key: <key>`, or a signature: `X-Assurance-Timestamp: <unix seconds>` and
//! `X-Assurance-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`. Keys and
//! tags are compared in constant time (`subtle`); timestamps more than 5 minutes from now are
//! stale; a signature already seen inside that window is a replay. The replay cache is
//! bounded; when full it refuses (default) or evicts the oldest ([`WhenReplayCacheFull`]).
//!
//! # Try it
//!
//! ```sh
//! cargo run --example assurance_sync -- --port 8080 \
//!     --tasks crates/ward-assurance/examples-data/tasks.json --api-key KEY
//! curl -s -X POST http://127.0.0.1:8080/api/assurance/sync \
//!     -H 'Content-Type: application/json' -H 'X-Api-Key: KEY' \
//!     -d '{"auditType":"fridge_temps","ward":"Ward 7","auditId":"AUD-1",
//!          "completedBy":{"name":"Alex Example","staffId":"S10042"},
//!          "completedAt":"2026-06-15T00:30:00+01:00","values":{"fridgeTempC":4.2}}'
//! ```
//!
//! # In-process use
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use ward_assurance::*;
//!
//! let ward = Ward::new("Ward 7")?;
//! let date = chrono::NaiveDate::from_ymd_opt(2026, 6, 15).unwrap_or_default();
//! let store = InMemoryTaskStore::from_tasks([WardTask::audit_task(
//!     TaskId::new("T-1001")?, AuditType::FridgeTemperatures, ward.clone(), date,
//! )])?;
//! let mut access = StaffWardAccess::new();
//! access.grant(StaffId::new("S10042")?, ward.clone());
//! let mut engine = SyncEngine::new(store, access, MemoryAuditLog::new(), MemoryAdminAlerts::new());
//!
//! let webhook = br#"{"eventType":"AUDIT_COMPLETED","audit":{"id":"AUD-1","type":"Fridge Temperatures",
//!   "ward":"Ward 7","completedBy":{"name":"Alex Example","staffId":"S10042"},
//!   "completedAt":"2026-06-15T00:30:00+01:00","values":{"fridgeTempC":4.2}}}"#;
//! let request = parse_sync_body(webhook)?;
//! let now = Utc.with_ymd_and_hms(2026, 6, 14, 23, 31, 0).single().unwrap_or_default();
//! let outcome = engine.sync(&request, now, None)?;
//! assert_eq!(outcome.code(), "SYNCED");
//! // Redelivered: success again, nothing changes.
//! assert_eq!(engine.sync(&request, now, None)?.code(), "ALREADY_SYNCED");
//! # Ok::<(), AssuranceError>(())
//! ```

#![warn(missing_docs)]

pub mod audit_type;
pub mod auth;
pub mod endpoint;
pub mod engine;
pub mod error;
#[cfg(feature = "http")]
pub mod http;
pub mod ids;
pub mod payload;
pub mod sinks;
pub mod store;
pub mod task;

pub use audit_type::{AuditType, Cadence, Shift};
pub use auth::{
    ApiKey, AuthConfig, Authenticator, Caller, Credentials, HmacSecret, WhenReplayCacheFull,
};
pub use endpoint::{DEFAULT_MAX_BODY_BYTES, SyncEndpoint};
pub use engine::{SyncConfig, SyncEngine, SyncOutcome, SyncResponse, WeeklyMatching};
pub use error::AssuranceError;
pub use ids::{AuditId, StaffId, StaffMember, TaskId, Ward};
pub use payload::{DashboardAudit, DashboardWebhook, EventType, SyncRequest, parse_sync_body};
pub use sinks::{
    AdminAlert, AdminAlerts, AuditLog, Clock, ManualClock, MemoryAdminAlerts, MemoryAuditLog,
    StaffWardAccess, SyncLogEntry, TrustDashboardWardAccess, WardAccess,
};
pub use store::{InMemoryTaskStore, MatchKey, TaskStore};
pub use task::{AuditCompletion, TaskFile, TaskStatus, WardTask};
