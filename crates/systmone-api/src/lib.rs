//! Typed messages for TPP SystmOne's Client Integration API, with no IO.
//!
//! SystmOne's desktop client listens on `localhost:40700` for newline-framed XML documents
//! (`ClientIntegrationRequest` / `ClientIntegrationResponse`). This crate holds the envelope,
//! one module per wire function (with a version submodule), the quick-xml codec, the streaming
//! framer and the throttle policy (1 request/s per client, `GetPatientRecord` 1 per 30 s with
//! exemptions). It never opens a socket and never reads a clock: the IO lives in
//! `systmone-client`.
//!
//! # Map
//! - [`ClientIntegrationRequest`] / [`ClientIntegrationResponse`]: the envelope and the codec
//!   (`encode` / `decode` on each, both directions).
//! - [`Request`] / [`Response`]: every function type-erased; `From`/`TryFrom` to the typed
//!   `<function>::v1::Request` / `Response`; [`FunctionRequest`] ties them together with
//!   [`Metadata`].
//! - One module per wire function (`get_patient_record::v1`, `update_patient_record::v1`, …);
//!   shared record building blocks in [`record`]; dates in [`date`].
//! - [`Framer`]: cuts a byte stream into messages. [`Throttle`]: "send now" or "wait this long".
//! - [`Error`]: one error type; [`Error::is_retryable`] says whether resending can help.
//!
//! # Client side
//! ```
//! use systmone_api::{ApiKey, ClientIntegrationRequest, ClientIntegrationResponse, DeviceId,
//!     EncodeOptions, RequestHeader, RequestUid, get_patient_record};
//! use nhs_identifiers::NhsNumber;
//!
//! let header = RequestHeader::new(ApiKey::new("0a1b2c3d4e5f6071"), DeviceId::unallocated(),
//!     "example 0.1", RequestUid::new("1"));
//! let request = get_patient_record::v1::Request::demographics(NhsNumber::fictitious(1));
//! let bytes = ClientIntegrationRequest::new(header, request)
//!     .encode(&EncodeOptions::default())?;
//! assert!(bytes.ends_with(b"</ClientIntegrationRequest>\n"));
//! # Ok::<(), systmone_api::Error>(())
//! ```
//!
//! # Server side
//! [`ClientIntegrationRequest::decode`] reads a request into the type-erased [`Request`];
//! [`ClientIntegrationResponse::encode`] writes a [`Response`] or a [`RemoteError`].
//!
//! # Safety of the decoder
//! Input must be UTF-8. A `<!DOCTYPE` is **rejected** ([`Error::DoctypeNotAllowed`]), so no
//! entity can be declared; only the five predefined entities and character references are
//! expanded; nesting is capped; unknown elements are ignored.

#![warn(missing_docs)]

mod codec;
pub mod date;
mod error;
mod framer;
mod function;
mod message;
mod options;
#[cfg(test)]
mod privacy_tests;
pub mod record;
mod redact;
mod throttle;
mod types;
mod xml;

pub mod data_extract;
pub mod delete_patient_record;
pub mod exit_client;
pub mod get_appointment_slots;
pub mod get_current_activity;
pub mod get_current_selection;
pub mod get_diary;
pub mod get_document;
pub mod get_functions;
pub mod get_organisation_meta_data;
pub mod get_patient_record;
pub mod get_reference_data;
pub mod get_xsd_files;
pub mod is_patient_retrieved;
pub mod launch_functionality;
pub mod patient_search;
pub mod update_patient_record;

pub use codec::{
    ClientIntegrationRequest, ClientIntegrationResponse, REQUEST_ROOT, RESPONSE_ROOT,
    ReceivedRequestHeader, RequestHeader, ResponseHeader,
};
pub use error::{Error, RemoteError};
pub use framer::{DEFAULT_MAX_MESSAGE_SIZE, Framer};
pub use function::{FunctionName, FunctionRequest, Metadata, ThrottleClass};
pub use message::{Request, Response, all_functions};
pub use options::{EncodeOptions, NhsNumberSpelling};
pub use throttle::{Limiter, Throttle, ThrottleConfig};
pub use types::{
    Address, ApiKey, AppointmentUid, Code, CodeScheme, DeviceId, DocumentUid, Drug, DrugScheme,
    EventUid, Identity, OutputScheme, PatientId, PersonName, ProblemUid, RecordState, ReferralUid,
    RequestUid, ResponseUid, Sex, TaskUid, VisitUid, YesNo,
};
pub use xml::{MAX_DEPTH, RawElement};

/// Re-exported so callers name the same clock types as [`Throttle`].
pub use governor::clock;
/// Re-exported so callers name the same NHS number type.
pub use nhs_identifiers::NhsNumber;
