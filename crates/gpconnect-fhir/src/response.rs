//! ITK3 responses (event ITK008M): infrastructure and business acknowledgements.
//!
//! A response is a message bundle whose MessageHeader has `response` (identifier of the original
//! MessageHeader, `ok`/`fatal-error`, details → an `ITK-Response-OperationOutcome-1` carrying one
//! code from `ITK-ResponseCodes-1`).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use fhir_model::stu3::codes::{IssueSeverity, IssueType, ResponseType};
use fhir_model::stu3::resources::{
    Bundle, MessageHeader, MessageHeaderResponse, OperationOutcome, OperationOutcomeIssue, Resource,
};
use nhs_identifiers::{OdsCode, system as id_system};

use crate::codes::{
    AckKind, MessageEvent, RecipientType, ResponseCode, message_definition, profile, system,
};
use crate::envelope::{EnvelopeIds, HeaderSpec, ItkMessage, message_bundle};
use crate::error::{Error, Result};
use crate::fhir::{concept, entry, meta, reference};
use crate::handling::MessageHandling;
use crate::ids::IdGenerator;
use crate::mesh::MeshRouting;

/// `MessageHeader.response.identifier` when the original message id could not be read.
pub const UNREADABLE_ORIGINAL: &str = "UNREADABLE-IN-ORIGINAL-MESSAGE";

/// The content of one ITK3 response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ItkResponse {
    /// The response code.
    pub code: ResponseCode,
    /// `MessageHeader.id` of the message being answered.
    pub in_response_to: String,
    /// The original `SenderReference` handling key, echoed.
    pub sender_reference: String,
    /// Error context for negative responses (never patient-identifiable data, FHIR-BA-02).
    pub diagnostics: Option<String>,
}

/// Who sends a response, and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Responder {
    /// The responding organisation.
    pub ods_code: OdsCode,
    /// The responder's MESH mailbox (`MessageHeader.source.endpoint`, `Mex-From`).
    pub mailbox: String,
    /// The original sender's mailbox (`Mex-To`).
    pub reply_to: String,
    /// The ack workflow id (for example `GPCONNECT_SEND_DOCUMENT_ACK`).
    pub ack_workflow_id: String,
    /// MessageDefinition handling key (default the active `ITK-Response-MessageDefinition-1`;
    /// the official examples use `…-Instance-1`).
    pub message_definition: String,
}

impl Responder {
    /// A responder with the default MessageDefinition.
    pub fn new(
        ods_code: OdsCode,
        mailbox: impl Into<String>,
        reply_to: impl Into<String>,
        ack_workflow_id: impl Into<String>,
    ) -> Self {
        Self {
            ods_code,
            mailbox: mailbox.into(),
            reply_to: reply_to.into(),
            ack_workflow_id: ack_workflow_id.into(),
            message_definition: message_definition::RESPONSE.to_owned(),
        }
    }
}

/// A response read from the wire, with its envelope details.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceivedResponse {
    /// The response itself.
    pub response: ItkResponse,
    /// `MessageHeader.id` of the response.
    pub message_id: String,
    /// `MessageHeader.source.endpoint`: the responder's mailbox.
    pub responder_mailbox: String,
    /// ODS code of the header organisation, or SDS user id of the header practitioner.
    pub responder_id: Option<String>,
    /// `MessageHeader.response.code` as sent (`ok`, `fatal-error`, ...).
    pub response_type: String,
}

impl ItkResponse {
    /// A response with `code` to the message whose header id is `in_response_to`.
    pub fn new(
        code: ResponseCode,
        in_response_to: impl Into<String>,
        sender_reference: impl Into<String>,
    ) -> Self {
        Self {
            code,
            in_response_to: in_response_to.into(),
            sender_reference: sender_reference.into(),
            diagnostics: None,
        }
    }

    /// A response with `code` to `original` (a message bundle): reads its MessageHeader id and
    /// SenderReference, using `UNREADABLE-IN-ORIGINAL-MESSAGE` / `None` when they are missing.
    pub fn answering(code: ResponseCode, original: &Bundle) -> Self {
        let header = first_header(original);
        let id = header
            .and_then(|h| h.id.clone())
            .unwrap_or_else(|| UNREADABLE_ORIGINAL.to_owned());
        let sender_reference = header
            .and_then(|h| MessageHandling::from_extensions(&h.extension).ok())
            .map_or_else(|| "None".to_owned(), |h| h.sender_reference);
        Self::new(code, id, sender_reference)
    }

    /// Adds diagnostics.
    pub fn with_diagnostics(mut self, diagnostics: impl Into<String>) -> Self {
        self.diagnostics = Some(diagnostics.into());
        self
    }

    /// Whether this is a positive acknowledgement.
    pub fn is_positive(&self) -> bool {
        self.code.is_positive()
    }

    /// Infrastructure or business acknowledgement.
    pub fn kind(&self) -> AckKind {
        self.code.kind()
    }

    /// Builds the response message. Ids: message bundle, MessageHeader, header Organization,
    /// OperationOutcome.
    pub fn build(
        &self,
        responder: &Responder,
        timestamp: DateTime<Utc>,
        ids: &mut dyn IdGenerator,
    ) -> Result<ItkMessage> {
        let envelope_ids = EnvelopeIds::draw(ids);
        let outcome_id = ids.next_uuid();
        let positive = self.is_positive();
        let issue_type = IssueType::from_str(self.code.issue_type())
            .map_err(|_| Error::Build("issue type".to_owned()))?;
        let display = match self.code.display() {
            "" => self.code.as_str(),
            d => d,
        };
        let mut issue = OperationOutcomeIssue::builder()
            .severity(if positive {
                IssueSeverity::Information
            } else {
                IssueSeverity::Fatal
            })
            .code(issue_type)
            .details(concept(
                system::ITK_RESPONSE_CODES,
                self.code.as_str(),
                display,
            )?);
        if let Some(d) = &self.diagnostics {
            issue = issue.diagnostics(d.clone());
        }
        let outcome = OperationOutcome::builder()
            .id(outcome_id.to_string())
            .meta(meta(profile::ITK_RESPONSE_OPERATION_OUTCOME)?)
            .issue(vec![Some(issue.build()?)])
            .build()?;
        let response = MessageHeaderResponse::builder()
            .identifier(self.in_response_to.clone())
            .code(if positive {
                ResponseType::Ok
            } else {
                ResponseType::FatalError
            })
            .details(reference(&outcome_id)?)
            .build()?;
        let handling = MessageHandling {
            bus_ack_requested: false,
            inf_ack_requested: false,
            recipient_type: RecipientType::ForAction,
            message_definition: responder.message_definition.clone(),
            sender_reference: self.sender_reference.clone(),
            local_extension: "None".to_owned(),
        };
        let built = message_bundle(
            HeaderSpec {
                event: MessageEvent::Response,
                handling: &handling,
                sender_ods: &responder.ods_code,
                source_endpoint: &responder.mailbox,
                timestamp,
                focus: None,
                response: Some(response),
                extra_entries: vec![entry(&outcome_id, outcome)?],
            },
            envelope_ids,
        )?;
        Ok(ItkMessage {
            bundle: built.bundle,
            mesh: MeshRouting {
                from: responder.mailbox.clone(),
                to: responder.reply_to.clone(),
                workflow_id: responder.ack_workflow_id.clone(),
                ack_workflow_id: responder.ack_workflow_id.clone(),
                subject: format!("ITK3 response {}", self.code.as_str()),
                local_id: built.bundle_identifier.to_string(),
            },
            message_id: built.message_id,
            bundle_identifier: built.bundle_identifier,
            document_identifier: None,
        })
    }

    /// Reads a response from a message bundle.
    pub fn from_bundle(bundle: &Bundle) -> Result<ReceivedResponse> {
        let not_itk = |location: &str, reason: &str| Error::NotItk {
            location: location.to_owned(),
            reason: reason.to_owned(),
        };
        let header = first_header(bundle)
            .ok_or_else(|| not_itk("Bundle.entry[0].resource", "not a MessageHeader"))?;
        if header.event.code.as_deref() != Some(MessageEvent::Response.as_str()) {
            return Err(not_itk("MessageHeader.event.code", "not ITK008M"));
        }
        let response = header
            .response
            .as_ref()
            .ok_or_else(|| not_itk("MessageHeader.response", "missing"))?;
        let details = response
            .details
            .as_ref()
            .and_then(|d| d.reference.as_deref())
            .ok_or_else(|| not_itk("MessageHeader.response.details", "missing"))?;
        let outcome = resolve(bundle, details)
            .and_then(|r| match r {
                Resource::OperationOutcome(o) => Some(o),
                _ => None,
            })
            .ok_or_else(|| {
                not_itk(
                    "MessageHeader.response.details",
                    "does not resolve to an OperationOutcome in the bundle",
                )
            })?;
        let coding = outcome
            .issue
            .iter()
            .flatten()
            .find_map(|i| {
                i.details.as_ref().and_then(|d| {
                    d.coding
                        .iter()
                        .flatten()
                        .find(|c| c.system.as_deref() == Some(system::ITK_RESPONSE_CODES))
                        .map(|c| (c.code.clone().unwrap_or_default(), i.diagnostics.clone()))
                })
            })
            .ok_or_else(|| {
                not_itk(
                    "OperationOutcome.issue.details.coding",
                    "no ITK-ResponseCodes-1 code",
                )
            })?;
        let sender_reference = MessageHandling::from_extensions(&header.extension)
            .map_or_else(|_| "None".to_owned(), |h| h.sender_reference);
        let responder_id = header
            .sender
            .as_ref()
            .and_then(|s| s.reference.as_deref())
            .and_then(|r| resolve(bundle, r))
            .and_then(|r| match r {
                Resource::Organization(o) => o
                    .identifier
                    .iter()
                    .flatten()
                    .find(|i| i.system.as_deref() == Some(id_system::ODS_ORGANIZATION_CODE))
                    .and_then(|i| i.value.clone()),
                Resource::Practitioner(p) => p
                    .identifier
                    .iter()
                    .flatten()
                    .find(|i| i.system.as_deref() == Some(id_system::SDS_USER_ID))
                    .and_then(|i| i.value.clone()),
                _ => None,
            });
        Ok(ReceivedResponse {
            response: ItkResponse {
                code: ResponseCode::from_wire(&coding.0),
                in_response_to: response.identifier.clone(),
                sender_reference,
                diagnostics: coding.1,
            },
            message_id: header.id.clone().unwrap_or_default(),
            responder_mailbox: header.source.endpoint.clone(),
            responder_id,
            response_type: response.code.to_string(),
        })
    }

    /// Reads a response from FHIR JSON.
    pub fn from_json(json: &str) -> Result<ReceivedResponse> {
        match serde_json::from_str::<Resource>(json)? {
            Resource::Bundle(b) => Self::from_bundle(&b),
            other => Err(Error::UnexpectedResource {
                expected: "Bundle",
                found: other.resource_type().to_string(),
                location: "(root)".to_owned(),
            }),
        }
    }

    /// Reads a response from FHIR XML (as MESH peers often send).
    pub fn from_xml(xml: &str) -> Result<ReceivedResponse> {
        match crate::xml::from_xml(xml)? {
            Resource::Bundle(b) => Self::from_bundle(&b),
            other => Err(Error::UnexpectedResource {
                expected: "Bundle",
                found: other.resource_type().to_string(),
                location: "(root)".to_owned(),
            }),
        }
    }
}

fn first_header(bundle: &Bundle) -> Option<&MessageHeader> {
    bundle
        .entry
        .first()
        .and_then(Option::as_ref)
        .and_then(|e| e.resource.as_ref())
        .and_then(|r| match r {
            Resource::MessageHeader(h) => Some(h),
            _ => None,
        })
}

/// The entry whose `fullUrl` is `reference`.
pub(crate) fn resolve<'a>(bundle: &'a Bundle, reference: &str) -> Option<&'a Resource> {
    bundle
        .entry
        .iter()
        .flatten()
        .find(|e| e.full_url.as_deref() == Some(reference))
        .and_then(|e| e.resource.as_ref())
}
