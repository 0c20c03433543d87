//! The hub's ward tasks and the completion an audit writes onto one.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::audit_type::{AuditType, Shift};
use crate::error::{AssuranceError, malformed_json};
use crate::ids::{AuditId, StaffMember, TaskId, Ward};

/// A task's status. Only [`TaskStatus::Pending`] tasks are ever completed by an audit (a
/// [`TaskStatus::Completed`] one may answer `ALREADY_COMPLETE`, see
/// [`crate::AlreadyComplete`]); statuses a newer hub may send are kept in
/// [`TaskStatus::Other`] and never match.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskStatus {
    /// Open, waiting to be done.
    Pending,
    /// Done.
    Completed,
    /// Withdrawn; never completed by an audit.
    Cancelled,
    /// A status this version does not know.
    Other(String),
}

impl TaskStatus {
    /// The wire value (`pending`, `completed`, `cancelled`).
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "pending",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Other(other) => other,
        }
    }

    /// Parse a wire value, ignoring case; unknown values become [`TaskStatus::Other`].
    #[must_use]
    pub fn parse(value: &str) -> Self {
        match value.trim().to_ascii_lowercase().as_str() {
            "pending" => Self::Pending,
            "completed" => Self::Completed,
            "cancelled" | "canceled" => Self::Cancelled,
            _ => Self::Other(value.to_owned()),
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TaskStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TaskStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(deserializer)?))
    }
}

/// What an audit wrote onto the task it completed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AuditCompletion {
    /// The dashboard audit that completed the task.
    pub audit_id: AuditId,
    /// Who completed the audit.
    pub completed_by: StaffMember,
    /// When the audit was completed (as the dashboard sent it).
    pub completed_at: DateTime<FixedOffset>,
    /// When the hub recorded it.
    pub synced_at: DateTime<Utc>,
    /// The audit's values.
    #[serde(default)]
    pub values: Map<String, Value>,
    /// The audit's notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Link to the completed audit on the dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard_url: Option<String>,
}

/// A hub ward task (camelCase JSON, as in the hub):
///
/// ```json
/// {"id":"T-1001","title":"Fridge temperatures","isAuditTask":true,"auditType":"fridge_temps",
///  "ward":"Ward 7","dueDate":"2026-06-15","status":"pending","linkedGuideId":"guide-fridge",
///  "assuranceDashboardUrl":"https://…"}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WardTask {
    /// The hub's task id.
    pub id: TaskId,
    /// What staff see.
    #[serde(default)]
    pub title: String,
    /// Whether an assurance audit completes this task.
    #[serde(default)]
    pub is_audit_task: bool,
    /// Which audit, for audit tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_type: Option<AuditType>,
    /// The ward.
    pub ward: Ward,
    /// The ward-local date the task is due.
    pub due_date: NaiveDate,
    /// The shift the task belongs to (`early`, `late`, `night`); when absent, the audit
    /// type's shift (see [`crate::shift`] for walkarounds and weekly audits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift: Option<Shift>,
    /// Status.
    pub status: TaskStatus,
    /// The hub guide linked to this task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_guide_id: Option<String>,
    /// Where staff do the audit on the dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assurance_dashboard_url: Option<String>,
    /// The audit that completed it, once synced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<AuditCompletion>,
}

impl WardTask {
    /// A pending audit task.
    #[must_use]
    pub fn audit_task(id: TaskId, audit_type: AuditType, ward: Ward, due_date: NaiveDate) -> Self {
        Self {
            id,
            title: audit_type.dashboard_label().to_owned(),
            is_audit_task: true,
            audit_type: Some(audit_type),
            ward,
            due_date,
            shift: None,
            status: TaskStatus::Pending,
            linked_guide_id: None,
            assurance_dashboard_url: None,
            completion: None,
        }
    }

    /// Name the task's shift.
    #[must_use]
    pub fn with_shift(mut self, shift: Shift) -> Self {
        self.shift = Some(shift);
        self
    }

    /// Set the status.
    #[must_use]
    pub fn with_status(mut self, status: TaskStatus) -> Self {
        self.status = status;
        self
    }

    /// Whether this task can be completed by an audit of `audit_type` for `ward` on `date`:
    /// an audit task, pending, of that type, ward and due date. (The linear-scan definition
    /// the index must agree with.)
    #[must_use]
    pub fn is_pending_audit_for(
        &self,
        audit_type: AuditType,
        ward: &Ward,
        date: NaiveDate,
    ) -> bool {
        self.is_audit_task
            && self.status == TaskStatus::Pending
            && self.audit_type == Some(audit_type)
            && self.due_date == date
            && &self.ward == ward
    }
}

/// The JSON task file the example serves:
/// `{"tasks": [...], "wardAccess": {"NHS123456": ["Byron"], "Sarah Johnson": ["Byron"]}}`
/// (a bare array of tasks is accepted too, with no ward-access list). `wardAccess` keys are
/// staff ids, e-mail addresses or names; see [`crate::StaffWardAccess`] for which wins.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskFile {
    /// The tasks.
    pub tasks: Vec<WardTask>,
    /// Staff id, e-mail or name → wards that person may complete audits for; `None` when the
    /// file has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ward_access: Option<std::collections::BTreeMap<String, Vec<Ward>>>,
}

impl TaskFile {
    /// Parse a task file.
    ///
    /// # Errors
    /// [`AssuranceError::MalformedJson`] saying where.
    pub fn from_json(body: &[u8]) -> Result<Self, AssuranceError> {
        #[derive(Deserialize)]
        struct File {
            tasks: Vec<WardTask>,
            #[serde(default, rename = "wardAccess")]
            ward_access: Option<std::collections::BTreeMap<String, Vec<Ward>>>,
        }
        let trimmed = body
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map(|i| body[i]);
        if trimmed == Some(b'[') {
            let tasks: Vec<WardTask> = serde_json::from_slice(body).map_err(json_error)?;
            Ok(Self {
                tasks,
                ward_access: None,
            })
        } else {
            let file: File = serde_json::from_slice(body).map_err(json_error)?;
            Ok(Self {
                tasks: file.tasks,
                ward_access: file.ward_access,
            })
        }
    }
}

fn json_error(e: serde_json::Error) -> AssuranceError {
    malformed_json(&e)
}
