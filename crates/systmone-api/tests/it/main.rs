#![allow(clippy::unwrap_used, clippy::expect_used)]
//! One integration-test binary for the crate (keeps link time down).

mod common;
mod hostile;
mod privacy;
mod properties;
mod reference_examples;
mod request_snapshots;
mod responses;
mod strategies;
