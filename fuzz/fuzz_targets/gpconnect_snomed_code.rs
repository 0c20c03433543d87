#![no_main]
//! SNOMED CT codes from a peer's bundle: the identifier check never panics, agrees with the
//! Verhoeff check digit it computes, and accepts exactly what parses as a `SnomedCode`.
use gpconnect_fhir::clinical::{SnomedCode, check_concept_id, verhoeff_digit, verhoeff_valid};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let checked = check_concept_id(text);
    assert_eq!(checked.is_ok(), text.parse::<SnomedCode>().is_ok());
    if checked.is_ok() {
        assert!(verhoeff_valid(text));
    }
    if let Some((body, last)) = text.split_at_checked(text.len().saturating_sub(1))
        && !body.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
    {
        let expected = verhoeff_digit(body).expect("digits");
        assert_eq!(verhoeff_valid(text), last == expected.to_string());
    }
});
