//! The durable outbox: every accepted note, its status, attempts, next attempt time and an
//! audit trail, behind the [`OutboxStore`] trait.
//!
//! [`SqliteOutbox`] is the durable store (a note accepted is committed with `synchronous=FULL`
//! before [`OutboxStore::accept`] returns); [`MemoryOutbox`] keeps everything in memory for
//! tests and benches.

mod configured;
mod memory;
mod postgres;
mod shared;
mod sqlite;

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

pub use configured::ConfiguredOutbox;
pub use memory::MemoryOutbox;
pub use postgres::{GatewayLease, LeaseClock, PostgresConfig, PostgresOutbox};
pub use shared::{Claim, ClaimRequest, IntoOutbox, LocalOutbox, Outbox, WorkerId};
pub use sqlite::SqliteOutbox;

use crate::error::WritebackError;
use crate::gateway::EventUid;
use crate::note::CaseNote;
use crate::reference::NoteReference;

/// A note's id in its outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NoteId(pub i64);

impl fmt::Display for NoteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Where a note is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoteStatus {
    /// Accepted, waiting for its next attempt.
    Queued,
    /// A write is being sent. Found at start-up, this means the process stopped mid-write:
    /// the note is reconciled before it is written again.
    Filing,
    /// A write was sent and its outcome is unknown: the journal is read before any retry.
    OutcomeUnknown,
    /// In the journal.
    Filed {
        /// The journal event.
        event_uid: EventUid,
        /// The task, when one was filed with the note.
        task_uid: Option<EventUid>,
    },
    /// Definitively not filed.
    Rejected {
        /// Why (no patient details).
        reason: String,
    },
}

impl NoteStatus {
    /// The status name stored and shown: `queued`, `filing`, `outcome-unknown`, `filed`,
    /// `rejected`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Filing => "filing",
            Self::OutcomeUnknown => "outcome-unknown",
            Self::Filed { .. } => "filed",
            Self::Rejected { .. } => "rejected",
        }
    }

    /// Filed or rejected: nothing more will happen.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Filed { .. } | Self::Rejected { .. })
    }
}

impl fmt::Display for NoteStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Filed {
                event_uid,
                task_uid: Some(task),
            } => write!(f, "filed (EventUID {event_uid}, TaskUID {task})"),
            Self::Filed { event_uid, .. } => write!(f, "filed (EventUID {event_uid})"),
            Self::Rejected { reason } => write!(f, "rejected ({reason})"),
            other => f.write_str(other.name()),
        }
    }
}

/// A note in the outbox with its delivery state.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutboxEntry {
    /// Its id.
    pub id: NoteId,
    /// The reference embedded in its text.
    pub reference: NoteReference,
    /// The note.
    pub note: CaseNote,
    /// Its status.
    pub status: NoteStatus,
    /// Write attempts so far (each `UpdatePatientRecord` sent counts one).
    pub attempts: u32,
    /// When it is next due.
    pub next_attempt_at: DateTime<Utc>,
    /// Whether the patient's demographics have been verified against the record.
    pub verified: bool,
    /// The (local) date of the latest write attempt, where reconciliation starts reading.
    pub last_attempt_on: Option<NaiveDate>,
    /// When it was accepted.
    pub accepted_at: DateTime<Utc>,
    /// The claim this copy was handed out under ([`Outbox::claim_due`]); `None` when read.
    pub claim: Option<Claim>,
}

impl OutboxEntry {
    /// A transition from this entry's current state to `status`, keeping the rest, with
    /// `audit` recorded alongside.
    pub fn transition(&self, status: NoteStatus, audit: AuditEvent) -> Transition {
        Transition {
            status,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            verified: self.verified,
            last_attempt_on: self.last_attempt_on,
            audit,
        }
    }
}

/// A state change, written atomically with its audit record.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transition {
    /// The new status.
    pub status: NoteStatus,
    /// Attempts after the change.
    pub attempts: u32,
    /// When the note is next due.
    pub next_attempt_at: DateTime<Utc>,
    /// Whether the patient is verified.
    pub verified: bool,
    /// The local date of the latest write attempt.
    pub last_attempt_on: Option<NaiveDate>,
    /// The audit record.
    pub audit: AuditEvent,
}

impl Transition {
    /// Sets the next attempt time.
    pub fn due_at(mut self, at: DateTime<Utc>) -> Self {
        self.next_attempt_at = at;
        self
    }
}

/// What happened, in the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditKind {
    /// The note was accepted into the outbox.
    Accepted,
    /// The patient's demographics matched the record.
    Verified,
    /// A write was sent.
    WriteSent,
    /// SystmOne filed the note.
    Filed,
    /// An attempt failed without effect; a retry is scheduled.
    RetryScheduled,
    /// A write's outcome is unknown; the journal will be read before any retry.
    OutcomeUnknown,
    /// Reconciliation found the note in the journal.
    FoundInJournal,
    /// Reconciliation showed the note is not in the journal: it will be written again.
    NotInJournal,
    /// The engine started and found the note mid-write.
    Recovered,
    /// The note was rejected.
    Rejected,
    /// A kind written by a newer version.
    Other(String),
}

impl AuditKind {
    /// The stored name.
    pub fn name(&self) -> &str {
        match self {
            Self::Accepted => "accepted",
            Self::Verified => "verified",
            Self::WriteSent => "write-sent",
            Self::Filed => "filed",
            Self::RetryScheduled => "retry-scheduled",
            Self::OutcomeUnknown => "outcome-unknown",
            Self::FoundInJournal => "found-in-journal",
            Self::NotInJournal => "not-in-journal",
            Self::Recovered => "recovered",
            Self::Rejected => "rejected",
            Self::Other(other) => other,
        }
    }

    /// Reads a stored name.
    pub fn from_name(name: &str) -> Self {
        match name {
            "accepted" => Self::Accepted,
            "verified" => Self::Verified,
            "write-sent" => Self::WriteSent,
            "filed" => Self::Filed,
            "retry-scheduled" => Self::RetryScheduled,
            "outcome-unknown" => Self::OutcomeUnknown,
            "found-in-journal" => Self::FoundInJournal,
            "not-in-journal" => Self::NotInJournal,
            "recovered" => Self::Recovered,
            "rejected" => Self::Rejected,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// An audit record to write: kind and detail (never patient details).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditEvent {
    /// What happened.
    pub kind: AuditKind,
    /// Details (gateway, error text, EventUID).
    pub detail: String,
}

impl AuditEvent {
    /// An audit event.
    pub fn new(kind: AuditKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }
}

/// A stored audit record.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// What happened.
    pub kind: AuditKind,
    /// The status after it.
    pub status: String,
    /// Details.
    pub detail: String,
}

/// A single-owner store for the outbox (one engine owns it at a time), called synchronously.
///
/// The engine drives it through [`LocalOutbox`] (an [`Outbox`]): through
/// `tokio::task::spawn_blocking` when [`OutboxStore::blocks_on_io`] says so, one call at a
/// time, with claims kept in memory.
pub trait OutboxStore: Send + 'static {
    /// Stores a new note as `queued`, due at `now`, with an `accepted` audit record, and
    /// returns it with its id and reference. When this returns `Ok` the note is durable.
    fn accept(
        &mut self,
        note: &CaseNote,
        now: DateTime<Utc>,
    ) -> Result<OutboxEntry, WritebackError>;

    /// Applies a transition and its audit record atomically.
    fn record(
        &mut self,
        id: NoteId,
        transition: &Transition,
        now: DateTime<Utc>,
    ) -> Result<(), WritebackError>;

    /// One note.
    fn get(&self, id: NoteId) -> Result<Option<OutboxEntry>, WritebackError>;

    /// Notes not yet filed or rejected and due at or before `now`, earliest first, at most
    /// `limit`.
    fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxEntry>, WritebackError>;

    /// When the earliest unfinished note is due, if any note is unfinished.
    fn next_due(&self) -> Result<Option<DateTime<Utc>>, WritebackError>;

    /// Every note, oldest first.
    fn entries(&self) -> Result<Vec<OutboxEntry>, WritebackError>;

    /// A note's audit trail, oldest first.
    fn audit_trail(&self, id: NoteId) -> Result<Vec<AuditRecord>, WritebackError>;

    /// Stores several notes as [`OutboxStore::accept`] does, in as few commits as the store can
    /// (the group commit of [`LocalOutbox`]). On `Err` none of them is acknowledged; a store
    /// that cannot roll back (this default, one `accept` each) may have kept some, which are
    /// then in the outbox without an acknowledgement, like a caller that gave up waiting.
    fn accept_batch(
        &mut self,
        notes: &[(CaseNote, DateTime<Utc>)],
    ) -> Result<Vec<OutboxEntry>, WritebackError> {
        notes
            .iter()
            .map(|(note, now)| self.accept(note, *now))
            .collect()
    }

    /// Whether calls block on IO (disk, fsync). The engine runs the calls of such a store on
    /// tokio's blocking pool so they never stall a runtime worker thread; a store answering
    /// from memory returns `false` and is called inline. Defaults to `true`.
    fn blocks_on_io(&self) -> bool {
        true
    }
}

#[cfg(test)]
pub(crate) mod contract {
    //! The behaviour every store must have, run against each implementation.
    use chrono::TimeZone;
    use nhs_identifiers::NhsNumber;

    use super::*;
    use crate::note::{
        Author, CodedEntry, GpTask, PatientIdentity, Sex, SnomedCode, SystmOneUsername,
    };

    pub(crate) fn note(i: u32) -> CaseNote {
        let patient = PatientIdentity::new(
            NhsNumber::fictitious(i),
            "Example",
            NaiveDate::from_ymd_opt(1970, 5, 14).unwrap(),
            Sex::Female,
        )
        .unwrap();
        let author = if i.is_multiple_of(2) {
            Author::with_username(
                "Jo Bloggs (Link worker)",
                SystmOneUsername::try_from("jbloggs1234").unwrap(),
            )
            .unwrap()
        } else {
            Author::named("Sam Patel (Link worker)").unwrap()
        };
        CaseNote::new(patient, author, &format!("Note {i}.\nSecond line."))
            .unwrap()
            .with_code(
                CodedEntry::new(SnomedCode::try_from("871731000000106").unwrap())
                    .with_free_text("Walking group")
                    .unwrap(),
            )
            .with_task(
                GpTask::new("Clinical Review Required", "Please review")
                    .unwrap()
                    .assigned_to(SystmOneUsername::try_from("drgp0001").unwrap()),
            )
            .done_at("Community hub")
            .unwrap()
            .method("Telephone")
            .unwrap()
    }

    pub(crate) fn t(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_790_000_000 + seconds, 0).unwrap()
    }

    pub(crate) fn store_contract(store: &mut dyn OutboxStore) {
        let a = store.accept(&note(2), t(0)).unwrap();
        let b = store.accept(&note(3), t(1)).unwrap();
        assert_ne!(a.id, b.id);
        assert_ne!(a.reference, b.reference);
        assert_eq!(a.status, NoteStatus::Queued);
        assert_eq!(store.get(a.id).unwrap().unwrap(), a);
        assert_eq!(a.note, note(2), "the note round-trips through the store");
        assert_eq!(b.note, note(3));
        assert_eq!(store.next_due().unwrap(), Some(t(0)));

        let due = store.due(t(0), 10).unwrap();
        assert_eq!(due.iter().map(|e| e.id).collect::<Vec<_>>(), vec![a.id]);
        assert_eq!(store.due(t(5), 1).unwrap().len(), 1);

        let mut filing = a.transition(
            NoteStatus::Filing,
            AuditEvent::new(AuditKind::WriteSent, "gateway 1"),
        );
        filing.attempts = 1;
        filing.verified = true;
        filing.last_attempt_on = NaiveDate::from_ymd_opt(2026, 11, 21);
        let filing = filing.due_at(t(30));
        store.record(a.id, &filing, t(2)).unwrap();
        let stored = store.get(a.id).unwrap().unwrap();
        assert_eq!(stored.status, NoteStatus::Filing);
        assert_eq!(stored.attempts, 1);
        assert!(stored.verified);
        assert_eq!(
            stored.last_attempt_on,
            NaiveDate::from_ymd_opt(2026, 11, 21)
        );
        assert_eq!(
            store
                .due(t(10), 10)
                .unwrap()
                .iter()
                .map(|e| e.id)
                .collect::<Vec<_>>(),
            vec![b.id]
        );

        let filed = stored.transition(
            NoteStatus::Filed {
                event_uid: EventUid::new("3f9a1c0000000000"),
                task_uid: Some(EventUid::new("4e8b2d0000000000")),
            },
            AuditEvent::new(AuditKind::Filed, "EventUID 3f9a1c0000000000"),
        );
        store.record(a.id, &filed, t(3)).unwrap();
        let rejected = b.transition(
            NoteStatus::Rejected {
                reason: "patient mismatch".into(),
            },
            AuditEvent::new(AuditKind::Rejected, "patient mismatch"),
        );
        store.record(b.id, &rejected, t(4)).unwrap();
        assert!(store.due(t(1_000), 10).unwrap().is_empty());
        assert_eq!(store.next_due().unwrap(), None);
        assert_eq!(store.get(a.id).unwrap().unwrap().status, filed.status);
        assert_eq!(store.get(b.id).unwrap().unwrap().status, rejected.status);

        let trail = store.audit_trail(a.id).unwrap();
        let kinds: Vec<_> = trail.iter().map(|r| r.kind.clone()).collect();
        assert_eq!(
            kinds,
            vec![AuditKind::Accepted, AuditKind::WriteSent, AuditKind::Filed]
        );
        assert_eq!(trail[2].status, "filed");
        assert_eq!(trail[1].at, t(2));
        assert_eq!(store.entries().unwrap().len(), 2);
        assert!(store.get(NoteId(999)).unwrap().is_none());
        assert!(store.record(NoteId(999), &filed, t(5)).is_err());
    }
}
