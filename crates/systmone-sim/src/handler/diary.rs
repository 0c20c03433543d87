//! Functions on the appointment book: `GetAppointmentSlots`, `GetDiary`.

use systmone_api as api;
use systmone_api::record::NonClinicalItem;
use systmone_api::{Response, Sex};

use crate::behaviour::Refusal;
use crate::gateway::Gateway;
use crate::handler::wire::{appointment_to_wire, identity_of};

/// `GetAppointmentSlots`.
pub(super) fn get_appointment_slots(
    gateway: &Gateway,
    r: &api::get_appointment_slots::v1::Request,
) -> Result<Response, Refusal> {
    let state = gateway.org.lock();
    let within = |t: chrono::NaiveDateTime| {
        r.min_date_time.is_none_or(|m| t >= m) && r.max_date_time.is_none_or(|m| t <= m)
    };
    let any = |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
    let mut response = api::get_appointment_slots::v1::Response::default();
    for clinic in &state.data.clinics {
        if !any(&r.user_names, &clinic.user_name)
            || !any(&r.site_names, &clinic.site_name)
            || !any(&r.clinic_types, &clinic.clinic_type)
        {
            continue;
        }
        let slots: Vec<_> = clinic
            .slots
            .iter()
            .filter(|s| {
                s.booked_appointment_uid.is_none()
                    && within(s.start)
                    && any(&r.slot_types, &s.slot_type)
            })
            .map(|s| {
                let mut slot = api::record::Slot::default();
                slot.slot_type = Some(s.slot_type.clone());
                slot.date_time_start = Some(s.start);
                slot.duration = Some(s.duration_minutes);
                slot
            })
            .collect();
        if slots.is_empty() {
            continue;
        }
        let mut wire = api::record::Clinic::default();
        wire.user_name = Some(clinic.user_name.clone());
        wire.site_name = Some(clinic.site_name.clone());
        wire.clinic_type = Some(clinic.clinic_type.clone());
        wire.slots = slots;
        response.clinics.push(wire);
    }
    Ok(response.into())
}

/// `GetDiary`.
pub(super) fn get_diary(
    gateway: &Gateway,
    r: &api::get_diary::v1::Request,
) -> Result<Response, Refusal> {
    let state = gateway.org.lock();
    let mut response = api::get_diary::v1::Response::default();
    let appointments_wanted = r.appointments || !r.visits;
    for patient in &state.data.patients {
        let items: Vec<NonClinicalItem> = patient
            .appointments
            .iter()
            .filter(|_| appointments_wanted)
            .filter(|a| {
                r.min_date_time.is_none_or(|m| a.date_time >= m)
                    && r.max_date_time.is_none_or(|m| a.date_time <= m)
                    && (r.user_names.is_empty() || r.user_names.contains(&a.user_name))
                    && (r.site_names.is_empty() || r.site_names.contains(&a.site_name))
            })
            .map(|a| appointment_to_wire(a, &state))
            .collect();
        if items.is_empty() {
            continue;
        }
        let mut entry = api::get_diary::v1::DiaryEntry::default();
        entry.identity = Some(identity_of(patient));
        let mut d = api::record::Demographics::default();
        d.title = Some(patient.title.clone());
        d.first_name = Some(patient.first_name.clone());
        d.middle_names = Some(patient.middle_names.clone());
        d.surname = Some(patient.surname.clone());
        d.date_of_birth = Some(patient.date_of_birth);
        d.sex = Some(Sex::from_wire(&patient.sex));
        entry.demographics = Some(d);
        entry.items = items;
        response.results.push(entry);
    }
    Ok(response.into())
}
