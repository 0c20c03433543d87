//! `cargo run --example writeback -- --via-agents`: the writeback demo with each simulated
//! Gateway PC behind a `systmone-gateway` agent that dials the example's hub over loopback
//! mutual TLS, for two practices, with notes routed by the patient's practice. Every
//! certificate is throwaway: a hub CA and the hub's certificate, a device CA and one client
//! certificate per Gateway PC whose CN is the device's id.

use std::sync::Arc;
use std::time::Duration;

use nhs_integration::nhs_identifiers::OdsCode;
use nhs_integration::systmone_client::{ApiKey, Client, ClientConfig, Timeouts};
use nhs_integration::systmone_gateway::{Agent, AgentConfig, ReconnectBackoff, enrol, tls};
use nhs_integration::systmone_gateway_hub::{
    ClientFactory, DeviceCertificates, DeviceRegistry, Hub, HubConfig, PracticeGateways,
    PracticeLookup, PracticeMap, SqliteRegistry, tls as hub_tls,
};
use nhs_integration::systmone_sim::{
    Fault, GatewayConfig, Organisation, OrganisationData, Simulator, ThrottleConfig,
};
use nhs_integration::systmone_writeback::{
    EngineConfig, RetryPolicy, SqliteOutbox, TokioWallClock, WritebackEngine,
};

type Error = Box<dyn std::error::Error>;

/// Practice B: the simulator's fictitious data under other site codes.
fn second_practice() -> Result<Organisation, Error> {
    let json = serde_json::to_string(&Organisation::builtin_default().snapshot())?;
    let json = json.replace("B11111", "C22221").replace("B11112", "C22222");
    let data: OrganisationData = serde_json::from_str(&json)?;
    Ok(Organisation::new(data))
}

type Issuer = rcgen::CertifiedIssuer<'static, rcgen::KeyPair>;

/// A throwaway CA named `name`.
fn throwaway_ca(name: &str) -> Result<Issuer, Error> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    Ok(rcgen::CertifiedIssuer::self_signed(
        params,
        rcgen::KeyPair::generate()?,
    )?)
}

/// The hub's `localhost` certificate from the hub CA: (cert PEM, key PEM).
fn hub_certificate(hub_ca: &Issuer) -> Result<(String, String), Error> {
    let key = rcgen::KeyPair::generate()?;
    let cert =
        rcgen::CertificateParams::new(vec!["localhost".to_owned()])?.signed_by(&key, hub_ca)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// A Gateway PC's client certificate from the device CA, its CN the device id the operator
/// chose: (cert PEM, key PEM). The operator hands it over with the enrolment token.
fn device_certificate(device_ca: &Issuer, device_id: &str) -> Result<(String, String), Error> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, device_id);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let key = rcgen::KeyPair::generate()?;
    let cert = params.signed_by(&key, device_ca)?;
    Ok((cert.pem(), key.serialize_pem()))
}

struct PracticeGateway {
    label: String,
    sim: Simulator,
    agent: Option<tokio::task::JoinHandle<nhs_integration::systmone_gateway::Error>>,
    config: AgentConfig,
    credential: nhs_integration::systmone_gateway::DeviceCredential,
}

pub async fn run(
    notes: Vec<nhs_integration::systmone_writeback::CaseNote>,
    outbox: &std::path::Path,
    api_key: &str,
    wait_secs: u64,
) -> Result<(), Error> {
    println!(
        "SystmOne writeback demo via Gateway PC agents: two practices, three Gateway PCs, each behind an agent dialling the hub over loopback mutual TLS"
    );
    let hub_ca = throwaway_ca("writeback example hub CA")?;
    let (cert, key) = hub_certificate(&hub_ca)?;
    let ca = hub_ca.pem();
    let device_ca = throwaway_ca("writeback example Gateway PC CA")?;
    // Device ids are the certificates' CNs; a per-run suffix keeps them new in a registry kept
    // from an earlier run (`--outbox`).
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis()
        % 0x100_0000;
    let registry = Arc::new(SqliteRegistry::open(
        outbox.with_extension("devices.sqlite"),
    )?);
    let factory: ClientFactory = {
        let api_key = api_key.to_owned();
        Arc::new(move |gateway, connector| {
            let mut config = ClientConfig::default();
            config.timeouts = Timeouts::uniform(Duration::from_secs(3));
            Client::builder(gateway, ApiKey::new(&api_key))
                .connector(connector)
                .in_memory_device_id()
                .device_version("nhs-integration writeback example 0.1.0")
                .config(config)
                .spawn()
        })
    };
    let mut hub_config = HubConfig::default();
    hub_config.device_certificates = DeviceCertificates::CommonNameIsDeviceId;
    let hub = Hub::builder(registry.clone(), ApiKey::new(api_key))
        .client_factory(factory)
        .config(hub_config)
        .build();
    let hub_addr = hub
        .listen(
            "127.0.0.1:0".parse()?,
            hub_tls::mutual_server_config(
                cert.as_bytes(),
                key.as_bytes(),
                device_ca.pem().as_bytes(),
            )?,
        )
        .await?;
    println!(
        "  hub: listening for agents on {hub_addr} (mutual TLS 1.3: throwaway hub CA, client certificates from a throwaway device CA, CN = device id)"
    );

    let practice_a: OdsCode = "B11111".parse()?;
    let practice_b: OdsCode = "C22221".parse()?;
    let org_a = Organisation::builtin_default();
    let org_b = second_practice()?;
    let mut gateways = Vec::new();
    for (label, ods, org, user) in [
        ("A1", &practice_a, &org_a, "gateway0001"),
        ("A2", &practice_a, &org_a, "gateway0002"),
        ("B1", &practice_b, &org_b, "gateway0001"),
    ] {
        let sim = Simulator::new(
            org.clone(),
            GatewayConfig::for_user(user).with_throttle(ThrottleConfig::relaxed()),
        )?;
        let sim_addr = sim.listen_tcp("127.0.0.1:0".parse()?).await?;
        let token = hub
            .issue_token(
                ods,
                &format!("Gateway PC {label}"),
                Duration::from_secs(600),
            )
            .await?;
        let device_id = format!("{}-gateway-pc-{}-{run:06x}", ods.as_str(), label).to_lowercase();
        let (device_cert, device_key) = device_certificate(&device_ca, &device_id)?;
        let config = AgentConfig::new(
            hub_addr.to_string(),
            "localhost",
            tls::mutual_client_config(
                ca.as_bytes(),
                device_cert.as_bytes(),
                device_key.as_bytes(),
            )?,
        )?
        .with_systmone_addr(sim_addr)
        .with_label(format!("Gateway PC {label}"))
        .with_probe_interval(Duration::from_millis(200))
        .with_backoff(ReconnectBackoff::new(
            Duration::from_millis(100),
            Duration::from_secs(2),
        ));
        let credential = enrol(&config, token.token).await?;
        println!(
            "  Gateway PC {label}: practice {ods}, SystmOne logged on as {user} at {sim_addr}; agent enrolled as device {}",
            credential.device_id
        );
        let agent = {
            let (config, credential) = (config.clone(), credential.clone());
            tokio::spawn(async move { Agent::new(config, credential).run().await })
        };
        gateways.push(PracticeGateway {
            label: label.to_owned(),
            sim,
            agent: Some(agent),
            config,
            credential,
        });
    }
    let verified = tokio::time::timeout(Duration::from_secs(15), async {
        while hub.live_devices().iter().filter(|d| d.verified).count() < gateways.len() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    if verified.is_err() {
        println!("  (not every device verified its organisation in time)");
    }
    for device in hub.live_devices() {
        println!(
            "  device {} connected: practice {}, SystmOne {}, logged-on user {}, organisation verified: {}",
            device.device_id,
            device.ods,
            device.systmone.as_str(),
            device.logged_on_user.as_deref().unwrap_or("?"),
            device.verified
        );
    }

    // The integrator knows each patient's practice.
    let practices = PracticeMap::new();
    let at_practice_b: Vec<nhs_integration::systmone_writeback::NhsNumber> =
        vec!["9990001014".parse()?, "9990001030".parse()?];
    for note in &notes {
        let nhs = note.patient.nhs_number;
        let ods = if at_practice_b.contains(&nhs) {
            &practice_b
        } else {
            &practice_a
        };
        practices.set(nhs, ods.clone());
    }
    println!("Faults injected:");
    gateways[0]
        .sim
        .inject_next("UpdatePatientRecord", Fault::Delay(Duration::from_secs(1)));
    gateways[1]
        .sim
        .inject_next("UpdatePatientRecord", Fault::Delay(Duration::from_secs(1)));
    println!(
        "  - practice A's first write takes SystmOne a second, and the agent carrying it is killed meanwhile (restarted 5 s later)"
    );

    let engine = WritebackEngine::new(
        SqliteOutbox::open(outbox)?,
        PracticeGateways::new(hub.clone(), practices).with_settle_time(Duration::from_secs(3)),
        TokioWallClock::from_system_time(),
        EngineConfig::default()
            .with_max_in_flight(3)
            .with_retry(RetryPolicy::new(
                Duration::from_secs(1),
                Duration::from_secs(5),
                Duration::from_secs(1),
            )),
    );
    println!("\nAccepted into the outbox:");
    let mut accepted = Vec::new();
    for note in notes {
        let nhs = note.patient.nhs_number;
        let ods = engine.gateways().lookup().practice_of(&nhs);
        let receipt = engine.submit(note).await?;
        println!(
            "  note {} for patient {nhs} at practice {}: {}",
            receipt.id,
            ods.map(|o| o.to_string()).unwrap_or_default(),
            receipt.authorship
        );
        accepted.push((receipt, nhs));
    }

    // Kill the agent whose SystmOne got practice A's first write, then bring it back.
    let watched: Vec<Simulator> = gateways[..2].iter().map(|g| g.sim.clone()).collect();
    let mut to_kill = gateways.remove(0);
    let mut other = gateways.remove(0);
    let killer = tokio::spawn(async move {
        loop {
            let arrived = |sim: &Simulator| {
                sim.request_log()
                    .iter()
                    .any(|r| r.function.as_deref() == Some("UpdatePatientRecord"))
            };
            if arrived(&watched[1]) {
                std::mem::swap(&mut to_kill, &mut other);
            }
            if arrived(&watched[0]) || arrived(&watched[1]) {
                if let Some(agent) = to_kill.agent.take() {
                    agent.abort();
                }
                println!(
                    "  !! agent of Gateway PC {} killed mid-write",
                    to_kill.label
                );
                tokio::time::sleep(Duration::from_secs(5)).await;
                let (config, credential) = (to_kill.config.clone(), to_kill.credential.clone());
                to_kill.agent = Some(tokio::spawn(async move {
                    Agent::new(config, credential).run().await
                }));
                println!("  !! agent of Gateway PC {} restarted", to_kill.label);
                return (to_kill, other);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });

    println!("\nFiling...");
    let settled =
        tokio::time::timeout(Duration::from_secs(wait_secs), engine.run_until_settled()).await;
    match settled {
        Ok(result) => result?,
        Err(_) => {
            println!("  (gave up waiting after {wait_secs} s; unfinished notes stay in the outbox)")
        }
    }
    let (revived, survivor) = killer.await?;
    gateways.push(revived);
    gateways.push(survivor);

    println!("\nStatus of each note:");
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
    for (ods, org) in [(&practice_a, &org_a), (&practice_b, &org_b)] {
        let mut shown = Vec::new();
        for (_, nhs) in &accepted {
            if shown.contains(nhs)
                || engine.gateways().lookup().practice_of(nhs).as_ref() != Some(ods)
            {
                continue;
            }
            shown.push(*nhs);
            println!("\nPractice {ods}, journal of patient {nhs}, as a clinician sees it:");
            for line in org.journal_view(nhs).unwrap_or_default().lines() {
                println!("  {line}");
            }
        }
    }
    println!("\nDevice registry:");
    for device in registry.devices(None).await? {
        println!(
            "  {} ({}) practice {}: connected {}, health {}, logged-on user {}, agent {}",
            device.device_id,
            device.label,
            device.ods,
            device.connected,
            device.health,
            device.logged_on_user.as_deref().unwrap_or("?"),
            device.agent_version.as_deref().unwrap_or("?"),
        );
    }
    for gateway in &mut gateways {
        if let Some(agent) = gateway.agent.take() {
            agent.abort();
        }
    }
    hub.shutdown().await;
    Ok(())
}
