//! The MESH `GPPROVIDER_` address checked against the Patient in the message.

use nhs_identifiers::{NhsNumber, system as id_system};
use serde_json::Value;

use super::{Checker, Severity, ValidationReport, arr, s};
use fhir_model::stu3::resources::Bundle;

/// Checks a MESH `GPPROVIDER_<NHS number>_<DOB>_<surname>` address against the Patient in the
/// message: MESH cross-checks the three with PDS and fails the transfer (EPL-152..154) when they
/// differ. The DOB may be `YYYYMMDD` or `DDMMYYYY`; the surname compares case-insensitively.
pub fn check_gpprovider_address(bundle: &Bundle, address: &str) -> ValidationReport {
    let mut v = Checker::default();
    let loc = "Mex-To";
    let Some(rest) = address.strip_prefix("GPPROVIDER_") else {
        v.push(
            Severity::Information,
            loc,
            "not a GPPROVIDER_ address; nothing to compare",
            None,
        );
        return v.finish();
    };
    let mut parts = rest.splitn(3, '_');
    let (Some(nhs), Some(dob), Some(surname)) = (parts.next(), parts.next(), parts.next()) else {
        v.push(
            Severity::Error,
            loc,
            "GPPROVIDER_ address must be GPPROVIDER_<NHS number>_<DOB>_<surname>",
            None,
        );
        return v.finish();
    };
    if nhs.parse::<NhsNumber>().is_err() {
        v.push(
            Severity::Error,
            loc,
            "the NHS number in the address is not valid (MESH EPL-152)",
            None,
        );
    }
    let raw = match serde_json::to_value(bundle) {
        Ok(raw) => raw,
        Err(e) => {
            v.push(
                Severity::Fatal,
                "Bundle",
                format!("cannot serialise: {e}"),
                None,
            );
            return v.finish();
        }
    };
    let Some(patient) = find_patient(&raw) else {
        v.push(
            Severity::Error,
            "Bundle",
            "no Patient in the message to compare with",
            None,
        );
        return v.finish();
    };
    let patient_nhs = arr(patient, "identifier")
        .iter()
        .find(|i| s(i, "system") == Some(id_system::NHS_NUMBER))
        .and_then(|i| s(i, "value"));
    if patient_nhs != Some(nhs) {
        v.push(
            Severity::Error,
            loc,
            "the NHS number differs from the Patient's (MESH EPL-154)",
            None,
        );
    }
    let birth = s(patient, "birthDate").unwrap_or("").replace('-', "");
    let (ymd, dmy) = match (birth.get(0..4), birth.get(4..6), birth.get(6..8)) {
        (Some(y), Some(m), Some(d)) => (format!("{y}{m}{d}"), format!("{d}{m}{y}")),
        _ => (String::new(), String::new()),
    };
    if birth.is_empty() || (dob != ymd && dob != dmy) {
        v.push(
            Severity::Error,
            loc,
            "the date of birth differs from the Patient's (MESH EPL-154)",
            None,
        );
    }
    let family_matches = arr(patient, "name")
        .iter()
        .filter_map(|n| s(n, "family"))
        .any(|f| f.eq_ignore_ascii_case(surname));
    if !family_matches {
        v.push(
            Severity::Error,
            loc,
            "the surname differs from the Patient's (MESH EPL-154)",
            None,
        );
    }
    v.finish()
}

/// The first Patient anywhere in the bundle (nested bundles included).
fn find_patient(bundle: &Value) -> Option<&Value> {
    arr(bundle, "entry")
        .iter()
        .filter_map(|e| e.get("resource"))
        .find_map(|r| match s(r, "resourceType") {
            Some("Patient") => Some(r),
            Some("Bundle") => find_patient(r),
            _ => None,
        })
}
