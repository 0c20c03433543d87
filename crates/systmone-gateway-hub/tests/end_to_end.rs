//! Loopback end to end over TLS: agents in front of simulated Gateway PCs of two practices,
//! the hub, and the writeback engine routing each note by the patient's practice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use chrono::NaiveDate;
use common::*;
use systmone_gateway_hub::{DeviceHealth, DeviceId, DeviceRegistry, PracticeGateways, PracticeMap};
use systmone_sim::Fault;
use systmone_writeback::{
    Author, CaseNote, EngineConfig, MemoryOutbox, NhsNumber, NoteStatus, PatientIdentity,
    RetryPolicy, Sex, SystmOneUsername, TokioWallClock, WritebackEngine,
};

const PATIENT: &str = "9990001006";

fn note(text: &str) -> CaseNote {
    let patient = PatientIdentity::new(
        PATIENT.parse().unwrap(),
        "Example",
        NaiveDate::from_ymd_opt(1970, 5, 14).unwrap(),
        Sex::Female,
    )
    .unwrap();
    let author = Author::with_username(
        "Sam Worker (Link Worker)",
        SystmOneUsername::try_from("lworker0042").unwrap(),
    )
    .unwrap();
    CaseNote::new(patient, author, text).unwrap()
}

fn engine_config() -> EngineConfig {
    EngineConfig::default().with_retry(RetryPolicy::new(
        Duration::from_millis(100),
        Duration::from_millis(400),
        Duration::from_millis(100),
    ))
}

fn updates(sim: &systmone_sim::Simulator) -> usize {
    sim.request_log()
        .iter()
        .filter(|r| r.function.as_deref() == Some("UpdatePatientRecord"))
        .count()
}

/// Three agents for two practices; a note for each practice goes through that practice's
/// agents only; a practice without a connected device keeps its note queued with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_for_two_practices_are_filed_through_their_own_agents() {
    let world = world().await;
    let (org_a, org_b) = (practice_a(), practice_b());
    let (sim_a1, addr_a1) = gateway(&org_a, "gateway0001", true).await;
    let (sim_a2, addr_a2) = gateway(&org_a, "gateway0002", true).await;
    let (sim_b1, addr_b1) = gateway(&org_b, "gateway0001", true).await;
    let (_a1, cred_a1) = world.agent("B11111", addr_a1).await;
    let (_a2, cred_a2) = world.agent("B11111", addr_a2).await;
    let (_b1, cred_b1) = world.agent("C22221", addr_b1).await;
    wait_until(
        "three devices are verified",
        Duration::from_secs(10),
        || {
            [&cred_a1, &cred_a2, &cred_b1]
                .iter()
                .all(|c| world.verified(&c.device_id))
        },
    )
    .await;

    // The registry knows who is logged on where, as SystmOne reported it.
    let record = world
        .registry
        .device(DeviceId::new(&cred_a2.device_id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.logged_on_user.as_deref(), Some("gateway0002"));
    assert!(record.connected);
    assert_eq!(record.health, DeviceHealth::Ready);
    assert_eq!(
        record.agent_version.as_deref(),
        Some(systmone_gateway::AGENT_VERSION)
    );

    // One patient at practice A, a patient with the same fictitious details at practice B,
    // and one at practice D, which has no Gateway PC connected.
    let patient: NhsNumber = PATIENT.parse().unwrap();
    let map = PracticeMap::new();
    map.set(patient, ods("B11111"));
    let gateways = PracticeGateways::new(world.hub.clone(), map);
    let engine = WritebackEngine::new(
        MemoryOutbox::new(),
        gateways,
        TokioWallClock::from_system_time(),
        engine_config(),
    );
    let for_a = engine.submit(note("Seen at practice A.")).await.unwrap();
    engine.run_until_settled().await.unwrap();
    assert!(matches!(
        engine.status(for_a.id).await.unwrap(),
        Some(NoteStatus::Filed { .. })
    ));

    engine.gateways().lookup().set(patient, ods("C22221"));
    let for_b = engine.submit(note("Seen at practice B.")).await.unwrap();
    engine.run_until_settled().await.unwrap();
    assert!(matches!(
        engine.status(for_b.id).await.unwrap(),
        Some(NoteStatus::Filed { .. })
    ));

    let journal_a = org_a.journal_view(&patient).unwrap();
    let journal_b = org_b.journal_view(&patient).unwrap();
    assert!(journal_a.contains("Seen at practice A."));
    assert!(!journal_a.contains("Seen at practice B."));
    assert!(journal_b.contains("Seen at practice B."));
    assert!(!journal_b.contains("Seen at practice A."));
    assert_eq!(updates(&sim_a1) + updates(&sim_a2), 1);
    assert_eq!(updates(&sim_b1), 1);

    // Practice D has no device: the note waits, queued, saying why.
    engine.gateways().lookup().set(patient, ods("D33331"));
    let for_d = engine.submit(note("Seen at practice D.")).await.unwrap();
    engine.process_due().await.unwrap();
    assert_eq!(
        engine.status(for_d.id).await.unwrap(),
        Some(NoteStatus::Queued)
    );
    let trail = engine.audit_trail(for_d.id).await.unwrap();
    let last = trail.last().unwrap();
    assert!(
        last.detail
            .contains("no Gateway PC of practice D33331 is connected"),
        "{}",
        last.detail
    );
}

/// The agent carrying a write dies after SystmOne applied it but before the answer came back:
/// the write is "outcome unknown", never resent; reconciliation through the practice's other
/// agent finds it, and it is filed exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_killed_mid_write_is_reconciled_and_filed_once() {
    let world = world().await;
    let org = practice_a();
    let (sim_1, addr_1) = gateway(&org, "gateway0001", true).await;
    let (sim_2, addr_2) = gateway(&org, "gateway0002", true).await;
    let (agent_1, cred_1) = world.agent("B11111", addr_1).await;
    let (agent_2, cred_2) = world.agent("B11111", addr_2).await;
    wait_until("both devices are verified", Duration::from_secs(10), || {
        world.verified(&cred_1.device_id) && world.verified(&cred_2.device_id)
    })
    .await;
    // Whichever gateway takes the write works on it for a second before applying it (and
    // answering): its agent dies meanwhile, and SystmOne still applies it.
    sim_1.inject_next("UpdatePatientRecord", Fault::Delay(Duration::from_secs(1)));
    sim_2.inject_next("UpdatePatientRecord", Fault::Delay(Duration::from_secs(1)));

    let patient: NhsNumber = PATIENT.parse().unwrap();
    let map = PracticeMap::new();
    map.set(patient, ods("B11111"));
    let engine = WritebackEngine::new(
        MemoryOutbox::new(),
        PracticeGateways::new(world.hub.clone(), map).with_settle_time(Duration::from_secs(2)),
        TokioWallClock::from_system_time(),
        engine_config(),
    );
    let accepted = engine.submit(note("Killed agent note.")).await.unwrap();
    let runner = {
        let engine = engine.clone();
        tokio::spawn(async move { engine.run_until_settled().await })
    };
    wait_until(
        "the write reached a gateway",
        Duration::from_secs(10),
        || updates(&sim_1) + updates(&sim_2) == 1,
    )
    .await;
    // Kill the agent in front of the gateway that has the write.
    if updates(&sim_1) == 1 {
        agent_1.abort();
    } else {
        agent_2.abort();
    }
    tokio::time::timeout(Duration::from_secs(20), runner)
        .await
        .expect("settles")
        .unwrap()
        .unwrap();

    assert!(matches!(
        engine.status(accepted.id).await.unwrap(),
        Some(NoteStatus::Filed { .. })
    ));
    let trail = engine.audit_trail(accepted.id).await.unwrap();
    assert!(
        trail.iter().any(|a| a.status == "outcome-unknown"),
        "{trail:#?}"
    );
    // Filed once, sent once.
    let journal = org.journal_view(&patient).unwrap();
    assert_eq!(
        journal.matches("Killed agent note.").count(),
        1,
        "{journal}"
    );
    assert_eq!(updates(&sim_1) + updates(&sim_2), 1);
}

/// The device's client (and its throttle) outlives the agent's session: requests right after
/// a reconnect still keep SystmOne's 1 s gap, as the simulator's request log shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_throttle_holds_per_gateway_across_the_agents_reconnect() {
    let world = world_with(systmone_client::ThrottleConfig::default(), hub_config()).await;
    let org = practice_a();
    // SystmOne's real limits: a request closer than 1 s to the last would be dropped.
    let (sim, addr) = gateway(&org, "gateway0001", false).await;
    let (config, credential) = world.enrol("B11111", addr).await;
    let agent = spawn_agent(config.clone(), credential.clone());
    wait_until("verified", Duration::from_secs(10), || {
        world.verified(&credential.device_id)
    })
    .await;
    let device = DeviceId::new(&credential.device_id).unwrap();
    let client = world.hub.client(&device).unwrap();
    client
        .call(systmone_api::get_functions::v1::Request::new())
        .await
        .unwrap();
    // The agent dies and comes back (a restart of the Gateway PC's service).
    agent.abort();
    wait_until("the session is gone", Duration::from_secs(5), || {
        world.hub.live_devices().is_empty()
    })
    .await;
    let _agent = spawn_agent(config, credential.clone());
    wait_until("verified again", Duration::from_secs(10), || {
        world.verified(&credential.device_id)
    })
    .await;
    client
        .call(systmone_api::get_functions::v1::Request::new())
        .await
        .unwrap();

    let log = sim.request_log();
    assert!(log.len() >= 4, "{log:#?}");
    assert!(log.iter().all(|r| r.answered()), "{log:#?}");
    let gap = systmone_sim::log::shortest_gap(&log, None).unwrap();
    assert!(gap >= Duration::from_millis(990), "gap {gap:?}");
}
