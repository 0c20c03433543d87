//! The wire side of the pipeline: decode a request with `systmone-api`, run the function
//! against the organisation ([`crate::behaviour`]), encode the response.

use chrono::NaiveDate;
use nhs_identifiers::NhsNumber;
use systmone_api as api;
use systmone_api::record::{DataItem, NonClinicalItem};
use systmone_api::{
    AppointmentUid, Code, CodeScheme, DeviceId, DocumentUid, EventUid, Identity, PatientId,
    ResponseUid, Sex, TaskUid, YesNo,
};
use systmone_api::{
    ClientIntegrationRequest, ClientIntegrationResponse, EncodeOptions, FunctionName,
    ReceivedRequestHeader, RemoteError, Request, Response, ResponseHeader, ThrottleClass,
};

use crate::behaviour::{
    self, Deletion, DemographicChanges, NewAppointment, NewEvent, NewTask, RecordSelection,
    RecordState, Refusal, SearchCriteria, Update, WriteContext,
};
use crate::config::DeviceApproval;
use crate::gateway::Gateway;
use crate::model::{AddedBy, JournalEvent, JournalItem, Patient};
use crate::organisation::OrgState;

/// What [`crate::Fault::MalformedResponse`] sends: balanced tags (so an XML-aware framer
/// delivers it) but not well-formed (an undefined entity) and without the envelope fields.
pub(crate) const MALFORMED_RESPONSE: &str = "<ClientIntegrationResponse><Response><ErrorMessage>simulated fault</ErrorMessage></Response><DeviceID>&undefined;</DeviceID></ClientIntegrationResponse>";

/// A request whose envelope could be read.
#[derive(Debug)]
pub(crate) struct Inbound {
    pub(crate) function: String,
    pub(crate) request_uid: String,
    pub(crate) device_id: String,
    header: ReceivedRequestHeader,
    /// The full request, or why its function or parameters could not be read.
    request: Result<ClientIntegrationRequest, api::Error>,
}

/// A document that is not even a request envelope.
#[derive(Debug)]
pub(crate) struct Undecodable {
    pub(crate) message: String,
}

/// The response to send, and the error it carries (for the log).
#[derive(Debug)]
pub(crate) struct Executed {
    pub(crate) document: String,
    pub(crate) error: Option<Refusal>,
    /// `ExitClient`: exit after answering, and whether to restart.
    pub(crate) exit: Option<bool>,
}

pub(crate) fn decode(frame: &[u8]) -> Result<Inbound, Undecodable> {
    let header = ClientIntegrationRequest::decode_header(frame).map_err(|e| Undecodable {
        message: format!("The message is not a valid ClientIntegrationRequest: {e}"),
    })?;
    Ok(Inbound {
        function: header.function.as_str().to_owned(),
        request_uid: header.header.request_uid.as_str().to_owned(),
        device_id: header.header.device_id.as_str().to_owned(),
        request: ClientIntegrationRequest::decode(frame),
        header,
    })
}

fn encode(response: &ClientIntegrationResponse) -> String {
    match response.encode(&EncodeOptions::server()) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim_end().to_owned(),
        Err(e) => {
            // Only text XML cannot carry gets here; answer with an error instead.
            let fallback = ClientIntegrationResponse::error(
                response.header.clone(),
                RemoteError::new(format!("Internal error: {e}"), true),
            );
            fallback
                .encode(&EncodeOptions::server())
                .map(|b| String::from_utf8_lossy(&b).trim_end().to_owned())
                .unwrap_or_default()
        }
    }
}

pub(crate) fn undecodable_response(gateway: &Gateway, undecodable: &Undecodable) -> String {
    let uid = gateway.control().response_uid();
    let header = ResponseHeader::new(
        DeviceId::new(""),
        api::RequestUid::new(""),
        FunctionName::from_wire(""),
        "",
        ResponseUid::new(uid),
    );
    encode(&ClientIntegrationResponse::error(
        header,
        RemoteError::new(undecodable.message.clone(), true),
    ))
}

pub(crate) fn is_throttled_record_read(inbound: &Inbound, today: NaiveDate) -> bool {
    match &inbound.request {
        Ok(request) => matches!(
            request.throttle_class(today),
            ThrottleClass::Function(FunctionName::GetPatientRecord)
        ),
        Err(_) => false,
    }
}

/// Runs a decoded request: device id, API key, then the function.
pub(crate) fn execute(gateway: &Gateway, inbound: &Inbound, forced_in_use: bool) -> Executed {
    let response_uid = gateway.control().response_uid();
    let (device_id, device_refusal) = admit_device(gateway, &inbound.device_id);
    let header = ResponseHeader::for_request(
        &inbound.header,
        DeviceId::new(device_id.clone()),
        ResponseUid::new(response_uid),
    );
    let refuse = |refusal: Refusal| Executed {
        document: encode(&ClientIntegrationResponse::error(
            header.clone(),
            RemoteError::new(refusal.message.clone(), refusal.permanent),
        )),
        error: Some(refusal),
        exit: None,
    };
    if let Some(refusal) = device_refusal {
        return refuse(refusal);
    }
    let software = {
        let state = gateway.org.lock();
        let key = inbound.header.header.api_key.expose();
        state
            .data
            .registered_software
            .iter()
            .find(|s| s.api_key == key)
            .map(|s| s.name.clone())
    };
    let software = match software {
        Some(name) => name,
        None if gateway.config.accept_unregistered_api_keys => {
            gateway.config.default_software_name.clone()
        }
        None => return refuse(Refusal::permanent("The APIKey is not recognised")),
    };
    let request = match &inbound.request {
        Ok(request) => request,
        Err(e) => return refuse(request_error(e)),
    };
    if forced_in_use {
        return refuse(Refusal::record_in_use());
    }
    let ctx = WriteContext {
        gateway: gateway.id,
        gateway_user: gateway.user_name.clone(),
        device: AddedBy {
            device_id,
            device_version: inbound.header.header.device_version.clone(),
        },
        software,
        now: gateway.org.now(),
        leave_open: false,
    };
    let mut exit = None;
    let outcome = run(gateway, &request.request, ctx, &mut exit);
    match outcome {
        Ok(response) => Executed {
            document: encode(&ClientIntegrationResponse::success(header, response)),
            error: None,
            exit,
        },
        Err(refusal) => refuse(refusal),
    }
}

fn request_error(e: &api::Error) -> Refusal {
    match e {
        // Never repeat what the caller sent (it could be any text); the response header
        // already echoes the Function element.
        api::Error::UnknownFunction { .. } => Refusal::permanent(
            "Unknown function: the Function element names no function this client supports",
        ),
        api::Error::UnsupportedVersion { function, .. } => Refusal::permanent(format!(
            "This FunctionVersion of function {function} is not supported"
        )),
        other => Refusal::permanent(format!("Invalid request: {other}")),
    }
}

/// Device approval: returns the device id to echo and a refusal, if any.
fn admit_device(gateway: &Gateway, sent: &str) -> (String, Option<Refusal>) {
    let mut control = gateway.control();
    let sent = sent.trim();
    if sent.is_empty() {
        return match control.device_approval {
            DeviceApproval::Approve => {
                let id = control.allocate_device_id();
                control.approved_devices.insert(id.clone());
                control.allocated_devices.push(id.clone());
                (id, None)
            }
            DeviceApproval::Block => (
                String::new(),
                Some(Refusal::permanent(
                    "The request was blocked by the user. An administrator can unblock the \
                     device in Setup > Mobile Working & Integration > Device Manager",
                )),
            ),
        };
    }
    if control.blocked_devices.contains(sent) {
        return (
            sent.to_owned(),
            Some(Refusal::permanent(
                "This device has been blocked. An administrator can unblock it in Device Manager",
            )),
        );
    }
    if !control.approved_devices.contains(sent) {
        if gateway.config.reject_unknown_device_ids {
            return (
                sent.to_owned(),
                Some(Refusal::permanent("The DeviceID is not recognised")),
            );
        }
        control.approved_devices.insert(sent.to_owned());
    }
    (sent.to_owned(), None)
}

fn record_state(state: RecordState) -> api::RecordState {
    match state {
        RecordState::Open => api::RecordState::Open,
        RecordState::Closed => api::RecordState::Closed,
    }
}

fn nhs_of(id: &PatientId) -> Result<NhsNumber, Refusal> {
    id.nhs_number().copied().ok_or_else(Refusal::no_patient)
}

/// The patient a patient-record function is about: the `Identity`, or else the record open in
/// this gateway.
fn target_patient(
    state: &OrgState,
    gateway: u64,
    identity: Option<&PatientId>,
) -> Result<NhsNumber, Refusal> {
    let nhs = match identity {
        Some(id) => nhs_of(id)?,
        None => behaviour::open_in(state, gateway).ok_or_else(|| {
            Refusal::permanent("No Identity was given and no patient record is open")
        })?,
    };
    if state.patient(&nhs).is_none() {
        return Err(Refusal::no_patient());
    }
    Ok(nhs)
}

fn identity_of(patient: &Patient) -> Identity {
    let mut identity = Identity::new(patient.nhs_number);
    identity.strategic_reporting_identifier = Some(patient.strategic_reporting_id.clone());
    identity
}

fn none_if_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn address_of(a: &crate::model::Address) -> api::Address {
    let mut out = api::Address::default();
    out.house_name = none_if_empty(&a.house_name);
    out.house_number = none_if_empty(&a.house_number);
    out.road = none_if_empty(&a.road);
    out.locality = none_if_empty(&a.locality);
    out.town = none_if_empty(&a.town);
    out.county = none_if_empty(&a.county);
    out.postcode = none_if_empty(&a.postcode);
    out
}

fn demographics_of(patient: &Patient) -> api::record::Demographics {
    let mut d = api::record::Demographics::default();
    d.title = Some(patient.title.clone());
    d.first_name = Some(patient.first_name.clone());
    d.middle_names = Some(patient.middle_names.clone());
    d.surname = Some(patient.surname.clone());
    d.known_as = patient.known_as.clone();
    d.date_of_birth = Some(patient.date_of_birth);
    d.sex = Some(Sex::from_wire(&patient.sex));
    d.english_speaker = Some(YesNo::Unknown);
    d.address = Some(address_of(&patient.address));
    d.home_telephone = Some(patient.home_telephone.clone());
    d.work_telephone = Some(patient.work_telephone.clone());
    d.mobile_telephone = Some(patient.mobile_telephone.clone());
    d.alternate_telephone = Some(patient.alternate_telephone.clone());
    d.email_address = Some(patient.email_address.clone());
    d.sms_consent = Some(if patient.sms_consent {
        YesNo::Yes
    } else {
        YesNo::No
    });
    d.usual_gp_user_name = Some(patient.usual_gp_user_name.clone());
    d.care_start_date = patient.care_start_date;
    d.registration_type = none_if_empty(&patient.registration_type);
    d
}

fn item_to_wire(item: &JournalItem) -> DataItem {
    match item {
        JournalItem::Narrative { lines } => {
            DataItem::Narrative(api::record::Narrative::new(lines.iter().cloned()))
        }
        JournalItem::ClinicalCode {
            scheme,
            code,
            term,
            free_text,
            value,
            units,
        } => {
            let mut wire_code = Code::new(CodeScheme::from_wire(scheme), code.clone());
            if !term.is_empty() {
                wire_code = wire_code.with_term(term.clone());
            }
            let mut coded = api::record::ClinicalCode::new(wire_code);
            coded.free_text = none_if_empty(free_text);
            coded.value.clone_from(value);
            coded.units.clone_from(units);
            DataItem::ClinicalCode(coded)
        }
        JournalItem::Attachment {
            source,
            comments,
            document_uid,
        } => {
            let mut attachment = api::record::Attachment::default();
            let file_name = source
                .rsplit(['\\', '/'])
                .next()
                .unwrap_or(source.as_str())
                .to_owned();
            attachment.file_name = Some(file_name);
            attachment.document_uid =
                (!document_uid.is_empty()).then(|| DocumentUid::new(document_uid.clone()));
            attachment.comments = none_if_empty(comments);
            DataItem::Attachment(attachment)
        }
        JournalItem::Other { element, summary } => {
            let mut raw = api::RawElement::new(element.clone());
            raw.text.clone_from(summary);
            DataItem::Other(raw)
        }
    }
}

fn item_from_wire(item: &DataItem, state: &mut OrgState) -> JournalItem {
    match item {
        DataItem::Narrative(n) => JournalItem::Narrative {
            lines: n.lines.clone(),
        },
        DataItem::ClinicalCode(c) => JournalItem::ClinicalCode {
            scheme: c.code.scheme.as_str().to_owned(),
            code: c.code.code.clone(),
            term: c.code.term.clone().unwrap_or_default(),
            free_text: c.free_text.clone().unwrap_or_default(),
            value: c.value.clone(),
            units: c.units.clone(),
        },
        DataItem::Attachment(a) => JournalItem::Attachment {
            source: a
                .document_path
                .clone()
                .or_else(|| a.url.clone())
                .unwrap_or_default(),
            comments: a.comments.clone().unwrap_or_default(),
            document_uid: state.allocate_uid(),
        },
        DataItem::Other(raw) => JournalItem::Other {
            element: raw.name.clone(),
            summary: raw.text.trim().to_owned(),
        },
        other => JournalItem::Other {
            element: other.element_name().to_owned(),
            summary: summary_of(other),
        },
    }
}

/// A one-line summary of a data item the journal model does not type.
fn summary_of(item: &DataItem) -> String {
    let join = |parts: &[Option<&str>]| {
        parts
            .iter()
            .flatten()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    };
    match item {
        DataItem::Medication(m) => join(&[
            m.drug
                .as_ref()
                .map(|d| d.name.as_deref().unwrap_or(d.product_id.as_str())),
            m.dose.as_deref(),
            m.quantity.as_deref(),
        ]),
        DataItem::Vaccination(v) => join(&[v.name.as_deref(), v.batch_number.as_deref()]),
        DataItem::Recall(r) => join(&[r.recall_type.as_deref(), r.free_text.as_deref()]),
        DataItem::Reminder(r) => join(&[r.free_text.as_deref()]),
        DataItem::Letter(l) => join(&[l.letter_type.as_deref(), l.document_path.as_deref()]),
        DataItem::Activity(a) => join(&[a.performed.as_deref(), a.with.as_deref()]),
        _ => String::new(),
    }
}

fn event_to_wire(event: &JournalEvent, state: &OrgState) -> api::record::Event {
    let mut wire = api::record::Event::new(event.items.iter().map(item_to_wire).collect());
    wire.date_time = Some(event.date_time);
    wire.user_name = Some(event.author.clone());
    wire.done_by = event.done_by_text.clone().or_else(|| {
        state
            .user(&event.author)
            .map(crate::model::User::display_name)
    });
    wire.done_at.clone_from(&event.done_at);
    wire.method.clone_from(&event.method);
    wire.software.clone_from(&event.software);
    wire.event_uid = Some(EventUid::new(event.event_uid.clone()));
    wire
}

fn task_to_wire(task: &crate::model::Task) -> NonClinicalItem {
    let mut wire = api::record::Task::new(task.task_type.clone(), task.content.clone());
    wire.task_uid = Some(TaskUid::new(task.task_uid.clone()));
    wire.date_time = Some(task.date_time);
    wire.status = Some(task.status.clone());
    wire.due = task.due;
    wire.user_name_assigned.clone_from(&task.user_name_assigned);
    wire.group_name_assigned
        .clone_from(&task.group_name_assigned);
    wire.team_name_assigned.clone_from(&task.team_name_assigned);
    NonClinicalItem::Task(wire)
}

fn appointment_to_wire(a: &crate::model::Appointment, state: &OrgState) -> NonClinicalItem {
    let mut wire = api::record::Appointment::default();
    wire.appointment_uid = Some(AppointmentUid::new(a.appointment_uid.clone()));
    wire.date_time = Some(a.date_time);
    wire.duration = Some(a.duration_minutes);
    wire.clinician = state
        .user(&a.user_name)
        .map(crate::model::User::display_name);
    wire.user_name = Some(a.user_name.clone());
    wire.site = Some(a.site_name.clone());
    wire.clinic_type = Some(a.clinic_type.clone());
    wire.status = Some(api::record::AppointmentStatus::from_wire(&a.status));
    wire.comments = none_if_empty(&a.comments);
    NonClinicalItem::Appointment(wire)
}

fn run(
    gateway: &Gateway,
    request: &Request,
    mut ctx: WriteContext,
    exit: &mut Option<bool>,
) -> Result<Response, Refusal> {
    let org = &gateway.org;
    match request {
        Request::GetFunctions(_) => {
            let mut response = api::get_functions::v1::Response::default();
            response.functions = api::all_functions()
                .map(|m| {
                    api::get_functions::v1::SupportedFunction::new(
                        m.name(),
                        vec![m.version.to_owned()],
                    )
                })
                .collect();
            Ok(response.into())
        }
        Request::GetOrganisationMetaData(r) => {
            Ok(organisation_meta_data(gateway, &org.lock(), r.logged_on_user_only).into())
        }
        Request::GetCurrentActivity(_) => {
            let state = org.lock();
            let mut response = api::get_current_activity::v1::Response::default();
            match behaviour::open_in(&state, gateway.id).and_then(|n| state.patient(&n)) {
                Some(patient) => {
                    response.identity = Some(identity_of(patient));
                    response.activities =
                        vec!["Patient Actions".to_owned(), "Patient Record".to_owned()];
                }
                None => {
                    response.activities = vec!["Navigation Actions".to_owned()];
                }
            }
            response.current_selection =
                Some(api::get_current_selection::v1::CurrentSelection::default());
            Ok(response.into())
        }
        Request::GetCurrentSelection(_) => {
            let state = org.lock();
            let mut response = api::get_current_selection::v1::Response::default();
            response.identity = behaviour::open_in(&state, gateway.id)
                .and_then(|n| state.patient(&n))
                .map(identity_of);
            Ok(response.into())
        }
        Request::PatientSearch(r) => {
            let state = org.lock();
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
                    result.address = (p.address != crate::model::Address::default())
                        .then(|| address_of(&p.address));
                    result
                })
                .collect();
            Ok(response.into())
        }
        Request::GetPatientRecord(r) => {
            let mut state = org.lock();
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
        Request::UpdatePatientRecord(r) => {
            ctx.leave_open = r.leave_record_open;
            let mut state = org.lock();
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
        Request::GetDocument(r) => {
            let mut state = org.lock();
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
        Request::DeletePatientRecord(r) => {
            ctx.leave_open = r.leave_record_open;
            let mut state = org.lock();
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
        Request::GetAppointmentSlots(r) => {
            let state = org.lock();
            let within = |t: chrono::NaiveDateTime| {
                r.min_date_time.is_none_or(|m| t >= m) && r.max_date_time.is_none_or(|m| t <= m)
            };
            let any =
                |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
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
        Request::GetDiary(r) => {
            let state = org.lock();
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
        Request::ExitClient(r) => {
            *exit = Some(r.restart);
            Ok(api::exit_client::v1::Response::default().into())
        }
        Request::DataExtract(r) => {
            if r.directory.trim().is_empty() || r.name.trim().is_empty() {
                return Err(Refusal::permanent(
                    "DataExtract needs a Directory and the Name of an extract",
                ));
            }
            let mut response = api::data_extract::v1::Response::default();
            response.sr_manifest_crc = Some(format!("{:08X}", crc_of(r.name.as_bytes())));
            Ok(response.into())
        }
        Request::LaunchFunctionality(r) => {
            let mut state = org.lock();
            let nhs = target_patient(&state, gateway.id, Some(&r.identity))?;
            behaviour::access_record(&mut state, gateway.id, &nhs, true, false)?;
            let mut response = api::launch_functionality::v1::Response::default();
            response.identity = state.patient(&nhs).map(identity_of);
            Ok(response.into())
        }
        Request::GetXSDFiles(r) => {
            let mut response = api::get_xsd_files::v1::Response::default();
            let _ = &r.path;
            response.files = api::all_functions()
                .map(|m| {
                    let mut file = api::get_xsd_files::v1::XsdFile::default();
                    file.function = Some(m.function.to_owned());
                    file.version = Some(m.version.to_owned());
                    file.result = Some("Success".to_owned());
                    file
                })
                .collect();
            Ok(response.into())
        }
        Request::GetReferenceData(_) => {
            let state = org.lock();
            let mut response = api::get_reference_data::v1::Response::default();
            response.units = state
                .data
                .reference_data
                .iter()
                .map(|u| {
                    let mut wire = api::get_reference_data::v1::NumericReadCodeUnits::default();
                    wire.code = Some(u.code.clone());
                    wire.units = Some(u.units.clone());
                    wire.created_date = Some(u.created_date);
                    wire
                })
                .collect();
            Ok(response.into())
        }
        Request::IsPatientRetrieved(_) => {
            let state = org.lock();
            let open = behaviour::open_in(&state, gateway.id).is_some();
            Ok(api::is_patient_retrieved::v1::Response::new(open).into())
        }
        other => Err(Refusal::permanent(format!(
            "Function {} is not supported by this client",
            other.function()
        ))),
    }
}

/// CRC-32 (IEEE), bitwise: a stable fake manifest checksum.
fn crc_of(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn organisation_meta_data(
    gateway: &Gateway,
    state: &OrgState,
    logged_on_user_only: bool,
) -> api::get_organisation_meta_data::v1::Response {
    let me = state.user(&gateway.user_name);
    let current_site = me
        .map(|u| u.site_id.clone())
        .filter(|s| !s.is_empty())
        .or_else(|| {
            state
                .data
                .sites
                .iter()
                .find(|s| s.primary)
                .map(|s| s.id.clone())
        })
        .or_else(|| state.data.sites.first().map(|s| s.id.clone()))
        .unwrap_or_default();
    let mut response = api::get_organisation_meta_data::v1::Response::default();
    for site in &state.data.sites {
        if logged_on_user_only && site.id != current_site {
            continue;
        }
        let mut wire = api::get_organisation_meta_data::v1::Site::default();
        wire.name = Some(site.name.clone());
        wire.id = Some(site.id.clone());
        wire.telephone = Some(site.telephone.clone());
        wire.fax.clone_from(&site.fax);
        wire.email.clone_from(&site.email);
        wire.address = Some(address_of(&site.address));
        wire.primary_site = site.primary;
        wire.current_site = site.id == current_site;
        response.sites.push(wire);
    }
    for user in &state.data.users {
        let current = user.user_name == gateway.user_name;
        if logged_on_user_only && !current {
            continue;
        }
        let mut wire = api::get_organisation_meta_data::v1::User::default();
        wire.title = Some(user.title.clone());
        wire.first_name = Some(user.first_name.clone());
        wire.middle_names = Some(user.middle_names.clone());
        wire.surname = Some(user.surname.clone());
        wire.user_name = Some(user.user_name.clone());
        wire.gender = Some(user.gender.clone());
        wire.role = Some(user.role.clone());
        wire.role_code = Some(user.role_code.clone());
        wire.national_id = Some(user.national_id.clone());
        wire.national_id_type = Some(user.national_id_type.clone());
        wire.access_rights.clone_from(&user.access_rights);
        wire.user_groups.clone_from(&user.groups);
        wire.teams.clone_from(&user.teams);
        wire.current_user = current;
        response.users.push(wire);
    }
    if !logged_on_user_only {
        response.slot_types.clone_from(&state.data.slot_types);
        response.clinic_types.clone_from(&state.data.clinic_types);
    }
    response
}

fn selection_of(filter: Option<&api::get_patient_record::v1::Filter>) -> RecordSelection {
    use api::get_patient_record::v1::RecordSection as S;
    let Some(filter) = filter else {
        return RecordSelection::default();
    };
    let has = |s: S| filter.sections.contains(&s);
    RecordSelection {
        filtered: true,
        demographics: has(S::Demographics),
        clinical_codes: has(S::ClinicalCodes),
        narrative: has(S::Narrative),
        attachments: has(S::Attachments),
        other_clinical: [
            S::Medication,
            S::Sensitivities,
            S::Recalls,
            S::Referrals,
            S::Relationships,
            S::Results,
            S::Vaccinations,
            S::Reminders,
            S::Activity,
            S::CarePlans,
            S::Letters,
        ]
        .into_iter()
        .any(has),
        tasks: has(S::Tasks),
        appointments: has(S::Appointments),
        min_entry: filter.min_entry_date,
        max_entry: filter.max_entry_date,
        min_effective: filter.min_effective_date,
        max_effective: filter.max_effective_date,
        done_by: filter.user_names_done_by.clone(),
        codes: filter
            .clinical_codes
            .iter()
            .chain(filter.numeric.iter())
            .cloned()
            .collect(),
    }
    .normalised()
}

fn update_of(
    r: &api::update_patient_record::v1::Request,
    state: &mut OrgState,
) -> Result<Update, Refusal> {
    let events = r
        .events
        .iter()
        .map(|e| NewEvent {
            date_time: e.date_time,
            user_name: e.user_name.clone(),
            done_by: e.done_by.clone(),
            done_at: e.done_at.clone(),
            method: e.method.clone(),
            items: e.items.iter().map(|i| item_from_wire(i, state)).collect(),
        })
        .collect();
    let mut tasks = Vec::new();
    let mut appointments = Vec::new();
    for item in &r.non_clinical {
        match item {
            NonClinicalItem::Task(t) => tasks.push(NewTask {
                task_uid: t.task_uid.as_ref().map(|u| u.as_str().to_owned()),
                task_type: t.task_type.clone(),
                content: t.content.clone(),
                due: t.due,
                user_name_assigned: t.user_name_assigned.clone(),
                group_name_assigned: t.group_name_assigned.clone(),
                team_name_assigned: t.team_name_assigned.clone(),
            }),
            NonClinicalItem::Appointment(a) => {
                let clinic = a.clinic.as_ref();
                let slot = clinic.and_then(|c| c.slots.first());
                appointments.push(NewAppointment {
                    appointment_uid: a.appointment_uid.as_ref().map(|u| u.as_str().to_owned()),
                    user_name: clinic.and_then(|c| c.user_name.clone()),
                    site_name: clinic.and_then(|c| c.site_name.clone()),
                    clinic_type: clinic.and_then(|c| c.clinic_type.clone()),
                    slot_type: slot.and_then(|s| s.slot_type.clone()),
                    start: slot.and_then(|s| s.date_time_start),
                    status: a.status.as_ref().map(|s| s.as_str().to_owned()),
                    comments: a.comments.clone(),
                });
            }
            NonClinicalItem::Visit(_) => {
                return Err(Refusal::permanent(
                    "Visits are not supported by this simulated client",
                ));
            }
            other => {
                let name = match other {
                    NonClinicalItem::Other(raw) => raw.name.clone(),
                    _ => "item".to_owned(),
                };
                return Err(Refusal::permanent(format!(
                    "Unknown NonClinical item '{name}'"
                )));
            }
        }
    }
    let mut demographics = DemographicChanges::default();
    if let Some(d) = &r.demographics {
        let mut set = |name: &str, value: &Option<String>| {
            if let Some(v) = value {
                demographics.fields.push((name.to_owned(), v.clone()));
            }
        };
        set("Title", &d.title);
        set("FirstName", &d.first_name);
        set("MiddleNames", &d.middle_names);
        set("Surname", &d.surname);
        set("KnownAs", &d.known_as);
        set("HomeTelephone", &d.home_telephone);
        set("WorkTelephone", &d.work_telephone);
        set("MobileTelephone", &d.mobile_telephone);
        set("AlternateTelephone", &d.alternate_telephone);
        set("EmailAddress", &d.email_address);
        set("UsualGPUserName", &d.usual_gp_user_name);
        set(
            "SMSConsent",
            &d.sms_consent.as_ref().map(|v| v.as_str().to_owned()),
        );
        if let Some(a) = &d.address {
            set("Address/HouseName", &a.house_name);
            set("Address/HouseNumber", &a.house_number);
            set("Address/Road", &a.road);
            set("Address/Locality", &a.locality);
            set("Address/Town", &a.town);
            set("Address/County", &a.county);
            set("Address/Postcode", &a.postcode);
        }
    }
    Ok(Update {
        events,
        tasks,
        appointments,
        demographics,
    })
}
