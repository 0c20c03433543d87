//! The envelope around every function: decode a request with `systmone-api`, admit the
//! device and the API key, run the function ([`super::functions`]), encode the response.

use chrono::NaiveDate;
use systmone_api as api;
use systmone_api::{
    ClientIntegrationRequest, ClientIntegrationResponse, DeviceId, EncodeOptions, FunctionName,
    ReceivedRequestHeader, RemoteError, ResponseHeader, ResponseUid, ThrottleClass,
};

use crate::behaviour::{Refusal, WriteContext};
use crate::config::DeviceApproval;
use crate::gateway::Gateway;
use crate::handler::functions::run;
use crate::model::AddedBy;

/// What [`crate::Fault::MalformedResponse`] sends: balanced tags (so an XML-aware framer
/// delivers it) but not well-formed (an undefined entity) and without the envelope fields.
pub(crate) const MALFORMED_RESPONSE: &str = "<ClientIntegrationResponse><Response><ErrorMessage>simulated fault</ErrorMessage></Response><DeviceID>&undefined;</DeviceID></ClientIntegrationResponse>";

/// A request whose envelope could be read.
#[derive(Debug)]
pub(crate) struct Inbound {
    pub(crate) function: String,
    pub(crate) request_uid: String,
    pub(crate) device_id: String,
    header: ReceivedRequestHeader,
    /// The full request, or why its function or parameters could not be read.
    request: Result<ClientIntegrationRequest, api::Error>,
}

/// A document that is not even a request envelope.
#[derive(Debug)]
pub(crate) struct Undecodable {
    pub(crate) message: String,
}

/// The response to send, and the error it carries (for the log).
#[derive(Debug)]
pub(crate) struct Executed {
    pub(crate) document: String,
    pub(crate) error: Option<Refusal>,
    /// `ExitClient`: exit after answering, and whether to restart.
    pub(crate) exit: Option<bool>,
}

pub(crate) fn decode(frame: &[u8]) -> Result<Inbound, Undecodable> {
    let header = ClientIntegrationRequest::decode_header(frame).map_err(|e| Undecodable {
        message: format!("The message is not a valid ClientIntegrationRequest: {e}"),
    })?;
    Ok(Inbound {
        function: header.function.as_str().to_owned(),
        request_uid: header.header.request_uid.as_str().to_owned(),
        device_id: header.header.device_id.as_str().to_owned(),
        request: ClientIntegrationRequest::decode(frame),
        header,
    })
}

fn encode(response: &ClientIntegrationResponse) -> String {
    match response.encode(&EncodeOptions::server()) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim_end().to_owned(),
        Err(e) => {
            // Only text XML cannot carry gets here; answer with an error instead.
            let fallback = ClientIntegrationResponse::error(
                response.header.clone(),
                RemoteError::new(format!("Internal error: {e}"), true),
            );
            fallback
                .encode(&EncodeOptions::server())
                .map(|b| String::from_utf8_lossy(&b).trim_end().to_owned())
                .unwrap_or_default()
        }
    }
}

pub(crate) fn undecodable_response(gateway: &Gateway, undecodable: &Undecodable) -> String {
    let uid = gateway.control().response_uid();
    let header = ResponseHeader::new(
        DeviceId::new(""),
        api::RequestUid::new(""),
        FunctionName::from_wire(""),
        "",
        ResponseUid::new(uid),
    );
    encode(&ClientIntegrationResponse::error(
        header,
        RemoteError::new(undecodable.message.clone(), true),
    ))
}

pub(crate) fn is_throttled_record_read(inbound: &Inbound, today: NaiveDate) -> bool {
    match &inbound.request {
        Ok(request) => matches!(
            request.throttle_class(today),
            ThrottleClass::Function(FunctionName::GetPatientRecord)
        ),
        Err(_) => false,
    }
}

/// Runs a decoded request: device id, API key, then the function.
pub(crate) fn execute(gateway: &Gateway, inbound: &Inbound, forced_in_use: bool) -> Executed {
    let response_uid = gateway.control().response_uid();
    let (device_id, device_refusal) = admit_device(gateway, &inbound.device_id);
    let header = ResponseHeader::for_request(
        &inbound.header,
        DeviceId::new(device_id.clone()),
        ResponseUid::new(response_uid),
    );
    let refuse = |refusal: Refusal| Executed {
        document: encode(&ClientIntegrationResponse::error(
            header.clone(),
            RemoteError::new(refusal.message.clone(), refusal.permanent),
        )),
        error: Some(refusal),
        exit: None,
    };
    if let Some(refusal) = device_refusal {
        return refuse(refusal);
    }
    let software = {
        let state = gateway.org.lock();
        let key = inbound.header.header.api_key.expose();
        state
            .data
            .registered_software
            .iter()
            .find(|s| s.api_key == key)
            .map(|s| s.name.clone())
    };
    let software = match software {
        Some(name) => name,
        None if gateway.config.accept_unregistered_api_keys => {
            gateway.config.default_software_name.clone()
        }
        None => return refuse(Refusal::permanent("The APIKey is not recognised")),
    };
    let request = match &inbound.request {
        Ok(request) => request,
        Err(e) => return refuse(request_error(e)),
    };
    if forced_in_use {
        return refuse(Refusal::record_in_use());
    }
    let ctx = WriteContext {
        gateway: gateway.id,
        gateway_user: gateway.user_name.clone(),
        device: AddedBy {
            device_id,
            device_version: inbound.header.header.device_version.clone(),
        },
        software,
        now: gateway.org.now(),
        leave_open: false,
    };
    let mut exit = None;
    let outcome = run(gateway, &request.request, ctx, &mut exit);
    match outcome {
        Ok(response) => Executed {
            document: encode(&ClientIntegrationResponse::success(header, response)),
            error: None,
            exit,
        },
        Err(refusal) => refuse(refusal),
    }
}

fn request_error(e: &api::Error) -> Refusal {
    match e {
        // Never repeat what the caller sent (it could be any text); the response header
        // already echoes the Function element.
        api::Error::UnknownFunction { .. } => Refusal::permanent(
            "Unknown function: the Function element names no function this client supports",
        ),
        api::Error::UnsupportedVersion { function, .. } => Refusal::permanent(format!(
            "This FunctionVersion of function {function} is not supported"
        )),
        other => Refusal::permanent(format!("Invalid request: {other}")),
    }
}

/// Device approval: returns the device id to echo and a refusal, if any.
fn admit_device(gateway: &Gateway, sent: &str) -> (String, Option<Refusal>) {
    let mut control = gateway.control();
    let sent = sent.trim();
    if sent.is_empty() {
        return match control.device_approval {
            DeviceApproval::Approve => {
                let id = control.allocate_device_id();
                control.approved_devices.insert(id.clone());
                control.allocated_devices.push(id.clone());
                (id, None)
            }
            DeviceApproval::Block => (
                String::new(),
                Some(Refusal::permanent(
                    "The request was blocked by the user. An administrator can unblock the \
                     device in Setup > Mobile Working & Integration > Device Manager",
                )),
            ),
        };
    }
    if control.blocked_devices.contains(sent) {
        return (
            sent.to_owned(),
            Some(Refusal::permanent(
                "This device has been blocked. An administrator can unblock it in Device Manager",
            )),
        );
    }
    if !control.approved_devices.contains(sent) {
        if gateway.config.reject_unknown_device_ids {
            return (
                sent.to_owned(),
                Some(Refusal::permanent("The DeviceID is not recognised")),
            );
        }
        control.approved_devices.insert(sent.to_owned());
    }
    (sent.to_owned(), None)
}
