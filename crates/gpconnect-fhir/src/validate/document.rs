//! Rules for the document bundle and the Patient in it.

use nhs_identifiers::{NhsNumber, system as id_system};
use serde_json::Value;

use super::{Checker, Severity, arr, profiles, s};
use crate::codes::{MessageEvent, ResponseCode, extension, profile};

impl Checker {
    pub(super) fn document(&mut self, doc: &Value, dloc: &str, event: Option<&MessageEvent>) {
        if s(doc, "type") != Some("document") {
            self.push(
                Severity::Error,
                format!("{dloc}.type"),
                "the payload must be a Bundle of type `document`",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        if !profiles(doc).contains(&profile::ITK_DOCUMENT_BUNDLE) {
            self.push(
                Severity::Error,
                format!("{dloc}.meta.profile"),
                "must include ITK-Document-Bundle-1",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        self.identifier(doc, dloc, ResponseCode::PayloadValidationFailure);
        let entries = arr(doc, "entry");
        let Some(composition) = entries
            .first()
            .and_then(|e| e.get("resource"))
            .filter(|r| s(r, "resourceType") == Some("Composition"))
        else {
            self.push(
                Severity::Error,
                format!("{dloc}.entry[0]"),
                "the first entry of a document must be the Composition",
                Some(ResponseCode::PayloadValidationFailure),
            );
            return;
        };
        let cloc = format!("{dloc}.entry[0].resource");
        let count = |ty: &str| {
            entries
                .iter()
                .filter(|e| e.get("resource").and_then(|r| s(r, "resourceType")) == Some(ty))
                .count()
        };
        if count("Composition") != 1 {
            self.push(
                Severity::Error,
                format!("{dloc}.entry"),
                "a document carries exactly one Composition (FHIR-PAY-01: one document per message)",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        if count("Patient") != 1 {
            self.push(
                Severity::Error,
                format!("{dloc}.entry"),
                format!("exactly one Patient expected, found {}", count("Patient")),
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        if count("Organization") == 0 {
            self.push(
                Severity::Error,
                format!("{dloc}.entry"),
                "no Organization (the custodian is mandatory)",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        for (i, e) in entries.iter().enumerate() {
            let rloc = format!("{dloc}.entry[{i}].resource");
            match e.get("resource").and_then(|r| s(r, "resourceType")) {
                Some("Patient") => self.patient(e.get("resource").unwrap_or(&Value::Null), &rloc),
                Some("Binary") => {
                    let res = e.get("resource").unwrap_or(&Value::Null);
                    if s(res, "contentType").is_none() || s(res, "content").is_none() {
                        self.push(
                            Severity::Error,
                            rloc.clone(),
                            "an attachment needs contentType and base64 content",
                            Some(ResponseCode::PayloadValidationFailure),
                        );
                    }
                    if res.get("securityContext").is_some() {
                        self.push(
                            Severity::Error,
                            format!("{rloc}.securityContext"),
                            "not allowed (0..0)",
                            Some(ResponseCode::PayloadValidationFailure),
                        );
                    }
                }
                _ => {}
            }
        }
        self.coded_entries(doc, dloc);
        if s(composition, "status").is_none() {
            self.push(
                Severity::Error,
                format!("{cloc}.status"),
                "missing",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        for (field, target) in [("subject", "Patient"), ("custodian", "Organization")] {
            match composition.get(field).and_then(|r| s(r, "reference")) {
                Some(r) => match self.resolve(r) {
                    Some((res, _)) if s(res, "resourceType") == Some(target) => {}
                    Some(_) => self.push(
                        Severity::Error,
                        format!("{cloc}.{field}"),
                        format!("must reference a {target}"),
                        Some(ResponseCode::PayloadValidationFailure),
                    ),
                    None => {}
                },
                None => self.push(
                    Severity::Error,
                    format!("{cloc}.{field}"),
                    "missing",
                    Some(ResponseCode::PayloadValidationFailure),
                ),
            }
        }
        let ps = profiles(composition);
        let is_mh = ps.contains(&profile::ITK_MH_COMPOSITION)
            || event == Some(&MessageEvent::MentalHealthEDischarge);
        if is_mh {
            if event.is_some() && event != Some(&MessageEvent::MentalHealthEDischarge) {
                self.push(
                    Severity::Error,
                    format!("{cloc}.meta.profile"),
                    "a mental health composition in a message whose event is not ITK004D",
                    Some(ResponseCode::HandlingBusinessRuleError),
                );
            }
            self.mh_composition(composition, &cloc);
        } else {
            if event.is_some() && event != Some(&MessageEvent::GpConnectSendDocument) {
                self.push(
                    Severity::Information,
                    format!("{cloc}.meta.profile"),
                    "document rules for this event are not checked beyond the common ones",
                    None,
                );
                return;
            }
            self.send_document_composition(composition, &cloc);
        }
    }

    pub(super) fn patient(&mut self, p: &Value, ploc: &str) {
        let nhs: Vec<(usize, &Value)> = arr(p, "identifier")
            .iter()
            .enumerate()
            .filter(|(_, i)| s(i, "system") == Some(id_system::NHS_NUMBER))
            .collect();
        match nhs.first() {
            None => self.push(
                Severity::Warning,
                format!("{ploc}.identifier"),
                "no NHS number (demographics must then be complete, FHIR-PDS-02)",
                None,
            ),
            Some((i, ident)) => {
                let iloc = format!("{ploc}.identifier[{i}]");
                match s(ident, "value") {
                    Some(value) => {
                        if value.parse::<NhsNumber>().is_err() {
                            self.push(Severity::Error, format!("{iloc}.value"), "NHS number is not valid: it fails the Modulus 11 check digit (or is not 10 digits)", Some(ResponseCode::PayloadValidationFailure));
                        }
                    }
                    None => self.push(
                        Severity::Error,
                        format!("{iloc}.value"),
                        "missing",
                        Some(ResponseCode::PayloadValidationFailure),
                    ),
                }
                if !arr(ident, "extension")
                    .iter()
                    .any(|e| s(e, "url") == Some(extension::NHS_NUMBER_VERIFICATION_STATUS))
                {
                    self.push(
                        Severity::Warning,
                        format!("{iloc}.extension"),
                        "NHS number verification status missing (FHIR-PDS-10)",
                        None,
                    );
                }
            }
        }
        let names = arr(p, "name");
        if !names
            .iter()
            .any(|n| s(n, "use") == Some("official") && s(n, "family").is_some())
        {
            self.push(
                Severity::Warning,
                format!("{ploc}.name"),
                "no official name with a family name",
                None,
            );
        }
        if s(p, "birthDate").is_none() {
            self.push(
                Severity::Warning,
                format!("{ploc}.birthDate"),
                "missing (MESH GPPROVIDER routing needs it)",
                None,
            );
        }
    }
}
