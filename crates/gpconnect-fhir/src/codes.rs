//! Fixed URLs, code systems and the ITK3 code lists as typed enums.
//!
//! The code lists are [`nhs_identifiers::open_enum!`] enums: a code a newer peer may send
//! reads as `Other(Unknown)` (kept as received, text not matchable), so reading never fails.

/// Profile URLs (`meta.profile`) used by the messages this crate builds and checks.
pub mod profile {
    /// ITK3 message bundle.
    pub const ITK_MESSAGE_BUNDLE: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Message-Bundle-1";
    /// ITK3 document bundle (the payload).
    pub const ITK_DOCUMENT_BUNDLE: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Document-Bundle-1";
    /// ITK3 MessageHeader.
    pub const ITK_MESSAGE_HEADER: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-MessageHeader-2";
    /// Organization referenced by `MessageHeader.sender` (identifiers only).
    pub const ITK_HEADER_ORGANIZATION: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Header-Organization-1";
    /// Practitioner referenced by `MessageHeader.sender` (identifiers only).
    pub const ITK_HEADER_PRACTITIONER: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Header-Practitioner-1";
    /// Attachment carried in the document bundle.
    pub const ITK_ATTACHMENT_BINARY: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Attachment-Binary-1";
    /// OperationOutcome of an ITK3 response.
    pub const ITK_RESPONSE_OPERATION_OUTCOME: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Response-OperationOutcome-1";
    /// Send Document composition.
    pub const CARECONNECT_COMPOSITION: &str =
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Composition-1";
    /// Mental health discharge composition.
    pub const ITK_MH_COMPOSITION: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-MH-Composition-1";
    /// ToC encounter.
    pub const ITK_ENCOUNTER: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Encounter-1";
    /// CareConnect patient.
    pub const CARECONNECT_PATIENT: &str =
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1";
    /// CareConnect organisation.
    pub const CARECONNECT_ORGANIZATION: &str =
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Organization-1";
    /// CareConnect practitioner.
    pub const CARECONNECT_PRACTITIONER: &str =
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Practitioner-1";
    /// CareConnect practitioner role (a practitioner in an organisation).
    pub const CARECONNECT_PRACTITIONER_ROLE: &str =
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-PractitionerRole-1";
    /// CareConnect location (the ward of a stay).
    pub const CARECONNECT_LOCATION: &str =
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Location-1";
    /// ToC allergy list.
    pub const ITK_ALLERGY_LIST: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Allergy-List-1";
    /// ToC allergy or adverse reaction.
    pub const ITK_ALLERGY_INTOLERANCE: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-AllergyIntolerance-1";
    /// ToC diagnosis list.
    pub const ITK_CONDITION_LIST: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Condition-List-1";
    /// ToC diagnosis.
    pub const ITK_CONDITION: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Condition-1";
    /// ToC medication list.
    pub const ITK_MEDICATION_LIST: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Medication-List-1";
    /// ToC medication statement.
    pub const ITK_MEDICATION_STATEMENT: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-MedicationStatement-1";
    /// ToC medication (dm+d coded).
    pub const ITK_MEDICATION: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Medication-1";
    /// ToC procedure list.
    pub const ITK_PROCEDURE_LIST: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Procedure-List-1";
    /// ToC procedure.
    pub const ITK_PROCEDURE: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Procedure-1";
}

/// Extension URLs.
pub mod extension {
    /// The ITK3 message handling extension (six sub-extensions).
    pub const ITK_MESSAGE_HANDLING: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2";
    /// NHS number verification status (on the NHS number identifier).
    pub const NHS_NUMBER_VERIFICATION_STATUS: &str = "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1";
    /// Care setting type (ToC compositions, 1..1).
    pub const CARE_SETTING_TYPE: &str =
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-CareSettingType-1";
    /// The pre-2019 care setting URL seen in old examples (reported, not accepted).
    pub const CARE_SETTING_TYPE_OLD: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareSettingType-1";
    /// Medication change summary on a MedicationStatement (`status`, `detailsOfAmendment`...).
    pub const MEDICATION_CHANGE_SUMMARY: &str = "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-MedicationChangeSummary-1";
    /// Admission method on a CareConnect Encounter.
    pub const ADMISSION_METHOD: &str =
        "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-AdmissionMethod-1";
}

/// Code system and identifier system URIs.
pub mod system {
    /// ITK message events.
    pub const ITK_MESSAGE_EVENT: &str = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2";
    /// ITK recipient types.
    pub const ITK_RECIPIENT_TYPE: &str = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1";
    /// ITK response codes.
    pub const ITK_RESPONSE_CODES: &str = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1";
    /// NHS number verification status codes.
    pub const NHS_NUMBER_VERIFICATION_STATUS: &str =
        "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1";
    /// SNOMED CT.
    pub const SNOMED_CT: &str = "http://snomed.info/sct";
    /// UUID identifiers (bundles, compositions).
    pub const RFC4122: &str = "https://tools.ietf.org/html/rfc4122";
    /// FHIR v3 confidentiality codes (`N`, `R`).
    pub const CONFIDENTIALITY: &str = "http://hl7.org/fhir/v3/Confidentiality";
    /// FHIR v3 act code (encounter class).
    pub const ACT_CODE: &str = "http://hl7.org/fhir/v3/ActCode";
    /// FHIR v3 participation type (encounter participant `DIS` discharger).
    pub const PARTICIPATION_TYPE: &str = "http://hl7.org/fhir/v3/ParticipationType";
    /// SDS job role names (PractitionerRole.code).
    pub const SDS_JOB_ROLE_NAME: &str =
        "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1";
    /// Why a list is empty (`List.emptyReason`).
    pub const LIST_EMPTY_REASON: &str = "http://hl7.org/fhir/list-empty-reason";
    /// Local location identifiers.
    pub const LOCAL_LOCATION_IDENTIFIER: &str = "https://fhir.nhs.uk/Id/local-location-identifier";
    /// Admission method (NHS Data Dictionary).
    pub const ADMISSION_METHOD: &str =
        "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-AdmissionMethod-1";
    /// Source of admission (NHS Data Dictionary), `Encounter.hospitalization.admitSource`.
    pub const SOURCE_OF_ADMISSION: &str =
        "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-SourceOfAdmission-1";
    /// Discharge destination (NHS Data Dictionary),
    /// `Encounter.hospitalization.dischargeDisposition`.
    pub const DISCHARGE_DESTINATION: &str =
        "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-DischargeDestination-1";
}

/// MessageDefinition URLs for the `MessageDefinition` handling key.
pub mod message_definition {
    /// Send Document, current Simplifier guide (1.3.2).
    pub const SEND_DOCUMENT_CURRENT: &str = "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-Instance-1";
    /// Send Document, older gpconnect-messaging site (1.5.0).
    pub const SEND_DOCUMENT_LEGACY: &str =
        "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-1";
    /// Mental health eDischarge (active version 4).
    pub const MH_DISCHARGE: &str =
        "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-MH-eDischarge-MessageDefinition-4";
    /// ITK3 Response (the active MessageDefinition).
    pub const RESPONSE: &str =
        "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-Response-MessageDefinition-1";
    /// ITK3 Response, as referenced by the official response examples.
    pub const RESPONSE_INSTANCE: &str =
        "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-Response-MessageDefinition-Instance-1";
}

nhs_identifiers::open_enum! {
    /// `ITK-MessageEvent-2` (MessageHeader.event).
    pub enum MessageEvent {
        /// ITK003D.
        EDischarge = "ITK003D" => "ITK eDischarge",
        /// ITK004D.
        MentalHealthEDischarge = "ITK004D" => "ITK Mental Health eDischarge",
        /// ITK005D.
        EmergencyCareEDischarge = "ITK005D" => "ITK Emergency Care eDischarge",
        /// ITK006D.
        OutpatientLetter = "ITK006D" => "ITK Outpatient Letter",
        /// ITK007C.
        GpConnectSendDocument = "ITK007C" => "ITK GP Connect Send Document",
        /// ITK008M.
        Response = "ITK008M" => "ITK Response",
        /// ITK009D.
        DigitalMedicineImmunization = "ITK009D" => "ITK Digital Medicine Immunization Document",
        /// ITK010D.
        DigitalMedicineEmergencySupply = "ITK010D" => "ITK Digital Medicine Emergency Supply Document",
        /// ITK011M.
        EventsManagementService = "ITK011M" => "ITK Events Management Service",
        /// ITK012M.
        NationalPathology = "ITK012M" => "ITK National Pathology",
        /// ITK013D.
        DigitalMedicineMinorIllness = "ITK013D" => "ITK Digital Medicine Minor Illness Document",
        /// ITK014M.
        UpdateRecord = "ITK014M" => "ITK Update Record",
    }
}

nhs_identifiers::open_enum! {
    /// `ITK-RecipientType-1` (the `RecipientType` handling key).
    pub enum RecipientType {
        /// FA: the primary recipient, who must act.
        ForAction = "FA" => "For Action",
        /// FI: a copy for information.
        ForInformation = "FI" => "For Information",
    }
}

nhs_identifiers::open_enum! {
    /// `ITK-ResponseCodes-1` (v1.5.0): the code carried by an ITK3 response.
    pub enum ResponseCode {
        /// 10001.
        HandlingSpecificationError = "10001" => "Handling Specification Error",
        /// 10002.
        InfrastructureAckValueError = "10002" => "Infrastructure Level Response Value - Processing Error",
        /// 10003.
        BusinessAckValueError = "10003" => "Business Level Response Value - Processing Error",
        /// 10004.
        MessageDefinitionValueError = "10004" => "Message Definition Value - Processing Error",
        /// 10005.
        MessageDefinitionVersionError = "10005" => "Message Definition Version Value - Processing Error",
        /// 10007.
        SenderReferenceValueError = "10007" => "Sender Reference Value - Processing Error",
        /// 10008.
        HandlingBusinessRuleError = "10008" => "Handling Specification Business Rule Error",
        /// 10009.
        UnreadableMessage = "10009" => "Unreadable message received",
        /// 10010.
        RecipientTypeError = "10010" => "Recipient Type - Processing Error",
        /// 20001.
        UnrecognisedRecipientPerson = "20001" => "Unrecognised Recipient Person",
        /// 20002.
        UnrecognisedRecipientOrganisation = "20002" => "Unrecognised Recipient Organisation",
        /// 20003.
        UnrecognisedSender = "20003" => "Unrecognised Sender",
        /// 20004.
        NonApprovedFileType = "20004" => "Non-Approved file type received as an attachment",
        /// 20005.
        UnsupportedFileType = "20005" => "Unsupported file type received as an attachment",
        /// 20006.
        HeaderValidationFailure = "20006" => "ITK header validation failure",
        /// 20007.
        DuplicateMessage = "20007" => "Duplicate Message received",
        /// 20008.
        DuplicateDocument = "20008" => "Duplicate Document received",
        /// 20009.
        PayloadValidationFailure = "20009" => "Payload validation failure",
        /// 20010.
        UnrecognisedPayloadRecipientOrganisation = "20010" => "Unrecognised Payload Recipient Organisation",
        /// 20011.
        UnrecognisedPayloadRecipientPerson = "20011" => "Unrecognised Payload Recipient Person",
        /// 20012.
        UnauthorisedSender = "20012" => "Unauthorised Sender",
        /// 20013 (positive infrastructure acknowledgement).
        Success = "20013" => "Success",
        /// 20014.
        UnableToProcessReplacement = "20014" => "Unable to Process Replacement Document",
        /// 20015.
        MessageTooLarge = "20015" => "Message too large",
        /// 30001 (positive business acknowledgement).
        PatientKnownHere = "30001" => "Patient known here",
        /// 30002.
        PatientNotKnownHere = "30002" => "Patient not known here",
        /// 30003.
        PatientNoLongerHere = "30003" => "Patient no longer at this clinical setting",
        /// 30004 (positive business acknowledgement).
        PatientKnownRecentlyDeceased = "30004" => "Patient known here and recently deceased",
    }
}

/// Which acknowledgement a response code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AckKind {
    /// Infrastructure acknowledgement (handling specification 1xxxx and 2xxxx codes).
    Infrastructure,
    /// Business acknowledgement (3xxxx codes).
    Business,
}

impl ResponseCode {
    /// The code as text (the same as [`ResponseCode::as_str`]; ITK3 calls it the response code).
    pub fn code(&self) -> &str {
        self.as_str()
    }

    /// Whether the code reports success (20013, 30001, 30004). Unknown codes count as negative.
    pub fn is_positive(&self) -> bool {
        matches!(
            self,
            Self::Success | Self::PatientKnownHere | Self::PatientKnownRecentlyDeceased
        )
    }

    /// Infrastructure (1xxxx/2xxxx) or business (3xxxx) acknowledgement. Unknown codes are
    /// classified by their first digit; anything else counts as infrastructure.
    pub fn kind(&self) -> AckKind {
        if self.as_str().starts_with('3') {
            AckKind::Business
        } else {
            AckKind::Infrastructure
        }
    }

    /// The `OperationOutcome.issue.code` the ITK3 examples pair with this code.
    pub fn issue_type(&self) -> &'static str {
        match self {
            c if c.is_positive() => "informational",
            Self::PayloadValidationFailure | Self::HeaderValidationFailure => "structure",
            Self::UnrecognisedRecipientPerson
            | Self::UnrecognisedRecipientOrganisation
            | Self::UnrecognisedSender
            | Self::UnrecognisedPayloadRecipientOrganisation
            | Self::UnrecognisedPayloadRecipientPerson
            | Self::PatientNotKnownHere => "not-found",
            Self::DuplicateMessage | Self::DuplicateDocument => "duplicate",
            Self::MessageTooLarge => "too-costly",
            _ => "processing",
        }
    }
}

nhs_identifiers::open_enum! {
    /// NHS number verification status (`CareConnect-NHSNumberVerificationStatus-1`).
    pub enum NhsNumberVerification {
        /// 01.
        PresentAndVerified = "01" => "Number present and verified",
        /// 02.
        PresentNotTraced = "02" => "Number present but not traced",
        /// 03.
        TraceRequired = "03" => "Trace required",
        /// 04.
        TraceNoMatch = "04" => "Trace attempted - No match or multiple match found",
        /// 05.
        TraceToBeResolved = "05" => "Trace needs to be resolved - (NHS number or patient detail conflict)",
        /// 06.
        TraceInProgress = "06" => "Trace in progress",
        /// 07.
        NotPresentTraceNotRequired = "07" => "Number not present and trace not required",
        /// 08.
        TracePostponed = "08" => "Trace postponed (baby under six weeks old)",
    }
}

/// Which edition of the GP Connect Send Document guidance to follow where they differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum GuideVersion {
    /// The current guide: Simplifier "GP Connect Send Document" 1.3.2 (MessageDefinition
    /// `…-Instance-1`, LocalExtension `NONE`, workflow `GPCONNECT_SEND_DOCUMENT`,
    /// `Composition.author` = the sending organisation).
    #[default]
    Current,
    /// The older gpconnect-messaging site (release 1.5.0): MessageDefinition `…-MessageDefinition-1`,
    /// LocalExtension `SendDocument-Generic`, workflow `GPFED_CONSULT_REPORT`, GPPROVIDER DOB as
    /// `DDMMYYYY`, `Composition.author` = the practitioner.
    GpConnectMessaging1_5,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknowns_are_kept() {
        for code in ResponseCode::KNOWN {
            assert_eq!(&ResponseCode::from_wire(code.as_str()), code);
            assert!(!code.display().is_empty());
        }
        let unknown = ResponseCode::from_wire("10006");
        assert!(matches!(unknown, ResponseCode::Other(_)));
        assert_eq!(unknown.as_str(), "10006");
        assert!(!ResponseCode::from_wire("99999").is_positive());
        assert_eq!(ResponseCode::PatientKnownHere.kind(), AckKind::Business);
        assert_eq!(ResponseCode::Success.kind(), AckKind::Infrastructure);
        assert_eq!(
            MessageEvent::from_wire("ITK004D"),
            MessageEvent::MentalHealthEDischarge
        );
    }
}
