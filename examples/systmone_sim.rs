//! A SystmOne client simulator for your own tests.
//!
//! ```sh
//! cargo run --example systmone_sim -- --port 40700 --data crates/systmone-sim/fixtures/default.json
//! ```
//!
//! Serves the Client Integration protocol (newline-framed XML) on `127.0.0.1:<port>` with the
//! organisation from the JSON fixture (or the built-in default) and SystmOne's real throttle
//! (1 request/s, non-exempt `GetPatientRecord` 1 per 30 s; `--relaxed` switches it off).
//! `--gateways N` starts N Gateway PCs over the same organisation on consecutive ports.
//! Faults can be injected at random with `--fault-rate P --seed S`.
//!
//! For tests that drive it from another process: `--port 0` listens on free ports (each
//! gateway's address is printed on its own line), `--until-stdin-closes` stops when standard
//! input reaches its end (so the simulator also ends when the test that started it dies), and
//! `--dump FILE` then writes every gateway's request log and every patient's journal as JSON.
//!
//! Logs go to stderr through `tracing-subscriber`, filtered by `RUST_LOG` (default `info`;
//! e.g. `RUST_LOG=systmone_sim=debug` shows each connection closing and why). No log line
//! carries an NHS number, a name or any text a client sent.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use nhs_integration::systmone_sim::{
    FaultProbabilities, GatewayConfig, Organisation, Simulator, ThrottleConfig,
};

#[path = "support/logging.rs"]
mod logging;

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "SystmOne Client Integration simulator (fictitious data only)")]
struct Args {
    /// TCP port of the first gateway (0: any free port).
    #[arg(long, default_value_t = 40700)]
    port: u16,
    /// Address to listen on (loopback by default; SystmOne only listens locally).
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// JSON fixture with the organisation (default: the built-in organisation).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Number of Gateway PCs sharing the organisation (ports port, port+1, ...).
    #[arg(long, default_value_t = 1)]
    gateways: u16,
    /// Switch the throttle off.
    #[arg(long)]
    relaxed: bool,
    /// Chance (0..1) of each fault mode per request.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Seed of the random fault schedule.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop after this many seconds and print the request counts and every journal (default: run until killed).
    #[arg(long)]
    run_for: Option<u64>,
    /// Stop (as --run-for does) when standard input reaches its end.
    #[arg(long)]
    until_stdin_closes: bool,
    /// When stopping, also write every gateway's request log (arrival in microseconds since
    /// the simulator started, connection, function, whether answered) and every patient's
    /// journal to this file as JSON.
    #[arg(long)]
    dump: Option<PathBuf>,
}

/// Resolves when standard input reaches its end (read on a plain thread: the runtime has no
/// async stdin).
async fn stdin_closed() {
    let (done, closed) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut sink);
        let _ = done.send(());
    });
    let _ = closed.await;
}

/// The request logs and journals as JSON (see `--dump`).
fn dump(
    gateways: &[Simulator],
    organisation: &Organisation,
    started: tokio::time::Instant,
) -> serde_json::Value {
    let gateways: Vec<serde_json::Value> = gateways
        .iter()
        .map(|gateway| {
            let requests: Vec<serde_json::Value> = gateway
                .request_log()
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "sequence": r.sequence,
                        "at_us": u64::try_from(r.arrival.saturating_duration_since(started).as_micros()).unwrap_or(u64::MAX),
                        "connection": r.connection,
                        "function": r.function,
                        "answered": r.answered(),
                    })
                })
                .collect();
            serde_json::json!({
                "gateway": gateway.gateway_id(),
                "user": gateway.user_name(),
                "address": gateway.local_addr().map(|a| a.to_string()),
                "requests": requests,
            })
        })
        .collect();
    let journals: Vec<serde_json::Value> = organisation
        .patients()
        .iter()
        .map(|patient| {
            serde_json::json!({
                "nhs_number": patient.nhs_number,
                "events": organisation.journal(&patient.nhs_number),
            })
        })
        .collect();
    serde_json::json!({ "gateways": gateways, "journals": journals })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG selects what is logged, on stderr (default: info).
    logging::init("info");
    let args = Args::parse();
    let started = tokio::time::Instant::now();
    let organisation = match &args.data {
        Some(path) => Organisation::from_json_file(path)?,
        None => Organisation::builtin_default(),
    };
    let gateway_users = organisation.gateway_users();
    let mut gateways = Vec::new();
    for index in 0..args.gateways {
        let mut config = GatewayConfig::default();
        if let Some(user) = gateway_users.get(usize::from(index)) {
            config = config.with_user(user.clone());
        }
        if args.relaxed {
            config = config.with_throttle(ThrottleConfig::relaxed());
        }
        let simulator = Simulator::new(organisation.clone(), config)?;
        if args.fault_rate > 0.0 {
            simulator.set_random_faults(
                FaultProbabilities::uniform(args.fault_rate, Duration::from_secs(5)),
                args.seed.wrapping_add(u64::from(index)),
            );
        }
        let port = if args.port == 0 { 0 } else { args.port + index };
        let addr = simulator
            .listen_tcp(SocketAddr::new(args.host, port))
            .await?;
        println!(
            "gateway {} ({}) of {:?} listening on {addr}",
            simulator.gateway_id(),
            simulator.user_name(),
            organisation.name()
        );
        gateways.push(simulator);
    }
    let run_for = async {
        match args.run_for {
            Some(seconds) => tokio::time::sleep(Duration::from_secs(seconds)).await,
            None => std::future::pending::<()>().await,
        }
    };
    let stdin = async {
        if args.until_stdin_closes {
            stdin_closed().await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = run_for => {}
        () = stdin => {}
    }
    if let Some(path) = &args.dump {
        std::fs::write(
            path,
            serde_json::to_vec_pretty(&dump(&gateways, &organisation, started))?,
        )?;
    }
    for gateway in &gateways {
        let log = gateway.request_log();
        println!("gateway {}: {} request(s)", gateway.gateway_id(), log.len());
    }
    for patient in organisation.patients() {
        if let Some(view) = organisation.journal_view(&patient.nhs_number) {
            println!("\n{view}");
        }
    }
    Ok(())
}
