//! Right patient: the note's NHS number, surname, date of birth and sex are checked against a
//! demographics-only read of the SystmOne record before anything is written.

use std::fmt;

use chrono::NaiveDate;
use nhs_identifiers::NhsNumber;
use thiserror::Error;

use systmone_api::Sex;

use crate::note::PatientIdentity;

/// The demographics a SystmOne record holds (from a demographics-only `GetPatientRecord`).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordDemographics {
    /// The record's NHS number.
    pub nhs_number: NhsNumber,
    /// Surname on the record.
    pub surname: String,
    /// Date of birth on the record, when present.
    pub date_of_birth: Option<NaiveDate>,
    /// Sex on the record.
    pub sex: Sex,
}

impl RecordDemographics {
    /// Demographics read from a record.
    pub fn new(
        nhs_number: NhsNumber,
        surname: &str,
        date_of_birth: Option<NaiveDate>,
        sex: Sex,
    ) -> Self {
        Self {
            nhs_number,
            surname: surname.to_owned(),
            date_of_birth,
            sex,
        }
    }
}

impl fmt::Debug for RecordDemographics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordDemographics")
            .field("nhs_number", &self.nhs_number)
            .finish_non_exhaustive()
    }
}

/// A demographic field that can disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdentityField {
    /// The NHS number (the record returned is for someone else).
    NhsNumber,
    /// The surname.
    Surname,
    /// The date of birth.
    DateOfBirth,
    /// The sex.
    Sex,
}

impl fmt::Display for IdentityField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NhsNumber => "NHS number",
            Self::Surname => "surname",
            Self::DateOfBirth => "date of birth",
            Self::Sex => "sex",
        })
    }
}

/// The record does not match the patient the note is for. The text names the fields that
/// disagree and the masked NHS number, never the patient's details.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
#[error("patient {patient}: the SystmOne record does not match the note's {}; nothing was written", list(.fields))]
pub struct PatientMismatch {
    /// The patient (masked in `Display`/`Debug`).
    pub patient: NhsNumber,
    /// The fields that disagree (at least one).
    pub fields: Vec<IdentityField>,
}

fn list(fields: &[IdentityField]) -> String {
    fields
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks the record against the expected identity: NHS number exact, surname equal ignoring
/// case and surrounding space, date of birth exact, sex exact.
pub fn verify_patient(
    expected: &PatientIdentity,
    record: &RecordDemographics,
) -> Result<(), PatientMismatch> {
    let mut fields = Vec::new();
    if expected.nhs_number != record.nhs_number {
        fields.push(IdentityField::NhsNumber);
    }
    if normalise(&expected.surname) != normalise(&record.surname) {
        fields.push(IdentityField::Surname);
    }
    if record.date_of_birth != Some(expected.date_of_birth) {
        fields.push(IdentityField::DateOfBirth);
    }
    if expected.sex != record.sex {
        fields.push(IdentityField::Sex);
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(PatientMismatch {
            patient: expected.nhs_number,
            fields,
        })
    }
}

fn normalise(surname: &str) -> String {
    surname
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected() -> PatientIdentity {
        PatientIdentity::new(
            NhsNumber::fictitious(11),
            "O'Neill-Smith",
            NaiveDate::from_ymd_opt(1984, 2, 29).unwrap(),
            Sex::Male,
        )
        .unwrap()
    }

    fn record() -> RecordDemographics {
        RecordDemographics::new(
            NhsNumber::fictitious(11),
            "  o'neill-SMITH ",
            NaiveDate::from_ymd_opt(1984, 2, 29),
            Sex::Male,
        )
    }

    #[test]
    fn matching_record_passes() {
        assert_eq!(verify_patient(&expected(), &record()), Ok(()));
    }

    #[test]
    fn every_mismatched_field_is_named_without_patient_details() {
        let mut other = record();
        other.surname = "Jones".into();
        other.date_of_birth = NaiveDate::from_ymd_opt(1984, 3, 1);
        other.sex = Sex::Female;
        let error = verify_patient(&expected(), &other).unwrap_err();
        assert_eq!(
            error.fields,
            vec![
                IdentityField::Surname,
                IdentityField::DateOfBirth,
                IdentityField::Sex
            ]
        );
        let text = error.to_string();
        assert!(text.contains("surname, date of birth, sex"), "{text}");
        for secret in [
            "Jones",
            "O'Neill",
            "1984",
            &NhsNumber::fictitious(11).expose(),
        ] {
            assert!(!text.contains(secret), "{text} leaks {secret}");
            assert!(!format!("{error:?}").contains(secret));
        }
    }

    #[test]
    fn missing_date_of_birth_or_other_record_is_a_mismatch() {
        let mut other = record();
        other.date_of_birth = None;
        other.nhs_number = NhsNumber::fictitious(12);
        let error = verify_patient(&expected(), &other).unwrap_err();
        assert_eq!(
            error.fields,
            vec![IdentityField::NhsNumber, IdentityField::DateOfBirth]
        );
    }
}
