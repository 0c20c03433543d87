//! `GetDocument`: make the client write a letter's or attachment's file into a directory on
//! its own machine (reference §8.8). Files travel through the Gateway PC's filesystem.

/// Version 1.0.
pub mod v1 {
    use crate::error::Error;
    use crate::function::Metadata;
    use crate::redact::debug_redacted;
    use crate::types::{DocumentUid, PatientId, RecordState};
    use crate::xml::{Element, Writer};

    /// `GetDocument` 1.0.
    pub const METADATA: Metadata = Metadata {
        function: "GetDocument",
        version: "1.0",
        writes: false,
        patient_record: true,
        default_limit: None,
    };

    /// Parameters.
    #[derive(Clone, Debug, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Request {
        /// `Identity`
        pub identity: PatientId,
        /// `DocumentUID`
        pub document_uid: DocumentUid,
        /// `WriteTo`: an existing, writable directory on the SystmOne client's machine.
        pub write_to: String,
        /// `LeaveRecordOpen` flag.
        pub leave_record_open: bool,
    }

    impl Request {
        /// Fetch one document into a directory.
        pub fn new(
            identity: impl Into<PatientId>,
            document_uid: DocumentUid,
            write_to: impl Into<String>,
        ) -> Self {
            Self {
                identity: identity.into(),
                document_uid,
                write_to: write_to.into(),
                leave_record_open: false,
            }
        }

        pub(crate) fn validate(&self) -> Result<(), Error> {
            if self.write_to.trim().is_empty() {
                return Err(Error::InvalidRequest {
                    function: METADATA.function,
                    reason: "WriteTo must name a directory",
                });
            }
            Ok(())
        }

        pub(crate) fn write_params(&self, w: &mut Writer) {
            self.identity.write_identity(w);
            w.elem("DocumentUID", self.document_uid.as_str());
            w.elem("WriteTo", &self.write_to);
            w.flag("LeaveRecordOpen", self.leave_record_open);
        }

        pub(crate) fn read_params(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                identity: PatientId::require_in(el)?,
                document_uid: DocumentUid::new(el.require_text("DocumentUID")?.trim()),
                write_to: el.child_text("WriteTo").unwrap_or_default(),
                leave_record_open: el.has("LeaveRecordOpen"),
            })
        }
    }

    /// The files written. `Debug` shows how many paths and their lengths, not the paths (a
    /// file name may name the patient).
    #[derive(Clone, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Response {
        /// `DocumentFile+`: paths written (several for a document stored as images).
        pub document_files: Vec<String>,
        /// `RecordState`
        pub record_state: Option<RecordState>,
    }

    debug_redacted!(Response {
        document_files: redacted,
        record_state,
    });

    impl Response {
        pub(crate) fn write_body(&self, w: &mut Writer) {
            w.each("DocumentFile", &self.document_files);
            w.opt(
                "RecordState",
                self.record_state.as_ref().map(RecordState::as_str),
            );
        }

        pub(crate) fn read_body(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                document_files: el.texts("DocumentFile"),
                record_state: el
                    .child("RecordState")
                    .map(|s| RecordState::from_wire(s.text().trim())),
            })
        }
    }
}
