//! The coded part of a mental health discharge: the profiled resources, their `*-List-1`
//! grouping, the section entries and the narrative tables, all from the same inputs.

use std::collections::BTreeMap;
use std::str::FromStr;

use fhir_model::DateTime as FhirDateTime;
use fhir_model::stu3::codes::{
    AllergyIntoleranceCategory, AllergyIntoleranceClinicalStatus, AllergyIntoleranceCriticality,
    AllergyIntoleranceVerificationStatus, EventStatus, ListMode, ListStatus,
    MedicationStatementStatus, MedicationStatementTaken,
};
use fhir_model::stu3::resources::{
    AllergyIntolerance, AllergyIntoleranceReaction, BundleEntry, Condition, ConditionOnset, List,
    ListEntry, Location, Medication, MedicationStatement, MedicationStatementMedication,
    PractitionerRole, Procedure, ProcedurePerformed,
};
use fhir_model::stu3::types::{Annotation, CodeableConcept, Dosage, Extension, ExtensionValue};

use super::MhSection;
use crate::clinical::{
    Allergies, CareContact, Coded, CodedList, JobRole, LocationDetails, NO_KNOWN_ALLERGY, Table,
    date_text, label, opt_label,
};
use crate::codes::{extension, profile, system};
use crate::error::{Error, Result};
use crate::fhir::{
    concept, date, entry, identifier, meta, organization, practitioner, reference, uuid_identifier,
};
use crate::ids::{IdGenerator, Uuid};
use crate::model::{OrganisationDetails, PractitionerDetails};

use super::CodedContent;

/// What the coded resources hang off.
pub(super) struct Context<'a> {
    pub patient: &'a Uuid,
    pub encounter: Option<&'a Uuid>,
    pub author: &'a Uuid,
    pub author_details: &'a PractitionerDetails,
    pub custodian: (&'a Uuid, &'a OrganisationDetails),
    pub gp: (&'a Uuid, &'a OrganisationDetails),
    pub location: Option<&'a LocationDetails>,
}

/// The built coded content.
#[derive(Default)]
pub(super) struct Built {
    /// Bundle entries, in id-draw order.
    pub entries: Vec<BundleEntry>,
    /// Extra `section.entry` targets per section.
    pub section_entries: BTreeMap<MhSection, Vec<Uuid>>,
    /// Generated narrative per coded section.
    pub narratives: BTreeMap<MhSection, Table>,
    /// A first paragraph for a coded section's narrative.
    pub leads: BTreeMap<MhSection, String>,
    /// The Location resource, for `Encounter.location`.
    pub location_id: Option<Uuid>,
}

fn wire<T: FromStr>(code: &str, field: &'static str) -> Result<T> {
    code.parse().map_err(|_| Error::InvalidInput {
        field,
        reason: "code not known to the FHIR STU3 model".to_owned(),
    })
}

fn snomed(c: &Coded) -> Result<CodeableConcept> {
    concept(system::SNOMED_CT, c.code.as_str(), &c.display)
}

fn person_name(p: &PractitionerDetails) -> String {
    let mut parts: Vec<&str> = p.prefix.iter().map(String::as_str).collect();
    parts.extend(p.given.iter().map(String::as_str));
    parts.push(&p.family);
    parts.join(" ")
}

/// People and organisations already in the bundle, so each appears once.
struct Parties<'a> {
    practitioners: Vec<(&'a PractitionerDetails, Uuid)>,
    organisations: Vec<(&'a str, Uuid)>,
    roles: Vec<(Uuid, Uuid, &'a JobRole)>,
}

impl<'a> Built {
    fn push(
        &mut self,
        id: &Uuid,
        resource: impl Into<fhir_model::stu3::resources::Resource>,
    ) -> Result<()> {
        self.entries.push(entry(id, resource)?);
        Ok(())
    }

    fn list(
        &mut self,
        kind: CodedList,
        ctx: &Context<'a>,
        id: &Uuid,
        items: &[Uuid],
        empty_reason: Option<CodeableConcept>,
    ) -> Result<()> {
        let (code, display) = kind.code();
        let mut b = List::builder()
            .id(id.to_string())
            .meta(meta(kind.profile())?)
            .identifier(vec![Some(uuid_identifier(id)?)])
            .status(ListStatus::Current)
            .mode(ListMode::Snapshot)
            .code(concept(system::SNOMED_CT, code, display)?)
            .subject(reference(ctx.patient)?)
            .source(reference(ctx.author)?);
        if let Some(enc) = ctx.encounter {
            b = b.encounter(reference(enc)?);
        }
        if !items.is_empty() {
            b = b.entry(
                items
                    .iter()
                    .map(|i| Ok(Some(ListEntry::builder().item(reference(i)?).build()?)))
                    .collect::<Result<Vec<_>>>()?,
            );
        }
        if let Some(reason) = empty_reason {
            b = b.empty_reason(reason);
        }
        self.push(id, b.build()?)?;
        self.section_entries
            .entry(kind.section())
            .or_default()
            .push(id.clone());
        Ok(())
    }
}

pub(super) fn build<'a>(
    content: &'a CodedContent,
    ctx: Context<'a>,
    ids: &mut dyn IdGenerator,
) -> Result<Built> {
    let mut out = Built::default();

    if let Some(loc) = ctx.location {
        let id = ids.next_uuid();
        let mut b = Location::builder()
            .id(id.to_string())
            .meta(meta(profile::CARECONNECT_LOCATION)?)
            .name(loc.name.clone())
            .managing_organization(reference(ctx.custodian.0)?);
        if let Some(local) = &loc.local_identifier {
            b = b.identifier(vec![Some(identifier(
                system::LOCAL_LOCATION_IDENTIFIER,
                local,
            )?)]);
        }
        out.push(&id, b.build()?)?;
        out.location_id = Some(id);
    }

    let mut parties = Parties {
        practitioners: vec![(ctx.author_details, ctx.author.clone())],
        organisations: vec![
            (ctx.custodian.1.ods_code.as_str(), ctx.custodian.0.clone()),
            (ctx.gp.1.ods_code.as_str(), ctx.gp.0.clone()),
        ],
        roles: Vec::new(),
    };

    if let Some(role) = &content.author_role {
        let id = ids.next_uuid();
        let res = practitioner_role(
            &id,
            ctx.author,
            ctx.custodian.0,
            role,
            content.author_specialty.as_ref(),
        )?;
        out.push(&id, res)?;
        parties
            .roles
            .push((ctx.author.clone(), ctx.custodian.0.clone(), role));
    }

    if let Some(allergies) = &content.allergies {
        allergy_section(&mut out, allergies, &ctx, ids)?;
    }
    if !content.diagnoses.is_empty() {
        let list_id = ids.next_uuid();
        let mut table = Table::new(&["Diagnosis", "Status", "Onset", "Comment"]);
        let mut items = Vec::new();
        let mut resources = Vec::new();
        for d in &content.diagnoses {
            let id = ids.next_uuid();
            let mut b = Condition::builder()
                .id(id.to_string())
                .meta(meta(profile::ITK_CONDITION)?)
                .identifier(vec![Some(uuid_identifier(&id)?)])
                .clinical_status(d.status.as_str().to_owned())
                .code(snomed(&d.concept)?)
                .subject(reference(ctx.patient)?);
            if let Some(enc) = ctx.encounter {
                b = b.context(reference(enc)?);
            }
            if let Some(onset) = d.onset {
                b = b.onset(ConditionOnset::DateTime(FhirDateTime::Date(date(onset)?)));
            }
            if let Some(comment) = &d.comment {
                b = b.note(vec![Some(
                    Annotation::builder().text(comment.clone()).build()?,
                )]);
            }
            resources.push((id.clone(), b.build()?));
            items.push(id);
            table.row(vec![
                d.concept.display.clone(),
                label(d.status.display(), d.status.as_str()).to_owned(),
                date_text(d.onset),
                d.comment.clone().unwrap_or_default(),
            ]);
        }
        out.list(CodedList::Diagnoses, &ctx, &list_id, &items, None)?;
        for (id, res) in resources {
            out.push(&id, res)?;
        }
        out.narratives.insert(MhSection::Diagnoses, table);
    }
    if !content.medications.is_empty() {
        let list_id = ids.next_uuid();
        let mut table = Table::new(&[
            "Medication name",
            "Form",
            "Dose directions",
            "Route",
            "Medication change status",
            "Details of change",
        ]);
        let mut statements = Vec::new();
        let mut medications = Vec::new();
        for m in &content.medications {
            let statement_id = ids.next_uuid();
            let medication_id = ids.next_uuid();
            let mut summary = vec![
                Extension::builder()
                    .url("status".to_owned())
                    .value(ExtensionValue::Code(m.change.as_str().to_owned()))
                    .build()?,
            ];
            if let Some(details) = &m.change_details {
                summary.push(
                    Extension::builder()
                        .url("detailsOfAmendment".to_owned())
                        .value(ExtensionValue::String(details.clone()))
                        .build()?,
                );
            }
            let change = Extension::builder()
                .url(extension::MEDICATION_CHANGE_SUMMARY.to_owned())
                .extension(summary)
                .build()?;
            let mut b = MedicationStatement::builder()
                .id(statement_id.to_string())
                .meta(meta(profile::ITK_MEDICATION_STATEMENT)?)
                .extension(vec![change])
                .identifier(vec![Some(uuid_identifier(&statement_id)?)])
                .status(wire::<MedicationStatementStatus>(
                    m.status.as_str(),
                    "medication.status",
                )?)
                .medication(MedicationStatementMedication::Reference(reference(
                    &medication_id,
                )?))
                .subject(reference(ctx.patient)?)
                .taken(MedicationStatementTaken::Y);
            if m.dose.is_some() || m.route.is_some() {
                let mut dosage = Dosage::builder();
                if let Some(dose) = &m.dose {
                    dosage = dosage.text(dose.clone());
                }
                if let Some(route) = &m.route {
                    dosage = dosage.route(snomed(route)?);
                }
                b = b.dosage(vec![Some(dosage.build()?)]);
            }
            statements.push((statement_id.clone(), b.build()?));
            let mut med = Medication::builder()
                .id(medication_id.to_string())
                .meta(meta(profile::ITK_MEDICATION)?)
                .code(snomed(&m.medication)?);
            if let Some(form) = &m.form {
                med = med.form(snomed(form)?);
            }
            medications.push((medication_id, med.build()?));
            table.row(vec![
                m.medication.display.clone(),
                m.form
                    .as_ref()
                    .map(|f| f.display.clone())
                    .unwrap_or_default(),
                m.dose.clone().unwrap_or_default(),
                m.route
                    .as_ref()
                    .map(|r| r.display.clone())
                    .unwrap_or_default(),
                label(m.change.display(), m.change.as_str()).to_owned(),
                m.change_details.clone().unwrap_or_default(),
            ]);
        }
        let items: Vec<Uuid> = statements.iter().map(|(id, _)| id.clone()).collect();
        out.list(CodedList::Medications, &ctx, &list_id, &items, None)?;
        for (id, res) in statements {
            out.push(&id, res)?;
        }
        for (id, res) in medications {
            out.push(&id, res)?;
        }
        out.narratives
            .insert(MhSection::MedicationsAndMedicalDevices, table);
    }
    if !content.procedures.is_empty() {
        let list_id = ids.next_uuid();
        let mut table = Table::new(&["Procedure", "Status", "Date"]);
        let mut items = Vec::new();
        let mut resources = Vec::new();
        for p in &content.procedures {
            let id = ids.next_uuid();
            let mut b = Procedure::builder()
                .id(id.to_string())
                .meta(meta(profile::ITK_PROCEDURE)?)
                .identifier(vec![Some(uuid_identifier(&id)?)])
                .status(wire::<EventStatus>(p.status.as_str(), "procedure.status")?)
                .code(snomed(&p.concept)?)
                .subject(reference(ctx.patient)?);
            if let Some(enc) = ctx.encounter {
                b = b.context(reference(enc)?);
            }
            if let Some(on) = p.performed {
                b = b.performed(ProcedurePerformed::DateTime(FhirDateTime::Date(date(on)?)));
            }
            resources.push((id.clone(), b.build()?));
            items.push(id);
            table.row(vec![
                p.concept.display.clone(),
                label(p.status.display(), p.status.as_str()).to_owned(),
                date_text(p.performed),
            ]);
        }
        out.list(CodedList::Procedures, &ctx, &list_id, &items, None)?;
        for (id, res) in resources {
            out.push(&id, res)?;
        }
        out.narratives.insert(MhSection::Procedures, table);
    }

    if let Some(referrer) = &content.referrer {
        let (person, org) = contact(&mut out, &mut parties, referrer, ids)?;
        out.section_entries
            .entry(MhSection::ReferrerDetails)
            .or_default()
            .extend([person, org]);
        let mut table = Table::new(&["Name", "Role", "Organisation"]);
        table.row(contact_row(referrer));
        out.narratives.insert(MhSection::ReferrerDetails, table);
    }
    if !content.distribution.is_empty() {
        let mut table = Table::new(&["Name", "Role", "Organisation"]);
        let mut people: Vec<Uuid> = Vec::new();
        for c in &content.distribution {
            let (person, _) = contact(&mut out, &mut parties, c, ids)?;
            if !people.contains(&person) {
                people.push(person);
            }
            table.row(contact_row(c));
        }
        out.section_entries
            .entry(MhSection::DistributionList)
            .or_default()
            .extend(people);
        out.narratives.insert(MhSection::DistributionList, table);
    }
    Ok(out)
}

fn allergy_section(
    out: &mut Built,
    allergies: &Allergies,
    ctx: &Context<'_>,
    ids: &mut dyn IdGenerator,
) -> Result<()> {
    let list_id = ids.next_uuid();
    let mut table = Table::new(&[
        "Causative agent",
        "Description of the reaction",
        "Category",
        "Criticality",
        "Certainty",
    ]);
    let section = MhSection::AllergiesAndAdverseReactions;
    let mut resources = Vec::new();
    let mut empty_reason = None;
    match allergies {
        Allergies::NoKnownAllergies => {
            let id = ids.next_uuid();
            let res = AllergyIntolerance::builder()
                .id(id.to_string())
                .meta(meta(profile::ITK_ALLERGY_INTOLERANCE)?)
                .identifier(vec![Some(uuid_identifier(&id)?)])
                .clinical_status(AllergyIntoleranceClinicalStatus::Active)
                .verification_status(AllergyIntoleranceVerificationStatus::Confirmed)
                .code(concept(
                    system::SNOMED_CT,
                    NO_KNOWN_ALLERGY.0,
                    NO_KNOWN_ALLERGY.1,
                )?)
                .patient(reference(ctx.patient)?)
                .build()?;
            resources.push((id, res));
            out.leads.insert(section, NO_KNOWN_ALLERGY.1.to_owned());
        }
        Allergies::Recorded(list) => {
            for a in list {
                let id = ids.next_uuid();
                let mut b = AllergyIntolerance::builder()
                    .id(id.to_string())
                    .meta(meta(profile::ITK_ALLERGY_INTOLERANCE)?)
                    .identifier(vec![Some(uuid_identifier(&id)?)])
                    .clinical_status(AllergyIntoleranceClinicalStatus::Active)
                    .verification_status(wire::<AllergyIntoleranceVerificationStatus>(
                        a.certainty.as_str(),
                        "allergy.certainty",
                    )?)
                    .code(snomed(&a.substance)?)
                    .patient(reference(ctx.patient)?);
                if let Some(category) = &a.category {
                    b = b.category(vec![Some(wire::<AllergyIntoleranceCategory>(
                        category.as_str(),
                        "allergy.category",
                    )?)]);
                }
                if let Some(criticality) = &a.criticality {
                    b = b.criticality(wire::<AllergyIntoleranceCriticality>(
                        criticality.as_str(),
                        "allergy.criticality",
                    )?);
                }
                if !a.reactions.is_empty() {
                    b = b.reaction(vec![Some(
                        AllergyIntoleranceReaction::builder()
                            .manifestation(
                                a.reactions
                                    .iter()
                                    .map(|r| snomed(r).map(Some))
                                    .collect::<Result<Vec<_>>>()?,
                            )
                            .build()?,
                    )]);
                }
                resources.push((id, b.build()?));
                table.row(vec![
                    a.substance.display.clone(),
                    a.reactions
                        .iter()
                        .map(|r| r.display.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    opt_label(a.category.as_ref(), |c| (c.display(), c.as_str())),
                    opt_label(a.criticality.as_ref(), |c| (c.display(), c.as_str())),
                    label(a.certainty.display(), a.certainty.as_str()).to_owned(),
                ]);
            }
        }
        Allergies::NotRecorded(reason) => {
            empty_reason = Some(concept(
                system::LIST_EMPTY_REASON,
                reason.as_str(),
                label(reason.display(), reason.as_str()),
            )?);
            out.leads.insert(
                section,
                format!("Not recorded: {}", label(reason.display(), reason.as_str())),
            );
        }
    }
    let items: Vec<Uuid> = resources.iter().map(|(id, _)| id.clone()).collect();
    out.list(CodedList::Allergies, ctx, &list_id, &items, empty_reason)?;
    for (id, res) in resources {
        out.push(&id, res)?;
    }
    out.narratives.insert(section, table);
    Ok(())
}

fn practitioner_role(
    id: &Uuid,
    person: &Uuid,
    org: &Uuid,
    role: &JobRole,
    specialty: Option<&Coded>,
) -> Result<PractitionerRole> {
    let mut b = PractitionerRole::builder()
        .id(id.to_string())
        .meta(meta(profile::CARECONNECT_PRACTITIONER_ROLE)?)
        .practitioner(reference(person)?)
        .organization(reference(org)?)
        .code(vec![Some(concept(
            system::SDS_JOB_ROLE_NAME,
            &role.code,
            &role.display,
        )?)]);
    if let Some(s) = specialty {
        b = b.specialty(vec![Some(snomed(s)?)]);
    }
    Ok(b.build()?)
}

/// Adds the contact's Practitioner, Organization and PractitionerRole unless already present;
/// returns the Practitioner and Organization ids.
fn contact<'a>(
    out: &mut Built,
    parties: &mut Parties<'a>,
    c: &'a CareContact,
    ids: &mut dyn IdGenerator,
) -> Result<(Uuid, Uuid)> {
    let person = match parties.practitioners.iter().find(|(p, _)| **p == c.person) {
        Some((_, id)) => id.clone(),
        None => {
            let id = ids.next_uuid();
            out.push(&id, practitioner(&id, &c.person)?)?;
            parties.practitioners.push((&c.person, id.clone()));
            id
        }
    };
    let ods = c.organisation.ods_code.as_str();
    let org = match parties.organisations.iter().find(|(o, _)| *o == ods) {
        Some((_, id)) => id.clone(),
        None => {
            let id = ids.next_uuid();
            out.push(&id, organization(&id, &c.organisation)?)?;
            parties.organisations.push((ods, id.clone()));
            id
        }
    };
    if let Some(role) = &c.role
        && !parties
            .roles
            .iter()
            .any(|(p, o, r)| *p == person && *o == org && *r == role)
    {
        let id = ids.next_uuid();
        out.push(
            &id,
            practitioner_role(&id, &person, &org, role, c.specialty.as_ref())?,
        )?;
        parties.roles.push((person.clone(), org.clone(), role));
    }
    Ok((person, org))
}

fn contact_row(c: &CareContact) -> Vec<String> {
    vec![
        person_name(&c.person),
        c.role
            .as_ref()
            .map(|r| r.display.clone())
            .unwrap_or_default(),
        c.organisation.name.clone(),
    ]
}
