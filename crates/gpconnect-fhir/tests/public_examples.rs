//! The public NHS example payloads: parse, validate with the expected findings, compare structure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use gpconnect_fhir::xml::dom::{self, Element};
use gpconnect_fhir::{ItkResponse, ResponseCode, Severity, validate_json, xml};

const MH_JSON: &str =
    "careconnect-examples_mh_eDischarge_elizabeth_black_full_payload_example-01_9658220169.json";

#[test]
fn json_discharge_example_parses_and_validates_with_the_expected_findings() {
    let Some(json) = example(MH_JSON) else { return };
    // fhir-model reads it.
    let parsed: gpconnect_fhir::fhir_model::stu3::resources::Bundle =
        serde_json::from_str(&json).unwrap();
    assert_eq!(parsed.entry.len(), 25);

    let report = validate_json(&json);
    let errors: Vec<_> = report.errors().collect();
    // The NHS number 9996668887 fails Modulus 11: reported once, without the number.
    let nhs: Vec<_> = report.matching("Modulus 11").collect();
    assert_eq!(nhs.len(), 1, "{report}");
    assert_eq!(nhs[0].severity, Severity::Error);
    assert_eq!(
        nhs[0].location,
        "Bundle.entry[13].resource.identifier[0].value"
    );
    assert!(!report.to_string().contains("9996668887"));
    // The 56 non-standard fhir_comments properties are reported, not silently dropped.
    let unknown: Vec<_> = report.matching("unknown property").collect();
    assert_eq!(unknown.len(), 56);
    assert!(
        unknown
            .iter()
            .all(|f| f.location.ends_with("fhir_comments"))
    );
    assert!(
        unknown
            .iter()
            .any(|f| f.location == "Bundle.entry[0].resource._status.fhir_comments")
    );
    // The pre-2019 care setting extension URL.
    assert_eq!(report.matching("old care setting extension URL").count(), 1);
    // Nothing else is an error; the resources lack ids (warnings); no envelope (information).
    assert_eq!(errors.len(), 1 + 56 + 1, "{report}");
    assert_eq!(report.matching("GPCM-SD-028").count(), 25);
    assert_eq!(
        report.matching("without its ITK3 message envelope").count(),
        1
    );
    assert_eq!(
        report.response_code(),
        ResponseCode::PayloadValidationFailure
    );
}

#[test]
fn itk3_response_examples_read_from_xml() {
    let cases = [
        (
            "STU3-FHIR-Assets_ITK-Response-20013-Example-1.xml",
            ResponseCode::Success,
            "ok",
        ),
        (
            "STU3-FHIR-Assets_ITK-Response-30001-Example-1.xml",
            ResponseCode::PatientKnownHere,
            "ok",
        ),
        (
            "STU3-FHIR-Assets_ITK-Response-20009-Example-1.xml",
            ResponseCode::PayloadValidationFailure,
            "fatal-error",
        ),
    ];
    for (name, code, response_type) in cases {
        let Some(text) = example(name) else { return };
        let got = ItkResponse::from_xml(&text).unwrap();
        assert_eq!(got.response.code, code, "{name}");
        assert_eq!(got.response_type, response_type);
        assert_eq!(got.responder_mailbox, "NOROT003");
        assert_eq!(got.response.sender_reference, "None");
        assert_eq!(got.response.is_positive(), response_type == "ok");
        // And the validator accepts them as ITK3 responses.
        let json = xml::xml_to_json(&text).unwrap().to_string();
        let report = validate_json(&json);
        assert!(report.is_valid(), "{name}: {report}");
    }
}

fn strip_jekyll(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("{%"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The resource inside an `entry`.
fn entry_resource(entry: &Element) -> Option<&Element> {
    entry.child("resource").and_then(|r| r.children.first())
}

fn entries(bundle: &Element) -> Vec<&Element> {
    bundle
        .children
        .iter()
        .filter(|c| c.name == "entry")
        .filter_map(entry_resource)
        .collect()
}

/// Distinct child names with consecutive repeats collapsed, sorted into STU3 order when the
/// type is known (the public examples are out of schema order in places).
fn canonical(el: &Element, type_name: Option<&str>, keep: Option<&[String]>) -> Vec<String> {
    let mut names: Vec<String> = el
        .child_names()
        .into_iter()
        .map(str::to_owned)
        .filter(|n| keep.is_none_or(|k| k.contains(n)))
        .collect();
    if let Some(order) = type_name.and_then(xml::element_order) {
        names.sort_by_key(|n| {
            order
                .iter()
                .position(|o| {
                    o == n || (o.ends_with("[x]") && n.starts_with(o.trim_end_matches("[x]")))
                })
                .unwrap_or(usize::MAX)
        });
    }
    names.dedup();
    names
}

/// Ours has no element the example lacks, and in the same (STU3) order.
fn same_structure(ours: &Element, theirs: &Element, type_name: Option<&str>, path: &str) {
    let our_names = canonical(ours, type_name, None);
    let their_names = canonical(theirs, type_name, Some(&our_names));
    assert_eq!(our_names, their_names, "{path}: element names/order differ");
    // Our own document order is already canonical (no sorting needed).
    let mut raw: Vec<String> = ours.child_names().into_iter().map(str::to_owned).collect();
    raw.dedup();
    assert_eq!(raw, our_names, "{path}: our XML is out of STU3 order");
}

fn nested_type(name: &str) -> Option<&'static str> {
    Some(match name {
        "meta" => "Meta",
        "identifier" => "Identifier",
        "name" => "HumanName",
        "telecom" => "ContactPoint",
        "event" | "valueCoding" => "Coding",
        "type" | "code" => "CodeableConcept",
        "sender" | "subject" | "author" | "custodian" | "focus" => "Reference",
        "source" => "MessageHeaderSource",
        "section" => "CompositionSection",
        "text" => "Narrative",
        _ => return None,
    })
}

fn deep_compare(ours: &Element, theirs: &Element, type_name: &str, path: &str) {
    same_structure(ours, theirs, Some(type_name), path);
    for child in &ours.children {
        if child.name == "entry" || child.name == "resource" || child.children.is_empty() {
            continue;
        }
        if let (Some(t), Some(other)) = (nested_type(&child.name), theirs.child(&child.name)) {
            same_structure(child, other, Some(t), &format!("{path}.{}", child.name));
        }
    }
}

#[test]
fn our_send_document_xml_has_the_structure_of_the_public_example() {
    let Some(text) = example("gpconnect-messaging_consultation_report.xml") else {
        return;
    };
    let theirs = dom::parse(&strip_jekyll(&text)).unwrap();
    let ours = dom::parse(&send_document_message().to_xml().unwrap()).unwrap();

    // Message bundle: id, meta, identifier, type, then MessageHeader, header Organization,
    // document Bundle.
    assert_eq!(ours.child_names(), theirs.child_names());
    deep_compare(&ours, &theirs, "Bundle", "Bundle");
    let (our_entries, their_entries) = (entries(&ours), entries(&theirs));
    let names = |v: &[&Element]| v.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&our_entries),
        ["MessageHeader", "Organization", "Bundle"]
    );
    assert_eq!(names(&our_entries), names(&their_entries));

    // MessageHeader (the example puts `source` before `event`, out of STU3 order).
    deep_compare(
        our_entries[0],
        their_entries[0],
        "MessageHeader",
        "MessageHeader",
    );
    let handling_urls = |h: &Element| {
        h.child("extension")
            .unwrap()
            .children
            .iter()
            .map(|e| e.attribute("url").unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        handling_urls(our_entries[0]),
        handling_urls(their_entries[0])
    );
    deep_compare(
        our_entries[1],
        their_entries[1],
        "Organization",
        "header Organization",
    );

    // Document bundle and its resources, paired by type.
    deep_compare(
        our_entries[2],
        their_entries[2],
        "Bundle",
        "document Bundle",
    );
    let (our_doc, their_doc) = (entries(our_entries[2]), entries(their_entries[2]));
    assert_eq!(our_doc[0].name, "Composition");
    assert_eq!(their_doc[0].name, "Composition");
    for ty in [
        "Composition",
        "Binary",
        "Practitioner",
        "Organization",
        "Patient",
    ] {
        let o = our_doc.iter().find(|e| e.name == ty).unwrap();
        let t = their_doc.iter().find(|e| e.name == ty).unwrap();
        deep_compare(o, t, ty, ty);
    }
    // The relative order of the resource types in the document matches too.
    let order = |v: &[&Element]| {
        let mut n: Vec<String> = v
            .iter()
            .map(|e| e.name.clone())
            .filter(|n| n != "Observation")
            .collect();
        n.dedup();
        n
    };
    assert_eq!(order(&our_doc), order(&their_doc));
}

#[test]
fn our_envelope_matches_the_itk3_send_payload_example() {
    let Some(text) = example("STU3-FHIR-Assets_ITK-SendPayload-Payload-Removed-Example-1.xml")
    else {
        return;
    };
    let theirs = dom::parse(&text).unwrap();
    let ours = dom::parse(&send_document_message().to_xml().unwrap()).unwrap();
    let (our_header, their_header) = (entries(&ours)[0], entries(&theirs)[0]);
    // That example is schema-ordered; it has a receiver, which Send Document forbids.
    let their_names: Vec<&str> = their_header
        .child_names()
        .into_iter()
        .filter(|n| *n != "receiver")
        .collect();
    assert_eq!(our_header.child_names(), their_names);
}

#[test]
fn mh_document_xml_examples_share_our_composition_structure() {
    let Some(text) = example("STU3-FHIR-Assets_ITK-MH-Document-Bundle-Example-1.xml") else {
        return;
    };
    let theirs = dom::parse(&text).unwrap();
    let ours = dom::parse(&discharge_message().to_xml().unwrap()).unwrap();
    let our_doc = entries(entries(&ours)[2]);
    let their_doc = entries(&theirs);
    deep_compare(our_doc[0], their_doc[0], "Composition", "MH Composition");
    // Every section code we emit is one the example uses or a current code of the profile.
    let codes = |c: &Element| {
        c.children
            .iter()
            .filter(|s| s.name == "section")
            .filter_map(|s| {
                s.child("code")?
                    .child("coding")?
                    .child("code")?
                    .attribute("value")
                    .map(str::to_owned)
            })
            .collect::<Vec<_>>()
    };
    let their_codes = codes(their_doc[0]);
    for code in codes(our_doc[0]) {
        assert!(
            their_codes.contains(&code) || gpconnect_fhir::MhSection::from_code(&code).is_some()
        );
    }
}

#[test]
fn public_xml_examples_read_into_the_model_and_write_back() {
    let names = [
        "gpconnect-messaging_consultation_report.xml",
        "STU3-FHIR-Assets_ITK-MH-Document-Bundle-Example-1.xml",
        "NHSDigital-FHIR-ImplementationGuide-STU3_TOC-MentalHealthDischarge-JonBurrows.xml",
        "STU3-FHIR-Assets_ITK-SendPayload-Payload-Removed-Example-1.xml",
    ];
    for name in names {
        let Some(text) = example(name) else { return };
        let text = strip_jekyll(&text);
        if name.contains("Payload-Removed") {
            // Its payload Bundle is empty (removed for display): Bundle.type is missing.
            assert!(matches!(
                xml::from_xml(&text),
                Err(gpconnect_fhir::Error::Json(_))
            ));
            continue;
        }
        let resource = xml::from_xml(&text).unwrap();
        let ours = xml::to_xml(&resource).unwrap();
        assert_eq!(xml::from_xml(&ours).unwrap(), resource, "{name}");
    }
}

/// Drops `"_field": {}`: fhir-model re-emits an empty primitive extension where the input's
/// `_field` held only unknown keys (here `fhir_comments`); it is not valid FHIR and has no XML
/// form.
fn drop_empty_primitive_extensions(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.retain(|k, v| !(k.starts_with('_') && v.as_object().is_some_and(|o| o.is_empty())));
            map.values_mut().for_each(drop_empty_primitive_extensions);
        }
        serde_json::Value::Array(items) => {
            items.iter_mut().for_each(drop_empty_primitive_extensions)
        }
        _ => {}
    }
}

#[test]
fn json_discharge_example_converts_to_xml_and_back() {
    let Some(json) = example(MH_JSON) else { return };
    let resource: gpconnect_fhir::fhir_model::stu3::resources::Resource =
        serde_json::from_str(&json).unwrap();
    let xml_text = xml::to_xml(&resource).unwrap();
    let back = xml::from_xml(&xml_text).unwrap();
    let mut expected = serde_json::to_value(&resource).unwrap();
    drop_empty_primitive_extensions(&mut expected);
    assert_eq!(serde_json::to_value(&back).unwrap(), expected);
    assert_eq!(xml::to_xml(&back).unwrap(), xml_text);
}

#[test]
fn public_send_document_example_validates_with_the_expected_findings() {
    let Some(text) = example("gpconnect-messaging_consultation_report.xml") else {
        return;
    };
    let json = xml::xml_to_json(&strip_jekyll(&text)).unwrap().to_string();
    let report = validate_json(&json);
    // 9989453456 fails Modulus 11.
    assert_eq!(report.matching("Modulus 11").count(), 1, "{report}");
    // Older-edition values are warnings, not errors.
    assert_eq!(
        report
            .matching("older gpconnect-messaging MessageDefinition")
            .count(),
        1
    );
    assert_eq!(report.matching("the current guide fixes `NONE`").count(), 1);
    // Message and document bundles share one identifier.
    assert_eq!(
        report
            .matching("same identifier as the message bundle")
            .count(),
        1
    );
    assert_eq!(report.errors().count(), 1, "{report}");
}

// ---- The coded discharge rebuilt from the public full-payload example ----

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

fn snomed_code(concept: &Value) -> String {
    concept["coding"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["system"] == "http://snomed.info/sct")
        .and_then(|c| c["code"].as_str())
        .unwrap_or("?")
        .to_owned()
}

/// A name for each entry that does not depend on ids, names or ODS codes: what the resource is
/// (type + code, profile) or the part it plays (author, custodian, GP practice, referrer...).
fn labels(doc: &Value) -> BTreeMap<String, String> {
    let entries: Vec<(&str, &Value)> = doc["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["fullUrl"].as_str().unwrap(), &e["resource"]))
        .collect();
    let by_url: BTreeMap<&str, &Value> = entries.iter().copied().collect();
    let composition = entries[0].1;
    let refs = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["reference"].as_str().map(str::to_owned))
            .collect()
    };
    let mut section_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in composition["section"].as_array().unwrap() {
        for r in refs(&s["entry"]) {
            section_of
                .entry(r)
                .or_default()
                .insert(s["title"].as_str().unwrap().to_owned());
        }
    }
    let mut label: BTreeMap<String, String> = BTreeMap::new();
    let author = refs(&composition["author"]).remove(0);
    let custodian = composition["custodian"]["reference"].as_str().unwrap();
    for (url, r) in &entries {
        let ty = r["resourceType"].as_str().unwrap();
        let name = match ty {
            "Composition" | "Patient" | "Encounter" | "Location" => ty.to_owned(),
            "List" => format!(
                "List({})",
                r["meta"]["profile"][0]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
            ),
            "Condition" | "AllergyIntolerance" | "Procedure" | "Medication" => {
                format!("{ty}({})", snomed_code(&r["code"]))
            }
            "MedicationStatement" => {
                let med = by_url[r["medicationReference"]["reference"].as_str().unwrap()];
                format!("{ty}({})", snomed_code(&med["code"]))
            }
            "Organization" if *url == custodian => "Custodian".to_owned(),
            "Organization" => "GP practice".to_owned(),
            "Practitioner" if **url == *author => "Author".to_owned(),
            _ => continue,
        };
        label.insert((*url).to_owned(), name);
    }
    // Other practitioners: by the sections naming them and their roles.
    for (url, r) in &entries {
        if r["resourceType"] != "Practitioner" || label.contains_key(*url) {
            continue;
        }
        let roles: BTreeSet<String> = entries
            .iter()
            .filter(|(_, role)| {
                role["resourceType"] == "PractitionerRole"
                    && role["practitioner"]["reference"] == **url
            })
            .map(|(_, role)| {
                format!(
                    "{}@{}",
                    role["code"][0]["coding"][0]["code"].as_str().unwrap(),
                    label[role["organization"]["reference"].as_str().unwrap()]
                )
            })
            .collect();
        let sections = section_of.get(*url).cloned().unwrap_or_default();
        label.insert(
            (*url).to_owned(),
            format!("Practitioner({roles:?} in {sections:?})"),
        );
    }
    for (url, r) in &entries {
        if r["resourceType"] == "PractitionerRole" {
            let who = &label[r["practitioner"]["reference"].as_str().unwrap()];
            label.insert((*url).to_owned(), format!("PractitionerRole({who})"));
        }
    }
    label
}

/// The resource with ids, identifiers, narrative and example-only comments removed and every
/// reference replaced by the label of its target.
fn canonical_json(v: &Value, label: &BTreeMap<String, String>) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, child) in map {
                if matches!(k.as_str(), "id" | "identifier" | "text" | "fhir_comments")
                    || k.starts_with('_')
                {
                    continue;
                }
                if k == "reference" {
                    let target = child.as_str().unwrap();
                    out.insert(
                        k.clone(),
                        json!(label.get(target).unwrap_or(&"?".to_owned())),
                    );
                    continue;
                }
                if k == "display" && map.contains_key("reference") {
                    continue;
                }
                out.insert(k.clone(), canonical_json(child, label));
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|i| canonical_json(i, label)).collect())
        }
        other => other.clone(),
    }
}

/// label → canonical resource, for the clinical resources; section title → (code, display,
/// sorted entry labels).
type Canonical = (
    BTreeMap<String, Value>,
    BTreeMap<String, (String, String, Vec<String>)>,
);

fn clinical_content(doc: &Value) -> Canonical {
    let label = labels(doc);
    let mut resources = BTreeMap::new();
    for e in doc["entry"].as_array().unwrap() {
        let r = &e["resource"];
        let url = e["fullUrl"].as_str().unwrap();
        let compared = match r["resourceType"].as_str().unwrap() {
            "List"
            | "Condition"
            | "AllergyIntolerance"
            | "MedicationStatement"
            | "Medication"
            | "Procedure"
            | "PractitionerRole"
            | "Location" => canonical_json(r, &label),
            // The stay: its coded content (class, type, reason, admission method, source of
            // admission, discharge destination), status, who discharged and where; not the
            // timestamps (period, location period) nor the service provider.
            "Encounter" => {
                let full = canonical_json(r, &label);
                json!({
                    "meta": full["meta"],
                    "extension": full["extension"],
                    "status": full["status"],
                    "class": full["class"],
                    "type": full["type"],
                    "reason": full["reason"],
                    "hospitalization": full["hospitalization"],
                    "participant": full["participant"],
                    "location": full["location"].as_array().map(|l| l.iter().map(|x| x["location"].clone()).collect::<Vec<_>>()),
                })
            }
            _ => continue,
        };
        let previous = resources.insert(label[url].clone(), compared);
        assert!(previous.is_none(), "two entries labelled {}", label[url]);
    }
    let mut sections = BTreeMap::new();
    for s in doc["entry"][0]["resource"]["section"].as_array().unwrap() {
        let coding = &s["code"]["coding"][0];
        let mut members: Vec<String> = s["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| label[r["reference"].as_str().unwrap()].clone())
            .collect();
        members.sort();
        sections.insert(
            s["title"].as_str().unwrap().to_owned(),
            (
                coding["code"].as_str().unwrap().to_owned(),
                coding["display"].as_str().unwrap().to_owned(),
                members,
            ),
        );
    }
    (resources, sections)
}

#[test]
fn coded_discharge_rebuilds_the_public_full_payload_example() {
    let Some(text) = example(MH_JSON) else { return };
    let theirs: Value = serde_json::from_str(&text).unwrap();
    let message = coded_discharge_message();
    let ours: Value = serde_json::from_str(&message.to_json().unwrap()).unwrap();
    let ours = &ours["entry"][2]["resource"];
    assert_eq!(
        ours["entry"].as_array().unwrap().len(),
        theirs["entry"].as_array().unwrap().len(),
        "same number of resources"
    );
    let (their_resources, their_sections) = clinical_content(&theirs);
    let (our_resources, our_sections) = clinical_content(ours);
    assert_eq!(
        our_resources.keys().collect::<Vec<_>>(),
        their_resources.keys().collect::<Vec<_>>()
    );
    // 4 lists, 1 condition, 1 allergy, 2 statements + 2 medications, 1 procedure, 4 roles,
    // the ward and the stay; 20 sections.
    assert_eq!(their_resources.len(), 17, "{:?}", their_resources.keys());
    assert_eq!(their_sections.len(), 20);
    assert!(their_resources.contains_key("MedicationStatement(889411000001101)"));
    assert!(
        their_resources
            .keys()
            .any(|k| k.contains("R0260@GP practice"))
    );
    for (label, theirs) in &their_resources {
        let ours = &our_resources[label];
        // The example's Location identifies the ward by its own local code, ours by ours.
        if label == "Location" {
            assert_eq!(ours["managingOrganization"], theirs["managingOrganization"]);
            assert_eq!(ours["meta"], theirs["meta"]);
            continue;
        }
        assert_eq!(ours, theirs, "{label}");
    }
    assert_eq!(our_sections, their_sections);
    // And the example's coded content passes the new rules: no SNOMED, list or section
    // finding (its known defects are elsewhere, see the test above).
    let report = validate_json(&text);
    for text in ["SNOMED", "List", "section may not", "emptyReason", "dm+d"] {
        assert_eq!(report.matching(text).count(), 0, "{text}: {report}");
    }
}

/// The NHS XML discharge examples (real allergy reactions, routes, dm+d codes, lists) pass the
/// coded-content rules: their only error is the known invalid NHS number.
#[test]
fn public_mh_xml_examples_pass_the_coded_content_rules() {
    for name in [
        "NHSDigital-FHIR-ImplementationGuide-STU3_TOC-MentalHealthDischarge-JonBurrows.xml",
        "STU3-FHIR-Assets_ITK-MH-Document-Bundle-Example-1.xml",
    ] {
        let Some(text) = example(name) else { return };
        let json = xml::xml_to_json(&text).unwrap().to_string();
        let report = validate_json(&json);
        let errors: Vec<_> = report.errors().collect();
        assert_eq!(errors.len(), 1, "{name}: {report}");
        assert!(errors[0].message.contains("Modulus 11"), "{name}: {report}");
        assert_eq!(
            report
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Warning)
                .count(),
            0,
            "{name}: {report}"
        );
    }
}

/// The new resource types are in the STU3 element-order table, and our XML writes their
/// elements (and the backbone elements inside) in STU3 order.
#[test]
fn coded_discharge_xml_is_in_stu3_element_order() {
    let ours = dom::parse(&coded_discharge_message().to_xml().unwrap()).unwrap();
    let message_entries = entries(&ours);
    let doc = message_entries
        .iter()
        .find(|e| e.name == "Bundle")
        .expect("document bundle");
    let mut seen = BTreeSet::new();
    for res in entries(doc) {
        same_structure(res, res, Some(&res.name), &res.name);
        seen.insert(res.name.clone());
        for (child, ty) in [
            ("entry", "ListEntry"),
            ("reaction", "AllergyIntoleranceReaction"),
            ("dosage", "Dosage"),
            ("participant", "EncounterParticipant"),
            ("location", "EncounterLocation"),
            ("hospitalization", "EncounterHospitalization"),
            ("section", "CompositionSection"),
        ] {
            if res.name == "Bundle"
                || (matches!(child, "location" | "hospitalization") && res.name != "Encounter")
            {
                continue;
            }
            for c in res.children.iter().filter(|c| c.name == child) {
                same_structure(c, c, Some(ty), &format!("{}.{child}", res.name));
            }
        }
    }
    let encounter = entries(doc)
        .into_iter()
        .find(|e| e.name == "Encounter")
        .expect("the stay");
    assert!(
        encounter
            .children
            .iter()
            .any(|c| c.name == "hospitalization"),
        "the coded stay writes Encounter.hospitalization"
    );
    for ty in [
        "List",
        "AllergyIntolerance",
        "Condition",
        "MedicationStatement",
        "Medication",
        "Procedure",
        "PractitionerRole",
        "Location",
    ] {
        assert!(seen.contains(ty), "{ty} not in the coded discharge");
        assert!(
            xml::element_order(ty).is_some(),
            "{ty} not in the order table"
        );
    }
}
