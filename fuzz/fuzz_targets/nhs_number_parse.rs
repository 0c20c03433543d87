#![no_main]
//! NHS number parsing and free-text scanning never panic, and whatever parses re-parses equal.
use libfuzzer_sys::fuzz_target;
use nhs_identifiers::{NhsNumber, scan};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(n) = text.parse::<NhsNumber>() {
            assert_eq!(n.expose().parse::<NhsNumber>(), Ok(n));
        }
        let redacted = scan::redact(text);
        assert!(!scan::contains_nhs_number(&redacted));
    }
});
