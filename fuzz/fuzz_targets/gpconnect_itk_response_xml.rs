#![no_main]
//! ITK3 responses in FHIR XML from a MESH peer: reading never panics; what parses as FHIR XML
//! re-encodes and re-parses equal.
use gpconnect_fhir::{ItkResponse, xml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = ItkResponse::from_xml(text);
    if let Ok(resource) = xml::from_xml(text) {
        let encoded = xml::to_xml(&resource).expect("a parsed resource re-encodes");
        let again = xml::from_xml(&encoded).expect("our XML re-parses");
        assert_eq!(again, resource);
    }
});
