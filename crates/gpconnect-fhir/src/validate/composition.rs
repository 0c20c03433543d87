//! Rules for the two compositions: Send Document (`CareConnect-Composition-1`) and the mental
//! health discharge (`CareConnect-ITK-MH-Composition-1`) with its PRSB sections.

use serde_json::Value;

use super::{Checker, Severity, arr, codings, profiles, s};
use crate::codes::{ResponseCode, extension, profile, system};
use crate::section::{Conformance, MhSection};

impl Checker {
    pub(super) fn send_document_composition(&mut self, c: &Value, cloc: &str) {
        const APPROVED_TYPES: [&str; 3] = ["371531000", "149701000000109", "149951000000107"];
        if let Some(code) = codings(c.get("type"))
            .iter()
            .find(|cd| s(cd, "system") == Some(system::SNOMED_CT))
            .and_then(|cd| s(cd, "code"))
            && !APPROVED_TYPES.contains(&code)
        {
            self.push(
                Severity::Warning,
                format!("{cloc}.type"),
                "not one of the document types the Send Document guide lists (371531000, 149701000000109, 149951000000107)",
                None,
            );
        }
        if !profiles(c).contains(&profile::CARECONNECT_COMPOSITION) {
            self.push(
                Severity::Error,
                format!("{cloc}.meta.profile"),
                "must include CareConnect-Composition-1",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        if s(c, "status") != Some("final") {
            self.push(
                Severity::Error,
                format!("{cloc}.status"),
                "must be `final`",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        if !codings(c.get("type"))
            .iter()
            .any(|cd| s(cd, "system") == Some(system::SNOMED_CT) && s(cd, "code").is_some())
        {
            self.push(
                Severity::Error,
                format!("{cloc}.type"),
                "needs a SNOMED CT document type",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        match s(c, "confidentiality") {
            Some("N" | "R") => {}
            Some(_) => self.push(
                Severity::Error,
                format!("{cloc}.confidentiality"),
                "must be N or R",
                Some(ResponseCode::PayloadValidationFailure),
            ),
            None => self.push(
                Severity::Error,
                format!("{cloc}.confidentiality"),
                "missing (N or R)",
                Some(ResponseCode::PayloadValidationFailure),
            ),
        }
        if arr(c, "author").is_empty() {
            self.push(
                Severity::Error,
                format!("{cloc}.author"),
                "missing",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        let sections = arr(c, "section");
        if sections.is_empty() {
            self.push(
                Severity::Error,
                format!("{cloc}.section"),
                "at least one section referencing the attachment",
                Some(ResponseCode::PayloadValidationFailure),
            );
            return;
        }
        let first = sections
            .first()
            .map(|sec| arr(sec, "entry"))
            .and_then(|e| e.first())
            .and_then(|r| s(r, "reference"));
        match first.and_then(|r| self.resolve(r)) {
            Some((res, _)) if s(res, "resourceType") == Some("Binary") => {}
            _ => self.push(
                Severity::Error,
                format!("{cloc}.section[0].entry[0]"),
                "the primary attachment (a Binary) must be the first section entry",
                Some(ResponseCode::PayloadValidationFailure),
            ),
        }
    }

    pub(super) fn mh_composition(&mut self, c: &Value, cloc: &str) {
        if !codings(c.get("type")).iter().any(|cd| {
            s(cd, "system") == Some(system::SNOMED_CT) && s(cd, "code") == Some("373942005")
        }) {
            self.push(
                Severity::Warning,
                format!("{cloc}.type"),
                "the IG advises SNOMED CT 373942005 Discharge summary",
                None,
            );
        }
        if !profiles(c).contains(&profile::ITK_MH_COMPOSITION) {
            self.push(
                Severity::Error,
                format!("{cloc}.meta.profile"),
                "must include CareConnect-ITK-MH-Composition-1",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        let exts = arr(c, "extension");
        if exts
            .iter()
            .any(|e| s(e, "url") == Some(extension::CARE_SETTING_TYPE_OLD))
        {
            self.push(Severity::Error, format!("{cloc}.extension"), "old care setting extension URL (Extension-CareSettingType-1); the profile requires Extension-CareConnect-CareSettingType-1", Some(ResponseCode::PayloadValidationFailure));
        } else if !exts
            .iter()
            .any(|e| s(e, "url") == Some(extension::CARE_SETTING_TYPE))
        {
            self.push(
                Severity::Error,
                format!("{cloc}.extension"),
                "the care setting type extension is missing (1..1)",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        self.identifier(c, cloc, ResponseCode::PayloadValidationFailure);
        if c.get("confidentiality").is_some() {
            self.push(
                Severity::Error,
                format!("{cloc}.confidentiality"),
                "not allowed in a mental health discharge (0..0)",
                Some(ResponseCode::PayloadValidationFailure),
            );
        }
        for forbidden in ["attester", "event"] {
            if c.get(forbidden).is_some() {
                self.push(
                    Severity::Error,
                    format!("{cloc}.{forbidden}"),
                    "not allowed (0..0)",
                    Some(ResponseCode::PayloadValidationFailure),
                );
            }
        }
        let mut present: Vec<MhSection> = Vec::new();
        for (i, sec) in arr(c, "section").iter().enumerate() {
            let sloc = format!("{cloc}.section[{i}]");
            let snomed: Vec<&Value> = codings(sec.get("code"))
                .iter()
                .filter(|cd| s(cd, "system") == Some(system::SNOMED_CT))
                .collect();
            let Some(code) = snomed.first().and_then(|cd| s(cd, "code")) else {
                self.push(
                    Severity::Error,
                    format!("{sloc}.code"),
                    "needs a SNOMED CT section code",
                    Some(ResponseCode::PayloadValidationFailure),
                );
                continue;
            };
            let Some(section) = MhSection::from_code(code) else {
                let hint = if code == "1052901000000109" {
                    " (older code for Individual requirements; the profile fixes 1078911000000106)"
                } else {
                    ""
                };
                self.push(
                    Severity::Error,
                    format!("{sloc}.code"),
                    format!("not a section of CareConnect-ITK-MH-Composition-1{hint}"),
                    Some(ResponseCode::PayloadValidationFailure),
                );
                continue;
            };
            if present.contains(&section) {
                self.push(
                    Severity::Error,
                    sloc.clone(),
                    format!("{} occurs more than once", section.title()),
                    Some(ResponseCode::PayloadValidationFailure),
                );
            }
            present.push(section);
            if s(sec, "title") != Some(section.title()) {
                self.push(
                    Severity::Error,
                    format!("{sloc}.title"),
                    format!("the profile fixes `{}`", section.title()),
                    Some(ResponseCode::PayloadValidationFailure),
                );
            }
            if let Some((j, _)) = codings(sec.get("code"))
                .iter()
                .enumerate()
                .find(|(_, cd)| s(cd, "system") == Some(system::SNOMED_CT))
                .filter(|(_, cd)| s(cd, "display") != Some(section.title()))
            {
                self.push(
                    Severity::Error,
                    format!("{sloc}.code.coding[{j}].display"),
                    format!("the profile fixes `{}`", section.title()),
                    Some(ResponseCode::PayloadValidationFailure),
                );
            }
            self.mh_section_entries(sec, section, &sloc);
            if sec.get("text").and_then(|t| s(t, "div")).is_none() {
                self.push(
                    Severity::Error,
                    format!("{sloc}.text"),
                    "missing (1..1 narrative)",
                    Some(ResponseCode::PayloadValidationFailure),
                );
            }
            if !arr(sec, "section").is_empty() {
                self.push(
                    Severity::Error,
                    format!("{sloc}.section"),
                    "nested sections are not allowed",
                    Some(ResponseCode::PayloadValidationFailure),
                );
            }
        }
        for section in MhSection::ALL
            .iter()
            .filter(|s| s.conformance() == Conformance::Mandatory)
        {
            if !present.contains(section) {
                self.push(
                    Severity::Error,
                    format!("{cloc}.section"),
                    format!(
                        "mandatory section `{}` ({}) is missing",
                        section.title(),
                        section.code()
                    ),
                    Some(ResponseCode::PayloadValidationFailure),
                );
            }
        }
    }
}
