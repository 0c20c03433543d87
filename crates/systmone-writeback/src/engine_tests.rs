//! The engine's state machine against the in-crate fake gateways.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use nhs_identifiers::NhsNumber;

use crate::fake::{FakeGateways, Fault};
use crate::*;

fn start() -> TokioWallClock {
    TokioWallClock::starting_at(Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap())
}

fn dob() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 5, 14).unwrap()
}

fn record(i: u32) -> RecordDemographics {
    RecordDemographics::new(
        NhsNumber::fictitious(i),
        "Example",
        Some(dob()),
        Sex::Female,
    )
}

fn gateways(patients: u32) -> Arc<FakeGateways> {
    let mut fake = FakeGateways::new();
    for i in 0..patients {
        fake = fake.with_patient(record(i));
    }
    Arc::new(fake)
}

fn jo() -> Author {
    Author::with_username(
        "Jo Bloggs (Link worker)",
        SystmOneUsername::try_from("jbloggs1234").unwrap(),
    )
    .unwrap()
}

fn note(i: u32, author: Author) -> CaseNote {
    let patient =
        PatientIdentity::new(NhsNumber::fictitious(i), "Example", dob(), Sex::Female).unwrap();
    CaseNote::new(
        patient,
        author,
        &format!("Telephone review {i}.\nAgreed weekly walking group."),
    )
    .unwrap()
}

type Engine<S> = WritebackEngine<S, Arc<FakeGateways>, TokioWallClock>;

fn engine(g: &Arc<FakeGateways>) -> Engine<MemoryOutbox> {
    WritebackEngine::new(
        MemoryOutbox::new(),
        Arc::clone(g),
        start(),
        EngineConfig::default(),
    )
}

async fn kinds(engine: &Engine<impl IntoOutbox>, id: NoteId) -> Vec<String> {
    engine
        .audit_trail(id)
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{} -> {}", r.kind.name(), r.status))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_note_is_verified_then_filed_with_the_author_as_user_name() {
    let g = gateways(3);
    let engine = engine(&g);
    let accepted = engine
        .submit(
            note(1, jo())
                .with_code(CodedEntry::new(
                    SnomedCode::try_from("871731000000106").unwrap(),
                ))
                .with_task(GpTask::new("Clinical Review Required", "Please review").unwrap()),
        )
        .await
        .unwrap();
    assert!(matches!(
        accepted.authorship,
        Authorship::SystmOneUser { .. }
    ));
    engine.run_until_settled().await.unwrap();
    let status = engine.status(accepted.id).await.unwrap().unwrap();
    assert!(matches!(status, NoteStatus::Filed { .. }), "{status}");
    let journal = g.journal();
    assert_eq!(journal.len(), 1);
    let write = &journal[0].1;
    assert_eq!(
        write.user_name.as_ref().map(SystmOneUsername::as_str),
        Some("jbloggs1234")
    );
    assert_eq!(write.done_by, None);
    assert_eq!(
        write.narrative_lines.last().unwrap(),
        &accepted.reference.line()
    );
    assert!(write.code.is_some() && write.task.is_some());
    insta::assert_debug_snapshot!(kinds(&engine, accepted.id).await, @r#"
    [
        "accepted -> queued",
        "verified -> queued",
        "write-sent -> filing",
        "filed -> filed",
    ]
    "#);
}

#[tokio::test(start_paused = true)]
async fn an_author_without_username_is_named_in_done_by_and_the_result_says_so() {
    let g = gateways(2);
    let engine = engine(&g);
    let accepted = engine
        .submit(note(1, Author::named("Sam Patel (Link worker)").unwrap()))
        .await
        .unwrap();
    assert!(
        accepted
            .authorship
            .to_string()
            .contains("no SystmOne username")
    );
    engine.run_until_settled().await.unwrap();
    let journal = g.journal();
    assert_eq!(journal[0].1.user_name, None);
    assert_eq!(
        journal[0].1.done_by.as_deref(),
        Some("Sam Patel (Link worker)")
    );
}

#[tokio::test(start_paused = true)]
async fn a_demographic_mismatch_rejects_without_writing_or_leaking() {
    let g = Arc::new(FakeGateways::new().with_patient(RecordDemographics::new(
        NhsNumber::fictitious(1),
        "Other",
        Some(dob()),
        Sex::Male,
    )));
    let engine = engine(&g);
    let accepted = engine.submit(note(1, jo())).await.unwrap();
    let unknown = engine.submit(note(2, jo())).await.unwrap();
    engine.run_until_settled().await.unwrap();
    assert_eq!(g.writes_sent(), 0);
    let NoteStatus::Rejected { reason } = engine.status(accepted.id).await.unwrap().unwrap() else {
        panic!("not rejected");
    };
    assert!(reason.contains("surname, sex"), "{reason}");
    assert!(
        !reason.contains("Example")
            && !reason.contains("Other")
            && !reason.contains(&NhsNumber::fictitious(1).expose())
    );
    let NoteStatus::Rejected { reason } = engine.status(unknown.id).await.unwrap().unwrap() else {
        panic!("not rejected");
    };
    assert!(reason.contains("no SystmOne record"), "{reason}");
}

#[tokio::test(start_paused = true)]
async fn record_in_use_is_retried_with_backoff() {
    let g = gateways(2);
    let engine = engine(&g);
    g.script(&[Fault::None, Fault::NotApplied, Fault::NotApplied]);
    let accepted = engine.submit(note(1, jo())).await.unwrap();
    let started = tokio::time::Instant::now();
    engine.run_until_settled().await.unwrap();
    // 2 s after the first failure, 4 s after the second.
    assert_eq!(started.elapsed(), Duration::from_secs(6));
    assert!(matches!(
        engine.status(accepted.id).await.unwrap().unwrap(),
        NoteStatus::Filed { .. }
    ));
    assert_eq!(g.journal().len(), 1);
    assert_eq!(
        engine.entry(accepted.id).await.unwrap().unwrap().attempts,
        3
    );
}

#[tokio::test(start_paused = true)]
async fn a_lost_response_is_found_in_the_journal_not_written_again() {
    let g = gateways(2);
    let engine = engine(&g);
    g.script(&[Fault::None, Fault::LostResponse]);
    let accepted = engine.submit(note(1, jo())).await.unwrap();
    engine.run_until_settled().await.unwrap();
    assert_eq!(g.writes_sent(), 1);
    assert_eq!(g.journal().len(), 1);
    let NoteStatus::Filed { event_uid, .. } = engine.status(accepted.id).await.unwrap().unwrap()
    else {
        panic!("not filed");
    };
    assert_eq!(event_uid, g.journal()[0].2);
    insta::assert_debug_snapshot!(kinds(&engine, accepted.id).await, @r#"
    [
        "accepted -> queued",
        "verified -> queued",
        "write-sent -> filing",
        "outcome-unknown -> outcome-unknown",
        "found-in-journal -> filed",
    ]
    "#);
}

#[tokio::test(start_paused = true)]
async fn a_write_that_did_not_apply_is_sent_again_after_the_journal_read() {
    let g = gateways(2);
    let engine = engine(&g);
    // verify ok, write closed before apply, reconciliation read fails twice, then works.
    g.script(&[
        Fault::None,
        Fault::ClosedBeforeApply,
        Fault::LostResponse,
        Fault::NotApplied,
    ]);
    let accepted = engine.submit(note(1, jo())).await.unwrap();
    engine.run_until_settled().await.unwrap();
    assert_eq!(g.writes_sent(), 2);
    assert_eq!(g.journal().len(), 1);
    assert!(matches!(
        engine.status(accepted.id).await.unwrap().unwrap(),
        NoteStatus::Filed { .. }
    ));
    insta::assert_debug_snapshot!(kinds(&engine, accepted.id).await, @r#"
    [
        "accepted -> queued",
        "verified -> queued",
        "write-sent -> filing",
        "outcome-unknown -> outcome-unknown",
        "retry-scheduled -> outcome-unknown",
        "retry-scheduled -> outcome-unknown",
        "not-in-journal -> queued",
        "write-sent -> filing",
        "filed -> filed",
    ]
    "#);
}

#[tokio::test(start_paused = true)]
async fn a_permanent_refusal_rejects_the_note() {
    let g = gateways(2);
    let engine = engine(&g);
    g.script(&[Fault::None, Fault::Permanent]);
    let accepted = engine.submit(note(1, jo())).await.unwrap();
    engine.run_until_settled().await.unwrap();
    let status = engine.status(accepted.id).await.unwrap().unwrap();
    let text = status.to_string();
    assert!(
        text.starts_with(
            "rejected (SystmOne refused the write: invalid code for patient 999 *** **"
        ),
        "{text}"
    );
    let full = NhsNumber::fictitious(1).expose();
    assert!(!text.contains(&full), "{text}");
    for record in engine.audit_trail(accepted.id).await.unwrap() {
        assert!(!record.detail.contains(&full), "{}", record.detail);
    }
    assert!(g.journal().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_killed_process_mid_write_loses_nothing_and_files_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite");
    let g = gateways(4);
    // Note 1's write applies and hangs; the worker is dropped while it waits.
    g.script(&[Fault::None, Fault::AppliedThenHang]);
    let ids = {
        let engine = WritebackEngine::new(
            SqliteOutbox::open(&path).unwrap(),
            Arc::clone(&g),
            start(),
            EngineConfig::default().with_max_in_flight(1),
        );
        let mut ids = Vec::new();
        for i in 1..4 {
            ids.push(engine.submit(note(i, jo())).await.unwrap().id);
        }
        let worker = engine.spawn_worker();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(
            engine.status(ids[0]).await.unwrap().unwrap(),
            NoteStatus::Filing
        );
        drop(worker); // killed: no shutdown
        drop(engine);
        // Let the runtime drop the aborted task (and with it the outbox connection and lock).
        tokio::time::sleep(Duration::from_millis(1)).await;
        ids
    };
    assert_eq!(g.journal().len(), 1, "the hung write was applied");
    let engine = WritebackEngine::new(
        SqliteOutbox::open(&path).unwrap(),
        Arc::clone(&g),
        start(),
        EngineConfig::default(),
    );
    engine.run_until_settled().await.unwrap();
    let journal = g.journal();
    assert_eq!(journal.len(), 3);
    for id in &ids {
        let entry = engine.entry(*id).await.unwrap().unwrap();
        assert!(
            matches!(entry.status, NoteStatus::Filed { .. }),
            "{id}: {}",
            entry.status
        );
        assert_eq!(
            journal
                .iter()
                .filter(|(_, w, _)| w.narrative_lines.contains(&entry.reference.line()))
                .count(),
            1
        );
    }
    assert!(
        kinds(&engine, ids[0])
            .await
            .contains(&"recovered -> outcome-unknown".to_owned())
    );
}

#[tokio::test(start_paused = true)]
async fn seeded_random_faults_file_every_note_exactly_once_with_its_author() {
    for seed in 1..=40u64 {
        let g = gateways(6);
        g.seeded(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let engine = WritebackEngine::new(
            MemoryOutbox::new(),
            Arc::clone(&g),
            start(),
            EngineConfig::default().with_max_in_flight(3),
        );
        let mut accepted = Vec::new();
        for i in 0..12u32 {
            let author = if i.is_multiple_of(3) {
                Author::named("Sam Patel (Link worker)").unwrap()
            } else {
                jo()
            };
            accepted.push(engine.submit(note(i % 6, author)).await.unwrap());
        }
        engine.run_until_settled().await.unwrap();
        let journal = g.journal();
        assert_eq!(journal.len(), accepted.len(), "seed {seed}");
        for a in &accepted {
            let matching: Vec<_> = journal
                .iter()
                .filter(|(_, w, _)| w.narrative_lines.contains(&a.reference.line()))
                .collect();
            assert_eq!(matching.len(), 1, "seed {seed} note {}", a.id);
            let write = &matching[0].1;
            match &a.authorship {
                Authorship::SystmOneUser { username } => {
                    assert_eq!(write.user_name.as_ref(), Some(username))
                }
                Authorship::DoneByText { name } => assert_eq!(write.done_by.as_ref(), Some(name)),
            }
            assert!(matches!(
                engine.status(a.id).await.unwrap().unwrap(),
                NoteStatus::Filed { .. }
            ));
        }
    }
}

#[test]
fn the_journal_write_shape_is_stable() {
    let note = note(1, Author::named("Sam Patel (Link worker)").unwrap())
        .with_code(
            CodedEntry::new(SnomedCode::try_from("871731000000106").unwrap())
                .with_free_text("Walking group")
                .unwrap(),
        )
        .with_task(
            GpTask::new("Clinical Review Required", "Please review")
                .unwrap()
                .assigned_to(SystmOneUsername::try_from("drgp0001").unwrap()),
        )
        .done_at("Community hub")
        .unwrap()
        .method("Telephone")
        .unwrap();
    insta::assert_debug_snapshot!(JournalWrite::for_note(
        &note,
        &NoteReference::new("0badc0de", 1)
    ));
}

#[tokio::test(start_paused = true)]
async fn the_background_worker_files_submitted_notes_and_shuts_down() {
    let g = gateways(3);
    let engine = engine(&g);
    let worker = engine.spawn_worker();
    let first = engine.submit(note(1, jo())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(matches!(
        engine.status(first.id).await.unwrap().unwrap(),
        NoteStatus::Filed { .. }
    ));
    g.script(&[Fault::None, Fault::NotApplied]);
    let second = engine.submit(note(2, jo())).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(matches!(
        engine.status(second.id).await.unwrap().unwrap(),
        NoteStatus::Filed { .. }
    ));
    worker.shutdown().await;
    let third = engine.submit(note(1, jo())).await.unwrap();
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(
        engine.status(third.id).await.unwrap().unwrap(),
        NoteStatus::Queued,
        "nothing runs after shutdown"
    );
    assert_eq!(g.journal().len(), 2);
}

fn with_task(note: CaseNote) -> CaseNote {
    note.with_task(GpTask::new("Clinical Review Required", "Please review").unwrap())
}

#[tokio::test(start_paused = true)]
async fn a_note_found_by_reconciliation_gets_the_task_uid_from_its_open_task() {
    let g = gateways(2);
    let engine = engine(&g);
    // The write applies but its answer is lost; another note's task is open for the patient.
    g.script(&[Fault::None, Fault::None, Fault::None, Fault::LostResponse]);
    let other = engine.submit(with_task(note(1, jo()))).await.unwrap();
    engine.run_until_settled().await.unwrap();
    let accepted = engine.submit(with_task(note(1, jo()))).await.unwrap();
    engine.run_until_settled().await.unwrap();
    assert_eq!(g.writes_sent(), 2);
    let journal = g.journal();
    let task = journal[1].1.task.as_ref().unwrap();
    assert_eq!(
        task.content,
        format!("Please review\n{}", accepted.reference.line()),
        "the task carries the note's reference"
    );
    let expected_task = crate::fake::task_uid_for(&journal[1].2);
    assert_eq!(
        engine.status(accepted.id).await.unwrap().unwrap(),
        NoteStatus::Filed {
            event_uid: journal[1].2.clone(),
            task_uid: Some(expected_task.clone()),
        }
    );
    let NoteStatus::Filed { task_uid, .. } = engine.status(other.id).await.unwrap().unwrap() else {
        panic!("not filed");
    };
    assert_ne!(task_uid, Some(expected_task.clone()));
    let trail = engine.audit_trail(accepted.id).await.unwrap();
    let found = trail.last().unwrap();
    assert_eq!(found.kind, AuditKind::FoundInJournal);
    assert!(
        found.detail.contains(&format!("TaskUID {expected_task}")),
        "{}",
        found.detail
    );
}

#[tokio::test(start_paused = true)]
async fn a_task_completed_before_reconciliation_is_recorded_as_filed_with_uid_unknown() {
    let g = gateways(2);
    let engine = engine(&g);
    g.script(&[Fault::None, Fault::LostResponse]);
    let accepted = engine.submit(with_task(note(1, jo()))).await.unwrap();
    engine.process_due().await.unwrap();
    // The practice completes the task before the journal is read: it is no longer listed.
    g.complete_tasks();
    engine.run_until_settled().await.unwrap();
    assert_eq!(g.writes_sent(), 1);
    let NoteStatus::Filed { task_uid, .. } = engine.status(accepted.id).await.unwrap().unwrap()
    else {
        panic!("not filed");
    };
    assert_eq!(task_uid, None);
    let found = engine
        .audit_trail(accepted.id)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(found.kind, AuditKind::FoundInJournal);
    assert!(
        found.detail.contains("task filed, TaskUID unknown"),
        "{}",
        found.detail
    );
}

#[tokio::test(start_paused = true)]
async fn a_note_without_a_task_says_nothing_about_tasks() {
    let g = gateways(2);
    let engine = engine(&g);
    g.script(&[Fault::None, Fault::LostResponse]);
    let accepted = engine.submit(note(1, jo())).await.unwrap();
    engine.run_until_settled().await.unwrap();
    let found = engine
        .audit_trail(accepted.id)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(found.kind, AuditKind::FoundInJournal);
    assert!(!found.detail.contains("task"), "{}", found.detail);
}

/// A `MemoryOutbox` with test hooks: `accept_waits_for` makes `accept` wait (on a std channel,
/// like a slow fsync) until another tokio task has sent on it; `due_calls` counts the passes
/// over the outbox; `blocks_on_io` is what the store tells the engine.
struct InstrumentedStore {
    inner: MemoryOutbox,
    accept_waits_for: Option<std::sync::mpsc::Receiver<()>>,
    due_calls: Arc<std::sync::atomic::AtomicUsize>,
    blocks_on_io: bool,
}

impl InstrumentedStore {
    fn new(blocks_on_io: bool) -> Self {
        Self {
            inner: MemoryOutbox::new(),
            accept_waits_for: None,
            due_calls: Arc::default(),
            blocks_on_io,
        }
    }
}

impl OutboxStore for InstrumentedStore {
    fn accept(
        &mut self,
        note: &CaseNote,
        now: chrono::DateTime<Utc>,
    ) -> Result<OutboxEntry, WritebackError> {
        if let Some(go) = &self.accept_waits_for {
            go.recv_timeout(Duration::from_secs(10))
                .map_err(|_| WritebackError::Storage("the runtime was blocked".into()))?;
        }
        self.inner.accept(note, now)
    }
    fn record(
        &mut self,
        id: NoteId,
        transition: &crate::outbox::Transition,
        now: chrono::DateTime<Utc>,
    ) -> Result<(), WritebackError> {
        self.inner.record(id, transition, now)
    }
    fn get(&self, id: NoteId) -> Result<Option<OutboxEntry>, WritebackError> {
        self.inner.get(id)
    }
    fn due(
        &self,
        now: chrono::DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, WritebackError> {
        self.due_calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.due(now, limit)
    }
    fn next_due(&self) -> Result<Option<chrono::DateTime<Utc>>, WritebackError> {
        self.inner.next_due()
    }
    fn entries(&self) -> Result<Vec<OutboxEntry>, WritebackError> {
        self.inner.entries()
    }
    fn audit_trail(&self, id: NoteId) -> Result<Vec<AuditRecord>, WritebackError> {
        self.inner.audit_trail(id)
    }
    fn blocks_on_io(&self) -> bool {
        self.blocks_on_io
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_blocking_store_does_not_stall_the_runtime_thread() {
    let g = gateways(2);
    let (go, wait) = std::sync::mpsc::channel();
    // Blocks like a disk-backed store: `accept` waits for another task of this runtime.
    let mut store = InstrumentedStore::new(true);
    store.accept_waits_for = Some(wait);
    let engine = WritebackEngine::new(store, Arc::clone(&g), start(), EngineConfig::default());
    let other_task = tokio::spawn(async move {
        go.send(()).unwrap();
    });
    let accepted = engine.submit(note(1, jo())).await.unwrap();
    other_task.await.unwrap();
    assert_eq!(
        engine.status(accepted.id).await.unwrap().unwrap(),
        NoteStatus::Queued
    );
}

async fn sqlite_flow_files_every_note_once() {
    let dir = tempfile::tempdir().unwrap();
    let g = gateways(4);
    g.script(&[
        Fault::None,
        Fault::LostResponse,
        Fault::None,
        Fault::NotApplied,
    ]);
    let store = SqliteOutbox::open(dir.path().join("outbox.sqlite")).unwrap();
    let engine = WritebackEngine::new(store, Arc::clone(&g), start(), EngineConfig::default());
    let mut accepted = Vec::new();
    for i in 0..4 {
        accepted.push(engine.submit(with_task(note(i, jo()))).await.unwrap());
    }
    engine.run_until_settled().await.unwrap();
    assert_eq!(g.journal().len(), 4, "each note filed once");
    for note in &accepted {
        let NoteStatus::Filed { task_uid, .. } = engine.status(note.id).await.unwrap().unwrap()
        else {
            panic!("not filed");
        };
        assert!(task_uid.is_some(), "every task UID known or recovered");
    }
}

#[tokio::test(start_paused = true)]
async fn a_sqlite_store_works_on_the_current_thread_runtime_with_paused_time() {
    sqlite_flow_files_every_note_once().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_store_works_on_the_multi_thread_runtime() {
    sqlite_flow_files_every_note_once().await;
}

#[tokio::test(start_paused = true)]
async fn a_pass_cut_short_by_a_timeout_leaves_the_note_to_this_engine_to_reconcile() {
    let g = gateways(2);
    let engine = engine(&g);
    // Verified, then the write applies and its answer never comes.
    g.script(&[Fault::None, Fault::AppliedThenHang]);
    let accepted = engine.submit(note(1, jo())).await.unwrap();
    let cut_short = tokio::time::timeout(Duration::from_secs(10), engine.run_until_settled()).await;
    assert!(cut_short.is_err(), "the hung write holds the pass");
    // Let the runtime drop the aborted step.
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(
        engine.status(accepted.id).await.unwrap().unwrap(),
        NoteStatus::Filing
    );
    // The same engine works on the note again: it reads the journal, it does not resend.
    assert_eq!(
        engine.process_due().await.unwrap(),
        1,
        "the note is not stuck"
    );
    let status = engine.status(accepted.id).await.unwrap().unwrap();
    assert!(matches!(status, NoteStatus::Filed { .. }), "{status}");
    assert_eq!(g.writes_sent(), 1);
    assert_eq!(g.journal().len(), 1);
    assert!(
        kinds(&engine, accepted.id)
            .await
            .contains(&"found-in-journal -> filed".to_owned())
    );
}

// Real time: a spinning loop would show as thousands of passes while the worker's read waits.
#[tokio::test(flavor = "current_thread")]
async fn waiting_for_notes_the_worker_holds_does_not_spin() {
    let g = gateways(2);
    // Counts the passes over the outbox (`due` calls); answers from memory, inline.
    let store = InstrumentedStore::new(false);
    let due_calls = Arc::clone(&store.due_calls);
    let engine = WritebackEngine::new(
        store,
        Arc::clone(&g),
        TokioWallClock::from_system_time(),
        EngineConfig::default(),
    );
    let worker = engine.spawn_worker();
    // The worker's demographics read takes a while; the note stays due meanwhile.
    g.script(&[Fault::Slow]);
    let accepted = engine.submit(note(1, jo())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let before = due_calls.load(std::sync::atomic::Ordering::Relaxed);
    tokio::time::timeout(Duration::from_secs(10), engine.run_until_settled())
        .await
        .expect("settles once the worker has filed the note")
        .unwrap();
    let passes = due_calls.load(std::sync::atomic::Ordering::Relaxed) - before;
    assert!(passes < 20, "{passes} passes while waiting for the worker");
    assert!(matches!(
        engine.status(accepted.id).await.unwrap().unwrap(),
        NoteStatus::Filed { .. }
    ));
    assert_eq!(g.writes_sent(), 1);
    worker.shutdown().await;
}
