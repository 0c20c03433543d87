//! An in-crate fake of an organisation's gateways over one shared journal, with scripted or
//! seeded faults, for the engine's unit tests.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use nhs_identifiers::NhsNumber;

use crate::gateway::{
    EntriesQuery, EventUid, GatewayError, Gateways, JournalEntries, JournalEvent, JournalTask,
    JournalWrite, WriteReceipt,
};
use crate::verify::RecordDemographics;

/// What happens to one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Works.
    None,
    /// Record in use / no gateway: nothing applied, retry-safe.
    NotApplied,
    /// Connection closed after sending, before the write applied: outcome unknown.
    ClosedBeforeApply,
    /// Applied, then the response was lost: outcome unknown.
    LostResponse,
    /// Applied, then the call never returns (the process is killed while waiting).
    AppliedThenHang,
    /// Refused for good.
    Permanent,
    /// Works, but only after [`SLOW`].
    Slow,
}

/// How long a [`Fault::Slow`] call takes.
pub(crate) const SLOW: std::time::Duration = std::time::Duration::from_millis(300);

#[derive(Default)]
struct State {
    records: HashMap<String, RecordDemographics>,
    journal: Vec<(String, JournalWrite, EventUid)>,
    script: VecDeque<Fault>,
    /// xorshift state for seeded random faults (0 = none).
    seed: u64,
    writes_sent: usize,
    reads: usize,
    /// The practice has completed every task filed so far (reads list open tasks only).
    tasks_completed: bool,
}

/// The TaskUID the fake gives the task filed with event `uid`.
pub(crate) fn task_uid_for(uid: &EventUid) -> EventUid {
    EventUid::new(format!("task-{uid}"))
}

pub(crate) struct FakeGateways {
    state: Mutex<State>,
}

impl FakeGateways {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(State::default()),
        }
    }

    pub(crate) fn with_patient(self, record: RecordDemographics) -> Self {
        self.state
            .lock()
            .unwrap()
            .records
            .insert(record.nhs_number.expose(), record);
        self
    }

    /// Faults for the next calls, in order (any call kind).
    pub(crate) fn script(&self, faults: &[Fault]) {
        self.state
            .lock()
            .unwrap()
            .script
            .extend(faults.iter().copied());
    }

    /// Random faults on every call from now on (never `AppliedThenHang`).
    pub(crate) fn seeded(&self, seed: u64) {
        self.state.lock().unwrap().seed = seed | 1;
    }

    pub(crate) fn journal(&self) -> Vec<(String, JournalWrite, EventUid)> {
        self.state.lock().unwrap().journal.clone()
    }

    /// The practice completes every task filed so far: reads no longer list them.
    pub(crate) fn complete_tasks(&self) {
        self.state.lock().unwrap().tasks_completed = true;
    }

    pub(crate) fn writes_sent(&self) -> usize {
        self.state.lock().unwrap().writes_sent
    }

    fn next_fault(state: &mut State) -> Fault {
        if let Some(fault) = state.script.pop_front() {
            return fault;
        }
        if state.seed == 0 {
            return Fault::None;
        }
        let mut x = state.seed;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.seed = x;
        match x % 10 {
            0 => Fault::NotApplied,
            1 => Fault::ClosedBeforeApply,
            2 | 3 => Fault::LostResponse,
            _ => Fault::None,
        }
    }
}

fn unknown(reason: &str) -> GatewayError {
    GatewayError::OutcomeUnknown {
        reason: reason.into(),
    }
}

impl Gateways for FakeGateways {
    async fn read_demographics(
        &self,
        nhs_number: &NhsNumber,
    ) -> Result<RecordDemographics, GatewayError> {
        let (slow, result) = {
            let mut state = self.state.lock().unwrap();
            state.reads += 1;
            let fault = Self::next_fault(&mut state);
            let result = match fault {
                Fault::None | Fault::Slow => state
                    .records
                    .get(&nhs_number.expose())
                    .cloned()
                    .ok_or(GatewayError::PatientNotFound),
                Fault::Permanent => Err(GatewayError::Permanent {
                    reason: "refused".into(),
                }),
                Fault::NotApplied => Err(GatewayError::RetrySafe {
                    reason: "record in use".into(),
                }),
                _ => Err(unknown("no response")),
            };
            (fault == Fault::Slow, result)
        };
        if slow {
            tokio::time::sleep(SLOW).await;
        }
        tokio::task::yield_now().await;
        result
    }

    async fn write_note(&self, write: &JournalWrite) -> Result<WriteReceipt, GatewayError> {
        let (fault, uid) = {
            let mut state = self.state.lock().unwrap();
            state.writes_sent += 1;
            let fault = Self::next_fault(&mut state);
            let applies = matches!(
                fault,
                Fault::None | Fault::Slow | Fault::LostResponse | Fault::AppliedThenHang
            );
            let uid = EventUid::new(format!("{:016x}", state.journal.len() + 1));
            if applies {
                state
                    .journal
                    .push((write.nhs_number.expose(), write.clone(), uid.clone()));
            }
            (fault, uid)
        };
        if fault == Fault::Slow {
            tokio::time::sleep(SLOW).await;
        }
        tokio::task::yield_now().await;
        match fault {
            Fault::None | Fault::Slow => {
                let task_uid = write.task.as_ref().map(|_| task_uid_for(&uid));
                Ok(WriteReceipt::new(uid, task_uid, "fake gateway"))
            }
            Fault::NotApplied => Err(GatewayError::RetrySafe {
                reason: "record in use".into(),
            }),
            Fault::ClosedBeforeApply => Err(unknown("connection closed")),
            Fault::LostResponse => Err(unknown("no response")),
            Fault::Permanent => Err(GatewayError::Permanent {
                reason: format!("invalid code for patient {}", write.nhs_number.expose()),
            }),
            Fault::AppliedThenHang => std::future::pending().await,
        }
    }

    async fn read_entries(&self, query: &EntriesQuery) -> Result<JournalEntries, GatewayError> {
        let (slow, result) = {
            let mut state = self.state.lock().unwrap();
            state.reads += 1;
            let fault = Self::next_fault(&mut state);
            let result = match fault {
                Fault::None | Fault::Slow => {
                    let patient = query.nhs_number.expose();
                    let events = state
                        .journal
                        .iter()
                        .filter(|(nhs, write, _)| {
                            *nhs == patient
                                && (query.done_by.is_none() || query.done_by == write.user_name)
                        })
                        .map(|(_, write, uid)| {
                            JournalEvent::new(
                                uid.clone(),
                                write.user_name.as_ref().map(|u| u.as_str().to_owned()),
                                write.narrative_lines.clone(),
                            )
                        })
                        .collect();
                    // Tasks are not filtered by author (SystmOne's filter is on event authors).
                    let tasks = state
                        .journal
                        .iter()
                        .filter(|(nhs, _, _)| *nhs == patient && !state.tasks_completed)
                        .filter_map(|(_, write, uid)| {
                            let task = write.task.as_ref()?;
                            Some(JournalTask::new(task_uid_for(uid), &task.content))
                        })
                        .collect();
                    Ok(JournalEntries::new(events, tasks))
                }
                Fault::NotApplied => Err(GatewayError::RetrySafe {
                    reason: "busy".into(),
                }),
                Fault::Permanent => Err(GatewayError::Permanent {
                    reason: "refused".into(),
                }),
                _ => Err(unknown("no response")),
            };
            (fault == Fault::Slow, result)
        };
        if slow {
            tokio::time::sleep(SLOW).await;
        }
        tokio::task::yield_now().await;
        result
    }
}
