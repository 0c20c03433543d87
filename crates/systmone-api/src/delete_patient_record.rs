//! `DeletePatientRecord` (the spec's prose: DeleteFromPatientRecord): delete data this
//! software added (reference §8.9). Deleting several items is all-or-nothing.

/// Version 1.0.
pub mod v1 {
    use crate::error::Error;
    use crate::function::Metadata;
    use crate::redact::debug_redacted;
    use crate::types::{
        AppointmentUid, EventUid, Identity, PatientId, RecordState, TaskUid, VisitUid,
    };
    use crate::xml::{Element, Writer};

    /// `DeletePatientRecord` 1.0.
    pub const METADATA: Metadata = Metadata {
        function: "DeletePatientRecord",
        version: "1.0",
        writes: true,
        patient_record: true,
        default_limit: None,
    };

    /// `DeletePatientRecord` parameters. `Debug` shows the length of `Reason`, not its text.
    #[derive(Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Request {
        /// `Identity` (may be left out only with `LeaveRecordOpen`, acting on the open record).
        pub identity: Option<PatientId>,
        /// `Reason`: required, non-empty.
        pub reason: String,
        /// `EventUID*`
        pub event_uids: Vec<EventUid>,
        /// `AppointmentUID*`
        pub appointment_uids: Vec<AppointmentUid>,
        /// `TaskUID*`
        pub task_uids: Vec<TaskUid>,
        /// `VisitUID*`
        pub visit_uids: Vec<VisitUid>,
        /// `LeaveRecordOpen` flag.
        pub leave_record_open: bool,
    }

    debug_redacted!(Request {
        identity,
        reason: redacted,
        event_uids,
        appointment_uids,
        task_uids,
        visit_uids,
        leave_record_open,
    });

    impl Request {
        /// Deletes one event.
        pub fn event(
            identity: impl Into<PatientId>,
            event_uid: EventUid,
            reason: impl Into<String>,
        ) -> Self {
            Self {
                identity: Some(identity.into()),
                reason: reason.into(),
                event_uids: vec![event_uid],
                appointment_uids: Vec::new(),
                task_uids: Vec::new(),
                visit_uids: Vec::new(),
                leave_record_open: false,
            }
        }

        /// Deletes nothing yet; add UIDs to the public fields.
        pub fn new(identity: impl Into<PatientId>, reason: impl Into<String>) -> Self {
            Self {
                identity: Some(identity.into()),
                reason: reason.into(),
                event_uids: Vec::new(),
                appointment_uids: Vec::new(),
                task_uids: Vec::new(),
                visit_uids: Vec::new(),
                leave_record_open: false,
            }
        }

        pub(crate) fn validate(&self) -> Result<(), Error> {
            let invalid = |reason| Error::InvalidRequest {
                function: METADATA.function,
                reason,
            };
            if self.reason.trim().is_empty() {
                return Err(invalid("Reason must not be empty"));
            }
            if self.event_uids.is_empty()
                && self.appointment_uids.is_empty()
                && self.task_uids.is_empty()
                && self.visit_uids.is_empty()
            {
                return Err(invalid("at least one UID to delete is required"));
            }
            if self.identity.is_none() && !self.leave_record_open {
                return Err(invalid(
                    "Identity is required unless LeaveRecordOpen is set",
                ));
            }
            Ok(())
        }

        pub(crate) fn write_params(&self, w: &mut Writer) {
            if let Some(id) = &self.identity {
                id.write_identity(w);
            }
            for u in &self.event_uids {
                w.elem("EventUID", u.as_str());
            }
            for u in &self.appointment_uids {
                w.elem("AppointmentUID", u.as_str());
            }
            for u in &self.task_uids {
                w.elem("TaskUID", u.as_str());
            }
            for u in &self.visit_uids {
                w.elem("VisitUID", u.as_str());
            }
            w.elem("Reason", &self.reason);
            w.flag("LeaveRecordOpen", self.leave_record_open);
        }

        pub(crate) fn read_params(el: Element<'_, '_>) -> Result<Self, Error> {
            let uids = |name: &str| -> Vec<String> {
                el.children_named(name)
                    .map(|c| c.text().trim().to_owned())
                    .collect()
            };
            Ok(Self {
                identity: PatientId::optional_in(el)?,
                reason: el.child_text("Reason").unwrap_or_default(),
                event_uids: uids("EventUID").into_iter().map(EventUid::from).collect(),
                appointment_uids: uids("AppointmentUID")
                    .into_iter()
                    .map(AppointmentUid::from)
                    .collect(),
                task_uids: uids("TaskUID").into_iter().map(TaskUid::from).collect(),
                visit_uids: uids("VisitUID").into_iter().map(VisitUid::from).collect(),
                leave_record_open: el.has("LeaveRecordOpen"),
            })
        }
    }

    /// `Identity` and `RecordState`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Response {
        /// `Identity`
        pub identity: Option<Identity>,
        /// `RecordState`
        pub record_state: Option<RecordState>,
    }

    impl Response {
        pub(crate) fn write_body(&self, w: &mut Writer) {
            if let Some(identity) = &self.identity {
                identity.write(w);
            }
            w.opt(
                "RecordState",
                self.record_state.as_ref().map(RecordState::as_str),
            );
        }

        pub(crate) fn read_body(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                identity: Identity::optional_in(el)?,
                record_state: el
                    .child("RecordState")
                    .map(|s| RecordState::from_wire(s.text().trim())),
            })
        }
    }
}
