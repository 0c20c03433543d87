//! The MESH routing fields a message implies (`Mex-*` HTTP headers / `.ctl` fields).

use std::fmt;

use chrono::NaiveDate;

use crate::model::{PatientDetails, mask};

/// Date-of-birth layout inside a `GPPROVIDER_<NHS no>_<DOB>_<Surname>` address.
///
/// The MESH guidance hub says `YYYYMMDD`; the older gpconnect-messaging site says `DDMMYYYY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum DobFormat {
    /// `19670126` (MESH guidance hub, current).
    #[default]
    YearMonthDay,
    /// `26011967` (gpconnect-messaging 1.5.0).
    DayMonthYear,
}

impl DobFormat {
    /// Formats a date of birth.
    pub fn format(self, date: NaiveDate) -> String {
        match self {
            Self::YearMonthDay => date.format("%Y%m%d").to_string(),
            Self::DayMonthYear => date.format("%d%m%Y").to_string(),
        }
    }
}

/// The MESH automatic-routing address for a patient's registered GP practice.
pub fn gpprovider_address(patient: &PatientDetails, dob_format: DobFormat) -> String {
    format!(
        "GPPROVIDER_{}_{}_{}",
        patient.nhs_number.expose(),
        dob_format.format(patient.birth_date),
        patient.family
    )
}

/// What to put in the MESH envelope of a message.
///
/// `to` and `subject` contain the NHS number in full (MESH needs them): `Debug` masks them.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MeshRouting {
    /// `Mex-From`: the sender's mailbox.
    pub from: String,
    /// `Mex-To`: a mailbox id or the `GPPROVIDER_…` automatic-routing address.
    pub to: String,
    /// `Mex-WorkflowID`.
    pub workflow_id: String,
    /// The workflow id responses come back on.
    pub ack_workflow_id: String,
    /// `Mex-Subject`.
    pub subject: String,
    /// `Mex-LocalID`.
    pub local_id: String,
}

impl fmt::Debug for MeshRouting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let to = match self.to.strip_prefix("GPPROVIDER_") {
            Some(_) => "GPPROVIDER_**********_********_*".to_owned(),
            None => self.to.clone(),
        };
        f.debug_struct("MeshRouting")
            .field("from", &self.from)
            .field("to", &to)
            .field("workflow_id", &self.workflow_id)
            .field("ack_workflow_id", &self.ack_workflow_id)
            .field("subject", &mask(&self.subject))
            .field("local_id", &self.local_id)
            .finish()
    }
}

/// Send Document workflow ids.
pub mod workflow {
    /// Send Document (current guide).
    pub const GPCONNECT_SEND_DOCUMENT: &str = "GPCONNECT_SEND_DOCUMENT";
    /// Responses to Send Document (used by live senders; not seen in an NHS source).
    pub const GPCONNECT_SEND_DOCUMENT_ACK: &str = "GPCONNECT_SEND_DOCUMENT_ACK";
    /// Send Document (older gpconnect-messaging site).
    pub const GPFED_CONSULT_REPORT: &str = "GPFED_CONSULT_REPORT";
    /// Responses on the older workflow.
    pub const GPFED_CONSULT_REPORT_ACK: &str = "GPFED_CONSULT_REPORT_ACK";
    /// Mental health discharge.
    pub const TOC_FHIR_MH_DISCH: &str = "TOC_FHIR_MH_DISCH";
    /// Responses to a mental health discharge.
    pub const TOC_FHIR_MH_DISCH_ACK: &str = "TOC_FHIR_MH_DISCH_ACK";
}

#[cfg(test)]
mod tests {
    use super::*;
    use nhs_identifiers::NhsNumber;

    #[test]
    fn gpprovider_both_dob_formats() {
        let p = PatientDetails::new(
            NhsNumber::fictitious(1),
            "Smith",
            ["Jo"],
            NaiveDate::from_ymd_opt(1967, 1, 26).unwrap(),
        );
        let n = p.nhs_number.expose();
        assert_eq!(
            gpprovider_address(&p, DobFormat::YearMonthDay),
            format!("GPPROVIDER_{n}_19670126_Smith")
        );
        assert_eq!(
            gpprovider_address(&p, DobFormat::DayMonthYear),
            format!("GPPROVIDER_{n}_26011967_Smith")
        );
    }
}
