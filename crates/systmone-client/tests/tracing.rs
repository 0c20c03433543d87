#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `tracing` output carries function, request uid and gateway but no patient identifier or API
//! key.
//!
//! This test is the only one in its binary on purpose: `tracing` caches each callsite's
//! interest process-wide, and a test on another thread that reaches the same callsites with no
//! subscriber while this one holds a thread-local subscriber (`set_default`) can leave a span
//! disabled here. Alone in its process, what it captures is exactly what the client logs.

mod common;

use common::*;
use systmone_sim::Fault;

#[tokio::test(start_paused = true)]
async fn spans_name_function_request_and_gateway_never_the_patient() {
    let captured = nhs_test_support::logs::LogCapture::new();
    let _guard = tracing::subscriber::set_default(captured.subscriber("debug"));
    let org = organisation();
    let sim = gateway(&org, "gateway0001");
    let client = client("gw-1", &sim);
    client.call(note("traced")).await.unwrap();
    sim.inject_next("UpdatePatientRecord", Fault::CloseAfterApply);
    let error = client.call(note("traced-again")).await.unwrap_err();
    assert!(error.is_outcome_unknown());
    client.call(demographics()).await.unwrap();
    client.shutdown().await;
    let text = captured.text();
    assert!(text.contains("function=UpdatePatientRecord"), "{text}");
    assert!(text.contains("function=GetPatientRecord"), "{text}");
    assert!(text.contains("request_uid=nhsi-1"), "{text}");
    assert!(text.contains("request_uid=nhsi-2"), "{text}");
    assert!(text.contains("gateway=gw-1"), "{text}");
    assert!(
        text.contains("request sent") && text.contains("no usable response"),
        "{text}"
    );
    let nhs = fixture_patient().expose();
    assert!(
        !text.contains(&nhs),
        "patient identifier in the logs: {text}"
    );
    assert!(!text.contains("Test note"), "note content in the logs");
    assert!(!text.contains(api_key().expose()), "API key in the logs");
    assert!(!format!("{error:?}").contains(&nhs));
}
