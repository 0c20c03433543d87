//! Function metadata: wire names, versions, whether a function writes, and throttle classes.

use std::time::Duration;

use crate::error::Error;

nhs_identifiers::open_enum! {
    /// A Client Integration function, by its exact (case-sensitive) wire name.
    pub enum FunctionName {
        /// `GetFunctions`
        GetFunctions = "GetFunctions",
        /// `GetOrganisationMetaData` (capital D)
        GetOrganisationMetaData = "GetOrganisationMetaData",
        /// `GetCurrentActivity`
        GetCurrentActivity = "GetCurrentActivity",
        /// `GetCurrentSelection`
        GetCurrentSelection = "GetCurrentSelection",
        /// `PatientSearch`
        PatientSearch = "PatientSearch",
        /// `GetPatientRecord`
        GetPatientRecord = "GetPatientRecord",
        /// `UpdatePatientRecord`
        UpdatePatientRecord = "UpdatePatientRecord",
        /// `GetDocument`
        GetDocument = "GetDocument",
        /// `DeletePatientRecord` (the spec's prose calls it DeleteFromPatientRecord)
        DeletePatientRecord = "DeletePatientRecord",
        /// `GetAppointmentSlots`
        GetAppointmentSlots = "GetAppointmentSlots",
        /// `GetDiary`
        GetDiary = "GetDiary",
        /// `ExitClient`
        ExitClient = "ExitClient",
        /// `DataExtract`
        DataExtract = "DataExtract",
        /// `LaunchFunctionality`
        LaunchFunctionality = "LaunchFunctionality",
        /// `GetXSDFiles`
        GetXSDFiles = "GetXSDFiles",
        /// `GetReferenceData`
        GetReferenceData = "GetReferenceData",
        /// `IsPatientRetrieved`
        IsPatientRetrieved = "IsPatientRetrieved",
    }
}

/// Static facts about one function version (ruma-style endpoint metadata).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metadata {
    /// Wire name (`Function`).
    pub function: &'static str,
    /// `FunctionVersion` sent (every function is at `1.0`).
    pub version: &'static str,
    /// Whether the function changes the patient record or the client (writes are not
    /// idempotent: do not blindly resend after a timeout).
    pub writes: bool,
    /// Whether it is a "patient-record function" sharing the `LeaveRecordOpen` semantics.
    pub patient_record: bool,
    /// The function's own minimum gap between sends, on top of the whole-client 1 s
    /// (`GetPatientRecord`: 30 s, with exemptions decided per request).
    pub default_limit: Option<Duration>,
}

impl Metadata {
    /// The function as a [`FunctionName`].
    pub fn name(&self) -> FunctionName {
        FunctionName::from_wire(self.function)
    }

    /// The throttle class of this function's requests before any per-request exemption
    /// ([`crate::Request::throttle_class`] applies those, e.g. a demographics-only
    /// `GetPatientRecord` is [`ThrottleClass::ClientOnly`]).
    pub fn default_throttle_class(&self) -> ThrottleClass {
        ThrottleClass::Function(self.name())
    }

    /// Whether TPP limits this function beyond the whole-client 1 request/s by default.
    pub fn is_throttled_by_default(&self) -> bool {
        self.default_limit.is_some()
    }

    /// Whether a received `FunctionVersion` is this version (`1`, `1.0`, `1.00` all match 1.0).
    pub fn accepts_version(&self, received: &str) -> bool {
        fn normal(v: &str) -> &str {
            let v = v.trim();
            match v.split_once('.') {
                Some((major, minor)) if minor.bytes().all(|b| b == b'0') => major,
                _ => v,
            }
        }
        normal(received) == normal(self.version)
    }

    pub(crate) fn check_version(&self, received: &str) -> Result<(), Error> {
        if self.accepts_version(received) {
            Ok(())
        } else {
            Err(Error::UnsupportedVersion {
                function: self.function.to_owned(),
                version: received.to_owned(),
            })
        }
    }
}

/// Which throttle limits a request counts against, decided from the request itself
/// ([`crate::Request::throttle_class`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ThrottleClass {
    /// Only the whole-client limit (1 request per second): e.g. a demographics-only or
    /// entry-date-today `GetPatientRecord`.
    ClientOnly,
    /// The whole-client limit plus any limit configured for this function (by default only
    /// `GetPatientRecord` has one: 30 s).
    Function(FunctionName),
}

/// A typed request of one function version: its metadata and its typed response.
pub trait FunctionRequest: Into<crate::Request> + Sized {
    /// Wire name, version, writes?, default limit.
    const METADATA: Metadata;
    /// The typed response.
    type Response: TryFrom<crate::Response, Error = Error>;
}

/// Defines `Request` for a function that takes no parameters (an empty `FunctionParameters`).
macro_rules! parameterless_request {
    () => {
        /// No parameters.
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct Request {}

        impl Request {
            /// The request.
            pub fn new() -> Self {
                Self {}
            }

            pub(crate) fn validate(&self) -> Result<(), crate::error::Error> {
                Ok(())
            }

            pub(crate) fn write_params(&self, _w: &mut crate::xml::Writer) {}

            pub(crate) fn read_params(
                _el: crate::xml::Element<'_, '_>,
            ) -> Result<Self, crate::error::Error> {
                Ok(Self {})
            }
        }
    };
}
pub(crate) use parameterless_request;
