#![allow(clippy::unwrap_used, clippy::expect_used)]
//! An insta snapshot of the encoded request of every function, and the server-side decode of
//! each back to the same value.

use systmone_api::{ClientIntegrationRequest, EncodeOptions, OutputScheme, all_functions};

use crate::common::{header, sample_requests};

#[test]
fn every_function_has_a_sample_request() {
    let samples = sample_requests();
    let names: Vec<&str> = samples.iter().map(|(name, _)| *name).collect();
    for metadata in all_functions() {
        assert!(names.contains(&metadata.function), "{}", metadata.function);
    }
    assert_eq!(names.len(), all_functions().count());
}

#[test]
fn encoded_requests() {
    for (name, request) in sample_requests() {
        assert_eq!(request.function().as_str(), name);
        let mut envelope = ClientIntegrationRequest::new(header(), request.clone());
        if name == "GetCurrentSelection" {
            envelope = envelope.with_output_scheme(OutputScheme::snomed());
        }
        let bytes = envelope.encode(&EncodeOptions::default()).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(text.find('\n'), Some(text.len() - 1), "{name}: one line");
        insta::assert_snapshot!(format!("request_{name}"), text.trim_end());
        let decoded = ClientIntegrationRequest::decode(&bytes).unwrap();
        assert_eq!(decoded, envelope, "{name}: decodes back");
    }
}
