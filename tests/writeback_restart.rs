#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Cross-crate: the process is killed with notes in flight (the engine and its worker are
//! dropped without shutdown while a write is inside a gateway) and restarted on the same
//! outbox file: nothing is lost and nothing is filed twice.

mod common;

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use nhs_integration::systmone_client::GatewayPool;
use nhs_integration::systmone_sim::model::JournalItem;
use nhs_integration::systmone_sim::{
    Fault, GatewayConfig, Organisation, Simulator, ThrottleConfig,
};
use nhs_integration::systmone_writeback::client::PoolGateways;
use nhs_integration::systmone_writeback::{
    Author, CaseNote, EngineConfig, NoteStatus, PatientIdentity, Sex, SqliteOutbox,
    SystmOneUsername, TokioWallClock, WritebackEngine,
};

use common::client_for;

fn pool(a: &Simulator, b: &Simulator) -> PoolGateways {
    PoolGateways::new(
        GatewayPool::builder()
            .gateway(client_for(a, "gateway-1"))
            .gateway(client_for(b, "gateway-2"))
            .build(),
    )
}

fn note(i: u32) -> CaseNote {
    let patients = [
        ("9990001006", "Example", (1970, 5, 14), Sex::Female),
        ("9990001014", "Sample", (1985, 11, 2), Sex::Male),
        ("9990001022", "Testcase", (1992, 1, 30), Sex::Female),
    ];
    let (nhs, surname, (y, m, d), sex) = &patients[i as usize % patients.len()];
    let patient = PatientIdentity::new(
        nhs.parse().unwrap(),
        surname,
        NaiveDate::from_ymd_opt(*y, *m, *d).unwrap(),
        sex.clone(),
    )
    .unwrap();
    let author = Author::with_username(
        "Lee Worker (Link worker)",
        SystmOneUsername::try_from("lworker0042").unwrap(),
    )
    .unwrap();
    CaseNote::new(patient, author, &format!("Restart note {i}.")).unwrap()
}

fn count_in_journal(
    org: &Organisation,
    nhs: &nhs_integration::systmone_writeback::NhsNumber,
    line: &str,
) -> usize {
    org.journal(nhs)
        .iter()
        .filter(|e| e.items.iter().any(|i| matches!(i, JournalItem::Narrative { lines } if lines.iter().any(|l| l == line))))
        .count()
}

#[tokio::test(start_paused = true)]
async fn killed_with_notes_in_flight_then_restarted_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite");
    let org = Organisation::builtin_default();
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
    // Every write is applied at once but answered only after a long delay: the process is
    // killed while the first writes wait for their answers.
    for _ in 0..2 {
        a.inject_next(
            "UpdatePatientRecord",
            Fault::Delay(Duration::from_secs(600)),
        );
        b.inject_next(
            "UpdatePatientRecord",
            Fault::Delay(Duration::from_secs(600)),
        );
    }

    let mut accepted = Vec::new();
    {
        let engine = WritebackEngine::new(
            SqliteOutbox::open(&path).unwrap(),
            pool(&a, &b),
            TokioWallClock::starting_at(Utc::now()),
            EngineConfig::default().with_max_in_flight(2),
        );
        for i in 0..6 {
            let note = note(i);
            let nhs = note.patient.nhs_number;
            accepted.push((engine.submit(note).await.unwrap(), nhs));
        }
        let worker = engine.spawn_worker();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let mut filing = 0;
        for (a, _) in &accepted {
            if engine.status(a.id).await.unwrap() == Some(NoteStatus::Filing) {
                filing += 1;
            }
        }
        assert!(
            filing >= 1,
            "some notes are mid-write when the process dies"
        );
        drop(worker); // killed: no shutdown, the outbox connection and pool go with the engine
        drop(engine);
        // Let the runtime drop the aborted task (and with it the outbox connection and lock).
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    a.clear_faults();
    b.clear_faults();

    let engine = WritebackEngine::new(
        SqliteOutbox::open(&path).unwrap(),
        pool(&a, &b),
        TokioWallClock::starting_at(Utc::now()),
        EngineConfig::default().with_max_in_flight(2),
    );
    tokio::time::timeout(Duration::from_secs(3_600), engine.run_until_settled())
        .await
        .expect("settles")
        .unwrap();
    assert_eq!(
        engine.entries().await.unwrap().len(),
        accepted.len(),
        "nothing lost from the outbox"
    );
    let mut trails: Vec<Vec<String>> = Vec::new();
    for (note, _) in &accepted {
        trails.push(
            engine
                .audit_trail(note.id)
                .await
                .unwrap()
                .iter()
                .map(|r| r.kind.name().to_owned())
                .collect(),
        );
    }
    for trail in &trails {
        eprintln!("{}", trail.join(" -> "));
    }
    assert!(
        trails
            .iter()
            .any(|t| t.contains(&"recovered".to_owned())
                && t.contains(&"found-in-journal".to_owned())),
        "a write applied while the process was dead was found, not resent"
    );
    for (note, nhs) in &accepted {
        let status = engine.status(note.id).await.unwrap().unwrap();
        assert!(
            matches!(status, NoteStatus::Filed { .. }),
            "note {} is {status}",
            note.id
        );
        assert_eq!(
            count_in_journal(&org, nhs, &note.reference.line()),
            1,
            "note {} filed once",
            note.id
        );
    }
}
