//! `DeletePatientRecord`: deletes only items this device added, with a reason, all or
//! nothing.

use nhs_identifiers::NhsNumber;

use crate::behaviour::locking::{RecordState, access_record};
use crate::behaviour::refusal::Refusal;
use crate::behaviour::update::WriteContext;
use crate::model::AddedBy;
use crate::organisation::{DeletedItem, OrgState};

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
