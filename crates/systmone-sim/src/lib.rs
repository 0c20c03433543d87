//! A simulator of the SystmOne desktop client's Client Integration interface, for tests and
//! demos.
//!
//! It speaks the protocol of `systmone-api` (one XML document per line, many exchanges per
//! connection, one request at a time per client) over TCP on loopback or over an in-memory
//! stream, with a fictitious organisation (999 test-range NHS numbers only). It behaves as
//! SystmOne does where the reference says how, and misbehaves on demand.
//!
//! # The pieces
//!
//! - [`Organisation`]: the practice's shared state (sites, users, patients, journals, tasks,
//!   clinics and slots), a cheap cloneable handle. Load it from a JSON fixture
//!   ([`Organisation::from_json_file`], format: [`OrganisationData`], sample:
//!   `fixtures/default.json`) or take [`Organisation::builtin_default`]. Inspect it from tests:
//!   [`Organisation::journal`] (typed [`model::JournalEvent`]s), [`Organisation::journal_view`]
//!   (what a clinician reads, see [`journal`]), [`Organisation::tasks`],
//!   [`Organisation::deleted_items`]. Dates of new events come from an injectable [`Clock`]
//!   ([`Organisation::with_clock`]; default [`LocalClock`], tests use [`ManualClock`];
//!   [`LondonClock`] reads a shared `nhs_identifiers::clock::Clock` in Europe/London time).
//! - [`Simulator`]: one Gateway PC, i.e. one SystmOne client with its own logged-in user, own
//!   throttle, own device-id allocation, own request log and own faults. Build several over
//!   clones of one [`Organisation`]: they read and write the same patients.
//!   [`GatewayConfig`] sets the user, the [`ThrottleConfig`] (SystmOne's by default;
//!   [`ThrottleConfig::relaxed`] for tests not about the throttle), the device approval answer
//!   and more.
//! - Transports: [`Simulator::listen_tcp`] (port 0 = ephemeral, then
//!   [`Simulator::local_addr`]), [`Simulator::connect_in_memory`] (a
//!   `tokio::io::DuplexStream`, for `#[tokio::test(start_paused = true)]` client tests), and
//!   [`Simulator::serve`] for any `AsyncRead + AsyncWrite` stream. All three run the same code.
//! - Time: the throttle and the request log use `tokio::time::Instant`, so paused-time tests
//!   see virtual time.
//! - Inspection: [`Simulator::request_log`] lists the most recent requests (a ring of
//!   [`GatewayConfig::request_log_capacity`], 10,000 by default, so a simulator left running
//!   for days stays the same size) with arrival instant, function, `RequestUID`,
//!   [`RequestOutcome`] (answered, error, throttled, dropped, closed) and the [`Fault`]
//!   applied; [`Simulator::request_counts`] counts every request and outcome;
//!   [`log::shortest_gap`] helps prove a client kept to the limits.
//! - Faults ([`Fault`]): scripted one-shot per request ([`Simulator::inject_next`]) or drawn
//!   from a seeded schedule ([`Simulator::set_random_faults`]): no response, delayed response,
//!   connection closed before or after the write is applied, malformed response, record in
//!   use. Gateway-wide: [`Simulator::log_off`] / [`Simulator::log_on`] (nothing listens:
//!   connection refused) and [`Simulator::kill`] / [`Simulator::revive`] (existing connections
//!   closed too).
//!
//! # Behaviour as SystmOne has it
//!
//! - An empty `DeviceID` goes to the approval dialog: approved by default (a new 16-hex id is
//!   echoed in the response), or blocked ([`DeviceApproval::Block`], permanent error).
//! - `PatientSearch` needs two criteria ("At least two search parameters must be specified");
//!   names match by prefix, postcode in full or by outward code, telephone against every number.
//! - `GetPatientRecord` honours the filter's sections, entry and effective dates, codes and
//!   `UserNameDoneBy`; without `Identity` it reads the record open in this gateway.
//! - Record locking (`LeaveRecordOpen`): without it, writes to a record open anywhere get the
//!   non-fatal "record in use" (`PermanentError=false`); with it, the record opens visibly in
//!   this gateway (`RecordState=Open`) and its changes stay uncommitted until
//!   [`Organisation::close_record`] (the user pressing Save).
//!   [`Organisation::open_record_elsewhere`] simulates a person holding the record.
//! - `UpdatePatientRecord` creates events whose author is the event's `UserName` (checked
//!   case-sensitively against the organisation's users; unknown → permanent error, nothing
//!   written), "Entered by" the gateway user, "Added by" the author again (configurable:
//!   [`AddedByReading`]), stamped with the software
//!   name registered against the API key. Writes and deletes are all or nothing.
//! - `DeletePatientRecord` deletes only items this device added, needs a `Reason`.
//! - Throttling: a request over the limit gets **no response**; the connection stays open.
//! - `ExitClient` answers, then the client exits (killed; with `<Restart/>` it comes back).
//!
//! Requests are split on newlines (the spec: each document is terminated by a newline); a
//! document that is not a request envelope gets a permanent error response.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use systmone_sim::{Fault, GatewayConfig, Organisation, Simulator, ThrottleConfig};
//!
//! let org = Organisation::builtin_default();
//! let gateway = Simulator::new(
//!     org.clone(),
//!     GatewayConfig::for_user("gateway0001").with_throttle(ThrottleConfig::relaxed()),
//! )
//! .expect("gateway0001 is in the built-in organisation");
//! // The next write is applied but the caller never hears back.
//! gateway.inject_next("UpdatePatientRecord", Fault::CloseAfterApply);
//! let stream = gateway.connect_in_memory()?; // or gateway.listen_tcp(..) and TcpStream
//! # drop(stream);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod behaviour;
pub mod clock;
mod config;
mod error;
pub mod faults;
pub mod fixture;
mod gateway;
mod handler;
pub mod journal;
pub mod log;
pub mod model;
mod organisation;
mod pipeline;
mod server;

pub use clock::{Clock, LocalClock, LondonClock, ManualClock};
pub use config::{DeviceApproval, GatewayConfig, ThrottleConfig};
pub use error::SimError;
pub use faults::{Fault, FaultPlan, FaultProbabilities, FaultTarget};
pub use gateway::Availability;
pub use journal::AddedByReading;
pub use log::{RequestCounts, RequestOutcome, RequestRecord};
pub use model::OrganisationData;
pub use organisation::{DeletedItem, Organisation, RecordHolder};
pub use server::Simulator;
