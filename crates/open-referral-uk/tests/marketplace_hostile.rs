#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `oruk_listing_body` fuzz target's entry point in CI: any body is a 4xx refusal or
//! warnings, never a panic, and no refusal repeats a received string.
#![cfg(feature = "live")]

use chrono::NaiveDate;
use open_referral_uk::provider_api::check_listing_body;
use proptest::prelude::*;
use serde_json::{Value, json};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

fn valid() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples-data/services.json");
    let all: Vec<Value> = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    json!({"service": all[0], "entry": "referral"})
}

/// Puts `marker` at a pseudo-random place of the body (a field's value or a new field).
fn plant(body: &mut Value, marker: &str, choice: usize) {
    let service = &mut body["service"];
    match choice % 8 {
        0 => service["email"] = json!(marker),
        1 => service["id"] = json!(marker),
        2 => service["url"] = json!(marker),
        3 => service["status"] = json!(marker),
        4 => service["last_modified"] = json!(marker),
        5 => body["entry"] = json!(marker),
        6 => body["referral_route"] = json!({"external_link": {"url": marker}}),
        _ => service["schedules"][0]["opens_at"] = json!(marker),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Err(refusal) = check_listing_body(&bytes, today()) {
            prop_assert!((400..500).contains(&refusal.status()));
        }
    }

    #[test]
    fn refusals_never_repeat_a_received_string(
        marker in "[A-Za-z]{6}[0-9]{6}",
        choice in 0usize..8,
    ) {
        let mut body = valid();
        plant(&mut body, &marker, choice);
        let bytes = serde_json::to_vec(&body).unwrap();
        match check_listing_body(&bytes, today()) {
            Err(refusal) => {
                prop_assert!(!refusal.message().contains(&marker));
                for finding in refusal.findings() {
                    prop_assert!(!finding.message.contains(&marker), "{}", finding);
                }
            }
            Ok(warnings) => {
                for finding in warnings {
                    prop_assert!(!finding.message.contains(&marker), "{}", finding);
                }
            }
        }
    }
}

#[test]
fn the_valid_body_passes_and_truncations_are_refused() {
    let bytes = serde_json::to_vec(&valid()).unwrap();
    check_listing_body(&bytes, today()).unwrap();
    for cut in [1, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
        let refusal = check_listing_body(&bytes[..cut], today()).unwrap_err();
        assert_eq!(refusal.status(), 400);
    }
}
