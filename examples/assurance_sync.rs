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
//! ```
//!
//! Tasks are read once at start and held in memory. Every attempt is logged as one line of
//! ids and codes (`ward_assurance::audit`), admin alerts as warnings
//! (`ward_assurance::admin_alert`). Logging follows `RUST_LOG` (default `info`), e.g.
//! `RUST_LOG=ward_assurance=debug,tower=warn`. HMAC signatures are accepted with
//! `--hmac-secret`. Half-sent requests are closed after `--header-timeout-secs` /
//! `--body-timeout-secs`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use std::time::Duration;

use nhs_integration::ward_assurance::http::{
    HttpTimeouts, SystemClock, TracingAdminAlerts, TracingAuditLog, router_with, serve_with, shared,
};
use nhs_integration::ward_assurance::{
    ApiKey, AuthConfig, Authenticator, InMemoryTaskStore, StaffWardAccess, SyncEndpoint,
    SyncEngine, TaskFile, TaskStore, TrustDashboardWardAccess, WardAccess,
};

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
    /// Close a connection whose request head has not arrived within this many seconds.
    #[arg(long, default_value_t = 10)]
    header_timeout_secs: u64,
    /// Answer 408 and close when a request body has not arrived within this many seconds.
    #[arg(long, default_value_t = 10)]
    body_timeout_secs: u64,
}

fn build<S: TaskStore + 'static>(
    store: S,
    access: impl WardAccess + 'static,
    auth: AuthConfig,
    limit: usize,
) -> SyncEndpoint<S> {
    let engine = SyncEngine::new(store, access, TracingAuditLog, TracingAdminAlerts);
    SyncEndpoint::new(Authenticator::new(auth), engine).with_max_body_bytes(limit)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG selects what is logged (default: info for everything).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .init();
    let args = Args::parse();

    let file = TaskFile::from_json(&std::fs::read(&args.tasks)?)
        .map_err(|e| format!("{}: {e}", args.tasks.display()))?;
    let task_count = file.tasks.len();
    let store = InMemoryTaskStore::from_tasks(file.tasks)?;

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

    let endpoint = match (&file.ward_access, args.allow_any_ward) {
        (Some(table), _) => build(
            store,
            StaffWardAccess::from_table(table),
            auth,
            args.max_body_bytes,
        ),
        (None, true) => build(store, TrustDashboardWardAccess, auth, args.max_body_bytes),
        (None, false) => {
            return Err(
                "the task file has no wardAccess table: add one or pass --allow-any-ward".into(),
            );
        }
    };

    let addr = SocketAddr::new(args.bind, args.port);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tracing::info!("serving {task_count} tasks on http://{bound}/api/assurance/sync");
    let timeouts = HttpTimeouts::new(
        Duration::from_secs(args.header_timeout_secs.max(1)),
        Duration::from_secs(args.body_timeout_secs.max(1)),
    );
    let app = router_with(shared(endpoint), Arc::new(SystemClock), timeouts);
    serve_with(listener, app, timeouts).await?;
    Ok(())
}
