//! `cargo run --example mesh_gp_inbox -- --mesh-url http://127.0.0.1:8700`: plays a GP
//! practice on MESH. It polls its mailbox for GP Connect Send Document messages, stores each
//! one durably, acknowledges it to MESH, validates it with `gpconnect-fhir`, and answers on
//! the `_ACK` workflow: 20013 + 30001 when valid, the validator's negative code when not,
//! 20007 when the same MessageHeader id arrives again.
//!
//! With NHS England's sandbox (`pip install mesh-sandbox==1.0.137`):
//! ```text
//! STORE_MODE=memory AUTH_MODE=full SHARED_KEY=TestKey \
//!   .venv/bin/uvicorn mesh_sandbox.api:app --host 127.0.0.1 --port 8700 --workers 1 &
//! cargo run --example mesh_gp_inbox -- --mesh-url http://127.0.0.1:8700 &     # the GP (X26ABC2)
//! cargo run --example send_document -- --mesh-url http://127.0.0.1:8700 --mailbox X26ABC1 --to X26ABC2
//! ```
//! The sender then prints MESH acceptance, the download, and both ITK3 acks.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use clap::Parser;
use nhs_integration::gpconnect_fhir::Responder;
use nhs_integration::nhs_identifiers::OdsCode;
use nhs_integration::nhs_mesh::store::StoredKind;
use nhs_integration::nhs_mesh::{
    ClientConfig, Credentials, ItkReceiver, MailboxId, MeshClient, Outbox, Poller, SqliteStore,
};

#[path = "support/logging.rs"]
mod logging;

#[derive(Parser)]
#[command(about = "Play a GP practice on MESH: poll, validate, answer with ITK3 acks")]
struct Args {
    /// MESH base URL (the sandbox: http://127.0.0.1:8700).
    #[arg(long)]
    mesh_url: String,
    /// The practice's mailbox.
    #[arg(long, default_value = "X26ABC2")]
    mailbox: String,
    /// Mailbox password (sandbox: password).
    #[arg(long, default_value = "password")]
    password: String,
    /// Environment shared key (sandbox: TestKey).
    #[arg(long, default_value = "TestKey")]
    shared_key: String,
    /// The practice's ODS code.
    #[arg(long, default_value = "X26")]
    ods: String,
    /// Workflow to receive; answers go on `<workflow>_ACK`.
    #[arg(long, default_value = "GPCONNECT_SEND_DOCUMENT")]
    workflow: String,
    /// SQLite file for the inbox, outbox and seen ids (default: in memory).
    #[arg(long)]
    store: Option<std::path::PathBuf>,
    /// Poll once and exit.
    #[arg(long)]
    once: bool,
    /// Seconds between polls (real MESH: no more often than every 5 minutes).
    #[arg(long, default_value_t = 2)]
    interval: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // RUST_LOG selects what is logged, on stderr (default: warn).
    logging::init("warn");
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let creds = Credentials::new(
        MailboxId::new(&args.mailbox)?,
        args.password.as_str(),
        args.shared_key.as_str(),
    );
    let client = MeshClient::new(ClientConfig::new(&args.mesh_url, creds))?;
    client.handshake().await?;
    let store = Arc::new(match &args.store {
        Some(p) => SqliteStore::open(p)?,
        None => SqliteStore::in_memory()?,
    });
    let outbox = Outbox::new(client.clone(), store.clone());
    let poller = Poller::new(client.clone(), store.clone()).workflow_filter(args.workflow.clone());
    let receiver = ItkReceiver::new(store.clone());
    let ods = OdsCode::try_from(args.ods.as_str())?;
    let ack_workflow = format!("{}_ACK", args.workflow);
    println!(
        "GP practice {} polling {} for {}",
        ods.as_str(),
        args.mailbox,
        args.workflow
    );
    loop {
        let summary = poller
            .poll_once_async(|m| {
                let (outbox, receiver, ods, ack_workflow, mailbox) = (
                    outbox.clone(),
                    receiver.clone(),
                    ods.clone(),
                    ack_workflow.clone(),
                    args.mailbox.clone(),
                );
                async move {
                    let StoredKind::Data(meta) = &m.kind else {
                        println!("report {} ignored", m.message_id);
                        return Ok::<(), String>(());
                    };
                    let responder = Responder::new(
                        ods,
                        mailbox,
                        meta.from.clone().unwrap_or_default(),
                        ack_workflow,
                    );
                    let d = receiver
                        .answer(&m.body, &responder, &outbox, Utc::now())
                        .await
                        .map_err(|e| e.to_string())?;
                    println!(
                        "message {} (MessageHeader {}): answered {}{}{}",
                        m.message_id,
                        d.header_id,
                        d.infrastructure.code.code(),
                        d.business
                            .as_ref()
                            .map(|b| format!(" then {}", b.code.code()))
                            .unwrap_or_default(),
                        if d.accept { "; filed" } else { "; not filed" }
                    );
                    Ok(())
                }
            })
            .await?;
        if summary.handler_failures > 0 {
            eprintln!(
                "{} message(s) could not be answered; retrying next poll",
                summary.handler_failures
            );
        }
        if args.once {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(args.interval)).await;
    }
}
