//! Shared helpers: simulated gateways over one organisation, in-memory connectors, requests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use systmone_api::record::{DataItem, Event, Narrative};
use systmone_api::{
    NhsNumber, get_functions, get_patient_record, patient_search, update_patient_record,
};
use systmone_client::{
    ApiKey, BoxStream, Client, ClientBuilder, ClientConfig, Connector, FnConnector, Request,
    Timeouts,
};
use systmone_sim::{GatewayConfig, Organisation, Simulator};

pub fn fixture_patient() -> NhsNumber {
    "9990001006".parse().unwrap()
}

pub fn api_key() -> ApiKey {
    ApiKey::new("0a1b2c3d4e5f6071")
}

pub fn organisation() -> Organisation {
    Organisation::builtin_default()
}

/// A simulated Gateway PC logged in as `user` (`gateway0001` or `gateway0002`), real throttle.
pub fn gateway(org: &Organisation, user: &str) -> Simulator {
    Simulator::new(org.clone(), GatewayConfig::for_user(user)).unwrap()
}

/// Connects to `sim` over an in-memory duplex stream.
pub fn in_memory(sim: &Simulator) -> Arc<dyn Connector> {
    let sim = sim.clone();
    Arc::new(FnConnector::new(move || {
        let sim = sim.clone();
        Box::pin(async move { Ok(Box::new(sim.connect_in_memory()?) as BoxStream) })
    }))
}

/// Timeouts short enough for tests (virtual time anyway).
pub fn test_config() -> ClientConfig {
    let mut config = ClientConfig::default();
    config.timeouts = Timeouts::uniform(Duration::from_secs(10));
    config.first_contact_timeout = Duration::from_secs(10);
    config
}

pub fn builder(name: &str, sim: &Simulator) -> ClientBuilder {
    Client::builder(name, api_key())
        .in_memory_device_id()
        .connector(in_memory(sim))
        .config(test_config())
}

pub fn client(name: &str, sim: &Simulator) -> Client {
    builder(name, sim).spawn().unwrap()
}

pub fn get_functions() -> Request {
    get_functions::v1::Request::new().into()
}

/// A demographics-only read (exempt from the 30 s limit).
pub fn demographics() -> Request {
    get_patient_record::v1::Request::demographics(fixture_patient()).into()
}

/// A whole-record read (30 s limit).
pub fn full_record() -> Request {
    get_patient_record::v1::Request::new(fixture_patient(), None).into()
}

pub fn search() -> Request {
    let date = chrono::NaiveDate::from_ymd_opt(1970, 5, 14).unwrap();
    patient_search::v1::Request::by_surname_and_birth_date("Example", date).into()
}

/// A narrative note by `jbloggs1234`, carrying `marker` so it can be found in the journal.
pub fn note(marker: &str) -> Request {
    let event = Event::new(vec![DataItem::from(Narrative::new([format!(
        "Test note {marker}"
    )]))])
    .with_user_name("jbloggs1234");
    update_patient_record::v1::Request::new(fixture_patient())
        .with_event(event)
        .into()
}

/// How many journal events of the fixture patient carry `marker`.
pub fn notes_with(org: &Organisation, marker: &str) -> usize {
    let wanted = format!("\"Test note {marker}\"");
    org.journal(&fixture_patient())
        .iter()
        .filter(|event| format!("{:?}", event.items).contains(&wanted))
        .count()
}
