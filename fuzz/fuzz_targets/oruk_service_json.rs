#![no_main]
// ORUK service JSON: parsing and validation never panic; whatever parses re-encodes and
// re-parses equal. The same invariants run in CI in
// crates/open-referral-uk/tests/hostile_and_properties.rs.
use libfuzzer_sys::fuzz_target;
use open_referral_uk::Service;
use open_referral_uk::validate::{Document, PageKind, ValidationContext, validate_json};

fuzz_target!(|data: &[u8]| {
    let context = ValidationContext::default();
    let _ = validate_json(data, Document::Service, &context);
    let _ = validate_json(data, Document::Page(PageKind::Services), &context);
    if let Ok(service) = Service::from_json(data) {
        let encoded = service.to_json().expect("a parsed service encodes");
        let again = Service::from_json(encoded.as_bytes()).expect("an encoded service parses");
        assert_eq!(again, service);
    }
});
