//! `cargo run --example send_document`: a complete GP Connect Send Document message (ITK3,
//! FHIR STU3) for a fictitious patient, printed as FHIR JSON on stdout; the MESH fields it
//! implies go to stderr.
//!
//! ```text
//! cargo run --example send_document                      # JSON
//! cargo run --example send_document -- --xml             # FHIR XML
//! cargo run --example send_document -- --discharge       # a mental health discharge instead
//! cargo run --example send_document -- --legacy          # gpconnect-messaging 1.5 values
//! cargo run --example send_document -- --pdf letter.pdf  # attach your own (fictitious!) PDF
//! cargo run --example send_document -- --validate FILE   # check someone else's bundle (JSON or XML)
//! ```
//!
//! Ids are derived from `--seed` and the timestamp from `--at` (both default to the current
//! time), so a fixed `--seed 1 --at 2026-01-01T09:00:00Z` always prints the same message.
//!
//! **Over MESH** (`--mesh-url`): the message is sent exactly once through a durable outbox
//! (`nhs-mesh`) from `--mailbox` to `--to` (a mailbox; the sandbox cannot route
//! `GPPROVIDER_…` addresses), and every status change is printed as it arrives: accepted by
//! MESH, downloaded by the recipient, infrastructure ack, business ack (or the failure).
//! With NHS England's sandbox (`pip install mesh-sandbox==1.0.137`) and the GP example:
//!
//! ```text
//! STORE_MODE=memory AUTH_MODE=full SHARED_KEY=TestKey \
//!   .venv/bin/uvicorn mesh_sandbox.api:app --host 127.0.0.1 --port 8700 --workers 1 &
//! cargo run --example mesh_gp_inbox -- --mesh-url http://127.0.0.1:8700 &
//! cargo run --example send_document -- --mesh-url http://127.0.0.1:8700 --mailbox X26ABC1 --to X26ABC2
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, NaiveDate, Utc};
use clap::Parser;
use nhs_integration::gpconnect_fhir::discharge::{EncounterDetails, MhSection};
use nhs_integration::gpconnect_fhir::send_document::SendDocumentOptions;
use nhs_integration::gpconnect_fhir::{
    AttachmentData, GuideVersion, ItkMessage, MentalHealthDischarge, OrganisationDetails,
    PatientDetails, PractitionerDetails, SendDocument, SequentialIds, validate_json, xml,
};
use nhs_integration::nhs_identifiers::{NhsNumber, OdsCode};

#[path = "support/logging.rs"]
mod logging;

#[derive(Parser)]
#[command(about = "Print a fictitious GP Connect Send Document message, or validate a bundle")]
struct Args {
    /// Print FHIR XML instead of JSON.
    #[arg(long)]
    xml: bool,
    /// Build a Transfer of Care mental health discharge (ITK004D) instead.
    #[arg(long)]
    discharge: bool,
    /// Use the older gpconnect-messaging 1.5 values (MessageDefinition, LocalExtension,
    /// workflow id, DOB format) instead of the current guide's.
    #[arg(long)]
    legacy: bool,
    /// Attach this PDF instead of a short generated note.
    #[arg(long, value_name = "FILE")]
    pdf: Option<PathBuf>,
    /// Validate this bundle (FHIR JSON or XML) and print the findings instead.
    #[arg(long, value_name = "FILE")]
    validate: Option<PathBuf>,
    /// Seed for the message's UUIDs (default: from the clock).
    #[arg(long)]
    seed: Option<u64>,
    /// Message timestamp, RFC 3339 (default: now).
    #[arg(long)]
    at: Option<DateTime<Utc>>,
    /// Send the message over MESH to this base URL (sandbox: http://127.0.0.1:8700) and
    /// print each acknowledgement as it arrives.
    #[arg(long, value_name = "URL")]
    mesh_url: Option<String>,
    /// Our MESH mailbox.
    #[arg(long, default_value = "X26ABC1")]
    mailbox: String,
    /// The recipient's mailbox (instead of the GPPROVIDER_ automated-routing address).
    #[arg(long, default_value = "X26ABC2")]
    to: String,
    /// Mailbox password (sandbox: password).
    #[arg(long, default_value = "password")]
    mesh_password: String,
    /// Environment shared key (sandbox: TestKey).
    #[arg(long, default_value = "TestKey")]
    mesh_shared_key: String,
    /// Seconds to wait for the acknowledgements.
    #[arg(long, default_value_t = 60)]
    wait: u64,
    /// The MESH outbox, inbox and ITK3 statuses: a SQLite file (default: a fresh file in a
    /// temporary directory). Run again with the same file and the statuses carry on.
    #[arg(long, value_name = "FILE")]
    store: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    // RUST_LOG selects what is logged, on stderr (default: warn).
    logging::init("warn");
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    if let Some(path) = &args.validate {
        return validate(path);
    }
    let at = args.at.unwrap_or_else(Utc::now);
    let seed = args
        .seed
        .unwrap_or_else(|| u64::try_from(at.timestamp_millis()).unwrap_or(1));
    let mut ids = SequentialIds::new(seed);
    let message = if args.discharge {
        discharge(at)?.build(&mut ids)?
    } else {
        send_document(args, at)?.build(&mut ids)?
    };
    if let Some(url) = &args.mesh_url {
        let mut message = message;
        message.mesh.to = args.to.clone();
        // What goes on the wire: no patient details in the MESH subject.
        let envelope = nhs_integration::nhs_mesh::ItkSender::envelope(&message);
        eprintln!("Mex-To: {}", envelope.to);
        eprintln!("Mex-WorkflowID: {}", envelope.workflow_id);
        eprintln!("Mex-Subject: {}", envelope.subject.as_deref().unwrap_or(""));
        eprintln!("(responses come back on {})", message.mesh.ack_workflow_id);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        return runtime.block_on(send_over_mesh(args, url, &message));
    }
    print_mesh(&message);
    if args.xml {
        print!("{}", message.to_xml()?);
    } else {
        println!("{}", message.to_json_pretty()?);
    }
    Ok(ExitCode::SUCCESS)
}

fn patient() -> Result<PatientDetails, Box<dyn std::error::Error>> {
    Ok(PatientDetails::new(
        NhsNumber::fictitious(1),
        "Testpatient",
        ["Jordan"],
        NaiveDate::from_ymd_opt(1972, 6, 15).ok_or("bad date")?,
    ))
}

fn clinician() -> PractitionerDetails {
    PractitionerDetails::new("Example", ["Sam"])
        .with_prefix("Dr")
        .with_sds_user_id("000000000001")
}

fn send_document(
    args: &Args,
    at: DateTime<Utc>,
) -> Result<SendDocument, Box<dyn std::error::Error>> {
    let attachment = match &args.pdf {
        Some(path) => AttachmentData::pdf("Consultation report", std::fs::read(path)?),
        None => AttachmentData::text(
            "Consultation note",
            "Seen on the ward by the social prescribing team.\nReferred to a walking group.",
        ),
    };
    let version = if args.legacy {
        GuideVersion::GpConnectMessaging1_5
    } else {
        GuideVersion::Current
    };
    Ok(SendDocument::new(
        patient()?,
        OrganisationDetails::new(OdsCode::try_from("X26")?, "Example Ward Hub")
            .with_phone("0100 000 0000"),
        "X26OT001",
        "Consultation report",
        at,
    )
    .author(clinician())
    .attachment(attachment)
    .options(SendDocumentOptions::for_version(version)))
}

fn discharge(at: DateTime<Utc>) -> Result<MentalHealthDischarge, Box<dyn std::error::Error>> {
    let admitted = at - chrono::Duration::days(21);
    let gp = OdsCode::try_from("A00001")?;
    let trust = OdsCode::try_from("RX1")?;
    Ok(MentalHealthDischarge::new(
        patient()?,
        OrganisationDetails::new(gp, "Example Medical Centre"),
        OrganisationDetails::new(trust, "Example Mental Health Trust"),
        clinician(),
        "RX1OT001",
        at,
        "Informal admission for low mood; improved with treatment; discharged home.",
        "No known drug allergies.",
    )
    .encounter(EncounterDetails::new(admitted, Some(at)))
    .section(
        MhSection::AdmissionDetails,
        "Informal admission via the crisis team.",
    )
    .section(
        MhSection::DischargeDetails,
        "Discharged home; community team follow-up in 7 days.",
    )
    .section(
        MhSection::PlanAndRequestedActions,
        "GP: please review medication in 2 weeks.",
    ))
}

fn print_mesh(message: &ItkMessage) {
    let mesh = &message.mesh;
    eprintln!("Mex-From: {}", mesh.from);
    eprintln!("Mex-To: {}", mesh.to);
    eprintln!("Mex-WorkflowID: {}", mesh.workflow_id);
    eprintln!("Mex-Subject: {}", mesh.subject);
    eprintln!("Mex-LocalID: {}", mesh.local_id);
    eprintln!("(responses come back on {})", mesh.ack_workflow_id);
}

async fn send_over_mesh(
    args: &Args,
    url: &str,
    message: &ItkMessage,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    use nhs_integration::nhs_mesh::itk::{AckTimeouts, ItkStatus};
    use nhs_integration::nhs_mesh::{
        ClientConfig, Credentials, ItkSender, MailboxId, MeshClient, Outbox, Poller, SqliteStore,
    };
    use std::sync::Arc;
    use std::time::Duration;

    let creds = Credentials::new(
        MailboxId::new(&args.mailbox)?,
        args.mesh_password.as_str(),
        args.mesh_shared_key.as_str(),
    );
    let client = MeshClient::new(ClientConfig::new(url, creds))?;
    client.handshake().await?;
    let temp = tempfile::tempdir()?;
    let path = args
        .store
        .clone()
        .unwrap_or_else(|| temp.path().join("mesh.sqlite"));
    let store = Arc::new(SqliteStore::open(&path)?);
    let wait = Duration::from_secs(args.wait);
    let sender = ItkSender::with_store(
        Outbox::new(client.clone(), store.clone()),
        Poller::new(client, store.clone()).workflow_filter(message.mesh.ack_workflow_id.clone()),
        store,
    )?
    .timeouts(AckTimeouts::new(wait, wait));
    // Statuses settled over a week ago are of no more use: keep the file from growing.
    let forgotten = sender.forget_settled(Duration::from_secs(7 * 24 * 3600), Utc::now())?;
    if !forgotten.is_empty() {
        println!("forgot {} settled ITK3 statuses", forgotten.len());
    }
    let header = sender.send(message, Utc::now()).await?;
    println!("sent MessageHeader {header}: accepted by MESH");
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        for change in sender.poll(Utc::now()).await? {
            if change.header_id != header {
                continue;
            }
            match &change.status {
                ItkStatus::AcknowledgedByRecipient => {
                    println!("downloaded by the recipient's mailbox")
                }
                ItkStatus::InfrastructureAck { code } => println!("infrastructure ack {code}"),
                ItkStatus::BusinessAck { code } => {
                    println!("business ack {code}");
                    return Ok(ExitCode::SUCCESS);
                }
                ItkStatus::Failed { reason } => {
                    println!("failed: {reason}");
                    return Ok(ExitCode::FAILURE);
                }
                other => println!("{other:?}"),
            }
        }
        if let Some(t) = sender.status(&header)
            && !t.bus_ack_requested
            && t.infrastructure.is_some()
        {
            return Ok(ExitCode::SUCCESS);
        }
    }
}

fn validate(path: &PathBuf) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)?;
    // Jekyll-wrapped examples ({% highlight xml %} ... {% endhighlight %}) are unwrapped first.
    let text: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("{%"))
        .collect::<Vec<_>>()
        .join("\n");
    let json = if text.trim_start().starts_with('<') {
        xml::xml_to_json(&text)?.to_string()
    } else {
        text
    };
    let report = validate_json(&json);
    if report.findings.is_empty() {
        println!("no findings");
    } else {
        print!("{report}");
    }
    println!(
        "{} finding(s); an ITK3 receiver would answer {} ({})",
        report.findings.len(),
        report.response_code().code(),
        report.response_code().display()
    );
    Ok(if report.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
