#![no_main]
//! Decoder of untrusted SystmOne messages (both directions): never panics, and whatever
//! decodes re-encodes (when its text is representable in XML 1.0) and decodes to the same
//! value. The same body runs in CI over hostile inputs (crates/systmone-api/tests/it/hostile.rs).
use libfuzzer_sys::fuzz_target;
use systmone_api::{ClientIntegrationRequest, ClientIntegrationResponse, EncodeOptions};

fuzz_target!(|data: &[u8]| {
    if let Ok(response) = ClientIntegrationResponse::decode(data)
        && let Ok(bytes) = response.encode(&EncodeOptions::server())
    {
        let again = ClientIntegrationResponse::decode(&bytes).expect("re-encoded response decodes");
        assert_eq!(again, response);
    }
    if let Ok(request) = ClientIntegrationRequest::decode(data)
        && let Ok(bytes) = request.encode(&EncodeOptions::default())
    {
        let again = ClientIntegrationRequest::decode(&bytes).expect("re-encoded request decodes");
        assert_eq!(again, request);
    }
    let _ = ClientIntegrationRequest::decode_header(data);
});
