//! The sync engine: ward access, local date, idempotency, the indexed match and the outcome.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::audit_type::{AuditType, Cadence};
use crate::auth::Caller;
use crate::error::AssuranceError;
use crate::ids::{AuditId, TaskId, Ward};
use crate::payload::SyncRequest;
use crate::shift::{ShiftWindows, TaskWindow};
use crate::sinks::{AdminAlert, AdminAlerts, AuditLog, SyncLogEntry, WardAccess};
use crate::store::{MatchKey, PendingTask, TaskStore};
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

/// What a sync answers when no pending task matches but a task of the same audit type, ward,
/// due date and shift window is already **completed** (by hand in the hub, or by an earlier,
/// different audit of that type in the same window).
///
/// The integration design is ambiguous here. Its "Failure Handling" table reads
///
/// | Scenario | Action |
/// |----------|--------|
/// | No matching task | Log warning, don't create task (prevents duplicates) |
/// | Task already complete | Return success (idempotent) |
///
/// while its `findMatchingTask` excludes completed (and cancelled) tasks, so a literal port
/// of the code answers `NO_MATCHING_TASK` for a task that is already complete. Both readings
/// are supported; the default is the table's ([`AlreadyComplete::Succeed`]).
///
/// A redelivery of the *same* audit (same `auditId`) is a different case: it always answers
/// `ALREADY_SYNCED` with the first `taskId` and `syncedAt`, whichever reading is chosen. A
/// cancelled task is never "complete": it stays `NO_MATCHING_TASK` under both readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AlreadyComplete {
    /// The design's table, "Task already complete → Return success (idempotent)" (the
    /// default): answer 200 `{"success": true, "taskId": <the completed task>, "message":
    /// "Task already complete", "syncedAt": <this attempt>}` and change nothing (the task
    /// keeps its first completion). The sync log records the attempt as `ALREADY_COMPLETE`
    /// with that task id. The message is not the design's `Task marked complete` because this
    /// request marked nothing: the design gives no message for this row, and the flow's
    /// condition reads `success`, not the text.
    ///
    /// The audit id is **not** recorded against the task: the audit-id → task record says
    /// which task an audit *completed* (each task holds one completion and the stores keep
    /// `audit_id` unique), and this audit completed none. A redelivery of it is matched again
    /// and, as long as the task is still complete and no pending task has appeared in that
    /// window, answers the same `ALREADY_COMPLETE` body (with a new `syncedAt`).
    #[default]
    Succeed,
    /// The design's `findMatchingTask` taken literally: completed tasks are not candidates,
    /// so the answer is 404 `NO_MATCHING_TASK` as for any other miss.
    NoMatchingTask,
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
    /// The shifts' hours (default early 07:00–15:00, late 14:30–22:00, night 21:30–07:30).
    pub shift_windows: ShiftWindows,
    /// What to answer when the matching task is already complete (default
    /// [`AlreadyComplete::Succeed`], the design's failure-handling table).
    pub already_complete: AlreadyComplete,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            time_zone: nhs_identifiers::clock::LONDON,
            weekly_matching: WeeklyMatching::DueDateOnly,
            max_future_skew: Duration::minutes(5),
            shift_windows: ShiftWindows::default(),
            already_complete: AlreadyComplete::Succeed,
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

    /// Set what a sync answers when the matching task is already complete.
    #[must_use]
    pub fn with_already_complete(mut self, reading: AlreadyComplete) -> Self {
        self.already_complete = reading;
        self
    }

    /// Set the time zone.
    #[must_use]
    pub fn with_time_zone(mut self, time_zone: Tz) -> Self {
        self.time_zone = time_zone;
        self
    }

    /// Set the shift windows.
    #[must_use]
    pub fn with_shift_windows(mut self, windows: ShiftWindows) -> Self {
        self.shift_windows = windows;
        self
    }

    /// The ward-local date of an instant.
    #[must_use]
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.time_zone).date_naive()
    }

    /// The ward-local wall-clock time of an instant.
    #[must_use]
    pub fn local_time(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&self.time_zone).naive_local()
    }

    /// The window a task of `audit_type` naming `shift` accepts completions in.
    #[must_use]
    pub fn task_window(&self, audit_type: AuditType, shift: Option<crate::Shift>) -> TaskWindow {
        TaskWindow::for_task(
            audit_type,
            shift,
            self.weekly_matching == WeeklyMatching::SameIsoWeek,
        )
    }

    /// Whether a task of `audit_type`, due on `due_date`, naming `shift`, accepts a completion
    /// at ward-local wall-clock time `local`; if so, its window's start (the earliest start
    /// wins when several tasks accept).
    #[must_use]
    pub fn accepts(
        &self,
        audit_type: AuditType,
        shift: Option<crate::Shift>,
        due_date: NaiveDate,
        local: NaiveDateTime,
    ) -> Option<NaiveDateTime> {
        let (start, end) = self
            .task_window(audit_type, shift)
            .bounds(&self.shift_windows, due_date);
        (start <= local && local < end).then_some(start)
    }

    /// The due dates whose tasks may accept a completion on `local_date`, earliest first: the
    /// day before (a night shift runs past midnight) and the day itself, or the seven days of
    /// the ISO week for weekly audits under [`WeeklyMatching::SameIsoWeek`]. Every window is
    /// shorter than a day and starts on its due date, so no other date can hold one.
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
            _ => [local_date.pred_opt(), Some(local_date)]
                .into_iter()
                .flatten()
                .collect(),
        }
    }

    /// The date an audit at `local` counts for, in its audit type's own window: for a night
    /// audit at 02:10 on the 28th, the 27th. The local date when no window of either candidate
    /// day contains it.
    #[must_use]
    pub fn shift_date(&self, audit_type: AuditType, local: NaiveDateTime) -> NaiveDate {
        self.candidate_dates(audit_type, local.date())
            .into_iter()
            .rev()
            .find(|&d| self.accepts(audit_type, None, d, local).is_some())
            .unwrap_or(local.date())
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
    /// No pending task matched, but a completed task of the same type, ward, due date and
    /// shift window did (completed by hand or by another audit), and the engine is configured
    /// with [`AlreadyComplete::Succeed`]: success, nothing changed.
    AlreadyComplete {
        /// The task that was already complete.
        task_id: TaskId,
        /// When this attempt was made (nothing was synced: the task keeps its completion).
        synced_at: DateTime<Utc>,
    },
    /// No pending task of that type and ward whose date and shift window contain the
    /// completion (nor, under [`AlreadyComplete::Succeed`], a completed one): logged, nothing
    /// created.
    NoMatchingTask {
        /// The audit type.
        audit_type: AuditType,
        /// The ward (it passed the ward-access check).
        ward: Ward,
        /// The date the audit counts for in its type's shift window (a night audit after
        /// midnight counts for the night that began the day before).
        local_date: NaiveDate,
        /// The window expected, for the log line, e.g. `night 21:30-07:30 next day`.
        expected_window: String,
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
    /// `SYNCED`, `ALREADY_SYNCED`, `ALREADY_COMPLETE`, `NO_MATCHING_TASK` or `WARD_MISMATCH`.
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
            Self::AlreadyComplete { .. } => "ALREADY_COMPLETE",
            Self::NoMatchingTask { .. } => "NO_MATCHING_TASK",
            Self::WardMismatch { .. } => "WARD_MISMATCH",
        }
    }

    /// 200 for success, 404 for no matching task, 409 for a ward mismatch.
    #[must_use]
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Synced { .. } | Self::AlreadyComplete { .. } => 200,
            Self::NoMatchingTask { .. } => 404,
            Self::WardMismatch { .. } => 409,
        }
    }

    /// The response message: the design's `Task marked complete` on success, `Task already
    /// complete` when the task was already complete (see [`AlreadyComplete::Succeed`]), the
    /// design's `No pending fridge_temps task found for Byron on 2026-01-27` when nothing
    /// matches.
    #[must_use]
    pub fn message(&self) -> String {
        match self {
            Self::Synced { .. } => SUCCESS_MESSAGE.to_owned(),
            Self::AlreadyComplete { .. } => ALREADY_COMPLETE_MESSAGE.to_owned(),
            Self::NoMatchingTask {
                audit_type,
                ward,
                local_date,
                ..
            } => nhs_identifiers::scan::redact(&format!(
                "No pending {audit_type} task found for {ward} on {local_date}"
            )),
            Self::WardMismatch { task_id, .. } => format!(
                "this audit already completed task {task_id} on another ward: an administrator has been alerted"
            ),
        }
    }
}

/// The design's success message.
pub const SUCCESS_MESSAGE: &str = "Task marked complete";

/// The message for a task that was already complete ([`AlreadyComplete::Succeed`]).
pub const ALREADY_COMPLETE_MESSAGE: &str = "Task already complete";

/// The JSON body the endpoint answers with, field for field as the integration design:
///
/// ```json
/// {"success": true, "taskId": "wt123", "message": "Task marked complete", "syncedAt": "2026-01-27T08:15:01Z"}
/// {"success": false, "error": "NO_MATCHING_TASK", "message": "No pending fridge_temps task found for Byron on 2026-01-27"}
/// ```
///
/// A redelivery answers the first body again (same `taskId` and `syncedAt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SyncResponse {
    /// Whether the task is (now or already) completed.
    pub success: bool,
    /// The completed task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    /// Error code on failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    /// `Task marked complete`, or what went wrong (never a received value except, in
    /// `NO_MATCHING_TASK`, the audit type code and the ward, as the design words it).
    pub message: String,
    /// When it was synced. The body gives it in whole seconds, UTC, as the design's
    /// `"syncedAt": "2026-01-27T08:15:01Z"` (the stores keep milliseconds).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "design_timestamp"
    )]
    pub synced_at: Option<DateTime<Utc>>,
    /// Whether an earlier delivery had already synced it (not in the body).
    #[serde(skip)]
    pub already_synced: bool,
    /// The HTTP status (not in the body).
    #[serde(skip)]
    pub http_status: u16,
}

/// `2026-01-27T08:15:01Z`: the design's `syncedAt` shape (whole seconds, `Z`).
fn design_timestamp<S: serde::Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => {
            serializer.serialize_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        }
        None => serializer.serialize_none(),
    }
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
                error: None,
                message: outcome.message(),
                synced_at: Some(*synced_at),
                already_synced: *already_synced,
                http_status: 200,
            },
            SyncOutcome::AlreadyComplete { task_id, synced_at } => Self {
                success: true,
                task_id: Some(task_id.clone()),
                error: None,
                message: outcome.message(),
                synced_at: Some(*synced_at),
                already_synced: false,
                http_status: 200,
            },
            other => Self {
                success: false,
                task_id: None,
                error: Some(other.code()),
                message: other.message(),
                synced_at: None,
                already_synced: false,
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
            error: Some(error.code()),
            message: error.to_string(),
            synced_at: None,
            already_synced: false,
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

/// Which tasks the engine chooses among: pending ones to complete, completed ones to answer
/// `ALREADY_COMPLETE`.
#[derive(Debug, Clone, Copy)]
enum Candidates {
    Pending,
    Completed,
}

/// How many times a sync looks again when its chosen task was completed by someone else
/// between the lookup and the conditional update (another engine on the same database).
const MAX_MATCH_ATTEMPTS: usize = 8;

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
    /// parsing, size, media type).
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

    /// Sync one request at `now`: complete the pending task whose due date and shift window
    /// contain the completion time, or say why not. The attempt is written to the audit log
    /// whatever happens.
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
        let mut entry = SyncLogEntry::new(now, "");
        let completed_at = request.completed_at.with_timezone(&Utc);
        let local = self.config.local_time(completed_at);
        let shift_date = self.config.shift_date(request.audit_type, local);
        let result = self.sync_inner(request, now, local, shift_date, &entry.id);
        entry.outcome = match &result {
            Ok(outcome) => outcome.code(),
            Err(error) => error.code(),
        };
        entry.caller = caller.map(ToString::to_string);
        entry.audit_id = Some(request.audit_id.clone());
        entry.audit_type = Some(request.audit_type);
        entry.ward = Some(request.ward.clone());
        entry.local_date = Some(shift_date);
        entry.task_id = match &result {
            Ok(
                SyncOutcome::Synced { task_id, .. }
                | SyncOutcome::AlreadyComplete { task_id, .. }
                | SyncOutcome::WardMismatch { task_id, .. },
            ) => Some(task_id.clone()),
            Err(AssuranceError::AuditConflict { task_id }) => TaskId::new(task_id).ok(),
            _ => None,
        };
        if let Ok(SyncOutcome::NoMatchingTask {
            expected_window, ..
        }) = &result
        {
            entry.expected_window = Some(expected_window.clone());
        }
        self.audit_log.record(entry);
        result
    }

    fn sync_inner(
        &mut self,
        request: &SyncRequest,
        now: DateTime<Utc>,
        local: NaiveDateTime,
        shift_date: NaiveDate,
        attempt_id: &str,
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
                attempt_id: attempt_id.to_owned(),
                audit_id: request.audit_id.clone(),
                staff_id: request.completed_by.staff_id.clone(),
                ward: request.ward.clone(),
            });
            return Err(AssuranceError::WardAccessDenied);
        }
        for _ in 0..MAX_MATCH_ATTEMPTS {
            if let Some(done) = self.store.task_completed_by(&request.audit_id)? {
                return self.redelivery(request, &done, local, now, attempt_id);
            }
            let Some(task_id) = self.best_in(request, local, Candidates::Pending)? else {
                // Another engine may have completed a task with this very audit between the
                // audit-id check above and the pending-task read (two statements, each seeing
                // the latest commit): look once more, so a redelivery never answers
                // NO_MATCHING_TASK. A commit after this read would have left its task pending
                // in the read above, so this second look is enough.
                if let Some(done) = self.store.task_completed_by(&request.audit_id)? {
                    return self.redelivery(request, &done, local, now, attempt_id);
                }
                // The design's "Task already complete → Return success": a completed task in
                // the same window. Read after the pending read: a task only ever goes from
                // pending to completed, so one completed by another engine since that read
                // is seen here, and one pending then would have been matched above.
                if self.config.already_complete == AlreadyComplete::Succeed
                    && let Some(task_id) = self.best_in(request, local, Candidates::Completed)?
                {
                    return Ok(SyncOutcome::AlreadyComplete {
                        task_id,
                        synced_at: now,
                    });
                }
                return Ok(SyncOutcome::NoMatchingTask {
                    audit_type: request.audit_type,
                    ward: request.ward.clone(),
                    local_date: shift_date,
                    expected_window: self
                        .config
                        .task_window(request.audit_type, None)
                        .describe(&self.config.shift_windows),
                });
            };
            let completion = AuditCompletion {
                audit_id: request.audit_id.clone(),
                completed_by: request.completed_by.clone(),
                completed_at: request.completed_at,
                synced_at: now,
                values: request.values.clone(),
                notes: request.notes.clone(),
                dashboard_url: request.dashboard_url.clone(),
            };
            match self.store.complete_task(&task_id, completion) {
                Ok(task) => {
                    return Ok(SyncOutcome::Synced {
                        task_id: task.id,
                        synced_at: now,
                        already_synced: false,
                    });
                }
                // Another engine completed this task, or this audit, since the lookup:
                // nothing changed here; look again (the audit-id check comes first).
                Err(AssuranceError::TaskNotPending { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        Err(AssuranceError::StoreUnavailable {
            reason: "the matching task kept changing under concurrent syncs: retry".into(),
        })
    }

    /// The pending (or completed) task whose due date and window contain `local`; when
    /// several do, the one whose window started first (then the one inserted first).
    fn best_in(
        &self,
        request: &SyncRequest,
        local: NaiveDateTime,
        which: Candidates,
    ) -> Result<Option<TaskId>, AssuranceError> {
        let mut best: Option<(NaiveDateTime, TaskId)> = None;
        for date in self
            .config
            .candidate_dates(request.audit_type, local.date())
        {
            let key = MatchKey::new(request.audit_type, request.ward.clone(), date);
            let candidates = match which {
                Candidates::Pending => self.store.pending_audit_tasks(&key)?,
                Candidates::Completed => self.store.completed_audit_tasks(&key)?,
            };
            for PendingTask { id, shift, .. } in candidates {
                if let Some(start) = self.config.accepts(request.audit_type, shift, date, local)
                    && best.as_ref().is_none_or(|(s, _)| start < *s)
                {
                    best = Some((start, id));
                }
            }
        }
        Ok(best.map(|(_, id)| id))
    }

    fn redelivery(
        &mut self,
        request: &SyncRequest,
        done: &WardTask,
        local: NaiveDateTime,
        now: DateTime<Utc>,
        attempt_id: &str,
    ) -> Result<SyncOutcome, AssuranceError> {
        if done.ward != request.ward {
            self.alerts.alert(AdminAlert::WardMismatch {
                attempt_id: attempt_id.to_owned(),
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
        let same_window = done.audit_type == Some(request.audit_type)
            && self
                .config
                .accepts(request.audit_type, done.shift, done.due_date, local)
                .is_some();
        if !same_window {
            self.alerts.alert(AdminAlert::AuditConflict {
                attempt_id: attempt_id.to_owned(),
                audit_id: request.audit_id.clone(),
                task_id: done.id.clone(),
            });
            return Err(AssuranceError::AuditConflict {
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
