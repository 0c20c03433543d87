//! GP Connect Send Document (event ITK007C): a document for the patient's GP practice.

use chrono::{DateTime, Utc};
use fhir_model::DateTime as FhirDateTime;
use fhir_model::stu3::codes::{CompositionStatus, DocumentRelationshipType};
use fhir_model::stu3::resources::{Composition, CompositionRelatesTo, CompositionSection};

use crate::codes::{
    GuideVersion, MessageEvent, RecipientType, message_definition, profile, system,
};
use crate::envelope::{EnvelopeIds, HeaderSpec, ItkMessage, document_bundle, message_bundle};
use crate::error::{Error, Result};
use crate::fhir::{
    XHTML_NS, binary, concept, entry, escape_text, instant, meta, narrative, organization,
    patient as patient_resource, practitioner, reference, uuid_identifier,
};
use crate::handling::MessageHandling;
use crate::ids::{IdGenerator, Uuid};
use crate::mesh::{DobFormat, MeshRouting, gpprovider_address, workflow};
use crate::model::{
    AttachmentData, OrganisationDetails, PatientDetails, PractitionerDetails, non_empty,
};

/// What `Composition.author` references.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CompositionAuthor {
    /// The sending organisation (Simplifier guide GPCM-SD-107); a known practitioner follows it
    /// as a second author.
    SenderOrganisation,
    /// The practitioner (gpconnect-messaging site); needs [`SendDocument::author`].
    Practitioner,
}

/// SNOMED CT document type (`Composition.type`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DocumentType {
    /// 371531000 Report of clinical encounter.
    ReportOfClinicalEncounter,
    /// 149701000000109 Remote health correspondence.
    RemoteHealthCorrespondence,
    /// 149951000000107 (online consultation report).
    OnlineConsultationReport,
    /// Another SNOMED CT record artifact.
    Other {
        /// SNOMED CT concept id.
        code: String,
        /// Its display term.
        display: String,
    },
}

impl DocumentType {
    /// SNOMED CT code.
    pub fn code(&self) -> &str {
        match self {
            Self::ReportOfClinicalEncounter => "371531000",
            Self::RemoteHealthCorrespondence => "149701000000109",
            Self::OnlineConsultationReport => "149951000000107",
            Self::Other { code, .. } => code,
        }
    }

    /// Display term.
    pub fn display(&self) -> &str {
        match self {
            Self::ReportOfClinicalEncounter => "Report of clinical encounter",
            Self::RemoteHealthCorrespondence => "Remote health correspondence",
            Self::OnlineConsultationReport => "Online consultation report",
            Self::Other { display, .. } => display,
        }
    }
}

/// `Composition.confidentiality`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Confidentiality {
    /// `N`: normal.
    #[default]
    Normal,
    /// `R`: restricted; patient details stay out of the summary text and MESH subject.
    Restricted,
}

/// The values on which the guide editions differ, plus the inferred choices. Start from
/// [`SendDocumentOptions::for_version`] and override single fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendDocumentOptions {
    /// The `MessageDefinition` handling key.
    pub message_definition: String,
    /// The `LocalExtension` handling key.
    pub local_extension: String,
    /// MESH workflow id.
    pub workflow_id: String,
    /// MESH workflow id for responses (inferred; not fixed by an NHS source).
    pub ack_workflow_id: String,
    /// Date-of-birth layout in the GPPROVIDER address (inferred default `YYYYMMDD`).
    pub dob_format: DobFormat,
    /// What `Composition.author` references.
    pub composition_author: CompositionAuthor,
    /// The `RecipientType` handling key.
    pub recipient_type: RecipientType,
}

impl SendDocumentOptions {
    /// The values a guide edition prescribes.
    pub fn for_version(version: GuideVersion) -> Self {
        match version {
            GuideVersion::GpConnectMessaging1_5 => Self {
                message_definition: message_definition::SEND_DOCUMENT_LEGACY.to_owned(),
                local_extension: "SendDocument-Generic".to_owned(),
                workflow_id: workflow::GPFED_CONSULT_REPORT.to_owned(),
                ack_workflow_id: workflow::GPFED_CONSULT_REPORT_ACK.to_owned(),
                dob_format: DobFormat::DayMonthYear,
                composition_author: CompositionAuthor::Practitioner,
                recipient_type: RecipientType::ForAction,
            },
            GuideVersion::Current => Self {
                message_definition: message_definition::SEND_DOCUMENT_CURRENT.to_owned(),
                local_extension: "NONE".to_owned(),
                workflow_id: workflow::GPCONNECT_SEND_DOCUMENT.to_owned(),
                ack_workflow_id: workflow::GPCONNECT_SEND_DOCUMENT_ACK.to_owned(),
                dob_format: DobFormat::YearMonthDay,
                composition_author: CompositionAuthor::SenderOrganisation,
                recipient_type: RecipientType::ForAction,
            },
        }
    }
}

impl Default for SendDocumentOptions {
    fn default() -> Self {
        Self::for_version(GuideVersion::Current)
    }
}

/// Builder for a Send Document message. Required inputs go to [`SendDocument::new`]; the rest
/// have defaults. At least one attachment is required (the first is the primary document).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SendDocument {
    patient: PatientDetails,
    sender: OrganisationDetails,
    sender_mailbox: String,
    title: String,
    created: DateTime<Utc>,
    author: Option<PractitionerDetails>,
    attachments: Vec<AttachmentData>,
    document_type: DocumentType,
    confidentiality: Confidentiality,
    version: u32,
    replaces: Option<Uuid>,
    sender_reference: Option<String>,
    options: SendDocumentOptions,
}

impl SendDocument {
    /// A message about `patient` from `sender` (whose MESH mailbox is `sender_mailbox`),
    /// titled `title`, created at `created` (also the MessageHeader timestamp).
    pub fn new(
        patient: PatientDetails,
        sender: OrganisationDetails,
        sender_mailbox: impl Into<String>,
        title: impl Into<String>,
        created: DateTime<Utc>,
    ) -> Self {
        Self {
            patient,
            sender,
            sender_mailbox: sender_mailbox.into(),
            title: title.into(),
            created,
            author: None,
            attachments: Vec::new(),
            document_type: DocumentType::ReportOfClinicalEncounter,
            confidentiality: Confidentiality::Normal,
            version: 1,
            replaces: None,
            sender_reference: None,
            options: SendDocumentOptions::default(),
        }
    }

    /// The clinician who wrote the document (CareConnect-Practitioner-1, "required if known").
    pub fn author(mut self, author: PractitionerDetails) -> Self {
        self.author = Some(author);
        self
    }

    /// Adds an attachment; the first one added is the primary document.
    pub fn attachment(mut self, attachment: AttachmentData) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// The SNOMED CT document type (default: report of clinical encounter).
    pub fn document_type(mut self, document_type: DocumentType) -> Self {
        self.document_type = document_type;
        self
    }

    /// Confidentiality (default normal).
    pub fn confidentiality(mut self, confidentiality: Confidentiality) -> Self {
        self.confidentiality = confidentiality;
        self
    }

    /// Marks this message as version `version` replacing the document whose Composition
    /// identifier was `original`.
    pub fn replaces(mut self, original: Uuid, version: u32) -> Self {
        self.replaces = Some(original);
        self.version = version;
        self
    }

    /// The `SenderReference` handling key (default: `urn:uuid:` of the Composition).
    pub fn sender_reference(mut self, reference: impl Into<String>) -> Self {
        self.sender_reference = Some(reference.into());
        self
    }

    /// Edition-dependent values.
    pub fn options(mut self, options: SendDocumentOptions) -> Self {
        self.options = options;
        self
    }

    /// Builds the message. Ids are drawn from `ids` in a fixed order (message bundle,
    /// MessageHeader, header Organization, document bundle, Composition, one per attachment,
    /// Practitioner if any, Organization, Patient).
    pub fn build(&self, ids: &mut dyn IdGenerator) -> Result<ItkMessage> {
        self.check()?;
        let opts = &self.options;
        let envelope_ids = EnvelopeIds::draw(ids);

        let document_id = ids.next_uuid();
        let composition_id = ids.next_uuid();
        let binary_ids: Vec<Uuid> = self.attachments.iter().map(|_| ids.next_uuid()).collect();
        let practitioner_id = self.author.as_ref().map(|_| ids.next_uuid());
        let organization_id = ids.next_uuid();
        let patient_id = ids.next_uuid();

        // Composition.author is 1..*: the configured author first; a known practitioner is
        // listed too when the organisation is the author, so every entry is referenced.
        let authors = match (opts.composition_author, &practitioner_id) {
            (CompositionAuthor::Practitioner, Some(p)) => vec![Some(reference(p)?)],
            (CompositionAuthor::Practitioner, None) => {
                return Err(Error::InvalidInput {
                    field: "author",
                    reason: "Composition.author is set to the practitioner, but none was given"
                        .to_owned(),
                });
            }
            (CompositionAuthor::SenderOrganisation, Some(p)) => {
                vec![Some(reference(&organization_id)?), Some(reference(p)?)]
            }
            (CompositionAuthor::SenderOrganisation, None) => {
                vec![Some(reference(&organization_id)?)]
            }
        };

        let sections = self
            .attachments
            .iter()
            .zip(&binary_ids)
            .map(|(a, id)| {
                Ok(Some(
                    CompositionSection::builder()
                        .title(a.title.clone())
                        .entry(vec![Some(reference(id)?)])
                        .build()?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;

        let mut composition = Composition::builder()
            .id(composition_id.to_string())
            .meta(meta(profile::CARECONNECT_COMPOSITION)?)
            .text(narrative(self.summary_div())?)
            .identifier(uuid_identifier(&composition_id)?)
            .status(CompositionStatus::Final)
            .r#type(concept(
                system::SNOMED_CT,
                self.document_type.code(),
                self.document_type.display(),
            )?)
            .subject(reference(&patient_id)?)
            .date(FhirDateTime::DateTime(instant(self.created)?))
            .author(authors)
            .title(self.title.clone())
            .confidentiality(
                match self.confidentiality {
                    Confidentiality::Normal => "N",
                    Confidentiality::Restricted => "R",
                }
                .to_owned(),
            )
            .custodian(reference(&organization_id)?)
            .section(sections);
        if let Some(original) = &self.replaces {
            composition = composition.relates_to(vec![Some(
                CompositionRelatesTo::builder()
                    .code(DocumentRelationshipType::Replaces)
                    .target(
                        fhir_model::stu3::resources::CompositionRelatesToTarget::Identifier(
                            uuid_identifier(original)?,
                        ),
                    )
                    .build()?,
            )]);
        }

        let mut entries = vec![entry(&composition_id, composition.build()?)?];
        for (a, id) in self.attachments.iter().zip(&binary_ids) {
            entries.push(entry(id, binary(id, &a.content_type, &a.data)?)?);
        }
        if let (Some(p), Some(id)) = (&self.author, &practitioner_id) {
            entries.push(entry(id, practitioner(id, p)?)?);
        }
        entries.push(entry(
            &organization_id,
            organization(&organization_id, &self.sender)?,
        )?);
        entries.push(entry(
            &patient_id,
            patient_resource(&patient_id, &self.patient)?,
        )?);
        let document = document_bundle(&document_id, entries)?;

        let mut handling = MessageHandling::for_action(opts.message_definition.clone());
        handling.recipient_type = opts.recipient_type.clone();
        handling.local_extension = opts.local_extension.clone();
        handling.sender_reference = self
            .sender_reference
            .clone()
            .unwrap_or_else(|| composition_id.urn());
        let built = message_bundle(
            HeaderSpec {
                event: MessageEvent::GpConnectSendDocument,
                handling: &handling,
                sender_ods: &self.sender.ods_code,
                source_endpoint: &self.sender_mailbox,
                timestamp: self.created,
                focus: Some((document_id.clone(), document.into())),
                response: None,
                extra_entries: Vec::new(),
            },
            envelope_ids,
        )?;

        let mesh = MeshRouting {
            from: self.sender_mailbox.clone(),
            to: gpprovider_address(&self.patient, opts.dob_format),
            workflow_id: opts.workflow_id.clone(),
            ack_workflow_id: opts.ack_workflow_id.clone(),
            subject: self.mesh_subject(),
            local_id: built.bundle_identifier.to_string(),
        };
        Ok(ItkMessage {
            bundle: built.bundle,
            mesh,
            message_id: built.message_id,
            bundle_identifier: built.bundle_identifier,
            document_identifier: Some(document_id),
        })
    }

    fn check(&self) -> Result<()> {
        self.patient.check()?;
        self.sender.check("sender.name")?;
        non_empty("title", &self.title)?;
        non_empty("sender_mailbox", &self.sender_mailbox)?;
        if let Some(author) = &self.author {
            author.check("author.family")?;
        }
        if self.attachments.is_empty() {
            return Err(Error::InvalidInput {
                field: "attachment",
                reason: "a Send Document message needs at least one attachment".to_owned(),
            });
        }
        for a in &self.attachments {
            a.check()?;
        }
        if self.version == 0 {
            return Err(Error::InvalidInput {
                field: "version",
                reason: "versions start at 1".to_owned(),
            });
        }
        Ok(())
    }

    /// `{title} for {patient}, NHS Number {n}, seen at {org}, ODS Code {ods}, Version {v}`;
    /// only title and version when restricted.
    fn summary_text(&self) -> String {
        match self.confidentiality {
            Confidentiality::Restricted => format!("{}, Version {}", self.title, self.version),
            Confidentiality::Normal => format!(
                "{} for {}, NHS Number {}, seen at {}, ODS Code {}, Version {}",
                self.title,
                self.patient.display_name(),
                self.patient.nhs_number.expose(),
                self.sender.name,
                self.sender.ods_code.as_str(),
                self.version
            ),
        }
    }

    fn summary_div(&self) -> String {
        format!(
            "<div xmlns=\"{XHTML_NS}\"><p>{}</p></div>",
            escape_text(&self.summary_text())
        )
    }

    fn mesh_subject(&self) -> String {
        match self.confidentiality {
            Confidentiality::Restricted => format!("{}, Version: {}", self.title, self.version),
            Confidentiality::Normal => format!(
                "{} for {}, NHS Number: {}, seen at {}, {}, Version: {}",
                self.title,
                self.patient.display_name(),
                self.patient.nhs_number.expose(),
                self.sender.name,
                self.sender.ods_code.as_str(),
                self.version
            ),
        }
    }
}
