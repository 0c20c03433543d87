//! Placeholder engine.
#![allow(dead_code, missing_docs)]

use chrono::NaiveDate;

use crate::gateway::Gateway;

pub(crate) const MALFORMED_RESPONSE: &str = "<ClientIntegrationResponse><Response><ErrorMessage>x</ErrorMessage></Response><DeviceID>&bogus;</DeviceID></ClientIntegrationResponse>";

pub(crate) struct Inbound {
    pub(crate) function: String,
    pub(crate) request_uid: String,
    pub(crate) device_id: String,
}

pub(crate) struct Undecodable {
    pub(crate) message: String,
}

pub(crate) struct RemoteFailure {
    pub(crate) message: String,
    pub(crate) permanent: bool,
}

pub(crate) struct Executed {
    pub(crate) document: String,
    pub(crate) error: Option<RemoteFailure>,
}

pub(crate) fn decode(_frame: &[u8]) -> Result<Inbound, Undecodable> {
    Err(Undecodable {
        message: "todo".into(),
    })
}

pub(crate) fn undecodable_response(_g: &Gateway, _u: &Undecodable) -> String {
    String::new()
}

pub(crate) fn is_throttled_record_read(_i: &Inbound, _today: NaiveDate) -> bool {
    false
}

pub(crate) fn execute(_g: &Gateway, _i: &Inbound, _forced_in_use: bool) -> Executed {
    Executed {
        document: String::new(),
        error: None,
    }
}
