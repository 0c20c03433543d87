//! Plain Rust inputs for the builders: patient, people, organisations, attachments.
//!
//! `Debug` on these types never prints a name or NHS number in full.

use std::fmt;

use chrono::NaiveDate;
use nhs_identifiers::{NhsNumber, OdsCode};

use crate::codes::NhsNumberVerification;
use crate::error::Error;

/// Administrative gender (FHIR `AdministrativeGender`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Gender {
    /// male
    Male,
    /// female
    Female,
    /// other
    Other,
    /// unknown
    Unknown,
}

/// The patient the document is about.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PatientDetails {
    /// NHS number (valid check digit by construction).
    pub nhs_number: NhsNumber,
    /// How the NHS number was verified (ITK3 FHIR-PDS-10: must be populated).
    pub verification: NhsNumberVerification,
    /// Official family name (as on PDS: MESH `GPPROVIDER` routing cross-checks it).
    pub family: String,
    /// Given names, first first.
    pub given: Vec<String>,
    /// Date of birth (as on PDS).
    pub birth_date: NaiveDate,
    /// Gender, if known.
    pub gender: Option<Gender>,
}

impl PatientDetails {
    /// A patient with a verified NHS number and no gender recorded.
    pub fn new(
        nhs_number: NhsNumber,
        family: impl Into<String>,
        given: impl IntoIterator<Item = impl Into<String>>,
        birth_date: NaiveDate,
    ) -> Self {
        Self {
            nhs_number,
            verification: NhsNumberVerification::PresentAndVerified,
            family: family.into(),
            given: given.into_iter().map(Into::into).collect(),
            birth_date,
            gender: None,
        }
    }

    /// Sets the gender.
    pub fn with_gender(mut self, gender: Gender) -> Self {
        self.gender = Some(gender);
        self
    }

    /// Given names then family name, for display text.
    pub fn display_name(&self) -> String {
        let mut parts: Vec<&str> = self.given.iter().map(String::as_str).collect();
        parts.push(&self.family);
        parts.join(" ")
    }

    pub(crate) fn check(&self) -> Result<(), Error> {
        non_empty("patient.family", &self.family)?;
        if self.family.contains('_') {
            return Err(Error::InvalidInput {
                field: "patient.family",
                reason: "an underscore would break the MESH GPPROVIDER address".to_owned(),
            });
        }
        Ok(())
    }
}

impl fmt::Debug for PatientDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatientDetails")
            .field("nhs_number", &self.nhs_number)
            .field("verification", &self.verification)
            .field("family", &mask(&self.family))
            .field(
                "given",
                &self.given.iter().map(|g| mask(g)).collect::<Vec<_>>(),
            )
            .field("birth_date", &"****-**-**")
            .field("gender", &self.gender)
            .finish()
    }
}

/// A clinician (author, person completing the record).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PractitionerDetails {
    /// SDS user id (12 digits), if known.
    pub sds_user_id: Option<String>,
    /// Family name.
    pub family: String,
    /// Given names.
    pub given: Vec<String>,
    /// Title (`Dr`).
    pub prefix: Option<String>,
    /// Work phone.
    pub phone: Option<String>,
}

impl PractitionerDetails {
    /// A practitioner known by name only.
    pub fn new(
        family: impl Into<String>,
        given: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            sds_user_id: None,
            family: family.into(),
            given: given.into_iter().map(Into::into).collect(),
            prefix: None,
            phone: None,
        }
    }

    /// Sets the SDS user id.
    pub fn with_sds_user_id(mut self, id: impl Into<String>) -> Self {
        self.sds_user_id = Some(id.into());
        self
    }

    /// Sets the title.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Sets the work phone.
    pub fn with_phone(mut self, phone: impl Into<String>) -> Self {
        self.phone = Some(phone.into());
        self
    }

    pub(crate) fn check(&self, field: &'static str) -> Result<(), Error> {
        non_empty(field, &self.family)
    }
}

impl fmt::Debug for PractitionerDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PractitionerDetails")
            .field("sds_user_id", &self.sds_user_id.is_some())
            .field("family", &mask(&self.family))
            .finish_non_exhaustive()
    }
}

/// An organisation (sender, custodian, GP practice).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrganisationDetails {
    /// ODS code.
    pub ods_code: OdsCode,
    /// Name.
    pub name: String,
    /// Switchboard phone.
    pub phone: Option<String>,
}

impl OrganisationDetails {
    /// An organisation without a phone number.
    pub fn new(ods_code: OdsCode, name: impl Into<String>) -> Self {
        Self {
            ods_code,
            name: name.into(),
            phone: None,
        }
    }

    /// Sets the phone number.
    pub fn with_phone(mut self, phone: impl Into<String>) -> Self {
        self.phone = Some(phone.into());
        self
    }

    pub(crate) fn check(&self, field: &'static str) -> Result<(), Error> {
        non_empty(field, &self.name)
    }
}

/// A file carried as an ITK attachment (`Binary`, base64 in the bundle).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttachmentData {
    /// MIME type (`application/pdf`, `text/plain`, ...).
    pub content_type: String,
    /// The bytes.
    pub data: Vec<u8>,
    /// Section title the attachment is filed under.
    pub title: String,
}

impl AttachmentData {
    /// A PDF document.
    pub fn pdf(title: impl Into<String>, data: Vec<u8>) -> Self {
        Self {
            content_type: "application/pdf".to_owned(),
            data,
            title: title.into(),
        }
    }

    /// A plain-text note.
    pub fn text(title: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            content_type: "text/plain".to_owned(),
            data: text.into().into_bytes(),
            title: title.into(),
        }
    }

    /// Any other type.
    pub fn new(title: impl Into<String>, content_type: impl Into<String>, data: Vec<u8>) -> Self {
        Self {
            content_type: content_type.into(),
            data,
            title: title.into(),
        }
    }

    pub(crate) fn check(&self) -> Result<(), Error> {
        non_empty("attachment.title", &self.title)?;
        if !self.content_type.contains('/') {
            return Err(Error::InvalidInput {
                field: "attachment.content_type",
                reason: "not a MIME type".to_owned(),
            });
        }
        if self.data.is_empty() {
            return Err(Error::InvalidInput {
                field: "attachment.data",
                reason: "empty attachment".to_owned(),
            });
        }
        Ok(())
    }
}

impl fmt::Debug for AttachmentData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachmentData")
            .field("content_type", &self.content_type)
            .field("bytes", &self.data.len())
            .finish_non_exhaustive()
    }
}

pub(crate) fn non_empty(field: &'static str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        Err(Error::InvalidInput {
            field,
            reason: "must not be empty".to_owned(),
        })
    } else {
        Ok(())
    }
}

/// First letter then asterisks.
pub(crate) fn mask(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count())),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_masks_names_and_numbers() {
        let p = PatientDetails::new(
            NhsNumber::fictitious(3),
            "Testpatient",
            ["Alex"],
            NaiveDate::from_ymd_opt(1970, 1, 2).unwrap(),
        );
        let text = format!("{p:?}");
        assert!(!text.contains("Testpatient"));
        assert!(!text.contains("Alex"));
        assert!(!text.contains(&p.nhs_number.expose()));
        assert!(!text.contains("1970"));
    }
}
