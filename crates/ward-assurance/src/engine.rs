//! The sync engine: ward access, local date, idempotency, the indexed match and the outcome.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::audit_type::{AuditType, Cadence};
use crate::auth::Caller;
use crate::error::AssuranceError;
use crate::ids::{AuditId, TaskId, Ward};
use crate::payload::SyncRequest;
use crate::sinks::{AdminAlert, AdminAlerts, AuditLog, SyncLogEntry, WardAccess};
use crate::store::{MatchKey, TaskStore};
use crate::task::{AuditCompletion, WardTask};

/// Which task a weekly audit completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WeeklyMatching {
    /// Only the task due on the completion's local date, like daily audits (the default: the
    /// design's "task of that type, ward and date").
    #[default]
    DueDateOnly,
    /// The earliest pending task due in the same ISO week (Monday to Sunday) as the
    /// completion's local date: for hubs that date a weekly task on one day but accept the
    /// audit any day that week. Still constant time (at most seven index lookups).
    SameIsoWeek,
}

/// Engine settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SyncConfig {
    /// The wards' time zone; the completion time is converted to a local date here
    /// (default Europe/London, so 00:30 BST on the 15th is the 15th, not the 14th).
    pub time_zone: Tz,
    /// How weekly audits match.
    pub weekly_matching: WeeklyMatching,
    /// How far in the future `completedAt` may be (clock skew) before the request is refused
    /// (default 5 minutes).
    pub max_future_skew: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            time_zone: chrono_tz::Europe::London,
            weekly_matching: WeeklyMatching::DueDateOnly,
            max_future_skew: Duration::minutes(5),
        }
    }
}

impl SyncConfig {
    /// Set the weekly matching rule.
    #[must_use]
    pub fn with_weekly_matching(mut self, rule: WeeklyMatching) -> Self {
        self.weekly_matching = rule;
        self
    }

    /// Set the time zone.
    #[must_use]
    pub fn with_time_zone(mut self, time_zone: Tz) -> Self {
        self.time_zone = time_zone;
        self
    }

    /// The ward-local date of an instant.
    #[must_use]
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.time_zone).date_naive()
    }

    /// The due dates an audit of `audit_type` completed on `local_date` may complete, in the
    /// order they are tried.
    #[must_use]
    pub fn candidate_dates(&self, audit_type: AuditType, local_date: NaiveDate) -> Vec<NaiveDate> {
        match (audit_type.cadence(), self.weekly_matching) {
            (Cadence::Weekly, WeeklyMatching::SameIsoWeek) => {
                let back = Duration::days(i64::from(local_date.weekday().num_days_from_monday()));
                let monday = local_date.checked_sub_signed(back).unwrap_or(local_date);
                (0..7)
                    .filter_map(|d| monday.checked_add_signed(Duration::days(d)))
                    .collect()
            }
            _ => vec![local_date],
        }
    }
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncOutcome {
    /// The task is completed: now (`already_synced: false`) or by an earlier delivery of the
    /// same audit (`already_synced: true`, nothing changed, `synced_at` is the first sync).
    Synced {
        /// The completed task.
        task_id: TaskId,
        /// When it was first synced.
        synced_at: DateTime<Utc>,
        /// Whether this was a redelivery.
        already_synced: bool,
    },
    /// No pending task of that type, ward and date: logged, nothing created.
    NoMatchingTask {
        /// The audit type.
        audit_type: AuditType,
        /// The ward.
        ward: Ward,
        /// The ward-local date.
        local_date: NaiveDate,
    },
    /// The audit already completed a task on another ward: nothing changed, admin alerted.
    WardMismatch {
        /// The audit.
        audit_id: AuditId,
        /// The task it completed.
        task_id: TaskId,
        /// That task's ward.
        task_ward: Ward,
        /// The ward this request named.
        request_ward: Ward,
    },
}

impl SyncOutcome {
    /// `SYNCED`, `ALREADY_SYNCED`, `NO_MATCHING_TASK` or `WARD_MISMATCH`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Synced {
                already_synced: false,
                ..
            } => "SYNCED",
            Self::Synced {
                already_synced: true,
                ..
            } => "ALREADY_SYNCED",
            Self::NoMatchingTask { .. } => "NO_MATCHING_TASK",
            Self::WardMismatch { .. } => "WARD_MISMATCH",
        }
    }

    /// 200 for success, 404 for no matching task, 409 for a ward mismatch.
    #[must_use]
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Synced { .. } => 200,
            Self::NoMatchingTask { .. } => 404,
            Self::WardMismatch { .. } => 409,
        }
    }

    /// A human-readable message for failures (`None` on success).
    #[must_use]
    pub fn message(&self) -> Option<String> {
        match self {
            Self::Synced { .. } => None,
            Self::NoMatchingTask {
                audit_type,
                ward,
                local_date,
            } => Some(format!(
                "No pending {audit_type} task for {ward} on {local_date}"
            )),
            Self::WardMismatch {
                audit_id,
                task_ward,
                request_ward,
                ..
            } => Some(format!(
                "Audit {audit_id} already completed a task on {task_ward}, not {request_ward}"
            )),
        }
    }
}

/// The JSON body the endpoint answers with.
///
/// Success (200): `{"success":true,"taskId":"T-1001","syncedAt":"2026-06-15T08:00:00Z","alreadySynced":false}`.
/// Failure (4xx/5xx): `{"success":false,"error":"NO_MATCHING_TASK","message":"No pending
/// fridge_temps task for Ward 7 on 2026-06-15"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SyncResponse {
    /// Whether the task is (now or already) completed.
    pub success: bool,
    /// The completed task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    /// When it was synced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synced_at: Option<DateTime<Utc>>,
    /// Whether an earlier delivery had already synced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already_synced: Option<bool>,
    /// Error code on failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    /// What went wrong, on failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The HTTP status (not in the body).
    #[serde(skip)]
    pub http_status: u16,
}

impl SyncResponse {
    /// The response for an outcome.
    #[must_use]
    pub fn from_outcome(outcome: &SyncOutcome) -> Self {
        match outcome {
            SyncOutcome::Synced {
                task_id,
                synced_at,
                already_synced,
            } => Self {
                success: true,
                task_id: Some(task_id.clone()),
                synced_at: Some(*synced_at),
                already_synced: Some(*already_synced),
                error: None,
                message: None,
                http_status: 200,
            },
            other => Self {
                success: false,
                task_id: None,
                synced_at: None,
                already_synced: None,
                error: Some(other.code()),
                message: other.message(),
                http_status: other.http_status(),
            },
        }
    }

    /// The response for an error.
    #[must_use]
    pub fn from_error(error: &AssuranceError) -> Self {
        Self {
            success: false,
            task_id: None,
            synced_at: None,
            already_synced: None,
            error: Some(error.code()),
            message: Some(error.to_string()),
            http_status: error.http_status(),
        }
    }

    /// From either.
    #[must_use]
    pub fn from_result(result: &Result<SyncOutcome, AssuranceError>) -> Self {
        match result {
            Ok(outcome) => Self::from_outcome(outcome),
            Err(error) => Self::from_error(error),
        }
    }
}

/// Completes hub tasks from sync requests: sans-IO (time is a parameter), writing every
/// attempt to the audit log.
pub struct SyncEngine<S> {
    store: S,
    access: Box<dyn WardAccess>,
    audit_log: Box<dyn AuditLog>,
    alerts: Box<dyn AdminAlerts>,
    config: SyncConfig,
}

impl<S: TaskStore> SyncEngine<S> {
    /// An engine over `store`, checking ward access with `access`, logging every attempt to
    /// `audit_log` and raising admin alerts on `alerts`.
    pub fn new(
        store: S,
        access: impl WardAccess + 'static,
        audit_log: impl AuditLog + 'static,
        alerts: impl AdminAlerts + 'static,
    ) -> Self {
        Self {
            store,
            access: Box::new(access),
            audit_log: Box::new(audit_log),
            alerts: Box::new(alerts),
            config: SyncConfig::default(),
        }
    }

    /// Replace the settings.
    #[must_use]
    pub fn with_config(mut self, config: SyncConfig) -> Self {
        self.config = config;
        self
    }

    /// The settings.
    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// The task store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The task store, mutably (to add tasks).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Record a request refused before it reached [`sync`](Self::sync) (authentication,
    /// parsing, size).
    pub fn record_rejection(
        &mut self,
        error: &AssuranceError,
        caller: Option<&Caller>,
        now: DateTime<Utc>,
    ) {
        let mut entry = SyncLogEntry::new(now, error.code());
        entry.caller = caller.map(ToString::to_string);
        self.audit_log.record(entry);
    }

    /// Sync one request at `now`: complete the matching pending task, or say why not. The
    /// attempt is written to the audit log whatever happens.
    ///
    /// # Errors
    /// [`AssuranceError::WardAccessDenied`] (admin alerted), [`AssuranceError::AuditConflict`]
    /// (admin alerted), [`AssuranceError::InvalidField`] for a completion time in the future,
    /// store errors. Nothing changes on any error.
    pub fn sync(
        &mut self,
        request: &SyncRequest,
        now: DateTime<Utc>,
        caller: Option<&Caller>,
    ) -> Result<SyncOutcome, AssuranceError> {
        let completed_at = request.completed_at.with_timezone(&Utc);
        let local_date = self.config.local_date(completed_at);
        let result = self.sync_inner(request, now, local_date);
        let mut entry = SyncLogEntry::new(
            now,
            match &result {
                Ok(outcome) => outcome.code(),
                Err(error) => error.code(),
            },
        );
        entry.caller = caller.map(ToString::to_string);
        entry.audit_id = Some(request.audit_id.clone());
        entry.audit_type = Some(request.audit_type);
        entry.ward = Some(request.ward.clone());
        entry.local_date = Some(local_date);
        entry.staff_id = Some(request.completed_by.staff_id.clone());
        entry.task_id = match &result {
            Ok(SyncOutcome::Synced { task_id, .. } | SyncOutcome::WardMismatch { task_id, .. }) => {
                Some(task_id.clone())
            }
            Err(AssuranceError::AuditConflict { task_id, .. }) => TaskId::new(task_id).ok(),
            _ => None,
        };
        self.audit_log.record(entry);
        result
    }

    fn sync_inner(
        &mut self,
        request: &SyncRequest,
        now: DateTime<Utc>,
        local_date: NaiveDate,
    ) -> Result<SyncOutcome, AssuranceError> {
        let latest = now
            .checked_add_signed(self.config.max_future_skew)
            .unwrap_or(now);
        if request.completed_at.with_timezone(&Utc) > latest {
            return Err(AssuranceError::InvalidField {
                field: "completedAt".into(),
                reason: "is in the future".into(),
            });
        }
        if !self
            .access
            .may_complete(&request.completed_by, &request.ward)
        {
            self.alerts.alert(AdminAlert::WardAccessDenied {
                audit_id: request.audit_id.clone(),
                staff_id: request.completed_by.staff_id.clone(),
                ward: request.ward.clone(),
            });
            return Err(AssuranceError::WardAccessDenied {
                staff_id: request.completed_by.staff_id.to_string(),
                ward: request.ward.to_string(),
            });
        }
        let candidates = self.config.candidate_dates(request.audit_type, local_date);
        if let Some(done) = self.store.task_completed_by(&request.audit_id)? {
            return self.redelivery(request, &done, &candidates, now);
        }
        for date in candidates {
            let key = MatchKey::new(request.audit_type, request.ward.clone(), date);
            if let Some(task_id) = self.store.pending_audit_task(&key)? {
                let completion = AuditCompletion {
                    audit_id: request.audit_id.clone(),
                    completed_by: request.completed_by.clone(),
                    completed_at: request.completed_at,
                    synced_at: now,
                    values: request.values.clone(),
                    notes: request.notes.clone(),
                    dashboard_url: request.dashboard_url.clone(),
                };
                let task = self.store.complete_task(&task_id, completion)?;
                return Ok(SyncOutcome::Synced {
                    task_id: task.id,
                    synced_at: now,
                    already_synced: false,
                });
            }
        }
        Ok(SyncOutcome::NoMatchingTask {
            audit_type: request.audit_type,
            ward: request.ward.clone(),
            local_date,
        })
    }

    fn redelivery(
        &mut self,
        request: &SyncRequest,
        done: &WardTask,
        candidates: &[NaiveDate],
        now: DateTime<Utc>,
    ) -> Result<SyncOutcome, AssuranceError> {
        if done.ward != request.ward {
            self.alerts.alert(AdminAlert::WardMismatch {
                audit_id: request.audit_id.clone(),
                task_id: done.id.clone(),
                task_ward: done.ward.clone(),
                request_ward: request.ward.clone(),
            });
            return Ok(SyncOutcome::WardMismatch {
                audit_id: request.audit_id.clone(),
                task_id: done.id.clone(),
                task_ward: done.ward.clone(),
                request_ward: request.ward.clone(),
            });
        }
        if done.audit_type != Some(request.audit_type) || !candidates.contains(&done.due_date) {
            self.alerts.alert(AdminAlert::AuditConflict {
                audit_id: request.audit_id.clone(),
                task_id: done.id.clone(),
            });
            return Err(AssuranceError::AuditConflict {
                audit_id: request.audit_id.to_string(),
                task_id: done.id.to_string(),
            });
        }
        let synced_at = done.completion.as_ref().map_or(now, |c| c.synced_at);
        Ok(SyncOutcome::Synced {
            task_id: done.id.clone(),
            synced_at,
            already_synced: true,
        })
    }
}
