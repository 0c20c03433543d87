//! GP Connect Send Document and Transfer of Care payloads (FHIR STU3, ITK3 messaging).
//!
//! Builders for ITK3 message bundles (Send Document, ITK007C; mental health discharge, ITK004D)
//! on `fhir-model` (STU3 only), a validator for the NHS profile rules, ITK3 acknowledgements and
//! a FHIR XML writer, plus the MESH routing fields each message implies.
//!
//! The library is sans-IO: it never reads the clock or a random source. Timestamps are
//! parameters and ids come from an injected [`IdGenerator`].

#![warn(missing_docs)]

pub mod codes;
pub mod discharge;
mod envelope;
pub mod error;
mod fhir;
pub mod handling;
pub mod ids;
pub mod mesh;
pub mod model;
pub mod response;
pub mod send_document;
pub mod validate;
pub mod xml;

pub use codes::{GuideVersion, MessageEvent, RecipientType, ResponseCode};
pub use discharge::{DischargeOptions, EncounterDetails, MentalHealthDischarge, MhSection};
pub use envelope::ItkMessage;
pub use error::{Error, Result};
pub use fhir_model;
pub use handling::MessageHandling;
pub use ids::{IdGenerator, SequentialIds, Uuid};
pub use mesh::{DobFormat, MeshRouting};
pub use model::{AttachmentData, Gender, OrganisationDetails, PatientDetails, PractitionerDetails};
pub use response::{ItkResponse, ReceivedResponse, Responder};
pub use send_document::{SendDocument, SendDocumentOptions};
pub use validate::{Finding, Severity, ValidationReport, validate_bundle, validate_json};
