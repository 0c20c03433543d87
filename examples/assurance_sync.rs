//! The ward assurance sync endpoint over a JSON task file.
//!
//! ```sh
//! cargo run --example assurance_sync -- --port 8080 \
//!     --tasks crates/ward-assurance/examples-data/tasks.json --api-key KEY
//! # The integration design's own request (Sarah Johnson's fridge check on Byron):
//! curl -s -X POST http://127.0.0.1:8080/api/assurance/sync \
//!     -H 'Content-Type: application/json' -H 'X-Api-Key: KEY' \
//!     -d '{"auditType":"fridge_temps","ward":"Byron","completedBy":"Sarah Johnson",
//!          "completedAt":"2026-01-27T08:14:32Z","auditId":"audit-12345",
//!          "values":{"currentTemp":4.2,"inRange":true}}'
//! curl -s http://127.0.0.1:8080/api/assurance/audit-types
//! curl -s -H 'X-Api-Key: KEY' 'http://127.0.0.1:8080/api/assurance/sync-log?ward=Byron&since=2026-01-27'
//! ```
//!
//! State lives in the SQLite file `--db` (default `assurance-sync.db`), or with
//! `--postgres-url URL` in PostgreSQL shared by several processes: tasks from `--tasks`
//! are added at start unless already there, and completions, the audit-id record, the HMAC
//! replay cache and the sync log survive a restart. `GET /api/assurance/sync-log?ward=&since=`
//! (same credentials) lists the attempts. Every attempt is logged as one line of
//! ids and codes (`ward_assurance::audit`), admin alerts as warnings
//! (`ward_assurance::admin_alert`). Logging follows `RUST_LOG` (default `info`), e.g.
//! `RUST_LOG=ward_assurance=debug,tower=warn`. HMAC signatures are accepted with
//! `--hmac-secret`. Half-sent requests are closed after `--header-timeout-secs` /
//! `--body-timeout-secs`.
//!
//! `--already-complete succeed|no-matching-task` chooses the reading of the design's
//! "Task already complete → Return success (idempotent)" row for a *different* audit that
//! finds its task already completed: `succeed` (the default, the design's table) answers 200
//! with that task's id and `Task already complete`, changing nothing; `no-matching-task` (the
//! design's `findMatchingTask`, which skips completed tasks) answers 404 `NO_MATCHING_TASK`.
//! A redelivery of the same audit answers its first success either way.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, ValueEnum};
use std::time::Duration;

use nhs_integration::ward_assurance::http::{
    HttpTimeouts, SystemClock, TracingAdminAlerts, TracingAuditLog, router_with, serve_with, shared,
};
use nhs_integration::ward_assurance::postgres::PostgresState;
use nhs_integration::ward_assurance::sqlite::SqliteState;
use nhs_integration::ward_assurance::{
    AlreadyComplete, ApiKey, AuthConfig, Authenticator, Shift, ShiftWindow, ShiftWindows,
    StaffWardAccess, SyncConfig, SyncEndpoint, SyncEngine, SyncLogReader, TaskFile,
    TrustDashboardWardAccess, WardAccess,
};

#[path = "support/logging.rs"]
mod logging;

/// Serve POST /api/assurance/sync over a JSON task file.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// TCP port to listen on.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to bind (loopback unless you mean otherwise).
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
    /// The task file: `{"tasks": [...], "wardAccess": {"<staff id, e-mail or name>": ["<ward>", ...]}}`.
    #[arg(long)]
    tasks: PathBuf,
    /// The SQLite file holding tasks, completions, the replay cache and the sync log
    /// (created if missing; tasks from `--tasks` are added unless already there).
    #[arg(long, default_value = "assurance-sync.db")]
    db: PathBuf,
    /// Keep the state in this PostgreSQL database instead (e.g.
    /// `postgres://postgres@127.0.0.1:5432/test`), shared by every process given the same URL.
    #[arg(long)]
    postgres_url: Option<String>,
    /// Accept this key in the X-Api-Key header.
    #[arg(long)]
    api_key: Option<String>,
    /// Accept X-Assurance-Signature HMAC-SHA256 signatures made with this secret.
    #[arg(long)]
    hmac_secret: Option<String>,
    /// With no wardAccess table in the file, let anyone complete audits for any ward.
    #[arg(long)]
    allow_any_ward: bool,
    /// Largest accepted request body, in bytes.
    #[arg(long, default_value_t = nhs_integration::ward_assurance::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// The early shift's hours in ward-local time (Europe/London), HH:MM-HH:MM.
    #[arg(long, default_value = "07:00-15:00")]
    early: ShiftWindow,
    /// The late shift's hours.
    #[arg(long, default_value = "14:30-22:00")]
    late: ShiftWindow,
    /// The night shift's hours (an end before the start is the next morning).
    #[arg(long, default_value = "21:30-07:30")]
    night: ShiftWindow,
    /// What a different audit for an already completed task gets: `succeed` (the design's
    /// failure-handling table: 200 with that task, nothing changed) or `no-matching-task`
    /// (its findMatchingTask: 404).
    #[arg(long, value_enum, default_value_t = AlreadyCompleteArg::Succeed)]
    already_complete: AlreadyCompleteArg,
    /// Close a connection whose request head has not arrived within this many seconds.
    #[arg(long, default_value_t = 10)]
    header_timeout_secs: u64,
    /// Answer 408 and close when a request body has not arrived within this many seconds.
    #[arg(long, default_value_t = 10)]
    body_timeout_secs: u64,
}

/// `--already-complete`: the two readings of the design's "Task already complete" row.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum AlreadyCompleteArg {
    /// Return success with the completed task's id (the default).
    Succeed,
    /// Answer NO_MATCHING_TASK, as the design's findMatchingTask.
    NoMatchingTask,
}

impl From<AlreadyCompleteArg> for AlreadyComplete {
    fn from(arg: AlreadyCompleteArg) -> Self {
        match arg {
            AlreadyCompleteArg::Succeed => Self::Succeed,
            AlreadyCompleteArg::NoMatchingTask => Self::NoMatchingTask,
        }
    }
}

/// Who may complete audits for which ward: the task file's table, or (explicitly) anyone.
fn ward_access(
    file: &TaskFile,
    allow_any_ward: bool,
) -> Result<Box<dyn WardAccess>, Box<dyn std::error::Error>> {
    match (&file.ward_access, allow_any_ward) {
        (Some(table), _) => Ok(Box::new(StaffWardAccess::from_table(table))),
        (None, true) => Ok(Box::new(TrustDashboardWardAccess)),
        (None, false) => {
            Err("the task file has no wardAccess table: add one or pass --allow-any-ward".into())
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG selects what is logged, on stderr (default: info).
    logging::init("info");
    let args = Args::parse();

    let file = TaskFile::from_json(&std::fs::read(&args.tasks)?)
        .map_err(|e| format!("{}: {e}", args.tasks.display()))?;
    let access = ward_access(&file, args.allow_any_ward)?;
    // Shift windows are trust configuration: an audit completes the task whose due date and
    // shift window contain its completion time.
    let config = SyncConfig::default()
        .with_shift_windows(
            ShiftWindows::default()
                .with(Shift::Early, args.early)
                .with(Shift::Late, args.late)
                .with(Shift::Night, args.night),
        )
        .with_already_complete(args.already_complete.into());

    let mut auth = AuthConfig::default();
    if let Some(key) = &args.api_key {
        auth = auth.with_api_key(ApiKey::new("cli", key));
    }
    if let Some(secret) = &args.hmac_secret {
        auth = auth.with_hmac_secret(nhs_integration::ward_assurance::HmacSecret::new(
            "cli",
            secret.as_bytes(),
        ));
    }
    if auth.api_keys.is_empty() && auth.hmac_secrets.is_empty() {
        return Err("give --api-key and/or --hmac-secret: the endpoint never runs open".into());
    }

    let timeouts = HttpTimeouts::new(
        Duration::from_secs(args.header_timeout_secs.max(1)),
        Duration::from_secs(args.body_timeout_secs.max(1)),
    );
    let addr = SocketAddr::new(args.bind, args.port);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = match &args.postgres_url {
        // Several endpoint processes may share one PostgreSQL database.
        Some(url) => {
            let state = PostgresState::connect(url).await?;
            let store = state.task_store();
            let added = store.insert_all(&file.tasks).await?;
            tracing::info!("PostgreSQL state ({added} new tasks from the task file)");
            let engine = SyncEngine::new(
                store,
                access,
                (state.sync_log(), TracingAuditLog),
                TracingAdminAlerts,
            )
            .with_config(config.clone());
            let authenticator = Authenticator::with_replay_cache(auth, state.replay_cache());
            let endpoint =
                SyncEndpoint::new(authenticator, engine).with_max_body_bytes(args.max_body_bytes);
            let sync_log: Arc<dyn SyncLogReader> = Arc::new(state.sync_log());
            router_with(
                shared(endpoint),
                Arc::new(SystemClock),
                timeouts,
                Some(sync_log),
            )
        }
        // Tasks, completions, the replay cache and the sync log live in the SQLite file, so
        // a restart forgets nothing; tasks already in the file keep their state.
        None => {
            let state =
                SqliteState::open(&args.db).map_err(|e| format!("{}: {e}", args.db.display()))?;
            let store = state.task_store();
            let added = store.insert_all(&file.tasks)?;
            tracing::info!(
                "{} tasks in {} ({added} new from the task file)",
                store.tasks()?.len(),
                args.db.display()
            );
            let engine = SyncEngine::new(
                store,
                access,
                (state.sync_log(), TracingAuditLog),
                TracingAdminAlerts,
            )
            .with_config(config.clone());
            let authenticator = Authenticator::with_replay_cache(auth, state.replay_cache());
            let endpoint =
                SyncEndpoint::new(authenticator, engine).with_max_body_bytes(args.max_body_bytes);
            let sync_log: Arc<dyn SyncLogReader> = Arc::new(state.sync_log());
            router_with(
                shared(endpoint),
                Arc::new(SystemClock),
                timeouts,
                Some(sync_log),
            )
        }
    };
    tracing::info!("serving http://{bound}/api/assurance/sync");
    serve_with(listener, app, timeouts).await?;
    Ok(())
}
