//! The type-erased [`Request`] and [`Response`] over every function, for the server side
//! (decode any request, answer with any response) and for queues.

use chrono::NaiveDate;

use crate::error::Error;
use crate::function::{FunctionName, FunctionRequest, Metadata, ThrottleClass};
use crate::xml::{Element, Writer};

macro_rules! functions {
    ($($variant:ident => $module:ident),* $(,)?) => {
        /// A request of any function, with its typed parameters.
        #[derive(Clone, Debug, PartialEq, Eq)]
        #[non_exhaustive]
        #[allow(clippy::large_enum_variant)]
        pub enum Request {
            $(
                #[doc = concat!("`", stringify!($variant), "` (see [`crate::", stringify!($module), "`]).")]
                $variant(crate::$module::v1::Request),
            )*
        }

        /// A successful response of any function, with its typed result.
        #[derive(Clone, Debug, PartialEq, Eq)]
        #[non_exhaustive]
        #[allow(clippy::large_enum_variant)]
        pub enum Response {
            $(
                #[doc = concat!("`", stringify!($variant), "` (see [`crate::", stringify!($module), "`]).")]
                $variant(crate::$module::v1::Response),
            )*
        }

        /// Metadata of every function this crate implements.
        static ALL_METADATA: &[&Metadata] = &[$(&crate::$module::v1::METADATA),*];

        impl Request {
            /// Wire name, version, writes?, default limit of this request's function.
            pub fn metadata(&self) -> &'static Metadata {
                match self {
                    $(Self::$variant(_) => &crate::$module::v1::METADATA,)*
                }
            }

            /// Checks the API's rules that can be checked before sending (e.g. `PatientSearch`
            /// needs two criteria, a delete needs a reason). [`crate::ClientIntegrationRequest::encode`]
            /// calls it; a server that decoded a request can call it to answer as SystmOne would.
            ///
            /// # Errors
            /// [`Error::InvalidRequest`] naming the rule.
            pub fn validate(&self) -> Result<(), Error> {
                match self {
                    $(Self::$variant(r) => r.validate(),)*
                }
            }

            pub(crate) fn write_params(&self, w: &mut Writer) {
                match self {
                    $(Self::$variant(r) => r.write_params(w),)*
                }
            }

            pub(crate) fn read_params(function: &FunctionName, params: Element<'_, '_>) -> Result<Self, Error> {
                match function {
                    $(FunctionName::$variant => Ok(Self::$variant(crate::$module::v1::Request::read_params(params)?)),)*
                    other => Err(Error::UnknownFunction { name: other.as_str().to_owned() }),
                }
            }
        }

        impl Response {
            /// Wire name, version, writes?, default limit of this response's function.
            pub fn metadata(&self) -> &'static Metadata {
                match self {
                    $(Self::$variant(_) => &crate::$module::v1::METADATA,)*
                }
            }

            pub(crate) fn write_body(&self, w: &mut Writer) {
                match self {
                    $(Self::$variant(r) => r.write_body(w),)*
                }
            }

            pub(crate) fn read_body(function: &FunctionName, body: Element<'_, '_>) -> Result<Self, Error> {
                match function {
                    $(FunctionName::$variant => Ok(Self::$variant(crate::$module::v1::Response::read_body(body)?)),)*
                    other => Err(Error::UnknownFunction { name: other.as_str().to_owned() }),
                }
            }
        }

        $(
            impl From<crate::$module::v1::Request> for Request {
                fn from(r: crate::$module::v1::Request) -> Self {
                    Request::$variant(r)
                }
            }

            impl From<crate::$module::v1::Response> for Response {
                fn from(r: crate::$module::v1::Response) -> Self {
                    Response::$variant(r)
                }
            }

            impl TryFrom<Response> for crate::$module::v1::Response {
                type Error = Error;

                fn try_from(r: Response) -> Result<Self, Error> {
                    match r {
                        Response::$variant(inner) => Ok(inner),
                        #[allow(unreachable_patterns)]
                        other => Err(Error::FunctionMismatch {
                            expected: crate::$module::v1::METADATA.function,
                            found: other.metadata().function.to_owned(),
                        }),
                    }
                }
            }

            impl TryFrom<Request> for crate::$module::v1::Request {
                type Error = Error;

                fn try_from(r: Request) -> Result<Self, Error> {
                    match r {
                        Request::$variant(inner) => Ok(inner),
                        #[allow(unreachable_patterns)]
                        other => Err(Error::FunctionMismatch {
                            expected: crate::$module::v1::METADATA.function,
                            found: other.metadata().function.to_owned(),
                        }),
                    }
                }
            }

            impl FunctionRequest for crate::$module::v1::Request {
                const METADATA: Metadata = crate::$module::v1::METADATA;
                type Response = crate::$module::v1::Response;
            }
        )*
    };
}

functions! {
    GetFunctions => get_functions,
    GetOrganisationMetaData => get_organisation_meta_data,
    GetCurrentActivity => get_current_activity,
    GetCurrentSelection => get_current_selection,
    PatientSearch => patient_search,
    GetPatientRecord => get_patient_record,
    UpdatePatientRecord => update_patient_record,
    GetDocument => get_document,
    DeletePatientRecord => delete_patient_record,
    GetAppointmentSlots => get_appointment_slots,
    GetDiary => get_diary,
    ExitClient => exit_client,
    DataExtract => data_extract,
    LaunchFunctionality => launch_functionality,
    GetXSDFiles => get_xsd_files,
    GetReferenceData => get_reference_data,
    IsPatientRetrieved => is_patient_retrieved,
}

impl Request {
    /// The function, as a [`FunctionName`].
    pub fn function(&self) -> FunctionName {
        self.metadata().name()
    }

    /// The throttle class of this request, decided from the request itself: a
    /// `GetPatientRecord` whose filter asks for demographics only, or whose entry-date window
    /// is exactly `today` (both `MinEntryDate` and `MaxEntryDate`), counts against the
    /// whole-client limit only; every other request also counts against its function's limit.
    ///
    /// `today` is the local date of the SystmOne client, passed in by the caller (this crate
    /// never reads the clock).
    pub fn throttle_class(&self, today: NaiveDate) -> ThrottleClass {
        match self {
            Request::GetPatientRecord(r) if r.is_throttle_exempt(today) => {
                ThrottleClass::ClientOnly
            }
            other => ThrottleClass::Function(other.function()),
        }
    }
}

impl Response {
    /// The function, as a [`FunctionName`].
    pub fn function(&self) -> FunctionName {
        self.metadata().name()
    }
}

// `FunctionName` is declared in `function.rs`; its lookup lives beside the catalogue it reads.
impl FunctionName {
    /// The metadata of a known function (`None` for [`FunctionName::Other`]).
    pub fn metadata(&self) -> Option<&'static Metadata> {
        ALL_METADATA
            .iter()
            .copied()
            .find(|m| m.function == self.as_str())
    }
}

/// The metadata of every function this crate implements, in catalogue order.
pub fn all_functions() -> impl Iterator<Item = &'static Metadata> {
    ALL_METADATA.iter().copied()
}
