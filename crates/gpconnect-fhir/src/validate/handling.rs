//! Rules for the ITK3 message handling extension (the six handling keys).

use std::collections::HashMap;

use serde_json::Value;

use super::{Checker, Severity, arr, s};
use crate::codes::{
    GuideVersion, MessageEvent, RecipientType, ResponseCode, extension, message_definition, system,
};
use crate::handling::key;

impl Checker {
    pub(super) fn handling(
        &mut self,
        header: &Value,
        hloc: &str,
        event: Option<&MessageEvent>,
    ) -> Option<HashMap<&'static str, Value>> {
        let Some(ext) = arr(header, "extension")
            .iter()
            .find(|e| s(e, "url") == Some(extension::ITK_MESSAGE_HANDLING))
        else {
            self.push(
                Severity::Error,
                format!("{hloc}.extension"),
                "the ITK message handling extension is missing",
                Some(ResponseCode::HandlingSpecificationError),
            );
            return None;
        };
        let eloc = format!("{hloc}.extension(ITKMessageHandling)");
        let mut values = HashMap::new();
        for k in key::ALL {
            let found: Vec<&Value> = arr(ext, "extension")
                .iter()
                .filter(|e| s(e, "url") == Some(k))
                .collect();
            let kloc = format!("{eloc}.extension({k})");
            match found.as_slice() {
                [one] => {
                    let (field, code) = match k {
                        key::BUS_ACK_REQUESTED => {
                            ("valueBoolean", ResponseCode::BusinessAckValueError)
                        }
                        key::INF_ACK_REQUESTED => {
                            ("valueBoolean", ResponseCode::InfrastructureAckValueError)
                        }
                        key::RECIPIENT_TYPE => ("valueCoding", ResponseCode::RecipientTypeError),
                        key::MESSAGE_DEFINITION => {
                            ("valueReference", ResponseCode::MessageDefinitionValueError)
                        }
                        key::SENDER_REFERENCE => {
                            ("valueString", ResponseCode::SenderReferenceValueError)
                        }
                        _ => ("valueString", ResponseCode::HandlingSpecificationError),
                    };
                    match one.get(field) {
                        Some(v) => {
                            values.insert(k, v.clone());
                        }
                        None if k == key::LOCAL_EXTENSION
                            && one
                                .as_object()
                                .is_some_and(|o| o.keys().any(|x| x.starts_with("value"))) =>
                        {
                            values.insert(k, Value::Null);
                        }
                        None => self.push(
                            Severity::Error,
                            kloc,
                            format!("{field} missing"),
                            Some(code),
                        ),
                    }
                }
                [] => self.push(
                    Severity::Error,
                    kloc,
                    "handling key missing (each of the six is 1..1)",
                    Some(ResponseCode::HandlingSpecificationError),
                ),
                _ => self.push(
                    Severity::Error,
                    kloc,
                    "handling key repeated",
                    Some(ResponseCode::HandlingSpecificationError),
                ),
            }
        }
        if let Some(rt) = values.get(key::RECIPIENT_TYPE) {
            if s(rt, "system") != Some(system::ITK_RECIPIENT_TYPE) {
                self.push(
                    Severity::Error,
                    format!("{eloc}.extension(RecipientType).valueCoding.system"),
                    "must be ITK-RecipientType-1",
                    Some(ResponseCode::RecipientTypeError),
                );
            }
            if let RecipientType::Other(_) = RecipientType::from_wire(s(rt, "code").unwrap_or("")) {
                self.push(
                    Severity::Error,
                    format!("{eloc}.extension(RecipientType).valueCoding.code"),
                    "must be FA or FI",
                    Some(ResponseCode::RecipientTypeError),
                );
            }
        }
        let md = values
            .get(key::MESSAGE_DEFINITION)
            .and_then(|r| s(r, "reference"))
            .unwrap_or("")
            .to_owned();
        let mdloc = format!("{eloc}.extension(MessageDefinition).valueReference.reference");
        let local = values
            .get(key::LOCAL_EXTENSION)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        match event {
            Some(MessageEvent::GpConnectSendDocument) => {
                let guide = self.options.guide;
                // A value from the other edition: a warning when either edition is accepted,
                // an error when the caller pinned one.
                let other_edition = if guide.is_some() {
                    (
                        Severity::Error,
                        Some(ResponseCode::MessageDefinitionValueError),
                    )
                } else {
                    (Severity::Warning, None)
                };
                if md == message_definition::SEND_DOCUMENT_LEGACY {
                    if guide != Some(GuideVersion::GpConnectMessaging1_5) {
                        self.push(other_edition.0, mdloc, "the older gpconnect-messaging MessageDefinition; the current guide uses ITK-GPConnectSendDocument-MessageDefinition-Instance-1", other_edition.1.clone());
                    }
                } else if md == message_definition::SEND_DOCUMENT_CURRENT {
                    if guide == Some(GuideVersion::GpConnectMessaging1_5) {
                        self.push(other_edition.0, mdloc, "the current guide's MessageDefinition; gpconnect-messaging 1.5 uses ITK-GPConnectSendDocument-MessageDefinition-1", other_edition.1.clone());
                    }
                } else {
                    self.push(
                        Severity::Error,
                        mdloc,
                        "not a Send Document MessageDefinition",
                        Some(ResponseCode::MessageDefinitionValueError),
                    );
                }
                let local_is_current = local.eq_ignore_ascii_case("NONE");
                if !local_is_current && guide != Some(GuideVersion::GpConnectMessaging1_5) {
                    self.push(
                        other_edition.0,
                        format!("{eloc}.extension(LocalExtension)"),
                        "the current guide fixes `NONE` (older editions used SendDocument-* values)",
                        other_edition.1.as_ref().map(|_| ResponseCode::HandlingBusinessRuleError),
                    );
                }
                if !local.starts_with("SendDocument-")
                    && guide == Some(GuideVersion::GpConnectMessaging1_5)
                {
                    self.push(
                        Severity::Error,
                        format!("{eloc}.extension(LocalExtension)"),
                        "gpconnect-messaging 1.5 uses a SendDocument-* use-case value",
                        Some(ResponseCode::HandlingBusinessRuleError),
                    );
                }
                for (k, code) in [
                    (key::BUS_ACK_REQUESTED, ResponseCode::BusinessAckValueError),
                    (
                        key::INF_ACK_REQUESTED,
                        ResponseCode::InfrastructureAckValueError,
                    ),
                ] {
                    if values.get(k).is_some_and(|v| v != &Value::Bool(true)) {
                        self.push(
                            Severity::Error,
                            format!("{eloc}.extension({k})"),
                            "must be true for Send Document",
                            Some(code),
                        );
                    }
                }
            }
            Some(MessageEvent::MentalHealthEDischarge) => {
                if md.ends_with("ITK-MH-eDischarge-MessageDefinition-Instance-1") {
                    self.push(
                        Severity::Warning,
                        mdloc,
                        "retired MessageDefinition; use ITK-MH-eDischarge-MessageDefinition-4",
                        None,
                    );
                } else if md != message_definition::MH_DISCHARGE {
                    self.push(
                        Severity::Error,
                        mdloc,
                        "not a mental health eDischarge MessageDefinition",
                        Some(ResponseCode::MessageDefinitionValueError),
                    );
                }
            }
            Some(MessageEvent::Response)
                if md != message_definition::RESPONSE
                    && md != message_definition::RESPONSE_INSTANCE =>
            {
                self.push(
                    Severity::Error,
                    mdloc,
                    "not the ITK Response MessageDefinition",
                    Some(ResponseCode::MessageDefinitionValueError),
                );
            }
            _ => {}
        }
        Some(values)
    }
}
