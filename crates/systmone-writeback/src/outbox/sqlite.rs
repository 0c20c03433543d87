//! The durable outbox in SQLite (rusqlite, bundled SQLite).
//!
//! Every change is one transaction; the database runs in WAL mode with `synchronous=FULL`, so a
//! committed change survives a process crash or power loss. Times are stored as UTC
//! milliseconds, dates as ISO text.

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use nhs_identifiers::NhsNumber;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{AuditKind, AuditRecord, NoteId, NoteStatus, OutboxEntry, OutboxStore, Transition};
use crate::error::WritebackError;
use crate::gateway::{EventUid, checked_event_uid};
use crate::note::{
    Author, CaseNote, CodedEntry, GpTask, PatientIdentity, SnomedCode, SystmOneUsername,
    sex_from_code,
};
use crate::reference::{NoteReference, new_instance_id};

/// The schema version this code writes.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notes (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    reference        TEXT UNIQUE,
    nhs_number       TEXT NOT NULL,
    surname          TEXT NOT NULL,
    date_of_birth    TEXT NOT NULL,
    sex              TEXT NOT NULL,
    author_name      TEXT NOT NULL,
    author_username  TEXT,
    narrative        TEXT NOT NULL,
    snomed_code      TEXT,
    code_free_text   TEXT,
    task_type        TEXT,
    task_content     TEXT,
    task_assignee    TEXT,
    done_at          TEXT,
    method           TEXT,
    status           TEXT NOT NULL
        CHECK (status IN ('queued', 'filing', 'outcome-unknown', 'filed', 'rejected')),
    event_uid        TEXT,
    task_uid         TEXT,
    rejection        TEXT,
    verified         INTEGER NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  INTEGER NOT NULL,
    last_attempt_on  TEXT,
    accepted_ms      INTEGER NOT NULL,
    updated_ms       INTEGER NOT NULL,
    CHECK (status <> 'filed' OR event_uid IS NOT NULL),
    CHECK (status <> 'rejected' OR rejection IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS notes_due ON notes (status, next_attempt_ms);
CREATE TABLE IF NOT EXISTS audit (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    note_id  INTEGER NOT NULL REFERENCES notes (id),
    at_ms    INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    status   TEXT NOT NULL,
    detail   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_note ON audit (note_id, id);
";

pub(super) const COLUMNS: &str = "id, reference, nhs_number, surname, date_of_birth, sex, author_name, \
    author_username, narrative, snomed_code, code_free_text, task_type, task_content, \
    task_assignee, done_at, method, status, event_uid, task_uid, rejection, verified, attempts, \
    next_attempt_ms, last_attempt_on, accepted_ms";

/// A durable [`OutboxStore`] in one SQLite file.
#[derive(Debug)]
pub struct SqliteOutbox {
    connection: Connection,
    instance: String,
}

impl SqliteOutbox {
    /// Opens (creating if needed) the outbox at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, WritebackError> {
        Self::init(Connection::open(path)?)
    }

    /// An outbox in a private in-memory database (not durable: for tests and benches).
    pub fn open_in_memory() -> Result<Self, WritebackError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut connection: Connection) -> Result<Self, WritebackError> {
        connection.busy_timeout(std::time::Duration::from_secs(1))?;
        // One engine per outbox: the first write takes the file's lock and keeps it until the
        // connection closes (a crashed process releases it), so a second process cannot send
        // the same notes.
        connection.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
        // WAL + FULL: every commit is fsynced to the log before it returns.
        let _mode: String =
            connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(WritebackError::CorruptOutbox {
                what: "schema",
                detail: format!("version {version} is newer than this code's {SCHEMA_VERSION}"),
            });
        }
        let tx = connection.transaction()?;
        tx.execute_batch(SCHEMA)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT value FROM outbox_meta WHERE key = 'instance'",
                [],
                |row| row.get(0),
            )
            .optional()?;
        let instance = match existing {
            Some(instance) => instance,
            None => {
                let instance = new_instance_id();
                tx.execute(
                    "INSERT INTO outbox_meta (key, value) VALUES ('instance', ?1)",
                    params![instance],
                )?;
                instance
            }
        };
        tx.commit()?;
        Ok(Self {
            connection,
            instance,
        })
    }

    /// This outbox's instance id (the first part of every note reference).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    fn select(
        &self,
        clause: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<OutboxEntry>, WritebackError> {
        let mut statement = self
            .connection
            .prepare_cached(&format!("SELECT {COLUMNS} FROM notes {clause}"))?;
        let raws = statement
            .query_map(params, RawNote::from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        raws.into_iter().map(RawNote::into_entry).collect()
    }
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(super) fn from_millis(what: &'static str, ms: i64) -> Result<DateTime<Utc>, WritebackError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| WritebackError::CorruptOutbox {
        what,
        detail: format!("{ms} is not a time"),
    })
}

pub(super) fn corrupt(what: &'static str, detail: impl ToString) -> WritebackError {
    WritebackError::CorruptOutbox {
        what,
        detail: detail.to_string(),
    }
}

/// Inserts one note and its `accepted` audit record in `tx`.
fn insert_note(
    tx: &rusqlite::Transaction<'_>,
    instance: &str,
    note: &CaseNote,
    now: DateTime<Utc>,
) -> Result<OutboxEntry, WritebackError> {
    tx.prepare_cached("INSERT INTO notes (nhs_number, surname, date_of_birth, sex, author_name, \
         author_username, narrative, snomed_code, code_free_text, task_type, task_content, \
         task_assignee, done_at, method, status, next_attempt_ms, accepted_ms, updated_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 'queued', ?15, ?15, ?15)")?.execute(params![
            note.patient.nhs_number.expose(),
            note.patient.surname,
            note.patient.date_of_birth.to_string(),
            note.patient.sex.as_str(),
            note.author.display_name,
            note.author.username.as_ref().map(SystmOneUsername::as_str),
            note.narrative,
            note.code.as_ref().map(|c| c.code.as_str()),
            note.code.as_ref().and_then(|c| c.free_text.as_deref()),
            note.task.as_ref().map(|t| t.task_type.as_str()),
            note.task.as_ref().map(|t| t.content.as_str()),
            note.task.as_ref().and_then(|t| t.assignee.as_ref()).map(SystmOneUsername::as_str),
            note.done_at,
            note.method,
            millis(now),
        ],
    )?;
    let id = NoteId(tx.last_insert_rowid());
    let reference = NoteReference::new(instance, id.0);
    tx.prepare_cached("UPDATE notes SET reference = ?1 WHERE id = ?2")?
        .execute(params![reference.as_str(), id.0])?;
    tx.prepare_cached("INSERT INTO audit (note_id, at_ms, kind, status, detail) VALUES (?1, ?2, ?3, 'queued', ?4)")?.execute(params![id.0, millis(now), AuditKind::Accepted.name(), format!("reference {reference}")],
    )?;
    Ok(OutboxEntry {
        id,
        reference,
        note: note.clone(),
        status: NoteStatus::Queued,
        attempts: 0,
        next_attempt_at: from_millis("accepted time", millis(now))?,
        verified: false,
        last_attempt_on: None,
        accepted_at: from_millis("accepted time", millis(now))?,
        claim: None,
    })
}

impl OutboxStore for SqliteOutbox {
    fn accept(
        &mut self,
        note: &CaseNote,
        now: DateTime<Utc>,
    ) -> Result<OutboxEntry, WritebackError> {
        let tx = self.connection.transaction()?;
        let entry = insert_note(&tx, &self.instance, note, now)?;
        tx.commit()?;
        Ok(entry)
    }

    /// All the notes in one transaction: one commit, one fsync.
    fn accept_batch(
        &mut self,
        notes: &[(CaseNote, DateTime<Utc>)],
    ) -> Result<Vec<OutboxEntry>, WritebackError> {
        let tx = self.connection.transaction()?;
        let entries = notes
            .iter()
            .map(|(note, now)| insert_note(&tx, &self.instance, note, *now))
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit()?;
        Ok(entries)
    }

    fn record(
        &mut self,
        id: NoteId,
        transition: &Transition,
        now: DateTime<Utc>,
    ) -> Result<(), WritebackError> {
        let (event_uid, task_uid, rejection) = match &transition.status {
            NoteStatus::Filed {
                event_uid,
                task_uid,
            } => (
                Some(event_uid.as_str().to_owned()),
                task_uid.as_ref().map(|t| t.as_str().to_owned()),
                None,
            ),
            NoteStatus::Rejected { reason } => (None, None, Some(reason.clone())),
            _ => (None, None, None),
        };
        let tx = self.connection.transaction()?;
        let changed = tx.execute(
            "UPDATE notes SET status = ?1, event_uid = ?2, task_uid = ?3, rejection = ?4, \
             verified = ?5, attempts = ?6, next_attempt_ms = ?7, last_attempt_on = ?8, \
             updated_ms = ?9 WHERE id = ?10",
            params![
                transition.status.name(),
                event_uid,
                task_uid,
                rejection,
                transition.verified,
                transition.attempts,
                millis(transition.next_attempt_at),
                transition.last_attempt_on.map(|d| d.to_string()),
                millis(now),
                id.0,
            ],
        )?;
        if changed != 1 {
            return Err(WritebackError::UnknownNote(id.0));
        }
        tx.execute(
            "INSERT INTO audit (note_id, at_ms, kind, status, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id.0,
                millis(now),
                transition.audit.kind.name(),
                transition.status.name(),
                transition.audit.detail,
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn get(&self, id: NoteId) -> Result<Option<OutboxEntry>, WritebackError> {
        Ok(self
            .select("WHERE id = ?1", params![id.0])?
            .into_iter()
            .next())
    }

    fn due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxEntry>, WritebackError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.select(
            "WHERE status IN ('queued', 'filing', 'outcome-unknown') AND next_attempt_ms <= ?1 \
             ORDER BY next_attempt_ms, id LIMIT ?2",
            params![millis(now), limit],
        )
    }

    fn next_due(&self) -> Result<Option<DateTime<Utc>>, WritebackError> {
        let ms: Option<i64> = self.connection.query_row(
            "SELECT MIN(next_attempt_ms) FROM notes WHERE status IN ('queued', 'filing', 'outcome-unknown')",
            [],
            |row| row.get(0),
        )?;
        ms.map(|ms| from_millis("next attempt time", ms))
            .transpose()
    }

    fn entries(&self) -> Result<Vec<OutboxEntry>, WritebackError> {
        self.select("ORDER BY id", [])
    }

    fn audit_trail(&self, id: NoteId) -> Result<Vec<AuditRecord>, WritebackError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT at_ms, kind, status, detail FROM audit WHERE note_id = ?1 ORDER BY id",
        )?;
        let rows = statement
            .query_map(params![id.0], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(at, kind, status, detail)| {
                Ok(AuditRecord {
                    at: from_millis("audit time", at)?,
                    kind: AuditKind::from_name(&kind),
                    status,
                    detail,
                })
            })
            .collect()
    }
}

/// One `notes` row as stored, before validation (shared with the PostgreSQL store).
pub(super) struct RawNote {
    pub(super) id: i64,
    pub(super) reference: Option<String>,
    pub(super) nhs_number: String,
    pub(super) surname: String,
    pub(super) date_of_birth: String,
    pub(super) sex: String,
    pub(super) author_name: String,
    pub(super) author_username: Option<String>,
    pub(super) narrative: String,
    pub(super) snomed_code: Option<String>,
    pub(super) code_free_text: Option<String>,
    pub(super) task_type: Option<String>,
    pub(super) task_content: Option<String>,
    pub(super) task_assignee: Option<String>,
    pub(super) done_at: Option<String>,
    pub(super) method: Option<String>,
    pub(super) status: String,
    pub(super) event_uid: Option<String>,
    pub(super) task_uid: Option<String>,
    pub(super) rejection: Option<String>,
    pub(super) verified: bool,
    pub(super) attempts: i64,
    pub(super) next_attempt_ms: i64,
    pub(super) last_attempt_on: Option<String>,
    pub(super) accepted_ms: i64,
}

impl RawNote {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            reference: row.get(1)?,
            nhs_number: row.get(2)?,
            surname: row.get(3)?,
            date_of_birth: row.get(4)?,
            sex: row.get(5)?,
            author_name: row.get(6)?,
            author_username: row.get(7)?,
            narrative: row.get(8)?,
            snomed_code: row.get(9)?,
            code_free_text: row.get(10)?,
            task_type: row.get(11)?,
            task_content: row.get(12)?,
            task_assignee: row.get(13)?,
            done_at: row.get(14)?,
            method: row.get(15)?,
            status: row.get(16)?,
            event_uid: row.get(17)?,
            task_uid: row.get(18)?,
            rejection: row.get(19)?,
            verified: row.get(20)?,
            attempts: row.get(21)?,
            next_attempt_ms: row.get(22)?,
            last_attempt_on: row.get(23)?,
            accepted_ms: row.get(24)?,
        })
    }

    pub(super) fn into_entry(self) -> Result<OutboxEntry, WritebackError> {
        let reference = self
            .reference
            .as_deref()
            .and_then(NoteReference::parse)
            .ok_or_else(|| {
                corrupt(
                    "notes.reference",
                    format!("note {} has no valid reference", self.id),
                )
            })?;
        let nhs_number = NhsNumber::try_from(self.nhs_number.as_str())
            .map_err(|e| corrupt("notes.nhs_number", e))?;
        let date_of_birth = NaiveDate::parse_from_str(&self.date_of_birth, "%Y-%m-%d")
            .map_err(|e| corrupt("notes.date_of_birth", e))?;
        let patient = PatientIdentity::new(
            nhs_number,
            &self.surname,
            date_of_birth,
            sex_from_code(&self.sex),
        )
        .map_err(|e| corrupt("notes.surname", e))?;
        let author = match self.author_username {
            Some(username) => Author::with_username(
                &self.author_name,
                SystmOneUsername::try_from(username)
                    .map_err(|e| corrupt("notes.author_username", e))?,
            ),
            None => Author::named(&self.author_name),
        }
        .map_err(|e| corrupt("notes.author_name", e))?;
        let mut note = CaseNote::new(patient, author, &self.narrative)
            .map_err(|e| corrupt("notes.narrative", e))?;
        if let Some(code) = self.snomed_code {
            let mut entry = CodedEntry::new(
                SnomedCode::try_from(code.as_str()).map_err(|e| corrupt("notes.snomed_code", e))?,
            );
            if let Some(text) = self.code_free_text {
                entry = entry
                    .with_free_text(&text)
                    .map_err(|e| corrupt("notes.code_free_text", e))?;
            }
            note = note.with_code(entry);
        }
        if let (Some(task_type), Some(content)) = (self.task_type, self.task_content) {
            let mut task =
                GpTask::new(&task_type, &content).map_err(|e| corrupt("notes.task", e))?;
            if let Some(assignee) = self.task_assignee {
                task = task.assigned_to(
                    SystmOneUsername::try_from(assignee)
                        .map_err(|e| corrupt("notes.task_assignee", e))?,
                );
            }
            note = note.with_task(task);
        }
        if let Some(place) = self.done_at {
            note = note
                .done_at(&place)
                .map_err(|e| corrupt("notes.done_at", e))?;
        }
        if let Some(method) = self.method {
            note = note
                .method(&method)
                .map_err(|e| corrupt("notes.method", e))?;
        }
        let uid = |what: &'static str,
                   value: Option<String>|
         -> Result<Option<EventUid>, WritebackError> {
            value
                .map(|v| checked_event_uid(&v).ok_or_else(|| corrupt(what, "not a record-item id")))
                .transpose()
        };
        let status = match self.status.as_str() {
            "queued" => NoteStatus::Queued,
            "filing" => NoteStatus::Filing,
            "outcome-unknown" => NoteStatus::OutcomeUnknown,
            "filed" => NoteStatus::Filed {
                event_uid: uid("notes.event_uid", self.event_uid)?
                    .ok_or_else(|| corrupt("notes.event_uid", "filed without an EventUID"))?,
                task_uid: uid("notes.task_uid", self.task_uid)?,
            },
            "rejected" => NoteStatus::Rejected {
                reason: self.rejection.unwrap_or_default(),
            },
            other => return Err(corrupt("notes.status", format!("unknown status {other:?}"))),
        };
        let last_attempt_on = self
            .last_attempt_on
            .map(|d| {
                NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|e| corrupt("notes.last_attempt_on", e))
            })
            .transpose()?;
        Ok(OutboxEntry {
            id: NoteId(self.id),
            reference,
            note,
            status,
            attempts: u32::try_from(self.attempts).map_err(|e| corrupt("notes.attempts", e))?,
            next_attempt_at: from_millis("notes.next_attempt_ms", self.next_attempt_ms)?,
            verified: self.verified,
            last_attempt_on,
            accepted_at: from_millis("notes.accepted_ms", self.accepted_ms)?,
            claim: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::contract::{note, store_contract, t};
    use super::*;

    #[test]
    fn sqlite_outbox_meets_the_store_contract() {
        store_contract(&mut SqliteOutbox::open_in_memory().unwrap());
    }

    #[test]
    fn notes_survive_reopening_the_file_with_the_same_instance() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite");
        let (id, reference, instance) = {
            let mut store = SqliteOutbox::open(&path).unwrap();
            let entry = store.accept(&note(4), t(0)).unwrap();
            (entry.id, entry.reference, store.instance().to_owned())
            // dropped without any shutdown
        };
        let store = SqliteOutbox::open(&path).unwrap();
        assert_eq!(store.instance(), instance);
        let entry = store.get(id).unwrap().unwrap();
        assert_eq!(entry.reference, reference);
        assert_eq!(entry.note, note(4));
        assert_eq!(store.due(t(0), 10).unwrap().len(), 1);
    }

    #[test]
    fn a_second_store_on_the_same_file_is_refused_while_the_first_is_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.sqlite");
        let first = SqliteOutbox::open(&path).unwrap();
        assert!(matches!(
            SqliteOutbox::open(&path),
            Err(WritebackError::Storage(_))
        ));
        drop(first);
        assert!(SqliteOutbox::open(&path).is_ok());
    }

    #[test]
    fn durability_pragmas_are_set() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteOutbox::open(dir.path().join("o.sqlite")).unwrap();
        let sync: i64 = store
            .connection
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
        let mode: String = store
            .connection
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_newer_schema_is_refused_and_garbage_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.sqlite");
        {
            let store = SqliteOutbox::open(&path).unwrap();
            store
                .connection
                .pragma_update(None, "user_version", 99)
                .unwrap();
        }
        assert!(matches!(
            SqliteOutbox::open(&path),
            Err(WritebackError::CorruptOutbox { what: "schema", .. })
        ));
        let junk = dir.path().join("junk.sqlite");
        std::fs::write(&junk, b"this is not a database at all, just text").unwrap();
        assert!(matches!(
            SqliteOutbox::open(&junk),
            Err(WritebackError::Storage(_))
        ));
    }

    #[test]
    fn a_tampered_row_is_reported_not_panicked_on() {
        let mut store = SqliteOutbox::open_in_memory().unwrap();
        let entry = store.accept(&note(2), t(0)).unwrap();
        store
            .connection
            .execute(
                "UPDATE notes SET nhs_number = '1234' WHERE id = ?1",
                params![entry.id.0],
            )
            .unwrap();
        assert!(matches!(
            store.get(entry.id),
            Err(WritebackError::CorruptOutbox {
                what: "notes.nhs_number",
                ..
            })
        ));
    }
}

#[cfg(test)]
mod properties {
    use chrono::NaiveDate;
    use nhs_identifiers::strategies::test_nhs_number;
    use proptest::prelude::*;

    use super::super::contract::t;
    use super::*;
    use crate::note::Sex;

    fn arb_note() -> impl Strategy<Value = CaseNote> {
        (
            test_nhs_number(),
            "[A-Za-z' -]{1,30}",
            (1900i32..2025, 1u32..13, 1u32..29),
            prop_oneof![
                Just(Sex::Male),
                Just(Sex::Female),
                Just(Sex::Indeterminate),
                Just(Sex::Unknown)
            ],
            "\\PC{1,40}",
            proptest::option::of("[A-Za-z0-9._-]{1,20}"),
            "(\\PC{1,60}\n?){1,4}",
            proptest::option::of(("\\PC{1,30}", "\\PC{1,30}")),
        )
            .prop_filter_map(
                "valid note",
                |(nhs, surname, (y, m, d), sex, author_name, username, narrative, task)| {
                    let patient =
                        PatientIdentity::new(nhs, &surname, NaiveDate::from_ymd_opt(y, m, d)?, sex)
                            .ok()?;
                    let author = match username {
                        Some(u) => {
                            Author::with_username(&author_name, SystmOneUsername::try_from(u).ok()?)
                                .ok()?
                        }
                        None => Author::named(&author_name).ok()?,
                    };
                    let mut note = CaseNote::new(patient, author, &narrative).ok()?;
                    if let Some((task_type, content)) = task {
                        note = note.with_task(GpTask::new(&task_type, &content).ok()?);
                    }
                    Some(note)
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever valid note is accepted comes back from the store exactly as it went in.
        #[test]
        fn accepted_notes_round_trip(notes in proptest::collection::vec(arb_note(), 1..4)) {
            let mut store = SqliteOutbox::open_in_memory().unwrap();
            let mut ids = Vec::new();
            for note in &notes {
                ids.push(store.accept(note, t(0)).unwrap().id);
            }
            for (id, note) in ids.iter().zip(&notes) {
                let entry = store.get(*id).unwrap().unwrap();
                prop_assert_eq!(&entry.note, note);
                prop_assert_eq!(entry.status, NoteStatus::Queued);
            }
        }
    }
}
