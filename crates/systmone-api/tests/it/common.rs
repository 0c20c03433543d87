#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Helpers shared by the integration tests.

use std::path::PathBuf;

use systmone_api::{ApiKey, DeviceId, RequestHeader, RequestUid};

/// The header used by every example request.
pub fn header() -> RequestHeader {
    RequestHeader::new(
        ApiKey::new("0a1b2c3d4e5f6071"),
        DeviceId::new("7c41d09e2b8a5f13"),
        "nhs-integration-rs 0.1.0",
        RequestUid::new("1"),
    )
}

/// Path of a fixture file.
#[allow(dead_code)]
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A fixture's bytes.
#[allow(dead_code)]
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap()
}

/// Collapses pretty-printed XML onto one line (strip each line, join), as the KCL client did.
pub fn one_line(pretty: &str) -> String {
    pretty.lines().map(str::trim).collect::<Vec<_>>().join("")
}
