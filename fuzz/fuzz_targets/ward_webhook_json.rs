#![no_main]
//! The ward-assurance sync body and dashboard webhook parsers and the sync-log query string:
//! never panic on any bytes, and whatever parses re-encodes and re-parses equal.
//! (`crates/ward-assurance/tests/hostile_input.rs` runs the same invariant in CI.)
use libfuzzer_sys::fuzz_target;
use ward_assurance::{DashboardWebhook, SyncLogQuery, SyncRequest, TaskFile, parse_sync_body};

fuzz_target!(|data: &[u8]| {
    // No error repeats an NHS number (received values never reach error text).
    if let Err(error) = parse_sync_body(data) {
        assert!(!nhs_identifiers::scan::contains_nhs_number(&error.to_string()));
    }
    if let Ok(request) = parse_sync_body(data) {
        let encoded = request.to_json();
        let again = SyncRequest::from_json(encoded.as_bytes()).expect("a parsed request re-parses");
        assert_eq!(again, request);
        assert_eq!(again.to_json(), encoded);
    }
    if let Ok(hook) = DashboardWebhook::from_json(data) {
        let again = DashboardWebhook::from_json(hook.to_json().as_bytes())
            .expect("a parsed webhook re-parses");
        assert_eq!(again, hook);
    }
    let _ = TaskFile::from_json(data);
    // The sync-log query string: a selection in range, or a field error repeating nothing.
    match SyncLogQuery::from_query_string(&String::from_utf8_lossy(data)) {
        Ok(selection) => assert!((1..=5000).contains(&selection.limit)),
        Err(error) => {
            assert_eq!(error.code(), "INVALID_FIELD");
            assert!(!nhs_identifiers::scan::contains_nhs_number(&error.to_string()));
        }
    }
});
