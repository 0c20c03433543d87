//! "The gateways": the three SystmOne operations the engine needs, as a small trait. The
//! `systmone-client` gateway pool implements it; tests use in-crate fakes.

use std::future::Future;

use chrono::NaiveDate;
use nhs_identifiers::NhsNumber;

use crate::note::{CaseNote, CodedEntry, GpTask, SystmOneUsername};
use crate::reference::NoteReference;
use crate::verify::RecordDemographics;

/// An opaque SystmOne record-item id (e.g. `3f9a1c0000000000`): `systmone-api`'s type.
pub use systmone_api::EventUid;

/// An id as received or stored, when usable: non-empty after trimming, at most 64 characters,
/// without spaces or control characters.
pub(crate) fn checked_event_uid(uid: &str) -> Option<EventUid> {
    let uid = uid.trim();
    let ok = !uid.is_empty()
        && uid.len() <= 64
        && !uid.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then(|| EventUid::new(uid))
}

/// The journal write for one note: an `UpdatePatientRecord` with one clinical `Event` and an
/// optional task.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct JournalWrite {
    /// The patient.
    pub nhs_number: NhsNumber,
    /// `Event@UserName`: the author, when they have a SystmOne username.
    pub user_name: Option<SystmOneUsername>,
    /// `Event@DoneBy`: the author's name, when they have no SystmOne username.
    pub done_by: Option<String>,
    /// `Event@DoneAt`.
    pub done_at: Option<String>,
    /// `Event@Method`.
    pub method: Option<String>,
    /// Narrative lines; the last carries the note's reference.
    pub narrative_lines: Vec<String>,
    /// An optional SNOMED-coded entry.
    pub code: Option<CodedEntry>,
    /// An optional task for the practice; its content ends with the reference line.
    pub task: Option<GpTask>,
}

impl JournalWrite {
    /// The write that files `note` with `reference` as its last narrative line.
    pub fn for_note(note: &CaseNote, reference: &NoteReference) -> Self {
        let mut narrative_lines = note.narrative_lines();
        narrative_lines.push(reference.line());
        Self {
            nhs_number: note.patient.nhs_number,
            user_name: note.author.username.clone(),
            done_by: match note.author.username {
                Some(_) => None,
                None => Some(note.author.display_name.clone()),
            },
            done_at: note.done_at.clone(),
            method: note.method.clone(),
            narrative_lines,
            code: note.code.clone(),
            // The task's content ends with the reference too, so reconciliation can find the
            // task (and its TaskUID) as well as the event.
            task: note.task.clone().map(|mut task| {
                task.content = format!("{}\n{}", task.content, reference.line());
                task
            }),
        }
    }
}

/// What SystmOne returned for a write.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteReceipt {
    /// The journal event created.
    pub event_uid: EventUid,
    /// The task created, when one was asked for.
    pub task_uid: Option<EventUid>,
    /// Which gateway filed it (for the audit trail).
    pub gateway: String,
}

impl WriteReceipt {
    /// A receipt.
    pub fn new(event_uid: EventUid, task_uid: Option<EventUid>, gateway: &str) -> Self {
        Self {
            event_uid,
            task_uid,
            gateway: gateway.to_owned(),
        }
    }
}

/// A read of the journal entries entered between two dates (inclusive): when both are today
/// the read is exempt from SystmOne's 30 s `GetPatientRecord` limit.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EntriesQuery {
    /// The patient.
    pub nhs_number: NhsNumber,
    /// Only entries by this user (`UserNameDoneBy`), when the note has a username.
    pub done_by: Option<SystmOneUsername>,
    /// First entry date.
    pub from: NaiveDate,
    /// Last entry date.
    pub to: NaiveDate,
}

/// A journal event as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct JournalEvent {
    /// Its id.
    pub event_uid: EventUid,
    /// `UserName`: the author.
    pub user_name: Option<String>,
    /// Narrative lines.
    pub narrative_lines: Vec<String>,
}

impl JournalEvent {
    /// An event as read back.
    pub fn new(
        event_uid: EventUid,
        user_name: Option<String>,
        narrative_lines: Vec<String>,
    ) -> Self {
        Self {
            event_uid,
            user_name,
            narrative_lines,
        }
    }

    /// Whether this event carries `reference`.
    pub fn carries(&self, reference: &NoteReference) -> bool {
        self.narrative_lines
            .iter()
            .any(|line| reference.is_in(line))
    }
}

/// An open (not completed) task as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct JournalTask {
    /// Its id.
    pub task_uid: EventUid,
    /// Its content.
    pub content: String,
}

impl JournalTask {
    /// A task as read back.
    pub fn new(task_uid: EventUid, content: &str) -> Self {
        Self {
            task_uid,
            content: content.to_owned(),
        }
    }

    /// Whether this task carries `reference` in its content.
    pub fn carries(&self, reference: &NoteReference) -> bool {
        reference.is_in(&self.content)
    }
}

/// What a reconciliation read returns: the journal events and the patient's open tasks
/// entered in the query's date range.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JournalEntries {
    /// Journal events with their narrative.
    pub events: Vec<JournalEvent>,
    /// Open tasks (SystmOne does not list completed ones).
    pub tasks: Vec<JournalTask>,
}

impl JournalEntries {
    /// Events and tasks as read back.
    pub fn new(events: Vec<JournalEvent>, tasks: Vec<JournalTask>) -> Self {
        Self { events, tasks }
    }
}

/// How a gateway operation failed, in the terms the engine acts on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// Nothing was applied (e.g. record in use, no gateway reachable): safe to retry.
    #[error("not applied, retry later: {reason}")]
    RetrySafe {
        /// Why (never patient details).
        reason: String,
    },
    /// The request may or may not have been applied (sent, then no response or connection
    /// lost): a write must be reconciled before it is retried.
    #[error("outcome unknown: {reason}")]
    OutcomeUnknown {
        /// Why.
        reason: String,
    },
    /// SystmOne refused the request for good (`PermanentError=true`).
    #[error("refused by SystmOne: {reason}")]
    Permanent {
        /// SystmOne's error text.
        reason: String,
    },
    /// No record has that NHS number.
    #[error("no SystmOne record has that NHS number")]
    PatientNotFound,
}

/// The SystmOne operations the writeback engine needs, over an organisation's gateways.
///
/// Implementations route each call to some gateway (failing over as they see fit) and classify
/// failures with [`GatewayError`]. A call must not retry a write itself.
pub trait Gateways: Send + Sync + 'static {
    /// A demographics-only `GetPatientRecord` (exempt from the 30 s limit).
    fn read_demographics(
        &self,
        nhs_number: &NhsNumber,
    ) -> impl Future<Output = Result<RecordDemographics, GatewayError>> + Send;

    /// An `UpdatePatientRecord` filing one event (and task). Not idempotent.
    fn write_note(
        &self,
        write: &JournalWrite,
    ) -> impl Future<Output = Result<WriteReceipt, GatewayError>> + Send;

    /// A `GetPatientRecord` of the narrative entries and open tasks entered in the query's date
    /// range.
    ///
    /// Reconciliation trusts "not found" from this read, so an implementation must only answer
    /// once no write sent earlier can still be applied: e.g. read through every gateway, since
    /// each SystmOne client works one request at a time (a read it answers comes after any
    /// write it was still applying), skipping only gateways that are not running.
    fn read_entries(
        &self,
        query: &EntriesQuery,
    ) -> impl Future<Output = Result<JournalEntries, GatewayError>> + Send;
}

impl<G: Gateways> Gateways for std::sync::Arc<G> {
    fn read_demographics(
        &self,
        nhs_number: &NhsNumber,
    ) -> impl Future<Output = Result<RecordDemographics, GatewayError>> + Send {
        (**self).read_demographics(nhs_number)
    }

    fn write_note(
        &self,
        write: &JournalWrite,
    ) -> impl Future<Output = Result<WriteReceipt, GatewayError>> + Send {
        (**self).write_note(write)
    }

    fn read_entries(
        &self,
        query: &EntriesQuery,
    ) -> impl Future<Output = Result<JournalEntries, GatewayError>> + Send {
        (**self).read_entries(query)
    }
}
