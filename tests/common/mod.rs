//! Set-up shared by the writeback flow tests of the root package.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use nhs_integration::systmone_client::{
    ApiKey, BoxStream, Client, ClientConfig, FnConnector, MemoryDeviceIdStore, Timeouts,
};
use nhs_integration::systmone_sim::Simulator;

/// A client named `label` that reaches `sim` over in-memory connections, with 5 s time-outs
/// and a fresh in-memory device id.
pub fn client_for(sim: &Simulator, label: &str) -> Client {
    let sim = sim.clone();
    let connector = FnConnector::new(move || {
        let sim = sim.clone();
        Box::pin(async move { Ok(Box::new(sim.connect_in_memory()?) as BoxStream) })
    });
    let mut config = ClientConfig::default();
    config.timeouts = Timeouts::uniform(Duration::from_secs(5));
    Client::builder(label, ApiKey::new("0a1b2c3d4e5f6071"))
        .connector(Arc::new(connector))
        .device_store(Arc::new(MemoryDeviceIdStore::default()))
        .config(config)
        .spawn()
        .unwrap()
}
