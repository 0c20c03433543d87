//! Small constructors over the `fhir-model` builders, shared by the message builders.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use fhir_model::stu3::codes::{
    AdministrativeGender, ContactPointSystem, ContactPointUse, NameUse, NarrativeStatus,
};
use fhir_model::stu3::resources::{
    Binary, BundleEntry, Organization, Patient, Practitioner, Resource,
};
use fhir_model::stu3::types::{
    CodeableConcept, Coding, ContactPoint, Extension, ExtensionValue, HumanName, Identifier, Meta,
    Narrative, Reference,
};
use fhir_model::time::{Month, OffsetDateTime};
use fhir_model::{Base64Binary, Date, Instant};
use nhs_identifiers::{OdsCode, system as id_system};

use crate::codes::{extension, profile, system};
use crate::error::{Error, Result};
use crate::ids::Uuid;
use crate::model::{Gender, OrganisationDetails, PatientDetails, PractitionerDetails};

pub(crate) const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

pub(crate) fn meta(profile: &str) -> Result<Meta> {
    Ok(Meta::builder()
        .profile(vec![Some(profile.to_owned())])
        .build()?)
}

pub(crate) fn coding(system: &str, code: &str, display: &str) -> Result<Coding> {
    Ok(Coding::builder()
        .system(system.to_owned())
        .code(code.to_owned())
        .display(display.to_owned())
        .build()?)
}

pub(crate) fn concept(system: &str, code: &str, display: &str) -> Result<CodeableConcept> {
    Ok(CodeableConcept::builder()
        .coding(vec![Some(coding(system, code, display)?)])
        .build()?)
}

pub(crate) fn reference(target: &Uuid) -> Result<Reference> {
    Ok(Reference::builder().reference(target.urn()).build()?)
}

pub(crate) fn identifier(system: &str, value: &str) -> Result<Identifier> {
    Ok(Identifier::builder()
        .system(system.to_owned())
        .value(value.to_owned())
        .build()?)
}

pub(crate) fn uuid_identifier(value: &Uuid) -> Result<Identifier> {
    identifier(system::RFC4122, value.as_str())
}

/// Escapes text for XHTML content.
pub(crate) fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Plain text as an XHTML `div`, one paragraph per non-empty line.
pub(crate) fn xhtml_from_text(text: &str) -> String {
    let mut div = format!("<div xmlns=\"{XHTML_NS}\">");
    let mut any = false;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        div.push_str("<p>");
        div.push_str(&escape_text(line));
        div.push_str("</p>");
        any = true;
    }
    if !any {
        div.push_str("<p/>");
    }
    div.push_str("</div>");
    div
}

pub(crate) fn narrative(div: String) -> Result<Narrative> {
    Ok(Narrative::builder()
        .status(NarrativeStatus::Generated)
        .div(div)
        .build()?)
}

pub(crate) fn entry(full_url: &Uuid, resource: impl Into<Resource>) -> Result<BundleEntry> {
    Ok(BundleEntry::builder()
        .full_url(full_url.urn())
        .resource(resource.into())
        .build()?)
}

pub(crate) fn instant(at: DateTime<Utc>) -> Result<Instant> {
    let bad = |_| Error::InvalidInput {
        field: "timestamp",
        reason: "out of the representable range".to_owned(),
    };
    let base = OffsetDateTime::from_unix_timestamp(at.timestamp()).map_err(bad)?;
    // FHIR instants carry milliseconds at most; keep them stable and short.
    let millis = u16::try_from(at.nanosecond() / 1_000_000 % 1000).unwrap_or(0);
    let with_ms = base
        .replace_millisecond(millis)
        .map_err(|_| Error::InvalidInput {
            field: "timestamp",
            reason: "invalid milliseconds".to_owned(),
        })?;
    Ok(Instant(with_ms))
}

pub(crate) fn date(day: NaiveDate) -> Result<Date> {
    let bad = || Error::InvalidInput {
        field: "date",
        reason: "out of the representable range".to_owned(),
    };
    let month = u8::try_from(day.month())
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(bad)?;
    let dom = u8::try_from(day.day()).map_err(|_| bad())?;
    let date =
        fhir_model::time::Date::from_calendar_date(day.year(), month, dom).map_err(|_| bad())?;
    Ok(Date::Date(date))
}

fn human_name(family: &str, given: &[String], prefix: Option<&str>) -> Result<HumanName> {
    let mut b = HumanName::builder()
        .r#use(NameUse::Official)
        .family(family.to_owned())
        .given(given.iter().map(|g| Some(g.clone())).collect());
    if let Some(prefix) = prefix {
        b = b.prefix(vec![Some(prefix.to_owned())]);
    }
    Ok(b.build()?)
}

fn work_phone(phone: &str) -> Result<ContactPoint> {
    Ok(ContactPoint::builder()
        .system(ContactPointSystem::Phone)
        .value(phone.to_owned())
        .r#use(ContactPointUse::Work)
        .build()?)
}

pub(crate) fn patient(id: &Uuid, p: &PatientDetails) -> Result<Patient> {
    let verification = Extension::builder()
        .url(extension::NHS_NUMBER_VERIFICATION_STATUS.to_owned())
        .value(ExtensionValue::CodeableConcept(concept(
            system::NHS_NUMBER_VERIFICATION_STATUS,
            p.verification.as_str(),
            p.verification.display(),
        )?))
        .build()?;
    let nhs = Identifier::builder()
        .extension(vec![verification])
        .system(id_system::NHS_NUMBER.to_owned())
        .value(p.nhs_number.expose())
        .build()?;
    let mut b = Patient::builder()
        .id(id.to_string())
        .meta(meta(profile::CARECONNECT_PATIENT)?)
        .identifier(vec![Some(nhs)])
        .name(vec![Some(human_name(&p.family, &p.given, None)?)])
        .birth_date(date(p.birth_date)?);
    if let Some(gender) = p.gender {
        b = b.gender(match gender {
            Gender::Male => AdministrativeGender::Male,
            Gender::Female => AdministrativeGender::Female,
            Gender::Other => AdministrativeGender::Other,
            Gender::Unknown => AdministrativeGender::Unknown,
        });
    }
    Ok(b.build()?)
}

pub(crate) fn organization(id: &Uuid, o: &OrganisationDetails) -> Result<Organization> {
    let mut b = Organization::builder()
        .id(id.to_string())
        .meta(meta(profile::CARECONNECT_ORGANIZATION)?)
        .identifier(vec![Some(identifier(
            id_system::ODS_ORGANIZATION_CODE,
            o.ods_code.as_str(),
        )?)])
        .name(o.name.clone());
    if let Some(phone) = &o.phone {
        b = b.telecom(vec![Some(work_phone(phone)?)]);
    }
    Ok(b.build()?)
}

/// `CareConnect-ITK-Header-Organization-1`: identifiers only.
pub(crate) fn header_organization(id: &Uuid, ods: &OdsCode) -> Result<Organization> {
    Ok(Organization::builder()
        .id(id.to_string())
        .meta(meta(profile::ITK_HEADER_ORGANIZATION)?)
        .identifier(vec![Some(identifier(
            id_system::ODS_ORGANIZATION_CODE,
            ods.as_str(),
        )?)])
        .build()?)
}

pub(crate) fn practitioner(id: &Uuid, p: &PractitionerDetails) -> Result<Practitioner> {
    let mut b = Practitioner::builder()
        .id(id.to_string())
        .meta(meta(profile::CARECONNECT_PRACTITIONER)?)
        .name(vec![Some(human_name(
            &p.family,
            &p.given,
            p.prefix.as_deref(),
        )?)]);
    if let Some(sds) = &p.sds_user_id {
        b = b.identifier(vec![Some(identifier(id_system::SDS_USER_ID, sds)?)]);
    }
    if let Some(phone) = &p.phone {
        b = b.telecom(vec![Some(work_phone(phone)?)]);
    }
    Ok(b.build()?)
}

pub(crate) fn binary(id: &Uuid, content_type: &str, data: &[u8]) -> Result<Binary> {
    Ok(Binary::builder()
        .id(id.to_string())
        .meta(meta(profile::ITK_ATTACHMENT_BINARY)?)
        .content_type(content_type.to_owned())
        .content(Base64Binary(data.to_vec()))
        .build()?)
}
