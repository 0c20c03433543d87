//! The envelope (`ClientIntegrationRequest` / `ClientIntegrationResponse`) and the codec in
//! both directions.
//!
//! - Client side: [`ClientIntegrationRequest::encode`] gives one line of XML plus `\n`;
//!   [`ClientIntegrationResponse::decode`] reads a response (feed it what
//!   [`crate::Framer`] yields).
//! - Server side: [`ClientIntegrationRequest::decode`] reads a request;
//!   [`ClientIntegrationResponse::encode`] writes a result or an error response.

use crate::error::{Error, RemoteError};
use crate::function::{FunctionName, FunctionRequest, ThrottleClass};
use crate::message::{Request, Response};
use crate::options::EncodeOptions;
use crate::types::{ApiKey, DeviceId, OutputScheme, RequestUid, ResponseUid, opt_bool};
use crate::xml::{Document, Element, Writer, parse_document};

/// Root element of a request.
pub const REQUEST_ROOT: &str = "ClientIntegrationRequest";
/// Root element of a response.
pub const RESPONSE_ROOT: &str = "ClientIntegrationResponse";

/// The fixed header fields of a request: `APIKey`, `DeviceID`, `DeviceVersion`, `RequestUID`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestHeader {
    /// TPP's key for the software (never printed).
    pub api_key: ApiKey,
    /// This installation's id; empty on first contact.
    pub device_id: DeviceId,
    /// Free text naming the software version (shown in SystmOne's audit and approval dialog).
    pub device_version: String,
    /// The caller's id for this request.
    pub request_uid: RequestUid,
}

impl RequestHeader {
    /// A header from its four fields.
    pub fn new(
        api_key: ApiKey,
        device_id: DeviceId,
        device_version: impl Into<String>,
        request_uid: RequestUid,
    ) -> Self {
        Self {
            api_key,
            device_id,
            device_version: device_version.into(),
            request_uid,
        }
    }
}

/// A whole request document.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientIntegrationRequest {
    /// `APIKey`, `DeviceID`, `DeviceVersion`, `RequestUID`.
    pub header: RequestHeader,
    /// `OutputScheme` (optional).
    pub output_scheme: Option<OutputScheme>,
    /// The function and its parameters; `Function` and `FunctionVersion` come from it.
    pub request: Request,
}

/// What the envelope of a received request says, readable even when the function is unknown
/// or its parameters are invalid (so a server can still echo `RequestUID` in its error).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceivedRequestHeader {
    /// The header fields.
    pub header: RequestHeader,
    /// `Function`.
    pub function: FunctionName,
    /// `FunctionVersion`, as sent.
    pub function_version: String,
}

fn text_or_empty(el: Element<'_, '_>, name: &str) -> String {
    el.child_text(name).unwrap_or_default()
}

fn check_root(root: Element<'_, '_>, expected: &'static str) -> Result<(), Error> {
    if root.name() == expected {
        Ok(())
    } else {
        Err(Error::WrongRoot {
            expected,
            found: root.name().chars().take(64).collect(),
        })
    }
}

impl ClientIntegrationRequest {
    /// A request with no `OutputScheme`.
    pub fn new(header: RequestHeader, request: impl Into<Request>) -> Self {
        Self {
            header,
            output_scheme: None,
            request: request.into(),
        }
    }

    /// Sets `OutputScheme`.
    pub fn with_output_scheme(mut self, scheme: OutputScheme) -> Self {
        self.output_scheme = Some(scheme);
        self
    }

    /// The function.
    pub fn function(&self) -> FunctionName {
        self.request.function()
    }

    /// See [`Request::throttle_class`].
    pub fn throttle_class(&self, today: chrono::NaiveDate) -> ThrottleClass {
        self.request.throttle_class(today)
    }

    /// Encodes the request as one line of UTF-8 XML followed by `\n`. Newlines inside text are
    /// written as `&#10;`, so the only raw newline is the terminator.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] if the request breaks a rule of the API
    /// ([`Request::validate`]); [`Error::UnencodableText`] if text holds a character XML 1.0
    /// cannot carry.
    pub fn encode(&self, options: &EncodeOptions) -> Result<Vec<u8>, Error> {
        self.request.validate()?;
        let metadata = self.request.metadata();
        let mut w = Writer::new(options.clone(), 512);
        if options.xml_declaration {
            w.out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        }
        w.open(REQUEST_ROOT);
        w.elem("APIKey", self.header.api_key.expose());
        w.elem("DeviceID", self.header.device_id.as_str());
        w.elem("DeviceVersion", &self.header.device_version);
        w.elem("RequestUID", self.header.request_uid.as_str());
        w.elem("Function", metadata.function);
        w.elem("FunctionVersion", metadata.version);
        if let Some(scheme) = &self.output_scheme {
            scheme.write(&mut w);
        }
        w.open("FunctionParameters");
        self.request.write_params(&mut w);
        w.close("FunctionParameters");
        w.close(REQUEST_ROOT);
        let mut out = w.finish()?.into_bytes();
        out.push(b'\n');
        Ok(out)
    }

    /// Reads only the envelope of a request (for a server answering a request it cannot
    /// decode fully).
    ///
    /// # Errors
    /// Malformed XML, wrong root, missing `APIKey` or `Function`.
    pub fn decode_header(bytes: &[u8]) -> Result<ReceivedRequestHeader, Error> {
        let doc = parse_document(bytes)?;
        Self::header_of(doc.root())
    }

    fn header_of(root: Element<'_, '_>) -> Result<ReceivedRequestHeader, Error> {
        check_root(root, REQUEST_ROOT)?;
        Ok(ReceivedRequestHeader {
            header: RequestHeader {
                api_key: ApiKey::new(root.require_text("APIKey")?),
                device_id: DeviceId::new(text_or_empty(root, "DeviceID").trim()),
                device_version: text_or_empty(root, "DeviceVersion"),
                request_uid: RequestUid::new(text_or_empty(root, "RequestUID")),
            },
            function: FunctionName::from_wire(root.require_text("Function")?.trim()),
            function_version: root
                .child_text("FunctionVersion")
                .map(|v| v.trim().to_owned())
                .unwrap_or_else(|| "1.0".to_owned()),
        })
    }

    /// Decodes a request (server side). Element order is not enforced; unknown elements are
    /// ignored; both NHS number spellings are read. API rules such as "two search criteria"
    /// are **not** checked here: call [`Request::validate`] to answer as SystmOne would.
    ///
    /// # Errors
    /// Malformed or hostile input, wrong root, unknown function or version, invalid values.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let doc = parse_document(bytes)?;
        let root = doc.root();
        let received = Self::header_of(root)?;
        let metadata = received
            .function
            .metadata()
            .ok_or_else(|| Error::UnknownFunction {
                name: received.function.as_str().to_owned(),
            })?;
        metadata.check_version(&received.function_version)?;
        let empty = Document::empty("FunctionParameters");
        let params = root
            .child("FunctionParameters")
            .unwrap_or_else(|| empty.root());
        Ok(Self {
            header: received.header,
            output_scheme: root.child("OutputScheme").map(OutputScheme::read),
            request: Request::read_params(&received.function, params)?,
        })
    }
}

/// The fixed header fields of a response.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseHeader {
    /// `DeviceID`: read it on every response (on first contact it holds the new id).
    pub device_id: DeviceId,
    /// `RequestUID`, echoed.
    pub request_uid: RequestUid,
    /// `Function`, echoed.
    pub function: FunctionName,
    /// `FunctionVersion` actually executed.
    pub function_version: String,
    /// `ResponseUID`: SystmOne's GUID for this response.
    pub response_uid: ResponseUid,
}

impl ResponseHeader {
    /// A header from its fields.
    pub fn new(
        device_id: DeviceId,
        request_uid: RequestUid,
        function: FunctionName,
        function_version: impl Into<String>,
        response_uid: ResponseUid,
    ) -> Self {
        Self {
            device_id,
            request_uid,
            function,
            function_version: function_version.into(),
            response_uid,
        }
    }

    /// The header a server sends back for a request: echoes `RequestUID`, `Function` and
    /// `FunctionVersion`, with the device id and response id given.
    pub fn for_request(
        request: &ReceivedRequestHeader,
        device_id: DeviceId,
        response_uid: ResponseUid,
    ) -> Self {
        Self {
            device_id,
            request_uid: request.header.request_uid.clone(),
            function: request.function.clone(),
            function_version: request.function_version.clone(),
            response_uid,
        }
    }
}

/// A whole response document: the header plus either a result or SystmOne's error.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientIntegrationResponse {
    /// `DeviceID`, `RequestUID`, `Function`, `FunctionVersion`, `ResponseUID`.
    pub header: ResponseHeader,
    /// The `Response` content: a typed result, or `ErrorMessage` + `PermanentError`.
    pub outcome: Result<Response, RemoteError>,
}

impl ClientIntegrationResponse {
    /// A successful response.
    pub fn success(header: ResponseHeader, response: impl Into<Response>) -> Self {
        Self {
            header,
            outcome: Ok(response.into()),
        }
    }

    /// An error response (`ErrorMessage` + `PermanentError`).
    pub fn error(header: ResponseHeader, error: RemoteError) -> Self {
        Self {
            header,
            outcome: Err(error),
        }
    }

    /// The result, with SystmOne's error as [`Error::Remote`].
    ///
    /// # Errors
    /// [`Error::Remote`] for an error response.
    pub fn into_result(self) -> Result<Response, Error> {
        self.outcome.map_err(Error::from)
    }

    /// The typed result for the function `R`.
    ///
    /// # Errors
    /// [`Error::Remote`] for an error response; [`Error::FunctionMismatch`] if it is another
    /// function's response.
    pub fn into_typed<R: FunctionRequest>(self) -> Result<R::Response, Error> {
        R::Response::try_from(self.into_result()?)
    }

    /// Encodes the response as one line of XML followed by `\n` (server side). An error
    /// outcome is written as `ErrorMessage` + `PermanentError`.
    ///
    /// # Errors
    /// [`Error::UnencodableText`] if text holds a character XML 1.0 cannot carry.
    pub fn encode(&self, options: &EncodeOptions) -> Result<Vec<u8>, Error> {
        let mut w = Writer::new(options.clone(), 1024);
        if options.xml_declaration {
            w.out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        }
        w.open(RESPONSE_ROOT);
        w.elem("DeviceID", self.header.device_id.as_str());
        w.elem("RequestUID", self.header.request_uid.as_str());
        w.elem("Function", self.header.function.as_str());
        w.elem("FunctionVersion", &self.header.function_version);
        w.elem("ResponseUID", self.header.response_uid.as_str());
        w.open("Response");
        match &self.outcome {
            Ok(response) => response.write_body(&mut w),
            Err(error) => {
                w.elem("ErrorMessage", &error.message);
                w.elem(
                    "PermanentError",
                    if error.permanent { "true" } else { "false" },
                );
            }
        }
        w.close("Response");
        w.close(RESPONSE_ROOT);
        let mut out = w.finish()?.into_bytes();
        out.push(b'\n');
        Ok(out)
    }

    /// Decodes a response (client side). Unknown elements are ignored; both NHS number
    /// spellings are read; an `ErrorMessage` gives an `Err` outcome whatever the function.
    ///
    /// # Errors
    /// Malformed or hostile input, wrong root, missing `Function`, unknown function or version
    /// (for a success response), invalid values.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let doc = parse_document(bytes)?;
        let root = doc.root();
        check_root(root, RESPONSE_ROOT)?;
        let function = FunctionName::from_wire(root.require_text("Function")?.trim());
        let header = ResponseHeader {
            device_id: DeviceId::new(text_or_empty(root, "DeviceID").trim()),
            request_uid: RequestUid::new(text_or_empty(root, "RequestUID")),
            function,
            function_version: root
                .child_text("FunctionVersion")
                .map(|v| v.trim().to_owned())
                .unwrap_or_else(|| "1.0".to_owned()),
            response_uid: ResponseUid::new(text_or_empty(root, "ResponseUID").trim()),
        };
        let empty = Document::empty("Response");
        let body = root.child("Response").unwrap_or_else(|| empty.root());
        if let Some(message) = body.child("ErrorMessage") {
            let permanent = opt_bool(body, "PermanentError")?.unwrap_or(true);
            // SystmOne's text may quote an NHS number; it goes into logs and error text, so
            // any valid one is masked as it is read.
            let text = nhs_identifiers::scan::redact(message.text());
            return Ok(Self {
                header,
                outcome: Err(RemoteError::new(text, permanent)),
            });
        }
        let metadata = header
            .function
            .metadata()
            .ok_or_else(|| Error::UnknownFunction {
                name: header.function.as_str().chars().take(64).collect(),
            })?;
        metadata.check_version(&header.function_version)?;
        let response = Response::read_body(&header.function, body)?;
        Ok(Self {
            header,
            outcome: Ok(response),
        })
    }
}
