//! Coded clinical content for the Transfer of Care mental health discharge: diagnoses,
//! allergies (including "no known allergies"), medications, procedures and the care
//! professionals named in the document, plus SNOMED CT identifier checks.
//!
//! Each coded section becomes its profiled resources (`CareConnect-ITK-Condition-1`,
//! `-AllergyIntolerance-1`, `-MedicationStatement-1` + `-Medication-1`, `-Procedure-1`), grouped
//! in the CareConnect-ITK `*-List-1` the section references, and the section narrative is
//! generated from the same values, so the text a clinician reads and the codes a GP system files
//! cannot disagree.
//!
//! `Debug` on these inputs shows codes and the shape of free text (its length), never the text.
//!
//! ```
//! use chrono::{NaiveDate, TimeZone, Utc};
//! use gpconnect_fhir::clinical::{Allergies, Coded, Diagnosis, MedicationChange, MedicationItem};
//! use gpconnect_fhir::{MentalHealthDischarge, OrganisationDetails, PatientDetails,
//!     PractitionerDetails, SequentialIds, validate_bundle};
//! use nhs_identifiers::{NhsNumber, OdsCode};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let patient = PatientDetails::new(NhsNumber::fictitious(1), "Testpatient", ["Jo"],
//!     NaiveDate::from_ymd_opt(1970, 1, 1).ok_or("date")?);
//! let at = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).single().ok_or("time")?;
//! let message = MentalHealthDischarge::new(
//!     patient,
//!     OrganisationDetails::new(OdsCode::try_from("A00001")?, "Example Medical Centre"),
//!     OrganisationDetails::new(OdsCode::try_from("RX1")?, "Example Mental Health Trust"),
//!     PractitionerDetails::new("Example", ["Sam"]),
//!     "RX1OT001", at, "Mood improved; discharged home.", "see coded allergies")
//!     .allergies(Allergies::NoKnownAllergies)
//!     .diagnoses([Diagnosis::new(Coded::snomed("64905009", "Paranoid schizophrenia")?)])
//!     .medications([MedicationItem::new(
//!         Coded::snomed("889411000001101", "Diazepam 2mg tablets")?,
//!         MedicationChange::Added,
//!     ).dose("One tablet at night")])
//!     .build(&mut SequentialIds::new(1))?;
//! let report = validate_bundle(&message.bundle);
//! assert!(report.findings.is_empty(), "{report}");
//! // A slip in a SNOMED CT code is caught at input: the Verhoeff check digit is wrong.
//! assert!(Coded::snomed("64905008", "Paranoid schizophrenia").is_err());
//! # Ok(()) }
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use crate::codes::profile;
use crate::error::Error;
use crate::fhir::escape_text;
use crate::model::{OrganisationDetails, PractitionerDetails, non_empty};
use crate::section::MhSection;

/// The dm+d (NHS Dictionary of medicines and devices) SNOMED CT namespace.
pub const DMD_NAMESPACE: &str = "1000001";

/// Why a string is not a SNOMED CT concept identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SctidError {
    /// Not only ASCII digits.
    NotDigits,
    /// Fewer than 6 or more than 18 digits.
    Length,
    /// Starts with `0`.
    LeadingZero,
    /// The partition identifier (second and third digits from the right) is not that of a
    /// concept (`00` short form, `10` long form).
    NotAConcept,
    /// The Verhoeff check digit (the last digit) is wrong.
    CheckDigit,
}

impl fmt::Display for SctidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotDigits => "not a SNOMED CT identifier (digits only)",
            Self::Length => "not a SNOMED CT identifier (6 to 18 digits)",
            Self::LeadingZero => "not a SNOMED CT identifier (no leading zero)",
            Self::NotAConcept => {
                "not a SNOMED CT concept identifier (partition identifier must be 00 or 10)"
            }
            Self::CheckDigit => "not a SNOMED CT identifier: the Verhoeff check digit is wrong",
        })
    }
}

impl std::error::Error for SctidError {}

/// The Verhoeff check, from the workspace's ground floor (writeback checks SNOMED codes too).
pub use nhs_identifiers::verhoeff::{verhoeff_digit, verhoeff_valid};

/// Checks the form of a SNOMED CT concept identifier: 6 to 18 digits, no leading zero, a concept
/// partition identifier and a valid Verhoeff check digit. (Whether the concept exists needs a
/// terminology server; this catches typing and spreadsheet-rounding errors.)
pub fn check_concept_id(code: &str) -> Result<(), SctidError> {
    if !code.bytes().all(|b| b.is_ascii_digit()) || code.is_empty() {
        return Err(SctidError::NotDigits);
    }
    if !(6..=18).contains(&code.len()) {
        return Err(SctidError::Length);
    }
    if code.starts_with('0') {
        return Err(SctidError::LeadingZero);
    }
    let partition = code.get(code.len() - 3..code.len() - 1).unwrap_or("");
    if partition != "00" && partition != "10" {
        return Err(SctidError::NotAConcept);
    }
    if !verhoeff_valid(code) {
        return Err(SctidError::CheckDigit);
    }
    Ok(())
}

/// The namespace of a long-form SNOMED CT identifier (`None` for the short, international form).
pub fn sctid_namespace(code: &str) -> Option<&str> {
    let len = code.len();
    if len >= 11 && code.get(len - 3..len - 2) == Some("1") {
        code.get(len - 10..len - 3)
    } else {
        None
    }
}

/// A SNOMED CT concept identifier whose form was checked ([`check_concept_id`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SnomedCode(String);

impl SnomedCode {
    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the identifier is in the dm+d namespace (long form, namespace 1000001).
    pub fn is_dmd_namespace(&self) -> bool {
        sctid_namespace(&self.0) == Some(DMD_NAMESPACE)
    }
}

impl FromStr for SnomedCode {
    type Err = SctidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        check_concept_id(s)?;
        Ok(Self(s.to_owned()))
    }
}

impl TryFrom<&str> for SnomedCode {
    type Error = SctidError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl fmt::Display for SnomedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A SNOMED CT concept with the display text to send beside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Coded {
    /// The concept identifier.
    pub code: SnomedCode,
    /// The term shown to people (the SNOMED CT preferred term, or the dm+d name).
    pub display: String,
}

impl Coded {
    /// A checked SNOMED CT concept; `Error::InvalidInput` when the identifier is malformed or the
    /// display is blank.
    pub fn snomed(code: &str, display: impl Into<String>) -> Result<Self, Error> {
        let code = code
            .parse::<SnomedCode>()
            .map_err(|e| Error::InvalidInput {
                field: "snomed_code",
                reason: e.to_string(),
            })?;
        let display = display.into();
        non_empty("snomed_display", &display)?;
        Ok(Self { code, display })
    }
}

nhs_identifiers::open_enum! {
    /// `Condition.clinicalStatus` (STU3 condition-clinical).
    pub enum ConditionStatus {
        /// active
        Active = "active" => "Active",
        /// recurrence
        Recurrence = "recurrence" => "Recurrence",
        /// inactive
        Inactive = "inactive" => "Inactive",
        /// remission
        Remission = "remission" => "Remission",
        /// resolved
        Resolved = "resolved" => "Resolved",
    }
}

nhs_identifiers::open_enum! {
    /// `AllergyIntolerance.category`.
    pub enum AllergyCategory {
        /// food
        Food = "food" => "Food",
        /// medication
        Medication = "medication" => "Medication",
        /// environment
        Environment = "environment" => "Environment",
        /// biologic
        Biologic = "biologic" => "Biologic",
    }
}

nhs_identifiers::open_enum! {
    /// `AllergyIntolerance.criticality`.
    pub enum AllergyCriticality {
        /// low
        Low = "low" => "Low",
        /// high
        High = "high" => "High",
        /// unable-to-assess
        UnableToAssess = "unable-to-assess" => "Unable to assess",
    }
}

nhs_identifiers::open_enum! {
    /// `AllergyIntolerance.verificationStatus` (the "certainty" PRSB element).
    pub enum AllergyCertainty {
        /// confirmed
        Confirmed = "confirmed" => "Confirmed",
        /// unconfirmed
        Unconfirmed = "unconfirmed" => "Unconfirmed",
    }
}

nhs_identifiers::open_enum! {
    /// Why the allergies list is empty (`List.emptyReason`, STU3 `list-empty-reason`; the
    /// code system is our reading, the ToC guides name none).
    pub enum EmptyReason {
        /// nilknown: there are no known allergies (prefer [`Allergies::NoKnownAllergies`],
        /// which codes it as the public examples do).
        NilKnown = "nilknown" => "Nil Known",
        /// notasked: the patient was not asked.
        NotAsked = "notasked" => "Not Asked",
        /// withheld: the information was withheld.
        Withheld = "withheld" => "Information Withheld",
        /// unavailable: the information is not available.
        Unavailable = "unavailable" => "Unavailable",
    }
}

nhs_identifiers::open_enum! {
    /// `MedicationStatement.status`.
    pub enum MedicationStatus {
        /// active
        Active = "active" => "Active",
        /// completed
        Completed = "completed" => "Completed",
        /// stopped
        Stopped = "stopped" => "Stopped",
        /// on-hold
        OnHold = "on-hold" => "On hold",
        /// intended
        Intended = "intended" => "Intended",
    }
}

nhs_identifiers::open_enum! {
    /// `Procedure.status` (STU3 event-status).
    pub enum ProcedureStatus {
        /// completed
        Completed = "completed" => "Completed",
        /// in-progress
        InProgress = "in-progress" => "In progress",
        /// aborted
        Aborted = "aborted" => "Aborted",
        /// preparation
        Preparation = "preparation" => "Preparation",
    }
}

nhs_identifiers::open_enum! {
    /// Medication change status (`Extension-CareConnect-MedicationChangeSummary-1.status`, code
    /// system `CareConnect-MedicationChangeStatus-1`). Codes a newer peer may add are kept.
    pub enum MedicationChange {
        /// Continued unchanged.
        Continued = "Continued",
        /// Started during the stay.
        Added = "Added",
        /// Dose, frequency or route changed.
        Amended = "Amended",
        /// Paused.
        OnHold = "On-hold",
    }
}

/// The text a generated narrative shows for a code: its display, or the code itself when the
/// list has no display for it (a value this version does not know).
pub(crate) fn label<'a>(display: &'static str, code: &'a str) -> &'a str {
    if display.is_empty() { code } else { display }
}

/// Shape of optional free text for `Debug`: its length, never the words.
fn text_shape(text: &Option<String>) -> Option<usize> {
    text.as_ref().map(|t| t.chars().count())
}

/// A diagnosis (`CareConnect-ITK-Condition-1` in the Condition list).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Diagnosis {
    /// The diagnosis.
    pub concept: Coded,
    /// Clinical status (default active).
    pub status: ConditionStatus,
    /// Date of onset, if known.
    pub onset: Option<NaiveDate>,
    /// A comment (`Condition.note`).
    pub comment: Option<String>,
}

impl Diagnosis {
    /// An active diagnosis.
    pub fn new(concept: Coded) -> Self {
        Self {
            concept,
            status: ConditionStatus::Active,
            onset: None,
            comment: None,
        }
    }

    /// Sets the clinical status.
    pub fn status(mut self, status: ConditionStatus) -> Self {
        self.status = status;
        self
    }

    /// Sets the date of onset.
    pub fn onset(mut self, onset: NaiveDate) -> Self {
        self.onset = Some(onset);
        self
    }

    /// Sets a comment.
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }
}

impl fmt::Debug for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Diagnosis")
            .field("concept", &self.concept)
            .field("status", &self.status)
            .field("onset", &self.onset.is_some())
            .field("comment_chars", &text_shape(&self.comment))
            .finish()
    }
}

/// One allergy or adverse reaction (`CareConnect-ITK-AllergyIntolerance-1`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Allergy {
    /// The causative agent.
    pub substance: Coded,
    /// Category, if known.
    pub category: Option<AllergyCategory>,
    /// Criticality, if known.
    pub criticality: Option<AllergyCriticality>,
    /// Certainty (default confirmed).
    pub certainty: AllergyCertainty,
    /// Manifestations of the reaction (SNOMED CT).
    pub reactions: Vec<Coded>,
}

impl Allergy {
    /// A confirmed allergy to `substance`.
    pub fn new(substance: Coded) -> Self {
        Self {
            substance,
            category: None,
            criticality: None,
            certainty: AllergyCertainty::Confirmed,
            reactions: Vec::new(),
        }
    }

    /// Sets the category.
    pub fn category(mut self, category: AllergyCategory) -> Self {
        self.category = Some(category);
        self
    }

    /// Sets the criticality.
    pub fn criticality(mut self, criticality: AllergyCriticality) -> Self {
        self.criticality = Some(criticality);
        self
    }

    /// Sets the certainty.
    pub fn certainty(mut self, certainty: AllergyCertainty) -> Self {
        self.certainty = certainty;
        self
    }

    /// Adds a manifestation of the reaction.
    pub fn reaction(mut self, manifestation: Coded) -> Self {
        self.reactions.push(manifestation);
        self
    }
}

/// The content of the mandatory Allergies and adverse reactions section.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Allergies {
    /// No known allergies: one AllergyIntolerance coded SNOMED CT 716186003 "No known
    /// allergy", as in the public examples.
    NoKnownAllergies,
    /// The allergies recorded (at least one).
    Recorded(Vec<Allergy>),
    /// Not recorded: an empty Allergy list carrying its `emptyReason`.
    NotRecorded(EmptyReason),
}

/// SNOMED CT 716186003 |No known allergy|.
pub const NO_KNOWN_ALLERGY: (&str, &str) = ("716186003", "No known allergy");

/// A medication at discharge (`CareConnect-ITK-MedicationStatement-1` referencing a
/// `CareConnect-ITK-Medication-1`).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MedicationItem {
    /// The medicine: a dm+d concept (VTM, VMP, AMP, ...).
    pub medication: Coded,
    /// Dose form (SNOMED CT), if sent.
    pub form: Option<Coded>,
    /// Dose directions as text (`Dosage.text`: "Take one tablet twice a day").
    pub dose: Option<String>,
    /// Route (SNOMED CT), if sent.
    pub route: Option<Coded>,
    /// Change status during the stay.
    pub change: MedicationChange,
    /// Details of the change (`detailsOfAmendment`).
    pub change_details: Option<String>,
    /// Statement status (default active).
    pub status: MedicationStatus,
}

impl MedicationItem {
    /// An active medication with the given change status.
    pub fn new(medication: Coded, change: MedicationChange) -> Self {
        Self {
            medication,
            form: None,
            dose: None,
            route: None,
            change,
            change_details: None,
            status: MedicationStatus::Active,
        }
    }

    /// Sets the dose form.
    pub fn form(mut self, form: Coded) -> Self {
        self.form = Some(form);
        self
    }

    /// Sets the dose directions.
    pub fn dose(mut self, dose: impl Into<String>) -> Self {
        self.dose = Some(dose.into());
        self
    }

    /// Sets the route.
    pub fn route(mut self, route: Coded) -> Self {
        self.route = Some(route);
        self
    }

    /// Sets the details of the change.
    pub fn change_details(mut self, details: impl Into<String>) -> Self {
        self.change_details = Some(details.into());
        self
    }

    /// Sets the statement status.
    pub fn status(mut self, status: MedicationStatus) -> Self {
        self.status = status;
        self
    }
}

impl fmt::Debug for MedicationItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MedicationItem")
            .field("medication", &self.medication)
            .field("form", &self.form)
            .field("dose_chars", &text_shape(&self.dose))
            .field("route", &self.route)
            .field("change", &self.change)
            .field("change_details_chars", &text_shape(&self.change_details))
            .field("status", &self.status)
            .finish()
    }
}

/// A procedure (`CareConnect-ITK-Procedure-1`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcedureItem {
    /// The procedure.
    pub concept: Coded,
    /// Status (default completed).
    pub status: ProcedureStatus,
    /// When it was done, if known.
    pub performed: Option<NaiveDate>,
}

impl ProcedureItem {
    /// A completed procedure.
    pub fn new(concept: Coded) -> Self {
        Self {
            concept,
            status: ProcedureStatus::Completed,
            performed: None,
        }
    }

    /// Sets the status.
    pub fn status(mut self, status: ProcedureStatus) -> Self {
        self.status = status;
        self
    }

    /// Sets the date performed.
    pub fn performed(mut self, on: NaiveDate) -> Self {
        self.performed = Some(on);
        self
    }
}

/// An SDS job role (`CareConnect-SDSJobRoleName-1`, e.g. `R0050` Consultant).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct JobRole {
    /// SDS job role code.
    pub code: String,
    /// Its name.
    pub display: String,
}

impl JobRole {
    /// A job role.
    pub fn new(code: impl Into<String>, display: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            display: display.into(),
        }
    }

    pub(crate) fn check(&self) -> Result<(), Error> {
        non_empty("job_role.code", &self.code)?;
        non_empty("job_role.display", &self.display)
    }
}

/// A care professional in an organisation: a Practitioner, the Organization and, when a role
/// is given, a `CareConnect-PractitionerRole-1` linking the two.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CareContact {
    /// The person.
    pub person: PractitionerDetails,
    /// Where they work.
    pub organisation: OrganisationDetails,
    /// Their job role, if known.
    pub role: Option<JobRole>,
    /// Their specialty (SNOMED CT), if known.
    pub specialty: Option<Coded>,
}

impl CareContact {
    /// A person at an organisation, role unknown.
    pub fn new(person: PractitionerDetails, organisation: OrganisationDetails) -> Self {
        Self {
            person,
            organisation,
            role: None,
            specialty: None,
        }
    }

    /// Sets the job role.
    pub fn role(mut self, role: JobRole) -> Self {
        self.role = Some(role);
        self
    }

    /// Sets the specialty.
    pub fn specialty(mut self, specialty: Coded) -> Self {
        self.specialty = Some(specialty);
        self
    }

    pub(crate) fn check(&self, field: &'static str) -> Result<(), Error> {
        self.person.check(field)?;
        self.organisation.check(field)?;
        if let Some(role) = &self.role {
            role.check()?;
        }
        Ok(())
    }
}

/// The ward or unit of the stay (`CareConnect-Location-1`, referenced from the Encounter).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocationDetails {
    /// Name (`Allerton Ward`).
    pub name: String,
    /// Local location identifier, if any.
    pub local_identifier: Option<String>,
}

impl LocationDetails {
    /// A location known by name.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            local_identifier: None,
        }
    }

    /// Sets the local location identifier.
    pub fn with_local_identifier(mut self, id: impl Into<String>) -> Self {
        self.local_identifier = Some(id.into());
        self
    }
}

/// A code from an NHS Data Dictionary code list that a CareConnect Encounter carries: admission
/// method (`CareConnect-AdmissionMethod-1`, e.g. `21`), source of admission
/// (`CareConnect-SourceOfAdmission-1`, e.g. `51`) or discharge destination
/// (`CareConnect-DischargeDestination-1`, e.g. `29`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DataDictionaryCode {
    /// The code (two ASCII letters or digits).
    pub code: String,
    /// Its Data Dictionary description.
    pub display: String,
}

impl DataDictionaryCode {
    /// A checked code; `Error::InvalidInput` unless `code` is two ASCII letters or digits and
    /// `display` is not blank.
    pub fn new(code: &str, display: impl Into<String>) -> Result<Self, Error> {
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::InvalidInput {
                field: "data_dictionary_code",
                reason: "an NHS Data Dictionary code here is two ASCII letters or digits"
                    .to_owned(),
            });
        }
        let display = display.into();
        non_empty("data_dictionary_display", &display)?;
        Ok(Self {
            code: code.to_owned(),
            display,
        })
    }
}

/// The four CareConnect-ITK lists that group coded section entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodedList {
    /// `CareConnect-ITK-Allergy-List-1` (AllergyIntolerance).
    Allergies,
    /// `CareConnect-ITK-Condition-List-1` (Condition).
    Diagnoses,
    /// `CareConnect-ITK-Medication-List-1` (MedicationStatement).
    Medications,
    /// `CareConnect-ITK-Procedure-List-1` (Procedure).
    Procedures,
}

impl CodedList {
    /// Every list.
    pub const ALL: &'static [CodedList] = &[
        CodedList::Allergies,
        CodedList::Diagnoses,
        CodedList::Medications,
        CodedList::Procedures,
    ];

    /// The List profile.
    pub fn profile(self) -> &'static str {
        match self {
            Self::Allergies => profile::ITK_ALLERGY_LIST,
            Self::Diagnoses => profile::ITK_CONDITION_LIST,
            Self::Medications => profile::ITK_MEDICATION_LIST,
            Self::Procedures => profile::ITK_PROCEDURE_LIST,
        }
    }

    /// The list's fixed SNOMED CT code and display (as in every public example).
    pub fn code(self) -> (&'static str, &'static str) {
        match self {
            Self::Allergies => ("886921000000105", "Allergies and adverse reactions"),
            Self::Diagnoses => ("887161000000102", "Diagnoses"),
            Self::Medications => ("1102411000000102", "Active medications"),
            Self::Procedures => ("887171000000109", "Procedures"),
        }
    }

    /// The composition section that references the list.
    pub fn section(self) -> MhSection {
        match self {
            Self::Allergies => MhSection::AllergiesAndAdverseReactions,
            Self::Diagnoses => MhSection::Diagnoses,
            Self::Medications => MhSection::MedicationsAndMedicalDevices,
            Self::Procedures => MhSection::Procedures,
        }
    }

    /// The resource type and profile of the list's items.
    pub fn item(self) -> (&'static str, &'static str) {
        match self {
            Self::Allergies => ("AllergyIntolerance", profile::ITK_ALLERGY_INTOLERANCE),
            Self::Diagnoses => ("Condition", profile::ITK_CONDITION),
            Self::Medications => ("MedicationStatement", profile::ITK_MEDICATION_STATEMENT),
            Self::Procedures => ("Procedure", profile::ITK_PROCEDURE),
        }
    }

    /// The list with this profile.
    pub fn from_profile(url: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|l| l.profile() == url)
    }
}

/// Generated section narrative: an XHTML table (PRSB element names as column headings), then
/// free-text comment paragraphs.
pub(crate) struct Table {
    head: &'static [&'static str],
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(head: &'static [&'static str]) -> Self {
        Self {
            head,
            rows: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The `div`, with `lead` as a first paragraph when given.
    pub(crate) fn xhtml(&self, lead: Option<&str>, comment: Option<&str>) -> String {
        let mut div = format!("<div xmlns=\"{}\">", crate::fhir::XHTML_NS);
        if let Some(lead) = lead {
            div.push_str("<p>");
            div.push_str(&escape_text(lead));
            div.push_str("</p>");
        }
        if !self.rows.is_empty() {
            div.push_str("<table><thead><tr>");
            for h in self.head {
                div.push_str("<th>");
                div.push_str(h);
                div.push_str("</th>");
            }
            div.push_str("</tr></thead><tbody>");
            for row in &self.rows {
                div.push_str("<tr>");
                for cell in row {
                    div.push_str("<td>");
                    div.push_str(&escape_text(cell));
                    div.push_str("</td>");
                }
                div.push_str("</tr>");
            }
            div.push_str("</tbody></table>");
        }
        if let Some(comment) = comment {
            for line in comment.lines().map(str::trim).filter(|l| !l.is_empty()) {
                div.push_str("<p>");
                div.push_str(&escape_text(line));
                div.push_str("</p>");
            }
        }
        if lead.is_none() && self.rows.is_empty() && comment.is_none_or(|c| c.trim().is_empty()) {
            div.push_str("<p/>");
        }
        div.push_str("</div>");
        div
    }
}

/// [`label`] of an optional code (empty when absent).
pub(crate) fn opt_label<T>(value: Option<&T>, parts: fn(&T) -> (&'static str, &str)) -> String {
    value
        .map(|v| {
            let (display, code) = parts(v);
            label(display, code).to_owned()
        })
        .unwrap_or_default()
}

pub(crate) fn date_text(date: Option<NaiveDate>) -> String {
    date.map(|d| d.format("%d %b %Y").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_concepts_pass_and_single_digit_changes_fail() {
        for code in [
            "138875005",
            "404684003",
            "716186003",
            "22298006",
            "373942005",
            "886921000000105",
            "1078911000000106",
            "889411000001101",
            "23485211000001100",
            "371531000",
            "149701000000109",
            "826501000000100",
        ] {
            assert_eq!(check_concept_id(code), Ok(()), "{code}");
            let body = &code[..code.len() - 1];
            assert_eq!(
                verhoeff_digit(body).map(|d| char::from(b'0' + d)),
                code.chars().last()
            );
            for (i, c) in code.char_indices() {
                let d = c.to_digit(10).unwrap();
                let changed = (d + 1) % 10;
                let mut wrong = code.to_owned();
                wrong.replace_range(i..=i, &changed.to_string());
                assert!(!verhoeff_valid(&wrong), "{wrong}");
            }
        }
        // IHTSDO's published examples (descriptions and relationships too).
        for id in [
            "100005",
            "100014",
            "100022",
            "1290023401004",
            "999999990989121104",
        ] {
            assert!(verhoeff_valid(id), "{id}");
        }
        assert_eq!(check_concept_id("100014"), Err(SctidError::NotAConcept));
        assert_eq!(check_concept_id("716186004"), Err(SctidError::CheckDigit));
        assert_eq!(check_concept_id("12345"), Err(SctidError::Length));
        assert_eq!(check_concept_id("0716186003"), Err(SctidError::LeadingZero));
        assert_eq!(check_concept_id("71618a003"), Err(SctidError::NotDigits));
        assert_eq!(check_concept_id(""), Err(SctidError::NotDigits));
    }

    #[test]
    fn namespaces() {
        assert_eq!(sctid_namespace("889411000001101"), Some(DMD_NAMESPACE));
        assert_eq!(sctid_namespace("886921000000105"), Some("1000000"));
        assert_eq!(sctid_namespace("716186003"), None);
        assert!(
            "889411000001101"
                .parse::<SnomedCode>()
                .unwrap()
                .is_dmd_namespace()
        );
    }

    #[test]
    fn debug_hides_free_text() {
        let m = MedicationItem::new(
            Coded::snomed("889411000001101", "Diazepam 2mg tablets").unwrap(),
            MedicationChange::Added,
        )
        .dose("secret dose words");
        assert!(!format!("{m:?}").contains("secret"));
        let d = Diagnosis::new(Coded::snomed("64905009", "Paranoid schizophrenia").unwrap())
            .comment("secret comment");
        assert!(!format!("{d:?}").contains("secret"));
    }
}
