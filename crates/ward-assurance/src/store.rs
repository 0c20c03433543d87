//! The task store trait and its in-memory, indexed default.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::audit_type::{AuditType, Shift};
use crate::error::AssuranceError;
use crate::ids::{AuditId, TaskId, Ward};
use crate::task::{AuditCompletion, TaskStatus, WardTask};

/// What the matcher looks up: audit type, ward and ward-local due date.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MatchKey {
    /// The audit type.
    pub audit_type: AuditType,
    /// The ward.
    pub ward: Ward,
    /// The ward-local date.
    pub due_date: NaiveDate,
}

impl MatchKey {
    /// A key.
    #[must_use]
    pub fn new(audit_type: AuditType, ward: Ward, due_date: NaiveDate) -> Self {
        Self {
            audit_type,
            ward,
            due_date,
        }
    }
}

/// A pending audit task as the matcher sees it: its id and the shift it names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PendingTask {
    /// The task.
    pub id: TaskId,
    /// The shift it names, if any.
    pub shift: Option<Shift>,
}

impl PendingTask {
    /// A pending task as a store reports it.
    #[must_use]
    pub fn new(id: TaskId, shift: Option<Shift>) -> Self {
        Self { id, shift }
    }
}

/// Where the hub's ward tasks live. Implementations must answer the lookups without scanning
/// every task (an index), and [`complete_task`](TaskStore::complete_task) must be atomic: it
/// completes the task only if it is still pending and the audit has completed no other task,
/// or changes nothing.
pub trait TaskStore: Send {
    /// The pending audit tasks for `key` (type, ward, due date), in insertion order.
    /// Completed, cancelled, non-audit tasks and tasks of another type, ward or date never
    /// appear.
    ///
    /// # Errors
    /// [`AssuranceError::StoreUnavailable`] when the store cannot answer.
    fn pending_audit_tasks(&self, key: &MatchKey) -> Result<Vec<PendingTask>, AssuranceError>;

    /// The completed audit tasks for `key` (type, ward, due date), in insertion order, for
    /// [`crate::AlreadyComplete::Succeed`]: whether completed by an audit or by hand. Pending,
    /// cancelled, non-audit tasks and tasks of another type, ward or date never appear.
    ///
    /// # Errors
    /// [`AssuranceError::StoreUnavailable`] when the store cannot answer.
    fn completed_audit_tasks(&self, key: &MatchKey) -> Result<Vec<PendingTask>, AssuranceError>;

    /// The task the audit `audit_id` already completed, if any (for idempotency).
    ///
    /// # Errors
    /// [`AssuranceError::StoreUnavailable`] when the store cannot answer.
    fn task_completed_by(&self, audit_id: &AuditId) -> Result<Option<WardTask>, AssuranceError>;

    /// Mark a pending task completed with the audit's metadata and return the updated task.
    ///
    /// # Errors
    /// [`AssuranceError::TaskNotPending`] if the task is missing or no longer pending, or the
    /// audit already completed a task (nothing changed: the engine looks again);
    /// [`AssuranceError::StoreUnavailable`].
    fn complete_task(
        &mut self,
        task_id: &TaskId,
        completion: AuditCompletion,
    ) -> Result<WardTask, AssuranceError>;

    /// A task by id.
    ///
    /// # Errors
    /// [`AssuranceError::StoreUnavailable`] when the store cannot answer.
    fn task(&self, task_id: &TaskId) -> Result<Option<WardTask>, AssuranceError>;
}

/// Index slot: almost always one pending task per key; duplicates are kept in insertion order.
#[derive(Debug, Clone)]
enum Pending {
    One(usize),
    Many(Vec<usize>),
}

impl Pending {
    fn first(&self) -> Option<usize> {
        match self {
            Self::One(i) => Some(*i),
            Self::Many(v) => v.first().copied(),
        }
    }
}

/// The default store: every task in memory, with hash indexes from (type, ward, date) to the
/// pending tasks and to the completed ones, and from audit id to the task it completed, so a match costs O(1) however
/// many tasks there are.
#[derive(Debug, Clone, Default)]
pub struct InMemoryTaskStore {
    tasks: Vec<WardTask>,
    by_id: HashMap<TaskId, usize>,
    pending: HashMap<MatchKey, Pending>,
    completed: HashMap<MatchKey, Vec<usize>>,
    by_audit: HashMap<AuditId, usize>,
}

impl InMemoryTaskStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store with room for `capacity` tasks.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            tasks: Vec::with_capacity(capacity),
            by_id: HashMap::with_capacity(capacity),
            pending: HashMap::with_capacity(capacity),
            completed: HashMap::new(),
            by_audit: HashMap::new(),
        }
    }

    /// A store holding `tasks`.
    ///
    /// # Errors
    /// [`AssuranceError::DuplicateTask`] when two tasks share an id.
    pub fn from_tasks(tasks: impl IntoIterator<Item = WardTask>) -> Result<Self, AssuranceError> {
        let tasks = tasks.into_iter();
        let mut store = Self::with_capacity(tasks.size_hint().0);
        for task in tasks {
            store.insert(task)?;
        }
        Ok(store)
    }

    /// Add a task.
    ///
    /// # Errors
    /// [`AssuranceError::DuplicateTask`] when a task with that id is already held (nothing
    /// changes).
    pub fn insert(&mut self, task: WardTask) -> Result<(), AssuranceError> {
        if self.by_id.contains_key(&task.id) {
            return Err(AssuranceError::DuplicateTask {
                task_id: task.id.to_string(),
            });
        }
        let index = self.tasks.len();
        self.by_id.insert(task.id.clone(), index);
        if let Some(key) = pending_key(&task) {
            match self.pending.get_mut(&key) {
                None => {
                    self.pending.insert(key, Pending::One(index));
                }
                Some(slot) => match slot {
                    Pending::One(first) => *slot = Pending::Many(vec![*first, index]),
                    Pending::Many(v) => v.push(index),
                },
            }
        }
        if let Some(key) = audit_key(&task, &TaskStatus::Completed) {
            completed_in_order(self.completed.entry(key).or_default(), index);
        }
        if let Some(completion) = &task.completion {
            self.by_audit
                .entry(completion.audit_id.clone())
                .or_insert(index);
        }
        self.tasks.push(task);
        Ok(())
    }

    /// Every task, in insertion order (for listing, saving, or a linear-scan comparison).
    #[must_use]
    pub fn tasks(&self) -> &[WardTask] {
        &self.tasks
    }

    /// How many tasks are held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the store is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// A task by id, borrowed.
    #[must_use]
    pub fn get(&self, task_id: &TaskId) -> Option<&WardTask> {
        self.by_id.get(task_id).and_then(|&i| self.tasks.get(i))
    }

    /// The pending audit task for a key, borrowed (the index lookup without cloning).
    #[must_use]
    pub fn find_pending(&self, key: &MatchKey) -> Option<&WardTask> {
        self.pending
            .get(key)
            .and_then(Pending::first)
            .and_then(|i| self.tasks.get(i))
    }

    fn unindex_pending(&mut self, key: &MatchKey, index: usize) {
        let Some(slot) = self.pending.get_mut(key) else {
            return;
        };
        let now_empty = match slot {
            Pending::One(i) => *i == index,
            Pending::Many(v) => {
                v.retain(|&i| i != index);
                let left: Vec<usize> = v.clone();
                if let [only] = left.as_slice() {
                    *slot = Pending::One(*only);
                }
                left.is_empty()
            }
        };
        if now_empty {
            self.pending.remove(key);
        }
    }
}

/// Add `index` to a completed slot, keeping insertion (index) order whenever it completed.
fn completed_in_order(slot: &mut Vec<usize>, index: usize) {
    let at = slot.partition_point(|&i| i < index);
    slot.insert(at, index);
}

fn pending_key(task: &WardTask) -> Option<MatchKey> {
    audit_key(task, &TaskStatus::Pending)
}

/// The task's key if it is an audit task with status `status`.
fn audit_key(task: &WardTask, status: &TaskStatus) -> Option<MatchKey> {
    match (task.is_audit_task, task.audit_type) {
        (true, Some(audit_type)) if task.status == *status => {
            Some(MatchKey::new(audit_type, task.ward.clone(), task.due_date))
        }
        _ => None,
    }
}

impl TaskStore for InMemoryTaskStore {
    fn pending_audit_tasks(&self, key: &MatchKey) -> Result<Vec<PendingTask>, AssuranceError> {
        let indexes: &[usize] = match self.pending.get(key) {
            None => &[],
            Some(Pending::One(i)) => std::slice::from_ref(i),
            Some(Pending::Many(v)) => v,
        };
        Ok(indexes
            .iter()
            .filter_map(|&i| self.tasks.get(i))
            .map(|t| PendingTask {
                id: t.id.clone(),
                shift: t.shift,
            })
            .collect())
    }

    fn completed_audit_tasks(&self, key: &MatchKey) -> Result<Vec<PendingTask>, AssuranceError> {
        Ok(self
            .completed
            .get(key)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.tasks.get(i))
            .map(|t| PendingTask::new(t.id.clone(), t.shift))
            .collect())
    }

    fn task_completed_by(&self, audit_id: &AuditId) -> Result<Option<WardTask>, AssuranceError> {
        Ok(self
            .by_audit
            .get(audit_id)
            .and_then(|&i| self.tasks.get(i))
            .cloned())
    }

    fn complete_task(
        &mut self,
        task_id: &TaskId,
        completion: AuditCompletion,
    ) -> Result<WardTask, AssuranceError> {
        let not_pending = || AssuranceError::TaskNotPending {
            task_id: task_id.to_string(),
        };
        let index = *self.by_id.get(task_id).ok_or_else(not_pending)?;
        let key = self
            .tasks
            .get(index)
            .and_then(pending_key)
            .ok_or_else(not_pending)?;
        if self.by_audit.contains_key(&completion.audit_id) {
            return Err(not_pending());
        }
        self.unindex_pending(&key, index);
        self.by_audit.insert(completion.audit_id.clone(), index);
        completed_in_order(self.completed.entry(key).or_default(), index);
        let task = self.tasks.get_mut(index).ok_or_else(not_pending)?;
        task.status = TaskStatus::Completed;
        task.completion = Some(completion);
        Ok(task.clone())
    }

    fn task(&self, task_id: &TaskId) -> Result<Option<WardTask>, AssuranceError> {
        Ok(self.get(task_id).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::StaffMember;
    use chrono::{TimeZone, Utc};

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    fn ward(name: &str) -> Ward {
        Ward::new(name).unwrap()
    }

    fn task(id: &str, t: AuditType, w: &str, d: u32) -> WardTask {
        WardTask::audit_task(TaskId::new(id).unwrap(), t, ward(w), date(d))
    }

    fn completion(audit: &str) -> AuditCompletion {
        let at = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
        AuditCompletion {
            audit_id: AuditId::new(audit).unwrap(),
            completed_by: StaffMember::new("Sam Example", None, Some("S1")).unwrap(),
            completed_at: at.fixed_offset(),
            synced_at: at,
            values: serde_json::Map::new(),
            notes: None,
            dashboard_url: None,
        }
    }

    #[test]
    fn index_agrees_with_scan_and_skips_non_pending() {
        let mut store = InMemoryTaskStore::from_tasks([
            task("T1", AuditType::FridgeTemperatures, "Ward 7", 10),
            task("T2", AuditType::FridgeTemperatures, "Ward 7", 11)
                .with_status(TaskStatus::Completed),
            task("T3", AuditType::FridgeTemperatures, "Ward 8", 11)
                .with_status(TaskStatus::Cancelled),
            task("T4", AuditType::FireSafety, "Ward 7", 10),
            task("T5", AuditType::FridgeTemperatures, "Ward 7", 10),
        ])
        .unwrap();
        let key = MatchKey::new(AuditType::FridgeTemperatures, ward("ward 7"), date(10));
        assert_eq!(store.find_pending(&key).unwrap().id.as_str(), "T1");
        for (t, w, d) in [
            (AuditType::FridgeTemperatures, "Ward 7", 11),
            (AuditType::FridgeTemperatures, "Ward 8", 11),
            (AuditType::ResusCheck, "Ward 7", 10),
        ] {
            assert!(
                store
                    .find_pending(&MatchKey::new(t, ward(w), date(d)))
                    .is_none()
            );
        }
        // Completing the first duplicate exposes the second, then none.
        store
            .complete_task(&TaskId::new("T1").unwrap(), completion("A1"))
            .unwrap();
        assert_eq!(store.find_pending(&key).unwrap().id.as_str(), "T5");
        let err = store
            .complete_task(&TaskId::new("T1").unwrap(), completion("A2"))
            .unwrap_err();
        assert_eq!(err.code(), "TASK_NOT_PENDING");
        store
            .complete_task(&TaskId::new("T5").unwrap(), completion("A3"))
            .unwrap();
        assert!(store.find_pending(&key).is_none());
        assert_eq!(
            store
                .task_completed_by(&AuditId::new("A1").unwrap())
                .unwrap()
                .unwrap()
                .id
                .as_str(),
            "T1"
        );
        // Cancelled and completed tasks are never completed.
        for id in ["T2", "T3"] {
            assert!(
                store
                    .complete_task(&TaskId::new(id).unwrap(), completion("A9"))
                    .is_err()
            );
        }
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let mut store = InMemoryTaskStore::new();
        store
            .insert(task("T1", AuditType::Walkaround, "Ward 1", 1))
            .unwrap();
        let err = store
            .insert(task("T1", AuditType::Walkaround, "Ward 2", 1))
            .unwrap_err();
        assert_eq!(err.code(), "DUPLICATE_TASK");
        assert_eq!(store.len(), 1);
    }
}
