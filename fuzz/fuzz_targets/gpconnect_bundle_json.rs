#![no_main]
//! FHIR JSON from a peer: validation never panics; what parses re-encodes (JSON and FHIR XML)
//! and re-parses equal.
use gpconnect_fhir::{json, validate_json, xml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let report = validate_json(text);
    let _ = report.response_code();
    if let Ok(resource) = json::from_json(text) {
        let encoded = json::to_json(&resource).expect("a parsed resource re-encodes");
        let again = json::from_json(&encoded).expect("our JSON re-parses");
        assert_eq!(json::to_json(&again).expect("re-encodes"), encoded);
        // XML cannot carry JSON null placeholders, so compare from the first XML on.
        if let Ok(xml_text) = xml::to_xml(&resource) {
            let back = xml::from_xml(&xml_text).expect("our XML re-parses");
            assert_eq!(xml::to_xml(&back).expect("re-encodes"), xml_text);
        }
    }
});
