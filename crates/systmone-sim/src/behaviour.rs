//! SystmOne's behaviour on the organisation state, independent of the wire format: patient
//! search, record locking, record filters, writes, deletes and appointment slots.
//!
//! Every refusal is a [`Refusal`]: the `ErrorMessage` text and `PermanentError` flag that go on
//! the wire. Writes and deletes check everything before changing anything (all or nothing).

use chrono::{NaiveDate, NaiveDateTime};
use nhs_identifiers::NhsNumber;

use crate::model::{AddedBy, Appointment, JournalEvent, JournalItem, Patient, Task};
use crate::organisation::{DeletedItem, OrgState, RecordHolder};

/// An error answered on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) message: String,
    pub(crate) permanent: bool,
}

impl Refusal {
    pub(crate) fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: true,
        }
    }

    pub(crate) fn temporary(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: false,
        }
    }

    pub(crate) fn record_in_use() -> Self {
        Self::temporary("The patient record is in use. Please try again later")
    }

    pub(crate) fn no_patient() -> Self {
        Self::permanent("No patient found with the given identity")
    }
}

// ---------------------------------------------------------------------------------------------
// PatientSearch

/// `PatientSearch` criteria.
#[derive(Clone, Debug, Default)]
pub(crate) struct SearchCriteria {
    pub(crate) first_name: Option<String>,
    pub(crate) surname: Option<String>,
    pub(crate) date_of_birth: Option<NaiveDate>,
    pub(crate) postcode: Option<String>,
    pub(crate) telephone: Option<String>,
    pub(crate) gender: Option<String>,
}

fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn postcode_matches(wanted: &str, postcode: &str) -> bool {
    let wanted = wanted.trim().to_uppercase();
    if wanted.contains(' ') {
        return norm(&wanted) == norm(postcode);
    }
    // An outward code (`LS18`), or a full postcode written without its space.
    let outward = postcode
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_uppercase();
    outward == wanted || norm(postcode) == norm(&wanted)
}

/// Runs a search: at least two criteria, names by case-insensitive prefix, postcode full or
/// outward, telephone against every number, gender exact.
pub(crate) fn search<'a>(
    state: &'a OrgState,
    criteria: &SearchCriteria,
) -> Result<Vec<&'a Patient>, Refusal> {
    let given = |o: &Option<String>| o.as_deref().is_some_and(|s| !s.trim().is_empty());
    let count = [
        given(&criteria.first_name),
        given(&criteria.surname),
        criteria.date_of_birth.is_some(),
        given(&criteria.postcode),
        given(&criteria.telephone),
        given(&criteria.gender),
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    if count < 2 {
        return Err(Refusal::permanent(
            "At least two search parameters must be specified",
        ));
    }
    let prefix = |wanted: &Option<String>, value: &str| match wanted.as_deref() {
        Some(w) if !w.trim().is_empty() => norm(value).starts_with(&norm(w)),
        _ => true,
    };
    Ok(state
        .data
        .patients
        .iter()
        .filter(|p| prefix(&criteria.first_name, &p.first_name))
        .filter(|p| prefix(&criteria.surname, &p.surname))
        .filter(|p| criteria.date_of_birth.is_none_or(|d| d == p.date_of_birth))
        .filter(|p| match criteria.postcode.as_deref() {
            Some(w) if !w.trim().is_empty() => postcode_matches(w, &p.address.postcode),
            _ => true,
        })
        .filter(|p| match criteria.telephone.as_deref() {
            Some(w) if !w.trim().is_empty() => {
                let w = digits(w);
                p.telephones().any(|t| digits(t) == w)
            }
            _ => true,
        })
        .filter(|p| match criteria.gender.as_deref() {
            Some(w) if !w.trim().is_empty() => w.trim() == p.sex,
            _ => true,
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Record locking (reference §9.2)

/// `RecordState` after a patient-record function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecordState {
    Open,
    Closed,
}

/// Decides whether a patient-record function may run and what state the record is left in.
/// Without `LeaveRecordOpen`: reads always go ahead; writes need the record not open anywhere.
/// With it: the record must be free or already open visibly in this gateway; it stays open.
pub(crate) fn access_record(
    state: &mut OrgState,
    gateway: u64,
    nhs: &NhsNumber,
    leave_open: bool,
    writes: bool,
) -> Result<RecordState, Refusal> {
    let holder = state.open_records.get(nhs).copied();
    if leave_open {
        let mine = RecordHolder::Gateway {
            id: gateway,
            visible: true,
        };
        match holder {
            Some(h) if h == mine => Ok(RecordState::Open),
            Some(_) => Err(Refusal::record_in_use()),
            None => {
                // The client shows one patient at a time: another record open here is saved
                // and closed first.
                if let Some(previous) = open_in(state, gateway) {
                    state.save_and_close(&previous);
                }
                state.open_records.insert(*nhs, mine);
                Ok(RecordState::Open)
            }
        }
    } else {
        match holder {
            None => Ok(RecordState::Closed),
            Some(_) if !writes => Ok(RecordState::Open),
            Some(_) => Err(Refusal::record_in_use()),
        }
    }
}

/// The patient open visibly in this gateway, if any.
pub(crate) fn open_in(state: &OrgState, gateway: u64) -> Option<NhsNumber> {
    state
        .open_records
        .iter()
        .find_map(|(nhs, holder)| match holder {
            RecordHolder::Gateway { id, visible: true } if *id == gateway => Some(*nhs),
            _ => None,
        })
}

// ---------------------------------------------------------------------------------------------
// GetPatientRecord filter

/// Which parts of the record to return.
#[derive(Clone, Debug, Default)]
pub(crate) struct RecordSelection {
    /// `None`: no filter, the whole record.
    pub(crate) filtered: bool,
    pub(crate) demographics: bool,
    pub(crate) clinical_codes: bool,
    pub(crate) narrative: bool,
    pub(crate) attachments: bool,
    pub(crate) other_clinical: bool,
    pub(crate) tasks: bool,
    pub(crate) appointments: bool,
    pub(crate) min_entry: Option<NaiveDate>,
    pub(crate) max_entry: Option<NaiveDate>,
    pub(crate) min_effective: Option<NaiveDate>,
    pub(crate) max_effective: Option<NaiveDate>,
    pub(crate) done_by: Vec<String>,
    pub(crate) codes: Vec<String>,
}

impl RecordSelection {
    fn wants_item(&self, item: &JournalItem) -> bool {
        if !self.filtered {
            return true;
        }
        match item {
            JournalItem::ClinicalCode { code, .. } => {
                self.clinical_codes || self.codes.iter().any(|c| c == code)
            }
            JournalItem::Narrative { .. } => self.narrative,
            JournalItem::Attachment { .. } => self.attachments,
            JournalItem::Other { .. } => self.other_clinical,
        }
    }

    fn date_ok(date: NaiveDate, min: Option<NaiveDate>, max: Option<NaiveDate>) -> bool {
        min.is_none_or(|m| date >= m) && max.is_none_or(|m| date <= m)
    }

    /// Whether the filter names only dates and no section (then every section is wanted).
    fn sections_unspecified(&self) -> bool {
        !(self.demographics
            || self.clinical_codes
            || self.narrative
            || self.attachments
            || self.other_clinical
            || self.tasks
            || self.appointments
            || !self.codes.is_empty())
    }

    /// The selection with "dates only" widened to every section.
    pub(crate) fn normalised(mut self) -> Self {
        if self.filtered && self.sections_unspecified() {
            self.clinical_codes = true;
            self.narrative = true;
            self.attachments = true;
            self.other_clinical = true;
            self.tasks = true;
            self.appointments = true;
        }
        self
    }

    pub(crate) fn include_demographics(&self) -> bool {
        !self.filtered || self.demographics
    }

    pub(crate) fn include_tasks(&self) -> bool {
        !self.filtered || self.tasks
    }

    pub(crate) fn include_appointments(&self) -> bool {
        !self.filtered || self.appointments
    }

    /// The events to return, each with only the wanted items (events left empty are dropped).
    pub(crate) fn events(&self, patient: &Patient) -> Vec<JournalEvent> {
        patient
            .journal
            .iter()
            .filter(|e| {
                Self::date_ok(e.entry_date_time().date(), self.min_entry, self.max_entry)
                    && Self::date_ok(e.date_time.date(), self.min_effective, self.max_effective)
                    && (self.done_by.is_empty() || self.done_by.iter().any(|u| u == &e.author))
            })
            .filter_map(|e| {
                let items: Vec<JournalItem> = e
                    .items
                    .iter()
                    .filter(|i| self.wants_item(i))
                    .cloned()
                    .collect();
                if items.is_empty() && self.filtered {
                    return None;
                }
                let mut event = e.clone();
                event.items = items;
                Some(event)
            })
            .collect()
    }

    pub(crate) fn tasks(&self, patient: &Patient) -> Vec<Task> {
        patient
            .tasks
            .iter()
            .filter(|t| !self.filtered || t.status != "Completed")
            .filter(|t| Self::date_ok(t.date_time.date(), self.min_entry, self.max_entry))
            .cloned()
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// UpdatePatientRecord

/// Who is writing: fixed per request.
#[derive(Clone, Debug)]
pub(crate) struct WriteContext {
    pub(crate) gateway: u64,
    pub(crate) gateway_user: String,
    pub(crate) device: AddedBy,
    pub(crate) software: String,
    pub(crate) now: NaiveDateTime,
    pub(crate) leave_open: bool,
}

/// One event to add.
#[derive(Clone, Debug, Default)]
pub(crate) struct NewEvent {
    pub(crate) date_time: Option<NaiveDateTime>,
    pub(crate) user_name: Option<String>,
    pub(crate) done_by: Option<String>,
    pub(crate) done_at: Option<String>,
    pub(crate) method: Option<String>,
    pub(crate) items: Vec<JournalItem>,
}

/// One task to add (or, with `task_uid`, to update).
#[derive(Clone, Debug, Default)]
pub(crate) struct NewTask {
    pub(crate) task_uid: Option<String>,
    pub(crate) task_type: Option<String>,
    pub(crate) content: Option<String>,
    pub(crate) due: Option<NaiveDate>,
    pub(crate) user_name_assigned: Option<String>,
    pub(crate) group_name_assigned: Option<String>,
    pub(crate) team_name_assigned: Option<String>,
}

/// One appointment to book in a free slot (or, with `appointment_uid`, to update).
#[derive(Clone, Debug, Default)]
pub(crate) struct NewAppointment {
    pub(crate) appointment_uid: Option<String>,
    pub(crate) user_name: Option<String>,
    pub(crate) site_name: Option<String>,
    pub(crate) clinic_type: Option<String>,
    pub(crate) slot_type: Option<String>,
    pub(crate) start: Option<NaiveDateTime>,
    pub(crate) status: Option<String>,
    pub(crate) comments: Option<String>,
}

/// Demographic changes (only the fields being changed).
#[derive(Clone, Debug, Default)]
pub(crate) struct DemographicChanges {
    pub(crate) fields: Vec<(String, String)>,
}

/// The UIDs an update created.
#[derive(Clone, Debug, Default)]
pub(crate) struct UpdateResult {
    pub(crate) event_uids: Vec<String>,
    pub(crate) task_uids: Vec<String>,
    pub(crate) appointment_uids: Vec<String>,
    pub(crate) state: Option<RecordState>,
}

/// The whole update request.
#[derive(Clone, Debug, Default)]
pub(crate) struct Update {
    pub(crate) events: Vec<NewEvent>,
    pub(crate) tasks: Vec<NewTask>,
    pub(crate) appointments: Vec<NewAppointment>,
    pub(crate) demographics: DemographicChanges,
}

fn check_user(state: &OrgState, name: &str, what: &str) -> Result<(), Refusal> {
    if state.user(name).is_some() {
        Ok(())
    } else {
        Err(Refusal::permanent(format!(
            "{what} '{name}' is not a valid SystmOne user name"
        )))
    }
}

/// Applies an update, all or nothing.
pub(crate) fn apply_update(
    state: &mut OrgState,
    ctx: &WriteContext,
    nhs: &NhsNumber,
    update: Update,
) -> Result<UpdateResult, Refusal> {
    if state.patient(nhs).is_none() {
        return Err(Refusal::no_patient());
    }
    // Validate everything first.
    for event in &update.events {
        if let Some(name) = &event.user_name {
            check_user(state, name, "UserName")?;
        }
        if event.items.is_empty() {
            return Err(Refusal::permanent(
                "An Event must contain at least one data item",
            ));
        }
    }
    for task in &update.tasks {
        if let Some(name) = &task.user_name_assigned {
            check_user(state, name, "UserNameAssigned")?;
        }
        match &task.task_uid {
            Some(uid) => {
                let known = state
                    .patient(nhs)
                    .is_some_and(|p| p.tasks.iter().any(|t| &t.task_uid == uid));
                if !known {
                    return Err(Refusal::permanent(format!("Task {uid} not found")));
                }
            }
            None => {
                if task.task_type.as_deref().is_none_or(str::is_empty) {
                    return Err(Refusal::permanent("A new Task must have a TaskType"));
                }
            }
        }
    }
    let mut bookings = Vec::new();
    for appointment in &update.appointments {
        match &appointment.appointment_uid {
            Some(uid) => {
                let known = state
                    .patient(nhs)
                    .is_some_and(|p| p.appointments.iter().any(|a| &a.appointment_uid == uid));
                if !known {
                    return Err(Refusal::permanent(format!("Appointment {uid} not found")));
                }
            }
            None => {
                let slot = find_free_slot(state, appointment).ok_or_else(|| {
                    Refusal::permanent("The requested appointment slot is not free")
                })?;
                if bookings.contains(&slot) {
                    return Err(Refusal::permanent(
                        "The requested appointment slot is not free",
                    ));
                }
                bookings.push(slot);
            }
        }
    }
    for (field, value) in &update.demographics.fields {
        if field == "UsualGPUserName" {
            check_user(state, value, "UsualGPUserName")?;
        }
    }
    let record_state = access_record(state, ctx.gateway, nhs, ctx.leave_open, true)?;
    let committed = record_state == RecordState::Closed;

    // Apply.
    let mut result = UpdateResult {
        state: Some(record_state),
        ..UpdateResult::default()
    };
    let mut new_events = Vec::new();
    for event in update.events {
        let uid = state.allocate_uid();
        result.event_uids.push(uid.clone());
        new_events.push(JournalEvent {
            event_uid: uid,
            date_time: event.date_time.unwrap_or(ctx.now),
            entered_at: Some(ctx.now),
            author: event.user_name.unwrap_or_else(|| ctx.gateway_user.clone()),
            entered_by: ctx.gateway_user.clone(),
            added_by: Some(ctx.device.clone()),
            software: Some(ctx.software.clone()),
            done_by_text: event.done_by,
            done_at: event.done_at,
            method: event.method,
            items: event.items,
            committed,
        });
    }
    if !update.demographics.fields.is_empty() {
        // A demographic change is recorded as an event of its own.
        let uid = state.allocate_uid();
        result.event_uids.push(uid.clone());
        let summary = update
            .demographics
            .fields
            .iter()
            .map(|(f, _)| f.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        new_events.push(JournalEvent {
            event_uid: uid,
            date_time: ctx.now,
            entered_at: Some(ctx.now),
            author: ctx.gateway_user.clone(),
            entered_by: ctx.gateway_user.clone(),
            added_by: Some(ctx.device.clone()),
            software: Some(ctx.software.clone()),
            done_by_text: None,
            done_at: None,
            method: None,
            items: vec![JournalItem::Other {
                element: "Demographics".to_owned(),
                summary: format!("changed {summary}"),
            }],
            committed,
        });
    }
    let mut new_tasks = Vec::new();
    let mut task_updates = Vec::new();
    for task in update.tasks {
        match task.task_uid.clone() {
            Some(uid) => {
                result.task_uids.push(uid.clone());
                task_updates.push((uid, task));
            }
            None => {
                let uid = state.allocate_uid();
                result.task_uids.push(uid.clone());
                new_tasks.push(Task {
                    task_uid: uid,
                    date_time: ctx.now,
                    task_type: task.task_type.unwrap_or_default(),
                    status: "Not Started".to_owned(),
                    content: task.content.unwrap_or_default(),
                    user_name_assigned: task.user_name_assigned,
                    group_name_assigned: task.group_name_assigned,
                    team_name_assigned: task.team_name_assigned,
                    due: task.due,
                    entered_by: ctx.gateway_user.clone(),
                    added_by: Some(ctx.device.clone()),
                });
            }
        }
    }
    let mut new_appointments = Vec::new();
    let mut appointment_updates = Vec::new();
    let mut bookings = bookings.into_iter();
    for appointment in update.appointments {
        match appointment.appointment_uid.clone() {
            Some(uid) => {
                result.appointment_uids.push(uid.clone());
                appointment_updates.push((uid, appointment));
            }
            None => {
                let Some((clinic_index, slot_index)) = bookings.next() else {
                    continue;
                };
                let uid = state.allocate_uid();
                result.appointment_uids.push(uid.clone());
                let clinic = &mut state.data.clinics[clinic_index];
                let slot = &mut clinic.slots[slot_index];
                slot.booked_appointment_uid = Some(uid.clone());
                new_appointments.push(Appointment {
                    appointment_uid: uid,
                    date_time: slot.start,
                    duration_minutes: slot.duration_minutes,
                    user_name: clinic.user_name.clone(),
                    site_name: clinic.site_name.clone(),
                    clinic_type: clinic.clinic_type.clone(),
                    slot_type: slot.slot_type.clone(),
                    status: appointment.status.unwrap_or_else(|| "Booked".to_owned()),
                    comments: appointment.comments.unwrap_or_default(),
                    added_by: Some(ctx.device.clone()),
                });
            }
        }
    }
    let demographics = update.demographics.fields;
    let Some(patient) = state.patient_mut(nhs) else {
        return Err(Refusal::no_patient());
    };
    patient.journal.extend(new_events);
    patient.tasks.extend(new_tasks);
    patient.appointments.extend(new_appointments);
    for (uid, change) in task_updates {
        if let Some(task) = patient.tasks.iter_mut().find(|t| t.task_uid == uid) {
            if let Some(content) = change.content {
                task.content = content;
            }
            if change.user_name_assigned.is_some() {
                task.user_name_assigned = change.user_name_assigned;
            }
            if change.group_name_assigned.is_some() {
                task.group_name_assigned = change.group_name_assigned;
            }
            if change.team_name_assigned.is_some() {
                task.team_name_assigned = change.team_name_assigned;
            }
            if let Some(task_type) = change.task_type {
                task.task_type = task_type;
            }
        }
    }
    for (uid, change) in appointment_updates {
        if let Some(appointment) = patient
            .appointments
            .iter_mut()
            .find(|a| a.appointment_uid == uid)
        {
            if let Some(status) = change.status {
                appointment.status = status;
            }
            if let Some(comments) = change.comments {
                appointment.comments = comments;
            }
        }
    }
    apply_demographics(patient, &demographics);
    Ok(result)
}

fn apply_demographics(patient: &mut Patient, fields: &[(String, String)]) {
    for (field, value) in fields {
        let v = value.clone();
        match field.as_str() {
            "Title" => patient.title = v,
            "FirstName" => patient.first_name = v,
            "MiddleNames" => patient.middle_names = v,
            "Surname" => patient.surname = v,
            "KnownAs" => patient.known_as = Some(v),
            "HomeTelephone" => patient.home_telephone = v,
            "WorkTelephone" => patient.work_telephone = v,
            "MobileTelephone" => patient.mobile_telephone = v,
            "AlternateTelephone" => patient.alternate_telephone = v,
            "EmailAddress" => patient.email_address = v,
            "SMSConsent" => patient.sms_consent = v.eq_ignore_ascii_case("yes"),
            "UsualGPUserName" => patient.usual_gp_user_name = v,
            "Address/HouseName" => patient.address.house_name = v,
            "Address/HouseNumber" => patient.address.house_number = v,
            "Address/Road" => patient.address.road = v,
            "Address/Locality" => patient.address.locality = v,
            "Address/Town" => patient.address.town = v,
            "Address/County" => patient.address.county = v,
            "Address/Postcode" => patient.address.postcode = v,
            _ => {}
        }
    }
}

fn find_free_slot(state: &OrgState, wanted: &NewAppointment) -> Option<(usize, usize)> {
    let eq = |w: &Option<String>, v: &str| w.as_deref().is_none_or(|w| w == v);
    state
        .data
        .clinics
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            eq(&wanted.user_name, &c.user_name)
                && eq(&wanted.site_name, &c.site_name)
                && eq(&wanted.clinic_type, &c.clinic_type)
        })
        .find_map(|(ci, c)| {
            c.slots
                .iter()
                .position(|s| {
                    s.booked_appointment_uid.is_none()
                        && eq(&wanted.slot_type, &s.slot_type)
                        && wanted.start.is_some_and(|start| start == s.start)
                })
                .map(|si| (ci, si))
        })
}

// ---------------------------------------------------------------------------------------------
// DeletePatientRecord

/// What a delete names.
#[derive(Clone, Debug, Default)]
pub(crate) struct Deletion {
    pub(crate) reason: String,
    pub(crate) event_uids: Vec<String>,
    pub(crate) task_uids: Vec<String>,
    pub(crate) appointment_uids: Vec<String>,
    pub(crate) visit_uids: Vec<String>,
}

/// Deletes items this device added, all or nothing.
pub(crate) fn apply_delete(
    state: &mut OrgState,
    ctx: &WriteContext,
    nhs: &NhsNumber,
    deletion: &Deletion,
) -> Result<RecordState, Refusal> {
    if deletion.reason.trim().is_empty() {
        return Err(Refusal::permanent("A Reason must be given for a deletion"));
    }
    let count = deletion.event_uids.len()
        + deletion.task_uids.len()
        + deletion.appointment_uids.len()
        + deletion.visit_uids.len();
    if count == 0 {
        return Err(Refusal::permanent("No items to delete were specified"));
    }
    let Some(patient) = state.patient(nhs) else {
        return Err(Refusal::no_patient());
    };
    let device = &ctx.device.device_id;
    let mine = |added: &Option<AddedBy>| added.as_ref().is_some_and(|a| &a.device_id == device);
    for uid in &deletion.event_uids {
        match patient.journal.iter().find(|e| &e.event_uid == uid) {
            None => return Err(Refusal::permanent(format!("Event {uid} not found"))),
            Some(e) if !mine(&e.added_by) => {
                return Err(Refusal::permanent(format!(
                    "Event {uid} was not added by this device and cannot be deleted"
                )));
            }
            Some(_) => {}
        }
    }
    for uid in &deletion.task_uids {
        match patient.tasks.iter().find(|t| &t.task_uid == uid) {
            None => return Err(Refusal::permanent(format!("Task {uid} not found"))),
            Some(t) if !mine(&t.added_by) => {
                return Err(Refusal::permanent(format!(
                    "Task {uid} was not added by this device and cannot be deleted"
                )));
            }
            Some(_) => {}
        }
    }
    for uid in &deletion.appointment_uids {
        match patient
            .appointments
            .iter()
            .find(|a| &a.appointment_uid == uid)
        {
            None => return Err(Refusal::permanent(format!("Appointment {uid} not found"))),
            Some(a) if !mine(&a.added_by) => {
                return Err(Refusal::permanent(format!(
                    "Appointment {uid} was not added by this device and cannot be deleted"
                )));
            }
            Some(_) => {}
        }
    }
    if let Some(uid) = deletion.visit_uids.first() {
        return Err(Refusal::permanent(format!("Visit {uid} not found")));
    }
    let record_state = access_record(state, ctx.gateway, nhs, ctx.leave_open, true)?;
    let mut removed = Vec::new();
    if let Some(patient) = state.patient_mut(nhs) {
        patient.journal.retain(|e| {
            let gone = deletion.event_uids.contains(&e.event_uid);
            if gone {
                removed.push(e.event_uid.clone());
            }
            !gone
        });
        patient.tasks.retain(|t| {
            let gone = deletion.task_uids.contains(&t.task_uid);
            if gone {
                removed.push(t.task_uid.clone());
            }
            !gone
        });
        patient.appointments.retain(|a| {
            let gone = deletion.appointment_uids.contains(&a.appointment_uid);
            if gone {
                removed.push(a.appointment_uid.clone());
            }
            !gone
        });
    }
    for clinic in &mut state.data.clinics {
        for slot in &mut clinic.slots {
            if slot
                .booked_appointment_uid
                .as_ref()
                .is_some_and(|uid| deletion.appointment_uids.contains(uid))
            {
                slot.booked_appointment_uid = None;
            }
        }
    }
    for uid in removed {
        state.deleted.push(DeletedItem {
            nhs_number: *nhs,
            uid,
            reason: deletion.reason.clone(),
            device_id: device.clone(),
            deleted_at: ctx.now,
        });
    }
    Ok(record_state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::organisation::Organisation;

    fn nhs(s: &str) -> NhsNumber {
        s.parse().unwrap()
    }

    fn ctx(gateway: u64, device: &str, leave_open: bool) -> WriteContext {
        WriteContext {
            gateway,
            gateway_user: "gateway0001".to_owned(),
            device: AddedBy {
                device_id: device.to_owned(),
                device_version: "test 1.0".to_owned(),
            },
            software: "Example Integration".to_owned(),
            now: NaiveDate::from_ymd_opt(2026, 3, 3)
                .unwrap()
                .and_hms_opt(10, 15, 2)
                .unwrap(),
            leave_open,
        }
    }

    fn note(user: &str) -> Update {
        Update {
            events: vec![NewEvent {
                user_name: Some(user.to_owned()),
                items: vec![JournalItem::Narrative {
                    lines: vec!["Seen.".to_owned()],
                }],
                ..NewEvent::default()
            }],
            ..Update::default()
        }
    }

    #[test]
    fn search_needs_two_criteria_and_matches_prefixes_and_outward_codes() {
        let org = Organisation::builtin_default();
        let state = org.lock();
        let one = SearchCriteria {
            surname: Some("Example".into()),
            ..SearchCriteria::default()
        };
        let err = search(&state, &one).unwrap_err();
        assert!(err.permanent);
        assert_eq!(
            err.message,
            "At least two search parameters must be specified"
        );
        let two = SearchCriteria {
            surname: Some("ex".into()),
            postcode: Some("LS1".into()),
            ..SearchCriteria::default()
        };
        assert_eq!(search(&state, &two).unwrap().len(), 2);
        let three = SearchCriteria {
            surname: Some("Example".into()),
            postcode: Some("ls1 1aa".into()),
            gender: Some("M".into()),
            ..SearchCriteria::default()
        };
        let found = search(&state, &three).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].first_name, "Sam");
        let phone = SearchCriteria {
            telephone: Some("07700 900123".into()),
            date_of_birth: NaiveDate::from_ymd_opt(1970, 5, 14),
            ..SearchCriteria::default()
        };
        assert_eq!(search(&state, &phone).unwrap().len(), 1);
        let nobody = SearchCriteria {
            surname: Some("Nobody".into()),
            first_name: Some("X".into()),
            ..SearchCriteria::default()
        };
        assert!(search(&state, &nobody).unwrap().is_empty());
    }

    #[test]
    fn unknown_or_wrongly_cased_authors_change_nothing() {
        let org = Organisation::builtin_default();
        let mut state = org.lock();
        let patient = nhs("9990001014");
        let err = apply_update(
            &mut state,
            &ctx(1, "d1", false),
            &patient,
            note("JBloggs1234"),
        )
        .unwrap_err();
        assert!(err.permanent);
        assert!(state.patient(&patient).unwrap().journal.is_empty());
        let ok = apply_update(
            &mut state,
            &ctx(1, "d1", false),
            &patient,
            note("jbloggs1234"),
        )
        .unwrap();
        assert_eq!(ok.event_uids.len(), 1);
        let event = &state.patient(&patient).unwrap().journal[0];
        assert_eq!(event.author, "jbloggs1234");
        assert_eq!(event.entered_by, "gateway0001");
        assert_eq!(event.software.as_deref(), Some("Example Integration"));
        assert!(event.committed);
    }

    #[test]
    fn records_open_elsewhere_refuse_writes_but_not_reads() {
        let org = Organisation::builtin_default();
        let patient = nhs("9990001014");
        org.open_record_elsewhere(&patient);
        let mut state = org.lock();
        assert_eq!(
            access_record(&mut state, 1, &patient, false, false),
            Ok(RecordState::Open)
        );
        let err = apply_update(
            &mut state,
            &ctx(1, "d1", false),
            &patient,
            note("jbloggs1234"),
        )
        .unwrap_err();
        assert!(!err.permanent);
        let err = access_record(&mut state, 1, &patient, true, false).unwrap_err();
        assert!(!err.permanent);
    }

    #[test]
    fn leave_record_open_keeps_changes_pending_until_saved() {
        let org = Organisation::builtin_default();
        let patient = nhs("9990001014");
        {
            let mut state = org.lock();
            let result = apply_update(
                &mut state,
                &ctx(1, "d1", true),
                &patient,
                note("jbloggs1234"),
            )
            .unwrap();
            assert_eq!(result.state, Some(RecordState::Open));
            // The same gateway may keep working on it; another may not.
            assert!(access_record(&mut state, 1, &patient, true, true).is_ok());
            assert!(access_record(&mut state, 2, &patient, false, true).is_err());
        }
        assert!(!org.journal(&patient)[0].committed);
        org.close_record(&patient);
        assert!(org.journal(&patient)[0].committed);
        assert_eq!(org.record_holder(&patient), None);
    }

    #[test]
    fn deletes_only_own_items_all_or_nothing() {
        let org = Organisation::builtin_default();
        let patient = nhs("9990001006");
        let mut state = org.lock();
        let mine = apply_update(
            &mut state,
            &ctx(1, "d1", false),
            &patient,
            note("jbloggs1234"),
        )
        .unwrap()
        .event_uids[0]
            .clone();
        let theirs = "a000000100000000".to_owned();
        let both = Deletion {
            reason: "Filed against wrong patient".into(),
            event_uids: vec![mine.clone(), theirs],
            ..Deletion::default()
        };
        assert!(apply_delete(&mut state, &ctx(1, "d1", false), &patient, &both).is_err());
        assert_eq!(state.patient(&patient).unwrap().journal.len(), 2);
        let other_device = Deletion {
            reason: "x".into(),
            event_uids: vec![mine.clone()],
            ..Deletion::default()
        };
        assert!(apply_delete(&mut state, &ctx(1, "d2", false), &patient, &other_device).is_err());
        let no_reason = Deletion {
            reason: " ".into(),
            event_uids: vec![mine.clone()],
            ..Deletion::default()
        };
        assert!(apply_delete(&mut state, &ctx(1, "d1", false), &patient, &no_reason).is_err());
        apply_delete(&mut state, &ctx(1, "d1", false), &patient, &other_device).unwrap();
        assert_eq!(state.patient(&patient).unwrap().journal.len(), 1);
        assert_eq!(state.deleted.len(), 1);
    }

    #[test]
    fn filters_select_sections_and_entry_dates() {
        let org = Organisation::builtin_default();
        let state = org.lock();
        let patient = state.patient(&nhs("9990001006")).unwrap();
        let all = RecordSelection::default().normalised();
        assert_eq!(all.events(patient)[0].items.len(), 2);
        let narrative = RecordSelection {
            filtered: true,
            narrative: true,
            ..RecordSelection::default()
        }
        .normalised();
        assert_eq!(narrative.events(patient)[0].items.len(), 1);
        assert!(!narrative.include_demographics());
        let day = NaiveDate::from_ymd_opt(2025, 11, 3);
        let dated = RecordSelection {
            filtered: true,
            min_entry: day,
            max_entry: day,
            ..RecordSelection::default()
        }
        .normalised();
        assert_eq!(dated.events(patient).len(), 1);
        let later = RecordSelection {
            filtered: true,
            min_entry: NaiveDate::from_ymd_opt(2025, 11, 4),
            ..RecordSelection::default()
        }
        .normalised();
        assert!(later.events(patient).is_empty());
        let demographics_only = RecordSelection {
            filtered: true,
            demographics: true,
            ..RecordSelection::default()
        }
        .normalised();
        assert!(demographics_only.events(patient).is_empty());
        assert!(demographics_only.include_demographics());
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        #[derive(Clone, Debug)]
        enum Op {
            Write {
                device: u8,
                user: &'static str,
                leave_open: bool,
            },
            Delete {
                device: u8,
                pick: usize,
            },
            OpenElsewhere,
            Save,
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                4 => (0u8..3, prop::sample::select(vec!["jbloggs1234", "JBLOGGS1234", "nobody", "lworker0042"]), any::<bool>())
                    .prop_map(|(device, user, leave_open)| Op::Write { device, user, leave_open }),
                3 => (0u8..3, 0usize..8).prop_map(|(device, pick)| Op::Delete { device, pick }),
                1 => Just(Op::OpenElsewhere),
                1 => Just(Op::Save),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

            /// Writes and deletes are all or nothing: the journal always equals the model of
            /// what succeeded; every added event names a real author, the gateway user and its
            /// device; only the adding device ever deletes.
            #[test]
            fn journal_matches_successful_operations(ops in prop::collection::vec(op(), 1..40)) {
                let org = Organisation::builtin_default();
                let patient = nhs("9990001022");
                let mut expected: Vec<(String, String)> = Vec::new(); // (uid, device)
                for op in ops {
                    let mut state = org.lock();
                    match op {
                        Op::Write { device, user, leave_open } => {
                            let device = format!("d{device}");
                            let result = apply_update(&mut state, &ctx(1, &device, leave_open), &patient, note(user));
                            if let Ok(result) = result {
                                prop_assert!(state.user(user).is_some());
                                expected.push((result.event_uids[0].clone(), device));
                            }
                        }
                        Op::Delete { device, pick } => {
                            let device = format!("d{device}");
                            let Some((uid, owner)) = expected.get(pick).cloned() else { continue };
                            let deletion = Deletion {
                                reason: "Wrong patient".into(),
                                event_uids: vec![uid.clone()],
                                ..Deletion::default()
                            };
                            if apply_delete(&mut state, &ctx(1, &device, false), &patient, &deletion).is_ok() {
                                prop_assert_eq!(&owner, &device);
                                expected.retain(|(u, _)| u != &uid);
                            }
                        }
                        Op::OpenElsewhere => {
                            state.open_records.insert(patient, RecordHolder::AnotherUser);
                        }
                        Op::Save => state.save_and_close(&patient),
                    }
                    let journal = &state.patient(&patient).unwrap().journal;
                    let actual: Vec<(String, String)> = journal
                        .iter()
                        .map(|e| (e.event_uid.clone(), e.added_by.as_ref().unwrap().device_id.clone()))
                        .collect();
                    prop_assert_eq!(&actual, &expected);
                    for event in journal {
                        prop_assert!(state.user(&event.author).is_some());
                        prop_assert_eq!(&event.entered_by, "gateway0001");
                    }
                }
            }
        }
    }
}
