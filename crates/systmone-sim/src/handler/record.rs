//! Functions on one patient's record: `PatientSearch`, `GetPatientRecord`,
//! `UpdatePatientRecord`, `GetDocument`, `DeletePatientRecord`, `LaunchFunctionality`.

use systmone_api as api;
use systmone_api::{AppointmentUid, EventUid, Response, Sex, TaskUid};

use crate::behaviour::{self, Deletion, Refusal, SearchCriteria, WriteContext};
use crate::gateway::Gateway;
use crate::handler::wire::{
    address_of, appointment_to_wire, demographics_of, event_to_wire, identity_of, record_state,
    selection_of, target_patient, task_to_wire, update_of,
};
use crate::model::JournalItem;

/// `PatientSearch`.
pub(super) fn patient_search(
    gateway: &Gateway,
    r: &api::patient_search::v1::Request,
) -> Result<Response, Refusal> {
    let state = gateway.org.lock();
    let criteria = SearchCriteria {
        first_name: r.first_name.clone(),
        surname: r.surname.clone(),
        date_of_birth: r.date_of_birth,
        postcode: r.post_code.clone(),
        telephone: r.telephone.clone(),
        gender: r.gender.as_ref().map(|g| g.as_str().to_owned()),
    };
    let found = behaviour::search(&state, &criteria)?;
    let mut response = api::patient_search::v1::Response::default();
    response.results = found
        .into_iter()
        .map(|p| {
            let mut result = api::patient_search::v1::SearchResult::default();
            result.identity = identity_of(p);
            result.first_name = Some(p.first_name.clone());
            result.surname = Some(p.surname.clone());
            result.date_of_birth = Some(p.date_of_birth);
            result.sex = Some(Sex::from_wire(&p.sex));
            result.telephone = p.preferred_telephone().map(str::to_owned);
            result.address =
                (p.address != crate::model::Address::default()).then(|| address_of(&p.address));
            result
        })
        .collect();
    Ok(response.into())
}

/// `GetPatientRecord`.
pub(super) fn get_patient_record(
    gateway: &Gateway,
    r: &api::get_patient_record::v1::Request,
) -> Result<Response, Refusal> {
    let mut state = gateway.org.lock();
    let nhs = target_patient(&state, gateway.id, r.identity.as_ref())?;
    let record =
        behaviour::access_record(&mut state, gateway.id, &nhs, r.leave_record_open, false)?;
    let selection = selection_of(r.filter.as_ref());
    let Some(patient) = state.patient(&nhs) else {
        return Err(Refusal::no_patient());
    };
    let mut response = api::get_patient_record::v1::Response::default();
    response.identity = Some(identity_of(patient));
    if selection.include_demographics() {
        response.demographics = Some(demographics_of(patient));
    }
    response.events = selection
        .events(patient)
        .iter()
        .map(|e| event_to_wire(e, &state))
        .collect();
    if selection.include_appointments() {
        response.non_clinical.extend(
            patient
                .appointments
                .iter()
                .map(|a| appointment_to_wire(a, &state)),
        );
    }
    if selection.include_tasks() {
        response
            .non_clinical
            .extend(selection.tasks(patient).iter().map(task_to_wire));
    }
    response.record_state = Some(record_state(record));
    Ok(response.into())
}

/// `UpdatePatientRecord`.
pub(super) fn update_patient_record(
    gateway: &Gateway,
    r: &api::update_patient_record::v1::Request,
    mut ctx: WriteContext,
) -> Result<Response, Refusal> {
    ctx.leave_open = r.leave_record_open;
    let mut state = gateway.org.lock();
    let nhs = target_patient(&state, gateway.id, Some(&r.identity))?;
    let update = update_of(r, &mut state)?;
    let result = behaviour::apply_update(&mut state, &ctx, &nhs, update)?;
    let Some(patient) = state.patient(&nhs) else {
        return Err(Refusal::no_patient());
    };
    let mut response = api::update_patient_record::v1::Response::default();
    response.identity = Some(identity_of(patient));
    response.event_uids = result.event_uids.into_iter().map(EventUid::new).collect();
    response.task_uids = result.task_uids.into_iter().map(TaskUid::new).collect();
    response.appointment_uids = result
        .appointment_uids
        .into_iter()
        .map(AppointmentUid::new)
        .collect();
    response.record_state = result.state.map(record_state);
    Ok(response.into())
}

/// `GetDocument`.
pub(super) fn get_document(
    gateway: &Gateway,
    r: &api::get_document::v1::Request,
) -> Result<Response, Refusal> {
    let mut state = gateway.org.lock();
    let nhs = target_patient(&state, gateway.id, Some(&r.identity))?;
    if r.write_to.trim().is_empty() {
        return Err(Refusal::permanent(
            "WriteTo must name a directory that exists and can be written to",
        ));
    }
    let found = state.patient(&nhs).and_then(|p| {
        p.journal
            .iter()
            .flat_map(|e| e.items.iter())
            .find_map(|i| match i {
                JournalItem::Attachment {
                    source,
                    document_uid,
                    ..
                } if document_uid == r.document_uid.as_str() => Some(source.clone()),
                _ => None,
            })
    });
    let Some(source) = found else {
        return Err(Refusal::permanent(format!(
            "Document {} not found",
            r.document_uid
        )));
    };
    let record =
        behaviour::access_record(&mut state, gateway.id, &nhs, r.leave_record_open, false)?;
    let file_name = source.rsplit(['\\', '/']).next().unwrap_or("document");
    let separator = if r.write_to.contains('\\') { '\\' } else { '/' };
    let mut response = api::get_document::v1::Response::default();
    response.document_files = vec![format!(
        "{}{separator}{file_name}",
        r.write_to.trim_end_matches(['\\', '/'])
    )];
    response.record_state = Some(record_state(record));
    Ok(response.into())
}

/// `DeletePatientRecord`.
pub(super) fn delete_patient_record(
    gateway: &Gateway,
    r: &api::delete_patient_record::v1::Request,
    mut ctx: WriteContext,
) -> Result<Response, Refusal> {
    ctx.leave_open = r.leave_record_open;
    let mut state = gateway.org.lock();
    if r.identity.is_none() && !r.leave_record_open {
        return Err(Refusal::permanent(
            "Identity is required unless LeaveRecordOpen is given",
        ));
    }
    let nhs = target_patient(&state, gateway.id, r.identity.as_ref())?;
    let deletion = Deletion {
        reason: r.reason.clone(),
        event_uids: r.event_uids.iter().map(|u| u.as_str().to_owned()).collect(),
        task_uids: r.task_uids.iter().map(|u| u.as_str().to_owned()).collect(),
        appointment_uids: r
            .appointment_uids
            .iter()
            .map(|u| u.as_str().to_owned())
            .collect(),
        visit_uids: r.visit_uids.iter().map(|u| u.as_str().to_owned()).collect(),
    };
    let record = behaviour::apply_delete(&mut state, &ctx, &nhs, &deletion)?;
    let mut response = api::delete_patient_record::v1::Response::default();
    response.identity = state.patient(&nhs).map(identity_of);
    response.record_state = Some(record_state(record));
    Ok(response.into())
}

/// `LaunchFunctionality`.
pub(super) fn launch_functionality(
    gateway: &Gateway,
    r: &api::launch_functionality::v1::Request,
) -> Result<Response, Refusal> {
    let mut state = gateway.org.lock();
    let nhs = target_patient(&state, gateway.id, Some(&r.identity))?;
    behaviour::access_record(&mut state, gateway.id, &nhs, true, false)?;
    let mut response = api::launch_functionality::v1::Response::default();
    response.identity = state.patient(&nhs).map(identity_of);
    Ok(response.into())
}
