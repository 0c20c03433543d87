#![no_main]
// ORUK CSV bulk import: never panics; every imported service re-encodes and re-parses equal,
// and each row error names a line inside the input. The same invariants run in CI in
// crates/open-referral-uk/tests/hostile_and_properties.rs.
use libfuzzer_sys::fuzz_target;
use open_referral_uk::Service;
use open_referral_uk::csv_import::import_csv;

fuzz_target!(|data: &[u8]| {
    if let Ok(import) = import_csv(data) {
        let lines = data.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        for error in &import.errors {
            assert!(error.line >= 1 && error.line <= lines, "{error}");
        }
        for service in &import.services {
            let encoded = service.to_json().expect("an imported service encodes");
            assert_eq!(
                &Service::from_json(encoded.as_bytes()).expect("re-parses"),
                service
            );
        }
    }
});
