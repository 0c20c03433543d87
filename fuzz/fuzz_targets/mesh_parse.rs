#![no_main]
//! MESH response parsers (inbox and tracking JSON, lookups, error bodies, send answers, the
//! `mex-*` headers of DATA and REPORT downloads, chunk ranges, timestamps, `Retry-After`)
//! never panic.
//! The same entry point runs in nhs-mesh's `parsers_never_panic` proptest.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    nhs_mesh::wire::fuzz_entry(data);
});
