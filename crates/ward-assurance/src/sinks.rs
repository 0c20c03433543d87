//! What the engine is given from outside: the clock, the ward-access directory, the audit-log
//! sink and the admin alert hook.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::audit_type::AuditType;
use crate::ids::{AuditId, StaffId, StaffMember, TaskId, Ward};

/// The current time, injected (the core never reads the system clock).
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// A clock that says what it is told: for tests and replays.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    /// A clock stopped at `now`.
    #[must_use]
    pub fn new(now: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(now)))
    }

    /// Set the time (every clone sees it).
    pub fn set(&self, now: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }

    /// Move the time on.
    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Who may complete audits for which ward.
pub trait WardAccess: Send {
    /// Whether `staff` may complete an audit for `ward`.
    fn may_complete(&self, staff: &StaffMember, ward: &Ward) -> bool;
}

/// Ward access from a table of staff id → wards. Anyone not in the table has no access.
#[derive(Debug, Clone, Default)]
pub struct StaffWardAccess {
    wards_by_staff: HashMap<StaffId, HashSet<Ward>>,
}

impl StaffWardAccess {
    /// An empty table (nobody has access).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Give `staff_id` access to `ward`.
    pub fn grant(&mut self, staff_id: StaffId, ward: Ward) {
        self.wards_by_staff
            .entry(staff_id)
            .or_default()
            .insert(ward);
    }

    /// Build from the task file's `wardAccess` table; ids that are not valid staff ids are
    /// skipped.
    #[must_use]
    pub fn from_table(table: &BTreeMap<String, Vec<Ward>>) -> Self {
        let mut access = Self::new();
        for (staff, wards) in table {
            if let Ok(id) = StaffId::new(staff) {
                for ward in wards {
                    access.grant(id.clone(), ward.clone());
                }
            }
        }
        access
    }
}

impl WardAccess for StaffWardAccess {
    fn may_complete(&self, staff: &StaffMember, ward: &Ward) -> bool {
        self.wards_by_staff
            .get(&staff.staff_id)
            .is_some_and(|wards| wards.contains(ward))
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

/// One sync attempt, as written to the audit log. Holds ids only: no names, e-mails, notes,
/// keys or signatures.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SyncLogEntry {
    /// When the attempt was handled.
    pub at: DateTime<Utc>,
    /// How the caller authenticated (`apiKey:<label>`, `signature:<label>`), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    /// Outcome code: `SYNCED`, `ALREADY_SYNCED`, `NO_MATCHING_TASK`, `WARD_MISMATCH` or an error code.
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
    /// The ward-local date matched on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_date: Option<NaiveDate>,
    /// Staff id of the person who completed the audit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<StaffId>,
    /// The task completed or matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
}

impl SyncLogEntry {
    /// An entry with only time and outcome.
    #[must_use]
    pub fn new(at: DateTime<Utc>, outcome: &'static str) -> Self {
        Self {
            at,
            caller: None,
            outcome,
            audit_id: None,
            audit_type: None,
            ward: None,
            local_date: None,
            staff_id: None,
            task_id: None,
        }
    }
}

/// Where every sync attempt is written.
pub trait AuditLog: Send {
    /// Record one attempt.
    fn record(&mut self, entry: SyncLogEntry);
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

/// Something an administrator must look at.
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
        /// The audit.
        audit_id: AuditId,
        /// The task it completed.
        task_id: TaskId,
    },
    /// Someone completed an audit for a ward they have no access to.
    WardAccessDenied {
        /// The audit.
        audit_id: AuditId,
        /// The staff member.
        staff_id: StaffId,
        /// The ward.
        ward: Ward,
    },
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
