//! Case-note writeback into the SystmOne journal.
//!
//! Notes are filed once, by the right author, to the right patient: the author's SystmOne
//! username goes in `Event@UserName` (the Gateway user always shows as "Entered by"), the patient
//! is verified by demographics before writing, a durable outbox keeps every accepted note, and a
//! write whose outcome is unknown is reconciled by reading today's entries before any retry.
//!
//! - [`note`]: [`CaseNote`] (narrative, optional SNOMED code, optional task), [`Author`] and
//!   [`Authorship`], [`PatientIdentity`].
//! - [`outbox`]: the [`Outbox`] the engine drives (async; due notes are claimed under a lease
//!   with a fencing token), [`PostgresOutbox`] (shared by a fleet of workers), and the
//!   single-owner [`OutboxStore`] trait with [`SqliteOutbox`] (durable, the embedded default)
//!   and [`MemoryOutbox`], adapted by [`LocalOutbox`].
//! - [`fleet`]: [`FleetGateways`], one owner per Gateway PC across the fleet (gateway leases).
//! - [`gateway`]: the [`Gateways`] trait the engine files through and its error classes.
//! - [`engine`]: [`WritebackEngine`], the per-note state machine, backoff and reconciliation.
//! - [`verify`]: patient verification against a demographics-only read.
//! - [`wire`]: the SystmOne messages (via `systmone-api`); [`client`]: [`Gateways`] over the
//!   `systmone-client` gateway pool.
//!
//! # Invariants
//!
//! - A note accepted by [`WritebackEngine::submit`] is committed to the outbox (SQLite, WAL,
//!   `synchronous=FULL`) before `submit` returns, with an `accepted` audit record.
//! - A note is marked `filing` durably **before** its `UpdatePatientRecord` is sent. A write
//!   whose outcome is unknown, or a note found `filing` at start-up, is never sent again until
//!   a read of the journal (through every gateway, entry dates = today) shows its reference is
//!   not there.
//! - Nothing is written for a patient whose NHS number, surname, date of birth and sex do not
//!   match a demographics-only read of the record; the error names the fields, never the values.
//! - Statuses, audit details and `Debug` output never hold an NHS number in full.
//! - One engine per outbox file (SQLite exclusive locking); on PostgreSQL many engines share
//!   one outbox, each note changed only under its worker's live claim (fencing token), and each
//!   Gateway PC driven by one worker at a time (gateway leases).
//!
//! ```no_run
//! # async fn demo<G: systmone_writeback::Gateways>(gateways: G) -> Result<(), Box<dyn std::error::Error>> {
//! use systmone_writeback::*;
//! use nhs_identifiers::NhsNumber;
//!
//! let store = SqliteOutbox::open("outbox.sqlite")?;
//! let engine = WritebackEngine::new(store, gateways, TokioWallClock::from_system_time(), EngineConfig::default());
//! let patient = PatientIdentity::new(
//!     NhsNumber::fictitious(1),
//!     "Example",
//!     chrono::NaiveDate::from_ymd_opt(1970, 5, 14).ok_or("date")?,
//!     Sex::Female,
//! )?;
//! let author = Author::with_username("Jo Bloggs (Link worker)", SystmOneUsername::try_from("jbloggs1234")?)?;
//! let accepted = engine.submit(CaseNote::new(patient, author, "Telephone review; joined walking group.")?).await?;
//! engine.run_until_settled().await?;
//! println!("{}", engine.status(accepted.id).await?.ok_or("gone")?);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod client;
pub mod clock;
pub mod engine;
mod error;
pub mod fleet;
pub mod gateway;
pub mod note;
pub mod outbox;
pub mod reference;
pub mod retry;
pub mod verify;
pub mod wire;

pub use clock::{Clock, TokioWallClock};
pub use engine::{Accepted, EngineConfig, Worker, WritebackEngine};
pub use error::WritebackError;
pub use fleet::{FleetConfig, FleetGateways};
pub use gateway::{
    EntriesQuery, EventUid, GatewayError, Gateways, JournalEntries, JournalEvent, JournalTask,
    JournalWrite, WriteReceipt,
};
pub use nhs_identifiers::NhsNumber;
pub use note::{
    Author, Authorship, CaseNote, CodedEntry, GpTask, InvalidNote, PatientIdentity, Sex,
    SnomedCode, SystmOneUsername,
};
pub use outbox::{
    AuditKind, AuditRecord, Claim, ClaimRequest, ConfiguredOutbox, GatewayLease, IntoOutbox,
    LeaseClock, LocalOutbox, MemoryOutbox, NoteId, NoteStatus, Outbox, OutboxEntry, OutboxStore,
    PostgresConfig, PostgresOutbox, SqliteOutbox, WorkerId,
};
pub use reference::NoteReference;
pub use retry::RetryPolicy;
pub use verify::{IdentityField, PatientMismatch, RecordDemographics, verify_patient};

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod fake;
