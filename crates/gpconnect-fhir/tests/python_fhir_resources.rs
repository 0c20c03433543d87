//! Our messages parse in an independent STU3 model: Python `fhir.resources` (its `STU3`
//! package, pinned in `.ci/requirements.txt`), from JSON and from XML.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::*;

const SCRIPT: &str = r#"
import json, sys
from fhir.resources.STU3.bundle import Bundle
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        raw = f.read()
    if path.endswith(".json"):
        bundle = Bundle.model_validate(json.loads(raw))
    else:
        bundle = Bundle.model_validate_xml(raw)
    doc = [e.resource for e in bundle.entry if e.resource.__resource_type__ == "Bundle"][0]
    kinds = ",".join(e.resource.__resource_type__ for e in doc.entry)
    print(f"{path.rsplit('/', 1)[-1]} {len(bundle.entry)} {kinds}")
"#;

#[test]
fn our_messages_parse_in_python_fhir_resources_stu3() {
    let Some(python) = nhs_test_support::python() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("gpconnect-fhir-py-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let messages = [
        ("coded_discharge", coded_discharge_message()),
        ("narrative_discharge", discharge_message()),
        ("send_document", send_document_message()),
    ];
    let mut paths = Vec::new();
    let mut expected = Vec::new();
    for (name, msg) in &messages {
        let doc = match &msg.bundle.entry.last() {
            Some(Some(e)) => match &e.resource {
                Some(gpconnect_fhir::fhir_model::stu3::resources::Resource::Bundle(d)) => d,
                _ => panic!("no document bundle"),
            },
            _ => panic!("no entries"),
        };
        let kinds: Vec<String> = doc
            .entry
            .iter()
            .flatten()
            .map(|e| {
                let json = serde_json::to_value(e.resource.as_ref().unwrap()).unwrap();
                json["resourceType"].as_str().unwrap().to_owned()
            })
            .collect();
        for (ext, body) in [
            ("json", msg.to_json().unwrap()),
            ("xml", msg.to_xml().unwrap()),
        ] {
            let path = dir.join(format!("{name}.{ext}"));
            std::fs::write(&path, body).unwrap();
            paths.push(path);
            expected.push(format!(
                "{name}.{ext} {} {}",
                msg.bundle.entry.len(),
                kinds.join(",")
            ));
        }
    }
    let out = Command::new(python)
        .arg("-c")
        .arg(SCRIPT)
        .args(&paths)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "fhir.resources rejected our output:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(got, expected);
    // The coded discharge carries every new resource type.
    for kind in [
        "List",
        "AllergyIntolerance",
        "Condition",
        "MedicationStatement",
        "Medication",
        "Procedure",
        "PractitionerRole",
        "Location",
    ] {
        assert!(got[0].contains(kind), "{kind} missing: {}", got[0]);
    }
}
