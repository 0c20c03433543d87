//! The ITK3 message handling extension (`Extension-ITK-MessageHandling-2`): six keys, each 1..1.

use fhir_model::stu3::types::{Extension, ExtensionValue, Reference};

use crate::codes::{RecipientType, extension, system};
use crate::error::{Error, Result};
use crate::fhir::coding;

/// Sub-extension urls, in the order the profile slices them.
pub mod key {
    /// Business acknowledgement requested (`valueBoolean`).
    pub const BUS_ACK_REQUESTED: &str = "BusAckRequested";
    /// Infrastructure acknowledgement requested (`valueBoolean`).
    pub const INF_ACK_REQUESTED: &str = "InfAckRequested";
    /// Recipient type (`valueCoding`).
    pub const RECIPIENT_TYPE: &str = "RecipientType";
    /// MessageDefinition (`valueReference`).
    pub const MESSAGE_DEFINITION: &str = "MessageDefinition";
    /// Sender reference (`valueString`).
    pub const SENDER_REFERENCE: &str = "SenderReference";
    /// Local extension (`valueString`).
    pub const LOCAL_EXTENSION: &str = "LocalExtension";
    /// All six, in order.
    pub const ALL: [&str; 6] = [
        BUS_ACK_REQUESTED,
        INF_ACK_REQUESTED,
        RECIPIENT_TYPE,
        MESSAGE_DEFINITION,
        SENDER_REFERENCE,
        LOCAL_EXTENSION,
    ];
}

/// The six ITK3 handling keys of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageHandling {
    /// Whether a business acknowledgement (30001-30004) is requested.
    pub bus_ack_requested: bool,
    /// Whether an infrastructure acknowledgement (20013 / negatives) is requested.
    pub inf_ack_requested: bool,
    /// For action or for information.
    pub recipient_type: RecipientType,
    /// The MessageDefinition URL.
    pub message_definition: String,
    /// The sender's id for the encounter/activity; responses echo it. `None` when unused.
    pub sender_reference: String,
    /// Local extension value (`NONE` in the current Send Document guide).
    pub local_extension: String,
}

impl MessageHandling {
    /// Handling for a message that requests both acknowledgements from a recipient who must act.
    pub fn for_action(message_definition: impl Into<String>) -> Self {
        Self {
            bus_ack_requested: true,
            inf_ack_requested: true,
            recipient_type: RecipientType::ForAction,
            message_definition: message_definition.into(),
            sender_reference: "None".to_owned(),
            local_extension: "NONE".to_owned(),
        }
    }

    /// The FHIR extension.
    pub fn to_extension(&self) -> Result<Extension> {
        let sub = |url: &str, value: ExtensionValue| -> Result<Extension> {
            Ok(Extension::builder()
                .url(url.to_owned())
                .value(value)
                .build()?)
        };
        let children = vec![
            sub(
                key::BUS_ACK_REQUESTED,
                ExtensionValue::Boolean(self.bus_ack_requested),
            )?,
            sub(
                key::INF_ACK_REQUESTED,
                ExtensionValue::Boolean(self.inf_ack_requested),
            )?,
            sub(
                key::RECIPIENT_TYPE,
                ExtensionValue::Coding(coding(
                    system::ITK_RECIPIENT_TYPE,
                    self.recipient_type.as_str(),
                    self.recipient_type.display(),
                )?),
            )?,
            sub(
                key::MESSAGE_DEFINITION,
                ExtensionValue::Reference(
                    Reference::builder()
                        .reference(self.message_definition.clone())
                        .build()?,
                ),
            )?,
            sub(
                key::SENDER_REFERENCE,
                ExtensionValue::String(self.sender_reference.clone()),
            )?,
            sub(
                key::LOCAL_EXTENSION,
                ExtensionValue::String(self.local_extension.clone()),
            )?,
        ];
        Ok(Extension::builder()
            .url(extension::ITK_MESSAGE_HANDLING.to_owned())
            .extension(children)
            .build()?)
    }

    /// Reads the handling keys from a MessageHeader's extensions.
    pub fn from_extensions(extensions: &[Extension]) -> Result<Self> {
        let handling = extensions
            .iter()
            .find(|e| e.url == extension::ITK_MESSAGE_HANDLING)
            .ok_or_else(|| missing("extension(ITKMessageHandling)"))?;
        let find = |k: &'static str| {
            handling
                .extension
                .iter()
                .find(|e| e.url == k)
                .and_then(|e| e.value.as_ref())
                .ok_or_else(|| missing(k))
        };
        let boolean = |k: &'static str| match find(k)? {
            ExtensionValue::Boolean(b) => Ok(*b),
            _ => Err(wrong(k, "valueBoolean")),
        };
        let string = |k: &'static str| match find(k)? {
            ExtensionValue::String(s) | ExtensionValue::Code(s) | ExtensionValue::Uri(s) => {
                Ok(s.clone())
            }
            _ => Err(wrong(k, "valueString")),
        };
        let recipient_type = match find(key::RECIPIENT_TYPE)? {
            ExtensionValue::Coding(c) => RecipientType::from_wire(c.code.as_deref().unwrap_or("")),
            _ => return Err(wrong(key::RECIPIENT_TYPE, "valueCoding")),
        };
        let message_definition = match find(key::MESSAGE_DEFINITION)? {
            ExtensionValue::Reference(r) => r.reference.clone().unwrap_or_default(),
            _ => return Err(wrong(key::MESSAGE_DEFINITION, "valueReference")),
        };
        Ok(Self {
            bus_ack_requested: boolean(key::BUS_ACK_REQUESTED)?,
            inf_ack_requested: boolean(key::INF_ACK_REQUESTED)?,
            recipient_type,
            message_definition,
            sender_reference: string(key::SENDER_REFERENCE)?,
            local_extension: string(key::LOCAL_EXTENSION)?,
        })
    }
}

fn missing(key: &str) -> Error {
    Error::NotItk {
        location: format!("MessageHeader.extension(ITKMessageHandling).extension({key})"),
        reason: "missing".to_owned(),
    }
}

fn wrong(key: &str, expected: &str) -> Error {
    Error::NotItk {
        location: format!("MessageHeader.extension(ITKMessageHandling).extension({key})"),
        reason: format!("expected {expected}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_extension() {
        let h = MessageHandling::for_action("https://example.org/md");
        let ext = h.to_extension().unwrap();
        assert_eq!(MessageHandling::from_extensions(&[ext]).unwrap(), h);
    }
}
