//! A simulator of the SystmOne desktop client's Client Integration interface.
//!
//! It speaks newline-framed XML over TCP on loopback (or over an in-memory stream) with a
//! fictitious organisation (999 test-range NHS numbers only), behaves as SystmOne does (device
//! ids, two-criteria search, record locking, throttling by silence) and injects faults on
//! demand so that error handling can be tested.

#![warn(missing_docs)]

mod behaviour;
pub mod clock;
mod config;
mod engine;
mod error;
pub mod faults;
pub mod fixture;
mod gateway;
pub mod journal;
pub mod log;
pub mod model;
mod organisation;
mod server;

pub use clock::{Clock, LocalClock, ManualClock};
pub use config::{DeviceApproval, GatewayConfig, ThrottleConfig};
pub use error::SimError;
pub use faults::{Fault, FaultPlan, FaultProbabilities, FaultTarget};
pub use log::{RequestOutcome, RequestRecord};
pub use model::OrganisationData;
pub use organisation::{DeletedItem, Organisation, RecordHolder};
pub use server::{Availability, Simulator};
