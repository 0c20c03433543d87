#![no_main]
// A provider's listing body (POST /provider/services): decoding, the official-schema and
// semantic checks and the entry checks never panic, and a refusal never repeats a received
// string. The same entry point runs in CI in crates/open-referral-uk/tests/marketplace_hostile.rs.
use libfuzzer_sys::fuzz_target;
use open_referral_uk::provider_api::check_listing_body;

fuzz_target!(|data: &[u8]| {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
    if let Err(refusal) = check_listing_body(data, today) {
        assert!((400..500).contains(&refusal.status()));
    }
});
