//! The crate's error type: each variant says whether retrying can help.

use thiserror::Error;

use crate::note::InvalidNote;
use crate::verify::PatientMismatch;

/// Everything that can go wrong in this crate.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WritebackError {
    /// The note was refused before it was accepted (nothing was stored).
    #[error("invalid note: {0}")]
    InvalidNote(#[from] InvalidNote),
    /// The outbox could not be read or written. A `submit` that returns this did not accept
    /// the note; retry once the storage is healthy.
    #[error("outbox storage failed: {0}")]
    Storage(String),
    /// The outbox holds data this version cannot read (e.g. written by a newer version).
    #[error("outbox holds unreadable data in {what}: {detail}")]
    CorruptOutbox {
        /// Which column or record.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The shared database could not be reached, or the connection was lost before the change
    /// committed. A `submit` that returns this did not acknowledge the note: retry it. (A
    /// connection lost during the `COMMIT` itself cannot tell whether the commit happened: the
    /// note may then be in the outbox as well.)
    #[error("outbox database unavailable: {0}")]
    DatabaseUnavailable(String),
    /// This worker's claim on the note was taken by another worker (its lease expired): the
    /// change was not made, and this worker must not touch the note again.
    #[error("the claim on note {note} is no longer this worker's")]
    LeaseLost {
        /// The note's id.
        note: i64,
    },
    /// No note with that id is in the outbox.
    #[error("no note {0} in the outbox")]
    UnknownNote(i64),
    /// The SystmOne record does not match the patient the note is for: the note was not
    /// written. Permanent: check the patient's details.
    #[error(transparent)]
    PatientMismatch(#[from] PatientMismatch),
}

impl WritebackError {
    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Storage(_) | Self::DatabaseUnavailable(_))
    }
}

impl From<rusqlite::Error> for WritebackError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Storage(error.to_string())
    }
}
