//! `IsPatientRetrieved`: is a patient record open in this client? (reference §8.15). A cheap
//! check before a `GetPatientRecord` without an `Identity`.

/// Version 1.0.
pub mod v1 {
    use crate::error::Error;
    use crate::function::Metadata;
    use crate::types::opt_bool;
    use crate::xml::{Element, Writer};

    /// `IsPatientRetrieved` 1.0.
    pub const METADATA: Metadata = Metadata {
        function: "IsPatientRetrieved",
        version: "1.0",
        writes: false,
        patient_record: false,
        default_limit: None,
    };

    crate::function::parameterless_request!();

    /// Whether a record is open.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Response {
        /// `IsPatientRetrieved`
        pub is_patient_retrieved: bool,
    }

    impl Response {
        /// A response with this answer.
        pub fn new(is_patient_retrieved: bool) -> Self {
            Self {
                is_patient_retrieved,
            }
        }

        pub(crate) fn write_body(&self, w: &mut Writer) {
            w.elem(
                "IsPatientRetrieved",
                if self.is_patient_retrieved {
                    "true"
                } else {
                    "false"
                },
            );
        }

        pub(crate) fn read_body(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                is_patient_retrieved: opt_bool(el, "IsPatientRetrieved")?.unwrap_or(false),
            })
        }
    }
}
