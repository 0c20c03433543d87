//! Rules for coded content: SNOMED CT and dm+d identifier form, the CareConnect-ITK `*-List-1`
//! resources and their items, and what each mental health section may reference.

use serde_json::Value;

use super::{Checker, Severity, arr, codings, profiles, s};
use crate::clinical::{CodedList, DMD_NAMESPACE, check_concept_id, sctid_namespace};
use crate::codes::{ResponseCode, profile, system};
use crate::section::MhSection;

const PAYLOAD: Option<ResponseCode> = Some(ResponseCode::PayloadValidationFailure);

/// Resource types (and, for lists, the List profile) a section's entries may reference, from
/// the `CareConnect-ITK-MH-Composition-1` section slices. `Binary` is allowed everywhere.
fn allowed_targets(section: MhSection) -> (&'static [&'static str], Option<CodedList>) {
    match section {
        MhSection::AdmissionDetails => (&["Encounter"], None),
        MhSection::AllergiesAndAdverseReactions => (&["List"], Some(CodedList::Allergies)),
        MhSection::Diagnoses => (&["List"], Some(CodedList::Diagnoses)),
        MhSection::DischargeDetails => (&["Encounter", "Practitioner"], None),
        MhSection::DistributionList => (
            &[
                "Organization",
                "Practitioner",
                "PractitionerRole",
                "Patient",
                "RelatedPerson",
            ],
            None,
        ),
        MhSection::GpPractice => (&["Organization"], None),
        MhSection::MedicationsAndMedicalDevices => (&["List"], Some(CodedList::Medications)),
        MhSection::PatientDemographics => (&["Patient"], None),
        MhSection::PersonCompletingRecord => (&["Practitioner"], None),
        MhSection::Procedures => (&["List"], Some(CodedList::Procedures)),
        MhSection::ReferrerDetails => (
            &[
                "Patient",
                "Practitioner",
                "PractitionerRole",
                "Organization",
                "RelatedPerson",
            ],
            None,
        ),
        _ => (&[], None),
    }
}

impl Checker {
    /// Every SNOMED CT coding in `v` must carry a well-formed concept identifier.
    pub(super) fn snomed_codes(&mut self, v: &Value, loc: &str) {
        match v {
            Value::Object(map) => {
                if s(v, "system") == Some(system::SNOMED_CT)
                    && let Some(code) = map.get("code")
                {
                    let problem = match code.as_str() {
                        Some(code) => check_concept_id(code).err().map(|e| e.to_string()),
                        None => Some("a SNOMED CT code must be a string".to_owned()),
                    };
                    if let Some(message) = problem {
                        self.push(Severity::Error, format!("{loc}.code"), message, PAYLOAD);
                    }
                }
                for (k, child) in map {
                    self.snomed_codes(child, &format!("{loc}.{k}"));
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    self.snomed_codes(child, &format!("{loc}[{i}]"));
                }
            }
            _ => {}
        }
    }

    /// The resource a reference points to (type, profiles, location), when it resolves.
    fn target(&self, reference: Option<&str>) -> Option<(Value, String)> {
        reference.and_then(|r| self.resolve(r)).cloned()
    }

    fn references_patient(&mut self, res: &Value, field: &str, rloc: &str) {
        let target = self.target(res.get(field).and_then(|r| s(r, "reference")));
        match target {
            Some((t, _)) if s(&t, "resourceType") == Some("Patient") => {}
            Some(_) => self.push(
                Severity::Error,
                format!("{rloc}.{field}"),
                "must reference the Patient",
                PAYLOAD,
            ),
            // Unresolved references are reported by the bundle-wide reference check.
            None if res.get(field).is_some() => {}
            None => self.push(
                Severity::Error,
                format!("{rloc}.{field}"),
                "missing (the Patient)",
                PAYLOAD,
            ),
        }
    }

    fn needs_snomed_code(&mut self, res: &Value, field: &str, rloc: &str) {
        if !codings(res.get(field))
            .iter()
            .any(|c| s(c, "system") == Some(system::SNOMED_CT) && s(c, "code").is_some())
        {
            self.push(
                Severity::Error,
                format!("{rloc}.{field}"),
                "needs a SNOMED CT coding",
                PAYLOAD,
            );
        }
    }

    /// Lists and the coded resources of a document bundle.
    pub(super) fn coded_entries(&mut self, doc: &Value, dloc: &str) {
        for (i, e) in arr(doc, "entry").iter().enumerate() {
            let Some(res) = e.get("resource") else {
                continue;
            };
            let rloc = format!("{dloc}.entry[{i}].resource");
            // The ToC (CareConnect-ITK) profiles fix SNOMED CT coding and the Patient link;
            // other profiles (GP Connect documents) may code differently.
            let itk = profiles(res).iter().any(|p| {
                p.starts_with("https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-")
            });
            if !itk && s(res, "resourceType") != Some("List") {
                continue;
            }
            match s(res, "resourceType") {
                Some("List") => self.list(res, &rloc),
                Some("Condition") => {
                    self.needs_snomed_code(res, "code", &rloc);
                    self.references_patient(res, "subject", &rloc);
                }
                Some("AllergyIntolerance") => {
                    self.needs_snomed_code(res, "code", &rloc);
                    self.references_patient(res, "patient", &rloc);
                }
                Some("Procedure") => {
                    self.needs_snomed_code(res, "code", &rloc);
                    self.references_patient(res, "subject", &rloc);
                }
                Some("MedicationStatement") => {
                    self.references_patient(res, "subject", &rloc);
                    let reference = res
                        .get("medicationReference")
                        .and_then(|r| s(r, "reference"));
                    if profiles(res).contains(&profile::ITK_MEDICATION_STATEMENT) {
                        match self.target(reference) {
                            Some((m, _))
                                if s(&m, "resourceType") == Some("Medication")
                                    && profiles(&m).contains(&profile::ITK_MEDICATION) => {}
                            Some(_) => self.push(
                                Severity::Error,
                                format!("{rloc}.medicationReference"),
                                "must reference a CareConnect-ITK-Medication-1",
                                PAYLOAD,
                            ),
                            None if reference.is_some() => {}
                            None => self.push(
                                Severity::Error,
                                format!("{rloc}.medicationReference"),
                                "missing (1..1 in CareConnect-ITK-MedicationStatement-1)",
                                PAYLOAD,
                            ),
                        }
                    }
                }
                Some("Medication") => self.medication(res, &rloc),
                _ => {}
            }
        }
    }

    /// dm+d form: a SNOMED CT concept identifier; a long-form one in the dm+d namespace.
    fn medication(&mut self, res: &Value, rloc: &str) {
        self.needs_snomed_code(res, "code", rloc);
        for (j, c) in codings(res.get("code")).iter().enumerate() {
            if s(c, "system") != Some(system::SNOMED_CT) {
                continue;
            }
            if let Some(code) = s(c, "code")
                && check_concept_id(code).is_ok()
                && let Some(ns) = sctid_namespace(code)
                && ns != DMD_NAMESPACE
            {
                self.push(
                    Severity::Warning,
                    format!("{rloc}.code.coding[{j}].code"),
                    "not a dm+d identifier: a long-form medicine code should be in the dm+d namespace (1000001)",
                    None,
                );
            }
        }
    }

    fn list(&mut self, res: &Value, rloc: &str) {
        let Some(kind) = profiles(res).into_iter().find_map(CodedList::from_profile) else {
            return;
        };
        let (code, display) = kind.code();
        let coding = codings(res.get("code"))
            .iter()
            .find(|c| s(c, "system") == Some(system::SNOMED_CT));
        match coding {
            Some(c) if s(c, "code") == Some(code) => {
                if s(c, "display") != Some(display) {
                    self.push(
                        Severity::Error,
                        format!("{rloc}.code.coding.display"),
                        format!("the list code's display is `{display}`"),
                        PAYLOAD,
                    );
                }
            }
            _ => self.push(
                Severity::Error,
                format!("{rloc}.code"),
                format!(
                    "{} needs SNOMED CT {code} `{display}`",
                    kind.profile().rsplit('/').next().unwrap_or("the list")
                ),
                PAYLOAD,
            ),
        }
        if s(res, "status") != Some("current") {
            self.push(
                Severity::Warning,
                format!("{rloc}.status"),
                "the ToC lists are `current`",
                None,
            );
        }
        if s(res, "mode") != Some("snapshot") {
            self.push(
                Severity::Warning,
                format!("{rloc}.mode"),
                "the ToC lists are `snapshot`",
                None,
            );
        }
        self.references_patient(res, "subject", rloc);
        let entries = arr(res, "entry");
        let empty_reason = res.get("emptyReason").is_some();
        if entries.is_empty() && !empty_reason {
            self.push(
                Severity::Error,
                format!("{rloc}.entry"),
                "an empty list needs its emptyReason",
                PAYLOAD,
            );
        }
        if !entries.is_empty() && empty_reason {
            self.push(
                Severity::Error,
                format!("{rloc}.emptyReason"),
                "only an empty list may have an emptyReason (lst-1)",
                PAYLOAD,
            );
        }
        let (item_type, item_profile) = kind.item();
        for (k, e) in entries.iter().enumerate() {
            let reference = e.get("item").and_then(|i| s(i, "reference"));
            match self.target(reference) {
                Some((item, _))
                    if s(&item, "resourceType") == Some(item_type)
                        && profiles(&item).contains(&item_profile) => {}
                Some(_) => self.push(
                    Severity::Error,
                    format!("{rloc}.entry[{k}].item"),
                    format!(
                        "must reference a {}",
                        item_profile.rsplit('/').next().unwrap_or(item_type)
                    ),
                    PAYLOAD,
                ),
                // Unresolved references are reported by the bundle-wide reference check.
                None if reference.is_some() => {}
                None => self.push(
                    Severity::Error,
                    format!("{rloc}.entry[{k}].item"),
                    "missing reference",
                    PAYLOAD,
                ),
            }
        }
    }

    /// What one section of a mental health composition references.
    pub(super) fn mh_section_entries(&mut self, sec: &Value, section: MhSection, sloc: &str) {
        let (types, list) = allowed_targets(section);
        let mut coded = false;
        for (j, e) in arr(sec, "entry").iter().enumerate() {
            let Some((target, _)) = self.target(s(e, "reference")) else {
                continue; // reported by the bundle-wide reference check
            };
            let ty = s(&target, "resourceType").unwrap_or("");
            let eloc = format!("{sloc}.entry[{j}]");
            if ty == "Binary" {
                continue;
            }
            if !types.contains(&ty) {
                self.push(
                    Severity::Error,
                    eloc,
                    format!("the {} section may not reference a {ty}", section.title()),
                    PAYLOAD,
                );
                continue;
            }
            if let Some(kind) = list {
                if profiles(&target).contains(&kind.profile()) {
                    coded = true;
                } else {
                    self.push(
                        Severity::Error,
                        eloc,
                        format!(
                            "the {} section references a List that is not a {}",
                            section.title(),
                            kind.profile().rsplit('/').next().unwrap_or("")
                        ),
                        PAYLOAD,
                    );
                }
            }
        }
        if section == MhSection::AllergiesAndAdverseReactions && !coded {
            self.push(
                Severity::Warning,
                format!("{sloc}.entry"),
                "the mandatory allergies section is narrative only: reference a CareConnect-ITK-Allergy-List-1 (coded entries, or empty with its emptyReason) so the GP system can file it",
                None,
            );
        }
    }
}
