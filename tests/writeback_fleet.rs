#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Cross-crate, on the real PostgreSQL (`NHSI_TEST_POSTGRES_URL`; each seed in its own schema):
//! three writeback engines, each with its own connection pool (as separate processes would
//! have), share one `PostgresOutbox` and three simulated Gateway PCs with seeded random faults;
//! gateways are owned through leases (`FleetGateways`). One engine is killed mid-run (its pool
//! closed first, so it releases nothing: its claims and gateway leases must expire). Of N notes
//! accepted, exactly N are in the journal, each once, each with the right author; every
//! gateway's request log shows one driver at a time and no two requests closer than 1 s.
//!
//! tokio's paused time: the engines and the leases share one injected clock
//! (`LeaseClock::Caller`). Paused time jumps to the next timer whenever every task waits, also
//! while they wait for the database, which would make a round trip last minutes; a ticker task
//! keeps the runtime busy and moves the clock 1 ms per turn instead, so a round trip costs
//! milliseconds of virtual time and timers still fire in order. `WRITEBACK_FLEET_SEEDS=20`
//! runs a longer soak.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use nhs_integration::systmone_sim::model::JournalItem;
use nhs_integration::systmone_sim::{
    FaultProbabilities, GatewayConfig, Organisation, Simulator, ThrottleConfig,
};
use nhs_integration::systmone_writeback::{
    Accepted, Author, Authorship, CaseNote, EngineConfig, FleetConfig, FleetGateways, LeaseClock,
    NhsNumber, NoteStatus, PatientIdentity, PostgresConfig, PostgresOutbox, RetryPolicy, Sex,
    SystmOneUsername, TokioWallClock, WorkerId, WritebackEngine,
};

use common::client_for;

type Patient = (&'static str, &'static str, (i32, u32, u32), Sex);

const PATIENTS: [Patient; 5] = [
    ("9990001006", "Example", (1970, 5, 14), Sex::Female),
    ("9990001014", "Sample", (1985, 11, 2), Sex::Male),
    ("9990001022", "Testcase", (1992, 1, 30), Sex::Female),
    ("9990001030", "Example", (2001, 7, 9), Sex::Male),
    ("9990001049", "Fictional", (1958, 3, 21), Sex::Indeterminate),
];

fn note(i: usize) -> CaseNote {
    let (nhs, surname, (y, m, d), sex) = &PATIENTS[i % PATIENTS.len()];
    let patient = PatientIdentity::new(
        nhs.parse().unwrap(),
        surname,
        NaiveDate::from_ymd_opt(*y, *m, *d).unwrap(),
        sex.clone(),
    )
    .unwrap();
    let author = if i.is_multiple_of(2) {
        Author::with_username(
            "Lee Worker (Link worker)",
            SystmOneUsername::try_from("lworker0042").unwrap(),
        )
        .unwrap()
    } else {
        Author::named("Sam Patel (Link worker, Example Social Prescribing)").unwrap()
    };
    CaseNote::new(patient, author, &format!("Fleet note {i}.")).unwrap()
}

const GATEWAYS: [&str; 3] = ["gateway-1", "gateway-2", "gateway-3"];

type Engine = WritebackEngine<PostgresOutbox, Arc<FleetGateways>, TokioWallClock>;

async fn worker(
    url: &str,
    name: &str,
    sims: &[Simulator],
    clock: &TokioWallClock,
) -> (Engine, PostgresOutbox, Arc<FleetGateways>) {
    let outbox = PostgresOutbox::connect(
        url,
        PostgresConfig::default()
            .with_lease_clock(LeaseClock::Caller)
            .with_pool_size(3),
    )
    .await
    .unwrap();
    let worker = WorkerId::new(name).unwrap();
    let sims = sims.to_vec();
    let fleet = Arc::new(FleetGateways::new(
        outbox.clone(),
        worker.clone(),
        FleetConfig::new(Duration::from_secs(30), Duration::from_secs(10), 2),
        GATEWAYS.iter().map(|g| (*g).to_owned()).collect(),
        Box::new(move |gateway: &str| {
            let index = GATEWAYS.iter().position(|g| *g == gateway).unwrap_or(0);
            Ok(client_for(&sims[index], gateway))
        }),
        Arc::new(clock.clone()),
    ));
    let engine = WritebackEngine::new(
        outbox.clone(),
        Arc::clone(&fleet),
        clock.clone(),
        EngineConfig::default()
            .with_worker(worker)
            .with_lease(Duration::from_secs(60))
            .with_max_in_flight(2)
            .with_retry(RetryPolicy::new(
                Duration::from_secs(1),
                Duration::from_secs(30),
                Duration::from_secs(2),
            )),
    );
    (engine, outbox, fleet)
}

fn events_with(
    org: &Organisation,
    nhs: &NhsNumber,
    line: &str,
) -> Vec<(String, String, Option<String>)> {
    org.journal(nhs)
        .into_iter()
        .filter(|event| {
            event.items.iter().any(
                |item| matches!(item, JournalItem::Narrative { lines } if lines.iter().any(|l| l == line)),
            )
        })
        .map(|event| (event.author, event.entered_by, event.done_by_text))
        .collect()
}

async fn run_seed(base: &str, seed: u64, notes: usize) -> (usize, usize) {
    let url = nhs_test_support::fresh_postgres_schema(base, &format!("wb_fleet_{seed}")).await;
    let org = Organisation::builtin_default();
    let sims: Vec<Simulator> = (1..=3)
        .map(|i| {
            Simulator::new(
                org.clone(),
                // The built-in organisation has two Gateway users; two PCs may log on as one.
                GatewayConfig::for_user(if i == 2 { "gateway0002" } else { "gateway0001" })
                    .with_throttle(ThrottleConfig::relaxed()),
            )
            .unwrap()
        })
        .collect();
    let mut faults = FaultProbabilities::none();
    faults.no_response = 0.03;
    faults.close_before_apply = 0.04;
    faults.close_after_apply = 0.06;
    faults.record_in_use = 0.06;
    faults.delay = 0.03;
    faults.delay_by = Duration::from_secs(8);
    for (i, sim) in sims.iter().enumerate() {
        sim.set_random_faults(faults.clone(), seed.wrapping_mul(97).wrapping_add(i as u64));
    }
    let ticker = tokio::spawn(async {
        loop {
            tokio::time::advance(Duration::from_millis(1)).await;
            tokio::task::yield_now().await;
        }
    });
    let clock = TokioWallClock::starting_at(Utc::now());
    let mut workers = Vec::new();
    for w in 0..3 {
        workers.push(worker(&url, &format!("worker-{w}"), &sims, &clock).await);
    }
    // Notes arrive through every engine.
    let mut accepted: Vec<(Accepted, NhsNumber)> = Vec::new();
    for i in 0..notes {
        let note = note(i + seed as usize);
        let nhs = note.patient.nhs_number;
        let engine = &workers[i % 3].0;
        accepted.push((engine.submit(note).await.unwrap(), nhs));
    }
    let mut runs = Vec::new();
    for (engine, _, _) in &workers {
        let engine = engine.clone();
        runs.push(tokio::spawn(
            async move { engine.run_until_settled().await },
        ));
    }
    // Kill worker 0 a few (virtual) seconds in, once some note is mid-write: its pool first (so
    // nothing it had is released), then its task, then its SystmOne connections.
    tokio::time::sleep(Duration::from_millis(1_500 + (seed % 7) * 700)).await;
    let mut filing_at_kill = 0;
    for _ in 0..300 {
        filing_at_kill = 0;
        for entry in workers[1].0.entries().await.unwrap() {
            if entry.status == NoteStatus::Filing {
                filing_at_kill += 1;
            }
        }
        if filing_at_kill > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, killed_outbox, killed_fleet) = &workers[0];
    killed_outbox.close();
    runs[0].abort();
    killed_fleet.shutdown().await;

    for run in runs.drain(1..) {
        tokio::time::timeout(Duration::from_secs(3_600), run)
            .await
            .unwrap_or_else(|_| panic!("seed {seed}: not settled within an hour of virtual time"))
            .unwrap()
            .unwrap();
    }

    let survivor = &workers[1].0;
    let mut taken_over = 0;
    for (receipt, nhs) in &accepted {
        let status = survivor.status(receipt.id).await.unwrap().unwrap();
        let trail = survivor.audit_trail(receipt.id).await.unwrap();
        let kinds: Vec<&str> = trail.iter().map(|r| r.kind.name()).collect();
        assert!(
            matches!(status, NoteStatus::Filed { .. }),
            "seed {seed}: note {} is {status}: {kinds:?}",
            receipt.id
        );
        if kinds.contains(&"recovered") {
            taken_over += 1;
        }
        let events = events_with(&org, nhs, &receipt.reference.line());
        assert_eq!(
            events.len(),
            1,
            "seed {seed}: note {} is in the journal {} times: {kinds:?}",
            receipt.id,
            events.len()
        );
        let (author, entered_by, done_by) = &events[0];
        assert!(entered_by.starts_with("gateway000"), "seed {seed}");
        match &receipt.authorship {
            Authorship::SystmOneUser { username } => {
                assert_eq!(author, username.as_str(), "seed {seed}")
            }
            Authorship::DoneByText { name } => {
                assert_eq!(author, entered_by, "seed {seed}");
                assert_eq!(done_by.as_deref(), Some(name.as_str()), "seed {seed}");
            }
            other => panic!("unexpected authorship {other:?}"),
        }
    }
    for (index, sim) in sims.iter().enumerate() {
        let log = sim.request_log();
        for pair in log.windows(2) {
            let gap = pair[1].arrival.duration_since(pair[0].arrival);
            assert!(
                gap >= Duration::from_secs(1),
                "seed {seed}: gateway {} got requests {} and {} only {gap:?} apart",
                index + 1,
                pair[0].sequence,
                pair[1].sequence
            );
            if pair[1].connection < pair[0].connection {
                for r in &log {
                    eprintln!(
                        "{} {:?} connection {} {:?} {:?}",
                        r.sequence, r.arrival, r.connection, r.function, r.outcome
                    );
                }
            }
            assert!(
                pair[1].connection >= pair[0].connection,
                "seed {seed}: gateway {} was driven over two connections at once",
                index + 1
            );
        }
    }
    for (_, _, fleet) in &workers[1..] {
        fleet.shutdown().await;
    }
    ticker.abort();
    (filing_at_kill, taken_over)
}

#[tokio::test(start_paused = true)]
async fn a_fleet_with_a_killed_worker_files_every_note_exactly_once() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let Some(base) = nhs_test_support::postgres_url() else {
        return;
    };
    let seeds: u64 = std::env::var("WRITEBACK_FLEET_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    let mut mid_write = 0;
    let mut taken_over = 0;
    for seed in 1..=seeds {
        let (filing, recovered) = run_seed(&base, seed, 12).await;
        mid_write += filing;
        taken_over += recovered;
    }
    eprintln!(
        "notes mid-write at a kill: {mid_write}; notes recovered by another worker: {taken_over}"
    );
    assert!(
        mid_write > 0 || seeds < 2,
        "no seed killed a worker mid-write"
    );
}
