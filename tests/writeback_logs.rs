#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Log capture for the writeback service (issue 12): notes for known and unknown patients, a
//! surname SystmOne does not match, a write whose connection closes before an answer and one
//! whose record is in use run through the engine, the client and the simulator with every
//! log line at TRACE captured. No line, no rejection reason and no audit detail carries an NHS
//! number, a patient's name or the note's text. Alone in its own test binary because it
//! installs the global tracing subscriber.

mod common;

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use nhs_integration::systmone_client::GatewayPool;
use nhs_integration::systmone_sim::{
    Fault, GatewayConfig, Organisation, Simulator, ThrottleConfig,
};
use nhs_integration::systmone_writeback::client::PoolGateways;
use nhs_integration::systmone_writeback::{
    Author, CaseNote, EngineConfig, NoteStatus, PatientIdentity, Sex, SqliteOutbox,
    SystmOneUsername, TokioWallClock, WritebackEngine,
};

use common::client_for;

const NOTE_TEXT: &str = "Zebedee said he fell down the stairs at home";

fn note(nhs: &str, surname: &str, born: (i32, u32, u32), sex: Sex) -> CaseNote {
    let patient = PatientIdentity::new(
        nhs.parse().unwrap(),
        surname,
        NaiveDate::from_ymd_opt(born.0, born.1, born.2).unwrap(),
        sex,
    )
    .unwrap();
    let author = Author::with_username(
        "Lee Worker (Link worker)",
        SystmOneUsername::try_from("lworker0042").unwrap(),
    )
    .unwrap();
    CaseNote::new(patient, author, &format!("{NOTE_TEXT} ({nhs}).")).unwrap()
}

#[tokio::test(start_paused = true)]
async fn no_identifier_name_or_note_text_in_writeback_logs() {
    let capture = nhs_test_support::logs::LogCapture::global("trace");

    let org = Organisation::builtin_default();
    let sim = Simulator::new(
        org.clone(),
        GatewayConfig::for_user("gateway0001").with_throttle(ThrottleConfig::relaxed()),
    )
    .unwrap();
    // The first write is applied but its connection closes before the answer (outcome
    // unknown, then a journal read); the next finds the record in use.
    sim.inject_next("UpdatePatientRecord", Fault::CloseAfterApply);
    sim.inject_next("UpdatePatientRecord", Fault::RecordInUse);

    let dir = tempfile::tempdir().unwrap();
    let engine = WritebackEngine::new(
        SqliteOutbox::open(dir.path().join("outbox.sqlite")).unwrap(),
        PoolGateways::new(
            GatewayPool::builder()
                .gateway(client_for(&sim, "gateway-1"))
                .build(),
        ),
        TokioWallClock::starting_at(Utc::now()),
        EngineConfig::default(),
    );
    let unknown = nhs_integration::nhs_identifiers::NhsNumber::fictitious(4_242).expose();
    let notes = [
        note("9990001006", "Example", (1970, 5, 14), Sex::Female),
        note("9990001014", "Sample", (1985, 11, 2), Sex::Male),
        // Known number, wrong surname: SystmOne does not match it.
        note("9990001022", "Quartermaine", (1992, 1, 30), Sex::Female),
        // A number SystmOne does not hold.
        note(&unknown, "Zebedee", (2001, 2, 3), Sex::Male),
    ];
    let mut accepted = Vec::new();
    for note in notes {
        accepted.push(engine.submit(note).await.unwrap());
    }
    tokio::time::timeout(Duration::from_secs(3_600), engine.run_until_settled())
        .await
        .expect("settles")
        .unwrap();

    let mut outcomes = String::new();
    let mut statuses = Vec::new();
    for note in &accepted {
        let status = engine.status(note.id).await.unwrap().unwrap();
        statuses.push(status.name());
        if let NoteStatus::Rejected { reason } = &status {
            outcomes.push_str(reason);
            outcomes.push('\n');
        }
        for record in engine.audit_trail(note.id).await.unwrap() {
            outcomes.push_str(&record.detail);
            outcomes.push('\n');
        }
    }
    assert_eq!(statuses, ["filed", "filed", "rejected", "rejected"]);

    let logs = capture.text();
    assert!(logs.contains("note accepted"), "{logs}");
    assert!(logs.contains("note status changed"), "{logs}");
    for (what, text) in [("logs", &logs), ("rejections and audit details", &outcomes)] {
        assert!(
            !nhs_integration::nhs_identifiers::scan::contains_nhs_number(text),
            "an NHS number in the {what}: {text}"
        );
        for forbidden in [
            "Example",
            "Sample",
            "Quartermaine",
            "Zebedee",
            "stairs",
            &unknown[..6],
            "999000",
            "999 000",
        ] {
            assert!(
                !text.contains(forbidden),
                "{forbidden:?} in the {what}: {text}"
            );
        }
    }
}
