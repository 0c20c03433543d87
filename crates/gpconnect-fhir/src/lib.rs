//! GP Connect Send Document and Transfer of Care payloads (FHIR STU3, ITK3 messaging).
//!
//! A ward hub or social-prescribing platform sends a document to the patient's GP practice over
//! MESH. This crate builds the ITK3 message bundle from plain Rust inputs, tells you the MESH
//! fields to send it with, validates bundles (ours or anyone's) against the NHS profile rules,
//! builds and reads the ITK3 acknowledgements, and writes/reads FHIR XML.
//!
//! ```
//! use chrono::{NaiveDate, TimeZone, Utc};
//! use gpconnect_fhir::{AttachmentData, OrganisationDetails, PatientDetails, SendDocument,
//!     SequentialIds, validate_bundle};
//! use nhs_identifiers::{NhsNumber, OdsCode};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let patient = PatientDetails::new(NhsNumber::fictitious(1), "Testpatient", ["Jo"],
//!     NaiveDate::from_ymd_opt(1970, 1, 1).ok_or("date")?);
//! let sender = OrganisationDetails::new(OdsCode::try_from("X26")?, "Example Ward Hub");
//! let at = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).single().ok_or("time")?;
//! let message = SendDocument::new(patient, sender, "X26OT001", "Consultation report", at)
//!     .attachment(AttachmentData::text("Consultation note", "Seen today."))
//!     .build(&mut SequentialIds::new(1))?;   // production: your UUID v4 source
//! assert!(validate_bundle(&message.bundle).is_valid());
//! assert_eq!(message.mesh.workflow_id, "GPCONNECT_SEND_DOCUMENT");
//! let body = message.to_json()?;               // or message.to_xml()?
//! # let _ = body; Ok(()) }
//! ```
//!
//! Modules: [`send_document`] (ITK007C) and [`discharge`] (ITK004D) builders over a shared ITK3
//! envelope; [`clinical`] (the discharge's coded content: diagnoses, allergies, medications,
//! procedures, care contacts, and SNOMED CT / dm+d identifier checks); [`handling`] (the six handling keys); [`mesh`] (workflow ids, `GPPROVIDER_`
//! address, subject); [`response`] (ITK008M acknowledgements); [`validate`] (findings with
//! severity, FHIRPath-like location and ITK3 response code); [`xml`] (FHIR XML writer/reader);
//! [`json`]; [`codes`] (URLs and the ITK code lists as enums); [`model`] (inputs); [`ids`].
//!
//! The library is sans-IO: it never reads the clock or a random source. Timestamps are
//! parameters and ids come from an injected [`IdGenerator`]. Where the current Send Document
//! guide (Simplifier 1.3.2) and the older gpconnect-messaging site differ, the current one is the
//! default and [`GuideVersion`] selects the other; inferred choices are options too.

#![warn(missing_docs)]

pub mod clinical;
pub mod codes;
pub mod discharge;
mod envelope;
pub mod error;
mod fhir;
pub mod handling;
pub mod ids;
pub mod json;
pub mod mesh;
pub mod model;
pub mod response;
mod section;
pub mod send_document;
pub mod validate;
pub mod xml;

pub use clinical::{
    Allergies, Allergy, CareContact, Coded, DataDictionaryCode, Diagnosis, JobRole,
    LocationDetails, MedicationChange, MedicationItem, ProcedureItem, SnomedCode,
};
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
pub use validate::{
    Finding, Severity, ValidationReport, check_gpprovider_address, validate_bundle, validate_json,
};
