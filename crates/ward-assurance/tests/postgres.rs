#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The PostgreSQL state (each test in its own schema, through `nhs_test_support`): a restart
//! forgets nothing, and two engines with separate connection pools on one database, receiving
//! concurrent deliveries of the same and of different audits, complete each task once and
//! answer a redelivery with the first `taskId`. Without `NHSI_TEST_POSTGRES_URL` these say they
//! were skipped (an error under `CI`).
#![cfg(feature = "postgres")]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Barrier};

use common::*;
use ward_assurance::postgres::{PostgresState, PostgresTaskStore};
use ward_assurance::*;

const SECRET: &[u8] = b"pg-secret";
const REQUEST: &[u8] = include_bytes!("fixtures/design/sync_request.json");
const WEBHOOK: &[u8] = include_bytes!("fixtures/design/webhook.json");

fn design_endpoint(state: &PostgresState) -> SyncEndpoint<PostgresTaskStore> {
    let file = TaskFile::from_json(include_bytes!("../examples-data/tasks.json")).unwrap();
    let access = StaffWardAccess::from_table(file.ward_access.as_ref().unwrap());
    let engine = SyncEngine::new(
        state.task_store(),
        access,
        state.sync_log(),
        MemoryAdminAlerts::new(),
    );
    let auth = Authenticator::with_replay_cache(
        AuthConfig::default().with_hmac_secret(HmacSecret::new("dashboard", SECRET)),
        state.replay_cache(),
    );
    SyncEndpoint::new(auth, engine)
}

fn signed(body: &[u8], ts: i64) -> (String, String) {
    (ts.to_string(), HmacSecret::new("x", SECRET).sign(ts, body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_on_the_same_database_forgets_nothing() {
    let Some(base) = nhs_test_support::postgres_url() else {
        return;
    };
    let url = nhs_test_support::fresh_postgres_schema(&base, "wa_restart").await;
    let file = TaskFile::from_json(include_bytes!("../examples-data/tasks.json")).unwrap();
    let now = at("2026-01-27T08:15:01Z");
    let (ts, sig) = signed(REQUEST, now.timestamp());
    let first = {
        let state = PostgresState::connect(&url).await.unwrap();
        state.task_store().insert_all(&file.tasks).await.unwrap();
        let mut endpoint = design_endpoint(&state);
        let (ts, sig) = (ts.clone(), sig.clone());
        let response = tokio::task::spawn_blocking(move || {
            endpoint.handle(&Credentials::new(None, Some(&sig), Some(&ts)), REQUEST, now)
        })
        .await
        .unwrap();
        assert_eq!(response.task_id.unwrap().as_str(), "wt123");
        state.task_store().tasks().await.unwrap()
    };
    // "Restarted": a new pool, the task file loaded again.
    let state = PostgresState::connect(&url).await.unwrap();
    assert_eq!(state.task_store().insert_all(&file.tasks).await.unwrap(), 0);
    assert_eq!(state.task_store().tasks().await.unwrap(), first);
    let mut endpoint = design_endpoint(&state);
    let later = at("2026-01-27T08:16:00Z");
    let (replay, again) = tokio::task::spawn_blocking(move || {
        let replay = endpoint.handle(
            &Credentials::new(None, Some(&sig), Some(&ts)),
            REQUEST,
            later,
        );
        let (ts2, sig2) = signed(WEBHOOK, later.timestamp());
        let again = endpoint.handle(
            &Credentials::new(None, Some(&sig2), Some(&ts2)),
            WEBHOOK,
            later,
        );
        (replay, again)
    })
    .await
    .unwrap();
    assert_eq!(replay.error, Some("REPLAYED_SIGNATURE"));
    assert_eq!(again.task_id.unwrap().as_str(), "wt123");
    assert_eq!(again.synced_at, Some(now));
    assert!(again.already_synced);
    assert_eq!(state.task_store().tasks().await.unwrap(), first);
    let log = state.sync_log();
    let outcomes: Vec<_> = tokio::task::spawn_blocking(move || {
        log.list(&SyncLogQuery::default())
            .unwrap()
            .iter()
            .map(|e| e.outcome)
            .collect()
    })
    .await
    .unwrap();
    assert_eq!(outcomes, ["SYNCED", "REPLAYED_SIGNATURE", "ALREADY_SYNCED"]);
}

/// The design's "Task already complete → Return success" row in PostgreSQL: with the default
/// reading a second audit for a completed task (completed by the first audit, or by hand in
/// the fixture) answers `ALREADY_COMPLETE` with that task and changes nothing; configured
/// with the other reading, `NO_MATCHING_TASK`; a cancelled task is `NO_MATCHING_TASK` in both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_task_answers_as_configured() {
    let Some(base) = nhs_test_support::postgres_url() else {
        return;
    };
    let url = nhs_test_support::fresh_postgres_schema(&base, "wa_already").await;
    let state = PostgresState::connect(&url).await.unwrap();
    state
        .task_store()
        .insert_all(&fixture_tasks())
        .await
        .unwrap();
    let engine = |reading| {
        SyncEngine::new(
            state.task_store(),
            fixture_access(),
            state.sync_log(),
            MemoryAdminAlerts::new(),
        )
        .with_config(SyncConfig::default().with_already_complete(reading))
    };
    let mut succeed = engine(AlreadyComplete::Succeed);
    let mut literal = engine(AlreadyComplete::NoMatchingTask);
    let store = state.task_store();
    let now = at("2026-11-01T00:00:00Z");
    let handle = tokio::runtime::Handle::current();
    let outcomes = tokio::task::spawn_blocking(move || {
        let tasks = || handle.block_on(store.tasks()).unwrap();
        let first = request(
            "fridge_temps",
            "Ward 7",
            "2026-06-15T09:00:00+01:00",
            "AUD-1",
            "S1",
        );
        assert_eq!(succeed.sync(&first, now, None).unwrap().code(), "SYNCED");
        let before = tasks();
        let second = request(
            "fridge_temps",
            "Ward 7",
            "2026-06-15T10:00:00+01:00",
            "AUD-2",
            "S1",
        );
        let by_hand = request(
            "controlled_drugs",
            "Ward 7",
            "2026-06-15T09:00:00+01:00",
            "AUD-3",
            "S1",
        );
        let cancelled = request(
            "resus_check",
            "Ward 7",
            "2026-06-15T09:00:00+01:00",
            "AUD-4",
            "S1",
        );
        let mut outcomes = Vec::new();
        for engine in [&mut succeed, &mut literal] {
            for req in [&second, &by_hand, &cancelled] {
                let outcome = engine.sync(req, now, None).unwrap();
                let response = SyncResponse::from_outcome(&outcome);
                outcomes.push((outcome.code(), response.task_id.map(|t| t.to_string())));
                assert_eq!(tasks(), before, "{outcome:?} changed a task");
            }
        }
        // The second audit completed nothing, so nothing records it against a task.
        assert!(
            store
                .task_completed_by(&AuditId::new("AUD-2").unwrap())
                .unwrap()
                .is_none()
        );
        outcomes
    })
    .await
    .unwrap();
    let some = |id: &str| Some(id.to_owned());
    assert_eq!(
        outcomes,
        [
            ("ALREADY_COMPLETE", some("T-FRIDGE-7-0615")),
            ("ALREADY_COMPLETE", some("T-CD-7-0615")),
            ("NO_MATCHING_TASK", None),
            ("NO_MATCHING_TASK", None),
            ("NO_MATCHING_TASK", None),
            ("NO_MATCHING_TASK", None),
        ]
    );
    let log = state.sync_log();
    let logged: Vec<_> = tokio::task::spawn_blocking(move || {
        log.list(&SyncLogQuery::default())
            .unwrap()
            .iter()
            .map(|e| (e.outcome, e.task_id.as_ref().map(ToString::to_string)))
            .collect()
    })
    .await
    .unwrap();
    assert_eq!(logged.len(), 7);
    assert_eq!(logged[1], ("ALREADY_COMPLETE", some("T-FRIDGE-7-0615")));
}

/// Twelve pending fridge tasks for one ward and day (duplicates, as a hub may hold), twelve
/// audits each delivered to both engines at once (the same audit at both, different audits
/// racing for the same first pending task). Four rounds, each in a fresh schema (a race
/// between the audit-id check and the pending-task read showed in about one round in six).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_on_one_database_complete_each_task_once() {
    let Some(base) = nhs_test_support::postgres_url() else {
        return;
    };
    for _ in 0..4 {
        race_round(&base).await;
    }
}

async fn race_round(base: &str) {
    let url = nhs_test_support::fresh_postgres_schema(base, "wa_two_engines").await;
    const N: usize = 12;
    let tasks: Vec<WardTask> = (0..N)
        .map(|i| {
            task(
                &format!("T-{i:02}"),
                AuditType::FridgeTemperatures,
                "Ward 7",
                "2026-06-15",
            )
        })
        .collect();
    let a = PostgresState::connect(&url).await.unwrap();
    let b = PostgresState::connect(&url).await.unwrap();
    a.task_store().insert_all(&tasks).await.unwrap();
    let barrier = Arc::new(Barrier::new(2));
    let run = |state: PostgresState, reverse: bool| {
        let barrier = Arc::clone(&barrier);
        tokio::task::spawn_blocking(move || {
            let mut engine = SyncEngine::new(
                state.task_store(),
                TrustDashboardWardAccess,
                MemoryAuditLog::new(),
                MemoryAdminAlerts::new(),
            );
            let mut order: Vec<usize> = (0..N).collect();
            if reverse {
                order.rotate_left(N / 2);
            }
            barrier.wait();
            let mut answers = BTreeMap::new();
            for i in order {
                let req = request(
                    "fridge_temps",
                    "Ward 7",
                    "2026-06-15T09:00:00+01:00",
                    &format!("AUD-{i}"),
                    "S1",
                );
                let outcome = engine.sync(&req, at("2026-06-15T12:00:00Z"), None).unwrap();
                answers.insert(i, SyncResponse::from_outcome(&outcome));
            }
            answers
        })
    };
    let (from_a, from_b) = tokio::join!(run(a.clone(), false), run(b, true));
    let (from_a, from_b) = (from_a.unwrap(), from_b.unwrap());
    let mut completed = BTreeSet::new();
    for i in 0..N {
        let (x, y) = (&from_a[&i], &from_b[&i]);
        assert!(x.success && y.success, "audit {i}: {x:?} {y:?}");
        assert_eq!(x.task_id, y.task_id, "audit {i} got two tasks");
        assert_ne!(
            x.already_synced, y.already_synced,
            "audit {i}: exactly one completed it"
        );
        assert!(
            completed.insert(x.task_id.clone().unwrap()),
            "a task was completed twice"
        );
    }
    assert_eq!(completed.len(), N);
    let stored = a.task_store().tasks().await.unwrap();
    let audits: BTreeSet<_> = stored
        .iter()
        .map(|t| {
            assert_eq!(t.status, TaskStatus::Completed);
            t.completion.as_ref().unwrap().audit_id.to_string()
        })
        .collect();
    assert_eq!(audits.len(), N, "each task holds a different audit");
}

/// Two endpoint "processes" (separate pools, separate HTTP servers) behind one database
/// receive the design's request at the same moment: both answer success with the same
/// `taskId`, the task is completed once, and the shared sync log holds one `SYNCED`.
#[cfg(feature = "http")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivery_to_the_other_process_answers_the_first_task() {
    use common::client::request as http;
    use ward_assurance::http::{router, serve, shared};

    let Some(base) = nhs_test_support::postgres_url() else {
        return;
    };
    let url = nhs_test_support::fresh_postgres_schema(&base, "wa_two_servers").await;
    let file = TaskFile::from_json(include_bytes!("../examples-data/tasks.json")).unwrap();
    let mut addrs = Vec::new();
    let mut states = Vec::new();
    for _ in 0..2 {
        let state = PostgresState::connect(&url).await.unwrap();
        state.task_store().insert_all(&file.tasks).await.unwrap();
        let access = StaffWardAccess::from_table(file.ward_access.as_ref().unwrap());
        let engine = SyncEngine::new(
            state.task_store(),
            access,
            state.sync_log(),
            MemoryAdminAlerts::new(),
        );
        let auth = Authenticator::with_replay_cache(
            AuthConfig::default().with_api_key(ApiKey::new("pa", "k")),
            state.replay_cache(),
        );
        let clock = ManualClock::new(at("2026-01-27T08:15:01Z"));
        let app = router(
            shared(SyncEndpoint::new(auth, engine)),
            std::sync::Arc::new(clock),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        addrs.push(listener.local_addr().unwrap());
        tokio::spawn(serve(listener, app));
        states.push(state);
    }
    let post = |addr| async move {
        http(
            addr,
            "POST",
            "/api/assurance/sync",
            Some("application/json"),
            &[("X-Api-Key", "k".to_owned())],
            REQUEST,
        )
        .await
    };
    let (one, two) = tokio::join!(post(addrs[0]), post(addrs[1]));
    assert_eq!(
        (one.status, two.status),
        (200, 200),
        "{} {}",
        one.body,
        two.body
    );
    assert_eq!(one.body, two.body);
    assert_eq!(one.json()["taskId"], serde_json::json!("wt123"));
    let log = states[0].sync_log();
    let mut outcomes: Vec<_> = tokio::task::spawn_blocking(move || {
        log.list(&SyncLogQuery::default())
            .unwrap()
            .iter()
            .map(|e| e.outcome)
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    outcomes.sort_unstable();
    assert_eq!(outcomes, ["ALREADY_SYNCED", "SYNCED"]);
}
