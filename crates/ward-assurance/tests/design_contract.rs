#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The integration design's contract, through the running HTTP endpoint: its request body and
//! the dashboard's webhook (copied unchanged into `tests/fixtures/design/`) against the
//! example's task file, answered with the design's response bodies byte for byte; the ward
//! access table; the audit-type table; 415 for a body that is not JSON.
#![cfg(feature = "http")]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::client::{Reply, request};
use common::*;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use ward_assurance::http::{SharedEndpoint, lock, router, serve, shared};
use ward_assurance::*;

const KEY: &str = "design-key";
const REQUEST: &[u8] = include_bytes!("fixtures/design/sync_request.json");
const WEBHOOK: &[u8] = include_bytes!("fixtures/design/webhook.json");
const SUCCESS: &[u8] = include_bytes!("fixtures/design/response_success.json");
const NO_MATCH: &[u8] = include_bytes!("fixtures/design/response_no_match.json");

struct Server {
    addr: SocketAddr,
    endpoint: SharedEndpoint<InMemoryTaskStore>,
    alerts: MemoryAdminAlerts,
    log: MemoryAuditLog,
}

/// The example's own task file and ward-access table, the clock at the design's `syncedAt`.
async fn start() -> Server {
    start_at("2026-01-27T08:15:01Z").await
}

/// The same, the clock at `now`.
async fn start_at(now: &str) -> Server {
    start_with(now, AlreadyComplete::default(), |_| {}).await
}

/// The same, with a reading of "Task already complete" and the task file edited by `edit`.
async fn start_with(
    now: &str,
    reading: AlreadyComplete,
    edit: impl FnOnce(&mut Vec<WardTask>),
) -> Server {
    let mut file = TaskFile::from_json(include_bytes!("../examples-data/tasks.json")).unwrap();
    edit(&mut file.tasks);
    let access = StaffWardAccess::from_table(file.ward_access.as_ref().unwrap());
    let alerts = MemoryAdminAlerts::new();
    let log = MemoryAuditLog::new();
    let store = InMemoryTaskStore::from_tasks(file.tasks).unwrap();
    let engine = SyncEngine::new(store, access, log.clone(), alerts.clone())
        .with_config(SyncConfig::default().with_already_complete(reading));
    let auth = Authenticator::new(AuthConfig::default().with_api_key(ApiKey::new("pa", KEY)));
    let endpoint = shared(SyncEndpoint::new(auth, engine));
    let clock = ManualClock::new(at(now));
    let app = router(Arc::clone(&endpoint), Arc::new(clock));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, app));
    Server {
        addr,
        endpoint,
        alerts,
        log,
    }
}

impl Server {
    async fn post(&self, body: &[u8]) -> Reply {
        request(
            self.addr,
            "POST",
            "/api/assurance/sync",
            Some("application/json"),
            &[("X-Api-Key", KEY.to_owned())],
            body,
        )
        .await
    }

    fn task(&self, id: &str) -> WardTask {
        lock(&self.endpoint)
            .engine()
            .store()
            .get(&TaskId::new(id).unwrap())
            .cloned()
            .unwrap()
    }
}

/// The design's JSON, compacted with its keys in the design's order.
fn compact(design: &[u8]) -> String {
    // serde_json's Value sorts keys; keep the document's order by re-serialising the text's
    // tokens instead.
    let text = std::str::from_utf8(design).unwrap();
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[tokio::test]
async fn the_designs_request_gets_the_designs_success_body() {
    let server = start().await;
    let reply = server.post(REQUEST).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.head.contains("content-type: application/json"));
    assert_eq!(reply.body, compact(SUCCESS));
    let task = server.task("wt123");
    assert_eq!(task.status, TaskStatus::Completed);
    let completion = task.completion.unwrap();
    assert_eq!(completion.completed_by.name, "Sarah Johnson");
    assert_eq!(completion.values["currentTemp"], json!(4.2));

    // The dashboard's webhook for the same audit (redelivered through the in-process
    // transform): the same answer, nothing changes.
    let before = server.task("wt123");
    let reply = server.post(WEBHOOK).await;
    assert_eq!((reply.status, reply.body.clone()), (200, compact(SUCCESS)));
    assert_eq!(server.task("wt123"), before);

    // Another audit of the same type, ward and shift window: the design's table, "Task
    // already complete → Return success (idempotent)" (the default reading); see
    // `a_second_audit_for_a_completed_task_*` below.
    let reply = server.post(&other_audit()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(server.task("wt123"), before);
    let outcomes: Vec<_> = server.log.entries().iter().map(|e| e.outcome).collect();
    assert_eq!(outcomes, ["SYNCED", "ALREADY_SYNCED", "ALREADY_COMPLETE"]);
}

/// The design's request as a different audit (`audit-12346`) 26 seconds later, same window.
fn other_audit() -> Vec<u8> {
    String::from_utf8(REQUEST.to_vec())
        .unwrap()
        .replace("audit-12345", "audit-12346")
        .replace("08:14:32Z", "08:14:58Z")
        .into_bytes()
}

#[tokio::test]
async fn a_second_audit_for_a_completed_task_succeeds_without_changing_it() {
    let server = start_with("2026-01-27T09:00:00Z", AlreadyComplete::Succeed, |_| {}).await;
    let first = server.post(REQUEST).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let before = server.task("wt123");
    for _ in 0..2 {
        // The second audit, and its redelivery: the same answer each time.
        let reply = server.post(&other_audit()).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            reply.json(),
            json!({
                "success": true,
                "taskId": "wt123",
                "message": "Task already complete",
                "syncedAt": "2026-01-27T09:00:00Z",
            })
        );
        // Key order as the design's success body.
        assert!(
            reply
                .body
                .starts_with(r#"{"success":true,"taskId":"wt123","message""#)
        );
        // Not completed twice: the first audit's completion stays.
        assert_eq!(server.task("wt123"), before);
    }
    let completion = before.completion.unwrap();
    assert_eq!(completion.audit_id.as_str(), "audit-12345");
    // The second audit completed nothing, so it is not recorded against the task.
    let engine_store = lock(&server.endpoint);
    assert!(
        engine_store
            .engine()
            .store()
            .task_completed_by(&AuditId::new("audit-12346").unwrap())
            .unwrap()
            .is_none()
    );
    drop(engine_store);
    let entries = server.log.entries();
    let outcomes: Vec<_> = entries.iter().map(|e| e.outcome).collect();
    assert_eq!(outcomes, ["SYNCED", "ALREADY_COMPLETE", "ALREADY_COMPLETE"]);
    assert_eq!(entries[1].task_id.as_ref().unwrap().as_str(), "wt123");
    assert_eq!(
        entries[1].audit_id.as_ref().unwrap().as_str(),
        "audit-12346"
    );
    assert!(server.alerts.alerts().is_empty());
}

#[tokio::test]
async fn a_second_audit_for_a_completed_task_is_no_match_when_so_configured() {
    let server = start_with(
        "2026-01-27T09:00:00Z",
        AlreadyComplete::NoMatchingTask,
        |_| {},
    )
    .await;
    assert_eq!(server.post(REQUEST).await.status, 200);
    let before = server.task("wt123");
    // The design's no-match body, byte for byte (its findMatchingTask skips completed tasks).
    let reply = server.post(&other_audit()).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.body, compact(NO_MATCH));
    assert_eq!(server.task("wt123"), before);
    let outcomes: Vec<_> = server.log.entries().iter().map(|e| e.outcome).collect();
    assert_eq!(outcomes, ["SYNCED", "NO_MATCHING_TASK"]);
}

#[tokio::test]
async fn a_cancelled_task_is_not_complete_under_either_reading() {
    for reading in [AlreadyComplete::Succeed, AlreadyComplete::NoMatchingTask] {
        let server = start_with("2026-01-27T09:00:00Z", reading, |tasks| {
            for task in tasks.iter_mut().filter(|t| t.id.as_str() == "wt123") {
                *task = task.clone().with_status(TaskStatus::Cancelled);
            }
        })
        .await;
        let before = server.task("wt123");
        let reply = server.post(REQUEST).await;
        assert_eq!(reply.status, 404, "{reading:?}: {}", reply.body);
        assert_eq!(reply.body, compact(NO_MATCH));
        assert_eq!(server.task("wt123"), before);
    }
}

/// A real clock has a fraction of a second (the example's keeps milliseconds): the body still
/// gives `syncedAt` in the design's shape, whole seconds, on the first delivery and on a
/// redelivery.
#[tokio::test]
async fn synced_at_has_the_designs_shape_whatever_the_clocks_precision() {
    let server = start_at("2026-01-27T08:15:01.319Z").await;
    for body in [REQUEST, WEBHOOK] {
        let reply = server.post(body).await;
        assert_eq!((reply.status, reply.body.clone()), (200, compact(SUCCESS)));
    }
    // The task keeps the precise time.
    let completion = server.task("wt123").completion.unwrap();
    assert_eq!(completion.synced_at, at("2026-01-27T08:15:01.319Z"));
}

#[tokio::test]
async fn the_dashboards_webhook_completes_the_task_directly() {
    let server = start().await;
    let reply = server.post(WEBHOOK).await;
    assert_eq!((reply.status, reply.body.clone()), (200, compact(SUCCESS)));
    let completion = server.task("wt123").completion.unwrap();
    assert_eq!(
        completion.completed_by.staff_id.unwrap().as_str(),
        "NHS123456"
    );
    assert_eq!(
        completion.dashboard_url.as_deref(),
        Some("https://focus.../assurance-dashboard/audits/12345")
    );
}

#[tokio::test]
async fn the_same_person_on_another_ward_is_refused_and_an_admin_alerted() {
    let server = start().await;
    for body in [REQUEST, WEBHOOK] {
        let keats = String::from_utf8(body.to_vec())
            .unwrap()
            .replace("\"Byron\"", "\"Keats\"");
        let before = server.task("wt200");
        let reply = server.post(keats.as_bytes()).await;
        assert_eq!(reply.status, 403, "{}", reply.body);
        let json = reply.json();
        assert_eq!(json["success"], json!(false));
        assert_eq!(json["error"], json!("WARD_ACCESS_DENIED"));
        let message = json["message"].as_str().unwrap();
        assert!(
            message.contains("no access to the audit's ward"),
            "{message}"
        );
        for received in ["Sarah", "Keats", "NHS123456", "sarah.johnson"] {
            assert!(!reply.body.contains(received), "{}", reply.body);
        }
        assert_eq!(server.task("wt200"), before);
    }
    let alerts = server.alerts.alerts();
    assert_eq!(alerts.len(), 2);
    assert!(alerts.iter().all(|a| a.code() == "WARD_ACCESS_DENIED"));
    for alert in &alerts {
        let line = alert.log_line();
        assert!(
            !line.contains("Keats") && !line.contains("NHS123456"),
            "{line}"
        );
    }
}

#[test]
fn ward_access_keys_staff_id_then_email_then_name() {
    let byron = ward("Byron");
    let keats = ward("Keats");
    let mut access = StaffWardAccess::new();
    access.grant_key("NHS123456", keats.clone());
    access.grant_key("sarah.johnson@nhs.net", byron.clone());
    access.grant_key("Sarah Johnson", byron.clone());
    let full = StaffMember::new(
        "Sarah Johnson",
        Some("sarah.johnson@nhs.net"),
        Some("NHS123456"),
    )
    .unwrap();
    // The staff id's entry decides: Keats only.
    assert!(access.may_complete(&full, &keats));
    assert!(!access.may_complete(&full, &byron));
    // Without a staff id, the e-mail's entry; with only a name, the name's.
    let no_id = StaffMember::new("Someone Else", Some("SARAH.JOHNSON@nhs.net"), None).unwrap();
    assert!(access.may_complete(&no_id, &byron));
    let name_only = StaffMember::new("sarah  johnson", None, None).unwrap();
    assert!(access.may_complete(&name_only, &byron));
    assert!(!access.may_complete(&name_only, &keats));
    let stranger = StaffMember::new("Alex Example", None, Some("S9")).unwrap();
    assert!(!access.may_complete(&stranger, &byron));
}

#[tokio::test]
async fn audit_types_are_served_as_the_designs_table() {
    let server = start().await;
    let reply = request(
        server.addr,
        "GET",
        "/api/assurance/audit-types",
        None,
        &[],
        b"",
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!([
            {"code": "fridge_temps", "label": "Fridge Temperature", "cadence": "daily", "shift": "early"},
            {"code": "water_temps", "label": "Water Temperature", "cadence": "daily", "shift": "late"},
            {"code": "walkaround", "label": "Shift Walkaround", "cadence": "eachShiftChange", "shift": null},
            {"code": "controlled_drugs", "label": "Controlled Drugs", "cadence": "daily", "shift": "early"},
            {"code": "resus_check", "label": "Resus Equipment", "cadence": "daily", "shift": "early"},
            {"code": "fire_safety", "label": "Fire Safety", "cadence": "weekly", "shift": null},
            {"code": "ligature_check", "label": "Ligature Points", "cadence": "daily", "shift": "night"}
        ])
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415_and_logged() {
    let server = start().await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let reply = request(
            server.addr,
            "POST",
            "/api/assurance/sync",
            content_type,
            &[("X-Api-Key", KEY.to_owned())],
            REQUEST,
        )
        .await;
        assert_eq!(reply.status, 415, "{content_type:?}");
        let json: Value = reply.json();
        assert_eq!(json["error"], json!("UNSUPPORTED_MEDIA_TYPE"));
        assert_eq!(json["success"], json!(false));
    }
    assert_eq!(server.task("wt123").status, TaskStatus::Pending);
    let reply = request(
        server.addr,
        "POST",
        "/api/assurance/sync",
        Some("Application/JSON; charset=utf-8"),
        &[("X-Api-Key", KEY.to_owned())],
        REQUEST,
    )
    .await;
    assert_eq!(reply.status, 200);
    let outcomes: Vec<_> = server.log.entries().iter().map(|e| e.outcome).collect();
    assert_eq!(
        outcomes,
        [
            "UNSUPPORTED_MEDIA_TYPE",
            "UNSUPPORTED_MEDIA_TYPE",
            "UNSUPPORTED_MEDIA_TYPE",
            "SYNCED"
        ]
    );
}
