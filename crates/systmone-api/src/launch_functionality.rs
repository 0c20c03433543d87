//! `LaunchFunctionality`: open a pre-filled SystmOne dialog for the user to complete
//! (reference §8.14, §9.7). The response confirms the dialog was shown, not completed.

/// Version 1.0.
pub mod v1 {
    use std::fmt;

    use crate::error::Error;
    use crate::function::Metadata;
    use crate::record::ProblemSeverity;
    use crate::redact::Redacted;
    use crate::types::{Code, Drug, Identity, PatientId};
    use crate::xml::{Element, Writer};

    /// `LaunchFunctionality` 1.0.
    pub const METADATA: Metadata = Metadata {
        function: "LaunchFunctionality",
        version: "1.0",
        writes: false,
        patient_record: false,
        default_limit: None,
    };

    /// The dialog to open. `Debug` shows the length of an attachment's path, not the path.
    #[derive(Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum LaunchAction {
        /// Add a CTV3 code: `ClinicalCode { Code, ProblemSeverity? }`.
        ClinicalCode {
            /// `Code`
            code: Code,
            /// `ProblemSeverity`
            problem_severity: Option<ProblemSeverity>,
        },
        /// Add acute medication: `Medication { Drug, Dose?, Quantity? }`.
        Medication {
            /// `Drug`
            drug: Drug,
            /// `Dose`
            dose: Option<String>,
            /// `Quantity`
            quantity: Option<String>,
        },
        /// Add a file attachment: `Attachment { DocumentPath }`.
        Attachment {
            /// `DocumentPath`
            document_path: String,
        },
    }

    impl fmt::Debug for LaunchAction {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                LaunchAction::ClinicalCode {
                    code,
                    problem_severity,
                } => f
                    .debug_struct("ClinicalCode")
                    .field("code", code)
                    .field("problem_severity", problem_severity)
                    .finish(),
                LaunchAction::Medication {
                    drug,
                    dose,
                    quantity,
                } => f
                    .debug_struct("Medication")
                    .field("drug", drug)
                    .field("dose", dose)
                    .field("quantity", quantity)
                    .finish(),
                LaunchAction::Attachment { document_path } => f
                    .debug_struct("Attachment")
                    .field("document_path", &Redacted(document_path))
                    .finish_non_exhaustive(),
            }
        }
    }

    /// Parameters.
    #[derive(Clone, Debug, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Request {
        /// `Identity` (the record is opened if it is not already).
        pub identity: PatientId,
        /// The dialog; `None` just opens the record.
        pub action: Option<LaunchAction>,
    }

    impl Request {
        /// Open the record, optionally with a dialog.
        pub fn new(identity: impl Into<PatientId>, action: Option<LaunchAction>) -> Self {
            Self {
                identity: identity.into(),
                action,
            }
        }

        pub(crate) fn validate(&self) -> Result<(), Error> {
            Ok(())
        }

        pub(crate) fn write_params(&self, w: &mut Writer) {
            self.identity.write_identity(w);
            match &self.action {
                Some(LaunchAction::ClinicalCode {
                    code,
                    problem_severity,
                }) => {
                    w.open("ClinicalCode");
                    code.write(w);
                    w.opt(
                        "ProblemSeverity",
                        problem_severity.as_ref().map(ProblemSeverity::as_str),
                    );
                    w.close("ClinicalCode");
                }
                Some(LaunchAction::Medication {
                    drug,
                    dose,
                    quantity,
                }) => {
                    w.open("Medication");
                    drug.write(w);
                    w.opt("Dose", dose.as_deref());
                    w.opt("Quantity", quantity.as_deref());
                    w.close("Medication");
                }
                Some(LaunchAction::Attachment { document_path }) => {
                    w.open("Attachment");
                    w.elem("DocumentPath", document_path);
                    w.close("Attachment");
                }
                None => {}
            }
        }

        pub(crate) fn read_params(el: Element<'_, '_>) -> Result<Self, Error> {
            let action = if let Some(c) = el.child("ClinicalCode") {
                Some(LaunchAction::ClinicalCode {
                    code: Code::read(c.require("Code")?)?,
                    problem_severity: c
                        .child("ProblemSeverity")
                        .map(|s| ProblemSeverity::from_wire(s.text().trim())),
                })
            } else if let Some(m) = el.child("Medication") {
                Some(LaunchAction::Medication {
                    drug: Drug::read(m.require("Drug")?)?,
                    dose: m.child_text("Dose"),
                    quantity: m.child_text("Quantity"),
                })
            } else {
                el.child("Attachment").map(|a| LaunchAction::Attachment {
                    document_path: a.child_text("DocumentPath").unwrap_or_default(),
                })
            };
            Ok(Self {
                identity: PatientId::require_in(el)?,
                action,
            })
        }
    }

    /// `Identity` only.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    #[non_exhaustive]
    pub struct Response {
        /// `Identity`
        pub identity: Option<Identity>,
    }

    impl Response {
        pub(crate) fn write_body(&self, w: &mut Writer) {
            if let Some(i) = &self.identity {
                i.write(w);
            }
        }

        pub(crate) fn read_body(el: Element<'_, '_>) -> Result<Self, Error> {
            Ok(Self {
                identity: Identity::optional_in(el)?,
            })
        }
    }
}
