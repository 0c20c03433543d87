//! The PRSB sections of the mental health discharge composition
//! (`CareConnect-ITK-MH-Composition-1`): SNOMED CT code, title and conformance of each.
//!
//! Its own module so that the discharge builder and the coded content ([`crate::clinical`])
//! can both name a section without importing each other.

/// How the IG rates a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Conformance {
    /// Must be sent.
    Mandatory,
    /// Send if the information is held.
    Required,
    /// Optional.
    Optional,
}

macro_rules! sections {
    ($( $(#[$m:meta])* $variant:ident = ($code:literal, $title:literal, $conf:ident) ),+ $(,)?) => {
        /// The PRSB sections of `CareConnect-ITK-MH-Composition-1` (code and title fixed by the
        /// profile).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum MhSection {
            $( $(#[$m])* $variant, )+
        }

        impl MhSection {
            /// Every section, in the order they are emitted.
            pub const ALL: &'static [MhSection] = &[$(MhSection::$variant),+];

            /// SNOMED CT section code.
            pub fn code(self) -> &'static str {
                match self { $( MhSection::$variant => $code, )+ }
            }

            /// Fixed section title (also the SNOMED display).
            pub fn title(self) -> &'static str {
                match self { $( MhSection::$variant => $title, )+ }
            }

            /// IG conformance.
            pub fn conformance(self) -> Conformance {
                match self { $( MhSection::$variant => Conformance::$conf, )+ }
            }

            /// The section with this SNOMED CT code.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $( $code => Some(MhSection::$variant), )+ _ => None }
            }
        }
    };
}

sections! {
    /// Admission details (entries: the Encounter).
    AdmissionDetails = ("886781000000108", "Admission details", Required),
    /// Allergies and adverse reactions (profile 1..1).
    AllergiesAndAdverseReactions = ("886921000000105", "Allergies and adverse reactions", Mandatory),
    /// Assessment scales.
    AssessmentScales = ("887141000000103", "Assessment scales", Optional),
    /// Clinical summary.
    ClinicalSummary = ("887181000000106", "Clinical summary", Mandatory),
    /// Diagnoses.
    Diagnoses = ("887161000000102", "Diagnoses", Required),
    /// Discharge details (entries: the Encounter).
    DischargeDetails = ("886811000000106", "Discharge details", Required),
    /// Distribution list.
    DistributionList = ("887261000000109", "Distribution list", Required),
    /// Family history.
    FamilyHistory = ("887111000000104", "Family history", Optional),
    /// GP practice (entries: the GP Organization).
    GpPractice = ("886711000000101", "GP practice", Mandatory),
    /// Individual requirements.
    IndividualRequirements = ("1078911000000106", "Individual requirements", Required),
    /// Information and advice given.
    InformationAndAdviceGiven = ("1052951000000105", "Information and advice given", Required),
    /// Investigation results.
    InvestigationResults = ("1082101000000102", "Investigation results", Optional),
    /// Legal information.
    LegalInformation = ("886961000000102", "Legal information", Required),
    /// Medications and medical devices.
    MedicationsAndMedicalDevices = ("933361000000108", "Medications and medical devices", Optional),
    /// Participation in research.
    ParticipationInResearch = ("886751000000102", "Participation in research", Required),
    /// Patient and carer concerns, expectations and wishes.
    PatientAndCarerConcerns = ("1052941000000107", "Patient and carer concerns, expectations and wishes", Optional),
    /// Patient demographics (profile 1..1; entries: the Patient).
    PatientDemographics = ("886731000000109", "Patient demographics", Mandatory),
    /// Person completing record (entries: the Practitioner).
    PersonCompletingRecord = ("887231000000104", "Person completing record", Mandatory),
    /// Plan and requested actions.
    PlanAndRequestedActions = ("887201000000105", "Plan and requested actions", Required),
    /// Procedures.
    Procedures = ("887171000000109", "Procedures", Optional),
    /// Referrer details.
    ReferrerDetails = ("1052891000000108", "Referrer details", Required),
    /// Safety alerts.
    SafetyAlerts = ("886931000000107", "Safety alerts", Required),
    /// Social context.
    SocialContext = ("887051000000101", "Social context", Optional),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_codes_are_unique_and_round_trip() {
        for s in MhSection::ALL {
            assert_eq!(MhSection::from_code(s.code()), Some(*s));
        }
        assert_eq!(MhSection::ALL.len(), 23);
    }
}
