//! The README's main command: `cargo run --example writeback`.
//!
//! Starts the embedded SystmOne simulator (two Gateway PCs over one fictitious organisation,
//! on loopback TCP), files several case notes for fictitious patients through the durable
//! outbox while faults are injected (a write's response is lost, a record is in use, a gateway
//! dies), then prints each note's status and audit trail and each patient's journal as a
//! clinician sees it (author, Entered by, Added by).
//!
//! `--addr 127.0.0.1:40700 --api-key KEY` files the same fictitious notes through real SystmOne
//! clients instead (repeat `--addr` for several Gateway PCs), e.g. TPP's Demo environment.
//!
//! A fleet: several processes with `--outbox postgres://…` and their own `--worker-id` share one
//! queue; with `--addr` they share the Gateway PCs through gateway leases (one worker drives
//! each at a time). `--generate N` submits N generated notes instead of the demo's six (0: work
//! the shared queue only); `--lease-secs`, `--max-gateways`, `--timeout-secs` and
//! `--pacing-margin-ms` tune the workers. `tests/writeback_processes.rs` runs three such
//! processes against the `systmone_sim` example and kills one with SIGKILL.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use clap::Parser;
use nhs_integration::systmone_client::{
    ApiKey, Client, ClientConfig, ClientError, DeviceIdStore, FileDeviceIdStore, GatewayPool,
    MemoryDeviceIdStore, TcpConnector, Timeouts,
};
use nhs_integration::systmone_sim::{
    Fault, GatewayConfig, Organisation, Simulator, ThrottleConfig,
};
use nhs_integration::systmone_writeback::client::PoolGateways;
use nhs_integration::systmone_writeback::{
    Accepted, Author, CaseNote, CodedEntry, ConfiguredOutbox, EngineConfig, FleetConfig,
    FleetGateways, GpTask, NhsNumber, NoteStatus, PatientIdentity, PostgresConfig, RetryPolicy,
    Sex, SnomedCode, SystmOneUsername, TokioWallClock, WorkerId, WritebackEngine,
};

/// Command-line options.
#[derive(Clone, Debug, Parser)]
#[command(
    about = "File case notes into SystmOne through the durable outbox (fictitious data only)"
)]
struct Args {
    /// A real SystmOne client (Gateway PC) to file through instead of the embedded simulator;
    /// repeat for several.
    #[arg(long)]
    addr: Vec<SocketAddr>,
    /// The API key TPP issued (needed with --addr).
    #[arg(long, default_value = "0a1b2c3d4e5f6071")]
    api_key: String,
    /// The outbox: a SQLite file (default: a fresh file in a temporary directory), or a
    /// PostgreSQL URL (`postgres://user@host:5432/db`) shared with other workers.
    #[arg(long)]
    outbox: Option<PathBuf>,
    /// This worker's name in claims on a shared (PostgreSQL) outbox (default: a random one).
    #[arg(long)]
    worker_id: Option<String>,
    /// Put each simulated Gateway PC behind a `systmone-gateway` agent that dials the example's
    /// hub over loopback TLS: two practices, three Gateway PCs, notes routed by practice.
    #[arg(long)]
    via_agents: bool,
    /// Give up waiting for notes to settle after this many seconds.
    #[arg(long, default_value_t = 120)]
    wait_secs: u64,
    /// Submit this many generated fictitious notes (labelled with the worker id) instead of the
    /// demo's six; 0 submits none and only works the shared queue.
    #[arg(long)]
    generate: Option<usize>,
    /// How long a claim on a note, and (with --addr on a shared outbox) a lease on a Gateway
    /// PC, holds without renewal: another worker takes over a stopped worker's notes and
    /// gateways after this. Keep it above --timeout-secs (default: the library's, 120 s for
    /// notes and 30 s for gateways).
    #[arg(long)]
    lease_secs: Option<u64>,
    /// With --addr on a shared outbox: the most Gateway PCs this worker drives at once.
    #[arg(long, default_value_t = 1)]
    max_gateways: usize,
    /// With --addr: how long to wait for each response (default: the client's per-function
    /// timeouts).
    #[arg(long)]
    timeout_secs: Option<u64>,
    /// With --addr: extra time added to SystmOne's 1 s between requests, for jitter between
    /// sending and arrival (default: the client's, 10 ms).
    #[arg(long)]
    pacing_margin_ms: Option<u64>,
    /// With --addr: keep allocated device ids in this folder (default: beside a SQLite outbox;
    /// in memory for a PostgreSQL one, so a real SystmOne client asks again each run).
    #[arg(long)]
    device_dir: Option<PathBuf>,
    /// Testing aid: after each write is answered, wait this long before the outbox records it
    /// (a window in which a killed worker leaves a filed note marked `filing`).
    #[arg(long, default_value_t = 0, hide = true)]
    stall_after_write_ms: u64,
}

#[path = "support/gateway_agents.rs"]
mod gateway_agents;
#[path = "support/logging.rs"]
mod logging;
#[path = "support/writeback_fleet.rs"]
mod writeback_fleet;

use writeback_fleet::{Announced, ExampleGateways};

type Error = Box<dyn std::error::Error>;

fn fictitious_notes() -> Result<Vec<CaseNote>, Error> {
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).ok_or("bad date");
    let patient = |nhs: &str, surname, dob, sex| -> Result<PatientIdentity, Error> {
        Ok(PatientIdentity::new(
            nhs.parse::<NhsNumber>()?,
            surname,
            dob,
            sex,
        )?)
    };
    let link_worker = Author::with_username(
        "Sam Worker (Social Prescribing Link Worker)",
        SystmOneUsername::try_from("lworker0042")?,
    )?;
    let nurse = Author::with_username(
        "Alex Smith (Practice Nurse)",
        SystmOneUsername::try_from("asmith5678")?,
    )?;
    let volunteer = Author::named("Priya Patel (Link worker, Example Social Prescribing CIC)")?;
    Ok(vec![
        CaseNote::new(
            patient("9990001006", "Example", date(1970, 5, 14)?, Sex::Female)?,
            link_worker.clone(),
            "Telephone review completed by link worker.\nPatient agreed to attend the weekly walking group.",
        )?
        .with_code(
            CodedEntry::new(SnomedCode::try_from("871731000000106")?)
                .with_free_text("Linked to local walking group")?,
        )
        .with_task(
            GpTask::new("Clinical Review Required", "Please review the social prescribing outcome.")?
                .assigned_to(SystmOneUsername::try_from("jbloggs1234")?),
        )
        .done_at("Community hub")?
        .method("Telephone")?,
        CaseNote::new(
            patient("9990001014", "Sample", date(1985, 11, 2)?, Sex::Male)?,
            volunteer,
            "Home visit by community link worker. Benefits advice given; food bank referral made.",
        )?
        .done_at("Patient's home")?,
        CaseNote::new(
            patient("9990001022", "Testcase", date(1992, 1, 30)?, Sex::Female)?,
            nurse,
            "Ward hub discharge call: medicines reconciled, no concerns raised.",
        )?
        .method("Telephone")?,
        // The platform has the wrong date of birth for this patient: the write is stopped.
        CaseNote::new(
            patient("9990001030", "Example", date(2001, 9, 7)?, Sex::Male)?,
            link_worker.clone(),
            "Signposted to a local carers' support group.",
        )?,
        CaseNote::new(
            patient("9990001049", "Fictional", date(1958, 3, 21)?, Sex::Indeterminate)?,
            link_worker.clone(),
            "Befriending service started; first weekly call went well.",
        )?
        .method("Telephone")?,
        CaseNote::new(
            patient("9990001006", "Example", date(1970, 5, 14)?, Sex::Female)?,
            link_worker,
            "Follow-up: attended two walking group sessions, reports better sleep.",
        )?,
    ])
}

fn client_config(args: &Args, embedded: bool) -> ClientConfig {
    let mut config = ClientConfig::default();
    if embedded {
        // Short timeouts keep the demo quick when a response is lost.
        config.timeouts = Timeouts::uniform(Duration::from_secs(3));
    }
    if let Some(secs) = args.timeout_secs {
        config.timeouts = Timeouts::uniform(Duration::from_secs(secs));
    }
    if let Some(ms) = args.pacing_margin_ms {
        config.pacing_margin = Duration::from_millis(ms);
    }
    config
}

/// A client for one Gateway PC; `device_file` keeps the allocated device id across runs (a real
/// SystmOne client asks a person to approve every new one).
fn client(
    args: &Args,
    label: &str,
    addr: SocketAddr,
    device_file: Option<PathBuf>,
    embedded: bool,
) -> Result<Client, ClientError> {
    let store: Arc<dyn DeviceIdStore> = match device_file {
        Some(path) => Arc::new(FileDeviceIdStore::new(path)),
        None => Arc::new(MemoryDeviceIdStore::default()),
    };
    Client::builder(label, ApiKey::new(&args.api_key))
        .connector(Arc::new(TcpConnector::new(addr)))
        .device_store(store)
        .device_version("nhs-integration writeback example 0.1.0")
        .config(client_config(args, embedded))
        .spawn()
}

/// Where a real Gateway PC's device id is kept (see `--device-dir`).
fn device_file(args: &Args, outbox: &std::path::Path, label: &str) -> Option<PathBuf> {
    match &args.device_dir {
        Some(dir) => Some(dir.join(format!("{label}.device-id"))),
        None if is_postgres(outbox) => None,
        None => Some(outbox.with_extension(format!("{label}.device-id"))),
    }
}

fn is_postgres(outbox: &std::path::Path) -> bool {
    let text = outbox.to_string_lossy();
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // RUST_LOG selects what is logged, on stderr (default: warn).
    logging::init("warn");
    let args = Args::parse();
    let started = Instant::now();
    let temp = tempfile::tempdir()?;
    let outbox_path = args
        .outbox
        .clone()
        .unwrap_or_else(|| temp.path().join("outbox.sqlite"));

    if args.via_agents {
        return gateway_agents::run(
            fictitious_notes()?,
            &outbox_path,
            &args.api_key,
            args.wait_secs,
        )
        .await;
    }

    let mut embedded = None;
    let mut builder = GatewayPool::builder();
    let mut addrs: Vec<(String, SocketAddr)> = Vec::new();
    if args.addr.is_empty() {
        println!(
            "SystmOne writeback demo: embedded simulator, two Gateway PCs over one fictitious organisation"
        );
        println!(
            "  (the simulator's throttle is relaxed; the client still paces each gateway at 1 request/s as TPP requires)"
        );
        let organisation = Organisation::builtin_default();
        let mut gateways = Vec::new();
        for (index, user) in ["gateway0001", "gateway0002"].into_iter().enumerate() {
            let sim = Simulator::new(
                organisation.clone(),
                GatewayConfig::for_user(user).with_throttle(ThrottleConfig::relaxed()),
            )?;
            let addr = sim.listen_tcp("127.0.0.1:0".parse()?).await?;
            let label = format!("gateway-{}", index + 1);
            println!("  {label}: SystmOne client logged on as {user}, listening on {addr}");
            builder = builder.gateway(client(&args, &label, addr, None, true)?);
            gateways.push(sim);
        }
        println!("Faults injected:");
        gateways[0].inject_next("UpdatePatientRecord", Fault::CloseAfterApply);
        println!(
            "  - gateway-1: the first write is applied, then the connection drops (its response is lost)"
        );
        gateways[1].inject_next("UpdatePatientRecord", Fault::RecordInUse);
        println!("  - gateway-2: the first write finds the record in use");
        println!("  - gateway-2 dies once two notes are filed");
        embedded = Some((organisation, gateways));
    } else {
        println!(
            "SystmOne writeback: filing fictitious notes through {} real SystmOne client(s)",
            args.addr.len()
        );
        for (index, addr) in args.addr.iter().enumerate() {
            addrs.push((format!("gateway-{}", index + 1), *addr));
        }
    }
    let shown = outbox_path.to_string_lossy();
    if is_postgres(&outbox_path) {
        // A URL may hold a password: show where, not how.
        let host = shown.rsplit('@').next().unwrap_or("PostgreSQL");
        println!(
            "  outbox: PostgreSQL at {}",
            host.split('?').next().unwrap_or(host)
        );
    } else {
        println!("  outbox: {shown}");
    }

    let worker = match &args.worker_id {
        Some(id) => WorkerId::new(id).ok_or("--worker-id: 1 to 100 printable characters")?,
        None => WorkerId::random(),
    };
    let outbox =
        ConfiguredOutbox::open(&outbox_path.to_string_lossy(), PostgresConfig::default()).await?;
    if outbox.is_shared() {
        println!("  shared outbox on PostgreSQL; this worker is {worker}");
    }
    let clock = TokioWallClock::from_system_time();
    let lease = args.lease_secs.map(Duration::from_secs);
    let gateways = match (&outbox, addrs.is_empty()) {
        (ConfiguredOutbox::Postgres(shared), false) => {
            // Real Gateway PCs shared with other workers: one owner per gateway (leases).
            println!(
                "  gateway leases: this worker drives at most {} of them at a time",
                args.max_gateways
            );
            let fleet_lease = lease.unwrap_or(FleetConfig::default().lease);
            let connect_args = args.clone();
            let connect_outbox = outbox_path.clone();
            let connect_addrs = addrs.clone();
            ExampleGateways::Fleet(Arc::new(FleetGateways::new(
                shared.clone(),
                worker.clone(),
                FleetConfig::new(fleet_lease, fleet_lease / 2, args.max_gateways),
                addrs.iter().map(|(label, _)| label.clone()).collect(),
                Box::new(move |gateway: &str| {
                    let (label, addr) = connect_addrs
                        .iter()
                        .find(|(label, _)| label == gateway)
                        .ok_or_else(|| ClientError::UnknownGateway {
                            gateway: gateway.into(),
                        })?;
                    let device = device_file(&connect_args, &connect_outbox, label);
                    client(&connect_args, label, *addr, device, false)
                }),
                Arc::new(clock.clone()),
            )))
        }
        _ => {
            for (label, addr) in &addrs {
                let device = device_file(&args, &outbox_path, label);
                builder = builder.gateway(client(&args, label, *addr, device, false)?);
            }
            ExampleGateways::Pool(PoolGateways::new(builder.build()))
        }
    };
    let mut config = EngineConfig::default()
        .with_worker(worker.clone())
        .with_max_in_flight(2)
        .with_retry(RetryPolicy::new(
            Duration::from_secs(1),
            Duration::from_secs(10),
            Duration::from_secs(1),
        ));
    if let Some(lease) = lease {
        config = config.with_lease(lease);
    }
    let engine = WritebackEngine::new(
        outbox,
        Announced {
            inner: gateways,
            stall: Duration::from_millis(args.stall_after_write_ms),
        },
        clock,
        config,
    );

    println!("\nAccepted into the outbox (on disk before submit returned):");
    let notes = match args.generate {
        Some(count) => writeback_fleet::generated_notes(worker.as_str(), count)?,
        None => fictitious_notes()?,
    };
    let mut accepted: Vec<(Accepted, NhsNumber)> = Vec::new();
    for note in notes {
        let nhs = note.patient.nhs_number;
        let receipt = engine.submit(note).await?;
        println!(
            "  note {} ref {} for patient {nhs}: {}",
            receipt.id, receipt.reference, receipt.authorship
        );
        accepted.push((receipt, nhs));
    }

    let killer = embedded.as_ref().map(|(_, gateways)| {
        let gateway = gateways[1].clone();
        let engine = engine.clone();
        let ids: Vec<_> = accepted.iter().map(|(a, _)| a.id).collect();
        tokio::spawn(async move {
            loop {
                let mut filed = 0;
                for id in &ids {
                    if matches!(engine.status(*id).await, Ok(Some(NoteStatus::Filed { .. }))) {
                        filed += 1;
                    }
                }
                if filed >= 2 {
                    gateway.kill();
                    println!("  !! gateway-2 killed ({filed} notes filed so far)");
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    });

    println!("\nFiling...");
    let settled = tokio::time::timeout(
        Duration::from_secs(args.wait_secs),
        engine.run_until_settled(),
    )
    .await;
    if let Some(killer) = killer {
        killer.abort();
    }
    match settled {
        Ok(result) => result?,
        Err(_) => println!(
            "  (gave up waiting after {} s; unfinished notes stay in the outbox)",
            args.wait_secs
        ),
    }

    println!(
        "\nStatus of each note ({:.1} s):",
        started.elapsed().as_secs_f64()
    );
    for (receipt, _) in &accepted {
        let status = engine
            .status(receipt.id)
            .await?
            .ok_or("note missing from the outbox")?;
        println!("  note {}: {status}", receipt.id);
        for record in engine.audit_trail(receipt.id).await? {
            println!("    {:<17} {}", record.kind.name(), record.detail);
        }
    }

    if let Some((organisation, _gateways)) = &embedded {
        let mut shown = Vec::new();
        for (_, nhs) in &accepted {
            if shown.contains(nhs) {
                continue;
            }
            shown.push(*nhs);
            println!("\nJournal of patient {nhs}, as a clinician sees it:");
            match organisation.journal_view(nhs) {
                Some(view) => {
                    for line in view.lines() {
                        println!("  {line}");
                    }
                }
                None => println!("  (no such patient)"),
            }
            for task in organisation.tasks(nhs) {
                println!(
                    "  Task {} for {}: {} ({})",
                    task.task_uid,
                    task.user_name_assigned.as_deref().unwrap_or("nobody"),
                    task.task_type,
                    task.status
                );
            }
        }
    }
    engine.gateways().inner.shutdown().await;
    Ok(())
}
