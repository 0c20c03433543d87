//! `systmone-gateway`: the agent binary for a SystmOne Gateway PC.
//!
//! ```text
//! systmone-gateway enrol --hub hub.example.org:443 --ca hub-ca.pem --cert device.pem --key device-key.pem --token TOKEN --credential device.json
//! systmone-gateway run   --hub hub.example.org:443 --ca hub-ca.pem --cert device.pem --key device-key.pem --credential device.json
//! ```
//!
//! `--cert`/`--key` are this PC's client certificate and key (PEM), issued by the integrator
//! with the enrolment token, for a hub that requires mutual TLS; leave both out for a hub that
//! does not.
//!
//! Portable: it runs in a console or under a Windows service wrapper (logs go to standard error,
//! filtered by `RUST_LOG`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use systmone_gateway::{Agent, AgentConfig, DeviceCredential, Secret, enrol_and_save, tls};

#[derive(Debug, Parser)]
#[command(about = "Relay a SystmOne Gateway PC to the integrator's hub (outbound TLS only)")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct Common {
    /// The hub, `host:port`.
    #[arg(long)]
    hub: String,
    /// The name on the hub's certificate (default: the host part of --hub).
    #[arg(long)]
    server_name: Option<String>,
    /// PEM file of the CA that signed the hub's certificate.
    #[arg(long)]
    ca: PathBuf,
    /// PEM file of this PC's client certificate (leaf first), for a hub that requires mutual
    /// TLS; its subject CN names the device.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// PEM file of the client certificate's private key (keep it owner-only).
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// The device credential file (written by `enrol`, owner-only).
    #[arg(long)]
    credential: PathBuf,
    /// The local SystmOne Client Integration address.
    #[arg(long, default_value = "127.0.0.1:40700")]
    systmone: SocketAddr,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Exchange a one-time enrolment token for this device's credential.
    Enrol {
        #[command(flatten)]
        common: Common,
        /// The one-time token the integrator issued.
        #[arg(long)]
        token: String,
        /// A label for this PC (default: its host name).
        #[arg(long)]
        label: Option<String>,
    },
    /// Connect to the hub and relay until revoked.
    Run {
        #[command(flatten)]
        common: Common,
    },
}

fn config(common: &Common) -> Result<AgentConfig, Box<dyn std::error::Error>> {
    let ca = std::fs::read(&common.ca)?;
    let host = common
        .hub
        .rsplit_once(':')
        .map_or(common.hub.as_str(), |(host, _)| host);
    let server_name = common.server_name.as_deref().unwrap_or(host);
    let tls = match (&common.cert, &common.key) {
        (Some(cert), Some(key)) => {
            tls::mutual_client_config(&ca, &std::fs::read(cert)?, &std::fs::read(key)?)?
        }
        _ => tls::client_config(&ca)?,
    };
    Ok(AgentConfig::new(&common.hub, server_name, tls)?.with_systmone_addr(common.systmone))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Args::parse().command {
        Command::Enrol {
            common,
            token,
            label,
        } => {
            let label = label
                .or_else(|| std::env::var("COMPUTERNAME").ok())
                .or_else(|| std::env::var("HOSTNAME").ok())
                .unwrap_or_else(|| "gateway-pc".to_owned());
            let config = config(&common)?.with_label(label);
            let credential =
                enrol_and_save(&config, Secret::from(token), &common.credential).await?;
            eprintln!(
                "enrolled as device {} for {}; credential saved",
                credential.device_id, credential.ods
            );
        }
        Command::Run { common } => {
            let config = config(&common)?;
            let credential = DeviceCredential::load(&common.credential)?;
            let stopped = Agent::new(config, credential).run().await;
            return Err(stopped.into());
        }
    }
    Ok(())
}
