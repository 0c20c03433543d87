#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The HTTP endpoint over a real loopback socket: every rejection is a clear 4xx JSON error
//! and leaves the store unchanged.
#![cfg(feature = "http")]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::*;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use ward_assurance::http::{SharedEndpoint, lock, router, serve, shared};
use ward_assurance::*;

const KEY: &str = "test-key-123";
const SECRET: &[u8] = b"test-hmac-secret";
const LIMIT: usize = 1024;

struct Server {
    addr: SocketAddr,
    endpoint: SharedEndpoint<InMemoryTaskStore>,
    clock: ManualClock,
    log: MemoryAuditLog,
}

impl Server {
    async fn start() -> Self {
        let log = MemoryAuditLog::new();
        let store = InMemoryTaskStore::from_tasks(fixture_tasks()).unwrap();
        let engine = SyncEngine::new(
            store,
            fixture_access(),
            log.clone(),
            MemoryAdminAlerts::new(),
        );
        let auth = Authenticator::new(
            AuthConfig::default()
                .with_api_key(ApiKey::new("power-automate", KEY))
                .with_hmac_secret(HmacSecret::new("dashboard", SECRET)),
        );
        let endpoint = shared(SyncEndpoint::new(auth, engine).with_max_body_bytes(LIMIT));
        let clock = ManualClock::new(at("2026-06-15T10:00:00Z"));
        let app = router(Arc::clone(&endpoint), Arc::new(clock.clone()));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(serve(listener, app));
        Self {
            addr,
            endpoint,
            clock,
            log,
        }
    }

    fn tasks(&self) -> Vec<WardTask> {
        lock(&self.endpoint).engine().store().tasks().to_vec()
    }

    async fn post(&self, headers: &[(&str, String)], body: &[u8]) -> (u16, Value) {
        send(
            self.addr,
            "POST",
            "/api/assurance/sync",
            headers,
            body,
            false,
        )
        .await
    }
}

/// A minimal HTTP/1.1 client: one request per connection, `Connection: close`.
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
    chunked: bool,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\n"
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let mut request = Vec::new();
    if chunked {
        head.push_str("Transfer-Encoding: chunked\r\n\r\n");
        request.extend_from_slice(head.as_bytes());
        for chunk in body.chunks(256) {
            request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            request.extend_from_slice(chunk);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"0\r\n\r\n");
    } else {
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        request.extend_from_slice(head.as_bytes());
        request.extend_from_slice(body);
    }
    // The server may answer (and stop reading) before the whole body is sent.
    let _ = stream.write_all(&request).await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8(response).unwrap();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .expect("a complete HTTP response");
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).unwrap()
    };
    (status, body)
}

fn api_key() -> Vec<(&'static str, String)> {
    vec![("X-Api-Key", KEY.to_owned())]
}

fn signed(timestamp: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        ("X-Assurance-Timestamp", timestamp.to_string()),
        (
            "X-Assurance-Signature",
            HmacSecret::new("caller", SECRET).sign(timestamp, body),
        ),
    ]
}

fn good_body(audit_id: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "auditType": "fridge_temps",
        "ward": "Ward 7",
        "completedBy": {"name": "Alex Example", "email": "alex.example@nhs.test", "staffId": "S1"},
        "completedAt": "2026-06-15T09:30:00+01:00",
        "auditId": audit_id,
        "values": {"fridgeTempC": 4.2}
    }))
    .unwrap()
}

/// Assert a rejection: the status, a JSON error body with that code, one audit-log entry
/// with that code, and no task changed.
async fn assert_rejected(
    server: &Server,
    headers: &[(&str, String)],
    body: &[u8],
    status: u16,
    code: &str,
) -> Value {
    let before = server.tasks();
    let logged = server.log.entries().len();
    let (got, json) = server.post(headers, body).await;
    assert_eq!(got, status, "{json}");
    // The refused attempt is in the audit log, under its code.
    let log = server.log.entries();
    assert_eq!(log.len(), logged + 1, "{json}");
    assert_eq!(log.last().map(|e| e.outcome), Some(code), "{json}");
    assert_eq!(json["success"], json!(false), "{json}");
    assert_eq!(json["error"], json!(code), "{json}");
    assert!(
        json["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{json}"
    );
    assert_eq!(server.tasks(), before, "a rejected request changed a task");
    json
}

#[tokio::test]
async fn good_request_with_api_key_then_redelivery() {
    let server = Server::start().await;
    let (status, json) = server.post(&api_key(), &good_body("AUD-1")).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        json,
        json!({"success": true, "taskId": "T-FRIDGE-7-0615", "message": "Task marked complete", "syncedAt": "2026-06-15T10:00:00Z"})
    );
    let task = server
        .tasks()
        .into_iter()
        .find(|t| t.id.as_str() == "T-FRIDGE-7-0615")
        .unwrap();
    assert_eq!(task.status, TaskStatus::Completed);
    let after_first = server.tasks();
    server.clock.advance(chrono::Duration::minutes(3));
    let (status, json) = server.post(&api_key(), &good_body("AUD-1")).await;
    assert_eq!(status, 200);
    assert_eq!(json["taskId"], json!("T-FRIDGE-7-0615"));
    assert_eq!(json["syncedAt"], json!("2026-06-15T10:00:00Z"));
    assert_eq!(server.tasks(), after_first);
    let outcomes: Vec<_> = server.log.entries().iter().map(|e| e.outcome).collect();
    assert_eq!(outcomes, ["SYNCED", "ALREADY_SYNCED"]);
}

#[tokio::test]
async fn the_dashboard_webhook_is_accepted_too() {
    let server = Server::start().await;
    let body = serde_json::to_vec(&json!({"eventType": "AUDIT_COMPLETED", "audit": {
        "id": "AUD-7", "type": "Fridge Temperature", "ward": "Ward 8",
        "completedBy": {"name": "Alex Example", "staffId": "S2"},
        "completedAt": "2026-06-15T08:00:00+01:00", "values": {}}}))
    .unwrap();
    let (status, json) = server.post(&api_key(), &body).await;
    assert_eq!(
        (status, &json["taskId"]),
        (200, &json!("T-FRIDGE-8-0615")),
        "{json}"
    );
}

#[tokio::test]
async fn good_signature_then_replay_is_refused() {
    let server = Server::start().await;
    let body = good_body("AUD-2");
    let now = server.clock.now().timestamp();
    let headers = signed(now - 30, &body);
    let (status, json) = server.post(&headers, &body).await;
    assert_eq!(status, 200, "{json}");
    assert_rejected(&server, &headers, &body, 401, "REPLAYED_SIGNATURE").await;
}

#[tokio::test]
async fn bad_or_stale_signature_and_bad_key() {
    let server = Server::start().await;
    let body = good_body("AUD-3");
    let now = server.clock.now().timestamp();
    // Signature of another body.
    let mut wrong = signed(now, b"{}");
    assert_rejected(&server, &wrong, &body, 401, "INVALID_SIGNATURE").await;
    // Tampered timestamp: the signature no longer matches.
    wrong = signed(now, &body);
    wrong[0].1 = (now - 1).to_string();
    assert_rejected(&server, &wrong, &body, 401, "INVALID_SIGNATURE").await;
    // Not hex.
    let garbage = vec![
        ("X-Assurance-Timestamp", now.to_string()),
        ("X-Assurance-Signature", "sha256=nope".to_owned()),
    ];
    assert_rejected(&server, &garbage, &body, 401, "INVALID_SIGNATURE").await;
    // Stale: signed ten minutes ago.
    assert_rejected(
        &server,
        &signed(now - 600, &body),
        &body,
        401,
        "STALE_SIGNATURE",
    )
    .await;
    // Wrong key, no credentials.
    assert_rejected(
        &server,
        &[("X-Api-Key", "wrong".to_owned())],
        &body,
        401,
        "INVALID_API_KEY",
    )
    .await;
    assert_rejected(&server, &[], &body, 401, "UNAUTHENTICATED").await;
    // Every refusal is in the audit log, and nothing leaks the key.
    let log = serde_json::to_string(&server.log.entries()).unwrap();
    assert_eq!(server.log.entries().len(), 6);
    assert!(!log.contains(KEY));
}

#[tokio::test]
async fn malformed_json() {
    let server = Server::start().await;
    let body = b"{\"auditType\": \"fridge_temps\", \"ward\": ";
    let json = assert_rejected(&server, &api_key(), body, 400, "MALFORMED_JSON").await;
    assert!(
        json["message"].as_str().unwrap().contains("line 1"),
        "{json}"
    );
    assert_rejected(&server, &api_key(), b"not json", 400, "MALFORMED_JSON").await;
}

#[tokio::test]
async fn unknown_audit_type() {
    let server = Server::start().await;
    let body = String::from_utf8(good_body("AUD-4"))
        .unwrap()
        .replace("fridge_temps", "hand_hygiene");
    let json = assert_rejected(
        &server,
        &api_key(),
        body.as_bytes(),
        422,
        "UNKNOWN_AUDIT_TYPE",
    )
    .await;
    assert!(!json["message"].as_str().unwrap().contains("hand_hygiene"));
}

#[tokio::test]
async fn oversized_body() {
    let server = Server::start().await;
    let mut big = String::from_utf8(good_body("AUD-5")).unwrap();
    big.insert_str(1, &format!("\"padding\": \"{}\", ", "x".repeat(4 * LIMIT)));
    // Declared length over the limit, and a chunked body with no declared length.
    assert_rejected(
        &server,
        &api_key(),
        big.as_bytes(),
        413,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    let before = server.tasks();
    let (status, json) = send(
        server.addr,
        "POST",
        "/api/assurance/sync",
        &api_key(),
        big.as_bytes(),
        true,
    )
    .await;
    assert_eq!((status, &json["error"]), (413, &json!("PAYLOAD_TOO_LARGE")));
    assert_eq!(server.tasks(), before);
    let outcomes: Vec<_> = server.log.entries().iter().map(|e| e.outcome).collect();
    assert_eq!(outcomes, ["PAYLOAD_TOO_LARGE", "PAYLOAD_TOO_LARGE"]);
}

#[tokio::test]
async fn outcome_statuses_over_http() {
    let server = Server::start().await;
    let mut no_task = String::from_utf8(good_body("AUD-6")).unwrap();
    no_task = no_task.replace("2026-06-15T09:30", "2026-06-13T09:30");
    let json = assert_rejected(
        &server,
        &api_key(),
        no_task.as_bytes(),
        404,
        "NO_MATCHING_TASK",
    )
    .await;
    assert_eq!(
        json["message"],
        json!("No pending fridge_temps task found for Ward 7 on 2026-06-13")
    );
    let denied = String::from_utf8(good_body("AUD-7"))
        .unwrap()
        .replace("\"S1\"", "\"S2\"");
    assert_rejected(
        &server,
        &api_key(),
        denied.as_bytes(),
        403,
        "WARD_ACCESS_DENIED",
    )
    .await;
    let missing = br#"{"auditType": "fridge_temps", "ward": "Ward 7"}"#;
    assert_rejected(&server, &api_key(), missing, 422, "INVALID_FIELD").await;
}

#[tokio::test]
async fn other_routes_and_methods() {
    let server = Server::start().await;
    let (status, json) = send(server.addr, "GET", "/nowhere", &[], b"", false).await;
    assert_eq!((status, &json["error"]), (404, &json!("NOT_FOUND")));
    let (status, _) = send(server.addr, "GET", "/api/assurance/sync", &[], b"", false).await;
    assert_eq!(status, 405);
}
