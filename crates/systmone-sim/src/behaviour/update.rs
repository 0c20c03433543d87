//! `UpdatePatientRecord`: events, tasks, appointments and demographics, all or nothing.

use chrono::{NaiveDate, NaiveDateTime};
use nhs_identifiers::NhsNumber;

use crate::behaviour::locking::{RecordState, access_record};
use crate::behaviour::refusal::Refusal;
use crate::model::{AddedBy, Appointment, JournalEvent, JournalItem, Patient, Task};
use crate::organisation::OrgState;

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
