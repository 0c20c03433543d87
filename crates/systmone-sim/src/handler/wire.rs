//! Conversions between the simulator's model ([`crate::model`], [`crate::behaviour`]) and the
//! `systmone-api` wire types, and the patient a request is about.

use nhs_identifiers::NhsNumber;
use systmone_api as api;
use systmone_api::record::{DataItem, NonClinicalItem};
use systmone_api::{
    AppointmentUid, Code, CodeScheme, DocumentUid, EventUid, Identity, PatientId, Sex, TaskUid,
    YesNo,
};

use crate::behaviour::{
    self, DemographicChanges, NewAppointment, NewEvent, NewTask, RecordSelection, RecordState,
    Refusal, Update,
};
use crate::model::{JournalEvent, JournalItem, Patient};
use crate::organisation::OrgState;

pub(super) fn record_state(state: RecordState) -> api::RecordState {
    match state {
        RecordState::Open => api::RecordState::Open,
        RecordState::Closed => api::RecordState::Closed,
    }
}

pub(super) fn nhs_of(id: &PatientId) -> Result<NhsNumber, Refusal> {
    id.nhs_number().copied().ok_or_else(Refusal::no_patient)
}

/// The patient a patient-record function is about: the `Identity`, or else the record open in
/// this gateway.
pub(super) fn target_patient(
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

pub(super) fn identity_of(patient: &Patient) -> Identity {
    let mut identity = Identity::new(patient.nhs_number);
    identity.strategic_reporting_identifier = Some(patient.strategic_reporting_id.clone());
    identity
}

pub(super) fn none_if_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

pub(super) fn address_of(a: &crate::model::Address) -> api::Address {
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

pub(super) fn demographics_of(patient: &Patient) -> api::record::Demographics {
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

pub(super) fn item_to_wire(item: &JournalItem) -> DataItem {
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

pub(super) fn item_from_wire(item: &DataItem, state: &mut OrgState) -> JournalItem {
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
pub(super) fn summary_of(item: &DataItem) -> String {
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

pub(super) fn event_to_wire(event: &JournalEvent, state: &OrgState) -> api::record::Event {
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

pub(super) fn task_to_wire(task: &crate::model::Task) -> NonClinicalItem {
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

pub(super) fn appointment_to_wire(
    a: &crate::model::Appointment,
    state: &OrgState,
) -> NonClinicalItem {
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

pub(super) fn selection_of(
    filter: Option<&api::get_patient_record::v1::Filter>,
) -> RecordSelection {
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

pub(super) fn update_of(
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
