//! `UpdatePatientRecord`: add clinical or non-clinical data, change demographics (reference
//! §9). Writes are not idempotent: store the returned UIDs, and check before resending after a
//! timeout.

/// Version 1.0.
pub mod v1 {
    use crate::error::Error;
    use crate::function::Metadata;
    use crate::record::{Demographics, Event, NonClinicalItem};
    use crate::types::{
        AppointmentUid, EventUid, Identity, PatientId, RecordState, TaskUid, VisitUid,
    };
    use crate::xml::{Element, Writer};

    /// `UpdatePatientRecord` 1.0.
    pub const METADATA: Metadata = Metadata {
        function: "UpdatePatientRecord",
        version: "1.0",
        writes: true,
        patient_record: true,
        default_limit: None,
    };

    /// `UpdatePatientRecord` parameters.
    #[derive(Clone, Debug, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Request {
        /// `Identity`: the patient.
        pub identity: PatientId,
        /// `Demographics`: only the fields being changed.
        pub demographics: Option<Demographics>,
        /// `Clinical/Event*`
        pub events: Vec<Event>,
        /// `NonClinical` items: appointments, visits, tasks (new or updates).
        pub non_clinical: Vec<NonClinicalItem>,
        /// `LeaveRecordOpen` flag (interactive use; leave off for background writes).
        pub leave_record_open: bool,
    }

    impl Request {
        /// An update of this patient with nothing in it yet.
        pub fn new(identity: impl Into<PatientId>) -> Self {
            Self {
                identity: identity.into(),
                demographics: None,
                events: Vec::new(),
                non_clinical: Vec::new(),
                leave_record_open: false,
            }
        }

        /// Adds a journal event.
        pub fn with_event(mut self, event: Event) -> Self {
            self.events.push(event);
            self
        }

        /// Adds a non-clinical item (e.g. a [`crate::record::Task`]).
        pub fn with_non_clinical(mut self, item: impl Into<NonClinicalItem>) -> Self {
            self.non_clinical.push(item.into());
            self
        }

        /// Sets the demographic changes.
        pub fn with_demographics(mut self, demographics: Demographics) -> Self {
            self.demographics = Some(demographics);
            self
        }

        pub(crate) fn validate(&self) -> Result<(), Error> {
            if self.demographics.is_none() && self.events.is_empty() && self.non_clinical.is_empty()
            {
                return Err(Error::InvalidRequest {
                    function: METADATA.function,
                    reason: "nothing to write: no demographics, events or non-clinical items",
                });
            }
            Ok(())
        }

        pub(crate) fn write_params(&self, w: &mut Writer) {
            self.identity.write_identity(w);
            if let Some(d) = &self.demographics {
                d.write(w);
            }
            if !self.events.is_empty() {
                w.open("Clinical");
                for e in &self.events {
                    e.write(w);
                }
                w.close("Clinical");
            }
            if !self.non_clinical.is_empty() {
                w.open("NonClinical");
                for item in &self.non_clinical {
                    item.write(w);
                }
                w.close("NonClinical");
            }
            w.flag("LeaveRecordOpen", self.leave_record_open);
        }

        pub(crate) fn read_params(el: Element<'_, '_>) -> Result<Self, Error> {
            let mut events = Vec::new();
            for clinical in el.children_named("Clinical") {
                for event in clinical.children_named("Event") {
                    events.push(Event::read(event)?);
                }
            }
            let mut non_clinical = Vec::new();
            for nc in el.children_named("NonClinical") {
                non_clinical.extend(NonClinicalItem::read_all(nc)?);
            }
            Ok(Self {
                identity: PatientId::require_in(el)?,
                demographics: el
                    .child("Demographics")
                    .map(Demographics::read)
                    .transpose()?,
                events,
                non_clinical,
                leave_record_open: el.has("LeaveRecordOpen"),
            })
        }
    }

    /// The UIDs of what was written.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Response {
        /// `Identity`
        pub identity: Option<Identity>,
        /// `EventUID*` (several when one update creates several events).
        pub event_uids: Vec<EventUid>,
        /// `AppointmentUID*`
        pub appointment_uids: Vec<AppointmentUid>,
        /// `VisitUID*`
        pub visit_uids: Vec<VisitUid>,
        /// `TaskUID*`
        pub task_uids: Vec<TaskUid>,
        /// `RecordState`: `Open` means not committed until the user saves.
        pub record_state: Option<RecordState>,
    }

    impl Response {
        pub(crate) fn write_body(&self, w: &mut Writer) {
            if let Some(identity) = &self.identity {
                identity.write(w);
            }
            for u in &self.event_uids {
                w.elem("EventUID", u.as_str());
            }
            for u in &self.appointment_uids {
                w.elem("AppointmentUID", u.as_str());
            }
            for u in &self.visit_uids {
                w.elem("VisitUID", u.as_str());
            }
            for u in &self.task_uids {
                w.elem("TaskUID", u.as_str());
            }
            w.opt(
                "RecordState",
                self.record_state.as_ref().map(RecordState::as_str),
            );
        }

        pub(crate) fn read_body(el: Element<'_, '_>) -> Result<Self, Error> {
            let uids = |name: &str| -> Vec<String> {
                el.children_named(name)
                    .map(|c| c.text().trim().to_owned())
                    .collect()
            };
            Ok(Self {
                identity: Identity::optional_in(el)?,
                event_uids: uids("EventUID").into_iter().map(EventUid::from).collect(),
                appointment_uids: uids("AppointmentUID")
                    .into_iter()
                    .map(AppointmentUid::from)
                    .collect(),
                visit_uids: uids("VisitUID").into_iter().map(VisitUid::from).collect(),
                task_uids: uids("TaskUID").into_iter().map(TaskUid::from).collect(),
                record_state: el
                    .child("RecordState")
                    .map(|s| RecordState::from_wire(s.text().trim())),
            })
        }
    }
}
