//! The shared organisation state that every simulated Gateway PC reads and writes.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::NaiveDateTime;
use nhs_identifiers::NhsNumber;

use crate::clock::{Clock, LocalClock};
use crate::error::SimError;
use crate::journal;
use crate::model::{Appointment, Clinic, JournalEvent, OrganisationData, Patient, Task, User};

/// Who has a patient's record open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordHolder {
    /// A simulated Gateway PC, by its [`crate::Simulator::gateway_id`]; `visible` is `true` when
    /// it was opened with `LeaveRecordOpen` (shown to the user), `false` for a background open.
    Gateway {
        /// The gateway's id.
        id: u64,
        /// Whether it is open visibly (interactive use).
        visible: bool,
    },
    /// A person at another SystmOne PC (set by a test with
    /// [`Organisation::open_record_elsewhere`]).
    AnotherUser,
}

/// An item removed with `DeletePatientRecord`, kept for inspection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeletedItem {
    /// The patient.
    pub nhs_number: NhsNumber,
    /// The item's UID.
    pub uid: String,
    /// The reason the request gave.
    pub reason: String,
    /// The device that deleted it.
    pub device_id: String,
    /// When (organisation clock).
    pub deleted_at: NaiveDateTime,
}

/// Mutable state behind the organisation's lock.
#[derive(Debug)]
pub(crate) struct OrgState {
    pub(crate) data: OrganisationData,
    pub(crate) open_records: HashMap<NhsNumber, RecordHolder>,
    pub(crate) deleted: Vec<DeletedItem>,
    uids: HashSet<String>,
    next_uid: u64,
    next_gateway: u64,
    added_by_reading: journal::AddedByReading,
}

impl OrgState {
    /// A fresh opaque 16-hex-character UID, unique in the organisation.
    pub(crate) fn allocate_uid(&mut self) -> String {
        loop {
            self.next_uid += 1;
            let uid = format!("{:08x}00000000", 0x5100_0000u64 + self.next_uid);
            if self.uids.insert(uid.clone()) {
                return uid;
            }
        }
    }

    pub(crate) fn patient(&self, nhs: &NhsNumber) -> Option<&Patient> {
        self.data.patients.iter().find(|p| &p.nhs_number == nhs)
    }

    pub(crate) fn patient_mut(&mut self, nhs: &NhsNumber) -> Option<&mut Patient> {
        self.data.patients.iter_mut().find(|p| &p.nhs_number == nhs)
    }

    pub(crate) fn user(&self, name: &str) -> Option<&User> {
        self.data.users.iter().find(|u| u.user_name == name)
    }

    /// Commits a record's pending changes and releases it.
    pub(crate) fn save_and_close(&mut self, nhs: &NhsNumber) {
        self.open_records.remove(nhs);
        if let Some(patient) = self.patient_mut(nhs) {
            for event in &mut patient.journal {
                event.committed = true;
            }
        }
    }
}

struct Shared {
    state: Mutex<OrgState>,
    clock: Mutex<Arc<dyn Clock>>,
}

/// A shared, cloneable handle on one organisation's state (patients, journals, tasks, slots,
/// open records).
///
/// Several [`crate::Simulator`]s (the practice's Gateway PCs) built from clones of the same
/// handle read and write the same data; a test keeps a clone to inspect the result.
#[derive(Clone)]
pub struct Organisation {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Organisation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Organisation")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

impl Default for Organisation {
    fn default() -> Self {
        Self::builtin_default()
    }
}

impl Organisation {
    /// An organisation holding `data`, dated by the machine's local clock.
    pub fn new(data: OrganisationData) -> Self {
        let mut uids = HashSet::new();
        for patient in &data.patients {
            uids.extend(patient.journal.iter().map(|e| e.event_uid.clone()));
            uids.extend(patient.tasks.iter().map(|t| t.task_uid.clone()));
            uids.extend(
                patient
                    .appointments
                    .iter()
                    .map(|a| a.appointment_uid.clone()),
            );
        }
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(OrgState {
                    data,
                    open_records: HashMap::new(),
                    deleted: Vec::new(),
                    uids,
                    next_uid: 0,
                    next_gateway: 0,
                    added_by_reading: journal::AddedByReading::default(),
                }),
                clock: Mutex::new(Arc::new(LocalClock)),
            }),
        }
    }

    /// The built-in default organisation ([`OrganisationData::builtin_default`]).
    pub fn builtin_default() -> Self {
        Self::new(OrganisationData::builtin_default())
    }

    /// Loads an organisation from a JSON fixture file.
    ///
    /// # Errors
    /// As [`OrganisationData::from_json_file`].
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Self, SimError> {
        OrganisationData::from_json_file(path).map(Self::new)
    }

    /// Replaces the clock that dates new journal events and defines "today" (for the
    /// `GetPatientRecord` throttle exemption). Builder form of [`Organisation::set_clock`].
    #[must_use]
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        self.set_clock(clock);
        self
    }

    /// Replaces the clock (affects every gateway sharing this organisation).
    pub fn set_clock(&self, clock: Arc<dyn Clock>) {
        *self.shared.clock.lock().unwrap_or_else(|e| e.into_inner()) = clock;
    }

    /// Chooses what the journal view's "Added by" line names (default: the author again).
    /// Builder form of [`Organisation::set_added_by_reading`].
    #[must_use]
    pub fn with_added_by_reading(self, reading: journal::AddedByReading) -> Self {
        self.set_added_by_reading(reading);
        self
    }

    /// Chooses what the journal view's "Added by" line names.
    pub fn set_added_by_reading(&self, reading: journal::AddedByReading) {
        self.lock().added_by_reading = reading;
    }

    /// The current local date-time by the organisation's clock.
    pub fn now(&self) -> NaiveDateTime {
        let clock = self
            .shared
            .clock
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        clock.now()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, OrgState> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn register_gateway(&self) -> u64 {
        let mut state = self.lock();
        state.next_gateway += 1;
        state.next_gateway
    }

    /// The organisation's name.
    pub fn name(&self) -> String {
        self.lock().data.name.clone()
    }

    /// A copy of the whole current state, in fixture form (can be saved as a fixture).
    pub fn snapshot(&self) -> OrganisationData {
        self.lock().data.clone()
    }

    /// The users.
    pub fn users(&self) -> Vec<User> {
        self.lock().data.users.clone()
    }

    /// The users marked as logged in on a Gateway PC, in fixture order.
    pub fn gateway_users(&self) -> Vec<String> {
        self.lock()
            .data
            .users
            .iter()
            .filter(|u| u.gateway)
            .map(|u| u.user_name.clone())
            .collect()
    }

    /// All patients.
    pub fn patients(&self) -> Vec<Patient> {
        self.lock().data.patients.clone()
    }

    /// One patient's current record.
    pub fn patient(&self, nhs: &NhsNumber) -> Option<Patient> {
        self.lock().patient(nhs).cloned()
    }

    /// A patient's journal events, oldest first (empty for an unknown patient).
    pub fn journal(&self, nhs: &NhsNumber) -> Vec<JournalEvent> {
        self.lock()
            .patient(nhs)
            .map(|p| p.journal.clone())
            .unwrap_or_default()
    }

    /// A journal event by its UID, with its patient's NHS number.
    pub fn journal_event(&self, event_uid: &str) -> Option<(NhsNumber, JournalEvent)> {
        let state = self.lock();
        state.data.patients.iter().find_map(|p| {
            p.journal
                .iter()
                .find(|e| e.event_uid == event_uid)
                .map(|e| (p.nhs_number, e.clone()))
        })
    }

    /// The journal as a clinician would read it (see [`crate::journal`]).
    pub fn journal_view(&self, nhs: &NhsNumber) -> Option<String> {
        let state = self.lock();
        state
            .patient(nhs)
            .map(|p| journal::render_journal(p, &state.data.users, state.added_by_reading))
    }

    /// A patient's tasks.
    pub fn tasks(&self, nhs: &NhsNumber) -> Vec<Task> {
        self.lock()
            .patient(nhs)
            .map(|p| p.tasks.clone())
            .unwrap_or_default()
    }

    /// A patient's appointments.
    pub fn appointments(&self, nhs: &NhsNumber) -> Vec<Appointment> {
        self.lock()
            .patient(nhs)
            .map(|p| p.appointments.clone())
            .unwrap_or_default()
    }

    /// The clinics and their slots (booked ones carry the appointment UID).
    pub fn clinics(&self) -> Vec<Clinic> {
        self.lock().data.clinics.clone()
    }

    /// Everything deleted through `DeletePatientRecord`, in order.
    pub fn deleted_items(&self) -> Vec<DeletedItem> {
        self.lock().deleted.clone()
    }

    /// Who holds a patient's record open, if anyone.
    pub fn record_holder(&self, nhs: &NhsNumber) -> Option<RecordHolder> {
        self.lock().open_records.get(nhs).copied()
    }

    /// Simulates a person opening the record at another SystmOne PC: until
    /// [`Organisation::close_record`], writes and deletes without `LeaveRecordOpen` get the
    /// non-fatal "record in use" error, and so do requests with `LeaveRecordOpen`.
    pub fn open_record_elsewhere(&self, nhs: &NhsNumber) {
        self.lock()
            .open_records
            .insert(*nhs, RecordHolder::AnotherUser);
    }

    /// Simulates the user pressing Save and closing the record, wherever it is open: pending
    /// (`LeaveRecordOpen`) changes are committed and the record is released.
    pub fn close_record(&self, nhs: &NhsNumber) {
        self.lock().save_and_close(nhs);
    }
}
