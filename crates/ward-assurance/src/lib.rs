//! Ward assurance sync: assurance-dashboard audits completing hub ward tasks.
//!
//! A mental-health trust's inpatient hub lists ward tasks; staff complete the matching audit on
//! the Trust's assurance dashboard, which fires a webhook. This crate turns that webhook into
//! the completion of exactly one pending hub task, for the right ward and day, once.
//!
//! ```text
//! audit_type  AuditType (the design's 7 audits: label, hub code, cadence/shift), catalogue
//! shift       ShiftWindows (trust configuration), TaskWindow (which window a task accepts)
//! payload     DashboardWebhook → SyncRequest (the Power Automate transform), parse_sync_body
//! task        WardTask, TaskStatus, AuditCompletion, TaskFile
//! store       TaskStore trait; InMemoryTaskStore (hash index on (type, ward, due date))
//! auth        Authenticator: X-Api-Key or HMAC-SHA256 signature, replay cache
//! sinks       Clock, WardAccess, AuditLog, AdminAlerts (+ in-memory implementations)
//! sync        SyncEngine::sync → SyncOutcome; SyncResponse (the JSON reply)
//!             (module `engine` before; that path still works)
//! endpoint    SyncEndpoint::handle(credentials, body, now): the endpoint without IO
//! sqlite      SqliteState: task store, sync log, replay cache in one file (feature `sqlite`)
//! postgres    PostgresState: the same, shared by several processes (feature `postgres`)
//! http        axum router: POST /api/assurance/sync, GET /api/assurance/audit-types;
//!             header/body read time-outs (feature `http`, default on)
//! ```
//!
//! The core is sans-IO: nothing here reads the clock or opens a socket except the `http`
//! module's [`http::SystemClock`] and server.
//!
//! # Matching
//!
//! An audit completes the pending task of its type and ward whose **due date and shift
//! window** contain its completion time in ward-local wall-clock time (Europe/London by
//! default, [`SyncConfig::time_zone`]). Shift windows are trust configuration
//! ([`ShiftWindows`]; defaults early 07:00–15:00, late 14:30–22:00, night 21:30–07:30 the
//! next day; they may overlap at handover). So a ligature check (night shift) completed at
//! 02:10 on the 28th completes the night task due on the 27th, never the 28th's; a fridge
//! check (early shift) at 00:30 completes nothing. A task may name its shift (`"shift":
//! "late"`); otherwise it has its audit type's shift; a walkaround task naming no shift
//! accepts any shift of its day, and weekly audits their whole due day
//! ([`WeeklyMatching::SameIsoWeek`]: any day of that ISO week). When several pending tasks
//! accept the time (handover overlap), the one whose window started first is completed, then
//! the one inserted first. Completed, cancelled and non-audit tasks never match. Ward names
//! compare ignoring case and extra whitespace. A completion outside every window is
//! `NO_MATCHING_TASK` and its audit-log line names the window expected
//! ([`SyncLogEntry::expected_window`]). See [`shift`] for both clock changes.
//!
//! # Outcomes
//!
//! | outcome | HTTP | body | effect |
//! | --- | --- | --- | --- |
//! | task completed | 200 | `{"success": true, "taskId", "message": "Task marked complete", "syncedAt"}` | task completed with the audit's metadata |
//! | same audit again | 200 | the same body (first `syncedAt`) | nothing (idempotent) |
//! | no pending task | 404 | `NO_MATCHING_TASK`, `No pending fridge_temps task found for Byron on 2026-01-27` | logged; no task is ever created |
//! | audit already completed a task on another ward | 409 | `WARD_MISMATCH` | nothing; [`AdminAlert::WardMismatch`] |
//! | audit already completed a task of another type or window | 409 | `AUDIT_CONFLICT` | nothing; admin alert |
//! | person has no access to the ward | 403 | `WARD_ACCESS_DENIED` | nothing; admin alert |
//! | missing / bad API key, bad / stale / replayed signature | 401 | `UNAUTHENTICATED`, `INVALID_API_KEY`, `INVALID_SIGNATURE`, `STALE_SIGNATURE`, `REPLAYED_SIGNATURE` | nothing |
//! | malformed JSON | 400 | `MALFORMED_JSON` (line, column) | nothing |
//! | body not received in time | 408 | `REQUEST_TIMEOUT` | nothing; connection closed |
//! | body over the limit (64 KiB default) | 413 | `PAYLOAD_TOO_LARGE` | nothing |
//! | `Content-Type` not `application/json` | 415 | `UNSUPPORTED_MEDIA_TYPE` | nothing |
//! | unknown audit type, missing/invalid field, other event | 422 | `UNKNOWN_AUDIT_TYPE`, `INVALID_FIELD`, `UNSUPPORTED_EVENT` | nothing |
//! | replay cache full (policy `Refuse`) | 429 | `TOO_MANY_REQUESTS` | nothing |
//!
//! Every failure body is `{"success": false, "error", "message"}`. Every attempt, accepted or
//! refused, is written to the [`AuditLog`]. No message repeats a received value (name,
//! e-mail, staff id, ward, audit type, event type, number, note): they name the field and the
//! rule. The one exception is the design's own `NO_MATCHING_TASK` wording, which names the
//! audit type code and the ward, and is only reached after the ward-access check accepted that
//! ward. Text log lines ([`SyncLogEntry::log_line`], [`AdminAlert::log_line`]) carry only
//! the attempt's random id, codes and the hub's task id.
//!
//! # State that survives a restart
//!
//! [`InMemoryTaskStore`] and [`MemoryReplayCache`] forget everything when the process stops.
//! [`sqlite::SqliteState`] keeps the tasks, the audit-id → task record, the replay cache and
//! the sync log in one file (the example's default, `--db FILE`);
//! [`postgres::PostgresState`] keeps them in PostgreSQL, shared by several endpoint
//! processes, which never complete one task twice (its module docs say why). After a restart
//! a redelivery answers success with the first `taskId` and `syncedAt`, and a replayed
//! signature is still refused. `GET /api/assurance/sync-log?ward=&since=` lists the attempts
//! (the design's phase-3 sync monitoring).
//!
//! # Readings of the design, and where they are configurable
//!
//! - *Ward mismatch* is an audit id that already completed a task on one ward arriving again
//!   naming another ward (a re-mapped or tampered redelivery): `WARD_MISMATCH`, nothing
//!   changes, [`AdminAlert::WardMismatch`]. A person completing an audit for a ward they have
//!   no access to is the separate `WARD_ACCESS_DENIED` (also alerted).
//! - *Ward access*: a table keyed by staff id, e-mail or name ([`StaffWardAccess`]: the staff
//!   id's entry wins, then the e-mail's, then the name's), or, explicitly, trust the dashboard
//!   ([`TrustDashboardWardAccess`]).
//! - *Task already complete*: a different audit for a task already completed in the same
//!   window answers success with that task and changes nothing ([`AlreadyComplete::Succeed`],
//!   default: the design's failure-handling table) or `NO_MATCHING_TASK`
//!   ([`AlreadyComplete::NoMatchingTask`]: its `findMatchingTask`); see [`AlreadyComplete`].
//! - Weekly audits: exact due date ([`WeeklyMatching::DueDateOnly`], default) or any day of
//!   the ISO week ([`WeeklyMatching::SameIsoWeek`]).
//! - Replay cache full: refuse ([`WhenReplayCacheFull::Refuse`], default) or forget the oldest
//!   ([`WhenReplayCacheFull::EvictOldest`]).
//!
//! # Request bodies
//!
//! `POST /api/assurance/sync` takes the design's sync request ([`SyncRequest`]), byte for byte:
//!
//! ```json
//! {
//!   "auditType": "fridge_temps",
//!   "ward": "Byron",
//!   "completedBy": "Sarah Johnson",
//!   "completedAt": "2026-01-27T08:14:32Z",
//!   "auditId": "audit-12345",
//!   "values": {"currentTemp": 4.2, "inRange": true}
//! }
//! ```
//!
//! `completedBy` may also be the dashboard's `{"name", "email", "staffId"}`; `notes` and
//! `dashboardUrl` are optional; `auditType` is a hub code or a dashboard label. The
//! dashboard's own webhook (`{"eventType":"AUDIT_COMPLETED","timestamp",...,"audit":{"id",
//! "type","ward","completedBy","completedAt","values","notes","dashboardUrl"}}`, see
//! [`DashboardWebhook`]) is accepted at the same URL and transformed in-process.
//! `GET /api/assurance/audit-types` serves the audit table
//! (`[{"code","label","cadence","shift"}]`).
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
//!     -d '{"auditType":"fridge_temps","ward":"Byron","completedBy":"Sarah Johnson",
//!          "completedAt":"2026-01-27T08:14:32Z","auditId":"audit-12345",
//!          "values":{"currentTemp":4.2,"inRange":true}}'
//! ```
//!
//! `RUST_LOG` selects what the example logs (default `info`).
//!
//! # In-process use
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use ward_assurance::*;
//!
//! let ward = Ward::new("Byron")?;
//! let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 27).unwrap_or_default();
//! let store = InMemoryTaskStore::from_tasks([WardTask::audit_task(
//!     TaskId::new("wt123")?, AuditType::FridgeTemperatures, ward.clone(), date,
//! )])?;
//! let mut access = StaffWardAccess::new();
//! access.grant_key("Sarah Johnson", ward.clone());
//! let mut engine = SyncEngine::new(store, access, MemoryAuditLog::new(), MemoryAdminAlerts::new());
//!
//! let body = br#"{"auditType":"fridge_temps","ward":"Byron","completedBy":"Sarah Johnson",
//!   "completedAt":"2026-01-27T08:14:32Z","auditId":"audit-12345","values":{"currentTemp":4.2}}"#;
//! let request = parse_sync_body(body)?;
//! let now = Utc.with_ymd_and_hms(2026, 1, 27, 8, 15, 1).single().unwrap_or_default();
//! let outcome = engine.sync(&request, now, None)?;
//! assert_eq!(outcome.code(), "SYNCED");
//! assert_eq!(
//!     serde_json::to_string(&SyncResponse::from_outcome(&outcome)).unwrap_or_default(),
//!     r#"{"success":true,"taskId":"wt123","message":"Task marked complete","syncedAt":"2026-01-27T08:15:01Z"}"#
//! );
//! // Redelivered: success again, nothing changes.
//! assert_eq!(engine.sync(&request, now, None)?.code(), "ALREADY_SYNCED");
//! # Ok::<(), AssuranceError>(())
//! ```

#![warn(missing_docs)]

pub mod audit_type;
pub mod auth;
pub mod endpoint;
pub mod error;
#[cfg(feature = "http")]
pub mod http;
pub mod ids;
pub mod payload;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod shift;
pub mod sinks;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod store;
pub mod sync;
pub mod task;

/// The old name of [`sync`] (kept so `ward_assurance::engine::…` paths still compile).
#[doc(hidden)]
pub use self::sync as engine;

pub use audit_type::{AuditType, AuditTypeRow, Cadence, Shift};
pub use auth::{
    ApiKey, AuthConfig, Authenticator, Caller, Credentials, HmacSecret, MemoryReplayCache,
    ReplayCache, WhenReplayCacheFull,
};
pub use endpoint::{DEFAULT_MAX_BODY_BYTES, SyncEndpoint};
pub use error::AssuranceError;
pub use ids::{AuditId, StaffId, StaffMember, TaskId, Ward};
pub use payload::{DashboardAudit, DashboardWebhook, EventType, SyncRequest, parse_sync_body};
pub use shift::{ShiftWindow, ShiftWindows, TaskWindow};
pub use sinks::{
    AdminAlert, AdminAlerts, AuditLog, Clock, ManualClock, MemoryAdminAlerts, MemoryAuditLog,
    StaffWardAccess, SyncLogEntry, SyncLogQuery, SyncLogReader, TrustDashboardWardAccess,
    WardAccess,
};
pub use store::{InMemoryTaskStore, MatchKey, PendingTask, TaskStore};
pub use sync::{
    ALREADY_COMPLETE_MESSAGE, AlreadyComplete, SUCCESS_MESSAGE, SyncConfig, SyncEngine,
    SyncOutcome, SyncResponse, WeeklyMatching,
};
pub use task::{AuditCompletion, TaskFile, TaskStatus, WardTask};

#[cfg(test)]
mod tests {
    /// The paths callers used before issue 14 still name the same items.
    #[test]
    fn old_paths_still_resolve() {
        assert_eq!(crate::engine::SUCCESS_MESSAGE, crate::sync::SUCCESS_MESSAGE);
        let _: fn(crate::sync::SyncConfig) -> crate::engine::SyncConfig = |c| c;
        let clock = crate::sinks::ManualClock::new(chrono::DateTime::UNIX_EPOCH);
        let _: &dyn nhs_identifiers::clock::Clock = &clock;
        let _: &dyn crate::Clock = &clock;
    }
}
