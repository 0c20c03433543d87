//! The ITK3 message envelope shared by every message this crate builds.

use chrono::{DateTime, Utc};
use fhir_model::stu3::codes::BundleType;
use fhir_model::stu3::resources::{
    Bundle, BundleEntry, MessageHeader, MessageHeaderResponse, MessageHeaderSource, Resource,
};
use nhs_identifiers::OdsCode;

use crate::codes::{MessageEvent, profile, system};
use crate::error::Result;
use crate::fhir::{coding, entry, header_organization, instant, meta, reference, uuid_identifier};
use crate::handling::MessageHandling;
use crate::ids::{IdGenerator, Uuid};
use crate::mesh::MeshRouting;

/// A built ITK3 message: the FHIR message bundle plus the MESH fields to send it with.
///
/// `Debug` shows ids and the (masked) MESH fields only, never the bundle's patient data.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct ItkMessage {
    /// The `Bundle` of type `message` (MessageHeader first).
    pub bundle: Bundle,
    /// MESH envelope fields.
    pub mesh: MeshRouting,
    /// `MessageHeader.id`: responses quote it in `MessageHeader.response.identifier`.
    pub message_id: Uuid,
    /// `Bundle.identifier` of the message bundle (ITK3 duplicate check 20007).
    pub bundle_identifier: Uuid,
    /// `Bundle.identifier` of the document bundle (duplicate check 20008), if there is one.
    pub document_identifier: Option<Uuid>,
}

impl std::fmt::Debug for ItkMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItkMessage")
            .field("message_id", &self.message_id)
            .field("bundle_identifier", &self.bundle_identifier)
            .field("document_identifier", &self.document_identifier)
            .field("entries", &self.bundle.entry.len())
            .field("mesh", &self.mesh)
            .finish_non_exhaustive()
    }
}

impl ItkMessage {
    /// FHIR JSON (compact).
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string(&self.bundle)?)
    }

    /// FHIR JSON, indented.
    pub fn to_json_pretty(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(&self.bundle)?)
    }

    /// FHIR XML.
    pub fn to_xml(&self) -> Result<String> {
        crate::xml::to_xml(&self.bundle)
    }
}

/// What goes into a MessageHeader.
pub(crate) struct HeaderSpec<'a> {
    pub event: MessageEvent,
    pub handling: &'a MessageHandling,
    pub sender_ods: &'a OdsCode,
    pub source_endpoint: &'a str,
    pub timestamp: DateTime<Utc>,
    /// The payload (`MessageHeader.focus`) with its id.
    pub focus: Option<(Uuid, Resource)>,
    /// For responses.
    pub response: Option<MessageHeaderResponse>,
    /// Further entries after the header organisation (and the focus).
    pub extra_entries: Vec<BundleEntry>,
}

/// The three ids the envelope needs, drawn before the payload's ids.
pub(crate) struct EnvelopeIds {
    pub bundle: Uuid,
    pub header: Uuid,
    pub sender: Uuid,
}

impl EnvelopeIds {
    /// Draws, in order: message bundle id, MessageHeader id, header Organization id.
    pub(crate) fn draw(ids: &mut dyn IdGenerator) -> Self {
        let bundle = ids.next_uuid();
        let header = ids.next_uuid();
        let sender = ids.next_uuid();
        Self {
            bundle,
            header,
            sender,
        }
    }
}

pub(crate) struct BuiltEnvelope {
    pub bundle: Bundle,
    pub message_id: Uuid,
    pub bundle_identifier: Uuid,
}

/// The message bundle around a header built from `spec`.
pub(crate) fn message_bundle(spec: HeaderSpec<'_>, ids: EnvelopeIds) -> Result<BuiltEnvelope> {
    let EnvelopeIds {
        bundle: bundle_id,
        header: header_id,
        sender: sender_id,
    } = ids;

    let source = MessageHeaderSource::builder()
        .endpoint(spec.source_endpoint.to_owned())
        .build()?;
    let mut header = MessageHeader::builder()
        .id(header_id.to_string())
        .meta(meta(profile::ITK_MESSAGE_HEADER)?)
        .extension(vec![spec.handling.to_extension()?])
        .event(coding(
            system::ITK_MESSAGE_EVENT,
            spec.event.as_str(),
            spec.event.display(),
        )?)
        .sender(reference(&sender_id)?)
        .timestamp(instant(spec.timestamp)?)
        .source(source);
    if let Some((focus_id, _)) = &spec.focus {
        header = header.focus(vec![Some(reference(focus_id)?)]);
    }
    if let Some(response) = spec.response {
        header = header.response(response);
    }
    let header = header.build()?;

    let mut entries = vec![
        Some(entry(&header_id, header)?),
        Some(entry(
            &sender_id,
            header_organization(&sender_id, spec.sender_ods)?,
        )?),
    ];
    if let Some((focus_id, focus)) = spec.focus {
        entries.push(Some(entry(&focus_id, focus)?));
    }
    entries.extend(spec.extra_entries.into_iter().map(Some));

    let bundle = Bundle::builder()
        .id(bundle_id.to_string())
        .meta(meta(profile::ITK_MESSAGE_BUNDLE)?)
        .identifier(uuid_identifier(&bundle_id)?)
        .r#type(BundleType::Message)
        .entry(entries)
        .build()?;
    Ok(BuiltEnvelope {
        bundle,
        message_id: header_id,
        bundle_identifier: bundle_id,
    })
}

/// A document bundle (`ITK-Document-Bundle-1`) with the given entries (Composition first).
pub(crate) fn document_bundle(id: &Uuid, entries: Vec<BundleEntry>) -> Result<Bundle> {
    Ok(Bundle::builder()
        .id(id.to_string())
        .meta(meta(profile::ITK_DOCUMENT_BUNDLE)?)
        .identifier(uuid_identifier(id)?)
        .r#type(BundleType::Document)
        .entry(entries.into_iter().map(Some).collect())
        .build()?)
}
