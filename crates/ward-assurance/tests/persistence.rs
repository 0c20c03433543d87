#![allow(clippy::unwrap_used, clippy::expect_used)]
//! State that survives a restart (SQLite): complete, stop, start on the same file, redeliver:
//! the same `taskId` and `syncedAt`, nothing changed, and a replayed HMAC signature is still
//! refused. Plus the sync-log monitoring endpoint over the persisted log.
#![cfg(all(feature = "sqlite", feature = "http"))]

mod common;

use std::path::Path;
use std::sync::Arc;

use common::client::request as http;
use common::*;
use serde_json::json;
use tokio::net::TcpListener;
use ward_assurance::http::{HttpTimeouts, router_with, serve, shared};
use ward_assurance::sqlite::{SqliteState, SqliteTaskStore};
use ward_assurance::*;

const SECRET: &[u8] = b"persisted-secret";
const KEY: &str = "persisted-key";
const REQUEST: &[u8] = include_bytes!("fixtures/design/sync_request.json");
const WEBHOOK: &[u8] = include_bytes!("fixtures/design/webhook.json");

fn endpoint(
    path: &Path,
    alerts: MemoryAdminAlerts,
) -> (SyncEndpoint<SqliteTaskStore>, SqliteState) {
    endpoint_with(path, alerts, SyncConfig::default())
}

fn endpoint_with(
    path: &Path,
    alerts: MemoryAdminAlerts,
    config: SyncConfig,
) -> (SyncEndpoint<SqliteTaskStore>, SqliteState) {
    let file = TaskFile::from_json(include_bytes!("../examples-data/tasks.json")).unwrap();
    let state = SqliteState::open(path).unwrap();
    let store = state.task_store();
    store.insert_all(&file.tasks).unwrap();
    let access = StaffWardAccess::from_table(file.ward_access.as_ref().unwrap());
    let engine = SyncEngine::new(store, access, state.sync_log(), alerts).with_config(config);
    let auth = Authenticator::with_replay_cache(
        AuthConfig::default()
            .with_api_key(ApiKey::new("pa", KEY))
            .with_hmac_secret(HmacSecret::new("dashboard", SECRET)),
        state.replay_cache(),
    );
    (SyncEndpoint::new(auth, engine), state)
}

fn signed(body: &[u8], ts: i64) -> (String, String) {
    (ts.to_string(), HmacSecret::new("x", SECRET).sign(ts, body))
}

#[test]
fn a_restart_on_the_same_file_forgets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("assurance.db");
    let now = at("2026-01-27T08:15:01Z");
    let (ts, sig) = signed(REQUEST, now.timestamp());
    let first_tasks;
    {
        let (mut endpoint, state) = endpoint(&path, MemoryAdminAlerts::new());
        let response =
            endpoint.handle(&Credentials::new(None, Some(&sig), Some(&ts)), REQUEST, now);
        assert_eq!(response.task_id.as_ref().map(TaskId::as_str), Some("wt123"));
        assert!(!response.already_synced);
        first_tasks = state.task_store().tasks().unwrap();
        let done = first_tasks
            .iter()
            .find(|t| t.id.as_str() == "wt123")
            .unwrap();
        assert_eq!(done.status, TaskStatus::Completed);
    }
    // Restarted: the task file is read again, nothing in it overrides the database.
    let later = at("2026-01-27T08:16:00Z");
    let (mut endpoint, state) = endpoint(&path, MemoryAdminAlerts::new());
    assert_eq!(
        state
            .task_store()
            .insert_all(
                &TaskFile::from_json(include_bytes!("../examples-data/tasks.json"))
                    .unwrap()
                    .tasks
            )
            .unwrap(),
        0
    );
    assert_eq!(state.task_store().tasks().unwrap(), first_tasks);
    // The same signed request replayed: still refused, nothing changes.
    let replay = endpoint.handle(
        &Credentials::new(None, Some(&sig), Some(&ts)),
        REQUEST,
        later,
    );
    assert_eq!(replay.error, Some("REPLAYED_SIGNATURE"));
    // Redelivered, freshly signed, as the webhook this time: the first taskId and syncedAt.
    let (ts2, sig2) = signed(WEBHOOK, later.timestamp());
    let again = endpoint.handle(
        &Credentials::new(None, Some(&sig2), Some(&ts2)),
        WEBHOOK,
        later,
    );
    assert_eq!(
        serde_json::to_value(&again).unwrap(),
        json!({"success": true, "taskId": "wt123", "message": "Task marked complete", "syncedAt": "2026-01-27T08:15:01Z"})
    );
    assert!(again.already_synced);
    assert_eq!(state.task_store().tasks().unwrap(), first_tasks);
    // A different audit finds the task already complete: success with its id (the design's
    // "Task already complete → Return success", the default), nothing changes, and the audit
    // is not recorded against the task (it completed nothing).
    let other = String::from_utf8(REQUEST.to_vec())
        .unwrap()
        .replace("audit-12345", "audit-2");
    let done = endpoint.handle(
        &Credentials::new(Some(KEY), None, None),
        other.as_bytes(),
        later,
    );
    assert_eq!(
        serde_json::to_value(&done).unwrap(),
        json!({"success": true, "taskId": "wt123", "message": "Task already complete", "syncedAt": "2026-01-27T08:16:00Z"})
    );
    assert_eq!(state.task_store().tasks().unwrap(), first_tasks);
    assert!(
        state
            .task_store()
            .task_completed_by(&AuditId::new("audit-2").unwrap())
            .unwrap()
            .is_none()
    );
    // The sync log survived too.
    let outcomes: Vec<_> = state
        .sync_log()
        .list(&SyncLogQuery::default())
        .unwrap()
        .iter()
        .map(|e| e.outcome)
        .collect();
    assert_eq!(
        outcomes,
        [
            "SYNCED",
            "REPLAYED_SIGNATURE",
            "ALREADY_SYNCED",
            "ALREADY_COMPLETE"
        ]
    );
    let last = state
        .sync_log()
        .list(&SyncLogQuery::default())
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(last.task_id.unwrap().as_str(), "wt123");
    // Configured with the other reading (findMatchingTask skips completed tasks): 404.
    drop(endpoint);
    let config = SyncConfig::default().with_already_complete(AlreadyComplete::NoMatchingTask);
    let (mut endpoint, state) = endpoint_with(&path, MemoryAdminAlerts::new(), config);
    let none = endpoint.handle(
        &Credentials::new(Some(KEY), None, None),
        other.as_bytes(),
        later,
    );
    assert_eq!(none.error, Some("NO_MATCHING_TASK"));
    assert_eq!(state.task_store().tasks().unwrap(), first_tasks);
}

#[test]
fn the_sqlite_store_matches_like_the_memory_store() {
    for reading in [AlreadyComplete::Succeed, AlreadyComplete::NoMatchingTask] {
        sqlite_matches_memory(reading);
    }
}

fn sqlite_matches_memory(reading: AlreadyComplete) {
    // Every case of the fixture through both stores gives the same outcome and task, under
    // either reading of "Task already complete".
    let config = SyncConfig::default().with_already_complete(reading);
    let state = SqliteState::in_memory().unwrap();
    let store = state.task_store();
    store.insert_all(&fixture_tasks()).unwrap();
    let mut sqlite = SyncEngine::new(
        store,
        fixture_access(),
        MemoryAuditLog::new(),
        MemoryAdminAlerts::new(),
    )
    .with_config(config.clone());
    let mut memory = fixture(config).engine;
    let cases = [
        ("fridge_temps", "Ward 7", "2026-06-15T09:00:00+01:00"),
        ("ligature_check", "Ward 7", "2026-03-28T02:10:00Z"),
        ("ligature_check", "Ward 7", "2026-10-25T01:30:00Z"),
        ("walkaround", "Ward 7", "2026-06-16T14:45:00+01:00"),
        ("walkaround", "Ward 7", "2026-06-16T14:45:00+01:00"),
        // Both shifts now done: ALREADY_COMPLETE (the early one) or NO_MATCHING_TASK.
        ("walkaround", "Ward 7", "2026-06-16T14:45:00+01:00"),
        ("walkaround", "Ward 8", "2026-06-17T03:00:00+01:00"),
        ("fridge_temps", "Ward 7", "2026-06-15T16:00:00+01:00"),
        // Completed in the fixture: ALREADY_COMPLETE or NO_MATCHING_TASK.
        ("controlled_drugs", "Ward 7", "2026-06-15T09:00:00+01:00"),
        // Cancelled: NO_MATCHING_TASK under both readings.
        ("resus_check", "Ward 7", "2026-06-15T09:00:00+01:00"),
    ];
    let mut codes = Vec::new();
    let now = at("2026-11-01T00:00:00Z");
    for (i, (t, w, when)) in cases.into_iter().enumerate() {
        let req = request(t, w, when, &format!("AUD-{i}"), "S1");
        let a = sqlite.sync(&req, now, None).unwrap();
        let b = memory.sync(&req, now, None).unwrap();
        assert_eq!(a, b, "{t} {w} {when}");
        codes.push(a.code());
        // Redelivery through SQLite: the same task.
        let again = sqlite.sync(&req, now, None).unwrap();
        if a.code() == "SYNCED" {
            assert_eq!(again.code(), "ALREADY_SYNCED");
        } else {
            assert_eq!(again, a, "{t} {w} {when}");
        }
    }
    let miss = match reading {
        AlreadyComplete::Succeed => "ALREADY_COMPLETE",
        _ => "NO_MATCHING_TASK",
    };
    assert_eq!(
        [codes[5], codes[7], codes[8], codes[9]],
        [miss, "NO_MATCHING_TASK", miss, "NO_MATCHING_TASK"]
    );
    assert_eq!(sqlite.store().tasks().unwrap(), memory.store().tasks());
}

#[tokio::test]
async fn the_sync_log_endpoint_lists_ids_and_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let (endpoint, state) = endpoint(&dir.path().join("log.db"), MemoryAdminAlerts::new());
    let clock = ManualClock::new(at("2026-01-27T08:15:01Z"));
    let reader: Arc<dyn SyncLogReader> = Arc::new(state.sync_log());
    let app = router_with(
        shared(endpoint),
        Arc::new(clock),
        HttpTimeouts::default(),
        Some(reader),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, app));
    let key = || vec![("X-Api-Key", KEY.to_owned())];
    let keats = String::from_utf8(REQUEST.to_vec())
        .unwrap()
        .replace("\"Byron\"", "\"Keats\"");
    for body in [REQUEST, REQUEST, keats.as_bytes()] {
        http(
            addr,
            "POST",
            "/api/assurance/sync",
            Some("application/json"),
            &key(),
            body,
        )
        .await;
    }
    let get = |q: &'static str, headers: Vec<(&'static str, String)>| async move {
        http(
            addr,
            "GET",
            &format!("/api/assurance/sync-log{q}"),
            None,
            &headers,
            b"",
        )
        .await
    };
    let reply = get("?ward=byron&since=2026-01-27", key()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json = reply.json();
    let entries = json["entries"].as_array().unwrap();
    let outcomes: Vec<_> = entries
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["SYNCED", "ALREADY_SYNCED"]);
    assert_eq!(entries[0]["taskId"], json!("wt123"));
    assert_eq!(entries[0]["auditId"], json!("audit-12345"));
    assert!(!reply.body.contains("Sarah"), "{}", reply.body);
    // All wards, and a later `since`.
    assert_eq!(
        get("", key()).await.json()["entries"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        get("?since=2026-01-28T00:00:00Z", key()).await.json()["entries"],
        json!([])
    );
    // Authenticated; bad parameters are 422 without echoing them.
    let reply = get("?ward=Byron", vec![]).await;
    assert_eq!(
        (reply.status, reply.json()["error"].clone()),
        (401, json!("UNAUTHENTICATED"))
    );
    let reply = get("?since=Sarah%20Johnson", key()).await;
    assert_eq!(reply.status, 422);
    assert!(!reply.body.contains("Sarah"), "{}", reply.body);
    let reply = get("?limit=0", key()).await;
    assert_eq!(reply.status, 422);
    // Each refusal is in the audit log (code and caller; not the value received).
    let log = state.sync_log().list(&SyncLogQuery::default()).unwrap();
    let refusals: Vec<_> = log[3..]
        .iter()
        .map(|e| (e.outcome, e.caller.as_deref()))
        .collect();
    assert_eq!(
        refusals,
        [
            ("UNAUTHENTICATED", None),
            ("INVALID_FIELD", Some("apiKey:pa")),
            ("INVALID_FIELD", Some("apiKey:pa")),
        ]
    );
    assert!(!serde_json::to_string(&log).unwrap().contains("Sarah"));
}
