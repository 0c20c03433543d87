//! SystmOne's behaviour on the organisation state, independent of the wire format: patient
//! search, record locking, record filters, writes, deletes and appointment slots.
//!
//! Every refusal is a [`Refusal`]: the `ErrorMessage` text and `PermanentError` flag that go on
//! the wire. Writes and deletes check everything before changing anything (all or nothing).
//!
//! - [`refusal`] — [`Refusal`], the error every function can answer;
//! - [`search`] — `PatientSearch`;
//! - [`locking`] — record locking and the record open in a gateway;
//! - [`filter`] — the `GetPatientRecord` filter;
//! - [`update`] — `UpdatePatientRecord`;
//! - [`delete`] — `DeletePatientRecord`.

mod delete;
mod filter;
mod locking;
mod refusal;
mod search;
mod update;

pub(crate) use delete::{Deletion, apply_delete};
pub(crate) use filter::RecordSelection;
pub(crate) use locking::{RecordState, access_record, open_in};
pub(crate) use refusal::Refusal;
pub(crate) use search::{SearchCriteria, search};
pub(crate) use update::{
    DemographicChanges, NewAppointment, NewEvent, NewTask, Update, WriteContext, apply_update,
};

#[cfg(test)]
mod tests;
