//! Records in PostgreSQL (tokio-postgres with a deadpool pool), for several instances on one
//! database. A commit takes a transaction-scoped advisory lock, checks the head and writes,
//! so commits are serialised and the sequence grows without gaps between commits: a reader
//! polling `seq > N` never misses a write committed later with a lower number.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::{BoxFuture, RecordWrite, Store, StoreError, StoredRecord};

/// The advisory lock key serialising commits (and schema creation).
const COMMIT_LOCK: i64 = 0x006f_7275_6b72_6563;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS oruk_records (
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    seq  BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS oruk_records_seq ON oruk_records (seq);
";

/// A PostgreSQL [`Store`].
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

fn pg(error: tokio_postgres::Error) -> StoreError {
    StoreError::Unavailable(format!("postgres: {error}"))
}

fn pool_error(error: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable(format!("postgres pool: {error}"))
}

impl PostgresStore {
    /// Connects (URL as libpq understands it) and creates the table if needed.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|_| StoreError::Unavailable("postgres: the URL could not be read".into()))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(4)
            .build()
            .map_err(|e| StoreError::Unavailable(format!("postgres pool: {e}")))?;
        {
            let mut client = pool.get().await.map_err(pool_error)?;
            let tx = client.transaction().await.map_err(pg)?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&COMMIT_LOCK])
                .await
                .map_err(pg)?;
            tx.batch_execute(SCHEMA).await.map_err(pg)?;
            tx.commit().await.map_err(pg)?;
        }
        Ok(Self { pool })
    }
}

async fn head(client: &deadpool_postgres::Transaction<'_>) -> Result<u64, StoreError> {
    let row = client
        .query_one("SELECT COALESCE(MAX(seq), 0) FROM oruk_records", &[])
        .await
        .map_err(pg)?;
    Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

impl Store for PostgresStore {
    fn load_since(
        &self,
        after: u64,
    ) -> BoxFuture<'_, Result<(Vec<StoredRecord>, u64), StoreError>> {
        Box::pin(async move {
            let mut client = self.pool.get().await.map_err(pool_error)?;
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(pg)?;
            let head = head(&tx).await?;
            let after = i64::try_from(after).unwrap_or(i64::MAX);
            let rows = tx
                .query(
                    "SELECT kind, key, seq, body FROM oruk_records WHERE seq > $1 ORDER BY seq",
                    &[&after],
                )
                .await
                .map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            let records = rows
                .iter()
                .map(|row| StoredRecord {
                    kind: row.get(0),
                    key: row.get(1),
                    seq: u64::try_from(row.get::<_, i64>(2)).unwrap_or(0),
                    body: row.get(3),
                })
                .collect();
            Ok((records, head))
        })
    }

    fn commit(
        &self,
        expected_head: u64,
        writes: Vec<RecordWrite>,
    ) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut client = self.pool.get().await.map_err(pool_error)?;
            let tx = client.transaction().await.map_err(pg)?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&COMMIT_LOCK])
                .await
                .map_err(pg)?;
            if head(&tx).await? != expected_head {
                return Err(StoreError::Conflict);
            }
            let statement = tx
                .prepare(
                    "INSERT INTO oruk_records (kind, key, seq, body) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (kind, key) DO UPDATE SET seq = excluded.seq, body = excluded.body",
                )
                .await
                .map_err(pg)?;
            let mut seq = expected_head;
            for write in &writes {
                seq += 1;
                let seq_i64 = i64::try_from(seq).unwrap_or(i64::MAX);
                tx.execute(
                    &statement,
                    &[&write.kind, &write.key, &seq_i64, &write.body],
                )
                .await
                .map_err(pg)?;
            }
            tx.commit().await.map_err(pg)?;
            Ok(seq)
        })
    }
}
