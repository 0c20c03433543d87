//! The tables (created on connect when missing) and how a row becomes a note.

use tokio_postgres::Row;

use crate::outbox::sqlite::RawNote;

/// The database's clock in UTC milliseconds.
pub(super) const DB_NOW: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

/// Serialises schema creation between workers starting at once.
pub(super) const SCHEMA_LOCK: i64 = 0x6e68_7369_7762;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notes (
    id               BIGSERIAL PRIMARY KEY,
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
    verified         BOOLEAN NOT NULL DEFAULT FALSE,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_ms  BIGINT NOT NULL,
    last_attempt_on  TEXT,
    accepted_ms      BIGINT NOT NULL,
    updated_ms       BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_token      BIGINT NOT NULL DEFAULT 0,
    lease_until_ms   BIGINT,
    CHECK (status <> 'filed' OR event_uid IS NOT NULL),
    CHECK (status <> 'rejected' OR rejection IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS notes_due ON notes (next_attempt_ms, id)
    WHERE status IN ('queued', 'filing', 'outcome-unknown');
CREATE INDEX IF NOT EXISTS notes_lease_until ON notes (lease_until_ms) INCLUDE (nhs_number)
    WHERE lease_until_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS audit (
    id       BIGSERIAL PRIMARY KEY,
    note_id  BIGINT NOT NULL REFERENCES notes (id),
    at_ms    BIGINT NOT NULL,
    kind     TEXT NOT NULL,
    status   TEXT NOT NULL,
    detail   TEXT NOT NULL,
    worker   TEXT
);
CREATE INDEX IF NOT EXISTS audit_note ON audit (note_id, id);
CREATE TABLE IF NOT EXISTS gateway_leases (
    gateway   TEXT PRIMARY KEY,
    owner     TEXT,
    token     BIGINT NOT NULL DEFAULT 0,
    until_ms  BIGINT NOT NULL DEFAULT 0,
    since_ms  BIGINT
);
";

/// The table [`SCHEMA`] creates last.
pub(super) const LAST_TABLE: &str = "gateway_leases";

pub(super) const UNFINISHED: &str = "status IN ('queued', 'filing', 'outcome-unknown')";

pub(super) fn raw_note(row: &Row) -> RawNote {
    RawNote {
        id: row.get(0),
        reference: row.get(1),
        nhs_number: row.get(2),
        surname: row.get(3),
        date_of_birth: row.get(4),
        sex: row.get(5),
        author_name: row.get(6),
        author_username: row.get(7),
        narrative: row.get(8),
        snomed_code: row.get(9),
        code_free_text: row.get(10),
        task_type: row.get(11),
        task_content: row.get(12),
        task_assignee: row.get(13),
        done_at: row.get(14),
        method: row.get(15),
        status: row.get(16),
        event_uid: row.get(17),
        task_uid: row.get(18),
        rejection: row.get(19),
        verified: row.get(20),
        attempts: row.get(21),
        next_attempt_ms: row.get(22),
        last_attempt_on: row.get(23),
        accepted_ms: row.get(24),
    }
}
