#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Cross-crate: the writeback engine over the real `systmone-client` pool against two simulated
//! Gateway PCs (in-memory transport, tokio paused time) under a seeded random fault schedule
//! and a killed gateway. Of N notes accepted, exactly N are in the journal, each once, each
//! with the right author.

mod common;

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use nhs_integration::systmone_client::GatewayPool;
use nhs_integration::systmone_sim::{
    FaultProbabilities, GatewayConfig, Organisation, Simulator, ThrottleConfig,
};
use nhs_integration::systmone_writeback::client::PoolGateways;
use nhs_integration::systmone_writeback::{
    Accepted, Author, Authorship, CaseNote, CodedEntry, EngineConfig, GpTask, MemoryOutbox,
    NhsNumber, NoteStatus, PatientIdentity, RetryPolicy, Sex, SnomedCode, SystmOneUsername,
    TokioWallClock, WritebackEngine,
};

use common::client_for;

/// The built-in organisation's patients: NHS number, surname, date of birth, sex.
/// NHS number, surname, date of birth (y, m, d), sex.
type Patient = (&'static str, &'static str, (i32, u32, u32), Sex);

const PATIENTS: [Patient; 5] = [
    ("9990001006", "Example", (1970, 5, 14), Sex::Female),
    ("9990001014", "Sample", (1985, 11, 2), Sex::Male),
    ("9990001022", "Testcase", (1992, 1, 30), Sex::Female),
    ("9990001030", "Example", (2001, 7, 9), Sex::Male),
    ("9990001049", "Fictional", (1958, 3, 21), Sex::Indeterminate),
];

fn patient(i: usize) -> PatientIdentity {
    let (nhs, surname, (y, m, d), sex) = &PATIENTS[i % PATIENTS.len()];
    PatientIdentity::new(
        nhs.parse().unwrap(),
        surname,
        NaiveDate::from_ymd_opt(*y, *m, *d).unwrap(),
        sex.clone(),
    )
    .unwrap()
}

fn author(i: usize) -> Author {
    match i % 3 {
        0 => Author::with_username(
            "Lee Worker (Link worker)",
            SystmOneUsername::try_from("lworker0042").unwrap(),
        )
        .unwrap(),
        1 => Author::named("Sam Patel (Link worker, Example Social Prescribing)").unwrap(),
        _ => Author::with_username(
            "Ann Smith (Practice nurse)",
            SystmOneUsername::try_from("asmith5678").unwrap(),
        )
        .unwrap(),
    }
}

fn note(i: usize) -> CaseNote {
    let mut note = CaseNote::new(
        patient(i),
        author(i),
        &format!("Case note {i}: telephone review.\nAgreed next steps."),
    )
    .unwrap();
    if i.is_multiple_of(2) {
        note = note
            .with_code(CodedEntry::new(
                SnomedCode::try_from("871731000000106").unwrap(),
            ))
            .with_task(GpTask::new("Clinical Review Required", "Please review").unwrap());
    }
    note
}

fn gateways(org: &Organisation) -> (Simulator, Simulator) {
    let a = Simulator::new(
        org.clone(),
        GatewayConfig::for_user("gateway0001").with_throttle(ThrottleConfig::relaxed()),
    )
    .unwrap();
    let b = Simulator::new(
        org.clone(),
        GatewayConfig::for_user("gateway0002").with_throttle(ThrottleConfig::relaxed()),
    )
    .unwrap();
    (a, b)
}

fn pool(a: &Simulator, b: &Simulator) -> PoolGateways {
    PoolGateways::new(
        GatewayPool::builder()
            .gateway(client_for(a, "gateway-1"))
            .gateway(client_for(b, "gateway-2"))
            .build(),
    )
}

/// Checks every accepted note is filed and in the journal exactly once with the right author.
fn assert_filed_once(
    org: &Organisation,
    accepted: &[(Accepted, NhsNumber)],
    statuses: &[NoteStatus],
    context: &str,
) {
    for ((accepted, nhs), status) in accepted.iter().zip(statuses) {
        assert!(
            matches!(status, NoteStatus::Filed { .. }),
            "{context}: note {} is {status}",
            accepted.id
        );
        let line = accepted.reference.line();
        let events: Vec<_> = org
            .journal(nhs)
            .into_iter()
            .filter(|event| {
                event.items.iter().any(|item| {
                    matches!(item, nhs_integration::systmone_sim::model::JournalItem::Narrative { lines } if lines.contains(&line))
                })
            })
            .collect();
        assert_eq!(
            events.len(),
            1,
            "{context}: note {} is in the journal {} times",
            accepted.id,
            events.len()
        );
        let event = &events[0];
        assert!(
            event.entered_by.starts_with("gateway000"),
            "{context}: entered by {}",
            event.entered_by
        );
        match &accepted.authorship {
            Authorship::SystmOneUser { username } => {
                assert_eq!(event.author, username.as_str(), "{context}")
            }
            Authorship::DoneByText { name } => {
                assert_eq!(event.author, event.entered_by, "{context}");
                assert_eq!(
                    event.done_by_text.as_deref(),
                    Some(name.as_str()),
                    "{context}"
                );
            }
            other => panic!("unexpected authorship {other:?}"),
        }
        if let NoteStatus::Filed { event_uid, .. } = status {
            assert_eq!(event.event_uid, event_uid.as_str(), "{context}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn seeded_faults_and_a_killed_gateway_file_every_note_exactly_once() {
    const NOTES: usize = 10;
    let mut seen: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    // WRITEBACK_SEEDS=200 cargo test --test writeback_faults runs a longer soak.
    let seeds: u64 = std::env::var("WRITEBACK_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    for seed in 1..=seeds {
        let org = Organisation::builtin_default();
        let (a, b) = gateways(&org);
        let mut faults = FaultProbabilities::none();
        faults.no_response = 0.04;
        faults.close_before_apply = 0.05;
        faults.close_after_apply = 0.08;
        faults.record_in_use = 0.08;
        // Answered only after the client's 5 s timeout: applied late, after the caller gave up.
        faults.delay = 0.03;
        faults.delay_by = Duration::from_secs(8);
        a.set_random_faults(faults.clone(), seed);
        b.set_random_faults(faults, seed.wrapping_mul(31).wrapping_add(7));
        let engine = WritebackEngine::new(
            MemoryOutbox::new(),
            pool(&a, &b),
            TokioWallClock::starting_at(Utc::now()),
            EngineConfig::default()
                .with_max_in_flight(2)
                .with_retry(RetryPolicy::new(
                    Duration::from_secs(1),
                    Duration::from_secs(30),
                    Duration::from_secs(2),
                )),
        );
        let mut accepted = Vec::new();
        for i in 0..NOTES {
            let note = note(i + seed as usize);
            let nhs = note.patient.nhs_number;
            accepted.push((engine.submit(note).await.unwrap(), nhs));
        }
        // Gateway 2 dies a few (virtual) seconds in, and comes back later for some seeds.
        let killer = {
            let b = b.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(2_500 + seed * 300)).await;
                b.kill();
                if seed % 2 == 0 {
                    tokio::time::sleep(Duration::from_secs(20)).await;
                    b.revive();
                }
            })
        };
        let settled =
            tokio::time::timeout(Duration::from_secs(3_600), engine.run_until_settled()).await;
        if settled.is_err() {
            for (note, _) in &accepted {
                let trail: Vec<String> = engine
                    .audit_trail(note.id)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| format!("{}: {}", r.kind.name(), r.detail))
                    .collect();
                eprintln!("seed {seed} note {}: {:#?}", note.id, trail);
            }
            panic!("seed {seed} did not settle within an hour of virtual time");
        }
        settled.unwrap().unwrap();
        killer.abort();
        let mut statuses = Vec::new();
        for (a, _) in &accepted {
            statuses.push(engine.status(a.id).await.unwrap().unwrap());
        }
        assert_filed_once(&org, &accepted, &statuses, &format!("seed {seed}"));
        for (note, _) in &accepted {
            for record in engine.audit_trail(note.id).await.unwrap() {
                *seen.entry(record.kind.name().to_owned()).or_default() += 1;
            }
        }
        for record in a.request_log().into_iter().chain(b.request_log()) {
            if let Some(fault) = record.fault {
                *seen.entry(format!("fault {}", fault.name())).or_default() += 1;
            }
        }
        engine.gateways().pool().shutdown().await;
    }
    eprintln!("events over all seeds: {seen:?}");
    // The schedule really exercised every path.
    for kind in [
        "outcome-unknown",
        "found-in-journal",
        "not-in-journal",
        "retry-scheduled",
        "fault close-after-apply",
        "fault close-before-apply",
        "fault record-in-use",
        "fault no-response",
        "fault delay",
    ] {
        assert!(
            seen.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} in any seed: {seen:?}"
        );
    }
}
