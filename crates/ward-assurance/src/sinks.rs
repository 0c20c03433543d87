//! What the engine is given from outside: the clock, the ward-access directory, the audit-log
//! sink and the admin alert hook.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, NaiveDate, Utc};
use nhs_identifiers::uuid::{RandomUuids, UuidSource};
use serde::Serialize;

use crate::audit_type::AuditType;
use crate::ids::{AuditId, StaffId, StaffMember, TaskId, Ward};

/// The current time, injected (the core never reads the system clock): the workspace's one
/// clock trait and its manual test clock, re-exported here where this crate always had them.
pub use nhs_identifiers::clock::{Clock, ManualClock};

/// Who may complete audits for which ward.
pub trait WardAccess: Send {
    /// Whether `staff` may complete an audit for `ward`.
    fn may_complete(&self, staff: &StaffMember, ward: &Ward) -> bool;
}

/// Ward access from a table keyed by staff id, e-mail address or name → wards. Anyone not in
/// the table has no access.
///
/// Which entry wins: the person's identifiers are tried in the order **staff id, then e-mail,
/// then name**, and the first one that has an entry decides (entries are not merged). So an
/// entry by staff id overrides one by e-mail or name (ids are unique, names are not), and the
/// design's sync body, whose `completedBy` is only a name, is checked against the name entry.
/// Keys compare ignoring case and extra whitespace, as wards do.
#[derive(Debug, Clone, Default)]
pub struct StaffWardAccess {
    wards_by_key: HashMap<String, HashSet<Ward>>,
}

fn access_key(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl StaffWardAccess {
    /// An empty table (nobody has access).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Give `staff_id` access to `ward`.
    pub fn grant(&mut self, staff_id: StaffId, ward: Ward) {
        self.grant_key(staff_id.as_str(), ward);
    }

    /// Give the person with this staff id, e-mail or name access to `ward`.
    pub fn grant_key(&mut self, key: &str, ward: Ward) {
        let key = access_key(key);
        if !key.is_empty() {
            self.wards_by_key.entry(key).or_default().insert(ward);
        }
    }

    /// Build from the task file's `wardAccess` table (blank keys are skipped).
    #[must_use]
    pub fn from_table(table: &BTreeMap<String, Vec<Ward>>) -> Self {
        let mut access = Self::new();
        for (key, wards) in table {
            for ward in wards {
                access.grant_key(key, ward.clone());
            }
        }
        access
    }
}

impl WardAccess for StaffWardAccess {
    fn may_complete(&self, staff: &StaffMember, ward: &Ward) -> bool {
        let keys = [
            staff.staff_id.as_ref().map(StaffId::as_str),
            staff.email.as_deref(),
            Some(staff.name.as_str()),
        ];
        keys.into_iter()
            .flatten()
            .find_map(|key| self.wards_by_key.get(&access_key(key)))
            .is_some_and(|wards| wards.contains(ward))
    }
}

impl<T: WardAccess + ?Sized> WardAccess for Box<T> {
    fn may_complete(&self, staff: &StaffMember, ward: &Ward) -> bool {
        (**self).may_complete(staff, ward)
    }
}

/// Everyone may complete audits for every ward: only for deployments where the dashboard has
/// already checked ward membership. Say so explicitly; it is never the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrustDashboardWardAccess;

impl WardAccess for TrustDashboardWardAccess {
    fn may_complete(&self, _staff: &StaffMember, _ward: &Ward) -> bool {
        true
    }
}

/// One sync attempt, as written to the audit log (the sync log the monitoring endpoint
/// lists). Holds ids and codes: no names, e-mails, staff ids, notes, values, keys or
/// signatures. The audit id and ward are kept so an administrator can find the attempt, but
/// [`log_line`](Self::log_line), what goes to text logs, leaves them out (a caller could put a
/// name in either).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SyncLogEntry {
    /// This attempt's id (a random UUID: it cannot carry a name), also in admin alerts.
    pub id: String,
    /// When the attempt was handled.
    pub at: DateTime<Utc>,
    /// How the caller authenticated (`apiKey:<label>`, `signature:<label>`), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    /// Outcome code: `SYNCED`, `ALREADY_SYNCED`, `ALREADY_COMPLETE`, `NO_MATCHING_TASK`, `WARD_MISMATCH` or an error code.
    pub outcome: &'static str,
    /// The audit id, once the body was parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_id: Option<AuditId>,
    /// The audit type, once parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_type: Option<AuditType>,
    /// The audit's ward, once parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ward: Option<Ward>,
    /// The ward-local date matched on (a night shift's due date for a night audit after
    /// midnight).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_date: Option<NaiveDate>,
    /// The task completed or matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    /// For `NO_MATCHING_TASK`: the window the audit type was expected in, e.g.
    /// `night 21:30-07:30 next day`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_window: Option<String>,
}

impl SyncLogEntry {
    /// An entry with a fresh id, time and outcome only.
    #[must_use]
    pub fn new(at: DateTime<Utc>, outcome: &'static str) -> Self {
        Self::with_id(RandomUuids.next_uuid().to_string(), at, outcome)
    }

    /// An entry with a given attempt id.
    #[must_use]
    pub fn with_id(id: String, at: DateTime<Utc>, outcome: &'static str) -> Self {
        Self {
            id,
            at,
            caller: None,
            outcome,
            audit_id: None,
            audit_type: None,
            ward: None,
            local_date: None,
            task_id: None,
            expected_window: None,
        }
    }

    /// The one-line JSON for text logs: attempt id, time, caller label, outcome, audit type,
    /// local date, the hub's task id and the expected window. No received free text (audit
    /// id, ward, staff) ever appears.
    #[must_use]
    pub fn log_line(&self) -> String {
        serde_json::json!({
            "id": self.id,
            "at": self.at,
            "caller": self.caller,
            "outcome": self.outcome,
            "auditType": self.audit_type,
            "localDate": self.local_date,
            "taskId": self.task_id,
            "expectedWindow": self.expected_window,
        })
        .to_string()
    }
}

/// Every outcome code an entry can hold (sync outcomes and error codes).
pub const OUTCOME_CODES: [&str; 26] = [
    "SYNCED",
    "ALREADY_SYNCED",
    "ALREADY_COMPLETE",
    "NO_MATCHING_TASK",
    "WARD_MISMATCH",
    "UNKNOWN_AUDIT_TYPE",
    "MALFORMED_JSON",
    "INVALID_FIELD",
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_EVENT",
    "UNSUPPORTED_MEDIA_TYPE",
    "REQUEST_TIMEOUT",
    "UNAUTHENTICATED",
    "INVALID_API_KEY",
    "INVALID_SIGNATURE",
    "STALE_SIGNATURE",
    "REPLAYED_SIGNATURE",
    "TOO_MANY_REQUESTS",
    "WARD_ACCESS_DENIED",
    "AUDIT_CONFLICT",
    "DUPLICATE_TASK",
    "TASK_NOT_PENDING",
    "INVALID_CONFIG",
    "STORE_UNAVAILABLE",
    "NOT_FOUND",
    "UNKNOWN",
];

/// The static code for a stored outcome text (`UNKNOWN` for one this version does not know).
#[must_use]
pub fn outcome_code(text: &str) -> &'static str {
    OUTCOME_CODES
        .iter()
        .find(|c| **c == text)
        .copied()
        .unwrap_or("UNKNOWN")
}

/// Which sync-log entries to list (`GET /api/assurance/sync-log?ward=&since=&limit=`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncLogQuery {
    /// Only attempts naming this ward.
    pub ward: Option<Ward>,
    /// Only attempts handled at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// At most this many, oldest first (default 500).
    pub limit: usize,
}

impl Default for SyncLogQuery {
    fn default() -> Self {
        Self {
            ward: None,
            since: None,
            limit: 500,
        }
    }
}

/// The most `name=value` pairs [`SyncLogQuery::from_query_string`] reads.
pub const MAX_SYNC_LOG_QUERY_PAIRS: usize = 32;
/// The longest query string [`SyncLogQuery::from_query_string`] reads, in bytes.
pub const MAX_SYNC_LOG_QUERY_BYTES: usize = 2048;
/// The most entries one sync-log request may ask for (`limit`).
pub const MAX_SYNC_LOG_LIMIT: usize = 5000;

impl SyncLogQuery {
    /// Reads the query string of `GET /api/assurance/sync-log` (the part after `?`, still
    /// percent-encoded, `+` a space): `ward` (a ward name of at most 100 characters), `since`
    /// (an RFC 3339 date-time, or a `YYYY-MM-DD` date meaning midnight UTC) and `limit` (a
    /// whole number from 1 to [`MAX_SYNC_LOG_LIMIT`], default 500). An empty `ward` or
    /// `since` selects everything; other names are ignored. The HTTP handler's entry point,
    /// and the `ward_webhook_json` fuzz target's.
    ///
    /// # Errors
    /// [`crate::AssuranceError::InvalidField`] naming the parameter (`query` for a malformed
    /// escape, text that is not UTF-8, more than [`MAX_SYNC_LOG_QUERY_PAIRS`] pairs or
    /// [`MAX_SYNC_LOG_QUERY_BYTES`] bytes) and the rule it breaks, never the value received.
    pub fn from_query_string(raw: &str) -> Result<Self, crate::AssuranceError> {
        let invalid = |field: &str, reason: &str| crate::AssuranceError::InvalidField {
            field: field.into(),
            reason: reason.into(),
        };
        let malformed = || invalid("query", "is not a valid query string");
        if raw.len() > MAX_SYNC_LOG_QUERY_BYTES {
            return Err(malformed());
        }
        let mut selection = Self::default();
        for (count, pair) in raw.split('&').filter(|p| !p.is_empty()).enumerate() {
            if count == MAX_SYNC_LOG_QUERY_PAIRS {
                return Err(malformed());
            }
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = form_decode(name).ok_or_else(malformed)?;
            let value = form_decode(value).ok_or_else(malformed)?;
            match name.as_str() {
                "ward" if !value.trim().is_empty() => {
                    selection.ward = Some(Ward::new(&value).map_err(|_| {
                        invalid(
                            "ward",
                            "must be a ward name of at most 100 characters without control characters",
                        )
                    })?);
                }
                "since" if !value.trim().is_empty() => {
                    selection.since = Some(parse_since(&value).ok_or_else(|| {
                        invalid(
                            "since",
                            "must be an RFC 3339 date-time or a YYYY-MM-DD date",
                        )
                    })?);
                }
                "limit" => {
                    selection.limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|limit| (1..=MAX_SYNC_LOG_LIMIT).contains(limit))
                        .ok_or_else(|| invalid("limit", "must be a whole number from 1 to 5000"))?;
                }
                _ => {}
            }
        }
        Ok(selection)
    }

    /// Whether `entry` is selected (ignoring the limit).
    #[must_use]
    pub fn selects(&self, entry: &SyncLogEntry) -> bool {
        self.ward
            .as_ref()
            .is_none_or(|w| entry.ward.as_ref() == Some(w))
            && self.since.is_none_or(|s| entry.at >= s)
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; `None` for a
/// malformed escape or bytes that are not UTF-8.
fn form_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn parse_since(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            text.parse::<NaiveDate>()
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        })
}

/// A sync log that can be listed (for the monitoring endpoint).
pub trait SyncLogReader: Send + Sync {
    /// The entries `query` selects, oldest first.
    ///
    /// # Errors
    /// [`crate::AssuranceError::StoreUnavailable`].
    fn list(&self, query: &SyncLogQuery) -> Result<Vec<SyncLogEntry>, crate::AssuranceError>;
}

impl SyncLogReader for MemoryAuditLog {
    fn list(&self, query: &SyncLogQuery) -> Result<Vec<SyncLogEntry>, crate::AssuranceError> {
        Ok(self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|e| query.selects(e))
            .take(query.limit)
            .cloned()
            .collect())
    }
}

/// Where every sync attempt is written.
pub trait AuditLog: Send {
    /// Record one attempt.
    fn record(&mut self, entry: SyncLogEntry);
}

impl<T: AuditLog + ?Sized> AuditLog for Box<T> {
    fn record(&mut self, entry: SyncLogEntry) {
        (**self).record(entry);
    }
}

/// Both logs get every entry (e.g. the database's sync log and the text log).
impl<A: AuditLog, B: AuditLog> AuditLog for (A, B) {
    fn record(&mut self, entry: SyncLogEntry) {
        self.0.record(entry.clone());
        self.1.record(entry);
    }
}

/// An audit log kept in memory; clones share the same entries (keep one to read them).
#[derive(Debug, Clone, Default)]
pub struct MemoryAuditLog(Arc<Mutex<Vec<SyncLogEntry>>>);

impl MemoryAuditLog {
    /// An empty log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the entries so far.
    #[must_use]
    pub fn entries(&self) -> Vec<SyncLogEntry> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl AuditLog for MemoryAuditLog {
    fn record(&mut self, entry: SyncLogEntry) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(entry);
    }
}

/// Something an administrator must look at. `attempt_id` is the [`SyncLogEntry::id`] of the
/// attempt, where the details are. The ward and staff fields are for the in-process hook;
/// text logs get [`log_line`](Self::log_line) only.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
#[non_exhaustive]
pub enum AdminAlert {
    /// An audit already synced to a task on one ward arrived again naming another ward.
    WardMismatch {
        /// The sync-log attempt.
        attempt_id: String,
        /// The audit.
        audit_id: AuditId,
        /// The task it completed.
        task_id: TaskId,
        /// That task's ward.
        task_ward: Ward,
        /// The ward the request named.
        request_ward: Ward,
    },
    /// An audit already synced arrived again naming another audit type or date.
    AuditConflict {
        /// The sync-log attempt.
        attempt_id: String,
        /// The audit.
        audit_id: AuditId,
        /// The task it completed.
        task_id: TaskId,
    },
    /// Someone completed an audit for a ward they have no access to.
    WardAccessDenied {
        /// The sync-log attempt.
        attempt_id: String,
        /// The audit.
        audit_id: AuditId,
        /// The staff member's id, when the request carried one.
        staff_id: Option<StaffId>,
        /// The ward.
        ward: Ward,
    },
}

impl AdminAlert {
    /// `WARD_MISMATCH`, `AUDIT_CONFLICT` or `WARD_ACCESS_DENIED`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::WardMismatch { .. } => "WARD_MISMATCH",
            Self::AuditConflict { .. } => "AUDIT_CONFLICT",
            Self::WardAccessDenied { .. } => "WARD_ACCESS_DENIED",
        }
    }

    /// The one-line JSON for text logs: the alert code, the attempt id and the hub's task
    /// id (no ward, staff id or audit id, which a caller could fill with a name).
    #[must_use]
    pub fn log_line(&self) -> String {
        let (attempt, task) = match self {
            Self::WardMismatch {
                attempt_id,
                task_id,
                ..
            }
            | Self::AuditConflict {
                attempt_id,
                task_id,
                ..
            } => (attempt_id, Some(task_id)),
            Self::WardAccessDenied { attempt_id, .. } => (attempt_id, None),
        };
        serde_json::json!({"alert": self.code(), "attempt": attempt, "taskId": task}).to_string()
    }
}

/// The admin alert hook.
pub trait AdminAlerts: Send {
    /// Raise an alert.
    fn alert(&mut self, alert: AdminAlert);
}

/// Alerts kept in memory; clones share them.
#[derive(Debug, Clone, Default)]
pub struct MemoryAdminAlerts(Arc<Mutex<Vec<AdminAlert>>>);

impl MemoryAdminAlerts {
    /// No alerts yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the alerts so far.
    #[must_use]
    pub fn alerts(&self) -> Vec<AdminAlert> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl AdminAlerts for MemoryAdminAlerts {
    fn alert(&mut self, alert: AdminAlert) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(alert);
    }
}
