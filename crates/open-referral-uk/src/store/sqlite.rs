//! Records in one SQLite file (rusqlite, bundled SQLite). Calls run on tokio's blocking pool.
//! A commit is one `BEGIN IMMEDIATE` transaction that checks the head first, so several
//! processes on one file also stay consistent.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};

use super::{BoxFuture, RecordWrite, Store, StoreError, StoredRecord};

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS oruk_records (
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    seq  INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS oruk_records_seq ON oruk_records (seq);
";

/// A SQLite [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

fn sql(error: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {error}"))
}

impl SqliteStore {
    /// Opens (creating if needed) the database file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::with(Connection::open(path).map_err(sql)?)
    }

    /// A private in-memory database.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::with(Connection::open_in_memory().map_err(sql)?)
    }

    fn with(connection: Connection) -> Result<Self, StoreError> {
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sql)?;
        connection.execute_batch(SCHEMA).map_err(sql)?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let mut guard = connection
                .lock()
                .map_err(|_| StoreError::Unavailable("sqlite connection lock poisoned".into()))?;
            work(&mut guard)
        })
        .await
        .map_err(|_| StoreError::Unavailable("sqlite worker stopped".into()))?
    }
}

fn head(connection: &Connection) -> Result<u64, StoreError> {
    let head: Option<i64> = connection
        .query_row("SELECT MAX(seq) FROM oruk_records", [], |row| row.get(0))
        .optional()
        .map_err(sql)?
        .flatten();
    Ok(u64::try_from(head.unwrap_or(0)).unwrap_or(0))
}

impl Store for SqliteStore {
    fn load_since(
        &self,
        after: u64,
    ) -> BoxFuture<'_, Result<(Vec<StoredRecord>, u64), StoreError>> {
        Box::pin(self.blocking(move |connection| {
            let tx = connection.transaction().map_err(sql)?;
            let head = head(&tx)?;
            let mut statement = tx
                .prepare(
                    "SELECT kind, key, seq, body FROM oruk_records WHERE seq > ?1 ORDER BY seq",
                )
                .map_err(sql)?;
            let rows = statement
                .query_map(params![i64::try_from(after).unwrap_or(i64::MAX)], |row| {
                    Ok(StoredRecord {
                        kind: row.get(0)?,
                        key: row.get(1)?,
                        seq: u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
                        body: row.get(3)?,
                    })
                })
                .map_err(sql)?;
            let records = rows.collect::<Result<Vec<_>, _>>().map_err(sql)?;
            Ok((records, head))
        }))
    }

    fn commit(
        &self,
        expected_head: u64,
        writes: Vec<RecordWrite>,
    ) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(self.blocking(move |connection| {
            let tx = connection
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(sql)?;
            if head(&tx)? != expected_head {
                return Err(StoreError::Conflict);
            }
            let mut seq = expected_head;
            {
                let mut statement = tx
                    .prepare(
                        "INSERT INTO oruk_records (kind, key, seq, body) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (kind, key) DO UPDATE SET seq = excluded.seq, body = excluded.body",
                    )
                    .map_err(sql)?;
                for write in &writes {
                    seq += 1;
                    statement
                        .execute(params![
                            write.kind,
                            write.key,
                            i64::try_from(seq).unwrap_or(i64::MAX),
                            write.body
                        ])
                        .map_err(sql)?;
                }
            }
            tx.commit().map_err(sql)?;
            Ok(seq)
        }))
    }
}
