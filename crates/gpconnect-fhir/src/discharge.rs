//! Transfer of Care mental health discharge (event ITK004D): a structured discharge summary with
//! SNOMED CT coded PRSB sections, in the ITK3 envelope.

use chrono::{DateTime, Utc};
use fhir_model::DateTime as FhirDateTime;
use fhir_model::stu3::codes::{CompositionStatus, DocumentRelationshipType, EncounterStatus};
use fhir_model::stu3::resources::{
    Composition, CompositionRelatesTo, CompositionRelatesToTarget, CompositionSection, Encounter,
    EncounterHospitalization, EncounterLocation, EncounterParticipant,
};
use fhir_model::stu3::types::{Extension, ExtensionValue, Period};

use crate::clinical::{
    Allergies, CareContact, Coded, DataDictionaryCode, Diagnosis, JobRole, LocationDetails,
    MedicationItem, ProcedureItem, Table,
};
use crate::codes::{MessageEvent, RecipientType, extension, message_definition, profile, system};
use crate::envelope::{EnvelopeIds, HeaderSpec, ItkMessage, document_bundle, message_bundle};
use crate::error::{Error, Result};
use crate::fhir::{
    coding, concept, entry, instant, meta, narrative, organization, patient as patient_resource,
    practitioner, reference, uuid_identifier, xhtml_from_text,
};
use crate::handling::MessageHandling;
use crate::ids::{IdGenerator, Uuid};
use crate::mesh::{DobFormat, MeshRouting, gpprovider_address, workflow};
use crate::model::{OrganisationDetails, PatientDetails, PractitionerDetails, non_empty};

mod coded;

pub use crate::section::{Conformance, MhSection};

/// The inpatient stay.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EncounterDetails {
    /// Admission.
    pub admitted: DateTime<Utc>,
    /// Discharge (the encounter is `finished` when set).
    pub discharged: Option<DateTime<Utc>>,
    /// The ward (a `CareConnect-Location-1` referenced from `Encounter.location`).
    pub location: Option<LocationDetails>,
    /// The document's author discharged the patient: `Encounter.participant` `DIS` and an
    /// entry of the Discharge details section (as in the public example).
    pub discharged_by_author: bool,
    /// The kind of stay (`Encounter.type`, SNOMED CT, e.g. 163771000000109 Mental health care
    /// spell).
    pub spell_type: Option<Coded>,
    /// Reasons for admission (`Encounter.reason`, SNOMED CT).
    pub reasons: Vec<Coded>,
    /// Admission method (`Extension-CareConnect-AdmissionMethod-1`).
    pub admission_method: Option<DataDictionaryCode>,
    /// Source of admission (`Encounter.hospitalization.admitSource`).
    pub admission_source: Option<DataDictionaryCode>,
    /// Discharge destination (`Encounter.hospitalization.dischargeDisposition`).
    pub discharge_destination: Option<DataDictionaryCode>,
}

impl EncounterDetails {
    /// A stay from `admitted` to `discharged`.
    pub fn new(admitted: DateTime<Utc>, discharged: Option<DateTime<Utc>>) -> Self {
        Self {
            admitted,
            discharged,
            location: None,
            discharged_by_author: false,
            spell_type: None,
            reasons: Vec::new(),
            admission_method: None,
            admission_source: None,
            discharge_destination: None,
        }
    }

    /// Sets the kind of stay (`Encounter.type`).
    pub fn spell_type(mut self, spell_type: Coded) -> Self {
        self.spell_type = Some(spell_type);
        self
    }

    /// Adds a reason for admission (`Encounter.reason`).
    pub fn reason(mut self, reason: Coded) -> Self {
        self.reasons.push(reason);
        self
    }

    /// Sets the admission method.
    pub fn admission_method(mut self, method: DataDictionaryCode) -> Self {
        self.admission_method = Some(method);
        self
    }

    /// Sets the source of admission.
    pub fn admission_source(mut self, source: DataDictionaryCode) -> Self {
        self.admission_source = Some(source);
        self
    }

    /// Sets the discharge destination.
    pub fn discharge_destination(mut self, destination: DataDictionaryCode) -> Self {
        self.discharge_destination = Some(destination);
        self
    }

    /// Whether the Admission details section has coded content (reason, method or source).
    fn admission_coded(&self) -> bool {
        !self.reasons.is_empty()
            || self.admission_method.is_some()
            || self.admission_source.is_some()
    }

    /// Whether the Discharge details section has coded content (destination or ward).
    fn discharge_coded(&self) -> bool {
        self.discharge_destination.is_some() || self.location.is_some()
    }

    /// The generated Admission details and Discharge details tables, from the same values the
    /// Encounter carries.
    fn narratives(&self) -> Vec<(MhSection, Table)> {
        let when = |t: DateTime<Utc>| t.format("%d-%b-%Y %H:%M UTC").to_string();
        let dd = |c: &Option<DataDictionaryCode>| {
            c.as_ref().map(|c| c.display.clone()).unwrap_or_default()
        };
        let mut out = Vec::new();
        if self.admission_coded() {
            let mut table = Table::new(&[
                "Reason for admission",
                "Admission method",
                "Source of admission",
                "Date/time of admission",
            ]);
            table.row(vec![
                self.reasons
                    .iter()
                    .map(|r| r.display.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                dd(&self.admission_method),
                dd(&self.admission_source),
                when(self.admitted),
            ]);
            out.push((MhSection::AdmissionDetails, table));
        }
        if self.discharge_coded() {
            let mut table = Table::new(&[
                "Date/time of discharge",
                "Discharge destination",
                "Discharge location",
            ]);
            table.row(vec![
                self.discharged.map(when).unwrap_or_default(),
                dd(&self.discharge_destination),
                self.location
                    .as_ref()
                    .map(|l| l.name.clone())
                    .unwrap_or_default(),
            ]);
            out.push((MhSection::DischargeDetails, table));
        }
        out
    }

    /// Sets the ward.
    pub fn at_location(mut self, location: LocationDetails) -> Self {
        self.location = Some(location);
        self
    }

    /// Records the author as the discharging clinician.
    pub fn discharged_by_author(mut self) -> Self {
        self.discharged_by_author = true;
        self
    }
}

/// Envelope and MESH values for a mental health discharge (several are inferred: the IG fixes
/// none of BusAck, InfAck, LocalExtension).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DischargeOptions {
    /// MessageDefinition handling key (default `ITK-MH-eDischarge-MessageDefinition-4`).
    pub message_definition: String,
    /// LocalExtension handling key (default `None`, the ITK3 default) (inferred).
    pub local_extension: String,
    /// BusAckRequested (default true, as in the NHS examples) (inferred).
    pub bus_ack_requested: bool,
    /// InfAckRequested (default true) (inferred).
    pub inf_ack_requested: bool,
    /// RecipientType (default FA).
    pub recipient_type: RecipientType,
    /// MESH workflow (default `TOC_FHIR_MH_DISCH`).
    pub workflow_id: String,
    /// MESH workflow for responses (default `TOC_FHIR_MH_DISCH_ACK`).
    pub ack_workflow_id: String,
    /// A known recipient mailbox; `None` routes by `GPPROVIDER_` demographics.
    pub recipient_mailbox: Option<String>,
    /// DOB layout for `GPPROVIDER_` routing [inferred default `YYYYMMDD`].
    pub dob_format: DobFormat,
    /// Care setting (SNOMED CT code, display); default 892811000000109 Adult mental health service.
    pub care_setting: (String, String),
}

impl Default for DischargeOptions {
    fn default() -> Self {
        Self {
            message_definition: message_definition::MH_DISCHARGE.to_owned(),
            local_extension: "None".to_owned(),
            bus_ack_requested: true,
            inf_ack_requested: true,
            recipient_type: RecipientType::ForAction,
            workflow_id: workflow::TOC_FHIR_MH_DISCH.to_owned(),
            ack_workflow_id: workflow::TOC_FHIR_MH_DISCH_ACK.to_owned(),
            recipient_mailbox: None,
            dob_format: DobFormat::YearMonthDay,
            care_setting: (
                "892811000000109".to_owned(),
                "Adult mental health service".to_owned(),
            ),
        }
    }
}

/// Builder for a mental health discharge message. The IG's mandatory sections are covered by
/// construction: Patient demographics, GP practice and Person completing record come from the
/// people passed to [`MentalHealthDischarge::new`]; Clinical summary and Allergies and adverse
/// reactions take their text there too. Further sections are added with
/// [`MentalHealthDischarge::section`].
///
/// Coded sections ([`MentalHealthDischarge::allergies`], [`diagnoses`](Self::diagnoses),
/// [`medications`](Self::medications), [`procedures`](Self::procedures),
/// [`referrer`](Self::referrer), [`distribution`](Self::distribution)) add their profiled
/// resources and `*-List-1` to the document, reference them from the section, and generate the
/// section narrative from the same values (see [`crate::clinical`]); text set with `section`
/// afterwards is shown beneath the generated table.
///
/// `Debug` lists the sections set, not their (clinical, possibly identifying) text.
#[derive(Clone)]
#[non_exhaustive]
pub struct MentalHealthDischarge {
    patient: PatientDetails,
    gp_practice: OrganisationDetails,
    custodian: OrganisationDetails,
    author: PractitionerDetails,
    sender_mailbox: String,
    created: DateTime<Utc>,
    texts: Vec<(MhSection, String)>,
    encounter: Option<EncounterDetails>,
    replaces: Option<Uuid>,
    sender_reference: Option<String>,
    options: DischargeOptions,
    coded: CodedContent,
}

/// The coded content set on a discharge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct CodedContent {
    allergies: Option<Allergies>,
    diagnoses: Vec<Diagnosis>,
    medications: Vec<MedicationItem>,
    procedures: Vec<ProcedureItem>,
    author_role: Option<JobRole>,
    author_specialty: Option<Coded>,
    referrer: Option<CareContact>,
    distribution: Vec<CareContact>,
}

impl CodedContent {
    /// Sections whose narrative is generated from entries.
    fn sections(&self) -> Vec<MhSection> {
        let mut out = Vec::new();
        if self.allergies.is_some() {
            out.push(MhSection::AllergiesAndAdverseReactions);
        }
        if !self.diagnoses.is_empty() {
            out.push(MhSection::Diagnoses);
        }
        if !self.medications.is_empty() {
            out.push(MhSection::MedicationsAndMedicalDevices);
        }
        if !self.procedures.is_empty() {
            out.push(MhSection::Procedures);
        }
        if self.referrer.is_some() {
            out.push(MhSection::ReferrerDetails);
        }
        if !self.distribution.is_empty() {
            out.push(MhSection::DistributionList);
        }
        out
    }
}

impl std::fmt::Debug for MentalHealthDischarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MentalHealthDischarge")
            .field("patient", &self.patient)
            .field("custodian", &self.custodian.ods_code)
            .field(
                "sections",
                &self.texts.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            )
            .field("encounter", &self.encounter.is_some())
            .field("coded_sections", &self.coded.sections())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl MentalHealthDischarge {
    /// A discharge summary about `patient`, for `gp_practice`, from `custodian` (the sending
    /// trust, whose MESH mailbox is `sender_mailbox`), written by `author`, at `created`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        patient: PatientDetails,
        gp_practice: OrganisationDetails,
        custodian: OrganisationDetails,
        author: PractitionerDetails,
        sender_mailbox: impl Into<String>,
        created: DateTime<Utc>,
        clinical_summary: impl Into<String>,
        allergies: impl Into<String>,
    ) -> Self {
        Self {
            patient,
            gp_practice,
            custodian,
            author,
            sender_mailbox: sender_mailbox.into(),
            created,
            texts: vec![
                (MhSection::ClinicalSummary, clinical_summary.into()),
                (MhSection::AllergiesAndAdverseReactions, allergies.into()),
            ],
            encounter: None,
            replaces: None,
            sender_reference: None,
            options: DischargeOptions::default(),
            coded: CodedContent::default(),
        }
    }

    fn clear_text(&mut self, section: MhSection) {
        self.texts.retain(|(s, _)| *s != section);
    }

    /// Codes the mandatory Allergies and adverse reactions section: the text given to
    /// [`MentalHealthDischarge::new`] is replaced by a narrative generated from `allergies`
    /// (text set later with [`MentalHealthDischarge::section`] is shown beneath it).
    pub fn allergies(mut self, allergies: Allergies) -> Self {
        self.clear_text(MhSection::AllergiesAndAdverseReactions);
        self.coded.allergies = Some(allergies);
        self
    }

    /// Codes the Diagnoses section (Condition list); replaces text set earlier for it.
    pub fn diagnoses(mut self, diagnoses: impl IntoIterator<Item = Diagnosis>) -> Self {
        self.clear_text(MhSection::Diagnoses);
        self.coded.diagnoses = diagnoses.into_iter().collect();
        self
    }

    /// Codes the Medications and medical devices section (MedicationStatement + Medication);
    /// replaces text set earlier for it.
    pub fn medications(mut self, medications: impl IntoIterator<Item = MedicationItem>) -> Self {
        self.clear_text(MhSection::MedicationsAndMedicalDevices);
        self.coded.medications = medications.into_iter().collect();
        self
    }

    /// Codes the Procedures section (Procedure list); replaces text set earlier for it.
    pub fn procedures(mut self, procedures: impl IntoIterator<Item = ProcedureItem>) -> Self {
        self.clear_text(MhSection::Procedures);
        self.coded.procedures = procedures.into_iter().collect();
        self
    }

    /// The author's job role in the custodian organisation (adds a
    /// `CareConnect-PractitionerRole-1`).
    pub fn author_role(mut self, role: JobRole) -> Self {
        self.coded.author_role = Some(role);
        self
    }

    /// The author's specialty (on the author's PractitionerRole; needs
    /// [`MentalHealthDischarge::author_role`]).
    pub fn author_specialty(mut self, specialty: Coded) -> Self {
        self.coded.author_specialty = Some(specialty);
        self
    }

    /// The Referrer details section: entries for the referrer's Practitioner and Organization
    /// (and a PractitionerRole when a role is given); replaces text set earlier for it.
    pub fn referrer(mut self, referrer: CareContact) -> Self {
        self.clear_text(MhSection::ReferrerDetails);
        self.coded.referrer = Some(referrer);
        self
    }

    /// The Distribution list section: entries for each recipient's Practitioner (their
    /// Organization and PractitionerRole are in the bundle too); replaces text set earlier.
    pub fn distribution(mut self, recipients: impl IntoIterator<Item = CareContact>) -> Self {
        self.clear_text(MhSection::DistributionList);
        self.coded.distribution = recipients.into_iter().collect();
        self
    }

    /// Sets the text of a section (plain text; one paragraph per line). Setting a section twice
    /// replaces its text.
    pub fn section(mut self, section: MhSection, text: impl Into<String>) -> Self {
        let text = text.into();
        match self.texts.iter_mut().find(|(s, _)| *s == section) {
            Some(slot) => slot.1 = text,
            None => self.texts.push((section, text)),
        }
        self
    }

    /// The inpatient stay (needed for the Admission and Discharge details sections).
    pub fn encounter(mut self, encounter: EncounterDetails) -> Self {
        self.encounter = Some(encounter);
        self
    }

    /// This document replaces the one whose Composition identifier was `original`.
    pub fn replaces(mut self, original: Uuid) -> Self {
        self.replaces = Some(original);
        self
    }

    /// The `SenderReference` handling key (default: `urn:uuid:` of the Composition).
    pub fn sender_reference(mut self, reference: impl Into<String>) -> Self {
        self.sender_reference = Some(reference.into());
        self
    }

    /// Envelope and MESH options.
    pub fn options(mut self, options: DischargeOptions) -> Self {
        self.options = options;
        self
    }

    fn check(&self) -> Result<()> {
        self.patient.check()?;
        self.gp_practice.check("gp_practice.name")?;
        self.custodian.check("custodian.name")?;
        self.author.check("author.family")?;
        non_empty("sender_mailbox", &self.sender_mailbox)?;
        let coded_sections = self.coded.sections();
        for (section, text) in &self.texts {
            if text.trim().is_empty() && !has_entries(*section) && !coded_sections.contains(section)
            {
                return Err(Error::InvalidInput {
                    field: "section",
                    reason: format!("the {} section has no text", section.title()),
                });
            }
        }
        if self.encounter.is_none()
            && self.texts.iter().any(|(s, _)| {
                matches!(s, MhSection::AdmissionDetails | MhSection::DischargeDetails)
            })
        {
            return Err(Error::InvalidInput {
                field: "encounter",
                reason: "the Admission/Discharge details sections reference the encounter"
                    .to_owned(),
            });
        }
        if matches!(&self.coded.allergies, Some(Allergies::Recorded(list)) if list.is_empty()) {
            return Err(Error::InvalidInput {
                field: "allergies",
                reason: "Recorded needs at least one allergy (use NoKnownAllergies or NotRecorded)"
                    .to_owned(),
            });
        }
        if let Some(role) = &self.coded.author_role {
            role.check()?;
        }
        if self.coded.author_specialty.is_some() && self.coded.author_role.is_none() {
            return Err(Error::InvalidInput {
                field: "author_specialty",
                reason: "the specialty sits on the author's PractitionerRole: set author_role"
                    .to_owned(),
            });
        }
        if let Some(referrer) = &self.coded.referrer {
            referrer.check("referrer")?;
        }
        for contact in &self.coded.distribution {
            contact.check("distribution")?;
        }
        for item in &self.coded.medications {
            for text in [&item.dose, &item.change_details].into_iter().flatten() {
                non_empty("medication.dose", text)?;
            }
        }
        if self
            .coded
            .medications
            .iter()
            .any(|m| !m.change.is_known() && m.change.as_str().trim().is_empty())
        {
            return Err(Error::InvalidInput {
                field: "medication.change",
                reason: "empty change status code".to_owned(),
            });
        }
        for d in &self.coded.diagnoses {
            if let Some(c) = &d.comment {
                non_empty("diagnosis.comment", c)?;
            }
        }
        Ok(())
    }

    /// Document title: care setting display + "Discharge Summary", in title case.
    pub fn title(&self) -> String {
        let setting: String = self
            .options
            .care_setting
            .1
            .split_whitespace()
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        format!("{setting} Discharge Summary")
    }

    /// Builds the message. Ids are drawn in a fixed order (message bundle, MessageHeader, header
    /// Organization, document bundle, Composition, Patient, GP Organization, custodian
    /// Organization, Practitioner, Encounter if any), then for coded content: Location, the
    /// author's PractitionerRole, each list followed by its items (allergies, diagnoses,
    /// medications: statements then medications, procedures), then the referrer's and the
    /// distribution list's Practitioner, Organization and PractitionerRole not already present.
    pub fn build(&self, ids: &mut dyn IdGenerator) -> Result<ItkMessage> {
        self.check()?;
        let opts = &self.options;
        let envelope_ids = EnvelopeIds::draw(ids);
        let document_id = ids.next_uuid();
        let composition_id = ids.next_uuid();
        let patient_id = ids.next_uuid();
        let gp_id = ids.next_uuid();
        let custodian_id = ids.next_uuid();
        let practitioner_id = ids.next_uuid();
        let encounter_id = self.encounter.as_ref().map(|_| ids.next_uuid());
        let mut coded = coded::build(
            &self.coded,
            coded::Context {
                patient: &patient_id,
                encounter: encounter_id.as_ref(),
                author: &practitioner_id,
                author_details: &self.author,
                custodian: (&custodian_id, &self.custodian),
                gp: (&gp_id, &self.gp_practice),
                location: self.encounter.as_ref().and_then(|e| e.location.as_ref()),
            },
            ids,
        )?;
        if let Some(stay) = &self.encounter {
            coded.narratives.extend(stay.narratives());
        }
        let discharged_by_author = self
            .encounter
            .as_ref()
            .is_some_and(|e| e.discharged_by_author);

        let mut texts: Vec<(MhSection, String)> = self.texts.clone();
        for (section, default) in [
            (MhSection::PatientDemographics, "See the Patient resource."),
            (
                MhSection::GpPractice,
                "See the GP practice Organization resource.",
            ),
            (
                MhSection::PersonCompletingRecord,
                "See the Practitioner resource.",
            ),
        ] {
            if !texts.iter().any(|(s, _)| *s == section) {
                texts.push((section, default.to_owned()));
            }
        }
        let mut all: Vec<(MhSection, Option<&str>)> =
            texts.iter().map(|(s, t)| (*s, Some(t.as_str()))).collect();
        for section in coded.narratives.keys() {
            if !all.iter().any(|(s, _)| s == section) {
                all.push((*section, None));
            }
        }
        all.sort_by_key(|(s, _)| *s);

        let sections = all
            .iter()
            .map(|(section, text)| {
                let mut targets: Vec<&Uuid> = match section {
                    MhSection::PatientDemographics => vec![&patient_id],
                    MhSection::GpPractice => vec![&gp_id],
                    MhSection::PersonCompletingRecord => vec![&practitioner_id],
                    MhSection::AdmissionDetails => encounter_id.iter().collect(),
                    MhSection::DischargeDetails => {
                        let mut t: Vec<&Uuid> = encounter_id.iter().collect();
                        if discharged_by_author {
                            t.push(&practitioner_id);
                        }
                        t
                    }
                    _ => Vec::new(),
                };
                if let Some(more) = coded.section_entries.get(section) {
                    targets.extend(more.iter());
                }
                let div = match coded.narratives.get(section) {
                    Some(table) => table.xhtml(
                        coded.leads.get(section).map(String::as_str),
                        text.filter(|t| !t.trim().is_empty()),
                    ),
                    None => xhtml_from_text(text.unwrap_or("")),
                };
                let mut b = CompositionSection::builder()
                    .title(section.title().to_owned())
                    .code(concept(system::SNOMED_CT, section.code(), section.title())?)
                    .text(narrative(div)?);
                if !targets.is_empty() {
                    b = b.entry(
                        targets
                            .into_iter()
                            .map(|t| reference(t).map(Some))
                            .collect::<Result<Vec<_>>>()?,
                    );
                }
                Ok(Some(b.build()?))
            })
            .collect::<Result<Vec<_>>>()?;

        let care_setting = Extension::builder()
            .url(extension::CARE_SETTING_TYPE.to_owned())
            .value(ExtensionValue::CodeableConcept(concept(
                system::SNOMED_CT,
                &opts.care_setting.0,
                &opts.care_setting.1,
            )?))
            .build()?;
        let title = self.title();
        let mut composition = Composition::builder()
            .id(composition_id.to_string())
            .meta(meta(profile::ITK_MH_COMPOSITION)?)
            .extension(vec![care_setting])
            .identifier(uuid_identifier(&composition_id)?)
            .status(CompositionStatus::Final)
            .r#type(concept(
                system::SNOMED_CT,
                "373942005",
                "Discharge summary",
            )?)
            .subject(reference(&patient_id)?)
            .date(FhirDateTime::DateTime(instant(self.created)?))
            .author(vec![Some(reference(&practitioner_id)?)])
            .title(title.clone())
            .custodian(reference(&custodian_id)?)
            .section(sections);
        if let Some(id) = &encounter_id {
            composition = composition.encounter(reference(id)?);
        }
        if let Some(original) = &self.replaces {
            composition = composition.relates_to(vec![Some(
                CompositionRelatesTo::builder()
                    .code(DocumentRelationshipType::Replaces)
                    .target(CompositionRelatesToTarget::Identifier(uuid_identifier(
                        original,
                    )?))
                    .build()?,
            )]);
        }

        let mut entries = vec![
            entry(&composition_id, composition.build()?)?,
            entry(&patient_id, patient_resource(&patient_id, &self.patient)?)?,
            entry(&gp_id, organization(&gp_id, &self.gp_practice)?)?,
            entry(&custodian_id, organization(&custodian_id, &self.custodian)?)?,
            entry(
                &practitioner_id,
                practitioner(&practitioner_id, &self.author)?,
            )?,
        ];
        if let (Some(id), Some(stay)) = (&encounter_id, &self.encounter) {
            let mut period =
                Period::builder().start(FhirDateTime::DateTime(instant(stay.admitted)?));
            if let Some(end) = stay.discharged {
                period = period.end(FhirDateTime::DateTime(instant(end)?));
            }
            let mut encounter = Encounter::builder();
            if stay.discharged_by_author {
                encounter = encounter.participant(vec![Some(
                    EncounterParticipant::builder()
                        .r#type(vec![Some(concept(
                            system::PARTICIPATION_TYPE,
                            "DIS",
                            "discharger",
                        )?)])
                        .individual(reference(&practitioner_id)?)
                        .build()?,
                )]);
            }
            if let Some(location) = &coded.location_id {
                encounter = encounter.location(vec![Some(
                    EncounterLocation::builder()
                        .location(reference(location)?)
                        .build()?,
                )]);
            }
            if let Some(spell_type) = &stay.spell_type {
                encounter = encounter.r#type(vec![Some(concept(
                    system::SNOMED_CT,
                    spell_type.code.as_str(),
                    &spell_type.display,
                )?)]);
            }
            if !stay.reasons.is_empty() {
                encounter = encounter.reason(
                    stay.reasons
                        .iter()
                        .map(|r| concept(system::SNOMED_CT, r.code.as_str(), &r.display).map(Some))
                        .collect::<Result<Vec<_>>>()?,
                );
            }
            if let Some(method) = &stay.admission_method {
                encounter = encounter.extension(vec![
                    Extension::builder()
                        .url(extension::ADMISSION_METHOD.to_owned())
                        .value(ExtensionValue::CodeableConcept(concept(
                            system::ADMISSION_METHOD,
                            &method.code,
                            &method.display,
                        )?))
                        .build()?,
                ]);
            }
            if stay.admission_source.is_some() || stay.discharge_destination.is_some() {
                let mut h = EncounterHospitalization::builder();
                if let Some(source) = &stay.admission_source {
                    h = h.admit_source(concept(
                        system::SOURCE_OF_ADMISSION,
                        &source.code,
                        &source.display,
                    )?);
                }
                if let Some(destination) = &stay.discharge_destination {
                    h = h.discharge_disposition(concept(
                        system::DISCHARGE_DESTINATION,
                        &destination.code,
                        &destination.display,
                    )?);
                }
                encounter = encounter.hospitalization(h.build()?);
            }
            let encounter = encounter
                .id(id.to_string())
                .meta(meta(profile::ITK_ENCOUNTER)?)
                .status(if stay.discharged.is_some() {
                    EncounterStatus::Finished
                } else {
                    EncounterStatus::InProgress
                })
                .class(coding(system::ACT_CODE, "IMP", "inpatient encounter")?)
                .subject(reference(&patient_id)?)
                .period(period.build()?)
                .service_provider(reference(&custodian_id)?)
                .build()?;
            entries.push(entry(id, encounter)?);
        }
        entries.extend(coded.entries);
        let document = document_bundle(&document_id, entries)?;

        let handling = MessageHandling {
            bus_ack_requested: opts.bus_ack_requested,
            inf_ack_requested: opts.inf_ack_requested,
            recipient_type: opts.recipient_type.clone(),
            message_definition: opts.message_definition.clone(),
            sender_reference: self
                .sender_reference
                .clone()
                .unwrap_or_else(|| composition_id.urn()),
            local_extension: opts.local_extension.clone(),
        };
        let built = message_bundle(
            HeaderSpec {
                event: MessageEvent::MentalHealthEDischarge,
                handling: &handling,
                sender_ods: &self.custodian.ods_code,
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
            to: opts
                .recipient_mailbox
                .clone()
                .unwrap_or_else(|| gpprovider_address(&self.patient, opts.dob_format)),
            workflow_id: opts.workflow_id.clone(),
            ack_workflow_id: opts.ack_workflow_id.clone(),
            subject: format!(
                "{title} for {}, NHS Number: {}",
                self.patient.display_name(),
                self.patient.nhs_number.expose()
            ),
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
}

fn has_entries(section: MhSection) -> bool {
    matches!(
        section,
        MhSection::PatientDemographics
            | MhSection::GpPractice
            | MhSection::PersonCompletingRecord
            | MhSection::AdmissionDetails
            | MhSection::DischargeDetails
    )
}
